"""How much memory an embedded DuckDB database holds: dropping its cached blocks when the server is idle, reading
what searches read ahead, and a lower limit for bulk jobs.

DuckDB keeps every block it has read in memory until it needs the room (by default up to 80 % of the machine's
memory), so a server's memory only ever rises with the customers its users opened. :class:`DuckDBMemory` is the
``memory`` of a :class:`~customercard.store.database.Database`; PostgreSQL's backend has one that does nothing
(its server manages its own memory). The process side — when to give memory back — is
:mod:`customercard.memory`.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

log = logging.getLogger(__name__)

_UNITS = {"bytes": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12, "PB": 10**15, "EB": 10**18,
          "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40, "PiB": 2**50, "EiB": 2**60}
#: The unit of the limit set while evicting; less than one cached is not worth evicting.
_MB = _UNITS["MB"]
#: What DuckDB's memory limit has beyond what searches may keep, when :meth:`DuckDBMemory.hold` sets one: its
#: indexes (about 210 MB at a million customers) and the cards' and lists' reads.
LIMIT_ROOM_MB = 100


def memory_bytes(setting: str) -> float:
    """DuckDB's way of showing an amount of memory ('18.8 GiB', '512.0 MiB', '1.5 GB') in bytes."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]+)\s*", setting)
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"not an amount of memory: {setting!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


