"""E-mail about a customer to colleagues, sent from the card and then kept as a comment on it.

The SMTP server is the firm's (System administration → Customers: host, port, security, login, sender),
and every ``CUSTOMERCARD_SMTP_*`` variable that is set takes precedence over the stored setting; the
password comes only from ``CUSTOMERCARD_SMTP_PASSWORD``. No Panel here: the card's Contact details section
and notebooks call :func:`send_customer_mail`.

    comment = send_customer_mail(store, 42, ["erik", "maria"], "Renewal", "They want a proposal.", user="anna")
"""

from __future__ import annotations

import html
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from . import formatting
from .config import Config, get_config
from .errors import CustomerCardError, NotFound, PermissionDenied, ValidationError
from .i18n import _, current_language, quote, using_language
from .identity import acting_user
from .models import Comment, Customer, MailDraft, User, text_limits
from .validators import isolated

#: The longest subject and message (the model's, :class:`~customercard.models.MailDraft`): the saved comment
#: ("Subject: …" and the message) stays within a comment's 20,000 characters.
MAX_SUBJECT = text_limits(MailDraft.param.subject)[0]
MAX_MESSAGE = text_limits(MailDraft.param.message)[0]
DEFAULT_BASE_URL = "http://localhost:5006"
SECURITIES = ("none", "starttls", "ssl")
#: SMTP replies: the command was taken; a recipient is taken and will be forwarded (RFC 5321).
SMTP_OK, SMTP_WILL_FORWARD = 250, 251


class MailError(CustomerCardError):
    """The e-mail could not be sent (no mail server configured, or the server failed or refused it).

    The message says why in words a user understands; nothing was saved when this is raised.
    """


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how mail is sent: the stored settings with the environment's values on top."""

    host: str
    port: int
    security: str
    user: str
    password: str
    sender: str
    timeout: float

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"


def smtp_settings(store, config: Config | None = None) -> SmtpSettings:
    """The SMTP settings in force: each ``CUSTOMERCARD_SMTP_*`` value that is set, else the stored setting.

    Host, port, security, login and sender are taken one by one (an environment value wins where it is set;
    an unset or empty one leaves the stored setting); the password only ever comes from the environment and
    the timeout from the configuration (default 10 seconds).
    """
    config = config or get_config()
    stored = store.settings()
    security = (config.smtp_security or stored.smtp_security or "none").strip().lower()
    return SmtpSettings(
        host=(config.smtp_host or stored.smtp_host or "").strip(),
        port=int(config.smtp_port or stored.smtp_port),
        security=security if security in SECURITIES else "none",
        user=(config.smtp_user or stored.smtp_user or "").strip(),
        password=config.smtp_password or "",
        sender=(config.smtp_from or stored.smtp_from or "").strip(),
        timeout=float(config.smtp_timeout),
    )


def mail_configured(store, config: Config | None = None) -> bool:
    """Whether a mail server is configured (an SMTP host in the settings or the environment)."""
    return bool(smtp_settings(store, config).host)


def card_url(store, customer_id: int, config: Config | None = None, reached_at: str | None = None) -> str:
    """The direct link to a customer's card: the public base URL setting, else CUSTOMERCARD_BASE_URL, else the
    address the server was reached at for this e-mail (``reached_at``, e.g. ``https://crm.firm.se``: a card's
    session knows it), else the default local address (a notebook with no server)."""
    return f"{links_base(store, config, reached_at)}/card?customer={int(customer_id)}"


def links_base(store, config: Config | None = None, reached_at: str | None = None) -> str:
    """Where an e-mail's links go: the public base URL setting, else CUSTOMERCARD_BASE_URL, else where the server
    is reached (``reached_at``), else the default local address."""
    config = config or get_config()
    base = store.settings().public_base_url or config.base_url or reached_at or DEFAULT_BASE_URL
    return base.strip().rstrip("/")


