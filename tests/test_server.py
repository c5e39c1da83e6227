"""The server is an object: two of them in one process, each on its own DuckDB file, with its own data and its
own login sessions; the benchmark's pages only where asked for; no module state set with ``global``."""

from __future__ import annotations

import ast
import time
import urllib.parse
from pathlib import Path
from types import SimpleNamespace

import pytest

from customercard import app
from customercard.models import Customer
from customercard.store import Store

from .conftest import copy_database, free_port, login, wait_for_port
from .http_client import Client, form_fields

PACKAGE = Path(__file__).resolve().parent.parent / "customercard"


def _serve(store: Store, **options) -> SimpleNamespace:
    port = free_port()
    server = app.make_server(store, port=port, threaded=True, start=True, **options)
    wait_for_port(port)
    return SimpleNamespace(url=f"http://127.0.0.1:{port}", store=store, server=server)


@pytest.fixture(scope="module")
def two_servers(demo_template, tmp_path_factory):
    """Two servers started in this process on two copies of the demo database; a customer only the first has."""
    stores = [Store(copy_database(demo_template, tmp_path_factory.mktemp(name))) for name in ("first", "second")]
    only_first = stores[0].create_customer(Customer(name="Only In The First AB"), user="anna")
    servers = [_serve(store) for store in stores]
    yield SimpleNamespace(first=servers[0], second=servers[1], only_first=only_first.id)
    for served in servers:
        served.server.stop()
    for store in stores:
        store.close()


def logged_in(served: SimpleNamespace, user: str = "anna") -> Client:
    client = Client(served.url, headers={"Accept-Language": "en"})  # the firm's language is Swedish
    reply = client.log_in(user, "demo")
    assert reply.status == 302 and "/login" not in reply.location, (reply.status, reply.location)
    return client


def test_two_servers_in_one_process_each_serve_their_own_data(two_servers):
    first, second = logged_in(two_servers.first), logged_in(two_servers.second)
    customer_id = two_servers.only_first

    assert first.get(f"/api/customers/{customer_id}").json()["fields"]["name"] == "Only In The First AB"
    assert second.get(f"/api/customers/{customer_id}").status == 404
    page = first.get(f"/card?customer={customer_id}")
    assert page.status == 200 and "<title>Only In The First AB · customercard</title>" in page.body
    missing = second.get(f"/card?customer={customer_id}")
    assert missing.status == 404 and "<title>No such customer · customercard</title>" in missing.body
    assert "Only In The First AB" not in missing.body
    assert two_servers.first.server.current_store() is two_servers.first.store
    assert two_servers.second.server.current_store() is two_servers.second.store


def test_logging_out_of_one_server_leaves_the_other_s_session_alone(two_servers):
    first, second = logged_in(two_servers.first), logged_in(two_servers.second)
    kept = Client(two_servers.first.url, cookies=dict(first.cookies))  # the first server's cookies, copied

    out = first.get("/logout")
    assert out.status == 302 and "logged_out" in out.location
    assert kept.get("/search").status == 302  # ended on the first server …
    assert second.get("/search").status == 200  # … while the second's session goes on
    assert second.get("/api/customers/1").status == 200
    ended = two_servers.second.store.db.row(
        "SELECT count(*) FROM sessions WHERE login = 'anna' AND ended_at IS NOT NULL")[0]
    assert ended == 0


def test_a_session_of_one_server_does_not_open_the_other(two_servers):
    first = logged_in(two_servers.first, "erik")
    # Both sign cookies with the data folder's secret, so only the session rows can tell them apart.
    borrowed = Client(two_servers.second.url, cookies=dict(first.cookies))
    page = borrowed.get("/search")
    assert page.status == 302 and "/login" in page.location
    assert borrowed.get("/api/customers/1").status == 401


@pytest.mark.browser
def test_a_server_counts_its_sessions_and_gives_memory_back_after_the_last_ends(two_servers, browser):
    server = two_servers.second.server
    released: list[int] = []
    server.memory.when_idle("test", lambda: released.append(server.memory.live) or 0.0)
    context = browser.new_context()
    login(context.new_page(), two_servers.second.url, "anna", path="/card?customer=1")
    assert server.memory.live >= 1 and released == []
    context.close()  # Bokeh discards the session a while later; the release follows a few seconds after
    deadline = time.monotonic() + 90
    while not released and time.monotonic() < deadline:
        time.sleep(0.2)
    assert released == [0] and not server.memory.pending


