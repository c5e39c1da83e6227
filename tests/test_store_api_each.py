"""One test for each public method of Store that no other test called (issue 17), on a real DuckDB store.

Each test asserts what the method's docstring and docs/store-api.md promise: the values it gives, a viewer refused
where it writes, NotFound for an id that does not exist, a conflict for a stale version where it takes one, and the
history it records. ``tests/test_public_api.py`` checks that every public member of ``Store`` is called by a test.

The days "as of" are given as moments (a naive datetime is a UTC moment, as the docstrings say) taken between two
writes, so the tests need no clock of their own; a date before the customer existed is given as a date.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import typing
from pathlib import Path

import duckdb
import pandas as pd
import pytest

import customercard as cc
from customercard.firm_defaults import install_defaults
from customercard.store import Change, Store

from .conftest import copy_database


# -- the store, and small helpers ------------------------------------------------------------------------------------
@pytest.fixture
def store(empty_template: Path, tmp_path: Path):
    """A store on a private DuckDB copy of an empty firm's database: the default lists and criteria, users boss
    (admin), anna (manager) and vera (viewer)."""
    with Store(copy_database(empty_template, tmp_path / "db")) as opened:
        yield opened


def declared(method: typing.Callable[..., typing.Any], parameter: str) -> typing.Any:
    """The type a public Store method declares for ``parameter`` (the class of its items for a list): the tests make
    their arguments from what the public method says it takes, wherever the store keeps that class."""
    hint = typing.get_type_hints(method)[parameter]
    return typing.get_args(hint)[0] if typing.get_origin(hint) is list else hint


def moment() -> dt.datetime:
    """Now as a stored moment (naive UTC), strictly after every write made before it and before every write after."""
    time.sleep(0.002)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    time.sleep(0.002)
    return now


def linked(store: Store, name: str = "Linked AB") -> cc.Customer:
    customer = store.create_customer(user="anna", name=name, phone="08-123 45 67")
    return store.link_customer(customer.id, "Fortnox", f"FN-{customer.id}", user="boss")


MISSING = 987654


# -- the database itself ---------------------------------------------------------------------------------------------
def test_is_empty_until_there_is_a_user_or_a_customer(tmp_path: Path) -> None:
    with Store(tmp_path / "fresh.duckdb") as fresh:
        assert fresh.is_empty() is True
        install_defaults(fresh)  # lists and criteria are not customers or users
        assert fresh.is_empty() is True
        fresh.add_user(cc.User(login="boss", name="Boss", email="boss@firm.example", role="admin"),
                       password_hash="x", by="system:test")
        assert fresh.is_empty() is False
    with Store(tmp_path / "customers-only.duckdb") as other:
        install_defaults(other)
        other.create_customer(user="system:test", name="Only a customer AB")
        assert other.is_empty() is False


def test_borrowed_shares_the_connection_caches_and_changes_and_does_not_close(store: Store) -> None:
    borrowed = store.borrowed()
    assert borrowed is not store
    heard: list[Change] = []
    stop = borrowed.changes.subscribe(heard.append, weak=False)
    customer = store.create_customer(user="anna", name="Borrowed AB")  # written through the owner …
    assert [(c.kind, c.id) for c in heard] == [("customer", customer.id)]  # … heard through the borrowed one
    stop()
    assert borrowed.get_customer(customer.id).name == "Borrowed AB"
    assert store.can("vera", "read")  # the owner's cache of users is the borrowed one's …
    store.db.execute("UPDATE users SET active = FALSE WHERE login = ?", ["vera"])  # written outside the store
    assert store.can("vera", "read") and borrowed.can("vera", "read")
    borrowed.forget_cached()  # … forgotten through the borrowed one, forgotten for the owner
    assert not store.can("vera", "read")
    borrowed.close()  # does nothing: the owner closes it
    borrowed.close()
    with borrowed:
        pass
    assert store.get_customer(customer.id).version == 1 and borrowed.customer_exists(customer.id)
    store.close()
    with pytest.raises(duckdb.Error):  # closed by its owner, the borrowed one is closed too
        borrowed.get_customer(customer.id)


def test_changes_tells_each_committed_change_until_unsubscribed(store: Store) -> None:
    heard: list[Change] = []
    stop = store.changes.subscribe(heard.append, weak=False)
    customer = store.create_customer(user="anna", name="Heard AB")
    customer.phone = "08-765 43 21"
    store.save_customer(customer, user="anna")
    assert [(c.kind, c.id, c.customer_id, c.version, c.by) for c in heard] == [
        ("customer", customer.id, customer.id, 1, "anna"), ("customer", customer.id, customer.id, 2, "anna")]
    assert "phone" in heard[-1].fields
    customer.email = "not an address"
    with pytest.raises(cc.ValidationError):
        store.save_customer(customer, user="anna")
    with pytest.raises(cc.PermissionDenied):
        store.add_comment(customer.id, "Viewers do not write", user="vera")
    assert len(heard) == 2  # nothing committed, nothing told
    stop()
    store.add_comment(customer.id, "Nobody listens", user="anna")
    assert len(heard) == 2


class Listener:
    """A page's listener: a bound method, held weakly by default."""

    def __init__(self) -> None:
        self.heard: list[Change] = []

    def hear(self, change: Change) -> None:
        self.heard.append(change)


