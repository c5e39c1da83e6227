"""Section 9 — invoiced per year: a bar chart (canvas, not WebGL) and the figures with their total.

The card draws its chart on a canvas of its own (:func:`chart_html`): the server writes the figures, the axis's
ticks and the hover's lines (:func:`chart_spec`) into the section's HTML, and the card's browser component draws
the bars, shows a bar's figures under the pointer and sends a click on a bar as the year's action
(``assets/bar_chart.js``). Measured in Chromium, a Bokeh plot of the same bars cost the card's open about 60–90 ms
(its axes, tools and layout); this costs a few. Analysts get the same bars as HoloViews ``Bars``
(:func:`bar_chart`, :func:`invoiced_chart`) to compose with their own; both draw :func:`chart_data`'s rows.

The chart speaks the reader's language: its series, axis and hover are labelled in it, the y axis's ticks are
written with the language's grouping and decimal marks (:mod:`customercard.formatting`; :func:`axis_formatter`
for the HoloViews bars), and the hover shows each bar's amount as the table beside it does
(:func:`customercard.formatting.money`).

The chart is a picture to a screen reader, named as such; the table under it carries the same figures — every
year the chart shows, invoiced and the weighted pipeline — so nothing is only in the picture, and its years are
buttons that open the year's invoices as a click on a bar does.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
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


#: The most years the chart draws every one of between its first and last (beyond: only the years that have bars).
CHART_YEARS_AT_MOST = 60


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
    known = sorted({int(year) for by_year in amounts.values() for year in by_year})
    # every year between the first and the last, as the invoiced years are: an opportunity expected to close far
    # from them (a 1990 typed by mistake) is not drawn beside them as if the years between were not there — up to
    # a span a chart can show (a 9999 typed as "some day" would make thousands of bars: then the years there are)
    spanned = bool(known) and known[-1] - known[0] < CHART_YEARS_AT_MOST
    years = [str(year) for year in (range(known[0], known[-1] + 1) if spanned else known)]
    colours = {invoiced: INVOICED_COLOUR, pipelined: PIPELINE_COLOUR}
    rows = [(year, series, by_year.get(year, 0.0)) for series, by_year in amounts.items() for year in years]
    return pd.DataFrame({"year": [year for year, _s, _a in rows], "series": [series for _y, series, _a in rows],
                         "amount": [amount for _y, _s, amount in rows],
                         "amount_text": [formatting.money(amount, currency) for _y, _s, amount in rows],
                         "colour": [colours[series] for _y, series, _a in rows]}), tooltips


def bar_chart(figures: pd.DataFrame, currency: str, pipeline: pd.DataFrame | None = None) -> hv.Bars:
    """Invoiced per year as HoloViews bars (canvas, no toolbar), for analysts to compose with their own charts;
    with ``pipeline`` (year, weighted) the probability-weighted open pipeline by expected close year stands beside
    them. Labelled, and its amounts written, in the reader's language. (The card draws the same rows on a canvas of
    its own: :func:`chart_spec`.)"""
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


#: The card chart's height in CSS pixels, and about how many ticks its y axis has.
CHART_HEIGHT, CHART_TICKS = 240, 6


def nice_ticks(low: float, high: float, count: int = CHART_TICKS) -> list[float]:
    """Evenly spaced round values (steps of 1, 2, 2.5 or 5 times a power of ten), as near ``count`` of them as
    such steps give, from at or below ``low`` to at or above ``high``: an axis's ticks, its first and last its
    ends."""
    if not high > low:
        high = low + 1.0
    power = 10.0 ** math.floor(math.log10((high - low) / max(count - 1, 1)))

    def ticks(step: float) -> list[float]:
        first, last = math.floor(low / step + 1e-9), math.ceil(high / step - 1e-9)
        return [round(index * step, 10) for index in range(first, last + 1)]
    steps = [m * power for m in (0.5, 1.0, 2.0, 2.5, 5.0, 10.0, 20.0)]
    return min((ticks(step) for step in steps), key=lambda found: (abs(len(found) - count), -len(found)))


def chart_spec(figures: pd.DataFrame, currency: str, pipeline: pd.DataFrame | None = None,
               language: str | None = None) -> dict[str, Any]:
    """What the card's chart draws (:func:`chart_data`'s bars, by year and series): ``years`` (text); ``series``,
    each with its ``name``, ``colour``, ``amounts`` (one per year) and their ``texts`` as the table writes them;
    the y axis's ``ticks`` as (value, text in the reader's language), ``lo`` and ``hi`` its ends, ``currency`` its
    label; ``tip``, the hover's lines (label, field: year, series or amount); and the ``height``."""
    data, tooltips = chart_data(figures, currency, pipeline)
    years = sorted(set(data["year"]))
    # chart_data's rows go series by series, each over every year (in plain Python: a card makes this as it opens)
    by_series: dict[str, dict[str, Any]] = {}
    for year, name, amount, text, colour in zip(data["year"], data["series"], data["amount"], data["amount_text"],
                                               data["colour"], strict=True):
        one = by_series.setdefault(name, {"name": name, "colour": str(colour), "by_year": {}})
        one["by_year"][year] = (float(amount), str(text))
    series = [{"name": one["name"], "colour": one["colour"],
               "amounts": [one["by_year"][year][0] for year in years],
               "texts": [one["by_year"][year][1] for year in years]} for one in by_series.values()]
    amounts = [amount for one in series for amount in one["amounts"]]
    ticks = nice_ticks(min([0.0, *amounts]), max([0.0, *amounts]))
    whole = all(float(tick).is_integer() for tick in ticks)
    fields = {"@year": "year", "@series": "series", "@amount_text": "amount"}
    return {"years": years, "series": series, "currency": currency, "height": CHART_HEIGHT,
            "ticks": [(tick, formatting.number(tick, language=language) if whole
                       else formatting.figure(tick, language=language)) for tick in ticks],
            "lo": ticks[0], "hi": ticks[-1], "tip": [(label, fields[field]) for label, field in tooltips]}


