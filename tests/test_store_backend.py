"""The backend interface both databases give the store's parts, and the one transaction implementation they share:
nested calls join the open transaction, a failure rolls all of it back, and changes are told once — on commit."""

from __future__ import annotations

import contextlib
import threading

import pytest

from customercard.errors import ValidationError
from customercard.store import Change
from customercard.store.backend import Backend, SqlBackend
from tests.conftest import eventually


def test_both_backends_are_the_one_backend(empty_store):
    assert isinstance(empty_store.db, SqlBackend)
    assert isinstance(empty_store.db, Backend)  # every method of the Protocol is there
    assert empty_store.db.dialect in {"duckdb", "postgresql"}


class Listener(list):
    """Keeps what it hears (the feed holds listeners weakly: the test keeps this one)."""

    def hear(self, change: Change) -> None:
        self.append(change)


def heard_changes(store) -> Listener:
    heard = Listener()
    store.changes.subscribe(heard.hear)
    return heard


def test_a_committed_transaction_tells_its_changes_once_and_after_commit(empty_store):
    store = empty_store
    heard = heard_changes(store)
    marker = Change("customer", 999_001, 7)
    with store.db.transaction() as cur:
        cur.execute("UPDATE change_stamps SET stamp = stamp + 1 WHERE area = 'admin'")
        store.db.announce(marker)
        with store.db.transaction():  # a nested call joins: nothing is told yet
            store.db.announce(Change("customer", 999_002, 1))
        assert store.db.in_transaction
        assert not any(c.id in {999_001, 999_002} for c in heard)
    assert not store.db.in_transaction
    eventually(lambda: {999_001, 999_002} <= {c.id for c in heard})
    assert [c.id for c in heard].count(999_001) == 1


def test_a_failure_rolls_back_the_whole_transaction_and_tells_nothing(empty_store):
    store = empty_store
    heard = heard_changes(store)
    before = store.db.row("SELECT stamp FROM change_stamps WHERE area = 'admin'")[0]
    with pytest.raises(ValidationError), store.db.transaction() as cur:
        cur.execute("UPDATE change_stamps SET stamp = stamp + 1 WHERE area = 'admin'")
        store.db.announce(Change("customer", 999_003, 1))
        with store.db.transaction() as inner:
            inner.execute("UPDATE change_stamps SET stamp = stamp + 1 WHERE area = 'admin'")
        raise ValidationError({"name": "no"})
    assert store.db.row("SELECT stamp FROM change_stamps WHERE area = 'admin'")[0] == before
    assert not store.db.in_transaction
    # a later committed change is heard, the rolled-back one never
    with store.db.transaction():
        store.db.announce(Change("customer", 999_004, 1))
    eventually(lambda: 999_004 in {c.id for c in heard})
    assert 999_003 not in {c.id for c in heard}


def test_transactions_of_two_threads_do_not_join(empty_store):
    store = empty_store
    seen: dict[str, bool] = {}
    inside = threading.Event()
    leave = threading.Event()

    def other() -> None:
        inside.wait(10)
        seen["other thread in a transaction"] = store.db.in_transaction
        leave.set()

    thread = threading.Thread(target=other)
    thread.start()
    with store.db.transaction():
        inside.set()
        leave.wait(10)
    thread.join(10)
    assert seen == {"other thread in a transaction": False}


def test_sequences_hand_out_many_values_at_once_and_refuse_odd_names(empty_store):
    db = empty_store.db
    taken = db.reserve_ids("customers_id_seq", 5)
    assert len(set(taken)) == 5 and taken == sorted(taken)
    assert db.reserve_ids("customers_id_seq", 0) == []
    with pytest.raises(ValueError, match="bad"):
        db.reserve_ids("customers_id_seq; DROP TABLE customers", 1)
    assert db.schema_version() == empty_store.schema_version


@contextlib.contextmanager
def write_held_open(store, sql: str, params: list):
    """Another thread's connection holds a write transaction (``sql``) open while the block runs; then rolls back."""
    opened, finish = threading.Event(), threading.Event()

    def writer():
        cur = store.db.cursor()  # that thread's own connection
        cur.execute("BEGIN TRANSACTION")
        cur.execute(sql, params)
        opened.set()
        finish.wait(30)
        cur.execute("ROLLBACK")

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert opened.wait(30)
        yield
    finally:
        finish.set()
        thread.join()


def test_a_backup_is_made_while_another_connection_holds_a_write_open(empty_template, tmp_path):
    """DuckDB refuses a CHECKPOINT while any other write transaction is open (a server's API write, its session
    bookkeeping): the backup is made all the same, of what is committed. (PostgreSQL: pg_dump, not the store.)"""
    from customercard.store import Store

    from .conftest import copy_database

    store = Store(copy_database(empty_template, tmp_path / "db"))
    made = store.create_customer(user="anna", name="Committed AB")
    with write_held_open(store, "UPDATE customers SET name = 'Not committed AB' WHERE id = ?", [made.id]):
        store.backup(tmp_path / "copy.duckdb")
    store.close()
    with Store(tmp_path / "copy.duckdb") as copy:
        assert copy.get_customer(made.id).name == "Committed AB"