def test_changes_holds_a_bound_method_weakly_unless_asked(store: Store) -> None:
    before = store.changes.subscribers
    kept, dropped = Listener(), Listener()
    store.changes.subscribe(kept.hear)
    store.changes.subscribe(dropped.hear)
    held = Listener()
    store.changes.subscribe(held.hear, weak=False)
    store.changes.subscribe(Listener().hear, weak=False)  # nobody else holds it: the feed does
    assert store.changes.subscribers == before + 4
    del dropped  # a card nobody holds any more stops listening by itself
    customer = store.create_customer(user="anna", name="Weakly Heard AB")
    assert [c.id for c in kept.heard] == [customer.id] == [c.id for c in held.heard]
    assert store.changes.subscribers == before + 3  # the dropped one's subscription went with it


# -- customers -------------------------------------------------------------------------------------------------------
def test_customer_exists_for_archived_and_merged_ones_too(store: Store) -> None:
    survivor = store.create_customer(user="anna", name="Survivor AB")
    other = store.create_customer(user="anna", name="Other AB")
    archived = store.create_customer(user="anna", name="Archived AB")
    archived.archived = True
    store.save_customer(archived, user="anna")
    store.merge_customers(survivor.id, other.id, user="anna")
    assert store.customer_exists(survivor.id) is True
    assert store.customer_exists(archived.id) is True
    assert store.customer_exists(other.id) is True
    assert store.get_customer(other.id).merged_into == survivor.id
    assert store.customer_exists(MISSING) is False


def test_countries_in_use_are_the_visiting_countries_sorted_without_empty_ones(store: Store) -> None:
    assert store.countries_in_use() == []
    store.create_customer(user="anna", name="Oslo Tre AS", **{"visit_address.country": "NO"})
    store.create_customer(user="anna", name="Svensk AB", **{"visit_address.country": "SE"})
    store.create_customer(user="anna", name="Dansk ApS", **{"visit_address.country": "DK"})
    store.create_customer(user="anna", name="Norsk To AS", **{"visit_address.country": "NO"})
    assert store.countries_in_use() == ["DK", "NO", "SE"]
    nowhere = store.create_customer(user="anna", name="Nowhere AB", **{"visit_address.country": ""})
    assert store.get_customer(nowhere.id).visit_address.country == ""
    assert store.countries_in_use() == ["DK", "NO", "SE"]


def test_duplicates_of_answers_possible_duplicates_for_many_at_once(store: Store) -> None:
    timber = store.create_customer(user="anna", name="Nordic Timber AB", org_number="556036-0793")
    store.create_customer(user="anna", name="Nordic Timber Sales AB")
    store.create_customer(user="anna", name="Completely Else AB")
    query = declared(Store.duplicates_of, "wanted")
    wanted = [query(name="Nordic Timber"), query(org_number="5560360793"),
              query(name="Nordic Timber AB", exclude_id=timber.id), query(name="Zzyzx Unrelated")]
    found = store.duplicates_of(wanted)
    assert len(found) == len(wanted)
    for hits, asked in zip(found, wanted, strict=True):
        one_at_a_time = store.possible_duplicates(name=asked.name, org_number=asked.org_number,
                                                  vat_number=asked.vat_number, nickname=asked.nickname,
                                                  exclude_id=asked.exclude_id)
        assert [tuple(hit) for hit in hits] == [tuple(row) for row in one_at_a_time.itertuples(index=False)]
        assert [hit[2] for hit in hits] == sorted(hit[2] for hit in hits)  # by name
        assert all(len(hit) == 5 for hit in hits)  # id, number, name, city, reason
    by_name, by_number, excluded, nothing = found
    assert {hit[2] for hit in by_name} >= {"Nordic Timber AB", "Nordic Timber Sales AB"}
    assert [(hit[0], hit[4]) for hit in by_number] == [(timber.id, "same organisation number")]
    assert timber.id not in {hit[0] for hit in excluded}
    assert nothing == []
    assert len(store.duplicates_of([query(name="Nordic Timber")], limit=1)[0]) == 1
    assert store.duplicates_of([]) == []


def test_customer_as_of_gives_every_field_and_the_version_of_that_moment(store: Store) -> None:
    with pytest.raises(cc.NotFound):
        store.customer_as_of(MISSING, dt.date.today())
    customer = store.create_customer(user="anna", name="Gamma Revision AB", nickname="Gamma", status="Prospect")
    first = moment()
    customer.param.update(nickname="G", status="Active", phone="08-123 45 67")
    customer = store.save_customer(customer, user="anna")
    second = moment()
    customer.param.update(name="Gamma Revision Group AB")
    customer.segments = {"Size": ["Large"]}
    customer = store.save_customer(customer, user="anna")

    then = store.customer_as_of(customer.id, first)
    assert (then.name, then.nickname, then.status, then.phone, then.segments) == (
        "Gamma Revision AB", "Gamma", "Prospect", "", {})
    assert then.version == 1 and then.updated_by == "anna"
    middle = store.customer_as_of(customer.id, second)
    assert (middle.name, middle.nickname, middle.status, middle.version) == ("Gamma Revision AB", "G", "Active", 2)
    now = store.customer_as_of(customer.id, moment())
    assert (now.name, now.segments, now.version) == ("Gamma Revision Group AB", {"Size": ["Large"]}, 3)
    assert store.customer_as_of(customer.id, dt.date.today() + dt.timedelta(days=1)).name == "Gamma Revision Group AB"
    with pytest.raises(cc.NotFound):  # before the customer was created
        store.customer_as_of(customer.id, dt.date.today() - dt.timedelta(days=2))

    then.nickname = "Saved from an old day"  # a save from that day's copy is a conflict, never an overwrite
    with pytest.raises(cc.ConflictError):
        store.save_customer(then, user="anna")
    assert store.get_customer(customer.id).nickname == "G"
    assert store.customer_as_of(customer.id, first).nickname == "Gamma"  # reading wrote nothing
    same_day = store.get_customer(customer.id, as_of=first)  # the same answer by the other door
    again = store.customer_as_of(customer.id, first)
    assert {f: same_day.get(f) for f in cc.Customer.fields} == {f: again.get(f) for f in cc.Customer.fields}
    assert same_day.version == again.version == 1 and again.nickname == "Gamma"


