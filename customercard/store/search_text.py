"""How texts become search terms: folding (case, Nordic letters, punctuation), phone number variants, the terms
of a customer or contact person, the words a term is found by, their suffixes and one-typo variants, and the
bounds every search and index update keeps to (see :mod:`customercard.store.search`). Pure functions: what one
save indexes (:mod:`~customercard.store.search`) and what a bulk build indexes column by column
(:mod:`~customercard.store.search_bulk`) both come from here.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from typing import Any

import pandas as pd
import phonenumbers

from .. import validators
from ..i18n import N_

_TRANSLITERATE = str.maketrans({"å": "a", "ä": "a", "ö": "o", "æ": "ae", "ø": "o", "ü": "u", "ß": "ss",
                                "é": "e", "è": "e", "á": "a", "à": "a", "ó": "o", "ð": "d", "þ": "th"})
EXACT, PREFIX, CONTAINS, FUZZY = 0, 1, 2, 3
RANK_NAMES = {EXACT: "exact", PREFIX: "prefix", CONTAINS: "contains", FUZZY: "similar"}
#: Sources by priority (lower first among equal ranks) and how a hit explains itself.
SOURCES = {
    "number": (0, N_("customer number")), "name": (1, N_("name")), "nickname": (2, N_("nickname")),
    "org_number": (3, N_("organisation number")), "vat_number": (4, N_("VAT number")), "phone": (5, N_("phone")),
    "email": (6, N_("e-mail")), "contact": (7, N_("contact")), "contact_email": (8, N_("contact e-mail")),
    "contact_phone": (9, N_("contact phone")),
}
WORD_SOURCES = ("name", "nickname", "contact", "email", "contact_email")
FUZZY_MIN = 5
#: A query is read up to this many characters, and up to this many of its words; the rest is ignored.
MAX_QUERY = 200
MAX_QUERY_WORDS = 8
#: A query having this many digits or more, half of it or more, is looked up as a number too.
NUMBER_QUERY_DIGITS = 3
#: Words longer than this are looked up (and indexed) whole or from their start only: no suffixes, no typos.
MAX_WORD = 40
#: An indexed value's searched text (folded, digits) is kept up to this many characters, its shown text up to
#: MAX_SHOWN (with an ellipsis).
MAX_TERM = 200
MAX_SHOWN = 200
SEARCH_TABLES = ("search_terms", "search_words", "search_vocab", "search_suffixes", "search_fuzzy")
CANDIDATES = 400
#: Rows of a page of the sorted search tables (see schema 20): DuckDB's vector, the rows it filters at once.
PAGE_ROWS = 2048
#: More index rows than this are written as a frame (DuckDB reads it in one go), fewer as an INSERT.
BULK_ROWS = 200
WORD_CANDIDATES = 30
WORD_ROWS = 600
#: A one-word query's similar words are looked up this many at a time, until their entries fill a page.
WORD_BATCH = 6
#: At most this many entries (having a query's other words) are checked for a common word (see search).
CHECKED_ENTRIES = 5000
ENTRY_ROWS = 150
#: The columns a search reads, by table: what :meth:`SearchStore.hold_search_in_memory` keeps in memory.
SEARCH_READS = {"search_terms": ("term", "entry_id", "customer_id", "source", "shown", "page"),
                "search_words": ("word", "entry_id", "page"), "search_suffixes": ("suffix", "word"),
                "search_fuzzy": ("variant", "word"),
                "customers": ("id", "number", "name", "nickname", "visit_city", "status_id", "archived")}


COMBINING = "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
#: Characters that show nothing inside a word (the model's invisible ones — zero-width space and joiners, soft
#: hyphen, word joiner, byte order mark, fillers — bidirectional controls and marks, variation selectors): left
#: out, not taken for a space — "Her\u200bmansen" is the word hermansen, which the super search and the
#: duplicate check find.
INVISIBLE = validators.UNSEEN
NOT_KEPT = r"[^0-9a-z@._+-]+"


def _text(value: object) -> str:
    """A value as text; None and NaN (a missing value from a DataFrame) as ''."""
    return "" if value is None or value != value else str(value)  # noqa: PLR0124 - NaN is unequal to itself


def fold(text: object) -> str:
    """Lower case, Nordic letters without marks (ä→a, ø→o, æ→ae …), punctuation as spaces, single spaces.
    (:func:`fold_series` does the same to a whole column; the two must stay identical.)"""
    value = unicodedata.normalize("NFKD", _text(text).lower().translate(_TRANSLITERATE))
    value = re.sub(NOT_KEPT, " ", re.sub(COMBINING, "", re.sub(INVISIBLE, "", value)))
    return re.sub(" +", " ", value).strip()


def fold_series(values: pd.Series) -> pd.Series:
    """:func:`fold` for a whole column at once (bulk index builds)."""
    text = values.fillna("").astype(str).str.lower().str.translate(_TRANSLITERATE).str.normalize("NFKD")
    text = text.str.replace(INVISIBLE, "", regex=True).str.replace(COMBINING, "", regex=True)
    text = text.str.replace(NOT_KEPT, " ", regex=True)
    return text.str.replace(" +", " ", regex=True).str.strip()


def digits(text: object) -> str:
    return re.sub(r"\D", "", _text(text))


@functools.lru_cache(maxsize=512)
def _trunk_prefix(country_code: int) -> str:
    """The national (trunk) prefix of a country calling code, e.g. '0' for Sweden, '' for Norway."""
    region = phonenumbers.region_code_for_country_code(country_code)
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    return (metadata.national_prefix or "") if metadata else ""


#: Marks the local form of a phone number whose country dials no trunk prefix (Denmark, Norway: '33 88 25 58' has
#: no area code to leave out): a form found by its endings only ('contains': the last five or more digits, as a
#: national number with its 0 is). No query holds the mark (folding makes it a space), so it is never found whole or
#: from its start: the number's own digits are.
LOCAL_MARK = "~"


def local_form(code: int | str, rest: str) -> str:
    """The marked local form of a number (its country code and national digits), or '' when its country has a trunk
    prefix (its national form, 0…, has the endings) or it is too short to have endings."""
    if len(rest) <= LOCAL_DIGITS or _trunk_prefix(int(code)):
        return ""
    return LOCAL_MARK + rest


def phone_variants(number: str, region: str = "SE") -> list[str]:
    """The digits of a phone number as people type them: international (46812…) and national (0812…); in a country
    without a trunk prefix also its :func:`local_form`."""
    plain = digits(number)
    if not plain:
        return []
    match = re.match(r"\s*\+(\d{1,3})[\s-]", number)
    if match:  # already formatted internationally ('+46 8 …'): no parsing needed
        code, rest = int(match.group(1)), digits(number[match.end():])
    else:
        try:
            parsed = phonenumbers.parse(number, region)
        except phonenumbers.NumberParseException:
            return [plain]
        code, rest = parsed.country_code, str(parsed.national_number)
    return sorted({plain, f"{code}{rest}", _trunk_prefix(code) + rest} | ({local} if (local := local_form(code, rest))
                                                                           else set()))


def customer_terms(values: dict[str, Any], region: str = "SE") -> list[tuple[str, str, str]]:
    """(source, folded term, shown text) for one customer's searchable fields."""
    number = _text(values.get("number"))
    terms = [("number", number, number)]
    for source in ("name", "nickname", "email"):
        text = _text(values.get(source))
        terms.append((source, fold(text), text))
    for source in ("org_number", "vat_number"):
        text = _text(values.get(source))
        terms.append((source, digits(text), text))
    phone = _text(values.get("phone"))
    terms += [("phone", variant, phone) for variant in phone_variants(phone, region)]
    return bounded_terms(terms)


