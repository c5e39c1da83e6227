"""The request budget of the HTTP API: how many requests one token (or one login's browser session) may make.

A token bucket per key, in this server process's memory: it holds ``per_minute`` requests and fills again at
``per_minute`` a minute, so a burst of a minute's worth is let through and then one request each
``60 / per_minute`` seconds. Past it a request is refused with the seconds to wait (``429`` with ``Retry-After``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

#: Buckets left untouched this long are full again and forgotten.
FORGET_AFTER = 600.0


class RequestBudget:
    """Requests per minute per key (a token's hash, or a login), counted in this process."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = max(1, int(per_minute))
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    def take(self, key: str) -> int:
        """Spend one request of ``key``'s budget: 0 when it may go ahead, else the whole seconds to wait."""
        rate = self.per_minute / 60.0
        with self._lock:
            now = self._clock()
            self._sweep(now)
            level, at = self._buckets.get(key, (float(self.per_minute), now))
            level = min(float(self.per_minute), level + (now - at) * rate)
            if level < 1.0:
                self._buckets[key] = (level, now)
                return max(1, math.ceil((1.0 - level) / rate))
            self._buckets[key] = (level - 1.0, now)
            return 0

    def _sweep(self, now: float) -> None:
        if now - self._swept < FORGET_AFTER:
            return
        self._swept = now
        for key in [k for k, (_level, at) in self._buckets.items() if now - at > FORGET_AFTER]:
            del self._buckets[key]
