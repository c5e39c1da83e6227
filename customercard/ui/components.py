"""Small, light browser components shared by the views (plain DOM, no heavy widget models)."""

from __future__ import annotations

import param
from panel.custom import JSComponent

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
button.action { border: 1px solid #c8d1dc; background: #fff; border-radius: 4px; padding: 1px 8px; cursor: pointer;
                font-size: 0.9em; }
button.action:hover { background: #eef3f8; }
"""


class DataTable(JSComponent):
    """A read-only table with links and server-side sorting: clicking a header sets ``sort``/``descending``.

    ``columns``: dicts with ``key``, ``label`` and optionally ``sortable`` (bool), ``link`` (key of the row
    field holding the URL), ``num`` (right-aligned), ``action`` (a button: clicking it calls the callbacks
    given to :meth:`on_action` with the action and the row's ``id``). ``rows``: dicts of display texts.
    All text is inserted as text, never as HTML.
    """

    columns = param.List(default=[], doc="Column definitions: key, label, sortable, link, num.")
    rows = param.List(default=[], doc="The rows of the current page, as dicts of display texts.")
    sort = param.String(default="", doc="Key of the column sorted by.")
    descending = param.Boolean(default=False, doc="Whether the sort is descending.")
    empty_text = param.String(default="Nothing found.", doc="Shown when there are no rows.")

    _stylesheets = [TABLE_CSS]

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._action_callbacks: list = []

    def on_action(self, callback) -> None:
        """Call ``callback(action, row_id)`` when a row's action button is clicked."""
        self._action_callbacks.append(callback)

    def _handle_msg(self, data) -> None:
        if not isinstance(data, dict) or "action" not in data:
            return
        known = {col.get("action") for col in self.columns if col.get("action")}
        row_ids = {row.get("id") for row in self.rows}
        if data["action"] not in known or data.get("id") not in row_ids:
            return  # only actions and rows this table offers
        for callback in self._action_callbacks:
            callback(data["action"], data["id"])

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
            if (col.action) {
              if (text) {
                const b = document.createElement("button");
                b.className = "action action-" + col.action; b.textContent = text;
                if (col.action_label) b.title = col.action_label;
                b.addEventListener("click", () => model.send_msg({action: col.action, id: row.id}));
                td.appendChild(b);
              }
            } else if (col.link && row[col.link]) {
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
