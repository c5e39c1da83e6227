"""More field checks: invisible characters in texts and direction-changing ones in the customer's name, the
identifier checks (GLN, Swedish organisation numbers, VAT prefixes), comment dates within bounds, clear messages for
an emptied number, and every ISO 3166 country (on the model, the store, the import and the HTTP API)."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest

import customercard as cc
from customercard import validators
from customercard.importexport import import_customers
from customercard.models import COMMENT_DAYS_AHEAD, COMMENT_EARLIEST, Choices, Comment, comment_dates
from customercard.store import Store
from customercard.ui.card import CustomerCard

from .api_support import Api, serve_api
from .conftest import copy_database


@pytest.fixture
def store(empty_template: Path, tmp_path: Path):
    """A store on a private copy of an empty firm's database (DuckDB: these are checks of the model's rules)."""
    opened = Store(copy_database(empty_template, tmp_path / "db"))
    yield opened
    opened.close()


def refusal(check, *args) -> str:
    """The message of the ValueError ``check(*args)`` raises."""
    with pytest.raises(ValueError, match=r".") as info:
        check(*args)
    return str(info.value)


# -- 6: invisible characters and direction controls ---------------------------------------------------------
INVISIBLE_ONLY = ["\u200b", "\u2800", "\u3164", "\ufeff", "\u200b \u2800\u00a0\u3164", "\u2060\u200d", "\u115f\u1160",
                  "\U000e0041\U000e0042\U000e0043", "\u202e", " \u202e\u2066 \ufe0f"]  # tags, direction controls


@pytest.mark.parametrize("text", INVISIBLE_ONLY)
def test_a_text_of_only_invisible_characters_is_empty(text):
    assert validators.check_text(text, 200) == ""
    assert validators.check_text(text, 20_000, multiline=True) == ""
    assert validators.is_blank(text)


def test_invisible_characters_go_at_the_ends_but_stay_inside():
    assert validators.check_text("\u200b Acme AB\ufeff\u2800 ", 200) == "Acme AB"
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # an emoji joined by zero-width joiners
    assert validators.check_text(f"Familjen {family}", 200) == f"Familjen {family}"
    mixed = "\u05e9\u05dc\u05d5\u05dd\u200e AB"  # a mark of direction inside a mixed text stays
    assert validators.check_text(mixed, 200) == mixed


@pytest.mark.parametrize("name", ["\u200b", "\u2800", "\u3164", " \u200b\ufeff ",
                                  "\U000e0041\U000e0043\U000e004d\U000e0045"])
def test_the_required_name_is_not_given_by_invisible_characters(store, name):
    customer = cc.Customer(name=name)
    assert customer.validate(Choices())["name"] == "The customer needs a name."
    with pytest.raises(cc.ValidationError) as info:
        store.create_customer(user="anna", name=name)
    assert set(info.value.errors) == {"name"}
    made = store.create_customer(user="anna", name="Synlig AB")
    made.name = name
    with pytest.raises(cc.ValidationError) as info:
        store.save_customer(made, user="anna")
    assert set(info.value.errors) == {"name"}
    assert store.get_customer(made.id).name == "Synlig AB"


@pytest.mark.parametrize("char", ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068",
                                  "\u2069"])
def test_a_name_refuses_direction_overrides_embeddings_and_isolates_with_a_message(char):
    message = refusal(validators.check_text, f"Acme{char}BA kcaH", 200, False, False)
    assert f"U+{ord(char):04X}" in message and "direction" in message
    customer = cc.Customer(name="Acme AB", nickname=f"Acme{char}")
    assert set(customer.validate(Choices())) == {"nickname"}
    assert f"U+{ord(char):04X}" in customer.validate(Choices())["nickname"]


def test_free_texts_keep_direction_controls_as_typed():
    text = "Ring \u202eBA kcaH\u202c om offerten"
    assert validators.check_text(text, 2_000) == text
    assert validators.check_text("Rad ett\n\u2067rad två\u2069", 20_000, True) == "Rad ett\n\u2067rad två\u2069"


def test_a_name_with_a_direction_override_is_refused_next_to_the_field(store):
    made = store.create_customer(user="anna", name="Acme AB")
    made.name, made.nickname = "Acme\u202eBA kcaH", "\u200b\u200b"
    with pytest.raises(cc.ValidationError) as info:
        store.save_customer(made, user="anna")
    assert set(info.value.errors) == {"name"} and "U+202E" in info.value.errors["name"]
    made = store.get_customer(made.id)
    made.nickname = "\u200b\u200b"
    store.save_customer(made, user="anna")
    assert store.get_customer(made.id).nickname == ""


# -- 7: identifier checks ----------------------------------------------------------------------------------
def test_the_gln_message_s_example_is_a_valid_gln():
    message = refusal(validators.check_gln, "12345")
    example = re.search(r"\d{13}", message).group()
    assert validators.check_gln(example) == example


@pytest.mark.parametrize("text", ["abc5566778899", "5566778899xyz", "556677-8899 AB", "SE556677889901",
                                  "000000-0000", "0000000000"])
def test_a_swedish_organisation_number_takes_no_letters_or_zeros(text):
    assert refusal(validators.check_org_number, text, "SE")


@pytest.mark.parametrize("text", ["556677-8899", "5566778899", "556677 8899", "16556677-8899", "556677\u20138899"])
def test_a_swedish_organisation_number_as_people_write_it(text):
    assert validators.check_org_number(text, "SE") == "556677-8899"


def test_a_norwegian_organisation_number_takes_no_letters():
    assert validators.check_org_number("NO 923 609 016 MVA", "NO") == "923 609 016"
    assert refusal(validators.check_org_number, "abc923609016", "NO")


@pytest.mark.parametrize("text", ["XX12345", "QQ1234", "US123456789", "ZZ123456789"])
def test_a_vat_number_s_prefix_is_a_vat_country(text):
    message = refusal(validators.check_vat_number, text, "SE")
    assert text[:2] in message and "EU" in message


def test_a_customer_outside_the_vat_countries_writes_the_prefix():
    assert "country code" in refusal(validators.check_vat_number, "123456789", "US")
    assert validators.check_vat_number("DE136695976", "US") == "DE136695976"


@pytest.mark.parametrize("text, kept", [
    ("NL123456789B01", "NL123456789B01"), ("ATU12345678", "ATU12345678"), ("fr 12 345678901", "FR12345678901"),
    ("CHE-116.281.710 MWST", "CHE116281710MWST"), ("XI123456789", "XI123456789"), ("EL123456783", "EL123456783"),
    ("GR 123 456 783", "EL123456783"),
])
def test_vat_numbers_of_other_vat_countries(text, kept):
    assert validators.check_vat_number(text, "SE") == kept


def test_a_greek_vat_number_is_written_el_and_has_a_right_check_digit():
    """Greece's VAT numbers start EL (VIES and invoices write them so; GR is its country code): GR is taken and
    written EL, and a Greek customer's digits get EL."""
    assert validators.check_vat_number("123456783", "GR") == "EL123456783"
    assert validators.check_vat_number("el123456783", "SE") == "EL123456783"
    assert "EL + 9 digits" in refusal(validators.check_vat_number, "EL123456789", "GR")
    assert "EL + 9 digits" in refusal(validators.check_vat_number, "EL12345678", "GR")