# -- composing -------------------------------------------------------------------------------------------
def mail_language(store, users: list[User]) -> str:
    """The language an e-mail to ``users`` is written in: the one they all read customercard in (their choice,
    else the firm's language), else the firm's language."""
    firm = store.settings().language
    languages = {user.language or firm for user in users}
    return languages.pop() if len(languages) == 1 else firm


def _key_data(store, customer: Customer) -> list[tuple[str, str]]:
    """The customer's key data for the mail, labelled in the language it is written in."""
    address = customer.visit_address
    # each part of the address kept to itself: a right-to-left override typed in one cannot turn round the rest
    parts = (address.line1, address.line2, " ".join(p for p in (address.postal_code, address.city) if p),
             formatting.country(address.country))
    visiting = "" if address.is_empty() else ", ".join(str(isolated(p)) for p in parts if p and p.strip())
    return [
        (_("Customer"), customer.name),
        (_("Customer number"), "" if customer.number is None else str(customer.number)),
        (_("Visiting address"), visiting),
        (_("Phone"), str(isolated(customer.phone))),
        (_("Account manager"), store.user_name(customer.account_manager)),
        (_("Status"), customer.status or ""),
    ]


def _recipient_users(store, recipients: list[str] | tuple[str, ...] | None) -> tuple[list[User], str]:
    """The users mail goes to, and the problem with the list ('' when there is none)."""
    logins = list(dict.fromkeys(str(r).strip() for r in (recipients or []) if str(r).strip()))
    if not logins:
        return [], _("Choose at least one colleague to send it to.")
    users: list[User] = []
    problems: list[str] = []
    for login in logins:
        try:
            user = store.get_user(login)
        except NotFound:
            problems.append(_("{login} is not a user.").format(login=quote(login)))
            continue
        if not user.active:
            problems.append(_("{name} is deactivated and gets no mail from here.").format(name=user.name or login))
        elif not user.email:
            problems.append(_("{name} has no e-mail address (System administration → Users).").format(
                name=user.name or login))
        else:
            users.append(user)
    return users, " ".join(problems)


def _clean_subject(subject: str | None) -> str:
    return " ".join((subject or "").split())  # one line: a header cannot hold line breaks


def header_text(text: str | None) -> str:
    """What people typed, for a header (a subject, a display name): one line, and no encoded word in it
    ('=?utf-8?q?…=0D=0A…?='): the e-mail library decodes one it is given and wrote its line breaks out raw — headers
    of the typist's own (CVE-2024-6923, before Python 3.11.10). A zero-width space keeps the '=' and the '?' apart:
    it reads as typed."""
    return " ".join((text or "").split()).replace("=?", "=\u200b?")


def check_headers(message: EmailMessage) -> None:
    """The message's header block, as it will be sent, holds exactly the headers set on it (none more, none lost):
    the last guard against a header that a value broke into several."""
    for policy in (message.policy.clone(linesep="\r\n"), message.policy.clone(linesep="\r\n", utf8=True)):
        head = message.as_bytes(policy=policy).split(b"\r\n\r\n", 1)[0]
        names = [line.split(b":", 1)[0].strip().lower() for line in head.split(b"\r\n")
                 if line and line[:1] not in (b" ", b"\t")]
        if sorted(names) != sorted(name.lower().encode() for name in message):
            raise MailError(_("The e-mail could not be put together safely (a subject or a name would have broken "
                              "its headers): nothing was sent."))


def _sender(store, sender_login: str, smtp: SmtpSettings) -> tuple[str, str, str]:
    """(the sender's display name, the From address, the sender's own address for Reply-To or '')."""
    try:
        user: User | None = store.get_user(sender_login)
    except NotFound:
        user = None
    name = user.name if user is not None and user.name else sender_login
    own = user.email if user is not None else ""
    address = smtp.sender or own
    if not address:
        raise MailError(_("There is no sender address: an administrator sets one in System administration → "
                          "Customers (Sender address), or gives your user an e-mail address."))
    return name, address, own


