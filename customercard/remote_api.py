"""The server's side of :class:`~customercard.store.remote.RemoteStore`: the store's API over HTTP.

    GET  /api/v1/rpc            who the caller is to the server, and which database it serves
    GET  /api/v1/rpc/changes    ?after=<n>&epoch=<e>&wait=<s>: the changes committed since (a long poll)
    POST /api/v1/rpc/<method>   ← {"arguments": {name: value}}   → {"result": value, "changes": [...]}
                                                                    or an Arrow IPC stream (a DataFrame)
    POST /api/v1/backup         ← {"path": "/abs/copy.duckdb"}   a consistent copy (the local key only)

A method is one of :data:`~customercard.store.remote.REMOTE`, called on the server's own store with the arguments
bound to the store's own signature (values as :mod:`customercard.store.wire` encodes them). Errors answer as JSON
``{"error": {...}}`` (422 a ValidationError with its field messages, 409 a conflict, 404, 403, 401 no or a wrong
credential, 400 other refusals).

Who calls: ``Authorization: Bearer <API token>`` (``store.authenticate_token``: the token's user acts, with their
role; a read-only token only reads), or the discovery file's key in ``X-Customercard-Key`` (a trusted local analyst,
as if they had opened the file: every write must say who acts). A token is held to the limits of ``/api/v1`` (README,
The HTTP API, Limits): failed tokens are counted per address (the client's, as the login page sees it) and per user,
and make the next tries wait (429 with ``Retry-After``); each good token spends from the same request budget as on
``/api/v1`` (429 with ``Retry-After`` past it). The browser's login cookie is not taken here: a
page of another site cannot make a browser send either header, so cross-site requests cannot call this API.
"""

from __future__ import annotations

import asyncio
import hmac
import inspect
import json
import logging
import math
import secrets
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pandas as pd
from tornado.web import RequestHandler, stream_request_body

from .arg_types import misfits, read_whole_numbers
from .errors import CustomerCardError, PermissionDenied, TooManyAttempts, ValidationError
from .http_api.access import has_projects_access, require_projects_access, without_project_detail
from .http_api.body import BoundedBody
from .http_api.values import whole_number_problem
from .i18n import SOURCE_LANGUAGE, _, negotiate, supported, using_language
from .models import Record
from .store import Store, wire
from .store.readonly import QUERY_SECONDS
from .store.remote import KEY_HEADER, REMOTE, Remote, actor_parameters, call_arguments
from .store.sessions import token_hash

if TYPE_CHECKING:
    from .http_api.limits import RequestBudget
    from .login import SessionGate

log = logging.getLogger(__name__)


class Unauthenticated(PermissionDenied):
    """No credential, or one the server does not know (401)."""


class OverBudget(PermissionDenied):
    """A token past its request budget (429, ``Retry-After: wait_seconds``)."""

    def __init__(self, message: str, wait_seconds: int) -> None:
        self.wait_seconds = int(wait_seconds)
        super().__init__(message)


#: Analysts' SQL through the server (``store.sql``, up to ``QUERY_SECONDS`` each) runs on threads of its own, never
#: on those that answer logins, ``/api/v1`` and the other store calls: at most this many queries run at once ...
SQL_THREADS = 2
_SQL_POOL = ThreadPoolExecutor(max_workers=SQL_THREADS, thread_name_prefix="customercard-sql")
#: ... and a token's user's one at a time: the logins whose query runs.
_SQL_RUNNING: set[str] = set()
_SQL_LOCK = threading.Lock()
#: What a caller with a query running is told to wait (seconds) before sending the next.
SQL_BUSY_WAIT = 5


@contextmanager
def one_query_of(caller: Caller) -> Iterator[None]:
    """While a token's query runs: a second one of its user's is refused (429 with ``Retry-After``), so that one
    token cannot take every thread queries run on (a dozen slow queries at once held logins and ``/api/v1`` up).
    The server's own machine (the local analyst's key) is trusted, and not limited so."""
    if caller.trusted:
        yield
        return
    who = str(caller.login)
    with _SQL_LOCK:
        if who in _SQL_RUNNING:
            raise OverBudget(_("A query of yours is still running: send the next once it has answered (at most {n} "
                               "seconds).").format(n=int(QUERY_SECONDS)), SQL_BUSY_WAIT)
        _SQL_RUNNING.add(who)
    try:
        yield
    finally:
        with _SQL_LOCK:
            _SQL_RUNNING.discard(who)


