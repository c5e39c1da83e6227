"""Multi-choice widgets whose option labels are safe to show.

Bokeh draws :class:`panel.widgets.MultiChoice` with Choices.js, which puts option labels into the page as
HTML: a contact person, a list value or a URL parameter named ``<img src=x onerror=…>`` would run its script
for everyone who opens the form. Every multi-choice in customercard is made here, with its labels escaped
(they then show as the text they are).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import panel as pn

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


def multi_choice(options: Options, value: Iterable[Any] = (),
                 **params: Any) -> pn.widgets.MultiChoice:
    """A :class:`panel.widgets.MultiChoice` over ``options`` (see :func:`safe_options`) with ``value``
    chosen; values that are not among the options are left out (they would otherwise become options)."""
    offered = safe_options(options)
    known = list(offered.values())
    return MultiChoice(options=offered, value=[v for v in value if v in known], **params)
