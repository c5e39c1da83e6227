"""The same notebook cell on the DuckDB file and through the running server: the same answer, the same message
(the README: "The same notebook cells run unchanged on the file, through the server and on PostgreSQL")."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from customercard.errors import CustomerCardError, PermissionDenied
from customercard.i18n import using_language
from customercard.store import Store, wire

from .conftest import copy_database
from .test_remote_store import remote, served  # noqa: F401 (the module's server on a demo copy, a store through it)

DAY = dt.date(2024, 6, 30)


@pytest.fixture(scope="module")
def on_file(demo_template, tmp_path_factory):
    """The same demo database as a file of its own, opened here."""
    store = Store(copy_database(demo_template, tmp_path_factory.mktemp("parity-file")))
    yield store
    store.close()


@pytest.fixture(params=["file", "server"])
def store(request):
    return request.getfixturevalue("on_file" if request.param == "file" else "remote")


def old_customer(store, n: int = 0) -> int:
    """The n-th customer made before :data:`DAY` that is not archived."""
    return int(store.sql("SELECT id FROM customers WHERE NOT archived AND created_at < ? ORDER BY id",
                         [dt.datetime(2024, 1, 1)])["id"].iloc[n])


# -- 1. ids as a notebook has them --------------------------------------------------------------------------------
def test_bulk_changes_take_the_ids_of_a_frame(store):
    ids = store.sql("SELECT id FROM customers WHERE NOT archived ORDER BY id LIMIT 3")["id"]
    first = int(ids.iloc[0])
    for given in (ids, ids.values, ids.array, pd.Index(ids), range(first, first + 3), dict.fromkeys(ids).keys(),
                  (int(i) for i in ids)):
        preview = store.bulk_preview(given, "account_manager", "erik", user="anna")
        assert preview["total"] == 3, type(given)
    store.bulk_change(ids, "account_manager", "erik", user="anna")
    assert {store.get_customer(int(i)).account_manager for i in ids} == {"erik"}
    assert set(store.customer_names(ids.values)) == {int(i) for i in ids}  # an array has no truth value


def test_what_cannot_travel_is_still_refused_in_a_customercard_error(remote):  # noqa: F811
    with pytest.raises(wire.WireError, match="object values do not travel"):
        remote.customer_names([object()])


# -- 2. a query's MAP columns --------------------------------------------------------------------------------------
def test_a_query_with_map_columns_answers_the_same_frame(store, on_file):
    query = ("SELECT histogram(visit_country) AS by_country, histogram(number % 3) AS by_rest, "
             "map([1], [2]) AS one FROM customers")
    frame = store.sql(query)
    expected = on_file.sql(query)
    assert list(frame.columns) == ["by_country", "by_rest", "one"]
    assert frame["by_rest"][0] == expected["by_rest"][0]
    assert all(isinstance(key, int) for key in frame["by_rest"][0])
    assert frame["by_country"][0] == expected["by_country"][0] and frame["one"][0] == {1: 2}
    rows = store.sql("SELECT CASE WHEN x = 1 THEN NULL ELSE map([x], [[x, x + 1]]) END AS m, "
                     "{'a': x, 'b': CASE WHEN x = 0 THEN NULL ELSE 'y' END} AS s FROM range(3) t(x) ORDER BY x")
    assert rows["m"].tolist() == [{0: [0, 1]}, pd.NA, {2: [2, 3]}]
    assert rows["s"].tolist() == [{"a": 0, "b": None}, {"a": 1, "b": "y"}, {"a": 2, "b": "y"}]


# -- 3. the card as of a day: no deliveries waiting ----------------------------------------------------------------
def test_the_store_as_of_a_day_has_no_deliveries_waiting(store):
    linked = int(store.sql("SELECT id FROM customers WHERE erp_system <> '' AND NOT archived AND created_at < ? "
                           "ORDER BY id LIMIT 1", [dt.datetime(2024, 1, 1)])["id"][0])
    customer = store.get_customer(linked)
    customer.phone = "+46 8 123 45 67" if customer.phone != "+46 8 123 45 67" else "+46 8 765 43 21"
    store.save_customer(customer, user="anna")  # a linked customer's save: a delivery to the economy system
    today = store.outbox_counts(linked)
    assert sum(today.values()) > 0
    assert store.as_of(DAY).outbox_counts(linked) == dict.fromkeys(today, 0)


# -- 4. a query's parameters taken from a frame --------------------------------------------------------------------
def test_a_querys_parameters_may_be_numpy_values(store):
    frame = store.list_customers(limit=3)[0]
    first = frame.id[0]
    assert isinstance(first, np.integer)
    found = store.sql("SELECT name FROM customers WHERE id = ? AND ? AND ? > 0", [first, np.bool_(True),
                                                                                np.float64(1.5)])
    assert found["name"].tolist() == [frame.name[0]]
    counted = store.sql("SELECT count(*) AS n FROM customers WHERE id IN (SELECT unnest(?))", [frame.id])
    assert int(counted["n"][0]) == 3
    assert store.sql("SELECT ?::DATE AS d", [np.datetime64("2024-06-30")])["d"][0] == pd.Timestamp(DAY)
    moment = store.sql("SELECT ? AS t", [np.datetime64("2024-06-30T10:00:00.000000000")])["t"][0]
    assert moment == pd.Timestamp("2024-06-30 10:00")


# -- 5. the timeline's changes: tuples -----------------------------------------------------------------------------
def test_the_timelines_changes_are_tuples(store):
    customer_id = old_customer(store, 1)
    for reader in (store, store.as_of(DAY)):
        changes = reader.timeline(customer_id, kinds=["change"])["changes"]
        saves = [save for save in changes if isinstance(save, list) and save]
        assert saves, reader
        assert all(type(change) is tuple and len(change) == 3 for save in saves for change in save)
        assert tuple(saves[-1][0]) in saves[-1]


# -- 6. a write refused as of a day ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("language", "day"), [("en", "30 Jun 2024"), ("sv", "30 juni 2024")])
def test_a_write_as_of_a_day_is_refused_with_the_day_as_the_reader_writes_it(store, language, day):
    customer_id = old_customer(store)
    with using_language(language), pytest.raises(PermissionDenied) as refused:
        store.as_of(DAY).add_comment(customer_id, "x", user="anna")
    assert day in str(refused.value)
    assert isinstance(refused.value, CustomerCardError)


# -- 5. moments with their offset ----------------------------------------------------------------------------------
def test_an_event_at_a_time_with_its_zone_is_stored_at_that_moment(store):
    from zoneinfo import ZoneInfo

    stockholm = ZoneInfo("Europe/Stockholm")
    event = store.new_event(old_customer(store))
    event.title = "Workshop at ten, Stockholm time"
    event.starts_at = dt.datetime(2027, 1, 14, 10, 0, tzinfo=stockholm)
    event.ends_at = dt.datetime(2027, 1, 14, 11, 0, tzinfo=stockholm)
    made = store.create_event(event, user="anna")
    stored = store.sql("SELECT starts_at, ends_at FROM events WHERE id = ?", [made.id]).iloc[0]
    assert (stored["starts_at"], stored["ends_at"]) == (pd.Timestamp("2027-01-14 09:00"),
                                                        pd.Timestamp("2027-01-14 10:00"))
    again = store.get_event(made.id)
    again.ends_at = dt.datetime(2027, 1, 14, 12, 30, tzinfo=stockholm)
    store.save_event(again, user="anna")
    assert store.sql("SELECT ends_at FROM events WHERE id = ?", [made.id])["ends_at"][0] == pd.Timestamp(
        "2027-01-14 11:30")


# -- 6. days and moments given as text -----------------------------------------------------------------------------
@pytest.mark.parametrize(("method", "arguments", "field"), [
    ("follow_ups", {"due_by": "garbage"}, "due_by"), ("follow_ups", {"due_from": ""}, "due_from"),
    ("follow_up_counts", {"due_by": "31/12/2024"}, "due_by"), ("pipeline_cards", {"close_from": "soon"}, "close_from"),
    ("pipeline", {"close_to": "later"}, "close_to"), ("changes_by_others", {"login": "anna", "since": "x"}, "since"),
    ("invoicing_behind", {"today": "2024-13-01"}, "today")])
def test_a_day_that_is_no_day_is_told_for_its_argument(store, method, arguments, field):
    from customercard.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        getattr(store, method)(**arguments)
    assert set(refused.value.errors) == {field}


def test_a_day_given_as_iso_text_is_that_day(store):
    from customercard.store.activity import as_moment

    day = dt.date(2024, 6, 30)
    assert store.invoicing_behind(today="2024-06-30").equals(store.invoicing_behind(today=day))
    follow_up = store.new_follow_up(old_customer(store, 4), owner="anna")
    follow_up.what = "Call about the renewal"
    store.add_follow_up(follow_up, user="anna")
    late = dt.date(2099, 12, 31)
    counted = store.follow_up_counts(due_by="2099-12-31")
    assert counted == store.follow_up_counts(due_by=late) and counted["due"] > 0
    assert counted != store.follow_up_counts(due_by="1999-01-01")  # the day read, not ignored
    assert store.pipeline_cards(close_from="2024-06-30").equals(store.pipeline_cards(close_from=day))
    assert as_moment("2024-06-30T12:00:00+02:00", "since") == dt.datetime(2024, 6, 30, 10)  # its offset kept
    assert as_moment("2024-06-30 12:00", "since") == dt.datetime(2024, 6, 30, 12)  # none: UTC, as stored
    since = store.changes_by_others("anna", "2024-06-30T12:00:00+02:00")
    assert since.equals(store.changes_by_others("anna", dt.datetime(2024, 6, 30, 10)))


# -- 7. wrong values for a write are told for their argument -------------------------------------------------------
def test_a_comment_s_wrong_kind_or_day_and_a_preference_json_cannot_keep_are_told_for_their_argument(store):
    from customercard.errors import ValidationError

    customer_id = old_customer(store, 3)
    with pytest.raises(ValidationError) as refused:
        store.add_comment(customer_id, "Called", user="anna", kind="bogus")
    assert set(refused.value.errors) == {"kind"}
    with pytest.raises(ValidationError) as refused:
        store.add_comment(customer_id, "Called", user="anna", written_on="the day before")
    assert set(refused.value.errors) == {"written_on"}
    written = store.add_comment(customer_id, "Called on the 2nd", user="anna", written_on="2024-01-02")
    assert written.written_on == dt.date(2024, 1, 2)
    with pytest.raises(ValidationError) as refused:
        store.set_pref("anna", "a.day", dt.date(2024, 1, 1))
    assert set(refused.value.errors) == {"value"}


# -- 8. a query's list and blob columns ----------------------------------------------------------------------------
def test_a_query_s_lists_and_blobs_are_what_the_file_gives(store, on_file):
    query = "SELECT [x, x + 1] AS pair, 'ab'::BLOB AS raw, CASE WHEN x = 1 THEN NULL ELSE [x] END AS maybe " \
            "FROM range(3) t(x) ORDER BY x"
    frame, expected = store.sql(query), on_file.sql(query)
    for column in ("pair", "raw", "maybe"):
        assert [type(v) for v in frame[column]] == [type(v) for v in expected[column]], column
    assert frame["pair"][0].tolist() == [0, 1] and bytes(frame["raw"][0]) == b"ab"


def test_a_follow_up_not_done_then_has_no_done_at_as_follow_ups_says(store):
    customer_id = old_customer(store, 5)
    follow_up = store.new_follow_up(customer_id, owner="anna")
    follow_up.what = "Send the offer"
    store.add_follow_up(follow_up, user="anna")
    then = store.follow_ups_as_of(customer_id, dt.date(2099, 1, 1))
    today = store.follow_ups(customer_id=customer_id)
    assert then["done_at"].tolist() == today["done_at"].tolist() == [None] * len(today)


def test_a_follow_up_due_before_the_year_1000_is_told_for_its_day(store):
    from customercard.errors import ValidationError

    follow_up = store.new_follow_up(old_customer(store, 6), owner="anna")
    follow_up.what = "Far too early"
    follow_up.due_on = dt.date(1, 1, 1)  # (it travelled as '1-01-01', which the server could not read)
    with pytest.raises(ValidationError) as refused:
        store.add_follow_up(follow_up, user="anna")
    assert set(refused.value.errors) == {"due_on"}


# -- 8. a day's differences of several kinds -------------------------------------------------------------------
def test_a_diff_of_a_text_field_and_a_criterion_is_the_files_on_the_server_too(store):
    """value_a / value_b hold texts beside a criterion's lists: Arrow alone could not carry the column (the server
    answered 'do not travel'), so the card's 'compare with today' failed in a notebook beside the server."""
    customer_id = old_customer(store, 7)
    customer = store.get_customer(customer_id)
    criterion = store.criteria()[0]
    before = list(customer.segments.get(criterion.name, []))
    chosen = [value for value in criterion.values if value not in before][:1]
    customer.phone = "+46 8 765 43 21" if customer.phone != "+46 8 765 43 21" else "+46 8 765 43 22"
    customer.segments = {**customer.segments, criterion.name: chosen}
    store.save_customer(customer, user="anna")
    differs = store.diff(customer_id, dt.date(2020, 1, 1))
    rows = {row.field: row for row in differs.itertuples()}
    assert rows["phone"].value_b == customer.phone and isinstance(rows["phone"].value_b, str)
    assert rows[f"segments.{criterion.name}"].value_b == chosen  # a list, as the file gives it
    assert {type(v) for v in differs["value_b"]} >= {str, list}


