"""Security headers on every response the server sends: a Content-Security-Policy that lets only the page's
own scripts run, no framing by other sites, no content sniffing, no full URLs in the Referer.

Bokeh and Panel put their start-up code into inline ``<script>`` elements, so the policy cannot simply forbid
inline scripts. Instead every HTML page gets a fresh nonce: the server adds it to each ``<script>`` element it
sends, and the policy allows only scripts carrying it (and files from this server). Markup a user slipped
into a value — an ``<img onerror=…>``, an inline handler, a ``javascript:`` link — carries no nonce and does
not run, even where escaping had failed. Panel compiles its components' scripts with ``new Function``, which
needs ``'unsafe-eval'``; styles may be inline (Bokeh sets them everywhere).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from tornado.httputil import HTTPHeaders, HTTPServerRequest
from tornado.web import OutputTransform

#: A ``<script`` start tag (not ``&lt;script``, not ``<scripts``): where the nonce goes.
_SCRIPT_TAG = re.compile(rb"<script(?=[\s>])", re.IGNORECASE)

STATIC_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "SAMEORIGIN",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def content_security_policy(nonce: str | None) -> str:
    """The policy for one response; ``nonce`` for an HTML page, None for everything else."""
    scripts = f"'self' 'nonce-{nonce}' 'unsafe-eval'" if nonce else "'self' 'unsafe-eval'"
    return "; ".join([
        "default-src 'self'",
        f"script-src {scripts}",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'self'",
    ])


class SecurityHeaders(OutputTransform):
    """A Tornado output transform (``Application(transforms=[...])``) that adds the headers to every response
    and the nonce to every script element of an HTML page."""

    def __init__(self, request: HTTPServerRequest) -> None:
        super().__init__(request)
        self._nonce: str | None = None

    def transform_first_chunk(self, status_code: int, headers: HTTPHeaders, chunk: bytes,
                              finishing: bool) -> tuple[int, HTTPHeaders, bytes]:
        for name, value in STATIC_HEADERS.items():
            headers.setdefault(name, value)
        if headers.get("Content-Type", "").startswith("text/html"):
            self._nonce = secrets.token_urlsafe(18)
            chunk = self._add_nonce(chunk)
            if "Content-Length" in headers and finishing:
                headers["Content-Length"] = str(len(chunk))
        headers["Content-Security-Policy"] = content_security_policy(self._nonce)
        return status_code, headers, chunk

    def transform_chunk(self, chunk: bytes, _finishing: bool) -> bytes:
        return self._add_nonce(chunk) if self._nonce else chunk

    def _add_nonce(self, chunk: bytes) -> bytes:
        return _SCRIPT_TAG.sub(b'<script nonce="' + self._nonce.encode("ascii") + b'"', chunk)


def server_options() -> dict[str, Any]:
    """Keyword arguments for ``pn.serve``/Bokeh's ``Server`` that install the transform (Tornado passes them on to
    its ``Application``)."""
    return {"transforms": [SecurityHeaders]}
