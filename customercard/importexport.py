"""Import customers from a CSV or Excel file; export customers and contact persons to CSV or Excel.

Import
------
:func:`import_customers` reads a ``.csv`` file (UTF-8 with or without BOM; the delimiter ``,`` ``;`` or tab is
detected) or an Excel ``.xlsx`` file (its first sheet). The first non-empty row holds the column headers;
every later non-empty row is one customer. Each row is validated exactly as the card validates a new
customer; if any row has a problem, every problem is reported and nothing is imported. Otherwise all rows
are created in one transaction. Possible duplicates (of existing customers, or of another row of the file)
are reported as warnings.

Column mapping (:data:`COLUMN_MAP`)
-----------------------------------
Headers are matched without regard to case or surrounding spaces. Empty cells mean "not given" (the
firm's default stays). A column with an unknown header is a problem unless all its cells are empty; a file
without a name column is refused.

==========================================  ===================================  ==============================
Field                                       Header our export writes             Also understood
==========================================  ===================================  ==============================
name                                        Name                                 Name
nickname                                    Nickname
account_manager (login or user's name)      Account manager                      Account manager
industry                                    Industry                             Industry
status                                      Status                               Status
archived (yes/no)                           Archived
visit_address.line1                         Address                              Address, Street address
visit_address.line2                         Address line 2
visit_address.postal_code                   Postal code                          Postal code, Postcode, Zip code
visit_address.city                          City                                 City
visit_address.country (SE, DK, …)           Country                              Country
phone                                       Phone                                Phone
email                                       E-mail                               E-mail, Email
website                                     Website                              Website
vat_number                                  VAT number                           VAT, VAT no
org_number                                  Organisation number                  Org number, Organization number
gln                                         GLN
use_invoice_address (yes/no)                Separate invoice address
invoice_address.line1                       Invoice address
invoice_address.line2                       Invoice address line 2
invoice_address.postal_code                 Invoice postal code
invoice_address.city                        Invoice city
invoice_address.country                     Invoice country
expenses_billable (yes/no)                  Expenses billable
mileage_billable (yes/no)                   Mileage billable
default_distance_km                         Default distance (km)
max_distance_km                             Maximum distance (km)
invoicing.invoice_template                  Invoice template
invoicing.payment_term                      Payment term
invoicing.currency                          Currency
invoicing.calculate_vat (yes/no)            Calculate VAT
invoicing.vat_rate                          VAT rate (%)
invoicing.discount_pct                      Discount (%)
invoicing.invoice_language                  Invoice language
invoicing.our_reference                     Our reference
invoicing.their_reference                   Their reference
segments.<criterion> (values, ", ")         Segmentation: <criterion>            <criterion>, segments.<criterion>
==========================================  ===================================  ==============================

Every field is also understood by its dotted name (first column, e.g. ``visit_address.city``) and by its
label on the card (e.g. ``Visiting address · City``). List values (industry, status, payment term, …) and
segmentation values are matched to the admin lists without regard to case; yes/no columns also take
true/false, 1/0 and ja/nej; numbers may use a decimal comma. The columns our export adds for reading only
(:data:`EXPORT_ONLY_HEADERS`: Customer number, Account manager name, Created, Created by) are skipped.

Export
------
:func:`export_customers` and :func:`export_contacts` write ``.csv`` (UTF-8 with BOM, so spreadsheet
programs read the letters right) or ``.xlsx`` files, by the suffix of the path. A customers export can be
imported again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import param

from .errors import CustomerCardError, PermissionDenied, ValidationError
from .identity import acting_user
from .models import Choices, Customer, InvoiceDefaults
from .store.search import fold

if TYPE_CHECKING:
    from .store import Store

#: The header our customers export writes for each field; the import understands it.
CUSTOMER_HEADERS: dict[str, str] = {
    "name": "Name", "nickname": "Nickname", "account_manager": "Account manager", "industry": "Industry",
    "status": "Status", "archived": "Archived",
    "visit_address.line1": "Address", "visit_address.line2": "Address line 2",
    "visit_address.postal_code": "Postal code", "visit_address.city": "City", "visit_address.country": "Country",
    "phone": "Phone", "email": "E-mail", "website": "Website", "vat_number": "VAT number",
    "org_number": "Organisation number", "gln": "GLN", "use_invoice_address": "Separate invoice address",
    "invoice_address.line1": "Invoice address", "invoice_address.line2": "Invoice address line 2",
    "invoice_address.postal_code": "Invoice postal code", "invoice_address.city": "Invoice city",
    "invoice_address.country": "Invoice country",
    "expenses_billable": "Expenses billable", "mileage_billable": "Mileage billable",
    "default_distance_km": "Default distance (km)", "max_distance_km": "Maximum distance (km)",
    "invoicing.invoice_template": "Invoice template", "invoicing.payment_term": "Payment term",
    "invoicing.currency": "Currency", "invoicing.calculate_vat": "Calculate VAT",
    "invoicing.vat_rate": "VAT rate (%)", "invoicing.discount_pct": "Discount (%)",
    "invoicing.invoice_language": "Invoice language", "invoicing.our_reference": "Our reference",
    "invoicing.their_reference": "Their reference",
}
#: The column names of a plain CRM export, and a few common spellings.
PLAIN_CRM_HEADERS: dict[str, str] = {
    "Name": "name", "Org number": "org_number", "VAT": "vat_number", "Address": "visit_address.line1",
    "Postal code": "visit_address.postal_code", "City": "visit_address.city", "Country": "visit_address.country",
    "Phone": "phone", "E-mail": "email", "Website": "website", "Industry": "industry", "Status": "status",
    "Account manager": "account_manager",
    "Email": "email", "Organization number": "org_number", "VAT no": "vat_number",
    "Street address": "visit_address.line1", "Postcode": "visit_address.postal_code",
    "Zip code": "visit_address.postal_code",
}
#: Columns our exports add for reading only; the import skips them.
EXPORT_ONLY_HEADERS = ("Customer number", "Account manager name", "Created", "Created by")
#: Headers of segmentation columns: one of these prefixes and the criterion's name.
SEGMENT_PREFIXES = ("segmentation:", "segments.", "segment:")
SEGMENT_HEADER = "Segmentation: {}"
CONTACT_HEADERS: dict[str, str] = {
    "customer_number": "Customer number", "customer_name": "Customer", "first_name": "First name",
    "last_name": "Last name", "title": "Title", "email": "E-mail", "phone": "Phone", "mobile": "Mobile",
    "active": "Active", "notes": "Notes", "created_at": "Created", "created_by": "Created by",
}
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TRUE_WORDS = {"yes", "y", "true", "1", "x", "ja", "j"}
FALSE_WORDS = {"no", "n", "false", "0", "nej"}


def header_key(text: object) -> str:
    """A header as it is matched: case-folded, surrounding spaces dropped, inner spaces single."""
    return " ".join(str(text or "").split()).casefold()


def _build_column_map() -> dict[str, str]:
    blank = Customer()
    mapping: dict[str, str] = {}
    sources: list[Iterable[tuple[str, str]]] = [
        ((f, f) for f in Customer.fields if f != "segments"),
        ((blank.label(f), f) for f in Customer.fields if f != "segments"),
        ((h, f) for f, h in CUSTOMER_HEADERS.items()),
        PLAIN_CRM_HEADERS.items(),
    ]
    for pairs in sources:
        for header, target in pairs:
            known = mapping.setdefault(header_key(header), target)
            if known != target:
                raise RuntimeError(f"The header {header!r} would mean both {known} and {target}.")
    return mapping


#: Header (as :func:`header_key` gives it) → dotted field of :class:`~customercard.models.Customer`.
COLUMN_MAP: dict[str, str] = _build_column_map()


# -- the report --------------------------------------------------------------------------------------------
@dataclass
class ImportReport:
    """What an import did or would do.

    ``problems`` are (row, column header, message) — row 1 is the header row; ``duplicates`` are
    (row, existing customer id or None for another row of the file, that customer's name, reason).
    """

    rows: int = 0
    created: list[int] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    duplicates: list[tuple[int, int | None, str, str]] = field(default_factory=list)
    dry_run: bool = False
    skipped_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether the file had no problems (so it was, or in a dry run would be, imported)."""
        return not self.problems

    def headline(self) -> str:
        """The first line of :meth:`summary`."""
        if self.problems:
            rows = len({problem[0] for problem in self.problems})
            counted = f"{_plural(len(self.problems), 'problem')} in {_plural(rows, 'row')}"
            return f"Dry run: {counted}; nothing would be imported." if self.dry_run \
                else f"Nothing imported: {counted}."
        if self.dry_run:
            return f"Dry run: {_plural(self.rows, 'customer')} would be imported."
        return f"Imported {_plural(len(self.created), 'customer')}."

    def summary(self) -> str:
        """Human text: the headline, then one line per problem and per possible duplicate."""
        lines = [self.headline()]
        for row, column, message in self.problems:
            where = f"Row {row} (header)" if row == 1 else f"Row {row}"
            lines.append(f"{where}, {column}: {message}")
        if self.duplicates:
            lines.append("Possible duplicates (imported anyway):" if self.ok and not self.dry_run
                         else "Possible duplicates:")
        for row, existing_id, name, reason in self.duplicates:
            who = f"“{name}” (customer id {existing_id})" if existing_id is not None else f"“{name}”"
            lines.append(f"Row {row}: {who} — {reason}.")
        if self.skipped_columns:
            lines.append("Columns skipped (export-only): " + ", ".join(self.skipped_columns) + ".")
        return "\n".join(lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


# -- reading files -----------------------------------------------------------------------------------------
def read_table(path: str | Path) -> list[tuple[int, list[str]]]:
    """The non-empty rows of a CSV or Excel file as (row number in the file, cell texts)."""
    source = Path(path)
    suffix = source.suffix.lower()
    if not source.is_file():
        raise CustomerCardError(f"No file {source}.")
    if suffix in CSV_SUFFIXES:
        rows = _read_csv(source)
    elif suffix in EXCEL_SUFFIXES:
        rows = _read_excel(source)
    else:
        raise CustomerCardError(f"Cannot read {source.name}: give a .csv or .xlsx file"
                                + (" (save the .xls workbook as .xlsx)." if suffix == ".xls" else "."))
    return [(number, cells) for number, cells in rows if any(cells)]


def _read_csv(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CustomerCardError(f"{path.name} is not UTF-8 text: save it as “CSV UTF-8” and try again.") from None
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    try:
        return [(number, [cell.strip() for cell in row]) for number, row in enumerate(reader, start=1)]
    except csv.Error as exc:
        raise CustomerCardError(f"{path.name} is not a readable CSV file: {exc}.") from None


def sniff_delimiter(text: str) -> str:
    """The delimiter of CSV text: ``,``, ``;`` or tab (comma when nothing tells)."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t").delimiter
    except csv.Error:
        found = ""
    if found and found in lines[0]:
        return found
    counts = {d: lines[0].count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_excel(path: Path) -> list[tuple[int, list[str]]]:
    import openpyxl

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # e.g. "Workbook contains no default style"
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise CustomerCardError(f"{path.name} is not a readable Excel workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        return [(number, [cell_text(value) for value in values])
                for number, values in enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)]
    finally:
        book.close()


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


# -- the columns ---------------------------------------------------------------------------------------------
@dataclass
class _Column:
    index: int
    header: str
    field: str  # a dotted field, or "segments.<criterion>"


@dataclass
class _Layout:
    columns: list[_Column] = field(default_factory=list)
    problems: list[tuple[int, str, str]] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _segment_header(header: str) -> str | None:
    """The criterion named after a segmentation prefix ('Segmentation: Size' → 'Size'), else None."""
    key = header_key(header)
    for prefix in SEGMENT_PREFIXES:
        if key.startswith(prefix):
            return " ".join(header.split())[len(prefix):].strip()
    return None


def _field_of(header: str, criteria: dict[str, str]) -> str | None:
    """The field a header gives: a dotted field, 'segments.<criterion>', '' for an unknown criterion, or None."""
    named = _segment_header(header)
    if named is not None:
        criterion = criteria.get(header_key(named))
        return f"segments.{criterion}" if criterion else ""
    key = header_key(header)
    if key in COLUMN_MAP:
        return COLUMN_MAP[key]
    return f"segments.{criteria[key]}" if key in criteria else None


def _layout(header_row: int, headers: list[str], data: list[list[str]], choices: Choices) -> _Layout:
    """Which column holds which field; unknown, doubled and unknown-criterion columns as problems."""
    layout = _Layout()
    criteria = {header_key(name): name for name in choices.criteria}
    skip = {header_key(h) for h in EXPORT_ONLY_HEADERS}
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        target = _field_of(header, criteria)
        if target is None and header_key(header) in skip:
            layout.skipped.append(header)
        elif target == "":
            layout.problems.append((header_row, header, f"“{_segment_header(header)}” is not a segmentation "
                                    "criterion (System administration → Customers)."))
        elif target is None:
            if any(index < len(cells) and cells[index] for cells in data):
                unknown.append(header or f"(column {index + 1} without a header)")
        elif target in seen:
            layout.problems.append((header_row, header, f"“{seen[target]}” and “{header}” both give "
                                    f"{target}: keep one of them."))
        else:
            seen[target] = header
            layout.columns.append(_Column(index, header, target))
    if unknown:
        layout.problems.append((header_row, ", ".join(unknown), "Unknown column" + ("s" if len(unknown) > 1 else "")
                                + ": rename to a known header (see the column mapping) or remove."))
    return layout


# -- one row -----------------------------------------------------------------------------------------------
class _RowReader:
    """Turns one row's cells into field values for the model, with conversion problems per field."""

    def __init__(self, store: Store, choices: Choices) -> None:
        self.choices = choices
        self.kinds = {f: type(Customer().parameter(f)) for f in Customer.fields if f != "segments"}
        users = store.users(include_inactive=True)
        self.logins = {header_key(login): login for login in users["login"]}
        self.names: dict[str, list[str]] = {}
        for login, name in zip(users["login"], users["name"], strict=True):
            self.names.setdefault(header_key(name), []).append(login)

    def values(self, cells: list[str], columns: list[_Column]) -> tuple[dict[str, Any], dict[str, str]]:
        """({field: value} of the non-empty cells, {field: message} of cells that could not be converted)."""
        values: dict[str, Any] = {}
        problems: dict[str, str] = {}
        segments: dict[str, list[str]] = {}
        for column in columns:
            text = cells[column.index] if column.index < len(cells) else ""
            if not text:
                continue
            if column.field.startswith("segments."):
                segments[column.field.split(".", 1)[1]] = self._segment(column.field.split(".", 1)[1], text)
                continue
            try:
                values[column.field] = self._convert(column.field, text)
            except ValueError as exc:
                problems[column.field] = str(exc)
        if segments:
            values["segments"] = segments
        return values, problems

    def _convert(self, name: str, text: str) -> Any:
        kind = self.kinds[name]
        if name == "account_manager":
            return self._login(text)
        if issubclass(kind, param.Boolean):
            return parse_yes_no(text)
        if issubclass(kind, param.Number):
            return parse_number(text)
        if issubclass(kind, param.Selector):
            return _match(text, self.choices.allowed(_list_name(name)))
        return text

    def _login(self, text: str) -> str:
        key = header_key(text)
        if key in self.logins:
            return self.logins[key]
        named = self.names.get(key, [])
        if len(named) > 1:
            raise ValueError(f"“{text}” is the name of several users: give the login.")
        return named[0] if named else text

    def _segment(self, criterion: str, text: str) -> list[str]:
        allowed = self.choices.criteria.get(criterion, (True, []))[1]
        return [_match(part.strip(), allowed) for part in text.split(",") if part.strip()]


def _list_name(name: str) -> str:
    """The admin list behind a selector field ('industry' → 'industries', 'invoicing.currency' → 'currencies')."""
    if name.startswith("invoicing."):
        return InvoiceDefaults.lists.get(name.split(".", 1)[1], "")
    return Customer.lists.get(name, "")


def _match(text: str, allowed: Iterable[str]) -> str:
    """The allowed value that equals ``text`` without regard to case, else ``text`` as given."""
    wanted = header_key(text)
    return next((value for value in allowed if header_key(value) == wanted), text)


def parse_yes_no(text: str) -> bool:
    """yes/no, true/false, 1/0, x, ja/nej → bool; anything else is a ValueError with a message."""
    word = text.strip().casefold()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"Use yes or no, not “{text}”.")


def parse_number(text: str) -> float:
    """A number as people write it: '12.5', '12,5', '1 234,5', '25 %' → float; else a ValueError."""
    compact = re.sub(r"[\s\u00a0%]", "", text)
    if "," in compact and "." in compact:
        compact = compact.replace(",", "") if compact.rfind(".") > compact.rfind(",") \
            else compact.replace(".", "").replace(",", ".")
    else:
        compact = compact.replace(",", ".")
    try:
        number = float(compact)
    except ValueError:
        raise ValueError(f"Not a number: “{text}”.") from None
    if not math.isfinite(number):
        raise ValueError(f"Not a number: “{text}”.")
    return number


# -- the import --------------------------------------------------------------------------------------------
@dataclass
class _Row:
    number: int
    customer: Customer
    problems: dict[str, str]
    sources: dict[str, str]


def import_customers(store: Store, path: str | Path, user: str | None = None,
                     dry_run: bool = False) -> ImportReport:
    """Import customers from a CSV or Excel file (see the module documentation for the columns).

    Every row is validated as the store validates a new customer. If any row has a problem, every problem
    of every row is reported and nothing is imported; otherwise all customers are created in one
    transaction, recorded as created by ``user`` (default: the acting user). ``dry_run`` only validates and
    reports. Possible duplicates are reported as warnings either way. A file that cannot be read, or has no
    name column, raises :class:`~customercard.errors.CustomerCardError`.
    """
    login = user or acting_user()
    if not store.can(login, "read" if dry_run else "write"):
        raise PermissionDenied(f"“{login}” may not import customers: a manager or an administrator can.")
    table = read_table(path)
    if not table:
        raise CustomerCardError(f"{Path(path).name} is empty.")
    (header_row, headers), data = table[0], table[1:]
    choices = store.choices()
    layout = _layout(header_row, headers, [cells for _n, cells in data], choices)
    if "name" not in {column.field for column in layout.columns}:
        raise CustomerCardError(f"{Path(path).name} has no name column: its first row must name the columns, "
                                "one of them “Name” (see the column mapping in the documentation).")
    if not data:
        raise CustomerCardError(f"{Path(path).name} has no customers under its header row.")
    report = ImportReport(rows=len(data), dry_run=dry_run, problems=list(layout.problems),
                          skipped_columns=layout.skipped)
    reader = _RowReader(store, choices)
    rows = [_check_row(store, choices, reader, number, cells, layout.columns) for number, cells in data]
    order = {column.field: position for position, column in enumerate(layout.columns)}
    for row in rows:
        ranked = sorted(row.problems.items(), key=lambda item: order.get(item[0], len(order)))
        report.problems += [(row.number, _column_of(row, name), message) for name, message in ranked]
    report.duplicates = _duplicates(store, rows)
    if report.ok and not dry_run:
        _create(store, rows, login, report)
    return report


def _check_row(store: Store, choices: Choices, reader: _RowReader, number: int, cells: list[str],
               columns: list[_Column]) -> _Row:
    """One row through the model: conversion, param's type and bound checks, then the model's validation."""
    values, problems = reader.values(cells, columns)
    customer = store.new_customer()
    for name, message in customer.update_from(values).items():
        problems.setdefault(name, message)
    for name, message in customer.validate(choices).items():
        problems.setdefault(name, message)
    sources = {column.field: column.header for column in columns if column.index < len(cells)
               and cells[column.index]}
    return _Row(number, customer, problems, sources)


def _column_of(row: _Row, name: str) -> str:
    """The header of the column a field's value came from (segments: their columns), else the field's label."""
    if name == "segments":
        headers = [h for f, h in row.sources.items() if f.startswith("segments.")]
        return ", ".join(headers) or row.customer.label(name)
    if name in row.sources:
        return row.sources[name]
    header = CUSTOMER_HEADERS.get(name)
    return header or row.customer.label(name)


def _duplicates(store: Store, rows: list[_Row]) -> list[tuple[int, int | None, str, str]]:
    """Possible duplicates of existing customers, then of earlier rows of the same file."""
    found: list[tuple[int, int | None, str, str]] = []
    by_org: dict[str, _Row] = {}
    by_name: dict[str, _Row] = {}
    for row in rows:
        c = row.customer
        if c.name:
            hits = store.possible_duplicates(name=c.name, org_number=c.org_number, vat_number=c.vat_number,
                                             nickname=c.nickname)
            found += [(row.number, int(h.id), str(h.name), str(h.reason)) for h in hits.itertuples()]
        org = re.sub(r"[\s-]", "", c.org_number).casefold()
        for key, seen, reason in ((org, by_org, "same organisation number"), (fold(c.name), by_name, "same name")):
            if not key:
                continue
            if key in seen:
                found.append((row.number, None, seen[key].customer.name,
                              f"{reason} as row {seen[key].number} of this file"))
            else:
                seen[key] = row
    return found


def _create(store: Store, rows: list[_Row], login: str, report: ImportReport) -> None:
    """Create every row's customer in one transaction; a refusal rolls all back and becomes a problem."""
    created: list[int] = []
    current = rows[0]
    try:
        with store.db.transaction():
            for current in rows:
                created.append(int(store.create_customer(current.customer, user=login).id))
    except ValidationError as exc:
        report.problems += [(current.number, _column_of(current, name), message)
                            for name, message in exc.errors.items()]
        return
    report.created = created


# -- export ------------------------------------------------------------------------------------------------
def export_customers(store: Store, path: str | Path) -> int:
    """Write every customer (not merged-away ones) to a .csv or .xlsx file; returns how many.

    Columns have human headers the import understands (see :data:`CUSTOMER_HEADERS`): list values as
    labels, the account manager's login and name, one column per segmentation criterion.
    """
    target, excel = _export_target(path)
    frame = customers_table(store.export_customers_frame())
    _write(frame, target, excel, "Customers")
    return len(frame)


def export_contacts(store: Store, path: str | Path) -> int:
    """Write every contact person (active or not, with its customer) to a .csv or .xlsx file; returns how many."""
    target, excel = _export_target(path)
    frame = store.export_contacts_frame()
    table = _yes_no(frame[list(CONTACT_HEADERS)].rename(columns=CONTACT_HEADERS))
    _write(table, target, excel, "Contacts")
    return len(table)


def customers_table(frame: pd.DataFrame) -> pd.DataFrame:
    """The store's export frame with human headers, in the card's order, booleans as yes/no."""
    names: dict[str, str] = {"number": "Customer number"}
    for name in Customer.fields:
        if name != "segments":
            names[name] = CUSTOMER_HEADERS[name]
        if name == "account_manager":
            names["account_manager_name"] = "Account manager name"
    for column in frame.columns:
        if column.startswith("segments."):
            names[column] = SEGMENT_HEADER.format(column.split(".", 1)[1])
    names.update({"created_at": "Created", "created_by": "Created by"})
    table = frame[list(names)].rename(columns=names)
    table["Created"] = table["Created"].dt.floor("s")
    return _yes_no(table)


def _yes_no(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map({True: "yes", False: "no"})
    return out


def _export_target(path: str | Path) -> tuple[Path, bool]:
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise CustomerCardError(f"Cannot export to “{target.name}”: use a file name ending in .csv or .xlsx.")
    if not target.parent.is_dir():
        raise CustomerCardError(f"No folder {target.parent} to write {target.name} into.")
    return target, suffix == ".xlsx"


def _write(frame: pd.DataFrame, target: Path, excel: bool, sheet: str) -> None:
    try:
        if excel:
            frame.to_excel(target, index=False, sheet_name=sheet)
        else:
            frame.to_csv(target, index=False, encoding="utf-8-sig", float_format="%.10g")
    except OSError as exc:
        raise CustomerCardError(f"Cannot write {target}: {exc.strerror or exc}.") from None


__all__ = [
    "COLUMN_MAP", "CONTACT_HEADERS", "CUSTOMER_HEADERS", "EXPORT_ONLY_HEADERS", "PLAIN_CRM_HEADERS",
    "ImportReport", "export_contacts", "export_customers", "import_customers",
]
