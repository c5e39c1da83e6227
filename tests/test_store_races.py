"""Nothing lost, ever: several people race on one store, on DuckDB and on PostgreSQL.

A hypothesis state machine (:class:`StoreRaces`) lets managers (anna, erik, maria), administrators (boss, alva)
and a viewer (vera) hold read copies of customers, contact persons, comments, events, opportunities and admin lists
that go stale as the others write, and save from them: edits of customer fields, restores from the history, merges,
new and edited comments, contacts, events (and their status), opportunities, relations added and removed, renames
of list values. Its ``race_on_…`` rules make the race on purpose: one person opens a thing, another saves a change to
it, then the first saves from what they opened. A model keeps what the store acknowledged. After every step:

* every customer and record stored equals the model's acknowledged latest values and version, and nothing is
  stored that nobody acknowledged;
* every acknowledged change has exactly one history row (the rows the store holds are the model's, no more);
* history replays to the stored state: the create rows and every later change applied in order (customers by
  version, then id), read back with ``from_text`` and the model's parameters, give exactly the stored customer,
  contact, comment, event, opportunity and relation, field by field (a list value by the name it has today: a
  rename is in the admin log, not in each customer's history);

and every refused write (a conflict, an invalid value, a denied permission, a missing record) left every table as
it was. Beside it: threads racing on one customer field and one opportunity, a merge racing a save on PostgreSQL,
and a record saved from a copy read before its customer was merged away.

``make test`` runs a few fixed (derandomised) examples. To run longer, with new random examples, and see how
often each write was acknowledged or refused::

    CUSTOMERCARD_RACE_EXAMPLES=200 CUSTOMERCARD_RACE_STEPS=60 CUSTOMERCARD_RACE_RANDOM=1 CUSTOMERCARD_RACE_REPORT=1 \\
        CUSTOMERCARD_RACE_THREAD_SAVES=300 python -m pytest -s tests/test_store_races.py
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

import customercard as cc
from customercard.models import EVENT_STATUSES, LIST_NAMES, from_text, to_text
from customercard.passwords import hash_password
from customercard.store import Store
from customercard.store.customers import CustomerStore

from .conftest import BACKENDS, StoreTemplate, copy_database, database_numbers

EXAMPLES = int(os.environ.get("CUSTOMERCARD_RACE_EXAMPLES", "8"))
STEPS = int(os.environ.get("CUSTOMERCARD_RACE_STEPS", "40"))
RACE_SETTINGS = settings(
    max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
    derandomize=not os.environ.get("CUSTOMERCARD_RACE_RANDOM"), report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
#: Acknowledged saves per thread and object in the threaded race (raise it to race longer).
THREAD_SAVES = int(os.environ.get("CUSTOMERCARD_RACE_THREAD_SAVES", "40"))

MANAGERS = ("anna", "erik", "maria")
ADMINS = ("boss", "alva")
VIEWER = "vera"
RECORD_TABLES = ("contacts", "comments", "events", "opportunities", "relations")
RECORD_CLASSES = {"contacts": cc.Contact, "comments": cc.Comment, "events": cc.Event,
                  "opportunities": cc.Opportunity, "relations": cc.Relation}
#: Tables with a version (relations are added and removed, never edited).
VERSIONED = ("contacts", "comments", "events", "opportunities")
CUSTOMER_FIELDS = tuple(f for f in cc.Customer.fields if f != "segments")
#: Fields that hold an admin list value (the store keeps its id; history keeps the label of the day).
CUSTOMER_LISTS = {**cc.Customer.lists, **{f"invoicing.{a}": n for a, n in cc.InvoiceDefaults.lists.items()}}
RECORD_LISTS = {"events": {"event_type": "event_types"}, "opportunities": {"stage": "opportunity_stages"},
                "relations": {"relation_type": "relation_types"}}
RENAMED_LISTS = ("statuses", "industries", "event_types", "opportunity_stages", "relation_types")
#: Values a manager types, already in the form the validators give them (so the model knows what is stored).
CUSTOMER_EDITS: dict[str, tuple[Any, ...] | str] = {
    "phone": ("+46 8 123 45 67", "+46 31 711 22 33", "+46 70 123 45 67", ""),
    "nickname": ("", "Kalle", "Old Name AB"),
    "visit_address.city": ("Stockholm", "Göteborg", "Malmö", ""),
    "email": ("info@firm.example", "sales@firm.example", ""),
    "invoicing.discount_pct": (0.0, 5.0, 12.5),
    "archived": (False, True),
    "account_manager": ("anna", "erik", "maria", None),
    "status": "statuses",
    "industry": "industries",
    "segments.Size": ((), ("Small",), ("Large",)),
    "segments.Services": ((), ("Audit",), ("Audit", "Tax"), ("IT",)),
}
RECORD_EDITS: dict[str, dict[str, tuple[Any, ...] | str]] = {
    "contacts": {"title": ("CFO", "CEO", ""), "phone": ("+46 8 123 45 67", "+46 70 123 45 67", ""),
                 "notes": ("Met at the fair", ""), "active": (True, False), "email": ("eva@firm.example", "")},
    "comments": {"body": ("First words", "Edited text", "Third version")},
    "events": {"title": ("Kick-off", "Follow-up", "Review"), "description": ("", "Agenda sent"),
               "event_type": "event_types"},
    "opportunities": {"amount": (0.0, 78000.0, 125000.5), "probability": (10.0, 50.0, 90.0),
                      "stage": "opportunity_stages", "status": ("pipeline", "won", "lost")},
}
RESTORABLE = {*CUSTOMER_EDITS, "name", "merged_from", "merged_into"}
MERGE_TAKES = ("nickname", "phone", "visit_address.city", "status", "industry", "segments")
#: What two people race on (:meth:`StoreRaces.race_on_a_customer`, :meth:`StoreRaces.race_on_a_record`).
CUSTOMER_RACES = ("edit", "restore", "merge")
RECORD_RACES = (*VERSIONED, "event status", "moved")
#: Which customer or record a rule takes (modulo how many there are, by id): mostly the first few, so that
#: people meet on the same ones and their copies go stale.
PICKS = st.integers(0, 3)
OUTCOMES = {cc.ConflictError: "conflict", cc.ValidationError: "invalid", cc.PermissionDenied: "denied",
            cc.NotFound: "missing"}
FINGERPRINTED = ("customers", "customer_segments", "customer_changes", "record_changes", "contacts", "comments",
                 "events", "opportunities", "relations", "list_values", "admin_log", "outbox", "search_terms")


# -- the databases ---------------------------------------------------------------------------------------------
def _seed(store: Store) -> None:
    """Beside the empty firm's users: two more managers, a second administrator, and three customers each with a
    contact person, a comment, an event and an opportunity; two of them related."""
    for login, role in (("erik", "manager"), ("maria", "manager"), ("alva", "admin")):
        store.add_user(cc.User(login=login, name=login.title(), email=f"{login}@firm.example", role=role),
                       password_hash=hash_password("secret"), by="system:test")
    ids = []
    for manager, name, status, size in (("anna", "Alfa Konsult AB", "Active", "Small"),
                                        ("erik", "Beta Bygg AB", "Prospect", "Large"),
                                        ("maria", "Gamma Revision AB", "On hold", None)):
        customer = store.new_customer()
        customer.param.update(name=name, account_manager=manager, status=status, phone="+46 8 123 45 67")
        customer.visit_address.city = "Stockholm"
        customer.segments = {"Size": [size]} if size else {}
        customer_id = store.create_customer(customer, user=manager).id
        ids.append(customer_id)
        store.create_contact(cc.Contact(customer_id=customer_id, first_name="Eva", last_name="Lund", title="CFO"),
                             user=manager)
        store.add_comment(customer_id, f"Met {name}", user=manager)
        event = store.new_event(customer_id, owner=manager)
        event.param.update(title="Kick-off", event_type="Meeting")
        store.create_event(event, user=manager)
        opportunity = store.new_opportunity(customer_id, owner=manager)
        opportunity.param.update(title="Audit", amount=78000.0)
        store.create_opportunity(opportunity, user=manager)
    store.add_relation(cc.Relation(customer_id=ids[0], other_customer_id=ids[1], relation_type="Partner of"),
                       user="anna")


@pytest.fixture(scope="module", params=BACKENDS)
def race_template(request, empty_template: Path, tmp_path_factory: pytest.TempPathFactory):
    if request.param == "duckdb":
        path = copy_database(empty_template, tmp_path_factory.mktemp("race-template"))
        with Store(path) as store:
            _seed(store)
        yield StoreTemplate("duckdb", path=path)
        return
    server = request.getfixturevalue("pg_server")
    name = "tpl_races"
    with Store(server.create_database(name, template=request.getfixturevalue("empty_template_pg"))) as store:
        _seed(store)
    yield StoreTemplate("postgresql", server=server, name=name)
    server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')


# -- reading what is stored ------------------------------------------------------------------------------------
def _text(value: Any) -> str | None:
    """A history text as read through pandas (missing as None)."""
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def _int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def segments_text(values: Any) -> str | None:
    """Segment values as history text, in a fixed order (their order carries no meaning)."""
    return to_text(sorted(values)) if values else None


def _norm(field_name: str, text: str | None) -> str | None:
    return segments_text(json.loads(text)) if field_name.startswith("segments.") and text else text


def customer_texts(customer: cc.Customer) -> dict[str, str | None]:
    """Every field of a customer as history text; segmentation as ``segments.<criterion>``."""
    texts = {f: to_text(customer.get(f)) for f in CUSTOMER_FIELDS}
    texts.update({f"segments.{c}": segments_text(v) for c, v in (customer.segments or {}).items() if v})
    return texts


def record_texts(record: Any, table: str) -> dict[str, str | None]:
    if record is None:
        return dict.fromkeys(RECORD_CLASSES[table].fields)
    return {f: to_text(record.get(f)) for f in RECORD_CLASSES[table].fields}


def get_relation(store: Store, relation_id: int) -> cc.Relation | None:
    """A stored relation (None once removed), with its type's label of today."""
    frame = store.sql("SELECT r.customer_id, r.other_customer_id, r.other_contact_id, r.note, t.label "
                      "FROM relations r JOIN list_values t ON t.id = r.relation_type_id WHERE r.id = ?",
                      [int(relation_id)])
    if frame.empty:
        return None
    row = frame.iloc[0]
    return cc.Relation(id=int(relation_id), customer_id=_int(row["customer_id"]), relation_type=row["label"],
                       other_customer_id=_int(row["other_customer_id"]),
                       other_contact_id=_int(row["other_contact_id"]), note=_text(row["note"]) or "")