def test_many_short_lived_threads_one_after_another_each_get_a_connection(empty_store):
    """On PostgreSQL each thread keeps a pool connection while it lives: those of ended threads go back, so a
    script starting a new thread for each round does not stall at the pool's size (16)."""
    store = empty_store
    made = store.create_customer(user="anna", name="Threads AB")
    answers = []
    for _round in range(25):
        thread = threading.Thread(target=lambda: answers.append(store.get_customer(made.id).name))
        thread.start()
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert answers == ["Threads AB"] * 25


def test_two_stores_on_one_file_writing_the_same_row_at_once_give_a_clear_refusal(empty_template, tmp_path):
    """A notebook that opened the same DuckDB file twice: the second writer of a row another connection is
    writing is refused by DuckDB ("Conflict on update") — told as our error (one that says the same call may be
    tried again), nothing saved; the HTTP API answers it 409 with Retry-After."""
    from customercard.errors import WriteConflict
    from customercard.http_api.base import ApiHandler
    from customercard.store import Store

    from .conftest import copy_database

    path = copy_database(empty_template, tmp_path / "db")
    first, second = Store(path), Store(path)
    made = first.create_customer(user="anna", name="Twice Open AB")
    with write_held_open(first, "UPDATE customers SET nickname = 'first' WHERE id = ?", [made.id]):
        mine = second.get_customer(made.id)
        mine.nickname = "second"
        with pytest.raises(WriteConflict, match="at the same moment") as refused:
            second.save_customer(mine, user="anna")
    assert second.get_customer(made.id).nickname == ""
    problem = ApiHandler.problem_of(refused.value)
    assert (problem.status, problem.headers) == (409, {"Retry-After": "1"})
    from customercard.store import wire

    travelled = wire.decode_error(wire.encode_error(refused.value)["error"])  # to a notebook through the server
    assert isinstance(travelled, WriteConflict) and wire.status_of(refused.value) == 409
    second.save_customer(mine, user="anna")  # tried again once the other write is over: saved
    assert first.get_customer(made.id).nickname == "second"
    first.close()
    second.close()


@pytest.mark.parametrize("empty_store", ["postgresql"], indirect=True)
def test_a_connection_postgresql_ended_is_replaced_and_the_statement_run_again(empty_store, pg_server):
    """PostgreSQL restarted (or a fail-over): each thread's kept connection is gone, and every server thread
    answered one error ("terminating connection due to administrator command", a 500) before it had a new one.
    A statement outside a transaction, or a transaction's BEGIN, runs again on a new connection; within a
    transaction the write is lost and said so, nothing half-done, and the next one works."""
    import psycopg

    from customercard.errors import CustomerCardError

    store = empty_store
    made = store.create_customer(user="anna", name="Restarted AB")

    def end_my_connection() -> None:
        pid = int(store.db.row("SELECT pg_backend_pid()")[0])
        with psycopg.connect(pg_server.url(store.db.row("SELECT current_database()")[0]), autocommit=True) as other:
            other.execute("SELECT pg_terminate_backend(%s)", [pid])

    end_my_connection()
    assert store.get_customer(made.id).name == "Restarted AB"  # a read: run again on a new connection
    end_my_connection()
    mine = store.get_customer(made.id)
    mine.phone = "+46 8 123 45 67"
    end_my_connection()
    store.save_customer(mine, user="anna")  # its transaction's BEGIN met the lost connection: begun anew
    assert store.get_customer(made.id).phone == "+46 8 123 45 67"
    again = store.get_customer(made.id)
    again.phone = "+46 8 765 43 21"
    with pytest.raises(CustomerCardError), store.db.transaction() as cur:
        cur.execute("UPDATE customers SET phone = ? WHERE id = ?", ["+46 8 765 43 21", made.id])
        end_my_connection()
        cur.execute("UPDATE customers SET nickname = ? WHERE id = ?", ["half", made.id])
    saved = store.get_customer(made.id)
    assert (saved.phone, saved.nickname) == ("+46 8 123 45 67", "")  # nothing of the lost transaction


def test_an_empty_answer_has_the_same_column_types_on_both_backends(empty_store):
    """An empty frame from PostgreSQL had untyped (object) columns: ``frame["changed_at"].dt`` failed there, in
    the same notebook cell that works on DuckDB."""
    store = empty_store
    made = store.create_customer(user="anna", name="Nothing Yet AB")
    history = store.history(made.id, field="phone")
    assert history.empty and str(history["changed_at"].dtype).startswith("datetime64")
    assert list(history["changed_at"].dt.year) == []
    events = store.events(made.id)
    assert events.empty and str(events["starts_at"].dtype).startswith("datetime64")
    counted = store.sql("SELECT id, created_at FROM customers WHERE id < 0")
    assert str(counted["id"].dtype).startswith("int") and str(counted["created_at"].dtype).startswith("datetime64")
