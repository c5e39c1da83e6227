"""Multi-choice widgets whose option labels are safe to show.

Bokeh draws :class:`panel.widgets.MultiChoice` with Choices.js, which puts option labels into the page as
HTML: a contact person, a list value or a URL parameter named ``<img src=x onerror=…>`` would run its script
for everyone who opens the form. Every multi-choice in customercard is made here, with its labels escaped
(they then show as the text they are).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
import panel as pn

from ..i18n import _
from .html import esc
from .widgets import MultiChoice

Options = Mapping[str, Any] | Iterable[tuple[str, Any]] | Iterable[Any]


def safe_options(options: Options) -> dict[str, Any]:
    """``{escaped label: value}`` from labels mapped to values, (label, value) pairs, or values that are their own
    labels. Two options whose labels are the same text both stay (the later one is told apart by a number)."""
    if isinstance(options, Mapping):
        pairs = list(options.items())
    else:
        pairs = [item if isinstance(item, tuple) and len(item) == 2 else (str(item), item)  # noqa: PLR2004 - a pair
                 for item in options]
    out: dict[str, Any] = {}
    for label, value in pairs:
        shown, n = esc(label), 1
        while shown in out:
            n += 1
            shown = f"{esc(label)} ({n})"
        out[shown] = value
    return out


def people_options(people: Iterable[tuple[str, str]], marked: Mapping[str, str] | None = None) -> dict[str, str]:
    """``{label: login}`` for (login, name) pairs: each colleague by name, and by "name (login)" where two share a
    name (a dict by name kept only one of them: the other could be neither filtered nor chosen); ``marked`` adds a
    word to some logins' labels ({login: "inactive"}), in brackets."""
    people = list(people)
    names = [name or login for login, name in people]
    clash = {name for name in names if names.count(name) > 1}
    out: dict[str, str] = {}
    for (login, _name), name in zip(people, names, strict=True):
        label = f"{name} ({login})" if name in clash and name != login else name
        word = (marked or {}).get(login)
        out[f"{label} ({word})" if word else label] = login
    return out


def contact_options(contacts: Any, keep: Iterable[Any] = ()) -> list[tuple[str, int]]:
    """(label, id) for a form's contact-person choice, from :meth:`Store.contacts` with ``include_inactive=True``:
    the active persons, and those in ``keep`` (the ones the record names now) even when inactive, marked so — a
    person left out of the options would be dropped from the record by a save of its other fields. Two persons of
    one name are told apart by their e-mail (or title, or a number). Labels are plain text (escape them for a
    multi-choice: :func:`safe_options`)."""
    kept = {int(k) for k in keep if k is not None and not pd.isna(k)}
    rows = [r for r in contacts.itertuples() if bool(r.active) or int(r.id) in kept]
    names = [f"{r.first_name} {r.last_name}".strip() for r in rows]
    clash = {name for name in names if names.count(name) > 1}
    out: dict[str, int] = {}
    for r, name in zip(rows, names, strict=True):
        detail = (r.email or r.title or "") if name in clash else ""
        label = f"{name} ({detail})" if detail else name
        label = label if r.active else f"{label} ({_('inactive')})"
        shown, n = label, 1
        while shown in out:
            n += 1
            shown = f"{label} ({n})"
        out[shown] = int(r.id)
    return list(out.items())


def multi_choice(options: Options, value: Iterable[Any] = (),
                 **params: Any) -> pn.widgets.MultiChoice:
    """A :class:`panel.widgets.MultiChoice` over ``options`` (see :func:`safe_options`) with ``value``
    chosen; values that are not among the options are left out (they would otherwise become options)."""
    offered = safe_options(options)
    known = list(offered.values())
    return MultiChoice(options=offered, value=[v for v in value if v in known], **params)
