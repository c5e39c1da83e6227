"""The card's customer sections edit through the one record editor (RecordEditor), and a save draws again only
the sections that show what it changed: counted on the sections themselves (``Section.drawn``: each drawing reads
what the section shows from the store) and on the store's own change feed, with a real store."""

from __future__ import annotations

import panel as pn
import pytest

from customercard.errors import ConflictError
from customercard.ui.card import CustomerCard
from customercard.ui.editor import CustomerEditor

from .conftest import eventually, rich_customers
from .ui_support import find, one

#: The sections a change to the customer's own fields concerns (they show its fields, its history or timeline).
SHOW_THE_CUSTOMER = {"header", "contact", "invoice_address", "economy", "groups", "activity"}
#: The sections listing records of their own: a change to the customer's phone is none of their business.
LIST_OTHER_RECORDS = {"comments", "follow_ups", "contacts", "projects", "invoiced", "relations", "events",
                      "opportunities"}


@pytest.fixture
def customer_id(demo_store) -> int:
    return rich_customers(demo_store)[0]


def open_card(store, customer_id: int, user: str = "anna") -> CustomerCard:
    """A card with every section unfolded (and so built and drawn once)."""
    card = CustomerCard(store=store, customer_id=customer_id, user=user)
    for section in card.sections:
        section.open()
    assert all(section.built for section in card.sections)
    return card


def drawings(card: CustomerCard) -> dict[str, int]:
    return {section.key: section.drawn for section in card.sections}


def changed_since(card: CustomerCard, before: dict[str, int]) -> set[str]:
    """The sections drawn again since ``before``."""
    return {key for key, drawn in drawings(card).items() if drawn != before[key]}


def test_a_phone_change_draws_the_customer_sections_once_and_the_lists_not_at_all(demo_store, customer_id):
    card = open_card(demo_store, customer_id)
    assert {s.key for s in card.sections} == SHOW_THE_CUSTOMER | LIST_OTHER_RECORDS
    heard = []
    stop = demo_store.changes.subscribe(lambda change: heard.append(change))  # noqa: PLW0108 - a bound builtin is not weakly referable
    try:
        contact = card.section("contact")
        contact.start_edit()
        assert isinstance(contact.customer_editor, CustomerEditor)
        before = drawings(card)
        contact.form.widgets["phone"].value = "08-555 123 45"
        assert contact.save() is True
        eventually(lambda: heard)  # (on PostgreSQL the change comes back as a NOTIFY, after the card heard it)
    finally:
        stop()
    after = drawings(card)
    assert [(c.kind, c.id) for c in heard] == [("customer", customer_id)]  # one change, of the customer
    assert {key: after[key] - before[key] for key in LIST_OTHER_RECORDS} == dict.fromkeys(LIST_OTHER_RECORDS, 0)
    assert {key: after[key] - before[key] for key in SHOW_THE_CUSTOMER} == dict.fromkeys(SHOW_THE_CUSTOMER, 1)
    assert "+46 8 555 123 45" in contact.view.html and contact.message == "Saved."


def test_someone_elses_comment_draws_the_comments_and_the_timeline_only(demo_store, customer_id):
    card = open_card(demo_store, customer_id)
    before = drawings(card)
    demo_store.add_comment(customer_id, "Called about the renewal.", user="erik")
    eventually(lambda: changed_since(card, before) == {"comments", "activity"})
    assert "Called about the renewal." in card.section("comments").view.html


def test_someone_elses_follow_up_draws_the_follow_ups_and_the_timeline_only(demo_store, customer_id):
    card = open_card(demo_store, customer_id)
    before = drawings(card)
    follow_up = demo_store.new_follow_up(customer_id, owner="erik")
    follow_up.what = "Ask about the renewal"
    demo_store.add_follow_up(follow_up, user="erik")
    eventually(lambda: changed_since(card, before) == {"follow_ups", "activity"})
    assert "Ask about the renewal" in card.section("activity").view.html


def test_someone_elses_save_while_a_form_is_open_draws_the_read_views_and_keeps_the_form(demo_store, customer_id):
    card = open_card(demo_store, customer_id)
    contact = card.section("contact")
    contact.start_edit()
    contact.form.widgets["website"].value = "www.mine.se"
    before = drawings(card)
    stored = demo_store.get_customer(customer_id)
    stored.nickname = "Erik's name for it"
    demo_store.save_customer(stored, user="erik")
    eventually(lambda: changed_since(card, before) == SHOW_THE_CUSTOMER - {"contact"})  # the form is not drawn over
    assert contact.editing and contact.form.widgets["website"].value == "www.mine.se"
    assert contact.save() is True  # no field both changed: mine lands on top of theirs
    assert contact.message == "Saved. Also changed meanwhile, and kept: Nickname (Erik Nilsson)."
    stored = demo_store.get_customer(customer_id)
    assert (stored.website, stored.nickname) == ("https://www.mine.se", "Erik's name for it")


