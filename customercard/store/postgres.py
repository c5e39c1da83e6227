"""The PostgreSQL backend: the same interface as :class:`customercard.store.database.Database`, for firms that
run many server processes on many machines (DuckDB lets one process write a file).

Store modules write their SQL once, with ``?`` placeholders; this module turns them into psycopg's ``%s``.
Dialect differences live here (and in ``NNNN_name.postgresql.sql`` migration additions), nowhere else.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import numpy  # noqa: F401
import pandas as pd

from .. import formatting
from ..errors import CustomerCardError
from ..i18n import _
from ..models import missing
from .backend import SqlBackend, checked_name, redact_url
from .changes import CHANNEL, Change
from .readonly import (
    PROJECT_TABLES,
    QUERY_SECONDS,
    SECRET_TABLES,
    TOO_LARGE,
    TOO_MANY_ROWS,
    answer_mb,
    plain_params,
)

log = logging.getLogger(__name__)
#: The role analysts' queries (:meth:`PostgresDatabase.read_only_df`) run as: it reads the tables, nothing else.
READER_ROLE = "customercard_reader"
#: The role the queries of a user without projects access run as: the reader's tables but those of
#: :data:`~customercard.store.readonly.PROJECT_TABLES` (the views project_list and record_change_list instead).
LIMITED_READER_ROLE = "customercard_reader_limited"
#: What each reading role may not read.
UNREAD = {READER_ROLE: SECRET_TABLES, LIMITED_READER_ROLE: SECRET_TABLES | PROJECT_TABLES}
#: For the connecting user and the reader role: whether it may reach the server's files (or become a role that
#: may), whether it may call set_config (and so switch roles), and whether the connecting user may become it.
ROLE_PRIVILEGES = """
    SELECT r.rolname = current_user AS is_user,
           r.rolsuper OR pg_has_role(r.oid, 'pg_read_server_files', 'MEMBER')
           OR pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER')
           OR pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER')
           OR has_function_privilege(r.oid, 'pg_catalog.pg_read_file(text)', 'EXECUTE')
           OR has_function_privilege(r.oid, 'pg_catalog.pg_read_binary_file(text)', 'EXECUTE')
           OR has_function_privilege(r.oid, 'pg_catalog.pg_ls_dir(text)', 'EXECUTE')
           OR has_function_privilege(r.oid, 'pg_catalog.lo_import(text)', 'EXECUTE') AS files,
           has_function_privilege(r.oid, 'pg_catalog.set_config(text, text, boolean)', 'EXECUTE') AS sets_role,
           pg_has_role(current_user, r.oid, 'MEMBER') AS usable
    FROM pg_roles r WHERE r.rolname = current_user OR r.rolname = ?"""

_TOKENS = re.compile(r"'(?:[^']|'')*'|\?|%")


def to_psycopg(sql: str) -> str:
    """``?`` placeholders to ``%s`` and literal ``%`` to ``%%``, leaving quoted literals alone."""
    def swap(match: re.Match) -> str:
        piece = match.group(0)
        return "%s" if piece == "?" else ("%%" if piece == "%" else piece)
    return _TOKENS.sub(swap, sql)


def _plain(value: Any) -> Any:
    """Parameters as psycopg wants them (NumPy scalars and pandas' missing values as Python values)."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return None if missing(value) else value


@functools.cache
def _driver_error() -> type[Exception]:
    import psycopg

    return psycopg.Error


def refusal(exc: Exception) -> CustomerCardError:
    """A driver error as one clear message (never the driver's traceback in the page or on the command line)."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if "NUL" in text or "0x00" in text:
        return CustomerCardError(_("A text holds a NUL character (U+0000), which PostgreSQL cannot store: nothing "
                                   "was saved. Remove the character and try again."))
    return CustomerCardError(_("The database refused this, and nothing was saved: {text}").format(text=text))


class _Cursor:
    """A cursor speaking the DuckDB-style API the store uses: ``execute`` (chainable), ``fetch*``, ``description``.
    A driver error becomes a :class:`CustomerCardError` with one clear line (see :func:`refusal`).

    With ``reconnect`` (a thread's cursor of the store), a statement that finds its connection gone (PostgreSQL
    restarted, a fail-over) runs again once on a new one when running it twice cannot do anything twice: a read
    outside a transaction, or a transaction's BEGIN (nothing of it was done). A write outside a transaction may have
    been done before the connection went (its answer lost): told, as within a transaction (which is lost)."""

    def __init__(self, connection: Any, reconnect: Callable[[], Any] | None = None) -> None:
        self._connection = connection
        self._cursor = connection.cursor()
        self._reconnect = reconnect
        self._in_transaction = False

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> _Cursor:
        values = [_plain(p) for p in (params or [])]
        word = sql.lstrip()[:8].upper()
        opening = word.startswith("BEGIN")
        again = opening or (not self._in_transaction and word.startswith(("SELECT", "WITH", "SHOW", "ROLLBACK")))
        try:
            self._cursor.execute(to_psycopg(sql), values)
        except _driver_error() as exc:
            if not (self._reconnect is not None and self._lost() and again):
                self._in_transaction = self._in_transaction and not self._lost()
                raise refusal(exc) from exc
            log.warning("The connection to PostgreSQL was lost (%s); running the statement again on a new one",
                        str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
            self._connection = self._reconnect()
            self._cursor = self._connection.cursor()
            try:
                self._cursor.execute(to_psycopg(sql), values)
            except _driver_error() as second:
                raise refusal(second) from second
        if opening:
            self._in_transaction = True
        elif word.startswith(("COMMIT", "ROLLBACK")):
            self._in_transaction = False
        return self

    def _lost(self) -> bool:
        """Whether this cursor's connection is gone (closed, or broken by a fatal error)."""
        return bool(getattr(self._connection, "closed", False) or getattr(self._connection, "broken", False))

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> _Cursor:
        try:
            self._cursor.executemany(to_psycopg(sql), [[_plain(v) for v in row] for row in rows])
        except _driver_error() as exc:
            raise refusal(exc) from exc
        return self

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone()

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    def df(self) -> pd.DataFrame:
        description = self._cursor.description
        return _frame(self._cursor.fetchall(), [d.name for d in description], [d.type_code for d in description])

    def close(self) -> None:
        self._cursor.close()


#: The dtype an empty answer's column gets, by PostgreSQL's type (its OID), as DuckDB's empty frames have them:
#: ``.dt`` and sums work on an empty answer as on a full one.
EMPTY_DTYPES = {16: "bool", 20: "int64", 21: "int16", 23: "int32", 700: "float32", 701: "float64", 1700: "float64",
                1082: "datetime64[us]", 1114: "datetime64[us]"}


def _frame(rows: list[tuple], names: list[str], types: Sequence[int] = ()) -> pd.DataFrame:
    """Rows as a DataFrame typed like DuckDB's: decimals as floats, dates and timestamps as datetime64; the columns
    of an empty answer typed by their PostgreSQL type (:data:`EMPTY_DTYPES`)."""
    frame = pd.DataFrame(rows, columns=names)
    if not rows and types:
        return frame.astype({name: EMPTY_DTYPES[code] for name, code in zip(names, types, strict=False)
                             if code in EMPTY_DTYPES and names.count(name) == 1})
    for name in names:
        sample = next((v for v in frame[name] if v is not None), None)
        if isinstance(sample, decimal.Decimal):
            frame[name] = frame[name].astype("float64")
        elif isinstance(sample, dt.datetime | dt.date):
            frame[name] = pd.to_datetime(frame[name])
    return frame


class ServerMemory:
    """The ``memory`` of a PostgreSQL database: nothing to tune here, PostgreSQL's server manages its own (the same
    methods as :class:`~customercard.store.duckdb_memory.DuckDBMemory`)."""

    def release(self) -> float:
        """Nothing to drop: PostgreSQL's cache lives in its own server processes."""
        return 0.0

    def hold(self, columns: dict[str, Sequence[str]], at_most: float = 0.25) -> float:  # noqa: ARG002 - DuckDB's API
        """Nothing to read ahead: PostgreSQL keeps what its queries read in its own shared buffers (sized by its
        operator), for every process of ours alike."""
        return 0.0

    def keep_within(self, within_mb: float, what: str = "") -> None:
        """Nothing to bound: PostgreSQL's memory is its operator's."""

    @contextmanager
    def bulk(self, share: float = 0.4) -> Iterator[None]:  # noqa: ARG002 - same API as DuckDB's
        """The server manages its own memory."""
        yield

    def stop(self) -> None:
        """Nothing reads ahead, so nothing to stop."""


class PostgresDatabase(SqlBackend):
    """A PostgreSQL database through a psycopg 3 connection pool; a connection per thread while it works."""

    dialect = "postgresql"
    SNAPSHOT_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
    SCHEMA_TABLE_QUERY = ("SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_info' "
                          "AND table_schema = current_schema()")
    SERIES = "generate_series(1, ?)"

    def __init__(self, url: str, migrate_to: int | None = None) -> None:
        try:
            from psycopg_pool import ConnectionPool
        except ImportError:  # pragma: no cover - a dependency of the package
            raise CustomerCardError(_("PostgreSQL needs psycopg: pip install 'psycopg[binary,pool]'.")) from None
        import psycopg

        super().__init__(url)
        self._psycopg = psycopg
        #: Connections threads took from the pool (each keeps its own): closed with the database.
        #: The pool's connections handed to threads, each with its thread (kept while the thread lives).
        self._handed_out: list[tuple[threading.Thread, Any]] = []
        self._handed_out_lock = threading.Lock()
        try:  # one connection first: a database that is not there, a wrong password, said at once and plainly
            psycopg.connect(url, connect_timeout=10).close()  # (the pool would retry them for 15 s, then say less)
        except psycopg.Error as exc:
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[-1]
            raise CustomerCardError(_("Cannot connect to {url}: {exc}").format(url=redact_url(url),
                                                                               exc=reason)) from None
        try:
            # each connection handed out is checked first: after PostgreSQL restarted, the pool's idle ones are gone
            self._pool = ConnectionPool(url, min_size=1, max_size=16, kwargs={"autocommit": True}, open=True,
                                        timeout=15, check=ConnectionPool.check_connection)
            self._pool.wait(timeout=15)
        except Exception as exc:  # any failure to connect is told plainly
            raise CustomerCardError(_("Cannot connect to {url}: {exc}").format(url=redact_url(url), exc=exc)) from None
        self.migrate(migrate_to)
        # Committed changes of every process reach this process's subscribers through LISTEN.
        self.changes.on_first_subscriber = self._start_listening
        self._listening: threading.Thread | None = None
        self._closed = threading.Event()
        self._ready = threading.Event()
        #: Nothing to tune: PostgreSQL's server manages its memory.
        self.memory = ServerMemory()
        self._prepare_reader()

    # -- connections -----------------------------------------------------------------------------------
    def _connection(self) -> Any:
        conn = getattr(self._local, "connection", None)
        if conn is None or conn.closed:
            if conn is not None:  # this thread's connection was lost: its slot goes back (the pool drops it)
                self._give_back(threading.current_thread(), conn)
            self._give_back_connections_of_ended_threads()
            conn = self._pool.getconn()
            self._local.connection = conn
            with self._handed_out_lock:
                self._handed_out.append((threading.current_thread(), conn))
        return conn

    def _give_back(self, thread: threading.Thread, conn: Any) -> None:
        with self._handed_out_lock:
            self._handed_out = [(t, c) for t, c in self._handed_out if not (t is thread and c is conn)]
        try:
            self._pool.putconn(conn)
        except Exception:  # not the pool's any more: it is let go
            log.debug("A lost connection could not go back to the pool", exc_info=True)

    def _give_back_connections_of_ended_threads(self) -> None:
        """A thread keeps its connection while it lives; those of threads that have ended go back to the pool
        (a script or test starting new threads by the dozen met the pool's end after 16 and waited 15 s)."""
        with self._handed_out_lock:
            ended = [(thread, conn) for thread, conn in self._handed_out if not thread.is_alive()]
            self._handed_out = [(thread, conn) for thread, conn in self._handed_out if thread.is_alive()]
        for _thread, conn in ended:
            try:
                self._pool.putconn(conn)
            except Exception:  # closed meanwhile, or not the pool's any more: it is let go
                log.debug("A connection of an ended thread could not go back to the pool", exc_info=True)

    def cursor(self) -> _Cursor:
        cur = getattr(self._local, "cursor", None)
        if cur is None or getattr(self._local, "cursor_connection", None) is not self._connection():
            cur = _Cursor(self._connection(), reconnect=self._reconnected)
            self._local.cursor = cur
            self._local.cursor_connection = self._connection()
        return cur

    def _reconnected(self) -> Any:
        """This thread's connection anew (the old one was lost): the lost one's slot goes back to the pool."""
        lost = getattr(self._local, "connection", None)
        if lost is not None and not lost.closed:
            lost.close()
        self._connection()  # (gives the lost one back, takes a new one: the pool checks it first)
        self._local.cursor_connection = self._local.connection
        return self._local.connection

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called (the database cannot be used any more)."""
        return self._closed.is_set()

    def close(self) -> None:
        self._closed.set()
        with self._handed_out_lock:
            handed_out, self._handed_out = self._handed_out, []
        for _thread, conn in handed_out:
            try:
                conn.close()
            except self._psycopg.Error:
                pass
        self._pool.close()

    def _tell_before_commit(self, cur: _Cursor, changes: list[Change]) -> None:
        """PostgreSQL delivers a NOTIFY to every listening process (this one too) when its transaction commits, and
        drops it if it rolls back: committed changes reach every server process alike."""
        for change in changes:
            cur.execute("SELECT pg_notify(?, ?)", [CHANNEL, change.to_json()])

    def _tell_after_commit(self, changes: list[Change]) -> None:
        """Nothing: this process hears its own changes through LISTEN, as the others do."""

    def _migrating(self, cur: _Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(7242001)")  # one process migrates at a time

    def _shown_path(self) -> str:
        return redact_url(self.path)

    def _start_listening(self) -> None:
        """Start hearing changes, and wait (a few seconds at most) until PostgreSQL is listening: a change
        committed after the first subscriber arrived reaches it."""
        if self._listening is None:
            self._listening = threading.Thread(target=self._listen, name="customercard-changes", daemon=True)
            self._listening.start()
            self._ready.wait(5.0)

    def _listen(self) -> None:
        """Hear every process's changes on a connection of its own (reconnecting after a failure)."""
        while not self._closed.is_set():
            try:
                with self._psycopg.connect(self.path, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self._ready.set()
                    while not self._closed.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self.changes.publish(Change.from_json(note.payload))
            except Exception as exc:  # the server went away: try again shortly
                if not self._closed.is_set():
                    log.warning("Not hearing changes from PostgreSQL (%s); trying again", exc)
                    self._closed.wait(2.0)

    # -- queries ---------------------------------------------------------------------------------------
    def read_only_df(self, sql: str, params: Sequence[Any] | None = None, timeout: float = QUERY_SECONDS,
                     kept: frozenset[str] = frozenset()) -> pd.DataFrame:
        """Run an analyst's query in a read-only transaction; only one SELECT is accepted.

        It runs as the role :data:`READER_ROLE` — with ``kept`` (the tables of a user without projects access),
        :data:`LIMITED_READER_ROLE` — which may read this schema's tables but not those that keep secrets, and
        nothing else (no ``pg_read_file``, ``pg_ls_dir``, ``lo_import``, server-side COPY, ``dblink``
        connections). When that role cannot be used, the query is refused (see :meth:`_reading_role`): the
        connecting user reads the password hashes, sessions and the cookie secret, and a query can name a table
        without writing its name (``query_to_xml('select … from us' || 'ers', …)``).
        """
        text = sql.strip().rstrip(";").strip()
        if ";" in text:
            raise CustomerCardError(_("Give exactly one SELECT statement."))
        if not re.match(r"(?is)^(select|with)\b", text):
            raise CustomerCardError(_("Only read queries (SELECT …) are allowed here."))
        if params is not None:
            params = plain_params(params)  # (as the DuckDB file takes them: a frame's Series as a list)
        with self._pool.connection() as conn:
            cur = _Cursor(conn)
            try:
                cur.execute("BEGIN READ ONLY")
                cur.execute(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
                role = LIMITED_READER_ROLE if kept else READER_ROLE  # (kept: always PROJECT_TABLES)
                cur.execute(f"SET LOCAL ROLE {self._reading_role(cur, role)}")
                if self.sql_max_rows is None and self.sql_max_mb is None:
                    return cur.execute(text, params).df()
                if self.sql_max_rows is None:
                    frame = cur.execute(text, params).df()
                else:  # one row more than allowed tells it has too many (its order kept: a plain select of it)
                    frame = cur.execute(f"SELECT * FROM ({text}) AS answer LIMIT {int(self.sql_max_rows) + 1}",
                                        params).df()
                    if len(frame) > self.sql_max_rows:
                        raise CustomerCardError(_(TOO_MANY_ROWS).format(rows=formatting.number(self.sql_max_rows)))
                if self.sql_max_mb is not None and answer_mb(frame) > self.sql_max_mb:
                    raise CustomerCardError(_(TOO_LARGE).format(mb=formatting.number(self.sql_max_mb)))
                return frame
            except CustomerCardError as exc:
                raise CustomerCardError(_("The query failed: {exc}").format(exc=exc.__cause__ or exc)) from None
            finally:
                try:
                    cur.execute("ROLLBACK")
                finally:
                    cur.close()

    def _reading_role(self, cur: _Cursor, role: str = READER_ROLE) -> str:
        """Who runs an analyst's query: ``role`` (:data:`READER_ROLE` or :data:`LIMITED_READER_ROLE`) when the
        connecting user may switch to it; else refused (CustomerCardError), saying what a database administrator
        runs once to make it usable.

        A query could switch back from the reader to the connecting user (``set_config('role', …)``, then a query
        run by ``query_to_xml``: the session's user is a member of both), so the reader is used only when it may
        not call set_config (taken from PUBLIC: :meth:`_prepare_reader` does so when connected as a superuser)."""
        roles = {is_user: (files, sets_role, usable) for is_user, files, sets_role, usable
                 in cur.execute(ROLE_PRIVILEGES, [role]).fetchall()}
        user_files = roles[True][0]
        reader = roles.get(False)
        if reader is not None and reader[2] and not reader[0] and not reader[1]:
            return role
        if reader is not None and reader[2] and not reader[0]:  # usable, but a query could switch back with it
            raise CustomerCardError(
                _("store.sql is refused here: a query run as the role {reader_role} could switch back to "
                  "customercard's user with set_config and read the passwords, sessions and secrets. Have a "
                  "superuser run once in this database: REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, "
                  "text, boolean) FROM PUBLIC; GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, "
                  "boolean) TO <user>;").format(reader_role=role))
        if not user_files:
            raise CustomerCardError(
                _("store.sql is refused here: it runs as the role {reader_role}, which reads the tables but not "
                  "the passwords, sessions or secrets, and customercard's user may not use it. Have a database "
                  "administrator run once: CREATE ROLE {reader_role} NOLOGIN; GRANT {reader_role} TO <user>; "
                  "then start customercard again (it lets the role read the tables).").format(
                    reader_role=role))
        raise CustomerCardError(
            _("store.sql is refused here: customercard connects to PostgreSQL as a user that may read the server's "
              "files (a superuser, or a member of pg_read_server_files), and cannot use the role {reader_role} that "
              "reads only the tables. Connect as an ordinary user (the owner of the tables), or have a superuser "
              "open the database once with customercard (it makes the role), or run: CREATE ROLE {reader_role} "
              "NOLOGIN; GRANT {reader_role} TO <user>; GRANT SELECT ON ALL TABLES IN SCHEMA <schema> TO "
              "{reader_role}; REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM "
              "PUBLIC.").format(reader_role=role))

    def _prepare_reader(self) -> None:
        """Make (when the connecting user may) the roles analysts' queries run as, :data:`READER_ROLE` and
        :data:`LIMITED_READER_ROLE`: they cannot log in, may read this schema's tables (also those made later) but
        those :data:`UNREAD` names, and nothing else.

        Connected as a superuser, also take ``set_config`` from PUBLIC in this database (granted back to the
        database's owner): a superuser's session may switch to any role, so a query could otherwise switch
        itself back. Each step that the user may not do is left out (and logged); :meth:`_reading_role` decides
        from what is there."""
        schema = "quote_ident(current_schema())"
        steps = []
        for role, unread in UNREAD.items():
            steps += [
                ("create the role", role, f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = "
                                          f"'{role}') THEN CREATE ROLE {role} NOLOGIN; END IF; END $$"),
                ("use the role", role, f"DO $$ BEGIN IF NOT pg_has_role(current_user, '{role}', 'MEMBER') THEN "
                                       f"EXECUTE 'GRANT {role} TO ' || quote_ident(current_user); END IF; END $$"),
                ("let the role read the tables", role, "DO $$ BEGIN "
                 f"EXECUTE 'GRANT USAGE ON SCHEMA ' || {schema} || ' TO {role}'; "
                 f"EXECUTE 'GRANT SELECT ON ALL TABLES IN SCHEMA ' || {schema} || ' TO {role}'; "
                 f"EXECUTE 'ALTER DEFAULT PRIVILEGES IN SCHEMA ' || {schema} || "
                 f"' GRANT SELECT ON TABLES TO {role}'; "
                 f"EXECUTE 'REVOKE SELECT ON {', '.join(sorted(unread))} FROM {role}'; "
                 "END $$"),
            ]
        steps.append(("take set_config from PUBLIC", "", "DO $$ BEGIN IF (SELECT rolsuper FROM pg_roles WHERE "
                      "rolname = current_user) THEN REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, "
                      "boolean) FROM PUBLIC; EXECUTE 'GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, "
                      "boolean) TO ' || quote_ident((SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = "
                      "current_database())); END IF; END $$"))
        for what, role, statement in steps:
            try:
                with self.transaction() as cur:
                    cur.execute("SELECT pg_advisory_xact_lock(7242002)")  # one process at a time
                    cur.execute(statement)
            except (self._psycopg.Error, CustomerCardError) as exc:
                log.info("Could not %s %s for store.sql: %s", what, role or READER_ROLE, str(exc).strip())

    def insert_df(self, table: str, frame: pd.DataFrame,
                  order_by: str | None = None) -> None:  # noqa: ARG002 - same interface as Backend.insert_df
        """Append a DataFrame whose columns are named as the table's, with COPY (order does not matter here:
        PostgreSQL finds rows through its indexes)."""
        if not re.fullmatch(r"[a-z_]+", table):
            raise ValueError(f"bad table name {table!r}")
        columns = ", ".join(f'"{c}"' for c in frame.columns)
        rows = frame.astype(object).where(pd.notna(frame), None).itertuples(index=False, name=None)
        try:
            with self.cursor()._cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([_plain(v) for v in row])
        except _driver_error() as exc:
            raise refusal(exc) from exc

    @staticmethod
    def any_of(column: str) -> str:
        """SQL testing ``column`` against a list given as one parameter (the column name is a constant)."""
        return f"{column} = ANY(?)"

    @staticmethod
    def in_list(column: str, count: int, ids: bool = False) -> str:  # noqa: ARG004 - same API as DuckDB's
        return f"{column} IN ({', '.join('?' for _ in range(max(count, 1)))})"

    @staticmethod
    def prefix(column: str, text: str) -> tuple[str, list[Any]]:
        """A condition 'column starts with text' that an index with text_pattern_ops answers."""
        escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
        return f"{column} LIKE ? ESCAPE '!'", [escaped + "%"]

    def claim(self, name: str) -> bool:
        """Whether this process holds the job ``name`` (a PostgreSQL advisory lock on this thread's connection,
        kept while the process lives), so only one of many server processes does it."""
        return bool(self.row("SELECT pg_try_advisory_lock(hashtext(?))", [name])[0])

    def advance_sequence(self, sequence: str, top: int) -> None:
        checked_name(sequence)
        self.rows("SELECT setval(?, ?, ?)", [sequence, max(top, 1), top > 0])

    def checkpoint(self) -> None:
        """Nothing to do: PostgreSQL writes its own checkpoints."""

    def backup(self, target: Path) -> None:  # noqa: ARG002 - same interface as Backend.backup (DuckDB's copies)
        raise CustomerCardError(_("Back up a PostgreSQL database with pg_dump (customercard backup is for DuckDB "
                                  "files); or copy it to a DuckDB file with `customercard migrate`."))


def create_database_if_missing(url: str) -> bool:
    """Make the PostgreSQL database ``url`` names when it is not there (connected to the server's ``postgres``
    database, as the same user: it needs CREATEDB); whether it was made. Any other failure is left to the store."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = unquote(parts.path.lstrip("/"))
    if not name:
        return False
    try:
        psycopg.connect(url, connect_timeout=10).close()
        return False
    except psycopg.OperationalError as exc:
        if "does not exist" not in str(exc):
            return False
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise CustomerCardError(_("The database {url} is not there and could not be made: {reason}").format(
            url=redact_url(url), reason=reason)) from None
    return True

