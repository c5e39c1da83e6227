"""Shared helpers for records with field-level history in ``record_changes`` (contacts, comments, CRM)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..models import Record, to_text
from .database import execute_rows

INSERT_RECORD_CHANGE = ("INSERT INTO record_changes (table_name, record_id, customer_id, changed_at, changed_by, "
                        "kind, field, old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")


def diff_records(before: Record | None, after: Record) -> dict[str, tuple[Any, Any]]:
    """{field: (old, new)} for every user field that differs (all non-empty ones when ``before`` is None)."""
    changes = {}
    for field in after.fields:
        old = before.get(field) if before is not None else None
        new = after.get(field)
        if to_text(old) != to_text(new) and not (before is None and to_text(new) in (None, "", "[]")):
            changes[field] = (old, new)
    return changes


def write_record_changes(cur: Any, table: str, record_id: int, customer_id: int | None, login: str,
                         now: Any, kind: str, changes: dict[str, tuple[Any, Any]]) -> None:
    if changes:
        execute_rows(cur, INSERT_RECORD_CHANGE, [
            [table, record_id, customer_id, now, login, kind, field, to_text(old), to_text(new)]
            for field, (old, new) in changes.items()])


class RecordHistoryStore:
    """Mixin: the history of contacts, comments and CRM records."""

    db: Any

    def record_history(self, table: str, record_id: int) -> pd.DataFrame:
        """Changes of one record, newest first: changed_at, changed_by, kind, field, old_value, new_value."""
        return self.db.df("SELECT changed_at, changed_by, kind, field, old_value, new_value FROM record_changes "
                          "WHERE table_name = ? AND record_id = ? ORDER BY id DESC", [table, int(record_id)])
