"""Translation hook: every user-visible text goes through ``_()`` so catalogs can be added later."""

from __future__ import annotations

import gettext

_translation = gettext.NullTranslations()


def _(text: str) -> str:
    """The text in the user's language (English until catalogs are installed)."""
    return _translation.gettext(text)


def install(translation: gettext.NullTranslations) -> None:
    """Install a gettext catalog for every view."""
    global _translation
    _translation = translation
