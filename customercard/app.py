"""The served app: pages, login, roles; the template only when served.

Pages are functions (a fresh view per session, never objects shared between users). The store is one
object per process, set by :func:`make_server`/:func:`serve`; each thread uses its own cursor.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time

import panel as pn

from .config import get_config
from .errors import NotFound
from .i18n import _, negotiate, ngettext, set_session_language
from .login import SessionGate, StoreAuthProvider, cookie_secret, token_from_cookies
from .models import User
from .store import Store

log = logging.getLogger(__name__)

_STORE: Store | None = None
_DATABASE: str | None = None
_DELIVER = False
_WORKER: object | None = None
_GATE: SessionGate | None = None


def current_store() -> Store:
    """This process's store: the one the server was made with, else the database it was told about (or the
    configured one), opened on first use — after the fork when serving several processes."""
    global _STORE, _WORKER
    if _STORE is None:
        from .store import open_store

        _STORE = open_store(_DATABASE)
        _release_when_idle(_STORE)
    if _DELIVER and _WORKER is None:
        from .integration import OutboxWorker

        _WORKER = OutboxWorker(_STORE).start()  # with PostgreSQL, one process at a time delivers
    return _STORE


def _release_when_idle(store: Store) -> None:
    """Give the store's cached blocks back when no session is open (see memory.release), and keep what searches
    read in memory: held now, and again after each release that dropped something."""
    from .memory import when_idle

    def release() -> float:
        freed = store.db.release_memory()
        if freed:
            _hold_search(store)
        return freed

    when_idle("store", release)
    _hold_search(store)


def _hold_search(store: Store) -> None:
    """Read what searches read into memory on a thread of its own (CUSTOMERCARD_SEARCH_IN_MEMORY=no: never)."""
    if not get_config().search_in_memory:
        return

    def hold() -> None:
        started = time.perf_counter()
        try:
            held = store.hold_search_in_memory()
        except Exception as exc:  # the store closed meanwhile (its read is interrupted), or the database failed
            log.debug("Not holding the search index in memory: %s", exc)
            return
        if held:
            log.info("Search index held in memory: %.0f MB, read in %.1f s", held, time.perf_counter() - started)

    threading.Thread(target=hold, name="customercard-hold-search", daemon=True).start()


def session_user() -> User | None:
    """The logged-in user of this session (None outside a served session)."""
    login = pn.state.user
    if not login:
        return None
    try:
        return current_store().get_user(login)
    except NotFound:
        return None


def session_language(user: User | None = None) -> str:
    """The language of this served session: the user's choice on their profile, else the browser's
    ``Accept-Language`` (English, Swedish or Danish), else the firm's language."""
    if user is not None and user.language:
        return user.language
    headers = pn.state.headers or {}
    accept = headers.get("Accept-Language", "") if hasattr(headers, "get") else ""
    return negotiate(accept if isinstance(accept, str) else ",".join(accept), current_store().settings().language)


def session_gate() -> SessionGate:
    """The server's gate (timeouts, trusted proxies); the configured one outside a server made here."""
    return _GATE or SessionGate.from_config(current_store)


def session_token() -> str:
    """The token of this served session's login session ('' outside one)."""
    return token_from_cookies(pn.state.cookies or {})


def query_args() -> dict[str, list[str]]:
    """The page URL's query arguments, decoded."""
    return {key: [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values]
            for key, values in (pn.state.session_args or {}).items()}


def _query(name: str) -> str:
    return (query_args().get(name) or [""])[0]


def _location() -> pn.io.location.Location | None:
    """The session's URL as Panel keeps it, or None when Panel cannot read it (it takes '²' for a number and
    fails): such a page does not change its URL."""
    try:
        return pn.state.location
    except ValueError:
        return None


def _query_int(name: str) -> int | None:
    """A whole number from the URL (ASCII digits, at most 18 of them: an id), else None."""
    text = _query(name).strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


