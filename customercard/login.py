"""The login for served mode: our own Tornado handlers, server-side sessions and the cookies that carry them.

Panel reads ``pn.state.user`` from the signed ``user`` cookie, so that cookie stays; a second signed cookie,
``cc_session``, carries the token of a session row (:mod:`customercard.store.sessions`). :class:`SessionGate`
lets a request in only while that row is live and belongs to the login of the ``user`` cookie — every page, the
websocket, ``/api/…`` and ``/files/…`` ask it. Logging out ends the row and clears both cookies.

Cookies are ``HttpOnly`` and ``SameSite=Lax``, and ``Secure`` when the request came over https — directly, or
through a trusted proxy's ``X-Forwarded-Proto``. The login form carries Tornado's xsrf token, and a post whose
``Origin`` (else ``Referer``) is another site is refused. ``next`` is only ever a path on this server.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import html
import ipaddress
import logging
import re
import secrets
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from bokeh.server.util import check_allowlist
from bokeh.settings import settings as bokeh_settings
from panel.auth import BasicAuthProvider, BasicLoginHandler
from panel.config import config as panel_config
from panel.io.state import state as panel_state
from tornado.web import HTTPError, RequestHandler, decode_signed_value
from tornado.websocket import WebSocketHandler

from .background import Rounds
from .config import Config, get_config
from .i18n import N_, SOURCE_LANGUAGE, _, current_language, negotiate, ngettext, using_language
from .store import Store
from .store.sessions import DEFAULT_IDLE, DEFAULT_LIFETIME
from .ui import assets

log = logging.getLogger(__name__)

LOGIN_URL = "/login"
LOGOUT_URL = "/logout"
SESSION_COOKIE = "cc_session"
COOKIES = ("user", SESSION_COOKIE, "id_token", "access_token", "refresh_token", "oauth_expiry", "is_guest",
           "next_url")
#: Characters a ``next`` path keeps as they are; anything else (spaces, letters beyond ASCII) is percent-encoded.
_PATH_SAFE = "/?&=%#:;@!$'()*+,~-._[]"
#: The ASCII control characters (below space, and DEL): a ``next`` path with one is refused.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
#: The longest wait (seconds) the login page tells of; a larger ``wait`` in a made-up address is not shown.
_LONGEST_WAIT = 100_000

_PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · customercard</title>
<style>
{style}</style></head>
<body><main class="wrap">{body}</main></body></html>"""

_FORM = """<form method="post" action="{action}" id="login-form">
<h1>customercard</h1><p class="sub">{intro}</p>
<div role="alert">{message}</div>
<label for="username">{login}</label>
<input id="username" name="username" autocomplete="username" autofocus required value="{username}">
<label for="password">{password}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
{xsrf}
<button type="submit" id="login-button">{button}</button>
</form>"""

_REFUSED = """<div class="box" id="login-refused"><h1>customercard</h1>
<p class="msg error">{refused}</p><p>{again}</p></div>"""


def login_language(handler: RequestHandler, get_store: Callable[[], Store]) -> str:
    """The language of a page the server answers itself (the login, "No such page"…): the logged-in reader's
    choice on their profile, else the browser's ``Accept-Language`` (English, Swedish or Danish), else the firm's
    language."""
    try:
        login_of = getattr(handler, "login_of", None) or _SERVED.get("login_of")
        login = login_of(handler) if login_of is not None else None
        chosen = get_store().get_user(login).language if login else None
        if chosen:
            return chosen
    except Exception:  # who it is cannot be read: the browser's or the firm's language
        log.debug("The reader's language could not be read", exc_info=True)
    try:
        firm = get_store().settings().language
    except Exception:  # the store cannot be read: the page is shown all the same
        firm = SOURCE_LANGUAGE
    return negotiate(handler.request.headers.get("Accept-Language", ""), firm)


_NOT_FOUND = """<div class="box" id="not-found"><h1>{title}</h1><p>{text}</p>
<p><a href="/search">{back}</a></p></div>"""


