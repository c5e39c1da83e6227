"""``/files/<id>``: a customer file for a logged-in user, always as an attachment (never rendered in the app)."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from tornado.web import RequestHandler

from . import files
from .errors import CustomerCardError, NotFound, PermissionDenied
from .http_api.values import path_id
from .i18n import N_
from .login import answer_with_page, page_write_error
from .store import Store


class FileDownloadHandler(RequestHandler):
    """Streams one file after checking the login (a live session) and the user's right to read customers."""

    write_error = page_write_error  # (a POST here: the product's 405 page, not Tornado's)

    def initialize(self, get_store: Callable[[], Store], login_of: Callable[[RequestHandler], str | None]) -> None:
        self.get_store, self.login_of = get_store, login_of

    def get(self, file_id: str) -> None:
        login = self.login_of(self)
        if not login:
            self.redirect(f"/login?next={quote(self.request.uri or '/', safe='')}")
            return
        try:
            number = path_id(file_id)
            if number is None:  # too long to be the id of any file (the database would fail on it)
                self.get_store().require(login, "read")
                raise NotFound(file_id)
            store = self.get_store()
            store.require(login, "read")
            store.file_record(number)  # (one that is not there is not there, switched on or off)
            if not store.settings().files_enabled:  # the card shows no files: nor does their address
                answer_with_page(self, self.get_store, 404, N_("No such file"),
                                 N_("Document storage is switched off (System administration → Customers → "
                                    "Settings): its files are not shown."))
                return
            stored = files.download(store, number, user=login)
        except PermissionDenied:
            answer_with_page(self, self.get_store, 403, N_("Not allowed"), N_("You may not open this file."))
            return
        except CustomerCardError:  # deleted, or never uploaded
            answer_with_page(self, self.get_store, 404, N_("No such file"),
                             N_("There is no file at this address: it was deleted, or the link is wrong."))
            return
        ascii_name = stored.name.encode("ascii", "replace").decode("ascii").replace('"', "'")
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Content-Disposition",
                        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(stored.name, safe='')}")
        self.set_header("Cache-Control", "private, no-store")
        self.write(stored.data)
