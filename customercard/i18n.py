"""Texts in the reader's language, looked up when they are drawn.

Every text a person reads goes through :func:`_` (or :func:`ngettext`) at the moment it is drawn, which asks
:func:`current_language`: a language set for the work at hand (:func:`using_language`, e.g. an e-mail written for
its recipients), else the served session's (:func:`set_session_language`: the user's choice, else the browser's
``Accept-Language``, else the firm's default), else ``CUSTOMERCARD_LANGUAGE``, else the operating system's locale
(``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG``), else English. Texts that are defined once, when a module is
imported — a section's title, a column's label, a field's label from the model — are marked with :func:`N_` (they
stay the English source text there) and said with ``_()`` where they are shown, so a language chosen, or a catalog
installed, later reaches them too.

The translations are gettext catalogs kept with Babel in ``customercard/locale/<language>/LC_MESSAGES/
customercard.po`` (the template is ``customercard/locale/customercard.pot``). Installing compiles them into
``.mo`` files (``make``; ``pybabel compile -d customercard/locale -D customercard``); a language whose ``.mo`` is
missing or older than its ``.po`` is compiled into memory from the ``.po`` the first time it is used, so an
installation without the compile step still speaks every language.
"""

from __future__ import annotations

import contextvars
import gettext
import io
import os
import re
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

#: The language of texts written in the source.
SOURCE_LANGUAGE = "en"
#: The languages customercard speaks, each by its own name (as a chooser offers them).
LANGUAGES: dict[str, str] = {"en": "English", "sv": "Svenska", "da": "Dansk"}
#: The languages' own names: shown as they are in every language ("English" in a chooser on a Swedish page is not
#: "Engelska", which names the language of an invoice).
ENDONYMS = frozenset(LANGUAGES.values())
#: Where the catalogs are: <language>/LC_MESSAGES/customercard.po (and .mo once compiled).
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "customercard"


def _compiled(language: str) -> gettext.NullTranslations | None:
    """The catalog of ``language``: its .mo file when it is at least as new as its .po, else the .po compiled in
    memory (fuzzy entries left out, as ``pybabel compile`` leaves them out); None when there is no catalog."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if not po.exists():
        return None
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Catalogs:
    """The translations, by language code: the shipped ones loaded on first use, others installed (the source
    language needs none)."""

    def __init__(self) -> None:
        self._by_language: dict[str, gettext.NullTranslations] = {}
        self._lock = threading.Lock()

    def install(self, language: str, translation: gettext.NullTranslations) -> None:
        with self._lock:
            self._by_language[language] = translation

    def get(self, language: str) -> gettext.NullTranslations:
        found = self._by_language.get(language)
        if found is not None:
            return found
        base = language.split("_", maxsplit=1)[0].split("-", maxsplit=1)[0].lower()
        if base == SOURCE_LANGUAGE or base not in LANGUAGES:
            return self._by_language.get(base) or _NULL
        with self._lock:
            if base not in self._by_language:
                self._by_language[base] = _compiled(base) or _NULL
            return self._by_language[base]

    def languages(self) -> list[str]:
        return sorted({*LANGUAGES, *self._by_language})


_NULL = gettext.NullTranslations()
#: The translations of this process.
CATALOGS = Catalogs()
_LANGUAGE: contextvars.ContextVar[str | None] = contextvars.ContextVar("customercard_language", default=None)
#: Served sessions' languages, by their Bokeh document (forgotten with the document).
_SESSIONS: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()


def supported(language: str | None) -> str | None:
    """The language customercard speaks for a code such as 'sv', 'sv-SE', 'da_DK.UTF-8' or 'en-GB'; None for any
    other (or none)."""
    if not language:
        return None
    base = re.split(r"[-_.@]", language.strip().lower(), maxsplit=1)[0]
    return base if base in LANGUAGES else None


def negotiate(accept_language: str | None, default: str = SOURCE_LANGUAGE) -> str:
    """The language to answer an HTTP ``Accept-Language`` header in: the first of the browser's languages (by
    q-value, then order) that customercard speaks, else ``default``."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        quality = 1.0
        match = re.search(r"q\s*=\s*([0-9.]+)", params)
        if match:
            try:
                quality = float(match.group(1))
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    for _quality, _position, tag in sorted(ranked):
        language = supported(tag)
        if language:
            return language
    return supported(default) or SOURCE_LANGUAGE


