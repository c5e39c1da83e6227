"""The system of record: :class:`Store` and :func:`open_store`.

The store never imports Panel. It owns the connection (one per process, a cursor per thread), the
schema migrations, transactions, permissions, history and optimistic concurrency; its queries are
parameterised and kept in this package.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
import logging
import sys
import threading
import typing
import weakref
from copy import copy as shallow_copy
from pathlib import Path
from typing import Any

import pandas as pd

from ..arg_types import takes_whole_number, whole_number
from ..config import get_config
from ..errors import CustomerCardError, NotFound
from ..i18n import _
from ..models import Customer
from .activity import ActivityStore, as_date, as_day_or_moment, as_moment
from .admin import SYSTEM_PREFIX, AdminStore
from .asof import AdminAsOfDay, AsOfDayReads, AsOfStore
from .backend import Backend
from .bulk import BulkStore
from .changes import Change, ChangeFeed
from .crm import CrmStore
from .customers import CustomerStore
from .database import LATEST_SCHEMA, Database
from .exports import ExportStore
from .files import FilesStore
from .followups import FollowUpStore
from .invoicing import InvoicingStore
from .merge import MergeStore
from .outbox import OutboxStore
from .part import Part
from .people import PeopleStore
from .prefs import PrefsStore
from .privacy import PrivacyStore
from .readonly import PROJECT_TABLES, QUERY_SECONDS
from .records import RecordHistoryStore
from .search import SearchStore
from .sessions import SessionStore
from .timeline import TimelineStore
from .tokens import TokenStore
from .views import SavedViewStore

#: The store's parts by name, each after the parts it uses (see :class:`~customercard.store.part.Part`).
PARTS: dict[str, type[Part]] = {
    "admin": AdminStore, "prefs": PrefsStore, "records": RecordHistoryStore, "exports": ExportStore,
    "invoicing": InvoicingStore, "views": SavedViewStore, "sessions": SessionStore, "tokens": TokenStore,
    "search": SearchStore, "outbox": OutboxStore, "customers": CustomerStore, "people": PeopleStore,
    "timeline": TimelineStore, "activity": ActivityStore, "crm": CrmStore, "files": FilesStore,
    "followups": FollowUpStore, "merge": MergeStore, "privacy": PrivacyStore, "bulk": BulkStore, "asof": AsOfStore,
}


def assemble(db: Backend, admin: AdminStore) -> dict[str, Part]:
    """The store's parts over ``db``, each given the parts it uses; ``admin`` decides who may do what."""
    parts: dict[str, Part] = {"admin": admin}
    for name, kind in PARTS.items():
        if name not in parts:
            parts[name] = kind(db, **{used: parts[used] for used in kind.uses})
    return parts


#: The schema that brought the search index (migration 0003_search): a store upgraded across it fills the index.
SEARCH_INDEX_SCHEMA = 3


#: The admin cache (lists, users, settings) of each DuckDB file open in this process, shared by the stores open on it
#: (a second store on the file, a notebook's beside a test's): an administrator's change through one is seen by all
#: — a user deactivated through one could go on saving through another. {resolved path: (cache, stores open)}
_SHARED_CACHES: dict[str, tuple[dict[str, Any], int]] = {}
_SHARED_LOCK = threading.Lock()


def _share_cache(location: str) -> str | None:
    if location == ":memory:":
        return None
    key = str(Path(location).expanduser().resolve())
    with _SHARED_LOCK:
        cache, count = _SHARED_CACHES.get(key, ({}, 0))
        _SHARED_CACHES[key] = (cache, count + 1)
    return key


def _unshare_cache(key: str) -> None:
    with _SHARED_LOCK:
        cache, count = _SHARED_CACHES.get(key, ({}, 1))
        if count <= 1:
            _SHARED_CACHES.pop(key, None)  # the last store on the file: a new file there starts afresh
        else:
            _SHARED_CACHES[key] = (cache, count - 1)


