"""The HTTP API under ``/api/v1``: customers and the records beside them, with the card's rules, personal tokens,
request budgets, problem details, and its OpenAPI 3.1 document generated from the model.

:func:`routes` gives the Tornado routes a :class:`~customercard.server.CardServer` serves beside its pages; the
older ``/api/customers/<id>`` (:mod:`customercard.api`) stays as it was.
"""

from __future__ import annotations

from typing import Any

from .base import API_PREFIX, ApiError, ApiHandler, Caller, Reply, Serving
from .limits import RequestBudget


def routes(server: Serving) -> list[tuple[str, type, dict[str, Any]]]:
    """Every ``/api/v1`` route of ``server``: (path pattern, handler, its arguments)."""
    from .resources import handlers

    return [(pattern, handler, {"server": server}) for pattern, handler in handlers()]


__all__ = ["API_PREFIX", "ApiError", "ApiHandler", "Caller", "Reply", "RequestBudget", "routes"]
