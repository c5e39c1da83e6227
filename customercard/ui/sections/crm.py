"""The CRM sections of the card: relations, events and opportunities."""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

import pandas as pd
import panel as pn
import param

from ... import formatting
from ...errors import ConflictError, CustomerCardError, NotFound, ValidationError
from ...i18n import N_, _, pgettext
from ...models import Event, Opportunity, Record, Relation
from ..accessibility import focus_first, focus_here, live
from ..choices import contact_options, multi_choice, people_options
from ..editor import RecordEditor
from ..form import read_text, text_input
from ..html import esc, isolated, link, rows_of, table
from ..switches import require_crm
from .base import Section, action_button, while_saving

EVENT_FIELDS = ["title", "event_type", "starts_at", "ends_at", "owner", "participants", "contact_ids", "description"]
OPPORTUNITY_FIELDS = ["title", "amount", "currency", "probability", "stage", "expected_close", "owner"]
STATUS_FILTERS = {"": N_("All"), "planned": N_("Planned"), "done": N_("Done"), "cancelled": N_("Cancelled")}
#: The fewest characters (spaces aside) a relation's other party is looked up by.
LOOKUP_MIN_CHARS = 2


def seen_version(record: Record, data: dict[str, Any]) -> Record:
    """``record`` as the person saw it: at the version the clicked button was drawn with (a save from it is refused
    when someone changed the record since)."""
    try:
        record.version = int(data["version"])
    except (KeyError, TypeError, ValueError):
        pass
    return record


def conflict_text(exc: ConflictError, user_name: Any) -> str:
    """What a refused stale change says: who changed what meanwhile, and that the list now shows it."""
    who = ", ".join(dict.fromkeys(user_name(c.changed_by) for c in exc.conflicts if c.changed_by))
    return (_("Not saved: {who} changed it meanwhile. It is shown as it is now; do it again if you still want to.")
            .format(who=who) if who else
            _("Not saved: it was changed meanwhile. It is shown as it is now; do it again if you still want to."))


