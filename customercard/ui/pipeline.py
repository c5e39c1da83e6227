"""The pipeline: every open opportunity by stage, with count, sum and probability-weighted sum per stage.

Filters for account manager, owner and expected close period. Stage, status and amount are edited in the
table (each change goes through the model and the store, recorded in history); links open the cards.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import panel as pn
import param
from panel.io.model import JSCode

from .. import formatting
from ..errors import ConflictError, CustomerCardError, ValidationError
from ..i18n import _, current_language, supported
from ..models import OPPORTUNITY_STATUSES, Opportunity
from ..store import STORE_TYPES, Change
from .editor import RecordEditor
from .form import DatePicker, date_format
from .html import SECTION_CSS, esc, table
from .live import Follower
from .values import shown

EDITABLE = {"stage", "status", "lost_reason", "amount", "probability"}
EDIT_FIELDS = ["stage", "status", "lost_reason", "amount", "probability", "expected_close"]
SHOWN = ["id", "version", "customer_id", "customer_name", "title", "stage", "status", "lost_reason", "amount",
         "currency", "probability", "weighted", "expected_close", "owner_name"]
HIDDEN = ["id", "version", "customer_id"]


def tabulator_texts() -> dict[str, Any]:
    """The table's own words (paging, group headers and counts) in the reader's language, as Tabulator's
    ``locale``/``langs`` configuration and a group header that names the stage as the column does (Panel writes
    the field's name: 'stage: Lead')."""
    language = supported(current_language()) or "en"
    header = (f"(value, count) => {json.dumps(_('Stage') + ': ')} + String(value).replace(/^stage: /, '') + "
              f"' <span>(' + count + ' ' + (count === 1 ? {json.dumps(_('item'))} : {json.dumps(_('items'))}) + "
              "')</span>'")
    return {"groupHeader": JSCode(header), "locale": language, "langs": {language: {
        "groups": {"item": _("item"), "items": _("items")},
        "data": {"loading": _("Loading"), "error": _("Error")},
        "pagination": {"page_size": _("Page size"), "page_title": _("Show page"), "first": _("First"),
                       "first_title": _("First page"), "last": _("Last"), "last_title": _("Last page"),
                       "prev": _("Prev"), "prev_title": _("Previous page"), "next": _("Next"),
                       "next_title": _("Next page"), "all": _("All"),
                       "counter": {"showing": _("Showing"), "of": _("of"), "rows": _("rows"), "pages": _("pages")}},
    }}}


def money_format() -> dict[str, Any]:
    """Tabulator's money formatter writing whole amounts with the reader's language's marks."""
    marks = formatting.symbols()
    return {"type": "money", "thousand": marks["group"], "decimal": marks["decimal"], "precision": 0}


class PipelinePage(pn.viewable.Viewer):
    """Open opportunities across customers, grouped by stage, editable by managers and administrators."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the opportunities come from.")
    user = param.String(default="", doc="Who looks and acts.")
    account_manager = param.String(default="", doc="Only customers of this account manager (login).")
    owner = param.String(default="", doc="Only opportunities owned by this user (login).")
    close_from = param.CalendarDate(default=None, allow_None=True, doc="Expected to close on or after.")
    close_to = param.CalendarDate(default=None, allow_None=True, doc="Expected to close on or before.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store
        users = store.users(include_inactive=True)
        people = {_("Everyone"): "", **dict(zip(users["name"], users["login"], strict=True))}
        self._filters = [
            pn.widgets.Select.from_param(self.param.account_manager, label=_("Account manager"), options=people,
                                         css_classes=["cc-pipeline-manager"], width=200),
            pn.widgets.Select.from_param(self.param.owner, label=_("Owner"), options=people,
                                         css_classes=["cc-pipeline-owner"], width=200),
            DatePicker.from_param(self.param.close_from, label=_("Closing from"), width=160,
                                  date_format=date_format()),
            DatePicker.from_param(self.param.close_to, label=_("Closing until"), width=160,
                                  date_format=date_format()),
        ]
        self.can_edit = store.can(self.user, "write")
        # Cells are not edited in the table: Panel's table names an edited row by its position, and a table drawn
        # again meanwhile (someone's change arriving) put the edit on another opportunity. A click opens the
        # opportunity in an editor instead, which names it and saves it on the version it shows.
        editors: dict[str, Any] = dict.fromkeys(SHOWN)
        self.editor: RecordEditor | None = None
        self._editor_box = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["cc-pipeline-editor"])
        self._summary = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width",
                                     css_classes=["cc-pipeline-summary"])
        self._message = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-pipeline-message"])
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=SHOWN), editors=editors, show_index=False, groupby=["stage"], pagination="local",
            page_size=50, sizing_mode="stretch_width", hidden_columns=HIDDEN, selectable=False,
            layout="fit_columns",  # every column within the page's width (the owner was cut off)
            formatters=self._formatters([]), configuration=tabulator_texts(),
            titles={"customer_name": _("Customer"), "title": _("Opportunity"), "stage": _("Stage"),
                    "status": _("Status"), "lost_reason": _("Reason lost"), "amount": _("Amount"),
                    "currency": _("Currency"), "probability": _("Probability (%)"), "weighted": _("Weighted"),
                    "expected_close": _("Expected close"), "owner_name": _("Owner")},
            css_classes=["cc-pipeline-table"])
        if self.can_edit:
            self._table.on_click(self._on_click)
        self.refresh()
        # others' changes of opportunities (and of customers' names) show without a reload
        self._own: set[tuple[int, int]] = set()
        self._follower = Follower(store, self._others_change, self._show_changes, delay=1.0)

    @param.depends("account_manager", "owner", "close_from", "close_to", watch=True)
    def refresh(self) -> None:
        args = {"account_manager": self.account_manager or None, "owner": self.owner or None,
                "close_from": self.close_from, "close_to": self.close_to}
        stages = self.store.pipeline(**args)
        base = self.store.settings().base_currency
        rows = [[esc(r.stage), esc(int(r.count)), esc(formatting.money(r.amount, base)),
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
        self._table.formatters = self._formatters([day for day in closes if pd.notna(day)])
        # The table groups rows by stage in the order the groups first appear: the pipeline's order (the admin
        # list's), each stage's rows as they came (soonest close first).
        order = {stage: i for i, stage in enumerate(self.store.choices().allowed("opportunity_stages"))}
        frame = frame.iloc[frame["stage"].map(order).fillna(len(order)).argsort(kind="stable")]
        # rows are known by the opportunity's id, not by their position: an edit made in the browser names the row
        # it was made in, even when the table was drawn again meanwhile (a position would name another row then)
        self._table.value = frame[SHOWN].set_index(pd.Index(frame["id"].astype(int), name="key"))

    @staticmethod
    def _formatters(dates: list[Any]) -> dict[str, Any]:
        """The table's cell formatters: links to the cards, amounts with the language's marks, each expected close
        date and status as the reader reads it (Tabulator's lookup)."""
        return {"customer_name": {"type": "link", "urlPrefix": "/card?customer=", "urlField": "customer_id",
                                  "labelField": "customer_name"},
                "amount": money_format(), "weighted": money_format(), "probability": money_format(),
                "expected_close": {"type": "lookup", "": "", **{day.isoformat(): formatting.date(day)
                                                               for day in dates}},
                "status": {"type": "lookup", **{status: _(status) for status in OPPORTUNITY_STATUSES}}}

    def _on_click(self, event: Any) -> None:
        if event.column == "customer_name":
            return  # the link to the card
        row = self._table.value.iloc[event.row]
        self.open_editor(int(row["id"]))

    def open_editor(self, opportunity_id: int) -> RecordEditor | None:
        """Edit one opportunity (stage, status, reason lost, amount, probability, expected close) above the table:
        saved on the version shown, a change by someone else meanwhile is a conflict to resolve."""
        store = self.store
        try:
            opportunity = store.get_opportunity(opportunity_id)
        except CustomerCardError:
            return None
        customer = store.customer_names([opportunity.customer_id]).get(opportunity.customer_id, ("", None))[0]

        def done(saved: Any) -> None:
            self.editor = None
            self._editor_box.objects = []
            self._message.object = f'<p style="color:#1d7a3c">{esc(_("Saved “{t}”.").format(t=saved.title))}</p>'
            self._redraw()

        def cancelled() -> None:
            self.editor = None
            self._editor_box.objects = []

        def by_status(draft: Any) -> None:
            if draft.status == "won":
                draft.probability = 100.0
            elif draft.status == "lost":
                draft.probability = 0.0

        def save(draft: Any) -> Any:
            self._own.add((draft.id, draft.version + 1))  # drawn again by done(): not once more when it comes back
            return store.save_opportunity(draft, user=self.user)
        self.editor = RecordEditor(opportunity, EDIT_FIELDS, save=save, reload=lambda: store.get_opportunity(
            opportunity_id), done=done, cancelled=cancelled, prepare=by_status, css="cc-pipeline-form",
            title=f"{opportunity.title} — {customer}", columns=3, user_name=store.user_name,
            zone=store.settings().time_zone)
        self._editor_box.objects = [self.editor.__panel__()]
        self._message.object = ""
        return self.editor

    def change(self, opportunity_id: int, column: str, value: Any, version: int | None = None) -> bool:
        """Change one field of an opportunity (stage, status, reason, amount, probability) as the table showed it
        at ``version``: someone else's change since is not overwritten — the change is refused, and the table
        shows theirs."""
        if column not in EDITABLE:
            return False
        try:
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
            self._message.object = f'<p style="color:#b42318" class="cc-pipeline-error">{esc(self._stale(exc))}</p>'
            self._redraw()
            return False
        except (ValidationError, CustomerCardError) as exc:
            errors = getattr(exc, "errors", None)
            text = " ".join(errors.values()) if errors else str(exc)
            self._message.object = f'<p style="color:#b42318" class="cc-pipeline-error">{esc(text)}</p>'
            self._redraw()
            return False
        self._message.object = f'<p style="color:#1d7a3c">{esc(_("Saved “{t}”.").format(t=opportunity.title))}</p>'
        self._redraw()
        return True

    def _redraw(self) -> None:
        """Draw the table again after a change made in it — on the next tick when served: Panel does not send a
        table's new value while it still handles the edit that came from it."""
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            doc.add_next_tick_callback(self.refresh)
        else:
            self.refresh()

    def _show_changes(self, changes: list[Change]) -> None:
        """Others' changes: the table drawn again, an open editor marks what changed underneath it."""
        if self.editor is not None:
            self.editor.heard(changes)
        self.refresh()

    def _others_change(self, change: Change) -> bool:
        """A change this table did not make itself: of an opportunity (or a customer's name it shows)."""
        if change.kind == "opportunity":
            return (change.id, change.version) not in self._own
        return change.kind == "customer"

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
        return pn.Column(pn.pane.HTML(f"<h2>{esc(_('Pipeline'))}</h2>", margin=(0, 10)), pn.Row(*self._filters),
                         self._summary, self._message, self._editor_box, self._table, sizing_mode="stretch_width")

