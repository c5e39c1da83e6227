"""The customer list: a search box, a sortable page of customers with links to their cards, paging."""

from __future__ import annotations

import panel as pn
import param

from ..i18n import _
from ..store import Store
from .components import DataTable

COLUMNS = [
    {"key": "number", "label": _("Number"), "sortable": True, "link": "href"},
    {"key": "name", "label": _("Name"), "sortable": True, "link": "href"},
    {"key": "nickname", "label": _("Nickname"), "sortable": True},
    {"key": "status", "label": _("Status"), "sortable": True},
    {"key": "industry", "label": _("Industry"), "sortable": True},
    {"key": "account_manager", "label": _("Account manager"), "sortable": True},
    {"key": "city", "label": _("City"), "sortable": True},
]


class CustomerList(pn.viewable.Viewer):
    """A read-only, paged list of customers; the browser only ever receives the current page."""

    store = param.ClassSelector(class_=Store, doc="Where the customers come from.")
    text = param.String(default="", doc="Filter on name, nickname, number or city.")
    page = param.Integer(default=1, bounds=(1, None), doc="The page shown, from 1.")
    page_size = param.Integer(default=25, bounds=(5, 200), doc="Customers per page.")
    sort = param.Selector(default="name", objects=[c["key"] for c in COLUMNS], doc="Column sorted by.")
    descending = param.Boolean(default=False, doc="Sort descending.")
    include_archived = param.Boolean(default=False, doc="Also list archived customers.")
    total = param.Integer(default=0, constant=True, doc="Customers matching the filter.")

    def __init__(self, **params) -> None:
        super().__init__(**params)
        self._search = pn.widgets.TextInput(placeholder=_("Filter by name, nickname, number or city…"),
                                            value=self.text, width=380)
        self._search.param.watch(self._on_search, "value_input")
        self._archived = pn.widgets.Checkbox.from_param(self.param.include_archived, label=_("Show archived"))
        self._table = DataTable(columns=COLUMNS, sort=self.sort, descending=self.descending,
                                empty_text=_("No customers match."), sizing_mode="stretch_width")
        self._table.param.watch(self._on_table_sort, ["sort", "descending"])
        self._count = pn.pane.HTML(sizing_mode="stretch_width")
        self._prev = pn.widgets.Button(label=_("‹ Previous"), width=110)
        self._next = pn.widgets.Button(label=_("Next ›"), width=110)
        self._prev.on_click(lambda _e: self._turn(-1))
        self._next.on_click(lambda _e: self._turn(1))
        self._refresh()

    def _on_search(self, event: param.parameterized.Event) -> None:
        self.param.update(text=event.new or "", page=1)

    def _on_table_sort(self, _event: param.parameterized.Event) -> None:
        self.param.update(sort=self._table.sort or "name", descending=self._table.descending, page=1)

    def _turn(self, step: int) -> None:
        pages = max(1, -(-self.total // self.page_size))
        self.page = min(max(1, self.page + step), pages)

    @param.depends("text", "page", "page_size", "sort", "descending", "include_archived", watch=True)
    def _refresh(self) -> None:
        frame, total = self.store.list_customers(
            text=self.text, limit=self.page_size, offset=(self.page - 1) * self.page_size, sort=self.sort,
            descending=self.descending, include_archived=self.include_archived)
        with param.edit_constant(self):
            self.total = total
        rows = []
        for row in frame.itertuples(index=False):
            rows.append({"href": f"/card?customer={int(row.id)}", "number": str(row.number), "name": row.name,
                         "nickname": row.nickname or "", "status": row.status or "", "industry": row.industry or "",
                         "account_manager": row.account_manager or "", "city": row.city or ""})
        self._table.param.update(rows=rows, sort=self.sort, descending=self.descending)
        pages = max(1, -(-total // self.page_size))
        first = 0 if total == 0 else (self.page - 1) * self.page_size + 1
        last = min(self.page * self.page_size, total)
        self._count.object = '<span class="cc-count-text">{}</span>'.format(
            _("{first}–{last} of {total} customers · page {page} of {pages}").format(
                first=first, last=last, total=total, page=self.page, pages=pages))
        self._prev.disabled = self.page <= 1
        self._next.disabled = self.page >= pages

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(self._search, self._archived, align="center"),
            self._count,
            self._table,
            pn.Row(self._prev, self._next),
            sizing_mode="stretch_width",
        )
