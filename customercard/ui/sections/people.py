"""Sections 7 and 8 — contact persons (active, or all) and projects (links only with projects access)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from ... import formatting
from ...errors import CustomerCardError, ValidationError
from ...i18n import N_, _
from ...models import Contact
from ..accessibility import focus_first, live
from ..form import FieldForm
from ..html import esc, link, mailto, rows_of, table, tel
from .base import Section, action_button

CONTACT_FORM_FIELDS = ["first_name", "last_name", "title", "email", "phone", "mobile"]


class ContactsSection(Section):
    key = "contacts"
    listens_to = frozenset({"contact"})
    title = N_("Contact persons")
    actions = ("show-inactive", "add-contact")
    forms = True

    show_inactive = param.Boolean(default=False, doc="Also list inactive contact persons.")

    def markup(self) -> str:
        frame = self.context.store.contacts(self.context.customer.id, include_inactive=self.show_inactive)
        rows = []
        for c in rows_of(frame):
            name = " ".join(p for p in (c.first_name, c.last_name) if p)
            label = name + ("" if c.active else f" ({_('inactive')})")
            rows.append([link(f"/contact?contact={int(c.id)}", label, css="" if c.active else "cc-inactive"),
                         esc(c.title), mailto(c.email), tel(c.phone), tel(c.mobile)])
        headers = [(_("Name"), False), (_("Title"), False), (_("E-mail"), False), (_("Phone"), False),
                   (_("Mobile"), False)]
        checked = " checked" if self.show_inactive else ""
        tools = (f'<label class="cc-show-inactive"><input type="checkbox" data-action="show-inactive"{checked}> '
                 f'{esc(_("Show inactive"))}</label>')
        if self.context.can_edit:
            tools += " &nbsp; " + action_button("add-contact", _("Add contact person"), css="cc-add-contact")
        listing = table(headers, rows, css_id="cc-contacts-table") if rows else \
            f'<p class="cc-empty">{esc(_("No contact persons."))}</p>'
        return f'<div class="cc-contacts"><p>{tools}</p>{listing}</div>'

    def do_show_inactive(self, data: dict[str, Any]) -> None:
        self.show_inactive = bool(data.get("value"))

    @param.depends("show_inactive", watch=True)
    def _inactive_changed(self) -> None:
        self.refresh()

    def do_add_contact(self, _data: dict[str, Any] | None = None) -> None:
        if not self.context.can_edit:
            return
        contact = Contact(customer_id=self.context.customer.id)
        form = self._contact_form = FieldForm(record=contact, fields=CONTACT_FORM_FIELDS, columns=3)
        # (-save and -cancel: the form's own buttons, which Enter in a field and Escape press)
        save = pn.widgets.Button(label=_("Add"), color="primary", css_classes=["cc-save-contact", "cc-contact-save"])
        cancel = pn.widgets.Button(label=_("Cancel"), css_classes=["cc-contact-cancel"])
        message = pn.pane.HTML("", margin=(0, 10))

        def do_save(_event: Any) -> None:
            with self.context.saving():  # (what is heard meanwhile is shown after: see while_saving)
                save_contact()

        def save_contact() -> None:
            errors = contact.update_from(form.values())
            if not errors:
                try:
                    self.context.store.create_contact(contact, user=self.context.login)
                except ValidationError as exc:
                    errors = exc.errors
                except CustomerCardError as exc:
                    message.object = f'<span style="color:#b42318"{live(False)}>{esc(str(exc))}</span>'
                    return
            if errors:
                form.show_errors(errors)
                return
            self._note = (_("Contact person added."), True)
            self.render()

        save.on_click(do_save)
        cancel.on_click(lambda _e: self.render())
        self.view.param.update(child=pn.Column(pn.pane.HTML(f"<b>{esc(_('New contact person'))}</b>", margin=(0, 10)),
                                               form, pn.Row(save, cancel), message, sizing_mode="stretch_width",
                                               css_classes=focus_first(["cc-contact-adder"])), child_first=False)
        self.keep_beside_form(self.markup)  # the list beside it shows colleagues' changes as they come


class ProjectsSection(Section):
    key = "projects"
    listens_to = frozenset({"project"})
    title = N_("Projects")
    collapsed_by_default = True

    def markup(self) -> str:
        frame = self.context.store.projects(self.context.customer.id)
        access = self.context.projects_access
        rows = []
        for p in rows_of(frame):
            name = link(f"/project?project={int(p.id)}", p.name) if access else esc(p.name)
            rows.append([esc(p.number), name, esc(_(p.status)), esc(p.manager_name),
                         esc(formatting.date(p.start_date)), esc(formatting.date(p.end_date))])
        if not rows:
            return f'<p class="cc-empty">{esc(_("No projects."))}</p>'
        headers = [(_("Number"), False), (_("Project"), False), (_("Status"), False), (_("Manager"), False),
                   (_("Start"), False), (_("End"), False)]
        return table(headers, rows, css_id="cc-projects-table")
