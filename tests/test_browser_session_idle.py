"""A login session lapses on an open page too: a page left alone past the idle time is told it is logged out (the
server ends lapsed sessions every few seconds, not only when the next request comes), and nothing more is saved from
it; a page in use — keys typed, buttons clicked — keeps its session alive, as new pages would."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from playwright.sync_api import expect

from customercard import app
from customercard import server as server_module
from customercard.store import Store

from .conftest import copy_database, free_port, login, rich_customers, wait_for_port


@pytest.fixture
def quick_lapse(demo_template, tmp_path, monkeypatch):
    """A server whose sessions lapse after 4 seconds unused, looked at twice a second; a page tells it it is in
    use at most every half second."""
    monkeypatch.setattr(server_module, "IN_USE_EVERY", 0.5)
    store = Store(copy_database(demo_template, tmp_path))
    port = free_port()
    server = app.make_server(store, port=port)
    server.gate.idle = dt.timedelta(seconds=4)
    server.sweep_every = 0.5
    server.start(threaded=True)
    wait_for_port(port)
    yield server, store, f"http://127.0.0.1:{port}"
    server.stop()
    store.close()


def test_a_page_left_alone_past_the_idle_time_is_logged_out_and_saves_nothing(quick_lapse, page):
    _server, store, base = quick_lapse
    customer_id = rich_customers(store)[0]
    login(page, base, "anna", path=f"/card?customer={customer_id}")
    expect(page.locator("#cc-session-ended")).to_be_visible(timeout=15_000)
    assert page.locator(".cc-section").count() == 0  # the card is gone: nothing to save from
    expect(page.locator("#cc-alert")).to_contain_text("You are logged out")  # said at once
    assert store.sessions("anna").empty  # ended in the database, not only on the page
    page.goto(f"{base}/card?customer={customer_id}")
    expect(page).to_have_url(f"{base}/login?next=%2Fcard%3Fcustomer%3D{customer_id}", timeout=10_000)


def test_a_page_in_use_keeps_its_session_past_the_idle_time(quick_lapse, page):
    _server, store, base = quick_lapse
    login(page, base, "anna", path="/search")
    box = page.locator(".cc-filter-text input")
    started = time.monotonic()
    while time.monotonic() - started < 10:  # longer than the idle time, typing all along
        box.press_sequentially("ab", delay=150)
        box.fill("")
        time.sleep(0.5)
    assert page.locator("#cc-session-ended").count() == 0
    assert len(store.sessions("anna")) == 1
    expect(page.locator("#cc-session-ended")).to_be_visible(timeout=15_000)  # then left alone: it lapses
