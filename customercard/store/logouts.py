"""Ending login sessions — one, or every one of a user's — and what the database keeps of a session's token.

Beside the sessions part (:mod:`.sessions`, which logs people in and out) and the users' part (:mod:`.admin`,
which ends a user's sessions when their password changes or they are deactivated); it imports neither.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from .backend import Backend
from .changes import Change
from .database import utcnow

#: The admin log's area of API tokens made and revoked (by hand, or by an administrator's password reset).
TOKENS_AREA = "API tokens"


def token_hash(token: str) -> str:
    """The SHA-256 of a session token, in hex: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def end_session_row(db: Backend, cur: Any, session_id: int, login: str, reason: str, at: dt.datetime) -> None:
    """End a session and tell its open pages (they stop showing anything)."""
    cur.execute("UPDATE sessions SET ended_at = ?, ended_reason = ? WHERE id = ? AND ended_at IS NULL",
                [at, reason, session_id])
    db.announce(Change("session", session_id, None, None, login, (reason,)))


def end_sessions(db: Backend, login: str, except_token: str = "", reason: str = "logged out everywhere") -> int:
    """End every session of ``login`` but the one with ``except_token`` (when given); returns how many. (What the
    users' part does when a password changes or a user is deactivated, without the sessions part.)"""
    keep = token_hash(except_token) if except_token else ""
    with db.transaction() as cur:
        ids = [row[0] for row in cur.execute("SELECT id FROM sessions WHERE login = ? AND ended_at IS NULL "
                                             "AND token_hash <> ?", [login, keep]).fetchall()]
        for session_id in ids:
            end_session_row(db, cur, int(session_id), login, reason, utcnow())
    return len(ids)
