"""The super search's pages (schema 20): each sorted search table's every PAGE_ROWS-th key is kept, rows carry the
page their key falls in, and a lookup names the pages its prefix can be on (DuckDB then reads the key column only
there). Whatever the pages, a search finds what it finds without them: with pages of a few rows (keys repeated
across their edges), after edits written since the pages were made (rows without a page), after entries were
removed, and after another store in the process built the index again (its pages changed under the one held)."""

from __future__ import annotations

import random
import re

import pytest

from customercard.models import Contact
from customercard.store import Store
from customercard.store import search as search_module

from .conftest import copy_database


@pytest.fixture
def paged(demo_template, tmp_path, monkeypatch):
    """The demo with pages of 7 rows: a thousand pages or so, and many a key on two of them."""
    monkeypatch.setattr(search_module, "PAGE_ROWS", 7)
    store = Store(copy_database(demo_template, tmp_path / "paged"))
    store.rebuild_search_index()
    yield store
    store.close()


def _queries(store, rng: random.Random, count: int = 160) -> list[str]:
    """What people type: starts of names, nicknames, contact persons' names and e-mails (2 letters and more),
    whole words, numbers and phone digits, two words, a typo."""
    texts = []
    for row in store.sql("SELECT name, nickname, CAST(number AS VARCHAR) AS number, phone FROM customers").itertuples():
        texts += [row.name, row.nickname or "", row.number, re.sub(r"\D", "", row.phone or "")]
    for row in store.sql("SELECT first_name, last_name, email FROM contacts").itertuples():
        texts += [f"{row.first_name} {row.last_name}", row.email or ""]
    texts = [t for t in texts if len(t) >= 2]
    queries = set()
    while len(queries) < count:
        text = rng.choice(texts)
        kind = rng.random()
        if kind < 0.5:
            queries.add(text[:rng.randint(2, min(len(text), 9))])
        elif kind < 0.7:
            queries.add(rng.choice(text.split()))
        elif kind < 0.85 and len(text.split()) > 1:
            words = text.split()
            queries.add(f"{words[-1][:4]} {words[0][:3]}")
        elif len(text) >= 6:
            cut = rng.randrange(1, len(text) - 1)
            queries.add(text[:cut] + text[cut + 1:])  # one letter left out
    return sorted(queries)


def _answers(store, queries: list[str]) -> dict[str, list[tuple]]:
    return {q: [tuple(r) for r in store.search(q, limit=60)[["id", "rank", "match", "matched"]].itertuples(
        index=False)] for q in queries}


def _drop_pages(store) -> None:
    """The index as before schema 20 made pages: every lookup reads its table whole."""
    with store.db.transaction() as cur:
        cur.execute("DELETE FROM search_pages")
        cur.execute("UPDATE change_stamps SET stamp = stamp + 1 WHERE area = 'search_pages'")


def _edit_after_the_build(store, rng: random.Random) -> None:
    """Writes after the pages were made: renamed customers (keys inside and around existing pages), new contact
    persons and phone numbers (rows without a page), entries removed (the old keys of those)."""
    ids = [int(i) for i in store.sql("SELECT id FROM customers ORDER BY id")["id"]]
    for customer_id in rng.sample(ids, 25):
        customer = store.get_customer(customer_id)
        customer.name = rng.choice(["Berg", "Bergström", "Andersson", "Aalto", "Zeta", "Öberg"]) + \
            f" {rng.choice(['Konsult', 'Bygg', 'Revision'])} {customer_id} AB"
        customer.phone = f"+46 8 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
        store.save_customer(customer, user="anna")
    for customer_id in rng.sample(ids, 10):
        store.create_contact(Contact(customer_id=customer_id, first_name=rng.choice(["Berit", "Anders", "Åsa"]),
                                     last_name=f"Bergkvist{customer_id}", email=f"b{customer_id}@bergkvist.se"),
                             user="anna")