def test_unlink_customer_is_for_administrators_version_checked_and_recorded(store: Store) -> None:
    with pytest.raises(cc.NotFound):
        store.unlink_customer(MISSING, user="boss")
    customer = linked(store)
    assert customer.is_linked and (customer.erp_system, customer.erp_customer_id) == ("Fortnox", f"FN-{customer.id}")
    for not_admin in ("anna", "vera"):
        with pytest.raises(cc.PermissionDenied):
            store.unlink_customer(customer.id, user=not_admin)
    with pytest.raises(cc.ConflictError):
        store.unlink_customer(customer.id, user="boss", expected_version=customer.version - 1)
    assert store.get_customer(customer.id).is_linked  # refused: nothing written

    unlinked = store.unlink_customer(customer.id, user="boss", expected_version=customer.version)
    assert not unlinked.is_linked and (unlinked.erp_system, unlinked.erp_customer_id) == ("", "")
    assert unlinked.version == customer.version + 1 and unlinked.updated_by == "boss"
    history = store.history(customer.id)
    latest = history[history["version"] == unlinked.version]
    assert set(latest["field"]) == {"erp_system", "erp_customer_id"} and set(latest["changed_by"]) == {"boss"}
    assert set(latest["old_value"]) == {"Fortnox", f"FN-{customer.id}"}
    log = store.admin_log()
    assert log.iloc[0]["changed_by"] == "boss" and log.iloc[0]["new_value"] == "not linked"
    assert store.unlink_customer(customer.id, user="boss").version == unlinked.version  # unlinked already: no change

    queued = len(store.outbox(customer.id))
    unlinked.phone = "08-765 43 21"
    store.save_customer(unlinked, user="anna")
    assert len(store.outbox(customer.id)) == queued  # an unlinked customer's changes are not sent any more


# -- people, projects, relations -------------------------------------------------------------------------------------
def test_restore_contact_puts_back_a_past_value_as_a_recorded_version_checked_change(store: Store) -> None:
    customer = store.create_customer(user="anna", name="Contact Holder AB")
    contact = store.create_contact(cc.Contact(customer_id=customer.id, first_name="Eva", last_name="Lund",
                                              title="CFO"), user="anna")
    contact.title = "CEO"
    contact = store.save_contact(contact, user="anna")
    change_id = int(store.record_history("contacts", contact.id).iloc[0]["change_id"])  # the title's change

    with pytest.raises(cc.PermissionDenied):
        store.restore_contact(contact.id, change_id, user="vera")
    with pytest.raises(cc.ConflictError):
        store.restore_contact(contact.id, change_id, user="anna", expected_version=contact.version - 1)
    with pytest.raises(cc.NotFound):
        store.restore_contact(contact.id, MISSING, user="anna")
    other = store.create_contact(cc.Contact(customer_id=customer.id, first_name="Bo", last_name="Ek"), user="anna")
    with pytest.raises(cc.NotFound):  # a change of another contact person is not this one's
        store.restore_contact(other.id, change_id, user="anna")
    assert store.get_contact(contact.id).title == "CEO" and len(store.record_history("contacts", contact.id)) == 5

    restored = store.restore_contact(contact.id, change_id, "old", user="anna", expected_version=contact.version)
    assert restored.title == "CFO" and restored.version == contact.version + 1
    assert store.get_contact(contact.id).title == "CFO"
    latest = store.record_history("contacts", contact.id).iloc[0]
    assert (latest["kind"], latest["field"], latest["old_value"], latest["new_value"], latest["changed_by"],
            latest["version"]) == ("restore", "title", "CEO", "CFO", "anna", restored.version)
    again = store.restore_contact(contact.id, change_id, which="new", user="boss")
    assert again.title == "CEO" and store.record_history("contacts", contact.id).iloc[0]["changed_by"] == "boss"


