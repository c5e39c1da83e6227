"""System administration → Customers: settings, admin lists, segmentation criteria, users, the admin log.

Also the permission checks every write goes through, and the :class:`~customercard.models.Choices`
that validation uses. Every admin change is one transaction that also writes the admin log.
"""

from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import pandas as pd

from .. import formatting, passwords
from ..errors import ConflictError, FieldConflict, NotFound, PermissionDenied, ValidationError
from ..i18n import LANGUAGES, N_, _, ngettext
from ..models import (
    CRITERIA_RENAMED,
    LIST_NAMES,
    ROLES,
    WRITER_ROLES,
    Choices,
    Criterion,
    ListValue,
    Settings,
    User,
    to_text,
)
from ..validators import name_key
from .backend import Backend, counted
from .changes import Change
from .database import utcnow
from .logouts import TOKENS_AREA, end_sessions
from .part import Part

#: The admin log's area of the segmentation criteria (each entry keeps the criterion before and after as JSON).
SEGMENTATION_AREA = "Segmentation"
#: The admin log's area of logins, failed logins and lockouts (:data:`customercard.store.sessions.LOG_AREA` writes
#: it; that module comes after this one).
LOG_AREA = "Logins"


def renamed_since(renames: list[tuple[Any, str, str]], label: str, written_at: Any) -> str:
    """What a list value (or a criterion) written as ``label`` at ``written_at`` is called now: the renames after it
    applied in order (``renames``: (when, old name, new name), oldest first)."""
    for at, old, new in renames:
        if at > written_at and label == old:
            label = new
    return label


def _followed(renames: list[tuple[Any, str, str]], today: Any) -> dict[str, str]:
    """{an old name: today's name} from renames (oldest first), followed to the end; a name something has today is
    never mapped (it means that thing now)."""
    found: dict[str, str] = {}
    for _at, old, new in renames:
        for earlier, now in list(found.items()):
            if now == old:
                found[earlier] = new
        found[old] = new
    return {old: new for old, new in found.items() if old not in today and new in today}


def _newest_saves(entries: list[tuple[str, str, Any]], saves: int) -> tuple[dict[str, tuple[str, Any]], bool]:
    """{field: (who, when)} of the newest ``saves`` saves among admin log ``entries`` — (field, changed_by,
    changed_at), newest first —, and whether there were that many. Entries of one administrator at most
    :data:`SAVE_SECONDS` apart count as one save (entries of one save are never split; two saves taken as one name
    more fields changed since, never fewer)."""
    if saves <= 0:  # a copy of a version not stored yet is not one to count from
        return {}, saves == 0
    found: dict[str, tuple[str, Any]] = {}
    counted_saves, last = 0, None
    for field, by, at in entries:
        if last is None or by != last[0] or not _close(at, last[1]):
            if counted_saves == saves:
                return found, True
            counted_saves += 1
        last = (by, at)
        found.setdefault(field, (by, at))  # newest first: the last change of the field
    return found, counted_saves == saves


def _close(one: Any, other: Any) -> bool:
    """Whether two moments of the admin log are at most :data:`SAVE_SECONDS` apart."""
    try:
        return abs((one - other).total_seconds()) <= SAVE_SECONDS
    except (TypeError, AttributeError):
        return one == other


#: Actors with this prefix are trusted operators (the CLI, the demo generator, migrations).
SYSTEM_PREFIX = "system:"
#: What the system's own actors do, as people are told who made a change ("customercard (logins)").
SYSTEM_ACTORS = {"system:login": N_("logins"), "system:setup": N_("setup"), "system:demo": N_("demo data"),
                 "system:cli": N_("command line")}
#: The settings key that keeps their version (bumped by every save that changes one).
SETTINGS_VERSION = "_version"

USER_COLUMNS = "id, login, name, email, role, projects_access, active, password_hash"
#: A user's fields an administrator changes (each change of one bumps the user's version and is logged as
#: "<login>: <field>").
USER_FIELDS = ("name", "email", "role", "projects_access", "active")
#: The admin log's entries of one save (one transaction) share one moment; an older version wrote them a few
#: microseconds apart. Entries by one administrator this close together are taken as one save when the fields
#: changed since a version are looked for: two saves taken as one name more fields, never fewer.
SAVE_SECONDS = 2.0
STAMP_CHECK_SECONDS = 1.0
#: The cache's generation (a key no cached value has): bumped by every admin change this process forgets.
_GENERATION = " generation"
_MISSING = object()
#: Guards a cache's generation against the value being stored (the caches of one process, briefly).
_CACHE_LOCK = threading.Lock()


