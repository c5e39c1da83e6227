"""The param model: types, bounds, allowed values and every validation rule."""

from __future__ import annotations

import datetime as dt

import pytest

import customercard as cc
from customercard.models import Choices, Settings

CHOICES = Choices(
    lists={"industries": ["Consulting", "Retail"], "statuses": ["Active", "Prospect"],
           "payment_terms": ["30 days net"], "invoice_templates": ["Standard"], "currencies": ["SEK", "EUR"],
           "invoice_languages": ["Swedish", "English"], "event_types": ["Meeting"],
           "opportunity_stages": ["Lead", "Proposal"], "relation_types": ["Partner of"]},
    managers=["anna", "boss"], users=["anna", "boss", "vera"],
    criteria={"Size": (False, ["Small", "Large"]), "Services": (True, ["Audit", "Tax"])},
)


def customer(**values) -> cc.Customer:
    c = cc.Customer(name="Acme AB")
    errors = c.update_from(values)
    assert not errors
    return c


def errors_of(c: cc.Record, previous=None) -> dict[str, str]:
    return c.validate(CHOICES, previous)


def test_a_plain_valid_customer_has_no_errors_and_is_normalised():
    c = customer(phone="08-123 45 67", email=" Info@Acme.SE ", website="www.acme.se",
                 org_number="5566778899", vat_number="se 5566778899 01", gln="",
                 **{"visit_address.postal_code": "11455", "visit_address.city": "Stockholm"})
    c.gln = "7350012345671"
    assert "gln" in errors_of(c)  # wrong check digit
    c.gln = "7350012345679"
    assert errors_of(c) == {}
    assert c.phone == "+46 8 123 45 67"
    assert c.website == "https://www.acme.se"
    assert c.org_number == "556677-8899"
    assert c.vat_number == "SE556677889901"
    assert c.visit_address.postal_code == "114 55"


def test_name_is_required():
    c = customer(name="   ")
    assert "name" in errors_of(c)
    with pytest.raises(cc.ValidationError) as info:
        c.check(CHOICES)
    assert "name" in info.value.errors


@pytest.mark.parametrize("email", ["nope", "a@", "@b.se", "a b@c.se"])
def test_bad_email(email):
    assert "email" in errors_of(customer(email=email))


@pytest.mark.parametrize("phone", ["12", "phone me", "+46 8 1"])
def test_bad_phone(phone):
    assert "phone" in errors_of(customer(phone=phone))


def test_phone_region_follows_the_visiting_country():
    c = customer(phone="33 12 34 56", **{"visit_address.country": "DK"})
    assert errors_of(c) == {}
    assert c.phone.startswith("+45")


@pytest.mark.parametrize("country, good, bad", [
    ("SE", "556677-8899", "556677-8898"),
    ("DK", "12345674", "12345675"),
    ("NO", "923609016", "923609017"),
    ("FI", "1572860-0", "1572860-1"),
    ("DE", "HRB 12345", "12345"),
    ("GB", "SC123456", "ABC"),
])
def test_organisation_number_shape_per_country(country, good, bad):
    fields = {"visit_address.country": country, "org_number": good}
    assert "org_number" not in errors_of(customer(**fields))
    fields["org_number"] = bad
    assert "org_number" in errors_of(customer(**fields))


@pytest.mark.parametrize("good, bad", [
    ("SE556677889901", "SE556677889902"),
    ("DK12345674", "DK1234567"),
    ("NO923609016MVA", "NO923609017MVA"),
    ("FI15728600", "FI15728601"),
    ("DE136695976", "DE136695977"),
    ("GB123456789", "GB12345"),
])
def test_vat_number_shape_per_country(good, bad):
    assert "vat_number" not in errors_of(customer(vat_number=good))
    assert "vat_number" in errors_of(customer(vat_number=bad))


def test_distances_cannot_be_negative_and_max_not_below_default():
    c = cc.Customer(name="X")
    assert c.update_from({"default_distance_km": -1}) == {"default_distance_km": "Must be at least 0."}
    c = customer(default_distance_km=30, max_distance_km=20)
    assert "max_distance_km" in errors_of(c)
    c.max_distance_km = 30
    assert errors_of(c) == {}
    c.max_distance_km = None  # no limit
    assert errors_of(c) == {}


def test_discount_and_vat_rate_are_percentages():
    c = cc.Customer(name="X")
    assert "invoicing.discount_pct" in c.update_from({"invoicing.discount_pct": 101})
    assert "invoicing.vat_rate" in c.update_from({"invoicing.vat_rate": -5})
    assert c.update_from({"invoicing.discount_pct": 12.5}) == {}


def test_list_values_must_come_from_the_admin_lists():
    c = customer(industry="Mining", status="Active", **{"invoicing.payment_term": "90 days"})
    errors = errors_of(c)
    assert "industry" in errors and "invoicing.payment_term" in errors and "status" not in errors


def test_a_deactivated_value_stays_valid_when_unchanged():
    before = customer(industry="Shipping")  # no longer in the list
    after = before.copy()
    after.phone = "+46 8 123 45 67"
    assert "industry" not in errors_of(after, previous=before)
    after.industry = "Shipping2"
    assert "industry" in errors_of(after, previous=before)


def test_account_manager_must_be_an_active_manager():
    assert "account_manager" in errors_of(customer(account_manager="vera"))
    assert "account_manager" not in errors_of(customer(account_manager="anna"))


def test_segments_single_and_multiple_choice():
    c = customer(segments={"Size": ["Small", "Large"]})
    assert "segments" in errors_of(c)
    c = customer(segments={"Services": ["Audit", "Tax"], "Size": ["Small"]})
    assert errors_of(c) == {}
    c = customer(segments={"Colour": ["Blue"]})
    assert "segments" in errors_of(c)


