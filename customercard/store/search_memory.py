"""How much of what searches read a server keeps in memory, and in which order it is chosen.

The server reads what searches read into DuckDB's block cache as it starts (:meth:`SearchStore.hold_search_in_memory`),
so that no search pays for reading a block for the first time. At 1,000,000 customers that is 2.4 GB of blocks:
the search tables' key and text columns are stored uncompressed (schema 7 and 10: a filter on a compressed string
column decoded the whole row group it read), and every block of them is held, however rarely a search reads it.

A :class:`HoldPlan` holds the columns in the order a search needs them, up to a budget of megabytes, and leaves
the rest to be read when a search asks for it (DuckDB reads the block then, usually from the operating system's file
cache). First what every search reads at scattered places — the customers of its hits and the matched entries by
id, where a block not held costs a read for almost every row — then the sorted lookups, where one block read
answers a whole prefix: whole terms, query words, one-typo variants and, last, the suffixes ('contains'), read only
when nothing matched exactly. With no budget, everything a search reads is held (as before).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from .backend import Backend
from .search_text import SEARCH_READS

#: What a search reads, by table and columns, in the order it is held: the parts read at scattered rows first.
HOLD_ORDER: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("customers", ("id", "number", "name", "nickname", "visit_city", "status_id", "archived")),
    ("search_terms", ("entry_id", "customer_id", "source")),
    ("search_terms", ("term", "shown", "page")),
    ("search_words", ("word", "entry_id", "page")),
    ("search_fuzzy", ("variant", "word")),
    ("search_suffixes", ("suffix", "word")),
)

#: The share of the server's bound (``CUSTOMERCARD_SEARCH_MEMORY_MB``) held ahead when the whole index is larger
#: than the bound: the parts first in :data:`HOLD_ORDER` that fit (at 1,000,000 customers and the default 1,000 MB,
#: the customers' and the entries' scattered rows, 207 MB). The rest of DuckDB's memory limit is left to its indexes
#: (212 MB there), the cards' reads and the blocks searches read on the way, kept as long as there is room. Holding
#: 0.6 of it (the one-typo variants too, 436 MB) filled the limit and DuckDB gave blocks up and read them again:
#: search p50 9.9–12.6 ms against 8.4–8.7 with a quarter (benchmarks/RESULTS.md, item 17; 2026-12-08).
HELD_WITHIN = 0.25


@dataclasses.dataclass(frozen=True)
class HoldPlan:
    """Which of the columns searches read are held in memory, and how many MB of blocks each part takes."""

    #: (table, columns, MB) held, in the order of :data:`HOLD_ORDER`.
    held: tuple[tuple[str, tuple[str, ...], float], ...]
    #: (table, columns, MB) left to be read when a search needs them.
    left: tuple[tuple[str, tuple[str, ...], float], ...]

    @property
    def held_mb(self) -> float:
        return sum(mb for _t, _c, mb in self.held)

    @property
    def left_mb(self) -> float:
        return sum(mb for _t, _c, mb in self.left)

    def columns(self) -> dict[str, tuple[str, ...]]:
        """The held columns by table (what :meth:`Memory.hold` is given)."""
        out: dict[str, tuple[str, ...]] = {}
        for table, names, _mb in self.held:
            out[table] = out.get(table, ()) + names
        return out


def column_mb(db: Backend, parts: Sequence[tuple[str, tuple[str, ...]]] = HOLD_ORDER) -> list[float]:
    """The MB of the database file's blocks each part's columns are kept in (DuckDB; 0.0 on PostgreSQL, which
    keeps its own cache). Small columns share blocks, so parts of a small table may count a block twice."""
    if db.dialect != "duckdb":
        return [0.0 for _ in parts]
    return [db.memory.size({table: names}) / 1e6 for table, names in parts]


def plan_hold(db: Backend, budget_mb: float | None = None, sizes: Sequence[float] | None = None) -> HoldPlan:
    """The parts of :data:`HOLD_ORDER` held within ``budget_mb`` (None: all of them). A part is held whole or
    not at all; a later, smaller part may still fit where an earlier one did not. ``sizes``: each part's MB, as
    :func:`column_mb` gives them (read when not given)."""
    held: list[tuple[str, tuple[str, ...], float]] = []
    left: list[tuple[str, tuple[str, ...], float]] = []
    room = float("inf") if budget_mb is None else float(budget_mb)
    for (table, names), mb in zip(HOLD_ORDER, column_mb(db) if sizes is None else sizes, strict=True):
        if mb <= room:
            held.append((table, names, mb))
            room -= mb
        else:
            left.append((table, names, mb))
    return HoldPlan(tuple(held), tuple(left))


def hold_planned(db: Backend, plan: HoldPlan, at_most: float = 0.25) -> float:
    """Read the plan's held columns into memory (see :meth:`Memory.hold`); the MB held."""
    columns = plan.columns()
    return db.memory.hold(columns, at_most) if columns else 0.0


def reads_covered() -> dict[str, set[str]]:
    """:data:`HOLD_ORDER`'s columns by table (a test checks they are exactly what searches read)."""
    out: dict[str, set[str]] = {}
    for table, names in HOLD_ORDER:
        out.setdefault(table, set()).update(names)
    return out


def describe(plan: HoldPlan) -> dict[str, Any]:
    """The plan as plain data (for the benchmark's report)."""
    return {"held": [[t, list(c), round(mb, 1)] for t, c, mb in plan.held],
            "left": [[t, list(c), round(mb, 1)] for t, c, mb in plan.left],
            "held_mb": round(plan.held_mb, 1), "left_mb": round(plan.left_mb, 1),
            "all_columns": {t: list(c) for t, c in SEARCH_READS.items()}}
