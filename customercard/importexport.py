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
label on the card (e.g. ``Visiting address · City``). The headers our export writes, the card's labels, the
export-only columns and the ``Segmentation:`` prefix are understood in English, Swedish and Danish alike, so an
export made in any of them imports back (:func:`column_map`). List values (industry, status, payment term, …) and
segmentation values are matched to the admin lists without regard to case; yes/no columns also take
true/false, 1/0 and ja/nej; numbers are read as the importer's language types them on the card (in
English '1,234' is 1234, in Swedish 1.234), and a decimal comma is understood in English too ('12,5'). The
columns our export adds for reading only
(:data:`EXPORT_ONLY_HEADERS`: Customer number, Account manager name, Created, Created by, and Search customers'
Number) are skipped.

Limits
------
A file is read within the bounds of :mod:`customercard.spreadsheets` (at most 20 MB, an .xlsx at most 100 MB
unpacked, 10,000 rows, 300 columns, 32,767 characters a cell); beyond one, the file is refused with a message
saying which. Each cell is then checked against its field's maximum length (the model's metadata, see
:func:`cell_limit`) before it is converted or validated; possible duplicates are looked for only in rows without
problems, for all of them at once (:meth:`~customercard.store.search.SearchStore.duplicates_of`). A leading
``'`` that an export put before a formula-like text is taken off again.

Export
------
:func:`export_customers` and :func:`export_contacts` write ``.csv`` (UTF-8 with BOM, so spreadsheet
programs read the letters right) or ``.xlsx`` files, by the suffix of the path, through
:func:`customercard.spreadsheets.write_table` (texts a spreadsheet would run as formulas get a leading ``'``,
control characters are left out, numbers stay numbers). Headers and yes/no are in the reader's language, times in
the firm's time zone (as dates and times, not text); a Swedish or Danish CSV is separated by ``;`` with a decimal
comma, as spreadsheets there read numbers. A customers export can be imported again, to the same values.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import param

from . import formatting
from .errors import CustomerCardError, PermissionDenied, ValidationError
from .fields import export_headers
from .i18n import LANGUAGES, N_, SOURCE_LANGUAGE, _, current_language, ngettext, quote, supported, using_language
from .identity import acting_user
from .models import (
    REFERENCE_LENGTH,
    Choices,
    Criterion,
    Customer,
    InvoiceDefaults,
    ListValue,
    User,
    quoted,
    text_limits,
    to_text,
)
from .spreadsheets import CSV_SUFFIXES, read_rows, unescape_cell, write_table
from .store.search import DuplicateQuery
from .store.search_text import fold

if TYPE_CHECKING:
    from .store import Store

#: The header our customers export writes for each field (the field registry's, English: an export says it in the
#: reader's language); the import understands it in every language.
CUSTOMER_HEADERS: dict[str, str] = export_headers()
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
#: Columns our exports add for reading only; the import skips them (in every language).
EXPORT_ONLY_HEADERS = (N_("Customer number"), N_("Account manager name"), N_("Created"), N_("Created by"),
                       N_("Number"))  # (Search customers' export names the customer number so)
#: Headers of segmentation columns: one of these prefixes (or "Segmentation:" in another language) and the
#: criterion's name.
SEGMENT_PREFIXES = ("segmentation:", "segments.", "segment:")
SEGMENT_HEADER = N_("Segmentation: {criterion}")
CONTACT_HEADERS: dict[str, str] = {
    "customer_number": N_("Customer number"), "customer_name": N_("Customer"), "first_name": N_("First name"),
    "last_name": N_("Last name"), "title": N_("Title"), "email": N_("E-mail"), "phone": N_("Phone"),
    "mobile": N_("Mobile"), "active": N_("Active"), "notes": N_("Notes"), "created_at": N_("Created"),
    "created_by": N_("Created by"),
}
#: What a yes/no column takes (English, Swedish and Danish, and what spreadsheets write).
TRUE_WORDS = {"yes", "y", "true", "1", "x", "ja", "j", "sant"}
FALSE_WORDS = {"no", "n", "false", "0", "nej", "falskt", "falsk"}


