"""The super search: a folded index of names, nicknames, numbers, organisation and VAT numbers, phone numbers,
e-mails and contact persons, kept up to date in the same transaction as every write.

Matching is tolerant of case, of Nordic letters typed without their marks (å ä ö æ ø typed as a a o ae o),
of phone formatting (digits are compared) and of one typo in a word of five letters or more. Hits are
ranked exact → prefix → contains → fuzzy, and each says why it matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import pandas as pd
import phonenumbers

from ..i18n import _

_TRANSLITERATE = str.maketrans({"å": "a", "ä": "a", "ö": "o", "æ": "ae", "ø": "o", "ü": "u", "ß": "ss",
                                "é": "e", "è": "e", "á": "a", "à": "a", "ó": "o", "ð": "d", "þ": "th"})
EXACT, PREFIX, CONTAINS, FUZZY = 0, 1, 2, 3
RANK_NAMES = {EXACT: "exact", PREFIX: "prefix", CONTAINS: "contains", FUZZY: "similar"}
#: Sources by priority (lower first among equal ranks) and how a hit explains itself.
SOURCES = {
    "number": (0, _("customer number")), "name": (1, _("name")), "nickname": (2, _("nickname")),
    "org_number": (3, _("organisation number")), "vat_number": (4, _("VAT number")), "phone": (5, _("phone")),
    "email": (6, _("e-mail")), "contact": (7, _("contact")), "contact_email": (8, _("contact e-mail")),
    "contact_phone": (9, _("contact phone")),
}
DIGIT_SOURCES = ("number", "org_number", "vat_number", "phone", "contact_phone")
WORD_SOURCES = ("name", "nickname", "contact", "email", "contact_email")
FUZZY_MIN = 5
CANDIDATES = 400


def fold(text: object) -> str:
    """Lower case, Nordic letters without marks (ä→a, ø→o, æ→ae …), punctuation as spaces, single spaces."""
    value = str(text or "").lower().translate(_TRANSLITERATE)
    value = "".join(ch for ch in unicodedata.normalize("NFKD", value) if not unicodedata.combining(ch))
    value = re.sub(r"[^0-9a-z@._+-]+", " ", value)
    return " ".join(value.split())


def digits(text: object) -> str:
    return re.sub(r"\D", "", str(text or ""))


def phone_variants(number: str, region: str = "SE") -> list[str]:
    """The digits of a phone number as people type them: international (46812…) and national (0812…)."""
    found = {digits(number)} if digits(number) else set()
    try:
        parsed = phonenumbers.parse(number, region)
        found.add(digits(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)))
        found.add(f"{parsed.country_code}{parsed.national_number}")
    except phonenumbers.NumberParseException:
        pass
    return sorted(v for v in found if v)


def customer_terms(values: dict[str, Any], region: str = "SE") -> list[tuple[str, str, str]]:
    """(source, folded term, shown text) for one customer's searchable fields."""
    terms = [("number", str(values.get("number") or ""), str(values.get("number") or ""))]
    for source in ("name", "nickname", "email"):
        text = values.get(source) or ""
        terms.append((source, fold(text), text))
    for source in ("org_number", "vat_number"):
        text = values.get(source) or ""
        terms.append((source, fold(text).replace(" ", "").replace("-", ""), text))
        if digits(text) and source == "vat_number":
            terms.append((source, digits(text), text))
    phone = values.get("phone") or ""
    terms += [("phone", variant, phone) for variant in phone_variants(phone, region)]
    return [(s, t, shown) for s, t, shown in terms if t]


def contact_terms(contact: dict[str, Any], region: str = "SE") -> list[tuple[str, str, str]]:
    name = " ".join(p for p in (contact.get("first_name"), contact.get("last_name")) if p)
    terms = [("contact", fold(name), name), ("contact_email", fold(contact.get("email")), contact.get("email") or "")]
    for field in ("phone", "mobile"):
        number = contact.get(field) or ""
        terms += [("contact_phone", variant, f"{name}, {number}") for variant in phone_variants(number, region)]
    return [(s, t, shown) for s, t, shown in terms if t]