def test_a_swiss_vat_number_has_a_right_check_digit():
    assert "CH" in refusal(validators.check_vat_number, "CHE-116.281.711 MWST", "CH")


def test_the_examples_in_the_vat_messages_are_valid():
    for prefix in ("SE", "DK", "NO", "FI", "DE", "GB", "XI", "CH", "EL"):
        message = refusal(validators.check_vat_number, f"{prefix}0", prefix)
        example = re.search(r"like ([A-Z0-9]+)", message).group(1)
        assert validators.check_vat_number(example, prefix) == example


# -- 8: comment dates --------------------------------------------------------------------------------------
def comment(written_on: dt.date) -> Comment:
    return Comment(customer_id=1, body="Ringde om offerten.", author="anna", written_on=written_on)


def days_ahead(days: int) -> dt.date:
    """A day counted from today when the test runs (not when it is collected: a run may cross midnight)."""
    return dt.date.today() + dt.timedelta(days=days)


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(1899, 12, 31), dt.date(9999, 12, 31),
                                 COMMENT_DAYS_AHEAD + 1])
def test_a_comment_date_out_of_bounds_is_refused(day):
    day = days_ahead(day) if isinstance(day, int) else day
    errors = comment(day).validate(Choices())
    assert set(errors) == {"written_on"}
    earliest, latest = comment_dates()
    assert errors["written_on"] == f"Give a date from {cc.formatting.date(earliest)} to {cc.formatting.date(latest)}."


