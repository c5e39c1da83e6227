"""Every page in Swedish, Danish and English, in Debian's Chromium against the real server: no English word of
ours on a Swedish or Danish page (outside the firm's data), the language chosen on the profile (else the browser's
Accept-Language), and the Invoiced chart's axis and hover written as the language writes money.

"English words" are the words of the English source texts (the catalog's msgids) that the language's own texts
never use: what is left on a page after the firm's data (every text the database holds: names, list values,
comments …) is taken away must have none of them.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from urllib.parse import quote_plus

import pytest
from babel.messages.pofile import read_po
from playwright.sync_api import expect

from customercard.models import User
from customercard.passwords import hash_password
from customercard.ui.sections import SECTIONS

from .conftest import login, rich_customers, wait_idle

pytestmark = pytest.mark.browser
LOCALE = Path(__file__).resolve().parent.parent / "customercard" / "locale"
#: Names and words the three languages share (products, formats, codes) — never counted as English.
ALLOWED = {"customercard", "google", "maps", "sharepoint", "one", "click", "invoicing", "gln", "ean", "csv", "excel",
           "vcard", "smtp", "url", "json", "postgresql", "duckdb", "iso", "utf", "ctrl", "xlsx", "zip", "mb", "kb"}
#: The people of this test: one per language (administrators, to see every page), and whose browser asks for what.
PEOPLE = {"sv": ("sven", "Sven Svensson"), "da": ("dorte", "Dorte Dam"), "en": ("emma", "Emma English")}
ACCEPT = {"sv": "sv-SE,sv;q=0.9,en;q=0.5", "da": "da-DK,da;q=0.9", "en": "en-GB,en;q=0.9"}

VISIBLE_TEXT = """() => {
  const out = [];
  const shown = (el) => {
    if (!el) return false;
    const style = getComputedStyle(el);
    return style.display !== "none" && style.visibility !== "hidden" && el.getClientRects().length > 0;
  };
  function walk(root) {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
      if (node.nodeType === Node.TEXT_NODE) {
        const text = node.textContent.trim();
        const parent = node.parentElement || (node.parentNode && node.parentNode.host);
        if (!text || !parent || ["SCRIPT", "STYLE", "NOSCRIPT", "TEMPLATE"].includes(parent.tagName)) continue;
        if (parent.tagName === "OPTION" ? shown(parent.closest("select")) : shown(parent)) out.push(text);
        continue;
      }
      if (node.nodeType !== Node.ELEMENT_NODE) continue;
      for (const name of ["placeholder", "title", "aria-label", "alt"]) {
        const value = node.getAttribute(name);
        if (value && shown(node)) out.push(value);
      }
      if (node.tagName === "INPUT" && ["button", "submit"].includes(node.type) && node.value) out.push(node.value);
      if (node.shadowRoot) walk(node.shadowRoot);
    }
  }
  walk(document.body);
  out.push(document.title);
  return out;
}"""


CODE = re.compile(r"`[^`]*`|\{[^}]*\}|\S*[_/@$=<>]\S*|\S+\.\S+|--\S+")


def words_of(text: str) -> list[str]:
    """The words of a text, leaving out what is code rather than language: names with underscores or dots, paths,
    options, placeholders, `quoted code`."""
    return re.findall(r"[A-Za-z]{2,}", CODE.sub(" ", text or ""))


def english_words(language: str) -> set[str]:
    """Words of the English source texts that the language's translations never use."""
    with (LOCALE / language / "LC_MESSAGES" / "customercard.po").open("rb") as handle:
        catalog = read_po(handle)

    def words(texts) -> set[str]:
        found: set[str] = set()
        for text in texts:
            for part in (text if isinstance(text, tuple | list) else (text,)):
                found |= {w.lower() for w in words_of(part)}
        return found
    source = words(m.id for m in catalog if m.id)
    own = words(m.string for m in catalog if m.id)
    return source - own - ALLOWED


