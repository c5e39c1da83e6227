"""Sections 2 and 3 — contact details (with the route link) and the separate invoice address."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from babel import Locale

from ...i18n import _
from ...models import Address, Customer
from ..html import esc, fields, link, mailto, tel
from .base import Section

ADDRESS_FIELDS = ("line1", "line2", "postal_code", "city", "country")


def country_name(code: str, locale: str = "en") -> str:
    if not code:
        return ""
    try:
        return Locale.parse("en").territories.get(code.upper(), code)
    except ValueError:
        return code


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


class ContactSection(Section):
    key = "contact"
    title = _("Contact details")
    edit_fields = (*(f"visit_address.{f}" for f in ADDRESS_FIELDS), "phone", "email", "website",
                   "org_number", "vat_number", "gln")

    def markup(self) -> str:
        c = self.context.customer
        start = self.context.settings.start_address
        route = ""
        if start and not c.visit_address.is_empty():
            route = ('<p class="cc-route">' + link(route_url(start, c), _("Route from our office (Google Maps)"),
                                                   css="cc-route-link", new_tab=True) + "</p>")
        website = link(c.website, c.website.split("://", 1)[-1], new_tab=True) if c.website else ""
        pairs = [
            (_("Visiting address"), address_html(c.visit_address)),
            (_("Phone"), tel(c.phone)), (_("E-mail"), mailto(c.email)), (_("Website"), website),
            (_("Organisation number"), esc(c.org_number)), (_("VAT number"), esc(c.vat_number)),
            (_("GLN/EAN"), esc(c.gln)),
        ]
        return f'<div class="cc-contact-details">{fields(pairs)}{route}</div>'

    def form_labels(self) -> dict[str, str]:
        return {"visit_address.line1": _("Visiting address"), "visit_address.line2": _("Address line 2")}


class InvoiceAddressSection(Section):
    key = "invoice_address"
    title = _("Invoice address")
    edit_fields = ("use_invoice_address", *(f"invoice_address.{f}" for f in ADDRESS_FIELDS))
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
