"""The served app: pages, login, roles; the template only when served.

Pages are functions of the server they are served by (a fresh view per session, never objects shared between
users): ``card_page(server)`` takes the store, the login and the settings from its
:class:`~customercard.server.CardServer`. :func:`make_server` and :func:`serve` build that server;
``panel serve dashboards/*.py`` uses :func:`process_server`, one per process, made on first use.
"""

from __future__ import annotations

import functools
import logging

import panel as pn
from panel.viewable import ServableMixin

from . import formatting
from .errors import NotFound
from .i18n import _, ngettext
from .models import User
from .page_kit import login_required, query_args, query_int, query_text, session_location
from .server import CardServer, Page
from .store import Store


@functools.cache
def process_server() -> CardServer:
    """This process's server for ``panel serve dashboards/*.py --auth-module customercard/bokeh_auth.py``: the
    configured database, opened on first use; made once, on first use."""
    return CardServer()



# -- pages ---------------------------------------------------------------------------------------------------
def page_for(server: CardServer, title: str, body: pn.viewable.Viewable, user: User, active: str = "customers",
             location: bool = False) -> ServableMixin:
    """Wrap a view in the served page, with the super search in the header. The page stops showing anything once
    its login session ends (logged out elsewhere, a new password, deactivated): it says so instead."""
    from .ui.search_box import SuperSearch
    from .ui.shell import page, session_ended_message

    store = server.current_store()
    content = pn.Column(body, sizing_mode="stretch_width", margin=0)
    search = SuperSearch(store)
    session_id = store.session_id(server.session_token())
    if session_id is not None:
        from .ui.live import Follower

        def ended(_changes) -> None:
            if search.ended:  # told once (the sweeper's end and a lapse found by the page's own use may both come)
                return
            search.param.update(ended=True, results=[])  # the header's search box answers no more either
            content.objects = [session_ended_message()]
        content.follower = Follower(store, lambda change: change.kind == "session" and change.id == session_id,
                                    ended, delay=0.0)
        server.keep_in_use(server.session_token())
    return page(title, content, user, active=active, search=search, pages=_menu(store), location=location)


def _message(server: CardServer, title: str, text: str, user: User | None, status: str = "info",
             http_status: int = 200) -> ServableMixin:
    """A page that only says something, its menu as the other pages' (Pipeline when the CRM module is on)."""
    from .ui.search_box import SuperSearch
    from .ui.shell import message_page

    store = server.current_store()
    return message_page(title, text, user, status=status, http_status=http_status, pages=_menu(store),
                        search=SuperSearch(store) if user is not None else None)


def _menu(store: Store) -> frozenset[str]:
    """The pages the menu names: Pipeline only while the CRM module is on."""
    return PAGES if store.settings().crm_enabled else PAGES - {"pipeline"}


def search_page(server: CardServer) -> ServableMixin:
    from urllib.parse import urlencode

    from .ui.customer_list import CustomerList

    user = server.session_user()
    if user is None:
        return login_required()
    store = server.current_store()
    token = server.session_token()
    view = CustomerList.from_url(store, urlencode(query_args(), doseq=True), login=user.login,
                                 signed_in=(lambda: server.gate.in_use(token)) if token else None)
    location = session_location()
    if location is not None:
        view.param.watch(lambda event: setattr(location, "search", f"?{event.new}" if event.new else ""), "url")
    body = view
    if store.can(user.login, "write"):
        new = pn.pane.HTML(f'<a class="cc-new-customer" href="/new">{_("+ New customer")}</a>', margin=(0, 10),
                           stylesheets=[":host a { font-weight: 600; color: #1f5c99; text-decoration: none }"])
        body = pn.Column(new, view, sizing_mode="stretch_width")
    return page_for(server, _("Customers"), body, user, location=location is not None)


def home_page(server: CardServer) -> ServableMixin:
    """My customers: follow-ups, others' changes, pipeline, invoicing behind, recent cards (see ui/home.py)."""
    from .ui.home import HomePage

    user = server.session_user()
    if user is None:
        return login_required()
    view = HomePage(store=server.current_store(), user=user)
    return page_for(server, _("My customers") if view.manager else _("Home"), view, user, active="home")


