"""The customer card without a browser: param state, widgets from __panel__, read/edit, validation, conflicts,
permissions, remembered layout."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlparse

import pandas as pd
import panel as pn
import pytest

import customercard as cc
from customercard.i18n import using_language
from customercard.ui.card import CustomerCard
from customercard.ui.components import CardView, SectionSlot
from customercard.ui.form import number_text, read_number
from customercard.ui.sections.contact import route_url

from .conftest import rich_customers
from .ui_support import find, labelled, one, pane_text

ORDER = ["header", "contact", "invoice_address", "economy", "groups", "comments", "activity", "follow_ups", "contacts",
         "projects",
         "invoiced", "relations", "events", "opportunities"]


@pytest.fixture
def customer_id(demo_store) -> int:
    """A demo customer with invoices, contacts (active and inactive), projects and more than three comments."""
    return rich_customers(demo_store)[0]


def texts(section) -> str:
    """The HTML a section shows (read mode)."""
    return section.view.html


def tool_actions(section) -> list[str]:
    return [tool["action"] for tool in section.view.tools]


def test_sections_in_the_seed_order(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    assert [s.key for s in card.sections] == ORDER
    assert isinstance(card.customer, cc.Customer) and card.customer.id == customer_id
    view = card.__panel__()
    assert isinstance(view, CardView)  # one browser component for all sections
    assert all(isinstance(section.view, SectionSlot) for section in card.sections)
    assert [entry["key"] for entry in view.sections] == ORDER


def test_header_shows_identity_and_last_update(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    c = card.customer
    html = texts(card.section("header"))
    assert c.name in html and str(c.number) in html and c.status in html and c.industry in html
    assert demo_store.user_name(c.account_manager) in html
    assert "Last updated by" in html and demo_store.user_name(c.updated_by) in html


def test_nickname_and_invoice_address_follow_the_switches(demo_store, customer_id):
    customer = demo_store.get_customer(customer_id)
    customer.nickname = "Secret Nick"  # given before the firm switched nicknames off (none is given while off)
    demo_store.save_customer(customer, user="anna")
    settings = demo_store.settings()
    settings.nicknames_enabled = False
    settings.invoice_address_enabled = False
    demo_store.save_settings(settings, user="admin")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    assert "invoice_address" not in [s.key for s in card.sections]
    assert "Secret Nick" not in texts(card.section("header"))
    card.section("header").start_edit()
    assert "nickname" not in card.section("header").form.widgets



def test_an_open_card_follows_the_switches_an_administrator_turns(demo_store, customer_id):
    """An administrator switches nicknames, the separate invoice address and the CRM module off, document storage on
    and clears the start address while a manager has the card open: the card shows what a card opened now shows —
    without a reload (it kept the old sections and rows, even after its own save). A form open meanwhile stays."""
    from .conftest import eventually

    customer = demo_store.get_customer(customer_id)
    customer.nickname = "Secret Nick"
    demo_store.save_customer(customer, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    keys = [s.key for s in card.sections]
    assert "files" not in keys and {"invoice_address", "relations", "events", "opportunities"} <= set(keys)
    assert "Secret Nick" in texts(card.section("header")) and "google.com/maps/dir/" in texts(card.section("contact"))
    economy = card.section("economy")
    economy.start_edit()
    settings = demo_store.settings()
    settings.param.update(nicknames_enabled=False, invoice_address_enabled=False, crm_enabled=False,
                          files_enabled=True, start_address="")
    demo_store.save_settings(settings, user="admin")
    # (heard at once with DuckDB; PostgreSQL tells every process, this one too, through its listener: the card's
    # sections and then its drawn entries change on the listener's thread, so both are waited for)
    opened = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    eventually(lambda: [s.key for s in card.sections] == [s.key for s in opened.sections]
               and [entry["key"] for entry in card.__panel__().sections] == [s.key for s in opened.sections])
    assert [s.key for s in card.sections] == [s.key for s in opened.sections]
    assert [entry["key"] for entry in card.__panel__().sections] == [s.key for s in opened.sections]
    assert "Secret Nick" not in texts(card.section("header"))
    assert "google.com/maps/dir/" not in texts(card.section("contact"))
    card.section("header").start_edit()
    assert "nickname" not in card.section("header").form.widgets
    assert economy.editing  # what was being typed stays
    card.section("files").open()
    assert card.section("files").built


    settings = demo_store.settings()
    settings.param.update(nicknames_enabled=True, invoice_address_enabled=True, crm_enabled=True,
                          files_enabled=False)
    demo_store.save_settings(settings, user="admin")
    eventually(lambda: "files" not in [s.key for s in card.sections])
    assert [s.key for s in card.sections] == [s.key for s in CustomerCard(
        store=demo_store, customer_id=customer_id, user="anna").sections]

def test_a_section_switched_off_while_its_form_is_open_goes_once_the_form_closes(demo_store, customer_id):
    """The CRM module switched off while an opportunity's form is open: the section stays until the form is closed
    (what was typed is not taken away), then goes; taken off, it draws nothing more as the card saves."""
    from .conftest import eventually

    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    economy = card.section("economy")
    economy.start_edit()
    opportunities = card.section("opportunities")
    opportunities.open()
    opportunities.handle("new-opportunity", {})
    assert opportunities.form_open
    settings = demo_store.settings()
    settings.crm_enabled = False
    demo_store.save_settings(settings, user="admin")
    eventually(lambda: "relations" not in [entry["key"] for entry in card.__panel__().sections])  # (drawn: heard)
    assert card.section("opportunities") is opportunities and opportunities.form_open
    cancel = next(b for b in find(opportunities.view.child, pn.widgets.Button) if b.label == "Cancel")
    cancel.clicks += 1
    assert "opportunities" not in [s.key for s in card.sections]
    assert [entry["key"] for entry in card.__panel__().sections] == [s.key for s in card.sections]
    drawn = opportunities.drawn
    economy.cancel()
    card.customer.phone = "+46 8 123 45 99"
    card.save()
    assert opportunities.drawn == drawn


def test_contact_details_links_and_route(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    c = card.customer
    html = texts(card.section("contact"))
    assert 'href="tel:' in html and f'href="mailto:{c.email}"' in html
    assert "https://www.google.com/maps/dir/?api=1&amp;origin=" in html
    url = route_url("Drottninggatan 1, 111 51 Stockholm", c)
    query = parse_qs(urlparse(url).query)
    assert query["origin"] == ["Drottninggatan 1, 111 51 Stockholm"]
    assert c.visit_address.city in query["destination"][0]
    assert " " not in url and "%2C%20" in url

    settings = demo_store.settings()
    settings.start_address = ""
    demo_store.save_settings(settings, user="admin")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    html = texts(card.section("contact"))
    # Without a start address there is no route to draw, but the address is still on the map.
    assert "google.com/maps/dir/" not in html
    assert "google.com/maps/search/?api=1&amp;query=" in html


def test_user_text_is_escaped(demo_store, customer_id):
    demo_store.add_comment(customer_id, "<script>alert('x')</script><b>bold</b>", user="anna")
    customer = demo_store.get_customer(customer_id)
    customer.name = "<img src=x onerror=alert(1)> AB"
    demo_store.save_customer(customer, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    html = texts(card.section("header")) + texts(card.section("comments"))
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html and "&lt;img src=x" in html


def test_invoice_address_says_same_as_visiting_when_not_used(demo_store, customer_id):
    customer = demo_store.get_customer(customer_id)
    customer.use_invoice_address = False
    demo_store.save_customer(customer, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("invoice_address")
    section.view.collapsed = False
    assert "Same as visiting address" in texts(section)


def test_a_separate_invoice_address_ticked_without_one_is_told_under_the_tick(demo_store, customer_id):
    customer = demo_store.get_customer(customer_id)
    customer.use_invoice_address = False
    customer.invoice_address.param.update(line1="", line2="", postal_code="", city="")
    demo_store.save_customer(customer, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("invoice_address")
    section.view.collapsed = False
    section.start_edit()
    section.form.widgets["use_invoice_address"].value = True
    assert section.save() is False
    assert "Give the invoice address" in section.form.messages["use_invoice_address"].object
    assert not demo_store.get_customer(customer_id).use_invoice_address


def test_read_mode_by_default_and_edit_builds_widgets_from_the_model(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("contact")
    assert not section.editing and section.form is None and not section.form_open and tool_actions(section) == ["edit"]
    section.handle("edit", {})
    form = section.form
    assert section.editing
    assert isinstance(form.widgets["phone"], pn.widgets.TextInput)
    assert form.widgets["phone"].value == card.customer.phone
    assert form.widgets["visit_address.city"].label == "City"
    assert form.widgets["phone"].description == card.customer.param.phone.doc
    economy = card.section("economy")
    economy.start_edit()
    assert isinstance(economy.form.widgets["expenses_billable"], pn.widgets.Checkbox)
    # numbers typed as text and read on the server (the browser's number input drops what it does not take)
    distance = economy.form.widgets["default_distance_km"]
    assert isinstance(distance, pn.widgets.TextInput) and "cc-number" in distance.css_classes
    assert distance.value == number_text(card.customer.default_distance_km)
    assert isinstance(economy.form.widgets["invoicing.payment_term"], pn.widgets.Select)
    terms = economy.form.widgets["invoicing.payment_term"].options
    assert set(demo_store.choices().allowed("payment_terms")) <= set(terms)


def test_bad_input_shows_messages_next_to_fields_and_keeps_what_was_typed(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    before = demo_store.get_customer(customer_id).values()
    section = card.section("contact")
    section.start_edit()
    section.form.widgets["email"].value = "not an address"
    section.form.widgets["phone"].value = "12"
    section.form.widgets["visit_address.city"].value = "Lund"
    assert section.save() is False
    assert section.editing and section.message.startswith("Please correct the marked fields.")
    assert "e-mail" in section.form.messages["email"].object.lower()
    assert "phone" in section.form.messages["phone"].object.lower()
    assert section.form.messages["visit_address.city"].object == ""
    assert section.form.widgets["email"].value == "not an address"
    assert section.form.widgets["visit_address.city"].value == "Lund"
    assert demo_store.get_customer(customer_id).values() == before

    economy = card.section("economy")
    economy.start_edit()
    economy.form.widgets["default_distance_km"].value = "80"
    economy.form.widgets["max_distance_km"].value = "20"
    assert economy.save() is False
    assert "maximum" in economy.form.messages["max_distance_km"].object.lower()
    economy.form.widgets["default_distance_km"].value = "-5"  # out of bounds: a message, nothing saved
    economy.form.widgets["max_distance_km"].value = ""
    assert economy.save() is False
    assert "at least 0" in economy.form.messages["default_distance_km"].object
    assert economy.form.widgets["default_distance_km"].value == "-5"
    assert demo_store.get_customer(customer_id).values() == before


def test_economy_figures_are_shown_and_refused_as_stored(demo_store, customer_id):
    """Distances, the VAT rate and the discount with the decimals they have (a rate printed on every invoice is not
    rounded to one decimal); a refused maximum names two figures that show why."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    economy = card.section("economy")
    economy.start_edit()
    economy.form.widgets["default_distance_km"].value = "12.25"
    economy.form.widgets["max_distance_km"].value = "12.2"
    assert economy.save() is False
    assert "(12.2 km)" in economy.form.messages["max_distance_km"].object
    assert "(12.25 km)" in economy.form.messages["max_distance_km"].object
    economy.form.widgets["max_distance_km"].value = "30.125"
    economy.form.widgets["invoicing.calculate_vat"].value = True
    economy.form.widgets["invoicing.vat_rate"].value = "12.25"
    economy.form.widgets["invoicing.discount_pct"].value = "2.75"
    assert economy.save() is True
    shown = texts(economy)
    for wanted in ("12.25 km", "30.125 km", "Yes, 12.25%", "2.75%"):
        assert wanted in shown, (wanted, shown)
    # the history says what was stored too (a discount of 99.999 was 100.00 there and in the comparison)
    economy.start_edit()
    economy.form.widgets["invoicing.discount_pct"].value = "99.999"
    assert economy.save() is True and "99.999%" in texts(economy)
    groups = card.section("groups")
    groups.open()
    history = texts(groups)
    assert "99.999" in history and "100.00" not in history and "2.75" in history