def header_key(text: object) -> str:
    """A header as it is matched: case-folded, surrounding spaces dropped, inner spaces single."""
    return " ".join(str(text or "").split()).casefold()


def _build_column_map(languages: Iterable[str] = (SOURCE_LANGUAGE,)) -> dict[str, str]:
    blank = Customer()
    mapping: dict[str, str] = {}
    sources: list[Iterable[tuple[str, str]]] = [((f, f) for f in Customer.fields if f != "segments")]
    for language in languages:
        with using_language(language):
            sources += [[(blank.label(f), f) for f in Customer.fields if f != "segments"],
                        [(_(h), f) for f, h in CUSTOMER_HEADERS.items()]]
    sources.append(PLAIN_CRM_HEADERS.items())
    for pairs in sources:
        for header, target in pairs:
            known = mapping.setdefault(header_key(header), target)
            if known != target:
                raise RuntimeError(f"The header {header!r} would mean both {known} and {target}.")
    return mapping


#: Header (as :func:`header_key` gives it) → dotted field of :class:`~customercard.models.Customer`, in English.
COLUMN_MAP: dict[str, str] = _build_column_map()


@functools.cache
def column_map() -> dict[str, str]:
    """:data:`COLUMN_MAP` with the headers and labels of every language customercard speaks (an export in Swedish
    or Danish imports back; a header that meant two fields would be refused here)."""
    return _build_column_map(LANGUAGES)


@functools.cache
def _export_only_keys() -> frozenset[str]:
    """The export-only headers in every language, as :func:`header_key` gives them."""
    keys = set()
    for language in LANGUAGES:
        with using_language(language):
            keys |= {header_key(_(h)) for h in EXPORT_ONLY_HEADERS}
    return frozenset(keys)


@functools.cache
def _segment_prefixes() -> tuple[str, ...]:
    """The prefixes of segmentation columns: ours, and "Segmentation:" in every language."""
    found = list(SEGMENT_PREFIXES)
    for language in LANGUAGES:
        with using_language(language):
            prefix = header_key(_(SEGMENT_HEADER).split("{", 1)[0])
        if prefix and prefix not in found:
            found.append(prefix)
    return tuple(found)


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
    #: Why the user of a dry run may not make the import itself (a viewer may check a file), else ''.
    refused: str = ""

    @property
    def ok(self) -> bool:
        """Whether the file had no problems (so it was imported, or in a dry run could be: see ``refused``)."""
        return not self.problems

    def headline(self) -> str:
        """The first line of :meth:`summary`, in the reader's language."""
        if self.problems:
            rows = len({problem[0] for problem in self.problems})
            counted = ngettext("{n} problem", "{n} problems", len(self.problems)).format(n=len(self.problems))
            counted = ngettext("{problems} in {n} row", "{problems} in {n} rows", rows).format(problems=counted, n=rows)
            return (_("Dry run: {problems}; nothing would be imported.") if self.dry_run
                    else _("Nothing imported: {problems}.")).format(problems=counted)
        if self.dry_run and self.refused:
            return ngettext("Dry run: the file is fine ({n} customer), but {refused}",
                            "Dry run: the file is fine ({n} customers), but {refused}", self.rows).format(
                                n=self.rows, refused=self.refused)
        if self.dry_run:
            return ngettext("Dry run: {n} customer would be imported.", "Dry run: {n} customers would be imported.",
                            self.rows).format(n=self.rows)
        return ngettext("Imported {n} customer.", "Imported {n} customers.", len(self.created)).format(
            n=len(self.created))

    def summary(self) -> str:
        """Human text in the reader's language: the headline, then one line per problem and per possible
        duplicate."""
        lines = [self.headline()]
        for row, column, message in self.problems:
            where = _("Row {row} (header)").format(row=row) if row == 1 else _("Row {row}").format(row=row)
            lines.append(f"{where}, {column}: {message}")
        if self.duplicates:
            lines.append(_("Possible duplicates (imported anyway):") if self.ok and not self.dry_run
                         else _("Possible duplicates:"))
        for row, existing_id, name, reason in self.duplicates:
            who = (_("{name} (customer id {id})").format(name=quote(name), id=existing_id)
                   if existing_id is not None else quote(name))
            lines.append(_("Row {row}: {who} — {reason}.").format(row=row, who=who, reason=reason))
        if self.skipped_columns:
            lines.append(_("Columns skipped (export-only): {columns}.").format(
                columns=", ".join(self.skipped_columns)))
        return "\n".join(lines)


