"""The customer's whole story without a browser, on DuckDB and PostgreSQL: the Activity section (built only when
opened, remembered, filters, Load more, live, links), the card as of a day (read only, banner, compare, restore),
the invoices behind a year's bar (their sum the bar's, by project, exports neutralised) and the full contact card
(parts, timeline, events, relations, history with restore, edit with conflict)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest

import customercard as cc
from customercard.ui.card import CustomerCard
from customercard.ui.contact import ContactCard

from .conftest import eventually, rich_customers


@pytest.fixture
def customer_id(demo_store) -> int:
    return rich_customers(demo_store)[0]


# -- Activity --------------------------------------------------------------------------------------------------
def test_activity_is_folded_built_when_opened_and_remembered(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    keys = [s.key for s in card.sections]
    assert keys.index("activity") == keys.index("comments") + 1 and "asof" not in keys
    activity = card.section("activity")
    assert activity.collapsed and not activity.built and not activity.timeline_read  # nothing read yet
    activity.open()
    assert activity.built and "cc-activity-days" in activity.view.html
    assert demo_store.prefs("anna", "card.collapsed.")["card.collapsed.activity"] is False
    again = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("activity")
    assert not again.collapsed and again.built


def test_activity_filters_load_more_and_links(demo_store, customer_id):
    store = demo_store
    for i in range(60):
        store.add_comment(customer_id, f"Call number {i}", user="erik")
    card = CustomerCard(store=store, customer_id=customer_id, user="anna")
    activity = card.section("activity")
    activity.open()
    timeline = activity.timeline
    assert len(timeline.frame) == 50 and timeline.has_more and "cc-activity-more" in activity.view.html
    activity.handle("activity-more", {})
    assert len(timeline.frame) > 50
    activity.handle("activity-kind", {"value": "event"})
    assert set(timeline.frame["kind"]) <= {"event"} and 'value="event" selected' in activity.view.html
    activity.handle("activity-kind", {"value": ""})
    activity.handle("activity-person", {"value": "erik"})
    assert "erik" in set(timeline.frame["who"])
    activity.handle("activity-text", {"value": "number 42"})
    assert list(timeline.frame["title"]) == ["Call number 42"]
    assert "Call number 42" in activity.view.html and "Erik Nilsson wrote:" in activity.view.html
    activity.handle("activity-clear", {})
    assert timeline.kind == timeline.person == timeline.search == ""
    activity.handle("activity-person", {"value": "<script>"})  # not a user: ignored
    assert timeline.person == ""
    events = store.events(customer_id)
    if not events.empty:  # an entry's link opens the event in its own section
        event_id = int(events.iloc[0].id)
        activity.handle("activity-open", {"id": f"events:{event_id}"})
        section = card.section("events")
        assert not section.collapsed and f'id="cc-event-{event_id}"' in section.view.html
    activity.handle("activity-open", {"id": "comments:1"})
    assert card.section("comments").show_all


def test_a_title_with_a_right_to_left_override_stays_in_its_own_part_of_the_sentence(demo_store, customer_id):
    store = demo_store
    spoof = "Deal \u202eevol"
    opportunity = store.new_opportunity(customer_id, owner="anna")
    opportunity.param.update(title=spoof, stage="Lead", amount=12345.0)
    store.create_opportunity(opportunity, user="anna")
    activity = CustomerCard(store=store, customer_id=customer_id, user="anna").section("activity")
    activity.open()
    html = activity.view.html
    assert "\u2068" + spoof + "\u2069" in html  # isolated: the words after it read as written
    assert "\u2068Call" not in html  # texts without direction controls are left as they are


def test_a_comment_a_bulk_undo_took_away_keeps_its_writing_and_says_who_took_it_away(demo_store, customer_id):
    """The undo of a bulk change took its comment away and the customer's story lost it without a trace: no entry
    for its writing (the row is gone), none for its removal. Both are told now, and nothing offers to open it."""
    store = demo_store
    body = "Price list 2027 sent <b>bold</b>"
    batch = store.bulk_change([customer_id], "comment", body, user="anna")
    comment_id = int(store.comments(customer_id)["id"].iloc[0])
    written = store.timeline(customer_id, kinds=["comment"], limit=5)
    assert (written["ref_id"] == comment_id).sum() == 1
    store.undo_bulk_change(batch.id, user="erik")
    story = store.timeline(customer_id, kinds=["comment"], limit=10)
    about = story[story["ref_id"] == comment_id]
    assert list(about["action"]) == ["removed", "written"], about
    removed, kept = about.iloc[0], about.iloc[1]
    assert removed["who"] == "erik" and removed["old_value"] == body and removed["detail"] == "anna"
    assert kept["who"] == "anna" and kept["title"] == body and kept["new_value"] == "removed"
    assert len(store.timeline(customer_id, text="price list 2027", limit=10)) == 2
    assert len(store.timeline(customer_id, person="erik", kinds=["comment"], limit=50)
               .query("ref_id == @comment_id")) == 1
    activity = CustomerCard(store=store, customer_id=customer_id, user="anna").section("activity")
    activity.open()
    html = activity.view.html
    assert "took away a comment by" in html and "Price list 2027 sent &lt;b&gt;bold&lt;/b&gt;" in html
    assert f'data-id="comments:{comment_id}"' not in html  # nothing to open: it is gone


def test_activity_hears_of_new_entries(demo_store, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    activity = card.section("activity")
    activity.open()
    demo_store.add_comment(customer_id, "Heard live <b>bold</b>", user="erik")
    eventually(lambda: "Heard live &lt;b&gt;bold&lt;/b&gt;" in activity.view.html)


def test_a_viewer_reads_the_activity_but_a_failing_timeline_blanks_nothing(demo_store, customer_id, monkeypatch):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="vera")
    activity = card.section("activity")

    def broken(*_args, **_kwargs):
        raise RuntimeError("the database went away")
    monkeypatch.setattr(type(demo_store), "timeline", broken)
    activity.open()
    assert "could not be shown" in activity.view.html
    assert "cc-customer-name" in card.section("header").view.html


# -- the card as of a day -----------------------------------------------------------------------------------
def _changed_customer(store) -> tuple[int, dt.date]:
    """A demo customer whose status changed later, and a day between its creation and that change."""
    found = store.sql("SELECT customer_id, min(changed_at) AS first, max(changed_at) AS last FROM customer_changes "
                      "GROUP BY customer_id HAVING max(version) = 2 ORDER BY customer_id LIMIT 1")
    row = found.iloc[0]
    first, last = pd.Timestamp(row["first"]).date(), pd.Timestamp(row["last"]).date()
    return int(row["customer_id"]), first + (last - first) / 2


def test_the_card_as_of_a_day_is_read_only_with_a_banner_and_compares(demo_store):
    customer_id, day = _changed_customer(demo_store)
    today = demo_store.get_customer(customer_id)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna", as_of=day)
    assert card.sections[0].key == "asof" and not card.sections[0].collapsed
    assert card.customer.status == "Prospect" != today.status
    assert not card.context.can_edit
    for section in card.sections:
        section.open()
        assert not any(t["action"] in ("edit", "merge", "send-email") for t in section.view.tools), section.key
    banner = card.section("asof")
    assert "read only" in banner.view.html and f'href="/card?customer={customer_id}"' in banner.view.html
    diff = banner.compare()
    assert "status" in set(diff["field"]) and "cc-asof-diff" in banner.view.html
    assert "cc-asof-restore" in banner.view.html  # anna may restore
    with pytest.raises(cc.PermissionDenied):
        card.save()
    assert demo_store.get_customer(customer_id).version == today.version


def test_restore_these_values_from_the_banner(demo_store):
    customer_id, day = _changed_customer(demo_store)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna", as_of=day)
    banner = card.section("asof")
    assert not banner.restore([], None) and "Choose the values" in banner.view.html
    banner.compare()
    banner.handle("asof-pick", {"id": "status", "value": True})
    banner.handle("asof-pick", {"id": "not-a-field", "value": True})
    assert banner.picked == {"status"}
    stored = demo_store.get_customer(customer_id)
    banner.handle("asof-restore", {"version": str(stored.version)})
    after = demo_store.get_customer(customer_id)
    assert after.status == "Prospect" and after.version == stored.version + 1
    rows = demo_store.history(customer_id)
    assert list(rows[rows["version"] == after.version]["field"]) == ["status"]
    assert set(rows[rows["version"] == after.version]["kind"]) == {"restore"}
    assert "Brought back 1 value" in banner.view.html and banner.picked == set()


def test_a_stale_restore_is_refused_and_compared_again(demo_store):
    customer_id, day = _changed_customer(demo_store)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna", as_of=day)
    banner = card.section("asof")
    banner.compare()
    seen = banner.compared_version
    someone = demo_store.get_customer(customer_id)
    someone.nickname = "Meanwhile"
    demo_store.save_customer(someone, user="erik")
    assert not banner.restore(["status"], seen)
    assert demo_store.get_customer(customer_id).status == someone.status  # nothing written
    assert "since you compared" in banner.view.html and banner.compared_version == seen + 1


def _compared_with_status_ticked(store):
    """Anna's card of a changed customer as of a day between, compared with today, its status ticked to bring back."""
    customer_id, day = _changed_customer(store)
    card = CustomerCard(store=store, customer_id=customer_id, user="anna", as_of=day)
    banner = card.section("asof")
    banner.compare()
    banner.handle("asof-pick", {"id": "status", "value": True})
    return customer_id, card, banner


