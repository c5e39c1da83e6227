"""The super search box in the header of every page: type, arrow keys, Enter opens the card."""

from __future__ import annotations

from typing import Any

import param

from ..i18n import N_, _
from ..store import Store
from ..store.search_text import MAX_QUERY
from .components import LightComponent, light_scripts

SEARCH_CSS = """
:host { display: block; position: relative; width: 340px; }
input { width: 100%; box-sizing: border-box; padding: 7px 10px; border-radius: 6px; border: 1px solid #9fb3c8;
        font: inherit; font-size: 0.95em; background: #fff; color: #1d2733; }
input:focus { outline: 2px solid #7fb0e0; }
ul { position: absolute; z-index: 1000; top: 100%; left: 0; right: 0; margin: 4px 0 0; padding: 4px 0;
     list-style: none; background: #fff; border: 1px solid #c8d1dc; border-radius: 6px;
     box-shadow: 0 6px 20px rgba(20, 40, 70, .18); max-height: 70vh; overflow-y: auto; }
li { padding: 6px 12px; cursor: pointer; color: #1d2733; }
li.active, li:hover { background: #e8f0f9; }
li .name { font-weight: 600; }
li .detail { display: block; font-size: 0.82em; color: #5b6b7d; }
li.more { border-top: 1px solid #e3e8ee; color: #1f5c99; font-size: 0.9em; }
li.none { color: #596573; font-style: italic; cursor: default; }
"""


