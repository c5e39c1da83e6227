"""What a person feels: interactions in Chromium, timed in the page from the user's input event to what it shows.

Each interaction is timed from the first keydown/mousedown/click the page sees (a capture listener on the document,
so inside components' shadow roots too) to the first moment its condition holds (checked every 5 ms). The
websocket's frames are time-stamped in the page as well: 'round trip' is the first frame sent after the input to the
last frame received before the condition held (the server's work and the socket); 'browser' is the rest (events,
Bokeh's model updates, layout and drawing). The baseline is Panel's own round trip: a text input whose keystrokes
the server echoes into a pane (``/bench-echo``), measured in the same run, interleaved with the others.
"""

from __future__ import annotations

import random
import time
from typing import Any

from .browser import BOKEH_IDLE, Browser, Server
from .common import say, summary

#: Time-stamps the user's input and the websocket's frames (installed before the page's own scripts).
INTERACTION_SCRIPT = """
(() => {
  window.__ccArm = false; window.__ccT0 = null; window.__ccSent = []; window.__ccRecv = [];
  for (const type of ['keydown', 'mousedown', 'click']) {
    document.addEventListener(type, () => {
      if (window.__ccArm) { window.__ccT0 = performance.now(); window.__ccArm = false; }
    }, true);
  }
  const Native = window.WebSocket;
  class Timed extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (e) => {
        const now = performance.now();
        window.__ccRecv.push(now);
        if (window.__ccPull && window.__ccPull.length === 1 && typeof e.data === 'string'
            && e.data.includes('PULL-DOC-REPLY')) window.__ccPull.push(now);
      });
    }
    send(data) {
      const now = performance.now();
      window.__ccSent.push(now);
      if (typeof data === 'string' && data.includes('PULL-DOC-REQ')) window.__ccPull = [now];
      return super.send(data);
    }
  }
  window.WebSocket = Timed;
  window.__ccLong = [];
  try {
    new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__ccLong.push(e.duration); })
      .observe({type: 'longtask', buffered: true});
  } catch (e) { /* no long-task timing in this browser */ }
  window.__ccDeep = function (selector, root) {
    const out = [];
    (function walk(node) {
      if (node.shadowRoot) walk(node.shadowRoot);
      if (!node.querySelectorAll) return;
      for (const e of node.querySelectorAll(selector)) out.push(e);
      for (const e of node.querySelectorAll('*')) if (e.shadowRoot) walk(e.shadowRoot);
    })(root || document);
    return out;
  };
  window.__ccActive = function () {
    let a = document.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  };
})();
"""

_ARM = "() => { window.__ccArm = true; window.__ccT0 = null; window.__ccDone = null; " \
       "window.__ccSent = []; window.__ccRecv = []; window.__ccArmedAt = performance.now(); }"
_RESULT = ("() => ({t0: window.__ccT0, done: window.__ccDone, sent: window.__ccSent, recv: window.__ccRecv, "
           "armed: window.__ccArmedAt})")
#: How many interactions were timed from the moment before the input was sent, because the page saw no input event
#: (rare; an upper bound for those: it adds Playwright's own dispatch).
UNSEEN_INPUTS = {"count": 0}
#: Enter → card / bare page pairs per round (a p95 over 20 pairs is their second largest: 40 pairs make it less
#: the mark of one renderer hiccup).
ENTER_PAIRS = 2


def timed(page, action, condition: str, arg: Any = None, timeout_ms: float = 30_000) -> dict[str, float]:
    """Run ``action`` (Playwright calls) and wait until the JavaScript ``condition`` (a function of ``arg``) holds;
    the time from the input event to then, split into the websocket round trip and the browser's part."""
    page.evaluate(_ARM)
    action()
    page.wait_for_function(
        "([cond, arg]) => { if (window.__ccDone) return true; const ok = (eval(cond))(arg);"
        " if (ok) window.__ccDone = performance.now(); return ok; }",
        arg=[condition, arg], polling=5, timeout=timeout_ms)
    r = page.evaluate(_RESULT)
    if r["t0"] is None:
        UNSEEN_INPUTS["count"] += 1
        r["t0"] = r["armed"]
    total = r["done"] - r["t0"]
    sent = [t for t in r["sent"] if t >= r["t0"]]
    recv = [t for t in r["recv"] if t <= r["done"]]
    trip = max(recv) - min(sent) if sent and recv and max(recv) > min(sent) else 0.0
    return {"ms": total, "round_trip_ms": trip, "browser_ms": max(total - trip, 0.0)}


