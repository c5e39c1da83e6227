"""The super search box in the header of every page: type, arrow keys, Enter opens the card."""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
import param

from ..i18n import N_, _
from ..store import Store
from ..store.search_text import MAX_QUERY
from . import assets
from .components import LightComponent, light_scripts
from .html import rows_of

SEARCH_CSS = assets.text("search.css")


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
    ended = param.Boolean(default=False, doc="The page's login session has ended: the box answers no more.")

    _stylesheets: ClassVar[list[str]] = [SEARCH_CSS]
    _synced = ("query",)
    # Handled as it arrives: the box sends a query only once the previous one is answered (search.js), so Panel's
    # 50 ms wait for more changes to gather would only delay every keystroke's hits.
    _priority_changes: ClassVar[list[str]] = ["query"]

    _scripts = light_scripts(assets.text("search.js"), ["results", "searched"])

    def __init__(self, store: Store, limit: int = 8, **params: Any) -> None:
        for name in ("placeholder", "more_label", "none_label", "max_length_label"):  # in the reader's language
            params.setdefault(name, _(type(self).param[name].default))
        super().__init__(**params)
        self._store = store
        self._limit = limit
        self.param.watch(self._search, "query")

    def _search(self, event: param.parameterized.Event) -> None:
        text = (event.new or "").strip()
        if self.ended:  # logged out, deactivated, a new password: an open page reads nothing more
            self.param.update(results=[], searched=[event.new or ""])
            return
        hits = self._store.search(text, limit=self._limit) if text else None
        results = []
        if hits is not None:
            merged = [int(i) for i in hits["merged_into"] if pd.notna(i)] if "merged_into" in hits else []
            survivors = self._store.customer_names(merged) if merged else {}
            for hit in rows_of(hits):
                place = f" · {hit.city}" if hit.city else ""
                archived = f" · {_('archived')}" if hit.archived else ""
                href = f"/card?customer={int(hit.id)}"
                survivor = getattr(hit, "merged_into", None)
                if survivor is not None and pd.notna(survivor) and int(survivor) in survivors:
                    # found by what it was (its number, its name): the hit leads to the customer it is part of now
                    name, number = survivors[int(survivor)]
                    href = f"/card?customer={int(survivor)}"
                    archived = " · " + _("merged into {number} {name}").format(number=number, name=name)
                results.append({"href": href, "name": hit.name,
                                "detail": f"{hit.number}{place} · {hit.match}{archived}"})
        self.param.update(results=results, searched=[event.new or ""])
