"""Comments on the customer's timeline (notes, and e-mails sent from the card)."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING, Any

import pandas as pd

from .. import formatting
from ..errors import NotFound, PermissionDenied, ValidationError
from ..i18n import _
from ..models import Comment
from .backend import Backend, frame_of
from .database import utcnow
from .part import Part
from .records import check_version, diff_records, versioned_update, write_record_changes

if TYPE_CHECKING:
    from .admin import AdminStore
    from .customers import CustomerStore

SELECT_COMMENTS = ("SELECT c.id, c.customer_id, c.written_on, c.author, coalesce(u.name, c.author) AS author_name, "
                   "c.body, c.kind, c.recipients, c.created_at, c.created_by, c.edited_at, c.edited_by, "
                   "coalesce(c.version, 1) AS version "
                   "FROM comments c LEFT JOIN users u ON u.login = c.author")
#: A customer's comments, the columns of SELECT_COMMENTS but the author's name (see :meth:`TimelineStore.comments`).
CUSTOMER_COMMENTS = ("SELECT id, customer_id, written_on, author, body, kind, recipients, created_at, created_by, "
                     "edited_at, edited_by, coalesce(version, 1) AS version FROM comments WHERE customer_id = ?")
#: The kind of each column of :meth:`TimelineStore.comments` (see :func:`~customercard.store.backend.frame_of`).
COMMENT_KINDS = {"id": "int", "customer_id": "int", "written_on": "datetime", "author": "text", "author_name": "text",
                 "body": "text", "kind": "text", "recipients": "text", "created_at": "datetime", "created_by": "text",
                 "edited_at": "datetime", "edited_by": "text", "version": "int"}
_WRITTEN_ON, _AUTHOR = 2, 3
#: A customer's newest comments are picked here from at most this many of its rows (see ``comments``).
COMMENTS_SORTED_HERE = 200


def _newest_first(row: tuple) -> tuple:
    """The order of comments (reversed: newest first): their date, then their id."""
    return row[_WRITTEN_ON], row[0]


def _author_name(users: dict[str, dict[str, Any]], author: str) -> str:
    """The author's name as users know it, else the login written (as the LEFT JOIN of SELECT_COMMENTS gives it)."""
    found = users.get(author)
    return found["name"] if found is not None and found["name"] is not None else author


