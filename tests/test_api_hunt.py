"""Limits and refusals found wanting on a live server: the store's endpoint (/api/v1/rpc) is held to the limits of
/api/v1 (the request budget, the throttle on failed tokens per address, 429 with Retry-After), a body nested too deep
is a 400 on both, and a segment filter with no criterion (``seg.=…``) is a 400, not ignored."""

from __future__ import annotations

import json
from http import HTTPStatus

import pytest

import customercard as cc
from customercard.errors import PermissionDenied
from customercard.store import Store

from .api_support import Api, serve_api
from .conftest import copy_database
from .http_client import Client
from .test_api import aged, problem

RPC = "/api/v1/rpc/get_customer"
CALL = json.dumps({"arguments": {"customer_id": 1}}).encode()
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def served(demo_template, tmp_path_factory):
    store = Store(copy_database(demo_template, tmp_path_factory.mktemp("api_hunt")))
    served = serve_api(store)
    yield served
    served.server.stop()
    store.close()


def rpc(client: Client, token: str, body: bytes = CALL, path: str = RPC):
    return client.request("POST", path, body=body, headers={"Authorization": f"Bearer {token}", **JSON})


def rpc_error(reply, status: int) -> dict:
    assert reply.status == status, (reply.status, reply.body)
    return reply.json()["error"]


