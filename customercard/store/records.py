"""Shared helpers for records with field-level history in ``record_changes`` (contacts, comments, CRM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pandas as pd

from ..errors import ConflictError, FieldConflict, NotFound, PermissionDenied, ValidationError
from ..i18n import _
from ..models import Choices, Record, to_text
from .backend import Backend
from .changes import Change
from .database import execute_rows
from .part import Part

R = TypeVar("R", bound=Record)

INSERT_RECORD_CHANGE = ("INSERT INTO record_changes (table_name, record_id, customer_id, changed_at, changed_by, "
                        "kind, field, old_value, new_value, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
#: The kind of change a table's rows announce (see :class:`customercard.store.changes.Change`).
CHANGE_KINDS = {"contacts": "contact", "comments": "comment", "events": "event", "opportunities": "opportunity",
                "relations": "relation", "files": "file", "projects": "project",
                "follow_ups": "follow-up"}


def diff_records(before: Record | None, after: Record) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} for every user field that differs (all non-empty ones when ``before`` is None)."""
    changes = {}
    for field in after.fields:
        old = before.get(field) if before is not None else None
        new = after.get(field)
        if to_text(old) != to_text(new) and not (before is None and to_text(new) in (None, "", "[]")):
            changes[field] = (old, new)
    return changes


def write_record_changes(  # noqa: PLR0913, PLR0917 - the parts of one history entry, as the 20 savers pass them
        db: Any, cur: Any, table: str, record_id: int, customer_id: int | None, login: str, now: Any, kind: str,
        changes: dict[str, tuple[Any, Any]], version: int | None = None) -> None:
    """Record a record's field changes (at its new ``version``, for records that have one) and announce them."""
    if not changes:
        return
    execute_rows(cur, INSERT_RECORD_CHANGE, [
        [table, record_id, customer_id, now, login, kind, field, to_text(old), to_text(new), version]
        for field, (old, new) in changes.items()])
    db.announce(Change(CHANGE_KINDS.get(table, table), int(record_id), customer_id, version, login,
                       tuple(changes)))


def stored_row(db: Any, select: str, record_id: int, not_found: str) -> dict[str, Any]:
    """The row that ``select`` (``SELECT <constant columns> FROM <table>``) finds by id; NotFound saying ``not_found``
    when there is none."""
    found = db.records(select + " WHERE id = ?", [int(record_id)])
    if not found:
        raise NotFound(not_found)
    return dict(found[0])


def record_from_row(kind: type[R], row: dict[str, Any]) -> R:
    """A record of ``kind`` from its stored row: a missing value of a text field is the empty text."""
    return kind(**{k: ("" if v is None and isinstance(kind.param[k].default, str) else v) for k, v in row.items()})


def first_version(login: str, now: Any) -> dict[str, Any]:
    """The columns that stamp a new row of a versioned table: made and last changed by ``login`` at ``now``, version
    1."""
    return {"created_at": now, "created_by": login, "updated_at": now, "updated_by": login, "version": 1}


def refuse_merged_away(db: Any, cur: Any, customer_id: int | None, field: str | None = None) -> None:
    """Inside a write (``cur``; None: a look before it): the customer may take new records — it exists (else
    NotFound) and is not merged into another (else PermissionDenied: what is added to it would stay on the archived
    pointer, never reach the survivor). On PostgreSQL its row is held (FOR SHARE) until the write commits: a merge
    of it waits, then moves what was added; a merge under way makes this wait and then refuses. ``field``: the
    customer is a value of the record's field (a relation's other customer): a ValidationError naming it then."""
    sql, params = "SELECT name, merged_into FROM customers WHERE id = ?", [
        int(customer_id) if customer_id is not None else None]
    if cur is None:  # before a write (its checks say what is wrong first); the write itself checks again
        found = db.row(sql, params)
    else:
        found = cur.execute(sql + (" FOR SHARE" if db.dialect == "postgresql" else ""), params).fetchone()
    if found is None:
        if field is not None:
            raise ValidationError({field: _("There is no such customer.")})
        raise NotFound(_("No customer with id {customer_id}.").format(customer_id=customer_id))
    if found[1] is not None and field is not None:
        raise ValidationError({field: _("{name} was merged into {survivor}: choose that one.").format(
            name=found[0], survivor=survivor_named(db, int(found[1]), cur))})
    if found[1] is not None:
        raise PermissionDenied(_("{name} was merged into {survivor}: nothing was added. Add it there.").format(
            name=found[0], survivor=survivor_named(db, int(found[1]), cur)))


def survivor_named(db: Any, survivor_id: int, cur: Any = None) -> str:
    """The customer another was merged into, as its users know it: 'customer 10229 (Name)' (not the id, which
    nobody sees); 'another customer' when it is gone."""
    def read(customer_id: int) -> tuple | None:
        sql, params = "SELECT number, name, merged_into FROM customers WHERE id = ?", [customer_id]
        return cur.execute(sql, params).fetchone() if cur is not None else db.row(sql, params)
    found, seen = read(int(survivor_id)), {int(survivor_id)}
    # merged in turn since (a chain made before merges pointed the earlier ones on): the one holding it all now
    while found is not None and found[2] is not None and int(found[2]) not in seen and len(seen) < MAX_CHAIN:
        seen.add(int(found[2]))
        found = read(int(found[2]))
    if found is None:
        return _("another customer")
    return _("customer {number} ({name})").format(number=found[0], name=found[1])