def data_texts(store) -> set[str]:
    """Every text the database holds that a page may show as it is: the firm's data, not ours to translate."""
    skip = {"admin_log", "sessions", "login_throttle", "schema_info", "change_stamps", "outbox", "prefs"}
    found: set[str] = set()
    tables = [row[0] for row in store.db.rows("SELECT table_name FROM information_schema.tables "
                                               "WHERE table_type = 'BASE TABLE'")]
    for table in tables:
        if table in skip or table.startswith("search_"):
            continue
        columns = [row[0] for row in store.db.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND data_type = 'VARCHAR'",
            [table])]
        for column in columns:
            for (value,) in store.db.rows(f'SELECT DISTINCT "{column}" FROM {table} WHERE "{column}" <> \'\''):
                found.add(value.strip())
                if value[:1] in "[{\"":  # lists kept as JSON (participants, values), settings' JSON values
                    try:
                        parsed = json.loads(value)
                    except ValueError:
                        continue
                    items = parsed if isinstance(parsed, list) else [parsed]
                    found |= {str(item).strip() for item in items}
    return {text for text in found if text}


SEPARATORS = re.compile(r"\s*(?: · |, |; | — |: |\(|\)|\n)\s*")


def foreign_words(texts: list[str], data: set[str], long_data: list[str], english: set[str]) -> dict[str, str]:
    """{English word: the text it was found in}, for the texts of a page after the firm's data is taken away."""
    flagged: dict[str, str] = {}
    for text in texts:
        if text in data:
            continue
        rest = text
        for value in long_data:  # names and sentences of data within our sentences
            if value in rest:
                rest = rest.replace(value, " ")
        pieces = [piece for piece in SEPARATORS.split(rest) if piece and piece not in data]
        for word in words_of(" ".join(pieces)):
            if word.lower() in english:
                flagged.setdefault(word, text)
    return flagged


@pytest.fixture(scope="module")
def firm(live_server):
    """The firm of this test: every card section shown (files, invoice address, a mail server), and three
    administrators who chose Swedish, Danish and English, with every section of the card open."""
    store = live_server.store
    settings = store.settings()
    settings.param.update(files_enabled=True, invoice_address_enabled=True, nicknames_enabled=True,
                          smtp_host="127.0.0.1", smtp_port=2525)
    store.save_settings(settings, user="admin")
    for language, (login_name, name) in PEOPLE.items():
        store.add_user(User(login=login_name, name=name, email=f"{login_name}@firm.example", role="admin",
                            projects_access=True), password_hash=hash_password("demo"), by="system:test")
        store.set_language(login_name, language, by="admin")
        for section in SECTIONS:
            store.set_pref(login_name, "card.collapsed." + section.key, False)
        store.set_pref(login_name, "contact.collapsed.activity", False)  # the contact card's timeline too
    customer_id = rich_customers(store)[0]
    changed = store.get_customer(customer_id)  # so that the card as of yesterday differs from today's
    changed.nickname = "Nyckelkunden"
    store.save_customer(changed, user="admin")
    contact_id = int(store.contacts(customer_id)["id"].iloc[0])
    project_id = int(store.projects(customer_id)["id"].iloc[0])
    data = data_texts(store)
    return {"customer": customer_id, "contact": contact_id, "project": project_id, "data": data,
            "as_of": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
            "long_data": sorted((d for d in data if " " in d), key=len, reverse=True)}


def visible_texts(page) -> list[str]:
    wait_idle(page)
    page.wait_for_timeout(150)
    return page.evaluate(VISIBLE_TEXT)


