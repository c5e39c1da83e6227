"""Customers: read, create, save with field-level history and optimistic concurrency, restore, list.

A save is ONE transaction: it checks the version the save started from, validates through the model,
updates the row, writes one history row per changed field and bumps ``version``. A stale save raises
:class:`~customercard.errors.ConflictError` naming each field changed meanwhile; nothing is written.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ConflictError, CustomerCardError, FieldConflict, NotFound, PermissionDenied, ValidationError
from ..fields import customer_fields, searched_fields
from ..i18n import _, current_language
from ..models import (
    CRITERIA_RENAMED,
    Customer,
    CustomerQuery,
    Event,
    FollowUp,
    InvoiceDefaults,
    Opportunity,
    Record,
    Snapshot,
    field_value,
    from_text,
    to_text,
)
from ..validators import clean_text, country_code
from .admin import renamed_since
from .backend import Backend, counted
from .changes import Change
from .database import execute_rows, utcnow
from .part import Part
from .records import refuse_merged_away, survivor_named
from .search_text import FUZZY, RANK_NAMES, SOURCES, customer_terms

if TYPE_CHECKING:
    from .admin import AdminStore
    from .outbox import OutboxStore
    from .search import SearchStore

log = logging.getLogger(__name__)

#: The customer's fields kept as an admin list's value: field → list (their history keeps the value's name).
CUSTOMER_LIST_FIELDS = {**Customer.lists,
                        **{f"invoicing.{field}": name for field, name in InvoiceDefaults.lists.items()}}

#: Model field (dotted) → column, for fields stored as they are (from the field registry).
PLAIN_COLUMNS: dict[str, str] = {f.name: f.column for f in customer_fields() if f.column and not f.list_name}
#: Model field (dotted) → (column holding the list value's id, admin list name).
LISTED_COLUMNS: dict[str, tuple[str, str]] = {f.name: (f.column, f.list_name) for f in customer_fields()
                                              if f.column and f.list_name}
_BLANK = Customer()
#: A stored NULL reads as the field's default (None stays None for fields that allow it).
_DEFAULTS: dict[str, Any] = {field: (None if _BLANK.parameter(field).allow_None is True
                                     else _BLANK.parameter(field).default) for field in PLAIN_COLUMNS}
SYSTEM_COLUMNS = ("id", "number", "merged_into", "erp_system", "erp_customer_id", "erp_synced_at",
                  "created_at", "created_by", "updated_at", "updated_by", "version")
_TEXT_SYSTEM_COLUMNS = frozenset(c for c in SYSTEM_COLUMNS if isinstance(_BLANK.param[c].default, str))
WRITE_COLUMNS = (*PLAIN_COLUMNS.values(), *(col for col, _ in LISTED_COLUMNS.values()))
# The statements below are assembled once, at import, from the constant column names above (never from input).
SELECT_CUSTOMER = ("SELECT " + ", ".join((*SYSTEM_COLUMNS, *PLAIN_COLUMNS.values(),
                                           *(col for col, _ in LISTED_COLUMNS.values())))
                   + " FROM customers WHERE id = ?")


@functools.lru_cache(maxsize=256)
def _update_statement(columns: tuple[str, ...]) -> str:
    """UPDATE of just these columns (constants from the mappings above, never input), stamped and version
    checked: DuckDB updates a few columns of a row about six times faster than all of them."""
    return ("UPDATE customers SET " + "".join(f"{c} = ?, " for c in columns)
            + "updated_at = ?, updated_by = ?, version = version + 1 WHERE id = ? AND version = ?")


#: The link to the economy system: set by :meth:`CustomerStore.link_customer` (administrators), which checks it and
#: queues the customer's delivery; never written by a save of the customer's fields.
LINK_FIELDS = ("erp_system", "erp_customer_id")


def _link_set_here(customer: Customer, stored: Any) -> dict[str, str]:
    """A message for each link field ``customer`` sets to another value than ``stored`` holds (None: a new customer,
    no link): a save would drop it unseen and hand back a customer that seems linked."""
    return {field: _("The link to the economy system is set with link_customer (an administrator; on the card, "
                     "Groups and log → Economy system), not saved with the customer's fields.")
            for field in LINK_FIELDS
            if (getattr(customer, field) or "") != ((getattr(stored, field) or "") if stored is not None else "")}


def _diff_with_rewrites(stored: Any, customer: Customer) -> dict[str, tuple[Any, Any]]:
    """The changed fields, and those whose stored value the model refused (read as their default) that the person
    set again (:meth:`Customer.rewrite_unreadable`: the section they live in was saved) — written even when the value
    set is the default they were shown as."""
    changes = _diff(stored, customer)
    # what the row held, as this store read it: never what the record says it held (a record that travelled
    # from a notebook could name any value, and the history would say it was changed from that)
    unreadable = getattr(stored, "unreadable", None) or {}
    for field in customer.__dict__.get("_rewrite") or ():
        if field in unreadable and field not in changes:
            changes[field] = (unreadable[field], customer.get(field))
    return changes


def _creation_rows(customer_id: int, customer: Customer, blank: Customer, now: Any, login: str) -> list[list[Any]]:
    """History rows of a new customer: each field given a value other than the default, and each segment (the
    name at least)."""
    rows = [[customer_id, 1, now, login, "create", field, None, to_text(value)]
            for field, value in customer.values().items()
            if field != "segments" and to_text(value) not in (None, "", to_text(blank.get(field)))]
    rows = rows or [[customer_id, 1, now, login, "create", "name", None, customer.name]]
    return rows + [[customer_id, 1, now, login, "create", f"segments.{criterion}", None, to_text(values)]
                   for criterion, values in customer.segments.items()]


def _columns_of(fields: set[str]) -> tuple[str, ...]:
    """The customers columns that hold these (dotted) fields, in table order."""
    wanted = {PLAIN_COLUMNS.get(f) or LISTED_COLUMNS.get(f, (None,))[0] for f in fields} - {None}
    return tuple(c for c in WRITE_COLUMNS if c in wanted)


#: The columns a new customer's row is written with (its id and number taken from the sequences beforehand).
CREATE_COLUMNS = ["id", "number", *WRITE_COLUMNS, "created_at", "created_by", "updated_at", "updated_by", "version"]
CHANGE_COLUMNS = ["customer_id", "version", "changed_at", "changed_by", "kind", "field", "old_value", "new_value"]


def write_customer_changes(db: Any, cur: Any, rows: list[list[Any]]) -> None:
    """Record field changes of customers — rows of (customer_id, version, changed_at, changed_by, kind, field, old,
    new) — and announce each customer's new version to the subscribers of changes."""
    if not rows:
        return
    execute_rows(cur, INSERT_CHANGE, rows)
    versions: dict[tuple[int, int], tuple[str, list[str]]] = {}
    for customer_id, version, _at, by, _kind, field, *_values in rows:
        versions.setdefault((int(customer_id), int(version)), (by, []))[1].append(field)
    for (customer_id, version), (by, fields) in versions.items():
        db.announce(Change("customer", customer_id, customer_id, version, by, tuple(dict.fromkeys(fields))))