# -- pages ---------------------------------------------------------------------------------------------------
def _login_required():
    from .ui.shell import message_page

    return message_page(_("Please log in"), _("This page needs a login: serve it with `customercard serve`."), None,
                        status="error")


def page_for(title: str, body, user: User, active: str = "customers", location: bool = False):
    """Wrap a view in the served page, with the super search in the header. The page stops showing anything once
    its login session ends (logged out elsewhere, a new password, deactivated): it says so instead."""
    from .ui.search_box import SuperSearch
    from .ui.shell import page, session_ended_message

    store = current_store()
    content = pn.Column(body, sizing_mode="stretch_width", margin=0)
    session_id = store.session_id(session_token())
    if session_id is not None:
        from .ui.live import Follower

        def ended(_changes) -> None:
            content.objects = [session_ended_message()]
        content.follower = Follower(store, lambda change: change.kind == "session" and change.id == session_id,
                                    ended, delay=0.0)
    pages = PAGES if store.settings().crm_enabled else PAGES - {"pipeline"}
    return page(title, content, user, active=active, search=SuperSearch(store), pages=pages, location=location)


def search_page():
    from urllib.parse import urlencode

    from .ui.customer_list import CustomerList

    user = session_user()
    if user is None:
        return _login_required()
    store = current_store()
    view = CustomerList.from_url(store, urlencode(query_args(), doseq=True))
    location = _location()
    if location is not None:
        view.param.watch(lambda event: setattr(location, "search", f"?{event.new}" if event.new else ""), "url")
    body = view
    if store.can(user.login, "write"):
        new = pn.pane.HTML(f'<a class="cc-new-customer" href="/new">{_("+ New customer")}</a>', margin=(0, 10),
                           stylesheets=[":host a { font-weight: 600; color: #1f5c99; text-decoration: none }"])
        body = pn.Column(new, view, sizing_mode="stretch_width")
    return page_for(_("Customers"), body, user, location=location is not None)


def card_page():
    from .ui.card import CustomerCard
    from .ui.shell import message_page

    user = session_user()
    if user is None:
        return _login_required()
    customer_id = _query_int("customer")
    store = current_store()
    if customer_id is None or not store.customer_exists(customer_id):
        return message_page(_("No such customer"), _("There is no customer with that number in the link."), user,
                            status="error")
    card = CustomerCard(store=store, customer_id=customer_id, user=user.login)
    return page_for(card.customer.name, card, user)


def new_customer_page():
    from .ui.new_customer import NewCustomer
    from .ui.shell import message_page

    user = session_user()
    if user is None:
        return _login_required()
    store = current_store()
    if not store.can(user.login, "write"):
        return message_page(_("Not allowed"), _("Only managers and administrators create customers."), user,
                            status="error")
    view = NewCustomer(store=store, user=user.login)
    location = _location()

    def open_card(event) -> None:
        if event.new is not None and location is not None:
            location.reload = True
            location.param.update(pathname="/card", search=f"?customer={event.new.id}")
    view.param.watch(open_card, "created")
    return page_for(_("New customer"), view, user, location=location is not None)


def admin_page():
    from .ui.admin import AdminPage
    from .ui.shell import message_page

    user = session_user()
    if user is None:
        return _login_required()
    if not user.is_admin:
        return message_page(_("Not allowed"), _("System administration is for administrators only."), user,
                            status="error")
    return page_for(_("Administration"), AdminPage(current_store(), user.login), user, active="admin")


def pipeline_page():
    from .ui.pipeline import PipelinePage
    from .ui.shell import message_page

    user = session_user()
    if user is None:
        return _login_required()
    if not current_store().settings().crm_enabled:
        return message_page(_("No such page"), _("The CRM module is switched off (System administration → "
                                                 "Customers → Settings)."), user, status="error")
    return page_for(_("Pipeline"), PipelinePage(store=current_store(), user=user.login), user, active="pipeline")


