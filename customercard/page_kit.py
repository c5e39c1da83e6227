"""What every page function uses: the page URL's arguments, read safely, and what a page says without a login.

Beside :mod:`customercard.app` (the app's pages) and :mod:`customercard.bench_pages` (the benchmark's), which both
use it; it imports neither.
"""

from __future__ import annotations

import panel as pn
from panel.viewable import ServableMixin

from .i18n import _

#: The most digits of an id in the URL: longer is no id of ours (a 64-bit integer has 19).
ID_DIGITS = 18


def query_args() -> dict[str, list[str]]:
    """The page URL's query arguments, decoded."""
    return {key: [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]
            for key, values in (pn.state.session_args or {}).items()}


def query_text(name: str) -> str:
    """One argument of the page URL as text (the first, when given more than once), else ''."""
    return (query_args().get(name) or [""])[0]


def session_location() -> pn.io.location.Location | None:
    """The session's URL as Panel keeps it, or None when Panel cannot read it (it takes '²' for a number and
    fails): such a page does not change its URL."""
    try:
        return pn.state.location
    except ValueError:
        return None


def query_int(name: str) -> int | None:
    """A whole number from the URL (ASCII digits, at most 18 of them: an id), else None."""
    text = query_text(name).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= ID_DIGITS else None


def login_required() -> ServableMixin:
    """What a page says when no one is logged in (served without our login)."""
    from .ui.shell import message_page

    return message_page(_("Please log in"), _("This page needs a login: serve it with `customercard serve`."), None,
                        status="error")
