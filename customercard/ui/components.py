"""Small, light browser components shared by the views (plain DOM, no heavy widget models)."""

from __future__ import annotations

from typing import ClassVar

import param
from panel.reactive import ReactiveHTML
from panel.viewable import Viewable

from ..i18n import N_, _
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
    render = f"""
    const cc_render = {render_js};
    {children}
    state.handlers = {{}};
    // Panel sends text parameters through its HTML sanitizer (& as &amp;, tags dropped): give back the text.
    const text = (value) => {{
      if (typeof value !== "string" || !value.includes("&")) return value;
      const area = document.createElement("textarea");
      area.innerHTML = value;
      return area.value;
    }};
    const api = new Proxy({{}}, {{
      get(_target, key) {{
        if (key === "on") {{
          return (names, callback) => {{
            for (const name of [].concat(names)) (state.handlers[name] = state.handlers[name] || []).push(callback);
          }};
        }}
        if (key === "send_msg") {{
          return (msg) => ccroot.dispatchEvent(new CustomEvent("ccmsg", {{detail: msg}}));
        }}
        if (key === "get_child") return () => kids;
        return text(data[key]);
      }},
      set(_target, key, value) {{ data[key] = value; return true; }},
    }});
    const out = cc_render({{model: api, el: ccroot}});
    if (out instanceof Element) ccroot.replaceChildren(out);
    """
    scripts = {"render": render}
    for name in watched:
        scripts[name] = f"for (const callback of (state.handlers['{name}'] || [])) callback();"
    return scripts


class LightComponent(ReactiveHTML):
    """A small browser component: plain DOM drawn by a render script (see :func:`light_scripts`); messages from the
    browser arrive in :meth:`_handle_msg`, one by one (as DOM events: a property would keep only the last of
    several sent close together)."""

    _template = '<div id="ccroot" style="display: contents"></div>'
    _dom_events = {"ccroot": ["ccmsg"]}

    # What the browser may assign (``model.x = ...``): Panel only listens for the properties its script parser
    # finds assigned as ``data.x = ...``, and the render script assigns through a proxy.
    _synced: ClassVar[tuple[str, ...]] = ()

    @property
    def _linked_properties(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*super()._linked_properties, *self._synced)))

    def _update_model(self, events, msg, root, model, doc, comm) -> None:  # noqa: ANN001 - Panel's signature
        # Panel takes an empty list for a list of param objects (all() of nothing is true) and then fails on the
        # old value when that held dicts (TypeError: unhashable type: 'dict'): a list of hits or rows that became
        # empty never reached the browser, which went on showing the old ones. Empty lists are set directly.
        empty = {prop: value for prop, value in msg.items()
                 if isinstance(value, list) and not value and prop in model.data.properties()}
        super()._update_model(events, {p: v for p, v in msg.items() if p not in empty}, root, model, doc, comm)
        if empty:
            self._set_on_model(empty, root, model.data)

    def _ccroot_ccmsg(self, event) -> None:
        self.receive(event.data.get("detail"))

    def receive(self, message: object) -> None:
        """Act on ``message`` as when the browser sends it (a click, a fold, a check box: the ``detail`` of its
        ``ccmsg`` event); anything but a dict is ignored, as it is from the browser. For notebooks and tests."""
        if isinstance(message, dict):
            self._handle_msg(message)

    def _handle_msg(self, data: dict) -> None:
        """What a message from the browser does (none by default)."""

