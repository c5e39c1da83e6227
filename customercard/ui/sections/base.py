"""A card section: a collapsible card, built only when opened, remembered per user, editable in place."""

from __future__ import annotations

from typing import Any, ClassVar

import panel as pn
import param

from ...errors import ConflictError, CustomerCardError, PermissionDenied, ValidationError
from ...i18n import _
from ...models import Customer
from ..context import CardContext
from ..form import ConflictResolver, FieldForm
from ..html import SECTION_CSS, esc

PREF_PREFIX = "card.collapsed."
NOTE_CSS = """:host { font-size: 0.9em; } .ok { color: #1d7a3c; } .bad { color: #b42318; }"""


def card_collapsed_prefs(context: CardContext) -> dict[str, bool]:
    """{section key: collapsed} as this user left them (on any card, browser or device)."""
    stored = context.store.prefs(context.login, PREF_PREFIX)
    return {key[len(PREF_PREFIX):]: bool(value) for key, value in stored.items()}


class Section(pn.viewable.Viewer):
    """Base of every card section. Subclasses give ``key``, ``title`` and :meth:`body`."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: Dotted customer fields the section's "Edit" form edits (empty: not editable as a whole).
    edit_fields: ClassVar[tuple[str, ...]] = ()
    form_columns: ClassVar[int] = 2
    collapsed_by_default: ClassVar[bool] = False

    context = param.ClassSelector(class_=CardContext, doc="The card this section is part of.")
    collapsed = param.Boolean(default=False, doc="Whether the section is folded away.")
    editing = param.Boolean(default=False, doc="Whether the section shows its edit form.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._built = False
        self._form: Any = None
        self._draft: Customer | None = None
        self._resolver: ConflictResolver | None = None
        self._card = pn.Card(title=self.title, collapsed=self.collapsed, sizing_mode="stretch_width",
                             css_classes=["cc-section", f"cc-section-{self.key}"], margin=(6, 0),
                             header_background="#f5f7fa", styles={"background": "#fff"})
        self._card.param.watch(self._on_toggle, "collapsed")
        self.context.param.watch(self._on_saved, "saved")
        if not self.collapsed:
            self._build()

    # -- building (subclasses give body(): the read-only content, light HTML, no widgets unless needed) --------
    def refresh(self) -> None:
        """Redraw the read-only content after the customer changed."""

    def _build(self) -> None:
        self._content = pn.Column(sizing_mode="stretch_width", margin=0)
        self._note = pn.pane.HTML("", stylesheets=[NOTE_CSS], sizing_mode="stretch_width", margin=(0, 10),
                                  css_classes=["cc-note"])
        self._show_read()
        self._card.objects = [self._content]
        self._built = True

    def _tools(self) -> list[pn.viewable.Viewable]:
        if not (self.edit_fields and self.context.can_edit):
            return []
        button = pn.widgets.Button(label=_("Edit"), color="light", width=80, margin=(0, 10),
                                   css_classes=["cc-edit"], align="end")
        button.on_click(lambda _event: self.start_edit())
        return [button]

    def _show_read(self) -> None:
        tools = self._tools()
        parts: list[Any] = [pn.Row(*tools, align="end", margin=0)] if tools else []
        parts += [self.body(), self._note]
        self._content.objects = parts

    def _on_toggle(self, event: param.parameterized.Event) -> None:
        self.collapsed = event.new
        if not event.new and not self._built:
            self._build()
        self.context.store.set_pref(self.context.login, PREF_PREFIX + self.key, bool(event.new))

    def _on_saved(self, _event: param.parameterized.Event) -> None:
        if self._built and not self.editing:
            self.refresh()

    # -- editing ------------------------------------------------------------------------------------------
    def start_edit(self) -> None:
        """Turn the section's fields into widgets built from the param model."""
        if not self._built:
            self._card.collapsed = False  # opening builds it
        if not self.context.can_edit:
            self._say(_("You may read this customer but not change it."), ok=False)
            return
        self._draft = self.context.customer.copy()
        self._form = self.make_form(self._draft)
        save = pn.widgets.Button(label=_("Save"), color="primary", width=90, css_classes=["cc-save"])
        cancel = pn.widgets.Button(label=_("Cancel"), width=90, css_classes=["cc-cancel"])
        save.on_click(lambda _event: self.save())
        cancel.on_click(lambda _event: self.cancel())
        self._resolver = None
        self._resolver_box = pn.Column(sizing_mode="stretch_width", margin=0)
        self.editing = True
        self._note.object = ""
        self._content.objects = [self._form, self._resolver_box, pn.Row(save, cancel), self._note]

    def make_form(self, draft: Customer) -> Any:
        """The edit form for ``draft`` (a copy of the customer): widgets for :attr:`edit_fields`."""
        return FieldForm(record=draft, fields=list(self.edit_fields), columns=self.form_columns,
                         labels=self.form_labels())

    def form_labels(self) -> dict[str, str]:
        return {}

    def cancel(self) -> None:
        self.editing = False
        self._form = self._draft = self._resolver = None
        self._show_read()

    def save(self) -> bool:
        """Validate and save the form; messages go next to their fields and the form keeps what was typed."""
        assert self._form is not None and self._draft is not None
        original = self._draft
        mine = self._form.changed(original)
        if self._resolver is not None:
            target = self.context.store.get_customer(original.id)
            mine = self._resolver.kept_values()
        else:
            target = original.copy()
        errors = apply_values(target, self._form.values() if self._resolver is None else mine)
        if errors:
            return self._refused(errors)
        try:
            saved = self.context.store.save_customer(target, user=self.context.login)
        except ValidationError as exc:
            return self._refused(exc.errors)
        except ConflictError as exc:
            self._show_conflict(exc, mine)
            return False
        except PermissionDenied as exc:
            self._say(str(exc), ok=False)
            return False
        except CustomerCardError as exc:
            self._say(str(exc), ok=False)
            return False
        self.editing = False
        self._form = self._draft = self._resolver = None
        self.context.adopt(saved)
        self._show_read()
        self._say(_("Saved."), ok=True)
        return True

    def _refused(self, errors: dict[str, str]) -> bool:
        assert self._form is not None
        rest = self._form.show_errors(errors)
        text = _("Please correct the marked fields.")
        if rest:
            text += " " + " ".join(f"{self._label_of(field)}: {message}" for field, message in rest.items())
        self._say(text, ok=False)
        return False

    def _show_conflict(self, error: ConflictError, mine: dict[str, Any]) -> None:
        self._resolver = ConflictResolver(error, mine, label_of=self._label_of,
                                          user_name_of=self.context.store.user_name)
        self._resolver_box.objects = [self._resolver]
        self._say(_("Not saved yet: choose below, then Save again."), ok=False)

    def _label_of(self, field: str) -> str:
        if field.startswith("segments."):
            return field.split(".", 1)[1]
        try:
            return self.context.customer.label(field)
        except AttributeError:
            return field

    def _say(self, text: str, ok: bool) -> None:
        css = "ok" if ok else "bad"
        self._note.object = f'<span class="{css} cc-message-text">{esc(text)}</span>' if text else ""

    def __panel__(self) -> pn.viewable.Viewable:
        return self._card


def apply_values(target: Customer, values: dict[str, Any]) -> dict[str, str]:
    """Set form values on a customer; ``segments.<criterion>`` keys update that criterion only."""
    plain = {field: value for field, value in values.items() if not field.startswith("segments.")}
    errors = target.update_from(plain)
    picked = {field.split(".", 1)[1]: value for field, value in values.items() if field.startswith("segments.")}
    if picked:
        segments = dict(target.segments)
        for criterion, chosen in picked.items():
            chosen = [chosen] if isinstance(chosen, str) else list(chosen or [])
            if chosen:
                segments[criterion] = chosen
            else:
                segments.pop(criterion, None)
        target.segments = segments
    return errors


def html_pane(markup: str, **params: Any) -> pn.pane.HTML:
    """A light read-only HTML pane with the section stylesheet."""
    return pn.pane.HTML(markup, stylesheets=[SECTION_CSS], sizing_mode="stretch_width", margin=(0, 10), **params)
