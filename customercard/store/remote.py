"""The store through a running server: :class:`RemoteStore` and :func:`connect`.

On the embedded default one server process holds the DuckDB file; a notebook or a script beside it reaches the data
through that server instead: the same public API as :class:`~customercard.store.Store`, each call a ``POST
/api/v1/rpc/<method>`` that the server runs on its own store — validated, version-checked, in history, with the
permissions the server enforces — and DataFrames coming back as Arrow (see :mod:`.wire`).

Which of the store's methods travel is said once, here: :data:`REMOTE` (with what a caller with an API token needs
for each) and :data:`NOT_REMOTE` (with why not). Both sides are made from it and from the store's own signatures:
:class:`RemoteStore` has each method with the store's signature and documentation, and the server
(:mod:`customercard.remote_api`) binds what arrives to the same signature.

Two ways in: an API token (``connect(url, token=…)``; the server acts as the token's user, and a read-only token
only reads), or the key of the discovery file a local server writes beside its database
(:mod:`.discovery`, which :func:`~customercard.store.open_store` uses): the same trust as opening the file, so,
as with the embedded store, every write says who acts (``user=…``, else ``CUSTOMERCARD_USER`` or the OS login).
"""

from __future__ import annotations

import functools
import http.client
import inspect
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from .. import models
from ..errors import CustomerCardError, PermissionDenied, TooManyAttempts
from ..i18n import N_, _, current_language
from . import wire
from .asof import AsOfDayReads, day_text
from .changes import ChangeFeed

log = logging.getLogger(__name__)


class Unreachable(CustomerCardError):
    """The server cannot be reached (stopped, or the network down)."""


RPC_PATH = "/api/v1/rpc"
BACKUP_PATH = "/api/v1/backup"
CHANGES_PATH = "/api/v1/rpc/changes"
#: How long (seconds) the server is asked to hold a request for changes open when none has come.
FOLLOW_WAIT = 20
#: An equal change told again within this many seconds is the same one (our call's, heard twice).
ECHO_SECONDS = 5.0
#: A call past the token's request budget waits as the server says (its Retry-After), up to this long, and is
#: sent again once; a longer wait is told (``TooManyAttempts.wait_seconds``).
LONGEST_BUDGET_WAIT = 60
#: The header that carries a discovery file's local key.
KEY_HEADER = "X-Customercard-Key"
#: Parameters that say who acts (a login, or None for "the acting user").
ACTOR_PARAMETERS = ("user", "by")


@dataclass(frozen=True)
class Remote:
    """How a store method travels. ``need``: what an API token's user must be allowed — ``read``; ``own`` (the
    user's own things, their preferences; not with a read-only token); ``write`` (change customers: a manager or an
    administrator, not with a read-only token); ``admin``; ``projects``: read, as a user with projects access (one
    project, as its page ``/project``: see :mod:`customercard.http_api.access`); ``key``: the server's local key only
    (the command line beside a running server: API tokens, passwords), never an API token. ``own_login``: the
    argument naming whose things these are, which a token's user may only set to themselves (administrators:
    anyone)."""

    need: str = "read"
    own_login: str = ""
    #: Whether it changes anything (an administrator's read-only token may still make the admin's reads).
    writes: bool = True


READ, WRITE, ADMIN, KEY = Remote("read"), Remote("write"), Remote("admin"), Remote("key")
#: What only an administrator may read (the admin log, the outbox): a read-only token of theirs reads it too.
ADMIN_READ = Remote("admin", writes=False)
#: One project, whole: for users with projects access (a read-only token of theirs too).
PROJECTS = Remote("projects", writes=False)