def test_postal_code_and_country_of_addresses():
    c = customer(**{"visit_address.postal_code": "ABC", "visit_address.country": "SE"})
    assert "visit_address.postal_code" in errors_of(c)
    c = customer(**{"invoice_address.line1": "Box 1", "invoice_address.country": "XX"})
    assert "invoice_address.country" in errors_of(c)


def test_billing_address_falls_back_to_the_visiting_address():
    c = customer(**{"visit_address.city": "Lund", "invoice_address.city": "Malmö"})
    assert c.billing_address.city == "Lund"
    c.use_invoice_address = True
    assert c.billing_address.city == "Malmö"


def test_validation_error_names_every_bad_field():
    c = customer(name="", email="x", phone="1")
    with pytest.raises(cc.ValidationError) as info:
        c.check(CHOICES)
    assert set(info.value.errors) >= {"name", "email", "phone"}
    assert isinstance(info.value, cc.CustomerCardError)


def test_labels_name_the_section_of_nested_fields():
    c = cc.Customer()
    assert c.label("invoice_address.city") == "Invoice address · City"
    assert c.label("phone") == "Phone"


def test_every_parameter_is_documented_or_labelled():
    for cls in (cc.Customer, cc.Address, cc.InvoiceDefaults, cc.Settings, cc.User):
        obj = cls()
        for name in cls.fields:
            parameter = obj.parameter(name)
            assert parameter.doc or parameter.label, f"{cls.__name__}.{name} lacks a doc"


def test_copy_is_independent():
    c = customer(**{"visit_address.city": "Lund"}, segments={"Size": ["Small"]})
    d = c.copy()
    d.visit_address.city = "Malmö"
    d.segments = {"Size": ["Large"]}
    assert c.visit_address.city == "Lund" and c.segments == {"Size": ["Small"]}
    e = c.copy()
    e.segments["Size"][0] = "Large"  # changed in place on the copy
    e.segments["Source"] = ["Web"]
    assert c.segments == {"Size": ["Small"]}


def test_contact_needs_a_name_and_valid_details():
    contact = cc.Contact(email="x@", phone="abc")
    errors = contact.validate(CHOICES)
    assert set(errors) == {"last_name", "email", "phone"}


def test_comment_needs_text_date_and_known_author():
    comment = cc.Comment(body=" ", author="nobody")
    errors = comment.validate(CHOICES)
    assert set(errors) == {"body", "written_on", "author"}
    comment = cc.Comment(body="Hi", author="anna", written_on=dt.date.today())
    assert comment.validate(CHOICES) == {}


def test_event_dates_in_order_and_type_from_list():
    start = dt.datetime(2026, 1, 1, 10)
    event = cc.Event(title="Meet", starts_at=start, ends_at=start - dt.timedelta(hours=1), event_type="Party")
    assert set(event.validate(CHOICES)) == {"ends_at", "event_type"}


def test_opportunity_rules():
    with pytest.raises(ValueError):
        cc.Opportunity(probability=120)
    with pytest.raises(ValueError):
        cc.Opportunity(amount=-1)
    opp = cc.Opportunity(title="Deal", status="lost", stage="Lead", currency="SEK")
    assert set(opp.validate(CHOICES)) == {"lost_reason"}
    assert cc.Opportunity(amount=1000, probability=25).weighted_amount == 250


def test_relation_points_to_exactly_one_other():
    relation = cc.Relation(customer_id=1, relation_type="Partner of")
    assert "other_customer_id" in relation.validate(CHOICES)
    relation.other_customer_id = 1
    assert "other_customer_id" in relation.validate(CHOICES)
    relation.other_customer_id = 2
    assert relation.validate(CHOICES) == {}


def test_user_login_shape_and_roles():
    user = cc.User(login="Bad Login!", name="")
    assert set(user.validate()) == {"login", "name"}
    with pytest.raises(ValueError):
        cc.User(role="owner")


def test_settings_validation():
    settings = cc.Settings(time_zone="Europe/Nowhere", base_currency="kr", public_base_url="ftp://x")
    assert set(settings.validate()) == {"time_zone", "base_currency", "public_base_url"}
    with pytest.raises(ValueError):
        cc.Settings(language="fr")  # English, Swedish or Danish


@pytest.mark.parametrize(("field", "value", "message"), [("default_distance_km", -1, "Must be at least 0."),
                                                         ("invoicing.discount_pct", 150, "Must be at most 100."),
                                                         ("max_distance_km", -0.5, "Must be at least 0.")])
def test_a_number_out_of_its_bounds_is_a_validation_error_naming_the_field(field, value, message):
    customer = cc.Customer(name="Bounds AB")
    with pytest.raises(cc.ValidationError) as refused:  # where it is set, as param refuses it (a ValueError too)
        customer.set(field, value)
    assert refused.value.errors == {field: message}  # dotted for a nested record, as ValidationError says
    assert isinstance(refused.value, ValueError) and customer.get(field) != value
    assert customer.update_from({field: value}) == {field: message}
    with pytest.raises(cc.ValidationError, match="probability"):
        cc.Opportunity(probability=120)


@pytest.mark.parametrize("text", ["EUR 11,50; DKK 1,55", "EUR 11,50, DKK 1,55", "EUR 11.50, DKK 1.55",
                                  "EUR 11,50\nDKK 1,55", "EUR=11,5;DKK:1.55"])
def test_exchange_rates_take_a_decimal_comma_as_swedish_and_danish_type_it(text):
    settings = Settings()
    settings.exchange_rates = text
    assert settings.rates() == {settings.base_currency: 1.0, "EUR": 11.5, "DKK": 1.55}