TABLE_CSS = """
:host { display: block; width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; white-space: nowrap; }
th button { all: unset; cursor: pointer; font-weight: 600; min-height: 24px; }
th button:focus-visible, td button:focus-visible, a:focus-visible { outline: 2px solid #2f6fb3; outline-offset: 2px; }
td button { all: unset; cursor: pointer; color: #1f5c99; min-height: 24px; }
td button:hover { text-decoration: underline; }
th.group { background: #e9eef4; color: #1d2733; text-align: left; }
caption { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0, 0, 0, 0);
          white-space: nowrap; }
th .arrow { color: #2f6fb3; margin-left: 4px; }
th.cc-select, td:has(> input[type=checkbox]) { width: 1.6em; }
input[type=checkbox] { width: 18px; height: 18px; margin: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:hover td { background: #f8fafc; }
a { color: #1f5c99; text-decoration: none; } a:hover { text-decoration: underline; }
.empty { color: #596573; padding: 12px 10px; font-style: italic; }
"""


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

    _stylesheets = [TABLE_CSS]
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

    _scripts = light_scripts("""
    function render({ model, el }) {
      const table = document.createElement("table");
      function draw() {
        table.replaceChildren();
        if (model.caption) table.createCaption().textContent = model.caption;
        const head = table.createTHead().insertRow();
        const picked = new Set(model.selectable ? model.selected : []);
        const ids = model.rows.filter((row) => row._id !== undefined).map((row) => row._id);
        function box(label, checked, ids_) {
          const input = document.createElement("input");
          input.type = "checkbox"; input.checked = checked; input.setAttribute("aria-label", label);
          input.addEventListener("change", () => model.send_msg({select: ids_, on: input.checked}));
          return input;
        }
        if (model.selectable) {
          const th = document.createElement("th");
          th.className = "cc-select";
          const all = box(model.select_page_label, ids.length > 0 && ids.every((i) => picked.has(i)), ids);
          all.className = "cc-select-page";
          th.appendChild(all);
          head.appendChild(th);
        }
        for (const col of model.columns) {
          const th = document.createElement("th");
          th.scope = "col";
          if (col.num) th.className = "num";
          if (col.sortable) {
            const b = document.createElement("button");
            b.textContent = col.label;
            b.dataset.key = col.key;
            b.title = model.sort_label.replace("{label}", col.label);
            b.addEventListener("click", () => {
              if (model.sort === col.key) { model.descending = !model.descending; }
              else { model.descending = false; model.sort = col.key; }
            });
            th.appendChild(b);
            if (model.sort === col.key) {
              const s = document.createElement("span");
              s.className = "arrow"; s.textContent = model.descending ? "▼" : "▲";
              th.appendChild(s);
              th.setAttribute("aria-sort", model.descending ? "descending" : "ascending");
            }
          } else { th.textContent = col.label; }
          head.appendChild(th);
        }
        let body = null;
        if (!model.rows.length) {
          const td = table.createTBody().insertRow().insertCell();
          td.colSpan = model.columns.length + (model.selectable ? 1 : 0); td.className = "empty";
          td.textContent = model.empty_text;
        }
        for (const row of model.rows) {
          if (row._group !== undefined) {  // a group: its own row group, named by a header cell
            body = table.createTBody();
            const th = document.createElement("th");
            th.scope = "rowgroup"; th.colSpan = model.columns.length; th.className = "group";
            th.textContent = row._group;
            body.insertRow().appendChild(th);
            continue;
          }
          if (body === null) body = table.createTBody();
          const tr = body.insertRow();
          if (model.selectable) {
            const name = row.name || model.columns.map((col) => row[col.key]).find((v) => v) || String(row._id);
            const check = box(model.select_label.replace("{name}", name), picked.has(row._id), [row._id]);
            check.className = "cc-select-row";
            tr.insertCell().appendChild(check);
          }
          for (const col of model.columns) {
            const td = tr.insertCell();
            td.className = (col.num ? "num " : "") + "cc-col-" + col.key;
            const text = row[col.key] == null ? "" : String(row[col.key]);
            if (col.link && row[col.link]) {
              const a = document.createElement("a");
              a.href = row[col.link]; a.textContent = text;
              td.appendChild(a);
            } else if (col.action && text) {
              const b = document.createElement("button");
              b.className = "cc-row-" + col.action; b.textContent = text;
              b.addEventListener("click", () => model.send_msg({action: col.action, id: row._id}));
              td.appendChild(b);
            } else { td.textContent = text; }
          }
        }
      }
      draw();
      model.on(["rows", "columns", "sort", "descending", "empty_text", "caption", "selected", "selectable"], draw);
      return table;
    }
    """, ["rows", "columns", "sort", "descending", "empty_text", "caption", "selected", "selectable"])


