"""Delivering the economy-system outbox: each row is POSTed as JSON to the receiver URL, signed with
HMAC-SHA256 over a timestamp and the body and carrying an idempotency key, in order per customer, retried with
backoff.

Only a 2xx answer delivers a row. Redirects are not followed (urllib would follow a 301/302 with a GET, without
the body): a 3xx, like any other answer, is a failed attempt, retried later with the status in its error.
The signature header is ``X-Customercard-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">``;
a receiver checks it with :func:`verify_signature` (or the README's few lines) and refuses old timestamps, so a
captured delivery cannot be replayed later.

The receiver being down loses nothing: rows stay in the database until delivered, and a restarted server
resumes where it stopped. Rows that keep failing wait for an administrator's retry (System administration).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http import HTTPStatus

from .background import Rounds
from .config import get_config
from .i18n import N_, _
from .store import Store

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Customercard-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"


#: A signature older (or further ahead) than this many seconds is refused by :func:`verify_signature`.
TOLERANCE_SECONDS = 300
#: The HTTP statuses of a delivery the receiver took, and of a redirect (not followed: a failed delivery).
SUCCESS = range(200, 300)
REDIRECTS = range(300, 400)
#: What a failed delivery keeps as its error, in the source language (the worker has no reader); pages say it in
#: their reader's language (:func:`said_error`).
UNREACHABLE = N_("Receiver not reachable: {reason}")
NOT_FOLLOWED = N_("(redirects are not followed)")
_UNREACHABLE = re.compile(re.escape(UNREACHABLE).replace(re.escape("{reason}"), "(?P<reason>.*)") + "$", re.S)


def said_error(stored: str | None) -> str:
    """A delivery's stored error in the reader's language (the receiver's own words, an HTTP reason, stay)."""
    text = str(stored or "")
    if text.endswith(" " + NOT_FOLLOWED):
        text = text[:-len(NOT_FOLLOWED)] + _(NOT_FOLLOWED)
    found = _UNREACHABLE.match(text)
    return _(UNREACHABLE).format(reason=found.group("reason")) if found else text


def _digest(timestamp: int, body: bytes, secret: str) -> str:
    return hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256).hexdigest()


def sign(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The signature header value: ``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`` (now, unless given)."""
    moment = int(time.time()) if timestamp is None else int(timestamp)
    return f"t={moment},v1={_digest(moment, body, secret)}"


def verify_signature(header: str, body: bytes, secret: str, tolerance: float = TOLERANCE_SECONDS,
                     now: float | None = None) -> bool:
    """Whether ``header`` (the X-Customercard-Signature value) signs exactly ``body`` with ``secret``, made at
    most ``tolerance`` seconds before (or after) ``now``. For receivers written in Python; a replayed delivery
    (an old timestamp), a changed body or timestamp, or another secret gives False."""
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        parts.setdefault(key, []).append(value)
    try:
        moment = int(parts["t"][0])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - moment) > tolerance:
        return False
    expected = _digest(moment, body, secret)
    return any(hmac.compare_digest(expected, given) for given in parts.get("v1", []))


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A 3xx is an answer like any other, not a place to go: urllib would follow it as a GET without the body."""

    def redirect_request(self, _req, _fp, _code, _msg, _headers, _newurl):  # urllib's API
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


#: Answers that say the receiver is busy or was too slow, not that it refuses the row: tried again until it takes it.
BUSY = frozenset({HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_EARLY, HTTPStatus.TOO_MANY_REQUESTS})


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures: 2, 4, 8 … up to 5 minutes."""
    return float(min(2 ** max(attempts, 1), 300))


@dataclass
class Receiver:
    url: str
    secret: str
    timeout: float = 10.0


def receiver(store: Store) -> Receiver | None:
    """Where to deliver: the admin setting (or CUSTOMERCARD_SYNC_URL) and the secret from CUSTOMERCARD_SYNC_SECRET."""
    config = get_config()
    url = config.sync_url or store.settings().sync_url
    if not url or not config.sync_secret or not url.startswith(("http://", "https://")):
        return None
    return Receiver(url=url, secret=config.sync_secret, timeout=config.smtp_timeout)


def _post(request: urllib.request.Request, timeout: float) -> tuple[bool, str, bool]:
    """Send one delivery: (delivered, the error, whether the receiver refused it — it answered, and not with a 2xx;
    else it could not be reached, was down or busy). The whole answer within ``timeout`` seconds, not each read of it:
    a receiver dripping its answer is a failed attempt, and the other customers' deliveries do not wait for it (it
    may still take this one: its Idempotency-Key makes the retry the same delivery)."""
    outcome: list[tuple[bool, str, bool]] = []

    def attempt() -> None:
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                ok = response.status in SUCCESS
                outcome.append((ok, "" if ok else f"HTTP {response.status}", True))
        except urllib.error.HTTPError as exc:
            moved = " " + NOT_FOLLOWED if exc.code in REDIRECTS else ""
            outcome.append((False, f"HTTP {exc.code} {exc.reason}{moved}",
                            exc.code < HTTPStatus.INTERNAL_SERVER_ERROR and exc.code not in BUSY))
        except (urllib.error.URLError, OSError) as exc:
            outcome.append((False, UNREACHABLE.format(reason=getattr(exc, "reason", exc)), False))

    worker = threading.Thread(target=attempt, name="customercard-outbox-post", daemon=True)
    worker.start()
    worker.join(timeout)
    if not outcome:
        return False, UNREACHABLE.format(reason=f"no whole answer within {timeout:g} s"), False
    return outcome[0]


def deliver_due(store: Store, target: Receiver) -> tuple[int, int]:
    """Deliver every row that is due now, in order per customer; returns (delivered, failed attempts)."""
    delivered = failed = 0
    if not store.db.claim("customercard-outbox"):
        return 0, 0  # another server process delivers
    blocked: set[int] = set()
    for row in store.due_outbox_rows():
        if row["customer_id"] in blocked:
            continue
        body = row["payload"].encode("utf-8")
        request = urllib.request.Request(target.url, data=body, method="POST", headers={  # noqa: S310 - http(s) only
            "Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(body, target.secret),
            IDEMPOTENCY_HEADER: row["idempotency_key"], "User-Agent": "customercard-outbox"})
        ok, error, refused = _post(request, target.timeout)
        if ok:
            store.mark_delivered(row["id"])
            delivered += 1
        else:
            store.mark_attempt_failed(row["id"], error, backoff(row["attempts"] + 1), refused=refused)
            blocked.add(row["customer_id"])  # later rows of this customer wait for this one
            failed += 1
    return delivered, failed


class OutboxWorker(Rounds):
    """A background thread delivering the outbox every few seconds while the server runs."""

    thread_name = "customercard-outbox"
    failure = "Outbox delivery failed"  # the next round delivers again; the rows are safe in the database

    def __init__(self, store: Store, interval: float = 2.0, target: Receiver | None = None) -> None:
        self.store = store
        self.target = target
        super().__init__(interval)

    def run_once(self) -> tuple[int, int] | None:
        """One round: what is due goes to the economy system, when one is set up; (delivered, failed)."""
        target = self.target or receiver(self.store)
        return deliver_due(self.store, target) if target is not None else None
