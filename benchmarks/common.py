"""Shared pieces of the suite: paths, statistics, progress output and the benchmark databases."""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data" / "bench"
PYTHON = sys.executable

#: Every benchmark database is made with this seed and this "today", so a size always holds the same data.
SEED = 20260615
TODAY = dt.date(2026, 6, 15)
MAIN_SIZE = 100_000
ACTING_USER = "anna"

_STARTED = time.monotonic()


# -- output -----------------------------------------------------------------------------------------------
def say(text: str) -> None:
    """One progress line, with the minutes and seconds since the run started."""
    elapsed = int(time.monotonic() - _STARTED)
    print(f"[{elapsed // 60:3d}:{elapsed % 60:02d}] {text}", flush=True)


# -- statistics -------------------------------------------------------------------------------------------
def percentile(values: Iterable[float], q: float) -> float:
    """The q-th percentile (0–100), linear between closest ranks (numpy's default)."""
    data = sorted(values)
    if not data:
        return math.nan
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    low = math.floor(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


def summary(values: Iterable[float]) -> dict[str, float]:
    """n, median (p50), p95, min, max and mean of a list of timings (kept in the unit given)."""
    data = list(values)
    if not data:
        return {"n": 0, "p50": math.nan, "p95": math.nan, "min": math.nan, "max": math.nan, "mean": math.nan}
    return {"n": len(data), "p50": statistics.median(data), "p95": percentile(data, 95), "min": min(data),
            "max": max(data), "mean": statistics.fmean(data)}


def timed_ms(func: Callable[[], object]) -> tuple[float, object]:
    """Run ``func`` once; (milliseconds, its result)."""
    started = time.perf_counter()
    result = func()
    return (time.perf_counter() - started) * 1000.0, result


def timed_cpu(func: Callable[[], object]) -> tuple[float, float, object]:
    """Run ``func`` once; (wall milliseconds, CPU milliseconds of this process — all its threads, DuckDB's
    included —, its result). Wall minus CPU is time spent waiting: for a core on a busy machine, or for the
    disk."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func()
    return (time.perf_counter() - wall) * 1000.0, (time.process_time() - cpu) * 1000.0, result


# -- databases --------------------------------------------------------------------------------------------
def db_path(size: int) -> Path:
    return DATA_DIR / f"bench-{size}.duckdb"


def customer_count(path: Path) -> int | None:
    """How many customers the database at ``path`` holds (None if it cannot be opened)."""
    from customercard.store import Store

    try:
        with Store(path) as store:
            return int(store.db.row("SELECT count(*) FROM customers")[0])
    except Exception as exc:  # a broken or foreign file: rebuilt by the caller
        say(f"  cannot read {path.name}: {exc}")
        return None


def ensure_db(size: int, progress: bool = True) -> Path:
    """The benchmark database with ``size`` customers: reused when present and complete, else built with the
    demo generator (fixed seed and date) into a temporary file that replaces the old one when done."""
    from customercard.demo import build_demo
    from customercard.store import Store

    path = db_path(size)
    if path.exists():
        found = customer_count(path)
        if found == size:
            say(f"database {path.relative_to(ROOT)}: {size:,} customers, reused")
            return path
        say(f"database {path.relative_to(ROOT)} holds {found} customers, not {size:,}: building it again")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    building = path.with_name(path.stem + ".building.duckdb")
    for stale in (building, building.with_name(building.name + ".wal")):
        stale.unlink(missing_ok=True)
    say(f"building {path.relative_to(ROOT)} with {size:,} customers (seed {SEED}) …")
    with Store(building) as store:
        made = build_demo(store, customers=size, seed=SEED, today=TODAY, progress=progress)
    say(f"  built in {made.seconds} s: {made.customers:,} customers, {made.invoices:,} invoice lines, "
        f"{made.contacts:,} contacts, {made.comments:,} comments")
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    os.replace(building, path)
    return path


def copy_db(source: Path, folder: Path, name: str) -> Path:
    """A private copy of a (closed) database file, so the benchmark never changes the reusable one."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + ".wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def db_facts(path: Path) -> dict[str, object]:
    """Size facts of a benchmark database (row counts and file size) for the report."""
    from customercard.store import Store

    with Store(path) as store:
        counts = {table: int(store.db.row(f"SELECT count(*) FROM {table}")[0])  # constant names
                  for table in ("customers", "contacts", "invoices", "comments", "customer_changes", "events",
                                "opportunities", "relations", "search_terms")}
    return {"file": str(path.relative_to(ROOT)), "bytes": path.stat().st_size, **counts}