def test_a_colleague_s_save_compares_again_on_an_open_card_as_of_a_day(demo_store):
    customer_id, card, banner = _compared_with_status_ticked(demo_store)
    seen = banner.compared_version
    someone = demo_store.get_customer(customer_id)
    someone.nickname = "Said meanwhile"
    demo_store.save_customer(someone, user="erik")
    # heard without a click (on PostgreSQL by a listener thread): today's column is today's
    eventually(lambda: "Erik Nilsson saved this customer meanwhile" in banner.view.html)
    # said in the live region, without taking the focus from what the reader is on (a colleague's doing)
    assert "data-cc-say=" in banner.view.html and "data-cc-focus=" not in banner.view.html
    assert "Said meanwhile" in banner.view.html and banner.compared_version == seen + 1
    assert banner.picked == {"status"} and card.customer.nickname != "Said meanwhile"  # the card stays that day's
    assert banner.restore(sorted(banner.picked), banner.compared_version)  # written on the version it showed
    assert demo_store.get_customer(customer_id).nickname == "Said meanwhile"
    eventually(lambda: "Brought back 1 value" in banner.view.html)  # its own restore is no news to it


def test_a_value_ticked_that_a_colleague_changes_is_unticked(demo_store):
    customer_id, _card, banner = _compared_with_status_ticked(demo_store)
    someone = demo_store.get_customer(customer_id)
    someone.status = next(s for s in demo_store.choices().allowed("statuses")
                          if s not in (someone.status, "Prospect"))
    demo_store.save_customer(someone, user="erik")
    eventually(lambda: "Erik Nilsson saved this customer meanwhile" in banner.view.html)
    # said in the live region, without taking the focus from what the reader is on (a colleague's doing)
    assert "data-cc-say=" in banner.view.html and "data-cc-focus=" not in banner.view.html
    assert banner.picked == frozenset()  # bringing it back now would write over their change unseen


