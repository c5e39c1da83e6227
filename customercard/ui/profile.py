"""My profile: who I am, my language, changing my password, my active login sessions (end one, or log out
everywhere) and my API tokens (:mod:`customercard.ui.api_tokens`).

Every value that came from a person or a browser (name, e-mail, address, user agent) is escaped.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from typing import Any

import panel as pn
import param

from .. import formatting
from ..errors import CustomerCardError, ValidationError
from ..i18n import LANGUAGES, _, pgettext
from ..models import User
from ..passwords import MIN_LENGTH
from ..store import Store
from ..store.sessions import DEFAULT_IDLE, DEFAULT_LIFETIME
from . import assets
from .accessibility import BUTTON_CSS, focus_first, focus_here, live
from .api_tokens import ApiTokens
from .form import option_labels
from .html import SECTION_CSS, esc, fields
from .widgets import NARROW_BOX, NARROW_FIELD

PROFILE_CSS = SECTION_CSS + assets.text("profile.css")
#: "Log out everywhere": how long this page has to leave through /logout before its session is ended anyway (s).
LEAVE_SECONDS = 5.0
#: (pattern whose group is the version, name); the first that matches wins (Chrome says Safari too).
_BROWSERS = [(r"\bEdg/(\d+)", "Edge"), (r"\bOPR/(\d+)", "Opera"), (r"\bFirefox/(\d+)", "Firefox"),
             (r"\bChromium/(\d+)", "Chromium"), (r"Chrome/(\d+)", "Chrome"),
             (r"\bVersion/(\d+)\S* (?:Mobile/\S+ )?Safari/", "Safari")]


def browser_name(user_agent: str) -> str:
    """A short name for a browser's User-Agent ('Firefox 140 on Linux'), else the start of it."""
    text = user_agent or ""
    name = next((f"{label} {m.group(1)}" for pattern, label in _BROWSERS if (m := re.search(pattern, text))), "")
    system = next((os for key, os in (("Windows", "Windows"), ("Mac OS", "macOS"), ("Android", "Android"),
                                      ("iPhone", "iOS"), ("Linux", "Linux")) if key in text), "")
    if name:
        return _("{browser} on {system}").format(browser=name, system=system) if system else name
    return text[:60] or _("unknown")


def _note(text: str, ok: bool, focus: bool = False) -> str:
    """A message, said once; with ``focus`` it takes the focus (the button used went away with its row)."""
    color = "#1d7a3c" if ok else "#b42318"
    attrs = live(ok) + (focus_here() if focus else "")
    return f'<p class="cc-profile-message" style="color:{color}"{attrs}>{esc(text)}</p>' if text else ""


