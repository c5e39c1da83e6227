"""The customer's whole story as one timeline: comments, e-mails, events, opportunities, files, contact persons,
relations, merges and field changes, newest first, read from the tables themselves and from the history
(``customer_changes`` and ``record_changes``) — the demo's and an import's rows have no history of their own.

One query: a ``UNION ALL`` of one small ``SELECT`` per kind of entry, each reading one customer's rows by key,
filtered (kinds, person, text, dates) and paged by a keyset — ``(at, src, seq)``, handed back as an opaque
``cursor`` — so the 50th page costs what the first does. A save that changed several fields is one entry.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import formatting
from ..errors import NotFound, ValidationError
from ..i18n import N_, _
from ..models import Settings
from .backend import Backend, counted
from .part import Part
from .privacy import SHORTEST_NEEDLE

if TYPE_CHECKING:
    from .admin import AdminStore
    from .customers import CustomerStore
    from .people import PeopleStore

#: The kinds of entry, as the filters offer them (value → label).
TIMELINE_KINDS: dict[str, str] = {
    "comment": N_("Comments"), "email": N_("E-mails"), "event": N_("Events"), "opportunity": N_("Opportunities"),
    "file": N_("Files"), "contact": N_("Contact persons"), "relation": N_("Relations"), "merge": N_("Merges"),
    "change": N_("Field changes"), "follow-up": N_("Follow-ups"),
}
#: The columns of a timeline frame.
TIMELINE_COLUMNS = ["at", "kind", "action", "who", "title", "detail", "old_value", "new_value", "people",
                    "ref_table", "ref_id", "cursor", "changes"]
#: At most this many entries a page.
MAX_PAGE = 500

_COLUMNS = "moment, src, seq, kind, action, who, people, title, detail, old_value, new_value, ref_table, ref_id"
_NONE = "CAST(NULL AS VARCHAR)"


def _follow_up_as_created(field: str) -> str:
    """A follow-up's ``field`` as it was when the follow-up was added (its history's creation), else as it is."""
    return (f"coalesce((SELECT min(c.new_value) FROM record_changes c WHERE c.table_name = 'follow_ups' AND "
            f"c.record_id = f.id AND c.kind = 'create' AND c.field = '{field}'), CAST(f.{field} AS VARCHAR))")


def _follow_ups_added(key: str) -> str:
    """A follow-up's addition: for whom, what it said and when it was due then (edited or given to someone else
    since: entries of their own)."""
    return (f"SELECT f.created_at, 13, f.id, 'follow-up', 'added', f.created_by, '[\"' || "
            f"{_follow_up_as_created('owner')} || '\"]', {_follow_up_as_created('what')}, "
            f"{_follow_up_as_created('due_on')}, {_NONE}, {_NONE}, 'follow_ups', f.id FROM follow_ups f "
            f"WHERE {key} = ?")


def _follow_ups_marked(key: str) -> str:
    """Each time a follow-up was marked done, or open again, as its history keeps it: by whom and when (what it
    said and when it was due then: see :meth:`ActivityStore._follow_ups_then`)."""
    return ("SELECT r.changed_at, 15, r.id, 'follow-up', CASE WHEN r.new_value = 'true' THEN 'done' ELSE 'reopened' "
            "END, r.changed_by, '[\"' || f.owner || '\"]', f.what, CAST(f.due_on AS VARCHAR), "
            f"{_NONE}, {_NONE}, 'follow_ups', f.id FROM follow_ups f JOIN record_changes r ON r.table_name = "
            f"'follow_ups' AND r.record_id = f.id WHERE {key} = ? AND r.kind = 'update' AND r.field = 'done'")


def _follow_ups_done(key: str) -> str:
    """A follow-up done without a mark in its history (added as done): when, by whom, as its row says."""
    return ("SELECT f.done_at, 14, f.id, 'follow-up', 'done', f.done_by, '[\"' || f.owner || '\"]', f.what, "
            f"CAST(f.due_on AS VARCHAR), {_NONE}, {_NONE}, 'follow_ups', f.id FROM follow_ups f WHERE {key} = ? "
            "AND f.done AND f.done_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM record_changes r WHERE "
            "r.table_name = 'follow_ups' AND r.record_id = f.id AND r.kind = 'update' AND r.field = 'done')")


# One SELECT per kind of entry; each takes the customer's id (as many times as it has '?'). Every one gives the
# columns of _COLUMNS, in that order. A save's fields, old and new values travel in ``detail`` as
# field US old US new, RS between them (the ASCII unit and record separators; STX for a missing value): one query.
_SAVED = ("string_agg(h.field || chr(31) || coalesce(h.old_value, chr(2)) || chr(31) || coalesce(h.new_value, chr(2)), "
          "chr(30) ORDER BY h.id)")
CUSTOMER_PARTS: dict[str, str] = {
    "comments": (
        "SELECT c.created_at, 1, c.id, CASE WHEN c.kind = 'email' THEN 'email' ELSE 'comment' END, 'written', "
        f"c.author, c.recipients, c.body, CAST(c.written_on AS VARCHAR), {_NONE}, {_NONE}, 'comments', c.id "
        "FROM comments c WHERE c.customer_id = ?"),
    # a comment taken away since it was written (the undo of the bulk change that added it): its writing, as its
    # history keeps it (the row is gone); marked 'removed' so that nothing offers to open it
    "comments gone": (
        "SELECT c.changed_at, 1, c.record_id, 'comment', 'written', coalesce(a.old_value, c.changed_by), '', "
        f"d.old_value, w.old_value, {_NONE}, 'removed', 'comments', c.record_id FROM record_changes d "
        "JOIN record_changes c ON c.table_name = 'comments' AND c.record_id = d.record_id AND c.kind = 'create' "
        "AND c.field = 'body' LEFT JOIN record_changes a ON a.table_name = 'comments' AND a.record_id = d.record_id "
        "AND a.kind = 'delete' AND a.field = 'author' LEFT JOIN record_changes w ON w.table_name = 'comments' AND "
        "w.record_id = d.record_id AND w.kind = 'delete' AND w.field = 'written_on' "
        "WHERE d.table_name = 'comments' AND d.kind = 'delete' AND d.field = 'body' AND d.customer_id = ?"),
    "events": (
        "SELECT e.starts_at, 2, e.id, 'event', e.status, e.owner, e.participants, e.title, coalesce(t.label, ''), "
        f"{_NONE}, {_NONE}, 'events', e.id FROM events e LEFT JOIN list_values t ON t.id = e.event_type_id "
        "WHERE e.customer_id = ?"),
    "opportunities created": (
        "SELECT o.created_at, 3, o.id, 'opportunity', 'created', o.created_by, '', o.title, "
        f"CAST(o.amount AS VARCHAR) || ' ' || o.currency, {_NONE}, {_NONE}, 'opportunities', o.id "
        "FROM opportunities o WHERE o.customer_id = ?"),
    # won or lost when it was made (by an import, the demo, or made won): the row says when, also after later saves
    # of other fields; a closure made by a save is in the history (below), at the row's moment
    "opportunities closed": (
        "SELECT o.status_changed_at, 4, o.id, 'opportunity', o.status, o.status_changed_by, '', o.title, "
        f"o.lost_reason, {_NONE}, o.status, 'opportunities', o.id FROM opportunities o WHERE o.customer_id = ? "
        "AND o.status <> 'pipeline' AND o.status_changed_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
        "record_changes r WHERE r.table_name = 'opportunities' AND "
        "r.record_id = o.id AND r.field = 'status' AND r.kind <> 'create' AND r.changed_at = o.status_changed_at)"),
    "contacts added": (
        "SELECT k.created_at, 6, k.id, 'contact', 'added', k.created_by, '', trim(k.first_name || ' ' || k.last_name), "
        f"k.title, {_NONE}, {_NONE}, 'contacts', k.id FROM contacts k WHERE k.customer_id = ?"),
    "files added": (
        "SELECT f.uploaded_at, 8, f.id, 'file', 'added', f.uploaded_by, '', f.name, CAST(f.size AS VARCHAR), "
        f"{_NONE}, {_NONE}, 'files', f.id FROM files f WHERE f.customer_id = ?"),
    "files deleted": (
        "SELECT f.deleted_at, 9, f.id, 'file', 'deleted', f.deleted_by, '', f.name, '', "
        f"{_NONE}, {_NONE}, 'files', f.id FROM files f WHERE f.customer_id = ? AND f.deleted_at IS NOT NULL"),
    "relations": (
        "SELECT r.created_at, 10, r.id, 'relation', 'added', r.created_by, '', coalesce(t.label, ''), r.note, "
        f"{_NONE}, {_NONE}, 'relations', r.id FROM relations r LEFT JOIN list_values t ON t.id = r.relation_type_id "
        "WHERE r.customer_id = ?"),
    "relations in": (
        "SELECT r.created_at, 10, r.id, 'relation', 'added', r.created_by, '', coalesce(t.label, ''), r.note, "
        f"{_NONE}, {_NONE}, 'relations', r.id FROM relations r LEFT JOIN list_values t ON t.id = r.relation_type_id "
        "WHERE r.other_customer_id = ? AND r.customer_id <> ?"),
    # a relation removed since it was added: its addition, as the history of the relation keeps it (the row is gone),
    # on the card it was removed from (where a merge had moved it by then: its removal says where it was)
    "relations gone": (
        "SELECT c.changed_at, 10, c.id, 'relation', 'added', c.changed_by, '', '', '', "
        f"{_NONE}, {_NONE}, 'relations', c.record_id FROM record_changes d JOIN record_changes c ON "
        "c.table_name = 'relations' AND c.record_id = d.record_id AND c.kind = 'create' AND c.field = 'relation_type' "
        "WHERE d.table_name = 'relations' AND d.kind = 'delete' AND d.field = 'relation_type' AND d.customer_id = ?"),
    "relations gone in": (
        "SELECT c.changed_at, 10, c.id, 'relation', 'added', c.changed_by, '', '', '', "
        f"{_NONE}, {_NONE}, 'relations', c.record_id FROM record_changes d JOIN record_changes c ON "
        "c.table_name = 'relations' AND c.record_id = d.record_id AND c.kind = 'create' AND c.field = 'relation_type' "
        "WHERE d.table_name = 'relations' AND d.kind = 'delete' AND d.field = 'other_customer_id' "
        "AND d.old_value = CAST(? AS VARCHAR) AND d.customer_id <> ?"),
    # what the history of the customer's records says: an opportunity's stage and status, a contact person made
    # inactive or active again, a relation removed (its type's row; one pointing at this customer by the row that
    # names it). One read of the history; the names are looked up for the page (see _with_names).
    "record changes": (
        "SELECT r.changed_at, 5, r.id, CASE r.table_name WHEN 'opportunities' THEN 'opportunity' "
        "WHEN 'contacts' THEN 'contact' WHEN 'events' THEN 'event' WHEN 'follow_ups' THEN 'follow-up' "
        "WHEN 'comments' THEN 'comment' ELSE 'relation' END, CASE WHEN r.table_name = 'relations' THEN 'removed' "
        "WHEN r.table_name = 'contacts' THEN CASE WHEN r.new_value = 'false' THEN 'deactivated' ELSE 'reactivated' "
        "END WHEN r.table_name = 'events' THEN 'marked' WHEN r.table_name = 'follow_ups' THEN CASE r.field "
        "WHEN 'owner' THEN 'reassigned' WHEN 'what' THEN 'rewritten' ELSE 'moved' END "
        "WHEN r.table_name = 'comments' THEN CASE WHEN r.kind = 'delete' THEN 'removed' ELSE 'edited' END "
        "WHEN r.field = 'stage' THEN 'stage' WHEN r.new_value = 'pipeline' THEN 'reopened' ELSE r.new_value END, "
        # a comment's removal quotes what it said (so that a search of the story's text finds it)
        "r.changed_by, '', CASE WHEN r.table_name = 'comments' AND r.kind = 'delete' THEN r.old_value ELSE '' END, "
        "'', r.old_value, r.new_value, r.table_name, r.record_id FROM record_changes r "
        # a record moved here by a merge brings its history, written at the customer it was at then
        # (an uncorrelated IN: PostgreSQL planned the correlated EXISTS as costly enough to compile it, seconds)
        "WHERE r.kind <> 'create' AND (((r.customer_id = ? OR (r.table_name, r.record_id, r.customer_id) IN "
        "(SELECT m.table_name, m.record_id, m.from_customer FROM merge_moves m WHERE m.to_customer = ?)) "
        "AND ({own})) OR (r.table_name = 'relations' AND "
        "r.kind = 'delete' AND r.field = 'other_customer_id' AND r.old_value = CAST(? AS VARCHAR) "
        "AND r.customer_id <> ?))"),
    # follow-ups: one entry when added (its owner among the people), one each time it was marked done or open again
    "follow-ups added": _follow_ups_added("f.customer_id"),
    "follow-ups marked": _follow_ups_marked("f.customer_id"),
    "follow-ups done": _follow_ups_done("f.customer_id"),
    # one entry per save (a version): the fields it changed, with their old and new values
    "customer changes": (
        "SELECT max(h.changed_at), 12, min(h.id), CASE WHEN min(h.kind) = 'merge' THEN 'merge' ELSE 'change' END, "
        f"min(h.kind), min(h.changed_by), '', string_agg(h.field, ' ' ORDER BY h.id), {_SAVED}, "
        f"{_NONE}, {_NONE}, 'customers', min(h.version) FROM customer_changes h WHERE h.customer_id = ? "
        "GROUP BY h.version"),
}
#: The record histories a customer's timeline reads, by the module they belong to.
_OWN_CHANGES = {"crm": ["(r.table_name = 'opportunities' AND r.field IN ('stage', 'status'))",
                        "(r.table_name = 'relations' AND r.kind = 'delete' AND r.field = 'relation_type')",
                        # an event marked done or cancelled: by whom and when (its own entry is at its start)
                        "(r.table_name = 'events' AND r.field = 'status')"],
                "contacts": ["(r.table_name = 'contacts' AND r.field = 'active')",
                             # a follow-up given to someone else, rewritten or moved to another day, a comment
                             # rewritten: by whom and when
                             "(r.table_name = 'follow_ups' AND r.field IN ('owner', 'what', 'due_on') "
                             "AND r.kind = 'update')",
                             "(r.table_name = 'comments' AND r.field = 'body' AND r.kind IN ('update', 'delete'))"]}
#: The parts of the CRM module and of the document storage, left out when the firm has switched them off.
CRM_PARTS = frozenset({"events", "opportunities created", "opportunities closed", "relations", "relations in",
                       "relations gone", "relations gone in"})
FILE_PARTS = frozenset({"files added", "files deleted"})
CRM_KINDS = frozenset({"event", "opportunity", "relation"})

#: A contact person's timeline: the comments and e-mails of their customer that name them (full name or e-mail
#: address, whatever the case), the events they take part in, their relations and the changes of their fields.
CONTACT_PARTS: dict[str, str] = {
    "comments": (
        "SELECT c.created_at, 1, c.id, CASE WHEN c.kind = 'email' THEN 'email' ELSE 'comment' END, 'written', "
        f"c.author, c.recipients, c.body, CAST(c.written_on AS VARCHAR), {_NONE}, {_NONE}, 'comments', c.id "
        "FROM comments c WHERE c.customer_id = ? AND ({naming})"),
    "events": (
        "SELECT e.starts_at, 2, e.id, 'event', e.status, e.owner, e.participants, e.title, coalesce(t.label, ''), "
        f"{_NONE}, {_NONE}, 'events', e.id FROM events e LEFT JOIN list_values t ON t.id = e.event_type_id "
        "WHERE e.customer_id = ? AND (e.contact_ids = ? OR e.contact_ids LIKE ? OR e.contact_ids LIKE ? "
        "OR e.contact_ids LIKE ?)"),
    "added": (
        "SELECT k.created_at, 6, k.id, 'contact', 'added', k.created_by, '', trim(k.first_name || ' ' || k.last_name), "
        f"k.title, {_NONE}, {_NONE}, 'contacts', k.id FROM contacts k WHERE k.id = ?"),
    "changes": (
        "SELECT max(r.changed_at), 7, min(r.id), CASE WHEN min(r.field) = 'active' AND count(*) = 1 THEN 'contact' "
        "ELSE 'change' END, CASE WHEN min(r.field) = 'active' AND count(*) = 1 THEN CASE WHEN min(r.new_value) = "
        "'false' THEN 'deactivated' ELSE 'reactivated' END ELSE min(r.kind) END, min(r.changed_by), '', "
        # made inactive or active again: the entry names the person (as on the customer's timeline)
        "CASE WHEN min(r.field) = 'active' AND count(*) = 1 THEN min(trim(k.first_name || ' ' || k.last_name)) "
        "ELSE string_agg(r.field, ' ' ORDER BY r.id) END, "
        f"{_SAVED.replace('h.', 'r.')}, "
        f"{_NONE}, {_NONE}, 'contacts', min(r.record_id) FROM record_changes r LEFT JOIN contacts k ON k.id = "
        "r.record_id WHERE r.table_name = 'contacts' AND r.record_id = ? AND r.kind <> 'create' "
        "GROUP BY r.changed_at, r.changed_by"),
    "relations": (
        "SELECT r.created_at, 10, r.id, 'relation', 'added', r.created_by, '', coalesce(t.label, ''), r.note, "
        f"{_NONE}, {_NONE}, 'relations', r.id FROM relations r LEFT JOIN list_values t ON t.id = r.relation_type_id "
        "WHERE r.other_contact_id = ?"),
    # follow-ups: one entry when added (its owner among the people), one each time it was marked done or open again
    "follow-ups added": _follow_ups_added("f.contact_id"),
    "follow-ups marked": _follow_ups_marked("f.contact_id"),
    "follow-ups done": _follow_ups_done("f.contact_id"),
    # given to someone else, rewritten or moved to another day (as on the customer's timeline)
    "follow-ups changed": (
        "SELECT r.changed_at, 5, r.id, 'follow-up', CASE r.field WHEN 'owner' THEN 'reassigned' WHEN 'what' THEN "
        "'rewritten' ELSE 'moved' END, r.changed_by, '', f.what, '', r.old_value, r.new_value, 'follow_ups', "
        "r.record_id FROM record_changes r JOIN follow_ups f ON f.id = r.record_id WHERE "
        "f.contact_id = ? AND r.table_name = 'follow_ups' AND r.kind = 'update' AND r.field IN ('owner', 'what', "
        "'due_on')"),
    "relations removed": (
        "SELECT r.changed_at, 11, r.id, 'relation', 'removed', r.changed_by, '', coalesce(r.old_value, ''), '', "
        f"{_NONE}, {_NONE}, 'relations', r.record_id FROM record_changes r WHERE r.table_name = 'relations' "
        "AND r.kind = 'delete' AND r.field = 'relation_type' AND EXISTS (SELECT 1 FROM record_changes o WHERE "
        "o.table_name = 'relations' AND o.record_id = r.record_id AND o.kind = 'delete' "
        "AND o.field = 'other_contact_id' AND o.old_value = CAST(? AS VARCHAR))"),
    # a relation to the person removed since: its addition, as the relation's history keeps it
    "relations gone": (
        "SELECT c.changed_at, 10, c.id, 'relation', 'added', c.changed_by, '', coalesce(c.new_value, ''), '', "
        f"{_NONE}, {_NONE}, 'relations', c.record_id FROM record_changes d JOIN record_changes c ON "
        "c.table_name = 'relations' AND c.record_id = d.record_id AND c.kind = 'create' AND c.field = 'relation_type' "
        "WHERE d.table_name = 'relations' AND d.kind = 'delete' AND d.field = 'other_contact_id' "
        "AND d.old_value = CAST(? AS VARCHAR)"),
}


#: Days so near the calendar's ends that a time zone's offset would take their start or end past it.
FIRST_DAYS, LAST_DAYS = dt.date(1, 1, 2), dt.date(9999, 12, 30)


def day_end(day: dt.date | dt.datetime, zone: str | None) -> dt.datetime:
    """The stored (naive UTC) moment a day ends in the firm's time zone: everything at or before it happened on
    or before that day. A datetime is a moment already: an aware one is taken to UTC, a naive one is UTC."""
    if isinstance(day, dt.datetime):
        return day.astimezone(dt.UTC).replace(tzinfo=None) if day.tzinfo is not None else day
    if hasattr(day, "to_pydatetime"):
        return day_end(day.to_pydatetime(), zone)
    if day >= LAST_DAYS:  # the calendar's last days: every moment is before their end
        return dt.datetime.max
    local = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=formatting.time_zone(zone))
    return local.astimezone(dt.UTC).replace(tzinfo=None) - dt.timedelta(microseconds=1)


def day_start(day: dt.date | dt.datetime, zone: str | None) -> dt.datetime:
    """The stored (naive UTC) moment a day begins in the firm's time zone (a datetime as :func:`day_end`)."""
    if isinstance(day, dt.datetime) or hasattr(day, "to_pydatetime"):
        return day_end(day, zone)
    if day <= FIRST_DAYS:  # the calendar's first days: every moment is after their start
        return dt.datetime.min
    before = day_end(day - dt.timedelta(days=1), zone)
    return before if before == dt.datetime.max else before + dt.timedelta(microseconds=1)  # the calendar's last