@pytest.mark.parametrize("day", [COMMENT_EARLIEST, dt.date(2000, 2, 29), 0, COMMENT_DAYS_AHEAD])
def test_a_comment_date_within_bounds_is_kept(day):
    day = days_ahead(day) if isinstance(day, int) else day
    assert comment(day).validate(Choices()) == {}


def test_a_stored_comment_date_out_of_bounds_stays_when_unchanged():
    stored = comment(dt.date(1850, 1, 1))
    edited = comment(dt.date(1850, 1, 1))
    edited.body = "Ringde om offerten igen."
    assert edited.validate(Choices(), previous=stored) == {}
    edited.written_on = dt.date(1851, 1, 1)
    assert "written_on" in edited.validate(Choices(), previous=stored)


def test_adding_and_editing_a_comment_keep_its_date_within_bounds(store):
    customer = store.create_customer(user="anna", name="Datum AB")
    for day in (dt.date(1, 1, 1), dt.date(9999, 12, 31)):
        with pytest.raises(cc.ValidationError) as info:
            store.add_comment(customer.id, "Långt bort.", user="anna", written_on=day)
        assert set(info.value.errors) == {"written_on"}
    assert store.comments(customer.id).empty
    added = store.add_comment(customer.id, "Nära.", user="anna", written_on=dt.date(2020, 5, 17))
    edited = store.get_comment(added.id)
    edited.written_on = dt.date(9999, 12, 31)
    with pytest.raises(cc.ValidationError) as info:
        store.edit_comment(edited, user="anna")
    assert set(info.value.errors) == {"written_on"}
    assert store.get_comment(added.id).written_on == dt.date(2020, 5, 17)


# -- 9: an emptied or mistyped number ----------------------------------------------------------------------
def test_an_emptied_number_says_what_to_enter():
    customer = cc.Customer(name="Tal AB")
    assert customer.update_from({"default_distance_km": None}) == {
        "default_distance_km": "Enter a number of kilometres, or 0."}
    assert customer.update_from({"invoicing.vat_rate": None}) == {"invoicing.vat_rate": "Enter a number, or 0."}
    assert customer.update_from({"max_distance_km": None}) == {}  # empty: no limit


@pytest.mark.parametrize("typed", ["1e3", "inf", "tolv"])
def test_a_number_that_is_none_says_how_to_write_one(typed):
    customer = cc.Customer(name="Tal AB")
    assert customer.update_from({"default_distance_km": typed}) == {
        "default_distance_km": "Not a number: write digits, like 12.5."}


def test_the_card_says_it_next_to_the_emptied_distance(store):
    made = store.create_customer(user="anna", name="Avstånd AB", default_distance_km=30)
    card = CustomerCard(store=store, customer_id=made.id, user="anna")
    economy = card.section("economy")
    economy.start_edit()
    economy.form.widgets["default_distance_km"].value = ""
    assert economy.save() is False
    assert economy.form.messages["default_distance_km"].text == "Enter a number of kilometres, or 0."
    economy.form.widgets["default_distance_km"].value = "1e3"
    assert economy.save() is False
    assert economy.form.messages["default_distance_km"].text == "Not a number: write digits, like 12.5."
    assert store.get_customer(made.id).default_distance_km == 30


# -- 4: every country --------------------------------------------------------------------------------------
ABROAD = ["US", "NL", "FR", "CH", "EE", "JP", "BR", "XK"]


def test_every_iso_country_is_known_and_nothing_else():
    assert set(validators.SUPPORTED_COUNTRIES) <= validators.COUNTRIES
    assert set(ABROAD) <= validators.COUNTRIES
    assert len(validators.COUNTRIES) >= 249
    assert not {"ZZ", "EU", "UN", "EZ", "QO", "XA", "UK", "001"} & validators.COUNTRIES
    assert Choices().countries == set(validators.COUNTRIES)


@pytest.mark.parametrize("code", ABROAD)
def test_check_country_takes_any_iso_code(code):
    assert validators.check_country(f" {code.lower()} ", validators.COUNTRIES) == code


def test_an_unknown_country_code_says_so():
    message = refusal(validators.check_country, "XX", validators.COUNTRIES)
    assert "XX" in message and "ISO" in message and "two-letter" not in message.split(":")[0]
    assert "GB" in refusal(validators.check_country, "UK", validators.COUNTRIES)


