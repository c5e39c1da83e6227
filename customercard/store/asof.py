"""The customer as it was at the end of any day, read back from the history — and a read-only store of that day.

A field's value at a moment is its value today unless it changed since: then it is the old value of its first
change after that moment (history is never rewritten, so every change after the moment says what it replaced).
Records (comments, contact persons, events, opportunities, follow-ups, relations, files) are taken as they stood:
those made by then, with the fields their history shows changed since put back; projects by their start and end dates.

``store.get_customer(42, as_of=date)``, ``store.diff(42, date_a, date_b)``, ``store.restore_as_of(…)`` (one new
recorded change, version-checked, managers and administrators) and ``store.as_of(date)``: the same store, read
only, answering as that day (what the card shows at ``/card?customer=42&as_of=2024-06-30``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import NotFound, PermissionDenied, ValidationError
from ..i18n import _
from ..models import (
    EVENT_STATUSES,
    OPPORTUNITY_STATUSES,
    Comment,
    Contact,
    Customer,
    Event,
    FollowUp,
    Opportunity,
    field_value,
    from_text,
    to_text,
)
from .activity import MAX_PAGE, as_day_or_moment, day_end
from .admin import AdminStore, renamed_since
from .backend import Backend, checked_status, counted
from .customers import CUSTOMER_LIST_FIELDS, _set_field_text
from .part import Part

if TYPE_CHECKING:
    from .activity import ActivityStore
    from .crm import CrmStore
    from .customers import CustomerStore
    from .followups import FollowUpStore
    from .invoicing import InvoicingStore
    from .people import PeopleStore

log = logging.getLogger(__name__)

#: What a timeline entry shows of its record, put back as it was on a past day: table → {field: (the entry's column,
#: the entries' actions it is shown in; None: all of the record's entries)}.
TOLD_THEN: dict[str, dict[str, tuple[str, frozenset[str] | None]]] = {
    "comments": {"body": ("title", frozenset({"written"})), "author": ("who", frozenset({"written"})),
                 "written_on": ("detail", frozenset({"written"}))},
    "events": {"title": ("title", None), "status": ("action", frozenset(EVENT_STATUSES))},
    "opportunities": {"title": ("title", None)},
    "follow_ups": {"what": ("title", None)},
}

#: Customer fields that history keeps but a restore does not bring back (the economy-system link is kept by
#: administrators, a merge is not undone by a value).
NOT_RESTORED = frozenset({"erp_system", "erp_customer_id", "merged_from", "merged_into"})
#: The customer's fields a diff compares, in the card's order: every user field, the economy-system link.
COMPARED = (*(f for f in Customer.fields if f != "segments"), "erp_system", "erp_customer_id")




#: The fields of records that hold an admin list's value by its name: table → {field: list}.
RECORD_LIST_FIELDS = {"opportunities": {"stage": "opportunity_stages"}, "events": {"event_type": "event_types"}}


#: What merges moved since a moment, by table: (ids the customer had then, moved away; ids brought to it since).
Moves = dict[str, tuple[list[int], set[int]]]


def _texts_after(rows: Iterable[tuple[Any, str, Any]]) -> dict[int, dict[str, Any]]:
    """{record id: {field: the old value of its first change}} from (record id, field, old value) rows in order."""
    found: dict[int, dict[str, Any]] = {}
    for record_id, field, old in rows:
        found.setdefault(int(record_id), {}).setdefault(field, old)
    return found


def _typed(record: type, field: str, text: Any) -> Any:
    """A history text as the value of a record class's field (the text itself when it cannot be read)."""
    parameter = record.param[field] if field in record.param else None  # noqa: SIM401 - param has no .get
    if parameter is None:
        return text
    try:
        value = from_text(parameter, text)
    except (ValueError, TypeError):
        return text
    if value is None and isinstance(parameter.default, str):
        return ""
    return value