def _moment_or_day(value: Any, field: str) -> Any:
    """A bound of the timeline as given (a date, a moment, None), or the day an ISO text names ('2025-01-01'); a
    ValidationError on ``field`` for anything else."""
    if value is None or isinstance(value, dt.date) or hasattr(value, "to_pydatetime"):
        return value
    return as_day_or_moment(value, field)


def as_day_or_moment(value: Any, field: str = "as_of") -> dt.date | dt.datetime:
    """A day or a moment as given (a date, a datetime), or as an ISO text names it: a day ('2024-06-30') or a moment
    ('2024-06-30T10:00', '…+02:00', '…Z'; as the store keeps moments, UTC without a zone); a ValidationError (on
    ``field``) for anything else."""
    if isinstance(value, dt.date):
        return value
    value = _numpy_moment(value)
    if isinstance(value, dt.datetime):
        return value
    _refuse_no_text(value, field)
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        return as_moment(value, field)


def _numpy_moment(value: Any) -> Any:
    """A NumPy datetime64 (a DataFrame's ``.values``) as the moment it is (NaT stays no day); anything else as
    given."""
    if type(value).__name__ == "datetime64":
        moment = pd.Timestamp(value)
        return value if moment is pd.NaT else moment.to_pydatetime()
    return value


def _refuse_no_text(value: Any, field: str) -> None:
    """A day is a date, a moment or a text naming one: a number (20240101, which ``fromisoformat`` of its text would
    read as a day) or anything else is refused, on the file as through the server (which refuses it by its kind)."""
    if not isinstance(value, str):
        raise ValidationError({field: _("Not a date: {value}.").format(value=str(value)[:40])})