class AdminStore(Part):
    """Part of :class:`customercard.store.Store`: settings, lists, criteria, users, permissions."""

    internal = frozenset({"acting", "cached", "criterion_renames", "forget_one", "list_maps", "list_renames",
                          "log_admin", "segment_field_names", "segment_field_now", "users_by_login"})

    db: Backend
    #: How many administrators' changes this store had heard of (of any process) when it last looked at the lists.
    _admin_heard = 0

    def __init__(self, db: Backend, cache: dict[str, Any] | None = None) -> None:
        super().__init__(db)
        self.cache_store: dict[str, Any] = {} if cache is None else cache

    # -- who may do what -----------------------------------------------------------------------------
    def acting(self, user: str | None) -> str:
        from ..identity import acting_user

        return user or acting_user()

    def require(self, user: str | None, need: str) -> str:
        """The acting login, once it may ``need`` ('read', 'write' or 'admin'); else PermissionDenied. Before a
        write, what other processes changed administratively is looked at first (PostgreSQL)."""
        if need != "read":
            self._look_at_others(now=True)
        return self._permitted(user, need)

    def _permitted(self, user: str | None, need: str) -> str:
        login = self.acting(user)
        if login.startswith(SYSTEM_PREFIX):
            return login
        known = self.users_by_login().get(login)
        if known is None:
            raise PermissionDenied(
                _("“{login}” is not a customercard user: pass user=… or set CUSTOMERCARD_USER to a login (see "
                  "`customercard users list`).").format(login=login))
        if not known["active"]:
            raise PermissionDenied(_("The user “{login}” is deactivated.").format(login=login))
        if need == "write" and known["role"] not in WRITER_ROLES:
            raise PermissionDenied(_("“{login}” is a {role} and may not change customers.").format(
                login=login, role=_(known["role"])))
        if need == "admin" and known["role"] != "admin":
            raise PermissionDenied(_("Only administrators may do this; “{login}” is a {role}.").format(
                login=login, role=_(known["role"])))
        return login

    def can(self, user: str | None, need: str) -> bool:
        """Whether ``user`` may ``need`` ('read', 'write', 'admin'), without raising (what a page shows: it reads
        the cache as it stands, a write's own :meth:`require` looks again)."""
        try:
            self._permitted(user, need)
        except PermissionDenied:
            return False
        return True

    def forget_cached(self, shown: str = "") -> None:
        """Forget what was cached here, and tell other server processes to do the same. ``shown``: what changed is
        something open pages show (``settings``, ``lists``, ``criteria``, ``users``' names): they are told too — a
        change of kind ``admin``, numbered by the stamp (each its own), naming it — and a card shows a renamed value's
        new name at once. (A user's own language or password is not for them.)"""
        self._forget_here()
        with self.db.transaction() as cur:  # (one writer at a time: two stamps at once met a write conflict)
            cur.execute("UPDATE change_stamps SET stamp = stamp + 1 WHERE area = 'admin'")
            if shown:
                stamp = cur.execute("SELECT stamp FROM change_stamps WHERE area = 'admin'").fetchone()
                self.db.announce(Change("admin", int(stamp[0]) if stamp else None, fields=(shown,)))
        self._stamp = self._read_stamp()
        self._admin_heard = self.db.changes.heard.get("admin", 0)

    def _forget_here(self) -> None:
        """Empty this process's cache and start its next generation: a value being built meanwhile, from what was
        read before the change, is not kept (see :meth:`cached`)."""
        with _CACHE_LOCK:
            generation = self.cache_store.get(_GENERATION, 0)
            self.cache_store.clear()
            self.cache_store[_GENERATION] = generation + 1

    def _read_stamp(self) -> int:
        row = self.db.row("SELECT stamp FROM change_stamps WHERE area = 'admin'")
        return int(row[0]) if row else 0

    def cached(self, key: Any, build: Callable[[], Any], keep: Callable[[Any], bool] | None = None) -> Any:
        """A value built once and kept until an admin change (in this or, with PostgreSQL, another process), or
        until :meth:`forget_one` of its key; ``keep``: whether a value built is worth keeping (its size)."""
        self._look_at_others()
        found = self.cache_store.get(key, _MISSING)
        if found is not _MISSING:
            return found
        seen = (self.cache_store.get(_GENERATION, 0), self.cache_store.get((_GENERATION, key), 0))
        value = build()
        with _CACHE_LOCK:  # kept only if nothing was forgotten while it was built (it may predate the change)
            if (self.cache_store.get(_GENERATION, 0), self.cache_store.get((_GENERATION, key), 0)) == seen and \
                    (keep is None or keep(value)):
                self.cache_store[key] = value
        return value

    def forget_one(self, key: Any) -> None:
        """Forget one value :meth:`cached` keeps (what it was built from was written here): a value being built
        meanwhile, from what was read before the write, is not kept either."""
        with _CACHE_LOCK:
            self.cache_store.pop(key, None)
            self.cache_store[(_GENERATION, key)] = self.cache_store.get((_GENERATION, key), 0) + 1

    def _look_at_others(self, now: bool = False) -> None:
        """With PostgreSQL other processes write too: look at their stamp at most once a second — or ``now``,
        before a write (a list value renamed or a user deactivated a moment ago in another process is then known
        to the write's checks and its history)."""
        if self.db.dialect == "duckdb":  # one process holds the file: its stores share one cache
            return
        moment = time.monotonic()
        heard = self.db.changes.heard.get("admin", 0)  # another process's admin change, heard here: look now
        if heard != self._admin_heard:
            self._admin_heard, now = heard, True
        if now or moment - getattr(self, "_stamp_checked", 0.0) > STAMP_CHECK_SECONDS:
            self._stamp_checked = moment
            stamp = self._read_stamp()
            if stamp != getattr(self, "_stamp", None):
                self._forget_here()
                self._stamp = stamp

    def log_admin(self, cur: Any, user: str, area: str, item: str, old: Any, new: Any, at: Any = None) -> None:
        """Write one admin log entry (``at``: the moment of the save it belongs to, shared by its entries)."""
        cur.execute("INSERT INTO admin_log (changed_at, changed_by, area, item, old_value, new_value) "
                    "VALUES (?, ?, ?, ?, ?, ?)", [at or utcnow(), user, area, item, to_text(old), to_text(new)])

    def _changed_since(self, cur: Any, area: str, items: dict[str, str], saves: int) -> tuple[
            dict[str, tuple[str, Any]], bool]:
        """Which fields the newest ``saves`` saves changed, as the admin log keeps them (``items``: {the log's item:
        the field}): ({field: (who changed it last, when)}, whether the log held that many saves — else every save
        it holds is counted)."""
        rows = cur.execute("SELECT item, changed_by, changed_at FROM admin_log WHERE area = ? AND "
                           + self.db.in_list("item", len(items)) + " ORDER BY id DESC", [area, *items]).fetchall()
        return _newest_saves([(items[item], by, at) for item, by, at in rows], saves)

    def admin_log(self, limit: int = 200, offset: int = 0, area: str | None = None,
                  include_logins: bool = True) -> pd.DataFrame:
        """Every admin change, newest first: changed_at, changed_by, area, item, old_value, new_value — ``limit``
        rows after the newest ``offset``; only one ``area`` ('settings', 'Users', 'Segmentation', a list's name…);
        without the logins (``include_logins=False``: logins, failed ones and lockouts, which soon outnumber the
        rest)."""
        where, params = [], []
        if area:
            where.append("area = ?")
            params.append(str(area))
        if not include_logins:
            where.append("area <> ?")
            params.append(LOG_AREA)
        return self.db.df("SELECT changed_at, changed_by, area, item, old_value, new_value FROM admin_log "
                          + (("WHERE " + " AND ".join(where) + " ") if where else "")
                          + "ORDER BY id DESC LIMIT ? OFFSET ?", [*params, counted(limit), counted(offset, "offset")])

    def admin_log_areas(self) -> list[str]:
        """The areas the admin log has entries of, by name."""
        return sorted(area for (area,) in self.db.rows("SELECT DISTINCT area FROM admin_log"))

    def list_renames(self) -> dict[str, list[tuple[Any, str, str]]]:
        """Each admin list's renames, oldest first, as the admin log keeps them: {list name: [(when, old name, new
        name), …]} (a customer's history keeps a list value by the name it had then)."""
        def build() -> dict[str, list[tuple[Any, str, str]]]:
            areas = {label: name for name, label in LIST_NAMES.items()}
            found: dict[str, list[tuple[Any, str, str]]] = {}
            for at, area, item, old, new in self.db.rows(
                    "SELECT changed_at, area, item, old_value, new_value FROM admin_log WHERE " +
                    self.db.in_list("area", len(areas)) + " ORDER BY id", list(areas)):
                if old is None or new is None or old != item or _not_a_rename(old, new):
                    continue  # an addition, or a move or a switch of a value that happens to be named so
                found.setdefault(areas[area], []).append((at, old, new))
            return found
        return self.cached("list renames", build)

    def criterion_renames(self) -> list[tuple[Any, str, str]]:
        """The segmentation criteria's renames, oldest first: (when, old name, new name) (a customer's history, a
        bulk change, a bookmark and a saved view keep a criterion by the name it had then)."""
        def build() -> list[tuple[Any, str, str]]:
            found = []
            for at, old, new in self.db.rows(
                    "SELECT changed_at, old_value, new_value FROM admin_log WHERE area = ? AND old_value IS NOT NULL "
                    "AND new_value IS NOT NULL ORDER BY id", [SEGMENTATION_AREA]):
                try:
                    before, after = json.loads(old)["name"], json.loads(new)["name"]
                except (ValueError, TypeError, KeyError):
                    continue
                if before != after:
                    found.append((at, before, after))
            return found
        return self.cached("criterion renames", build)

    def segment_field_names(self, field: str) -> list[str]:
        """``field`` and, for ``segments.<criterion>``, the fields its criterion's former names made (its history
        under each)."""
        if not field.startswith("segments."):
            return [field]
        names, grown = {field.split(".", 1)[1]}, True
        renames = self.criterion_renames()
        while grown:
            grown = False
            for _at, old, new in renames:
                if new in names and old not in names:
                    names.add(old)
                    grown = True
        return [field, *sorted(f"segments.{name}" for name in names if f"segments.{name}" != field)]

    def segment_field_now(self, field: str, written_at: Any) -> str:
        """A customer's field as a change written at ``written_at`` named it, under today's name: ``segments.<a
        criterion renamed since>`` becomes ``segments.<its name today>``; any other field is itself."""
        if not field.startswith("segments."):
            return field
        renames = self.criterion_renames()
        return "segments." + renamed_since(renames, field.split(".", 1)[1], written_at) if renames else field

    # -- settings ------------------------------------------------------------------------------------
    def settings(self) -> Settings:
        """The firm's settings for the customer module/CRM (a fresh copy each call), with their version."""
        stored = self.cached("settings", lambda: dict(self.db.rows("SELECT key, value FROM settings")))
        result = Settings()
        for name in Settings.fields:
            if name in stored and stored[name] is not None:
                result.update_from({name: json.loads(stored[name])})
        result.version = json.loads(stored.get(SETTINGS_VERSION) or "0")
        return result

    def save_settings(self, settings: Settings, user: str | None = None) -> Settings:
        """Validate and store the settings as changed from ``settings.version``; each changed setting goes to the
        admin log. Settings someone saved since that version are a conflict: nothing is written."""
        login = self.require(user, "admin")
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":  # two administrators at once: one after the other (then a conflict)
                cur.execute("SELECT pg_advisory_xact_lock(7242003)")
            stored = dict(cur.execute("SELECT key, value FROM settings").fetchall())
            version = json.loads(stored.get(SETTINGS_VERSION) or "0")
            before = Settings()
            for name in Settings.fields:
                if stored.get(name) is not None:
                    before.update_from({name: json.loads(stored[name])})
            if version != settings.version:  # (before its values are checked: a stale form's are not what is stored)
                raise self._stale(cur, "settings", {name: name for name in Settings.fields}, before, settings,
                                  version, settings.version)
            # a setting as stored is not refused by a rule made stricter since it was written (only a changed one)
            settings.check(previous=before)
            changed = [name for name in Settings.fields if to_text(before.get(name)) != to_text(settings.get(name))]
            if "base_currency" in changed:
                self._refuse_rebasing_invoices(cur, before.base_currency, settings.base_currency)
            if "exchange_rates" in changed or "base_currency" in changed:
                self._refuse_unrated_in_use(cur, settings)
            now = utcnow()
            for name in changed:
                cur.execute("DELETE FROM settings WHERE key = ?", [name])
                cur.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [name, json.dumps(settings.get(name))])
                self.log_admin(cur, login, "settings", name, before.get(name), settings.get(name), at=now)
            if changed:
                cur.execute("DELETE FROM settings WHERE key = ?", [SETTINGS_VERSION])
                cur.execute("INSERT INTO settings (key, value) VALUES (?, ?)", [SETTINGS_VERSION,
                                                                                 json.dumps(version + 1)])
        self.forget_cached(shown="settings")
        return self.settings()

    def _stale(self, cur: Any, area: str, items: dict[str, str], stored: Any, attempted: Any, stored_version: int,
               attempted_version: int) -> ConflictError:
        """The conflict of a save made from ``attempted_version`` when ``stored_version`` is stored: the fields
        someone changed since (as the admin log's ``area`` keeps them, ``items``: {the log's item: the field}), each
        with its stored value and who changed it — not the fields only this save changes. When the log does not
        hold every save since (a database older than the versions), every field that differs is one too."""
        changed, complete = self._changed_since(cur, area, items, stored_version - attempted_version)
        fields = [field for field in items.values() if field in changed or (
            not complete and to_text(stored.get(field)) != to_text(attempted.get(field)))]
        return ConflictError([FieldConflict(field, stored.get(field), attempted.get(field),
                                            changed_by=changed.get(field, (None, None))[0],
                                            changed_at=changed.get(field, (None, None))[1]) for field in fields],
                             stored_version=stored_version, attempted_version=attempted_version)

    @staticmethod
    def _refuse_rebasing_invoices(cur: Any, was: str, now: str) -> None:
        """Invoices keep their amount in the base currency they were recorded in: another base currency would show
        every invoiced figure (the card's bars, home, exports) in it unconverted — SEK 1,000 as EUR 1,000."""
        (invoices,) = cur.execute("SELECT count(*) FROM invoices").fetchone()
        if invoices:
            raise ValidationError({"base_currency": ngettext(
                "{n} invoice is counted in {was}: the base currency cannot become {now} while it is (its amount "
                "would be shown as {now} unconverted).",
                "{n} invoices are counted in {was}: the base currency cannot become {now} while they are (their "
                "amounts would be shown as {now} unconverted).", int(invoices)).format(
                n=formatting.number(int(invoices)), was=was, now=now)}, what=_("Settings"))

    @staticmethod
    def _refuse_unrated_in_use(cur: Any, settings: Settings) -> None:
        """Exchange rates that leave out a currency open opportunities are in are refused: they would be added up one
        to one as the base currency on the board, the pipeline, home and the card."""
        rated = settings.rates()
        missing = {str(currency): int(count) for currency, count in cur.execute(
            "SELECT currency, count(*) FROM opportunities WHERE status = 'pipeline' AND currency IS NOT NULL AND "
            "currency <> '' GROUP BY currency").fetchall() if str(currency) not in rated}
        if missing:
            raise ValidationError({"exchange_rates": _("Open opportunities are in {currencies}: give a rate for each "
                                                       "(else they are added up as if they were {base}).").format(
                currencies=", ".join(f"{code} ({n})" for code, n in sorted(missing.items())),
                base=settings.base_currency)}, what=_("Settings"))

    def shared_secret(self, name: str) -> str:
        """A random secret made once and kept in the database (e.g. the cookie secret of many processes)."""
        import secrets

        key = f"_secret.{name}"
        with self.db.transaction() as cur:
            cur.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                        [key, json.dumps(secrets.token_urlsafe(48))])
            return json.loads(cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()[0])

    # -- admin lists -----------------------------------------------------------------------------------
    def list_values(self, list_name: str, include_inactive: bool = True) -> pd.DataFrame:
        """One admin list: id, label, inverse_label, position, active, version — in order."""
        self._check_list_name(list_name)
        frame = self.db.df("SELECT id, label, inverse_label, position, active, coalesce(version, 1) AS version "
                           "FROM list_values WHERE list_name = ? ORDER BY position, id", [list_name])
        return frame if include_inactive else frame[frame["active"]].reset_index(drop=True)

    def _check_list_name(self, list_name: str) -> None:
        if list_name not in LIST_NAMES:
            raise NotFound(_("No admin list called “{list_name}”; the lists are {lists}.").format(
                list_name=list_name, lists=", ".join(LIST_NAMES)))

    def list_maps(self) -> dict[str, dict[str, Any]]:
        """{list_name: {'by_label': {label: id}, 'by_id': {id: label}, 'active': [labels], 'inverse': …}}"""
        def build() -> dict[str, dict[str, Any]]:
            maps: dict[str, dict[str, Any]] = {
                name: {"by_label": {}, "by_id": {}, "active": [], "inverse": {}} for name in LIST_NAMES}
            for vid, list_name, label, inverse, active in self.db.rows(
                    "SELECT id, list_name, label, inverse_label, active FROM list_values "
                    "ORDER BY position, id"):
                entry = maps.setdefault(list_name, {"by_label": {}, "by_id": {}, "active": [], "inverse": {}})
                entry["by_label"][label] = vid
                entry["by_id"][vid] = label
                entry["inverse"][label] = inverse or label
                if active:
                    entry["active"].append(label)
            return maps
        return self.cached("lists", build)

    def add_list_value(self, list_name: str, label: str, user: str | None = None,
                       inverse_label: str = "") -> int:
        """Append a value to an admin list; returns its id."""
        login = self.require(user, "admin")
        self._check_list_name(list_name)
        label, inverse_label = _checked_label(label, inverse_label)
        same = _same_label(self.list_maps()[list_name]["by_label"], label)
        if same is not None:
            raise ValidationError({"label": _("“{value}” is in the list already.").format(value=same[0])})
        with self.db.transaction() as cur:
            _refuse_same_label(self.db, cur, list_name, label)
            position = cur.execute("SELECT coalesce(max(position), 0) + 1 FROM list_values "
                                   "WHERE list_name = ?", [list_name]).fetchone()[0]
            new_id = cur.execute("INSERT INTO list_values (list_name, label, inverse_label, position, active) "
                                 "VALUES (?, ?, ?, ?, TRUE) RETURNING id",
                                 [list_name, label, inverse_label, position]).fetchone()[0]
            self.log_admin(cur, login, LIST_NAMES[list_name], label, None, "added")
        self.forget_cached(shown="lists")
        return int(new_id)

    def _list_value(self, value_id: int, version: int | None = None, attempted: str = "") -> dict[str, Any]:
        """A list value's row; with ``version`` (what the person saw) a conflict when it changed since."""
        found = self.db.records("SELECT id, list_name, label, inverse_label, position, active, "
                                "coalesce(version, 1) AS version FROM list_values WHERE id = ?", [value_id])
        if not found:
            raise NotFound(_("No list value with id {value_id}.").format(value_id=value_id))
        row = found[0]
        if version is not None and int(row["version"]) != int(version):
            raise ConflictError([FieldConflict("label", row["label"], attempted or row["label"])],
                                stored_version=int(row["version"]), attempted_version=int(version))
        return row

    def _touch_list_value(self, cur: Any, row: dict[str, Any], assignments: str, params: list[Any]) -> None:
        """Update a list value on the version it was read at (bumping it); a change that came first in between is
        a conflict."""
        updated = cur.execute(f"UPDATE list_values SET {assignments}, version = coalesce(version, 1) + 1 "
                              "WHERE id = ? AND coalesce(version, 1) = ?",
                              [*params, row["id"], row["version"]]).rowcount
        if not updated:
            raise ConflictError([], stored_version=int(row["version"]) + 1, attempted_version=int(row["version"]))

    def rename_list_value(self, value_id: int, label: str, user: str | None = None,
                          inverse_label: str | None = None, version: int | None = None) -> None:
        """Rename a value; customers that have it show the new name at once (they refer to its id). ``version``:
        the one the person saw — a value renamed, moved or switched since is a conflict, nothing is written."""
        login = self.require(user, "admin")
        current = self._list_value(value_id, version, attempted=label)
        label, inverse = _checked_label(label, current["inverse_label"] if inverse_label is None else inverse_label)
        other = _same_label(self.list_maps()[current["list_name"]]["by_label"], label)
        if other is not None and other[1] != value_id:
            raise ValidationError({"label": _("“{value}” is in the list already.").format(value=other[0])})
        with self.db.transaction() as cur:
            _refuse_same_label(self.db, cur, current["list_name"], label, value_id)
            self._touch_list_value(cur, current, "label = ?, inverse_label = ?", [label, inverse])
            self.log_admin(cur, login, LIST_NAMES[current["list_name"]], current["label"],
                            current["label"], label)
        self.forget_cached(shown="lists")

    def move_list_value(self, value_id: int, steps: int, user: str | None = None, version: int | None = None) -> bool:
        """Move a value up (negative steps) or down the list (``version`` as for :meth:`rename_list_value`); False
        when it stays where it is (first, or last, already: nothing written)."""
        login = self.require(user, "admin")
        current = self._list_value(value_id, version)
        with self.db.transaction() as cur:
            # the order as stored now, read and written in one transaction: another administrator's move made
            # meanwhile stays (PostgreSQL: the list's rows locked; DuckDB runs this process's writes one at a time)
            if self.db.dialect == "postgresql":  # locked first, then read: a locking read keeps its first order
                cur.execute("SELECT id FROM list_values WHERE list_name = ? FOR UPDATE", [current["list_name"]])
            ids = [int(row[0]) for row in cur.execute("SELECT id FROM list_values WHERE list_name = ? ORDER BY "
                                                      "position, id", [current["list_name"]]).fetchall()]
            old_index = ids.index(value_id)
            new_index = max(0, min(len(ids) - 1, old_index + steps))
            if new_index == old_index:
                return False
            ids.insert(new_index, ids.pop(old_index))
            self._touch_list_value(cur, current, "position = ?", [new_index + 1])
            for position, vid in enumerate(ids, start=1):
                cur.execute("UPDATE list_values SET position = ? WHERE id = ?", [position, vid])
            self.log_admin(cur, login, LIST_NAMES[current["list_name"]], current["label"],
                            f"position {old_index + 1}", f"position {new_index + 1}")
        self.forget_cached(shown="lists")
        return True

    def set_list_value_active(self, value_id: int, active: bool, user: str | None = None,
                              version: int | None = None) -> None:
        """Deactivate (or reactivate) a value: it stays on customers that have it, and is no longer offered
        (``version`` as for :meth:`rename_list_value`)."""
        login = self.require(user, "admin")
        current = self._list_value(value_id, version)
        if bool(current["active"]) == bool(active):
            return
        with self.db.transaction() as cur:
            self._touch_list_value(cur, current, "active = ?", [bool(active)])
            self.log_admin(cur, login, LIST_NAMES[current["list_name"]], current["label"],
                            "active" if current["active"] else "inactive", "active" if active else "inactive")
        self.forget_cached(shown="lists")

    # -- segmentation criteria ----------------------------------------------------------------------------
    def criteria(self, include_inactive: bool = False) -> list[Criterion]:
        """The segmentation criteria with their active values, in order."""
        rows = self.db.rows(f"SELECT c.id, c.name, c.multiple, c.active, {self._version_of('criteria', 'c.')}, "
                            "v.label, v.active FROM criteria c LEFT JOIN criterion_values v ON v.criterion_id = c.id "
                            "ORDER BY c.position, c.id, v.position, v.id")
        found: dict[int, Criterion] = {}
        for cid, name, multiple, active, version, label, value_active in rows:
            if not active and not include_inactive:
                continue
            crit = found.setdefault(cid, Criterion(id=cid, name=name, multiple=bool(multiple),
                                                   active=bool(active), values=[], version=int(version)))
            if label is not None and value_active:
                crit.values = [*crit.values, label]
        return list(found.values())

    def criterion_value_ids(self) -> dict[tuple[str, str], int]:
        """(criterion name, value label) → value id, including inactive values."""
        def build() -> dict[tuple[str, str], int]:
            return {(name, label): vid for vid, name, label in self.db.rows(
                "SELECT v.id, c.name, v.label FROM criterion_values v JOIN criteria c ON c.id = v.criterion_id")}
        return self.cached("criterion_values", build)

    def save_criterion(self, criterion: Criterion, user: str | None = None) -> Criterion:
        """Create or update a criterion; values left out are deactivated (they stay on customers)."""
        login = self.require(user, "admin")
        criterion.check()
        before = {c.id: c for c in self.criteria(include_inactive=True)}.get(criterion.id)
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":  # two administrators naming one at once: one after the other
                cur.execute("SELECT pg_advisory_xact_lock(7242004)")
            wanted = name_key(criterion.name)  # Size, size and Siz\u00ade are one name
            others = cur.execute("SELECT name FROM criteria WHERE id <> ?",
                                 [criterion.id if criterion.id is not None else -1]).fetchall()
            clash = next((name for name, in others if name_key(name) == wanted), None)
            if clash is not None:  # (named as stored: "Size" when "size" was typed)
                raise ValidationError({"name": _("There is already a criterion called “{name}”.").format(
                    name=clash)})
            if criterion.id is None:
                position = cur.execute("SELECT coalesce(max(position), 0) + 1 FROM criteria").fetchone()[0]
                criterion.id = cur.execute(
                    "INSERT INTO criteria (name, multiple, position, active, version) VALUES (?, ?, ?, ?, 1) "
                    "RETURNING id", [criterion.name, criterion.multiple, position, criterion.active]).fetchone()[0]
                criterion.version = 1
            else:
                updated = cur.execute("UPDATE criteria SET name = ?, multiple = ?, active = ?, "
                                      "version = coalesce(version, 1) + 1 WHERE id = ? AND coalesce(version, 1) = ?",
                                      [criterion.name, criterion.multiple, criterion.active, criterion.id,
                                       criterion.version or 1]).rowcount
                if not updated:
                    raise self._stale_criterion(cur, criterion)
                criterion.version = (criterion.version or 1) + 1
            self._write_criterion_values(cur, criterion)
            old = None if before is None else {"multiple": before.multiple, "values": before.values,
                                               "active": before.active, "name": before.name}
            new = {"multiple": criterion.multiple, "values": criterion.values, "active": criterion.active,
                   "name": criterion.name}
            self.log_admin(cur, login, SEGMENTATION_AREA, criterion.name,
                            json.dumps(old, ensure_ascii=False) if old else None,
                            json.dumps(new, ensure_ascii=False))
        self.forget_cached(shown="criteria")
        return criterion

    @staticmethod
    def _write_criterion_values(cur: Any, criterion: Criterion) -> None:
        """The criterion's values as given, in their order; those left out are deactivated (they stay on customers).
        A value that reads as a stored one (its case, spaces or letters stored decomposed changed: "Small" made
        "small") is that value renamed — the customers having it have it under its new name — not a second one
        beside it (a value is one by :func:`name_key`, as the model checks)."""
        stored: dict[str, list[tuple[int, str, bool]]] = {}
        for vid, label, active in cur.execute("SELECT id, label, active FROM criterion_values WHERE criterion_id = ? "
                                              "ORDER BY id", [criterion.id]).fetchall():
            stored.setdefault(name_key(label), []).append((int(vid), _composed(label), bool(active)))
        kept: set[int] = set()
        for position, label in enumerate(criterion.values, start=1):
            found = stored.get(name_key(label), [])
            # the same text first, then the one in use, then any (two of one key from before this rule)
            match = next((row for row in found if row[1] == label), None) or \
                next((row for row in found if row[2]), None) or (found[0] if found else None)
            if match is not None:
                cur.execute("UPDATE criterion_values SET label = ?, position = ?, active = TRUE WHERE id = ?",
                            [label, position, match[0]])
                kept.add(match[0])
            else:
                cur.execute("INSERT INTO criterion_values (criterion_id, label, position, active) "
                            "VALUES (?, ?, ?, TRUE)", [criterion.id, label, position])
        for rows in stored.values():
            for vid, _label, active in rows:
                if vid not in kept and active:
                    cur.execute("UPDATE criterion_values SET active = FALSE WHERE id = ?", [vid])

    def _stale_criterion(self, cur: Any, attempted: Criterion) -> ConflictError:
        """The conflict of a criterion saved from an older version: the fields changed since (name, multiple choice,
        values, active), each as stored now and with who changed it — from the admin log, which keeps every save of
        a criterion (one entry each) with the criterion before and after."""
        row = cur.execute(f"SELECT name, multiple, active, {self._version_of('criteria')} FROM criteria WHERE id = ?",
                          [attempted.id]).fetchone()
        if row is None:
            return ConflictError([], stored_version=0, attempted_version=attempted.version)
        values = [label for (label,) in cur.execute("SELECT label FROM criterion_values WHERE criterion_id = ? AND "
                                                    "active ORDER BY position, id", [attempted.id]).fetchall()]
        stored = Criterion(id=attempted.id, name=row[0], multiple=bool(row[1]), active=bool(row[2]), values=values,
                           version=int(row[3]))
        saves = stored.version - (attempted.version or 1)
        changed: dict[str, tuple[str, Any]] = {}
        name, counted_saves = stored.name, 0
        entries = cur.execute("SELECT changed_by, changed_at, old_value, new_value FROM admin_log WHERE area = ? "
                              "ORDER BY id DESC", [SEGMENTATION_AREA]).fetchall()
        for by, at, old, new in entries:  # newest first, following the criterion back through its names
            if counted_saves >= saves:
                break
            try:
                after, previous = json.loads(new), (json.loads(old) if old else None)
            except (TypeError, ValueError):
                continue
            if not isinstance(after, dict) or after.get("name") != name:
                continue
            counted_saves += 1
            for field in Criterion.fields:
                if previous is None or to_text(previous.get(field)) != to_text(after.get(field)):
                    changed.setdefault(field, (by, at))
            if previous is None:
                break
            name = previous.get("name", name)
        complete = saves > 0 and counted_saves == saves
        fields = [field for field in Criterion.fields if field in changed or (
            not complete and to_text(stored.get(field)) != to_text(attempted.get(field)))]
        return ConflictError([FieldConflict(field, stored.get(field), attempted.get(field),
                                            changed_by=changed.get(field, (None, None))[0],
                                            changed_at=changed.get(field, (None, None))[1]) for field in fields],
                             stored_version=stored.version, attempted_version=attempted.version)

    # -- users --------------------------------------------------------------------------------------------
    def users_by_login(self) -> dict[str, dict[str, Any]]:
        return self.cached("users", lambda: {r["login"]: r for r in self.db.records(
            f"SELECT {self._user_columns()} FROM users ORDER BY name")})

    def users(self, include_inactive: bool = False) -> pd.DataFrame:
        """The users (never their password hashes): login, name, email, role, projects_access, active."""
        rows = [{k: v for k, v in r.items() if k != "password_hash"} for r in self.users_by_login().values()
                if include_inactive or r["active"]]
        return pd.DataFrame(rows, columns=["id", "login", "name", "email", "role", "projects_access", "active"])

    def get_user(self, login: str) -> User:
        """The user with this login (active or not) as a param object; NotFound for an unknown login."""
        found = self.users_by_login().get(login)
        if found is None:
            raise NotFound(_("No user with the login “{login}”.").format(login=login))
        values = {k: (v if v is not None else "") for k, v in found.items()}
        values["language"] = values.get("language") if values.get("language") in LANGUAGES else ""
        return User(**values)

    def user_name(self, login: str | None) -> str:
        """A login's display name (the login itself for unknown ones; the system's own actors said in the reader's
        language)."""
        if not login:
            return ""
        found = self.users_by_login().get(login)
        if found is None and login.startswith(SYSTEM_PREFIX):  # said in the reader's language
            what = SYSTEM_ACTORS.get(login)
            return _("customercard ({actor})").format(actor=_(what) if what else login[len(SYSTEM_PREFIX):])
        return found["name"] if found else login

    def authenticate(self, login: str, password: str) -> User | None:
        """The active user with this login and password, else None (no hint which part was wrong)."""
        found = self.users_by_login().get((login or "").strip().lower())
        if found is None or not found["active"] or not found["password_hash"]:
            passwords.verify_password(password or "", "scrypt$16384$8$1$AAAA$AAAA")  # same cost either way
            return None
        if not passwords.verify_password(password or "", found["password_hash"]):
            return None
        return self.get_user(found["login"])

    def add_user(self, user: User, password: str | None = None, by: str | None = None,
                 password_hash: str | None = None) -> User:
        """Create a user with a hashed password that passes the password policy (see :mod:`customercard.passwords`).

        ``password_hash`` instead of a password is for system actors only (``by`` = "system:…"): the demo builder
        gives its users the documented password ``demo`` this way, past the policy that people's passwords pass.
        """
        actor = self.require(by, "admin")
        user.check()
        if user.login in self.users_by_login():
            raise ValidationError({"login": _("The login “{login}” is taken.").format(login=user.login)})
        if password_hash is not None:
            if not actor.startswith(SYSTEM_PREFIX) or password is not None:
                raise PermissionDenied(_("Only the system gives a ready password hash, and then no password."))
            user.password_hash = password_hash
        else:
            user.password_hash = _policy_hash(password or "", user.login)
        with self.db.transaction() as cur:
            user.id = cur.execute(
                "INSERT INTO users (login, name, email, role, projects_access, active, password_hash, "
                "created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [user.login, user.name, user.email, user.role, user.projects_access, user.active,
                 user.password_hash, utcnow(), actor]).fetchone()[0]
            self.log_admin(cur, actor, "Users", user.login, None,
                            f"added as {user.role}" + (" with projects access" if user.projects_access else ""))
        self.forget_cached()
        return user

    def update_user(self, user: User, by: str | None = None) -> User:
        """Change a user's name, e-mail, role, projects access or active flag (not the login), from the version
        ``user`` was read at. A user someone saved since is a conflict naming the fields they changed, with who
        (not those only this save changes), and nothing is written; a save that changes nothing writes nothing."""
        actor = self.require(by, "admin")
        user.check()
        before = self.get_user(user.login)
        if user.role not in ROLES:
            raise ValidationError({"role": _("Choose one of {roles}.").format(roles=", ".join(map(_, ROLES)))})
        if before.is_admin and not (user.active and user.role == "admin") and self._active_admins() <= 1:
            raise ValidationError({"role": _("This is the last active administrator: make someone else an "
                                             "administrator first.")})
        read = int(user.version or before.version)
        with self.db.transaction() as cur:
            self._still_admin(cur, actor)  # two administrators at once: each checked against what is stored now
            stored = self._user_row(cur, user.login)
            if int(stored["version"]) != read:  # changed since it was read: nothing is written
                raise self._stale_user(cur, stored, user, read)
            changed = [name for name in USER_FIELDS if to_text(_plain(stored[name])) != to_text(user.get(name))]
            if not changed:
                user.version = read
                return self.get_user(user.login)
            updated = cur.execute(
                "UPDATE users SET name = ?, email = ?, role = ?, projects_access = ?, active = ?, "
                "version = coalesce(version, 1) + 1 WHERE login = ? AND coalesce(version, 1) = ?",
                [user.name, user.email, user.role, user.projects_access, user.active, user.login, read]).rowcount
            if not updated:  # saved in between (another process): nothing is written
                raise self._stale_user(cur, self._user_row(cur, user.login), user, read)
            if not cur.execute("SELECT count(*) FROM users WHERE active AND role = 'admin'").fetchone()[0]:
                raise ValidationError({"role": _("This is the last active administrator: make someone else an "
                                                 "administrator first.")})
            user.version = read + 1
            now = utcnow()
            for name in changed:
                self.log_admin(cur, actor, "Users", f"{user.login}: {name}", _plain(stored[name]), user.get(name),
                                at=now)
            if stored["active"] and not user.active:
                end_sessions(self.db, user.login, reason="user deactivated")
        self.forget_cached(shown="users")
        return self.get_user(user.login)

    def _stale_user(self, cur: Any, stored: dict[str, Any], user: User, read: int) -> ConflictError:
        """The conflict of a user saved from version ``read``: the fields changed since, with who (the admin log)."""
        plain = {name: _plain(stored[name]) for name in USER_FIELDS}
        return self._stale(cur, "Users", {f"{user.login}: {name}": name for name in USER_FIELDS}, plain, user,
                           int(stored["version"]), read)

    def _user_columns(self) -> str:
        """The users' columns with their version and language."""
        return f"{USER_COLUMNS}, {self._version_of('users')} AS version, {self._language_of()} AS language"

    def _language_of(self) -> str:
        """SQL for a user's chosen language — '' in a database older than schema 14, which has no such column."""
        def build() -> bool:
            return bool(self.db.row("SELECT count(*) FROM information_schema.columns WHERE table_name = 'users' "
                                    "AND column_name = 'language'")[0])
        return "coalesce(language, '')" if self.cached("users.language", build) else "''"

    def set_language(self, login: str, language: str, by: str | None = None) -> User:
        """Choose the language ``login`` reads customercard in ('' to follow the browser): every user for
        themselves, administrators for anyone. A preference, not a change of the user's record: it keeps its
        version (an administrator editing the user meanwhile meets no conflict)."""
        actor = self.acting(by)
        if actor != login:
            self.require(by, "admin")
        before = self.get_user(login).language
        if language not in ("", *LANGUAGES):
            raise ValidationError({"language": _("Choose one of {languages}.").format(
                languages=", ".join(LANGUAGES.values()))})
        with self.db.transaction() as cur:
            cur.execute("UPDATE users SET language = ? WHERE login = ?", [language, login])
            if actor != login and before != language:  # someone else's choice changed: the admin log says who
                self.log_admin(cur, actor, "Users", f"{login}: language", before, language)
        self.forget_cached()
        return self.get_user(login)

    def _version_of(self, table: str, alias: str = "") -> str:
        """SQL for a row's version in ``table`` — 1 in a database older than schema 12 (opened by a test of the
        migrations at an older schema), which has no such column."""
        def build() -> bool:
            return bool(self.db.row("SELECT count(*) FROM information_schema.columns WHERE table_name = ? "
                                    "AND column_name = 'version'", [table])[0])
        return f"coalesce({alias}version, 1)" if self.cached(f"versioned.{table}", build) else "1"

    def _user_row(self, cur: Any, login: str) -> dict[str, Any]:
        row = cur.execute(f"SELECT {self._user_columns()} FROM users WHERE login = ?", [login])
        names = [d[0] for d in row.description]
        return dict(zip(names, row.fetchone(), strict=True))

    def _still_admin(self, cur: Any, actor: str) -> None:
        """Inside a change of users: the acting administrator is one still, as stored now (not as cached) — on
        PostgreSQL with the administrators' rows locked, so that two such changes run one after the other (DuckDB
        runs this process's writes one at a time)."""
        if self.db.dialect == "postgresql":
            cur.execute("SELECT login FROM users WHERE role = 'admin' ORDER BY login FOR UPDATE")
        if actor.startswith(SYSTEM_PREFIX):
            return
        row = cur.execute("SELECT role, active FROM users WHERE login = ?", [actor]).fetchone()
        if row is None or row[0] != "admin" or not row[1]:
            raise PermissionDenied(_("Only administrators may do this; “{login}” is not one any more.").format(
                login=actor))

    def _active_admins(self) -> int:
        return sum(1 for r in self.users_by_login().values() if r["active"] and r["role"] == "admin")

    def set_password(self, login: str, password: str, by: str | None = None, keep_token: str = "") -> int:
        """Set a new password that passes the policy (admins for anyone; every user for themselves) and end the
        user's sessions — all of them, or all but the one with ``keep_token`` (the user's own, changing it).

        An administrator's reset of someone else's password (a forgotten or a leaked one) also revokes that user's
        API tokens, in the same transaction: whoever had the old password may have made one. Returns how many were
        revoked (0 for a user's own change, which keeps their scripts working)."""
        actor = self.acting(by)
        if actor != login:
            actor = self.require(by, "admin")
        self.get_user(login)
        hashed = _policy_hash(password, login)
        with self.db.transaction() as cur:
            cur.execute("UPDATE users SET password_hash = ? WHERE login = ?", [hashed, login])
            self.log_admin(cur, actor, "Users", f"{login}: password", None, "changed")
            end_sessions(self.db, login, except_token=keep_token if actor == login else "", reason="password changed")
            revoked = 0 if actor == login else self._revoke_tokens(cur, login, actor)
        self.forget_cached()
        return revoked

    def _revoke_tokens(self, cur: Any, login: str, actor: str) -> int:
        """Revoke every live API token of ``login`` (each a line in the admin log, as a revoke by hand is)."""
        now = utcnow()
        names = [row[0] for row in cur.execute(
            "SELECT name FROM api_tokens WHERE login = ? AND revoked_at IS NULL ORDER BY id", [login]).fetchall()]
        if names:
            cur.execute("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE login = ? AND revoked_at IS NULL",
                        [now, actor, login])
        for name in names:
            self.log_admin(cur, actor, TOKENS_AREA, f"{login}: {name}", "created", "revoked, password reset", at=now)
        return len(names)

    # -- choices for validation ---------------------------------------------------------------------------
    def choices(self) -> Choices:
        """What validation allows right now (active list values, managers, criteria, regions)."""
        def build() -> Choices:
            settings = self.settings()
            users = self.users_by_login()
            return Choices(
                lists={name: list(entry["active"]) for name, entry in self.list_maps().items()},
                managers=[login for login, r in users.items() if r["active"] and r["role"] in WRITER_ROLES],
                users=list(users),
                criteria={c.name: (c.multiple, list(c.values)) for c in self.criteria()},
                phone_region=settings.phone_region,
                default_country=settings.phone_region,
                renamed=self._renamed(),
                nicknames=settings.nicknames_enabled,
                invoice_addresses=settings.invoice_address_enabled,
                rated=_rated(settings),
            )
        return self.cached("choices", build)

    def _renamed(self) -> dict[str, dict[str, str]]:
        """{list name: {an old name: today's name}} from the admin log's renames, followed to the end (a name a
        value of the list has today is never mapped: it means that value now); the criteria's own names under
        :data:`CRITERIA_RENAMED`."""
        maps = self.list_maps()
        out: dict[str, dict[str, str]] = {}
        for list_name, renames in self.list_renames().items():
            kept = _followed(renames, maps.get(list_name, {}).get("by_label", {}))
            if kept:
                out[list_name] = kept
        criteria = self.criterion_renames()
        kept = _followed(criteria, {c.name for c in self.criteria(include_inactive=True)}) if criteria else {}
        if kept:
            out[CRITERIA_RENAMED] = kept
        return out