class Store:
    """Everything customercard keeps, behind one object. Thread-safe; share one per process.

    A thin front over the parts (:data:`PARTS`): each public method of a part is a method of the store, under the
    same name (see :func:`_offer`); what the store itself does is below."""

    def __init__(self, database: str | Path, migrate_to: int | None = None) -> None:
        self.location = str(database)
        if self.location.startswith(("postgresql://", "postgres://")):
            from .postgres import PostgresDatabase

            self.db: Backend = PostgresDatabase(self.location, migrate_to=migrate_to)
        else:
            self.db = Database(database, migrate_to=migrate_to)
        key = _share_cache(self.location) if self.db.dialect == "duckdb" else None
        cache = _SHARED_CACHES[key][0] if key is not None else None
        # given back when closed, or when this store is gone without being closed
        self._unshare = weakref.finalize(self, _unshare_cache, key) if key is not None else None
        self._parts = assemble(self.db, AdminStore(self.db, cache=cache))
        if self.db.upgraded_from < SEARCH_INDEX_SCHEMA <= self.db.schema_version() and not self.is_empty():
            self.rebuild_search_index()  # schema 3 brought the search index: fill it for existing data

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database (the store cannot be used afterwards)."""
        if self.__dict__.get("_borrowed"):
            return  # the owner closes it
        if self.__dict__.get("_unshare") is not None:
            self._unshare()
        self.db.close()

    def borrowed(self) -> Store:
        """This store for a holder that must not close it (a notebook served by the server that owns it): the same
        connection, caches and changes; its :meth:`close` does nothing."""
        other = shallow_copy(self)
        other._borrowed = True
        return other

    @property
    def changes(self) -> ChangeFeed:
        """Committed changes, as they happen: ``store.changes.subscribe(listener)`` calls ``listener(change)`` for
        each (see :class:`~customercard.store.changes.Change`); with PostgreSQL, those of every process."""
        return self.db.changes

    @property
    def schema_version(self) -> int:
        """The number of the last schema migration applied to the database."""
        return self.db.schema_version()

    def sql(self, query: str, params: list[Any] | tuple[Any, ...] | None = None,
            timeout: float = QUERY_SECONDS, reader: str | None = None) -> pd.DataFrame:
        """Run a read-only query (SELECT …) with parameters and return a DataFrame. It reads the database's own
        tables and views only — no files, no settings of the server, not the tables that keep secrets (users,
        sessions, settings: read ``user_directory`` and ``firm_settings``) nor those of one user's own (saved views,
        preferences, the admin log, the outbox: their methods say who may read them) — and stops after ``timeout``
        seconds. On a server it answers at most ``readonly.SERVER_SQL_ROWS`` rows taking at most
        ``readonly.SERVER_SQL_MB`` megabytes. ``params``: a list (or tuple),
        one value for each ``?`` of the query, in order. ``reader``: whose query it is, when not the file's own
        holder's (the server sets it to an API token's user): one without projects access does not read the tables
        that hold the projects' descriptions (projects, record_changes), and reads the views project_list and
        record_change_list instead."""
        if params is not None and not isinstance(params, list | tuple):
            raise CustomerCardError(_("Give the query's parameters as a list, one value for each ? in the query, in "
                                      "order (not as {kind}).").format(kind=type(params).__name__))
        kept = frozenset()
        if reader is not None:
            try:
                person = self.get_user(reader)
            except NotFound:
                person = None
            if person is None or not (person.active and person.projects_access):
                kept = PROJECT_TABLES
        return self.db.read_only_df(query, params, timeout=timeout, kept=kept)

    def backup(self, target: str | Path) -> Path:
        """Write a consistent copy of the whole database to a new file."""
        path = Path(target)
        self.db.backup(path)
        return path

    def is_empty(self) -> bool:
        """Whether the database holds no customers and no users yet (a fresh one, before the demo or an import)."""
        return self.db.row("SELECT count(*) FROM customers")[0] == 0 and \
            self.db.row("SELECT count(*) FROM users")[0] == 0

    def get_customer(self, customer_id: int, as_of: Any = None) -> Customer:
        """The customer as a param object, with its allowed values filled in from the admin lists. With ``as_of``
        (a date, or a moment), every field as it was at the end of that day (see :meth:`customer_as_of`)."""
        if type(customer_id) is not int:
            customer_id = whole_number(customer_id, "customer_id")
        if as_of is not None:
            return self._parts["asof"].customer_as_of(customer_id, as_of)
        return self._parts["customers"].get_customer(customer_id)

    def as_of(self, day: Any) -> Store:
        """This store, read only, answering as at the end of ``day``: the customer, its comments, contact persons,
        projects, events, opportunities, relations, files, invoiced figures, history and timeline as they stood.
        Writes are refused (PermissionDenied)."""
        return StoreAsOfDay(getattr(self, "base", self), as_day_or_moment(day))


def _forwarded(part: str, name: str, function: Any) -> Any:
    days = _day_parameters(function)
    wholes = _whole_number_parameters(function)
    if days or wholes:
        @functools.wraps(function)
        def reading_days(self: Store, *args: Any, **kwargs: Any) -> Any:
            if wholes:
                args, kwargs = _whole_numbers_read(wholes, args, kwargs)
            if days:
                args, kwargs = _days_read(days, args, kwargs)
            return getattr(self._parts[part], name)(*args, **kwargs)

        return reading_days

    @functools.wraps(function)
    def method(self: Store, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._parts[part], name)(*args, **kwargs)

    return method


def _day_parameters(function: Any) -> dict[str, tuple[int, bool]]:
    """The parameters a method takes a day or a moment in (annotated ``dt.date`` or ``dt.datetime``): {name:
    (position after self, a moment?)}. A notebook (and the server's API, JSON) gives them as ISO texts too."""
    found = {}
    for index, parameter in enumerate(list(inspect.signature(function).parameters.values())[1:]):
        kinds = {part.strip() for part in str(parameter.annotation).split("|")}
        moment, day = bool(kinds & {"dt.datetime", "datetime.datetime"}), bool(kinds & {"dt.date", "datetime.date"})
        if moment != day:  # either (a method that takes both, as the timeline's bounds, reads a text itself)
            found[parameter.name] = (index, moment)
    return found


def _whole_number_parameters(function: Any) -> dict[str, int]:
    """The parameters a method takes a whole number in and nothing else (a customer's or a record's id: annotated
    ``int`` or ``int | None``): {name: position after self}."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # an annotation that does not resolve here: nothing is checked
        return {}
    return {parameter.name: index
            for index, parameter in enumerate(list(inspect.signature(function).parameters.values())[1:])
            if takes_whole_number(hints.get(parameter.name))}


def _whole_numbers_read(wholes: dict[str, int], args: tuple[Any, ...], kwargs: dict[str, Any]
                        ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments with each whole number checked as the server checks it: ``5``, ``numpy.int64(5)``, ``5.0`` (a
    pandas id column with a gap) and ``"5"`` are customer 5; ``5.5`` and ``True`` are refused on their parameter
    (a ValidationError), never read as customer 5 or 1."""
    given: list[Any] | None = None
    for name, index in wholes.items():
        if index < len(args):
            value = args[index]
            if type(value) is not int and value is not None:
                given = list(args) if given is None else given
                given[index] = whole_number(value, name)
        elif name in kwargs:
            value = kwargs[name]
            if type(value) is not int and value is not None:
                kwargs = {**kwargs, name: whole_number(value, name)}
    return (args if given is None else tuple(given)), kwargs


def _days_read(days: dict[str, tuple[int, bool]], args: tuple[Any, ...], kwargs: dict[str, Any]
               ) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """The arguments with each day or moment given as text read (a ValidationError on its parameter for a text that
    is none): ``follow_ups(due_by="2024-06-30")`` as the date, ``due_by="garbage"`` told, not a database error."""
    given = list(args)
    for name, (index, moment) in days.items():
        if index < len(given):
            if isinstance(given[index], str):
                given[index] = as_moment(given[index], name) if moment else as_date(given[index], name)
        elif isinstance(kwargs.get(name), str):
            kwargs = {**kwargs, name: as_moment(kwargs[name], name) if moment else as_date(kwargs[name], name)}
    return tuple(given), kwargs


def _offer(front: type) -> None:
    """Give the store's front each part's offered methods (those the front does not define itself)."""
    for part, kind in PARTS.items():
        for name in kind.offered():
            if name not in front.__dict__:
                setattr(front, name, _forwarded(part, name, vars(kind)[name]))


_offer(Store)


class StoreAsOfDay(AsOfDayReads, Store):
    """A store read as of a day (made by :meth:`Store.as_of`): the same database and lists, its parts given an admin
    part that refuses every write, and the customer and its records as they stood at the end of :attr:`day`."""

    def __init__(self, base: Store, day: dt.date | dt.datetime) -> None:  # the database is base's: no Store.__init__
        self.base = base
        self.day = day
        self.location = base.location
        self.db = base.db
        self._parts = assemble(self.db, AdminAsOfDay(base._parts["admin"], day))
        self._borrowed = True  # the view shares the store's connection: closing it closes nothing

    def __repr__(self) -> str:
        return f"{self.base!r}.as_of({self.day!r})"

    def _today(self, name: str) -> Any:
        return getattr(super(AsOfDayReads, self), name)

    def history(self, customer_id: int, field: str | None = None) -> pd.DataFrame:
        frame = super(AsOfDayReads, self).history(customer_id, field)
        return frame[frame["changed_at"] <= self._parts["asof"].cutoff(self.day)].reset_index(drop=True)

    def invoices(self, customer_id: int, year: int | None = None, project: int | None = None) -> pd.DataFrame:
        return self.base.invoices_as_of(customer_id, self.day, year=year, project=project)


log = logging.getLogger(__name__)


def is_url(database: str | Path) -> bool:
    """Whether ``database`` names a PostgreSQL database (else a DuckDB file)."""
    return str(database).startswith(("postgresql://", "postgres://"))


def open_store(database: str | Path | None = None, *, through_server: bool = True) -> Store | RemoteStore:
    """The store: a path or a postgresql:// URL, else CUSTOMERCARD_DB, else the data folder's DuckDB file.

    A DuckDB file is held by one process. When a customercard server of this machine holds it (its discovery file
    beside the database says so, and it answers), the store is reached through that server — a
    :class:`~customercard.store.remote.RemoteStore` with the same API — and a line says so; in a page that server
    serves (a notebook it serves), it is the server's own store. Otherwise (or with ``through_server=False``) the
    database is opened here, created and migrated as needed."""
    target = str(database if database is not None else get_config().database)
    if through_server and not is_url(target) and target != ":memory:":
        found = _served_here(database) or _served_nearby(target)
        if found is not None:
            return found
    return Store(target)


def _served_here(database: str | Path | None) -> Store | None:
    """In a session served by a customercard server of this process: its store, when it holds ``database``."""
    server = sys.modules.get("customercard.server")
    return server.session_server_store(database) if server is not None else None


def _served_nearby(database: str) -> RemoteStore | None:
    from .discovery import find_server

    found = find_server(database)
    if found is None:
        return None
    store = RemoteStore(found.url, key=found.key, database=found.database,
                        find_again=lambda: find_server(database))
    message = _("Using the running server at {url} ({name} is in use by it).").format(url=found.url,
                                                                                       name=Path(database).name)
    log.info(message)
    print(message)  # noqa: T201 - the analyst is told which store they got
    return store


from .remote import RemoteAsOfDay, RemoteStore, connect, offer_remotely  # noqa: E402  (the remote store is made from Store's methods)

offer_remotely(Store)

#: What a view may be given as its store.
STORE_TYPES = (Store, RemoteStore, RemoteAsOfDay)

__all__ = ["LATEST_SCHEMA", "STORE_TYPES", "SYSTEM_PREFIX", "Change", "ChangeFeed", "RemoteStore", "Store", "connect",
           "is_url", "open_store"]
