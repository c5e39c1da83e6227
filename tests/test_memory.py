"""Giving memory back after sessions end: scheduled on the event loop, pushed back by later endings."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest
from tornado.ioloop import IOLoop

from customercard import memory


def test_release_runs_once_after_the_last_of_a_burst(monkeypatch):
    monkeypatch.setattr(memory, "DELAY", 0.2)
    runs = []
    real = memory.release
    monkeypatch.setattr(memory, "release", lambda: (runs.append(time.monotonic()), real()))
    started: list[float] = []

    def burst():
        started.append(time.monotonic())
        for _ in range(5):  # five sessions end together: one release, DELAY after the last
            memory.release_soon(None)

    def serve_loop():  # an event loop of its own, in its own thread, as a server's (the tests' may be running)
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        loop.add_callback(burst)
        loop.call_later(0.7, loop.stop)
        loop.start()
        loop.close(all_fds=False)

    thread = threading.Thread(target=serve_loop)
    thread.start()
    thread.join(10)
    assert len(runs) == 1 and runs[0] - started[0] >= 0.2
    assert memory._pending is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_free_pages_go_back_to_the_system_on_linux():
    assert memory._TRIM is not None
    memory.release()  # collects and trims without error