def get_record(store: Store, table: str, record_id: int) -> Any:
    readers = {"contacts": store.get_contact, "comments": store.get_comment, "events": store.get_event,
               "opportunities": store.get_opportunity}
    return get_relation(store, record_id) if table == "relations" else readers[table](record_id)


def customer_rows(frame: pd.DataFrame) -> list[tuple]:
    """A customer's history rows (``store.history``) as (version, kind, field, old, new, by)."""
    return [(int(r.version), r.kind, r.field, _norm(r.field, _text(r.old_value)), _norm(r.field, _text(r.new_value)),
             r.changed_by) for r in frame.itertuples(index=False)]


def record_rows(store: Store, table: str | None = None, record_id: int | None = None) -> dict[tuple, list[tuple]]:
    """History rows of one record (or of all), by (table, record id): (version, kind, field, old, new, by, the
    customer it belonged to), oldest first."""
    where, params = ("WHERE table_name = ? AND record_id = ? ", [table, int(record_id)]) if table else ("", [])
    frame = store.sql("SELECT table_name, record_id, version, kind, field, old_value, new_value, changed_by, "
                      f"customer_id FROM record_changes {where}ORDER BY id", params)
    rows: dict[tuple, list[tuple]] = {}
    for r in frame.itertuples(index=False):
        rows.setdefault((r.table_name, int(r.record_id)), []).append(
            (_int(r.version), r.kind, r.field, _text(r.old_value), _text(r.new_value), r.changed_by,
             _int(r.customer_id)))
    return rows


def fingerprint(store: Store) -> dict[str, list[str]]:
    """Every row of every table a write of these rules may touch (a refused write must leave them all)."""
    return {table: sorted(map(repr, store.db.rows(f"SELECT * FROM {table}"))) for table in FINGERPRINTED}


def stored_state(store: Store) -> tuple[dict[tuple[str, int], str], dict[tuple[str, int], tuple], str]:
    """What is stored, cheaply: each customer's and record's row as text (a customer's with its segmentation), the
    count and last id of each one's history rows, and the admin lists as text."""
    rows = {}
    for table in ("customers", *RECORD_TABLES):
        rows.update({(table, int(row[0])): repr(row) for row in store.db.rows(f"SELECT id, * FROM {table}")})
    for customer_id, value_id in store.db.rows("SELECT customer_id, value_id FROM customer_segments ORDER BY 1, 2"):
        rows[("customers", int(customer_id))] += f" {value_id}"
    histories = {("customers", int(i)): (n, last) for i, n, last in store.db.rows(
        "SELECT customer_id, count(*), max(id) FROM customer_changes GROUP BY customer_id")}
    histories.update({(table, int(i)): (n, last) for table, i, n, last in store.db.rows(
        "SELECT table_name, record_id, count(*), max(id) FROM record_changes GROUP BY table_name, record_id")
        if table in RECORD_TABLES})
    return rows, histories, repr(sorted(store.db.rows("SELECT * FROM list_values")))


# -- history replay ---------------------------------------------------------------------------------------------
Renames = dict[str, list[tuple[pd.Timestamp, str, str]]]


def list_renames(store: Store) -> Renames:
    """Each admin list's renames, oldest first, from the admin log: (when, old label, new label)."""
    areas = {label: name for name, label in LIST_NAMES.items()}
    renames: Renames = {name: [] for name in LIST_NAMES}
    for row in store.admin_log(limit=10**6).iloc[::-1].itertuples(index=False):
        old, new = _text(row.old_value), _text(row.new_value)
        if row.area in areas and old is not None and old == row.item and new is not None:
            renames[areas[row.area]].append((row.changed_at, old, new))
    return renames


def label_now(renames: Renames, list_name: str, label: str | None, written_at: pd.Timestamp) -> str | None:
    """What a list value written as ``label`` at ``written_at`` is called today (renames after it applied)."""
    for at, old, new in renames[list_name]:
        if at > written_at and label == old:
            label = new
    return label


