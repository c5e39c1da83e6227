"""Give memory back to the system once sessions have ended, and keep in memory what searches read.

After a burst of sessions, CPython keeps the freed objects' memory in its own pools and glibc keeps freed
heap pages mapped, so a server's resident memory stays at its peak. A few seconds after the last session
of a burst ends, :class:`MemoryRelease` collects cycles (the Bokeh documents of closed sessions) and asks glibc
to hand free pages back (``malloc_trim``). When no session is open at all, the store also drops the table blocks
DuckDB has cached (:class:`StoreMemory`, see :mod:`customercard.store.duckdb_memory`), which otherwise only ever
grow with the customers users opened, and reads what searches read back in. It runs on the server's event loop,
like the sessions themselves. Each server (:class:`customercard.server.CardServer`) has its own.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

#: Seconds after the last ended session: long enough to batch a burst of closing tabs.
DELAY = 3.0


def _libc_trim() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


_TRIM = _libc_trim()


def use_system_allocator() -> None:
    """Start this command again, same process id, with ``PYTHONMALLOC=malloc``: Python objects then live in
    the C library's heap, whose free pages :meth:`MemoryRelease.release` hands back, instead of CPython's own
    256 KB arenas, which stay mapped while any object in them lives. Measured with 30 sessions opened and closed
    three times (``make bench``, item 5): the server kept 20–23 MB more than before with CPython's arenas,
    12–13 MB with glibc's heap, and opened cards as fast.

    Does nothing when ``PYTHONMALLOC`` is set already (the operator's choice, or this has run), off POSIX, or
    when the command was not started from a command line of its own (``sys.orig_argv`` names no program)."""
    if os.environ.get("PYTHONMALLOC") or os.name != "posix" or _TRIM is None:
        return
    argv = list(getattr(sys, "orig_argv", []) or [])
    if not argv or not sys.executable:
        return
    env = {**os.environ, "PYTHONMALLOC": "malloc"}
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, argv, env)  # noqa: S606 - this same interpreter and command line, again


def can_trim() -> bool:
    """Whether the C library hands free heap pages back to the system when asked (glibc's ``malloc_trim``)."""
    return _TRIM is not None


def trim() -> None:
    """Collect garbage and return free heap pages to the system (where the C library offers it)."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


class MemoryRelease:
    """One server's sessions, counted, and what it gives back a little after the last of a burst has ended."""

    def __init__(self, delay: float = DELAY) -> None:
        #: Seconds after the last ended session before :meth:`release` runs.
        self.delay = delay
        #: Sessions created and not yet destroyed.
        self.live = 0
        self._releasers: dict[str, Callable[[], float]] = {}
        self._pending: Any = None
        self._loop: Any = None

    def when_idle(self, name: str, releaser: Callable[[], float]) -> None:
        """Also call ``releaser`` (returning the MB it released) when :meth:`release` runs with no session open;
        it replaces an earlier one of the same ``name``."""
        self._releasers[name] = releaser

    def session_started(self) -> None:
        """Count a new session (see :meth:`session_ended` for its end)."""
        self.live += 1

    def session_ended(self, session_context: Any) -> None:  # noqa: ARG002 - the signature Bokeh asks for
        """A session ended: schedule :meth:`release` ``delay`` seconds later on this event loop; later endings
        push it back."""
        from tornado.ioloop import IOLoop

        self.live = max(0, self.live - 1)
        self._cancel()
        self._loop = IOLoop.current()
        self._pending = self._loop.call_later(self.delay, self.release)

    @property
    def pending(self) -> bool:
        """Whether a release is scheduled."""
        return self._pending is not None

    def _cancel(self) -> None:
        if self._pending is not None:
            self._loop.remove_timeout(self._pending)
        self._pending = None

    def release(self) -> None:
        """Let go of caches when no session is open, collect garbage and return free heap pages to the system."""
        self._pending = None
        if self.live <= 0:
            for releaser in list(self._releasers.values()):
                try:
                    releaser()
                except Exception:  # giving memory back must never break the server
                    log.exception("Releasing memory failed")
        trim()


class StoreMemory:
    """What a served store gives back when the server is idle, and what it keeps: what searches read, read into
    memory on a thread of its own as the server starts and again after each release that dropped something."""

    def __init__(self, store: Store, hold_search: bool = True) -> None:
        """``hold_search`` False (``CUSTOMERCARD_SEARCH_IN_MEMORY=no``): never read ahead."""
        self.store = store
        self.hold_search = hold_search
        self._holding: threading.Thread | None = None

    def release(self) -> float:
        """Drop the database's cached blocks; returns the MB dropped. What searches read is read again."""
        freed = self.store.db.memory.release()
        if freed:
            self.hold()
        return freed

    def hold(self) -> None:
        """Read what searches read into memory on a thread of its own (unless told not to)."""
        if self.hold_search:
            self._holding = threading.Thread(target=self._hold, name="customercard-hold-search", daemon=True)
            self._holding.start()

    def _hold(self) -> None:
        started = time.perf_counter()
        try:
            held = self.store.hold_search_in_memory()
        except Exception as exc:  # the store closed meanwhile (its read is interrupted), or the database failed
            log.debug("Not holding the search index in memory: %s", exc)
            return
        if held:
            log.info("Search index held in memory: %.0f MB, read in %.1f s", held, time.perf_counter() - started)

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the latest read ahead has finished (at most ``timeout`` seconds)."""
        if self._holding is not None:
            self._holding.join(timeout)
