"""Invoiced per year: net of credit notes, base currency, gaps as 0, the aggregate equal to raw SQL."""

from __future__ import annotations

import pandas as pd
import pytest

import customercard as cc


def test_invoiced_per_year_is_net_of_credit_notes_with_gaps_as_zero(empty_store):
    c = empty_store.create_customer(user="anna", name="Invoiced AB")
    empty_store.add_invoices(pd.DataFrame({
        "customer_id": [c.id] * 4, "number": ["1", "2", "3", "4"],
        "invoice_date": ["2021-03-01", "2021-09-01", "2023-01-15", "2023-02-01"],
        "amount": [100.0, 50.0, 300.0, -40.0], "currency": ["EUR", "EUR", "SEK", "SEK"],
        "amount_base": [1150.0, 575.0, 300.0, -40.0],
    }), user="anna")
    frame = empty_store.invoiced_per_year(c.id)
    assert list(frame["year"]) == [2021, 2022, 2023]
    assert list(frame["amount"]) == [1725.0, 0.0, 260.0]
    assert list(empty_store.invoiced_per_year(c.id, fill_gaps=False)["year"]) == [2021, 2023]


def test_adding_invoices_updates_the_yearly_totals(empty_store):
    c = empty_store.create_customer(user="anna", name="Growing AB")
    row = {"customer_id": c.id, "number": "A", "invoice_date": "2024-05-05", "amount": 10.0, "currency": "SEK",
           "amount_base": 10.0}
    empty_store.add_invoices(pd.DataFrame([row]), user="anna")
    empty_store.add_invoices(pd.DataFrame([{**row, "number": "B", "amount": 5.0, "amount_base": 5.0}]), user="anna")
    assert empty_store.invoiced_per_year(c.id)["amount"].tolist() == [15.0]


def test_bad_invoices_are_refused_whole(empty_store):
    c = empty_store.create_customer(user="anna", name="Strict AB")
    bad = pd.DataFrame({"customer_id": [c.id, c.id], "number": ["1", "2"], "invoice_date": ["2024-01-01", "soon"],
                        "amount": [1, 2], "currency": ["SEK", "SEK"], "amount_base": [1, 2]})
    with pytest.raises(cc.ValidationError):
        empty_store.add_invoices(bad, user="anna")
    with pytest.raises(cc.NotFound):
        empty_store.add_invoices(bad.assign(customer_id=999, invoice_date="2024-01-01"), user="anna")
    with pytest.raises(cc.PermissionDenied):
        empty_store.add_invoices(bad, user="vera")
    assert empty_store.invoiced_per_year(c.id).empty


def test_an_invoice_s_base_amount_must_say_what_its_amount_says(empty_store):
    """A credit note with a positive base amount added to the year instead of taking from it; an invoice in the base
    currency with another base amount, or a currency that is no code, was taken as given."""
    c = empty_store.create_customer(user="anna", name="Careful AB")
    row = {"customer_id": c.id, "number": "1", "invoice_date": "2024-03-03", "amount": 100.0, "currency": "EUR",
           "amount_base": 1150.0}
    for wrong, field in (({"amount": -100.0}, "amount_base"), ({"currency": "SEK"}, "amount_base"),
                         ({"currency": "euro"}, "currency")):
        with pytest.raises(cc.ValidationError) as refused:
            empty_store.add_invoices(pd.DataFrame([row, {**row, "number": "2", **wrong}]), user="anna")
        assert set(refused.value.errors) == {field} and "Row 2" in refused.value.errors[field], refused.value.errors
    assert empty_store.invoiced_per_year(c.id).empty  # nothing of a refused file added
    credit = {**row, "number": "3", "amount": -100.0, "amount_base": -1150.0, "currency": " eur"}
    assert empty_store.add_invoices(pd.DataFrame([row, credit]), user="anna") == 2
    assert empty_store.invoiced_per_year(c.id)["amount"].tolist() == [0.0]
    assert set(empty_store.invoices(c.id)["currency"]) == {"EUR"}


def test_invoices_of_a_customer_merged_away_are_refused_whole_naming_the_survivor(empty_store):
    kept = empty_store.create_customer(user="anna", name="Kept AB")
    gone = empty_store.create_customer(user="anna", name="Gone AB")
    empty_store.merge_customers(kept.id, gone.id, user="anna")
    row = {"number": "F-1", "invoice_date": "2024-05-05", "amount": 10.0, "currency": "SEK", "amount_base": 10.0}
    both = pd.DataFrame([{**row, "customer_id": kept.id}, {**row, "number": "F-2", "customer_id": gone.id}])
    with pytest.raises(cc.PermissionDenied, match=r"Gone AB \(id \d+\) was merged into customer \d+ \(Kept AB\)"):
        empty_store.add_invoices(both, user="anna")
    assert empty_store.invoiced_per_year(kept.id).empty and empty_store.invoiced_per_year(gone.id).empty
    assert empty_store.add_invoices(both.iloc[:1], user="anna") == 1


def test_aggregate_equals_raw_sql_for_every_customer_and_overall(demo_store):
    raw = demo_store.sql("SELECT customer_id, CAST(EXTRACT(YEAR FROM invoice_date) AS BIGINT) AS year, "
                         "CAST(sum(amount_base) AS DOUBLE PRECISION) AS amount FROM invoices "
                         "GROUP BY 1, 2 ORDER BY 1, 2")
    kept = demo_store.sql("SELECT customer_id, CAST(year AS BIGINT) AS year, "
                          "CAST(amount AS DOUBLE PRECISION) AS amount FROM invoiced_yearly ORDER BY 1, 2")
    pd.testing.assert_frame_equal(raw, kept, check_dtype=False)
    overall = demo_store.invoiced_per_year()
    expected = raw.groupby("year")["amount"].sum().round(2)
    assert overall.set_index("year")["amount"].round(2).to_dict() == expected.to_dict()
    assert (demo_store.sql("SELECT count(*) AS n FROM invoices WHERE amount < 0")["n"][0]) > 0
