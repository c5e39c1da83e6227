"""A form's contact-person choice keeps the person the record names (inactive since, or sharing a name with a
colleague), so a save of the other fields does not drop them (both backends)."""

from __future__ import annotations

from customercard.models import Contact
from customercard.ui.card import CustomerCard

from .conftest import rich_customers


def _people(store, customer_id):
    """Two active persons of one name and one who is made inactive after being named."""
    made = []
    for first, last, email in (("Per", "Persson", "per.a@example.com"), ("Per", "Persson", "per.b@example.com"),
                               ("Gone", "Away", "")):
        made.append(store.create_contact(Contact(customer_id=customer_id, first_name=first, last_name=last,
                                                 email=email), user="anna").id)
    return made


def _leave(store, contact_id):
    gone = store.get_contact(contact_id)
    gone.active = False
    store.save_contact(gone, user="anna")


def test_editing_a_follow_up_keeps_its_contact_person(demo_store):
    customer_id = rich_customers(demo_store)[0]
    twin, other_twin, gone = _people(demo_store, customer_id)
    ids = {}
    for contact_id in (twin, other_twin, gone):
        follow_up = demo_store.new_follow_up(customer_id, owner="anna", contact_id=contact_id)
        follow_up.what = f"About {contact_id}"
        ids[contact_id] = demo_store.add_follow_up(follow_up, user="anna").id
    _leave(demo_store, gone)
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("follow_ups")
    for contact_id, follow_up_id in ids.items():
        section.handle("edit-follow-up", {"id": str(follow_up_id)})
        widget = section.form.widgets["contact_id"]
        assert widget.value == contact_id
        assert len(set(widget.options.values())) == len(widget.options)  # nobody hidden behind a shared name
        section.form.widgets["what"].value = f"Call {contact_id} again"
        section.editor.save()
        saved = demo_store.get_follow_up(follow_up_id)
        assert (saved.what, saved.contact_id) == (f"Call {contact_id} again", contact_id)
    section.handle("new-follow-up", {})
    labels = list(section.form.widgets["contact_id"].options)
    assert "Per Persson (per.a@example.com)" in labels and "Per Persson (per.b@example.com)" in labels
    assert not any(label.startswith("Gone Away") for label in labels)  # a new one offers active persons only


def test_editing_an_event_keeps_an_inactive_guest(demo_store):
    customer_id = rich_customers(demo_store)[0]
    _twin, _other, gone = _people(demo_store, customer_id)
    event = demo_store.new_event(customer_id, owner="anna")
    event.param.update(title="Visit", event_type="Meeting", contact_ids=[gone])
    event_id = demo_store.create_event(event, user="anna").id
    _leave(demo_store, gone)
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("events")
    section.handle("edit-event", {"id": str(event_id)})
    widget = section.form.widgets["contact_ids"]
    assert widget.value == [gone] and any("Gone Away (inactive)" in label for label in widget.options)
    section.form.widgets["title"].value = "Visit, moved"
    section.editor.save()
    saved = demo_store.get_event(event_id)
    assert (saved.title, saved.contact_ids) == ("Visit, moved", [gone])
