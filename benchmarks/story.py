"""Item ``story`` — the customer's whole story on the server: the timeline's first page, the card as it was on a day
and a year's invoices, each against a floor measured in the same run (``get_customer`` and ``invoiced_per_year`` of
the same customers, interleaved), a customer with 10,000 timeline entries paged through (on a private copy), and the
three at each size of the growth databases."""

from __future__ import annotations

import datetime as dt
import random
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

from .common import SEED, copy_db, say, summary, timed_ms

#: What is timed for each customer, in this order every round (the floors first).
OPERATIONS = ("get_customer (floor)", "invoiced_per_year (floor)", "timeline first page", "customer as of a day",
              "card's store calls as of a day", "a year's invoices")


def customers_with_history(store: Any, count: int, seed: int) -> list[int]:
    """``count`` random customers, half of them with a change after their creation (so that the card as of a day
    has something to put back)."""
    changed = [int(i) for (i,) in store.db.rows("SELECT DISTINCT customer_id FROM customer_changes WHERE version > 1 "
                                               "ORDER BY 1")]
    every = [int(i) for (i,) in store.db.rows("SELECT id FROM customers ORDER BY id")]
    rng = random.Random(seed)
    half = rng.sample(changed, min(count // 2, len(changed)))
    rest = rng.sample(every, min(count - len(half), len(every)))
    return half + rest


def _day_of(store: Any, customer_id: int) -> dt.date:
    """A day in the customer's life: halfway between its creation and its last change (or today)."""
    first, last = store.db.row("SELECT min(changed_at), max(changed_at) FROM customer_changes WHERE customer_id = ?",
                               [customer_id])
    if first is None:
        return dt.date.today()
    last = last if last > first else dt.datetime.now()
    return (first + (last - first) / 2).date()


def _year_of(store: Any, customer_id: int) -> int:
    found = store.db.row("SELECT max(year) FROM invoiced_yearly WHERE customer_id = ?", [customer_id])
    return int(found[0]) if found and found[0] is not None else dt.date.today().year


def _card_calls_as_of(view: Any, customer_id: int) -> None:
    """What the card asks the store as it opens as of a day (its sections open by default)."""
    view.get_customer(customer_id)
    view.comments(customer_id, limit=3)
    view.comment_count(customer_id)
    view.contacts(customer_id)
    view.invoiced_per_year(customer_id)
    view.pipeline_per_year(customer_id)


def story_timings(store: Any, customers: list[int], rounds: int = 1) -> dict[str, Any]:
    """Each operation for each customer, interleaved (floors first), after one warm-up round."""
    plans = [(c, _day_of(store, c), _year_of(store, c)) for c in customers]
    calls = {
        "get_customer (floor)": lambda c, _d, _y: store.get_customer(c),
        "invoiced_per_year (floor)": lambda c, _d, _y: store.invoiced_per_year(c),
        "timeline first page": lambda c, _d, _y: store.timeline(c),
        "customer as of a day": lambda c, d, _y: store.get_customer(c, as_of=d),
        "card's store calls as of a day": lambda c, d, _y: _card_calls_as_of(store.as_of(d), c),
        "a year's invoices": lambda c, _d, y: store.invoices(c, year=y),
    }
    for c, d, y in plans[:5]:
        for name in OPERATIONS:
            calls[name](c, d, y)
    samples: dict[str, list[float]] = {name: [] for name in OPERATIONS}
    for _round in range(rounds):
        for c, d, y in plans:
            for name in OPERATIONS:
                ms, _result = timed_ms(lambda name=name, c=c, d=d, y=y: calls[name](c, d, y))
                samples[name].append(ms)
    return {"ms": {name: summary(values) for name, values in samples.items()}, "samples": samples}


def many_entries(main_db: Path, folder: Path, count: int = 10_000, pages: int = 100) -> dict[str, Any]:
    """A customer with ``count`` comments and a thousand saves (on a private copy): the first page, the page after
    ``pages`` pages, a text filter and a kind filter, each timed 20 times."""
    from customercard.store import Store

    copy = copy_db(main_db, folder, "story.duckdb")
    try:
        with Store(copy) as store:
            customer_id = int(store.db.row("SELECT min(id) FROM customers")[0])
            start = dt.datetime(2020, 1, 1, 8)
            comments = pd.DataFrame({
                "id": store.db.reserve_ids("comments_id_seq", count), "customer_id": customer_id,
                "written_on": [(start + dt.timedelta(hours=i)).date() for i in range(count)], "author": "anna",
                "body": [f"Note {i}" for i in range(count)], "kind": "comment", "recipients": "",
                "created_at": [start + dt.timedelta(hours=i) for i in range(count)], "created_by": "anna",
                "edited_at": pd.Series([None] * count, dtype="datetime64[us]"), "edited_by": "", "version": 1})
            comments["created_at"] = comments["created_at"].astype("datetime64[us]")
            changes = pd.DataFrame({
                "id": store.db.reserve_ids("customer_changes_id_seq", 1000), "customer_id": customer_id,
                "version": range(100, 1100),
                "changed_at": [start + dt.timedelta(hours=i, minutes=30) for i in range(1000)],
                "changed_by": "erik", "kind": "update", "field": "nickname", "old_value": "a", "new_value": "b"})
            changes["changed_at"] = changes["changed_at"].astype("datetime64[us]")
            with store.db.transaction():
                store.db.insert_df("comments", comments)
                store.db.insert_df("customer_changes", changes)
            store.db.checkpoint()
            store.timeline(customer_id)
            cursor = None
            for _page in range(pages):
                cursor = store.timeline(customer_id, before=cursor)["cursor"].iloc[-1]
            cases = {"first page": {}, f"page {pages + 1}": {"before": cursor}, "text filter": {"text": "note 9999"},
                     "kind filter (field changes)": {"kinds": ["change"]}}
            out = {}
            for label, options in cases.items():
                out[label] = summary([timed_ms(lambda o=options: store.timeline(customer_id, **o))[0]
                                      for _ in range(20)])
            return {"entries": count + 1000, "ms": out}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def story_growth(stores: dict[int, Any], count: int, seed: int) -> dict[str, Any]:
    """The three operations at each size, interleaved between the sizes."""
    picks = {n: customers_with_history(store, count, seed) for n, store in stores.items()}
    plans = {n: [(c, _day_of(stores[n], c), _year_of(stores[n], c)) for c in picks[n]] for n in stores}
    ops = {"timeline first page": lambda s, c, _d, _y: s.timeline(c),
           "customer as of a day": lambda s, c, d, _y: s.get_customer(c, as_of=d),
           "a year's invoices": lambda s, c, _d, y: s.invoices(c, year=y)}
    for n, store in stores.items():
        for c, d, y in plans[n][:5]:
            for op in ops.values():
                op(store, c, d, y)
    samples: dict[str, dict[str, list[float]]] = {name: {str(n): [] for n in stores} for name in ops}
    for index in range(count):
        for n, store in stores.items():
            if index >= len(plans[n]):
                continue
            c, d, y = plans[n][index]
            for name, op in ops.items():
                samples[name][str(n)].append(timed_ms(lambda op=op, s=store, c=c, d=d, y=y: op(s, c, d, y))[0])
    return {name: {n: summary(v) for n, v in by_size.items()} for name, by_size in samples.items()}


def story_report(result: dict[str, Any], sizes: list[int], figure: Any) -> tuple[list[dict[str, Any]], list[str]]:
    """The figures (targets: p95 ≤ 50 ms each; growth ≤ 1.3× on the medians) and the notes of the item."""
    ms = result["main"]["ms"]
    floor, yearly = ms["get_customer (floor)"], ms["invoiced_per_year (floor)"]
    figures = []
    for name, base, base_name in (("timeline first page", floor, "get_customer"),
                                  ("customer as of a day", floor, "get_customer"),
                                  ("card's store calls as of a day", floor, "get_customer"),
                                  ("a year's invoices", yearly, "invoiced_per_year")):
        s = ms[name]
        figures.append(figure("story", f"{name}, p50", s["p50"], "ms",
                              detail=f"{s['n']} calls; {s['p50'] / base['p50']:.1f}× {base_name} of the same "
                                     f"customers ({base['p50']:.1f} ms)"))
        figures.append(figure("story", f"{name}, p95", s["p95"], "ms", 50.0))
    many = result["many"]
    for label, s in many["ms"].items():
        figures.append(figure("story", f"Timeline of a customer with {many['entries']:,} entries: {label}, p95",
                              s["p95"], "ms", 50.0, detail=f"p50 {s['p50']:.1f} ms"))
    growth = result.get("growth") or {}
    if len(sizes) > 1 and growth:
        small, large = str(sizes[0]), str(sizes[-1])
        for name, by_size in growth.items():
            ratio = by_size[large]["p50"] / by_size[small]["p50"]
            figures.append(figure("story", f"{name}: p50 at {int(large):,} / p50 at {int(small):,}", ratio, "×", 1.3,
                                  detail=", ".join(f"{int(n):,}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms"
                                                   for n, s in by_size.items())))
    notes = ["In-process on the 100,000-customer database (the server's view of it): for each of "
             f"{ms['timeline first page']['n']} customers (half with a change after their creation, so the card as "
             "of a day puts something back), in turn: `get_customer(id)` and `invoiced_per_year(id)` (the floors), "
             "`timeline(id)` (50 entries), `get_customer(id, as_of=day)` (a day halfway through its history), the "
             "calls the card makes as it opens as of that day (`store.as_of(day)`: the customer, three comments and "
             "their count, contacts, invoiced per year, the pipeline by year), and `invoices(id, year=…)` (its last "
             "invoiced year).", "",
             "| operation | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|"]
    for name in OPERATIONS:
        s = ms[name]
        notes.append(f"| {name} | {s['p50']:.1f} | {s['p95']:.1f} | {s['max']:.1f} |")
    notes += ["", f"A customer with {many['entries']:,} timeline entries (10,000 comments and 1,000 saves added to a "
              "private copy): each case timed 20 times.", "", "| case | p50 ms | p95 ms |", "|---|---:|---:|"]
    for label, s in many["ms"].items():
        notes.append(f"| {label} | {s['p50']:.1f} | {s['p95']:.1f} |")
    return figures, notes


def item_story(main_db: Path, sizes: list[int], plan: Any, temp: Path, figure: Any) -> dict[str, Any]:
    from customercard.store import Store

    from .common import db_path
    from .inprocess import open_stores

    say(f"11. the customer's story: timeline, card as of a day, a year's invoices for {plan.story_customers} "
        "customers …")
    with Store(main_db) as store:
        customers = customers_with_history(store, plan.story_customers, SEED + 11)
        main = story_timings(store, customers, rounds=plan.story_rounds)
    for name in OPERATIONS:
        s = main["ms"][name]
        say(f"   {name}: p50 {s['p50']:.1f} ms, p95 {s['p95']:.1f} ms")
    say("   a customer with 11,000 timeline entries (a private copy) …")
    many = many_entries(main_db, temp / "story")
    growth = None
    if len(sizes) > 1:
        say(f"   growth at {', '.join(f'{n:,}' for n in sizes)} …")
        stores = open_stores({n: db_path(n) for n in sizes})
        try:
            growth = story_growth(stores, plan.story_customers, SEED + 12)
        finally:
            for opened in stores.values():
                opened.close()
    result = {"main": main, "many": many, "growth": growth}
    figures, notes = story_report(result, sizes, figure)
    return {"figures": figures, "notes": notes, "result": {k: v for k, v in result.items() if k != "main"} |
            {"main": {"ms": main["ms"]}}}
