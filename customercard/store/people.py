"""Contact persons and projects of a customer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import NotFound, ValidationError
from ..i18n import _
from ..models import Contact, Project, from_text
from .backend import Backend, counted, frame_of
from .database import utcnow
from .part import Part
from .records import checked_edit, first_version, insert_record, record_from_row, stored_row, update_record

if TYPE_CHECKING:
    from .admin import AdminStore
    from .customers import CustomerStore
    from .search import SearchStore

CONTACT_COLUMNS = ("id", "customer_id", "first_name", "last_name", "title", "email", "phone", "mobile", "active",
                   "notes", "created_at", "created_by", "updated_at", "updated_by", "version")
SELECT_CONTACT = "SELECT " + ", ".join(CONTACT_COLUMNS) + " FROM contacts"  # constant columns
#: The kind of each column of :meth:`PeopleStore.contacts` (see :func:`~customercard.store.backend.frame_of`).
CONTACT_KINDS = dict(zip(CONTACT_COLUMNS, ("int", "int", "text", "text", "text", "text", "text", "text", "bool", "text",
                                           "datetime", "text", "datetime", "text", "int"), strict=True))
_ACTIVE, _FIRST, _LAST, _ID = (CONTACT_COLUMNS.index(c) for c in ("active", "first_name", "last_name", "id"))


def _contact_order(row: tuple) -> tuple:
    """Contact persons by last name, first name (lower case) and id."""
    return row[_LAST].lower(), row[_FIRST].lower(), row[_ID]
PROJECT_COLUMNS = ("id", "customer_id", "number", "name", "status", "manager", "start_date", "end_date",
                   "description")
SELECT_PROJECT = "SELECT " + ", ".join(PROJECT_COLUMNS) + " FROM projects"  # constant columns


class PeopleStore(Part):
    """Part of :class:`customercard.store.Store`: contacts and projects."""

    uses = ("admin", "customers", "search")
    admin: AdminStore
    customers: CustomerStore
    search: SearchStore

    db: Backend

    # -- contacts -----------------------------------------------------------------------------------------
    def contacts(self, customer_id: int, include_inactive: bool = False) -> pd.DataFrame:
        """The customer's contact persons (active only unless asked), by last name (then first name, case aside)."""
        # One condition on the indexed column, the rest here: a second condition (or an ORDER BY) makes DuckDB scan
        # a whole row group instead of looking the customer up in its index (2.9 ms against 0.8 ms).
        rows = [row for row in self.db.rows(SELECT_CONTACT + " WHERE customer_id = ?", [int(customer_id)])
                if include_inactive or row[_ACTIVE]]
        rows.sort(key=_contact_order)
        return frame_of(rows, CONTACT_KINDS)

    def get_contact(self, contact_id: int) -> Contact:
        """One contact person as a param object, with its version; NotFound when there is none."""
        return record_from_row(Contact, stored_row(self.db, SELECT_CONTACT, contact_id, _(
            "No contact person with id {contact_id}.").format(contact_id=contact_id)))

    def create_contact(self, contact: Contact, user: str | None = None) -> Contact:
        """Validate and create a contact person at ``contact.customer_id``."""
        login = self.customers.writer_at_customer(contact, user)
        contact.country = self._customer_country(contact.customer_id)
        contact.check(self.admin.choices())
        now = utcnow()
        with self.db.transaction() as cur:
            insert_record(self.db, cur, "contacts", contact, {
                "customer_id": contact.customer_id, **self._contact_row(contact), **first_version(login, now)},
                login, now)
            self.search.index_contact(cur, {**contact.values(), "id": contact.id, "customer_id": contact.customer_id})
        contact.param.update(created_at=now, created_by=login, updated_at=now, updated_by=login, version=1)
        return contact

    def save_contact(self, contact: Contact, user: str | None = None, kind: str = "update") -> Contact:
        """Validate and save a contact person; history and version as for customers (``kind`` of change: 'update',
        or 'restore')."""
        login = self.admin.require(user, "write")
        with self.db.transaction() as cur:
            before = self.get_contact(contact.id)
            contact.country = self._customer_country(before.customer_id)  # where its phones are
            changes = checked_edit(self.db, "contacts", before, contact, self.admin.choices())
            if not changes:
                return contact
            now = utcnow()
            version = update_record(self.db, cur, "contacts", contact, self._contact_row(contact), changes, login, now,
                                    lambda: self.get_contact(contact.id), kind)
            self.search.index_contact(cur, {**contact.values(), "id": contact.id, "customer_id": contact.customer_id})
        contact.param.update(updated_at=now, updated_by=login, version=version)
        return contact

    def restore_contact(self, contact_id: int, change_id: int, which: str = "old", user: str | None = None,
                        expected_version: int | None = None) -> Contact:
        """Put back a past value of one of a contact person's fields as a new recorded change (kind 'restore'),
        validated and version-checked like any save: ``which`` is 'old' (the value that change replaced) or 'new'
        (the value it set); ``expected_version`` is the version the person saw (saved since: a conflict)."""
        found = self.db.records("SELECT field, old_value, new_value FROM record_changes WHERE id = ? AND "
                                "table_name = 'contacts' AND record_id = ?", [int(change_id), int(contact_id)])
        if not found:
            raise NotFound(_("No change {change_id} of contact person {contact_id}.").format(
                change_id=change_id, contact_id=contact_id))
        field = found[0]["field"]
        if field not in Contact.fields:
            raise ValidationError({field: _("This field is not brought back by a restore.")}, what=_("Contact person"))
        contact = self.get_contact(contact_id)
        if expected_version is not None:
            contact.version = int(expected_version)
        value = from_text(Contact.param[field], found[0]["new_value" if which == "new" else "old_value"])
        errors = contact.update_from({field: "" if value is None and isinstance(Contact.param[field].default, str)
                                      else value})
        if errors:
            raise ValidationError(errors, what=_("Contact person"))
        return self.save_contact(contact, user=user, kind="restore")

    def _customer_country(self, customer_id: int) -> str:
        """The customer's visiting country, or the firm's default country: where its contacts' phones are."""
        found = self.db.row("SELECT visit_country FROM customers WHERE id = ?", [int(customer_id)])
        return (found[0] if found else None) or self.admin.choices().default_country

    @staticmethod
    def _contact_row(contact: Contact) -> dict[str, Any]:
        """The columns a contact person's edit writes, with their values."""
        return {name: getattr(contact, name) for name in Contact.fields}

    def find_contacts(self, text: str, limit: int = 10) -> pd.DataFrame:
        """Active contact persons whose name contains ``text``: id, name, customer_id, customer_name."""
        pattern = "%" + (text or "").strip().lower().replace("%", "").replace("_", "") + "%"
        return self.db.df(
            "SELECT k.id, trim(k.first_name || ' ' || k.last_name) AS name, k.customer_id, c.name AS customer_name "
            "FROM contacts k JOIN customers c ON c.id = k.customer_id WHERE k.active AND "
            "lower(k.first_name || ' ' || k.last_name) LIKE ? ORDER BY k.last_name, k.first_name LIMIT ?",
            [pattern, counted(limit)])

    # -- projects -------------------------------------------------------------------------------------------
    def projects(self, customer_id: int) -> pd.DataFrame:
        """The customer's projects, newest first."""
        return self.db.df(
            "SELECT p.id, p.customer_id, p.number, p.name, p.status, p.manager, "
            "coalesce(u.name, p.manager) AS manager_name, p.start_date, p.end_date, p.description "
            "FROM projects p LEFT JOIN users u ON u.login = p.manager WHERE p.customer_id = ? "
            "ORDER BY p.start_date DESC NULLS LAST, p.id DESC", [int(customer_id)])

    def get_project(self, project_id: int) -> Project:
        """One project as a param object; NotFound when there is none."""
        return record_from_row(Project, stored_row(self.db, SELECT_PROJECT, project_id, _(
            "No project with id {project_id}.").format(project_id=project_id)))

    def create_project(self, project: Project, user: str | None = None) -> Project:
        """Create a project for ``project.customer_id`` (projects are kept by the project module)."""
        login = self.customers.writer_at_customer(project, user)
        project.check(self.admin.choices())
        now = utcnow()
        with self.db.transaction() as cur:
            if not project.number:
                count = cur.execute("SELECT count(*) FROM projects").fetchone()[0]
                project.number = f"P{count + 1:05d}"
            insert_record(self.db, cur, "projects", project, {
                "customer_id": project.customer_id, "number": project.number, "name": project.name,
                "status": project.status, "manager": project.manager, "start_date": project.start_date,
                "end_date": project.end_date, "description": project.description}, login, now)
        return project
