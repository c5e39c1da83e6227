"""Section 9 — invoiced per year: a HoloViews bar chart (canvas, not WebGL) and the figures with their total.

The chart speaks the reader's language: its series, axis and hover are labelled in it, the y axis's ticks are
written with the language's grouping and decimal marks (:func:`axis_formatter`, the same marks as
:mod:`customercard.formatting`), and the hover shows each bar's amount as the table beside it does
(:func:`customercard.formatting.money`).

The chart is a picture to a screen reader, named as such; the table under it carries the same figures — every
year the chart shows, invoiced and the weighted pipeline — so nothing is only in the picture.
"""

from __future__ import annotations

import datetime as dt
import functools
from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
from bokeh.models import CustomJSTickFormatter

from ... import formatting
from ...i18n import N_, _
from .. import assets
from ..html import esc, table
from .base import Section


@functools.cache
def _holoviews() -> None:
    """Load HoloViews' Bokeh backend once, drawing on canvas (WebGL costs a second without a GPU)."""
    hv.extension("bokeh", logo=False)
    hv.renderer("bokeh").webgl = False


def yearly_figures(frame: pd.DataFrame, this_year: int) -> pd.DataFrame:
    """Years from the first invoiced one to this year (or the last invoiced), missing years as 0."""
    if frame.empty:
        return frame
    last = max(int(frame["year"].max()), this_year)
    years = range(int(frame["year"].min()), last + 1)
    return frame.set_index("year").reindex(years, fill_value=0.0).rename_axis("year").reset_index()


INVOICED, PIPELINE = N_("Invoiced"), N_("Weighted pipeline")
#: The bars' colours: each at least 3:1 against the white page (the pipeline's orange was 2.2:1).
INVOICED_COLOUR, PIPELINE_COLOUR = "#2f6fb3", "#b06f12"
#: A year's change of this many percent or more is shown in whole percent ('+12 %'), a smaller one with a decimal.
WHOLE_PERCENT_FROM = 10

#: Writes an axis tick as :func:`customercard.formatting.number` writes it: whole numbers grouped in threes with
#: the language's mark, its decimal mark and minus sign (ticks below ten may have decimals).
AXIS_TICK_JS = assets.text("axis_tick.js")


def axis_formatter(language: str | None = None) -> CustomJSTickFormatter:
    """A Bokeh tick formatter writing amounts with the marks of ``language`` (the reader's by default):
    '400 000' in Swedish, '400.000' in Danish, '400,000' in English."""
    marks = formatting.symbols(language)
    minus = formatting.number(-1, language=language)[:-1]  # the sign formatting.number writes
    return CustomJSTickFormatter(code=AXIS_TICK_JS, args={"group": marks["group"], "decimal": marks["decimal"],
                                                          "minus": minus})


def bar_chart(figures: pd.DataFrame, currency: str, pipeline: pd.DataFrame | None = None) -> hv.Bars:
    """Invoiced per year as HoloViews bars (canvas, no toolbar); with ``pipeline`` (year, weighted) the
    probability-weighted open pipeline by expected close year stands beside them. Labelled, and its amounts
    written, in the reader's language."""
    _holoviews()
    invoiced, pipelined = _(INVOICED), _(PIPELINE)
    data = figures.assign(year=figures["year"].astype(str), series=invoiced)[["year", "series", "amount"]]
    if pipeline is not None and not pipeline.empty:
        extra = pipeline.rename(columns={"weighted": "amount"}).assign(year=pipeline["year"].astype(str),
                                                                       series=pipelined)
        data = pd.concat([data, extra[["year", "series", "amount"]]], ignore_index=True)
        years = sorted(set(data["year"]))
        # series by series: HoloViews draws the bars in that order, but computes their colours in the data's
        # order (year by year, the colours alternated between the years)
        data = (data.set_index(["series", "year"]).reindex(
            pd.MultiIndex.from_product([[invoiced, pipelined], years], names=["series", "year"]), fill_value=0.0)
            .reset_index()[["year", "series", "amount"]])
        kdims = [("year", _("Year")), ("series", _("Series"))]
        color, cmap = "series", {invoiced: INVOICED_COLOUR, pipelined: PIPELINE_COLOUR}
        tooltips = [(_("Year"), "@year"), (_("Series"), "@series"), (_("Amount"), "@amount_text")]
    else:
        kdims, color, cmap = [("year", _("Year"))], INVOICED_COLOUR, None
        tooltips = [(_("Year"), "@year"), (_("Invoiced"), "@amount_text")]
    data = data.assign(amount_text=[formatting.money(amount, currency) for amount in data["amount"]])
    return hv.Bars(data, kdims=kdims, vdims=[("amount", currency), ("amount_text", _("Amount"))]).opts(
        responsive=True, height=240, color=color, cmap=cmap, line_color=None, toolbar=None, tools=["hover"],
        default_tools=[],  # no pan, zoom, reset or save tools on a per-year bar chart: nine Bokeh models fewer
        hover_tooltips=tooltips, yformatter=axis_formatter(), show_grid=False, xlabel="", ylabel=currency,
        show_legend=False, multi_level=False, backend_opts={"plot.output_backend": "canvas"},
    )