def _text_body(sender_name: str, message: str, key: list[tuple[str, str]], link: str) -> str:
    width = max(len(label) for label, _value in key) + 2
    lines = [f"{(label + ':').ljust(width)}{value or '—'}" for label, value in key]
    sent = _("{name} sent this from the customer card.").format(name=sender_name)
    return (f"{message}\n\n{'-' * 40}\n{sent}\n\n" + "\n".join(lines)
            + "\n\n" + _("Open the customer card: {link}").format(link=link) + "\n")


def _html_body(sender_name: str, subject: str, message: str, key: list[tuple[str, str]], link: str) -> str:
    e = html.escape
    rows = "".join(
        f'<tr><th style="text-align:left;padding:2px 14px 2px 0;color:#5b6b7d;font-weight:normal">{e(label)}</th>'
        f'<td style="padding:2px 0">{e(value) if value else "—"}</td></tr>' for label, value in key)
    return (
        f"<!DOCTYPE html><html lang=\"{current_language()}\"><head><meta charset=\"utf-8\">"
        f"<title>{e(subject)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1d2733">'
        f'<div style="white-space:pre-wrap">{e(message)}</div>'
        '<hr style="border:0;border-top:1px solid #dfe5ec;margin:18px 0 10px">'
        f'<p style="color:#5b6b7d;margin:0 0 8px">'
        f'{e(_("{name} sent this from the customer card.").format(name=sender_name))}</p>'
        f'<table style="border-collapse:collapse">{rows}</table>'
        f'<p><a href="{e(link, quote=True)}">{e(_("Open the customer card"))}</a></p>'
        "</body></html>")


@dataclass
class _Composed:
    message: EmailMessage
    envelope_from: str
    recipients: list[User]
    subject: str
    text: str


def _compose(  # noqa: PLR0913, PLR0917 - the parts of one mail, as compose and send_customer_mail pass them
        store, customer_id: int, sender_login: str, recipients, subject, message, smtp: SmtpSettings,
        config: Config | None, reached_at: str | None = None) -> _Composed:
    customer = store.get_customer(customer_id)
    users, recipient_problem = _recipient_users(store, recipients)
    draft = MailDraft(subject=_clean_subject(subject), message=message or "")
    errors = draft.validate()
    if recipient_problem:
        errors = {"recipients": recipient_problem, **errors}
    if errors:
        raise ValidationError(errors, what=_("The e-mail"))
    subject, message = draft.subject, draft.message

    sender_name, from_address, own_address = _sender(store, sender_login, smtp)
    link = card_url(store, customer.id, config, reached_at)
    language = mail_language(store, users)
    with using_language(language):
        key = _key_data(store, customer)
        text_body = _text_body(sender_name, message, key, link)
        html_body = _html_body(sender_name, subject, message, key, link)

    mail = EmailMessage()
    mail["Subject"] = header_text(subject)
    mail["From"] = MailAddress(display_name=header_text(sender_name), addr_spec=from_address)
    mail["To"] = [MailAddress(display_name=header_text(u.name), addr_spec=u.email) for u in users]
    if own_address:
        mail["Reply-To"] = MailAddress(display_name=header_text(sender_name), addr_spec=own_address)
    mail["Date"] = formatdate(localtime=True)
    mail["Message-ID"] = make_msgid(domain=from_address.rsplit("@", 1)[-1])
    mail["X-Customercard-Customer"] = str(customer.id)
    # quoted-printable keeps the message 7-bit, so any server takes it without 8BITMIME
    mail.set_content(text_body, cte="quoted-printable")
    mail.add_alternative(html_body, subtype="html", cte="quoted-printable")
    mail["Content-Language"] = language  # after the content: setting it clears the Content-* headers
    return _Composed(mail, from_address, users, subject, message)