class DuckDBMemory:
    """The memory of one DuckDB connection: :meth:`release` when idle, :meth:`hold` what must stay, :meth:`bulk`
    for a bulk job. A limit someone set on the connection is left as it is by all three."""

    def __init__(self, connection: Any, cursor: Callable[[], Any], write_lock: threading.RLock,
                 configured_mb: int = 0) -> None:
        """``connection`` is the database's connection, ``cursor`` gives this thread's cursor on it and
        ``write_lock`` is held by every write (a release waits for them); ``configured_mb``: the memory limit the
        database was given (0: DuckDB's own), put back after a release or a bulk job."""
        import duckdb

        self._error = duckdb.Error
        self._connection = connection
        self._cursor = cursor
        self._write_lock = write_lock
        self.default_limit: str = self._limit(cursor())
        self._put_back = f"SET memory_limit = '{int(configured_mb)}MB'" if configured_mb else "RESET memory_limit"
        #: Whether the limit is one of ours (configured, or set by :meth:`hold` for a large index), not DuckDB's own.
        self._configured = bool(configured_mb)
        #: Held while :meth:`hold` reads; the cursor it reads with, to interrupt it on :meth:`stop`.
        self._holding = threading.Lock()
        self._holding_cursor: Any = None
        self._stopped = False

    @staticmethod
    def _limit(cur: Any) -> str:
        return cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]

    def release(self) -> float:
        """Drop DuckDB's cached table blocks; returns how many MB DuckDB held before minus after.

        Called when the server has gone idle: lowering the memory limit to what cannot be dropped (indexes,
        pinned blocks) evicts the rest, and the configured limit is put back at once. Blocks are read again —
        from the operating system's file cache, usually — when next needed. Writes wait meanwhile; a read that
        needs more memory in those milliseconds (another thread) fails with DuckDB's out-of-memory error.
        """
        if not self._holding.acquire(blocking=False):
            return 0.0  # hold is reading right now: what it reads is meant to stay
        try:
            with self._write_lock:
                return self._evict(self._cursor())
        finally:
            self._holding.release()

    def _evict(self, cur: Any) -> float:
        def held() -> dict[str, int]:
            return dict(cur.execute("SELECT tag, memory_usage_bytes FROM duckdb_memory()").fetchall())

        if self._limit(cur) != self.default_limit:
            return 0.0  # someone set a limit of their own: it cannot be read back exactly, so leave it be
        before = held()
        cached = before.get("BASE_TABLE", 0)
        if cached < _MB:
            return 0.0
        floor_mb = (sum(before.values()) - cached) // _MB + 2
        try:
            cur.execute(f"SET memory_limit = '{int(floor_mb)}MB'")
        except self._error:
            pass  # something holds more right now: leave it be
        finally:
            cur.execute(self._put_back)
        return (sum(before.values()) - sum(held().values())) / 1e6

    def hold(self, columns: dict[str, Sequence[str]], at_most: float = 0.25) -> float:
        """Read these tables' columns into DuckDB's block cache, so that lookups in them do not read blocks for
        the first time (at a million customers a first read cost a search 1–2 ms of CPU, a third of it).
        Returns the MB of blocks they take; 0.0, having read nothing, when that would be more than ``at_most``
        of DuckDB's memory limit (lookups then read blocks as they need them, as before).

        The blocks stay until DuckDB needs the room or :meth:`release` drops them. Runs on a cursor of its own
        (call it from a background thread); :meth:`stop` interrupts it."""
        with self._holding:
            if self._stopped:
                return 0.0
            cur = self._connection.cursor()
            self._holding_cursor = cur
            try:
                return self._read(cur, columns, at_most, self.size(columns, cur))
            finally:
                self._holding_cursor = None
                cur.close()

    def keep_within(self, within_mb: float, what: str = "what searches read") -> None:
        """What searches read (``what``) is larger than ``within_mb`` (a firm of some 400,000 customers and more):
        unless a memory limit was configured, DuckDB's memory limit becomes ``within_mb`` plus
        :data:`LIMIT_ROOM_MB`, so that DuckDB keeps what lookups read, the least recently used given up first,
        within it (idle releases and bulk jobs put it back as they put back a configured one). At 1,000,000
        customers that kept the process under 1.5 GB with 30 sessions open, where holding all of it took 3 GB
        (benchmarks/RESULTS.md, item 17)."""
        cur = self._cursor()
        if self._configured or self._limit(cur) != self.default_limit:
            log.debug("%s: more than %.0f MB; DuckDB's memory limit stays %s", what, within_mb, self._limit(cur))
            return
        limit_mb = int(within_mb + LIMIT_ROOM_MB)
        cur.execute(f"SET memory_limit = '{limit_mb}MB'")  # a number, never text from outside
        self.default_limit = self._limit(cur)
        self._put_back = f"SET memory_limit = '{limit_mb}MB'"
        self._configured = True
        log.info("%s: more than %.0f MB; DuckDB keeps it within a memory limit of %d MB", what, within_mb, limit_mb)

    def size(self, columns: dict[str, Sequence[str]], cur: Any = None) -> float:
        """The bytes of the database file's blocks these tables' columns are kept in (read with ``cur``, else
        this thread's cursor)."""
        cur = cur if cur is not None else self._cursor()
        return self._blocks(cur, columns) * cur.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0]

    def _read(self, cur: Any, columns: dict[str, Sequence[str]], at_most: float, size: float) -> float:
        try:
            limit = memory_bytes(self._limit(cur))
        except ValueError:  # not an amount DuckDB shows today: taken as no limit
            limit = float("inf")
        if size > at_most * limit:
            log.info("Not holding %s in memory: its %.0f MB would be more than %.0f %% of DuckDB's memory "
                     "limit (%.0f MB)", ", ".join(columns), size / 1e6, at_most * 100, limit / 1e6)
            return 0.0
        for table, names in columns.items():
            if self._stopped:
                return 0.0
            # every value of every column read (hash: no answer from the statistics alone)
            cur.execute(f"SELECT {', '.join(f'max(hash({n}))' for n in names)} FROM {table}").fetchall()
        return size / 1e6

    @staticmethod
    def _blocks(cur: Any, columns: dict[str, Sequence[str]]) -> int:
        """How many of the file's blocks these columns are kept in."""
        blocks = 0
        for table, names in columns.items():
            blocks += cur.execute(
                "SELECT count(DISTINCT block_id) FROM pragma_storage_info(?) WHERE persistent AND "
                "block_id >= 0 AND column_name IN (" + ", ".join("?" for _ in names) + ")",
                [table, *names]).fetchone()[0]
        return blocks

    @contextmanager
    def bulk(self, share: float = 0.4) -> Iterator[None]:
        """For a bulk job (an index rebuild): DuckDB may hold ``share`` of the machine's memory and spills the
        rest of its sorts and tables to disk, so that it and the Python side (frames in pandas) fit together.
        By default DuckDB takes up to 80 %, which left a million-customer rebuild no room."""
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
        cur = self._cursor()
        if not total or self._limit(cur) != self.default_limit:
            yield  # unknown memory, or someone set a limit of their own: leave it be
            return
        cur.execute(f"SET memory_limit = '{int(total * share) // 2**20}MB'")
        try:
            yield
        finally:
            cur.execute(self._put_back)

    def stop(self) -> None:
        """Before the connection closes: interrupt a :meth:`hold` that is reading, wait for it to end, and
        start no other."""
        self._stopped = True
        holding = self._holding_cursor
        if holding is not None:
            try:
                holding.interrupt()
            except Exception:  # noqa: S110 - it may have finished meanwhile
                pass
        with self._holding:
            pass