#: The store's methods a RemoteStore has, and what an API token needs for each.
REMOTE: dict[str, Remote] = {
    # customers
    "get_customer": READ, "customer_exists": READ, "new_customer": READ, "history": READ, "list_customers": READ,
    "find_customers": READ, "countries_in_use": READ, "search": READ, "possible_duplicates": READ,
    "merge_preview": READ, "customer_names": READ, "timeline": READ, "contact_timeline": READ,
    "customer_as_of": READ, "diff": READ, "comments_as_of": READ, "comment_count_as_of": READ,
    "contacts_as_of": READ, "projects_as_of": READ, "events_as_of": READ, "opportunities_as_of": READ,
    "follow_ups_as_of": READ,
    "relations_as_of": READ, "files_as_of": READ, "timeline_as_of": READ, "invoiced_per_year_as_of": READ,
    "invoices_as_of": READ,
    "pipeline_per_year_as_of": READ,
    "restore_as_of": WRITE, "restore_contact": WRITE, "record_history": READ, "is_empty": READ,
    "export_customers_frame": READ, "export_contacts_frame": READ,
    "create_customer": WRITE, "create_customers": WRITE, "save_customer": WRITE, "restore": WRITE,
    "merge_customers": WRITE, "link_customer": WRITE, "unlink_customer": WRITE,
    # invoicing
    "invoiced_per_year": READ, "invoices": READ, "pipeline_per_year": READ, "add_invoices": WRITE,
    # comments, contact persons, projects, files
    "comments": READ, "comment_count": READ, "comments_with_count": READ, "get_comment": READ,
    "add_comment": WRITE, "edit_comment": WRITE,
    "contacts": READ, "get_contact": READ, "find_contacts": READ, "create_contact": WRITE, "save_contact": WRITE,
    "projects": READ, "get_project": PROJECTS, "create_project": WRITE, "files": READ, "file_record": READ,
    # CRM
    "events": READ, "get_event": READ, "new_event": READ, "create_event": WRITE, "save_event": WRITE,
    "set_event_status": WRITE, "opportunities": READ, "get_opportunity": READ, "new_opportunity": READ,
    "open_opportunities": READ, "pipeline": READ, "pipeline_summary": READ, "pipeline_cards": READ,
    "create_opportunity": WRITE, "save_opportunity": WRITE,
    "relations": READ, "contact_relations": READ, "get_relation": READ, "add_relation": WRITE, "remove_relation": WRITE,
    # the firm, its lists and its users
    "settings": READ, "choices": READ, "criteria": READ, "criterion_value_ids": READ,
    "list_values": READ, "users": READ, "get_user": READ,
    "user_name": READ, "can": READ, "schema_version": READ, "sql": READ,
    "prefs": Remote("read", own_login="login"), "set_pref": Remote("own", own_login="login"),
    "set_language": Remote("own", own_login="login"),
    "save_settings": ADMIN, "add_list_value": ADMIN, "rename_list_value": ADMIN, "move_list_value": ADMIN,
    "set_list_value_active": ADMIN, "save_criterion": ADMIN, "add_user": ADMIN, "update_user": ADMIN,
    "admin_log": ADMIN_READ, "admin_log_areas": ADMIN_READ,
    # how many of a customer's changes wait to be sent: on every card (the rows themselves, their payloads and
    # errors, are the administrators')
    "outbox": ADMIN_READ, "outbox_counts": READ, "retry_outbox": ADMIN,
    # what `customercard users/tokens` do beside a running server (whoever may read its discovery file may open the
    # database itself); an API token is refused these: tokens are made on the profile page
    **dict.fromkeys(("create_token", "tokens", "get_token", "revoke_token", "set_password"), KEY),
    "duplicates_of": READ,
    "anonymise_contact": ADMIN, "contact_data_export": ADMIN,
    # saved views (each user's own; the store checks who may change a shared one) and bulk changes
    "views": READ, "get_view": READ, "save_view": Remote("own"), "delete_view": Remote("own"),
    "bulk_preview": WRITE, "bulk_change": WRITE, "undo_bulk_change": WRITE, "get_bulk_change": READ,
    "bulk_changes": READ, "bulk_change_customers": READ,
    # follow-ups and the home page
    "follow_ups": READ, "follow_up_counts": READ, "get_follow_up": READ, "new_follow_up": READ, "add_follow_up": WRITE,
    "save_follow_up": WRITE, "set_follow_up_done": WRITE, "firm_today": READ, "changes_by_others": READ,
    "invoicing_behind": READ, "open_pipeline_by_stage": READ,
    "follow_up_mail_wanted": Remote("read", own_login="login"),
    "set_follow_up_mail_wanted": Remote("own", own_login="login"), "home_seen": Remote("read", own_login="login"),
    "mark_home_seen": Remote("own", own_login="login"), "recent_cards": Remote("read", own_login="login"),
    "record_card_view": Remote("own", own_login="login"),
}

