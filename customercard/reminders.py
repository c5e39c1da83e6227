"""The daily reminder e-mail: each owner of open follow-ups due today or overdue gets one list of them a day, in
their own language, through the firm's SMTP server (:mod:`customercard.mail`).

The server sends it with its own scheduler (:class:`ReminderScheduler`, started by
:class:`~customercard.server.CardServer` beside the outbox worker). The day a person's e-mail went out is recorded
in the database before it is sent (:meth:`~customercard.store.Store.claim_follow_up_mail`), so a second round, a
restart or a second server process sends nothing more that day; a failed send gives the day back to try again.
Nobody who turned the e-mail off on their profile gets it.

    sent = send_follow_up_reminders(store)          # the logins mailed now
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from collections.abc import Callable
from email.headerregistry import Address as MailAddress
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pandas as pd

from . import formatting
from .background import Rounds
from .config import Config, get_config
from .i18n import _, current_language, ngettext, using_language
from .mail import MailError, SmtpSettings, _Composed, _deliver, header_text, links_base, smtp_settings
from .models import User

log = logging.getLogger(__name__)

#: How often the scheduler looks whether someone's e-mail is due (seconds).
CHECK_EVERY = 300.0


def _lines(rows: pd.DataFrame, base: str) -> list[tuple[str, str, str, str]]:
    """(due day, customer, what, link) for each follow-up, in the reader's formats."""
    found = []
    for row in rows.itertuples():
        customer = row.customer_name if pd.isna(row.customer_number) else f"{row.customer_name} ({row.customer_number})"
        found.append((formatting.date(row.due_on), customer, row.what,
                      f"{base}/card?customer={int(row.customer_id)}"))
    return found


def compose_reminder(store, user: User, rows: pd.DataFrame, day: dt.date, smtp: SmtpSettings,
                     config: Config | None = None, reached_at: str | None = None) -> _Composed:
    """The e-mail telling ``user`` of their open follow-ups due by ``day`` (``rows`` as
    :meth:`~customercard.store.Store.follow_ups` gives them), in the user's language; its links to ``reached_at``
    (the server's address) when no public address is set."""
    config = config or get_config()
    base = links_base(store, config, reached_at)
    language = user.language or store.settings().language
    overdue = rows[rows["due_on"] < day]
    due = rows[rows["due_on"] >= day]
    with using_language(language):
        subject = ngettext("{n} follow-up due", "{n} follow-ups due", len(rows)).format(n=len(rows))
        if len(overdue):
            subject += " · " + ngettext("{n} overdue", "{n} overdue", len(overdue)).format(n=len(overdue))
        parts = [(_("Overdue"), _lines(overdue, base)), (_("Due today"), _lines(due, base))]
        greeting = _("Hello {name}, these follow-ups of yours are due:").format(name=user.name or user.login)
        home = _("Your home page: {link}").format(link=f"{base}/")
        off = _("You get this e-mail on days when you have follow-ups due; you can turn it off on your profile.")
        text = _text(greeting, parts, home, off, base)
        markup = _html(subject, greeting, parts, base, off)
        lang = current_language()
    if not smtp.sender:
        raise MailError(_("There is no sender address: an administrator sets one in System administration → "
                          "Customers (Sender address)."))
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = MailAddress(display_name="customercard", addr_spec=smtp.sender)
    message["To"] = [MailAddress(display_name=header_text(user.name), addr_spec=user.email)]
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=smtp.sender.rsplit("@", 1)[-1])
    message["X-Customercard-Reminder"] = day.isoformat()
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(markup, subtype="html", cte="quoted-printable")
    message["Content-Language"] = lang
    return _Composed(message, smtp.sender, [user], subject, text)


def _text(greeting: str, parts, home: str, off: str, base: str) -> str:
    out = [greeting, ""]
    for title, lines in parts:
        if lines:
            out.append(title)
            out += [f"  {day}  {customer}: {what}\n      {link}" for day, customer, what, link in lines]
            out.append("")
    return "\n".join([*out, home, "", off, f"{base}/profile", ""])


