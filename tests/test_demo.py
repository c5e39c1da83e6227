"""Demo data: realistic, valid through the model, every role present, and the same for the same seed."""

from __future__ import annotations

import pandas as pd
import pytest

from customercard.demo import DEMO_USERS, build_demo
from customercard.store import Store

from .conftest import DEMO_TODAY

TABLES = ["customers", "customer_changes", "customer_segments", "contacts", "projects", "invoices",
          "invoiced_yearly", "comments", "events", "opportunities", "relations"]


def _dump(store: Store) -> dict[str, pd.DataFrame]:
    return {table: store.sql(f"SELECT * FROM {table} ORDER BY ALL") for table in TABLES}


def test_same_seed_same_data_other_seed_other_data(tmp_path):
    dumps = []
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        with Store(tmp_path / f"{name}.duckdb") as store:
            build_demo(store, customers=40, seed=seed, today=DEMO_TODAY, progress=False)
            dumps.append(_dump(store))
    for table in TABLES:
        pd.testing.assert_frame_equal(dumps[0][table], dumps[1][table], obj=table)
    assert not dumps[0]["customers"]["name"].equals(dumps[2]["customers"]["name"])


def test_invoices_made_a_chunk_of_customers_at_a_time_are_whole_and_consistent(tmp_path, monkeypatch):
    from customercard import demo

    with Store(tmp_path / "whole.duckdb") as store:
        build_demo(store, customers=40, seed=5, today=DEMO_TODAY, progress=False)
        whole = _dump(store)
    monkeypatch.setattr(demo, "INVOICE_CHUNK", 7)  # six chunks, the last a short one
    with Store(tmp_path / "chunked.duckdb") as store:
        build_demo(store, customers=40, seed=5, today=DEMO_TODAY, progress=False)
        chunked = _dump(store)
        lines = store.sql("SELECT * FROM invoices ORDER BY id")
        yearly = store.sql("SELECT customer_id, CAST(EXTRACT(YEAR FROM invoice_date) AS INTEGER) AS year, "
                           "sum(amount_base) AS amount, count(*) AS invoices FROM invoices GROUP BY ALL ORDER BY ALL")
        kept = store.sql("SELECT customer_id, year, amount, invoices FROM invoiced_yearly ORDER BY ALL")
        prospects = set(store.sql("SELECT c.id FROM customers c JOIN list_values v ON v.id = c.status_id "
                                  "WHERE v.label = 'Prospect'")["id"])
    pd.testing.assert_frame_equal(chunked["customers"], whole["customers"])  # made before the invoices
    assert lines["id"].is_unique and (lines["number"] == "F" + lines["id"].astype(str)).all()
    assert set(lines["customer_id"]) <= set(chunked["customers"]["id"]) - prospects
    ids = sorted(chunked["customers"]["id"])
    chunk_of = {customer_id: position // 7 for position, customer_id in enumerate(ids)}
    assert {chunk_of[c] for c in lines["customer_id"]} == set(range(6))  # every chunk's customers invoiced
    assert lines["invoice_date"].min().year == DEMO_TODAY.year - 9
    assert lines["invoice_date"].max() <= pd.Timestamp(DEMO_TODAY)
    pd.testing.assert_frame_equal(kept, yearly, check_dtype=False)


def test_every_demo_customer_and_contact_passes_validation(demo_store):
    choices = demo_store.choices()
    ids = demo_store.sql("SELECT id FROM customers ORDER BY id")["id"]
    for customer_id in ids:
        customer = demo_store.get_customer(int(customer_id))
        before = customer.copy()
        assert customer.validate(choices, previous=before) == {}, customer.name
        for contact_id in demo_store.contacts(int(customer_id), include_inactive=True)["id"]:
            contact = demo_store.get_contact(int(contact_id))
            assert contact.validate(choices) == {}, contact.full_name


def test_demo_has_users_of_every_role_and_realistic_content(demo_store):
    users = demo_store.users()
    assert set(users["role"]) == {"admin", "manager", "viewer"}
    assert set(users["login"]) == {login for login, *_ in DEMO_USERS}
    counts = {t: demo_store.sql(f"SELECT count(*) AS n FROM {t}")["n"][0] for t in TABLES}
    assert all(counts[t] > 0 for t in TABLES), counts
    assert demo_store.sql("SELECT count(*) AS n FROM contacts WHERE NOT active")["n"][0] > 0
    assert demo_store.sql("SELECT count(DISTINCT visit_country) AS n FROM customers")["n"][0] == 4
    years = demo_store.invoiced_per_year()["year"]
    assert years.min() == DEMO_TODAY.year - 9 and years.max() == DEMO_TODAY.year
    statuses = set(demo_store.sql("SELECT DISTINCT status FROM events")["status"])
    assert statuses == {"planned", "done", "cancelled"}
    assert set(demo_store.sql("SELECT DISTINCT status FROM opportunities")["status"]) == {"pipeline", "won", "lost"}


def test_demo_refuses_a_database_with_data(demo_store):
    with pytest.raises(ValueError, match="holds data already"):
        build_demo(demo_store, customers=5, progress=False)


def test_demo_phone_numbers_are_valid_and_each_ones_own():
    """Each customer and contact gets a number of its own (as in real data), valid and formatted as the card
    shows it: a pool number with its last four digits drawn anew keeps its numbering plan."""
    import numpy as np
    import phonenumbers

    from customercard import validators
    from customercard.demo import LOCALES, DemoPools, own_number

    rng = np.random.default_rng(5)
    pools = DemoPools(5, rng)
    for country in LOCALES:
        for pool in (pools.phones[country], pools.mobiles[country]):
            numbers = [own_number(pool, rng) for _ in range(1500)]
            assert len(set(numbers)) > 1400, country
            for number in numbers:
                assert phonenumbers.is_valid_number(phonenumbers.parse(number, None)), number
                assert validators.check_phone(number, country) == number


def test_demo_customers_rarely_share_a_phone_number(demo_store):
    counts = demo_store.sql("SELECT count(*) AS n, count(DISTINCT phone) AS d FROM customers").iloc[0]
    assert counts["d"] >= 0.97 * counts["n"]


def test_each_manager_has_a_handful_of_follow_ups_overdue_this_week_and_done(tmp_path):
    """So a new user's home page is filled: every account manager's own, on their own customers, checked by the
    model, with their history; the same for the same seed, and the rest of the demo the same without them."""
    import datetime as dt

    from customercard.demo import MANAGERS

    today = dt.date.today()  # as ``customercard demo`` makes it: overdue and due this week by the firm's today
    frames = []
    for name, wanted in (("a", True), ("b", True), ("c", False)):
        with Store(tmp_path / f"{name}.duckdb") as store:
            summary = build_demo(store, customers=40, seed=3, today=today, progress=False, follow_ups=wanted)
            frames.append((summary, _dump(store), store.sql("SELECT * FROM follow_ups ORDER BY id")))
            if name == "a":
                follow_ups = store.follow_ups()
                customers = store.sql("SELECT id, account_manager FROM customers")
                choices = store.choices()
                for row in follow_ups.itertuples():
                    follow_up = store.get_follow_up(int(row.id))
                    assert follow_up.validate(choices, previous=follow_up.copy()) == {}
                    history = store.record_history("follow_ups", int(row.id))
                    assert set(history["changed_by"]) == {row.owner}
                    assert ("update" in set(history["kind"])) == bool(row.done)
                owners = dict(zip(customers["id"], customers["account_manager"], strict=True))
    (summary, dump, made), (_, dump_again, made_again), (without, dump_without, none) = frames
    pd.testing.assert_frame_equal(made, made_again)
    for table in TABLES:  # the same seed gives the same data, with or without follow-ups
        pd.testing.assert_frame_equal(dump[table], dump_again[table], obj=table)
        pd.testing.assert_frame_equal(dump[table], dump_without[table], obj=table)
    assert none.empty and without.follow_ups == 0 and summary.follow_ups == len(made)
    assert (follow_ups["owner"] == follow_ups["customer_id"].map(owners)).all()  # on their own customers
    week = today + dt.timedelta(days=6)
    for manager in MANAGERS:
        theirs = follow_ups[follow_ups["owner"] == manager]
        assert 5 <= len(theirs) <= 15, manager
        assert theirs["overdue"].any() and theirs["done"].any(), manager
        due_this_week = theirs[~theirs["done"] & (theirs["due_on"] >= today) & (theirs["due_on"] <= week)]
        assert len(due_this_week) >= 2, manager
    assert follow_ups["contact_id"].notna().any()
    done = follow_ups[follow_ups["done"]]
    assert (done["done_by"] == done["owner"]).all() and (done["done_at"] < pd.Timestamp(today) + pd.Timedelta(
        hours=12)).all()


def test_the_demo_follow_ups_are_the_same_on_postgresql(tmp_path, pg_server):
    import datetime as dt

    columns = "customer_id, what, due_on, owner, contact_id, done, done_by, done_at, created_at, version"
    frames = []
    for store in (Store(tmp_path / "d.duckdb"), Store(pg_server.create_database("demo_follow_ups"))):
        with store:
            build_demo(store, customers=30, seed=9, today=dt.date(2026, 6, 15), progress=False)
            frames.append(store.sql(f"SELECT {columns} FROM follow_ups ORDER BY id"))
            assert len(store.follow_ups(open_only=True)) and store.follow_ups()["done"].any()
    assert len(frames[0]) > 0
    pd.testing.assert_frame_equal(frames[0], frames[1], check_dtype=False)


def test_nothing_in_the_demo_happened_after_its_day(tmp_path):
    """Made "today", the demo's story ends today: no change, event made, comment or status change dated later
    (the card as of today, the timeline and "Changed by others" would disagree with the card). Planned events
    start later, as planned events do."""
    with Store(tmp_path / "d.duckdb") as store:
        build_demo(store, customers=300, seed=7, today=DEMO_TODAY, progress=False)
        end = pd.Timestamp(DEMO_TODAY) + pd.Timedelta(days=1)
        for table, columns in (("customer_changes", ("changed_at",)), ("record_changes", ("changed_at",)),
                               ("customers", ("created_at", "updated_at")), ("contacts", ("created_at",)),
                               ("comments", ("created_at",)), ("opportunities", ("created_at", "status_changed_at")),
                               ("events", ("created_at", "updated_at", "status_changed_at"))):
            for column in columns:
                latest = store.sql(f"SELECT max({column}) AS latest FROM {table}")["latest"][0]
                assert pd.isna(latest) or pd.Timestamp(latest) < end, (table, column, latest)
        assert store.sql("SELECT count(*) AS n FROM events WHERE starts_at >= ?", [end.to_pydatetime()])["n"][0] > 0
        changed = store.sql("SELECT id FROM customers WHERE version = 2 ORDER BY id")["id"].tolist()
        assert changed
        for customer_id in changed[:20]:  # the card as of the demo's day is the card
            assert store.get_customer(customer_id, as_of=DEMO_TODAY).status == store.get_customer(customer_id).status
