"""CRM in Debian's Chromium: relation on both cards, an event planned and done, an opportunity created,
moved on /pipeline, won — and the sums follow."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, rich_customers, wait_idle

pytestmark = pytest.mark.browser


def section(page, key: str):
    return page.locator(f"div.cc-section-{key}")


def open_section(page, key: str) -> None:
    toggle = section(page, key).locator("button.cc-sv-toggle")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")


def edit_in_pipeline(page, title: str, **values: str) -> None:
    """Open an opportunity of the pipeline table in its editor, set fields (stage and status are chosen from a list,
    the rest typed) and save."""
    page.locator(".cc-pipeline-table tr", has_text=title).locator("button.cc-row-open").click()
    form = page.locator(".cc-pipeline-form")
    expect(form).to_contain_text(title)
    for field, value in values.items():
        cell = form.locator(f".cc-field-{field}")
        if field in ("stage", "status"):
            cell.locator("select").select_option(value)
        else:
            cell.locator("input").fill(value)
    form.locator(".cc-pipeline-form-save button").click()


def test_relation_appears_on_the_other_card(live_server, page):
    store = live_server.store
    one, other = rich_customers(store)[0:2]
    other_name = store.get_customer(other).name
    login(page, live_server.url, "anna", path=f"/card?customer={one}")
    open_section(page, "relations")
    relations = section(page, "relations")
    relations.locator("button.cc-add-relation").click()
    relations.locator(".cc-relation-type select").select_option("Supplier to")
    relations.locator(".cc-relation-find input").fill(other_name)
    expect(relations.locator(".cc-relation-target select")).to_contain_text(other_name)
    relations.locator(".cc-relation-form-save button").click()
    expect(relations.locator("#cc-relations-table")).to_contain_text(other_name)
    relations.locator(f"#cc-relations-table a[href='/card?customer={other}']").click()
    page.wait_for_url(re.compile(rf"/card\?customer={other}$"))
    wait_idle(page)
    open_section(page, "relations")
    expect(section(page, "relations").locator("#cc-relations-table")).to_contain_text("Customer of")


def test_plan_an_event_and_mark_it_done(live_server, page):
    customer_id = rich_customers(live_server.store)[0]
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    open_section(page, "events")
    events = section(page, "events")
    events.locator("button.cc-new-event").click()
    events.locator(".cc-field-title input").fill("Budget review")
    events.locator(".cc-event-form-save button").click()
    upcoming = events.locator("#cc-events-upcoming")
    expect(upcoming).to_contain_text("Budget review")
    row = upcoming.locator("tr", has_text="Budget review")
    row.locator("button.cc-event-done").click()
    expect(upcoming.locator("tr", has_text="Budget review")).to_contain_text("done")
    expect(events).to_contain_text("marked done")
    stored = live_server.store.events(customer_id)
    assert stored[stored["title"] == "Budget review"].iloc[0]["status_changed_by"] == "anna"


def test_opportunity_created_moved_on_pipeline_and_won(live_server, browser):
    store = live_server.store
    customer_id = rich_customers(store)[1]
    context = browser.new_context()
    page = context.new_page()
    login(page, live_server.url, "maria", path=f"/card?customer={customer_id}")
    open_section(page, "opportunities")
    opportunities = section(page, "opportunities")
    opportunities.locator("button.cc-new-opportunity").click()
    opportunities.locator(".cc-field-title input").fill("Zeta consulting deal")
    opportunities.locator(".cc-field-amount input").fill("400000")
    opportunities.locator(".cc-field-probability input").fill("50")
    opportunities.locator(".cc-opportunity-form-save button").click()
    expect(opportunities.locator("#cc-opportunities-table")).to_contain_text("Zeta consulting deal")
    created = store.opportunities(customer_id)
    deal = created[created["title"] == "Zeta consulting deal"].iloc[0]
    assert deal.stage == "Lead" and deal.weighted == 200000

    page.goto(f"{live_server.url}/pipeline?view=table")
    wait_idle(page)
    page.locator(".cc-pipeline-owner select").select_option(label="Maria Jensen")
    summary = page.locator("#cc-pipeline-stages")
    mine = len(store.open_opportunities(owner="maria"))
    expect(summary.locator("tr.total td").nth(1)).to_have_text(str(mine))
    lead_before = summary.locator("tr", has_text="Lead").inner_text()
    table = page.locator(".cc-pipeline-table")
    edit_in_pipeline(page, "Zeta consulting deal", stage="Proposal")
    expect(summary.locator("tr", has_text="Lead")).not_to_have_text(lead_before)
    expect(page.locator(".cc-pipeline-message")).to_contain_text("Saved")
    assert store.get_opportunity(int(deal.id)).stage == "Proposal"
    proposal_before = summary.locator("tr", has_text="Proposal").inner_text()
    row = table.locator("tr", has_text="Zeta consulting deal")
    expect(row.locator("td.cc-col-stage")).to_have_text("Proposal")  # the table redrawn
    edit_in_pipeline(page, "Zeta consulting deal", status="won")
    expect(summary.locator("tr", has_text="Proposal")).not_to_have_text(proposal_before)
    expect(table.locator("tr", has_text="Zeta consulting deal")).to_have_count(0, timeout=15_000)
    assert store.get_opportunity(int(deal.id)).status == "won"
    context.close()


def test_an_opportunity_out_of_bounds_gets_messages_in_the_browser(live_server, page):
    store = live_server.store
    customer_id = rich_customers(store)[2]
    before = len(store.opportunities(customer_id))
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    open_section(page, "opportunities")
    opportunities = section(page, "opportunities")
    opportunities.locator("button.cc-new-opportunity").click()
    opportunities.locator(".cc-field-title input").fill("Too sure a deal")
    opportunities.locator(".cc-field-amount input").fill("-5")
    opportunities.locator(".cc-field-probability input").fill("150")
    opportunities.locator(".cc-opportunity-form-save button").click()
    # typed values reach the server as typed (no clamping in the browser) and the model explains
    expect(opportunities.locator(".cc-field-probability")).to_contain_text("Must be at most 100.")
    expect(opportunities.locator(".cc-field-amount")).to_contain_text("Must be at least 0.")
    assert len(store.opportunities(customer_id)) == before


def test_an_events_time_is_shown_and_picked_in_the_firms_time_zone(live_server, page):
    """The start shows as the firm's clock reads it, and a picked date and time is the one saved (stored as UTC):
    the picker's text came back in a format Panel could not read, and the old time was saved as "Event saved."."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    store = live_server.store
    customer_id = rich_customers(store)[1]
    zone = ZoneInfo(store.settings().time_zone)
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    open_section(page, "events")
    events = section(page, "events")
    events.locator("button.cc-new-event").click()
    events.locator(".cc-field-title input").fill("Time zone check")
    start = events.locator(".cc-field-starts_at input").first
    shown = start.input_value()
    new = store.new_event(customer_id)  # tomorrow 10:00 where the firm is
    assert shown == new.starts_at.replace(tzinfo=dt.UTC).astimezone(zone).strftime("%Y-%m-%d %H:%M")
    assert shown.endswith("10:00")
    picked = (dt.datetime.now(zone) + dt.timedelta(days=5)).replace(hour=14, minute=30, second=0, microsecond=0)
    for field, moment in (("starts_at", picked), ("ends_at", picked + dt.timedelta(hours=1))):
        events.locator(f".cc-field-{field} input").first.evaluate(
            # as a person picks: the day and time, then the calendar closes (the picker sends its value then)
            "(input, text) => { const p = input._flatpickr; p.open(); p.setDate(text, true); p.close() }",
            moment.strftime("%Y-%m-%d %H:%M"))
    events.locator(".cc-event-form-save button").click()
    expect(events.locator("#cc-events-upcoming")).to_contain_text("Time zone check")
    stored = store.events(customer_id)
    row = stored[stored["title"] == "Time zone check"].iloc[0]
    assert row["starts_at"].to_pydatetime() == picked.astimezone(dt.UTC).replace(tzinfo=None)
    assert row["ends_at"].to_pydatetime() == (picked + dt.timedelta(hours=1)).astimezone(dt.UTC).replace(tzinfo=None)
