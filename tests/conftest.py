"""Fixtures that build real things: DuckDB files in temporary folders filled by the demo generator with a
fixed seed, a real Panel server on a free loopback port, Debian's Chromium driven by Playwright."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import socket
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

# Keep everything the app writes (cookie secret, files) out of the checkout, and act as a known user.
_DATA = tempfile.mkdtemp(prefix="customercard-test-data-")
os.environ["CUSTOMERCARD_DATA_DIR"] = _DATA
os.environ["CUSTOMERCARD_USER"] = "anna"
os.environ["CUSTOMERCARD_LANGUAGE"] = "en"  # texts and formats in English wherever a test does not choose a language
os.environ.pop("CUSTOMERCARD_DB", None)

from customercard.demo import build_demo  # noqa: E402
from customercard.store import Store  # noqa: E402

DEMO_TODAY = dt.date(2026, 6, 15)
DEMO_CUSTOMERS = 120
DEMO_SEED = 7
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo database made once per test run; tests get copies of it. Without the demo's follow-ups: the tests of
    follow-ups and the home page count the ones they make (tests/test_demo.py tests the demo's own)."""
    path = tmp_path_factory.mktemp("demo-template") / "demo.duckdb"
    with Store(path) as store:
        build_demo(store, customers=DEMO_CUSTOMERS, seed=DEMO_SEED, today=DEMO_TODAY, progress=False,
                   follow_ups=False)
    return path


def copy_database(template: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "customercard.duckdb"
    shutil.copy(template, target)
    return target


BACKENDS = ["duckdb", "postgresql"]
#: A number for each database the tests make (its name is unique in the test run).
database_numbers = iter(range(1, 10**9))


@dataclass
class StoreTemplate:
    """A seeded database made once per backend (a DuckDB file, or a PostgreSQL template database); :meth:`open`
    gives each example a private copy of it."""

    backend: str
    path: Path | None = None
    server: Any = None
    name: str = ""

    def open(self) -> tuple[Store, Callable[[], None]]:
        """A store on a new copy, and what closes it and throws the copy away."""
        if self.backend == "duckdb":
            folder = Path(tempfile.mkdtemp(prefix="customercard-copy-"))
            store = Store(copy_database(self.path, folder))

            def close() -> None:
                store.close()
                shutil.rmtree(folder, ignore_errors=True)
            return store, close
        name = f"test_{next(database_numbers)}"
        store = Store(self.server.create_database(name, template=self.name))

        def drop() -> None:
            store.close()
            self.server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')
        return store, drop


@pytest.fixture(scope="session")
def pg_server():
    """A throw-away PostgreSQL cluster on a loopback port for the whole run (Debian's postgresql package)."""
    from .postgres_server import TempPostgres

    server = TempPostgres().start()
    yield server
    server.stop()


def _pg_template(server, name: str, fill) -> str:
    """A PostgreSQL database filled once, to be copied (CREATE DATABASE … TEMPLATE) for each test."""
    url = server.create_database(name)
    with Store(url) as store:
        fill(store)
    return name


@pytest.fixture(scope="session")
def demo_template_pg(pg_server) -> str:
    return _pg_template(pg_server, "tpl_demo", lambda store: build_demo(
        store, customers=DEMO_CUSTOMERS, seed=DEMO_SEED, today=DEMO_TODAY, progress=False, follow_ups=False))


@pytest.fixture(scope="session")
def empty_template_pg(pg_server) -> str:
    return _pg_template(pg_server, "tpl_empty", _fill_empty)


def _backend_store(request, duckdb_template: Path, pg_template_fixture: str, tmp_path: Path):
    """A store on a private copy of a template database, on the backend the test is parametrised with."""
    if request.param == "duckdb":
        store = Store(copy_database(duckdb_template, tmp_path / "db"))
        yield store
        store.close()
        return
    server = request.getfixturevalue("pg_server")
    template = request.getfixturevalue(pg_template_fixture)
    name = f"test_{next(database_numbers)}"
    store = Store(server.create_database(name, template=template))
    yield store
    store.close()
    server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture(params=BACKENDS)
def demo_store(request, demo_template: Path, tmp_path: Path):
    """A store on a private copy of the demo database — on DuckDB and on PostgreSQL."""
    yield from _backend_store(request, demo_template, "demo_template_pg", tmp_path)


def _fill_empty(store: Store) -> None:
    """The default lists, one admin, one manager and one viewer (password 'secret', short: given as a hash, as the
    demo builder gives its users theirs)."""
    from customercard.firm_defaults import install_defaults
    from customercard.models import User
    from customercard.passwords import hash_password

    install_defaults(store)
    for login, role in (("boss", "admin"), ("anna", "manager"), ("vera", "viewer")):
        store.add_user(User(login=login, name=login.title(), email=f"{login}@firm.example", role=role,
                            projects_access=role != "viewer"), password_hash=hash_password("secret"), by="system:test")


@pytest.fixture(scope="session")
def empty_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new DuckDB database filled by :func:`_fill_empty`."""
    path = tmp_path_factory.mktemp("empty-template") / "empty.duckdb"
    with Store(path) as store:
        _fill_empty(store)
    return path


@pytest.fixture(params=BACKENDS)
def empty_store(request, empty_template: Path, tmp_path: Path):
    """A store on a private copy of an empty firm's database — on DuckDB and on PostgreSQL."""
    yield from _backend_store(request, empty_template, "empty_template_pg", tmp_path)


@contextlib.contextmanager
def running_beside(work: Callable[[], None]) -> Iterator[threading.Event]:
    """Run ``work`` on a thread of its own while the block runs (a second writer beside the test's reads); the event
    is set once it has ended. Leaving the block waits for it and raises what it raised."""
    done, failures = threading.Event(), []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # (raised again in the test's thread)
            failures.append(exc)
        finally:
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    try:
        yield done
    finally:
        thread.join()
    if failures:
        raise failures[0]


def eventually(check, timeout: float = 10.0) -> None:
    """Wait for ``check()`` to hold (a change on PostgreSQL travels as a NOTIFY to a listener thread first)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            assert check()
            return
        except (AssertionError, KeyError, IndexError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def live_server(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The real app served by a Panel server in this process on a free loopback port, on its own database."""
    from customercard import app

    store = Store(copy_database(demo_template, tmp_path_factory.mktemp("live")))
    port = free_port()
    server = app.make_server(store, port=port, threaded=True, start=True)
    wait_for_port(port)
    yield SimpleNamespace(url=f"http://127.0.0.1:{port}", store=store, port=port, server=server)
    server.stop()
    store.close()


@pytest.fixture
def budgeted(demo_template: Path, tmp_path: Path):
    """The app served on its own database, its tokens allowed 3 requests a minute (the API's budget)."""
    from .api_support import serve_api

    store = Store(copy_database(demo_template, tmp_path))
    served = serve_api(store, per_minute=3)
    yield served
    served.server.stop()
    store.close()


# -- Playwright on Debian's Chromium ---------------------------------------------------------------------
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1300, "height": 1000}}


