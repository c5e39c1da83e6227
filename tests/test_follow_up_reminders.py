"""The daily follow-up reminder e-mail, caught by a real SMTP server (aiosmtpd) on loopback: one a day per person in
their language, even when the scheduler runs twice, the server restarts or a second process runs; not to someone
who turned it off; a failed send is tried again. On DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from customercard import formatting
from customercard.errors import ValidationError
from customercard.reminders import ReminderScheduler, send_follow_up_reminders
from customercard.server import CardServer
from customercard.store import Store

from .conftest import eventually, free_port
from .test_mail import PUBLIC, SENDER, SMTP_ENV, Inbox, start_smtp


@pytest.fixture(autouse=True)
def no_smtp_environment(monkeypatch):
    """Whatever the machine running the tests has set, the settings in the database decide here."""
    for name in SMTP_ENV:
        monkeypatch.delenv(f"CUSTOMERCARD_SMTP_{name}", raising=False)
    monkeypatch.delenv("CUSTOMERCARD_BASE_URL", raising=False)


def use_mail_server(store, port: int) -> None:
    settings = store.settings()
    settings.param.update(smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", smtp_from=SENDER,
                          public_base_url=PUBLIC)
    store.save_settings(settings, user="boss")


@pytest.fixture
def smtp_server():
    server = start_smtp(Inbox())
    yield server
    server.controller.stop()


@pytest.fixture
def firm(empty_store, smtp_server):
    store = empty_store
    use_mail_server(store, smtp_server.port)
    customer = store.create_customer(user="anna", name="Påminnelse & Co AB", account_manager="anna")
    today = store.firm_today()
    for what, due, owner in (("Call <Eva> about the offer", today - dt.timedelta(days=3), "anna"),
                             ("Send the contract", today, "anna"),
                             ("Next month's review", today + dt.timedelta(days=30), "anna"),
                             ("Ring tillbaka", today, "boss")):
        follow_up = store.new_follow_up(customer.id, owner=owner)
        follow_up.what, follow_up.due_on = what, due
        store.add_follow_up(follow_up, user="anna")
    done = store.new_follow_up(customer.id, owner="anna")
    done.what, done.due_on = "Already done", today
    store.set_follow_up_done(store.add_follow_up(done, user="anna").id, user="anna")
    store.set_language("boss", "da", by="boss")
    store.set_language("anna", "en", by="anna")
    return store, customer, smtp_server.inbox


def _by_recipient(inbox) -> dict[str, list]:
    found: dict[str, list] = {}
    for message in inbox.messages():
        found.setdefault(str(message["To"].addresses[0].addr_spec), []).append(message)
    return found


def test_each_owner_gets_one_list_in_their_language(firm):
    store, customer, inbox = firm
    assert send_follow_up_reminders(store) == ["anna", "boss"]
    mails = _by_recipient(inbox)
    assert set(mails) == {"anna@firm.example", "boss@firm.example"}
    annas = mails["anna@firm.example"][0]
    text = annas.get_body(("plain",)).get_content()
    assert annas["Subject"] == "2 follow-ups due · 1 overdue"
    assert annas["Content-Language"] == "en"
    assert "Overdue" in text and "Call <Eva> about the offer" in text and "Send the contract" in text
    assert "Next month's review" not in text and "Already done" not in text and "Ring tillbaka" not in text
    assert f"https://crm.firm.example/card?customer={customer.id}" in text
    markup = annas.get_body(("html",)).get_content()
    assert "Call &lt;Eva&gt; about the offer" in markup and "<Eva>" not in markup
    boss = mails["boss@firm.example"][0]
    assert boss["Content-Language"] == "da"
    assert boss["Subject"] == "1 opfølgning forfalder"  # translated: see the catalogs
    assert "Ring tillbaka" in boss.get_body(("plain",)).get_content()
    assert store.follow_up_mail_days("anna") == [store.firm_today()]


def test_twice_the_same_day_sends_nothing_more(firm):
    store, _customer, inbox = firm
    assert send_follow_up_reminders(store) == ["anna", "boss"]
    assert send_follow_up_reminders(store) == []
    assert len(inbox.messages()) == 2
    tomorrow = store.firm_today() + dt.timedelta(days=1)
    assert send_follow_up_reminders(store, day=tomorrow) == ["anna", "boss"]  # a new day, a new list
    assert len(inbox.messages()) == 4


def test_a_day_already_passed_by_a_sent_reminder_sends_nothing(firm):
    """The firm's time zone moved west after the morning's reminders went out: its today is yesterday again.
    Yesterday's reminder (never sent: nothing was due then, or the server was down) would be a second e-mail of
    the same follow-ups the same morning — none goes; the next day's does."""
    store, _customer, inbox = firm
    today = store.firm_today()
    tomorrow, yesterday = today + dt.timedelta(days=1), today - dt.timedelta(days=1)
    assert send_follow_up_reminders(store, day=today) == ["anna", "boss"]
    assert store.follow_up_mail_recipients(yesterday) == []
    assert not store.claim_follow_up_mail("anna", yesterday)
    assert send_follow_up_reminders(store, day=yesterday) == []
    assert len(inbox.messages()) == 2 and store.follow_up_mail_days("anna") == [today]
    assert send_follow_up_reminders(store, day=tomorrow) == ["anna", "boss"]
    assert len(inbox.messages()) == 4

