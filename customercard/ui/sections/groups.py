"""Section 5 — groups and log: segmentation values, who created and updated the customer, the economy-system
link, and the field-level history where a past value can be restored (as a new, recorded change)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import panel as pn
import param

from ... import formatting
from ...errors import ConflictError, CustomerCardError, PermissionDenied
from ...fields import section_fields
from ...i18n import N_, _, ngettext
from ...integration import said_error
from ...models import CRITERIA_RENAMED, Customer
from ..choices import multi_choice
from ..editor import RecordEditor, customer_label, refusal
from ..html import esc, fields, rows_of, table
from ..values import shown
from .base import Section, action_button, while_saving

HISTORY_PAGE = 50
ALL_FIELDS = "__all__"


class SegmentsForm(pn.viewable.Viewer):
    """One widget per segmentation criterion: a multi-choice or a single choice, from the admin's values."""

    def __init__(self, customer: Customer, criteria: dict[str, tuple[bool, list[str]]], **params: Any) -> None:
        super().__init__(**params)
        self.widgets: dict[str, pn.widgets.Widget] = {}
        for name, (multiple, allowed) in criteria.items():
            current = list(customer.segments.get(name, []))
            options = allowed + [v for v in current if v not in allowed]
            if multiple or len(current) > 1:  # made single-choice since: its stored values shown, none dropped
                widget = multi_choice(options, current, label=name, sizing_mode="stretch_width")
            else:
                widget = pn.widgets.Select(label=name, options=["—", *options],
                                           value=current[0] if current else "—", sizing_mode="stretch_width")
            self.widgets[name] = widget
        self._message = pn.pane.HTML("", css_classes=["cc-field-error"], sizing_mode="stretch_width",
                                     stylesheets=[":host { color: #b42318; font-size: .85em }"])
        self._layout = pn.Column(pn.GridBox(*self.widgets.values(), ncols=2, sizing_mode="stretch_width"),
                                 self._message, sizing_mode="stretch_width")

    def values(self) -> dict[str, Any]:
        out = {}
        for name, widget in self.widgets.items():
            value = widget.value
            out[f"segments.{name}"] = list(value) if isinstance(value, list) else ([] if value == "—" else [value])
        return out

    def changed(self, original: Customer) -> dict[str, Any]:
        return {field: value for field, value in self.values().items()
                if sorted(value) != sorted(original.segments.get(field.split(".", 1)[1], []))}

    def show_errors(self, errors: dict[str, str]) -> dict[str, str]:
        self._message.object = esc(errors.get("segments", ""))
        return {f: m for f, m in errors.items() if f != "segments"}

    def show_notices(self, notices: dict[str, str]) -> None:
        """What changed underneath (``segments.<criterion>`` → text), said under the criteria."""
        text = " ".join(f"{field.split('.', 1)[1]}: {note}" for field, note in notices.items())
        self._message.object = f'<span class="cc-notice-text">{esc(text)}</span>' if text else ""

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def _seen(data: dict[str, Any], current: int) -> int:
    """The version a button was drawn with (the current one when it does not say)."""
    try:
        return int(data["version"])
    except (KeyError, TypeError, ValueError):
        return current


