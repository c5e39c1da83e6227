"""`customercard migrate`: everything from a DuckDB file into PostgreSQL and back, verified; refusals."""

from __future__ import annotations

import subprocess
import sys

import pytest

import customercard as cc
from customercard.models import SavedView
from customercard.store import Store
from customercard.store.copy import TABLES, copy_store

from .conftest import copy_database


def migrate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "customercard", "migrate", *args], capture_output=True, check=False,
                          text=True, timeout=300)


def counts(store: Store) -> dict[str, int]:
    return {table: int(store.db.row(f"SELECT count(*) FROM {table}")[0]) for table, _ in TABLES}


def test_duckdb_to_postgresql_and_back(demo_template, pg_server, tmp_path):
    source = copy_database(demo_template, tmp_path / "src")
    url = pg_server.create_database("migrate_target")
    done = migrate("--from", str(source), "--to", url)
    assert done.returncode == 0, done.stderr
    assert "match on both sides" in done.stdout
    with Store(source) as a, Store(url) as b:
        assert counts(a) == counts(b)
        assert a.invoiced_per_year().equals(b.invoiced_per_year())
        customer_id = int(a.list_customers(limit=1)[0]["id"][0])
        assert a.get_customer(customer_id).values() == b.get_customer(customer_id).values()
        assert list(a.history(customer_id)["new_value"]) == list(b.history(customer_id)["new_value"])
        assert b.search(a.get_customer(customer_id).name)["id"].iloc[0] == customer_id
        assert b.authenticate("anna", "demo") is not None
        created = b.create_customer(user="anna", name="Made After The Move AB")
        assert created.number > int(a.sql("SELECT max(number) AS n FROM customers")["n"][0])

    refused = migrate("--from", str(source), "--to", url)
    assert refused.returncode == 1 and "holds data already" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    replaced = migrate("--from", str(source), "--to", url, "--replace")
    assert replaced.returncode == 0, replaced.stderr

    back = tmp_path / "back.duckdb"
    assert migrate("--from", url, "--to", str(back)).returncode == 0
    with Store(source) as a, Store(back) as c:
        assert counts(a) == counts(c)


def test_a_failed_copy_leaves_the_target_untouched(empty_template, pg_server, tmp_path):
    source = Store(copy_database(empty_template, tmp_path / "src"))
    source.create_customer(user="anna", name="Only One AB")
    url = pg_server.create_database("migrate_half")
    target = Store(url)
    target.db.execute("INSERT INTO users (login, name, role, created_at, created_by) "
                      "VALUES ('x', 'X', 'viewer', now(), 'test')")
    with pytest.raises(cc.CustomerCardError, match="holds data already"):
        copy_store(source, target)
    assert int(target.sql("SELECT count(*) AS n FROM customers")["n"][0]) == 0
    source.close()
    target.close()


def test_missing_source_is_one_clear_line(tmp_path):
    result = migrate("--from", str(tmp_path / "nope.duckdb"), "--to", str(tmp_path / "x.duckdb"))
    assert result.returncode == 1 and result.stderr.strip().endswith("does not exist.")


def test_nul_and_control_characters_from_an_older_version_are_cleaned_and_counted(empty_template, pg_server,
                                                                                   tmp_path):
    source_path = copy_database(empty_template, tmp_path / "old")
    with Store(source_path) as old:
        customer = old.create_customer(user="anna", name="Nul Bolaget AB")
        old.add_comment(customer.id, "Hello", user="anna")
        # as an older version, which checked no characters, could have written them
        old.db.execute("UPDATE customers SET name = ?, nickname = ? WHERE id = ?",
                       ["Nul\x00 Bolaget AB", "Bell\x07", customer.id])
        old.db.execute("UPDATE comments SET body = ? WHERE customer_id = ?", ["Tab\there\x00\nand \x01 there",
                                                                            customer.id])
    url = pg_server.create_database("migrate_nul")
    done = migrate("--from", str(source_path), "--to", url)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert ("Cleaned 3 text values of control characters (such as NUL) that cannot be stored: customers.name (1), "
            "customers.nickname (1), comments.body (1).") in done.stdout
    with Store(url) as moved:
        found = moved.get_customer(customer.id)
        assert (found.name, found.nickname) == ("Nul Bolaget AB", "Bell")
        assert list(moved.comments(customer.id)["body"]) == ["Tab\there\nand  there"]


