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

Holdings: ``server`` (what the server does: :meth:`Store.hold_search_in_memory` with
``CUSTOMERCARD_SEARCH_MEMORY_MB`` at its default), ``all`` (every column a search reads), ``none`` (nothing read
ahead: blocks read as searches need them), ``budget:MB`` (:func:`customercard.store.search_memory.plan_hold`: the
columns in the order searches need them, up to MB), ``limit:MB`` (nothing held, DuckDB's ``memory_limit`` set to MB
so that what searches read stays within it) and ``limit:MB+budget:MB`` (the limit set, then the budget held in it).
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


def _search_pass(store, queries: list[dict[str, Any]], reverse: bool = False,
                 cpu: list[float] | None = None) -> list[float]:
    """Wall milliseconds of each search; the process's CPU milliseconds (DuckDB's threads too) added to ``cpu``:
    on a busy machine wall time waits for a core, CPU time does not."""
    times = []
    for query in (reversed(queries) if reverse else queries):
        started, used = time.perf_counter(), time.process_time()
        store.search(query["q"])
        times.append((time.perf_counter() - started) * 1000.0)
        if cpu is not None:
            cpu.append((time.process_time() - used) * 1000.0)
    return times


def _hold(store, holding: str) -> dict[str, Any]:
    from customercard.memory import trim
    from customercard.store.search_memory import describe, hold_planned, plan_hold

    started = time.perf_counter()
    if "+" in holding:  # e.g. limit:1100+budget:600: DuckDB's memory limit set, then the planned columns held in it
        limit, _, budget = holding.partition("+")
        _hold(store, limit)
        plan = plan_hold(store.db, float(budget.partition(":")[2]))
        held = {"mb": hold_planned(store.db, plan, at_most=1.0), "plan": describe(plan)}
        trim()
        held["seconds"] = round(time.perf_counter() - started, 2)
        return held
    kind, _, amount = holding.partition(":")
    if kind == "server":  # what `customercard serve` does (CUSTOMERCARD_SEARCH_MEMORY_MB at its default)
        from customercard.config import Config

        held = {"mb": store.hold_search_in_memory(within_mb=Config().search_memory_mb)}
    elif kind == "all":
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
        cpu: list[float] = []
        first = _search_pass(store, asked, cpu=cpu)
        second = _search_pass(store, asked, reverse=True, cpu=cpu)
        out["search_first_pass_ms"] = summary(first)
        out["search_ms"] = summary(first + second)
        out["search_cpu_ms"] = summary(cpu)
        out["samples"] = {"first": first, "second": second, "cpu": cpu}
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


def compact_estimate(store) -> dict[str, float]:
    """MB a dictionary-encoded in-process copy of what searches read would take at the least, counted from the
    data (not built): every text once in a byte string with a 4-byte offset, every reference a 4-byte integer.

    - entries (search_terms): term text + offset, customer id, source (1 byte), a reference to the shown text
      (shown texts equal to their term not stored again; the others each distinct once);
    - words (search_words): each distinct word once, its entries as 4-byte references grouped by word;
    - suffixes and one-typo variants: (vocabulary word, position) pairs, 5 bytes, their texts made when compared;
    - the customers' listed columns stay in DuckDB (their blocks, as held today)."""
    def one(sql: str) -> float:
        return float(store.db.row(sql)[0] or 0)

    entries = one("SELECT count(*) FROM search_terms")
    term_bytes = one("SELECT sum(strlen(term)) FROM search_terms")
    shown = store.db.row("SELECT count(*), sum(strlen(s)) FROM (SELECT DISTINCT shown AS s FROM search_terms "
                         "WHERE shown <> term) AS distinct_shown")
    words = store.db.row("SELECT count(*), sum(strlen(w)) FROM (SELECT DISTINCT word AS w FROM search_words) AS d")
    word_rows = one("SELECT count(*) FROM search_words")
    vocab = one("SELECT count(*) FROM search_vocab")
    suffixes = one("SELECT count(*) FROM search_suffixes")
    fuzzy = one("SELECT count(*) FROM search_fuzzy")
    parts = {
        "entries: terms": term_bytes + 4 * entries,
        "entries: customer, source, shown ref, id": (4 + 1 + 4 + 4) * entries,
        "entries: shown texts": float(shown[1] or 0) + 4 * float(shown[0]),
        "words": float(words[1] or 0) + 8 * float(words[0]) + 4 * word_rows,
        "suffixes and typo variants": 5 * (suffixes + fuzzy) + 4 * vocab,
    }
    out = {name: round(b / 1e6, 1) for name, b in parts.items()}
    out["total"] = round(sum(parts.values()) / 1e6, 1)
    out["rows"] = {"entries": int(entries), "words": int(word_rows), "distinct words": int(words[0]),
                   "vocabulary": int(vocab), "suffixes": int(suffixes), "typo variants": int(fuzzy)}
    return out


