"""No text is cut silently in a form: every text widget takes more than the model allows, so the model's message
shows next to the field; pasted control characters are cleaned as the form is read. Without a browser (the
browser tests paste 100,000 characters for real)."""

from __future__ import annotations

import panel as pn
import param
import pytest

import customercard as cc
from customercard.models import ListValue, MailDraft, text_limits
from customercard.ui.admin import AdminPage
from customercard.ui.card import CustomerCard
from customercard.ui.form import FieldForm

from .conftest import rich_customers
from .ui_support import labelled, one, pane_text

RECORDS = [cc.Customer, cc.Contact, cc.Comment, cc.Event, cc.Opportunity, cc.Settings, cc.User, cc.Project,
           cc.Relation]


def _text_fields(record: cc.Record) -> list[str]:
    return [f for f in record.fields
            if isinstance(record.parameter(f), param.String) and text_limits(record.parameter(f)) is not None]


@pytest.mark.parametrize("kind", RECORDS, ids=lambda kind: kind.__name__)
def test_every_text_widget_of_a_form_takes_more_than_the_model_allows(kind):
    record = kind()
    fields = _text_fields(record)
    assert fields
    form = FieldForm(record=record, fields=fields)
    for field in fields:
        max_length, multiline = text_limits(record.parameter(field))
        widget = form.widgets[field]
        assert widget.max_length > max_length, (kind.__name__, field, widget.max_length)
        assert isinstance(widget, pn.widgets.TextAreaInput) == multiline, (kind.__name__, field)


def test_the_form_cleans_pasted_control_characters():
    form = FieldForm(record=cc.Contact(), fields=["first_name", "notes"])
    form.widgets["first_name"].value = "Anna\tMaria\x00"
    form.widgets["notes"].value = "Line one\r\nLine\ttwo\x07"
    assert form.values() == {"first_name": "Anna Maria", "notes": "Line one\nLine\ttwo"}


def test_the_hand_built_editors_take_more_than_the_model_allows(demo_store):
    customer_id = rich_customers(demo_store)[0]
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    comments = card.section("comments")
    comments.handle("new-comment", {})
    body = one(comments.view.child, pn.widgets.TextAreaInput, "cc-new-comment")
    assert body.max_length > text_limits(cc.Comment.param.body)[0]
    contact = card.section("contact")
    contact.do_send_email()
    assert labelled(contact.view.child, "Subject").max_length > text_limits(MailDraft.param.subject)[0]
    assert labelled(contact.view.child, "Message").max_length > text_limits(MailDraft.param.message)[0]
    relations = card.section("relations")
    relations.handle("add-relation", {})
    assert labelled(relations.view.child, "Note").max_length > text_limits(cc.Relation.param.note)[0]
    page = AdminPage(demo_store, "admin")
    for widget in (labelled(page.lists, "Add a value"), labelled(page.lists, "New name"),
                   labelled(page.lists, "Seen from the other side (relation types)"),
                   labelled(page.criteria, "Name")):
        assert widget.max_length > text_limits(ListValue.param.label)[0]


def test_a_100000_character_comment_gets_the_models_message_and_nothing_is_saved(demo_store):
    customer_id = rich_customers(demo_store)[0]
    before = demo_store.comments(customer_id)
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("comments")
    section.handle("new-comment", {})
    one(section.view.child, pn.widgets.TextAreaInput, "cc-new-comment").value = "x" * 100_000
    assert section.add_comment() is False
    assert "At most 20,000 characters." in pane_text(section.view.child, "cc-comment-message")
    assert demo_store.comments(customer_id).equals(before)


def test_an_overlong_event_title_gets_its_message_next_to_the_field(demo_store):
    customer_id = rich_customers(demo_store)[0]
    events = len(demo_store.events(customer_id))
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("events")
    section.handle("new-event", {})
    section.form.widgets["title"].value = "T" * 1_000
    section.editor.save()
    assert "At most 200 characters." in section.form.messages["title"].object
    assert len(demo_store.events(customer_id)) == events


def test_admin_list_values_and_criteria_are_cleaned_and_limited(demo_store):
    page = AdminPage(demo_store, "admin")
    labelled(page.lists, "Add a value").value = "Deep\tsea\x00 mining"
    labelled(page.lists, "Add").clicks += 1
    assert "Deep sea mining" in set(demo_store.list_values("industries")["label"])
    labelled(page.lists, "Add a value").value = "y" * 101
    labelled(page.lists, "Add").clicks += 1
    assert "At most 100 characters." in page.lists.message
    labelled(page.criteria, "Name").value = "Region"
    labelled(page.criteria, "Values, one per line (removed values are deactivated)").value = "North\x01\n" + "s" * 101
    assert not page.criteria.save() and "At most 100 characters." in page.criteria.message
