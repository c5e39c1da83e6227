"""Invoices and invoiced per year (net of credit notes, in the firm's base currency).

``invoiced_yearly`` holds each customer's yearly totals and is kept up to date in the same transaction
as every invoice write, so one customer's figures never scan the invoices table.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..errors import NotFound, PermissionDenied, ValidationError
from ..i18n import _
from .backend import Backend
from .database import execute_rows
from .part import Part
from .records import survivor_named

if TYPE_CHECKING:
    from .admin import AdminStore

INVOICE_COLUMNS = ["customer_id", "project_id", "number", "invoice_date", "amount", "currency", "amount_base"]


class InvoicingStore(Part):
    """Part of :class:`customercard.store.Store`: invoices and their yearly totals."""

    uses = ("admin",)
    admin: AdminStore

    db: Backend

    def add_invoices(self, invoices: pd.DataFrame, user: str | None = None) -> int:
        """Add invoices and credit notes (negative amounts) and update the yearly totals; returns the count.

        Columns: customer_id, number, invoice_date, amount, currency, amount_base (project_id optional).
        """
        self.admin.require(user, "write")
        frame = _check_invoices(invoices, self.admin.settings().base_currency)
        if frame.empty:
            return 0
        wanted = sorted(int(i) for i in frame["customer_id"].unique())
        unknown = set(wanted) - {r[0] for r in self.db.rows("SELECT id FROM customers WHERE " + self.db.any_of("id"),
                                                             [wanted])}
        if unknown:
            raise NotFound(_("No customer with id {customer_id} (invoices not added).").format(
                customer_id=sorted(unknown)[0]))
        with self.db.transaction() as cur:
            self._refuse_merged_away(cur, wanted)
            self._insert_invoices(frame)
        return len(frame)

    def _refuse_merged_away(self, cur: Any, customer_ids: list[int]) -> None:
        """Invoices of a customer merged into another would stay on its archived pointer, never counted at the
        survivor: refused, all of them, naming where they belong (as every other record is). On PostgreSQL the
        customers' rows are held until the write commits: a merge of one of them waits, then moves them too."""
        lock = " FOR SHARE" if self.db.dialect == "postgresql" else ""
        for start in range(0, len(customer_ids), 5_000):
            part = customer_ids[start:start + 5_000]
            for customer_id, name, survivor in cur.execute(
                    "SELECT id, name, merged_into FROM customers WHERE " + self.db.any_of("id") + lock,
                    [part]).fetchall():
                if survivor is not None:
                    raise PermissionDenied(_("{name} (id {customer_id}) was merged into {survivor}: no invoices "
                                             "were added. Add them there.").format(
                        name=name, customer_id=customer_id, survivor=survivor_named(self.db, int(survivor), cur)))

    def _insert_invoices(self, frame: pd.DataFrame) -> None:
        """Insert checked invoices and fold them into invoiced_yearly (inside a transaction)."""
        frame = frame.sort_values(["customer_id", "invoice_date"]).reset_index(drop=True)
        frame.insert(0, "id", self.db.reserve_ids("invoices_id_seq", len(frame)))
        self.db.insert_df("invoices", frame[["id", *INVOICE_COLUMNS]])
        yearly = (frame.assign(year=pd.to_datetime(frame["invoice_date"]).dt.year.astype("int32"))
                  .groupby(["customer_id", "year"], as_index=False)
                  .agg(amount=("amount_base", "sum"), invoices=("amount_base", "size")))
        execute_rows(self.db.cursor(),
            "INSERT INTO invoiced_yearly (customer_id, year, amount, invoices) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (customer_id, year) DO UPDATE SET amount = invoiced_yearly.amount + excluded.amount, "
            "invoices = invoiced_yearly.invoices + excluded.invoices",
            [[int(r.customer_id), int(r.year), float(r.amount), int(r.invoices)] for r in yearly.itertuples()])

    def invoices(self, customer_id: int, year: int | None = None, project: int | None = None) -> pd.DataFrame:
        """The customer's invoices and credit notes (negative amounts), newest first — of one year and of one
        project when given (``project=0``: those without a project). Columns: id, invoice_date, number, project_id,
        project_number, project_name, amount, currency, amount_base (in the firm's base currency). A year's
        ``amount_base`` adds up to its bar in :meth:`invoiced_per_year`, to the öre."""
        where, params = ["customer_id = ?"], [int(customer_id)]
        if year is not None:
            if not dt.MINYEAR <= int(year) <= dt.MAXYEAR:
                raise ValidationError({"year": _("A year from {first} to {last}.").format(first=dt.MINYEAR,
                                                                                        last=dt.MAXYEAR)})
            where.append("invoice_date >= ? AND invoice_date <= ?")  # (the day after 9999's last has no date)
            params += [dt.date(int(year), 1, 1), dt.date(int(year), 12, 31)]
        if project is not None:
            where.append("project_id IS NULL" if int(project) == 0 else "project_id = ?")
            params += [] if int(project) == 0 else [int(project)]
        rows = self.db.records(
            "SELECT id, invoice_date, number, project_id, CAST(amount AS DOUBLE PRECISION) AS amount, currency, "
            "CAST(amount_base AS DOUBLE PRECISION) AS amount_base FROM invoices WHERE " + " AND ".join(where)
            + " ORDER BY invoice_date DESC, id DESC", params)
        wanted = sorted({int(r["project_id"]) for r in rows if r["project_id"] is not None})
        projects = {int(i): (number, name) for i, number, name in self.db.rows(
            "SELECT id, number, name FROM projects WHERE " + self.db.in_list("id", len(wanted), ids=True),
            wanted)} if wanted else {}
        frame = pd.DataFrame([{**r, "project_id": None if r["project_id"] is None else int(r["project_id"]),
                               "project_number": projects.get(r["project_id"], (None, None))[0],
                               "project_name": projects.get(r["project_id"], (None, None))[1]} for r in rows],
                             columns=["id", "invoice_date", "number", "project_id", "project_number", "project_name",
                                      "amount", "currency", "amount_base"])
        frame["project_id"] = frame["project_id"].astype("Int64")
        for column in ("amount", "amount_base"):
            frame[column] = frame[column].astype("float64").round(2)
        frame["invoice_date"] = pd.to_datetime(frame["invoice_date"]).dt.date
        return frame

    def invoiced_per_year(self, customer_id: int | None = None, fill_gaps: bool = True) -> pd.DataFrame:
        """Invoiced per year, net of credit notes, in the base currency: columns year, amount.

        For one customer (or all when ``customer_id`` is None). Years without invoices between the first
        and the last invoiced year are included as 0 unless ``fill_gaps`` is False.
        """
        if customer_id is None:
            frame = self.db.df("SELECT year, CAST(sum(amount) AS DOUBLE PRECISION) AS amount FROM invoiced_yearly "
                               "GROUP BY year ORDER BY year")
        else:  # a few rows: plain Python is cheaper than converting and reindexing frames
            found = {int(y): round(float(a), 2) for y, a in self.db.rows(
                "SELECT year, amount FROM invoiced_yearly WHERE customer_id = ?", [int(customer_id)])}
            years = range(min(found), max(found) + 1) if fill_gaps and found else sorted(found)
            return pd.DataFrame({"year": np.array(list(years), dtype="int64"),
                                 "amount": np.array([found.get(y, 0.0) for y in years], dtype="float64")})
        frame["year"] = frame["year"].astype("int64")
        frame["amount"] = frame["amount"].astype("float64").round(2)
        if fill_gaps and not frame.empty:
            years = range(int(frame["year"].min()), int(frame["year"].max()) + 1)
            frame = (frame.set_index("year").reindex(years, fill_value=0.0).rename_axis("year").reset_index())
        return frame[["year", "amount"]]


