"""The field registry: the one description of each of the customer's fields, read from the param model.

A :class:`Field` gathers what the model says about a field — its label and help, its kind, bounds and maximum
length (the parameter itself), and the facts kept in the parameter's ``metadata`` (the card section that edits it,
whether the super search indexes it, whether the economy system receives its changes, its export header; see
:data:`customercard.models.CUSTOMER_FACTS`). The store's columns, the export/import headers, the searched and
synced field sets, the card's edit forms and the history's labels are all read from here, so a new field is
described once, in the model.

Labels and headers are the English source texts; :attr:`Field.shown_label` and :attr:`Field.shown_header` say them
in the reader's language when drawn (a nested field's label is said part by part: 'Besöksadress · Ort').
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import param

from .i18n import N_, _
from .models import Customer, InvoiceDefaults, field_parameter, text_limits

#: The export headers made of a nested record's header prefix and a field's label (English): marked here so that
#: they are translated too (the catalog test checks that every field's header is a message of the catalogs).
COMPOSED_HEADERS = (N_("Invoice address"), N_("Invoice address line 2"), N_("Invoice postal code"),
                    N_("Invoice city"), N_("Invoice country"))

#: How a parameter's class reads in the registry (the first that matches).
KINDS: tuple[tuple[type, str], ...] = (
    (param.Boolean, "boolean"), (param.CalendarDate, "date"), (param.Date, "datetime"),
    (param.Integer, "integer"), (param.Number, "number"), (param.Selector, "choice"),
    (param.List, "list"), (param.Dict, "mapping"), (param.String, "text"),
)


@dataclass(frozen=True)
class Field:
    """One field of a record, as every part of customercard needs to know it."""

    #: Dotted name (``visit_address.city``).
    name: str
    #: The label (English source text), with the nested record's for nested fields.
    label: str
    #: The help text.
    doc: str
    #: boolean, date, datetime, integer, number, choice, list, mapping or text.
    kind: str
    #: (lowest, highest) for numbers, else None.
    bounds: tuple[Any, Any] | None
    #: Whether it may be empty (None).
    allow_none: bool
    #: Characters at most (texts), else None.
    max_length: int | None
    #: Whether tabs and line breaks belong in it.
    multiline: bool
    #: The admin list its values come from (industries, statuses …), else None.
    list_name: str | None
    #: The customers table column holding it (the list value's id for list fields); None when stored elsewhere.
    column: str | None
    #: The card section whose form edits it.
    section: str
    #: Whether the super search indexes it.
    searchable: bool
    #: Whether the economy system receives its changes (for linked customers).
    synced: bool
    #: The header of its column in exports, which the importer understands too.
    header: str
    #: The label's parts (the nested record's label and the field's), each an English source text.
    label_parts: tuple[str, ...] = ()

    @property
    def shown_label(self) -> str:
        """The label in the reader's language."""
        return " · ".join(_(part) for part in self.label_parts) if self.label_parts else _(self.label)

    @property
    def shown_header(self) -> str:
        """The export header in the reader's language."""
        return _(self.header)

    @property
    def parameter(self) -> param.Parameter:
        """The param Parameter behind the field (of the record class)."""
        return field_parameter(Customer, self.name)


def _kind(parameter: param.Parameter) -> str:
    return next(name for cls, name in KINDS if isinstance(parameter, cls))


def _field(name: str, parameter: param.Parameter, facts: dict[str, Any], outer: param.Parameter | None,
           list_name: str | None) -> Field:
    """One field from its parameter and the facts of its metadata (a nested field's from its record's too)."""
    outer_facts = dict(outer.metadata or {}) if outer is not None else {}
    attr = name.rsplit(".", 1)[-1]
    if facts.get("stored"):
        column = None
    elif list_name:
        column = f"{attr}_id"
    else:
        column = outer_facts.get("column_prefix", "") + attr
    label = parameter.label or attr
    header = facts.get("header") or (outer_facts["header_prefix"] + (label[:1].lower() + label[1:]
                                                                    if outer_facts["header_prefix"] else label)
                                     if outer is not None else label)
    limits = text_limits(parameter)
    bounds = getattr(parameter, "bounds", None)
    return Field(
        name=name, label=f"{outer.label} · {label}" if outer is not None else label, doc=parameter.doc or "",
        kind=_kind(parameter), bounds=tuple(bounds) if bounds is not None else None,
        allow_none=bool(parameter.allow_None), max_length=limits[0] if limits else None,
        multiline=bool(limits and limits[1]), list_name=list_name, column=column,
        section=facts.get("section") or outer_facts.get("section", ""),
        searchable=bool(facts.get("searchable") or outer_facts.get("searchable")),
        synced=bool(facts.get("synced") or outer_facts.get("synced")), header=header,
        label_parts=(outer.label, label) if outer is not None else (label,))


@functools.cache
def customer_fields() -> tuple[Field, ...]:
    """Every field a user edits and the store keeps (:attr:`Customer.fields`), in the model's order."""
    found = []
    for name in Customer.fields:
        parameter = field_parameter(Customer, name)
        if "." in name:
            outer_name = name.split(".", 1)[0]
            outer = Customer.param[outer_name]
            lists = InvoiceDefaults.lists if outer_name == "invoicing" else {}
            found.append(_field(name, parameter, dict(parameter.metadata or {}), outer,
                                lists.get(name.split(".", 1)[1])))
        else:
            found.append(_field(name, parameter, dict(parameter.metadata or {}), None, Customer.lists.get(name)))
    return tuple(found)


@functools.cache
def customer_field_names() -> frozenset[str]:
    """The dotted names of :func:`customer_fields`."""
    return frozenset(f.name for f in customer_fields())


@functools.cache
def customer_field(name: str) -> Field:
    """The field with this dotted name (KeyError for one the customer does not have)."""
    for found in customer_fields():
        if found.name == name:
            return found
    raise KeyError(name)


def section_fields(section: str) -> tuple[str, ...]:
    """The dotted names of the fields a card section's form edits, in the model's order."""
    return tuple(f.name for f in customer_fields() if f.section == section)


def searched_fields() -> frozenset[str]:
    """The fields the super search indexes (a save changing one updates the index)."""
    return frozenset(f.name for f in customer_fields() if f.searchable)


def synced_fields() -> frozenset[str]:
    """The fields whose changes the economy system receives."""
    return frozenset(f.name for f in customer_fields() if f.synced)


def export_headers() -> dict[str, str]:
    """Field → the header of its column in exports (the importer reads them back)."""
    return {f.name: f.header for f in customer_fields() if f.kind != "mapping"}


__all__ = ["Field", "customer_field", "customer_fields", "export_headers", "searched_fields", "section_fields",
           "synced_fields"]
