"""Item 17 ``memory``: the server's memory with the search index held in memory, at each size, and the search's
speed with each way of holding it (issue 22, "Memory at a million").

Each (size, holding) runs in a process of its own (``python -m benchmarks.memory PATH HOLDING``), so its resident
memory (RSS) is its own: the store opened as the server opens it, the search index held as the holding says, then

- RSS at idle (warmed up: Panel loaded, a few cards built and let go, as after a server's first sessions),
- the super search over the item's queries (built from the data, fixed seed), two passes, p50/p95,
- RSS with 30 card sessions open: each a ``CustomerCard`` with its Bokeh models in a Document of its own, as the
  served app builds a session, all kept alive together, and the queries searched again meanwhile,
- RSS after the sessions are let go and the server's idle release has run (DuckDB's blocks dropped, the index held
  again, glibc's free pages handed back),
- DuckDB's own memory by kind (``duckdb_memory()``) and the file's blocks by search column.

Holdings: ``all`` (what the server does today: every column a search reads), ``none`` (nothing read ahead: blocks
read as searches need them), ``budget:MB`` (:func:`customercard.store.search_memory.plan_hold`: the columns in
the order searches need them, up to MB), and ``limit:MB`` (nothing held, DuckDB's ``memory_limit`` set to MB so that
what searches read stays within it).
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .common import PYTHON, ROOT, SEED, say, summary


def rss_mb() -> dict[str, float]:
    """This process's resident memory (VmRSS) and its anonymous and file-backed parts, in MB."""
    out = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(value.split()[0]) / 1024
    return out


def duckdb_mb(store) -> dict[str, float]:
    return {tag: round(b / 1e6, 1) for tag, b in store.db.rows(
        "SELECT tag, memory_usage_bytes FROM duckdb_memory() WHERE memory_usage_bytes > 0")}


def _search_pass(store, queries: list[dict[str, Any]], reverse: bool = False) -> list[float]:
    times = []
    for query in (reversed(queries) if reverse else queries):
        started = time.perf_counter()
        store.search(query["q"])
        times.append((time.perf_counter() - started) * 1000.0)
    return times


def _hold(store, holding: str) -> dict[str, Any]:
    from customercard.memory import trim
    from customercard.store.search_memory import describe, hold_planned, plan_hold

    started = time.perf_counter()
    kind, _, amount = holding.partition(":")
    if kind == "all":
        held = {"mb": store.hold_search_in_memory()}
    elif kind == "budget":
        plan = plan_hold(store.db, float(amount))
        held = {"mb": hold_planned(store.db, plan), "plan": describe(plan)}
    elif kind == "limit":
        store.db.execute(f"SET memory_limit = '{int(amount)}MB'")  # a number from our own command line
        held = {"mb": 0.0}
    elif kind == "none":
        held = {"mb": 0.0}
    else:
        raise SystemExit(f"unknown holding {holding!r}")
    trim()
    held["seconds"] = round(time.perf_counter() - started, 2)
    return held


def probe(path: Path, holding: str, sessions: int = 30, queries: int = 200) -> dict[str, Any]:
    """One (database, holding): the figures described in the module's docstring."""
    from bokeh.document import Document

    from customercard.memory import trim
    from customercard.store import Store
    from customercard.store.search_memory import HOLD_ORDER, column_mb
    from customercard.ui.card import CustomerCard

    from .common import ACTING_USER
    from .inprocess import _hv_ready, build_card, random_customers, release, search_queries

    out: dict[str, Any] = {"holding": holding, "rss_start_mb": rss_mb()}
    store = Store(path)
    try:
        out["customers"] = int(store.db.row("SELECT count(*) FROM customers")[0])
        out["columns_mb"] = [[t, list(c), round(mb, 1)]
                             for (t, c), mb in zip(HOLD_ORDER, column_mb(store.db), strict=True)]
        picks = random_customers(store, sessions + 5, SEED + 17)
        asked = search_queries(store, queries, SEED + 4)
        _hv_ready()
        for customer_id in picks[:3]:
            build_card(store, customer_id)
        for query in asked[:10]:
            store.search(query["q"])
        store.db.memory.release()  # as the idle server does before it holds the index again
        out["held"] = _hold(store, holding)
        out["rss_idle_mb"] = rss_mb()
        out["duckdb_idle_mb"] = duckdb_mb(store)
        first = _search_pass(store, asked)
        second = _search_pass(store, asked, reverse=True)
        out["search_first_pass_ms"] = summary(first)
        out["search_ms"] = summary(first + second)
        out["rss_after_search_mb"] = rss_mb()
        open_cards = []
        for customer_id in picks[5:5 + sessions]:
            card = CustomerCard(store=store, customer_id=customer_id, user=ACTING_USER)
            layout = card.__panel__()
            doc = Document()
            open_cards.append((layout, layout.get_root(doc), doc))
        out["search_with_sessions_ms"] = summary(_search_pass(store, asked))
        out["rss_sessions_mb"] = rss_mb()
        out["duckdb_sessions_mb"] = duckdb_mb(store)
        for layout, root, doc in open_cards:
            release(layout, root, doc)
        open_cards.clear()
        gc.collect()
        store.db.memory.release()
        if holding != "none" and not holding.startswith("limit"):
            _hold(store, holding)
        trim()
        out["rss_after_release_mb"] = rss_mb()
    finally:
        store.close()
    return out


def run_probe(path: Path, holding: str, sessions: int, queries: int, timeout: float = 3600.0) -> dict[str, Any]:
    """:func:`probe` in a new process (its RSS is its own); the result it prints."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONMALLOC": "malloc"}  # as the server runs (memory.py)
    done = subprocess.run([PYTHON, "-m", "benchmarks.memory", str(path), holding, str(sessions), str(queries)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe {holding} on {path.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_bench(paths: dict[int, Path], holdings: list[str], sessions: int, queries: int) -> dict[str, Any]:
    """Every holding at every size, one process each; sizes alternate so load changes hit them alike."""
    results: dict[str, dict[str, Any]] = {}
    for holding in holdings:
        for n, path in sorted(paths.items()):
            say(f"   {n:,} customers, holding {holding} …")
            load = os.getloadavg()[0]
            result = run_probe(path, holding, sessions, queries)
            result["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
            results.setdefault(holding, {})[str(n)] = result
            say(f"     RSS idle {result['rss_idle_mb']['VmRSS']:.0f} MB, with {sessions} sessions "
                f"{result['rss_sessions_mb']['VmRSS']:.0f} MB; search p50 {result['search_ms']['p50']:.1f} ms, "
                f"p95 {result['search_ms']['p95']:.1f} ms (held {result['held']['mb']:.0f} MB)")
    return {"sizes": sorted(paths), "holdings": holdings, "sessions": sessions, "queries": queries,
            "results": results}


def main(argv: list[str]) -> int:
    path, holding = Path(argv[0]), argv[1]
    sessions = int(argv[2]) if len(argv) > 2 else 30
    queries = int(argv[3]) if len(argv) > 3 else 200
    os.environ.setdefault("CUSTOMERCARD_USER", "anna")
    result = probe(path, holding, sessions, queries)
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
