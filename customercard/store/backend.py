"""What every store part is given as its database: the :class:`Backend` interface, and :class:`SqlBackend`, the one
implementation of what DuckDB and PostgreSQL do alike — a cursor per thread, transactions (nested calls join the
open one; changes announced inside are told once it commits), the query helpers, and the schema migrations.

The two backends (:class:`~customercard.store.database.Database` for DuckDB, :class:`~customercard.store.postgres.
PostgresDatabase`) differ only where their drivers and SQL do: how a thread gets its connection, whether writes of
this process queue behind one lock (DuckDB) or the server orders them (PostgreSQL), how committed changes reach other
listeners (in-process, or PostgreSQL's NOTIFY to every process), and the dialect's own statements.
"""

from __future__ import annotations

import abc
import contextlib
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from ..errors import CustomerCardError, ValidationError, WriteConflict
from ..i18n import _
from .changes import Change, ChangeFeed
from .readonly import QUERY_SECONDS
from .schema import LATEST_SCHEMA, migrations, split_statements, utcnow


class Cursor(Protocol):
    """The cursor API the store's SQL is written against (DuckDB's; PostgreSQL's is wrapped to speak it)."""

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor: ...
    def fetchone(self) -> tuple | None: ...
    def fetchall(self) -> list[tuple]: ...
    def df(self) -> pd.DataFrame: ...

    @property
    def description(self) -> Any: ...


class Memory(Protocol):
    """What a backend holds in this process's memory, given back when the server is idle."""

    def release(self) -> float: ...
    def hold(self, columns: dict[str, Sequence[str]], at_most: float = 0.25) -> float: ...
    def keep_within(self, within_mb: float, what: str = ...) -> None: ...
    def bulk(self, share: float = 0.4) -> AbstractContextManager[None]: ...
    def stop(self) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """A database as the store's parts use it. SQL is written once with ``?`` placeholders; the few places where
    the dialects differ go through the helpers here (:meth:`any_of`, :meth:`in_list`, :meth:`prefix`,
    :meth:`reserve_ids` …) or test :attr:`dialect`."""

    dialect: str
    path: str
    sql_max_rows: int | None
    sql_max_mb: float | None
    changes: ChangeFeed
    memory: Memory
    upgraded_from: int

    def cursor(self) -> Cursor: ...
    def close(self) -> None: ...
    def transaction(self) -> AbstractContextManager[Cursor]: ...
    def snapshot(self) -> AbstractContextManager[None]: ...
    @property
    def in_transaction(self) -> bool: ...
    def announce(self, change: Change) -> None: ...
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Cursor: ...
    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]: ...
    def row(self, sql: str, params: Sequence[Any] | None = None) -> tuple | None: ...
    def records(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]: ...
    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame: ...
    def read_only_df(self, sql: str, params: Sequence[Any] | None = None, timeout: float = QUERY_SECONDS,
                     kept: frozenset[str] = frozenset()) -> pd.DataFrame: ...
    def insert_df(self, table: str, frame: pd.DataFrame, order_by: str | None = None) -> None: ...
    def any_of(self, column: str) -> str: ...
    def in_list(self, column: str, count: int, ids: bool = False) -> str: ...
    def prefix(self, column: str, text: str) -> tuple[str, list[Any]]: ...
    def reserve_ids(self, sequence: str, count: int) -> list[int]: ...
    def claim(self, name: str) -> bool: ...
    def advance_sequence(self, sequence: str, top: int) -> None: ...
    @property
    def closed(self) -> bool: ...
    def checkpoint(self) -> None: ...
    def backup(self, target: Path) -> None: ...
    def schema_version(self) -> int: ...
    def migrate(self, target: int | None = None) -> int: ...


def checked_name(name: str) -> str:
    """A table or sequence name that may be written into SQL (lower-case letters and underscores only)."""
    if not re.fullmatch(r"[a-z_]+", name):
        raise ValueError(f"bad table or sequence name {name!r}")
    return name


