"""One editor for a record that is not the customer itself — a comment, a contact person, an event, an
opportunity: its fields as widgets from the model, Save and Cancel, each refusal next to its field, and a save
that someone else's came before shown as a conflict to resolve, never as an overwrite.

A choice made in the conflict is written on the version the conflict showed. When the record was saved again
meanwhile, the save is refused by the store's version check and the conflict comes back with the new values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import panel as pn

from ..errors import ConflictError, CustomerCardError, ValidationError
from ..i18n import _
from ..models import Record, to_text
from ..store import Change
from .accessibility import focus_first, live
from .form import ConflictResolver, FieldForm
from .html import esc
from .values import shown

Saver = Callable[[Record], Record]


class RecordEditor(pn.viewable.Viewer):
    """Edit ``record`` (a copy is edited; the record passed in stays as it was read).

    ``save(record)`` stores a record and returns it saved; ``reload()`` reads the stored one again (None for a
    record not created yet, which cannot meet a conflict); ``done(saved)`` and ``cancelled()`` say what happened.
    """

    def __init__(  # noqa: PLR0913, PLR0917 - one editor for every record: its options, passed by keyword
            self, record: Record, fields: list[str], save: Saver, done: Callable[[Record], None],
            cancelled: Callable[[], None] | None, reload: Callable[[], Record] | None = None, title: str = "",
            css: str = "cc-record-form", save_label: str = "", overrides: dict[str, Any] | None = None,
            user_name: Callable[[str], str] = str, zone: str | None = None, columns: int = 2,
            prepare: Callable[[Record], None] | None = None, save_css: str = "",
            extra: list[Any] | None = None, message: pn.pane.HTML | None = None, focus: bool = False) -> None:
        """``prepare(draft)`` adjusts a draft after the form's values are set (e.g. the probability of a lost
        opportunity); ``cancelled`` None: no Cancel button; ``extra``: more widgets under the form; ``message``: the
        pane its messages go to (its own by default); ``focus``: the first field takes the focus once drawn (an
        editor the user just opened)."""
        super().__init__()
        self.original = record
        self._save, self._done, self._reload, self._prepare = save, done, reload, prepare
        self._user_name, self._zone = user_name, zone
        self.resolver: ConflictResolver | None = None
        self.form = FieldForm(record=record.copy(), fields=fields, columns=columns, overrides=overrides or {})
        self.message = message or pn.pane.HTML("", margin=(0, 10), css_classes=["cc-form-message"])
        self._resolver_box = pn.Column(sizing_mode="stretch_width", margin=0)
        save_button = pn.widgets.Button(label=save_label or _("Save"), color="primary",
                                        css_classes=[save_css or f"{css}-save"])
        save_button.on_click(lambda _e: self.save())
        buttons = [save_button]
        if cancelled is not None:
            cancel = pn.widgets.Button(label=_("Cancel"), css_classes=[f"{css}-cancel"])
            cancel.on_click(lambda _e: cancelled())
            buttons.append(cancel)
        head = [pn.pane.HTML(f"<b>{esc(title)}</b>", margin=(0, 10))] if title else []
        self._layout = pn.Column(*head, self.form, *(extra or []), self._resolver_box, pn.Row(*buttons),
                                 self.message, sizing_mode="stretch_width",
                                 css_classes=focus_first([css]) if focus else [css])

    @property
    def widgets(self) -> dict[str, Any]:
        return self.form.widgets

    def save(self) -> bool:
        """Validate and save; True when it was stored (``done`` has been told)."""
        if self.resolver is None:
            draft = self.original.copy()
            values = self.form.values()
            return self._write(draft, values, self.form.changed(self.original), merge=True)
        target = self._reload()
        target.version = self.resolver.error.stored_version  # the version the conflict showed, and no other
        kept = self.resolver.kept_values()
        return self._write(target, kept, kept, merge=False)

    def _write(self, target: Record, values: dict[str, Any], mine: dict[str, Any], merge: bool) -> bool:
        errors = target.update_from(values)
        if errors:
            return self._refused(errors)
        if self._prepare is not None:
            self._prepare(target)
        try:
            saved = self._save(target)
        except ValidationError as exc:
            return self._refused(exc.errors)
        except ConflictError as exc:
            if self._reload is None:
                raise
            if merge and not any(conflict.field in mine for conflict in exc.conflicts):
                # theirs touched other fields: mine go on top of the stored record, theirs stay
                return self._write(self._reload(), mine, mine, merge=False)
            self._show_conflict(exc, mine)
            return False
        except CustomerCardError as exc:
            self._say(str(exc))
            return False
        self.resolver = None
        self._done(saved)
        return True

    def heard(self, changes: list[Change]) -> None:
        """Committed changes reached the page: those of this record, newer than the one being edited, are marked
        in the form (see :meth:`changed_underneath`)."""
        kind = type(self.original).__name__.lower()
        newer = [c for c in changes if c.kind == kind and c.id == self.original.id
                 and (c.version or 0) > (self.original.version or 0)]
        if newer and self._reload is not None:
            self.changed_underneath(self._reload(), newer[-1].by)

    def changed_underneath(self, stored: Record, by: str) -> None:
        """Someone else saved the record while it is being edited: what was typed stays, and each field whose
        stored value changed since the editor opened says so."""
        notes = {}
        for field in self.form.widgets:
            if to_text(stored.get(field)) != to_text(self.original.get(field)):
                value = shown(stored, field, stored.get(field), self._user_name, self._zone) or _("(empty)")
                notes[field] = _("Changed meanwhile by {who}: now {value}").format(who=self._user_name(by),
                                                                                   value=value)
        self.form.show_notices(notes)

    def _refused(self, errors: dict[str, str]) -> bool:
        rest = self.form.show_errors(errors)
        self._say(" ".join([_("Please correct the marked fields."), *rest.values()]))
        return False

    def _show_conflict(self, error: ConflictError, mine: dict[str, Any]) -> None:
        record = self.original
        self.resolver = ConflictResolver(
            error, mine, label_of=record.label, user_name_of=self._user_name,
            shown_of=lambda field, value: shown(record, field, value, self._user_name, self._zone))
        self._resolver_box.objects = [self.resolver]
        self._say(_("Not saved yet: someone saved this meanwhile. Choose which values to keep, then Save again."))

    def _say(self, text: str) -> None:
        self.message.object = (f'<span class="cc-form-message-text" style="color:#b42318"{live(False)}>{esc(text)}'
                               '</span>')

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