def test_find_contacts_finds_active_persons_by_part_of_their_name(store: Store) -> None:
    north = store.create_customer(user="anna", name="North AB")
    south = store.create_customer(user="anna", name="South AB")
    eva = store.create_contact(cc.Contact(customer_id=north.id, first_name="Eva", last_name="Lundgren"), user="anna")
    store.create_contact(cc.Contact(customer_id=south.id, first_name="Lena", last_name="Lund"), user="anna")
    gone = store.create_contact(cc.Contact(customer_id=south.id, first_name="Evert", last_name="Lundin",
                                           active=False), user="anna")
    found = store.find_contacts("LUND")
    assert list(found.columns) == ["id", "name", "customer_id", "customer_name"]
    assert list(found["name"]) == ["Lena Lund", "Eva Lundgren"]  # by last name; the inactive one is not there
    assert gone.id not in set(found["id"])
    first = found[found["id"] == eva.id].iloc[0]
    assert (first["customer_id"], first["customer_name"]) == (north.id, "North AB")
    assert list(store.find_contacts("eva lund")["id"]) == [eva.id]  # first and last name together
    assert len(store.find_contacts("lund", limit=1)) == 1
    assert store.find_contacts("Nobody").empty


def test_export_contacts_frame_has_every_contact_person_with_its_customer(store: Store) -> None:
    zeta = store.create_customer(user="anna", name="Zeta AB")
    alfa = store.create_customer(user="anna", name="Alfa AB")
    store.create_contact(cc.Contact(customer_id=zeta.id, first_name="Ann", last_name="Berg", email="ann@zeta.se"),
                         user="anna")
    store.create_contact(cc.Contact(customer_id=alfa.id, first_name="Per", last_name="Öst", active=False),
                         user="anna")
    store.create_contact(cc.Contact(customer_id=alfa.id, first_name="Ola", last_name="Ahl", title="CTO"),
                         user="boss")
    frame = store.export_contacts_frame()
    assert list(frame.columns) == ["id", "customer_number", "customer_name", "first_name", "last_name", "title",
                                   "email", "phone", "mobile", "active", "notes", "created_at", "created_by"]
    assert [(r.customer_name, r.last_name) for r in frame.itertuples()] == [
        ("Alfa AB", "Ahl"), ("Alfa AB", "Öst"), ("Zeta AB", "Berg")]  # by customer, then last name
    assert list(frame["active"]) == [True, False, True]  # inactive ones too
    assert list(frame["customer_number"]) == [alfa.number, alfa.number, zeta.number]
    assert list(frame["created_by"]) == ["boss", "anna", "anna"]
    assert frame.iloc[2]["email"] == "ann@zeta.se" and frame.iloc[0]["title"] == "CTO"


def test_get_project_gives_one_project_or_not_found(store: Store) -> None:
    customer = store.create_customer(user="anna", name="Projects AB")
    made = store.create_project(cc.Project(customer_id=customer.id, name="Audit 2024", manager="anna",
                                           start_date=dt.date(2024, 1, 1), end_date=dt.date(2024, 6, 30),
                                           status="closed"), user="anna")
    project = store.get_project(made.id)
    assert isinstance(project, cc.Project)
    assert (project.id, project.customer_id, project.number, project.name, project.manager, project.status,
            project.start_date, project.end_date, project.description) == (
        made.id, customer.id, made.number, "Audit 2024", "anna", "closed", dt.date(2024, 1, 1),
        dt.date(2024, 6, 30), "")
    with pytest.raises(cc.NotFound):
        store.get_project(MISSING)


def test_get_relation_gives_the_relation_as_its_customer_made_it(store: Store) -> None:
    parent = store.create_customer(user="anna", name="Parent Holding AB")
    child = store.create_customer(user="anna", name="Child Services AB")
    contact = store.create_contact(cc.Contact(customer_id=child.id, first_name="Bo", last_name="Ek"), user="anna")
    to_customer = store.add_relation(cc.Relation(customer_id=parent.id, relation_type="Parent company of",
                                                 other_customer_id=child.id, note="Owns 100 %"), user="anna")
    to_contact = store.add_relation(cc.Relation(customer_id=parent.id, relation_type="Board member at",
                                                other_contact_id=contact.id), user="boss")
    relation = store.get_relation(to_customer.id)
    assert isinstance(relation, cc.Relation)
    assert (relation.customer_id, relation.relation_type, relation.other_customer_id, relation.other_contact_id,
            relation.note, relation.created_by) == (parent.id, "Parent company of", child.id, None, "Owns 100 %",
                                                    "anna")
    assert relation.created_at is not None
    assert "Parent company of" in relation.param["relation_type"].objects  # offers the list's values
    person = store.get_relation(to_contact.id)
    assert (person.relation_type, person.other_customer_id, person.other_contact_id, person.created_by) == (
        "Board member at", None, contact.id, "boss")
    store.remove_relation(to_customer.id, user="anna")
    with pytest.raises(cc.NotFound):
        store.get_relation(to_customer.id)
    with pytest.raises(cc.NotFound):
        store.get_relation(MISSING)


# -- records as they stood -------------------------------------------------------------------------------------------
def test_comment_count_as_of_counts_the_comments_written_by_then(store: Store) -> None:
    customer = store.create_customer(user="anna", name="Talkative AB")
    empty = moment()
    store.add_comment(customer.id, "First", user="anna")
    store.add_comment(customer.id, "Second", user="anna")
    two = moment()
    store.add_comment(customer.id, "Third", user="anna")
    assert store.comment_count_as_of(customer.id, empty) == 0
    assert store.comment_count_as_of(customer.id, two) == 2
    assert store.comment_count_as_of(customer.id, moment()) == 3 == store.comment_count(customer.id)
    assert store.comment_count_as_of(customer.id, dt.date.today() - dt.timedelta(days=2)) == 0
    assert store.comment_count_as_of(customer.id, dt.date.today() + dt.timedelta(days=1)) == 3
    assert store.comment_count_as_of(MISSING, moment()) == 0


