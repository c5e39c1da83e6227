"""Open pages hear about changes: a view follows the store's committed changes that concern it and redraws what
they touched, without a reload.

Changes arrive on the thread that committed them (or PostgreSQL's listener thread). Served, :class:`Follower`
hands them to the session's own document — together, at most every ``delay`` seconds — so a view is only ever
changed on its session's event loop. Outside a server (a notebook, a script) the view is told at once. An idle page
costs nothing: no polling, no message until something it shows has changed.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from collections.abc import Callable

import panel as pn

from ..store import Change, Store

log = logging.getLogger(__name__)

Wanted = Callable[[Change], bool]
React = Callable[[list[Change]], None]


class Follower:
    """Call ``react(changes)`` with the committed changes for which ``wanted(change)`` is true.

    Keep the follower as long as the view: the store holds it weakly, and it stops when the session ends."""

    def __init__(self, store: Store, wanted: Wanted, react: React, delay: float = 0.15) -> None:
        self._wanted, self._react, self._delay = wanted, react, delay
        self._pending: list[Change] = []
        self._lock = threading.Lock()
        self._scheduled = False
        doc = pn.state.curdoc
        self._doc = doc if doc is not None and doc.session_context is not None else None
        self._stop = store.changes.subscribe(self._receive)
        if self._doc is not None:
            try:
                pn.state.on_session_destroyed(lambda _context: self.stop())
            except Exception:  # noqa: S110 - no session to end with: the weak subscription ends it
                pass

    def stop(self) -> None:
        """Hear nothing more."""
        self._stop()

    def _receive(self, change: Change) -> None:
        if not self._wanted(change):
            return
        if self._doc is None:  # a notebook or a script: tell the view now
            self._call([change])
            return
        with self._lock:
            self._pending.append(change)
            if self._scheduled:
                return
            self._scheduled = True
        try:
            # the one Document method safe from other threads; from an empty context: the loop runs the callback in
            # a copy of the caller's, and the writer's (an API call in another language) is not the page's
            contextvars.Context().run(self._doc.add_next_tick_callback, self._soon)
        except Exception:  # the session is gone
            self.stop()

    def _soon(self) -> None:
        self._doc.add_timeout_callback(self._flush, int(self._delay * 1000))

    def _flush(self) -> None:
        with self._lock:
            changes, self._pending, self._scheduled = self._pending, [], False
        if changes:
            from panel.io.state import set_curdoc

            with set_curdoc(self._doc):
                self._call(changes)

    def _call(self, changes: list[Change]) -> None:
        try:
            self._react(changes)
        except Exception:
            log.exception("Showing %d change(s) on an open page failed", len(changes))
