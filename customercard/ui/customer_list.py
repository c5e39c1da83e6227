"""Search customers: filters (status, industry, account manager, segmentation, city, country, archived),
a sortable page of results with links to the cards, paging, a count, and export of the filtered result.

Only the current page ever reaches the browser. The filters live in the URL, so a search can be
bookmarked and shared; :meth:`CustomerList.from_url` reads them back.
"""

from __future__ import annotations

import io
import re
from typing import Any
from urllib.parse import parse_qs, urlencode

import pandas as pd
import panel as pn
import param

from .. import formatting
from ..errors import NotFound
from ..i18n import N_, _, ngettext
from ..models import CRITERIA_RENAMED, CustomerQuery
from ..spreadsheets import write_table
from ..store import STORE_TYPES, Store
from ..validators import COUNTRIES, country_code
from .accessibility import live
from .bulk import BulkPanel
from .choices import multi_choice, people_options, safe_options
from .components import DataTable
from .html import esc, page_heading, rows_of
from .live import Follower
from .saved_views import SavedViewsMenu
from .widgets import PromptTextInput

COLUMNS = [
    {"key": "number", "label": N_("Number"), "sortable": True, "link": "href"},
    {"key": "name", "label": N_("Name"), "sortable": True, "link": "href"},
    {"key": "nickname", "label": N_("Nickname"), "sortable": True},
    {"key": "status", "label": N_("Status"), "sortable": True},
    {"key": "industry", "label": N_("Industry"), "sortable": True},
    {"key": "account_manager", "label": N_("Account manager"), "sortable": True},
    {"key": "city", "label": N_("City"), "sortable": True},
]
EXPORT_COLUMNS = {"number": N_("Number"), "name": N_("Name"), "nickname": N_("Nickname"), "status": N_("Status"),
                  "industry": N_("Industry"), "account_manager": N_("Account manager"), "city": N_("City"),
                  "country": N_("Country"), "org_number": N_("Organisation number"), "phone": N_("Phone"),
                  "email": N_("E-mail"), "archived": N_("Archived")}
ARCHIVED_LABELS = {N_("Active customers"): "active", N_("Archived only"): "archived", N_("Both"): "all"}
SEGMENT_PREFIX = "seg."
#: The most digits a page number and a saved view's id in the URL are read with; longer is taken for no page (the
#: first is shown) and no view.
PAGE_DIGITS = 9
VIEW_ID_DIGITS = 12
SORT_KEYS = tuple(c["key"] for c in COLUMNS)
#: The columns shown unless the search (a saved view) chooses others.
DEFAULT_COLUMNS = list(SORT_KEYS)


#: The URL arguments that choose customers (beside ``seg.<criterion>``): a link with none of them opens a saved view
#: as it is saved.
FILTER_ARGS = frozenset({"q", "status", "industry", "manager", "city", "country", "archived"})


def query_from_args(args: dict[str, list[str]]) -> tuple[CustomerQuery, dict[str, Any]]:
    """A query and the view state (sort, descending, page) from URL arguments."""
    def one(key: str, default: str = "") -> str:
        return (args.get(key) or [default])[0]
    archived = one("archived", "active")
    query = CustomerQuery(
        text=one("q"), statuses=list(args.get("status", [])), industries=list(args.get("industry", [])),
        account_managers=list(args.get("manager", [])), city=one("city"), country=one("country"),
        archived=archived if archived in CustomerQuery.ARCHIVED else "active",
        segments={key[len(SEGMENT_PREFIX):]: list(values) for key, values in args.items()
                  if key.startswith(SEGMENT_PREFIX) and values},
    )
    page, sort = one("page", "1"), one("sort", "name")
    a_page = page.isascii() and page.isdigit() and 0 < len(page) <= PAGE_DIGITS and int(page)
    state = {"sort": sort if sort in SORT_KEYS else "name", "descending": one("desc") == "1",
             "page": int(page) if a_page else 1}
    columns = [key for key in dict.fromkeys(args.get("col", [])) if key in SORT_KEYS]
    if columns:
        state["columns"] = columns
    view, version = one("view"), one("view_version")
    if view.isascii() and view.isdigit() and 0 < len(view) <= VIEW_ID_DIGITS:
        state["view_id"] = int(view)
        if version.isascii() and version.isdigit() and 0 < len(version) <= VIEW_ID_DIGITS:
            state["view_version"] = int(version)
    return query, state


