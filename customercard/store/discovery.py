"""How a notebook finds the server that holds its database: the discovery file a server writes beside it.

A DuckDB file is held by one process. While ``customercard serve`` holds ``data/customercard.duckdb`` it writes
``data/customercard.duckdb.server.json`` (readable by its owner only, mode 600): the server's address, its process
id, the database and a random key made for this run. Whoever may read that file may open the database itself, so
the key lets them in as that (a trusted local analyst: every write says who acts, as with the embedded store). The
server removes the file when it stops; a file whose process is gone, or whose server does not answer as the server of
that database, is ignored (and, when its process is gone, removed).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass
from http import HTTPStatus
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SUFFIX = ".server.json"
#: Seconds a server has to answer before its file is taken for a stale one.
ANSWER_SECONDS = 3.0


def new_key() -> str:
    return secrets.token_urlsafe(32)


def same_database(a: str | Path, b: str | Path) -> bool:
    """Whether two names of DuckDB files are the same file."""
    return Path(a).expanduser().resolve() == Path(b).expanduser().resolve()


def file_of(database: str | Path) -> Path:
    """Where the discovery file of ``database`` is: beside it, named after it."""
    path = Path(database).expanduser().resolve()
    return path.with_name(path.name + SUFFIX)


@dataclass(frozen=True)
class ServerFile:
    """What a running server tells about itself."""

    url: str
    pid: int
    database: str
    key: str
    started_at: str = ""

    def write(self) -> Path:
        """Write the file (mode 600, replacing a stale one in one step)."""
        target = file_of(self.database)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
        os.replace(temporary, target)
        return target

    def remove(self) -> None:
        """Remove the file, if it is still this server's."""
        found = read(file_of(self.database))
        if found is not None and found.pid == self.pid and found.key == self.key:
            with contextlib.suppress(FileNotFoundError):
                file_of(self.database).unlink()

    @classmethod
    def for_server(cls, database: str | Path, url: str, key: str) -> ServerFile:
        return cls(url=url, pid=os.getpid(), database=str(Path(database).expanduser().resolve()), key=key,
                   started_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))


def read(path: Path) -> ServerFile | None:
    """The discovery file at ``path``, or None (none, unreadable, not one of ours)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ServerFile(url=str(data["url"]), pid=int(data["pid"]), database=str(data["database"]),
                          key=str(data["key"]), started_at=str(data.get("started_at", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process: it lives
    return True


def _answers(found: ServerFile) -> bool:
    """Whether the server of the file answers, with its key, as the server of that database."""
    from .remote import KEY_HEADER, RPC_PATH

    parts = urlsplit(found.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=ANSWER_SECONDS)
    try:
        connection.request("GET", parts.path + RPC_PATH, headers={KEY_HEADER: found.key})
        response = connection.getresponse()
        if response.status != HTTPStatus.OK:
            return False
        answer = json.loads(response.read())
        return same_database(answer.get("database", ""), found.database)
    except (OSError, ValueError, http.client.HTTPException):
        return False
    finally:
        connection.close()


def find_server(database: str | Path) -> ServerFile | None:
    """The running local server that holds ``database`` (a DuckDB file), or None."""
    path = file_of(database)
    found = read(path)
    if found is None or not same_database(found.database, database):
        return None
    if not _alive(found.pid):
        log.info("Ignoring %s: its server (process %s) has stopped", path, found.pid)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    if not _answers(found):
        log.info("Ignoring %s: the server at %s does not answer as the server of %s", path, found.url,
                 found.database)
        return None
    return found
