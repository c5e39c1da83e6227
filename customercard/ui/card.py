"""``CustomerCard`` — one customer, every section of the seed, served at /card?customer=ID or inline in a notebook."""

from __future__ import annotations

import logging
import threading
from typing import Any

import panel as pn
import param

from ..models import Customer
from ..store import STORE_TYPES, Change
from .components import CardView
from .context import CardContext
from .live import Follower
from .sections import SECTIONS, Section
from .sections.base import card_collapsed_prefs
from .shell import is_served

CARD_CSS = ":host { max-width: 1200px; }"

log = logging.getLogger(__name__)


class CustomerCard(pn.viewable.Viewer):
    """The customer card: collapsible sections, remembered per user, editable by managers and admins.

    In a notebook ``cc.CustomerCard(store=store, customer_id=42)`` displays inline; changing
    ``card.customer`` (a param :class:`~customercard.models.Customer`) shows in the card, and
    :meth:`save` stores it.
    """

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the customer comes from and goes to.")
    customer_id = param.Integer(default=None, allow_None=True, doc="The customer shown.")
    user = param.String(default=None, allow_None=True,
                        doc="Login of who looks and acts; the served login or the configured user by default.")
    customer = param.ClassSelector(class_=Customer, doc="The customer shown, as a param object.")
    as_of = param.CalendarDate(default=None, allow_None=True,
                               doc="Show the customer as it was at the end of this day, read only (None: today).")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        store = self.store if self.as_of is None else self.store.as_of(self.as_of)
        self.context = CardContext.load(store, self.customer_id, self.user)
        self.user = self.context.login
        self.customer = self.context.customer
        self._watch_customer(self.customer)
        # Served, the open sections are filled in right after the page's HTML has gone out: their queries,
        # HTML and chart are made while the browser loads Bokeh's scripts, and are in the document by the time
        # the browser asks for it. In a notebook (or any other use) they are built at once.
        served = is_served()
        collapsed = card_collapsed_prefs(self.context)
        self.sections: list[Section] = [self._section_of(cls, collapsed, build=not served)
                                        for cls in SECTIONS if _shown(cls, self.context)]
        self.context.param.watch(self._open_record, "opened")
        self._held: list[Change] = []
        #: Sections the firm's settings switched off, kept while they show a form: their watchers.
        self._kept: dict[type[Section], Any] = {}
        self._hold_lock = threading.Lock()
        self.context.param.watch(self._saving_done, "saving_now")
        self._layout = CardView(slots=[section.view for section in self.sections], sizing_mode="stretch_width",
                                css_classes=["cc-card"], stylesheets=[CARD_CSS])
        self._follower = Follower(self.store, self._concerns_me, self._show_changes)
        if served:
            pn.state.execute(self._build_open_sections, schedule=True)

    def _section_of(self, cls: type[Section], collapsed: dict[str, bool], build: bool) -> Section:
        """A new section of this card, folded as the user left it (``collapsed``: their preferences)."""
        fold = collapsed.get(cls.key, cls.collapsed_by_default) if getattr(cls, "remembered", True) \
            else cls.collapsed_by_default
        return cls(context=self.context, build=build, collapsed=fold)

    def _build_open_sections(self) -> None:
        with self._layout.holding():  # the browser gets the built sections in one update
            for section in self.sections:
                section.build_if_open()

    def _concerns_me(self, change: Change) -> bool:
        return change.customer_id == self.customer.id or change.kind == "admin"

    def _show_changes(self, changes: list[Change]) -> None:
        """Show what was committed meanwhile — by someone else, or by this card's own sections: the customer's new
        values in read mode (a form being edited keeps what was typed and marks what changed underneath it), and
        the sections whose records changed drawn again. While a section saves, what is heard waits until the save
        has shown its own result (its own change is then no news)."""
        with self._hold_lock:
            if self.context.saving_now:
                self._held.extend(changes)
                return
        admin = [c for c in changes if c.kind == "admin"]
        changes = [c for c in changes if c.kind != "admin"]
        newer = [c for c in changes if c.kind == "customer" and (c.version or 0) > self.context.customer.version]
        if newer:
            if not self.context.take_stored():  # a notebook's unsaved edit of a field they changed too: kept
                return
            by = newer[-1].by
            for section in self.sections:
                section.changed_underneath(self.context.customer, by)
        kinds = {c.kind for c in changes if c.kind != "customer"}
        for section in self.sections:
            if section.listens_to & kinds:
                section.changes_arrived([c for c in changes if c.kind in section.listens_to])
        if admin:  # (after a colleague's save heard with it: its marks on an open form are made first)
            self._admin_changed()

    def _admin_changed(self) -> None:
        """An administrator changed the lists or the settings: the customer's values read again (a renamed
        industry, status … shows under its new name) and every section not showing a form drawn again (their
        records' labels: event types, stages, relation types). A form keeps what was typed; its save takes a renamed
        value under its new name."""
        context = self.context
        with self._layout.holding():  # the browser gets it all in one update
            taken = False
            try:
                context.settings = context.store.settings()
                if context.user is not None:  # their projects access, as an administrator left it
                    context.user = context.store.get_user(context.login)
                taken = context.take_stored()  # (the sections showing the customer are drawn again by it)
            except Exception:  # (deleted meanwhile: the next save says so)
                log.exception("The card of customer %s could not read the customer again", self.customer.id)
            self._show_the_sections_switched_on()
            for section in self.sections:
                if not section.built:
                    section.build_if_open()
                elif section.form_open:
                    section.offer_choices_now()  # what was typed stays; the lists offered as they are now
                elif not (taken and "customer" in section.listens_to):
                    section.render()  # (a section that fails says so in its place)

    def _show_the_sections_switched_on(self) -> None:
        """The sections the firm's settings show now (document storage, the CRM module, a separate invoice
        address switched on or off): new ones are made, folded as the user left them; a section switched off goes —
        once it shows no form (what was typed stays until saved, then refused, or cancelled: then it goes)."""
        context, have = self.context, {type(section): section for section in self.sections}
        wanted = [cls for cls in SECTIONS if _shown(cls, context) or (cls in have and have[cls].form_open)]
        for cls in wanted:  # kept for its form: looked at again as the form closes
            if not _shown(cls, context) and cls not in self._kept:
                self._kept[cls] = have[cls].view.param.watch(self._kept_form_closed, ["html", "child"])
        for cls in [cls for cls in self._kept if _shown(cls, context)]:  # switched on again meanwhile
            have[cls].view.param.unwatch(self._kept.pop(cls))
        if wanted == [type(section) for section in self.sections]:
            return
        collapsed = card_collapsed_prefs(context)
        sections = [have.get(cls) or self._section_of(cls, collapsed, build=False) for cls in wanted]
        for section in self.sections:
            if type(section) not in wanted:
                self._forget_section(section)
        self.sections = sections
        self._layout.show([section.view for section in sections])

    def _kept_form_closed(self, _event: param.parameterized.Event) -> None:
        if any(not section.form_open for section in self.sections if type(section) in self._kept):
            self._show_the_sections_switched_on()

    def _forget_section(self, section: Section) -> None:
        """A section taken off the card: it hears nothing more."""
        watcher = self._kept.pop(type(section), None)
        if watcher is not None:
            section.view.param.unwatch(watcher)
        section.dispose()

    def _saving_done(self, event: param.parameterized.Event) -> None:
        if event.new:
            return
        with self._hold_lock:
            changes, self._held = self._held, []
        if changes:
            try:  # (what others changed is shown; a section failing to show it does not undo this user's save)
                self._show_changes(changes)
            except Exception:
                log.exception("Showing %d change(s) heard during a save on the card of customer %s failed",
                              len(changes), self.customer.id)

    def _open_record(self, event: param.parameterized.Event) -> None:
        """A section asked to show a record (an Activity entry's link): its own section unfolds and shows it — an
        event's details, an opportunity in its editor (for writers), every comment."""
        if event.new is None:
            return
        key, record_id = event.new
        self.context.opened = None
        try:
            target = self.section(key)
        except KeyError:  # not on this card (the CRM module switched off)
            return
        target.open()
        if key == "comments":
            target.show_all = True
        elif key == "events":
            target.handle("open-event", {"id": record_id})
        elif key == "opportunities" and self.context.can_edit:
            target.handle("edit-opportunity", {"id": record_id})

    def section(self, key: str) -> Section:
        """The section with this key (e.g. 'contact', 'comments')."""
        for section in self.sections:
            if section.key == key:
                return section
        raise KeyError(key)

    def save(self) -> Customer:
        """Save the edits made to :attr:`customer` (validated, recorded in history, version checked)."""
        saved = self.context.store.save_customer(self.customer, user=self.user)  # as of a day: refused
        self.context.remember_stored()
        self.context.param.trigger("saved")
        return saved

    def _watch_customer(self, customer: Customer) -> None:
        customer.param.watch(self._on_customer_change, list(customer.param))
        for nested in customer.nested:
            getattr(customer, nested).param.watch(self._on_customer_change, list(getattr(customer, nested).param))

    def _on_customer_change(self, *_events: param.parameterized.Event) -> None:
        if not getattr(self.context, "_adopting", False):
            self.context.param.trigger("saved")

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def _shown(cls: type[Section], context: CardContext) -> bool:
    """Whether the card shows this kind of section (a module's is shown while the firm has it on)."""
    return getattr(cls, "shown", lambda _c: True)(context)