class NotFoundHandler(RequestHandler):
    """Any address that no page or handler answers: a page saying so in the reader's language, with a way back
    (Tornado's own said "404: Not Found" in English, without a language for screen readers or a heading)."""

    def initialize(self, get_store: Callable[[], Store]) -> None:
        self.get_store = get_store

    def prepare(self) -> None:  # whatever the method
        answer_with_page(self, self.get_store, 404, N_("No such page"), N_("There is no page at this address."))


#: The error pages answered as the product's own (title, text: source texts), whatever handler meets them.
ERROR_PAGES = {400: (N_("Not understood"), N_("The request could not be read. Go back and try again.")),
               404: (N_("No such page"), N_("There is no page at this address.")),
               405: (N_("Not allowed"), N_("This address is not sent to that way: open it from its link."))}

#: Where a handler that has no store of its own (Bokeh's page handlers) finds the firm's language: the running
#: server's store (set as it starts).
_SERVED: dict[str, Callable[..., Any]] = {}


def serve_error_pages(get_store: Callable[[], Store],
                      login_of: Callable[[RequestHandler], str | None] | None = None) -> None:
    """Answer :data:`ERROR_PAGES` as the product's pages on the pages' handlers too (Bokeh's and Panel's document
    handlers: a POST to /search was Tornado's bare English "405: Method Not Allowed", with no language for screen
    readers). ``get_store``: the running server's, for the firm's language; ``login_of``: who a request is from
    (a logged-in reader's pages are in the language of their profile)."""
    from bokeh.server.views.doc_handler import DocHandler

    _SERVED["get_store"] = get_store
    if login_of is not None:
        _SERVED["login_of"] = login_of
    DocHandler.write_error = page_write_error


def page_write_error(handler: RequestHandler, status_code: int, **kwargs: Any) -> None:
    """``write_error`` for a Tornado handler: :data:`ERROR_PAGES` as the product's page in the reader's language (a
    405 saying what the handler does take, ``Allow``), any other status as Tornado says it."""
    texts = ERROR_PAGES.get(status_code)
    get_store = getattr(handler, "get_store", None) or getattr(getattr(handler, "gate", None), "get_store", None) \
        or _SERVED.get("get_store")
    if texts is None or get_store is None or handler._finished:
        RequestHandler.write_error(handler, status_code, **kwargs)
        return
    if status_code == HTTPStatus.METHOD_NOT_ALLOWED:  # the methods this handler answers (a login form's: POST too)
        handler.set_header("Allow", ", ".join(
            method for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
            if getattr(type(handler), method.lower()) is not getattr(RequestHandler, method.lower())))
    answer_with_page(handler, get_store, status_code, *texts)


def answer_with_page(handler: RequestHandler, get_store: Callable[[], Store], status: int, title: str,
                     text: str) -> None:
    """Finish ``handler``'s request with ``status`` and a page saying ``title`` and ``text`` (source texts, said in
    the reader's language), with a way back to the customers."""
    with using_language(login_language(handler, get_store)):
        body = _NOT_FOUND.format(title=html.escape(_(title)), text=html.escape(_(text)),
                                 back=html.escape(_("Back to the customers")))
        handler.set_status(status)
        handler.set_header("Content-Type", "text/html; charset=utf-8")
        handler.finish(_page(body, _(title)))


def _page(body: str, title: str) -> str:
    return _PAGE.format(lang=html.escape(current_language()), title=html.escape(title), style=assets.text("login.css"),
                        body=body)


def safe_next(url: str | None) -> str:
    """Only a path on this server may follow a login (no open redirects, no header injection): anything with a
    control character, a scheme or a host (``//host``, ``/\\host``) becomes ``/``; the rest is percent-encoded."""
    if not url or _CONTROL.search(url):
        return "/"
    if not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return "/"
    return quote(url, safe=_PATH_SAFE)


StoreGetter = Callable[[], Store]
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
#: How often (seconds) the server ends the sessions that lapsed, telling their open pages.
SWEEP_EVERY = 10.0


