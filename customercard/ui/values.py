"""A field's value as people read it, the same wherever it is shown: on the card, in the history, in a conflict,
in the merge chooser — names instead of logins, Yes/No instead of true/false, dates and numbers as the reader's
language writes them, times in the firm's time zone.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable
from typing import Any

import param

from .. import formatting
from ..i18n import _
from ..models import Customer, Record, from_text

#: Fields whose values are logins (shown as the colleague's name).
USER_FIELDS = frozenset({"account_manager", "owner", "author", "created_by", "updated_by", "manager", "edited_by",
                         "status_changed_by"})
#: Fields whose values are lists of logins.
USERS_FIELDS = frozenset({"participants", "recipients"})


def field_parameter(record: type[Record] | Record, dotted: str) -> param.Parameter | None:
    """The parameter behind a dotted field of a record class (None for a field it does not have)."""
    owner: Any = record if isinstance(record, type) else type(record)
    parts = dotted.split(".")
    for part in parts[:-1]:
        nested = owner.param[part] if part in owner.param else None  # noqa: SIM401 - param has no .get
        if not isinstance(nested, param.ClassSelector):
            return None
        owner = nested.class_
    return owner.param[parts[-1]] if parts[-1] in owner.param else None  # noqa: SIM401


def merged_text(text: str) -> str:
    """The other customer of a merge as the history keeps it ('10008 Acme AB (id 8)') as people read it."""
    match = re.fullmatch(r"(\d+) (.*) \(id \d+\)", text, re.DOTALL)
    if not match:
        return text
    return _("customer {number} — {name}").format(number=match.group(1), name=match.group(2))


def shown(record: type[Record] | Record, field: str, value: Any, user_name: Callable[[str], str] | None = None,
          zone: str | None = None) -> str:
    """``value`` of ``field`` (a typed value, or the text the history keeps) as plain text for people; '' when
    empty. ``user_name`` turns a login into a name."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if (isinstance(record, type) and issubclass(record, Customer)) or isinstance(record, Customer):
        if field in Customer.HISTORY_ONLY:
            return merged_text(str(value))
        if field.startswith("segments."):
            return _joined(value)
    parameter = field_parameter(record, field)
    if isinstance(value, str) and parameter is not None and not isinstance(parameter, param.String):
        try:
            value = from_text(parameter, value)
        except (ValueError, TypeError):
            return value
    return _typed_text(value, field.rsplit(".", 1)[-1], user_name or (lambda login: login), zone)


def _typed_text(  # noqa: PLR0911 - one return per type of value
        value: Any, attr: str, name: Callable[[str], str], zone: str | None) -> str:
    """A typed value of the field ``attr`` as plain text, by its type; logins told by ``name``."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if attr in USER_FIELDS and isinstance(value, str):
        return name(value)
    if isinstance(value, list | tuple):
        return ", ".join(name(str(v)) if attr in USERS_FIELDS else str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {', '.join(map(str, items))}" for key, items in value.items() if items)
    if isinstance(value, dt.datetime):
        return formatting.datetime(value, zone)
    if isinstance(value, dt.date):
        return formatting.date(value)
    if isinstance(value, float):
        return formatting.number(value, digits=_decimals(value))
    return str(value)


def _decimals(value: float) -> int:
    """The decimals a stored number is shown with: none for a whole one, else two, or as many as it has (up to six:
    a discount of 99.999 % was shown as 100.00 in the history and the comparison, the card showing 99.999)."""
    if value.is_integer():
        return 0
    fraction = f"{value:.6f}".rstrip("0").partition(".")[2]
    return max(2, len(fraction))


def _joined(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return value
    return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
