"""The benchmarks that run in this process, without a browser: the card built on the server, the store
queries a card needs, the super search, saves, the analyst's aggregate, growth with the data size and an
import's dry run."""

from __future__ import annotations

import cProfile
import functools
import gc
import io
import pstats
import random
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .common import ACTING_USER, say, summary, timed_cpu, timed_ms


# -- timing the product's own steps ----------------------------------------------------------------------
class Timers(dict):
    """Milliseconds per label (the dict) and the number of calls per label (``calls``)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: dict[str, int] = {}

    def clear(self) -> None:
        super().clear()
        self.calls.clear()


@contextmanager
def method_timers(targets: list[tuple[Any, str, str]]) -> Iterator[Timers]:
    """Wrap methods (owner, attribute name, label) so each call adds its milliseconds to ``spent[label]``
    (inclusive of what it calls) and counts in ``spent.calls[label]``. Only in this process and only inside
    the ``with``; the product's files are not touched. The caller clears ``spent`` between operations."""
    spent = Timers()
    originals: list[tuple[Any, str, Any]] = []

    def wrap(owner: Any, name: str, label: str) -> None:
        own = name in owner.__dict__  # else inherited (DuckDB's Database has its queries from SqlBackend)
        original = owner.__dict__[name] if own else next(k.__dict__[name] for k in owner.__mro__ if name in k.__dict__)
        kind = type(original) if isinstance(original, (classmethod, staticmethod)) else None
        func = original.__func__ if kind else original

        @functools.wraps(func)
        def timed(*args, **kwargs):
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0.0) + (time.perf_counter() - started) * 1000.0
                spent.calls[label] = spent.calls.get(label, 0) + 1

        setattr(owner, name, kind(timed) if kind else timed)
        originals.append((owner, name, original if own else None))

    try:
        for owner, name, label in targets:
            wrap(owner, name, label)
        yield spent
    finally:
        for owner, name, original in reversed(originals):
            if original is None:
                delattr(owner, name)  # inherited again
            else:
                setattr(owner, name, original)


