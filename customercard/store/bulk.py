"""Bulk changes: one field given one value on many customers at once (account manager, status, industry, a
segmentation criterion), or the same comment added to each — and the undo of such a change.

Each customer's change goes through :meth:`~customercard.store.customers.CustomerStore.save_customer` (validated,
version-checked, in history, in the outbox for a linked customer, announced), so nothing a single save does is
bypassed; the customers are taken a chunk at a time, each chunk one transaction. A batch row keeps who changed what
when, and one row per customer changed (the version it got, the value before), so that an undo — one step, even
after a reload — puts back exactly the customers nobody changed since, and says which it left alone.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import formatting
from ..errors import ConflictError, NotFound, ValidationError
from ..i18n import N_, _
from ..models import BulkChange, Customer, field_value, to_text
from .asof import CUSTOMER_LIST_FIELDS, renamed_since
from .backend import Backend, counted
from .customers import _set_field_text
from .database import execute_rows, utcnow
from .part import Part
from .records import write_record_changes

if TYPE_CHECKING:
    from .admin import AdminStore
    from .customers import CustomerStore
    from .timeline import TimelineStore

#: Customers per transaction: big enough that a chunk costs few commits, small enough not to hold the write long.
BULK_CHUNK = 100
#: The most customers one bulk change (or preview) takes: a search of the whole database is narrowed first.
MAX_BULK = 10_000
BULK_AREA = "Bulk changes"
BATCH_COLUMNS = "id, created_at, created_by, field, new_value, customers, undone_at, undone_by, version"
_READ_CHUNK = 500


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _batch(row: dict[str, Any]) -> BulkChange:
    field, text = row["field"], row["new_value"]
    value: Any = text
    if field.startswith("segments.") and text:
        value = json.loads(text)
    return BulkChange(id=int(row["id"]), field=field, value=value, created_at=row["created_at"],
                      created_by=row["created_by"], customers=int(row["customers"]), undone_at=row["undone_at"],
                      undone_by=row["undone_by"] or "", version=int(row["version"]))


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, list):
        return sorted(old or []) == sorted(new)
    return (old or None) == (new or None)


class BulkStore(Part):
    """Part of :class:`customercard.store.Store`: bulk changes of customers and their undo."""

    uses = ("admin", "customers", "timeline")
    admin: AdminStore
    customers: CustomerStore
    timeline: TimelineStore

    db: Backend

    # -- reading ------------------------------------------------------------------------------------------
    @staticmethod
    def _bulk_ids(customer_ids: Iterable[int]) -> list[int]:
        # in id order: a chunk takes its customers' rows in the order a merge takes its two (no deadlock between them)
        found = sorted(dict.fromkeys(int(i) for i in customer_ids))
        if len(found) > MAX_BULK:
            raise ValidationError({"customer_ids": _("At most {n} customers at once: narrow the search first.").format(
                n=formatting.number(MAX_BULK))}, what=_("Bulk change"))
        return found

    def _bulk_checked(self, field: str, value: Any) -> BulkChange:
        change = BulkChange(field=field or "", value=value)
        change.check(self.admin.choices())
        return change

    def _current_values(self, customer_ids: list[int], field: str) -> dict[int, tuple[int, Any]]:
        """{customer id: (version, value of ``field``)} for the customers that exist, read a few hundred at a time."""
        found: dict[int, tuple[int, Any]] = {}
        maps = self.admin.list_maps()
        column = {"account_manager": "account_manager", "status": "status_id", "industry": "industry_id"}.get(field)
        for part in _chunks(customer_ids, _READ_CHUNK):
            condition = self.db.in_list("id", len(part), ids=True)
            if column is None:  # a segment, or a comment (no value)
                rows = self.db.rows(f"SELECT id, version FROM customers WHERE {condition}", part)
                found.update({int(i): (int(v), []) for i, v in rows})
                continue
            rows = self.db.rows(f"SELECT id, version, {column} FROM customers WHERE {condition}", part)
            for customer_id, version, stored in rows:
                value = (stored if field == "account_manager"
                         else maps[{"status": "statuses", "industry": "industries"}[field]]["by_id"].get(stored))
                found[int(customer_id)] = (int(version), value or None)
        if field.startswith("segments."):
            criterion = field.split(".", 1)[1]
            labels = self.customers.criterion_value_labels()
            for part in _chunks(list(found), _READ_CHUNK):
                condition = self.db.in_list("customer_id", len(part), ids=True)
                for customer_id, value_id in self.db.rows(
                        f"SELECT customer_id, value_id FROM customer_segments WHERE {condition}", part):
                    known = labels.get(value_id)
                    if known and known[1] == criterion:
                        found[int(customer_id)][1].append(known[2])
        return found

    def bulk_preview(self, customer_ids: Iterable[int], field: str, value: Any,
                     user: str | None = None) -> dict[str, Any]:
        """What :meth:`bulk_change` would do now: ``total`` customers asked for (``missing`` of them not found),
        how many ``change`` and how many have the value ``already``; ``changes`` lists ``[old value, count]`` from
        the most common; ``versions`` lists ``[customer id, version]`` of those that change (give them to
        :meth:`bulk_change` so that a customer changed after the preview is left alone). Refused for viewers."""
        self.admin.require(user, "write")
        change = self._bulk_checked(field, value)
        ids = self._bulk_ids(customer_ids)
        current = self._current_values(ids, change.field)
        merged = self._merged_away(ids)  # kept as pointers to their survivors: a bulk change leaves them alone
        olds: Counter[str | None] = Counter()
        versions: list[list[int]] = []
        already = 0
        for customer_id in ids:
            if customer_id not in current or customer_id in merged:
                continue
            version, old = current[customer_id]
            if change.field != "comment" and _same(old, change.value):
                already += 1
                continue
            olds[to_text(old) if change.field != "comment" else None] += 1
            versions.append([customer_id, version])
        return {"field": change.field, "value": change.value, "total": len(ids), "missing": len(ids) - len(current),
                "change": len(versions), "already": already, "merged": len(merged & set(current)),
                "changes": [[old, n] for old, n in olds.most_common()], "versions": versions}

    def _merged_away(self, ids: list[int]) -> set[int]:
        """Those of ``ids`` merged into another customer."""
        merged: set[int] = set()
        for start in range(0, len(ids), 1000):
            part = ids[start:start + 1000]
            merged.update(int(i) for (i,) in self.db.rows(
                "SELECT id FROM customers WHERE merged_into IS NOT NULL AND "
                + self.db.in_list("id", len(part), ids=True), part))
        return merged

    def get_bulk_change(self, batch_id: int) -> BulkChange:
        """One bulk change: its field and value, who made it when, how many customers it changed, and whether (and by
        whom) it was undone."""
        rows = self.db.records(f"SELECT {BATCH_COLUMNS} FROM bulk_changes WHERE id = ?", [int(batch_id)])
        if not rows:
            raise NotFound(_("No bulk change {batch_id}.").format(batch_id=batch_id))
        return _batch(rows[0])

    def bulk_changes(self, created_by: str | None = None, limit: int = 20) -> list[BulkChange]:
        """The latest bulk changes, newest first (only those of ``created_by`` when given)."""
        where, params = ("WHERE created_by = ? ", [created_by]) if created_by else ("", [])
        rows = self.db.records(f"SELECT {BATCH_COLUMNS} FROM bulk_changes {where}ORDER BY id DESC LIMIT ?",
                               [*params, counted(limit)])
        return [_batch(row) for row in rows]

    def bulk_change_customers(self, batch_id: int) -> pd.DataFrame:
        """The customers a bulk change changed: customer_id, version_after (the version the change gave it),
        old_value (as history keeps it), comment_id (for an added comment) and undone."""
        return self.db.df("SELECT customer_id, version_after, old_value, comment_id, undone FROM bulk_change_customers "
                          "WHERE batch_id = ? ORDER BY customer_id", [int(batch_id)])

    # -- writing ------------------------------------------------------------------------------------------
    def bulk_change(self, customer_ids: Iterable[int], field: str, value: Any, user: str | None = None,
                    versions: Iterable[Iterable[int]] | None = None, batch_id: int | None = None) -> BulkChange:
        """Give ``field`` the ``value`` on each of the customers (or add ``value`` as a comment to each): one recorded
        change per customer, through the single save, a chunk of customers per transaction. With ``versions``
        (``[customer id, version]`` pairs, as :meth:`bulk_preview` gives them), a customer changed since then is left
        alone; so is one another writer changes in between (a conflict, never an overwrite). Customers that have the
        value already are not touched. ``batch_id`` continues a bulk change of this user (a page that runs one in
        parts to show its progress). Returns the batch, with ``skipped``: {customer id: why}."""
        login = self.admin.require(user, "write")
        change = self._bulk_checked(field, value)
        expected = {int(i): int(v) for i, v in (versions or [])}
        ids = self._bulk_ids(customer_ids)
        batch = self._open_batch(batch_id, change, login) if batch_id is not None else None
        skipped: dict[int, str] = {}
        changed = 0
        for index, part in enumerate(_chunks(ids, BULK_CHUNK)):
            with self.db.transaction() as cur:
                if batch is None:
                    batch = self._new_batch(cur, change, login)
                elif self._undone_meanwhile(cur, batch.id):  # undone while it ran: the rest is not changed
                    for customer_id in ids[index * BULK_CHUNK:]:
                        skipped[customer_id] = _("the bulk change was undone while it ran")
                    break
                items = (self._bulk_comment(part, change, login, skipped) if change.field == "comment"
                         else self._bulk_save(part, change, login, expected, skipped))
                if items:
                    execute_rows(cur, "INSERT INTO bulk_change_customers (batch_id, customer_id, version_after, "
                                      "old_value, comment_id) VALUES (?, ?, ?, ?, ?)",
                                 [[batch.id, *item] for item in items])
                    cur.execute("UPDATE bulk_changes SET customers = customers + ? WHERE id = ?",
                                [len(items), batch.id])
                changed += len(items)
        if batch is None:
            with self.db.transaction() as cur:
                batch = self._new_batch(cur, change, login)
        batch.param.update(customers=batch.customers + changed, skipped=skipped)
        return batch

    def _undone_meanwhile(self, cur: Any, batch_id: int) -> bool:
        """Inside a chunk's transaction: whether the batch was undone since it began (on PostgreSQL its row locked
        until the chunk commits, so that an undo claims it after the chunk, and restores the chunk's customers)."""
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        row = cur.execute(f"SELECT undone_at FROM bulk_changes WHERE id = ?{lock}", [batch_id]).fetchone()
        return row is None or row[0] is not None

    def _new_batch(self, cur: Any, change: BulkChange, login: str) -> BulkChange:
        now = utcnow()
        batch_id = cur.execute("INSERT INTO bulk_changes (created_at, created_by, field, new_value, customers, "
                               "version) VALUES (?, ?, ?, ?, 0, 1) RETURNING id",
                               [now, login, change.field, to_text(change.value)]).fetchone()[0]
        self.admin.log_admin(cur, login, BULK_AREA, f"#{batch_id} {change.field}", None, to_text(change.value))
        return BulkChange(id=int(batch_id), field=change.field, value=change.value, created_at=now, created_by=login,
                          version=1)

    def _open_batch(self, batch_id: int, change: BulkChange, login: str) -> BulkChange:
        batch = self.get_bulk_change(batch_id)
        if batch.created_by != login or batch.field != change.field or \
                to_text(batch.value) != to_text(change.value) or batch.undone_at is not None:
            raise ValidationError({"batch_id": _("Only its own user continues a bulk change, with its field and "
                                                 "value, before it is undone.")}, what=_("Bulk change"))
        return batch

    def _bulk_save(self, ids: list[int], change: BulkChange, login: str, expected: dict[int, int],
                   skipped: dict[int, str]) -> list[list[Any]]:
        """Inside a chunk's transaction: each customer given the new value and saved with the single save's steps
        (see :meth:`~customercard.store.customers.CustomerStore.save_together`); the rows for the batch."""
        customers = self.customers.customers_for_saving(ids)
        changing: list[tuple[Customer, str | None]] = []
        for customer_id in ids:
            customer = customers.get(customer_id)
            if customer is None:
                skipped[customer_id] = _("not found")
                continue
            if customer_id in expected and customer.version != expected[customer_id]:
                skipped[customer_id] = _changed_since(self, customer_id, expected[customer_id], _("the preview"))
                continue
            old = field_value(customer, change.field)
            if _same(old, change.value):
                continue
            self._set_bulk_value(customer, change)
            changing.append((customer, to_text(old)))
        read_at = {customer.id: customer.version for customer, _old in changing}
        refused = self.customers.save_together([customer for customer, _old in changing], login, "bulk")
        for customer_id, exc in refused.items():
            skipped[customer_id] = (_changed_since(self, customer_id, read_at[customer_id], _("the preview"))
                                    if isinstance(exc, ConflictError) else _refusal(exc))
        return [[customer.id, customer.version, old, None] for customer, old in changing
                if customer.id not in refused and customer.version > read_at[customer.id]]

    def _bulk_comment(self, ids: list[int], change: BulkChange, login: str,
                      skipped: dict[int, str]) -> list[list[Any]]:
        merged = self._merged_away(ids)
        items = []
        for customer_id in ids:
            if customer_id in merged:  # kept as the pointer to its survivor: a comment there would reach nobody
                skipped[customer_id] = _("merged into another customer")
                continue
            comment = self.timeline.add_comment(customer_id, change.value, user=login)
            items.append([customer_id, 0, None, comment.id])
        return items

    @staticmethod
    def _set_bulk_value(customer: Customer, change: BulkChange) -> None:
        if change.field.startswith("segments."):
            segments = dict(customer.segments)
            criterion = change.field.split(".", 1)[1]
            if change.value:
                segments[criterion] = list(change.value)
            else:
                segments.pop(criterion, None)
            customer.segments = segments
        else:
            customer.set(change.field, change.value)

    def undo_bulk_change(self, batch_id: int, user: str | None = None,
                         expected_version: int | None = None) -> BulkChange:
        """Undo a bulk change as one step: each customer it changed gets its value back (a recorded change, kind
        'bulk undo'; a list value renamed since comes back under its new name), unless someone changed the customer
        since, or it was merged away — those are left alone and named in ``skipped`` ({customer id: why}). A bulk
        change is undone once; an undo that could put nothing back, or left customers alone only because their
        value is not offered now (an administrator stopped offering it), leaves it undoable (the result's
        ``undone_at`` is None): a later undo puts back the customers still waiting. Comments added in bulk are
        taken away again (their history keeps what they said), except one edited since, which stays and is named.
        ``expected_version``: the batch's version the undo was offered at."""
        login = self.admin.require(user, "write")
        batch = self.get_bulk_change(batch_id)
        now = utcnow()
        with self.db.transaction() as cur:  # claim it: two people undoing at once cannot both
            claimed = cur.execute("UPDATE bulk_changes SET undone_at = ?, undone_by = ?, version = version + 1 "
                                  "WHERE id = ? AND version = ? AND undone_at IS NULL",
                                  [now, login, batch.id, int(expected_version or batch.version)]).rowcount
            if not claimed:
                raise ValidationError({"batch_id": _("This bulk change was undone already, or changed since: read it "
                                                     "again.")}, what=_("Bulk change"))
        try:
            skipped, restored, waiting = self._undo_all(batch, login, now)
        except BaseException:
            self._release(batch, login)
            raise
        if (restored == 0 and skipped) or waiting:
            # nothing could be put back, or some customers wait for a value no longer offered (offered again, a
            # later undo puts theirs back): the undo is not used up; those put back are marked so, once
            self._release(batch, login)
            if restored:
                with self.db.transaction() as cur:
                    self.admin.log_admin(cur, login, BULK_AREA, f"#{batch.id} {batch.field}", to_text(batch.value),
                                         N_("undone in part"))
            batch.param.update(customers=restored, skipped=skipped, version=batch.version + 2)
            return batch
        with self.db.transaction() as cur:
            self.admin.log_admin(cur, login, BULK_AREA, f"#{batch.id} {batch.field}", to_text(batch.value),
                                 N_("undone"))
        batch.param.update(customers=restored, skipped=skipped, undone_at=now, undone_by=login,
                           version=batch.version + 1)
        return batch

    def _release(self, batch: BulkChange, login: str) -> None:
        """Give back an undo's claim on a batch that it could not undo."""
        with self.db.transaction() as cur:
            cur.execute("UPDATE bulk_changes SET undone_at = NULL, undone_by = '', version = version + 1 "
                        "WHERE id = ? AND undone_by = ?", [batch.id, login])

    def _undo_all(self, batch: BulkChange, login: str, now: Any) -> tuple[dict[int, str], int, set[int]]:
        """Put back what ``batch`` changed, a chunk a transaction: ({customer id: why left alone}, how many, the
        customers left alone only because their value is not offered now)."""
        items = self.db.records("SELECT customer_id, version_after, old_value, comment_id FROM bulk_change_customers "
                                "WHERE batch_id = ? AND NOT undone ORDER BY customer_id", [batch.id])
        skipped: dict[int, str] = {}
        waiting: set[int] = set()
        restored = 0
        for part in _chunks(items, BULK_CHUNK):
            with self.db.transaction() as cur:
                done = (self._withdraw_comments(cur, part, login, now, skipped) if batch.field == "comment"
                        else self._undo_part(part, batch, login, skipped, waiting))
                if done:
                    cur.execute("UPDATE bulk_change_customers SET undone = TRUE WHERE batch_id = ? AND "
                                + self.db.in_list("customer_id", len(done), ids=True), [batch.id, *done])
                restored += len(done)
        return skipped, restored, waiting

    def _withdraw_comments(self, cur: Any, items: list[dict[str, Any]], login: str, now: Any,
                           skipped: dict[int, str]) -> list[int]:
        """Take away the comments a bulk change added (a recorded deletion each), unless edited since."""
        done = []
        for item in items:
            customer_id, comment_id = int(item["customer_id"]), item["comment_id"]
            found = self.db.records("SELECT customer_id, written_on, author, body, version, edited_by FROM comments "
                                    "WHERE id = ?", [int(comment_id)]) if comment_id is not None else []
            if not found:
                skipped[customer_id] = _("not found")
                continue
            row = found[0]
            if int(row["version"]) != 1 or not cur.execute("DELETE FROM comments WHERE id = ? AND version = 1",
                                                          [int(comment_id)]).rowcount:
                who = self.admin.user_name(row["edited_by"]) if row["edited_by"] else "?"
                skipped[customer_id] = _("changed by {names} since {since}").format(names=who,
                                                                                      since=_("the bulk change"))
                continue
            write_record_changes(self.db, cur, "comments", int(comment_id), int(row["customer_id"]), login, now,
                                 "delete", {field: (row[field], None) for field in ("written_on", "author", "body")
                                            if row[field] not in (None, "")}, int(row["version"]) + 1)
            done.append(customer_id)
        return done

    def _undo_part(self, items: list[dict[str, Any]], batch: BulkChange, login: str,
                   skipped: dict[int, str], waiting: set[int]) -> list[int]:
        customers = self.customers.customers_for_saving([int(item["customer_id"]) for item in items])
        changing: list[Customer] = []
        # a list value renamed since is the same value under today's name (customers refer to it, not to its name)
        listed = CUSTOMER_LIST_FIELDS.get(batch.field)
        renames = self.admin.list_renames().get(listed, []) if listed else []
        field = self.admin.segment_field_now(batch.field, batch.created_at)  # a criterion renamed since: the same
        for item in items:
            customer_id, version = int(item["customer_id"]), int(item["version_after"])
            customer = customers.get(customer_id)
            if customer is None:
                skipped[customer_id] = _("not found")
                continue
            if customer.version != version:
                skipped[customer_id] = _changed_since(self, customer_id, version, _("the bulk change"))
                continue
            old_value = item["old_value"]
            if renames and old_value:
                old_value = renamed_since(renames, old_value, batch.created_at)
            try:
                _set_field_text(customer, field, old_value)
            except (ValueError, TypeError) as exc:
                skipped[customer_id] = str(exc)
                waiting.add(customer_id)
                continue
            changing.append(customer)
        read_at = {customer.id: customer.version for customer in changing}
        refused = self.customers.save_together(changing, login, "bulk undo")
        for customer_id, exc in refused.items():
            skipped[customer_id] = (_changed_since(self, customer_id, read_at[customer_id], _("the bulk change"))
                                    if isinstance(exc, ConflictError) else _refusal(exc))
            if isinstance(exc, ValidationError):  # a value no longer offered: it may be offered again
                waiting.add(customer_id)
        return [customer.id for customer in changing if customer.id not in refused]


def _changed_since(store: BulkStore, customer_id: int, version: int, since: str) -> str:
    """Why a customer was left alone: who changed it after ``version``."""
    rows = store.db.rows("SELECT DISTINCT changed_by FROM customer_changes WHERE customer_id = ? AND version > ?",
                         [customer_id, version])
    names = ", ".join(sorted(store.admin.user_name(row[0]) for row in rows)) or "?"
    return _("changed by {names} since {since}").format(names=names, since=since)


def _refusal(exc: Exception) -> str:
    """Why a customer was left alone: a validation's messages, else the refusal's own words (merged away, no
    right to change it)."""
    errors = getattr(exc, "errors", None)
    return "; ".join(str(v) for v in errors.values()) if isinstance(errors, dict) and errors else str(exc)
