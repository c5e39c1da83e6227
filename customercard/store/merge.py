"""Merging two customers that are the same firm: one survives, the other is archived with a pointer to it.

Everything that belongs to the other customer moves to the survivor — contacts, projects, invoices (with their
yearly totals), comments, events, opportunities, relations, segmentation values — in one transaction, and the
survivor's history records the merge field by field. Nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ..errors import ConflictError, FieldConflict, ValidationError
from ..i18n import _
from ..models import Customer, Relation, to_text
from .backend import Backend
from .changes import Change
from .customers import write_customer_changes
from .database import utcnow
from .part import Part
from .records import survivor_named, write_record_changes

if TYPE_CHECKING:
    from .admin import AdminStore
    from .customers import CustomerStore

#: Tables whose rows follow a merged customer (table, column). Later modules add theirs.
MOVED_ROWS: list[tuple[str, str]] = [
    ("contacts", "customer_id"), ("projects", "customer_id"), ("invoices", "customer_id"),
    ("comments", "customer_id"), ("events", "customer_id"), ("opportunities", "customer_id"),
    ("files", "customer_id"), ("follow_ups", "customer_id"),
]

#: What the rows that move are, as changes announce them (so that open cards draw those sections again).
MOVED_KINDS = ("contact", "project", "invoice", "comment", "event", "opportunity", "file", "follow-up", "relation")


class MergeStore(Part):
    """Part of :class:`customercard.store.Store`: merging duplicates."""

    uses = ("admin", "customers")
    admin: AdminStore
    customers: CustomerStore

    db: Backend

    def merge_preview(self, survivor_id: int, other_id: int) -> dict[str, Any]:
        """What a merge would do: the fields that differ and how many rows of each kind would move."""
        survivor, other = self.customers.get_customer(survivor_id), self.customers.get_customer(other_id)
        differing = [field for field in Customer.fields if field != "segments"
                     and to_text(survivor.get(field)) != to_text(other.get(field))
                     and to_text(other.get(field)) not in (None, "")]
        counts = {table: int(self.db.row(f"SELECT count(*) FROM {table} WHERE {column} = ?",
                                         [other_id])[0]) for table, column in MOVED_ROWS}
        counts["relations"] = int(self.db.row(
            "SELECT count(*) FROM relations WHERE (customer_id = ? AND coalesce(other_customer_id, -1) <> ?) "
            "OR (other_customer_id = ? AND customer_id <> ?)", [other_id, survivor_id, other_id, survivor_id])[0])
        return {"survivor": survivor, "other": other, "differing": differing, "moves": counts}

    def merge_customers(self, survivor_id: int, other_id: int, take_from_other: Iterable[str] = (),
                        user: str | None = None, survivor_version: int | None = None,
                        other_version: int | None = None) -> Customer:
        """Merge ``other_id`` into ``survivor_id``; ``take_from_other`` names the fields whose value the
        survivor takes from the other customer. Returns the saved survivor."""
        login = self.admin.require(user, "write")
        if survivor_id == other_id:
            raise ValidationError({"other": _("Choose another customer to merge with.")})
        taken = set(take_from_other)
        unknown = taken - set(Customer.fields)
        if unknown:
            raise ValidationError({"fields": _("Not a customer field: {fields}.").format(
                fields=", ".join(sorted(unknown)))})
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":
                # both held from the start: a record being added to either (it holds the row, FOR SHARE) is
                # committed before the rows move, and one added meanwhile waits and then finds the merge
                cur.execute("SELECT id FROM customers WHERE id IN (?, ?) ORDER BY id FOR UPDATE",
                            [int(survivor_id), int(other_id)])
            survivor, other = self.customers.get_customer(survivor_id), self.customers.get_customer(other_id)
            self._check_versions(survivor, survivor_version, other, other_version)
            if other.merged_into:
                raise ValidationError({"other": _("{name} was merged into another customer already.").format(
                    name=other.name)})
            if survivor.merged_into:  # it would keep nothing: everything would move to a customer merged away
                raise ValidationError({"survivor": _("{name} was merged into {survivor} already: merge into that one.")
                                       .format(name=survivor.name,
                                               survivor=survivor_named(self.db, int(survivor.merged_into), cur))})
            merged = survivor.copy()
            for field in taken - {"segments"}:
                merged.set(field, other.get(field))
            merged.segments = _merged_segments(survivor.segments, other.segments, "segments" in taken,
                                               self.admin.choices().criteria)
            merged = self.customers.save_customer(merged, user=login, kind="merge")
            now = utcnow()
            if merged.version == survivor.version:  # no field changed: the merge is still a new version
                bumped = cur.execute("UPDATE customers SET version = version + 1, updated_at = ?, updated_by = ? "
                                     "WHERE id = ? AND version = ?",
                                     [now, login, survivor_id, survivor.version]).rowcount
                if not bumped:  # another process saved the survivor since it was read: nothing is merged
                    raise self.customers.conflict(self.customers.stored_now(survivor_id), survivor)
                merged.version += 1
            write_customer_changes(self.db, cur, [[survivor_id, merged.version, now, login, "merge", "merged_from",
                                                   None, f"{other.number} {other.name} (id {other.id})"]])
            self._move_rows(cur, survivor_id, other_id, login, now)
            for kind in MOVED_KINDS:  # open cards of both draw again what moved (once this commits)
                for customer_id in (survivor_id, other_id):
                    self.db.announce(Change(kind, None, customer_id, None, login, ("customer_id",)))
            archived = cur.execute("UPDATE customers SET archived = TRUE, merged_into = ?, version = version + 1, "
                                   "updated_at = ?, updated_by = ? WHERE id = ? AND version = ?",
                                   [survivor_id, now, login, other_id, other.version]).rowcount
            if not archived:  # another process saved the other customer since it was read: nothing is merged
                raise self.customers.conflict(self.customers.stored_now(other_id), other)
            write_customer_changes(self.db, cur, [
                [other_id, other.version + 1, now, login, "merge", "archived", to_text(other.archived), "true"],
                [other_id, other.version + 1, now, login, "merge", "merged_into", None,
                 f"{merged.number} {merged.name} (id {survivor_id})"]])
            self._point_on(cur, other, merged, login, now)
        return self.customers.get_customer(survivor_id)

    def _point_on(self, cur: Any, other: Customer, survivor: Customer, login: str, now: Any) -> None:
        """Customers merged into ``other`` earlier point on to ``survivor``, which holds their records now (else
        their card would send people to a customer merged away itself); their history says so."""
        earlier = cur.execute("SELECT id, version FROM customers WHERE merged_into = ?", [other.id]).fetchall()
        if not earlier:
            return
        cur.execute("UPDATE customers SET merged_into = ?, version = version + 1, updated_at = ?, updated_by = ? "
                    "WHERE merged_into = ?", [survivor.id, now, login, other.id])
        write_customer_changes(self.db, cur, [
            [int(customer_id), int(version) + 1, now, login, "merge", "merged_into",
             f"{other.number} {other.name} (id {other.id})", f"{survivor.number} {survivor.name} (id {survivor.id})"]
            for customer_id, version in earlier])
        for customer_id, version in earlier:
            self.db.announce(Change("customer", int(customer_id), int(customer_id), int(version) + 1, login,
                                    ("merged_into",)))

    def _drop_doubled_relations(self, cur: Any, survivor_id: int, other_id: int, login: str, now: Any) -> None:
        """Before the relations move: those of the other customer that the survivor has already (both related to
        the same one the same way) would make the survivor list it twice (adding one twice by hand is refused).
        They are removed, as removing them by hand does (their history says so, and the other customer's card as
        of a day before the merge still shows them); the survivor's own is kept, with the other's note when it had
        none."""
        rows = cur.execute("SELECT r.id, r.customer_id, r.relation_type_id, r.other_customer_id, r.other_contact_id, "
                           "r.note, t.label FROM relations r JOIN list_values t ON t.id = r.relation_type_id WHERE "
                           "r.customer_id IN (?, ?) OR r.other_customer_id IN (?, ?) ORDER BY r.id",
                           [survivor_id, other_id, survivor_id, other_id]).fetchall()
        inverse = self.admin.list_maps()["relation_types"]["inverse"]

        def key(row: tuple[Any, ...]) -> tuple[Any, ...]:  # as it will read once the other's ends are the survivor's
            moved = tuple(survivor_id if i in (1, 3) and value == other_id else value for i, value in enumerate(row))
            return _relation_key(moved, inverse.get(row[6]) == row[6])
        between = {other_id, survivor_id}
        kept = {key(row): row for row in rows if other_id not in (row[1], row[3])}  # the survivor's own
        for row in rows:
            relation_id, customer_id, _type, other_customer_id, other_contact_id, note, label = row
            if other_id not in (customer_id, other_customer_id) or {customer_id, other_customer_id} == between:
                continue  # the survivor's, or one between the two (it stays on the archived one)
            mine = kept.get(key(row))
            if mine is None:
                continue
            cur.execute("DELETE FROM relations WHERE id = ?", [int(relation_id)])
            before = Relation(customer_id=customer_id, relation_type=label, note=note or "",
                              other_customer_id=other_customer_id, other_contact_id=other_contact_id)
            write_record_changes(self.db, cur, "relations", int(relation_id), customer_id, login, now, "delete",
                                 {f: (v, None) for f, v in before.values().items() if v not in (None, "")})
            if note and not mine[5]:
                cur.execute("UPDATE relations SET note = ? WHERE id = ?", [note, int(mine[0])])
                write_record_changes(self.db, cur, "relations", int(mine[0]), mine[1], login, now, "merge",
                                     {"note": (None, note)})
                kept[key(row)] = (*mine[:5], note, mine[6])

    @staticmethod
    def _check_versions(survivor: Customer, survivor_version: int | None, other: Customer,
                        other_version: int | None) -> None:
        for customer, expected in ((survivor, survivor_version), (other, other_version)):
            if expected is not None and customer.version != expected:
                raise ConflictError([FieldConflict("version", customer.version, expected, customer.updated_by,
                                                   customer.updated_at)],
                                    stored_version=customer.version, attempted_version=expected)

    def _move_rows(self, cur: Any, survivor_id: int, other_id: int, login: str, now: Any) -> None:
        # which rows moved, and when: the card as of a day before the merge reads them at the customer they were at
        for table, column in MOVED_ROWS:
            cur.execute("INSERT INTO merge_moves (table_name, record_id, from_customer, to_customer, moved_at) "
                        f"SELECT '{table}', id, ?, ?, ? FROM {table} WHERE {column} = ?",  # constant names
                        [other_id, survivor_id, now, other_id])
            cur.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?",  # constant names
                        [survivor_id, other_id])
        # relations move too, except one between the two (it would point at itself): it stays on the archived one
        self._drop_doubled_relations(cur, survivor_id, other_id, login, now)
        cur.execute("INSERT INTO merge_moves (table_name, record_id, from_customer, to_customer, moved_at) "
                    "SELECT 'relations', id, ?, ?, ? FROM relations WHERE customer_id = ? "
                    "AND coalesce(other_customer_id, -1) <> ?", [other_id, survivor_id, now, other_id, survivor_id])
        cur.execute("UPDATE relations SET customer_id = ? WHERE customer_id = ? "
                    "AND coalesce(other_customer_id, -1) <> ?", [survivor_id, other_id, survivor_id])
        pointing = cur.execute("SELECT id, customer_id FROM relations WHERE other_customer_id = ? AND customer_id <> ?",
                               [other_id, survivor_id]).fetchall()
        cur.execute("INSERT INTO merge_moves (table_name, record_id, from_customer, to_customer, moved_at) "
                    "SELECT 'relations.other', id, ?, ?, ? FROM relations WHERE other_customer_id = ? "
                    "AND customer_id <> ?", [other_id, survivor_id, now, other_id, survivor_id])
        cur.execute("UPDATE relations SET other_customer_id = ? WHERE other_customer_id = ? AND customer_id <> ?",
                    [survivor_id, other_id, survivor_id])
        for relation_id, customer_id in pointing:  # whom a relation points at is one of its fields: in its history
            write_record_changes(self.db, cur, "relations", relation_id, customer_id, login, now, "merge",
                                 {"other_customer_id": (other_id, survivor_id)})
        cur.execute("INSERT INTO invoiced_yearly (customer_id, year, amount, invoices) "
                    "SELECT ?, year, amount, invoices FROM invoiced_yearly WHERE customer_id = ? "
                    "ON CONFLICT (customer_id, year) DO UPDATE SET amount = invoiced_yearly.amount + excluded.amount, "
                    "invoices = invoiced_yearly.invoices + excluded.invoices", [survivor_id, other_id])
        cur.execute("DELETE FROM invoiced_yearly WHERE customer_id = ?", [other_id])
        cur.execute("UPDATE search_terms SET customer_id = ? WHERE customer_id = ? AND contact_id IS NOT NULL",
                    [survivor_id, other_id])


def _relation_key(row: tuple[Any, ...], two_way: bool) -> tuple[Any, ...]:
    """What makes two relations one: who made it, its type and whom it points at (a two-way type, as Partner of,
    reads the same from both ends)."""
    _id, customer_id, type_id, other_customer_id, other_contact_id = row[:5]
    if two_way and other_customer_id is not None:
        return ("both", type_id, frozenset((customer_id, other_customer_id)))
    return (customer_id, type_id, other_customer_id, other_contact_id)


def _merged_segments(mine: dict[str, list[str]], theirs: dict[str, list[str]], prefer_theirs: bool,
                     criteria: dict[str, tuple[bool, list[str]]]) -> dict[str, list[str]]:
    """Segmentation after a merge: multiple-choice criteria get both sides' values; a single-choice criterion
    keeps the preferred side's value (the other side's when only it has one)."""
    first, second = (theirs, mine) if prefer_theirs else (mine, theirs)
    result = {name: list(values) for name, values in first.items() if values}
    for name, values in second.items():
        multiple = criteria.get(name, (True, []))[0]
        if name not in result:
            result[name] = list(values)
        elif multiple:
            result[name] = list(dict.fromkeys([*result[name], *values]))
    return result