class TimelineStore(Part):
    """Part of :class:`customercard.store.Store`: comments."""

    uses = ("admin", "customers")
    admin: AdminStore
    customers: CustomerStore

    db: Backend

    def comments(self, customer_id: int, limit: int | None = None) -> pd.DataFrame:
        """The customer's comments, newest first (by their date, then by when they were written)."""
        return self._newest(customer_id, limit)[0]

    def comment_count(self, customer_id: int) -> int:
        """How many comments (notes and e-mails) the customer has."""
        return int(self.db.row("SELECT count(*) FROM comments WHERE customer_id = ?", [int(customer_id)])[0])

    def comments_with_count(self, customer_id: int, limit: int | None = None) -> tuple[pd.DataFrame, int]:
        """What the card's Comments section shows: :meth:`comments` (the ``limit`` newest) and
        :meth:`comment_count`, read together. A customer with at most ``COMMENTS_SORTED_HERE`` comments is answered
        by one statement, the rows read telling how many there are."""
        frame, total = self._newest(customer_id, limit)
        return frame, (self.comment_count(customer_id) if total is None else total)

    def _newest(self, customer_id: int, limit: int | None) -> tuple[pd.DataFrame, int | None]:
        """The comments (the ``limit`` newest) and how many the customer has, when the rows read tell (else None)."""
        # The customer's rows by the indexed column alone, ordered, cut and named here: an ORDER BY … LIMIT or the
        # join with the users makes DuckDB scan a row group instead of using the index (1.5–2 ms against 0.7 ms).
        # For the newest few, at most COMMENTS_SORTED_HERE rows are read so; a customer with more (thousands of
        # e-mails: 19 ms for 11,000 rows read and sorted here) has the database order and cut them.
        if limit is None:
            rows = self.db.rows(CUSTOMER_COMMENTS, [int(customer_id)])
            total: int | None = len(rows)
        else:
            limit = max(int(limit), 0)
            read = max(limit, COMMENTS_SORTED_HERE) + 1
            rows = self.db.rows(CUSTOMER_COMMENTS + " LIMIT ?", [int(customer_id), read])
            total = len(rows)
            if len(rows) == read:
                total = None
                rows = self.db.rows(CUSTOMER_COMMENTS + " ORDER BY written_on DESC, id DESC LIMIT ?",
                                    [int(customer_id), limit])
        rows.sort(key=_newest_first, reverse=True)
        if limit is not None:
            rows = rows[:limit]
        users = self.admin.users_by_login()
        named = [(*row[:_AUTHOR + 1], _author_name(users, row[_AUTHOR]), *row[_AUTHOR + 1:]) for row in rows]
        return frame_of(named, COMMENT_KINDS), total

    def get_comment(self, comment_id: int) -> Comment:
        """One comment as a param object, with its version; NotFound when there is none."""
        found = self.db.records(SELECT_COMMENTS + " WHERE c.id = ?", [int(comment_id)])
        if not found:
            raise NotFound(_("No comment with id {comment_id}.").format(comment_id=comment_id))
        row = found[0]
        return Comment(id=row["id"], customer_id=row["customer_id"], written_on=row["written_on"],
                       author=row["author"], body=row["body"], kind=row["kind"],
                       recipients=json.loads(row["recipients"]) if row["recipients"] else [],
                       created_at=row["created_at"], created_by=row["created_by"], edited_at=row["edited_at"],
                       edited_by=row["edited_by"] or "", version=int(row["version"]))

    def _firm_today(self) -> dt.date:
        """Today in the firm's time zone (a comment written just after midnight there is of that day, whatever the
        server's own zone)."""
        return dt.datetime.now(formatting.time_zone(self.admin.settings().time_zone)).date()

    def add_comment(self, customer_id: int, body: str, user: str | None = None,
                    written_on: dt.date | None = None, author: str | None = None, kind: str = "comment",
                    recipients: list[str] | tuple[str, ...] = ()) -> Comment:
        """Write a comment, stamped with today's date and the writer unless given."""
        login = self.admin.require(user, "write")
        self.customers.takes_records(customer_id)
        comment = Comment(customer_id=int(customer_id))
        refused = comment.update_from({"body": body or "", "kind": kind, "written_on": written_on or self._firm_today(),
                                       "author": author or login, "recipients": list(recipients)})
        if refused:  # a kind that is none, a date that is no day…: told for the argument, as the model's rules are
            raise ValidationError(refused, what=_("Comment"))
        comment.check(self.admin.choices())
        now = utcnow()
        with self.db.transaction() as cur:
            self.customers.takes_records(customer_id, cur)  # as stored now: not merged away meanwhile
            comment.id = cur.execute(
                "INSERT INTO comments (customer_id, written_on, author, body, kind, recipients, created_at, "
                "created_by, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
                [comment.customer_id, comment.written_on, comment.author, comment.body, comment.kind,
                 json.dumps(comment.recipients) if comment.recipients else "", now, login]).fetchone()[0]
            write_record_changes(self.db, cur, "comments", comment.id, comment.customer_id, login, now, "create",
                                 diff_records(None, comment), 1)
        comment.param.update(created_at=now, created_by=login, version=1)
        return comment

    def edit_comment(self, comment: Comment, user: str | None = None) -> Comment:
        """Save an edited comment (date, author, text) made from ``comment.version``; records who edited it and
        when. A comment someone else edited since is refused with a conflict naming their fields."""
        login = self.admin.require(user, "write")
        with self.db.transaction() as cur:
            before = self.get_comment(comment.id)
            check_version(self.db, "comments", before, comment)
            comment.customer_id = before.customer_id  # a copy read before a merge names the old one
            if before.kind == "email" and comment.body != before.body:
                raise PermissionDenied(_("The text of a sent e-mail cannot be changed; add a new comment instead."))
            comment.check(self.admin.choices(), previous=before)
            changes = diff_records(before, comment)
            if not changes:
                return comment
            now = utcnow()
            version = versioned_update(self.db, cur, "comments", comment, {
                "written_on": comment.written_on, "author": comment.author, "body": comment.body, "edited_at": now,
                "edited_by": login}, lambda: self.get_comment(comment.id))
            write_record_changes(self.db, cur, "comments", comment.id, comment.customer_id, login, now, "update",
                                 changes, version)
        comment.param.update(edited_at=now, edited_by=login, version=version)
        return comment