@pytest.mark.parametrize(("name", "code"), [("Sweden", "SE"), ("sverige", "SE"), ("Danmark", "DK"),
                                          (" Tyskland ", "DE"), ("United  Kingdom", "GB"), ("Storbritannien", "GB"),
                                          ("Norway", "NO"), ("Finland", "FI"), ("USA", "US")])
def test_a_country_is_also_taken_by_its_name_in_english_swedish_or_danish(name, code):
    assert validators.check_country(name, validators.COUNTRIES) == code


def test_an_unknown_country_name_is_quoted_as_typed():
    message = refusal(validators.check_country, "Narnia", validators.COUNTRIES)
    assert "“Narnia”" in message and "name" in message and "ISO" in message


def test_the_countries_to_choose_from_start_with_the_usual_ones_named_in_the_reader_s_language():
    options = validators.country_options("sv")
    assert list(options.values())[:6] == list(validators.SUPPORTED_COUNTRIES)
    assert set(options.values()) == validators.COUNTRIES
    assert options["Sverige"] == "SE" and options["USA"] == "US"
    assert validators.country_options("en")["United States"] == "US"


@pytest.mark.parametrize("code", ["US", "NL", "FR", "CH", "EE"])
def test_a_customer_abroad_is_saved(store, code):
    made = store.create_customer(user="anna", name="Utlandet AB")
    made.visit_address.country = code
    store.save_customer(made, user="anna")
    assert store.get_customer(made.id).visit_address.country == code


def test_a_customer_abroad_is_checked_by_its_own_rules():
    customer = cc.Customer(name="Acme Inc.")
    assert customer.update_from({"phone": "(212) 736-5000", "org_number": "EIN 12-3456789",
                                 "visit_address.city": "Boston", "visit_address.postal_code": "02108",
                                 "visit_address.country": "US"}) == {}
    assert customer.validate(Choices()) == {}
    assert customer.phone == "+1 212-736-5000"  # read as a US number
    dutch = cc.Customer(name="Acme BV")
    assert dutch.update_from({"vat_number": "NL123456789B01", "visit_address.postal_code": "1011 AB",
                              "visit_address.country": "NL"}) == {}
    assert dutch.validate(Choices()) == {}


def test_a_customer_abroad_through_the_store(store):
    made = store.create_customer(user="anna", name="Acme Inc.", **{"visit_address.country": "US",
                                                                    "visit_address.city": "Boston"})
    assert store.get_customer(made.id).visit_address.country == "US"


def test_the_import_takes_a_customer_abroad(store, tmp_path):
    path = tmp_path / "abroad.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([
            ["name", "visit_address.city", "visit_address.postal_code", "visit_address.country", "vat_number"],
            ["Acme BV", "Amsterdam", "1011 AB", "NL", "NL123456789B01"],
            ["Acme Inc.", "Boston", "02108", "us", ""],
            ["Nowhere Ltd", "Atlantis", "", "XX", ""],
        ])
    report = import_customers(store, path, user="anna", dry_run=True)
    assert not report.ok  # the unknown country is told; the others are fine
    assert "XX" in report.summary() and "Acme" not in report.summary()
    rows = [["name", "visit_address.city", "visit_address.postal_code", "visit_address.country", "vat_number"],
            ["Acme BV", "Amsterdam", "1011 AB", "NL", "NL123456789B01"], ["Acme Inc.", "Boston", "02108", "us", ""]]
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    report = import_customers(store, path, user="anna")
    assert report.ok, report.summary()
    assert sorted(store.get_customer(i).visit_address.country for i in report.created) == ["NL", "US"]


def test_the_import_takes_countries_by_name(store, tmp_path):
    path = tmp_path / "names.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["name", "visit_address.city", "visit_address.country"],
                                      ["Norsk AS", "Oslo", "Norge"], ["Dansk ApS", "Aarhus", "Denmark"]])
    report = import_customers(store, path, user="anna")
    assert report.ok, report.summary()
    assert sorted(store.get_customer(i).visit_address.country for i in report.created) == ["DK", "NO"]


@pytest.fixture(scope="module")
def served(empty_template: Path, tmp_path_factory: pytest.TempPathFactory):
    opened = Store(copy_database(empty_template, tmp_path_factory.mktemp("api-countries")))
    served = serve_api(opened)
    yield served
    served.server.stop()
    opened.close()