def _plain(value: Any) -> Any:
    """A stored value as a copy holds it (a text the database keeps as NULL is empty)."""
    return "" if value is None else value


def _not_a_rename(old: str, new: str) -> bool:
    """Whether an admin-log entry of a list value is a move ('position 2' → 'position 3') or a switch ('active' →
    'inactive') rather than a rename (their item is the value's name, which may read the same)."""
    switches = {"active", "inactive"}
    moves = re.compile(r"position \d+")
    return ({old, new} <= switches and old != new) or bool(moves.fullmatch(old) and moves.fullmatch(new))


def _policy_hash(password: str, login: str) -> str:
    """The hash of a person's new password, once it passes the password policy; else ValidationError."""
    problem = passwords.policy_problem(password or "", login)
    if problem:
        raise ValidationError({"password": problem})
    return passwords.hash_password(password)


def _rated(settings: Settings) -> frozenset[str] | None:
    """The currencies the settings give a rate for (None when the rates cannot be read: nothing is refused then)."""
    try:
        return frozenset(settings.rates())
    except ValueError:
        return None


def _composed(text: str) -> str:
    """A text with its letters composed (as texts are kept now; an older version kept an Å pasted as A and a ring)."""
    return text if text.isascii() else unicodedata.normalize("NFC", text)