def run_probe(path: Path, holding: str, sessions: int, queries: int, timeout: float = 3600.0) -> dict[str, Any]:
    """:func:`probe` in a new process (its RSS is its own); the result it prints."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONMALLOC": "malloc"}  # as the server runs (memory.py)
    done = subprocess.run([PYTHON, "-m", "benchmarks.memory", str(path), holding, str(sessions), str(queries)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe {holding} on {path.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


_RSS_KEYS = ("rss_idle_mb", "rss_after_search_mb", "rss_sessions_mb", "rss_after_release_mb")


def _pooled(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One (size, holding) over several rounds: the searches' samples pooled, each RSS the highest seen, the
    last round's other facts, and every round's own figures."""
    out = dict(runs[-1])
    first = [ms for r in runs for ms in r["samples"]["first"]]
    out["search_first_pass_ms"] = summary(first)
    second = [ms for r in runs for ms in r["samples"]["second"]]
    out["search_ms"] = summary(first + second)
    out["search_second_pass_ms"] = summary(second)
    out["search_cpu_ms"] = summary([ms for r in runs for ms in r["samples"]["cpu"]])
    for key in _RSS_KEYS:
        out[key] = max((r[key] for r in runs), key=lambda rss: rss["VmRSS"])
    out["load"] = [runs[0]["load"][0], runs[-1]["load"][1]]
    out["rounds"] = [{"rss_idle": r["rss_idle_mb"]["VmRSS"], "rss_sessions": r["rss_sessions_mb"]["VmRSS"],
                      "p50": r["search_ms"]["p50"], "p95": r["search_ms"]["p95"],
                      "first_p50": r["search_first_pass_ms"]["p50"], "load": r["load"]} for r in runs]
    out.pop("samples", None)
    return out


def memory_bench(paths: dict[int, Path], holdings: list[str], sessions: int, queries: int,
                 rounds: int = 1) -> dict[str, Any]:
    """Every holding at every size, one process each, ``rounds`` times over; holdings and sizes alternate so that
    changes in the machine's load hit them alike."""
    runs: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for index in range(rounds):
        for holding in (holdings if index % 2 == 0 else list(reversed(holdings))):
            for n, path in sorted(paths.items(), reverse=index % 2 == 1):
                say(f"   round {index + 1}: {n:,} customers, holding {holding} …")
                load = os.getloadavg()[0]
                result = run_probe(path, holding, sessions, queries)
                result["load"] = [round(load, 2), round(os.getloadavg()[0], 2)]
                runs.setdefault(holding, {}).setdefault(str(n), []).append(result)
                say(f"     RSS idle {result['rss_idle_mb']['VmRSS']:.0f} MB, with {sessions} sessions "
                    f"{result['rss_sessions_mb']['VmRSS']:.0f} MB; search p50 {result['search_ms']['p50']:.1f} ms, "
                    f"p95 {result['search_ms']['p95']:.1f} ms (held {result['held']['mb']:.0f} MB)")
    results = {holding: {n: _pooled(found) for n, found in by_size.items()} for holding, by_size in runs.items()}
    return {"sizes": sorted(paths), "holdings": holdings, "sessions": sessions, "queries": queries,
            "rounds": rounds, "results": results}


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


#: The budget the ``budget`` holding is measured with: what is left of 1.5 GB at a million customers once the
#: server's own memory (about 270 MB with nothing held) and 30 sessions (about 50 MB) are counted, and some room.
BUDGET_MB = 1_000
#: DuckDB's memory limit the ``limit`` holding is measured with: nothing read ahead, DuckDB keeps what searches
#: (and cards) read, the least recently used given up first, within this.
LIMIT_MB = 1_100
#: Every holding item 17 measures (``--holdings`` picks some): first what the server does.
HOLDINGS = ["server", "all", f"budget:{BUDGET_MB}", f"limit:{LIMIT_MB}", "none"]
#: The RSS the issue asks for at 1,000,000 customers, with 30 sessions.
RSS_TARGET_MB = 1_500.0