class SessionSweeper(Rounds):
    """Ends the sessions that lapsed (unused for longer than the gate's idle time, or too old) every
    :attr:`interval` seconds, so that a page left open hears it and stops showing anything (see
    :meth:`~customercard.store.Store.end_lapsed_sessions`); a page in use keeps its session alive
    (:meth:`SessionGate.in_use`)."""

    thread_name = "customercard-sessions"
    failure = "Ending lapsed sessions failed"

    def __init__(self, gate: SessionGate, interval: float = SWEEP_EVERY) -> None:
        super().__init__(interval)
        self.gate = gate

    def run_once(self) -> int:
        store = self.gate.get_store()
        try:
            return store.end_lapsed_sessions(idle=self.gate.idle, lifetime=self.gate.lifetime)
        except Exception:
            if store.db.closed:  # the store was closed before its server was stopped: nothing more to look at
                self._stop.set()
                return 0
            raise


class SessionGate:
    """Who a request belongs to (a live session row behind the signed cookies), where it came from and whether
    over https (believing ``X-Forwarded-*`` headers from trusted proxies only), and the cookies' attributes."""

    def __init__(self, get_store: StoreGetter, idle: dt.timedelta = DEFAULT_IDLE,
                 lifetime: dt.timedelta = DEFAULT_LIFETIME, trusted_proxies: list[Network] | None = None) -> None:
        self.get_store = get_store
        self.idle, self.lifetime = idle, lifetime
        self.trusted_proxies = list(trusted_proxies if trusted_proxies is not None else
                                    [ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1")])

    @classmethod
    def from_config(cls, get_store: StoreGetter, config: Config | None = None) -> SessionGate:
        """The gate with the timeouts and trusted proxies of ``CUSTOMERCARD_*`` (see :mod:`customercard.config`)."""
        config = config or get_config()
        return cls(get_store, idle=dt.timedelta(minutes=config.session_idle_minutes),
                   lifetime=dt.timedelta(hours=config.session_max_hours), trusted_proxies=config.trusted_networks)

    @property
    def cookie_days(self) -> float:
        return self.lifetime / dt.timedelta(days=1)

    def token_of(self, handler: RequestHandler) -> str:
        """The session token of the request's signed session cookie ('' without one)."""
        raw = handler.get_signed_cookie(SESSION_COOKIE, max_age_days=self.cookie_days + 1)
        return raw.decode("utf-8") if raw else ""

    def login_of(self, handler: RequestHandler) -> str | None:
        """The login the request belongs to, or None: the signed ``user`` cookie, backed by a live session
        of that same login (an active user, not ended, not idle too long, not too old)."""
        raw = handler.get_signed_cookie("user", max_age_days=self.cookie_days + 1)
        token = self.token_of(handler)
        if not raw or not token:
            return None
        login = raw.decode("utf-8")
        found = self.get_store().session_login(token, idle=self.idle, lifetime=self.lifetime)
        return login if found == login else None

    def in_use(self, token: str) -> bool:
        """A served page's user did something: the session counts as used now (written at most once a minute);
        False when it has ended or lapsed meanwhile (it is then ended, and its pages told)."""
        return self.get_store().session_login(token, idle=self.idle, lifetime=self.lifetime) is not None

    def trusts(self, address: str) -> bool:
        """Whether ``address`` is one of the trusted proxies."""
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)

    def client_address(self, request: Any) -> str:
        """The browser's address: the peer's, or, from a trusted proxy, the last untrusted ``X-Forwarded-For``."""
        peer = request.remote_ip or ""
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",") if hop.strip()]
        for hop in reversed(hops):
            if not _is_address(hop):
                return peer
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer

    def is_https(self, request: Any) -> bool:
        """Whether the browser used https: to us directly, or to a trusted proxy that says so."""
        if request.protocol == "https":
            return True
        forwarded = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower()
        return forwarded == "https" and self.trusts(request.remote_ip or "")

    def cookie_options(self, request: Any) -> dict[str, Any]:
        """``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came over https."""
        return {"httponly": True, "samesite": "Lax", "secure": self.is_https(request)}


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def asked_here(handler: RequestHandler) -> bool:
    """Whether a request came from this server's own pages (or was typed): the browser's ``Sec-Fetch-Site`` says
    so when it sends one, else its ``Origin`` or ``Referer`` (:func:`from_this_site`)."""
    site = handler.request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    return from_this_site(handler)