INSERT_CHANGE = ("INSERT INTO customer_changes (customer_id, version, changed_at, changed_by, kind, field, "
                 "old_value, new_value) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
#: Fields the super search indexes; a save that changes one of them updates the index.
SEARCHED_FIELDS = searched_fields()
# Lists of customers for the served list page: sortable columns, by the name the page uses.
#: What Search customers shows of a customer, read from LIST_FROM (list_customers: LIST_COLUMNS only).
LIST_COLUMNS = ("c.id, c.number, c.name, c.nickname, st.label AS status, ind.label AS industry, "
                "coalesce(u.name, c.account_manager) AS account_manager, c.visit_city AS city")
LIST_MORE_COLUMNS = ", c.visit_country AS country, c.org_number, c.phone, c.email, c.archived"
#: The lists a customer's row names, by the alias a sort uses.
LIST_JOINS = {"st": "LEFT JOIN list_values st ON st.id = c.status_id",
              "ind": "LEFT JOIN list_values ind ON ind.id = c.industry_id",
              "u": "LEFT JOIN users u ON u.login = c.account_manager"}
LIST_FROM = "customers c " + " ".join(LIST_JOINS.values())
LIST_SORTS = {
    "number": "c.number", "name": "c.name", "nickname": "c.nickname", "city": "c.visit_city",
    "status": "st.label", "industry": "ind.label", "account_manager": "u.name", "country": "c.visit_country",
}
#: The sorts by a text, in the reader's alphabet (:func:`_text_order`); those a customer may leave empty go last.
_TEXT_SORTS = {"name": False, "nickname": True, "city": True, "status": True, "industry": True,
               "account_manager": True}
#: The letters a Nordic alphabet ends with, in its order, written as the characters after z (Swedish å ä ö, Danish
#: and Norwegian æ ø å; by character code Ä came before Å, and Å before Æ and Ø); there other marked letters sort as
#: their plain letter (é as e). English (the API's language unless another is asked for) sorts by character code.
_ALPHABET_ENDS = {"sv": ("åäæöø", "{||}}"), "da": ("æäøöå", "{{||}")}
_MARKED_LETTERS, _THEIR_PLAIN = "éèêëáàâãíìîóòôõúùûüñçý", "eeeeaaaaiiioooouuuuncy"


class CustomerStore(Part):
    """Part of :class:`customercard.store.Store`: customers and their history."""

    uses = ("admin", "outbox", "search")
    internal = frozenset({"check_new_record", "conflict", "criterion_value_labels", "customers_for_saving",
                          "save_together", "stored_now", "takes_records", "writer_at_customer"})
    admin: AdminStore
    outbox: OutboxStore
    search: SearchStore

    db: Backend

    # -- reading ------------------------------------------------------------------------------------------
    def get_customer(self, customer_id: int) -> Customer:
        """The customer as a param object, with its allowed values filled in from the admin lists."""
        records = self.db.records(SELECT_CUSTOMER, [int(customer_id)])
        if not records:
            raise NotFound(_("No customer with id {customer_id}.").format(customer_id=customer_id))
        customer = self._customer_from_record(records[0])
        customer.apply_choices(self.admin.choices())
        return customer

    def _field_values(self, record: dict[str, Any]) -> dict[str, Any]:
        """The model's fields (dotted) from a stored row: NULL as the field's default, list ids as labels."""
        maps = self.admin.list_maps()
        values: dict[str, Any] = {}
        for field, column in PLAIN_COLUMNS.items():
            value = record[column]
            values[field] = _DEFAULTS[field] if value is None and _DEFAULTS[field] is not None else value
        for field, (column, list_name) in LISTED_COLUMNS.items():
            values[field] = maps[list_name]["by_id"].get(record[column])
        return values

    def _snapshot(self, record: dict[str, Any], segments: dict[str, list[str]] | None = None,
                  fields: dict[str, Any] | None = None) -> Snapshot:
        """What is stored, as plain values by field (cheaper than a Customer; used when checking a save)."""
        values = dict(fields) if fields is not None else self._field_values(record)
        if segments is None:
            segments = self._segments_of(int(record["id"]))
        segments = {criterion: list(chosen) for criterion, chosen in segments.items()}
        values["segments"] = segments
        linked = bool(record["erp_system"] and record["erp_customer_id"])
        return Snapshot(values, id=record["id"], version=record["version"], segments=segments, number=record["number"],
                        erp_system=record["erp_system"] or "", erp_customer_id=record["erp_customer_id"] or "",
                        is_linked=linked, updated_by=record["updated_by"], updated_at=record["updated_at"],
                        merged_into=record["merged_into"])

    @staticmethod
    def _saved_snapshot(before: Snapshot, customer: Customer, version: int, now: Any, login: str) -> Snapshot:
        """What is stored after ``customer`` was saved over ``before`` (the save wrote exactly these values)."""
        segments = {criterion: list(chosen) for criterion, chosen in (customer.segments or {}).items()}
        values = {field: customer.get(field) for field in before.values() if field != "segments"}
        values["segments"] = segments
        # a value the model refused stays so until a save writes its field
        written = {field for field in before.values() if field != "segments" and customer.get(field) != before.get(
            field)} | set(customer.__dict__.get("_rewrite") or ())
        unreadable = {field: text for field, text in (getattr(before, "unreadable", None) or {}).items()
                      if field not in written}
        return Snapshot(values, id=before.id, version=version, segments=segments,
                        number=getattr(before, "number", None), erp_system=before.erp_system,
                        erp_customer_id=before.erp_customer_id, is_linked=before.is_linked, updated_by=login,
                        updated_at=now, merged_into=getattr(before, "merged_into", None), unreadable=unreadable)

    def customers_for_saving(self, customer_ids: list[int]) -> dict[int, Customer]:
        """Many customers read at once (two queries, not two per customer), as :meth:`get_customer` gives each but
        without the allowed values offered for forms: what a bulk change saves one by one."""
        if not customer_ids:
            return {}
        ids = [int(i) for i in customer_ids]
        condition = self.db.in_list("id", len(ids), ids=True)
        records = self.db.records(SELECT_CUSTOMER.replace("WHERE id = ?", f"WHERE {condition}"), ids)
        labels = self.criterion_value_labels()
        found: dict[int, list[tuple[tuple[int, int], str, str]]] = {}
        for customer_id, value_id in self.db.rows("SELECT customer_id, value_id FROM customer_segments WHERE "
                                                  + self.db.in_list("customer_id", len(ids), ids=True), ids):
            if value_id in labels:
                found.setdefault(int(customer_id), []).append(labels[value_id])
        customers = {}
        for record in records:
            segments: dict[str, list[str]] = {}
            for _order, name, label in sorted(found.get(int(record["id"]), [])):
                segments.setdefault(name, []).append(label)
            customers[int(record["id"])] = self._customer_from_record(record, segments)
        return customers

    def _customer_from_record(self, record: dict[str, Any],
                              segments: dict[str, list[str]] | None = None) -> Customer:
        fields = self._field_values(record)
        values = dict(fields)
        for column in SYSTEM_COLUMNS:
            value = record[column]
            values[column] = "" if value is None and column in _TEXT_SYSTEM_COLUMNS else value
        values["segments"] = segments = self._segments_of(int(record["id"])) if segments is None else segments
        # One update per (nested) record, from class-level defaults: no per-instance parameter copies.
        grouped: dict[str, dict[str, Any]] = {}
        for field, value in values.items():
            head, _dot, tail = field.rpartition(".")
            grouped.setdefault(head, {})[tail] = value
        try:
            nested = {name: Customer.param[name].class_(**grouped.pop(name, {})) for name in Customer.nested}
            customer = Customer(**grouped.pop("", {}), **nested)
        except (ValueError, TypeError):
            customer, fields = self._customer_read_leniently(record, values, fields)
        # What was read, kept with the object: a save whose version still matches compares against it instead
        # of reading the row again (the version check in the UPDATE proves the row has not changed since).
        customer._stored = self._snapshot(record, segments, fields)
        customer._stored.unreadable = customer.unreadable
        return customer

    @staticmethod
    def _customer_read_leniently(record: dict[str, Any], values: dict[str, Any],
                                 fields: dict[str, Any]) -> tuple[Customer, dict[str, Any]]:
        """A customer whose row holds values the model refuses (written by another program, or before a rule was
        tightened): every other field as stored, each refused one at its default and named in
        :attr:`Customer.unreadable` (the card says so where the field is). What a save compares with has the same
        default, so a save of other fields leaves the stored value alone; a value set for the field replaces it."""
        customer = Customer()
        refused = customer.update_from(values)
        log.warning("Customer %s holds values the model refuses, read as empty: %s", record["id"], refused)
        customer._unreadable = {field: to_text(values[field]) or "" for field in refused}
        return customer, {field: (customer.get(field) if field in refused else value)
                          for field, value in fields.items()}

    def _segments_of(self, customer_id: int) -> dict[str, list[str]]:
        """{criterion: [values]} in the admin's order (labels from the cached criteria)."""
        labels = self.criterion_value_labels()
        found = sorted(labels[value_id] for (value_id,) in self.db.rows(
            "SELECT value_id FROM customer_segments WHERE customer_id = ?", [customer_id]) if value_id in labels)
        segments: dict[str, list[str]] = {}
        for _order, name, label in found:
            segments.setdefault(name, []).append(label)
        return segments

    def criterion_value_labels(self) -> dict[int, tuple[tuple[int, int], str, str]]:
        """value id → ((criterion position, value position), criterion name, value label)."""
        def build() -> dict[int, tuple[tuple[int, int], str, str]]:
            return {vid: ((cpos, vpos), name, label) for vid, name, label, cpos, vpos in self.db.rows(
                "SELECT v.id, c.name, v.label, c.position, v.position FROM criterion_values v "
                "JOIN criteria c ON c.id = v.criterion_id")}
        return self.admin.cached("criterion_labels", build)

    def customer_exists(self, customer_id: int) -> bool:
        """Whether a customer with this id exists (archived and merged ones too)."""
        return self.db.row("SELECT 1 FROM customers WHERE id = ?", [int(customer_id)]) is not None

    def writer_at_customer(self, record: Record, user: str | None) -> str:
        """The login that adds ``record`` (a contact person, project, event …) at its customer, once it may: the user
        may write (else PermissionDenied), the customer exists (else NotFound) and is not merged away."""
        login = self.admin.require(user, "write")
        if record.customer_id is None:
            raise NotFound(_("No customer with id {customer_id}.").format(customer_id=record.customer_id))
        self.takes_records(record.customer_id)
        return login

    def takes_records(self, customer_id: int, cur: Any = None, field: str | None = None) -> None:
        """A customer new records may be added to: one that exists (else NotFound) and is not merged into another
        (else PermissionDenied: what is added to it would stay on the archived pointer, not reach the survivor);
        ``field``: the record's field that names it (a ValidationError for that field instead)."""
        refuse_merged_away(self.db, cur, customer_id, field)

    def check_new_record(self, record: Event | Opportunity | FollowUp, user: str | None) -> str:
        """The login that adds ``record`` (an event, opportunity or follow-up) at its customer, once it may: as
        :meth:`writer_at_customer`, the record is owned by the writer unless another owner is given, and the model
        accepts its values (else ValidationError)."""
        login = self.writer_at_customer(record, user)
        record.owner = record.owner or login
        record.check(self.admin.choices())
        return login

    def new_customer(self) -> Customer:
        """An unsaved customer with the firm's defaults, offering the admin lists' values."""
        settings = self.admin.settings()
        choices = self.admin.choices()
        customer = Customer()
        customer.visit_address.country = settings.phone_region
        customer.invoice_address.country = settings.phone_region
        currencies = choices.allowed("currencies")
        if settings.base_currency in currencies:
            customer.invoicing.currency = settings.base_currency
        customer.apply_choices(choices)
        return customer

    # -- writing ------------------------------------------------------------------------------------------
    def create_customer(self, customer: Customer | None = None, user: str | None = None,
                        **fields: Any) -> Customer:
        """Validate and create a customer (number given automatically); records who created it."""
        customer = customer if customer is not None else self.new_customer()
        # a misspelt field (emial=) would be dropped unseen: it is told, with every other problem
        unknown = {name: _("Not a field of a customer.") for name in fields if name not in customer.fields and (
            name not in customer.param or name in STORE_GIVEN)}  # a field dotted, or a whole part (visit_address=)
        errors = {**customer.update_from({k: v for k, v in fields.items() if k not in unknown}), **unknown}
        if errors:
            raise ValidationError({**customer.validate(self.admin.choices()), **errors}, what=_("Customer"))
        return self.create_customers([customer], user=user)[0]

    def create_customers(self, customers: list[Customer], user: str | None = None) -> list[Customer]:
        """Validate and create many customers in one transaction, all or none (an import): the rows of the
        customers, their history and segments and their search entries each written as a few multi-row
        statements, not a few per customer. Raises :class:`ValidationError` for the first customer refused."""
        login = self.admin.require(user, "write")
        choices = self.admin.choices()
        for customer in customers:
            errors = {**customer.validate(choices), **_link_set_here(customer, None)}
            if errors:
                raise ValidationError(errors, what=_("Customer"))
        if not customers:
            return []
        now = utcnow()
        blank = Customer()
        region = self.admin.settings().phone_region
        with self.db.transaction() as cur:
            ids = self.db.reserve_ids("customers_id_seq", len(customers))
            numbers = self.db.reserve_ids("customer_number_seq", len(customers))
            self._append("customers", CREATE_COLUMNS, [
                [new_id, number, *self._write_values(customer), now, login, now, login, 1]
                for new_id, number, customer in zip(ids, numbers, customers, strict=True)])
            self._write_segments_of(cur, list(zip(ids, (c.segments for c in customers), strict=True)))
            self._append("customer_changes", CHANGE_COLUMNS, [
                row for new_id, customer in zip(ids, customers, strict=True)
                for row in _creation_rows(new_id, customer, blank, now, login)])
            self.search.write_index(cur, *self.search.index_rows([
                (new_id, None, customer_terms({**customer.values(), "number": number}, region))
                for new_id, number, customer in zip(ids, numbers, customers, strict=True)]))
            for new_id in ids:
                self.db.announce(Change("customer", int(new_id), int(new_id), 1, login, ("created",)))
        for new_id, number, customer in zip(ids, numbers, customers, strict=True):
            customer.param.update(id=int(new_id), number=int(number), created_at=now, created_by=login,
                                  updated_at=now, updated_by=login, version=1)
        return customers

    def save_customer(self, customer: Customer, user: str | None = None, kind: str = "update") -> Customer:
        """Validate and save; writes history and bumps ``customer.version``. Stale saves raise ConflictError."""
        login = self.admin.require(user, "write")
        if customer.id is None:
            raise CustomerCardError(_("This customer is not created yet: use create_customer."))
        with self.db.transaction() as cur:
            stored = getattr(customer, "_stored", None)
            carried = isinstance(stored, Snapshot) and stored.id == customer.id and stored.version == customer.version
            if not carried:
                stored = self.stored_now(customer.id)
                self._refuse_merged_away(customer, stored)  # merged since: where to make the change, no conflict
                if stored.version != customer.version:
                    raise self.conflict(stored, customer)
            self._refuse_merged_away(customer, stored)
            number = getattr(stored, "number", None)
            if number is not None and customer.number != number:  # (not a column a save writes: it was dropped)
                raise ValidationError({"number": _("The customer number is given when the customer is made and is "
                                                   "never changed (it is {number}).").format(number=number)},
                                      what=_("Customer"))
            linked_here = _link_set_here(customer, stored)
            if linked_here:
                raise ValidationError({**customer.validate(self.admin.choices(), previous=stored), **linked_here},
                                      what=_("Customer"))
            customer.check(self.admin.choices(), previous=stored)
            changes = _diff_with_rewrites(stored, customer)
            if not changes:
                if carried:  # nothing to write, so no UPDATE checks the version: a save or merge since is said here
                    now = self.stored_now(customer.id)
                    self._refuse_merged_away(customer, now)
                    if now.version != customer.version:
                        raise self.conflict(now, customer)
                return customer
            now = utcnow()
            columns = _columns_of(set(changes))
            values = dict(zip(WRITE_COLUMNS, self._write_values(customer), strict=True))
            # The row count, not RETURNING: that costs DuckDB about 2 ms more per save. No row: someone saved
            # (or merged, or deleted) since this customer was read.
            updated = cur.execute(_update_statement(columns), [*(values[c] for c in columns), now, login,
                                                               customer.id, customer.version]).rowcount
            if not updated:
                raise self._stale(customer)
            version = customer.version + 1
            write_customer_changes(self.db, cur, [[customer.id, version, now, login, kind, field, to_text(old),
                                                   to_text(new)] for field, (old, new) in changes.items()])
            self._after_update(cur, customer, stored, changes, login, now)
        self._adopt_saved(customer, stored, version, now, login)
        return customer

    def _after_update(self, cur: Any, customer: Customer, stored: Snapshot, changes: dict[str, tuple[Any, Any]],
                      login: str, now: Any) -> None:
        """What a saved customer's row brings with it, in the same transaction: its segments written again when
        they changed, the search index when a searched field did, and the outbox (:meth:`_after_customer_change`)."""
        changed = [field.split(".", 1)[1] for field in changes if field.startswith("segments.")]
        if changed:
            self._rewrite_segments(cur, customer, changed)
        if SEARCHED_FIELDS & set(changes):
            self.search.index_customer(cur, customer.id, {**customer.values(), "number": customer.number})
        self.outbox.after_customer_change(cur, stored, customer, changes, login, now)

    def _adopt_saved(self, customer: Customer, stored: Snapshot, version: int, now: Any, login: str) -> None:
        """The saved customer carries its new version, stamp and what is now stored (the next save checks it) — a list
        value renamed since it was read under today's name, as the card then shows it."""
        choices = self.admin.choices()
        now_called = {field: choices.renamed[list_name][customer.get(field)]
                      for field, (_column, list_name) in LISTED_COLUMNS.items()
                      if customer.get(field) in choices.renamed.get(list_name, {})}
        if now_called:
            customer.apply_choices(choices)
            for field, label in now_called.items():
                customer.set(field, label)
        customer.param.update(version=version, updated_at=now, updated_by=login)
        customer._stored = self._saved_snapshot(stored, customer, version, now, login)

    def save_together(self, customers: list[Customer], login: str, kind: str) -> dict[int, Exception]:
        """Inside the caller's write: the steps of :meth:`save_customer` for many customers at once — each validated
        against what it was read as, diffed, then the rows that changed the same columns to the same values updated
        in ONE version-checked statement (a row whose version moved meanwhile is left out: a conflict), the history
        of all in one insert, segments, the search index and the outbox as a single save writes them. Returns
        {customer id: the refusal} for those not saved; the others carry their new version."""
        refused: dict[int, Exception] = {}
        choices = self.admin.choices()
        pending: dict[tuple[Any, ...], list[tuple[Customer, Snapshot, dict[str, tuple[Any, Any]]]]] = {}
        for customer in customers:
            stored = getattr(customer, "_stored", None)
            try:
                if not (isinstance(stored, Snapshot) and stored.version == customer.version):
                    raise self._stale(customer)
                self._refuse_merged_away(customer, stored)
                customer.check(choices, previous=stored)
            except (ValidationError, ConflictError, PermissionDenied) as exc:
                refused[customer.id] = exc
                continue
            changes = _diff_with_rewrites(stored, customer)
            if not changes:
                continue
            columns = _columns_of(set(changes))
            values = dict(zip(WRITE_COLUMNS, self._write_values(customer), strict=True))
            segments = to_text(customer.segments) if any(f.startswith("segments.") for f in changes) else None
            key = (columns, tuple(values[c] for c in columns), segments)
            pending.setdefault(key, []).append((customer, stored, changes))
        now = utcnow()
        history: list[list[Any]] = []
        for (columns, column_values, _segments), group in pending.items():
            ids = [customer.id for customer, _stored, _changes in group]
            cases = " ".join("WHEN ? THEN CAST(? AS INTEGER)" for _ in group)
            # Constant SQL from the column names above and the count of customers; every value a parameter.
            statement = ("UPDATE customers SET " + "".join(f"{c} = ?, " for c in columns)
                         + "updated_at = ?, updated_by = ?, version = version + 1 WHERE "
                         + self.db.in_list("id", len(ids), ids=True)
                         + f" AND version = CASE id {cases} END RETURNING id")
            params = [*column_values, now, login, *ids,
                      *(v for customer, _s, _c in group for v in (customer.id, customer.version))]
            updated = {int(row[0]) for row in self.db.cursor().execute(statement, params).fetchall()}
            for customer, stored, changes in group:
                if customer.id not in updated:  # saved (or merged) by someone else since it was read
                    refused[customer.id] = self._stale(customer)
                    continue
                version = customer.version + 1
                history += [[customer.id, version, now, login, kind, field, to_text(old), to_text(new)]
                            for field, (old, new) in changes.items()]
                self._after_update(self.db.cursor(), customer, stored, changes, login, now)
                self._adopt_saved(customer, stored, version, now, login)
        write_customer_changes(self.db, self.db.cursor(), history)
        return refused

    def _refuse_merged_away(self, customer: Customer, stored: Snapshot) -> None:
        """A customer merged into another is kept only as the pointer to it: its values are not edited any more
        (a change belongs on the survivor, which holds its contacts, projects and history now)."""
        survivor = getattr(stored, "merged_into", None) or customer.merged_into
        if survivor:  # named as stored (a restore of an old name, or a save of a new one, is not its name)
            name = (stored.get("name") if isinstance(stored, Snapshot) else None) or customer.name
            raise PermissionDenied(_("{name} was merged into {survivor}: nothing was saved. Make the change there.")
                                   .format(name=name, survivor=survivor_named(self.db, int(survivor))))

    def _stale(self, customer: Customer) -> Exception:
        """Why a save from ``customer``'s version found the row changed: merged into another since (refused with
        where to make the change), else a conflict with what changed meanwhile."""
        now = self.stored_now(customer.id)
        try:
            self._refuse_merged_away(customer, now)
        except PermissionDenied as exc:
            return exc
        return self.conflict(now, customer)

    def stored_now(self, customer_id: int) -> Snapshot:
        """What is stored now, as a save compares with it — a value the model refuses as the default it is read as
        (see :meth:`_customer_read_leniently`): a save from a copy that never held it (a notebook's, through the
        server) leaves it stored, as one from the card does."""
        records = self.db.records(SELECT_CUSTOMER, [customer_id])
        if not records:
            raise NotFound(_("No customer with id {customer_id}.").format(customer_id=customer_id))
        return self._customer_from_record(records[0])._stored

    def conflict(self, stored: Snapshot, attempted: Customer) -> ConflictError:
        changed = self.db.records(
            "SELECT field, changed_by, changed_at FROM customer_changes WHERE customer_id = ? AND version > ? "
            "ORDER BY id", [stored.id, attempted.version])
        seen: dict[str, dict[str, Any]] = {}
        for row in changed:
            seen[row["field"]] = row
        conflicts = []
        for field, row in seen.items():
            stored_value = field_value(stored, field)
            conflicts.append(FieldConflict(field=field, stored=stored_value,
                                           attempted=field_value(attempted, field),
                                           changed_by=row["changed_by"], changed_at=row["changed_at"]))
        return ConflictError(conflicts, stored_version=stored.version, attempted_version=attempted.version)

    def _write_values(self, customer: Customer) -> list[Any]:
        maps = self.admin.list_maps()
        values: list[Any] = [customer.get(field) for field in PLAIN_COLUMNS]
        for field, (_column, list_name) in LISTED_COLUMNS.items():
            label = customer.get(field)
            values.append(maps[list_name]["by_label"].get(label) if label else None)
        return values

    def _append(self, table: str, columns: list[str], rows: list[list[Any]]) -> None:
        """Many rows at once, inside the write on this thread: as a frame, which DuckDB reads in one go (a multi-row
        INSERT of 40,000 history rows took 11 s) and PostgreSQL takes by COPY."""
        if rows:
            self.db.insert_df(table, pd.DataFrame(rows, columns=columns, dtype=object))

    def _rewrite_segments(self, cur: Any, customer: Customer, criteria: list[str]) -> None:
        """The customer's values of the ``criteria`` that changed written again; the other criteria's rows stay as
        they are stored. A criterion or value the copy names that is no longer known (renamed or removed since the
        copy was read) refuses the save, in its transaction: written by name it would be dropped unseen."""
        ids = self.admin.criterion_value_ids()
        of_criterion: dict[str, list[int]] = {}
        for (name, _label), value_id in ids.items():
            of_criterion.setdefault(name, []).append(int(value_id))
        chosen = [(criterion, value) for criterion in criteria for value in customer.segments.get(criterion, [])]
        gone = [criterion for criterion in criteria if criterion not in of_criterion]
        gone += [f"{criterion}: {value}" for criterion, value in chosen if criterion in of_criterion
                 and (criterion, value) not in ids]
        if gone:
            raise ValidationError({"segments": _(
                "The segmentation changed since this customer was opened ({what} was renamed or removed): open the "
                "customer again and make the change there.").format(what=", ".join(gone))}, what=_("Customer"))
        dropped = sorted(value_id for criterion in criteria for value_id in of_criterion[criterion])
        cur.execute("DELETE FROM customer_segments WHERE customer_id = ? AND "
                    + self.db.in_list("value_id", len(dropped), ids=True), [customer.id, *dropped])
        if chosen:
            execute_rows(cur, "INSERT INTO customer_segments (customer_id, value_id) VALUES (?, ?)",
                         [[customer.id, ids[pair]] for pair in dict.fromkeys(chosen)])

    def _write_segments_of(self, cur: Any, owners: list[tuple[int, dict[str, list[str]]]]) -> None:
        ids = self.admin.criterion_value_ids()
        rows = [[customer_id, ids[(criterion, value)]] for customer_id, segments in owners
                for criterion, values in segments.items() for value in values if (criterion, value) in ids]
        if rows:
            execute_rows(cur, "INSERT INTO customer_segments (customer_id, value_id) VALUES (?, ?)", rows)

    # -- history ------------------------------------------------------------------------------------------
    def history(self, customer_id: int, field: str | None = None) -> pd.DataFrame:
        """Every change of the customer, newest first: changed_at, changed_by, field, old_value, new_value."""
        sql = ("SELECT id AS change_id, changed_at, changed_by, field, old_value, new_value, kind, version "
               "FROM customer_changes WHERE customer_id = ?")
        params: list[Any] = [int(customer_id)]
        if field:
            names = self.admin.segment_field_names(field)  # a criterion's changes under its former names too
            sql += " AND " + self.db.in_list("field", len(names))
            params += names
        frame = self.db.df(sql + " ORDER BY id DESC", params)
        if field and len(names) > 1:  # a former name another criterion took since: its changes are that one's
            now = [self.admin.segment_field_now(f, at) for f, at in zip(frame["field"], frame["changed_at"],
                                                                         strict=True)]
            frame = frame[[name == field for name in now]].reset_index(drop=True)
        frame["version"] = frame["version"].astype("int32")  # as every frame's version, on both backends
        return frame[["changed_at", "changed_by", "field", "old_value", "new_value", "kind", "version",
                      "change_id"]]

    def restore(self, customer_id: int, change_id: int, which: str = "old", user: str | None = None,
                expected_version: int | None = None) -> Customer:
        """Put back a past value of one field as a new, recorded change (history is never rewritten).

        ``which`` is 'old' (the value before that change) or 'new' (the value it set).
        """
        if which not in ("old", "new"):
            raise ValidationError({"which": _("Give old or new.")})
        found = self.db.records("SELECT field, old_value, new_value, changed_at FROM customer_changes "
                                "WHERE id = ? AND customer_id = ?", [int(change_id), int(customer_id)])
        if not found:
            raise NotFound(_("No change {change_id} on customer {customer_id}.").format(
                change_id=change_id, customer_id=customer_id))
        # a criterion (or a list value) renamed since is the same one: its value goes back under today's name
        written = found[0]["changed_at"]
        field = self.admin.segment_field_now(found[0]["field"], written)
        text = found[0][f"{which}_value"]
        if field in CUSTOMER_LIST_FIELDS and text:
            text = renamed_since(self.admin.list_renames().get(CUSTOMER_LIST_FIELDS[field], []), text, written)
        if field in Customer.HISTORY_ONLY:
            raise ValidationError({field: _("A merge is not undone by restoring a value: it stays in the history.")})
        customer = self.get_customer(customer_id)
        if expected_version is not None:
            customer.version = expected_version
        try:
            _set_field_text(customer, field, text)
        except (ValueError, TypeError) as exc:  # e.g. the empty value from before a required field was first set
            raise ValidationError({field: _("This value cannot be restored: {reason}").format(reason=exc)}) from exc
        return self.save_customer(customer, user=user, kind="restore")

    # -- Search customers -----------------------------------------------------------------------------------
    def find_customers(self, query: CustomerQuery | None = None, limit: int | None = 25, offset: int = 0,
                       sort: str = "name", descending: bool = False) -> tuple[pd.DataFrame, int]:
        """A page of customers matching ``query`` and how many match in all (``limit=None``: every row).

        Columns: id, number, name, nickname, status, industry, account_manager (name), city, country,
        org_number, phone, email, archived, match: why a customer matched the text filter when its own name,
        nickname or number does not hold the text (as the super search says it: 'contact: Anna Berg', 'phone' …),
        else ''.
        """
        query = query or CustomerQuery()
        where, params, why = _query_conditions(self, query)
        frame, total = self._page(LIST_COLUMNS + LIST_MORE_COLUMNS, " AND ".join(where) if where else "TRUE", params,
                                  sort, descending, limit, offset)
        text = clean_text(query.text).strip().lower()
        own = _own_reasons()

        def reasons(ids: list[int]) -> dict[int, str]:
            return {cid: why for cid, why in self.search.list_reasons(text, ids).items() if why not in own}

        frame["match"] = _matches(frame, why, text, self.admin.settings().nicknames_enabled,
                                  reasons) if len(frame) else pd.Series(dtype=object)
        return frame, total

    def _page(self, columns: str, condition: str, params: list[Any], sort: str, descending: bool,
              limit: int | None, offset: int) -> tuple[pd.DataFrame, int]:
        """``columns`` of the customers matching ``condition`` (constant SQL, with ``params``), sorted, a page of
        them (``limit=None``: all), and how many match. The matching ids are sorted and counted in one pass over
        the customers alone (with a sort's own list joined); only the page's rows are then read with their labels."""
        sort = sort if sort in LIST_SORTS else "name"
        key = _text_order(LIST_SORTS[sort], _TEXT_SORTS[sort], self.db.dialect) if sort in _TEXT_SORTS \
            else LIST_SORTS[sort]
        order = f"{key}{' DESC' if descending else ''}{' NULLS LAST' if sort in _TEXT_SORTS else ''}, c.id"
        if limit is None:
            frame = self.db.df(f"SELECT {columns} FROM {LIST_FROM} WHERE {condition} ORDER BY {order}", params)
            return frame, len(frame)
        joins = " ".join(join for alias, join in LIST_JOINS.items() if LIST_SORTS[sort].startswith(f"{alias}."))
        rows = self.db.rows(f"SELECT c.id, count(*) OVER () FROM customers c {joins} WHERE {condition} "
                            f"ORDER BY {order} LIMIT ? OFFSET ?", [*params, counted(limit), counted(offset, "offset")])
        if not rows:  # none match, or the page is past the last: count them
            total = 0 if not offset else self.db.row(f"SELECT count(*) FROM customers c WHERE {condition}", params)[0]
            return self.db.df(f"SELECT {columns} FROM {LIST_FROM} WHERE FALSE"), int(total)
        ids = [int(row[0]) for row in rows]
        frame = self.db.df(f"SELECT {columns} FROM {LIST_FROM} WHERE "
                           + self.db.in_list("c.id", len(ids), ids=True) + f" ORDER BY {order}", ids)
        return frame, int(rows[0][1])

    # -- lists ------------------------------------------------------------------------------------------
    def countries_in_use(self) -> list[str]:
        """The visiting countries customers have (two-letter codes, sorted): what Search customers filters by."""
        return [row[0] for row in self.db.rows("SELECT DISTINCT visit_country FROM customers "
                                               "WHERE visit_country <> '' ORDER BY 1")]

    def list_customers(self, text: str = "", limit: int = 25, offset: int = 0, sort: str = "name",
                       descending: bool = False, include_archived: bool = False) -> tuple[pd.DataFrame, int]:
        """A page of customers for the list: (frame, total count). ``text`` filters name, nickname, number, city."""
        where = ["(? OR NOT c.archived)"]
        params: list[Any] = [include_archived]
        text = clean_text(str(text or ""))  # a lone surrogate or a control character finds nothing: left out
        if text.strip():
            pattern = "%" + text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            where.append("(lower(c.name) LIKE ? ESCAPE '\\' OR lower(c.nickname) LIKE ? ESCAPE '\\' "
                         "OR CAST(c.number AS VARCHAR) LIKE ? ESCAPE '\\' OR lower(c.visit_city) LIKE ? ESCAPE '\\')")
            params += [pattern] * 4
        return self._page(LIST_COLUMNS, " AND ".join(where), params, sort, descending, counted(limit), offset)

    # -- the economy system's link ---------------------------------------------------------------------------
    def link_customer(self, customer_id: int, system: str, external_id: str, user: str | None = None,
                      expected_version: int | None = None) -> Customer:
        """Link a customer to its record in the economy system (administrators): the system's name and the
        customer's id there, both given; empty both, it unlinks (see :meth:`unlink_customer`). Recorded in the
        customer's history and the admin log; ``expected_version`` (what the administrator saw): a customer saved
        since is a conflict and nothing is written. Returns the customer as saved."""
        login = self.admin.require(user, "admin")
        draft = Customer(erp_system=(system or "").strip(), erp_customer_id=(external_id or "").strip())
        errors = {name: message for name, message in draft.validate().items()
                  if name in ("erp_system", "erp_customer_id")}
        if bool(draft.erp_system) != bool(draft.erp_customer_id):
            errors["erp_customer_id" if draft.erp_system else "erp_system"] = _(
                "Give both the economy system and the customer's id in it (or neither, to unlink).")
        if errors:
            raise ValidationError(errors, what=_("The link"))
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
                raise self.conflict(self.stored_now(int(customer_id)), stale)
            write_customer_changes(self.db, cur, [
                [customer_id, seen + 1, now, login, "update", field, old, new]
                for field, old, new in zip(("erp_system", "erp_customer_id"), before, after, strict=True)
                if old != new])
            self.admin.log_admin(cur, login, "Economy system", f"customer {customer.number} {customer.name}",
                            " ".join(before).strip() or None, " ".join(after).strip() or "not linked")
        return self.get_customer(customer_id)

    def unlink_customer(self, customer_id: int, user: str | None = None,
                        expected_version: int | None = None) -> Customer:
        """Unlink a customer from the economy system (administrators); recorded as :meth:`link_customer`."""
        return self.link_customer(customer_id, "", "", user=user, expected_version=expected_version)


#: What the store gives a new customer itself: not set by its creator.
#: A Search customers text also finds the customers the super search finds for it: every one it finds from the start
#: of a value or a word (:meth:`SearchStore.list_condition`) and, of its inner parts ('contains'), the best this
#: many (besides every customer whose name, nickname or number has the text in it); not its typo guesses.
LIST_SEARCH_HITS = 100
STORE_GIVEN = frozenset({"id", "number", "version", "created_at", "created_by", "updated_at", "updated_by",
                         "merged_into"})



#: Letters a city filter reads without their marks (a constant of the SQL, the same on the typed text).
_MARKED, _PLAIN = "åäöæøéèêëüáàâíóúñç", "aaoaoeeeeuaaaiounc"
_UNMARK = str.maketrans(_MARKED, _PLAIN)

def _matches(frame: pd.DataFrame, why: dict[int, str], text: str, nicknames: bool,
             lookup: Callable[[list[int]], dict[int, str]] | None = None) -> list[str]:
    """Each row's reason for matching the text filter when it is not its own name, nickname or number (see
    :meth:`CustomerStore.find_customers`): the best hits' (``why``), else looked up for the rows left (``lookup``)."""
    def own(row: Any) -> bool:
        return (text in str(row.name or "").lower() or (nicknames and text in str(row.nickname or "").lower())
                or str(row.number).startswith(text))
    rows = [(int(row.id), own(row)) for row in frame.itertuples(index=False)]
    left = [customer_id for customer_id, is_own in rows if not is_own and customer_id not in why]
    if text and left and lookup is not None:
        why = {**why, **lookup(left)}
    return [why.get(customer_id, "") if not is_own else "" for customer_id, is_own in rows]


def _text_order(column: str, empty_last: bool, dialect: str) -> str:
    """A text column as Search customers sorts it, in the reader's alphabet (see :data:`_ALPHABET_ENDS`); with
    ``empty_last`` an empty text goes after the others, as none (constant SQL: the column is one of LIST_SORTS)."""
    text = f"NULLIF({column}, '')" if empty_last else column
    alphabet = _ALPHABET_ENDS.get(current_language())
    if alphabet is None:
        return f"lower({text})"
    ends, written = alphabet
    order = f"translate(lower({text}), '{ends}{_MARKED_LETTERS}', '{written}{_THEIR_PLAIN}')"
    # PostgreSQL's own collation may pass over '{' and '|'; compared by code they come after z, as on DuckDB
    order = order + ' COLLATE "C"' if dialect == "postgresql" else order
    return order


def _own_reasons() -> set[str]:
    """The super search's reasons that are a customer's own name, nickname or number (said as none in the list)."""
    return {_(SOURCES[source][1]) for source in ("number", "name", "nickname")}


def _query_conditions(store: CustomerStore, query: CustomerQuery) -> tuple[list[str], list[Any], dict[int, str]]:
    """WHERE conditions (constant SQL) and their parameters for a Search customers query, and why the super search
    found the customers it adds for the text (by id: 'contact: Anna Berg', 'phone' …)."""
    maps = store.admin.list_maps()
    where: list[str] = []
    params: list[Any] = []
    why: dict[int, str] = {}
    if query.archived != "all":
        where.append("c.archived = ?")
        params.append(query.archived == "archived")
    text = clean_text(query.text).strip().lower()  # a lone surrogate or a control character: left out, as typing
    if text:
        escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")  # typed, not wildcards
        pattern = "%" + escaped + "%"
        # what the super search finds for the text too (its link "Search customers for …" leads here): Jönsson
        # typed as jonsson, an organisation or phone number with or without its dashes, a contact person's name
        found = [hit for hit in store.search.list_matches(text, LIST_SEARCH_HITS) if hit[1] != RANK_NAMES[FUZZY]]
        ids = [customer_id for customer_id, _rank, _match in found]
        own = _own_reasons()  # (Jönsson typed as jonsson)
        why = {customer_id: match for customer_id, _rank, match in found if match not in own}
        also = " OR " + store.db.in_list("c.id", len(ids), ids=True) if ids else ""
        # … and every customer it finds from the start of a value or of its words, not only the best of them ('+46 8'
        # is every Stockholm number: the hits above stopped at LIST_SEARCH_HITS)
        indexed, indexed_params = store.search.list_condition(text)
        # a nickname is found only while the firm has nicknames (switched off, the card shows none)
        nickname = "OR lower(c.nickname) LIKE ? ESCAPE '\\' " if store.admin.settings().nicknames_enabled else ""
        where.append("(lower(c.name) LIKE ? ESCAPE '\\' " + nickname +
                     "OR CAST(c.number AS VARCHAR) LIKE ? ESCAPE '\\'" + also + f" OR {indexed})")
        params += [pattern, *([pattern] if nickname else []), escaped + "%", *ids, *indexed_params]
    for labels, column, list_name in ((query.statuses, "c.status_id", "statuses"),
                                      (query.industries, "c.industry_id", "industries")):
        if labels:
            by_label, renamed = maps[list_name]["by_label"], store.admin.choices().renamed.get(list_name, {})
            # a value renamed since the query was written (a bookmark, a saved view) is the same value
            ids = [by_label.get(label, by_label.get(renamed.get(label, ""), -1)) for label in labels]
            where.append(store.db.in_list(column, len(ids), ids=True))
            params += ids
    if query.account_managers:
        where.append(store.db.in_list("c.account_manager", len(query.account_managers)))
        params += [clean_text(str(login)) for login in query.account_managers]
    value_ids = store.admin.criterion_value_ids()
    choices = store.admin.choices()
    for criterion, values in (query.segments or {}).items():
        # a criterion renamed since the query was written (a bookmark, a saved view) is the same criterion
        now = choices.named_now(CRITERIA_RENAMED, criterion)  # (a name a criterion has today is never mapped)
        ids = [value_ids.get((now, value), -1) for value in values]
        if ids:
            where.append("EXISTS (SELECT 1 FROM customer_segments s WHERE s.customer_id = c.id AND "
                         + store.db.in_list("s.value_id", len(ids), ids=True) + ")")
            params += ids
    city, country = clean_text(query.city).strip(), clean_text(query.country).strip()
    if city:  # Göteborg typed as goteborg, København as kobenhavn (as the super search takes them)
        where.append(f"translate(lower(c.visit_city), '{_MARKED}', '{_PLAIN}') LIKE ?")
        params.append(city.lower().translate(_UNMARK).replace("%", "").replace("_", "") + "%")
    if country:  # its code, or its name (Sweden, Sverige: SE)
        where.append("c.visit_country = ?")
        params.append(country_code(country))
    return where, params, why


def _set_field_text(customer: Customer, field: str, text: str | None) -> None:
    if field.startswith("segments."):
        criterion = field.split(".", 1)[1]
        segments = dict(customer.segments)
        values = json.loads(text) if text else []
        if values:
            segments[criterion] = values
        else:
            segments.pop(criterion, None)
        customer.segments = segments
        return
    parameter = customer.parameter(field)
    value = from_text(parameter, text)
    if value is None and isinstance(parameter.default, str):
        value = ""
    customer.set(field, value)


def _diff(before: Customer | Snapshot, after: Customer) -> dict[str, tuple[Any, Any]]:
    """Changed fields as {field: (old, new)}; segments per criterion as ``segments.<criterion>``."""
    changes: dict[str, tuple[Any, Any]] = {}
    for field in Customer.fields:
        if field == "segments":
            continue
        old, new = before.get(field), after.get(field)
        if to_text(old) != to_text(new):
            changes[field] = (old, new)
    old_segments, new_segments = before.segments or {}, after.segments or {}
    for criterion in sorted(set(old_segments) | set(new_segments)):
        old = list(old_segments.get(criterion, []))
        new = list(new_segments.get(criterion, []))
        if sorted(old) != sorted(new):
            changes[f"segments.{criterion}"] = (old or None, new or None)
    return changes