def _html(subject: str, greeting: str, parts, base: str, off: str) -> str:
    e = html.escape
    body = [f"<p>{e(greeting)}</p>"]
    for title, lines in parts:
        if lines:
            items = "".join(f'<li>{e(day)} · <a href="{e(link, quote=True)}">{e(customer)}</a>: {e(what)}</li>'
                            for day, customer, what, link in lines)
            body.append(f"<h2 style=\"font-size:15px\">{e(title)}</h2><ul>{items}</ul>")
    body.append(f'<p><a href="{e(base + "/", quote=True)}">{e(_("Open your home page"))}</a></p>')
    body.append(f'<p style="color:#5b6b7d">{e(off)} '
                f'<a href="{e(base + "/profile", quote=True)}">{e(_("My profile"))}</a></p>')
    return (f'<!DOCTYPE html><html lang="{current_language()}"><head><meta charset="utf-8"><title>{e(subject)}'
            '</title></head><body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;color:#1d2733">'
            + "".join(body) + "</body></html>")


def send_follow_up_reminders(store, day: dt.date | None = None, config: Config | None = None,
                             reached_at: Callable[[str], str | None] | None = None) -> list[str]:
    """Send today's reminder to each owner who has open follow-ups due by ``day`` (the firm's today), wants it and
    has not had it that day; returns the logins mailed. Nothing is sent without a configured mail server.
    ``reached_at(login)``: where that user reaches the server (their e-mail's links, when no public address is
    set)."""
    config = config or get_config()
    smtp = smtp_settings(store, config)
    if not smtp.host:
        return []
    day = day or store.firm_today()
    sent = []
    for login in store.follow_up_mail_recipients(day):
        if not store.claim_follow_up_mail(login, day):
            continue  # another round or process took it
        try:
            rows = store.follow_ups(owner=login, open_only=True, due_by=day)
            if rows.empty:
                store.release_follow_up_mail(login, day)
                continue
            address = reached_at(login) if reached_at is not None else None
            _deliver(compose_reminder(store, store.get_user(login), rows, day, smtp, config, address), smtp)
        except MailError as exc:  # the mail server or its settings (said in one line: no traceback every round)
            log.warning("The follow-up reminder to %s could not be sent: %s", login, exc)
            store.release_follow_up_mail(login, day)
            continue
        except Exception:  # the next round tries again; the others still get theirs
            log.exception("The follow-up reminder to %s could not be sent", login)
            store.release_follow_up_mail(login, day)
            continue
        sent.append(login)
    return sent


class ReminderScheduler(Rounds):
    """A background thread of the server: every ``interval`` seconds, from ``send_from`` o'clock of the firm's day,
    it sends the day's follow-up reminders that are still due (see :func:`send_follow_up_reminders`)."""

    thread_name = "customercard-reminders"
    failure = "Sending the follow-up reminders failed"  # the database was busy or gone: the next round tries again

    def __init__(self, store, interval: float = CHECK_EVERY, send_from: int | None = None,
                 config: Config | None = None, reached_at: Callable[[str], str | None] | None = None) -> None:
        """``reached_at(login)``: where that user reaches the server (their e-mail's links when no public address
        is set)."""
        self.store = store
        self.send_from = send_from
        self.config = config
        self.reached_at = reached_at
        super().__init__(interval)

    def run_once(self) -> list[str]:
        """One round: the reminders due now (none before the hour they go out from: ``send_from`` if given, else
        the firm's setting ``reminder_hour``)."""
        settings = self.store.settings()
        hour = settings.reminder_hour if self.send_from is None else self.send_from
        if dt.datetime.now(formatting.time_zone(settings.time_zone)).hour < hour:
            return []
        return send_follow_up_reminders(self.store, config=self.config, reached_at=self.reached_at)


__all__ = ["ReminderScheduler", "compose_reminder", "send_follow_up_reminders"]
