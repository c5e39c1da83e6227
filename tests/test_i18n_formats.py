"""One format per language, wherever a value is shown: the card's money and dates, the history's times in the firm's
time zone, exports (numbers as numbers, dates as dates, headers in the language), e-mails in the recipients'
language; numbers read as each language types them; the language chosen for a session, a notebook and the CLI."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import openpyxl
import pandas as pd
import pytest

import customercard as cc
from customercard import formatting, mail
from customercard.cli import main
from customercard.i18n import default_language, negotiate, system_language, using_language
from customercard.importexport import export_customers, import_customers
from customercard.store import Store
from customercard.ui.card import CustomerCard

from .conftest import copy_database, rich_customers

NBSP = "\u00a0"


@pytest.mark.parametrize("language, money, dkk, number, percent, date, when", [
    ("sv", f"2{NBSP}122{NBSP}640{NBSP}kr", f"2{NBSP}122{NBSP}640{NBSP}Dkr", f"1{NBSP}234,50", f"12,5{NBSP}%",
     "17 maj 2025", "17 maj 2025 10:05"),
    ("da", f"2.122.640{NBSP}SEK", f"2.122.640{NBSP}kr.", "1.234,50", f"12,5{NBSP}%", "17. maj 2025",
     "17. maj 2025 10.05"),
    ("en", f"SEK{NBSP}2,122,640", f"DKK{NBSP}2,122,640", "1,234.50", "12.5%", "17 May 2025", "17 May 2025, 10:05"),
])
def test_one_format_per_language(language, money, dkk, number, percent, date, when):
    with using_language(language):
        assert formatting.money(2122640.4, "SEK") == money and formatting.money(2122640, "DKK") == dkk
        assert formatting.number(1234.5, 2) == number and formatting.percent(12.5, 1) == percent
        assert formatting.date(dt.date(2025, 5, 17)) == date
        # stored times are UTC; shown in the firm's time zone (summer time in Stockholm: UTC+2)
        assert formatting.datetime(dt.datetime(2025, 5, 17, 8, 5), "Europe/Stockholm") == when


def test_numbers_are_read_as_each_language_types_them():
    assert formatting.read_number("1 234,50", "sv") == formatting.read_number("1\u00a0234,50", "da") == 1234.5
    assert formatting.read_number("1.234,50", "da") == 1234.5 and formatting.read_number("1.234", "da") == 1234
    assert formatting.read_number("1,234.50", "en") == 1234.5
    assert formatting.read_number("1,234", "en") == 1234  # never 1.234
    for text in ("1,5", "1 234,50", "12x"):
        with pytest.raises(ValueError):
            formatting.read_number(text, "en")
    assert formatting.read_number("2.5", "sv") == formatting.read_number("2.5", "da") == 2.5  # a pasted point
    assert formatting.read_number("", "sv") is None


def test_the_language_of_a_browser_a_notebook_and_the_command_line():
    assert negotiate("da;q=0.4, sv;q=0.8, en;q=0.6") == "sv"
    assert negotiate("en-GB,en;q=0.9,sv;q=0.8") == "en" and negotiate("de-DE, fr;q=0.9", "da") == "da"
    assert negotiate("", "sv") == "sv" and negotiate("sv;q=0, da", "en") == "da"
    assert system_language({"LANG": "sv_SE.UTF-8"}) == "sv" and system_language({"LANG": "C.UTF-8"}) is None
    assert system_language({"LANGUAGE": "da:en", "LANG": "sv_SE.UTF-8"}) == "da"
    assert default_language({"CUSTOMERCARD_LANGUAGE": "da", "LANG": "sv_SE.UTF-8"}) == "da"
    assert default_language({"LANG": "sv_SE.UTF-8"}) == "sv" and default_language({"LANG": "fr_FR.UTF-8"}) == "en"


@pytest.fixture
def customer_id(demo_store) -> int:
    return rich_customers(demo_store)[0]


@pytest.mark.parametrize("language, money, when", [
    ("sv", r"\d{1,3}(\u00a0\d{3})*\u00a0kr", "17 maj 2025 10:05"),
    ("da", r"\d{1,3}(\.\d{3})*\u00a0SEK", "17. maj 2025 10.05"),
    ("en", r"SEK\u00a0\d{1,3}(,\d{3})*", "17 May 2025, 10:05"),
])
def test_the_card_and_its_history_in_each_language(demo_store, customer_id, language, money, when):
    change = int(demo_store.history(customer_id)["change_id"].iloc[0])
    demo_store.db.execute("UPDATE customer_changes SET changed_at = ? WHERE id = ?",
                          [dt.datetime(2025, 5, 17, 8, 5), change])  # 08:05 UTC: 10:05 in Stockholm, in May
    with using_language(language):
        card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
        for section in card.sections:
            section.open()
        invoiced = card.section("invoiced").view.html
        history = card.section("groups").history_html()
        comments = card.section("comments").view.html
    cells = [cell for cell in re.findall(r'<td class="num">([^<]*)</td>', invoiced) if cell]
    changes = [cell for cell in cells if cell.endswith("%")]  # the year-over-year column
    totals = [cell for cell in cells if cell not in changes]
    assert totals and all(re.fullmatch(money, total) for total in totals)
    percent = r"[+-]?\d+(\.\d)?%" if language == "en" else r"[+-]?\d+(,\d)?\u00a0%"
    assert changes and all(re.fullmatch(percent, change) for change in changes)
    assert f"<td>{when}</td>" in history  # the history's times: the firm's time zone, the language's format
    written = demo_store.comments(customer_id, limit=1)["written_on"].iloc[0]
    assert formatting.date(written, language) in comments

    settings = demo_store.settings()
    settings.time_zone = "America/New_York"  # another firm, another zone: 08:05 UTC is 04:05 there
    demo_store.save_settings(settings, user="admin")
    with using_language(language):
        card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
        card.section("groups").open()
        assert when.replace("10", "04") in card.section("groups").history_html()


@pytest.mark.parametrize("language, separator, decimal, headers, yes", [
    ("sv", ";", ",", ["Kundnummer", "Namn", "Smeknamn", "Kundansvarig"], "ja"),
    ("da", ";", ",", ["Kundenummer", "Navn", "Kaldenavn", "Kundeansvarlig"], "ja"),
    ("en", ",", ".", ["Customer number", "Name", "Nickname", "Account manager"], "yes"),
])
def test_exports_speak_the_language_and_keep_numbers_and_dates(demo_store, customer_id, tmp_path, language,
                                                              separator, decimal, headers, yes):
    customer = demo_store.get_customer(customer_id)
    customer.default_distance_km = 12.5
    customer = demo_store.save_customer(customer, user="anna")
    with using_language(language):
        count = export_customers(demo_store, tmp_path / "customers.csv")
        export_customers(demo_store, tmp_path / "customers.xlsx")
        distance = formatting.number_text(12.5)
        again = import_customers(demo_store, tmp_path / "customers.csv", user="anna", dry_run=True)
    text = (tmp_path / "customers.csv").read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].split(separator)[:4] == headers
    frame = pd.read_csv(io.StringIO(text), sep=separator, decimal=decimal)
    distances = frame.iloc[:, headers_index(frame, language)]
    assert len(frame) == count and pd.api.types.is_float_dtype(distances)  # read as numbers, decimals too
    assert distances[frame.iloc[:, 0] == customer.number].tolist() == [12.5]
    assert f"{separator}12{decimal}5{separator}" in text
    assert set(frame[frame.columns[headers_index(frame, language) - 2]]) <= {yes, {"ja": "nej", "yes": "no"}[yes]}
    created = pd.to_datetime(frame[frame.columns[-2]])  # a date and time a spreadsheet reads as one
    assert created.notna().all()
    assert again.ok and again.rows == count  # an export in any language imports back
    assert distance == ("12.5" if language == "en" else "12,5")

    sheet = openpyxl.load_workbook(tmp_path / "customers.xlsx", read_only=True).worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0][:4]) == headers
    column = list(rows[0]).index(frame.columns[headers_index(frame, language)])
    assert all(isinstance(row[column], int | float) for row in rows[1:])  # numbers stay numbers
    assert all(isinstance(row[-2], dt.datetime) for row in rows[1:])  # and times stay times


def headers_index(frame: pd.DataFrame, language: str) -> int:
    """The column of the default distance (a number) in an export in ``language``."""
    with using_language(language):
        return list(frame.columns).index(cc.i18n._("Default distance (km)"))


def test_the_firms_time_zone_reaches_exports(demo_store, tmp_path):
    created = demo_store.export_customers_frame()["created_at"].iloc[0]
    export_customers(demo_store, tmp_path / "utc.xlsx")
    settings = demo_store.settings()
    settings.time_zone = "Asia/Tokyo"  # UTC+9, no summer time
    demo_store.save_settings(settings, user="admin")
    export_customers(demo_store, tmp_path / "tokyo.xlsx")
    first = [list(openpyxl.load_workbook(tmp_path / name, read_only=True).worksheets[0].iter_rows(values_only=True))[1]
             for name in ("utc.xlsx", "tokyo.xlsx")]
    assert first[1][-2] - pd.Timestamp(created).floor("s").to_pydatetime() == dt.timedelta(hours=9)
    assert first[0][-2] != first[1][-2]


def test_an_e_mail_is_written_in_the_language_its_recipients_read(demo_store, customer_id):
    settings = demo_store.settings()
    settings.param.update(smtp_host="127.0.0.1", smtp_from="crm@firm.example", language="da")
    demo_store.save_settings(settings, user="admin")
    for login in ("erik", "maria"):
        demo_store.set_language(login, "sv", by="admin")
    both_swedish = mail.compose(demo_store, customer_id, "anna", ["erik", "maria"], "Förnyelse", "Ring dem.")
    text = both_swedish.get_body(("plain",)).get_content()
    assert "Anna Berg skickade detta från kundkortet." in text and "Öppna kundkortet:" in text
    assert "Kundansvarig:" in text and both_swedish["Content-Language"] == "sv"
    demo_store.set_language("maria", "en", by="admin")
    mixed = mail.compose(demo_store, customer_id, "anna", ["erik", "maria"], "Renewal", "Call them.")
    assert "Anna Berg sendte dette fra kundekortet." in mixed.get_body(("plain",)).get_content()  # the firm's
    assert mixed["Content-Language"] == "da"
    with using_language("sv"), pytest.raises(cc.ValidationError) as refused:  # said to the sender, in theirs
        mail.compose(demo_store, customer_id, "anna", [], "Ämne", "Text")
    assert refused.value.errors["recipients"] == "Välj minst en kollega att skicka till."


def test_the_model_says_its_rules_in_the_readers_language():
    customer = cc.Customer(name="", max_distance_km=10.5, default_distance_km=20.0)
    customer.visit_address.postal_code = "1234"
    with using_language("sv"):
        errors = customer.validate()
        assert errors["name"] == "Kunden behöver ett namn."
        assert errors["visit_address.postal_code"] == "Ett postnummer i SE har 5 siffror, som 114 55."
        assert errors["max_distance_km"] == ("Den maximala fakturerbara körsträckan (10,5 km) kan inte vara kortare "
                                             "än standardavståndet (20 km).")
        assert customer.label("invoicing.vat_rate") == "Fakturering · Momssats (%)"
    with using_language("da"):
        assert customer.validate()["name"] == "Kunden skal have et navn."
    assert customer.validate()["name"] == "The customer needs a name."  # English, as before


def test_a_stored_locale_becomes_the_firms_language(tmp_path):
    path = tmp_path / "old.duckdb"
    with Store(path, migrate_to=13) as old:
        old.db.execute("INSERT INTO settings (key, value) VALUES ('locale', ?)", [json.dumps("da_DK")])
    with Store(path) as upgraded:
        assert upgraded.settings().language == "da"
        assert upgraded.db.row("SELECT count(*) FROM settings WHERE key = 'locale'")[0] == 0
    with Store(tmp_path / "new.duckdb") as new:  # a new firm: Swedish, as the old default locale (sv_SE) was
        assert new.settings().language == "sv" and new.settings().time_zone == "Europe/Stockholm"


def test_the_command_line_speaks_customercard_language(empty_template, tmp_path, monkeypatch, capsys):
    database = str(copy_database(empty_template, tmp_path / "db"))
    monkeypatch.setenv("CUSTOMERCARD_LANGUAGE", "sv")
    assert main(["--db", database, "export", "customers", str(tmp_path / "kunder.csv")]) == 0
    assert capsys.readouterr().out.strip() == f"Exporterade 0 kunder till {tmp_path / 'kunder.csv'}."
    assert main(["--db", database, "users", "set-role", "nobody", "admin"]) == 1
    assert capsys.readouterr().err.strip() == "customercard: fel: Ingen användare med användarnamnet ”nobody”."
    monkeypatch.setenv("CUSTOMERCARD_LANGUAGE", "da")
    assert main(["--db", database, "users", "list"]) == 0
    assert "sagsbehandler" in capsys.readouterr().out  # the roles too


@pytest.mark.parametrize("language", ["en", "sv", "da"])
def test_minus_zero_is_read_and_shown_as_zero(language):
    """'-0' typed in a distance or a discount was kept as -0.0, which passes "at least 0", and the card then read
    "-0 km" and "-0%"; an amount that rounds to zero is never shown with a minus either."""
    import math

    typed = formatting.read_number("-0", language)
    assert typed == 0 and math.copysign(1.0, typed) == 1.0
    for shown in (formatting.number(-0.0, language=language), formatting.figure(-0.0, language),
                  formatting.percent(-0.0, language=language), formatting.money(-0.3, "SEK", language=language),
                  formatting.number(-0.004, 2, language)):
        assert "-" not in shown and "\u2212" not in shown and "0" in shown, shown
    negative = formatting.number(-1.5, 1, language)
    assert "1" in negative and negative.startswith(("-", "\u2212"))