def known_values(store: Store, query: CustomerQuery) -> tuple[CustomerQuery, list[tuple[str, str]]]:
    """The query with only values the firm has (list values, active or not; managers; criteria shown as filters and
    their values, active or not), and the (filter, value) pairs it dropped: a value an administrator renamed since
    the URL or the saved view was written is read as today's name; any other value none of them has is dropped, so
    that it never becomes an option in a filter (the list says which it left out)."""
    dropped: list[tuple[str, str]] = []
    choices = store.choices()

    def kept(values: list[str], allowed: Any, filter_name: str, list_name: str = "") -> list[str]:
        out = []
        for value in dict.fromkeys(values):
            now = choices.named_now(list_name, value) if list_name and value not in allowed else value
            if now in allowed:
                out.append(now)
            else:
                dropped.append((filter_name, value))
        return list(dict.fromkeys(out))
    segment_values: dict[str, set[str]] = {}
    for criterion, label in store.criterion_value_ids():
        segment_values.setdefault(criterion, set()).add(label)
    users = set(store.users(include_inactive=True)["login"])
    segments: dict[str, list[str]] = {}
    for written, values in query.segments.items():  # a criterion switched off has no filter to show or clear: left out
        name = choices.named_now(CRITERIA_RENAMED, written)  # renamed since the URL was written: the same criterion
        found = kept(values, segment_values.get(name, set()) if name in choices.criteria else set(), name)
        if found:
            segments[name] = list(dict.fromkeys([*segments.get(name, []), *found]))
    # a country as the API and the import take it: its code in any case, or its name ('se', 'Sweden', 'Sverige')
    country = country_code(query.country) if (query.country or "").strip() else ""
    if country and country not in COUNTRIES:
        dropped.append((_("Country"), query.country))
        country = ""
    known = CustomerQuery(
        text=query.text, city=query.city, archived=query.archived, country=country,
        statuses=kept(query.statuses, set(store.list_values("statuses")["label"]), _("Status"), "statuses"),
        industries=kept(query.industries, set(store.list_values("industries")["label"]), _("Industry"),
                        "industries"),
        account_managers=kept(query.account_managers, users, _("Account manager")),
        segments=segments)
    return known, dropped


def args_from_query(query: CustomerQuery, sort: str, descending: bool, page: int, columns: list[str] | None = None,
                    view_id: int | None = None, view_version: int | None = None) -> str:
    """The URL query string of a search (only what differs from the defaults): filters, sort, page, the columns
    chosen and the saved view open (with the version its search was opened from)."""
    pairs: list[tuple[str, str]] = []
    if query.text:
        pairs.append(("q", query.text))
    pairs += [("status", v) for v in query.statuses] + [("industry", v) for v in query.industries]
    pairs += [("manager", v) for v in query.account_managers]
    for criterion, values in sorted((query.segments or {}).items()):
        pairs += [(SEGMENT_PREFIX + criterion, v) for v in values]
    pairs += [(k, v) for k, v in (("city", query.city), ("country", query.country)) if v]
    if query.archived != "active":
        pairs.append(("archived", query.archived))
    if sort != "name":
        pairs.append(("sort", sort))
    if descending:
        pairs.append(("desc", "1"))
    if columns and list(columns) != DEFAULT_COLUMNS:
        pairs += [("col", key) for key in columns]
    if page > 1:
        pairs.append(("page", str(page)))
    if view_id is not None:
        pairs.append(("view", str(int(view_id))))
        if view_version is not None:
            pairs.append(("view_version", str(int(view_version))))
    return urlencode(pairs)


#: What an administrator's change names (``AdminStore.forget_cached``) that the filters offer.
LISTED_ADMIN_CHANGES = frozenset({"lists", "criteria", "users"})