def item_memory(sizes: list[int], plan: Any) -> dict[str, Any]:
    """Item 17: every holding at 100,000 customers and at the larger sizes asked for (``--sizes``)."""
    from customercard.store import Store

    from .common import MAIN_SIZE, db_path
    from .report import figure

    measured = sorted({MAIN_SIZE, *(n for n in sizes if n > MAIN_SIZE)})
    paths = {n: db_path(n) for n in measured}
    holdings = plan.holdings or HOLDINGS
    sessions, queries = plan.users_sessions, plan.search_queries
    say(f"17. memory: RSS idle and with {sessions} sessions, search p50/p95, holding {', '.join(holdings)}, at "
        f"{', '.join(f'{n:,}' for n in measured)} customers …")
    result = memory_bench(paths, holdings, sessions, queries, rounds=plan.memory_rounds or (1 if plan.quick else 3))
    result["compact_mb"] = {}
    for n, path in paths.items():
        with Store(path) as store:
            result["compact_mb"][str(n)] = compact_estimate(store)
    small, large = str(measured[0]), str(measured[-1])
    figures = []
    for holding in holdings:
        for n in map(str, measured):
            r = result["results"][holding][n]
            at_large = n == large and large != small
            figures.append(figure("memory", f"RSS at idle, {int(n):,} customers, holding {holding}",
                                  r["rss_idle_mb"]["VmRSS"], "MB",
                                  detail=f"search index held: {r['held']['mb']:.0f} MB"))
            figures.append(figure("memory", f"RSS with {sessions} sessions, {int(n):,} customers, holding {holding}",
                                  r["rss_sessions_mb"]["VmRSS"], "MB", RSS_TARGET_MB if at_large else None,
                                  detail=f"after {3 * queries} searches"))
            figures.append(figure("memory", f"Super search p95, {int(n):,} customers, holding {holding}",
                                  r["search_ms"]["p95"], "ms", 30.0, stretch=10.0,
                                  detail=f"p50 {r['search_ms']['p50']:.1f} ms; first pass p95 "
                                         f"{r['search_first_pass_ms']['p95']:.1f} ms; CPU p50 "
                                         f"{r['search_cpu_ms']['p50']:.1f}, p95 {r['search_cpu_ms']['p95']:.1f} ms"))
        if large != small:
            a, b = result["results"][holding][small], result["results"][holding][large]
            figures.append(figure("memory", f"Super search growth {int(small):,} → {int(large):,}, holding {holding}: "
                                            "p50 ratio", b["search_ms"]["p50"] / a["search_ms"]["p50"], "×", 1.3,
                                  detail=f"second pass (its blocks read once already) p50 ratio "
                                         f"{b['search_second_pass_ms']['p50'] / a['search_second_pass_ms']['p50']:.2f}"
                                         f"; p95 ratio {b['search_ms']['p95'] / a['search_ms']['p95']:.2f}; CPU p50 "
                                         f"ratio {b['search_cpu_ms']['p50'] / a['search_cpu_ms']['p50']:.2f}, "
                                         f"p95 {b['search_cpu_ms']['p95'] / a['search_cpu_ms']['p95']:.2f}"))
    return {"figures": figures, "notes": memory_notes(result, measured, holdings), "result": result}


def _verdict(result: dict[str, Any], holding: str, small: str, large: str) -> tuple[bool, str]:
    r = result["results"][holding]
    rss = r[large]["rss_sessions_mb"]["VmRSS"]
    p95 = r[large]["search_ms"]["p95"]
    growth = r[large]["search_ms"]["p50"] / r[small]["search_ms"]["p50"] if small != large else 1.0
    ok = rss < RSS_TARGET_MB and p95 <= 30.0 and growth <= 1.3
    cpu = r[large]["search_cpu_ms"]
    grew = "growth not measured (one size)"
    if small != large:
        second = r[large]["search_second_pass_ms"]["p50"] / r[small]["search_second_pass_ms"]["p50"]
        grew = (f"growth {growth:.2f}× (CPU p50 {cpu['p50'] / r[small]['search_cpu_ms']['p50']:.2f}×; second pass, "
                f"its blocks read once already, {second:.2f}×)")
    return ok, (f"`{holding}`: RSS {rss:,.0f} MB with the sessions ({'under' if rss < RSS_TARGET_MB else 'over'} "
                f"1,500), search p95 {p95:.1f} ms (CPU {cpu['p95']:.1f} ms), {grew} — "
                f"{'meets' if ok else 'misses'} the targets")


