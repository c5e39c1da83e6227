"""The page around every served view: a light Panel template with the header (user, navigation, log out).

Served, a view is wrapped in the template; in a notebook the same view is returned as it is.
"""

from __future__ import annotations

import functools
import html
import re
from typing import Any

import panel as pn

from .. import formatting
from ..i18n import N_, _, current_language
from ..models import User
from ..validators import isolated
from . import assets
from .accessibility import LIVE_REGIONS, PAGE_SCRIPT, SR_ONLY_CSS, live
from .html import page_heading

APP_CSS = assets.text("app.css")
#: Leaving a page whose card has a form with typing not saved asks first (the browser's "Leave site?").
UNSAVED_SCRIPT = assets.text("unsaved.js")
#: A page whose connection to the server is lost says so, in its reader's language.
CONNECTION_SCRIPT = assets.text("connection.js")

# The accessibility script comes before Bokeh draws anything: it watches each shadow root as it is made.
TEMPLATE = """{% extends base %}
{% block title %}{{ page_title|e }}{% endblock %}
{% block postamble %}<style>
""" + APP_CSS + SR_ONLY_CSS + """</style>
<script>document.documentElement.lang = {{ page_language|tojson }};
window.ccTexts = {{ page_texts|tojson }};
""" + PAGE_SCRIPT + UNSAVED_SCRIPT + CONNECTION_SCRIPT + """</script>{% endblock %}
{% block contents %}
<a class="cc-skip" href="#cc-main">{{ skip_text|e }}</a>
<header class="cc-header" id="cc-header"><nav class="cc-nav">{{ nav_html|safe }}</nav><span class="cc-spacer"></span>
{% if has_search %}<div class="cc-search-slot">{{ embed(roots.search) }}</div>{% endif %}{{ user_html|safe }}</header>
<main class="cc-main" id="cc-main" tabindex="-1">{{ embed(roots.main) }}</main>
""" + LIVE_REGIONS + """
{% if has_location %}{{ embed(roots.location) }}
<script>/* the page writes its state into the address (Panel's location pushes it): Back and Forward between such
addresses change only the address, so the page is drawn again from it (as a bookmark of it would be) — but not for a
move within the page (the skip link's #cc-main), which changes no more than the part after # */
(() => {
  const address = () => window.location.pathname + window.location.search;
  let shown = address();
  for (const name of ["pushState", "replaceState"]) {
    const original = window.history[name];
    window.history[name] = function (...args) {
      const done = original.apply(this, args);
      shown = address();
      return done;
    };
  }
  window.addEventListener("popstate", () => { if (address() !== shown) window.location.reload(); });
})();</script>{% endif %}
{% endblock %}"""

NAV = [("/", "home", N_("Home")), ("/search", "customers", N_("Customers")), ("/pipeline", "pipeline", N_("Pipeline")),
       ("/admin", "admin", N_("Administration"))]


class PageTemplate(pn.Template):
    """Our page template. Panel re-renders a template's text repr on every ``add_panel``, which walks every
    parameter of the whole card; nobody reads that repr in served mode, so keep it short."""

    def __repr__(self, depth: int = 0) -> str:
        return f"PageTemplate({', '.join(self._render_items)})"


@functools.cache
def compiled_template() -> Any:
    """:data:`TEMPLATE` compiled once per process (by Panel's Jinja environment, as a template given as text is): a
    page given the text compiles it again, 2.7 ms of every page's build."""
    return PageTemplate(TEMPLATE).template


#: A notebook served as a page (``serve --notebook``): Panel's own page, given the reader's language for screen
#: readers (Panel's says lang="en") and the accessibility script every page of ours has.
NOTEBOOK_TEMPLATE = """{% extends "base.html" %}
{% block postamble %}<style>""" + SR_ONLY_CSS + """</style>
<script>document.documentElement.lang = {{ page_language|tojson }};
window.ccTexts = {{ page_texts|tojson }};
""" + PAGE_SCRIPT + CONNECTION_SCRIPT + """</script>{% endblock %}"""


def give_notebook_page(doc: Any) -> None:
    """Make the served notebook's document a page of ours (see :data:`NOTEBOOK_TEMPLATE`), in the session's
    language."""
    from panel.io.resources import _env

    doc.template = _env.from_string(NOTEBOOK_TEMPLATE)
    doc.template_variables.update(page_language=page_language(), page_texts=page_texts())


def page_texts() -> dict[str, Any]:
    """The words the page's script puts where Bokeh's widgets bring their own English (a multi-choice's remove
    buttons and its notices, a date picker's calendar) or nothing (a lost connection), in the reader's language."""
    calendar = {**formatting.calendar(), "yearAriaLabel": _("Year"), "monthAriaLabel": _("Month"),
                "hourAriaLabel": _("Hour"), "minuteAriaLabel": _("Minute"), "toggleTitle": _("Click to toggle"),
                "scrollTitle": _("Scroll to change"), "weekAbbreviation": _("Wk"), "time_24hr": True}
    return {"remove": _("Remove {value}"), "no_results": _("No matches"),
            "no_choices": _("Nothing more to choose"), "calendar": calendar,
            "file_too_big": _("{name} is {size}: a file may be at most {limit}. Nothing was sent."),
            "files_too_big": _("The files chosen are {size} together: upload at most {limit} at a time. Nothing was "
                               "sent."),
            "files_sending": _("Sending {names} ({size}) to the server…"),
            "connection_lost": _("The connection to the server was lost: nothing more can be saved from this page. "
                                 "What you typed is still here — copy it before you reload.")}


