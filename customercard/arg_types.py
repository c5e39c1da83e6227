"""Whether a call's arguments are of the kinds its parameters are annotated with — for calls that come over the
network (the store's API through a server), where a text given for a customer reached the store and failed inside
it (an AttributeError, answered as the server's failure) instead of being refused as the caller's mistake.

Lenient by design: an annotation it does not understand fits anything; an ``int`` also fits a ``float``; ``bool``
does not fit ``int``. The store's own checks (of the values themselves) come after it and say more."""

from __future__ import annotations

import datetime as dt
import inspect
import numbers
import operator
import os
import re
import types
import typing
from collections import abc
from pathlib import Path
from typing import Any

#: What stands for "a value of any kind" in an annotation.
_ANY = (Any, object)
#: Kinds the store also takes as text (ISO dates and moments, paths).
_READ_FROM_TEXT = (dt.date, dt.datetime, Path, os.PathLike)


def fits(value: Any, hint: Any) -> bool:  # noqa: PLR0911, PLR0912 - one branch per kind of annotation
    """Whether ``value`` is of the kind ``hint`` (a resolved annotation) says."""
    if hint in _ANY or isinstance(hint, typing.TypeVar):
        return True
    if hint is None or hint is type(None):
        return value is None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(fits(value, arg) for arg in args)
    if origin is typing.Literal:
        return value in args
    if origin in (list, tuple, set, frozenset, abc.Sequence, abc.Iterable, abc.Collection):
        if not isinstance(value, list | tuple | set | frozenset):
            return False
        items = [a for a in args if a is not Ellipsis]
        return len(items) != 1 or all(fits(item, items[0]) for item in value)
    if origin in (dict, abc.Mapping):
        if not isinstance(value, dict):
            return False
        if len(args) == 2:  # noqa: PLR2004 - keys and values
            return all(fits(k, args[0]) and fits(v, args[1]) for k, v in value.items())
        return True
    if origin is abc.Callable or hint is abc.Callable:
        return callable(value)
    if origin is not None:
        return True  # a kind this does not know: not refused
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:  # a whole number, however it came (5.0: an id column of pandas with a gap is float)
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer())
    if hint is bool:  # 0 and 1 are taken for no and yes, as the store does
        return isinstance(value, bool) or (isinstance(value, int) and value in (0, 1))
    if hint is dt.datetime and isinstance(value, dt.date):
        return True  # a day for a moment: its start
    if hint in _READ_FROM_TEXT and isinstance(value, str):
        return True  # a day, a moment or a path as text: the store reads it (and says so when it cannot)
    if isinstance(hint, type):
        return isinstance(value, hint)
    return True


def read_whole_numbers(function: Any, arguments: dict[str, Any]) -> None:
    """Read, in place, a whole number given as text ('5') for a parameter that takes a whole number and no text (a
    customer's id): the store in the analyst's own process takes get_customer("5"), so does the server."""
    try:
        hints = typing.get_type_hints(inspect.unwrap(function))
    except Exception:  # as misfits: annotations that do not resolve here are left alone
        return
    for name, value in list(arguments.items()):
        if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value) and takes_whole_number(hints.get(name)):
            arguments[name] = int(value)


_WHOLE_NUMBER = re.compile(r"\s*[+-]?[0-9]{1,18}\s*")


def whole_number(value: Any, name: str) -> int:
    """``value`` as the whole number a parameter named ``name`` takes (an id): an int of any kind (numpy's too), a
    float with nothing after the point (a pandas id column with a gap is float), or its digits as text. Anything else
    (5.5, True, "five", None where a number must be) is a :class:`ValidationError` on ``name``."""
    from .errors import ValidationError
    from .i18n import _

    if isinstance(value, bool) or value is None:
        kind = type(value).__name__
    elif isinstance(value, str):
        if _WHOLE_NUMBER.fullmatch(value):
            return int(value)
        kind = "str"
    else:
        try:
            number = operator.index(value)  # int and numpy's integers
        except TypeError:
            number = None
        if number is not None:
            return int(number)
        if isinstance(value, float | numbers.Real) and float(value).is_integer():
            return int(value)
        kind = type(value).__name__
    raise ValidationError({name: _("Not a value this takes (a {kind} was given).").format(kind=kind)})


def takes_whole_number(hint: Any) -> bool:
    if hint is int:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        kinds = typing.get_args(hint)
        return int in kinds and str not in kinds and not any(k in _ANY for k in kinds)
    return False


def misfits(function: Any, arguments: dict[str, Any]) -> dict[str, str]:
    """{parameter: the kind of value given} for each argument that does not fit its parameter's annotation (none when
    the annotations cannot be read)."""
    try:
        hints = typing.get_type_hints(inspect.unwrap(function))
    except Exception:  # an annotation that does not resolve here: nothing is said
        return {}
    return {name: type(value).__name__ for name, value in arguments.items()
            if name in hints and name != "self" and not fits(value, hints[name])}