def memory_notes(result: dict[str, Any], measured: list[int], holdings: list[str]) -> list[str]:
    small, large = str(measured[0]), str(measured[-1])
    sessions = result["sessions"]
    notes = [f"Each holding at each size in a process of its own (`python -m benchmarks.memory PATH HOLDING`, "
             f"`PYTHONMALLOC=malloc` as the server runs), {result.get('rounds', 1)} round(s), the holdings' and "
             "sizes' order turned round each round (the searches' samples pooled over the rounds, each RSS the "
             "highest of the rounds): the store opened, Panel loaded and 3 cards built and let "
             f"go, DuckDB's blocks released as the idle server does, then the index held; {result['queries']} "
             f"search queries (item 3's kinds, built from the data) searched twice; then {sessions} card sessions "
             "(a `CustomerCard` and its Bokeh models in a Document each, as the server builds a session) kept open "
             "together while the queries are searched again; then let go and the idle release run. Holdings: `server` "
             "(what the server does: `Store.hold_search_in_memory(within_mb=1000)`, `CUSTOMERCARD_SEARCH_MEMORY_MB` "
             "at its default — all of it held when it takes at most 1,000 MB, else DuckDB's memory limit set to "
             "1,100 MB and the parts first in the hold order that fit in a quarter of 1,000 MB held: the customers' "
             "and the entries' scattered rows, 207 MB at a million customers; until 2026-12-08 nothing was held "
             "then), `all` (everything held, as the server did before), `budget:MB` "
             "(the columns in the order searches need them, up to MB: "
             "`Store.hold_search_in_memory(budget_mb=)`), `limit:MB` (nothing read ahead; DuckDB's `memory_limit` "
             "set to MB, so that it keeps what searches read, least recently used given up first, within MB) and "
             "`none` (blocks read as searches need them, kept until the idle release); `limit:MB+budget:MB`, both.", "",
             "| customers | holding | held | RSS idle | RSS after searches | RSS with sessions | RSS after release | "
             "search p50 | p95 | first pass p95 | CPU p50 / p95 | DuckDB with sessions | load |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|"]
    for n in map(str, measured):
        for holding in holdings:
            r = result["results"][holding][n]
            duck = ", ".join(f"{k} {v:,.0f} MB" for k, v in r["duckdb_sessions_mb"].items())
            notes.append(f"| {int(n):,} | {holding} | {r['held']['mb']:,.0f} MB | "
                         f"{r['rss_idle_mb']['VmRSS']:,.0f} MB | "
                         f"{r['rss_after_search_mb']['VmRSS']:,.0f} MB | {r['rss_sessions_mb']['VmRSS']:,.0f} MB | "
                         f"{r['rss_after_release_mb']['VmRSS']:,.0f} MB | {r['search_ms']['p50']:.1f} ms | "
                         f"{r['search_ms']['p95']:.1f} ms | {r['search_first_pass_ms']['p95']:.1f} ms | "
                         f"{r['search_cpu_ms']['p50']:.1f} / {r['search_cpu_ms']['p95']:.1f} ms | {duck} | "
                         f"{r['load'][0]:.1f} → {r['load'][1]:.1f} |")
    if result.get("rounds", 1) > 1:
        notes += ["", "Round by round (search p50 over both passes / first pass p50 / RSS with the sessions; 1-minute "
                  "load at the start): " + "; ".join(
                      f"{h} at {int(n):,}: " + ", ".join(
                          f"{x['p50']:.1f}/{x['first_p50']:.1f} ms/{x['rss_sessions']:,.0f} MB "
                          f"(load {x['load'][0]:.1f})"
                          for x in result["results"][h][n]["rounds"])
                      for h in holdings for n in map(str, measured))]
    notes += ["", "What takes the memory: the DuckDB blocks of the columns searches read (MB of the file's 256 KB "
              "blocks, `pragma_storage_info`), in the order a budget holds them:", "",
              "| part | " + " | ".join(f"{int(n):,}" for n in map(str, measured)) + " |",
              "|---|" + "---:|" * len(measured)]
    first = result["results"]["all"]
    for index, (table, columns, _mb) in enumerate(first[small]["columns_mb"]):
        notes.append(f"| {table} ({', '.join(columns)}) | "
                     + " | ".join(f"{first[n]['columns_mb'][index][2]:,.0f} MB" for n in map(str, measured)) + " |")
    notes += ["", "The least a dictionary-encoded copy of the same in this process would take (counted from the data, "
              "not built: each text once with a 4-byte offset, every reference a 4-byte integer, suffixes and "
              "typo variants as (word, position) pairs; see `benchmarks.memory.compact_estimate`):", "",
              "| part | " + " | ".join(f"{int(n):,}" for n in map(str, measured)) + " |",
              "|---|" + "---:|" * len(measured)]
    compact = result["compact_mb"]
    for part in compact[small]:
        if part != "rows":
            notes.append(f"| {part} | " + " | ".join(f"{compact[n][part]:,.0f} MB" for n in map(str, measured)) + " |")
    base = result["results"]["none"][large]
    sessions_mb = (result["results"]["all"][large]["rss_sessions_mb"]["VmRSS"]
                   - result["results"]["all"][large]["rss_after_search_mb"]["VmRSS"])
    copy_total = compact[large]["total"] + base["rss_idle_mb"]["VmRSS"] + max(sessions_mb, 0.0)
    fits = "fits under" if copy_total < RSS_TARGET_MB else "does not fit under"
    notes += ["", f"A copy of its own: at {int(large):,} customers the server with nothing held takes "
              f"{base['rss_idle_mb']['VmRSS']:,.0f} MB, {sessions} sessions add {sessions_mb:,.0f} MB, and the "
              f"dictionary-encoded copy {compact[large]['total']:,.0f} MB: {copy_total:,.0f} MB in all, which "
              f"{fits} 1,500 MB. Front coding "
              "the sorted texts (each stored as the part that differs from the one before) halves the texts only — "
              "measured at 100,000 customers: terms 30 → 15 MB, words 14 → 5 MB, shown texts 36 → 19 MB — while the "
              "integer references (an entry's customer, source and shown text; a word's entries; the suffixes' and "
              "typo variants' (word, position) pairs, the texts' offsets) are more than half of the copy and stay."]
    notes += ["", "Rows: " + "; ".join(f"{int(n):,} customers: " + ", ".join(
        f"{k} {v:,}" for k, v in compact[n]["rows"].items()) for n in map(str, measured)) + ".", "",
        "**Verdict** at " + f"{int(large):,} customers: "
        + "; ".join(_verdict(result, h, small, large)[1] for h in holdings) + "."]
    under = [h for h in holdings if result["results"][h][large]["rss_sessions_mb"]["VmRSS"] < RSS_TARGET_MB]
    meets = [h for h in holdings if _verdict(result, h, small, large)[0]]
    stretch = [h for h in holdings if result["results"][h][large]["search_ms"]["p95"] <= 10.0]
    notes += ["", f"Under 1,500 MB with {sessions} sessions: {', '.join(f'`{h}`' for h in under) or 'none'}; "
              f"meeting every target (RSS, p95 ≤ 30 ms, growth ≤ 1.3×): {', '.join(f'`{h}`' for h in meets) or 'none'}"
              f"; the stretch p95 ≤ 10 ms: {', '.join(f'`{h}`' for h in stretch) or 'none'}. A holding that leaves "
              "blocks to be read on demand keeps what it reads until the idle release (`none`, `budget`: RSS keeps "
              "rising while sessions search); only DuckDB's memory limit (`limit`) bounds it, and the idle release "
              "(`DuckDBMemory.release`) leaves a limit someone set alone, so that holding keeps its blocks when idle."]
    if small != large:
        notes += ["", _where_growth_goes(result, holdings, small, large)]
    return notes


def _where_growth_goes(result: dict[str, Any], holdings: list[str], small: str, large: str) -> str:
    """The searches' p50 by pass at the larger size: what a holding's growth is made of (blocks read for the first
    time, in the first pass, against the same queries once their blocks were read)."""
    rows = []
    for holding in holdings:
        r, base = result["results"][holding][large], result["results"][holding][small]
        rows.append(f"`{holding}` first pass {r['search_first_pass_ms']['p50']:.1f} ms, second "
                    f"{r['search_second_pass_ms']['p50']:.1f} ms (at {int(small):,}: "
                    f"{base['search_second_pass_ms']['p50']:.1f} ms)")
    return (f"Where the growth goes, at {int(large):,} customers (search p50 by pass: the first reads blocks no "
            "earlier query read, unless the holding read them ahead; the second runs the same queries, reversed): "
            + "; ".join(rows) + ". A holding that does not read every block ahead pays the first reads in its "
            "first pass; once read, its searches take what holding it all takes.")
