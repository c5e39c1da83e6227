"""The pipeline board's open time in Chromium against the bare page, with the demo's open opportunities (about
1,240 at 2,000 customers) and with 10,000.

    .venv/bin/python -m benchmarks.pipeline_board              # 10 pairs at each size
    .venv/bin/python -m benchmarks.pipeline_board --pairs 4

A demo database (2,000 customers, the suite's seed and date) is built in a temporary folder; for the second size
it is topped up with open opportunities, as the demo generator writes them (spread over the stages, owners and
the coming year), to 10,000. ``customercard serve --bench`` runs as a subprocess; a logged-in context opens
``/pipeline`` (the board, the default view) and ``/bench-bare`` alternately, the order swapping every pair, the
cache warm (both pages opened once first, unmeasured). Time: from the navigation's start to Bokeh idle (the
board's columns are drawn in the same synchronous pass; that its cards are there is checked after each open),
measured in the page. The server's share: building the board's session in-process (``PipelinePage`` +
``get_root``), median of 5. Target: board ≤ 1.5 × the bare page (p50 of the per-pair ratios). Writes
``benchmarks/pipeline_board.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .common import ROOT, SEED, TODAY, say, summary

TARGET = 1.5
OUT = ROOT / "benchmarks" / "pipeline_board.json"


def top_up(store: Any, open_wanted: int, seed: int = SEED) -> int:
    """Add open opportunities (as the demo generator writes them) until ``open_wanted`` are open; returns how many
    were added."""
    from customercard.demo import MANAGERS, OPPORTUNITY_TITLES

    have = int(store.db.row("SELECT count(*) FROM opportunities WHERE status = 'pipeline'")[0])
    missing = open_wanted - have
    if missing <= 0:
        return 0
    rng = np.random.default_rng(seed)
    customers = [int(r[0]) for r in store.db.rows("SELECT id FROM customers WHERE NOT archived ORDER BY id")]
    stages = store.list_values("opportunity_stages")
    stage_ids = [int(i) for i in stages[stages["active"]]["id"]]
    created = dt.datetime.combine(TODAY, dt.time(10)) - dt.timedelta(days=30)
    frame = pd.DataFrame({
        "customer_id": rng.choice(customers, missing), "title": rng.choice(OPPORTUNITY_TITLES, missing),
        "amount": np.round(rng.lognormal(11.5, 0.8, missing), -3), "currency": "SEK",
        "probability": rng.choice([10.0, 25.0, 50.0, 75.0, 90.0], missing),
        "stage_id": rng.choice(stage_ids, missing),
        "expected_close": [TODAY + dt.timedelta(days=int(d)) for d in rng.integers(7, 400, missing)],
        "owner": rng.choice(MANAGERS, missing), "status": "pipeline", "lost_reason": "", "status_changed_by": "",
        "status_changed_at": pd.NaT, "created_at": created, "created_by": "system:bench", "updated_at": created,
        "updated_by": "system:bench", "version": 1})
    frame.insert(0, "id", store.db.reserve_ids("opportunities_id_seq", len(frame)))
    for column in ("status_changed_at", "created_at", "updated_at"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    store.db.insert_df("opportunities", frame)
    return missing


def server_build_ms(database: Path, repeats: int = 5) -> dict[str, float]:
    """Building the board's session in-process: the page object and its Bokeh models, ms."""
    from bokeh.document import Document

    from customercard.store import Store
    from customercard.ui.pipeline import PipelinePage

    samples = []
    with Store(database) as store:
        for _ in range(repeats + 1):
            started = time.perf_counter()
            page = PipelinePage(store=store, user="anna")
            page.__panel__().get_root(Document())
            samples.append((time.perf_counter() - started) * 1000.0)
            page.body._follower.stop()
    return summary(samples[1:])


def board_vs_bare(database: Path, folder: Path, pairs: int) -> dict[str, Any]:
    """The board and the bare page alternately, and — for scale, on the same machine at the same moment — a
    customer card (whose own target is the same 1.5×) after each pair."""
    from customercard.store import Store

    from .browser import Browser, Server, measure

    with Store(database) as store:
        customer = int(store.db.row("SELECT customer_id FROM invoices GROUP BY customer_id ORDER BY count(*) DESC, "
                                    "customer_id LIMIT 1")[0])

    with Server(database, folder / "data", folder / "server.log") as server, Browser() as browser:
        browser.login(server)
        context = browser.context()
        page = context.new_page()
        board_url, bare_url = f"{server.url}/pipeline", f"{server.url}/bench-bare"
        card_url = f"{server.url}/card?customer={customer}"
        for url in (board_url, bare_url, card_url):
            measure(page, url)

        def visit(url: str) -> dict[str, Any]:
            facts = measure(page, url)
            if url == board_url:
                cards = page.locator(".cc-board-card").count()
                if cards == 0:
                    raise RuntimeError("the board drew no cards")
                facts["cards"] = cards
            return facts
        boards, bares, cards, ratios, card_ratios = [], [], [], [], []
        for i in range(pairs):
            if i % 2 == 0:
                board, bare = visit(board_url), visit(bare_url)
            else:
                bare, board = visit(bare_url), visit(board_url)
            card = visit(card_url)
            boards.append(board)
            bares.append(bare)
            cards.append(card)
            ratios.append(board["ms"] / bare["ms"])
            card_ratios.append(card["ms"] / bare["ms"])
        context.close()
    return {"pairs": pairs, "board_ms": summary(b["ms"] for b in boards), "bare_ms": summary(b["ms"] for b in bares),
            "ratio": summary(ratios), "card_ms": summary(c["ms"] for c in cards), "card_ratio": summary(card_ratios),
            **{f"{kind}_{part}": summary(b[part] for b in rows) for kind, rows in (("board", boards), ("bare", bares))
               for part in ("server_ms", "html_to_doc_ms", "doc_to_idle_ms")},
            "board_models": boards[0]["models"], "bare_models": bares[0]["models"], "cards_drawn": boards[0]["cards"],
            "board_samples": [b["ms"] for b in boards], "bare_samples": [b["ms"] for b in bares]}


def measure_sizes(customers: int, pairs: int, only_large: bool = False) -> dict[str, Any]:
    """The board against the bare page with the demo's open opportunities and with 10,000 (or only 10,000)."""
    from customercard.demo import build_demo
    from customercard.store import Store

    results: dict[str, Any] = {"when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "target": TARGET,
                               "sizes": {}}
    with tempfile.TemporaryDirectory(prefix="cc-board-bench-") as tmp:
        folder = Path(tmp)
        database = folder / "board.duckdb"
        say(f"building a demo database with {customers:,} customers …")
        with Store(database) as store:
            build_demo(store, customers=customers, seed=SEED, today=TODAY, progress=False)
        for wanted in ((10_000,) if only_large else (None, 10_000)):
            with Store(database) as store:
                if wanted is not None:
                    top_up(store, wanted)
                opened = int(store.db.row("SELECT count(*) FROM opportunities WHERE status = 'pipeline'")[0])
            say(f"{opened:,} open opportunities: the board's session built in-process …")
            build = server_build_ms(database)
            say(f"  p50 {build['p50']:.0f} ms; the board against the bare page in Chromium, {pairs} pairs …")
            measured = board_vs_bare(database, folder / f"run-{opened}", pairs)
            measured["session_build_ms"] = build
            measured["pass"] = measured["ratio"]["p50"] <= TARGET
            results["sizes"][str(opened)] = measured
    return results


def item_board(plan: Any, figure: Any) -> dict[str, Any]:
    """``make bench`` item ``board``: the board's open against the bare page at the demo's ~1,240 open
    opportunities and at 10,000, with a customer card measured in the same run for scale."""
    results = measure_sizes(2000, 4 if plan.quick else 10)
    OUT.write_text(json.dumps(results, indent=1), encoding="utf-8")
    figures = []
    for opened, m in results["sizes"].items():
        detail = (f"board p50 {m['board_ms']['p50']:.0f} ms, bare p50 {m['bare_ms']['p50']:.0f} ms, a card / bare "
                  f"{m['card_ratio']['p50']:.2f} in the same run, {m['pairs']} pairs")
        figures.append(figure("board", f"Pipeline board / bare page open with {int(opened):,} open opportunities, p50",
                              m["ratio"]["p50"], "×", TARGET, detail=detail))
        figures.append(figure("board", f"Pipeline board session build with {int(opened):,} open opportunities, p50",
                              m["session_build_ms"]["p50"], "ms"))
    notes = ["Measured in the page from the navigation's start to Bokeh idle, the board and the bare page "
             "alternately (order swapped every pair), the cache warm; a customer card after each pair for scale. "
             "`python -m benchmarks.pipeline_board` runs the same on its own."]
    return {"figures": figures, "notes": notes, "result": results}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10, help="board/bare pairs per size")
    parser.add_argument("--only-large", action="store_true", help="measure only with 10,000 open opportunities")
    parser.add_argument("--customers", type=int, default=2000, help="the demo database's customers")
    args = parser.parse_args(argv)
    results = measure_sizes(args.customers, args.pairs, args.only_large)
    OUT.write_text(json.dumps(results, indent=1), encoding="utf-8")
    print("| open opportunities | board p50 | bare p50 | ratio p50 (p95) | a card / bare p50 | session build p50 |"
          " models board/bare | cards drawn | target ≤ 1.5× |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for opened, m in results["sizes"].items():
        print(f"| {int(opened):,} | {m['board_ms']['p50']:.0f} ms | {m['bare_ms']['p50']:.0f} ms | "
              f"{m['ratio']['p50']:.2f} ({m['ratio']['p95']:.2f}) | {m['card_ratio']['p50']:.2f} | "
              f"{m['session_build_ms']['p50']:.0f} ms | "
              f"{m['board_models']}/{m['bare_models']} | {m['cards_drawn']} | {'PASS' if m['pass'] else 'FAIL'} |")
    print()
    print("| open opportunities | page | server (request → response) p50 | HTML → document p50 | document → idle p50 |")
    print("|---:|---|---:|---:|---:|")
    for opened, m in results["sizes"].items():
        for kind in ("board", "bare"):
            print(f"| {int(opened):,} | {kind} | {m[kind + '_server_ms']['p50']:.0f} ms | "
                  f"{m[kind + '_html_to_doc_ms']['p50']:.0f} ms | {m[kind + '_doc_to_idle_ms']['p50']:.0f} ms |")
    return results


if __name__ == "__main__":
    main()
