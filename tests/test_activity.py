"""The customer's timeline in the store (``store.timeline``) and a contact person's, on DuckDB and PostgreSQL: every
kind of entry from the tables and the history, newest first, filters, keyset paging, and a customer with 10,000
entries paged through quickly."""

from __future__ import annotations

import datetime as dt
import time

import pandas as pd
import pytest

import customercard as cc
from customercard.store.activity import TIMELINE_KINDS


@pytest.fixture
def story(empty_store):
    """Two customers with one of everything that goes on a timeline."""
    store = empty_store
    settings = store.settings()
    settings.files_enabled = True  # files are on a timeline where the firm keeps them
    store.save_settings(settings, user="boss")
    a = store.create_customer(user="anna", name="Alfa Konsult AB")
    b = store.create_customer(user="anna", name="Beta Bygg AB")
    dup = store.create_customer(user="boss", name="Alfa Konsult (old)")
    contact = store.create_contact(cc.Contact(customer_id=a.id, first_name="Eva", last_name="Lund",
                                              email="eva@alfa.example"), user="anna")
    store.add_comment(a.id, "Met Eva Lund about the audit", user="anna")
    store.add_comment(a.id, "Quote sent", user="boss", kind="email", recipients=["anna"])
    event = store.new_event(a.id, owner="anna")
    event.param.update(title="Kick-off", event_type="Meeting", contact_ids=[contact.id], participants=["boss"],
                       starts_at=dt.datetime(2024, 5, 2, 10, 0))
    event = store.create_event(event, user="anna")
    opportunity = store.new_opportunity(a.id, owner="anna")
    opportunity.param.update(title="Audit 2025", amount=78000.0, stage="Lead")
    opportunity = store.create_opportunity(opportunity, user="anna")
    opportunity.stage = "Proposal"
    opportunity = store.save_opportunity(opportunity, user="anna")
    opportunity.status = "won"
    store.save_opportunity(opportunity, user="boss")
    store.add_file_record(a.id, "contract.pdf", 1234, "0" * 64, "application/pdf", user="anna")
    relation = store.add_relation(cc.Relation(customer_id=b.id, relation_type="Partner of", other_customer_id=a.id),
                                  user="anna")
    store.add_relation(cc.Relation(customer_id=a.id, relation_type="Supplier to", other_customer_id=b.id),
                       user="anna")
    store.remove_relation(relation.id, user="boss")
    customer = store.get_customer(a.id)
    customer.phone = "+46 8 123 45 67"
    customer.visit_address.city = "Stockholm"
    store.save_customer(customer, user="anna")
    contact.active = False
    store.save_contact(contact, user="boss")
    store.merge_customers(a.id, dup.id, user="anna")
    return store, a.id, b.id, contact.id


def test_every_kind_of_entry_newest_first(story):
    store, a, _b, _contact = story
    frame = store.timeline(a)
    assert list(frame.columns[:6]) == ["at", "kind", "action", "who", "title", "detail"]
    assert frame["at"].is_monotonic_decreasing or (frame["at"].diff().dropna() <= pd.Timedelta(0)).all()
    kinds = set(frame["kind"])
    assert kinds >= {"comment", "email", "event", "opportunity", "file", "contact", "relation", "merge", "change"}
    actions = {(r.kind, r.action) for r in frame.itertuples()}
    assert {("opportunity", "created"), ("opportunity", "stage"), ("opportunity", "won"), ("contact", "added"),
            ("contact", "deactivated"), ("relation", "added"), ("relation", "removed"), ("file", "added"),
            ("change", "update"), ("change", "create"), ("merge", "merge"), ("event", "planned")} <= actions
    save = frame[(frame["kind"] == "change") & (frame["action"] == "update")].iloc[0]
    assert {field for field, _old, _new in save.changes} == {"phone", "visit_address.city"}  # one save, one entry
    stage = frame[frame["action"] == "stage"].iloc[0]
    assert (stage.old_value, stage.new_value, stage.ref_table) == ("Lead", "Proposal", "opportunities")
    merge = frame[frame["kind"] == "merge"].iloc[0]
    assert any(field == "merged_from" for field, _old, _new in merge.changes)
    email = frame[frame["kind"] == "email"].iloc[0]
    assert (email.who, email.title) == ("boss", "Quote sent")


