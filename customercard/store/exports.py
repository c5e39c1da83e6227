"""Queries behind the exports of customers and contact persons.

The frames have one column per model field (dotted names, e.g. ``visit_address.city``), list values as their
labels, and one ``segments.<criterion>`` column per segmentation criterion; :mod:`customercard.importexport`
gives them human headers and writes the files.
"""

from __future__ import annotations

import pandas as pd

from .backend import Backend
from .customers import LISTED_COLUMNS, PLAIN_COLUMNS
from .part import Part

SEGMENT_PREFIX = "segments."

# Assembled once, at import, from the constant column tuples of customers.py (never from input).
_LIST_JOINS = [(field, f"l{i}", column) for i, (field, (column, _list)) in enumerate(LISTED_COLUMNS.items())]
SELECT_EXPORT_CUSTOMERS = (
    "SELECT c.id, c.number, "  # constant column names only
    + ", ".join(f'c.{column} AS "{field}"' for field, column in PLAIN_COLUMNS.items()) + ", "
    + ", ".join(f'{alias}.label AS "{field}"' for field, alias, _column in _LIST_JOINS)
    + ", u.name AS account_manager_name, c.created_at, c.created_by FROM customers c "
    + " ".join(f"LEFT JOIN list_values {alias} ON {alias}.id = c.{column}" for _f, alias, column in _LIST_JOINS)
    + " LEFT JOIN users u ON u.login = c.account_manager WHERE c.merged_into IS NULL ORDER BY c.number"
)
SELECT_EXPORT_SEGMENTS = (
    "SELECT s.customer_id, k.name AS criterion, string_agg(v.label, ', ' ORDER BY v.position, v.id) AS chosen "
    "FROM customer_segments s JOIN criterion_values v ON v.id = s.value_id "
    "JOIN criteria k ON k.id = v.criterion_id GROUP BY s.customer_id, k.name"
)
SELECT_EXPORT_CRITERIA = "SELECT name, active FROM criteria ORDER BY position, id"
SELECT_EXPORT_CONTACTS = (
    "SELECT k.id, c.number AS customer_number, c.name AS customer_name, k.first_name, k.last_name, k.title, "
    "k.email, k.phone, k.mobile, k.active, k.notes, k.created_at, k.created_by "
    "FROM contacts k JOIN customers c ON c.id = k.customer_id "
    "ORDER BY lower(c.name), c.number, lower(k.last_name), lower(k.first_name), k.id"
)


class ExportStore(Part):
    """Part of :class:`customercard.store.Store`: whole tables as people export them."""

    db: Backend

    def export_customers_frame(self) -> pd.DataFrame:
        """Every customer (not those merged into another), by number.

        Columns: ``id``, ``number``, each field of :attr:`Customer.fields` by its dotted name (list values as
        labels), ``account_manager_name``, ``created_at``, ``created_by`` and one ``segments.<criterion>``
        column per criterion (values joined with ", "; active criteria always, inactive ones when used).
        """
        frame = self.db.df(SELECT_EXPORT_CUSTOMERS)
        segments = self.db.df(SELECT_EXPORT_SEGMENTS)
        for name, active in self.db.rows(SELECT_EXPORT_CRITERIA):
            chosen = segments[segments["criterion"] == name]
            if not active and chosen.empty:
                continue
            by_customer = {int(cid): text for cid, text in zip(chosen["customer_id"], chosen["chosen"], strict=True)}
            frame[SEGMENT_PREFIX + name] = [by_customer.get(int(cid), "") for cid in frame["id"]]
        return frame

    def export_contacts_frame(self) -> pd.DataFrame:
        """Every contact person (active or not) with the number and name of its customer.

        Columns: id, customer_number, customer_name, first_name, last_name, title, email, phone, mobile,
        active, notes, created_at, created_by — by customer name, then last and first name.
        """
        return self.db.df(SELECT_EXPORT_CONTACTS)