def test_a_viewer_compares_but_cannot_restore(demo_store):
    customer_id, day = _changed_customer(demo_store)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="vera", as_of=day)
    banner = card.section("asof")
    banner.compare()
    assert "cc-asof-diff" in banner.view.html and "cc-asof-restore" not in banner.view.html
    assert not banner.restore(["status"], banner.compared_version)
    assert demo_store.get_customer(customer_id).status != "Prospect"


def test_the_card_as_of_a_day_before_the_customer_existed_is_refused(demo_store, customer_id):
    with pytest.raises(cc.NotFound):
        CustomerCard(store=demo_store, customer_id=customer_id, user="anna", as_of=dt.date(1990, 1, 1))


# -- invoices behind the chart -----------------------------------------------------------------------------------
def test_a_years_invoices_sum_to_its_bar_by_project_and_export(demo_store, customer_id):
    store = demo_store
    projects = store.projects(customer_id)
    project_id = int(projects.iloc[0].id)
    year = dt.date.today().year - 1
    store.add_invoices(pd.DataFrame({
        "customer_id": [customer_id] * 3, "project_id": [project_id, project_id, None],
        "number": ["=HYPERLINK(\"http://x\")", "F-2", "+46 8 123"], "invoice_date": [dt.date(year, 3, 1)] * 3,
        "amount": [1000.10, -200.05, 99.99], "currency": ["EUR", "EUR", "SEK"],
        "amount_base": [11501.15, -2300.58, 99.99]}), user="anna")
    card = CustomerCard(store=store, customer_id=customer_id, user="anna")
    section = card.section("invoiced")
    section.open()
    assert f'data-action="invoiced-year" data-id="{year}"' in section.view.html
    assert "Change" in section.view.html  # year-over-year
    section.handle("invoiced-year", {"id": str(year)})
    shown = section.year_invoices
    bar = float(section.figures().set_index("year").loc[year, "amount"])
    assert shown is not None and round(shown.total, 2) == round(bar, 2) == round(shown.bar, 2)
    assert section.view.child is shown.__panel__() and 'class="cc-child-slot"' in section.view.html  # under the chart
    assert "cc-year-table" in shown.html() and "Credit note" in shown.html()
    assert "cc-year-projects" in shown.html()
    shown.project.value = project_id
    assert set(shown.frame["project_id"].dropna().astype(int)) == {project_id}
    rows = list(csv.reader(io.StringIO(shown.export_file("csv").getvalue().decode("utf-8-sig"))))
    assert rows[0][0] == "Date" and any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
    assert rows[0][:5] == ["Date", "Number", "Kind", "Project", "Amount"]  # the columns shown (Kind was left out)
    assert all(row[2] == ("Credit note" if float(row[4]) < 0 else "Invoice") for row in rows[1:])
    assert not any(cell.startswith("=") for row in rows for cell in row)
    import openpyxl

    book = openpyxl.load_workbook(shown.export_file("xlsx"))
    values = [cell.value for row in book.active.iter_rows() for cell in row]
    assert "'=HYPERLINK(\"http://x\")" in values and isinstance(values[11], float | int)
    shown.project.value = -1
    section.handle("invoiced-year", {"id": str(year - 1)})  # a click on another bar (its canvas sends the year)
    assert section.year == year - 1 and section.view.child is section.year_invoices.__panel__()
    section.handle("invoiced-year", {"id": "1066"})  # a forged year the chart does not show: nothing happens
    assert section.year == year - 1
    section.show_year(None)
    assert section.year_invoices is None and section.view.child is None