class Limits(Protocol):
    """What the handlers take of the server that serves them (a :class:`~customercard.server.CardServer`): its
    session gate (the client's address) and each caller's request budget, shared with ``/api/v1``."""

    gate: SessionGate
    api_budget: RequestBudget


@dataclass(frozen=True)
class Caller:
    """Who calls: a token's user (``login``; ``read_only`` when the token only reads), or a trusted local analyst
    (``login`` None: each call says who acts)."""

    login: str | None = None
    read_only: bool = False

    @property
    def trusted(self) -> bool:
        return self.login is None


def authenticate(handler: RequestHandler, store: Store, local_key: str, limits: Limits | None = None) -> Caller:
    """The caller of a request, by its local key or its API token; else :class:`Unauthenticated`. With the
    server's ``limits``, a token's failures are counted against the client's address too, and a good token spends
    from its request budget (:class:`TooManyAttempts`, :class:`OverBudget`)."""
    key = handler.request.headers.get(KEY_HEADER, "")
    if key:
        if local_key and hmac.compare_digest(key.encode(), local_key.encode()):
            return Caller()
        raise Unauthenticated(_("This key is not this server's: the server was started again; open the store "
                                "again."))
    scheme, _space, secret = handler.request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated(_("Give an API token (Authorization: Bearer …); make one on your profile page."))
    request = handler.request
    address = limits.gate.client_address(request) if limits is not None else (request.remote_ip or "")
    try:
        user, read_only = store.authenticate_token(secret.strip(), remote_address=address)
    except TooManyAttempts:
        raise
    except PermissionDenied as exc:
        raise Unauthenticated(str(exc)) from None
    if limits is not None:
        wait = limits.api_budget.take("token:" + token_hash(secret.strip()))  # the key /api/v1 spends from
        if wait:
            raise OverBudget(_("This token (or login) has made more requests than {n} a minute; wait and try "
                               "again.").format(n=limits.api_budget.per_minute), wait)
    return Caller(login=user.login, read_only=bool(read_only))


def prepare(store: Store, name: str, rule: Remote, caller: Caller, arguments: dict[str, Any]) -> inspect.BoundArguments:
    """The call of ``name`` with ``arguments``, bound to the store's signature, once the caller may make it: who
    acts is the token's user (a token cannot act as anyone else), or, from a local analyst, the login given."""
    function = inspect.getattr_static(type(store), name)
    signature = inspect.signature(function.fget if isinstance(function, property) else function)
    try:
        bound = signature.bind(store, **call_arguments(signature, arguments))
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}") from None
    read_whole_numbers(function.fget if isinstance(function, property) else function, bound.arguments)
    for actor in actor_parameters(signature):
        given = bound.arguments.get(actor)
        if caller.trusted:
            if not given:
                raise PermissionDenied(_("Say who acts: pass user=… (a customercard login)."))
        elif given not in (None, caller.login) and name in ABOUT_ANYONE:
            continue  # a question about another user's permissions, answered as users() lists their roles
        elif given not in (None, caller.login):
            raise PermissionDenied(_("This token acts as “{login}”, not as “{other}”.").format(
                login=caller.login, other=given))
        else:
            bound.arguments[actor] = caller.login
    if not caller.trusted:
        _check_token(store, name, rule, caller, bound)
    return bound


#: Reads whose ``user`` is whom they are about, not who acts: a token may ask them about anyone.
ABOUT_ANYONE = frozenset({"can"})
#: The store's reads that list a customer's projects: a token's user without projects access is answered them as the
#: card lists them, without what only the project page shows (see :mod:`customercard.http_api.access`).
PROJECT_LISTS = frozenset({"projects", "projects_as_of"})


def _check_token(store: Store, name: str, rule: Remote, caller: Caller, bound: inspect.BoundArguments) -> None:
    login = str(caller.login)
    if rule.need == "key":
        raise PermissionDenied(_("An API token cannot do this: API tokens are made and revoked on the profile page, "
                                 "passwords changed there (or with customercard users on the server's machine)."))
    if rule.need != "read" and rule.writes and caller.read_only:
        raise PermissionDenied(_("This API token may only read."))
    store.require(login, "read" if rule.need in ("own", "projects") else rule.need)
    if rule.need == "projects" or (name == "record_history" and bound.arguments.get("table") == "projects"):
        require_projects_access(store, login)  # one project (or its history), as its page: projects access only
    if name == "sql":  # a token's query reads what its user may (projects access: the projects' descriptions)
        bound.arguments["reader"] = login
    if rule.own_login and bound.arguments.get(rule.own_login) != login and not store.can(login, "admin"):
        raise PermissionDenied(_("Only administrators may do this for another user."))
    if "timeout" in bound.arguments and bound.arguments["timeout"] is not None:
        timeout = bound.arguments["timeout"]
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not math.isfinite(timeout):
            raise ValidationError({"timeout": _("Give the time in seconds, as a number.")})
        bound.arguments["timeout"] = min(float(timeout), QUERY_SECONDS)


