"""The served login over plain HTTP, as a script or an attacker speaks to it: server-side sessions (logout, idle
and absolute expiry), the cookies' attributes, cross-site posts, ``next``, throttling and the admin log."""

from __future__ import annotations

import datetime as dt
import urllib.parse

import pytest

from customercard import app, files
from customercard.models import User
from customercard.store.database import utcnow

from .conftest import free_port, wait_for_port
from .http_client import Client

SESSION_COOKIE = "cc_session"


def some_customer(store) -> int:
    return int(store.list_customers(limit=1)[0]["id"][0])


def latest_session(store, login: str) -> int:
    return int(store.db.row("SELECT max(id) FROM sessions WHERE login = ?", [login])[0])


def move_session(store, session_id: int, created_ago: dt.timedelta, seen_ago: dt.timedelta) -> None:
    """Age a session row (its start and its last use) as if time had passed."""
    now = utcnow()
    store.db.execute("UPDATE sessions SET created_at = ?, last_seen_at = ? WHERE id = ?",
                     [now - created_ago, now - seen_ago, session_id])


def logged_in(server, user: str = "anna", password: str = "demo", **headers: str) -> Client:
    client = Client(server.url, headers=dict(headers))
    reply = client.log_in(user, password)
    assert reply.status == 302 and "/login" not in reply.location, (reply.status, reply.location)
    return client


@pytest.fixture
def second_server(live_server, monkeypatch):
    """Another server on the same database, started with the CUSTOMERCARD_* variables the test set."""
    started = []

    def start(**env: str):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        port = free_port()
        started.append(app.make_server(live_server.store, port=port, threaded=True, start=True))
        wait_for_port(port)
        return type(live_server)(url=f"http://127.0.0.1:{port}", store=live_server.store, port=port)
    yield start
    for server in started:
        server.stop()


# -- logout and expiry -----------------------------------------------------------------------------------------
def test_logout_makes_the_old_cookies_useless_for_pages_api_and_files(live_server):
    store = live_server.store
    customer_id = some_customer(store)
    file_id = files.upload(store, customer_id, "offer.pdf", b"%PDF-1.4 offer", user="anna")
    settings = store.settings()
    settings.files_enabled = True  # (the demo has document storage off, and then no file is given)
    store.save_settings(settings, user="admin")
    client = logged_in(live_server)
    kept = Client(live_server.url, cookies=dict(client.cookies))  # what a thief copied before the logout
    assert kept.get("/search").status == 200
    version = kept.get(f"/api/customers/{customer_id}").json()["version"]
    assert kept.get(f"/files/{file_id}").body == "%PDF-1.4 offer"

    out = client.get("/logout")
    assert out.status == 302 and "logged_out" in out.location
    assert "user" not in client.cookies and SESSION_COOKIE not in client.cookies
    page = kept.get("/search")
    assert page.status == 302 and "/login" in page.location
    assert kept.get(f"/api/customers/{customer_id}").status == 401
    assert kept.patch_customer(customer_id, version, {"phone": "+46 8 111 22 33"}).status == 401
    download = kept.get(f"/files/{file_id}")
    assert download.status == 302 and "/login" in download.location
    assert store.get_customer(customer_id).version == version
    ended = store.db.row("SELECT ended_at, ended_reason FROM sessions WHERE id = ?", [latest_session(store, "anna")])
    assert ended[0] is not None and ended[1] == "logged out"


def test_the_session_token_itself_is_never_stored(live_server):
    client = logged_in(live_server, "erik")
    token = urllib.parse.unquote(client.cookies[SESSION_COOKIE])
    stored = live_server.store.db.df("SELECT * FROM sessions WHERE login = 'erik'").astype(str)
    assert not stored.apply(lambda column: column.str.contains(token.split("|")[-1], regex=False)).any().any()
    assert len(stored.iloc[-1]["token_hash"]) == 64  # the SHA-256, in hex


