"""A plain HTTP client for the served app, as a script or an attacker would speak to it: its own cookies, no
redirects followed, every header visible. Logs in through the real login form (its hidden fields included)."""

from __future__ import annotations

import html
import http.client
import json
import re
import urllib.parse
from dataclasses import dataclass, field
from email.message import Message
from http.cookies import SimpleCookie
from typing import Any


@dataclass
class Reply:
    status: int
    headers: Message
    body: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def set_cookies(self) -> dict[str, str]:
        """Each cookie this reply sets: name → its whole Set-Cookie header."""
        return {header.split("=", 1)[0].strip(): header for header in self.headers.get_all("Set-Cookie") or []}

    def json(self) -> Any:
        return json.loads(self.body)


def form_fields(page: str) -> dict[str, str]:
    """The named inputs of a page's form with their values (hidden ones included)."""
    fields = {}
    for tag in re.findall(r"<input\b[^>]*>", page):
        name = re.search(r'\bname="([^"]*)"', tag)
        value = re.search(r'\bvalue="([^"]*)"', tag)
        if name:
            fields[name.group(1)] = html.unescape(value.group(1)) if value else ""
    return fields


@dataclass
class Client:
    """One client with its own cookie jar (name → value), talking to ``base`` (http://host:port)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, form: dict[str, str] | None = None, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        parts = urllib.parse.urlsplit(self.base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
        sent = {"Accept-Language": "en", **self.headers, **(headers or {})}  # an English browser unless told
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            try:
                connection.request(method, path, body=body, headers=sent)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered (a 413) and closed before the whole body was sent: its answer is there
            response = connection.getresponse()
            reply = Reply(response.status, response.headers, response.read().decode("utf-8", "replace"))
        finally:
            connection.close()
        self._keep(reply)
        return reply

    def _keep(self, reply: Reply) -> None:
        for header in reply.set_cookies().values():
            for name, morsel in SimpleCookie(header).items():
                cleared = not morsel.value or morsel.value == '""' or "1970" in morsel["expires"] or \
                    morsel["max-age"] == "0"
                if cleared:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return self.request("GET", path, headers=headers)

    def log_in(self, user: str, password: str, next_path: str = "/search",
               headers: dict[str, str] | None = None) -> Reply:
        """GET the login form, POST its fields back with the login and password: the POST's reply."""
        page = self.get(f"/login?next={urllib.parse.quote(next_path, safe='')}", headers=headers)
        assert page.status == 200, page.status
        form = {**form_fields(page.body), "username": user, "password": password}
        return self.request("POST", "/login", form=form, headers=headers)

    def patch_customer(self, customer_id: int, version: int, changes: dict[str, Any]) -> Reply:
        return self.request("PATCH", f"/api/customers/{customer_id}",
                            body=json.dumps({"version": version, "changes": changes}).encode(),
                            headers={"Content-Type": "application/json"})
