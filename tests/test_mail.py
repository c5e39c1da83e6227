"""Send e-mail about a customer: a real SMTP server (aiosmtpd) on loopback, real DuckDB files, no mocks."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from types import SimpleNamespace

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

import customercard as cc
from customercard import mail
from customercard.mail import MailError, compose, send_customer_mail, smtp_settings
from customercard.ui.card import CustomerCard

from .conftest import eventually, free_port, rich_customers

SENDER = "crm@firm.example"
PUBLIC = "https://crm.firm.example"
SMTP_ENV = ("HOST", "PORT", "SECURITY", "USER", "PASSWORD", "FROM", "TIMEOUT")


class Inbox:
    """An aiosmtpd handler that keeps what it accepts and refuses what it is told to."""

    def __init__(self) -> None:
        self.envelopes: list = []
        self.refuse_rcpt: set[str] = set()
        self.refuse_data = False

    async def handle_RCPT(self, _server, _session, envelope, address, _rcpt_options):  # aiosmtpd's handler hook
        if address in self.refuse_rcpt:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server, _session, envelope):  # aiosmtpd's handler hook
        if self.refuse_data:
            return "554 5.7.1 Message rejected as spam"
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list:
        return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]


def start_smtp(handler, **kwargs) -> SimpleNamespace:
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SimpleNamespace(controller=controller, port=port, inbox=handler)


@pytest.fixture
def smtp_server():
    """A real SMTP server on a free loopback port that stores the envelopes it accepts."""
    server = start_smtp(Inbox())
    yield server
    server.controller.stop()


@pytest.fixture(autouse=True)
def no_smtp_environment(monkeypatch):
    """Whatever the machine running the tests has set, the settings in the database decide here."""
    for name in SMTP_ENV:
        monkeypatch.delenv(f"CUSTOMERCARD_SMTP_{name}", raising=False)
    monkeypatch.delenv("CUSTOMERCARD_BASE_URL", raising=False)


def use_mail_server(store, port: int, **values) -> None:
    settings = store.settings()
    settings.param.update(**{"smtp_host": "127.0.0.1", "smtp_port": port, "smtp_security": "none",
                             "smtp_from": SENDER, "public_base_url": PUBLIC, **values})
    store.save_settings(settings, user="admin")


@pytest.fixture
def customer_id(demo_store) -> int:
    return rich_customers(demo_store)[0]


def email_comments(store, customer_id: int):
    frame = store.comments(customer_id)
    return frame[frame["kind"] == "email"]


def test_mail_reaches_the_colleagues_with_the_card_link_and_key_data_then_is_saved_as_a_comment(
        demo_store, smtp_server, customer_id):
    use_mail_server(demo_store, smtp_server.port)
    customer = demo_store.get_customer(customer_id)
    before = demo_store.comment_count(customer_id)
    comment = send_customer_mail(demo_store, customer_id, ["erik", "maria"], "Renewal <soon>",
                                 "They want a proposal.\nCall <b>them</b> & me.", user="anna")

    assert len(smtp_server.inbox.envelopes) == 1
    envelope = smtp_server.inbox.envelopes[0]
    assert envelope.mail_from == SENDER
    assert sorted(envelope.rcpt_tos) == ["erik@firm.example", "maria@firm.example"]
    message = smtp_server.inbox.messages()[0]
    assert message["Subject"] == "Renewal <soon>"
    assert [a.addr_spec for a in message["To"].addresses] == ["erik@firm.example", "maria@firm.example"]
    assert [a.display_name for a in message["To"].addresses] == ["Erik Nilsson", "Maria Jensen"]
    assert message["From"].addresses[0].addr_spec == SENDER
    assert message["From"].addresses[0].display_name == "Anna Berg"
    assert message["Reply-To"].addresses[0].addr_spec == "anna@firm.example"

    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    html = message.get_body(("html",)).get_content().replace("\r\n", "\n")
    link = f"{PUBLIC}/card?customer={customer_id}"
    manager = demo_store.user_name(customer.account_manager)
    address = customer.visit_address
    for part in (text, html):
        assert link in part
        assert str(customer.number) in part and customer.phone in part and customer.status in part
        assert manager in part and manager != customer.account_manager
        assert address.line1 and address.city and address.postal_code
        assert address.line1 in part and address.city in part and address.postal_code in part
    assert customer.name in text and "They want a proposal.\nCall <b>them</b> & me." in text
    assert f'href="{link}"' in html
    assert "Call &lt;b&gt;them&lt;/b&gt; &amp; me." in html and "<b>them</b>" not in html
    assert "Renewal &lt;soon&gt;" in html

    assert demo_store.comment_count(customer_id) == before + 1
    assert (comment.kind, comment.recipients, comment.author) == ("email", ["erik", "maria"], "anna")
    stored = demo_store.get_comment(comment.id)
    assert stored.kind == "email" and stored.recipients == ["erik", "maria"]
    assert stored.body == "Subject: Renewal <soon>\n\nThey want a proposal.\nCall <b>them</b> & me."
    row = email_comments(demo_store, customer_id).iloc[0]
    assert json.loads(row.recipients) == ["erik", "maria"]


def test_the_sender_is_the_user_when_no_sender_address_is_set(demo_store, smtp_server, customer_id):
    use_mail_server(demo_store, smtp_server.port, smtp_from="")
    message = compose(demo_store, customer_id, "maria", ["anna"], "Hello", "A word.")
    assert message["From"].addresses[0].addr_spec == "maria@firm.example"
    assert message["Reply-To"].addresses[0].addr_spec == "maria@firm.example"
    send_customer_mail(demo_store, customer_id, ["anna"], "Hello", "A word.", user="maria")
    assert smtp_server.inbox.envelopes[0].mail_from == "maria@firm.example"


def test_the_link_uses_the_base_url_from_the_environment_when_the_setting_is_empty(
        demo_store, customer_id, monkeypatch):
    settings = demo_store.settings()
    settings.public_base_url = ""
    demo_store.save_settings(settings, user="admin")
    assert mail.card_url(demo_store, customer_id) == f"http://localhost:5006/card?customer={customer_id}"
    monkeypatch.setenv("CUSTOMERCARD_BASE_URL", "https://cards.example.se/")
    message = compose(demo_store, customer_id, "anna", ["erik"], "Hi", "Look.")
    assert f"https://cards.example.se/card?customer={customer_id}" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("recipients, problem", [
    (["erik", "nobody"], "“nobody” is not a user"),
    (["kari"], "Kari Haugen is deactivated"),
    (["olli"], "Olli Virtanen has no e-mail address"),
    ([], "Choose at least one colleague"),
])
def test_a_recipient_who_is_not_an_active_user_with_an_address_is_refused_and_nothing_is_sent(
        demo_store, smtp_server, customer_id, recipients, problem):
    use_mail_server(demo_store, smtp_server.port)
    kari = demo_store.get_user("kari")
    kari.active = False
    demo_store.update_user(kari, by="admin")
    olli = demo_store.get_user("olli")
    olli.email = ""
    demo_store.update_user(olli, by="admin")
    before = demo_store.comment_count(customer_id)
    with pytest.raises(cc.ValidationError) as caught:
        send_customer_mail(demo_store, customer_id, recipients, "Subject", "Message", user="anna")
    assert set(caught.value.errors) == {"recipients"}
    assert problem in caught.value.errors["recipients"]
    assert smtp_server.inbox.envelopes == []
    assert demo_store.comment_count(customer_id) == before


def test_subject_and_message_are_required_and_the_subject_is_limited(demo_store, smtp_server, customer_id):
    use_mail_server(demo_store, smtp_server.port)
    with pytest.raises(cc.ValidationError) as caught:
        send_customer_mail(demo_store, customer_id, ["erik"], "   ", "\n ", user="anna")
    assert set(caught.value.errors) == {"subject", "message"}
    with pytest.raises(cc.ValidationError) as caught:
        compose(demo_store, customer_id, "anna", ["erik"], "x" * 201, "Fine.")
    assert set(caught.value.errors) == {"subject"} and "200" in caught.value.errors["subject"]
    message = compose(demo_store, customer_id, "anna", ["erik"], "One\nline", "Fine.")
    assert message["Subject"] == "One line"  # a header cannot carry a line break
    assert smtp_server.inbox.envelopes == []


def test_a_viewer_may_not_send(demo_store, smtp_server, customer_id):
    use_mail_server(demo_store, smtp_server.port)
    before = demo_store.comment_count(customer_id)
    with pytest.raises(cc.PermissionDenied):
        send_customer_mail(demo_store, customer_id, ["anna"], "Hi", "From a viewer.", user="vera")
    assert smtp_server.inbox.envelopes == []
    assert demo_store.comment_count(customer_id) == before


def test_no_mail_server_configured_says_so(demo_store, customer_id):
    assert not mail.mail_configured(demo_store)
    with pytest.raises(MailError, match="No mail server is configured"):
        send_customer_mail(demo_store, customer_id, ["erik"], "Hi", "There.", user="anna")
    assert isinstance(MailError("x"), cc.CustomerCardError)


def test_a_server_that_is_down_gives_a_clear_reason_and_no_comment(demo_store, customer_id):
    port = free_port()  # nothing listens here
    use_mail_server(demo_store, port)
    before = demo_store.comment_count(customer_id)
    with pytest.raises(MailError) as caught:
        send_customer_mail(demo_store, customer_id, ["erik"], "Hi", "There.", user="anna")
    assert str(caught.value) == f"The mail server at 127.0.0.1:{port} did not answer (connection refused)."
    assert demo_store.comment_count(customer_id) == before


def test_a_server_that_never_answers_times_out_with_a_clear_reason(demo_store, customer_id, monkeypatch):
    with socket.socket() as silent:  # accepts connections (the kernel does) but never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        use_mail_server(demo_store, port)
        before = demo_store.comment_count(customer_id)
        monkeypatch.setenv("CUSTOMERCARD_SMTP_TIMEOUT", "0.5")
        with pytest.raises(MailError) as caught:
            send_customer_mail(demo_store, customer_id, ["erik"], "Hi", "There.", user="anna")
    assert f"The mail server at 127.0.0.1:{port}" in str(caught.value)
    assert "no reply within 0.5 seconds" in str(caught.value)
    assert demo_store.comment_count(customer_id) == before


def test_a_refused_recipient_cancels_the_whole_mail_and_saves_nothing(demo_store, smtp_server, customer_id):
    use_mail_server(demo_store, smtp_server.port)
    smtp_server.inbox.refuse_rcpt = {"maria@firm.example"}
    before = demo_store.comment_count(customer_id)
    with pytest.raises(MailError) as caught:
        send_customer_mail(demo_store, customer_id, ["erik", "maria"], "Hi", "There.", user="anna")
    text = str(caught.value)
    assert "refused Maria Jensen <maria@firm.example>" in text and "550" in text and "No such mailbox" in text
    assert "Nothing was sent" in text and "Erik" not in text
    assert smtp_server.inbox.envelopes == []
    assert demo_store.comment_count(customer_id) == before


def test_a_rejected_message_saves_nothing(demo_store, smtp_server, customer_id):
    use_mail_server(demo_store, smtp_server.port)
    smtp_server.inbox.refuse_data = True
    before = demo_store.comment_count(customer_id)
    with pytest.raises(MailError, match=r"did not accept the message \(554 5\.7\.1 Message rejected as spam\)"):
        send_customer_mail(demo_store, customer_id, ["erik"], "Hi", "There.", user="anna")
    assert demo_store.comment_count(customer_id) == before


def test_a_refused_login_says_so(demo_store, customer_id, monkeypatch):
    def authenticator(server, session, envelope, mechanism, auth_data):
        return AuthResult(success=auth_data.login == b"crm" and auth_data.password == b"right", handled=False)

    inbox = Inbox()
    server = start_smtp(inbox, authenticator=authenticator, auth_require_tls=False)
    try:
        use_mail_server(demo_store, server.port, smtp_user="crm")
        before = demo_store.comment_count(customer_id)
        monkeypatch.setenv("CUSTOMERCARD_SMTP_PASSWORD", "wrong")
        with pytest.raises(MailError, match="refused the login “crm”"):
            send_customer_mail(demo_store, customer_id, ["erik"], "Hi", "There.", user="anna")
        assert inbox.envelopes == [] and demo_store.comment_count(customer_id) == before
        monkeypatch.setenv("CUSTOMERCARD_SMTP_PASSWORD", "right")
        send_customer_mail(demo_store, customer_id, ["erik"], "Hi", "There.", user="anna")
        assert len(inbox.envelopes) == 1
    finally:
        server.controller.stop()


def test_the_environment_overrides_the_settings(demo_store, smtp_server, customer_id, monkeypatch):
    use_mail_server(demo_store, free_port(), smtp_user="", smtp_from=SENDER)  # the stored port is dead
    monkeypatch.setenv("CUSTOMERCARD_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CUSTOMERCARD_SMTP_PORT", str(smtp_server.port))
    monkeypatch.setenv("CUSTOMERCARD_SMTP_FROM", "robot@firm.example")
    monkeypatch.setenv("CUSTOMERCARD_SMTP_TIMEOUT", "3")
    smtp = smtp_settings(demo_store)
    assert (smtp.host, smtp.port, smtp.security, smtp.sender, smtp.timeout) == (
        "127.0.0.1", smtp_server.port, "none", "robot@firm.example", 3.0)
    send_customer_mail(demo_store, customer_id, ["erik"], "Via env", "Overridden.", user="anna")
    assert smtp_server.inbox.envelopes[0].mail_from == "robot@firm.example"
    assert smtp_server.inbox.messages()[0]["Subject"] == "Via env"

    settings = demo_store.settings()
    settings.param.update(smtp_host="mail.firm.example", smtp_port=587, smtp_security="starttls",
                          smtp_user="crm")
    demo_store.save_settings(settings, user="admin")
    for name in ("HOST", "PORT", "FROM"):
        monkeypatch.delenv(f"CUSTOMERCARD_SMTP_{name}")
    smtp = smtp_settings(demo_store)
    assert (smtp.host, smtp.port, smtp.security, smtp.user, smtp.password) == (
        "mail.firm.example", 587, "starttls", "crm", "")
    monkeypatch.setenv("CUSTOMERCARD_SMTP_SECURITY", "ssl")
    monkeypatch.setenv("CUSTOMERCARD_SMTP_USER", "other")
    monkeypatch.setenv("CUSTOMERCARD_SMTP_PASSWORD", "s3cret")
    smtp = smtp_settings(demo_store)
    assert (smtp.security, smtp.user, smtp.password) == ("ssl", "other", "s3cret")


# -- the card's Contact details section, without a browser -------------------------------------------------
def tool_actions(section) -> list[str]:
    return [tool["action"] for tool in section.view.tools]


def form_widget(section, css: str):
    def walk(obj):
        if css in (getattr(obj, "css_classes", None) or []):
            return obj
        for child in getattr(obj, "objects", []) or []:
            found = walk(child)
            if found is not None:
                return found
        return None
    return walk(section.view.child)


def test_the_contact_section_offers_send_email_to_writers_when_a_server_is_configured(
        demo_store, smtp_server, customer_id):
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    assert "send-email" not in tool_actions(card.section("contact"))  # no mail server yet
    use_mail_server(demo_store, smtp_server.port)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    assert tool_actions(card.section("contact")) == ["edit", "send-email"]
    assert {t["label"] for t in card.section("contact").view.tools} == {"Edit", "Send e-mail…"}
    viewer = CustomerCard(store=demo_store, customer_id=customer_id, user="vera")
    assert tool_actions(viewer.section("contact")) == []
    viewer.section("contact").handle("send-email", {})
    assert viewer.section("contact").view.child is None


def test_send_from_the_card_then_the_comments_show_the_email(demo_store, smtp_server, customer_id):
    use_mail_server(demo_store, smtp_server.port)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("contact")
    section.handle("send-email", {})
    assert "cc-email-form" in section.view.child.css_classes and section.view.tools == []
    to = form_widget(section, "cc-email-to")
    users = demo_store.users()
    assert sorted(to.options.values()) == sorted(users["login"])  # every active colleague, the sender too
    assert to.options["Erik Nilsson"] == "erik"

    form_widget(section, "cc-email-subject").value = "Renewal"
    section.send_email()
    shown = form_widget(section, "cc-email-message-text").object
    assert "To:" in shown and "Choose at least one colleague" in shown and "Message:" in shown
    # and each under its field, as every form of the card says them (the subject given: nothing under it)
    notes = [cell["error"] for cell in form_widget(section, "cc-email-fields").cells]
    assert "Choose at least one colleague" in notes[0] and notes[1] == "" and notes[2], notes
    assert form_widget(section, "cc-email-subject").value == "Renewal"

    to.value = ["erik", "maria"]
    form_widget(section, "cc-email-message").value = "They want a proposal."
    header_drawn = card.section("header").drawn
    assert section.send_email() is True
    assert card.section("header").drawn == header_drawn  # an e-mail comment changes nothing the header shows
    assert not section.form_open  # the read view again (the form's holder stays, empty)
    assert "Sent to Erik Nilsson, Maria Jensen; saved as a comment." in section.view.html
    assert "send-email" in tool_actions(section)
    assert len(smtp_server.inbox.envelopes) == 1
    comments = card.section("comments")  # told by the store's change feed (on PostgreSQL a NOTIFY: a moment later)
    eventually(lambda: "E-mail to Erik Nilsson, Maria Jensen" in comments.view.html)
    assert "Subject: Renewal" in comments.view.html


def test_a_failed_send_keeps_the_draft_and_says_why(demo_store, customer_id):
    server = start_smtp(Inbox())
    use_mail_server(demo_store, server.port)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("contact")
    section.handle("send-email", {})
    form_widget(section, "cc-email-to").value = ["erik"]
    form_widget(section, "cc-email-subject").value = "Renewal"
    form_widget(section, "cc-email-message").value = "They want a proposal."
    server.controller.stop()
    before = demo_store.comment_count(card.customer.id)
    assert section.send_email() is False
    assert "did not answer (connection refused)" in form_widget(section, "cc-email-message-text").object
    assert form_widget(section, "cc-email-subject").value == "Renewal"
    assert form_widget(section, "cc-email-to").value == ["erik"]
    card.context.param.trigger("saved")  # another section saving does not throw the draft away
    assert form_widget(section, "cc-email-subject").value == "Renewal"
    assert demo_store.comment_count(card.customer.id) == before
    section.cancel_email()
    assert not section.form_open and "cc-contact-details" in section.view.html


def test_a_right_to_left_override_in_the_address_stays_inside_its_own_part_of_the_mail(demo_store, smtp_server,
                                                                                        customer_id):
    """An override typed in the street (a free text may hold one) turns round only the street, not the city, the
    country and the lines after it, in the text and the HTML of the mail."""
    use_mail_server(demo_store, smtp_server.port)
    customer = demo_store.get_customer(customer_id)
    customer.visit_address.line1 = "Storgatan \u202e1 A"
    demo_store.save_customer(customer, user="anna")
    send_customer_mail(demo_store, customer_id, ["erik"], "Address", "See the card.", user="anna")
    message = smtp_server.inbox.messages()[-1]
    for kind in ("plain", "html"):
        body = message.get_body((kind,)).get_content()
        assert "\u2068Storgatan \u202e1 A\u2069" in body, kind


def test_no_mail_goes_about_a_customer_merged_away(demo_store, smtp_server):
    """The comment the mail leaves would be refused after the mail went (the customer takes no new records): the
    mail is not sent either, and the user is told where to send it from."""
    use_mail_server(demo_store, smtp_server.port)
    survivor = demo_store.create_customer(user="anna", name="Survivor Mail AB")
    duplicate = demo_store.create_customer(user="anna", name="Duplicate Mail AB")
    demo_store.merge_customers(survivor.id, duplicate.id, user="admin")
    sent = len(smtp_server.inbox.envelopes)
    with pytest.raises(cc.PermissionDenied, match=f"merged into customer {survivor.number} \\(Survivor Mail AB\\)"):
        send_customer_mail(demo_store, duplicate.id, ["erik"], "Hello", "A word.", user="anna")
    assert len(smtp_server.inbox.envelopes) == sent


INJECTIONS = ["=?utf-8?q?Renewal=0D=0ABcc:_evil@attacker.example?=",
              "=?utf-8?b?UmVuZXdhbA0KQmNjOiBldmlsQGF0dGFja2VyLmV4YW1wbGUNClgtSW5qZWN0ZWQ6IHllcw==?=",
              "=?utf-8?q?Hi=0D=0A=0D=0AFake_body_replacing_the_message?=",
              "Renewal =?UTF-8?Q?=0AFrom:_CEO_<ceo@firm.example>?= soon"]


@pytest.mark.parametrize("subject", INJECTIONS)
def test_a_subject_with_an_encoded_line_break_cannot_write_headers(demo_store, smtp_server, customer_id, subject):
    """A subject hiding a line break in an encoded word reached the mail server as headers of the typist's own (a Bcc,
    a From, an empty header block and a body of theirs): the e-mail library decoded it and wrote it out raw
    (CVE-2024-6923). The subject now travels as typed, in the Subject header alone."""
    use_mail_server(demo_store, smtp_server.port)
    send_customer_mail(demo_store, customer_id, ["erik"], subject, "The real message.", user="anna")
    envelope = smtp_server.inbox.envelopes[-1]
    assert envelope.rcpt_tos == ["erik@firm.example"]
    head = envelope.content.split(b"\r\n\r\n", 1)[0]
    names = sorted(line.split(b":", 1)[0].lower() for line in head.split(b"\r\n") if line[:1] not in (b" ", b"\t"))
    assert names == sorted([b"subject", b"from", b"to", b"reply-to", b"date", b"message-id", b"mime-version",
                            b"x-customercard-customer", b"content-type", b"content-language"])
    message = smtp_server.inbox.messages()[-1]
    assert message["Subject"].replace("\u200b", "") == " ".join(subject.split())
    assert message["From"].addresses[0].addr_spec == SENDER and message["Bcc"] is None
    assert "The real message." in message.get_body(("plain",)).get_content()


def test_a_display_name_with_an_encoded_line_break_cannot_write_headers(demo_store, smtp_server, customer_id):
    """A user's name (set by an administrator) went into From, To and Reply-To the same way."""
    use_mail_server(demo_store, smtp_server.port)
    erik = demo_store.get_user("erik")
    erik.name = "=?utf-8?q?Erik=0D=0ABcc:_evil@attacker.example?="
    demo_store.update_user(erik, by="admin")
    anna = demo_store.get_user("anna")
    anna.name = "=?utf-8?q?Anna=0D=0AX-Injected:_yes?="
    demo_store.update_user(anna, by="admin")
    send_customer_mail(demo_store, customer_id, ["erik"], "Renewal", "The real message.", user="anna")
    message = smtp_server.inbox.messages()[-1]
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert message["To"].addresses[0].addr_spec == "erik@firm.example"
    shown = message["To"].addresses[0].display_name.replace("\u200b", "")
    assert shown.replace(" ", "") == erik.name  # (as typed; a long name is folded where the library likes)


def test_the_last_guard_refuses_a_message_whose_headers_a_value_broke(demo_store, customer_id):
    """Whatever a value did to the headers, a message whose header block is not the headers set on it is not sent."""
    message = compose(demo_store, customer_id, "anna", ["erik"], "Renewal", "The real message.")
    mail.check_headers(message)  # as composed: its own headers
    message.replace_header("Subject", "=?utf-8?q?Renewal=0D=0ABcc:_evil@attacker.example?=")
    with pytest.raises(MailError, match="could not be put together safely"):
        mail.check_headers(message)
