"""Reading a Panel view the way a user does, without a browser: the widgets by the label they show, the panes by
their CSS class, and a message's text as read (no markup)."""

from __future__ import annotations

from typing import Any

import panel as pn

from customercard.ui.html import plain_text


def find(obj: Any, kind: type, css: str | None = None) -> list:
    """Panel objects of a kind (and CSS class) inside a layout (a Viewer is looked into through ``__panel__``)."""
    found: list = []

    def walk(o: Any) -> None:
        if isinstance(o, pn.viewable.Viewer):
            o = o.__panel__()
        if isinstance(o, kind) and (css is None or css in (o.css_classes or [])):
            found.append(o)
        for child in getattr(o, "objects", []) or []:
            walk(child)
    walk(obj)
    return found


def labelled(obj: Any, label: str) -> Any:
    """The one widget inside ``obj`` that shows ``label`` (its name, as a user reads it above the field)."""
    hits = [w for w in find(obj, pn.widgets.Widget) if w.name == label]
    assert len(hits) == 1, f"{len(hits)} widgets labelled {label!r}"
    return hits[0]


def one(obj: Any, kind: type, css: str) -> Any:
    """The one object of ``kind`` with the CSS class ``css`` inside ``obj``."""
    hits = find(obj, kind, css)
    assert len(hits) == 1, f"{len(hits)} {kind.__name__} with the class {css!r}"
    return hits[0]


def pane_text(obj: Any, css: str) -> str:
    """The text shown by the one HTML pane with the CSS class ``css`` inside ``obj``."""
    return plain_text(one(obj, pn.pane.HTML, css).object)