def visit_every_page(page, url: str, firm: dict) -> dict[str, list[str]]:
    """The visible texts of every page (and of the card's edit forms and the admin's tabs), by where they were."""
    seen: dict[str, list[str]] = {}
    for path in ("/search", "/new", f"/contact?contact={firm['contact']}", f"/project?project={firm['project']}",
                 "/pipeline", "/profile"):
        page.goto(url + path)
        seen[path] = visible_texts(page)
    card = f"{url}/card?customer={firm['customer']}"
    page.goto(card)
    seen["card"] = visible_texts(page)
    for key in ("header", "contact", "invoice_address", "economy"):  # the forms: labels, help, choices
        page.goto(card)
        wait_idle(page)
        box = page.locator(f"div.cc-section-{key}")
        box.locator("button.cc-tool-edit").click()
        expect(box.locator(".cc-save button")).to_be_visible()
        seen[f"card: edit {key}"] = visible_texts(page)
    page.goto(card)
    wait_idle(page)
    contact = page.locator("div.cc-section-contact")
    contact.locator("button.cc-tool-send-email").click()
    expect(contact.locator(".cc-email-form")).to_be_visible()
    seen["card: e-mail"] = visible_texts(page)
    page.goto(card)  # the invoices behind a year's bar
    wait_idle(page)
    invoiced = page.locator("div.cc-section-invoiced")
    invoiced.locator("#cc-invoiced-table button.cc-invoiced-year").first.click()
    expect(invoiced.locator("#cc-year-title")).to_be_visible()
    seen["card: a year's invoices"] = visible_texts(page)
    page.goto(f"{card}&as_of={firm['as_of']}")  # the card as it was, compared with today
    wait_idle(page)
    page.locator("button.cc-asof-compare").click()
    expect(page.locator("#cc-asof-diff")).to_be_visible()
    seen["card as of a day"] = visible_texts(page)
    page.goto(url + "/admin")
    wait_idle(page)
    tabs = page.locator(".cc-admin-tabs .bk-tab")
    for index in range(tabs.count()):
        tabs.nth(index).click()
        seen[f"admin tab {index}"] = visible_texts(page)
    return seen


@pytest.mark.parametrize("language", ["sv", "da"])
def test_every_page_is_in_the_users_language(live_server, browser, firm, language):
    english = english_words(language)
    assert {"customer", "save", "edit", "may"} <= english  # the check has words to find
    login_name, _name = PEOPLE[language]
    context = browser.new_context(extra_http_headers={"Accept-Language": ACCEPT["en"]})  # the user's choice wins
    page = context.new_page()
    login(page, live_server.url, login_name)
    seen = visit_every_page(page, live_server.url, firm)
    context.close()
    logged_out = browser.new_context(extra_http_headers={"Accept-Language": ACCEPT[language]})
    page = logged_out.new_page()
    page.goto(live_server.url + "/login")
    seen["/login"] = page.evaluate(VISIBLE_TEXT)
    expect(page.locator("html")).to_have_attribute("lang", language)
    logged_out.close()

    found = {where: foreign_words(texts, firm["data"], firm["long_data"], english) for where, texts in seen.items()}
    problems = [f"{where}: {word!r} in {text!r}" for where, words in found.items() for word, text in words.items()]
    assert not problems, "English on the page:\n" + "\n".join(problems)
    everything = " ".join(text for texts in seen.values() for text in texts)
    ours = {"sv": ["Kontaktuppgifter", "Fakturaadress", "Kundansvarig", "Sök kunder", "Systemadministration",
                   "Smeknamn", "Skicka e-post…", "Logga in"],
            "da": ["Kontaktoplysninger", "Fakturaadresse", "Kundeansvarlig", "Søg kunder", "Systemadministration",
                   "Kaldenavn", "Send e-mail…", "Log ind"]}[language]
    assert [word for word in ours if word not in everything] == []  # the pages were there, in the language


def test_the_english_pages_stay_english(live_server, browser, firm):
    """The same walk in English finds the English words (the check above can fail), and no Swedish or Danish."""
    context = browser.new_context(extra_http_headers={"Accept-Language": ACCEPT["sv"]})  # the user chose English
    page = context.new_page()
    login(page, live_server.url, PEOPLE["en"][0])
    seen = visit_every_page(page, live_server.url, firm)
    context.close()
    english = english_words("sv")
    found = {w for texts in seen.values() for w in foreign_words(texts, firm["data"], firm["long_data"], english)}
    assert {"customer", "edit", "save", "contact", "details"} <= {w.lower() for w in found}
    everything = " ".join(text for texts in seen.values() for text in texts)
    assert "Contact details" in everything and "Kontaktuppgifter" not in everything
    assert "Kontaktoplysninger" not in everything