def invoiced_chart(store: Any, customer_id: int | None = None, pipeline: bool = True) -> hv.Bars:
    """The card's Invoiced chart for one customer (or all, ``customer_id`` None): invoiced per year, net of credit
    notes, in the base currency, with the probability-weighted open pipeline beside it (``pipeline``)."""
    figures = yearly_figures(store.invoiced_per_year(customer_id), dt.date.today().year)
    crm = store.settings().crm_enabled
    weighted = store.pipeline_per_year(customer_id) if pipeline and crm and customer_id is not None else None
    return bar_chart(figures, store.settings().base_currency, weighted)


def year_change(amount: float, before: float | None) -> str:
    """A year's change against the year before, in percent with its sign ('+12 %'); '' without a year before or
    when that year was nothing."""
    if before is None or not before:
        return ""
    change = (amount - before) / abs(before) * 100.0
    return ("+" if change > 0 else "") + formatting.percent(change, 0 if abs(change) >= WHOLE_PERCENT_FROM else 1)


class InvoicedSection(Section):
    key = "invoiced"
    listens_to = frozenset({"opportunity", "invoice"})
    title = N_("Invoiced")
    actions = ("invoiced-year",)
    #: The year whose invoices are shown under the chart (None: none), and their list.
    year: int | None = None
    year_invoices: Any = None

    def figures(self) -> pd.DataFrame:
        frame = self.context.store.invoiced_per_year(self.context.customer.id)
        return yearly_figures(frame, dt.date.today().year)

    def markup(self) -> str:
        return self.table_html(self._figures)

    def table_html(self, figures: pd.DataFrame) -> str:
        """The chart's figures as a table: each year it shows, newest first — invoiced and, when there is an open
        pipeline, the weighted pipeline expected to close that year — and the totals, in the reader's language."""
        currency = self.context.settings.base_currency
        if figures.empty:
            return f'<p class="cc-empty">{esc(_("Nothing invoiced yet."))}</p>'
        pipeline = getattr(self, "_pipeline", None)
        has_pipeline = pipeline is not None and not pipeline.empty
        invoiced = figures.set_index("year")["amount"]
        weighted = pipeline.set_index("year")["weighted"] if has_pipeline else pd.Series(dtype=float)
        years = sorted({int(y) for y in invoiced.index} | {int(y) for y in weighted.index}, reverse=True)

        def money(amount: float) -> str:
            return esc(formatting.money(amount, currency))
        amounts = {int(year): float(amount) for year, amount in invoiced.items()}
        rows = [[self._year_button(year) if year in amounts else esc(year), money(amounts.get(year, 0.0)),
                 esc(year_change(amounts.get(year, 0.0), amounts.get(year - 1)))]
                + ([money(float(weighted.get(year, 0.0)))] if has_pipeline else []) for year in years]
        total = [esc(_("Total")), money(float(invoiced.sum())), ""] + ([money(float(weighted.sum()))]
                                                                       if has_pipeline else [])
        headers = [(_("Year"), False), (_(INVOICED), True), (_("Change"), True)] + ([(_(PIPELINE), True)]
                                                                                    if has_pipeline else [])
        html = table(headers, rows, css_id="cc-invoiced-table", total=total, caption=_("Invoiced per year"))
        if has_pipeline:
            html += (f'<p class="cc-meta" id="cc-pipeline-note"><span aria-hidden="true" style="display:inline-block;'
                     f'width:.8em;height:.8em;background:{PIPELINE_COLOUR}"></span> '
                     f'{esc(_("Open pipeline, probability-weighted, by expected close year"))}: '
                     f'{money(float(weighted.sum()))}</p>')
        return html

    def _year_button(self, year: int) -> str:
        """A year in the figures table: a button that opens its invoices under the chart."""
        return (f'<button class="cc-link cc-invoiced-year" data-action="invoiced-year" data-id="{year}" '
                f'title="{esc(_("Show the invoices of {year}").format(year=year))}">{year}</button>')

    def read_child(self) -> pn.viewable.Viewable | None:
        figures = self._figures
        if figures.empty:
            return None
        chart = bar_chart(figures, self.context.settings.base_currency, self._pipeline)
        # A click on a bar selects it (the tap tool; the bars keep their look): its year's invoices open.
        chart.opts(tools=["hover", "tap"], nonselection_alpha=1.0, selection_alpha=1.0)
        years = [int(year) for year in chart.data["year"]]
        hv.streams.Selection1D(source=chart).add_subscriber(lambda index: self._tapped(years, index))
        if getattr(self, "_chart", None) is not None:
            # The same pane with the new chart: the card's other sections (an open form, the focus) stay as they are.
            self._chart.object = chart
        else:
            self._chart = pn.pane.HoloViews(chart, backend="bokeh", sizing_mode="stretch_width",
                                            css_classes=["cc-invoiced-chart"])
        return self._chart_and_year()

    def _tapped(self, years: list[int], index: list[int] | None) -> None:
        """A bar was clicked: the year of the bar (``index`` counts the chart's bars, in its data's order)."""
        if index:
            self.show_year(years[int(index[0])])

    def do_invoiced_year(self, data: dict[str, Any]) -> None:
        try:
            year = int(data.get("id"))
        except (TypeError, ValueError):
            return
        self.show_year(year)

    def show_year(self, year: int | None) -> Any:
        """Show that year's invoices and credit notes under the chart (None closes them); returns the list."""
        from .invoice_list import YearInvoices

        if not self._built:
            self.open()
        figures = getattr(self, "_figures", None)
        if year is not None and (figures is None or int(year) not in set(figures["year"].astype(int))):
            return None
        self.year = year
        if year is None:
            self.year_invoices = None
        else:
            bar = float(figures.loc[figures["year"].astype(int) == int(year), "amount"].iloc[0])
            self.year_invoices = YearInvoices(self.context.store, self.context.customer.id, int(year),
                                              self.context.settings.base_currency, self.context.projects_access,
                                              bar=bar, close=lambda: self.show_year(None))
        if getattr(self, "_chart", None) is not None and self._figures is not None and not self._figures.empty:
            self.view.child = self._chart_and_year()  # the chart as it is (drawing it again loses its clicks)
        else:
            self.render()
        return self.year_invoices

    def _chart_and_year(self) -> pn.viewable.Viewable:
        """The chart, with the chosen year's invoices under it."""
        shown = self.year_invoices
        if shown is None:
            return self._chart
        if getattr(self, "_with_year", None) is None or self._with_year.objects[1] is not shown.__panel__():
            self._with_year = pn.Column(self._chart, shown, sizing_mode="stretch_width", margin=0)
        return self._with_year

    def chart_label(self) -> str:
        """What a screen reader says for the chart (a picture): what it shows, and where its figures are."""
        if getattr(self, "_pipeline", None) is not None:
            return _("Chart of the invoiced amounts per year, and the weighted pipeline by expected close year; the "
                     "table below holds the same figures.")
        return _("Chart of the invoiced amounts per year; the table below holds the same figures.")

    def render(self) -> None:
        try:
            self._figures = self.figures()  # one query serves the chart and the table
            self._pipeline = (self.context.store.pipeline_per_year(self.context.customer.id)
                              if self.context.settings.crm_enabled else None)
        except Exception:  # the section says it could not be drawn (Section.render), the card goes on
            self._figures, self._pipeline = None, None
        self.view.child_label = self.chart_label() if self._figures is not None else ""
        super().render()