# -- reading files -----------------------------------------------------------------------------------------
def read_table(path: str | Path) -> list[tuple[int, list[str]]]:
    """The non-empty rows of a CSV or Excel file as (row number in the file, cell texts), read within the
    limits of :mod:`customercard.spreadsheets` (file size, rows, columns, characters a cell); the apostrophe an
    export puts before a formula-like text (``'+46 …``) is taken off again."""
    return [(number, [unescape_cell(cell) for cell in cells]) for number, cells in read_rows(path)]


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
    for prefix in _segment_prefixes():
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
    columns = column_map()
    if key in columns:
        return columns[key]
    return f"segments.{criteria[key]}" if key in criteria else None


def _layout(header_row: int, headers: list[str], data: list[list[str]], choices: Choices) -> _Layout:
    """Which column holds which field; unknown, doubled and unknown-criterion columns as problems."""
    layout = _Layout()
    criteria = {header_key(name): name for name in choices.criteria}
    skip = _export_only_keys()
    unknown: list[str] = []
    seen: dict[str, str] = {}
    for index, header in enumerate(headers):
        target = _field_of(header, criteria)
        if target is None and header_key(header) in skip:
            layout.skipped.append(header)
        elif target == "":
            layout.problems.append((header_row, header, _(
                "{criterion} is not a segmentation criterion (System administration → Customers).").format(
                    criterion=quote(_segment_header(header)))))
        elif target is None:
            if any(index < len(cells) and cells[index] for cells in data):
                unknown.append(header or _("(column {n} without a header)").format(n=index + 1))
        elif target in seen:
            layout.problems.append((header_row, header, _("{first} and {second} both give {field}: keep one of "
                                                          "them.").format(first=quote(seen[target]),
                                                                          second=quote(header), field=target)))
        else:
            seen[target] = header
            layout.columns.append(_Column(index, header, target))
    if unknown:
        layout.problems.append((header_row, ", ".join(unknown), ngettext(
            "Unknown column: rename to a known header (see the column mapping) or remove.",
            "Unknown columns: rename to known headers (see the column mapping) or remove.", len(unknown))))
    return layout


# -- one row -----------------------------------------------------------------------------------------------
class _RowReader:
    """Turns one row's cells into field values for the model, with conversion problems per field. A cell longer
    than its field may be (:func:`cell_limit`) is a problem at once, and is not read any further."""

    def __init__(self, store: Store, choices: Choices) -> None:
        self.choices = choices
        blank = Customer()
        fields = [f for f in Customer.fields if f != "segments"]
        self.kinds = {f: type(blank.parameter(f)) for f in fields}
        self.limits = {f: cell_limit(f, blank.parameter(f)) for f in fields}
        self.segment_limit = text_limits(Criterion.param["values"])[0]
        # the firm's defaults for a new customer (its country, currency), set on each row's customer before its cells
        firm = store.new_customer().values()
        self.defaults = {f: v for f, v in firm.items() if to_text(v) != to_text(blank.get(f))}
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
            try:
                if column.field.startswith("segments."):
                    criterion = column.field.split(".", 1)[1]
                    segments[criterion] = self._segment(criterion, text)
                    continue
                if len(text) > self.limits[column.field]:
                    raise ValueError(_("At most {n} characters.").format(
                        n=formatting.number(self.limits[column.field])))
                values[column.field] = self._convert(column.field, text)
            except ValueError as exc:
                problems.setdefault(column.field.split(".", 1)[0] if column.field.startswith("segments.")
                                    else column.field, str(exc))
        if segments:
            values["segments"] = segments
        return values, problems

    def new_customer(self) -> Customer:
        """A customer with the firm's defaults (as the store's ``new_customer``, without offering list values:
        no form shows it)."""
        customer = Customer()
        customer.update_from(self.defaults)
        return customer

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
            raise ValueError(_("{text} is the name of several users: give the login.").format(text=quoted(text)))
        return named[0] if named else text

    def _segment(self, criterion: str, text: str) -> list[str]:
        allowed = self.choices.criteria.get(criterion, (True, []))[1]
        # values apart by commas — a value with a comma of its own ("Audit, tax") is the longest run of pieces that
        # names one, as the firm's own export writes it
        known = {header_key(value) for value in allowed}
        pieces = [piece.strip() for piece in text.split(",")]
        parts: list[str] = []
        start = 0
        while start < len(pieces):
            end = next((end for end in range(len(pieces), start + 1, -1)
                        if header_key(", ".join(pieces[start:end])) in known), start + 1)
            part = ", ".join(pieces[start:end]).strip()
            if part:
                parts.append(part)
            start = end
        too_long = next((part for part in parts if len(part) > self.segment_limit), None)
        if too_long is not None:
            raise ValueError(_("{value}: {problem}").format(value=quoted(too_long), problem=_(
                "At most {n} characters.").format(n=formatting.number(self.segment_limit))))
        return [_match(part, allowed) for part in parts]