def test_a_session_idle_longer_than_the_idle_timeout_is_refused(live_server):
    store = live_server.store
    customer_id = some_customer(store)
    client = logged_in(live_server)
    move_session(store, latest_session(store, "anna"), dt.timedelta(hours=9), dt.timedelta(hours=8, minutes=1))
    assert client.get(f"/api/customers/{customer_id}").status == 401
    page = client.get("/search")
    assert page.status == 302 and "/login" in page.location


def test_a_session_past_its_lifetime_is_refused_though_used_a_minute_ago(live_server):
    store = live_server.store
    customer_id = some_customer(store)
    client = logged_in(live_server)
    move_session(store, latest_session(store, "anna"), dt.timedelta(hours=24, minutes=1), dt.timedelta(minutes=1))
    assert client.get(f"/api/customers/{customer_id}").status == 401
    assert client.get("/search").status == 302


def test_a_five_day_old_cookie_neither_reads_nor_writes_through_the_api(live_server):
    store = live_server.store
    customer_id = some_customer(store)
    client = logged_in(live_server)
    version = client.get(f"/api/customers/{customer_id}").json()["version"]
    move_session(store, latest_session(store, "anna"), dt.timedelta(days=5), dt.timedelta(days=5))
    assert client.get(f"/api/customers/{customer_id}").status == 401
    assert client.patch_customer(customer_id, version, {"phone": "+46 8 111 22 33"}).status == 401
    assert store.get_customer(customer_id).version == version


def test_a_session_in_use_stays_and_its_last_use_is_written(live_server):
    store = live_server.store
    customer_id = some_customer(store)
    client = logged_in(live_server)
    session_id = latest_session(store, "anna")
    move_session(store, session_id, dt.timedelta(hours=23), dt.timedelta(hours=7))
    assert client.get(f"/api/customers/{customer_id}").status == 200
    last_seen = store.db.row("SELECT last_seen_at FROM sessions WHERE id = ?", [session_id])[0]
    assert utcnow() - last_seen < dt.timedelta(hours=1)


def test_the_timeouts_come_from_the_configuration(live_server, second_server):
    store = live_server.store
    customer_id = some_customer(store)
    strict = second_server(CUSTOMERCARD_SESSION_MAX_HOURS="2", CUSTOMERCARD_SESSION_IDLE_MINUTES="30")
    fresh = logged_in(strict)
    move_session(store, latest_session(store, "anna"), dt.timedelta(hours=1), dt.timedelta(minutes=20))
    assert fresh.get(f"/api/customers/{customer_id}").status == 200
    old = logged_in(strict)
    move_session(store, latest_session(store, "anna"), dt.timedelta(hours=3), dt.timedelta(minutes=1))
    assert old.get(f"/api/customers/{customer_id}").status == 401
    idle = logged_in(strict)
    move_session(store, latest_session(store, "anna"), dt.timedelta(hours=1), dt.timedelta(minutes=31))
    assert idle.get(f"/api/customers/{customer_id}").status == 401


def test_a_password_change_or_deactivation_ends_the_users_sessions(live_server):
    store = live_server.store
    customer_id = some_customer(store)
    store.add_user(User(login="pat", name="Pat Lind", role="manager"), "pat-first-password", by="system:test")
    first, second = (logged_in(live_server, "pat", "pat-first-password") for _ in range(2))
    assert first.get(f"/api/customers/{customer_id}").status == 200
    store.set_password("pat", "pat-second-password", by="admin")
    assert first.get(f"/api/customers/{customer_id}").status == 401
    assert second.get(f"/api/customers/{customer_id}").status == 401

    third = logged_in(live_server, "pat", "pat-second-password")
    assert third.get(f"/api/customers/{customer_id}").status == 200
    pat = store.get_user("pat")
    pat.active = False
    store.update_user(pat, by="admin")
    pat.active = True
    store.update_user(pat, by="admin")  # active again: the old session stays ended
    assert third.get(f"/api/customers/{customer_id}").status == 401


