"""More of the pages by keyboard, in Debian's Chromium against the real server: Tab gets past every filter of Search
customers, the card's filters and buttons keep the focus when their section is drawn again, the focus lands where
the user expects after opening a comment's or a contact person's form, and the layout and links of the as-of card
and of the search's filter column."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from .axe import run_axe
from .conftest import RICH_CUSTOMER_SQL, login, wait_idle
from .test_browser_accessibility import focused, open_every_section, press_until, section, wait_focus

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def busy(live_server) -> int:
    """A rich customer (comments, active and inactive contact persons) with events of its own."""
    sql = RICH_CUSTOMER_SQL.replace(
        "ORDER BY", "AND (SELECT count(*) FROM events e WHERE e.customer_id = c.id) > 1 ORDER BY")
    return int(live_server.store.sql(sql)["id"][0])


def open_card(page, live_server, customer_id: int, suffix: str = "") -> None:
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}{suffix}")
    open_every_section(page)
    wait_idle(page)


def stays_on(page, css: str, section_key: str, timeout: float = 10.0) -> dict:
    """The focus is (again) on the element of class ``css`` in that section, not on the page."""
    now = wait_focus(page, lambda f: f["section"] == section_key and css in f["cls"].split(), timeout=timeout)
    page.wait_for_timeout(300)  # and stays there once the server's drawing is in
    again = focused(page)
    assert again is not None and again["section"] == section_key and css in again["cls"].split(), again
    return now


# -- 2: Search customers, Tab past the Industry filter --------------------------------------------------------
def test_tab_from_the_industry_filter_moves_on_to_account_manager(live_server, page):
    login(page, live_server.url, "anna", path="/search")
    page.locator(".cc-filter-industry input.choices__input--cloned").focus()
    page.wait_for_timeout(200)
    page.keyboard.press("Tab")
    page.wait_for_timeout(300)
    now = focused(page)
    assert now is not None and "cc-filter-manager" in now["classes"], now
    # and on to the end of the page (the results, Change many customers), never to the page's start
    for _press in range(150):
        page.keyboard.press("Tab")
        now = focused(page)
        assert now is not None, "the focus fell to the page"
        if "cc-bulk-toggle" in now["classes"]:
            break
    else:
        raise AssertionError(f"Change many customers not reached; last {now}")


# -- 8: the Columns check boxes stay in the filter column -----------------------------------------------------
def test_the_columns_check_boxes_wrap_inside_the_filter_column(live_server, page):
    login(page, live_server.url, "anna", path="/search")
    boxes = page.locator(".cc-columns input[type=checkbox]")
    expect(boxes.first).to_be_visible()
    column = page.locator(".cc-filters").first.bounding_box()
    right = column["x"] + column["width"]
    for i in range(boxes.count()):
        box = boxes.nth(i).bounding_box()
        assert box["x"] + box["width"] <= right + 1, (i, box, column)
    labels = page.locator(".cc-columns label")
    last = labels.nth(labels.count() - 1).bounding_box()
    assert last["x"] + last["width"] <= right + 1, (last, column)


# -- 3: the card's filters and buttons keep the focus ---------------------------------------------------------
def test_a_sections_select_keeps_the_focus_through_the_arrow_keys(live_server, page, busy):
    open_card(page, live_server, busy)
    for key, css in (("events", "cc-event-filter"), ("activity", "cc-activity-kind"),
                     ("groups", "cc-history-field")):
        select = section(page, key).locator(f"select.{css}")
        select.focus()
        first = select.input_value()
        page.keyboard.press("ArrowDown")
        stays_on(page, css, key)
        second = select.input_value()
        assert second != first
        page.keyboard.press("ArrowDown")  # the second one chooses the next value, it does not scroll the page
        stays_on(page, css, key)
        assert select.input_value() not in (first, second), key


def test_the_activity_text_filter_keeps_the_focus_after_enter(live_server, page, busy):
    open_card(page, live_server, busy)
    field = section(page, "activity").locator("input.cc-activity-text")
    field.click()
    page.keyboard.type("a")
    page.keyboard.press("Enter")
    stays_on(page, "cc-activity-text", "activity")
    assert field.input_value() == "a"
    assert field.evaluate("el => el.selectionStart") == 1  # the caret where it was: typing goes on


def test_show_all_comments_and_show_inactive_keep_the_focus(live_server, page, busy):
    open_card(page, live_server, busy)
    comments = section(page, "comments")
    comments.locator("button.cc-show-all").focus()
    page.keyboard.press("Enter")
    expect(comments.locator(".cc-comment")).to_have_count(live_server.store.sql(
        f"SELECT count(*) AS n FROM comments WHERE customer_id = {busy}")["n"][0].item())
    stays_on(page, "cc-show-all", "comments")

    people = section(page, "contacts")
    people.locator("label.cc-show-inactive input").focus()
    page.keyboard.press("Space")
    expect(people.locator("a.cc-inactive").first).to_be_visible()
    now = wait_focus(page, lambda f: f["section"] == "contacts" and f["tag"] == "input")
    assert now["section"] == "contacts"
    page.wait_for_timeout(300)
    assert focused(page)["tag"] == "input"


def test_opening_an_events_details_moves_the_focus_to_them(live_server, page, busy):
    open_card(page, live_server, busy)
    events = section(page, "events")
    opener = events.locator("button.cc-open-event").first
    title = opener.inner_text()
    opener.focus()
    page.keyboard.press("Enter")
    expect(events.locator(".cc-event-details")).to_be_visible()
    now = wait_focus(page, lambda f: f["section"] == "events" and f["tag"] == "h3")
    assert now["text"] == title


def test_compare_with_today_keeps_the_focus(live_server, page, busy):
    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    login(page, live_server.url, "anna", path=f"/card?customer={busy}&as_of={day}")
    banner = section(page, "asof")
    banner.locator("button.cc-asof-compare").focus()
    page.keyboard.press("Enter")
    expect(banner.locator("#cc-asof-diff, .cc-asof-same").first).to_be_visible()
    stays_on(page, "cc-asof-compare", "asof")


# -- 6: the as-of card's link back to today ---------------------------------------------------------------------
def test_back_to_todays_card_is_told_apart_by_more_than_colour(live_server, page, busy):
    day = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    login(page, live_server.url, "anna", path=f"/card?customer={busy}&as_of={day}")
    back = section(page, "asof").locator("a.cc-asof-today")
    expect(back).to_be_visible()
    assert "underline" in back.evaluate("el => getComputedStyle(el).textDecorationLine")
    found = [v["id"] for v in run_axe(page)["violations"]]
    assert "link-in-text-block" not in found, found


# -- 10: editing a comment starts in its text -------------------------------------------------------------------
def test_editing_a_comment_puts_the_focus_in_its_text_and_no_calendar_opens(live_server, page, busy):
    open_card(page, live_server, busy)
    comments = section(page, "comments")
    edit = comments.locator("button.cc-edit-comment").first
    edit.focus()
    page.keyboard.press("Enter")
    now = wait_focus(page, lambda f: f["tag"] == "textarea")
    assert "cc-comment-editor" in now["classes"], now
    page.wait_for_timeout(300)
    expect(page.locator(".flatpickr-calendar.open")).to_have_count(0)


# -- 11: a contact person's card keeps its h1 while edited ----------------------------------------------------------
def first_contact(live_server, busy: int) -> int:
    return int(live_server.store.sql(
        f"SELECT id FROM contacts WHERE customer_id = {busy} AND active ORDER BY id")["id"][0])


def test_a_contact_persons_card_keeps_its_heading_while_edited(live_server, page, busy):
    login(page, live_server.url, "anna", path=f"/contact?contact={first_contact(live_server, busy)}")
    heading = page.locator("h1#cc-contact-name")
    name = heading.inner_text()
    page.locator(".cc-edit button").click()
    expect(page.locator(".cc-contact-form").first).to_be_visible()
    expect(heading).to_have_text(name)
    found = [v["id"] for v in run_axe(page)["violations"]]
    assert "page-has-heading-one" not in found, found


# -- 3: Save on a contact person's card moves the focus to "Saved." --------------------------------------------------
def test_saving_a_contact_person_moves_the_focus_to_the_message(live_server, page, busy):
    login(page, live_server.url, "anna", path=f"/contact?contact={first_contact(live_server, busy)}")
    page.locator(".cc-edit button").click()
    expect(page.locator(".cc-contact-form").first).to_be_visible()
    press_until(page, "Tab", lambda f: "cc-contact-form-save" in f["classes"] and f["tag"] == "button")
    page.keyboard.press("Enter")
    now = wait_focus(page, lambda f: "cc-message-text" in f["cls"])
    assert now["text"]


# -- Cancel and Escape on a contact person's card give the focus back to Edit (as on the customer card) -------------
@pytest.mark.parametrize("leave", ["Escape", "Cancel"])
def test_leaving_a_contact_persons_edit_gives_the_focus_back_to_edit(live_server, page, busy, leave):
    login(page, live_server.url, "anna", path=f"/contact?contact={first_contact(live_server, busy)}")
    page.locator(".cc-edit button").focus()  # by keyboard: Enter on Edit
    page.keyboard.press("Enter")
    expect(page.locator(".cc-contact-form").first).to_be_visible()
    wait_focus(page, lambda f: f["tag"] == "input")
    if leave == "Escape":
        page.keyboard.press("Escape")
    else:
        press_until(page, "Tab", lambda f: "cc-contact-form-cancel" in f["classes"] and f["tag"] == "button")
        page.keyboard.press("Enter")
    expect(page.locator(".cc-contact-form")).to_have_count(0)
    now = wait_focus(page, lambda f: f["tag"] == "button" and "cc-edit" in f["classes"])
    assert now["text"] == "Edit"
