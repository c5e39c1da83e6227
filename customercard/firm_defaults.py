"""The admin lists and settings a new firm starts with (administrators change them in /admin)."""

from __future__ import annotations

from .models import Criterion, Settings
from .store import SYSTEM_PREFIX, Store

DEFAULT_LISTS: dict[str, list[str | tuple[str, str]]] = {
    "industries": ["Accounting & audit", "Architecture & engineering", "Construction", "Consulting",
                   "Education", "Energy & utilities", "Finance & insurance", "Healthcare", "Hospitality",
                   "IT & software", "Legal services", "Manufacturing", "Media & marketing", "Non-profit",
                   "Public sector", "Real estate", "Retail", "Transport & logistics"],
    "statuses": ["Prospect", "Active", "On hold", "Former customer"],
    "payment_terms": ["10 days net", "15 days net", "20 days net", "30 days net", "45 days net", "60 days net"],
    "invoice_templates": ["Standard", "Standard with time report", "Fixed price", "Retainer",
                          "Standard (English)"],
    "invoice_languages": ["Swedish", "English", "Danish", "Norwegian", "Finnish", "German"],
    "currencies": ["SEK", "EUR", "DKK", "NOK", "USD", "GBP"],
    "relation_types": [("Parent company of", "Subsidiary of"), ("Partner of", "Partner of"),
                       ("Competitor of", "Competitor of"), ("Supplier to", "Customer of"),
                       ("Referred", "Referred by"), ("Board member at", "Has board member"),
                       ("Other relation to", "Other relation to")],
    "event_types": ["Meeting", "Phone call", "Video call", "Lunch", "Workshop", "Seminar", "Site visit"],
    "opportunity_stages": ["Lead", "Qualified", "Proposal", "Negotiation", "Verbal yes"],
}

DEFAULT_CRITERIA = [
    Criterion(name="Size", multiple=False, values=["Micro", "Small", "Medium", "Large", "Enterprise"]),
    Criterion(name="Services", multiple=True,
              values=["Audit", "Tax", "Advisory", "Payroll", "IT", "Legal", "Training"]),
    Criterion(name="Source", multiple=False, values=["Referral", "Website", "Event", "Partner", "Cold call"]),
]

ACTOR = SYSTEM_PREFIX + "setup"


def install_defaults(store: Store, settings: Settings | None = None) -> None:
    """Fill the admin lists, criteria and settings of an empty database (values already there are kept)."""
    with store.db.transaction() as cur:
        if store.db.dialect == "postgresql":  # two server processes starting at once: one after the other
            cur.execute("SELECT pg_advisory_xact_lock(7242010)")
        _install(store, settings)
    store.forget_cached()


def _install(store: Store, settings: Settings | None) -> None:
    for list_name, values in DEFAULT_LISTS.items():
        present = set(store.list_values(list_name)["label"])
        for value in values:
            label, inverse = (value, "") if isinstance(value, str) else value
            if label not in present:
                store.add_list_value(list_name, label, user=ACTOR, inverse_label=inverse)
    existing = {c.name for c in store.criteria(include_inactive=True)}
    for criterion in DEFAULT_CRITERIA:
        if criterion.name not in existing:
            store.save_criterion(criterion.copy(), user=ACTOR)
    if settings is not None:
        store.save_settings(settings, user=ACTOR)
