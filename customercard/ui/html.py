"""Building read-only HTML safely: every value from users is escaped; links only to safe schemes."""

from __future__ import annotations

import html
import math
import re
from collections import namedtuple
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import pandas as pd

from ..validators import isolated  # noqa: F401 - re-exported: the pages keep user texts to themselves
from . import assets

SECTION_CSS = assets.text("section.css")


@lru_cache(maxsize=256)
def _row_type(columns: tuple[str, ...]) -> type:
    return namedtuple("Row", columns, rename=True)


def rows_of(frame: pd.DataFrame) -> Iterator[tuple]:
    """A frame's rows as named tuples, like ``frame.itertuples(index=False)`` (the same values: Timestamps, None, NaN
    for a missing number) at a third of its cost for the few rows of a card's section (0.15 ms against 0.43 for three
    rows). A missing text is None (pandas' string columns hold NaN, which ``value or ""`` keeps: "NaN" was shown)."""
    row = _row_type(tuple(str(column) for column in frame.columns))
    return (row._make(values) for values in zip(*(_column_values(frame[column]) for column in frame.columns),
                                                 strict=True))


def _column_values(column: pd.Series) -> list[Any]:
    values = column.tolist()
    if isinstance(column.dtype, pd.StringDtype):
        return [None if value is pd.NA or (isinstance(value, float) and math.isnan(value)) else value
                for value in values]
    return values


def page_heading(text: str) -> str:
    """A page's one level-one heading, as large as a second-level one (the header above it is the banner)."""
    return f'<h1 class="cc-page-title" style="font-size:1.5em;margin:0.5em 0">{esc(text)}</h1>'


def esc(value: object) -> str:
    """Escape a value for HTML text or attributes (None, and a missing value from a DataFrame, become '')."""
    missing = value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
    return html.escape("" if missing else str(value), quote=True)




def plain_text(markup: str | None) -> str:
    """The text a reader sees in a piece of our HTML (a message, a note): the tags dropped, the entities read."""
    return html.unescape(re.sub(r"<[^>]*>", "", markup or ""))


def link(href: str, text: object, css: str = "", new_tab: bool = False) -> str:
    """An anchor; ``href`` must be a path on this server, http(s), mailto: or tel: — anything else is text."""
    if not href or not (href.startswith(("/", "https://", "http://", "mailto:", "tel:")) and not
                        href.startswith("//")):
        return esc(text)
    extra = ' target="_blank" rel="noopener noreferrer"' if new_tab else ""
    cls = f' class="{esc(css)}"' if css else ""
    return f'<a href="{esc(href)}"{cls}{extra}>{esc(text)}</a>'


def mailto(address: str) -> str:
    return link(f"mailto:{quote(address, safe='@.+-_')}", address) if address else ""


_EXTENSION = re.compile(r"\s*(?:ext\.?|extn\.?|x|#|;)\s*(\d+)\s*$", re.IGNORECASE)


def tel(number: str) -> str:
    """A phone number as a link that calls it; an extension ('… ext. 12') goes after the number as RFC 3966 says
    (``;ext=12``), not glued onto its digits."""
    if not number:
        return ""
    extension = _EXTENSION.search(number)
    main = number[:extension.start()] if extension else number
    digits = "".join(ch for ch in main if ch.isdigit() or ch == "+")
    return link(f"tel:{digits}" + (f";ext={extension.group(1)}" if extension else ""), number)


def fields(pairs: Iterable[tuple[str, str]], empty: str = "—") -> str:
    """A definition list of (label, already-safe HTML value) pairs."""
    rows = "".join(f"<dt>{esc(label)}</dt><dd>{value if value else f'<span class=cc-empty>{esc(empty)}</span>'}</dd>"
                   for label, value in pairs)
    return f'<dl class="cc-fields">{rows}</dl>'


#: A word longer than this (a pasted link, a text without spaces) may break anywhere in its cell: kept whole, it
#: set the table's width (a follow-up of 2,000 letters made Home 11,000 pixels wide; a relation's note, the card
#: 31,000).
LONG_WORD = 24
_WRAPS = ' class="cc-wrap"'
_TAG = re.compile(r"<[^>]*>")


def _long_word(cell_html: str) -> bool:
    """Whether a cell's text holds a word longer than :data:`LONG_WORD` characters."""
    return any(len(word) > LONG_WORD for word in html.unescape(_TAG.sub(" ", cell_html)).split())


def table(headers: list[tuple[str, bool]], rows: list[list[str]], css_id: str = "",
          total: list[str] | None = None, caption: str = "") -> str:
    """A table of already-safe HTML cells; headers are (label, right-aligned) — one without a label (a column of
    buttons) is an empty cell, not a header. ``caption``: what the table holds, for screen readers only."""
    head = "".join(("<td></td>" if not h else f'<th scope="col" class="num">{esc(h)}</th>' if num
                    else f'<th scope="col">{esc(h)}</th>') for h, num in headers)

    def cell(i: int, c: str) -> str:
        return f'<td class="num">{c}</td>' if headers[i][1] else f"<td{_WRAPS if _long_word(c) else ''}>{c}</td>"

    body = "".join("<tr>" + "".join(cell(i, c) for i, c in enumerate(row)) + "</tr>" for row in rows)
    if total:
        body += '<tr class="total">' + "".join(cell(i, c) for i, c in enumerate(total)) + "</tr>"
    ident = f' id="{esc(css_id)}"' if css_id else ""
    title = f'<caption class="cc-sr-only">{esc(caption)}</caption>' if caption else ""
    return f'<table class="cc-table"{ident}>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
