"""Send e-mail from the card in Debian's Chromium against the real server and a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from .conftest import free_port, login, rich_customers, wait_for_port

pytestmark = pytest.mark.browser


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd's handler hook
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    wait_for_port(port)
    server = SimpleNamespace(controller=controller, port=port, inbox=inbox, running=True)
    yield server
    if server.running:
        controller.stop()


@pytest.fixture
def mail_settings(live_server, smtp_server, monkeypatch):
    """The served app's firm settings point at the SMTP server (and the environment does not interfere)."""
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_SECURITY", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_TIMEOUT",
                 "BASE_URL"):
        monkeypatch.delenv(f"CUSTOMERCARD_{name}", raising=False)
    store = live_server.store
    before = store.settings()
    settings = store.settings()
    settings.param.update(smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none",
                          smtp_from="crm@firm.example", public_base_url="")  # links: where the sender is
    store.save_settings(settings, user="admin")
    yield settings
    restored = store.settings()  # the settings as now stored (their version), with the earlier values
    restored.update_from({name: before.get(name) for name in before.fields})
    store.save_settings(restored, user="admin")


def section(page, key: str):
    return page.locator(f"div.cc-section-{key}")


def choose_colleague(contact, name: str) -> None:
    """Pick a name in the recipients' MultiChoice (Choices.js: type, then click the offered item)."""
    box = contact.locator(".cc-email-to input")
    box.click()
    box.fill(name.split(maxsplit=1)[0])
    contact.locator(".cc-email-to .choices__list--dropdown .choices__item--choice", has_text=name).first.click()
    expect(contact.locator(".cc-email-to .choices__list--multiple .choices__item", has_text=name)).to_be_visible()


def test_send_an_email_from_the_card_then_it_arrives_and_shows_as_a_comment(
        live_server, page, smtp_server, mail_settings):
    customer_id = rich_customers(live_server.store)[0]
    store = live_server.store
    before = store.comment_count(customer_id)
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    contact = section(page, "contact")
    contact.locator("button.cc-tool-send-email").click()
    form = contact.locator(".cc-email-form")
    expect(form).to_be_visible()
    choose_colleague(contact, "Erik Nilsson")
    contact.locator(".cc-email-subject input").fill("Renewal in the autumn")
    contact.locator(".cc-email-message textarea").fill("They want a proposal before August.")
    contact.locator(".cc-send-email button").click()

    expect(contact.locator(".cc-note.ok")).to_have_text("Sent to Erik Nilsson; saved as a comment.")
    expect(form).to_have_count(0)
    expect(contact.locator(".cc-contact-details")).to_be_visible()
    assert len(smtp_server.inbox.envelopes) == 1
    envelope = smtp_server.inbox.envelopes[0]
    assert envelope.rcpt_tos == ["erik@firm.example"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "Renewal in the autumn"
    link = f"{live_server.url}/card?customer={customer_id}"  # the address the card was reached at, port and all
    assert link in message.get_body(("plain",)).get_content()
    assert link in message.get_body(("html",)).get_content()

    first = section(page, "comments").locator(".cc-comment").first
    expect(first.locator(".cc-badge")).to_have_text("E-mail to Erik Nilsson")
    expect(first).to_contain_text("Subject: Renewal in the autumn")
    expect(first).to_contain_text("They want a proposal before August.")
    assert store.comment_count(customer_id) == before + 1
    saved = store.get_comment(int(store.comments(customer_id, limit=1)["id"].iloc[0]))
    assert (saved.kind, saved.recipients, saved.author) == ("email", ["erik"], "anna")


def test_a_failed_send_shows_the_reason_and_keeps_the_draft(live_server, page, smtp_server, mail_settings):
    customer_id = rich_customers(live_server.store)[1]
    store = live_server.store
    before = store.comment_count(customer_id)
    login(page, live_server.url, "maria", path=f"/card?customer={customer_id}")
    contact = section(page, "contact")
    contact.locator("button.cc-tool-send-email").click()
    choose_colleague(contact, "Olli Virtanen")
    subject = contact.locator(".cc-email-subject input")
    subject.fill("Their new office")
    contact.locator(".cc-email-message textarea").fill("They are moving in May.")
    smtp_server.controller.stop()
    smtp_server.running = False
    contact.locator(".cc-send-email button").click()

    reason = contact.locator(".cc-email-message-text")
    expect(reason).to_contain_text(f"The mail server at 127.0.0.1:{smtp_server.port} did not answer "
                                   "(connection refused).")
    expect(subject).to_have_value("Their new office")
    expect(contact.locator(".cc-email-message textarea")).to_have_value("They are moving in May.")
    chosen = contact.locator(".cc-email-to .choices__list--multiple .choices__item")
    expect(chosen).to_have_count(1)
    expect(chosen.first).to_contain_text("Olli Virtanen")
    assert store.comment_count(customer_id) == before
    assert smtp_server.inbox.envelopes == []

    contact.locator(".cc-cancel-email button").click()
    expect(contact.locator(".cc-email-form")).to_have_count(0)
    expect(contact.locator(".cc-contact-details")).to_be_visible()

    # Escape leaves it as Cancel does (as it leaves New comment and Edit)
    contact.locator("button.cc-tool-send-email").click()
    subject.fill("Changed my mind")
    subject.press("Escape")
    expect(contact.locator(".cc-email-form")).to_have_count(0)


def test_a_viewer_is_not_offered_send_email(live_server, page, mail_settings):
    customer_id = rich_customers(live_server.store)[0]
    login(page, live_server.url, "vera", path=f"/card?customer={customer_id}")
    expect(section(page, "contact").locator(".cc-contact-details")).to_be_visible()
    expect(page.locator("button.cc-tool-send-email")).to_have_count(0)


def test_a_mail_server_that_does_not_answer_holds_up_no_one_else(live_server, page, smtp_server, mail_settings):
    """The mail is sent off the server's page thread: while the mail server keeps the sender waiting (up to its
    timeout), other people's pages and logins are answered at once; the sender then reads why it failed."""
    import socket
    import time
    import urllib.request

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)  # accepts, never answers
    store = live_server.store
    settings = store.settings()
    settings.smtp_port = silent.getsockname()[1]
    store.save_settings(settings, user="admin")
    try:
        customer_id = rich_customers(store)[0]
        login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
        contact = section(page, "contact")
        contact.locator("button.cc-tool-send-email").click()
        choose_colleague(contact, "Olli Virtanen")
        contact.locator(".cc-email-subject input").fill("Waiting")
        contact.locator(".cc-email-message textarea").fill("Does the mail server answer?")
        contact.locator(".cc-send-email button").click()
        page.wait_for_timeout(500)  # the send has started and waits for the mail server
        started = time.monotonic()
        with urllib.request.urlopen(live_server.url + "/login", timeout=30) as answer:  # a loopback test URL
            assert answer.status == 200
        assert time.monotonic() - started < 3.0
        expect(contact.locator(".cc-email-message-text")).to_contain_text("stopped answering", timeout=30_000)
    finally:
        silent.close()