class GroupsSection(Section):
    key = "groups"
    title = N_("Groups and log")
    collapsed_by_default = True
    edit_fields = section_fields("groups")
    actions = ("restore", "history-field", "history-more", "erp-link", "erp-unlink")

    history_field = param.String(default=ALL_FIELDS, doc="Show only changes of this field.")
    history_limit = param.Integer(default=HISTORY_PAGE, doc="How many changes are shown.")
    editor: RecordEditor | None = None

    def markup(self) -> str:
        c, store, zone = self.context.customer, self.context.store, self.context.zone
        criteria = store.choices().criteria
        segment_pairs = []
        for name in list(criteria) + [n for n in c.segments if n not in criteria]:
            values = c.segments.get(name, [])
            segment_pairs.append((name, " ".join(f'<span class="cc-badge">{esc(v)}</span>' for v in values)))
        if c.is_linked:
            linked = _("Linked to {system} as customer {id}; last synchronised {when}").format(
                system=c.erp_system, id=c.erp_customer_id,
                when=formatting.datetime(c.erp_synced_at, zone) or _("never"))
        else:
            linked = _("Not linked to a customer in the economy system")
        pairs = [
            (_("Created"), esc(f"{formatting.datetime(c.created_at, zone)} · {store.user_name(c.created_by)}")),
            (_("Last updated"), esc(f"{formatting.datetime(c.updated_at, zone)} · {store.user_name(c.updated_by)}")),
            (_("Economy system"), f'<span id="cc-erp-link">{esc(linked)}</span>{self._erp_buttons()}'),
        ]
        counts = store.outbox_counts(c.id)
        if counts["pending"] or counts["failed"]:
            text = ngettext("{p} change waiting to be sent, {f} failed", "{p} changes waiting to be sent, {f} failed",
                            counts["pending"]).format(p=counts["pending"], f=counts["failed"])
            try:  # what went wrong is the administrators' to read (through an API token, theirs only)
                failed = store.outbox(c.id, status="failed", limit=1)
            except PermissionDenied:
                failed = pd.DataFrame()
            if not failed.empty:
                text += f" ({said_error(failed.iloc[0]['last_error'])})"
            pairs.append((_("Deliveries"), f'<span id="cc-sync-status">{esc(text)}</span>'))
        log = fields(pairs)
        return (f'<div class="cc-groups"><h3>{esc(_("Segmentation"))}</h3>'
                f'{fields(segment_pairs, empty=_("not set"))}<h3>{esc(_("Log"))}</h3>{log}</div>'
                + self.history_html())

    def _erp_buttons(self) -> str:
        """Administrators link the customer to the economy system, change the link or unlink it."""
        context = self.context
        if not context.store.can(context.login, "admin"):
            return ""
        seen = context.customer.version
        if not context.customer.is_linked:
            return " " + action_button("erp-link", _("Link…"), css="cc-erp-link-button", version=seen)
        return (" " + action_button("erp-link", _("Change…"), css="cc-erp-link-button", version=seen) + " "
                + action_button("erp-unlink", _("Unlink"), css="cc-erp-unlink-button", version=seen))

    def do_erp_link(self, data: dict[str, Any]) -> None:
        """The link to the economy system in an editor (administrators): the system and the customer's id there."""
        context = self.context
        if not context.store.can(context.login, "admin"):
            return
        store, customer = context.store, context.customer

        def save(draft: Customer) -> Customer:
            return store.link_customer(customer.id, draft.erp_system, draft.erp_customer_id, user=context.login,
                                       expected_version=draft.version)

        def done(saved: Customer) -> None:
            self.editor = None
            self._note = (_("Link to the economy system saved."), True)
            context.adopt(saved)
            self.render()

        def cancelled() -> None:
            self.editor = None
            self.render()
        draft = customer.copy()
        draft.version = _seen(data, customer.version)
        self.editor = RecordEditor(draft, ["erp_system", "erp_customer_id"], save=save, done=done,
                                   cancelled=cancelled, reload=lambda: store.get_customer(customer.id),
                                   title=_("Link to the economy system"), css="cc-erp-form",
                                   user_name=store.user_name, zone=context.zone, focus=True,
                                   saving=context.saving)
        self.view.param.update(child=self.editor.__panel__(), child_first=True)

    def do_erp_unlink(self, data: dict[str, Any]) -> None:
        context = self.context
        if not context.store.can(context.login, "admin"):
            return
        self._write_customer(
            lambda: context.store.unlink_customer(context.customer.id, user=context.login,
                                                  expected_version=_seen(data, context.customer.version)),
            _("Someone saved this customer meanwhile; the card now shows their values. Unlink again if you still "
              "want to."), _("Unlinked from the economy system."))

    def history_html(self) -> str:
        """Every change, newest first, filterable by field; writers can restore an old value."""
        context = self.context
        frame = context.store.history(context.customer.id)
        choices = context.store.choices()
        # a criterion renamed since is one field: its changes under its former names are shown with today's
        now = frame["field"].map(lambda f: f"segments.{choices.named_now(CRITERIA_RENAMED, f.split('.', 1)[1])}"
                                 if isinstance(f, str) and f.startswith("segments.") else f)
        options = [(ALL_FIELDS, _("All fields"))] + [(f, self._label_of(f)) for f in dict.fromkeys(now)]
        select = "".join(f'<option value="{esc(value)}"{" selected" if value == self.history_field else ""}>'
                         f"{esc(label)}</option>" for value, label in options)
        shown = frame if self.history_field == ALL_FIELDS else frame[now == self.history_field]
        rows = []
        for row in rows_of(shown.head(self.history_limit)):
            what = self._label_of(row.field) + ("" if row.kind == "update" else f" ({_(row.kind)})")
            cells = [esc(formatting.datetime(row.changed_at, context.zone)),
                     esc(context.store.user_name(row.changed_by)), esc(what),
                     esc(self.shown_value(row.field, row.old_value)), esc(self.shown_value(row.field, row.new_value))]
            if context.can_edit:
                restorable = row.kind != "create" and row.field not in Customer.HISTORY_ONLY
                # drawn with the version shown: a click on a row drawn before someone's save is a conflict, even
                # when their save reached this session before the browser drew it
                cells.append(action_button("restore", _("Restore"), item_id=int(row.change_id), css="cc-restore",
                                           version=context.customer.version) if restorable else "")
            rows.append(cells)
        headers = [(_("When"), False), (_("Who"), False), (_("Field"), False), (_("Old value"), False),
                   (_("New value"), False)] + ([("", False)] if context.can_edit else [])
        more = ""
        if len(shown) > self.history_limit:
            more = f'<p><button class="cc-link" data-action="history-more">{esc(_("Show more"))}</button></p>'
        listing = table(headers, rows, css_id="cc-history-table") if rows else \
            f'<p class="cc-empty">{esc(_("No changes recorded."))}</p>'
        return (f'<div class="cc-history"><h3>{esc(_("History"))}</h3><p><label>{esc(_("Show changes of"))} '
                f'<select data-action="history-field" class="cc-history-field">{select}</select></label></p>'
                f"{listing}{more}</div>")

    def shown_value(self, field: str, text: str | None) -> str:
        """A history value as people read it: names for logins, Yes/No, lists joined, dates and times as the
        reader's language writes them."""
        return shown(Customer, field, text, self.context.store.user_name, self.context.zone)

    def do_history_field(self, data: dict[str, Any]) -> None:
        self.param.update(history_field=str(data.get("value") or ALL_FIELDS), history_limit=HISTORY_PAGE)

    def do_history_more(self, _data: dict[str, Any]) -> None:
        self.history_limit += HISTORY_PAGE

    @param.depends("history_field", "history_limit", watch=True)
    def _history_changed(self) -> None:
        self.refresh()

    def do_restore(self, data: dict[str, Any]) -> None:
        try:
            change_id = int(data.get("id"))
            version = int(data["version"]) if data.get("version") is not None else None
        except (TypeError, ValueError):
            return
        self.restore(change_id, version)

    def make_form(self, draft: Customer) -> SegmentsForm:
        return SegmentsForm(draft, self.context.store.choices().criteria)

    def restore(self, change_id: int, version: int | None = None) -> None:
        """Put back the value a change replaced, as a new recorded change (managers and admins); ``version``: the
        customer's version the clicked row was drawn with (else the card's)."""
        context = self.context
        seen = context.customer.version if version is None else version
        self._write_customer(
            lambda: context.store.restore(context.customer.id, change_id, which="old", user=context.login,
                                          expected_version=seen),
            _("Someone saved this customer meanwhile; the card now shows their values. Restore again if you still "
              "want to."), _("Restored; the history records it as a new change."))

    @while_saving
    def _write_customer(self, write: Callable[[], Customer], conflict: str, done: str) -> None:
        """A change of the customer made from this section: on a conflict the card shows the customer as stored
        and says ``conflict``; a refusal says why; done, the card shows the saved customer and notes ``done``."""
        context = self.context
        try:
            saved = write()
        except ConflictError:
            context.reload()
            self.say(conflict, ok=False)
            return
        except CustomerCardError as exc:
            self.say(refusal(exc, lambda field: customer_label(context.customer, field)), ok=False)
            return
        self._note = (done, True)
        context.adopt(saved)
