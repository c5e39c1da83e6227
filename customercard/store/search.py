"""The super search: a folded index of names, nicknames, numbers, organisation and VAT numbers, phone numbers,
e-mails and contact persons, kept up to date in the same transaction as every write.

Matching is tolerant of case, of Nordic letters typed without their marks (å ä ö æ ø typed as a a o ae o),
of phone formatting (digits are compared) and of one typo in a word of five letters or more. Hits are
ranked exact → prefix → contains → fuzzy, and each says why it matched.

Every search and every index update is bounded, whatever it is given: a query is read up to
:data:`MAX_QUERY` characters and :data:`MAX_QUERY_WORDS` words (the rest is ignored); an indexed value up to
:data:`MAX_TERM` characters (shown up to :data:`MAX_SHOWN`); and only words of at most :data:`MAX_WORD`
characters get the suffixes ('contains') and one-typo variants that grow with the square of a word's length —
longer words are found from their start only. So one pasted page, or one 20,000-character name (the model
limits lengths, but a bulk rebuild also reads old rows), costs a search or a save what a long name does.
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ValidationError
from ..i18n import N_, _
from .backend import Backend, counted
from .database import execute_rows
from .part import Part
from .search_bulk import fuzzy_frame, index_frames, suffix_frame, word_frame
from .search_text import (
    BULK_ROWS,
    CANDIDATES,
    CHECKED_ENTRIES,
    CONTAINS,
    ENTRY_ROWS,
    EXACT,
    FUZZY,
    FUZZY_MIN,
    LOCAL_DIGITS,
    MAX_TERM,
    MAX_WORD,
    NUMBER_QUERY_DIGITS,
    PAGE_ROWS,
    PREFIX,
    RANK_NAMES,
    SEARCH_READS,
    SEARCH_TABLES,
    SOURCES,
    WORD_BATCH,
    WORD_BREAKS,
    WORD_CANDIDATES,
    WORD_ROWS,
    DuplicateQuery,
    bounded_query,
    contact_terms,
    customer_terms,
    deletions,
    digits,
    fold,
    in_vocabulary,
    is_number_word,
    query_words,
    suffixes,
    within_one_edit,
    words_of,
)

if TYPE_CHECKING:
    from .admin import AdminStore


#: (the stamp 'search_pages', {kind: each page's first key, in order}): the pages of the sorted tables as read.
Pages = tuple[int | None, dict[str, list[str]]]
#: The stamp of the pages, read in a lookup's own query (one statement: the same moment as its rows).
PAGES_STAMP = "(SELECT stamp FROM change_stamps WHERE area = 'search_pages')"
#: The sorted tables with pages (schema 20): their kind in search_pages and their key.
PAGED = {"search_terms": ("terms", "term"), "search_words": ("words", "word")}
#: Their columns besides the page.
PAGED_COLUMNS = {"search_terms": ("entry_id", "term", "customer_id", "contact_id", "source", "shown"),
                 "search_words": ("word", "entry_id")}


def _analysed(text: str) -> tuple[list[str], list[str]] | None:
    """The whole terms a query looks up and its words (None for a text with none), as the search reads it."""
    query, number = bounded_query(text)
    if not query:
        return None
    numeric = len(number) >= NUMBER_QUERY_DIGITS and len(number) * 2 >= len(query.replace(" ", ""))
    # 00 dials abroad as + does: 0046 31 … is the number stored as 4631 … (when what follows is a number too)
    abroad = number[2:] if number.startswith("00") and len(number[2:]) >= NUMBER_QUERY_DIGITS else ""
    # each distinct once: for a bare number the digits are the query itself
    terms = list(dict.fromkeys(t for t in (number, abroad, query) if t)) if numeric else [query]
    # the number's own digits are its word: its endings are a local number's ('00739' ends 031-70 07 39), while
    # the number dialled abroad is found from its start by the terms above
    words = [number] if numeric else query_words(query)
    return terms, words


def _all_words(per_word: list[dict[int, int]]) -> dict[int, int]:
    """Entries found for every query word, each with its worst word rank."""
    if not per_word:
        return {}
    matched = dict(per_word[0])
    for found in per_word[1:]:
        matched = {entry: max(rank, found[entry]) for entry, rank in matched.items() if entry in found}
    return matched


#: The most would-be customers one duplicate check takes (an import's rows: at most 10,000 a file).
MAX_DUPLICATE_QUERIES = 10_000


class SearchStore(Part):
    """Part of :class:`customercard.store.Store`: the super search and the duplicate check."""

    uses = ("admin",)
    internal = frozenset({"index_contact", "index_customer", "index_rows", "list_condition", "list_matches",
                          "list_reasons", "reindex", "write_index"})
    admin: AdminStore

    db: Backend
    #: The pages as read here (DuckDB), None until read. A lookup takes them once and checks, in the same query,
    #: that their stamp is still the tables' (:meth:`_checked_rows`).
    _pages: Pages | None = None

    # -- keeping the index ----------------------------------------------------------------------------------
    def index_rows(self, owners: list[tuple[int, int | None, list[tuple[str, str, str]]]]
                    ) -> tuple[list[list[Any]], list[list[Any]]]:
        """Rows for search_terms and search_words from (customer id, contact id, terms) triples."""
        count = sum(len(terms) for _c, _k, terms in owners)
        ids = iter(self.db.reserve_ids("search_terms_id_seq", count))
        term_rows, word_rows = [], []
        for customer_id, contact_id, terms in owners:
            for source, term, shown in terms:
                entry_id = next(ids)
                term_rows.append([entry_id, term, customer_id, contact_id, source, shown])
                word_rows += [[word, entry_id] for word in words_of(source, term)]
        return term_rows, word_rows

    def write_index(self, cur: Any, term_rows: list[list[Any]], word_rows: list[list[Any]]) -> None:
        if len(term_rows) > BULK_ROWS:  # many customers at once (an import): as frames, read in one go
            self.db.insert_df("search_terms", pd.DataFrame(term_rows, dtype=object, columns=[
                "entry_id", "term", "customer_id", "contact_id", "source", "shown"]))
            self.db.insert_df("search_words", pd.DataFrame(word_rows, dtype=object, columns=["word", "entry_id"]))
            self._add_vocabulary(cur, {row[0] for row in word_rows})
            return
        if term_rows:
            execute_rows(cur, "INSERT INTO search_terms (entry_id, term, customer_id, contact_id, source, shown) "
                            "VALUES (?, ?, ?, ?, ?, ?)", term_rows)
        if word_rows:
            execute_rows(cur, "INSERT INTO search_words (word, entry_id) VALUES (?, ?)", word_rows)
            self._add_vocabulary(cur, {row[0] for row in word_rows})

    def _add_vocabulary(self, cur: Any, words: set[str]) -> None:
        words = {w for w in words if in_vocabulary(w)}
        if not words:
            return
        ordered = sorted(words)
        known = {w for (w,) in cur.execute("SELECT word FROM search_vocab WHERE "
                                           + self.db.in_list("word", len(ordered)), ordered).fetchall()}
        new = [w for w in ordered if w not in known]
        if new:
            # On PostgreSQL another process may add the same word meanwhile: ON CONFLICT keeps theirs (and both
            # add its suffixes, which only repeats a lookup row). DuckDB has one writing process, and its
            # ON CONFLICT costs about 5 ms here.
            conflict = " ON CONFLICT (word) DO NOTHING" if self.db.dialect == "postgresql" else ""
            cur.execute("INSERT INTO search_vocab (word) VALUES " + ", ".join("(?)" for _ in new) + conflict, new)
        if not new:
            return
        rows = [[suffix, w] for w in new for suffix in suffixes(w)]
        if rows:
            execute_rows(cur, "INSERT INTO search_suffixes (suffix, word) VALUES (?, ?)", rows)
        rows = [[variant, w] for w in new if len(w) >= FUZZY_MIN - 1 and not is_number_word(w)
                for variant in {w, *deletions(w)}]
        if rows:
            execute_rows(cur, "INSERT INTO search_fuzzy (variant, word) VALUES (?, ?)", rows)

    def _forget_entries(self, cur: Any, entries: list[int]) -> None:
        """Remove index entries and their words, by key (DuckDB answers a list of values from its index)."""
        for start in range(0, len(entries), 500):
            part = entries[start:start + 500]
            cur.execute("DELETE FROM search_words WHERE " + self.db.in_list("entry_id", len(part), ids=True), part)
            cur.execute("DELETE FROM search_terms WHERE " + self.db.in_list("entry_id", len(part), ids=True), part)

    def reindex(self, cur: Any, customer_id: int, contact_id: int | None, terms: list[tuple[str, str, str]]) -> None:
        """Make the index hold exactly ``terms`` for this customer (contact_id None) or contact person:
        entries that did not change stay, only the changed ones are removed and written."""
        stored = cur.execute("SELECT entry_id, source, term, shown, contact_id FROM search_terms "
                             "WHERE customer_id = ?", [int(customer_id)]).fetchall()
        wanted = list(terms)
        stale = []
        for entry_id, source, term, shown, owner in stored:
            if owner != contact_id:
                continue
            if (source, term, shown) in wanted:
                wanted.remove((source, term, shown))
            else:
                stale.append(int(entry_id))
        self._forget_entries(cur, stale)
        if wanted:
            self.write_index(cur, *self.index_rows([(int(customer_id), contact_id, wanted)]))

    def index_customer(self, cur: Any, customer_id: int, values: dict[str, Any]) -> None:
        """Bring the customer's own entries (not its contacts') in the index up to date, inside a write."""
        self.reindex(cur, customer_id, None, customer_terms(values, self.admin.settings().phone_region))

    def index_contact(self, cur: Any, contact: dict[str, Any]) -> None:
        """Bring one contact person's entries in the index up to date, inside a write."""
        self.reindex(cur, contact["customer_id"], int(contact["id"]),
                      contact_terms(contact, self.admin.settings().phone_region))

    def rebuild_search_index(self, chunk: int = 100_000) -> int:
        """Build the whole index again, each table sorted by its key (bulk loads, upgrades, copies).

        Customers (with their contacts) are indexed ``chunk`` at a time, and the vocabulary's suffixes and typo
        variants likewise, so memory stays bounded however many customers there are. On DuckDB each chunk goes
        to a staging table and every table is written once, sorted by its key, at the end (DuckDB sorts on
        disk when it must); PostgreSQL takes the rows as they come and finds them through its indexes."""
        region = self.admin.settings().phone_region
        bounds = self.db.rows("SELECT id FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM customers) "
                              "AS numbered WHERE n % ? = 1 ORDER BY id", [int(chunk)])
        starts = [int(row[0]) for row in bounds]
        keys = {"search_terms": "term", "search_words": "word", "search_suffixes": "suffix",
                "search_fuzzy": "variant"}
        staged = self.db.dialect == "duckdb"
        into = {name: (f"rebuild_{name}" if staged else name) for name in keys}
        total = 0
        vocabulary: set[str] = set()
        with self.db.memory.bulk(), self.db.transaction() as cur:
            tables, indexes = self._search_schema()
            # A new, empty table loaded and then indexed beats deleting rows and keeping indexes up to date.
            for name in SEARCH_TABLES:
                cur.execute(f"DROP TABLE IF EXISTS {name}")
            for statement in tables:
                cur.execute(statement)
            if staged:
                for name, staging in into.items():
                    # in the file, not TEMP (kept in memory until it overflows): DuckDB writes a big transaction's
                    # rows to disk as they come
                    cur.execute(f"CREATE TABLE {staging} AS SELECT * FROM {name} LIMIT 0")
            for index, low in enumerate(starts):
                last = index + 1 == len(starts)
                limits = [low] if last else [low, starts[index + 1]]
                customers = self.db.df("SELECT id, number, name, nickname, email, org_number, vat_number, phone "
                                       "FROM customers WHERE id >= ?" + ("" if last else " AND id < ?"), limits)
                contacts = self.db.df("SELECT id, customer_id, first_name, last_name, email, phone, mobile FROM "
                                      "contacts WHERE customer_id >= ?" + ("" if last else " AND customer_id < ?"),
                                      limits)
                terms = pd.concat(index_frames(customers, contacts, region), ignore_index=True)
                terms.insert(0, "entry_id", self.db.reserve_ids("search_terms_id_seq", len(terms)))
                words = word_frame(terms)
                self.db.insert_df(into["search_terms"], terms[["entry_id", "term", "customer_id", "contact_id",
                                                                "source", "shown"]])
                self.db.insert_df(into["search_words"], words)
                vocabulary.update(w for w in words["word"].unique() if in_vocabulary(w))
                total += len(terms)
            vocab = sorted(vocabulary)
            self.db.insert_df("search_vocab", pd.DataFrame({"word": pd.Series(vocab, dtype=object)}))
            for start in range(0, len(vocab), chunk * 5):
                part = pd.Series(vocab[start:start + chunk * 5], dtype=object)
                self.db.insert_df(into["search_suffixes"], suffix_frame(part))
                self.db.insert_df(into["search_fuzzy"], fuzzy_frame(part))
            cur.execute("DELETE FROM search_pages")
            if staged:
                for name, key in keys.items():
                    if name in PAGED:
                        self._write_paged(cur, name, into[name])
                    else:
                        cur.execute(f"INSERT INTO {name} SELECT * FROM {into[name]} ORDER BY {key}")
                    cur.execute(f"DROP TABLE {into[name]}")
            for statement in indexes:
                cur.execute(statement)
            cur.execute("UPDATE change_stamps SET stamp = stamp + 1 WHERE area = 'search_pages'")
        self._pages = None
        return total

    @staticmethod
    def _write_paged(cur: Any, name: str, staging: str) -> None:
        """Write ``name`` from its staging table sorted by its key, with its pages (DuckDB; as schema 20 does):
        every PAGE_ROWS-th key starts a page, and each row carries the last page starting at or before its key."""
        kind, key = PAGED[name]
        columns = ", ".join(f"s.{column}" for column in PAGED_COLUMNS[name])
        cur.execute("INSERT INTO search_pages (kind, page, first) SELECT ?, row_number() OVER (ORDER BY first) - 1, "
                    f"first FROM (SELECT DISTINCT {key} AS first FROM (SELECT {key}, row_number() OVER (ORDER BY "
                    f"{key}) AS n FROM {staging}) AS numbered WHERE n % ? = 1) AS firsts", [kind, PAGE_ROWS])
        cur.execute(f"INSERT INTO {name} ({', '.join(PAGED_COLUMNS[name])}, page) SELECT {columns}, p.page "
                    f"FROM {staging} AS s ASOF LEFT JOIN (SELECT page, first FROM search_pages WHERE kind = ?) AS p "
                    f"ON s.{key} >= p.first ORDER BY s.{key}", [kind])

    def _read_pages(self) -> Pages:
        """Read the pages and their stamp (in one query: the same moment), for the lookups of the next searches."""
        firsts: dict[str, list[str]] = {"terms": [], "words": []}
        rows = self.db.rows(f"SELECT {PAGES_STAMP}, kind, first FROM search_pages ORDER BY kind, page")
        stamp = rows[0][0] if rows else self.db.row(f"SELECT {PAGES_STAMP}")[0]  # (no pages: none named)
        for _stamp, kind, first in rows:
            firsts.setdefault(kind, []).append(first)
        self._pages = (None if stamp is None else int(stamp), firsts)
        return self._pages

    @staticmethod
    def _on_pages(held: Pages | None, kind: str, low: str, high: str | None = None) -> tuple[str, list[Any]]:
        """The condition naming the pages (of ``held``, as read here) that ``kind`` keys from ``low`` up to (not
        including) ``high`` — by default, the keys starting with ``low`` — can be on, and rows written since the
        pages were made (no page); '' when there are none (PostgreSQL, or an index not built since schema 20)."""
        pages = held[1].get(kind) if held is not None else None
        if not pages:
            return "", []
        high = low + "\uffff" if high is None else high  # (as Database.prefix bounds a prefix)
        first = max(bisect.bisect_left(pages, low) - 1, 0)
        last = max(bisect.bisect_left(pages, high) - 1, 0)
        return "(page IS NULL OR page BETWEEN ? AND ?) AND ", [first, last]

    def _search_schema(self) -> tuple[list[str], list[str]]:
        """The search tables' CREATE TABLE and CREATE INDEX statements, as the migrations left them (an index
        a later migration dropped is not made again)."""
        from .database import migrations, split_statements

        tables: dict[str, str] = {}
        indexes: dict[str, str] = {}
        for _number, _name, sql in migrations(self.db.dialect):
            for statement in split_statements(sql):
                table = re.match(r"CREATE TABLE (search_[a-z]+) \(", statement)
                added = re.match(r"ALTER TABLE (search_[a-z]+) ADD COLUMN (.+)", statement, re.S)
                if added and added.group(1) in tables:  # a column a later migration added (PostgreSQL)
                    name = added.group(1)
                    tables[name] = tables[name].rstrip().removesuffix(")").rstrip() + f",\n    {added.group(2)}\n)"
                    continue
                created = re.match(r"CREATE (?:UNIQUE )?INDEX (\w+) ON search_", statement)
                dropped = re.match(r"DROP INDEX (?:IF EXISTS )?(\w+)", statement)
                if table and table.group(1) in SEARCH_TABLES:
                    tables[table.group(1)] = statement  # a later migration's definition replaces an earlier one
                elif created:
                    indexes[created.group(1)] = statement
                elif dropped:
                    indexes.pop(dropped.group(1), None)
        return list(tables.values()), list(indexes.values())

    def hold_search_in_memory(self, at_most: float = 0.25, budget_mb: float | None = None,
                              within_mb: float | None = None) -> float:
        """Read what searches read (the index and the customers' listed columns) into the database's memory, so
        that no search pays for reading a block for the first time; returns the MB held (0.0 when it would take
        more than ``at_most`` of DuckDB's memory limit, or on PostgreSQL, which keeps its own cache).

        ``budget_mb``: hold at most this many MB, the columns chosen in the order searches need them
        (:func:`~customercard.store.search_memory.plan_hold`); the rest is read when a search asks for it.

        ``within_mb`` (what the server gives, ``CUSTOMERCARD_SEARCH_MEMORY_MB``): hold it all when it takes at most
        this many MB. When it takes more (some 400,000 customers and more), DuckDB's memory is kept within this plus
        a little (see :meth:`DuckDBMemory.keep_within <customercard.store.duckdb_memory.DuckDBMemory.keep_within>`)
        and :data:`~customercard.store.search_memory.HELD_WITHIN` of it is held, in the order searches need it:
        the rest is read as searches ask for it and kept, the least recently used given up first, within the limit.

        The server does this as it starts and again after it has given memory back when idle, on a thread of its
        own (about 25 MB per 10,000 customers, read in about 0.2 s per 100,000). A store opened in a notebook does
        not: its first searches read what they need as they go."""
        from .search_memory import HELD_WITHIN, column_mb, hold_planned, plan_hold

        if budget_mb is None and within_mb is not None and self.db.dialect == "duckdb":
            sizes = column_mb(self.db)
            if sum(sizes) > within_mb:
                self.db.memory.keep_within(within_mb, "The search index")
                return hold_planned(self.db, plan_hold(self.db, within_mb * HELD_WITHIN, sizes), HELD_WITHIN)
        if budget_mb is None:
            return self.db.memory.hold(SEARCH_READS, at_most)
        return hold_planned(self.db, plan_hold(self.db, budget_mb), at_most)

    # -- searching ------------------------------------------------------------------------------------------
    def search(self, text: str, limit: int = 20, include_archived: bool = True) -> pd.DataFrame:
        """The super search: customers matching ``text``, best first, each with why it matched.

        Columns: id, number, name, nickname, city, status, archived, merged_into (the survivor's id, for a customer
        merged into another), rank (exact, prefix, contains, similar), match (e.g. 'nickname', 'contact: Anna
        Berg') and matched (the text that matched).
        A query of several words finds entries having all of them, in any order. Its lookups read the index as at
        one moment (:meth:`Backend.snapshot`): a customer saved meanwhile is found under its old or its new values.
        """
        columns = ["id", "number", "name", "nickname", "city", "status", "archived", "merged_into", "rank", "match",
                   "matched"]
        limit = counted(limit)
        with self.db.snapshot():
            return self._hit_frame(self._ranked_hits(text, limit, include_archived), limit, include_archived, columns)

    def list_matches(self, text: str, limit: int) -> list[tuple[int, str, str]]:
        """What Search customers adds to its text filter from the super search: the ``limit`` best hits for
        ``text`` as (customer id, rank, match) — ``match`` as :meth:`search` says it — without reading the
        customers themselves (the list reads its own page of them; an archived or removed customer among the hits
        is left out there, by the list's own conditions)."""
        limit = counted(limit)
        with self.db.snapshot():
            ranked = self._ranked_hits(text, limit, True)
        labels: dict[str, str] = {}
        return [(int(customer_id), RANK_NAMES[rank], _reason(source, shown, labels))
                for customer_id, (rank, _start, _priority, source, shown) in ranked[:limit]]

    def list_condition(self, text: str, column: str = "c.id") -> tuple[str, list[Any]]:
        """A condition (SQL, parameters) that ``column`` is a customer the super search finds for ``text`` from the
        start of an indexed value or of its words — every such customer, not a page of the best: a whole value
        starting with the query (a phone or organisation number with or without its dashes, an e-mail, a contact
        person's name), or an entry having a word starting with each query word. What Search customers' text filter
        adds to the names, nicknames and numbers holding the text ('+46 8' is every Stockholm number); the inner
        parts and typo guesses a search ranks below them are not in it. ('FALSE', []) for a text with no words."""
        found = self._from_the_start(text)
        if found is None:
            return "FALSE", []
        conditions, params = found
        skip = "" if self.admin.settings().nicknames_enabled else " AND source <> 'nickname'"
        parts = [f"(SELECT customer_id FROM search_terms WHERE {condition}{skip})" for condition in conditions]
        return f"{column} IN ({' UNION ALL '.join(parts)})", params

    def list_reasons(self, text: str, customer_ids: list[int]) -> dict[int, str]:
        """Why each of these customers is one :meth:`list_condition` finds for ``text``, as :meth:`search` says it
        ('phone', 'contact: Anna Berg'): its best entry starting with the query, or having a word starting with
        each query word. (For a page of Search customers whose reasons the best hits did not give.)"""
        found = self._from_the_start(text)
        if found is None or not customer_ids:
            return {}
        conditions, params = found
        skip = set() if self.admin.settings().nicknames_enabled else {"nickname"}
        ids = [int(i) for i in customer_ids]
        rows = self.db.rows("SELECT customer_id, source, shown FROM search_terms WHERE "
                            + self.db.in_list("customer_id", len(ids), ids=True) + f" AND ({' OR '.join(conditions)})",
                            [*ids, *params])
        best: dict[int, tuple[int, int, str, str]] = {}
        for customer_id, source, shown in rows:
            if source in skip:
                continue
            key = (SOURCES[source][0], len(shown), source, shown)
            if int(customer_id) not in best or key < best[int(customer_id)]:
                best[int(customer_id)] = key
        labels: dict[str, str] = {}
        return {customer_id: _reason(source, shown, labels) for customer_id, (_p, _n, source, shown) in best.items()}

    def _from_the_start(self, text: str) -> tuple[list[str], list[Any]] | None:
        """Conditions on search_terms rows found from the start for ``text`` — a term starting with each whole-term
        query, and an entry having a word starting with every query word — and their parameters (None: no words)."""
        analysed = _analysed(text)
        if analysed is None:
            return None
        terms, words = analysed
        conditions, params = [], []
        for term in terms:
            condition, values = self.db.prefix("term", term)
            conditions.append(f"({condition})")
            params += values
        having = []
        for word in words:
            condition, values = self.db.prefix("word", word)
            having.append(f"entry_id IN (SELECT entry_id FROM search_words WHERE {condition})")
            params += values
        if having:
            conditions.append(f"({' AND '.join(having)})")
        return conditions, params

    def _ranked_hits(self, text: str, limit: int, include_archived: bool
                     ) -> list[tuple[int, tuple[int, int, int, str, str]]]:
        """The customers the search finds for ``text`` (enough for a page of ``limit``), best first, each with its
        best hit (see :meth:`_ranked`)."""
        analysed = _analysed(text)
        if analysed is None:
            return []
        terms, words = analysed
        skip = set() if self.admin.settings().nicknames_enabled else {"nickname"}
        hits: dict[int, tuple[int, int, int, str, str]] = {}

        def consider(customer_id: int, source: str, shown: str, rank: int, at_start: bool = False) -> None:
            """Keep the customer's best hit: by rank, then matching from the start, then by source."""
            if source in skip:
                return
            key = (rank, 0 if at_start else 1, SOURCES[source][0])
            best = hits.get(customer_id)
            if best is None or key < best[:3]:
                hits[customer_id] = (*key, source, shown)

        term_rows, per_word, cut, held = self._prefix_rows(terms, words)
        exact = False
        for _entry_id, term, customer_id, source, shown in term_rows:
            exact = exact or term in terms
            consider(customer_id, source, shown, EXACT if term in terms else PREFIX, at_start=True)
        if include_archived and sum(hit[0] == EXACT for hit in hits.values()) >= limit:
            # A full page of exact hits (e.g. a switchboard number many share): anything the words could add
            # ranks below them, and archived ones stay on the page after the living ones of their rank.
            return self._ranked(hits)
        if cut and len(cut) < len(words):
            self._complete_common_words(words, per_word, cut, held)
        if not exact and len(hits) < limit:
            # a query of one word needs the entries of the page only; of several, every word's, to find entries
            # having them all
            enough = max(3 * limit, 30) if len(words) == 1 else None
            for index, entry_id, rank in self._similar_rows(words, enough, held):
                if rank < per_word[index].get(entry_id, FUZZY + 1):
                    per_word[index][entry_id] = rank
        matched = _all_words(per_word)
        # enough entries for the page even when several are the same customer, and no more: each costs a lookup
        best_first = sorted(matched, key=matched.get)[:min(ENTRY_ROWS, max(3 * limit, 30))]
        # an entry the term lookup returned is considered already (a number's digits are its term and its word)
        known = {row[0] for row in term_rows}
        for entry_id, customer_id, source, shown in self._entries([e for e in best_first if e not in known]):
            consider(customer_id, source, shown, matched[entry_id])
        return self._ranked(hits)

    @staticmethod
    def _ranked(hits: dict[int, tuple[int, int, int, str, str]]) -> list[tuple[int, tuple[int, int, int, str, str]]]:
        """Best first: rank, from the start, source; then the shorter text; ties (the same text) by customer id,
        so both backends, and every index history, give one order."""
        return sorted(hits.items(), key=lambda item: (item[1][:3], len(item[1][4]), item[1][4], item[0]))

    def _prefix_rows(self, terms: list[str], words: list[str]
                     ) -> tuple[list[tuple], list[dict[int, int]], list[int], Pages | None]:
        """Whole terms starting with the query, entries with a word starting with each query word, which query
        words matched more rows than were read (their entries are only a part of those found), and the pages the
        next lookups of the search may name (see :meth:`_checked_rows`)."""
        def query(held: Pages | None) -> tuple[str, list[Any]]:
            parts, params = [], []
            for term in terms:
                condition, values = self.db.prefix("term", term)
                on, pages = self._on_pages(held, "terms", term)
                parts.append("(SELECT -1 AS qi, entry_id, term AS found, customer_id, source, shown FROM "
                             f"search_terms WHERE {on}{condition} LIMIT ?)")
                params += [*pages, *values, CANDIDATES]
            for index, word in enumerate(words):
                condition, values = self.db.prefix("word", word)
                on, pages = self._on_pages(held, "words", word)
                parts.append("(SELECT ? AS qi, entry_id, CAST(NULL AS VARCHAR), CAST(NULL AS INTEGER), "
                             "CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR) FROM search_words "
                             f"WHERE {on}{condition} LIMIT ?)")
                params += [index, *pages, *values, WORD_ROWS]
            return " UNION ALL ".join(parts), params
        rows, held = self._checked_rows(query, self._pages)
        term_rows: list[tuple] = []
        per_word: list[dict[int, int]] = [{} for _ in words]
        read = [0 for _ in words]
        for qi, entry_id, found, customer_id, source, shown in rows:
            if qi < 0:
                term_rows.append((entry_id, found, customer_id, source, shown))
            else:
                per_word[qi][entry_id] = PREFIX
                read[qi] += 1
        return term_rows, per_word, [index for index, count in enumerate(read) if count >= WORD_ROWS], held

    def _checked_rows(self, query: Callable[[Pages | None], tuple[str, list[Any]]],
                      held: Pages | None) -> tuple[list[tuple], Pages | None]:
        """The rows of ``query(pages)`` — the query naming ``held``'s pages — and the pages the next lookups may
        name. On DuckDB the query also reads the pages' stamp, at the same moment as its rows (or, when it finds
        none, just after): when the pages named are not the tables' own (the index was built again since they were
        read here), they are read again and the query made again on them. (PostgreSQL keeps no pages.)"""
        if self.db.dialect != "duckdb":
            sql, params = query(None)
            return self.db.rows(sql, params), None
        while True:
            sql, params = query(held)
            rows = self.db.rows(f"SELECT *, {PAGES_STAMP} AS pages_stamp FROM ({sql}) AS looked_up", params)
            stamp = rows[0][-1] if rows else self.db.row(f"SELECT {PAGES_STAMP}")[0]
            stamp = None if stamp is None else int(stamp)
            named = held is not None and any(held[1].values())
            if held is None or held[0] != stamp:
                fresh = self._read_pages()
                if named:  # looked up on pages the tables no longer have: again, on today's
                    held = fresh
                    continue
                held = fresh  # nothing was named: what was read is whole
            return [row[:-1] for row in rows], held

    def _complete_common_words(self, words: list[str], per_word: list[dict[int, int]], cut: list[int],
                               held: Pages | None = None) -> None:
        """A common query word ('invest', 'konsult') matches more rows than are read, so its entries are only an
        arbitrary part of them, and an entry having every query word could be missing from it. The entries
        having all the other words are few: look up which of them have the common word too."""
        having_the_rest = _all_words([found for index, found in enumerate(per_word) if index not in cut])
        if not having_the_rest or len(having_the_rest) > CHECKED_ENTRIES:
            return
        candidates = sorted(having_the_rest)
        for index in cut:
            def query(pages_held: Pages | None, word: str = words[index]) -> tuple[str, list[Any]]:
                condition, values = self.db.prefix("word", word)
                on, pages = self._on_pages(pages_held, "words", word)
                return (f"SELECT DISTINCT entry_id FROM search_words WHERE {on}{condition} AND "
                        + self.db.any_of("entry_id"), [*pages, *values, candidates])
            rows, held = self._checked_rows(query, held)
            for (entry_id,) in rows:
                per_word[index].setdefault(entry_id, PREFIX)

    def _similar_rows(self, words: list[str], enough: int | None = None,
                      held: Pages | None = None) -> list[tuple[int, int, int]]:
        """(query word index, entry id, rank) for words containing a query word or one typo away from it; with
        ``enough``, about that many (or more), from the words closest to the query. The closest words' entries come
        first (the page takes the first of equally ranked entries)."""
        similar = self._similar_words(words)
        if not similar:
            return []
        ordered = sorted(similar, key=lambda word: (min(rank for _i, rank in similar[word]), len(word), word))
        entries = self._word_entries(ordered, enough, held)
        return [(index, entry_id, rank) for word in ordered for entry_id in entries.get(word, ())
                for index, rank in similar[word]]

    def _similar_words(self, words: list[str]) -> dict[str, list[tuple[int, int]]]:
        """Indexed words containing a query word or one typo away from it: each with (query word index, rank)."""
        parts, params = [], []
        for index, word in enumerate(words):
            if len(word) > MAX_WORD:
                continue  # found from its start only (see _prefix_rows): the index holds nothing more for it
            if len(word) >= (LOCAL_DIGITS if word.isdigit() else 3):
                condition, values = self.db.prefix("suffix", word)
                parts.append(f"(SELECT {index} AS qi, word, {CONTAINS} AS rank FROM search_suffixes "
                             f"WHERE {condition} LIMIT ?)")
                params += [*values, WORD_CANDIDATES]
            if FUZZY_MIN <= len(word) <= MAX_WORD and not word.isdigit():  # as the search: no typos in long words
                variants = sorted({word, *deletions(word)})
                parts.append(f"(SELECT {index} AS qi, word, {FUZZY} AS rank FROM search_fuzzy WHERE "
                             + self.db.in_list("variant", len(variants)) + " LIMIT ?)")
                params += [*variants, WORD_CANDIDATES]
        similar: dict[str, list[tuple[int, int]]] = {}
        if not parts:
            return similar
        for index, found, rank in self.db.rows(" UNION ALL ".join(parts), params):
            if rank == FUZZY and not within_one_edit(words[index], found):
                continue
            similar.setdefault(found, []).append((index, rank))
        return similar

    def _word_entries(self, ordered: list[str], enough: int | None,
                      held: Pages | None = None) -> dict[str, list[int]]:
        """The entries having each of these words (at most WORD_ROWS in all); with ``enough``, the first few words'
        and, only when those were fewer than that, the rest's.

        One lookup per word, not one IN list: search_words is sorted by word, and DuckDB prunes row groups for an IN
        list by its least and greatest value only — thirty words from 'a…' to 's…' made it read the table until the
        LIMIT was reached: 5 ms when the words have many rows, 20–90 ms when they have few (a rare 'contains' query).
        Each equality reads the row group its word is in: about 0.35 ms a word, 11 ms for thirty. (Beyond a query
        word's candidates, as for a query of many words, planning so many lookups costs more.)"""
        entries: dict[str, list[int]] = {}
        read = 0
        for batch in [ordered] if enough is None else [ordered[:WORD_BATCH], ordered[WORD_BATCH:]]:
            if not batch:
                continue
            def query(pages_held: Pages | None, batch: list[str] = batch, wanted: int = WORD_ROWS - read
                      ) -> tuple[str, list[Any]]:
                if len(batch) > WORD_CANDIDATES:
                    return ("SELECT word, entry_id FROM search_words WHERE " + self.db.in_list("word", len(batch))
                            + " LIMIT ?", [*batch, wanted])
                lookups, params = [], []
                for word in batch:  # the pages a word is on: from where it could start to where the next could
                    on, pages = self._on_pages(pages_held, "words", word, word + "\x00")
                    lookups.append(f"(SELECT word, entry_id FROM search_words WHERE {on}word = ?)")
                    params += [*pages, word]
                return f"SELECT word, entry_id FROM ({' UNION ALL '.join(lookups)}) AS found LIMIT ?", [*params, wanted]
            rows, held = self._checked_rows(query, held)
            for found, entry_id in rows:
                entries.setdefault(found, []).append(entry_id)
                read += 1
            if read >= WORD_ROWS or (enough is not None and read >= enough):
                break
        return entries

    def _entries(self, entry_ids: list[int]) -> list[tuple]:
        if not entry_ids:
            return []
        return self.db.rows("SELECT entry_id, customer_id, source, shown FROM search_terms WHERE "
                            + self.db.in_list("entry_id", len(entry_ids), ids=True), [int(i) for i in entry_ids])

    def _hit_frame(self, ranked: list, limit: int, include_archived: bool, columns: list[str]) -> pd.DataFrame:
        # The best `limit` first; only when one of them is archived (it goes after the living ones of its rank,
        # or away) or gone are the next ones needed. Each customer looked up costs a row fetch.
        found = self._hit_records([int(customer_id) for customer_id, _ in ranked[:limit]])
        if len(found) < min(limit, len(ranked)) or any(r["archived"] for r in found.values()):
            found.update(self._hit_records([int(customer_id) for customer_id, _ in ranked[limit: limit * 3]]))
        living, archived = [], []
        labels: dict[str, str] = {}
        for customer_id, (rank, _start, _priority, source, shown) in ranked:
            record = found.get(customer_id)
            if record is None or (record["archived"] and not include_archived):
                continue
            row = {**record, "rank": RANK_NAMES[rank], "match": _reason(source, shown, labels), "matched": shown}
            (archived if record["archived"] else living).append((rank, row))
        # archived and merged-away customers come after the living ones of the same rank
        rows = [row for _, row in sorted(living + archived, key=lambda item: (item[0], item[1]["archived"]))]
        return pd.DataFrame(rows[:limit], columns=columns)

    def _hit_records(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        statuses = self.admin.list_maps()["statuses"]["by_id"]
        return {r["id"]: {**r, "status": statuses.get(r.pop("status_id"))} for r in self.db.records(
            "SELECT id, number, name, nickname, visit_city AS city, status_id, archived, merged_into FROM customers "
            "WHERE "
            + self.db.in_list("id", len(ids), ids=True), ids)}

    # -- duplicates ----------------------------------------------------------------------------------------
    def possible_duplicates(self, name: str = "", org_number: str = "", vat_number: str = "",
                            nickname: str = "", exclude_id: int | None = None, limit: int = 10) -> pd.DataFrame:
        """Customers that may be the same as one being created: same organisation or VAT number, or a
        similar name or nickname. Columns: id, number, name, city, reason."""
        wanted = DuplicateQuery(name=name, org_number=org_number, vat_number=vat_number, nickname=nickname,
                                exclude_id=exclude_id)
        return pd.DataFrame(self.duplicates_of([wanted], limit)[0], columns=["id", "number", "name", "city", "reason"])

    def duplicates_of(self, wanted: list[DuplicateQuery], limit: int = 10) -> list[list[tuple]]:
        """:meth:`possible_duplicates` for many would-be customers at once (an import), in a few queries whatever
        their number: for each, up to ``limit`` (id, number, name, city, reason), by name. (Read as at one moment.)"""
        with self.db.snapshot():
            return self._duplicates_of(wanted, counted(limit))

    def _duplicates_of(self, wanted: list[DuplicateQuery], limit: int) -> list[list[tuple]]:
        if len(wanted) > MAX_DUPLICATE_QUERIES:
            raise ValidationError({"wanted": _("At most {n} would-be customers at a time (an import's rows).").format(
                n=MAX_DUPLICATE_QUERIES)})
        # each text read up to what the index keeps of a value (a 12,000-letter name is not compared whole)
        wanted = [dataclasses.replace(q, **{f: str(getattr(q, f) or "")[:MAX_TERM] for f in DUPLICATE_TEXTS})
                  for q in wanted]
        reasons: list[dict[int, str]] = [{} for _ in wanted]
        self._same_numbers(wanted, reasons)
        self._similar_names(wanted, reasons)
        for found, query in zip(reasons, wanted, strict=True):
            found.pop(query.exclude_id, None)
        rows = self._duplicate_rows(sorted({cid for found in reasons for cid in found}))
        return [sorted(((cid, *rows[cid], reason) for cid, reason in found.items() if cid in rows),
                       key=lambda hit: (str(hit[2]), hit[0]))[:limit] for found in reasons]

    def _same_numbers(self, wanted: list[DuplicateQuery], reasons: list[dict[int, str]]) -> None:
        keys = {(source, digits(getattr(query, source))) for query in wanted for source in NUMBER_SOURCES}
        keys = {(source, key) for source, key in keys if len(key) >= DUPLICATE_NUMBER_DIGITS}
        owners: dict[tuple[str, str], list[int]] = {}
        terms = sorted({key for _source, key in keys})
        for start in range(0, len(terms), LOOKUP_CHUNK):
            for term, source, cid in self.db.rows(
                    "SELECT DISTINCT term, source, customer_id FROM search_terms WHERE contact_id IS NULL AND "
                    "source IN ('org_number', 'vat_number') AND " + self.db.any_of("term"),
                    [terms[start:start + LOOKUP_CHUNK]]):
                owners.setdefault((source, term), []).append(int(cid))
        for query, found in zip(wanted, reasons, strict=True):
            for source, reason in NUMBER_SOURCES.items():
                for cid in owners.get((source, digits(getattr(query, source))), []):
                    found.setdefault(cid, _(reason))

    def _similar_names(self, wanted: list[DuplicateQuery], reasons: list[dict[int, str]]) -> None:
        """Similar names and nicknames (see :func:`_similar`): among the names having the same first word, or one
        a typo away from it, and the names that are the same."""
        cores = [[(text, _name_core(text), own) for text, own in ((q.name, _("similar name")),
                                                                (q.nickname, _("similar to the nickname")))]
                 for q in wanted]
        firsts = {_first_word(core) for pairs in cores for _text, core, _own in pairs
                  if len(core) >= SHORTEST_NAME_CORE}
        firsts.discard("")
        near = self._words_near(firsts)
        entries = self._name_entries(sorted({w for words in near.values() for w in words}),
                                     sorted({fold(text) for pairs in cores for text, core, _own in pairs
                                             if len(core) >= SHORTEST_NAME_CORE}))
        skip = set() if self.admin.settings().nicknames_enabled else {"nickname"}
        for pairs, found in zip(cores, reasons, strict=True):
            for text, core, own in pairs:
                if len(core) < SHORTEST_NAME_CORE:
                    continue
                candidates = {e for word in near.get(_first_word(core), ()) for e in entries.by_word.get(word, ())}
                candidates |= entries.by_term.get(fold(text), set())
                named = text is pairs[0][0]  # the would-be customer's name (else its nickname)
                for entry in sorted(candidates):
                    cid, source, other = entries.info[entry]
                    if source not in skip and _similar(core, other):
                        same = named and source == "name" and core == other  # not "similar": the same name
                        found.setdefault(cid, _("same name") if same else
                                         own if source == "name" else _("similar nickname"))

    def _words_near(self, firsts: set[str]) -> dict[str, set[str]]:
        """Each word with the indexed words one typo away from it (words of FUZZY_MIN letters or more)."""
        near = {word: {word} for word in firsts}
        variants: dict[str, set[str]] = {}
        for word in firsts:
            if FUZZY_MIN <= len(word) <= MAX_WORD and not word.isdigit():  # as the search: no typos in long words
                for variant in {word, *deletions(word)}:
                    variants.setdefault(variant, set()).add(word)
        keys = sorted(variants)
        for start in range(0, len(keys), LOOKUP_CHUNK):
            for variant, found in self.db.rows("SELECT variant, word FROM search_fuzzy WHERE "
                                               + self.db.any_of("variant"), [keys[start:start + LOOKUP_CHUNK]]):
                for word in variants[variant]:
                    if within_one_edit(word, found):
                        near[word].add(found)
        return near

    def _name_entries(self, words: list[str], terms: list[str]) -> _NameEntries:
        """Name and nickname index entries having one of ``words`` (at most DUPLICATE_CANDIDATES a word, shortest
        names first) or being one of ``terms``."""
        entries = _NameEntries()
        per_word = ("SELECT word, entry_id, customer_id, source, shown FROM (SELECT w.word, t.entry_id, t.customer_id, "
                    "t.source, t.shown, row_number() OVER (PARTITION BY w.word ORDER BY length(t.term), t.entry_id) "
                    "AS n FROM search_words w JOIN search_terms t ON t.entry_id = w.entry_id WHERE "
                    "t.source IN ('name', 'nickname') AND t.contact_id IS NULL AND " + self.db.any_of("w.word")
                    + ") AS found WHERE n <= ?")
        for start in range(0, len(words), LOOKUP_CHUNK):
            for word, entry, cid, source, shown in self.db.rows(per_word, [words[start:start + LOOKUP_CHUNK],
                                                                           DUPLICATE_CANDIDATES]):
                entries.add(entry, int(cid), source, shown)
                entries.by_word.setdefault(word, set()).add(entry)
        same = ("SELECT term, entry_id, customer_id, source, shown FROM search_terms WHERE "
                "source IN ('name', 'nickname') AND contact_id IS NULL AND " + self.db.any_of("term"))
        for start in range(0, len(terms), LOOKUP_CHUNK):
            for term, entry, cid, source, shown in self.db.rows(same, [terms[start:start + LOOKUP_CHUNK]]):
                entries.add(entry, int(cid), source, shown)
                entries.by_term.setdefault(term, set()).add(entry)
        return entries

    def _duplicate_rows(self, ids: list[int]) -> dict[int, tuple[Any, Any, Any]]:
        found: dict[int, tuple[Any, Any, Any]] = {}
        for start in range(0, len(ids), LOOKUP_CHUNK):
            for cid, number, name, city in self.db.rows(
                    "SELECT id, number, name, visit_city FROM customers WHERE " + self.db.any_of("id"),
                    [ids[start:start + LOOKUP_CHUNK]]):
                found[int(cid)] = (number, name, city)
        return found


@dataclasses.dataclass
class _NameEntries:
    """Name and nickname index entries: entry → (customer id, source, name core), and how they were found."""

    info: dict[int, tuple[int, str, str]] = dataclasses.field(default_factory=dict)
    by_word: dict[str, set[int]] = dataclasses.field(default_factory=dict)
    by_term: dict[str, set[int]] = dataclasses.field(default_factory=dict)

    def add(self, entry: int, customer_id: int, source: str, shown: str) -> None:
        if entry not in self.info:
            self.info[entry] = (customer_id, source, _name_core(shown))


#: Numbers that make a duplicate, and the reason given.
NUMBER_SOURCES = {"org_number": N_("same organisation number"), "vat_number": N_("same VAT number")}
#: Keys looked up in one query; names read for one first word at most.
LOOKUP_CHUNK = 2_000
DUPLICATE_CANDIDATES = 100
#: An organisation or VAT number makes a duplicate from this many digits on (fewer is a fragment, not a number).
DUPLICATE_NUMBER_DIGITS = 6
#: The texts of a would-be customer that are compared (each up to MAX_TERM characters).
DUPLICATE_TEXTS = ("name", "org_number", "vat_number", "nickname")
#: Names (without their legal form) shorter than this are not compared: they would be similar to too many.
SHORTEST_NAME_CORE = 3


def _first_word(core: str) -> str:
    """The first word of a name as the index splits words."""
    return next((word for word in WORD_BREAKS.split(core) if word), "")


LEGAL_FORMS = {"ab", "hb", "kb", "aps", "a s", "as", "asa", "da", "oy", "oyj", "ky", "ltd", "gmbh", "ag", "plc",
               "inc", "i s", "publ", "ek", "for"}


def _name_core(name: str) -> str:
    """A company name without its legal form, folded ('Acme Konsult AB' → 'acme konsult')."""
    words = fold(name).replace("/", " ").split()
    while words:
        if words[-1] in LEGAL_FORMS:
            words.pop()
        elif len(words) > 2 and " ".join(words[-2:]) in LEGAL_FORMS:  # A/S, I/S: two words once "/" is a space  # noqa: PLR2004
            del words[-2:]
        else:
            break
    return " ".join(words)


def _similar(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b or a.startswith(b + " ") or b.startswith(a + " "):
        return True
    aw, bw = a.split(), b.split()
    return len(aw) == len(bw) and all(within_one_edit(x, y) for x, y in zip(aw, bw, strict=True))


def _reason(source: str, shown: str, labels: dict[str, str]) -> str:
    """Why a hit matched, as the super search says it ('nickname', 'contact: Anna Berg'); ``labels`` keeps each
    source's label translated once per search."""
    label = labels.get(source) or labels.setdefault(source, _(SOURCES[source][1]))
    return f"{label}: {shown}" if source.startswith("contact") else label
