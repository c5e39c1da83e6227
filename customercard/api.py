"""A small JSON API for integrations and scripts: read and change one customer, with the same rules as the card.

    GET   /api/customers/<id>   → {"id", "number", "version", "fields": {...}}
    PATCH /api/customers/<id>   ← {"version": n, "changes": {"phone": "+46 8 …", "visit_address.city": "Lund"}}
                                → 200 the saved customer | 409 {"conflicts": [...]} | 422 {"errors": {...}}

The web app's login cookies authenticate, while their server-side session is live (else 401); viewers get 403 on
PATCH. Every change is validated by the model, version-checked, stamped with the user and recorded in history,
exactly as from the card.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from tornado.web import RequestHandler, stream_request_body

from . import formatting
from .errors import ConflictError, CustomerCardError, NotFound, PermissionDenied, ValidationError
from .http_api.base import MAX_BODY
from .http_api.body import BoundedBody
from .http_api.values import LARGEST_WHOLE, customer_segments, json_text, path_id
from .i18n import SOURCE_LANGUAGE, _, negotiate, supported, using_language
from .login import asked_here, from_this_site
from .models import Customer, to_text
from .store import Store


def customer_id_of(text: str) -> int:
    """The customer id of the address; NotFound, as for any customer there is not, when it is too long to be one
    (the database would fail on it)."""
    number = path_id(text)
    if number is None:
        raise NotFound(_("No customer with id {customer_id}.").format(customer_id=text))
    return number


def customer_json(customer: Customer) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, dt.date | dt.datetime) else value
    return {"id": customer.id, "number": customer.number, "version": customer.version,
            "updated_by": customer.updated_by, "updated_at": plain(customer.updated_at),
            "fields": {name: plain(value) for name, value in customer.values().items()}}


def _named(field: str, changes: dict[str, Any]) -> bool:
    """Whether a PATCH's changes name this field (a criterion's by ``segments`` or ``segments.<criterion>``)."""
    if field in changes:
        return True
    criterion = field.split(".", 1)[1] if field.startswith("segments.") else None
    return criterion is not None and isinstance(changes.get("segments"), dict) and criterion in changes["segments"]


@stream_request_body
class CustomerApiHandler(BoundedBody, RequestHandler):
    """``/api/customers/<id>``. Its body is read as it arrives, up to the HTTP API's bound: a longer one is answered
    413 in this API's shape (the server's bound for other requests closed the connection without a word)."""

    max_body = MAX_BODY

    def initialize(self, get_store: Callable[[], Store], login_of: Callable[[RequestHandler], str | None]) -> None:
        self.get_store, self.login_of = get_store, login_of

    def check_xsrf_cookie(self) -> None:  # JSON only (a cross-site form cannot send it); the cookie authenticates
        return None

    def prepare(self) -> None:
        self.start_body()

    def too_large(self) -> None:
        with using_language(self._language()):
            self._reply(413, {"error": _("Send at most {n} bytes.").format(n=formatting.number(MAX_BODY))})

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json_text(body, default=str))

    def _login(self) -> str | None:
        login = self.login_of(self)
        if not login:
            self._reply(401, {"error": _("Log in first.")})
        return login

    def _language(self) -> str:
        """The language of the answer's messages: the request's ``Accept-Language`` when it names one customercard
        speaks, else the user's choice, else English (what a script expects)."""
        asked = self.request.headers.get("Accept-Language", "")
        if any(supported(part.split(";")[0]) for part in asked.split(",")):
            return negotiate(asked)
        login = self.login_of(self)
        try:
            return (self.get_store().get_user(login).language if login else "") or SOURCE_LANGUAGE
        except NotFound:
            return SOURCE_LANGUAGE

    def get(self, customer_id: str) -> None:
        if self._finished:
            return
        with using_language(self._language()):
            self._get(customer_id)

    def patch(self, customer_id: str) -> None:
        if self._finished:  # answered 413 while its body arrived
            return
        with using_language(self._language()):
            self._patch(customer_id)

    def _get(self, customer_id: str) -> None:
        login = self._login()
        if login is None:
            return
        store = self.get_store()
        try:
            store.require(login, "read")
            self._reply(200, customer_json(store.get_customer(customer_id_of(customer_id))))
        except PermissionDenied as exc:
            self._reply(403, {"error": str(exc)})
        except NotFound as exc:
            self._reply(404, {"error": str(exc)})

    def _patch(self, customer_id: str) -> None:
        login = self._login()
        if login is None:
            return
        if not (from_this_site(self) and asked_here(self)):
            self._reply(403, {"error": _("A page of another site cannot change anything here with your login.")})
            return
        try:
            body = json.loads(self.body_read() or b"{}")
            changes, version = dict(body["changes"]), int(body["version"])
            if abs(version) > LARGEST_WHOLE:  # no version is (the database would fail on it)
                raise ValueError(version)
        except (ValueError, KeyError, TypeError, OverflowError, RecursionError):  # (1e999; nested past Python's depth)
            self._reply(400, {"error": _("Send JSON like {example}.").format(
                example='{"version": 3, "changes": {"phone": "…"}}')})
            return
        store = self.get_store()
        try:
            customer = store.get_customer(customer_id_of(customer_id))
            customer.version = version
            # segments as /api/v1 reads them: the criteria named change, the others stay (all were cleared)
            errors: dict[str, str] = {}
            segments = customer_segments(customer, changes, errors)
            plain = {k: v for k, v in changes.items() if k != "segments" and not k.startswith("segments.")}
            errors.update({field: _("Not a field of a customer.") for field in plain if field not in Customer.fields})
            if segments is not None:
                plain["segments"] = segments
            errors.update(customer.update_from({k: v for k, v in plain.items() if k not in errors}))
            if errors:  # report every problem at once, the model's own rules included
                stored = store.get_customer(customer_id_of(customer_id))
                errors = {**customer.validate(store.choices(), previous=stored), **errors}
                raise ValidationError(errors, what=_("Customer"))
            saved = store.save_customer(customer, user=login)
        except NotFound as exc:
            self._reply(404, {"error": str(exc)})
        except PermissionDenied as exc:
            self._reply(403, {"error": str(exc)})
        except ValidationError as exc:
            self._reply(422, {"errors": exc.errors})
        except ConflictError as exc:
            # attempted: what this request sent for the field, null when it did not name it (as /api/v1 says)
            self._reply(409, {"error": str(exc), "stored_version": exc.stored_version, "conflicts": [
                {"field": c.field, "stored": to_text(c.stored),
                 "attempted": to_text(c.attempted) if _named(c.field, changes) else None,
                 "changed_by": c.changed_by} for c in exc.conflicts]})
        except CustomerCardError as exc:  # e.g. the database refused the write: one clear line, nothing saved
            self._reply(400, {"error": str(exc)})
        else:
            self._reply(200, customer_json(saved))
