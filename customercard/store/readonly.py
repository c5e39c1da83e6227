"""What the analysts' read-only SQL (:meth:`customercard.store.Store.sql`) may read: the database's own tables,
and nothing else — no files, no other databases, no settings or environment of the server.

DuckDB: ``SET enable_external_access = false`` would hold for the whole database instance, for good (the server
itself needs files: backups ATTACH one), so each query is checked before it runs instead. DuckDB parses it
(``json_serialize_sql``, which answers only for SELECT statements) and :func:`check_duckdb_query` walks the parse
tree: every table it names must be one of the database's own tables or views (or of ``information_schema``) or a
common table expression in scope where it is named — this shuts out ``FROM '/etc/passwd.csv'`` replacement scans,
which read a file named like a table, and Python objects found by name; every table function must be one of
:data:`TABLE_FUNCTIONS` (``read_text``, ``read_csv``, ``glob``, ``query`` … are not); every function must be one
DuckDB has (an unknown one would load an extension) and not one of :data:`REFUSED_FUNCTIONS`.

PostgreSQL: the query runs under a role that may read the schema's tables and nothing else (see
:mod:`customercard.store.postgres`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import CustomerCardError
from ..i18n import N_, _

if TYPE_CHECKING:
    import pandas as pd

#: Table functions a query may use: they make rows, they read nothing.
TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
#: Functions that would tell or touch what lies outside the database, or hold the server: settings (paths among
#: them), variables, the environment, sleeping, writing the log, planning another query text, sequences.
REFUSED_FUNCTIONS = frozenset({
    "getenv", "current_setting", "getvariable", "sleep_ms", "pg_sleep", "write_log", "json_serialize_plan",
    "json_execute_serialized_sql", "nextval", "setval", "currval", "txid_current", "current_query",
})
#: Tables that keep secrets (password hashes, session and API tokens' hashes, throttles, the shared cookie secret):
#: never read by store.sql. The views user_directory and firm_settings give what is not secret in them.
SECRET_TABLES = frozenset({"users", "sessions", "login_throttle", "settings", "api_tokens",
                           # and what only its owner (or an administrator) may read through the store's methods:
                           # private saved views, preferences, cards opened, the admin log, the outbox
                           "saved_views", "ui_prefs", "card_views", "home_seen", "follow_up_mail_sent", "admin_log",
                           "outbox"})
#: Tables a user without projects access (through an API token) does not read: what holds a project's description.
#: The views project_list and record_change_list give the rest of them (schema 21).
PROJECT_TABLES = frozenset({"projects", "record_changes"})
#: Rows a query may answer on a server (:attr:`Backend.sql_max_rows`), so that no request can hold its memory.
SERVER_SQL_ROWS = 1_000_000
TOO_MANY_ROWS = N_("The answer has more than {rows} rows: narrow the query (WHERE, LIMIT) or add it up (GROUP BY).")
#: Megabytes a query's answer may take on a server (:attr:`Backend.sql_max_mb`): a few rows can be huge
#: (``repeat('x', 400000000)``), and the answer is held several times over as it travels.
SERVER_SQL_MB = 256
TOO_LARGE = N_("The answer takes more than {mb} MB: leave out the long texts or narrow the query.")


def plain_params(params: Iterable[Any] | None) -> list[Any]:
    """A query's parameters as Python's own values, as they arrive through a server (see
    :func:`customercard.store.wire.as_sent`): a NumPy scalar taken from a frame (``frame.id[0]``) as its number,
    truth or text, a NumPy moment as a datetime, a Series, Index or array as the list of its values — DuckDB takes no
    NumPy scalars."""
    import numpy as np
    import pandas as pd

    def plain(value: Any) -> Any:
        if isinstance(value, np.datetime64):
            return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
        if isinstance(value, np.generic):
            return value.item()
        if isinstance(value, np.ndarray):
            return plain(pd.Series(value).tolist() if value.ndim == 1 else value.tolist())
        if isinstance(value, pd.Series | pd.Index):
            return plain(value.tolist())
        if isinstance(value, list | tuple):
            return [plain(item) for item in value]
        return value

    return [plain(value) for value in params or ()]


def answer_mb(frame: pd.DataFrame) -> float:
    """The megabytes a query's answer takes in memory: its texts counted whole, and a list, array, struct, map or
    JSON value by what it holds (pandas counts only the outer object of those)."""
    size = float(frame.memory_usage(deep=True, index=False).sum())
    for column in frame.columns:
        values = frame[column]
        if values.dtype == object:
            size += sum(_held(value) for value in values if not isinstance(value, str | bytes | int | float))
    return size / 1e6


def _held(value: Any) -> int:
    """Roughly the bytes a nested value of an answer holds."""
    if value is None:
        return 0
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, dict):
        return sum(_held(k) + _held(v) for k, v in value.items())
    if hasattr(value, "__len__"):
        try:
            return sum(_held(item) for item in value) + 8 * len(value)
        except TypeError:
            return 64
    return 16


#: Seconds an analyst's query may run before it is stopped.
QUERY_SECONDS = 60.0
#: Names the parser gives functions that DuckDB's function list does not hold (``SELECT unnest([1, 2])``).
PARSER_FUNCTIONS = frozenset({"unnest"})
QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE"})
TABLE_REFS = frozenset({"BASE_TABLE", "TABLE_FUNCTION", "JOIN", "SUBQUERY", "EXPRESSION_LIST", "EMPTY", "SHOW_REF"})
#: DESCRIBE/SUMMARIZE of a query or table (checked like any query), and SHOW TABLES.
SHOW_TARGETS = frozenset({"", '"tables"'})
ONLY_READS = N_("store.sql reads the database's own tables and nothing else")


@dataclass(frozen=True)
class Readable:
    """What a query may name: the database (catalog) name, its own tables and views, information_schema's views,
    and the functions DuckDB has (all lower case)."""

    database: str
    tables: frozenset[str]
    system_tables: frozenset[str]
    functions: frozenset[str]
    #: Tables of the database this reader does not read (see :data:`PROJECT_TABLES`).
    kept: frozenset[str] = frozenset()


def duckdb_readable(cur: Any, kept: frozenset[str] = frozenset()) -> Readable:
    """What a query on this DuckDB cursor's database may name (``kept``: tables this reader does not read)."""
    database = cur.execute("SELECT current_database()").fetchone()[0]
    tables = cur.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main' "
        "AND NOT temporary UNION SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = 'main' AND NOT internal AND NOT temporary").fetchall()
    system = cur.execute("SELECT view_name FROM duckdb_views() WHERE schema_name = 'information_schema'").fetchall()
    functions = cur.execute("SELECT DISTINCT function_name FROM duckdb_functions() "
                            "WHERE function_type IN ('scalar', 'aggregate', 'macro', 'window')").fetchall()
    return Readable(database=database.lower(), tables=_lower(tables) - SECRET_TABLES - kept,
                    system_tables=_lower(system), functions=_lower(functions) | PARSER_FUNCTIONS, kept=kept)


