"""Who is acting: the one function every write asks.

In a served session it is the logged-in user (Panel reads it from the signed login cookie);
everywhere else (notebooks, scripts) it is the configured user, ``CUSTOMERCARD_USER``, else the OS login.
"""

from __future__ import annotations

import sys
from typing import Any

from .config import get_config


def served_user() -> str | None:
    """The login of the current served session, or None outside one (never imports Panel itself)."""
    panel = sys.modules.get("panel")
    if panel is None:
        return None
    try:
        return panel.state.user or None
    except Exception:  # no session context (a notebook, a thread without a document)
        return None


def acting_user(store: Any = None) -> str:
    """The user ``store`` acts as, if it says (a store reached with an API token acts as the token's user), else the
    served session's login if there is one, else the configured user."""
    login = getattr(store, "login", None) if store is not None else None
    return (login if isinstance(login, str) and login else None) or served_user() or get_config().configured_user()