def cell_limit(field: str, parameter: param.Parameter) -> int:
    """The most characters an import cell of ``field`` may hold: the field's own maximum length (the model's
    metadata); for a list value an admin list label's, for the account manager (a login or a user's name) a
    user's name's; for a number or yes/no a reference's."""
    limits = text_limits(parameter)
    if limits is not None:
        return limits[0]
    if field == "account_manager":
        return text_limits(User.param["name"])[0]
    if isinstance(parameter, param.Selector):
        return text_limits(ListValue.param["label"])[0]
    return REFERENCE_LENGTH


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
    raise ValueError(_("Use yes or no, not {text}.").format(text=quoted(text)))


def parse_number(text: str, language: str | None = None) -> float:
    """A number as people write it: '12.5', '12,5', '1 234,5', '1,234.5', '25 %' → float; else a ValueError.

    First as the reader of ``language`` (the current one) types it on the card (see
    :func:`customercard.formatting.read_number`): in English '1,234' is 1234, in Swedish 1.234 — never the one
    read as the other. A text that reading refuses is read the other way (a decimal comma in an English reader's
    file from a Swedish spreadsheet: '12,5'). No exponents, NaN or infinity."""
    compact = re.sub(r"%", "", text).strip()
    own = supported(language or current_language()) or "en"
    for reading in (own, "sv" if own == "en" else "en"):
        try:
            number = formatting.read_number(compact, reading)
        except ValueError:
            continue
        if number is not None and math.isfinite(number):
            return number
    raise ValueError(_("Not a number: {text}.").format(text=quoted(text)))


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
    may_not = _("{login} may not import customers: a manager or an administrator can.").format(login=quote(login))
    if not store.can(login, "read"):  # not a user at all, or deactivated: said as every command says it
        if store.get_user(login).active:  # (NotFound: "No user with the login …")
            raise PermissionDenied(may_not)
        raise PermissionDenied(_("The user “{login}” is deactivated.").format(login=login))
    # a viewer may check a file (a dry run), and is told that the import itself is not theirs to make
    refused = "" if store.can(login, "write") else may_not
    if refused and not dry_run:
        raise PermissionDenied(refused)
    table = read_table(path)
    if not table:
        raise CustomerCardError(_("{name} is empty.").format(name=Path(path).name))
    (header_row, headers), data = table[0], table[1:]
    csv_file = Path(path).suffix.lower() in CSV_SUFFIXES
    if not csv_file:  # a workbook's cell right of the header row's last is in a column without a header
        width = max(len(cells) for _n, cells in table)
        headers = headers + [""] * (width - len(headers))
    choices = store.choices()
    layout = _layout(header_row, headers, [cells for _n, cells in data], choices)
    if "name" not in {column.field for column in layout.columns}:
        raise CustomerCardError(_("{name} has no name column: its first row must name the columns, one of them "
                                  "“Name” (see the column mapping in the documentation).").format(name=Path(path).name))
    if not data:
        raise CustomerCardError(_("{name} has no customers under its header row.").format(name=Path(path).name))
    report = ImportReport(rows=len(data), dry_run=dry_run, problems=list(layout.problems),
                          skipped_columns=layout.skipped, refused=refused)
    reader = _RowReader(store, choices)
    rows = [_check_row(choices, reader, number, cells, layout.columns) for number, cells in data]
    order = {column.field: position for position, column in enumerate(layout.columns)}
    miscounted = _miscounted(headers, data) if csv_file else {}
    for row in rows:
        if row.number in miscounted:  # its values may be in the wrong columns: that is its only problem
            row.problems = {"": miscounted[row.number]}
            report.problems.append((row.number, _("(column {n} without a header)").format(n=len(headers) + 1),
                                    miscounted[row.number]))
            continue
        ranked = sorted(row.problems.items(), key=lambda item: order.get(item[0], len(order)))
        report.problems += [(row.number, _column_of(row, name), message) for name, message in ranked]
    report.duplicates = _duplicates(store, rows)
    if report.ok and not dry_run:
        _create(store, rows, login, report)
    return report


