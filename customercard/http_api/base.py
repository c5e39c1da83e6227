"""What every ``/api/v1`` handler does: who is asking, how much they may ask, and answering in one JSON shape.

A request is authenticated by ``Authorization: Bearer <token>`` (a personal API token, see
:mod:`customercard.store.tokens`) or by the browser's login cookies. A cookie request that writes must come from
this server's own pages (its ``Origin``, else ``Referer``, when sent, names this server) and send JSON, which a form
of another site cannot. Each token (each login, for cookies) has a request budget (:mod:`.limits`).

The work of a request runs on a worker thread, never on the server's event loop, and in the reader's language: the
request's ``Accept-Language`` when it names one customercard speaks, else the user's choice, else English.

Every error is a problem detail (RFC 9457, ``application/problem+json``): ``type``, ``title``, ``status``,
``detail``, ``instance``, and where it helps ``errors`` (field → message), ``conflicts`` (fields changed meanwhile)
or ``current_etag``.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from tornado.ioloop import IOLoop
from tornado.web import RequestHandler, stream_request_body

from .. import formatting
from ..errors import (
    ConflictError,
    CustomerCardError,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
    ValidationError,
    WriteConflict,
)
from ..i18n import N_, SOURCE_LANGUAGE, _, negotiate, supported, using_language
from ..login import from_this_site
from ..models import User
from ..store.sessions import token_hash
from .body import BoundedBody
from .values import etag, field_value, json_text, path_id, record_json, to_json

if TYPE_CHECKING:
    import pandas as pd

    from ..login import SessionGate
    from ..models import Record
    from ..store import Store
    from .limits import RequestBudget

log = logging.getLogger(__name__)


class Serving(Protocol):
    """What the API's handlers need of the server that serves them (a :class:`~customercard.server.CardServer`):
    its store, its session gate (who is logged in, from where) and each caller's request budget."""

    gate: SessionGate
    api_budget: RequestBudget

    def current_store(self) -> Store:
        """The store this server serves."""
        ...

API_PREFIX = "/api/v1"
#: The largest request body read (a customer with every text at its longest is well below it).
MAX_BODY = 1_000_000
WRITES = ("POST", "PATCH", "DELETE")
#: The most digits a whole-number query parameter takes (so that it is well inside a 32-bit integer).
INT_ARG_DIGITS = 9
#: Each problem's title (English source text) and the anchor of its explanation on the docs page.
PROBLEMS: dict[int, tuple[str, str]] = {
    400: (N_("Bad request"), "bad-request"),
    401: (N_("Authentication needed"), "unauthorized"),
    403: (N_("Not allowed"), "forbidden"),
    404: (N_("Not found"), "not-found"),
    405: (N_("Method not allowed"), "method-not-allowed"),
    409: (N_("Written at the same moment"), "write-conflict"),
    412: (N_("Changed meanwhile"), "stale"),
    413: (N_("Request too large"), "too-large"),
    415: (N_("Send JSON"), "unsupported-media-type"),
    422: (N_("Invalid input"), "invalid"),
    428: (N_("Say which version you change"), "if-match-required"),
    429: (N_("Too many requests"), "too-many-requests"),
    500: (N_("Server error"), "server-error"),
}


#: The store's other refusals as a status (and headers): a write that met another at the same moment may be sent
#: again as it was (nothing was saved).
REFUSALS: tuple[tuple[type[CustomerCardError], int, dict[str, str] | None], ...] = (
    (PermissionDenied, 403, None), (NotFound, 404, None), (WriteConflict, 409, {"Retry-After": "1"}))


class ApiError(Exception):
    """A problem to answer with: its status, a detail for people, headers, and more members."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers, self.extra = status, detail, dict(headers or {}), extra


@dataclass
class Reply:
    """What a handler answers: status, JSON body (None: none), headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Caller:
    """Who is asking: the user, whether only reading is allowed (a read-only token), and how they came."""

    user: User
    read_only: bool = False
    by_token: bool = False


def problem_type(status: int) -> str:
    """The ``type`` of a problem: its explanation on the docs page."""
    return f"{API_PREFIX}/docs#problem-{PROBLEMS.get(status, PROBLEMS[500])[1]}"


