"""Saved views and bulk changes on Search customers in Debian's Chromium against the real server: a view shared by
one user and opened by another from the menu; a bulk change of 500 customers from the page (preview, progress, the
history written) undone after a reload; and axe on the page with the views menu and the bulk panel open."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import PAGE_VIEWS, login, wait_idle
from .test_browser_accessibility import Scanner, press_until

pytestmark = pytest.mark.browser


def _page(browser):
    return browser.new_context(locale="en").new_page()


def test_a_view_shared_by_one_user_is_opened_by_another_from_the_menu(live_server, browser):
    anna = _page(browser)
    login(anna, live_server.url, "anna", path="/search?status=Active&sort=city&desc=1&col=name&col=city")
    expected = anna.locator(".cc-count-text").inner_text()
    anna.locator(".cc-view-name input").fill("Active, by city")
    anna.locator(".cc-view-shared input").check()
    anna.locator(".cc-view-save button").click()
    expect(anna.locator(".cc-view-message")).to_contain_text("Saved the view “Active, by city”.")
    view = next(v for v in live_server.store.views(user="anna") if v.name == "Active, by city")
    assert view.shared and "col=city" in view.search
    expect(anna).to_have_url(re.compile(rf"view={view.id}"))  # the URL carries the view open
    anna.context.close()

    erik = _page(browser)
    login(erik, live_server.url, "erik")
    erik.locator(".cc-views-menu summary").click()
    link = erik.get_by_role("link", name="Active, by city")
    expect(link).to_be_visible()
    link.click()
    # the link names the view only (a menu drawn before the view was changed opens it as it is saved now)
    expect(erik).to_have_url(re.compile(rf"/search\?view={view.id}$"))
    wait_idle(erik)
    expect(erik.locator(".cc-count-text")).to_have_text(expected)
    expect(erik.locator("table th")).to_have_count(2)  # the view's columns: name and city
    expect(erik.locator(".cc-views-menu summary")).to_have_text("Saved views: Active, by city")
    expect(erik.locator(".cc-view-delete")).to_be_hidden()  # Anna's view: Erik may not delete it
    erik.context.close()


def test_deleting_a_view_by_keyboard_leaves_the_focus_on_its_message(live_server, browser):
    """The Delete button hides as the view goes: the message takes the focus (it fell to the page's body)."""
    anna = _page(browser)
    login(anna, live_server.url, "anna", path="/search?status=Active")
    anna.locator(".cc-views-menu summary").click()
    anna.locator(".cc-view-name input").fill("Short-lived")
    anna.locator(".cc-view-save button").click()
    expect(anna.locator(".cc-view-message")).to_contain_text("Saved the view “Short-lived”.")
    anna.locator(".cc-view-delete button").focus()
    anna.keyboard.press("Enter")
    message = anna.locator(".cc-view-message p")
    expect(message).to_contain_text("Deleted the view")
    expect(message).to_be_focused()
    anna.context.close()


def test_a_bulk_change_of_500_customers_from_the_page_and_its_undo(live_server, browser):
    store = live_server.store
    customers = []
    for n in range(500):
        customer = store.new_customer()
        customer.param.update(name=f"Bulkpage customer {n:03}", account_manager="anna")
        customers.append(customer)
    ids = [c.id for c in store.create_customers(customers, user="anna")]
    page = _page(browser)
    login(page, live_server.url, "anna", path="/search?q=Bulkpage")
    expect(page.locator(".cc-count-text")).to_contain_text("of 500 customers")
    page.locator(".cc-bulk-toggle button").click()
    expect(page.locator(".cc-select-row").first).to_be_visible()  # rows can be checked while the panel is open
    page.locator(".cc-bulk-all input").check()
    expect(page.locator(".cc-bulk-count")).to_have_text("500 customers chosen")
    page.locator(".cc-bulk-value select").select_option(label="Erik Nilsson")
    page.locator(".cc-bulk-preview button").click()
    expect(page.locator(".cc-bulk-summary")).to_have_text(
        "500 customers: account manager Anna Berg → Erik Nilsson (500)")
    page.locator(".cc-bulk-apply button").click()
    progress = page.locator("progress.cc-bulk-progress")
    expect(progress).to_have_attribute("max", "500")
    expect(page.locator(".cc-bulk-status")).to_contain_text("Changed 500 customers.", timeout=60_000)
    expect(progress).to_have_attribute("value", "500")
    # the keyboard focus went with the Apply button, now disabled: the result takes it, not the page
    expect(page.locator(".cc-bulk-status p[data-cc-focus]")).to_be_focused()
    changes = store.sql("SELECT customer_id, kind, changed_by, new_value FROM customer_changes "
                        "WHERE field = 'account_manager' AND kind = 'bulk' AND new_value = 'erik'")
    assert set(ids) <= set(changes["customer_id"]) and set(changes["changed_by"]) == {"anna"}
    assert {store.get_customer(i).account_manager for i in ids[::50]} == {"erik"}

    someone = store.get_customer(ids[3])  # changed by someone else meanwhile: the undo leaves it alone
    someone.account_manager = "maria"
    store.save_customer(someone, user="maria")
    page.reload()  # the undo survives a reload: the batch is in the database
    wait_idle(page)
    page.locator(".cc-bulk-toggle button").click()
    expect(page.locator(".cc-bulk-last")).to_contain_text("Account manager → Erik Nilsson, 500 customers")
    page.locator(".cc-bulk-undo button").click()
    status = page.locator(".cc-bulk-status")
    expect(status).to_contain_text("Undone: 499 customers have their values back.", timeout=60_000)
    expect(status.locator(".cc-bulk-skipped li")).to_have_count(1)
    expect(status.locator(".cc-bulk-skipped li")).to_contain_text("Bulkpage customer 003")
    expect(status.locator(".cc-bulk-skipped li")).to_contain_text("changed by Maria Jensen")
    expect(page.locator(".cc-bulk-undo")).to_be_hidden()
    assert store.get_customer(ids[3]).account_manager == "maria"
    assert {store.get_customer(i).account_manager for i in ids[4::25]} == {"anna"}
    page.context.close()


def test_the_page_with_the_views_menu_and_the_bulk_panel_open_has_no_serious_violations(live_server, browser):
    page = _page(browser)
    scanner = Scanner(page, "en", "manager", {})
    login(page, live_server.url, "anna", path="/search?sort=city&col=name&col=city&col=status")
    page.locator(".cc-views-menu summary").click()
    page.locator(".cc-bulk-toggle button").click()
    page.locator(".cc-select-row").first.check()
    expect(page.locator(".cc-bulk-count")).to_have_text("1 customer chosen")
    page.locator(".cc-bulk-preview button").click()
    expect(page.locator(".cc-bulk-summary p")).to_be_visible()
    scanner.scan("Customers, views menu and bulk panel open")
    scanner.check()
    page.context.close()


def test_checking_customers_by_keyboard_keeps_the_focus_on_the_box(live_server, browser):
    """The list is drawn again as a customer is checked: the focus stays on that customer's box (it went back up to
    "Change many customers…", and each further customer meant tabbing down through the panel again)."""
    page = _page(browser)
    login(page, live_server.url, "anna", path="/search")
    page.locator(".cc-bulk-toggle button").click()
    boxes = page.locator("input.cc-select-row")
    expect(boxes.first).to_be_visible()
    count = page.locator(".cc-bulk-count")
    boxes.nth(2).focus()  # (not the first: what took the focus back before could land on the first box by chance)
    for chosen, index in enumerate((2, 3), start=1):
        if index != 2:  # on to the next customer's box by keyboard, as a person goes
            press_until(page, "Tab", lambda f: f["tag"] == "input" and "cc-select-row" in f["cls"].split())
        page.keyboard.press("Space")
        # the server has the choice (it says how many are chosen) and the list is drawn again with it
        expect(count).to_contain_text(f"{chosen} customer")
        wait_idle(page)
        page.wait_for_timeout(500)
        expect(boxes.nth(index)).to_be_checked()
        expect(boxes.nth(index)).to_be_focused()
    page.context.close()


#: In one turn of the page: check the list's first customer, then draw the rows again before the server can have
#: answered; whether the box is checked after.
CHECK_THEN_REDRAW = "() => {" + PAGE_VIEWS + """
  const list = views.find((v) => v.model && v.model.data && v.model.data.select_label !== undefined
                          && Array.isArray(v.model.data.rows));
  deep("input.cc-select-row")[0].click();
  const caption = list.model.data.caption;
  list.model.data.caption = caption + " ";  // the rows drawn again before the server can have answered
  list.model.data.caption = caption;
  return deep("input.cc-select-row")[0].checked;
}"""


def test_a_customer_checked_stays_checked_while_the_list_is_drawn_again(live_server, browser):
    """The list is drawn again (a customer saved elsewhere refreshes the page) between a check and the server's
    answer: the box stays checked (it was drawn from what the server last said — unchecked — until its answer came)."""
    page = _page(browser)
    login(page, live_server.url, "anna", path="/search")
    page.locator(".cc-bulk-toggle button").click()
    expect(page.locator(".cc-select-row").first).to_be_visible()
    wait_idle(page)
    assert page.evaluate(CHECK_THEN_REDRAW) is True
    expect(page.locator(".cc-bulk-count")).to_have_text("1 customer chosen")
    expect(page.locator(".cc-select-row").first).to_be_checked()
    page.context.close()