def test_projects_as_of_lists_those_started_by_then_active_unless_ended(store: Store) -> None:
    customer = store.create_customer(user="anna", name="Long Projects AB")

    def project(name: str, start: dt.date | None, end: dt.date | None, status: str) -> int:
        return store.create_project(cc.Project(customer_id=customer.id, name=name, start_date=start, end_date=end,
                                               status=status), user="anna").id

    audit = project("Audit", dt.date(2024, 1, 1), dt.date(2024, 6, 30), "closed")
    later = project("Later", dt.date(2025, 3, 1), None, "active")
    undated = project("Undated", None, None, "active")
    spring = store.projects_as_of(customer.id, dt.date(2024, 3, 1))
    assert set(spring["id"]) == {audit, undated}  # Later had not started
    assert dict(zip(spring["id"], spring["status"], strict=True)) == {audit: "active", undated: "active"}
    autumn = store.projects_as_of(customer.id, dt.date(2024, 12, 31))
    assert dict(zip(autumn["id"], autumn["status"], strict=True)) == {audit: "closed", undated: "active"}
    now = store.projects_as_of(customer.id, dt.date(2026, 1, 1))
    assert set(now["id"]) == {audit, later, undated}
    assert list(now.columns) == list(store.projects(customer.id).columns)
    assert store.projects_as_of(customer.id, dt.date(2023, 1, 1))["id"].tolist() == [undated]


def test_events_as_of_gives_the_events_planned_by_then_as_they_stood(store: Store) -> None:
    customer = store.create_customer(user="anna", name="Eventful AB")
    before = moment()
    event = store.new_event(customer.id, owner="anna")
    event.param.update(title="Kick-off", event_type="Meeting")
    event = store.create_event(event, user="anna")
    planned = moment()
    event.title = "Kick-off meeting"
    event = store.save_event(event, user="anna")
    store.set_event_status(event.id, "done", user="boss", version=event.version)

    assert store.events_as_of(customer.id, before).empty
    then = store.events_as_of(customer.id, planned)
    assert set(then.columns) == set(store.events(customer.id).columns)  # the columns of events (owner_name last)
    row = then.iloc[0]
    assert (row["id"], row["title"], row["status"], row["event_type"], row["owner"], row["customer_name"]) == (
        event.id, "Kick-off", "planned", "Meeting", "anna", "Eventful AB")
    assert list(store.events_as_of(customer.id, planned, status="planned")["id"]) == [event.id]
    assert store.events_as_of(customer.id, planned, status="done").empty
    now = store.events_as_of(customer.id, moment())
    assert (now.iloc[0]["title"], now.iloc[0]["status"]) == ("Kick-off meeting", "done")
    assert store.events(customer.id).iloc[0]["title"] == "Kick-off meeting"  # today's is today's


def test_invoiced_per_year_as_of_counts_the_year_of_the_day_only_up_to_it(store: Store) -> None:
    customer = store.create_customer(user="anna", name="Invoiced AB")
    store.add_invoices(pd.DataFrame({
        "customer_id": [customer.id] * 5, "number": ["1", "2", "3", "4", "5"],
        "invoice_date": ["2022-03-01", "2024-02-01", "2024-08-01", "2024-09-01", "2025-01-10"],
        "amount": [100.0, 50.0, 70.0, -20.0, 10.0], "currency": ["SEK"] * 5,
        "amount_base": [100.0, 50.0, 70.0, -20.0, 10.0]}), user="anna")
    midsummer = store.invoiced_per_year_as_of(customer.id, dt.date(2024, 6, 30))
    assert list(midsummer.columns) == ["year", "amount"]
    assert midsummer["year"].tolist() == [2022, 2023, 2024]  # the year without invoices as 0
    assert midsummer["amount"].tolist() == [100.0, 0.0, 50.0]  # 2024 only up to the day
    year_end = store.invoiced_per_year_as_of(customer.id, dt.date(2024, 12, 31))
    assert year_end["amount"].tolist() == [100.0, 0.0, 100.0]  # net of the credit note
    today = store.invoiced_per_year(customer.id)
    later = store.invoiced_per_year_as_of(customer.id, dt.date(2025, 12, 31))
    assert later["year"].tolist() == today["year"].tolist() and later["amount"].tolist() == today["amount"].tolist()
    assert store.invoiced_per_year_as_of(customer.id, dt.date(2021, 12, 31)).empty


