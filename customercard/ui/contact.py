"""``ContactCard`` — the card of one contact person: their details, active flag and customer, edited in place (the
same conflict safety as the customer's card); the relations customers made to them (named from both sides); the
events they take part in; their timeline (comments and e-mails that name them, events, changes); the history of
their fields with restore; the vCard; and for administrators "Export personal data" (a .zip of JSON and vCard) and
"Anonymise…" (GDPR).

The parts are folded and unfolded like the customer card's sections (remembered per user) and drawn as light
HTML in one :class:`~customercard.ui.components.CardView`.
"""

from __future__ import annotations

import io
import json
from typing import Any

import panel as pn
import param

from .. import formatting
from ..errors import ConflictError, CustomerCardError, NotFound
from ..i18n import N_, _
from ..identity import acting_user
from ..models import Contact, FollowUp
from ..privacy import personal_data_zip
from ..store import STORE_TYPES, Change
from ..vcard import contact_vcard, vcard_filename
from .accessibility import BUTTON_CSS, focus_first, focus_here, live
from .components import CardView, SectionSlot
from .editor import RecordEditor, refusal
from .form import FieldForm
from .html import SECTION_CSS, esc, fields, isolated, link, mailto, table, tel
from .live import Follower
from .sections.base import action_button, note_html, remember_fold
from .sections.crm import conflict_text, owner_choice, relation_target, seen_version
from .sections.follow_ups import FOLLOW_UP_ACTIONS, follow_up_rows
from .timeline import TIMELINE_ACTIONS, EntryText, TimelineView
from .widgets import wrapping

EDIT_FIELDS = ["first_name", "last_name", "title", "email", "phone", "mobile", "active", "notes"]
#: The parts of the card: key → title. Their folded state is remembered per user under ``contact.collapsed.``.
PARTS = {"details": N_("Contact person"), "follow_ups": N_("Follow-ups"), "relations": N_("Relations"),
         "events": N_("Events"),
         "activity": N_("Activity"), "history": N_("Changes")}
FOLDED = frozenset({"activity"})
PREF_PREFIX = "contact.collapsed."
HISTORY_SHOWN = 50
#: Timeline kinds on a person's card.
CONTACT_KINDS = {"comment": N_("Comments"), "email": N_("E-mails"), "event": N_("Events"),
                 "contact": N_("Contact persons"), "relation": N_("Relations"), "change": N_("Field changes"),
                 "follow-up": N_("Follow-ups")}