def test_what_the_firm_switched_off_is_not_on_the_timeline(story):
    store, a, _b, contact_id = story
    settings = store.settings()
    settings.param.update(crm_enabled=False, files_enabled=False)
    store.save_settings(settings, user="boss")
    kinds = set(store.timeline(a)["kind"])
    assert not kinds & {"event", "opportunity", "relation", "file"}
    assert {"comment", "email", "contact", "change", "merge"} <= kinds
    assert not set(store.contact_timeline(contact_id)["kind"]) & {"event", "relation"}


def test_the_relation_shows_on_the_other_side_too(story):
    store, a, b, _contact = story
    theirs = store.timeline(b, kinds=["relation"])
    assert set(theirs["action"]) == {"added", "removed"}
    # its own, and the one pointing at it: its addition (kept by its history, the row gone) and its removal
    mine = store.timeline(a, kinds="relation")
    assert len(mine) == 3 and sorted(mine["action"]) == ["added", "added", "removed"]


def test_filters_by_kind_person_text_and_time(story):
    store, a, _b, _contact = story
    assert set(store.timeline(a, kinds=["comment", "email"])["kind"]) == {"comment", "email"}
    by_boss = store.timeline(a, person="boss")
    assert set(by_boss["who"]) <= {"boss"} or "event" in set(by_boss["kind"])  # an event boss takes part in
    assert "event" in set(by_boss["kind"])
    found = store.timeline(a, text="AUDIT")
    assert {"Met Eva Lund about the audit", "Audit 2025"} <= set(found["title"])
    assert store.timeline(a, since=store.firm_today() + dt.timedelta(days=1)).empty  # the firm's day, not UTC's
    assert store.timeline(a, until=dt.date(2000, 1, 1)).empty
    with pytest.raises(cc.ValidationError):
        store.timeline(a, kinds=["gossip"])
    with pytest.raises(cc.ValidationError):
        store.timeline(a, before="not a cursor")
    with pytest.raises(cc.NotFound):
        store.timeline(999_999)
    assert set(TIMELINE_KINDS) == {"comment", "email", "event", "opportunity", "file", "contact", "relation", "merge",
                                   "change", "follow-up"}


def test_pages_follow_each_other_without_gaps_or_repeats(story):
    store, a, _b, _contact = story
    whole = store.timeline(a, limit=500)
    pages, cursor = [], None
    while True:
        page = store.timeline(a, before=cursor, limit=3)
        if page.empty:
            break
        pages.append(page)
        cursor = page["cursor"].iloc[-1]
    paged = pd.concat(pages, ignore_index=True)
    assert list(paged["cursor"]) == list(whole["cursor"])
    assert paged["cursor"].is_unique


def test_a_contact_persons_timeline(story):
    store, a, _b, contact_id = story
    frame = store.contact_timeline(contact_id)
    assert ("comment", "Met Eva Lund about the audit") in {(r.kind, r.title) for r in frame.itertuples()}
    assert "Quote sent" not in set(frame["title"])  # does not name her
    assert ("event", "Kick-off") in {(r.kind, r.title) for r in frame.itertuples()}
    assert {"added", "deactivated"} <= set(frame[frame["kind"] == "contact"]["action"])
    deactivated = frame[frame["action"] == "deactivated"].iloc[0]
    assert deactivated.changes == [("active", "true", "false")]
    assert store.timeline(a, contact_id=contact_id)["cursor"].tolist() == frame["cursor"].tolist()


