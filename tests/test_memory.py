"""Giving memory back after sessions end: scheduled on the event loop, pushed back by later endings."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest
from tornado.ioloop import IOLoop

from customercard import memory
from customercard.memory import Activity, MemoryRelease


def on_a_loop(callback, seconds: float) -> None:
    """Run ``callback`` on an event loop of its own, in its own thread, as a server's (the tests' may be running),
    and keep that loop running ``seconds``."""
    def serve_loop():
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = IOLoop.current()
        loop.add_callback(callback)
        loop.call_later(seconds, loop.stop)
        loop.start()
        loop.close(all_fds=False)

    thread = threading.Thread(target=serve_loop)
    thread.start()
    thread.join(10)


def test_release_runs_once_after_the_last_of_a_burst():
    release = MemoryRelease(delay=0.2, activity=Activity())
    runs: list[float] = []
    release.when_idle("clock", lambda: runs.append(time.monotonic()) or 0.0)
    started: list[float] = []

    def burst():
        started.append(time.monotonic())
        for _ in range(5):  # five sessions end together: one release, the delay after the last
            release.session_ended(None)

    on_a_loop(burst, 0.7)
    assert len(runs) == 1 and runs[0] - started[0] >= 0.2
    assert not release.pending


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_free_pages_go_back_to_the_system_on_linux():
    assert memory.can_trim()
    memory.trim()  # collects and trims without error


def test_idle_releasers_run_only_when_no_session_is_open():
    release = MemoryRelease(delay=0.05, activity=Activity())
    calls = []

    def releaser() -> float:
        calls.append(release.live)
        return 1.0

    def failing() -> float:
        raise RuntimeError("boom")

    release.when_idle("a", failing)  # a failing releaser is logged; the others still run
    release.when_idle("b", lambda: calls.append("replaced") or 0.0)
    release.when_idle("b", releaser)  # replaces the earlier one of that name
    release.session_started()
    release.release()  # a session is open: caches stay
    assert calls == []
    on_a_loop(lambda: release.session_ended(None), 0.4)  # that session ends: released a little later
    assert calls == [0]


def test_each_server_counts_its_own_sessions():
    busy, quiet = MemoryRelease(delay=0.05, activity=Activity()), MemoryRelease(delay=0.05, activity=Activity())
    calls = []
    busy.when_idle("store", lambda: calls.append("busy") or 0.0)
    quiet.when_idle("store", lambda: calls.append("quiet") or 0.0)
    busy.session_started()
    quiet.session_started()
    on_a_loop(lambda: quiet.session_ended(None), 0.4)  # the quiet server's only session ends
    busy.release()
    assert calls == ["quiet"] and busy.live == 1 and quiet.live == 0


def test_a_release_waits_for_a_quiet_moment_and_no_longer_than_the_most_deferred(monkeypatch):
    activity = Activity()
    release = MemoryRelease(delay=0.05, activity=activity)
    runs: list[float] = []
    release.when_idle("clock", lambda: runs.append(time.monotonic()) or 0.0)
    monkeypatch.setattr(memory, "QUIET", 0.3)
    started: list[float] = []

    def busy_user():  # a session ends while its user is busy elsewhere: the release waits for the quiet
        started.append(time.monotonic())
        activity.mark()
        release.session_ended(None)

    on_a_loop(busy_user, 0.9)
    assert len(runs) == 1 and runs[0] - started[0] >= 0.3 and not release.pending
    monkeypatch.setattr(memory, "MOST_DEFERRED", 0.2)
    runs.clear()

    def always_busy():  # events without a pause: the release runs once it has waited the most it may
        started.append(time.monotonic())
        release.session_ended(None)
        for delay in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5):
            IOLoop.current().call_later(delay, activity.mark)

    on_a_loop(always_busy, 1.0)
    assert len(runs) == 1 and 0.2 <= runs[0] - started[-1] < 0.6


def test_panels_collection_after_a_session_waits_for_a_quiet_moment(monkeypatch):
    """Panel collects garbage after a session's document is destroyed; a server runs that at a quiet moment."""
    from panel.io import document

    monkeypatch.setattr(document, memory.PANEL_COLLECTOR, lambda: collected.append(time.monotonic()))
    monkeypatch.setattr(memory, "ACTIVITY", Activity())
    monkeypatch.setattr(memory, "QUIET", 0.4)
    collected: list[float] = []
    memory.collect_when_quiet()
    wrapped = memory.panels_collector()
    assert wrapped.waits_for_quiet
    memory.collect_when_quiet()  # once only
    assert memory.panels_collector() is wrapped
    memory.ACTIVITY.mark()
    wrapped()  # a user's event just now: not yet, scheduled again (as Panel schedules its own)
    assert collected == []
    memory.ACTIVITY.last -= 1.0  # quiet for a second
    wrapped()
    assert len(collected) == 1
    import panel as pn

    pn.state.cancel_task("gc.collect")


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
        freed = db.memory.release()
        after = dict(db.rows("SELECT tag, memory_usage_bytes FROM duckdb_memory()"))["BASE_TABLE"]
        assert after < cached and after <= 3_000_000 and freed > 0
        assert db.row("SELECT current_setting('memory_limit')")[0] == default
        assert store.invoiced_per_year(customer_id[0]) is not None  # read again when needed
        db.execute("SET memory_limit = '3GB'")  # an operator's own limit is kept, and nothing dropped
        configured = db.row("SELECT current_setting('memory_limit')")[0]
        db.row("SELECT count(DISTINCT COLUMNS(*)) FROM invoices")
        assert db.memory.release() == 0.0
        assert db.row("SELECT current_setting('memory_limit')")[0] == configured
    finally:
        store.close()



