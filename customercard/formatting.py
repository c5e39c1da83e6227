"""Money, numbers and dates written for the firm's locale (Babel)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from babel import dates as babel_dates
from babel import numbers as babel_numbers


def money(amount: float | None, currency: str, locale: str, decimals: bool = False) -> str:
    """An amount with its currency, e.g. '1 234 567 kr' for sv_SE."""
    if amount is None:
        return ""
    if decimals:
        return babel_numbers.format_currency(amount, currency, locale=locale)
    return babel_numbers.format_currency(round(float(amount)), currency, locale=locale, format="#,##0 ¤",
                                         currency_digits=False)


def number(value: float | None, locale: str, digits: int = 0) -> str:
    if value is None:
        return ""
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=locale)


def date(value: dt.date | None, locale: str) -> str:
    if value is None or value != value:  # None or NaT
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    return babel_dates.format_date(value, format="medium", locale=locale)


def local_time(value: Any) -> dt.datetime | None:
    """A naive UTC timestamp from the database in this server's local time zone."""
    if value is None or value != value:
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC).astimezone().replace(tzinfo=None)
    return value


def datetime(value: Any, locale: str) -> str:
    """A stored UTC timestamp written in local time, to the minute (e.g. '2026-11-27 10:05' for sv_SE)."""
    local = local_time(value)
    if local is None:
        return ""
    return (babel_dates.format_date(local.date(), format="short", locale=locale) + " "
            + babel_dates.format_time(local.time(), format="short", locale=locale))