@pytest.mark.parametrize("accept, expected", [
    ("sv-SE,sv;q=0.9,en;q=0.8", "sv"), ("en;q=0.3, da;q=0.9", "da"), ("en-US,en;q=0.9", "en"), ("fr-FR,fr", "sv"),
])
def test_the_login_page_follows_accept_language(live_server, browser, firm, accept, expected):
    """Before login the browser's Accept-Language decides (by q-value); a language we do not speak gets the firm's
    (Swedish here)."""
    context = browser.new_context(extra_http_headers={"Accept-Language": accept})
    page = context.new_page()
    page.goto(live_server.url + "/login")
    words = {"sv": "Logga in för att se dina kunder.", "da": "Log ind for at se dine kunder.",
             "en": "Log in to see your customers."}
    expect(page.locator("p.sub")).to_have_text(words[expected])
    expect(page.locator("html")).to_have_attribute("lang", expected)
    page.fill("#username", "sven")
    page.fill("#password", "wrong")
    page.click("#login-button")
    expect(page.locator("#login-error")).to_have_text({"sv": "Fel användarnamn eller lösenord.",
                                                      "da": "Forkert brugernavn eller adgangskode.",
                                                      "en": "Wrong login or password."}[expected])
    context.close()


def test_a_user_without_a_choice_reads_the_browsers_language_and_the_profile_switches_it(live_server, browser, firm):
    store = live_server.store
    store.add_user(User(login="nora", name="Nora Nilsen", email="nora@firm.example", role="manager"),
                   password_hash=hash_password("demo"), by="system:test")
    context = browser.new_context(extra_http_headers={"Accept-Language": "da-DK,da;q=0.9"})
    page = context.new_page()
    login(page, live_server.url, "nora")
    expect(page.locator("#cc-header")).to_contain_text("Kunder")
    expect(page.locator(".cc-filters")).to_contain_text("Søg kunder")  # Danish, as the browser asks
    page.goto(live_server.url + "/profile")
    wait_idle(page)
    chooser = page.locator(".cc-profile-language select")
    chooser.select_option(label="Svenska")
    expect(page.locator(".cc-profile-language-note")).to_contain_text("Gemt")  # said in the page's language
    assert store.get_user("nora").language == "sv"
    page.locator(".cc-profile-reload").click()  # the next page is in the chosen language, no restart
    wait_idle(page)
    expect(page.locator(".cc-profile-who")).to_contain_text("Användarnamn")
    page.goto(live_server.url + "/search")
    wait_idle(page)
    expect(page.locator(".cc-filters")).to_contain_text("Sök kunder")
    page.goto(live_server.url + "/profile")
    wait_idle(page)
    page.locator(".cc-profile-language select").select_option(label="English")
    expect(page.locator(".cc-profile-language-note")).to_contain_text("Sparat")
    page.goto(live_server.url + "/search")
    wait_idle(page)
    expect(page.locator(".cc-filters")).to_contain_text("Search customers")
    context.close()


