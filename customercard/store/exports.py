"""Queries behind the exports of customers and contact persons (filled in by the import/export work)."""

from __future__ import annotations

from typing import Any


class ExportStore:
    """Mixin of :class:`customercard.store.Store`: whole tables as people export them."""

    db: Any
