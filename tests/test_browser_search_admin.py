"""Super search, Search customers, new customer, merge and administration in Debian's Chromium."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, rich_customers, wait_idle

pytestmark = pytest.mark.browser


def test_super_search_type_arrow_enter_opens_the_card(live_server, page):
    store = live_server.store
    login(page, live_server.url, "anna")
    customer = store.get_customer(rich_customers(store)[0])
    stem = customer.name.split()[0][:5]
    hits = store.search(stem, limit=8)
    assert len(hits) >= 2
    box = page.locator("#cc-super-search")
    box.fill(stem)
    options = page.locator("li.hit")
    expect(options.first).to_contain_text(hits.iloc[0]["name"])
    box.press("ArrowDown")
    expect(options.nth(1)).to_have_class(re.compile("active"))
    box.press("Enter")
    page.wait_for_url(re.compile(rf"/card\?customer={int(hits.iloc[1]['id'])}$"))
    wait_idle(page)
    expect(page.locator("#cc-customer-name")).to_have_text(hits.iloc[1]["name"])


def test_a_search_that_finds_nothing_after_one_that_found_says_so(live_server, page):
    login(page, live_server.url, "anna")
    box = page.locator("#cc-super-search")
    box.fill("berg")
    expect(page.locator("li.hit").first).to_be_visible()
    box.fill("qzxwv")
    expect(page.locator("li.none")).to_have_text("No customer matches.")
    expect(page.locator("li.hit")).to_have_count(0)  # not the hits for "berg"


def test_enter_right_after_typing_opens_the_best_hit(live_server, page):
    store = live_server.store
    customer = store.get_customer(rich_customers(store)[1])
    login(page, live_server.url, "anna", path=f"/card?customer={rich_customers(store)[0]}")
    box = page.locator("#cc-super-search")
    box.fill(str(customer.number))
    box.press("Enter")
    page.wait_for_url(re.compile(rf"/card\?customer={customer.id}$"))


def test_escape_closes_the_hits_and_keeps_the_text_arrow_down_opens_them_again(live_server, page):
    """The combobox pattern: the first Escape closes the list only (it emptied the box, the search box's own
    Escape); with the list closed, Escape clears it."""
    store = live_server.store
    customer = store.get_customer(rich_customers(store)[1])
    login(page, live_server.url, "anna")
    box = page.locator("#cc-super-search")
    box.fill(customer.name)
    expect(page.locator("li.hit").first).to_contain_text(customer.name)
    box.press("Escape")
    expect(page.locator("#cc-super-search-hits")).to_be_hidden()
    expect(box).to_have_value(customer.name)
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press("ArrowDown")
    expect(page.locator("#cc-super-search-hits")).to_be_visible()
    box.press("Escape")
    box.press("Escape")
    expect(box).to_have_value("")


def test_enter_opens_a_customer_whose_name_has_an_ampersand(live_server, page):
    customer = live_server.store.create_customer(user="anna", name="Sand & Grus <Väst> AB")
    login(page, live_server.url, "anna")
    box = page.locator("#cc-super-search")
    box.fill("Sand & Grus <Väst>")
    expect(page.locator("li.hit").first).to_contain_text("Sand & Grus <Väst> AB")  # text, not markup
    box.press("Enter")
    page.wait_for_url(re.compile(rf"/card\?customer={customer.id}$"))


def test_a_filtered_search_is_a_bookmark(live_server, browser):
    first = browser.new_context()
    page = first.new_page()
    login(page, live_server.url, "anna")
    page.locator(".cc-filter-status input").first.click()
    page.get_by_role("option", name="Active", exact=True).click()
    page.keyboard.press("Escape")
    count = page.locator(".cc-count-text")
    expected = live_server.store.find_customers(__import__("customercard").CustomerQuery(statuses=["Active"]))[1]
    expect(count).to_contain_text(f"of {expected:,} customer")
    page.locator(".cc-filter-text input").fill("a")
    page.wait_for_function("() => window.location.search.includes('q=a')")
    bookmark = page.url
    shown = count.inner_text()
    assert "status=Active" in bookmark
    first.close()

    second = browser.new_context()
    page = second.new_page()
    login(page, live_server.url, "anna", path=bookmark.replace(live_server.url, ""))
    expect(page.locator(".cc-count-text")).to_have_text(shown)
    expect(page.locator(".cc-filter-text input")).to_have_value("a")
    second.close()


def test_back_and_forward_show_the_search_their_address_names(live_server, page):
    """The list writes its page into the address as it changes; Back changed the address to page 2 while the
    list kept showing page 3 (a bookmark then was another search than the one on screen). Back and Forward draw
    the search the address names."""
    login(page, live_server.url, "anna", path="/search?status=Active")
    count = page.locator(".cc-count-text")
    expect(count).to_contain_text("page 1 of")
    following = page.get_by_role("button", name="Next ›")
    following.click()
    expect(count).to_contain_text("page 2 of")
    page.wait_for_function("() => window.location.search.includes('page=2')")
    following.click()
    expect(count).to_contain_text("page 3 of")
    page.wait_for_function("() => window.location.search.includes('page=3')")
    page.go_back()
    page.wait_for_function("() => window.location.search.includes('page=2')")
    expect(page.locator(".cc-count-text")).to_contain_text("page 2 of")
    page.go_forward()
    expect(page.locator(".cc-count-text")).to_contain_text("page 3 of")
    assert "page=3" in page.url and "status=Active" in page.url
    # a move within the page (the skip link to the content) changes only the part after #: no reload
    page.evaluate("() => { window.ccStillHere = true; }")
    page.locator("a.cc-skip").focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.location.hash === '#cc-main'")
    page.go_back()
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.ccStillHere === true")


def test_clicking_a_column_header_sorts_on_the_server_and_goes_into_the_url(live_server, page):
    login(page, live_server.url, "anna")
    table_rows = page.locator("table tbody tr")
    expect(table_rows.first).to_be_visible()
    page.get_by_role("button", name="Number", exact=True).click()
    page.wait_for_function("() => window.location.search.includes('sort=number')")
    numbers = [int(text) for text in page.locator("table tbody tr td:first-child").all_inner_texts()]
    assert numbers == sorted(numbers) and len(numbers) > 1
    page.get_by_role("button", name="Number", exact=True).click()  # again: descending
    page.wait_for_function("() => window.location.search.includes('desc=1')")
    expect(page.locator("th[aria-sort=descending]")).to_have_count(1)
    descending = [int(text) for text in page.locator("table tbody tr td:first-child").all_inner_texts()]
    assert descending == sorted(descending, reverse=True) and descending[0] > numbers[0]


def test_new_customer_warns_about_a_duplicate(live_server, page):
    store = live_server.store
    existing = store.get_customer(rich_customers(store)[2])
    login(page, live_server.url, "anna", path="/new")
    form = page.locator(".cc-new-customer-form")
    form.locator(".cc-field-name input").fill(existing.name)
    form.locator(".cc-field-visit_address-country input").fill(existing.visit_address.country)
    form.locator(".cc-field-org_number input").fill(existing.org_number)
    page.locator(".cc-create button").click()
    warning = page.locator("#cc-duplicates")
    expect(warning).to_contain_text(existing.name)
    expect(warning.locator(f"a[href='/card?customer={existing.id}']").first).to_be_visible()
    # said at once to a screen reader (it heard nothing, and no customer was made)
    expect(page.locator("#cc-alert")).to_contain_text("This customer may exist already")
    page.locator(".cc-create-anyway button").click()
    page.wait_for_url(re.compile(r"/card\?customer=\d+$"))
    wait_idle(page)
    expect(page.locator("#cc-customer-name")).to_have_text(existing.name)
    new_id = int(page.url.rsplit("=", 1)[1])
    assert new_id != existing.id and store.get_customer(new_id).created_by == "anna"


def test_merge_a_duplicate_from_the_card(live_server, page):
    store = live_server.store
    survivor_id, other_id = rich_customers(store)[3:5]
    other = store.get_customer(other_id)
    moved = len(store.contacts(other_id, include_inactive=True))
    before = len(store.contacts(survivor_id, include_inactive=True))
    login(page, live_server.url, "maria", path=f"/card?customer={survivor_id}")
    header = page.locator("div.cc-section-header")
    header.locator("button.cc-tool-merge").click()
    header.locator(".cc-merge-find input").fill(str(other.number))
    expect(header.locator(".cc-merge-moves")).to_contain_text("Moves to this customer")
    header.locator(".cc-merge-go button").click()
    expect(header).to_contain_text(f"Merged {other.name}")
    assert store.get_customer(other_id).merged_into == survivor_id
    assert len(store.contacts(survivor_id, include_inactive=True)) == before + moved
    page.goto(f"{live_server.url}/card?customer={other_id}")
    wait_idle(page)
    expect(page.locator("div.cc-section-header")).to_contain_text("Merged into")


def test_admin_changes_a_list_and_a_viewer_is_refused(live_server, browser):
    context = browser.new_context()
    page = context.new_page()
    login(page, live_server.url, "admin", path="/admin")
    page.locator(".cc-admin-add input").fill("Shipping & ports")
    page.locator(".cc-admin-btn-add button").click()
    expect(page.locator("#cc-admin-list-table")).to_contain_text("Shipping & ports")
    assert "Shipping & ports" in set(live_server.store.list_values("industries")["label"])
    added = page.locator(".cc-admin-add input")  # Enter in the field adds as its button does
    added.fill("Forestry & timber")
    added.press("Enter")
    expect(page.locator("#cc-admin-list-table")).to_contain_text("Forestry & timber")
    expect(added).to_have_value("")
    assert "Forestry & timber" in set(live_server.store.list_values("industries")["label"])
    context.close()

    context = browser.new_context()
    page = context.new_page()
    login(page, live_server.url, "vera", path="/admin")
    expect(page.locator("#cc-message")).to_contain_text("Not allowed")
    expect(page.locator(".cc-admin-tabs")).to_have_count(0)
    expect(page.locator("a[href='/admin']")).to_have_count(0)
    context.close()


def test_fast_typing_ends_with_the_hits_of_what_was_typed(live_server, page):
    """Keystrokes go to the server at once, and while one is answered only the latest text follows: the list ends
    with the hits of the whole text, never those of a superseded prefix."""
    store = live_server.store
    login(page, live_server.url, "anna")
    name = store.get_customer(rich_customers(store)[2]).name
    typed = name.split()[0][:6]
    box = page.locator("#cc-super-search")
    box.click()
    box.press_sequentially(typed, delay=0)
    expect(page.locator(f'ul[role="listbox"][data-for="{typed}"]')).to_be_visible()
    expected = store.search(typed, limit=8)
    expect(page.locator("li.hit").first).to_contain_text(expected.iloc[0]["name"])
    box.press_sequentially("zqx", delay=0)
    expect(page.locator(f'ul[role="listbox"][data-for="{typed}zqx"]')).to_be_attached()
    expect(page.locator("li.none")).to_be_visible()


def test_enter_at_once_after_fast_typing_opens_the_search_of_what_was_typed(live_server, page):
    """Typed fast (or pasted) with Enter at once, a text that finds nothing opened the card of an earlier prefix's
    first hit about every second time: the browser drew the new text beside the old hits a moment (the empty list
    reached it after the text), and the Enter waiting for the text's answer took that hit."""
    store = live_server.store
    login(page, live_server.url, "anna")
    typed = store.get_customer(rich_customers(store)[2]).name.split()[0][:4].lower() + "xxqq"
    assert store.search(typed, limit=1).empty
    for _ in range(6):
        page.goto(f"{live_server.url}/")
        wait_idle(page)
        box = page.locator("#cc-super-search")
        box.click()
        page.keyboard.type(typed, delay=5)
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/(search|card)\?"))
        assert "/search?q=" in page.url, page.url
