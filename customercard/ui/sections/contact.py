"""Sections 2 and 3 — contact details (with the route link) and the separate invoice address."""

from __future__ import annotations

import asyncio
import logging
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

import panel as pn

from ... import formatting, mail
from ...errors import CustomerCardError, NeedsConfirmation, ValidationError
from ...fields import section_fields
from ...i18n import N_, _, ngettext
from ...models import Address, Customer, MailDraft
from ...validators import phone_digits
from ..accessibility import focus_first, live
from ..choices import multi_choice
from ..form import FieldNote, FormGrid, read_text, text_input
from ..html import esc, fields, link, mailto, tel
from ..shell import served_base_url
from .base import Section

log = logging.getLogger(__name__)


def country_name(code: str) -> str:
    """A country's name in the reader's language."""
    return formatting.country(code)


def address_html(address: Address) -> str:
    lines = [address.line1, address.line2, " ".join(p for p in (address.postal_code, address.city) if p),
             country_name(address.country)]
    return "<br>".join(esc(line) for line in lines if line)


def route_url(start_address: str, customer: Customer) -> str:
    """Google Maps directions from the firm's start address to the customer's visiting address."""
    address = customer.visit_address
    destination = ", ".join(p for p in (address.one_line(), country_name(address.country)) if p)
    return "https://www.google.com/maps/dir/?" + urlencode(
        {"api": "1", "origin": start_address, "destination": destination}, quote_via=quote)


def map_url(customer: Customer) -> str:
    """The customer's visiting address on Google Maps."""
    address = customer.visit_address
    where = ", ".join(p for p in (address.one_line(), country_name(address.country)) if p)
    return "https://www.google.com/maps/search/?" + urlencode({"api": "1", "query": where}, quote_via=quote)


