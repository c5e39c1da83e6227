"""Small, light browser components shared by the views (plain DOM, no heavy widget models)."""

from __future__ import annotations

import param
from panel.custom import Child, JSComponent

from .html import SECTION_CSS

TABLE_CSS = """
:host { display: block; width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: 0.92em; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid #e3e8ee; vertical-align: top; }
th { background: #f5f7fa; font-weight: 600; white-space: nowrap; }
th button { all: unset; cursor: pointer; font-weight: 600; }
th button:focus-visible { outline: 2px solid #2f6fb3; }
th .arrow { color: #2f6fb3; margin-left: 4px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:hover td { background: #f8fafc; }
a { color: #1f5c99; text-decoration: none; } a:hover { text-decoration: underline; }
.empty { color: #6b7785; padding: 12px 10px; font-style: italic; }
"""


class DataTable(JSComponent):
    """A read-only table with links and server-side sorting: clicking a header sets ``sort``/``descending``.

    ``columns``: dicts with ``key``, ``label`` and optionally ``sortable`` (bool), ``link`` (key of the row
    field holding the URL), ``num`` (right-aligned). ``rows``: dicts of display texts. All text is inserted
    as text, never as HTML.
    """

    columns = param.List(default=[], doc="Column definitions: key, label, sortable, link, num.")
    rows = param.List(default=[], doc="The rows of the current page, as dicts of display texts.")
    sort = param.String(default="", doc="Key of the column sorted by.")
    descending = param.Boolean(default=False, doc="Whether the sort is descending.")
    empty_text = param.String(default="Nothing found.", doc="Shown when there are no rows.")

    _stylesheets = [TABLE_CSS]

    _esm = """
    export function render({ model, el }) {
      const table = document.createElement("table");
      function draw() {
        table.replaceChildren();
        const head = table.createTHead().insertRow();
        for (const col of model.columns) {
          const th = document.createElement("th");
          if (col.num) th.className = "num";
          if (col.sortable) {
            const b = document.createElement("button");
            b.textContent = col.label;
            b.dataset.key = col.key;
            b.title = "Sort by " + col.label;
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
        const body = table.createTBody();
        if (!model.rows.length) {
          const td = body.insertRow().insertCell();
          td.colSpan = model.columns.length; td.className = "empty"; td.textContent = model.empty_text;
        }
        for (const row of model.rows) {
          const tr = body.insertRow();
          for (const col of model.columns) {
            const td = tr.insertCell();
            if (col.num) td.className = "num";
            const text = row[col.key] == null ? "" : String(row[col.key]);
            if (col.link && row[col.link]) {
              const a = document.createElement("a");
              a.href = row[col.link]; a.textContent = text;
              td.appendChild(a);
            } else { td.textContent = text; }
          }
        }
      }
      draw();
      model.on(["rows", "columns", "sort", "descending", "empty_text"], draw);
      return table;
    }
    """


SECTION_VIEW_CSS = """
:host { display: block; width: 100%; margin: 6px 0; }
.cc-sv { background: #fff; border: 1px solid #dfe5ec; border-radius: 6px; overflow: hidden; }
.cc-sv-head { display: flex; align-items: center; gap: 8px; background: #f5f7fa; padding: 0 8px 0 0; }
.cc-sv-toggle { all: unset; flex: 1; cursor: pointer; padding: 9px 12px; font-weight: 600; font-size: 1.05em;
                color: #1d2733; }
.cc-sv-toggle:focus-visible { outline: 2px solid #2f6fb3; }
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


class SectionView(JSComponent):
    """One card section in the browser: a header that folds it, tool buttons, light HTML and one child slot.

    The HTML is made on the server with every user value escaped. Elements with ``data-action`` (buttons,
    links, checkboxes, selects) report to :meth:`on_action` callbacks as ``(action, data)``; the section
    decides what each action may do. ``child`` holds Panel content only while needed (an edit form, a chart).
    """

    title = param.String(default="", doc="The section's title.")
    key = param.String(default="", doc="The section's key, for styling and tests.")
    collapsed = param.Boolean(default=False, doc="Whether the section is folded away (set by the header).")
    html = param.String(default="", doc="The body as safe HTML made on the server.")
    tools = param.List(default=[], doc="Header buttons: dicts with action and label.")
    child = Child(allow_None=True, doc="Panel content shown in the body (edit form, chart).")
    child_first = param.Boolean(default=False, doc="Show the child before the HTML instead of after it.")

    _stylesheets = [SECTION_CSS, SECTION_VIEW_CSS]

    _esm = """
    export function render({ model, el }) {
      const box = document.createElement("section");
      const head = document.createElement("div");
      head.className = "cc-sv-head";
      const toggle = document.createElement("button");
      toggle.className = "cc-sv-toggle";
      const tools = document.createElement("span");
      tools.className = "cc-sv-tools";
      head.append(toggle, tools);
      const body = document.createElement("div");
      body.className = "cc-sv-body";
      const html = document.createElement("div");
      html.className = "cc-sv-html";
      box.append(head, body);
      toggle.addEventListener("click", () => { model.collapsed = !model.collapsed; });
      function send(target, value) {
        const data = {action: target.dataset.action, value: value};
        if (target.dataset.id !== undefined) data.id = target.dataset.id;
        model.send_msg(data);
      }
      box.addEventListener("click", (event) => {
        const target = event.target.closest("[data-action]");
        if (!target || target.tagName === "SELECT" || target.tagName === "INPUT") return;
        event.preventDefault();
        send(target, null);
      });
      box.addEventListener("change", (event) => {
        const target = event.target.closest("[data-action]");
        if (!target) return;
        send(target, target.type === "checkbox" ? target.checked : target.value);
      });
      function draw_head() {
        box.className = "cc-sv cc-section-" + model.key + (model.collapsed ? " collapsed" : "");
        toggle.setAttribute("aria-expanded", String(!model.collapsed));
        toggle.innerHTML = "";
        const chev = document.createElement("span");
        chev.className = "chev"; chev.textContent = model.collapsed ? "▸" : "▾";
        toggle.append(chev, document.createTextNode(model.title));
        tools.replaceChildren();
        if (!model.collapsed) {
          for (const tool of model.tools) {
            const b = document.createElement("button");
            b.dataset.action = tool.action; b.textContent = tool.label;
            b.className = "cc-tool-" + tool.action;
            tools.appendChild(b);
          }
        }
      }
      function draw_body() {
        html.innerHTML = model.html;
        const child = model.get_child("child");
        body.replaceChildren();
        if (child && model.child_first) body.appendChild(child);
        body.appendChild(html);
        if (child && !model.child_first) body.appendChild(child);
      }
      draw_head(); draw_body();
      model.on(["collapsed", "title", "tools", "key"], draw_head);
      model.on(["html", "child_first"], draw_body);  // a new child re-renders the whole component
      return box;
    }
    """

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._action_callbacks: list = []

    def on_action(self, callback) -> None:
        """Call ``callback(action, data)`` when an element with ``data-action`` is used."""
        self._action_callbacks.append(callback)

    def _handle_msg(self, data) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("action"), str):
            return
        for callback in self._action_callbacks:
            callback(data["action"], data)