def run(store: Store, name: str, bound: inspect.BoundArguments) -> tuple[Any, list[Any]]:
    """Call the method; with it, the changes it committed (those announced on this thread: DuckDB tells its
    subscribers on the writer's thread once committed)."""
    function = getattr(type(store), name)
    if isinstance(inspect.getattr_static(type(store), name), property):
        return getattr(store, name), []
    if REMOTE[name].need == "read":
        return function(*bound.args, **bound.kwargs), []
    me, committed = threading.get_ident(), []

    def heard(change: Any) -> None:
        if threading.get_ident() == me:
            committed.append(change)
    stop = store.changes.subscribe(heard, weak=False)
    try:
        return function(*bound.args, **bound.kwargs), committed
    finally:
        stop()


#: The longest body a call of the store API may send (bytes): a notebook's invoices or customers by the thousand.
MAX_CALL_BODY = 64 * 1024 * 1024


@stream_request_body
class _ApiHandler(BoundedBody, RequestHandler):
    """What the RPC and backup handlers share: the server's store and key, the language, JSON answers.

    A body is read only once its sender is known (a call without a good credential is answered before its body
    is read), as it arrives and up to :data:`MAX_CALL_BODY` bytes (a longer one is answered 413)."""

    max_body = MAX_CALL_BODY

    def initialize(self, get_store: Callable[[], Store], local_key: str, limits: Limits | None = None) -> None:
        self.get_store, self.local_key, self.limits = get_store, local_key, limits
        self._known: Caller | None = None

    def caller(self, store: Store) -> Caller:
        """Who calls (:func:`authenticate`, within the server's limits): once a request."""
        if self._known is None:
            self._known = authenticate(self, store, self.local_key, self.limits)
        return self._known

    async def prepare(self) -> None:
        if not self.start_body():
            return
        if self.request.method not in ("POST", "PUT", "PATCH"):
            return
        refused = await self._refusal()
        if refused is not None:
            self._answer(*refused)

    async def _refusal(self, reads: bool = False) -> tuple[int, str, bytes, dict[str, str]] | None:
        """Who asks, found on a worker thread (the store is asked): None once known — with ``reads``, as one who may
        read customers — else the refusal's answer."""
        language = self._language()

        def who() -> tuple[int, str, bytes, dict[str, str]] | None:
            with using_language(language):
                try:
                    store = self.get_store()
                    caller = self.caller(store)
                    if reads and not caller.trusted:  # a token's user
                        store.require(caller.login, "read")
                except Exception as exc:
                    return _failure(exc)
            return None
        return await asyncio.get_running_loop().run_in_executor(None, who)

    def too_large(self) -> None:
        with using_language(self._language()):
            refused = CustomerCardError(_("Send at most {n} bytes.").format(n=MAX_CALL_BODY))
        self._answer(413, wire.JSON_TYPE, wire.dumps(wire.encode_error(refused)))

    def check_xsrf_cookie(self) -> None:  # no cookie authenticates here (see the module's docstring)
        return None

    def write_error(self, status_code: int, **_kwargs: Any) -> None:
        """Tornado's own refusals (a method this address does not take, a malformed request) in this API's error
        shape too, with ``Allow`` on a 405 (it was Tornado's HTML page)."""
        headers: dict[str, str] = {}
        if status_code == HTTPStatus.METHOD_NOT_ALLOWED:
            allowed = [m.upper() for m in ("get", "post") if getattr(type(self), m) is not getattr(RequestHandler, m)]
            headers["Allow"] = ", ".join(allowed)
        with using_language(self._language()):
            message = (_("Use {methods} here.").format(methods=headers["Allow"]) if headers
                       else HTTPStatus(status_code).phrase)
        self.clear()
        self._answer(status_code, wire.JSON_TYPE, wire.dumps(wire.encode_error(CustomerCardError(message))), headers)

    def _language(self) -> str:
        asked = self.request.headers.get("Accept-Language", "")
        return negotiate(asked) if any(supported(part.split(";")[0]) for part in asked.split(",")) \
            else SOURCE_LANGUAGE

    def _answer(self, status: int, kind: str, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.set_status(status)
        self.set_header("Content-Type", kind)
        self.set_header("Cache-Control", "no-store")
        if status == HTTPStatus.UNAUTHORIZED:
            self.set_header("WWW-Authenticate", 'Bearer realm="customercard"')
        for name, value in (headers or {}).items():
            self.set_header(name, value)
        self.finish(body)

    async def _off_loop(self, work: Callable[[], tuple[int, str, bytes]], pool: Executor | None = None) -> None:
        """Do ``work`` on a worker thread (a query may take a while; of ``pool``, else the loop's own), in the
        request's language; answer."""
        language = self._language()
        self.body_read()

        def within() -> tuple[int, str, bytes, dict[str, str]]:
            with using_language(language):
                try:
                    return (*work(), {})
                except Exception as exc:  # every error answers in one shape
                    return _failure(exc)
        self._answer(*await asyncio.get_running_loop().run_in_executor(pool, within))

    def _arguments(self) -> dict[str, Any]:
        """The call's arguments, decoded (a body nested too deep to read is not JSON we take)."""
        refused = CustomerCardError(_("Send JSON like {example}.").format(example='{"arguments": {"customer_id": 42}}'))
        try:
            body = json.loads(self.request.body or b"{}")
            arguments = dict(body.get("arguments") or {}) if isinstance(body, dict) else {}
        except (ValueError, TypeError, AttributeError, RecursionError):
            raise refused from None
        try:
            return {key: wire.decode(value) for key, value in arguments.items()}
        except (RecursionError, AttributeError, KeyError):  # nested too deep; a tagged value of the wrong shape
            raise refused from None


def _failure(exc: Exception) -> tuple[int, str, bytes, dict[str, str]]:
    headers: dict[str, str] = {}
    if isinstance(exc, Unauthenticated):
        status = 401
    elif isinstance(exc, TooManyAttempts | OverBudget):  # wait: the same answer as /api/v1's
        status, headers = 429, {"Retry-After": str(exc.wait_seconds)}
    elif isinstance(exc, CustomerCardError | ValueError | TypeError | LookupError):
        status = wire.status_of(exc)
    else:
        log.exception("A call to the store API failed")
        exc, status = CustomerCardError(_("The server failed to do this (its log has the details).")), 500
    return status, wire.JSON_TYPE, wire.dumps(wire.encode_error(exc)), headers


class RpcHelloHandler(_ApiHandler):
    """``GET /api/v1/rpc``: who the caller is to this server, and what it serves."""

    async def get(self) -> None:
        def work() -> tuple[int, str, bytes]:
            store = self.get_store()
            caller = self.caller(store)
            # the file as this server's folder reads its name (a relative --db means nothing in another folder)
            database = str(Path(store.location).expanduser().resolve()) if caller.trusted and \
                store.location != ":memory:" else Path(store.location).name
            if store.location.startswith(("postgresql://", "postgres://")):
                database = "postgresql"
            from . import __version__

            return 200, wire.JSON_TYPE, wire.dumps({
                "login": caller.login, "read_only": caller.read_only, "database": database,
                "version": __version__, "methods": sorted(REMOTE)})
        await self._off_loop(work)


class RpcHandler(_ApiHandler):
    """``POST /api/v1/rpc/<method>``: one call of the store."""

    async def post(self, name: str) -> None:
        rule = REMOTE.get(name)

        def work() -> tuple[int, str, bytes]:
            if rule is None:
                raise CustomerCardError(_("The store has no method {name} that travels.").format(name=name))
            store = self.get_store()
            caller = self.caller(store)
            bound = prepare(store, name, rule, caller, self._arguments())
            # a value of the wrong kind (a text for a customer, a number for a login) would fail inside the store:
            # the caller's mistake, said for the parameter, not the server's failure
            wrong = misfits(inspect.getattr_static(type(store), name), dict(bound.arguments))
            if wrong:
                raise ValidationError({parameter: _("Not a value this takes (a {kind} was given).").format(kind=kind)
                                       for parameter, kind in wrong.items()})
            too_large = oversized({k: v for k, v in bound.arguments.items() if k != "self"})
            if too_large:  # (the database would fail on it: the caller's mistake, said for the parameter)
                raise ValidationError(too_large)
            if name == "sql":
                with one_query_of(caller):
                    result, committed = run(store, name, bound)
            else:
                result, committed = run(store, name, bound)
            if name in PROJECT_LISTS and not caller.trusted and isinstance(result, pd.DataFrame) and \
                    not has_projects_access(store, str(caller.login)):
                result = without_project_detail(result)
            if isinstance(result, pd.DataFrame):
                return 200, wire.ARROW_TYPE, wire.frame_to_arrow(result)
            answer: dict[str, Any] = {"result": wire.encode(result)}
            if committed:
                answer["changes"] = [wire.encode(change) for change in committed]
            return 200, wire.JSON_TYPE, wire.dumps(answer)
        await self._off_loop(work, _SQL_POOL if name == "sql" else None)


def oversized(arguments: dict[str, Any]) -> dict[str, str]:
    """{name: message} for each argument that holds a whole number beyond what the database keeps — itself, as an
    item of a list or a dict, or as a record's field (named by its field, as the store names it)."""
    found: dict[str, str] = {}
    for name, value in arguments.items():
        found.update(_oversized(name, value))
    return found


def _oversized(name: str, value: Any) -> dict[str, str]:
    if isinstance(value, bool):
        return {}
    if isinstance(value, int):
        problem = whole_number_problem(value)
        return {name: problem} if problem else {}
    if isinstance(value, Record):
        return oversized(dict(value.param.values()))
    items: list[Any] = []
    if isinstance(value, list | tuple | set | frozenset):
        items = list(value)
    elif isinstance(value, dict):
        items = [*value, *value.values()]
    for item in items:
        found = _oversized(name, item)
        if found:
            return found
    return {}


#: How long (seconds) at most a client's ``GET /api/v1/rpc/changes`` waits for a change before it is answered.
LONGEST_WAIT = 25.0
#: Changes told to nobody but the server's own pages: a login session's end names the session and its reason.
PRIVATE_KINDS = frozenset({"session"})


class ChangeLog:
    """The changes committed on a server's store lately (any process's, on PostgreSQL), numbered, for the store
    API's clients to follow (a notebook's card through the server hears others' saves as a page does). Kept in
    memory, the last :attr:`keep`; a client that fell further behind misses the oldest (it only redraws)."""

    def __init__(self, store: Store, keep: int = 2_000) -> None:
        self._lock = threading.Lock()
        self._items: deque[tuple[int, Any]] = deque(maxlen=keep)
        self._last = 0
        #: This log's numbering: each server process (and each start) numbers its own, from 0 — a client that
        #: meets another (nginx sent it to another process) starts from where that one stands.
        self.epoch = secrets.token_hex(8)
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        store.changes.subscribe(self._heard, weak=False)  # as long as the store: one log a store

    def _heard(self, change: Any) -> None:  # on the writer's (or the listener's) thread
        if change.kind in PRIVATE_KINDS:
            return
        with self._lock:
            self._last += 1
            self._items.append((self._last, wire.encode(change)))
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            try:
                loop.call_soon_threadsafe(lambda f=future: f.done() or f.set_result(None))
            except RuntimeError:  # its loop has closed (the server stopped): nobody waits there any more
                pass

    def after(self, number: int) -> tuple[int, list[Any]]:
        """(the last change's number, the changes after ``number``); none for a number below 0 (from now on)."""
        with self._lock:
            return self._after(number)

    def _after(self, number: int) -> tuple[int, list[Any]]:  # (the lock held)
        return self._last, ([] if number < 0 else [c for n, c in self._items if n > number])

    async def wait_after(self, number: int, seconds: float) -> tuple[int, list[Any]]:
        """:meth:`after`, waiting up to ``seconds`` on this event loop (no thread held) for one to come."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:  # (checked and waited for under one lock: a change between the two is not missed)
            if number < 0 or number != self._last or seconds <= 0:
                return self._after(number)
            self._waiters.append((loop, future))
        try:
            await asyncio.wait_for(future, seconds)
        except TimeoutError:
            with self._lock:
                self._waiters = [(w_loop, w) for w_loop, w in self._waiters if w is not future]
        return self.after(number)


_CHANGE_LOGS: weakref.WeakKeyDictionary[Any, ChangeLog] = weakref.WeakKeyDictionary()
_CHANGE_LOGS_LOCK = threading.Lock()


def change_log(store: Store) -> ChangeLog:
    """The :class:`ChangeLog` of a server's store (made as the first client asks)."""
    with _CHANGE_LOGS_LOCK:
        found = _CHANGE_LOGS.get(store)
        if found is None:
            found = _CHANGE_LOGS[store] = ChangeLog(store)
        return found


class RpcChangesHandler(_ApiHandler):
    """``GET /api/v1/rpc/changes?after=<n>&epoch=<e>&wait=<seconds>``: the changes committed after the client's
    last one (``after=-1``, or another ``epoch``: none, only where this numbering stands), waiting up to ``wait``
    seconds for one to come (a long poll: no thread is held while it waits).
    ``{"epoch": e, "last": n, "changes": [...]}``."""

    async def get(self) -> None:
        language = self._language()
        try:
            number = int(self.get_argument("after", "-1"))
            wait = float(self.get_argument("wait", "0"))
            if not math.isfinite(wait):  # (a NaN timer would upset the order of every timer of the server)
                raise ValueError(wait)
        except ValueError:
            with using_language(language):
                self._answer(*_failure(CustomerCardError(_("Give after as a whole number and wait in seconds."))))
            return
        wait = min(max(wait, 0.0), LONGEST_WAIT)
        refused = await self._refusal(reads=True)  # (what every change concerns)
        if refused is not None:
            self._answer(*refused)
            return
        log = change_log(self.get_store())
        if self.get_argument("epoch", log.epoch) != log.epoch:  # another process's numbering: from now on here
            number = -1
        try:
            last, found = await log.wait_after(number, wait)
        except asyncio.CancelledError:  # the server stops: nobody to answer
            return
        if self.request.connection.stream.closed():  # the client went away meanwhile (closed its store)
            return
        self._answer(200, wire.JSON_TYPE, wire.dumps({"epoch": log.epoch, "last": last, "changes": found}))


class BackupHandler(_ApiHandler):
    """``POST /api/v1/backup``: the server writes a consistent copy of its database (a local analyst only: the copy
    is a file on this machine)."""

    async def post(self) -> None:
        def work() -> tuple[int, str, bytes]:
            store = self.get_store()
            if not self.caller(store).trusted:
                raise PermissionDenied(_("Only the server's own machine makes backups (customercard backup)."))
            try:
                target = Path(str(json.loads(self.request.body or b"{}")["path"]))
            except (ValueError, KeyError, TypeError, RecursionError):
                raise CustomerCardError(_("Send JSON like {example}.").format(
                    example='{"path": "/backups/copy.duckdb"}')) from None
            if not target.is_absolute():
                raise CustomerCardError(_("Give the backup's full path."))
            return 200, wire.JSON_TYPE, wire.dumps({"path": str(backup_to(store, target))})
        await self._off_loop(work)


def backup_to(store: Store, target: Path) -> Path:
    """``store.backup(target)``; a target that cannot be written (no such folder, a file where a folder should be,
    not ours to write) is a :class:`CustomerCardError` with the reason."""
    try:
        return store.backup(target)
    except OSError as exc:
        raise cannot_write(target, exc) from None
    except duckdb.Error as exc:  # DuckDB could not make or write the file
        if not isinstance(exc, duckdb.IOException | duckdb.PermissionException):
            raise
        reason = str(exc).removeprefix("IO Error: ").removeprefix("Permission Error: ").strip().rstrip(".")
        raise CustomerCardError(_("Cannot write {target}: {value}.").format(target=target, value=reason)) from None


def cannot_write(target: Path, exc: OSError) -> CustomerCardError:
    """Why ``target`` could not be written, in one line: a file where a folder of its path should be is named."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, FileExistsError | NotADirectoryError):
        blocking = next((folder for folder in Path(target).parents if folder.exists() and not folder.is_dir()), None)
        if blocking is not None:
            reason = _("{path} is a file, not a folder").format(path=blocking)
    return CustomerCardError(_("Cannot write {target}: {value}.").format(target=target, value=reason))


def remote_handlers(get_store: Callable[[], Store], local_key: str,
                    limits: Limits | None = None) -> list[tuple[str, type, dict[str, Any]]]:
    """The routes of the store's API, for :meth:`customercard.server.CardServer.handlers`. ``limits`` is the server
    (its gate and request budget: the limits of /api/v1); without it, none."""
    given = {"get_store": get_store, "local_key": local_key, "limits": limits}
    return [(r"/api/v1/rpc/?", RpcHelloHandler, given), (r"/api/v1/rpc/changes", RpcChangesHandler, given),
            (r"/api/v1/rpc/([A-Za-z_][A-Za-z0-9_]*)", RpcHandler, given), (r"/api/v1/backup", BackupHandler, given)]
