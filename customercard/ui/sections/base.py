"""A card section: folded or open (remembered per user, built only when opened), read as light HTML,
edited with widgets built from the param model only while editing.

Each section is a :class:`~customercard.ui.components.SectionSlot` drawn by the card's one
:class:`~customercard.ui.components.CardView`. Buttons and links in
its HTML carry ``data-action``; :meth:`Section.handle` accepts only the actions the section declares.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ClassVar

import panel as pn
import param
from bokeh.core.property.validation import validate

from ...errors import PermissionDenied, ValidationError
from ...i18n import _, quote
from ...models import Customer, InvoiceDefaults
from ...store import Change
from ..accessibility import focus_first, focus_here, live, token
from ..components import CardView, SectionSlot
from ..context import CardContext
from ..editor import CustomerEditor, customer_label
from ..form import ConflictResolver, FieldForm
from ..html import esc

PREF_PREFIX = "card.collapsed."
log = logging.getLogger(__name__)


def card_collapsed_prefs(context: CardContext) -> dict[str, bool]:
    """{section key: collapsed} as this user left them (on any card, browser or device)."""
    stored = context.store.prefs(context.login, PREF_PREFIX)
    return {key[len(PREF_PREFIX):]: bool(value) for key, value in stored.items()}


def while_saving(method: Callable[..., Any]) -> Callable[..., Any]:
    """A section's method that writes and draws its result, as one: what the card hears meanwhile (its own change
    among it — in a notebook on PostgreSQL, on the listener's thread, while this draws) is shown after it."""
    @functools.wraps(method)
    def saving(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self.context.saving():
            return method(self, *args, **kwargs)
    return saving


def note_html(text: str, ok: bool, mark: str | None = None, focus: bool = False) -> str:
    """A section's message: said in the page's live region once (``mark``: the message's token), and given the
    focus once with ``focus`` (the control that was used has gone: a closed form, a list drawn again)."""
    if not text:
        return ""
    css = "ok" if ok else "bad"
    color = "#1d7a3c" if ok else "#b42318"
    attrs = live(ok, mark) + (focus_here(mark) if focus else "")
    return f'<p class="cc-note {css}" style="color:{color};font-size:.9em;margin:6px 0 0"{attrs}>{esc(text)}</p>'


def action_button(action: str, label: str, item_id: object = None, primary: bool = False, css: str = "",
                  version: int | None = None, about: str = "") -> str:
    """A button that sends ``action`` (with the item's id, and the version it was drawn with) to the section.
    ``about``: the item it acts on, in the button's accessible name ("Delete: offer.pdf") — a row's buttons read
    "Delete, button" seven times down a table otherwise."""
    ident = f' data-id="{esc(item_id)}"' if item_id is not None else ""
    if version is not None:
        ident += f' data-version="{int(version)}"'
    if about:
        ident += f' aria-label="{esc(_("{action}: {item}").format(action=label, item=about))}"'
    classes = " ".join(c for c in ("cc-act", "primary" if primary else "", css) if c)
    return f'<button class="{classes}" data-action="{esc(action)}"{ident}>{esc(label)}</button>'


class Section(pn.viewable.Viewer):
    """Base of every card section. Subclasses give ``key``, ``title`` and :meth:`markup`."""

    key: ClassVar[str] = ""
    title: ClassVar[str] = ""
    #: Dotted customer fields the section's "Edit" form edits (empty: not editable as a whole).
    edit_fields: ClassVar[tuple[str, ...]] = ()
    #: Whether the section shows forms of its own to writers (a new comment, an event's editor …): the card holds a
    #: place for them once the first is shown (see :attr:`~customercard.ui.components.SectionSlot.held`).
    forms: ClassVar[bool] = False
    form_columns: ClassVar[int] = 2
    collapsed_by_default: ClassVar[bool] = False
    #: Actions the section's HTML may send (besides "edit"), each handled by ``do_<action>``.
    actions: ClassVar[tuple[str, ...]] = ()
    #: The kinds of change (see :class:`customercard.store.Change`) that alter what the section shows.
    listens_to: ClassVar[frozenset[str]] = frozenset({"customer"})

    context = param.ClassSelector(class_=CardContext, doc="The card this section is part of.")
    collapsed = param.Boolean(default=False, doc="Whether the section is folded away.")
    editing = param.Boolean(default=False, doc="Whether the section shows its edit form.")

    def __init__(self, build: bool = True, **params: Any) -> None:
        super().__init__(**params)
        self._built = False
        self._beside_form: Callable[[], str] | None = None
        self._read_child: Any = None
        self._form: Any = None
        self._editor: CustomerEditor | None = None
        self._return_to: tuple[str, str] | None = None  # (tool action, focus mark): see return_focus_to
        # Where the section's Edit form shows: one layout, the section's child from its first drawing on, so that
        # opening and closing the form changes what this layout holds and nothing else (a new child of the card
        # would make the browser draw the whole card again: every section, and the chart). Writers only.
        self._holder: pn.Column | None = pn.Column(
            sizing_mode="stretch_width", margin=0, css_classes=["cc-form-holder"]) if (
            self.edit_fields and self.context.can_edit) else None
        #: How often the section drew its read view (each drawing reads what it shows from the store).
        self.drawn = 0
        self._note = ("", True)
        self.view = SectionSlot(key=self.key, title=_(self.title), collapsed=self.collapsed,
                                held=self.forms and self.context.can_edit)
        self._alone: CardView | None = None
        self.view.param.watch(self._on_toggle, "collapsed")
        self.view.on_action(self.handle)
        self._watching = self.context.param.watch(self._on_saved, "saved")
        if build:
            self.build_if_open()

    def dispose(self) -> None:
        """The section is taken off its card (a module switched off): it draws nothing more as the card saves."""
        self.context.param.unwatch(self._watching)

    # -- what the section holds (read only) ------------------------------------------------------------------
    @property
    def built(self) -> bool:
        """Whether the section has been built (a folded one is built when it is first opened)."""
        return self._built

    @property
    def form(self) -> Any:
        """The form open in the section (a :class:`~customercard.ui.form.FieldForm`: its ``widgets``, ``messages``
        and ``notices`` by field), or None while the section shows its read view."""
        return self._form

    @property
    def resolver(self) -> ConflictResolver | None:
        """The conflict dialog shown after a save that someone else's came before (its ``choices`` by field), or
        None."""
        return self._editor.resolver if self._editor is not None else None

    @property
    def message(self) -> str:
        """The text of the section's last message ("Saved.", a refusal…), empty when there is none."""
        return self._note[0]

    # -- reading ------------------------------------------------------------------------------------------
    def markup(self) -> str:
        """The read-only body as safe HTML (every user value escaped)."""
        return ""

    def _save_customer(self, customer: Customer) -> Customer:
        """Save the form's customer; a value of this section the card could not read is written with it (the form
        showed it as its default, and Save says that is the value wanted)."""
        customer.rewrite_unreadable(self.edit_fields or ())
        return self.context.store.save_customer(customer, user=self.context.login)

    def unreadable_html(self) -> str:
        """Which of the section's fields hold a stored value the model refuses (read as empty), said above its read
        view: the value is not lost in silence, and Edit sets a new one."""
        unreadable = self.context.customer.unreadable
        mine = [field for field in self.edit_fields or () if field in unreadable]
        if not mine:
            return ""
        named = ", ".join(f"{self.context.customer.label(field)} ({quote(unreadable[field])})" for field in mine)
        text = _("Stored values this card cannot read, shown as their defaults: {fields}. Saving this section writes "
                 "the value shown.").format(fields=named)
        style = "color:#b42318;font-size:.9em;margin:0 0 6px"
        return f'<p class="cc-note bad cc-unreadable" style="{style}">{esc(text)}</p>'


    def read_child(self) -> pn.viewable.Viewable | None:
        """Panel content shown in read mode beside the HTML (e.g. a chart); None for most sections."""
        return None

    def render(self) -> None:
        """Show the read-only state. A section that fails to draw says so in its own place (the server's log has
        the traceback); the card's other sections are drawn as usual."""
        self.drawn += 1
        self._beside_form = None
        try:
            child = self._read_child = self.read_child()
            if child is None and self._holder is not None:  # (emptied below)
                child = self._read_child = self._holder
            html = self.unreadable_html() + self.markup() + note_html(*self._note, mark=self._note_mark,
                                                                      focus=self._note_focus)
            tools = self._tools()
            if self._return_to is not None:  # the tool whose form was closed takes the focus back (once: this drawing)
                action, mark = self._return_to
                self._return_to = None
                tools = [{**tool, "focus": mark} if tool["action"] == action else tool for tool in tools]
        except Exception:
            log.exception("The card section %r of customer %s could not be drawn", self.key,
                          getattr(self.context.customer, "id", None))
            child, tools = None, []
            html = note_html(_("This section could not be shown. Try again later; if it keeps happening, tell "
                               "your administrator (the server's log has the details)."), ok=False)
        with pn.io.hold():  # one message to the browser
            if child is self._holder and child is not None:
                self._holder.objects = []
            self.view.param.update(html=html, tools=tools, child=child, child_first=child is not None)

    def show_in_holder(self, content: pn.viewable.Viewable, html: str = "") -> None:
        """Show ``content`` (a form) in place of the read-only body, in the section's own holder when it has one
        (only what the holder holds changes in the browser), else as the section's child."""
        if self._holder is None:
            self.view.param.update(child=content, html=html, tools=[], child_first=True)
            return
        # one message to the browser; the form's Bokeh models take values Panel's widgets have validated already
        with pn.io.hold(), validate(False):
            self._holder.objects = [content]
            self.view.param.update(child=self._holder, html=html, tools=[], child_first=True)

    def refresh(self) -> None:
        """Redraw after the customer (or what the section lists) changed; a form being filled in stays."""
        if self._built and not self.form_open:
            self.render()

    def offer_choices_now(self) -> None:
        """An administrator changed the lists while this section's edit form is open: its choices offer the lists as
        they are now (a renamed value under its new name, a new one offered, one switched off no longer — unless
        chosen); what was chosen stays chosen."""
        form = self._form
        if not self.editing or not isinstance(form, FieldForm):
            return
        choices = self.context.store.choices()

        def named_now(field: str, value: Any) -> Any:
            head, _dot, attr = field.rpartition(".")
            list_name = (InvoiceDefaults.lists if head == "invoicing" else Customer.lists if not head else {}).get(attr)
            if list_name is None or not isinstance(value, str):  # (account managers are users: not renamed)
                return value
            return choices.named_now(list_name, value)
        form.offer(self.context.customer, named_now)

    @property
    def form_open(self) -> bool:
        """Whether the section shows a form (an edit, a new comment, an e-mail…) instead of its read view."""
        if self.editing:
            return True
        if self._holder is not None and self.view.child is self._holder:
            return bool(self._holder.objects)
        return self.view.child is not None and self.view.child is not self._read_child

    def changes_arrived(self, changes: list[Change]) -> None:
        """Records this section lists were changed (by anyone): drawn again — or, while a form is open, the form
        stays as typed and an editor of a changed record marks what changed underneath it."""
        if not self._built:
            return
        if self.form_open:
            editor = getattr(self, "editor", None)
            if editor is not None:
                editor.heard(changes)
            if self._beside_form is not None:  # the list beside the form shows the new values (the form as typed)
                try:
                    self.view.html = self._beside_form()
                except Exception:
                    log.exception("The card section %r of customer %s could not be drawn again", self.key,
                                  getattr(self.context.customer, "id", None))
            return
        self.render()

    def keep_beside_form(self, drawn: Callable[[], str]) -> None:
        """A form now shows beside the section's own HTML (a list, drawn by ``drawn``): while it is open, others'
        changes draw that HTML again, as they draw the whole section when no form is open."""
        self._beside_form = drawn

    def _tools(self) -> list[dict[str, str]]:
        if self.edit_fields and self.context.can_edit:
            return [{"action": "edit", "label": _("Edit")}]
        return []

    def _build(self) -> None:
        self._built = True
        self.render()

    def build_if_open(self) -> None:
        """Build the section now if it is unfolded and not built yet (folded ones wait until opened)."""
        if not self.collapsed and not self._built:
            self._build()

    def open(self) -> None:
        """Unfold the section (building it if it never was)."""
        self.view.collapsed = False

    def _on_toggle(self, event: param.parameterized.Event) -> None:
        self.collapsed = event.new
        if not event.new and not self._built:
            self._build()
        remember_fold(self.context.store, self.context.login, PREF_PREFIX + self.key, bool(event.new))

    def _on_saved(self, _event: param.parameterized.Event) -> None:
        if "customer" in self.listens_to:
            self.refresh()

    def changed_underneath(self, stored: Customer, by: str) -> None:
        """Someone else saved the customer while this section's form is open: the form keeps what was typed, and
        each field whose stored value changed since the form opened says so (the conflict is seen before Save)."""
        if self.editing and self._editor is not None:
            self._editor.changed_underneath(stored, by)

    def handle(self, action: str, data: dict[str, Any]) -> None:
        """Run an action sent from the browser, if this section offers it."""
        if action == "edit" and self.edit_fields:
            self.start_edit()
        elif action in self.actions:
            getattr(self, "do_" + action.replace("-", "_"))(data)

    @property
    def _note(self) -> tuple[str, bool]:
        """The section's message (text, ok), kept until the next one; each new one gets a new token (said and
        focused once, however often the section is drawn again)."""
        return self._message

    @_note.setter
    def _note(self, value: tuple[str, bool]) -> None:
        self._message, self._note_mark, self._note_focus = tuple(value), token(), True

    def say(self, text: str, ok: bool = True, focus: bool = True) -> None:
        """A message at the end of the section (kept until the next one). ``focus``: it takes the focus once (what
        the user did went away); False for what someone else did — said in the live region, the focus left where
        the user has it."""
        self._note = (text, ok)
        self._note_focus = focus
        if self.editing:  # under the form, which keeps the focus
            self.view.html = self.editing_html() + note_html(text, ok, mark=self._note_mark)
        elif self._built:
            self.render()

    # -- editing ------------------------------------------------------------------------------------------
    def make_form(self, draft: Customer) -> Any:
        """The edit form for ``draft`` (a copy of the customer, which the form reads and never changes — the editor
        keeps it as the values the form started from): widgets for :attr:`edit_fields`."""
        return FieldForm(record=draft, fields=list(self.edit_fields), columns=self.form_columns,
                         labels=self.form_labels(), user_name=self.context.store.user_name)

    def form_labels(self) -> dict[str, str]:
        return {}

    def editing_html(self) -> str:
        """What stays of the read-only body while a form shows (nothing by default)."""
        return ""

    def show_form(self, *objects: Any) -> None:
        """Show Panel content (a form) in place of the read-only body; its first field takes the focus."""
        self.show_in_holder(pn.Column(*objects, sizing_mode="stretch_width", margin=0, css_classes=focus_first()),
                            html=self.editing_html())

    @property
    def customer_editor(self) -> CustomerEditor | None:
        """The :class:`~customercard.ui.editor.CustomerEditor` of the section's Edit form, or None while the section
        shows its read view."""
        return self._editor if self.editing else None

    def start_edit(self) -> None:
        """Turn the section's fields into widgets built from the param model, in a
        :class:`~customercard.ui.editor.CustomerEditor` (the one conflict-safe editor every record has)."""
        if not self._built:
            self.open()
        if not self.context.can_edit:
            self.say(_("You may read this customer but not change it."), ok=False)
            return
        context = self.context
        self._note = ("", True)
        draft = context.customer.copy()  # as read now; the card's customer changes under it when others save
        store, customer_id = context.store, draft.id
        self._editor = CustomerEditor(
            draft, list(self.edit_fields), form=self.make_form(draft),  # (a form only reads its record)
            save=self._save_customer,
            reload=lambda: store.get_customer(customer_id), done=self._saved, cancelled=self.cancel,
            say=self.say, css="cc-section-form", save_css="cc-save", cancel_css="cc-cancel",
            user_name=store.user_name, zone=context.zone, focus=True, saving=context.saving, choices=store.choices)
        self._form = self._editor.form
        self.editing = True
        self.show_in_holder(self._editor.__panel__(), html=self.editing_html())

    def cancel(self) -> None:
        self.editing = False
        self._form = self._editor = None
        self._note = ("", True)
        self.return_focus_to("edit")
        self.render()

    def return_focus_to(self, action: str) -> None:
        """The next drawing gives the focus back to the header's tool ``action`` (the form it opened was closed
        without a message that takes the focus: a keyboard user goes on from where they were, not the page's start)."""
        self._return_to = (action, token())

    def save(self) -> bool:
        """Validate and save the form; messages go next to their fields and the form keeps what was typed."""
        assert self._editor is not None, "no Edit form is open"
        return self._editor.save()

    def _saved(self, saved: Customer) -> None:
        kept = self._editor.kept if self._editor is not None else []
        kept = [c for c in kept if c.changed_by != self.context.login]  # one's own save in another section: no news
        store = self.context.store
        names = ", ".join(dict.fromkeys(f"{self._label_of(c.field)} ({store.user_name(c.changed_by)})" for c in kept))
        self.editing = False
        self._form = self._editor = None
        self._note = (_("Saved. Also changed meanwhile, and kept: {fields}.").format(fields=names) if names
                      else _("Saved."), True)
        self.context.adopt(saved)
        self.render()

    def _label_of(self, field: str) -> str:
        return customer_label(self.context.customer, field)

    def __panel__(self) -> pn.viewable.Viewable:
        """The section on its own (a card shows all its sections in one view instead)."""
        if self._alone is None:
            self._alone = CardView(slots=[self.view], sizing_mode="stretch_width", css_classes=["cc-card"])
        return self._alone


def remember_fold(store: Any, login: str, key: str, folded: bool) -> None:
    """Keep whether the user left a part folded, for the next card; a store that may not write it (an API token
    that only reads) leaves it unremembered, and the fold is made all the same."""
    try:
        store.set_pref(login, key, folded)
    except (PermissionDenied, ValidationError):  # a token that only reads; a user at their most preferences
        log.info("A fold of %s is not remembered: this store may not keep %s's preferences", key, login)