def frame_of(rows: Sequence[Sequence[Any]], kinds: dict[str, str]) -> pd.DataFrame:
    """Rows (tuples in the order of ``kinds``) as a DataFrame typed as DuckDB's ``.df()`` types them, on either
    backend and for no rows too: ``kinds`` names each column's kind — 'int' (int32; Int32 when one is missing),
    'bigint' (int64; Int64), 'float' (float64, NaN for missing), 'bool' (bool; boolean when one is missing),
    'datetime' (dates and timestamps as datetime64[us], NaT for missing) or 'text' (pandas' string dtype; object
    for no rows, as DuckDB gives).

    For the small reads a page makes (a customer's contacts, comments …): a frame built from the fetched rows
    costs about half of DuckDB's ``.df()`` (0.35 against 0.7 ms for a customer's contact persons), and the
    statement before it can stay one indexed lookup whose filtering and ordering are done here."""
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(kinds)
    data: dict[str, Any] = {}
    for (name, kind), values in zip(kinds.items(), columns, strict=True):
        data[name] = _typed_column(values, kind)
    return pd.DataFrame(data)


_NUMPY_KINDS = {"int": ("int32", "Int32"), "bigint": ("int64", "Int64"), "bool": ("bool", "boolean")}


def _typed_column(values: Sequence[Any], kind: str) -> Any:
    """One column of :func:`frame_of`."""
    if kind in _NUMPY_KINDS:
        plain, nullable = _NUMPY_KINDS[kind]
        return pd.array(values, dtype=nullable) if None in values else np.array(values, dtype=plain)
    if kind == "float":
        return np.array([float("nan") if v is None else float(v) for v in values], dtype="float64")
    if kind == "datetime":
        return np.array(values, dtype="datetime64[us]")
    if kind == "text":
        return list(values) if values else np.array([], dtype=object)
    raise ValueError(f"unknown column kind {kind!r}")


