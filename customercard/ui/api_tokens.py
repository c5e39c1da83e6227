"""My API tokens, on my profile: make one (a name, read-only or not) and see its secret once, list mine (name,
made, last used, read-only) and revoke one.

Everything goes through the store: a name taken meanwhile is refused there, and a token revoked meanwhile (on
another page, or with ``customercard tokens revoke``) is said to be so rather than revoked twice.
"""

from __future__ import annotations

from typing import Any

import panel as pn
import param

from .. import formatting
from ..errors import CustomerCardError, ValidationError
from ..i18n import _
from ..models import ApiToken
from ..store import Store
from . import assets
from .accessibility import focus_first, focus_here, live
from .html import SECTION_CSS, esc
from .widgets import NARROW_FIELD

TOKENS_CSS = SECTION_CSS + assets.text("api_tokens.css")


class ApiTokens(pn.viewable.Viewer):
    """The “API tokens” block of the profile page."""

    created = param.Parameter(default=None, doc="The token made last on this page (its secret is not kept here).")

    def __init__(self, store: Store, login: str, **params: Any) -> None:
        super().__init__(**params)
        self.store, self.login = store, login
        self._zone = store.settings().time_zone
        self._name = pn.widgets.TextInput(
            label=_("Token name"), placeholder=_("e.g. the script that uses it"), **NARROW_FIELD,
            max_length=int(ApiToken.param["name"].metadata["max_length"]), css_classes=["cc-token-name"])
        self._read_only = pn.widgets.Checkbox(label=_("Read only (reads, changes nothing)"),
                                              css_classes=["cc-token-read-only"])
        create = pn.widgets.Button(label=_("Create token"), color="primary", css_classes=["cc-token-create"])
        create.on_click(lambda _event: self.create())
        self._secret = pn.pane.HTML("", stylesheets=[TOKENS_CSS], css_classes=["cc-token-secret"],
                                    sizing_mode="stretch_width")
        self._list = pn.Column(sizing_mode="stretch_width", css_classes=["cc-token-list"])
        self._note = pn.pane.HTML("", stylesheets=[TOKENS_CSS], css_classes=["cc-token-note"])
        intro = _("A token lets a script or a notebook use customercard's API as you (with your role), or only read "
                  "when it is read-only. Send it as Authorization: Bearer <token>; the API is described at "
                  "{docs}.").format(docs="/api/v1/docs")
        self._layout = pn.Column(
            pn.pane.HTML(f"<h2>{esc(_('API tokens'))}</h2><p class='cc-meta'>{esc(intro)}</p>",
                         stylesheets=[TOKENS_CSS], sizing_mode="stretch_width"),
            self._name, self._read_only, create, self._secret, self._list, self._note,
            sizing_mode="stretch_width", css_classes=["cc-api-tokens"])
        self.refresh()

    def create(self) -> bool:
        """Make a token with the name typed; show its secret once."""
        name = self._name.value_input or self._name.value or ""
        try:
            token, secret = self.store.create_token(self.login, name, read_only=self._read_only.value,
                                                    user=self.login)
        except (ValidationError, CustomerCardError) as exc:
            self._secret.object = ""
            errors = getattr(exc, "errors", None)
            self._note.object = _message(" ".join(errors.values()) if errors else str(exc), ok=False)
            self._name.css_classes = focus_first(self._name.css_classes)  # back to the field to put it right
            return False
        self._name.param.update(value="", value_input="")
        self._read_only.value = False
        hint = _("Your new token {name}. Copy it now (a click selects it): it is shown only this once, and "
                 "customercard keeps only a hash of it.").format(name=token.name)
        # said, and the focus on the secret itself (the field it came from was emptied): ready to be copied
        self._secret.object = (f"<p{live()}>{esc(hint)}</p><code class='cc-token-secret-value'{focus_here()}>"
                               f"{esc(secret)}</code>")
        self._note.object = ""
        self.created = token
        self.refresh()
        return True

    def refresh(self) -> None:
        """List my live tokens, newest first."""
        self._list.objects = [self._row(token) for token in self.store.tokens(self.login)] or [
            pn.pane.HTML(f'<p class="cc-empty">{esc(_("No API tokens."))}</p>')]

    def _row(self, token: ApiToken) -> pn.viewable.Viewable:
        used = formatting.datetime(token.last_used_at, self._zone) if token.last_used_at else _("never")
        flag = f'<span class="cc-token-flag">{esc(_("read-only"))}</span>' if token.read_only else ""
        text = (f'<div class="cc-token-row"><strong class="cc-token-row-name">{esc(token.name)}</strong>'
                f'<code>{esc(token.hint)}…</code>'
                f'<span class="cc-meta">{esc(_("created"))} {esc(formatting.datetime(token.created_at, self._zone))}'
                f'</span><span class="cc-meta">{esc(_("last used"))} {esc(used)}</span>{flag}</div>')
        info = pn.pane.HTML(text, stylesheets=[TOKENS_CSS], sizing_mode="stretch_width", css_classes=["cc-token-info"])
        revoke = pn.widgets.Button(label=_("Revoke"), width=90, color="danger", css_classes=["cc-token-revoke"])
        revoke.on_click(lambda _event, token_id=int(token.id): self.revoke(token_id))
        return pn.Row(info, revoke, sizing_mode="stretch_width", css_classes=["cc-token-entry"])

    def revoke(self, token_id: int) -> None:
        """Revoke one of my tokens (said so when it was revoked meanwhile)."""
        try:
            revoked = self.store.revoke_token(token_id, user=self.login)
        except CustomerCardError as exc:
            self._note.object = _message(str(exc), ok=False)
            return
        self._secret.object = ""
        self._note.object = _message(_("The token is revoked: every request with it is refused from now on.")
                                     if revoked else _("It had been revoked already."), ok=revoked, focus=True)
        self.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout


def _message(text: str, ok: bool, focus: bool = False) -> str:
    """A message under the tokens, said in the page's live region; ``focus``: it takes the focus (the button used
    went away with its row)."""
    color = "#1d7a3c" if ok else "#b42318"
    marks = live(ok) + (focus_here() if focus else "")
    return f'<p class="cc-token-message" style="color:{color}"{marks}>{esc(text)}</p>' if text else ""