#: The store's public methods that stay with the server, and why (said when one is called on a RemoteStore).
NOT_REMOTE: dict[str, str] = {
    **dict.fromkeys(("authenticate", "log_in", "login_wait", "start_session", "session_login", "session_id",
                     "sessions", "end_session", "end_session_of", "end_sessions", "end_lapsed_sessions",
                     "change_password"),
                    N_("passwords and login sessions are the server's login pages' own")),
    "authenticate_token": N_("API tokens are made and checked by the server itself"),
    "shared_secret": N_("secrets stay on the server"),
    "require": N_("the server checks permissions on its own side; ask can(user, need)"),
    "forget_cached": N_("it is the server's own upkeep after a change made outside the store"),
    **dict.fromkeys(("throttle_wait", "count_failure"), N_("the throttle is the server's login pages' own")),
    **dict.fromkeys(("due_outbox_rows", "mark_attempt_failed", "mark_delivered"),
                    N_("the server's own delivery worker does this")),
    **dict.fromkeys(("hold_search_in_memory", "rebuild_search_index"),
                    N_("it is the server's own upkeep (`customercard reindex` with the server stopped)")),
    **dict.fromkeys(("add_file_record", "delete_file"), N_("files travel with their content: use the card's Files")),
    "borrowed": N_("it lends a server's own store to the pages it serves"),
    **dict.fromkeys(("follow_up_mail_recipients", "claim_follow_up_mail", "release_follow_up_mail",
                     "follow_up_mail_days"), N_("the server's own reminder scheduler does this")),
}


#: What a RemoteStore does itself: closing its connections, asking the server for a backup, its own change feed,
#: and the store as of a day (made of the server's ``…_as_of`` reads).
LOCAL_ONLY = ("backup", "changes", "close", "as_of")


def actor_parameters(signature: inspect.Signature) -> list[str]:
    """The parameters of a store method that say who acts: ``user`` or ``by``, given as a login."""
    return [name for name in ACTOR_PARAMETERS if name in signature.parameters
            and str(signature.parameters[name].annotation).replace(" ", "") in ("str|None", "Optional[str]")]


