"""The reads a card makes, on DuckDB and PostgreSQL: their rows, order, columns and column types — as they were when
the database filtered, ordered, joined and added up (issue 22 moved that to Python so that DuckDB answers each from
the customer's index)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from customercard.models import Contact
from customercard.store.backend import frame_of

CONTACT_COLUMNS = ["id", "customer_id", "first_name", "last_name", "title", "email", "phone", "mobile", "active",
                   "notes", "created_at", "created_by", "updated_at", "updated_by", "version"]
COMMENT_COLUMNS = ["id", "customer_id", "written_on", "author", "author_name", "body", "kind", "recipients",
                   "created_at", "created_by", "edited_at", "edited_by", "version"]


@pytest.fixture
def firm(empty_store):
    store = empty_store
    return store, store.create_customer(user="anna", name="Reads AB", account_manager="anna")


def _contact(store, customer_id, first, last, active=True):
    contact = store.create_contact(Contact(customer_id=customer_id, first_name=first, last_name=last), user="anna")
    if not active:
        contact.active = False
        store.save_contact(contact, user="anna")
    return contact


def test_contacts_by_last_then_first_name_case_aside_active_unless_asked(firm):
    store, customer = firm
    other = store.create_customer(user="anna", name="Other AB")
    made = [_contact(store, customer.id, *names) for names in (
        ("Eva", "berg"), ("adam", "Berg"), ("Zoe", "Ahl"), ("Adam", "berg"), ("Olle", "Öst"))]
    _contact(store, customer.id, "Ina", "Aktiv", active=False)
    _contact(store, other.id, "Not", "Here")
    frame = store.contacts(customer.id)
    assert list(frame.columns) == CONTACT_COLUMNS
    assert list(zip(frame["first_name"], frame["last_name"], strict=True)) == [
        ("Zoe", "Ahl"), ("adam", "Berg"), ("Adam", "berg"), ("Eva", "berg"), ("Olle", "Öst")]
    assert [int(i) for i in frame["id"]][1:3] == sorted(int(c.id) for c in (made[1], made[3]))  # same names: by id
    everyone = store.contacts(customer.id, include_inactive=True)
    assert len(everyone) == 6 and list(everyone["last_name"])[:2] == ["Ahl", "Aktiv"]
    assert not bool(everyone.set_index("last_name").loc["Aktiv", "active"])
    assert frame["active"].dtype == bool and str(frame["created_at"].dtype) == "datetime64[us]"
    assert frame["version"].dtype == "int32" and frame["created_at"].notna().all()


def test_no_contacts_is_an_empty_frame_with_the_columns(firm):
    store, customer = firm
    frame = store.contacts(customer.id)
    assert frame.empty and list(frame.columns) == CONTACT_COLUMNS
    assert str(frame["created_at"].dtype) == "datetime64[us]"


def test_comments_newest_first_by_date_then_as_written_cut_to_the_limit(firm):
    store, customer = firm
    days = [dt.date(2024, 5, 1), dt.date(2025, 1, 2), dt.date(2024, 5, 1), dt.date(2023, 9, 9)]
    made = [store.add_comment(customer.id, f"Note {n}", user="anna", written_on=day) for n, day in enumerate(days)]
    store.add_comment(store.create_customer(user="anna", name="Other AB").id, "Elsewhere", user="anna")
    frame = store.comments(customer.id)
    assert list(frame.columns) == COMMENT_COLUMNS
    assert list(frame["body"]) == ["Note 1", "Note 2", "Note 0", "Note 3"]
    assert list(store.comments(customer.id, limit=2)["body"]) == ["Note 1", "Note 2"]
    assert store.comments(customer.id, limit=0).empty and len(store.comments(customer.id, limit=9)) == 4
    assert store.comment_count(customer.id) == 4
    assert [int(i) for i in frame["id"]] == [made[1].id, made[2].id, made[0].id, made[3].id]
    assert str(frame["written_on"].dtype) == "datetime64[us]" and frame["written_on"].iloc[0] == pd.Timestamp(days[1])
    assert set(frame["version"]) == {1} and frame["edited_at"].isna().all()


def test_a_customer_with_more_comments_than_are_sorted_here_gets_the_same_newest(firm, monkeypatch):
    from customercard.store import timeline

    store, customer = firm
    days = [dt.date(2024, 1, 1) + dt.timedelta(days=(n * 7) % 30) for n in range(9)]
    for n, day in enumerate(days):
        store.add_comment(customer.id, f"Note {n}", user="anna", written_on=day)
    everything = list(store.comments(customer.id)["body"])
    for sorted_here in (2, 3, 50):  # fewer rows than the customer has: the database orders and cuts them
        monkeypatch.setattr(timeline, "COMMENTS_SORTED_HERE", sorted_here)
        assert list(store.comments(customer.id, limit=3)["body"]) == everything[:3]
        assert list(store.comments(customer.id, limit=1)["body"]) == everything[:1]
        assert list(store.comments(customer.id, limit=20)["body"]) == everything


def test_comments_with_count_are_the_newest_and_the_count_whatever_the_customer_has(firm, monkeypatch):
    from customercard.store import timeline

    store, customer = firm
    assert store.comments_with_count(customer.id, limit=3)[1] == 0
    assert list(store.comments_with_count(customer.id, limit=3)[0].columns) == COMMENT_COLUMNS
    for n in range(7):
        store.add_comment(customer.id, f"Note {n}", user="anna", written_on=dt.date(2024, 1, 1 + (n * 5) % 7))
        for sorted_here in (2, 6, 200):  # fewer, as many and more rows than are read and sorted here
            monkeypatch.setattr(timeline, "COMMENTS_SORTED_HERE", sorted_here)
            for limit in (None, 0, 1, 3, 7, 9):
                frame, total = store.comments_with_count(customer.id, limit=limit)
                assert total == store.comment_count(customer.id) == n + 1
                pd.testing.assert_frame_equal(frame, store.comments(customer.id, limit=limit))


def test_comments_with_count_as_of_a_day_are_those_written_by_then(firm):
    store, customer = firm
    store.add_comment(customer.id, "Today", user="anna")
    frame, total = store.as_of(dt.date.today() - dt.timedelta(days=2)).comments_with_count(customer.id, limit=3)
    assert frame.empty and total == 0
    frame, total = store.as_of(dt.date.today() + dt.timedelta(days=1)).comments_with_count(customer.id, limit=3)
    assert list(frame["body"]) == ["Today"] and total == 1


def test_a_comment_names_its_author_as_users_know_them_now(firm):
    store, customer = firm
    store.add_comment(customer.id, "By Anna", user="anna")
    gone = store.add_comment(customer.id, "By someone gone", user="anna")
    # an author who is no user (an imported comment): the login as written
    store.db.execute("UPDATE comments SET author = ? WHERE id = ?", ["former.colleague", gone.id])
    names = dict(zip(store.comments(customer.id)["body"], store.comments(customer.id)["author_name"], strict=True))
    assert names == {"By Anna": "Anna", "By someone gone": "former.colleague"}
    anna = store.get_user("anna")
    anna.name = "Anna Andersson"
    store.update_user(anna, by="boss")
    assert set(store.comments(customer.id)["author_name"]) == {"Anna Andersson", "former.colleague"}


def test_no_comments_is_an_empty_frame_with_the_columns(firm):
    store, customer = firm
    frame = store.comments(customer.id, limit=3)
    assert frame.empty and list(frame.columns) == COMMENT_COLUMNS and store.comment_count(customer.id) == 0


def test_follow_ups_ordered_alike_with_and_without_a_limit(firm):
    store, customer = firm
    today = store.firm_today()
    made = []
    for days, what in ((5, "later"), (-3, "overdue"), (5, "later too"), (1, "tomorrow"), (2, "done first"),
                       (9, "done second")):
        follow_up = store.new_follow_up(customer.id)
        follow_up.what, follow_up.due_on = what, today + dt.timedelta(days=days)
        made.append(store.add_follow_up(follow_up, user="anna"))
    store.set_follow_up_done(made[4].id, user="anna")
    store.set_follow_up_done(made[5].id, user="anna")  # done later: listed before the one done first
    frame = store.follow_ups(customer_id=customer.id)
    assert list(frame["what"]) == ["overdue", "tomorrow", "later", "later too", "done second", "done first"]
    assert list(store.follow_ups(customer_id=customer.id, limit=100)["what"]) == list(frame["what"])
    assert list(store.follow_ups(customer_id=customer.id, limit=2)["what"]) == ["overdue", "tomorrow"]
    assert list(frame["overdue"]) == [True, False, False, False, False, False]
    assert frame["done"].dtype == bool and str(frame["contact_id"].dtype) == "Int64"
    empty = store.follow_ups(customer_id=store.create_customer(user="anna", name="None AB").id)
    assert empty.empty and list(empty.columns) == list(frame.columns) and str(empty["contact_id"].dtype) == "Int64"


def test_pipeline_per_year_weighs_open_opportunities_only(firm):
    store, customer = firm
    this_year = dt.date.today().year
    for title, amount, probability, close, status in (
            ("A", 100_000, 40, dt.date(2031, 3, 1), None), ("B", 10_000, 25, dt.date(2031, 6, 1), None),
            ("C", 5_000, 10, None, None), ("D", 50_000, 90, dt.date(2031, 1, 1), "won")):
        deal = store.new_opportunity(customer.id)
        deal.param.update(title=title, amount=amount, probability=probability, expected_close=close, stage="Lead")
        deal = store.create_opportunity(deal, user="anna")
        if status:
            deal.status = status
            store.save_opportunity(deal, user="anna")
    frame = store.pipeline_per_year(customer.id)
    assert list(frame.columns) == ["year", "weighted"]
    assert dict(zip(frame["year"], frame["weighted"], strict=True)) == {this_year: 500.0, 2031: 42_500.0}
    assert store.pipeline_per_year(store.create_customer(user="anna", name="None AB").id).empty


def test_frame_of_types_columns_as_duckdb_does():
    rows = [(1, None, 2.5, True, dt.date(2024, 1, 2), "a"), (2, 7, None, False, None, None)]
    frame = frame_of(rows, {"a": "int", "b": "bigint", "c": "float", "d": "bool", "e": "datetime", "f": "text"})
    assert [str(t) for t in frame.dtypes] == ["int32", "Int64", "float64", "bool", "datetime64[us]", "str"]
    assert frame["b"].isna().tolist() == [True, False] and pd.isna(frame["e"].iloc[1])
    empty = frame_of([], {"a": "int", "e": "datetime", "f": "text"})
    assert [str(t) for t in empty.dtypes] == ["int32", "datetime64[us]", "object"] and empty.empty
    with pytest.raises(ValueError):
        frame_of(rows, {name: "money" for name in "abcdef"})


def test_the_history_has_the_same_column_types_on_both_backends(firm):
    store, customer = firm
    customer.phone = "+46 8 123 45 67"
    store.save_customer(customer, user="anna")
    frame = store.history(customer.id)
    assert [str(t) for t in frame.dtypes] == ["datetime64[us]", "str", "str", "str", "str", "str", "int32", "int64"]
    assert frame["version"].iloc[0] == 2 and frame["field"].iloc[0] == "phone"