def test_in_a_1280_by_720_window_a_colleague_is_chosen_by_mouse_and_the_form_sent(live_server, browser, smtp_server,
                                                                                   mail_settings):
    """Playwright's default window: the "To" list opened upward under the section above (no colleague could be
    clicked), opened over the form as it took the focus (a click on Subject or Send met it), and stayed open
    after a click on a colleague. It opens below, on the user's asking, and closes once a colleague is clicked."""
    customer_id = rich_customers(live_server.store)[0]
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    contact = section(page, "contact")
    contact.locator("button.cc-tool-send-email").click()
    expect(contact.locator(".cc-email-form")).to_be_visible()
    page.wait_for_timeout(300)
    assert contact.locator(".cc-email-to .choices__list--dropdown.is-active").count() == 0  # the form is free
    focused = page.evaluate("""() => { let a = document.activeElement;
        while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
        return a ? a.className : null; }""")
    assert "choices__input" in (focused or "")  # the focus is in "To"
    contact.locator(".cc-email-to input").click()
    contact.locator(".cc-email-to input").press_sequentially("Erik")
    contact.locator(".cc-email-to .choices__list--dropdown .choices__item--choice", has_text="Erik Nilsson").click()
    expect(contact.locator(".cc-email-to .choices__list--dropdown.is-active")).to_have_count(0)
    contact.locator(".cc-email-subject input").click()  # nothing over it
    page.keyboard.type("Clicked by mouse")
    contact.locator(".cc-email-message textarea").click()
    page.keyboard.type("All by mouse, in a small window.")
    contact.locator(".cc-send-email button").click()
    expect(contact.locator(".cc-note.ok")).to_contain_text("Sent to Erik Nilsson", timeout=20_000)
    assert smtp_server.inbox.envelopes[-1].rcpt_tos == ["erik@firm.example"]
    context.close()


def test_a_refused_send_says_each_reason_under_its_field_and_passes_axe(live_server, page, smtp_server, mail_settings):
    """Send with no colleague and no message: each reason under its own field (it was one line under Send), the
    first of them focused, and axe finds nothing serious in that state."""
    from .axe import blocking, describe, run_axe

    customer_id = rich_customers(live_server.store)[2]
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    contact = section(page, "contact")
    contact.locator("button.cc-tool-send-email").click()
    contact.locator(".cc-email-subject input").fill("About the renewal")
    contact.locator(".cc-send-email button").click()
    to_field, message_field = contact.locator(".cc-field-recipients"), contact.locator(".cc-field-message")
    expect(to_field).to_contain_text("Choose at least one colleague")
    expect(message_field).to_contain_text("Write a message")
    expect(contact.locator(".cc-field-subject .cc-error-text")).to_be_hidden()
    expect(contact.locator(".cc-email-to input")).to_be_focused()
    assert smtp_server.inbox.envelopes == []
    violations = blocking(run_axe(page)["violations"])
    assert not violations, describe(violations)
