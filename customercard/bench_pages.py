"""Pages only the benchmarks ask for (``customercard serve --bench``): the floor a card is measured against, and
the Invoiced chart alone (see ``benchmarks/browser.py``). Like the app's pages, functions of the server."""

from __future__ import annotations

import datetime as dt
import html

import panel as pn
from panel.viewable import ServableMixin

from .i18n import _
from .page_kit import login_required, query_int
from .server import CardServer, Page


def bare_page(server: CardServer) -> ServableMixin:  # noqa: ARG001 - a page, called with its server
    """The benchmark's floor: one Markdown pane and one text input, no template."""
    return pn.Column(pn.pane.Markdown("# customercard"), pn.widgets.TextInput(placeholder="Type here"))


def echo_page(server: CardServer) -> ServableMixin:  # noqa: ARG001 - a page, called with its server
    """The round trip Panel itself costs: a text input whose every keystroke the server echoes into a pane (the
    baseline the interaction benchmarks are measured against)."""
    box = pn.widgets.TextInput(placeholder="Type here", css_classes=["cc-echo-input"])
    echo = pn.pane.HTML("", css_classes=["cc-echo"])

    def show(event) -> None:
        echo.object = f'<span class="cc-echoed" data-value="{html.escape(event.new, quote=True)}"></span>'
    box.param.watch(show, "value_input")
    return pn.Column(box, echo)


def chart_page(server: CardServer) -> ServableMixin:
    """A customer's Invoiced chart alone, as the only section of the card's browser component
    (:class:`~customercard.ui.components.CardView`, which draws it): what the chart costs a page. (The chart is
    drawn by that component, so ``/bench-chart-view``, once the chart as a Bokeh plot in a plain column beside it in
    a card view, is the same page.)"""
    from .ui.components import CardView, SectionSlot
    from .ui.sections.invoiced import chart_html, chart_spec, yearly_figures

    if server.session_user() is None:
        return login_required()
    store, customer_id = server.current_store(), query_int("customer") or 0
    figures = yearly_figures(store.invoiced_per_year(customer_id), dt.date.today().year)
    spec = chart_spec(figures, store.settings().base_currency, store.pipeline_per_year(customer_id))
    slot = SectionSlot(key="invoiced", title=_("Invoiced"), html=chart_html(spec, _("Invoiced")))
    return CardView(slots=[slot], sizing_mode="stretch_width")


BENCH_ROUTES: dict[str, Page] = {"/bench-bare": bare_page, "/bench-echo": echo_page, "/bench-chart": chart_page,
                                 "/bench-chart-view": chart_page}
