"""The customer's whole story in Debian's Chromium against the real server: the Activity section with its filters
and Load more, the card as it was on a day (banner, compare, restore), a click on a year's bar opening invoices that
add up to the bar, and the contact card's timeline and its edit meeting someone else's save."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from customercard import formatting

from .conftest import login, rich_customers, wait_idle

pytestmark = pytest.mark.browser


def section(page, key: str):
    return page.locator(f"div.cc-section-{key}")


@pytest.fixture(scope="module")
def story(live_server):
    """A customer with more than a page of activity, one whose status changed on a past day, and one without an
    open pipeline (one series of bars)."""
    store = live_server.store
    customers = rich_customers(store)
    busy = customers[0]
    for i in range(55):
        store.add_comment(busy, f"Follow-up call {i}", user="erik")
    store.add_comment(busy, "Talked <b>budgets</b> with the CFO", user="maria")
    changed = store.sql("SELECT customer_id, min(changed_at) AS first, max(changed_at) AS last FROM customer_changes "
                        "GROUP BY customer_id HAVING max(version) = 2 ORDER BY customer_id LIMIT 1").iloc[0]
    first, last = pd.Timestamp(changed["first"]).date(), pd.Timestamp(changed["last"]).date()
    plain = next(c for c in customers[1:] if store.pipeline_per_year(c).empty)
    return {"busy": busy, "changed": int(changed["customer_id"]), "day": first + (last - first) / 2, "plain": plain}


def open_activity(page) -> None:
    activity = section(page, "activity")
    if not activity.locator(".cc-activity").count():
        activity.locator("button.cc-sv-toggle").click()
    expect(activity.locator(".cc-activity-days")).to_be_visible()


def test_the_activity_section_filters_and_loads_more(live_server, page, story):
    login(page, live_server.url, "anna", path=f"/card?customer={story['busy']}")
    open_activity(page)
    activity = section(page, "activity")
    entries = activity.locator("li.cc-entry")
    expect(entries).to_have_count(50)
    expect(activity.locator(".cc-day-head").first).to_be_visible()
    expect(activity).to_contain_text("Talked <b>budgets</b> with the CFO")  # as text, never as HTML
    activity.locator("button.cc-activity-more").click()
    expect(activity.locator(".cc-activity-count")).not_to_have_text(re.compile(r"^50 "))
    assert entries.count() > 50
    activity.locator("select.cc-activity-person").select_option("maria")
    expect(activity.locator("li.cc-entry").first).to_contain_text("Maria Jensen")
    activity.locator("select.cc-activity-person").select_option("")
    activity.locator("select.cc-activity-kind").select_option("event")
    expect(activity.locator("li.cc-entry-comment")).to_have_count(0)
    activity.locator("select.cc-activity-kind").select_option("")
    search = activity.locator("input.cc-activity-text")
    search.fill("call 42")
    search.press("Enter")
    expect(activity.locator("li.cc-entry")).to_have_count(1)
    expect(activity.locator("li.cc-entry")).to_contain_text("Follow-up call 42")
    activity.locator("button.cc-activity-clear").click()
    expect(activity.locator("li.cc-entry")).to_have_count(50)
    live_server.store.add_comment(story["busy"], "Heard while the card was open", user="erik")
    expect(activity.locator("li.cc-entry").first).to_contain_text("Heard while the card was open")  # live
    page.reload()
    wait_idle(page)
    expect(section(page, "activity").locator(".cc-activity-days")).to_be_visible()  # remembered open


def test_the_card_as_of_a_day_with_banner_compare_and_restore(live_server, page, story):
    store = live_server.store
    customer_id, day = story["changed"], story["day"]
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    open_activity(page)
    form = section(page, "activity").locator("form.cc-asof-form")
    form.locator("input.cc-asof-date").fill(day.isoformat())
    form.locator("button.cc-asof-show").click()
    page.wait_for_url(re.compile(rf"as_of={day.isoformat()}"))
    wait_idle(page)
    banner = section(page, "asof")
    expect(banner.locator(".cc-asof-banner")).to_contain_text(formatting.date(day))
    expect(banner.locator(".cc-asof-banner")).to_contain_text("read only")
    expect(page.locator("button.cc-tool-edit")).to_have_count(0)  # nothing to edit on that day
    expect(section(page, "header")).to_contain_text("Prospect")
    banner.locator("button.cc-asof-compare").click()
    table = banner.locator("#cc-asof-diff")
    expect(table).to_contain_text("Status")
    before = store.get_customer(customer_id)
    banner.locator('input.cc-asof-pick[data-id="status"]').check()
    banner.locator("button.cc-asof-restore").click()
    expect(banner).to_contain_text("Brought back 1 value")
    after = store.get_customer(customer_id)
    assert after.status == "Prospect" and after.version == before.version + 1
    history = store.history(customer_id)
    assert list(history[history["version"] == after.version]["kind"]) == ["restore"]
    banner.locator("a.cc-asof-today").click()
    wait_idle(page)
    expect(section(page, "header")).to_contain_text("Prospect")
    expect(page.locator(".cc-asof-banner")).to_have_count(0)


def test_a_link_to_a_day_before_the_customer_or_not_a_day_says_so(live_server, page, story):
    login(page, live_server.url, "vera", path=f"/card?customer={story['busy']}&as_of=1990-01-01")
    expect(page.locator("#cc-message")).to_contain_text("created after")
    page.goto(f"{live_server.url}/card?customer={story['busy']}&as_of=yesterday")
    wait_idle(page)
    expect(page.locator("#cc-message")).to_contain_text("2024-06-30")


def test_clicking_a_years_bar_opens_its_invoices_adding_up_to_the_bar(live_server, page, story):
    store, customer_id = live_server.store, story["plain"]
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    invoiced = section(page, "invoiced")
    canvas = invoiced.locator(".cc-invoiced-chart canvas").first
    expect(canvas).to_be_visible()
    title = invoiced.locator("#cc-year-title")
    figures = store.invoiced_per_year(customer_id).set_index("year")["amount"]
    year = None
    for step in range(40):  # across the chart until a bar is hit (the bars fill most of its width)
        canvas.scroll_into_view_if_needed()
        box = canvas.bounding_box()
        page.mouse.click(box["x"] + box["width"] * (0.08 + step * 0.023), box["y"] + box["height"] * 0.84)
        try:
            expect(title).to_be_visible(timeout=1500)
        except AssertionError:
            continue
        year = int(re.search(r"(\d{4})", title.inner_text()).group(1))
        if figures.get(year, 0):
            break
    assert year is not None and figures.get(year, 0)
    bar = round(float(figures.loc[year]), 2)
    expect(invoiced.locator("#cc-year-total")).to_have_text(formatting.money(bar, "SEK", decimals=True))
    rows = invoiced.locator("#cc-year-table tbody tr:not(.total)")
    expect(rows).to_have_count(len(store.invoices(customer_id, year=year)))
    with page.expect_download() as download:
        invoiced.locator(".cc-year-export-csv button").click()
    text = open(download.value.path(), encoding="utf-8-sig").read()  # noqa: SIM115
    assert text.splitlines()[0].startswith("Date,Number,Kind,Project") and len(text.splitlines()) == rows.count() + 1
    other = next(y for y in figures.index if y != year and figures[y])  # its row in the table opens it too
    invoiced.locator(f'#cc-invoiced-table button.cc-invoiced-year[data-id="{other}"]').click()
    expect(title).to_contain_text(str(other))
    expect(invoiced.locator("#cc-year-total")).to_have_text(
        formatting.money(round(float(figures.loc[other]), 2), "SEK", decimals=True))
    invoiced.locator(".cc-year-close button").click()
    expect(title).to_have_count(0)


def test_another_users_opportunity_shows_on_an_open_cards_chart_and_the_years_invoices_stay(live_server, page,
                                                                                             story):
    """Anna has a card's chart open with a year's invoices under it; Erik adds an opportunity for that customer: her
    chart is drawn again with the weighted pipeline beside the bars, and the year she opened stays open."""
    import json

    store = live_server.store
    customer_id = next(c for c in rich_customers(store)[1:] if c != story["plain"]
                       and store.pipeline_per_year(c).empty and not store.invoiced_per_year(c).empty)
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    invoiced = section(page, "invoiced")
    canvas = invoiced.locator("canvas.cc-chart")
    expect(canvas).to_have_attribute("data-drawn", "true")
    assert [one["name"] for one in json.loads(canvas.get_attribute("data-chart"))["series"]] == ["Invoiced"]
    year = int(store.invoiced_per_year(customer_id)["year"].max())
    invoiced.locator(f'#cc-invoiced-table button.cc-invoiced-year[data-id="{year}"]').click()
    title = invoiced.locator("#cc-year-title")
    expect(title).to_contain_text(str(year))
    close = dt.date(dt.date.today().year + 1, 6, 30)
    opportunity = store.new_opportunity(customer_id, owner="erik")
    opportunity.param.update(title="Erik's audit", amount=200_000.0, probability=50.0, expected_close=close)
    store.create_opportunity(opportunity, user="erik")
    expect(canvas).to_have_attribute("data-chart", re.compile("Weighted pipeline"))  # drawn again, by itself
    chart = json.loads(canvas.get_attribute("data-chart"))
    pipeline = next(one for one in chart["series"] if one["name"] == "Weighted pipeline")
    assert pipeline["amounts"][chart["years"].index(str(close.year))] == pytest.approx(100_000.0)
    expect(canvas).to_have_attribute("data-drawn", "true")
    expect(title).to_contain_text(str(year))  # the year's invoices are still open under the chart
    expect(invoiced.locator("#cc-pipeline-note")).to_be_visible()


def test_the_contact_cards_timeline_and_an_edit_meeting_a_save(live_server, page, story):
    store = live_server.store
    contact_id = int(store.contacts(story["plain"]).iloc[0]["id"])
    person = store.get_contact(contact_id)
    store.add_comment(story["plain"], f"Met {person.full_name} at the fair", user="maria")
    login(page, live_server.url, "anna", path=f"/contact?contact={contact_id}")
    expect(page.locator("#cc-contact-name")).to_have_text(person.full_name)
    activity = page.locator("div.cc-section-activity")
    activity.locator("button.cc-sv-toggle").click()
    expect(activity.locator("li.cc-entry-comment").first).to_contain_text(f"Met {person.full_name} at the fair")
    page.locator(".cc-edit button").click()
    form = page.locator(".cc-contact-form")
    expect(form).to_be_visible()
    theirs = store.get_contact(contact_id)
    theirs.title = "Changed by Erik"
    store.save_contact(theirs, user="erik")
    expect(form).to_contain_text("Changed meanwhile by Erik Nilsson")  # seen before Save
    title = form.locator(".cc-field-title input")
    title.fill("Mine")
    page.locator(".cc-contact-form-save button").click()
    expect(page.locator(".cc-conflict")).to_be_visible()  # both values, a choice — never an overwrite
    assert store.get_contact(contact_id).title == "Changed by Erik"
    page.locator(".cc-contact-form-save button").click()  # keeping mine, chosen by default
    expect(page.locator(".cc-contact-form")).to_have_count(0)  # saved: the read view again (its h1 stays throughout)
    expect(page.locator(".cc-message-text")).to_have_text("Saved.")
    assert store.get_contact(contact_id).title == "Mine"
    history = page.locator("div.cc-section-history")
    expect(history.locator("#cc-contact-history")).to_contain_text("Mine")
    history.locator("button.cc-restore").first.click()
    expect(history).to_contain_text("Restored")
    assert store.get_contact(contact_id).title == "Changed by Erik"
    assert dt.date.today()  # the page did all of this in one session
