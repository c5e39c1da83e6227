"""Customer files: uploads, downloads and deletes, with the contents kept in a :class:`FileStorage`.

The storage is a small interface. :class:`LocalFileStorage` keeps contents on the local disk under the data
folder, addressed by their SHA-256 hash, so the same document uploaded twice is stored once and no name a
user gives ever becomes a path. A Microsoft 365 / SharePoint backend would implement the same three methods
(``put``, ``get``, ``exists``) against a document library, keyed by the same hash.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from . import formatting
from .config import get_config
from .errors import CustomerCardError, NotFound, ValidationError
from .i18n import _, ngettext, quote
from .models import FILE_NAME_LENGTH, CustomerFile
from .store import Store

#: Bytes in a kB, as :func:`human_size` counts (and kB in an MB).
KB = 1024
_HASH = re.compile(r"[0-9a-f]{64}")


class FileStorage(Protocol):
    """Where file contents live, addressed by their SHA-256 hash (hex)."""

    name: str

    def put(self, data: bytes) -> str:
        """Store ``data``; returns its hash. Storing the same bytes again is a no-op."""

    def get(self, content_hash: str) -> bytes:
        """The bytes stored under ``content_hash``; NotFound if there are none."""

    def exists(self, content_hash: str) -> bool:
        """Whether contents with this hash are stored."""


class LocalFileStorage:
    """Contents on the local disk: ``<root>/<first two hex>/<next two>/<hash>``, written atomically."""

    name = "local"

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root) if root is not None else get_config().data_path / "files"

    def _path(self, content_hash: str) -> Path:
        if not _HASH.fullmatch(content_hash or ""):
            raise NotFound(_("No such file contents."))  # never a path built from anything else
        path = (self.root / content_hash[:2] / content_hash[2:4] / content_hash).resolve()
        if self.root.resolve() not in path.parents:
            raise NotFound(_("No such file contents."))
        return path

    def put(self, data: bytes) -> str:
        content_hash = hashlib.sha256(data).hexdigest()
        path = self._path(content_hash)
        if path.exists():
            return content_hash
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return content_hash

    def get(self, content_hash: str) -> bytes:
        path = self._path(content_hash)
        if not path.exists():
            raise NotFound(_("The file's contents are missing from the file store."))
        return path.read_bytes()

    def exists(self, content_hash: str) -> bool:
        try:
            return self._path(content_hash).exists()
        except NotFound:
            return False


@dataclass
class StoredFile:
    id: int
    name: str
    content_type: str
    data: bytes


def safe_name(name: str) -> str:
    """A file name fit to show and to offer as a download name: no folders, no control characters."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = re.sub(r'[<>:"|?*]', "_", text).strip().strip(".")
    if len(text) > FILE_NAME_LENGTH:
        stem, dot, ext = text.rpartition(".")
        text = (stem[:FILE_NAME_LENGTH - 10] + dot + ext[:9]) if dot else text[:FILE_NAME_LENGTH]
    return text or "file"


def human_size(size: float) -> str:
    """A size people read, in their language: '840 bytes', '12.5 kB', '3.2 MB' ('12,5 kB' in Swedish)."""
    if size < KB:
        return ngettext("{n} byte", "{n} bytes", int(size)).format(n=formatting.number(size))
    for unit in ("kB", "MB", "GB"):
        size /= KB
        if size < KB or unit == "GB":
            break
    return f"{formatting.number(size, 1)} {unit}"


def max_bytes(store: Store) -> int:
    return int(store.settings().max_file_mb * 1024 * 1024)


def upload(store: Store, customer_id: int, name: str, data: bytes, user: str | None = None,
           storage: FileStorage | None = None) -> int:
    """Store one file for a customer (managers and administrators); returns the file's id."""
    storage = storage or LocalFileStorage()
    store.require(user, "write")
    limit = max_bytes(store)
    clean = safe_name(name)
    if len(data) > limit:
        raise ValidationError({"file": _("{name} is {size}; files may be at most {limit}.").format(
            name=quote(clean), size=human_size(len(data)), limit=human_size(limit))}, what=_("File"))
    if not data:
        raise ValidationError({"file": _("{name} is empty.").format(name=quote(clean))}, what=_("File"))
    content_type = mimetypes.guess_type(clean)[0] or "application/octet-stream"
    content_hash = storage.put(data)
    return store.add_file_record(customer_id, clean, len(data), content_hash, content_type, user=user,
                                 storage=storage.name)


def upload_many(store: Store, customer_id: int, files: list[tuple[str, bytes]], user: str | None = None,
                storage: FileStorage | None = None) -> list[int]:
    """Store several files; every file is checked before any is stored (the user may write, the customer takes
    files, each is not empty, within the limit and has a name a file may have)."""
    store.require(user, "write")
    limit = max_bytes(store)
    problems: dict[str, str] = {}
    for name, data in files:
        clean = safe_name(name)
        if len(data) > limit:
            problems[clean] = _("{size} is over the limit of {limit}").format(size=human_size(len(data)),
                                                                                limit=human_size(limit))
        elif not data:
            problems[clean] = _("empty")
        else:
            named = CustomerFile(customer_id=int(customer_id), name=clean)
            found = named.validate(None)
            if found:
                problems[clean] = "; ".join(found.values())
    if problems:
        # none is stored: said, as the browser's own refusal of a file too large says it ("Nothing was sent.")
        raise ValidationError({"file": _("Nothing was uploaded: {problems}.").format(
            problems="; ".join(f"{quote(n)}: {m}" for n, m in problems.items()))}, what=_("Files"))
    return [upload(store, customer_id, name, data, user=user, storage=storage) for name, data in files]


def download(store: Store, file_id: int, user: str | None = None,
             storage: FileStorage | None = None) -> StoredFile:
    """A file's name, type and bytes, for anyone who may read customers."""
    store.require(user, "read")
    record = store.file_record(file_id)
    storage = storage or LocalFileStorage()
    try:
        data = storage.get(record["content_hash"])
    except NotFound as exc:
        raise CustomerCardError(str(exc)) from None
    return StoredFile(id=int(record["id"]), name=record["name"], content_type=record["content_type"], data=data)