def _check_invoices(invoices: pd.DataFrame, base_currency: str = "SEK") -> pd.DataFrame:
    missing = [c for c in INVOICE_COLUMNS if c not in invoices.columns and c != "project_id"]
    if missing:
        raise ValidationError({c: _("This column is missing.") for c in missing}, what=_("Invoices"))
    frame = invoices.copy()
    if "project_id" not in frame:
        frame["project_id"] = pd.Series([None] * len(frame), dtype="Int64")
    else:  # whole numbers, missing where none (pandas makes a column with a None in it floats: '20.0')
        frame["project_id"] = pd.to_numeric(frame["project_id"], errors="coerce").round().astype("Int64")
    frame["invoice_date"] = pd.to_datetime(frame["invoice_date"], errors="coerce").dt.date
    errors = {}
    if frame["invoice_date"].isna().any():
        errors["invoice_date"] = _("Row {row} has no valid date.").format(
            row=int(frame["invoice_date"].isna().idxmax()) + 1)
    for column in ("amount", "amount_base"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").round(2)
        if frame[column].isna().any():
            errors[column] = _("Row {row} has no valid amount.").format(row=int(frame[column].isna().idxmax()) + 1)
    frame["currency"] = frame["currency"].astype(str).str.strip().str.upper()
    if not errors:
        _check_amounts(frame, base_currency, errors)
    if errors:
        raise ValidationError(errors, what=_("Invoices"))
    frame["number"] = frame["number"].astype(str)
    return frame[INVOICE_COLUMNS]


def _check_amounts(frame: pd.DataFrame, base_currency: str, errors: dict[str, str]) -> None:
    """Each row's currency a three-letter code, and its amount in the base currency what it says: of the same sign as
    its amount (a credit note is negative in both: a positive base amount added to the year instead of taking from
    it) and, in the base currency itself, the amount."""
    def first(mask: pd.Series) -> int:
        return int(mask.to_numpy().nonzero()[0][0]) + 1

    coded = frame["currency"].str.fullmatch(r"[A-Z]{3}")
    if not coded.all():
        errors["currency"] = _("Row {row}: give the currency as a three-letter code, like SEK.").format(
            row=first(~coded))
    amount, base = frame["amount"].to_numpy(dtype=float), frame["amount_base"].to_numpy(dtype=float)
    crossed = pd.Series((amount * base) < 0)
    if crossed.any():
        errors["amount_base"] = _("Row {row}: the amount in the base currency has the other sign than the amount (a "
                                  "credit note is negative in both).").format(row=first(crossed))
    else:
        differs = pd.Series((frame["currency"].to_numpy() == base_currency) & (np.round(amount - base, 2) != 0))
        if differs.any():
            errors["amount_base"] = _("Row {row}: in {currency}, the base currency, the amount in the base currency "
                                      "is the amount.").format(row=first(differs), currency=base_currency)