def counted(value: Any, field: str = "limit") -> int:
    """A number of rows asked for (a limit, an offset): a whole number from 0; a ValidationError on ``field`` for
    anything else (the database's own error said nothing of which argument)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        number = -1
    if number < 0 or number > MAX_COUNT or number != value:
        raise ValidationError({field: _("A whole number from 0 to {n}.").format(n=MAX_COUNT)})
    return number


#: The most rows a limit or an offset may name (a database's whole number).
MAX_COUNT = 2**62


def checked_status(status: str | None, statuses: tuple[str, ...]) -> None:
    """A status asked for that is none of ``statuses`` is refused (it would answer an empty frame, as if nothing
    were in it)."""
    if status and status not in statuses:
        raise ValidationError({"status": _("One of {values}.").format(values=", ".join(statuses))})


def of_customer_and_status(alias: str, customer_id: int | None, status: str | None,
                           statuses: tuple[str, ...]) -> tuple[list[str], list[Any]]:
    """WHERE conditions and their parameters for the rows of table ``alias`` of one customer and in one status,
    each only when given (``TRUE`` alone: every row). A status that is none of ``statuses`` is refused (it would
    answer an empty frame, as if nothing were in it)."""
    where, params = ["TRUE"], []
    if customer_id is not None:
        where.append(f"{alias}.customer_id = ?")
        params.append(int(customer_id))
    checked_status(status, statuses)
    if status:
        where.append(f"{alias}.status = ?")
        params.append(status)
    return where, params


class SqlBackend(abc.ABC):
    """What both backends share. A subclass gives :meth:`cursor` (this thread's), :attr:`driver_errors` (what its
    cursor raises), and where it differs: :meth:`_writes` (what serialises this process's writes),
    :meth:`_tell_before_commit` / :meth:`_tell_after_commit` (how committed changes are told),
    :meth:`_migrating` (what keeps two processes from migrating at once) and the dialect's SQL."""

    dialect: ClassVar[str]
    #: What the driver's cursor raises (PostgreSQL's wrapped cursor raises CustomerCardError).
    driver_errors: ClassVar[tuple[type[BaseException], ...]] = (CustomerCardError,)
    #: The query that finds the schema_info table (in the connection's schema).
    SCHEMA_TABLE_QUERY: ClassVar[str] = ("SELECT count(*) FROM information_schema.tables "
                                         "WHERE table_name = 'schema_info'")
    #: A table function giving ``?`` rows, for taking many values of a sequence at once.
    SERIES: ClassVar[str] = "range(?)"

    def __init__(self, path: str) -> None:
        self.path = path
        self._local = threading.local()
        #: Committed changes, told to subscribers (see :mod:`customercard.store.changes`).
        self.changes = ChangeFeed()
        self.upgraded_from = 0
        #: The most rows an analyst's query (:meth:`read_only_df`) may answer; None: no bound (a store of one's own).
        #: A server sets it (readonly.SERVER_SQL_ROWS): its memory is everyone's.
        self.sql_max_rows: int | None = None
        #: The most megabytes such an answer may take; None: no bound (readonly.SERVER_SQL_MB on a server).
        self.sql_max_mb: float | None = None

    # -- for subclasses --------------------------------------------------------------------------------
    @abc.abstractmethod
    def cursor(self) -> Any:
        """This thread's cursor (the open transaction's, if this thread has one)."""

    def _writes(self) -> AbstractContextManager[Any]:
        """Held for the whole of a write transaction (nothing by default: the database orders writes)."""
        return contextlib.nullcontext()

    def _tell_before_commit(self, cur: Any, changes: list[Change]) -> None:  # noqa: B027 - a hook, empty by default
        """Changes announced in a transaction, told inside it before it commits (nothing by default)."""

    def _tell_after_commit(self, changes: list[Change]) -> None:
        """Changes announced in a transaction that committed (or announced outside one): to the subscribers."""
        for change in changes:
            self.changes.publish(change)

    def _migrating(self, cur: Any) -> None:  # noqa: B027 - a hook, empty by default
        """Called first in each migration's transaction (one process at a time may migrate)."""

    def _shown_path(self) -> str:
        """The database as messages name it."""
        return self.path

    # -- transactions ----------------------------------------------------------------------------------
    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One write transaction on this thread's cursor; store calls made inside it on this thread join it, so
        composed operations (a merge that saves) stay one transaction. Changes announced inside are told only
        once it commits; on any error it rolls back and nothing is told."""
        if self.in_transaction:
            yield self.cursor()
            return
        with self._writes():
            cur = self.cursor()
            cur.execute("BEGIN TRANSACTION")
            self._local.in_transaction = True
            self._local.announced = []
            self._local.after_commit = []
            try:
                yield cur
            except BaseException as exc:
                self._end_transaction()
                self._local.after_commit = None
                self._quietly(cur, "ROLLBACK")
                if self._write_conflict(exc):
                    raise WriteConflict(_("Someone else wrote the same rows at the same moment (another store "
                                          "open on this database): nothing was saved; try again.")) from exc
                raise
            announced = self._end_transaction()
            try:
                self._tell_before_commit(cur, announced)
                cur.execute("COMMIT")
            except self.driver_errors as exc:
                self._local.after_commit = None
                self._quietly(cur, "ROLLBACK")
                raise CustomerCardError(_("The change could not be committed: {exc}").format(
                    exc=exc.__cause__ or exc)) from exc
        waiting, self._local.after_commit = getattr(self._local, "after_commit", None) or [], None
        self._tell_after_commit(announced)
        for then in waiting:
            then()

    def after_commit(self, then: Callable[[], None]) -> None:
        """Call ``then`` once this thread's write transaction has committed (at once outside one; never when it
        rolls back): what a process keeps of the database (a cache) is forgotten when others can read the change,
        not before — a read between the two would keep what it read."""
        waiting = getattr(self._local, "after_commit", None) if self.in_transaction else None
        if waiting is None:
            then()
        else:
            waiting.append(then)

    #: How a read snapshot (:meth:`snapshot`) begins.
    SNAPSHOT_BEGIN = "BEGIN TRANSACTION READ ONLY"

    @contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads made inside, on this thread, see the database as at one moment: a read-only transaction on this
        thread's cursor (inside a write transaction, that one). A search's lookups and the rows they point at then
        agree whatever commits meanwhile: a save renaming the customer found made a third of the searches for it
        miss it, its entries found by one statement and gone by the next."""
        if self.in_transaction:
            yield
            return
        cur = self.cursor()
        cur.execute(self.SNAPSHOT_BEGIN)
        self._local.in_transaction = True
        self._local.announced = []
        try:
            yield
        finally:
            self._end_transaction()
            self._quietly(cur, "COMMIT")

    def _write_conflict(self, exc: BaseException) -> bool:  # noqa: ARG002 - the backends that have one say so
        """Whether ``exc`` is the database refusing a write that met another connection's at the same moment."""
        return False

    def _end_transaction(self) -> list[Change]:
        self._local.in_transaction = False
        announced, self._local.announced = getattr(self._local, "announced", []), []
        return announced

    def _quietly(self, cur: Any, statement: str) -> None:
        try:
            cur.execute(statement)
        except self.driver_errors:
            pass

    @property
    def in_transaction(self) -> bool:
        """Whether this thread has a transaction open."""
        return bool(getattr(self._local, "in_transaction", False))

    def announce(self, change: Change) -> None:
        """Announce a change made in this thread's transaction: subscribers hear of it once it commits (and never
        if it rolls back). Outside a transaction it is told at once."""
        if self.in_transaction:
            self._local.announced.append(change)
        else:
            self._tell_before_commit(self.cursor(), [change])
            self._tell_after_commit([change])

    # -- queries ---------------------------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        return self.cursor().execute(sql, list(params or []))

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.execute(sql, params).fetchall()

    def row(self, sql: str, params: Sequence[Any] | None = None) -> tuple | None:
        return self.execute(sql, params).fetchone()

    def records(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        cur = self.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]

    def df(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        return self.execute(sql, params).df()

    def reserve_ids(self, sequence: str, count: int) -> list[int]:
        """Take ``count`` values from a sequence at once (bulk loads give rows their ids up front)."""
        checked_name(sequence)
        if count <= 0:
            return []
        rows = self.rows(f"SELECT nextval('{sequence}') FROM {self.SERIES}", [int(count)])
        return sorted(int(r[0]) for r in rows)

    # -- migrations ------------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The number of the last migration applied (0 for a new database)."""
        exists = self.row(self.SCHEMA_TABLE_QUERY)
        if not exists or not exists[0]:
            return 0
        row = self.row("SELECT max(version) FROM schema_info")
        return int(row[0] or 0) if row else 0

    def migrate(self, target: int | None = None) -> int:
        """Apply the migrations the database lacks, each in its own transaction; refuse a newer database."""
        current = self.schema_version()
        if current > LATEST_SCHEMA:
            raise CustomerCardError(
                _("{path} was written by a newer customercard (schema {current}; this version knows up to "
                  "{latest_schema}). Upgrade customercard to open it.").format(
                      path=self._shown_path(), current=current, latest_schema=LATEST_SCHEMA))
        target = LATEST_SCHEMA if target is None else target
        self.upgraded_from = current
        for number, _name, sql in migrations(self.dialect):
            if current < number <= target:
                with self.transaction() as cur:
                    self._migrating(cur)
                    if self.schema_version() >= number:
                        continue  # another process applied it meanwhile
                    cur.execute("CREATE TABLE IF NOT EXISTS schema_info (version INTEGER NOT NULL, "
                                "applied_at TIMESTAMP NOT NULL)")
                    for statement in split_statements(sql):
                        cur.execute(statement)
                    cur.execute("INSERT INTO schema_info VALUES (?, ?)", [number, utcnow()])
                current = number
        return current


__all__ = ["Backend", "Cursor", "Memory", "SqlBackend", "checked_name", "frame_of"]


def redact_url(url: str) -> str:
    """A database URL without its password, for messages."""
    return re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", url)
