"""The system of record: :class:`Store` and :func:`open_store`.

The store never imports Panel. It owns the connection (one per process, a cursor per thread), the
schema migrations, transactions, permissions, history and optimistic concurrency; its queries are
parameterised and kept in this package.
"""

from __future__ import annotations

import copy
import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from ..config import get_config
from ..i18n import _
from .activity import ActivityStore
from .admin import SYSTEM_PREFIX, AdminStore
from .asof import AsOfStore
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
from .people import PeopleStore
from .prefs import PrefsStore
from .privacy import PrivacyStore
from .readonly import QUERY_SECONDS
from .records import RecordHistoryStore
from .search import SearchStore
from .sessions import SessionStore
from .timeline import TimelineStore
from .tokens import TokenStore
from .views import SavedViewStore

#: The schema that brought the search index (migration 0003_search): a store upgraded across it fills the index.
SEARCH_INDEX_SCHEMA = 3


class Store(AdminStore, CustomerStore, AsOfStore, TimelineStore, ActivityStore, PeopleStore, InvoicingStore,
            PrefsStore, RecordHistoryStore, SearchStore, ExportStore, MergeStore, CrmStore, FilesStore, OutboxStore,
            SessionStore, PrivacyStore, TokenStore, SavedViewStore, BulkStore,
            FollowUpStore):
    """Everything customercard keeps, behind one object. Thread-safe; share one per process."""

    def __init__(self, database: str | Path, migrate_to: int | None = None) -> None:
        self.location = str(database)
        if self.location.startswith(("postgresql://", "postgres://")):
            from .postgres import PostgresDatabase

            self.db: Any = PostgresDatabase(self.location, migrate_to=migrate_to)
        else:
            self.db = Database(database, migrate_to=migrate_to)
        self._cache: dict[str, Any] = {}
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
        self.db.close()

    def borrowed(self) -> Store:
        """This store for a holder that must not close it (a notebook served by the server that owns it): the same
        connection, caches and changes; its :meth:`close` does nothing."""
        other = copy.copy(self)
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
            timeout: float = QUERY_SECONDS) -> pd.DataFrame:
        """Run a read-only query (SELECT …) with parameters and return a DataFrame. It reads the database's own
        tables and views only — no files, no settings of the server, not the tables that keep secrets (users,
        sessions, settings: read ``user_directory`` and ``firm_settings``) — and stops after ``timeout`` seconds."""
        return self.db.read_only_df(query, params, timeout=timeout)

    def backup(self, target: str | Path) -> Path:
        """Write a consistent copy of the whole database to a new file."""
        path = Path(target)
        self.db.backup(path)
        return path

    def is_empty(self) -> bool:
        """Whether the database holds no customers and no users yet (a fresh one, before the demo or an import)."""
        return self.db.row("SELECT count(*) FROM customers")[0] == 0 and \
            self.db.row("SELECT count(*) FROM users")[0] == 0


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
    store = RemoteStore(found.url, key=found.key, database=found.database)
    message = _("Using the running server at {url} ({name} is in use by it).").format(url=found.url,
                                                                                       name=Path(database).name)
    log.info(message)
    print(message)  # noqa: T201 - the analyst is told which store they got
    return store


from .remote import RemoteStore, connect  # noqa: E402  (the remote store is made from Store's methods)

#: What a view may be given as its store.
STORE_TYPES = (Store, RemoteStore)

__all__ = ["LATEST_SCHEMA", "STORE_TYPES", "SYSTEM_PREFIX", "Change", "ChangeFeed", "RemoteStore", "Store", "connect",
           "is_url", "open_store"]