def test_not_sent_to_someone_who_turned_it_off(firm):
    store, _customer, inbox = firm
    store.set_follow_up_mail_wanted("boss", False, user="boss")
    assert send_follow_up_reminders(store) == ["anna"]
    assert set(_by_recipient(inbox)) == {"anna@firm.example"}


def test_a_failed_send_is_tried_again(firm):
    store, _customer, inbox = firm
    inbox.refuse_rcpt = {"anna@firm.example"}
    assert send_follow_up_reminders(store) == ["boss"]
    assert store.follow_up_mail_days("anna") == []
    inbox.refuse_rcpt = set()
    assert send_follow_up_reminders(store) == ["anna"]
    assert len(inbox.messages()) == 2


def test_without_a_mail_server_nothing_is_claimed(firm):
    store, _customer, inbox = firm
    settings = store.settings()
    settings.smtp_host = ""
    store.save_settings(settings, user="boss")
    assert send_follow_up_reminders(store) == []
    assert store.follow_up_mail_days("anna") == [] and inbox.messages() == []


def test_the_scheduler_waits_for_its_hour(firm):
    store, _customer, inbox = firm
    assert ReminderScheduler(store, send_from=24).run_once() == []
    assert inbox.messages() == []


def test_the_servers_scheduler_runs_again_and_survives_a_restart(firm):
    store, _customer, inbox = firm
    server = CardServer(store, remind=True, remind_every=0.05, remind_from_hour=0)
    server.current_store()
    eventually(lambda: server.reminders.rounds >= 3)
    server.stop()
    assert len(inbox.messages()) == 2
    if store.db.dialect == "duckdb":  # the process restarts: the file is opened again
        location = store.location
        store.close()
        again = Store(location)
    else:  # PostgreSQL: a second server process beside the first
        again = Store(store.location)
    try:
        restarted = CardServer(again, remind=True, remind_every=0.05, remind_from_hour=0)
        restarted.current_store()
        eventually(lambda: restarted.reminders.rounds >= 3)
        restarted.stop()
    finally:
        again.close()
    assert len(inbox.messages()) == 2


def test_the_hour_the_emails_go_out_from_is_the_firms_setting(firm):
    store, _customer, inbox = firm
    settings = store.settings()
    assert settings.reminder_hour == 6  # the default: early in the firm's morning
    now = dt.datetime.now(formatting.time_zone(settings.time_zone)).hour
    if now < 23:  # an hour still to come today: nothing yet
        settings.reminder_hour = now + 1
        settings = store.save_settings(settings, user="boss")
        assert ReminderScheduler(store).run_once() == []
        assert inbox.messages() == []
    settings.reminder_hour = 0  # from midnight: the day's e-mails go out at the next round
    store.save_settings(settings, user="boss")
    assert sorted(ReminderScheduler(store).run_once()) == ["anna", "boss"]
    history = store.admin_log()
    assert "reminder_hour" in " ".join(map(str, history.to_numpy().ravel()))


def test_an_impossible_hour_is_refused_and_nothing_is_stored(firm):
    store, _customer, _inbox = firm
    settings = store.settings()
    for hour in (24, -1):
        with pytest.raises((ValidationError, ValueError)):
            settings.reminder_hour = hour
            store.save_settings(settings, user="boss")
        settings = store.settings()
    assert store.settings().reminder_hour == 6


def test_without_a_public_address_the_links_go_where_the_server_is_reached(firm):
    """No public address set and none configured: a served reminder links to the server's own address (the port it
    serves on), never to a default port nobody serves on."""
    store, customer, inbox = firm
    settings = store.settings()
    settings.public_base_url = ""
    store.save_settings(settings, user="boss")
    port = free_port()
    server = CardServer(store, port=port, remind=True, remind_every=0.05, remind_from_hour=0)
    assert server.reached_at() == f"http://127.0.0.1:{port}"
    server.current_store()
    try:
        eventually(lambda: len(inbox.messages()) == 2)
    finally:
        server.stop()
    text = _by_recipient(inbox)["anna@firm.example"][0].get_body(("plain",)).get_content()
    assert f"http://127.0.0.1:{port}/card?customer={customer.id}" in text and "localhost:5006" not in text


def test_each_users_reminder_links_go_where_that_user_reaches_the_server(demo_template, tmp_path):
    """The address a user's browser asked a page at is that user's own: Erik sending a forged Host header does not
    make Anna's (or anyone's) reminder links point at his site — they go where she reached the server, else to
    the server's own address."""
    from customercard import app

    from .conftest import copy_database, wait_for_port
    from .http_client import Client

    store = Store(copy_database(demo_template, tmp_path))
    port = free_port()
    server = app.make_server(store, port=port, threaded=True, start=True)
    wait_for_port(port)
    try:
        own = f"http://127.0.0.1:{port}"
        erik, anna = Client(own), Client(own)
        assert erik.log_in("erik", "demo").status == 302 and anna.log_in("anna", "demo").status == 302
        assert erik.get("/search", headers={"Host": "evil.example"}).status == 200
        assert anna.get("/search").status == 200
        assert server.reached_at("erik") == "http://evil.example"  # his own links only
        assert server.reached_at("anna") == own and server.reached_at("kari") == own
    finally:
        server.stop()
        store.close()
