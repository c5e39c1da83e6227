"""The pipeline: every open opportunity by stage, as a board (:mod:`customercard.ui.pipeline_board`, the default
view) or as a table, switched by a link that the URL remembers (``/pipeline?view=table``).

The table: count, sum and probability-weighted sum per stage. Filters for account manager, owner and expected
close period. The opportunities are a plain table grouped by stage, a page at a time (a screen reader reads its
headers and groups; a keyboard reaches every link and button): an opportunity's title opens it in an editor above
the table (each change goes through the model and the store, recorded in history); links open the cards.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
import panel as pn
import param

from .. import formatting
from ..errors import ConflictError, CustomerCardError, ValidationError
from ..i18n import N_, _
from ..models import Opportunity
from ..store import STORE_TYPES, Change
from . import assets
from .accessibility import live
from .components import DataTable
from .editor import RecordEditor
from .form import DatePicker, date_format
from .html import SECTION_CSS, esc, isolated, page_heading, plain_text, table
from .live import Follower
from .opportunity_editor import open_opportunity_editor
from .pipeline_board import people_filter
from .sections.base import note_html
from .switches import require_crm
from .values import shown
from .widgets import wrapping

EDITABLE = {"stage", "status", "lost_reason", "amount", "probability"}
SHOWN = ["id", "version", "customer_id", "customer_name", "title", "stage", "status", "lost_reason", "amount",
         "currency", "probability", "weighted", "expected_close", "owner_name"]
COLUMNS = [{"key": "customer_name", "label": N_("Customer"), "link": "href"},
           {"key": "title", "label": N_("Opportunity")}, {"key": "stage", "label": N_("Stage")},
           {"key": "status", "label": N_("Status")}, {"key": "lost_reason", "label": N_("Reason lost")},
           {"key": "amount", "label": N_("Amount"), "num": True}, {"key": "currency", "label": N_("Currency")},
           {"key": "probability", "label": N_("Probability (%)"), "num": True},
           {"key": "weighted", "label": N_("Weighted"), "num": True},
           {"key": "expected_close", "label": N_("Expected close")}, {"key": "owner_name", "label": N_("Owner")}]
PAGE_SIZE = 50




class PipelineTable(pn.viewable.Viewer):
    """Open opportunities across customers in a table grouped by stage, editable by managers and administrators."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the opportunities come from.")
    user = param.String(default="", doc="Who looks and acts.")
    account_manager = param.String(default="", doc="Only customers of this account manager (login).")
    owner = param.String(default="", doc="Only opportunities owned by this user (login).")
    close_from = param.CalendarDate(default=None, allow_None=True, doc="Expected to close on or after.")
    close_to = param.CalendarDate(default=None, allow_None=True, doc="Expected to close on or before.")
    page = param.Integer(default=1, bounds=(1, None), doc="The page of the table shown, from 1.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store
        people = people_filter(store, self.account_manager, self.owner)
        self._filters = [
            pn.widgets.Select.from_param(self.param.account_manager, label=_("Account manager"), options=people,
                                         css_classes=["cc-pipeline-manager"], width=200),
            pn.widgets.Select.from_param(self.param.owner, label=_("Owner"), options=people,
                                         css_classes=["cc-pipeline-owner"], width=200),
            DatePicker.from_param(self.param.close_from, label=_("Closing from"), width=160,
                                  description=_("Expected to close on or after."),
                                  css_classes=["cc-close-from"], date_format=date_format()),
            DatePicker.from_param(self.param.close_to, label=_("Closing until"), width=160,
                                  description=_("Expected to close on or before."),
                                  css_classes=["cc-close-to"], date_format=date_format()),
        ]
        self.can_edit = store.can(self.user, "write")
        # Cells are not edited in the table: a table drawn again meanwhile (someone's change arriving) could put the
        # edit on another opportunity. The title opens the opportunity in an editor, which names it and saves it on
        # the version it shows.
        self.frame = pd.DataFrame(columns=SHOWN)
        self.editor: RecordEditor | None = None
        self._editor_box = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["cc-pipeline-editor"])
        self._summary = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width",
                                     css_classes=["cc-pipeline-summary"])
        self._message = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-pipeline-message"])
        columns = [{**c, "label": _(c["label"])} for c in COLUMNS]
        if self.can_edit:
            columns[1]["action"] = "open"
        self._table = DataTable(columns=columns, caption=_("Opportunities"), empty_text=_("No open opportunities."),
                                sizing_mode="stretch_width", css_classes=["cc-pipeline-table"])
        self._table.on_action(lambda _action, data: self._on_open(data))
        self._count = pn.pane.HTML("", margin=(0, 10), css_classes=["cc-pipeline-count"])
        self._prev = pn.widgets.Button(label=_("‹ Previous"), width=110, css_classes=["cc-pipeline-prev"])
        self._next = pn.widgets.Button(label=_("Next ›"), width=110, css_classes=["cc-pipeline-next"])
        self._prev.on_click(lambda _e: self._turn(-1))
        self._next.on_click(lambda _e: self._turn(1))
        self.refresh()
        # others' changes of opportunities (and of customers' names) show without a reload
        self._own: set[tuple[int, int]] = set()
        self._follower = Follower(store, self._others_change, self._show_changes, delay=1.0)

    @property
    def table(self) -> DataTable:
        """The table as drawn: its ``columns``, ``caption`` and the ``rows`` of the page shown (display texts)."""
        return self._table

    @property
    def message(self) -> str:
        """The text of the last message (a saved change, or why one was refused), empty when there is none."""
        return plain_text(self._message.object)

    @param.depends("account_manager", "owner", "close_from", "close_to", watch=True)
    def refresh(self) -> None:
        args = {"account_manager": self.account_manager or None, "owner": self.owner or None,
                "close_from": self.close_from, "close_to": self.close_to}
        stages = self.store.pipeline(**args)
        base = self.store.settings().base_currency
        rows = [[esc(r.stage if isinstance(r.stage, str) and r.stage else _("No stage")),  # its own row
                 esc(int(r.count)), esc(formatting.money(r.amount, base)),
                 esc(formatting.money(r.weighted, base))] for r in stages.itertuples(index=False)]
        total = [esc(_("Total")), esc(int(stages["count"].sum())),
                 esc(formatting.money(stages["amount"].sum(), base)),
                 esc(formatting.money(stages["weighted"].sum(), base))]
        self._summary.object = table([(_("Stage"), False), (_("Open"), True), (_("Sum"), True),
                                      (_("Weighted"), True)], rows, css_id="cc-pipeline-stages", total=total)
        frame = self.store.open_opportunities(**args)
        # dates as ISO text (sorted as dates) shown as the reader's language writes them; statuses in it too
        closes = pd.to_datetime(frame["expected_close"]).dt.date
        frame["expected_close"] = closes.map(lambda day: day.isoformat() if pd.notna(day) else "")
        # The table groups rows by stage in the order the groups first appear: the pipeline's order (the admin
        # list's), each stage's rows as they came (soonest close first).
        order = {stage: i for i, stage in enumerate(self.store.choices().allowed("opportunity_stages"))}
        frame = frame.iloc[frame["stage"].map(order).fillna(len(order)).argsort(kind="stable")]
        self.frame = frame[SHOWN].reset_index(drop=True)
        pages = max(1, -(-len(self.frame) // PAGE_SIZE))
        if self.page > pages:
            self.page = pages  # (shows that page)
        else:
            self._show_page()

    @param.depends("page", watch=True)
    def _show_page(self) -> None:
        """The current page of the table: its rows under their stage, each opportunity known by its id (a button
        names the opportunity it was drawn for, however the table changed since)."""
        shown_rows = self.frame.iloc[(self.page - 1) * PAGE_SIZE:self.page * PAGE_SIZE]
        rows: list[dict[str, Any]] = []
        group: Any = object()  # the stage of the group drawn last (none yet)
        for r in shown_rows.itertuples(index=False):
            stage = r.stage if isinstance(r.stage, str) else ""  # none: a missing value (NaN) in the frame
            if stage != group:
                group = stage
                rows.append({"_group": stage or _("No stage")})
            rows.append({"_id": int(r.id), "href": f"/card?customer={int(r.customer_id)}",
                         "customer_name": r.customer_name or "", "title": r.title or "", "stage": stage,
                         "status": _(r.status) if r.status else "", "lost_reason": r.lost_reason or "",
                         "amount": formatting.number(r.amount), "currency": r.currency or "",
                         "probability": formatting.typed(r.probability),
                         "weighted": formatting.number(r.weighted),
                         "expected_close": formatting.date(dt.date.fromisoformat(r.expected_close))
                         if r.expected_close else "",
                         "owner_name": r.owner_name or ""})
        self._table.rows = rows
        total = len(self.frame)
        first, last = (self.page - 1) * PAGE_SIZE + 1 if total else 0, min(self.page * PAGE_SIZE, total)
        self._count.object = '<span class="cc-count-text">{}</span>'.format(esc(
            _("Opportunities {first}–{last} of {total}").format(
                first=formatting.number(first), last=formatting.number(last), total=formatting.number(total))))
        self._prev.disabled = self.page <= 1
        self._next.disabled = last >= total

    def _turn(self, step: int) -> None:
        pages = max(1, -(-len(self.frame) // PAGE_SIZE))
        self.page = min(max(1, self.page + step), pages)

    def _on_open(self, data: dict[str, Any]) -> None:
        try:
            opportunity_id = int(data.get("id"))
        except (TypeError, ValueError):
            return
        if self.can_edit:
            self.open_editor(opportunity_id)

    def open_editor(self, opportunity_id: int) -> RecordEditor | None:
        """Edit one opportunity (stage, status, reason lost, amount, probability, expected close) above the table:
        saved on the version shown, a change by someone else meanwhile is a conflict to resolve."""
        return open_opportunity_editor(self, opportunity_id, "cc-pipeline-form")

    def change(self, opportunity_id: int, column: str, value: Any, version: int | None = None) -> bool:
        """Change one field of an opportunity (stage, status, reason, amount, probability) as the table showed it
        at ``version``: someone else's change since is not overwritten — the change is refused, and the table
        shows theirs."""
        if column not in EDITABLE:
            return False
        try:
            require_crm(self.store)
            opportunity = self.store.get_opportunity(opportunity_id)
            if version is not None:
                opportunity.version = version
            errors = opportunity.update_from({column: value})
            if column == "status" and value == "won":
                opportunity.probability = 100.0
            if errors:
                raise ValidationError(errors)
            # drawn again below: not once more when the change comes back (it may come back before the save returns)
            self._own.add((opportunity.id, opportunity.version + 1))
            self.store.save_opportunity(opportunity, user=self.user)
        except ConflictError as exc:
            self._message.object = (f'<p style="color:#b42318"{live(False)} class="cc-pipeline-error">'
                                    f'{esc(self._stale(exc))}</p>')
            self.refresh()
            return False
        except (ValidationError, CustomerCardError) as exc:
            errors = getattr(exc, "errors", None)
            text = " ".join(errors.values()) if errors else str(exc)
            self._message.object = f'<p style="color:#b42318"{live(False)} class="cc-pipeline-error">{esc(text)}</p>'
            self.refresh()
            return False
        text = esc(_("Saved “{t}”.").format(t=isolated(opportunity.title)))
        self._message.object = f'<p style="color:#1d7a3c"{live()}>{text}</p>'
        self.refresh()
        return True

    def _show_changes(self, changes: list[Change]) -> None:
        """Others' changes: the table drawn again, an open editor marks what changed underneath it."""
        if self.editor is not None:
            self.editor.heard(changes)
        self.refresh()

    def _others_change(self, change: Change) -> bool:
        """A change this table did not make itself: of an opportunity (or a customer's name it shows)."""
        if change.kind == "opportunity":
            return (change.id, change.version) not in self._own
        return change.kind in ("customer", "admin")  # (an administrator's change: a stage renamed, reordered …)

    def _stale(self, exc: ConflictError) -> str:
        """What a refused stale change says: the fields someone changed, their values now, and who."""
        if not exc.conflicts:
            return _("Not saved: the opportunity was changed meanwhile. The table shows it as it is now.")
        changed = "; ".join(
            _("{field} is now {value} ({who})").format(
                field=_(Opportunity.param[c.field].label), who=self.store.user_name(c.changed_by),
                value=shown(Opportunity, c.field, c.stored, self.store.user_name, self.store.settings().time_zone))
            for c in exc.conflicts)
        return _("Not saved: changed meanwhile — {changes}. The table shows it as it is now; change it again if you "
                 "still want to.").format(changes=changed)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(wrapping(*self._filters),
                         self._summary, self._message, self._editor_box, self._table,
                         wrapping(self._prev, self._next, self._count, align_items="center"),
                         sizing_mode="stretch_width")



VIEWS = ("board", "table")


class PipelinePage(pn.viewable.Viewer):
    """The pipeline page: the board or the table, and the links between them (a link, so the URL says which)."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the opportunities come from.")
    user = param.String(default="", doc="Who looks and acts.")
    view = param.Selector(default="board", objects=list(VIEWS), doc="The board (default) or the table.")
    account_manager = param.String(default="", doc="Only customers of this account manager (login; the table).")
    owner = param.String(default="", doc="Only opportunities owned by this user (login).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        from .pipeline_board import PipelineBoard

        self.body = (PipelineBoard(store=self.store, user=self.user, owner=self.owner) if self.view == "board"
                     else PipelineTable(store=self.store, user=self.user, account_manager=self.account_manager,
                                        owner=self.owner))
        # the CRM module switched off by an administrator while the page is open: the page says so in place of
        # the board (its moves were refused, its columns left as they were); switched on again, it comes back
        self._off = pn.pane.HTML("", visible=False, sizing_mode="stretch_width", css_classes=["cc-pipeline-off"])
        self._shown = pn.Column(self.body, sizing_mode="stretch_width", margin=0)
        self._switch_follower = Follower(self.store, lambda change: change.kind == "admin", self._admin_changed)

    @property
    def switched_off(self) -> bool:
        """Whether the page says the CRM module is switched off (its board or table taken away)."""
        return self._off.visible and not self._shown.visible

    @property
    def switch_note(self) -> str:
        """What the page says in place of the board or table (HTML; '' while the module is on)."""
        return self._off.object

    def _admin_changed(self, _changes: list[Change]) -> None:
        off = not self.store.settings().crm_enabled
        if off == self._off.visible:
            return
        with pn.io.hold():
            self._off.object = note_html(_("The CRM module is switched off (System administration → Customers → "
                                           "Settings)."), ok=False) if off else ""
            self._off.visible, self._shown.visible = off, not off
        if not off:
            self.body.refresh()

    def views_nav(self) -> str:
        """The links between the board and the table, as HTML (the one shown marked as the current page)."""
        links = []
        for view, label, href in (("board", _("Board"), "/pipeline"), ("table", _("Table"), "/pipeline?view=table")):
            current = ' aria-current="page" class="cc-view-current"' if view == self.view else ""
            links.append(f'<a href="{href}" data-view="{view}"{current}>{esc(label)}</a>')
        return f'<nav aria-label="{esc(_("Pipeline views"))}" class="cc-pipeline-views">{" ".join(links)}</nav>'

    def __panel__(self) -> pn.viewable.Viewable:
        heading = pn.pane.HTML(page_heading(_("Pipeline")), margin=(0, 10))
        switch = pn.pane.HTML(self.views_nav(), margin=(0, 10), stylesheets=[assets.text("pipeline_switch.css")],
                              css_classes=["cc-pipeline-switch"])
        return pn.Column(heading, switch, self._off, self._shown, sizing_mode="stretch_width")
