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
#: A full garbage collection the server starts itself (after sessions ended) waits until no user's event has been
#: handled for this many seconds — it stops every session for 40–170 ms, and an Edit or a keystroke that met one
#: waited that much longer — but never more than MOST_DEFERRED seconds after it was first due.
QUIET = 1.0
MOST_DEFERRED = 30.0
#: A serving process lets Python start a full collection by itself at most once per this many younger ones
#: (CPython's default is 10): with the start-up objects frozen, the default ran one every card or two.
FULL_COLLECTION_EVERY = 100


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


class Activity:
    """When this process last handled a user's event (Panel's busy state goes on and off around each), and how long
    a collection due now should wait for a quiet moment."""

    def __init__(self) -> None:
        self.last = 0.0
        #: When each waiting collection (by name) was first due: each has its own MOST_DEFERRED.
        self._due: dict[str, float] = {}
        self._watching = False

    def watch(self) -> None:
        """Follow Panel's busy state (once per process)."""
        if self._watching:
            return
        import panel as pn

        pn.state.param.watch(self.mark, "busy")
        self._watching = True

    def mark(self, *_event: Any) -> None:
        """A user's event is being handled now."""
        self.last = time.monotonic()

    def wait(self, who: str = "") -> float:
        """Seconds the collection ``who`` (due now) should wait (0: run it now): until QUIET seconds without an
        event, and no more than MOST_DEFERRED seconds after it was first due."""
        now = time.monotonic()
        due = self._due.setdefault(who, now)
        wait = QUIET - (now - self.last)
        if wait <= 0 or now - due >= MOST_DEFERRED:
            del self._due[who]
            return 0.0
        return wait


#: This process's activity (its sessions' events).
ACTIVITY = Activity()


#: The function of ``panel.io.document`` that Panel schedules (by this name) after a session's document is destroyed.
PANEL_COLLECTOR = "_garbage_collect"


def panels_collector() -> Callable[[], None] | None:
    """Panel's scheduled collection as Panel will call it next (wrapped by :func:`collect_when_quiet`), or None when
    this Panel version has none."""
    from panel.io import document

    return getattr(document, PANEL_COLLECTOR, None)


def collect_when_quiet(serving: bool = False) -> None:
    """Run the full collections the server starts itself at quiet moments (see :class:`Activity`): Panel's after a
    session's document is destroyed, and :class:`MemoryRelease`'s. ``serving``: this process serves until it stops
    (``customercard serve``): Python's own full collections also run less often (FULL_COLLECTION_EVERY).

    Panel schedules its collection with a private function of ``panel.io.document`` (PANEL_COLLECTOR, looked up by
    name when a document is destroyed); it is wrapped here, and left alone when a Panel version has none."""
    ACTIVITY.watch()
    if serving:
        young, middle, _full = gc.get_threshold()
        gc.set_threshold(young, middle, FULL_COLLECTION_EVERY)
    panels = panels_collector()
    if panels is None or getattr(panels, "waits_for_quiet", False):
        return

    def garbage_collect() -> None:
        import datetime as dt

        import panel as pn

        wait = ACTIVITY.wait("panel")
        if wait > 0:
            pn.state.schedule_task("gc.collect", garbage_collect, at=dt.datetime.now() + dt.timedelta(seconds=wait))
            return
        panels()  # Panel's own: after its debounce, gc.collect()

    from panel.io import document

    garbage_collect.waits_for_quiet = True  # type: ignore[attr-defined]
    setattr(document, PANEL_COLLECTOR, garbage_collect)


class MemoryRelease:
    """One server's sessions, counted, and what it gives back a little after the last of a burst has ended."""

    def __init__(self, delay: float = DELAY, activity: Activity | None = None) -> None:
        #: Seconds after the last ended session before :meth:`release` runs (later, at a quiet moment of
        #: ``activity``, this process's by default).
        self.delay = delay
        self.activity = activity if activity is not None else ACTIVITY
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
        self._pending = self._loop.call_later(self.delay, self._release_when_quiet)

    @property
    def pending(self) -> bool:
        """Whether a release is scheduled."""
        return self._pending is not None

    def _cancel(self) -> None:
        if self._pending is not None:
            self._loop.remove_timeout(self._pending)
        self._pending = None

    def _release_when_quiet(self) -> None:
        wait = self.activity.wait(f"release {id(self)}")
        if wait > 0:
            self._pending = self._loop.call_later(wait, self._release_when_quiet)
            return
        self.release()

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

    def __init__(self, store: Store, hold_search: bool = True, within_mb: float | None = None) -> None:
        """``hold_search`` False (``CUSTOMERCARD_SEARCH_IN_MEMORY=no``): never read ahead. ``within_mb``
        (``CUSTOMERCARD_SEARCH_MEMORY_MB``; None or 0: no bound): read ahead only what takes at most this; a larger
        index is read as searches need it, DuckDB's memory kept within it (see :meth:`Store.hold_search_in_memory`)."""
        self.store = store
        self.hold_search = hold_search
        self.within_mb = within_mb or None
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
            held = self.store.hold_search_in_memory(within_mb=self.within_mb)
        except Exception as exc:  # the store closed meanwhile (its read is interrupted), or the database failed
            log.debug("Not holding the search index in memory: %s", exc)
            return
        if held:
            log.info("Search index held in memory: %.0f MB, read in %.1f s", held, time.perf_counter() - started)

    def wait(self, timeout: float | None = None) -> None:
        """Wait until the latest read ahead has finished (at most ``timeout`` seconds)."""
        if self._holding is not None:
            self._holding.join(timeout)
