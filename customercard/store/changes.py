"""What changed, told to whoever listens: open cards, lists and the pipeline hear of other people's saves.

Every write that records history also announces a :class:`Change` inside its transaction. Subscribers hear of
it once the transaction has committed (never of a write that rolled back). In one process (DuckDB) the
announcement goes straight to the subscribers; with PostgreSQL it travels as a ``NOTIFY`` that every server
process — on any machine — receives and hands to its own subscribers, its own writes included.
"""

from __future__ import annotations

import json
import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from ..i18n import N_

log = logging.getLogger(__name__)

#: The kinds of change a history row records (said in the reader's language after a field's label: "Name (merge)").
CHANGE_KINDS = (N_("create"), N_("update"), N_("restore"), N_("merge"), N_("delete"), N_("anonymise"), N_("bulk"),
                N_("bulk undo"))
#: The PostgreSQL channel changes travel on.
CHANNEL = "customercard_changes"

#: The kind a record's saves are announced as, where it is not its class's name in lower case.
RECORD_KINDS = {"FollowUp": "follow-up", "CustomerFile": "file"}


def record_kind(record: Any) -> str:
    """The :attr:`Change.kind` a record's saves announce (a ``FollowUp`` as ``follow-up``)."""
    name = type(record).__name__
    return RECORD_KINDS.get(name, name.lower())


@dataclass(frozen=True)
class Change:
    """One committed change: what kind of thing (``customer``, ``contact``, ``comment``, ``event``,
    ``opportunity``, ``relation``, ``file``, ``admin``…), which one, of which customer, its new version, who made
    it, and the fields it touched."""

    kind: str
    id: int | None = None
    customer_id: int | None = None
    version: int | None = None
    by: str = ""
    fields: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=str)

    @classmethod
    def from_json(cls, text: str) -> Change:
        data = json.loads(text)
        data["fields"] = tuple(data.get("fields") or ())
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


Listener = Callable[[Change], None]


def _weakly_held(listener: Listener) -> bool:
    """Whether a listener is a method of an object that can be held weakly (a built-in's bound method, such as
    ``a_list.append``, cannot: it is held as any function is)."""
    if not hasattr(listener, "__self__"):
        return False
    try:
        weakref.WeakMethod(listener)
    except TypeError:
        return False
    return True


class ChangeFeed:
    """Subscribers of one store. Each subscriber is called on the thread that delivers (the writer's, or the
    PostgreSQL listener's), so it must hand the work to where it belongs (a session's document) and return."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[int, Any] = {}
        self._next = 0
        #: How many changes of each kind were published (an administrator's change — ``admin`` — makes this
        #: process's cached lists and settings be looked at again before they are used next).
        self.heard: dict[str, int] = {}
        #: Called once when the first subscriber arrives (PostgreSQL starts listening then).
        self.on_first_subscriber: Callable[[], None] | None = None

    def subscribe(self, listener: Listener, weak: bool = True) -> Callable[[], None]:
        """Call ``listener(change)`` for every committed change; returns the function that unsubscribes.
        A bound method is held weakly by default: a card nobody holds any more stops listening by itself."""
        ref: Any = weakref.WeakMethod(listener) if weak and _weakly_held(listener) else (lambda: listener)
        with self._lock:
            key, self._next = self._next, self._next + 1
            first = not self._listeners
            self._listeners[key] = ref
        if first and self.on_first_subscriber is not None:
            self.on_first_subscriber()
        return lambda: self._drop(key)

    def _drop(self, key: int) -> None:
        with self._lock:
            self._listeners.pop(key, None)

    @property
    def subscribers(self) -> int:
        with self._lock:
            return len(self._listeners)

    def publish(self, change: Change) -> None:
        """Tell every subscriber; one failing subscriber does not stop the others."""
        with self._lock:
            self.heard[change.kind] = self.heard.get(change.kind, 0) + 1
            listeners = list(self._listeners.items())
        for key, ref in listeners:
            listener = ref()
            if listener is None:
                self._drop(key)
                continue
            try:
                listener(change)
            except Exception:
                log.exception("A change listener failed on %s", change)
