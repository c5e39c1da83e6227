"""The card as it was on any day, on DuckDB and on PostgreSQL.

A hypothesis state machine (:class:`AsOfReplay`) replays random edits of two customers — fields, segmentation,
restores from the history, restores of a past day's values (``restore_as_of``) — by managers and an administrator,
while a clock moves forward by minutes to days. Every acknowledged write is kept with its moment: the state at the
end of a day is the last one written by then. ``store.get_customer(id, as_of=day)`` must give exactly that state,
field by field, for every day of the replay (and refuse a day before the customer existed); ``store.diff`` must name
exactly the fields that differ between two days; and a restore of a past day must bring back exactly the chosen
fields, as one new version.

Beside it: records as they stood (comments, contact persons, opportunities, relations, files), the read-only store of
a day, and the rules of a restore (managers only, one recorded change, version-checked).

Longer runs: ``CUSTOMERCARD_ASOF_EXAMPLES=50 CUSTOMERCARD_ASOF_STEPS=60 CUSTOMERCARD_ASOF_RANDOM=1``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

import customercard as cc
from customercard import formatting
from customercard.models import to_text
from customercard.store import Store

from .conftest import BACKENDS, StoreTemplate, copy_database

EXAMPLES = int(os.environ.get("CUSTOMERCARD_ASOF_EXAMPLES", "5"))
STEPS = int(os.environ.get("CUSTOMERCARD_ASOF_STEPS", "30"))
ASOF_SETTINGS = settings(
    max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
    derandomize=not os.environ.get("CUSTOMERCARD_ASOF_RANDOM"), report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
ZONE = "Europe/Stockholm"
FIELDS = tuple(f for f in cc.Customer.fields if f != "segments")
EDITS: dict[str, tuple[Any, ...]] = {
    "phone": ("+46 8 123 45 67", "+46 31 711 22 33", ""),
    "nickname": ("", "Kalle", "Old Name AB"),
    "visit_address.city": ("Stockholm", "Göteborg", "Malmö", ""),
    "email": ("info@firm.example", "sales@firm.example", ""),
    "invoicing.discount_pct": (0.0, 5.0, 12.5),
    "archived": (False, True),
    "account_manager": ("anna", "erik", None),
    "status": ("Prospect", "Active", "On hold", None),
    "industry": ("Consulting", "Construction", None),
    "segments.Size": ((), ("Small",), ("Large",)),
    "segments.Services": ((), ("Audit",), ("Audit", "Tax")),
}
WRITERS = ("anna", "erik", "boss")
#: When the replays begin (a fixed moment, so that examples replay alike; after the template was made).
START = dt.datetime(2031, 3, 29, 22, 30)  # the night summer time begins in Stockholm


# -- the clock -------------------------------------------------------------------------------------------------
class Clock:
    """The store's 'now', moved by the test (every module of the store that stamps writes reads it)."""

    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


@contextlib.contextmanager
def frozen_clock(start: dt.datetime) -> Iterator[Clock]:
    clock = Clock(start)
    patched = [(module, module.utcnow) for name, module in list(sys.modules.items())
               if name.startswith("customercard.store") and hasattr(module, "utcnow")]
    for module, _real in patched:
        module.utcnow = clock
    try:
        yield clock
    finally:
        for module, real in patched:
            module.utcnow = real


def local_day(moment: dt.datetime) -> dt.date:
    return formatting.local_time(moment, ZONE).date()


def texts(customer: cc.Customer) -> dict[str, str | None]:
    """Every field as history text; segmentation per criterion, its values in a fixed order."""
    found = {f: to_text(customer.get(f)) for f in FIELDS}
    found.update({f"segments.{c}": to_text(sorted(v)) for c, v in (customer.segments or {}).items() if v})
    return found


