"""Item ``bulk`` — a bulk change of 1,000 customers on Search customers (issue 21): the account manager of 1,000
customers of the 100,000-customer database changed in one :meth:`Store.bulk_change` (a chunk of customers per
transaction, each customer's change through the single save: history, outbox, search index) and undone, against a
baseline measured in the same run: 1,000 single saves of the same change (``get_customer`` + ``save_customer``) on
another 1,000 customers. Target: the bulk change under 10 s on DuckDB."""

from __future__ import annotations

import random
import shutil
import time
from pathlib import Path
from typing import Any

from .common import SEED, copy_db, say

CUSTOMERS = 1_000
TARGET_S = 10.0


def _two_sets(store: Any, count: int, seed: int) -> tuple[list[int], list[int]]:
    """Two disjoint random sets of ``count`` active customers that Anna does not manage."""
    ids = [int(i) for (i,) in store.db.rows("SELECT id FROM customers WHERE NOT archived AND "
                                            "coalesce(account_manager, '') <> 'anna' ORDER BY id")]
    chosen = random.Random(seed).sample(ids, 2 * count)
    return chosen[:count], chosen[count:]


def bulk_timings(store: Any, count: int = CUSTOMERS, seed: int = SEED + 21) -> dict[str, Any]:
    """Seconds for the baseline (single saves), the preview, the bulk change and its undo, and what they wrote."""
    bulk_ids, single_ids = _two_sets(store, count, seed)
    started = time.perf_counter()
    for customer_id in single_ids:
        customer = store.get_customer(customer_id)
        customer.account_manager = "anna"
        store.save_customer(customer, user="anna")
    single_s = time.perf_counter() - started
    started = time.perf_counter()
    preview = store.bulk_preview(bulk_ids, "account_manager", "anna", user="anna")
    preview_s = time.perf_counter() - started
    started = time.perf_counter()
    batch = store.bulk_change(bulk_ids, "account_manager", "anna", user="anna", versions=preview["versions"])
    bulk_s = time.perf_counter() - started
    started = time.perf_counter()
    undone = store.undo_bulk_change(batch.id, user="anna")
    undo_s = time.perf_counter() - started
    history = store.db.row("SELECT count(*) FROM customer_changes WHERE kind = 'bulk' AND field = 'account_manager'")[0]
    return {"customers": count, "single_saves_s": single_s, "preview_s": preview_s, "bulk_s": bulk_s,
            "undo_s": undo_s, "changed": batch.customers, "skipped": len(batch.skipped), "undone": undone.customers,
            "history_rows": int(history)}


def item_bulk(main_db: Path, temp: Path, figure: Any) -> dict[str, Any]:
    from customercard.store import Store

    say(f"14. bulk: the account manager of {CUSTOMERS:,} customers in one bulk change (and its undo), against "
        f"{CUSTOMERS:,} single saves …")
    copy = copy_db(main_db, temp / "bulk", "bulk.duckdb")
    try:
        with Store(copy) as store:
            result = bulk_timings(store)
    finally:
        shutil.rmtree(temp / "bulk", ignore_errors=True)
    say(f"   bulk {result['bulk_s']:.1f} s, undo {result['undo_s']:.1f} s, {CUSTOMERS:,} single saves "
        f"{result['single_saves_s']:.1f} s")
    figures = [
        figure("bulk", f"Bulk change of {CUSTOMERS:,} customers (account manager)", result["bulk_s"], "s", TARGET_S,
               detail=f"{result['changed']} changed, {result['skipped']} left alone, {result['history_rows']} "
                      "history rows"),
        figure("bulk", f"Baseline: {CUSTOMERS:,} single saves of the same change", result["single_saves_s"], "s"),
        figure("bulk", "Bulk change against the single saves", result["bulk_s"] / result["single_saves_s"], "×",
               1.0),
        figure("bulk", f"Undo of that bulk change ({result['undone']} customers)", result["undo_s"], "s", TARGET_S),
        figure("bulk", "Its preview", result["preview_s"] * 1000, "ms"),
    ]
    notes = [f"On a private copy of the database: {CUSTOMERS:,} random active customers get Anna as account manager "
             "in one `bulk_change` (a chunk of 100 customers per transaction, each saved through `save_customer`: "
             "validation, version check, history, outbox, search index), then `undo_bulk_change`; the baseline is "
             f"{CUSTOMERS:,} other customers changed the same way one `get_customer` + `save_customer` at a time, in "
             "the same run."]
    return {"figures": figures, "notes": notes, "result": result}