class SuperSearch(LightComponent):
    """Search box with a result list; the server ranks the hits (see :meth:`Store.search`)."""

    query = param.String(default="", doc="What the user typed (sent at once, or when the previous query is answered).")
    results = param.List(default=[], doc="Hits: dicts with href, name, detail.")
    searched = param.List(default=[], doc="The query the results belong to, as a one-item list (a list reaches "
                                           "the browser verbatim; Panel escapes text parameters).")
    placeholder = param.String(default=N_("Search customers, contacts, numbers…"))
    more_label = param.String(default=N_("Search customers for “{q}”"))
    none_label = param.String(default=N_("No customer matches."))
    max_length = param.Integer(default=MAX_QUERY, doc="The most characters a query is read up to (the store "
                                                      "ignores the rest; the box takes no more).")
    max_length_label = param.String(default=N_("At most {n} characters are searched."))

    _stylesheets = [SEARCH_CSS]
    _synced = ("query",)

    _scripts = light_scripts("""
    function render({ model, el }) {
      const input = document.createElement("input");
      input.type = "search"; input.placeholder = model.placeholder; input.autocomplete = "off";
      input.setAttribute("aria-label", model.placeholder); input.id = "cc-super-search";
      input.maxLength = model.max_length; input.title = model.max_length_label.replace("{n}", model.max_length);
      // a combobox: the hits are its list box, the active one told to screen readers as the focus stays here
      input.setAttribute("role", "combobox"); input.setAttribute("aria-autocomplete", "list");
      input.setAttribute("aria-expanded", "false"); input.setAttribute("aria-controls", "cc-super-search-hits");
      const list = document.createElement("ul");
      list.id = "cc-super-search-hits";
      list.setAttribute("role", "listbox"); list.setAttribute("aria-label", model.placeholder); list.hidden = true;
      function shown(open) {
        list.hidden = !open;
        input.setAttribute("aria-expanded", String(open));
        const current = open && list.querySelector("li.active");
        if (current) input.setAttribute("aria-activedescendant", current.id);
        else input.removeAttribute("aria-activedescendant");
      }
      let active = 0, pendingEnter = false, focused = false, inFlight = false, safety = null;
      // Each keystroke's query goes to the server at once unless one is still being answered; then only the
      // latest text follows when the answer comes (superseded texts are never sent). No fixed pause.
      function send(value) {
        if (value === model.query) return;  // answered already, or on its way
        inFlight = true; model.query = value;
        clearTimeout(safety);
        safety = setTimeout(() => { inFlight = false; follow(); }, 3000);  // no answer: do not wait forever
      }
      function follow() { if (!inFlight) send(input.value); }
      function items() {
        const out = model.results.map(r => ({href: r.href, name: r.name, detail: r.detail}));
        if (input.value.trim()) out.push({href: "/search?q=" + encodeURIComponent(input.value.trim()),
                                          name: model.more_label.replace("{q}", input.value.trim()), more: true});
        return out;
      }
      function draw() {
        const all = items();
        list.replaceChildren();
        list.dataset.for = model.searched[0] ?? "";
        if (!input.value.trim() || (!focused && !pendingEnter)) { shown(false); return; }
        if (model.searched[0] === input.value && !model.results.length) {
          const li = document.createElement("li"); li.className = "none"; li.textContent = model.none_label;
          li.setAttribute("role", "option"); li.setAttribute("aria-disabled", "true"); li.id = "cc-hit-none";
          list.appendChild(li);
        }
        all.forEach((item, i) => {
          const li = document.createElement("li");
          li.setAttribute("role", "option"); li.id = "cc-hit-" + i;
          li.setAttribute("aria-selected", String(i === active));
          li.className = (item.more ? "more" : "hit") + (i === active ? " active" : "");
          const name = document.createElement("span"); name.className = "name"; name.textContent = item.name;
          li.appendChild(name);
          if (item.detail) {
            const d = document.createElement("span"); d.className = "detail"; d.textContent = item.detail;
            li.appendChild(d);
          }
          li.addEventListener("mousedown", (e) => { e.preventDefault(); window.location.href = item.href; });
          list.appendChild(li);
        });
        shown(true);
      }
      input.addEventListener("input", () => {
        active = 0;
        follow();
        draw();
      });
      input.addEventListener("keydown", (e) => {
        const all = items();
        if (e.key === "ArrowDown") { e.preventDefault(); active = Math.min(active + 1, all.length - 1); draw(); }
        else if (e.key === "ArrowUp") { e.preventDefault(); active = Math.max(active - 1, 0); draw(); }
        else if (e.key === "Escape") { shown(false); }
        else if (e.key === "Enter") {
          e.preventDefault();
          if (model.searched[0] === input.value && all[active]) { window.location.href = all[active].href; }
          else { pendingEnter = true; follow(); }
        }
      });
      input.addEventListener("focus", () => { focused = true; draw(); });
      input.addEventListener("blur", () => { focused = false; setTimeout(() => shown(false), 150); });
      model.on(["results", "searched"], () => {
        inFlight = false; clearTimeout(safety);
        active = 0; draw();
        if (pendingEnter && model.searched[0] === input.value) {
          pendingEnter = false;
          const all = items();
          if (all[0]) window.location.href = all[0].href;
        }
        follow();  // what was typed meanwhile
      });
      el.append(input, list);
    }
    """, ["results", "searched"])

    def __init__(self, store: Store, limit: int = 8, **params: Any) -> None:
        for name in ("placeholder", "more_label", "none_label", "max_length_label"):  # in the reader's language
            params.setdefault(name, _(type(self).param[name].default))
        super().__init__(**params)
        self._store = store
        self._limit = limit
        self.param.watch(self._search, "query")

    def _search(self, event: param.parameterized.Event) -> None:
        text = (event.new or "").strip()
        hits = self._store.search(text, limit=self._limit) if text else None
        results = []
        if hits is not None:
            for hit in hits.itertuples(index=False):
                place = f" · {hit.city}" if hit.city else ""
                archived = f" · {_('archived')}" if hit.archived else ""
                results.append({"href": f"/card?customer={int(hit.id)}", "name": hit.name,
                                "detail": f"{hit.number}{place} · {hit.match}{archived}"})
        self.param.update(results=results, searched=[event.new or ""])
