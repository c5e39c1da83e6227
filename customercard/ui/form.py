"""Edit forms built from the param model: one widget per field, with its message right under it.

The form edits its own widgets; :meth:`FieldForm.values` reads them back, so what the user typed stays in
the form after a refused save. Conflicts from a stale save are resolved in :class:`ConflictResolver`.

Texts: a text widget takes more than the model allows (:func:`input_limit`), so an over-long text reaches the
server and the model's message ("At most 200 characters.") shows next to the field; the browser would otherwise
cut it without a word (Panel's text widgets stop at 5,000 characters by default). Pasted control characters are
cleaned as the form is read (:func:`read_text`): a tab or line break in a one-line field becomes a space.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, ClassVar

import panel as pn
import param
from panel.viewable import Children

from .. import formatting
from ..errors import ConflictError
from ..i18n import _, current_language, label_said, supported
from ..models import Record, text_limits, to_text
from ..validators import clean_text
from . import assets, widgets
from .accessibility import focus_first
from .choices import multi_choice
from .components import LightComponent, light_scripts
from .html import esc

NONE_LABEL = "—"


def input_limit(max_length: int) -> int:
    """The ``max_length`` a text widget gets for a text the model allows ``max_length`` characters of: twice as
    much (at least 1,000), so a longer text reaches the model, whose message says so, and a paste stays bounded."""
    return max(2 * max_length, 1_000)


def text_input(parameter: param.Parameter, value: str = "", **options: Any) -> pn.widgets.Widget:
    """A text widget for a text parameter (:func:`customercard.models.text_param`): a text area for a multi-line
    text, else a one-line input; its limit from the model's (see :func:`input_limit`)."""
    max_length, multiline = text_limits(parameter) or (5_000, False)
    if multiline:
        options.setdefault("height", 90)
        return widgets.TextAreaInput(value=value, max_length=input_limit(max_length), **options)
    return widgets.TextInput(value=value, max_length=input_limit(max_length), **options)


def read_text(value: str | None, parameter: param.Parameter) -> str:
    """What a text widget holds, cleaned of pasted control characters as the parameter allows (a tab or line
    break in a one-line text becomes a space; other control characters go)."""
    limits = text_limits(parameter)
    return clean_text(value or "", multiline=bool(limits and limits[1]))



def option_labels(parameter: param.Parameter, options: list[Any],
                  user_name: Callable[[str], str] | None = None) -> dict[str, Any] | list[Any]:
    """A choice's options as people read them: the parameter's ``value_labels`` (metadata; said in the reader's
    language), or its values said in the reader's language when they are words of ours (``translate_values``),
    or colleagues' names for their logins (``people``, with ``user_name``); else the values themselves (an admin
    list's values are the firm's own words)."""
    metadata = parameter.metadata or {}
    if metadata.get("people") and user_name is not None:
        named = {o: (user_name(o) if isinstance(o, str) and o != NONE_LABEL else o) for o in options}
        clash = len(set(named.values())) < len(named)  # two colleagues of one name: their logins tell them apart
        return {(f"{name} ({o})" if clash and name != o else str(name)): o for o, name in named.items()}
    labels = metadata.get("value_labels")
    if labels is not None:
        return {label_said(labels.get(o, str(o))): o for o in options}
    if metadata.get("translate_values"):
        return {_(str(o)): o for o in options}
    return options


#: How a date picker writes a date, per language (flatpickr's tokens), as each language's short date reads.
DATE_FORMATS = {"en": "d/m/Y", "sv": "Y-m-d", "da": "d.m.Y"}


#: The calendar's days of the month before and after, which can be picked, in a grey of 4.5:1 or more on white
#: (flatpickr's #c8c8c8 is 1.7:1); the days that cannot be picked keep their faint grey. Its month and year fields,
#: drawn by Bokeh's input style in grey on a grey field under the pointer (3.6:1), in the calendar's dark text. The
#: day the keyboard is on was only a light grey disc (1.3:1): it has the page's focus ring. The chosen day, white on
#: flatpickr's coral (3.0:1), is white on the page's blue (6.9:1).
CALENDAR_CSS = (".flatpickr-day.prevMonthDay:not(.flatpickr-disabled):not(.selected):not(.inRange), "
                ".flatpickr-day.nextMonthDay:not(.flatpickr-disabled):not(.selected):not(.inRange) "
                "{ color: #595959; } "
                ".flatpickr-calendar .flatpickr-current-month select.flatpickr-monthDropdown-months, "
                ".flatpickr-calendar .flatpickr-current-month input.cur-year { color: #202124; } "
                ".flatpickr-day:focus { outline: 2px solid #1f5c99; outline-offset: -2px; } "
                ".flatpickr-day.selected, .flatpickr-day.selected:hover, .flatpickr-day.selected:focus, "
                ".flatpickr-day.selected.prevMonthDay, .flatpickr-day.selected.nextMonthDay "
                "{ background: #1f5c99; border-color: #1f5c99; color: #ffffff; }")


