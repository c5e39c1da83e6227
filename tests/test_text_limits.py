"""Every text has a maximum length and no control characters: declared once in the model's parameter metadata,
checked by the model's validation, and so refused the same way by the store on DuckDB and on PostgreSQL."""

from __future__ import annotations

import datetime as dt

import param
import pytest

import customercard as cc
from customercard import mail, models
from customercard.models import Choices, text_limits
from customercard.store import Store
from customercard.validators import check_text, clean_text

RECORDS = [cls for cls in vars(models).values()
           if isinstance(cls, type) and issubclass(cls, models.Record) and cls is not models.Record]


def test_every_text_parameter_of_every_record_declares_its_maximum_length():
    assert {"Customer", "Address", "Comment", "ListValue", "CustomerFile", "MailDraft"} <= {c.__name__ for c in RECORDS}
    for cls in RECORDS:
        for name, parameter in cls.param.objects(instance=False).items():
            if name == "name" and name not in cls.fields:
                continue  # param's own object name, not a field
            texts = isinstance(parameter, param.String) or (isinstance(parameter, param.List)
                                                            and parameter.item_type is str)
            if texts:
                limits = text_limits(parameter)
                assert limits is not None, f"{cls.__name__}.{name} has no max_length"
                assert 1 < limits[0] <= models.NOTE_LENGTH, f"{cls.__name__}.{name}"


def test_the_kinds_of_text_have_the_documented_sizes():
    def limit(cls, name):
        return text_limits(cls.param[name])
    assert limit(cc.Customer, "name") == (200, False)
    assert limit(cc.Event, "title") == (200, False)
    assert limit(cc.InvoiceDefaults, "our_reference") == (100, False)
    assert limit(cc.Comment, "body") == (20_000, True)
    assert limit(cc.Contact, "notes") == (20_000, True)
    assert limit(cc.Contact, "email") == (254, False)
    assert limit(cc.Customer, "website") == (2_000, False)
    assert limit(models.ListValue, "label") == (100, False)
    assert limit(cc.Criterion, "values") == (100, False)
    assert limit(models.MailDraft, "subject") == (200, False) and mail.MAX_SUBJECT == 200


def _text_fields(cls) -> list[tuple[str, int, bool]]:
    return [(name, limit, multiline) for name, limit, multiline, is_list in models.text_parameters(cls)
            if not is_list]


@pytest.mark.parametrize("cls", RECORDS, ids=lambda cls: cls.__name__)
def test_a_text_one_character_too_long_is_refused_with_the_limit_named(cls):
    for name, limit, _multiline in _text_fields(cls):
        record = cls()
        setattr(record, name, "x" * limit)
        assert name not in record.text_errors(), (cls.__name__, name)
        setattr(record, name, "x" * (limit + 1))
        assert record.validate(Choices()).get(name) == f"At most {limit:,} characters.", (cls.__name__, name)


def test_nested_texts_are_named_by_their_dotted_field():
    customer = cc.Customer(name="Acme AB")
    customer.set("visit_address.line1", "v" * 201)
    customer.set("invoicing.their_reference", "r" * 101)
    errors = customer.validate(Choices())
    assert errors["visit_address.line1"] == "At most 200 characters."
    assert errors["invoicing.their_reference"] == "At most 100 characters."


def test_the_length_is_checked_before_the_fields_own_costly_checks():
    customer = cc.Customer(name="Acme AB", email="a" * 2_000_000 + "@example.se", phone="1" * 500_000,
                           website="w" * 3_000)
    errors = customer.validate(Choices())
    assert errors == {"email": "At most 254 characters.", "phone": "At most 100 characters.",
                      "website": "At most 2,000 characters."}
    assert len(customer.email) > 2_000_000  # left as given, for the user to shorten


@pytest.mark.parametrize("bad, message", [
    ("Acme\x00 AB", "Contains an invisible control character (U+0000) that cannot be stored: remove it."),
    ("Acme\x1b[31m AB", "Contains an invisible control character (U+001B) that cannot be stored: remove it."),
    ("Acme\x85 AB", "Contains an invisible control character (U+0085) that cannot be stored: remove it."),
    ("Acme\nAB", "One line only: no line breaks or tabs."),
    ("Acme\tAB", "One line only: no line breaks or tabs."),
    ("Acme\u2028AB", "One line only: no line breaks or tabs."),  # Unicode's line separator
    ("Acme\u2029AB", "One line only: no line breaks or tabs."),  # and paragraph separator
    ("Acme\ud800AB", "Contains a broken character (U+D800) that cannot be stored: remove it."),
])
def test_control_characters_are_refused_in_one_line_texts(bad, message):
    assert cc.Customer(name=bad).validate(Choices()) == {"name": message}


def test_multi_line_texts_keep_tabs_and_line_breaks_but_refuse_other_control_characters():
    comment = cc.Comment(body="Line one\r\n\tindented\rlast\n", author="anna", written_on=dt.date(2026, 1, 2))
    assert comment.validate(Choices()) == {}
    assert comment.body == "Line one\n\tindented\nlast"
    comment.body = "Bell\x07"
    assert "U+0007" in comment.validate(Choices())["body"]


def test_text_lists_check_each_item():
    criterion = cc.Criterion(name="Size", values=["Small", " Large ", "x" * 101])
    assert criterion.validate() == {"values": "“xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx…”: "
                                              "At most 100 characters."}
    criterion.values = ["Small", " Large ", "", "Medium"]
    assert criterion.validate() == {} and criterion.values == ["Small", "Large", "Medium"]
    assert "U+0000" in cc.Event(title="T", participants=["an\x00na"]).validate(Choices())["participants"]