def replayed_texts(record: Any, changes: dict[str, tuple[str | None, pd.Timestamp]], lists: dict[str, str],
                   renames: Renames) -> dict[str, str | None]:
    """Each replayed field as text: its last new value, read back with the model's parameter (``from_text``),
    a list value by the name it has today."""
    texts = {}
    for name, (last, written_at) in changes.items():
        text = label_now(renames, lists[name], last, written_at) if name in lists and last else last
        parameter = record.parameter(name)
        value = from_text(parameter, text)
        texts[name] = to_text("" if value is None and isinstance(parameter.default, str) else value)
    return texts


def replay_mismatches(blank: Any, fields: tuple[str, ...], changes: dict, stored: dict[str, str | None],
                      lists: dict[str, str], renames: Renames) -> list[str]:
    """Fields where the replayed value is not the stored one; a field no change ever set must be blank."""
    replayed = replayed_texts(blank, changes, lists, renames)
    problems = []
    for name in fields:
        if name in replayed:
            if replayed[name] != stored[name]:
                problems.append(f"{name}: replayed {replayed[name]!r}, stored {stored[name]!r}")
        elif stored[name] not in (None, "", "[]", to_text(blank.get(name))):
            problems.append(f"{name}: no history, stored {stored[name]!r}")
    return problems


def replay_customer(stored: cc.Customer, history: pd.DataFrame, renames: Renames) -> list[str]:
    """Apply the customer's history rows (``store.history``) from creation, by version then id, and compare with
    the stored customer."""
    history = history.sort_values(["version", "change_id"])
    changes: dict[str, tuple[str | None, pd.Timestamp]] = {}
    segments: dict[str, str | None] = {}
    merged_into = None
    for row in history.itertuples(index=False):
        new = _text(row.new_value)
        if row.field == "merged_into":
            merged_into = int(re.search(r"\(id (\d+)\)$", new).group(1))
        elif row.field.startswith("segments."):
            segments[row.field] = _norm(row.field, new)
        elif row.field != "merged_from":
            changes[row.field] = (new, row.changed_at)
    texts = customer_texts(stored)
    problems = replay_mismatches(cc.Customer(), CUSTOMER_FIELDS, changes, texts, CUSTOMER_LISTS, renames)
    replayed_segments = {name: text for name, text in segments.items() if text}
    stored_segments = {name: text for name, text in texts.items() if name.startswith("segments.")}
    if replayed_segments != stored_segments:
        problems.append(f"segments: replayed {replayed_segments}, stored {stored_segments}")
    if merged_into != stored.merged_into:
        problems.append(f"merged_into: replayed {merged_into}, stored {stored.merged_into}")
    versions = set(history["version"].astype(int))
    if versions != set(range(1, stored.version + 1)):
        problems.append(f"history versions {sorted(versions)} for stored version {stored.version}")
    return problems


def replay_record(store: Store, table: str, record_id: int, stored: Any, versions: set[int | None],
                  renames: Renames) -> list[str]:
    """Apply a record's history (``store.record_history``, oldest first) and compare with the stored record;
    ``versions``: those its history rows carry."""
    history = store.record_history(table, record_id).iloc[::-1]
    changes = {row.field: (_text(row.new_value), row.changed_at) for row in history.itertuples(index=False)}
    cls = RECORD_CLASSES[table]
    problems = replay_mismatches(cls(), cls.fields, changes, record_texts(stored, table),
                                 RECORD_LISTS.get(table, {}), renames)
    if table in VERSIONED and versions != set(range(1, stored.version + 1)):
        problems.append(f"history versions {sorted(versions)} for stored version {stored.version}")
    return problems


# -- the model -------------------------------------------------------------------------------------------------
@dataclass
class Tracked:
    """What the model holds of one customer or record: its values as history text, its version, the history rows the
    store must have (those read when it was first seen, then one per acknowledged change) and where it belongs."""

    values: dict[str, str | None]
    version: int | None
    history: list[tuple]
    customer_id: int | None = None
    number: int | None = None
    merged_into: int | None = None
    removed: bool = False


@dataclass
class Copy:
    """An actor's read copy: the object they edit and its values as they were read (or last saved)."""

    obj: Any
    base: dict[str, str | None] = field(default_factory=dict)


def _changed(before: dict[str, str | None], after: dict[str, str | None]) -> dict[str, tuple]:
    return {name: (before.get(name), after.get(name)) for name in sorted(set(before) | set(after))
            if before.get(name) != after.get(name)}


def merged_segments(mine: dict[str, str | None], theirs: dict[str, str | None], prefer_theirs: bool,
                    multiple: dict[str, bool]) -> dict[str, str | None]:
    """What a merge makes of two customers' segmentation (as ``segments.<criterion>`` texts)."""
    first, second = (theirs, mine) if prefer_theirs else (mine, theirs)
    result = {name: json.loads(text) for name, text in first.items() if text}
    for name, text in second.items():
        if name not in result:
            result[name] = json.loads(text)
        elif multiple.get(name.split(".", 1)[1], True):
            result[name] = [*result[name], *json.loads(text)]
    return {name: segments_text(set(values)) for name, values in result.items()}


