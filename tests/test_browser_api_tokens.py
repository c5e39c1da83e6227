"""API tokens in Debian's Chromium against a real server: made on the profile page, used from Python, revoked there,
and the next call refused; a page of another site cannot write through the API with the browser's login."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.error
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import free_port, login, wait_idle

pytestmark = pytest.mark.browser


def call(url: str, token: str, method: str = "GET", body: dict | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict, Any]:
    """A script's call with urllib: (status, JSON body, headers)."""
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json",
                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:  # a loopback test server
            return reply.status, json.loads(reply.read() or b"null"), reply.headers
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers


def test_a_token_made_on_the_profile_page_works_from_python_until_revoked(live_server, browser):
    store = live_server.store
    context = browser.new_context()
    page = context.new_page()
    login(page, live_server.url, "kari", path="/profile")
    block = page.locator(".cc-api-tokens")
    expect(block).to_contain_text("No API tokens")
    page.locator(".cc-token-name input").fill("Browser-made script")
    page.locator(".cc-token-create button").click()
    secret_box = page.locator(".cc-token-secret-value")
    expect(secret_box).to_be_visible()
    expect(page.locator(".cc-token-secret")).to_contain_text("shown only this once")
    secret = secret_box.inner_text().strip()
    assert secret.startswith("cc_")
    row = page.locator(".cc-token-entry", has_text="Browser-made script")
    expect(row).to_contain_text("never")

    base = f"{live_server.url}/api/v1"
    status, me, _headers = call(f"{base}/me", secret)
    assert (status, me["login"], me["read_only"]) == (200, "kari", False)
    customer_id = int(store.list_customers(limit=1)[0]["id"][0])
    status, _customer, headers = call(f"{base}/customers/{customer_id}", secret)
    assert status == 200
    status, changed, _headers = call(f"{base}/customers/{customer_id}", secret, "PATCH",
                                     {"fields": {"nickname": "Renamed by a script"}}, {"If-Match": headers["ETag"]})
    assert status == 200 and changed["updated_by"] == "kari"
    assert store.history(customer_id)["changed_by"].iloc[0] == "kari"

    page.reload()
    wait_idle(page)
    row = page.locator(".cc-token-entry", has_text="Browser-made script")
    expect(row).not_to_contain_text("never")  # its last use is shown
    expect(page.locator(".cc-token-secret-value")).to_have_count(0)  # the secret was shown once only
    row.locator(".cc-token-revoke button").click()
    expect(page.locator(".cc-token-note")).to_contain_text("The token is revoked")
    expect(page.locator(".cc-token-entry")).to_have_count(0)

    status, problem, headers = call(f"{base}/me", secret)
    assert status == 401 and problem["status"] == 401 and "not valid" in problem["detail"]
    assert headers["Content-Type"].startswith("application/problem+json")
    context.close()


class _AttackerPage(http.server.BaseHTTPRequestHandler):
    target = ""
    customer_id = 0

    def do_GET(self) -> None:
        url = f"{self.target}/api/v1/customers/{self.customer_id}"
        body = (f'<form id="form" method="post" enctype="text/plain" action="{url}/comments">'
                '<input name=\'{"fields": {"body": "Hacked", "x": "\' value=\'"}}\'></form>'
                f'<script>fetch("{url}", {{method: "PATCH", credentials: "include", headers: {{"Content-Type": '
                '"application/json", "If-Match": "\\"v1\\""}, body: JSON.stringify({fields: {nickname: "Hacked"}})})'
                '.then(r => { document.title = "fetched " + r.status; }, e => { document.title = "refused"; });'
                '</script>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:  # http.server's hook: nothing logged
        return None


def test_a_page_of_another_site_cannot_write_through_the_api_with_my_login(live_server, browser):
    store = live_server.store
    customer_id = int(store.list_customers(limit=1, offset=3)[0]["id"][0])
    before = store.get_customer(customer_id)
    comments = store.comment_count(customer_id)
    _AttackerPage.target, _AttackerPage.customer_id = live_server.url, customer_id
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _AttackerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    context = browser.new_context()
    page = context.new_page()
    try:
        login(page, live_server.url, "anna")  # logged in, in the same browser
        attacker = f"http://localhost:{server.server_address[1]}/"  # another site (another host name)
        page.goto(attacker)
        page.wait_for_function("document.title.length > 0", timeout=15_000)
        assert page.title() == "refused"  # no CORS for other sites: the browser does not even send it
        page.goto(attacker)
        with page.expect_navigation():
            page.evaluate("document.getElementById('form').submit()")
        expect(page.locator("body")).to_contain_text("Authentication needed")  # the cookies stayed home: 401
        after = store.get_customer(customer_id)
        assert (after.nickname, after.version) == (before.nickname, before.version)
        assert store.comment_count(customer_id) == comments
    finally:
        context.close()
        server.shutdown()
        server.server_close()
