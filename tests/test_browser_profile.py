"""The profile page, the throttle's message and a cross-site login form, in Debian's Chromium against a real server."""

from __future__ import annotations

import datetime as dt
import http.server
import threading

import pytest
from playwright.sync_api import expect

from customercard.store.database import utcnow

from .conftest import free_port, login, wait_idle

pytestmark = pytest.mark.browser


def browser_at(browser, address: str):
    """A browser context whose requests reach the server through the loopback proxy as from ``address``."""
    return browser.new_context(extra_http_headers={"X-Forwarded-For": address})


def ended_out(page, url: str) -> None:
    """The page's next load goes to the login form."""
    page.goto(url + "/search")
    expect(page.locator("#login-form")).to_be_visible()


def test_my_sessions_end_one_and_log_out_everywhere(live_server, browser):
    contexts = {address: browser_at(browser, address) for address in ("198.51.100.71", "198.51.100.72",
                                                                      "198.51.100.73")}
    pages = {address: context.new_page() for address, context in contexts.items()}
    for page in pages.values():
        login(page, live_server.url, "maria")
    mine = pages["198.51.100.71"]
    mine.click("#cc-profile-link")
    wait_idle(mine)
    assert mine.url.endswith("/profile")
    expect(mine.locator(".cc-profile-who")).to_contain_text("Maria Jensen")
    expect(mine.locator(".cc-profile-who")).to_contain_text("manager")
    rows = mine.locator(".cc-profile-session-row")
    expect(rows).to_have_count(3)
    this = mine.locator(".cc-profile-this")
    expect(this).to_have_count(1)
    expect(this).to_contain_text("This session")
    expect(this).to_contain_text("198.51.100.71")
    expect(this).to_contain_text("Chrom")  # the browser, named from its User-Agent

    other = mine.locator(".bk-Row", has=mine.locator(".cc-profile-session-row", has_text="198.51.100.72"))
    other.locator(".cc-profile-end button").last.focus()  # by keyboard
    mine.keyboard.press("Enter")
    expect(mine.locator(".cc-profile-sessions-note")).to_contain_text("The session has ended")
    # the End button went with its row: the message takes the focus (it fell to the page's body)
    expect(mine.locator(".cc-profile-sessions-note .cc-profile-message")).to_be_focused()
    # the page the ended session had open stops showing customers at once, without a reload
    expect(pages["198.51.100.72"].locator("#cc-session-ended")).to_contain_text("You are logged out")
    expect(rows).to_have_count(2)
    ended_out(pages["198.51.100.72"], live_server.url)
    pages["198.51.100.73"].goto(live_server.url + "/search")
    wait_idle(pages["198.51.100.73"])
    expect(pages["198.51.100.73"].locator("#cc-user")).to_contain_text("Maria Jensen")

    mine.locator(".cc-profile-everywhere button").click()
    expect(mine.locator("body")).to_contain_text("You are logged out")
    assert "/login" in mine.url
    ended_out(pages["198.51.100.73"], live_server.url)
    ended_out(mine, live_server.url)
    assert live_server.store.sessions("maria").empty
    for context in contexts.values():
        context.close()


def test_changing_my_password_on_the_profile_page(live_server, browser):
    mine_context, other_context = browser.new_context(), browser.new_context()
    mine, other = mine_context.new_page(), other_context.new_page()
    login(mine, live_server.url, "olli", path="/profile")
    login(other, live_server.url, "olli")

    def attempt(current: str, new: str, again: str) -> None:
        mine.locator(".cc-profile-current input").fill(current)
        mine.locator(".cc-profile-new input").fill(new)
        mine.locator(".cc-profile-again input").fill(again)
        mine.locator(".cc-profile-change button").click()

    attempt("demo", "short", "short")
    expect(mine.locator(".cc-profile-password-error")).to_contain_text("at least 10 characters")
    attempt("demo", "password123", "password123")
    expect(mine.locator(".cc-profile-password-error")).to_contain_text("most common passwords")
    attempt("demo", "a-long-fine-phrase", "a-long-fine-phrose")
    expect(mine.locator(".cc-profile-again-error")).to_contain_text("differ")
    expect(mine.locator(".cc-profile-password-error")).to_be_empty()
    attempt("not-my-password", "a-long-fine-phrase", "a-long-fine-phrase")
    expect(mine.locator(".cc-profile-current_password-error")).to_contain_text("not your current password")
    expect(mine.locator(".cc-profile-password-note")).to_contain_text("not changed")
    assert live_server.store.authenticate("olli", "demo") is not None

    attempt("demo", "a-long-fine-phrase", "a-long-fine-phrase")
    expect(mine.locator(".cc-profile-password-note")).to_contain_text("Your password is changed")
    expect(mine.locator(".cc-profile-session-row")).to_have_count(1)
    assert live_server.store.authenticate("olli", "a-long-fine-phrase") is not None
    ended_out(other, live_server.url)
    mine.goto(live_server.url + "/search")  # this session stays
    wait_idle(mine)
    expect(mine.locator("#cc-user")).to_contain_text("Olli Virtanen")
    mine_context.close()
    other_context.close()


def test_the_throttle_says_how_long_to_wait_in_the_login_form(live_server, browser):
    store = live_server.store
    context = browser_at(browser, "198.51.100.80")
    page = context.new_page()
    page.goto(live_server.url + "/search")
    for attempt in range(10):
        page.fill("#username", "kari")
        page.fill("#password", f"wrong-{attempt}")
        page.click("#login-button")
        expect(page.locator("#login-error, #login-wait").first).to_be_visible()
        store.db.execute("UPDATE login_throttle SET last_failure_at = ? WHERE locked_until IS NULL",
                         [utcnow() - dt.timedelta(minutes=2)])  # past the growing wait, not the lockout
    page.fill("#username", "kari")
    page.fill("#password", "demo")
    page.click("#login-button")
    expect(page.locator("#login-wait")).to_contain_text("Too many failed logins; try again in")
    expect(page.locator("#login-error")).to_have_count(0)  # the password was not even looked at
    assert "/login" in page.url
    context.close()


class _AttackerPage(http.server.BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (f'<form method="post" action="{self.target}/login"><input name="username" value="anna">'
                f'<input name="password" value="demo"><input name="next" value="/search">'
                f'<button id="go">Win a prize</button></form>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args) -> None:  # http.server's hook: nothing logged
        return None


def test_a_login_form_on_another_site_is_refused(live_server, page):
    _AttackerPage.target = live_server.url
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _AttackerPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.click("#go")
        expect(page.locator("#login-refused")).to_contain_text("another site")
        page.goto(live_server.url + "/search")
        expect(page.locator("#login-form")).to_be_visible()  # not logged in
    finally:
        server.shutdown()
        server.server_close()