def compose(store, customer_id: int, sender_login: str, recipients: list[str], subject: str,
            message: str, config: Config | None = None) -> EmailMessage:
    """The e-mail about a customer from ``sender_login`` to colleagues (logins), ready to send.

    To: the recipients' addresses (active users with an address only); From: the sender setting, else the
    sender's own address; Reply-To: the sender. A text and an HTML part (every value escaped), both with the
    message, the customer's key data and a direct link to the card. Raises :class:`ValidationError` naming
    ``recipients``, ``subject`` or ``message``; :class:`NotFound` for an unknown customer.
    """
    config = config or get_config()
    return _compose(store, customer_id, sender_login, recipients, subject, message,
                    smtp_settings(store, config), config).message


# -- sending ---------------------------------------------------------------------------------------------
def _reply_text(code: int | None, reply: bytes | str | None) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else (reply or "")
    text = " ".join(text.split())
    return f"{code} {text}".strip() if code else text


def _needs_utf8(*addresses: str) -> bool:
    return not all(a.isascii() for a in addresses)


def _talk(client: smtplib.SMTP, composed: _Composed, smtp: SmtpSettings) -> None:
    """The SMTP conversation up to the server's acceptance of the message (or a MailError saying why not)."""
    where = smtp.where
    client.ehlo()
    if smtp.security == "starttls":
        if not client.has_extn("starttls"):
            raise MailError(_("The mail server at {where} does not offer STARTTLS: ask an administrator to check "
                              "the SMTP security setting.").format(where=where))
        client.starttls(context=ssl.create_default_context())
        client.ehlo()
    if smtp.user:
        client.login(smtp.user, smtp.password)
    options: list[str] = []
    policy = composed.message.policy.clone(linesep="\r\n")
    if _needs_utf8(composed.envelope_from, *(u.email for u in composed.recipients)):
        if not client.has_extn("smtputf8"):
            raise MailError(_("The mail server at {where} cannot take addresses with non-ASCII characters (no "
                              "SMTPUTF8).").format(where=where))
        options = ["SMTPUTF8", "BODY=8BITMIME"]
        policy = policy.clone(utf8=True)
    code, reply = client.mail(composed.envelope_from, options)
    if code != SMTP_OK:
        raise MailError(_("The mail server at {where} refused the sender address {address} ({reply}). Nothing "
                          "was sent.").format(where=where, address=composed.envelope_from,
                                              reply=_reply_text(code, reply)))
    refused = []
    for user in composed.recipients:
        code, reply = client.rcpt(user.email)
        if code not in (SMTP_OK, SMTP_WILL_FORWARD):
            refused.append(f"{user.name or user.login} <{user.email}> ({_reply_text(code, reply)})")
    if refused:
        raise MailError(_("The mail server at {where} refused {recipients}. Nothing was sent.").format(
            where=where, recipients=", ".join(refused)))
    code, reply = client.data(composed.message.as_bytes(policy=policy))
    if code != SMTP_OK:
        raise MailError(_("The mail server at {where} did not accept the message ({reply}). Nothing was sent.").format(
            where=where, reply=_reply_text(code, reply)))