def test_store_invoices_of_a_year_add_up_to_invoiced_per_year(demo_store, customer_id):
    figures = demo_store.invoiced_per_year(customer_id)
    for row in figures.itertuples(index=False):
        frame = demo_store.invoices(customer_id, year=int(row.year))
        assert round(float(frame["amount_base"].sum()), 2) == round(float(row.amount), 2)
        assert list(frame.columns) == ["id", "invoice_date", "number", "project_id", "project_number",
                                       "project_name", "amount", "currency", "amount_base"]
    assert demo_store.invoices(customer_id, year=1900).empty


# -- the contact card -------------------------------------------------------------------------------------------
def test_the_full_contact_card(demo_store, customer_id):
    store = demo_store
    contact = store.create_contact(cc.Contact(customer_id=customer_id, first_name="Ina", last_name="Ek",
                                              title="CFO", email="ina.ek@example.se"), user="anna")
    store.add_comment(customer_id, "Lunch with Ina Ek", user="erik")
    event = store.new_event(customer_id, owner="anna")
    event.param.update(title="Budget talk", event_type="Meeting", contact_ids=[contact.id])
    store.create_event(event, user="anna")
    other = rich_customers(store)[1]
    store.add_relation(cc.Relation(customer_id=other, relation_type="Board member at", other_contact_id=contact.id),
                       user="anna")
    contact.title = "CEO"
    store.save_contact(contact, user="erik")
    card = ContactCard(store=store, contact_id=contact.id, user="anna")
    assert list(card.slots) == ["details", "follow_ups", "relations", "events", "activity", "history"]
    assert card.slots["activity"].collapsed and card.slots["activity"].html == ""  # folded: not read
    html = card.markup()
    assert "Budget talk" in html and "cc-contact-relations" in html and "Board member at" in html
    card.slots["activity"].collapsed = False
    activity = card.slots["activity"].html
    assert "Lunch with Ina Ek" in activity and "Budget talk" in activity and "CFO" in activity
    assert store.prefs("anna", "contact.collapsed.")["contact.collapsed.activity"] is False
    card.handle("activity-kind", {"value": "comment"})
    assert "Budget talk" not in card.slots["activity"].html
    history = card.slots["history"].html
    assert "cc-restore" in history
    change_id = int(store.record_history("contacts", contact.id).iloc[0].change_id)
    assert card.restore(change_id, store.get_contact(contact.id).version)
    assert store.get_contact(contact.id).title == "CFO"
    assert "restore" in set(store.record_history("contacts", contact.id)["kind"])
    viewer = ContactCard(store=store, contact_id=contact.id, user="vera")
    assert "cc-restore" not in viewer.slots["history"].html
    assert not viewer.restore(change_id, store.get_contact(contact.id).version)


