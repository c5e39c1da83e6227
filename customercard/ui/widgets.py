"""Panel's input widgets as the forms use them: a field's help (its ``description``, the model's doc) goes to the
browser as plain text, shown as the help icon's title.

Panel would render each description as Markdown into a Tooltip holding an HTML model: two more Bokeh models per
field, made (and sent) every time a form opens. The model's docs are plain text; Bokeh shows a plain-text description
itself (``title`` of the help icon), so the form stays as light as its widgets.
"""

from __future__ import annotations

from typing import Any

import panel as pn


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


class MultiChoice(PlainHelp, pn.widgets.MultiChoice):
    """A multiple choice whose help is plain text."""
