"""Shared helpers for records with field-level history in ``record_changes`` (contacts, comments, CRM)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from ..errors import ConflictError, FieldConflict
from ..models import Record, to_text
from .backend import Backend
from .changes import Change
from .database import execute_rows
from .part import Part

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


def record_conflict(db: Any, table: str, stored: Record, attempted: Record) -> ConflictError:
    """The conflict of a stale save of a record: each field someone changed after the version the save started
    from, with the stored value, the attempted one, and who changed it when."""
    rows = db.records("SELECT field, changed_by, changed_at FROM record_changes WHERE table_name = ? AND record_id = ? "
                      "AND version > ? ORDER BY id", [table, int(stored.id), int(attempted.version)])
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