class ProfilePage(pn.viewable.Viewer):
    """Name, login and role; change my password; my active sessions with “End” and “Log out everywhere”."""

    logged_out = param.Event(doc="Set when this person ended every session of theirs, this one too: leave the page.")

    def __init__(self, store: Store, login: str, token: str = "", idle: dt.timedelta = DEFAULT_IDLE,
                 lifetime: dt.timedelta = DEFAULT_LIFETIME, **params: Any) -> None:
        super().__init__(**params)
        self.store, self.login, self.token = store, login, token
        self.idle, self.lifetime = idle, lifetime
        self._zone = store.settings().time_zone
        self._inputs = {
            "current_password": pn.widgets.PasswordInput(label=_("Current password"), **NARROW_FIELD,
                                                         css_classes=["cc-profile-current"]),
            "password": pn.widgets.PasswordInput(
                label=_("New password"), **NARROW_FIELD, css_classes=["cc-profile-new"],
                placeholder=_("At least {n} characters, not a common one").format(n=MIN_LENGTH)),
            "again": pn.widgets.PasswordInput(label=_("New password again"), **NARROW_FIELD,
                                              css_classes=["cc-profile-again"]),
        }
        # each message in a field's column, as in every form: the browser ties it to the field's control
        self._errors = {name: pn.pane.HTML("", css_classes=[f"cc-profile-{name}-error", "cc-field-error"],
                                           stylesheets=[PROFILE_CSS], margin=(0, 10)) for name in self._inputs}
        self._cells = {name: pn.Column(self._inputs[name], self._errors[name], margin=0, sizing_mode="stretch_width")
                       for name in self._inputs}
        change = pn.widgets.Button(label=_("Change password"), color="primary",
                                   css_classes=["cc-profile-change"])
        change.on_click(lambda _event: self.change_password())
        self._password_note = pn.pane.HTML("", css_classes=["cc-profile-password-note"])
        self._sessions = pn.Column(sizing_mode="stretch_width", css_classes=["cc-profile-sessions"])
        everywhere = pn.widgets.Button(label=_("Log out everywhere"), color="danger",
                                       css_classes=["cc-profile-everywhere"], stylesheets=[BUTTON_CSS])
        everywhere.on_click(lambda _event: self.log_out_everywhere())
        self._sessions_note = pn.pane.HTML("", css_classes=["cc-profile-sessions-note"])
        chosen = self.store.get_user(login).language
        self._language = pn.widgets.Select(label=_("Language"), value=chosen, **NARROW_FIELD,
                                           options=option_labels(User.param.language, ["", *LANGUAGES]),
                                           description=_(User.param.language.doc),
                                           css_classes=["cc-profile-language"])
        self._language.param.watch(lambda event: self.choose_language(event.new), "value")
        self._language_note = pn.pane.HTML("", css_classes=["cc-profile-language-note"])
        language_box = pn.Column(pn.pane.HTML(f"<h2>{esc(_('My language'))}</h2>"), self._language,
                                 self._language_note, **NARROW_BOX)
        self._reminder = pn.widgets.Checkbox(label=_("E-mail me my follow-ups due and overdue each morning"),
                                             value=self.store.follow_up_mail_wanted(login),
                                             css_classes=["cc-profile-reminders"])
        self._reminder.param.watch(lambda event: self.choose_reminders(event.new), "value")
        self._reminder_note = pn.pane.HTML("", css_classes=["cc-profile-reminders-note"])
        reminder_box = pn.Column(pn.pane.HTML(f"<h2>{esc(_('My reminders'))}</h2>"), self._reminder,
                                 self._reminder_note, **NARROW_BOX)
        password_box = pn.Column(pn.pane.HTML(f"<h2>{esc(_('Change my password'))}</h2>"),
                                 *self._cells.values(),
                                 change, self._password_note, **NARROW_BOX)
        sessions_box = pn.Column(pn.pane.HTML(f"<h2>{esc(_('My active sessions'))}</h2>"), self._sessions,
                                 everywhere, self._sessions_note, sizing_mode="stretch_width")
        #: My API tokens: make, list, revoke.
        self.tokens = ApiTokens(store, login)
        self._layout = pn.Column(pn.pane.HTML(self._who_html(), stylesheets=[PROFILE_CSS], sizing_mode="stretch_width",
                                              css_classes=["cc-profile-who"]),
                                 # side by side, one under the other on a narrow screen (zoomed 200 % and more)
                                 pn.FlexBox(pn.Column(language_box, reminder_box, password_box, **NARROW_BOX,
                                                      styles={"flex": "0 1 420px"}),
                                            pn.Column(sessions_box, self.tokens, sizing_mode="stretch_width",
                                                      styles={"flex": "999 1 280px"}),
                                            flex_wrap="wrap", sizing_mode="stretch_width"),
                                 sizing_mode="stretch_width")
        self.refresh_sessions()

    def _who_html(self) -> str:
        user = self.store.get_user(self.login)
        return (f'<h1 class="cc-title">{esc(user.name)}</h1>'
                + fields([(_("Login"), esc(user.login)), (_("Role"), esc(_(user.role))),
                          (_("E-mail"), esc(user.email))]))

    # -- language --------------------------------------------------------------------------------------------------
    def choose_language(self, language: str) -> None:
        """Read customercard in ``language`` ('' : as the browser asks) from the next page on."""
        try:
            self.store.set_language(self.login, language or "", by=self.login)
        except CustomerCardError as exc:
            self._language_note.object = _note(str(exc), ok=False)
            return
        text = _("Saved: the pages you open from now on are in the language you chose.")
        self._language_note.object = (_note(text, ok=True) + f'<p><a href="/profile" class="cc-profile-reload">'
                                      f'{esc(_("Open this page again"))}</a></p>')

    # -- reminders -------------------------------------------------------------------------------------------------
    def choose_reminders(self, wanted: bool) -> None:
        """Get the daily e-mail of my due and overdue follow-ups, or not."""
        try:
            self.store.set_follow_up_mail_wanted(self.login, bool(wanted), user=self.login)
        except CustomerCardError as exc:
            self._reminder_note.object = _note(str(exc), ok=False)
            return
        self._reminder_note.object = _note(_("Saved: you get the e-mail on days when you have follow-ups due.")
                                           if wanted else _("Saved: you get no reminder e-mails."), ok=True)

    # -- password --------------------------------------------------------------------------------------------------
    def _typed(self, name: str) -> str:
        widget = self._inputs[name]  # what was typed (sent as typed), else what was set
        return widget.value_input or widget.value or ""

    def show_errors(self, errors: dict[str, str]) -> None:
        """Each message next to its field (none: clear them)."""
        for name, pane in self._errors.items():
            text = errors.get(name, "")
            pane.object = f'<span class="cc-field-error">{esc(text)}</span>' if text else ""
        first = next((name for name in self._errors if errors.get(name)), None)
        if first is not None:
            self._cells[first].css_classes = focus_first(self._cells[first].css_classes)

    def change_password(self) -> bool:
        """Change my password (current one right, new one twice and passing the policy); my other sessions end,
        this one stays."""
        new = self._typed("password")
        errors = {} if new == self._typed("again") else {"again": _("The two new passwords differ.")}
        try:
            if errors:
                raise ValidationError(errors)
            self.store.change_password(self.login, self._typed("current_password"), new, keep_token=self.token)
        except ValidationError as exc:
            self.show_errors(exc.errors)
            self._password_note.object = _note(_("Your password was not changed."), ok=False)
            return False
        self.show_errors({})
        for widget in self._inputs.values():
            widget.param.update(value="", value_input="")
        self._password_note.object = _note(_("Your password is changed; your other sessions have ended."), ok=True)
        self.refresh_sessions()
        return True

    # -- sessions ----------------------------------------------------------------------------------------------------
    def refresh_sessions(self) -> None:
        """List my live sessions, this one marked."""
        frame = self.store.sessions(self.login, current_token=self.token, idle=self.idle, lifetime=self.lifetime)
        self._sessions.objects = [self._session_row(row) for row in frame.itertuples(index=False)] or [
            pn.pane.HTML(f'<p class="cc-empty">{esc(_("No active sessions."))}</p>')]

    def _session_row(self, row: Any) -> pn.viewable.Viewable:
        this = f' <span class="cc-this-session">{esc(_("This session"))}</span>' if row.current else ""
        text = (f'<div class="cc-profile-session"><span>{esc(browser_name(row.user_agent))}</span>'
                f'<span class="cc-meta">{esc(row.remote_address)}</span>'
                f'<span class="cc-meta">{esc(_("started"))} {esc(formatting.datetime(row.created_at, self._zone))}'
                f'</span><span class="cc-meta">{esc(_("last seen"))} '
                f'{esc(formatting.datetime(row.last_seen_at, self._zone))}</span>{this}</div>')
        info = pn.pane.HTML(text, stylesheets=[PROFILE_CSS], sizing_mode="stretch_width",
                            css_classes=["cc-profile-session-row"] + (["cc-profile-this"] if row.current else []))
        if row.current:
            return pn.Row(info, sizing_mode="stretch_width")
        end = pn.widgets.Button(label=pgettext("a login session", "End"), width=80, css_classes=["cc-profile-end"])
        end.on_click(lambda _event, session_id=int(row.id): self.end_session(session_id))
        return pn.Row(info, end, sizing_mode="stretch_width")

    def end_session(self, session_id: int) -> None:
        """End one of my other sessions."""
        try:
            ended = self.store.end_session_of(self.login, session_id)
        except CustomerCardError as exc:
            self._sessions_note.object = _note(str(exc), ok=False)
            return
        self._sessions_note.object = _note(_("The session has ended.") if ended else _("It had ended already."),
                                           ok=ended, focus=True)
        self.refresh_sessions()

    def log_out_everywhere(self) -> None:
        """End every session of mine, this one too. Served, this page leaves through /logout, which ends this session
        and says "You are logged out" (ended here first, the page's connection could close before it was told to
        leave, and it reopened on a bare login page); should it not get there, this session ends a moment later."""
        served = self.token and getattr(pn.state.curdoc, "session_context", None) is not None
        self.store.end_sessions(self.login, except_token=self.token if served else "")
        self.logged_out = True
        if served:
            later = threading.Timer(LEAVE_SECONDS, self.store.end_session, args=(self.token,),
                                    kwargs={"reason": "logged out everywhere"})
            later.daemon = True
            later.start()

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout
