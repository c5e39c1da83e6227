"""Item ``home``: building the home page ("My customers") on the server for a manager with many customers.

On a private copy of the benchmark database a manager of their own is given ``customers`` customers (a fixed
sample), follow-ups (some overdue), recently opened cards and changes by colleagues since their last look; then
the page is built as the server builds a session's page (the view and its Bokeh models in a new Document), and
each block's queries and HTML are timed on their own.
"""

from __future__ import annotations

import datetime as dt
import gc
import time
from pathlib import Path
from typing import Any

from .common import SEED, copy_db, say, summary

MANAGER = "homer"


def _prepare(store, customers: int) -> list[int]:
    """The manager, their customers, follow-ups, opened cards and colleagues' changes; returns their customers."""
    from customercard.models import User

    if MANAGER not in set(store.users(include_inactive=True)["login"]):
        store.add_user(User(login=MANAGER, name="Homer Bench", email="homer@firm.example", role="manager"),
                       password_hash="x", by="system:bench")
    total = int(store.sql("SELECT count(*) AS n FROM customers")["n"].iloc[0])
    step = max(1, total // customers)
    with store.db.transaction() as cur:  # the sample: every step-th customer, a fixed offset from the seed
        cur.execute("UPDATE customers SET account_manager = ? WHERE (id + ?) % ? = 0 AND NOT archived",
                    [MANAGER, SEED, step])
    mine = [int(i) for i in store.sql("SELECT id FROM customers WHERE account_manager = ? ORDER BY id",
                                      [MANAGER])["id"]]
    today = store.firm_today()
    for i, customer_id in enumerate(mine[:60]):
        follow_up = store.new_follow_up(customer_id, owner=MANAGER)
        follow_up.what, follow_up.due_on = f"Bench follow-up {i}", today + dt.timedelta(days=(i % 20) - 10)
        store.add_follow_up(follow_up, user=MANAGER)
    for customer_id in mine[:25]:
        store.record_card_view(MANAGER, customer_id)
    store.mark_home_seen(MANAGER, dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=2))
    for customer_id in mine[60:90]:
        customer = store.get_customer(customer_id)
        customer.nickname = (customer.nickname or "") + " x"
        store.save_customer(customer, user="anna")
    return mine


def _build(store, user) -> float:
    from bokeh.document import Document

    from customercard.ui.home import HomePage

    from .inprocess import release

    started = time.perf_counter()
    layout = HomePage(store=store, user=user).__panel__()
    doc = Document()
    root = layout.get_root(doc)
    elapsed = (time.perf_counter() - started) * 1000.0
    release(layout, root, doc)
    return elapsed


def home_bench(main_db: Path, builds: int, folder: Path, customers: int = 500) -> dict[str, Any]:
    from customercard.store import Store
    from customercard.ui.home import BLOCKS, HomePage

    db = copy_db(main_db, folder, "home.duckdb")
    with Store(db) as store:
        mine = _prepare(store, customers)
        user = store.get_user(MANAGER)
        for _warm in range(2):
            _build(store, user)
        gc.collect()
        times = []
        for _round in range(builds):
            store.mark_home_seen(MANAGER, dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=2))
            times.append(_build(store, user))
        page = HomePage(store=store, user=user)
        blocks: dict[str, list[float]] = {key: [] for key in BLOCKS if key in page.slots}
        for _round in range(builds):
            for key, block_ms in blocks.items():
                started = time.perf_counter()
                getattr(page, f"_{key}")()
                block_ms.append((time.perf_counter() - started) * 1000.0)
    return {"customers": len(mine), "ms": summary(times), "blocks": {k: summary(v) for k, v in blocks.items()}}


def item_home(main_db: Path, plan: Any, temp: Path, figure: Any) -> dict[str, Any]:
    builds = 10 if plan.quick else 50
    say(f"14. home page: {builds} server builds for a manager with 500 customers …")
    result = home_bench(main_db, builds, temp / "home")
    say(f"   build p50 {result['ms']['p50']:.0f} ms, p95 {result['ms']['p95']:.0f} ms "
        f"({result['customers']} customers)")
    figures = [figure("home", f"Home page server build for a manager with {result['customers']} customers, p95",
                      result["ms"]["p95"], "ms", 150.0, detail=f"p50 {result['ms']['p50']:.0f} ms, {builds} builds"),
               *(figure("home", f"block {key}: queries + HTML, p95", value["p95"], "ms")
                 for key, value in result["blocks"].items())]
    notes = ["The manager's customers are a fixed sample of the benchmark database (every n-th id); 60 follow-ups "
             "(half overdue or due), 25 opened cards, 30 customers changed by a colleague since the last look."]
    return {"figures": figures, "notes": notes, "result": result}
