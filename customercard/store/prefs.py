"""Per-user preferences kept on the server (e.g. which card sections are collapsed)."""

from __future__ import annotations

import json
from typing import Any

from ..errors import ValidationError
from ..i18n import _
from .admin import AdminStore
from .backend import Backend
from .part import Part

#: A preference's key, its value (as JSON) and how many a user keeps: a layout's, never a store of data.
PREF_KEY_LENGTH, PREF_VALUE_LENGTH, PREFS_PER_USER = 200, 10_000, 500
#: A user's preferences are kept in memory (DuckDB) while they take at most this many characters of JSON in all.
PREFS_KEPT_CHARACTERS = 50_000


class PrefsStore(Part):
    """Part of :class:`customercard.store.Store`: per-login preferences."""

    uses = ("admin",)
    db: Backend
    admin: AdminStore

    def prefs(self, login: str, prefix: str = "") -> dict[str, Any]:
        """A user's preferences whose key starts with ``prefix``."""
        return {key: json.loads(value) for key, value in self._stored_prefs(login) if key.startswith(prefix)}

    def _stored_prefs(self, login: str) -> list[tuple[str, str]]:
        """A user's (key, JSON) pairs. Every card reads them as it opens: with DuckDB (one process holds the file,
        its stores share one cache and every write is made here) they are read once and kept until the user's
        next :meth:`set_pref`; with PostgreSQL other processes write them too, so they are read each time."""
        if self.db.dialect != "duckdb":
            return self._read_prefs(login)
        return self.admin.cached(("prefs", login), lambda: self._read_prefs(login),
                                 keep=lambda rows: sum(len(value) for _key, value in rows) <= PREFS_KEPT_CHARACTERS)

    def _read_prefs(self, login: str) -> list[tuple[str, str]]:
        return [(str(key), str(value)) for key, value in self.db.rows(
            "SELECT key, value FROM ui_prefs WHERE login = ?", [login])]

    def set_pref(self, login: str, key: str, value: Any) -> None:
        """Remember a preference for a login (anyone may keep their own layout): a key of at most
        :data:`PREF_KEY_LENGTH` characters, a value of at most :data:`PREF_VALUE_LENGTH` as JSON, at most
        :data:`PREFS_PER_USER` keys a user (else ValidationError)."""
        try:
            text = json.dumps(value)
        except (TypeError, ValueError):  # a date, an object…: JSON has no such value
            raise ValidationError({"value": _("A preference is kept as JSON: give text, a number, true or false, "
                                              "or lists and mappings of them.")}) from None
        if not isinstance(key, str) or not key.strip() or len(key) > PREF_KEY_LENGTH:
            raise ValidationError({"key": _("Give a key of 1 to {n} characters.").format(n=PREF_KEY_LENGTH)})
        if len(text) > PREF_VALUE_LENGTH:
            raise ValidationError({"value": _("A preference takes at most {n} characters (as JSON).").format(
                n=PREF_VALUE_LENGTH)})
        with self.db.transaction() as cur:
            kept = cur.execute("SELECT count(*) FROM ui_prefs WHERE login = ? AND key <> ?", [login, key]).fetchone()[0]
            if int(kept) >= PREFS_PER_USER:
                raise ValidationError({"key": _("A user keeps at most {n} preferences.").format(n=PREFS_PER_USER)})
            cur.execute("DELETE FROM ui_prefs WHERE login = ? AND key = ?", [login, key])
            cur.execute("INSERT INTO ui_prefs (login, key, value) VALUES (?, ?, ?)", [login, key, text])
        # forgotten now and again once it is committed (set within a larger write: a read between would keep the
        # value before it)
        self.admin.forget_one(("prefs", login))
        self.db.after_commit(lambda: self.admin.forget_one(("prefs", login)))
