"""The login for served mode: our own Tornado handlers checking the hashed passwords in the users table.

Panel's ``--basic-auth`` keeps plain-text passwords; instead this provider validates against
:meth:`Store.authenticate` and sets the same signed ``user`` cookie Panel reads for ``pn.state.user``.
A cookie of a user who has since been deactivated no longer lets anyone in.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from panel.auth import BasicAuthProvider, BasicLoginHandler
from panel.config import config as panel_config
from tornado.web import RequestHandler

from .store import Store

LOGIN_URL = "/login"
LOGOUT_URL = "/logout"
COOKIES = ("user", "id_token", "access_token", "refresh_token", "oauth_expiry", "is_guest", "next_url")

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Log in · customercard</title>
<style>
 body {{ margin:0; font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; background:#f3f5f8; color:#1d2733; }}
 .wrap {{ min-height:100vh; display:flex; align-items:center; justify-content:center; }}
 form {{ background:#fff; border:1px solid #dde3ea; border-radius:10px; padding:2.2em 2.4em; width:320px;
        box-shadow:0 4px 18px rgba(20,40,70,.08); }}
 h1 {{ font-size:1.35em; margin:0 0 .2em; }} p.sub {{ margin:0 0 1.4em; color:#5b6b7d; font-size:.92em; }}
 label {{ display:block; font-size:.85em; font-weight:600; margin:.9em 0 .3em; }}
 input {{ width:100%; box-sizing:border-box; padding:.65em .7em; border:1px solid #c8d1dc; border-radius:6px;
         font-size:1em; }}
 input:focus {{ outline:2px solid #2f6fb3; border-color:#2f6fb3; }}
 button {{ margin-top:1.5em; width:100%; padding:.75em; border:0; border-radius:6px; background:#2f6fb3;
          color:#fff; font-size:1em; font-weight:600; cursor:pointer; }}
 button:hover {{ background:#255d97; }}
 .msg {{ margin:0 0 1em; padding:.6em .8em; border-radius:6px; font-size:.9em; }}
 .error {{ background:#fdecec; color:#9b1c1c; }} .info {{ background:#eaf3fb; color:#1f4f7a; }}
</style></head>
<body><div class="wrap"><form method="post" action="{action}" id="login-form">
<h1>customercard</h1><p class="sub">Log in to see your customers.</p>
{message}
<label for="username">Login</label>
<input id="username" name="username" autocomplete="username" autofocus required value="{username}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<input type="hidden" name="next" value="{next}">
<button type="submit" id="login-button">Log in</button>
</form></div></body></html>"""


def safe_next(url: str | None) -> str:
    """Only a path on this server may follow a login (no open redirects)."""
    if not url:
        return "/"
    parsed = urlparse(url)
    if parsed.scheme or parsed.netloc or not url.startswith("/") or url.startswith("//") or "\\" in url:
        return "/"
    return url


StoreGetter = Callable[[], Store]


def _login_handler(get_store: StoreGetter) -> type[RequestHandler]:
    class StoreLoginHandler(BasicLoginHandler):
        """GET shows the form; POST checks the password hash and sets the signed login cookie."""

        def get(self) -> None:
            message = ""
            if self.get_argument("error", ""):
                message = '<p class="msg error" id="login-error">Wrong login or password.</p>'
            elif self.get_argument("logged_out", ""):
                message = '<p class="msg info">You are logged out.</p>'
            self._render(message, "")

        def _render(self, message: str, username: str) -> None:
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.set_header("X-Frame-Options", "DENY")
            self.write(_PAGE.format(action=html.escape(LOGIN_URL), message=message,
                                    username=html.escape(username),
                                    next=html.escape(safe_next(self.get_argument("next", "/")))))

        def post(self) -> None:
            username = self.get_argument("username", "").strip().lower()
            password = self.get_argument("password", "")
            user = get_store().authenticate(username, password)
            next_url = safe_next(self.get_argument("next", "/"))
            if user is None:
                self.redirect(f"{LOGIN_URL}?error=1&next={quote(next_url, safe='')}")
                return
            self.set_current_user(user.login)
            self.redirect(next_url)

        def check_xsrf_cookie(self) -> None:  # the form carries no token; the login itself is the secret
            return None

    return StoreLoginHandler


class LogoutHandler(RequestHandler):
    """Clear the login cookies and go back to the login page."""

    def get(self) -> None:
        for name in COOKIES:
            self.clear_cookie(name, path=panel_config.cookie_path)
        self.redirect(f"{LOGIN_URL}?logged_out=1")


class StoreAuthProvider(BasicAuthProvider):
    """Bokeh/Panel auth provider backed by the users table."""

    def __init__(self, get_store: StoreGetter) -> None:
        """``get_store`` gives this process's store (opened after a fork when serving several processes)."""
        self.get_store = get_store
        super().__init__(login_endpoint=LOGIN_URL, logout_endpoint=LOGOUT_URL)

    @property
    def get_user(self):
        inner = super().get_user

        def get_user(request_handler: Any) -> str | None:
            login = inner(request_handler)
            if not login or login == "guest":
                return None
            found = self.get_store()._users_by_login().get(login)
            if found is None or not found["active"]:
                return None
            return login
        return get_user

    @property
    def login_handler(self) -> type[RequestHandler]:
        return _login_handler(self.get_store)

    @property
    def logout_handler(self) -> type[RequestHandler]:
        return LogoutHandler


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
