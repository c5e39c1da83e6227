"""Records and values as the HTTP API writes and reads them in JSON, by the model's own parameters.

A record is ``{<its other parameters>: …, "fields": {<field>: value}}``: the fields are what a user edits (the
model's ``fields``, dotted for nested records: ``visit_address.city``), the rest is what the store keeps about it
(id, version, who made it and when). Dates are ``YYYY-MM-DD``; times are UTC, written ``2026-06-15T10:05:00Z``
(read with any offset; one without is taken as UTC).
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
from typing import Any

import param

from .. import formatting
from ..i18n import _
from ..models import Customer, Opportunity, Record, field_parameter, missing, text_limits

#: Parameters a record has that the API neither shows nor takes (helpers of the model, secrets).
HIDDEN: dict[type, frozenset[str]] = {}
#: The shapes of the dates and times the API takes: a date is exactly ISO_DATE long; a time at least ISO_MINUTE,
#: at most LONGEST_TIME (fractions of a second and an offset included).
ISO_DATE = "2026-06-15"
ISO_MINUTE = "2026-06-15T10:00"
LONGEST_TIME = 40
#: The largest whole number (an id, a count) the API takes, in either direction: the database's widest (64 bits).
#: A larger one is refused as the field's value, not handed to the database (which fails on it).
LARGEST_WHOLE = 2**63 - 1
#: The most digits of an id in a path: longer is no id of ours (a 64-bit integer has 19).
ID_DIGITS = 18


def hide(kind: type[Record], *names: str) -> None:
    HIDDEN[kind] = frozenset(names)


def meta_names(kind: type[Record]) -> tuple[str, ...]:
    """The record's parameters shown beside its fields: id, version, stamps … (in the model's order)."""
    skip = set(kind.fields) | set(kind.nested) | HIDDEN.get(kind, frozenset())
    if "name" not in kind.fields:
        skip.add("name")  # param's own name of the object
    return tuple(name for name, parameter in kind.param.objects(instance=False).items()
                 if name not in skip and (parameter.precedence is None or parameter.precedence >= 0))


# -- to JSON --------------------------------------------------------------------------------------------------
def to_json(value: Any) -> Any:  # noqa: PLR0911 - one branch per kind of value
    """A value as JSON has it: times in UTC with Z, dates as YYYY-MM-DD, missing values (NaN, NaT) as null."""
    if value is None:
        return None
    if hasattr(value, "to_pydatetime"):  # pandas' Timestamp
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, str | bool):
        return value
    if hasattr(value, "item"):  # a NumPy scalar
        value = value.item()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return None if missing(value) else value


def json_text(data: Any, **options: Any) -> str:
    """JSON for a reply, non-ASCII letters as they are — a text holding a broken character (a lone surrogate, which a
    refusal may quote) as ASCII escapes, which UTF-8 can carry (it failed the reply: a 500)."""
    text = json.dumps(data, ensure_ascii=False, **options)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(data, ensure_ascii=True, **options)
    return text


def record_json(record: Record) -> dict[str, Any]:
    """A record as the API shows it: its other parameters, then ``fields``."""
    kind = type(record)
    out = {name: to_json(getattr(record, name)) for name in meta_names(kind)}
    out["fields"] = {name: to_json(record.get(name)) for name in kind.fields}
    return out


def etag(version: Any) -> str:
    """The entity tag of a record at ``version``: ``"v3"``."""
    return f'"v{int(version or 0)}"'


# -- from JSON ------------------------------------------------------------------------------------------------
def from_json(parameter: param.Parameter, value: Any) -> Any:  # noqa: PLR0911 - one return per parameter type
    """A JSON value as the parameter takes it; ValueError with a message for a value of the wrong kind."""
    if value is None:
        if parameter.allow_None:
            return None
        raise ValueError(_("This field cannot be empty (null)."))
    if isinstance(parameter, param.Boolean):
        return _checked(value, isinstance(value, bool), _("Give true or false."))
    if isinstance(parameter, param.Integer):
        _checked(value, isinstance(value, int) and not isinstance(value, bool), _("Give a whole number."))
        problem = whole_number_problem(value, parameter.bounds)
        return _checked(value, not problem, problem)
    if isinstance(parameter, param.CalendarDate):
        return _date(value)
    if isinstance(parameter, param.Date):
        return _time(value)
    if isinstance(parameter, param.Number):
        _checked(value, isinstance(value, int | float) and not isinstance(value, bool), _("Give a number."))
        return _number(value, parameter.bounds)
    if isinstance(parameter, param.Selector):
        return _choice(parameter, value)
    if isinstance(parameter, param.List):
        return _items(parameter, value)
    if isinstance(parameter, param.Dict):
        return _segments(value)
    return _checked(value, isinstance(value, str), _("Give a text."))


def _checked(value: Any, ok: bool, message: str) -> Any:
    if not ok:
        raise ValueError(message)
    return value


def whole_number_problem(value: int, bounds: tuple[Any, Any] | None = None) -> str:
    """Why a whole number cannot be taken ('' when it can): it is beyond ``bounds`` (a parameter's, either end None
    for none) or, where they leave an end open, beyond what the database keeps (:data:`LARGEST_WHOLE`)."""
    low, high = bounds or (None, None)
    low = -LARGEST_WHOLE if low is None else max(low, -LARGEST_WHOLE)
    high = LARGEST_WHOLE if high is None else min(high, LARGEST_WHOLE)
    if value > high:
        return _("Must be at most {n}.").format(n=formatting.figure(high))
    if value < low:
        return _("Must be at least {n}.").format(n=formatting.figure(low))
    return ""


def _number(value: float, bounds: tuple[Any, Any] | None) -> float:
    """The number, once a float holds it. One too large for a float (a JSON integer of 309 digits or more; 1e999) is
    refused here by the parameter's bound on its side, as a large one that fits is when it is set, else as too
    large to keep: it never reaches a comparison or the database, which fail on it."""
    try:
        number = float(value)
    except OverflowError:  # (an integer too large for a float)
        number = math.inf if value > 0 else -math.inf
    if math.isfinite(number):
        return value
    if math.isnan(number):
        raise ValueError(_("Give a number."))
    low, high = bounds or (None, None)
    end = high if number > 0 else low
    if end is None:
        raise ValueError(_("Not a number that can be kept: it is too large."))
    said = _("Must be at most {n}.") if number > 0 else _("Must be at least {n}.")
    raise ValueError(said.format(n=formatting.figure(end)))


def path_id(text: str) -> int | None:
    """An id from an address's path (digits only), or None when it is too long to be the id of anything kept."""
    return int(text) if len(text) <= ID_DIGITS else None


