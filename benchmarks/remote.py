"""Item 11 — the notebook beside the server: the store's calls through a running ``customercard serve`` (a
RemoteStore found by ``open_store``, frames as Arrow) against the same calls on the embedded store, in one run.

The server holds its private copy of the database (a DuckDB file is held by one process), so the embedded store
opens a second private copy of the same file: the same data on both sides. Each pair of calls runs back to back, the
order swapping every round; the figures are medians and the ratio of the medians.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import pandas as pd

from .common import SEED, copy_db, say, summary, timed_ms
from .report import figure

#: A frame of 100,000 rows as an analyst reads one: invoice lines with their dates, amounts and currencies.
FRAME_SQL = "SELECT * FROM invoices ORDER BY id LIMIT 100000"


def _wait_for_discovery(database: Path, timeout: float = 120.0) -> None:
    from customercard.store.discovery import find_server

    deadline = time.monotonic() + timeout
    while find_server(database) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no server announced itself for {database}")
        time.sleep(0.2)


def _pairs(embedded, remote, call, runs: int) -> dict[str, Any]:
    """``call(store)`` on both stores ``runs`` times, interleaved; medians, their ratio, and whether both answered
    the same."""
    times: dict[str, list[float]] = {"embedded": [], "remote": []}
    same = True
    for index in range(runs):
        order = [("embedded", embedded), ("remote", remote)]
        if index % 2:
            order.reverse()
        answers = {}
        for name, store in order:
            ms, answers[name] = timed_ms(lambda store=store, index=index: call(store, index))
            times[name].append(ms)
        same = same and _same(answers["embedded"], answers["remote"])
    embedded_s, remote_s = summary(times["embedded"]), summary(times["remote"])
    return {"embedded_ms": embedded_s, "remote_ms": remote_s, "ratio": remote_s["p50"] / embedded_s["p50"],
            "same": same, "runs": runs}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(a, b, check_dtype=True)
        except AssertionError:
            return False
        return True
    return a.values() == b.values() if hasattr(a, "values") and callable(a.values) else a == b


def remote_bench(main_db: Path, folder: Path, plan: Any) -> dict[str, Any]:
    from customercard.store import RemoteStore, Store, open_store

    from .browser import Server

    served = copy_db(main_db, folder, "served.duckdb")
    local = copy_db(main_db, folder, "embedded.duckdb")
    say("   starting customercard serve on a private copy …")
    with Server(served, folder / "data", folder / "server.log") as server, Store(local) as embedded:
        _wait_for_discovery(served)
        remote = open_store(served)
        assert isinstance(remote, RemoteStore), remote
        ids = [int(i) for i in embedded.sql("SELECT id FROM customers ORDER BY id")["id"]]
        customers = random.Random(SEED + 11).sample(ids, plan.remote_gets)
        for store in (embedded, remote):  # warm: the first calls of each pay for connections and caches
            for customer_id in customers[:5]:
                store.get_customer(customer_id)
            store.invoiced_per_year()
            store.sql(FRAME_SQL)
        say(f"   get_customer, {plan.remote_gets} customers each way …")
        single = _pairs(embedded, remote, lambda store, i: store.get_customer(customers[i]), plan.remote_gets)
        say(f"   invoiced_per_year() over all customers, {plan.remote_aggregates} runs each way …")
        aggregate = _pairs(embedded, remote, lambda store, _i: store.invoiced_per_year(), plan.remote_aggregates)
        say(f"   a 100,000-row sql(), {plan.remote_frames} runs each way …")
        frame = _pairs(embedded, remote, lambda store, _i: store.sql(FRAME_SQL), plan.remote_frames)
        sample = embedded.sql(FRAME_SQL)
        remote.close()
        rss = server.rss_mb()
    from customercard.store import wire

    encoded = wire.frame_to_arrow(sample)
    return {"get_customer": single, "invoiced_per_year": aggregate, "frame": frame, "server_rss_mb": rss,
            "frame_rows": len(sample), "frame_columns": len(sample.columns),
            "frame_arrow_mb": len(encoded) / 1e6, "frame_memory_mb": sample.memory_usage(deep=True).sum() / 1e6}


def report_item(result: dict[str, Any]) -> dict[str, Any]:
    single, aggregate, frame = result["get_customer"], result["invoiced_per_year"], result["frame"]
    figures = [
        figure("remote", "get_customer through the server, median", single["remote_ms"]["p50"], "ms",
               detail=f"embedded {single['embedded_ms']['p50']:.2f} ms; {single['runs']} customers"),
        figure("remote", "get_customer: server / embedded (medians)", single["ratio"], "×", 3.0),
        figure("remote", "invoiced_per_year() over all customers through the server, median",
               aggregate["remote_ms"]["p50"], "ms", detail=f"embedded {aggregate['embedded_ms']['p50']:.1f} ms"),
        figure("remote", "invoiced_per_year(): server / embedded (medians)", aggregate["ratio"], "×", 3.0,
               detail="a few rows back: held to the single-record target"),
        figure("remote", f"sql() of {result['frame_rows']:,} rows through the server, median",
               frame["remote_ms"]["p50"], "ms", detail=f"embedded {frame['embedded_ms']['p50']:.0f} ms"),
        figure("remote", f"sql() of {result['frame_rows']:,} rows: server / embedded (medians)", frame["ratio"], "×",
               2.0),
    ]
    notes = [
        "`customercard serve` on a private copy of the database, holding it as it does; the benchmark process "
        "finds it with `customercard.open_store(path)` (its discovery file) and calls it as a `RemoteStore`; "
        "the embedded store opens a second private copy of the same file. Pairs of calls back to back, the order "
        "swapping every round; medians.", "",
        f"The same answers from both (values, columns and dtypes): get_customer "
        f"{'yes' if single['same'] else 'NO'}, invoiced_per_year {'yes' if aggregate['same'] else 'NO'}, "
        f"sql {'yes' if frame['same'] else 'NO'}.", "",
        f"The frame: `{FRAME_SQL}` — {result['frame_rows']:,} rows × {result['frame_columns']} columns, "
        f"{result['frame_memory_mb']:.1f} MB in pandas, {result['frame_arrow_mb']:.1f} MB as the Arrow IPC stream "
        f"that travels. Server RSS at the end: {result['server_rss_mb']:.0f} MB.", "",
        "| call | embedded p50 ms | server p50 ms | embedded p95 ms | server p95 ms | ratio |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, r in (("get_customer", single), ("invoiced_per_year()", aggregate), ("sql (100,000 rows)", frame)):
        notes.append(f"| {label} | {r['embedded_ms']['p50']:.2f} | {r['remote_ms']['p50']:.2f} | "
                     f"{r['embedded_ms']['p95']:.2f} | {r['remote_ms']['p95']:.2f} | {r['ratio']:.2f}× |")
    return {"figures": figures, "notes": notes, "result": result}
