"""Login sessions kept on the server, and logging in itself: the password check behind a throttle.

A session is a row: the SHA-256 of a random token (the browser holds the token, never the database), the login,
when it started and was last used, and when and why it ended. A request is let in only while its session row is
not ended, not idle longer than ``idle`` and not older than ``lifetime`` (see :meth:`SessionStore.session_login`).
Rows, not memory: every server process, on every machine, sees the same sessions.

Failed logins are counted per account and per address (:class:`ThrottleRule`): after a few, each further
attempt must wait a growing delay; after more, a temporary lockout refuses even the right password. Every
failed and successful login and every lockout is a line in the admin log (area “Logins”).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import ValidationError
from ..i18n import _, ngettext
from ..models import User
from .backend import Backend
from .database import utcnow
from .logouts import end_session_row, end_sessions, token_hash
from .part import Part

if TYPE_CHECKING:
    from .admin import AdminStore

#: How long a session may go unused, and how long it may last at most (``customercard.config`` sets others).
DEFAULT_IDLE = dt.timedelta(hours=8)
DEFAULT_LIFETIME = dt.timedelta(hours=24)
#: A session's last use is written when it is older than this (not on every request).
TOUCH_EVERY = dt.timedelta(minutes=1)
#: Ended and lapsed sessions are kept this long (a user's list shows only live ones), then deleted.
KEEP_ENDED = dt.timedelta(days=30)
LOG_AREA = "Logins"
LOG_ACTOR = "system:login"
log = logging.getLogger(__name__)
LONGEST_KEPT_TEXT = 200


@dataclass(frozen=True)
class ThrottleRule:
    """After ``free`` failures each attempt waits 1, 2, 4 … seconds (at most ``longest_delay``) after the last
    failure; the ``lock_after``-th failure locks for ``lockout``. Failures are forgotten after ``lockout`` without
    any."""

    free: int
    lock_after: int
    lockout: dt.timedelta = dt.timedelta(minutes=15)
    longest_delay: dt.timedelta = dt.timedelta(minutes=1)

    def delay(self, failures: int) -> dt.timedelta:
        """The wait after the last of ``failures`` failures (none while still free)."""
        if failures < self.free:
            return dt.timedelta(0)
        return min(dt.timedelta(seconds=2 ** min(failures - self.free, 16)), self.longest_delay)


#: Per account: five tries, then waits of 1, 2, 4, 8, 16 s, and the tenth failure locks it for 15 minutes.
ACCOUNT_RULE = ThrottleRule(free=5, lock_after=10)
#: Per address (many people may share one): ten tries, then growing waits, and the thirtieth failure locks it.
ADDRESS_RULE = ThrottleRule(free=10, lock_after=30, longest_delay=dt.timedelta(seconds=30))


@dataclass(frozen=True)
class LoginResult:
    """What :meth:`SessionStore.log_in` decided: a user and their new session's token, or a refusal — then
    ``wait_seconds`` > 0 when the throttle refused (``refused``: the password was not even checked) or will
    refuse the next attempt for that long."""

    user: User | None = None
    token: str = ""
    wait_seconds: int = 0
    refused: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None


def _short(text: str) -> str:
    return (text or "")[:LONGEST_KEPT_TEXT]


class SessionStore(Part):
    """Part of :class:`customercard.store.Store`: login sessions and the login throttle."""

    uses = ("admin",)
    admin: AdminStore

    db: Backend

    # -- sessions ------------------------------------------------------------------------------------------
    def start_session(self, login: str, remote_address: str = "", user_agent: str = "",
                      at: dt.datetime | None = None) -> str:
        """Start a session for ``login``; returns its token (only its hash is stored, so keep the token)."""
        at = at or utcnow()
        token = secrets.token_urlsafe(32)
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM sessions WHERE last_seen_at < ?", [at - KEEP_ENDED])
            cur.execute("INSERT INTO sessions (token_hash, login, created_at, last_seen_at, remote_address, "
                        "user_agent) VALUES (?, ?, ?, ?, ?, ?)",
                        [token_hash(token), login, at, at, _short(remote_address), _short(user_agent)])
        return token

    def session_login(self, token: str, idle: dt.timedelta = DEFAULT_IDLE, lifetime: dt.timedelta = DEFAULT_LIFETIME,
                      at: dt.datetime | None = None) -> str | None:
        """The login of the live session with this token, else None: the session must exist, not be ended,
        have been used within ``idle`` and started within ``lifetime``, and its user be active. A session
        found lapsed is ended; one in use has its last use written (at most once a minute)."""
        if not token:
            return None
        at = at or utcnow()
        found = self.db.row("SELECT id, login, created_at, last_seen_at, ended_at FROM sessions "
                            "WHERE token_hash = ?", [token_hash(token)])
        if found is None or found[4] is not None:
            return None
        session_id, login, created_at, last_seen_at, _ended = found
        user = self.admin.users_by_login().get(login)
        if user is None or not user["active"]:
            return None
        if at - last_seen_at > idle or at - created_at > lifetime:
            self._end(session_id, "expired", at)
            return None
        if at - last_seen_at >= min(TOUCH_EVERY, idle / 4):  # a short idle time is kept to closely
            with self.db.transaction() as cur:
                cur.execute("UPDATE sessions SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?",
                            [at, session_id, at])
        return login

    def end_lapsed_sessions(self, idle: dt.timedelta = DEFAULT_IDLE, lifetime: dt.timedelta = DEFAULT_LIFETIME,
                            at: dt.datetime | None = None) -> int:
        """End every session unused for longer than ``idle`` or started longer than ``lifetime`` ago, telling their
        open pages (which then stop showing anything, as after a logout); returns how many. The server does this
        every few seconds: a page left open is logged out when its session lapses, not only at the next request.
        (A read, and a write only when some lapsed.)"""
        at = at or utcnow()
        lapsed = self.db.rows("SELECT id, login FROM sessions WHERE ended_at IS NULL AND (last_seen_at < ? OR "
                              "created_at < ?)", [at - idle, at - lifetime])
        if lapsed:
            with self.db.transaction() as cur:
                for session_id, login in lapsed:
                    self._ended(cur, int(session_id), login, "expired", at)
        return len(lapsed)

    def sessions(self, login: str, current_token: str = "", idle: dt.timedelta = DEFAULT_IDLE,
                 lifetime: dt.timedelta = DEFAULT_LIFETIME, at: dt.datetime | None = None) -> pd.DataFrame:
        """``login``'s live sessions, newest first: id, created_at, last_seen_at, remote_address, user_agent and
        ``current`` (True for the one whose token is ``current_token``)."""
        at = at or utcnow()
        frame = self.db.df("SELECT id, created_at, last_seen_at, remote_address, user_agent, token_hash FROM sessions "
                           "WHERE login = ? AND ended_at IS NULL AND last_seen_at >= ? AND created_at >= ? "
                           "ORDER BY created_at DESC, id DESC", [login, at - idle, at - lifetime])
        frame["current"] = frame["token_hash"] == (token_hash(current_token) if current_token else "")
        return frame.drop(columns=["token_hash"]).reset_index(drop=True)

    def session_id(self, token: str) -> int | None:
        """The id of the session with this token (pages use it to hear that their session ended)."""
        if not token:
            return None
        found = self.db.row("SELECT id FROM sessions WHERE token_hash = ?", [token_hash(token)])
        return int(found[0]) if found else None

    def end_session(self, token: str, reason: str = "logged out") -> None:
        """End the session with this token (nothing happens for an unknown or ended one)."""
        with self.db.transaction() as cur:
            found = cur.execute("SELECT id, login FROM sessions WHERE token_hash = ? AND ended_at IS NULL",
                                [token_hash(token or "")]).fetchone()
            if found is not None:
                self._ended(cur, int(found[0]), found[1], reason, utcnow())

    def _ended(self, cur: Any, session_id: int, login: str, reason: str, at: dt.datetime) -> None:
        end_session_row(self.db, cur, session_id, login, reason, at)

    def end_session_of(self, login: str, session_id: int, reason: str = "ended by the user") -> bool:
        """End one of ``login``'s sessions by its id (from :meth:`sessions`); False when it is not theirs or
        has ended already."""
        with self.db.transaction() as cur:
            found = cur.execute("SELECT id FROM sessions WHERE id = ? AND login = ? AND ended_at IS NULL",
                                [int(session_id), login]).fetchone()
            if found is None:
                return False
            self._ended(cur, int(session_id), login, reason, utcnow())
        return True

    def end_sessions(self, login: str, except_token: str = "", reason: str = "logged out everywhere") -> int:
        """End every session of ``login`` but the one with ``except_token`` (when given); returns how many."""
        return end_sessions(self.db, login, except_token, reason)

    def _end(self, session_id: int, reason: str, at: dt.datetime) -> None:
        with self.db.transaction() as cur:
            found = cur.execute("SELECT login FROM sessions WHERE id = ?", [session_id]).fetchone()
            if found is not None:
                self._ended(cur, session_id, found[0], reason, at)

    # -- logging in --------------------------------------------------------------------------------------------
    def log_in(self, login: str, password: str, remote_address: str = "", user_agent: str = "",
               at: dt.datetime | None = None) -> LoginResult:
        """Check a login and password behind the throttle; on success start a session. Whether the login exists
        is never told: an unknown one is counted, slowed and locked exactly as a known one."""
        at = at or utcnow()
        login = _short((login or "").strip().lower())
        address = _short(remote_address)
        keys = _login_keys(login, address)
        wait, before = self._reserve_attempt(keys, at)
        if wait:
            return LoginResult(wait_seconds=wait, refused=True)
        user = self.admin.authenticate(login, password)
        if user is None:
            return LoginResult(wait_seconds=self.count_failure(keys, _who(login, address), "wrong password",
                                                               "failed logins", at, counted=True))
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM login_throttle WHERE key = ?", [f"login:{login}"])
            # the attempt was counted before its password was checked: it was no failure — the address's count
            # and its last failure as they were (unless another failure came since)
            for key, rule in keys.items():
                last = before.get(key) or at - rule.lockout
                cur.execute("UPDATE login_throttle SET failures = failures - 1, last_failure_at = CASE WHEN "
                            "last_failure_at = ? THEN ? ELSE last_failure_at END WHERE key = ? AND failures > 0",
                            [at, last, key])
            self.admin.log_admin(cur, LOG_ACTOR, LOG_AREA, _who(login, address), None, "logged in")
        return LoginResult(user=user, token=self.start_session(login, address, user_agent, at=at))

    def _reserve_attempt(self, keys: dict[str, ThrottleRule], at: dt.datetime
                         ) -> tuple[int, dict[str, dt.datetime]]:
        """Let an attempt in, and count it, in one step: (the seconds to wait — 0: let in, counted as a failure
        until its password proves right —, each counter's last failure before it). Checking the wait before the
        password and counting the failure after let a burst of attempts sent at once all through (10 wrong
        passwords checked in half a second, where the 6th must wait a second): now each attempt in flight counts
        for the next one's wait."""
        wait = self.throttle_wait(keys, at=at)
        if wait:  # (refused without a write, as most of a burst is)
            return wait, {}
        marks = ", ".join("?" * len(keys))
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":  # one attempt at a time per counter, rows there or not (DuckDB:
                for key in sorted(keys):         # one writer at a time)
                    cur.execute("SELECT pg_advisory_xact_lock(hashtext(?))", [key])
            found = cur.execute(f"SELECT key, failures, last_failure_at, locked_until FROM login_throttle "
                                f"WHERE key IN ({marks})", list(keys)).fetchall()
            wait = _longest_wait(keys, found, at)
            if wait:
                return wait, {}
            for key, rule in keys.items():
                cur.execute(_COUNT_FAILURE, [key, at, at - rule.lockout])
        return 0, {key: last for key, _failures, last, _locked in found}

    def login_wait(self, login: str, remote_address: str = "", at: dt.datetime | None = None) -> int:
        """Seconds before ``login`` may be tried again from ``remote_address`` (0: now)."""
        return self.throttle_wait(_login_keys(login, remote_address), at=at)

    def throttle_wait(self, keys: dict[str, ThrottleRule], at: dt.datetime | None = None) -> int:
        """Seconds before the next attempt under the counters ``keys`` (counter key → its rule) is let in (0: now)."""
        at = at or utcnow()
        if not keys:
            return 0
        marks = ", ".join("?" * len(keys))
        found = self.db.rows(f"SELECT key, failures, last_failure_at, locked_until FROM login_throttle "
                             f"WHERE key IN ({marks})", list(keys))  # one query: every API request asks
        return _longest_wait(keys, found, at)

    def _count_failure(self, login: str, address: str, at: dt.datetime) -> int:
        """Count a failed login on the account and the address, log it (and any lockout it starts); returns the
        wait before the next attempt."""
        return self.count_failure(_login_keys(login, address), _who(login, address), "wrong password", "failed logins",
                                  at)

    def count_failure(self, keys: dict[str, ThrottleRule], who: str, what: str, attempts: str,
                      at: dt.datetime | None = None, counted: bool = False) -> int:
        """Count a failed attempt on each counter of ``keys`` (counter key → its rule), write ``what`` happened to
        the admin log (area “Logins”, item ``who``) and any lockout it starts (“… after N ``attempts``”); returns the
        wait before the next attempt. ``counted``: the attempt was counted as it was let in (a password login)."""
        at = at or utcnow()
        with self.db.transaction() as cur:
            cur.execute("DELETE FROM login_throttle WHERE last_failure_at < ? AND "
                        "(locked_until IS NULL OR locked_until < ?)", [at - dt.timedelta(days=1), at])
            self.admin.log_admin(cur, LOG_ACTOR, LOG_AREA, who, None, what)
            for key, rule in keys.items():
                if counted:
                    row = cur.execute("SELECT failures FROM login_throttle WHERE key = ?", [key]).fetchone()
                    failures = int(row[0]) if row else 0
                else:
                    failures = cur.execute(_COUNT_FAILURE, [key, at, at - rule.lockout]).fetchone()[0]
                if failures >= rule.lock_after:
                    cur.execute("UPDATE login_throttle SET locked_until = ?, failures = 0 WHERE key = ?",
                                [at + rule.lockout, key])
                    kind = "address" if key.split(":", 1)[0].endswith("address") else "account"
                    minutes = int(rule.lockout.total_seconds() // 60)
                    self.admin.log_admin(cur, LOG_ACTOR, LOG_AREA, who, None,
                                    f"{kind} locked for {minutes} minutes after {failures} {attempts}")
                    log.warning("%s: %s locked for %d minutes after %d %s", who, kind, minutes, failures, attempts)
        return self.throttle_wait(keys, at=at)

    # -- passwords -----------------------------------------------------------------------------------------------
    def change_password(self, login: str, current_password: str, new_password: str, keep_token: str = "") -> None:
        """A user's own password change: the current password must be right (a wrong one counts as a failed
        login), the new one pass the policy; every other session of theirs ends, the one with ``keep_token``
        stays."""
        wait = self.login_wait(login)
        if wait:
            raise ValidationError({"current_password": ngettext(
                "Too many failed logins; try again in {n} second.", "Too many failed logins; try again in {n} seconds.",
                wait).format(n=wait)})
        if self.admin.authenticate(login, current_password) is None:
            self._count_failure(login, "", utcnow())
            raise ValidationError({"current_password": _("This is not your current password.")})
        if new_password == current_password:  # (it said "changed", and ended the other sessions)
            raise ValidationError({"password": _("Choose a new password: this is the one you have.")})
        self.admin.set_password(login, new_password, by=login, keep_token=keep_token)


#: One more failure on a counter (the first after its lockout time starts it again at 1): key, now, now − lockout.
_COUNT_FAILURE = ("INSERT INTO login_throttle (key, failures, last_failure_at) VALUES (?, 1, ?) "
                  "ON CONFLICT (key) DO UPDATE SET last_failure_at = excluded.last_failure_at, failures = "
                  "CASE WHEN login_throttle.last_failure_at <= ? THEN 1 ELSE login_throttle.failures + 1 END "
                  "RETURNING failures")


def _longest_wait(keys: dict[str, ThrottleRule], found: list[tuple], at: dt.datetime) -> int:
    """Whole seconds to wait under the counters ``keys`` as stored (rows of key, failures, last failure, lock)."""
    return math.ceil(max([0.0, *(_wait(keys[key], *rest, at=at) for key, *rest in found)]))


def _wait(rule: ThrottleRule, failures: int, last_failure_at: dt.datetime, locked_until: dt.datetime | None,
          at: dt.datetime) -> float:
    """Seconds to wait under ``rule`` for a counter as stored."""
    if locked_until is not None and locked_until > at:
        return (locked_until - at).total_seconds()
    if at - last_failure_at >= rule.lockout:
        return 0.0
    return max(0.0, (last_failure_at + rule.delay(failures) - at).total_seconds())


def _login_keys(login: str, address: str) -> dict[str, ThrottleRule]:
    """The counters of a password login: its account and, when known, its address."""
    keys = {f"login:{login}": ACCOUNT_RULE}
    if address:
        keys[f"address:{address}"] = ADDRESS_RULE
    return keys


def _who(login: str, address: str) -> str:
    return f"{login} from {address}" if address else login