def card_page(server: CardServer) -> ServableMixin:
    from .ui.card import CustomerCard

    user = server.session_user()
    if user is None:
        return login_required()
    customer_id = query_int("customer")
    store = server.current_store()
    if customer_id is None or not store.customer_exists(customer_id):
        return _message(server, _("No such customer"), _("There is no customer with that number in the link."), user,
                        status="error", http_status=404)
    as_of = None
    if query_text("as_of"):
        from .ui.sections.asof import parse_day

        as_of = parse_day(query_text("as_of"), store.firm_today())
        if as_of is None:
            return _message(server, _("No such day"), _("The link asks for the card on a day that is not a date up "
                                                         "to today (write it as 2024-06-30)."), user, status="error",
                            http_status=400)
    try:
        card = CustomerCard(store=store, customer_id=customer_id, user=user.login, as_of=as_of)
    except NotFound as exc:  # the customer did not exist yet on that day
        return _message(server, _("No such customer on that day"), str(exc), user, status="error", http_status=404)
    if as_of is None:  # for "Recently viewed" on the home page: written once the page is served, not before
        pn.state.onload(functools.partial(_remember_card_view, store, user.login, customer_id))
    title = card.customer.name if as_of is None else _("{name} on {day}").format(
        name=card.customer.name, day=formatting.date(as_of))
    return page_for(server, title, card, user)


def _remember_card_view(store: Store, login: str, customer_id: int) -> None:
    try:
        store.record_card_view(login, customer_id)
    except Exception:  # the card is shown all the same
        logging.getLogger(__name__).exception("Could not remember that %s opened a card", login)


def new_customer_page(server: CardServer) -> ServableMixin:
    from .ui.new_customer import NewCustomer

    user = server.session_user()
    if user is None:
        return login_required()
    store = server.current_store()
    if not store.can(user.login, "write"):
        return _message(server, _("Not allowed"), _("Only managers and administrators create customers."), user,
                        status="error", http_status=403)
    view = NewCustomer(store=store, user=user.login)
    location = session_location()

    def open_card(event) -> None:
        if event.new is not None and location is not None:
            location.reload = True
            location.param.update(pathname="/card", search=f"?customer={event.new.id}")
    view.param.watch(open_card, "created")
    return page_for(server, _("New customer"), view, user, location=location is not None)


def admin_page(server: CardServer) -> ServableMixin:
    from .ui.admin import AdminPage

    user = server.session_user()
    if user is None:
        return login_required()
    if not user.is_admin:
        return _message(server, _("Not allowed"), _("System administration is for administrators only."), user,
                        status="error", http_status=403)
    return page_for(server, _("Administration"), AdminPage(server.current_store(), user.login), user, active="admin")


def pipeline_page(server: CardServer) -> ServableMixin:
    from .ui.pipeline import PipelinePage

    user = server.session_user()
    if user is None:
        return login_required()
    if not server.current_store().settings().crm_enabled:
        return _message(server, _("No such page"), _("The CRM module is switched off (System administration → "
                                                      "Customers → Settings)."), user, status="error", http_status=404)
    store = server.current_store()
    logins = set(store.users(include_inactive=True)["login"])
    # /pipeline?manager=anna: the home page's link to a manager's pipeline
    asked = (("account_manager", query_text("manager")), ("owner", query_text("owner")))
    chosen = {name: value for name, value in asked if value in logins}
    # The board filters by the opportunity's owner; a manager's customers (the home page's link) are the table's.
    view = "table" if query_text("view") == "table" or ("account_manager" in chosen and query_text("view") != "board") \
        else "board"
    return page_for(server, _("Pipeline"), PipelinePage(store=store, user=user.login, view=view, **chosen), user,
                    active="pipeline")


def contact_page(server: CardServer) -> ServableMixin:
    from .ui.contact import ContactCard

    user = server.session_user()
    if user is None:
        return login_required()
    contact_id = query_int("contact")
    try:
        view = ContactCard(store=server.current_store(), contact_id=contact_id, user=user.login)
    except (NotFound, TypeError, ValueError):
        return _message(server, _("No such contact person"), _("There is no contact person with that number."),
                        user, status="error", http_status=404)
    return page_for(server, view.contact.full_name, view, user)


def project_page(server: CardServer) -> ServableMixin:
    from .ui.project import ProjectPage

    user = server.session_user()
    if user is None:
        return login_required()
    if not user.projects_access:
        return _message(server, _("Not allowed"), _("You do not have access to projects."), user, status="error",
                        http_status=403)
    project_id = query_int("project")
    try:
        view = ProjectPage(store=server.current_store(), project_id=project_id)
    except (NotFound, TypeError, ValueError):
        return _message(server, _("No such project"), _("There is no project with that number."), user, status="error",
                        http_status=404)
    return page_for(server, view.project.name, view, user)