def test_pipeline_per_year_as_of_gives_the_open_pipeline_as_it_stood(store: Store) -> None:
    customer = store.create_customer(user="anna", name="Pipeline AB")
    before = moment()
    first = store.new_opportunity(customer.id, owner="anna")
    first.param.update(title="Audit", amount=1000.0, probability=50.0, stage="Lead",
                       expected_close=dt.date(2027, 3, 1))
    first = store.create_opportunity(first, user="anna")
    second = store.new_opportunity(customer.id, owner="anna")
    second.param.update(title="Tax", amount=400.0, probability=25.0, stage="Lead", expected_close=dt.date(2028, 1, 1))
    second = store.create_opportunity(second, user="anna")
    both_open = moment()
    first.param.update(status="won", stage="Proposal")
    store.save_opportunity(first, user="anna")
    second.amount = 800.0
    store.save_opportunity(second, user="anna")

    assert store.pipeline_per_year_as_of(customer.id, before).empty
    then = store.pipeline_per_year_as_of(customer.id, both_open)
    assert list(then.columns) == ["year", "weighted"]
    assert then["year"].tolist() == [2027, 2028] and then["weighted"].tolist() == [500.0, 100.0]
    now = store.pipeline_per_year_as_of(customer.id, moment())
    assert now["year"].tolist() == [2028] and now["weighted"].tolist() == [200.0]  # the won one is not open
    today = store.pipeline_per_year(customer.id)
    assert today["year"].tolist() == [2028] and today["weighted"].tolist() == [200.0]


# -- lists, users, permissions ---------------------------------------------------------------------------------------
def test_criterion_value_ids_maps_each_value_to_its_id_inactive_ones_too(store: Store) -> None:
    ids = store.criterion_value_ids()
    sizes = {label for (criterion, label) in ids if criterion == "Size"}
    assert sizes == {"Micro", "Small", "Medium", "Large", "Enterprise"}
    assert len(set(ids.values())) == len(ids) and all(isinstance(i, int) for i in ids.values())
    customer = store.create_customer(user="anna", name="Segmented AB")
    customer.segments = {"Size": ["Small"]}
    store.save_customer(customer, user="anna")
    stored = store.sql("SELECT value_id FROM customer_segments WHERE customer_id = ?", [customer.id])
    assert stored["value_id"].tolist() == [ids[("Size", "Small")]]  # the id a bulk load writes

    size = next(c for c in store.criteria() if c.name == "Size")
    size.values = [v for v in size.values if v != "Micro"]  # left out: deactivated, kept
    store.save_criterion(size, user="boss")
    assert "Micro" not in next(c for c in store.criteria() if c.name == "Size").values
    after = store.criterion_value_ids()
    assert after[("Size", "Micro")] == ids[("Size", "Micro")]
    assert after == ids


def test_require_gives_the_login_that_may_and_refuses_the_others(store: Store) -> None:
    assert store.require("vera", "read") == "vera"
    assert store.require("anna", "write") == "anna"
    assert store.require("boss", "admin") == "boss"
    assert store.require("boss", "write") == "boss"
    assert store.require(None, "write") == "anna"  # the configured user (CUSTOMERCARD_USER) when none is given
    assert store.require("system:import", "admin") == "system:import"  # the system's own writers
    refused = [("vera", "write"), ("vera", "admin"), ("anna", "admin"), ("nobody", "read")]
    for login, need in refused:
        with pytest.raises(cc.PermissionDenied):
            store.require(login, need)
    with pytest.raises(cc.PermissionDenied) as info:
        store.require("vera", "write")
    assert "vera" in str(info.value)
    anna = store.get_user("anna")
    anna.active = False
    store.update_user(anna, by="boss")
    with pytest.raises(cc.PermissionDenied) as deactivated:
        store.require("anna", "read")
    assert "deactivated" in str(deactivated.value)
    with pytest.raises(cc.PermissionDenied):  # every store method checks the same way
        store.create_customer(user="anna", name="Not by a deactivated user AB")


def test_forget_cached_drops_what_was_cached_and_tells_other_processes(store: Store) -> None:
    stamp = int(store.sql("SELECT stamp FROM change_stamps WHERE area = 'admin'")["stamp"].iloc[0])
    assert store.can("anna", "write")  # the users are cached now
    store.db.execute("UPDATE users SET role = 'viewer' WHERE login = ?", ["anna"])  # written outside the store
    assert store.can("anna", "write")  # still the cached role
    store.forget_cached()
    assert not store.can("anna", "write")
    assert store.require("anna", "read") == "anna"
    after = int(store.sql("SELECT stamp FROM change_stamps WHERE area = 'admin'")["stamp"].iloc[0])
    assert after == stamp + 1  # the stamp other server processes look at


# -- sessions, tokens, the throttle ----------------------------------------------------------------------------------
def test_session_id_names_the_session_of_a_token(store: Store) -> None:
    token = store.start_session("anna", remote_address="10.0.0.1")
    other = store.start_session("anna")
    session = store.session_id(token)
    assert isinstance(session, int)
    assert set(store.sessions("anna")["id"]) == {session, store.session_id(other)}
    assert store.session_id(other) != session
    assert store.session_id("") is None and store.session_id("not-a-token") is None
    heard: list[Change] = []
    stop = store.changes.subscribe(heard.append, weak=False)
    store.end_session(token)
    stop()
    assert [(c.kind, c.id) for c in heard] == [("session", session)]  # what a page of that session listens for
    assert store.session_id(token) == session  # an ended session keeps its id
    assert store.session_login(token) is None