def test_messages_quote_at_most_a_short_part_of_a_value():
    customer = cc.Customer(name="Acme AB", industry="i" * 100_000)
    message = customer.validate(Choices(lists={"industries": ["Retail"]}))["industry"]
    assert message.startswith("“iiii") and len(message) < 200


def test_check_text_and_clean_text():
    assert check_text("  Acme  ", 10) == "Acme"
    with pytest.raises(ValueError, match="At most 3 characters"):
        check_text("abcd", 3)
    assert clean_text("A\tB\r\nC\x00D\x01", multiline=False) == "A B CD"
    assert clean_text("A\u2028B\u2029C", multiline=False) == "A B C"
    assert clean_text("A\tB\r\nC\x00D\x9f", multiline=True) == "A\tB\nCD"


# -- the store refuses the same on both backends, and nothing is half-written ---------------------------------
def test_the_store_refuses_nul_and_overlong_texts_on_both_backends(demo_store: Store):
    customer_id = int(demo_store.sql("SELECT min(id) AS id FROM customers")["id"][0])
    comments = demo_store.comment_count(customer_id)
    with pytest.raises(cc.ValidationError) as info:
        demo_store.add_comment(customer_id, "Hello\x00world", user="anna")
    assert "U+0000" in info.value.errors["body"]
    with pytest.raises(cc.ValidationError) as info:
        demo_store.add_comment(customer_id, "x" * 100_000, user="anna")
    assert info.value.errors == {"body": "At most 20,000 characters."}
    assert demo_store.comment_count(customer_id) == comments

    customer = demo_store.get_customer(customer_id)
    name, version = customer.name, customer.version
    customer.name = "Evil\x00 AB"
    customer.nickname = "n" * 201
    with pytest.raises(cc.ValidationError) as info:
        demo_store.save_customer(customer, user="anna")
    assert set(info.value.errors) == {"name", "nickname"}
    stored = demo_store.get_customer(customer_id)
    assert (stored.name, stored.version) == (name, version)

    with pytest.raises(cc.ValidationError) as info:
        demo_store.create_customer(user="anna", name="Fine AB", **{"visit_address.city": "Lund\x00"})
    assert "U+0000" in info.value.errors["visit_address.city"]


def test_admin_lists_users_criteria_and_files_are_checked_by_the_model(empty_store: Store):
    with pytest.raises(cc.ValidationError) as info:
        empty_store.add_list_value("industries", "y" * 101, user="boss")
    assert info.value.errors == {"label": "At most 100 characters."}
    with pytest.raises(cc.ValidationError) as info:
        empty_store.add_list_value("relation_types", "Owner of", user="boss", inverse_label="Owned\x00 by")
    assert "U+0000" in info.value.errors["inverse_label"]
    assert empty_store.add_list_value("industries", "  Deep   sea  mining ", user="boss") > 0
    assert "Deep sea mining" in empty_store.choices().allowed("industries")

    with pytest.raises(cc.ValidationError) as info:
        empty_store.save_criterion(cc.Criterion(name="Size", values=["Small", "Big\x00"]), user="boss")
    assert "U+0000" in info.value.errors["values"]
    with pytest.raises(cc.ValidationError) as info:
        empty_store.add_user(cc.User(login="newbie", name="N" * 201, role="viewer"), "a long password", by="boss")
    assert info.value.errors == {"name": "At most 200 characters."}

    customer = empty_store.create_customer(user="anna", name="Files AB")
    with pytest.raises(cc.ValidationError) as info:
        empty_store.add_file_record(customer.id, "report\x00.pdf", 10, "0" * 64, "application/pdf", user="anna")
    assert "U+0000" in info.value.errors["name"]
    assert empty_store.files(customer.id).empty


def test_the_mail_subject_and_message_are_limited_by_the_model(demo_store: Store):
    customer_id = int(demo_store.sql("SELECT min(id) AS id FROM customers")["id"][0])
    with pytest.raises(cc.ValidationError) as info:
        mail.compose(demo_store, customer_id, "anna", ["erik"], "s" * 201, "m" * 19_001)
    assert info.value.errors == {"subject": "At most 200 characters.", "message": "At most 19,000 characters."}
    with pytest.raises(cc.ValidationError) as info:
        mail.compose(demo_store, customer_id, "anna", ["erik"], "Hello", "Bell\x07")
    assert "U+0007" in info.value.errors["message"]


def test_a_text_an_older_version_stored_stays_until_it_is_changed(demo_store: Store):
    """As a deactivated list value does: a record with such a text can still be saved; changing it is checked."""
    customer_id = int(demo_store.sql("SELECT min(id) AS id FROM customers WHERE visit_country = 'SE'")["id"][0])
    demo_store.db.execute("UPDATE customers SET nickname = ?, visit_line2 = ? WHERE id = ?",
                          ["Old\x01 nickname", "c/o " + "x" * 300, customer_id])
    customer = demo_store.get_customer(customer_id)
    customer.phone = "+46 8 123 45 67"
    saved = demo_store.save_customer(customer, user="anna")
    assert saved.phone == "+46 8 123 45 67" and saved.nickname == "Old\x01 nickname"
    saved.nickname = "New\x01 nickname"
    with pytest.raises(cc.ValidationError) as info:
        demo_store.save_customer(saved, user="anna")
    assert set(info.value.errors) == {"nickname"}

    event = demo_store.create_event(cc.Event(customer_id=customer_id, title="Review", owner="anna",
                                             starts_at=dt.datetime(2026, 7, 1, 10)), user="anna")
    demo_store.db.execute("UPDATE events SET title = ? WHERE id = ?", ["T" * 100_000, event.id])
    assert demo_store.set_event_status(event.id, "done", user="anna").status == "done"