def _with_calendar_css(params: dict[str, Any]) -> dict[str, Any]:
    params["stylesheets"] = [*params.get("stylesheets", []), CALENDAR_CSS]
    return params


class DatePicker(widgets.PlainHelp, pn.widgets.DatePicker):
    """Panel's date picker showing its date as the reader's language writes a short date."""

    date_format = param.String(default="Y-m-d", doc="How the date is shown (flatpickr's tokens).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**_with_calendar_css(params))


#: How a date and time picker writes its value, in the browser and back (flatpickr's tokens, and Python's).
MOMENT_FORMAT, MOMENT_TEXT = "Y-m-d H:i", "%Y-%m-%d %H:%M"


class DatetimePicker(widgets.PlainHelp, pn.widgets.DatetimePicker):
    """Panel's date and time picker for a stored moment (naive UTC, as the store keeps them): its ``value`` is the
    moment, the browser shows and picks it in the firm's time zone (``zone``), as 2026-12-10 14:00 in every
    language — the picker reads back what it shows, so the text is one it can read (Panel's own parses only
    '%Y-%m-%d %H:%M:%S': a picked time in any other format was dropped, and the old time saved)."""

    date_format = param.String(default=MOMENT_FORMAT, doc="How the date and time are shown (flatpickr's tokens).")
    zone = param.String(default=None, allow_None=True, doc="The time zone the moment is shown and picked in.")

    _rename: ClassVar[dict[str, str | None]] = {**pn.widgets.DatetimePicker._rename, "zone": None}

    def __init__(self, **params: Any) -> None:
        params.setdefault("enable_seconds", False)
        super().__init__(**_with_calendar_css(params))

    def _serialize_value(self, value: Any) -> Any:  # what the browser picked → the moment
        if not isinstance(value, str) or not value:
            return value
        text = value.replace("T", " ").strip()
        for pattern in (MOMENT_TEXT, MOMENT_TEXT + ":%S"):
            try:
                local = dt.datetime.strptime(text, pattern)
            except ValueError:
                continue
            aware = local.replace(tzinfo=formatting.time_zone(self.zone))
            return aware.astimezone(dt.UTC).replace(tzinfo=None)
        return self.value  # not a moment the picker writes: the value stays as it was

    def _deserialize_value(self, value: Any) -> Any:  # the moment → what the browser shows
        if isinstance(value, dt.datetime):
            return formatting.local_time(value, self.zone).strftime(MOMENT_TEXT)
        if isinstance(value, dt.date):
            return value.strftime(MOMENT_TEXT)
        return value


def date_format() -> str:
    """How a date picker writes a date in the reader's language (flatpickr's tokens)."""
    return DATE_FORMATS[supported(current_language()) or "en"]


def date_picker(**params: Any) -> DatePicker:
    """A date picker in the reader's language's short date format."""
    return DatePicker(date_format=date_format(), **params)


def datetime_picker(zone: str | None = None, **params: Any) -> DatetimePicker:
    """A date and time picker of a stored moment, shown and picked in the time zone ``zone`` (the firm's)."""
    return DatetimePicker(zone=zone, **params)


def widget_for(  # noqa: PLR0911 - one widget per type of parameter
        record: Record, field: str, label: str | None = None, zone: str | None = None,
        user_name: Callable[[str], str] | None = None) -> pn.widgets.Widget:
    """A widget matching the parameter's type, bounds and allowed values, holding the current value; its label and
    help (the model's English source texts) said in the reader's language; a moment shown in the time zone
    ``zone``; colleagues offered by name (``user_name``: login → name)."""
    parameter = record.parameter(field)
    value = record.get(field)
    label = label or (_(parameter.label) if parameter.label else field)
    common = {"label": label, "sizing_mode": "stretch_width"}
    if isinstance(parameter, param.Boolean):
        return pn.widgets.Checkbox(value=bool(value), **common)
    if parameter.doc:
        common["description"] = _(parameter.doc)
    if isinstance(parameter, param.Selector):
        options = [o for o in (parameter.objects or []) if o is not None]
        if value is not None and value not in options:
            options.append(value)
        if parameter.allow_None:
            options = [NONE_LABEL, *options]
        shown = option_labels(parameter, options, user_name)
        return widgets.Select(options=shown, value=value if value is not None else NONE_LABEL, **common)
    if isinstance(parameter, param.CalendarDate):  # (dates are Numbers in param: test them first)
        return date_picker(value=value, **common)
    if isinstance(parameter, param.Date):
        return datetime_picker(zone=zone, value=value, **common)
    # Numbers are typed as text and read on the server: the browser's number input drops what it does not take
    # without a word (the space and comma of "1 234,50" made 123450; 150 % stayed 50 % beyond its bounds). The
    # model refuses what is out of bounds, with a message next to the field.
    if isinstance(parameter, param.Number):
        kind = "cc-integer" if isinstance(parameter, param.Integer) else "cc-number"
        return widgets.TextInput(value=number_text(value), css_classes=[kind], **common)
    if isinstance(parameter, param.List):
        items = list(value or [])
        return multi_choice(items, items, **common)
    return text_input(parameter, value or "", **common)


def number_text(value: Any) -> str:
    """A number as the form shows it, to be typed over: '' for none, no '.0' on whole numbers, the reader's
    language's decimal mark ('12,5' in Swedish and Danish, '12.5' in English)."""
    return formatting.number_text(value)


def read_number(text: str, integer: bool = False) -> Any:
    """A number as a person of the reader's language types it (see :func:`customercard.formatting.read_number`:
    '1 234,50' in Swedish and Danish, '1,234.50' in English); None when empty; the text itself when it is not a
    number (the model then says so next to the field)."""
    raw = (text or "").strip()
    try:
        number = formatting.read_number(raw)
    except ValueError:
        return raw
    if number is None:
        return None
    if integer:
        return int(number) if number.is_integer() else raw
    return number


def _read(widget: pn.widgets.Widget, parameter: param.Parameter) -> Any:
    value = widget.value
    classes = widget.css_classes or []
    if "cc-number" in classes or "cc-integer" in classes:
        return read_number(value, integer="cc-integer" in classes)
    if isinstance(value, str) and isinstance(widget, pn.widgets.TextInput | pn.widgets.TextAreaInput):
        return read_text(value, parameter)
    if isinstance(widget, pn.widgets.Select) and value == NONE_LABEL:
        return None
    if isinstance(widget, pn.widgets.DatePicker) and isinstance(value, dt.datetime):
        return value.date()
    return value


def field_css(field: str) -> str:
    """The CSS class that marks a field's cell in a form (``cc-field-visit_address-city``)."""
    return "cc-field-" + field.replace(".", "-")


class FormGrid(LightComponent):
    """A form's fields in a grid of ``columns``, drawn by the browser as one light component: per field a box
    (marked with :func:`field_css`) holding its widget and, under it, its message and its notice — plain text
    elements, there from the start and hidden while they say nothing.

    One component instead of a layout per field and a pane per note: a Bokeh model costs time on the server and in
    the browser, and the layouts cost as much again as the widgets (Edit on the contact details, eleven fields, added
    30 models to the page; now 18). The widgets are the component's children and stay where they are drawn: a note
    shown or changed is text in the component, so someone typing keeps the focus and the text when another's save
    is noticed."""

    objects = Children(default=[], doc="The fields' widgets, in order.")
    cells = param.List(default=[], doc="Per field, in the widgets' order: ``css`` (its class), ``error`` and "
                                       "``notice`` (plain texts, '' when nothing is said).")
    columns = param.Integer(default=2, bounds=(1, 4), doc="Fields per row.")

    _stylesheets: ClassVar[list[str]] = [assets.text("form.css")]
    _template = ('<div id="ccroot" style="display: contents"></div><div id="ccpool" style="display: contents">'
                 '{% for object in objects %}<div id="ccobject">${object}</div>{% endfor %}</div>')
    _scripts = light_scripts(assets.text("form_grid.js"), ["cells", "columns"], pool=True)


class FieldNote:
    """What is said under one field (its error, or a notice of someone else's change), in the form's grid."""

    def __init__(self, grid: FormGrid, index: int, kind: str, text_class: str) -> None:
        self.grid, self.index, self.kind, self.text_class = grid, index, kind, text_class

    @property
    def text(self) -> str:
        """The words shown ('' when nothing is said)."""
        return self.grid.cells[self.index][self.kind]

    @property
    def object(self) -> str:
        """The words shown as HTML ('' when nothing is said)."""
        return f'<span class="{self.text_class}">{esc(self.text)}</span>' if self.text else ""

    def say(self, text: str) -> None:
        """Show ``text`` (plain text) under the field; '' says nothing."""
        if text == self.text:
            return
        cells = [dict(cell) for cell in self.grid.cells]
        cells[self.index][self.kind] = text
        self.grid.cells = cells


class FieldForm(pn.viewable.Viewer):
    """Widgets for ``fields`` of ``record`` (dotted names), laid out in a grid (:class:`FormGrid`): per field its
    widget in a box marked with :func:`field_css`, and its notes under it."""

    record = param.ClassSelector(class_=Record, doc="The record whose values the widgets start from.")
    fields = param.List(default=[], doc="Dotted names of the fields to edit.")
    labels = param.Dict(default={}, doc="Labels to use instead of the parameters' own.")
    columns = param.Integer(default=2, bounds=(1, 4), doc="Fields per row.")
    overrides = param.Dict(default={}, doc="Widgets to use for some fields instead of the ones made from the model "
                                           "(a choice of colleagues, say).")
    zone = param.String(default=None, allow_None=True, doc="The time zone moments are shown and picked in (the "
                                                           "firm's).")
    user_name = param.Callable(default=None, allow_None=True, doc="A colleague's name by login: choices of "
                                                                  "colleagues offered by name.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.widgets: dict[str, pn.widgets.Widget] = {
            field: self.overrides.get(field) or widget_for(self.record, field, self.labels.get(field), self.zone,
                                                           self.user_name)
            for field in self.fields}
        # (the browser ties the message and the notice to the widget's control: see ui/accessibility.py)
        self._grid = FormGrid(objects=list(self.widgets.values()), columns=self.columns, sizing_mode="stretch_width",
                              cells=[{"css": field_css(field), "error": "", "notice": ""} for field in self.fields])
        self.messages = {field: FieldNote(self._grid, i, "error", "cc-error-text") for i, field in
                         enumerate(self.fields)}
        self.notices = {field: FieldNote(self._grid, i, "notice", "cc-notice-text") for i, field in
                        enumerate(self.fields)}

    def values(self) -> dict[str, Any]:
        return {field: _read(widget, self.record.parameter(field)) for field, widget in self.widgets.items()}

    def offer(self, record: Record, named_now: Callable[[str, Any], Any] = lambda _field, value: value) -> None:
        """Offer in each choice what ``record``'s parameters allow now (an administrator renamed, added or switched
        off list values while the form is open): the value chosen stays chosen — under its new name when renamed
        (``named_now(field, value)``), and offered even when switched off (the save says so) — and a value switched
        off that no one chose is no longer offered."""
        with pn.io.hold():
            for field, widget in self.widgets.items():
                parameter = record.parameter(field)
                if field in self.overrides or not isinstance(parameter, param.Selector) or \
                        not isinstance(widget, pn.widgets.Select):
                    continue
                chosen = _read(widget, parameter)
                chosen = named_now(field, chosen) if chosen is not None else None
                stored = record.get(field)
                options = [o for o in (parameter.objects or []) if o is not None]
                options += [v for v in (stored, chosen) if v is not None and v not in options]
                if parameter.allow_None:
                    options = [NONE_LABEL, *options]
                shown = option_labels(parameter, options, self.user_name)
                widget.param.update(options=shown, value=chosen if chosen is not None else NONE_LABEL)

    def changed(self, original: Record) -> dict[str, Any]:
        """The fields whose widget value differs from ``original``."""
        return {field: value for field, value in self.values().items()
                if to_text(_unset(value)) != to_text(_unset(original.get(field)))}

    def show_errors(self, errors: dict[str, str]) -> dict[str, str]:
        """Show each message under its field, the first such field taking the focus; returns the messages for
        fields not in this form."""
        with pn.io.hold():  # one message to the browser
            for field, note in self.messages.items():
                note.say(errors.get(field, ""))
            first = next((field for field in self.messages if errors.get(field)), None)
            if first is not None:
                widget = self.widgets[first]
                widget.css_classes = focus_first(widget.css_classes)
        return {field: text for field, text in errors.items() if field not in self.messages}

    def show_notices(self, notices: dict[str, str]) -> None:
        """Say under each field what changed underneath it (someone else's save); other fields say nothing."""
        with pn.io.hold():
            for field, note in self.notices.items():
                note.say(notices.get(field, ""))

    def set_value(self, field: str, value: Any) -> None:
        widget = self.widgets[field]
        if "cc-number" in (widget.css_classes or []) or "cc-integer" in (widget.css_classes or []):
            widget.value = value if isinstance(value, str) else number_text(value)
            return
        widget.value = NONE_LABEL if value is None and isinstance(widget, pn.widgets.Select) else value

    def __panel__(self) -> pn.viewable.Viewable:
        return self._grid


class ConflictResolver(pn.viewable.Viewer):
    """Per conflicting field: the stored value and the user's, and a choice of which to keep."""

    STORED = "stored"
    MINE = "mine"

    def __init__(self, error: ConflictError, mine: dict[str, Any], label_of, user_name_of, shown_of=None,
                 of_customer: bool = True, **params: Any) -> None:
        """``label_of(field)``, ``user_name_of(login)`` and ``shown_of(field, value)`` say a field, a colleague and
        a value as people read them; ``of_customer``: the record is the customer itself (else one of its records:
        a contact person, a comment, an opportunity …)."""
        super().__init__(**params)
        shown_of = shown_of or (lambda _field, value: to_text(value) or "")
        self.error = error
        self.mine = mine
        self.choices: dict[str, pn.widgets.RadioBoxGroup] = {}
        rows = [pn.pane.HTML(
            '<div class="cc-conflict-head"><b>{}</b> {}</div>'.format(
                esc(_("Someone saved this customer while you were editing.") if of_customer else
                    _("Someone saved this while you were editing.")),
                esc(_("Choose, for each field you both changed, which value to keep."))),
            sizing_mode="stretch_width")]
        others = []
        for conflict in error.conflicts:
            # (who, when the store knows who changed it: not from an older database's log)
            who = f" ({user_name_of(conflict.changed_by)})" if conflict.changed_by else ""
            if conflict.field in mine:
                stored_text = shown_of(conflict.field, conflict.stored) or _("(empty)")
                mine_text = shown_of(conflict.field, mine[conflict.field]) or _("(empty)")
                group = pn.widgets.RadioBoxGroup(
                    options={f"{_('Keep stored')}: {stored_text}{who}": self.STORED,
                             f"{_('Use mine')}: {mine_text}": self.MINE},
                    value=self.MINE, inline=False)
                self.choices[conflict.field] = group
                rows.append(pn.Column(pn.pane.HTML(f"<b>{esc(label_of(conflict.field))}</b>",
                                                   css_classes=["cc-conflict-field"]), group,
                                      css_classes=[f"cc-conflict-{conflict.field.replace('.', '-')}"]))
            else:
                others.append(f"{label_of(conflict.field)}{who}")
        if others:
            rows.append(pn.pane.HTML('<div class="cc-muted">{} {}</div>'.format(
                esc(_("Also changed meanwhile, and kept as stored:")), esc(", ".join(others)))))
        self._layout = pn.Column(*rows, sizing_mode="stretch_width",
                                 styles={"background": "#fff7e6", "border": "1px solid #f3c969",
                                         "border-radius": "6px", "padding": "4px 10px"},
                                 css_classes=focus_first(["cc-conflict"]))  # its first choice takes the focus

    def kept_values(self) -> dict[str, Any]:
        """The user's values to apply on top of the stored customer (their choice per conflicting field)."""
        return {field: value for field, value in self.mine.items()
                if field not in self.choices or self.choices[field].value == self.MINE}

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def _unset(value: Any) -> Any:
    """An empty text is no value, as None is (0, 0.0 and False are values: a form did not change them)."""
    return None if value is None or (isinstance(value, str) and value == "") else value