def words_of(source: str, term: str) -> list[str]:
    if source not in WORD_SOURCES:
        return []
    return sorted({w for w in re.split(r"[ @._+-]+", term) if len(w) >= 2})


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or swap of neighbours."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1
                                  and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if la > lb:
        a, b = b, a
    for i in range(len(b)):
        if a == b[:i] + b[i + 1:]:
            return True
    return False


class SearchStore:
    """Mixin of :class:`customercard.store.Store`: the super search and the duplicate check."""

    db: Any

    # -- keeping the index ----------------------------------------------------------------------------------
    def _index_rows(self, customer_id: int, contact_id: int | None, terms: Iterable[tuple[str, str, str]]
                    ) -> tuple[list[list[Any]], list[list[Any]]]:
        term_rows, word_rows = [], []
        for source, term, shown in terms:
            term_rows.append([customer_id, contact_id, source, term, shown])
            word_rows += [[word, customer_id, contact_id, source, shown] for word in words_of(source, term)]
        return term_rows, word_rows

    def _write_index(self, cur: Any, term_rows: list[list[Any]], word_rows: list[list[Any]]) -> None:
        if term_rows:
            cur.executemany("INSERT INTO search_terms (customer_id, contact_id, source, term, shown) "
                            "VALUES (?, ?, ?, ?, ?)", term_rows)
        if word_rows:
            cur.executemany("INSERT INTO search_words (word, customer_id, contact_id, source, shown) "
                            "VALUES (?, ?, ?, ?, ?)", word_rows)

    def _index_customer(self, cur: Any, customer_id: int, values: dict[str, Any]) -> None:
        """Replace the customer's own entries (not its contacts') in the index, inside a write."""
        cur.execute("DELETE FROM search_terms WHERE customer_id = ? AND contact_id IS NULL", [customer_id])
        cur.execute("DELETE FROM search_words WHERE customer_id = ? AND contact_id IS NULL", [customer_id])
        region = self.settings().phone_region
        self._write_index(cur, *self._index_rows(customer_id, None, customer_terms(values, region)))

    def _index_contact(self, cur: Any, contact: dict[str, Any]) -> None:
        """Replace one contact person's entries in the index, inside a write."""
        cur.execute("DELETE FROM search_terms WHERE contact_id = ?", [contact["id"]])
        cur.execute("DELETE FROM search_words WHERE contact_id = ?", [contact["id"]])
        region = self.settings().phone_region
        self._write_index(cur, *self._index_rows(contact["customer_id"], contact["id"],
                                                 contact_terms(contact, region)))

    def rebuild_search_index(self) -> int:
        """Build the whole index again from the customers and contacts (bulk loads, upgrades)."""
        region = self.settings().phone_region
        customers = self.db.records("SELECT id, number, name, nickname, email, org_number, vat_number, phone "
                                    "FROM customers")
        contacts = self.db.records("SELECT id, customer_id, first_name, last_name, email, phone, mobile "
                                   "FROM contacts")
        term_rows: list[list[Any]] = []
        word_rows: list[list[Any]] = []
        for c in customers:
            t, w = self._index_rows(c["id"], None, customer_terms(c, region))
            term_rows += t
            word_rows += w
        for k in contacts:
            t, w = self._index_rows(k["customer_id"], k["id"], contact_terms(k, region))
            term_rows += t
            word_rows += w
        terms = pd.DataFrame(term_rows, columns=["customer_id", "contact_id", "source", "term", "shown"])
        words = pd.DataFrame(word_rows, columns=["word", "customer_id", "contact_id", "source", "shown"])
        for frame in (terms, words):
            frame["contact_id"] = frame["contact_id"].astype("Int64")
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM search_terms")
            cur.execute("DELETE FROM search_words")
            self.db.insert_df("search_terms", terms.sort_values("term", kind="stable"))
            self.db.insert_df("search_words", words.sort_values("word", kind="stable"))
        return len(terms)

    # -- searching ------------------------------------------------------------------------------------------
    def search(self, text: str, limit: int = 20, include_archived: bool = True) -> pd.DataFrame:
        """The super search: customers matching ``text``, best first, each with why it matched.

        Columns: id, number, name, nickname, city, status, archived, rank (exact, prefix, contains,
        similar), match (e.g. 'nickname', 'contact: Anna Berg') and matched (the text that matched).
        """
        query = fold(text)
        number = digits(text)
        columns = ["id", "number", "name", "nickname", "city", "status", "archived", "rank", "match", "matched"]
        if not query:
            return pd.DataFrame(columns=columns)
        nicknames = self.settings().nicknames_enabled
        hits: dict[int, tuple[int, int, str, str]] = {}

        def consider(rows: Iterable[tuple]) -> None:
            for customer_id, source, shown, rank in rows:
                if source == "nickname" and not nicknames:
                    continue
                key = (rank, SOURCES[source][0])
                best = hits.get(customer_id)
                if best is None or key < best[:2]:
                    hits[customer_id] = (rank, SOURCES[source][0], source, shown)

        consider(self._term_hits(query, number))
        words = query.split()
        if len(hits) < limit and any(len(w) >= FUZZY_MIN for w in words) or len(words) > 1:
            consider(self._word_hits(words))
        if not hits:
            return pd.DataFrame(columns=columns)
        ranked = sorted(hits.items(), key=lambda item: item[1][:2])
        return self._hit_frame(ranked, limit, include_archived, columns)

    def _term_hits(self, query: str, number: str) -> list[tuple]:
        """Exact, prefix and contains matches on whole terms (short queries: exact and prefix only)."""
        conditions = ["starts_with(term, ?)", "strpos(term, ?) > 0"]
        params: list[Any] = [query, " " + query]
        if len(query) >= 3:
            conditions.append("strpos(term, ?) > 0")
            params.append(query)
        digit_sql = ""
        digit_params: list[Any] = []
        if len(number) >= 3 and len(number) * 2 >= len(re.sub(r"\s", "", query)):
            digit_sql = (" UNION ALL SELECT customer_id, source, shown, CASE WHEN term = ? THEN 0 "
                         "WHEN starts_with(term, ?) THEN 1 ELSE 2 END AS rank FROM search_terms "
                         "WHERE source IN ('number', 'org_number', 'vat_number', 'phone', 'contact_phone') "
                         "AND strpos(term, ?) > 0")
            digit_params = [number, number, number]
        sql = ("SELECT customer_id, source, shown, CASE WHEN term = ? THEN 0 WHEN starts_with(term, ?) THEN 1 "
               "WHEN strpos(term, ?) > 0 THEN 1 ELSE 2 END AS rank FROM search_terms WHERE "
               + " OR ".join(conditions) + digit_sql + " ORDER BY rank LIMIT ?")
        return self.db.rows(sql, [query, query, " " + query, *params, *digit_params, CANDIDATES])

    def _word_hits(self, words: list[str]) -> list[tuple]:
        """Every query word matched by a word of the same entry: exactly, as a prefix, or with one typo."""
        wanted: list[tuple[int, str, int]] = []  # (query word index, index word, rank)
        for index, word in enumerate(words):
            if len(word) >= 2:
                wanted.append((index, word, PREFIX))
            if len(word) >= FUZZY_MIN:
                candidates = self.db.rows(
                    "SELECT DISTINCT word FROM search_words WHERE length(word) BETWEEN ? AND ? "
                    "AND (starts_with(word, ?) OR starts_with(word, ?) OR strpos(word, ?) > 0)",
                    [len(word) - 1, len(word) + 1, word[:1], word[1:2], word[-2:]])
                wanted += [(index, w, FUZZY) for (w,) in candidates if w != word and within_one_edit(word, w)]
        if not wanted:
            return []
        needed = len({index for index, _, _ in wanted})
        prefix = [(i, w) for i, w, r in wanted if r == PREFIX]
        exact = [(i, w) for i, w, r in wanted if r == FUZZY]
        clauses, params = [], []
        for index, word in prefix:
            clauses.append("SELECT ? AS qi, customer_id, contact_id, source, shown, 1 AS rank FROM search_words "
                           "WHERE starts_with(word, ?)")
            params += [index, word]
        for index, word in exact:
            clauses.append("SELECT ? AS qi, customer_id, contact_id, source, shown, 3 AS rank FROM search_words "
                           "WHERE word = ?")
            params += [index, word]
        sql = ("SELECT customer_id, source, min(shown), max(rank) FROM (" + " UNION ALL ".join(clauses) + ") m "
               "GROUP BY customer_id, contact_id, source HAVING count(DISTINCT qi) = ? LIMIT ?")
        return self.db.rows(sql, [*params, needed, CANDIDATES])

    def _hit_frame(self, ranked: list, limit: int, include_archived: bool, columns: list[str]) -> pd.DataFrame:
        ids = [customer_id for customer_id, _ in ranked]
        found = {r["id"]: r for r in self.db.records(
            "SELECT c.id, c.number, c.name, c.nickname, c.visit_city AS city, s.label AS status, c.archived "
            "FROM customers c LEFT JOIN list_values s ON s.id = c.status_id WHERE " + self.db.any_of("c.id"), [ids])}
        rows = []
        for customer_id, (rank, _priority, source, shown) in ranked:
            record = found.get(customer_id)
            if record is None or (record["archived"] and not include_archived):
                continue
            label = SOURCES[source][1]
            match = f"{label}: {shown}" if source.startswith("contact") else label
            rows.append({**record, "rank": RANK_NAMES[rank], "match": match, "matched": shown})
            if len(rows) >= limit:
                break
        frame = pd.DataFrame(rows, columns=columns)
        # archived and merged-away customers after the living ones with the same rank
        order = {name: i for i, name in enumerate(RANK_NAMES.values())}
        frame["_order"] = frame["rank"].map(order) * 2 + frame["archived"].astype(int)
        return frame.sort_values("_order", kind="stable").drop(columns="_order").reset_index(drop=True)

    # -- duplicates ----------------------------------------------------------------------------------------
    def possible_duplicates(self, name: str = "", org_number: str = "", vat_number: str = "",
                            nickname: str = "", exclude_id: int | None = None, limit: int = 10) -> pd.DataFrame:
        """Customers that may be the same as one being created: same organisation or VAT number, or a
        similar name or nickname. Columns: id, number, name, city, reason."""
        reasons: dict[int, str] = {}
        org, vat = digits(org_number), fold(vat_number).replace(" ", "")
        if len(org) >= 6:
            for (cid,) in self.db.rows("SELECT DISTINCT customer_id FROM search_terms WHERE source = 'org_number' "
                                       "AND replace(term, '-', '') = ?", [org]):
                reasons.setdefault(cid, _("same organisation number"))
        if len(vat) >= 6:
            for (cid,) in self.db.rows("SELECT DISTINCT customer_id FROM search_terms WHERE source = 'vat_number' "
                                       "AND term = ?", [vat]):
                reasons.setdefault(cid, _("same VAT number"))
        for label, text in ((_("similar name"), name), (_("similar to its nickname"), nickname)):
            core = _name_core(text)
            if len(core) < 3:
                continue
            for hit in self.search(core, limit=limit * 3).itertuples():
                if hit.rank in ("exact", "prefix", "similar") and hit.match in ("name", "nickname") \
                        and _similar(core, _name_core(hit.matched)):
                    reasons.setdefault(int(hit.id), label if hit.match == "name" else _("similar nickname"))
        reasons.pop(exclude_id, None)
        if not reasons:
            return pd.DataFrame(columns=["id", "number", "name", "city", "reason"])
        frame = self.db.df("SELECT id, number, name, visit_city AS city FROM customers WHERE "
                           + self.db.any_of("id") + " ORDER BY name", [list(reasons)])
        frame["reason"] = frame["id"].map(reasons)
        return frame.head(limit)


LEGAL_FORMS = {"ab", "hb", "kb", "aps", "a s", "as", "asa", "da", "oy", "oyj", "ky", "ltd", "gmbh", "ag", "plc",
               "inc", "i s", "publ", "ek", "for"}


def _name_core(name: str) -> str:
    """A company name without its legal form, folded ('Acme Konsult AB' → 'acme konsult')."""
    words = fold(name).replace("/", " ").split()
    while words and words[-1] in LEGAL_FORMS:
        words.pop()
    return " ".join(words)


def _similar(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a == b or a.startswith(b + " ") or b.startswith(a + " "):
        return True
    aw, bw = a.split(), b.split()
    return len(aw) == len(bw) and all(within_one_edit(x, y) for x, y in zip(aw, bw, strict=True))