def test_cancel_leaves_the_customer_as_stored_and_closes_the_editor(demo_store, customer_id):
    card = open_card(demo_store, customer_id)
    economy = card.section("economy")
    economy.start_edit()
    economy.form.widgets["default_distance_km"].value = "42"
    version = demo_store.get_customer(customer_id).version
    economy.cancel()
    assert not economy.editing and economy.customer_editor is None and economy.form is None
    assert demo_store.get_customer(customer_id).version == version


def test_the_contact_edit_form_is_light(demo_store, customer_id):
    """Edit → a form ready to type in: the contact details' eleven fields make eleven inputs in their cells, a grid,
    the editor's column and its buttons — no tooltip and HTML model per field's help, no message pane before there
    is a message, no wrapper around the editor (it was 55 Bokeh models; the browser built each of them before the
    first field took the focus)."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    contact = card.section("contact")
    contact.start_edit()
    root = contact.view.child.get_root()
    models = list(root.references())
    inputs = [m for m in models if type(m).__name__ == "TextInput"]
    assert len(inputs) == len(contact.edit_fields) == 11
    assert len(models) <= 34, sorted(type(m).__name__ for m in models)
    phone = next(m for m in inputs if m.title == "Phone")
    assert phone.description == card.customer.param.phone.doc  # the help, as plain text on the field itself


def test_a_notice_under_a_field_leaves_its_widget_in_place(demo_store, customer_id):
    """Someone's save noticed while the user types: the note is text in the form's grid and the widgets stay its
    children as they were (a widget moved into a new layout, or a new child of the grid, would make the browser
    draw them anew and take the focus and the typing away)."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    contact = card.section("contact")
    contact.start_edit()
    form = contact.form
    grid = form.__panel__()
    children_before = list(grid.objects)
    stored = demo_store.get_customer(customer_id)
    stored.phone = "08-444 444 44"
    demo_store.save_customer(stored, user="erik")
    eventually(lambda: "+46 8 444 444 44" in form.notices["phone"].text)
    assert form.__panel__() is grid
    assert all(a is b for a, b in zip(grid.objects, children_before, strict=True))
    assert form.widgets["phone"] in grid.objects
    cells = {cell["css"]: cell for cell in grid.cells}
    assert "+46 8 444 444 44" in cells["cc-field-phone"]["notice"] and cells["cc-field-email"]["notice"] == ""


def test_a_conflict_met_again_shows_one_dialog_with_the_new_values(demo_store, customer_id):
    anna, erik = (CustomerCard(store=demo_store, customer_id=customer_id, user=u) for u in ("anna", "erik"))
    mine, theirs = anna.section("contact"), erik.section("contact")
    mine.start_edit()
    for phone in ("08-111 111 11", "08-333 333 33"):
        theirs.start_edit()
        theirs.form.widgets["phone"].value = phone
        assert theirs.save()
        mine.form.widgets["phone"].value = "08-222 222 22"
        assert mine.save() is False
    dialogs = find(mine.view.child, pn.Column, "cc-conflict")
    assert len(dialogs) == 1 and dialogs[0] is mine.resolver.__panel__()
    assert any("+46 8 333 333 33" in label for label in mine.resolver.choices["phone"].options)


def test_a_message_of_an_earlier_refusal_goes_when_the_next_save_meets_a_conflict(demo_store, customer_id):
    anna, erik = (CustomerCard(store=demo_store, customer_id=customer_id, user=u) for u in ("anna", "erik"))
    mine, theirs = anna.section("contact"), erik.section("contact")
    mine.start_edit()
    mine.form.widgets["email"].value = "not an address"
    assert mine.save() is False and mine.form.messages["email"].object  # told under the field
    theirs.start_edit()
    theirs.form.widgets["email"].value = "theirs@example.org"
    assert theirs.save()
    mine.form.widgets["email"].value = "ok@example.org"
    assert mine.save() is False and mine.resolver is not None  # now a conflict on the e-mail
    assert not mine.form.messages["email"].object  # the old "not a valid address" is gone
    assert "Someone saved this customer while" in mine.resolver.__panel__().objects[0].object


