"""The outbox of changes for the economy (accounting/ERP) system.

When a linked customer's contact information or invoice address changes, a row with the field-level diff is
written in the same transaction as the change. :mod:`customercard.integration` delivers the rows in order per
customer; a row that keeps failing is parked as 'failed' until an administrator retries it.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import pandas as pd

from ..errors import NotFound, ValidationError
from ..fields import synced_fields
from ..i18n import N_, _
from ..models import Customer, Snapshot, to_text
from .backend import Backend
from .database import utcnow

#: Fields whose changes the economy system receives (contact information and invoice address; the registry's).
SYNCED_FIELDS = synced_fields()
MAX_ATTEMPTS = 8
#: The states of a delivery (shown in System administration → Economy system).
STATUSES = (N_("pending"), N_("failed"), N_("delivered"))


class OutboxStore:
    """Mixin of :class:`customercard.store.Store`: the economy-system outbox."""

    db: Backend

    def _after_customer_change(self, cur: Any, before: Customer | Snapshot, after: Customer,
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
        where, params = ["TRUE"], []
        if customer_id is not None:
            where.append("o.customer_id = ?")
            params.append(int(customer_id))
        if status:
            where.append("o.status = ?")
            params.append(status)
        return self.db.df(
            "SELECT o.id, o.customer_id, c.name AS customer_name, c.number AS customer_number, o.status, o.attempts, "
            "o.next_attempt_at, o.last_error, o.created_at, o.created_by, o.delivered_at, o.idempotency_key, "
            "o.payload FROM outbox o JOIN customers c ON c.id = o.customer_id WHERE " + " AND ".join(where)
            + " ORDER BY o.id DESC LIMIT ?", [*params, int(limit)])

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
            [now, int(limit)])

    def mark_delivered(self, outbox_id: int) -> None:
        """Record that an outbox row reached the economy system (the delivery worker calls it)."""
        now = utcnow()
        with self.db.transaction() as cur:
            customer_id = cur.execute("UPDATE outbox SET status = 'delivered', delivered_at = ?, last_error = '', "
                                      "attempts = attempts + 1 WHERE id = ? RETURNING customer_id",
                                      [now, int(outbox_id)]).fetchone()[0]
            cur.execute("UPDATE customers SET erp_synced_at = ? WHERE id = ?", [now, customer_id])

    def mark_attempt_failed(self, outbox_id: int, error: str, retry_in: float) -> str:
        """Record a failed delivery; after :data:`MAX_ATTEMPTS` the row waits for an administrator."""
        now = utcnow()
        row = self.db.row("SELECT attempts FROM outbox WHERE id = ?", [int(outbox_id)])
        if row is None:
            raise NotFound(_("No outbox row {outbox_id}.").format(outbox_id=outbox_id))
        attempts = int(row[0]) + 1
        status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
        with self.db.transaction() as cur:
            cur.execute("UPDATE outbox SET attempts = ?, status = ?, last_error = ?, next_attempt_at = ? WHERE id = ?",
                        [attempts, status, error[:500], now + dt.timedelta(seconds=retry_in), int(outbox_id)])
        return status

    def retry_outbox(self, outbox_id: int | None = None, user: str | None = None) -> int:
        """Send failed rows again (one, or all); administrators only. Returns how many were re-queued."""
        login = self.require(user, "admin")
        now = utcnow()
        with self.db.transaction() as cur:
            if outbox_id is None:
                rows = cur.execute("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                                   "WHERE status = 'failed' RETURNING id", [now]).fetchall()
            else:
                rows = cur.execute("UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = ? "
                                   "WHERE id = ? AND status = 'failed' RETURNING id", [now, int(outbox_id)]).fetchall()
            self._log_admin(cur, login, "Economy system", "retry", None, f"{len(rows)} deliveries")
        return len(rows)

    def link_customer(self, customer_id: int, system: str, external_id: str, user: str | None = None,
                      expected_version: int | None = None) -> Customer:
        """Link a customer to its record in the economy system (administrators): the system's name and the
        customer's id there, both given; empty both, it unlinks (see :meth:`unlink_customer`). Recorded in the
        customer's history and the admin log; ``expected_version`` (what the administrator saw): a customer saved
        since is a conflict and nothing is written. Returns the customer as saved."""
        login = self.require(user, "admin")
        draft = Customer(erp_system=(system or "").strip(), erp_customer_id=(external_id or "").strip())
        errors = {name: message for name, message in draft.validate().items()
                  if name in ("erp_system", "erp_customer_id")}
        if bool(draft.erp_system) != bool(draft.erp_customer_id):
            errors["erp_customer_id" if draft.erp_system else "erp_system"] = (
                "Give both the economy system and the customer's id in it (or neither, to unlink).")
        if errors:
            raise ValidationError(errors, what="The link")
        customer = self.get_customer(customer_id)
        seen = customer.version if expected_version is None else int(expected_version)
        before = (customer.erp_system, customer.erp_customer_id)
        after = (draft.erp_system, draft.erp_customer_id)
        if before == after:
            return customer
        now = utcnow()
        with self.db.transaction() as cur:
            updated = cur.execute("UPDATE customers SET erp_system = ?, erp_customer_id = ?, version = version + 1, "
                                  "updated_at = ?, updated_by = ? WHERE id = ? AND version = ?",
                                  [*after, now, login, int(customer_id), seen]).rowcount
            if not updated:
                stale = customer.copy()
                stale.version = seen
                raise self._conflict(self._stored_now(int(customer_id)), stale)
            from .customers import write_customer_changes

            write_customer_changes(self.db, cur, [
                [customer_id, seen + 1, now, login, "update", field, old, new]
                for field, old, new in zip(("erp_system", "erp_customer_id"), before, after, strict=True)
                if old != new])
            self._log_admin(cur, login, "Economy system", f"customer {customer.number} {customer.name}",
                            " ".join(before).strip() or None, " ".join(after).strip() or "not linked")
        return self.get_customer(customer_id)

    def unlink_customer(self, customer_id: int, user: str | None = None,
                        expected_version: int | None = None) -> Customer:
        """Unlink a customer from the economy system (administrators); recorded as :meth:`link_customer`."""
        return self.link_customer(customer_id, "", "", user=user, expected_version=expected_version)
