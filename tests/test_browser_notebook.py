"""The analyst's notebook served as a dashboard, in Debian's Chromium: `customercard serve --notebook` behind the
app's login, and plain `panel serve notebooks/02-account-overview.ipynb` beside the running server (which holds the
DuckDB file, so the notebook reaches the data through it)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from customercard.store import Store

from .conftest import copy_database, login, wait_idle
from .serve_process import ServeProcess

pytestmark = pytest.mark.browser
NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "02-account-overview.ipynb"
PATH = "/02-account-overview"
MOST_INVOICED = """SELECT c.id, c.number, c.name, coalesce(sum(i.amount_base), 0) AS invoiced
                   FROM customers c LEFT JOIN invoices i ON i.customer_id = c.id WHERE NOT c.archived
                   GROUP BY c.id, c.number, c.name ORDER BY invoiced DESC, c.name LIMIT 2"""


@pytest.fixture(scope="module")
def overview_server(demo_template, tmp_path_factory):
    folder = tmp_path_factory.mktemp("overview")
    database = copy_database(demo_template, folder / "db")
    with Store(database) as store:
        top = [(row.name, f"{row.name} ({row.number})") for row in store.sql(MOST_INVOICED).itertuples()]
    server = ServeProcess(database, folder, extra=["--notebook", str(NOTEBOOK)])
    yield SimpleNamespace(url=server.url, database=database, folder=folder, top=top, server=server)
    server.stop()


def shows_the_overview(page, name: str) -> None:
    wait_idle(page, timeout=60_000)
    expect(page.locator(".cc-card").first).to_contain_text(name, timeout=30_000)
    expect(page.get_by_text("Invoiced per year across the customer's projects")).to_be_visible()
    expect(page.locator(".bk-Canvas, canvas").first).to_be_attached()


def test_customercard_serves_the_notebook_behind_its_login(overview_server, page):
    page.goto(overview_server.url + PATH)
    expect(page.locator("#login-form")).to_be_visible()  # no overview without a login
    login(page, overview_server.url, "anna", path=PATH)
    assert page.url.endswith(PATH)
    expect(page.get_by_text("Account overview").first).to_be_visible()
    (first, _label), (second, label) = overview_server.top
    shows_the_overview(page, first)
    page.locator("select").first.select_option(label=label)
    expect(page.locator(".cc-card").first).to_contain_text(second, timeout=30_000)


def test_panel_serve_runs_the_notebook_beside_the_running_server(overview_server, page, tmp_path):
    panel = ServeProcess(overview_server.database, tmp_path, command=["panel", "serve", str(NOTEBOOK)],
                         env={"CUSTOMERCARD_DB": str(overview_server.database), "CUSTOMERCARD_USER": "anna"})
    try:
        page.goto(panel.url + PATH)
        shows_the_overview(page, overview_server.top[0][0])
    finally:
        said = panel.stop()
    assert f"Using the running server at {overview_server.url}" in said


def test_the_served_notebook_speaks_its_reader_s_language_and_ends_with_its_login(overview_server, browser):
    """The notebook served beside the pages is drawn in the reader's language, as the pages are; and logged out in
    another tab, it shows that it is (its widgets went on saving as the user: logged out, one could still edit)."""
    context = browser.new_context(extra_http_headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    page = context.new_page()
    login(page, overview_server.url, "olli", path=PATH)
    wait_idle(page, timeout=60_000)
    expect(page.locator(".cc-card").first).to_contain_text("Kontaktuppgifter", timeout=30_000)
    assert page.evaluate("document.documentElement.lang") == "sv"  # screen readers speak the page in Swedish
    page.evaluate("() => window.ccConnection.lost()")  # as a lost connection says it (test_browser_connection_lost)
    expect(page.locator("#cc-connection-lost")).to_contain_text("Anslutningen till servern bröts")
    other = context.new_page()
    other.goto(overview_server.url + "/logout")
    expect(page.locator("#cc-session-ended")).to_contain_text("Du är utloggad", timeout=15_000)
    expect(page.locator(".cc-card")).to_have_count(0)
    context.close()
