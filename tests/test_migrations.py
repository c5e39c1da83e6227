"""Schema migrations: older files are upgraded in place, newer ones refused, busy files explained."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

import customercard as cc
from customercard.store import LATEST_SCHEMA, Store
from customercard.store.database import migrations


def _add_anna(store: Store) -> None:
    """The manager the old files' writes are made by, inserted as any schema's users table takes her."""
    store.db.execute("INSERT INTO users (login, name, role, created_at, created_by) "
                     "VALUES ('anna', 'Anna', 'manager', now(), 'test')")


def test_migrations_are_numbered_without_gaps():
    numbers = [number for number, _, _ in migrations()]
    assert numbers == list(range(1, len(numbers) + 1)) and numbers[-1] == LATEST_SCHEMA >= 2


def test_new_file_is_at_the_latest_schema(tmp_path):
    with Store(tmp_path / "new.duckdb") as store:
        assert store.schema_version == LATEST_SCHEMA


def test_older_file_is_upgraded_in_place_keeping_its_data(tmp_path):
    path = tmp_path / "old.duckdb"
    with Store(path, migrate_to=1) as old:
        assert old.schema_version == 1
        _add_anna(old)
        # what a schema-1 program wrote (today's store code expects the newer tables)
        old.db.execute("INSERT INTO customers (number, name, phone, created_at, created_by, updated_at, updated_by) "
                       "VALUES (10001, 'Kept AB', '+46 8 123 45 67', now(), 'anna', now(), 'anna')")
        old.db.execute("INSERT INTO customer_changes (customer_id, version, changed_at, changed_by, kind, field, "
                       "new_value) VALUES (1, 1, now(), 'anna', 'create', 'name', 'Kept AB')")
        with pytest.raises(duckdb.CatalogException):  # the CRM tables of schema 2 are not there yet
            old.db.execute("SELECT count(*) FROM events")
    with Store(path) as upgraded:
        assert upgraded.schema_version == LATEST_SCHEMA
        assert upgraded.get_customer(1).name == "Kept AB"
        assert upgraded.db.row("SELECT count(*) FROM events")[0] == 0
        assert len(upgraded.history(1)) == 1
        assert list(upgraded.search("kept")["name"]) == ["Kept AB"]  # schema 3 filled its search index


def test_file_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "newer.duckdb"
    with Store(path) as store:
        store.db.execute("INSERT INTO schema_info VALUES (?, now())", [LATEST_SCHEMA + 1])
    with pytest.raises(cc.CustomerCardError, match="newer customercard"):
        Store(path)


def test_file_held_by_another_process_is_explained(tmp_path):
    path = tmp_path / "busy.duckdb"
    Store(path).close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from customercard.store import Store; "
                               "s = Store(sys.argv[1]); print('ready', flush=True); time.sleep(60)", str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(cc.CustomerCardError, match="in use by another program"):
            Store(path)
    finally:
        holder.kill()
        holder.wait()


#: The columns search_terms had before schema 20 added its page.
TERM_COLUMNS = "entry_id, term, customer_id, contact_id, source, shown"


def _key_compression(store, table: str, column: str) -> set[str]:
    return {c for (c,) in store.db.rows("SELECT DISTINCT compression FROM pragma_storage_info(?) "
                                        "WHERE column_name = ? AND segment_type = 'VARCHAR'", [table, column])}


def test_schema_7_writes_the_search_keys_again_uncompressed_keeping_every_entry(tmp_path):
    path = tmp_path / "schema6.duckdb"
    with Store(path, migrate_to=6) as old:
        _add_anna(old)
        created = old.create_customer(user="anna", name="Sandvik Konsult AB", org_number="556677-8899",
                                      phone="08-123 45 67")
        old.db.execute("CHECKPOINT")
        terms = old.db.rows(f"SELECT {TERM_COLUMNS} FROM search_terms ORDER BY entry_id")
        words = old.db.rows("SELECT word, entry_id FROM search_words ORDER BY entry_id, word")
        assert terms and words
    with Store(path) as upgraded:
        assert upgraded.schema_version == LATEST_SCHEMA >= 7
        assert upgraded.db.rows(f"SELECT {TERM_COLUMNS} FROM search_terms ORDER BY entry_id") == terms
        assert upgraded.db.rows("SELECT word, entry_id FROM search_words ORDER BY entry_id, word") == words
        indexes = {name for (name,) in upgraded.db.rows(
            "SELECT index_name FROM duckdb_indexes() WHERE table_name IN ('search_terms', 'search_words')")}
        assert indexes == {"search_terms_entry", "search_terms_customer", "search_words_entry"}
        assert list(upgraded.search("5566778899")["id"]) == [created.id]
        assert list(upgraded.search("sandvik")["id"]) == [created.id]
        # new entries keep coming from the same sequence
        other = upgraded.create_customer(user="anna", name="Sandvik Revision AB")
        assert list(upgraded.search("sandvik")["id"]) == [created.id, other.id]
        upgraded.db.execute("CHECKPOINT")
        assert _key_compression(upgraded, "search_terms", "term") == {"Uncompressed"}
        assert _key_compression(upgraded, "search_words", "word") == {"Uncompressed"}


def test_schema_8_drops_the_unread_phone_digits_column_and_phone_changes_still_save_and_find(tmp_path):
    path = tmp_path / "schema7.duckdb"
    with Store(path, migrate_to=7) as old:
        _add_anna(old)
        created = old.create_customer(user="anna", name="Sandvik Konsult AB", phone="08-123 45 67")
        assert old.db.row("SELECT count(phone_digits) FROM customers") == (1,)
    with Store(path) as upgraded:
        assert upgraded.schema_version == LATEST_SCHEMA >= 8
        columns = {name for (name,) in upgraded.db.rows(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'customers'")}
        assert "phone_digits" not in columns and "phone" in columns
        customer = upgraded.get_customer(created.id)
        assert customer.phone == "+46 8 123 45 67"
        customer.phone = "031-12 34 56"
        upgraded.save_customer(customer, user="anna")
        assert list(upgraded.search("031123456")["id"]) == [created.id]
        assert upgraded.search("081234567").empty
        assert upgraded.history(created.id, "phone")["new_value"].iloc[0] == "+46 31 12 34 56"


def test_schema_9_keeps_only_the_number_suffixes_the_search_looks_up(tmp_path):
    path = tmp_path / "schema8.duckdb"
    with Store(path, migrate_to=8) as old:
        _add_anna(old)
        created = old.create_customer(user="anna", name="Sandvik Konsult AB", org_number="556677-8899",
                                      phone="08-123 45 67")
        # what schema 8 held: every number's suffixes, three digits and up
        old.db.execute("INSERT INTO search_vocab (word) VALUES ('5566778899')")
        old.db.execute("INSERT INTO search_suffixes (suffix, word) VALUES ('778899', '5566778899'), "
                       "('899', '5566778899'), ('567', '081234567')")
    with Store(path) as upgraded:
        assert upgraded.schema_version == LATEST_SCHEMA >= 9
        vocab = {w for (w,) in upgraded.db.rows("SELECT word FROM search_vocab") if w.isdigit()}
        assert vocab == {"081234567"}
        numbers = set(upgraded.db.rows("SELECT suffix, word FROM search_suffixes WHERE word = '081234567'"))
        assert numbers == {(s, "081234567") for s in ("81234567", "1234567", "234567", "34567")}
        assert not upgraded.db.rows("SELECT * FROM search_suffixes WHERE word = '5566778899'")
        assert list(upgraded.search("123 45 67")["id"]) == [created.id]
        assert list(upgraded.search("556677")["id"]) == [created.id]
        assert list(upgraded.search("konsul")["id"]) == [created.id]


def test_schema_10_stores_the_shown_text_plainly_keeping_every_entry_and_answer(tmp_path, demo_template):
    from .conftest import copy_database

    path = copy_database(demo_template, tmp_path / "demo")
    with Store(path) as store:  # today's schema: put the table back as schema 9 left it
        store.db.execute("CREATE TABLE search_terms_old AS SELECT * FROM search_terms")
        store.db.execute("DROP TABLE search_terms")
        store.db.execute("CREATE TABLE search_terms AS SELECT * FROM search_terms_old ORDER BY term")
        store.db.execute("DROP TABLE search_terms_old")
        store.db.execute("CREATE UNIQUE INDEX search_terms_entry ON search_terms (entry_id)")
        store.db.execute("CREATE INDEX search_terms_customer ON search_terms (customer_id)")
        store.db.execute("DELETE FROM schema_info WHERE version >= 10")
        for statement in ("DROP TABLE sessions", "DROP SEQUENCE sessions_id_seq", "DROP TABLE login_throttle"):
            store.db.execute(statement)  # what schema 11 added, to be added again
        store.db.execute("CHECKPOINT")
        assert _key_compression(store, "search_terms", "shown") != {"Uncompressed"}
        terms = store.db.rows("SELECT * FROM search_terms ORDER BY entry_id")
        answers = [list(store.search(q)["id"]) for q in ("berg", "08-", "anna", "konsult ab")]
    with Store(path) as upgraded:
        assert upgraded.schema_version == LATEST_SCHEMA >= 10
        upgraded.db.execute("CHECKPOINT")
        assert _key_compression(upgraded, "search_terms", "shown") == {"Uncompressed"}
        assert _key_compression(upgraded, "search_terms", "term") == {"Uncompressed"}
        assert upgraded.db.rows("SELECT * FROM search_terms ORDER BY entry_id") == terms
        assert [list(upgraded.search(q)["id"]) for q in ("berg", "08-", "anna", "konsult ab")] == answers
        new = upgraded.create_customer(user="anna", name="Bergvik Schema AB")
        assert new.id in set(upgraded.search("bergvik")["id"])


def test_a_rebuilt_search_index_keeps_its_keys_uncompressed_and_an_empty_one_rebuilds(tmp_path, demo_template):
    from .conftest import copy_database

    with Store(copy_database(demo_template, tmp_path / "demo")) as store:
        before = store.search("berg")
        assert store.rebuild_search_index() > 0
        store.db.execute("CHECKPOINT")
        assert _key_compression(store, "search_terms", "term") == {"Uncompressed"}
        assert _key_compression(store, "search_words", "word") == {"Uncompressed"}
        assert _key_compression(store, "search_terms", "shown") == {"Uncompressed"}  # schema 10
        assert _key_compression(store, "search_terms", "source") != {"Uncompressed"}  # the rest still compressed
        assert list(store.search("berg")["id"]) == list(before["id"])
    with Store(tmp_path / "empty.duckdb") as empty:
        assert empty.rebuild_search_index() == 0  # was: ValueError from an empty vocabulary
        assert empty.search("anything").empty
