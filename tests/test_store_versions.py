"""Every write carries the version it was made from, and the store says what changed: stale edits of contact
persons, comments, events and opportunities are refused with a conflict naming the fields someone else changed
(and who); every committed change is announced to subscribers — on PostgreSQL across connections —, a write that
rolled back never is."""

from __future__ import annotations

import threading
import time

import pytest

import customercard as cc
from customercard.store.changes import Change

from .conftest import running_beside


@pytest.fixture
def customer(empty_store):
    return empty_store.create_customer(user="anna", name="Versioned Konsult AB")


def test_a_stale_contact_edit_names_the_fields_changed_meanwhile(empty_store, customer):
    store = empty_store
    contact = store.create_contact(cc.Contact(customer_id=customer.id, first_name="Eva", last_name="Lund"),
                                   user="anna")
    mine, theirs = store.get_contact(contact.id), store.get_contact(contact.id)
    theirs.title = "CFO"
    store.save_contact(theirs, user="boss")
    mine.title, mine.notes = "CEO", "Met at the fair"
    with pytest.raises(cc.ConflictError) as caught:
        store.save_contact(mine, user="anna")
    conflict = caught.value
    assert [(c.field, c.stored, c.attempted, c.changed_by) for c in conflict.conflicts] == [
        ("title", "CFO", "CEO", "boss")]
    assert (conflict.stored_version, conflict.attempted_version) == (2, 1)
    assert store.get_contact(contact.id).notes == ""  # nothing of the stale save was written
    # also looked up by field, as ValidationError.errors is
    assert "title" in conflict.conflicts and "notes" not in conflict.conflicts
    assert conflict.conflicts["title"].stored == "CFO" and list(conflict.conflicts.keys()) == ["title"]
    with pytest.raises(KeyError):
        conflict.conflicts["notes"]


def test_stale_comment_event_and_opportunity_edits_are_refused(empty_store, customer):
    store = empty_store
    comment = store.add_comment(customer.id, "First words", user="anna")
    assert comment.version == 1
    first, second = store.get_comment(comment.id), store.get_comment(comment.id)
    first.body = "Edited by the boss"
    assert store.edit_comment(first, user="boss").version == 2
    second.body = "Edited by Anna from the old text"
    with pytest.raises(cc.ConflictError) as caught:
        store.edit_comment(second, user="anna")
    assert [(c.field, c.changed_by) for c in caught.value.conflicts] == [("body", "boss")]
    assert store.get_comment(comment.id).body == "Edited by the boss"

    event = store.new_event(customer.id, owner="anna")
    event.title = "Kick-off"
    event = store.create_event(event, user="anna")
    seen = event.version
    store.set_event_status(event.id, "cancelled", user="boss", version=seen)
    with pytest.raises(cc.ConflictError):
        store.set_event_status(event.id, "done", user="anna", version=seen)  # drawn before the cancel
    assert store.get_event(event.id).status == "cancelled"

    opportunity = store.new_opportunity(customer.id, owner="anna")
    opportunity.title, opportunity.amount = "Audit", 78000.0
    opportunity = store.create_opportunity(opportunity, user="anna")
    erik, anna = store.get_opportunity(opportunity.id), store.get_opportunity(opportunity.id)
    erik.amount = 80000.0
    store.save_opportunity(erik, user="boss")
    anna.amount = 90000.0
    with pytest.raises(cc.ConflictError) as caught:
        store.save_opportunity(anna, user="anna")
    assert [(c.field, c.stored, c.attempted) for c in caught.value.conflicts] == [("amount", 80000.0, 90000.0)]
    assert store.get_opportunity(opportunity.id).amount == 80000.0


def _collect(store) -> tuple[list[Change], threading.Event]:
    heard: list[Change] = []
    arrived = threading.Event()

    def listener(change: Change) -> None:
        heard.append(change)
        arrived.set()
    store.changes.subscribe(listener, weak=False)
    return heard, arrived


def _wait_for(heard: list[Change], predicate, timeout: float = 10.0) -> list[Change]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for c in heard if predicate(c)]
        if found:
            return found
        time.sleep(0.02)
    return []


def test_committed_changes_are_announced_and_rolled_back_ones_never(empty_store, customer):
    store = empty_store
    heard, _arrived = _collect(store)
    customer.phone = "08-123 45 67"
    saved = store.save_customer(customer, user="anna")
    found = _wait_for(heard, lambda c: c.kind == "customer" and c.version == saved.version)
    assert found and found[0].id == customer.id and found[0].by == "anna" and "phone" in found[0].fields
    store.add_comment(customer.id, "Hello", user="anna")
    assert _wait_for(heard, lambda c: c.kind == "comment" and c.customer_id == customer.id)
    count = len(heard)
    with pytest.raises(RuntimeError), store.db.transaction():
        store.add_comment(customer.id, "Never committed", user="anna")
        raise RuntimeError("rolled back")
    time.sleep(0.5)
    assert len(heard) == count  # the rolled back comment was never announced