def chart_html(spec: dict[str, Any], label: str, action: str = "invoiced-year") -> str:
    """The card's chart as HTML: a canvas the card's browser component draws from ``spec`` (:func:`chart_spec`),
    a picture named ``label`` to a screen reader, and the box its hover shows in. A click on a bar sends ``action``
    with the bar's year."""
    figures = json.dumps(spec, separators=(",", ":"))
    return (f'<div class="cc-invoiced-chart" role="img" aria-label="{esc(label)}"><canvas class="cc-chart" '
            f'width="0" height="0" data-action="{esc(action)}" data-chart="{esc(figures)}" '
            f'style="height:{int(spec["height"])}px"></canvas>'
            f'<div class="cc-chart-tip" role="presentation" hidden></div></div>')


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
    #: What the chart shows (:func:`chart_spec`), as last drawn; None without figures.
    chart: dict[str, Any] | None = None

    def figures(self) -> pd.DataFrame:
        frame = self.context.store.invoiced_per_year(self.context.customer.id)
        return yearly_figures(frame, dt.date.today().year)

    def markup(self) -> str:
        figures = self._figures
        self.chart = None
        if figures is None or figures.empty:
            return self.table_html(figures)
        spec = self.chart = chart_spec(figures, self.context.settings.base_currency, self._pipeline)
        # the chart, the chosen year's invoices under it (the section's child), and the table
        return (chart_html(spec, self.chart_label()) + '<div class="cc-child-slot"></div>'
                + self.table_html(figures))

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
        # a year only the pipeline has (an open opportunity's expected close, e.g. next year) has no invoicing to
        # compare: no change
        rows = [[self._year_button(year) if year in amounts else esc(year), money(amounts.get(year, 0.0)),
                 esc(year_change(amounts[year], amounts.get(year - 1)) if year in amounts else "")]
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
        """The chosen year's invoices, under the chart (None: no year chosen)."""
        return self.year_invoices.__panel__() if self.year_invoices is not None else None

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
        if self._figures is not None and not self._figures.empty:
            # the chart and the table as they are: only the list under the chart changes
            self._read_child = self.read_child()
            self.view.child = self._read_child
        else:
            self.render()
        return self.year_invoices

    def chart_label(self) -> str:
        """What a screen reader says for the chart (a picture): what it shows, and where its figures are."""
        pipeline = getattr(self, "_pipeline", None)
        if pipeline is not None and not pipeline.empty:
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
        super().render()
