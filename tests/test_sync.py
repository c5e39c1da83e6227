"""The economy-system outbox against a real HTTP receiver on loopback: written with the change, delivered
in order per customer with a valid signature (over a timestamp and the body) and idempotency key, nothing lost
while the receiver is down, resumed after a restart, parked failures retried by an administrator, a redirect
never taken for a delivery, and a captured delivery refused when replayed later."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import customercard as cc
from customercard import integration
from customercard.store import Store

SECRET = "s3cret-for-tests"


def signature_is_valid(header: str, body: bytes, max_age: float = 300) -> bool:
    """The receiver's own check, written from the README (not with the package): t=…,v1=… over "<t>.<body>"."""
    fields = dict(item.split("=", 1) for item in header.split(",") if "=" in item)
    if not fields.get("t", "").isdigit() or abs(time.time() - int(fields["t"])) > max_age:
        return False
    expected = hmac.new(SECRET.encode(), fields["t"].encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class Receiver:
    """A small economy-system endpoint: verifies signatures, remembers what arrived, can be 'down' or answer
    with a redirect (to /moved on itself, where it counts what comes)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.keys: list[str] = []
        self.bad_signatures = 0
        self.status = 200
        self.drip = 0.0  # seconds over which the answer's headers come, a piece each 0.2 s (0: at once)
        self.at_moved: list[str] = []  # the methods of requests that followed a redirect
        self.captured: list[tuple[str, bytes]] = []  # (signature header, body) of each delivery, for replays
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # the http.server API
                receiver.at_moved.append("GET")
                self.send_response(200)
                self.end_headers()

            def do_POST(self):  # the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.drip:  # a slow receiver: each read is quick, the whole answer is not
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for piece in range(int(receiver.drip / 0.2)):
                        time.sleep(0.2)
                        self.wfile.write(f"X-Piece: {piece}\r\n".encode())
                        self.wfile.flush()
                    self.wfile.write(b"Content-Length: 0\r\n\r\n")
                    return
                if self.path == "/moved":
                    receiver.at_moved.append("POST")
                    self.send_response(200)
                elif not signature_is_valid(self.headers.get("X-Customercard-Signature", ""), body):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                elif 300 <= receiver.status < 400:
                    self.send_response(receiver.status)
                    self.send_header("Location", "/moved")
                elif receiver.status != 200:
                    self.send_response(receiver.status)
                else:
                    receiver.captured.append((self.headers["X-Customercard-Signature"], body))
                    key = self.headers["Idempotency-Key"]
                    if key not in receiver.keys:  # idempotent: a repeat is accepted but not applied twice
                        receiver.keys.append(key)
                        receiver.received.append(json.loads(body))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/customers"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def linked(store, name: str = "Linked AB"):
    c = store.create_customer(user="anna", name=name, phone="08-123 45 67")
    store.link_customer(c.id, "Fortnox", f"FN-{c.id}", user="boss")
    return store.get_customer(c.id)


def test_a_change_of_a_linked_customer_is_queued_in_the_same_transaction(empty_store):
    store = empty_store
    c = linked(store)
    c.phone = "08-765 43 21"
    c.industry = "Retail"  # not synced
    store.save_customer(c, user="anna")
    rows = store.outbox(c.id)
    assert len(rows) == 1
    payload = json.loads(rows.iloc[0]["payload"])
    assert payload["changes"] == {"phone": {"old": "+46 8 123 45 67", "new": "+46 8 765 43 21"}}
    assert payload["external_id"] == f"FN-{c.id}" and payload["system"] == "Fortnox"
    c.industry = "Consulting"
    store.save_customer(c, user="anna")
    assert len(store.outbox(c.id)) == 1  # industry is not contact information
    c.email = "not valid"
    with pytest.raises(cc.ValidationError):
        store.save_customer(c, user="anna")
    assert len(store.outbox(c.id)) == 1  # a refused save queues nothing
    unlinked = store.create_customer(user="anna", name="Unlinked AB")
    unlinked.phone = "08-111 11 11"
    store.save_customer(unlinked, user="anna")
    assert store.outbox(unlinked.id).empty


def test_receiver_down_then_up_delivers_everything_once_in_order(empty_store, receiver):
    store = empty_store
    target = integration.Receiver(url=receiver.url, secret=SECRET, timeout=2)
    a, b = linked(store, "Alpha AB"), linked(store, "Beta AB")
    receiver.status = 503
    for city in ("Lund", "Malmö", "Ystad"):
        a = store.get_customer(a.id)
        a.visit_address.city = city
        store.save_customer(a, user="anna")
    b.invoice_address.line1 = "Box 7"
    b.use_invoice_address = True
    store.save_customer(b, user="anna")
    delivered, failed = integration.deliver_due(store, target)
    assert delivered == 0 and failed == 2  # only the oldest row of each customer is tried
    assert store.outbox_counts()["pending"] == 4
    assert "503" in store.outbox(a.id).iloc[-1]["last_error"]

    receiver.status = 200
    deadline = time.monotonic() + 30
    while store.outbox_counts()["pending"] and time.monotonic() < deadline:
        store.db.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL '1 second' WHERE status = 'pending'")
        integration.deliver_due(store, target)
    assert store.outbox_counts() == {"pending": 0, "failed": 0, "delivered": 4}
    alpha = [p for p in receiver.received if p["customer_id"] == a.id]
    assert [p["changes"]["visit_address.city"]["new"] for p in alpha] == ["Lund", "Malmö", "Ystad"]
    assert len(receiver.keys) == len(set(receiver.keys)) == 4 and receiver.bad_signatures == 0
    assert store.get_customer(a.id).erp_synced_at is not None


def test_a_restart_resumes_delivery(empty_store, receiver, tmp_path):
    store = empty_store
    c = linked(store)
    c.phone = "08-222 22 22"
    store.save_customer(c, user="anna")
    path = store.location
    store.close()  # the server stops before delivering

    reopened = Store(path)
    worker = integration.OutboxWorker(reopened, interval=0.1,
                                      target=integration.Receiver(url=receiver.url, secret=SECRET)).start()
    try:
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        worker.stop()
    assert receiver.received[0]["changes"]["phone"]["new"] == "+46 8 222 22 22"
    assert reopened.outbox_counts()["delivered"] == 1
    reopened.close()


def test_failures_are_parked_and_an_admin_retries(empty_store, receiver):
    store = empty_store
    target = integration.Receiver(url=receiver.url, secret=SECRET)
    c = linked(store)
    c.website = "www.linked.se"
    store.save_customer(c, user="anna")
    receiver.status = 422  # the receiver refuses the row (it answers, and not with a 2xx)
    for _ in range(20):
        store.db.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL '1 second' WHERE status = 'pending'")
        integration.deliver_due(store, target)
    assert store.outbox_counts()["failed"] == 1
    with pytest.raises(cc.PermissionDenied):
        store.retry_outbox(user="anna")
    receiver.status = 200
    assert store.retry_outbox(user="boss") == 1
    integration.deliver_due(store, target)
    assert store.outbox_counts()["delivered"] == 1 and len(receiver.received) == 1
    assert "retry" in set(store.admin_log()["item"])


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_receiver_down_or_busy_for_long_is_tried_until_it_is_back_without_an_administrator(empty_store, receiver,
                                                                                             status):
    """Twenty failed rounds of a receiver that answers 5xx (or is busy): the row stays pending, tried every few
    minutes (at most 5), and goes as soon as the receiver is back — parked only when the receiver refuses it."""
    store = empty_store
    target = integration.Receiver(url=receiver.url, secret=SECRET)
    c = linked(store)
    c.website = "www.linked.se"
    store.save_customer(c, user="anna")
    receiver.status = status
    for _ in range(20):
        store.db.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL '1 second' WHERE status = 'pending'")
        integration.deliver_due(store, target)
    assert store.outbox_counts()["failed"] == 0 and store.outbox_counts()["pending"] == 1
    assert len(store.outbox(status="pending")) == 1 and integration.backoff(20) == 300  # every 5 min at most
    receiver.status = 200
    store.db.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL '1 second' WHERE status = 'pending'")
    integration.deliver_due(store, target)
    assert store.outbox_counts()["delivered"] == 1 and len(receiver.received) == 1


def test_a_receiver_that_drips_its_answer_is_a_failed_attempt_after_the_timeout(empty_store, receiver):
    """The timeout is for the whole answer, not each read of it: a receiver taking 3 s to answer, a piece every
    0.2 s, fails the attempt at 1 s (it is tried again, and delivered once it answers in time)."""
    store = empty_store
    target = integration.Receiver(url=receiver.url, secret=SECRET, timeout=1)
    c = linked(store)
    c.website = "www.linked.se"
    store.save_customer(c, user="anna")
    receiver.drip = 3.0
    started = time.monotonic()
    assert integration.deliver_due(store, target) == (0, 1)
    assert time.monotonic() - started < 2.5
    assert store.outbox_counts()["pending"] == 1 and "within 1 s" in store.outbox(status="pending")["last_error"][0]
    receiver.drip = 0.0
    store.db.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL '1 second' WHERE status = 'pending'")
    assert integration.deliver_due(store, target) == (1, 0)


def test_wrong_secret_is_refused_by_the_receiver(empty_store, receiver):
    store = empty_store
    c = linked(store)
    c.phone = "08-333 33 33"
    store.save_customer(c, user="anna")
    integration.deliver_due(store, integration.Receiver(url=receiver.url, secret="wrong"))
    assert receiver.bad_signatures == 1 and not receiver.received
    assert "401" in store.outbox(c.id).iloc[0]["last_error"]


def test_signature_and_backoff():
    expected = hmac.new(b"k", b"1700000000.{}", hashlib.sha256).hexdigest()
    assert integration.sign(b"{}", "k", timestamp=1700000000) == f"t=1700000000,v1={expected}"
    assert [integration.backoff(n) for n in (1, 2, 3, 20)] == [2, 4, 8, 300]


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_a_redirect_is_a_failed_delivery_retried_later(empty_store, receiver, status):
    store = empty_store
    target = integration.Receiver(url=receiver.url, secret=SECRET, timeout=2)
    c = linked(store)
    c.phone = "08-444 44 44"
    store.save_customer(c, user="anna")
    receiver.status = status
    assert integration.deliver_due(store, target) == (0, 1)
    row = store.outbox(c.id).iloc[0]
    assert (row["status"], row["attempts"]) == ("pending", 1)
    assert str(status) in row["last_error"] and "redirects are not followed" in row["last_error"]
    assert receiver.at_moved == [] and not receiver.received  # neither followed as a GET nor re-POSTed
    assert integration.deliver_due(store, target) == (0, 0)  # not due again before its backoff
    receiver.status = 200
    store.db.execute("UPDATE outbox SET next_attempt_at = now() - INTERVAL '1 second' WHERE status = 'pending'")
    assert integration.deliver_due(store, target) == (1, 0)
    assert store.outbox(c.id).iloc[0]["attempts"] == 2 and receiver.received[0]["changes"]["phone"]["new"] \
        == "+46 8 444 44 44"


def test_a_captured_delivery_is_refused_when_replayed_or_changed(empty_store, receiver):
    store = empty_store
    c = linked(store)
    c.phone = "08-555 55 55"
    store.save_customer(c, user="anna")
    integration.deliver_due(store, integration.Receiver(url=receiver.url, secret=SECRET))
    header, body = receiver.captured[0]
    assert integration.verify_signature(header, body, SECRET)
    sent_at = int(dict(part.split("=", 1) for part in header.split(","))["t"])
    # the same delivery sent again six minutes later: refused, by the package's check and the README's
    assert not integration.verify_signature(header, body, SECRET, now=sent_at + 360)
    assert integration.verify_signature(header, body, SECRET, now=sent_at + 240)
    tampered = body.replace(b"+46 8 555 55 55", b"+46 8 999 99 99")
    assert tampered != body and not integration.verify_signature(header, tampered, SECRET)
    assert not integration.verify_signature(header, body, "another secret")
    # a fresh timestamp put on the old signature does not sign the body
    forged = header.replace(f"t={sent_at}", f"t={sent_at + 360}")
    assert not integration.verify_signature(forged, body, SECRET, now=sent_at + 360)
    for broken in ("", "v1=abc", "t=soon,v1=abc", f"t={sent_at}", "sha256=" + header.split("v1=")[1]):
        assert not integration.verify_signature(broken, body, SECRET, now=sent_at)
    old = integration.sign(body, SECRET, timestamp=int(time.time()) - 3600)
    assert not signature_is_valid(old, body) and signature_is_valid(integration.sign(body, SECRET), body)


def test_a_delivery_error_is_kept_in_the_source_language_and_said_in_the_reader_s():
    """The worker has no reader: it keeps the error in English, and each page says it in its reader's language
    (a Swedish administrator read "Receiver not reachable: …", a Danish one would have read Swedish)."""
    from customercard.i18n import using_language
    from customercard.integration import NOT_FOLLOWED, UNREACHABLE, said_error

    stored = UNREACHABLE.format(reason="[Errno 111] Connection refused")
    assert stored == "Receiver not reachable: [Errno 111] Connection refused"
    with using_language("sv"):
        said = said_error(stored)
        assert said.endswith("[Errno 111] Connection refused") and "Receiver" not in said
        assert said_error(f"HTTP 302 Found {NOT_FOLLOWED}").startswith("HTTP 302 Found (")
        assert "redirects" not in said_error(f"HTTP 302 Found {NOT_FOLLOWED}")
        assert said_error("HTTP 500 Internal Server Error") == "HTTP 500 Internal Server Error"
    with using_language("da"):
        assert said_error(stored) != said and "Receiver" not in said_error(stored)
    assert said_error(stored) == stored and said_error(None) == ""