def profile_top(func: Callable[[], Any], top: int = 25, sort: str = "cumulative") -> str:
    """cProfile of ``func()``: the ``top`` functions by ``sort``."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        func()
    finally:
        profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(top)
    text = out.getvalue().replace(str(Path(__file__).resolve().parent.parent) + "/", "")
    text = text.replace(".venv/lib/python3.11/site-packages/", "")
    return text[text.find("   ncalls"):] if "   ncalls" in text else text


# -- picking customers ------------------------------------------------------------------------------------


def customers_with_invoices(store, count: int, seed: int) -> list[int]:
    """``count`` random customers that have invoices (fixed seed), in random order."""
    ids = [int(i) for (i,) in store.db.rows("SELECT DISTINCT customer_id FROM invoiced_yearly ORDER BY 1")]
    return random.Random(seed).sample(ids, min(count, len(ids)))


def random_customers(store, count: int, seed: int) -> list[int]:
    """``count`` random customers of any kind (fixed seed)."""
    ids = [int(i) for (i,) in store.db.rows("SELECT id FROM customers ORDER BY id")]
    return random.Random(seed).sample(ids, min(count, len(ids)))


# -- 2. the card built on the server ----------------------------------------------------------------------
def _hv_ready() -> None:
    """Panel loaded, and Bokeh set as a serving process sets it (:func:`customercard.server.bokeh_as_served`)."""
    import panel as pn

    from customercard.server import bokeh_as_served

    pn.extension()
    bokeh_as_served()


def build_card(store, customer_id: int) -> tuple[float, int, float]:
    """Build one card session as the server does: the view and its Bokeh models in a new Document.
    Returns (milliseconds, number of Bokeh models, CPU milliseconds); the models are released afterwards,
    untimed, as the server does when a session ends."""
    from bokeh.document import Document

    from customercard.ui.card import CustomerCard

    started, cpu = time.perf_counter(), time.process_time()
    card = CustomerCard(store=store, customer_id=customer_id, user=ACTING_USER)
    layout = card.__panel__()
    doc = Document()
    root = layout.get_root(doc)
    elapsed = (time.perf_counter() - started) * 1000.0
    cpu_ms = (time.process_time() - cpu) * 1000.0
    models = len(list(root.references()))
    release(layout, root, doc)
    return elapsed, models, cpu_ms


def release(layout, root, doc) -> None:
    """Forget a built view as Panel's server does when a session ends (``Viewable._server_destroy``):
    without this, ``pn.state._views`` keeps every card built in this process alive."""
    import panel as pn

    ref = root.ref["id"]
    layout._cleanup(root)
    layout._documents.pop(doc, None)
    pn.state._views.pop(ref, None)


def card_build(store, customers: list[int], warmup: int = 5) -> dict[str, Any]:
    """p50/p95 of building a card (warm: imports done, caches filled by ``warmup`` builds first)."""
    _hv_ready()
    for customer_id in customers[:warmup]:
        build_card(store, customer_id)
    gc.collect()
    times, models, cpu = [], [], []
    for customer_id in customers:
        ms, n, cpu_ms = build_card(store, customer_id)
        times.append(ms)
        models.append(n)
        cpu.append(cpu_ms)
    return {"ms": summary(times), "cpu_ms": summary(cpu), "models": summary(models), "samples": times}


def card_breakdown(store, customers: list[int]) -> dict[str, Any]:
    """Where a card build's time goes: loading the context, each section (its queries and HTML), the rest of
    the view, and ``get_root`` (Bokeh models). Measured by wrapping the product's methods in this process
    only (nothing in the product changes)."""
    from bokeh.document import Document

    from customercard.ui import card as card_module
    from customercard.ui.context import CardContext
    from customercard.ui.sections import SECTIONS

    targets = [(CardContext, "load", "context: load customer, user, settings")]
    for section in SECTIONS:
        name = "render" if "render" in section.__dict__ else "markup"
        if name in section.__dict__:
            targets.append((section, name, f"section {section.key}: queries + HTML"))
    results: dict[str, list[float]] = {}
    with method_timers(targets) as spent:
        for customer_id in customers:
            spent.clear()
            started = time.perf_counter()
            card = card_module.CustomerCard(store=store, customer_id=customer_id, user=ACTING_USER)
            built = time.perf_counter()
            layout = card.__panel__()
            doc = Document()
            root = layout.get_root(doc)
            done = time.perf_counter()
            release(layout, root, doc)
            measured = dict(spent)
            measured["CustomerCard(...) total"] = (built - started) * 1000.0
            measured["get_root (Bokeh models)"] = (done - built) * 1000.0
            measured["total"] = (done - started) * 1000.0
            for label, value in measured.items():
                results.setdefault(label, []).append(value)
    return {label: summary(values) for label, values in results.items()}


def card_profile(store, customers: list[int], top: int = 25) -> str:
    """cProfile of a few card builds: the functions with the most cumulative time."""
    return profile_top(lambda: [build_card(store, c) for c in customers], top)


# -- 2b. the store queries a card needs -------------------------------------------------------------------
CARD_QUERIES: list[tuple[str, Callable[[Any, int], Any]]] = [
    ("get_customer", lambda s, c: s.get_customer(c)),
    ("comments(limit=3) + comment_count", lambda s, c: (s.comments(c, limit=3), s.comment_count(c))),
    ("contacts", lambda s, c: s.contacts(c)),
    ("invoiced_per_year", lambda s, c: s.invoiced_per_year(c)),
    ("history", lambda s, c: s.history(c)),
    ("relations", lambda s, c: s.relations(c)),
    ("events", lambda s, c: s.events(c)),
    ("opportunities", lambda s, c: s.opportunities(c)),
    ("pipeline_per_year", lambda s, c: s.pipeline_per_year(c)),
    ("prefs", lambda s, _c: s.prefs(ACTING_USER, "card.collapsed.")),
]


def card_open_calls(store, customer_id: int) -> list[tuple[str, tuple, dict]]:
    """The store calls a card makes while it opens, as a new user sees it (sections open by default), with
    their arguments: found by building the card with every public store method wrapped (outermost calls
    only; calls a store method makes itself are part of it)."""
    calls: list[tuple[str, tuple, dict]] = []
    depth = [0]
    wrapped = []
    for name in dir(type(store)):
        attr = getattr(type(store), name, None)
        if name.startswith("_") or not callable(attr) or isinstance(attr, (property, type)):
            continue
        bound = getattr(store, name)

        def recorder(*args, _name=name, _bound=bound, **kwargs):
            if depth[0] == 0:
                calls.append((_name, args, kwargs))
            depth[0] += 1
            try:
                return _bound(*args, **kwargs)
            finally:
                depth[0] -= 1

        setattr(store, name, recorder)
        wrapped.append(name)
    try:
        build_card(store, customer_id)
    finally:
        for name in wrapped:
            delattr(store, name)
    return calls


def card_queries(store, customers: list[int], warmup: int = 5) -> dict[str, Any]:
    """The raw store calls a card makes when it opens, each replayed alone with the same arguments: the sum per
    card (the target's figure) and each call's p50/p95; beside it, the calls of a card with every section
    open (``CARD_QUERIES``), for reference."""
    _hv_ready()
    opened = {c: card_open_calls(store, c) for c in customers}
    for customer_id in customers[:warmup]:
        for name, args, kwargs in opened[customer_id]:
            getattr(store, name)(*args, **kwargs)
        for _name, query in CARD_QUERIES:
            query(store, customer_id)
    per_call: dict[str, list[float]] = {}
    totals, cpu_totals, all_open = [], [], []
    for customer_id in customers:
        total = cpu_total = 0.0
        for name, args, kwargs in opened[customer_id]:
            ms, cpu_ms, _ = timed_cpu(lambda n=name, a=args, k=kwargs: getattr(store, n)(*a, **k))
            per_call.setdefault(name, []).append(ms)
            total += ms
            cpu_total += cpu_ms
        totals.append(total)
        cpu_totals.append(cpu_total)
        all_open.append(sum(timed_ms(lambda q=query, c=customer_id: q(store, c))[0] for _n, query in CARD_QUERIES))
    calls = sorted({name for c in customers for name, _a, _k in opened[c]})
    engine = card_engine_share(store, customers, opened)
    return {"sum_ms": summary(totals), "sum_cpu_ms": summary(cpu_totals), "calls": calls, "engine": engine,
            "calls_per_card": summary([len(opened[c]) for c in customers]),
            "per_query": {n: summary(v) for n, v in per_call.items()},
            "all_sections_sum_ms": summary(all_open),
            "statements": statements_per_query(store, customers[:10]), "floor": duckdb_floor(store),
            "samples": totals}


def card_engine_share(store, customers: list[int], opened: dict[int, list[tuple[str, tuple, dict]]]
                      ) -> dict[str, Any]:
    """The floor of the card's store calls: the same calls again, for the same customers, with every call into
    DuckDB (statement and fetch, with the Python binding's conversions) timed through the store's cursor — how much
    of a card's sum DuckDB itself takes, per card and per statement, and what is left for our Python (frames, param
    objects, sorting). No store call can be cheaper than its statements' time here."""
    spent: dict[str, list[float]] = {}
    sums: list[float] = []
    engine: list[float] = []
    with timed_cursors(store.db, spent):
        for customer_id in customers:
            before = sum(sum(v) for v in spent.values())
            total = 0.0
            for name, args, kwargs in opened[customer_id]:
                total += timed_ms(lambda n=name, a=args, k=kwargs: getattr(store, n)(*a, **k))[0]
            sums.append(total)
            engine.append(sum(sum(v) for v in spent.values()) - before)
    count = len(customers)
    statements = sorted(((label, sum(v) / count, len(v) / count, summary(v)["p50"]) for label, v in spent.items()),
                        key=lambda item: -item[1])
    return {"cards": count, "sum_ms": summary(sums), "engine_ms": summary(engine),
            "python_ms": summary([a - b for a, b in zip(sums, engine, strict=True)]),
            "statements_per_card": sum(len(v) for v in spent.values()) / count,
            "statements": [{"statement": label, "ms_per_card": per, "calls_per_card": calls, "p50_ms": p50}
                           for label, per, calls, p50 in statements]}


def statements_per_query(store, customers: list[int]) -> dict[str, dict[str, float]]:
    """For each of the card's store calls: how many SQL statements it runs, and the share of its time spent
    inside the driver's ``execute`` (DuckDB parsing, planning and running the statement) — the rest is
    fetching, building DataFrames or param objects and Python around them. Means over a few customers."""
    from customercard.store.database import Database

    stats: dict[str, dict[str, list[float]]] = {}
    with method_timers([(Database, "execute", "execute"), (Database, "read_only_df", "execute")]) as spent:
        for customer_id in customers:
            for name, query in CARD_QUERIES:
                spent.clear()
                ms, _ = timed_ms(lambda q=query, c=customer_id: q(store, c))
                entry = stats.setdefault(name, {"statements": [], "execute_ms": [], "total_ms": []})
                entry["statements"].append(spent.calls.get("execute", 0))
                entry["execute_ms"].append(spent.get("execute", 0.0))
                entry["total_ms"].append(ms)
    return {name: {"statements": sum(v["statements"]) / len(v["statements"]),
                   "execute_share": sum(v["execute_ms"]) / max(sum(v["total_ms"]), 1e-9)}
            for name, v in stats.items()}


def duckdb_floor(store, runs: int = 200) -> dict[str, float]:
    """The cost of the cheapest statements on this machine (p50 ms): what every store call pays at least."""
    customer_id = int(store.db.row("SELECT min(id) FROM customers")[0])
    probes = {
        "SELECT 1 (fetchall)": lambda: store.db.rows("SELECT 1"),
        "one customer by id (fetchall)": lambda: store.db.rows("SELECT name FROM customers WHERE id = ?",
                                                                [customer_id]),
        "one customer by id (.df())": lambda: store.db.df("SELECT name FROM customers WHERE id = ?", [customer_id]),
        "a customer's comments by customer_id (fetchall)": lambda: store.db.rows(
            "SELECT id FROM comments WHERE customer_id = ?", [customer_id]),
    }
    out = {}
    for label, probe in probes.items():
        for _ in range(10):
            probe()
        out[label] = summary([timed_ms(probe)[0] for _ in range(runs)])["p50"]
    return out


def queries_profile(store, customers: list[int], top: int = 20) -> str:
    """cProfile of the card's store queries (by own time: where they spend it — DuckDB, pandas, param …)."""
    return profile_top(lambda: [q(store, c) for c in customers for _n, q in CARD_QUERIES], top, sort="tottime")


# -- 5. many users: the data side ---------------------------------------------------------------------------
def duckdb_cache_growth(store, customers: list[int], warmup: int, sessions: int, rounds: int) -> dict[str, float]:
    """DuckDB's own memory (``duckdb_memory()``: cached table blocks and index nodes, MB) while the card's
    queries run for the customers the many-users item opens, in the same order: after its warm-up and after
    each round. The served process reads the same data, so this is what its DuckDB keeps cached."""
    def mb() -> float:
        return sum(r[0] for r in store.db.rows("SELECT memory_usage_bytes FROM duckdb_memory()")) / 1e6

    picks = iter(customers * (rounds + 2))
    out = {"opened": mb()}
    for _ in range(warmup):
        customer_id = next(picks)
        for _name, query in CARD_QUERIES:
            query(store, customer_id)
    out["after warm-up"] = mb()
    for index in range(rounds):
        for _ in range(sessions):
            customer_id = next(picks)
            for _name, query in CARD_QUERIES:
                query(store, customer_id)
        out[f"after round {index + 1}"] = mb()
    return out


# -- 3. the super search ----------------------------------------------------------------------------------
SEARCH_KINDS = ("prefix", "contains", "typo", "nickname", "phone", "customer number", "org number", "contact")


def _typo(word: str, rng: random.Random) -> str:
    """The word with one typo: a letter changed, left out, added, or two neighbours swapped."""
    i = rng.randrange(1, len(word) - 1)
    kind = rng.choice(("change", "drop", "add", "swap"))
    letters = "abcdefghijklmnoprstuvy"
    if kind == "change":
        return word[:i] + rng.choice([ch for ch in letters if ch != word[i]]) + word[i + 1:]
    if kind == "drop":
        return word[:i] + word[i + 1:]
    if kind == "add":
        return word[:i] + rng.choice(letters) + word[i:]
    if word[i] == word[i + 1 if i + 1 < len(word) else i - 1]:
        return word[:i] + rng.choice([ch for ch in letters if ch != word[i]]) + word[i + 1:]
    j = i + 1 if i + 1 < len(word) else i - 1
    a, b = sorted((i, j))
    return word[:a] + word[b] + word[a] + word[b + 1:]


PHONE_STYLES = ("international", "e164", "national", "national digits", "00 prefix")


def _phone_formats(phone: str, rng: random.Random) -> tuple[str, str]:
    """A customer's phone as people type it — international with spaces ('+46 8 123 45 67'), compact
    ('+4681234567'), national ('08-123 45 67'), national digits only, or with the 00 dialling prefix — and
    the style's name."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(phone, None)
    except phonenumbers.NumberParseException:
        return phone, "as stored"
    style = rng.choice(PHONE_STYLES)
    if style == "international":
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL), style
    if style == "e164":
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), style
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    if style == "national":
        return national, style
    if style == "national digits":
        return "".join(ch for ch in national if ch.isdigit()), style
    return "00" + phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)[1:], style


def search_queries(store, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` search queries built from the data (deterministic): each with its kind and the customer it
    was made from (``expect``; for prefixes and the like many customers match, so it is only a hint)."""
    from customercard.store.search_text import fold

    rng = random.Random(seed)
    per_kind = max(1, count // len(SEARCH_KINDS))
    sample = [r for r in store.db.records(
        "SELECT id, number, name, nickname, phone, org_number, visit_country FROM customers "
        "WHERE NOT archived ORDER BY hash(id + ?) LIMIT ?", [seed, per_kind * 12])]
    nicknamed = [r for r in store.db.records(
        "SELECT id, nickname FROM customers WHERE nickname <> '' ORDER BY hash(id + ?) LIMIT ?", [seed, per_kind])]
    contacts = store.db.records(
        "SELECT customer_id, first_name, last_name FROM contacts WHERE active ORDER BY hash(id + ?) LIMIT ?",
        [seed, per_kind])
    words = [w for r in sample for w in fold(r["name"]).split() if len(w) >= 6 and w.isalpha()]
    queries: list[dict[str, Any]] = []
    picks = iter(sample)

    def add(kind: str, text: str, expect: int, exact: bool = False, style: str = "") -> None:
        """``exact``: the query names one customer (number, phone, …), so it should be among the results."""
        queries.append({"kind": kind, "q": text, "expect": int(expect), "exact": exact, "style": style})

    for k in range(per_kind):
        r = next(picks)
        first = r["name"].split()[0]
        add("prefix", first[: rng.randint(3, min(5, len(first)))], r["id"])
        word = words[k % len(words)]
        start = rng.randint(1, max(1, len(word) - 4))
        add("contains", word[start:start + rng.randint(3, 4)], 0)
        r = next(picks)
        typo_word = next((w for w in fold(r["name"]).split() if len(w) >= 6 and w.isalpha()), None)
        add("typo", _typo(typo_word or word, rng), r["id"] if typo_word else 0)
        if nicknamed:
            n = nicknamed[k % len(nicknamed)]
            add("nickname", n["nickname"] if rng.random() < 0.5 else n["nickname"].split()[0], n["id"])
        r = next(picks)
        text, style = _phone_formats(r["phone"], rng)
        # each demo customer has a number of its own (a few share one by chance): it should be among the hits
        add("phone", text, r["id"], exact=True, style=f"{style} ({r['visit_country']})")
        r = next(picks)
        add("customer number", str(r["number"]), r["id"], exact=True)
        r = next(picks)
        org = r["org_number"]
        add("org number", org if rng.random() < 0.5 else "".join(ch for ch in org if ch.isdigit()), r["id"],
            exact=True)
        c = contacts[k % len(contacts)]
        if rng.random() < 0.7:
            add("contact", f"{c['first_name']} {c['last_name']}", c["customer_id"], exact=True)
        else:
            add("contact", c["last_name"], c["customer_id"])
    rng.shuffle(queries)
    return queries[:count] if len(queries) >= count else queries


def search_bench(store, queries: list[dict[str, Any]], passes: int = 2, warmup: int = 20) -> dict[str, Any]:
    """Time ``store.search(q)`` for every query, ``passes`` times (after ``warmup`` unmeasured searches)."""
    from customercard.store.search import SearchStore

    for query in queries[:warmup]:
        store.search(query["q"])
    steps = [(SearchStore, "_prefix_rows", "whole terms and word prefixes (_prefix_rows)"),
             (SearchStore, "_similar_rows", "contains + one typo (_similar_rows)"),
             (SearchStore, "_entries", "matched entries (_entries)"),
             (SearchStore, "_hit_frame", "customers of the hits (_hit_frame)")]
    step_ms: dict[str, dict[str, list[float]]] = {}
    engine: dict[str, list[float]] = {}  # the floor: each call into DuckDB, timed through the store's cursor
    engine_per_query: list[float] = []
    with method_timers(steps) as spent, timed_cursors(store.db, engine):
        for query in queries:
            spent.clear()
            before = sum(sum(v) for v in engine.values())
            started = time.perf_counter()
            store.search(query["q"])
            total = (time.perf_counter() - started) * 1000.0
            in_duckdb = sum(sum(v) for v in engine.values()) - before
            engine_per_query.append(in_duckdb)
            per_kind = step_ms.setdefault(query["kind"], {})
            for _owner, _name, label in steps:
                per_kind.setdefault(label, []).append(spent.get(label, 0.0))
            per_kind.setdefault("in DuckDB", []).append(in_duckdb)
            per_kind.setdefault("total", []).append(total)
    times: list[float] = []
    cpu: list[float] = []
    by_kind: dict[str, list[float]] = {}
    found: dict[str, list[bool]] = {}
    answered: dict[str, list[bool]] = {}
    phone_found: dict[str, list[bool]] = {}
    slowest: list[tuple[float, str, str]] = []
    for index in range(passes):
        order = queries if index % 2 == 0 else list(reversed(queries))
        for query in order:
            ms, cpu_ms, hits = timed_cpu(lambda q=query["q"]: store.search(q))
            times.append(ms)
            cpu.append(cpu_ms)
            by_kind.setdefault(query["kind"], []).append(ms)
            slowest.append((ms, query["kind"], query["q"]))
            if index == 0:
                answered.setdefault(query["kind"], []).append(len(hits) > 0)
                if query["kind"] == "phone":
                    phone_found.setdefault(query["style"].split(" (")[0], []).append(len(hits) > 0)
                if query["exact"]:
                    found.setdefault(query["kind"], []).append(query["expect"] in set(hits["id"]))
    slowest.sort(reverse=True)
    return {"ms": summary(times), "cpu_ms": summary(cpu), "by_kind": {k: summary(v) for k, v in by_kind.items()},
            "engine_ms": summary(engine_per_query),
            "statements_per_search": sum(len(v) for v in engine.values()) / max(len(queries), 1),
            "steps_p50_ms": {kind: {label: summary(v)["p50"] for label, v in labels.items()}
                             for kind, labels in step_ms.items()},
            "found_in_top20": {k: round(sum(v) / len(v), 3) for k, v in found.items()},
            "answered": {k: round(sum(v) / len(v), 3) for k, v in answered.items()},
            "phone_answered_by_style": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(phone_found.items())},
            "queries": len(queries), "passes": passes,
            "slowest": [{"ms": round(ms, 2), "kind": kind, "q": q} for ms, kind, q in slowest[:10]],
            "examples": {kind: [q["q"] for q in queries if q["kind"] == kind][:4] for kind in SEARCH_KINDS}}


# -- 4. saves ---------------------------------------------------------------------------------------------
EDIT_KINDS = ("phone", "their reference", "segments")


def save_edits(store, seed: int) -> tuple[dict[str, list[str]], str, list[str]]:
    """What the save benchmarks change: phone numbers by country to choose from (picked with DuckDB's
    ``hash()``), and a single-choice segment criterion ('Source') with its values."""
    phones: dict[str, list[str]] = {}
    for country, phone in store.db.rows("SELECT visit_country, phone FROM customers WHERE phone <> '' "
                                        "ORDER BY hash(id + ?) LIMIT 4000", [seed]):
        phones.setdefault(country, []).append(phone)
    criteria = store.choices().criteria
    single = [name for name, (multiple, values) in criteria.items() if not multiple and len(values) > 1]
    criterion = "Source" if "Source" in criteria else (single[0] if single else next(iter(criteria)))
    return phones, criterion, criteria[criterion][1]


def new_value(c, kind: str, phones: dict[str, list[str]], criterion: str, values: list[str],
              rng: random.Random) -> Any:
    """A different value for the field ``kind`` names: another phone number of the customer's country, an
    order reference, or another value of the segment criterion."""
    if kind == "phone":
        pool = phones.get(c.visit_address.country) or phones["SE"]
        return next(p for p in (rng.choice(pool) for _ in range(10)) if p != c.phone)
    if kind == "their reference":
        return f"Order {rng.randint(10_000, 99_999)}"
    current = (c.segments.get(criterion) or [None])[0]
    return [rng.choice([v for v in values if v != current])]


def apply_edit(c, kind: str, value: Any, criterion: str) -> None:
    if kind == "phone":
        c.phone = value
    elif kind == "their reference":
        c.invoicing.their_reference = value
    else:
        c.segments = {**c.segments, criterion: list(value)}


def save_bench(store, count: int, seed: int) -> dict[str, Any]:
    """``count`` saves from one thread, each: get_customer, change one field (phone, their reference or a
    segment, in turn), save_customer(user='anna') — the save call timed alone, and the whole loop's rate."""
    from customercard.errors import CustomerCardError

    rng = random.Random(seed)
    ids = random_customers(store, count, seed)
    phones, criterion, values = save_edits(store, seed)
    kinds = EDIT_KINDS
    for customer_id in ids[:5]:  # warm-up: the first saves fill caches
        c = store.get_customer(customer_id)
        c.invoicing.their_reference = f"Warm-up {rng.randint(1, 10**6)}"
        store.save_customer(c, user=ACTING_USER)
    save_ms: list[float] = []
    save_cpu: list[float] = []
    get_ms: list[float] = []
    by_kind: dict[str, list[float]] = {k: [] for k in kinds}
    errors: list[str] = []
    started = time.perf_counter()
    for index in range(count):
        if index == count // 2:
            half = time.perf_counter()
        customer_id = ids[index % len(ids)]
        kind = kinds[index % len(kinds)]
        t_get = time.perf_counter()
        c = store.get_customer(customer_id)
        get_ms.append((time.perf_counter() - t_get) * 1000.0)
        apply_edit(c, kind, new_value(c, kind, phones, criterion, values, rng), criterion)
        before = c.version
        t0, c0 = time.perf_counter(), time.process_time()
        try:
            saved = store.save_customer(c, user=ACTING_USER)
        except CustomerCardError as exc:
            errors.append(f"{kind}: {exc}")
            continue
        ms = (time.perf_counter() - t0) * 1000.0
        save_cpu.append((time.process_time() - c0) * 1000.0)
        if saved.version != before + 1:
            errors.append(f"{kind}: version not bumped for customer {customer_id}")
        save_ms.append(ms)
        by_kind[kind].append(ms)
    wall = time.perf_counter() - started
    steps = save_steps(store, ids[: max(30, count // 10)], phones, criterion, values, rng)
    engine = save_engine_share(store, random_customers(store, max(60, count // 3), seed + 1), phones, criterion,
                               values, rng)
    engine["floor"] = save_floor(store, random_customers(store, max(100, count // 5), seed + 2))
    return {"save_ms": summary(save_ms), "save_cpu_ms": summary(save_cpu), "engine": engine,
            "by_kind": {k: summary(v) for k, v in by_kind.items()},
            "get_customer_ms": summary(get_ms), "steps": steps,
            "first_half_rate": (count // 2) / (half - started),
            "second_half_rate": (count - count // 2) / (started + wall - half),
            "saves": len(save_ms), "errors": len(errors), "error_examples": errors[:5],
            "loop_seconds": wall, "saves_per_s_loop": len(save_ms) / wall if wall else 0.0,
            "saves_per_s_save_call": len(save_ms) / (sum(save_ms) / 1000.0) if save_ms else 0.0}


def save_steps(store, ids: list[int], phones: dict[str, list[str]], criterion: str, values: list[str],
               rng: random.Random) -> dict[str, dict[str, float]]:
    """Where a save's time goes, per field changed (p50 ms of each step inside ``save_customer``)."""
    from customercard import models
    from customercard.store import customers as customers_module
    from customercard.store.admin import AdminStore
    from customercard.store.customers import CustomerStore
    from customercard.store.search import SearchStore

    steps = [(CustomerStore, "save_customer", "save_customer (whole)"),
             (AdminStore, "require", "permission check (require)"),
             (CustomerStore, "_stored_now", "read the stored row, only when the loaded one is stale (_stored_now)"),
             (models.Record, "check", "validation (Record.check)"),
             (AdminStore, "choices", "choices()"),
             (customers_module, "_diff", "diff (_diff)"),
             (CustomerStore, "_rewrite_segments", "segments rewrite (_rewrite_segments)"),
             (SearchStore, "_index_customer", "search index update (_index_customer)"),
             (CustomerStore, "_after_customer_change", "after-change hook")]
    steps = [t for t in steps if t[1] in t[0].__dict__]
    out: dict[str, dict[str, list[float]]] = {}
    kinds = EDIT_KINDS
    with method_timers(steps) as spent:
        for index, customer_id in enumerate(ids):
            kind = kinds[index % len(kinds)]
            c = store.get_customer(customer_id)
            apply_edit(c, kind, new_value(c, kind, phones, criterion, values, rng), criterion)
            spent.clear()
            store.save_customer(c, user=ACTING_USER)
            whole = spent.get("save_customer (whole)", 0.0)
            parts = {label: spent.get(label, 0.0) for _o, _n, label in steps}
            known = sum(v for k, v in parts.items() if k != "save_customer (whole)")
            parts["rest: UPDATE, history rows, BEGIN/COMMIT"] = whole - known
            for label, value in parts.items():
                out.setdefault(kind, {}).setdefault(label, []).append(value)
    return {kind: {label: summary(v)["p50"] for label, v in labels.items()} for kind, labels in out.items()}


class _TimedCursor:
    """A DuckDB cursor whose calls into DuckDB (statements and fetches) add their time to ``spent``, by statement
    (its first words) — for :func:`save_engine_share` only."""

    def __init__(self, cursor: Any, spent: dict[str, list[float]]) -> None:
        self._cursor, self._spent, self._last = cursor, spent, ""

    def _time(self, call: Callable[[], Any], fetch: bool) -> Any:
        started = time.perf_counter()
        try:
            result = call()
        finally:
            ms = (time.perf_counter() - started) * 1000.0
            times = self._spent.setdefault(self._last, [])
            if fetch and times:
                times[-1] += ms  # a fetch belongs to its statement
            else:
                times.append(ms)
        return self if result is self._cursor else result

    def execute(self, sql: str, params: Any = None) -> Any:
        self._last = " ".join(sql.split()[:4]).rstrip(",(")
        return self._time(lambda: self._cursor.execute(sql, params) if params is not None
                          else self._cursor.execute(sql), fetch=False)

    def fetchall(self) -> Any:
        return self._time(self._cursor.fetchall, fetch=True)

    def fetchone(self) -> Any:
        return self._time(self._cursor.fetchone, fetch=True)

    def df(self) -> Any:
        return self._time(self._cursor.df, fetch=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


@contextmanager
def timed_cursors(db: Any, spent: dict[str, list[float]]) -> Iterator[None]:
    """Inside the ``with``, the store's cursors (``db.cursor()``) time every call into DuckDB into ``spent``, by
    statement (see :class:`_TimedCursor`); only in this process, the product's files untouched."""
    plain_cursor = db.cursor
    wrapped: dict[int, _TimedCursor] = {}

    def timed_cursor() -> _TimedCursor:
        cursor = plain_cursor()
        if id(cursor) not in wrapped:
            wrapped[id(cursor)] = _TimedCursor(cursor, spent)
        return wrapped[id(cursor)]

    db.cursor = timed_cursor
    try:
        yield
    finally:
        del db.cursor


def save_engine_share(store, ids: list[int], phones: dict[str, list[str]], criterion: str, values: list[str],
                      rng: random.Random) -> dict[str, Any]:
    """The same loop (get_customer, one edit, save_customer) with every call into DuckDB timed through the
    store's cursor: how much of a loop iteration DuckDB itself takes (statements and fetches, with the Python
    binding's conversions), and what is left for our Python (param objects, validation, diff, history rows)."""
    spent: dict[str, list[float]] = {}
    loops: list[float] = []
    engine: list[float] = []
    in_save: dict[str, list[float]] = {kind: [] for kind in EDIT_KINDS}  # inside DuckDB during the save call
    with timed_cursors(store.db, spent):
        for index, customer_id in enumerate(ids):
            kind = EDIT_KINDS[index % len(EDIT_KINDS)]
            before = sum(sum(v) for v in spent.values())
            started = time.perf_counter()
            c = store.get_customer(customer_id)
            apply_edit(c, kind, new_value(c, kind, phones, criterion, values, rng), criterion)
            got = sum(sum(v) for v in spent.values())
            store.save_customer(c, user=ACTING_USER)
            loops.append((time.perf_counter() - started) * 1000.0)
            after = sum(sum(v) for v in spent.values())
            engine.append(after - before)
            in_save[kind].append(after - got)
    count = len(loops)
    loop_mean, engine_mean = statistics.fmean(loops), statistics.fmean(engine)
    statements = sorted(((label, sum(v) / count, len(v) / count, summary(v)["p50"]) for label, v in spent.items()),
                        key=lambda item: -item[1])
    return {"iterations": count, "loop_ms_mean": loop_mean, "engine_ms_mean": engine_mean,
            "python_ms_mean": loop_mean - engine_mean, "rate_if_no_python": 1000.0 / engine_mean,
            "python_ms_allowed_at_100": 10.0 - engine_mean,
            "save_call_engine_ms": summary([ms for kind in EDIT_KINDS for ms in in_save[kind]]),
            "save_call_engine_ms_by_kind": {kind: summary(v) for kind, v in in_save.items() if v},
            "statements": [{"statement": label, "ms_per_loop": per, "calls_per_loop": calls, "p50_ms": p50}
                           for label, per, calls, p50 in statements]}


def save_floor(store, ids: list[int]) -> dict[str, Any]:
    """The least a turn of item 4's loop costs in DuckDB on this database: the statements of the cheapest edit (one
    field, 'their reference': no search index, segments or outbox to touch) run on a plain cursor with the SQL
    ``get_customer`` and ``save_customer`` run — the customer's row, its segments, BEGIN, the version-checked UPDATE
    of that one column, its history row, COMMIT —, each timed, and nothing of ours between them (param objects,
    validation, diff). Their sum is the floor of a loop turn; 1000 / sum the most saves per second DuckDB allows.
    The rows written are real changes (version bumped, history kept), on the save item's copy of the database."""
    from customercard.store.customers import INSERT_CHANGE, SELECT_CUSTOMER, _update_statement
    from customercard.store.database import utcnow

    cur = store.db.cursor()
    steps = {"SELECT the customer's row": [], "SELECT its segments": [], "BEGIN": [],
             "UPDATE the one column, version-checked": [], "INSERT its history row": [], "COMMIT": []}
    totals: list[float] = []

    def timed(label: str, sql: str, params: list[Any] | None = None) -> Any:
        started = time.perf_counter()
        result = cur.execute(sql, params or []).fetchall()
        steps[label].append((time.perf_counter() - started) * 1000.0)
        return result

    update = _update_statement(("their_reference",))
    for index, customer_id in enumerate(ids):
        row = timed("SELECT the customer's row", SELECT_CUSTOMER, [customer_id])[0]
        version = int(row[[d[0] for d in cur.description].index("version")])
        timed("SELECT its segments", "SELECT value_id FROM customer_segments WHERE customer_id = ?", [customer_id])
        now = utcnow()
        timed("BEGIN", "BEGIN TRANSACTION")
        if timed("UPDATE the one column, version-checked", update,
                 [f"Floor {index}", now, ACTING_USER, customer_id, version])[0][0] != 1:
            cur.execute("ROLLBACK")
            raise RuntimeError(f"customer {customer_id} changed under the floor's measurement")
        timed("INSERT its history row", INSERT_CHANGE, [customer_id, version + 1, now, ACTING_USER, "update",
                                                        "invoicing.their_reference", None, f"Floor {index}"])
        timed("COMMIT", "COMMIT")
        totals.append(sum(times[-1] for times in steps.values()))
    p50s = {label: summary(times)["p50"] for label, times in steps.items()}
    floor = summary(totals)
    return {"turns": len(ids), "steps_p50_ms": p50s, "turn_ms": floor, "saves_per_s_at_most": 1000.0 / floor["p50"],
            "save_statements_p50_ms": sum(p50s[k] for k in list(p50s)[2:]),
            "get_statements_p50_ms": sum(p50s[k] for k in list(p50s)[:2])}


# -- 6. the analyst's aggregate ----------------------------------------------------------------------------
RAW_SQL = ("SELECT year(invoice_date) AS year, sum(amount_base) AS amount FROM invoices "
           "GROUP BY 1 ORDER BY 1")


def analyst_bench(store, runs: int) -> dict[str, Any]:
    """``store.invoiced_per_year()`` against the same aggregate as raw SQL via ``store.sql``, interleaved
    (the order swaps every round), medians of ``runs`` each, and whether both give the same figures."""
    api_ms, raw_ms, ratios = [], [], []
    store.invoiced_per_year()
    store.sql(RAW_SQL)
    for index in range(runs):
        pair = [("api", store.invoiced_per_year), ("raw", lambda: store.sql(RAW_SQL))]
        if index % 2:
            pair.reverse()
        got: dict[str, float] = {}
        for name, func in pair:
            ms, frame = timed_ms(func)
            got[name] = ms
            if index == 0:
                got[name + "_frame"] = frame  # type: ignore[assignment]
        api_ms.append(got["api"])
        raw_ms.append(got["raw"])
        ratios.append(got["api"] / got["raw"])
        if index == 0:
            api_frame, raw_frame = got["api_frame"], got["raw_frame"]  # type: ignore[misc]
    raw = {int(y): float(a) for y, a in zip(raw_frame["year"], raw_frame["amount"], strict=True)}
    api = {int(y): float(a) for y, a in zip(api_frame["year"], api_frame["amount"], strict=True)}
    same = set(raw) <= set(api) and all(abs(api[y] - raw[y]) <= 0.01 * max(1.0, abs(raw[y])) / 100 for y in raw)
    api_s, raw_s = summary(api_ms), summary(raw_ms)
    return {"api_ms": api_s, "raw_ms": raw_s, "ratio_of_medians": api_s["p50"] / raw_s["p50"],
            "median_of_ratios": summary(ratios)["p50"], "runs": runs, "same_figures": bool(same),
            "years": len(raw)}


# -- 9. importing a file --------------------------------------------------------------------------------------
def import_bench(store, rows: int, runs: int, folder: Path, seed: int) -> dict[str, Any]:
    """A dry run of ``rows`` customers read from a CSV file as ``customercard export customers`` writes it: rows of
    existing customers, so every row is validated and every one is also a possible duplicate. Median of ``runs``,
    and where the time goes (cProfile of one more run)."""
    from customercard.importexport import customers_table, import_customers
    from customercard.spreadsheets import write_table

    frame = customers_table(store.export_customers_frame()).sample(n=rows, random_state=seed)
    path = folder / f"import-{rows}.csv"
    write_table(frame, path, excel=False)
    report = import_customers(store, path, user=ACTING_USER, dry_run=True)  # warm: choices, users, index blocks
    samples = [timed_ms(lambda: import_customers(store, path, user=ACTING_USER, dry_run=True))[0]
               for _ in range(runs)]
    return {"ms": summary(samples), "rows": report.rows, "problems": len(report.problems),
            "duplicates": len(report.duplicates), "file_kb": path.stat().st_size / 1024,
            "profile": profile_top(lambda: import_customers(store, path, user=ACTING_USER, dry_run=True), top=15)}


# -- 7. growth ----------------------------------------------------------------------------------------------
def growth_bench(stores: dict[int, Any], cards: int, search_count: int, seed: int) -> dict[str, Any]:  # noqa: PLR0912 - the steps in order
    """Card build, the card's store queries and the search at each size, interleaved size by size so every
    size is measured under the same machine load."""
    _hv_ready()
    sizes = sorted(stores)
    picks = {n: random_customers(stores[n], cards, seed) for n in sizes}
    queries = {n: search_queries(stores[n], search_count, seed) for n in sizes}
    for n in sizes:  # warm-up, per size
        for customer_id in picks[n][:3]:
            build_card(stores[n], customer_id)
            for _name, query in CARD_QUERIES:
                query(stores[n], customer_id)
        for q in queries[n][:10]:
            stores[n].search(q["q"])
    longest = max(len(q) for q in queries.values())
    say(f"  growth: {longest} searches per size as a notebook's store runs them (the index not held in memory)")
    not_held: dict[int, list[float]] = {n: [] for n in sizes}
    for index in range(longest):
        for n in (sizes if index % 2 == 0 else list(reversed(sizes))):
            if index < len(queries[n]):
                not_held[n].append(timed_ms(lambda q=queries[n][index]["q"], s=stores[n]: s.search(q))[0])
    held: dict[int, dict[str, float]] = {}
    for n in sizes:  # as the server does when it starts (and after giving memory back when idle)
        started = time.perf_counter()
        mb = stores[n].hold_search_in_memory()
        held[n] = {"mb": mb, "seconds": time.perf_counter() - started}
        say(f"  {n:,}: search index held in memory, {mb:.0f} MB in {held[n]['seconds']:.1f} s")
    build: dict[int, list[float]] = {n: [] for n in sizes}
    sums: dict[int, list[float]] = {n: [] for n in sizes}
    by_pass: dict[int, list[list[float]]] = {n: [[], []] for n in sizes}
    say(f"  growth: {cards} cards and {len(queries[sizes[0]])} searches × 2 passes per size, sizes interleaved")
    for index in range(cards):
        for n in (sizes if index % 2 == 0 else list(reversed(sizes))):
            customer_id = picks[n][index % len(picks[n])]
            build[n].append(build_card(stores[n], customer_id)[0])
            total = 0.0
            for _name, query in CARD_QUERIES:
                total += timed_ms(lambda q=query, st=stores[n], c=customer_id: q(st, c))[0]
            sums[n].append(total)
    for index in range(2 * longest):  # two passes, the second in reverse order
        position = index if index < longest else 2 * longest - 1 - index
        for n in (sizes if index % 2 == 0 else list(reversed(sizes))):
            if position < len(queries[n]):
                by_pass[n][0 if index < longest else 1].append(
                    timed_ms(lambda q=queries[n][position]["q"], s=stores[n]: s.search(q))[0])
    return {"sizes": sizes,
            "card_build_ms": {str(n): summary(build[n]) for n in sizes},
            "card_queries_ms": {str(n): summary(sums[n]) for n in sizes},
            "search_ms": {str(n): summary(by_pass[n][0] + by_pass[n][1]) for n in sizes},
            "search_ms_by_pass": {str(n): [summary(times) for times in by_pass[n]] for n in sizes},
            # a store that does not hold the index (a notebook's): each query reads its blocks for the first time
            "search_ms_not_held": {str(n): summary(not_held[n]) for n in sizes},
            "search_held": {str(n): held[n] for n in sizes}}


def open_stores(paths: dict[int, Path]) -> dict[int, Any]:
    from customercard.store import Store

    return {n: Store(path) for n, path in paths.items()}
