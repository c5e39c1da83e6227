"""Privacy (GDPR) for a contact person: everything the firm holds about them, and anonymising them.

Both are for administrators only (checked here, whatever a page shows). An export gathers the person's details,
the customer they work at, the comments and e-mails that name them (their full name or e-mail address in the
text or among the recipients — at any customer), the events they take part in, the follow-ups about them (linked
to them or naming them, at any customer), the relations to them and the history of their fields.
Anonymising replaces their values everywhere the firm keeps them, in one transaction, and leaves the customer
and everything else as it was.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

from ..models import Contact
from .backend import Backend
from .database import utcnow
from .part import Part
from .records import write_record_changes

if TYPE_CHECKING:
    from .admin import AdminStore
    from .people import PeopleStore
    from .search import SearchStore

ANONYMISED = "Anonymised"
#: What a contact's name or e-mail address becomes inside other texts (comments, events, relation notes).
REDACTED = "[anonymised]"
#: A name or e-mail address shorter than this is not looked for in texts (a lone initial would match everything).
SHORTEST_NEEDLE = 3
#: A contact person's fields that say who they are; anonymising empties them (the first name becomes ANONYMISED).
PERSONAL_FIELDS = ("first_name", "last_name", "title", "email", "phone", "mobile", "notes")
#: Texts of other records that may name a contact person, by table, and the history fields that keep them.
NAMING_TEXTS = {"comments": ("body", "recipients"), "events": ("title", "description"), "relations": ("note",),
                "follow_ups": ("what",), "opportunities": ("title", "lost_reason")}
#: Of those, the tables whose records have a version, with the columns that say who last changed one and when.
VERSIONED_TEXTS = {"comments": ("edited_at", "edited_by"), "events": ("updated_at", "updated_by"),
                   "follow_ups": ("updated_at", "updated_by"), "opportunities": ("updated_at", "updated_by")}
#: The customers' own fields that may name a contact person (a reference on the invoices), by column and field.
NAMING_CUSTOMER_FIELDS = {"their_reference": "invoicing.their_reference", "our_reference": "invoicing.our_reference"}


def _plain(value: Any) -> Any:
    """A value as JSON holds it: dates and times in ISO 8601."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        return value.item()
    return value


def _plain_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{key: _plain(value) for key, value in row.items()} for row in rows]


def _needles(contact: Contact) -> list[str]:
    """The texts that name a contact person in other records: full name and e-mail address (lower case), longest
    first, each at least three characters (a lone initial would match everything). An anonymised person's name
    ("Anonymised") is none: it would find every text that named anyone anonymised."""
    name = "" if contact.full_name.strip() == ANONYMISED else contact.full_name
    found = {text.strip().lower() for text in (name, contact.email) if len(text.strip()) >= SHORTEST_NEEDLE}
    return sorted(found, key=len, reverse=True)


def _redact(text: str | None, needles: list[str]) -> str | None:
    """``text`` with every occurrence of the needles (whatever their case) replaced by REDACTED."""
    if not text:
        return text
    for needle in needles:
        lowered, start, out = text.lower(), 0, []
        while (found := lowered.find(needle, start)) >= 0:
            out += [text[start:found], REDACTED]
            start = found + len(needle)
        text = "".join(out) + text[start:]
    return text


