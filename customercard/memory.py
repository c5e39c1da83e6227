"""Give memory back to the system once sessions have ended.

After a burst of sessions, CPython keeps the freed objects' memory in its own pools and glibc keeps freed
heap pages mapped, so a server's resident memory stays at its peak. A few seconds after the last session
of a burst ends, the server collects cycles (the Bokeh documents of closed sessions) and asks glibc to hand
free pages back (``malloc_trim``). When no session is open at all, the store also drops the table blocks
DuckDB has cached (see ``Database.release_memory``), which otherwise only ever grow with the customers users
opened. It runs on the server's event loop, like the sessions themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: Seconds after the last ended session: long enough to batch a burst of closing tabs.
DELAY = 3.0

_pending: Any = None
#: Sessions created and not yet destroyed (this process).
_live = 0
#: What else gives memory back when no session is open, by name: callables returning MB released.
_idle_releasers: dict[str, Callable[[], float]] = {}


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
    the C library's heap, whose free pages :func:`release` hands back, instead of CPython's own 256 KB arenas,
    which stay mapped while any object in them lives. Measured with 30 sessions opened and closed three times
    (``make bench``, item 5): the server kept 20–23 MB more than before with CPython's arenas, 12–13 MB with
    glibc's heap, and opened cards as fast.

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


def when_idle(name: str, releaser: Callable[[], float]) -> None:
    """Also call ``releaser`` when :func:`release` runs with no session open; it replaces an earlier one of the
    same ``name`` (e.g. the store of a server that was stopped)."""
    _idle_releasers[name] = releaser


def release() -> None:
    """Collect garbage, let go of caches when no session is open, and return free heap pages to the system
    (where the C library offers it)."""
    global _pending
    _pending = None
    if _live <= 0:
        for releaser in list(_idle_releasers.values()):
            try:
                releaser()
            except Exception:  # giving memory back must never break the server
                log.exception("Releasing memory failed")
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def session_started() -> None:
    """Count a new session (see :func:`release_soon` for its end)."""
    global _live
    _live += 1


def release_soon(session_context: Any) -> None:  # noqa: ARG001 - the signature Bokeh asks for
    """A session ended: schedule :func:`release` a little later on this event loop; later calls push it back."""
    global _pending, _live
    from tornado.ioloop import IOLoop

    _live = max(0, _live - 1)

    loop = IOLoop.current()
    if _pending is not None:
        loop.remove_timeout(_pending)
    _pending = loop.call_later(DELAY, release)