def _ready(page, timeout_ms: float = 90_000) -> None:
    page.wait_for_function(BOKEH_IDLE, polling=5, timeout=timeout_ms)


# -- the conditions (JavaScript functions of one argument) ------------------------------------------------------
ECHOED = "(v) => window.__ccDeep('.cc-echoed').some(e => e.dataset.value === v)"
HITS_FOR = ("(q) => window.__ccDeep('ul[role=\"listbox\"]').some(u => u.dataset.for === q && !u.hidden"
            " && u.querySelector('li'))")
SECTION_DRAWN = ("([key, chart]) => { const s = window.__ccDeep('.cc-section-' + key)[0]; if (!s) return false;"
                 " const html = s.querySelector('.cc-sv-html'); if (!html || !html.innerHTML.trim()) return false;"
                 " if (!chart) return true; return window.__ccDeep('canvas', s)"
                 ".some(c => c.width > 0 && c.getBoundingClientRect().width > 0); }")
FORM_READY = ("(key) => { const s = window.__ccDeep('.cc-section-' + key)[0]; return !!(s &&"
              " window.__ccDeep('.cc-field-phone', s).some(f => window.__ccDeep('input', f)"
              ".some(i => i.getBoundingClientRect().width > 0))); }")
FOCUS_IN = ("(key) => { const a = window.__ccActive(); const s = window.__ccDeep('.cc-section-' + key)[0];"
            " if (!a || !s) return false; let n = a; while (n) { if (n === s) return true;"
            " n = n.parentNode || n.host; } return false; }")
SHOWS = ("([key, text]) => window.__ccDeep('.cc-section-' + key + ' .cc-contact-details')"
         ".some(e => e.textContent.includes(text))")
# The list's count line is drawn again and the URL carries the query (the count's text may stay the same when the
# next letter keeps the same customers, so the URL — set with the list — is what tells the list was redrawn).
COUNT_CHANGED = ("([before, q]) => { const c = window.__ccDeep('.cc-count-text')[0]; const s = location.search;"
                 " return !!c && (s.includes('q=' + encodeURIComponent(q) + '&') || s.endsWith('q=' + "
                 "encodeURIComponent(q))); }")


class Session:
    """One logged-in page in its own browser context, with the interaction script."""

    def __init__(self, browser: Browser) -> None:
        self.context = browser.browser.new_context(viewport={"width": 1300, "height": 1000},
                                                   storage_state=browser.state)
        self.context.add_init_script(INTERACTION_SCRIPT)
        self.page = self.context.new_page()

    def open(self, url: str) -> None:
        self.page.goto(url, wait_until="commit", timeout=90_000)
        _ready(self.page)

    def close(self) -> None:
        self.context.close()


def _section(page, key: str):
    return page.locator(f"div.cc-section-{key}")


def _fold(page, key: str, folded: bool) -> None:
    toggle = _section(page, key).locator("button.cc-sv-toggle")
    if (toggle.get_attribute("aria-expanded") == "true") == folded:
        toggle.click()
        page.wait_for_function(
            "([k, want]) => window.__ccDeep('.cc-section-' + k + ' button.cc-sv-toggle')"
            ".some(b => b.getAttribute('aria-expanded') === want)", arg=[key, "false" if folded else "true"],
            polling=20, timeout=30_000)
        time.sleep(0.3)  # the folded state is remembered on the server (the user's preference)


def echo_once(session: Session, url: str, text: str) -> list[dict[str, float]]:
    """The baseline: each keystroke of ``text`` into a Panel text input, until the server's echo is drawn."""
    page = session.page
    if "/bench-echo" not in page.url:
        session.open(url + "/bench-echo")
    box = page.locator(".cc-echo-input input")
    box.fill("")
    box.click()
    out = []
    for i in range(1, len(text) + 1):
        out.append(timed(page, lambda i=i: page.keyboard.type(text[i - 1]), ECHOED, text[:i]))
    return out


def search_keystrokes(session: Session, word: str) -> list[dict[str, float]]:
    """Each keystroke of ``word`` into the super search (of the page open), until that text's hits are drawn."""
    page = session.page
    box = page.locator("#cc-super-search")
    box.click()
    out = []
    for i in range(1, len(word) + 1):
        out.append(timed(page, lambda i=i: page.keyboard.type(word[i - 1]), HITS_FOR, word[:i]))
    return out


