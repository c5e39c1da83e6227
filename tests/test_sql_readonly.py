"""``store.sql`` reads the database and nothing else: on DuckDB each query's parse tree is checked before it runs
(no file-reading table functions, no files named as tables, no other databases, no settings); on PostgreSQL it
runs as a role that may read the tables and nothing else — and the test cluster's user is a superuser, exactly
the user such a role must hold in."""

from __future__ import annotations

import duckdb
import pytest

import customercard as cc
from customercard.store import Store

SECRET = "top-secret-line-7431"
DUCKDB_ONLY = pytest.mark.parametrize("empty_store", ["duckdb"], indirect=True)
POSTGRES_ONLY = pytest.mark.parametrize("demo_store", ["postgresql"], indirect=True)


@pytest.fixture
def secret_files(tmp_path):
    """Files on the server a query must not read: a CSV, a JSON file, a Parquet file and a plain text file."""
    folder = tmp_path / "server-files"
    folder.mkdir()
    (folder / "secret.csv").write_text(f"word,number\n{SECRET},1\n")
    (folder / "secret.json").write_text(f'{{"word": "{SECRET}"}}\n')
    (folder / "secret.txt").write_text(SECRET + "\n")
    with duckdb.connect() as other:
        other.execute(f"COPY (SELECT '{SECRET}' AS word) TO '{folder / 'secret.parquet'}' (FORMAT parquet)")
    return folder


def refused(store, query: str) -> str:
    """The message a refused query gets; fails the test when the query runs."""
    with pytest.raises(cc.CustomerCardError) as info:
        frame = store.sql(query)
        pytest.fail(f"ran: {query!r} → {frame.to_dict('records')}")
    assert SECRET not in str(info.value)
    return str(info.value)


FILE_ATTACKS = [
    "SELECT * FROM read_text('{dir}/secret.txt')",
    "SELECT * FROM read_blob('{dir}/secret.txt')",
    "SELECT * FROM read_csv('{dir}/secret.csv')",
    "SELECT * FROM read_csv_auto('{dir}/secret.csv')",
    "SELECT * FROM read_json('{dir}/secret.json')",
    "SELECT * FROM read_json_auto('{dir}/secret.json')",
    "SELECT * FROM read_parquet('{dir}/secret.parquet')",
    "SELECT * FROM parquet_scan('{dir}/secret.parquet')",
    "SELECT * FROM glob('{dir}/*')",
    "SELECT * FROM '{dir}/secret.csv'",
    'SELECT * FROM "{dir}/secret.csv"',
    "SELECT * FROM '{dir}/secret.parquet'",
    "FROM '{dir}/secret.csv'",
    "DESCRIBE '{dir}/secret.csv'",
    "SUMMARIZE SELECT * FROM read_text('{dir}/secret.txt')",
    "WITH x AS (SELECT * FROM read_text('{dir}/secret.txt')) SELECT * FROM x",
    "SELECT (SELECT content FROM read_text('{dir}/secret.txt')) AS c",
    "SELECT * FROM customers c WHERE EXISTS (SELECT 1 FROM read_csv('{dir}/secret.csv'))",
    "SELECT * FROM users u, LATERAL (SELECT * FROM read_text('{dir}/secret.txt')) AS t",
    "SELECT login FROM users UNION ALL SELECT content FROM read_text('{dir}/secret.txt')",
    "SELECT * FROM range((SELECT count(*) FROM read_text('{dir}/secret.txt')))",
    "SELECT * FROM users JOIN '{dir}/secret.csv' AS s ON TRUE",
    # a CTE named like the file, read before it exists (its own body) or outside its query: both a file again
    'WITH "{dir}/secret.csv" AS (SELECT * FROM "{dir}/secret.csv") SELECT * FROM "{dir}/secret.csv"',
    'SELECT * FROM (WITH "{dir}/secret.csv" AS (SELECT 1) SELECT * FROM "{dir}/secret.csv"), "{dir}/secret.csv"',
    'WITH a AS (SELECT * FROM "{dir}/secret.csv"), "{dir}/secret.csv" AS (SELECT 1) SELECT * FROM a',
    # not recursive: 'q' inside is not the CTE, and DuckDB would look for a Python object of that name
    "WITH q AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM q WHERE n < 3) SELECT * FROM q",
    # recursive: its first part is not the CTE either
    'WITH RECURSIVE "{dir}/secret.csv" AS (SELECT * FROM "{dir}/secret.csv" UNION ALL '
    'SELECT * FROM "{dir}/secret.csv" WHERE false) SELECT * FROM "{dir}/secret.csv"',
    "SELECT * FROM query('SELECT * FROM read_text(''{dir}/secret.txt'')')",
    "SELECT * FROM query_table('{dir}/secret.csv')",
    "SELECT * FROM sniff_csv('{dir}/secret.csv')",
    "SELECT * FROM read_duckdb('{dir}/other.duckdb')",
    "SELECT current_setting('temp_directory')",
    "SELECT getenv('HOME')",
    "SELECT * FROM duckdb_settings()",
    "SELECT * FROM duckdb_secrets()",
    "SELECT * FROM system.main.duckdb_settings",
    "SELECT * FROM temp.main.anything",
    "SELECT json_serialize_plan('SELECT * FROM read_text(''{dir}/secret.txt'')')",
    "SELECT sleep_ms(600000)",
    "SELECT nextval('customer_number_seq')",
    "SELECT st_area(1)",  # a function DuckDB does not have: it would install and load an extension
]
STATEMENT_ATTACKS = [
    "ATTACH '{dir}/other.duckdb' AS other",
    "COPY users TO '{dir}/users.csv'",
    "COPY (SELECT 1) TO '{dir}/out.csv'",
    "INSTALL httpfs",
    "LOAD json",
    "PRAGMA version",
    "SET enable_external_access = true",
    "EXPORT DATABASE '{dir}/export'",
    "CALL read_text('{dir}/secret.txt')",
    "SELECT 1; SELECT * FROM read_text('{dir}/secret.txt')",
    "SELECT 1 -- a comment\n; COPY users TO '{dir}/users.csv'",
    "/* SELECT */ ATTACH '{dir}/other.duckdb'",
    "SELECT 1 /* ; */ ; DROP TABLE customers",
    "DELETE FROM customers",
]


