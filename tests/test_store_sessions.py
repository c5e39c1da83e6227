"""Sessions and the login throttle in the store, on DuckDB and on PostgreSQL: rows, not memory; times given
explicitly (``at=``) so that nothing depends on how fast the test runs."""

from __future__ import annotations

import datetime as dt

import pytest

from customercard.errors import PermissionDenied, ValidationError
from customercard.models import User
from customercard.store.database import utcnow
from customercard.store.sessions import token_hash

from .conftest import eventually

T0 = dt.datetime(2026, 6, 15, 9, 0, 0)
SECOND = dt.timedelta(seconds=1)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)


def last_seen(store, token: str) -> dt.datetime:
    return store.db.row("SELECT last_seen_at FROM sessions WHERE token_hash = ?", [token_hash(token)])[0]


def test_a_session_is_a_row_with_the_hash_of_its_token_only(demo_store):
    token = demo_store.start_session("anna", "198.51.100.1", "Firefox 140")
    assert demo_store.session_login(token) == "anna"
    stored = demo_store.db.df("SELECT * FROM sessions").astype(str)
    assert not stored.apply(lambda column: column.str.contains(token, regex=False)).any().any()
    assert list(stored["token_hash"]) == [token_hash(token)]
    assert demo_store.session_login("not-a-token") is None and demo_store.session_login("") is None


def test_idle_and_lifetime_limits(demo_store):
    token = demo_store.start_session("anna", at=T0)
    assert demo_store.session_login(token, at=T0 + 7 * HOUR) == "anna"  # used: idle counts from here
    assert demo_store.session_login(token, at=T0 + 14 * HOUR) == "anna"
    assert demo_store.session_login(token, at=T0 + 24 * HOUR + MINUTE) is None  # past its lifetime
    assert demo_store.db.row("SELECT ended_reason FROM sessions")[0] == "expired"

    idle = demo_store.start_session("anna", at=T0)
    assert demo_store.session_login(idle, at=T0 + 8 * HOUR + MINUTE) is None
    short = demo_store.start_session("anna", at=T0)
    assert demo_store.session_login(short, idle=10 * MINUTE, lifetime=HOUR, at=T0 + 9 * MINUTE) == "anna"
    assert demo_store.session_login(short, idle=10 * MINUTE, lifetime=HOUR, at=T0 + 61 * MINUTE) is None


def test_the_last_use_is_written_at_most_once_a_minute(demo_store):
    token = demo_store.start_session("anna", at=T0)
    demo_store.session_login(token, at=T0 + 30 * SECOND)
    assert last_seen(demo_store, token) == T0
    demo_store.session_login(token, at=T0 + 61 * SECOND)
    assert last_seen(demo_store, token) == T0 + 61 * SECOND
    demo_store.session_login(token, at=T0 + 100 * SECOND)
    assert last_seen(demo_store, token) == T0 + 61 * SECOND


def test_a_short_idle_time_is_kept_to_closely(demo_store):
    token = demo_store.start_session("anna", at=T0)
    demo_store.session_login(token, idle=20 * SECOND, at=T0 + 6 * SECOND)  # a quarter of the idle time
    assert last_seen(demo_store, token) == T0 + 6 * SECOND


def test_lapsed_sessions_are_ended_and_their_pages_told(demo_store):
    told = []
    demo_store.changes.subscribe(lambda change: told.append(change) if change.kind == "session" else None)
    idle = demo_store.start_session("anna", at=T0)
    old = demo_store.start_session("erik", at=T0 - 23 * HOUR)
    live = demo_store.start_session("maria", at=T0)
    demo_store.session_login(old, idle=24 * HOUR, at=T0 + 50 * MINUTE)  # used, but started too long ago by then
    demo_store.session_login(live, at=T0 + 50 * MINUTE)
    assert demo_store.end_lapsed_sessions(idle=30 * MINUTE, lifetime=24 * HOUR, at=T0 + 61 * MINUTE) == 2
    eventually(lambda: sorted(change.by for change in told) == ["anna", "erik"])  # PostgreSQL: NOTIFY, after
    assert demo_store.session_login(live, at=T0 + 62 * MINUTE) == "maria"
    assert demo_store.session_login(idle, at=T0 + 62 * MINUTE) is None
    assert demo_store.end_lapsed_sessions(idle=30 * MINUTE, at=T0 + 62 * MINUTE) == 0  # ended once


def test_a_deactivated_users_session_is_refused_and_ended(demo_store):
    token = demo_store.start_session("erik")
    erik = demo_store.get_user("erik")
    erik.active = False
    demo_store.update_user(erik, by="admin")
    assert demo_store.session_login(token) is None
    erik.active = True
    demo_store.update_user(erik, by="admin")
    assert demo_store.session_login(token) is None
    assert demo_store.db.row("SELECT ended_reason FROM sessions")[0] == "user deactivated"


