"""The system of record: :class:`Store` and :func:`open_store`.

The store never imports Panel. It owns the connection (one per process, a cursor per thread), the
schema migrations, transactions, permissions, history and optimistic concurrency; its queries are
parameterised and kept in this package.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from ..config import get_config
from .activity import ActivityStore
from .admin import SYSTEM_PREFIX, AdminStore
from .asof import AsOfStore
from .changes import Change, ChangeFeed
from .crm import CrmStore
from .customers import CustomerStore
from .database import LATEST_SCHEMA, Database
from .exports import ExportStore
from .files import FilesStore
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


class Store(AdminStore, CustomerStore, AsOfStore, TimelineStore, ActivityStore, PeopleStore, InvoicingStore,
            PrefsStore, RecordHistoryStore, SearchStore, ExportStore, MergeStore, CrmStore, FilesStore, OutboxStore,
            SessionStore, PrivacyStore):
    """Everything customercard keeps, behind one object. Thread-safe; share one per process."""

    def __init__(self, database: str | Path, migrate_to: int | None = None) -> None:
        self.location = str(database)
        if self.location.startswith(("postgresql://", "postgres://")):
            from .postgres import PostgresDatabase

            self.db: Any = PostgresDatabase(self.location, migrate_to=migrate_to)
        else:
            self.db = Database(database, migrate_to=migrate_to)
        self._cache: dict[str, Any] = {}
        if self.db.upgraded_from < 3 <= self.db.schema_version() and not self.is_empty():
            self.rebuild_search_index()  # schema 3 brought the search index: fill it for existing data

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.db.close()

    @property
    def changes(self) -> ChangeFeed:
        """Committed changes, as they happen: ``store.changes.subscribe(listener)`` calls ``listener(change)`` for
        each (see :class:`~customercard.store.changes.Change`); with PostgreSQL, those of every process."""
        return self.db.changes

    @property
    def schema_version(self) -> int:
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
        return self.db.row("SELECT count(*) FROM customers")[0] == 0 and \
            self.db.row("SELECT count(*) FROM users")[0] == 0


def open_store(database: str | Path | None = None) -> Store:
    """Open (creating and migrating as needed) the store: a path, else CUSTOMERCARD_DB, else the data folder's."""
    return Store(database if database is not None else get_config().database)


__all__ = ["LATEST_SCHEMA", "SYSTEM_PREFIX", "Change", "ChangeFeed", "Store", "open_store"]
