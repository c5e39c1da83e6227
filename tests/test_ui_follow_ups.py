"""The card's Follow-ups section and the timeline's follow-up entries, without a browser (both backends)."""

from __future__ import annotations

import datetime as dt

import panel as pn

from customercard.ui.card import CustomerCard

from .conftest import eventually, rich_customers
from .ui_support import one, pane_text


def _section(store, customer_id, user="anna"):
    return CustomerCard(store=store, customer_id=customer_id, user=user).section("follow_ups")


def reminder(view) -> pn.widgets.Checkbox:
    """The profile's check box for the daily reminder e-mail, as drawn."""
    return one(view, pn.widgets.Checkbox, "cc-profile-reminders")


def test_add_one_for_a_colleague_overdue_marked_then_done(demo_store):
    customer_id = rich_customers(demo_store)[0]
    section = _section(demo_store, customer_id)
    assert not section.collapsed and 'data-action="new-follow-up"' in section.view.html
    section.handle("new-follow-up", {})
    form = section.form
    assert form.widgets["owner"].value == "anna"
    form.widgets["what"].value = "Call <Eva> about the renewal"
    form.widgets["owner"].value = "erik"
    form.widgets["due_on"].value = demo_store.firm_today() - dt.timedelta(days=2)
    section.editor.save()
    row = demo_store.follow_ups(customer_id=customer_id).iloc[0]
    assert (row.what, row.owner, bool(row.overdue)) == ("Call <Eva> about the renewal", "erik", True)
    html = section.view.html
    assert "Call &lt;Eva&gt; about the renewal" in html and "<Eva>" not in html
    assert "cc-overdue" in html and "overdue" in html and "Follow-up saved." in html
    section.handle("follow-up-done", {"id": str(int(row.id)), "version": "1"})
    done = demo_store.get_follow_up(int(row.id))
    assert done.done and done.done_by == "anna"
    assert 'data-action="follow-up-open"' in section.view.html and "cc-overdue" not in section.view.html


def test_follow_ups_on_the_card_are_no_part_of_the_crm_module_s_switch(demo_store):
    """With the CRM module switched off the card's Follow-ups refused Add and Done ("The CRM module has been switched
    off… nothing was saved"), where the home page and the contact card took them."""
    customer_id = rich_customers(demo_store)[1]
    settings = demo_store.settings()
    settings.crm_enabled = False
    demo_store.save_settings(settings, user="admin")
    try:
        section = _section(demo_store, customer_id)
        section.handle("new-follow-up", {})
        section.form.widgets["what"].value = "Send the signed contract"
        assert section.editor.save() is not False
        row = demo_store.follow_ups(customer_id=customer_id)
        row = row[row["what"] == "Send the signed contract"].iloc[0]
        section.handle("follow-up-done", {"id": str(int(row.id)), "version": str(int(row.version))})
        assert demo_store.get_follow_up(int(row.id)).done and "switched off" not in section.view.html
    finally:
        settings = demo_store.settings()
        settings.crm_enabled = True
        demo_store.save_settings(settings, user="admin")


def test_a_follow_up_needs_what_and_a_day(demo_store):
    section = _section(demo_store, rich_customers(demo_store)[0])
    section.handle("new-follow-up", {})
    section.form.widgets["due_on"].value = None
    section.editor.save()
    assert "Say what is to be done." in section.form.messages["what"].object
    assert "Give the day it is due." in section.form.messages["due_on"].object


def _contract_follow_up(store):
    """(customer id, Anna's follow-up "Send the contract" there)."""
    customer_id = rich_customers(store)[0]
    follow_up = store.new_follow_up(customer_id, owner="anna")
    follow_up.what = "Send the contract"
    return customer_id, store.add_follow_up(follow_up, user="anna")


def test_a_stale_done_is_refused_and_says_who(demo_store):
    customer_id, added = _contract_follow_up(demo_store)
    section = _section(demo_store, customer_id)
    moved = demo_store.get_follow_up(added.id)
    moved.due_on = moved.due_on + dt.timedelta(days=1)
    demo_store.save_follow_up(moved, user="erik")
    section.handle("follow-up-done", {"id": str(added.id), "version": "1"})  # the button drawn at version 1
    assert not demo_store.get_follow_up(added.id).done
    assert "Not saved" in section.view.html and "Erik Nilsson" in section.view.html