def _same_label(by_label: dict[str, int], label: str) -> tuple[str, int] | None:
    """The list's (label, id) that reads as ``label``: the same letters, whatever their case, composition, spacing
    or characters that show nothing (:func:`validators.name_key`)."""
    wanted = name_key(label)
    return next(((known, value_id) for known, value_id in by_label.items() if name_key(known) == wanted), None)


def _refuse_same_label(db: Any, cur: Any, list_name: str, label: str, value_id: int | None = None) -> None:
    """Inside the write's transaction: refuse ``label`` when another value of the list reads the same (two
    administrators adding or renaming to one name at once: the second is told, as if it had been there). On
    PostgreSQL the list's rows are locked first, so that two such transactions take turns."""
    lock = " FOR UPDATE" if db.dialect == "postgresql" else ""
    rows = cur.execute("SELECT id, label FROM list_values WHERE list_name = ?" + lock, [list_name]).fetchall()
    same = _same_label({str(known): int(other) for other, known in rows}, label)
    if same is not None and same[1] != value_id:
        raise ValidationError({"label": _("“{value}” is in the list already.").format(value=same[0])})


def _checked_label(label: str | None, inverse_label: str | None) -> tuple[str, str]:
    """A list value's label and inverse label as kept, checked by the model (:class:`ListValue`)."""
    value = ListValue(label=label or "", inverse_label=inverse_label or "")
    value.check()
    return value.label, value.inverse_label