def test_the_http_api_takes_a_customer_abroad(served):
    client = Api(served.url, token=served.tokens.manager)
    made = client.post("/customers", {"fields": {"name": "Acme Inc.", "visit_address.country": "US",
                                                 "visit_address.postal_code": "02108"}})
    assert made.status == 201, made.body
    assert made.json()["fields"]["visit_address.country"] == "US"
    refused = client.post("/customers", {"fields": {"name": "Acme Ltd", "visit_address.country": "UK"}})
    assert refused.status == 422 and "visit_address.country" in refused.json()["errors"]


@pytest.mark.parametrize("address, english, reason", [
    ("annafirma.se", "must have an @-sign", "exactly one @"),
    ("a@b@c.se", "invalid characters: '@'", "exactly one @"),
    ("a@b", "should have a period", "not a domain name"),
    ("anna@-firma.se", "hyphen", "not a domain name"),
    ("anna@exa mple.se", "after the @-sign contains invalid characters", "a domain name cannot have"),
    ("anna@firma_ab.se", "after the @-sign contains invalid characters", "a domain name cannot have"),
    ("an na@firma.se", "before the @-sign", "part before the @"),
    ("anna@firma..se", "two periods", "period"),
    ("@firma.se", "something before the @-sign", "nothing before the @"),
    ("anna@", "something after the @-sign", "nothing after the @"),
])
def test_a_refused_address_is_told_its_own_reason_in_every_language(address, english, reason):
    """The reason said is the address's own (not "it needs exactly one @" for an address that has one), in our words
    in every language (the validator's English is not shown: 'The part after the @-sign …' mid-sentence)."""
    import email_validator

    from customercard.i18n import _, using_language
    from customercard.validators import check_email

    with pytest.raises(email_validator.EmailNotValidError, match=re.escape(english)):  # the validator's case
        email_validator.validate_email(address, check_deliverability=False)
    for language in ("en", "sv", "da"):
        with using_language(language):
            with pytest.raises(ValueError) as refused:
                check_email(address)
            wanted = next(m for m in REASONS if reason in m)
            assert _(wanted) in str(refused.value), (language, address, str(refused.value))


#: Our reasons for a refused address (English msgids), said in the reader's language.
REASONS = ("it needs exactly one @.", "the part after the @ is not a domain name.",
           "the part after the @ has characters a domain name cannot have.",
           "the part before the @ has characters an address cannot have.",
           "a period cannot come first, last, twice in a row or just before the @.",
           "there is nothing before the @.", "there is nothing after the @.")


@pytest.mark.parametrize("typed, kept", [("www.räksmörgås.se", "https://www.räksmörgås.se"),
                                         ("https://blåbär.dk/om-os", "https://blåbär.dk/om-os"),
                                         ("http://øl.dk", "http://øl.dk")])
def test_a_website_with_letters_of_our_languages_in_its_domain_is_taken(typed, kept):
    assert validators.check_website(typed) == kept
    customer = cc.Customer(name="Räksmörgås AB", website=typed)
    assert "website" not in customer.validate(Choices())


@pytest.mark.parametrize("typed, kept", [("Https://www.example.se", "https://www.example.se"),
                                         ("HTTP://Example.se/Om", "http://Example.se/Om")])
def test_a_website_whose_scheme_has_capitals_is_taken_in_lower_case(typed, kept):
    """A scheme is the same in any case (RFC 3986): what a phone's keyboard capitalises is taken."""
    assert validators.check_website(typed) == kept
    assert "website" not in cc.Customer(name="Exempel AB", website=typed).validate(Choices())


@pytest.mark.parametrize("typed, href", [("+46 8 123 45 67 ext. 12", "tel:+4681234567;ext=12"),
                                         ("+46 8 123 45 67", "tel:+4681234567"),
                                         ("08-123 45 67 x12", "tel:081234567;ext=12")])
def test_a_phone_numbers_link_calls_the_number_and_its_extension_apart(typed, href):
    """The extension the validator keeps ('… ext. 12') is RFC 3966's parameter, not more digits of the number."""
    from customercard.ui.html import tel

    assert f'href="{href}"' in tel(typed)
    assert f'href="{href.replace("tel:0", "tel:+46")}"' in tel(validators.check_phone(typed, "SE"))


