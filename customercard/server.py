"""The served app as an object: :class:`CardServer` owns what serving needs and hands itself to the pages.

A server owns its store (or, with several processes, the database each process opens after the fork), its
login sessions (:class:`~customercard.login.SessionGate`), the outbox worker, the memory it gives back when idle
and the search index it holds, its pages, the Tornado handlers beside them (login, logout, ``/files``, ``/api``)
and the security headers. Pages are functions of the server (``card_page(server)``, see :mod:`customercard.app`):
each session gets a fresh view built from the server it came to, never an object shared between users. Nothing
lives in module globals, so two servers run side by side in one process, each on its own database.
"""

from __future__ import annotations

import functools
import gc
import importlib
import inspect
import logging
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import panel as pn
from panel.io.server import ComponentResourceHandler, DocHandler
from panel.viewable import ServableMixin
from tornado.web import HTTPError

from .config import Config, get_config
from .errors import NotFound
from .http_api.body import BODY_LIMIT
from .http_api.limits import RequestBudget
from .i18n import _, negotiate, set_session_language, using_language
from .login import (
    SWEEP_EVERY,
    NotFoundHandler,
    SessionGate,
    SessionSweeper,
    StoreAuthProvider,
    cookie_secret,
    serve_error_pages,
    token_from_cookies,
)
from .memory import MemoryRelease, StoreMemory, collect_when_quiet
from .models import User
from .store import Store, is_url
from .store.discovery import ServerFile, new_key, same_database

log = logging.getLogger(__name__)


_PANEL_COMPONENT_PATH = ComponentResourceHandler.parse_url_path


def _imported_components_only(handler: ComponentResourceHandler, path: str) -> str:
    """Panel's component resources (``/components/<module>/<class>/<attribute>/<path>``), of modules this process
    has imported already. Panel's own handler imports whatever module a URL names, before any login: a module that
    does work when imported ran it in the server (``customercard.__main__`` ran the command line and ended the
    process; ``unittest.__main__`` in the standard library does the same). Every component a page shows was
    imported to make the page."""
    if path.split("/", 1)[0] not in sys.modules:
        raise HTTPError(404, "Module not found")
    return _PANEL_COMPONENT_PATH(handler, path)


_PANEL_GET_SESSION = DocHandler.get_session
_PANEL_GET = DocHandler.get


async def _page_without_trailing_slash(handler: DocHandler, *args: Any, **kwargs: Any) -> Any:
    """``/card/?customer=1`` as ``/card?customer=1``: Panel served the page's HTML at the slashed address, but its
    scripts were then asked for under ``/card/static/…`` and the page stayed blank. (Leading slashes are made one:
    ``//elsewhere.example/`` is no address on another site.)"""
    path = handler.request.path
    if len(path) > 1 and path.endswith("/"):
        query = handler.request.query
        handler.redirect("/" + path.strip("/") + (f"?{query}" if query else ""))
        return None
    # Panel's get is behind Tornado's @authenticated, which answers a request without a login itself (a redirect
    # to the login page) and then gives back None, not a coroutine
    answer = _PANEL_GET(handler, *args, **kwargs)
    return await answer if inspect.isawaitable(answer) else answer


async def _session_with_its_status(handler: DocHandler) -> Any:
    """Panel's session for a page request, answered with the status its page asks for (``http_status`` of
    :func:`~customercard.ui.shell.message_page`: 403 for a page the user may not see) rather than always 200."""
    session = _PANEL_GET_SESSION(handler)
    session = await session if inspect.isawaitable(session) else session  # None: not logged in (answered)
    status = (session.document.template_variables or {}).get("http_status") if session is not None else None
    if isinstance(status, int) and status != handler.get_status():
        handler.set_status(status)
    return session


# for every server of this process: ours, and `panel serve dashboards/*.py --auth-module customercard/bokeh_auth.py`
ComponentResourceHandler.parse_url_path = _imported_components_only
DocHandler.get_session = _session_with_its_status
DocHandler.get = _page_without_trailing_slash