@stream_request_body
class ApiHandler(BoundedBody, RequestHandler):
    """The base of every ``/api/v1`` handler: a subclass defines ``do_GET(caller, *args)`` (and POST, PATCH,
    DELETE) returning a :class:`Reply`; it runs on a worker thread after the caller is known.

    The body is read as it arrives, up to :data:`MAX_BODY` bytes: a longer one is answered 413 as soon as its
    length is declared (or once it has passed the bound), the rest left unread — not held in memory first."""

    #: Whether a login (token or cookies) is needed.
    needs_login = True
    max_body = MAX_BODY
    #: The query parameters each method takes; any other is refused (400), so that a misspelt filter is not
    #: silently ignored.
    query_parameters: ClassVar[dict[str, tuple[str, ...]]] = {}
    #: Query parameters starting so are taken too (``seg.<criterion>`` of a /search address).
    query_prefix = ""

    def initialize(self, server: Serving) -> None:
        self.server = server

    # -- Tornado's side (the event loop) -------------------------------------------------------------------
    def check_xsrf_cookie(self) -> None:  # cookie writes are checked in _authenticate (origin and JSON)
        return None

    def prepare(self) -> None:
        self.start_body()

    def too_large(self) -> None:
        with using_language(self._asked_language() or SOURCE_LANGUAGE):
            self._send(self._problem(ApiError(413, _("Send at most {n} bytes.").format(n=formatting.number(MAX_BODY)))))

    async def get(self, *args: str) -> None:
        await self._serve("GET", args)

    async def head(self, *args: str) -> None:
        """What GET answers (status and headers, its Content-Length and ETag), without the body: Tornado sends no
        body for HEAD. Not named in ``Allow`` (which lists what a handler does; HEAD goes with every GET)."""
        await self._serve("GET", args)

    async def post(self, *args: str) -> None:
        await self._serve("POST", args)

    async def patch(self, *args: str) -> None:
        await self._serve("PATCH", args)

    async def delete(self, *args: str) -> None:
        await self._serve("DELETE", args)

    def compute_etag(self) -> None:
        """No ETag from the body's hash: a record's ETag is its version, set where a record is answered."""
        return None

    def allowed_methods(self) -> list[str]:
        return [m for m in ("GET", "POST", "PATCH", "DELETE") if hasattr(self, f"do_{m}")]

    async def _serve(self, method: str, args: tuple[str, ...]) -> None:
        if self._finished:  # answered already (a body too large)
            return
        self.body_read()
        if not hasattr(self, f"do_{method}"):
            with using_language(self._asked_language() or SOURCE_LANGUAGE):  # said in the language asked for
                self._send(self._problem(ApiError(405, "", {"Allow": ", ".join(self.allowed_methods())})))
            return
        reply = await IOLoop.current().run_in_executor(None, self._work, method, args)
        self._send(reply)

    def _send(self, reply: Reply) -> None:
        self.set_status(reply.status)
        for name, value in reply.headers.items():
            self.set_header(name, value)
        self.set_header("Cache-Control", "no-store")
        if reply.body is None:
            self.finish()
            return
        self.set_header("Content-Type", f"{reply.content_type}; charset=utf-8")
        text = reply.body if isinstance(reply.body, str) else json_text(reply.body)
        self.finish(text)

    def write_error(self, status_code: int, **_kwargs: Any) -> None:
        """Tornado's own refusals (a method no handler has, a malformed request) as problem details too."""
        headers = {"Allow": ", ".join(self.allowed_methods())} if status_code == HTTPStatus.METHOD_NOT_ALLOWED else {}
        self.clear_header("Content-Type")
        with using_language(self._asked_language() or SOURCE_LANGUAGE):
            reply = self._problem(ApiError(status_code, "", headers))
        for name, value in reply.headers.items():
            self.set_header(name, value)
        self.set_header("Content-Type", "application/problem+json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json_text(reply.body))

    # -- a worker thread's side ------------------------------------------------------------------------------
    def check_available(self) -> None:
        """Raise an :class:`ApiError` when what this handler serves is switched off (nothing is by default)."""

    @property
    def store(self) -> Store:
        return self.server.current_store()

    def _work(self, method: str, args: tuple[str, ...]) -> Reply:
        asked = self._asked_language()
        language = asked or SOURCE_LANGUAGE
        try:
            with using_language(language):
                caller, key = self._authenticate() if self.needs_login else (None, "")
            language = asked or (caller.user.language if caller is not None else "") or SOURCE_LANGUAGE
            with using_language(language):  # known now: a refusal from here on is in their language
                if caller is not None:
                    self._admit(caller, key, method)
                try:
                    self._check_query(method)
                    self.check_available()
                    reply = getattr(self, f"do_{method}")(caller, *args)
                except ApiError as exc:
                    reply = self._problem(exc)
                except CustomerCardError as exc:
                    reply = self._problem(self.problem_of(exc))
        except ApiError as exc:
            with using_language(language):
                reply = self._problem(exc)
        except Exception:
            log.exception("%s %s failed", method, self.request.path)
            with using_language(language):
                reply = self._problem(ApiError(500, _("Something went wrong on the server; nothing was changed by "
                                                      "this request unless it said so. The server's log has the "
                                                      "details.")))
        reply.headers.setdefault("Content-Language", language)
        return reply

    def _check_query(self, method: str) -> None:
        allowed = self.query_parameters.get(method, ())
        prefix = self.query_prefix
        unknown = [name for name in self.request.query_arguments  # the prefix alone names nothing: seg.=x
                   if name not in allowed and not (prefix and name.startswith(prefix) and len(name) > len(prefix))]
        if unknown:
            raise ApiError(400, _("Some query parameters are wrong: see errors."),
                           errors={name: _("Not a parameter of this request.") for name in unknown[:20]})

    def _asked_language(self) -> str:
        """The request's ``Accept-Language`` when it names a language customercard speaks, else ''."""
        asked = self.request.headers.get("Accept-Language", "")
        if any(supported(part.split(";")[0].strip()) for part in asked.split(",")):
            return negotiate(asked)
        return ""

    def _problem(self, exc: ApiError) -> Reply:
        title, _anchor = PROBLEMS.get(exc.status, PROBLEMS[500])
        body = {"type": problem_type(exc.status), "title": _(title), "status": exc.status,
                "detail": exc.detail or _(title), "instance": self.request.path, **exc.extra}
        return Reply(exc.status, body, exc.headers, "application/problem+json")

    @staticmethod
    def problem_of(exc: CustomerCardError) -> ApiError:
        """The store's refusal as a problem."""
        if isinstance(exc, ValidationError):
            return ApiError(422, _("Nothing was saved: correct the fields named in errors."), errors=exc.errors)
        if isinstance(exc, ConflictError):
            return ApiError(412, str(exc), current_etag=etag(exc.stored_version), conflicts=[
                {"field": c.field, "stored": to_json(c.stored), "attempted": to_json(c.attempted),
                 "changed_by": c.changed_by, "changed_at": to_json(c.changed_at)} for c in exc.conflicts])
        if isinstance(exc, TooManyAttempts):
            return ApiError(429, str(exc), {"Retry-After": str(exc.wait_seconds)})
        for kind, status, headers in REFUSALS:
            if isinstance(exc, kind):
                return ApiError(status, str(exc), headers)
        return ApiError(400, str(exc))  # e.g. the database refused a value: one clear line, nothing saved

    # -- who is asking ----------------------------------------------------------------------------------------
    def _authenticate(self) -> tuple[Caller, str]:
        """The caller, once its token or cookies are good, and the key of its request budget. Refusals are 401
        (who?) and 429 (too many wrong tokens from this address: wait)."""
        header = self.request.headers.get("Authorization")
        if header is not None:
            scheme, _space, secret = header.strip().partition(" ")
            if scheme.lower() != "bearer" or not secret.strip():
                raise self._unauthorized(_("Send Authorization: Bearer and a token made on your profile page."))
            try:
                user, read_only = self.store.authenticate_token(secret.strip(),
                                                                self.server.gate.client_address(self.request))
            except TooManyAttempts as exc:
                raise ApiError(429, str(exc), {"Retry-After": str(exc.wait_seconds)}) from None
            except PermissionDenied as exc:
                raise self._unauthorized(str(exc)) from None
            caller, key = Caller(user, read_only, by_token=True), "token:" + token_hash(secret.strip())
        else:
            login = self.server.gate.login_of(self)
            if not login:
                raise self._unauthorized(_("Log in first, or send Authorization: Bearer and a token made on your "
                                           "profile page."))
            caller, key = Caller(self.store.get_user(login)), "session:" + login
        return caller, key

    def _admit(self, caller: Caller, key: str, method: str) -> None:
        """A known caller's request, once a write by cookies comes from this server's pages (else 403) and the
        caller is within its budget (else 429)."""
        if method in WRITES and not caller.by_token and not from_this_site(self):
            raise ApiError(403, _("A page of another site cannot change anything here with your login."))
        wait = self.server.api_budget.take(key)
        if wait:
            raise ApiError(429, _("This token (or login) has made more requests than {n} a minute; wait and try "
                                  "again.").format(n=self.server.api_budget.per_minute), {"Retry-After": str(wait)})

    @staticmethod
    def _unauthorized(detail: str) -> ApiError:
        return ApiError(401, detail, {"WWW-Authenticate": 'Bearer realm="customercard"'})

    def customer_json(self, customer: Any) -> dict[str, Any]:
        """A customer as the API shows it: without its nickname while the firm has nicknames switched off (as the
        card, Search customers and the super search leave it out)."""
        out = record_json(customer)
        if not self.store.settings().nicknames_enabled:
            out["fields"].pop("nickname", None)
        return out

    def may_write(self, caller: Caller) -> str:
        """The caller's login, once they may change customers: not with a read-only token, not as a viewer."""
        if caller.read_only:
            raise ApiError(403, _("This API token is read-only: it reads, and changes nothing."))
        self.store.require(caller.user.login, "write")
        return caller.user.login

    # -- reading the request --------------------------------------------------------------------------------
    def json_body(self, required: bool = True) -> dict[str, Any]:
        """The request's JSON object (``{}`` for no body when not ``required``)."""
        body = self.request.body or b""
        if len(body) > MAX_BODY:
            raise ApiError(413, _("Send at most {n} bytes.").format(n=formatting.number(MAX_BODY)))
        if not body.strip() and not required:
            return {}
        kind = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if kind != "application/json" and not (kind.startswith("application/") and kind.endswith("+json")):
            raise ApiError(415, _("Send the body as JSON, with Content-Type: application/json."))
        try:
            value = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
        except (UnicodeDecodeError, ValueError, RecursionError):  # RecursionError: nested too deep to read
            raise ApiError(400, _("The body is not valid JSON.")) from None
        if not isinstance(value, dict):
            raise ApiError(400, _("Send a JSON object."))
        return value

    def fields_of(self, body: dict[str, Any], allowed: tuple[str, ...] = ("fields",)) -> dict[str, Any]:
        """The body's ``fields`` object; a member the body may not have is an error of its own."""
        told = _("Not part of this request: a record's fields go inside \"fields\", as {example}.") \
            if "fields" in allowed else _("Not part of this request.")
        unknown = {name: told.format(example=json.dumps({"fields": {name: "…"}}, ensure_ascii=False))
                   for name in body if name not in allowed}
        if unknown:
            raise ApiError(422, _("Nothing was saved: correct the fields named in errors."), errors=unknown)
        return body.get("fields", {})

    def arg(self, name: str, default: str = "") -> str:
        values = self.request.query_arguments.get(name)
        return values[-1].decode("utf-8", "replace") if values else default

    def args(self, name: str) -> list[str]:
        return [v.decode("utf-8", "replace") for v in self.request.query_arguments.get(name, [])]

    def int_arg(self, name: str, default: int, low: int, high: int) -> int:
        text = self.arg(name, str(default)).strip()
        digits = max(INT_ARG_DIGITS, len(str(high)))  # (read no longer a number than the bound has digits)
        if not (text.isascii() and text.isdigit() and len(text) <= digits and low <= int(text) <= high):
            raise ApiError(400, _("Give {name} as a whole number from {low} to {high}.").format(
                name=name, low=low, high=high), errors={name: _("From {low} to {high}.").format(low=low, high=high)})
        return int(text)

    def bool_arg(self, name: str, default: bool = False) -> bool:
        text = self.arg(name, "").strip().lower()
        if not text:
            return default
        if text not in ("true", "false", "1", "0"):
            raise ApiError(400, _("Give {name} as true or false.").format(name=name),
                           errors={name: _("true or false")})
        return text in ("true", "1")

    def choice_arg(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.arg(name, default)
        if value not in choices:
            raise ApiError(400, _("Give {name} as one of {values}.").format(name=name, values=", ".join(choices)),
                           errors={name: _("One of {values}.").format(values=", ".join(choices))})
        return value

    def existing_customer(self, customer_id: str) -> int:
        """The id of a customer that exists (else 404)."""
        number = self.id_arg(customer_id)
        if not self.store.customer_exists(number):
            raise ApiError(404, _("No customer with id {customer_id}.").format(customer_id=number))
        return number

    def id_arg(self, text: str) -> int:
        """An id from the path (digits only; a number too large to be one is no id at all)."""
        number = path_id(text)
        if number is None:
            raise ApiError(404, _("There is no such record."))
        return number

    # -- versions ---------------------------------------------------------------------------------------------
    def check_if_match(self, record: Record, version: int, history: pd.DataFrame | None,
                       attempted: dict[str, Any]) -> None:
        """The request's ``If-Match`` must name the record's current ETag (of ``version``): missing (or ``*``) is
        428; another is 412, with each field changed since the version it names (from ``history``, newest first)."""
        header = self.request.headers.get("If-Match")
        tags = [tag.strip() for tag in (header or "").split(",") if tag.strip()]
        if not tags or "*" in tags:
            raise ApiError(428, _("Send If-Match with the ETag you read (GET gives it), e.g. If-Match: \"v3\"; "
                                  "a change made without one could overwrite someone else's."))
        current = etag(version)
        if current in tags:
            return
        if not any(re.fullmatch(r'"v\d{1,9}"', tag) for tag in tags):  # not a tag this API gives (W/"v3", v3)
            raise ApiError(412, _("If-Match names no version this API gives: send the ETag as GET gives it, "
                                  "quoted, e.g. If-Match: {current}. Nothing was changed.").format(current=current),
                           current_etag=current)
        raise ApiError(412, _("Changed by someone else since the version you name (now {version}): nothing was "
                              "changed. Read it again and decide.").format(version=current),
                       current_etag=current, conflicts=changes_since(record, history, tags, attempted))


def changes_since(record: Record, history: pd.DataFrame | None, tags: list[str],
                  attempted: dict[str, Any]) -> list[dict[str, Any]]:
    """Each field changed after the version an If-Match names (its newest change): the stored value, the one
    this request tried (null when it did not name the field), who changed it and when."""
    versions = [int(m.group(1)) for tag in tags if (m := re.fullmatch(r'(?:W/)?"v(\d{1,9})"', tag))]
    if history is None or history.empty or not versions:
        return []
    since = max(versions)
    newer = history[history["version"].notna() & (history["version"].astype("float64") > since)]
    attempted = dict(attempted) if isinstance(attempted, dict) else {}
    segments = attempted.get("segments")  # sent as one object: each criterion is its segments.<criterion>
    if isinstance(segments, dict):
        attempted.update({f"segments.{criterion}": chosen for criterion, chosen in segments.items()})
    conflicts: dict[str, dict[str, Any]] = {}
    for row in newer.itertuples(index=False):  # newest first: the first row of a field is its last change
        if row.field in conflicts or row.field in ("merged_from", "merged_into"):
            continue
        conflicts[row.field] = {"field": row.field, "stored": to_json(field_value(record, row.field)),
                                "attempted": attempted.get(row.field),
                                "changed_by": row.changed_by, "changed_at": to_json(row.changed_at)}
    return list(conflicts.values())


def _no_constant(name: str) -> Any:
    raise ValueError(name)


def refuse_unknown_path() -> type[RequestHandler]:
    """A handler for every other path under /api/v1: 404 as a problem."""

    class NoSuchPath(ApiHandler):
        needs_login = False

        def do_GET(self, _caller: Caller | None, *_args: str) -> Reply:
            raise ApiError(404, _("There is no such address in the API: see {docs}.").format(
                docs=f"{API_PREFIX}/docs"))

        do_POST = do_PATCH = do_DELETE = do_GET

    return NoSuchPath