def from_this_site(handler: RequestHandler) -> bool:
    """Whether a post came from this server's own page: its ``Origin`` (else ``Referer``), when sent, names a host
    this server answers to (the request's ``Host`` or a host the websocket accepts)."""
    headers = handler.request.headers
    source = headers.get("Origin", headers.get("Referer"))
    if source is None:
        return True  # not a browser's cross-site post (those send Origin); the form's token still must match
    host = urlsplit(source).netloc.lower()
    if not host:
        return False  # "null": a sandboxed frame, a file, a data: URL
    if host == (handler.request.host or "").lower():
        return True
    allowed = set(bokeh_settings.allowed_ws_origin() or getattr(handler.application, "websocket_origins", set()))
    return check_allowlist(host, allowed)


def token_from_cookies(cookies: dict[str, Any], secret: str | None = None) -> str:
    """The session token in a served session's request cookies (``pn.state.cookies``), '' without one."""
    value = cookies.get(SESSION_COOKIE)
    secret = secret if secret is not None else panel_config.cookie_secret
    if not value or not secret:
        return ""
    decoded = decode_signed_value(secret, SESSION_COOKIE, value)
    return decoded.decode("utf-8") if decoded else ""


class _CookieRules(RequestHandler):
    """Every cookie these handlers set (the login's, the xsrf token's) gets the gate's attributes; their error pages
    are the product's (:func:`page_write_error`)."""

    gate: SessionGate
    write_error = page_write_error

    def set_cookie(self, name: str, value: str | bytes, *args: Any, **kwargs: Any) -> None:
        kwargs.update(self.gate.cookie_options(self.request))
        kwargs.setdefault("path", panel_config.cookie_path)
        super().set_cookie(name, value, *args, **kwargs)


def _login_handler(gate: SessionGate) -> type[RequestHandler]:
    class StoreLoginHandler(_CookieRules, BasicLoginHandler):
        """GET shows the form; POST checks the form's origin and token, then the password behind the throttle,
        and starts a session."""

        def get(self) -> None:
            with using_language(login_language(self, gate.get_store)):
                self._render(self._message(), "")

        def _message(self) -> str:
            lines = []
            if self.get_argument("error", ""):
                lines.append(f'<p class="msg error" id="login-error">{html.escape(_("Wrong login or password."))}</p>')
            wait = self.get_argument("wait", "")
            if wait.isdigit() and 0 < int(wait) < _LONGEST_WAIT:
                text = ngettext("Too many failed logins; try again in {n} second.",
                                "Too many failed logins; try again in {n} seconds.", int(wait)).format(n=int(wait))
                lines.append(f'<p class="msg error" id="login-wait">{html.escape(text)}</p>')
            if not lines and self.get_argument("logged_out", ""):
                lines.append(f'<p class="msg info">{html.escape(_("You are logged out."))}</p>')
            return "\n".join(lines)

        def _page_headers(self) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("X-Frame-Options", "DENY")
            self.set_header("Cache-Control", "no-store")

        def _render(self, message: str, username: str) -> None:
            self._page_headers()
            form = _FORM.format(action=html.escape(LOGIN_URL), message=message, username=html.escape(username),
                                next=html.escape(safe_next(self.get_argument("next", "/"))),
                                xsrf=self.xsrf_form_html(), intro=html.escape(_("Log in to see your customers.")),
                                login=html.escape(_("Login")), password=html.escape(_("Password")),
                                button=html.escape(_("Log in")))
            self.write(_page(form, _("Log in")))

        def _refuse(self) -> None:
            self.set_status(403)
            self._page_headers()
            with using_language(login_language(self, gate.get_store)):
                refused = html.escape(_("This login was sent from another site, or from a login page that is too "
                                        "old, so it was refused and nothing was done."))
                again = _("{link}Open the login page{end} and log in there.").format(
                    link=f'<a href="{html.escape(LOGIN_URL)}">', end="</a>")
                again = again if again.count("<a ") == 1 else html.escape(again)
                self.write(_page(_REFUSED.format(refused=refused, again=again), _("Log in")))

        def _token_matches(self) -> bool:
            try:
                RequestHandler.check_xsrf_cookie(self)  # Tornado's own check (ours below is switched off)
            except HTTPError:
                return False
            return True

        async def post(self) -> None:
            if not from_this_site(self) or not self._token_matches():
                self._refuse()
                return
            next_url = safe_next(self.get_argument("next", "/"))
            attempt = functools.partial(gate.get_store().log_in, self.get_argument("username", ""),
                                        self.get_argument("password", ""), gate.client_address(self.request),
                                        self.request.headers.get("User-Agent", ""))
            result = await asyncio.get_running_loop().run_in_executor(None, attempt)  # scrypt: off the IO loop
            if result.ok:
                self._start(result.user.login, result.token)
                self.redirect(next_url)
                return
            wrong = "" if result.refused else "error=1&"
            wait = f"wait={result.wait_seconds}&" if result.wait_seconds else ""
            self.redirect(f"{LOGIN_URL}?{wrong}{wait}next={quote(next_url, safe='')}")

        def _start(self, login: str, token: str) -> None:
            self.set_current_user(login)  # Panel's user and id_token cookies …
            self.set_signed_cookie("user", login, expires_days=gate.cookie_days)  # … lasting as the session may
            self.set_signed_cookie(SESSION_COOKIE, token, expires_days=gate.cookie_days)

        def check_xsrf_cookie(self) -> None:  # checked in post(), to answer with a page rather than a bare 403
            return None

    StoreLoginHandler.gate = gate
    return StoreLoginHandler