def test_the_contact_card_edits_in_place_and_shows_a_conflict(demo_store, customer_id):
    store = demo_store
    contact = store.create_contact(cc.Contact(customer_id=customer_id, first_name="Ola", last_name="Berg"),
                                   user="anna")
    card = ContactCard(store=store, contact_id=contact.id, user="anna")
    editor = card.start_edit()
    # the form in place of the details; the person's name stays the page's heading above it
    assert card.slots["details"].child is editor.__panel__()
    assert card.slots["details"].html == '<h1 class="cc-title" id="cc-contact-name">Ola Berg</h1>'
    theirs = store.get_contact(contact.id)
    theirs.title = "Theirs"
    store.save_contact(theirs, user="erik")
    editor.widgets["title"].value = "Mine"
    assert not card.save()  # a conflict to resolve, not an overwrite
    assert card.editor is editor and editor.resolver is not None and "title" in editor.resolver.choices
    assert store.get_contact(contact.id).title == "Theirs"
    editor.resolver.choices["title"].value = editor.resolver.MINE
    assert card.save() and card.editor is None
    assert store.get_contact(contact.id).title == "Mine" and "Mine" in card.slots["details"].html


def test_without_the_crm_module_the_story_leaves_it_out(demo_store, customer_id):
    settings = demo_store.settings()
    settings.crm_enabled = False
    demo_store.save_settings(settings, user="admin")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    activity = card.section("activity")
    activity.open()
    assert not {"event", "opportunity", "relation"} & set(activity.timeline.kinds)
    assert not {"event", "opportunity", "relation"} & set(activity.timeline.frame["kind"])
    contact_id = int(demo_store.contacts(customer_id).iloc[0]["id"])
    contact = ContactCard(store=demo_store, contact_id=contact_id, user="anna")
    assert "events" not in contact.slots and "relations" not in contact.slots
    assert "cc-contact-events" not in contact.markup()


def test_a_removed_relation_keeps_its_addition_and_reads_from_each_side(demo_store):
    """Anna relates one customer as "Parent company of" another, then removes it: both timelines keep when and by
    whom it was added, and each says it from its own side — the subsidiary's reads "Subsidiary of" the parent, with
    the parent's name and a link, the parent's "Parent company of" the subsidiary."""
    store = demo_store
    parent, child = (int(i) for i in store.sql("SELECT id FROM customers WHERE NOT archived ORDER BY id "
                                               "LIMIT 2")["id"])
    names = store.customer_names([parent, child])
    relation = store.add_relation(cc.Relation(customer_id=parent, relation_type="Parent company of",
                                              other_customer_id=child), user="anna")
    store.remove_relation(relation.id, user="anna")
    for me, label, other in ((child, "Subsidiary of", parent), (parent, "Parent company of", child)):
        activity = CustomerCard(store=store, customer_id=me, user="anna").section("activity")
        activity.open()
        html = activity.view.html
        for said in ("added a relation", "removed a relation"):
            assert f"{said}: {label} {names[other][0]}" in html.replace("\u2068", "").replace("\u2069", ""), said
        assert f"/card?customer={other}" in html


