"""Follow-ups in the store, on DuckDB and PostgreSQL: add, edit, reassign, done and open again, the rules, the
history, a second writer's conflict, a viewer refused, the timeline kind, and the home page's reads."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import customercard as cc


@pytest.fixture
def firm(empty_store):
    store = empty_store
    customer = store.create_customer(user="anna", name="Follow Up AB", account_manager="anna")
    return store, customer


def _add(store, customer_id, what="Call about the offer", due=None, owner="", user="anna", **links):
    follow_up = store.new_follow_up(customer_id, owner=owner, **links)
    follow_up.what = what
    if due is not None:
        follow_up.due_on = due
    return store.add_follow_up(follow_up, user=user)


def test_add_edit_reassign_done_and_history(firm):
    store, customer = firm
    today = store.firm_today()
    added = _add(store, customer.id, due=today - dt.timedelta(days=2))
    assert added.version == 1 and added.owner == "anna" and not added.done
    frame = store.follow_ups(customer_id=customer.id)
    row = frame.iloc[0]
    assert (row.what, row.owner, row.customer_name, bool(row.overdue)) == ("Call about the offer", "anna",
                                                                           "Follow Up AB", True)
    assert store.get_follow_up(added.id).is_overdue(today)

    edited = store.get_follow_up(added.id)
    edited.owner = "boss"
    edited.due_on = today + dt.timedelta(days=3)
    saved = store.save_follow_up(edited, user="anna")
    assert saved.version == 2
    assert store.follow_ups(owner="boss").iloc[0].id == added.id
    assert store.follow_ups(owner="anna").empty
    assert not bool(store.follow_ups(owner="boss").iloc[0].overdue)

    done = store.set_follow_up_done(added.id, user="boss")
    assert done.done and done.done_by == "boss" and done.done_at is not None and done.version == 3
    assert store.follow_ups(customer_id=customer.id, open_only=True).empty
    again = store.set_follow_up_done(added.id, done=False, user="anna", version=3)
    assert not again.done and again.done_by == "" and again.done_at is None

    history = store.record_history("follow_ups", added.id)
    assert set(history["kind"]) == {"create", "update"}
    assert {"owner", "due_on", "done"} <= set(history["field"])
    assert set(history["changed_by"]) == {"anna", "boss"}


def test_rules_and_links(firm):
    store, customer = firm
    other = store.create_customer(user="anna", name="Other AB")
    theirs = store.create_contact(cc.Contact(customer_id=other.id, first_name="Ola", last_name="Berg"), user="anna")
    mine = store.create_contact(cc.Contact(customer_id=customer.id, first_name="Eva", last_name="Lind"), user="anna")
    blank = store.new_follow_up(customer.id)
    blank.due_on = None
    with pytest.raises(cc.ValidationError) as caught:
        store.add_follow_up(blank, user="anna")
    assert {"what", "due_on"} <= set(caught.value.errors)
    with pytest.raises(cc.ValidationError) as caught:
        _add(store, customer.id, owner="nobody")
    assert "owner" in caught.value.errors
    with pytest.raises(cc.ValidationError) as caught:
        _add(store, customer.id, contact_id=theirs.id)
    assert "contact_id" in caught.value.errors
    linked = _add(store, customer.id, contact_id=mine.id)
    row = store.follow_ups(contact_id=mine.id).iloc[0]
    assert row.id == linked.id and row.contact_name == "Eva Lind"
    with pytest.raises(cc.NotFound):
        _add(store, 999_999)
    with pytest.raises(cc.NotFound):
        store.get_follow_up(999_999)


def test_a_viewer_may_not_write(firm):
    store, customer = firm
    with pytest.raises(cc.PermissionDenied):
        _add(store, customer.id, user="vera")
    added = _add(store, customer.id)
    with pytest.raises(cc.PermissionDenied):
        store.set_follow_up_done(added.id, user="vera")
    assert not store.get_follow_up(added.id).done


def test_two_people_edit_the_same_follow_up(firm):
    store, customer = firm
    added = _add(store, customer.id)
    annas, boss = store.get_follow_up(added.id), store.get_follow_up(added.id)
    annas.what = "Call Eva about the offer"
    store.save_follow_up(annas, user="anna")
    boss.due_on = boss.due_on + dt.timedelta(days=1)
    with pytest.raises(cc.ConflictError) as caught:
        store.save_follow_up(boss, user="boss")
    assert [c.field for c in caught.value.conflicts] == ["what"]
    stored = store.get_follow_up(added.id)
    assert stored.what == "Call Eva about the offer" and stored.due_on == added.due_on
    with pytest.raises(cc.ConflictError):  # marked done from a list drawn before the edit
        store.set_follow_up_done(added.id, user="boss", version=1)


def test_on_the_timeline_as_follow_ups(firm):
    store, customer = firm
    added = _add(store, customer.id, what="Send the proposal")
    store.set_follow_up_done(added.id, user="anna")
    entries = store.timeline(customer.id, kinds="follow-up")
    assert list(entries["action"]) == ["done", "added"]
    assert set(entries["title"]) == {"Send the proposal"}
    assert set(entries["ref_table"]) == {"follow_ups"}
    store.save_settings(_crm_off(store), user="boss")  # follow-ups are not part of the CRM module
    assert len(store.timeline(customer.id, kinds="follow-up")) == 2


def test_the_timeline_keeps_each_time_a_follow_up_was_done_or_opened_again_and_what_it_said_when_added(firm):
    """The timeline read the follow-up's row as it is now: opened again, its "done" entry was gone; edited, its
    "added" entry quoted today's text. It reads the follow-up's history: every mark, by whom, and the first words."""
    store, customer = firm
    person = store.create_contact(cc.Contact(customer_id=customer.id, first_name="Eva", last_name="Lind"), user="anna")
    today = store.firm_today()
    added = _add(store, customer.id, what="Send the proposal", due=today, contact_id=person.id)
    store.set_follow_up_done(added.id, user="anna")
    store.set_follow_up_done(added.id, done=False, user="boss")
    edited = store.get_follow_up(added.id)
    edited.what, edited.due_on = "Send the revised proposal", today + dt.timedelta(days=7)
    store.save_follow_up(edited, user="anna")
    store.set_follow_up_done(added.id, user="boss")
    for timeline in (store.timeline(customer.id, kinds="follow-up"), store.contact_timeline(person.id)):
        entries = timeline[timeline["kind"] == "follow-up"]
        marks = entries[~entries["action"].isin(["rewritten", "moved"])]
        assert list(marks["action"]) == ["done", "reopened", "done", "added"]
        assert list(marks["who"]) == ["boss", "boss", "anna", "anna"]
        assert marks["title"].iloc[-1] == "Send the proposal"  # as it was added
        assert marks["detail"].iloc[-1] == today.isoformat()
        assert marks["title"].iloc[0] == "Send the revised proposal"  # what was done: as it was then
        assert list(marks["title"].iloc[1:3]) == ["Send the proposal"] * 2  # done, open again: before the edit
        edits = entries[entries["action"].isin(["rewritten", "moved"])]  # the edit between: by whom, what changed
        assert sorted(edits["action"]) == ["moved", "rewritten"] and set(edits["who"]) == {"anna"}
        rewritten = edits[edits["action"] == "rewritten"].iloc[0]
        assert (rewritten["old_value"], rewritten["new_value"]) == ("Send the proposal", "Send the revised proposal")


def test_a_follow_up_added_as_done_is_on_the_timeline_once_done(firm):
    store, customer = firm
    follow_up = store.new_follow_up(customer.id)
    follow_up.what, follow_up.done = "Sent the proposal", True
    store.add_follow_up(follow_up, user="anna")
    entries = store.timeline(customer.id, kinds="follow-up")
    assert list(entries["action"]) == ["done", "added"] or list(entries["action"]) == ["added", "done"]
    assert list(entries["who"]) == ["anna", "anna"]


def _crm_off(store):
    settings = store.settings()
    settings.crm_enabled = False
    return settings


def test_reminder_claim_once_a_day(firm):
    store, customer = firm
    today = store.firm_today()
    _add(store, customer.id, due=today)
    _add(store, customer.id, due=today + dt.timedelta(days=5), owner="boss")
    assert store.follow_up_mail_recipients(today) == ["anna"]
    assert store.claim_follow_up_mail("anna", today)
    assert not store.claim_follow_up_mail("anna", today)
    assert store.follow_up_mail_recipients(today) == []
    store.release_follow_up_mail("anna", today)
    assert store.follow_up_mail_recipients(today) == ["anna"]
    store.set_follow_up_mail_wanted("anna", False, user="anna")
    assert store.follow_up_mail_recipients(today) == []
    with pytest.raises(cc.PermissionDenied):
        store.set_follow_up_mail_wanted("anna", True, user="vera")
    assert store.follow_up_mail_recipients(today + dt.timedelta(days=5)) == ["boss"]


def test_home_page_reads(firm):
    store, customer = firm
    other = store.create_customer(user="boss", name="Boss Customer AB", account_manager="boss")
    for i in range(25):
        store.record_card_view("anna", customer.id if i == 24 else other.id)
    store.record_card_view("anna", other.id)
    recent = store.recent_cards("anna")
    assert list(recent["customer_id"]) == [other.id, customer.id]

    assert store.home_seen("anna") is None
    before = store.home_seen("anna")
    store.mark_home_seen("anna", at=dt.datetime(2020, 1, 1))
    assert store.home_seen("anna") == dt.datetime(2020, 1, 1) != before
    mine = store.get_customer(customer.id)
    mine.phone = "+46 8 123 456 78"
    store.save_customer(mine, user="boss")
    store.add_comment(customer.id, "Own note", user="anna")
    changed = store.changes_by_others("anna", dt.datetime(2020, 1, 1), account_manager="anna")
    assert list(changed["customer_id"]) == [customer.id] and changed.iloc[0].last_by == "boss"
    assert store.changes_by_others("boss", dt.datetime(2020, 1, 1), account_manager="anna").iloc[0].last_by == "anna"

    today = dt.date(2026, 6, 15)
    store.add_invoices(pd.DataFrame({
        "customer_id": [customer.id, customer.id, other.id, other.id],
        "number": ["1", "2", "3", "4"],
        "invoice_date": [dt.date(2025, 3, 1), dt.date(2026, 3, 1), dt.date(2025, 3, 1), dt.date(2025, 9, 1)],
        "amount": [1000.0, 400.0, 100.0, 9999.0], "currency": ["SEK"] * 4,
        "amount_base": [1000.0, 400.0, 100.0, 9999.0],
    }), user="anna")
    behind = store.invoicing_behind(account_manager="anna", today=today)
    assert list(behind["customer_id"]) == [customer.id]
    assert (behind.iloc[0].this_year, behind.iloc[0].last_year, behind.iloc[0].behind) == (400.0, 1000.0, 600.0)
    everyone = store.invoicing_behind(today=today)
    assert set(everyone["customer_id"]) == {customer.id, other.id}  # 9,999 in September is after 15 June


def test_anonymising_a_person_clears_their_name_from_follow_ups(firm):
    store, customer = firm
    person = store.create_contact(cc.Contact(customer_id=customer.id, first_name="Greta", last_name="Sandberg"),
                                  user="anna")
    added = _add(store, customer.id, what="Call Greta Sandberg about the offer", contact_id=person.id)
    store.anonymise_contact(person.id, user="boss")
    assert "Greta" not in store.get_follow_up(added.id).what
    assert not any("Greta" in str(v) for v in store.record_history("follow_ups", added.id)["new_value"])


def test_changed_by_others_names_the_last_writer_whatever_the_logins_order(firm):
    store, customer = firm
    for writer, phone in (("boss", "+46 8 123 456 78"), ("anna", "+46 8 123 456 79")):  # "anna" sorts before "boss"
        mine = store.get_customer(customer.id)
        mine.phone = phone
        store.save_customer(mine, user=writer)
    store.add_user(cc.User(login="olle", name="Olle", email="olle@firm.example", role="manager"),
                   password="a long enough pass phrase", by="boss")
    changed = store.changes_by_others("olle", dt.datetime(2020, 1, 1), account_manager="anna")
    assert changed.iloc[0].last_by == "anna" and changed.iloc[0].changes >= 2
    store.add_comment(customer.id, "Boss again", user="boss")
    assert store.changes_by_others("olle", dt.datetime(2020, 1, 1)).iloc[0].last_by == "boss"


def test_a_follow_up_is_given_only_to_an_active_manager_or_administrator_and_kept_when_its_owner_leaves(firm):
    store, customer = firm
    for owner in ("vera", "olle"):  # a viewer cannot mark it done; a deactivated user is never reminded
        if owner == "olle":
            store.add_user(cc.User(login="olle", name="Olle", email="olle@firm.example", role="manager"),
                           password="a long enough pass phrase", by="boss")
            kept = _add(store, customer.id, owner="olle")
            leaving = store.get_user("olle")
            leaving.active = False
            store.update_user(leaving, by="boss")
        with pytest.raises(cc.ValidationError) as refused:
            _add(store, customer.id, owner=owner)
        assert "cannot be the owner" in refused.value.errors["owner"]
    # the one olle had stays his until someone gives it to another; its other fields can still change
    kept = store.get_follow_up(kept.id)
    kept.what = "Call about the new offer"
    store.save_follow_up(kept, user="anna")
    assert store.get_follow_up(kept.id).owner == "olle"
    kept = store.get_follow_up(kept.id)
    kept.owner = "boss"
    assert store.save_follow_up(kept, user="anna").owner == "boss"


def test_changed_by_others_counts_saves_not_the_fields_they_wrote(firm):
    """A colleague's comment is one change (not one per column it wrote), a save of two fields is one, a follow-up
    added is one — as the timeline tells them."""
    store, customer = firm
    since = store.sql("SELECT max(changed_at) AS at FROM customer_changes")["at"][0]
    store.add_comment(customer.id, "Called them about the offer", user="boss")
    changed = store.changes_by_others("anna", since, account_manager="anna")
    assert list(changed["customer_id"]) == [customer.id] and changed.iloc[0].changes == 1
    mine = store.get_customer(customer.id)
    mine.phone, mine.email = "+46 8 123 456 78", "info@followup.example"
    store.save_customer(mine, user="boss")
    assert store.changes_by_others("anna", since, account_manager="anna").iloc[0].changes == 2
    _add(store, customer.id, what="Send the offer", user="boss")
    assert store.changes_by_others("anna", since, account_manager="anna").iloc[0].changes == 3
    store.add_comment(customer.id, "My own note", user="anna")  # one's own changes are not counted
    assert store.changes_by_others("anna", since, account_manager="anna").iloc[0].changes == 3


def test_an_administrator_changing_someone_elses_language_or_reminder_mail_is_in_the_admin_log(firm):
    store, _customer = firm
    store.set_language("anna", "sv", by="anna")  # one's own choice: a preference, not an administrative change
    store.set_follow_up_mail_wanted("anna", False, user="anna")
    assert not len(store.admin_log(limit=50).query("item.str.startswith('anna:')", engine="python"))
    store.set_language("anna", "da", by="boss")
    store.set_follow_up_mail_wanted("anna", True, user="boss")
    log = store.admin_log(limit=50)
    mine = log[log["item"].astype(str).isin(["anna: language", "anna: follow-up e-mail"])]
    assert set(mine["changed_by"]) == {"boss"} and len(mine) == 2
    assert set(mine["new_value"]) == {"da", "true"} and set(mine["old_value"]) == {"sv", "false"}


def test_a_relation_made_to_my_customer_from_another_card_is_a_change_by_others(empty_store):
    """Boss relates his customer to Anna's (and later removes it): both are changes on Anna's customer, as its
    timeline shows them — not only on the customer the relation was made from."""
    import datetime as dt

    from customercard.models import Relation

    store = empty_store
    mine = store.create_customer(user="anna", name="Anna's Customer AB", account_manager="anna")
    theirs = store.create_customer(user="boss", name="Boss Customer AB", account_manager="boss")
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    relation_type = store.list_values("relation_types")["label"][0]
    relation = store.add_relation(Relation(customer_id=theirs.id, relation_type=relation_type,
                                           other_customer_id=mine.id), user="boss")
    changed = store.changes_by_others("anna", since, account_manager="anna")
    assert list(changed["customer_id"]) == [mine.id] and changed.iloc[0].last_by == "boss"
    store.remove_relation(relation.id, user="boss")
    assert store.changes_by_others("anna", since, account_manager="anna").iloc[0].changes == 2
