"""The super search and its index are bounded, whatever they are given: a pasted page, a 16,000-character word,
a 20,000-character name. Memory is measured as the growth of a fresh process's peak RSS (resource.getrusage);
the index by counting its suffix and typo-variant rows; and a served app answers other users while the heaviest
allowed search and save run in a loop."""

from __future__ import annotations

import datetime as dt
import json
import random
import string
import subprocess
import sys
import threading

import pytest

import customercard as cc
from customercard.store.search_text import MAX_QUERY, MAX_QUERY_WORDS, MAX_TERM, MAX_WORD, bounded_query

from .test_deploy import Client

#: Peak-RSS growth allowed for the heavy searches, in kB. Before the bounds, one 16,000-character word made
#: about 256 MB of one-typo variants (2.2 GB measured in the server).
MEMORY_GROWTH_KB = 64 * 1024

PASTE = ("Lindqvist Konsult AB; " * 150)[:3000]  # a name pasted many times over
LONG_WORD = ("lindqvistkonsult" * 1000)[:16000]

HEAVY_SEARCHES = """
import json, resource, sys
from customercard.store import Store

store = Store(sys.argv[1])
store.search("lindqvist konsult")
store.search("berg")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
found = {"paste": list(store.search(sys.argv[2])["name"]), "word": list(store.search(sys.argv[3])["name"]),
         "spaced": list(store.search(" ".join([sys.argv[3]] * 3))["name"]),
         "duplicates": list(store.possible_duplicates(name=sys.argv[3], nickname=sys.argv[3])["name"]),
         "pasted_duplicates": list(store.possible_duplicates(name=sys.argv[2])["name"])}
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
store.close()
print(json.dumps({"grown_kb": grown, **found}))
"""


@pytest.fixture
def store(empty_store):
    empty_store.create_customer(user="anna", name="Lindqvist Konsult AB")
    empty_store.create_customer(user="anna", name="Bergström Revision AB")
    return empty_store


def test_a_query_is_read_up_to_its_bounds():
    query, number = bounded_query("Å" * 5000)
    assert query == "a" * MAX_QUERY and number == ""
    assert bounded_query("1" * 5000)[1] == "1" * MAX_QUERY


def test_words_past_the_eighth_are_ignored(store):
    words = ["lindqvist", "konsult", "ab"] * 3
    assert len(words) > MAX_QUERY_WORDS
    assert list(store.search(" ".join([*words[:MAX_QUERY_WORDS], "nowhere"]))["name"]) == ["Lindqvist Konsult AB"]
    assert store.search(" ".join(["nowhere", *words])).empty  # a word within the bound still has to match