def test_a_good_save_updates_the_card_and_the_history(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    version = card.customer.version
    section = card.section("contact")
    section.start_edit()
    section.form.widgets["phone"].value = "08-555 123 45"
    assert section.save() is True
    assert not section.editing
    assert card.customer.phone == "+46 8 555 123 45" and card.customer.version == version + 1
    assert "+46 8 555 123 45" in texts(section)
    assert "Anna Berg" in texts(card.section("header"))
    latest = demo_store.history(customer_id).iloc[0]
    assert (latest.field, latest.new_value, latest.changed_by) == ("phone", "+46 8 555 123 45", "anna")


def test_stale_save_shows_the_conflict_and_lets_the_user_choose(demo_store, customer_id):
    mine = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    theirs = CustomerCard(store=demo_store, customer_id=customer_id, user="erik")
    mine.section("contact").start_edit()
    theirs.section("contact").start_edit()
    theirs.section("contact").form.widgets["phone"].value = "08-111 111 11"
    theirs.section("contact").form.widgets["email"].value = "erik@example.se"
    assert theirs.section("contact").save()

    section = mine.section("contact")
    section.form.widgets["phone"].value = "08-222 222 22"
    section.form.widgets["website"].value = "www.mine.se"
    assert section.save() is False
    resolver = section.resolver
    assert resolver is not None and set(resolver.choices) == {"phone"}
    labels = list(resolver.choices["phone"].options)
    assert any("+46 8 111 111 11" in label and "Erik Nilsson" in label for label in labels)
    assert any("08-222 222 22" in label for label in labels)
    assert demo_store.get_customer(customer_id).phone == "+46 8 111 111 11"  # nothing overwritten yet

    resolver.choices["phone"].value = resolver.STORED
    assert section.save() is True
    stored = demo_store.get_customer(customer_id)
    assert stored.phone == "+46 8 111 111 11"       # kept theirs, as chosen
    assert stored.email == "erik@example.se"        # their other change stays
    assert stored.website == "https://www.mine.se"  # my other change lands
    assert mine.customer.version == stored.version


def test_a_save_while_the_conflict_dialog_is_open_shows_the_dialog_again(demo_store, customer_id):
    """Erik saves A, Anna's B meets the conflict; while her dialog is open Erik saves C. Anna's choice was made
    against A: it must not overwrite C, and she is shown C before anything is written."""
    anna = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    erik = CustomerCard(store=demo_store, customer_id=customer_id, user="erik")
    mine = anna.section("contact")
    mine.start_edit()
    erik_contact = erik.section("contact")
    erik_contact.start_edit()
    erik_contact.form.widgets["phone"].value = "08-111 111 11"
    assert erik_contact.save()
    mine.form.widgets["phone"].value = "08-222 222 22"
    assert mine.save() is False and mine.resolver is not None

    erik_contact.start_edit()
    erik_contact.form.widgets["phone"].value = "08-333 333 33"
    assert erik_contact.save()
    assert mine.save() is False  # not "Saved.": the dialog comes back with C
    assert demo_store.get_customer(customer_id).phone == "+46 8 333 333 33"
    labels = list(mine.resolver.choices["phone"].options)
    assert any("+46 8 333 333 33" in label for label in labels)
    assert any("08-222 222 22" in label for label in labels)
    assert mine.save() is True  # chosen again (mine), against C this time
    assert demo_store.get_customer(customer_id).phone == "+46 8 222 222 22"
    changes = demo_store.history(customer_id, field="phone")
    assert list(changes["new_value"][:3]) == ["+46 8 222 222 22", "+46 8 333 333 33", "+46 8 111 111 11"]


def test_a_stale_save_of_other_fields_lands_and_keeps_theirs(demo_store, customer_id):
    mine = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    theirs = CustomerCard(store=demo_store, customer_id=customer_id, user="erik")
    mine.section("header").start_edit()
    theirs.section("contact").start_edit()  # another section of the card, another user
    theirs.section("contact").form.widgets["email"].value = "erik@example.se"
    assert theirs.section("contact").save()
    header = mine.section("header")
    header.form.widgets["nickname"].value = "Our nickname"
    assert header.save() is True  # no field both changed: nothing to choose
    assert header.resolver is None
    stored = demo_store.get_customer(customer_id)
    assert (stored.nickname, stored.email) == ("Our nickname", "erik@example.se")
    assert "Saved. Also changed meanwhile, and kept: E-mail (Erik Nilsson)." in texts(header)
    assert header.message == "Saved. Also changed meanwhile, and kept: E-mail (Erik Nilsson)." and header.form is None
    assert "erik@example.se" in texts(mine.section("contact"))  # the rest of the card shows theirs too
    assert mine.customer.version == stored.version


def test_viewer_sees_no_edit_controls_and_cannot_write(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="vera")
    for section in card.sections:
        section.view.collapsed = False
        assert tool_actions(section) == [], section.key
        assert 'data-action="restore"' not in texts(section) and "new-comment" not in texts(section)
        assert "add-contact" not in texts(section) and "edit-comment" not in texts(section)
    header = card.section("header")
    header.handle("edit", {})
    assert not header.editing
    comments = card.section("comments")
    comments.handle("new-comment", {})
    assert comments.view.child is None
    manager_card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    assert tool_actions(manager_card.section("header")) == ["edit", "merge"]
    # a forged save from the viewer's session is refused by the store
    forged = card.customer.copy()
    forged.name = "Forged AB"
    with pytest.raises(cc.PermissionDenied):
        demo_store.save_customer(forged, user=card.user)


def test_collapsed_state_is_remembered_per_user_and_collapsed_sections_are_not_built(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    economy = card.section("economy")
    assert economy.collapsed and not economy.built and economy.view.html == ""
    economy.view.collapsed = False  # what the header click does
    assert economy.built and "Re-invoicing" in economy.view.html
    card.section("comments").view.collapsed = True

    again = CustomerCard(store=demo_store, customer_id=customer_id + 1, user="anna")  # any card
    assert not again.section("economy").collapsed and again.section("economy").built
    assert again.section("comments").collapsed and not again.section("comments").built
    other_user = CustomerCard(store=demo_store, customer_id=customer_id, user="erik")
    assert other_user.section("economy").collapsed and not other_user.section("comments").collapsed


def test_two_colleagues_of_one_name_are_both_offered_as_a_comments_author(demo_store, customer_id):
    """The list was a dict by name: one of two Erik Nilssons could not be chosen, and choosing the name stamped the
    comment with the other's login."""
    erik = demo_store.get_user("erik")
    demo_store.add_user(cc.User(login="erik2", name=erik.name, role="manager"), "a-long-secret-2", by="admin")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("comments")
    section.handle("new-comment", {})
    author = labelled(section.view.child, "Written by")
    offered = {login: label for label, login in author.options.items()}
    assert offered["erik"] != offered["erik2"] and "erik2" in offered["erik2"]
    body = one(section.view.child, pn.widgets.TextAreaInput, "cc-new-comment")
    assert body.name == "Comment"  # its name, as the edit form's: not only a placeholder gone once typed in
    body.value = "Skrivet av rätt Erik."
    author.value = "erik"
    assert section.add_comment() is True
    comments = demo_store.comments(customer_id)
    assert comments[comments["body"] == "Skrivet av rätt Erik."].iloc[0].author == "erik"


def test_comments_three_newest_show_all_add_and_edit(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("comments")
    total = demo_store.comment_count(customer_id)
    assert texts(section).count('class="cc-comment"') == 3
    assert f"Show all {total} comments" in texts(section)
    section.handle("show-all", {})
    assert texts(section).count('class="cc-comment"') == total and "Show the 3 newest" in texts(section)

    section.handle("new-comment", {})
    form = section.view.child
    body, date, author = (one(form, pn.widgets.TextAreaInput, "cc-new-comment"), labelled(form, "Date"),
                          labelled(form, "Written by"))
    assert date.value == demo_store.firm_today() and author.value == "anna"  # today where the firm is
    assert (date.start, date.end) == cc.models.comment_dates(demo_store.firm_today())  # the days a comment may have
    body.value = "   "
    assert section.add_comment() is False and "Write something" in pane_text(form, "cc-comment-message")
    body.value = "Met them at the fair."
    date.value = dt.date(2026, 1, 5)
    author.value = "erik"
    assert section.add_comment() is True
    assert "Comment added." in texts(section) and section.view.child is None
    newest = demo_store.comments(customer_id)
    added = newest[newest["body"] == "Met them at the fair."].iloc[0]
    assert added.author == "erik" and added.created_by == "anna"
    assert pd.Timestamp(added.written_on).date() == dt.date(2026, 1, 5)
    assert "Met them at the fair." in texts(section)

    comment_id = int(newest.iloc[0].id)
    section.handle("edit-comment", {"id": str(comment_id)})
    section.editor.widgets["body"].value = "Corrected text."
    find(section.view.child, pn.widgets.Button, "cc-comment-editor-save")[0].clicks += 1
    edited = demo_store.get_comment(comment_id)
    assert edited.body == "Corrected text." and edited.edited_by == "anna" and edited.edited_at is not None
    assert "edited by Anna Berg" in texts(section)

    other = demo_store.comments(rich_customers(demo_store)[1]).iloc[0]
    section.handle("edit-comment", {"id": str(int(other.id))})  # another customer's comment: ignored
    assert section.view.child is None


def test_inactive_contacts_toggle(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("contacts")
    active = demo_store.contacts(customer_id)
    everyone = demo_store.contacts(customer_id, include_inactive=True)
    inactive = everyone[~everyone["active"]].iloc[0]
    html = texts(section)
    assert inactive.last_name not in html or inactive.first_name not in html
    assert f"/contact?contact={int(active.iloc[0].id)}" in html
    section.show_inactive = True
    html = texts(section)
    assert f"/contact?contact={int(inactive.id)}" in html and "(inactive)" in html


def test_project_links_only_with_projects_access(demo_store, customer_id):
    project = demo_store.projects(customer_id).iloc[0]
    with_access = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    without = CustomerCard(store=demo_store, customer_id=customer_id, user="erik")
    for card in (with_access, without):
        card.section("projects").open()
    assert f'href="/project?project={int(project.id)}"' in texts(with_access.section("projects"))
    html = texts(without.section("projects"))
    assert "/project?project=" not in html and project["name"] in html
    # an administrator takes Anna's projects access away while her card is open: its links go
    from .conftest import eventually

    anna = demo_store.get_user("anna")
    anna.projects_access = False
    demo_store.update_user(anna, by="admin")
    try:
        eventually(lambda: "/project?project=" not in texts(with_access.section("projects")))
    finally:
        anna = demo_store.get_user("anna")
        anna.projects_access = True
        demo_store.update_user(anna, by="admin")


def test_invoiced_chart_and_figures(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("invoiced")
    figures = section.figures()
    assert figures["year"].is_monotonic_increasing
    assert list(figures["year"]) == list(range(figures["year"].min(), dt.date.today().year + 1))
    raw = demo_store.invoiced_per_year(customer_id)
    assert figures["amount"].sum() == pytest.approx(raw["amount"].sum())
    html = texts(section)
    assert "Total" in html and "SEK\u00a0" in html  # in English: 'SEK 2,122,640' (Swedish: '2 122 640 kr')
    chart = section.chart  # one bar per year from the first invoiced one to this year, drawn on a canvas
    assert '<canvas class="cc-chart"' in section.view.html and "webgl" not in section.view.html.lower()
    drawn = dict(zip(chart["years"], chart["series"][0]["amounts"], strict=True))
    assert chart["series"][0]["name"] == "Invoiced"
    assert {int(y): a for y, a in drawn.items()} == {int(r.year): pytest.approx(r.amount) for r in figures.itertuples()}
    assert chart["lo"] <= 0 <= max(drawn.values()) <= chart["hi"]  # the y axis holds every bar
    assert section.view.child is None  # the year's invoices go under the chart once a year is chosen


def test_a_year_only_the_pipeline_has_shows_no_change_against_invoicing(demo_store, customer_id):
    import re

    next_year = dt.date.today().year + 1
    opportunity = demo_store.new_opportunity(customer_id, owner="anna")
    opportunity.param.update(title="Next year's audit", amount=100_000, probability=50,
                             expected_close=dt.date(next_year, 3, 1))
    demo_store.create_opportunity(opportunity, user="anna")
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("invoiced")
    section.open()
    rows = {re.sub(r"<[^>]+>", "", row[0]): [re.sub(r"<[^>]+>", "", cell) for cell in row[1:]]
            for row in re.findall(r"<tr[^>]*>((?:\s*<t[dh][^>]*>.*?</t[dh]>)+)\s*</tr>", texts(section), re.S)
            for row in [re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]}
    assert rows[str(next_year)][1] == ""  # nothing invoiced yet in a year to come: no '-100 %'
    if section.figures().set_index("year")["amount"].get(next_year - 2):  # this year against the last: a change
        assert rows[str(next_year - 1)][1].endswith("%")


def test_notebook_edits_through_the_param_object_show_in_the_card(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id)  # the configured user (anna)
    assert card.user == "anna"
    card.customer.phone = "+46 8 999 88 77"
    assert "+46 8 999 88 77" in texts(card.section("contact"))
    card.customer.visit_address.city = "Kiruna"
    assert "Kiruna" in texts(card.section("contact"))
    saved = card.save()
    assert saved.version == card.customer.version and demo_store.get_customer(customer_id).phone == "+46 8 999 88 77"


def test_a_restore_is_no_colleagues_change_to_the_users_own_open_form(demo_store, customer_id):
    """A restore from the history is this user's own write: heard while it was made (at once, outside a server), it
    marked their open Edit form "Changed meanwhile by" themselves; it is shown once made, as their own."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    header = card.section("header")
    header.start_edit()
    header.form.widgets["name"].value = "Renamed For A Restore AB"
    assert header.save()
    header.start_edit()  # open again, as typed into
    groups = card.section("groups")
    groups.open()
    change = demo_store.history(customer_id, field="name").iloc[0]
    groups.handle("restore", {"id": str(int(change.change_id))})
    assert "Restored" in texts(groups)
    assert not any(note.object for note in header.form.notices.values()), {
        field: note.object for field, note in header.form.notices.items() if note.object}
    header.cancel()


def test_history_filter_and_restore(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    original = card.customer.name
    section = card.section("header")
    section.start_edit()
    section.form.widgets["name"].value = "Renamed Holding AB"
    assert section.save()
    groups = card.section("groups")
    groups.open()
    groups.handle("history-field", {"value": "name"})
    html = texts(groups)
    assert '<option value="name" selected>' in html and "Renamed Holding AB" in html
    assert "Phone (create)" not in html
    change = demo_store.history(customer_id, field="name").iloc[0]
    assert f'data-action="restore" data-id="{int(change.change_id)}"' in html
    groups.handle("restore", {"id": str(int(change.change_id))})
    assert card.customer.name == original
    assert demo_store.get_customer(customer_id).name == original
    assert demo_store.history(customer_id, field="name").iloc[0].kind == "restore"
    assert "Restored" in texts(groups)
    assert "Renamed Holding AB" not in texts(card.section("header"))
    groups.handle("restore", {"id": "not a number"})  # forged or broken messages do nothing
    groups.handle("drop-table", {"id": "1"})
    other = rich_customers(demo_store)[1]
    foreign = demo_store.history(other).iloc[0]
    groups.handle("restore", {"id": str(int(foreign.change_id))})  # another customer's change: refused
    assert "No change" in texts(groups)


def test_segments_are_edited_in_groups(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    groups = card.section("groups")
    groups.handle("edit", {})
    form = groups.form
    assert isinstance(form.widgets["Services"], pn.widgets.MultiChoice)
    assert isinstance(form.widgets["Size"], pn.widgets.Select)
    form.widgets["Services"].value = ["Audit", "IT"]
    form.widgets["Size"].value = "Enterprise"
    assert groups.save()
    stored = demo_store.get_customer(customer_id).segments
    assert sorted(stored["Services"]) == ["Audit", "IT"] and stored["Size"] == ["Enterprise"]
    assert "Enterprise" in texts(groups)


def test_a_save_leaves_the_chart_as_it_is_so_the_card_is_not_drawn_again(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id)
    section = card.section("invoiced")
    section.view.collapsed = False
    drawn, html = section.drawn, section.view.html
    card.customer.phone = "+46 8 555 44 33"
    card.save()
    assert section.drawn == drawn and section.view.html is html  # a customer's save is not the chart's business
    listing = section.show_year(int(section.chart["years"][-1]))  # a year's invoices: under the chart, as is
    assert section.view.child is listing.__panel__() and section.view.html is html
    assert card.__panel__().objects.count(listing.__panel__()) == 1
    section.render()  # figures read again: the list stays under the chart
    assert section.view.child is listing.__panel__() and 'class="cc-child-slot"' in section.view.html
    section.show_year(None)
    assert section.view.child is None and section.year is None


def test_browser_messages_are_handled_one_by_one(demo_store, customer_id):
    from panel.models.reactive_html import DOMEvent

    card = CustomerCard(store=demo_store, customer_id=customer_id)
    view = card.__panel__()
    comments, contacts = card.section("comments"), card.section("contacts")
    before = (comments.collapsed, contacts.collapsed)
    for key in ("comments", "contacts"):  # two folds sent together both arrive (as DOM events, through Panel)
        view._process_event(DOMEvent(model=None, node="ccroot", data={"type": "ccmsg", "detail": {
            "section": key, "toggle": not (comments if key == "comments" else contacts).collapsed}}))
    assert (comments.collapsed, contacts.collapsed) == (not before[0], not before[1])
    view._process_event(DOMEvent(model=None, node="ccroot", data={"type": "ccmsg", "detail": "not a message"}))
    view.receive("not a message either")
    assert (comments.collapsed, contacts.collapsed) == (not before[0], not before[1])
    view.receive({"section": "comments", "toggle": before[0]})  # what a notebook can send
    assert comments.collapsed == before[0]


def test_histories_show_labels_and_no_missing_value_markers(demo_store, customer_id):
    from customercard.ui.contact import ContactCard
    from customercard.ui.html import esc

    assert esc(float("nan")) == "" and esc(pd.NA) == "" and esc(None) == "" and esc(0) == "0"
    groups = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("groups")
    groups.open()
    html = texts(groups)
    assert "(create)" in html and ">nan<" not in html  # a created field has no old value, not 'nan'
    contact = demo_store.create_contact(cc.Contact(customer_id=customer_id, first_name="Ina", last_name="Ek"),
                                        user="anna")
    contact.active, contact.notes = False, "x" * 300
    demo_store.save_contact(contact, user="anna")
    history = ContactCard(store=demo_store, contact_id=contact.id, user="anna").history_html()
    assert "First name (create)" in history and "<td>Active</td><td>Yes</td><td>No</td>" in history
    assert "first_name" not in history and ">nan<" not in history and "<td>Notes</td>" in history


def test_numbers_are_read_as_people_type_them():
    assert read_number("1,234.50") == 1234.5 and read_number("1,234") == 1234.0  # English: a comma groups digits
    assert read_number("1234.5") == 1234.5 and read_number("-5") == -5.0 and read_number(" 80 ") == 80.0
    assert read_number("") is None and read_number("12x") == "12x"  # the model then says what is wrong
    assert read_number("12", integer=True) == 12 and read_number("1,5") == "1,5"  # never misread as 1.5
    assert number_text(250000.0) == "250000" and number_text(12.5) == "12.5" and number_text(None) == ""
    for language in ("sv", "da"):
        with using_language(language):
            assert read_number("1 234,50") == 1234.5 and read_number("1\u00a0234,5") == 1234.5
            assert read_number("1.234,50") == 1234.5 and read_number("12,5", integer=True) == "12,5"
            assert number_text(12.5) == "12,5" and read_number(number_text(1234.5)) == 1234.5


def test_a_number_typed_the_swedish_way_is_saved_as_meant(demo_store, customer_id):
    with using_language("sv"):
        economy = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("economy")
        economy.start_edit()
        economy.form.widgets["default_distance_km"].value = "1 234,5"
        economy.form.widgets["max_distance_km"].value = ""
        assert economy.save() is True
        assert demo_store.get_customer(customer_id).default_distance_km == 1234.5
        economy.start_edit()
        assert economy.form.widgets["default_distance_km"].value == "1234,5"
    economy = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("economy")
    economy.start_edit()
    assert economy.form.widgets["default_distance_km"].value == "1234.5"  # in English
    economy.form.widgets["default_distance_km"].value = "many"
    assert economy.save() is False
    assert "number" in economy.form.messages["default_distance_km"].object


def test_administrators_link_and_unlink_the_economy_system_on_the_card(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="admin")
    groups = card.section("groups")
    groups.open()
    assert 'data-action="erp-link"' in texts(groups)
    groups.handle("erp-link", {"version": str(card.customer.version)})
    groups.editor.widgets["erp_system"].value = "Fortnox"
    groups.editor.widgets["erp_customer_id"].value = "FN-77"
    assert groups.editor.save()
    stored = demo_store.get_customer(customer_id)
    assert (stored.erp_system, stored.erp_customer_id) == ("Fortnox", "FN-77")
    assert "Fortnox" in texts(groups) and 'data-action="erp-unlink"' in texts(groups)
    history = demo_store.history(customer_id)
    assert history["new_value"].iloc[0] in ("Fortnox", "FN-77") and "erp_customer_id" in set(history["field"][:2])
    assert demo_store.admin_log(5)["area"].iloc[0] == "Economy system"
    stale = card.customer.version - 1
    groups.handle("erp-unlink", {"version": str(stale)})  # drawn before the link: refused
    assert demo_store.get_customer(customer_id).is_linked
    groups.handle("erp-unlink", {"version": str(card.customer.version)})
    assert not demo_store.get_customer(customer_id).is_linked
    manager = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("groups")
    manager.open()
    assert 'data-action="erp-link"' not in texts(manager)
    with pytest.raises(cc.PermissionDenied):
        demo_store.link_customer(customer_id, "Fortnox", "FN-1", user="anna")
    with pytest.raises(cc.ValidationError):
        demo_store.link_customer(customer_id, "Fortnox", "", user="admin")


def test_the_crm_module_switch_hides_relations_events_opportunities(demo_store, customer_id):
    settings = demo_store.settings()
    settings.crm_enabled = False
    demo_store.save_settings(settings, user="admin")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    keys = [s.key for s in card.sections]
    assert not {"relations", "events", "opportunities"} & set(keys)
    invoiced = card.section("invoiced")
    invoiced.open()
    assert "cc-pipeline-note" not in texts(invoiced)
    settings = demo_store.settings()
    settings.crm_enabled = True
    demo_store.save_settings(settings, user="admin")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    opportunities = card.section("opportunities")
    opportunities.open()
    assert 'href="/pipeline"' in texts(opportunities)  # "See also: managing the pipeline"


def test_a_card_view_holding_its_sections_draws_their_changes_once():
    from customercard.ui.components import CardView, SectionSlot

    slots = [SectionSlot(key=f"s{i}", title=f"Section {i}") for i in range(4)]
    view = CardView(slots=slots)
    updates = []
    view.param.watch(lambda event: updates.append(event.new), "sections")
    with view.holding():
        for i, slot in enumerate(slots):
            slot.html = f"<p>body {i}</p>"
        assert updates == []  # nothing drawn while held
    assert len(updates) == 1 and [entry["html"] for entry in updates[0]] == [f"<p>body {i}</p>" for i in range(4)]
    slots[0].html = "<p>again</p>"  # not held: drawn at once
    assert len(updates) == 2 and updates[1][0]["html"] == "<p>again</p>"


def test_a_card_view_keeps_its_children_while_held_places_fill_and_sections_go():
    """The browser draws the whole card again when the card's Panel children change: a held section's first child
    gets it a place (once), later forms come and go in that place, a section taken off leaves its (emptied) place,
    and a section switched on comes without a new child; a form shown as a child of its own (not held) is a new child
    each time."""
    held = [SectionSlot(key=f"h{i}", title=f"Held {i}", held=True) for i in range(3)]
    plain = SectionSlot(key="plain", title="Plain")
    view = CardView(slots=[*held, plain])
    assert view.objects == []  # (an empty place costs a card's open: none until needed)
    form = pn.Column(pn.widgets.TextInput(label="What"))
    held[1].child = form
    first = list(view.objects)
    assert len(first) == 1 and first[0].objects == [form]
    held[1].child = None
    assert view.objects == first and not first[0].objects
    held[1].child = pn.Column()
    assert view.objects == first and first[0].objects == [held[1].child]
    held[0].child = form
    places = list(view.objects)
    assert len(places) == 2 and places[1] is first[0]
    assert [entry["child"] for entry in view.sections] == [0, 1, -1, -1]
    later = SectionSlot(key="later", title="Switched on", held=True)
    view.show([held[0], held[2], plain, later])  # one taken off, one switched on: the children stay
    assert view.objects == places and [entry["key"] for entry in view.sections] == ["h0", "h2", "plain", "later"]
    assert [entry["child"] for entry in view.sections] == [0, -1, -1, -1] and not places[1].objects
    later.child = pn.Column()  # its first child: a place now (a new child of the card, once; the spare one goes)
    assert len(view.objects) == 2 and view.objects[0] is places[0]
    assert view.objects[view.sections[3]["child"]].objects == [later.child]
    plain.child = pn.Column()
    assert plain.child in view.objects


def test_rows_of_gives_a_frames_rows_as_itertuples_does():
    import numpy as np
    import pandas as pd

    from customercard.ui.html import rows_of

    frame = pd.DataFrame({"id": [1, 2], "when": pd.to_datetime(["2024-01-01", None]), "name": ["a", None],
                          "amount": [1.5, np.nan], "done": [True, False], "class": ["x", "y"]})
    for mine, theirs in zip(rows_of(frame), frame.itertuples(index=False), strict=True):
        assert (mine.id, mine.done) == (theirs.id, theirs.done)  # by name, as sections read
        for name, a, b in zip(frame.columns, mine, theirs, strict=True):
            if name == "name" and pd.isna(b):  # a missing text is None (pandas' NaN showed as "NaN")
                assert a is None
                continue
            assert type(a) is type(b) and (a == b or (pd.isna(a) and pd.isna(b)))
    assert list(rows_of(frame.iloc[0:0])) == []


def test_a_refused_restore_names_the_field_by_its_label_not_its_key(demo_store, customer_id):
    """Restoring a largest distance of 50 km once the default distance is 55: refused, said with the field's label
    as the form shows it ("Max … distance: …"), never the key max_distance_km."""
    customer = demo_store.get_customer(customer_id)
    customer.default_distance_km, customer.max_distance_km = 40.0, 50.0
    demo_store.save_customer(customer, user="anna")
    customer = demo_store.get_customer(customer_id)
    customer.max_distance_km = 100.0
    demo_store.save_customer(customer, user="anna")
    customer = demo_store.get_customer(customer_id)
    customer.default_distance_km = 55.0
    demo_store.save_customer(customer, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    groups = card.section("groups")
    groups.open()
    history = demo_store.history(customer_id, field="max_distance_km")
    set_to_50 = history[history["old_value"] == "50"].iloc[0]  # (a restore puts back what it was before)
    groups.handle("restore", {"id": str(int(set_to_50.change_id))})
    import re

    said = " ".join(re.findall(r'<p class="cc-note bad"[^>]*>(.*?)</p>', texts(groups)))
    assert demo_store.get_customer(customer_id).max_distance_km == 100.0 and "55" in said
    assert "max_distance_km" not in said and card.customer.label("max_distance_km") in said, said


def test_a_stored_value_the_model_refuses_is_said_in_its_section_and_the_rest_of_the_card_shows(demo_store,
                                                                                                 customer_id):
    """A row written by another program (or before a rule was tightened) with a VAT rate of 250 %: the whole card
    was "This page could not be shown" (and the message meant for it failed itself). Now the card shows, the
    Economy section names the value it cannot read, a save of another field leaves it stored, and a value set for
    it replaces it."""
    demo_store.db.execute("UPDATE customers SET vat_rate = 250 WHERE id = ?", [customer_id])
    demo_store.forget_cached()
    customer = demo_store.get_customer(customer_id)
    assert list(customer.unreadable) == ["invoicing.vat_rate"]
    assert float(customer.unreadable["invoicing.vat_rate"]) == 250
    assert customer.invoicing.vat_rate == 25.0  # the default, as the form shows it
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    for section in card.sections:
        section.open()
        assert "could not be shown" not in texts(section), section.key
    economy = texts(card.section("economy"))
    assert "cannot read" in economy and "VAT rate (%)" in economy and "250" in economy
    assert "cannot read" not in texts(card.section("contact"))

    customer.phone = "+46 8 555 12 12"
    demo_store.save_customer(customer, user="anna")
    assert demo_store.db.row("SELECT vat_rate FROM customers WHERE id = ?", [customer_id])[0] == 250  # untouched
    again = demo_store.get_customer(customer_id)
    assert again.phone == "+46 8 555 12 12" and "invoicing.vat_rate" in again.unreadable
    again.invoicing.vat_rate = 12.0
    demo_store.save_customer(again, user="anna")
    fixed = demo_store.get_customer(customer_id)
    assert fixed.unreadable == {} and fixed.invoicing.vat_rate == 12.0

    # the default it is shown as, saved from its own section: written (a save compared it with that default)
    demo_store.db.execute("UPDATE customers SET vat_rate = 250 WHERE id = ?", [customer_id])
    demo_store.forget_cached()
    economy = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("economy")
    economy.open()
    economy.start_edit()
    assert economy.save()
    assert demo_store.db.row("SELECT vat_rate FROM customers WHERE id = ?", [customer_id])[0] == 25
    assert demo_store.get_customer(customer_id).unreadable == {}


def test_the_list_beside_an_open_form_shows_a_colleague_s_change(demo_store, customer_id):
    """While "New comment…" (or a comment's editor, or an opportunity's form) was open, the list beside it kept
    what it showed when the form opened: a colleague's comment never appeared until the form closed. The list
    shows the new values; the form keeps what was typed."""
    from customercard.ui.html import esc

    from .conftest import eventually

    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    comments = card.section("comments")
    comments.open()
    comments.handle("new-comment", {})
    typed = next(w for w in comments.view.child.select(pn.widgets.TextAreaInput))
    typed.value = "Anna's half-written note"
    demo_store.add_comment(customer_id, "Erik's note from the meeting", user="erik")
    eventually(lambda: "Erik&#x27;s note from the meeting" in comments.view.html
               or "Erik's note from the meeting" in comments.view.html)
    assert typed.value == "Anna's half-written note" and comments.form_open
    opportunities = card.section("opportunities")
    opportunities.open()
    opportunities.handle("new-opportunity", {})
    theirs = demo_store.new_opportunity(customer_id, owner="erik")
    theirs.title = "Erik's new lead"
    demo_store.create_opportunity(theirs, user="erik")
    eventually(lambda: "Erik&#x27;s new lead" in opportunities.view.html
               or "Erik's new lead" in opportunities.view.html)
    assert opportunities.form_open
    # the same beside "Add relation…" and "Add contact person" (their lists said "No relations." under a refusal
    # naming the relation a colleague had just made)
    relations = card.section("relations")
    relations.open()
    relations.handle("add-relation", {})
    other = next(int(i) for i in demo_store.list_customers(limit=5)[0]["id"] if int(i) != customer_id)
    demo_store.add_relation(cc.Relation(customer_id=other, relation_type="Partner of", other_customer_id=customer_id),
                            user="erik")
    other_name = demo_store.get_customer(other).name
    eventually(lambda: esc(other_name) in relations.view.html)
    assert relations.form_open
    contacts = card.section("contacts")
    contacts.open()
    contacts.handle("add-contact", {})
    demo_store.create_contact(cc.Contact(customer_id=customer_id, first_name="Zelda", last_name="Newcomer"),
                              user="erik")
    eventually(lambda: "Zelda Newcomer" in contacts.view.html)
    assert contacts.form_open
