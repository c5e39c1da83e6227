"""What makes the served pages usable with a keyboard and a screen reader, beyond plain markup.

Bokeh and Panel draw every component in its own (open) shadow root, and a few of Bokeh's widgets leave gaps we
cannot close from Python: a checkbox whose text is not its label, a date picker whose visible input has no
label, a multi-choice search box named "null", tabs that are plain ``div`` elements a keyboard cannot switch. A
field and its message are in different shadow roots, where ``aria-describedby`` cannot reach. :data:`PAGE_SCRIPT`,
put into every served page by :mod:`customercard.ui.shell`, watches every shadow root as it is made and
closes these gaps with attributes only:

- a form control without a name gets its widget's label as ``aria-labelledby``; a multi-choice's chosen values
  (tags) lose the ``aria-selected`` Choices.js gives them, and its list of options is no Tab stop (a long one
  scrolls, which makes it one in Chromium: Tab then dropped the focus to the page);
- Bokeh's tabs become a ``tablist`` of ``tab`` elements (``aria-selected``, ``aria-controls``) with their
  ``tabpanel``; Enter or Space opens a tab, the arrow keys, Home and End move between them;
- a field whose message says something wrong is ``aria-invalid``, and its control is ``aria-describedby`` a copy
  of the message (and of a "changed meanwhile" notice) kept beside it in the control's own shadow root;
- a message marked with :func:`live` is said once in the page's live region (``role=status``, or ``role=alert``
  for what went wrong);
- an element marked with :func:`focus_here` gets the focus once when it shows, and a layout given a class from
  :func:`focus_first` gives it to its first field.

Messages and focus marks carry a token from :func:`token`, so that a message drawn again (another section
saved, the card redrawn) is neither said nor focused a second time.
"""

from __future__ import annotations

import itertools

from . import assets

_TOKENS = itertools.count(1)


def token() -> str:
    """A mark not used before in this process: a message or a focus request happens once in the browser."""
    return str(next(_TOKENS))


def live(ok: bool = True, mark: str | None = None) -> str:
    """Attributes for a message's element: said once in the page's live region — politely when ``ok``, at once
    (``role=alert``) when something went wrong. ``mark``: the message's token (a new one by default)."""
    return f' data-cc-say="{mark or token()}" data-cc-live="{"polite" if ok else "assertive"}"'


def focus_here(mark: str | None = None) -> str:
    """Attributes for an element that takes the focus once, when it shows (a message after the control that was
    used went away)."""
    return f' data-cc-focus="{mark or token()}" tabindex="-1"'


FOCUS_CLASS = "cc-focus-"


def focus_first(css_classes: list[str] | None = None) -> list[str]:
    """``css_classes`` with a new focus mark: the layout's first field takes the focus once it is drawn (an edit
    form just opened, the first field a refused save marked)."""
    kept = [c for c in css_classes or [] if not c.startswith(FOCUS_CLASS)]
    return [*kept, FOCUS_CLASS + token()]


#: Button colours with at least 4.5:1 contrast for their white text (Bokeh's danger red has 3.96:1, its warning
#: orange 1.95:1). Given to the buttons that use them (``stylesheets=[BUTTON_CSS]``).
BUTTON_CSS = assets.text("buttons.css")


def _every_button_readable() -> None:
    """Every button (Button, Toggle, MenuButton, FileDownload) gets :data:`BUTTON_CSS` with Panel's own button
    stylesheet — its readable danger and warning colours and a focus ring that can be seen (Bokeh's is a 1 px dotted
    light grey line, 1.7:1) — however it was made, so that no button is left with Bokeh's defaults."""
    from panel.widgets import FileDownload
    from panel.widgets.button import _ButtonBase

    for kind in (_ButtonBase, FileDownload):
        if BUTTON_CSS not in kind._stylesheets:
            kind._stylesheets = [*kind._stylesheets, BUTTON_CSS]


_every_button_readable()

#: A field's focus, seen: Bokeh marks it with a faint glow and a light blue border (2.8:1 on white, 1.4:1 against
#: the border it had); every input, select and text area gets the buttons' solid ring.
FIELD_FOCUS_CSS = ".bk-input:focus { outline: 2px solid #1f5c99; outline-offset: 1px; border-color: #1f5c99; }"


def _every_field_focus_visible() -> None:
    """Every widget gets :data:`FIELD_FOCUS_CSS` beside its own stylesheets (those that bring their own, as Select
    does, and those that inherit Panel's empty list alike), however it was made."""
    from panel.widgets.base import Widget

    kinds, seen = [Widget], set()
    while kinds:
        kind = kinds.pop()
        if kind in seen:
            continue
        seen.add(kind)
        kinds.extend(kind.__subclasses__())
        if (kind is Widget or "_stylesheets" in vars(kind)) and FIELD_FOCUS_CSS not in kind._stylesheets:
            kind._stylesheets = [*kind._stylesheets, FIELD_FOCUS_CSS]


_every_field_focus_visible()

#: Text for screen readers only (kept in the page, out of sight).
SR_ONLY_CSS = assets.text("sr_only.css")

#: The page's live regions: what :func:`live` marks is said here.
LIVE_REGIONS = ('<div id="cc-status" class="cc-sr-only" role="status" aria-live="polite"></div>'
                '<div id="cc-alert" class="cc-sr-only" role="alert" aria-live="assertive"></div>')

#: The script that closes those gaps (see above), in every served page's ``<script>``.
PAGE_SCRIPT = assets.text("accessibility.js")
