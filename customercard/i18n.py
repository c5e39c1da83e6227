"""Texts in the reader's language, looked up when they are drawn.

Every text a person reads goes through :func:`_` at the moment it is drawn, which asks :func:`current_language`:
a language set for the work at hand (:func:`using_language`, e.g. an e-mail written for its recipient), else the
served session's (:func:`set_session_language`), else ``CUSTOMERCARD_LANGUAGE``, else English. Texts that are
defined once, when a module is imported — a section's title, a column's label, a field's label from the model —
are marked with :func:`N_` (they stay the English source text there) and said with ``_()`` where they are shown,
so a language chosen, or a catalog installed, later reaches them too.
"""

from __future__ import annotations

import contextvars
import gettext
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

#: The language of texts written in the source.
SOURCE_LANGUAGE = "en"


class Catalogs:
    """The translations installed, by language code (the source language needs none)."""

    def __init__(self) -> None:
        self._by_language: dict[str, gettext.NullTranslations] = {}
        self._lock = threading.Lock()

    def install(self, language: str, translation: gettext.NullTranslations) -> None:
        with self._lock:
            self._by_language[language] = translation

    def get(self, language: str) -> gettext.NullTranslations:
        return self._by_language.get(language) or self._by_language.get(language.split("_")[0]) or _NULL

    def languages(self) -> list[str]:
        return sorted({SOURCE_LANGUAGE, *self._by_language})


_NULL = gettext.NullTranslations()
#: The translations of this process.
CATALOGS = Catalogs()
_LANGUAGE: contextvars.ContextVar[str | None] = contextvars.ContextVar("customercard_language", default=None)
#: Served sessions' languages, by their Bokeh document (forgotten with the document).
_SESSIONS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def _session_document() -> Any:
    panel = sys.modules.get("panel")  # the model layer never imports Panel itself
    if panel is None:
        return None
    try:
        doc = panel.state.curdoc
    except Exception:  # no document in this context
        return None
    return doc if doc is not None and doc.session_context is not None else None


def set_session_language(language: str, document: Any = None) -> None:
    """Draw this served session (its Bokeh document; the current one by default) in ``language``."""
    document = document if document is not None else _session_document()
    if document is not None:
        _SESSIONS[document] = language


def current_language() -> str:
    """The language texts are drawn in now (see the module's docstring)."""
    chosen = _LANGUAGE.get()
    if chosen:
        return chosen
    document = _session_document()
    if document is not None and document in _SESSIONS:
        return _SESSIONS[document]
    return os.environ.get("CUSTOMERCARD_LANGUAGE", "").strip() or SOURCE_LANGUAGE


@contextmanager
def using_language(language: str) -> Iterator[None]:
    """Draw texts in ``language`` within the block (on this thread or task)."""
    token = _LANGUAGE.set(language)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def _(text: str) -> str:
    """``text`` in the reader's language (the source text where no translation is installed)."""
    return CATALOGS.get(current_language()).gettext(text)


def N_(text: str) -> str:  # noqa: N802 - gettext's name for it
    """Mark ``text`` for translation without translating it now: it is said with ``_()`` where it is drawn."""
    return text


def install(translation: gettext.NullTranslations, language: str = SOURCE_LANGUAGE) -> None:
    """Install a gettext catalog for ``language``."""
    CATALOGS.install(language, translation)


__all__ = ["CATALOGS", "N_", "SOURCE_LANGUAGE", "_", "current_language", "install", "set_session_language",
           "using_language"]
