"""The pipeline: every open opportunity by stage, with count, sum and probability-weighted sum per stage.

Filters for account manager, owner and expected close period. Stage, status and amount are edited in the
table (each change goes through the model and the store, recorded in history); links open the cards.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

from .. import formatting
from ..errors import ConflictError, CustomerCardError, ValidationError
from ..i18n import _
from ..models import OPPORTUNITY_STATUSES, Opportunity
from ..store import Store
from .html import SECTION_CSS, esc, table
from .live import Follower
from .values import shown

EDITABLE = {"stage", "status", "lost_reason", "amount", "probability"}
SHOWN = ["id", "version", "customer_id", "customer_name", "title", "stage", "status", "lost_reason", "amount",
         "currency", "probability", "weighted", "expected_close", "owner_name"]
HIDDEN = ["id", "version", "customer_id"]


class PipelinePage(pn.viewable.Viewer):
    """Open opportunities across customers, grouped by stage, editable by managers and administrators."""

    store = param.ClassSelector(class_=Store, doc="Where the opportunities come from.")
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
            pn.widgets.DatePicker.from_param(self.param.close_from, label=_("Closing from"), width=160),
            pn.widgets.DatePicker.from_param(self.param.close_to, label=_("Closing until"), width=160),
        ]
        self.can_edit = store.can(self.user, "write")
        stages = store.choices().allowed("opportunity_stages")
        editors: dict[str, Any] = {column: None for column in SHOWN if column not in EDITABLE or not self.can_edit}
        if self.can_edit:
            editors.update({"stage": {"type": "list", "values": stages},
                            "status": {"type": "list", "values": list(OPPORTUNITY_STATUSES)},
                            "lost_reason": {"type": "input"}, "amount": {"type": "number", "min": 0},
                            "probability": {"type": "number", "min": 0, "max": 100}})
        self._summary = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width",
                                     css_classes=["cc-pipeline-summary"])
        self._message = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-pipeline-message"])
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=SHOWN), editors=editors, show_index=False, groupby=["stage"], pagination="local",
            page_size=50, sizing_mode="stretch_width", hidden_columns=HIDDEN, disabled=not self.can_edit,
            layout="fit_columns",  # every column within the page's width (the owner was cut off)
            formatters={"customer_name": {"type": "link", "urlPrefix": "/card?customer=", "urlField": "customer_id",
                                          "labelField": "customer_name"},
                        "amount": {"type": "money", "thousand": " ", "precision": 0},
                        "weighted": {"type": "money", "thousand": " ", "precision": 0},
                        "probability": {"type": "money", "precision": 0}},
            titles={"customer_name": _("Customer"), "title": _("Opportunity"), "stage": _("Stage"),
                    "status": _("Status"), "lost_reason": _("Reason lost"), "amount": _("Amount"),
                    "currency": _("Currency"), "probability": _("Probability (%)"), "weighted": _("Weighted"),
                    "expected_close": _("Expected close"), "owner_name": _("Owner")},
            css_classes=["cc-pipeline-table"])
        self._table.on_edit(self._on_edit)
        self.refresh()
        # others' changes of opportunities (and of customers' names) show without a reload
        self._follower = Follower(store, lambda change: change.kind in ("opportunity", "customer"),
                                  lambda _changes: self.refresh(), delay=0.3)

    @param.depends("account_manager", "owner", "close_from", "close_to", watch=True)
    def refresh(self) -> None:
        args = {"account_manager": self.account_manager or None, "owner": self.owner or None,
                "close_from": self.close_from, "close_to": self.close_to}
        stages = self.store.pipeline(**args)
        locale, base = self.store.settings().locale, self.store.settings().base_currency
        rows = [[esc(r.stage), esc(int(r.count)), esc(formatting.money(r.amount, base, locale)),
                 esc(formatting.money(r.weighted, base, locale))] for r in stages.itertuples(index=False)]
        total = [esc(_("Total")), esc(int(stages["count"].sum())),
                 esc(formatting.money(stages["amount"].sum(), base, locale)),
                 esc(formatting.money(stages["weighted"].sum(), base, locale))]
        self._summary.object = table([(_("Stage"), False), (_("Open"), True), (_("Sum"), True),
                                      (_("Weighted"), True)], rows, css_id="cc-pipeline-stages", total=total)
        frame = self.store.open_opportunities(**args)
        frame["expected_close"] = pd.to_datetime(frame["expected_close"]).dt.date
        # The table groups rows by stage in the order the groups first appear: the pipeline's order (the admin
        # list's), each stage's rows as they came (soonest close first).
        order = {stage: i for i, stage in enumerate(self.store.choices().allowed("opportunity_stages"))}
        frame = frame.iloc[frame["stage"].map(order).fillna(len(order)).argsort(kind="stable")]
        self._table.value = frame[SHOWN].reset_index(drop=True)

    def _on_edit(self, event: Any) -> None:
        row = self._table.value.iloc[event.row]
        self.change(int(row["id"]), event.column, event.value, version=int(row["version"]))

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
            self.store.save_opportunity(opportunity, user=self.user)
        except ConflictError as exc:
            self._message.object = f'<p style="color:#b42318" class="cc-pipeline-error">{esc(self._stale(exc))}</p>'
            self.refresh()
            return False
        except (ValidationError, CustomerCardError) as exc:
            errors = getattr(exc, "errors", None)
            text = " ".join(errors.values()) if errors else str(exc)
            self._message.object = f'<p style="color:#b42318" class="cc-pipeline-error">{esc(text)}</p>'
            self.refresh()
            return False
        self._message.object = f'<p style="color:#1d7a3c">{esc(_("Saved “{t}”.").format(t=opportunity.title))}</p>'
        self.refresh()
        return True

    def _stale(self, exc: ConflictError) -> str:
        """What a refused stale change says: the fields someone changed, their values now, and who."""
        if not exc.conflicts:
            return _("Not saved: the opportunity was changed meanwhile. The table shows it as it is now.")
        changed = "; ".join(
            _("{field} is now {value} ({who})").format(
                field=_(Opportunity.param[c.field].label), who=self.store.user_name(c.changed_by),
                value=shown(Opportunity, c.field, c.stored, self.store.user_name, self.store.settings().locale))
            for c in exc.conflicts)
        return _("Not saved: changed meanwhile — {changes}. The table shows it as it is now; change it again if you "
                 "still want to.").format(changes=changed)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.HTML(f"<h2>{esc(_('Pipeline'))}</h2>", margin=(0, 10)), pn.Row(*self._filters),
                         self._summary, self._message, self._table, sizing_mode="stretch_width")