def test_a_relation_moved_by_a_merge_then_removed_reads_from_the_survivors_side(demo_store):
    store = demo_store
    maker, other, survivor = (int(i) for i in store.sql("SELECT id FROM customers WHERE NOT archived ORDER BY id "
                                                        "LIMIT 3 OFFSET 5")["id"])
    names = store.customer_names([other, survivor])
    relation = store.add_relation(cc.Relation(customer_id=maker, relation_type="Parent company of",
                                              other_customer_id=other), user="anna")
    store.merge_customers(survivor, maker, user="anna")  # the relation is the survivor's now
    store.remove_relation(relation.id, user="anna")
    activity = CustomerCard(store=store, customer_id=survivor, user="anna").section("activity")
    activity.open()
    html = activity.view.html.replace("\u2068", "").replace("\u2069", "")
    for said in ("added a relation", "removed a relation"):
        assert f"{said}: Parent company of {names[other][0]}" in html, said
    theirs = CustomerCard(store=store, customer_id=other, user="anna").section("activity")
    theirs.open()
    assert f"removed a relation: Subsidiary of {names[survivor][0]}" in theirs.view.html.replace(
        "\u2068", "").replace("\u2069", "")


def test_the_contact_cards_timeline_names_the_person_made_inactive_and_active_again(demo_store, customer_id):
    """"Erik Nilsson made Ina Ek inactive" — the person's name where it was the field's ("made active inactive")."""
    store = demo_store
    contact = store.create_contact(cc.Contact(customer_id=customer_id, first_name="Ina", last_name="Ek"), user="anna")
    for active in (False, True):
        contact = store.get_contact(contact.id)
        contact.active = active
        store.save_contact(contact, user="erik")
    card = ContactCard(store=store, contact_id=contact.id, user="anna")
    card.slots["activity"].collapsed = False
    activity = card.slots["activity"].html
    erik = store.user_name("erik")
    assert f"{erik} made Ina Ek inactive" in activity and f"{erik} made Ina Ek active again" in activity
    assert "made active" not in activity


def test_the_timeline_says_who_cancelled_an_event_gave_a_follow_up_away_or_rewrote_a_comment(demo_store, customer_id):
    """Each entry with who and when: an event Erik cancelled is his entry (not only the owner's, dated its start); a
    follow-up added for Erik and given to Maria by Kari says so (added for Erik, then Kari's entry); Erik's rewrite
    of Anna's comment is his entry — and the person filter finds them under the one who did it."""
    import datetime as dt

    store = demo_store
    event = store.new_event(customer_id, owner="anna")
    event.param.update(title="Budget meeting", starts_at=dt.datetime(2025, 3, 1, 10),
                       ends_at=dt.datetime(2025, 3, 1, 11))
    event = store.create_event(event, user="anna")
    store.set_event_status(event.id, "cancelled", user="erik")
    follow_up = store.new_follow_up(customer_id)
    follow_up.param.update(what="Send the offer", owner="erik")
    follow_up = store.add_follow_up(follow_up, user="anna")
    follow_up = store.get_follow_up(follow_up.id)
    follow_up.owner = "maria"
    store.save_follow_up(follow_up, user="kari")
    store.set_follow_up_done(follow_up.id, user="maria")
    store.set_follow_up_done(follow_up.id, done=False, user="erik")
    comment = store.add_comment(customer_id, "Called about the offer", user="anna")
    comment = store.get_comment(comment.id)
    comment.body = "Did NOT call about the offer"
    store.edit_comment(comment, user="erik")
    names = {login: store.user_name(login) for login in ("anna", "erik", "kari", "maria")}
    erik = store.timeline(customer_id, person="erik")
    assert {"event marked", "comment edited"} <= {f"{r.kind} {r.action}" for r in erik.itertuples()}
    assert "follow-up reassigned" in {f"{r.kind} {r.action}" for r in store.timeline(customer_id, person="kari")
                                      .itertuples()}
    import html
    import re

    from customercard.ui.timeline import EntryText

    said = EntryText(store, "Europe/Stockholm", customer_id)
    joined = "\n".join(html.unescape(re.sub(r"<[^>]+>", " ", said.html(row)))
                        for row in store.timeline(customer_id, limit=200).itertuples())
    assert f"{names['erik']} cancelled the event “Budget meeting”" in joined
    assert f"{names['anna']} added a follow-up for {names['erik']}" in joined
    assert f"{names['kari']} gave a follow-up to {names['maria']}" in joined
    assert f"{names['maria']} marked a follow-up done" in joined  # (opened again since: still said)
    assert f"{names['erik']} opened a follow-up again" in joined
    assert f"{names['erik']} edited a comment by {names['anna']}" in joined and "Did NOT call" in joined