def differing(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    return {f for f in set(a) | set(b) if a.get(f) != b.get(f)}


# -- the databases -----------------------------------------------------------------------------------------------
def _seed(store: Store) -> None:
    store.add_user(cc.User(login="erik", name="Erik", email="erik@firm.example", role="manager"),
                   password_hash="x", by="system:test")


@pytest.fixture(scope="module", params=BACKENDS)
def asof_template(request, empty_template: Path, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "duckdb":
        path = copy_database(empty_template, tmp_path_factory.mktemp("asof-template"))
        with Store(path) as store:
            _seed(store)
        yield StoreTemplate("duckdb", path=path)
        return
    server = request.getfixturevalue("pg_server")
    name = "tpl_asof"
    with Store(server.create_database(name, template=request.getfixturevalue("empty_template_pg"))) as store:
        _seed(store)
    yield StoreTemplate("postgresql", server=server, name=name)
    server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')


# -- the replay ----------------------------------------------------------------------------------------------------
class AsOfReplay(RuleBasedStateMachine):
    template: StoreTemplate

    def __init__(self) -> None:
        super().__init__()
        self.store, self._close = self.template.open()
        self._clock_cm = frozen_clock(START)
        self.clock = self._clock_cm.__enter__()
        self.ids: list[int] = []
        #: customer id → [(moment, texts)], one per acknowledged write, in order
        self.states: dict[int, list[tuple[dt.datetime, dict[str, Any]]]] = {}
        self.versions: dict[int, list[tuple[dt.datetime, int]]] = {}

    def teardown(self) -> None:
        try:
            for customer_id in self.ids:
                self._check_every_day(customer_id)
        finally:
            self._clock_cm.__exit__(None, None, None)
            self._close()

    def _written(self, customer: cc.Customer) -> None:
        stored = self.store.get_customer(customer.id)
        self.states.setdefault(customer.id, []).append((self.clock.now, texts(stored)))
        self.versions.setdefault(customer.id, []).append((self.clock.now, stored.version))

    def expected(self, customer_id: int, day: dt.date) -> dict[str, Any] | None:
        """The state at the end of ``day`` (None before the customer existed)."""
        found = None
        for moment, state in self.states[customer_id]:
            if local_day(moment) <= day:
                found = state
        return found

    @initialize()
    def create(self) -> None:
        for name, manager in (("Alfa Konsult AB", "anna"), ("Beta Bygg AB", "erik")):
            customer = self.store.new_customer()
            customer.param.update(name=name, account_manager=manager, status="Prospect")
            customer.segments = {"Size": ["Small"]}
            created = self.store.create_customer(customer, user=manager)
            self.ids.append(created.id)
            self._written(created)

    @rule(minutes=st.integers(1, 4 * 24 * 60))
    def time_passes(self, minutes: int) -> None:
        self.clock.now += dt.timedelta(minutes=minutes)

    @rule(pick=st.integers(0, 1), field=st.sampled_from(sorted(EDITS)), data=st.data(),
          user=st.sampled_from(WRITERS))
    def edit(self, pick: int, field: str, data: st.DataObject, user: str) -> None:
        customer = self.store.get_customer(self.ids[pick])
        value = data.draw(st.sampled_from(EDITS[field]))
        if field.startswith("segments."):
            segments = dict(customer.segments)
            criterion = field.split(".", 1)[1]
            if value:
                segments[criterion] = list(value)
            else:
                segments.pop(criterion, None)
            customer.segments = segments
        else:
            customer.set(field, value)
        saved = self.store.save_customer(customer, user=user)
        self._written(saved)

    @rule(pick=st.integers(0, 1), index=st.integers(0, 50))
    def restore_from_history(self, pick: int, index: int) -> None:
        history = self.store.history(self.ids[pick])
        candidates = history[(history["kind"] != "create") & ~history["field"].isin(list(cc.Customer.HISTORY_ONLY))]
        if candidates.empty:
            return
        change = candidates.iloc[index % len(candidates)]
        try:
            saved = self.store.restore(self.ids[pick], int(change.change_id), user="anna")
        except cc.ValidationError:  # the old value is one the model refuses now (e.g. a list value)
            return
        self._written(saved)

    @rule(pick=st.integers(0, 1), back=st.integers(0, 20), data=st.data())
    def restore_a_past_day(self, pick: int, back: int, data: st.DataObject) -> None:
        customer_id = self.ids[pick]
        first = local_day(self.states[customer_id][0][0])
        day = max(first, local_day(self.clock.now) - dt.timedelta(days=back))
        then, now = self.expected(customer_id, day), texts(self.store.get_customer(customer_id))
        changed = sorted(differing(then, now))
        if not changed:
            return
        fields = data.draw(st.lists(st.sampled_from(changed), min_size=1, unique=True))
        before = self.store.get_customer(customer_id)
        saved = self.store.restore_as_of(customer_id, day, fields, user="erik", expected_version=before.version)
        after = texts(saved)
        assert saved.version == before.version + 1  # one new recorded change
        for field in fields:
            assert after.get(field) == then.get(field), field
        for field in set(now) | set(after):
            if field not in fields:
                assert after.get(field) == now.get(field), field
        rows = self.store.history(customer_id)
        assert set(rows[rows["version"] == saved.version]["kind"]) == {"restore"}
        self._written(saved)

    @rule(pick=st.integers(0, 1), back=st.integers(0, 30))
    def look_at_a_past_day(self, pick: int, back: int) -> None:
        customer_id = self.ids[pick]
        day = local_day(self.clock.now) - dt.timedelta(days=back)
        self._check_day(customer_id, day)

    @rule(pick=st.integers(0, 1), a=st.integers(0, 30), b=st.integers(0, 30))
    def compare_two_days(self, pick: int, a: int, b: int) -> None:
        customer_id = self.ids[pick]
        first = local_day(self.states[customer_id][0][0])
        today = local_day(self.clock.now)
        day_a, day_b = (max(first, today - dt.timedelta(days=n)) for n in (a, b))
        frame = self.store.diff(customer_id, day_a, day_b)
        assert set(frame["field"]) == differing(self.expected(customer_id, day_a),
                                                self.expected(customer_id, day_b))

    @invariant()
    def today_is_the_last_state(self) -> None:
        for customer_id in self.ids:
            assert texts(self.store.get_customer(customer_id)) == self.states[customer_id][-1][1]

    def _check_day(self, customer_id: int, day: dt.date) -> None:
        expected = self.expected(customer_id, day)
        if expected is None:
            with pytest.raises(cc.NotFound):
                self.store.get_customer(customer_id, as_of=day)
            return
        past = self.store.get_customer(customer_id, as_of=day)
        assert texts(past) == expected, (day, differing(texts(past), expected))
        versions = [v for moment, v in self.versions[customer_id] if local_day(moment) <= day]
        assert past.version == versions[-1]

    def _check_every_day(self, customer_id: int) -> None:
        first = local_day(self.states[customer_id][0][0])
        last = local_day(self.clock.now)
        day = first - dt.timedelta(days=1)
        while day <= last + dt.timedelta(days=1):
            self._check_day(customer_id, day)
            day += dt.timedelta(days=1)


def test_as_of_replays_every_day(asof_template: StoreTemplate) -> None:
    machine = type("AsOfReplayOn" + asof_template.backend.title(), (AsOfReplay,), {"template": asof_template})
    run_state_machine_as_test(machine, settings=ASOF_SETTINGS)


# -- records as they stood, the store of a day, the rules of a restore -------------------------------------------
def test_records_and_the_read_only_store_as_they_stood(empty_store: Store) -> None:
    store = empty_store
    with frozen_clock(START) as clock:
        customer = store.create_customer(user="anna", name="Gamma Revision AB")
        contact = store.create_contact(cc.Contact(customer_id=customer.id, first_name="Eva", last_name="Lund",
                                                  title="CFO"), user="anna")
        comment = store.add_comment(customer.id, "First words", user="anna")
        opportunity = store.new_opportunity(customer.id, owner="anna")
        opportunity.param.update(title="Audit", amount=1000.0, stage="Lead")
        opportunity = store.create_opportunity(opportunity, user="anna")
        other = store.create_customer(user="anna", name="Delta AB")
        relation = store.add_relation(cc.Relation(customer_id=customer.id, relation_type="Partner of",
                                                  other_customer_id=other.id), user="anna")
        file_id = store.add_file_record(customer.id, "a.pdf", 10, "0" * 64, "application/pdf", user="anna")
        day_one = local_day(clock.now)
        clock.now += dt.timedelta(days=2)
        contact.param.update(title="CEO", active=False)
        store.save_contact(contact, user="anna")
        comment.body = "Edited words"
        store.edit_comment(comment, user="anna")
        opportunity.param.update(stage="Proposal", status="won")
        store.save_opportunity(opportunity, user="anna")
        store.remove_relation(relation.id, user="anna")
        store.delete_file(file_id, user="anna")
        store.add_comment(customer.id, "Later words", user="anna")
        customer = store.get_customer(customer.id)
        customer.phone = "+46 8 123 45 67"
        store.save_customer(customer, user="anna")

    then = store.contacts_as_of(customer.id, day_one)
    assert list(then["title"]) == ["CFO"] and bool(then["active"].iloc[0])
    assert store.contacts_as_of(customer.id, day_one - dt.timedelta(days=1)).empty
    assert list(store.comments_as_of(customer.id, day_one)["body"]) == ["First words"]
    opportunities = store.opportunities_as_of(customer.id, day_one)
    assert (opportunities["stage"].iloc[0], opportunities["status"].iloc[0]) == ("Lead", "pipeline")
    relations = store.relations_as_of(customer.id, day_one)
    assert list(relations["other_id"]) == [other.id] and store.relations(customer.id).empty
    assert relations["created_by"].iloc[0] == "anna"  # who made it (blank for one removed since, it was)
    assert list(store.files_as_of(customer.id, day_one)["name"]) == ["a.pdf"] and store.files(customer.id).empty

    view = store.as_of(day_one)
    assert view.get_customer(customer.id).phone == "" and store.get_customer(customer.id).phone != ""
    assert list(view.comments(customer.id)["body"]) == ["First words"] and view.comment_count(customer.id) == 1
    assert len(view.contacts(customer.id)) == 1 and not view.can("anna", "write")
    assert view.timeline(customer.id)["at"].max() <= pd_timestamp(day_one)
    with pytest.raises(cc.PermissionDenied):
        view.add_comment(customer.id, "No", user="anna")
    with pytest.raises(cc.PermissionDenied):
        view.save_customer(view.get_customer(customer.id), user="anna")
    view.close()  # shares the store's connection: nothing closes
    assert store.get_customer(customer.id).name == "Gamma Revision AB"


def pd_timestamp(day: dt.date) -> Any:
    import pandas as pd

    from customercard.store.activity import day_end

    return pd.Timestamp(day_end(day, ZONE))


def test_a_restore_of_a_day_is_for_writers_one_change_and_version_checked(empty_store: Store) -> None:
    store = empty_store
    with frozen_clock(START) as clock:
        customer = store.create_customer(user="anna", name="Epsilon AB", nickname="Eps", status="Prospect")
        day_one = local_day(clock.now)
        clock.now += dt.timedelta(days=1)
        customer.param.update(nickname="E", status="Active", phone="+46 8 123 45 67")
        customer = store.save_customer(customer, user="anna")
        history_rows = len(store.history(customer.id))
        with pytest.raises(cc.PermissionDenied):
            store.restore_as_of(customer.id, day_one, ["nickname"], user="vera")
        with pytest.raises(cc.ConflictError):
            store.restore_as_of(customer.id, day_one, ["nickname"], user="anna", expected_version=customer.version - 1)
        with pytest.raises(cc.ValidationError):
            store.restore_as_of(customer.id, day_one, ["erp_system"], user="anna")
        assert len(store.history(customer.id)) == history_rows  # refused: nothing written
        saved = store.restore_as_of(customer.id, day_one, None, user="anna", expected_version=customer.version)
    assert (saved.nickname, saved.status, saved.phone) == ("Eps", "Prospect", "")
    assert saved.version == customer.version + 1
    rows = store.history(customer.id)
    assert set(rows[rows["version"] == saved.version]["field"]) == {"nickname", "status", "phone"}
    diff = store.diff(customer.id, day_one)
    assert diff.empty


def test_follow_ups_as_they_stood_in_the_store_and_on_the_card(empty_store: Store) -> None:
    """Made by then, their fields put back from their history, done only if done by then, overdue as counted that
    day; the card of that day shows them so, without buttons."""
    from customercard.ui.card import CustomerCard

    store = empty_store
    with frozen_clock(START) as clock:
        customer = store.create_customer(user="anna", name="Epsilon Konsult AB")
        day_one = local_day(clock.now)
        first = store.new_follow_up(customer.id, owner="anna")
        first.param.update(what="Call about the offer", due_on=day_one + dt.timedelta(days=3))
        first = store.add_follow_up(first, user="anna")
        done_early = store.new_follow_up(customer.id, owner="boss")
        done_early.param.update(what="Send the agreement", due_on=day_one)
        done_early = store.add_follow_up(done_early, user="anna")
        store.set_follow_up_done(done_early.id, user="boss")
        clock.now += dt.timedelta(days=5)
        day_six = local_day(clock.now)
        moved = store.get_follow_up(first.id)
        moved.param.update(what="Call about the revised offer", owner="boss", due_on=day_six + dt.timedelta(days=7))
        store.save_follow_up(moved, user="anna")
        store.set_follow_up_done(first.id, user="boss")
        later = store.new_follow_up(customer.id, owner="anna")
        later.param.update(what="Book the review", due_on=day_six)
        store.add_follow_up(later, user="anna")

    then = store.follow_ups_as_of(customer.id, day_one)
    assert list(then["what"]) == ["Call about the offer", "Send the agreement"]  # open first, then done
    row = then.iloc[0]
    assert (row.owner, row.owner_name, row.due_on, bool(row.done), row.done_by) == (
        "anna", "Anna", day_one + dt.timedelta(days=3), False, "")
    assert pd_isna(row.done_at) and not bool(row.overdue)
    assert bool(then.iloc[1].done) and then.iloc[1].done_by == "boss"
    assert store.follow_ups_as_of(customer.id, day_one - dt.timedelta(days=1)).empty
    assert list(store.follow_ups_as_of(customer.id, day_one, open_only=True)["id"]) == [first.id]
    # four days on: the first still open then, and overdue as counted that day
    before_the_move = store.follow_ups_as_of(customer.id, day_one + dt.timedelta(days=4)).iloc[0]
    assert before_the_move.what == "Call about the offer" and bool(before_the_move.overdue)
    now = store.follow_ups_as_of(customer.id, day_six)
    assert set(now["what"]) == {"Call about the revised offer", "Send the agreement", "Book the review"}
    assert list(now["version"]) == list(store.follow_ups(customer_id=customer.id)["version"])

    view = store.as_of(day_one)
    assert list(view.follow_ups(customer_id=customer.id)["what"]) == list(then["what"])
    assert len(view.follow_ups(owner="boss")) == 2  # any list but a customer's is today's
    card = CustomerCard(store=store, customer_id=customer.id, user="anna", as_of=day_one)
    section = card.section("follow_ups")
    section.render()
    html = section.view.html
    assert "Call about the offer" in html and "revised" not in html and "Book the review" not in html
    assert "data-action" not in html


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.isna(value))


def test_a_renamed_list_value_is_the_same_value_on_any_day(empty_store: Store) -> None:
    """The history keeps a list value by the name it had then; renamed since, it is the same value (customers
    refer to it): the card as of any day shows today's name, compare finds no change, and restore brings it back."""
    store = empty_store
    statuses = list(store.choices().allowed("statuses"))
    first, other = statuses[0], statuses[1]
    customer = store.create_customer(user="anna", name="Renamed AB", status=first)
    moved = store.get_customer(customer.id)
    moved.status = other
    store.save_customer(moved, user="anna")
    back = store.get_customer(customer.id)
    back.status = first
    store.save_customer(back, user="boss")
    listed = store.list_values("statuses").set_index("label")
    store.rename_list_value(int(listed.loc[first, "id"]), f"{first} (renamed)", user="boss",
                            version=int(listed.loc[first, "version"]))
    today = store.firm_today()
    assert store.get_customer(customer.id).status == f"{first} (renamed)"
    assert store.get_customer(customer.id, as_of=today).status == f"{first} (renamed)"
    made = moved.updated_at - dt.timedelta(microseconds=1)  # as created, before any change: the first status
    assert store.get_customer(customer.id, as_of=made).status == f"{first} (renamed)"
    assert "status" not in set(store.diff(customer.id, made)["field"])  # the same value: nothing to compare
    # a day when it had the other status: that one, and restoring it works; then back by the renamed name
    assert store.get_customer(customer.id, as_of=back.updated_at - dt.timedelta(microseconds=1)).status == other
    restored = store.restore_as_of(customer.id, back.updated_at - dt.timedelta(microseconds=1), fields=["status"],
                                   user="anna", expected_version=store.get_customer(customer.id).version)
    assert restored.status == other


def test_a_renamed_stage_reads_by_today_s_name_and_a_switched_value_named_active_is_no_rename(
        empty_store: Store) -> None:
    store = empty_store
    customer = store.create_customer(user="anna", name="Stages AB")
    stages = list(store.choices().allowed("opportunity_stages"))
    opportunity = store.new_opportunity(customer.id, owner="anna")
    opportunity.param.update(title="Deal", stage=stages[0])
    made = store.create_opportunity(opportunity, user="anna")
    before_move = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # a moment (UTC) after it was made, before its move
    moved = store.get_opportunity(made.id)
    moved.stage = stages[1]
    store.save_opportunity(moved, user="anna")
    listed = store.list_values("opportunity_stages").set_index("label")
    store.rename_list_value(int(listed.loc[stages[0], "id"]), f"{stages[0]} (new name)", user="boss",
                            version=int(listed.loc[stages[0], "version"]))
    then = store.opportunities_as_of(customer.id, before_move)
    assert list(then["stage"]) == [f"{stages[0]} (new name)"]
    with pytest.raises(cc.ValidationError):
        store.as_of(store.firm_today()).events(customer.id, status="open")
    # a value that happens to be named "active", switched off and on, is not renamed by it
    value_id = store.add_list_value("industries", "active", user="boss")
    industry = store.list_values("industries").set_index("id").loc[value_id]
    store.set_list_value_active(value_id, False, user="boss", version=int(industry["version"]))
    customer = store.get_customer(customer.id)
    assert store.get_customer(customer.id, as_of=store.firm_today()).industry == customer.industry


def _as_it_stood(view, customer_id: int) -> dict[str, Any]:
    """What a card as of a day shows of a customer's records, by id (and its invoiced figures)."""
    def ids(frame) -> list[int]:
        return sorted(int(i) for i in frame["id"])

    return {"contacts": ids(view.contacts(customer_id, include_inactive=True)), "comments": ids(view.comments(
        customer_id)), "comment_count": view.comment_count(customer_id), "projects": ids(view.projects(customer_id)),
        "events": ids(view.events(customer_id)), "opportunities": ids(view.opportunities(customer_id)),
        "follow_ups": ids(view.follow_ups(customer_id)), "files": ids(view.files(customer_id)),
        "relations": ids(view.relations(customer_id)), "invoices": ids(view.invoices(customer_id)),
        "invoiced": view.invoiced_per_year(customer_id).to_dict("records"),
        "pipeline": view.pipeline_per_year(customer_id).to_dict("records"),
        # the story beside them (a merge since moved the other's entries onto the survivor's day-before story)
        "story": sorted((r.ref_table, int(r.ref_id), r.kind, r.action) for r in view.timeline(
            customer_id, limit=500).itertuples())}


def test_the_card_as_of_a_moment_before_a_merge_shows_each_customer_its_own_records(demo_store):
    """A merge moves the other customer's records to the survivor: the card of either as it was before shows the
    records each had then (the survivor's were shown with the other's, the merged-away one's empty) — and after
    a second merge, the records are still where they were on each day."""
    from customercard.store.database import utcnow

    from .conftest import rich_customers

    store = demo_store
    survivor, other, third = rich_customers(store)[:3]
    store.add_follow_up(cc.FollowUp(customer_id=other, what="Call about the offer", owner="anna",
                                    due_on=dt.date.today()), user="anna")
    before = utcnow()
    then = {c: _as_it_stood(store.as_of(before), c) for c in (survivor, other, third)}
    assert then[other]["contacts"] and then[other]["invoices"] and then[survivor]["contacts"]
    store.merge_customers(survivor, other, user="anna")
    between = utcnow()
    now = {c: _as_it_stood(store.as_of(before), c) for c in (survivor, other, third)}
    assert [(c, k, now[c][k], then[c][k]) for c in then for k in then[c] if now[c][k] != then[c][k]] == []
    assert set(_as_it_stood(store, survivor)["contacts"]) == {*then[survivor]["contacts"], *then[other]["contacts"]}
    store.merge_customers(third, survivor, user="anna")  # and the survivor into a third one
    now = {c: _as_it_stood(store.as_of(before), c) for c in (survivor, other, third)}
    assert [(c, k, now[c][k], then[c][k]) for c in then for k in then[c] if now[c][k] != then[c][k]] == []
    after_first = _as_it_stood(store.as_of(between), survivor)
    assert set(after_first["contacts"]) == {*then[survivor]["contacts"], *then[other]["contacts"]}
    assert _as_it_stood(store.as_of(between), other)["contacts"] == []
    told = store.timeline_as_of(other, before, kinds=["comment"], limit=500)  # the store's own call, with filters
    assert sorted(int(i) for i in told["ref_id"]) == sorted(
        ref for table, ref, kind, _action in then[other]["story"] if kind == "comment")


def _comments(store, customer_id, count, text):
    return [store.add_comment(customer_id, f"{text} {n}", user="anna").id for n in range(count)]


def test_a_past_days_timeline_after_a_merge_pages_through_the_survivors_own_entries(empty_store):
    """The duplicate's newer entries filled the survivor's page and were dropped from it: the day's Activity showed
    one entry of thirteen, and no "Load more"."""
    from customercard.store.database import utcnow

    store = empty_store
    kept = store.create_customer(user="anna", name="Kept AB").id
    gone = store.create_customer(user="anna", name="Gone AB").id
    own = _comments(store, kept, 5, "Kept's")
    _comments(store, gone, 30, "Gone's")  # newer than all of the survivor's
    before = utcnow()
    store.merge_customers(kept, gone, user="anna")
    page = store.timeline_as_of(kept, before, kinds=["comment"], limit=3)
    rest = store.timeline_as_of(kept, before, kinds=["comment"], limit=3, before=page["cursor"].iloc[-1])
    assert [int(i) for i in [*page["ref_id"], *rest["ref_id"]]] == own[::-1]


def test_a_merged_away_customers_past_timeline_finds_its_entries_behind_a_busy_survivors(empty_store):
    """Entries moved to a survivor with more than 500 newer entries of its own were never reached."""
    from customercard.store.database import utcnow

    store = empty_store
    kept = store.create_customer(user="anna", name="Busy AB").id
    gone = store.create_customer(user="anna", name="Gone AB").id
    moved = _comments(store, gone, 4, "Gone's")
    _comments(store, kept, 510, "Busy")
    before = utcnow()
    store.merge_customers(kept, gone, user="anna")
    told = store.timeline_as_of(gone, before, kinds=["comment"])
    assert [int(i) for i in told["ref_id"]] == moved[::-1]


def test_a_past_days_activity_tells_records_as_they_were_then(demo_store):
    """Activity on the card as of a day read today's rows: an event renamed and cancelled since showed its new
    title and status, a rewritten comment its new text, an event recorded afterwards (for a day before) was listed,
    and the day's Comments said "edited by … on" an edit made after it."""
    from customercard.store.database import utcnow

    from .conftest import rich_customers

    store = demo_store
    customer_id = rich_customers(store)[4]
    event = store.new_event(customer_id, owner="anna")
    event.param.update(title="Quarterly meeting", event_type="Meeting",
                       starts_at=dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=3))
    event = store.create_event(event, user="anna")
    comment = store.add_comment(customer_id, "Original text", user="anna")
    before = utcnow()
    changed = store.get_event(event.id)
    changed.param.update(title="Renamed meeting", status="cancelled")
    store.save_event(changed, user="erik")
    edited = store.get_comment(comment.id)
    edited.body = "Rewritten text"
    store.edit_comment(edited, user="erik")
    late = store.new_event(customer_id, owner="anna")
    late.param.update(title="Visit logged afterwards", event_type="Meeting",
                      starts_at=dt.datetime.now().replace(microsecond=0) - dt.timedelta(days=2))
    late = store.create_event(late, user="erik")

    told = store.timeline_as_of(customer_id, before, limit=500)
    entries = {(table, int(ref)): (action, title) for table, ref, action, title in zip(
        told["ref_table"], told["ref_id"], told["action"], told["title"], strict=True)}
    assert entries[("events", event.id)] == ("planned", "Quarterly meeting")
    assert entries[("comments", comment.id)] == ("written", "Original text")
    assert ("events", late.id) not in entries
    assert "Rewritten text" not in set(told["title"]) and "Renamed meeting" not in set(told["title"])
    then = store.comments_as_of(customer_id, before)
    row = then[then["id"] == comment.id].iloc[0]
    assert row["body"] == "Original text" and pd.isna(row["edited_at"]) and pd.isna(row["edited_by"])
    now = store.timeline(customer_id, limit=500)  # today's Activity tells it as it is now
    assert "Rewritten text" in set(now["title"]) and "Visit logged afterwards" in set(now["title"])