def _lower(rows: Iterable[tuple]) -> frozenset[str]:
    return frozenset(str(row[0]).lower() for row in rows)


def check_duckdb_query(tree: dict[str, Any], readable: Readable) -> None:
    """Refuse (CustomerCardError) a parse tree from ``json_serialize_sql`` that is not one SELECT reading only what
    ``readable`` allows."""
    statements = tree.get("statements") or []
    if tree.get("error") or len(statements) != 1:
        raise CustomerCardError(_("Only one read query (SELECT …) is allowed here."))
    _walk(statements[0]["node"], frozenset(), readable)


def _walk(value: Any, scope: frozenset[str], readable: Readable) -> None:
    """Check every node below ``value``; ``scope``: the common table expressions a table name may refer to."""
    if isinstance(value, list):
        for item in value:
            _walk(item, scope, readable)
        return
    if not isinstance(value, dict):
        return
    if isinstance(value.get("cte_map"), dict):
        scope = _walk_ctes(value["cte_map"].get("map") or [], scope, readable)
    skip = _check_node(value, scope, readable)
    itself = scope
    if value.get("type") == "RECURSIVE_CTE_NODE" and value.get("cte_name"):
        # its recursive part reads itself by its name; its first part cannot (DuckDB looks the name up as a table
        # there: ``WITH RECURSIVE users AS (SELECT … FROM users UNION ALL …)`` reads the table users)
        itself = scope | {str(value["cte_name"]).lower()}
    for key, child in value.items():
        if key != "cte_map" and key not in skip:
            _walk(child, itself if key == "right" else scope, readable)