def card_and_sections(session: Session, url: str, customer: int, phone: str) -> dict[str, dict[str, float]]:
    """On one card: unfold two folded, never built sections (Comments, Invoiced with its chart); Edit on Contact
    details until the form is there (and whether the focus is in it); Save until the read view shows the value."""
    page = session.page
    session.open(f"{url}/card?customer={customer}")
    out: dict[str, dict[str, float]] = {}
    for key, chart in (("comments", False), ("invoiced", True)):
        toggle = _section(page, key).locator("button.cc-sv-toggle")
        if toggle.get_attribute("aria-expanded") != "false":
            raise RuntimeError(f"the {key} section is not folded on the card: the remembered layout was not saved")
        out[f"open {key}"] = timed(page, toggle.click, SECTION_DRAWN, [key, chart])
    contact = _section(page, "contact")
    out["edit"] = timed(page, contact.locator("button.cc-tool-edit").click, FORM_READY, "contact")
    out["edit"]["focused"] = float(page.evaluate(f"({FOCUS_IN})('contact')"))
    contact.locator(".cc-field-phone input").fill(phone)
    out["save"] = timed(page, contact.locator(".cc-save button").click, SHOWS, ["contact", phone])
    return out


def filter_keystrokes(session: Session, url: str, word: str) -> list[dict[str, float]]:
    """Each keystroke of ``word`` into Search customers' text filter, until the count and the URL show it."""
    page = session.page
    session.open(f"{url}/search")
    box = page.locator(".cc-filter-text input")
    box.click()
    out = []
    for i in range(1, len(word) + 1):
        before = page.evaluate("() => (window.__ccDeep('.cc-count-text')[0] || {}).textContent || ''")
        out.append(timed(page, lambda i=i: page.keyboard.type(word[i - 1]), COUNT_CHANGED, [before, word[:i]]))
    return out


#: A page open's phases on its own clock (ms since the navigation began): the server's part is from the request to
#: the first byte of its HTML (the session's document built) plus the document's pull over the websocket (request
#: to reply); the browser's is the rest (the previous page's unload, scripts, the document's views, layout and
#: drawing). ``long`` is the page's long tasks (over 50 ms, the renderer's main thread busy) summed.
PHASES = """() => { const n = performance.getEntriesByType('navigation')[0]; const now = performance.now();
  const pulled = (window.__ccPull || []);
  const pull = pulled.length >= 2 ? pulled[1] - pulled[0] : 0;
  const server = Math.max(n.responseStart - n.requestStart, 0) + Math.max(pull, 0);
  const long = (window.__ccLong || []).reduce((a, d) => a + d, 0);
  return {ms: now, server_ms: server, browser_ms: Math.max(now - server, 0), long_ms: long}; }"""


def open_card_by_enter(session: Session, url: str, name: str) -> dict[str, float]:
    """Type a customer's name into the super search, wait for its hits, press Enter: the card's time from the
    navigation that Enter starts to the document idle with the chart drawn (ms, the page's own clock), and its
    server's and browser's parts (see :data:`PHASES`)."""
    page = session.page
    if "/search" not in page.url:
        session.open(f"{url}/search")
    box = page.locator("#cc-super-search")
    box.click()
    box.fill(name)
    page.wait_for_function(HITS_FOR, arg=name, polling=5, timeout=30_000)
    box.press("Enter")
    page.wait_for_url("**/card?customer=*", wait_until="commit", timeout=90_000)
    page.wait_for_function(
        "() => { const d = window.Bokeh && Bokeh.documents && Bokeh.documents[0]; if (!(d && d.is_idle))"
        " return false; if (!window.__ccDeep('.cc-invoiced-chart').some(h => window.__ccDeep('canvas', h)"
        ".some(c => c.width > 0))) return false; window.__ccAt = performance.now(); return true; }",
        polling=5, timeout=90_000)
    return _phases(page)


def open_bare(session: Session, url: str) -> dict[str, float]:
    """The bare page's time from navigation to Bokeh idle (ms, the page's own clock), and its server's and
    browser's parts."""
    page = session.page
    page.goto(url + "/bench-bare", wait_until="commit", timeout=90_000)
    page.wait_for_function(
        "() => { const d = window.Bokeh && Bokeh.documents && Bokeh.documents[0]; if (!(d && d.is_idle))"
        " return false; window.__ccAt = performance.now(); return true; }", polling=5, timeout=90_000)
    return _phases(page)