def test_a_configured_duckdb_memory_limit_is_kept_through_releases_and_bulk_jobs(demo_template, tmp_path,
                                                                               monkeypatch):
    """CUSTOMERCARD_DUCKDB_MEMORY_MB: the database is opened with that limit; an idle release drops the cached
    blocks and puts that limit back (not DuckDB's own), as a bulk job does; what searches read is held only within
    a quarter of it. Less than 100 MB is refused with one clear message."""
    from customercard.errors import CustomerCardError
    from customercard.store import Store
    from customercard.store.duckdb_memory import memory_bytes

    from .conftest import copy_database

    monkeypatch.setenv("CUSTOMERCARD_DUCKDB_MEMORY_MB", "300")
    store = Store(copy_database(demo_template, tmp_path))
    try:
        db = store.db

        def limit() -> float:
            return memory_bytes(db.row("SELECT current_setting('memory_limit')")[0])

        assert limit() == pytest.approx(300e6, rel=0.01)
        for table in ("invoices", "customer_changes", "comments", "search_terms", "search_words"):
            db.row(f"SELECT count(DISTINCT COLUMNS(*)) FROM {table}")
        held = _table_blocks(db)
        db.memory.release()
        assert _table_blocks(db) <= held
        assert limit() == pytest.approx(300e6, rel=0.01)  # the configured limit, not DuckDB's own
        with db.memory.bulk():
            assert limit() != pytest.approx(300e6, rel=0.01)
        assert limit() == pytest.approx(300e6, rel=0.01)
        assert store.hold_search_in_memory() > 0  # a small index fits in a quarter of 300 MB
        assert store.hold_search_in_memory(at_most=0.0001) == 0.0  # a larger one would be read as searches need it
    finally:
        store.close()
    monkeypatch.setenv("CUSTOMERCARD_DUCKDB_MEMORY_MB", "50")
    with pytest.raises(CustomerCardError, match=r"CUSTOMERCARD_DUCKDB_MEMORY_MB must be 0 .* or at least 100"):
        Store(copy_database(demo_template, tmp_path / "again"))


BLOCK = 262144  # DuckDB's block size


@pytest.fixture(scope="module")
def larger_demo(tmp_path_factory):
    """3,000 demo customers: a search index of some MB, larger than a few blocks (the shared demo has 120)."""
    from customercard.demo import build_demo
    from customercard.store import Store

    from .conftest import DEMO_SEED, DEMO_TODAY

    path = tmp_path_factory.mktemp("larger-demo") / "demo.duckdb"
    with Store(path) as store:
        build_demo(store, customers=3000, seed=DEMO_SEED, today=DEMO_TODAY, progress=False)
    return path


