"""Moving a firm's data across: every table from one store to another (DuckDB file ⇄ PostgreSQL), in one
transaction on the target, verified by row counts and invoiced amounts per year on both sides.

Texts written by an older version may hold control characters that no text may hold now — NUL above all,
which PostgreSQL cannot store at all. They are cleaned on the way (tabs and line breaks kept, line ends as
``\n``, every other control character dropped: :func:`customercard.validators.clean_text`), and the report
says how many values of which columns were cleaned, so a copy never stops half-way over an invisible character.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from ..errors import CustomerCardError
from ..i18n import _
from ..validators import UNSTORABLE_PATTERN, UNSTORABLE_UTF8_PATTERN, clean_text
from . import Store

#: Every table with data, in an order that never refers forward; (table, its id sequence or None).
TABLES: list[tuple[str, str | None]] = [
    ("users", "users_id_seq"), ("settings", None), ("list_values", "list_values_id_seq"),
    ("criteria", "criteria_id_seq"), ("criterion_values", "criterion_values_id_seq"),
    ("customers", "customers_id_seq"), ("customer_changes", "customer_changes_id_seq"),
    ("customer_segments", None), ("comments", "comments_id_seq"), ("contacts", "contacts_id_seq"),
    ("projects", "projects_id_seq"), ("invoices", "invoices_id_seq"), ("invoiced_yearly", None),
    ("ui_prefs", None), ("admin_log", "admin_log_id_seq"), ("record_changes", "record_changes_id_seq"),
    ("relations", "relations_id_seq"), ("events", "events_id_seq"), ("opportunities", "opportunities_id_seq"),
    ("search_terms", "search_terms_id_seq"), ("search_words", None), ("search_vocab", None),
    ("search_suffixes", None), ("search_fuzzy", None), ("files", "files_id_seq"), ("outbox", "outbox_id_seq"),
    ("change_stamps", None), ("api_tokens", "api_tokens_id_seq"), ("follow_ups", "follow_ups_id_seq"),
    ("follow_up_mail_sent", None), ("home_seen", None), ("card_views", None),
    ("saved_views", "saved_views_id_seq"), ("bulk_changes", "bulk_changes_id_seq"), ("bulk_change_customers", None),
    ("merge_moves", None),
]
#: Kept where they were made, never copied: login sessions and failed-login counters (after a move everyone logs
#: in again); a replaced target loses its own.
NOT_COPIED = ["sessions", "login_throttle",
              # the super search's pages (schema 20), made by a DuckDB rebuild: a copy has none until the target's
              # index is built again (rows that name a page are then looked up as any other); PostgreSQL keeps none
              "search_pages"]
CHUNK = 200_000


def _sequences() -> dict[str, tuple[str, str]]:
    """Every sequence and the (table, column) it numbers."""
    found = {sequence: (table, "entry_id" if table == "search_terms" else "id") for table, sequence in TABLES
             if sequence}
    found["customer_number_seq"] = ("customers", "number")
    return found


@dataclass
class CopyReport:
    counts: dict[str, int] = field(default_factory=dict)
    invoiced: pd.DataFrame | None = None
    #: "table.column" → how many of its values had control characters cleaned away.
    cleaned: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        rows = sum(self.counts.values())
        years = 0 if self.invoiced is None else len(self.invoiced)
        text = _("Copied {rows} rows in {tables} tables; row counts and invoiced per year ({years} years) match on "
                 "both sides.").format(rows=rows, tables=len(self.counts), years=years)
        if self.cleaned:
            where = ", ".join(f"{column} ({count})" for column, count in self.cleaned.items())
            text += "\n" + _("Cleaned {n} text values of control characters (such as NUL) that cannot be stored: "
                              "{where}.").format(n=sum(self.cleaned.values()), where=where)
        return text


def _count(store: Store, table: str) -> int:
    return int(store.db.row(f"SELECT count(*) FROM {table}")[0])


def _chunks(store: Store, table: str, order: str) -> list[pd.DataFrame]:
    total = _count(store, table)
    return [store.db.df(f"SELECT * FROM {table} ORDER BY {order} LIMIT ? OFFSET ?", [CHUNK, start])
            for start in range(0, total, CHUNK)]


def is_empty(store: Store) -> bool:
    return all(_count(store, table) == 0 for table in ("customers", "users", "invoices"))


def copy_store(source: Store, target: Store, replace: bool = False,
               progress: Callable[[str], None] | None = None) -> CopyReport:
    """Copy everything from ``source`` into ``target`` in one transaction on the target, then verify."""
    if source.schema_version != target.schema_version:
        raise CustomerCardError(_("Both databases must be at the same schema version; open both with this version "
                                  "of customercard first."))
    if not is_empty(target) and not replace:
        raise CustomerCardError(_("{target} holds data already: nothing was copied. Use --replace to replace "
                                  "everything in it.").format(target=_name(target)))
    report = CopyReport()
    held = target.db.row("SELECT stamp FROM change_stamps WHERE area = 'search_pages'")
    with target.db.transaction() as cur:
        for table in [*NOT_COPIED, *(name for name, _sequence in reversed(TABLES))]:
            cur.execute(f"DELETE FROM {table}")
        for table, _sequence in TABLES:
            if progress:
                progress(table)
            order = _order(source, table)
            for chunk in _chunks(source, table, order):
                target.db.insert_df(table, _typed(_cleaned(chunk, table, report.cleaned)))
            report.counts[table] = _count(source, table)
        for sequence, (table, column) in _sequences().items():
            top = target.db.row(f"SELECT max({column}) FROM {table}")[0]
            target.db.advance_sequence(sequence, int(top or 0))
        # past any stamp the target's pages had: a process holding those reads the (now no) pages again
        cur.execute("UPDATE change_stamps SET stamp = stamp + ? WHERE area = 'search_pages'",
                    [int(held[0] if held else 0) + 1])
        _verify(source, target, report)
    target.forget_cached()
    report.invoiced = target.invoiced_per_year(fill_gaps=False)
    return report


def _order(store: Store, table: str) -> str:
    columns = list(store.db.df(f"SELECT * FROM {table} LIMIT 0").columns)
    return "entry_id" if "entry_id" in columns else ("id" if "id" in columns else ", ".join(
        str(i) for i in range(1, len(columns) + 1)))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-number columns with gaps (NaN from the database driver) back to nullable integers."""
    for name in frame.columns:
        series = frame[name]
        if series.dtype == "float64" and name.endswith("_id") and series.dropna().mod(1).eq(0).all():
            frame[name] = series.astype("Int64")
    return frame


