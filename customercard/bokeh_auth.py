"""Auth module for ``panel serve --auth-module``: the same login as ``customercard serve``.

    panel serve dashboards/*.py --auth-module customercard/bokeh_auth.py --cookie-secret "$(customercard cookie-secret)"

Bokeh loads this file by path, so it imports the package absolutely. The login is that of this process's server
(:func:`customercard.app.process_server`), which the dashboards' pages are served by too.
"""

from customercard.app import process_server
from customercard.login import LOGIN_URL, LOGOUT_URL

_provider = process_server().auth_provider()

get_user = _provider.get_user
login_url = LOGIN_URL
LoginHandler = _provider.login_handler
logout_url = LOGOUT_URL
LogoutHandler = _provider.logout_handler

__all__ = ["LoginHandler", "LogoutHandler", "get_user", "login_url", "logout_url"]