def _error_text(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    return " ".join(errors.values()) if errors else str(exc)


def owner_choice(store: Any, current: str, css: str = "cc-follow-up-owner") -> pn.widgets.Select:
    """Who does it: the active managers and administrators (and whoever owns it now), as the store allows an owner
    of a follow-up, an event or an opportunity."""
    users = store.users()
    people = [(r.login, r.name) for r in rows_of(users) if r.role in ("admin", "manager")]
    if current and current not in {login for login, _name in people}:
        people.append((current, store.user_name(current)))
    names = people_options(people)  # two colleagues of one name: told apart by their logins (one was lost)
    return pn.widgets.Select(label=_("Owner"), options=names, value=current or None, sizing_mode="stretch_width",
                             css_classes=[css])


class CrmSection(Section):
    """What the CRM sections share: a record editor in the section, a message pane under forms, a save wrapper.
    They are on the card only while the firm's CRM module is switched on."""

    #: Whether the section's writes are the CRM module's (refused once it is switched off); follow-ups are not.
    needs_crm: ClassVar[bool] = True
    forms = True

    @classmethod
    def shown(cls, context) -> bool:
        return context.settings.crm_enabled

    editor: RecordEditor | None = None

    def _edit_record(self, record: Record, fields: list[str], save: Any, title: str, css: str, done: str,
                     reload: Any = None, **options: Any) -> RecordEditor:
        """Show a :class:`RecordEditor` for ``record`` in the section; ``done`` is the note after a save."""
        def finished(saved: Record) -> None:
            self.editor = self._form = None
            self._note = (done + self._moved(saved), True)
            self.render()

        def cancelled() -> None:
            self.editor = self._form = None
            self.render()
        context = self.context

        def save_while_on(draft: Record) -> Any:
            if self.needs_crm:
                require_crm(context.store)  # switched off since the form was opened: nothing saved
            return save(draft)
        self.editor = RecordEditor(record, fields, save=save_while_on, done=finished, cancelled=cancelled,
                                   reload=reload,
                                   title=title, css=css, user_name=context.store.user_name, zone=context.zone,
                                   focus=True, saving=context.saving, choices=context.store.choices, **options)
        self._form = self.editor.form
        self.view.param.update(child=self.editor.__panel__(), child_first=True)
        self.keep_beside_form(self.markup)
        return self.editor

    def _moved(self, saved: Record) -> str:
        """' It is on …': a record saved while its customer was merged into another went to the survivor (the form
        said "saved" above an empty list)."""
        owner = getattr(saved, "customer_id", None)
        if owner is None or owner == self.context.customer.id:
            return ""
        try:
            survivor = self.context.store.get_customer(int(owner))
        except CustomerCardError:
            return ""
        return " " + _("It is on {name} ({number}), which this customer was merged into.").format(
            name=isolated(survivor.name), number=survivor.number)

    def _form_box(self, title: str, form: Any, on_save, css: str, save_label: str = "") -> None:
        save = pn.widgets.Button(label=save_label or _("Save"), color="primary", css_classes=[f"{css}-save"])
        cancel = pn.widgets.Button(label=_("Cancel"), css_classes=[f"{css}-cancel"])
        self._form_message = pn.pane.HTML("", margin=(0, 10), css_classes=["cc-form-message"])
        save.on_click(lambda _e: on_save())
        cancel.on_click(lambda _e: self.render())
        self.view.param.update(child=pn.Column(pn.pane.HTML(f"<b>{esc(title)}</b>", margin=(0, 10)), form,
                                               pn.Row(save, cancel), self._form_message,
                                               sizing_mode="stretch_width", css_classes=focus_first([css])),
                               child_first=True)
        self.keep_beside_form(self.markup)  # the list beside it shows colleagues' changes as they come

    @while_saving
    def _run(self, action, done: str) -> bool:
        try:
            if self.needs_crm:
                require_crm(self.context.store)
            action()
        except ConflictError as exc:
            self._note = (conflict_text(exc, self.context.store.user_name), False)
            self.render()  # the list as it is now
            return False
        except (ValidationError, CustomerCardError) as exc:
            if getattr(self, "_form_message", None) is not None and self.view.child is not None:
                if isinstance(exc, ValidationError) and getattr(self, "_form", None) is not None:
                    self._form.show_errors(exc.errors)
                self._form_message.object = f'<span style="color:#b42318"{live(False)}>{esc(_error_text(exc))}</span>'
                self.view.html = self.markup()  # the list as it is now (a refusal may name what is there already)
            else:
                self.say(_error_text(exc), ok=False)
            return False
        self._form = None
        self._note = (done, True)
        self.render()
        return True


def relation_target(relation: Any) -> str:
    """The other side of a relation as a link: a customer (with its number) or a contact person."""
    if relation.other_kind == "customer":
        href = f"/card?customer={int(relation.other_id)}"
    else:
        href = f"/contact?contact={int(relation.other_id)}"
    name = relation.other_name if isinstance(relation.other_name, str) else _("(removed)")
    if pd.notna(relation.other_number):
        name = f"{name} ({int(relation.other_number)})"
    return link(href, name)


class RelationsSection(CrmSection):
    key = "relations"
    listens_to = frozenset({"relation", "contact"})
    title = N_("Relations")
    collapsed_by_default = True
    actions = ("add-relation", "remove-relation")

    def markup(self) -> str:
        frame = self.context.store.relations(self.context.customer.id)
        rows = []
        for r in rows_of(frame):
            cells = [esc(r.label), relation_target(r), esc(r.note)]
            if self.context.can_edit:
                cells.append(action_button("remove-relation", _("Remove"), item_id=r.id, css="cc-remove-relation",
                                           about=f"{r.label} {r.other_name if isinstance(r.other_name, str) else ''}"
                                           .strip()))
            rows.append(cells)
        add = (f'<p>{action_button("add-relation", _("Add relation…"), css="cc-add-relation")}</p>'
               if self.context.can_edit else "")
        headers = [(_("Relation"), False), (_("To"), False), (_("Note"), False)]
        if self.context.can_edit:
            headers.append(("", False))
        listing = table(headers, rows, css_id="cc-relations-table") if rows else \
            f'<p class="cc-empty">{esc(_("No relations."))}</p>'
        return add + listing

    def do_remove_relation(self, data: dict[str, Any]) -> None:
        try:
            relation_id = int(data.get("id"))
        except (TypeError, ValueError):
            return
        mine = self.context.store.relations(self.context.customer.id)
        if relation_id not in set(mine["id"]):  # only this card's relations: one removed meanwhile is said so
            self._note = (_("This relation was removed meanwhile."), False)
            self.render()
            return
        self._run(lambda: self.context.store.remove_relation(relation_id, user=self.context.login),
                  _("Relation removed."))

    def do_add_relation(self, _data: dict[str, Any] | None = None) -> None:
        if not self.context.can_edit:
            return
        store = self.context.store
        types = store.choices().allowed("relation_types")
        self._type = pn.widgets.Select(label=_("Relation"), options=types, css_classes=["cc-relation-type"])
        self._find = pn.widgets.TextInput(label=_("To customer or contact person"), placeholder=_("Type a name…"),
                                          css_classes=["cc-relation-find"])
        self._target = pn.widgets.Select(label=_("Choose"), options={}, css_classes=["cc-relation-target"])
        self._note_input = text_input(Relation.param.note, label=_("Note"), height=60, css_classes=["cc-relation-note"])
        self._find.param.watch(lambda e: self._lookup(e.new), "value_input")
        self._form = None
        # "choose whom": said under the name field, tied to it (aria-invalid, described by the message)
        self._target_error = pn.pane.HTML("", css_classes=["cc-field-error", "cc-relation-target-error"],
                                          margin=(0, 10))
        self._find_cell = pn.Column(self._find, self._target_error, margin=0)
        form = pn.Column(pn.Row(self._type, self._find_cell), pn.Row(self._target, self._note_input),
                         sizing_mode="stretch_width")
        self._form_box(_("New relation"), form, self.add_relation, "cc-relation-form", _("Add"))

    def _lookup(self, text: str) -> None:
        store, me = self.context.store, self.context.customer.id
        options: dict[str, Any] = {}
        if text and len(text.strip()) >= LOOKUP_MIN_CHARS:
            for hit in rows_of(store.search(text, limit=8, include_archived=False)):
                if int(hit.id) != me:
                    options[f"{_('Customer')}: {hit.name} ({hit.number})"] = ("customer", int(hit.id))
            for hit in rows_of(store.find_contacts(text, limit=8)):
                options[f"{_('Contact')}: {hit.name} ({hit.customer_name})"] = ("contact", int(hit.id))
        self._target.options = options
        if options:
            self._target.value = next(iter(options.values()))

    def add_relation(self) -> bool:
        target = self._target.value
        if not target:
            self._target_error.object = (f'<span style="color:#b42318"{live(False)}>'
                                         f'{esc(_("Choose whom to relate to."))}</span>')
            self._find_cell.css_classes = focus_first(self._find_cell.css_classes)
            return False
        self._target_error.object = ""
        kind, other = target
        relation = Relation(customer_id=self.context.customer.id, relation_type=self._type.value,
                            note=read_text(self._note_input.value, Relation.param.note),
                            other_customer_id=other if kind == "customer" else None,
                            other_contact_id=other if kind == "contact" else None)
        return self._run(lambda: self.context.store.add_relation(relation, user=self.context.login),
                         _("Relation added."))


class EventsSection(CrmSection):
    key = "events"
    listens_to = frozenset({"event", "contact"})
    title = N_("Events")
    collapsed_by_default = True
    actions = ("new-event", "open-event", "event-done", "event-cancel", "event-filter", "edit-event")

    status_filter = param.Selector(default="", objects=list(STATUS_FILTERS), doc="Show only events of this status.")

    def markup(self) -> str:
        store, zone = self.context.store, self.context.zone
        frame = store.events(self.context.customer.id, status=self.status_filter or None)
        now = dt.datetime.now()
        upcoming = frame[frame["starts_at"] >= now].sort_values("starts_at")
        past = frame[frame["starts_at"] < now]
        options = "".join(f'<option value="{esc(k)}"{" selected" if k == self.status_filter else ""}>'
                          f"{esc(_(v))}</option>" for k, v in STATUS_FILTERS.items())
        head = (action_button("new-event", _("Plan an event…"), css="cc-new-event") + " &nbsp; "
                if self.context.can_edit else "")
        head += (f'<label>{esc(_("Status"))} <select data-action="event-filter" class="cc-event-filter">{options}'
                 f"</select></label>")
        return (f"<p>{head}</p><h3>{esc(_('Upcoming'))}</h3>{self._listing(upcoming, zone, 'upcoming')}"
                f"<h3>{esc(_('Past'))}</h3>{self._listing(past, zone, 'past')}")

    def _listing(self, frame, zone: str, css: str) -> str:
        if frame.empty:
            return f'<p class="cc-empty">{esc(_("None."))}</p>'
        rows = []
        for e in rows_of(frame):
            title = f'<button class="cc-link cc-open-event" data-action="open-event" data-id="{int(e.id)}">' \
                    f"{esc(e.title)}</button>"
            status = f'<span class="cc-badge{" off" if e.status == "cancelled" else ""}">{esc(_(e.status))}</span>'
            cells = [esc(formatting.datetime(e.starts_at, zone)), title, esc(e.event_type or ""), esc(e.owner_name),
                     status]
            if self.context.can_edit:
                buttons = ""
                if e.status == "planned":
                    seen = int(e.version)
                    buttons = (action_button("event-done", _("Done"), int(e.id), css="cc-event-done", version=seen,
                                             about=e.title)
                               + " " + action_button("event-cancel", _("Cancel"), int(e.id), css="cc-event-cancel",
                                                     version=seen, about=e.title))
                cells.append(buttons)
            rows.append(cells)
        headers = [(_("When"), False), (_("Event"), False), (_("Type"), False), (_("Owner"), False),
                   (_("Status"), False)] + ([("", False)] if self.context.can_edit else [])
        return table(headers, rows, css_id=f"cc-events-{css}")

    def _own_event(self, data: dict[str, Any]) -> Event | None:
        """The event a button names, if it is this customer's, at the version the button was drawn with."""
        try:
            event = self.context.store.get_event(int(data.get("id")))
        except (TypeError, ValueError, NotFound):
            return None
        return seen_version(event, data) if event.customer_id == self.context.customer.id else None

    def do_event_filter(self, data: dict[str, Any]) -> None:
        value = data.get("value") or ""
        if value in STATUS_FILTERS:
            self.status_filter = value
            self.render()

    def do_event_done(self, data: dict[str, Any]) -> None:
        self._set_status(data, "done")

    def do_event_cancel(self, data: dict[str, Any]) -> None:
        self._set_status(data, "cancelled")

    def _set_status(self, data: dict[str, Any], status: str) -> None:
        event = self._own_event(data)
        if event is not None:
            self._run(lambda: self.context.store.set_event_status(event.id, status, user=self.context.login,
                                                                  version=event.version),
                      _("“{title}” marked {status}.").format(title=isolated(event.title), status=_(status)))

    def do_open_event(self, data: dict[str, Any]) -> None:
        """Show an event's details."""
        event = self._own_event(data)
        if event is None:
            return
        store, zone = self.context.store, self.context.zone
        contacts = store.contacts(event.customer_id, include_inactive=True).set_index("id")
        people = ", ".join(store.user_name(p) for p in event.participants)
        guests = ", ".join(f"{contacts.loc[i, 'first_name']} {contacts.loc[i, 'last_name']}"
                           for i in event.contact_ids if i in contacts.index)
        changed = (f"{_(event.status)} · {store.user_name(event.status_changed_by)} · "
                   f"{formatting.datetime(event.status_changed_at, zone)}" if event.status_changed_by
                   else _(event.status))
        pairs = [(_("Type"), event.event_type or ""), (_("Starts"), formatting.datetime(event.starts_at, zone)),
                 (_("Ends"), formatting.datetime(event.ends_at, zone)), (_("Owner"), store.user_name(event.owner)),
                 (_("Colleagues"), people), (_("Contact persons"), guests), (_("Status"), changed),
                 (_("Description"), event.description)]
        rows = "".join(f"<dt>{esc(k)}</dt><dd>{esc(v) or '—'}</dd>" for k, v in pairs)
        buttons = ""
        if self.context.can_edit:
            buttons = action_button("edit-event", _("Edit"), item_id=event.id, css="cc-edit-event")
        back = '<button class="cc-link" data-action="event-filter" data-id="back">' + esc(_("Back to the events")) \
            + "</button>"
        # the button that opened them is gone: the focus goes to the details' heading
        self.view.param.update(html=f'<div class="cc-event-details" id="cc-event-{event.id}">'
                                    f'<h3{focus_here()}>{esc(event.title)}'
                                    f'</h3><dl class="cc-fields">{rows}</dl><p>{buttons} {back}</p></div>',
                               child=None, tools=[])

    def do_edit_event(self, data: dict[str, Any]) -> None:
        event = self._own_event(data)
        if event is not None and self.context.can_edit:
            self._edit(event, _("Edit event"))

    def do_new_event(self, _data: dict[str, Any] | None = None) -> None:
        if not self.context.can_edit:
            return
        event = self.context.store.new_event(self.context.customer.id, owner=self.context.login)
        self._edit(event, _("Plan an event"))

    def _edit(self, event: Event, title: str) -> None:
        store, login = self.context.store, self.context.login
        users = store.users()
        names = people_options(zip(users["login"], users["name"], strict=True))
        guests = contact_options(store.contacts(event.customer_id, include_inactive=True), event.contact_ids or ())
        overrides = {"owner": owner_choice(store, event.owner, "cc-event-owner"),
                     "participants": multi_choice(names, event.participants, label=_("Colleagues"),
                                                  sizing_mode="stretch_width"),
                     "contact_ids": multi_choice(guests, event.contact_ids, label=_("Contact persons"),
                                                 sizing_mode="stretch_width")}
        created = event.id is None
        # an event marked done or cancelled by mistake is put back from its form (the buttons only go forward)
        fields = EVENT_FIELDS if created else [*EVENT_FIELDS, "status"]
        self._edit_record(event, fields, title=title, css="cc-event-form", done=_("Event saved."),
                          save=lambda e: (store.create_event if created else store.save_event)(e, user=login),
                          reload=None if created else (lambda: store.get_event(event.id)), overrides=overrides)


class OpportunitiesSection(CrmSection):
    key = "opportunities"
    listens_to = frozenset({"opportunity"})
    title = N_("Opportunities")
    collapsed_by_default = True
    actions = ("new-opportunity", "edit-opportunity", "won", "lost", "opportunity-follow-up")

    def markup(self) -> str:
        store = self.context.store
        base = self.context.settings.base_currency
        frame = store.opportunities(self.context.customer.id)
        summary = []
        for status, label in (("pipeline", _("In the pipeline")), ("won", _("Won")), ("lost", _("Lost"))):
            part = frame[frame["status"] == status]
            text = f"{label}: {len(part)} · {formatting.money(part['amount_base'].sum(), base)}"
            if status == "pipeline":
                text += f" · {_('weighted')} {formatting.money(part['weighted_base'].sum(), base)}"
            summary.append(f'<span class="cc-badge cc-opp-{status}">{esc(text)}</span>')
        head = (f'<p>{action_button("new-opportunity", _("New opportunity…"), css="cc-new-opportunity")}</p>'
                if self.context.can_edit else "")
        rows = []
        for o in rows_of(frame):
            status = _(o.status) + (f" ({o.lost_reason})" if o.status == "lost" and o.lost_reason else "")
            cells = [esc(o.title), esc(o.stage or ""), esc(formatting.money(o.amount, o.currency)),
                     esc(formatting.percent(o.probability, None)),
                     esc(formatting.money(o.weighted, o.currency)),
                     esc(formatting.date(o.expected_close)), esc(o.owner_name),
                     f'<span class="cc-badge cc-opp-{o.status}">{esc(status)}</span>']
            if self.context.can_edit:
                seen = int(o.version)
                buttons = action_button("edit-opportunity", _("Edit"), int(o.id), css="cc-edit-opportunity",
                                        version=seen, about=o.title)
                if o.status == "pipeline":
                    buttons += " " + action_button("won", pgettext("mark as", "Won"), int(o.id),
                                                   css="cc-opp-won-button", version=seen, about=o.title)
                    buttons += " " + action_button("lost", _("Lost…"), int(o.id), css="cc-opp-lost-button",
                                                   version=seen, about=o.title)
                    buttons += " " + action_button("opportunity-follow-up", _("Follow-up…"), int(o.id),
                                                   css="cc-opp-follow-up", about=o.title)
                cells.append(buttons)
            rows.append(cells)
        headers = [(_("Opportunity"), False), (_("Stage"), False), (_("Amount"), True), (_("Probability"), True),
                   (_("Weighted"), True), (_("Expected close"), False), (_("Owner"), False), (_("Status"), False)]
        if self.context.can_edit:
            headers.append(("", False))
        listing = table(headers, rows, css_id="cc-opportunities-table") if rows else \
            f'<p class="cc-empty">{esc(_("No opportunities."))}</p>'
        converted = sorted({str(c) for c in frame["currency"].dropna()} - {base})
        if converted:  # the sums are in the base currency: say so beside amounts in another
            note = _("Sums in {base}; {others} converted at the exchange rates in the settings.")
            summary.append(f'<span class="cc-meta" id="cc-opp-converted">'
                           f'{esc(note.format(base=base, others=", ".join(converted)))}</span>')
        see_also = (f'<p class="cc-meta cc-see-also">{esc(_("See also:"))} '
                    f'{link("/pipeline", _("managing the pipeline"), css="cc-pipeline-link")}</p>')
        return f'{head}<p class="cc-opp-summary">{" ".join(summary)}</p>{listing}{see_also}'

    def _own(self, data: dict[str, Any]) -> Opportunity | None:
        """The opportunity a button names, if it is this customer's, at the version the button was drawn with."""
        try:
            opportunity = self.context.store.get_opportunity(int(data.get("id")))
        except (TypeError, ValueError, NotFound):
            return None
        return seen_version(opportunity, data) if opportunity.customer_id == self.context.customer.id else None

    def do_won(self, data: dict[str, Any]) -> None:
        opportunity = self._own(data)
        if opportunity is not None:
            opportunity.param.update(status="won", probability=100.0)
            self._run(lambda: self.context.store.save_opportunity(opportunity, user=self.context.login),
                      _("“{title}” won.").format(title=isolated(opportunity.title)))

    def do_lost(self, data: dict[str, Any]) -> None:
        opportunity = self._own(data)
        if opportunity is None or not self.context.can_edit:
            return
        store, login = self.context.store, self.context.login

        def lost(draft: Record) -> None:
            draft.param.update(status="lost", probability=0.0)
        self._edit_record(opportunity, ["lost_reason"], columns=1, prepare=lost, css="cc-lost-form",
                          title=_("Why was “{title}” lost?").format(title=isolated(opportunity.title)),
                          done=_("“{title}” lost.").format(title=isolated(opportunity.title)),
                          save=lambda o: store.save_opportunity(o, user=login),
                          reload=lambda: store.get_opportunity(opportunity.id))

    def do_opportunity_follow_up(self, data: dict[str, Any]) -> None:
        """Add a follow-up about this opportunity (it shows under Follow-ups, naming the opportunity)."""
        opportunity = self._own(data)
        if opportunity is None or not self.context.can_edit:
            return
        store, login = self.context.store, self.context.login
        follow_up = store.new_follow_up(opportunity.customer_id, owner=login, opportunity_id=opportunity.id)
        self._edit_record(follow_up, ["what", "due_on", "owner"], css="cc-follow-up-form",
                          title=_("Follow-up on “{title}”").format(title=isolated(opportunity.title)),
                          done=_("Follow-up saved."), save=lambda f: store.add_follow_up(f, user=login),
                          overrides={"owner": owner_choice(store, login)})

    def do_edit_opportunity(self, data: dict[str, Any]) -> None:
        opportunity = self._own(data)
        if opportunity is not None and self.context.can_edit:
            self._edit(opportunity, _("Edit opportunity"))

    def do_new_opportunity(self, _data: dict[str, Any] | None = None) -> None:
        if not self.context.can_edit:
            return
        opportunity = self.context.store.new_opportunity(self.context.customer.id, owner=self.context.login)
        self._edit(opportunity, _("New opportunity"))

    def _edit(self, opportunity: Opportunity, title: str) -> None:
        store, login = self.context.store, self.context.login
        currencies = store.choices().allowed("currencies")
        overrides = {"owner": owner_choice(store, opportunity.owner, "cc-opportunity-owner"),
                     "currency": pn.widgets.Select(label=_("Currency"), value=opportunity.currency,
                                                   options=list(dict.fromkeys([*currencies, opportunity.currency])),
                                                   sizing_mode="stretch_width")}
        created = opportunity.id is None
        # won or lost by mistake (one click each): put back into the pipeline from its form, or its reason changed
        fields = OPPORTUNITY_FIELDS if opportunity.id is None else [*OPPORTUNITY_FIELDS, "status", "lost_reason"]
        self._edit_record(opportunity, fields, title=title, css="cc-opportunity-form",
                          done=_("Opportunity saved."), overrides=overrides,
                          save=lambda o: (store.create_opportunity if created else store.save_opportunity)(
                              o, user=login),
                          reload=None if created else (lambda: store.get_opportunity(opportunity.id)))