def _miscounted(headers: list[str], data: list[tuple[int, list[str]]]) -> dict[int, str]:
    """The CSV rows with more cells than the header row (past its last column, a cell not empty), each with its
    problem: a value with the separator in it, not in quotes, shifts every value after it. A row with fewer cells
    is taken as it is (its last cells empty), as many programs write them."""
    found = {}
    for number, cells in data:
        if len(cells) > len(headers) and any(cells[len(headers):]):
            found[number] = ngettext(
                "This row has {n} cell; the header has {m} (a comma or semicolon inside a value needs quotes).",
                "This row has {n} cells; the header has {m} (a comma or semicolon inside a value needs quotes).",
                len(cells)).format(n=len(cells), m=len(headers))
    return found


def _check_row(choices: Choices, reader: _RowReader, number: int, cells: list[str],
               columns: list[_Column]) -> _Row:
    """One row through the model: lengths and conversion, param's type and bound checks, then the model's
    validation."""
    values, problems = reader.values(cells, columns)
    customer = reader.new_customer()
    invoice = [column.field for column in columns if column.field.startswith("invoice_address.")]
    if invoice and not any(values.get(field) for field in invoice):  # no separate invoice address (as exported):
        values = {**{field: "" for field in invoice}, **values}  # none, not one in the firm's country
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
    header = CUSTOMER_HEADERS.get(name)  # (a field no column gave: its export header, in the reader's language)
    return _(header) if header else row.customer.label(name)


def _duplicates(store: Store, rows: list[_Row]) -> list[tuple[int, int | None, str, str]]:
    """Possible duplicates of existing customers (looked up for all rows at once), then of earlier rows of the
    same file. Only rows without problems are looked at: a refused row is not worth a search."""
    rows = [row for row in rows if not row.problems]
    wanted = [DuplicateQuery(name=r.customer.name, org_number=r.customer.org_number,
                             vat_number=r.customer.vat_number, nickname=r.customer.nickname) for r in rows]
    existing = store.duplicates_of(wanted)
    found: list[tuple[int, int | None, str, str]] = []
    by_org: dict[str, _Row] = {}
    by_name: dict[str, _Row] = {}
    for row, hits in zip(rows, existing, strict=True):
        c = row.customer
        found += [(row.number, int(cid), str(name), str(reason)) for cid, _number, name, _city, reason in hits]
        org = re.sub(r"[\s-]", "", c.org_number).casefold()
        for key, seen, reason in ((org, by_org, _("same organisation number as row {row} of this file")),
                                  (fold(c.name), by_name, _("same name as row {row} of this file"))):
            if not key:
                continue
            if key in seen:
                found.append((row.number, None, seen[key].customer.name, reason.format(row=seen[key].number)))
            else:
                seen[key] = row
    return found