class ContactCard(pn.viewable.Viewer):
    """One contact person; managers and admins can edit it (validated, versioned, recorded in history)."""

    store = param.ClassSelector(class_=STORE_TYPES, doc="Where the contact person comes from.")
    contact_id = param.Integer(default=None, allow_None=True, doc="The contact person shown.")
    user = param.String(default=None, allow_None=True, doc="Who looks and acts.")
    contact = param.ClassSelector(class_=Contact, doc="The contact person, as a param object.")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        if self.contact_id is None:
            raise NotFound("No contact person given.")
        self.contact = self.store.get_contact(self.contact_id)
        self.user = self.user or acting_user(self.store)
        self.zone = self.store.settings().time_zone
        stored = self.store.prefs(self.user, PREF_PREFIX)
        folded = {key[len(PREF_PREFIX):]: bool(value) for key, value in stored.items()}
        crm = self.store.settings().crm_enabled  # without the CRM module: no relations, no events
        self.slots = {key: SectionSlot(key=key, title=_(title), collapsed=folded.get(key, key in FOLDED))
                      for key, title in PARTS.items() if crm or key not in ("relations", "events")}
        for slot in self.slots.values():
            slot.on_action(self.handle)
            slot.param.watch(self._folded, "collapsed")
        self._view = CardView(slots=list(self.slots.values()), sizing_mode="stretch_width",
                              css_classes=["cc-card", "cc-contact"], stylesheets=[SECTION_CSS])
        self._note = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-note"])
        self._body = pn.Column(sizing_mode="stretch_width")
        self._form: FieldForm | None = None
        self.editor: RecordEditor | None = None
        #: Changes heard while a form was open, caught up with when it closes.
        self._heard: list[Change] = []
        self._timeline: TimelineView | None = None
        self._messages: dict[str, tuple[str, bool]] = {}
        self._show()
        self._follower = Follower(self.store, self._concerns_me, self._show_changes)

    # -- live -----------------------------------------------------------------------------------------------
    def _concerns_me(self, change: Change) -> bool:
        return ((change.kind == "contact" and change.id == self.contact.id) or change.kind == "relation"
                or (change.kind == "customer" and change.customer_id == self.contact.customer_id)
                or (change.kind in ("comment", "event", "follow-up")
                    and change.customer_id == self.contact.customer_id))

    def _show_changes(self, changes: list[Change]) -> None:
        """Others' saves of this person: shown in read mode, marked in an open form (what was typed stays)."""
        if self.editor is not None:
            self.editor.heard(changes)
            self._heard.extend(changes)  # the details shown when the form closes (Cancel: not left stale)
            if self._timeline is not None:
                self._timeline.load()
            # the other parts (its changes, the activity, follow-ups …) now, as the customer card's sections beside
            # an open form: the form in the details stays as typed
            self._draw(*(key for key in self.slots if key != "details"))
            return
        self._catch_up(changes)
        self._draw()

    def _catch_up(self, changes: list[Change]) -> None:
        """The person read again when someone saved them since, and the timeline loaded again."""
        if any(c.kind == "contact" and (c.version or 0) > self.contact.version for c in changes):
            self.contact = self.store.get_contact(self.contact.id)
        if self._timeline is not None:
            self._timeline.load()

    @property
    def can_edit(self) -> bool:
        return self.store.can(self.user, "write")

    @property
    def is_admin(self) -> bool:
        return self.store.can(self.user, "admin")

    # -- the parts --------------------------------------------------------------------------------------------
    def details_html(self) -> str:
        c, store = self.contact, self.store
        customer = store.get_customer(c.customer_id)
        state = _("Active") if c.active else _("Inactive")
        pairs = [(_("Customer"), link(f"/card?customer={customer.id}", f"{customer.name} ({customer.number})")),
                 (_("Title"), esc(c.title)), (_("E-mail"), mailto(c.email)), (_("Phone"), tel(c.phone)),
                 (_("Mobile"), tel(c.mobile)), (_("Status"), f'<span id="cc-contact-active">{esc(state)}</span>'),
                 (_("Notes"), f'<span class="cc-body">{esc(c.notes)}</span>')]
        updated = _("Last updated by {who} on {when}").format(who=store.user_name(c.updated_by),
                                                              when=formatting.datetime(c.updated_at, self.zone))
        return (f'<h1 class="cc-title" id="cc-contact-name">{esc(c.full_name)}</h1>{fields(pairs)}'
                f'<p class="cc-meta" id="cc-contact-updated">{esc(updated)}</p>')

    def follow_ups_html(self) -> str:
        """The follow-ups about this person (open ones first, overdue marked); writers add, edit and mark them."""
        frame = self.store.follow_ups(contact_id=self.contact.id)
        head = (f'<p>{action_button("new-follow-up", _("Add follow-up…"), css="cc-new-follow-up")}</p>'
                if self.can_edit else "")
        if frame.empty:
            return head + f'<p class="cc-empty">{esc(_("No follow-ups."))}</p>'
        headers, rows = follow_up_rows(frame, self.can_edit, contact_column=False,
                                       crm=self.store.settings().crm_enabled)
        return head + table(headers, rows, css_id="cc-contact-follow-ups", caption=_("Follow-ups"))

    def edit_follow_up(self, follow_up: FollowUp | None = None) -> RecordEditor | None:
        """Add a follow-up about this person (or edit one) in the Follow-ups part."""
        if not self.can_edit:
            return None
        store, slot = self.store, self.slots["follow_ups"]
        created = follow_up is None
        if follow_up is None:
            follow_up = store.new_follow_up(self.contact.customer_id, owner=self.user, contact_id=self.contact.id)

        def finished(_saved: FollowUp) -> None:
            self._messages["follow_ups"] = (_("Follow-up saved."), True)
            slot.param.update(child=None, child_first=False)
            self._draw("follow_ups")

        def cancelled() -> None:
            slot.param.update(child=None, child_first=False)
            self._draw("follow_ups")
        editor = RecordEditor(follow_up, ["what", "due_on", "owner"], title=_("Add follow-up") if created else
                              _("Edit follow-up"), css="cc-follow-up-form", user_name=store.user_name, zone=self.zone,
                              save=lambda f: (store.add_follow_up if created else store.save_follow_up)(
                                  f, user=self.user),
                              reload=None if created else (lambda: store.get_follow_up(follow_up.id)),
                              done=finished, cancelled=cancelled, focus=True, choices=store.choices,
                              overrides={"owner": owner_choice(store, follow_up.owner)})
        slot.param.update(child=editor.__panel__(), child_first=True, collapsed=False)
        return editor

    def _follow_up_action(self, action: str, data: dict[str, Any]) -> None:
        if action == "new-follow-up":
            self.edit_follow_up()
            return
        try:
            follow_up = self.store.get_follow_up(int(data.get("id")))
        except (TypeError, ValueError, NotFound):
            return
        if follow_up.contact_id != self.contact.id or not self.can_edit:
            return
        seen_version(follow_up, data)
        if action == "edit-follow-up":
            self.edit_follow_up(follow_up)
            return
        done = action == "follow-up-done"
        try:
            self.store.set_follow_up_done(follow_up.id, done, user=self.user, version=follow_up.version)
            note = (_("“{what}” marked done.") if done else _("“{what}” is open again.")).format(
                what=isolated(follow_up.what))
            self._messages["follow_ups"] = (note, True)
        except ConflictError as exc:
            self._messages["follow_ups"] = (conflict_text(exc, self.store.user_name), False)
        except CustomerCardError as exc:
            self._messages["follow_ups"] = (refusal(exc, follow_up.label), False)
        self._draw("follow_ups")

    def relations_html(self) -> str:
        """Relations customers made to this person, named from both sides: as seen from the person, and as the
        customer that made it says it."""
        frame = self.store.contact_relations(self.contact.id)
        if frame.empty:
            return f'<p class="cc-empty">{esc(_("No relations."))}</p>'
        rows = [[esc(r.label), relation_target(r), esc(r.relation_type), esc(r.note)]
                for r in frame.itertuples(index=False)]
        return table([(_("Relation"), False), (_("To"), False), (_("As the customer says it"), False),
                      (_("Note"), False)], rows, css_id="cc-contact-relations")

    def events_html(self) -> str:
        """The events of their customer that the person takes part in, newest first."""
        frame = self.store.events(self.contact.customer_id)
        mine = [e for e in frame.itertuples(index=False) if self.contact.id in json.loads(e.contact_ids or "[]")]
        if not mine:
            return f'<p class="cc-empty">{esc(_("No events with this person."))}</p>'
        rows = [[esc(formatting.datetime(e.starts_at, self.zone)), esc(e.title), esc(e.event_type or ""),
                 esc(e.owner_name), f'<span class="cc-badge">{esc(_(e.status))}</span>'] for e in mine]
        return table([(_("When"), False), (_("Event"), False), (_("Type"), False), (_("Owner"), False),
                      (_("Status"), False)], rows, css_id="cc-contact-events")

    @property
    def timeline(self) -> TimelineView:
        if self._timeline is None:
            store, contact = self.store, self.contact
            users = store.users(include_inactive=True)
            kinds = {k: v for k, v in CONTACT_KINDS.items() if "events" in self.slots or k not in ("event", "relation")}
            self._timeline = TimelineView(lambda **options: store.contact_timeline(contact.id, **options),
                                          EntryText(store, self.zone, contact.customer_id, contact.id),
                                          kinds=kinds,
                                          people=dict(zip(users["login"], users["name"], strict=True)))
        return self._timeline

    def activity_html(self) -> str:
        return f'<div class="cc-activity cc-contact-activity">{self.timeline.html()}</div>'

    def history_html(self) -> str:
        """The changes of the person's fields, newest first; writers can bring back a value a change replaced."""
        store, c = self.store, self.contact
        changes = store.record_history("contacts", c.id).head(HISTORY_SHOWN)
        writer = self.can_edit
        rows = []
        for r in changes.itertuples(index=False):
            cells = [esc(formatting.datetime(r.changed_at, self.zone)), esc(store.user_name(r.changed_by)),
                     esc(_field_label(r.field) + ("" if r.kind == "update" else f" ({_(r.kind)})")),
                     esc(_shown(r.old_value)), esc(_shown(r.new_value))]
            if writer:
                restorable = r.kind not in ("create", "anonymise") and r.field in Contact.fields
                cells.append(action_button("restore", _("Restore"), item_id=int(r.change_id), css="cc-restore",
                                           version=c.version) if restorable else "")
            rows.append(cells)
        if not rows:
            return f'<p class="cc-empty">{esc(_("No changes recorded."))}</p>'
        headers = [(_("When"), False), (_("Who"), False), (_("Field"), False), (_("Old value"), False),
                   (_("New value"), False)] + ([("", False)] if writer else [])
        return table(headers, rows, css_id="cc-contact-history")

    def markup(self) -> str:
        """Every part of the card as HTML, one after the other (what the card shows, for a notebook or a test)."""
        parts = [self.details_html()]
        if "relations" in self.slots:
            parts.append(f"<h4>{esc(_('Relations'))}</h4>{self.relations_html()}")
        if "events" in self.slots:
            parts.append(f"<h4>{esc(_('Events'))}</h4>{self.events_html()}")
        parts.append(f"<h4>{esc(_('Changes'))}</h4>{self.history_html()}")
        return "".join(parts)

    def _part_html(self, key: str) -> str:
        """One part's HTML, and its message; a part that fails to draw says so in its own place."""
        draw = {"details": self.details_html, "follow_ups": self.follow_ups_html, "relations": self.relations_html,
                "events": self.events_html,
                "activity": self.activity_html, "history": self.history_html}[key]
        try:
            html = draw()
        except Exception:  # one part failing never blanks the card
            import logging

            logging.getLogger(__name__).exception("The part %r of contact %s could not be drawn", key,
                                                  self.contact.id)
            html = note_html(_("This part could not be shown. Try again later; if it keeps happening, tell your "
                               "administrator (the server's log has the details)."), ok=False)
        return html + note_html(*self._messages.get(key, ("", True)))

    def _draw(self, *keys: str) -> None:
        """Draw the parts again (all, or ``keys``); folded parts wait until they are opened."""
        for key, slot in self.slots.items():
            if keys and key not in keys:
                continue
            if key == "details" and self.editor is not None:
                continue
            slot.html = "" if slot.collapsed else self._part_html(key)

    def _folded(self, event: param.parameterized.Event) -> None:
        slot = event.obj
        if not event.new:
            self._draw(slot.key)
        remember_fold(self.store, self.user, PREF_PREFIX + slot.key, bool(event.new))

    def handle(self, action: str, data: dict[str, Any]) -> None:
        """An action sent from a part's HTML: the timeline's filters and Load more, a restore."""
        if action in TIMELINE_ACTIONS:
            if self.timeline.handle(action, data):
                self._draw("activity")
        elif action in FOLLOW_UP_ACTIONS:
            self._follow_up_action(action, data)
        elif action == "restore":
            try:
                self.restore(int(data.get("id")), int(data["version"]) if data.get("version") else None)
            except (TypeError, ValueError):
                return

    def restore(self, change_id: int, version: int | None = None) -> bool:
        """Bring back the value a change replaced, as a new recorded change (managers and administrators), made on
        ``version`` (what the page showed; saved since, nothing is written and the card shows the stored person)."""
        try:
            self.contact = self.store.restore_contact(self.contact.id, change_id, user=self.user,
                                                      expected_version=version)
        except ConflictError:
            self.contact = self.store.get_contact(self.contact.id)
            self._messages["history"] = (_("Someone saved this person meanwhile; the card now shows their values. "
                                           "Restore again if you still want to."), False)
            self._draw()
            return False
        except CustomerCardError as exc:
            self._messages["history"] = (refusal(exc, self.contact.label), False)
            self._draw("history")
            return False
        self._messages["history"] = (_("Restored; the history records it as a new change."), True)
        self._draw()
        return True

    # -- vCard and privacy ----------------------------------------------------------------------------------
    def vcard_bytes(self) -> io.BytesIO:
        """The contact person's vCard as a file-like object of UTF-8 bytes (made when downloaded)."""
        return io.BytesIO(contact_vcard(self.store, self.contact.id).encode("utf-8"))

    def _download(self) -> pn.widgets.FileDownload:
        return pn.widgets.FileDownload(callback=self.vcard_bytes, filename=vcard_filename(self.contact),
                                       label=_("Download vCard"), css_classes=["cc-vcard"], width=150)

    def personal_data_bytes(self) -> io.BytesIO:
        """Everything held about the contact person, as a .zip of JSON and vCard (the store checks the user is an
        administrator; made when downloaded)."""
        return io.BytesIO(personal_data_zip(self.store, self.contact.id, user=self.user))

    def _privacy_buttons(self) -> list[Any]:
        export = pn.widgets.FileDownload(callback=self.personal_data_bytes, label=_("Export personal data"),
                                         filename=f"personal-data-contact-{self.contact.id}.zip", width=190,
                                         css_classes=["cc-privacy-export"])
        anonymise = pn.widgets.Button(label=_("Anonymise…"), color="light", width=120, css_classes=["cc-anonymise"])
        anonymise.on_click(lambda _e: self.ask_anonymise())
        return [export, anonymise]

    def _confirmation(self) -> pn.Column:
        """The question before anonymising (it cannot be undone), hidden until asked."""
        text = _("Replace this person’s name, e-mail, phones, title and notes everywhere they are kept — history, "
                 "search, comments that name them — and make them inactive? This cannot be undone.")
        question = pn.pane.HTML(f'<p class="cc-anonymise-question">{esc(text)}</p>', sizing_mode="stretch_width")
        confirm = pn.widgets.Button(label=_("Anonymise"), color="danger", css_classes=["cc-anonymise-confirm"],
                                    stylesheets=[BUTTON_CSS])
        cancel = pn.widgets.Button(label=_("Cancel"), css_classes=["cc-anonymise-cancel"])
        confirm.on_click(lambda _e: self.anonymise())
        cancel.on_click(lambda _e: setattr(self._confirm, "visible", False))
        return pn.Column(question, wrapping(confirm, cancel, align_items="center"), visible=False,
                         sizing_mode="stretch_width")

    def _show(self, focus_edit: bool = False) -> None:
        """The card in read mode: its buttons, the parts, the message; ``focus_edit``: Edit takes the focus once
        drawn (the form it opened was left: Cancel or Escape give the focus back to it, as on the customer card)."""
        self.editor = self._form = None
        heard, self._heard = self._heard, []
        if heard:
            self._catch_up(heard)
        self.slots["details"].param.update(child=None, child_first=False)
        self._draw()
        buttons: list[Any] = [self._download()]
        if self.can_edit:
            edit = pn.widgets.Button(label=_("Edit"), color="light", width=80,
                                     css_classes=focus_first(["cc-edit"]) if focus_edit else ["cc-edit"])
            edit.on_click(lambda _e: self.start_edit())
            buttons.insert(0, edit)
        self._confirm = self._confirmation()
        admin = [self._confirm] if self.is_admin else []
        if admin:
            buttons += self._privacy_buttons()
        self._body.objects = [wrapping(*buttons, align_items="center"), *admin, self._view, self._note]

    @property
    def anonymise_asked(self) -> bool:
        """Whether the question before anonymising shows (after :meth:`ask_anonymise`, until it is answered)."""
        return self._confirm.visible

    def ask_anonymise(self) -> None:
        """Show the question before anonymising (administrators; the store checks again)."""
        self._confirm.visible = self.is_admin

    def anonymise(self) -> bool:
        try:
            self.contact = self.store.anonymise_contact(self.contact.id, user=self.user)
        except CustomerCardError as exc:
            self._say(str(exc), ok=False)
            self._show()
            return False
        self._say(_("Anonymised: their values are replaced everywhere they were kept."), ok=True)
        self._timeline = None
        self._show()
        return True

    def start_edit(self) -> RecordEditor:
        """Edit the person in place, in their details: messages next to fields, a stale save shown as a conflict to
        resolve (never an overwrite)."""
        store = self.store

        def finished(saved: Contact) -> None:
            self.contact = saved
            self._show()
            # the form and its Save button are gone: the message takes the focus, once the read view is drawn
            self._say(_("Saved."), ok=True, focus=True)

        def cancelled() -> None:
            self._show(focus_edit=True)
        self._say("", ok=True)
        self.editor = RecordEditor(self.contact, EDIT_FIELDS, save=lambda c: store.save_contact(c, user=self.user),
                                   reload=lambda: store.get_contact(self.contact.id), done=finished,
                                   cancelled=cancelled, css="cc-contact-form", user_name=store.user_name,
                                   zone=self.zone, focus=True, choices=store.choices)
        self._form = self.editor.form
        details = self.slots["details"]
        # the page's heading (the person's name) stays above the form
        heading = f'<h1 class="cc-title" id="cc-contact-name">{esc(self.contact.full_name)}</h1>'
        details.param.update(collapsed=False, html=heading, child=self.editor.__panel__(), child_first=False)
        return self.editor

    def save(self) -> bool:
        """Save the open edit (see :meth:`start_edit`)."""
        return self.editor is not None and self.editor.save()

    def _say(self, text: str, ok: bool, focus: bool = False) -> None:
        """The card's message, said once; with ``focus`` it takes the focus (the control used went away)."""
        color = "#1d7a3c" if ok else "#b42318"
        attrs = live(ok) + (focus_here() if focus else "")
        self._note.object = f'<span class="cc-message-text" style="color:{color}"{attrs}>{esc(text)}</span>'

    def __panel__(self) -> pn.viewable.Viewable:
        return self._body


def _field_label(field: str) -> str:
    """A contact field as the form names it ('first_name' → 'First name')."""
    return _(Contact.param[field].label) if field in Contact.param else field


def _shown(value: object) -> object:
    """A recorded value as people read it: Yes/No for switches."""
    return {"true": _("Yes"), "false": _("No")}.get(value, value) if isinstance(value, str) else value