def _logout_handler(gate: SessionGate) -> type[RequestHandler]:
    class LogoutHandler(_CookieRules):
        """End the session, clear the login cookies and go back to the login page."""

        def get(self) -> None:
            if not asked_here(self):  # a link on another site ends nobody's session: it opens the app
                self.redirect("/")
                return
            token = gate.token_of(self)
            if token:
                gate.get_store().end_session(token)
            for name in COOKIES:
                self.clear_cookie(name)
            self.redirect(f"{LOGIN_URL}?logged_out=1")

    LogoutHandler.gate = gate
    return LogoutHandler


class StoreAuthProvider(BasicAuthProvider):
    """Bokeh/Panel auth provider backed by the users and sessions tables."""

    def __init__(self, get_store: StoreGetter, gate: SessionGate | None = None) -> None:
        """``get_store`` gives this process's store (opened after a fork when serving several processes);
        ``gate`` decides who a request is (by default with the configured timeouts and proxies)."""
        self.get_store = get_store
        self.gate = gate or SessionGate.from_config(get_store)
        super().__init__(login_endpoint=LOGIN_URL, logout_endpoint=LOGOUT_URL)

    @property
    def get_user(self) -> Callable[[RequestHandler], str | None]:
        def get_user(request_handler: RequestHandler) -> str | None:
            login = self.gate.login_of(request_handler)
            if login and isinstance(request_handler, WebSocketHandler):
                panel_state._active_users[login] += 1  # as Panel's own provider counts them
            return login
        return get_user

    @property
    def login_handler(self) -> type[RequestHandler]:
        return _login_handler(self.gate)

    @property
    def logout_handler(self) -> type[RequestHandler]:
        return _logout_handler(self.gate)


def cookie_secret(data_dir: Path, configured: str = "", store: Store | None = None) -> str:
    """The configured cookie secret; else, with PostgreSQL, one kept in the database (shared by every server
    process on every machine); else one generated once and kept in the data folder (mode 600)."""
    if configured:
        return configured
    if store is not None and store.db.dialect != "duckdb":
        return store.shared_secret("cookie_secret")
    path = data_dir / "cookie_secret"
    if path.exists():
        secret = path.read_text(encoding="utf-8").strip()
        if secret:
            return secret
    data_dir.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.write_text(secret, encoding="utf-8")
    path.chmod(0o600)
    return secret