def test_a_frame_of_values_of_several_kinds_comes_back_as_it_was():
    import decimal

    frame = pd.DataFrame({"field": ["a", "b", "c", "d"], "value": ["x", ["A", "B"], None, dt.date(2024, 1, 2)],
                          "other": [decimal.Decimal("1.5"), "y", ("t", 1), dt.datetime(2024, 1, 2, 3, 4)]})
    back = wire.frame_from_arrow(wire.frame_to_arrow(frame))
    assert back.equals(frame)
    assert [type(v) for v in back["other"]] == [decimal.Decimal, str, tuple, dt.datetime]


# -- 9. a day is a date, a moment or a text; a number is refused on both ----------------------------------------
@pytest.mark.parametrize(("method", "arguments", "field"), [
    ("timeline", {"since": 20240101}, "since"), ("get_customer", {"as_of": 20240101}, "as_of"),
    ("diff", {"date_a": 20240101}, "date_a")])
def test_a_number_is_no_day_on_the_file_nor_through_the_server(store, method, arguments, field):
    from customercard.errors import ValidationError

    with pytest.raises(ValidationError) as refused:
        getattr(store, method)(old_customer(store, 0), **arguments)
    assert set(refused.value.errors) == {field}


@pytest.mark.parametrize("limit", [-1, 1.5, "many"])
def test_a_timeline_limit_that_is_no_count_is_refused_and_zero_gives_none(store, limit):
    from customercard.errors import ValidationError

    customer_id = old_customer(store, 0)
    with pytest.raises(ValidationError) as refused:
        store.timeline(customer_id, limit=limit)
    assert set(refused.value.errors) == {"limit"}
    assert store.timeline(customer_id, limit=0).empty and len(store.timeline(customer_id, limit=2)) == 2


def test_an_empty_user_acts_as_no_user_given_on_both(store):
    """user='' acted as the configured user on the file and was refused ('Say who acts') through the server."""
    customer_id = old_customer(store, 8)
    given_none = store.add_comment(customer_id, "Written with no user given")
    given_empty = store.add_comment(customer_id, "Written with an empty user", user="")
    assert given_empty.author == given_none.author and given_empty.author


def test_a_numpy_day_is_the_day_it_names_on_both(store):
    """A DataFrame's ``.values`` give NumPy datetime64 days: taken as the day (a number is not, above)."""
    customer_id = old_customer(store, 0)
    since = store.timeline(customer_id, since=np.datetime64("2020-01-01"), limit=5)
    assert since.equals(store.timeline(customer_id, since=dt.date(2020, 1, 1), limit=5)) and not since.empty
