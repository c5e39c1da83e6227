"""The schema's migrations (numbered SQL files, run by both backends) and the database's clock."""

from __future__ import annotations

import datetime as dt
import logging
import re
from importlib import resources

MIGRATIONS_PACKAGE = "customercard.store.migrations"
log = logging.getLogger(__name__)


def utcnow() -> dt.datetime:
    """Now, in UTC, as the naive timestamp the database keeps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def migrations(dialect: str = "duckdb") -> list[tuple[int, str, str]]:
    """Every migration as (number, file name, SQL), in order; ``NNNN_name.<dialect>.sql`` adds to its number."""
    found: dict[int, tuple[str, str]] = {}
    extra: dict[int, str] = {}
    for entry in resources.files(MIGRATIONS_PACKAGE).iterdir():
        common = re.fullmatch(r"(\d{4})_[a-z0-9_]+\.sql", entry.name)
        special = re.fullmatch(r"(\d{4})_[a-z0-9_]+\.([a-z]+)\.sql", entry.name)
        if common:
            found[int(common.group(1))] = (entry.name, entry.read_text(encoding="utf-8"))
        elif special and special.group(2) == dialect:
            extra[int(special.group(1))] = entry.read_text(encoding="utf-8")
    return [(number, name, sql + "\n;\n" + extra.get(number, "")) for number, (name, sql) in sorted(found.items())]


LATEST_SCHEMA = max(number for number, _, _ in migrations())


def split_statements(sql: str) -> list[str]:
    """Split a migration into statements (no ';' inside our literals), dropping comments."""
    text = "\n".join(line for line in sql.splitlines() if not line.strip().startswith("--"))
    return [s.strip() for s in text.split(";") if s.strip()]
