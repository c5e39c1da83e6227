"""Holding part of the search index in memory (customercard.store.search_memory): the columns chosen in the
order searches need them, within a budget, and searches answering the same whatever is held — before and after
a save."""

from __future__ import annotations

import pandas as pd
import pytest

from customercard.store.search_memory import HOLD_ORDER, column_mb, plan_hold, reads_covered
from customercard.store.search_text import SEARCH_READS

BLOCK_MB = 262144 / 1e6  # DuckDB's block size


@pytest.fixture(scope="module")
def larger_demo(tmp_path_factory):
    """2,000 demo customers: a search index of some MB, so that a budget can hold part of it."""
    from customercard.demo import build_demo
    from customercard.store import Store

    from .conftest import DEMO_SEED, DEMO_TODAY

    path = tmp_path_factory.mktemp("search-memory") / "demo.duckdb"
    with Store(path) as store:
        build_demo(store, customers=2_000, seed=DEMO_SEED, today=DEMO_TODAY, progress=False, follow_ups=False)
        store.create_customer(user="anna", name="Ærøskøbing Ångström ApS", nickname="Øresund",
                              phone="+45 33 12 34 56", org_number="556677-8899")
    return path


@pytest.fixture
def store(larger_demo, tmp_path):
    from customercard.store import open_store

    from .conftest import copy_database

    opened = open_store(copy_database(larger_demo, tmp_path))
    yield opened
    opened.close()


def _cached_mb(db) -> float:
    return dict(db.rows("SELECT tag, memory_usage_bytes FROM duckdb_memory()")).get("BASE_TABLE", 0) / 1e6


def _queries(store) -> list[str]:
    """Every kind of lookup: prefixes, inner parts, typos, Nordic letters typed with and without their marks,
    phone numbers in several formats, numbers, organisation numbers, contact names, several words."""
    name = store.sql("SELECT name FROM customers WHERE id = 17")["name"][0]
    phone = store.sql("SELECT phone FROM customers WHERE phone LIKE '+46%' LIMIT 1")["phone"][0]
    contact = store.sql("SELECT first_name, last_name FROM contacts ORDER BY id LIMIT 1").iloc[0]
    number = store.sql("SELECT number FROM customers WHERE id = 42")["number"][0]
    org = store.sql("SELECT org_number FROM customers WHERE id = 42")["org_number"][0]
    first = name.split()[0]
    typo = first[:2] + first[3] + first[2] + first[4:] if len(first) >= 5 else first + "x"
    local = "0" + "".join(ch for ch in phone if ch.isdigit())[2:]
    return [name, first[:3], first[1:4], typo, "ærøskøbing", "aeroskobing", "Ångström", "angstrom", "oresund",
            "+45 33 12 34 56", "0045 33123456", "33123456", phone, local, local[-7:], str(number), org,
            org.replace("-", ""), f"{contact['first_name']} {contact['last_name']}", contact["last_name"][:4],
            f"{contact['last_name']} {first}", "konsult", "qzxwv"]


def test_the_hold_order_is_exactly_what_searches_read():
    assert reads_covered() == {table: set(columns) for table, columns in SEARCH_READS.items()}
    assert len({(table, columns) for table, columns in HOLD_ORDER}) == len(HOLD_ORDER)


