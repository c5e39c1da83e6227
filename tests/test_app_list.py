"""The served customer list behind the login, driven in Debian's Chromium."""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args, **_kwargs):  # urllib's hook: None follows no redirect
        return None


def test_every_page_requires_a_login(live_server):
    opener = urllib.request.build_opener(_NoRedirect)
    for path in ("/", "/search", "/search?q=x"):
        with pytest.raises(urllib.error.HTTPError) as info:
            opener.open(live_server.url + path)
        assert info.value.code == 302
        assert "/login?next=" in info.value.headers["Location"]


def test_wrong_password_is_refused_with_a_message(live_server, page):
    page.goto(live_server.url + "/search")
    page.fill("#username", "anna")
    page.fill("#password", "wrong")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_contain_text("Wrong login or password")
    assert "/login" in page.url


def test_list_search_paging_sorting_and_logout(live_server, page):
    login(page, live_server.url, "anna")
    expect(page.locator("#cc-user")).to_contain_text("Anna Berg")
    table = page.locator("table")
    expect(table.locator("tbody tr")).to_have_count(25)
    count = page.locator(".cc-count-text")
    expect(count).to_contain_text("1–25 of")
    total = int(re.search(r"of ([\d,]+) customers", count.inner_text()).group(1).replace(",", ""))
    assert total == live_server.store.list_customers()[1]

    page.get_by_role("button", name="Next ›").click()
    expect(count).to_contain_text("26–50 of")

    first_cell = table.locator("tbody tr td:first-child").first
    for descending in (False, True):
        expected = live_server.store.list_customers(limit=25, sort="number", descending=descending)[0]
        page.get_by_role("button", name="Number").click()
        expect(first_cell).to_have_text(str(expected["number"].iloc[0]))
        expect(count).to_contain_text("1–25 of")  # sorting starts again at page 1
        numbers = [int(n) for n in table.locator("tbody tr td:first-child").all_inner_texts()]
        assert numbers == list(expected["number"])

    first = live_server.store.list_customers(limit=1)[0].iloc[0]
    page.get_by_placeholder("Filter by name").fill(first["name"])
    expect(table.locator("tbody tr").first).to_contain_text(first["name"])
    link = table.locator("tbody tr").first.locator("a").first
    assert link.get_attribute("href") == f"/card?customer={int(first['id'])}"

    page.click("#cc-logout")
    expect(page.locator("body")).to_contain_text("You are logged out")
    page.goto(live_server.url + "/search")
    assert "/login" in page.url


def test_deactivated_user_is_shown_the_door(live_server, browser):
    from customercard.models import User

    store = live_server.store
    store.add_user(User(login="temp", name="Temp Orary", role="manager"), "temporary-pass-42", by="system:test")
    context = browser.new_context()
    page = context.new_page()
    login(page, live_server.url, "temp", "temporary-pass-42")
    expect(page.locator("#cc-user")).to_contain_text("Temp Orary")
    user = store.get_user("temp")
    user.active = False
    store.update_user(user, by="system:test")
    page.goto(live_server.url + "/search")
    assert "/login" in page.url
    context.close()
