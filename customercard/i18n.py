"""Translation hook: every user-visible text goes through ``_()`` so catalogs can be added later."""

from __future__ import annotations

import gettext


class Translations:
    """The catalog the views' texts are looked up in (English until one is installed)."""

    def __init__(self) -> None:
        self.catalog: gettext.NullTranslations = gettext.NullTranslations()

    def install(self, catalog: gettext.NullTranslations) -> None:
        """Look texts up in ``catalog`` from now on."""
        self.catalog = catalog

    def gettext(self, text: str) -> str:
        """``text`` in the installed catalog's language."""
        return self.catalog.gettext(text)


#: The translations every view's texts are looked up in.
TRANSLATIONS = Translations()


def _(text: str) -> str:
    """The text in the user's language (English until catalogs are installed)."""
    return TRANSLATIONS.gettext(text)


def install(translation: gettext.NullTranslations) -> None:
    """Install a gettext catalog for every view."""
    TRANSLATIONS.install(translation)
