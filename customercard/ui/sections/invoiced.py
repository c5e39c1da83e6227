"""Section 9 — invoiced per year: a bar chart (canvas, not WebGL) and the figures with their total.

The card draws the chart as a plain Bokeh plot (:class:`CardChart`): one data source, one glyph, a hover and a tap,
built once per section and updated in place when the figures change — a fifth of what the same picture costs
through HoloViews. Analysts get the same bars as HoloViews ``Bars`` (:func:`bar_chart`, :func:`invoiced_chart`) to
compose with their own; both draw :func:`chart_data`'s rows.

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
from bokeh.core.property.validation import without_property_validation
from bokeh.models import (
    CategoricalAxis,
    CategoricalScale,
    ColumnDataSource,
    CustomJSTickFormatter,
    DataRange1d,
    FactorRange,
    HoverTool,
    LinearAxis,
    LinearScale,
    Plot,
    TapTool,
    VBar,
)

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


def chart_data(figures: pd.DataFrame, currency: str,
               pipeline: pd.DataFrame | None = None) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """The chart's bars, one row each — ``year`` (text), ``series`` (Invoiced, or the weighted pipeline when
    ``pipeline`` (year, weighted) has any), ``amount``, ``amount_text`` (the amount as the table writes it) and
    ``colour`` — series by series, each over every year shown; and the hover's lines (label, field), in the
    reader's language. (A few dozen rows: made in plain Python, a card makes it as it opens.)"""
    invoiced, pipelined = _(INVOICED), _(PIPELINE)
    amounts = {invoiced: {str(int(year)): float(amount) for year, amount in zip(figures["year"], figures["amount"],
                                                                                   strict=True)}}
    if pipeline is not None and not pipeline.empty:
        amounts[pipelined] = {}
        for year, weighted in zip(pipeline["year"], pipeline["weighted"], strict=True):
            amounts[pipelined][str(int(year))] = amounts[pipelined].get(str(int(year)), 0.0) + float(weighted)
        tooltips = [(_("Year"), "@year"), (_("Series"), "@series"), (_("Amount"), "@amount_text")]
    else:
        tooltips = [(_("Year"), "@year"), (_("Invoiced"), "@amount_text")]
    years = sorted({year for by_year in amounts.values() for year in by_year})
    colours = {invoiced: INVOICED_COLOUR, pipelined: PIPELINE_COLOUR}
    rows = [(year, series, by_year.get(year, 0.0)) for series, by_year in amounts.items() for year in years]
    return pd.DataFrame({"year": [year for year, _s, _a in rows], "series": [series for _y, series, _a in rows],
                         "amount": [amount for _y, _s, amount in rows],
                         "amount_text": [formatting.money(amount, currency) for _y, _s, amount in rows],
                         "colour": [colours[series] for _y, series, _a in rows]}), tooltips


def bar_chart(figures: pd.DataFrame, currency: str, pipeline: pd.DataFrame | None = None) -> hv.Bars:
    """Invoiced per year as HoloViews bars (canvas, no toolbar), for analysts to compose with their own charts;
    with ``pipeline`` (year, weighted) the probability-weighted open pipeline by expected close year stands beside
    them. Labelled, and its amounts written, in the reader's language. (The card draws the same rows with
    :class:`CardChart`.)"""
    _holoviews()
    data, tooltips = chart_data(figures, currency, pipeline)
    if data["series"].nunique() > 1:
        # series by series: HoloViews draws the bars in that order, but computes their colours in the data's
        # order (year by year, the colours alternated between the years)
        kdims = [("year", _("Year")), ("series", _("Series"))]
        color, cmap = "series", {_(INVOICED): INVOICED_COLOUR, _(PIPELINE): PIPELINE_COLOUR}
    else:
        kdims, color, cmap = [("year", _("Year"))], INVOICED_COLOUR, None
    data = data[["year", "series", "amount", "amount_text"]] if len(kdims) > 1 else data[["year", "amount",
                                                                                        "amount_text"]]
    return hv.Bars(data, kdims=kdims, vdims=[("amount", currency), ("amount_text", _("Amount"))]).opts(
        responsive=True, height=240, color=color, cmap=cmap, line_color=None, toolbar=None, tools=["hover"],
        default_tools=[],  # no pan, zoom, reset or save tools on a per-year bar chart: nine Bokeh models fewer
        hover_tooltips=tooltips, yformatter=axis_formatter(), show_grid=False, xlabel="", ylabel=currency,
        show_legend=False, multi_level=False, backend_opts={"plot.output_backend": "canvas"},
    )