@pytest.mark.parametrize("language, number, money", [
    ("sv", r"^-?\d{1,3}(\u00a0\d{3})*(,\d+)?$", r"^-?\d{1,3}(\u00a0\d{3})*\u00a0kr$"),
    ("da", r"^-?\d{1,3}(\.\d{3})*(,\d+)?$", r"^-?\d{1,3}(\.\d{3})*\u00a0SEK$"),
    ("en", r"^-?\d{1,3}(,\d{3})*(\.\d+)?$", r"^-?SEK\u00a0\d{1,3}(,\d{3})*$"),
])
def test_the_invoiced_charts_axis_and_hover_write_money_as_the_language_does(live_server, browser, firm, language,
                                                                           number, money):
    context = browser.new_context()
    page = context.new_page()
    login(page, live_server.url, PEOPLE[language][0], path=f"/card?customer={firm['customer']}")
    canvas = page.locator(".cc-invoiced-chart canvas.cc-chart").first
    expect(canvas).to_have_attribute("data-drawn", "true")
    chart = json.loads(canvas.get_attribute("data-chart"))
    ticks = [text for _value, text in chart["ticks"]]
    assert all(re.match(number, tick) for tick in ticks), ticks  # the axis, as the language writes numbers
    assert any(value >= 1000 for value, _text in chart["ticks"])  # (a grouped one among them)
    invoiced = {"sv": "Fakturerat", "da": "Faktureret", "en": "Invoiced"}[language]
    series = next(one for one in chart["series"] if one["name"] == invoiced)
    assert all(re.match(money, text) for text in series["texts"]), series["texts"]
    table = page.locator("#cc-invoiced-table").inner_text()
    shown = [text for text, amount in zip(series["texts"], series["amounts"], strict=True) if amount]
    assert shown and all(text in table for text in shown)  # each bar's amount as the table beside it says it
    # the pointer over the largest bar: its year, series and amount, labelled in the language
    largest = max(range(len(series["amounts"])), key=lambda index: series["amounts"][index])
    canvas.scroll_into_view_if_needed()
    bar = canvas.evaluate(f"c => c.cc_bars.find(b => b.year === {json.dumps(chart['years'][largest])} "
                          f"&& b.series === {json.dumps(invoiced)})")
    canvas.hover(position={"x": bar["x"] + bar["w"] / 2, "y": bar["y"] + bar["h"] / 2})
    tip = page.locator(".cc-invoiced-chart .cc-chart-tip")
    expect(tip).to_be_visible()
    year_label = {"sv": "År", "da": "År", "en": "Year"}[language]
    expect(tip).to_contain_text(f"{year_label}: {chart['years'][largest]}")
    expect(tip).to_contain_text(series["texts"][largest])
    page.mouse.move(0, 0)
    expect(tip).to_be_hidden()
    context.close()


@pytest.mark.parametrize(("language", "remove", "no_matches"), [("sv", "Ta bort", "Inga träffar"),
                                                                ("da", "Fjern", "Ingen resultater"),
                                                                ("en", "Remove", "No matches")])
def test_a_multi_choice_speaks_the_page_s_language(live_server, browser, firm, language, remove, no_matches):
    """Choices.js brings its own English: each chosen value's remove button ("Remove item: 'A &amp; B'", the value
    escaped twice) and "No results found". Both in the reader's language, the value as it shows."""
    store = live_server.store
    industries = list(store.list_values("industries")["label"][:2])
    context = browser.new_context(extra_http_headers={"Accept-Language": ACCEPT[language]})
    page = context.new_page()
    login_name, _name = PEOPLE[language]
    query = "&".join(f"industry={quote_plus(label)}" for label in industries)
    login(page, live_server.url, login_name, path=f"/search?{query}")
    buttons = page.locator(".cc-filter-industry .choices__list--multiple .choices__button")
    expect(buttons).to_have_count(2)
    expect(buttons.first).to_have_attribute("aria-label", f"{remove} {industries[0]}")
    field = page.locator(".cc-filter-status input.choices__input--cloned")
    field.click()
    field.press_sequentially("zzzqqq")
    expect(page.locator(".cc-filter-status .choices__item.has-no-results")).to_have_text(no_matches)
    context.close()


@pytest.mark.parametrize(("language", "heading", "label"), [("sv", "Kontaktpersoner", "Kund-id"),
                                                            ("da", "Kontaktpersoner", "Kunde-id"),
                                                            ("en", "Contact persons", "Customer id")])
