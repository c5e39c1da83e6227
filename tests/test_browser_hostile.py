"""Hostile values in every free-text field and URL parameter, read back on every page that shows them, in Debian's
Chromium: no markup from a value ever becomes an element, no script runs, no page shows a traceback.

The server's Content-Security-Policy would stop an injected handler from running even where escaping failed, so
the tests look for the injected elements themselves (in the document and in every component's shadow root), not
only for the script's effect.
"""

from __future__ import annotations

import datetime as dt
import urllib.request
from types import SimpleNamespace

import pytest
from playwright.sync_api import expect

from customercard import files
from customercard.models import Contact, Criterion, Customer, Event, Opportunity, Project, Relation, User
from customercard.store import Store

from .conftest import copy_database, free_port, login, wait_for_port, wait_idle

pytestmark = pytest.mark.browser

#: Breaks out of text, of a quoted attribute and of the title; each part would make an element if unescaped.
HOSTILE = """</title>"'><img src=x onerror=window.__xss=1><svg onload=window.__xss=1>"""
LONG_RTL = "\u202e" + "Ж" * 180

#: Elements a hostile value would have made: an image with src x, a handler naming __xss, a javascript: link.
INJECTED = """() => {
  const found = [];
  const walk = (root) => {
    for (const el of root.querySelectorAll('*')) {
      for (const a of el.attributes) {
        const v = (a.value || '').trim().toLowerCase();
        if (a.name.startsWith('on') && v.includes('__xss')) found.push(el.tagName + ' ' + a.name);
        if ((a.name === 'href' || a.name === 'src' || a.name === 'action') && v.startsWith('javascript:'))
          found.push(el.tagName + ' ' + a.name + '=' + v);
      }
      if (el.tagName === 'IMG' && el.getAttribute('src') === 'x') found.push('IMG src=x');
      if (el.shadowRoot) walk(el.shadowRoot);
    }
  };
  walk(document);
  return found;
}"""


def hostile(what: str) -> str:
    return f"{what} {HOSTILE}"


@pytest.fixture(scope="module")
def hostile_server(demo_template, tmp_path_factory):
    """The app on a copy of the demo database in which an administrator and a manager put hostile text into every
    free-text field (through the store, as the forms do)."""
    from customercard import app

    store = Store(copy_database(demo_template, tmp_path_factory.mktemp("hostile")))
    ids = plant(store)
    port = free_port()
    server = app.make_server(store, port=port, threaded=True, start=True)
    wait_for_port(port)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", store=store, **ids)
    server.stop()
    store.close()


