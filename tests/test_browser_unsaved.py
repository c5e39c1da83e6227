"""Typing not saved is not lost unasked: leaving a card while one of its forms holds changed text asks first (the
browser's "Leave site?"); a form saved or cancelled, or text typed into a search box, never asks."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, rich_customers, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def customers(live_server) -> list[int]:
    return rich_customers(live_server.store)


def section(page, key: str):
    return page.locator(f"div.cc-section-{key}")


class Dialogs:
    """The page's dialogs, answered: "stay" (dismiss: the page stays) until told to leave."""

    def __init__(self, page) -> None:
        self.seen: list[str] = []
        self.leave = False
        page.on("dialog", self._answer)

    def _answer(self, dialog) -> None:
        self.seen.append(dialog.type)
        if self.leave:
            dialog.accept()
        else:
            dialog.dismiss()


def leave_by_the_header(page, dialogs: Dialogs, expect_ask: bool) -> None:
    """Click the header's brand (a link to Search customers); asked, the page stays where it was."""
    before, asked = page.url, len(dialogs.seen)
    page.locator("nav.cc-nav a.cc-brand").click(no_wait_after=True)
    if expect_ask:
        for _ in range(100):  # (the dialog is answered here, on Playwright's side, as its event arrives)
            if len(dialogs.seen) > asked:
                break
            page.wait_for_timeout(50)
        page.wait_for_timeout(200)
        assert dialogs.seen[asked:] == ["beforeunload"], dialogs.seen
        assert page.url == before
    else:
        page.wait_for_url("**/search**")
        assert dialogs.seen[asked:] == []


def typed_asks(page, dialogs: Dialogs, field, text: str) -> None:
    """Nothing typed yet: no question; ``text`` typed into ``field``: leaving asks, and staying keeps it."""
    assert page.evaluate("() => window.ccUnsaved.unsaved()") is False
    field.fill(text)
    assert page.evaluate("() => window.ccUnsaved.unsaved()") is True
    leave_by_the_header(page, dialogs, expect_ask=True)
    expect(field).to_have_value(text)


def test_leaving_a_card_with_typing_not_saved_asks_first(live_server, page, customers):
    customer_id = customers[3]
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    dialogs = Dialogs(page)
    contact = section(page, "contact")
    stored_phone = live_server.store.get_customer(customer_id).phone

    contact.locator("button.cc-tool-edit").click()
    phone = contact.locator(".cc-field-phone input")
    expect(phone).to_be_visible()
    typed_asks(page, dialogs, phone, "+46 8 111 22 33")  # an open form alone does not ask; typed, it does

    # typed back to what it was: nothing to lose
    phone.fill(stored_phone)
    assert page.evaluate("() => window.ccUnsaved.unsaved()") is False
    phone.fill("+46 8 111 22 44")

    # saved: the form is gone and leaving does not ask
    contact.locator(".cc-save button").click()
    expect(contact.locator(".cc-contact-details")).to_contain_text("+46 8 111 22 44")
    leave_by_the_header(page, dialogs, expect_ask=False)
    assert live_server.store.get_customer(customer_id).phone == "+46 8 111 22 44"



def test_a_new_comment_or_a_choice_not_saved_asks_and_search_boxes_never_do(live_server, page, customers):
    customer_id = customers[3]
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    dialogs = Dialogs(page)

    # a new comment typed asks; cancelled, it does not
    comments = section(page, "comments")
    comments.locator("button.cc-new-comment-button").click()
    comments.locator(".cc-new-comment textarea").fill("Half a thought")
    leave_by_the_header(page, dialogs, expect_ask=True)
    comments.locator(".cc-comment-cancel button").click()
    expect(comments.locator(".cc-new-comment textarea")).to_have_count(0)
    assert page.evaluate("() => window.ccUnsaved.unsaved()") is False

    # a choice changed in a form (the header's status) counts as typing does; cancelled, it is gone
    header = section(page, "header")
    header.locator("button.cc-tool-edit").click()
    status = header.locator(".cc-field-status select")
    expect(status).to_be_visible()
    chosen = status.evaluate("s => s.selectedIndex")
    status.select_option(index=0 if chosen else 1)
    assert page.evaluate("() => window.ccUnsaved.unsaved()") is True
    header.locator(".cc-cancel button").click()
    expect(header.locator(".cc-field-status select")).to_have_count(0)
    assert page.evaluate("() => window.ccUnsaved.unsaved()") is False

    # the super search typed into and left by Enter: no question, the hit's card opens
    name = live_server.store.get_customer(customers[0]).name
    search = page.locator(".cc-search-slot input")
    search.fill(name)
    expect(page.locator(".cc-search-slot li").first).to_be_visible()
    search.press("Enter")
    page.wait_for_url(f"**/card?customer={customers[0]}")
    assert dialogs.seen.count("beforeunload") == 1

    # and the question, answered "Leave", leaves: nothing stored changes
    wait_idle(page)
    contact = section(page, "contact")
    contact.locator("button.cc-tool-edit").click()
    contact.locator(".cc-field-phone input").fill("+46 8 999 99 99")
    dialogs.leave = True
    before = live_server.store.get_customer(customers[0]).phone
    page.locator("nav.cc-nav a.cc-brand").click()
    page.wait_for_url("**/search**")
    assert dialogs.seen.count("beforeunload") == 2
    assert live_server.store.get_customer(customers[0]).phone == before