def test_a_budget_holds_the_parts_in_order_and_no_more(store):
    db = store.db
    sizes = column_mb(db)
    assert all(mb >= BLOCK_MB for mb in sizes)  # every part is in the file's blocks
    whole = plan_hold(db)
    assert not whole.left and whole.held_mb == pytest.approx(sum(sizes))
    assert not plan_hold(db, 0).held
    budget = sizes[0] + sizes[1] + BLOCK_MB / 2  # the first two parts, and no other part is that small
    plan = plan_hold(db, budget)
    assert [part[:2] for part in plan.held[:2]] == list(HOLD_ORDER[:2])
    assert plan.held_mb <= budget and plan.held_mb + plan.left_mb == pytest.approx(sum(sizes))
    assert all(mb > budget - plan.held_mb for _t, _c, mb in plan.left)  # what was left would not have fit

    store.search("warm")  # settings and lists, kept by the store once read
    db.memory.release()
    before = _cached_mb(db)
    held = store.hold_search_in_memory(budget_mb=budget)
    assert held == pytest.approx(plan.held_mb)
    grown = _cached_mb(db) - before
    # small columns share blocks (DuckDB packs them together), so a block or two either way (sums of block sizes in
    # MB, compared with a float's rounding allowed: two blocks fewer is 0.5242879999999999 against 0.524288)
    slack = 1e-6
    assert plan.held_mb - 2 * BLOCK_MB - slack <= grown <= budget + 2 * BLOCK_MB + slack < whole.held_mb / 2
    db.memory.release()
    before = _cached_mb(db)
    assert store.hold_search_in_memory(budget_mb=0) == 0.0
    assert _cached_mb(db) - before < BLOCK_MB
    # no budget: all of it, as before (the parts' shared blocks counted once)
    assert whole.held_mb - 4 * BLOCK_MB <= store.hold_search_in_memory() <= whole.held_mb


def _answers(store, queries: list[str]) -> list[pd.DataFrame]:
    return [store.search(query).reset_index(drop=True) for query in queries]


def test_searches_answer_the_same_whatever_is_held_and_see_a_save(store):
    db = store.db
    queries = _queries(store)
    db.memory.release()
    nothing_held = _answers(store, queries)
    assert any(not frame.empty for frame in nothing_held) and nothing_held[-1].empty
    assert "Ærøskøbing Ångström ApS" in set(nothing_held[queries.index("aeroskobing")]["name"])
    assert "Ærøskøbing Ångström ApS" in set(nothing_held[queries.index("0045 33123456")]["name"])
    sizes = column_mb(db)
    for budget in (sizes[0] + sizes[1], sum(sizes) / 2, None):
        db.memory.release()
        store.hold_search_in_memory(budget_mb=budget)
        for query, expected, got in zip(queries, nothing_held, _answers(store, queries), strict=True):
            pd.testing.assert_frame_equal(got, expected, obj=f"search({query!r}) holding {budget} MB")

    db.memory.release()
    store.hold_search_in_memory(budget_mb=sizes[0] + sizes[1])
    customer_id = int(store.search("aeroskobing")["id"][0])
    customer = store.get_customer(customer_id)
    customer.name = "Västkust Kärnfysik AB"
    customer.phone = "+46 31 765 43 99"
    store.save_customer(customer, user="anna")
    assert store.search("aeroskobing").empty or customer_id not in set(store.search("aeroskobing")["id"])
    assert int(store.search("vastkust karnfysik")["id"][0]) == customer_id
    assert customer_id in set(store.search("031-765 43 99")["id"])
    after_save = _answers(store, queries)
    db.memory.release()
    store.hold_search_in_memory()
    for query, expected, got in zip(queries, after_save, _answers(store, queries), strict=True):
        pd.testing.assert_frame_equal(got, expected, obj=f"search({query!r}) after a save")


def test_a_budget_on_either_backend(demo_store):
    """PostgreSQL keeps its own cache: nothing is held there, and the search answers as before."""
    before = demo_store.search("revision")
    held = demo_store.hold_search_in_memory(budget_mb=1_000)
    if demo_store.db.dialect == "postgresql":
        assert held == 0.0 and all(mb == 0.0 for mb in column_mb(demo_store.db))
    else:
        assert held > 0.0
    pd.testing.assert_frame_equal(demo_store.search("revision"), before)


@pytest.mark.parametrize("language, separator", [("en", ","), ("sv", "\u00a0"), ("da", ".")])
def test_search_customers_counts_in_the_readers_numbers(store, language, separator):
    """The count over the list of Search customers: about 2,000 customers (archived ones left out), written as the
    reader writes numbers."""
    import panel as pn

    from customercard import formatting
    from customercard.i18n import using_language
    from customercard.ui.customer_list import CustomerList

    with using_language(language):
        view = CustomerList(store=store)
        text = next(pane.object for pane in view.__panel__().select(pn.pane.HTML)
                    if "cc-count-text" in str(pane.object))
        total = formatting.number(view.total)
    assert view.total > 1_000 and total[1] in (separator, " ", "\u202f") and f" {total} " in text
