"""The Activity section — the customer's whole story on one timeline (comments, e-mails, events, opportunities,
files, contact persons, relations, merges and field changes), newest first and grouped by day, with filters by
kind, person and text, "Load more", links to what each entry is about, and a date to see the card as it was then.

Folded by default and built only when opened (the card opens no slower for it); drawn again when anything it
lists changes, by anyone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...i18n import N_, _
from ...store.activity import CRM_KINDS, TIMELINE_KINDS
from ..html import esc
from ..timeline import TIMELINE_ACTIONS, EntryText, TimelineView
from .base import Section

#: Records an entry links to, and the card section that shows them.
OPENED_IN = {"comments": "comments", "events": "events", "opportunities": "opportunities"}


def timeline_kinds(context: Any) -> dict[str, str]:
    """The kinds of entry to filter by: those of the modules the firm has switched on."""
    settings = context.settings
    return {kind: label for kind, label in TIMELINE_KINDS.items()
            if (settings.crm_enabled or kind not in CRM_KINDS) and (settings.files_enabled or kind != "file")}


def as_of_form(customer_id: int, day: dt.date | None = None, today: dt.date | None = None) -> str:
    """A plain form that opens the card as it was on a chosen day (``/card?customer=…&as_of=…``), up to ``today``
    (the firm's)."""
    value = f' value="{day.isoformat()}"' if day else ""
    return (f'<form class="cc-asof-form" method="get" action="/card">'
            f'<input type="hidden" name="customer" value="{int(customer_id)}">'
            f'<label>{esc(_("See the card as it was on"))} <input type="date" name="as_of" class="cc-asof-date" '
            f'required max="{(today or dt.date.today()).isoformat()}"{value}></label> '
            f'<button type="submit" class="cc-act cc-asof-show">{esc(_("Show"))}</button></form>')


class ActivitySection(Section):
    key = "activity"
    title = N_("Activity")
    collapsed_by_default = True
    listens_to = frozenset({"customer", "comment", "contact", "event", "opportunity", "relation", "file", "follow-up"})
    actions = (*TIMELINE_ACTIONS, "activity-open")

    def __init__(self, **params: Any) -> None:
        self._timeline: TimelineView | None = None
        self._stale = False
        super().__init__(**params)

    @property
    def timeline_read(self) -> bool:
        """Whether the timeline has been read from the store yet (a folded section reads nothing until opened)."""
        return self._timeline is not None

    @property
    def timeline(self) -> TimelineView:
        """The timeline's filters and the entries loaded so far (made when the section is first drawn)."""
        if self._timeline is None:
            context = self.context
            store, customer_id = context.store, context.customer.id
            users = store.users(include_inactive=True)
            people = dict(zip(users["login"], users["name"], strict=True))
            self._timeline = TimelineView(lambda **options: store.timeline(customer_id, **options),
                                          EntryText(store, context.zone, customer_id), kinds=timeline_kinds(context),
                                          people=people)
        return self._timeline

    def markup(self) -> str:
        if self._stale and self._timeline is not None:
            self._timeline.load()
        self._stale = False
        day = getattr(self.context.store, "day", None)
        return (as_of_form(self.context.customer.id, day if isinstance(day, dt.date) else None,
                           self.context.store.firm_today())
                + f'<div class="cc-activity">{self.timeline.html()}</div>')

    def refresh(self) -> None:
        self._stale = True
        super().refresh()

    def changes_arrived(self, changes: list) -> None:
        self._stale = True
        super().changes_arrived(changes)

    def handle(self, action: str, data: dict[str, Any]) -> None:
        if action in TIMELINE_ACTIONS:
            if self.timeline.handle(action, data):
                self.render()
            return
        super().handle(action, data)

    def do_activity_open(self, data: dict[str, Any]) -> None:
        """Show the record an entry is about in its own section (the card opens it there)."""
        table, _sep, ident = str(data.get("id") or "").partition(":")
        if table in OPENED_IN and ident.isdigit():
            self.context.opened = (OPENED_IN[table], int(ident))
