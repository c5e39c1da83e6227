"""The home page ("My customers", ``/``): what a person needs first thing — their follow-ups due and overdue, what
others changed on their customers since they last looked, their open pipeline by stage, their customers whose
invoicing this year falls behind last year's at the same date, and the cards they opened last.

A manager sees their own customers (those they are account manager of) and their own follow-ups; an administrator
sees the whole firm's customers and their own follow-ups; a viewer sees the whole firm and everyone's follow-ups,
and changes nothing. Every block links to what it counts (a card, Search customers with the right filter, the
pipeline). Each block is drawn on its own: one that fails says so in its place and the others are shown.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from urllib.parse import urlencode

import pandas as pd
import panel as pn
import param

from .. import formatting
from ..errors import ConflictError, CustomerCardError, NotFound
from ..i18n import N_, _, ngettext
from ..models import User
from ..store import STORE_TYPES
from .accessibility import token
from .components import CardView, SectionSlot
from .editor import RecordEditor
from .html import esc, isolated, link, page_heading, table
from .live import Follower
from .sections.base import action_button, note_html
from .sections.crm import conflict_text, seen_version
from .sections.follow_ups import FOLLOW_UP_FIELDS, follow_up_choices, follow_up_rows

log = logging.getLogger(__name__)

#: Follow-ups due within this many days are listed (overdue ones always).
DUE_WITHIN_DAYS = 7
#: The most follow-ups the home page lists (its count says how many there are).
HOME_FOLLOW_UPS = 200
#: The blocks, in order: key → title (managers' wording; the firm-wide one for administrators and viewers).
BLOCKS: dict[str, tuple[str, str]] = {
    "follow_ups": (N_("My follow-ups"), N_("Follow-ups due")),
    "changes": (N_("Changed by others on my customers"), N_("Changed by others")),
    "pipeline": (N_("My open pipeline"), N_("The open pipeline")),
    "behind": (N_("My customers invoicing less than last year"), N_("Customers invoicing less than last year")),
    "recent": (N_("Recently viewed"), N_("Recently viewed")),
}


class HomePage(pn.viewable.Viewer):
    """The home page of one user, as blocks in one card view."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where everything comes from.")
    user = param.ClassSelector(class_=User, doc="Whose home page it is.")
    today = param.CalendarDate(default=None, allow_None=True, doc="The day counted from (the firm's today).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store, user = self.store, self.user
        self.today = self.today or store.firm_today()
        #: Whose customers: a manager's own; administrators and viewers the whole firm's.
        self.manager = user.login if user.role == "manager" else None
        #: Whose follow-ups: a manager's and an administrator's own; a viewer everyone's.
        self.owner = user.login if user.role in ("manager", "admin") else None
        self.can_edit = store.can(user.login, "write")
        self.settings = store.settings()
        self.crm = self.settings.crm_enabled
        #: When the user looked last (before this look), and now this look is remembered.
        self.since = store.home_seen(user.login)
        try:
            store.mark_home_seen(user.login)
        except Exception:  # a read-only moment of the database: the page is still shown
            log.exception("Could not remember when %s looked at the home page", user.login)
        self._notes: dict[str, tuple[str, bool, str]] = {}
        #: After a follow-up is marked done: a button to open it again (it has left the list).
        self._reopen = ""
        #: The follow-up form shown in the block, if any.
        self.editor: RecordEditor | None = None
        self.slots: dict[str, SectionSlot] = {}
        for key, (mine, firm) in BLOCKS.items():
            if key == "pipeline" and not self.crm:
                continue
            own = self.owner if key == "follow_ups" else (self.manager if key != "recent" else user.login)
            slot = SectionSlot(key=f"home-{key}", title=_(mine if own else firm))
            slot.on_action(lambda action, data, key=key: self.handle(key, action, data))
            self.slots[key] = slot
            self.draw(key)
        self.view = CardView(slots=list(self.slots.values()), sizing_mode="stretch_width", css_classes=["cc-home"])
        self._follower = Follower(store, lambda change: change.kind == "follow-up",
                                  lambda _changes: self.draw("follow_ups"), delay=1.0)

    # -- drawing ---------------------------------------------------------------------------------------------
    def draw(self, key: str) -> None:
        """Draw one block; one that fails shows a short message in its place (the server's log has the rest)."""
        try:
            body = getattr(self, f"_{key}")()
        except Exception:
            log.exception("The home page block %r of %s could not be drawn", key, self.user.login)
            body = note_html(_("This could not be shown just now. Try again later; if it keeps happening, tell your "
                               "administrator."), ok=False)
        note = self._notes.get(key)  # kept until the next action: said and focused once (its mark)
        if note:
            text, ok, mark = note
            body += note_html(text, ok, mark=mark, focus=True) + (self._reopen if key == "follow_ups" else "")
        self.slots[key].html = body

    def _follow_ups(self) -> str:
        due_by = self.today + dt.timedelta(days=DUE_WITHIN_DAYS)
        counts = self.store.follow_up_counts(owner=self.owner, due_by=due_by)
        if counts["due"] == 0:
            return f'<p class="cc-empty">{esc(_("Nothing due in the coming week."))}</p>'
        summary = _("{due} due by {day}, {overdue} of them overdue.").format(
            due=counts["due"], overdue=counts["overdue"], day=formatting.date(due_by))
        if counts["due"] <= HOME_FOLLOW_UPS:
            frame = self.store.follow_ups(owner=self.owner, open_only=True, due_by=due_by, limit=HOME_FOLLOW_UPS)
        else:  # the ones due from today on all stay listed; of the overdue ones, the longest overdue first
            coming = self.store.follow_ups(owner=self.owner, open_only=True, due_by=due_by, due_from=self.today,
                                           limit=HOME_FOLLOW_UPS)
            room = HOME_FOLLOW_UPS - len(coming)
            late = self.store.follow_ups(owner=self.owner, open_only=True, due_by=self.today - dt.timedelta(days=1),
                                         limit=room) if room > 0 else coming.iloc[0:0]
            frame = pd.concat([late, coming], ignore_index=True)
            left = counts["due"] - len(frame)
            if left > 0:
                summary += " " + ngettext("{n} more is not listed here.", "{n} more are not listed here.",
                                          left).format(n=left)
        if frame.empty:
            return f'<p class="cc-empty">{esc(_("Nothing due in the coming week."))}</p>'
        headers, rows = follow_up_rows(frame, self.can_edit, customer_column=True, contact_column=False, crm=self.crm)
        if self.owner is not None:  # the owner column says the same on every row
            drop = [label for label, _num in headers].index(_("Owner"))
            headers = headers[:drop] + headers[drop + 1:]
            rows = [row[:drop] + row[drop + 1:] for row in rows]
        return (f'<p class="cc-meta" id="cc-home-follow-ups-count">{esc(summary)}</p>'
                + table(headers, rows, css_id="cc-home-follow-ups", caption=self.slots["follow_ups"].title))

    def _changes(self) -> str:
        frame = self.store.changes_by_others(self.user.login, self.since, account_manager=self.manager)
        since = (_("Since you last looked ({moment}).").format(moment=formatting.datetime(self.since, self._zone()))
                 if self.since is not None else _("In the last seven days."))
        if frame.empty:
            return f'<p class="cc-meta">{esc(since)}</p><p class="cc-empty">{esc(_("Nothing changed."))}</p>'
        rows = [[link(f"/card?customer={int(r.customer_id)}", _customer_name(r)), esc(int(r.changes)),
                 esc(self.store.user_name(r.last_by)), esc(formatting.datetime(r.last_at, self._zone()))]
                for r in frame.itertuples(index=False)]
        headers = [(_("Customer"), False), (_("Changes"), True), (_("Last by"), False), (_("When"), False)]
        return f'<p class="cc-meta">{esc(since)}</p>' + table(headers, rows, css_id="cc-home-changes",
                                                            caption=self.slots["changes"].title)

    def _pipeline(self) -> str:
        stages = self.store.open_pipeline_by_stage(account_manager=self.manager)
        base = self.settings.base_currency
        query = urlencode({"manager": self.manager}) if self.manager else ""
        where = "/pipeline" + (f"?{query}" if query else "")
        rows = [[esc(r.stage if isinstance(r.stage, str) and r.stage else _("No stage")),  # as the board says
                 esc(int(r.count)), esc(formatting.money(r.amount, base)), esc(formatting.money(r.weighted, base))]
                for r in stages.itertuples(index=False)]
        total = [esc(_("Total")), esc(int(stages["count"].sum())), esc(formatting.money(stages["amount"].sum(), base)),
                 esc(formatting.money(stages["weighted"].sum(), base))]
        listing = table([(_("Stage"), False), (_("Open"), True), (_("Sum"), True), (_("Weighted"), True)], rows,
                        css_id="cc-home-pipeline", total=total, caption=self.slots["pipeline"].title)
        return listing + f'<p>{link(where, _("Open the pipeline"), css="cc-home-pipeline-link")}</p>'

    def _behind(self) -> str:
        frame = self.store.invoicing_behind(account_manager=self.manager, today=self.today)
        base = self.settings.base_currency
        last = formatting.date(_last_year(self.today))
        note = _("Invoiced this year to {today}, against last year to {last}.").format(
            today=formatting.date(self.today), last=last)
        search = "/search?" + urlencode({"manager": self.manager}) if self.manager else "/search"
        label = _("All my customers") if self.manager else _("All customers")
        more = f'<p>{link(search, label, css="cc-home-search-link")}</p>'
        if frame.empty:
            return (f'<p class="cc-meta">{esc(note)}</p><p class="cc-empty">{esc(_("None is behind."))}</p>' + more)
        rows = [[link(f"/card?customer={int(r.customer_id)}", _customer_name(r)),
                 esc(formatting.money(r.this_year, base)), esc(formatting.money(r.last_year, base)),
                 esc(formatting.money(r.behind, base))] for r in frame.itertuples(index=False)]
        headers = [(_("Customer"), False), (_("This year"), True), (_("Last year"), True), (_("Behind by"), True)]
        return (f'<p class="cc-meta">{esc(note)}</p>'
                + table(headers, rows, css_id="cc-home-behind", caption=self.slots["behind"].title) + more)

    def _recent(self) -> str:
        frame = self.store.recent_cards(self.user.login)
        if frame.empty:
            return f'<p class="cc-empty">{esc(_("No cards opened yet."))}</p>'
        items = "".join(f'<li>{link(f"/card?customer={int(r.customer_id)}", _customer_name(r))} '
                        f'<span class="cc-meta">{esc(formatting.datetime(r.viewed_at, self._zone()))}</span></li>'
                        for r in frame.itertuples(index=False))
        return f'<ul class="cc-list" id="cc-home-recent">{items}</ul>'

    def _zone(self) -> str:
        return self.settings.time_zone

    # -- acting ----------------------------------------------------------------------------------------------
    def handle(self, key: str, action: str, data: dict[str, Any]) -> None:
        """Edit, done or open again from the follow-ups block (writers only; on the version the row was drawn
        with). One marked done leaves the list; its note offers to open it again."""
        if key != "follow_ups" or not self.can_edit:
            return
        self._reopen = ""  # the offer to open again goes with the note it came with
        if action == "edit-follow-up":
            self._edit_follow_up(data)
            return
        if action not in ("follow-up-done", "follow-up-open"):
            return
        try:
            follow_up_id = int(data.get("id"))
            version = int(data["version"]) if data.get("version") is not None else None
            done = action == "follow-up-done"
            saved = self.store.set_follow_up_done(follow_up_id, done, user=self.user.login, version=version)
            self._notes[key] = ((_("“{what}” marked done.") if done else _("“{what}” is open again.")).format(
                what=isolated(saved.what)), True, token())
            if done:
                self._reopen = action_button("follow-up-open", _("Open again"), saved.id, css="cc-home-reopen",
                                             version=saved.version)
        except ConflictError as exc:
            self._notes[key] = (conflict_text(exc, self.store.user_name), False, token())
        except (TypeError, ValueError, KeyError, NotFound):
            return
        except CustomerCardError as exc:
            self._notes[key] = (str(exc), False, token())
        self.draw(key)

    def _edit_follow_up(self, data: dict[str, Any]) -> None:
        """The follow-up's form in the block, on the version its row was drawn with."""
        try:
            follow_up = seen_version(self.store.get_follow_up(int(data.get("id"))), data)
        except (TypeError, ValueError, NotFound):
            return
        store, login, slot = self.store, self.user.login, self.slots["follow_ups"]

        def closed(saved: Any = None) -> None:
            self.editor = None
            if saved is not None:
                self._notes["follow_ups"] = (_("Follow-up saved."), True, token())
            slot.param.update(child=None, child_first=False)
            self.draw("follow_ups")
        self.editor = RecordEditor(follow_up, FOLLOW_UP_FIELDS, title=_("Edit follow-up"), css="cc-follow-up-form",
                                   user_name=store.user_name, zone=self._zone(), focus=True,
                                   save=lambda f: store.save_follow_up(f, user=login),
                                   reload=lambda: store.get_follow_up(follow_up.id), done=closed,
                                   cancelled=closed, overrides=follow_up_choices(store, follow_up), guarded=True,
                                   choices=store.choices)
        slot.param.update(child=self.editor.__panel__(), child_first=True, collapsed=False)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.HTML(page_heading(_("My customers") if self.manager else _("Home")), margin=(0, 10)),
                         self.view, sizing_mode="stretch_width")


def _customer_name(row: Any) -> str:
    number = getattr(row, "number", None)
    known = number is not None and number == number  # noqa: PLR0124 - a missing number (NaN) is unequal to itself
    return f"{row.name} ({int(number)})" if known else str(row.name)


def _last_year(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)

