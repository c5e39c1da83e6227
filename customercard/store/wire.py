"""What travels between a :class:`~customercard.store.remote.RemoteStore` and the server: values, frames, errors.

Arguments and plain results are JSON in which the values JSON has no word for are tagged (``{"$date": …}``):
dates and times, tuples, sets, dicts (their keys keep their type), the model's records (each serialised by param,
its own parameters as param writes them as JSON, nested records recursively; parameters the model hides, such as a
password hash, stay behind) and a few plain data classes (:class:`~customercard.models.Choices`,
:class:`~customercard.errors.FieldConflict`, :class:`~customercard.store.changes.Change`). Only those types are
ever built from what arrives: a tag names a class from a fixed list, never a module or a callable.

DataFrames travel as Arrow IPC streams with pandas' own metadata, so they arrive with the columns, dtypes and
index they left with: a result that is one frame is the whole response body (``application/vnd.apache.arrow.stream``);
a frame inside another value (``find_customers`` gives a frame and a count) is a base64 Arrow stream in the JSON.

Errors travel as ``{"error": {"type": …, "message": …}}`` with what their class carries (a ValidationError's field
messages, a ConflictError's fields) and are raised again as the same class on the other side.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import decimal
import io
import json
import math
from collections.abc import Iterator, KeysView, ValuesView
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd
import param

from .. import models
from ..errors import (
    ConflictError,
    CustomerCardError,
    FieldConflict,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationError,
    WriteConflict,
)
from ..i18n import _
from .changes import Change
from .search_text import DuplicateQuery

ARROW_TYPE = "application/vnd.apache.arrow.stream"
JSON_TYPE = "application/json"

#: The records that may travel: every class of the model that is a :class:`~customercard.models.Record`.
RECORDS: dict[str, type[models.Record]] = {
    name: kind for name, kind in vars(models).items()
    if isinstance(kind, type) and issubclass(kind, models.Record) and kind is not models.Record}
#: The plain data classes that may travel.
DATACLASSES: dict[str, type] = {"Choices": models.Choices, "FieldConflict": FieldConflict, "Change": Change,
                                 "DuplicateQuery": DuplicateQuery}
#: The errors that come back as themselves (anything else arrives as a CustomerCardError with its message).
PLAIN_ERRORS: dict[str, type[Exception]] = {"CustomerCardError": CustomerCardError, "NotFound": NotFound,
                                             "PermissionDenied": PermissionDenied, "WriteConflict": WriteConflict,
                                             "ValueError": ValueError,
                                             "TypeError": TypeError, "KeyError": KeyError,
                                             "LookupError": LookupError}


class WireError(CustomerCardError):
    """What arrived is not something the other side sends."""


# -- values ----------------------------------------------------------------------------------------------------
def encode(value: Any) -> Any:  # noqa: PLR0911, PLR0912 - one branch per kind of value, in the order they match
    """``value`` as JSON-ready data, tagged where JSON has no word for it."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float) and not isinstance(value, np.generic):
        return value if not (isinstance(value, float) and not math.isfinite(value)) else {"$float": repr(value)}
    if isinstance(value, np.datetime64):  # (its item() is a count of nanoseconds)
        return encode(None if np.isnat(value) else pd.Timestamp(value).to_pydatetime())
    if isinstance(value, np.generic):
        return encode(value.item())
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, dt.datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, decimal.Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, PurePath):
        return {"$path": str(value)}
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [encode(item) for item in value]}
    if isinstance(value, dict):
        return {"$dict": [[encode(key), encode(item)] for key, item in value.items()]}
    if isinstance(value, pd.DataFrame):
        return {"$frame": base64.b64encode(frame_to_arrow(value)).decode("ascii")}
    if isinstance(value, models.Record):
        return encode_record(value)
    if dataclasses.is_dataclass(value) and type(value).__name__ in DATACLASSES:
        return {"$data": type(value).__name__,
                "fields": {f.name: encode(getattr(value, f.name)) for f in dataclasses.fields(value)}}
    raise WireError(_("{kind} values do not travel to or from a customercard server.").format(
        kind=type(value).__name__))


