"""The card's Follow-ups: what is to be done at the customer by when and by whom; add, edit, reassign, mark done or
open again. Overdue ones stand out (a badge and a colour, not the colour alone). Not part of the CRM module."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn

from ... import formatting
from ...errors import NotFound
from ...i18n import N_, _
from ...models import FollowUp
from ..choices import contact_options
from ..html import esc, isolated, link, rows_of, table
from .base import action_button
from .crm import CrmSection, owner_choice, seen_version

FOLLOW_UP_FIELDS = ["what", "due_on", "owner", "contact_id"]
FOLLOW_UP_ACTIONS = ("new-follow-up", "edit-follow-up", "follow-up-done", "follow-up-open")
OVERDUE_CSS = "color:#b42318;font-weight:600"


def follow_up_rows(frame: pd.DataFrame, can_edit: bool, customer_column: bool = False,
                   contact_column: bool = True, crm: bool = True) -> tuple[list[tuple[str, bool]], list[list[str]]]:
    """Headers and rows of a table of follow-ups (open and done), each value escaped; with ``can_edit`` the
    Done / Open again / Edit buttons, drawn with the version each was read at. ``crm``: whether the CRM module is
    on (without it a follow-up does not name its opportunity)."""
    headers = [(_("Due"), False), (_("What"), False)]
    if customer_column:
        headers.append((_("Customer"), False))
    headers.append((_("Owner"), False))
    if contact_column:
        headers.append((_("Contact person"), False))
    headers.append((_("Status"), False))
    if can_edit:
        headers.append(("", False))
    rows = []
    for f in rows_of(frame):
        due = esc(formatting.date(f.due_on))
        if f.overdue:
            due = f'<span class="cc-overdue" style="{OVERDUE_CSS}">{due}</span>'
        what = esc(f.what)
        if crm and isinstance(f.opportunity_title, str) and f.opportunity_title:
            what += f' <span class="cc-meta">({esc(_("Opportunity"))}: {esc(f.opportunity_title)})</span>'
        cells = [due, what]
        if customer_column:
            cells.append(link(f"/card?customer={int(f.customer_id)}", f.customer_name))
        cells.append(esc(f.owner_name))
        if contact_column:
            cells.append(link(f"/contact?contact={int(f.contact_id)}", f.contact_name)
                         if pd.notna(f.contact_id) else "")
        cells.append(_status_badge(f))
        if can_edit:
            cells.append(_buttons(f))
        rows.append(cells)
    return headers, rows


def _status_badge(f: Any) -> str:
    """A follow-up's status (done, overdue or open) as a badge."""
    if f.done:
        return f'<span class="cc-badge off">{esc(_("done"))}</span>'
    if f.overdue:
        return f'<span class="cc-badge cc-overdue-badge" style="{OVERDUE_CSS}">{esc(_("overdue"))}</span>'
    return f'<span class="cc-badge">{esc(_("open"))}</span>'


def _buttons(f: Any) -> str:
    """A follow-up's Done (or Open again) and Edit buttons, with the version it was read at."""
    seen = int(f.version)
    if f.done:
        buttons = action_button("follow-up-open", _("Open again"), int(f.id), css="cc-follow-up-open", version=seen,
                                about=f.what)
    else:
        buttons = action_button("follow-up-done", _("Done"), int(f.id), css="cc-follow-up-done", version=seen,
                                about=f.what)
    return buttons + " " + action_button("edit-follow-up", _("Edit"), int(f.id), css="cc-edit-follow-up",
                                         version=seen, about=f.what)


class FollowUpsSection(CrmSection):
    """Follow-ups at this customer (shown whether or not the CRM module is on)."""

    key = "follow_ups"
    needs_crm = False  # (the CRM module's switch leaves follow-ups alone, as the home page and contact card do)
    listens_to = frozenset({"follow-up", "contact"})
    title = N_("Follow-ups")
    collapsed_by_default = False
    actions = FOLLOW_UP_ACTIONS

    @classmethod
    def shown(cls, _context) -> bool:  # CrmSection.shown's signature: shown whatever the context
        return True

    def markup(self) -> str:
        context = self.context
        frame = context.store.follow_ups(customer_id=context.customer.id)
        head = (f'<p>{action_button("new-follow-up", _("Add follow-up…"), css="cc-new-follow-up")}</p>'
                if context.can_edit else "")
        if frame.empty:
            return head + f'<p class="cc-empty">{esc(_("No follow-ups."))}</p>'
        headers, rows = follow_up_rows(frame, context.can_edit, crm=context.settings.crm_enabled)
        return head + table(headers, rows, css_id="cc-follow-ups-table", caption=_("Follow-ups"))

    def _own(self, data: dict[str, Any]) -> FollowUp | None:
        """The follow-up a button names, if it is this customer's, at the version the button was drawn with."""
        try:
            follow_up = self.context.store.get_follow_up(int(data.get("id")))
        except (TypeError, ValueError, NotFound):
            return None
        return seen_version(follow_up, data) if follow_up.customer_id == self.context.customer.id else None

    def do_follow_up_done(self, data: dict[str, Any]) -> None:
        self._mark(data, True)

    def do_follow_up_open(self, data: dict[str, Any]) -> None:
        self._mark(data, False)

    def _mark(self, data: dict[str, Any], done: bool) -> None:
        follow_up = self._own(data)
        if follow_up is None or not self.context.can_edit:
            return
        note = (_("“{what}” marked done.") if done else _("“{what}” is open again.")).format(
            what=isolated(follow_up.what))
        self._run(lambda: self.context.store.set_follow_up_done(follow_up.id, done, user=self.context.login,
                                                                version=follow_up.version), note)

    def do_new_follow_up(self, _data: dict[str, Any] | None = None) -> None:
        if self.context.can_edit:
            follow_up = self.context.store.new_follow_up(self.context.customer.id, owner=self.context.login)
            self._edit(follow_up, _("Add follow-up"))

    def do_edit_follow_up(self, data: dict[str, Any]) -> None:
        follow_up = self._own(data)
        if follow_up is not None and self.context.can_edit:
            self._edit(follow_up, _("Edit follow-up"))

    def _edit(self, follow_up: FollowUp, title: str) -> None:
        store, login = self.context.store, self.context.login
        created = follow_up.id is None
        self._edit_record(follow_up, FOLLOW_UP_FIELDS, title=title, css="cc-follow-up-form",
                          done=_("Follow-up saved."),
                          save=lambda f: (store.add_follow_up if created else store.save_follow_up)(f, user=login),
                          reload=None if created else (lambda: store.get_follow_up(follow_up.id)),
                          overrides=follow_up_choices(store, follow_up))


def follow_up_choices(store: Any, follow_up: FollowUp) -> dict[str, Any]:
    """The follow-up form's owner and contact-person choices (the card's and the home page's)."""
    contacts = store.contacts(follow_up.customer_id, include_inactive=True)
    people = {"—": None, **dict(contact_options(contacts, [follow_up.contact_id]))}
    return {"owner": owner_choice(store, follow_up.owner),
            "contact_id": pn.widgets.Select(label=_("Contact person"), options=people, value=follow_up.contact_id,
                                            sizing_mode="stretch_width", css_classes=["cc-follow-up-contact"])}