def contact_page():
    from .ui.contact import ContactCard
    from .ui.shell import message_page

    user = session_user()
    if user is None:
        return _login_required()
    contact_id = _query_int("contact")
    store = current_store()
    try:
        view = ContactCard(store=store, contact_id=contact_id, user=user.login)
    except (NotFound, TypeError, ValueError):
        return message_page(_("No such contact person"), _("There is no contact person with that number."), user,
                            status="error")
    return page_for(view.contact.full_name, view, user)


def project_page():
    from .ui.project import ProjectPage
    from .ui.shell import message_page

    user = session_user()
    if user is None or not user.projects_access:
        return message_page(_("Not allowed"), _("You do not have access to projects."), user, status="error")
    project_id = _query_int("project")
    try:
        view = ProjectPage(store=current_store(), project_id=project_id)
    except (NotFound, TypeError, ValueError):
        return message_page(_("No such project"), _("There is no project with that number."), user, status="error")
    return page_for(view.project.name, view, user)


def profile_page():
    """My profile: name, login and role, my password, my active sessions."""
    from .ui.profile import ProfilePage

    user = session_user()
    if user is None:
        return _login_required()
    gate = session_gate()
    view = ProfilePage(current_store(), user.login, token=session_token(), idle=gate.idle, lifetime=gate.lifetime)
    location = pn.state.location

    def leave(_event) -> None:  # every session ended, this one too: out through /logout, which clears the cookies
        if location is not None:
            location.reload = True
            location.param.update(pathname="/logout", search="")
    view.param.watch(leave, "logged_out")
    return page_for(_("My profile"), view, user, active="profile", location=True)


PAGES = frozenset({"customers", "pipeline", "admin"})

ROUTES = {
    "/": search_page,
    "/search": search_page,
    "/card": card_page,
    "/new": new_customer_page,
    "/admin": admin_page,
    "/pipeline": pipeline_page,
    "/contact": contact_page,
    "/project": project_page,
    "/profile": profile_page,
}


def bare_page():
    """The benchmark's floor: one Markdown pane and one text input, no template (``serve --bench`` only)."""
    return pn.Column(pn.pane.Markdown("# customercard"), pn.widgets.TextInput(placeholder="Type here"))


def _bench_chart(in_card_view: bool):
    """A customer's Invoiced chart alone (``serve --bench`` only): in a plain Panel column, or as the child of
    a one-section :class:`~customercard.ui.components.CardView` as on the card — what the browser component
    itself costs the chart."""
    from .ui.components import CardView, SectionSlot
    from .ui.sections.invoiced import bar_chart, yearly_figures

    if session_user() is None:
        return _login_required()
    store, customer_id = current_store(), _query_int("customer") or 0
    figures = yearly_figures(store.invoiced_per_year(customer_id), dt.date.today().year)
    chart = pn.pane.HoloViews(bar_chart(figures, store.settings().base_currency,
                                        store.pipeline_per_year(customer_id)),
                              backend="bokeh", sizing_mode="stretch_width", css_classes=["cc-invoiced-chart"])
    if in_card_view:
        slot = SectionSlot(key="invoiced", title=_("Invoiced"), child=chart, child_first=True)
        return CardView(slots=[slot], sizing_mode="stretch_width")
    return pn.Column(chart, sizing_mode="stretch_width")


BENCH_ROUTES = {"/bench-bare": bare_page, "/bench-chart": lambda: _bench_chart(False),
                "/bench-chart-view": lambda: _bench_chart(True)}


def _released_after(view):
    """The page function, with this server's memory given back a little after its session ends, and with a plain
    message instead of a traceback when building the page fails (the server's log has the details)."""
    from .memory import release_soon, session_started

    def page_view():
        session_started()
        pn.state.on_session_destroyed(release_soon)
        try:
            set_session_language(session_language(session_user()))  # this page, in its reader's language
            return view()
        except Exception:
            log.exception("Building the page %s failed", getattr(view, "__name__", "page"))
            return _failed_page()
    page_view.__name__ = getattr(view, "__name__", "page")
    return page_view