SECTION_VIEW_CSS = """
:host { display: block; width: 100%; }
.cc-section { margin: 6px 0; }
.cc-sv { background: #fff; border: 1px solid #dfe5ec; border-radius: 6px; overflow: hidden; }
.cc-sv-head { display: flex; align-items: center; gap: 8px; background: #f5f7fa; padding: 0 8px 0 0; }
.cc-sv-title { flex: 1; margin: 0; font-size: 1.05em; font-weight: 600; }
.cc-sv-toggle { all: unset; box-sizing: border-box; display: block; width: 100%; cursor: pointer; padding: 9px 12px;
                color: #1d2733; }
.cc-sv-toggle:focus-visible { outline: 2px solid #2f6fb3; outline-offset: -2px; }
.cc-sv-body [data-cc-focus]:focus { outline: 2px solid #2f6fb3; outline-offset: 2px; }
button.cc-act:focus-visible, .cc-sv-tools button:focus-visible, button.cc-link:focus-visible,
.cc-sv-body a:focus-visible, .cc-sv-body select:focus-visible, .cc-sv-body input:focus-visible {
  outline: 2px solid #2f6fb3; outline-offset: 2px; }
.cc-sv-toggle .chev { display: inline-block; width: 1.1em; color: #5b6b7d; transition: transform .1s; }
.cc-sv-body { padding: 8px 14px 10px; }
.cc-sv.collapsed .cc-sv-body { display: none; }
button.cc-act, .cc-sv-tools button { border: 1px solid #c8d1dc; background: #fff; border-radius: 4px;
  padding: 3px 12px; cursor: pointer; font: inherit; font-size: 0.9em; color: #1d2733; }
button.cc-act:hover, .cc-sv-tools button:hover { background: #eef3f8; }
button.cc-act.primary { background: #2f6fb3; border-color: #2f6fb3; color: #fff; }
button.cc-link { all: unset; color: #1f5c99; cursor: pointer; }
button.cc-link:hover { text-decoration: underline; }
"""


class SectionSlot(param.Parameterized):
    """One card section's state, drawn by the :class:`CardView` that holds it.

    The HTML is made on the server with every user value escaped. Elements with ``data-action`` (buttons,
    links, checkboxes, selects) report to :meth:`on_action` callbacks as ``(action, data)``; the section
    decides what each action may do. ``child`` holds Panel content only while needed (an edit form, a chart).
    """

    title = param.String(default="", doc="The section's title.")
    key = param.String(default="", doc="The section's key, for styling and tests.")
    collapsed = param.Boolean(default=False, doc="Whether the section is folded away (set by the header).")
    html = param.String(default="", doc="The body as safe HTML made on the server.")
    tools = param.List(default=[], doc="Header buttons: dicts with action and label.")
    child = param.ClassSelector(class_=Viewable, default=None, allow_None=True,
                                doc="Panel content shown in the body (edit form, chart).")
    child_first = param.Boolean(default=False, doc="Show the child before the HTML instead of after it.")
    child_label = param.String(default="", doc="The child is a picture (a chart) with this name for screen "
                                               "readers (its figures are in the section's HTML too).")

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
                "tools": list(self.tools), "child": child_index, "child_first": self.child_first,
                "child_label": self.child_label if child_index >= 0 else ""}


