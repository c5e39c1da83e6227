"""The domain model: param-based objects with types, bounds, allowed values and docs.

No Panel and no SQL here. Validation lives here and is reused by the UI, the importer and the API:
:meth:`Record.validate` returns ``{field: message}`` and :meth:`Record.check` raises
:class:`~customercard.errors.ValidationError`. Nested objects (addresses, invoicing defaults) are
addressed with dotted field names such as ``visit_address.city``.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import param

from . import formatting, validators
from .errors import ValidationError
from .formatting import DEFAULT_TIME_ZONE
from .i18n import LANGUAGES, N_, _, quote

ROLES = (N_("admin"), N_("manager"), N_("viewer"))
WRITER_ROLES = ("admin", "manager")
EVENT_STATUSES = (N_("planned"), N_("done"), N_("cancelled"))
OPPORTUNITY_STATUSES = (N_("pipeline"), N_("won"), N_("lost"))
COMMENT_KINDS = ("comment", "email")
PROJECT_STATUSES = (N_("active"), N_("closed"))

#: The admin-editable lists, by name, with the label shown in System administration.
LIST_NAMES = {
    "industries": N_("Industries"),
    "statuses": N_("Customer statuses"),
    "payment_terms": N_("Payment terms"),
    "invoice_templates": N_("Invoice templates"),
    "invoice_languages": N_("Invoice languages"),
    "currencies": N_("Currencies"),
    "relation_types": N_("Relation types"),
    "event_types": N_("Event types"),
    "opportunity_stages": N_("Opportunity stages"),
}


#: The first and the last day a person may give a record (an event, a close, a follow-up…): around them the firm's
#: time zone, the calendar and the database's dates reach their ends.
FIRST_DAY = dt.date(1900, 1, 1)
LAST_DAY = dt.date(2199, 12, 31)

#: The key of :attr:`Choices.renamed` that maps segmentation criteria's former names to today's.
CRITERIA_RENAMED = "criteria"


@dataclass
class Choices:
    """What the admin lists and the users table allow right now; filled by the store.

    ``lists`` maps a list name (see :data:`LIST_NAMES`) to its active labels, in order.
    ``criteria`` maps a segmentation criterion's name to (multiple choice?, active values).
    ``renamed`` maps a list name to {a name its values had before an administrator renamed them: today's name}
    (a bookmark or a saved view written before the rename still means the same value); under
    :data:`CRITERIA_RENAMED`, the segmentation criteria's own former names.
    """

    lists: dict[str, list[str]] = field(default_factory=dict)
    managers: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    criteria: dict[str, tuple[bool, list[str]]] = field(default_factory=dict)
    countries: set[str] = field(default_factory=lambda: set(validators.COUNTRIES))
    phone_region: str = "SE"
    default_country: str = "SE"
    renamed: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Whether customers may have a nickname (the firm's switch): while off, none is given or changed.
    nicknames: bool = True
    #: Whether customers may have an invoice address of their own (the firm's switch): while off, none is given or
    #: changed (one given before stays, as the invoices' address).
    invoice_addresses: bool = True
    #: The currencies the firm has an exchange rate for (its base currency among them); None: not known here.
    rated: frozenset[str] | None = None

    def allowed(self, list_name: str) -> list[str]:
        return self.lists.get(list_name, [])

    def named_now(self, list_name: str, label: str) -> str:
        """What a value of a list that was called ``label`` is called today (``label`` itself if never renamed)."""
        return self.renamed.get(list_name, {}).get(label, label)


def to_text(value: Any) -> str | None:  # noqa: PLR0911 - one return per type is the plainest form
    """A value as the text kept in history (``None`` stays ``None``)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return json.dumps(list(value), ensure_ascii=False)
    return str(value)


def field_value(record: Any, field: str) -> Any:
    """A customer's (or a stored snapshot's) value of a field by its dotted name; ``segments.<criterion>``: the
    values chosen for that criterion (a new list); None for a field this version does not know."""
    if field.startswith("segments."):
        return list(record.segments.get(field.split(".", 1)[1], []))
    try:
        return record.get(field)
    except AttributeError:
        return None


def from_text(parameter: param.Parameter, text: str | None) -> Any:  # noqa: PLR0911 - one return per type
    """The inverse of :func:`to_text` for a parameter's type (used to restore a past value)."""
    if text is None:
        return None
    if isinstance(parameter, param.Boolean):
        return text == "true"
    if isinstance(parameter, param.Integer):
        return int(text)
    # param's dates are Numbers: they are asked first
    if isinstance(parameter, param.CalendarDate):
        return dt.date.fromisoformat(text)
    if isinstance(parameter, param.Date):
        return dt.datetime.fromisoformat(text)
    if isinstance(parameter, param.Number):
        return float(text)
    if isinstance(parameter, param.List | param.ListSelector):
        return json.loads(text)
    return text


def _blank(value: Any) -> bool:
    return validators.is_blank(value)


# -- texts and their limits ------------------------------------------------------------------------------
#: The maximum lengths texts have (in characters), by kind; each :func:`text_param` parameter names its own.
NAME_LENGTH = 200  # names and titles, address lines
REFERENCE_LENGTH = 100  # numbers, codes, references, logins, list values
NOTE_LENGTH = 20_000  # notes, descriptions, comment bodies
#: The largest amount an opportunity may be given (the database keeps 16 digits before the decimal point; checked
#: when it is saved, so that a larger one stored before still reads).
MAX_AMOUNT = 1_000_000_000_000
EMAIL_LENGTH = 254  # the longest e-mail address (RFC 5321)
URL_LENGTH = 2_000  # web addresses


def text_param(default: str = "", *, max_length: int = NAME_LENGTH, multiline: bool = False,
               direction_controls: bool = True, **params: Any) -> param.String:
    """A text parameter: a ``param.String`` whose ``metadata`` says ``max_length`` (characters) and ``multiline``
    (whether tabs and line breaks belong in it); ``direction_controls=False`` (metadata ``direction_controls``)
    for a text that names something and must read as typed, which then refuses the bidirectional overrides,
    embeddings and isolates (see :func:`validators.check_text`).

    The one place a text's limits are written: validation (:meth:`Record.validate`) refuses longer texts and
    control characters with a message, the forms size their widgets from it, the importer checks each cell
    against it before any other work, and a field registry reads it from the metadata.
    """
    metadata = {"max_length": max_length, "multiline": multiline}
    if not direction_controls:
        metadata["direction_controls"] = False
    return param.String(default=default, metadata=metadata, **params)


def text_list_param(default: list[str] | None = None, *, max_length: int = REFERENCE_LENGTH,
                    **params: Any) -> param.List:
    """A list of one-line texts (values, logins): ``metadata['max_length']`` characters each at most."""
    return param.List(default=list(default or []), item_type=str,
                      metadata={"max_length": max_length, "multiline": False}, **params)


def text_limits(parameter: param.Parameter) -> tuple[int, bool] | None:
    """(max_length, multiline) of a text or text-list parameter, else None."""
    metadata = getattr(parameter, "metadata", None) or {}
    if "max_length" not in metadata:
        return None
    return int(metadata["max_length"]), bool(metadata.get("multiline", False))


@functools.cache
def text_parameters(kind: type[param.Parameterized]) -> tuple[tuple[str, int, bool, bool], ...]:
    """(name, max_length, multiline, is a list) of every text parameter of a record class."""
    found = []
    for name, parameter in kind.param.objects(instance=False).items():
        limits = text_limits(parameter)
        if limits is not None:
            found.append((name, *limits, isinstance(parameter, param.List)))
    return tuple(found)


class _BoundsSaidToAPerson:
    """A number parameter whose bounds refusal is a :class:`ValidationError` naming the field, in a person's words
    ("Must be at least 0."): raised where the value is set, as param's own refusal (it is a ``ValueError`` too)."""

    def _validate_bounds(self, val: Any, bounds: Any, inclusive_bounds: Any) -> None:
        try:
            super()._validate_bounds(val, bounds, inclusive_bounds)
        except ValueError as exc:
            raise ValidationError({self.name: _param_message(exc, self, val)}) from exc

    def __set__(self, obj: Any, val: Any) -> None:
        """Set; refused on a record inside another (a customer's invoicing), the field is named as everywhere else:
        ``invoicing.vat_rate``, not ``vat_rate``."""
        try:
            super().__set__(obj, val)
        except ValidationError as exc:
            path = getattr(obj, "_nested_as", "") if obj is not None else ""
            if not path:
                raise
            raise ValidationError({f"{path}.{field}": message for field, message in exc.errors.items()}) from exc


class Number(_BoundsSaidToAPerson, param.Number):
    """``param.Number`` with its bounds refusal a :class:`ValidationError`."""


class Integer(_BoundsSaidToAPerson, param.Integer):
    """``param.Integer`` with its bounds refusal a :class:`ValidationError`."""


def _check_owner(errors: dict[str, str], owner: str, previous: Record | None, choices: Choices) -> None:
    """An owner (of an event, an opportunity, a follow-up) is a user; one given now — new, or changed since
    ``previous`` — is someone who can do the work and is reminded of it: an active manager or administrator (an
    owner kept from before, since deactivated or made a viewer, stays until someone reassigns it)."""
    if not owner or not choices.users:
        return
    if owner == (previous.get("owner") if previous is not None else None):
        return
    if owner not in choices.users:
        errors["owner"] = _("{login} is not a user.").format(login=quoted(owner))
    elif choices.managers and owner not in choices.managers:
        errors["owner"] = _("{login} cannot be the owner: choose an active manager or administrator.").format(
            login=quoted(owner))


def choice_param(**kwargs: Any) -> param.Selector:
    """A parameter for a value chosen from an admin list or the users: None until chosen; each record is offered the
    list's values when it is made, and its rules (not param) check a new choice."""
    return param.Selector(default=None, objects=[], allow_None=True, check_on_set=False, **kwargs)


def quoted(value: Any, at_most: int = 60) -> str:
    """A value in quotes for a message, shortened with '…' when long (a message never repeats a whole text)."""
    text = str(value)
    return quote(text if len(text) <= at_most else text[:at_most - 1] + "…")


def _text_problem(record: param.Parameterized, name: str, max_length: int, multiline: bool, is_list: bool) -> str:
    """Normalise one text field of ``record`` (see :func:`validators.check_text`); its problem, or ''."""
    value = getattr(record, name)
    if is_list:
        return _list_problem(record, name, max_length, value or [])
    if not isinstance(value, str):
        return ""
    direction_controls = (record.param[name].metadata or {}).get("direction_controls", True)
    try:
        _assign(record, name, validators.check_text(value, max_length, multiline, direction_controls))
    except ValueError as exc:
        return str(exc)
    return ""


def _list_problem(record: param.Parameterized, name: str, max_length: int, items: list[str]) -> str:
    checked = []
    for item in items:
        try:
            checked.append(validators.check_text(item, max_length))
        except ValueError as exc:
            return _("{value}: {problem}").format(value=quoted(item), problem=exc)
    _assign(record, name, checked)
    return ""


class Record(param.Parameterized):
    """Common behaviour of every domain object: values, copies, validation."""

    #: Fields a user edits and the store keeps, in display order; sub-records appear dotted.
    fields: ClassVar[tuple[str, ...]] = ()
    #: Nested records, by attribute name.
    nested: ClassVar[tuple[str, ...]] = ()
    #: What one is called, in the reader's language, where a refusal names it ("Customer has 1 problem: …").
    kind_label: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Numbers, dates, yes/no and texts share their parameter with the class: param copies a per-instance
        parameter the first time a value is set, which made reading a 2,000-row import take seconds more. Only
        parameters whose allowed values differ per record (selectors, see :meth:`Customer.apply_choices`) and
        containers keep a copy each.

        A record's values are values, never references to other parameters or functions: each parameter says so
        (``allow_refs=False`` given), else param looks into every value set at construction for a reference to
        warn of (a fifth of building a customer read from the store)."""
        super().__init_subclass__(**kwargs)
        for parameter in vars(cls).values():
            if not isinstance(parameter, param.Parameter):
                continue
            parameter.allow_refs = False
            if isinstance(parameter, param.Number | param.Boolean | param.String) and \
                    not isinstance(parameter, param.Selector):
                parameter.per_instance = False

    def __init__(self, **params: Any) -> None:
        nested_values = {name: params.pop(name) for name in list(params) if name in self.nested}
        if "name" in self.fields:
            params.setdefault("name", "")  # a real field here, not param's generated object name
        super().__init__(**params)
        for name, value in nested_values.items():
            if isinstance(value, dict):
                getattr(self, name).param.update(**value)
            else:
                setattr(self, name, value)

    def get(self, dotted: str) -> Any:
        """The value of a field, dotted names reaching into nested records."""
        target: Any = self
        for part in dotted.split("."):
            target = getattr(target, part)
        return target

    def parameter(self, dotted: str) -> param.Parameter:
        """The param Parameter (instance copy) behind a dotted field name."""
        owner, attr = self._owner(dotted)
        return owner.param[attr]

    def _owner(self, dotted: str) -> tuple[Record, str]:
        parts = dotted.split(".")
        owner: Any = self
        for part in parts[:-1]:
            owner = getattr(owner, part)
        return owner, parts[-1]

    def set(self, dotted: str, value: Any) -> None:
        """Set a field by dotted name; param's own type and bounds checks apply."""
        owner, attr = self._owner(dotted)
        setattr(owner, attr, value)

    def values(self) -> dict[str, Any]:
        """Every user field, dotted, with its value (lists copied)."""
        out = {}
        for name in self.fields:
            value = self.get(name)
            out[name] = list(value) if isinstance(value, list) else (dict(value) if isinstance(value, dict)
                                                                      else value)
        return out

    def label(self, dotted: str) -> str:
        """The human label of a field in the reader's language, with its section for nested fields (e.g. 'Invoice
        address · City')."""
        owner, attr = self._owner(dotted)
        text = _(owner.param[attr].label)
        if owner is not self:
            text = f"{_(self.param[dotted.split('.', maxsplit=1)[0]].label)} · {text}"
        return text

    def update_from(self, values: dict[str, Any]) -> dict[str, str]:
        """Set many fields, collecting param's type/bounds refusals as messages instead of raising."""
        errors: dict[str, str] = {}
        for name, value in values.items():
            try:
                self.set(name, value)
            except (ValueError, TypeError) as exc:
                errors[name] = _param_message(exc, self.parameter(name), value)
        return errors

    def copy(self) -> Record:
        """An independent copy (nested records copied too), keeping per-instance allowed values."""
        clone = type(self)(**{k: copy.deepcopy(v) if isinstance(v, (dict, list)) else v
                              for k, v in self.param.values().items() if k not in self.nested})
        for name in self.nested:
            setattr(clone, name, getattr(self, name).copy())
        # a record's own allowed values live in its instance parameters (the class's are every record's): only
        # those made already are looked at — asking for each one made a copy of every parameter of the record
        made = self.param.objects("existing")
        for pname, parameter in made.items():
            objects = getattr(parameter, "objects", None)
            if objects is not None and parameter is not type(self).param[pname]:
                clone.param[pname].objects = list(objects)
        stored = self.__dict__.get("_stored")  # what the store read (see Store.get_customer); never changed
        if stored is not None:
            clone._stored = stored
        if self.__dict__.get("_unreadable"):
            clone._unreadable = dict(self._unreadable)
        return clone

    def rewrite_unreadable(self, fields: Iterable[str]) -> None:
        """Write these of :attr:`unreadable` at the next save, whatever they hold (the default they were read as
        included): the person saved the form they are in."""
        self._rewrite = {field for field in fields if field in self.unreadable}

    @property
    def unreadable(self) -> dict[str, str]:
        """The fields whose stored values the model refuses (written by another program, or before a rule was
        tightened), each read as its default: {field: the stored value as text}. Empty for almost every record."""
        return dict(self.__dict__.get("_unreadable") or {})

    def validate(self, choices: Choices | None = None, previous: Record | None = None,
                 prefix: str = "") -> dict[str, str]:
        """Every problem, as ``{dotted field: message}`` (names after ``prefix``); empty when all is well.

        Texts come first: each is normalised and checked against its parameter's ``max_length`` and for control
        characters (:func:`text_param`), and that problem is the one told for the field. Then :meth:`rules`, which skip
        the costly checks of a field already refused. A text unchanged since ``previous`` (what is stored) stays as it
        is, as a deactivated list value does: an older version's long title does not stop an event being marked done.
        """
        self._moments_in_utc()
        texts = self.text_errors(prefix, previous)
        errors = dict(texts)
        self.rules(choices or Choices(), previous, prefix, errors)
        errors.update(texts)
        for name, message in self.date_errors(prefix, previous).items():
            errors.setdefault(name, message)
        return errors

    def _moments_in_utc(self) -> None:
        """A moment given with its zone (10:00 in Stockholm) as the store keeps moments: in UTC, without a zone (09:00)
        — compared with the stored ones, written and shown the same on every backend and through a server."""
        for name in self.fields:
            value = getattr(self, name, None)
            if isinstance(value, dt.datetime) and value.tzinfo is not None:
                try:
                    setattr(self, name, value.astimezone(dt.UTC).replace(tzinfo=None))
                except OverflowError:  # at the calendar's very ends: left for date_errors to refuse
                    continue

    def date_errors(self, prefix: str = "", previous: Record | Snapshot | None = None) -> dict[str, str]:
        """``{dotted field: message}`` for the dates and times a person gives that lie outside the years
        :data:`FIRST_DAY`–:data:`LAST_DAY` (year 9999 or 1 was kept, and the card could not show it, nor the board
        choose its month). A value as ``previous`` has it is left alone."""
        errors: dict[str, str] = {}
        for name in self.fields:
            parameter = self.param[name] if name in self.param else None  # noqa: SIM401 - param has no .get
            if not isinstance(parameter, param.Date | param.CalendarDate):
                continue
            value = getattr(self, name)
            if value is None or (previous is not None and getattr(previous, name, None) == value):
                continue
            day = value.date() if isinstance(value, dt.datetime) else value
            if not FIRST_DAY <= day <= LAST_DAY:
                errors[prefix + name] = _("Give a date from {first} to {last}.").format(
                    first=formatting.date(FIRST_DAY), last=formatting.date(LAST_DAY))
        return errors

    def text_errors(self, prefix: str = "", previous: Record | Snapshot | None = None) -> dict[str, str]:
        """``{dotted field: message}`` for the texts that are too long or hold control characters; the others are
        normalised (spaces at the ends dropped, line ends as \\n). Texts as ``previous`` has them are left alone."""
        errors: dict[str, str] = {}
        for name, max_length, multiline, is_list in text_parameters(type(self)):
            if previous is not None and getattr(self, name) == previous.get(name):
                continue
            problem = _text_problem(self, name, max_length, multiline, is_list)
            if problem:
                errors[prefix + name] = problem
        return errors

    def rules(self, choices: Choices, previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        """The record's own rules: add ``{dotted field: message}`` to ``errors``, which already holds the text
        problems (a rule need not check a field found there)."""

    def check(self, choices: Choices | None = None, previous: Record | None = None) -> None:
        """Normalise and validate; raise :class:`ValidationError` naming every bad field."""
        errors = self.validate(choices or Choices(), previous)
        if errors:
            raise ValidationError(errors, what=_(self.kind_label) if self.kind_label else type(self).__name__)


def _param_message(exc: Exception, parameter: param.Parameter | None = None, value: Any = None) -> str:
    """What param's refusal of ``value`` for ``parameter`` means, said to the person who typed it."""
    if isinstance(exc, ValidationError) and len(exc.errors) == 1:  # said to a person already (:class:`Number`)
        return next(iter(exc.errors.values()))
    text = str(exc)
    match = re.search(r"must be at least (\S+), not", text)
    if match:
        return _("Must be at least {n}.").format(n=_bound_text(match.group(1)))
    match = re.search(r"must be at most (\S+), not", text)
    if match:
        return _("Must be at most {n}.").format(n=_bound_text(match.group(1)))
    if isinstance(parameter, param.Number) and not isinstance(parameter, param.Date | param.CalendarDate):
        return _number_message(parameter, value)
    if "must be a" in text or "only takes" in text:
        return _("Not a value of the right kind (for example a number where a number is expected).")
    return text


def _bound_text(bound: str) -> str:
    """A bound as the reader writes numbers (1 000 000 000 000 in Swedish)."""
    try:
        return formatting.figure(float(bound))
    except ValueError:
        return bound


def _number_message(parameter: param.Number, value: Any) -> str:
    """Why a number field refuses ``value``: it was left empty (and takes no empty value), or it is no number (a
    form passes on what it could not read as one). A field's own words for empty are its ``empty_message``
    (metadata)."""
    whole = isinstance(parameter, param.Integer)
    if _blank(value):
        own = (parameter.metadata or {}).get("empty_message")
        if own:
            return _(own)
        low = (parameter.bounds or (None, None))[0]
        if whole:
            return _("Enter a whole number, or 0.") if low is not None and low <= 0 else _("Enter a whole number.")
        return _("Enter a number, or 0.") if low is not None and low <= 0 else _("Enter a number.")
    if whole:
        return _("Not a whole number: write digits, like 12.")
    return _("Not a number: write digits, like {example}.").format(example=formatting.number(12.5, 1))


def _assign(record: Record, name: str, value: Any) -> None:
    """Set a field only when the value differs (param copies a parameter per instance on every set)."""
    if getattr(record, name) != value:
        setattr(record, name, value)


def _normalise(record: Record, errors: dict[str, str], prefix: str, name: str, checker, *args,
               previous: Any = None) -> None:
    """Run a validators.check_* on a text field; store the normal form or collect the message. A field already
    refused (too long, a control character) is not read again; with ``previous`` (the record as stored), a value
    as stored is left as it is (a rule made stricter since it was written, or a normal form changed since — GR
    written EL — neither rewrites it nor refuses a save of other fields: it is checked when it is changed)."""
    if f"{prefix}{name}" in errors:
        return
    value = getattr(record, name)
    if previous is not None and value == previous.get(name):
        return
    if _blank(value):
        _assign(record, name, "")
        return
    try:
        _assign(record, name, checker(value, *args))
    except ValueError as exc:
        errors[f"{prefix}{name}"] = str(exc)


def _one_line(record: Record, name: str, prefix: str, errors: dict[str, str], missing: str | None = None) -> None:
    """Drop the spaces at the ends of a text and fold those inside (unless it has an error already); with
    ``missing``, the message when it is then empty."""
    if prefix + name not in errors:
        _assign(record, name, " ".join((getattr(record, name) or "").split()))
    if missing is not None and not getattr(record, name):
        errors.setdefault(prefix + name, missing)


def _check_list_value(record: Record, attr: str, list_name: str, choices: Choices, previous: Record | None,
                      errors: dict[str, str], key: str) -> None:
    """A value of an admin list: one chosen under a name an administrator has changed since (a form open across the
    rename) is the same value, taken under its name today; then it must be one the list allows."""
    value, before = getattr(record, attr), (previous.get(attr) if previous is not None else None)
    allowed = choices.allowed(list_name)
    if not _blank(value) and value != before and value not in allowed:
        now = choices.named_now(list_name, value)
        if now != value and now in allowed:
            _assign(record, attr, now)
    _check_choice(errors, key, getattr(record, attr), allowed, before, LIST_NAMES[list_name])


def _check_choice(errors: dict[str, str], key: str, value: Any, allowed: Iterable[str],
                  previous: Any, what: str) -> None:
    if _blank(value) or value == previous:
        return
    if value not in allowed:
        errors[key] = _("{value} is not one of the {what} (System administration → Customers).").format(
            value=quoted(value), what=_(what).lower())


def field_owner(kind: type[Record], dotted: str) -> tuple[type[Record], str]:
    """The record class that has a (dotted) field of ``kind``, and the field's own name there."""
    owner: Any = kind
    *path, name = dotted.split(".")
    for part in path:
        owner = owner.param[part].class_
    return owner, name


def field_parameter(kind: type[Record], dotted: str) -> param.Parameter:
    """The class parameter behind a (dotted) field of ``kind``."""
    owner, name = field_owner(kind, dotted)
    return owner.param[name]


def missing(value: Any) -> bool:
    """Whether a value is missing: None, or pandas' missing value (NaN, NaT, NA)."""
    if value is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(value))
    except (TypeError, ValueError):  # a list, or an object pandas cannot tell
        return False


class Snapshot:
    """A stored record's values by dotted field name, without building param objects (the store's view of
    what is stored when it checks a save); offers ``get`` like :class:`Record`."""

    def __init__(self, values: dict[str, Any], **attributes: Any) -> None:
        self._values = values
        self.__dict__.update(attributes)

    def get(self, dotted: str) -> Any:
        return self._values.get(dotted)

    def values(self) -> dict[str, Any]:
        return dict(self._values)

    def part(self, name: str) -> Snapshot:
        """The values of a nested record ('invoicing', 'visit_address'), by their own names."""
        return Snapshot({k.split(".", 1)[1]: v for k, v in self._values.items() if k.startswith(name + ".")})

    @property
    def invoicing(self) -> Snapshot:
        return self.part("invoicing")


def _part(previous: Record | Snapshot | None, name: str) -> Record | Snapshot | None:
    """The stored values of a nested record, for its validation."""
    if isinstance(previous, Snapshot):
        return previous.part(name)
    return getattr(previous, name, None)


class Address(Record):
    """A postal address: the visiting address, or a separate invoice address."""

    kind_label: ClassVar[str] = N_("Address")

    fields = ("line1", "line2", "postal_code", "city", "country")

    line1 = text_param(default="", label=N_("Address"), doc=N_("Street and number."))
    line2 = text_param(default="", label=N_("Address line 2"), doc=N_("Building, floor, c/o, box."))
    postal_code = text_param(default="", max_length=20, label=N_("Postal code"),
                             doc=N_("Checked against the country's format."))
    city = text_param(default="", label=N_("City"), doc=N_("Postal town."))
    country = text_param(default="SE", max_length=REFERENCE_LENGTH, label=N_("Country"),
                         doc=N_("The two-letter ISO 3166 code (SE) or the country's name (Sweden, Sverige)."))

    def is_empty(self) -> bool:
        return all(_blank(getattr(self, name)) for name in ("line1", "line2", "postal_code", "city"))

    def one_line(self) -> str:
        """The address on one line, as a route planner or a list shows it."""
        parts = [self.line1, self.line2, " ".join(p for p in (self.postal_code, self.city) if p)]
        return ", ".join(p for p in parts if p and p.strip())

    def rules(self, choices: Choices, _previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        if _blank(self.country) and not self.is_empty():
            errors.setdefault(prefix + "country", _("Give the country of this address."))
        elif not _blank(self.country):
            _normalise(self, errors, prefix, "country", validators.check_country, choices.countries)
        country = self.country if prefix + "country" not in errors else ""
        _normalise(self, errors, prefix, "postal_code", validators.check_postal_code, country)


class InvoiceDefaults(Record):
    """Standard invoice settings for the customer; projects and invoices can still override them."""

    kind_label: ClassVar[str] = N_("Invoicing defaults")

    fields = ("invoice_template", "payment_term", "currency", "calculate_vat", "vat_rate",
              "discount_pct", "invoice_language", "our_reference", "their_reference")
    lists: ClassVar[dict[str, str]] = {
        "invoice_template": "invoice_templates",
        "payment_term": "payment_terms",
        "currency": "currencies",
        "invoice_language": "invoice_languages",
    }

    invoice_template = choice_param(label=N_("Invoice template"),
                                      doc=N_("Default template for One Click Invoicing."))
    payment_term = choice_param(label=N_("Payment term"), doc=N_("Default payment term of invoices."))
    currency = choice_param(label=N_("Currency"), doc=N_("Currency the customer is invoiced in."))
    calculate_vat = param.Boolean(default=True, label=N_("Calculate VAT"), doc=N_("Whether invoices add VAT."))
    vat_rate = Number(default=25.0, bounds=(0, 100), label=N_("VAT rate (%)"), doc=N_("VAT percentage."))
    discount_pct = Number(default=0.0, bounds=(0, 100), label=N_("Discount (%)"),
                                doc=N_("Default discount on invoice lines, 0–100."))
    invoice_language = choice_param(label=N_("Invoice language"), doc=N_("Language invoices are printed in."))
    our_reference = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Our reference"),
                               doc=N_("Printed on invoices as ours."))
    their_reference = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Their reference"),
                                 doc=N_("The customer's reference, printed on invoices."))

    def rules(self, choices: Choices, previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        for attr, list_name in self.lists.items():
            _check_list_value(self, attr, list_name, choices, previous, errors, prefix + attr)


class Customer(Record):
    """A customer of the firm: everything the customer card shows and edits."""

    kind_label: ClassVar[str] = N_("Customer")

    nested = ("visit_address", "invoice_address", "invoicing")
    fields = (
        "name", "nickname", "account_manager", "industry", "status", "archived",
        *(f"visit_address.{f}" for f in Address.fields),
        "phone", "email", "website", "vat_number", "org_number", "gln",
        "use_invoice_address", *(f"invoice_address.{f}" for f in Address.fields),
        "expenses_billable", "mileage_billable", "default_distance_km", "max_distance_km",
        *(f"invoicing.{f}" for f in InvoiceDefaults.fields),
        "segments",
    )
    lists: ClassVar[dict[str, str]] = {"industry": "industries", "status": "statuses"}

    id = Integer(default=None, allow_None=True, label=N_("Id"), doc=N_("Internal key; None until created."))
    number = Integer(default=None, allow_None=True, label=N_("Customer number"),
                           doc=N_("Unique customer number, given automatically on creation."))
    name = text_param(default="", constant=False, direction_controls=False, label=N_("Name"),
                      doc=N_("The customer's registered name. Required."))
    nickname = text_param(default="", direction_controls=False, label=N_("Nickname"),
                          doc=N_("An alternative working name (e.g. a former name); found by the super search."))
    account_manager = choice_param(label=N_("Account manager"),
                                     doc=N_("Login of the colleague responsible for the customer."),
                                     metadata={"people": True})  # logins: a form offers them by name
    industry = choice_param(label=N_("Industry"), doc=N_("From the admin list of industries."))
    status = choice_param(label=N_("Status"), doc=N_("From the admin list of customer statuses."))
    archived = param.Boolean(default=False, label=N_("Archived"),
                             doc=N_("Archived customers are kept (people refer to them) but hidden by default."))
    merged_into = Integer(default=None, allow_None=True, label=N_("Merged into"),
                                doc=N_("The surviving customer when this one was merged away."))

    visit_address = param.ClassSelector(class_=Address, default=None, label=N_("Visiting address"),
                                        doc=N_("Where the customer is; also the invoice address unless "
                                            "a separate one is used."))
    phone = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Phone"),
                       doc=N_("Switchboard number; formatted internationally."))
    email = text_param(default="", max_length=EMAIL_LENGTH, label=N_("E-mail"), doc=N_("General e-mail address."))
    website = text_param(default="", max_length=URL_LENGTH, label=N_("Website"), doc=N_("Web address."))
    vat_number = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("VAT number"),
                            doc=N_("EU VAT number with country prefix."))
    org_number = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Organisation number"),
                            doc=N_("Company registration number, checked for the visiting country."))
    gln = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("GLN/EAN"),
                     doc=N_("13-digit GS1 location number for e-invoices."))

    use_invoice_address = param.Boolean(default=False, label=N_("Separate invoice address"),
                                        doc=N_("Invoice to the invoice address instead of the visiting address."))
    invoice_address = param.ClassSelector(class_=Address, default=None, label=N_("Invoice address"),
                                          doc=N_("Printed on invoices when a separate invoice address is used."))

    expenses_billable = param.Boolean(default=True, label=N_("Expenses billable by default"),
                                      doc=N_("Whether reported external expenses are re-invoiced by default."))
    mileage_billable = param.Boolean(default=True, label=N_("Mileage billable by default"),
                                     doc=N_("Whether reported mileage is re-invoiced by default."))
    default_distance_km = Number(default=0.0, bounds=(0, 20000), label=N_("Default distance (km)"),
                                       doc=N_("Usual distance to the customer, so nobody has to remember it."))
    max_distance_km = Number(default=None, allow_None=True, bounds=(0, 20000),
                                   label=N_("Maximum billable distance per trip (km)"),
                                   doc=N_("Agreed maximum per trip; empty means no limit. "
                                       "Not below the default distance."))

    invoicing = param.ClassSelector(class_=InvoiceDefaults, default=None, label=N_("Invoicing"),
                                    doc=N_("Standard invoice settings for this customer."))
    segments = param.Dict(default={}, label=N_("Segmentation"),
                          doc=N_("Segmentation criterion name → chosen values (searchable in Search customers)."))

    erp_system = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Economy system"),
                            doc=N_("Linked economy system, if any."))
    erp_customer_id = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Customer id in the economy system"))
    erp_synced_at = param.Date(default=None, allow_None=True, label=N_("Last synchronised"))

    created_at = param.Date(default=None, allow_None=True, label=N_("Created"), doc=N_("When it was created."))
    created_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Created by"),
                            doc=N_("Login of who created it."))
    updated_at = param.Date(default=None, allow_None=True, label=N_("Last updated"))
    updated_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Last updated by"))
    version = Integer(default=0, bounds=(0, None), label=N_("Version"),
                            doc=N_("Bumped by every save; a save from an older version is a conflict."))

    def __init__(self, **params: Any) -> None:
        for name, kind in (("visit_address", Address), ("invoice_address", Address), ("invoicing", InvoiceDefaults)):
            if name not in params:
                params[name] = kind()
        super().__init__(**params)
        self._name_nested()

    @param.depends(*nested, watch=True)
    def _name_nested(self) -> None:
        """Each record inside knows the field it is (a refusal when a value is set there names it dotted)."""
        for name in self.nested:
            inner = getattr(self, name, None)
            if inner is not None:
                inner._nested_as = name

    #: What the history records beside the fields: the other side of a merge (see Store.merge_customers).
    HISTORY_ONLY: ClassVar[dict[str, str]] = {"merged_from": N_("Merged from"), "merged_into": N_("Merged into")}

    def label(self, dotted: str) -> str:
        """The human label of a field, or of a history-only entry such as 'merged_from'."""
        if dotted in self.HISTORY_ONLY:
            return _(self.HISTORY_ONLY[dotted])
        return super().label(dotted)

    @property
    def billing_address(self) -> Address:
        """The address invoices go to: the invoice address if used, else the visiting address."""
        if self.use_invoice_address and not self.invoice_address.is_empty():
            return self.invoice_address
        return self.visit_address

    @property
    def is_linked(self) -> bool:
        return bool(self.erp_system and self.erp_customer_id)

    def apply_choices(self, choices: Choices) -> None:
        """Offer the active list values (plus each current value, even if deactivated since)."""
        def offer(owner: Record, attr: str, allowed: list[str]) -> None:
            current = getattr(owner, attr)
            owner.param[attr].objects = allowed + ([current] if current and current not in allowed else [])
        for attr, list_name in self.lists.items():
            offer(self, attr, choices.allowed(list_name))
        for attr, list_name in InvoiceDefaults.lists.items():
            offer(self.invoicing, attr, choices.allowed(list_name))
        offer(self, "account_manager", list(choices.managers))

    def rules(self, choices: Choices, previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not self.name:
            errors["name"] = _("The customer needs a name.")
        if not choices.nicknames and self.nickname != ((previous.get("nickname") if previous is not None else "")
                                                       or ""):
            errors["nickname"] = _("The firm has switched nicknames off (System administration → Customers → "
                                   "Settings).")
        for attr, list_name in self.lists.items():
            _check_list_value(self, attr, list_name, choices, previous, errors, attr)
        before_manager = previous.get("account_manager") if previous is not None else None
        _check_choice(errors, "account_manager", self.account_manager, choices.managers, before_manager,
                      N_("active managers"))
        errors.update(self.visit_address.validate(choices, _part(previous, "visit_address"), prefix="visit_address."))
        errors.update(self.invoice_address.validate(choices, _part(previous, "invoice_address"),
                                                    prefix="invoice_address."))
        self._invoice_address_rules(choices, previous, errors)
        country = self.visit_address.country or choices.default_country
        region = validators.phone_region(country, choices.phone_region)
        # a number read by the customer's country is checked again when the country changes (a Swedish
        # organisation number on a customer moved to Norway), else left as stored
        stored = _part(previous, "visit_address")
        moved = stored is not None and (stored.get("country") or choices.default_country) != country
        by_country = None if moved else previous
        _normalise(self, errors, "", "phone", validators.check_phone, region, previous=by_country)
        _normalise(self, errors, "", "email", validators.check_email, previous=previous)
        _normalise(self, errors, "", "website", validators.check_website, previous=previous)
        _normalise(self, errors, "", "vat_number", validators.check_vat_number, country, previous=by_country)
        _normalise(self, errors, "", "org_number", validators.check_org_number, country, previous=by_country)
        _normalise(self, errors, "", "gln", validators.check_gln, previous=previous)
        if (self.max_distance_km is not None and self.default_distance_km is not None
                and self.max_distance_km < self.default_distance_km):
            errors["max_distance_km"] = _(
                "The maximum billable distance ({maximum} km) cannot be below the default distance ({default} km)."
            ).format(maximum=formatting.typed(self.max_distance_km),
                     default=formatting.typed(self.default_distance_km))
        errors.update(self.invoicing.validate(choices, _part(previous, "invoicing"), prefix="invoicing."))
        errors.update(self._validate_segments(choices, previous))

    def _invoice_address_rules(self, choices: Choices, previous: Record | None, errors: dict[str, str]) -> None:
        """A separate invoice address is given (turned on, or its lines changed while on) only while the firm's switch
        allows it, and not empty: the card said "Same as visiting address" while the switch stayed on."""
        before = _part(previous, "invoice_address")
        used_before = bool(previous.get("use_invoice_address")) if previous is not None else False
        lines = ("line1", "line2", "postal_code", "city")
        moved = any((getattr(self.invoice_address, name) or "") != ((before.get(name) if before is not None else "")
                                                                   or "") for name in lines)
        given = self.use_invoice_address and (not used_before or moved)
        if given and not choices.invoice_addresses:
            errors.setdefault("use_invoice_address", _(
                "The firm has switched separate invoice addresses off (System administration → Customers → "
                "Settings)."))
        elif given and self.invoice_address.is_empty():
            errors.setdefault("use_invoice_address", _(
                "Give the invoice address, or do not use a separate one."))

    def _validate_segments(self, choices: Choices, previous: Record | None) -> dict[str, str]:
        before = getattr(previous, "segments", None) or {}
        problems = []
        cleaned: dict[str, list[str]] = {}
        for criterion, chosen in (self.segments or {}).items():
            values = [chosen] if isinstance(chosen, str) else list(chosen or [])
            if not values:
                continue
            if criterion not in choices.criteria:
                if values != list(before.get(criterion, [])):
                    problems.append(_("{criterion} is not a segmentation criterion.").format(
                        criterion=quoted(criterion)))
                cleaned[criterion] = values
                continue
            multiple, allowed = choices.criteria[criterion]
            unknown = [v for v in values if v not in allowed and v not in before.get(criterion, [])]
            if unknown:
                problems.append(_("{criterion}: {value} is not one of its values.").format(
                    criterion=criterion, value=quoted(unknown[0])))
            # values stored before the criterion became single-choice stay until someone changes them
            if not multiple and len(values) > 1 and sorted(values) != sorted(before.get(criterion, [])):
                problems.append(_("{criterion} takes one value, not {n}.").format(criterion=criterion,
                                                                                  n=len(values)))
            cleaned[criterion] = list(dict.fromkeys(values))
        self.segments = cleaned
        return {"segments": " ".join(problems)} if problems else {}


#: What the rest of customercard needs to know about each of the customer's fields, kept in the parameters'
#: ``metadata`` beside their type, bounds and limits (read by :mod:`customercard.fields`, the field registry):
#: the card section that edits it, whether the super search indexes it, whether the economy system receives its
#: changes, and the export/import header where it is not the label. A nested record's parameter says how its
#: fields' columns and headers begin (``column_prefix``, ``header_prefix``) and their section.
CUSTOMER_FACTS: dict[str, dict[str, Any]] = {
    "name": {"section": "header", "searchable": True, "synced": True},
    "nickname": {"section": "header", "searchable": True},
    "account_manager": {"section": "header"},
    "industry": {"section": "header"},
    "status": {"section": "header"},
    "archived": {"section": "header"},
    "visit_address": {"section": "contact", "synced": True, "column_prefix": "visit_", "header_prefix": ""},
    "phone": {"section": "contact", "searchable": True, "synced": True},
    "email": {"section": "contact", "searchable": True, "synced": True},
    "website": {"section": "contact", "synced": True},
    "vat_number": {"section": "contact", "searchable": True, "synced": True},
    "org_number": {"section": "contact", "searchable": True, "synced": True},
    "gln": {"section": "contact", "synced": True, "header": N_("GLN")},
    "use_invoice_address": {"section": "invoice_address", "synced": True},
    "invoice_address": {"section": "invoice_address", "synced": True, "column_prefix": "invoice_",
                        "header_prefix": "Invoice "},
    "expenses_billable": {"section": "economy", "header": N_("Expenses billable")},
    "mileage_billable": {"section": "economy", "header": N_("Mileage billable")},
    "default_distance_km": {"section": "economy", "empty_message": N_("Enter a number of kilometres, or 0.")},
    "max_distance_km": {"section": "economy", "header": N_("Maximum distance (km)")},
    "invoicing": {"section": "economy", "column_prefix": "", "header_prefix": ""},
    "segments": {"section": "groups", "stored": "customer_segments"},
}


def _describe(record: type[Record], facts: dict[str, dict[str, Any]]) -> None:
    """Put facts about fields into their parameters' metadata (next to what :func:`text_param` keeps there)."""
    for name, more in facts.items():
        parameter = record.param[name]
        parameter.metadata = {**(parameter.metadata or {}), **more}


_describe(Customer, CUSTOMER_FACTS)


class Contact(Record):
    """A contact person at a customer."""

    kind_label: ClassVar[str] = N_("Contact person")

    fields = ("first_name", "last_name", "title", "email", "phone", "mobile", "active", "notes")

    id = Integer(default=None, allow_None=True, doc="Internal key; None until created.")
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"),
                           doc=N_("The customer this person works at."))
    first_name = text_param(default="", label=N_("First name"))
    last_name = text_param(default="", label=N_("Last name"))
    title = text_param(default="", label=N_("Title"), doc=N_("Role or job title, e.g. CFO."))
    email = text_param(default="", max_length=EMAIL_LENGTH, label=N_("E-mail"))
    phone = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Phone"))
    mobile = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Mobile"))
    active = param.Boolean(default=True, label=N_("Active"), doc=N_("Inactive contacts are hidden unless asked for."))
    notes = text_param(default="", max_length=NOTE_LENGTH, multiline=True, label=N_("Notes"))
    country = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Country"), doc=(
        N_("The customer's visiting country (kept with the customer, not the contact): phone numbers written without "
        "a country code are read as this country's. The store fills it in before it validates.")))
    created_at = param.Date(default=None, allow_None=True, label=N_("Created"))
    created_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Created by"))
    updated_at = param.Date(default=None, allow_None=True, label=N_("Last updated"))
    updated_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Last updated by"))
    version = Integer(default=0, bounds=(0, None))

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    def rules(self, choices: Choices, _previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not (self.first_name or self.last_name):
            errors["last_name"] = _("A contact person needs a first or a last name.")
        _normalise(self, errors, "", "email", validators.check_email)
        # read as the customer's numbers are: in its country, else the firm's phone region
        region = validators.phone_region(self.country, choices.phone_region)
        _normalise(self, errors, "", "phone", validators.check_phone, region)
        _normalise(self, errors, "", "mobile", validators.check_phone, region)


#: The earliest date a comment can have, and how many days after today the latest is: a comment is about what
#: happened, or about to (a date typed with a wrong year stays within reach, and never stays first for ever).
COMMENT_EARLIEST = dt.date(1900, 1, 1)
COMMENT_DAYS_AHEAD = 366


def comment_dates(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The first and the last date a comment can be given (today: the server's, by default; a day either way
    does not matter at a year's distance)."""
    return COMMENT_EARLIEST, (today or dt.date.today()) + dt.timedelta(days=COMMENT_DAYS_AHEAD)


class Comment(Record):
    """A comment on the customer's timeline (a note, or an e-mail sent from the card)."""

    kind_label: ClassVar[str] = N_("Comment")

    fields = ("written_on", "author", "body")

    id = Integer(default=None, allow_None=True)
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"))
    written_on = param.CalendarDate(default=None, allow_None=True, label=N_("Date"),
                                    doc=N_("Today by default; can be changed."))
    author = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Written by"),
                        doc=N_("Login of the author; the writer by default."))
    body = text_param(default="", max_length=NOTE_LENGTH, multiline=True, label=N_("Comment"), doc=N_("The text."))
    kind = param.Selector(default="comment", objects=list(COMMENT_KINDS),
                          doc=N_("A comment, or an e-mail sent from the card."))
    recipients = text_list_param(default=[], label=N_("Recipients"),
                                 doc=N_("For e-mails: the colleagues (logins) it was sent to."))
    created_at = param.Date(default=None, allow_None=True, label=N_("Created"))
    created_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Created by"))
    edited_at = param.Date(default=None, allow_None=True, label=N_("Edited"))
    edited_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Edited by"))
    version = Integer(default=0, bounds=(0, None), doc=N_("Bumped by every edit; an edit from an older one is a "
                                                          "conflict."))

    def rules(self, choices: Choices, previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not self.body:
            errors["body"] = _("Write something first.")
        if self.written_on is None:
            errors["written_on"] = _("Give the date of the comment.")
        elif previous is None or previous.get("written_on") != self.written_on:  # a stored date stays as it is
            earliest, latest = comment_dates()
            if not earliest <= self.written_on <= latest:
                errors["written_on"] = _("Give a date from {earliest} to {latest}.").format(
                    earliest=formatting.date(earliest), latest=formatting.date(latest))
        if not self.author:
            errors["author"] = _("Give who wrote it.")
        elif choices.users and self.author not in choices.users and (
                previous is None or previous.get("author") != self.author):
            errors["author"] = _("{login} is not a user.").format(login=quoted(self.author))


class Project(Record):
    """A project done for the customer (read-only here; kept by the project module)."""

    kind_label: ClassVar[str] = N_("Project")

    fields = ("number", "name", "status", "manager", "start_date", "end_date", "description")

    id = Integer(default=None, allow_None=True)
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"))
    number = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Project number"))
    name = text_param(default="", constant=False, label=N_("Project"),
                      doc=N_("The project's name, as the card lists it."))
    status = param.Selector(default="active", objects=list(PROJECT_STATUSES), label=N_("Status"),
                            metadata={"translate_values": True})
    manager = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Project manager"))
    start_date = param.CalendarDate(default=None, allow_None=True, label=N_("Start"))
    end_date = param.CalendarDate(default=None, allow_None=True, label=N_("End"))
    description = text_param(default="", max_length=NOTE_LENGTH, multiline=True, label=N_("Description"))

    def rules(self, _choices: Choices, _previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not self.name:
            errors["name"] = _("A project needs a name.")
        if self.start_date and self.end_date and self.end_date < self.start_date:
            errors["end_date"] = _("The end cannot be before the start.")


class Invoice(Record):
    """An invoice or credit note (credit notes carry negative amounts)."""

    kind_label: ClassVar[str] = N_("Invoice")

    fields = ("number", "invoice_date", "amount", "currency", "amount_base")

    id = Integer(default=None, allow_None=True)
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"))
    project_id = Integer(default=None, allow_None=True)
    number = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Invoice number"))
    invoice_date = param.CalendarDate(default=None, allow_None=True, label=N_("Date"))
    amount = Number(default=0.0, label=N_("Amount"),
                          doc=N_("In the invoice currency; negative for credit notes."))
    currency = text_param(default="SEK", max_length=REFERENCE_LENGTH, label=N_("Currency"))
    amount_base = Number(default=0.0, label=N_("Amount in base currency"),
                               doc=N_("The amount converted to the firm's base currency on the invoice date."))

    @property
    def is_credit_note(self) -> bool:
        return self.amount < 0


class Event(Record):
    """A meeting, call or other event with the customer (CRM)."""

    kind_label: ClassVar[str] = N_("Event")

    fields = ("title", "event_type", "starts_at", "ends_at", "owner", "participants", "contact_ids",
              "description", "status")

    id = Integer(default=None, allow_None=True)
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"))
    title = text_param(default="", label=N_("Title"))
    event_type = choice_param(label=N_("Type"))
    starts_at = param.Date(default=None, allow_None=True, label=N_("Starts"))
    ends_at = param.Date(default=None, allow_None=True, label=N_("Ends"))
    owner = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Owner"))
    participants = text_list_param(default=[], label=N_("Colleagues"), doc=N_("Logins of the colleagues taking part."))
    contact_ids = param.List(default=[], item_type=int, label=N_("Contact persons"))
    description = text_param(default="", max_length=NOTE_LENGTH, multiline=True, label=N_("Description"))
    status = param.Selector(default="planned", objects=list(EVENT_STATUSES), label=N_("Status"),
                            metadata={"translate_values": True},
                            doc=N_("planned, done or cancelled"))
    status_changed_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Status changed by"))
    status_changed_at = param.Date(default=None, allow_None=True, label=N_("Status changed"))
    version = Integer(default=0, bounds=(0, None))

    def rules(self, choices: Choices, previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not self.title:
            errors["title"] = _("An event needs a title.")
        if self.starts_at is None:
            errors["starts_at"] = _("Give when it starts.")
        if self.starts_at and self.ends_at and self.ends_at < self.starts_at:
            errors["ends_at"] = _("The end cannot be before the start.")
        _check_list_value(self, "event_type", "event_types", choices, previous, errors, "event_type")
        _check_owner(errors, self.owner, previous, choices)
        # a colleague or a contact person named twice takes part once (the card's form cannot name one twice)
        for attr in ("participants", "contact_ids"):
            named = list(dict.fromkeys(getattr(self, attr) or []))
            if named != list(getattr(self, attr) or []):
                setattr(self, attr, named)
        if choices.users:
            unknown = [p for p in self.participants if p not in choices.users]
            if unknown:
                errors["participants"] = _("{login} is not a user.").format(login=quoted(unknown[0]))


class Opportunity(Record):
    """A sales opportunity (CRM): in the pipeline, won or lost."""

    kind_label: ClassVar[str] = N_("Opportunity")

    fields = ("title", "amount", "currency", "probability", "stage", "expected_close", "owner", "status",
              "lost_reason")

    id = Integer(default=None, allow_None=True)
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"))
    title = text_param(default="", label=N_("Title"))
    amount = Number(default=0.0, bounds=(0, None), label=N_("Amount"),
                    doc=N_("Expected value, from 0 up to a million millions."))
    currency = text_param(default="SEK", max_length=REFERENCE_LENGTH, label=N_("Currency"))
    probability = Number(default=50.0, bounds=(0, 100), label=N_("Probability (%)"), doc=N_("0–100."))
    stage = choice_param(label=N_("Stage"))
    expected_close = param.CalendarDate(default=None, allow_None=True, label=N_("Expected close"))
    owner = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Owner"))
    status = param.Selector(default="pipeline", objects=list(OPPORTUNITY_STATUSES), label=N_("Status"),
                            metadata={"translate_values": True},
                            doc=N_("pipeline, won or lost"))
    lost_reason = text_param(default="", max_length=2_000, label=N_("Reason lost"))
    status_changed_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Status changed by"))
    status_changed_at = param.Date(default=None, allow_None=True, label=N_("Status changed"))
    version = Integer(default=0, bounds=(0, None))

    @property
    def weighted_amount(self) -> float:
        return (self.amount or 0.0) * (self.probability or 0.0) / 100.0

    def rules(self, choices: Choices, previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not self.title:
            errors["title"] = _("An opportunity needs a title.")
        _check_list_value(self, "stage", "opportunity_stages", choices, previous, errors, "stage")
        currencies = choices.allowed("currencies")
        if currencies and self.currency not in currencies and choices.named_now("currencies", self.currency) in \
                currencies and (previous is None or previous.get("currency") != self.currency):
            _assign(self, "currency", choices.named_now("currencies", self.currency))  # renamed since it was chosen
        if currencies and self.currency not in currencies and (
                previous is None or previous.get("currency") != self.currency):
            errors["currency"] = _("{value} is not one of the currencies.").format(value=quoted(self.currency))
        elif choices.rated is not None and self.currency and self.currency not in choices.rated and (
                previous is None or previous.get("currency") != self.currency):
            # (else it would be added up as if it were the base currency, one to one, on the board and the card)
            errors["currency"] = _("There is no exchange rate for {currency}: an administrator adds one in the "
                                   "settings (Exchange rates).").format(currency=self.currency)
        if self.status == "lost" and not self.lost_reason:
            errors["lost_reason"] = _("Say why it was lost.")
        if (self.amount or 0) > MAX_AMOUNT and (previous is None or previous.get("amount") != self.amount):
            errors["amount"] = _("Must be at most {n}.").format(n=formatting.figure(MAX_AMOUNT))
        _check_owner(errors, self.owner, previous, choices)


class FollowUp(Record):
    """Something to do at a customer by a day (call back, send the offer), owned by a user; optionally about one of
    the customer's contact persons or opportunities. Done or not, with who marked it done and when."""

    kind_label: ClassVar[str] = N_("Follow-up")

    fields = ("what", "due_on", "owner", "contact_id", "opportunity_id", "done")

    id = Integer(default=None, allow_None=True, doc="Internal key; None until created.")
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"),
                           doc=N_("The customer it is about."))
    what = text_param(default="", max_length=2_000, label=N_("What"), doc=N_("What to do, e.g. call about the offer."))
    due_on = param.CalendarDate(default=None, allow_None=True, label=N_("Due"), doc=N_("The day it is due."))
    owner = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Owner"),
                       doc=N_("The login of the colleague who does it (and gets the reminder)."))
    contact_id = Integer(default=None, allow_None=True, label=N_("Contact person"),
                               doc=N_("One of the customer's contact persons it is about, if any."))
    opportunity_id = Integer(default=None, allow_None=True, label=N_("Opportunity"),
                                   doc=N_("One of the customer's opportunities it is about, if any."))
    done = param.Boolean(default=False, label=N_("Done"))
    done_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Done by"))
    done_at = param.Date(default=None, allow_None=True, label=N_("Done"))
    version = Integer(default=0, bounds=(0, None))

    def is_overdue(self, today: dt.date | None = None) -> bool:
        """Whether it is not done and its day has passed."""
        return not self.done and self.due_on is not None and self.due_on < (today or dt.date.today())

    def rules(self, choices: Choices, previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not self.what and "what" not in errors:
            errors["what"] = _("Say what is to be done.")
        if self.due_on is None:
            errors["due_on"] = _("Give the day it is due.")
        if not self.owner:
            errors["owner"] = _("Choose who does it.")
        else:
            _check_owner(errors, self.owner, previous, choices)


class Relation(Record):
    """A relation from a customer to another customer or to a contact person (CRM)."""

    kind_label: ClassVar[str] = N_("Relation")

    fields = ("relation_type", "other_customer_id", "other_contact_id", "note")

    id = Integer(default=None, allow_None=True)
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"))
    relation_type = choice_param(label=N_("Relation"))
    other_customer_id = Integer(default=None, allow_None=True, label=N_("Customer"))
    other_contact_id = Integer(default=None, allow_None=True, label=N_("Contact person"))
    note = text_param(default="", max_length=NOTE_LENGTH, multiline=True, label=N_("Note"))
    created_at = param.Date(default=None, allow_None=True, label=N_("Created"))
    created_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Created by"))

    def rules(self, choices: Choices, previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if (self.other_customer_id is None) == (self.other_contact_id is None):
            errors["other_customer_id"] = _("Choose either another customer or a contact person.")
        elif self.other_customer_id is not None and self.other_customer_id == self.customer_id:
            errors["other_customer_id"] = _("A customer cannot be related to itself.")
        if not self.relation_type:
            errors["relation_type"] = _("Choose the kind of relation.")
        else:
            _check_list_value(self, "relation_type", "relation_types", choices, previous, errors, "relation_type")


class Criterion(Record):
    """A segmentation criterion chosen by the firm, with its values."""

    kind_label: ClassVar[str] = N_("Criterion")

    fields = ("name", "multiple", "values", "active")

    id = Integer(default=None, allow_None=True)
    name = text_param(default="", constant=False, max_length=REFERENCE_LENGTH, label=N_("Criterion"),
                      doc=N_("The criterion's name, as the card and Search customers show it."))
    multiple = param.Boolean(default=False, label=N_("Multiple choice"),
                             doc=N_("Whether a customer can have several values of this criterion."))
    values = text_list_param(default=[], max_length=REFERENCE_LENGTH, label=N_("Values"))
    active = param.Boolean(default=True, label=N_("Active"))
    version = Integer(default=0, bounds=(0, None), doc="Bumped by every save; a save from an older one is a "
                                                             "conflict.")

    def rules(self, _choices: Choices, _previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if not self.name:
            errors["name"] = _("A criterion needs a name.")
        cleaned = [v for v in self.values if v]
        # values that read the same ("Small" and "small", "Small  business" and "Small business", "Au\u200bdit"
        # and "Audit") are one value, as an admin list's are
        if len({validators.name_key(v) for v in cleaned}) != len(cleaned):
            errors["values"] = _("Each value can appear only once.")
        if "values" not in errors:
            self.values = cleaned


class User(Record):
    """A colleague who logs in: an administrator, a manager (edits customers) or a viewer (reads)."""

    kind_label: ClassVar[str] = N_("User")

    fields = ("login", "name", "email", "role", "projects_access", "active")

    id = Integer(default=None, allow_None=True)
    login = text_param(default="", max_length=32, label=N_("Login"),
                       doc=N_("2–32 lower-case letters, digits, dots, dashes."))
    name = text_param(default="", constant=False, label=N_("Name"), doc=N_("The user's full name, as others see it."))
    email = text_param(default="", max_length=EMAIL_LENGTH, label=N_("E-mail"))
    role = param.Selector(default="viewer", objects=list(ROLES), label=N_("Role"), metadata={"translate_values": True},
                          doc=N_("admin: everything; manager: edits customers; viewer: reads only."))
    projects_access = param.Boolean(default=False, label=N_("Projects access"),
                                    doc=N_("Whether project names are links to the projects."))
    active = param.Boolean(default=True, label=N_("Active"), doc=N_("Inactive users cannot log in."))
    language = param.Selector(default="", objects=["", *LANGUAGES], label=N_("Language"),
                              metadata={"value_labels": {"": N_("As my browser asks"), **LANGUAGES}},
                              doc=N_("The language customercard speaks to this user, chosen on their profile; "
                                     "none chosen: as the browser asks, else the firm's language."))
    password_hash = text_param(default="", max_length=500, precedence=-1, doc="scrypt hash; never the password itself.")
    version = Integer(default=0, bounds=(0, None), doc="Bumped by every change of the fields above; a change "
                                                             "from an older one is a conflict.")

    @property
    def can_edit(self) -> bool:
        return self.active and self.role in WRITER_ROLES

    @property
    def is_admin(self) -> bool:
        return self.active and self.role == "admin"

    def rules(self, _choices: Choices, _previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        _assign(self, "login", (self.login or "").lower())
        if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{1,31}", self.login):
            errors["login"] = _("A login has 2–32 lower-case letters, digits, dots, dashes or underscores.")
        if not self.name:
            errors["name"] = _("Give the user's name.")
        _normalise(self, errors, "", "email", validators.check_email)


class ApiToken(Record):
    """A personal API token: a name its user gave it, whether it only reads, and when it was made and last used.
    The token itself (the secret) is shown once when it is made and never kept: the store keeps its SHA-256."""

    kind_label: ClassVar[str] = N_("API token")

    fields = ("name", "read_only")

    id = Integer(default=None, allow_None=True, doc="Internal key; None until created.")
    login = text_param(default="", max_length=32, doc="The user the token acts as (with that user's role).")
    name = text_param(default="", constant=False, max_length=REFERENCE_LENGTH, label=N_("Token name"),
                      doc=N_("What the token is for, e.g. the script that uses it."))
    read_only = param.Boolean(default=False, label=N_("Read only"),
                              doc=N_("A read-only token reads what its user may read and changes nothing."))
    hint = text_param(default="", max_length=REFERENCE_LENGTH, doc="The token's first characters, to recognise it.")
    created_at = param.Date(default=None, allow_None=True, label=N_("Created"))
    created_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Created by"))
    last_used_at = param.Date(default=None, allow_None=True, label=N_("Last used"))

    def rules(self, _choices: Choices, _previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        _one_line(self, "name", prefix, errors, _("Give the token a name, e.g. what uses it."))


class SavedView(Record):
    """A search of Search customers (its filters, sort and columns, as the page's URL query) kept under a name by its
    owner: private, or shared with everyone. Names are unique per owner; a shared view is renamed, overwritten or
    deleted by its owner or an administrator."""

    kind_label: ClassVar[str] = N_("Saved view")

    fields = ("name", "shared", "search")

    id = Integer(default=None, allow_None=True, doc="Internal key; None until saved.")
    owner = text_param(default="", max_length=REFERENCE_LENGTH, doc="The login of the user who saved the view.")
    name = text_param(default="", constant=False, max_length=REFERENCE_LENGTH, label=N_("View name"),
                      doc=N_("What the view is called in the menu."))
    shared = param.Boolean(default=False, label=N_("Shared with everyone"),
                           doc=N_("A shared view is in everyone's menu; a private one only in its owner's."))
    search = text_param(default="", max_length=URL_LENGTH, label=N_("Search"),
                        doc="The URL query of Search customers that the view opens (filters, sort, columns).")
    version = Integer(default=0, bounds=(0, None), doc="The stored version this copy was read at.")

    def rules(self, _choices: Choices, _previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        _one_line(self, "name", prefix, errors, _("Give the view a name."))


class BulkChange(Record):
    """One change made to many customers at once: the field (account manager, status, industry, a segmentation
    criterion as ``segments.<criterion>``, or ``comment`` to add the same comment) and the value every chosen
    customer gets. Each customer's change is a change of its own (history, outbox); the batch is what undoes them."""

    kind_label: ClassVar[str] = N_("Bulk change")

    fields = ("field", "value")
    FIELDS = ("account_manager", "status", "industry", "comment")

    id = Integer(default=None, allow_None=True, doc="Internal key; None until run.")
    field = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Change"),
                       doc=N_("What to change: account manager, status, industry, a segmentation criterion or a "
                              "comment to add."))
    value = param.Parameter(default=None, label=N_("New value"),
                            doc=N_("The value each customer gets (a list of values for a segmentation criterion; the "
                                   "text for a comment)."))
    created_at = param.Date(default=None, allow_None=True, label=N_("When"))
    created_by = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("By"))
    customers = Integer(default=0, bounds=(0, None), label=N_("Customers changed"),
                              doc="How many customers the change (or its undo) changed.")
    skipped = param.Dict(default={}, doc="Customer id → why it was left alone (changed since the preview, or since "
                                         "this change when undoing).")
    undone_at = param.Date(default=None, allow_None=True, label=N_("Undone"))
    undone_by = text_param(default="", max_length=REFERENCE_LENGTH)
    version = Integer(default=0, bounds=(0, None), doc="The stored version of the batch.")

    def rules(self, choices: Choices, _previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        field, value = self.field, self.value
        if field.startswith("segments."):
            self._segment_rules(field.split(".", 1)[1], value, choices, prefix, errors)
        elif field == "comment":
            self._comment_rules(value, prefix, errors)
        elif field in ("account_manager", "status", "industry"):
            list_name = {"status": "statuses", "industry": "industries"}.get(field)
            allowed = choices.managers if list_name is None else choices.allowed(list_name)
            if list_name is not None and value not in (None, "") and value not in allowed and \
                    choices.named_now(list_name, value) in allowed:  # renamed while the panel was open: that value
                value = choices.named_now(list_name, value)
            if value not in (None, "") and value not in allowed:
                errors[prefix + "value"] = _("Choose one of the values offered.")
            else:
                _assign(self, "value", value or None)
        else:
            errors[prefix + "field"] = _("Choose what to change.")

    def _segment_rules(self, criterion: str, value: Any, choices: Choices, prefix: str,
                       errors: dict[str, str]) -> None:
        if criterion not in choices.criteria:
            errors[prefix + "field"] = _("“{criterion}” is no segmentation criterion.").format(criterion=criterion)
            return
        multiple, allowed = choices.criteria[criterion]
        values = [value] if isinstance(value, str) else list(value or [])
        if any(v not in allowed for v in values):
            errors[prefix + "value"] = _("Choose values of the criterion “{criterion}”.").format(
                criterion=criterion)
        elif len(values) > 1 and not multiple:
            errors[prefix + "value"] = _("“{criterion}” takes one value.").format(criterion=criterion)
        else:
            _assign(self, "value", values)

    def _comment_rules(self, value: Any, prefix: str, errors: dict[str, str]) -> None:
        try:  # the comment's own rules (length, control characters), told here where it is typed
            body = validators.check_text(value, NOTE_LENGTH, multiline=True) if isinstance(value, str) else ""
        except ValueError as problem:
            errors[prefix + "value"] = str(problem)
        else:
            if not body:
                errors[prefix + "value"] = _("Write the comment to add.")
            else:
                _assign(self, "value", body)


#: The most one unit of a currency may be worth in the base currency (an exchange rate beyond it is a typing error,
#: and sums of amounts at such rates stop being numbers).
MAX_EXCHANGE_RATE = 1_000_000.0


class Settings(Record):
    """Firm-wide settings for the customer module/CRM, kept by administrators."""

    kind_label: ClassVar[str] = N_("Settings")

    fields = ("nicknames_enabled", "invoice_address_enabled", "files_enabled", "crm_enabled", "start_address",
              "base_currency", "exchange_rates", "language", "time_zone", "reminder_hour", "phone_region",
              "public_base_url",
              "max_file_mb",
              "smtp_host", "smtp_port", "smtp_security", "smtp_user", "smtp_from",
              "sync_url")

    nicknames_enabled = param.Boolean(default=True, label=N_("Nicknames"),
                                      doc=N_("Whether customers can have a nickname (also found by the search)."))
    invoice_address_enabled = param.Boolean(default=True, label=N_("Separate invoice address"),
                                            doc=N_("Whether a customer can have an invoice address of its own."))
    crm_enabled = param.Boolean(default=True, label=N_("CRM module"),
                                doc=N_("Relations, events, opportunities and the pipeline; switched off they are "
                                       "hidden everywhere."))
    files_enabled = param.Boolean(default=False, label=N_("Document storage (files)"),
                                  doc=N_("Whether the card shows the customer's files."))
    start_address = text_param(default="", max_length=500, label=N_("Start address"),
                               doc=N_("The firm's own address: route links to customers start here."))
    base_currency = text_param(default="SEK", max_length=REFERENCE_LENGTH, label=N_("Base currency"),
                               doc=N_("Currency that invoiced amounts are reported in."))
    exchange_rates = text_param(default="EUR 11.50, DKK 1.55, NOK 0.98, USD 10.60, GBP 13.40", max_length=2_000,
                                label=N_("Exchange rates"),
                                doc=N_("Value of one unit of each other currency in the base currency, e.g. "
                                "'EUR 11.50, DKK 1.55'; used to add up opportunities in the base currency."))
    language = param.Selector(default="sv", objects=list(LANGUAGES), label=N_("Language"),
                              metadata={"value_labels": LANGUAGES},
                              doc=N_("The firm's language: for users who have chosen none on their profile and whose "
                                     "browser asks for none that customercard speaks, and for e-mails to them. Money, "
                                     "numbers and dates are written as each reader's language writes them."))
    time_zone = text_param(default=DEFAULT_TIME_ZONE, max_length=REFERENCE_LENGTH, label=N_("Time zone"),
                           doc=N_("The firm's time zone, like Europe/Stockholm: times are shown in it."))
    reminder_hour = Integer(default=6, bounds=(0, 23), label=N_("Follow-up e-mails from (hour)"),
                                  doc=N_("The hour of the firm's day (in its time zone) from which each person's daily "
                                         "e-mail of follow-ups due and overdue goes out, 0–23."))
    phone_region = text_param(default="SE", max_length=REFERENCE_LENGTH, label=N_("Phone region"),
                              doc=N_("Country of phone numbers typed without +country code."))
    public_base_url = text_param(default="", max_length=URL_LENGTH, label=N_("Public base URL"),
                                 doc=N_("Address of the served app, used for links in e-mails; empty: the address "
                                        "the server was reached at."))
    max_file_mb = Number(default=25.0, bounds=(0.001, 2048), label=N_("Largest file (MB)"),
                               doc=N_("Uploads larger than this are refused."))
    smtp_host = text_param(default="", max_length=253, label=N_("SMTP host"))
    smtp_port = Integer(default=25, bounds=(1, 65535), label=N_("SMTP port"))
    smtp_security = param.Selector(default="none", objects=[N_("none"), "starttls", "ssl"], label=N_("SMTP security"),
                                   metadata={"translate_values": True})
    smtp_user = text_param(default="", max_length=EMAIL_LENGTH, label=N_("SMTP login"))
    smtp_from = text_param(default="", max_length=EMAIL_LENGTH, label=N_("Sender address"))
    sync_url = text_param(default="", max_length=URL_LENGTH, label=N_("Economy-system receiver URL"),
                          doc=N_("Where changes of linked customers are delivered."))
    version = Integer(default=0, bounds=(0, None), doc="Bumped by every save; a save from an older one is a "
                                                             "conflict.")

    def rules(self, _choices: Choices, previous: Record | None, _prefix: str, errors: dict[str, str]) -> None:
        if "time_zone" not in errors:
            _assign(self, "time_zone", (self.time_zone or "").strip())
            try:
                ZoneInfo(self.time_zone)
            except (ValueError, OSError, ZoneInfoNotFoundError):  # "Europe": a folder of zones (IsADirectoryError)
                errors["time_zone"] = _("Not a time zone: use a name like Europe/Stockholm, Europe/Copenhagen or "
                                        "Europe/London.")
        if not re.fullmatch(r"[A-Z]{3}", self.base_currency or ""):
            errors["base_currency"] = _("Use a three-letter currency code, like SEK.")
        if _blank(self.phone_region):
            errors["phone_region"] = _("Use a two-letter country code, like SE.")
        else:  # a country (it is also a new customer's): 'UK' or 'XX' refused, as for an address
            _normalise(self, errors, "", "phone_region", validators.check_country, validators.PHONE_COUNTRIES,
                       previous=previous)
        for attr in ("public_base_url", "sync_url"):
            if attr in errors:
                continue
            value = (getattr(self, attr) or "").rstrip("/")
            _assign(self, attr, value)
            if value and not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
                errors[attr] = _("Use an address like https://crm.example.se.")
        if self.smtp_from:
            _normalise(self, errors, "", "smtp_from", validators.check_email, previous=previous)
        if "smtp_host" not in errors:
            _normalise(self, errors, "", "smtp_host", validators.check_host, previous=previous)
        if "exchange_rates" not in errors:
            self._check_rates(errors, kept=previous is not None and all(
                self.get(name) == previous.get(name) for name in ("exchange_rates", "base_currency")))

    def _check_rates(self, errors: dict[str, str], kept: bool = False) -> None:
        """Each rate a code and a positive number; none for the base currency other than 1 (it is 1). ``kept``: the
        rates and the base currency as stored, checked for their form only (a firm whose rates still list its base
        currency saves its other settings; :meth:`rates` counts that one 1)."""
        try:  # (as stored: read as :meth:`rates` reads them — rates an older version took do not block a save)
            own = self._listed_rates(strict=not kept).get(self.base_currency)
        except ValueError as exc:
            errors["exchange_rates"] = str(exc)
            return
        if own is not None and own != 1.0 and not kept:
            errors["exchange_rates"] = _(
                "{base} is the base currency: its rate is 1 (take {base} {rate} out of the rates).").format(
                base=self.base_currency, rate=formatting.figure(own))

    def rates(self) -> dict[str, float]:
        """{currency: value in the base currency}; the base currency itself is 1, whatever the text gives it (a
        rate for it is refused on save: see :meth:`rules`). Rates stored before the rules refused them (a rate
        too large to count with, a currency twice) are read as they were counted then — a currency's last rate —
        but for one that cannot be counted with."""
        found = self._listed_rates(strict=False)
        found[self.base_currency] = 1.0
        return found

    def _listed_rates(self, strict: bool = True) -> dict[str, float]:
        found: dict[str, float] = {}
        # rates apart by ';', a line, or a comma before the next code: "EUR 11,50; DKK 1,55" has decimal commas
        for part in re.split(r"[;\n]+|,(?=\s*[A-Za-z])", self.exchange_rates or ""):
            if not part.strip():
                continue
            match = re.fullmatch(r"\s*([A-Za-z]{3})\s*[ =:]\s*([0-9]+(?:[.,][0-9]+)?)\s*", part)
            rate = float(match.group(2).replace(",", ".")) if match else 0.0
            code = match.group(1).upper() if match else ""
            if not 0 < rate <= MAX_EXCHANGE_RATE:
                if not strict:
                    continue
                if rate > MAX_EXCHANGE_RATE:
                    raise ValueError(_("A rate is at most {most} (not {text}).").format(
                        most=formatting.figure(MAX_EXCHANGE_RATE), text=quoted(part.strip())))
                raise ValueError(_("Write each rate as a currency code and a positive number, like 'EUR 11.50' "
                                   "(not {text}).").format(text=quoted(part.strip())))
            if code in found and strict:
                raise ValueError(_("{code} is given a rate twice: keep one.").format(code=code))
            found[code] = rate
        return found


class ListValue(Record):
    """A value of an admin list (an industry, a status, a payment term, …), kept in System administration."""

    kind_label: ClassVar[str] = N_("List value")

    fields = ("label", "inverse_label")

    id = Integer(default=None, allow_None=True)
    label = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Name"),
                       doc=N_("As the list shows it; spaces at the ends and doubled inside are dropped."))
    inverse_label = text_param(default="", max_length=REFERENCE_LENGTH,
                               label=N_("Seen from the other side (relation types)"),
                               doc=N_("For relation types: the relation read from the other customer's card."))

    def rules(self, _choices: Choices, _previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        _one_line(self, "label", prefix, errors, _("Give a name."))
        _one_line(self, "inverse_label", prefix, errors)


#: The longest file name kept (longer ones are shortened on upload, keeping the extension).
FILE_NAME_LENGTH = 180


class CustomerFile(Record):
    """A file kept for a customer: its name and type (the contents live in a FileStorage)."""

    kind_label: ClassVar[str] = N_("File")

    fields = ("name", "content_type")

    id = Integer(default=None, allow_None=True)
    customer_id = Integer(default=None, allow_None=True, label=N_("Customer id"))
    name = text_param(default="", max_length=FILE_NAME_LENGTH, constant=False, label=N_("File name"),
                      doc=N_("Shown and offered as the download name; never a path."))
    content_type = text_param(default="application/octet-stream", max_length=REFERENCE_LENGTH, label=N_("Type"),
                              doc=N_("The media type, from the name's extension."))

    def rules(self, _choices: Choices, _previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        if not self.name:
            errors.setdefault(prefix + "name", _("A file needs a name."))


class MailDraft(Record):
    """An e-mail about a customer to colleagues, as written on the card (sent by :mod:`customercard.mail`)."""

    kind_label: ClassVar[str] = N_("E-mail")

    fields = ("subject", "message")

    subject = text_param(default="", label=N_("Subject"), doc=N_("One line: a mail header holds no line breaks."))
    message = text_param(default="", max_length=19_000, multiline=True, label=N_("Message"),
                         doc=N_("The text; saved as a comment with the subject, within a comment's 20,000 characters."))

    def rules(self, _choices: Choices, _previous: Record | None, prefix: str, errors: dict[str, str]) -> None:
        if not self.subject:
            errors.setdefault(prefix + "subject", _("Give a subject."))
        if not self.message:
            errors.setdefault(prefix + "message", _("Write a message."))


class CustomerQuery(Record):
    """What "Search customers" filters on: values within a filter are OR-ed, filters are AND-ed."""

    kind_label: ClassVar[str] = N_("Search")

    fields = ("text", "statuses", "industries", "account_managers", "segments", "city", "country", "archived")
    ARCHIVED = ("active", "archived", "all")

    text = text_param(default="", label=N_("Name, nickname or number"), doc=N_(
        "Contained in name or nickname, or the start of the number; also what the super search finds for it (å "
        "typed as a, an organisation or phone number with or without its dashes, a contact person's name)."))
    statuses = text_list_param(default=[], label=N_("Status"), doc=N_("Any of these statuses."))
    industries = text_list_param(default=[], label=N_("Industry"), doc=N_("Any of these industries."))
    account_managers = text_list_param(default=[], label=N_("Account manager"), doc=N_("Logins, any of them."))
    segments = param.Dict(default={}, label=N_("Segmentation"),
                          doc=N_("Criterion → values; any value of a criterion, every criterion given."))
    city = text_param(default="", label=N_("City"), doc=N_("The visiting city starts with this."))
    country = text_param(default="", max_length=REFERENCE_LENGTH, label=N_("Country"),
                         doc=N_("The visiting address's country: its two-letter code (SE) or its name (Sweden, "
                                "Sverige)."))
    archived = param.Selector(default="active", objects=list(ARCHIVED), label=N_("Archived"),
                              doc=N_("active: not archived; archived: only archived; all: both."))

    def is_empty(self) -> bool:
        return self.values() == CustomerQuery().values()


__all__ = [
    "EMAIL_LENGTH", "FILE_NAME_LENGTH", "LIST_NAMES", "NAME_LENGTH", "NOTE_LENGTH", "REFERENCE_LENGTH", "ROLES",
    "URL_LENGTH", "Address", "ApiToken", "Choices", "Comment", "Contact", "Criterion", "Customer", "CustomerFile",
    "CustomerQuery", "Event", "Invoice", "InvoiceDefaults", "ListValue", "MailDraft", "Opportunity", "Project",
    "Record", "Relation", "Settings", "User", "field_value", "from_text", "quoted", "text_limits", "text_list_param",
    "text_param", "to_text",
]
