"""Panel's input widgets as the forms use them: a field's help (its ``description``, the model's doc) goes to the
browser as plain text, shown as the help icon's title.

Panel would render each description as Markdown into a Tooltip holding an HTML model: two more Bokeh models per
field, made (and sent) every time a form opens. The model's docs are plain text; Bokeh shows a plain-text description
itself (``title`` of the help icon), so the form stays as light as its widgets.
"""

from __future__ import annotations

from typing import Any, ClassVar

import panel as pn

#: A field as wide as this at most, narrower on a narrow screen (a window zoomed to 200–400 %: WCAG 1.4.10 Reflow),
#: and a block of fields likewise.
NARROW_FIELD = {"sizing_mode": "stretch_width", "max_width": 320}
NARROW_BOX = {"sizing_mode": "stretch_width", "max_width": 420, "min_width": 280}


def wrapping(*objects: Any, **params: Any) -> pn.FlexBox:
    """A row of fields or buttons that wraps onto more rows where the screen is narrower than they are together."""
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items=params.pop("align_items", "flex-end"),
                      sizing_mode=params.pop("sizing_mode", "stretch_width"), **params)


class PlainHelp:
    """Mixed into a Panel input widget: its ``description`` reaches Bokeh as the plain text it is."""

    def _process_param_change(self, params: dict[str, Any]) -> dict[str, Any]:
        help_text = params.pop("description", None)
        params = super()._process_param_change(params)  # type: ignore[misc]
        if help_text is not None:
            params["description"] = help_text
        return params


class TextInput(PlainHelp, pn.widgets.TextInput):
    """A one-line text input whose help is plain text."""


class TextAreaInput(PlainHelp, pn.widgets.TextAreaInput):
    """A multi-line text input whose help is plain text."""


class Select(PlainHelp, pn.widgets.Select):
    """A single choice whose help is plain text."""


#: A multi-choice's list of options opens below its field, always: Choices.js turns it upward when the window has
#: no room below, where the section above (or the page's header) covers it and no option can be clicked; below,
#: the page scrolls to it.
OPTIONS_BELOW = (".choices.is-flipped .choices__list--dropdown, .choices.is-flipped .choices__list[aria-expanded] "
                 "{ top: 100%; bottom: auto; margin-top: -1px; margin-bottom: 0; }")


class MultiChoice(PlainHelp, pn.widgets.MultiChoice):
    """A multiple choice whose help is plain text, its options opening below it (:data:`OPTIONS_BELOW`)."""

    def __init__(self, **params: Any) -> None:
        params["stylesheets"] = [*params.get("stylesheets", []), OPTIONS_BELOW]
        super().__init__(**params)


class PromptTextInput(TextInput):
    """A one-line text input whose keystrokes (``value_input``) the server handles at once.

    Panel holds every change from the browser for 50 ms (its ``_debounce``) before handling it, to gather changes
    that come close together into one; measured, that is most of a keystroke's round trip (a bare echo of a
    keystroke: 60 ms, of which 50 are that wait). A view that gathers keystrokes itself — Search customers looks
    up only the latest text once a lookup is done — needs no wait."""

    _priority_changes: ClassVar[list[str]] = ["value_input"]
