"""Bulk changes on Search customers: change the account manager, status, industry or a segmentation value of the
customers checked in the results (or of every customer the search matches), or add the same comment to each.

A preview says how many will change and from what; applying runs a chunk of customers at a time on a worker thread
(each customer a recorded change, through the store's single save) while a progress bar fills; the last bulk change
of the user can be undone as one step — also after a reload, since the batch is kept in the database — and the
undo names the customers someone changed since, which it leaves alone."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import panel as pn
import param

from .. import formatting
from ..errors import CustomerCardError, PermissionDenied, ValidationError
from ..i18n import _, ngettext
from ..models import CRITERIA_RENAMED, NOTE_LENGTH, BulkChange
from ..store import STORE_TYPES
from ..validators import clean_text
from .accessibility import BUTTON_CSS, focus_here, live
from .choices import people_options
from .form import input_limit
from .html import esc, isolated
from .widgets import NARROW_FIELD, wrapping

#: Customers per call while applying (the progress bar moves after each).
STEP = 50
SEGMENT = "segments."


class BulkPanel(pn.viewable.Viewer):
    """The bulk change form: what to change, the value, preview, apply with progress, undo."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the customers are kept.")
    login = param.String(default="", doc="Who changes the customers.")
    chosen = param.Callable(allow_refs=False,
                            doc="Returns the ids of the customers the change is for (checked, or all matching).")
    on_done = param.Callable(default=None, allow_refs=False,
                             doc="Called after a change or an undo (the list reads itself again).")
    signed_in = param.Callable(default=None, allow_refs=False,
                               doc="Whether the login session the page belongs to still holds, asked before each "
                                   "step of an apply (None: no login session, as in a notebook).")
    preview = param.Dict(default=None, allow_None=True, doc="The last preview (see Store.bulk_preview).")
    batch = param.ClassSelector(class_=BulkChange, default=None, allow_None=True,
                                doc="The user's last bulk change that can still be undone.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._field = pn.widgets.Select(label=_("Change"), value="account_manager", css_classes=["cc-bulk-field"],
                                        **NARROW_FIELD)
        self._offer_fields(self.store.choices())
        self._value = pn.widgets.Select(label=_("New value"), css_classes=["cc-bulk-value"], **NARROW_FIELD)
        self._comment = pn.widgets.TextAreaInput(label=_("Comment"), max_length=input_limit(NOTE_LENGTH), rows=3,
                                                 visible=False, css_classes=["cc-bulk-comment"],
                                                 sizing_mode="stretch_width")  # beyond the limit: said, not cut
        self._preview_button = pn.widgets.Button(label=_("Preview"), css_classes=["cc-bulk-preview"], width=120)
        self._apply = pn.widgets.Button(label=_("Apply"), color="primary", disabled=True, css_classes=["cc-bulk-apply"],
                                        stylesheets=[BUTTON_CSS], width=220)
        self._undo = pn.widgets.Button(label=_("Undo the last bulk change"), css_classes=["cc-bulk-undo"],
                                       visible=False, width=240)
        self._summary = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-bulk-summary"])
        self._progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width",
                                                css_classes=["cc-bulk-progress"], bar_color="primary")
        self._status = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-bulk-status"])
        self._last = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-bulk-last"])
        self._field.param.watch(lambda _e: self._offer_values(), "value")
        for widget in (self._value, self._comment):
            widget.param.watch(lambda _e: self.forget_preview(), "value")
        self._preview_button.on_click(lambda _e: self.make_preview())
        self._apply.on_click(self._apply_clicked)
        self._undo.on_click(self._undo_clicked)
        self._offer_values()
        self._find_last()

    # -- the form -------------------------------------------------------------------------------------------
    def _offer_fields(self, choices: Any) -> None:
        fields = {_("Account manager"): "account_manager", _("Status"): "status", _("Industry"): "industry"}
        fields.update({_("Segmentation: {criterion}").format(criterion=name): SEGMENT + name
                       for name in choices.criteria})
        fields[_("Add a comment")] = "comment"
        self._field.options = fields

    def _offer_values(self) -> None:
        field = self._field.value
        choices = self.store.choices()
        self._comment.visible = field == "comment"
        self._value.visible = field != "comment"
        if field == "account_manager":
            options = people_options((login, self.store.user_name(login)) for login in choices.managers)
        elif field in ("status", "industry"):
            list_name = {"status": "statuses", "industry": "industries"}[field]
            options = {label: label for label in choices.allowed(list_name)}
        elif field.startswith(SEGMENT):
            options = {label: label for label in choices.criteria.get(field[len(SEGMENT):], (False, []))[1]}
        else:
            options = {}
        none = {_("(none)"): ""} if field != "comment" else {}
        # a Select draws its labels as text (not HTML, unlike a multi-choice): escaping them showed "&lt;" and "&amp;"
        self._value.options = {**none, **options}
        self._value.value = next(iter(options.values()), "")
        self.forget_preview()

    def _change(self) -> tuple[str, Any]:
        field = self._field.value
        if field == "comment":
            return field, clean_text(self._comment.value_input or self._comment.value or "", multiline=True)
        value = self._value.value or None
        if field.startswith(SEGMENT):
            return field, [value] if value else []
        return field, value

    def _named_now(self, field: str, value: Any) -> tuple[str, Any]:
        """The change as today's names say it: a status, an industry or a criterion an administrator renamed while
        the panel was open is the same one (the panel offers it by today's name from now on)."""
        choices = self.store.choices()
        list_name = {"status": "statuses", "industry": "industries"}.get(field)
        now_field, now_value = field, value
        if list_name and isinstance(value, str) and value not in choices.allowed(list_name):
            now_value = choices.named_now(list_name, value)
        elif field.startswith(SEGMENT) and field[len(SEGMENT):] not in choices.criteria:
            now_field = SEGMENT + choices.named_now(CRITERIA_RENAMED, field[len(SEGMENT):])
        if (now_field, now_value) == (field, value):
            return field, value
        self._offer_fields(choices)
        if self._field.value != now_field:
            self._field.value = now_field  # (offers its values)
        else:
            self._offer_values()
        shown = now_value[0] if isinstance(now_value, list) and now_value else now_value
        if shown in self._value.options.values():
            self._value.value = shown
        return now_field, now_value

    def forget_preview(self) -> None:
        """Drop the preview (the change or the customers chosen changed): Apply waits for a new one, and says so
        (an edit read as the Apply button is pressed drops the preview that button was for)."""
        had = self.preview is not None
        self.preview = None
        self._apply.disabled = True
        self._apply.label = _("Apply")
        if had:  # (forgetting again, as a new search does after emptying the checked rows, keeps what was said)
            self._summary.object = ""
            self._say(self._summary, _("Changed since the preview: press Preview again, then Apply."))

    def _shown(self, field: str, text: str | None) -> str:
        """A value as the user reads it: a manager's name, a list value, segment values; nothing said as such."""
        if text in (None, "", "[]"):
            return _("(none)")
        if field == "account_manager":
            return self.store.user_name(text)
        if field.startswith(SEGMENT):
            try:
                return ", ".join(json.loads(text))
            except (ValueError, TypeError):
                return text
        return text

    def _field_label(self, field: str) -> str:
        return next((label for label, value in self._field.options.items() if value == field),
                    field.removeprefix(SEGMENT))

    def describe(self, preview: dict[str, Any]) -> str:
        """The preview in words, e.g. "312 customers: account manager Anna → Erik (290), already Erik (22)"."""
        field, value = preview["field"], preview["value"]
        total = preview["total"] - preview["missing"]
        head = ngettext("{n} customer", "{n} customers", total).format(n=formatting.number(total))
        merged = preview.get("merged", 0)
        left = _("merged into another customer, left alone ({n})").format(n=formatting.number(merged))
        if field == "comment":
            said = _("{head}: the comment is added to each").format(head=head)
            return f"{said}; {left}" if merged else said
        what = self._field_label(field)
        new = self._shown(field, json.dumps(value, ensure_ascii=False) if isinstance(value, list) else value)
        parts = [_("{old} → {new} ({n})").format(old=self._shown(field, old), new=new, n=formatting.number(n))
                 for old, n in preview["changes"]]
        if preview["already"]:
            parts.append(_("already {new} ({n})").format(new=new, n=formatting.number(preview["already"])))
        if merged:
            parts.append(left)
        if field in ("account_manager", "status", "industry"):
            what = what.lower()
        return f"{head}: {what} " + ", ".join(parts) if parts else head

    def make_preview(self) -> dict[str, Any] | None:
        """Ask the store what the change would do for the chosen customers and say it; enables Apply."""
        ids = list(self.chosen())
        if not ids:
            self._say(self._summary, _("Check some customers in the list first, or choose all that match."), ok=False)
            return None
        field, value = self._named_now(*self._change())
        try:
            preview = self.store.bulk_preview(ids, field, value, user=self.login)
        except ValidationError as exc:
            self._say(self._summary, " ".join(exc.errors.values()), ok=False)
            return None
        except PermissionDenied as exc:
            self._say(self._summary, str(exc), ok=False)
            return None
        self.preview = preview
        self._say(self._summary, self.describe(preview))
        self._apply.label = ngettext("Apply to {n} customer", "Apply to {n} customers", preview["change"]).format(
            n=formatting.number(preview["change"]))
        self._apply.disabled = preview["change"] == 0
        return preview

    @staticmethod
    def _say(pane: pn.pane.HTML, text: str, ok: bool = True, extra: str = "", focus: bool = False) -> None:
        """Say ``text`` in ``pane``; with ``focus`` it takes the keyboard focus (the button used went away)."""
        color = "#1d2733" if ok else "#b42318"
        attrs = live(ok) + (focus_here() if focus else "")
        pane.object = f'<p style="color:{color}; margin: 4px 0"{attrs}>{esc(text)}</p>{extra}'

    # -- applying -------------------------------------------------------------------------------------------
    async def _apply_clicked(self, _event: Any) -> None:
        await self.apply()

    async def apply(self, step: int = STEP) -> BulkChange | None:
        """Apply the previewed change a step of customers at a time on a worker thread, moving the progress bar."""
        preview = self.preview
        if not preview or not preview["versions"]:
            return None
        pairs = preview["versions"]
        self._apply.disabled = self._preview_button.disabled = True
        self._progress.param.update(value=0, max=len(pairs), visible=True)
        batch: BulkChange | None = None
        skipped: dict[int, str] = {}
        failed = ""
        try:
            for start in range(0, len(pairs), step):
                if self.signed_in is not None and not await asyncio.to_thread(self.signed_in):
                    # logged out (elsewhere too), a new password, the session idle: nothing more as the user
                    raise PermissionDenied(_("Your login session has ended."))
                part = pairs[start:start + step]
                batch = await asyncio.to_thread(
                    self.store.bulk_change, [p[0] for p in part], preview["field"], preview["value"],
                    user=self.login, versions=part, batch_id=None if batch is None else batch.id)
                skipped.update(batch.skipped)
                self._progress.value = min(start + step, len(pairs))
                self._say(self._status, _("Changed {done} of {total} customers…").format(
                    done=formatting.number(self._progress.value), total=formatting.number(len(pairs))))
        except CustomerCardError as exc:
            failed = str(exc)
            self._say(self._status, failed, ok=False, focus=True)
        finally:
            self._preview_button.disabled = False
            self.preview = None
            self._apply.label = _("Apply")
        if batch is not None and failed:  # refused part-way (the value no longer offered, the role lowered…): said
            self._say(self._status, _("Stopped after {done} of {total} customers: {why} The rest were left as they "
                                      "were.").format(done=formatting.number(batch.customers),
                                                      total=formatting.number(len(pairs)), why=failed),
                      ok=False, extra=self._skipped_html(skipped, _("Left alone")), focus=True)
        elif batch is not None:
            self._say(self._status, ngettext("Changed {n} customer.", "Changed {n} customers.", batch.customers).format(
                n=formatting.number(batch.customers)), extra=self._skipped_html(skipped, _("Left alone")), focus=True)
        self._find_last()
        if self.on_done:
            self.on_done()
        return batch

    def _skipped_html(self, skipped: dict[int, str], heading: str) -> str:
        if not skipped:
            return ""
        names = self.store.customer_names([int(i) for i in skipped])
        items = "".join('<li><a href="/card?customer={id}">{name}</a>: {why}</li>'.format(
            id=int(i), name=esc(names.get(int(i), (str(i), ""))[0]), why=esc(why)) for i, why in skipped.items())
        return f'<p style="margin: 4px 0">{esc(heading)}:</p><ul class="cc-bulk-skipped">{items}</ul>'

    # -- undo -----------------------------------------------------------------------------------------------
    def _find_last(self) -> None:
        """The user's latest bulk change, offered for undo while it is not undone (read from the store: it survives
        a reload)."""
        try:
            found = self.store.bulk_changes(created_by=self.login, limit=1)
        except CustomerCardError:
            found = []
        last = found[0] if found and found[0].undone_at is None else None
        self.batch = last
        self._undo.visible = last is not None
        if last is None:
            self._last.object = ""
            return
        value = json.dumps(last.value, ensure_ascii=False) if isinstance(last.value, list) else last.value
        self._last.object = '<p class="cc-bulk-last-text" style="margin: 4px 0">{}</p>'.format(esc(
            ngettext("Your last bulk change ({when}): {field} → {value}, {n} customer.",
                     "Your last bulk change ({when}): {field} → {value}, {n} customers.", int(last.customers)).format(
                when=formatting.datetime(last.created_at), field=self._field_label(last.field),
                value=isolated(self._shown(last.field, value)), n=formatting.number(last.customers))))

    async def _undo_clicked(self, _event: Any) -> None:
        await self.undo()

    async def undo(self) -> BulkChange | None:
        """Undo the user's last bulk change as one step; say how many customers got their value back and which were
        left alone because someone changed them since."""
        if self.batch is None:
            return None
        self._undo.disabled = True
        self._progress.param.update(value=-1, visible=True, active=True)  # as long as it takes: no steps to count
        try:
            undone = await asyncio.to_thread(self.store.undo_bulk_change, self.batch.id, user=self.login,
                                             expected_version=self.batch.version)
        except (ValidationError, PermissionDenied) as exc:
            text = " ".join(exc.errors.values()) if isinstance(exc, ValidationError) else str(exc)
            self._say(self._status, text, ok=False)
            undone = None
        finally:
            self._undo.disabled = False
            self._progress.param.update(active=False, visible=False)
        if undone is not None and undone.undone_at is None and undone.customers:  # some wait for their value
            self._say(self._status, ngettext(
                "Undone in part: {n} customer has its value back; the others wait (see why below) and the bulk "
                "change can still be undone for them.",
                "Undone in part: {n} customers have their values back; the others wait (see why below) and the "
                "bulk change can still be undone for them.", undone.customers).format(
                n=formatting.number(undone.customers)), ok=False,
                extra=self._skipped_html(undone.skipped, _("Left alone")))
        elif undone is not None and undone.undone_at is None:  # nothing could be put back: it can be undone later
            self._say(self._status, _("Nothing was undone: every customer was left alone (see why below); the "
                                      "bulk change can still be undone."), ok=False,
                      extra=self._skipped_html(undone.skipped, _("Left alone")))
        elif undone is not None:
            self._say(self._status, ngettext("Undone: {n} customer has its value back.",
                                             "Undone: {n} customers have their values back.", undone.customers).format(
                n=formatting.number(undone.customers)), extra=self._skipped_html(undone.skipped, _("Left alone")))
        self._find_last()
        if self.on_done:
            self.on_done()
        return undone

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            wrapping(self._field, self._value), self._comment,
            wrapping(self._preview_button, self._apply), self._summary, self._progress, self._status,
            self._last, self._undo, sizing_mode="stretch_width", css_classes=["cc-bulk"])


def chosen_ids(selected: list[int], all_matching: bool, matching: Callable[[], list[int]]) -> list[int]:
    """The customers a bulk change is for: every one the search matches, or those checked."""
    return matching() if all_matching else list(selected)