class AsOfStore(Part):
    """Part of :class:`customercard.store.Store`: the customer and its records as they were on a day."""

    uses = ("activity", "admin", "crm", "customers", "followups", "invoicing", "people")
    internal = frozenset({"cutoff"})
    activity: ActivityStore
    admin: AdminStore
    crm: CrmStore
    customers: CustomerStore
    followups: FollowUpStore
    invoicing: InvoicingStore
    people: PeopleStore

    db: Backend

    # -- the customer ---------------------------------------------------------------------------------------
    def customer_as_of(self, customer_id: int, as_of: Any) -> Customer:
        """Every field of the customer as it was at the end of ``as_of`` (a date, in the firm's time zone; or a
        moment: a datetime, UTC when naive). The object has that day's version (a save from it is a conflict);
        NotFound when the customer did not exist yet."""
        cutoff = self.cutoff(as_of)
        customer = self._current_customer(int(customer_id))
        if customer.created_at is not None and customer.created_at > cutoff:
            raise NotFound(_("Customer {number} was created after {day}.").format(
                number=customer.number, day=day_text(as_of)))
        rows = self.db.rows("SELECT version, field, old_value, changed_at FROM customer_changes WHERE customer_id = "
                            "? AND changed_at > ? ORDER BY version, id", [int(customer_id), cutoff])
        # a criterion renamed since a change was written is the same criterion: its field under today's name
        rows = [(version, self.admin.segment_field_now(field, at), old, at) for version, field, old, at in rows]
        first_version = int(rows[0][0]) if rows else None
        past = _texts_after((0, field, old) for _version, field, old, _at in rows).get(0, {})
        written = _texts_after((0, field, at) for _version, field, _old, at in rows).get(0, {})
        renames = self.admin.list_renames() if any(field in CUSTOMER_LIST_FIELDS for field in past) else {}
        for field, text in past.items():
            # a list value's name when it was written is today's name of that value: renamed, it is the same value
            # (customers refer to it), not a change to compare or undo
            named = renamed_since(renames.get(CUSTOMER_LIST_FIELDS[field], []), text, written[field]) \
                if field in CUSTOMER_LIST_FIELDS and text else text
            self._put_back(customer, field, named)
        if first_version is not None:
            last = self.db.row("SELECT changed_at, changed_by FROM customer_changes WHERE customer_id = ? "
                               "AND changed_at <= ? ORDER BY version DESC, id DESC LIMIT 1", [int(customer_id), cutoff])
            at, by = last if last is not None else (customer.created_at, customer.created_by)
            customer.param.update(version=max(first_version - 1, 1), updated_at=at, updated_by=by)
        customer.apply_choices(self.admin.choices())
        customer.__dict__.pop("_stored", None)  # what was read is today's: a save from this copy reads again
        customer._as_of = cutoff
        return customer

    def _current_customer(self, customer_id: int) -> Customer:
        return self.customers.get_customer(customer_id)

    @staticmethod
    def _put_back(customer: Customer, field: str, text: Any) -> None:
        """Set one field to the text the history kept for it (a field this version does not know is left)."""
        if field == "merged_into":  # 'number name (id N)': merged into N then (a later merge pointed it on)
            found = re.search(r"\(id (\d+)\)$", str(text or ""))
            customer.merged_into = int(found.group(1)) if found else None
            return
        if field == "merged_from":
            return
        try:
            _set_field_text(customer, field, text)
        except (AttributeError, KeyError, ValueError, TypeError) as exc:
            log.warning("Customer %s: the history's value of %r (%r) cannot be read back: %s", customer.id, field,
                        text, exc)

    def diff(self, customer_id: int, date_a: Any, date_b: Any = None) -> pd.DataFrame:
        """What differs between the customer at the end of ``date_a`` and at the end of ``date_b`` (today when
        None), field by field: columns field, label, value_a, value_b (as the customer objects hold them), changed_at
        and changed_by (the last change of the field between the two)."""
        date_a = as_day_or_moment(date_a, "date_a")  # (a day that is no day: said for its argument)
        date_b = None if date_b is None else as_day_or_moment(date_b, "date_b")
        first = self.customer_as_of(customer_id, date_a)
        second = (self._current_customer(int(customer_id)) if date_b is None
                  else self.customer_as_of(customer_id, date_b))
        start, end = sorted([first._as_of, getattr(second, "_as_of", None) or dt.datetime.max])
        fields = list(COMPARED) + sorted({f"segments.{c}" for c in (*first.segments, *second.segments)})
        differing = [f for f in fields if _texts(first, f) != _texts(second, f)]
        last: dict[str, tuple[Any, Any]] = {}
        if differing:
            for field, at, by in self.db.rows(
                    "SELECT field, changed_at, changed_by FROM customer_changes WHERE customer_id = ? "
                    "AND changed_at > ? AND changed_at <= ? ORDER BY version, id", [int(customer_id), start, end]):
                last[self.admin.segment_field_now(field, at)] = (at, by)  # (a criterion renamed since: the same)
        rows = [{"field": f, "label": first.label(f) if not f.startswith("segments.") else f.split(".", 1)[1],
                 "value_a": field_value(first, f), "value_b": field_value(second, f),
                 "changed_at": last.get(f, (None, None))[0], "changed_by": last.get(f, (None, None))[1]}
                for f in differing]
        return pd.DataFrame(rows, columns=["field", "label", "value_a", "value_b", "changed_at", "changed_by"])

    def restore_as_of(self, customer_id: int, as_of: Any, fields: Iterable[str] | None = None,
                      user: str | None = None, expected_version: int | None = None) -> Customer:
        """Bring back the values the customer had at the end of ``as_of`` — of ``fields`` (all that differ when
        None) — as ONE new recorded change (kind 'restore'), validated by the model like any save (managers and
        administrators). ``expected_version``: the version the person saw today; saved since, it is a conflict and
        nothing is written."""
        login = self.admin.require(user, "write")
        past = self.customer_as_of(customer_id, as_of)
        customer = self._current_customer(int(customer_id))
        if fields is None:
            chosen = [f for f in (*COMPARED, *(f"segments.{c}" for c in {*past.segments, *customer.segments}))
                      if f not in NOT_RESTORED and _texts(past, f) != _texts(customer, f)]
        else:
            chosen = list(dict.fromkeys(fields))
        wrong = [f for f in chosen if f in NOT_RESTORED or f in Customer.HISTORY_ONLY
                 or (f not in Customer.fields and not f.startswith("segments.")) or f == "segments"]
        if wrong:
            raise ValidationError({wrong[0]: _("This field is not brought back by a restore.")}, what=_("Customer"))
        if expected_version is not None:
            customer.version = int(expected_version)
        for field in chosen:
            _set_field_text(customer, field, to_text(field_value(past, field)) if not field.startswith("segments.")
                            else (to_text(past.segments.get(field.split(".", 1)[1])) or None))
        return self.customers.save_customer(customer, user=login, kind="restore")

    # -- records as they stood ----------------------------------------------------------------------------------
    def comments_as_of(self, customer_id: int, as_of: Any, limit: int | None = None) -> pd.DataFrame:
        """The customer's comments written by the end of ``as_of``, with their text, date and author as then."""
        from .timeline import SELECT_COMMENTS

        cutoff = self.cutoff(as_of)
        owner, params = self._owner_is("comments", "c.", customer_id, self._moved_since(customer_id, cutoff))
        frame = self.db.df(SELECT_COMMENTS + f" WHERE {owner} AND c.created_at <= ? "
                           "ORDER BY c.written_on DESC, c.id DESC", [*params, cutoff])
        removed = self._removed_comments(int(customer_id), cutoff)
        if removed:  # taken away since (a bulk change's undo): there that day, as its history says
            frame = pd.concat([frame.astype(object), pd.DataFrame(removed, columns=frame.columns).astype(object)],
                              ignore_index=True)
            frame["written_on"] = [v.date() if isinstance(v, dt.datetime) else v for v in frame["written_on"]]
        past = self._record_texts("comments", frame["id"], cutoff)
        if past:
            frame = frame.astype({"body": object, "author": object, "written_on": object})
            for index, record_id in zip(frame.index, frame["id"], strict=True):
                for field, text in past.get(int(record_id), {}).items():
                    if field in ("body", "written_on", "author"):
                        frame.at[index, field] = _typed(Comment, field, text)
            frame["author_name"] = [self.admin.user_name(a) for a in frame["author"]]
            frame = frame.sort_values(["written_on", "id"], ascending=False)
        ids = sorted({int(i) for i, at in zip(frame["id"], frame["edited_at"], strict=True) if pd.notna(at)})
        later = {int(i) for (i,) in self.db.rows("SELECT id FROM comments WHERE edited_at > ? AND " + self.db.in_list(
            "id", len(ids), ids=True), [cutoff, *ids])} if ids else set()
        if later:  # edited since the day: the last edit by then, if any
            edits = self._edits_by(later, cutoff)
            frame = frame.astype({"edited_at": object, "edited_by": object})
            for index, record_id in zip(frame.index, frame["id"], strict=True):
                if int(record_id) in later:
                    frame.at[index, "edited_at"], frame.at[index, "edited_by"] = edits.get(int(record_id),
                                                                                          (None, None))
        return (frame if limit is None else frame.head(counted(limit))).reset_index(drop=True)

    def _edits_by(self, ids: Iterable[Any], cutoff: dt.datetime) -> dict[int, tuple[Any, str]]:
        """{comment id: (when, who)} of each comment's last edit by ``cutoff``."""
        wanted = sorted({int(i) for i in ids})
        found: dict[int, tuple[Any, str]] = {}
        for record_id, at, who in self.db.rows(
                "SELECT record_id, changed_at, changed_by FROM record_changes WHERE table_name = 'comments' AND "
                "kind = 'update' AND changed_at <= ? AND " + self.db.in_list("record_id", len(wanted), ids=True)
                + " ORDER BY changed_at", [cutoff, *wanted]):
            found[int(record_id)] = (at, who)
        return found

    def comment_count_as_of(self, customer_id: int, as_of: Any) -> int:
        """How many comments the customer had at the end of ``as_of``."""
        cutoff = self.cutoff(as_of)
        owner, params = self._owner_is("comments", "", customer_id, self._moved_since(customer_id, cutoff))
        return int(self.db.row(f"SELECT count(*) FROM comments WHERE {owner} AND created_at <= ?",
                               [*params, cutoff])[0]) + len(self._removed_comments(int(customer_id), cutoff))

    def _removed_comments(self, customer_id: int, cutoff: dt.datetime) -> list[dict[str, Any]]:
        """Comments of the customer written by ``cutoff`` and taken away after it (a bulk change's undo takes its
        comments away), as :data:`SELECT_COMMENTS` rows of their last values (rolled back to the day afterwards)."""
        rows = self.db.rows("SELECT record_id, field, old_value FROM record_changes WHERE table_name = 'comments' AND "
                            "kind = 'delete' AND customer_id = ? AND changed_at > ? ORDER BY id",
                            [customer_id, cutoff])
        if not rows:
            return []
        values: dict[int, dict[str, Any]] = {}
        for record_id, field, old in rows:
            values.setdefault(int(record_id), {})[field] = old
        ids = sorted(values)
        made: dict[int, tuple[Any, str]] = {}
        for record_id, at, by in self.db.rows(
                "SELECT record_id, changed_at, changed_by FROM record_changes WHERE table_name = 'comments' AND "
                "kind = 'create' AND " + self.db.in_list("record_id", len(ids), ids=True) + " ORDER BY id", ids):
            made.setdefault(int(record_id), (at, by or ""))
        found = []
        for record_id, fields in values.items():
            at, by = made.get(record_id, (None, ""))
            if at is None or at > cutoff:
                continue
            author = fields.get("author") or by
            found.append({"id": record_id, "customer_id": customer_id,
                          "written_on": _typed(Comment, "written_on", fields.get("written_on")), "author": author,
                          "author_name": self.admin.user_name(author), "body": fields.get("body") or "",
                          "kind": "comment", "recipients": None, "created_at": at, "created_by": by,
                          "edited_at": None, "edited_by": None, "version": 1})
        return found

    def contacts_as_of(self, customer_id: int, as_of: Any, include_inactive: bool = False) -> pd.DataFrame:
        """The customer's contact persons added by the end of ``as_of``, their fields (and active flag) as then."""
        cutoff = self.cutoff(as_of)
        frame = self._owned_frame("contacts", customer_id, self._moved_since(customer_id, cutoff),
                                  lambda owner: self.people.contacts(owner, include_inactive=True))
        frame = frame[pd.to_datetime(frame["created_at"]) <= cutoff].copy()
        frame = self._rolled_back(frame, "contacts", Contact, Contact.fields, cutoff)
        if not include_inactive:
            frame = frame[frame["active"].astype(bool)]
        return frame.reset_index(drop=True)

    def projects_as_of(self, customer_id: int, as_of: Any) -> pd.DataFrame:
        """The customer's projects started by ``as_of`` (or without a start), active unless they had ended."""
        day = _day_of(as_of)
        frame = self._owned_frame("projects", customer_id, self._moved_since(customer_id, self.cutoff(as_of)),
                                  self.people.projects)
        starts = pd.to_datetime(frame["start_date"])
        frame = frame[starts.isna() | (starts <= pd.Timestamp(day))].copy()
        ends = pd.to_datetime(frame["end_date"])
        frame["status"] = ["closed" if pd.notna(end) and end < pd.Timestamp(day) else
                           ("active" if pd.notna(end) else status) for end, status in zip(ends, frame["status"],
                                                                                          strict=True)]
        return frame.reset_index(drop=True)

    def events_as_of(self, customer_id: int, as_of: Any, status: str | None = None) -> pd.DataFrame:
        """The customer's events planned by the end of ``as_of``, as they stood then (title, time, status …):
        the columns of :meth:`events`."""
        checked_status(status, EVENT_STATUSES)
        cutoff = self.cutoff(as_of)
        owner, owned = self._owner_is("events", "", customer_id, self._moved_since(customer_id, cutoff))
        frame = self.db.df(
            "SELECT id, customer_id, title, event_type_id, starts_at, ends_at, owner, participants, contact_ids, "
            "description, status, status_changed_by, status_changed_at, version FROM events "
            f"WHERE {owner} AND created_at <= ?", [*owned, cutoff])
        types = self.admin.list_maps()["event_types"]["by_id"]
        frame.insert(3, "event_type", [types.get(i) for i in frame.pop("event_type_id")])
        frame.insert(2, "customer_name", self._customer_name(customer_id))
        frame = self._rolled_back(frame, "events", Event, [f for f in Event.fields if f not in ("participants",
                                                                                               "contact_ids")],
                                  cutoff)
        frame = self._reopened(frame, "events", "planned", cutoff)
        frame["owner_name"] = [self.admin.user_name(o) for o in frame["owner"]]
        if status:
            frame = frame[frame["status"] == status]
        return frame.sort_values(["starts_at", "id"], ascending=[False, True]).reset_index(drop=True)

    def opportunities_as_of(self, customer_id: int, as_of: Any, status: str | None = None) -> pd.DataFrame:
        """The customer's opportunities made by the end of ``as_of``, as they stood then (stage, amount, status
        …), with their weighted and base-currency amounts: the columns of :meth:`opportunities`."""
        checked_status(status, OPPORTUNITY_STATUSES)
        cutoff = self.cutoff(as_of)
        owner, owned = self._owner_is("opportunities", "", customer_id, self._moved_since(customer_id, cutoff))
        frame = self.db.df(
            "SELECT id, customer_id, title, CAST(amount AS DOUBLE PRECISION) AS amount, currency, probability, "
            "stage_id, expected_close, owner, status, lost_reason, status_changed_by, status_changed_at, version "
            f"FROM opportunities WHERE {owner} AND created_at <= ? ORDER BY expected_close NULLS LAST, id",
            [*owned, cutoff])
        stages = self.admin.list_maps()["opportunity_stages"]["by_id"]
        frame.insert(6, "stage", [stages.get(i) for i in frame.pop("stage_id")])
        name, number = self.crm.customer_names([int(customer_id)]).get(int(customer_id), (None, None))
        frame.insert(2, "customer_name", name)
        frame.insert(3, "customer_number", number)
        frame = self._rolled_back(frame, "opportunities", Opportunity, Opportunity.fields, cutoff)
        frame = self._reopened(frame, "opportunities", "pipeline", cutoff)
        frame["amount"] = frame["amount"].astype("float64")
        frame["probability"] = frame["probability"].astype("float64")
        positions = {label: position for label, position in self.db.rows(
            "SELECT label, position FROM list_values WHERE list_name = 'opportunity_stages'")}
        frame["stage_position"] = frame["stage"].map(positions)
        frame["owner_name"] = [self.admin.user_name(o) for o in frame["owner"]]
        frame["weighted"] = (frame["amount"] * frame["probability"] / 100.0).round(2)
        rate = frame["currency"].map(self._rates()).astype("float64").fillna(1.0)
        frame["amount_base"] = (frame["amount"] * rate).round(2)
        frame["weighted_base"] = (frame["weighted"] * rate).round(2)
        if status:
            frame = frame[frame["status"] == status]
        return frame.reset_index(drop=True)

    def follow_ups_as_of(self, customer_id: int, as_of: Any, open_only: bool = False) -> pd.DataFrame:
        """The customer's follow-ups made by the end of ``as_of``, as they stood then (what, due day, owner, links,
        done or not — who marked it done and when only if it was done by then), overdue as counted that day, in the
        order of :meth:`follow_ups`: its columns (the names are today's)."""
        cutoff = self.cutoff(as_of)
        day = _day_of(as_of)
        moves = self._moved_since(customer_id, cutoff)
        owner, owned = self._owner_is("follow_ups", "", customer_id, moves)
        made = {int(i) for (i,) in self.db.rows(f"SELECT id FROM follow_ups WHERE {owner} AND created_at <= ?",
                                                [*owned, cutoff])}
        frame = self._owned_frame("follow_ups", customer_id, moves,
                                  lambda holder: self.followups.follow_ups(customer_id=holder))
        frame = frame[frame["id"].astype(int).isin(made)]
        if frame.empty:
            return frame.reset_index(drop=True)
        frame = self._rolled_back(frame, "follow_ups", FollowUp, FollowUp.fields, cutoff)
        frame["done"] = frame["done"].astype(bool)
        done_then = frame["done"] & (pd.to_datetime(frame["done_at"]) <= pd.Timestamp(cutoff))
        frame["done_by"] = frame["done_by"].where(done_then, "")
        frame["done_at"] = frame["done_at"].where(done_then, None)  # (as follow_ups says "not done")
        frame["done"] = done_then
        due = [pd.Timestamp(d).date() if pd.notna(d) else None for d in frame["due_on"]]
        frame["due_on"] = due
        frame["overdue"] = [bool(not done and d is not None and d < day) for done, d in zip(frame["done"], due,
                                                                                            strict=True)]
        for column in ("contact_id", "opportunity_id"):
            frame[column] = frame[column].astype("Int64")
        frame["owner_name"] = [self.admin.user_name(o) for o in frame["owner"]]
        frame = frame.assign(_open_due=[d if not done else None for d, done in zip(due, frame["done"], strict=True)])
        if open_only:
            frame = frame[~frame["done"]]
        frame = frame.sort_values(["done", "_open_due", "done_at", "id"], ascending=[True, True, False, True],
                                  na_position="last", kind="stable")
        return frame.drop(columns="_open_due").reset_index(drop=True)

    def _customer_name(self, customer_id: int) -> str | None:
        return self.crm.customer_names([int(customer_id)]).get(int(customer_id), (None, None))[0]

    def pipeline_per_year_as_of(self, customer_id: int, as_of: Any) -> pd.DataFrame:
        """The open pipeline as it stood at the end of ``as_of``, by expected close year (as
        :meth:`pipeline_per_year`): read lean, without the opportunities' frame."""
        cutoff = self.cutoff(as_of)
        owner, owned = self._owner_is("opportunities", "", customer_id, self._moved_since(customer_id, cutoff))
        rows = {int(r[0]): list(r[1:]) for r in self.db.rows(
            "SELECT id, CAST(amount AS DOUBLE PRECISION), currency, probability, expected_close, status, "
            f"status_changed_at FROM opportunities WHERE {owner} AND created_at <= ?", [*owned, cutoff])}
        fields = {"amount": 0, "currency": 1, "probability": 2, "expected_close": 3, "status": 4}
        past = self._record_texts("opportunities", rows, cutoff)
        for record_id, texts in past.items():
            for field, text in texts.items():
                if field in fields:
                    rows[record_id][fields[field]] = _typed(Opportunity, field, text)
        closed_later = [i for i, r in rows.items() if r[4] != "pipeline" and r[5] is not None and r[5] > cutoff
                        and "status" not in past.get(i, {})]
        if closed_later:  # closed since without a history of its status (an import, the demo): open then
            recorded = {int(r) for (r,) in self.db.rows(
                "SELECT DISTINCT record_id FROM record_changes WHERE table_name = 'opportunities' AND field = 'status' "
                "AND " + self.db.in_list("record_id", len(closed_later), ids=True), closed_later)}
            for record_id in closed_later:
                if record_id not in recorded:
                    rows[record_id][4] = "pipeline"
        rates = self._rates()
        totals: dict[int, float] = {}
        for amount, currency, probability, close, status, _at in rows.values():
            if status != "pipeline":
                continue
            year = close.year if close is not None else cutoff.year
            weighted = round(float(amount or 0) * float(probability or 0) / 100.0, 2)
            totals[year] = totals.get(year, 0.0) + weighted * float(rates.get(currency, 1.0))
        return pd.DataFrame({"year": sorted(totals), "weighted": [round(totals[y], 2) for y in sorted(totals)]},
                            columns=["year", "weighted"])

    def _rates(self) -> dict[str, float]:
        """{currency: value in the base currency} from the settings (cached per change of them)."""
        return self.admin.cached("asof_rates", lambda: self.admin.settings().rates())

    def relations_as_of(self, customer_id: int, as_of: Any) -> pd.DataFrame:
        """The customer's relations (both ways) made by the end of ``as_of``, and those removed since."""
        cutoff = self.cutoff(as_of)
        moves = self._moved_since(customer_id, cutoff)
        frame = self._owned_frame("relations", customer_id, moves, self.crm.relations)  # its own, moved by a merge
        mine = frame  # and those pointing at it, pointed elsewhere by a merge
        frame = self._owned_frame("relations.other", customer_id, moves,
                                  lambda holder: mine if holder == customer_id else self.crm.relations(holder),
                                  holder="other_customer_id")
        frame = frame[frame["created_at"] <= cutoff]
        removed = self._removed_relations(int(customer_id), cutoff)
        if removed:
            frame = pd.concat([frame, pd.DataFrame(removed, columns=frame.columns)], ignore_index=True)
            frame["other_number"] = frame["other_number"].astype("Int64")
        return frame.sort_values("id").reset_index(drop=True)

    def files_as_of(self, customer_id: int, as_of: Any) -> pd.DataFrame:
        """The customer's files at the end of ``as_of``: uploaded by then and not yet deleted."""
        cutoff = self.cutoff(as_of)
        owner, owned = self._owner_is("files", "f.", customer_id, self._moved_since(customer_id, cutoff))
        return self.db.df(
            "SELECT f.id, f.name, f.size, f.content_type, f.uploaded_at, f.uploaded_by, "
            "coalesce(u.name, f.uploaded_by) AS uploaded_by_name, f.content_hash FROM files f "
            f"LEFT JOIN users u ON u.login = f.uploaded_by WHERE {owner} AND f.uploaded_at <= ? "
            "AND (f.deleted_at IS NULL OR f.deleted_at > ?) ORDER BY f.uploaded_at DESC, f.id DESC",
            [*owned, cutoff, cutoff])

    def timeline_as_of(self, customer_id: int, as_of: Any, **options: Any) -> pd.DataFrame:
        """The customer's timeline as it read at the end of ``as_of`` (``options`` as :meth:`timeline`'s, its
        ``until`` that day): what a merge moved since to another customer is told here, where it was then, and what
        a merge brought since is not (as :meth:`comments_as_of` and the others keep them)."""
        options["until"] = as_of
        cutoff = self.cutoff(as_of)
        if options.get("contact_id") is not None:
            return self._timeline_then(self.activity.timeline(customer_id, **options), cutoff)
        moves = self._moved_since(int(customer_id), cutoff)
        if not moves:
            return self._timeline_then(self.activity.timeline(customer_id, **options), cutoff)
        limit = max(1, min(int(options.get("limit") or 50), MAX_PAGE))
        # (a relation another customer made to the merged-away one is moved as "relations.other": its other end)
        came = {(table.split(".")[0], int(i)) for table, (_went, brought) in moves.items() for i in brought}
        went = {table: sorted(ids) for table, (ids, _brought) in moves.items() if ids}
        # its own entries without those a merge brought since: read on until a page's worth are left (a busy
        # duplicate's entries may fill a whole page, and more)
        frames = [self._timeline_kept(int(customer_id), options, limit, limit, lambda table, ref: (table, ref)
                                      not in came)]
        holders: set[int] = set()
        for table, ids in went.items():  # where those records are today (a later merge may have moved them on)
            name, _dot, side = table.partition(".")
            column = "other_customer_id" if side == "other" else "customer_id"
            holders |= {int(owner) for (owner,) in self.db.rows(
                f"SELECT DISTINCT {column} FROM {name} WHERE "  # names merge_moves holds (ours, never input)
                + self.db.in_list("id", len(ids), ids=True), ids) if owner is not None}
        wanted = {(table.split(".")[0], int(i)) for table, ids in went.items() for i in ids}
        for holder in sorted(holders - {int(customer_id)}):  # the moved entries among theirs, however far back
            frames.append(self._timeline_kept(holder, options, MAX_PAGE, limit,
                                              lambda table, ref: (table, ref) in wanted))
        empty = frames[0].iloc[0:0]
        frames = [f for f in frames if not f.empty] or [empty]
        joined = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0].reset_index(drop=True)
        order = joined["cursor"].map(_cursor_key)
        return self._timeline_then(joined.iloc[sorted(range(len(joined)), key=lambda i: order.iloc[i],
                                                      reverse=True)[:limit]].reset_index(drop=True), cutoff)

    def _timeline_then(self, frame: pd.DataFrame, cutoff: dt.datetime) -> pd.DataFrame:
        """Timeline entries as they read at ``cutoff``: each record's text and status put back from its history
        (a comment rewritten, an event renamed or cancelled since), and an event recorded after it left out (its
        entry stands at when it starts, which may be before the day)."""
        if frame.empty:
            return frame
        events = frame["ref_table"].eq("events") & frame["action"].isin(EVENT_STATUSES)
        if events.any():
            ids = sorted({int(i) for i in frame.loc[events, "ref_id"]})
            later = {int(i) for (i,) in self.db.rows("SELECT id FROM events WHERE created_at > ? AND "
                                                     + self.db.in_list("id", len(ids), ids=True), [cutoff, *ids])}
            if later:
                frame = frame[~(events & frame["ref_id"].map(lambda ref: int(ref) in later))].reset_index(drop=True)
        frame = frame.copy()
        for table, shown in TOLD_THEN.items():
            rows = frame.index[frame["ref_table"].eq(table)]
            past = self._record_texts(table, frame.loc[rows, "ref_id"], cutoff) if len(rows) else {}
            for index in rows:
                then = past.get(int(frame.at[index, "ref_id"]))
                if not then:
                    continue
                for field, (column, actions) in shown.items():
                    if field in then and (actions is None or frame.at[index, "action"] in actions):
                        frame[column] = frame[column].astype(object)
                        frame.at[index, column] = then[field] if then[field] is not None else ""
        return frame

    def _timeline_kept(self, customer_id: int, options: dict[str, Any], page: int, enough: int,
                       keep: Callable[[str, int], bool]) -> pd.DataFrame:
        """The entries of the customer's timeline (``options`` as :meth:`timeline`'s) that ``keep(ref_table,
        ref_id)`` keeps, read ``page`` at a time from ``options``' place on, until ``enough`` are kept or the
        timeline ends."""
        found, kept, before = [], 0, options.get("before")
        while True:
            frame = self.activity.timeline(customer_id, **{**options, "limit": page, "before": before})
            chosen = frame[[keep(table, int(ref)) for table, ref in zip(frame["ref_table"], frame["ref_id"],
                                                                         strict=True)]]
            found.append(chosen)
            kept += len(chosen)
            if len(frame) < page or kept >= enough:
                break
            before = frame["cursor"].iloc[-1]
        return pd.concat(found, ignore_index=True) if len(found) > 1 else found[0]

    def invoiced_per_year_as_of(self, customer_id: int, as_of: Any) -> pd.DataFrame:
        """Invoiced per year up to ``as_of`` (its year only up to that day): columns year, amount."""
        day = _day_of(as_of)
        found = {int(y): round(float(a), 2) for y, a in self.db.rows(
            "SELECT year, amount FROM invoiced_yearly WHERE customer_id = ? AND year < ?",
            [int(customer_id), day.year])}
        moves = self._moved_since(customer_id, self.cutoff(as_of))
        back, away = moves.get("invoices", ([], set()))
        for ids, sign in ((back, 1.0), (sorted(away), -1.0)):  # what a merge since moved, by the year it was in
            for year, amount in self.db.rows(
                    "SELECT CAST(extract(year FROM invoice_date) AS INTEGER), sum(amount_base) FROM invoices WHERE "
                    + self.db.in_list("id", len(ids), ids=True) + " AND invoice_date < ? GROUP BY 1",
                    [*ids, dt.date(day.year, 1, 1)]) if ids else []:
                found[int(year)] = round(found.get(int(year), 0.0) + sign * float(amount), 2)
                if sign < 0 and not found[int(year)]:  # a year only the other customer's invoices made
                    del found[int(year)]
        owner, owned = self._owner_is("invoices", "", customer_id, moves)
        partial = self.db.row(f"SELECT sum(amount_base) FROM invoices WHERE {owner} AND invoice_date >= ? "
                              "AND invoice_date <= ?", [*owned, dt.date(day.year, 1, 1), day])
        if partial and partial[0] is not None:
            found[day.year] = round(float(partial[0]), 2)
        years = range(min(found), max(found) + 1) if found else []
        return pd.DataFrame({"year": pd.Series(list(years), dtype="int64"),
                             "amount": pd.Series([found.get(y, 0.0) for y in years], dtype="float64")})

    def invoices_as_of(self, customer_id: int, as_of: Any, year: int | None = None,
                       project: int | None = None) -> pd.DataFrame:
        """The customer's invoices as they stood at the end of ``as_of`` (as :meth:`invoices`): those dated by
        then, without what a merge since brought and with what it moved away — each year's ``amount_base`` adds up
        to its bar in :meth:`invoiced_per_year_as_of`."""
        customer_id = int(customer_id)
        moves = self._moved_since(customer_id, self.cutoff(as_of))
        frame = self._owned_frame("invoices", customer_id, moves,
                                  lambda holder: self.invoicing.invoices(holder, year=year, project=project))
        if moves.get("invoices"):  # (newest first, as ever)
            frame = frame.sort_values(["invoice_date", "id"], ascending=False)
        day = _day_of(as_of)
        return frame[pd.to_datetime(frame["invoice_date"]) <= pd.Timestamp(day)].reset_index(drop=True)

    # -- shared -------------------------------------------------------------------------------------------------
    def _moved_since(self, customer_id: int, cutoff: dt.datetime) -> Moves:
        """{table: (ids the customer had at ``cutoff`` that a merge since moved away, ids a merge since brought
        it)} — empty when no merge touched the customer since (the common case: one small indexed read)."""
        rows = self.db.rows("SELECT table_name, record_id, from_customer, to_customer FROM merge_moves WHERE "
                            "moved_at > ? AND (from_customer = ? OR to_customer = ?)",
                            [cutoff, int(customer_id), int(customer_id)])
        out: dict[str, set[int]] = {}
        came: dict[str, set[int]] = {}
        for table, record_id, moved_from, moved_to in rows:
            if int(moved_from) == int(customer_id):
                out.setdefault(table, set()).add(int(record_id))
            if int(moved_to) == int(customer_id):
                came.setdefault(table, set()).add(int(record_id))
        # a row that came and went again since (two merges) was neither's then; one that went and came back, ours
        return {table: (sorted(out.get(table, set()) - came.get(table, set())),
                        came.get(table, set()) - out.get(table, set())) for table in {*out, *came}}

    def _owner_is(self, table: str, prefix: str, customer_id: int, moves: Moves) -> tuple[str, list[Any]]:
        """SQL (and its parameters) for "the row was the customer's then" on ``table`` (``prefix``: its alias and a
        dot, or ''): today's owner, save for what a merge moved since (``moves``: :meth:`_moved_since`)."""
        back, away = moves.get(table, ([], set()))
        sql, params = f"{prefix}customer_id = ?", [int(customer_id)]
        if away:
            sql = f"({sql} AND NOT {self.db.in_list(prefix + 'id', len(away), ids=True)})"
            params += sorted(away)
        if back:
            sql = f"({sql} OR {self.db.in_list(prefix + 'id', len(back), ids=True)})"
            params += back
        return sql, params

    def _owned_frame(self, table: str, customer_id: int, moves: Moves,
                     read: Callable[[int], pd.DataFrame], holder: str = "customer_id") -> pd.DataFrame:
        """``read(customer_id)`` (a frame of the customer's rows today, with an ``id`` column) as the customer's
        rows were then: without those a merge since brought, with those it moved away (``moves``:
        :meth:`_moved_since`; read where they are now: at the customer their column ``holder`` names; ``table``
        'relations.other' is the relations a merge pointed at another customer)."""
        frame = read(customer_id)
        back, away = moves.get(table, ([], set()))
        if away:
            frame = frame[~frame["id"].astype(int).isin(away)]
        if back:
            holders = [int(c) for (c,) in self.db.rows(
                f"SELECT DISTINCT {holder} FROM {table.split('.', maxsplit=1)[0]} WHERE "  # constant names
                + self.db.in_list("id", len(back), ids=True), back) if c is not None]
            found = [held[held["id"].astype(int).isin(back)] for held in (read(c) for c in holders)]
            frame = pd.concat([frame, *found], ignore_index=True) if found else frame
            if "customer_id" in frame.columns:
                frame = frame.assign(customer_id=int(customer_id))
        return frame

    def cutoff(self, as_of: Any) -> dt.datetime:
        moment = as_day_or_moment(as_of)
        return day_end(moment, self.activity.firm_setting("time_zone"))

    def _record_texts(self, table: str, ids: Iterable[Any], cutoff: dt.datetime) -> dict[int, dict[str, Any]]:
        """{record id: {field: its value at ``cutoff``, as history text}} for the fields changed after it."""
        wanted = sorted({int(i) for i in ids})
        if not wanted:
            return {}
        return _texts_after(self.db.rows(
            "SELECT record_id, field, old_value FROM record_changes WHERE table_name = ? AND changed_at > ? AND "
            + self.db.in_list("record_id", len(wanted), ids=True) + " ORDER BY id", [table, cutoff, *wanted]))

    def _rolled_back(self, frame: pd.DataFrame, table: str, record: type, fields: Iterable[str],
                     cutoff: dt.datetime) -> pd.DataFrame:
        """``frame`` (one row per record, columns named as the record's fields) with the fields changed since
        ``cutoff`` put back as they were."""
        frame = frame.copy()
        past = self._record_texts(table, frame["id"], cutoff)
        allowed = set(fields)
        lists = RECORD_LIST_FIELDS.get(table, {})
        renames = self.admin.list_renames() if lists and past else {}
        for index, record_id in zip(frame.index, frame["id"], strict=True):
            for field, text in past.get(int(record_id), {}).items():
                if field in allowed and field in frame.columns:
                    # a renamed stage or event type is the same value: today's name (renames since the day)
                    named = renamed_since(renames.get(lists[field], []), text, cutoff) \
                        if field in lists and text else text
                    value = _typed(record, field, named)
                    if field in ("participants", "contact_ids"):
                        value = json.dumps(value)
                    frame[field] = frame[field].astype(object)
                    frame.at[index, field] = value
        return frame

    def _reopened(self, frame: pd.DataFrame, table: str, first: str, cutoff: dt.datetime) -> pd.DataFrame:
        """Records closed after ``cutoff`` by an import or the demo (no history of their status) were still
        ``first`` (planned, or in the pipeline) then."""
        if frame.empty:
            return frame
        recorded = {int(r) for (r,) in self.db.rows(
            f"SELECT DISTINCT record_id FROM record_changes WHERE table_name = '{table}' AND field = 'status' AND "
            + self.db.in_list("record_id", len(frame), ids=True), [int(i) for i in frame["id"]])}
        changed = pd.to_datetime(frame["status_changed_at"])
        late = (changed > cutoff) & ~frame["id"].astype(int).isin(recorded) & (frame["status"] != first)
        frame.loc[late, "status"] = first
        return frame

    def _removed_relations(self, customer_id: int, cutoff: dt.datetime) -> list[dict[str, Any]]:
        """Relations of the customer removed after ``cutoff`` that were made by then, as :meth:`relations` rows."""
        rows = self.db.rows(
            "SELECT r.record_id, r.customer_id, r.field, r.old_value FROM record_changes r WHERE r.table_name = "
            "'relations' AND r.kind = 'delete' AND r.changed_at > ? AND r.record_id IN (SELECT d.record_id FROM "
            "record_changes d WHERE d.table_name = 'relations' AND d.kind = 'delete' AND (d.customer_id = ? OR "
            "(d.field = 'other_customer_id' AND d.old_value = CAST(? AS VARCHAR)))) ORDER BY r.id",
            [cutoff, customer_id, customer_id])
        if not rows:
            return []
        values: dict[int, dict[str, Any]] = {}
        for record_id, owner_id, field, old in rows:
            values.setdefault(int(record_id), {"customer_id": owner_id})[field] = old
        ids = sorted(values)
        made, makers = {}, {}  # when each was made, and by whom (its history's first entry)
        for record_id, at, by in self.db.rows(
                "SELECT record_id, changed_at, changed_by FROM record_changes WHERE table_name = 'relations' AND "
                "kind = 'create' AND " + self.db.in_list("record_id", len(ids), ids=True) + " ORDER BY id", ids):
            made.setdefault(int(record_id), at)
            makers.setdefault(int(record_id), by or "")
        types = self.admin.list_maps()["relation_types"]
        found = []
        for record_id, fields in values.items():
            created = made.get(record_id)
            if created is not None and created > cutoff:
                continue
            owner = int(fields["customer_id"]) if fields.get("customer_id") is not None else customer_id
            other_customer = int(fields["other_customer_id"]) if fields.get("other_customer_id") else None
            other_contact = int(fields["other_contact_id"]) if fields.get("other_contact_id") else None
            outgoing = owner == customer_id
            relation_type = fields.get("relation_type")
            if outgoing and other_contact is not None:
                kind, other_id = "contact", other_contact
                try:
                    other_name = self.people.get_contact(other_contact).full_name
                except NotFound:
                    other_name = ""
                number = None
            else:
                kind, other_id = "customer", (other_customer if outgoing else owner)
                other_name, number = self.crm.customer_names([other_id] if other_id else []).get(other_id, (None, None))
            label = relation_type if outgoing else types["inverse"].get(relation_type, relation_type)
            found.append({"id": record_id, "label": label, "relation_type": relation_type, "other_kind": kind,
                          "other_id": other_id, "other_name": other_name, "other_number": number,
                          "note": fields.get("note") or "", "direction": "out" if outgoing else "in",
                          "created_at": created, "created_by": makers.get(record_id, "")})
        return found