class PrivacyStore(Part):
    """Part of :class:`customercard.store.Store`: export and anonymise a contact person (administrators)."""

    uses = ("admin", "people", "search")
    admin: AdminStore
    people: PeopleStore
    search: SearchStore

    db: Backend

    def contact_data_export(self, contact_id: int, user: str | None = None) -> dict[str, Any]:
        """Everything the firm holds about one contact person, as plain JSON-ready values (administrators only).

        Keys: exported_at, exported_by, contact (every stored field), customer (id, number, name), comments
        (that name them, at any customer; e-mails too), events (they take part in), follow_ups (linked to them, or
        whose text names them, at any customer), opportunities (whose title or lost reason names them),
        invoice_references (customers whose references on the invoices name them), relations (to them), history
        (of their fields).
        :func:`customercard.privacy.personal_data_files` writes it as JSON beside their vCard.
        """
        login = self.admin.require(user, "admin")
        contact = self.people.get_contact(contact_id)
        customer = self.db.records("SELECT id, number, name FROM customers WHERE id = ?", [contact.customer_id])
        return {
            "exported_at": _plain(utcnow().replace(microsecond=0)), "exported_by": login,
            "contact": {"id": contact.id, "customer_id": contact.customer_id,
                        **{name: _plain(contact.get(name)) for name in (*Contact.fields, "created_at", "created_by",
                                                                        "updated_at", "updated_by", "version")}},
            "customer": _plain_rows(customer)[0] if customer else None,
            "comments": _plain_rows(self._naming(  # (e-mails too: their recipients)
                "SELECT id, customer_id, written_on, author, kind, body, recipients, created_at, created_by, "
                "edited_at, edited_by FROM comments", ("body", "recipients"), contact, order="written_on, id")),
            "events": _plain_rows(self._events_with(contact)),
            "follow_ups": _plain_rows(self._follow_ups_about(contact)),
            "opportunities": _plain_rows(self._naming(
                "SELECT id, customer_id, title, lost_reason, status, owner, created_at, created_by FROM opportunities",
                ("title", "lost_reason"), contact)),
            "invoice_references": _plain_rows(self._naming(
                "SELECT id, number, name, our_reference, their_reference FROM customers", tuple(NAMING_CUSTOMER_FIELDS),
                contact)),
            "relations": _plain_rows(self.db.records(
                "SELECT r.id, r.customer_id, c.name AS customer_name, t.label AS relation_type, r.note, r.created_at, "
                "r.created_by FROM relations r JOIN customers c ON c.id = r.customer_id LEFT JOIN list_values t "
                "ON t.id = r.relation_type_id WHERE r.other_contact_id = ? ORDER BY r.id", [contact.id])),
            "history": _plain_rows(self.db.records(
                "SELECT changed_at, changed_by, kind, field, old_value, new_value FROM record_changes "
                "WHERE table_name = 'contacts' AND record_id = ? ORDER BY id", [contact.id])),
        }

    def _naming(self, select: str, columns: tuple[str, ...], contact: Contact, order: str = "id"
                ) -> list[dict[str, Any]]:
        """The rows of ``select`` (constant SQL, one table) whose ``columns`` name the contact person (full name or
        e-mail, whatever the case), in ``order`` (constant)."""
        needles = _needles(contact)
        if not needles:
            return []
        naming = " OR ".join(f"position(? IN lower({column})) > 0" for column in columns for _ in needles)
        return self.db.records(f"{select} WHERE {naming} ORDER BY {order}",
                               [needle for _column in columns for needle in needles])

    def _follow_ups_about(self, contact: Contact) -> list[dict[str, Any]]:
        """Follow-ups linked to the contact person, or whose text names them (full name or e-mail), at any
        customer."""
        needles = _needles(contact)
        naming = "".join(" OR position(? IN lower(what)) > 0" for _ in needles)
        return self.db.records(
            "SELECT id, customer_id, contact_id, what, due_on, owner, done, done_by, done_at, created_at, created_by, "
            f"updated_at, updated_by FROM follow_ups WHERE contact_id = ?{naming} ORDER BY due_on, id",
            [int(contact.id), *needles])

    def _events_with(self, contact: Contact) -> list[dict[str, Any]]:
        """The events of the contact's customer that the contact person takes part in."""
        rows = self.db.records("SELECT id, customer_id, title, starts_at, ends_at, owner, participants, contact_ids, "
                               "description, status FROM events WHERE customer_id = ? ORDER BY starts_at, id",
                               [contact.customer_id])
        return [row for row in rows if contact.id in json.loads(row["contact_ids"] or "[]")]

    def anonymise_contact(self, contact_id: int, user: str | None = None) -> Contact:
        """Replace a contact person's values wherever they are kept (administrators only), in one transaction:

        - their first name becomes "Anonymised"; last name, title, e-mail, phone, mobile and notes are emptied;
          they are made inactive;
        - the history of their fields keeps who changed what when, but every old and new value is replaced;
        - their entries in the super search index are removed (and words no other entry has);
        - comments, e-mails, event titles and descriptions, relation notes, follow-ups, opportunity titles and
          lost reasons, and the customers' invoice references that name them (full name or e-mail address, whatever
          the case) keep their other text, the name replaced by "[anonymised]" — in their history too;
        - the admin log gets one entry: who, when, which contact id (not the name).

        The customer and everything else stay as they were. Returns the anonymised contact person.
        """
        login = self.admin.require(user, "admin")
        now = utcnow()
        with self.db.transaction() as cur:
            contact = self.people.get_contact(contact_id)
            needles = _needles(contact)
            cur.execute("UPDATE contacts SET first_name = ?, last_name = '', title = '', email = '', phone = '', "
                        "mobile = '', notes = '', active = FALSE, updated_at = ?, updated_by = ?, "
                        "version = version + 1 WHERE id = ?", [ANONYMISED, now, login, contact.id])
            self._anonymise_history(cur, contact.id)
            # recorded as a change at the new version, its old values not kept: a save from a copy read before is
            # refused (records.record_conflict), and open cards hear of it
            gone = {field: (REDACTED, ANONYMISED if field == "first_name" else None) for field in PERSONAL_FIELDS
                    if field == "first_name" or contact.get(field)}
            if contact.active:
                gone["active"] = (True, False)
            write_record_changes(self.db, cur, "contacts", contact.id, contact.customer_id, login, now, "anonymise",
                                 gone, int(contact.version) + 1)
            self._forget_from_search(cur, contact)
            if needles:
                for table, fields in NAMING_TEXTS.items():
                    self._redact_texts(cur, table, fields, needles, login, now)
                self._redact_customer_fields(cur, needles, login, now)
            self.admin.log_admin(cur, login, "Privacy", f"contact {contact.id}", None, "anonymised")
        return self.people.get_contact(contact_id)

    def _redact_customer_fields(self, cur: Any, needles: list[str], login: str, now: Any) -> None:
        """The customers' references that name the person (their reference on the invoices, "Eva Lind"): the name
        replaced, as a change of the customer at a new version (open cards hear of it), and in those fields'
        history."""
        from .customers import write_customer_changes

        for column, field in NAMING_CUSTOMER_FIELDS.items():
            naming = " OR ".join(f"position(? IN lower({column})) > 0" for _ in needles)
            for customer_id, text, version in cur.execute(
                    f"SELECT id, {column}, version FROM customers WHERE {naming}", needles).fetchall():
                redacted = _redact(text, needles)
                cur.execute(f"UPDATE customers SET {column} = ?, updated_at = ?, updated_by = ?, version = ? "
                            "WHERE id = ?", [redacted, now, login, int(version) + 1, customer_id])
                write_customer_changes(self.db, cur, [[customer_id, int(version) + 1, now, login, "anonymise", field,
                                                       REDACTED, redacted]])
            history = " OR ".join("position(? IN lower(coalesce(old_value, '') || ' ' || coalesce(new_value, ''))) "
                                  "> 0" for _ in needles)
            for change_id, old, new in cur.execute(
                    f"SELECT id, old_value, new_value FROM customer_changes WHERE field = ? AND ({history})",
                    [field, *needles]).fetchall():
                cur.execute("UPDATE customer_changes SET old_value = ?, new_value = ? WHERE id = ?",
                            [_redact(old, needles), _redact(new, needles), change_id])

    def _anonymise_history(self, cur: Any, contact_id: int) -> None:
        """Every recorded old and new value of the contact's personal fields replaced (the rows stay)."""
        fields = ", ".join("?" for _ in PERSONAL_FIELDS)
        cur.execute("UPDATE record_changes SET old_value = CASE WHEN coalesce(old_value, '') = '' THEN old_value "
                    "ELSE ? END, new_value = CASE WHEN coalesce(new_value, '') = '' THEN new_value ELSE ? END "
                    f"WHERE table_name = 'contacts' AND record_id = ? AND field IN ({fields})",
                    [REDACTED, REDACTED, int(contact_id), *PERSONAL_FIELDS])

    def _forget_from_search(self, cur: Any, contact: Contact) -> None:
        """Remove the contact's index entries, and the words of theirs that no other entry has (with their
        suffixes and typo variants)."""
        from .search_text import contact_terms, words_of

        self.search.reindex(cur, contact.customer_id, contact.id, [])
        terms = contact_terms({**contact.values(), "id": contact.id}, self.admin.settings().phone_region)
        for word in sorted({word for source, term, _shown in terms for word in words_of(source, term)}):
            if cur.execute("SELECT 1 FROM search_words WHERE word = ? LIMIT 1", [word]).fetchone() is None:
                for table in ("search_vocab", "search_suffixes", "search_fuzzy"):
                    cur.execute(f"DELETE FROM {table} WHERE word = ?", [word])

    def _redact_texts(self, cur: Any, table: str, fields: tuple[str, ...], needles: list[str], login: str,
                      now: Any) -> None:
        """In ``table``, replace the needles inside ``fields`` (and in those fields' recorded history). A record
        with a version gets a new one, stamped and recorded as a change (its old text not kept): a save from a copy
        read before is refused rather than writing the name back."""
        naming = " OR ".join(f"position(? IN lower({field})) > 0" for field in fields for _ in needles)
        params = [needle for _field in fields for needle in needles]
        stamps = VERSIONED_TEXTS.get(table)
        extra = ", customer_id, version" if stamps else ""
        for row in cur.execute(f"SELECT id, {', '.join(fields)}{extra} FROM {table} WHERE {naming}",
                               params).fetchall():
            texts = row[1:1 + len(fields)]
            redacted = [_redact(value, needles) for value in texts]
            if not stamps:
                cur.execute(f"UPDATE {table} SET " + ", ".join(f"{field} = ?" for field in fields) + " WHERE id = ?",
                            [*redacted, row[0]])
                continue
            customer_id, version = row[-2], int(row[-1] or 1)
            cur.execute(f"UPDATE {table} SET " + ", ".join(f"{field} = ?" for field in fields)
                        + f", {stamps[0]} = ?, {stamps[1]} = ?, version = ? WHERE id = ?",
                        [*redacted, now, login, version + 1, row[0]])
            write_record_changes(self.db, cur, table, int(row[0]), customer_id, login, now, "anonymise",
                                 {field: (REDACTED, new) for field, old, new in zip(fields, texts, redacted,
                                                                                     strict=True) if old != new},
                                 version + 1)
        history = " OR ".join("position(? IN lower(coalesce(old_value, '') || ' ' || coalesce(new_value, ''))) > 0"
                              for _ in needles)
        for change_id, old, new in cur.execute(
                f"SELECT id, old_value, new_value FROM record_changes WHERE table_name = ? AND ({history})",
                [table, *needles]).fetchall():
            cur.execute("UPDATE record_changes SET old_value = ?, new_value = ? WHERE id = ?",
                        [_redact(old, needles), _redact(new, needles), change_id])