def _table_blocks(db) -> int:
    return dict(db.rows("SELECT tag, memory_usage_bytes FROM duckdb_memory()")).get("BASE_TABLE", 0)


def test_what_searches_read_is_held_in_memory_and_searches_read_almost_nothing_more(larger_demo, tmp_path):
    from customercard.store import open_store

    from .conftest import copy_database

    store = open_store(copy_database(larger_demo, tmp_path))
    try:
        db = store.db
        name = store.sql("SELECT name FROM customers ORDER BY id DESC LIMIT 1")["name"][0]
        phone = store.sql("SELECT phone FROM customers WHERE phone IS NOT NULL LIMIT 1")["phone"][0]
        contact = store.sql("SELECT last_name FROM contacts ORDER BY id DESC LIMIT 1")["last_name"][0]
        queries = (name, name[:4], name.split()[0][1:5], phone, phone[-7:], contact, contact + "x", "qzxwv")

        def blocks_read_by_searches() -> int:
            before = _table_blocks(db)
            for query in queries:  # prefix, contains, typo, phone, contact: every kind of lookup
                store.search(query)
            return (_table_blocks(db) - before) // BLOCK

        store.search("warm")  # settings and lists, kept by the store once read
        db.memory.release()
        not_held = blocks_read_by_searches()
        db.memory.release()
        before = _table_blocks(db)
        assert store.hold_search_in_memory(at_most=1e-6) == 0.0  # more than allowed: nothing read
        assert _table_blocks(db) - before <= BLOCK  # (but the block listing where the tables' blocks are)
        held = store.hold_search_in_memory()
        assert held > 1.0 and _table_blocks(db) >= 0.95 * held * 1e6
        # what the searches still read: a block or two of the tables' own bookkeeping, not the index
        assert blocks_read_by_searches() <= 2 < not_held
        assert db.memory.release() > 0.8 * held  # the idle release drops it like any other cached block
    finally:
        store.close()


def test_the_server_holds_the_search_index_and_again_after_an_idle_release(larger_demo, tmp_path):
    from customercard.config import get_config
    from customercard.server import CardServer
    from customercard.store import open_store

    from .conftest import copy_database

    def configured(search_in_memory: bool):
        config = get_config()
        config.search_in_memory = search_in_memory
        return config

    store = open_store(copy_database(larger_demo, tmp_path))
    try:
        store.db.memory.release()
        told_no = CardServer(store, config=configured(False))
        told_no.current_store()  # what start() does with the store it is given
        time.sleep(0.3)
        assert _table_blocks(store.db) < 1_000_000  # the operator said no
        server = CardServer(store, config=configured(True))
        server.current_store()
        server.store_memory.wait(20)
        held = _table_blocks(store.db)
        assert held > 2_000_000
        server.memory.release()  # no session open: blocks dropped, and the search index read again
        server.store_memory.wait(20)
        assert _table_blocks(store.db) >= 0.9 * held  # (a block of bookkeeping may stay out)
    finally:
        store.close()


