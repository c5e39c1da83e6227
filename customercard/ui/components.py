"""Small, light browser components shared by the views (plain DOM, no heavy widget models)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, ClassVar

import param
from panel.layout import Column
from panel.reactive import ReactiveHTML
from panel.viewable import Viewable

from ..i18n import N_, _
from . import assets
from .html import SECTION_CSS


def light_scripts(render_js: str, watched: list[str], pool: bool = False) -> dict[str, str]:
    """ReactiveHTML scripts that run ``render_js`` — a ``function render({model, el})`` written against a small
    model API (read and assign properties, ``model.on(names, callback)``, ``model.send_msg(data)``,
    ``model.get_child()``) — in the component's root element, and call its callbacks when ``watched``
    properties change.

    Why not Panel's ``JSComponent``: its module is compiled (sucrase) and imported (``importShim``) in every page
    before it renders, and it renders asynchronously, mounting its children afterwards and laying them out
    again; measured, that added 30–60 ms per component to a page becoming ready. ReactiveHTML ships compiled in
    Panel's bundle and renders (children too) in one synchronous pass.

    ``pool``: the component has Panel children, rendered by the template into ``ccpool``; ``get_child()``
    returns their elements, in order, for ``render_js`` to place.
    """
    children = "const kids = [...ccpool.children];" if pool else "const kids = [];"
    # the frame first, the component's script last: nothing in the script is taken for a placeholder
    render = assets.text("light.js").replace("__CC_KIDS__", children).replace("__CC_RENDER__", render_js)
    scripts = {"render": render}
    for name in watched:
        scripts[name] = f"for (const callback of (state.handlers['{name}'] || [])) callback();"
    return scripts


class LightComponent(ReactiveHTML):
    """A small browser component: plain DOM drawn by a render script (see :func:`light_scripts`); messages from the
    browser arrive in :meth:`_handle_msg`, one by one (as DOM events: a property would keep only the last of
    several sent close together)."""

    _template = '<div id="ccroot" style="display: contents"></div>'
    _dom_events: ClassVar[dict[str, list[str]]] = {"ccroot": ["ccmsg"]}

    # What the browser may assign (``model.x = ...``): Panel only listens for the properties its script parser
    # finds assigned as ``data.x = ...``, and the render script assigns through a proxy.
    _synced: ClassVar[tuple[str, ...]] = ()

    @property
    def _linked_properties(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*super()._linked_properties, *self._synced)))

    def _update_model(self, events, msg, root, model, doc, comm) -> None:  # Panel's signature
        # Panel takes an empty list for a list of param objects (all() of nothing is true) and then fails on the
        # old value when that held dicts (TypeError: unhashable type: 'dict'): a list of hits or rows that became
        # empty never reached the browser, which went on showing the old ones. Empty lists are set directly — first:
        # set after the rest, the browser drew the new query beside the old hits a moment, and an Enter pressed then
        # opened the card of an earlier text's first hit.
        empty = {prop: value for prop, value in msg.items()
                 if isinstance(value, list) and not value and prop in model.data.properties()}
        if empty:
            self._set_on_model(empty, root, model.data)
        super()._update_model(events, {p: v for p, v in msg.items() if p not in empty}, root, model, doc, comm)

    def _ccroot_ccmsg(self, event) -> None:
        self.receive(event.data.get("detail"))

    def receive(self, message: object) -> None:
        """Act on ``message`` as when the browser sends it (a click, a fold, a check box: the ``detail`` of its
        ``ccmsg`` event); anything but a dict is ignored, as it is from the browser. For notebooks and tests."""
        if isinstance(message, dict):
            self._handle_msg(message)

    def _handle_msg(self, data: dict) -> None:
        """What a message from the browser does (none by default)."""

TABLE_CSS = assets.text("table.css")


class DataTable(LightComponent):
    """A read-only table with links and server-side sorting: clicking a header sets ``sort``/``descending``.

    ``columns``: dicts with ``key``, ``label`` and optionally ``sortable`` (bool), ``link`` (key of the row
    field holding the URL), ``action`` (the cell is a button that reports ``(action, {"id": row["_id"]})`` to
    :meth:`on_action` callbacks), ``num`` (right-aligned). ``rows``: dicts of display texts; a row with a
    ``_group`` key starts a group of rows under that heading. All text is inserted as text, never as HTML.
    """

    columns = param.List(default=[], doc="Column definitions: key, label, sortable, link, action, num.")
    rows = param.List(default=[], doc="The rows of the current page, as dicts of display texts.")
    sort = param.String(default="", doc="Key of the column sorted by.")
    descending = param.Boolean(default=False, doc="Whether the sort is descending.")
    empty_text = param.String(default=N_("Nothing found."), doc="Shown when there are no rows.")
    sort_label = param.String(default=N_("Sort by {label}"), doc="A sortable header's tooltip ({label}: its label).")
    caption = param.String(default="", doc="What the table holds, said by screen readers (not shown).")
    selectable = param.Boolean(default=False, doc="Rows have a check box (and the header one for the whole page).")
    selected = param.List(default=[], doc="The ``_id`` of each row checked (rows of other pages too).")
    select_label = param.String(default=N_("Select {name}"), doc="A row's check box label ({name}: its first text).")
    select_page_label = param.String(default=N_("Select every row on this page"), doc="The header check box label.")

    _stylesheets: ClassVar[list[str]] = [TABLE_CSS]
    _synced = ("sort", "descending")

    def __init__(self, **params) -> None:
        for name in ("empty_text", "sort_label", "select_label", "select_page_label"):  # in the reader's language
            params.setdefault(name, _(type(self).param[name].default))
        super().__init__(**params)
        self._action_callbacks: list = []

    def on_action(self, callback) -> None:
        """Call ``callback(action, data)`` when a button in a cell is used."""
        self._action_callbacks.append(callback)

    def _handle_msg(self, data: dict) -> None:
        if self.selectable and isinstance(data.get("select"), list):
            chosen = [i for i in data["select"] if isinstance(i, int) and not isinstance(i, bool)]
            kept = [i for i in self.selected if i not in chosen]
            self.selected = kept + chosen if data.get("on") else kept
            return
        if isinstance(data.get("action"), str) and any(c.get("action") == data["action"] for c in self.columns):
            for callback in self._action_callbacks:
                callback(data["action"], data)

    _scripts = light_scripts(assets.text("table.js"), ["rows", "columns", "sort", "descending", "empty_text", "caption",
                                                       "selected", "selectable"])


SECTION_VIEW_CSS = assets.text("card_view.css")
#: The card view's render script, with the drawing of a section's bar chart (bar_chart.js) in its scope.
CARD_VIEW_JS = assets.text("card_view.js").replace("// __CC_BAR_CHART__", assets.text("bar_chart.js"))


class SectionSlot(param.Parameterized):
    """One card section's state, drawn by the :class:`CardView` that holds it.

    The HTML is made on the server with every user value escaped. Elements with ``data-action`` (buttons,
    links, checkboxes, selects) report to :meth:`on_action` callbacks as ``(action, data)``; the section
    decides what each action may do. ``child`` holds Panel content only while needed (an edit form, a list); the
    HTML may say where it goes (an element with class ``cc-child-slot``), else it goes before or after the HTML.
    """

    title = param.String(default="", doc="The section's title.")
    key = param.String(default="", doc="The section's key, for styling and tests.")
    collapsed = param.Boolean(default=False, doc="Whether the section is folded away (set by the header).")
    html = param.String(default="", doc="The body as safe HTML made on the server.")
    tools = param.List(default=[], doc="Header buttons: dicts with action and label.")
    child = param.ClassSelector(class_=Viewable, default=None, allow_None=True,
                                doc="Panel content shown in the body (edit form, list).")
    child_first = param.Boolean(default=False, doc="Show the child before the HTML instead of after it.")
    held = param.Boolean(default=False, constant=True,
                         doc="The card holds a place for this section's children once it has shown one (forms come "
                             "and go in it): a child coming or going is then drawn there alone (a new child of the "
                             "card makes the browser draw the whole card again, and a key pressed meanwhile is lost). "
                             "Not from the start: an empty place costs a card's open 3–4 ms.")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._action_callbacks: list = []

    def on_action(self, callback) -> None:
        """Call ``callback(action, data)`` when an element with ``data-action`` is used."""
        self._action_callbacks.append(callback)

    def dispatch(self, action: str, data: dict) -> None:
        for callback in self._action_callbacks:
            callback(action, data)

    def entry(self, child_index: int) -> dict:
        """What the browser draws for this section (``child``: index in the view's children, or -1)."""
        return {"key": self.key, "title": self.title, "collapsed": self.collapsed, "html": self.html,
                "tools": list(self.tools), "child": child_index, "child_first": self.child_first}


class CardView(LightComponent):
    """The sections of a card as one browser component: a header per section that folds it, tool buttons,
    light HTML and, where a section needs one, a Panel child (an edit form, a list).

    One component instead of one per section: every Bokeh model costs time on the server and in the
    browser, and a card has a dozen sections.
    """

    sections = param.List(default=[], doc="What each section shows (from its SectionSlot), in order.")
    objects = param.List(default=[], item_type=Viewable,
                         doc="The Panel children of the sections that have one (an edit form, a list).")

    _stylesheets: ClassVar[list[str]] = [SECTION_CSS, SECTION_VIEW_CSS]

    # The children are rendered into ccpool by the template; render() moves each into its section's body.
    _template = ('<div id="ccroot" style="display: contents"></div><div id="ccpool" style="display: contents">'
                 '{% for object in objects %}<div id="ccobject">${object}</div>{% endfor %}</div>')

    _scripts = light_scripts(CARD_VIEW_JS, ["sections"], pool=True)

    def __init__(self, slots: list[SectionSlot] | None = None, **params) -> None:
        super().__init__(**params)
        self._slots: list[SectionSlot] = []
        self._watchers: dict[int, Any] = {}
        #: The places held for slots' children (see SectionSlot.held), by slot; and those of slots taken off since,
        #: emptied, kept among the children until the browser draws the whole card again for another reason.
        self._places: dict[int, Column] = {}
        self._spare: list[Column] = []
        self._held = 0
        with self.holding():
            for slot in slots or []:
                self.add(slot)

    @property
    def slots(self) -> list[SectionSlot]:
        return list(self._slots)

    def add(self, slot: SectionSlot) -> None:
        """Show one more section (at the end)."""
        self._slots.append(slot)
        self._watchers[id(slot)] = slot.param.watch(self._sync, ["title", "collapsed", "html", "tools", "child",
                                                                  "child_first"])
        self._sync()

    def show(self, slots: list[SectionSlot]) -> None:
        """Show these sections, in this order (an administrator switched a module on or off): those shown already
        stay as they are, in one update of the browser."""
        with self.holding():
            kept = {id(slot) for slot in slots}
            for slot in self._slots:
                if id(slot) not in kept:
                    slot.param.unwatch(self._watchers.pop(id(slot)))
                    if id(slot) in self._places:
                        self._spare.append(self._places.pop(id(slot)))
            had = {id(slot) for slot in self._slots}
            self._slots = []
            for slot in slots:
                if id(slot) in had:
                    self._slots.append(slot)
                else:
                    self.add(slot)

    @contextlib.contextmanager
    def holding(self) -> Iterator[None]:
        """Within this, the sections' changes are gathered and drawn once, at the end (one update of the browser's
        sections, not one per section that changed)."""
        self._held += 1
        try:
            yield
        finally:
            self._held -= 1
            if not self._held:
                self._sync()

    @staticmethod
    def _place() -> Column:
        return Column(sizing_mode="stretch_width", margin=0, css_classes=["cc-child-place"])

    @staticmethod
    def _fill(place: Column, child: Viewable | None) -> None:
        wanted = [] if child is None else [child]
        if len(place.objects) != len(wanted) or any(a is not b for a, b in zip(place.objects, wanted, strict=False)):
            place.objects = wanted

    def _sync(self, *_events) -> None:
        if self._held:
            return
        shown: list[Viewable | None] = []  # what each slot shows as its child: its place, its child, or nothing
        for slot in self._slots:
            place = self._places.get(id(slot))
            if place is None and slot.held and slot.child is not None:
                place = self._places[id(slot)] = self._place()
            if place is not None:
                self._fill(place, slot.child)
            shown.append(place if place is not None else slot.child)
        # the children the browser has stay as they are while they hold everything shown (a new child, or one gone,
        # makes the browser draw the whole card again): the places of sections taken off stay, emptied
        children = list(self.objects)
        have = {id(child) for child in children}
        needed = {id(child) for child in shown if child is not None}
        spare = [child for child in children if id(child) not in needed]
        if not needed <= have or any(not any(child is place for place in self._spare) for child in spare):
            children = [child for child in shown if child is not None]
            self._spare = []
        for place in self._spare:
            self._fill(place, None)
        index = {id(child): i for i, child in enumerate(children)}
        entries = [slot.entry(-1 if child is None else index[id(child)]) for slot, child in zip(self._slots, shown,
                                                                                                 strict=True)]
        update: dict = {}
        if len(children) != len(self.objects) or any(a is not b for a, b in zip(children, self.objects,
                                                                                    strict=False)):
            update["objects"] = children
        if entries != self.sections:
            update["sections"] = entries
        if update:
            self.param.update(**update)

    def _handle_msg(self, data) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("section"), str):
            return
        slot = next((s for s in self._slots if s.key == data["section"]), None)
        if slot is None:
            return
        if "toggle" in data:
            slot.collapsed = bool(data["toggle"])
            self._sync()  # the browser folded it already; confirm even when nothing changed here
        elif isinstance(data.get("action"), str):
            slot.dispatch(data["action"], data)