def as_sent(value: Any) -> Any:  # noqa: PLR0911 - one branch per kind of value
    """An argument of a call as it is sent: the several values a notebook has at hand — a pandas Series or Index
    (a frame's ``ids``), a NumPy array, a range, a dict's keys or values, a generator — as the list of them, as the
    store, which takes any iterable there, reads them (inside lists, tuples and dicts too). Anything else as it is
    (:func:`encode` then refuses what does not travel)."""
    if isinstance(value, list):
        return [as_sent(item) for item in value]
    if isinstance(value, tuple) and type(value) is tuple:
        return tuple(as_sent(item) for item in value)
    if isinstance(value, dict):
        return {key: as_sent(item) for key, item in value.items()}
    if isinstance(value, np.ndarray):
        # one dimension as pandas reads it (datetime64 as moments, not as NumPy's integers); more as nested lists
        return as_sent(pd.Series(value).tolist() if value.ndim == 1 else value.tolist())
    if isinstance(value, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        return as_sent(value.tolist())
    if isinstance(value, range | KeysView | ValuesView | Iterator):
        return as_sent(list(value))
    return value


def decode(data: Any) -> Any:
    """The value :func:`encode` made ``data`` of."""
    if isinstance(data, list):
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if len(data) == 1:
        (tag, inner), = data.items()
        simple = _SIMPLE.get(tag)
        if simple is not None:
            return simple(inner)
    if "$record" in data:
        return decode_record(data)
    if "$data" in data:
        kind = DATACLASSES.get(data["$data"])
        if kind is None:
            raise WireError(f"unknown data class {data['$data']!r}")
        return kind(**{name: decode(value) for name, value in data["fields"].items()})
    raise WireError(f"unknown value {sorted(data)!r}")


_SIMPLE: dict[str, Any] = {
    "$float": float,
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
    "$timedelta": lambda seconds: dt.timedelta(seconds=seconds),
    "$decimal": decimal.Decimal,
    "$path": str,
    "$tuple": lambda items: tuple(decode(item) for item in items),
    "$set": lambda items: {decode(item) for item in items},
    "$dict": lambda pairs: {_key(decode(key)): decode(item) for key, item in pairs},
    "$frame": lambda text: frame_from_arrow(base64.b64decode(text)),
}


def _key(key: Any) -> Any:
    return tuple(key) if isinstance(key, list) else key


# -- records -----------------------------------------------------------------------------------------------------
def _travelling(record: models.Record) -> list[str]:
    """The parameters of a record that travel: all but param's generated object name (unless the model has a field
    called ``name``), the nested records (sent on their own) and what the model hides (negative precedence)."""
    names = []
    for name, parameter in record.param.objects("existing").items():
        if name == "name" and "name" not in record.fields:
            continue
        if name in record.nested or (parameter.precedence is not None and parameter.precedence < 0):
            continue
        names.append(name)
    return names


def encode_record(record: models.Record) -> dict[str, Any]:
    """A record as param serialises it (JSON), its nested records likewise, and the allowed values it offers where
    they are its own (a customer's industries, statuses and account managers, see ``Customer.apply_choices``)."""
    kind = type(record)
    objects = {}
    for name in _travelling(record):
        own = getattr(record.param[name], "objects", None)
        if own is not None and isinstance(kind.param[name], param.Selector) and \
                list(own) != list(kind.param[name].objects):
            objects[name] = [encode(value) for value in own]
    # moments with their offset (param writes a datetime without it: 10:00 in Stockholm arrived as 10:00 UTC), and
    # days before the year 1000 (param writes year 1 as '1-01-01', which it cannot read back: the model refuses
    # them with its message, on the server as on the file)
    moments = {name: encode(value) for name in _travelling(record)
               if isinstance(value := getattr(record, name), dt.date)
               and (getattr(value, "tzinfo", None) is not None or value.year < 1000)}  # noqa: PLR2004 - 4 digits
    encoded = {"$record": kind.__name__,
               "values": record.param.serialize_parameters(
                   subset=[name for name in _travelling(record) if name not in moments], mode="json"),
               "nested": {name: encode_record(getattr(record, name)) for name in record.nested
                          if getattr(record, name) is not None},
               "objects": objects}
    # dicts again as the wire writes them, their keys' kinds kept (JSON's keys are text: a bulk change's
    # ``skipped`` {customer id: why} arrived keyed by '19', where the store gives 19)
    dicts = {name: encode(getattr(record, name)) for name in _travelling(record)
             if isinstance(kind.param[name], param.Dict) and getattr(record, name)}
    if dicts:
        encoded["dicts"] = dicts
    if moments:
        encoded["moments"] = moments
    if record.unreadable:  # the stored values the model refused (read as defaults), and those to write anyway
        encoded["unreadable"] = record.unreadable
        encoded["rewrite"] = sorted(record.__dict__.get("_rewrite") or ())
    return encoded


def decode_record(data: dict[str, Any]) -> models.Record:
    kind = RECORDS.get(data["$record"])
    if kind is None:
        raise WireError(f"unknown record {data['$record']!r}")
    values = kind.param.deserialize_parameters(data["values"], mode="json")
    nested = {name: decode_record(inner) for name, inner in data.get("nested", {}).items() if name in kind.nested}
    dicts = {name: decode(value) for name, value in (data.get("dicts") or {}).items()
             if name in kind.param and isinstance(kind.param[name], param.Dict)}
    dicts.update({name: decode(value) for name, value in (data.get("moments") or {}).items()
                  if name in kind.param and isinstance(kind.param[name], param.Date | param.CalendarDate)})
    record = kind(**{**{k: v for k, v in values.items() if k in kind.param}, **dicts, **nested})
    for name, allowed in data.get("objects", {}).items():
        if name in kind.param and isinstance(kind.param[name], param.Selector):
            record.param[name].objects = [decode(value) for value in allowed]
    if isinstance(data.get("unreadable"), dict):
        record._unreadable = {str(k): str(v) for k, v in data["unreadable"].items()}
        record.rewrite_unreadable(str(field) for field in data.get("rewrite") or ())
    return record


def absorb(target: models.Record, source: models.Record) -> models.Record:
    """Make ``target`` hold what ``source`` holds (the same object stays, so whoever watches it sees the change):
    what a store does to the record it was given when it saves or creates it."""
    for name in source.nested:
        inner = getattr(source, name)
        if inner is not None and getattr(target, name) is not None:
            absorb(getattr(target, name), inner)
    for name in _travelling(source):
        allowed = getattr(source.param[name], "objects", None)
        if allowed is not None and isinstance(type(source).param[name], param.Selector):
            target.param[name].objects = list(allowed)
    target.param.update({name: getattr(source, name) for name in _travelling(source)})
    if source.unreadable or target.unreadable:
        target._unreadable = source.unreadable
    return target


# -- frames ------------------------------------------------------------------------------------------------------
#: The schema metadata that says what Arrow alone would not bring back: {"tuples": {column: depth}} — the column's
#: values are tuples (depth 0), or lists of tuples (depth 1: the timeline's ``changes``) — and {"absent": [column]}:
#: the column's missing values are pd.NA, not None (DuckDB's NULL list, map or struct in a query's answer).
FRAME_METADATA = b"customercard"


def frame_to_arrow(frame: pd.DataFrame) -> bytes:
    """A DataFrame as an Arrow IPC stream, with pandas' metadata (dtypes, index) inside. A column of dicts (a
    query's ``histogram()`` or ``map()``, whose keys may be numbers) travels as an Arrow map where its keys and
    values each have one type (else as Arrow makes it); where tuples are, the metadata says so."""
    import pyarrow as pa

    maps: dict[int, Any] = {}
    tuples: dict[str, int] = {}
    absent: list[str] = []  # the columns whose missing values are pd.NA (DuckDB's NULL list, map, struct)
    arrays: list[str] = []  # lists as DuckDB's .df() gives them (NumPy arrays), and blobs (bytearray)
    for place, (name, column) in enumerate(frame.items()):
        if column.dtype == object:
            _note_column(place, str(name), column, maps, tuples, absent, arrays)
    plain = frame.copy(deep=False) if maps else frame
    for place in maps:
        plain.isetitem(place, pd.Series([None] * len(frame), index=frame.index, dtype=object))
    mixed: list[str] = []  # columns of values of several kinds (a diff's text and list values): as the wire's JSON
    while True:
        try:
            table = pa.Table.from_pandas(plain, preserve_index=None)
            break
        except (pa.ArrowException, TypeError, ValueError) as exc:
            failing = _failing_column(plain)
            place = list(map(str, plain.columns)).index(failing) if failing in map(str, plain.columns) else -1
            if place < 0 or failing in mixed or plain.iloc[:, place].dtype != object:
                raise WireError(_("The column {column} holds values that do not travel to or from a customercard "
                                  "server ({error}).").format(column=failing, error=exc)) from None
            if plain is frame:
                plain = frame.copy(deep=False)
            plain.isetitem(place, pd.Series([None if _missing(value) else json.dumps(encode(value))
                                             for value in plain.iloc[:, place]], index=frame.index, dtype=object))
            tuples.pop(failing, None)
            mixed.append(failing)
    for place, array in maps.items():
        table = table.set_column(place, pa.field(table.column_names[place], array.type), array)
    if tuples or absent or arrays or mixed:
        said = json.dumps({"tuples": tuples, "absent": absent, "arrays": arrays, "mixed": mixed}).encode("utf-8")
        table = table.replace_schema_metadata({**(table.schema.metadata or {}), FRAME_METADATA: said})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _map_array(column: pd.Series) -> Any:
    """A column of dicts as an Arrow map array, or None when their keys or their values are not of one type each
    (a struct's fields, which Arrow carries as a struct)."""
    import pyarrow as pa

    keys = [key for value in column if isinstance(value, dict) for key in value]
    items = [item for value in column if isinstance(value, dict) for item in value.values()]
    try:
        key_type = pa.array(keys, from_pandas=True).type if keys else pa.string()
        item_type = pa.array(items, from_pandas=True).type if items else pa.string()
        if pa.types.is_null(key_type):
            return None
        return pa.array([value if isinstance(value, dict) else None for value in column],
                        type=pa.map_(key_type, item_type), from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError):
        return None


def _note_column(place: int, name: str, column: pd.Series, maps: dict[int, Any],
                 tuples: dict[str, int], absent: list[str], arrays: list[str]) -> None:
    """What :func:`frame_to_arrow` notes of a column of objects: a map to make, tuples, missing values as pd.NA,
    NumPy arrays or blobs to give back as such."""
    first = next((value for value in column if not _missing(value)), None)
    if isinstance(first, bytearray):
        arrays.append(name)
        return
    if not isinstance(first, dict | list | tuple | np.ndarray):
        return
    present = [value for value in column if not _missing(value)]
    if any(value is pd.NA for value in column):
        absent.append(name)
    if all(isinstance(value, np.ndarray) for value in present):
        arrays.append(name)
    if all(isinstance(value, dict) for value in present):
        made = _map_array(column)
        if made is not None:
            maps[place] = made
    elif all(type(value) is tuple for value in present):
        tuples[name] = 0
    elif all(type(value) is list for value in present) and any(present) and \
            all(type(item) is tuple for value in present for item in value):
        tuples[name] = 1


def _failing_column(frame: pd.DataFrame) -> str:
    """The name of the first column of ``frame`` that Arrow cannot carry."""
    import pyarrow as pa

    for name, column in frame.items():
        try:
            pa.array(column, from_pandas=True)
        except (pa.ArrowException, TypeError, ValueError):
            return str(name)
    return "?"


def frame_from_arrow(data: bytes) -> pd.DataFrame:
    """The DataFrame :func:`frame_to_arrow` wrote. A column of lists (the timeline's ``changes``), of dicts (a map,
    a struct) comes back as Python lists and dicts, as the store gives them (Arrow's own conversion gives NumPy
    arrays, whose truth is ambiguous, and fills a struct's missing numbers as floats); tuples come back as
    tuples where the metadata says they were."""
    import pyarrow as pa

    table = pa.ipc.open_stream(pa.py_buffer(data)).read_all()
    try:
        said = json.loads((table.schema.metadata or {}).get(FRAME_METADATA) or b"{}")
        tuples = dict(said.get("tuples") or {}) if isinstance(said, dict) else {}
        absent = {str(name) for name in said.get("absent") or ()} if isinstance(said, dict) else set()
        arrays = {str(name) for name in said.get("arrays") or ()} if isinstance(said, dict) else set()
        mixed = {str(name) for name in said.get("mixed") or ()} if isinstance(said, dict) else set()
    except (ValueError, TypeError):
        tuples, absent, arrays, mixed = {}, set(), set(), set()
    frame = table.to_pandas()
    for name in mixed & set(map(str, frame.columns)):
        frame[name] = pd.Series([None if _missing(value) else decode(json.loads(value)) for value in frame[name]],
                                index=frame.index, dtype=object)
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in frame.columns and _nested(pa, column.type):
            values = column.to_pylist(maps_as_pydicts="lossy")
            depth = tuples.get(name)
            if depth == 0:
                values = [tuple(value) if isinstance(value, list) else value for value in values]
            elif depth == 1:
                values = [[tuple(item) if isinstance(item, list) else item for item in value]
                          if isinstance(value, list) else value for value in values]
            if name in absent:
                values = [pd.NA if value is None else value for value in values]
            if name in arrays:  # as the file's frame holds them: NumPy arrays
                values = [np.array(value) if isinstance(value, list) else value for value in values]
            frame[name] = pd.Series(values, index=frame.index, dtype=object)
        elif name in arrays and name in frame.columns:  # blobs: bytearray, as DuckDB gives them
            frame[name] = pd.Series([bytearray(value) if isinstance(value, bytes) else value
                                     for value in frame[name]], index=frame.index, dtype=object)
    return frame


def _nested(pa: Any, kind: Any) -> bool:
    return pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_map(kind) or \
        pa.types.is_struct(kind)


# -- errors ------------------------------------------------------------------------------------------------------
#: The HTTP status each error answers with.
STATUS = {ValidationError: 422, ConflictError: 409, WriteConflict: 409, NotFound: 404, PermissionDenied: 403}


def status_of(error: Exception) -> int:
    for kind, status in STATUS.items():
        if isinstance(error, kind):
            return status
    return 400


def encode_error(error: Exception) -> dict[str, Any]:
    """An error as what travels: its class's name, its message and what its class carries."""
    body: dict[str, Any] = {"type": _error_name(error), "message": str(error)}
    if isinstance(error, ValidationError):
        body["errors"] = error.errors
    if isinstance(error, ConflictError):
        body.update(conflicts=[encode(conflict) for conflict in error.conflicts],
                    stored_version=error.stored_version, attempted_version=error.attempted_version)
    if isinstance(getattr(error, "wait_seconds", None), int):  # too many requests, attempts: when to try again
        body["wait_seconds"] = error.wait_seconds
    return {"error": body}


def _error_name(error: Exception) -> str:
    for kind in (ValidationError, ConflictError, WriteConflict, NotFound, PermissionDenied, CustomerCardError, KeyError,
                 LookupError, ValueError, TypeError):
        if isinstance(error, kind):
            return kind.__name__
    return "CustomerCardError"


def decode_error(body: dict[str, Any]) -> Exception:
    """The exception :func:`encode_error` described, as its own class."""
    name, message = body.get("type", ""), str(body.get("message", ""))
    if name == "ValidationError":
        error: Exception = ValidationError(dict(body.get("errors") or {}))
        error.args = (message,)
        return error
    if name == "ConflictError":
        error = ConflictError([decode(c) for c in body.get("conflicts", [])], int(body.get("stored_version", 0)),
                              int(body.get("attempted_version", 0)))
        error.args = (message,)
        return error
    if name == "PermissionDenied" and isinstance(body.get("wait_seconds"), int):
        error = TooManyAttempts(body["wait_seconds"])  # a PermissionDenied that says when to try again
        error.args = (message,)
        return error
    return PLAIN_ERRORS.get(name, CustomerCardError)(message)


def dumps(data: Any) -> bytes:
    try:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:  # a broken character (a lone surrogate, a refusal may quote it): as an ASCII escape
        return json.dumps(data, ensure_ascii=True, separators=(",", ":")).encode("utf-8")