def _date(value: Any) -> dt.date:
    try:
        if not isinstance(value, str) or len(value) != len(ISO_DATE):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(_("Give a date like 2026-06-15.")) from None


def _time(value: Any) -> dt.datetime:
    """An RFC 3339 time as the naive UTC time the database keeps."""
    try:
        if not isinstance(value, str) or not len(ISO_MINUTE) <= len(value) <= LONGEST_TIME:
            raise ValueError
        parsed = dt.datetime.fromisoformat(value)
        if parsed.tzinfo is not None:
            parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
        return parsed
    except (ValueError, OverflowError):
        raise ValueError(_("Give a date and time like 2026-06-15T10:00:00Z.")) from None


def _choice(parameter: param.Selector, value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(_("Give a text."))
    if parameter.check_on_set and value not in (parameter.objects or []):
        raise ValueError(_("Choose one of {values}.").format(values=", ".join(map(str, parameter.objects))))
    return value


def _items(parameter: param.List, value: Any) -> list[Any]:
    if parameter.item_type is int:
        ok = isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        _checked(value, ok, _("Give a list of whole numbers."))
        problem = next((found for v in value if (found := whole_number_problem(v))), "")
        return _checked(value, not problem, problem)
    return _checked(value, isinstance(value, list) and all(isinstance(v, str) for v in value),
                    _("Give a list of texts."))


def _segments(value: Any) -> dict[str, list[str]]:
    message = _("Give an object of criterion names, each with a list of its values.")
    if not isinstance(value, dict):
        raise ValueError(message)
    out = {}
    for criterion, chosen in value.items():
        out[criterion] = _segment_values(chosen, message)
    return out


def _segment_values(chosen: Any, message: str) -> list[str]:
    """One criterion's values as sent: a list of texts, one text, or null (none)."""
    values = [] if chosen is None else [chosen] if isinstance(chosen, str) else chosen
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(message)
    return list(values)


def customer_segments(record: Customer, fields: dict[str, Any], errors: dict[str, str]) -> dict[str, list[str]] | None:
    """The segments a customer's fields ask for, criterion by criterion: ``segments`` (an object) changes the
    criteria it names and keeps the others, as ``segments.<criterion>`` changes one — null or [] clears a criterion
    (a PATCH of one criterion emptied all the others). None when no segment is sent."""
    named = {name: value for name, value in fields.items() if name == "segments" or name.startswith("segments.")}
    if not named:
        return None
    segments = {criterion: list(chosen) for criterion, chosen in (record.segments or {}).items()}
    for name, value in named.items():
        try:
            if name == "segments":
                segments.update(_segments(value))
            else:
                segments[name.split(".", 1)[1]] = _segment_values(
                    value, _("Give a list of this criterion's values (or null for none)."))
        except ValueError as exc:
            errors[name] = str(exc)
    return {criterion: chosen for criterion, chosen in segments.items() if chosen}


def apply_fields(record: Record, fields: Any) -> dict[str, str]:
    """Set the fields given as JSON on ``record``; ``{field: message}`` for each that is not one of its fields or
    whose value is of the wrong kind or out of bounds (those are left as they were)."""
    if not isinstance(fields, dict):
        return {"fields": _("Give an object of fields and their values.")}
    kind = type(record)
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if isinstance(record, Customer):
        segments = customer_segments(record, fields, errors)
        fields = {name: value for name, value in fields.items()
                  if name != "segments" and not name.startswith("segments.")}
        if segments is not None:
            values["segments"] = segments
    for name, value in fields.items():
        if name not in kind.fields:
            errors[name] = _("Not a field you can set here.")
            continue
        try:
            values[name] = from_json(field_parameter(kind, name), value)
        except ValueError as exc:
            errors[name] = str(exc)
    reason_before = record.lost_reason if isinstance(record, Opportunity) else ""
    errors.update(record.update_from(values))
    if isinstance(record, Opportunity) and values.get("lost_reason") and values["lost_reason"] != reason_before \
            and record.status != "lost":  # (sent back as it was read, with a reopening: the store clears it)
        # kept for a lost one only (the store clears it on any other): said, not dropped without a word
        errors["lost_reason"] = _('Only a lost opportunity has a reason lost: send "status": "lost" with it.')
    return errors


def field_value(record: Record, dotted: str) -> Any:
    """A field's value for a history entry's field name (``segments.<criterion>`` for a customer's segment)."""
    if isinstance(record, Customer) and dotted.startswith("segments."):
        return list(record.segments.get(dotted.split(".", 1)[1], [])) or None
    try:
        return record.get(dotted)
    except AttributeError:
        return None


def max_length(parameter: param.Parameter) -> int | None:
    """A text's (or each list item's) maximum length, from the model."""
    limits = text_limits(parameter)
    return limits[0] if limits else None