def test_the_api_docs_page_speaks_the_language_asked_for_and_passes_axe(live_server, browser, language, heading,
                                                                        label):
    from .axe import blocking, describe, run_axe

    context = browser.new_context(extra_http_headers={"Accept-Language": ACCEPT[language]})
    page = context.new_page()
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator("nav")).to_contain_text(heading)
    expect(page.locator("#tag-contacts")).to_have_text(heading)  # the anchor keeps the document's tag
    text = page.locator("main").inner_text()
    assert label in text
    if language != "en":
        for english in ("Customer id", "Done by", "Created at", "The customer it is about.", "Bumped by every edit"):
            assert english not in text, english
    serious = blocking(run_axe(page)["violations"])
    assert serious == [], describe(serious)
    context.close()


@pytest.mark.parametrize(("language", "monday", "december", "first"), [("sv", "mån", "december", "mån"),
                                                                       ("da", "man.", "december", "man."),
                                                                       ("en", "Mon", "December", "Mon")])
def test_a_date_pickers_calendar_speaks_the_page_s_language(live_server, browser, firm, language, monday, december,
                                                            first):
    """Bokeh's date picker (flatpickr) brings English months and weekdays and weeks from Sunday: the calendar is in
    the reader's language, its weeks starting on Monday as theirs do, and its year field named in it too."""
    context = browser.new_context(extra_http_headers={"Accept-Language": ACCEPT[language]})
    page = context.new_page()
    login(page, live_server.url, PEOPLE[language][0], path="/pipeline?view=table")
    wait_idle(page)
    page.locator(".cc-close-from input:visible").first.click()
    calendar = page.locator(".flatpickr-calendar.open")
    expect(calendar).to_be_visible()
    weekdays = [text.strip() for text in calendar.locator(".flatpickr-weekday").all_inner_texts()]
    assert monday in weekdays and weekdays[0] == first
    months = calendar.locator("select.flatpickr-monthDropdown-months option")
    assert december in [text.strip() for text in months.all_inner_texts()]
    year_label = {"sv": "År", "da": "År", "en": "Year"}[language]
    expect(calendar.locator("input.cur-year")).to_have_attribute("aria-label", year_label)
    said = calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)").first.get_attribute("aria-label")
    pattern = {"sv": r"^1 \w+ \d{4}$", "da": r"^1\. \w+ \d{4}$", "en": r"^1 [A-Z]\w+ \d{4}$"}[language]
    assert re.match(pattern, said), said  # a day is read to a screen reader as the language says a date
    day = calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)").nth(10)
    day.focus()  # the day the keyboard is on: a focus ring (it was a light grey disc, 1.3:1)
    assert day.evaluate("(d) => { const s = getComputedStyle(d); return [s.outlineStyle, s.outlineWidth]; }") == [
        "solid", "2px"]
    context.close()


def test_a_change_made_in_another_language_is_drawn_in_the_page_s_own(live_server, browser, firm):
    """Sven reads a card in Swedish; an API client asking for Danish (its request's language is the thread's) saves a
    change to that customer: Sven's card shows the new value in Swedish, as everything else on his page."""
    from customercard.i18n import using_language

    store = live_server.store
    customer_id = rich_customers(store)[1]
    context = browser.new_context(extra_http_headers={"Accept-Language": ACCEPT["sv"]})
    page = context.new_page()
    login(page, live_server.url, PEOPLE["sv"][0])
    page.goto(f"{live_server.url}/card?customer={customer_id}")
    wait_idle(page)
    expect(page.get_by_text("Senast uppdaterad").first).to_be_visible()
    with using_language("da"):  # as /api/v1 and the store API run a call: in the language its request asked for
        customer = store.get_customer(customer_id)
        customer.nickname = "Dansk klient"
        store.save_customer(customer, user="admin")
    expect(page.get_by_text("Dansk klient").first).to_be_visible()
    card = " ".join(visible_texts(page))
    assert "Senast uppdaterad" in card and "Senest opdateret" not in card and "Rediger" not in card
    context.close()