@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_card_as_of_the_firm_s_today_is_a_day_up_to_today(demo_store, customer_id, zone):
    """A firm in Stockholm on a server in UTC, between midnight and one: "as it was" on the firm's today was "No
    such day", and the date picker stopped at the server's day. Today is the firm's (UTC+14 and UTC-11 here)."""
    from customercard.ui.sections.asof import parse_day

    settings = demo_store.settings()
    kept = settings.time_zone
    settings.time_zone = zone
    demo_store.save_settings(settings, user="admin")
    try:
        today = demo_store.firm_today()
        assert parse_day(today.isoformat(), demo_store.firm_today()) == today
        assert parse_day((today + dt.timedelta(days=1)).isoformat(), demo_store.firm_today()) is None
        activity = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("activity")
        activity.open()
        assert f'max="{today.isoformat()}"' in activity.view.html
    finally:
        settings = demo_store.settings()
        settings.time_zone = kept
        demo_store.save_settings(settings, user="admin")


def test_activity_s_text_filter_finds_what_the_entries_show(demo_store, customer_id):
    """"Containing" looked in what the entries keep (field keys, logins): "Account manager", "Maria Jensen" or
    "Jensen" found nothing, "account_manager" and "maria" did — and the empty page said nothing had happened."""
    store = demo_store
    customer = store.get_customer(customer_id)
    manager = next(login for login in ("maria", "erik", "kari") if login != customer.account_manager)
    name = store.user_name(manager)
    customer.account_manager = manager
    store.save_customer(customer, user="anna")
    store.add_comment(customer_id, "Called about the renewal.", user="erik")
    for text in ("Account manager", "account MANAGER", name, name.split()[-1]):
        found = store.timeline(customer_id, text=text, limit=50)
        assert any(row.kind == "change" and any(f == "account_manager" for f, _o, _n in (row.changes or []))
                   for row in found.itertuples()), text
    erik = store.user_name("erik").split()[-1]
    assert any(found.kind == "comment" for found in store.timeline(customer_id, text=erik, limit=50).itertuples())
    activity = CustomerCard(store=store, customer_id=customer_id, user="anna").section("activity")
    activity.open()
    activity.handle("activity-text", {"value": name})
    assert "account_manager" not in activity.view.html and len(activity.timeline.frame) >= 1
    activity.handle("activity-text", {"value": "no such words at all"})
    assert "Nothing matches these filters." in activity.view.html
    assert "Nothing has happened yet." not in activity.view.html


def test_the_text_filter_finds_a_contact_s_field_by_its_label_and_a_person_by_a_login_like_name(demo_store,
                                                                                                 customer_id):
    """A contact person's card found its field changes by their keys only ("First name" found nothing, in any
    language), and "Erik" — his login too — missed an event he takes part in that someone else owns."""
    from customercard.i18n import using_language

    store = demo_store
    contact = store.contacts(customer_id).iloc[0]
    person = store.get_contact(int(contact["id"]))
    person.first_name = person.first_name + "x"
    store.save_contact(person, user="erik")
    assert len(store.contact_timeline(person.id, text="First name", kinds=["change"])) >= 1
    with using_language("sv"):
        label = cc.Contact().label("first_name")
        assert len(store.contact_timeline(person.id, text=label, kinds=["change"])) >= 1
    event = cc.Event(customer_id=customer_id, title="Quarterly workshop", starts_at=dt.datetime(2026, 1, 5, 9),
                     owner="anna", participants=["anna", "erik"])
    made = store.create_event(event, user="anna")
    found = store.timeline(customer_id, text="erik", kinds=["event"], limit=100)
    assert made.id in set(found["ref_id"])