def test_another_connection_hears_the_change_on_postgresql(pg_server, empty_template_pg):
    """Two stores on one PostgreSQL database stand for two server processes: a save in one reaches the other."""
    from .conftest import database_numbers

    name = f"test_{next(database_numbers)}"
    url = pg_server.create_database(name, template=empty_template_pg)
    first, second = cc.open_store(url), cc.open_store(url)
    try:
        heard, _arrived = _collect(second)
        time.sleep(0.5)  # the listener connects
        customer = first.create_customer(user="anna", name="Across Processes AB")
        found = _wait_for(heard, lambda c: c.kind == "customer" and c.id == customer.id)
        assert found and found[0].by == "anna" and found[0].version == 1
    finally:
        first.close()
        second.close()
        pg_server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_admin_lists_users_criteria_and_settings_refuse_stale_changes(empty_store):
    store = empty_store
    industries = store.list_values("industries")
    first = industries.iloc[0]
    seen = int(first["version"])
    store.rename_list_value(int(first["id"]), "Renamed by the boss", user="boss", version=seen)
    with pytest.raises(cc.ConflictError):
        store.rename_list_value(int(first["id"]), "Renamed from a stale list", user="boss", version=seen)
    with pytest.raises(cc.ConflictError):
        store.set_list_value_active(int(first["id"]), False, user="boss", version=seen)
    with pytest.raises(cc.ConflictError):
        store.move_list_value(int(first["id"]), 1, user="boss", version=seen)
    row = store.list_values("industries").iloc[0]
    assert (row["label"], bool(row["active"]), int(row["version"])) == ("Renamed by the boss", True, seen + 1)

    mine, theirs = store.get_user("anna"), store.get_user("anna")
    theirs.name = "Anna Renamed"
    store.update_user(theirs, by="boss")
    mine.email = "anna@elsewhere.example"
    with pytest.raises(cc.ConflictError) as caught:
        store.update_user(mine, by="boss")
    # only the name is a conflict, with who changed it: the e-mail differs from what is stored only because this
    # save changes it (nobody else did since the copy was read); nothing is written all the same
    assert [(c.field, c.changed_by) for c in caught.value.conflicts] == [("name", "boss")]
    assert store.get_user("anna").email == "anna@firm.example"
    assert store.get_user("anna").name == "Anna Renamed"

    criterion = store.save_criterion(cc.Criterion(name="Versioned size", values=["Small", "Large"]), user="boss")
    stale = criterion.copy()
    criterion.values = ["Small", "Large", "Huge"]
    store.save_criterion(criterion, user="boss")
    stale.values = ["Small"]
    with pytest.raises(cc.ConflictError):
        store.save_criterion(stale, user="boss")
    assert [c.values for c in store.criteria() if c.name == "Versioned size"] == [["Small", "Large", "Huge"]]

    one, two = store.settings(), store.settings()
    one.start_address = "Storgatan 1, Göteborg"
    store.save_settings(one, user="boss")
    two.base_currency, two.exchange_rates = "EUR", "SEK 0.087"
    with pytest.raises(cc.ConflictError):
        store.save_settings(two, user="boss")
    assert (store.settings().start_address, store.settings().base_currency) == ("Storgatan 1, Göteborg", "SEK")


