"""The firm's switches as a write from an open page meets them: a module switched off since the page was drawn."""

from __future__ import annotations

from typing import Any

from ..errors import CustomerCardError
from ..i18n import _


def require_crm(store: Any) -> None:
    """Refuse a write of the CRM module (relations, events, opportunities) when an administrator has switched the
    module off since the page was drawn: pages drawn before keep their buttons and forms until reloaded, the
    setting as stored now decides (as the HTTP API's answer does)."""
    if not store.settings().crm_enabled:
        raise CustomerCardError(_("The CRM module has been switched off (System administration → Customers → "
                                  "Settings): nothing was saved."))