def test_my_sessions_ending_one_and_all_but_this_one(demo_store):
    now = utcnow()
    mine = demo_store.start_session("anna", "198.51.100.1", "Firefox", at=now - 2 * MINUTE)
    other = demo_store.start_session("anna", "198.51.100.2", "Chromium", at=now - MINUTE)
    third = demo_store.start_session("anna", "198.51.100.3", "Safari", at=now)
    demo_store.start_session("erik")
    old = demo_store.start_session("anna", at=now - 2 * dt.timedelta(days=1))
    listed = demo_store.sessions("anna", current_token=mine)
    assert list(listed["remote_address"]) == ["198.51.100.3", "198.51.100.2", "198.51.100.1"]
    assert list(listed["current"]) == [False, False, True]
    assert set(listed.columns) == {"id", "created_at", "last_seen_at", "remote_address", "user_agent", "current"}

    erik_session = int(demo_store.sessions("erik")["id"][0])
    assert not demo_store.end_session_of("anna", erik_session)  # not hers
    assert demo_store.session_login(demo_store.start_session("erik")) == "erik"
    assert demo_store.end_session_of("anna", int(listed["id"][1]))
    assert demo_store.session_login(other) is None
    assert demo_store.end_sessions("anna", except_token=mine) == 2  # the third, and the lapsed one
    assert demo_store.session_login(mine) == "anna" and demo_store.session_login(third) is None
    assert demo_store.session_login(old) is None
    demo_store.end_session(mine)
    assert demo_store.session_login(mine) is None and demo_store.sessions("anna").empty


def test_a_new_password_ends_the_sessions_except_the_users_own_when_they_change_it(demo_store):
    first, second = demo_store.start_session("maria"), demo_store.start_session("maria")
    demo_store.set_password("maria", "a-fine-new-password", by="admin")
    assert demo_store.session_login(first) is None and demo_store.session_login(second) is None

    first, second = demo_store.start_session("maria"), demo_store.start_session("maria")
    with pytest.raises(ValidationError) as wrong:
        demo_store.change_password("maria", "not-it", "another-fine-password", keep_token=first)
    assert "current_password" in wrong.value.errors
    with pytest.raises(ValidationError) as common:
        demo_store.change_password("maria", "a-fine-new-password", "password123", keep_token=first)
    assert "most common" in common.value.errors["password"]
    assert demo_store.session_login(second) == "maria"  # nothing changed yet
    demo_store.change_password("maria", "a-fine-new-password", "another-fine-password", keep_token=first)
    assert demo_store.session_login(first) == "maria" and demo_store.session_login(second) is None
    assert demo_store.authenticate("maria", "another-fine-password") is not None
    with pytest.raises(PermissionDenied):
        demo_store.set_password("maria", "yet-another-password", by="erik")


def test_growing_delays_then_a_lockout_that_refuses_the_right_password(demo_store):
    def attempt(password: str, at: dt.datetime):
        return demo_store.log_in("anna", password, "198.51.100.5", "test", at=at)

    for number in range(5):  # five free tries
        assert attempt(f"wrong-{number}", T0 + number * SECOND).wait_seconds == (1 if number == 4 else 0)
    waits = []
    at = T0 + 4 * SECOND
    for _ in range(4):
        refused = attempt("demo", at + dt.timedelta(milliseconds=500))  # inside the wait: even the right one
        assert not refused.ok and refused.wait_seconds >= 1
        at += dt.timedelta(seconds=refused.wait_seconds)
        waits.append(attempt("wrong", at).wait_seconds)
    assert waits == [2, 4, 8, 16]
    at += 16 * SECOND
    locked = attempt("wrong", at)  # the tenth failure
    assert locked.wait_seconds == 15 * 60
    assert not attempt("demo", at + 14 * MINUTE).ok
    assert attempt("demo", at + 14 * MINUTE).wait_seconds == 60
    welcome = attempt("demo", at + 15 * MINUTE)
    assert welcome.ok and welcome.user.login == "anna"
    assert demo_store.session_login(welcome.token, at=at + 15 * MINUTE) == "anna"
    assert demo_store.login_wait("anna", at=at + 15 * MINUTE) == 0  # a success forgets the account's failures

    log = demo_store.admin_log(limit=50)
    logins = log[log["area"] == "Logins"]
    assert (logins["new_value"] == "wrong password").sum() == 10
    assert (logins["new_value"] == "account locked for 15 minutes after 10 failed logins").sum() == 1
    assert (logins["new_value"] == "logged in").sum() == 1
    assert set(logins["item"]) == {"anna from 198.51.100.5"} and set(logins["changed_by"]) == {"system:login"}