def nav_html(user: User | None, active: str, pages: set[str]) -> str:
    links = ['<a class="cc-brand" href="/search">customercard</a>']
    for href, key, label in NAV:
        if key not in pages or (key == "admin" and not (user and user.is_admin)):
            continue
        css = ' class="active"' if key == active else ""
        links.append(f'<a href="{href}"{css}>{html.escape(_(label))}</a>')
    return " ".join(links)


def user_html(user: User | None) -> str:
    if user is None:
        return ""
    return (f'<span class="cc-user" id="cc-user"><a href="/profile" id="cc-profile-link" '
            f'title="{html.escape(_("My profile"))}"><b>{html.escape(user.name)}</b></a> · '
            f'{html.escape(_(user.role))} · <a href="/logout" id="cc-logout">{html.escape(_("Log out"))}</a></span>')


def page_language() -> str:
    """The page's language as a BCP 47 tag for ``<html lang>`` (``sv_SE`` → ``sv-SE``): screen readers speak it."""
    return re.sub(r"[^A-Za-z0-9-]", "", current_language().replace("_", "-")) or "en"


def is_served() -> bool:
    """Whether this code runs for a served session (``pn.state.served`` only knows ``panel serve`` scripts)."""
    doc = pn.state.curdoc
    return bool(doc is not None and doc.session_context is not None)


def served_base_url() -> str | None:
    """The address this served session reached the server at (``https://crm.firm.se``), None outside one: links
    sent from it (e-mails) point where the sender is, not at a configured or default port."""
    if not is_served():
        return None
    request = pn.state.curdoc.session_context.request
    host = (getattr(request, "headers", None) or {}).get("Host") or getattr(request, "host", "")
    protocol = getattr(request, "protocol", "http") or "http"
    return f"{protocol}://{host}" if host else None


def page(title: str, body: pn.viewable.Viewable, user: User | None, active: str = "",
         search: pn.viewable.Viewable | None = None, pages: frozenset[str] = frozenset({"home", "customers"}),
         location: bool = False):
    """The served page: our template with header and ``body``; ``body`` itself outside a server.

    ``location``: whether the page changes its URL (``pn.state.location``) from the server.
    """
    if not is_served():
        return body
    template = PageTemplate(compiled_template(), location=location)
    template.add_variable("has_location", location)
    template.add_variable("page_title", f"{isolated(title)} · customercard")  # (a name with U+202E: kept to itself)
    template.add_variable("page_language", page_language())  # Panel's base template says lang="en"
    template.add_variable("page_texts", page_texts())
    template.add_variable("skip_text", _("Skip to the content"))
    # The header is plain HTML in the page (escaped by nav_html/user_html), not Bokeh models: nothing in it
    # changes during a session, and a Panel HTML pane would also make every page load MathJax (1.8 MB).
    template.add_variable("nav_html", nav_html(user, active, set(pages)))
    template.add_variable("user_html", user_html(user))
    template.add_variable("has_search", search is not None)
    if search is not None:
        template.add_panel("search", search)
    template.add_panel("main", body)
    return template


def session_ended_message() -> pn.pane.HTML:
    """What an open page shows once its login session has ended."""
    title = _("You are logged out")
    text = html.escape(_("This session has ended (logged out, a new password, or from another window). Log in again "
                         "to go on."))
    # said at once: the page's content just went away under the user
    return pn.pane.HTML(f'<div class="cc-message cc-error" id="cc-session-ended"{live(ok=False)}>'
                        f'{page_heading(title)}<p>{text}</p><p><a href="/login">{html.escape(_("Log in"))}</a></p>'
                        '</div>', sizing_mode="stretch_width")


def message_page(title: str, text: str, user: User | None, status: str = "info", http_status: int = 200,
                 pages: frozenset[str] = frozenset({"home", "customers"}), search: pn.viewable.Viewable | None = None):
    """A page that only says something (not found, not allowed); served with ``http_status`` (403 for a refusal:
    the server's page handler answers with it, see :mod:`customercard.server`), its menu naming ``pages`` and its
    header holding ``search`` as every other page's does."""
    body = pn.pane.HTML(f'<div class="cc-message cc-{status}" id="cc-message">{page_heading(title)}'
                        f'<p>{html.escape(text)}</p><p><a href="/search">{html.escape(_("Back to the customers"))}'
                        f'</a></p></div>', sizing_mode="stretch_width")
    served = page(title, body, user, pages=pages, search=search)  # the header's super search, as on every page
    if served is not body:
        served.add_variable("http_status", int(http_status))
    return served
