"""Personal API tokens: made, listed and revoked by their users (administrators for anyone), and checked for every
request that carries one.

A token is ``cc_`` followed by 43 random characters (256 bits). Only its SHA-256 is kept, with its first characters
as a hint, so the database never holds anything a request could use. A token acts as its user, with the user's role
at the time of each request, reduced to reading when it is read-only; a deactivated user's tokens are refused.

Failed checks (a token nobody has, one revoked, one of a deactivated user) are counted as failed logins are
(:class:`~customercard.store.sessions.ThrottleRule`): per address, and per account when the token names one. After a
few, each further try must wait; after more, the account or address is locked for a while, the right token too.
These counters are kept apart from the password logins' so that a script with a revoked token does not lock its
user out of the login page. Every failure and lockout is a line in the admin log (area “Logins”); making and
revoking a token is one too (area “API tokens”).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING, Any

from ..errors import NotFound, PermissionDenied, TooManyAttempts, ValidationError
from ..i18n import _
from ..models import ApiToken, User
from .backend import Backend
from .database import utcnow
from .logouts import TOKENS_AREA
from .part import Part
from .sessions import TOUCH_EVERY, ThrottleRule, token_hash

if TYPE_CHECKING:
    from .admin import AdminStore
    from .sessions import SessionStore

#: Every token starts so (secret scanners and people recognise it).
TOKEN_PREFIX = "cc_"  # noqa: S105 - the prefix, not a secret
#: How many of the token's characters (after the prefix) the hint keeps.
HINT_LENGTH = 6
#: Per account (its revoked tokens, or tokens of it while deactivated): five tries, then growing waits, the tenth
#: locks the account's tokens for 15 minutes.
TOKEN_ACCOUNT_RULE = ThrottleRule(free=5, lock_after=10)
#: Per address: ten tries, then waits growing to 30 s, the thirtieth locks the address for 15 minutes.
TOKEN_ADDRESS_RULE = ThrottleRule(free=10, lock_after=30, longest_delay=dt.timedelta(seconds=30))
#: The lengths a token's body (after the prefix) may have to be looked up; ours have 43 (token_urlsafe(32)).
MIN_TOKEN_BODY, MAX_TOKEN_BODY = 20, 100
TOKEN_COLUMNS = "id, login, name, hint, read_only, created_at, created_by, last_used_at"  # noqa: S105


def _token(row: dict[str, Any]) -> ApiToken:
    return ApiToken(id=int(row["id"]), login=row["login"], name=row["name"], hint=row["hint"] or "",
                    read_only=bool(row["read_only"]), created_at=row["created_at"], created_by=row["created_by"] or "",
                    last_used_at=row["last_used_at"])


def _keys(login: str | None, address: str) -> dict[str, ThrottleRule]:
    keys: dict[str, ThrottleRule] = {}
    if login:
        keys[f"token-login:{login}"] = TOKEN_ACCOUNT_RULE
    if address:
        keys[f"token-address:{address}"] = TOKEN_ADDRESS_RULE
    return keys


def looks_like_token(text: str) -> bool:
    """Whether ``text`` has a token's shape (the prefix and URL-safe characters), before any lookup."""
    body = text[len(TOKEN_PREFIX):]
    return text.startswith(TOKEN_PREFIX) and MIN_TOKEN_BODY <= len(body) <= MAX_TOKEN_BODY and \
        all(ch.isascii() and (ch.isalnum() or ch in "-_") for ch in body)