def _deliver(composed: _Composed, smtp: SmtpSettings) -> None:  # noqa: PLR0912 - one message per way SMTP fails
    """Hand the message to the SMTP server: to every recipient or to none (one refused cancels the mail)."""
    check_headers(composed.message)
    where = smtp.where
    client: smtplib.SMTP | None = None
    try:
        if smtp.security == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        _talk(client, composed, smtp)
    except MailError:
        raise
    except smtplib.SMTPAuthenticationError as exc:
        raise MailError(_("The mail server at {where} refused the login “{user}” ({reply}): check the SMTP "
                          "login and CUSTOMERCARD_SMTP_PASSWORD.").format(
            where=where, user=smtp.user, reply=_reply_text(exc.smtp_code, exc.smtp_error))) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise MailError(_("The mail server at {where} does not support what was asked of it ({exc}).").format(
            where=where, exc=exc)) from exc
    except smtplib.SMTPServerDisconnected as exc:
        if isinstance(exc.__context__, TimeoutError):  # smtplib reports a read timeout as a disconnection
            raise MailError(_("The mail server at {where} stopped answering (no reply within {timeout} seconds). "
                              "Nothing was sent.").format(
                where=where, timeout=formatting.figure(smtp.timeout))) from exc
        raise MailError(_("The mail server at {where} closed the connection unexpectedly. Nothing was sent.").format(
            where=where)) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailError(_("The mail server at {where} answered with an error ({reply}). Nothing was sent.").format(
            where=where, reply=_reply_text(exc.smtp_code, exc.smtp_error))) from exc
    except smtplib.SMTPException as exc:
        raise MailError(_("Talking to the mail server at {where} failed ({exc}). Nothing was sent.").format(
            where=where, exc=exc)) from exc
    except ConnectionRefusedError as exc:
        raise MailError(_("The mail server at {where} did not answer (connection refused).").format(
            where=where)) from exc
    except TimeoutError as exc:  # socket.timeout is TimeoutError
        raise MailError(_("The mail server at {where} did not answer within {timeout} seconds.").format(
            where=where, timeout=formatting.figure(smtp.timeout))) from exc
    except socket.gaierror as exc:
        raise MailError(_("The mail server “{host}” was not found: check the SMTP host.").format(
            host=smtp.host)) from exc
    except ssl.SSLError as exc:
        raise MailError(_("A secure connection to the mail server at {where} failed ({reason}): check the SMTP "
                          "security setting.").format(where=where, reason=exc.reason or exc)) from exc
    except OSError as exc:
        raise MailError(_("The mail server at {where} could not be reached ({reason}).").format(
            where=where, reason=exc.strerror or exc)) from exc
    finally:
        if client is not None:
            _hang_up(client)


def _hang_up(client: smtplib.SMTP) -> None:
    """Say goodbye; what the server answers now no longer matters (the message was accepted or refused)."""
    try:
        if client.sock is not None:
            client.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        client.close()


def send_customer_mail(store, customer_id: int, recipients: list[str], subject: str, message: str,
                       user: str | None = None, config: Config | None = None, reached_at: str | None = None
                       ) -> Comment:
    """Send an e-mail about a customer to colleagues (logins), then keep it as an e-mail comment on the card.

    Only users who may write may send (else :class:`PermissionDenied`). The comment (kind ``email``, the
    recipients' logins, body ``"Subject: …"`` and the message) is saved only after the server accepted the
    mail. Raises :class:`ValidationError` for bad input and :class:`MailError` (saying why) when no server is
    configured or sending fails; nothing is saved then.
    """
    login = user or acting_user()
    if not store.can(login, "write"):
        raise PermissionDenied(_("“{login}” may not send e-mails from a customer card: only managers and "
                                 "administrators may.").format(login=login))
    config = config or get_config()
    smtp = smtp_settings(store, config)
    if not smtp.host:
        raise MailError(_("No mail server is configured: an administrator sets the SMTP host in System "
                          "administration → Customers (or CUSTOMERCARD_SMTP_HOST)."))
    customer = store.get_customer(customer_id)
    if customer.merged_into:  # its comment would be refused after the mail went: neither is done
        survivor = store.get_customer(int(customer.merged_into))
        raise PermissionDenied(_("{name} was merged into {survivor}: nothing was sent. Send it from there.").format(
            name=customer.name, survivor=_("customer {number} ({name})").format(number=survivor.number,
                                                                                 name=survivor.name)))
    composed = _compose(store, customer_id, login, recipients, subject, message, smtp, config, reached_at)
    _deliver(composed, smtp)
    subject_line = _("Subject: {subject}").format(subject=composed.subject)
    return store.add_comment(customer_id, f"{subject_line}\n\n{composed.text}", user=login,
                             kind="email", recipients=[u.login for u in composed.recipients])


__all__ = ["MailError", "SmtpSettings", "card_url", "check_headers", "compose", "mail_configured", "send_customer_mail",
           "smtp_settings"]
