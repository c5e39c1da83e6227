"""Give memory back to the system once sessions have ended.

After a burst of sessions, CPython keeps the freed objects' memory in its own pools and glibc keeps freed
heap pages mapped, so a server's resident memory stays at its peak. A few seconds after the last session
of a burst ends, the server collects cycles (the Bokeh documents of closed sessions) and asks glibc to hand
free pages back (``malloc_trim``). It runs on the server's event loop, like the sessions themselves.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from typing import Any

#: Seconds after the last ended session: long enough to batch a burst of closing tabs.
DELAY = 3.0

_pending: Any = None


def _libc_trim() -> Any:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None)
    except OSError:
        return None


_TRIM = _libc_trim()


def release() -> None:
    """Collect garbage and return free heap pages to the system (where the C library offers it)."""
    global _pending
    _pending = None
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


def release_soon(session_context: Any) -> None:  # noqa: ARG001 - the signature Bokeh asks for
    """Schedule :func:`release` a little later on this event loop; later calls push it back."""
    global _pending
    from tornado.ioloop import IOLoop

    loop = IOLoop.current()
    if _pending is not None:
        loop.remove_timeout(_pending)
    _pending = loop.call_later(DELAY, release)