#: The longest chain of merges followed to the customer holding the records now.
MAX_CHAIN = 50


def insert_record(db: Any, cur: Any, table: str, record: Record, values: dict[str, Any], login: str,
                  now: Any) -> int:
    """Insert a new record's row with ``values`` (column → value, constant column names; with ``version`` for a
    versioned table), give the record its id, and record its non-empty fields as its creation; returns the id."""
    refuse_merged_away(db, cur, record.customer_id)
    columns, marks = ", ".join(values), ", ".join("?" for _ in values)
    record.id = cur.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id",
                            list(values.values())).fetchone()[0]
    write_record_changes(db, cur, table, record.id, record.customer_id, login, now, "create",
                         diff_records(None, record), values.get("version"))
    return record.id


def update_record(db: Any, cur: Any, table: str, record: Record, values: dict[str, Any],  # noqa: PLR0913, PLR0917
                  changes: dict[str, tuple[Any, Any]], login: str, now: Any, reread: Callable[[], Record],
                  kind: str = "update") -> int:
    """Write an edited record's ``values``, stamped as last changed by ``login`` at ``now``, on the version its save
    started from (:func:`versioned_update`) and record its ``changes`` (of ``kind``) at the new version; returns the
    new version."""
    version = versioned_update(db, cur, table, record, {**values, "updated_at": now, "updated_by": login}, reread)
    write_record_changes(db, cur, table, record.id, record.customer_id, login, now, kind, changes, version)
    return version


#: The fields of records that hold an admin list's value by its name (a rename keeps the value: records refer to it).
LIST_FIELDS = {"stage": "opportunity_stages", "event_type": "event_types", "relation_type": "relation_types"}


def checked_edit(db: Any, table: str, stored: R, edited: R, choices: Choices,
                 also: Callable[[R], None] | None = None) -> dict[str, tuple[Any, Any]]:
    """What an edit of a stored record changes ({field: (old, new)}), once it may be saved: it was made from the
    stored version (else the conflict), it stays at the stored record's customer (a copy read before a merge names
    the old one), and the model — then ``also``, a part's own check of the edited record — accepts its values (else a
    ValidationError)."""
    check_version(db, table, stored, edited)
    edited.customer_id = stored.customer_id
    for field, list_name in LIST_FIELDS.items():  # a value renamed since the copy was read is the same value
        if field not in edited.param:
            continue
        named_now = choices.renamed.get(list_name, {}).get(getattr(edited, field))
        if named_now is not None and named_now == getattr(stored, field):
            setattr(edited, field, named_now)
    edited.check(choices, previous=stored)
    if also is not None:
        also(edited)
    return diff_records(stored, edited)


def check_version(db: Any, table: str, stored: Record, attempted: Record) -> None:
    """Refuse a save that started from another version than the stored one (see :func:`record_conflict`)."""
    if stored.version != attempted.version:
        raise record_conflict(db, table, stored, attempted)


def versioned_update(db: Any, cur: Any, table: str, record: Record, values: dict[str, Any],
                     reread: Callable[[], Record]) -> int:
    """Update the record's row with ``values`` (column → value, constant column names) on the version the save
    started from, and bump the version; returns the new version. A save that came first in between (no row at
    that version any more) raises the conflict naming its fields."""
    sets = ", ".join(f"{column} = ?" for column in values)
    updated = cur.execute(f"UPDATE {table} SET {sets}, version = version + 1 WHERE id = ? AND version = ?",
                          [*values.values(), int(record.id), int(record.version)]).rowcount
    if not updated:
        raise record_conflict(db, table, reread(), record)
    return int(record.version) + 1


def record_conflict(db: Any, table: str, stored: Record, attempted: Record) -> ConflictError | PermissionDenied:
    """The conflict of a stale save of a record: each field someone changed after the version the save started
    from, with the stored value, the attempted one, and who changed it when. A record anonymised since (a person's
    data taken out of it) refuses the save instead: a copy read before still holds what was taken out."""
    rows = db.records("SELECT field, changed_by, changed_at, kind FROM record_changes WHERE table_name = ? AND "
                      "record_id = ? AND version > ? ORDER BY id", [table, int(stored.id), int(attempted.version)])
    anonymised = [row for row in rows if row["kind"] == "anonymise"]
    if anonymised:
        return PermissionDenied(_(
            "A person's data was taken out of this (anonymised) by {who} after you opened it: nothing was saved. "
            "Open it again to make your change.").format(who=anonymised[-1]["changed_by"]))
    latest = {row["field"]: row for row in rows}
    conflicts = [FieldConflict(field, stored.get(field), attempted.get(field), row["changed_by"], row["changed_at"])
                 for field, row in latest.items() if field in stored.fields]
    return ConflictError(conflicts, stored_version=stored.version, attempted_version=attempted.version)


class RecordHistoryStore(Part):
    """Part of :class:`customercard.store.Store`: the history of contacts, comments and CRM records."""

    db: Backend

    def record_history(self, table: str, record_id: int) -> pd.DataFrame:
        """Changes of one record, newest first: changed_at, changed_by, kind, field, old_value, new_value, version and
        change_id (what :meth:`~customercard.store.people.PeopleStore.restore_contact` names)."""
        return self.db.df("SELECT changed_at, changed_by, kind, field, old_value, new_value, version, id AS change_id "
                          "FROM record_changes WHERE table_name = ? AND record_id = ? ORDER BY id DESC",
                          [table, int(record_id)])
