"""Saved views of Search customers: a search (its URL query) kept under a name, private or shared.

Everyone may keep views of their own; a view shared with everyone is in every user's menu. Only its owner or an
administrator renames, overwrites or deletes a shared view (a private one is its owner's alone: to anybody else it
does not exist). Names are unique per owner, whatever their case and spacing; every write is version-checked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConflictError, FieldConflict, NotFound, PermissionDenied, ValidationError
from ..i18n import N_, _
from ..models import SavedView
from ..validators import name_key
from .backend import Backend
from .database import utcnow
from .part import Part

if TYPE_CHECKING:
    from .admin import AdminStore

VIEW_COLUMNS = "id, owner, name, shared, search, created_at, created_by, updated_at, updated_by, version"
VIEWS_AREA = "Saved views"




def _view(row: dict[str, Any]) -> SavedView:
    return SavedView(id=int(row["id"]), owner=row["owner"], name=row["name"], shared=bool(row["shared"]),
                     search=row["search"] or "", version=int(row["version"]))


class SavedViewStore(Part):
    """Part of :class:`customercard.store.Store`: saved views of Search customers."""

    uses = ("admin",)
    admin: AdminStore

    db: Backend

    def views(self, user: str | None = None) -> list[SavedView]:
        """The views ``user`` may open: their own (private or shared) first, then those others shared, by name."""
        login = self.admin.require(user, "read")
        rows = self.db.records(f"SELECT {VIEW_COLUMNS} FROM saved_views WHERE owner = ? OR shared "
                               "ORDER BY CASE WHEN owner = ? THEN 0 ELSE 1 END, name_key, owner", [login, login])
        return [_view(row) for row in rows]

    def get_view(self, view_id: int, user: str | None = None) -> SavedView:
        """One view ``user`` may open (their own, or a shared one); another's private view is not found."""
        login = self.admin.require(user, "read")
        rows = self.db.records(f"SELECT {VIEW_COLUMNS} FROM saved_views WHERE id = ?", [int(view_id)])
        if not rows or (rows[0]["owner"] != login and not rows[0]["shared"]):
            raise NotFound(_("No saved view {view_id}.").format(view_id=view_id))
        return _view(rows[0])

    def _may_share(self, login: str) -> None:
        """Viewers keep views for themselves: sharing one needs a user who may change customers (looked up as every
        write looks, a role changed by another process a moment ago too)."""
        try:
            self.admin.require(login, "write")
        except PermissionDenied:
            if not self.admin.can(login, "read"):
                raise
            raise PermissionDenied(_("“{user}” is a viewer and keeps views for themselves: untick “Shared with "
                                     "everyone” to save it.").format(user=login)) from None

    def save_view(self, view: SavedView, user: str | None = None) -> SavedView:
        """Create (``view.id`` None) or overwrite a view — its name, sharing and search — made from ``view.version``.
        A new view is the acting user's. Another view of the same owner with the same name is refused with a message
        for the name; a shared view of someone else needs an administrator; a stale version is a conflict."""
        login = self.admin.require(user, "read")
        if view.shared and view.id is None:
            self._may_share(login)
        view.check()
        now = utcnow()
        with self.db.transaction() as cur:
            if view.id is None:
                owner = login
                self._refuse_same_view_name(cur, owner, view.name, None)
                view.id = cur.execute(
                    "INSERT INTO saved_views (owner, name, name_key, shared, search, created_at, created_by, "
                    "updated_at, updated_by, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1) RETURNING id",
                    [owner, view.name, name_key(view.name), bool(view.shared), view.search, now, login, now,
                     login]).fetchone()[0]
                view.param.update(owner=owner, version=1)
                if view.shared:
                    self.admin.log_admin(cur, login, VIEWS_AREA, view.name, None, N_("shared"))
                return view
            stored = self._view_to_change(view.id, login)
            if stored.version != view.version:
                raise _view_conflict(stored, view)
            if view.shared and not stored.shared:
                self._may_share(login)
            self._refuse_same_view_name(cur, stored.owner, view.name, stored.id)
            updated = cur.execute(
                "UPDATE saved_views SET name = ?, name_key = ?, shared = ?, search = ?, updated_at = ?, "
                "updated_by = ?, version = version + 1 WHERE id = ? AND version = ?",
                [view.name, name_key(view.name), bool(view.shared), view.search, now, login, int(view.id),
                 int(view.version)]).rowcount
            if not updated:
                raise _view_conflict(self._view_to_change(view.id, login), view)
            if stored.shared or view.shared:
                self.admin.log_admin(cur, login, VIEWS_AREA, view.name,
                                f"{stored.name} · {stored.search}", f"{view.name} · {view.search}")
        view.param.update(owner=stored.owner, version=stored.version + 1)
        return view

    def delete_view(self, view_id: int, user: str | None = None, expected_version: int | None = None) -> None:
        """Delete a view: one's own, or (administrators) anyone's shared view; ``expected_version`` guards against
        deleting a view someone changed since it was read."""
        login = self.admin.require(user, "read")
        with self.db.transaction() as cur:
            stored = self._view_to_change(view_id, login)
            if expected_version is not None and stored.version != int(expected_version):
                attempted = SavedView(id=stored.id, name=stored.name, version=int(expected_version))
                raise _view_conflict(stored, attempted)
            cur.execute("DELETE FROM saved_views WHERE id = ?", [int(view_id)])
            if stored.shared:
                self.admin.log_admin(cur, login, VIEWS_AREA, stored.name, N_("shared"), N_("deleted"))

    def _view_to_change(self, view_id: int, login: str) -> SavedView:
        """The stored view, once ``login`` may change it (its owner; for a shared view an administrator too)."""
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        rows = self.db.records(f"SELECT {VIEW_COLUMNS} FROM saved_views WHERE id = ?" + lock,
                               [int(view_id)])
        if not rows or (rows[0]["owner"] != login and not rows[0]["shared"]):
            raise NotFound(_("No saved view {view_id}.").format(view_id=view_id))
        stored = _view(rows[0])
        if stored.owner != login and not self.admin.can(login, "admin"):
            raise PermissionDenied(_("Only its owner ({owner}) or an administrator may change the shared view "
                                     "“{name}”.").format(owner=self.admin.user_name(stored.owner), name=stored.name))
        return stored

    def _refuse_same_view_name(self, cur: Any, owner: str, name: str, view_id: int | None) -> None:
        """Inside the write: refuse a name another view of the owner has (on PostgreSQL the owner's views are locked
        first, so that two saves of one name at once take turns)."""
        lock = " FOR UPDATE" if self.db.dialect == "postgresql" else ""
        rows = cur.execute("SELECT id, name FROM saved_views WHERE owner = ?" + lock, [owner]).fetchall()
        wanted = name_key(name)  # (compared as folded now: a key kept by an older version folded less)
        if any(name_key(known) == wanted and int(other) != view_id for other, known in rows):
            raise ValidationError({"name": _("There is a view named “{name}” already: choose another name, or "
                                             "overwrite that one.").format(name=name)}, what=_("Saved view"))


def _view_conflict(stored: SavedView, attempted: SavedView) -> ConflictError:
    return ConflictError([FieldConflict("search", stored.search, attempted.search, "", None)],
                         stored_version=stored.version, attempted_version=attempted.version)