def test_a_search_on_pages_finds_what_a_search_without_them_finds(paged):
    rng = random.Random(20)
    _edit_after_the_build(paged, rng)
    pages = paged.sql("SELECT kind, count(*) AS n FROM search_pages GROUP BY kind").set_index("kind")["n"]
    assert pages["terms"] > 100 and pages["words"] > 100
    unpaged_rows = paged.sql("SELECT count(*) AS n FROM search_terms WHERE page IS NULL")["n"][0]
    assert 0 < unpaged_rows < paged.sql("SELECT count(*) AS n FROM search_terms")["n"][0]
    queries = _queries(paged, rng)
    on_pages = _answers(paged, queries)
    assert sum(1 for found in on_pages.values() if found) > len(queries) * 0.8
    _drop_pages(paged)
    assert _answers(paged, queries) == on_pages


def test_pages_built_again_by_another_store_are_read_again_before_a_lookup_names_them(paged, monkeypatch):
    rng = random.Random(21)
    queries = _queries(paged, rng, count=60)
    before = _answers(paged, queries)  # pages of 7 rows, held by this store
    with Store(paged.location) as other:
        monkeypatch.setattr(search_module, "PAGE_ROWS", 3)
        other.rebuild_search_index()
        assert _answers(other, queries) == before
    assert _answers(paged, queries) == before  # on pages of 3 rows, read again (the stamp moved on)


def test_a_rebuild_makes_pages_on_duckdb_and_none_on_postgresql(demo_store):
    demo_store.rebuild_search_index()
    pages = int(demo_store.sql("SELECT count(*) AS n FROM search_pages")["n"][0])
    paged_rows = int(demo_store.sql("SELECT count(page) AS n FROM search_terms")["n"][0])
    if demo_store.db.dialect == "duckdb":
        assert pages > 0 and paged_rows == int(demo_store.sql("SELECT count(*) AS n FROM search_terms")["n"][0])
    else:
        assert pages == 0 and paged_rows == 0
    assert not demo_store.search("berg").empty


def test_a_key_on_many_pages_is_found_on_every_one(demo_template, tmp_path, monkeypatch):
    """Thirty customers of one name: their keys fill several pages of 7 rows, and a page starts with the very key
    typed — the rows of it on the page before are found too."""
    monkeypatch.setattr(search_module, "PAGE_ROWS", 7)
    with Store(copy_database(demo_template, tmp_path / "same")) as store:
        same = [store.create_customer(user="anna", name="Zorro Zorro AB", phone=f"+46 8 555 10 {n:02d}").id
                for n in range(30)]
        store.rebuild_search_index()
        firsts = set(store.sql("SELECT first FROM search_pages")["first"])
        assert {"zorro zorro ab", "zorro"} <= firsts  # a page starts with the whole name, and one with the word
        for query in ("zorro zorro ab", "Zorro Zorro AB", "zorro", "zorro zorro", "zorro ab", "ab zorro"):
            assert set(store.search(query, limit=100)["id"]) >= set(same), query


def test_searches_while_the_index_is_built_again_find_what_they_found_before(paged, monkeypatch):
    """Searches of one session go on while another builds the index again (on pages of another size each time): each
    search reads the index as at one moment, and a lookup made on pages the tables no longer have is made again on
    today's — every search finds the same."""
    from .conftest import running_beside

    rng = random.Random(22)
    queries = _queries(paged, rng, count=25)
    before = _answers(paged, queries)

    def build_again() -> None:
        for size in (3, 11, 5, 7, 2, 13):
            monkeypatch.setattr(search_module, "PAGE_ROWS", size)
            paged.rebuild_search_index()

    rounds = 0
    with running_beside(build_again) as done:
        while not done.is_set() or rounds == 0:
            assert _answers(paged, queries) == before, f"round {rounds}"
            rounds += 1
    assert _answers(paged, queries) == before