def as_date(value: Any, field: str = "as_of") -> dt.date:
    """A date from a date, a datetime or an ISO text ('2024-06-30'); a ValidationError (on ``field``) for anything
    else."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    value = _numpy_moment(value)
    if isinstance(value, dt.datetime):
        return value.date()
    _refuse_no_text(value, field)
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationError({field: _("Not a date: {value}.").format(value=str(value)[:40])}) from None


def as_moment(value: Any, field: str) -> dt.datetime:
    """A moment from a datetime, a date (its midnight) or an ISO text ('2024-06-30T10:00', with or without its
    offset), as the store keeps moments (UTC, without a zone); a ValidationError (on ``field``) for anything else."""
    value = _numpy_moment(value)
    if not isinstance(value, dt.datetime | dt.date):
        _refuse_no_text(value, field)
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValidationError({field: _("Not a date: {value}.").format(value=str(value)[:40])}) from None
    if not isinstance(value, dt.datetime):
        return dt.datetime.combine(value, dt.time())
    try:
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo is not None else value
    except OverflowError:  # a zone's moment at the calendar's very ends
        raise ValidationError({field: _("Not a date: {value}.").format(value=str(value)[:40])}) from None


def _cursor(at: Any, src: int, seq: int) -> str:
    stamp = at.isoformat() if isinstance(at, dt.datetime) else pd.Timestamp(at).isoformat()
    return f"{stamp}|{int(src)}|{int(seq)}"


def _read_cursor(cursor: str) -> tuple[dt.datetime, int, int]:
    """The keyset a page ends with; a ValidationError for a text that is not one."""
    try:
        stamp, src, seq = str(cursor).split("|")
        return pd.Timestamp(stamp).to_pydatetime(), int(src), int(seq)
    except (ValueError, TypeError):
        raise ValidationError({"before": _("Not a place in the timeline.")}) from None


#: At most this many people (by name) and fields (by label) a timeline's text filter looks for besides the text.
MATCHED_NAMES = 20


def _fields_labelled(needle: str) -> list[str]:
    """The fields of a customer or a contact person whose label, in the reader's language, holds ``needle`` (lower
    case)."""
    from ..models import Contact, Customer

    found = []
    for blank in (Customer(), Contact()):
        for field in blank.values():
            if field == "segments":
                continue
            try:
                label = blank.label(field)
            except (AttributeError, KeyError):
                continue
            if needle in label.lower() and field not in found:
                found.append(field)
    return found


def _like(text: str) -> str:
    return "%" + text.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class ActivityStore(Part):
    """Part of :class:`customercard.store.Store`: the timeline of a customer and of a contact person."""

    uses = ("admin", "customers", "people")
    internal = frozenset({"firm_setting"})
    admin: AdminStore
    customers: CustomerStore
    people: PeopleStore

    db: Backend

    def timeline(  # noqa: PLR0913, PLR0917 - the timeline's filters; public API (remote too), called with keywords
            self, customer_id: int, kinds: list[str] | tuple[str, ...] | str | None = None,
            since: dt.date | dt.datetime | None = None, person: str | None = None, text: str | None = None,
            before: str | None = None, limit: int = 50, contact_id: int | None = None,
            until: dt.date | dt.datetime | None = None) -> pd.DataFrame:
        """What happened at a customer, newest first: a DataFrame with the columns

        ``at`` (UTC), ``kind`` (comment, email, event, opportunity, file, contact, relation, merge, change),
        ``action`` (written; planned/done/cancelled; created, stage, won, lost, reopened; added, deleted, deactivated,
        reactivated, removed; update, restore, create, merge), ``who`` (a login), ``title`` and ``detail`` (what it
        is about), ``old_value``/``new_value`` (a stage or status change; for a relation removed since, the id of the
        customer it was made by and what it pointed at, ``customer:<id>`` or ``contact:<id>``), ``people`` (the
        logins an e-mail went to or an event has, as JSON), ``ref_table``/``ref_id`` (the record it is
        about; for field changes the customer's version), ``cursor`` (where the entry stands) and ``changes`` (for
        field changes and merges: ``[(field, old, new), …]``).

        ``kinds`` keeps some kinds (see :data:`TIMELINE_KINDS`); ``since`` (a date: from the start of that day in
        the firm's time zone) and ``until`` (to its end) bound the time; ``person`` keeps what a login did (or an
        event they take part in); ``text`` keeps entries whose text holds it, whatever the case. ``before`` is the
        ``cursor`` of the last entry of the page before (the next ``limit`` entries follow it). With ``contact_id``,
        the timeline of that contact person (see :meth:`contact_timeline`)."""
        since, until = _moment_or_day(since, "since"), _moment_or_day(until, "until")  # '2025-01-01' too
        if contact_id is not None:
            return self.contact_timeline(contact_id, kinds=kinds, since=since, person=person, text=text,
                                         before=before, limit=limit, until=until)
        customer_id = int(customer_id)
        crm, files = self.firm_setting("crm_enabled"), self.firm_setting("files_enabled")
        own = [*_OWN_CHANGES["contacts"], *(_OWN_CHANGES["crm"] if crm else [])]
        parts, params = [], []
        for name, template in CUSTOMER_PARTS.items():
            if (name in CRM_PARTS and not crm) or (name in FILE_PARTS and not files):
                continue
            sql = template.replace("{own}", " OR ".join(own))
            if name == "record changes" and not crm:  # no relations pointing at it either
                sql = sql.replace("r.table_name = 'relations' AND r.kind = 'delete' AND r.field = 'other_customer_id'",
                                  "FALSE AND r.field = 'other_customer_id'")
            parts.append(sql)
            params += [customer_id] * sql.count("?")
        rows = self._timeline_page(parts, params, kinds, since, person, text, before, limit, until)
        if not rows and not self.customers.customer_exists(customer_id):
            raise NotFound(_("No customer with id {customer_id}.").format(customer_id=customer_id))
        return _frame(self._follow_ups_then(self._with_names(_with_saves(rows))))

    def contact_timeline(self, contact_id: int, kinds: list[str] | tuple[str, ...] | str | None = None,
                         since: dt.date | dt.datetime | None = None, person: str | None = None,
                         text: str | None = None, before: str | None = None, limit: int = 50,
                         until: dt.date | dt.datetime | None = None) -> pd.DataFrame:
        """A contact person's timeline, as :meth:`timeline`: the comments and e-mails of their customer that name
        them (their full name or e-mail address), the events they take part in, their being added, deactivated and
        the changes of their fields (one entry per save), and the relations to them."""
        since, until = _moment_or_day(since, "since"), _moment_or_day(until, "until")
        contact = self.people.get_contact(contact_id)
        needles = sorted({t.strip().lower() for t in (contact.full_name, contact.email)
                          if len(t.strip()) >= SHORTEST_NEEDLE}, key=len, reverse=True)
        parts, params = [], []
        crm = self.firm_setting("crm_enabled")
        for name, sql in CONTACT_PARTS.items():
            if not crm and name in ("events", "relations", "relations removed", "relations gone"):
                continue
            if name == "comments":
                if not needles:
                    continue
                naming = " OR ".join("position(? IN lower(c.body)) > 0 OR position(? IN lower(c.recipients)) > 0"
                                     for _needle in needles)
                parts.append(sql.replace("{naming}", naming))
                params += [contact.customer_id, *(n for n in needles for _twice in range(2))]
            elif name == "events":
                ident = int(contact.id)
                parts.append(sql)
                params += [contact.customer_id, f"[{ident}]", f"[{ident}, %", f"%, {ident}]", f"%, {ident}, %"]
            else:
                parts.append(sql)
                params += [int(contact.id)] * sql.count("?")
        rows = self._timeline_page(parts, params, kinds, since, person, text, before, limit, until)
        return _frame(self._follow_ups_then(_with_saves(rows)))

    def _timeline_page(  # noqa: PLR0913, PLR0917 - the union's parts, then the filters timeline was given
            self, parts: list[str], params: list[Any], kinds: Any, since: Any, person: str | None,
            text: str | None, before: str | None, limit: int, until: Any) -> list[dict[str, Any]]:
        """One page of the union of ``parts``: filtered, newest first, after the keyset ``before``; rows as dicts."""
        zone = self.firm_setting("time_zone")
        where: list[str] = ["moment IS NOT NULL"]
        outer: list[Any] = []
        if kinds:
            # follow_up as a Python name is written: the kind is follow-up
            chosen = [str(k).replace("_", "-") for k in ([kinds] if isinstance(kinds, str) else list(kinds))]
            unknown = [k for k in chosen if k not in TIMELINE_KINDS]
            if unknown:
                raise ValidationError({"kinds": _("Not a kind of entry: {kind}. The kinds: {kinds}.").format(
                    kind=unknown[0], kinds=", ".join(TIMELINE_KINDS))})
            where.append(self.db.in_list("kind", len(chosen)))
            outer += chosen
        if since is not None:
            where.append("moment >= ?")
            outer.append(day_start(since, zone))
        if until is not None:
            where.append("moment <= ?")
            outer.append(day_end(until, zone))
        if person:
            where.append("(who = ? OR position(? IN coalesce(people, '')) > 0)")
            outer += [person, json.dumps(person)]
        if text and text.strip():
            condition, values = self._text_condition(text[:200])
            where.append(condition)
            outer += values
        if before:
            at, src, seq = _read_cursor(before)
            where.append("(moment < ? OR (moment = ? AND src < ?) OR (moment = ? AND src = ? AND seq < ?))")
            outer += [at, at, src, at, src, seq]
        count = min(counted(limit), MAX_PAGE)  # 0: no entries (as SQL reads it); below 0 or no number: refused
        union = " UNION ALL ".join(parts)
        # materialised: each part reads its customer's rows by key (DuckDB would otherwise push the page's top-N
        # filter into the scans and read whole tables in their stored order instead of using the indexes)
        condition = " AND ".join(where)
        sql = (f"WITH entries ({_COLUMNS}) AS MATERIALIZED ({union}) "  # constant parts, parameters
               f"SELECT {_COLUMNS} FROM entries WHERE {condition} ORDER BY moment DESC, src DESC, seq DESC LIMIT ?")
        found = self.db.records(sql, [*params, *outer, count])
        kept = ("kind", "action", "who", "title", "detail", "old_value", "new_value", "people", "ref_table")
        return [{"at": row["moment"], **{key: row[key] for key in kept}, "ref_id": int(row["ref_id"]),
                 "cursor": _cursor(row["moment"], row["src"], row["seq"]), "changes": None} for row in found]

    def _text_condition(self, text: str) -> tuple[str, list[Any]]:
        """Entries whose text holds ``text`` whatever its case — as they are shown too: a person by their name
        (the entries keep logins: who did it, a manager changed), a field by its label in the reader's language
        (a save keeps the field's key)."""
        needle = text.strip().lower()
        parts = ["lower(coalesce(title, '') || ' ' || coalesce(detail, '') || ' ' || coalesce(who, '')) LIKE ? "
                 "ESCAPE '\\'"]
        values: list[Any] = [_like(needle)]
        named = [login for login, user in self.admin.users_by_login().items()
                 if needle in str(user.get("name") or "").lower() or needle == login.lower()][:MATCHED_NAMES]
        for login in named:
            parts += ["who = ?", "position(? IN coalesce(people, '')) > 0", "position(? IN coalesce(detail, '')) > 0"]
            values += [login, json.dumps(login), f"\x1f{login}"]
        for field in _fields_labelled(needle)[:MATCHED_NAMES]:
            parts.append("position(? IN coalesce(detail, '')) > 0")
            values.append(field + "\x1f")
        return "(" + " OR ".join(parts) + ")", values

    def firm_setting(self, name: str) -> Any:
        """One of the firm's settings, read from what the store keeps cached (no Settings object made)."""
        stored = self.admin.cached("settings", lambda: dict(self.db.rows("SELECT key, value FROM settings")))
        text = stored.get(name)
        return json.loads(text) if text is not None else Settings.param[name].default

    #: The follow-up entries that quote it (what it said, and when it was due for a mark) as it was at their moment.
    _FOLLOW_UP_ENTRIES = frozenset({"done", "reopened", "reassigned", "rewritten", "moved"})

    def _follow_ups_then(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries about follow-ups (done, open again, given to someone else, rewritten, moved to another
        day) with what the follow-up said — and, for a mark, when it was due — at the entry's moment, as its
        history keeps them: the last value written by then, else the one the first change after it replaced (a
        follow-up edited since quoted today's words for things done before they were written)."""
        ids = sorted({int(r["ref_id"]) for r in rows if r["ref_table"] == "follow_ups"
                      and r["action"] in self._FOLLOW_UP_ENTRIES})
        if not ids:
            return rows
        written: dict[tuple[int, str], list[tuple[Any, Any, Any]]] = {}
        for record_id, field, at, old, new in self.db.rows(
                "SELECT record_id, field, changed_at, old_value, new_value FROM record_changes WHERE table_name = "
                "'follow_ups' AND field IN ('what', 'due_on') AND " + self.db.in_list("record_id", len(ids), ids=True)
                + " ORDER BY changed_at, id", ids):
            written.setdefault((int(record_id), field), []).append((at, old, new))

        def then(record_id: int, field: str, moment: Any, now: Any) -> Any:
            changes = written.get((record_id, field))
            if not changes or moment is None:
                return now
            before = [new for at, _old, new in changes if at <= moment]
            if before:
                return before[-1]
            return changes[0][1]  # (the first change after it: what it replaced)

        out = []
        for row in rows:
            entry = row
            if row["ref_table"] == "follow_ups" and row["action"] in self._FOLLOW_UP_ENTRIES:
                record_id, moment = int(row["ref_id"]), row["at"]
                entry = {**row, "title": then(record_id, "what", moment, row["title"])}
                if row["action"] in ("done", "reopened"):
                    entry["detail"] = then(record_id, "due_on", moment, row["detail"])
            out.append(entry)
        return out

    def _with_names(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries read from the history of records with the names of what they are about: the opportunity's
        title, the contact person's name (and title), a removed relation's type and note."""
        history = [r for r in rows if r["ref_table"] in ("opportunities", "contacts", "relations", "events",
                                                          "follow_ups", "comments")
                   and (not r["title"] or (r["ref_table"] == "comments" and r["action"] == "removed"))]
        if not history:
            return rows
        names: dict[tuple[str, int], tuple[str, str]] = {}
        for table, sql in (("opportunities", "SELECT id, title, '' FROM opportunities WHERE "),
                           ("contacts", "SELECT id, trim(first_name || ' ' || last_name), title FROM contacts WHERE "),
                           ("events", "SELECT id, title, '' FROM events WHERE "),
                           ("follow_ups", "SELECT id, what, '' FROM follow_ups WHERE "),
                           ("comments", "SELECT id, body, author FROM comments WHERE ")):
            ids = sorted({r["ref_id"] for r in history if r["ref_table"] == table})
            if ids:
                names.update({(table, int(i)): (title, detail) for i, title, detail in self.db.rows(
                    sql + self.db.in_list("id", len(ids), ids=True), ids)})
        gone = sorted({r["ref_id"] for r in history if r["ref_table"] == "comments"
                       and ("comments", int(r["ref_id"])) not in names})
        if gone:  # taken away since (a bulk change's undo): what it said and by whom, as its removal recorded them
            said: dict[int, dict[str, Any]] = {}
            for record_id, field, old in self.db.rows(
                    "SELECT record_id, field, old_value FROM record_changes WHERE table_name = 'comments' AND "
                    "kind = 'delete' AND " + self.db.in_list("record_id", len(gone), ids=True), gone):
                said.setdefault(int(record_id), {})[field] = old
            names.update({("comments", i): (values.get("body") or "", values.get("author") or "")
                          for i, values in said.items()})
        removed = sorted({r["ref_id"] for r in history if r["ref_table"] == "relations"})
        sides: dict[int, tuple[str, str]] = {}
        if removed:
            found: dict[int, dict[str, Any]] = {}
            for record_id, maker, kind, field, old, new in self.db.rows(
                    "SELECT record_id, customer_id, kind, field, old_value, new_value FROM record_changes WHERE "
                    "table_name = 'relations' AND kind IN ('create', 'delete') AND "
                    + self.db.in_list("record_id", len(removed), ids=True) + " ORDER BY id", removed):
                values = found.setdefault(int(record_id), {"maker": maker})
                if kind == "delete":  # where it was when removed (a merge may have moved it since it was made)
                    values["maker"] = maker
                values[field] = old if kind == "delete" else values.get(field, new)
            names.update({("relations", i): (values.get("relation_type") or "", values.get("note") or "")
                          for i, values in found.items()})
            # who made it, and to whom: the timeline says it from the side it is read on (a relation gone has no row)
            sides = {i: (str(values.get("maker") or ""), f"contact:{values['other_contact_id']}"
                         if values.get("other_contact_id") else f"customer:{values.get('other_customer_id') or ''}")
                     for i, values in found.items()}
        for row in history:
            row["title"], row["detail"] = names.get((row["ref_table"], row["ref_id"]), ("", ""))
            if row["ref_table"] == "relations" and row["ref_id"] in sides:
                row["old_value"], row["new_value"] = sides[row["ref_id"]]
        return rows


def _with_saves(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Saves (a customer's field changes and merges, a contact person's changes) with what each changed —
    ``[(field, old, new), …]`` read from the ``detail`` the query packed them in — and that detail as text."""
    for row in rows:
        detail = row["detail"]
        if not (isinstance(detail, str) and "\x1f" in detail and row["ref_table"] in ("customers", "contacts")):
            continue
        changes = []
        for item in detail.split("\x1e"):
            field, old, new = [*item.split("\x1f"), "", ""][:3]
            changes.append((field, None if old == "\x02" else old, None if new == "\x02" else new))
        row["changes"] = changes
        row["detail"] = " ".join(f"{f}: {o or ''} → {n or ''}" for f, o, n in changes)
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A page of entries as the timeline's DataFrame."""
    frame = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"])
    return frame


def merged_customer_id(text: str | None) -> int | None:
    """The other customer's id in a merge's history text ('10008 Acme AB (id 8)'), else None."""
    match = re.search(r"\(id (\d+)\)\s*$", text or "")
    return int(match.group(1)) if match else None
