"""The records the HTTP API serves beside customers, and how each is read, made and saved through the store.

One :class:`Kind` per record: its model, its path (``/api/v1/<path>/{id}`` and ``/api/v1/customers/{id}/<path>``),
the store's calls, and whether it keeps a version (then ``GET`` sends an ``ETag`` and ``PATCH`` needs
``If-Match``). Lists of a customer's records come from the store's frames, each row as the record it is.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..i18n import N_
from ..models import Comment, Contact, Event, FollowUp, Opportunity, Project, Record, Relation
from ..store import Store
from .access import PROJECT_DETAIL
from .values import hide

hide(Contact, "country")  # the customer's, filled in by the store before it validates


@dataclass(frozen=True)
class Kind:
    """A kind of record the API serves."""

    #: The resource's name in paths (plural) and in the OpenAPI document.
    path: str
    #: The model.
    model: type[Record]
    #: Its table in the record history (``record_changes``).
    table: str
    #: Its name in messages (English source text).
    label: str
    #: Read one (NotFound when missing).
    get: Callable[[Store, int], Record]
    #: A customer's records, as records.
    of_customer: Callable[[Store, int, dict[str, Any]], list[Record]]
    #: A new, unsaved record of a customer with the defaults the card gives it; None: not made through the API.
    new: Callable[[Store, int], Record] | None = None
    #: Make it: (store, record, login) → the made record.
    create: Callable[[Store, Record, str], Record] | None = None
    #: Save an edit: (store, record, login) → the saved record; None: not edited through the API.
    save: Callable[[Store, Record, str], Record] | None = None
    #: Remove it: (store, id, login); None: not removed through the API.
    remove: Callable[[Store, int, str], None] | None = None
    #: Whether it keeps a version (ETag / If-Match).
    versioned: bool = True
    #: How each of a customer's records is seen from that customer (by id), added to its list's items as
    #: ``seen_from``; None: the records say it all.
    seen: Callable[[Store, int], dict[int, dict[str, Any]]] | None = None
    #: Fields only a user with projects access reads (see :mod:`.access`): a customer's list leaves them out for
    #: others, and one record is refused them (403), as the project page is. Empty: everyone who reads reads all.
    withheld: tuple[str, ...] = ()

    @property
    def singular(self) -> str:
        return self.model.__name__


def as_parameters(row: dict[str, Any], model: type[Record]) -> dict[str, Any]:
    """A frame row as the model's parameters take it: missing values as None (texts as ''), times as datetimes,
    dates as dates, NumPy scalars as Python values; columns the model has not are dropped."""
    import param

    out = {}
    for name, cell in row.items():
        if name not in model.param or (name == "name" and "name" not in model.fields):
            continue
        parameter = model.param[name]
        value = cell
        if value is not None and not isinstance(value, list | dict | str) and pd.isna(value):
            value = None
        if hasattr(value, "to_pydatetime"):
            value = value.to_pydatetime()
        if isinstance(parameter, param.CalendarDate) and hasattr(value, "date"):
            value = value.date()
        elif hasattr(value, "item") and not isinstance(value, str):
            value = value.item()
        if value is None and isinstance(parameter.default, str):
            value = ""
        out[name] = value
    return out


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.astype(object).to_dict("records")


def _contacts(store: Store, customer_id: int, args: dict[str, Any]) -> list[Record]:
    frame = store.contacts(customer_id, include_inactive=bool(args.get("include_inactive")))
    return [Contact(**as_parameters(row, Contact)) for row in _rows(frame)]


def _comments(store: Store, customer_id: int, _args: dict[str, Any]) -> list[Record]:
    found = []
    for row in _rows(store.comments(customer_id)):
        values = as_parameters(row, Comment)
        values["recipients"] = json.loads(row["recipients"]) if row["recipients"] else []
        found.append(Comment(**values))
    return found


def _events(store: Store, customer_id: int, args: dict[str, Any]) -> list[Record]:
    found = []
    for row in _rows(store.events(customer_id=customer_id, status=args.get("status") or None)):
        values = as_parameters(row, Event)
        values["participants"] = json.loads(row["participants"] or "[]")
        values["contact_ids"] = json.loads(row["contact_ids"] or "[]")
        found.append(Event(**values))
    return found


def _opportunities(store: Store, customer_id: int, args: dict[str, Any]) -> list[Record]:
    frame = store.opportunities(customer_id=customer_id, status=args.get("status") or None)
    return [Opportunity(**as_parameters(row, Opportunity)) for row in _rows(frame)]


def _projects(store: Store, customer_id: int, _args: dict[str, Any]) -> list[Record]:
    return [Project(**as_parameters(row, Project)) for row in _rows(store.projects(customer_id))]


def _relations(store: Store, customer_id: int, _args: dict[str, Any]) -> list[Record]:
    """The relations of the customer: those it made (to customers and contact persons) and those other customers made
    to it (their ``customer_id`` is the other customer)."""
    ids = [int(row["id"]) for row in _rows(store.relations(customer_id))]
    return [store.get_relation(i) for i in ids]


def _relations_seen(store: Store, customer_id: int) -> dict[int, dict[str, Any]]:
    """Each relation as the card shows it from the customer: ``direction`` (out: it made it; in: another customer
    made it to this one) and ``label`` (the type's name from this side, its inverse for one made to it, as "Subsidiary
    of" for a "Parent company of" another customer made)."""
    return {int(row["id"]): {"direction": row["direction"], "label": row["label"]}
            for row in _rows(store.relations(customer_id))}


def _follow_ups(store: Store, customer_id: int, _args: dict[str, Any]) -> list[Record]:
    frame = store.follow_ups(customer_id=customer_id)
    return [FollowUp(**as_parameters(row, FollowUp)) for row in _rows(frame)]


def _add_comment(store: Store, comment: Record, login: str) -> Record:
    return store.add_comment(comment.customer_id, comment.body, user=login, written_on=comment.written_on,
                             author=comment.author or None)


def _remove_relation(store: Store, relation_id: int, login: str) -> None:
    store.remove_relation(relation_id, user=login)


KINDS: dict[str, Kind] = {kind.path: kind for kind in (
    Kind("contacts", Contact, "contacts", N_("Contact person"), lambda s, i: s.get_contact(i), _contacts,
         new=lambda _s, c: Contact(customer_id=c), create=lambda s, r, u: s.create_contact(r, user=u),
         save=lambda s, r, u: s.save_contact(r, user=u)),
    Kind("comments", Comment, "comments", N_("Comment"), lambda s, i: s.get_comment(i), _comments,
         new=lambda _s, c: Comment(customer_id=c), create=_add_comment,
         save=lambda s, r, u: s.edit_comment(r, user=u)),
    Kind("events", Event, "events", N_("Event"), lambda s, i: s.get_event(i), _events,
         new=lambda _s, c: Event(customer_id=c), create=lambda s, r, u: s.create_event(r, user=u),
         save=lambda s, r, u: s.save_event(r, user=u)),
    Kind("opportunities", Opportunity, "opportunities", N_("Opportunity"), lambda s, i: s.get_opportunity(i),
         _opportunities, new=lambda s, c: s.new_opportunity(c), create=lambda s, r, u: s.create_opportunity(r, user=u),
         save=lambda s, r, u: s.save_opportunity(r, user=u)),
    Kind("relations", Relation, "relations", N_("Relation"), lambda s, i: s.get_relation(i), _relations,
         new=lambda _s, c: Relation(customer_id=c), create=lambda s, r, u: s.add_relation(r, user=u),
         remove=_remove_relation, versioned=False, seen=_relations_seen),
    Kind("projects", Project, "projects", N_("Project"), lambda s, i: s.get_project(i), _projects,
         versioned=False, withheld=PROJECT_DETAIL),
    # not part of the CRM module: there whether or not it is switched on
    Kind("follow-ups", FollowUp, "follow_ups", N_("Follow-up"), lambda s, i: s.get_follow_up(i), _follow_ups,
         new=lambda s, c: s.new_follow_up(c), create=lambda s, r, u: s.add_follow_up(r, user=u),
         save=lambda s, r, u: s.save_follow_up(r, user=u)),
)}