@DUCKDB_ONLY
@pytest.mark.parametrize("attack", FILE_ATTACKS + STATEMENT_ATTACKS)
def test_duckdb_sql_reads_no_file_setting_or_other_database(empty_store, secret_files, attack):
    refused(empty_store, attack.format(dir=secret_files))


@DUCKDB_ONLY
def test_duckdb_refusals_say_why(empty_store, secret_files):
    assert "read_text() is not allowed" in refused(empty_store, f"SELECT * FROM read_text('{secret_files}/a')")
    assert "is not a table of this database" in refused(empty_store, f"SELECT * FROM '{secret_files}/secret.csv'")
    assert "Only read queries" in refused(empty_store, "ATTACH 'x.duckdb'")
    assert "exactly one" in refused(empty_store, "SELECT 1; SELECT 2")
    for table in ("users", "sessions", "settings", "saved_views", "admin_log", "outbox"):  # there, but kept back
        said = refused(empty_store, f"SELECT * FROM {table}")
        assert "kept from store.sql" in said and "user_directory" in said and "not a table" not in said, table
    # the server itself still reads and writes files: a backup attaches one
    assert empty_store.backup(secret_files / "backup.duckdb").exists()


ANALYST_QUERIES = [
    ("SELECT c.name, count(k.id) AS contacts FROM customers c LEFT JOIN contacts k ON k.customer_id = c.id "
     "GROUP BY c.name ORDER BY contacts DESC, c.name LIMIT 5", []),
    ("WITH yearly AS (SELECT customer_id, sum(amount) AS total FROM invoices GROUP BY customer_id) "
     "SELECT c.number, y.total FROM yearly y JOIN customers c ON c.id = y.customer_id WHERE y.total > ? "
     "ORDER BY y.total DESC", [0]),
    ("SELECT id, name, row_number() OVER (PARTITION BY visit_country ORDER BY id) AS n, "
     "lag(id) OVER (ORDER BY id) AS previous FROM customers WHERE archived = ?", [False]),
    ("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5) SELECT sum(i) AS s FROM n", []),
    ("SELECT g AS year, (SELECT count(*) FROM invoices WHERE EXTRACT(YEAR FROM invoice_date) = g) AS lines "
     "FROM generate_series(2020, 2024) AS t(g)", []),
    ("SELECT table_name FROM information_schema.tables WHERE table_name = 'customers'", []),
    ("SELECT * FROM invoiced_yearly WHERE customer_id IN (SELECT id FROM customers WHERE name LIKE ?)", ["%AB%"]),
]


@pytest.mark.parametrize("query, params", ANALYST_QUERIES)
def test_analysts_queries_still_run(demo_store, query, params):
    frame = demo_store.sql(query, params)
    assert len(frame.columns) >= 1
    if "sum(i)" in query:
        assert int(frame["s"][0]) == 15
    if "information_schema" in query:
        assert list(frame["table_name"]) == ["customers"]


