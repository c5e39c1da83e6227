"""The outbox of changes for the economy (accounting/ERP) system.

When a linked customer's contact information or invoice address changes, a row with the field-level diff is
written in the same transaction as the change. :mod:`customercard.integration` delivers the rows in order per
customer; a row the receiver keeps refusing is parked as 'failed' until an administrator retries it (one it cannot
be reached for is tried again until it can).
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import NotFound
from ..fields import synced_fields
from ..i18n import N_, _
from ..models import Customer, Snapshot, to_text
from .backend import Backend, counted, of_customer_and_status
from .database import utcnow
from .part import Part

if TYPE_CHECKING:
    from .admin import AdminStore

#: Fields whose changes the economy system receives (contact information and invoice address; the registry's).
SYNCED_FIELDS = synced_fields()
MAX_ATTEMPTS = 8
#: The states of a delivery (shown in System administration → Economy system).
STATUSES = (N_("pending"), N_("failed"), N_("delivered"))


class OutboxStore(Part):
    """Part of :class:`customercard.store.Store`: the economy-system outbox."""

    uses = ("admin",)
    internal = frozenset({"after_customer_change"})
    admin: AdminStore

    db: Backend

    def after_customer_change(self, cur: Any, before: Customer | Snapshot, after: Customer,
                               changes: dict[str, tuple[Any, Any]], login: str, now: Any) -> None:
        """Queue the synced fields of a linked customer's change, in the same transaction."""
        synced = {field: change for field, change in changes.items() if field in SYNCED_FIELDS}
        if not synced or not before.is_linked:
            return
        version = after.version + 1
        payload = {
            "event": "customer.updated", "customer_id": after.id, "customer_number": after.number,
            "system": before.erp_system, "external_id": before.erp_customer_id, "version": version,
            "changed_at": now.isoformat(timespec="seconds") + "Z", "changed_by": login,
            "changes": {field: {"old": to_text(old), "new": to_text(new)} for field, (old, new) in synced.items()},
        }
        key = f"customer-{after.id}-v{version}-{uuid.uuid4().hex[:8]}"
        payload["idempotency_key"] = key
        cur.execute("INSERT INTO outbox (customer_id, idempotency_key, created_at, created_by, payload, status, "
                    "attempts, next_attempt_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?)",
                    [after.id, key, now, login, json.dumps(payload, ensure_ascii=False), now])

    def outbox(self, customer_id: int | None = None, status: str | None = None, limit: int = 200) -> pd.DataFrame:
        """Outbox rows, newest first: id, customer_id, status, attempts, next_attempt_at, last_error, created_at,
        delivered_at, idempotency_key, payload."""
        where, params = of_customer_and_status("o", customer_id, status, STATUSES)
        return self.db.df(
            "SELECT o.id, o.customer_id, c.name AS customer_name, c.number AS customer_number, o.status, o.attempts, "
            "o.next_attempt_at, o.last_error, o.created_at, o.created_by, o.delivered_at, o.idempotency_key, "
            "o.payload FROM outbox o JOIN customers c ON c.id = o.customer_id WHERE " + " AND ".join(where)
            + " ORDER BY o.id DESC LIMIT ?", [*params, counted(limit)])

    def outbox_counts(self, customer_id: int | None = None) -> dict[str, int]:
        """{'pending': n, 'failed': n, 'delivered': n} (for one customer or all)."""
        sql = "SELECT status, count(*) FROM outbox" + (" WHERE customer_id = ?" if customer_id is not None else "") \
            + " GROUP BY status"
        found = dict(self.db.rows(sql, [int(customer_id)] if customer_id is not None else []))
        return {status: int(found.get(status, 0)) for status in STATUSES}

    def due_outbox_rows(self, now: dt.datetime | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Rows to deliver now: per customer only its oldest undelivered row, and only when it is due."""
        now = now or utcnow()
        return self.db.records(
            "SELECT o.id, o.customer_id, o.idempotency_key, o.payload, o.attempts FROM outbox o "
            "WHERE o.status = 'pending' AND o.next_attempt_at <= ? AND o.id = (SELECT min(p.id) FROM outbox p "
            "WHERE p.customer_id = o.customer_id AND p.status <> 'delivered') ORDER BY o.id LIMIT ?",
            [now, counted(limit)])

    def mark_delivered(self, outbox_id: int) -> None:
        """Record that an outbox row reached the economy system (the delivery worker calls it); NotFound for no such
        row, and nothing is written."""
        now = utcnow()
        with self.db.transaction() as cur:
            found = cur.execute("UPDATE outbox SET status = 'delivered', delivered_at = ?, last_error = '', "
                                "attempts = attempts + 1 WHERE id = ? RETURNING customer_id",
                                [now, int(outbox_id)]).fetchone()
            if found is None:
                raise NotFound(_("No outbox row {outbox_id}.").format(outbox_id=outbox_id))
            cur.execute("UPDATE customers SET erp_synced_at = ? WHERE id = ?", [now, found[0]])

    def mark_attempt_failed(self, outbox_id: int, error: str, retry_in: float, refused: bool = True) -> str:
        """Record a failed delivery. A row the receiver refused (``refused``: it answered, and not with a 2xx) waits
        for an administrator after :data:`MAX_ATTEMPTS`; one it could not be reached for (down, too slow, busy: a
        5xx) stays pending and is tried again, however long the receiver is away — nothing waits for anyone."""
        now = utcnow()
        row = self.db.row("SELECT attempts FROM outbox WHERE id = ?", [int(outbox_id)])
        if row is None:
            raise NotFound(_("No outbox row {outbox_id}.").format(outbox_id=outbox_id))
        attempts = int(row[0]) + 1
        status = "failed" if refused and attempts >= MAX_ATTEMPTS else "pending"
        with self.db.transaction() as cur:
            cur.execute("UPDATE outbox SET attempts = ?, status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                        [attempts, status, error[:500], now + dt.timedelta(seconds=retry_in), int(outbox_id)])
        return status

    def retry_outbox(self, outbox_id: int | None = None, user: str | None = None) -> int:
        """Send failed rows again (one, or all); administrators only. Returns how many were re-queued."""
        login = self.admin.require(user, "admin")
        now = utcnow()
        with self.db.transaction() as cur:
            if outbox_id is None:
                rows = cur.execute("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                                   "WHERE status = 'failed' RETURNING id", [now]).fetchall()
            else:
                rows = cur.execute("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                                   "WHERE id = ? AND status = 'failed' RETURNING id", [now, int(outbox_id)]).fetchall()
            self.admin.log_admin(cur, login, "Economy system", "retry", None, f"{len(rows)} deliveries")
        return len(rows)
