"""The benchmarks in a real browser: the served app as a subprocess (``python -m customercard serve --bench``)
and Debian's Chromium driven by Playwright, launched as in ``tests/conftest.py``."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from .common import ACTING_USER, PYTHON, ROOT, say, summary

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1300, "height": 1000}
PASSWORD = "demo"  # the documented demo password

BOKEH_IDLE = """() => { const d = window.Bokeh && Bokeh.documents && Bokeh.documents[0];
                       return !!(d && d.is_idle); }"""

#: Runs in every page before its own scripts: notes (performance.now(), i.e. ms since the navigation began)
#: the first moment Bokeh is idle and, on /card, a canvas with a non-zero size is inside the element with
#: class cc-invoiced-chart (searching through open shadow roots, as Playwright's CSS locators do). The chart's
#: canvas is 0 × 0 until the card's browser component has drawn it.
READY_SCRIPT = """
(() => {
  const needChart = location.pathname.startsWith('/card') || location.pathname.startsWith('/bench-chart');
  function deepAll(node, selector, out) {
    if (node.querySelectorAll) {
      for (const e of node.querySelectorAll(selector)) out.push(e);
      for (const e of node.querySelectorAll('*')) if (e.shadowRoot) deepAll(e.shadowRoot, selector, out);
    }
    if (node.shadowRoot) deepAll(node.shadowRoot, selector, out);
    return out;
  }
  function chartDrawn() {
    for (const host of deepAll(document, '.cc-invoiced-chart', [])) {
      for (const canvas of deepAll(host, 'canvas', [])) {
        const box = canvas.getBoundingClientRect();
        if (canvas.width > 0 && canvas.height > 0 && box.width > 0 && box.height > 0) return true;
      }
    }
    return false;
  }
  const timer = setInterval(() => {
    const d = window.Bokeh && Bokeh.documents && Bokeh.documents[0];
    if (d && window.__ccDoc === undefined) window.__ccDoc = performance.now();
    if (!(d && d.is_idle)) return;
    if (window.__ccIdle === undefined) window.__ccIdle = performance.now();
    if (needChart && !chartDrawn()) return;
    window.__ccReady = performance.now();
    clearInterval(timer);
  }, 5);
})();
"""

PAGE_FACTS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  const d = window.Bokeh && Bokeh.documents && Bokeh.documents[0];
  const models = d ? (d.all_models.size ?? d.all_models.length ?? [...d.all_models].length) : null;
  const big = resources.filter(r => (r.transferSize || r.encodedBodySize || 0) > 0)
    .map(r => ({name: r.name.replace(location.origin, ''), bytes: r.transferSize || 0,
                body: r.encodedBodySize || 0, ms: Math.round(r.duration)}));
  return {ready: window.__ccReady, doc_at: window.__ccDoc, idle_at: window.__ccIdle, models, resource_list: big,
          request_start: nav.requestStart, response_start: nav.responseStart, response_end: nav.responseEnd,
          dom_content_loaded: nav.domContentLoadedEventEnd, load: nav.loadEventEnd,
          resources: resources.length,
          transfer_bytes: resources.reduce((s, r) => s + (r.transferSize || 0), nav.transferSize || 0)};
}"""