def _walk_ctes(entries: list[dict[str, Any]], scope: frozenset[str], readable: Readable) -> frozenset[str]:
    """Check each CTE with the ones before it in scope (not itself, nor later ones: DuckDB would look those names
    up elsewhere, e.g. as files); returns the scope with all of them, for the query they belong to."""
    for entry in entries:
        _walk(entry.get("value"), scope, readable)
        scope = scope | {str(entry.get("key", "")).lower()}
    return scope


def _check_node(node: dict[str, Any], scope: frozenset[str], readable: Readable) -> set[str]:
    """Check one node; returns the keys below it that were checked here already."""
    kind = node.get("type")
    if node.get("class") in ("FUNCTION", "WINDOW"):
        _check_function(node, readable)
    elif "class" in node:
        return set()
    elif "modifiers" in node and kind not in QUERY_NODES:
        raise CustomerCardError(_("This kind of query ({kind}) is not allowed here.").format(kind=kind))
    elif "sample" in node and "modifiers" not in node:
        return _check_table_ref(node, scope, readable)
    return set()


def _check_function(node: dict[str, Any], readable: Readable) -> None:
    name = str(node.get("function_name", "")).lower()
    if name in REFUSED_FUNCTIONS or name not in readable.functions:
        raise CustomerCardError(_("The function {name}() is not allowed here: {only_reads}.").format(
            name=name, only_reads=_(ONLY_READS)))
    if str(node.get("catalog") or "").lower() not in ("", "system", readable.database):
        raise CustomerCardError(_("Functions of other databases are not allowed here: {only_reads}.").format(
            only_reads=_(ONLY_READS)))


def _check_table_ref(ref: dict[str, Any], scope: frozenset[str], readable: Readable) -> set[str]:
    kind = ref.get("type")
    if kind not in TABLE_REFS:
        raise CustomerCardError(_("This kind of table ({kind}) is not allowed here.").format(kind=kind))
    if kind == "BASE_TABLE":
        _check_table(ref, scope, readable)
    elif kind == "TABLE_FUNCTION":
        function = ref.get("function") or {}
        name = str(function.get("function_name", "")).lower()
        if name not in TABLE_FUNCTIONS or function.get("schema") or function.get("catalog"):
            raise CustomerCardError(_("The table function {name}() is not allowed here: {only_reads} (allowed: "
                                      "{allowed}).").format(name=name, only_reads=_(ONLY_READS),
                                                            allowed=", ".join(sorted(TABLE_FUNCTIONS))))
        _walk(function.get("arguments"), scope, readable)
        return {"function"}
    elif kind == "SHOW_REF" and ref.get("table_name", "") not in SHOW_TARGETS:
        raise CustomerCardError(_("Only DESCRIBE, SUMMARIZE and SHOW TABLES are allowed here."))
    return set()


def _check_table(ref: dict[str, Any], scope: frozenset[str], readable: Readable) -> None:
    name = str(ref.get("table_name", "")).lower()
    schema = str(ref.get("schema_name") or "").lower()
    catalog = str(ref.get("catalog_name") or "").lower()
    if not schema and not catalog and name in scope:
        return
    if catalog not in ("", readable.database):
        raise CustomerCardError(_("Only this database can be read here, not “{catalog}”: {only_reads}.").format(
            catalog=catalog, only_reads=_(ONLY_READS)))
    if schema == "information_schema" and name in readable.system_tables:
        return
    if schema in ("", "main", readable.database) and name in readable.tables:
        return
    shown = ".".join(part for part in (catalog, schema, name) if part)
    if schema in ("", "main", readable.database) and name in readable.kept:
        raise CustomerCardError(_("“{shown}” holds the projects' descriptions, which only users with projects access "
                                  "read. Read the views project_list and record_change_list: the same without "
                                  "them.").format(shown=shown))
    if schema in ("", "main", readable.database) and name in SECRET_TABLES:
        raise CustomerCardError(_("“{shown}” is kept from store.sql: it holds what only its owner, an administrator "
                                  "or the server reads. Read the views user_directory and firm_settings, or the "
                                  "store's own methods (views, prefs, admin_log, outbox).").format(shown=shown))
    raise CustomerCardError(_("“{shown}” is not a table of this database: {only_reads}.").format(
        shown=shown, only_reads=_(ONLY_READS)))