class StoreRaces(RuleBasedStateMachine):
    """Actors with read copies that go stale, writing to one store; the model of what was acknowledged."""

    template: StoreTemplate
    #: How often each rule's write ended how, over all examples (CUSTOMERCARD_RACE_REPORT=1 prints it).
    outcomes: Counter

    def __init__(self) -> None:
        super().__init__()
        self.store, self._close = self.template.open()
        try:
            self._start()
        except BaseException:
            self._close()
            raise

    def _start(self) -> None:
        self.copies: dict[tuple[str, str, int], Copy] = {}
        self.list_copies: dict[tuple[str, str], dict[int, tuple[str, int]]] = {}
        self.customers: dict[int, Tracked] = {}
        self.records: dict[tuple[str, int], Tracked] = {}
        self.lists = {name: self._read_list(name) for name in RENAMED_LISTS}
        self.multiple = {c.name: c.multiple for c in self.store.criteria()}
        self.counter = 0
        self.checked: tuple[dict, dict, str] = ({}, {}, "")
        for (customer_id,) in self.store.db.rows("SELECT id FROM customers ORDER BY id"):
            self._track_customer(int(customer_id))
        for table in RECORD_TABLES:
            for (record_id,) in self.store.db.rows(f"SELECT id FROM {table} ORDER BY id"):
                self._track_record(table, int(record_id))

    # -- the model's bookkeeping ---------------------------------------------------------------------------------
    def _read_list(self, list_name: str) -> dict[int, tuple[str, int]]:
        frame = self.store.list_values(list_name)
        return {int(r.id): (r.label, int(r.version)) for r in frame.itertuples(index=False)}

    def _track_customer(self, customer_id: int) -> None:
        """Start tracking a customer as stored now (its history so far is the baseline)."""
        customer = self.store.get_customer(customer_id)
        self.customers[customer_id] = Tracked(customer_texts(customer), customer.version,
                                              customer_rows(self.store.history(customer_id)),
                                              number=customer.number,
                                              merged_into=customer.merged_into)

    def _track_record(self, table: str, record_id: int) -> None:
        record = get_record(self.store, table, record_id)
        history = record_rows(self.store, table, record_id).get((table, record_id), [])
        self.records[(table, record_id)] = Tracked(record_texts(record, table), getattr(record, "version", None),
                                                   history, customer_id=record.customer_id)

    def _pick_customer(self, pick: int) -> int:
        ids = sorted(self.customers)
        return ids[pick % len(ids)]

    def _pick_record(self, table: str, pick: int, live: bool = True) -> tuple[str, int]:
        keys = sorted(k for k, t in self.records.items() if k[0] == table and not (live and t.removed))
        return keys[pick % len(keys)] if keys else None

    def _label(self, list_name: str, choice: int) -> str | None:
        labels = [label for label, _version in self.lists[list_name].values()]
        return [*labels, None][choice % (len(labels) + 1)]

    def _value(self, options: tuple[Any, ...] | str, choice: int) -> Any:
        return self._label(options, choice) if isinstance(options, str) else options[choice % len(options)]

    def _customer_copy(self, actor: str, customer_id: int, reread: bool) -> Copy:
        key = (actor, "customers", customer_id)
        if reread or key not in self.copies:
            customer = self.store.get_customer(customer_id)
            self.copies[key] = Copy(customer, customer_texts(customer))
        return self.copies[key]

    def _record_copy(self, actor: str, table: str, record_id: int, reread: bool) -> Copy:
        key = (actor, table, record_id)
        if reread or key not in self.copies:
            record = get_record(self.store, table, record_id)
            self.copies[key] = Copy(record, record_texts(record, table))
        return self.copies[key]

    def _attempt(self, expected: str | set[str], write: Callable[[], Any]) -> tuple[str, Any]:
        """Run a write; a refusal must leave every table as it was, and the outcome must be the model's."""
        expected = {expected} if isinstance(expected, str) else expected
        before = fingerprint(self.store)
        try:
            result = write()
        except cc.CustomerCardError as exc:
            outcome = OUTCOMES.get(type(exc), type(exc).__name__)
            assert fingerprint(self.store) == before, f"a refused write ({outcome}: {exc}) left something behind"
            assert outcome in expected, f"refused ({outcome}: {exc}) where the model expected {expected}"
            self.outcomes[(write.__qualname__.split(".")[1].lstrip("_"), outcome)] += 1
            return outcome, None
        assert "ack" in expected, f"acknowledged where the model expected {expected}"
        self.outcomes[(write.__qualname__.split(".")[1].lstrip("_"), "ack")] += 1
        return "ack", (result, before)

    def _acknowledge(self, tracked: Tracked, kind: str, actor: str, changes: dict[str, tuple]) -> None:
        """Record an acknowledged change in the model: new values, the next version and one row per field."""
        if tracked.version is not None:
            tracked.version += 1
        for name, (old, new) in changes.items():
            tracked.values[name] = new
            row = (tracked.version, kind, name, old, new, actor)
            is_customer = tracked.number is not None  # a record's row also says whose record it was
            tracked.history.append(row if is_customer else (*row, tracked.customer_id))
            if name.startswith("segments.") and new is None:
                del tracked.values[name]  # a criterion without values is not kept

    def _nothing_written(self, before: dict[str, list[str]]) -> None:
        assert fingerprint(self.store) == before, "a save that changed nothing wrote something"

    # -- reads ------------------------------------------------------------------------------------------------
    @rule(actor=st.sampled_from(MANAGERS), pick=PICKS, table=st.sampled_from(("customers", *VERSIONED)))
    def read(self, actor: str, pick: int, table: str) -> None:
        """An actor opens a card or record afresh: their copy is the stored state, as the model says."""
        if table == "customers":
            customer_id = self._pick_customer(pick)
            copy = self._customer_copy(actor, customer_id, reread=True)
            tracked = self.customers[customer_id]
        else:
            key = self._pick_record(table, pick)
            copy = self._record_copy(actor, *key, reread=True)
            tracked = self.records[key]
        assert (copy.base, copy.obj.version) == (tracked.values, tracked.version)

    @rule(admin=st.sampled_from(ADMINS), list_name=st.sampled_from(RENAMED_LISTS))
    def read_list(self, admin: str, list_name: str) -> None:
        self.list_copies[(admin, list_name)] = self._read_list(list_name)
        assert self.list_copies[(admin, list_name)] == self.lists[list_name]

    # -- customers --------------------------------------------------------------------------------------------
    @rule(actor=st.sampled_from(MANAGERS), pick=PICKS, name=st.sampled_from(sorted(CUSTOMER_EDITS)),
          choice=st.integers(0, 99), reread=st.booleans())
    def edit_customer(self, actor: str, pick: int, name: str, choice: int, reread: bool) -> None:
        """Change one field on the actor's copy and save: refused when the copy is stale and changes something."""
        customer_id = self._pick_customer(pick)
        tracked = self.customers[customer_id]
        copy = self._customer_copy(actor, customer_id, reread)
        value = self._value(CUSTOMER_EDITS[name], choice)
        if name.startswith("segments."):
            criterion = name.split(".", 1)[1]
            copy.obj.segments = {**{c: v for c, v in copy.obj.segments.items() if c != criterion},
                                 **({criterion: list(value)} if value else {})}
        else:
            copy.obj.set(name, value)
        changes = _changed(copy.base, customer_texts(copy.obj))
        stale = copy.obj.version != tracked.version
        # a customer merged away is not edited any more (it is kept as the pointer to its survivor), whichever
        # version the copy has: refused with where to make the change; stale: refused even with nothing changed (a
        # save is not taken as done on a copy that is not what is stored)
        expected = "denied" if tracked.merged_into is not None else "conflict" if stale else "ack"
        outcome, result = self._attempt(expected, lambda: self.store.save_customer(copy.obj, user=actor))
        if outcome != "ack":
            return
        if not changes:
            self._nothing_written(result[1])
            return
        self._acknowledge(tracked, "update", actor, changes)
        copy.base = customer_texts(copy.obj)

    @rule(actor=st.sampled_from(MANAGERS), pick=PICKS, row=st.integers(0, 999),
          which=st.sampled_from(("old", "new")), use_copy=st.booleans())
    def restore(self, actor: str, pick: int, row: int, which: str, use_copy: bool) -> None:
        """Put back a past value, on the version the actor's copy has (or the stored one)."""
        customer_id = self._pick_customer(pick)
        tracked = self.customers[customer_id]
        history = self.store.history(customer_id)
        history = history[history["field"].isin(RESTORABLE) | history["field"].str.startswith("segments.")]
        if history.empty:
            return
        change = history.iloc[row % len(history)]
        copy = self.copies.get((actor, "customers", customer_id))
        version = copy.obj.version if use_copy and copy is not None else tracked.version
        name, text = change["field"], _norm(change["field"], _text(change[f"{which}_value"]))
        expected, new = self._restore_outcome(tracked, version, name, text, change["changed_at"])
        outcome, result = self._attempt(expected, lambda: self.store.restore(
            customer_id, int(change["change_id"]), which=which, user=actor, expected_version=version))
        if outcome != "ack":
            return
        if new == tracked.values.get(name):
            self._nothing_written(result[1])
            return
        self._acknowledge(tracked, "restore", actor, {name: (tracked.values.get(name), new)})

    def _restore_outcome(self, tracked: Tracked, version: int, name: str, text: str | None,
                         written_at: pd.Timestamp) -> tuple[str, Any]:
        """What a restore must do, and the text it puts back: a list value renamed since it was written is the same
        value, put back under today's name."""
        if name in CUSTOMER_LISTS and text:
            text = label_now(list_renames(self.store), CUSTOMER_LISTS[name], text, written_at)
        if name in cc.Customer.HISTORY_ONLY:
            return "invalid", None
        if tracked.merged_into is not None:  # merged away: not edited any more, a restore neither (on any version)
            return "denied", None
        if version != tracked.version:
            return "conflict", None
        if name.startswith("segments."):
            return "ack", text
        parameter = cc.Customer().parameter(name)
        value = from_text(parameter, text)
        new = to_text("" if value is None and isinstance(parameter.default, str) else value)
        labels = [label for label, _version in self.lists.get(CUSTOMER_LISTS.get(name, ""), {}).values()]
        unknown_label = name in CUSTOMER_LISTS and new and new not in labels and new != tracked.values.get(name)
        return ("invalid" if unknown_label or (name == "name" and not new) else "ack"), new

    @rule(actor=st.sampled_from(MANAGERS), survivor=PICKS, other=PICKS,
          take=st.sets(st.sampled_from(MERGE_TAKES), max_size=3), use_copies=st.booleans())
    def merge(self, actor: str, survivor: int, other: int, take: set[str], use_copies: bool) -> None:
        """Merge two customers, on the versions the actor's copies have (or the stored ones)."""
        survivor_id = self._pick_customer(survivor)
        if self.customers[survivor_id].merged_into is not None:
            return  # merging into a customer merged away already is not what people do
        other_id = self._pick_customer(other)
        versions = []
        for customer_id in (survivor_id, other_id):
            copy = self.copies.get((actor, "customers", customer_id))
            seen = copy.obj.version if use_copies and copy is not None else None
            versions.append(self.customers[customer_id].version if seen is None else seen)
        if survivor_id == other_id:
            expected = "invalid"
        elif versions != [self.customers[survivor_id].version, self.customers[other_id].version]:
            expected = "conflict"
        else:
            expected = "invalid" if self.customers[other_id].merged_into is not None else "ack"
        outcome, _result = self._attempt(expected, lambda: self.store.merge_customers(
            survivor_id, other_id, take_from_other=take, user=actor, survivor_version=versions[0],
            other_version=versions[1]))
        if outcome == "ack":
            self._merged(actor, survivor_id, other_id, take)

    def _merged(self, actor: str, survivor_id: int, other_id: int, take: set[str]) -> None:
        """The model of an acknowledged merge: the survivor takes fields, the other is archived, rows move."""
        survivor, other = self.customers[survivor_id], self.customers[other_id]
        after = {**survivor.values, **{name: other.values[name] for name in take if name != "segments"}}
        after = {name: text for name, text in after.items() if not name.startswith("segments.")}
        after.update(merged_segments({n: t for n, t in survivor.values.items() if n.startswith("segments.")},
                                     {n: t for n, t in other.values.items() if n.startswith("segments.")},
                                     "segments" in take, self.multiple))
        self._acknowledge(survivor, "merge", actor, _changed(survivor.values, after))
        survivor.values = after
        survivor.history.append((survivor.version, "merge", "merged_from", None,
                                 f"{other.number} {other.values['name']} (id {other_id})", actor))
        self._acknowledge(other, "merge", actor, {
            "archived": (other.values["archived"], "true"),
            "merged_into": (None, f"{survivor.number} {after['name']} (id {survivor_id})")})
        del other.values["merged_into"]
        other.merged_into = survivor_id
        for earlier in self.customers.values():  # merged into the other before: they point on to the survivor
            if earlier.merged_into == other_id:
                self._acknowledge(earlier, "merge", actor, {"merged_into": (
                    f"{other.number} {other.values['name']} (id {other_id})",
                    f"{survivor.number} {after['name']} (id {survivor_id})")})
                del earlier.values["merged_into"]
                earlier.merged_into = survivor_id
        self._move_records(actor, survivor_id, other_id)

    def _move_records(self, actor: str, survivor_id: int, other_id: int) -> None:
        for (table, _record_id), tracked in self.records.items():
            if tracked.removed:
                continue
            other_side = table == "relations" and tracked.values["other_customer_id"] == str(other_id)
            if tracked.customer_id == other_id and not (
                    table == "relations" and tracked.values["other_customer_id"] == str(survivor_id)):
                tracked.customer_id = survivor_id
            elif other_side and tracked.customer_id != survivor_id:
                self._acknowledge(tracked, "merge", actor, {"other_customer_id": (str(other_id), str(survivor_id))})

    @rule(actor=st.sampled_from(MANAGERS), table=st.sampled_from(VERSIONED), pick=PICKS,
          choice=st.integers(0, 999), reread=st.booleans())
    def edit_record(self, actor: str, table: str, pick: int, choice: int, reread: bool) -> None:
        """Edit a contact, comment, event or opportunity on the actor's copy and save it."""
        key = self._pick_record(table, pick)
        tracked = self.records[key]
        copy = self._record_copy(actor, *key, reread)
        edits = RECORD_EDITS[table]
        name = sorted(edits)[choice % len(edits)]
        copy.obj.set(name, self._value(edits[name], choice // len(edits)))
        if name == "status" and copy.obj.status == "lost":
            copy.obj.lost_reason = "Price"
        expected = "ack"
        if copy.obj.version != tracked.version:
            expected = "conflict"
        save = {"contacts": self.store.save_contact, "comments": self.store.edit_comment,
                "events": self.store.save_event, "opportunities": self.store.save_opportunity}[table]
        outcome, result = self._attempt(expected, lambda: save(copy.obj, user=actor))
        if outcome == "invalid":
            del self.copies[(actor, *key)]
        if outcome != "ack":
            return
        saved = record_texts(result[0], table)
        changes = _changed(tracked.values, saved)
        if not changes:
            self._nothing_written(result[1])
            return
        self._acknowledge(tracked, "update", actor, changes)
        copy.base = saved

    @rule(actor=st.sampled_from(MANAGERS), pick=PICKS, status=st.sampled_from(EVENT_STATUSES),
          use_copy=st.booleans())
    def set_event_status(self, actor: str, pick: int, status: str, use_copy: bool) -> None:
        """Done/Cancel buttons carry the version they were drawn with (the actor's copy's)."""
        key = self._pick_record("events", pick)
        tracked = self.records[key]
        copy = self.copies.get((actor, *key))
        version = copy.obj.version if use_copy and copy is not None else tracked.version
        outcome, result = self._attempt("ack" if version == tracked.version else "conflict",
                                        lambda: self.store.set_event_status(key[1], status, user=actor,
                                                                            version=version))
        if outcome != "ack":
            return
        if status == tracked.values["status"]:
            self._nothing_written(result[1])
            return
        self._acknowledge(tracked, "update", actor, {"status": (tracked.values["status"], status)})
        self.copies[(actor, *key)] = Copy(result[0], record_texts(result[0], "events"))

    # -- relations --------------------------------------------------------------------------------------------
    @rule(actor=st.sampled_from(MANAGERS), pick=PICKS)
    def remove_relation(self, actor: str, pick: int) -> None:
        """Remove a relation (one removed already, by someone else, is not found)."""
        key = self._pick_record("relations", pick, live=False)
        if key is None:
            return
        tracked = self.records[key]
        outcome, _result = self._attempt("missing" if tracked.removed else "ack",
                                         lambda: self.store.remove_relation(key[1], user=actor))
        if outcome == "ack":
            self._acknowledge(tracked, "delete", actor, {name: (text, None) for name, text in tracked.values.items()
                                                         if text not in (None, "")})
            tracked.values = dict.fromkeys(tracked.values)
            tracked.removed = True

    # -- admin lists ------------------------------------------------------------------------------------------
    @rule(admin=st.sampled_from(ADMINS), list_name=st.sampled_from(RENAMED_LISTS), pick=PICKS,
          reread=st.booleans())
    def rename_list_value(self, admin: str, list_name: str, pick: int, reread: bool) -> None:
        """Rename a list value on the version the administrator's list shows; customers and records that have it
        show the new name (they keep its id)."""
        if reread or (admin, list_name) not in self.list_copies:
            self.list_copies[(admin, list_name)] = self._read_list(list_name)
        seen = self.list_copies[(admin, list_name)]
        value_id = sorted(seen)[pick % len(seen)]
        old, version = self.lists[list_name][value_id]
        self.counter += 1
        label = f"{seen[value_id][0].split(' #')[0]} #{self.counter}"
        outcome, _result = self._attempt("ack" if seen[value_id][1] == version else "conflict",
                                         lambda: self.store.rename_list_value(value_id, label, user=admin,
                                                                              version=seen[value_id][1]))
        if outcome == "ack":
            self.lists[list_name][value_id] = (label, version + 1)
            self._renamed(list_name, old, label)

    def _renamed(self, list_name: str, old: str, new: str) -> None:
        for tracked in self.customers.values():
            for name, listed in CUSTOMER_LISTS.items():
                if listed == list_name and tracked.values.get(name) == old:
                    tracked.values[name] = new
        for (table, _record_id), tracked in self.records.items():
            for name, listed in RECORD_LISTS.get(table, {}).items():
                if listed == list_name and tracked.values[name] == old and not tracked.removed:
                    tracked.values[name] = new

    # -- two people, one thing: the race on purpose ------------------------------------------------------------
    @staticmethod
    def _other_than(first: str, second: str) -> str:
        return MANAGERS[(MANAGERS.index(first) + 1) % len(MANAGERS)] if second == first else second

    @rule(first=st.sampled_from(MANAGERS), second=st.sampled_from(MANAGERS), kind=st.sampled_from(CUSTOMER_RACES),
          pick=PICKS, one=st.integers(0, 999), two=st.integers(0, 999))
    def race_on_a_customer(self, first: str, second: str, kind: str, pick: int, one: int, two: int) -> None:
        """The second person opens a customer (and, to merge, another), the first saves a change to it, then the
        second saves a field, restores a past value or merges from what they opened: refused when it is stale."""
        second = self._other_than(first, second)
        names = sorted(CUSTOMER_EDITS)
        self._customer_copy(second, self._pick_customer(pick), reread=True)
        if kind == "merge":
            self._customer_copy(second, self._pick_customer(pick + 1), reread=True)
        self.edit_customer(first, pick, names[one % len(names)], one // len(names), reread=True)
        if kind == "edit":
            self.edit_customer(second, pick, names[two % len(names)], two // len(names), reread=False)
        elif kind == "restore":
            self.restore(second, pick, two, ("old", "new")[two % 2], use_copy=True)
        else:
            self.merge(second, pick + 1, pick, set(), use_copies=True)

    @rule(first=st.sampled_from(MANAGERS), second=st.sampled_from(MANAGERS), kind=st.sampled_from(RECORD_RACES),
          pick=PICKS, one=st.integers(0, 999), two=st.integers(0, 999))
    def race_on_a_record(self, first: str, second: str, kind: str, pick: int, one: int, two: int) -> None:
        """The second person opens a contact person, comment, event or opportunity, the first saves a change to it
        (or its event status, or merges its customer away), then the second saves from what they opened."""
        second = self._other_than(first, second)
        if kind == "moved":
            self._moved_under_a_copy(first, second, pick, one, two)
        elif kind == "event status":
            self._record_copy(second, *self._pick_record("events", pick), reread=True)
            self.set_event_status(first, pick, EVENT_STATUSES[one % 3], use_copy=False)
            self.set_event_status(second, pick, EVENT_STATUSES[two % 3], use_copy=True)
        else:
            self._record_copy(second, *self._pick_record(kind, pick), reread=True)
            self.edit_record(first, kind, pick, one, reread=True)
            self.edit_record(second, kind, pick, two, reread=False)

    @rule(list_name=st.sampled_from(RENAMED_LISTS), pick=PICKS)
    def race_on_a_list(self, list_name: str, pick: int) -> None:
        """Alva opens an admin list, the boss renames a value, then Alva renames it from what she opened."""
        self.list_copies[("alva", list_name)] = self._read_list(list_name)
        self.rename_list_value("boss", list_name, pick, reread=True)
        self.rename_list_value("alva", list_name, pick, reread=False)

    def _moved_under_a_copy(self, first: str, second: str, pick: int, one: int, two: int) -> None:
        """The second person opens a record, the first merges its customer away (the record moves to the survivor,
        its version unchanged), then the second saves the record from their copy."""
        table = VERSIONED[one % len(VERSIONED)]
        key = self._pick_record(table, pick)
        self._record_copy(second, *key, reread=True)
        ids = sorted(self.customers)
        owner = ids.index(self.records[key].customer_id)
        self.merge(first, owner + 1 + one % (len(ids) - 1), owner, set(), use_copies=False)
        self.edit_record(second, table, pick, two, reread=False)

    # -- creating, and writes never allowed ------------------------------------------------------------------------
    @rule(actor=st.sampled_from(MANAGERS), table=st.sampled_from(("customers", *RECORD_TABLES)), pick=PICKS,
          other=PICKS, choice=st.integers(0, 99))
    def create(self, actor: str, table: str, pick: int, other: int, choice: int) -> None:
        """Create a customer, or a contact person, comment, event, opportunity or relation of one."""
        customer_id = self._pick_customer(pick)
        if table == "relations":
            self._add_relation(actor, customer_id, other, choice)
            return
        if table != "customers" and self.customers[customer_id].merged_into is not None:
            # nothing is added to a customer merged away: it would stay on the pointer, not reach the survivor
            self._attempt("denied", self._creation(table, actor, customer_id, choice))
            return
        _outcome, (created, _before) = self._attempt("ack", self._creation(table, actor, customer_id, choice))
        if table == "customers":
            self._track_customer(created.id)
            assert self.customers[created.id].values == customer_texts(created)
        else:
            self._track_record(table, created.id)
            assert self.records[(table, created.id)].values == record_texts(created, table)

    def _creation(self, table: str, actor: str, customer_id: int, choice: int) -> Callable[[], Any]:
        """The write that creates one thing (what it returns is what was created)."""
        store = self.store
        if table == "customers":
            customer = store.new_customer()
            customer.param.update(name=f"Newcomer {choice} AB", account_manager=actor)
            return lambda: store.create_customer(customer, user=actor)
        if table == "comments":
            return lambda: store.add_comment(customer_id, ("Called", "Sent offer")[choice % 2], user=actor)
        if table == "contacts":
            contact = cc.Contact(customer_id=customer_id, first_name="Per", last_name="Holm",
                                 phone=("", "+46 70 123 45 67")[choice % 2])
            return lambda: store.create_contact(contact, user=actor)
        if table == "events":
            event = store.new_event(customer_id, owner=actor)
            event.param.update(title="Lunch meeting", event_type=self._label("event_types", choice))
            return lambda: store.create_event(event, user=actor)
        opportunity = store.new_opportunity(customer_id, owner=actor)
        opportunity.param.update(title="Tax advice", amount=(0.0, 5000.0, 9999.5)[choice % 3])
        return lambda: store.create_opportunity(opportunity, user=actor)

    def _add_relation(self, actor: str, customer_id: int, other: int, choice: int) -> None:
        relation = cc.Relation(customer_id=customer_id, relation_type=self._label("relation_types", choice // 2))
        if choice % 2:
            relation.other_contact_id = self._pick_record("contacts", other)[1]
        else:
            relation.other_customer_id = self._pick_customer(other)
        invalid = relation.relation_type is None or relation.other_customer_id == customer_id
        wanted = record_texts(relation, "relations")
        invalid = invalid or any(  # the same relation made before (and not removed): not made twice
            key[0] == "relations" and not tracked.removed and tracked.customer_id == customer_id
            and all(tracked.values.get(f) == wanted[f] for f in ("relation_type", "other_customer_id",
                                                                 "other_contact_id"))
            for key, tracked in self.records.items())
        merged_away = any(self.customers[i].merged_into is not None
                          for i in (customer_id, relation.other_customer_id) if i is not None)
        expected = "invalid" if invalid else "denied" if merged_away else "ack"
        outcome, _result = self._attempt(expected, lambda: self.store.add_relation(relation, user=actor))
        if outcome == "ack":
            self._track_record("relations", relation.id)
            assert self.records[("relations", relation.id)].values == record_texts(relation, "relations")

    @rule(actor=st.sampled_from(MANAGERS), pick=PICKS, how=st.sampled_from(("invalid", "viewer", "manager")))
    def refused_write(self, actor: str, pick: int, how: str) -> None:
        """Writes never allowed: a value the validators refuse, a viewer's save, a manager renaming a list value."""
        customer = self.store.get_customer(self._pick_customer(pick))
        if how == "invalid":
            customer.phone = "12"
            merged_away = self.customers[customer.id].merged_into is not None  # refused before its values are read
            self._attempt("denied" if merged_away else "invalid",
                          lambda: self.store.save_customer(customer, user=actor))
        elif how == "viewer":
            customer.nickname = "Viewer was here"
            self._attempt("denied", lambda: self.store.save_customer(customer, user=VIEWER))
        else:
            value_id, (_label, version) = next(iter(self.lists["statuses"].items()))
            self._attempt("denied", lambda: self.store.rename_list_value(value_id, "Renamed by a manager",
                                                                         user=actor, version=version))

    # -- after every step ---------------------------------------------------------------------------------------
    @invariant()
    def nothing_lost(self) -> None:
        """Stored = acknowledged; one history row per acknowledged change; history replays to what is stored.

        Checked fully for each customer and record whose stored row, history or model changed since the last check
        (all of them when an admin list changed, and at the end): the others are the rows checked before."""
        rows, histories, lists = stored_state(self.store)
        live = {("customers", i) for i in self.customers} | {k for k, t in self.records.items() if not t.removed}
        assert set(rows) == live, f"stored rows nobody acknowledged: {set(rows) - live}; lost: {live - set(rows)}"
        assert set(histories) <= {*live, *self.records}, "history rows of something nobody wrote"
        model = self._model_state()
        stored = {key: (rows.get(key), histories.get(key)) for key in model}
        dirty = set(model) if lists != self.checked[2] else {
            key for key in model if model[key] != self.checked[0].get(key) or stored[key] != self.checked[1].get(key)}
        self._verify(dirty)
        self.checked = (model, stored, lists)

    def teardown(self) -> None:
        """Everything checked once more at the end (unless a step failed already: that failure is the report)."""
        try:
            if sys.exc_info()[1] is None:
                self._verify(set(self._model_state()))
        finally:
            self._close()

    def _model_state(self) -> dict[tuple[str, int], str]:
        state = {("customers", i): repr((t.values, t.version, t.history, t.merged_into))
                 for i, t in self.customers.items()}
        state.update({key: repr((t.values, t.version, t.history, t.removed)) for key, t in self.records.items()})
        return state

    def _verify(self, keys: set[tuple[str, int]]) -> None:
        renames = list_renames(self.store)
        all_rows = record_rows(self.store) if any(table != "customers" for table, _id in keys) else {}
        for table, key_id in sorted(keys):
            if table == "customers":
                self._verify_customer(key_id, renames)
            else:
                self._verify_record(table, key_id, all_rows.get((table, key_id), []), renames)

    def _verify_customer(self, customer_id: int, renames: Renames) -> None:
        tracked = self.customers[customer_id]
        stored = self.store.get_customer(customer_id)
        assert (customer_texts(stored), stored.version, stored.merged_into) == (
            tracked.values, tracked.version, tracked.merged_into), f"customer {customer_id}"
        history = self.store.history(customer_id)
        assert sorted(customer_rows(history), key=repr) == sorted(tracked.history, key=repr), \
            f"history of customer {customer_id}"
        assert replay_customer(stored, history, renames) == [], f"replay of customer {customer_id}"

    def _verify_record(self, table: str, record_id: int, rows: list[tuple], renames: Renames) -> None:
        tracked = self.records[(table, record_id)]
        stored = get_record(self.store, table, record_id)
        assert record_texts(stored, table) == tracked.values, f"{table} {record_id}"
        assert getattr(stored, "version", None) == tracked.version, f"version of {table} {record_id}"
        assert sorted(rows, key=repr) == sorted(tracked.history, key=repr), f"history of {table} {record_id}"
        assert replay_record(self.store, table, record_id, stored, {row[0] for row in rows}, renames) == [], \
            f"replay of {table} {record_id}"
        if table == "contacts":  # the super search finds the person at the customer it now belongs to
            found = self.store.sql("SELECT DISTINCT customer_id FROM search_terms WHERE contact_id = ?", [record_id])
            assert set(found["customer_id"].astype(int)) == {tracked.customer_id}, f"search entries of {record_id}"


def test_state_machine_nothing_lost(race_template: StoreTemplate) -> None:
    """Random reads, edits, saves, restores, merges, record edits and list renames by several actors."""
    machine = type(f"StoreRacesOn{race_template.backend.title()}", (StoreRaces,),
                   {"template": race_template, "outcomes": Counter()})
    run_state_machine_as_test(machine, settings=RACE_SETTINGS)
    if os.environ.get("CUSTOMERCARD_RACE_REPORT"):
        print(f"\n{race_template.backend}:", ", ".join(f"{rule} {outcome} {n}"
                                                       for (rule, outcome), n in sorted(machine.outcomes.items())))


# -- threads ---------------------------------------------------------------------------------------------------
def _in_threads(workers: int, work: Callable[[int], None]) -> None:
    """Run ``work(worker)`` in that many threads started together; re-raise what any of them raised."""
    start = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            start.wait()
            work(worker)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(240)
    assert not errors, errors


def _assert_saved_in_order(acknowledged: list[tuple[int, str]], rows: list[tuple[int, str | None, str | None]],
                           first_version: int) -> None:
    """Every acknowledged save made its own version, has its one history row (version, old, new) and the rows
    follow each other: none was lost, none overwritten unseen."""
    acknowledged = sorted(acknowledged)
    assert [version for version, _value in acknowledged] == list(range(first_version + 1,
                                                                       first_version + 1 + len(acknowledged)))
    assert [(version, new) for version, _old, new in rows] == acknowledged
    assert all(old == previous for (_v, old, _n), (_w, _o, previous) in zip(rows[1:], rows, strict=False))


def test_threads_saving_one_field_and_one_opportunity_lose_no_update(empty_store: Store) -> None:
    """Three people read, change and save the same customer field and the same opportunity's amount, over and over
    and at once: each save is acknowledged or refused as stale; every acknowledged value is in the history, in the
    order of the versions, and the last one is what is stored."""
    store = empty_store
    customer = store.create_customer(user="anna", name="Contested AB")
    opportunity = store.new_opportunity(customer.id, owner="anna")
    opportunity.title = "Contested deal"
    opportunity = store.create_opportunity(opportunity, user="anna")
    acknowledged: dict[str, list[tuple[int, str]]] = {"customer": [], "opportunity": []}
    refused = Counter()
    lock = threading.Lock()

    def save_nickname(worker: int, i: int) -> tuple[int, str]:
        mine = store.get_customer(customer.id)
        mine.nickname = f"worker {worker} save {i}"
        return store.save_customer(mine, user=("anna", "boss")[worker % 2]).version, mine.nickname

    def save_amount(worker: int, i: int) -> tuple[int, str]:
        mine = store.get_opportunity(opportunity.id)
        mine.amount = float(100_000 * (worker + 1) + i)
        return store.save_opportunity(mine, user=("anna", "boss")[worker % 2]).version, to_text(mine.amount)

    def work(worker: int) -> None:
        for i in range(THREAD_SAVES):
            for what, save in (("customer", save_nickname), ("opportunity", save_amount)):
                while True:
                    try:
                        saved = save(worker, i)
                    except cc.ConflictError:
                        with lock:
                            refused[what] += 1
                        continue
                    with lock:
                        acknowledged[what].append(saved)
                    break

    _in_threads(3, work)
    if os.environ.get("CUSTOMERCARD_RACE_REPORT"):
        print(f"\n{store.db.dialect}: acknowledged", {what: len(saves) for what, saves in acknowledged.items()},
              "refused as stale", dict(refused))
    assert len(acknowledged["customer"]) == len(acknowledged["opportunity"]) == 3 * THREAD_SAVES
    history = store.history(customer.id, "nickname").sort_values(["version", "change_id"])
    _assert_saved_in_order(acknowledged["customer"], [(int(r.version), _text(r.old_value), _text(r.new_value))
                                                      for r in history.itertuples() if r.kind == "update"], 1)
    stored = store.get_customer(customer.id)
    assert (stored.version, stored.nickname) == max(acknowledged["customer"])
    everything = store.history(customer.id)
    assert len(everything) == (everything["kind"] == "create").sum() + 3 * THREAD_SAVES  # and no other row

    rows = record_rows(store, "opportunities", opportunity.id)[("opportunities", opportunity.id)]
    _assert_saved_in_order(acknowledged["opportunity"], [(version, old, new) for version, kind, name, old, new, *_by
                                                         in rows if kind == "update" and name == "amount"], 1)
    stored = store.get_opportunity(opportunity.id)
    assert (stored.version, to_text(stored.amount)) == max(acknowledged["opportunity"])
    assert len(store.record_history("opportunities", opportunity.id)) == len(rows) == \
        sum(kind == "create" for _v, kind, *_rest in rows) + 3 * THREAD_SAVES


def test_a_save_of_the_survivor_while_it_merges_waits_for_the_merge_and_meets_it(pg_server, empty_template_pg: str,
                                                                               monkeypatch) -> None:
    """Another process saves the survivor from a copy it read after the merge read it: the merge holds both customers
    from its start, so the save waits until the merge has committed and then meets the merge's new version as a
    conflict — the merge is whole, and the other save is refused with nothing written, not lost unseen (PostgreSQL:
    two stores stand for two processes)."""
    name = f"test_{next(database_numbers)}"
    url = pg_server.create_database(name, template=empty_template_pg)
    merging, saving = Store(url), Store(url)
    outcome: dict[str, object] = {}
    try:
        survivor = merging.create_customer(user="anna", name="Survivor AB")
        other = merging.create_customer(user="anna", name="Duplicate AB")
        read = CustomerStore.get_customer  # how the store's parts read a customer (the merge among them)
        theirs_read = threading.Event()

        def someone_saves() -> None:
            theirs = saving.get_customer(survivor.id)
            theirs_read.set()
            theirs.phone = "+46 8 123 45 67"
            try:
                saving.save_customer(theirs, user="boss")
                outcome["saved"] = True
            except cc.ConflictError as conflict:
                outcome["conflict"] = conflict

        saver = threading.Thread(target=someone_saves)

        def read_then_someone_saves(part: CustomerStore, customer_id: int) -> cc.Customer:
            found = read(part, customer_id)
            if part.db is merging.db and customer_id == other.id and not saver.is_alive():
                saver.start()  # the merge has read both customers: now the other process reads and saves
                assert theirs_read.wait(30)
                time.sleep(0.3)  # its save reaches the survivor's row, held by the merge
            return found

        with monkeypatch.context() as patched:
            patched.setattr(CustomerStore, "get_customer", read_then_someone_saves)
            merging.merge_customers(survivor.id, other.id, user="anna", survivor_version=1, other_version=1)
        saver.join(60)
        assert "conflict" in outcome and "saved" not in outcome
        stored = merging.get_customer(survivor.id)
        assert (stored.version, stored.phone, stored.updated_by) == (2, "", "anna")
        history = merging.history(survivor.id)
        assert "phone" not in set(history["field"])
        assert merging.get_customer(other.id).merged_into == survivor.id
    finally:
        merging.close()
        saving.close()
        pg_server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_a_record_saved_from_a_copy_read_before_a_merge_stays_with_the_survivor(empty_store: Store) -> None:
    """A merge moves a contact person to the survivor without changing its version; a copy read before the merge
    still names the merged-away customer and saves fine, but its history row, its search entries and its
    announcement belong to the survivor."""
    store = empty_store
    survivor = store.create_customer(user="anna", name="Survivor AB")
    other = store.create_customer(user="anna", name="Duplicate AB")
    contact = store.create_contact(cc.Contact(customer_id=other.id, first_name="Eva", last_name="Lund"), user="anna")
    mine = store.get_contact(contact.id)
    store.merge_customers(survivor.id, other.id, user="boss")
    mine.title = "CFO"
    assert store.save_contact(mine, user="anna").customer_id == survivor.id
    rows = record_rows(store, "contacts", contact.id)[("contacts", contact.id)]
    assert [(kind, name, customer_id) for _v, kind, name, _o, _n, _by, customer_id in rows if kind == "update"] == [
        ("update", "title", survivor.id)]
    found = store.sql("SELECT DISTINCT customer_id FROM search_terms WHERE contact_id = ?", [contact.id])
    assert list(found["customer_id"]) == [survivor.id]
