"""Projects access (a user's ``projects_access``, set on System administration → Users): opening a project — its
page, ``/project``, and the whole project through the HTTP API and the store's API (``get_project``).

A user without it reads a customer's projects as the card's Projects section lists them to everyone (number, name,
status, manager, dates), without what only the project page shows (:data:`PROJECT_DETAIL`); one project, or its
history, is refused them (403, "You do not have access to projects."), as the page is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import NotFound, PermissionDenied
from ..i18n import _

#: What the project page shows of a project and the card's list of a customer's projects does not.
PROJECT_DETAIL = ("description",)


def has_projects_access(store: Any, login: str) -> bool:
    """Whether ``login`` is an active user with projects access."""
    try:
        user = store.get_user(login)
    except NotFound:
        return False
    return bool(user.active and user.projects_access)


def require_projects_access(store: Any, login: str) -> None:
    """PermissionDenied unless ``login`` has projects access (the project page's words)."""
    if not has_projects_access(store, login):
        raise PermissionDenied(_("You do not have access to projects."))


def without_project_detail(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame of projects with :data:`PROJECT_DETAIL` missing (NaN): the same columns and dtypes, what the card
    lists."""
    kept = frame.copy()
    for column in PROJECT_DETAIL:
        if column in kept.columns:
            kept[column] = kept[column].where(pd.Series(False, index=kept.index))
    return kept
