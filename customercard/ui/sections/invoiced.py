"""Section 9 — invoiced per year: a HoloViews bar chart (canvas, not WebGL) and the figures with their total."""

from __future__ import annotations

import datetime as dt
import functools

import holoviews as hv
import pandas as pd
import panel as pn
from bokeh.models import NumeralTickFormatter

from ... import formatting
from ...i18n import _
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


INVOICED, PIPELINE = _("Invoiced"), _("Weighted pipeline")


def bar_chart(figures: pd.DataFrame, currency: str, pipeline: pd.DataFrame | None = None) -> hv.Bars:
    """Invoiced per year as HoloViews bars (canvas, no toolbar); with ``pipeline`` (year, weighted) the
    probability-weighted open pipeline by expected close year stands beside them."""
    _holoviews()
    data = figures.assign(year=figures["year"].astype(str), series=INVOICED)[["year", "series", "amount"]]
    if pipeline is not None and not pipeline.empty:
        extra = pipeline.rename(columns={"weighted": "amount"}).assign(year=pipeline["year"].astype(str),
                                                                       series=PIPELINE)
        data = pd.concat([data, extra[["year", "series", "amount"]]], ignore_index=True)
        years = sorted(set(data["year"]))
        # series by series: HoloViews draws the bars in that order, but computes their colours in the data's
        # order (year by year, the colours alternated between the years)
        data = (data.set_index(["series", "year"]).reindex(
            pd.MultiIndex.from_product([[INVOICED, PIPELINE], years], names=["series", "year"]), fill_value=0.0)
            .reset_index()[["year", "series", "amount"]])
        kdims = [("year", _("Year")), ("series", _("Series"))]
        color, cmap = "series", {INVOICED: "#2f6fb3", PIPELINE: "#e69f3a"}
    else:
        kdims, color, cmap = [("year", _("Year"))], "#2f6fb3", None
    return hv.Bars(data, kdims=kdims, vdims=[("amount", currency)]).opts(
        responsive=True, height=240, color=color, cmap=cmap, line_color=None, toolbar=None, default_tools=["hover"],
        yformatter=NumeralTickFormatter(format="0,0"), show_grid=False, xlabel="", ylabel=currency,
        show_legend=False, multi_level=False, backend_opts={"plot.output_backend": "canvas"},
    )


class InvoicedSection(Section):
    key = "invoiced"
    listens_to = frozenset({"opportunity", "invoice"})
    title = _("Invoiced")

    def figures(self) -> pd.DataFrame:
        frame = self.context.store.invoiced_per_year(self.context.customer.id)
        return yearly_figures(frame, dt.date.today().year)

    def markup(self) -> str:
        return self.table_html(self._figures)

    def table_html(self, figures: pd.DataFrame) -> str:
        currency, locale = self.context.settings.base_currency, self.context.locale
        if figures.empty:
            return f'<p class="cc-empty">{esc(_("Nothing invoiced yet."))}</p>'
        rows = [[esc(int(r.year)), esc(formatting.money(r.amount, currency, locale))]
                for r in figures.sort_values("year", ascending=False).itertuples(index=False)]
        total = [esc(_("Total")), esc(formatting.money(float(figures["amount"].sum()), currency, locale))]
        html = table([(_("Year"), False), (_("Invoiced"), True)], rows, css_id="cc-invoiced-table", total=total)
        pipeline = getattr(self, "_pipeline", None)
        if pipeline is not None and not pipeline.empty:
            weighted = formatting.money(float(pipeline["weighted"].sum()), currency, locale)
            html += (f'<p class="cc-meta" id="cc-pipeline-note"><span style="color:#e69f3a">■</span> '
                     f'{esc(_("Open pipeline, probability-weighted, by expected close year"))}: {esc(weighted)}</p>')
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

    def render(self) -> None:
        self._figures = self.figures()  # one query serves the chart and the table
        self._pipeline = self.context.store.pipeline_per_year(self.context.customer.id)
        super().render()