def _with_chosen(options: Any, chosen: list[str]) -> Any:
    """A filter's options with the values chosen in it that are no longer offered (a criterion's value removed
    since): they stay while chosen. Options with labels of their own (a dict) name every value customers have."""
    return options if isinstance(options, dict) else list(dict.fromkeys([*options, *chosen]))


class CustomerList(pn.viewable.Viewer):
    """Search customers: filters built from :class:`CustomerQuery`, results paged and sorted on the server."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the customers come from.")
    query = param.ClassSelector(class_=CustomerQuery, doc="The filters.")
    page = param.Integer(default=1, bounds=(1, None), doc="The page shown, from 1.")
    page_size = param.Integer(default=25, bounds=(5, 200), doc="Customers per page.")
    sort = param.Selector(default="name", objects=list(SORT_KEYS), doc="Column sorted by.")
    descending = param.Boolean(default=False, doc="Sort descending.")
    total = param.Integer(default=0, constant=True, doc="Customers matching the filters.")
    url = param.String(default="", doc="The query string that reproduces this search.")
    text = param.String(default="", doc="Shortcut for query.text (name, nickname or number).")
    include_archived = param.Boolean(default=False, doc="Shortcut: also list archived customers.")
    columns = param.ListSelector(default=list(DEFAULT_COLUMNS), objects=list(SORT_KEYS), doc="The columns shown.")
    view_id = param.Integer(default=None, allow_None=True, doc="The saved view open, if one is.")
    view_version = param.Integer(default=None, allow_None=True, doc="The version of the saved view open that the "
                                 "search was opened from (saving over a view changed since is a conflict).")
    left_out = param.List(default=[], item_type=str, doc="Filter values the URL or the saved view named that the firm "
                          "no longer has (\"Industry: Construction\"): left out of the search, and said so above the "
                          "list until a filter is changed.")
    view_gone = param.Boolean(default=False, doc="The URL named a saved view the reader cannot open (deleted, or "
                              "another's private one): said above the list, which shows the search the URL holds.")
    signed_in = param.Callable(default=None, allow_refs=False,
                               doc="Whether the page's login session still holds (see BulkPanel.signed_in).")
    login = param.String(default="", doc="Who looks (their saved views; bulk changes when they may change "
                                         "customers). Empty: no views menu and no bulk changes.")

    @classmethod
    def from_url(cls, store: Store, search: str, **params: Any) -> CustomerList:
        """The list a URL asks for. A URL that names only a saved view (``?view=<id>``, as a link to it is shared)
        opens the view's search as it is saved now; one with its own filters (a bookmark) shows those. A view the
        reader may not open (another's private one, one deleted) is not named open."""
        args = parse_qs(search.lstrip("?"))
        query, state = query_from_args(args)
        view_id, login = state.get("view_id"), params.get("login")
        if view_id is not None:
            try:
                view = store.get_view(view_id, user=login) if login else None
            except NotFound:
                view = None
            if view is None:
                state.pop("view_id")
                state.pop("view_version", None)
                params["view_gone"] = bool(login)
            elif not any(key in FILTER_ARGS or key.startswith(SEGMENT_PREFIX) for key in args):
                # the view's search; what the link itself says of sort, columns and page goes on top of it
                query, state = query_from_args({**parse_qs(view.search), **args})
                state["view_version"] = view.version
        known, dropped = known_values(store, query)
        return cls(store=store, query=known, left_out=[f"{name}: {_shortened(str(value))}" for name, value in dropped],
                   **state, **params)

    def __init__(self, **params: Any) -> None:
        params.setdefault("query", CustomerQuery(text=params.get("text", "")))
        if params.pop("include_archived", False):
            params["query"].archived = "all"
        # nicknames switched off by the firm: no column, filter wording or export of them (as the card has none)
        self._nicknames = bool(params["store"].settings().nicknames_enabled)
        if not self._nicknames:
            params["columns"] = [key for key in params.get("columns", DEFAULT_COLUMNS) if key != "nickname"] or ["name"]
            if params.get("sort") == "nickname":
                params["sort"] = "name"
        super().__init__(**params)
        self.text, self.include_archived = self.query.text, self.query.archived == "all"
        self._building = True
        self._typed, self._lookup_waiting = "", False
        self._filters = self._filter_widgets()
        self._may_write = bool(self.login) and self.store.can(self.login, "write")
        self._table = DataTable(columns=self._table_columns(), sort=self.sort, descending=self.descending,
                                empty_text=_("No customers match."), sizing_mode="stretch_width")
        self._table.param.watch(self._on_table_sort, ["sort", "descending"])
        self._table.param.watch(lambda _e: self._count_selected(), "selected")
        self._column_choice = pn.widgets.CheckBoxGroup(
            options={esc(_(c["label"])): c["key"] for c in COLUMNS if self._offered(c["key"])},
            value=list(self.columns), inline=True, css_classes=["cc-columns"], sizing_mode="stretch_width",
            stylesheets=[".bk-input-group { flex-wrap: wrap; gap: 2px 10px; max-width: 100%; }"])  # in the column
        self._column_choice.param.watch(self._on_columns, "value")
        self._views = SavedViewsMenu(store=self.store, login=self.login, view_id=self.view_id,
                                     view_version=self.view_version) if self.login else None
        if self._views is not None:
            self._views.param.watch(lambda event: setattr(self, "view_version", event.new), "view_version")
            self._views.param.watch(lambda event: setattr(self, "view_id", event.new), "view_id")
        self._all_matching = pn.widgets.Checkbox(label=_("All customers that match"), css_classes=["cc-bulk-all"])
        self._all_matching.param.watch(lambda _e: self._count_selected(), "value")
        self._selected_count = pn.pane.HTML("", css_classes=["cc-bulk-count"], sizing_mode="stretch_width")
        self._bulk = BulkPanel(store=self.store, login=self.login, chosen=self.chosen_ids, signed_in=self.signed_in,
                               on_done=self._refresh) if self._may_write else None
        if self._bulk is not None:  # another choice of customers: the preview no longer says what Apply would do
            self._table.param.watch(lambda _e: self._bulk.forget_preview(), "selected")
            self._all_matching.param.watch(lambda _e: self._bulk.forget_preview(), "value")
        self._bulk_toggle = pn.widgets.Toggle(label=_("Change many customers…"), css_classes=["cc-bulk-toggle"],
                                              width=220, visible=self._may_write)
        self._count = pn.pane.HTML(sizing_mode="stretch_width", margin=(0, 10))
        self._left_out_note = pn.pane.HTML(self._left_out_text(), visible=bool(self.left_out or self.view_gone),
                                           css_classes=["cc-left-out"], sizing_mode="stretch_width", margin=(0, 10))
        self._prev = pn.widgets.Button(label=_("‹ Previous"), width=110)
        self._next = pn.widgets.Button(label=_("Next ›"), width=110)
        self._prev.on_click(lambda _e: self._turn(-1))
        self._next.on_click(lambda _e: self._turn(1))
        self._exports = [
            pn.widgets.FileDownload(callback=lambda: self.export_file("csv"), filename=_("customers") + ".csv",
                                    label=_("Export CSV"), css_classes=["cc-export-csv"], width=130),
            pn.widgets.FileDownload(callback=lambda: self.export_file("xlsx"), filename=_("customers") + ".xlsx",
                                    label=_("Export Excel"), css_classes=["cc-export-xlsx"], width=130),
        ]
        self.query.param.watch(self._on_query, list(CustomerQuery.fields))
        self.param.watch(self._on_shortcut, ["text", "include_archived"])
        self._building = False
        self._refresh()
        # a customer saved or created anywhere may change this page of the list: it is read again
        self._doc = pn.state.curdoc
        self._follower = Follower(self.store, lambda change: change.kind == "customer",
                                  lambda _changes: self._refresh_if_shown(), delay=1.0)
        # an administrator's change of a list, a criterion or the users (not of the settings): the filters offer them
        # as they are now
        self._lists_follower = Follower(self.store, lambda change: change.kind == "admin" and bool(
            LISTED_ADMIN_CHANGES & set(change.fields or ())), self._offer_lists_now, delay=0.5)

    # -- what the list is made of (read only) ---------------------------------------------------------------
    @property
    def filters(self) -> dict[str, pn.widgets.Widget]:
        """The filter widgets by key (``text``, ``statuses``, ``industries``, ``account_managers``,
        ``seg.<criterion>``, ``city``, ``country``, ``archived``): a value set on one filters as the user's choice
        does (``query`` follows, and the first page is shown)."""
        return dict(self._filters)

    @property
    def table(self) -> DataTable:
        """The results as drawn: the ``columns`` shown and the ``rows`` of the page (display texts), the rows
        checked (``selected``) while changing many customers."""
        return self._table

    @property
    def bulk(self) -> BulkPanel | None:
        """The panel that changes the chosen customers together (None for those who may not change customers)."""
        return self._bulk

    @property
    def views(self) -> SavedViewsMenu | None:
        """The menu of saved views (None when no one is logged in)."""
        return self._views

    # -- filters --------------------------------------------------------------------------------------------
    def _list_options(self) -> dict[str, Any]:
        """What the filters of lists offer, as the firm's lists and users are now: statuses and industries (those no
        longer offered after them, marked: customers still have them), account managers, each criterion's values."""
        store = self.store
        users = store.users(include_inactive=True)
        # everyone who may manage customers, and anyone else by the side (a manager made viewer or deactivated
        # still has customers an administrator looks for to hand over): those marked
        marks = {r.login: _(r.role) if r.active else _("inactive") for r in users.itertuples()
                 if not (r.active and r.role in ("admin", "manager"))}
        managers = people_options([*((r.login, r.name) for r in users.itertuples() if r.login not in marks),
                                   *((r.login, r.name) for r in users.itertuples() if r.login in marks)], marks)

        def listed(list_name: str) -> dict[str, str]:
            frame = store.list_values(list_name)
            inactive = _("no longer offered")
            return {**{label: label for label in frame.loc[frame["active"], "label"]},
                    **{f"{label} ({inactive})": label for label in frame.loc[~frame["active"], "label"]}}
        options: dict[str, Any] = {"statuses": listed("statuses"), "industries": listed("industries"),
                                   "account_managers": managers}
        for name, (_multiple, values) in store.choices().criteria.items():
            options[SEGMENT_PREFIX + name] = values
        return options

    def _offer_lists_now(self, _changes: Any = None) -> None:
        """An administrator changed a list, a criterion's values or the users: the filters offer them as they are now
        (without a reload), a value chosen under the name it had before chosen under today's — the same customers.
        (A criterion added, renamed or removed shows in the filters from the next reload.)"""
        choices = self.store.choices()
        for key, options in self._list_options().items():
            widget = self._filters.get(key)
            if not isinstance(widget, pn.widgets.MultiChoice):
                continue
            chosen = [choices.named_now(key, value) if key in ("statuses", "industries") else value
                      for value in widget.value]
            offered = safe_options(_with_chosen(options, chosen))
            known = list(offered.values())
            widget.param.update(options=offered, value=[value for value in chosen if value in known])

    def _filter_widgets(self) -> dict[str, pn.widgets.Widget]:
        query = self.query
        offered = self._list_options()

        def multi(label: str, key: str, value: list[str], css: str) -> pn.widgets.MultiChoice:
            return multi_choice(_with_chosen(offered[key], value), value, label=label, css_classes=[css],
                                sizing_mode="stretch_width")
        widgets: dict[str, pn.widgets.Widget] = {
            "text": PromptTextInput(label=_("Name, nickname or number") if self._nicknames else _("Name or number"),
                                         value=query.text, placeholder=_("Filter by name, nickname, number…")
                                         if self._nicknames else _("Filter by name, number…"),
                                         css_classes=["cc-filter-text"], sizing_mode="stretch_width"),
            "statuses": multi(_("Status"), "statuses", query.statuses, "cc-filter-status"),
            "industries": multi(_("Industry"), "industries", query.industries, "cc-filter-industry"),
            "account_managers": multi(_("Account manager"), "account_managers", query.account_managers,
                                      "cc-filter-manager"),
        }
        for key in offered:
            if key.startswith(SEGMENT_PREFIX):
                name = key[len(SEGMENT_PREFIX):]
                widgets[key] = multi(name, key, query.segments.get(name, []),
                                     "cc-filter-seg-" + re.sub(r"[^a-z0-9_-]+", "-", name.lower()))
        countries = self.store.countries_in_use()
        if query.country and query.country not in countries:  # (no customer there: the filter is shown, finding none)
            countries = sorted([*countries, query.country])
        widgets["city"] = pn.widgets.TextInput(label=_("City"), value=query.city, css_classes=["cc-filter-city"],
                                               sizing_mode="stretch_width")
        widgets["country"] = pn.widgets.Select(label=_("Country"), options=["", *countries], value=query.country
                                               if query.country in countries else "", css_classes=["cc-filter-country"],
                                               sizing_mode="stretch_width")
        widgets["archived"] = pn.widgets.Select(label=_("Archived"), value=query.archived,
                                                options={_(k): v for k, v in ARCHIVED_LABELS.items()},
                                                css_classes=["cc-filter-archived"], sizing_mode="stretch_width")
        for key, widget in widgets.items():
            widget.param.watch(lambda event, key=key: self._on_filter(key, event.new), "value")
        widgets["text"].param.watch(lambda event: self._on_text_input(event.new), "value_input")
        return widgets

    def _on_text_input(self, text: str) -> None:
        """A keystroke in the text filter. In a served page the list is looked up on the next turn of the server's
        loop, with the text as it is then: keystrokes that arrive while a lookup runs are not looked up one by one
        (only the last), so a fast typist waits for one lookup, not a queue of them."""
        self._typed = text
        if pn.state.curdoc is None or pn.state.curdoc.session_context is None:
            self._on_filter("text", text)
        elif not self._lookup_waiting:
            self._lookup_waiting = True
            pn.state.execute(self._look_up_typed, schedule=True)

    def _look_up_typed(self) -> None:
        self._lookup_waiting = False
        self._on_filter("text", self._typed)

    def _on_filter(self, key: str, value: Any) -> None:
        if key.startswith(SEGMENT_PREFIX):
            segments = dict(self.query.segments)
            criterion = key[len(SEGMENT_PREFIX):]
            if value:
                segments[criterion] = list(value)
            else:
                segments.pop(criterion, None)
            self.query.segments = segments
        else:
            setattr(self.query, key, list(value) if isinstance(value, list) else (value or ""))

    def clear(self) -> None:
        """Back to every active customer."""
        for key, widget in self._filters.items():
            widget.value = [] if isinstance(widget, pn.widgets.MultiChoice) else (
                "active" if key == "archived" else "")

    def _left_out_text(self) -> str:
        said = []
        if self.view_gone:
            said.append(_("The saved view this link names is not there any more (deleted, or private to someone "
                          "else): the list shows the search the link holds."))
        if self.left_out:
            said.append(_("Left out of this search, as the firm no longer has them: {values}. The list shows the "
                          "customers the other filters find.").format(values=", ".join(self.left_out)))
        if not said:
            return ""
        return '<p role="status" class="cc-left-out-text" style="color:#8a4b00;overflow-wrap:anywhere">{}</p>'.format(
            esc(" ".join(said)))

    def _on_query(self, *_events: Any) -> None:
        self.page = 1
        if not self._building and self.__dict__.get("_left_out_note") is not None:
            self._left_out_note.visible = False  # the search is the user's own now
        if self.__dict__.get("_table") is not None:
            self._table.selected = []  # what was checked may not match any more
        if self.__dict__.get("_bulk") is not None:  # (an empty selection emptied again tells no one)
            self._bulk.forget_preview()  # "all that match" are others now: Apply waits for a new preview
        if not self._building:
            self._refresh()

    def _on_shortcut(self, event: param.parameterized.Event) -> None:
        if event.name == "text":
            self.query.text = event.new or ""
        else:
            self.query.archived = "all" if event.new else "active"

    # -- results ------------------------------------------------------------------------------------------
    def _on_table_sort(self, *_events: Any) -> None:
        self.param.update(sort=self._table.sort or "name", descending=self._table.descending, page=1)

    def _turn(self, step: int) -> None:
        pages = max(1, -(-self.total // self.page_size))
        self.page = min(max(1, self.page + step), pages)

    @param.depends("page", "page_size", "sort", "descending", watch=True)
    def _refresh(self) -> None:
        if self._building:
            return
        frame, total = self.store.find_customers(self.query, limit=self.page_size,
                                                 offset=(self.page - 1) * self.page_size, sort=self.sort,
                                                 descending=self.descending)
        pages = max(1, -(-total // self.page_size))
        if self.page > pages:  # a bookmark past the end (or the filtered result shrank): the last page
            self.page = pages  # (refreshes again)
            return
        with pn.io.hold():  # the rows, the count, the buttons and the URL in one message to the browser
            with param.edit_constant(self):
                self.total = total
            rows = [{"_id": int(r.id), "href": f"/card?customer={int(r.id)}", "number": str(r.number), "name": r.name,
                     "nickname": r.nickname or "", "status": r.status or "", "industry": r.industry or "",
                     "account_manager": r.account_manager or "",
                     "city": (r.city or "") + (f" ({r.country})" if r.country else ""),
                     "match": getattr(r, "match", "") or ""}
                    for r in rows_of(frame)]
            self._table.param.update(rows=rows, sort=self.sort, descending=self.descending,
                                     **({} if (columns := self._table_columns()) == self._table.columns
                                        else {"columns": columns}))
            first = 0 if total == 0 else (self.page - 1) * self.page_size + 1
            last = min(self.page * self.page_size, total)
            # said in the page's live region when a filter, sort or page changes the list (not as the page opens)
            said = live() if self.__dict__.get("_counted") else ""
            self._counted = True
            counted = ngettext("{first}–{last} of {total} customer · page {page} of {pages}",
                               "{first}–{last} of {total} customers · page {page} of {pages}", total).format(
                first=formatting.number(first), last=formatting.number(last), total=formatting.number(total),
                page=formatting.number(self.page), pages=formatting.number(pages))
            self._count.object = f'<span class="cc-count-text"{said}>{esc(counted)}</span>'
            self._prev.disabled = self.page <= 1
            self._next.disabled = self.page >= pages
            self.url = args_from_query(self.query, self.sort, self.descending, self.page, self.columns, self.view_id,
                                       self.view_version)
            if self.__dict__.get("_views") is not None:
                self._views.search = args_from_query(self.query, self.sort, self.descending, 1, self.columns)
            if self.__dict__.get("_selected_count") is not None:
                self._count_selected()

    def _refresh_if_shown(self) -> None:
        """Read the page again after customers changed — unless no browser shows it any more: a served page left
        for another lives on until the server ends its session (15–30 s), and each list read again there cost the
        server a lookup (30–45 ms at 100,000 customers) that the pages in use waited for."""
        context = getattr(self._doc, "session_context", None)
        session = getattr(context, "_session", None)  # (Bokeh's session behind the context: its connections)
        if session is not None and session.connection_count == 0:
            return
        self._refresh()

    # -- columns, views and bulk changes --------------------------------------------------------------------------
    def _table_columns(self) -> list[dict[str, Any]]:
        chosen = [{**c, "label": _(c["label"])} for c in COLUMNS if c["key"] in self.columns]
        if self.query.text.strip():  # the text filter finds contact persons, phone numbers … too: each row says why
            chosen.append({"key": "match", "label": _("Matched by")})
        return chosen

    def _offered(self, key: str) -> bool:
        return key != "nickname" or self._nicknames

    def _on_columns(self, event: param.parameterized.Event) -> None:
        self.columns = [key for key in SORT_KEYS if key in (event.new or []) and self._offered(key)] or ["name"]

    @param.depends("columns", "view_id", "view_version", watch=True)
    def _on_columns_or_view(self) -> None:
        self._table.columns = self._table_columns()
        self.url = args_from_query(self.query, self.sort, self.descending, self.page, self.columns, self.view_id,
                                   self.view_version)
        if self._views is not None:
            self._views.search = args_from_query(self.query, self.sort, self.descending, 1, self.columns)

    def matching_ids(self) -> list[int]:
        """Every customer the search matches (not only this page)."""
        frame, _total = self.store.find_customers(self.query, limit=None, sort=self.sort, descending=self.descending)
        return [int(i) for i in frame["id"]]

    def chosen_ids(self) -> list[int]:
        """The customers a bulk change is for: all that match when so chosen, else those checked."""
        return self.matching_ids() if self._all_matching.value else list(self._table.selected)

    def _count_selected(self) -> None:
        count = self.total if self._all_matching.value else len(self._table.selected)
        self._selected_count.object = '<span class="cc-muted">{}</span>'.format(esc(ngettext(
            "{n} customer chosen", "{n} customers chosen", count).format(n=formatting.number(count))))

    def export_frame(self) -> pd.DataFrame:
        """Every customer matching the filters (not only this page), with headers (and yes/no) in the reader's
        language."""
        frame, _total = self.store.find_customers(self.query, limit=None, sort=self.sort, descending=self.descending)
        frame = frame.assign(archived=frame["archived"].map({True: _("yes"), False: _("no")}))
        columns = {k: v for k, v in EXPORT_COLUMNS.items() if self._offered(k)}
        return frame[list(columns)].rename(columns={k: _(v) for k, v in columns.items()})

    def export_file(self, kind: str) -> io.BytesIO:
        """The filtered customers as a CSV or Excel file, written as every export is (see spreadsheets.py)."""
        buffer = io.BytesIO()
        write_table(self.export_frame(), buffer, excel=kind != "csv", sheet=_("Customers"))
        buffer.seek(0)
        return buffer

    def __panel__(self) -> pn.viewable.Viewable:
        clear = pn.widgets.Button(label=_("Clear filters"), color="light", css_classes=["cc-clear-filters"])
        clear.on_click(lambda _e: self.clear())
        views = [self._views] if self._views is not None else []
        sidebar = pn.Column(pn.pane.HTML(page_heading(_('Search customers')), margin=(0, 10)), *views,
                            *self._filters.values(), pn.pane.HTML(esc(_("Columns")), margin=(5, 10, 0, 10)),
                            self._column_choice, clear, width=300, css_classes=["cc-filters"])
        bulk: list[Any] = []
        if self._bulk is not None:
            panel = pn.Column(pn.Row(self._all_matching, self._selected_count, sizing_mode="stretch_width"),
                              self._bulk, visible=False, sizing_mode="stretch_width", css_classes=["cc-bulk-panel"],
                              styles={"border": "1px solid #c8d1dc", "border-radius": "6px", "padding": "4px 8px"})
            def toggle(event: param.parameterized.Event) -> None:  # check boxes only while changing many
                panel.visible = self._table.selectable = event.new
            self._bulk_toggle.param.watch(toggle, "value")
            bulk = [self._bulk_toggle, panel]
        # side by side; on a narrow screen (zoomed 200 % and more) the filters above the list, the count above its
        # exports: nothing but the table itself needs a sideways scroll (WCAG 1.4.10 Reflow)
        count = pn.FlexBox(self._count, *self._exports, flex_wrap="wrap", align_items="center",
                           sizing_mode="stretch_width")
        self._count.styles = {"flex": "1 1 260px"}
        results = pn.Column(self._left_out_note, count, *bulk, self._table,
                            pn.Row(self._prev, self._next), sizing_mode="stretch_width", styles={"flex": "1 1 300px"},
                            min_width=0)
        sidebar.styles = {"flex": "0 0 300px"}
        return pn.FlexBox(sidebar, results, flex_wrap="wrap", align_items="flex-start", sizing_mode="stretch_width")


def _shortened(value: str, most: int = 60) -> str:
    """A value a URL named, as the page repeats it: at most ``most`` characters (a 40 KB value was printed whole)."""
    return value if len(value) <= most else value[:most - 1] + "…"