def _phases(page) -> dict[str, float]:
    r = page.evaluate(PHASES)
    at = float(page.evaluate("() => window.__ccAt"))
    r["browser_ms"] = max(r["browser_ms"] - (r["ms"] - at), 0.0)
    r["ms"] = at
    return r


def run(browser: Browser, server: Server, customers: list[int], words: list[str], names: list[str],
        rounds: int) -> dict[str, Any]:
    """``rounds`` interleaved rounds of every interaction; the raw timings, summarised."""
    url = server.url
    rng = random.Random(7)
    samples: dict[str, list[dict[str, float]]] = {k: [] for k in (
        "echo", "search keystroke", "open comments", "open invoiced", "edit", "save", "filter keystroke")}
    card: list[dict[str, float]] = []
    bare: list[dict[str, float]] = []
    session = Session(browser)
    try:
        for i in range(rounds):
            customer = customers[i % len(customers)]
            word = words[i % len(words)]
            # the user's layout: Comments and Invoiced folded, so that the next card opens them unbuilt (opening
            # them there unfolds them again, as the card opened by Enter below needs its chart)
            session.open(f"{url}/card?customer={customer}")
            for key in ("comments", "invoiced"):
                _fold(session.page, key, True)
            samples["echo"] += echo_once(session, url, word)
            phone = f"+46 8 {rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"
            for name, value in card_and_sections(session, url, customer, phone).items():
                samples[name].append(value)
            samples["search keystroke"] += search_keystrokes(session, word)
            samples["filter keystroke"] += filter_keystrokes(session, url, word[:3])
            for pair in range(ENTER_PAIRS):  # card first in one pair, the bare page first in the next
                if (i + pair) % 2:
                    bare.append(open_bare(session, url))
                    card.append(open_card_by_enter(session, url, names[(i + pair * rounds) % len(names)]))
                else:
                    card.append(open_card_by_enter(session, url, names[(i + pair * rounds) % len(names)]))
                    bare.append(open_bare(session, url))
            say(f"   round {i + 1}/{rounds}: echo p50 {summary([s['ms'] for s in samples['echo']])['p50']:.0f} ms, "
                f"search {summary([s['ms'] for s in samples['search keystroke']])['p50']:.0f} ms, "
                f"save {samples['save'][-1]['ms']:.0f} ms")
    finally:
        session.close()
    result: dict[str, Any] = {}
    for name, values in samples.items():
        result[name] = {part: summary([v[part] for v in values]) for part in ("ms", "round_trip_ms", "browser_ms")}
        if name == "edit":
            result[name]["focused"] = sum(v.get("focused", 0.0) for v in values) / max(len(values), 1)
    result["enter to card"] = enter_summary(card, bare)
    return result


def enter_summary(card: list[dict[str, float]], bare: list[dict[str, float]]) -> dict[str, Any]:
    """The pairs' ratios (card / bare page, each pair measured back to back) and each side's parts, with the
    slowest pair's parts: where a slow pair's time went."""
    ratios = [c["ms"] / b["ms"] for c, b in zip(card, bare, strict=True) if b["ms"] > 0]
    out: dict[str, Any] = {"ratio": summary(ratios)}
    for side, rows in (("card", card), ("bare", bare)):
        out[side] = summary([r["ms"] for r in rows])
        for part in ("server_ms", "browser_ms", "long_ms"):
            out[f"{side} {part}"] = summary([r[part] for r in rows])
    if ratios:
        worst = max(range(len(ratios)), key=ratios.__getitem__)
        out["slowest pair"] = {"ratio": ratios[worst], "card": card[worst], "bare": bare[worst]}
    return out


def search_rounds(browser: Browser, server: Server, words: list[str], rounds: int) -> dict[str, Any]:
    """The super search alone (on a larger database): ``rounds`` words typed into it on the Search customers page,
    each round beside Panel's echo of the same word; the raw timings, summarised."""
    url = server.url
    samples: dict[str, list[dict[str, float]]] = {"echo": [], "search keystroke": []}
    session = Session(browser)
    try:
        session.open(f"{url}/search")
        search_keystrokes(session, words[-1])  # unmeasured: the first search of a new server
        for i in range(rounds):
            word = words[i % len(words)]
            samples["echo"] += echo_once(session, url, word)
            session.open(f"{url}/search")
            samples["search keystroke"] += search_keystrokes(session, word)
    finally:
        session.close()
    return {name: {part: summary([v[part] for v in values]) for part in ("ms", "round_trip_ms", "browser_ms")}
            for name, values in samples.items()}