def test_get_token_gives_a_live_token_never_its_secret(store: Store) -> None:
    token, secret = store.create_token("vera", "Reporting script", read_only=True, user="vera")
    found = store.get_token(token.id)
    assert isinstance(found, type(token))
    assert (found.id, found.login, found.name, found.read_only, found.created_by) == (
        token.id, "vera", "Reporting script", True, "vera")
    assert found.hint == secret[:len(found.hint)] and len(found.hint) < len(secret)
    assert secret not in json.dumps({k: str(v) for k, v in found.param.values().items()})
    assert found.created_at is not None and found.last_used_at is None
    store.authenticate_token(secret)
    assert store.get_token(token.id).last_used_at is not None
    with pytest.raises(cc.NotFound):
        store.get_token(MISSING)
    store.revoke_token(token.id, user="vera")
    with pytest.raises(cc.NotFound):  # revoked: not live any more
        store.get_token(token.id)


def test_throttle_wait_and_count_failure_slow_then_lock_and_log(store: Store) -> None:
    rule_class = typing.get_args(declared(Store.throttle_wait, "keys"))[1]
    rule = rule_class(free=2, lock_after=4, lockout=dt.timedelta(minutes=15))
    keys = {"test-login:bob": rule, "test-address:10.9.8.7": rule}
    at = dt.datetime(2031, 5, 4, 12, 0, 0)
    assert store.throttle_wait({}) == 0
    assert store.throttle_wait(keys, at=at) == 0  # nothing counted yet
    assert store.count_failure(keys, "bob from 10.9.8.7", "wrong secret", "failed tries", at=at) == 0  # free
    assert store.count_failure(keys, "bob from 10.9.8.7", "wrong secret", "failed tries", at=at) == 1
    assert store.throttle_wait(keys, at=at + dt.timedelta(seconds=0.5)) == 1
    assert store.throttle_wait(keys, at=at + dt.timedelta(seconds=1)) == 0
    third = at + dt.timedelta(seconds=1)
    assert store.count_failure(keys, "bob from 10.9.8.7", "wrong secret", "failed tries", at=third) == 2
    fourth = third + dt.timedelta(seconds=2)
    assert store.count_failure(keys, "bob from 10.9.8.7", "wrong secret", "failed tries", at=fourth) == 15 * 60
    assert store.throttle_wait(keys, at=fourth + dt.timedelta(minutes=10)) == 5 * 60  # locked
    assert store.throttle_wait({"test-login:bob": rule}, at=fourth + dt.timedelta(minutes=1)) == 14 * 60  # each key
    assert store.throttle_wait(keys, at=fourth + dt.timedelta(minutes=15, seconds=1)) == 0  # lock over
    assert store.throttle_wait({"test-login:somebody-else": rule}, at=fourth) == 0
    quiet = fourth + dt.timedelta(minutes=31)  # a lockout's length without failures after the lock: forgotten
    assert store.count_failure(keys, "bob from 10.9.8.7", "wrong secret", "failed tries", at=quiet) == 0

    log = store.admin_log()
    logins = log[(log["area"] == "Logins") & (log["item"] == "bob from 10.9.8.7")]
    assert (logins["new_value"] == "wrong secret").sum() == 5 and set(logins["changed_by"]) == {"system:login"}
    locks = set(logins["new_value"]) - {"wrong secret"}
    assert locks == {"account locked for 15 minutes after 4 failed tries",
                     "address locked for 15 minutes after 4 failed tries"}


# -- bulk changes, the outbox ----------------------------------------------------------------------------------------
def test_bulk_change_customers_names_each_customer_changed_and_its_undo(store: Store) -> None:
    customers = [store.create_customer(user="anna", name=f"Bulk {n} AB", status=status)
                 for n, status in enumerate(("Prospect", "On hold", "Active"))]
    ids = [c.id for c in customers]
    batch = store.bulk_change(ids, "status", "Active", user="anna")
    rows = store.bulk_change_customers(batch.id)
    assert list(rows.columns) == ["customer_id", "version_after", "old_value", "comment_id", "undone"]
    assert rows["customer_id"].tolist() == ids[:2]  # the one Active already was not changed
    assert rows["old_value"].tolist() == ["Prospect", "On hold"]
    assert rows["version_after"].tolist() == [store.get_customer(i).version for i in ids[:2]] == [2, 2]
    assert not rows["undone"].any() and rows["comment_id"].isna().all()
    store.undo_bulk_change(batch.id, user="anna")
    assert store.bulk_change_customers(batch.id)["undone"].all()
    assert [store.get_customer(i).status for i in ids] == ["Prospect", "On hold", "Active"]

    said = store.bulk_change(ids[:2], "comment", "Called about the new prices", user="anna")
    comments = store.bulk_change_customers(said.id)
    assert comments["customer_id"].tolist() == ids[:2]
    for customer_id, comment_id in zip(comments["customer_id"], comments["comment_id"], strict=True):
        comment = store.get_comment(int(comment_id))
        assert (comment.customer_id, comment.body) == (customer_id, "Called about the new prices")
    assert store.bulk_change_customers(MISSING).empty