def test_two_administrators_naming_two_values_alike_at_once_get_one_list_value(demo_store):
    """Two renames (or an add and a rename) to the same name at the same moment: one is written, the other is told
    the name is taken — never two values that read alike, never a database error."""
    import threading

    from customercard.errors import CustomerCardError

    values = demo_store.list_values("industries")
    first, second = (values.iloc[i] for i in (0, 1))
    for round_ in range(4):
        name = f"Same Name {round_}"
        barrier, outcomes = threading.Barrier(2), []

        def rename(row, name=name, barrier=barrier, outcomes=outcomes):
            barrier.wait()
            try:
                demo_store.rename_list_value(int(row.id), name, user="admin")
                outcomes.append("ok")
            except CustomerCardError as exc:
                outcomes.append(type(exc).__name__)
        threads = [threading.Thread(target=rename, args=(row,)) for row in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert sorted(outcomes) == ["ValidationError", "ok"]
        labels = demo_store.list_values("industries")["label"].str.casefold().tolist()
        assert labels.count(name.casefold()) == 1
        try:
            demo_store.add_list_value("industries", name.upper(), user="admin")
        except CustomerCardError as exc:
            assert "already" in str(exc.errors["label"])
        else:
            raise AssertionError("a value that reads as an existing one was added")


def test_restoring_the_value_from_before_a_customer_existed_is_a_message_not_a_crash(demo_store):
    from customercard.errors import ValidationError

    created = demo_store.create_customer(user="anna", name="Restored To Nothing AB")
    for change in demo_store.history(created.id).itertuples(index=False):
        try:
            demo_store.restore(created.id, int(change.change_id), which="old", user="anna")
        except ValidationError as exc:
            assert change.field in exc.errors
    assert demo_store.get_customer(created.id).name == "Restored To Nothing AB"


def test_a_save_with_nothing_changed_is_refused_when_the_customer_was_saved_or_merged_since(demo_store):
    """A form saved with nothing typed, after someone else's save, said "Saved." and gave back the values it was
    opened with (the card went back to them); after a merge it brought the merged-away customer back to life on the
    card. Nothing was written either way, but the save was taken as done on a copy that was not what is stored."""
    store = demo_store
    ids = [int(i) for i in store.sql("SELECT id FROM customers WHERE NOT archived AND merged_into IS NULL ORDER BY id "
                                     "LIMIT 3")["id"]]
    mine = store.get_customer(ids[0])
    theirs = store.get_customer(ids[0])
    theirs.name = theirs.name + " (renamed)"
    store.save_customer(theirs, user="erik")
    with pytest.raises(cc.ConflictError) as refused:
        store.save_customer(mine, user="anna")
    assert refused.value.stored_version == mine.version + 1 and "name" in str(refused.value)
    fresh = store.get_customer(ids[0])
    assert store.save_customer(fresh, user="anna").version == fresh.version  # nothing changed, nothing written
    survivor, other = ids[1], ids[2]
    open_before = store.get_customer(other)
    store.merge_customers(survivor, other, user="admin")
    with pytest.raises((cc.ConflictError, cc.PermissionDenied)):
        store.save_customer(open_before, user="anna")


def test_preferences_are_a_layout_s_not_a_store_of_data(empty_store):
    """Any token that may keep its user's preferences stored 3 × 20 MB under keys of 5,000 characters, and nothing
    counted the keys: a user could grow the database at will. Keys, values and their number are bounded."""
    from customercard.store.prefs import PREF_KEY_LENGTH, PREF_VALUE_LENGTH, PREFS_PER_USER

    store = empty_store
    store.set_pref("anna", "card.collapsed.groups", True)
    store.set_pref("anna", "card.collapsed.groups", False)  # the same key again: replaced, not counted twice
    assert store.prefs("anna", "card.") == {"card.collapsed.groups": False}
    with pytest.raises(cc.ValidationError) as refused:
        store.set_pref("anna", "k" * (PREF_KEY_LENGTH + 1), True)
    assert "key" in refused.value.errors
    with pytest.raises(cc.ValidationError) as refused:
        store.set_pref("anna", "junk", "v" * PREF_VALUE_LENGTH)
    assert "value" in refused.value.errors
    for i in range(PREFS_PER_USER - 1):
        store.set_pref("anna", f"many.{i}", i)
    with pytest.raises(cc.ValidationError):
        store.set_pref("anna", "one.too.many", 1)
    store.set_pref("anna", "many.3", "changed")  # a kept key may still change
    assert len(store.prefs("anna")) == PREFS_PER_USER and store.prefs("anna")["many.3"] == "changed"


def test_preferences_read_by_a_second_store_and_beside_a_writer_are_the_stored_ones(empty_store):
    """Preferences are kept in memory between reads on DuckDB (every card reads them as it opens): a write made
    through another store on the same database, or while a read is under way, is what the next read gives."""
    store = empty_store
    other = cc.Store(store.location)
    try:
        assert store.prefs("anna") == {}
        other.set_pref("anna", "card.collapsed.groups", True)
        assert store.prefs("anna") == {"card.collapsed.groups": True}
        store.set_pref("anna", "card_wide", 1)
        assert other.prefs("anna", "card_") == {"card_wide": 1}  # a prefix is a prefix: "_" is no wildcard
        rounds = 150

        def write() -> None:
            for i in range(rounds):
                other.set_pref("anna", "card.width", i)

        with running_beside(write) as done:
            while not done.is_set():
                assert store.prefs("anna").get("card.width", 0) in range(rounds)
        assert store.prefs("anna")["card.width"] == rounds - 1
        assert other.prefs("anna", "card.") == {"card.collapsed.groups": True, "card.width": rounds - 1}
        assert store.prefs("erik") == {}
    finally:
        other.close()


def test_a_preference_set_within_a_larger_write_is_read_as_committed(empty_store):
    """set_pref inside a larger write (the follow-up mail choice with its admin-log line) forgot the kept
    preferences before the write committed: a read on another thread between the two kept the value before, and
    the store kept answering it. What is kept is forgotten again once the write has committed."""
    store = empty_store
    store.set_pref("anna", "mail.follow_ups", True)
    seen = []
    with store.db.transaction():
        store.set_pref("anna", "mail.follow_ups", False)
        reader = threading.Thread(target=lambda: seen.append(store.prefs("anna")["mail.follow_ups"]))
        reader.start()
        reader.join()
    assert seen == [True]  # (not committed yet: the value before)
    assert store.prefs("anna")["mail.follow_ups"] is False
    with pytest.raises(RuntimeError), store.db.transaction():  # rolled back: nothing changes, nothing is kept wrong
        store.set_pref("anna", "mail.follow_ups", True)
        raise RuntimeError("given up")
    assert store.prefs("anna")["mail.follow_ups"] is False
