"""What an open page and an unauthenticated request can still reach once they should reach nothing: the header's
super search after the page's login session ended (logged out in another tab, the user deactivated), and Panel's
``/components`` route, which imported any module a URL named — before any login."""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import login, rich_customers


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_component_route_imports_no_module_a_url_names(live_server):
    for module in ("this", "customercard.__main__"):  # not imported by the server: stays so
        assert module not in sys.modules
        assert _status(f"{live_server.url}/components/{module}/x/_css/y.css") == 404
        assert module not in sys.modules, module
    assert _status(f"{live_server.url}/login") == 200  # the server answers on


@pytest.mark.parametrize("how", ["logout", "deactivated"])
def test_an_ended_sessions_page_searches_nothing(live_server, page, how):
    store = live_server.store
    login(page, live_server.url, "erik" if how == "deactivated" else "anna")
    stem = store.get_customer(rich_customers(store)[0]).name.split()[0][:5]
    box = page.locator("#cc-super-search")
    box.fill(stem)
    expect(page.locator("li.hit").first).to_be_visible()
    if how == "logout":
        other = page.context.new_page()  # the same browser: its cookie, another tab
        other.goto(f"{live_server.url}/logout")
        other.close()
    else:
        user = store.get_user("erik")
        user.active = False
        store.update_user(user, by="admin")
    expect(page.locator("#cc-session-ended")).to_be_visible()
    box.fill(stem[:4])
    box.fill(stem)
    expect(page.locator("li.hit")).to_have_count(0)
    if how == "deactivated":
        user = store.get_user("erik")
        user.active = True
        store.update_user(user, by="admin")


@pytest.mark.parametrize("headers", [{"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                                     {"Referer": "https://elsewhere.example/page"}])
def test_a_logout_link_on_another_site_logs_nobody_out(live_server, headers):
    import http.cookiejar

    from .conftest import form_login

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    assert form_login(opener, live_server.url, "anna").url.endswith("/search")
    request = urllib.request.Request(f"{live_server.url}/logout", headers=headers)
    assert "/login" not in opener.open(request).url  # it opened the app instead
    assert opener.open(f"{live_server.url}/search").url.endswith("/search")  # still logged in
    own = urllib.request.Request(f"{live_server.url}/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert "logged_out=1" in opener.open(own).url  # the page's own link logs out
    assert "/login" in opener.open(f"{live_server.url}/search").url


def test_the_older_customer_api_takes_no_write_from_another_sites_page(live_server):
    """``/api/customers/<id>`` authenticates by the login cookie: a PATCH a page of another site makes the browser
    send is refused, as /api/v1 refuses it; the page's own (or a script's, which sends no Origin) is taken."""
    import json

    from .conftest import rich_customers
    from .http_client import Client

    store = live_server.store
    customer_id = rich_customers(store)[0]
    client = Client(live_server.url)
    assert client.log_in("anna", "demo").status == 302
    version = store.get_customer(customer_id).version
    body = json.dumps({"version": version, "changes": {"phone": "+46 8 111 22 33"}}).encode()
    for headers in ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
        refused = client.request("PATCH", f"/api/customers/{customer_id}", body=body,
                                 headers={"Content-Type": "text/plain", **headers})
        assert refused.status == 403, headers
    assert store.get_customer(customer_id).version == version
    assert client.patch_customer(customer_id, version, {"phone": "+46 8 111 22 33"}).status == 200