def test_the_save_button_draws_the_customer_sections_once(demo_store, customer_id):
    """Save clicked (the button's own handler, as in a notebook's live view): the same single drawing."""
    card = open_card(demo_store, customer_id)
    contact = card.section("contact")
    contact.start_edit()
    before = drawings(card)
    contact.form.widgets["phone"].value = "08-555 765 43"
    save_button = one(contact.view.child, pn.widgets.Button, "cc-save")
    save_button.clicks += 1
    eventually(lambda: changed_since(card, before) == SHOW_THE_CUSTOMER)
    assert {key: drawn - before[key] for key, drawn in drawings(card).items() if key in SHOW_THE_CUSTOMER} == \
        dict.fromkeys(SHOW_THE_CUSTOMER, 1)
    assert demo_store.get_customer(customer_id).phone == "+46 8 555 765 43"


def test_edit_and_cancel_change_what_the_sections_holder_holds_and_not_the_cards_children(demo_store, customer_id):
    """The card's browser component draws everything again when its children change (every section, the chart):
    Edit, Cancel and Save change only what the section's holder holds."""
    card = open_card(demo_store, customer_id)
    view = card.__panel__()
    children = list(view.objects)
    contact = card.section("contact")
    holder = contact.view.child
    assert holder is not None and not holder.objects and not contact.form_open
    contact.start_edit()
    assert contact.view.child is holder and holder.objects == [contact.customer_editor.__panel__()]
    assert contact.form_open and all(a is b for a, b in zip(view.objects, children, strict=True))
    contact.cancel()
    assert contact.view.child is holder and not holder.objects and not contact.form_open
    contact.start_edit()
    contact.form.widgets["phone"].value = "08-555 123 46"
    assert contact.save() is True
    assert contact.view.child is holder and not holder.objects
    assert all(a is b for a, b in zip(view.objects, children, strict=True))


def test_a_viewer_has_no_holder(demo_store, customer_id):
    """Someone who may not change the customer gets no Edit and no holder (nothing more in the page)."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="vera")
    assert card.section("contact").view.child is None


def test_a_field_that_is_zero_or_unticked_is_not_mine_until_i_change_it(demo_store):
    """Erik ticks "Expenses billable" (it was unticked) while Maria edits the distance in the same section: her save
    keeps his change and writes hers — no conflict claims she changed a field that was 0 or unticked, and his
    value is not written back."""
    customer_id = int(demo_store.sql("SELECT id FROM customers WHERE NOT expenses_billable AND discount_pct = 0 "
                                     "AND NOT archived AND max_distance_km > 10 AND default_distance_km <> 5 "
                                     "ORDER BY id LIMIT 1")["id"][0])
    maria, erik = (CustomerCard(store=demo_store, customer_id=customer_id, user=u) for u in ("maria", "erik"))
    mine, theirs = maria.section("economy"), erik.section("economy")
    mine.start_edit()
    theirs.start_edit()
    assert mine.form.changed(mine.customer_editor.original) == {}  # nothing typed, nothing changed
    theirs.form.widgets["expenses_billable"].value = True
    assert theirs.save()
    mine.form.widgets["default_distance_km"].value = "5"
    assert mine.save(), mine.message
    assert mine.resolver is None
    stored = demo_store.get_customer(customer_id)
    assert stored.expenses_billable is True and stored.default_distance_km == 5


def test_the_account_manager_is_chosen_by_name_and_stored_as_a_login(demo_store, customer_id):
    from customercard.ui.new_customer import NewCustomer

    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    header = card.section("header")
    header.start_edit()
    chooser = header.form.widgets["account_manager"]
    assert "Erik Nilsson" in chooser.options and "erik" not in chooser.options  # names, as the read view says
    chooser.value = chooser.options["Erik Nilsson"]
    assert header.save(), header.message
    assert demo_store.get_customer(customer_id).account_manager == "erik"
    new = NewCustomer(store=demo_store, user="anna")
    assert "Anna Berg" in new.form.widgets["account_manager"].options


def test_a_notebook_cards_unsaved_edits_survive_someone_elses_save(demo_store, customer_id):
    """In a notebook: card.customer.phone = …, then a colleague saves the customer. A field they did not touch
    stays as the analyst set it, on top of their save (and card.save() writes it); a field they changed too is
    not taken over silently: card.save() meets the conflict, and nothing of the analyst's is lost or written."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    card.customer.phone = "+46 8 333 33 33"
    theirs = demo_store.get_customer(customer_id)
    theirs.nickname = "Erik's nickname"
    demo_store.save_customer(theirs, user="erik")
    eventually(lambda: card.customer.nickname == "Erik's nickname")  # theirs shown
    assert card.customer.phone == "+46 8 333 33 33"  # mine kept
    card.save()
    stored = demo_store.get_customer(customer_id)
    assert (stored.phone, stored.nickname) == ("+46 8 333 33 33", "Erik's nickname")
    card.customer.visit_address.city = "Kiruna"
    theirs = demo_store.get_customer(customer_id)
    theirs.visit_address.city = "Lund"
    demo_store.save_customer(theirs, user="erik")
    assert card.customer.visit_address.city == "Kiruna"  # not replaced under the analyst's hands
    with pytest.raises(ConflictError) as met:
        card.save()
    assert "visit_address.city" in {c.field for c in met.value.conflicts}
    assert demo_store.get_customer(customer_id).visit_address.city == "Lund"