# -- the server -------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``python -m customercard --db DB serve --bench --port P`` as a subprocess with its own data folder."""

    def __init__(self, database: Path, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "CUSTOMERCARD_DATA_DIR": str(data_dir), **(env or {})}
        env.pop("CUSTOMERCARD_DB", None)
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log = log.open("w")
        self.proc = subprocess.Popen(  # our own interpreter and module
            [PYTHON, "-m", "customercard", "--db", str(database), "serve", "--bench", "--port", str(self.port)],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self.log = log
        try:
            self._wait_for_port(180.0)
        except BaseException:
            self.stop()
            raise

    def _wait_for_port(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server ended (exit {self.proc.returncode}); see {self.log}:\n"
                                   + self.log.read_text()[-2000:])
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError(f"the server did not listen on port {self.port} within {timeout:.0f} s")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float:
        """The server process's resident set size (VmRSS), in MB."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
        raise RuntimeError("no VmRSS")

    def stop(self) -> None:
        """Stop the server by its own pid: SIGTERM, then SIGKILL if it does not end."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# -- the browser ------------------------------------------------------------------------------------------
class Browser:
    """One headless Chromium (Debian's) via Playwright, and the logged-in state to open contexts with."""

    def __init__(self) -> None:
        from playwright.sync_api import sync_playwright

        self._pw = sync_playwright().start()
        try:
            self.browser = self._pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except BaseException:
            self._pw.stop()
            raise
        self.version = self.browser.version
        self.state: dict[str, Any] | None = None

    def login(self, server: Server) -> None:
        """Log in once through the real login form (manager anna), as tests/conftest.py does (from /search),
        and keep the cookies for new contexts."""
        context = self.browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        page.goto(server.url + "/search")
        page.fill("#username", ACTING_USER)
        page.fill("#password", PASSWORD)
        page.click("#login-button")
        page.wait_for_function(BOKEH_IDLE, polling=50, timeout=60_000)
        if "/search" not in page.url:
            raise RuntimeError(f"the login did not lead to the search page: {page.url}")
        self.state = context.storage_state()
        response = page.goto(server.url + "/bench-bare")
        if response is None or response.status != 200 or "/login" in page.url:
            raise RuntimeError(f"/bench-bare is not served after the login ({page.url}): is --bench given?")
        context.close()

    def context(self):
        """A new browser context (empty cache) that is logged in and measures every page it opens."""
        context = self.browser.new_context(viewport=VIEWPORT, storage_state=self.state)
        context.add_init_script(READY_SCRIPT)
        return context

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self._pw.stop()

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def measure(page, url: str, timeout_ms: float = 90_000) -> dict[str, Any]:
    """Navigate and wait until the page is ready (see READY_SCRIPT). ``ms`` is measured in the page, from the
    start of the navigation to readiness; ``wall_ms`` is the same seen from here (adds Playwright's round trips)."""
    started = time.perf_counter()
    response = page.goto(url, wait_until="commit", timeout=timeout_ms)
    if response is not None and response.status >= 400:
        raise RuntimeError(f"{url} answered {response.status}")
    page.wait_for_function("() => window.__ccReady !== undefined", polling=20, timeout=timeout_ms)
    wall = (time.perf_counter() - started) * 1000.0
    facts = page.evaluate(PAGE_FACTS)
    if "/login" in page.url:
        raise RuntimeError(f"{url} went to the login page: the session cookie was not accepted")
    facts["ms"] = facts.pop("ready")
    facts["wall_ms"] = wall
    facts["server_ms"] = facts["response_start"] - facts["request_start"]
    facts["after_html_ms"] = facts["ms"] - facts["response_end"]
    facts["html_to_doc_ms"] = facts["doc_at"] - facts["response_end"]
    facts["doc_to_idle_ms"] = facts["idle_at"] - facts["doc_at"]
    facts["idle_to_chart_ms"] = facts["ms"] - facts["idle_at"]
    return facts


# -- 1. the card against the bare page ----------------------------------------------------------------------
def card_vs_bare(browser: Browser, server: Server, customers: list[int], mode: str,
                 warmup_customers: list[int]) -> dict[str, Any]:
    """Card and bare page alternately (the order swaps every pair), ``mode`` 'warm' (one context, cache warm)
    or 'cold' (a new context, empty cache, for every navigation). The cards of ``warmup_customers`` and the
    bare page are opened first, unmeasured."""
    card_urls = [f"{server.url}/card?customer={c}" for c in customers]
    bare_url = f"{server.url}/bench-bare"
    warm_context = browser.context() if mode == "warm" else None
    warm_page = warm_context.new_page() if warm_context else None

    def visit(url: str) -> dict[str, Any]:
        if warm_page is not None:
            return measure(warm_page, url)
        context = browser.context()
        try:
            return measure(context.new_page(), url)
        finally:
            context.close()

    try:
        for customer_id in warmup_customers:
            visit(f"{server.url}/card?customer={customer_id}")
            visit(bare_url)
        cards, bares, ratios, wall_ratios = [], [], [], []
        for index, url in enumerate(card_urls):
            if index % 2 == 0:
                card, bare = visit(url), visit(bare_url)
            else:
                bare, card = visit(bare_url), visit(url)
            cards.append(card)
            bares.append(bare)
            ratios.append(card["ms"] / bare["ms"])
            wall_ratios.append(card["wall_ms"] / bare["wall_ms"])
    finally:
        if warm_context is not None:
            warm_context.close()

    def facts(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {key: summary([r[key] for r in rows if r[key] is not None])
                for key in ("ms", "wall_ms", "server_ms", "response_end", "dom_content_loaded", "after_html_ms",
                            "html_to_doc_ms", "doc_to_idle_ms", "idle_to_chart_ms", "models", "resources",
                            "transfer_bytes")}

    return {"mode": mode, "pairs": len(cards), "card": facts(cards), "bare": facts(bares),
            "card_resources": cards[0]["resource_list"], "bare_resources": bares[0]["resource_list"],
            "ratio": summary(ratios), "wall_ratio": summary(wall_ratios), "card_samples": [r["ms"] for r in cards],
            "bare_samples": [r["ms"] for r in bares]}


def chart_alone(browser: Browser, server: Server, customers: list[int]) -> dict[str, Any]:
    """The Invoiced chart of each customer alone, as the only section of the card's browser component
    (``/bench-chart``), and the bare page, alternately, warm: what the chart costs a page."""
    context = browser.context()
    page = context.new_page()
    urls = {"chart": f"{server.url}/bench-chart?customer=", "bare": f"{server.url}/bench-bare?customer="}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in urls}
    try:
        for url in urls.values():  # warm-up
            measure(page, f"{url}{customers[0]}")
        for index, customer_id in enumerate(customers):
            order = list(urls.items()) if index % 2 == 0 else list(reversed(urls.items()))
            for name, url in order:
                rows[name].append(measure(page, f"{url}{customer_id}"))
    finally:
        context.close()
    return {name: {key: summary([r[key] for r in found if r[key] is not None])
                   for key in ("ms", "server_ms", "response_end", "html_to_doc_ms", "doc_to_idle_ms",
                               "idle_to_chart_ms", "models")}
            for name, found in rows.items()}


# -- 5. many users --------------------------------------------------------------------------------------------
def wait_rss_settled(server: Server, least: float, most: float, step: float = 2.0) -> tuple[float, float]:
    """Poll the server's RSS after sessions were closed: wait at least ``least`` seconds (Bokeh discards an
    unused session 15 s after its last connection, checking every 17 s), then until three polls in a row are
    within 1 % of each other, at most ``most`` seconds. Returns (RSS MB, seconds waited)."""
    started = time.monotonic()
    readings: list[float] = []
    while True:
        time.sleep(step)
        readings.append(server.rss_mb())
        waited = time.monotonic() - started
        last = readings[-3:]
        if waited >= least and len(last) == 3 and (max(last) - min(last)) <= 0.01 * max(last):
            return readings[-1], waited
        if waited >= most:
            return readings[-1], waited


WARMUP_SESSIONS = 5


def many_users(browser: Browser, server: Server, customers: list[int], sessions: int = 30, rounds: int = 3,
               settle_least: float = 36.0, settle_most: float = 60.0) -> dict[str, Any]:
    """Keep ``sessions`` browser sessions (contexts) open at once, opened one after another, on one server;
    the server's RSS with 0, 10 and ``sessions`` open, and after ``rounds`` rounds of opening and closing."""
    pick = iter(customers * (rounds + 2))
    say("  warm-up: 5 sessions opened and closed, then waiting for the server to discard them")
    warm = []
    for _ in range(5):
        context = browser.context()
        measure(context.new_page(), f"{server.url}/card?customer={next(pick)}")
        warm.append(context)
    for context in warm:
        context.close()
    rss0, waited = wait_rss_settled(server, settle_least, settle_most)
    say(f"  RSS with 0 sessions after warm-up: {rss0:.0f} MB (settled after {waited:.0f} s)")
    rounds_out = []
    open_ms: list[float] = []
    for round_index in range(rounds):
        contexts = []
        times = []
        rss_at: dict[str, float] = {"0": server.rss_mb()}
        for index in range(sessions):
            context = browser.context()
            contexts.append(context)
            facts = measure(context.new_page(), f"{server.url}/card?customer={next(pick)}")
            times.append(facts["ms"])
            if index + 1 == min(10, sessions):
                time.sleep(1.0)
                rss_at["10"] = server.rss_mb()
        time.sleep(1.0)
        rss_at[str(sessions)] = server.rss_mb()
        for context in contexts:
            context.close()
        after, waited = wait_rss_settled(server, settle_least, settle_most)
        rss_at["after_close"] = after
        open_ms += times
        rounds_out.append({"open_ms": summary(times), "rss_mb": rss_at, "settle_s": waited})
        say(f"  round {round_index + 1}: card open p50 {summary(times)['p50']:.0f} ms, p95 "
            f"{summary(times)['p95']:.0f} ms; RSS 0/10/{sessions}/closed: {rss_at['0']:.0f}/{rss_at['10']:.0f}/"
            f"{rss_at[str(sessions)]:.0f}/{after:.0f} MB")
    first = rounds_out[0]["rss_mb"]
    per_session = (first[str(sessions)] - rss0) / sessions
    per_session_rounds = [(r["rss_mb"][str(sessions)] - r["rss_mb"]["0"]) / sessions for r in rounds_out]
    final = rounds_out[-1]["rss_mb"]["after_close"]
    after_first = rounds_out[0]["rss_mb"]["after_close"]
    return {"sessions": sessions, "rounds": rounds, "rss0_mb": rss0, "rss10_mb": first["10"],
            "growth_after_round1_pct": (final - after_first) / after_first * 100.0,
            "rss30_mb": first[str(sessions)], "per_session_mb": per_session,
            "per_session_mb_each_round": per_session_rounds, "rss_after_rounds_mb": final,
            "growth_pct": (final - rss0) / rss0 * 100.0, "open_ms": summary(open_ms), "rounds_detail": rounds_out}


# -- open pages that follow changes ---------------------------------------------------------------------------
def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds the process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _counted_page(browser: Browser):
    """A logged-in page that counts the websocket frames it receives (``page.frames_in[0]``)."""
    context = browser.context()
    page = context.new_page()
    page.frames_in = [0]

    def on_socket(socket) -> None:
        socket.on("framereceived", lambda _frame: page.frames_in.__setitem__(0, page.frames_in[0] + 1))
    page.on("websocket", on_socket)
    return page


def idle_and_live(browser: Browser, server: Server, customers: list[int], pages: int = 5, idle_s: float = 60.0,
                  changes: int = 10) -> dict[str, Any]:
    """What open pages cost while nothing happens, and how soon one shows another session's save.

    ``pages`` cards and as many bare pages are opened, then left alone for ``idle_s`` seconds each set: the server's
    CPU seconds and the websocket frames the pages receive meanwhile. Then a card open in one context and the same
    card edited in another: the time from the click on Save until the first card shows the new value."""
    result: dict[str, Any] = {"pages": pages, "idle_s": idle_s}
    for kind, path in (("bare", "/bench-bare"), ("card", "/card?customer={}")):
        opened = []
        for customer_id in customers[:pages]:
            page = _counted_page(browser)
            measure(page, server.url + path.format(customer_id))
            opened.append(page)
        time.sleep(2.0)  # what follows opening (filled sections, held search) is done
        frames = sum(p.frames_in[0] for p in opened)
        cpu = _cpu_seconds(server.pid)
        time.sleep(idle_s)
        result[kind] = {"cpu_s": _cpu_seconds(server.pid) - cpu,
                        "frames_per_min": (sum(p.frames_in[0] for p in opened) - frames) * 60.0 / idle_s / pages}
        for page in opened:
            page.context.close()
    customer_id = customers[pages]
    watcher, editor = _counted_page(browser), _counted_page(browser)
    measure(watcher, f"{server.url}/card?customer={customer_id}")
    measure(editor, f"{server.url}/card?customer={customer_id}")
    contact = "div.cc-section-contact"
    shown = []
    for i in range(changes):
        number = f"+46 8 {700 + i} 12 {30 + i}"
        editor.locator(f"{contact} button.cc-tool-edit").click()
        field = editor.locator(f"{contact} .cc-field-phone input")
        field.fill(number)
        started = time.perf_counter()
        editor.locator(f"{contact} .cc-save button").click()
        watcher.locator(f"{contact} .cc-contact-details", has_text=number).wait_for(timeout=30_000)
        shown.append((time.perf_counter() - started) * 1000)
    result["shown_ms"] = summary(shown)
    watcher.context.close()
    editor.context.close()
    return result
