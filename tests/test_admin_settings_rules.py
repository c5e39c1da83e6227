"""What System administration refuses before anything is stored: a phone region that is no country, a rate for the
base currency itself, another base currency under invoices counted in the old one, an SMTP host with a port or a
scheme in it, a weak password typed with a role change; and a form that marks every wrong field at once."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import customercard as cc
from customercard.ui.admin import AdminPage
from customercard.ui.new_customer import NewCustomer

from .ui_support import labelled


def admin_of(store) -> str:
    """The administrator's login: 'admin' in the demo firm, 'boss' in the empty one."""
    return "admin" if "admin" in set(store.users()["login"]) else "boss"


def refused(store, **values) -> dict[str, str]:
    settings = store.settings()
    settings.param.update(**values)
    with pytest.raises(cc.ValidationError) as caught:
        store.save_settings(settings, user=admin_of(store))
    return caught.value.errors


@pytest.mark.parametrize("region, message", [("UK", "The United Kingdom's country code is GB."),
                                             ("XX", "is not a country")])
def test_a_phone_region_that_is_no_country_is_refused_and_new_customers_can_still_be_made(empty_store, region,
                                                                                          message):
    """The phone region is also a new customer's country: 'UK' stored made every New customer and import refused."""
    assert message in refused(empty_store, phone_region=region)["phone_region"]
    assert empty_store.settings().phone_region == "SE"
    settings = empty_store.settings()
    settings.phone_region = "Norway"  # a country by its name is taken as its code
    assert empty_store.save_settings(settings, user="boss").phone_region == "NO"
    page = NewCustomer(store=empty_store, user="boss")
    page.form.widgets["name"].value = "Nordisk Regionstest AS"
    made = page.create(check_duplicates=False)
    assert made is not None and made.invoice_address.country == "NO"


def test_the_base_currency_has_no_rate_but_one(empty_store):
    """A rate listed for the base currency itself (the default 'EUR 11.50' left there when the base became EUR)
    would count a 1,000 EUR opportunity as 11,500: refused on save, and 1 whatever is stored."""
    errors = refused(empty_store, base_currency="EUR", exchange_rates="EUR 11.50, SEK 0.087")
    assert errors["exchange_rates"] == "EUR is the base currency: its rate is 1 (take EUR 11.5 out of the rates)."
    settings = cc.Settings(base_currency="EUR", exchange_rates="EUR 11.50, SEK 0.087")
    assert settings.rates()["EUR"] == 1.0
    settings.exchange_rates = "EUR 1; SEK 0,087"
    assert "exchange_rates" not in settings.validate(cc.Choices())


def test_a_rate_too_large_to_count_with_or_given_twice_is_refused_and_pages_still_draw(demo_store):
    """'EUR 999…9' (400 nines) read as infinity, a positive number: saved, after which the pipeline board and the
    home page's pipeline block could not be drawn for anyone. 'EUR 11.50, …, EUR 1.15' was saved with the last
    rate silently counting. Both are refused where they were typed; such rates stored before are read as they were
    counted then (none that cannot be counted with) and do not keep the other settings from being saved."""
    before = demo_store.settings().exchange_rates
    errors = refused(demo_store, exchange_rates="EUR " + "9" * 400 + ", DKK 1.55, NOK 0.98, USD 10.60, GBP 13.40")
    assert errors["exchange_rates"].startswith("A rate is at most 1,000,000")
    errors = refused(demo_store, exchange_rates="EUR 11.50, DKK 1.55, NOK 0.98, USD 10.60, GBP 13.40, EUR 1.15")
    assert errors["exchange_rates"] == "EUR is given a rate twice: keep one."
    assert demo_store.settings().exchange_rates == before
    stored = cc.Settings(exchange_rates="EUR " + "9" * 400 + "; EUR 11.50, DKK 1.55, DKK 9")  # as an older version kept
    assert stored.rates() == {"EUR": 11.5, "DKK": 9.0, "SEK": 1.0}  # as counted then (the last), but infinity
    assert "exchange_rates" not in stored.validate(cc.Choices(), previous=stored.copy())  # kept: other saves go on


def test_the_base_currency_does_not_change_under_invoices_counted_in_the_old_one(demo_store):
    """Invoices keep their amounts in the base currency they were counted in: SEK 1,037,650 would read €1,037,650."""
    invoiced = demo_store.invoiced_per_year()
    errors = refused(demo_store, base_currency="EUR", exchange_rates="SEK 0.087, DKK 0.134, NOK 0.085, USD 0.92, "
                                                                      "GBP 1.17")
    assert "invoices are counted in SEK: the base currency cannot become EUR" in errors["base_currency"]
    assert demo_store.settings().base_currency == "SEK"
    assert invoiced.equals(demo_store.invoiced_per_year())


def test_a_base_currency_changes_while_no_invoices_are_stored(empty_store):
    settings = empty_store.settings()
    settings.param.update(base_currency="EUR", exchange_rates="SEK 0.087")
    assert empty_store.save_settings(settings, user="boss").base_currency == "EUR"


@pytest.mark.parametrize("host", ["smtp.example.com:587", "http://smtp.example.com", "smtp example com"])
def test_an_smtp_host_with_a_port_a_scheme_or_spaces_is_refused(empty_store, host):
    assert "the port goes in its own field" in refused(empty_store, smtp_host=host)["smtp_host"]


@pytest.mark.parametrize("host", ["smtp.example.com", "127.0.0.1", "::1", "localhost", "smtp.räksmörgås.se"])
def test_an_smtp_host_name_or_address_is_taken(empty_store, host):
    settings = empty_store.settings()
    settings.smtp_host = host
    assert empty_store.save_settings(settings, user="boss").smtp_host == host