@pytest.mark.parametrize("typed", ["räksmörgås", "www.räk smörgås.se", "www.ex_ample.se", "https://-å.se",
                                   "https://☃.com", "https://exa\uff0fmple.se", "example.se:99999", "example.se:0"])
def test_a_website_that_is_no_domain_is_still_refused(typed):
    with pytest.raises(ValueError, match="Not a web address"):
        validators.check_website(typed)


@pytest.mark.parametrize("typed", ["https://files.example.se/\u202efdp.exe", "files\u200b.example.se",
                                   "https://a\u200db.se", "example.se/\u2066x", "example.se/a\x07", "exam\ufe0fple.se"])
def test_a_website_with_invisible_characters_or_direction_marks_is_refused(typed):
    """https://files.example.se/<U+202E>fdp.exe was kept: the card's link read files.example.se/exe.pdf and opened
    …/fdp.exe (names and e-mail addresses refused such marks already)."""
    with pytest.raises(ValueError, match="invisible characters or direction marks"):
        validators.check_website(typed)


def test_a_bound_refused_where_it_is_set_names_the_field_as_everywhere_else():
    """c.invoicing.vat_rate = 250 in a notebook: the refusal names invoicing.vat_rate, as the field registry, the
    history and a save's refusal name it (visit_address.postal_code likewise)."""
    customer = cc.Customer(name="Bounds AB")
    with pytest.raises(cc.ValidationError) as refused:
        customer.invoicing.vat_rate = 250
    assert set(refused.value.errors) == {"invoicing.vat_rate"}
    customer.invoicing = cc.InvoiceDefaults()  # a new one set in its place is named too
    with pytest.raises(cc.ValidationError) as refused:
        customer.invoicing.discount_pct = -1
    assert set(refused.value.errors) == {"invoicing.discount_pct"}
    with pytest.raises(cc.ValidationError) as refused:
        cc.InvoiceDefaults().vat_rate = 250  # on its own it is its own field
    assert set(refused.value.errors) == {"vat_rate"}


def test_a_vat_number_as_stored_is_left_as_it_is_by_a_save_of_other_fields(demo_store):
    """An older version wrote Greek VAT numbers GR… and took any digits after GR: a save of the phone neither
    rewrites such a number (into history and the economy system) nor is refused for it; typed again, it is checked."""
    customer_id = int(demo_store.sql("SELECT min(id) AS id FROM customers")["id"][0])
    with demo_store.db.transaction() as cur:
        cur.execute("UPDATE customers SET vat_number = 'GR123456789' WHERE id = ?", [customer_id])
    demo_store.forget_cached()
    customer = demo_store.get_customer(customer_id)
    customer.phone = "+46 8 555 000 13"
    saved = demo_store.save_customer(customer, user="anna")
    assert saved.vat_number == demo_store.get_customer(customer_id).vat_number == "GR123456789"
    history = demo_store.history(customer_id)
    assert "vat_number" not in set(history[history["version"] == saved.version]["field"])
    saved.vat_number = "GR 123 456 789"
    with pytest.raises(cc.ValidationError, match="EL \\+ 9 digits"):
        demo_store.save_customer(saved, user="anna")


def test_a_figure_typed_is_shown_with_every_decimal_it_has():
    from customercard import formatting

    assert (formatting.typed(10.0004), formatting.typed(10.0006), formatting.typed(30.0)) == ("10.0004", "10.0006",
                                                                                            "30")
    assert formatting.percent(12.34567, None) == "12.34567%"
    customer = cc.Customer(name="Decimal AB", default_distance_km=10.0006, max_distance_km=10.0004)
    assert "(10.0004 km) cannot be below the default distance (10.0006 km)" in customer.validate(
        Choices())["max_distance_km"]


def test_a_number_read_by_the_customers_country_is_checked_again_when_the_country_changes(demo_store):
    """A stored value is left as it is by a save of other fields — but not when its rule's other input changed: a
    Swedish organisation number on a customer moved to Norway is checked by Norway's rule."""
    customer_id = int(demo_store.sql("SELECT min(id) AS id FROM customers WHERE visit_country = 'SE' AND "
                                     "org_number <> ''")["id"][0])
    customer = demo_store.get_customer(customer_id)
    customer.visit_address.param.update(country="NO", postal_code="0150", city="Oslo")
    with pytest.raises(cc.ValidationError) as refused:
        demo_store.save_customer(customer, user="anna")
    assert "org_number" in refused.value.errors