def test_a_moment_given_as_iso_text_with_its_offset_is_read_as_that_moment(empty_store: Store) -> None:
    """The README's own example, "2024-06-30T10:00+02:00", was refused ("as_of: Not a date") by get_customer(as_of=…),
    as_of(…), diff and the timeline's bounds: only a day's text was read."""
    store = empty_store
    with frozen_clock(START) as clock:
        customer = store.create_customer(user="anna", name="Before AB")
        clock.now += dt.timedelta(hours=2)
        renamed = store.get_customer(customer.id)
        renamed.name = "After AB"
        store.save_customer(renamed, user="anna")
    between = START + dt.timedelta(hours=1)  # (the store's moments: UTC)
    for text in (between.isoformat() + "Z", (between + dt.timedelta(hours=2)).isoformat() + "+02:00",
                 between.isoformat(timespec="minutes")):
        assert store.get_customer(customer.id, as_of=text).name == "Before AB", text
        assert store.as_of(text).get_customer(customer.id).name == "Before AB"
        assert list(store.diff(customer.id, text)["field"]) == ["name"]
        since = store.timeline(customer.id, since=text)
        assert list(since["kind"]) == ["change"] and since["changes"].iloc[0][0][:3] == ("name", "Before AB",
                                                                                         "After AB")
    with pytest.raises(cc.ValidationError, match="Not a date"):
        store.get_customer(customer.id, as_of="2031-13-01T10:00")