def call_arguments(signature: inspect.Signature, arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments by name as a call takes them: a ``**fields`` parameter's values spread out."""
    result: dict[str, Any] = {}
    for name, value in arguments.items():
        parameter = signature.parameters.get(name)
        if parameter is not None and parameter.kind is inspect.Parameter.VAR_KEYWORD:
            result.update(value)
        else:
            result[name] = value
    return result


# -- the client ------------------------------------------------------------------------------------------------
class RemoteStore:
    """The :class:`~customercard.store.Store` API, served by a running customercard server.

    Made by :func:`connect` (an API token) or by :func:`~customercard.store.open_store` when a local server holds
    the database (its discovery file's key). Thread-safe: every thread keeps its own connection."""

    def __init__(self, url: str, *, token: str | None = None, key: str | None = None,
                 database: str | None = None, timeout: float = 120.0,
                 find_again: Callable[[], Any] | None = None) -> None:
        parts = urlsplit(url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise CustomerCardError(_("{url} is not the address of a customercard server (http://host:port).")
                                    .format(url=url))
        if not token and not key:
            raise PermissionDenied(_("Give an API token: connect(url, token=…) (make one on your profile page)."))
        self.location = f"{parts.scheme}://{parts.netloc}{parts.path}"
        self._parts = parts
        self._headers = {"Content-Type": wire.JSON_TYPE, "Accept": f"{wire.ARROW_TYPE}, {wire.JSON_TYPE}"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        else:
            self._headers[KEY_HEADER] = str(key)
        #: Reads the discovery file that gave the key (open_store) again: a server started again writes a new key
        #: there, and this store takes it (see :meth:`_found_again`); None for a store made with a token.
        self._find_again = find_again
        self.timeout = timeout
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        #: Committed changes: those made through this store (the server tells what each call committed), and, once
        #: something subscribes (an open card), everyone else's as the server hears of them (a long poll).
        self.changes = ChangeFeed()
        self.changes.on_first_subscriber = self._follow_changes
        self._following: threading.Thread | None = None
        self._closed = threading.Event()
        self._told: deque[tuple[float, Any]] = deque(maxlen=500)  # the changes told lately, with when
        hello = self._request("GET", RPC_PATH)
        #: The login the server acts as for an API token (None with a local key: the acting user, as embedded).
        self.login: str | None = hello.get("login")
        #: Whether this token only reads.
        self.read_only = bool(hello.get("read_only"))
        #: The database the server serves.
        self.database: str = database or hello.get("database", "")

    def __repr__(self) -> str:
        return f"RemoteStore({self.location!r})"

    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close this store's connections (the server and its database go on)."""
        self._closed.set()
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def acting(self) -> str:
        """Who acts where a call does not say: the token's user, else as the embedded store (the served session's
        login, else ``CUSTOMERCARD_USER``, else the OS login)."""
        if self.login:
            return self.login
        from ..identity import acting_user

        return acting_user()

    def as_of(self, day: Any) -> RemoteAsOfDay:
        """This store, read only, answering as at the end of ``day`` (as :meth:`Store.as_of`): the customer and its
        records as they stood, read by the server's ``…_as_of`` methods; writes are refused."""
        from .activity import as_day_or_moment

        return RemoteAsOfDay(self, as_day_or_moment(day))

    def backup(self, target: str | Path) -> Path:
        """Have the server write a consistent copy of the whole database to a new file (a local server only)."""
        path = Path(target).expanduser().resolve()
        self._request("POST", BACKUP_PATH, wire.dumps({"path": str(path)}))
        return path

    # -- calls ---------------------------------------------------------------------------------------------------
    def _call(self, name: str, arguments: dict[str, Any]) -> Any:
        body = wire.dumps({"arguments": {key: wire.encode(wire.as_sent(value)) for key, value in arguments.items()}})
        try:
            result = self._request("POST", f"{RPC_PATH}/{name}", body)
        except TooManyAttempts as exc:  # past the token's request budget: nothing was done; wait as told, once
            if not 0 < exc.wait_seconds <= LONGEST_BUDGET_WAIT or self._closed.is_set():
                raise
            self._closed.wait(exc.wait_seconds)
            result = self._request("POST", f"{RPC_PATH}/{name}", body)
        if not isinstance(result, dict):
            return result  # a frame
        for change in result.get("changes", ()):
            self._tell(wire.decode(change))
        return wire.decode(result.get("result"))

    def _tell(self, change: Any) -> None:
        """Tell the subscribers of a committed change once: our own call's arrives both with its answer and
        with the server's changes, in either order, within moments (an equal change later is another one: a second
        merge into the same customer)."""
        now = time.monotonic()
        with self._lock:
            if any(told == change and now - at < ECHO_SECONDS for at, told in self._told):
                return
            self._told.append((now, change))
        self.changes.publish(change)

    def _follow_changes(self) -> None:
        """Start hearing everyone's committed changes from the server (once; until :meth:`close`): from where the
        server's numbering stands as the first subscriber arrives (asked here, so that nothing committed after
        it is missed)."""
        with self._lock:
            if self._following is not None or self._closed.is_set():
                return
            self._following = threading.current_thread()  # (taken: one follower)
        where = (-1, "")
        try:
            first = self._request("GET", f"{CHANGES_PATH}?after=-1")
            where = (int(first.get("last", 0)), str(first.get("epoch", "")))
        except TooManyAttempts:  # past the budget for now: the follower asks again in a moment
            pass
        except (PermissionDenied, LookupError):  # an older server, or no right to: nothing to hear
            return
        except CustomerCardError:
            pass
        self._following = threading.Thread(target=self._follow, args=where, name="customercard-remote-changes",
                                           daemon=True)
        self._following.start()

    def _follow(self, after: int, epoch: str) -> None:
        while not self._closed.is_set():
            try:
                answer = self._request("GET", f"{CHANGES_PATH}?after={after}&epoch={epoch}&wait={FOLLOW_WAIT}")
            except TooManyAttempts as exc:  # the token's request budget: wait as told, then go on
                self._closed.wait(max(1, exc.wait_seconds))
                continue
            except (PermissionDenied, LookupError):  # the token was revoked, its user deactivated; an older
                return  # server that tells no changes: nothing more to hear
            except CustomerCardError:  # the server restarts, the network is down: again in a moment
                self._closed.wait(2.0)
                continue
            last, told_epoch = int(answer.get("last", 0)), str(answer.get("epoch", ""))
            if told_epoch != epoch:  # another server process, or one started anew: from where it stands
                after, epoch = last, told_epoch
                continue
            for data in answer.get("changes", ()):
                self._tell(wire.decode(data))
            after = last

    def _request(self, method: str, path: str, body: bytes | None = None) -> Any:
        used = self._headers.get(KEY_HEADER)  # (another thread may find the server anew meanwhile)
        try:
            status, kind, data = self._exchange(method, path, body)
        except Unreachable:  # a server started again may listen elsewhere
            if not self._found_again(used):
                raise
            status, kind, data = self._exchange(method, path, body)
        if status == HTTPStatus.UNAUTHORIZED and self._found_again(used):
            status, kind, data = self._exchange(method, path, body)
        if kind.startswith(wire.ARROW_TYPE) and status == HTTPStatus.OK:
            return wire.frame_from_arrow(data)
        try:
            payload = json.loads(data or b"{}")
        except ValueError:
            raise CustomerCardError(_("The server at {url} answered {status} with something other than customercard's "
                                      "API.").format(url=self.location, status=status)) from None
        if status >= HTTPStatus.BAD_REQUEST or "error" in payload:
            raise wire.decode_error(payload.get("error") or {"message": f"HTTP {status}"})
        return payload

    def _found_again(self, used: str | None) -> bool:
        """Whether the server of the database this store found through its discovery file was started again (its
        key refused) and is found there anew: then this store speaks to it with its new key and address. A store
        made with a token, or whose server is gone, stays as it was (the request is answered as it was)."""
        if self._find_again is None:
            return False
        if self._headers.get(KEY_HEADER) != used:  # another thread found it anew since this request was sent
            return True
        found = self._find_again()
        if found is None or found.key == used:
            return False
        parts = urlsplit(found.url.rstrip("/"))
        with self._lock:
            if self._headers.get(KEY_HEADER) != used:
                return True
            connections, self._connections = self._connections, []
            self._parts, self.location = parts, f"{parts.scheme}://{parts.netloc}{parts.path}"
            self._headers[KEY_HEADER] = str(found.key)
        for connection in connections:
            connection.close()
        self._local = threading.local()
        log.info("The server of this store's database was started again: speaking to it at %s", self.location)
        return True

    def _exchange(self, method: str, path: str, body: bytes | None) -> tuple[int, str, bytes]:
        headers = {**self._headers, "Accept-Language": current_language()}
        target = (self._parts.path or "") + path
        for last_try in (False, True):
            connection, reused = self._connection()
            try:
                connection.request(method, target, body=body, headers=headers)
                response = connection.getresponse()
                return response.status, response.getheader("Content-Type", ""), response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop(connection)  # an idle kept-alive connection the server closed: once more, anew
                if last_try or not reused:
                    raise self._unreachable(exc) from None
            except (OSError, http.client.HTTPException) as exc:
                self._drop(connection)
                raise self._unreachable(exc) from None
        raise AssertionError("unreachable")

    def _unreachable(self, exc: Exception) -> CustomerCardError:
        return Unreachable(_("The customercard server at {url} cannot be reached: {error}").format(
            url=self.location, error=exc or type(exc).__name__))

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection, True
        kind = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
        connection = kind(self._parts.hostname, self._parts.port, timeout=self.timeout)
        self._local.connection = connection
        with self._lock:
            self._connections.append(connection)
        return connection, False

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        connection.close()
        self._local.connection = None
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)


def _remote_method(name: str, function: Any) -> Any:
    """The RemoteStore method ``name``: the store's signature, bound here (a wrong call fails as it would
    embedded), who acts filled in as the embedded store fills it, sent, and the answer given back — a record the
    call was given (saved, created) becomes what the server made of it, as the embedded store changes it."""
    signature = inspect.signature(function)
    actors = actor_parameters(signature)

    def method(self: RemoteStore, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        arguments.pop(next(iter(signature.parameters)))
        for actor in actors:
            if not arguments.get(actor):  # None or '' — as the embedded store reads them (``user or acting_user()``)
                arguments[actor] = self.acting()
        result = self._call(name, arguments)
        return _given_back(result, list(arguments.values()))

    method.__name__, method.__qualname__ = name, f"RemoteStore.{name}"
    method.__doc__ = function.__doc__
    method.__signature__ = signature  # type: ignore[attr-defined]
    return method


def _given_back(result: Any, given: list[Any]) -> Any:
    """The records the call was given, changed as the server changed them, where the result is them."""
    if isinstance(result, models.Record):
        same = next((value for value in given if type(value) is type(result)), None)
        return wire.absorb(same, result) if same is not None else result
    if isinstance(result, list) and result and all(isinstance(item, models.Record) for item in result):
        same = next((value for value in given if isinstance(value, list) and len(value) == len(result)
                     and all(type(a) is type(b) for a, b in zip(value, result, strict=True))), None)
        if same is not None:
            return [wire.absorb(mine, theirs) for mine, theirs in zip(same, result, strict=True)]
    return result


def _not_remote(name: str, reason: str) -> Any:
    def method(_self: RemoteStore, *_args: Any, **_kwargs: Any) -> Any:  # it stands in for the store's method
        raise CustomerCardError(_("{method} is not available through a server: {reason}.").format(
            method=name, reason=_(reason)))

    method.__name__, method.__qualname__ = name, f"RemoteStore.{name}"
    method.__doc__ = f"Not available through a server: {reason}."
    return method



class RemoteAsOfDay(AsOfDayReads):
    """A remote store read as of a day (:meth:`RemoteStore.as_of`): the reads a card makes answered as they stood,
    every other read today's, every write refused."""

    def __init__(self, base: RemoteStore, day: Any) -> None:
        self.base, self.day = base, day

    def __repr__(self) -> str:
        return f"{self.base!r}.as_of({self.day!r})"

    def __enter__(self) -> RemoteAsOfDay:
        return self

    def __exit__(self, *exc: object) -> None:
        return None  # the view shares the remote store's connections: closing it closes nothing

    def close(self) -> None:
        """Nothing to close (the remote store it reads through goes on)."""

    def __getattr__(self, name: str) -> Any:
        rule = REMOTE.get(name)
        # writes refused; reads answered as the server answers them (an administrator's reads to administrators)
        if rule is not None and rule.need not in ("read", "own") and rule.writes:
            def refused(*_args: Any, **_kwargs: Any) -> Any:
                raise PermissionDenied(_("This is the card as it was on {day}: it is read only.").format(
                    day=day_text(self.day)))
            return refused
        return getattr(self.base, name)

    def can(self, user: str | None, need: str) -> bool:
        return need not in ("write", "admin") and self.base.can(user, need)

    def history(self, customer_id: int, field: str | None = None) -> pd.DataFrame:
        frame = self.base.history(customer_id, field)
        return frame[frame["changed_at"] <= self._cutoff()].reset_index(drop=True)

    def invoices(self, customer_id: int, year: int | None = None, project: int | None = None) -> pd.DataFrame:
        return self.base.invoices_as_of(customer_id, self.day, year=year, project=project)  # merges since too

    def _cutoff(self) -> Any:
        """The last moment of the day (the firm's), as history's times are kept."""
        from .activity import day_end

        return day_end(self.day, self.base.settings().time_zone)

def offer_remotely(store: type) -> None:
    """Give :class:`RemoteStore` the store's methods named in :data:`REMOTE` (with their signatures and documents)
    and those in :data:`NOT_REMOTE`, refused with their reason (called once, by :mod:`customercard.store`)."""
    for name, _rule in REMOTE.items():
        found = inspect.getattr_static(store, name)
        if isinstance(found, property):
            setattr(RemoteStore, name, property(lambda self, name=name: self._call(name, {}), doc=found.__doc__))
        else:
            setattr(RemoteStore, name, _remote_method(name, found))
    for name, reason in NOT_REMOTE.items():
        setattr(RemoteStore, name, _not_remote(name, reason))
    asked = RemoteStore.can

    @functools.wraps(asked)
    def can(self: RemoteStore, user: str | None, need: str) -> bool:
        # a token that only reads may do nothing more, whatever its user's role: a card through it offers no Edit
        # (asked about another user: what that user may do)
        about_me = user in (None, self.login)
        return (need == "read" or not self.read_only or not about_me) and asked(self, user, need)

    RemoteStore.can = can



def connect(url: str, token: str | None = None, *, timeout: float = 120.0) -> RemoteStore:
    """The store of the customercard server at ``url``, reached with an API token (made on your profile page):
    the same API as :func:`~customercard.store.open_store`'s, acting as the token's user."""
    return RemoteStore(url, token=token, timeout=timeout)