def profile_page(server: CardServer) -> ServableMixin:
    """My profile: name, login and role, my password, my active sessions."""
    from .ui.profile import ProfilePage

    user = server.session_user()
    if user is None:
        return login_required()
    gate = server.gate
    view = ProfilePage(server.current_store(), user.login, token=server.session_token(), idle=gate.idle,
                       lifetime=gate.lifetime)
    location = pn.state.location

    def leave(_event) -> None:  # every session ended, this one too: out through /logout, which clears the cookies
        if location is not None:
            location.reload = True
            location.param.update(pathname="/logout", search="")
    view.param.watch(leave, "logged_out")
    return page_for(server, _("My profile"), view, user, active="profile", location=True)


PAGES = frozenset({"home", "customers", "pipeline", "admin"})

ROUTES: dict[str, Page] = {
    "/": home_page,
    "/search": search_page,
    "/card": card_page,
    "/new": new_customer_page,
    "/admin": admin_page,
    "/pipeline": pipeline_page,
    "/contact": contact_page,
    "/project": project_page,
    "/profile": profile_page,
}


# -- serving -------------------------------------------------------------------------------------------------
#: What the pages import when first built (each page imports its view then, so that ``import customercard`` stays
#: light for notebooks and the command line): a served process imports them as it starts (``CardServer.preload``).
PAGE_MODULES: tuple[str, ...] = tuple(f"customercard.ui.{name}" for name in (
    "admin", "card", "contact", "customer_list", "home", "live", "new_customer", "pipeline", "profile", "project",
    "search_box", "sections.asof", "shell"))


def make_server(  # noqa: PLR0913, PLR0917 - CardServer's settings; public, called with keywords
        store: Store | None, port: int = 0, address: str = "127.0.0.1", num_procs: int = 1,
        allow_websocket_origin: list[str] | None = None, show: bool = False, start: bool = False,
        threaded: bool = False, bench: bool = False, database: str | None = None,
        secret: str | None = None) -> CardServer:
    """The server with the login in front of every page; started when ``start`` (on a thread of its own when
    ``threaded``, else here until stopped), and returned (``.stop()`` ends it).

    ``store`` is this process's store; with several processes it is None and each opens ``database`` itself.
    ``bench`` also serves the benchmark's pages (:mod:`customercard.bench_pages`).
    """
    server = CardServer(store, database=database, pages=_pages(bench), port=port, address=address,
                        num_procs=num_procs, allow_websocket_origin=allow_websocket_origin, show=show, secret=secret,
                        preload=PAGE_MODULES)
    if start:
        server.start(threaded=threaded)
    return server


def _pages(bench: bool) -> dict[str, Page]:
    if not bench:
        return dict(ROUTES)
    from .bench_pages import BENCH_ROUTES

    return {**ROUTES, **BENCH_ROUTES}


def check_processes(store: Store, num_procs: int) -> None:
    """Several server processes only on PostgreSQL (said before anything is set up or printed)."""
    from .errors import CustomerCardError

    if num_procs != 1 and store.db.dialect == "duckdb":
        raise CustomerCardError(_("Several server processes need PostgreSQL: a DuckDB file can be written by one "
                                  "process only. Serve with --num-procs 1, or move to PostgreSQL with `customercard "
                                  "migrate`."))


def serve(store: Store, port: int = 5006, address: str = "127.0.0.1", num_procs: int = 1,
          allow_websocket_origin: list[str] | None = None, show: bool = False, bench: bool = False,
          notebooks: dict[str, str] | None = None) -> None:
    """Serve until interrupted (``customercard serve``), delivering the outbox; several processes only with
    PostgreSQL. ``notebooks`` maps paths to notebook files served beside the pages, behind the same login."""
    from .config import get_config
    from .login import cookie_secret

    check_processes(store, num_procs)
    host = "localhost" if address in ("127.0.0.1", "") else address
    processes = (ngettext("Serving customercard on {url} with {n} process (Ctrl+C stops)",
                          "Serving customercard on {url} with {n} processes (Ctrl+C stops)", num_procs)
                 if num_procs > 0 else _("Serving customercard on {url} with one process per core (Ctrl+C stops)"))
    print(processes.format(url=f"http://{host}:{port}", n=num_procs), flush=True)
    options = {"pages": {**_pages(bench), **(notebooks or {})}, "port": port, "address": address,
               "num_procs": num_procs, "allow_websocket_origin": allow_websocket_origin, "show": show, "deliver": True,
               "preload": PAGE_MODULES}
    if num_procs == 1:
        CardServer(store, **options).start()
        return
    config = get_config()
    secret = cookie_secret(config.data_path, config.cookie_secret, store)
    database = store.location
    largest = store.settings().max_file_mb  # (the uploads' bound is set before the processes fork)
    store.close()  # each forked process opens its own connections
    CardServer(database=database, secret=secret, largest_file_mb=largest, **options).start()
