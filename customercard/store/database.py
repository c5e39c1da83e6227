"""Connections, transactions and schema migrations: the only module that talks to the database driver.

One connection per process; every thread gets its own cursor; writes are serialised by a lock and run
as one short transaction each. A write transaction on a thread is joined by any store call made on the
same thread while it is open, so composed operations (a merge that saves) stay one transaction.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy  # noqa: F401  (numpy must be imported before DuckDB starts threads)
import pandas as pd

from .. import formatting
from ..errors import CustomerCardError
from ..i18n import _
from .backend import SqlBackend, checked_name, redact_url
from .duckdb_memory import DuckDBMemory
from .readonly import (
    QUERY_SECONDS,
    TOO_LARGE,
    TOO_MANY_ROWS,
    answer_mb,
    check_duckdb_query,
    duckdb_readable,
    plain_params,
)
from .schema import LATEST_SCHEMA, MIGRATIONS_PACKAGE, migrations, split_statements, utcnow

log = logging.getLogger(__name__)

_VALUES = re.compile(r"VALUES\s*(\((?:\s*\?\s*,)*\s*\?\s*\))", re.IGNORECASE)


def execute_rows(cur: Any, sql: str, rows: Sequence[Sequence[Any]], chunk: int = 500) -> None:
    """Run an ``INSERT … VALUES (?, …)`` for many rows as multi-row statements.

    DuckDB's ``executemany`` runs one statement per row (12 rows: about 6 ms, against 0.7 ms as one
    statement), and PostgreSQL takes a multi-row VALUES just as well.
    """
    rows = [list(row) for row in rows]
    if not rows:
        return
    match = _VALUES.search(sql)
    if match is None:
        raise ValueError("execute_rows needs an INSERT with one VALUES (?, …) group")
    head, group, tail = sql[:match.start(1)], match.group(1), sql[match.end(1):]
    for start in range(0, len(rows), chunk):
        part = rows[start:start + chunk]
        cur.execute(head + ", ".join([group] * len(part)) + tail, [value for row in part for value in row])


#: The least memory limit DuckDB is given when one is configured, in MB.
MIN_MEMORY_MB = 100



#: The write lock of each DuckDB file open in this process (kept: a lock holds nothing about the file).
_FILE_LOCKS: dict[str, threading.RLock] = {}
_FILE_LOCKS_LOCK = threading.Lock()


def _file_write_lock(path: str) -> threading.RLock:
    """The write lock of ``path`` in this process (a new one for an in-memory database)."""
    if path == ":memory:":
        return threading.RLock()
    key = str(Path(path).expanduser().resolve())
    with _FILE_LOCKS_LOCK:
        return _FILE_LOCKS.setdefault(key, threading.RLock())

#: What a DuckDB database file holds at bytes 8–11 (its header's magic).
DUCKDB_MAGIC = b"DUCK"


def _refuse_other_files(path: Path) -> None:
    """A file that is there and is no DuckDB database is refused with one clear line: DuckDB opens a CSV or a
    Parquet file as a read-only view of it, and the store would then have run on a throw-away database in memory,
    reporting success ("Added boss (admin).") and keeping nothing."""
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return  # (not there: made; a folder or no access: DuckDB says so)
    if head and head[8:12] != DUCKDB_MAGIC:
        raise CustomerCardError(_("{path} is not a DuckDB database file: check --db (or CUSTOMERCARD_DB).").format(
            path=path))


class Database(SqlBackend):
    """An embedded DuckDB database file (the default backend): one connection per process, a cursor per thread,
    this process's writes one at a time behind a lock (DuckDB lets one process write a file)."""

    dialect = "duckdb"

    def __init__(self, path: str | Path, migrate_to: int | None = None) -> None:
        import duckdb

        super().__init__(str(path))
        self._duckdb = duckdb
        self.driver_errors = (duckdb.Error,)
        if "://" in self.path:  # a mistyped URL (postgresq://…) would become folders named after it, password too
            raise CustomerCardError(_("{database} is neither a PostgreSQL URL (postgresql://…) nor a DuckDB file.")
                                    .format(database=redact_url(self.path)))
        new = False
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _refuse_other_files(Path(self.path))
            new = not Path(self.path).exists()
        try:
            self._conn = duckdb.connect(self.path)
        except duckdb.IOException as exc:
            raise CustomerCardError(_explain_open_error(self.path, exc)) from None
        except duckdb.Error as exc:
            raise CustomerCardError(_("Cannot open the database {path}: {exc}").format(
                path=self.path, exc=exc)) from None
        if new:  # it will hold password hashes and personal data: for its owner only, as the cookie secret is
            owner_only(Path(self.path))
        # one write lock per file in this process: two stores on one file (two notebooks) take turns as one does
        self._write_lock = _file_write_lock(self.path)
        self._cursors: list[Any] = []
        self._cursors_lock = threading.Lock()
        limit_mb = self._limit_memory()
        self.migrate(migrate_to)
        self.cursor().execute("SELECT 1 AS warm").df()  # the first .df() is slow: pay it now
        #: What DuckDB holds in memory, given back when the server is idle (see :mod:`.duckdb_memory`).
        self.memory = DuckDBMemory(self._conn, self.cursor, self._write_lock, configured_mb=limit_mb)

    def _limit_memory(self) -> int:
        """DuckDB's memory limit as configured (``CUSTOMERCARD_DUCKDB_MEMORY_MB``; 0 leaves DuckDB's own): the MB."""
        from ..config import get_config

        megabytes = get_config().duckdb_memory_mb
        if not megabytes:
            return 0
        if megabytes < MIN_MEMORY_MB:
            self._conn.close()
            raise CustomerCardError(_("CUSTOMERCARD_DUCKDB_MEMORY_MB must be 0 (DuckDB's own limit) or at least "
                                      "{least}, not {value}.").format(least=MIN_MEMORY_MB, value=megabytes))
        self._conn.execute(f"SET memory_limit = '{int(megabytes)}MB'")
        return megabytes

    def _writes(self) -> threading.RLock:
        return self._write_lock

    # -- connections -----------------------------------------------------------------------------------
    def cursor(self) -> Any:
        """This thread's cursor (the open transaction's, if this thread has one)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._conn.cursor()
            self._local.cursor = cur
            with self._cursors_lock:
                self._cursors.append(cur)
        return cur

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the database cannot be used any more)."""
        return self.__dict__.get("_closed", False)

    def close(self) -> None:
        self._closed = True
        self.memory.stop()
        with self._cursors_lock:
            for cur in self._cursors:
                try:
                    cur.close()
                except Exception:  # noqa: S110 - a cursor of a finished thread may be gone already
                    pass
            self._cursors.clear()
        for _attempt in range(100):  # a query of another thread may still be finishing: wait for it, a while
            try:
                self._conn.close()
                return
            except self._duckdb.Error as exc:
                if "busy" not in str(exc):
                    raise
                time.sleep(0.05)
        self._conn.close()

    def read_only_df(self, sql: str, params: Sequence[Any] | None = None, timeout: float = QUERY_SECONDS,
                     kept: frozenset[str] = frozenset()) -> pd.DataFrame:
        """Run an analyst's query in a read-only transaction, stopped after ``timeout`` seconds. Anything but one
        SELECT, and any SELECT that would read besides the database's own tables (files, other databases, settings,
        the tables that keep secrets, the tables ``kept`` from this reader), is refused before it runs (see
        :mod:`customercard.store.readonly`)."""
        try:
            statements = self._duckdb.extract_statements(sql)
        except self._duckdb.Error as exc:
            raise CustomerCardError(_("The query failed: {exc}").format(exc=exc)) from None
        if len(statements) != 1:
            raise CustomerCardError(_("Give exactly one SELECT statement."))
        if statements[0].type != self._duckdb.StatementType.SELECT:
            raise CustomerCardError(_("Only read queries (SELECT …) are allowed here."))
        cur = self._conn.cursor()
        try:
            cur.execute("BEGIN TRANSACTION READ ONLY")
            tree = json.loads(cur.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0])
            check_duckdb_query(tree, duckdb_readable(cur, kept))
            stop = threading.Timer(timeout, cur.interrupt)
            stop.start()
            try:
                cur.execute(sql, plain_params(params))
                if self.sql_max_rows is None and self.sql_max_mb is None:
                    return cur.df()
                return self._bounded_frame(cur, self.sql_max_rows, self.sql_max_mb)
            finally:
                stop.cancel()
        except self._duckdb.InterruptException:
            raise CustomerCardError(_("The query was stopped after {timeout} seconds.").format(
                timeout=formatting.figure(timeout))) from None
        except self._duckdb.Error as exc:
            raise CustomerCardError(_("The query failed: {exc}").format(exc=exc)) from None
        finally:
            try:
                cur.execute("ROLLBACK")
            finally:
                cur.close()

    @staticmethod
    def _bounded_frame(cur: Any, most: int | None, most_mb: float | None = None) -> pd.DataFrame:
        """The answer of the query run on ``cur``, read a chunk at a time as DuckDB makes it, refused (nothing kept)
        once it has more than ``most`` rows or takes more than ``most_mb`` megabytes."""
        most = most if most is not None else float("inf")
        most_mb = most_mb if most_mb is not None else float("inf")
        # a vector (2,048 rows) at a time when a few rows may be huge, else 16 at once
        vectors = 1 if most_mb != float("inf") else 16
        chunks = [cur.fetch_df_chunk(vectors)]  # the first, even empty, gives the columns and their types
        rows, size = len(chunks[0]), answer_mb(chunks[0])
        while rows <= most and size <= most_mb and not chunks[-1].empty:
            chunks.append(cur.fetch_df_chunk(vectors))
            rows += len(chunks[-1])
            size += answer_mb(chunks[-1])
        if rows > most:
            raise CustomerCardError(_(TOO_MANY_ROWS).format(rows=formatting.number(most)))
        if size > most_mb:
            raise CustomerCardError(_(TOO_LARGE).format(mb=formatting.number(most_mb)))
        chunks = [chunk for chunk in chunks if not chunk.empty] or chunks[:1]  # an empty last one has no types
        return chunks[0] if len(chunks) == 1 else pd.concat(chunks, ignore_index=True)

    def insert_df(self, table: str, frame: pd.DataFrame, order_by: str | None = None) -> None:
        """Append a DataFrame whose columns are named as the table's (bulk loads: demo, import, copies);
        ``order_by`` (a column) writes the rows sorted, which DuckDB's range lookups then skip through."""
        if not re.fullmatch(r"[a-z_]+", table) or (order_by and order_by not in frame.columns):
            raise ValueError(f"bad table or column {table!r} {order_by!r}")
        cur = self.cursor()
        cur.register("_bulk_frame", frame)
        try:
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            order = f' ORDER BY "{order_by}"' if order_by else ""
            cur.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _bulk_frame{order}")
        finally:
            cur.unregister("_bulk_frame")

    @staticmethod
    def any_of(column: str) -> str:
        """SQL testing ``column`` against a list given as one parameter (the column name is a constant)."""
        return f"{column} IN (SELECT unnest(?))"

    @staticmethod
    def prefix(column: str, text: str) -> tuple[str, list[Any]]:
        """A condition 'column starts with text' as a range, which the sorted search tables answer fast."""
        return f"{column} >= ? AND {column} < ?", [text, text + "\uffff"]

    @staticmethod
    def in_list(column: str, count: int, ids: bool = False) -> str:
        """SQL testing ``column`` against ``count`` parameters; unlike :meth:`any_of`, DuckDB answers this
        from an index (a list parameter makes it scan the table).

        ``ids=True`` for keys from a sequence (never negative): the list then starts with -1, because
        DuckDB turns a list of consecutive integers into a range, which it scans instead of using the
        index (two neighbouring entry ids: 5 ms against 0.6 ms on 4 million rows)."""
        marks = ", ".join("?" for _ in range(max(count, 1)))
        return f"{column} IN (-1, {marks})" if ids else f"{column} IN ({marks})"

    @staticmethod
    def claim(name: str) -> bool:  # noqa: ARG004 - same interface as Backend.claim (PostgreSQL locks the name)
        """Whether this process may do the one-at-a-time job ``name``: always, one process owns a DuckDB file."""
        return True

    def advance_sequence(self, sequence: str, top: int) -> None:
        """Make ``sequence`` hand out values above ``top`` (after rows were copied in with their ids)."""
        checked_name(sequence)
        value = int(self.row(f"SELECT nextval('{sequence}')")[0])
        if value < top:  # taken up to top itself: the next is top + 1 (one more skipped a number every time)
            self.rows(f"SELECT max(nextval('{sequence}')) FROM range(?)", [top - value])

    def _write_conflict(self, exc: BaseException) -> bool:
        # two Store objects on one file in one process (a notebook's second open_store): DuckDB's own writers are
        # not serialised by one lock, and the second to write the same rows is refused ("Conflict on update")
        return isinstance(exc, self._duckdb.TransactionException) and "conflict" in str(exc).lower()

    def checkpoint(self) -> None:
        self.cursor().execute("CHECKPOINT")

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole database into a new file."""
        if target.exists():
            raise CustomerCardError(_("{target} exists already: choose a new file name.").format(target=target))
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._write_lock:
            cur = self.cursor()
            try:  # a smaller file to copy from; the copy is the committed data whether or not this runs
                cur.execute("CHECKPOINT")
            except self._duckdb.TransactionException:  # another thread's write transaction is open (not ours)
                log.info("Backing up without a checkpoint first: another write transaction is open")
            cur.execute("ATTACH ? AS backup_target", [str(target)])
            owner_only(target)  # (made empty by ATTACH: for its owner only before anything is copied into it)
            try:
                cur.execute(f"COPY FROM DATABASE {_current_db_name(cur)} TO backup_target")
            finally:
                cur.execute("DETACH backup_target")


def owner_only(path: Path) -> None:
    """Make a file this process wrote readable and writable by its owner only (0600): a database, its backup and
    a person's exported data hold password hashes and personal data. A file system without such modes (a mounted
    share) keeps its own."""
    try:
        path.chmod(0o600)
    except OSError as exc:
        log.info("Could not make %s its owner's only: %s", path, exc)


def _current_db_name(cur: Any) -> str:
    name = cur.execute("SELECT current_database()").fetchone()[0]
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        return '"' + name.replace('"', '""') + '"'
    return name


def _explain_open_error(path: str, exc: Exception) -> str:
    text = str(exc)
    pid = re.search(r"PID (\d+)", text)
    if "lock" in text.lower():
        if pid:
            return _("The database {path} is in use by another program (process {pid}), probably a running "
                     "customercard server: stop it first, or use PostgreSQL for several processes.").format(
                         path=path, pid=pid.group(1))
        return _("The database {path} is in use by another program, probably a running customercard server: stop "
                 "it first, or use PostgreSQL for several processes.").format(path=path)
    return _("Cannot open the database {path}: {reason}").format(path=path, reason=text)


__all__ = ["LATEST_SCHEMA", "MIGRATIONS_PACKAGE", "Database", "execute_rows", "migrations", "split_statements",
           "utcnow"]