def plant(store: Store) -> dict[str, int]:
    settings = store.settings()
    settings.param.update(files_enabled=True, start_address=hostile("Start"))
    store.save_settings(settings, user="admin")
    for list_name in ("industries", "statuses", "relation_types", "event_types", "opportunity_stages"):
        store.add_list_value(list_name, hostile(list_name), user="admin")
    store.save_criterion(Criterion(name=hostile("Criterion"), multiple=True, values=[hostile("A"), hostile("B")]),
                         user="admin")
    store.add_user(User(login="mallory", name=hostile("Mallory"), email="mallory@firm.example", role="manager",
                        projects_access=True), "Mallory-has-a-long-passphrase-9", by="admin")
    choices_label = hostile("industries")
    customer = Customer(name=hostile("Customer"), nickname=hostile("Nick"), account_manager="mallory",
                        industry=choices_label, status=hostile("statuses"),
                        segments={hostile("Criterion"): [hostile("A")]})
    customer.visit_address.param.update(line1=hostile("Street"), line2=LONG_RTL, city=hostile("City"), country="SE")
    customer.invoicing.param.update(our_reference=hostile("Ours"), their_reference=hostile("Theirs"))
    customer = store.create_customer(customer, user="anna")
    contact = store.create_contact(Contact(customer_id=customer.id, first_name=hostile("First"),
                                           last_name=hostile("Last"), title=hostile("Title"),
                                           notes=hostile("Notes")), user="anna")
    store.add_comment(customer.id, hostile("Comment"), user="anna")
    event = Event(customer_id=customer.id, title=hostile("Event"), description=hostile("Description"),
                  event_type=hostile("event_types"), starts_at=dt.datetime(2026, 7, 1, 10), owner="mallory",
                  participants=["mallory"], contact_ids=[contact.id])
    store.create_event(event, user="anna")
    opportunity = Opportunity(customer_id=customer.id, title=hostile("Opportunity"), amount=1000.0,
                              stage=hostile("opportunity_stages"), owner="mallory", currency="SEK")
    store.create_opportunity(opportunity, user="anna")
    other = store.create_customer(Customer(name=hostile("Other customer")), user="anna")
    store.add_relation(Relation(customer_id=customer.id, relation_type=hostile("relation_types"),
                                other_customer_id=other.id, note=hostile("Relation note")), user="anna")
    store.add_relation(Relation(customer_id=customer.id, relation_type=hostile("relation_types"),
                                other_contact_id=contact.id, note=hostile("Contact relation")), user="anna")
    project = store.create_project(Project(customer_id=customer.id, number="P-1", name=hostile("Project"),
                                           manager="mallory", description=hostile("Project text")), user="admin")
    files.upload(store, customer.id, hostile("file") + ".txt", b"content", user="anna")
    for key in ("header", "contact", "invoice_address", "economy", "files", "groups", "comments", "contacts",
                "projects", "invoiced", "relations", "events", "opportunities"):
        store.set_pref("admin", f"card.collapsed.{key}", False)
    return {"customer_id": customer.id, "contact_id": contact.id, "project_id": project.id, "other_id": other.id}


def assert_clean(page) -> None:
    """Nothing injected, no script ran, no traceback on the page."""
    assert page.evaluate(INJECTED) == []
    assert page.evaluate("window.__xss") is None
    text = page.inner_text("body")
    assert "Traceback" not in text and "Internal Server Error" not in text


def open_page(page, url: str) -> None:
    page.goto(url)
    wait_idle(page)
    page.wait_for_timeout(200)  # the card fills its open sections just after the first render


def section(page, key: str):
    return page.locator(f"div.cc-section-{key}")


def test_card_with_every_section_open_and_every_form_shows_hostile_text_as_text(hostile_server, page):
    url = f"{hostile_server.url}/card?customer={hostile_server.customer_id}"
    login(page, hostile_server.url, "admin", path=f"/card?customer={hostile_server.customer_id}")
    page.wait_for_timeout(300)
    assert page.title().startswith(hostile("Customer"))  # the name is the title, as text
    expect(page.locator("#cc-customer-name")).to_contain_text("<img src=x")
    assert_clean(page)
    for key in ("header", "contact", "invoice_address", "economy", "groups", "comments", "contacts"):
        edit = section(page, key).locator("button.cc-tool-edit")
        if edit.count():
            edit.first.click()
            page.wait_for_timeout(400)
            assert_clean(page)
            open_page(page, url)
    section(page, "events").locator("button.cc-new-event").click()  # colleagues and contact persons as options
    page.wait_for_timeout(500)
    events = section(page, "events")
    events.locator(".cc-field-contact_ids .choices").click()
    page.wait_for_timeout(300)
    assert_clean(page)
    open_page(page, url)
    section(page, "relations").locator("button.cc-add-relation").click()
    page.wait_for_timeout(400)
    assert_clean(page)
    open_page(page, url)
    section(page, "header").locator("button", has_text="Merge").click()
    page.wait_for_timeout(300)
    page.locator(".cc-merge-find input").fill("Other customer")
    page.wait_for_timeout(800)
    assert_clean(page)


