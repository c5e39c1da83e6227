"""One editor for every record — a comment, a contact person, an event, an opportunity, an admin list's entry, and
the customer itself as each card section edits a part of it: its fields as widgets from the model, Save and Cancel,
each refusal next to its field, and a save that someone else's came before shown as a conflict to resolve, never as
an overwrite.

When someone else saved only fields this form did not change, the form's changes go once on top of the record as
now stored and theirs stay (:attr:`RecordEditor.kept` names them). A choice made in the conflict is written on the
version the conflict showed. When the record was saved again meanwhile, the save is refused by the store's version
check and the conflict comes back with the new values.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import panel as pn

from ..errors import ConflictError, CustomerCardError, FieldConflict, NeedsConfirmation, ValidationError
from ..i18n import _
from ..models import Choices, Customer, Record, field_value, to_text
from ..store import Change
from ..store.changes import record_kind
from .accessibility import focus_first, live
from .form import ConflictResolver, FieldForm
from .html import esc
from .values import shown

Saver = Callable[[Record], Record]
Say = Callable[[str, bool], None]


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
            extra: list[Any] | None = None, message: pn.pane.HTML | None = None, focus: bool = False,
            labels: dict[str, str] | None = None, form: Any = None, say: Say | None = None,
            cancel_css: str = "", choices: Callable[[], Choices] | None = None,
            saving: Callable[[], AbstractContextManager[Any]] = nullcontext, guarded: bool = False) -> None:
        """``prepare(draft)`` adjusts a draft after the form's values are set (e.g. the probability of a lost
        opportunity); ``cancelled`` None: no Cancel button; ``extra``: more widgets under the form; ``message``: the
        pane its messages go to (its own by default); ``say(text, ok)``: where its messages go instead of a pane
        (a card section's message under the form); ``focus``: the first field takes the focus once drawn (an
        editor the user just opened); ``labels``: labels instead of the model's; ``form``: a ready form instead of
        a :class:`~customercard.ui.form.FieldForm` of ``fields`` (anything with ``widgets``, ``values()``,
        ``changed(original)``, ``show_errors(errors)`` and ``show_notices(notices)``); ``choices()``: the lists the
        record's rules check it against, so that a value of the wrong kind is told with every other problem;
        ``saving()``: a context the whole of a save runs in, from the store's write to ``done`` (a card's
        :meth:`~customercard.ui.context.CardContext.saving`: what is heard meanwhile — its own change among it —
        waits until the save has shown its result), whichever way the save was asked for. ``guarded``: leaving the
        page while the form holds typing not saved asks first (``ui/assets/unsaved.js``; a card's forms always do) —
        for an editor that is gone from the page once saved or cancelled."""
        super().__init__()
        self._saving = saving
        self.original = record
        self._choices, self._labels = choices, labels or {}
        self._save, self._done, self._reload, self._prepare = save, done, reload, prepare
        self._user_name, self._zone = user_name, zone
        self._credited = {}
        self.resolver: ConflictResolver | None = None
        #: Someone else's changes to fields this form did not change, kept by the last save (merged on top).
        self.kept: list[FieldConflict] = []
        self.form = form if form is not None else FieldForm(
            record=record.copy(), fields=fields, columns=columns, overrides=overrides or {}, labels=labels or {},
            zone=zone, user_name=None if user_name is str else user_name)
        self._tell = say
        self.message = message if message is not None or say is not None else pn.pane.HTML(
            "", margin=(0, 10), css_classes=["cc-form-message"])
        save_button = pn.widgets.Button(label=save_label or _("Save"), color="primary",
                                        css_classes=[save_css or f"{css}-save"])
        save_button.on_click(lambda _e: self.save())
        buttons = [save_button]
        if cancelled is not None:
            cancel = pn.widgets.Button(label=_("Cancel"), css_classes=[cancel_css or f"{css}-cancel"])
            cancel.on_click(lambda _e: cancelled())
            buttons.append(cancel)
        head = [pn.pane.HTML(f"<b>{esc(title)}</b>", margin=(0, 10))] if title else []
        self._buttons = pn.Row(*buttons)
        tail = [self.message] if self.message is not None else []
        self._layout = pn.Column(*head, self.form, *(extra or []), self._buttons, *tail,
                                 sizing_mode="stretch_width",
                                 css_classes=[*(focus_first([css]) if focus else [css]),
                                              *(["cc-guarded"] if guarded else [])])

    #: Each field marked as changed underneath: (its stored value as text, who changed it).
    _credited: dict[str, tuple[str, str]]

    @property
    def widgets(self) -> dict[str, Any]:
        return self.form.widgets

    # -- what a kind of record changes (a customer's segments: see CustomerEditor) -----------------------------
    def apply(self, target: Record, values: dict[str, Any]) -> dict[str, str]:
        """Set the form's ``values`` on ``target``; the model's messages by field for what it refuses."""
        return target.update_from(values)

    def also_refused(self, target: Record) -> dict[str, str]:
        """The model's other problems with ``target`` (its rules), told beside the values it refused to take."""
        return target.validate(self._choices(), previous=self.original) if self._choices is not None else {}

    def value_of(self, record: Record, field: str) -> Any:
        """The value of one of the form's fields in ``record``."""
        return record.get(field)

    def label_of(self, field: str) -> str:
        """A field's label as people read it (the field's own name for one this version does not know)."""
        if field in self._labels:
            return self._labels[field]
        try:
            return self.original.label(field)
        except (AttributeError, KeyError):
            return field

    # -- saving ---------------------------------------------------------------------------------------------
    def save(self) -> bool:
        """Validate and save; True when it was stored (``done`` has been told)."""
        with self._saving():
            return self._save_now()

    def _save_now(self) -> bool:
        self.kept = []
        if self.resolver is None:
            return self._first_save()
        target = self._reload()
        target.version = self.resolver.error.stored_version  # the version the conflict showed, and no other
        mine = self.resolver.mine
        now = self._mine()
        if now != mine:
            # typed on with the dialog open: what the form holds now is saved (a field in the dialog takes the new
            # value where "mine" is chosen); a field typed since that someone else changed too is asked about, as a
            # first Save would — never the values from before written, nor theirs written over unseen
            asked = set(self.resolver.choices)
            if any(to_text(self.value_of(target, field)) != to_text(self.value_of(self.original, field))
                   for field in now if field not in asked):
                return self._first_save()
            mine = now
        kept = {field: value for field, value in mine.items()
                if field not in self.resolver.choices or self.resolver.choices[field].value == self.resolver.MINE}
        stored = {field for field in self.resolver.choices if field not in kept}
        return self._write(target, kept, kept, merge=False, stored=stored)

    def _first_save(self) -> bool:
        draft = self.original.copy()
        values = self.form.values()
        return self._write(draft, values, self._mine(), merge=True)

    def _mine(self) -> dict[str, Any]:
        """What this save changes: the fields changed in the form, and those ``prepare`` sets (a Lost form's
        status and probability) — someone else's change to any of them since is a conflict, never written over."""
        changed = self.form.changed(self.original)
        if self._prepare is None:
            return changed
        draft = self.original.copy()
        self.apply(draft, self.form.values())
        fields = [field for field in draft.fields if field not in changed]
        before = {field: to_text(self.value_of(draft, field)) for field in fields}
        self._prepare(draft)
        prepared = {field: self.value_of(draft, field) for field in fields
                    if to_text(self.value_of(draft, field)) != before[field]}
        return {**prepared, **changed}

    def _write(self, target: Record, values: dict[str, Any], mine: dict[str, Any], merge: bool,
               stored: Collection[str] = ()) -> bool:
        """``stored``: fields whose stored value the user chose to keep in a conflict (``prepare`` leaves them)."""
        errors = self.apply(target, values)
        if errors:  # a number out of range, a value of the wrong kind: told with every other problem of the form
            return self._refused({**self.also_refused(target), **errors})
        if self._prepare is not None:
            kept = {field: self.value_of(target, field) for field in stored}
            self._prepare(target)
            self.apply(target, kept)
        try:
            saved = self._save(target)
        except ValidationError as exc:
            return self._refused(exc.errors, asked=isinstance(exc, NeedsConfirmation))
        except ConflictError as exc:
            if self._reload is None:
                raise
            if merge and not any(conflict.field in mine for conflict in exc.conflicts):
                # theirs touched other fields: mine go on top of the stored record, theirs stay
                self.kept = list(exc.conflicts)
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
        kind = record_kind(self.original)
        newer = [c for c in changes if c.kind == kind and c.id == self.original.id
                 and (c.version or 0) > (self.original.version or 0)]
        if newer and self._reload is not None:
            self.changed_underneath(self._reload(), newer[-1].by)

    def changed_underneath(self, stored: Record, by: str) -> None:
        """Someone else saved the record while it is being edited: what was typed stays, and each field whose
        stored value changed since the editor opened says so."""
        notes = {}
        # each field is credited to the save that changed it: a later save of another field by someone else leaves
        # it with its own author (it named the latest saver under every field marked)
        credited = self._credited
        for field in self.form.values():
            now = self.value_of(stored, field)
            text = to_text(now)
            if text != to_text(self.value_of(self.original, field)):
                known = credited.get(field)
                who = known[1] if known is not None and known[0] == text else by
                credited[field] = (text, who)
                value = shown(stored, field, now, self._user_name, self._zone) or _("(empty)")
                notes[field] = _("Changed meanwhile by {who}: now {value}").format(who=self._user_name(who),
                                                                                   value=value)
            else:
                credited.pop(field, None)
        self.form.show_notices(notes)

    def _refused(self, errors: dict[str, str], asked: bool = False) -> bool:
        """Say why nothing was saved, at the fields (``asked``: nothing is wrong, the fields ask to be looked at)."""
        rest = self.form.show_errors(errors)
        lead = _("Not saved yet: see the marked fields.") if asked else _("Please correct the marked fields.")
        self._say(" ".join([lead, *(f"{self.label_of(field)}: {text}" for field, text in rest.items())]))
        return False

    def _show_conflict(self, error: ConflictError, mine: dict[str, Any]) -> None:
        self.form.show_errors({})  # what an earlier try was refused for is not what stands now
        record = self.original
        earlier = self.resolver
        before = earlier.__panel__() if earlier is not None else None
        self.resolver = ConflictResolver(
            error, mine, label_of=self.label_of, user_name_of=self._user_name, of_customer=isinstance(record, Customer),
            shown_of=lambda field, value: shown(record, field, value, self._user_name, self._zone))
        if earlier is not None:  # asked again: what was chosen for a field asked before stays chosen
            for field, choice in earlier.choices.items():
                if field in self.resolver.choices and choice.value in self.resolver.choices[field].options.values():
                    self.resolver.choices[field].value = choice.value
        objects = [o for o in self._layout.objects if o is not before]  # the dialog shown before goes
        buttons = next(i for i, o in enumerate(objects) if o is self._buttons)
        objects.insert(buttons, self.resolver.__panel__())
        self._layout.objects = objects
        self._say(_("Not saved yet: someone saved this meanwhile. Choose which values to keep, then Save again."))

    def _say(self, text: str, ok: bool = False) -> None:
        if self._tell is not None:
            self._tell(text, ok)
            return
        self.message.object = (f'<span class="cc-form-message-text" style="color:#b42318"{live(ok)}>{esc(text)}'
                               '</span>')

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


class CustomerEditor(RecordEditor):
    """The customer's own fields a card section edits (its draft limited to them): dotted fields, and
    ``segments.<criterion>`` for a segmentation criterion (set on that criterion only)."""

    def apply(self, target: Record, values: dict[str, Any]) -> dict[str, str]:
        return apply_values(target, values)

    def value_of(self, record: Record, field: str) -> Any:
        return field_value(record, field)

    def label_of(self, field: str) -> str:
        return customer_label(self.original, field)


def refusal(error: Exception, label_of: Callable[[str], str]) -> str:
    """What a refused write says to a person: each field's message after its label ("Largest distance: …"), not the
    field's key as the API and the command line say it ("max_distance_km: …")."""
    if isinstance(error, ValidationError) and error.errors:
        return " ".join(f"{label_of(field)}: {message}" for field, message in error.errors.items())
    return str(error)


def customer_label(customer: Customer, field: str) -> str:
    """A customer field's label as people read it: a criterion's name for ``segments.<criterion>``, the field's own
    name for one this version does not know (written by another)."""
    if field.startswith("segments."):
        return field.split(".", 1)[1]
    try:
        return customer.label(field)
    except (AttributeError, KeyError):
        return field


def apply_values(target: Customer, values: dict[str, Any]) -> dict[str, str]:
    """Set form values on a customer; ``segments.<criterion>`` keys update that criterion only."""
    plain = {field: value for field, value in values.items() if not field.startswith("segments.")}
    errors = target.update_from(plain)
    picked = {field.split(".", 1)[1]: value for field, value in values.items() if field.startswith("segments.")}
    if picked:
        segments = dict(target.segments)
        for criterion, value in picked.items():
            chosen = [value] if isinstance(value, str) else list(value or [])
            if chosen:
                segments[criterion] = chosen
            else:
                segments.pop(criterion, None)
        target.segments = segments
    return errors