#: A page: builds one session's view from the server it is served by; or the path of a notebook (or script) that
#: Panel serves as it is, behind the same login (``customercard serve --notebook``).
Page = Callable[["CardServer"], ServableMixin] | str

#: How often (seconds) at most a page in use tells the server that its login session is used.
IN_USE_EVERY = 20.0

#: The servers of this process that have opened their store, so that a notebook they serve finds it.
_WITH_STORE: weakref.WeakSet[CardServer] = weakref.WeakSet()


def session_server_store(database: str | Path | None = None) -> Store | None:
    """In a session served by a server of this process (a notebook it serves beside its pages): that server's store,
    lent (closing it does nothing), when it holds ``database`` (None: whichever it holds); else None."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return None
    for server in list(_WITH_STORE):
        store = server._store
        if store is None or not server._ready:
            continue
        if database is None or str(database) == store.location or (
                not is_url(store.location) and not is_url(database) and same_database(store.location, database)):
            return store.borrowed()
    return None


def _end_with_parent(parent: int) -> None:
    """In a process ``--num-procs`` forked from ``parent``: SIGTERM once the forking process ends (stopped by a
    service manager's SIGTERM, which it does not pass on), so that no server goes on holding the port without it
    (Linux)."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the processes are stopped one by one
        return
    if os.getppid() != parent:  # the first process ended before this one asked (re-parented, to 1 or a reaper)
        os.kill(os.getpid(), signal.SIGTERM)


def freeze_start_up_objects() -> None:
    """Take what a serving process made to start — modules, the store, Panel's and Bokeh's own objects, some
    200,000 — out of the garbage collector's view (``gc.freeze``): a full collection, which Panel runs after sessions
    close and Python when allocations pile up, then looks only at what sessions made since. With ten cards open a
    full collection took 98 ms before; every interaction that met one waited for it. For the process that serves
    until it stops (``customercard serve``), not for a server started on a thread of a longer-lived process."""
    gc.collect()
    gc.freeze()


def bokeh_as_served() -> None:
    """Bokeh's diagnostics for developing apps off, in a serving process: they check the signature of every callback
    Panel links to a model's property (``inspect.signature``, a few per property) — about a sixth of the time a
    widget's model takes to make, which every card opened and every form shown pays — and suggest close names for a
    mistyped attribute. ``BOKEH_PERFORM_ERROR_DIAGNOSTICS`` set in the environment wins (``true`` to develop with
    them)."""
    from bokeh.settings import settings

    if "BOKEH_PERFORM_ERROR_DIAGNOSTICS" not in os.environ:
        settings.perform_error_diagnostics.set_value(False)


class CardServer:
    """One served customercard: store, sessions, outbox worker, memory, pages and handlers; :meth:`start` serves
    them, :meth:`stop` ends it all."""

    def __init__(self, store: Store | None = None, *, database: str | None = None,  # noqa: PLR0913 - settings, by keyword
                 pages: Mapping[str, Page] | None = None, port: int = 0, address: str = "127.0.0.1",
                 num_procs: int = 1, allow_websocket_origin: list[str] | None = None, show: bool = False,
                 deliver: bool = False, secret: str | None = None, config: Config | None = None,
                 remind: bool | None = None, remind_every: float | None = None,
                 remind_from_hour: int | None = None, preload: Sequence[str] = (),
                 largest_file_mb: float | None = None) -> None:
        """``store`` is this process's store; without one (several processes) each process opens ``database`` (else the
        configured one) on first use. ``pages`` maps paths to page functions (none by default: the app's are
        :data:`customercard.app.ROUTES`, which :func:`customercard.app.make_server` gives); ``deliver`` starts the
        outbox worker with the store; ``secret`` signs the cookies (else the configured or generated one, see
        :func:`~customercard.login.cookie_secret`). ``remind`` (as ``deliver`` unless given) starts the daily follow-up
        reminder e-mails (:mod:`customercard.reminders`): looked at every ``remind_every`` seconds, sent from
        ``remind_from_hour`` o'clock of the firm's day (by default the firm's setting ``reminder_hour``). ``preload``
        names the modules the pages import when first built (the card's sections, HoloViews…): imported as the
        server starts, before it freezes its start-up objects, so that the first user's first page does not wait
        for them (a fresh server's first card took 210 ms, the next ones 20). ``largest_file_mb``: the firm's file
        limit as the store said it before the fork (several processes; else read from ``store``)."""
        self.config = config or get_config()
        self.largest_file_mb = largest_file_mb
        self.database = database
        self.pages = pages
        self.port, self.address, self.num_procs, self.show = port, address, num_procs, show
        self.websocket_origins = [f"localhost:{port}", f"127.0.0.1:{port}", *(allow_websocket_origin or [])]
        self.deliver = deliver
        self.preload = tuple(preload)
        self.remind = deliver if remind is None else remind
        self.remind_every, self.remind_from_hour = remind_every, remind_from_hour
        #: Sends the daily follow-up reminders (with ``remind``, made with the store).
        self.reminders: Any = None
        #: Where each user last reached the server (their reminders' links; see :meth:`reached_at`).
        self._reached_by: dict[str, str] = {}
        self._seen_lock = threading.Lock()
        #: Ends the login sessions that lapsed, every ``sweep_every`` seconds (made with the store), so that their
        #: open pages are told.
        self.sweeper: Any = None
        self.sweep_every = SWEEP_EVERY
        self.secret = secret
        #: The key of this run's discovery file: a local analyst's notebook reaches the store with it.
        self.local_key = new_key()
        self._server_file: ServerFile | None = None
        #: Who a request belongs to: a live session of this server's database.
        self.gate = SessionGate.from_config(self.current_store, self.config)
        #: This server's sessions, counted, and what it gives back when they have ended.
        self.memory = MemoryRelease()
        #: How many requests each API token (or login) may make to /api/v1 a minute, in this process.
        self.api_budget = RequestBudget(self.config.api_requests_per_minute)
        #: What the store gives back when idle and what it keeps (made with the store).
        self.store_memory: StoreMemory | None = None
        #: Delivers the economy-system outbox (with ``deliver``, made with the store).
        self.worker: Any = None
        self._store = store
        self._opened_here = False
        self._ready = False
        self._opening = threading.Lock()
        self._thread: Any = None
        self._bokeh: Any = None

    # -- the store -----------------------------------------------------------------------------------------
    def current_store(self) -> Store:
        """This server's store: the one it was made with, else its database (or the configured one), opened on
        first use — after the fork when serving several processes. With the store come its memory release, the
        search index held in memory and, when delivering, the outbox worker."""
        if not self._ready:
            with self._opening:
                if not self._ready:
                    self._take(self._open())
                    self._ready = True
        return self._store

    def _open(self) -> Store:
        if self._store is None:
            from .store import open_store

            self._store, self._opened_here = open_store(self.database, through_server=False), True
        return self._store

    def _take(self, store: Store) -> None:
        from .store.readonly import SERVER_SQL_MB, SERVER_SQL_ROWS

        _WITH_STORE.add(self)
        store.db.sql_max_rows = SERVER_SQL_ROWS  # what a remote or page query may answer: the memory is everyone's
        store.db.sql_max_mb = SERVER_SQL_MB
        self.store_memory = StoreMemory(store, hold_search=self.config.search_in_memory,
                                        within_mb=self.config.search_memory_mb)
        self.memory.when_idle("store", self.store_memory.release)
        self.store_memory.hold()
        if self.deliver:
            from .integration import OutboxWorker

            self.worker = OutboxWorker(store).start()  # with PostgreSQL, one process at a time delivers
        self.sweeper = SessionSweeper(self.gate, interval=self.sweep_every).start()  # open pages of lapsed sessions
        if self.remind:
            from .reminders import CHECK_EVERY, ReminderScheduler

            self.reminders = ReminderScheduler(
                store, interval=CHECK_EVERY if self.remind_every is None else self.remind_every,
                send_from=self.remind_from_hour,  # None: the firm's setting (Administration → Settings)
                config=self.config, reached_at=self.reached_at).start()  # the day's claim keeps it to one a day

    # -- who is asking -------------------------------------------------------------------------------------
    def session_user(self) -> User | None:
        """The logged-in user of this session (None outside a served session)."""
        login = pn.state.user
        if not login:
            return None
        try:
            return self.current_store().get_user(login)
        except NotFound:
            return None

    def session_language(self, user: User | None = None) -> str:
        """The language of this served session: the user's choice on their profile, else the browser's
        ``Accept-Language`` (English, Swedish or Danish), else the firm's language."""
        if user is not None and user.language:
            return user.language
        headers = pn.state.headers or {}
        accept = headers.get("Accept-Language", "") if hasattr(headers, "get") else ""
        return negotiate(accept if isinstance(accept, str) else ",".join(accept),
                         self.current_store().settings().language)

    def session_token(self) -> str:
        """The token of this served session's login session ('' outside one)."""
        return token_from_cookies(pn.state.cookies or {}, self.secret)

    # -- what is served ------------------------------------------------------------------------------------
    def routes(self) -> dict[str, Callable[[], ServableMixin]]:
        """Each path's page function bound to this server: counted for the memory release, and a plain message
        instead of a traceback when building the page fails."""
        pages = self.pages or {}
        return {path: page if isinstance(page, str) else self._session_page(page) for path, page in pages.items()}

    def _session_page(self, page: Page) -> Callable[[], ServableMixin]:
        def session_page() -> ServableMixin:
            self.memory.session_started()
            self._seen_at()
            pn.state.on_session_destroyed(self.memory.session_ended)
            try:
                set_session_language(self.session_language(self.session_user()))  # in its reader's language
                return page(self)
            except Exception:
                log.exception("Building the page %s failed", getattr(page, "__name__", "page"))
                return self._failed_page()
        functools.update_wrapper(session_page, page)
        return session_page

    def _seen_at(self) -> None:
        """Keep the address this session's user asked its page at (as their browser reached us): their reminder
        e-mails link there when no public address is set. Each user's own — a Host header one user sends never
        becomes another's links."""
        from .ui.shell import served_base_url

        login, address = pn.state.user, served_base_url()
        if login and address:
            with self._seen_lock:
                self._reached_by[str(login)] = address

    def reached_at(self, login: str | None = None) -> str:
        """Where ``login`` reaches this server: the address they last asked a page at, else the server's own
        (what links in the e-mails it sends by itself, the reminders, point to when no public address is set)."""
        with self._seen_lock:
            found = self._reached_by.get(str(login)) if login else None
        return found or self.url()

    def keep_in_use(self, token: str) -> None:
        """What the user does on this open page (a click, a key typed into a field) keeps its login session in use,
        as a new page would: a page in use all day is not logged out as idle, one left alone is (the server ends
        lapsed sessions every few seconds and the page is told). Told at most every :data:`IN_USE_EVERY` seconds."""
        document = pn.state.curdoc
        if document is None or not token:
            return
        told = [time.monotonic()]

        def used(*_args: Any) -> None:
            if time.monotonic() - told[0] >= IN_USE_EVERY:
                told[0] = time.monotonic()
                self.gate.in_use(token)  # a session that lapsed meanwhile is ended here, and the page told

        def changed(event: Any) -> None:
            if getattr(event, "setter", None) is not None:  # from the browser, not the server's own updates
                used()

        document.on_change(changed)
        document.on_message("bokeh_event", used)  # clicks and the page's own components' messages

    def _notebook_session(self, session_context: Any) -> None:
        """A notebook this server serves beside its pages (``serve --notebook``) gets what every page gets, before
        its code runs: its reader's language; what the user does on it keeps the login session in use; and once
        the session ends (logged out elsewhere, a new password, deactivated, idle) the page shows nothing more but
        that it has — its widgets went on saving as the user before."""
        application = getattr(session_context.server_context, "application_context", None)
        url = str(getattr(application, "url", "") or "").strip("/")
        if url not in {str(path).strip("/") for path, page in (self.pages or {}).items() if isinstance(page, str)}:
            return
        from .ui.live import Follower
        from .ui.shell import session_ended_message

        language = self.session_language(self.session_user())
        set_session_language(language)
        token, store, doc = self.session_token(), self.current_store(), pn.state.curdoc
        if doc is not None:
            from .ui.shell import give_notebook_page

            with using_language(language):
                give_notebook_page(doc)
        session_id = store.session_id(token) if token else None
        if session_id is None or doc is None:
            return

        def ended(_changes: Any) -> None:
            doc.clear()
            with using_language(language):
                session_ended_message().server_doc(doc)

        doc._cc_session_follower = Follower(  # kept as long as the page
            store, lambda change: change.kind == "session" and change.id == session_id, ended, delay=0.0)
        self.keep_in_use(token)

    def _failed_page(self) -> ServableMixin:
        from .ui.shell import message_page

        try:
            user = self.session_user()
        except Exception:  # the store itself failed: a page without the header's user
            user = None
        return message_page(_("This page could not be shown"),
                            _("Something went wrong while building this page. Try again; if it keeps happening, "
                              "tell your administrator (the server's log has the details)."), user, status="error")

    def auth_provider(self) -> StoreAuthProvider:
        """The login in front of every page: our login and logout handlers, users and sessions of this server."""
        return StoreAuthProvider(self.current_store, self.gate)

    def handlers(self) -> list[tuple[str, type, dict[str, Any]]]:
        """The Tornado handlers beside the pages: customer files, the JSON API (``/api/v1``, with its OpenAPI
        document and docs page) and the older ``/api/customers/<id>``, behind this server's login or API tokens, and
        the store's API for notebooks and scripts (an API token, or the local key; :mod:`customercard.remote_api`)."""
        from .api import CustomerApiHandler
        from .downloads import FileDownloadHandler
        from .http_api import routes as api_routes
        from .remote_api import remote_handlers

        given = {"get_store": self.current_store, "login_of": self.gate.login_of}
        return [(r"/files/(\d+)", FileDownloadHandler, given), (r"/api/customers/(\d+)", CustomerApiHandler, given),
                *remote_handlers(self.current_store, self.local_key, limits=self), *api_routes(self)]

    def _serve_options(self) -> dict[str, Any]:
        from .headers import server_options

        return {"port": self.port, "address": self.address, "show": self.show, "num_procs": self.num_procs,
                "websocket_origin": self.websocket_origins, "cookie_secret": self.secret,
                "auth_provider": self.auth_provider(), "extra_patterns": self.handlers(), "verbose": False,
                "default_handler_class": NotFoundHandler, "default_handler_args": {"get_store": self.current_store},
                "websocket_max_message_size": self._largest_message(),
                "http_server_kwargs": {"max_body_size": BODY_LIMIT},
                **server_options()}  # the security headers on every response

    def _largest_message(self) -> int:
        """The largest message a page may send (bytes): an upload reaches the server in one, its files base64-
        encoded (4/3 of their size). Twice the largest file or import allowed, so that a file over the limit is
        read and refused with a message, not the page's connection closed (Bokeh's 20 MiB closed it on a 16 MB
        file, under the 25 MB the firm allows)."""
        from .spreadsheets import Limits

        file_limit = float(self.largest_file_mb or 25) * 1024 * 1024  # as said, else the default: the store is
        if self._store is not None and (self.num_procs or 1) == 1:  # never opened here (forked processes open it)
            try:
                file_limit = float(self._store.settings().max_file_mb) * 1024 * 1024
            except Exception:  # unreadable: the default
                log.warning("Could not read the largest file allowed; uploads are read up to the default")
        return int(2 * max(file_limit, Limits().file_bytes) * 4 / 3) + 1024 * 1024

    # -- running -------------------------------------------------------------------------------------------
    def start(self, threaded: bool = False) -> CardServer:
        """Serve: on a thread of its own (returns at once), or here until stopped (Ctrl+C, or :meth:`stop`)."""
        if self._store is not None:
            self.current_store()  # its memory release, search index and outbox worker start now
        self.secret = self.secret or cookie_secret(self.config.data_path, self.config.cookie_secret, self._store)
        pn.extension(notifications=True)
        pn.config.throttled = True
        bokeh_as_served()
        serve_error_pages(self.current_store, self.gate.login_of)
        for module in self.preload:
            importlib.import_module(module)
        collect_when_quiet(serving=not threaded)
        if any(isinstance(page, str) for page in (self.pages or {}).values()):
            pn.state.on_session_created(self._notebook_session)
        if threaded:
            self._thread = pn.serve(self.routes(), start=True, threaded=True, **self._serve_options())
            self._announce()
            return self
        forking = os.getpid()
        self._bokeh = bokeh = pn.serve(self.routes(), start=False, **self._serve_options())
        if (self.num_procs or 1) != 1:  # here in a process forked to serve: it ends when the first one ends
            _end_with_parent(forking)
        freeze_start_up_objects()
        bokeh.start()
        self._announce()
        try:
            bokeh.io_loop.start()
        finally:
            self._bokeh = None  # its loop has stopped
            self.stop()
        return self

    def url(self) -> str:
        """Where this machine reaches the server."""
        host = self.address if self.address not in ("", "0.0.0.0", "::", "localhost") else "127.0.0.1"  # noqa: S104
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    def _announce(self) -> None:
        """Write the discovery file beside a DuckDB database this server holds (see
        :mod:`customercard.store.discovery`), so that notebooks and ``customercard backup`` find the server."""
        store = self._store
        if store is None or is_url(store.location) or store.location == ":memory:" or not self.port:
            return
        try:
            self._server_file = ServerFile.for_server(store.location, self.url(), self.local_key)
            path = self._server_file.write()
        except OSError as exc:
            log.warning("Could not write the discovery file beside %s (%s): notebooks will not find this server",
                        store.location, exc)
            self._server_file = None
            return
        log.info("Notebooks reach %s through this server (%s)", Path(store.location).name, path)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and delivering (waiting up to ``timeout`` seconds for each), and close the store if this
        server opened it."""
        server_file, self._server_file = self._server_file, None
        if server_file is not None:
            server_file.remove()
        _WITH_STORE.discard(self)
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.stop()
            thread.join(timeout)
        bokeh, self._bokeh = self._bokeh, None
        if bokeh is not None:
            bokeh.io_loop.add_callback(bokeh.io_loop.stop)
        worker, self.worker = self.worker, None
        if worker is not None:
            worker.stop(timeout)
        reminders, self.reminders = self.reminders, None
        if reminders is not None:
            reminders.stop(timeout)
        sweeper, self.sweeper = self.sweeper, None
        if sweeper is not None:
            sweeper.stop(timeout)
        if self._opened_here and self._store is not None:
            self._store.close()
            self._store, self._opened_here, self._ready = None, False, False
        forget_session_documents()


def forget_session_documents() -> None:
    """Give Bokeh's current document back to the process: Panel leaves the last served session's document there
    (``run_app`` restores the "old" one it read while that session was current), so once the session ends, code
    in the same process that draws without a document of its own (HoloViews, a notebook) got a destroyed one."""
    from bokeh.document import Document
    from bokeh.io.state import curstate

    state = curstate()
    if state.document.session_context is not None or not hasattr(state.document, "_theme"):
        state.document = Document()
