"""Section 9 — invoiced per year: a HoloViews bar chart (canvas, not WebGL) and the figures with their total.

The chart is a picture to a screen reader, named as such; the table under it carries the same figures — every
year the chart shows, invoiced and the weighted pipeline — so nothing is only in the picture.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
from bokeh.models import NumeralTickFormatter

from ... import formatting
from ...i18n import N_, _
from ..html import esc, table
from .base import Section

_READY = False


def _holoviews() -> None:
    """Load HoloViews' Bokeh backend once, drawing on canvas (WebGL costs a second without a GPU)."""
    global _READY
    if not _READY:
        hv.extension("bokeh", logo=False)
        hv.renderer("bokeh").webgl = False
        _READY = True


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


def bar_chart(figures: pd.DataFrame, currency: str, pipeline: pd.DataFrame | None = None) -> hv.Bars:
    """Invoiced per year as HoloViews bars (canvas, no toolbar); with ``pipeline`` (year, weighted) the
    probability-weighted open pipeline by expected close year stands beside them."""
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
    else:
        kdims, color, cmap = [("year", _("Year"))], INVOICED_COLOUR, None
    return hv.Bars(data, kdims=kdims, vdims=[("amount", currency)]).opts(
        responsive=True, height=240, color=color, cmap=cmap, line_color=None, toolbar=None, default_tools=["hover"],
        yformatter=NumeralTickFormatter(format="0,0"), show_grid=False, xlabel="", ylabel=currency,
        show_legend=False, multi_level=False, backend_opts={"plot.output_backend": "canvas"},
    )


def invoiced_chart(store: Any, customer_id: int | None = None, pipeline: bool = True) -> hv.Bars:
    """The card's Invoiced chart for one customer (or all, ``customer_id`` None): invoiced per year, net of credit
    notes, in the base currency, with the probability-weighted open pipeline beside it (``pipeline``)."""
    figures = yearly_figures(store.invoiced_per_year(customer_id), dt.date.today().year)
    weighted = store.pipeline_per_year(customer_id) if pipeline and customer_id is not None else None
    return bar_chart(figures, store.settings().base_currency, weighted)


class InvoicedSection(Section):
    key = "invoiced"
    listens_to = frozenset({"opportunity", "invoice"})
    title = N_("Invoiced")

    def figures(self) -> pd.DataFrame:
        frame = self.context.store.invoiced_per_year(self.context.customer.id)
        return yearly_figures(frame, dt.date.today().year)

    def markup(self) -> str:
        return self.table_html(self._figures)

    def table_html(self, figures: pd.DataFrame) -> str:
        """The chart's figures as a table: each year it shows, newest first — invoiced and, when there is an open
        pipeline, the weighted pipeline expected to close that year — and the totals."""
        currency, locale = self.context.settings.base_currency, self.context.locale
        if figures.empty:
            return f'<p class="cc-empty">{esc(_("Nothing invoiced yet."))}</p>'
        pipeline = getattr(self, "_pipeline", None)
        has_pipeline = pipeline is not None and not pipeline.empty
        invoiced = figures.set_index("year")["amount"]
        weighted = pipeline.set_index("year")["weighted"] if has_pipeline else pd.Series(dtype=float)
        years = sorted({int(y) for y in invoiced.index} | {int(y) for y in weighted.index}, reverse=True)

        def money(amount: float) -> str:
            return esc(formatting.money(amount, currency, locale))
        rows = [[esc(year), money(float(invoiced.get(year, 0.0)))]
                + ([money(float(weighted.get(year, 0.0)))] if has_pipeline else []) for year in years]
        total = [esc(_("Total")), money(float(invoiced.sum()))] + ([money(float(weighted.sum()))] if has_pipeline
                                                                   else [])
        headers = [(_("Year"), False), (_(INVOICED), True)] + ([(_(PIPELINE), True)] if has_pipeline else [])
        html = table(headers, rows, css_id="cc-invoiced-table", total=total, caption=_("Invoiced per year"))
        if has_pipeline:
            html += (f'<p class="cc-meta" id="cc-pipeline-note"><span aria-hidden="true" style="display:inline-block;'
                     f'width:.8em;height:.8em;background:{PIPELINE_COLOUR}"></span> '
                     f'{esc(_("Open pipeline, probability-weighted, by expected close year"))}: '
                     f'{money(float(weighted.sum()))}</p>')
        return html

    def read_child(self) -> pn.viewable.Viewable | None:
        figures = self._figures
        if figures.empty:
            return None
        chart = bar_chart(figures, self.context.settings.base_currency, self._pipeline)
        if getattr(self, "_chart", None) is not None:
            # The same pane with the new chart: the card's other sections (an open form, the focus) stay as they are.
            self._chart.object = chart
            return self._chart
        self._chart = pn.pane.HoloViews(chart, backend="bokeh", sizing_mode="stretch_width",
                                        css_classes=["cc-invoiced-chart"])
        return self._chart

    def chart_label(self) -> str:
        """What a screen reader says for the chart (a picture): what it shows, and where its figures are."""
        return _("Chart of the invoiced amounts per year, and the weighted pipeline by expected close year; the "
                 "table below holds the same figures.")

    def render(self) -> None:
        self._figures = self.figures()  # one query serves the chart and the table
        self._pipeline = self.context.store.pipeline_per_year(self.context.customer.id)
        self.view.child_label = self.chart_label()
        super().render()
