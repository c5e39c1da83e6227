"""Section 4 — economy: re-invoicing of expenses and mileage, the invoice template, standard invoice settings."""

from __future__ import annotations

from ... import formatting
from ...fields import section_fields
from ...i18n import N_, _
from ..html import esc, fields
from .base import Section


def yes_no(value: bool) -> str:
    return esc(_("Yes") if value else _("No"))


class EconomySection(Section):
    key = "economy"
    title = N_("Economy")
    collapsed_by_default = True
    edit_fields = section_fields("economy")

    def markup(self) -> str:
        c = self.context.customer
        inv = c.invoicing
        km = _("{n} km")
        limit = km.format(n=formatting.typed(c.max_distance_km)) \
            if c.max_distance_km is not None else _("No limit")
        vat = (_("Yes, {rate}").format(rate=formatting.percent(inv.vat_rate, None))
               if inv.calculate_vat else _("No"))
        reinvoicing = fields([
            (_("Expenses billable by default"), yes_no(c.expenses_billable)),
            (_("Mileage billable by default"), yes_no(c.mileage_billable)),
            (_("Default distance"), esc(km.format(n=formatting.typed(c.default_distance_km)))),
            (_("Maximum billable distance per trip"), esc(limit)),
        ])
        template = fields([(_("Default invoice template"), esc(inv.invoice_template))])
        standard = fields([
            (_("Payment term"), esc(inv.payment_term)), (_("Currency"), esc(inv.currency)),
            (_("Calculate VAT"), esc(vat)),
            (_("Discount"), esc(formatting.percent(inv.discount_pct, None))),
            (_("Invoice language"), esc(inv.invoice_language)), (_("Our reference"), esc(inv.our_reference)),
            (_("Their reference"), esc(inv.their_reference)),
        ])
        return (f"<div class=\"cc-economy\"><h3>{esc(_('Re-invoicing of external expenses'))}</h3>{reinvoicing}"
                f"<h3>{esc(_('Invoicing with invoice templates'))}</h3>{template}"
                f"<h3>{esc(_('Standard invoice settings'))}</h3>{standard}</div>")

    def form_labels(self) -> dict[str, str]:
        return {"max_distance_km": _("Maximum billable distance per trip (km, empty: no limit)")}