def test_an_unknown_login_is_slowed_and_locked_like_a_known_one(demo_store):
    for name in ("erik", "nobody-here"):
        results = [demo_store.log_in(name, "wrong", at=T0 + 20 * n * SECOND).wait_seconds for n in range(10)]
        assert results == [0, 0, 0, 0, 1, 2, 4, 8, 16, 900], name


def test_failures_from_one_address_over_many_logins_lock_the_address(demo_store):
    for number in range(30):
        demo_store.log_in(f"guess{number}", "wrong", "198.51.100.9", at=T0 + number * MINUTE)
    at = T0 + 30 * MINUTE
    assert demo_store.log_in("anna", "demo", "198.51.100.9", at=at).wait_seconds >= 14 * 60
    assert demo_store.log_in("anna", "demo", "198.51.100.10", at=at).ok


def test_failures_are_forgotten_after_a_quiet_quarter_of_an_hour(demo_store):
    for number in range(4):
        demo_store.log_in("olli", "wrong", at=T0 + number * SECOND)
    later = T0 + 20 * MINUTE
    assert [demo_store.log_in("olli", "wrong", at=later + n * SECOND).wait_seconds for n in range(5)] == \
        [0, 0, 0, 0, 1]


def test_people_pass_the_password_policy_and_only_the_system_hands_a_hash(empty_store):
    from customercard.passwords import hash_password

    cases = {"short-1": "at least 10 characters", "password123": "most common", "QWERTYUIOP": "most common",
             "1234567890": "most common", "newcomer12": "may not be the login",
             " " * 10: "4 different characters", "aaaaaaaaaa": "4 different characters",
             "1212121212": "4 different characters", "sunshinesunshine": "most common", "CustomerCard": "most common"}
    for password, expected in cases.items():
        with pytest.raises(ValidationError) as refused:
            empty_store.add_user(User(login="newcomer12", name="New"), password, by="boss")
        assert expected in refused.value.errors["password"], password
        if password != "newcomer12":
            with pytest.raises(ValidationError):
                empty_store.set_password("anna", password, by="boss")
    with pytest.raises(PermissionDenied):
        empty_store.add_user(User(login="sneaky", name="S"), password_hash=hash_password("x"), by="boss")
    assert empty_store.add_user(User(login="newcomer12", name="New"), "correct horse battery", by="boss").id


def test_a_burst_of_wrong_passwords_sent_at_once_is_let_in_five_at_most(demo_store):
    """The wait was read before the password was checked and the failure counted after: 40 wrong passwords sent at
    the same moment had 10 checked in half a second (and two after the lockout). Each attempt is counted as it is
    let in now: at most the five free tries are checked, the rest told to wait; a right password after the wait
    counts as no failure."""
    import concurrent.futures
    import threading

    wrong = 0
    for burst, login in enumerate(("anna", "erik", "vera")):  # counters with no row yet, each burst
        start = threading.Barrier(14)
        address = f"198.51.100.{burst + 20}"

        def attempt(number: int, login: str = login, address: str = address, start=start):
            start.wait()
            return demo_store.log_in(login, f"wrong-{number}", address, "burst")

        with concurrent.futures.ThreadPoolExecutor(max_workers=14) as pool:
            results = list(pool.map(attempt, range(14)))
        checked = [r for r in results if not r.refused]
        assert 1 <= len(checked) <= 5 and all(r.wait_seconds >= 1 for r in results if r.refused), len(checked)
        wrong += len(checked)
    log = demo_store.admin_log(limit=100)
    assert (log[log["area"] == "Logins"]["new_value"] == "wrong password").sum() == wrong
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(minutes=16)
    welcome = demo_store.log_in("anna", "demo", "198.51.100.20", "burst", at=later)
    assert welcome.ok and demo_store.login_wait("anna", "198.51.100.20", at=later) == 0


def test_colleagues_logging_in_keep_no_old_typos_of_their_address_alive(demo_store):
    """Each attempt is counted as it is let in; a right password took one off the address's count but left its
    last failure at that moment, so typos an hour apart never expired while colleagues logged in, and twenty of
    them made a colleague wait. A right password leaves the address as it was before it."""
    address, at = "203.0.113.7", T0
    for _hour in range(20):
        demo_store.log_in("erik", "wrong-password", address, at=at + 5 * MINUTE)
        for _ in range(6):
            at += 10 * MINUTE
            assert demo_store.log_in("anna", "demo", address, at=at).ok
    for _ in range(18):  # three hours without a typo, colleagues logging in every ten minutes
        at += 10 * MINUTE
        assert demo_store.log_in("anna", "demo", address, at=at).ok
    assert demo_store.log_in("erik", "demo", address, at=at + 15 * SECOND).ok
    assert demo_store.login_wait("erik", address, at=at + 16 * SECOND) == 0