class CardView(LightComponent):
    """The sections of a card as one browser component: a header per section that folds it, tool buttons,
    light HTML and, where a section needs one, a Panel child (an edit form, a chart).

    One component instead of one per section: every Bokeh model costs time on the server and in the
    browser, and a card has a dozen sections.
    """

    sections = param.List(default=[], doc="What each section shows (from its SectionSlot), in order.")
    objects = param.List(default=[], item_type=Viewable,
                         doc="The Panel children of the sections that have one (an edit form, a chart).")

    _stylesheets = [SECTION_CSS, SECTION_VIEW_CSS]

    # The children are rendered into ccpool by the template; render() moves each into its section's body.
    _template = ('<div id="ccroot" style="display: contents"></div><div id="ccpool" style="display: contents">'
                 '{% for object in objects %}<div id="ccobject">${object}</div>{% endfor %}</div>')

    _scripts = light_scripts("""
    function render({ model, el }) {
      const root = document.createElement("div");
      root.className = "cc-sections";
      const drawn = new Map();  // key -> {wrap, box, toggle, tools, body, html, sig, child}
      function entry_of(key) { return model.sections.find((e) => e.key === key); }
      function send(key, target, value) {
        const msg = {section: key, action: target.dataset.action, value: value};
        if (target.dataset.id !== undefined) msg.id = target.dataset.id;
        if (target.dataset.version !== undefined) msg.version = target.dataset.version;
        model.send_msg(msg);
      }
      function key_of(node) {
        const box = node.closest("[data-section]");
        return box ? box.dataset.section : null;
      }
      function head(part, entry) {
        part.box.className = "cc-sv" + (entry.collapsed ? " collapsed" : "");
        part.toggle.setAttribute("aria-expanded", String(!entry.collapsed));
        const chev = document.createElement("span");
        chev.className = "chev"; chev.textContent = entry.collapsed ? "\u25b8" : "\u25be";
        chev.setAttribute("aria-hidden", "true");
        const name = document.createElement("span");
        name.className = "cc-sv-name"; name.id = "cc-name-" + entry.key; name.textContent = entry.title;
        part.toggle.replaceChildren(chev, name);
        // a tool drawn again keeps the focus it had (a keyboard user who went on to it is not sent to the page)
        const active = part.tools.getRootNode().activeElement;
        const had = active && part.tools.contains(active) ? active.dataset.action : null;
        part.tools.replaceChildren();
        if (!entry.collapsed) {
          for (const tool of entry.tools) {
            const b = document.createElement("button");
            b.dataset.action = tool.action; b.textContent = tool.label;
            b.className = "cc-tool-" + tool.action;
            b.setAttribute("aria-describedby", name.id);  // "Edit", said with the section it edits
            part.tools.appendChild(b);
            if (tool.action === had) b.focus();
          }
        }
        part.sig = JSON.stringify([entry.title, entry.collapsed, entry.tools]);
      }
      root.addEventListener("click", (event) => {
        const toggle = event.target.closest(".cc-sv-toggle");
        if (toggle) {
          const key = key_of(toggle);
          const part = drawn.get(key);
          const entry = entry_of(key);
          if (!part || !entry) return;
          const collapsed = !part.box.classList.contains("collapsed");
          head(part, {...entry, collapsed: collapsed});  // at once; the server confirms
          part.want = collapsed;  // until it does, what it sent before (a fold undone since) is not drawn again
          model.send_msg({section: key, toggle: collapsed});
          return;
        }
        const target = event.target.closest("[data-action]");
        if (!target || target.tagName === "SELECT" || target.tagName === "INPUT") return;
        const key = key_of(target);
        if (key === null) return;
        event.preventDefault();
        send(key, target, null);
      });
      root.addEventListener("change", (event) => {
        const target = event.target.closest("[data-action]");
        if (!target) return;
        const key = key_of(target);
        if (key === null) return;
        send(key, target, target.type === "checkbox" ? target.checked : target.value);
      });
      function child_el(index) {
        if (index < 0) return null;
        const kids = model.get_child();
        return (kids && kids[index]) || null;
      }
      function place(part, entry) {
        const child = child_el(entry.child);
        if (child && entry.child_label) {  // a picture (a chart): its name, and the table that says the same
          child.setAttribute("role", "img");
          child.setAttribute("aria-label", entry.child_label);
        } else if (child) { child.removeAttribute("role"); child.removeAttribute("aria-label"); }
        if (child === part.child && part.body.firstChild !== null) return;
        part.child = child;
        part.body.replaceChildren();
        if (child && entry.child_first) part.body.appendChild(child);
        part.body.appendChild(part.html);
        if (child && !entry.child_first) part.body.appendChild(child);
      }
      function make(entry) {
        const wrap = document.createElement("div");
        wrap.className = "cc-section cc-section-" + entry.key;
        wrap.dataset.section = entry.key;
        const box = document.createElement("section");
        box.setAttribute("aria-labelledby", "cc-name-" + entry.key);
        const bar = document.createElement("div");
        bar.className = "cc-sv-head";
        const title = document.createElement("h2");
        title.className = "cc-sv-title";
        const toggle = document.createElement("button");
        toggle.className = "cc-sv-toggle";
        toggle.setAttribute("aria-controls", "cc-body-" + entry.key);  // a disclosure button: what it folds
        title.appendChild(toggle);
        const tools = document.createElement("span");
        tools.className = "cc-sv-tools";
        bar.append(title, tools);
        const body = document.createElement("div");
        body.className = "cc-sv-body"; body.id = "cc-body-" + entry.key;
        const html = document.createElement("div");
        html.className = "cc-sv-html";
        box.append(bar, body);
        wrap.appendChild(box);
        return {wrap, box, toggle, tools, body, html, sig: null, html_text: null, child: undefined};
      }
      function draw() {
        const order = [];
        for (const entry of model.sections) {
          let part = drawn.get(entry.key);
          if (!part) { part = make(entry); drawn.set(entry.key, part); }
          const sig = JSON.stringify([entry.title, entry.collapsed, entry.tools]);
          const stale = part.want !== undefined && entry.collapsed !== part.want;
          if (!stale) part.want = undefined;
          if (!stale && sig !== part.sig) head(part, entry);  // (not again when the server confirms a fold)
          if (entry.html !== part.html_text) { part.html.innerHTML = entry.html; part.html_text = entry.html; }
          if (entry.child_first !== part.child_first) { part.child_first = entry.child_first; part.child = undefined; }
          place(part, entry);
          order.push(part.wrap);
        }
        for (const key of [...drawn.keys()]) {
          if (!model.sections.some((e) => e.key === key)) drawn.delete(key);
        }
        const current = [...root.children];
        if (current.length !== order.length || current.some((node, i) => node !== order[i])) {
          root.replaceChildren(...order);
        }
      }
      // A new child (a form opened or closed) draws the whole component again: keep the focus where it was.
      root.addEventListener("focusin", (event) => {
        const key = key_of(event.target);
        const target = event.target.closest("[data-action], .cc-sv-toggle");
        if (key !== null && target) {
          state.focus = {key: key, action: target.dataset.action || null};
        }
      });
      draw();
      model.on("sections", draw);
      const was = state.focus;
      setTimeout(() => {  // once this draw is in the page; only when the focus was lost with the old one
        const part = was && drawn.get(was.key);
        if (!part || (document.activeElement !== null && document.activeElement !== document.body)) return;
        const again = was.action === null ? part.toggle
          : part.box.querySelector('[data-action="' + CSS.escape(was.action) + '"]');
        if (again) again.focus();
      }, 0);
      return root;
    }
    """, ["sections"], pool=True)

    def __init__(self, slots: list[SectionSlot] | None = None, **params) -> None:
        super().__init__(**params)
        self._slots: list[SectionSlot] = []
        for slot in slots or []:
            self.add(slot)

    @property
    def slots(self) -> list[SectionSlot]:
        return list(self._slots)

    def add(self, slot: SectionSlot) -> None:
        """Show one more section (at the end)."""
        self._slots.append(slot)
        slot.param.watch(self._sync, ["title", "collapsed", "html", "tools", "child", "child_first", "child_label"])
        self._sync()

    def _sync(self, *_events) -> None:
        children: list = []
        entries = []
        for slot in self._slots:
            index = -1
            if slot.child is not None:
                index = len(children)
                children.append(slot.child)
            entries.append(slot.entry(index))
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