# -- cookies -----------------------------------------------------------------------------------------------------
def test_login_cookies_are_httponly_and_samesite_lax_and_not_secure_over_plain_http(live_server):
    client = Client(live_server.url)
    reply = client.log_in("anna", "demo")
    cookies = reply.set_cookies()
    for name in ("user", SESSION_COOKIE):
        assert "httponly" in cookies[name].lower() and "samesite=lax" in cookies[name].lower(), cookies[name]
        assert "secure" not in cookies[name].lower().replace("samesite", ""), cookies[name]


def test_cookies_are_secure_when_https_came_through_a_trusted_proxy(live_server):
    client = Client(live_server.url, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.30"})
    reply = client.log_in("anna", "demo")
    assert reply.status == 302
    for name in ("user", SESSION_COOKIE):
        header = reply.set_cookies()[name].lower()
        assert "; secure" in header and "samesite=lax" in header and "httponly" in header, header
    store = live_server.store
    address = store.db.row("SELECT remote_address FROM sessions WHERE id = ?", [latest_session(store, "anna")])[0]
    assert address == "198.51.100.30"  # the proxy's word for the browser's address


def test_a_forwarded_proto_header_from_an_untrusted_address_is_ignored(live_server, second_server):
    untrusting = second_server(CUSTOMERCARD_TRUSTED_PROXIES="192.0.2.10")
    client = Client(untrusting.url, headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.31"})
    reply = client.log_in("anna", "demo")
    assert reply.status == 302
    for name in ("user", SESSION_COOKIE):
        assert "; secure" not in reply.set_cookies()[name].lower()
    store = live_server.store
    address = store.db.row("SELECT remote_address FROM sessions WHERE id = ?", [latest_session(store, "anna")])[0]
    assert address == "127.0.0.1"


# -- cross-site posts and next ------------------------------------------------------------------------------------
@pytest.mark.parametrize("headers", [{"Origin": "http://evil.example"}, {"Origin": "null"},
                                     {"Referer": "http://evil.example/page"}], ids=["origin", "null", "referer"])
def test_a_cross_site_login_post_is_refused_with_a_clear_page(live_server, headers):
    client = Client(live_server.url)
    form = {"username": "anna", "password": "demo", "next": "/search"}
    page = client.get("/login")
    from .http_client import form_fields

    reply = client.request("POST", "/login", form={**form_fields(page.body), **form}, headers=headers)
    assert reply.status == 403
    assert "another site" in reply.body and 'href="/login"' in reply.body
    assert "user" not in reply.set_cookies() and SESSION_COOKIE not in reply.set_cookies()


def test_a_login_post_without_the_forms_token_is_refused(live_server):
    bare = Client(live_server.url)
    reply = bare.request("POST", "/login", form={"username": "anna", "password": "demo", "next": "/search"})
    assert reply.status == 403 and "user" not in reply.set_cookies()
    client = Client(live_server.url)
    client.get("/login")
    forged = client.request("POST", "/login", form={"username": "anna", "password": "demo", "_xsrf": "2|00|00|00"})
    assert forged.status == 403 and "user" not in forged.set_cookies()


def test_a_login_post_from_this_servers_own_page_is_taken(live_server):
    client = Client(live_server.url)
    reply = client.log_in("anna", "demo", headers={"Origin": live_server.url, "Referer": live_server.url + "/login"})
    assert reply.status == 302 and reply.location == "/search"


@pytest.mark.parametrize("next_path", ["/search\r\nSet-Cookie: x=1", "/\r\n", "/\n/evil.example", "//evil.example/x",
                                       "/\\evil.example", "https://evil.example/", "/\t/evil.example",
                                       "javascript:alert(1)", "search"])
def test_next_is_only_ever_a_path_on_this_server(live_server, next_path):
    client = Client(live_server.url)
    shown = client.get(f"/login?next={urllib.parse.quote(next_path, safe='')}")
    assert shown.status == 200
    reply = client.log_in("anna", "demo", next_path=next_path)
    assert reply.status == 302 and reply.location == "/", reply.location


def test_next_keeps_a_path_here_with_its_query(live_server):
    client = Client(live_server.url)
    assert client.log_in("anna", "demo", next_path="/card?customer=5").location == "/card?customer=5"
    spelled = Client(live_server.url).log_in("anna", "demo", next_path="/search?q=Åkesson & Co")
    assert spelled.status == 302 and spelled.location == "/search?q=%C3%85kesson%20&%20Co"


# -- throttling ----------------------------------------------------------------------------------------------------
def let_the_next_attempt_through(store) -> None:
    """Move every growing delay into the past (not a lockout): the next attempt is weighed, not refused."""
    store.db.execute("UPDATE login_throttle SET last_failure_at = ? WHERE locked_until IS NULL",
                     [utcnow() - dt.timedelta(minutes=2)])


def wait_message(client: Client, reply) -> str:
    assert reply.status == 302 and "/login?" in reply.location and "user" not in reply.set_cookies()
    return client.get(reply.location).body


def test_wrong_passwords_then_a_lockout_that_refuses_even_the_right_one(live_server):
    store = live_server.store
    client = Client(live_server.url, headers={"X-Forwarded-For": "198.51.100.40"})
    for attempt in range(10):
        page = wait_message(client, client.log_in("kari", f"wrong-{attempt}"))
        assert "Wrong login or password" in page or "Too many failed logins" in page
        let_the_next_attempt_through(store)
    page = wait_message(client, client.log_in("kari", "demo"))
    assert "Too many failed logins; try again in" in page
    seconds = int(page.split("try again in ")[1].split(" ")[0])
    assert 60 < seconds <= 15 * 60
    elsewhere = Client(live_server.url, headers={"X-Forwarded-For": "198.51.100.41"})
    assert "Too many failed logins" in wait_message(elsewhere, elsewhere.log_in("kari", "demo"))
    assert logged_in(live_server, "erik", **{"X-Forwarded-For": "198.51.100.41"})  # others log in as usual

    log = store.admin_log(limit=100)
    kari = log[log["item"].str.startswith("kari ")]
    assert (kari["new_value"] == "wrong password").sum() == 10
    assert kari["item"].str.contains("198.51.100.40").all()
    assert (kari["new_value"] == "account locked for 15 minutes after 10 failed logins").sum() == 1
    assert ((log["item"].str.startswith("erik ")) & (log["new_value"] == "logged in")).any()
    assert (log["area"].isin(["Logins"])).sum() >= 12


def test_the_same_throttle_whether_or_not_the_login_exists(live_server):
    store = live_server.store
    pages = {}
    for name in ("maria", "no-such-person"):
        client = Client(live_server.url, headers={"X-Forwarded-For": "198.51.100.50"})
        for attempt in range(10):
            client.log_in(name, f"wrong-{attempt}")
            let_the_next_attempt_through(store)
        store.db.execute("DELETE FROM login_throttle WHERE key LIKE 'address:%'")
        pages[name] = wait_message(client, client.log_in(name, "whatever-it-is"))
    assert all("Too many failed logins" in page for page in pages.values())
    strip = [page.split("try again in")[0] for page in pages.values()]
    assert strip[0] == strip[1]


def test_many_logins_tried_from_one_address_lock_that_address(live_server):
    store = live_server.store
    client = Client(live_server.url, headers={"X-Forwarded-For": "198.51.100.60"})
    for attempt in range(30):
        client.log_in(f"guess{attempt}", "password1")
        let_the_next_attempt_through(store)
    assert "Too many failed logins" in wait_message(client, client.log_in("anna", "demo"))
    assert logged_in(live_server, "anna", **{"X-Forwarded-For": "198.51.100.61"})
