"""The economy-system outbox against a real HTTP receiver on loopback: written with the change, delivered
in order per customer with a valid signature and idempotency key, nothing lost while the receiver is down,
resumed after a restart, parked failures retried by an administrator."""

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


class Receiver:
    """A small economy-system endpoint: verifies signatures, remembers what arrived, can be 'down'."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.keys: list[str] = []
        self.bad_signatures = 0
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
                if not hmac.compare_digest(expected, self.headers.get("X-Customercard-Signature", "")):
                    receiver.bad_signatures += 1
                    self.send_response(401)
                elif receiver.status != 200:
                    self.send_response(receiver.status)
                else:
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
    receiver.status = 500
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


def test_wrong_secret_is_refused_by_the_receiver(empty_store, receiver):
    store = empty_store
    c = linked(store)
    c.phone = "08-333 33 33"
    store.save_customer(c, user="anna")
    integration.deliver_due(store, integration.Receiver(url=receiver.url, secret="wrong"))
    assert receiver.bad_signatures == 1 and not receiver.received
    assert "401" in store.outbox(c.id).iloc[0]["last_error"]


def test_signature_and_backoff():
    assert integration.sign(b"{}", "k") == "sha256=" + hmac.new(b"k", b"{}", hashlib.sha256).hexdigest()
    assert [integration.backoff(n) for n in (1, 2, 3, 20)] == [2, 4, 8, 300]