def test_a_new_customer_typed_but_not_created_asks_and_once_created_moves_on_unasked(live_server, page):
    """The New customer page is one form: leaving it with typing not created asks first (staying keeps the typing);
    created, the page opens the new card without a question."""
    login(page, live_server.url, "anna", path="/new")
    dialogs = Dialogs(page)
    form = page.locator(".cc-new-customer-form")
    name = form.locator(".cc-field-name input")
    expect(name).to_be_visible()
    typed_asks(page, dialogs, name, "Quokka Unsaved Typing AB")
    assert live_server.store.search("Quokka Unsaved Typing").empty  # asked, not created

    page.locator(".cc-create button").click()
    page.wait_for_url(re.compile(r"/card\?customer=\d+$"))
    wait_idle(page)
    expect(page.locator("#cc-customer-name")).to_have_text("Quokka Unsaved Typing AB")
    assert dialogs.seen == ["beforeunload"]  # the one question above, none as the new card opened


def test_an_opportunity_edited_on_the_pipeline_board_asks_until_saved(live_server, page):
    """The board's opportunity editor (and the home page's follow-up editor, made alike) asks before typing not saved
    is left; saved, it is gone from the page and leaving does not ask."""
    store = live_server.store
    opened = store.open_opportunities()
    opportunity_id = int(opened["id"].iloc[0])
    login(page, live_server.url, "anna", path="/pipeline")
    dialogs = Dialogs(page)
    shown = page.locator(f".cc-board-card[data-id='{opportunity_id}']")
    expect(shown).to_be_visible()
    shown.locator("dl dt").first.click()
    form = page.locator(".cc-board-form")
    amount = form.locator(".cc-field-amount input")
    expect(amount).to_be_visible()
    typed_asks(page, dialogs, amount, "654321")
    form.locator(".cc-board-form-save button").click()
    expect(page.locator(".cc-board-message")).to_contain_text("Saved")
    assert store.get_opportunity(opportunity_id).amount == 654321.0
    leave_by_the_header(page, dialogs, expect_ask=False)


def test_a_follow_up_edited_on_the_home_page_asks_until_cancelled(live_server, page, customers):
    store = live_server.store
    follow_up = store.new_follow_up(customers[5], owner="olli")
    follow_up.what, follow_up.due_on = "Ask about the framework agreement", store.firm_today()
    follow_up = store.add_follow_up(follow_up, user="olli")
    login(page, live_server.url, "olli", path="/")
    dialogs = Dialogs(page)
    page.locator(f"button.cc-edit-follow-up[data-id='{follow_up.id}']").click()
    form = page.locator(".cc-follow-up-form")
    what = form.locator(".cc-field-what input, .cc-field-what textarea").first
    expect(what).to_be_visible()
    typed_asks(page, dialogs, what, "Ask about the framework agreement and the prices")
    form.locator(".cc-follow-up-form-cancel button").click()
    expect(form).to_have_count(0)
    leave_by_the_header(page, dialogs, expect_ask=False)
    assert store.get_follow_up(follow_up.id).what == "Ask about the framework agreement"


def test_the_firms_settings_typed_but_not_saved_ask_and_saved_do_not(live_server, page):
    """The administration's settings form (and its user form, made alike) asks before typing not saved is left;
    saved, the form is drawn anew from what is stored and leaving does not ask."""
    store = live_server.store
    before = store.settings().start_address
    login(page, live_server.url, "admin", path="/admin")
    dialogs = Dialogs(page)
    page.locator(".cc-admin-tabs [role=tablist] [role=tab]").nth(1).click()
    address = page.locator(".cc-field-start_address input")
    expect(address).to_be_visible()
    changed = "Vasagatan 7, 111 20 Stockholm" if before != "Vasagatan 7, 111 20 Stockholm" else "Kungsgatan 1"
    typed_asks(page, dialogs, address, changed)
    page.locator(".cc-admin-save-settings button").click()
    expect(page.locator("#cc-status")).to_have_text("Settings saved.")
    assert store.settings().start_address == changed
    leave_by_the_header(page, dialogs, expect_ask=False)
    settings = store.settings()
    settings.start_address = before
    store.save_settings(settings, user="admin")