def _create(store: Store, rows: list[_Row], login: str, report: ImportReport) -> None:
    """Create every row's customer in one transaction (Store.create_customers); a refusal (a list value
    deactivated meanwhile, say) rolls all back, and the rows refused now become problems."""
    try:
        created = store.create_customers([row.customer for row in rows], user=login)
    except ValidationError:
        choices = store.choices()
        for row in rows:
            report.problems += [(row.number, _column_of(row, name), message)
                                for name, message in row.customer.validate(choices).items()]
        return
    report.created = [int(customer.id) for customer in created]


# -- export ------------------------------------------------------------------------------------------------
def export_customers(store: Store, path: str | Path) -> int:
    """Write every customer (not merged-away ones) to a .csv or .xlsx file; returns how many.

    Columns have human headers in the reader's language that the import understands (see :data:`CUSTOMER_HEADERS`):
    list values as labels, the account manager's login and name, one column per segmentation criterion.
    """
    target, excel = _export_target(path)
    settings = store.settings()
    frame = customers_table(store.export_customers_frame(), settings.time_zone, settings.nicknames_enabled)
    _write(frame, target, excel, _("Customers"))
    return len(frame)


def export_contacts(store: Store, path: str | Path) -> int:
    """Write every contact person (active or not, with its customer) to a .csv or .xlsx file; returns how many."""
    target, excel = _export_target(path)
    frame = store.export_contacts_frame()
    frame = frame.assign(created_at=_local_times(frame["created_at"], store.settings().time_zone))
    table = _yes_no(frame[list(CONTACT_HEADERS)].rename(columns={k: _(v) for k, v in CONTACT_HEADERS.items()}))
    _write(table, target, excel, _("Contacts"))
    return len(table)


def customers_table(frame: pd.DataFrame, zone: str | None = None, nicknames: bool = True) -> pd.DataFrame:
    """The store's export frame with human headers in the reader's language, in the card's order, booleans as yes
    and no in it, the times of creation in the firm's time zone (``zone``); without the nickname column when the
    firm has switched nicknames off (``nicknames``), as the card and the lists then do not show them."""
    names: dict[str, str] = {"number": _("Customer number")}
    for name in Customer.fields:
        if name != "segments" and (nicknames or name != "nickname"):
            names[name] = _(CUSTOMER_HEADERS[name])
        if name == "account_manager":
            names["account_manager_name"] = _("Account manager name")
    for column in frame.columns:
        if column.startswith("segments."):
            names[column] = _(SEGMENT_HEADER).format(criterion=column.split(".", 1)[1])
    names.update({"created_at": _("Created"), "created_by": _("Created by")})
    table = frame.assign(created_at=_local_times(frame["created_at"], zone))[list(names)].rename(columns=names)
    return _yes_no(table)


def _local_times(column: pd.Series, zone: str | None) -> pd.Series:
    """Stored (UTC) times as the firm's local times, to the second: a spreadsheet shows them as they are."""
    return pd.to_datetime(column.map(lambda value: formatting.local_time(value, zone))).dt.floor("s")


def _yes_no(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = out[column].map({True: _("yes"), False: _("no")})
    return out


def _export_target(path: str | Path) -> tuple[Path, bool]:
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise CustomerCardError(_("Cannot export to “{name}”: use a file name ending in .csv or .xlsx.").format(
            name=target.name))
    if not target.parent.is_dir():
        raise CustomerCardError(_("No folder {parent} to write {name} into.").format(
            parent=target.parent, name=target.name))
    return target, suffix == ".xlsx"


def _write(frame: pd.DataFrame, target: Path, excel: bool, sheet: str) -> None:
    try:
        write_table(frame, target, excel, sheet, language=current_language())
    except OSError as exc:
        raise CustomerCardError(_("Cannot write {target}: {value}.").format(
            target=target, value=exc.strerror or exc)) from None


__all__ = [
    "COLUMN_MAP",
    "CONTACT_HEADERS",
    "CUSTOMER_HEADERS",
    "EXPORT_ONLY_HEADERS",
    "PLAIN_CRM_HEADERS",
    "ImportReport",
    "column_map",
    "export_contacts",
    "export_customers",
    "import_customers",
]