def test_parameters_taken_from_a_frame_are_taken_on_either_backend(demo_store):
    """A NumPy number, truth and a frame's column as parameters (a notebook's cell: ``[frame.id[0]]``): DuckDB
    refused the NumPy scalar, PostgreSQL a Series; both take them as Python's own values now."""
    import numpy as np

    frame = demo_store.sql("SELECT id FROM customers ORDER BY id LIMIT 3")
    found = demo_store.sql("SELECT count(*) AS n FROM customers WHERE id = ? AND ?", [frame.id[0], np.bool_(True)])
    assert int(found["n"][0]) == 1
    listed = demo_store.sql("SELECT count(*) AS n FROM customers WHERE id = ANY(?)", [frame["id"]])
    assert int(listed["n"][0]) == 3


@pytest.mark.parametrize("params", [{"x": 10}, "10", 10])
def test_parameters_not_given_as_a_list_are_refused_saying_how_to_give_them(empty_store, params):
    import customercard as cc

    with pytest.raises(cc.CustomerCardError, match=r"as a list, one value for each \?"):
        empty_store.sql("SELECT count(*) AS n FROM customers WHERE id > ?", params)
    assert int(empty_store.sql("SELECT count(*) AS n FROM customers WHERE id > ?", (10,))["n"][0]) == 0


@DUCKDB_ONLY
def test_duckdb_range_unnest_describe_and_summarize(empty_store):
    assert list(empty_store.sql("SELECT * FROM range(3) AS r(i)")["i"]) == [0, 1, 2]
    assert list(empty_store.sql("SELECT unnest([3, 4]) AS v")["v"]) == [3, 4]
    assert "name" in set(empty_store.sql("DESCRIBE customers")["column_name"])
    assert "login" in set(empty_store.sql("SUMMARIZE user_directory")["column_name"])
    assert "customers" in set(empty_store.sql("SHOW TABLES")["name"])
    assert empty_store.sql("FROM main.user_directory SELECT count(*) AS n")["n"][0] == 3


# -- PostgreSQL -------------------------------------------------------------------------------------------
PG_ATTACKS = [
    "SELECT pg_read_file('/etc/hostname')",
    "SELECT pg_read_binary_file('/etc/hostname')",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT lo_import('/etc/hostname')",
    "SELECT pg_stat_file('/etc/hostname')",
    "SELECT current_setting('data_directory')",
    "COPY customers FROM PROGRAM 'id'",
    "COPY customers TO '/tmp/customers.csv'",
    "WITH x AS (SELECT 1) SELECT pg_read_file('/etc/hostname')",
    "SELECT 1; SELECT pg_read_file('/etc/hostname')",
    # a superuser's session may take any role: switching back inside the query, then running another
    "SELECT set_config('role', 'postgres', true) AS r, "
    "query_to_xml('SELECT pg_read_file(''/etc/hostname'') AS f', true, false, '') AS x",
    "SELECT set_config('session_authorization', 'postgres', true)",
    "WITH gone AS (DELETE FROM customers RETURNING id) SELECT count(*) FROM gone",
]


@POSTGRES_ONLY
@pytest.mark.parametrize("attack", PG_ATTACKS)
def test_postgres_sql_reads_no_server_file_as_a_superuser(demo_store, attack):
    message = refused(demo_store, attack)
    assert "permission denied" in message or "Only read queries" in message or "exactly one" in message \
        or "read-only transaction" in message or "must be superuser" in message or "privileges of" in message


@POSTGRES_ONLY
def test_postgres_sql_runs_as_the_reader_role_which_reads_every_table(demo_store, pg_server):
    assert demo_store.sql("SELECT current_user AS u")["u"][0] == "customercard_reader"
    assert demo_store.db.row("SELECT current_user")[0] == "postgres"  # the store itself is not restricted
    demo_store.rebuild_search_index()  # drops and makes the search tables again: the reader reads them too
    assert demo_store.sql("SELECT count(*) AS n FROM search_terms")["n"][0] > 0
    pg_server.sql("CREATE EXTENSION IF NOT EXISTS dblink", demo_store.db.row("SELECT current_database()")[0])
    connect = f"host=127.0.0.1 port={pg_server.port} dbname=postgres user=postgres"
    assert "password is required" in refused(demo_store, f"SELECT * FROM dblink('{connect}', 'SELECT 1') AS t(x int)")


