"""Money, numbers, percentages, dates and times as the reader's language writes them — the one place they are
formatted (Babel, CLDR).

One format per language, wherever a value is shown (the card, the history, tables, the pipeline, the chart's
axis and hover, e-mails): Swedish as in Sweden (sv_SE: "2 122 640 kr", "17 maj 2025", "17 maj 2025 10:05"),
Danish as in Denmark (da_DK: "2.122.640 kr.", "17. maj 2025", "17. maj 2025 10.05"), English as in Britain (en_GB:
"SEK 2,122,640", "17 May 2025", "17 May 2025, 10:05"). The language is the reader's (:func:`customercard.i18n.
current_language`) unless one is given. Stored timestamps are UTC; they are shown in the firm's time zone (the
setting ``time_zone``, Europe/Stockholm by default), given as ``zone``.

:func:`read_number` reads a number as a person of that language types it.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers

from .i18n import current_language, supported

#: The locale each language writes its formats in.
FORMAT_LOCALES: dict[str, str] = {"en": "en_GB", "sv": "sv_SE", "da": "da_DK"}
#: The firm's time zone unless the settings say another.
DEFAULT_TIME_ZONE = "Europe/Stockholm"


def format_locale(language: str | None = None) -> str:
    """The Babel locale that writes formats for ``language`` (the reader's by default)."""
    return FORMAT_LOCALES[supported(language or current_language()) or "en"]


@functools.cache
def _locale(name: str) -> Locale:
    """The Babel locale called ``name``, parsed once (formats are drawn for every value of every page)."""
    return Locale.parse(name)


@functools.cache
def _pattern(pattern: str) -> babel_numbers.NumberPattern:
    """A number pattern ('#,##0.00'), parsed once."""
    return babel_numbers.parse_pattern(pattern)


@functools.cache
def _money_layout(locale: str, currency: str) -> tuple[str, bool]:
    """A currency's symbol in ``locale`` and whether that locale writes it before the amount."""
    symbol = babel_numbers.get_currency_symbol(currency, locale=locale)
    return symbol, _locale(locale).currency_formats["standard"].pattern.strip().startswith("¤")


def symbols(language: str | None = None) -> dict[str, str]:
    """The marks a language writes numbers with: ``group`` (thousands), ``decimal`` and ``minus``."""
    found = _locale(format_locale(language)).number_symbols["latn"]
    return {"group": found["group"], "decimal": found["decimal"], "minus": found["minusSign"]}


@functools.cache
def _calendar(locale_name: str) -> dict[str, Any]:
    locale = _locale(locale_name)

    def sunday_first(names: dict[int, str]) -> list[str]:  # Babel counts from Monday (0), a calendar from Sunday
        return [names[(day + 6) % 7] for day in range(7)]

    months, days = locale.months["format"], locale.days["format"]
    return {"months": {"longhand": [months["wide"][m] for m in range(1, 13)],
                       "shorthand": [months["abbreviated"][m] for m in range(1, 13)]},
            "weekdays": {"longhand": sunday_first(days["wide"]), "shorthand": sunday_first(days["abbreviated"])},
            "firstDayOfWeek": (locale.first_week_day + 1) % 7,
            # how a screen reader is told a day of the calendar (flatpickr's tokens), as the language says a date
            "ariaDateFormat": ARIA_DATE_FORMATS.get(locale_name.split("_", maxsplit=1)[0], "F j, Y")}


#: A calendar day as a screen reader says it, per language (flatpickr's tokens), as the product writes dates:
#: 1 december 2026, 1. december 2026, 1 December 2026.
ARIA_DATE_FORMATS = {"sv": "j F Y", "da": "j. F Y", "en": "j F Y"}


def calendar(language: str | None = None) -> dict[str, Any]:
    """A date picker's calendar in ``language`` (the reader's by default), as flatpickr reads a locale: the months'
    and weekdays' names (Sunday first) and the first day of the week (0 is Sunday); with it, how a day is said to
    a screen reader (``ariaDateFormat``, an option of its own)."""
    return dict(_calendar(format_locale(language)))


def _missing(value: Any) -> bool:
    return value is None or value != value  # noqa: PLR0124 - None, NaN or NaT (the values unequal to themselves)


def number(value: float | None, digits: int = 0, language: str | None = None) -> str:
    """A number with ``digits`` decimals: '1 234,50' (sv), '1.234,50' (da), '1,234.50' (en)."""
    if _missing(value):
        return ""
    pattern = _pattern("#,##0" + ("." + "0" * digits if digits else ""))
    return pattern.apply(_no_minus_zero(value, digits), _locale(format_locale(language)), decimal_quantization=True)


def _no_minus_zero(value: Any, digits: int) -> Any:
    """0 for a value that is zero as shown (-0.0, or -0.001 with no decimals): never '-0'."""
    return 0 if round(float(value), digits) == 0 else value


def figure(value: float | None, language: str | None = None, most: int = 3) -> str:
    """A number with the decimals it has (at most ``most``), grouped: '0,5' and '1 234' (sv), '0.5' (en)."""
    if _missing(value):
        return ""
    return _pattern("#,##0." + "#" * most).apply(_no_minus_zero(value, most), _locale(format_locale(language)))


#: The decimals a figure a person typed is shown with (a rate, a distance): enough for any they type.
TYPED_DECIMALS = 6


def typed(value: float | None, language: str | None = None) -> str:
    """A figure a person typed, as typed: every decimal it has (up to :data:`TYPED_DECIMALS`), '12.25', '10.0004'."""
    return figure(value, language, most=TYPED_DECIMALS)


def country(code: str | None, language: str | None = None) -> str:
    """A country's name for its two-letter code, in the reader's language ('SE' → 'Sverige', 'Sweden'); the code
    itself for one Babel does not know."""
    if not code:
        return ""
    return _locale(format_locale(language)).territories.get(code.upper(), code)


def money(amount: float | None, currency: str, decimals: bool = False, language: str | None = None) -> str:
    """An amount with its currency, whole by default: '2 122 640 kr' (sv, SEK), '2.122.640 kr.' (da, DKK),
    'SEK 2,122,640' (en)."""
    if _missing(amount):
        return ""
    locale = format_locale(language)
    digits = babel_numbers.get_currency_precision(currency) if decimals else 0
    text = number(amount if decimals else round(float(amount)), digits, language)
    symbol, symbol_first = _money_layout(locale, currency)
    if symbol_first:  # the symbol first (en): a space only after letters ('SEK 5', '£5')
        sign = ""
        if text[:1] in ("-", "\u2212"):
            sign, text = text[:1], text[1:]
        return f"{sign}{symbol}{chr(0xA0) if symbol[-1:].isalpha() else ''}{text}"
    return f"{text}\u00a0{symbol}"


def percent(value: float | None, digits: int | None = 0, language: str | None = None) -> str:
    """A percentage given in percent: 25 → '25 %' (sv, da), '25%' (en); ``digits`` None: with the decimals it has
    (as :func:`typed`): 12.25 → '12.25%'."""
    if _missing(value):
        return ""
    pattern = _locale(format_locale(language)).percent_formats[None].pattern
    before, _digits, after = pattern.partition("#,##0")
    shown = typed(value, language) if digits is None else number(value, digits, language)
    return before + shown + after


def date(value: dt.date | None, language: str | None = None) -> str:
    """A date: '17 maj 2025' (sv), '17. maj 2025' (da), '17 May 2025' (en)."""
    if _missing(value):
        return ""
    if isinstance(value, dt.datetime):
        value = value.date()
    if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime().date()
    return babel_dates.format_date(value, format="medium", locale=_locale(format_locale(language)))


def month(value: dt.date, language: str | None = None) -> str:
    """A month of a year: 'maj 2025' (sv), 'maj 2025' (da), 'May 2025' (en)."""
    return babel_dates.format_skeleton("yMMMM", value, locale=_locale(format_locale(language)))


def time_zone(zone: str | None) -> ZoneInfo:
    """The time zone called ``zone`` (the default zone for none or an unknown name)."""
    try:
        return ZoneInfo(zone or DEFAULT_TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo(DEFAULT_TIME_ZONE)


def local_time(value: Any, zone: str | None = None) -> dt.datetime | None:
    """A stored (naive UTC) timestamp as a naive time in the firm's time zone; None for none. An aware timestamp
    is converted from its own zone."""
    if _missing(value):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
        try:
            return aware.astimezone(time_zone(zone)).replace(tzinfo=None)
        except (OverflowError, ValueError):  # at the calendar's ends (a stored 9999-12-31 23:30): shown as stored
            return value.replace(tzinfo=None)
    return value


def datetime(value: Any, zone: str | None = None, language: str | None = None) -> str:
    """A stored UTC timestamp in the firm's time zone, to the minute: '17 maj 2025 10:05' (sv), '17. maj 2025
    10.05' (da), '17 May 2025, 10:05' (en)."""
    local = local_time(value, zone)
    if local is None:
        return ""
    if not isinstance(local, dt.datetime):
        return date(local, language)
    locale = _locale(format_locale(language))
    joined = babel_dates.get_datetime_format("medium", locale=locale)
    return joined.replace("'", "").format(babel_dates.format_time(local.time(), format="short", locale=locale),
                                          babel_dates.format_date(local.date(), format="medium", locale=locale))


def time_of_day(value: Any, zone: str | None = None, language: str | None = None) -> str:
    """The time of a stored UTC timestamp in the firm's time zone, to the minute: '10:05' (sv, en), '10.05' (da)."""
    local = local_time(value, zone)
    if not isinstance(local, dt.datetime):
        return ""
    return babel_dates.format_time(local.time(), format="short", locale=_locale(format_locale(language)))


def read_number(text: str | None, language: str | None = None) -> float | None:
    """A number as a person of ``language`` (the reader's by default) types it; None for an empty text, a
    ValueError for anything else.

    Spaces (also no-break and thin ones) and apostrophes group digits in every language. English: '1,234.50',
    '1234.5' — a comma only groups digits, so '1,234' is 1234 and '1,5' is refused, never read as 1.5 or 1.234.
    Swedish and Danish: '1 234,50', '1234,5', and a point grouping digits ('1.234,50'); a lone point is read as the
    decimal point a pasted number has ('2.5'), in Danish unless it groups three digits ('1.234' is 1234).
    """
    raw = (text or "").strip()
    if not raw:
        return None
    plain = re.sub(r"[\s\u00a0\u202f']", "", raw).replace("\u2212", "-")
    language = supported(language or current_language()) or "en"
    group, decimal = (",", ".") if language == "en" else (".", ",")
    if language != "en" and "," not in plain and plain.count(".") == 1 and (
            language == "sv" or not re.fullmatch(r"[-+]?\d{1,3}\.\d{3}", plain)):
        group, decimal = ",", "."
    g, d = re.escape(group), re.escape(decimal)
    if not re.fullmatch(rf"[-+]?(?:\d{{1,3}}(?:{g}\d{{3}})+|\d+)(?:{d}\d*)?", plain):
        raise ValueError(raw)
    return float(plain.replace(group, "").replace(decimal, ".")) + 0.0  # (+ 0.0: '-0' is 0, never shown as '-0')


def number_text(value: Any, language: str | None = None) -> str:
    """A number as a form shows it to be typed over: no grouping, the language's decimal mark, no '.0' on whole
    numbers ('1234,5' in Swedish and Danish, '1234.5' in English); '' for none. :func:`read_number` reads it back."""
    if _missing(value):
        return ""
    if float(value).is_integer():
        return str(int(value))
    return repr(float(value)).replace(".", symbols(language)["decimal"])


__all__ = ["DEFAULT_TIME_ZONE", "FORMAT_LOCALES", "country", "date", "datetime", "figure", "format_locale",
           "local_time", "money", "number", "number_text", "percent", "read_number", "symbols", "time_of_day",
           "time_zone", "typed"]
