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


def test_idle_releasers_run_only_when_no_session_is_open(monkeypatch):
    monkeypatch.setattr(memory, "_idle_releasers", {})
    monkeypatch.setattr(memory, "_live", 0)
    calls = []

    def releaser() -> float:
        calls.append(memory._live)
        return 1.0

    def failing() -> float:
        raise RuntimeError("boom")

    memory.when_idle("a", failing)  # a failing releaser is logged; the others still run
    memory.when_idle("b", lambda: calls.append("replaced") or 0.0)
    memory.when_idle("b", releaser)  # replaces the earlier one of that name
    memory.session_started()
    memory.release()  # a session is open: caches stay
    assert calls == []
    monkeypatch.setattr(memory, "_pending", None)
    monkeypatch.setattr(IOLoop, "current", staticmethod(lambda: _NoLoop()))
    memory.release_soon(None)  # that session ends
    memory.release()
    assert calls == [0]


class _NoLoop:
    """Stands in for the event loop's timer only: the test calls release() itself."""

    def call_later(self, _delay, _callback):
        return object()

    def remove_timeout(self, _handle):
        pass


def test_duckdb_gives_back_its_cached_blocks_and_keeps_a_configured_limit(demo_template, tmp_path):
    from customercard.store import open_store

    from .conftest import copy_database

    store = open_store(copy_database(demo_template, tmp_path))
    try:
        db = store.db
        default = db.row("SELECT current_setting('memory_limit')")[0]
        for customer_id in store.db.rows("SELECT id FROM customers LIMIT 40"):
            store.invoiced_per_year(customer_id[0])
        for table in ("invoices", "customer_changes", "comments", "search_terms", "search_words"):
            db.row(f"SELECT count(DISTINCT COLUMNS(*)) FROM {table}")  # every block of the table read
        cached = dict(db.rows("SELECT tag, memory_usage_bytes FROM duckdb_memory()"))["BASE_TABLE"]
        assert cached > 1_000_000
        freed = db.release_memory()
        after = dict(db.rows("SELECT tag, memory_usage_bytes FROM duckdb_memory()"))["BASE_TABLE"]
        assert after < cached and after <= 3_000_000 and freed > 0
        assert db.row("SELECT current_setting('memory_limit')")[0] == default
        assert store.invoiced_per_year(customer_id[0]) is not None  # read again when needed
        db.execute("SET memory_limit = '3GB'")  # an operator's own limit is kept, and nothing dropped
        configured = db.row("SELECT current_setting('memory_limit')")[0]
        db.row("SELECT count(DISTINCT COLUMNS(*)) FROM invoices")
        assert db.release_memory() == 0.0
        assert db.row("SELECT current_setting('memory_limit')")[0] == configured
    finally:
        store.close()