def test_a_viewer_sees_them_without_controls(demo_store):
    customer_id = rich_customers(demo_store)[0]
    follow_up = demo_store.new_follow_up(customer_id, owner="anna")
    follow_up.what = "Send the contract"
    added = demo_store.add_follow_up(follow_up, user="anna")
    section = _section(demo_store, customer_id, user="vera")
    assert "Send the contract" in section.view.html
    assert "data-action" not in section.view.html
    section.handle("follow-up-done", {"id": str(added.id)})
    assert not demo_store.get_follow_up(added.id).done


def test_the_timeline_tells_of_them(demo_store):
    customer_id = rich_customers(demo_store)[0]
    follow_up = demo_store.new_follow_up(customer_id, owner="erik")
    follow_up.what = "Book the workshop"
    added = demo_store.add_follow_up(follow_up, user="anna")
    demo_store.set_follow_up_done(added.id, user="erik")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    activity = card.section("activity")
    activity.open()
    html = activity.view.html
    assert "marked a follow-up done" in html and "added a follow-up for Erik Nilsson" in html
    assert "Book the workshop" in html


def test_the_reminder_e_mail_is_turned_off_and_on_on_the_profile(demo_store):
    from customercard.ui.profile import ProfilePage

    view = ProfilePage(demo_store, "anna")
    assert reminder(view).value is True and demo_store.follow_up_mail_wanted("anna")
    reminder(view).value = False
    assert not demo_store.follow_up_mail_wanted("anna") and demo_store.follow_up_mail_wanted("erik")
    assert "no reminder e-mails" in pane_text(view, "cc-profile-reminders-note")
    assert reminder(ProfilePage(demo_store, "anna")).value is False
    reminder(view).value = True
    assert demo_store.follow_up_mail_wanted("anna")


def test_on_the_contact_card_add_done_and_edit(demo_store):
    from customercard.ui.contact import ContactCard

    customer_id = rich_customers(demo_store)[0]
    contact = demo_store.contacts(customer_id).iloc[0]
    card = ContactCard(store=demo_store, contact_id=int(contact.id), user="anna")
    assert "No follow-ups." in card.slots["follow_ups"].html
    card.handle("new-follow-up", {})
    editor = card.slots["follow_ups"].child
    assert editor is not None
    card_editor = card.edit_follow_up()
    card_editor.form.widgets["what"].value = "Ask about the board meeting"
    card_editor.save()
    row = demo_store.follow_ups(contact_id=int(contact.id)).iloc[0]
    assert (row.what, row.owner, int(row.customer_id)) == ("Ask about the board meeting", "anna", customer_id)
    html = card.slots["follow_ups"].html
    assert "Ask about the board meeting" in html and "Follow-up saved." in html
    card.handle("follow-up-done", {"id": str(int(row.id)), "version": "1"})
    assert demo_store.get_follow_up(int(row.id)).done
    viewer = ContactCard(store=demo_store, contact_id=int(contact.id), user="vera")
    assert "Ask about the board meeting" in viewer.slots["follow_ups"].html
    assert "data-action" not in viewer.slots["follow_ups"].html
    entries = demo_store.contact_timeline(int(contact.id), kinds="follow-up")
    assert list(entries["action"]) == ["done", "added"]