def test_every_other_page_shows_hostile_text_as_text(hostile_server, page):
    base = hostile_server.url
    login(page, base, "admin")
    assert_clean(page)
    page.locator("#cc-super-search").fill("Customer")
    page.wait_for_timeout(800)
    assert_clean(page)
    for path in (f"/contact?contact={hostile_server.contact_id}", f"/project?project={hostile_server.project_id}",
                 "/pipeline", "/search?q=Customer", "/new", "/admin"):
        open_page(page, base + path)
        assert_clean(page)
    page.locator(".cc-new-customer-name input, input").first.fill(hostile("Customer"))
    for tab in ("Settings", "Segmentation", "Users", "Log", "Import", "Deliveries"):
        open_page(page, base + "/admin")
        tab_button = page.get_by_role("tab", name=tab)
        if tab_button.count():
            tab_button.first.click()
            page.wait_for_timeout(500)
            assert_clean(page)


@pytest.mark.parametrize("query", [
    'status="><img src=x onerror=window.__xss=1>', "seg.Size=<img src=x onerror=window.__xss=1>",
    'industry=<svg onload=window.__xss=1>', 'manager="><img src=x onerror=window.__xss=1>',
    'sort="><img src=x onerror=window.__xss=1>', "sort=bogus", "page=99999999999999999999", "page=-3",
    "page=%C2%B2", "country=<b>x</b>", "archived=<b>", "desc=<b>", "q=%00%01<img src=x onerror=window.__xss=1>",
])
def test_hostile_search_parameters_give_the_normal_page(hostile_server, page, query):
    login(page, hostile_server.url, "anna")
    open_page(page, f"{hostile_server.url}/search?{query}")
    assert_clean(page)
    expect(page.locator(".cc-count-text")).to_be_visible()


@pytest.mark.parametrize("path", ["/card?customer=%C2%B2", "/card?customer=1e9", "/card?customer=-1",
                                  "/card?customer=99999999999999999999999", "/card?customer=<img src=x>",
                                  "/contact?contact=%C2%B2", "/contact?contact=abc", "/project?project=%C2%B2",
                                  "/card", "/contact"])
def test_bad_ids_in_the_url_give_a_not_found_message(hostile_server, page, path):
    login(page, hostile_server.url, "anna")
    response = page.goto(hostile_server.url + path)
    assert response.status == 200
    wait_idle(page)
    expect(page.locator("#cc-message")).to_contain_text("No such")
    assert_clean(page)


def test_every_response_carries_the_security_headers(hostile_server):
    for path in ("/login", "/static/js/bokeh.min.js"):
        with urllib.request.urlopen(hostile_server.url + path) as response:  # noqa: S310 - a loopback test URL
            headers = response.headers
        policy = headers["Content-Security-Policy"]
        assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";", 1)[0]
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["X-Frame-Options"] in ("DENY", "SAMEORIGIN")


def test_a_page_served_with_a_nonce_runs_its_own_scripts_only(hostile_server, page):
    """Every script element of a page carries the nonce the policy names; an inline handler does not run."""
    login(page, hostile_server.url, "anna")
    nonces = page.evaluate("() => [...document.scripts].map(s => s.nonce)")
    assert nonces and all(nonces) and len(set(nonces)) == 1
    page.evaluate("""() => { const i = document.createElement('img'); i.setAttribute('onerror', 'window.__xss=1');
                             i.src = 'x'; document.body.appendChild(i); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None


@pytest.mark.parametrize("as_of, heading", [
    ("<img src=x onerror=window.__xss=1>", "No such day"), ("9999-99-99", "No such day"), ("%C2%B2", "No such day"),
    ("2999-01-01", "No such day"), ("2024-02-30", "No such day"), ("%00", "No such day"),
    ("0001-01-01", "No such customer on that day"),
])
def test_bad_days_in_the_card_link_give_a_message(hostile_server, page, as_of, heading):
    login(page, hostile_server.url, "anna")
    response = page.goto(f"{hostile_server.url}/card?customer={hostile_server.customer_id}&as_of={as_of}")
    assert response.status == 200
    wait_idle(page)
    expect(page.locator("#cc-message")).to_contain_text(heading)
    assert_clean(page)