# -- the request budget ----------------------------------------------------------------------------------------------
def test_the_rpc_endpoint_spends_the_tokens_request_budget(budgeted):
    client = Client(budgeted.url)
    token = budgeted.tokens.manager
    assert [rpc(client, token).status for _ in range(3)] == [200, 200, 200]
    refused = rpc(client, token)
    assert "more requests than 3 a minute" in rpc_error(refused, 429)["message"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 20
    assert problem(Api(budgeted.url, token=token).get("/me"), 429)  # one budget for /api/v1 and its rpc
    assert rpc(client, budgeted.tokens.viewer).status == 200  # another token, another budget
    hello = client.get("/api/v1/rpc", headers={"Authorization": f"Bearer {budgeted.tokens.viewer}"})
    assert hello.status == 200
    for _ in range(2):
        rpc(client, budgeted.tokens.viewer)
    assert rpc(client, budgeted.tokens.viewer).status == 429  # the hello spends from it too
    with pytest.raises(PermissionDenied, match="more requests than 3"):
        cc.connect(budgeted.url, token=token).get_customer(1)


def test_a_notebook_past_its_token_s_budget_waits_as_told_and_goes_on(budgeted):
    """A notebook's loop past the token's requests a minute failed halfway with a PermissionDenied that said
    nothing of when to go on: a call told to wait (429, Retry-After) waits as told and is sent again; the server's
    refusal says how long (TooManyAttempts.wait_seconds, still a PermissionDenied)."""
    import time

    from customercard.errors import TooManyAttempts

    analyst = cc.connect(budgeted.url, token=budgeted.tokens.admin)  # (its hello spends one)
    customer_id = int(budgeted.store.find_customers(limit=1)[0]["id"].iloc[0])
    started = time.monotonic()
    names = [analyst.get_customer(customer_id).name for _ in range(3)]  # the third waits for the budget
    assert len(set(names)) == 1 and time.monotonic() - started >= 1
    reply = rpc(Client(budgeted.url), budgeted.tokens.admin)
    body = rpc_error(reply, 429)
    assert body["wait_seconds"] == int(reply.headers["Retry-After"]) >= 1
    from customercard.store import wire

    refused = wire.decode_error(body)
    assert isinstance(refused, TooManyAttempts) and isinstance(refused, PermissionDenied)
    assert refused.wait_seconds == body["wait_seconds"] and "more requests than 3" in str(refused)


def test_the_rpc_endpoint_with_the_local_key_has_no_budget(budgeted):
    local = budgeted.server.local_key
    client = Client(budgeted.url, headers={"X-Customercard-Key": local, **JSON})
    assert {client.request("POST", RPC, body=CALL).status for _ in range(6)} == {200}


# -- failed tokens ---------------------------------------------------------------------------------------------------
def test_failed_tokens_on_the_rpc_endpoint_are_slowed_per_address_and_logged_with_it(served):
    store = served.store
    client = Client(served.url, headers={"X-Forwarded-For": "198.51.100.61"})
    for attempt in range(10):
        assert rpc_error(rpc(client, f"cc_{attempt:043d}"), 401)["type"] == "PermissionDenied"
        aged(store)
    assert rpc(client, "cc_" + "1" * 43).status == 401
    slowed = rpc(client, served.tokens.manager)  # the next try waits, the right token too
    assert "Too many failed attempts" in rpc_error(slowed, 429)["message"]
    assert int(slowed.headers["Retry-After"]) >= 1
    assert problem(client.get("/api/v1/me", headers={"Authorization": f"Bearer {served.tokens.manager}"}), 429)
    assert rpc(Client(served.url, headers={"X-Forwarded-For": "198.51.100.62"}), served.tokens.manager).status == 200
    log = store.admin_log(limit=500)
    here = log[log["item"].str.contains("198.51.100.61", regex=False)]
    assert (here["new_value"] == "unknown API token").sum() == 11 and (here["area"] == "Logins").all()
    store.db.execute("DELETE FROM login_throttle WHERE key LIKE ?", ["token-address:198.51.100.6%"])


def test_the_rpc_endpoint_locks_an_address_after_30_failed_tokens(served):
    store = served.store
    client = Client(served.url, headers={"X-Forwarded-For": "198.51.100.71"})
    for attempt in range(30):
        aged(store)
        rpc(client, f"cc_{attempt:043d}")
    locked = rpc(client, served.tokens.manager)
    assert "Too many failed attempts" in rpc_error(locked, 429)["message"] and int(locked.headers["Retry-After"]) > 60
    log = store.admin_log(limit=500)
    assert ((log["item"].str.contains("198.51.100.71", regex=False))
            & (log["new_value"] == "address locked for 15 minutes after 30 failed API token checks")).sum() == 1
    store.db.execute("DELETE FROM login_throttle WHERE key LIKE ?", ["token-address:198.51.100.7%"])


# -- bodies nested too deep -----------------------------------------------------------------------------------------
DEEP = "[" * 100_000 + "]" * 100_000


def test_a_body_nested_too_deep_is_a_400_on_the_api(served):
    body = ('{"fields": ' + DEEP + "}").encode()
    reply = Api(served.url, token=served.tokens.manager).call("POST", "/customers", raw=body, headers=JSON)
    assert problem(reply, 400)["detail"] == "The body is not valid JSON."


@pytest.mark.parametrize("depth", [100_000, 990])
def test_a_body_nested_too_deep_is_a_400_on_the_rpc_endpoint(served, depth):
    body = ('{"arguments": {"customer_id": ' + "[" * depth + "]" * depth + "}}").encode()
    reply = rpc(Client(served.url), served.tokens.manager, body)
    assert rpc_error(reply, 400)["message"].startswith("Send JSON like")
    backup = Client(served.url, headers={"X-Customercard-Key": served.server.local_key, **JSON})
    reply = backup.request("POST", "/api/v1/backup", body=('{"path": ' + DEEP + "}").encode())
    assert rpc_error(reply, 400)["message"].startswith("Send JSON like")


# -- a segment filter with no criterion ------------------------------------------------------------------------------
def test_a_segment_filter_without_a_criterion_is_a_400(served):
    client = Api(served.url, token=served.tokens.manager)
    body = problem(client.get("/customers?seg.=Small"), 400)
    assert body["errors"] == {"seg.": "Not a parameter of this request."}
    assert client.get("/customers?seg.Size=Small").status == 200


# -- a year's invoices ---------------------------------------------------------------------------------------------
def test_a_customers_invoices_of_one_year_or_project(served):
    from .conftest import rich_customers

    client = Api(served.url, token=served.tokens.manager)
    customer_id = rich_customers(served.store)[0]
    everything = client.get(f"/customers/{customer_id}/invoices")
    assert everything.status == 200 and everything.json()["items"]
    year = int(served.store.invoiced_per_year(customer_id).query("amount != 0")["year"].iloc[-1])
    reply = client.get(f"/customers/{customer_id}/invoices?year={year}")
    assert reply.status == 200
    rows = reply.json()["items"]
    assert rows and all(row["invoice_date"].startswith(str(year)) for row in rows)
    bar = served.store.invoiced_per_year(customer_id).set_index("year")["amount"][year]
    assert round(sum(row["amount_base"] for row in rows), 2) == pytest.approx(bar)
    none = client.get(f"/customers/{customer_id}/invoices?project=0")
    assert none.status == 200 and all(row["project_id"] is None for row in none.json()["items"])
    for wrong in ("year=soon", "year=0", "project=-1", "month=3"):
        assert client.get(f"/customers/{customer_id}/invoices?{wrong}").status == 400, wrong
    last = client.get(f"/customers/{customer_id}/invoices?year=9999")  # the document's last year (it was a 500)
    assert last.status == 200 and last.json()["items"] == []
    big = client.get(f"/customers/{customer_id}/invoices?project=1000000000")  # within the bound it says
    assert big.status == 200 and big.json()["items"] == []
    assert problem(client.get(f"/customers/{customer_id}/invoices?project=2147483648"), 400)


# -- bodies too large -------------------------------------------------------------------------------------------------
def test_a_body_too_large_is_refused_413_before_it_is_read_even_without_a_login(served):
    """A body declared (or found) longer than 1,000,000 bytes is answered 413 at once, as problem details — not
    read whole into the server's memory first (up to Tornado's 100 MB), and not a bare 400 above that."""
    import socket
    import urllib.parse

    where = urllib.parse.urlsplit(served.url)

    def answer_to(head: str, body: bytes) -> str:
        with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
            conn.sendall(f"POST /api/v1/customers HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: "
                         f"application/json\r\n{head}\r\n".encode() + body)
            return conn.recv(65536).decode("utf-8", "replace")

    chunk = b" " * 400_000
    for head, body in ((f"Content-Length: {5_000_000}\r\n", b"{" * 1000),  # and no more: answered on its length
                       (f"Content-Length: {150_000_000}\r\n", b"{" * 1000),
                       ("Transfer-Encoding: chunked\r\n", (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") * 3)):
        answer = answer_to(head, body)
        top, _gap, text = answer.partition("\r\n\r\n")
        assert top.startswith("HTTP/1.1 413"), answer[:300]
        assert "application/problem+json" in top and '"status": 413' in text


@pytest.mark.parametrize(("method", "path"), [("POST", "/login"), ("PATCH", "/api/customers/1"), ("POST", "/search"),
                                             ("POST", "/no-such-page"), ("POST", "/card?customer=1")])
def test_a_long_body_to_any_other_address_is_refused_as_it_arrives_not_held_first(served, method, path):
    """Pages, the login, the older cookie API and unknown addresses read up to 1 MiB of a body: one declared longer
    is refused at once (the connection closed), without a login — not read whole first (Tornado's 100 MB each: eight
    anonymous requests held 800 MB of the server's memory)."""
    import socket
    import urllib.parse

    where = urllib.parse.urlsplit(served.url)
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(f"{method} {path} HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 95000000\r\n\r\n".encode() + b"a" * 1000)
        answer = conn.recv(65536)  # the server would wait for the other 94.999 MB (socket.timeout)
    assert answer == b"" or answer.startswith((b"HTTP/1.1 4", b"HTTP/1.1 3")), answer[:200]
    within = Client(served.url).request("POST", "/login", form={"username": "x" * 500_000, "password": "y"})
    assert within.status in (HTTPStatus.OK, HTTPStatus.FOUND, HTTPStatus.FORBIDDEN, HTTPStatus.TOO_MANY_REQUESTS)


def test_the_store_api_still_takes_a_call_longer_than_the_other_addresses_limit(served):
    """The store API reads its bodies up to their own bound (64 MiB), above the 1 MiB every other address takes."""
    body = CALL[:-1] + b" " * 3_000_000 + b"}"
    assert rpc(Client(served.url), served.tokens.manager, body=body).status == HTTPStatus.OK


def test_the_older_cookie_api_answers_400_to_a_body_python_cannot_read(served):
    """A version of 1e999 or changes nested past Python's depth were a bare 500 with a traceback in the log."""
    browser = Client(served.url)
    assert browser.log_in("erik", "demo").status == HTTPStatus.FOUND
    for body in (b'{"version": 1e999, "changes": {"phone": "+46 8 123 45 67"}}',
                 b'{"version": 1, "changes": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"):
        reply = browser.request("PATCH", "/api/customers/1", body=body, headers=JSON)
        assert reply.status == HTTPStatus.BAD_REQUEST and "Send JSON like" in reply.json()["error"], reply.body[:200]


def test_the_older_cookie_api_changes_the_criteria_it_names_and_says_only_what_it_sent(served):
    """The older API's ``segments`` emptied every criterion it did not name (as /api/v1's once did); a stale PATCH of
    the name alone answered 409 with 'attempted' set for fields it never sent; 2 MB closed the connection unanswered."""
    store = served.store
    criteria = [c for c in store.criteria() if len(c.values) >= 2][:2]
    customer_id = int(store.sql("SELECT min(id) AS id FROM customers WHERE NOT archived AND merged_into IS NULL")
                      ["id"][0])
    customer = store.get_customer(customer_id)
    customer.segments = {criteria[0].name: [criteria[0].values[0]], criteria[1].name: [criteria[1].values[0]]}
    version = store.save_customer(customer, user="anna").version
    browser = Client(served.url)
    assert browser.log_in("erik", "demo").status == HTTPStatus.FOUND
    changed = browser.request("PATCH", f"/api/customers/{customer_id}", headers=JSON, body=json.dumps(
        {"version": version, "changes": {"segments": {criteria[0].name: [criteria[0].values[1]]}}}).encode())
    assert changed.status == HTTPStatus.OK, changed.body[:300]
    assert store.get_customer(customer_id).segments == {criteria[0].name: [criteria[0].values[1]],
                                                        criteria[1].name: [criteria[1].values[0]]}
    stale = browser.request("PATCH", f"/api/customers/{customer_id}", headers=JSON, body=json.dumps(
        {"version": version, "changes": {"name": "Renamed From An Old Version"}}).encode())
    assert stale.status == HTTPStatus.CONFLICT
    conflicts = {c["field"]: c for c in stale.json()["conflicts"]}
    assert conflicts[f"segments.{criteria[0].name}"]["attempted"] is None  # not sent: not said to be attempted
    too_long = browser.request("PATCH", f"/api/customers/{customer_id}", headers=JSON, body=b" " * 2_000_000)
    assert too_long.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE and "at most" in too_long.json()["error"]
    assert store.get_customer(customer_id).name != "Renamed From An Old Version"


def test_the_store_api_answers_a_method_it_does_not_take_405_with_allow_in_its_error_shape(served):
    """GET /api/v1/rpc/<method>, GET /api/v1/backup: Tornado's HTML page without Allow, it was."""
    client = Client(served.url)
    for method, path, allow in (("GET", "/api/v1/rpc/get_customer", "POST"), ("GET", "/api/v1/backup", "POST"),
                                ("PUT", "/api/v1/rpc/nope", "POST"), ("POST", "/api/v1/rpc/changes", "GET")):
        reply = client.request(method, path, body=b"{}" if method in ("PUT", "POST") else None,
                               headers={"Authorization": f"Bearer {served.tokens.manager}", **JSON})
        assert reply.status == 405 and reply.headers["Allow"] == allow, (path, reply.status, reply.body[:200])
        assert reply.headers["Content-Type"].startswith("application/json") and "Use " in reply.json()["error"][
            "message"]


def test_a_store_api_call_is_answered_before_its_body_is_read_when_its_sender_is_unknown_or_it_is_too_long(served):
    """/api/v1/rpc/* read bodies up to 100 MB before anything was checked, even without a credential."""
    import socket
    import urllib.parse

    where = urllib.parse.urlsplit(served.url)

    def answer_to(headers: str) -> str:
        with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
            conn.sendall(f"POST /api/v1/rpc/get_customer HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: "
                         f"application/json\r\nContent-Length: 50000000\r\n{headers}\r\n".encode() + b"{" * 100)
            return conn.recv(65536).decode("utf-8", "replace")  # and no more of the body is sent

    assert answer_to("").startswith("HTTP/1.1 401")
    assert answer_to("Authorization: Bearer not-a-token\r\n").startswith("HTTP/1.1 401")
    with socket.create_connection((where.hostname, where.port), timeout=10) as conn:
        conn.sendall(f"POST /api/v1/rpc/get_customer HTTP/1.1\r\nHost: {where.netloc}\r\nAuthorization: Bearer "
                     f"{served.tokens.manager}\r\nContent-Length: 500000000\r\n\r\n".encode())
        assert conn.recv(65536).decode("utf-8", "replace").startswith("HTTP/1.1 413")
    assert rpc(Client(served.url), served.tokens.manager).status == 200  # a call as ever


# -- a broken character quoted in a refusal ---------------------------------------------------------------------------
def test_a_lone_surrogate_is_refused_for_its_field_not_a_server_error(served):
    from .test_api import api, customer_ids, problem

    customer_id = customer_ids(served)[5]
    client = api(served)
    tag = client.get(f"/customers/{customer_id}").headers["ETag"]
    for fields in ({"industry": "\ud800"}, {"status": "x\udfff"}, {"account_manager": "\ud800"},
                   {"segments": {"\ud800": ["x"]}}, {"\ud800": "x"}):
        refused = problem(client.patch(f"/customers/{customer_id}", fields, if_match=tag), 422)
        assert refused["errors"], fields
    assert client.get(f"/customers/{customer_id}").headers["ETag"] == tag  # nothing written
    assert problem(client.post(f"/customers/{customer_id}/events", {"fields": {"title": "t", "event_type": "\ud800"}}),
                   422)
    reply = rpc(Client(served.url), served.tokens.manager, json.dumps({"arguments": {"login": "\ud800"}}).encode(),
                "/api/v1/rpc/get_user")
    assert reply.status < 500, (reply.status, reply.body)
