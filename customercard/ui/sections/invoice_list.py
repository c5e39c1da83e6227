"""The invoices behind one bar of the Invoiced chart: that year's invoices and credit notes (date, number, project,
amount, currency, amount in the base currency), their sum — the bar's amount, to the öre —, the year by project,
and the list exported as CSV or Excel (written as every export is: formula-like texts neutralised)."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import panel as pn

from ... import formatting
from ...i18n import _, ngettext
from ...spreadsheets import write_table
from ..html import SECTION_CSS, esc, link, rows_of, table

#: Projects filter: every invoice of the year, or those without a project.
ALL_PROJECTS, NO_PROJECT = -1, 0


class YearInvoices(pn.viewable.Viewer):
    """One year's invoices of a customer, with a project filter, the sum per project and the exports."""

    def __init__(self, store: Any, customer_id: int, year: int, currency: str, projects_access: bool = False,
                 bar: float | None = None, close: Any = None) -> None:
        super().__init__()
        self.store, self.customer_id, self.year, self.currency = store, int(customer_id), int(year), currency
        self.projects_access, self.bar = projects_access, bar
        self.all = store.invoices(self.customer_id, year=self.year)
        options = {_("All projects"): ALL_PROJECTS}
        for row in rows_of(self.all.drop_duplicates("project_id")):
            if pd.isna(row.project_id):
                options[_("No project")] = NO_PROJECT
            else:
                options[f"{row.project_number} {row.project_name}".strip()] = int(row.project_id)
        self.project = pn.widgets.Select(label=_("Project"), options=options, value=ALL_PROJECTS, width=260,
                                         css_classes=["cc-year-project"])
        self.project.param.watch(lambda _e: self._draw(), "value")
        stem = _("invoices-{year}").format(year=self.year)
        self.exports = [
            pn.widgets.FileDownload(callback=lambda: self.export_file("csv"), filename=f"{stem}.csv",
                                    label=_("Export CSV"), css_classes=["cc-year-export-csv"], width=130,
                                    align="end"),
            pn.widgets.FileDownload(callback=lambda: self.export_file("xlsx"), filename=f"{stem}.xlsx",
                                    label=_("Export Excel"), css_classes=["cc-year-export-xlsx"], width=130,
                                    align="end")]
        closer = pn.widgets.Button(label=_("Close"), width=90, align="end", css_classes=["cc-year-close"])
        if close is not None:
            closer.on_click(lambda _e: close())
        self._html = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-year-invoices"],
                                  stylesheets=[SECTION_CSS])
        self._layout = pn.Column(self._html, pn.Row(self.project, *self.exports, closer),
                                 sizing_mode="stretch_width", css_classes=["cc-year-box"])
        self._draw()

    @property
    def frame(self) -> pd.DataFrame:
        """The year's invoices shown (all, or the chosen project's)."""
        chosen = self.project.value
        if chosen == ALL_PROJECTS:
            return self.all
        if chosen == NO_PROJECT:
            return self.all[self.all["project_id"].isna()]
        return self.all[self.all["project_id"] == chosen]

    @property
    def total(self) -> float:
        return round(float(self.frame["amount_base"].sum()), 2)

    def _draw(self) -> None:
        self._html.object = self.html()

    def html(self) -> str:
        frame, currency = self.frame, self.currency
        money = formatting.money
        head = (f'<h4 id="cc-year-title">{esc(_("Invoices and credit notes of {year}").format(year=self.year))}'
                f"</h4>")
        if frame.empty:
            return head + f'<p class="cc-empty">{esc(_("No invoices."))}</p>'
        rows = []
        for r in rows_of(frame):
            project = ""
            if not pd.isna(r.project_id):
                text = f"{r.project_number} {r.project_name}".strip()
                project = link(f"/project?project={int(r.project_id)}", text) if self.projects_access else esc(text)
            kind = _("Credit note") if r.amount < 0 else _("Invoice")
            rows.append([esc(formatting.date(r.invoice_date)), esc(r.number), esc(kind), project,
                         esc(money(r.amount, r.currency, decimals=True)), esc(r.currency),
                         esc(money(r.amount_base, currency, decimals=True))])
        total = [esc(_("Total")), esc(ngettext("{n} invoice", "{n} invoices", len(frame)).format(n=len(frame))), "",
                 "", "", "",
                 f'<span id="cc-year-total">{esc(money(self.total, currency, decimals=True))}</span>']
        listing = table([(_("Date"), False), (_("Number"), False), (_("Kind"), False), (_("Project"), False),
                         (_("Amount"), True), (_("Currency"), False), (_("In {currency}").format(currency=currency),
                                                                         True)],
                        rows, css_id="cc-year-table", total=total)
        return head + self.projects_html() + listing

    def projects_html(self) -> str:
        """The year by project: how many invoices and how much, in the base currency."""
        frame = self.all.assign(project=[f"{n} {m}".strip() if not pd.isna(i) else _("No project")
                                         for i, n, m in zip(self.all["project_id"], self.all["project_number"],
                                                            self.all["project_name"], strict=True)])
        grouped = frame.groupby("project", sort=True).agg(count=("id", "size"), amount=("amount_base", "sum"))
        if len(grouped) <= 1:  # one project (or none): the total says it all
            return ""
        rows = [[esc(name), esc(formatting.number(int(count))),
                 esc(formatting.money(round(float(amount), 2), self.currency, decimals=True))]
                for name, count, amount in zip(grouped.index, grouped["count"], grouped["amount"], strict=True)]
        return table([(_("Project"), False), (_("Invoices"), True), (_("In {currency}").format(
            currency=self.currency), True)], rows, css_id="cc-year-projects")

    def export_frame(self) -> pd.DataFrame:
        """The invoices shown, with headers in the reader's language; amounts stay numbers, dates dates."""
        frame = self.frame
        out = pd.DataFrame({
            _("Date"): pd.to_datetime(frame["invoice_date"]).dt.date, _("Number"): frame["number"],
            _("Kind"): [_("Credit note") if amount < 0 else _("Invoice") for amount in frame["amount"]],  # as shown
            _("Project"): [f"{n} {m}".strip() if not pd.isna(i) else "" for i, n, m in
                           zip(frame["project_id"], frame["project_number"], frame["project_name"], strict=True)],
            _("Amount"): frame["amount"], _("Currency"): frame["currency"],
            _("In {currency}").format(currency=self.currency): frame["amount_base"]})
        return out.reset_index(drop=True)

    def export_file(self, kind: str) -> io.BytesIO:
        """The invoices shown as a CSV or Excel file (see :func:`customercard.spreadsheets.write_table`)."""
        buffer = io.BytesIO()
        write_table(self.export_frame(), buffer, excel=kind != "csv", sheet=str(self.year))
        buffer.seek(0)
        return buffer

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