def test_the_benchmark_pages_are_served_only_with_bench(demo_template, tmp_path):
    with Store(copy_database(demo_template, tmp_path / "db")) as store:
        customer_id = int(store.list_customers(limit=1)[0]["id"][0])
        plain, bench = _serve(store), _serve(store, bench=True)
        try:
            assert logged_in(plain).get("/bench-bare").status == 404
            client = logged_in(bench)
            for path in ("/bench-bare", f"/bench-chart?customer={customer_id}",
                         f"/bench-chart-view?customer={customer_id}", "/search"):
                assert client.get(path).status == 200, path
        finally:
            plain.server.stop()
            bench.server.stop()


def test_no_module_state_is_set_with_a_global_statement():
    found = [f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
             for path in sorted(PACKAGE.rglob("*.py"))
             for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Global | ast.Nonlocal)]
    assert found == []



def test_a_stopped_server_leaves_this_process_a_document_to_draw_in(demo_template, tmp_path):
    """Panel leaves a served session's document as Bokeh's current one; after the server stops, HoloViews (or a
    notebook) in the same process draws in a live document of its own, not in an ended session's."""
    import holoviews as hv
    import pandas as pd
    from bokeh.io import curdoc

    from customercard.ui.sections.invoiced import bar_chart

    store = Store(copy_database(demo_template, tmp_path))
    served = _serve(store)
    try:
        client = logged_in(served)
        assert client.get("/search").status == 200
    finally:
        served.server.stop()
        store.close()
    assert curdoc().session_context is None
    figures = pd.DataFrame({"year": [2024, 2025], "amount": [1.0, 2.0]})
    assert hv.renderer("bokeh").get_plot(bar_chart(figures, "SEK")).state is not None