@pytest.mark.parametrize("zone", ["Europe", "America", "Etc", "Mars/Olympus", "../etc/passwd", " "])
def test_a_time_zone_that_is_a_region_or_no_zone_is_refused_with_the_message(empty_store, zone):
    """"Europe" (a folder of zones) failed inside the check (IsADirectoryError): the form said nothing at all and a
    notebook got the raw error."""
    assert refused(empty_store, time_zone=zone)["time_zone"].startswith("Not a time zone")
    assert empty_store.settings().time_zone == "Europe/Stockholm"


def test_the_settings_form_marks_every_wrong_field_at_one_save(demo_store):
    """A number typed wrong used to hide every other problem until it was mended and Save clicked again."""
    settings = AdminPage(demo_store, "admin").settings
    before = demo_store.settings()
    wrong = {"smtp_port": "abc", "time_zone": "Mars/Olympus", "exchange_rates": "EUR eleven",
             "smtp_from": "not-an-address", "public_base_url": "javascript:alert(1)", "smtp_host": "http://mail"}
    for field, text in wrong.items():
        settings.form.widgets[field].value = text
    assert not settings.save()
    marked = {field for field in wrong if settings.form.messages[field].object}
    assert marked == set(wrong)
    assert demo_store.settings().values() == before.values()


def test_a_weak_password_typed_with_a_role_change_stores_neither(demo_store):
    """The role change was stored and logged while the page said the save was refused."""
    users = AdminPage(demo_store, "admin").users
    labelled(users, "User").value = "olli"
    users.form.widgets["role"].value = "viewer"
    users.form.widgets["active"].value = False
    labelled(users, "New password (leave empty to keep)").value = "short"
    log_before = len(demo_store.admin_log(limit=10_000))
    assert not users.save()
    olli = demo_store.get_user("olli")
    assert (olli.role, olli.active) == ("manager", True)
    assert len(demo_store.admin_log(limit=10_000)) == log_before
    assert "at least 10 characters" in users.message
    assert demo_store.authenticate("olli", "demo") is not None  # the old password and the sessions stand


def test_settings_stored_before_a_rule_was_made_stricter_do_not_block_other_settings(empty_store):
    """A phone region 'UK', an SMTP host with its port and a rate for the base currency, stored by an older
    version: an administrator still switches the CRM module (they are checked when they are changed)."""
    with empty_store.db.transaction() as cur:  # as an older version stored them
        for key, value in (("phone_region", '"UK"'), ("smtp_host", '"mail.example.se:587"'),
                           ("exchange_rates", '"SEK 11.50, EUR 1"')):
            cur.execute("DELETE FROM settings WHERE key = ?", [key])
            cur.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [key, value])
    empty_store.forget_cached()
    settings = empty_store.settings()
    settings.crm_enabled = not settings.crm_enabled
    saved = empty_store.save_settings(settings, user="boss")
    assert (saved.crm_enabled, saved.phone_region, saved.smtp_host) == (settings.crm_enabled, "UK",
                                                                        "mail.example.se:587")
    assert "the port goes in its own field" in refused(empty_store, smtp_host="mail.example.se:25")["smtp_host"]


def test_one_invoice_is_said_in_the_singular(empty_store):
    customer = empty_store.create_customer(name="Enfaktura AB", user="boss")
    empty_store.add_invoices(pd.DataFrame([{"customer_id": customer.id, "number": "F-1", "amount": 100.0,
                                            "invoice_date": dt.date(2025, 3, 1), "currency": "SEK",
                                            "amount_base": 100.0}]), user="boss")
    assert refused(empty_store, base_currency="EUR", exchange_rates="SEK 0.087")["base_currency"].startswith(
        "1 invoice is counted in SEK")


@pytest.mark.parametrize("host, kept", [("smtp.example.se.", "smtp.example.se"), ("10.0.0.25", "10.0.0.25")])
def test_an_smtp_host_with_its_root_dot_or_an_ipv4_address_is_taken(empty_store, host, kept):
    settings = empty_store.settings()
    settings.smtp_host = host
    assert empty_store.save_settings(settings, user="boss").smtp_host == kept


def test_an_smtp_host_of_numbers_that_is_no_address_and_a_region_without_phone_numbers_are_refused(empty_store):
    assert "smtp_host" in refused(empty_store, smtp_host="999.1.1.1")
    assert "phone_region" in refused(empty_store, phone_region="AQ")  # Antarctica: no numbering plan


def test_a_stale_settings_form_is_a_conflict_not_refused_for_a_value_it_still_holds(empty_store):
    """Its values were checked against what is stored now before the version: an SMTP host with its port, stored by an
    older version and still in the form, was refused as invalid (on a field nobody touched) instead of the conflict."""
    with empty_store.db.transaction() as cur:
        cur.execute("DELETE FROM settings WHERE key = 'smtp_host'")
        cur.execute("INSERT INTO settings (key, value) VALUES (?, ?)", ["smtp_host", '"mail.example.se:587"'])
    empty_store.forget_cached()
    mine, theirs = empty_store.settings(), empty_store.settings()
    theirs.smtp_host = "mail.example.se"
    empty_store.save_settings(theirs, user="boss")
    mine.start_address = "Storgatan 1, Lund"
    saved = None
    try:
        saved = empty_store.save_settings(mine, user="boss")
    except cc.ConflictError as conflict:
        assert [c.field for c in conflict.conflicts] == ["smtp_host"]
    assert saved is None or saved.smtp_host == "mail.example.se"