@pytest.fixture
def pg_login(pg_server):
    """A database owned by a login of its own (made with the given role options); dropped afterwards."""
    made: list[tuple[str, Store]] = []

    def make(login: str, grant: str = "") -> Store:
        pg_server.sql(f"DROP ROLE IF EXISTS {login}")
        pg_server.sql(f"CREATE ROLE {login} LOGIN")
        if grant:
            pg_server.sql(f"GRANT {grant} TO {login}")
        pg_server.sql(f"CREATE DATABASE {login}_db OWNER {login}")
        store = Store(f"postgresql://{login}@127.0.0.1:{pg_server.port}/{login}_db")
        made.append((login, store))
        return store

    yield make
    for login, store in made:
        store.close()
        pg_server.sql(f"DROP DATABASE {login}_db WITH (FORCE)")
        pg_server.sql(f"DROP OWNED BY {login} CASCADE")
        pg_server.sql(f"DROP ROLE {login}")


def test_postgres_sql_is_refused_for_a_user_with_file_privileges_and_no_reader_role(pg_login):
    store = pg_login("cc_files_owner", grant="pg_read_server_files")
    message = refused(store, "SELECT count(*) AS n FROM customers")
    assert "may read the server's files" in message and "customercard_reader" in message
    assert store.db.row("SELECT count(*) FROM customers")[0] == 0  # the store itself works


def test_postgres_sql_of_an_ordinary_owner_needs_the_reader_role_which_reads_no_secret(pg_login, pg_server):
    """Connected as the tables' owner (deploy/README's set-up), the user itself reads the password hashes,
    sessions and cookie secret, and a query can name a table without writing it: store.sql is refused, saying
    what to run, until the reader role may be used; then it reads the tables and no secret, however named."""
    store = pg_login("cc_plain_owner")
    store.shared_secret("cookie_secret")
    sneaky = ("SELECT query_to_xml('SELECT * FROM us' || 'ers', true, false, '') AS u, "
              "query_to_xml('SELECT value FROM sett' || 'ings', true, false, '') AS s")
    for query in ("SELECT count(*) AS n FROM customers", sneaky):
        message = refused(store, query)
        assert "CREATE ROLE customercard_reader NOLOGIN; GRANT customercard_reader TO" in message, message
    pg_server.sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'customercard_reader') THEN "
                  "CREATE ROLE customercard_reader NOLOGIN; END IF; END $$")
    pg_server.sql("GRANT customercard_reader TO cc_plain_owner")
    location = store.location
    store.close()
    store = Store(location)  # started again: it lets the role read its tables
    switch_back = ("SELECT set_config('role', 'cc_plain_owner', true) AS r, "
                   "query_to_xml('SELECT * FROM us' || 'ers', true, false, '') AS u")
    try:  # the reader could still switch back to the owner with set_config: refused, saying what to run
        assert "REVOKE EXECUTE ON FUNCTION pg_catalog.set_config" in refused(store, switch_back)
        assert "REVOKE EXECUTE ON FUNCTION pg_catalog.set_config" in refused(store, "SELECT 1 AS one")
    finally:
        store.close()
    for statement in ("REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC",
                      "GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO cc_plain_owner"):
        pg_server.sql(statement, "cc_plain_owner_db")
    store = Store(location)
    try:
        assert store.sql("SELECT count(*) AS n FROM customers")["n"][0] == 0
        assert "permission denied" in refused(store, sneaky)
        assert "permission denied" in refused(store, switch_back)
        assert "permission denied" in refused(store, "SELECT pg_read_file('/etc/hostname')")
    finally:
        store.close()


@pytest.mark.parametrize("query", [
    "SELECT login, password_hash FROM users", "SELECT * FROM sessions", "SELECT * FROM login_throttle",
    "SELECT value FROM settings WHERE key LIKE '_secret%'",
    "WITH u AS (SELECT * FROM users) SELECT * FROM u",
    "SELECT (SELECT max(password_hash) FROM users) AS h",
    # a recursive CTE named like the table: its first part reads the table, only its recursive part itself
    "WITH RECURSIVE users AS (SELECT login, password_hash FROM users UNION ALL SELECT * FROM users WHERE false) "
    "SELECT * FROM users",
    "WITH RECURSIVE api_tokens AS (SELECT * FROM api_tokens UNION SELECT * FROM api_tokens) SELECT * FROM api_tokens",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2), "
    "users AS (SELECT * FROM users UNION ALL SELECT * FROM users WHERE false) SELECT * FROM users, n",
    # what only its owner (or an administrator) reads through the store's methods
    "SELECT * FROM saved_views", "SELECT * FROM ui_prefs", "SELECT * FROM card_views", "SELECT * FROM home_seen",
    "SELECT * FROM follow_up_mail_sent", "SELECT * FROM admin_log", "SELECT * FROM outbox",
])
def test_sql_never_reads_the_tables_that_keep_secrets(demo_store, query):
    """Password hashes, sessions, throttles and the shared cookie secret stay out of store.sql on both backends;
    the people and the firm's settings are readable through views."""
    demo_store.shared_secret("cookie_secret")
    with pytest.raises(cc.CustomerCardError):
        demo_store.sql(query)
    people = demo_store.sql("SELECT login, name, role FROM user_directory ORDER BY login")
    assert "anna" in set(people["login"]) and "password_hash" not in demo_store.sql(
        "SELECT * FROM user_directory").columns
    settings = demo_store.sql("SELECT key FROM firm_settings")
    assert not any(key.startswith("_") for key in settings["key"])


