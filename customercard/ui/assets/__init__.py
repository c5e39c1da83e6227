"""The style sheets and browser scripts of the served pages, as files in this folder (``board.css``,
``board.js``, …), read where they are used: ``assets.text("board.css")``.

They are package data (``pyproject.toml``), so an installed wheel has them too. Each file is read once per
process. This module imports nothing of customercard: any layer may read an asset (the login page, the API's
documentation page).

Every asset is sent as it was when it lived in a Python string: style sheets given to a component (Bokeh puts
them inline in its shadow root) or into a page's ``<style>``, scripts into a component's ``_scripts`` or into
the page's ``<script>`` (which carries the page's nonce, :mod:`customercard.headers`). None is served as a file.
"""

from __future__ import annotations

import functools
from importlib import resources


@functools.cache
def text(name: str) -> str:
    """The text of the asset file ``name`` in this folder (UTF-8), read once per process."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
