"""customercard — a customer card and light CRM for professional-services firms.

The public API (pinned by ``tests/test_public_api.py``)::

    import customercard as cc
    store = cc.open_store()                      # the file, or the running local server that holds it
    store = cc.connect("http://host:5006", token=...)   # any server, with an API token
    card = cc.CustomerCard(store=store, customer_id=42)   # Panel view, imported on first use
"""

from __future__ import annotations

from typing import Any

import pandas as _pd

from .config import Config, get_config
from .errors import (
    ConflictError,
    CustomerCardError,
    FieldConflict,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationError,
    WriteConflict,
)
from .identity import acting_user
from .models import (
    Address,
    BulkChange,
    Choices,
    Comment,
    Contact,
    Criterion,
    Customer,
    CustomerQuery,
    Event,
    FollowUp,
    Invoice,
    InvoiceDefaults,
    Opportunity,
    Project,
    Relation,
    SavedView,
    Settings,
    User,
)
from .store import RemoteStore, Store, connect, open_store

# Texts in frames are Python strings, with or without pyarrow installed: pyarrow's strings cannot hold what an older
# database may still contain (a lone surrogate, which the copy to PostgreSQL cleans out), and their regular expressions
# (RE2) read classes such as \d differently from Python's, which the search index's texts are made with.
_pd.set_option("mode.string_storage", "python")

__version__ = "0.1.0"

# Views import Panel, which takes a second: load them only when asked for.
_LAZY_VIEWS = {
    "CustomerCard": "customercard.ui.card",
    "ContactCard": "customercard.ui.contact",
    "CustomerList": "customercard.ui.customer_list",
    "invoiced_chart": "customercard.ui.sections.invoiced",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY_VIEWS:
        import importlib

        return getattr(importlib.import_module(_LAZY_VIEWS[name]), name)
    raise AttributeError(f"module 'customercard' has no attribute {name!r}")


__all__ = [
    "Address",
    "BulkChange",
    "Choices",
    "Comment",
    "Config",
    "ConflictError",
    "Contact",
    "ContactCard",
    "Criterion",
    "Customer",
    "CustomerCard",
    "CustomerCardError",
    "CustomerList",
    "CustomerQuery",
    "Event",
    "FieldConflict",
    "FollowUp",
    "Invoice",
    "InvoiceDefaults",
    "NotFound",
    "Opportunity",
    "PermissionDenied",
    "Project",
    "Relation",
    "RemoteStore",
    "SavedView",
    "Settings",
    "Store",
    "TooManyAttempts",
    "User",
    "ValidationError",
    "WriteConflict",
    "__version__",
    "acting_user",
    "connect",
    "get_config",
    "invoiced_chart",
    "open_store",
]
