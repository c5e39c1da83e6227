"""The admin lists and settings a new firm starts with (administrators change them in /admin)."""

from __future__ import annotations

from .i18n import N_, _, using_language
from .models import Criterion, Settings
from .store import SYSTEM_PREFIX, Store

DEFAULT_LISTS: dict[str, list[str | tuple[str, str]]] = {  # (N_: said in the firm's language as it is set up)
    "industries": [N_("Accounting & audit"), N_("Architecture & engineering"), N_("Construction"), N_("Consulting"),
                   N_("Education"), N_("Energy & utilities"), N_("Finance & insurance"), N_("Healthcare"),
                   N_("Hospitality"), N_("IT & software"), N_("Legal services"), N_("Manufacturing"),
                   N_("Media & marketing"), N_("Non-profit"), N_("Public sector"), N_("Real estate"), N_("Retail"),
                   N_("Transport & logistics")],
    "statuses": [N_("Prospect"), N_("Active"), N_("On hold"), N_("Former customer")],
    "payment_terms": [N_("10 days net"), N_("15 days net"), N_("20 days net"), N_("30 days net"), N_("45 days net"),
                      N_("60 days net")],
    "invoice_templates": [N_("Standard"), N_("Standard with time report"), N_("Fixed price"), N_("Retainer"),
                          N_("Standard (English)")],
    "invoice_languages": [N_("Swedish"), N_("English"), N_("Danish"), N_("Norwegian"), N_("Finnish"), N_("German")],
    "currencies": ["SEK", "EUR", "DKK", "NOK", "USD", "GBP"],
    "relation_types": [(N_("Parent company of"), N_("Subsidiary of")), (N_("Partner of"), N_("Partner of")),
                       (N_("Competitor of"), N_("Competitor of")), (N_("Supplier to"), N_("Customer of")),
                       (N_("Referred"), N_("Referred by")), (N_("Board member at"), N_("Has board member")),
                       (N_("Other relation to"), N_("Other relation to"))],
    "event_types": [N_("Meeting"), N_("Phone call"), N_("Video call"), N_("Lunch"), N_("Workshop"), N_("Seminar"),
                    N_("Site visit")],
    "opportunity_stages": [N_("Lead"), N_("Qualified"), N_("Proposal"), N_("Negotiation"), N_("Verbal yes")],
}

DEFAULT_CRITERIA = [
    Criterion(name=N_("Size"), multiple=False,
              values=[N_("Micro"), N_("Small"), N_("Medium"), N_("Large"), N_("Enterprise")]),
    Criterion(name=N_("Services"), multiple=True,
              values=[N_("Audit"), N_("Tax"), N_("Advisory"), N_("Payroll"), N_("IT"), N_("Legal"), N_("Training")]),
    Criterion(name=N_("Source"), multiple=False,
              values=[N_("Referral"), N_("Website"), N_("Event"), N_("Partner"), N_("Cold call")]),
]

ACTOR = SYSTEM_PREFIX + "setup"


def install_defaults(store: Store, settings: Settings | None = None, language: str | None = None) -> None:
    """Fill the admin lists, criteria and settings of an empty database (values already there are kept), the lists'
    values in ``language`` (by default the one the command runs in: ``CUSTOMERCARD_LANGUAGE``): a Swedish firm's
    pipeline starts with "Ny affär", not "Lead"."""
    with store.db.transaction() as cur:
        if store.db.dialect == "postgresql":  # two server processes starting at once: one after the other
            cur.execute("SELECT pg_advisory_xact_lock(7242010)")
        with using_language(language):
            _install(store, settings)
    store.forget_cached()


def _install(store: Store, settings: Settings | None) -> None:
    for list_name, values in DEFAULT_LISTS.items():
        present = set(store.list_values(list_name)["label"])
        for value in values:
            label, inverse = (value, "") if isinstance(value, str) else value
            label, inverse = _(label) if list_name != "currencies" else label, _(inverse) if inverse else ""
            if label not in present:
                store.add_list_value(list_name, label, user=ACTOR, inverse_label=inverse)
    existing = {c.name for c in store.criteria(include_inactive=True)}
    for criterion in DEFAULT_CRITERIA:
        named = criterion.copy()
        named.param.update(name=_(criterion.name), values=[_(value) for value in criterion.values])
        if named.name not in existing:
            store.save_criterion(named, user=ACTOR)
    if settings is not None:
        store.save_settings(settings, user=ACTOR)
