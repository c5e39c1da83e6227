"""Sections 7 and 8 — contact persons (active, or all) and projects (links only with projects access)."""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from ... import formatting
from ...errors import CustomerCardError, ValidationError
from ...i18n import _
from ...models import Contact
from ..form import FieldForm
from ..html import esc, link, mailto, table, tel
from .base import Section, html_pane

CONTACT_FORM_FIELDS = ["first_name", "last_name", "title", "email", "phone", "mobile"]


class ContactsSection(Section):
    key = "contacts"
    title = _("Contact persons")

    show_inactive = param.Boolean(default=False, doc="Also list inactive contact persons.")

    def body(self):
        self._html = html_pane("", css_classes=["cc-contacts"])
        self._inactive = pn.widgets.Checkbox.from_param(self.param.show_inactive, label=_("Show inactive"),
                                                        css_classes=["cc-show-inactive"])
        self._adder = pn.Column(sizing_mode="stretch_width", margin=0)
        row: list[Any] = [self._inactive]
        if self.context.can_edit:
            add = pn.widgets.Button(label=_("Add contact person"), color="light", css_classes=["cc-add-contact"])
            add.on_click(lambda _e: self._open_adder())
            row.append(add)
        self.refresh()
        return pn.Column(pn.Row(*row, margin=0), self._html, self._adder, sizing_mode="stretch_width", margin=0)

    @param.depends("show_inactive", watch=True)
    def refresh(self) -> None:
        frame = self.context.store.contacts(self.context.customer.id, include_inactive=self.show_inactive)
        rows = []
        for c in frame.itertuples(index=False):
            name = " ".join(p for p in (c.first_name, c.last_name) if p)
            label = name + ("" if c.active else f" ({_('inactive')})")
            rows.append([link(f"/contact?contact={int(c.id)}", label, css="" if c.active else "cc-inactive"),
                         esc(c.title), mailto(c.email), tel(c.phone), tel(c.mobile)])
        headers = [(_("Name"), False), (_("Title"), False), (_("E-mail"), False), (_("Phone"), False),
                   (_("Mobile"), False)]
        self._html.object = table(headers, rows, css_id="cc-contacts-table") if rows else \
            f'<p class="cc-empty">{esc(_("No contact persons."))}</p>'

    def _open_adder(self) -> None:
        contact = Contact(customer_id=self.context.customer.id)
        form = FieldForm(record=contact, fields=CONTACT_FORM_FIELDS, columns=3)
        save = pn.widgets.Button(label=_("Add"), color="primary", css_classes=["cc-save-contact"])
        cancel = pn.widgets.Button(label=_("Cancel"))
        message = pn.pane.HTML("", margin=(0, 10))

        def do_save(_event: Any) -> None:
            errors = contact.update_from(form.values())
            if not errors:
                try:
                    self.context.store.create_contact(contact, user=self.context.login)
                except ValidationError as exc:
                    errors = exc.errors
                except CustomerCardError as exc:
                    message.object = f'<span style="color:#b42318">{esc(str(exc))}</span>'
                    return
            if errors:
                form.show_errors(errors)
                return
            self._adder.objects = []
            self.refresh()

        save.on_click(do_save)
        cancel.on_click(lambda _e: setattr(self._adder, "objects", []))
        self._adder.objects = [form, pn.Row(save, cancel), message]


class ProjectsSection(Section):
    key = "projects"
    title = _("Projects")
    collapsed_by_default = True

    def markup(self) -> str:
        frame = self.context.store.projects(self.context.customer.id)
        locale = self.context.locale
        access = self.context.projects_access
        rows = []
        for p in frame.itertuples(index=False):
            name = link(f"/project?project={int(p.id)}", p.name) if access else esc(p.name)
            rows.append([esc(p.number), name, esc(_(p.status)), esc(p.manager_name),
                         esc(formatting.date(p.start_date, locale)), esc(formatting.date(p.end_date, locale))])
        if not rows:
            return f'<p class="cc-empty">{esc(_("No projects."))}</p>'
        headers = [(_("Number"), False), (_("Project"), False), (_("Status"), False), (_("Manager"), False),
                   (_("Start"), False), (_("End"), False)]
        return table(headers, rows, css_id="cc-projects-table")

    def body(self):
        self._html = html_pane(self.markup(), css_classes=["cc-projects"])
        return self._html

    def refresh(self) -> None:
        self._html.object = self.markup()
