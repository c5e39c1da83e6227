"""The customer's files: what the store keeps about them (name, size, content hash, who and when).

The contents live in a :class:`customercard.files.FileStorage`; see :mod:`customercard.files` for uploads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..errors import NotFound
from ..i18n import _
from ..models import CustomerFile
from .backend import Backend
from .database import utcnow
from .part import Part
from .records import write_record_changes

if TYPE_CHECKING:
    from .admin import AdminStore
    from .customers import CustomerStore

FILE_COLUMNS = "id, customer_id, name, size, content_hash, content_type, storage, uploaded_at, uploaded_by"


class FilesStore(Part):
    """Part of :class:`customercard.store.Store`: file records of customers."""

    uses = ("admin", "customers")
    admin: AdminStore
    customers: CustomerStore

    db: Backend

    def files(self, customer_id: int) -> pd.DataFrame:
        """The customer's files (deleted ones left out), newest first, with the uploader's name."""
        return self.db.df(
            "SELECT f.id, f.name, f.size, f.content_type, f.uploaded_at, f.uploaded_by, "
            "coalesce(u.name, f.uploaded_by) AS uploaded_by_name, f.content_hash FROM files f "
            "LEFT JOIN users u ON u.login = f.uploaded_by WHERE f.customer_id = ? AND f.deleted_at IS NULL "
            "ORDER BY f.uploaded_at DESC, f.id DESC", [int(customer_id)])

    def file_record(self, file_id: int) -> dict[str, Any]:
        """One stored file's record (customer, name, size, content hash, type, who and when); NotFound for a
        deleted or unknown file."""
        found = self.db.records("SELECT " + FILE_COLUMNS + " FROM files WHERE id = ? AND deleted_at IS NULL",
                                [int(file_id)])
        if not found:
            raise NotFound(_("No file with id {file_id}.").format(file_id=file_id))
        return found[0]

    def add_file_record(self, customer_id: int, name: str, size: int, content_hash: str, content_type: str,
                        user: str | None = None, storage: str = "local") -> int:
        """Record an uploaded file (its contents already stored under ``content_hash``)."""
        login = self.admin.require(user, "write")
        record = CustomerFile(customer_id=int(customer_id), name=name, content_type=content_type)
        record.check()
        name, content_type = record.name, record.content_type
        self.customers.takes_records(customer_id)
        now = utcnow()
        with self.db.transaction() as cur:
            self.customers.takes_records(customer_id, cur)  # as stored now: not merged away meanwhile
            file_id = cur.execute(
                "INSERT INTO files (customer_id, name, size, content_hash, content_type, storage, uploaded_at, "
                "uploaded_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                [int(customer_id), name, int(size), content_hash, content_type, storage, now, login]).fetchone()[0]
            write_record_changes(self.db, cur, "files", file_id, customer_id, login, now, "create",
                                 {"name": (None, name), "size": (None, size)})
        return int(file_id)

    def delete_file(self, file_id: int, user: str | None = None) -> None:
        """Delete a file (managers and administrators); the record stays, marked deleted, and history shows it."""
        login = self.admin.require(user, "write")
        record = self.file_record(file_id)
        now = utcnow()
        with self.db.transaction() as cur:
            # only a file not deleted meanwhile: of two deleting it at once, the second finds it gone
            if not cur.execute("UPDATE files SET deleted_at = ?, deleted_by = ? WHERE id = ? AND deleted_at IS NULL",
                               [now, login, int(file_id)]).rowcount:
                raise NotFound(_("No file with id {file_id}.").format(file_id=file_id))
            write_record_changes(self.db, cur, "files", file_id, record["customer_id"], login, now, "delete",
                                 {"name": (record["name"], None)})
