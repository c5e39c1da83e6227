"""Follow-ups and the home page in Debian's Chromium against the real server: a follow-up made on a card by one
manager for another shows on the owner's home page (overdue marked) and is done from there; the blocks' links lead
to what they count; axe finds no serious violation on the home page as manager, viewer and administrator, in each
language; a follow-up is reached and marked done on the home page by keyboard alone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from customercard.i18n import _, using_language

from .conftest import eventually, login, wait_idle
from .test_browser_accessibility import LANGUAGES, Scanner, press_until, wait_focus

pytestmark = pytest.mark.browser


def _annas(store) -> list[int]:
    return [int(i) for i in store.sql("SELECT id FROM customers WHERE account_manager = 'anna' AND NOT archived "
                                      "ORDER BY id")["id"]]


def test_a_follow_up_for_a_colleague_shows_on_their_home_page_and_is_done_there(live_server, browser):
    store = live_server.store
    customer_id = _annas(store)[0]
    name = store.get_customer(customer_id).name
    erik = browser.new_context(locale="en")
    page = erik.new_page()
    login(page, live_server.url, "erik", path=f"/card?customer={customer_id}")
    block = page.locator("div.cc-section-follow_ups")
    block.locator("button.cc-new-follow-up").click()
    form = block.locator(".cc-follow-up-form")
    form.locator(".cc-field-what input").fill("Call Anna's contact about the renewal")
    form.locator(".cc-field-owner select").select_option(label="Anna Berg")
    overdue = store.firm_today() - dt.timedelta(days=3)
    # the day picked in the date picker's calendar (its text box takes no typing)
    form.locator(".cc-field-due_on input").first.evaluate("(el, day) => el._flatpickr.setDate(day, true)",
                                                          overdue.isoformat())
    expect(form.locator(".cc-field-due_on input:visible")).to_have_value(overdue.strftime("%d/%m/%Y"))
    form.locator(".cc-follow-up-form-save button").click()
    expect(block).to_contain_text("Follow-up saved.")
    expect(block.locator("#cc-follow-ups-table")).to_contain_text("Call Anna's contact about the renewal")
    saved = store.follow_ups(customer_id=customer_id, owner="anna").iloc[0]
    assert saved.what == "Call Anna's contact about the renewal" and saved.due_on == overdue
    assert store.record_history("follow_ups", int(saved.id)).iloc[-1]["changed_by"] == "erik"
    erik.close()

    anna = browser.new_context(locale="en")
    page = anna.new_page()
    login(page, live_server.url, "anna", path="/")
    expect(page.locator("#cc-header a.active")).to_have_text("Home")
    row = page.locator("#cc-home-follow-ups tr", has_text="Call Anna's contact about the renewal")
    expect(row.locator(".cc-overdue-badge")).to_have_text("overdue")
    expect(row.locator("a")).to_have_text(re.compile(re.escape(name)))
    row.locator("button.cc-follow-up-done").click()
    expect(page.locator("div.cc-section-home-follow_ups")).to_contain_text("marked done")
    expect(page.locator("#cc-home-follow-ups tr", has_text="Call Anna's contact about the renewal")).to_have_count(0)
    done = store.get_follow_up(int(saved.id))
    assert done.done and done.done_by == "anna"
    anna.close()


def test_the_home_blocks_link_to_what_they_count(live_server, browser):
    store = live_server.store
    customer_id = _annas(store)[1]
    name = store.get_customer(customer_id).name
    context = browser.new_context(locale="en")
    page = context.new_page()
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")  # opened: recently viewed
    # (written once the card is served to the browser: on a busy machine a moment after it is drawn)
    eventually(lambda: customer_id in set(store.recent_cards("anna")["customer_id"].astype(int)))
    page.goto(live_server.url + "/")
    page.locator("#cc-home-recent a", has_text=name).click()
    expect(page).to_have_url(f"{live_server.url}/card?customer={customer_id}")
    expect(page.locator("h1").first).to_contain_text(name)

    page.goto(live_server.url + "/")
    page.locator("a.cc-home-pipeline-link").click()
    expect(page).to_have_url(f"{live_server.url}/pipeline?manager=anna")
    expect(page.locator(".cc-pipeline-manager select")).to_have_value("Anna Berg")  # the pipeline of hers

    page.goto(live_server.url + "/")
    page.locator("a.cc-home-search-link").click()
    expect(page).to_have_url(f"{live_server.url}/search?manager=anna")
    behind = store.invoicing_behind(account_manager="anna")
    assert len(behind)  # the demo has customers of hers invoicing less this year
    page.goto(live_server.url + "/")
    first = int(behind.iloc[0].customer_id)
    page.locator(f'#cc-home-behind a[href="/card?customer={first}"]').click()
    expect(page).to_have_url(f"{live_server.url}/card?customer={first}")
    expect(page.locator("#cc-header a", has_text="Customers")).to_have_attribute("href", "/search")
    context.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("login_name,role", [("anna", "manager"), ("vera", "viewer"), ("admin", "admin")])
def test_the_home_page_has_no_serious_violations(live_server, browser, login_name, role, language):
    store = live_server.store
    customer_id = _annas(store)[2]
    for owner, days in (("anna", -2), ("admin", 0), ("erik", 3)):
        follow_up = store.new_follow_up(customer_id, owner=owner)
        follow_up.what = f"Axe follow-up for {owner} ({language})"
        follow_up.due_on = store.firm_today() + dt.timedelta(days=days)
        store.add_follow_up(follow_up, user="anna")
    store.record_card_view(login_name, customer_id)
    context = browser.new_context(locale=language)
    page = context.new_page()
    scanner = Scanner(page, language, role, {})
    login(page, live_server.url, login_name, path="/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    shown = "anna" if login_name == "vera" else login_name  # a viewer sees everyone's
    expect(page.locator("#cc-home-follow-ups")).to_contain_text(f"Axe follow-up for {shown} ({language})")
    expect(page.locator("#cc-home-recent")).to_be_visible()
    scanner.scan("Home")
    context.close()
    scanner.check()


ROW_OF_FOCUS = """() => {
  let el = document.activeElement;
  while (el && el.shadowRoot && el.shadowRoot.activeElement) el = el.shadowRoot.activeElement;
  const row = el && el.closest ? el.closest("tr") : null;
  return row ? row.textContent : null;
}"""


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_follow_up_is_reached_and_marked_done_by_keyboard_alone(live_server, browser, language):
    """From the top of the home page, Tab to the follow-up's Done button (every stop drawn visibly), Enter: it is
    done, and the focus is on what the block says about it, drawn visibly."""
    store = live_server.store
    customer_id = _annas(store)[3]
    follow_up = store.new_follow_up(customer_id, owner="anna")
    follow_up.what = f"Keyboard follow-up ({language})"
    follow_up.due_on = store.firm_today() - dt.timedelta(days=30)  # overdue: among the first rows
    follow_up = store.add_follow_up(follow_up, user="anna")
    with using_language(language):
        done_text = _("Done")
        said = _("“{what}” marked done.").format(what=follow_up.what)
    context = browser.new_context(locale=language)
    page = context.new_page()
    login(page, live_server.url, "anna", path="/")
    expect(page.locator("#cc-home-follow-ups")).to_contain_text(follow_up.what)
    wait_idle(page)

    def on_its_done_button(focus) -> bool:
        return "cc-follow-up-done" in focus["classes"] and follow_up.what in (page.evaluate(ROW_OF_FOCUS) or "")

    button = press_until(page, "Tab", on_its_done_button, limit=150)
    assert button["tag"] == "button" and button["text"] == done_text
    page.keyboard.press("Enter")
    expect(page.locator("div.cc-section-home-follow_ups")).to_contain_text(said)
    expect(page.locator("#cc-home-follow-ups tr", has_text=follow_up.what)).to_have_count(0)
    done = store.get_follow_up(follow_up.id)
    assert done.done and done.done_by == "anna"
    # the focus lands on what the block says, drawn visibly (not lost to the page when the block is redrawn)
    note = wait_focus(page, lambda focus: focus["section"] == "home-follow_ups" and "cc-note" in focus["classes"])
    assert note["text"] == said
    context.close()


def test_long_prose_in_a_follow_up_leaves_the_other_columns_their_words(live_server, browser):
    """A follow-up of a few hundred words squeezed the table's other columns (due day, owner, status, the buttons) to
    a letter's width, on the home page and on the card."""
    store = live_server.store
    customer_id = _annas(store)[0]
    follow_up = store.new_follow_up(customer_id, owner="anna")
    follow_up.what = ("Call them about the renewal and ask whether the new finance director has approved the budget. "
                      * 12).strip()
    store.add_follow_up(follow_up, user="anna")
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    for path, table in (("/", "#cc-home-follow-ups"), (f"/card?customer={customer_id}", "#cc-follow-ups-table")):
        login(page, live_server.url, "anna", path=path) if path == "/" else page.goto(live_server.url + path)
        wait_idle(page)
        widths = page.locator(f"{table} thead th").evaluate_all(
            "cells => cells.map(c => [c.innerText.trim(), c.getBoundingClientRect().width])")
        narrow = [(name, width) for name, width in widths if name and width < 40]
        assert widths and not narrow, (path, widths)
    context.close()