def test_ten_thousand_entries_page_quickly(story):
    """A customer with 10,000 comments and 1,000 saves: the first page, a page deep down and a filtered one each
    come back in well under the card's budget (the figures are printed; `make bench` measures them properly)."""
    store, a, _b, _contact = story
    start = dt.datetime(2020, 1, 1)
    count = 10_000
    ids = store.db.reserve_ids("comments_id_seq", count)
    comments = pd.DataFrame({
        "id": ids, "customer_id": a, "written_on": [(start + dt.timedelta(hours=i)).date() for i in range(count)],
        "author": "anna", "body": [f"Note {i}" for i in range(count)], "kind": "comment", "recipients": "",
        "created_at": [start + dt.timedelta(hours=i) for i in range(count)], "created_by": "anna",
        "edited_at": pd.Series([None] * count, dtype="datetime64[us]"), "edited_by": "", "version": 1})
    comments["created_at"] = comments["created_at"].astype("datetime64[us]")
    changes = pd.DataFrame({
        "id": store.db.reserve_ids("customer_changes_id_seq", 1000), "customer_id": a,
        "version": range(100, 1100), "changed_at": [start + dt.timedelta(hours=i, minutes=30) for i in range(1000)],
        "changed_by": "boss", "kind": "update", "field": "nickname", "old_value": "x", "new_value": "y"})
    changes["changed_at"] = changes["changed_at"].astype("datetime64[us]")
    with store.db.transaction():
        store.db.insert_df("comments", comments)
        store.db.insert_df("customer_changes", changes)
    store.timeline(a)  # warm
    timings = {}
    started = time.perf_counter()
    first = store.timeline(a)
    timings["first page"] = time.perf_counter() - started
    cursor, pages = first["cursor"].iloc[-1], 1
    for _ in range(100):
        page = store.timeline(a, before=cursor)
        cursor, pages = page["cursor"].iloc[-1], pages + 1
    started = time.perf_counter()
    deep = store.timeline(a, before=cursor)
    timings["page 102"] = time.perf_counter() - started
    started = time.perf_counter()
    found = store.timeline(a, text="note 9999")
    timings["text filter"] = time.perf_counter() - started
    print({key: f"{value * 1000:.0f} ms" for key, value in timings.items()}, store.db.dialect)
    assert len(first) == 50 and len(deep) == 50 and list(found["title"]) == ["Note 9999"]
    assert deep["at"].iloc[0] < first["at"].iloc[-1]
    assert all(value < 2.0 for value in timings.values()), timings  # generous: a busy test machine, two cores


def test_follow_ups_are_kept_as_follow_up_or_follow_up_written_as_a_python_name(story):
    store, a, _b, _contact = story
    follow_up = store.new_follow_up(a)
    follow_up.param.update(what="Call about the audit", due_on=store.firm_today())
    store.add_follow_up(follow_up, user="anna")
    hyphen, underscore = store.timeline(a, kinds=["follow-up"]), store.timeline(a, kinds="follow_up")
    assert set(hyphen["kind"]) == {"follow-up"} and list(hyphen["title"]) == ["Call about the audit"]
    assert hyphen["cursor"].tolist() == underscore["cursor"].tolist()
    with pytest.raises(cc.ValidationError) as refused:
        store.timeline(a, kinds=["gossip"])
    assert "follow-up" in refused.value.errors["kinds"] and "gossip" in refused.value.errors["kinds"]


def test_an_opportunity_made_won_keeps_its_closure_on_the_timeline_after_an_edit(story):
    store, a, _b, _contact = story
    opportunity = store.new_opportunity(a, owner="anna")
    opportunity.param.update(title="Signed at once", stage="Lead", amount=1000.0, status="won")
    made = store.create_opportunity(opportunity, user="anna")

    def entries():
        frame = store.timeline(a, kinds="opportunity")
        return sorted(frame[frame["title"] == "Signed at once"]["action"])

    assert entries() == ["created", "won"]
    edited = store.get_opportunity(made.id)
    edited.amount = 1200.0
    store.save_opportunity(edited, user="boss")
    assert entries() == ["created", "won"]  # an edit of its amount does not take the closure away
    reopened = store.get_opportunity(made.id)
    reopened.status = "pipeline"
    reopened = store.save_opportunity(reopened, user="boss")
    reopened.status = "lost"
    reopened.lost_reason = "Budget cut"
    store.save_opportunity(reopened, user="boss")
    assert entries().count("lost") == 1 and "reopened" in entries()  # a closure by a save: once, from the history


def test_a_relation_to_a_person_removed_keeps_its_addition_on_their_timeline(empty_store):
    store = empty_store
    customer = store.create_customer(user="anna", name="Relating AB")
    other = store.create_customer(user="anna", name="Persons AB")
    person = store.create_contact(cc.Contact(customer_id=other.id, first_name="Pia", last_name="Person"), user="anna")
    kind = store.choices().allowed("relation_types")[0]
    relation = store.add_relation(cc.Relation(customer_id=customer.id, relation_type=kind,
                                              other_contact_id=person.id), user="anna")
    store.remove_relation(relation.id, user="boss")
    theirs = store.contact_timeline(person.id, kinds=["relation"])
    assert sorted(theirs["action"]) == ["added", "removed"] and set(theirs["who"]) == {"anna", "boss"}