def test_a_serving_process_takes_its_start_up_objects_out_of_the_collectors_view():
    """``customercard serve`` freezes what it made to start, so that a full garbage collection (after sessions
    close, or as allocations pile up) looks only at what sessions made: measured in a process of its own."""
    import subprocess
    import sys

    code = ("import gc, time\n"
            "import customercard.app, panel, pandas\n"
            "from customercard.server import freeze_start_up_objects\n"
            "tracked = len(gc.get_objects())\n"
            "freeze_start_up_objects()\n"
            "assert gc.get_freeze_count() >= tracked // 2, (gc.get_freeze_count(), tracked)\n"
            "t = time.perf_counter(); gc.collect(); spent = time.perf_counter() - t\n"
            "from customercard.memory import FULL_COLLECTION_EVERY, collect_when_quiet\n"
            "collect_when_quiet(serving=True)\n"  # and Python's own full collections run less often
            "assert gc.get_threshold()[2] == FULL_COLLECTION_EVERY, gc.get_threshold()\n"
            "print(gc.get_freeze_count(), len(gc.get_objects()), spent)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    frozen, left, _spent = done.stdout.split()
    assert int(frozen) > 50_000 and int(left) < int(frozen) // 10


def test_a_serving_process_skips_bokehs_diagnostics_unless_asked_for_them():
    """Bokeh checks every callback's signature as Panel links a model's properties (about a sixth of making a
    widget's model: every card and form a user opens); a serving process turns that off — with the models still
    made and their callbacks still working — and ``BOKEH_PERFORM_ERROR_DIAGNOSTICS`` in the environment wins."""
    import os
    import subprocess
    import sys

    code = ("from bokeh.settings import settings\n"
            "from bokeh.models import TextInput\n"
            "from customercard.server import bokeh_as_served\n"
            "before = settings.perform_error_diagnostics()\n"
            "bokeh_as_served()\n"
            "model, seen = TextInput(), []\n"
            "model.on_change('value', lambda attr, old, new: seen.append(new))\n"
            "model.value = 'x'\n"
            "assert seen == ['x'], seen\n"
            "print(before, settings.perform_error_diagnostics())\n")
    env = {k: v for k, v in os.environ.items() if k != "BOKEH_PERFORM_ERROR_DIAGNOSTICS"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "False"]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False,
                          env={**env, "BOKEH_PERFORM_ERROR_DIAGNOSTICS": "true"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_every_module_a_page_imports_is_imported_as_the_server_starts():
    """The pages import their views when first built; a served process imports them all as it starts (before it
    freezes its start-up objects), so that the first user's first card does not wait for the card's modules and
    HoloViews: every ``from .ui.… import`` in the app's pages is in ``PAGE_MODULES``, and a server started in a fresh
    process has them before any page was asked for."""
    import re
    import subprocess
    import sys

    from customercard import app

    source = Path(app.__file__).read_text()
    imported = {f"customercard.ui.{name}" for name in re.findall(r"from \.ui\.([a-z_.]+) import", source)}
    assert imported and imported <= set(app.PAGE_MODULES), imported - set(app.PAGE_MODULES)
    code = ("import sys\n"
            "from customercard.store import Store\n"
            "from customercard.app import make_server, PAGE_MODULES\n"
            "assert 'customercard.ui.card' not in sys.modules and 'holoviews' not in sys.modules\n"
            "server = make_server(Store(':memory:'), port=0, start=True, threaded=True)\n"
            "try:\n"
            "    missing = [m for m in (*PAGE_MODULES, 'holoviews') if m not in sys.modules]\n"
            "    assert not missing, missing\n"
            "finally:\n"
            "    server.stop()\n"
            "print('ok')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_a_page_the_user_may_not_see_is_answered_403_with_its_message(live_server):
    store = live_server.store
    project_id = int(store.sql("SELECT min(id) AS id FROM projects")["id"][0])
    no_projects = next(login for login in ("vera", "kari", "olli") if not store.get_user(login).projects_access)
    viewer = Client(live_server.url, headers={"Accept-Language": "en"})
    assert viewer.log_in("vera", "demo").status == 302
    for path in ("/admin", "/new"):
        refused = viewer.get(path)
        assert refused.status == 403 and "Not allowed" in refused.body, (path, refused.status)
    outsider = Client(live_server.url, headers={"Accept-Language": "en"})
    assert outsider.log_in(no_projects, "demo").status == 302
    refused = outsider.get(f"/project?project={project_id}")
    assert refused.status == 403 and "Not allowed" in refused.body
    assert '<a href="/pipeline">Pipeline</a>' in refused.body  # its menu is every page's (the CRM module is on)
    manager = Client(live_server.url, headers={"Accept-Language": "en"})
    assert manager.log_in("anna", "demo").status == 302
    assert manager.get("/admin").status == 403
    assert manager.get(f"/project?project={project_id}").status == 200
    # what a link names that is not there: its page, answered 404 (400 for a day that is no date), not 200
    for path, status, text in (("/card?customer=999999", 404, "No such customer"),
                               ("/card?customer=abc", 404, "No such customer"),
                               (f"/card?customer={store.list_customers(limit=1)[0]['id'][0]}&as_of=2026-13-45", 400,
                                "No such day"),
                               ("/contact?contact=999999", 404, "No such contact person"),
                               ("/project?project=999999", 404, "No such project")):
        answered = manager.get(path)
        assert answered.status == status and text in answered.body, (path, answered.status)
    assert Client(live_server.url).get(f"/project?project={project_id}").status == 302  # not logged in: the login
    admin = Client(live_server.url, headers={"Accept-Language": "en"})
    assert admin.log_in("admin", "demo").status == 302
    assert admin.get("/admin").status == 200


def test_an_address_nothing_answers_is_a_page_in_the_reader_s_language(live_server):
    swedish = Client(live_server.url, headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    for path in ("/nonexistent", "/kunder", "/files/abc", "/api"):
        missing = swedish.get(path)
        assert missing.status == 404, path
        assert '<html lang="sv">' in missing.body and "<h1>Sidan finns inte</h1>" in missing.body, missing.body
    assert "Content-Security-Policy" in swedish.get("/nonexistent").headers


def test_a_page_sent_to_with_a_method_it_does_not_take_answers_405_with_a_page_in_the_reader_s_language(live_server):
    """A form posted to a page (or a PUT, a DELETE) was Tornado's bare English "405: Method Not Allowed" without a
    language for screen readers: it is the product's page, in the reader's language, saying which method it takes."""
    swedish = Client(live_server.url, headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    assert swedish.log_in("kari", "demo").status == 302
    for method, path in (("POST", "/search"), ("POST", "/"), ("PUT", "/card?customer=1"), ("DELETE", "/pipeline"),
                         ("POST", "/files/1"), ("PUT", "/logout")):
        refused = swedish.request(method, path, body=b"x=1")
        assert refused.status == 405, (method, path, refused.status)
        assert '<html lang="sv">' in refused.body and "<h1>Inte tillåtet</h1>" in refused.body, (path, refused.body)
        assert refused.headers.get("Allow") == "GET", (method, path)
        assert "Method Not Allowed" not in refused.body
    login_put = swedish.request("PUT", "/login", body=b"x=1")  # the login form takes POST too: it says so
    assert login_put.status == 405 and login_put.headers.get("Allow") == "GET, POST"


def test_the_server_s_own_pages_are_in_the_language_of_the_reader_s_profile(live_server):
    """"No such page" followed the browser's Accept-Language (Swedish) where the reader had chosen Danish on their
    profile, as every other page of theirs is; a login form sent in broken UTF-8 was Tornado's bare English 400."""
    store = live_server.store
    store.set_language("maria", "da", by="maria")
    try:
        swedish_browser = Client(live_server.url, headers={"Accept-Language": "sv-SE,sv;q=0.9"})
        missing = swedish_browser.get("/no-such-page")
        assert missing.status == 404 and '<html lang="sv">' in missing.body  # not logged in: the browser's
        assert swedish_browser.log_in("maria", "demo").status == 302
        missing = swedish_browser.get("/no-such-page")
        assert missing.status == 404 and '<html lang="da">' in missing.body, missing.body
    finally:
        store.set_language("maria", "", by="maria")
    form = Client(live_server.url, headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    page = form.get("/login")
    fields = {**form_fields(page.body), "username": "anna"}
    body = "&".join(f"{k}={urllib.parse.quote(v)}" for k, v in fields.items()).encode() + b"&password=%ff%fe"
    broken = form.request("POST", "/login", body=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert broken.status == 400 and '<html lang="sv">' in broken.body and "Bad Request" not in broken.body, broken.body


def test_a_deleted_file_s_link_answers_404_with_a_page_in_the_reader_s_language(live_server):
    """A link to a file deleted since (or never uploaded): Tornado's bare English "404: Not Found" it was."""
    from customercard import files

    store = live_server.store
    customer_id = int(store.list_customers(limit=1)[0]["id"][0])
    file_id = files.upload(store, customer_id, "Borttagen.pdf", b"%PDF-1.4 gone", user="anna")
    store.delete_file(file_id, user="anna")
    swedish = Client(live_server.url, headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    assert swedish.log_in("kari", "demo").status == 302
    for path in (f"/files/{file_id}", "/files/999999999"):
        missing = swedish.get(path)
        assert missing.status == 404 and '<html lang="sv">' in missing.body, (path, missing.status)
        assert "<h1>Filen finns inte</h1>" in missing.body and "Borttagen" not in missing.body


def test_a_page_asked_for_with_a_trailing_slash_is_sent_to_its_address(live_server):
    client = Client(live_server.url, headers={"Accept-Language": "en"})
    assert client.log_in("anna", "demo").status == 302
    moved = client.get("/card/?customer=1")
    assert moved.status == 302 and moved.location == "/card?customer=1"
    assert client.get("/search/").location == "/search"


def test_a_page_asked_for_without_a_login_is_sent_to_the_login_without_an_error(live_server, caplog):
    import logging

    caplog.set_level(logging.ERROR, logger="tornado.application")
    answer = Client(live_server.url).get("/card?customer=1")
    assert answer.status == 302 and "/login" in answer.location
    assert not [r for r in caplog.records if r.name == "tornado.application"], caplog.text


def test_the_session_sweeper_stops_quietly_when_its_store_is_closed_first(demo_template, tmp_path, caplog):
    import logging

    from customercard.login import SessionGate, SessionSweeper

    caplog.set_level(logging.ERROR)
    store = Store(copy_database(demo_template, tmp_path))
    sweeper = SessionSweeper(SessionGate(lambda: store), interval=0.05).start()
    time.sleep(0.2)
    store.close()  # as a test or a script may, before stopping its server
    time.sleep(0.3)
    sweeper.stop(timeout=5)
    assert sweeper.rounds >= 2 and "Ending lapsed sessions failed" not in caplog.text