def test_a_server_whose_search_index_is_larger_than_its_bound_keeps_duckdb_within_it(larger_demo, tmp_path,
                                                                                      monkeypatch):
    """CUSTOMERCARD_SEARCH_MEMORY_MB: an index that fits is held as before; of a larger one, the parts searches need
    first are held within 60 % of the bound, the rest read as searches need it, and DuckDB's memory limit becomes
    the bound plus 100 MB — what idle releases and bulk jobs put back — unless the operator set a limit of their
    own."""
    from customercard.config import Config
    from customercard.server import CardServer
    from customercard.store import open_store
    from customercard.store.duckdb_memory import memory_bytes
    from customercard.store.search_memory import HELD_WITHIN, HOLD_ORDER, plan_hold

    from .conftest import copy_database

    def get_config_from(environ: dict[str, str]) -> Config:
        return Config.from_env(environ)

    store = open_store(copy_database(larger_demo, tmp_path))
    try:
        db = store.db
        own = db.row("SELECT current_setting('memory_limit')")[0]

        def limit() -> float:
            return memory_bytes(db.row("SELECT current_setting('memory_limit')")[0])

        db.memory.release()
        fits = CardServer(store, config=get_config_from({"CUSTOMERCARD_SEARCH_MEMORY_MB": "1000"}))
        fits.current_store()
        fits.store_memory.wait(20)
        held = _table_blocks(db)
        assert held > 2_000_000 and db.row("SELECT current_setting('memory_limit')")[0] == own
        db.memory.release()

        bounded = CardServer(store, config=get_config_from({"CUSTOMERCARD_SEARCH_MEMORY_MB": "1"}))
        bounded.current_store()
        bounded.store_memory.wait(20)
        assert limit() == pytest.approx(101e6, rel=0.02)  # the bound and the room for the rest
        assert _table_blocks(db) < held / 2  # what fits in a quarter of 1 MB read ahead, the rest as searches need it
        # what is held of a larger index: the first parts searches read that fit in a quarter of the bound (with a
        # bound of 4 MB, the customers' listed columns: one block), and no more; the limit stays as it was set
        planned = plan_hold(db, 4 * HELD_WITHIN)
        assert planned.held and planned.held[0][:2] == HOLD_ORDER[0] and planned.held_mb <= 4 * HELD_WITHIN
        assert store.hold_search_in_memory(within_mb=4) == pytest.approx(planned.held_mb)
        assert limit() == pytest.approx(101e6, rel=0.02)
        assert len(store.search("berg")) > 0  # searches read what they need, within the limit
        with db.memory.bulk():  # an index rebuild may take more for a while …
            assert limit() > 200e6
        assert limit() == pytest.approx(101e6, rel=0.02)  # … and the bound is put back
        bounded.memory.release()  # idle: what searches read is given back, the limit stays
        bounded.store_memory.wait(20)
        assert limit() == pytest.approx(101e6, rel=0.02) and _table_blocks(db) < held / 2
    finally:
        store.close()

    monkeypatch.setenv("CUSTOMERCARD_DUCKDB_MEMORY_MB", "300")  # the operator's own limit is left as it is
    store = open_store(copy_database(larger_demo, tmp_path / "own"))
    try:
        assert store.hold_search_in_memory(within_mb=1) <= HELD_WITHIN
        assert memory_bytes(store.db.row("SELECT current_setting('memory_limit')")[0]) == pytest.approx(300e6, rel=0.01)
    finally:
        store.close()
    assert get_config_from({}).search_memory_mb == 1000


def test_closing_a_store_while_it_holds_the_search_index_stops_the_read(demo_template, tmp_path):
    from customercard.store import open_store

    from .conftest import copy_database

    path = copy_database(demo_template, tmp_path)
    store = open_store(path)
    errors: list[Exception] = []

    def hold():
        try:
            store.hold_search_in_memory()
        except Exception as exc:  # interrupted, or the connection closed first
            errors.append(exc)

    thread = threading.Thread(target=hold)
    thread.start()
    store.close()
    thread.join(20)
    assert not thread.is_alive()
    with open_store(path) as again:  # the file is free again
        assert len(again.search("a")) > 0


def test_holding_the_search_index_leaves_searches_as_they_were_on_both_backends(demo_store):
    queries = ("berg", "konsult", "08-", "anna")
    before = [demo_store.search(q).to_dict("records") for q in queries]
    held = demo_store.hold_search_in_memory()
    assert (held > 0) == (demo_store.db.dialect == "duckdb")  # PostgreSQL keeps its own cache
    assert [demo_store.search(q).to_dict("records") for q in queries] == before


def test_duckdb_amounts_of_memory_are_read_in_its_units():
    from customercard.store.duckdb_memory import memory_bytes

    assert memory_bytes("18.8 GiB") == 18.8 * 2**30
    assert memory_bytes("512.0 MiB") == 512 * 2**20
    assert memory_bytes("1.5 GB") == 1.5e9
    assert memory_bytes("0 bytes") == 0
    assert memory_bytes("16383.9 PiB") > 1e18  # SET memory_limit = '-1': no limit
    with pytest.raises(ValueError, match="not an amount of memory"):
        memory_bytes("a lot")