def both_editing_contact(store, customer_id: int):
    """Anna's and Erik's contact sections of one customer, both with the Edit form open: (anna's, erik's)."""
    anna, erik = (CustomerCard(store=store, customer_id=customer_id, user=u) for u in ("anna", "erik"))
    mine, theirs = anna.section("contact"), erik.section("contact")
    mine.start_edit()
    theirs.start_edit()
    return mine, theirs


def test_what_is_typed_while_the_conflict_dialog_is_open_is_saved_or_asked_about_never_dropped(demo_store,
                                                                                             customer_id):
    """Anna meets a conflict on the phone, then corrects the phone and fills in the e-mail with the dialog open, and
    saves: what the form holds now is what she saves — asked about again where Erik changed it too (his e-mail),
    never the phone from before her correction written and the e-mail dropped behind a "Saved"."""
    mine, theirs = both_editing_contact(demo_store, customer_id)
    theirs.form.widgets["phone"].value = "08-111 111 11"
    assert theirs.save()
    mine.form.widgets["phone"].value = "08-222 222 22"
    assert mine.save() is False and set(mine.resolver.choices) == {"phone"}
    mine.form.widgets["phone"].value = "08-333 333 33"  # typed on with the dialog open
    mine.form.widgets["email"].value = "anna.late@example.se"
    assert mine.save() is True  # "Use mine" (the default) for the phone; the e-mail nobody else touched
    stored = demo_store.get_customer(customer_id)
    assert (stored.phone, stored.email) == ("+46 8 333 333 33", "anna.late@example.se")
    # and where the other changed the field typed on too, it is asked about, not written over unseen
    mine.start_edit()
    theirs = CustomerCard(store=demo_store, customer_id=customer_id, user="erik").section("contact")  # read now
    theirs.start_edit()
    theirs.form.widgets["phone"].value = "08-444 444 44"
    theirs.form.widgets["email"].value = "erik@example.se"
    assert theirs.save()
    mine.form.widgets["phone"].value = "08-555 555 55"
    assert mine.save() is False and "email" not in mine.resolver.choices
    mine.form.widgets["email"].value = "anna.again@example.se"
    assert mine.save() is False and {"phone", "email"} <= set(mine.resolver.choices)
    assert demo_store.get_customer(customer_id).email == "erik@example.se"