def test_a_long_query_is_stopped(demo_store):
    with pytest.raises(cc.CustomerCardError, match=r"stopped|cancel"):
        demo_store.sql("SELECT count(*) FROM generate_series(1, 100000000000) a, generate_series(1, 1000) b",
                       timeout=0.5)
    assert int(demo_store.sql("SELECT count(*) AS n FROM customers")["n"][0]) > 0  # the store still answers


def test_a_server_bounds_how_many_rows_a_query_answers(demo_store):
    """A server's store answers at most ``sql_max_rows`` rows (the server sets it: its memory is everyone's); a
    store of one's own answers what it is asked."""
    assert len(demo_store.sql("SELECT * FROM generate_series(1, 2500) t(x)")) == 2500
    demo_store.db.sql_max_rows = 2000
    try:
        assert len(demo_store.sql("SELECT * FROM generate_series(1, 2000) t(x) ORDER BY x DESC")) == 2000
        ordered = demo_store.sql("SELECT * FROM generate_series(1, 5) t(x) ORDER BY x DESC")
        assert ordered["x"].tolist() == [5, 4, 3, 2, 1]
        with pytest.raises(cc.CustomerCardError, match="more than 2,000 rows"):
            demo_store.sql("SELECT * FROM generate_series(1, 2001) t(x)")
        if demo_store.db.dialect == "duckdb":  # made as it is read, not held (PostgreSQL makes a series whole)
            with pytest.raises(cc.CustomerCardError, match="more than 2,000 rows"):
                demo_store.sql("SELECT * FROM generate_series(1, 100000000000) t(x)")
        assert demo_store.sql("SELECT count(*) AS n FROM generate_series(1, 100000) t(x)")["n"][0] == 100000
    finally:
        demo_store.db.sql_max_rows = None


@pytest.mark.parametrize("rows", [None, 1_000_000])
def test_a_server_bounds_how_many_megabytes_a_query_answers(demo_store, rows):
    """A few rows can be huge: any token's ``SELECT repeat('x', 400000000)`` took a server from 233 MB to 1.4 GB
    (the value, the frame, the Arrow stream, the body), 628 MB of it kept. A server's answers take at most
    ``sql_max_mb``; a store of one's own answers what it is asked."""
    big = "SELECT repeat('x', 1000) || CAST(x AS VARCHAR) AS text FROM generate_series(1, 3000) t(x)"
    assert len(demo_store.sql(big)) == 3000
    demo_store.db.sql_max_rows, demo_store.db.sql_max_mb = rows, 2
    try:
        with pytest.raises(cc.CustomerCardError, match="more than 2 MB"):
            demo_store.sql(big)
        with pytest.raises(cc.CustomerCardError, match="more than 2 MB"):
            demo_store.sql("SELECT repeat('x', 3000000) AS text")
        assert len(demo_store.sql(big.replace("3000", "500"))) == 500  # under the bound: answered whole
    finally:
        demo_store.db.sql_max_rows, demo_store.db.sql_max_mb = None, None
    assert len(demo_store.sql(big)) == 3000


def test_a_server_counts_what_nested_values_hold(demo_store):
    """pandas counts a list, struct or JSON cell as its outer object: a 20 MB answer wrapped in a list passed a
    5 MB bound. Nested values are counted by what they hold."""
    wrapped = ("SELECT [repeat('x', 100000) || CAST(x AS VARCHAR)] AS cell FROM generate_series(1, 60) t(x)"
               if demo_store.db.dialect == "duckdb" else
               "SELECT json_build_array(repeat('x', 100000) || x::text) AS cell FROM generate_series(1, 60) t(x)")
    assert len(demo_store.sql(wrapped)) == 60
    demo_store.db.sql_max_mb = 2
    try:
        with pytest.raises(cc.CustomerCardError, match="more than 2 MB"):
            demo_store.sql(wrapped)
    finally:
        demo_store.db.sql_max_mb = None