def test_a_pasted_page_and_a_huge_word_search_with_little_memory(store):
    """In a fresh process (its peak RSS not raised by earlier tests): a 3,000-character paste finds the customer
    its start names; a 16,000-character word, alone or three times, finds nothing and costs next to no memory —
    as a new customer's name in the duplicate check too (anyone who may read may ask for one)."""
    location = store.location
    store.close()  # a DuckDB file is opened by one process at a time
    done = subprocess.run([sys.executable, "-c", HEAVY_SEARCHES, location, PASTE, LONG_WORD],
                          capture_output=True, check=False, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["paste"] == ["Lindqvist Konsult AB"]
    assert result["word"] == [] and result["spaced"] == [] and result["duplicates"] == []
    assert result["pasted_duplicates"] == ["Lindqvist Konsult AB"]
    assert result["grown_kb"] < MEMORY_GROWTH_KB, result


def _index_counts(store) -> dict[str, int]:
    return {table: int(store.db.row(f"SELECT count(*) FROM {table}")[0])  # constant names
            for table in ("search_vocab", "search_suffixes", "search_fuzzy")}


def _long_words_indexed(store) -> int:
    return int(store.db.row("SELECT (SELECT count(*) FROM search_suffixes WHERE length(word) > ?) + "
                            "(SELECT count(*) FROM search_fuzzy WHERE length(word) > ?) + "
                            "(SELECT count(*) FROM search_vocab WHERE length(word) > ?)",
                            [MAX_WORD, MAX_WORD, MAX_WORD])[0])


def _huge_name(seed: int) -> str:
    return "".join(random.Random(seed).choices(string.ascii_lowercase, k=20_000))


def test_a_20000_character_contact_name_does_not_blow_up_the_index(store):
    customer_id = int(store.search("lindqvist")["id"][0])
    before = _index_counts(store)
    huge = _huge_name(1)
    try:  # through the store, while the model lets such a name through
        store.create_contact(cc.Contact(customer_id=customer_id, first_name="Anna", last_name=huge), user="anna")
    except cc.ValidationError:
        pass  # the model limits a name's length: nothing to index
    after = _index_counts(store)
    # 'anna' gives one suffix and five variants; the huge word gives nothing but its first MAX_TERM characters
    assert all(after[t] - before[t] <= 10 for t in after), (before, after)
    assert _long_words_indexed(store) == 0
    assert int(store.db.row("SELECT max(length(term)) FROM search_terms")[0]) <= MAX_TERM


def test_a_rebuild_over_an_old_20000_character_name_stays_bounded(store):
    """Rows the model never saw (an old database, an import by SQL) are indexed within the same bounds."""
    customer_id = int(store.search("bergström")["id"][0])
    huge = _huge_name(2)
    now = dt.datetime(2026, 1, 1)
    with store.db.transaction() as cur:
        cur.execute("INSERT INTO contacts (customer_id, first_name, last_name, email, created_at, created_by, "
                    "updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [customer_id, "Greta", huge, huge + "@example.com", now, "anna", now, "anna"])
    before = _index_counts(store)
    store.rebuild_search_index()
    after = _index_counts(store)
    assert all(after[t] - before[t] <= 40 for t in after), (before, after)
    assert _long_words_indexed(store) == 0
    assert int(store.db.row("SELECT max(length(term)) FROM search_terms")[0]) <= MAX_TERM
    hits = store.search("greta " + huge[:30])  # found from the start of the long word
    assert list(hits["name"]) == ["Bergström Revision AB"] and hits.iloc[0]["match"].startswith("contact: Greta ")
    assert len(hits.iloc[0]["matched"]) <= MAX_TERM


# -- the served app stays answering ---------------------------------------------------------------------------
def _heaviest_searches() -> list[str]:
    """The most a search is allowed to do: eight words of up to MAX_WORD characters (each looked up by prefix,
    suffix and one-typo variants), common short prefixes, a pasted page, a huge word."""
    letters = random.Random(3)
    long_words = " ".join("".join(letters.choices("aeiklnorst", k=23)) for _ in range(MAX_QUERY_WORDS))
    return [long_words, "ab " * MAX_QUERY_WORDS, PASTE, LONG_WORD, "konsult revision holding group"]


class HeavyLoop(threading.Thread):
    """Runs ``step`` until stopped or ``limit`` rounds are done; counts rounds, keeps the first error."""

    def __init__(self, step, limit: int) -> None:
        super().__init__(daemon=True)
        self.step, self.limit = step, limit
        self.rounds = 0
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.started_one = threading.Event()

    def run(self) -> None:
        try:
            while not self.stop.is_set() and self.rounds < self.limit:
                self.step(self.rounds)
                self.rounds += 1
                self.started_one.set()
        except BaseException as exc:  # reported by the test
            self.error = exc
            self.started_one.set()


def test_others_are_answered_while_the_heaviest_search_and_save_run(live_server):
    """One user's heaviest searches (through the server's store, as the search box's callback runs them) and
    saves (through the JSON API, on the server's event loop) run in loops of at most LIMIT rounds; meanwhile
    another user opens a page and reads a customer five times. The other user must be done while both loops
    still run: had a search or a save held the server, the loops would have run out first."""
    limit = 400
    store, base = live_server.store, live_server.url
    ids = [int(i) for i in store.sql("SELECT id FROM customers WHERE NOT archived ORDER BY id LIMIT 2")["id"]]
    heavy = _heaviest_searches()
    saver = Client(base, "anna")
    version = [saver.get(ids[0])["version"]]
    letters = random.Random(5)

    def search(round_: int) -> None:
        store.search(heavy[round_ % len(heavy)])

    def save(round_: int) -> None:
        # a long name of new words: each save indexes new words with their suffixes and variants
        name = " ".join("".join(letters.choices(string.ascii_lowercase, k=11)) for _ in range(8)) + " AB"
        status, body = saver.patch(ids[0], version[0], {"name": name})
        assert status == 200, body
        version[0] = body["version"]

    loops = [HeavyLoop(search, limit), HeavyLoop(save, limit)]
    for loop in loops:
        loop.start()
    for loop in loops:
        assert loop.started_one.wait(120) and loop.error is None, loop.error
    reader = Client(base, "vera")
    answered = []
    for _ in range(5):
        answered.append(reader.get(ids[1])["id"])
        with reader.opener.open(f"{base}/search", timeout=120) as response:  # a page: a new session is made
            answered.append((response.status, b"bokeh" in response.read().lower()))
    rounds_meanwhile = [loop.rounds for loop in loops]
    for loop in loops:
        loop.stop.set()
        loop.join(120)
    assert all(loop.error is None for loop in loops), [loop.error for loop in loops]
    assert answered[::2] == [ids[1]] * 5 and answered[1::2] == [(200, True)] * 5
    assert all(0 < rounds < limit for rounds in rounds_meanwhile), rounds_meanwhile
    assert store.get_customer(ids[0]).version == version[0]  # every save went through, none lost