def test_due_outbox_rows_offers_each_customers_oldest_undelivered_row_when_due(store: Store) -> None:
    first, second = linked(store, "Alpha AB"), linked(store, "Beta AB")
    for city in ("Lund", "Malmö"):
        first = store.get_customer(first.id)
        first.visit_address.city = city
        store.save_customer(first, user="anna")
    second.phone = "08-765 43 21"
    store.save_customer(second, user="anna")
    queued = store.outbox().sort_values("id")
    alpha = queued[queued["customer_id"] == first.id]["id"].tolist()
    beta = queued[queued["customer_id"] == second.id]["id"].tolist()
    assert len(alpha) == 2 and len(beta) == 1

    due = store.due_outbox_rows()
    assert [row["id"] for row in due] == [alpha[0], beta[0]]  # per customer only its oldest
    assert set(due[0]) >= {"id", "customer_id", "idempotency_key", "payload", "attempts"}
    assert json.loads(due[0]["payload"])["changes"]["visit_address.city"]["new"] == "Lund"
    assert [row["id"] for row in store.due_outbox_rows(limit=1)] == [alpha[0]]
    assert store.due_outbox_rows(now=dt.datetime(2000, 1, 1)) == []  # not due yet then

    store.mark_attempt_failed(alpha[0], "503 from the economy system", retry_in=60)
    assert [row["id"] for row in store.due_outbox_rows()] == [beta[0]]  # waiting, and Alpha's next waits behind it
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=61)
    assert [(row["id"], row["attempts"]) for row in store.due_outbox_rows(now=later)] == [(alpha[0], 1), (beta[0], 0)]


def test_mark_delivered_records_the_delivery_and_lets_the_next_row_go(store: Store) -> None:
    customer = linked(store)
    for city in ("Lund", "Malmö"):
        customer = store.get_customer(customer.id)
        customer.visit_address.city = city
        store.save_customer(customer, user="anna")
    oldest, newest = store.outbox(customer.id).sort_values("id")["id"].tolist()
    assert store.get_customer(customer.id).erp_synced_at is None
    store.mark_delivered(oldest)
    row = store.outbox(customer.id, status="delivered").iloc[0]
    assert (row["id"], row["attempts"], row["last_error"]) == (oldest, 1, "")
    assert pd.notna(row["delivered_at"])
    assert store.get_customer(customer.id).erp_synced_at is not None
    assert store.outbox_counts(customer.id) == {"pending": 1, "failed": 0, "delivered": 1}
    assert [r["id"] for r in store.due_outbox_rows()] == [newest]


def test_mark_delivered_of_a_missing_row_is_not_found(store: Store) -> None:
    with pytest.raises(cc.NotFound):
        store.mark_attempt_failed(MISSING, "no such row", retry_in=60)
    with pytest.raises(cc.NotFound):
        store.mark_delivered(MISSING)


def test_changes_takes_a_builtin_method_as_a_listener(store: Store) -> None:
    """``store.changes.subscribe(heard.append)``: a list's append cannot be held weakly; it is held as a function
    is, until unsubscribed."""
    heard: list[Change] = []
    stop = store.changes.subscribe(heard.append)
    customer = store.create_customer(user="anna", name="Appended AB")
    stop()
    store.add_comment(customer.id, "Nobody listens", user="anna")
    assert [(c.kind, c.id) for c in heard] == [("customer", customer.id)]


@pytest.mark.parametrize("call, field", [
    (lambda s: s.list_customers(limit=-1), "limit"), (lambda s: s.find_customers(offset=-5), "offset"),
    (lambda s: s.admin_log(limit=-1), "limit"), (lambda s: s.outbox(limit=-1), "limit"),
    (lambda s: s.find_contacts("a", limit=-1), "limit"), (lambda s: s.bulk_changes(limit=-1), "limit"),
    (lambda s: s.recent_cards("anna", limit=-1), "limit"), (lambda s: s.invoices(1, year=10_000), "year"),
    (lambda s: s.list_customers(limit=2**63), "limit"), (lambda s: s.search("berg", limit=-1), "limit"),
    (lambda s: s.possible_duplicates(name="Berg", limit=-1), "limit"),
    (lambda s: s.comments_as_of(1, "2025-01-01", limit=-2), "limit"),
])
def test_a_count_or_year_out_of_range_is_a_validation_error_naming_it(store: Store, call, field) -> None:
    """A negative limit or offset, a year past 9999: the store says which argument (the database's own error, a
    500 through the server, said nothing of it)."""
    with pytest.raises(cc.ValidationError) as refused:
        call(store)
    assert list(refused.value.errors) == [field]


def test_the_calendars_last_year_and_day_are_asked_for_without_an_error(store: Store) -> None:
    customer_id = store.create_customer(user="anna", name="Calendar's End AB").id
    assert store.invoices(customer_id, year=9999).empty and store.invoices(customer_id, year=1).empty
    assert store.timeline(customer_id, since=dt.date(9999, 12, 31)).empty  # (it overflowed)
    assert len(store.timeline(customer_id, until=dt.date(9999, 12, 31))) == len(store.timeline(customer_id)) > 0


def test_admin_log_areas_and_a_page_of_one_area(store: Store) -> None:
    """admin_log_areas() names the areas the log has; admin_log() gives a page of one area, and leaves the logins
    out when asked."""
    store.add_list_value("industries", "Areas test industry", user="boss")
    store.log_in("anna", "secret", "127.0.0.1")
    areas = store.admin_log_areas()
    assert "Logins" in areas and areas == sorted(areas)
    logins = store.admin_log(area="Logins")
    assert not logins.empty and set(logins["area"]) == {"Logins"}
    assert "Logins" not in set(store.admin_log(include_logins=False)["area"])
    first, second = store.admin_log(limit=1), store.admin_log(limit=1, offset=1)
    assert len(first) == len(second) == 1 and first.iloc[0].tolist() != second.iloc[0].tolist()