def test_a_number_out_of_range_is_told_with_every_other_problem_of_the_form(demo_store, customer_id):
    """Economy: a discount of 150 % and a largest billable distance under the default distance — both are told at
    the first Save (the distance was told only once the discount was right), and nothing is saved."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    economy = card.section("economy")
    economy.start_edit()
    before = demo_store.get_customer(customer_id).version
    widgets = economy.form.widgets
    widgets["default_distance_km"].value = "12.5"
    widgets["max_distance_km"].value = "10"
    widgets["invoicing.discount_pct"].value = "150"
    assert economy.save() is False
    shown = {field: message.object for field, message in economy.form.messages.items() if message.object}
    assert {"invoicing.discount_pct", "max_distance_km"} <= set(shown), shown
    assert demo_store.get_customer(customer_id).version == before


def test_ones_own_save_in_another_section_is_not_told_as_changed_meanwhile(demo_store, customer_id):
    """Two sections of one card open for editing: saving the second says "Saved." — the first save is the user's
    own, not a change someone made meanwhile."""
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    contact, header = card.section("contact"), card.section("header")
    contact.start_edit()
    header.start_edit()
    contact.form.widgets["phone"].value = "08-123 123 12"
    assert contact.save()
    header.form.widgets["name"].value = "Own Two Sections AB"
    assert header.save()
    assert "meanwhile" not in header.view.html and "Saved." in header.view.html
    stored = demo_store.get_customer(customer_id)
    assert (stored.name, stored.phone) == ("Own Two Sections AB", "+46 8 123 123 12")


def test_a_conflict_asked_again_keeps_what_was_chosen_for_the_fields_asked_before(demo_store, customer_id):
    """Anna keeps Erik's phone in the dialog, then types an e-mail Erik changed too: the dialog is asked again with
    the e-mail, and her choice for the phone (keep his) stays chosen."""
    from customercard.ui.form import ConflictResolver

    mine, theirs = both_editing_contact(demo_store, customer_id)
    theirs.form.widgets["phone"].value = "08-111 111 11"
    theirs.form.widgets["email"].value = "erik@example.se"
    assert theirs.save()
    mine.form.widgets["phone"].value = "08-222 222 22"
    assert mine.save() is False and set(mine.resolver.choices) == {"phone"}
    mine.resolver.choices["phone"].value = ConflictResolver.STORED
    mine.form.widgets["email"].value = "anna@example.se"
    assert mine.save() is False and set(mine.resolver.choices) == {"phone", "email"}
    assert mine.resolver.choices["phone"].value == ConflictResolver.STORED
    assert mine.save() is True
    stored = demo_store.get_customer(customer_id)
    assert (stored.phone, stored.email) == ("+46 8 111 111 11", "anna@example.se")


def test_an_organisation_number_another_customer_has_is_said_at_the_field_and_saved_on_a_second_save(demo_store):
    """Only the new customer's page warned about a duplicate: the card's Edit took another customer's organisation
    and VAT numbers without a word (two customers, one identity). The first Save says who has it, at the field, and
    writes nothing; Save again keeps it (a group's companies may share one); a number nobody else has is saved at
    once."""
    swedish = demo_store.sql("SELECT id, name, org_number, vat_number FROM customers WHERE visit_country = 'SE' AND "
                             "org_number <> '' AND vat_number <> '' AND merged_into IS NULL ORDER BY id LIMIT 2")
    customer_id, other = int(swedish["id"].iloc[0]), swedish.iloc[1]
    card = open_card(demo_store, customer_id)
    contact = card.section("contact")
    contact.start_edit()
    contact.form.widgets["org_number"].value = str(other["org_number"])
    contact.form.widgets["vat_number"].value = str(other["vat_number"])
    contact.form.widgets["email"].value = "not an address"  # whatever else is wrong is said with it, at once
    version = demo_store.get_customer(customer_id).version
    assert contact.save() is False
    for field in ("org_number", "vat_number"):
        said = contact.form.messages[field].object
        assert str(other["name"]) in said and "Save again" in said, said
    assert "e-mail" in contact.form.messages["email"].object
    assert "Please correct the marked fields." in contact.message, contact.message
    assert demo_store.get_customer(customer_id).version == version
    contact.cancel()  # the numbers alone: nothing to correct, a question (it said "Please correct …" all the same)
    contact.start_edit()
    contact.form.widgets["org_number"].value = str(other["org_number"])
    contact.form.widgets["vat_number"].value = str(other["vat_number"])
    assert contact.save() is False
    assert "Not saved yet: see the marked fields." in contact.message and "correct" not in contact.message
    assert "Save again" in contact.form.messages["org_number"].object
    assert demo_store.get_customer(customer_id).version == version
    contact.form.widgets["email"].value = "info@firm.example"
    assert contact.save() is True, {k: m.object for k, m in contact.form.messages.items() if m.object}  # told: kept
    stored = demo_store.get_customer(customer_id)
    assert (stored.org_number, stored.vat_number) == (other["org_number"], other["vat_number"])
    contact.start_edit()  # their own number written anew (without its dash): no question
    contact.form.widgets["org_number"].value = str(other["org_number"]).replace("-", "")
    assert contact.save() is True
    contact.start_edit()  # a number nobody else has: saved at once
    contact.form.widgets["org_number"].value = "556036-0793"
    contact.form.widgets["vat_number"].value = ""
    assert contact.save() is True
    assert demo_store.get_customer(customer_id).org_number == "556036-0793"