def test_a_merge_brings_the_moved_records_history_to_the_survivors_timeline(empty_store):
    """The duplicate's opportunity moved a stage and was won, its contact person was made inactive: after the merge
    the survivor's timeline has those entries too (they were written at the duplicate), not only their creation."""
    store = empty_store
    survivor = store.create_customer(user="anna", name="Survivor AB")
    duplicate = store.create_customer(user="anna", name="Duplicate AB")
    stages = list(store.list_values("opportunity_stages")["label"])
    opportunity = store.new_opportunity(duplicate.id, owner="anna")
    opportunity.param.update(title="Moved deal", stage=stages[0], amount=1000.0)
    made = store.create_opportunity(opportunity, user="anna")
    moved = store.get_opportunity(made.id)
    moved.stage = stages[1]
    moved = store.save_opportunity(moved, user="anna")
    moved.status = "won"
    store.save_opportunity(moved, user="anna")
    contact = store.create_contact(cc.Contact(customer_id=duplicate.id, first_name="Moa", last_name="Lund"),
                                   user="anna")
    contact.active = False
    store.save_contact(contact, user="boss")

    def entries(customer_id):
        frame = store.timeline(customer_id, kinds=["opportunity", "contact"])
        return sorted(f"{row.kind} {row.action}" for row in frame.itertuples())

    before = entries(duplicate.id)
    assert {"opportunity stage", "opportunity won", "contact deactivated"} <= set(before), before
    store.merge_customers(survivor.id, duplicate.id, user="boss")
    assert entries(survivor.id) == before


def test_a_follow_ups_edits_are_on_the_timeline_and_each_entry_quotes_it_as_it_was_then(story):
    """Editing a follow-up's text or due day left no entry, and every earlier entry (done, open again, given to
    someone else) quoted the text written since — words that did not exist when those things were done."""
    import html
    import re

    from customercard.ui.timeline import EntryText

    store, a, _b, _contact = story
    follow_up = store.new_follow_up(a)
    first_day = store.firm_today() + dt.timedelta(days=3)
    follow_up.param.update(what="Live FU X", due_on=first_day, owner="anna")
    follow_up = store.add_follow_up(follow_up, user="anna")
    store.set_follow_up_done(follow_up.id, user="anna")
    store.set_follow_up_done(follow_up.id, done=False, user="anna")
    given = store.get_follow_up(follow_up.id)
    given.owner = "boss"
    store.save_follow_up(given, user="anna")
    edited = store.get_follow_up(follow_up.id)
    later = first_day + dt.timedelta(days=14)
    edited.param.update(what="Renamed follow-up text", due_on=later)
    store.save_follow_up(edited, user="boss")
    store.set_follow_up_done(follow_up.id, user="boss")

    frame = store.timeline(a, kinds="follow-up").iloc[::-1]  # oldest first
    entries = [(r.action, r.title) for r in frame.itertuples()]
    assert entries[:4] == [("added", "Live FU X"), ("done", "Live FU X"), ("reopened", "Live FU X"),
                           ("reassigned", "Live FU X")], entries
    assert sorted(entries[4:6]) == [("moved", "Renamed follow-up text"), ("rewritten", "Renamed follow-up text")]
    assert entries[6] == ("done", "Renamed follow-up text")
    rewritten = frame[frame["action"] == "rewritten"].iloc[0]
    assert (rewritten["old_value"], rewritten["new_value"], rewritten["who"]) == (
        "Live FU X", "Renamed follow-up text", "boss")
    said = EntryText(store, "Europe/Stockholm", a)
    text = "\n".join(html.unescape(re.sub(r"<[^>]+>", " ", said.html(row))) for row in frame.itertuples())
    boss = store.user_name("boss")
    assert f"{boss} rewrote a follow-up" in text and "Before: Live FU X" in text
    from customercard import formatting

    assert (f"{boss} moved a follow-up from {formatting.date(first_day)} to {formatting.date(later)}"
            in text), text