def _texts(customer: Customer, field: str) -> str | None:
    """A customer's field as history text (segments in a fixed order; none chosen as None)."""
    if field.startswith("segments."):
        values = customer.segments.get(field.split(".", 1)[1]) or []
        return to_text(sorted(values)) if values else None
    try:
        return to_text(customer.get(field))
    except AttributeError:
        return None


class AdminAsOfDay(AdminStore):
    """The admin part of a store read as of a day: today's lists, users and cache; every write refused."""

    def __init__(self, today: AdminStore, day: dt.date | dt.datetime) -> None:
        super().__init__(today.db, cache=today.cache_store)
        self.day = day

    def _permitted(self, user: str | None, need: str) -> str:
        if need in ("write", "admin"):
            raise PermissionDenied(_("This is the card as it was on {day}: it is read only.").format(
                day=day_text(self.day)))
        return super()._permitted(user, need)



class AsOfDayReads:
    """The reads of a store as of a day (:meth:`Store.as_of`, and a remote store's): each of the card's reads of a
    customer answered by its ``…_as_of`` method for :attr:`day`; reads of all customers (``customer_id`` None)
    are today's (:meth:`_today` gives the store's own method)."""

    day: Any
    base: Any

    def _today(self, name: str) -> Any:
        """The store's own (today's) method ``name``: the store this one reads as of a day."""
        return getattr(self.base, name)

    def get_customer(self, customer_id: int, as_of: Any = None) -> Customer:
        return self._today("get_customer")(customer_id, as_of=self.day if as_of is None else as_of)

    def comments(self, customer_id: int, limit: int | None = None) -> pd.DataFrame:
        return self.comments_as_of(customer_id, self.day, limit=limit)

    def comment_count(self, customer_id: int) -> int:
        return self.comment_count_as_of(customer_id, self.day)

    def comments_with_count(self, customer_id: int, limit: int | None = None) -> tuple[pd.DataFrame, int]:
        return self.comments(customer_id, limit=limit), self.comment_count(customer_id)

    def contacts(self, customer_id: int, include_inactive: bool = False) -> pd.DataFrame:
        return self.contacts_as_of(customer_id, self.day, include_inactive=include_inactive)

    def projects(self, customer_id: int) -> pd.DataFrame:
        return self.projects_as_of(customer_id, self.day)

    def events(self, customer_id: int | None = None, status: str | None = None) -> pd.DataFrame:
        if customer_id is None:
            return self._today("events")(None, status)
        return self.events_as_of(customer_id, self.day, status=status)

    def opportunities(self, customer_id: int | None = None, status: str | None = None) -> pd.DataFrame:
        if customer_id is None:
            return self._today("opportunities")(None, status)
        return self.opportunities_as_of(customer_id, self.day, status=status)

    def pipeline_per_year(self, customer_id: int) -> pd.DataFrame:
        return self.pipeline_per_year_as_of(customer_id, self.day)

    def follow_ups(self, customer_id: int | None = None, owner: str | None = None, open_only: bool = False,
                   **options: Any) -> pd.DataFrame:
        """A customer's follow-ups as they stood (the card's section); any other list (the home page's, the
        reminder's, a contact person's) is today's."""
        if customer_id is None or owner is not None or any(v is not None for v in options.values()):
            return self._today("follow_ups")(customer_id, owner=owner, open_only=open_only, **options)
        return self.follow_ups_as_of(customer_id, self.day, open_only=open_only)

    def relations(self, customer_id: int) -> pd.DataFrame:
        return self.relations_as_of(customer_id, self.day)

    def files(self, customer_id: int) -> pd.DataFrame:
        return self.files_as_of(customer_id, self.day)

    def invoiced_per_year(self, customer_id: int | None = None, fill_gaps: bool = True) -> pd.DataFrame:
        if customer_id is None:
            return self._today("invoiced_per_year")(None, fill_gaps)
        return self.invoiced_per_year_as_of(customer_id, self.day)

    def timeline(self, customer_id: int, **options: Any) -> pd.DataFrame:
        return self.timeline_as_of(customer_id, self.day, **options)

    def outbox_counts(self, customer_id: int | None = None) -> dict[str, int]:
        """None waiting to be sent, none failed: the economy system's deliveries are today's, not the day's (the
        card as of a day shows no Deliveries line)."""
        return dict.fromkeys(self._today("outbox_counts")(customer_id), 0)


def _cursor_key(cursor: str) -> tuple[str, int, int]:
    """A timeline entry's place (its ``cursor``: moment, part, row) as it sorts."""
    at, src, seq = [*str(cursor).split("|"), "0", "0"][:3]
    return at, int(src or 0), int(seq or 0)


def _day_of(as_of: Any) -> dt.date:
    """The day ``as_of`` names (a moment's day: as the store keeps it, UTC)."""
    found = as_day_or_moment(as_of)
    return found.date() if isinstance(found, dt.datetime) else found


def day_text(as_of: Any) -> str:
    """A day (or a moment's day) as the reader writes dates."""
    from .. import formatting

    return formatting.date(_day_of(as_of))


__all__ = ["COMPARED", "NOT_RESTORED", "AdminAsOfDay", "AsOfStore", "day_text"]
