"""The pipeline board: a column per stage of open opportunities, as cards, each column with its count, sum and
probability-weighted sum in the base currency.

The cards are light HTML drawn by one browser component (:class:`BoardColumns`), a column's first cards only,
more on "Show more" or when the column is scrolled to its end. A card moves to another stage by mouse (drag and
drop), or by keyboard (its "Move to" list, or the arrow keys on the focused card, said in a live region); the
browser sends only the move — the opportunity, the version it was drawn from and the stage — and the server saves
it on that version: someone else's change since is refused as a conflict that names the stored values. A card's
title opens the opportunity in an editor above the board. Viewers see the board without any of that.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pandas as pd
import panel as pn
import param

from .. import formatting
from ..errors import ConflictError, CustomerCardError, ValidationError
from ..i18n import _
from ..models import Opportunity
from ..store import STORE_TYPES, Change
from . import assets
from .accessibility import live
from .choices import people_options
from .components import LightComponent, light_scripts
from .editor import RecordEditor
from .html import esc, isolated, plain_text, rows_of
from .live import Follower
from .opportunity_editor import open_opportunity_editor
from .switches import require_crm
from .values import shown
from .widgets import wrapping

#: Cards drawn per column at first, and how many more each "Show more" draws.
FIRST_CARDS = 12
MORE_CARDS = 20

BOARD_CSS = assets.text("board.css")


def people_filter(store: Any, *chosen: str) -> dict[str, str]:
    """The people a pipeline filters by, {name: login} after "Everyone": those who may own opportunities and manage
    customers (a viewer does neither), and whoever a filter names now (a manager made a viewer since, from a link)."""
    users = store.users(include_inactive=True)
    kept = users[(users["role"] != "viewer") | users["login"].isin([c for c in chosen if c])]
    return {_("Everyone"): "", **people_options(zip(kept["login"], kept["name"], strict=True))}


class BoardColumns(LightComponent):
    """The board in the browser: ``columns`` (dicts: ``stage``, ``label``, ``count``, ``sum``, ``weighted``,
    ``more`` — how many cards are not drawn — and ``cards``: dicts of display texts with ``id`` and ``version``).

    Messages to the server: ``{"action": "move", "id", "version", "stage"}``, ``{"action": "more", "stage"}``,
    ``{"action": "open", "id"}``. All text is inserted as text, never as HTML."""

    columns = param.List(default=[], doc="The stages' columns with their drawn cards, as display texts.")
    can_move = param.Boolean(default=False, doc="Whether cards can be moved and opened (not for viewers).")
    texts = param.Dict(default={}, doc="The component's words in the reader's language.")

    _stylesheets: ClassVar[list[str]] = [BOARD_CSS]

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._callbacks: list = []

    def on_message(self, callback) -> None:  # any callable taking the message
        """Call ``callback(message)`` for each move, open and show-more the browser sends."""
        self._callbacks.append(callback)

    def _handle_msg(self, data: dict) -> None:
        if data.get("action") in {"move", "more", "open"}:
            for callback in self._callbacks:
                callback(data)

    _scripts = light_scripts(assets.text("board.js"), ["columns", "can_move", "texts"])


def whole(value: Any) -> int | None:
    """A whole number sent by the browser (JavaScript has only one kind of number), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def month_options(summary: pd.DataFrame) -> dict[str, str]:
    """The months of a :meth:`~customercard.store.Store.pipeline_summary`, as the reader's language names them →
    'YYYY-MM'."""
    months = sorted(month for month in summary["month"].unique() if month is not None and pd.notna(month))
    return {formatting.month(month): f"{month.year:04d}-{month.month:02d}" for month in months}


def stale_message(store: Any, exc: ConflictError) -> str:
    """What a refused stale move or edit says: the fields someone changed, their stored values now, and who."""
    if not exc.conflicts:
        return _("Not saved: the opportunity was changed meanwhile. The board shows it as it is now.")
    zone = store.settings().time_zone
    changed = "; ".join(
        _("{field} is now {value} ({who})").format(
            field=_(Opportunity.param[c.field].label), who=store.user_name(c.changed_by),
            value=shown(Opportunity, c.field, c.stored, store.user_name, zone))
        for c in exc.conflicts)
    return _("Not saved: changed meanwhile — {changes}. The board shows it as it is now; move it again if you still "
             "want to.").format(changes=changed)


