"""Per-user preferences kept on the server (e.g. which card sections are collapsed)."""

from __future__ import annotations

import json
from typing import Any

from .backend import Backend
from .part import Part


class PrefsStore(Part):
    """Part of :class:`customercard.store.Store`: per-login preferences."""

    db: Backend

    def prefs(self, login: str, prefix: str = "") -> dict[str, Any]:
        """A user's preferences whose key starts with ``prefix``."""
        return {key: json.loads(value) for key, value in self.db.rows(
            "SELECT key, value FROM ui_prefs WHERE login = ? AND key LIKE ?", [login, prefix + "%"])}

    def set_pref(self, login: str, key: str, value: Any) -> None:
        """Remember a preference for a login (anyone may keep their own layout)."""
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM ui_prefs WHERE login = ? AND key = ?", [login, key])
            cur.execute("INSERT INTO ui_prefs (login, key, value) VALUES (?, ?, ?)", [login, key, json.dumps(value)])
