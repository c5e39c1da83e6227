"""The exceptions customercard raises, documented in one place.

    CustomerCardError            the root: catch this to catch everything of ours
    ├── ValidationError          bad input; ``errors`` maps each bad field to a message
    ├── ConflictError            a stale save; ``conflicts`` names each field changed meanwhile
    ├── NotFound                 no such customer, contact, user, ...
    └── PermissionDenied         the acting user may not do this
        └── TooManyAttempts      too many failed logins or API tokens: ``wait_seconds`` before the next try
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .i18n import _, ngettext


class CustomerCardError(Exception):
    """Base class of every error customercard raises on purpose."""


class ValidationError(CustomerCardError, ValueError):
    """Input that breaks a rule of the model.

    ``errors`` maps a field name (dotted for nested objects, e.g. ``visit_address.postal_code``)
    to a message a person understands. Nothing has been written when this is raised.
    """

    def __init__(self, errors: dict[str, str], what: str = "") -> None:
        self.errors = dict(errors)
        self.what = what
        lines = "; ".join(f"{field}: {message}" for field, message in self.errors.items())
        count = len(self.errors)
        super().__init__(ngettext("{what} has {n} problem: {problems}", "{what} has {n} problems: {problems}",
                                  count).format(what=what or _("The input"), n=count, problems=lines))


class NeedsConfirmation(ValidationError):
    """Nothing is wrong, yet a value is worth a second look before it is kept (a number another customer has too):
    said at its field as a refusal is; asked again, the same values are kept."""


@dataclass(frozen=True)
class FieldConflict:
    """One field that someone else changed after the save was started."""

    field: str
    stored: Any
    attempted: Any
    changed_by: str | None = None
    changed_at: Any = None


class Conflicts(list):
    """The fields changed meanwhile: a list of :class:`FieldConflict`, also looked up by field name
    (``"phone" in conflicts``, ``conflicts["phone"].stored``, ``conflicts.keys()``), as ``ValidationError.errors``."""

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return any(c.field == item for c in self)
        return super().__contains__(item)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            for conflict in self:
                if conflict.field == key:
                    return conflict
            raise KeyError(key)
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        """The names of the fields changed meanwhile."""
        return [c.field for c in self]


class ConflictError(CustomerCardError):
    """A save started from an older version than the one stored: nothing was written."""

    def __init__(self, conflicts: list[FieldConflict], stored_version: int, attempted_version: int) -> None:
        self.conflicts = Conflicts(conflicts)
        self.stored_version = stored_version
        self.attempted_version = attempted_version
        if self.conflicts:
            detail = "; ".join(_("{field}: stored {stored}, attempted {attempted}").format(
                field=c.field, stored=repr(c.stored), attempted=repr(c.attempted)) for c in self.conflicts)
        else:
            detail = _("no field differs, but the record was saved meanwhile")
        super().__init__(_("Changed by someone else since you started (version {attempted} → {stored}): "
                           "{detail}").format(attempted=attempted_version, stored=stored_version, detail=detail))


class WriteConflict(CustomerCardError):
    """The database refused a write that met another connection's write of the same rows at the same moment (a
    second store open on one DuckDB file): nothing was saved, and the same call may simply be tried again."""


class NotFound(CustomerCardError, LookupError):
    """The thing asked for does not exist."""


class PermissionDenied(CustomerCardError, PermissionError):
    """The acting user is not allowed to do this; enforced by the store, not only the UI."""


class TooManyAttempts(PermissionDenied):
    """Too many failed attempts (wrong passwords, unknown or revoked API tokens) from this account or address:
    nothing was checked; try again after ``wait_seconds``."""

    def __init__(self, wait_seconds: int) -> None:
        self.wait_seconds = int(wait_seconds)
        super().__init__(ngettext("Too many failed attempts; try again in {n} second.",
                                  "Too many failed attempts; try again in {n} seconds.",
                                  self.wait_seconds).format(n=self.wait_seconds))