def _cleaned(frame: pd.DataFrame, table: str, counts: dict[str, int]) -> pd.DataFrame:
    """The frame with control characters cleaned out of its texts (see the module's documentation); each
    cleaned column's count added to ``counts``."""
    for name in frame.columns:
        if not (frame[name].dtype == object or pd.api.types.is_string_dtype(frame[name].dtype)):
            continue
        dtype = frame[name].dtype
        utf8 = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
        try:
            bad = frame[name].str.contains(UNSTORABLE_UTF8_PATTERN if utf8 else UNSTORABLE_PATTERN, regex=True,
                                           na=False)
        except AttributeError:  # no texts in this column
            continue
        if bad.any():
            frame.loc[bad, name] = frame.loc[bad, name].map(lambda text: clean_text(text, multiline=True))
            key = f"{table}.{name}"
            counts[key] = counts.get(key, 0) + int(bad.sum())
    return frame


def _verify(source: Store, target: Store, report: CopyReport) -> None:
    for table, count in report.counts.items():
        copied = _count(target, table)
        if copied != count:
            raise CustomerCardError(_("{table}: {count} rows in the source but {copied} in the target; nothing was "
                                      "copied.").format(table=table, count=count, copied=copied))
    def per_year(store: Store) -> dict[int, float]:
        frame = store.invoiced_per_year(fill_gaps=False)
        return {int(y): round(float(a), 2) for y, a in zip(frame["year"], frame["amount"], strict=True)}

    raw = target.db.df("SELECT CAST(EXTRACT(YEAR FROM invoice_date) AS INTEGER) AS year, "
                       "CAST(sum(amount_base) AS DOUBLE PRECISION) AS amount FROM invoices GROUP BY 1 ORDER BY 1")
    recomputed = {int(y): round(float(a), 2) for y, a in zip(raw["year"], raw["amount"], strict=True)}
    if not per_year(source) == per_year(target) == recomputed:
        raise CustomerCardError(_("Invoiced per year differs between the source and the target; nothing was copied."))


def _name(store: Store) -> str:
    from .backend import redact_url

    return redact_url(store.location)
