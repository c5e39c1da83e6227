"""A request body read as it arrives and bounded: shared by the HTTP API's handlers and the store API's."""

from __future__ import annotations

from typing import Any, ClassVar

#: The longest request body the server reads for a page, the login or anything else that does not bound its own
#: (Tornado's default is 100 MB, each held whole in memory before any check: a few anonymous ones held gigabytes).
#: Longer ones are refused as they arrive (the connection closed); the APIs read theirs as they come, each up to
#: its own bound (:attr:`BoundedBody.max_body`), and answer 413.
BODY_LIMIT = 1024 * 1024
#: What Tornado lets through to a handler that reads its body as it comes (its default): never held, only counted.
STREAMED_LIMIT = 100 * 1024 * 1024


class BoundedBody:
    """Mixed into a ``@stream_request_body`` Tornado handler (before ``RequestHandler``): its body is read as it
    arrives, up to :attr:`max_body` bytes. One declared longer, or found longer as it comes, is answered at once by
    :meth:`too_large` and the rest left unread — never held whole in memory first."""

    #: The longest body taken (bytes).
    max_body: ClassVar[int]
    request: Any
    _finished: bool

    def start_body(self) -> bool:
        """Ready to read a body (called from ``prepare``): False when its declared length is over the bound (it is
        answered already)."""
        self._chunks: list[bytes] = []
        self._received = 0
        connection = getattr(self.request, "connection", None)
        if connection is not None and hasattr(connection, "set_max_body_size"):
            # the server reads at most BODY_LIMIT of any other request's body; this one is read as it comes and
            # answered here once over its own bound (Tornado's own check, on a chunk's declared length, would
            # close it with a bare 400 first)
            connection.set_max_body_size(max(2 * self.max_body, STREAMED_LIMIT))
        declared = self.request.headers.get("Content-Length", "")
        if declared.strip().isdigit() and int(declared) > self.max_body:
            self.too_large()
            return False
        return True

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._received += len(chunk)
        if self._received > self.max_body:  # sent without its length, or longer than it said
            self._chunks = []
            self.too_large()
            return
        self._chunks.append(chunk)

    def body_read(self) -> bytes:
        """The body as read (put where Tornado's handlers find it: ``self.request.body``)."""
        self.request.body = b"".join(getattr(self, "_chunks", []))
        return self.request.body

    def too_large(self) -> None:
        """Answer 413: by default through the handler's ``write_error`` (each handler says it in its own shape)."""
        self.send_error(413)