class ContactSection(Section):
    """Contact details with the route link; writers can also send an e-mail about the customer to colleagues
    (offered when a mail server is configured), which is then kept as an e-mail comment on the card."""

    key = "contact"
    title = N_("Contact details")
    edit_fields = section_fields("contact")
    actions = ("send-email",)
    EMAIL_LABELS: ClassVar[dict[str, str]] = {"recipients": N_("To"), "subject": N_("Subject"),
                                              "message": N_("Message")}

    #: The customers a Save was told share a number it gives (field → their ids): Save again keeps the number.
    _same_number_told: dict[str, frozenset[int]] | None = None

    def _save_customer(self, customer: Customer) -> Customer:
        """Save — unless an organisation or VAT number given here is another customer's too and this Save is the
        first to meet it: then said at the field (the same customer twice?), and Save again keeps it (as the new
        customer's page warns before creating one)."""
        stored = self.context.stored_values()
        told = dict(self._same_number_told or {})
        errors: dict[str, str] = {}
        for field in ("org_number", "vat_number"):
            given = (customer.get(field) or "").strip()
            if not given or phone_digits(given) == phone_digits(stored.get(field) or ""):  # (written anew: the same)
                told.pop(field, None)
                continue
            others = self.context.store.possible_duplicates(**{field: given}, exclude_id=customer.id)
            ids = frozenset(int(i) for i in others["id"])
            if not ids or ids <= told.get(field, frozenset()):
                continue
            told[field] = ids
            named = [_("{name} ({number}, {city})").format(name=row.name, number=row.number, city=row.city)
                     if row.city else _("{name} ({number})").format(name=row.name, number=row.number)
                     for row in others.head(3).itertuples(index=False)]
            errors[field] = ngettext("{others} has this number too — the same customer twice? Save again to keep "
                                     "it anyway.", "{others} have this number too — the same customer twice? Save "
                                     "again to keep it anyway.", len(named)).format(others=", ".join(named))
        self._same_number_told = told
        if errors:  # said with whatever else this form's values hold that is wrong: one Save shows it all
            wrong = {f: text for f, text in customer.validate(self.context.store.choices(),
                                                              previous=self.context.customer).items()
                     if f in self.edit_fields}
            raise (ValidationError if wrong else NeedsConfirmation)({**wrong, **errors}, what=_("Customer"))
        return super()._save_customer(customer)

    def markup(self) -> str:
        c = self.context.customer
        website = link(c.website, c.website.split("://", 1)[-1], new_tab=True) if c.website else ""
        pairs = [
            (_("Visiting address"), address_html(c.visit_address)),
            (_("Phone"), tel(c.phone)), (_("E-mail"), mailto(c.email)), (_("Website"), website),
            (_("Organisation number"), esc(c.org_number)), (_("VAT number"), esc(c.vat_number)),
            (_("GLN/EAN"), esc(c.gln)),
        ]
        return (f'<div class="cc-contact-details" style="display:flex;flex-wrap:wrap;gap:4px 28px">'
                f'<div style="flex:1 1 420px">{fields(pairs)}</div>{self.map_links()}</div>')

    def map_links(self) -> str:
        """To the right of the address, as the seed has them: the route from the firm's start address (when it is
        set) and the address on the map, both in Google Maps."""
        c, start = self.context.customer, self.context.settings.start_address
        if c.visit_address.is_empty():
            return ""
        links = []
        if start:
            links.append(link(route_url(start, c), _("Route from our office (Google Maps)"), css="cc-route-link",
                              new_tab=True))
        links.append(link(map_url(c), _("Show on the map (Google Maps)"), css="cc-map-link", new_tab=True))
        items = "".join(f"<li>{item}</li>" for item in links)
        return (f'<nav class="cc-route" aria-label="{esc(_("Directions"))}" style="flex:0 1 260px">'
                f'<ul class="cc-list">{items}</ul></nav>')

    def form_labels(self) -> dict[str, str]:
        return {"visit_address.line1": _("Visiting address"), "visit_address.line2": _("Address line 2")}

    # -- "Send e-mail…": to colleagues about this customer, then kept as an e-mail comment -------------------
    def __init__(self, **params: Any) -> None:
        self._mail_form: dict[str, Any] | None = None
        super().__init__(**params)

    def _tools(self) -> list[dict[str, str]]:
        tools = super()._tools()
        if self.context.can_edit and mail.mail_configured(self.context.store):
            tools.append({"action": "send-email", "label": _("Send e-mail…")})
        return tools

    def start_edit(self) -> None:
        self._mail_form = None  # the Edit form takes the section's place
        self._same_number_told = None  # (a new form: a number another customer has is said again)
        super().start_edit()

    def refresh(self) -> None:
        if self._mail_form is None:  # a draft being written stays while other sections save
            super().refresh()

    def colleagues(self) -> dict[str, str]:
        """Active users, {display name: login}, for the recipient list (names made unique with the login)."""
        users = self.context.store.users()
        names = list(users["name"].fillna(""))
        options: dict[str, str] = {}
        for name, login in zip(names, users["login"], strict=True):
            label = name or login
            if names.count(name) > 1 or label in options:
                label = f"{label} ({login})"
            options[label] = login
        return options

    def do_send_email(self, _data: dict[str, Any] | None = None) -> None:
        """Show the e-mail form in the section (writers only)."""
        if self.editing:
            return
        if not self.context.can_edit:
            self.say(_("You may read this customer but not send e-mails from its card."), ok=False)
            return
        if not self._built or self.collapsed:
            self.open()
        self._note = ("", True)
        to = multi_choice(self.colleagues(), label=_("To"), placeholder=_("Choose colleagues…"),
                          sizing_mode="stretch_width", css_classes=["cc-email-to"])
        subject = text_input(MailDraft.param.subject, label=_("Subject"), sizing_mode="stretch_width",
                             css_classes=["cc-email-subject"])
        message = text_input(MailDraft.param.message, label=_("Message"), height=150, sizing_mode="stretch_width",
                             css_classes=["cc-email-message"])
        # (-confirm and -cancel: Escape leaves the form as Cancel does; Enter in a field does not send it)
        send = pn.widgets.Button(label=_("Send"), color="primary", width=90,
                                 css_classes=["cc-send-email", "cc-email-confirm"])
        cancel = pn.widgets.Button(label=_("Cancel"), width=90, css_classes=["cc-cancel-email", "cc-email-cancel"])
        text = pn.pane.HTML("", margin=(0, 10), sizing_mode="stretch_width", css_classes=["cc-email-message-text"])
        send.on_click(self._send_clicked)
        cancel.on_click(lambda _event: self.cancel_email())
        # each field's message under it (as every form of the card says them), the summary under Send
        grid = FormGrid(objects=[to, subject, message], columns=1, sizing_mode="stretch_width",
                        css_classes=["cc-email-fields"],
                        cells=[{"css": f"cc-field-{field}", "error": "", "notice": ""} for field in self.EMAIL_LABELS])
        notes = {field: FieldNote(grid, index, "error", "cc-error-text")
                 for index, field in enumerate(self.EMAIL_LABELS)}
        self._mail_form = {"to": to, "subject": subject, "message": message, "text": text, "send": send,
                           "notes": notes}
        intro = pn.pane.HTML(f"<b>{esc(_('E-mail to colleagues about {name}').format(name=self.context.customer.name))}"
                             f"</b><br><span class=\"cc-muted\">"
                             f"{esc(_('A link to this card and the key data go with it; it is saved as a comment.'))}"
                             "</span>", margin=(0, 10), sizing_mode="stretch_width")
        self.view.param.update(
            child=pn.Column(intro, grid, pn.Row(send, cancel, margin=0), text,
                            sizing_mode="stretch_width", margin=0, css_classes=focus_first(["cc-email-form"])),
            html="", tools=[], child_first=True)

    def send_email(self) -> bool:
        """Send what the form holds; on success close it and refresh the card, else say why and keep the draft."""
        draft = self._email_draft()
        return draft is not None and self._email_sent(draft, self._deliver_email(draft))

    async def _send_clicked(self, _event: Any) -> None:
        """Send on a worker thread: the mail server's answer (up to its timeout) does not hold up the server's
        other users, whose pages are answered from this thread."""
        draft = self._email_draft()
        if draft is not None:
            self._email_sent(draft, await asyncio.to_thread(self._deliver_email, draft))

    def _email_draft(self) -> dict[str, Any] | None:
        """What the form holds, read here (the page's thread), its Send button disabled until it is sent."""
        form = self._mail_form
        if form is None:
            return None
        form["send"].disabled = True
        return {"form": form, "to": list(form["to"].value or []),
                "subject": read_text(form["subject"].value, MailDraft.param.subject) or "",
                "message": read_text(form["message"].value, MailDraft.param.message) or "",
                "reached_at": served_base_url()}

    def _deliver_email(self, draft: dict[str, Any]) -> CustomerCardError | None:
        """Send the draft (any thread): None once sent, else the refusal."""
        try:
            mail.send_customer_mail(self.context.store, self.context.customer.id, draft["to"], draft["subject"],
                                    draft["message"], user=self.context.login, reached_at=draft["reached_at"])
        except CustomerCardError as exc:  # ValidationError, MailError (why sending failed), PermissionDenied …
            return exc
        except Exception:  # anything else: said as a failure, the form kept (its Send button usable again)
            log.exception("Sending a customer by e-mail failed")
            return CustomerCardError(_("The e-mail could not be sent (the server's log has the details)."))
        return None

    def _email_sent(self, draft: dict[str, Any], refusal: CustomerCardError | None) -> bool:
        """Say how sending went, on the form it was sent from (closed on success)."""
        form = draft["form"]
        form["send"].disabled = False
        if self._mail_form is not form:  # cancelled while it was sent
            return refusal is None
        with pn.io.hold():
            for field, note in form["notes"].items():
                note.say(refusal.errors.get(field, "") if isinstance(refusal, ValidationError) else "")
        if isinstance(refusal, ValidationError):
            self._email_problem(" ".join(f"{_(self.EMAIL_LABELS.get(field, field))}: {text}"
                                         for field, text in refusal.errors.items()))
            first = next((form[key] for field, key in (("recipients", "to"), ("subject", "subject"),
                                                        ("message", "message")) if refusal.errors.get(field)), None)
            if first is not None:  # the first field said wrong takes the focus
                first.css_classes = focus_first(first.css_classes)
            return False
        if refusal is not None:
            self._email_problem(str(refusal))
            return False
        names = ", ".join(self.context.store.user_name(login) for login in dict.fromkeys(draft["to"]))
        self._mail_form = None
        self._note = (_("Sent to {names}; saved as a comment.").format(names=names), True)
        self.render()  # (the Comments and Activity sections hear of the new e-mail comment from the store's changes)
        return True

    def _email_problem(self, text: str) -> None:
        assert self._mail_form is not None
        self._mail_form["text"].object = f'<span style="color:#b42318"{live(False)}>{esc(text)}</span>'

    def cancel_email(self) -> None:
        self._mail_form = None
        self._note = ("", True)
        self.render()


class InvoiceAddressSection(Section):
    key = "invoice_address"
    title = N_("Invoice address")
    edit_fields = section_fields("invoice_address")
    collapsed_by_default = True

    @classmethod
    def shown(cls, context) -> bool:
        return context.settings.invoice_address_enabled

    def markup(self) -> str:
        c = self.context.customer
        if c.use_invoice_address and not c.invoice_address.is_empty():
            return fields([(_("Invoice address"), address_html(c.invoice_address))])
        return f'<p class="cc-muted" id="cc-same-address">{esc(_("Same as visiting address"))}</p>'

    def form_labels(self) -> dict[str, str]:
        return {"use_invoice_address": _("Use a separate invoice address"),
                "invoice_address.line1": _("Invoice address")}
