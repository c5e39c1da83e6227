"""A served customercard for the tests of the HTTP API (``/api/v1``): a real server on a free loopback port, its
store, and a personal token for each kind of caller; a small JSON client that speaks to it as a script does."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from customercard.app import ROUTES
from customercard.config import get_config
from customercard.server import CardServer
from customercard.store import Store

from .conftest import free_port, wait_for_port
from .http_client import Client, Reply


def serve_api(store: Store, per_minute: int = 1_000_000) -> SimpleNamespace:
    """Serve ``store`` (the app's pages and /api/v1) with a request budget of ``per_minute``; tokens of a manager
    (anna), a manager's read-only token, a viewer (vera) and an administrator (admin, or boss in an empty firm)."""
    config = get_config()
    config.api_requests_per_minute = per_minute
    port = free_port()
    server = CardServer(store, pages=ROUTES, port=port, config=config).start(threaded=True)
    wait_for_port(port)
    admin = "admin" if "admin" in set(store.users()["login"]) else "boss"
    tokens = SimpleNamespace(
        manager=store.create_token("anna", "tests: manager", user="anna")[1],
        read_only=store.create_token("anna", "tests: read only", read_only=True, user="anna")[1],
        viewer=store.create_token("vera", "tests: viewer", user="vera")[1],
        admin=store.create_token(admin, "tests: admin", user=admin)[1])
    return SimpleNamespace(url=f"http://127.0.0.1:{port}", store=store, server=server, tokens=tokens, port=port)


@dataclass
class Api(Client):
    """A client of /api/v1 with a bearer token (or the cookies of a login), sending and reading JSON."""

    token: str = ""
    language: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    def call(self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             raw: bytes | None = None) -> Reply:
        sent = dict(self.extra)
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        if self.language:
            sent["Accept-Language"] = self.language
        if body is not None:
            raw = json.dumps(body).encode()
            sent.setdefault("Content-Type", "application/json")
        sent.update(headers or {})
        return self.request(method, path if path.startswith("/api") else f"/api/v1{path}", body=raw, headers=sent)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.call("GET", path, headers=headers)

    def patch(self, path: str, fields: dict[str, Any], if_match: str | None = None) -> Reply:
        return self.call("PATCH", path, {"fields": fields}, {"If-Match": if_match} if if_match else None)

    def post(self, path: str, body: Any, if_match: str | None = None) -> Reply:
        return self.call("POST", path, body, {"If-Match": if_match} if if_match else None)

    def delete(self, path: str, if_match: str | None = None) -> Reply:
        return self.call("DELETE", path, headers={"If-Match": if_match} if if_match else None)
