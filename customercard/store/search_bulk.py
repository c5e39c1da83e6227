"""Building the whole search index at once, column by column (bulk loads: demo data, upgrades, copies).

It makes exactly the entries :mod:`customercard.store.search` makes one customer or contact at a time, only
with pandas string operations over whole columns instead of a Python loop per row.
"""

from __future__ import annotations

import pandas as pd

from .search_text import (
    FUZZY_MIN,
    LOCAL_DIGITS,
    LOCAL_MARK,
    MAX_SHOWN,
    MAX_TERM,
    WORD_SOURCES,
    _trunk_prefix,
    bounded_shown,
    bounded_term,
    fold_series,
    phone_variants,
)

TERM_COLUMNS = ["customer_id", "contact_id", "source", "term", "shown"]


def _digits(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.replace(r"\D", "", regex=True)


def _terms(customer_ids: pd.Series, contact_ids: pd.Series | None, source: str, terms: pd.Series,
           shown: pd.Series) -> pd.DataFrame:
    shown = shown.fillna("").astype(str)
    shown = shown.where(shown.str.len() <= MAX_SHOWN, shown.str[:MAX_SHOWN - 1] + "…")  # as bounded_shown
    frame = pd.DataFrame({"customer_id": customer_ids.to_numpy(), "source": source,
                          "term": terms.str[:MAX_TERM].str.rstrip().to_numpy(), "shown": shown.to_numpy()})
    frame.insert(1, "contact_id", pd.array([None] * len(frame), dtype="Int64") if contact_ids is None
                 else pd.array(contact_ids.to_numpy(), dtype="Int64"))
    return frame[frame["term"] != ""]


def _phones(customer_ids: pd.Series, contact_ids: pd.Series | None, source: str, numbers: pd.Series,
            shown: pd.Series, region: str) -> pd.DataFrame:
    """The digit variants of every phone number (see :func:`phone_variants`), one row per variant."""
    numbers = numbers.fillna("").astype(str)
    parts = numbers.str.extract(r"^\s*\+(\d{1,3})[\s-](.*)$")
    formatted = parts[0].notna()
    plain = _digits(numbers)
    code, rest = parts[0].fillna(""), _digits(parts[1])
    trunk = code.map(lambda c: _trunk_prefix(int(c)) if c else "")
    # the marked local form (see local_form) from the trunk prefixes just read, not looked up again per number
    local = (LOCAL_MARK + rest).where((code != "") & (trunk == "") & (rest.str.len() > LOCAL_DIGITS), "")
    frames = [_terms(customer_ids[formatted], None if contact_ids is None else contact_ids[formatted], source,
                     variant[formatted], shown[formatted])
              for variant in (plain, code + rest, trunk + rest, local)]
    others = numbers[~formatted & (plain != "")]
    if len(others):  # typed some other way: parse those few one by one
        rows = [(customer_ids.loc[i], None if contact_ids is None else contact_ids.loc[i], source,
                 bounded_term(v), bounded_shown(shown.loc[i]))
                for i in others.index for v in phone_variants(others.loc[i], region)]
        frames.append(pd.DataFrame(rows, columns=TERM_COLUMNS).astype({"contact_id": "Int64"}))
    return pd.concat(frames, ignore_index=True).drop_duplicates(["customer_id", "contact_id", "source", "term",
                                                                  "shown"])


def index_frames(customers: pd.DataFrame, contacts: pd.DataFrame, region: str) -> list[pd.DataFrame]:
    """Every search entry of these customers and contacts: customer_id, contact_id, source, term, shown."""
    c, k = customers, contacts
    frames = [_terms(c["id"], None, "number", c["number"].astype(str), c["number"].astype(str))]
    frames += [_terms(c["id"], None, source, fold_series(c[source]), c[source])
               for source in ("name", "nickname", "email")]
    frames += [_terms(c["id"], None, source, _digits(c[source]), c[source]) for source in ("org_number", "vat_number")]
    frames.append(_phones(c["id"], None, "phone", c["phone"], c["phone"].fillna(""), region))
    if len(k):
        names = (k["first_name"].fillna("") + " " + k["last_name"].fillna("")).str.strip()
        frames.append(_terms(k["customer_id"], k["id"], "contact", fold_series(names), names))
        frames.append(_terms(k["customer_id"], k["id"], "contact_email", fold_series(k["email"]), k["email"]))
        for field in ("phone", "mobile"):
            numbers = k[field].fillna("")
            frames.append(_phones(k["customer_id"], k["id"], "contact_phone", numbers, names + ", " + numbers,
                                  region))
    return frames


def word_frame(terms: pd.DataFrame) -> pd.DataFrame:
    """entry_id, word for every entry (name-like terms split into words, numbers as one word)."""
    split = terms["source"].isin(WORD_SOURCES)
    words = (terms.loc[split, ["entry_id", "term"]].assign(word=lambda f: f["term"].str.split(r"[ @._+-]+"))
             .explode("word")[["word", "entry_id"]])
    words = words[words["word"].notna() & (words["word"] != "")].drop_duplicates()
    whole = terms.loc[~split, ["term", "entry_id"]].rename(columns={"term": "word"})
    return pd.concat([words, whole], ignore_index=True)


def _number_words(vocab: pd.Series) -> pd.Series:
    """:func:`~customercard.store.search_text.is_number_word` of every word."""
    return vocab.str.isdigit() | vocab.str.startswith(LOCAL_MARK)


def suffix_frame(vocab: pd.Series) -> pd.DataFrame:
    """suffix, word: what :func:`~customercard.store.search.suffixes` gives for every word of the vocabulary —
    every proper suffix of three or more characters of a word, of LOCAL_DIGITS or more of a number."""
    lengths = vocab.str.len()
    shortest = _number_words(vocab).map({True: LOCAL_DIGITS, False: 3})
    parts = [pd.DataFrame({"suffix": vocab[lengths - i >= shortest].str[i:], "word": vocab[lengths - i >= shortest]})
             for i in range(1, (int(lengths.max()) if len(vocab) else 0) - 2)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["suffix", "word"])


def fuzzy_frame(vocab: pd.Series) -> pd.DataFrame:
    """variant, word: each word and each way of leaving one character out (words of four or more letters)."""
    eligible = vocab[(vocab.str.len() >= FUZZY_MIN - 1) & ~_number_words(vocab)]
    lengths = eligible.str.len()
    parts = [pd.DataFrame({"variant": eligible, "word": eligible})]
    for i in range(int(lengths.max()) if len(eligible) else 0):
        part = eligible[lengths > i]
        parts.append(pd.DataFrame({"variant": part.str[:i] + part.str[i + 1:], "word": part}))
    return pd.concat(parts, ignore_index=True).drop_duplicates()