def test_a_driver_error_on_postgresql_is_one_clear_error(pg_server):
    with Store(pg_server.create_database("driver_error")) as store:
        with pytest.raises(cc.CustomerCardError, match=r"NUL character \(U\+0000\), which PostgreSQL cannot store"):
            store.db.execute("INSERT INTO ui_prefs (login, key, value) VALUES (?, ?, ?)", ["anna", "k", "a\x00"])
        with pytest.raises(cc.CustomerCardError, match="The database refused this, and nothing was saved"), \
                store.db.transaction() as cur:
            cur.execute("INSERT INTO schema_info (version, applied_at) VALUES (?, ?)", [None, None])


def test_every_table_with_data_is_copied_or_named_as_not_copied(empty_template, tmp_path):
    """A table added by a later schema and left out of the copy would be lost in a move (saved views and bulk
    changes were): every table of the schema is in TABLES, or in NOT_COPIED with its reason."""
    from customercard.store.copy import NOT_COPIED

    with Store(copy_database(empty_template, tmp_path)) as store:
        tables = {row[0] for row in store.db.rows(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary")}
    assert tables - {"schema_info"} == {name for name, _sequence in TABLES} | set(NOT_COPIED)


def test_saved_views_and_bulk_changes_move_with_the_firm(empty_template, pg_server, tmp_path):
    source = copy_database(empty_template, tmp_path / "src")
    with Store(source) as store:
        customer = store.create_customer(user="anna", name="Moving AB")
        store.save_view(SavedView(name="My big customers", search="q=big", shared=True), user="anna")
        batch = store.bulk_change([customer.id], "comment", "Before the move", user="anna")
    url = pg_server.create_database("migrate_views")
    assert migrate("--from", str(source), "--to", url).returncode == 0
    with Store(url) as moved:
        assert [view.name for view in moved.views("anna")] == ["My big customers"]
        undone = moved.undo_bulk_change(batch.id, user="anna")  # the batch came along: it can be undone there
        assert undone.customers == 1 and moved.comment_count(customer.id) == 0


def test_after_a_copy_into_duckdb_the_next_number_follows_the_last(demo_store, tmp_path):
    """A copy into a DuckDB file skipped one value of every sequence (customer numbers 10300 → 10302)."""
    from customercard.store import Store
    from customercard.store.copy import copy_store

    target = Store(tmp_path / "copy.duckdb")
    try:
        copy_store(demo_store, target)
        top_number = int(target.sql("SELECT max(number) AS n FROM customers")["n"][0])
        top_id = int(target.sql("SELECT max(id) AS n FROM customers")["n"][0])
        made = target.create_customer(user="anna", name="Next In Line AB")
        assert (made.number, made.id) == (top_number + 1, top_id + 1)
    finally:
        target.close()


def test_migrate_makes_a_postgresql_database_that_is_not_there_and_a_missing_one_is_said_at_once(empty_template,
                                                                                                  pg_server, tmp_path):
    """``--to`` says "made if needed": a database that was not there waited 15 s and failed with "pool
    initialization incomplete"; opening one that is not there says so at once."""
    import time

    source = copy_database(empty_template, tmp_path / "src")
    target = pg_server.url("made_by_migrate")
    done = migrate("--from", str(source), "--to", target)
    try:
        assert done.returncode == 0, done.stderr
        assert "made_by_migrate" in done.stdout
        with Store(target) as copied:
            assert copied.schema_version >= 19
        started = time.monotonic()
        with pytest.raises(cc.CustomerCardError, match="does not exist"):
            Store(pg_server.url("nowhere_to_be_found"))
        assert time.monotonic() - started < 10
    finally:
        pg_server.sql('DROP DATABASE IF EXISTS "made_by_migrate" WITH (FORCE)')
