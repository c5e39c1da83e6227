"""A page whose connection to the server is lost says so in its reader's language, and that what they typed is still
on the page (nothing more can be saved from it); the typing stays, and leaving still asks first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, rich_customers

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("locale", "said"), [("sv-SE", "Anslutningen till servern bröts"),
                                              ("en-GB", "The connection to the server was lost")])
def test_a_lost_connection_is_said_in_the_readers_language_and_the_typing_stays(live_server, browser, locale, said):
    customer_id = rich_customers(live_server.store)[6]
    context = browser.new_context(locale=locale)
    page = context.new_page()
    sockets = []

    def through(socket) -> None:  # the page's websocket, passed on to the server as it is
        socket.connect_to_server()
        sockets.append(socket)
    page.route_web_socket(re.compile(r"/card/ws"), through)
    login(page, live_server.url, "erik", path=f"/card?customer={customer_id}")
    contact = page.locator("div.cc-section-contact")
    contact.locator("button.cc-tool-edit").click()
    phone = contact.locator(".cc-field-phone input")
    expect(phone).to_be_visible()
    phone.fill("+46 8 765 43 21")
    assert sockets, "the card's websocket was not seen"
    sockets[-1].close()  # the network between the page and the server gone
    notice = page.locator("#cc-connection-lost")
    expect(notice).to_contain_text(said)
    expect(notice).to_contain_text("—")
    expect(notice).to_have_attribute("role", "alert")
    expect(phone).to_have_value("+46 8 765 43 21")
    assert page.evaluate("() => window.ccUnsaved.unsaved()") is True
    context.close()
