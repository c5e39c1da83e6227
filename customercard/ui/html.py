"""Building read-only HTML safely: every value from users is escaped; links only to safe schemes."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from urllib.parse import quote

import pandas as pd

SECTION_CSS = """
:host { width: 100%; }
.cc-fields { display: grid; grid-template-columns: minmax(150px, max-content) 1fr; gap: 4px 18px; margin: 2px 0; }
.cc-fields dt { color: #5b6b7d; font-size: 0.88em; padding-top: 1px; }
.cc-fields dd { margin: 0; word-break: break-word; }
.cc-fields dd a, .cc-fields dd button { display: inline-block; min-height: 24px; line-height: 24px; }
.cc-muted { color: #596573; }
.cc-empty { color: #596573; font-style: italic; }
.cc-title { font-size: 1.55em; font-weight: 700; margin: 0; }
.cc-sub { color: #5b6b7d; margin: 2px 0 8px; }
.cc-badge { display: inline-block; padding: 1px 8px; border-radius: 10px; background: #e6eef7; color: #1f4f7a;
            font-size: 0.82em; margin-right: 6px; }
.cc-badge.off { background: #f1f1f1; color: #555; }
.cc-list { list-style: none; padding: 0; margin: 0; }
.cc-list li { padding: 8px 0; border-bottom: 1px solid #e8ecf1; }
.cc-list li:last-child { border-bottom: 0; }
.cc-meta { color: #596573; font-size: 0.85em; }
.cc-body { white-space: pre-wrap; margin-top: 2px; }
table.cc-table { border-collapse: collapse; width: 100%; font-size: 0.93em; }
table.cc-table th, table.cc-table td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #e8ecf1;
  overflow-wrap: anywhere; }
table.cc-table th { color: #5b6b7d; font-weight: 600; background: #f7f9fb; }
table.cc-table td.num, table.cc-table th.num { text-align: right; font-variant-numeric: tabular-nums; }
table.cc-table tr.total td { font-weight: 700; border-top: 2px solid #c9d3de; }
a { color: #1f5c99; text-decoration: none; } a:hover { text-decoration: underline; }
/* A link inside running text (a sentence, a timeline entry) is told apart by more than its colour. */
p a, li a, .cc-entry a, a.cc-asof-link { text-decoration: underline; }
.cc-inactive { color: #596573; }
table.cc-table caption { text-align: left; font-weight: 600; padding: 4px 0; }
.cc-sr-only { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0, 0, 0, 0);
              white-space: nowrap; border: 0; }
button.cc-act, button.cc-link, .cc-sv-html select, .cc-sv-html input { min-height: 24px; }
"""


def page_heading(text: str) -> str:
    """A page's one level-one heading, as large as a second-level one (the header above it is the banner)."""
    return f'<h1 class="cc-page-title" style="font-size:1.5em;margin:0.5em 0">{esc(text)}</h1>'


def esc(value: object) -> str:
    """Escape a value for HTML text or attributes (None, and a missing value from a DataFrame, become '')."""
    missing = value is None or value is pd.NA or (isinstance(value, float) and value != value)
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


def tel(number: str) -> str:
    digits = "".join(ch for ch in number if ch.isdigit() or ch == "+")
    return link(f"tel:{digits}", number) if number else ""


def fields(pairs: Iterable[tuple[str, str]], empty: str = "—") -> str:
    """A definition list of (label, already-safe HTML value) pairs."""
    rows = "".join(f"<dt>{esc(label)}</dt><dd>{value if value else f'<span class=cc-empty>{esc(empty)}</span>'}</dd>"
                   for label, value in pairs)
    return f'<dl class="cc-fields">{rows}</dl>'


def table(headers: list[tuple[str, bool]], rows: list[list[str]], css_id: str = "",
          total: list[str] | None = None, caption: str = "") -> str:
    """A table of already-safe HTML cells; headers are (label, right-aligned) — one without a label (a column of
    buttons) is an empty cell, not a header. ``caption``: what the table holds, for screen readers only."""
    head = "".join(("<td></td>" if not h else f'<th scope="col" class="num">{esc(h)}</th>' if num
                    else f'<th scope="col">{esc(h)}</th>') for h, num in headers)
    body = "".join("<tr>" + "".join(f'<td class="num">{c}</td>' if headers[i][1] else f"<td>{c}</td>"
                                    for i, c in enumerate(row)) + "</tr>" for row in rows)
    if total:
        body += '<tr class="total">' + "".join(
            f'<td class="num">{c}</td>' if headers[i][1] else f"<td>{c}</td>" for i, c in enumerate(total)) + "</tr>"
    ident = f' id="{esc(css_id)}"' if css_id else ""
    title = f'<caption class="cc-sr-only">{esc(caption)}</caption>' if caption else ""
    return f'<table class="cc-table"{ident}>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