def system_language(environ: dict[str, str] | None = None) -> str | None:
    """The language of the operating system's locale (``LANGUAGE``'s first, else ``LC_ALL``, ``LC_MESSAGES``,
    ``LANG``) when customercard speaks it, else None ('C' and 'POSIX' say nothing)."""
    env = os.environ if environ is None else environ
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = (env.get(name) or "").split(":")[0].strip()
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return supported(value)
    return None


def default_language(environ: dict[str, str] | None = None) -> str:
    """The language outside a served session: ``CUSTOMERCARD_LANGUAGE``, else the system's, else English."""
    env = os.environ if environ is None else environ
    return supported(env.get("CUSTOMERCARD_LANGUAGE")) or system_language(env) or SOURCE_LANGUAGE


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
    env = os.environ.get("CUSTOMERCARD_LANGUAGE", "").strip()
    if env:
        return supported(env) or env  # a language installed by hand ('xx') is taken as it is
    return system_language() or SOURCE_LANGUAGE


@contextmanager
def using_language(language: str | None) -> Iterator[None]:
    """Draw texts in ``language`` within the block (on this thread or task); None: as before."""
    if not language:
        yield
        return
    token = _LANGUAGE.set(language)
    try:
        yield
    finally:
        _LANGUAGE.reset(token)


def _(text: str) -> str:
    """``text`` in the reader's language (the source text where no translation is installed)."""
    if not text:
        return text  # gettext("") is the catalog's header
    return CATALOGS.get(current_language()).gettext(text)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The singular or plural of a text, as the reader's language counts ``count``."""
    return CATALOGS.get(current_language()).ngettext(singular, plural, count)


def pgettext(context: str, text: str) -> str:
    """``text`` in the reader's language as meant in ``context`` (a word that reads otherwise elsewhere: 'End' a
    session, not the end of a project)."""
    return CATALOGS.get(current_language()).pgettext(context, text)


def N_(text: str) -> str:  # gettext's name for it
    """Mark ``text`` for translation without translating it now: it is said with ``_()`` where it is drawn."""
    return text


#: How each language quotes a text within a sentence.
QUOTES: dict[str, tuple[str, str]] = {"en": ("\u201c", "\u201d"), "sv": ("\u201d", "\u201d"),
                                      "da": ("\u00bb", "\u00ab")}


def quote(text: str) -> str:
    """``text`` in the reader's language's quotation marks: “text” (en), ”text” (sv), »text« (da)."""
    opening, closing = QUOTES.get(supported(current_language()) or SOURCE_LANGUAGE, QUOTES[SOURCE_LANGUAGE])
    return f"{opening}{text}{closing}"


def install(translation: gettext.NullTranslations, language: str = SOURCE_LANGUAGE) -> None:
    """Install a gettext catalog for ``language`` (instead of the shipped one, if there is one)."""
    CATALOGS.install(language, translation)


def extract(fileobj: Any, keywords: dict[str, Any], _comment_tags: Any, options: dict[str, Any]) -> Iterator[tuple]:
    """Babel's extraction method for our Python sources (see ``babel.cfg``): every call of a translation keyword
    (``_``, ``N_``, ``ngettext``, ``pgettext``, also as ``i18n._``) with literal texts, wherever it is — within an
    f-string too, which Babel's own Python extractor does not look into before Python 3.12."""
    import ast

    source = fileobj.read()
    tree = ast.parse(source.decode(options.get("encoding", "utf-8")) if isinstance(source, bytes) else source)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name not in keywords:
            continue
        texts = [arg.value if isinstance(arg, ast.Constant) and isinstance(arg.value, str) else None
                 for arg in node.args]
        if texts and texts[0] is not None:  # others not literal (a count) are None, as Babel's own extractor has them
            yield node.lineno, name, texts[0] if len(texts) == 1 else tuple(texts), []


def label_said(label: str) -> str:
    """A choice's label in the reader's language — a language's own name as it is (see :data:`ENDONYMS`)."""
    return label if label in ENDONYMS else _(label)


__all__ = ["CATALOGS", "ENDONYMS", "LANGUAGES", "N_", "SOURCE_LANGUAGE", "_", "current_language", "default_language",
           "extract", "install", "label_said", "negotiate", "ngettext", "pgettext", "quote", "set_session_language",
           "supported", "system_language", "using_language"]
