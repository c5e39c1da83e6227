"""``ContactCard`` — the small card of one contact person: details, its customer, active flag, editable; for
administrators also "Export personal data" (a .zip of JSON and vCard) and "Anonymise…" (GDPR)."""

from __future__ import annotations

import io
from typing import Any

import panel as pn
import param

from .. import formatting
from ..errors import CustomerCardError, NotFound
from ..i18n import _
from ..identity import acting_user
from ..models import Contact
from ..privacy import personal_data_zip
from ..store import STORE_TYPES, Change
from ..vcard import contact_vcard, vcard_filename
from .accessibility import BUTTON_CSS, live
from .editor import RecordEditor
from .form import FieldForm
from .html import SECTION_CSS, esc, fields, link, mailto, table, tel
from .live import Follower
from .sections.crm import relation_target

EDIT_FIELDS = ["first_name", "last_name", "title", "email", "phone", "mobile", "active", "notes"]


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
        self._html = pn.pane.HTML(stylesheets=[SECTION_CSS], sizing_mode="stretch_width", css_classes=["cc-contact"])
        self._note = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["cc-note"])
        self._body = pn.Column(sizing_mode="stretch_width")
        self._form: FieldForm | None = None
        self.editor: RecordEditor | None = None
        self._show()
        self._follower = Follower(self.store, self._concerns_me, self._show_changes)

    def _concerns_me(self, change: Change) -> bool:
        return ((change.kind == "contact" and change.id == self.contact.id) or change.kind == "relation"
                or (change.kind == "customer" and change.customer_id == self.contact.customer_id))

    def _show_changes(self, changes: list[Change]) -> None:
        """Others' saves of this person: shown in read mode, marked in an open form (what was typed stays)."""
        if self.editor is not None:
            self.editor.heard(changes)
            return
        if any(c.kind == "contact" and (c.version or 0) > self.contact.version for c in changes):
            self.contact = self.store.get_contact(self.contact.id)
        self._show()

    @property
    def can_edit(self) -> bool:
        return self.store.can(self.user, "write")

    @property
    def is_admin(self) -> bool:
        return self.store.can(self.user, "admin")

    def markup(self) -> str:
        c, store = self.contact, self.store
        customer = store.get_customer(c.customer_id)
        state = _("Active") if c.active else _("Inactive")
        pairs = [(_("Customer"), link(f"/card?customer={customer.id}", f"{customer.name} ({customer.number})")),
                 (_("Title"), esc(c.title)), (_("E-mail"), mailto(c.email)), (_("Phone"), tel(c.phone)),
                 (_("Mobile"), tel(c.mobile)), (_("Status"), f'<span id="cc-contact-active">{esc(state)}</span>'),
                 (_("Notes"), f'<span class="cc-body">{esc(c.notes)}</span>')]
        changes = store.record_history("contacts", c.id).head(20)
        zone = store.settings().time_zone
        rows = [[esc(formatting.datetime(r.changed_at, zone)), esc(store.user_name(r.changed_by)),
                 esc(_field_label(r.field) + ("" if r.kind == "update" else f" ({_(r.kind)})")),
                 esc(_shown(r.old_value)), esc(_shown(r.new_value))] for r in changes.itertuples(index=False)]
        history = table([(_("When"), False), (_("Who"), False), (_("Field"), False), (_("Old value"), False),
                         (_("New value"), False)], rows) if rows else \
            f'<p class="cc-empty">{esc(_("No changes recorded."))}</p>'
        relations = (f"<h2>{esc(_('Relations'))}</h2>{self.relations_html()}"
                     if store.settings().crm_enabled else "")
        return (f'<h1 class="cc-title" id="cc-contact-name">{esc(c.full_name)}</h1>{fields(pairs)}{relations}'
                f"<h2>{esc(_('Changes'))}</h2>{history}")

    def relations_html(self) -> str:
        """Relations customers made to this person, named as seen from the person."""
        frame = self.store.contact_relations(self.contact.id)
        if frame.empty:
            return f'<p class="cc-empty">{esc(_("No relations."))}</p>'
        rows = [[esc(r.label), relation_target(r), esc(r.note)] for r in frame.itertuples(index=False)]
        return table([(_("Relation"), False), (_("To"), False), (_("Note"), False)], rows,
                     css_id="cc-contact-relations")

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
        return pn.Column(question, pn.Row(confirm, cancel), visible=False, sizing_mode="stretch_width")

    def _show(self) -> None:
        self._html.object = self.markup()
        buttons: list[Any] = [self._download()]
        if self.can_edit:
            edit = pn.widgets.Button(label=_("Edit"), color="light", width=80, css_classes=["cc-edit"])
            edit.on_click(lambda _e: self.start_edit())
            buttons.insert(0, edit)
        self._confirm = self._confirmation()
        admin = [self._confirm] if self.is_admin else []
        if admin:
            buttons += self._privacy_buttons()
        self._body.objects = [pn.Row(*buttons), *admin, self._html, self._note]

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
        self._show()
        return True

    def start_edit(self) -> RecordEditor:
        """Edit the person in place: messages next to fields, a stale save shown as a conflict to resolve."""
        store = self.store

        def finished(saved: Contact) -> None:
            self.editor = None
            self.contact = saved
            self._say(_("Saved."), ok=True)
            self._show()

        def cancelled() -> None:
            self.editor = None
            self._show()
        self._say("", ok=True)
        self.editor = RecordEditor(self.contact, EDIT_FIELDS, save=lambda c: store.save_contact(c, user=self.user),
                                   reload=lambda: store.get_contact(self.contact.id), done=finished,
                                   cancelled=cancelled, css="cc-contact-form", user_name=store.user_name,
                                   zone=store.settings().time_zone, focus=True)
        self._form = self.editor.form
        self._body.objects = [self.editor, self._note]
        return self.editor

    def save(self) -> bool:
        """Save the open edit (see :meth:`start_edit`)."""
        return self.editor is not None and self.editor.save()

    def _say(self, text: str, ok: bool) -> None:
        color = "#1d7a3c" if ok else "#b42318"
        self._note.object = f'<span class="cc-message-text" style="color:{color}"{live(ok)}>{esc(text)}</span>'

    def __panel__(self) -> pn.viewable.Viewable:
        return self._body


def _field_label(field: str) -> str:
    """A contact field as the form names it ('first_name' → 'First name')."""
    return _(Contact.param[field].label) if field in Contact.param else field


def _shown(value: object) -> object:
    """A recorded value as people read it: Yes/No for switches."""
    return {"true": _("Yes"), "false": _("No")}.get(value, value) if isinstance(value, str) else value