def _failed_page():
    from .ui.shell import message_page

    try:
        user = session_user()
    except Exception:  # the store itself failed: a page without the header's user
        user = None
    return message_page(_("This page could not be shown"),
                        _("Something went wrong while building this page. Try again; if it keeps happening, tell "
                          "your administrator (the server's log has the details)."), user, status="error")


def _origins(port: int, extra: list[str] | None) -> list[str]:
    return [f"localhost:{port}", f"127.0.0.1:{port}", *(extra or [])]


def make_server(store: Store | None, port: int = 0, address: str = "127.0.0.1", num_procs: int = 1,
                allow_websocket_origin: list[str] | None = None, show: bool = False, start: bool = False,
                threaded: bool = False, bench: bool = False, database: str | None = None,
                secret: str | None = None):
    """Build the Panel/Bokeh server with the login in front of every page.

    ``store`` is this process's store; with several processes it is None and each opens ``database`` itself.
    """
    global _STORE, _DATABASE, _GATE
    _STORE, _DATABASE = store, database
    if store is not None:
        _release_when_idle(store)
    config = get_config()
    _GATE = gate = SessionGate.from_config(current_store, config)
    pn.extension(notifications=True)
    pn.config.throttled = True
    routes = {path: _released_after(view) for path, view in {**ROUTES, **(BENCH_ROUTES if bench else {})}.items()}
    from .api import CustomerApiHandler
    from .downloads import FileDownloadHandler
    from .headers import server_options

    return pn.serve(
        routes, port=port, address=address, show=show, start=start, threaded=threaded,
        websocket_origin=_origins(port, allow_websocket_origin),
        cookie_secret=secret or cookie_secret(config.data_path, config.cookie_secret, store),
        auth_provider=StoreAuthProvider(current_store, gate), num_procs=num_procs, verbose=False,
        extra_patterns=[(r"/files/(\d+)", FileDownloadHandler,
                         {"get_store": current_store, "login_of": gate.login_of}),
                        (r"/api/customers/(\d+)", CustomerApiHandler,
                         {"get_store": current_store, "login_of": gate.login_of})],
        **server_options(),
    )


def serve(store: Store, port: int = 5006, address: str = "127.0.0.1", num_procs: int = 1,
          allow_websocket_origin: list[str] | None = None, show: bool = False, bench: bool = False) -> None:
    """Serve until interrupted (``customercard serve``); several processes only with PostgreSQL."""
    global _DELIVER, _STORE
    from .errors import CustomerCardError

    if num_procs != 1 and store.db.dialect == "duckdb":
        raise CustomerCardError(_("Several server processes need PostgreSQL: a DuckDB file can be written by one "
                                  "process only. Serve with --num-procs 1, or move to PostgreSQL with `customercard "
                                  "migrate`."))
    _DELIVER = True  # deliver changes of linked customers to the economy system, when configured
    host = "localhost" if address in ("127.0.0.1", "") else address
    processes = (ngettext("Serving customercard on {url} with {n} process (Ctrl+C stops)",
                          "Serving customercard on {url} with {n} processes (Ctrl+C stops)", num_procs)
                 if num_procs > 0 else _("Serving customercard on {url} with one process per core (Ctrl+C stops)"))
    print(processes.format(url=f"http://{host}:{port}", n=num_procs), flush=True)
    if num_procs == 1:
        _STORE = store
        current_store()  # starts the delivery worker now
        make_server(store, port=port, address=address, allow_websocket_origin=allow_websocket_origin,
                    show=show, start=True, bench=bench)
        return
    config = get_config()
    secret = cookie_secret(config.data_path, config.cookie_secret, store)
    database = store.location
    store.close()  # each forked process opens its own connections
    make_server(None, port=port, address=address, num_procs=num_procs, allow_websocket_origin=allow_websocket_origin,
                show=show, start=True, bench=bench, database=database, secret=secret)