class TokenStore(Part):
    """Part of :class:`customercard.store.Store`: API tokens."""

    uses = ("admin", "sessions")
    admin: AdminStore
    sessions: SessionStore

    db: Backend

    def create_token(self, login: str, name: str, read_only: bool = False,
                     user: str | None = None) -> tuple[ApiToken, str]:
        """Make a token for ``login`` named ``name`` (every user for themselves, administrators for anyone) and
        return it with its secret — the only time the secret is told: only its SHA-256 is kept."""
        actor = self._token_actor(login, user)
        owner = self.admin.get_user(login)
        if not owner.active:
            raise PermissionDenied(_("The user “{login}” is deactivated.").format(login=login))
        token = ApiToken(login=login, name=name or "", read_only=bool(read_only))
        token.check()
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        now = utcnow()
        with self.db.transaction() as cur:
            if self.db.dialect == "postgresql":  # the same name made at once in two processes: one after the other
                cur.execute("SELECT pg_advisory_xact_lock(7242005)")
            taken = cur.execute("SELECT count(*) FROM api_tokens WHERE login = ? AND name = ? AND revoked_at IS NULL",
                                [login, token.name]).fetchone()[0]
            if taken:
                raise ValidationError({"name": _("You have a token with this name already: choose another name.")},
                                      what=_("API token"))
            token.id = int(cur.execute(
                "INSERT INTO api_tokens (token_hash, login, name, hint, read_only, created_at, created_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [token_hash(secret), login, token.name, secret[:len(TOKEN_PREFIX) + HINT_LENGTH], token.read_only,
                 now, actor]).fetchone()[0])
            self.admin.log_admin(cur, actor, TOKENS_AREA, f"{login}: {token.name}", None,
                            "created, read-only" if token.read_only else "created")
        token.param.update(hint=secret[:len(TOKEN_PREFIX) + HINT_LENGTH], created_at=now, created_by=actor)
        return token, secret

    def _token_actor(self, login: str, user: str | None) -> str:
        """Who acts on ``login``'s tokens: ``login`` itself (an active user), else an administrator."""
        actor = self.admin.acting(user)
        return self.admin.require(user, "read") if actor == login else self.admin.require(user, "admin")

    def tokens(self, login: str) -> list[ApiToken]:
        """``login``'s live (not revoked) tokens, newest first — never their secrets."""
        return [_token(row) for row in self.db.records(
            f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE login = ? AND revoked_at IS NULL "
            "ORDER BY created_at DESC, id DESC", [login])]

    def get_token(self, token_id: int) -> ApiToken:
        """A live token by its id (NotFound when there is none, or it is revoked)."""
        found = self.db.records(f"SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = ? AND revoked_at IS NULL",
                                [int(token_id)])
        if not found:
            raise NotFound(_("No API token with id {token_id}.").format(token_id=token_id))
        return _token(found[0])

    def revoke_token(self, token_id: int, user: str | None = None) -> bool:
        """Revoke a token (its user, or an administrator): every request with it is refused from now on. False when
        it was revoked already (by someone else meanwhile); NotFound when there is no such token of theirs."""
        actor = self.admin.acting(user)
        found = self.db.records("SELECT login, name, revoked_at FROM api_tokens WHERE id = ?", [int(token_id)])
        if not found or (found[0]["login"] != actor and not self.admin.can(user, "admin")):
            raise NotFound(_("No API token with id {token_id}.").format(token_id=token_id))
        row = found[0]
        actor = self._token_actor(row["login"], user)
        with self.db.transaction() as cur:
            revoked = cur.execute("UPDATE api_tokens SET revoked_at = ?, revoked_by = ? WHERE id = ? AND "
                                  "revoked_at IS NULL", [utcnow(), actor, int(token_id)]).rowcount
            if revoked:
                self.admin.log_admin(cur, actor, TOKENS_AREA, f"{row['login']}: {row['name']}", "created", "revoked")
        return bool(revoked)

    def authenticate_token(self, secret: str, remote_address: str = "") -> tuple[User, bool]:
        """The user a token acts as, and whether it is read-only. Raises :class:`PermissionDenied` for a token
        nobody has, one revoked, or one of a deactivated user (counted as a failure, per account and per
        address), and :class:`TooManyAttempts` while those failures make the account or address wait (nothing is
        checked then, the right token too). The token's last use is written at most once a minute."""
        at = utcnow()
        address = (remote_address or "")[:200]
        row = None
        if looks_like_token(secret or ""):
            found = self.db.records("SELECT id, login, read_only, last_used_at, revoked_at FROM api_tokens "
                                    "WHERE token_hash = ?", [token_hash(secret)])
            row = found[0] if found else None
        login = row["login"] if row else None
        wait = self.sessions.throttle_wait(_keys(login, address), at=at)
        if wait:
            raise TooManyAttempts(wait)
        known = self.admin.users_by_login().get(login) if login else None
        if row is None or row["revoked_at"] is not None or known is None or not known["active"]:
            what = ("unknown API token" if row is None else "revoked API token" if row["revoked_at"] is not None
                    else "API token of a deactivated user")
            who = f"{login or '?'} from {address}" if address else (login or "?")
            self.sessions.count_failure(_keys(login, address), who, what, "failed API token checks", at)
            raise PermissionDenied(_("This API token is not valid (unknown, revoked, or its user is deactivated)."))
        if row["last_used_at"] is None or at - row["last_used_at"] >= TOUCH_EVERY:
            with self.db.transaction() as cur:
                cur.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND "
                            "(last_used_at IS NULL OR last_used_at < ?)", [at, int(row["id"]), at - TOUCH_EVERY])
        return self.admin.get_user(login), bool(row["read_only"])
