"""CSV and Excel (.xlsx) files in and out, safely: every export and every import goes through here.

Writing — :func:`write_table`
-----------------------------
A text cell that a spreadsheet program would run as a formula — one starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return (OWASP's list for CSV injection), also after apostrophes — is written with one more
leading apostrophe (``'=HYPERLINK(…)``), so it shows as the text it is. Control characters are removed (an Excel
file cannot hold them; tabs and line breaks stay). Numbers, dates and booleans stay what they are, so a
spreadsheet adds up amounts. :func:`unescape_cell` takes the apostrophe off again, so an export imports back to
the same values (phone numbers start with ``+``).

Reading — :func:`read_rows`
---------------------------
Bounded in time and memory for any file it is given; a file beyond a bound is refused with a message saying
which. The bounds (:data:`LIMITS`):

- at most 20 MB a file, and an .xlsx file at most 100 MB unpacked (the sizes its zip directory declares are
  checked before anything is parsed, so a zip bomb is refused unopened);
- at most 10,000 rows (besides the header row) and 300 columns;
- at most 32,767 characters a cell (Excel's own limit; CSV is read with this field size limit).

An .xlsx workbook is read in openpyxl's streaming (read-only) mode, values only, first sheet.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pandas as pd

from . import formatting
from .errors import CustomerCardError
from .i18n import _
from .validators import clean_text

#: The first characters that make a spreadsheet read a cell as a formula (OWASP).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")


@dataclass(frozen=True)
class Limits:
    """How much of a file an import reads at most."""

    file_bytes: int = 20 * 1024 * 1024
    unpacked_bytes: int = 100 * 1024 * 1024
    rows: int = 10_000
    columns: int = 300
    cell_characters: int = 32_767
    parts: int = 1_000  # files in an .xlsx (a plain workbook has about ten)


LIMITS = Limits()


# -- writing -----------------------------------------------------------------------------------------------
def safe_cell(value: Any) -> Any:
    """A value as an export writes it: texts cleaned of control characters and kept from running as formulas;
    anything else as it is."""
    if not isinstance(value, str):
        return value
    text = clean_text(value, multiline=True)
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def unescape_cell(text: str) -> str:
    """The inverse of :func:`safe_cell`'s apostrophe: ``'=x`` → ``=x``, ``''+46`` → ``'+46``; others as they are."""
    if text.startswith("'") and text.lstrip("'").startswith(FORMULA_STARTS):
        return text[1:]
    return text


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with :func:`safe_cell` applied to its headers and to every text column."""
    out = frame.rename(columns=lambda name: safe_cell(str(name)))
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(position, column.map(safe_cell, na_action="ignore"))
    return out


def csv_marks(language: str | None = None) -> tuple[str, str]:
    """(separator, decimal mark) of a CSV file a spreadsheet in ``language`` (the reader's by default) reads numbers
    from: ',' and '.' in English; ';' and ',' in Swedish and Danish, whose spreadsheets take the comma as the
    decimal mark."""
    decimal = formatting.symbols(language)["decimal"]
    return ("," if decimal == "." else ";"), decimal


def write_table(frame: pd.DataFrame, target: str | Path | IO[bytes], excel: bool, sheet: str = "Sheet1",
                language: str | None = None) -> None:
    """Write ``frame`` (its columns as headers) to a .csv (UTF-8 with BOM, so spreadsheet programs read the
    letters right; separated and with the decimal mark as ``language`` reads numbers, see :func:`csv_marks`) or an
    .xlsx file or binary buffer, made safe by :func:`safe_frame`. Numbers stay numbers and times stay times."""
    safe = safe_frame(frame)
    if excel:
        _write_xlsx(safe, target, sheet)
    else:
        separator, decimal = csv_marks(language)
        safe.to_csv(target, index=False, encoding="utf-8-sig", float_format="%.10g", mode="wb", sep=separator,
                    decimal=decimal)


def _write_xlsx(frame: pd.DataFrame, target: str | Path | IO[bytes], sheet: str) -> None:
    """Streamed (openpyxl's write-only mode): the workbook is never held in memory whole."""
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    worksheet = book.create_sheet(sheet[:31])
    worksheet.append([str(name) for name in frame.columns])
    for row in frame.itertuples(index=False, name=None):
        worksheet.append([_excel_value(value) for value in row])
    book.save(target)


def _excel_value(value: Any) -> Any:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return None
    if value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if hasattr(value, "item") and not isinstance(value, str):  # NumPy scalars
        return value.item()
    return value


# -- reading -----------------------------------------------------------------------------------------------
def read_rows(path: str | Path, limits: Limits = LIMITS) -> list[tuple[int, list[str]]]:
    """The non-empty rows of a CSV or Excel file as (row number in the file, cell texts), within ``limits``.

    Raises :class:`~customercard.errors.CustomerCardError` saying why for a file that is missing, of another
    kind, unreadable, or beyond a limit.
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if not source.is_file():
        raise CustomerCardError(_("No file {source}.").format(source=source))
    if suffix not in CSV_SUFFIXES + EXCEL_SUFFIXES:
        raise CustomerCardError((_("Cannot read {name}: give a .csv or .xlsx file (save the .xls workbook as .xlsx).")
                                 if suffix == ".xls" else _("Cannot read {name}: give a .csv or .xlsx file."))
                                .format(name=source.name))
    size = source.stat().st_size
    if size > limits.file_bytes:
        raise CustomerCardError(_("{name} is {size}; an import reads files of at most {limit}: split it into "
                                  "smaller files.").format(name=source.name, size=_megabytes(size),
                                                           limit=_megabytes(limits.file_bytes)))
    cells = _csv_rows(source, limits) if suffix in CSV_SUFFIXES else _excel_rows(source, limits)
    return _bounded(source.name, cells, limits)


def _megabytes(size: int) -> str:
    return f"{formatting.number(size / (1024 * 1024), 1)} MB"


def _bounded(name: str, rows: Iterable[tuple[int, list[str]]], limits: Limits) -> list[tuple[int, list[str]]]:
    """The non-empty rows, refusing the file at the first row or cell beyond a limit."""
    kept: list[tuple[int, list[str]]] = []
    for number, cells in rows:
        if len(cells) > limits.columns and any(cells[limits.columns:]):
            raise _too_many_columns(name, number, limits)
        for index, text in enumerate(cells[:limits.columns]):
            if len(text) > limits.cell_characters:
                raise _cell_too_long(name, number, index, len(text), limits)
        if any(cells):
            kept.append((number, cells[:limits.columns]))
            if len(kept) > limits.rows + 1:
                raise CustomerCardError(_("{name} has more than {rows} rows; an import reads at most {rows} at a "
                                          "time: split it into smaller files.").format(
                    name=name, rows=formatting.number(limits.rows)))
    return kept


def _too_many_columns(name: str, row: int, limits: Limits) -> CustomerCardError:
    return CustomerCardError(_("{name}: row {row} has more than {columns} columns; an import reads at most "
                               "{columns}.").format(name=name, row=row, columns=limits.columns))


def _cell_too_long(name: str, row: int, index: int | None, length: int | None, limits: Limits) -> CustomerCardError:
    where = (_("row {row}, column {column}").format(row=row, column=_column_letter(index)) if index is not None
             else _("row {row}").format(row=row))
    size = (_("{n} characters").format(n=formatting.number(length)) if length is not None
            else _("more than {n} characters").format(n=formatting.number(limits.cell_characters)))
    return CustomerCardError(_("{name}: the cell at {where} holds {size}; a cell may hold at most {limit} (the most "
                               "a spreadsheet cell holds).").format(
        name=name, where=where, size=size, limit=formatting.number(limits.cell_characters)))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _csv_rows(path: Path, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CustomerCardError(_("{name} is not UTF-8 text: save it as “CSV UTF-8” and try again.").format(
            name=path.name)) from None
    csv.field_size_limit(limits.cell_characters)  # (the csv module has one limit per process; this is ours)
    # strict: a quote left open ran to the end of the file as one value (the last rows merged into one name, without
    # a word), and text after a closing quote was glued to it
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text), strict=True)
    number = 0
    try:
        for number, row in enumerate(reader, start=1):
            yield number, [cell.strip() for cell in row]
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise _cell_too_long(path.name, reader.line_num or number + 1, None, None, limits) from None
        if "unexpected end of data" in str(exc) or "expected after" in str(exc):
            raise CustomerCardError(_("{name}: row {row} has a quotation mark that is not closed, or text right after "
                                      "a closing one: a value in quotes starts and ends with a quote (\"Beta AB, "
                                      "Malmö\"). Nothing was imported.").format(
                name=path.name, row=number + 1)) from None
        raise CustomerCardError(_("{name} is not a readable CSV file: {exc}.").format(
            name=path.name, exc=exc)) from None


def sniff_delimiter(text: str) -> str:
    """The delimiter of CSV text: ``,``, ``;`` or tab (comma when nothing tells)."""
    head = text[:64 * 1024]  # enough lines to tell, and a bounded amount to look at
    lines = [line for line in head.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t").delimiter
    except csv.Error:
        found = ""
    if found and found in lines[0]:
        return found
    counts = {d: lines[0].count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _excel_rows(path: Path, limits: Limits) -> Iterator[tuple[int, list[str]]]:
    _check_unpacked_size(path, limits)
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. "Workbook contains no default style"
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise CustomerCardError(_("{name} is not a readable Excel workbook: {exc}").format(
            name=path.name, exc=exc)) from None
    try:
        sheet = book.worksheets[0]
        _refuse_unsaved_formulas(path, getattr(sheet, "_worksheet_path", None))
        sheet.reset_dimensions()  # trust the cells, not the size the file claims (no padding to it)
        # read no further than the row after the last one an import may take, empty rows counted generously
        last = (limits.rows + 1) * 10
        for number, values in enumerate(sheet.iter_rows(max_row=last, values_only=True), start=1):
            if len(values) > limits.columns and any(v not in (None, "") for v in values[limits.columns:]):
                raise _too_many_columns(path.name, number, limits)
            yield number, [cell_text(value) for value in values[:limits.columns]]
    except CustomerCardError:
        raise
    except Exception as exc:  # as above, while the rows are parsed
        raise CustomerCardError(_("{name} is not a readable Excel workbook: {exc}").format(
            name=path.name, exc=exc)) from None
    finally:
        book.close()


#: A cell of a sheet's XML: its attributes, then what it holds (a formula ``<f>``, its saved result ``<v>``).
_XML_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.DOTALL)


def _refuse_unsaved_formulas(path: Path, member: str | None) -> None:
    """A workbook written by a program (not saved by a spreadsheet program) keeps its formulas without their results:
    read as empty cells, they were imported as nothing (or refused as a name missing) without a word."""
    if not member:
        return
    with zipfile.ZipFile(path) as archive:
        try:
            xml = archive.read(member.lstrip("/")).decode("utf-8", "replace")
        except KeyError:
            return
    for match in _XML_CELL.finditer(xml):
        inner = match.group(2) or ""
        if not re.search(r"<(?:\w+:)?f\b", inner):
            continue
        result = re.search(r"<(?:\w+:)?v\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?v>)", inner, re.DOTALL)
        # saved: a value, or an empty text as a text formula's result (t="str"); a number's empty <v/>: none saved
        if result is None or not (result.group(1) or re.search(r'\bt="str"', match.group(1))):
            where = re.search(r'\br="([A-Z]+[0-9]+)"', match.group(1))
            raise CustomerCardError(_("{name}: the cell {cell} holds a formula whose result is not saved in the file "
                                      "(a workbook written by a program): open it in a spreadsheet program and save "
                                      "it, or put the values in. Nothing was imported.").format(
                name=path.name, cell=where.group(1) if where else "?"))


def _check_unpacked_size(path: Path, limits: Limits) -> None:
    """Refuse an .xlsx whose parts unpack to more than the limit, from its zip directory (nothing unpacked)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise CustomerCardError(_("{name} is not a readable Excel workbook: {exc}").format(
            name=path.name, exc=exc)) from None
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.unpacked_bytes:
        raise CustomerCardError(_("{name} unpacks to {size}; an import opens workbooks of at most {limit} "
                                  "unpacked.").format(name=path.name, size=_megabytes(unpacked),
                                                      limit=_megabytes(limits.unpacked_bytes)))
    if len(members) > limits.parts:
        raise CustomerCardError(_("{name} has {members} parts; an import opens workbooks of at most {parts}.").format(
            name=path.name, members=formatting.number(len(members)), parts=formatting.number(limits.parts)))


def cell_text(value: Any) -> str:
    """A cell's value as text (numbers without a needless '.0', dates as ISO, yes/no for booleans)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time():
        return value.date().isoformat()
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return str(value).strip()


__all__ = [
    "CSV_SUFFIXES",
    "EXCEL_SUFFIXES",
    "FORMULA_STARTS",
    "LIMITS",
    "Limits",
    "cell_text",
    "csv_marks",
    "read_rows",
    "safe_cell",
    "safe_frame",
    "sniff_delimiter",
    "unescape_cell",
    "write_table",
]
