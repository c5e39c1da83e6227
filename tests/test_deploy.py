"""Two server processes on two loopback ports behind nginx (deploy/nginx.conf) and one PostgreSQL:
edits, layouts and conflicts cross processes; 20 concurrent writers through nginx lose no update."""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from customercard.store import Store
from customercard.store.copy import copy_store

from .conftest import copy_database, database_numbers, form_login, free_port, login, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Client:
    """A logged-in HTTP client (its own cookie jar) speaking the JSON API."""

    def __init__(self, base: str, user: str = "anna", password: str = "demo") -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        form_login(self.opener, base, user, password).read()

    def get(self, customer_id: int) -> dict:
        with self.opener.open(f"{self.base}/api/customers/{customer_id}", timeout=60) as response:
            return json.loads(response.read())

    def patch(self, customer_id: int, version: int, changes: dict) -> tuple[int, dict]:
        request = urllib.request.Request(f"{self.base}/api/customers/{customer_id}", method="PATCH",
                                         data=json.dumps({"version": version, "changes": changes}).encode(),
                                         headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(request, timeout=60) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())


@pytest.fixture(scope="module")
def cluster(pg_server, demo_template, tmp_path_factory):
    """PostgreSQL with the demo data, two `customercard serve` processes, nginx in front."""
    url = pg_server.create_database(f"deploy_{next(database_numbers)}")  # pytest may set this up twice (browser params)
    folder = tmp_path_factory.mktemp("deploy")
    with Store(copy_database(demo_template, folder / "src")) as source, Store(url) as target:
        copy_store(source, target)
    ports = [free_port(), free_port()]
    front = free_port()
    env = {**os.environ, "CUSTOMERCARD_DB": url, "CUSTOMERCARD_DATA_DIR": str(folder)}
    env.pop("CUSTOMERCARD_COOKIE_SECRET", None)  # they must share the secret kept in the database
    servers = [subprocess.Popen([sys.executable, "-m", "customercard", "serve", "--port", str(port),
                                 "--allow-websocket-origin", f"127.0.0.1:{front}"],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
               for port in ports]
    nginx_dir = Path(tempfile.mkdtemp(prefix="customercard-nginx-"))
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf = conf.replace("server 127.0.0.1:5006;", f"server 127.0.0.1:{ports[0]};")
    conf = conf.replace("server 127.0.0.1:5007;", f"server 127.0.0.1:{ports[1]};")
    conf = conf.replace("listen 8080;", f"listen 127.0.0.1:{front};")
    prefix = f"pid {nginx_dir}/nginx.pid;\nerror_log {nginx_dir}/error.log;\n"
    if os.geteuid() == 0:
        prefix += "user root;\n"
    temp = "".join(f"    {kind}_temp_path {nginx_dir}/{kind};\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf = prefix + conf.replace("http {\n", "http {\n" + temp + f"    access_log {nginx_dir}/access.log;\n", 1)
    (nginx_dir / "nginx.conf").write_text(conf)
    nginx = subprocess.Popen([NGINX, "-p", str(nginx_dir), "-c", str(nginx_dir / "nginx.conf"),
                              "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        for port in [*ports, front]:
            wait_for_port(port, timeout=120)
        yield {"url": url, "ports": ports, "front": front, "store": Store(url),
               "backends": [f"http://127.0.0.1:{p}" for p in ports], "nginx": f"http://127.0.0.1:{front}"}
    finally:
        nginx.send_signal(signal.SIGQUIT)
        for process in [nginx, *servers]:
            if process is not nginx:
                process.send_signal(signal.SIGINT)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(nginx_dir, ignore_errors=True)


def some_customer(store: Store) -> int:
    return int(store.list_customers(limit=1)[0]["id"][0])


def test_an_edit_through_one_process_is_seen_through_the_other(cluster):
    a, b = (Client(base) for base in cluster["backends"])
    customer_id = some_customer(cluster["store"])
    before = a.get(customer_id)
    status, saved = a.patch(customer_id, before["version"], {"phone": "+46 8 700 00 01"})
    assert status == 200 and saved["version"] == before["version"] + 1
    seen = b.get(customer_id)
    assert seen["fields"]["phone"] == "+46 8 700 00 01" and seen["version"] == saved["version"]
    assert seen["updated_by"] == "anna"


def test_two_stale_saves_through_different_processes_conflict(cluster):
    a, b = (Client(base, user="maria") for base in cluster["backends"])
    customer_id = some_customer(cluster["store"]) + 1
    version = a.get(customer_id)["version"]
    assert b.get(customer_id)["version"] == version
    first, _ = a.patch(customer_id, version, {"email": "first@example.se"})
    second, body = b.patch(customer_id, version, {"email": "second@example.se"})
    assert (first, second) == (200, 409)
    assert body["conflicts"][0]["field"] == "email" and body["conflicts"][0]["stored"] == "first@example.se"
    assert a.get(customer_id)["fields"]["email"] == "first@example.se"


def test_bad_input_and_viewers_through_the_api(cluster):
    anna, vera = Client(cluster["nginx"]), Client(cluster["nginx"], user="vera")
    customer_id = some_customer(cluster["store"]) + 2
    version = anna.get(customer_id)["version"]
    status, body = anna.patch(customer_id, version, {"email": "nope", "colour": "red"})
    assert status == 422 and set(body["errors"]) == {"email", "colour"}
    status, _ = vera.patch(customer_id, version, {"phone": "+46 8 700 00 02"})
    assert status == 403
    assert anna.get(customer_id)["version"] == version


def test_twenty_concurrent_writers_through_nginx_lose_no_update(cluster):
    customer_id = some_customer(cluster["store"]) + 3
    start = Client(cluster["nginx"]).get(customer_id)["fields"]["default_distance_km"]
    clients = [Client(cluster["nginx"], user=("anna", "erik", "maria", "olli", "kari")[i % 5]) for i in range(20)]
    failures: list[str] = []
    conflicts = [0]

    def write(client: Client) -> None:
        for _attempt in range(200):
            current = client.get(customer_id)
            status, _ = client.patch(customer_id, current["version"],
                                     {"default_distance_km": current["fields"]["default_distance_km"] + 1})
            if status == 200:
                return
            if status != 409:
                failures.append(str(status))
                return
            conflicts[0] += 1
        failures.append("gave up")

    threads = [threading.Thread(target=write, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert not failures
    final = Client(cluster["nginx"]).get(customer_id)["fields"]["default_distance_km"]
    assert final == start + 20
    history = cluster["store"].history(customer_id, field="default_distance_km")
    assert len(history[history["kind"] == "update"]) == 20


@pytest.mark.browser
def test_collapsed_sections_follow_the_user_across_processes(cluster, browser):
    store = cluster["store"]
    customer_id = some_customer(store)
    first = browser.new_context()
    page = first.new_page()
    login(page, cluster["backends"][0], "olli", path=f"/card?customer={customer_id}")
    toggle = page.locator("div.cc-section-comments button.cc-sv-toggle")
    expect(toggle).to_have_attribute("aria-expanded", "true")
    toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    page.wait_for_timeout(500)
    first.close()
    second = browser.new_context()
    page = second.new_page()
    login(page, cluster["backends"][1], "olli", path=f"/card?customer={customer_id + 1}")
    expect(page.locator("div.cc-section-comments button.cc-sv-toggle")).to_have_attribute("aria-expanded", "false")
    second.close()


@pytest.mark.browser
def test_a_card_through_nginx_with_its_websocket(cluster, page):
    customer_id = some_customer(cluster["store"])
    login(page, cluster["nginx"], "anna", path=f"/card?customer={customer_id}")
    name = cluster["store"].get_customer(customer_id).name
    expect(page.locator("#cc-customer-name")).to_have_text(name)
    page.locator("div.cc-section-comments button.cc-new-comment-button").click()  # a round trip on the websocket
    expect(page.locator("div.cc-section-comments .cc-new-comment textarea")).to_be_visible()


def test_num_procs_refuses_duckdb_and_serves_postgresql(cluster, tmp_path):
    refused = subprocess.run([sys.executable, "-m", "customercard", "--db", str(tmp_path / "x.duckdb"), "serve",
                              "--num-procs", "2", "--port", str(free_port())], capture_output=True, check=False,
                             text=True, timeout=120)
    assert refused.returncode == 1 and "need PostgreSQL" in refused.stderr
    assert refused.stdout == "" and len(refused.stderr.strip().splitlines()) == 1  # said first, nothing printed before
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "customercard", "--db", cluster["url"], "serve",
                                "--num-procs", "2", "--port", str(port)], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        wait_for_port(port, timeout=120)
        client = Client(f"http://127.0.0.1:{port}")
        assert client.get(some_customer(cluster["store"]))["id"] == some_customer(cluster["store"])
        os.kill(process.pid, signal.SIGTERM)  # a service manager stops the command it started, not its children
        output, _ = process.communicate(timeout=30)
        deadline = time.monotonic() + 30
        while _port_answers(port) and time.monotonic() < deadline:  # the forked processes end with it
            time.sleep(0.2)
        assert not _port_answers(port), "a forked server process went on serving"
    finally:
        try:
            os.killpg(process.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass
        if process.poll() is None:
            output, _ = process.communicate()
    assert re.search(r"with 2 process", output)


def _port_answers(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def test_a_session_is_one_row_for_every_process_and_a_logout_on_one_ends_it_on_all(cluster):
    from .http_client import Client as HttpClient

    customer_id = some_customer(cluster["store"]) + 5
    first, second = cluster["backends"]
    web = HttpClient(first)
    assert web.log_in("kari", "demo").status == 302  # on the first process
    kept = HttpClient(second, cookies=dict(web.cookies))  # the same cookies, on the second
    assert kept.get(f"/api/customers/{customer_id}").status == 200
    assert web.get("/logout").status == 302
    assert kept.get(f"/api/customers/{customer_id}").status == 401
    page = kept.get("/search")
    assert page.status == 302 and "/login" in page.location