class PipelineBoard(pn.viewable.Viewer):
    """Open opportunities as cards in a column per stage; managers and administrators move and edit them."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the opportunities come from.")
    user = param.String(default="", doc="Who looks and acts.")
    owner = param.String(default="", doc="Only opportunities owned by this user (login).")
    close_month = param.String(default="", doc="Only opportunities expected to close in this month ('YYYY-MM').")
    customer = param.String(default="", doc="Only opportunities of customers whose name contains this text.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store
        self.can_edit = store.can(self.user, "write")
        self.base = store.settings().base_currency
        self.shown_per_stage: dict[str, int] = {}
        self._moved: int | None = None  # the card this user moved last (drawn in its column, see _kept_card)
        self.frame = pd.DataFrame()
        self.summary = pd.DataFrame(columns=["count", "amount", "weighted"])
        self.editor: RecordEditor | None = None
        people = people_filter(store, self.owner)
        self._months = pn.widgets.Select.from_param(self.param.close_month, label=_("Expected to close in"),
                                                    options={_("Any month"): ""}, width=200,
                                                    css_classes=["cc-board-month"])
        self._filters = [
            pn.widgets.Select.from_param(self.param.owner, label=_("Owner"), options=people, width=200,
                                         css_classes=["cc-board-owner"]),
            self._months,
            pn.widgets.TextInput.from_param(self.param.customer, label=_("Customer"), width=220,
                                            placeholder=_("Part of the name"), css_classes=["cc-board-customer"]),
        ]
        self._message = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-board-message"])
        self._editor_box = pn.Column(sizing_mode="stretch_width", margin=0, css_classes=["cc-board-editor"])
        self.board = BoardColumns(can_move=self.can_edit, texts=self._texts(), sizing_mode="stretch_width",
                                  css_classes=["cc-board-view"])
        self.board.on_message(self._on_message)
        self.refresh()
        self._own: set[tuple[int, int]] = set()
        self._follower = Follower(store, self._others_change, self._heard, delay=1.0)

    @staticmethod
    def _texts() -> dict[str, str]:
        return {"customer": _("Customer"), "amount": _("Amount"), "probability": _("Probability"),
                "close": _("Expected close"), "owner": _("Owner"), "move_to": _("Move to…"),
                "move_to_named": _("Move “{title}” to"), "show_more": _("Show more ({n} more)"),
                "empty": _("No opportunities."), "moving": _("Moving “{title}” to {stage}…"),
                "no_further": _("No stage further that way."),
                "hint": _("Drag a card to another stage, or focus it and press the left or right arrow key, or choose "
                          "the stage in its Move to list (by keyboard: arrow to the stage, then press Enter). Click a "
                          "card or press Enter on it to edit it."),
                "read_only": _("You can read the pipeline; moving and editing opportunities is for managers.")}

    # -- data -----------------------------------------------------------------------------------------------
    @param.depends("owner", "close_month", "customer", watch=True)
    def _filtered(self) -> None:
        self._moved = None  # other filters: the board as they say
        self.refresh()

    def refresh(self) -> None:
        """Read the columns' sums and their first cards again (each column as many as it showed), and draw them.
        The database sums and picks the cards: only what is drawn comes to the page, however many are open."""
        filters = {"owner": self.owner or None, "customer_text": self.customer.strip() or None}
        summary = self.store.pipeline_summary(**filters)
        months = month_options(summary)
        options = {_("Any month"): "", **months}
        if self.close_month and self.close_month not in months.values():
            options[self.close_month] = self.close_month  # a month with nothing (left): kept, showing nothing
        self._months.options = options
        start = end = None
        if self.close_month:
            year, month = (int(part) for part in self.close_month.split("-"))
            start = dt.date(year, month, 1)
            end = dt.date(year, 12, 31) if month == 12 else dt.date(year, month + 1, 1) - dt.timedelta(days=1)  # noqa: PLR2004 - December
            summary = summary[summary["month"] == start]
        # an open opportunity without a stage is on the board too, in a column of its own ("" is its key)
        summary = summary.assign(stage=summary["stage"].fillna(""))
        self.summary = summary.groupby("stage")[["count", "amount", "weighted"]].sum()
        per_stage = max([FIRST_CARDS, *self.shown_per_stage.values()])
        self.frame = self.store.pipeline_cards(**filters, close_from=start, close_to=end, per_stage=per_stage)
        self._draw()

    def stages(self) -> list[str]:
        """The board's columns: open opportunities without a stage first ("", when there are any), the active
        stages in the pipeline's order, then any stage an open opportunity is still in that is no longer active."""
        stages = list(self.store.choices().allowed("opportunity_stages"))
        unstaged = [""] if "" in self.summary.index and self.summary.loc[""]["count"] > 0 else []
        return unstaged + stages + sorted(s for s in self.summary.index if s and s not in stages)

    @staticmethod
    def stage_label(stage: str) -> str:
        """A column's heading: the stage, or "No stage" for the opportunities without one."""
        return stage or _("No stage")

    def _draw(self) -> None:
        frame = self.frame.assign(stage=self.frame["stage"].fillna("")) if len(self.frame) else self.frame
        groups = dict(tuple(frame.groupby("stage", sort=False))) if len(frame) else {}
        columns = []
        self._texts_of: dict[tuple[str, Any], str] = {}  # amounts, dates and percentages repeat: formatted once
        kept = self._kept_card()
        for stage in self.stages():
            rows = groups.get(stage, frame.iloc[0:0])
            count, amount, weighted = (self.summary.loc[stage] if stage in self.summary.index else (0, 0.0, 0.0))
            limit = self.shown_per_stage.get(stage, FIRST_CARDS)
            cards = [self._card(r) for r in rows_of(rows.iloc[:limit])]
            if kept is not None and kept[0] == stage and kept[1]["id"] not in {card["id"] for card in cards}:
                cards.append(kept[1])  # moved here by this user beyond the cards drawn: drawn all the same (at the end)
            more = max(0, int(count) - len(cards))
            columns.append({
                "stage": stage, "label": self.stage_label(stage), "count": formatting.number(int(count)),
                "sum": _("Sum {amount}").format(amount=formatting.money(float(amount), self.base)),
                "weighted": _("Weighted {amount}").format(amount=formatting.money(float(weighted), self.base)),
                "more": more, "more_text": formatting.number(min(more, MORE_CARDS)), "cards": cards})
        self.board.columns = columns

    def _kept_card(self) -> tuple[str, dict[str, Any]] | None:
        """(its column, its card) for the card this user just moved, when the board's filters show it: drawn in its
        column even when it sorts after the cards drawn there, so a keyboard user goes on from it and sees where it
        went."""
        kept = self._moved
        if kept is None or self.customer.strip():
            return None
        try:
            opportunity = self.store.get_opportunity(kept)
        except CustomerCardError:
            return None
        if opportunity.status != "pipeline" or (self.owner and opportunity.owner != self.owner):
            return None
        if self.close_month and (opportunity.expected_close is None or
                                 opportunity.expected_close.strftime("%Y-%m") != self.close_month):
            return None
        rows = self.store.opportunities(opportunity.customer_id, status="pipeline")
        rows = rows[rows["id"] == kept]
        return (opportunity.stage or "", self._card(next(rows_of(rows)))) if len(rows) else None

    def _text(self, kind: str, value: Any, make: Any) -> str:
        key = (kind, value)
        if key not in self._texts_of:
            self._texts_of[key] = make()
        return self._texts_of[key]

    def _card(self, r: Any) -> dict[str, Any]:
        currency = r.currency or self.base
        close = r.expected_close if r.expected_close is not None and pd.notna(r.expected_close) else None
        return {"id": int(r.id), "version": int(r.version), "title": r.title or "", "customer": r.customer_name or "",
                "href": f"/card?customer={int(r.customer_id)}",
                "amount": self._text(currency, r.amount, lambda: formatting.money(r.amount, currency)),
                "probability": self._text("%", r.probability, lambda: formatting.percent(r.probability, None)),
                "close": self._text("date", close, lambda: formatting.date(pd.Timestamp(close))) if close else "",
                "owner": r.owner_name or ""}

    def show_more(self, stage: str) -> None:
        """Draw more of a column's cards."""
        self.shown_per_stage[stage] = self.shown_per_stage.get(stage, FIRST_CARDS) + MORE_CARDS
        self.refresh()

    @property
    def message(self) -> str:
        """The text of the last message (a move saved, or why it was refused), empty when there is none."""
        return plain_text(self._message.object)

    # -- actions --------------------------------------------------------------------------------------------
    def _on_message(self, data: dict[str, Any]) -> None:
        action = data.get("action")
        if action == "more" and isinstance(data.get("stage"), str):
            self.show_more(data["stage"])
            return
        try:
            opportunity_id = int(data.get("id"))
        except (TypeError, ValueError):
            return
        if action == "open":
            self.open_editor(opportunity_id)
        elif action == "move" and isinstance(data.get("stage"), str):
            self.move(opportunity_id, data["stage"], whole(data.get("version")))

    def _say(self, text: str, ok: bool) -> None:
        colour, css = ("#1d7a3c", "cc-board-ok") if ok else ("#b42318", "cc-board-error")
        self._message.object = f'<p style="color:{colour}"{live(ok)} class="{css}">{esc(text)}</p>'

    def move(self, opportunity_id: int, stage: str, version: int | None) -> bool:
        """Move an opportunity to ``stage`` as the board showed it at ``version``: someone else's change since is
        refused as a conflict (the message says what is stored now), and the board is drawn as it is now. A move
        that does not say its version is refused (it could overwrite what it never saw)."""
        try:
            if not self.can_edit:
                raise CustomerCardError(_("Only managers and administrators can move opportunities."))
            if version is None:
                raise CustomerCardError(_("Not saved: the board did not say which version it showed. Reload the "
                                          "page and move it again."))
            require_crm(self.store)
            opportunity = self.store.get_opportunity(opportunity_id)
            opportunity.version = version
            errors = opportunity.update_from({"stage": stage or None})
            if errors:
                raise ValidationError(errors)
            self._own.add((opportunity.id, opportunity.version + 1))
            self.store.save_opportunity(opportunity, user=self.user)
        except ConflictError as exc:
            self._say(stale_message(self.store, exc), ok=False)
            self.refresh()
            return False
        except (ValidationError, CustomerCardError) as exc:
            errors = getattr(exc, "errors", None)
            self._say(" ".join(errors.values()) if errors else str(exc), ok=False)
            self.refresh()
            return False
        self._say(_("Moved “{title}” to {stage}.").format(title=isolated(opportunity.title),
                                                           stage=self.stage_label(stage)), ok=True)
        self._moved = opportunity.id  # drawn in its new column even beyond the cards shown there
        self.refresh()
        return True

    def open_editor(self, opportunity_id: int) -> RecordEditor | None:
        """Edit one opportunity above the board, saved on the version it shows (a change meanwhile is a conflict
        to resolve, never overwritten)."""
        if not self.can_edit:
            return None
        return open_opportunity_editor(self, opportunity_id, "cc-board-form", "cc-board-ok")

    # -- others' changes ------------------------------------------------------------------------------------
    def _others_change(self, change: Change) -> bool:
        if change.kind == "opportunity":
            return (change.id, change.version) not in self._own
        return change.kind in ("customer", "admin")  # (an administrator's change: a stage renamed, reordered …)

    def _heard(self, changes: list[Change]) -> None:
        if self.editor is not None:
            self.editor.heard(changes)
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(wrapping(*self._filters), self._message, self._editor_box, self.board,
                         sizing_mode="stretch_width")