BOKEH_IDLE = """() => { const d = window.Bokeh && Bokeh.documents && Bokeh.documents[0];
                       return !!(d && d.is_idle); }"""


def wait_idle(page, timeout: float = 30_000) -> None:
    """Wait until Bokeh has rendered the document and has nothing pending."""
    page.wait_for_function(BOKEH_IDLE, polling=50, timeout=timeout)


#: JavaScript for a test's one-turn page script (``"() => {" + PAGE_VIEWS + …``): ``views``, every Bokeh view of the
#: page, and ``deep(selector)``, the elements matching it inside every shadow root too.
PAGE_VIEWS = """
  const views = [];
  const walk = (v) => {
    if (!v || views.includes(v)) return;
    views.push(v);
    for (const c of (v.child_views || [])) walk(c);
  };
  for (const root of Object.values(Bokeh.index)) walk(root);
  const deep = (sel) => {
    const out = [];
    (function w(n) {
      if (n.shadowRoot) w(n.shadowRoot);
      for (const e of n.querySelectorAll(sel)) out.push(e);
      for (const e of n.querySelectorAll("*")) if (e.shadowRoot) w(e.shadowRoot);
    })(document);
    return out;
  };
"""

def login(page, base_url: str, user: str, password: str = "demo", path: str = "/search") -> None:
    """Log in through the real login form and wait for the page asked for."""
    page.goto(base_url + path)
    page.fill("#username", user)
    page.fill("#password", password)
    page.click("#login-button")
    wait_idle(page)


def form_login(opener, base_url: str, user: str, password: str = "demo", next_path: str = "/search"):
    """Log in through the login form with a urllib opener that keeps cookies: GET the form (its hidden fields and
    the xsrf cookie), POST it back; the response after the redirect."""
    from .http_client import form_fields

    page = opener.open(f"{base_url}/login?next={urllib.parse.quote(next_path, safe='')}").read().decode()
    form = {**form_fields(page), "username": user, "password": password}
    return opener.open(f"{base_url}/login", data=urllib.parse.urlencode(form).encode())


RICH_CUSTOMER_SQL = """
    SELECT c.id FROM customers c
    WHERE (SELECT count(*) FROM comments m WHERE m.customer_id = c.id) > 3
      AND (SELECT count(*) FROM contacts k WHERE k.customer_id = c.id AND NOT k.active) > 0
      AND (SELECT count(*) FROM contacts k WHERE k.customer_id = c.id AND k.active) > 0
      AND (SELECT count(*) FROM projects p WHERE p.customer_id = c.id) > 0
      AND (SELECT count(*) FROM invoiced_yearly i WHERE i.customer_id = c.id) > 2
      AND NOT c.archived AND c.visit_country = 'SE'  -- as the demo firm: the tests type Swedish numbers
    ORDER BY c.id"""


def rich_customers(store) -> list[int]:
    """Swedish demo customers with invoices, active and inactive contacts, projects and more than three
    comments."""
    return [int(i) for i in store.sql(RICH_CUSTOMER_SQL)["id"]]


@pytest.fixture(autouse=True)
def _fresh_bokeh_document():
    """Each test starts with a Bokeh document of its own, not one a server in this process left behind."""
    from customercard.server import forget_session_documents

    forget_session_documents()