def contact_terms(contact: dict[str, Any], region: str = "SE") -> list[tuple[str, str, str]]:
    name = " ".join(p for p in (_text(contact.get("first_name")), _text(contact.get("last_name"))) if p)
    email = _text(contact.get("email"))
    terms = [("contact", fold(name), name), ("contact_email", fold(email), email)]
    for field in ("phone", "mobile"):
        number = _text(contact.get(field))
        terms += [("contact_phone", variant, f"{name}, {number}") for variant in phone_variants(number, region)]
    return bounded_terms(terms)


def bounded_term(term: str) -> str:
    """A searched text as the index keeps it: at most MAX_TERM characters (a btree key has a size limit, too)."""
    return term[:MAX_TERM].rstrip()


def bounded_shown(shown: str) -> str:
    """A shown text as the index keeps it: at most MAX_SHOWN characters, cut with an ellipsis."""
    return shown if len(shown) <= MAX_SHOWN else shown[:MAX_SHOWN - 1] + "…"


def bounded_terms(terms: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Terms with their texts bounded (see :func:`bounded_term`), empty ones left out, each once."""
    kept = ((source, bounded_term(term), bounded_shown(shown)) for source, term, shown in terms)
    return list(dict.fromkeys(t for t in kept if t[1]))


#: A trunk prefix written in brackets after the country code, as e-mail signatures do: '+46 (0)40 82 79 77'.
BRACKETED_TRUNK = re.compile(r"^(\s*(?:\+|00)\s*\d{1,3})\s*\(\s*0\s*\)")


def bounded_query(text: object) -> tuple[str, str]:
    """A typed query as the search reads it, folded, and its digits: at most MAX_QUERY characters of each. The
    bracketed trunk zero of '+46 (0)40 …' is not dialled from abroad: left out of the digits."""
    head = _text(text)[:MAX_QUERY]
    return fold(head)[:MAX_QUERY].rstrip(), digits(BRACKETED_TRUNK.sub(r"\1", head))


#: What parts a name-like term (and a query) into words: spaces and the marks a folded text keeps between words.
WORD_BREAKS = re.compile(r"[ @._+-]+")


def words_of(source: str, term: str) -> list[str]:
    """The words a term is found by: name-like terms split into words, numbers as one word."""
    if source not in WORD_SOURCES:
        return [term]
    return sorted({w for w in WORD_BREAKS.split(term) if w})


def query_words(query: str) -> list[str]:
    """A folded query's words as the index has them ('lund-berg' and 'jonssonmedia.se' are two words each), in
    order, each once: of its first MAX_QUERY_WORDS (the rest are ignored)."""
    return list(dict.fromkeys([w for w in WORD_BREAKS.split(query) if w][:MAX_QUERY_WORDS]))


#: A national phone number's endings of this many digits or more find it: its local number without the area code.
LOCAL_DIGITS = 5


def is_number_word(word: str) -> bool:
    """Digits, or a phone number's marked :func:`local_form`: no typo variants, endings only as phone numbers."""
    return word.isdigit() or word.startswith(LOCAL_MARK)


def suffixes(word: str) -> list[str]:
    """The proper suffixes of a word that 'contains' looks up: three or more characters long. A number has them
    only as a national phone number (its leading 0, or its :func:`local_form` where the country has no trunk
    prefix), and only its endings of LOCAL_DIGITS or more digits: the local number, typed without its area code.
    Other numbers are found whole or from their start, so that their inner parts do not fill the table (every phone
    number is indexed in up to four forms)."""
    if is_number_word(word):
        phone = word.startswith(("0", LOCAL_MARK))
        return [word[i:] for i in range(1, len(word) - LOCAL_DIGITS + 1)] if phone else []
    return [word[i:] for i in range(1, len(word) - 2)]


def in_vocabulary(word: str) -> bool:
    """Whether the word goes into search_vocab (for 'contains' and typos): words with a letter, and numbers with
    endings to look up (see :func:`suffixes`); none longer than MAX_WORD (their suffixes and variants would grow
    with the square of their length)."""
    return len(word) <= MAX_WORD and (not is_number_word(word) or bool(suffixes(word)))


def deletions(word: str) -> set[str]:
    """The word with one character left out, each way (for one typo, matched from both sides)."""
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def within_one_edit(a: str, b: str) -> bool:
    """Whether ``a`` becomes ``b`` by one insertion, deletion, substitution or swap of neighbours."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        match [i for i in range(la) if a[i] != b[i]]:
            case [_]:  # a substitution
                return True
            case [i, j]:  # a swap of neighbours
                return j == i + 1 and a[i] == b[j] and a[j] == b[i]
            case _:
                return False
    if la > lb:
        a, b = b, a
    return any(a == b[:i] + b[i + 1:] for i in range(len(b)))


@dataclasses.dataclass(frozen=True)
class DuplicateQuery:
    """What is known of a would-be customer when its possible duplicates are looked for."""

    name: str = ""
    org_number: str = ""
    vat_number: str = ""
    nickname: str = ""
    exclude_id: int | None = None