def test_a_follow_up_on_an_opportunity(demo_store):
    customer_id = rich_customers(demo_store)[0]
    opportunity = demo_store.new_opportunity(customer_id, owner="anna")
    opportunity.title = "Framework agreement"
    opportunity = demo_store.create_opportunity(opportunity, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("opportunities")
    section.open()
    assert 'data-action="opportunity-follow-up"' in section.view.html
    section.handle("opportunity-follow-up", {"id": str(opportunity.id)})
    section.form.widgets["what"].value = "Send the revised terms"
    section.editor.save()
    row = demo_store.follow_ups(opportunity_id=opportunity.id).iloc[0]
    assert (row.what, row.opportunity_title, row.owner) == ("Send the revised terms", "Framework agreement", "anna")
    follow_ups = card.section("follow_ups")
    follow_ups.render()
    assert "Framework agreement" in follow_ups.view.html


def test_an_open_follow_up_form_marks_a_colleagues_save_of_it(demo_store):
    """As a comment's form does: the field someone else changed says so under it, before Save meets a conflict."""
    customer_id, added = _contract_follow_up(demo_store)
    section = _section(demo_store, customer_id)
    section.open()
    section.handle("edit-follow-up", {"id": str(added.id), "version": str(added.version)})
    editor = section.editor
    assert editor is not None and editor.original.id == added.id
    theirs = demo_store.get_follow_up(added.id)
    theirs.what = "Send the signed contract"
    demo_store.save_follow_up(theirs, user="erik")
    eventually(lambda: editor.form.notices["what"].text)  # (on PostgreSQL the change comes as a NOTIFY)
    assert editor.form.notices["what"].text == "Changed meanwhile by Erik Nilsson: now Send the signed contract"
    assert editor.form.notices["due_on"].text == ""


def test_the_contact_card_shows_a_colleagues_save_heard_while_its_form_was_open_once_cancelled(demo_store):
    from customercard.ui.contact import ContactCard

    customer_id = rich_customers(demo_store)[0]
    contact_id = int(demo_store.contacts(customer_id).iloc[0].id)
    card = ContactCard(store=demo_store, contact_id=contact_id, user="anna")
    card.start_edit()
    theirs = demo_store.get_contact(contact_id)
    theirs.phone = "+46 8 555 12 34"
    demo_store.save_contact(theirs, user="erik")
    eventually(lambda: card.editor.form.notices["phone"].text)
    card.editor.form.widgets["phone"].value = "+46 8 555 99 99"  # typed, then thought better of
    cancel = next(b for b in card.editor.__panel__().select(pn.widgets.Button) if b.label == "Cancel")
    cancel.clicks += 1
    assert card.editor is None
    assert card.contact.version == theirs.version and card.contact.phone == "+46 8 555 12 34"
    assert "+46 8 555 12 34" in card.details_html() and "Erik Nilsson" in card.details_html()
    editor = card.start_edit()  # the next edit starts from what is stored: no conflict over a field not touched
    editor.form.widgets["title"].value = "Chair"
    assert card.save() is True
    assert demo_store.get_contact(contact_id).phone == "+46 8 555 12 34"


def test_what_a_card_hears_while_a_section_saves_waits_for_the_saves_own_drawing(demo_store):
    """In a notebook the card hears a change as it is committed (on PostgreSQL on the listener's thread, while the
    analyst's call still draws): a follow-up marked done, edited or added, and a comment added, is drawn once with its
    note and then again with what was heard — never first without the note (drawn meanwhile on two threads, the
    note was once lost)."""
    customer_id = rich_customers(demo_store)[3]
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("follow_ups")
    drawn: list[str] = []
    section.view.param.watch(lambda event: drawn.append(event.new), "html")
    section.handle("new-follow-up", {})
    section.form.widgets["what"].value = "Send the minutes"
    drawn.clear()
    assert section.editor.save()
    assert drawn and all("Follow-up saved." in html for html in drawn), drawn
    row = demo_store.follow_ups(customer_id=customer_id)
    row = row[row["what"] == "Send the minutes"].iloc[0]
    drawn.clear()
    section.handle("follow-up-done", {"id": str(int(row.id)), "version": str(int(row.version))})
    assert demo_store.get_follow_up(int(row.id)).done
    assert drawn and all("marked done" in html for html in drawn), drawn
    comments = card.section("comments")
    comments.open()
    comments.handle("new-comment", {})
    one(comments.view.child, pn.widgets.TextAreaInput, "cc-new-comment").value = "Minutes sent"
    drawn.clear()
    comments.view.param.watch(lambda event: drawn.append(event.new), "html")
    assert comments.add_comment() is True
    assert drawn and all("Comment added." in html for html in drawn), drawn


def test_a_follow_up_saved_after_its_customer_was_merged_away_says_where_it_is(demo_store):
    """Maria edits a follow-up; an administrator merges its customer into another meanwhile (the follow-up goes with
    it): her save lands on the survivor, and the card says so (it said "Follow-up saved." above "No follow-ups.")."""
    customer_id, survivor_id = rich_customers(demo_store)[:2]
    follow_up = demo_store.new_follow_up(customer_id, owner="maria")
    follow_up.what, follow_up.due_on = "Send the offer", demo_store.firm_today()
    follow_up = demo_store.add_follow_up(follow_up, user="maria")
    section = _section(demo_store, customer_id, user="maria")
    section.handle("edit-follow-up", {"id": str(follow_up.id), "version": str(follow_up.version)})
    section.form.widgets["what"].value = "Send the signed offer"
    demo_store.merge_customers(survivor_id, customer_id, user="admin")
    section.editor.save()
    survivor = demo_store.get_customer(survivor_id)
    assert demo_store.get_follow_up(follow_up.id).customer_id == survivor_id
    assert f"It is on {survivor.name} ({survivor.number}), which this customer was merged into." in section.view.html