class CardChart:
    """The card's chart: a plain Bokeh plot of :func:`chart_data`'s bars — years along the x axis, each year's
    bars (invoiced, and the weighted pipeline) side by side — with a hover and a tap. Built once; :meth:`update`
    changes its data in place, so a redraw sends the browser the new figures only. A click on a bar calls
    ``on_tap`` with its year and series."""

    HEIGHT = 240

    @without_property_validation  # our own constant settings: Bokeh's checks of each cost a millisecond a card
    def __init__(self, on_tap: Any = None) -> None:
        self.on_tap = on_tap
        self.source = ColumnDataSource(data={"x": [], "year": [], "series": [], "amount": [], "amount_text": [],
                                             "colour": []})
        self.x_range = FactorRange(factors=[], range_padding=0.1, group_padding=0.6)
        self.hover = HoverTool(tooltips=[])
        self.y_axis = LinearAxis(formatter=axis_formatter(), axis_line_color=None, major_tick_out=4,
                                 minor_tick_line_color=None)
        self.plot = Plot(x_range=self.x_range, y_range=DataRange1d(), x_scale=CategoricalScale(),
                         y_scale=LinearScale(), height=self.HEIGHT, sizing_mode="stretch_width",
                         toolbar_location=None, output_backend="canvas", outline_line_color=None, min_border=4,
                         css_classes=["cc-invoiced-chart"], title=None)
        renderer = self.plot.add_glyph(self.source, VBar(x="x", top="amount", width=0.8, fill_color="colour",
                                                         line_color=None))
        # a clicked bar keeps its look (no faded rest): the regular glyph draws selected and unselected bars
        renderer.selection_glyph = None
        renderer.nonselection_glyph = None
        self.hover.renderers = [renderer]
        # the years as the axis's labels; each bar's series only in the hover and the table (and its colour)
        self.plot.add_layout(CategoricalAxis(major_label_text_font_size="0px", major_tick_line_color=None,
                                             group_text_font_size="12px", group_text_font_style="normal",
                                             group_text_color="#444444", separator_line_color=None,
                                             axis_line_color="#666666"), "below")
        self.plot.add_layout(self.y_axis, "left")
        self.plot.add_tools(self.hover, TapTool(renderers=[renderer]))
        self.source.selected.on_change("indices", self._selected)

    def update(self, figures: pd.DataFrame, currency: str, pipeline: pd.DataFrame | None = None) -> None:
        """Show these figures (and the pipeline beside them), in the reader's language."""
        data, tooltips = chart_data(figures, currency, pipeline)
        columns = {column: list(data[column]) for column in ("year", "series", "amount", "amount_text", "colour")}
        columns["x"] = list(zip(columns["year"], columns["series"], strict=True))
        years = list(dict.fromkeys(sorted(columns["year"])))
        series = list(dict.fromkeys(columns["series"]))
        self.x_range.factors = [(year, kind) for year in years for kind in series]
        self.source.data = columns
        if self.hover.tooltips != tooltips:
            self.hover.tooltips = tooltips
        if self.y_axis.axis_label != currency:
            self.y_axis.axis_label = currency

    def bars(self) -> list[tuple[int, str]]:
        """The bars, in the source's order: (year, series)."""
        return [(int(year), series) for year, series in zip(self.source.data["year"], self.source.data["series"],
                                                            strict=True)]

    def tap(self, year: int, series: str | None = None) -> None:
        """Click the bar of ``year`` (and ``series``, the first of that year by default), as the browser's tap
        tool does."""
        for index, (bar_year, bar_series) in enumerate(self.bars()):
            if bar_year == int(year) and series in (None, bar_series):
                self.source.selected.indices = [index]
                return
        raise ValueError(f"no bar for {year}")

    def _selected(self, _attr: str, _old: list[int], new: list[int]) -> None:
        if not new:
            return
        bars = self.bars()
        index = int(new[0])
        # cleared again, so that a second click on the same bar is a click too
        self.source.selected.indices = []
        if self.on_tap is not None and 0 <= index < len(bars):
            self.on_tap(*bars[index])


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
        if getattr(self, "_chart", None) is None:
            # A click on a bar opens its year's invoices under the chart.
            self.chart = CardChart(on_tap=lambda year, _series: self.show_year(year))
            self._chart = pn.pane.Bokeh(self.chart.plot, sizing_mode="stretch_width")
        # The same plot with the new figures: the browser gets the data only, and the card's other sections (an
        # open form, the focus) stay as they are.
        self.chart.update(figures, self.context.settings.base_currency, self._pipeline)
        return self._chart_and_year()

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
            self.view.child = self._chart_and_year()  # the chart as it is
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
