"""The link to the economy system is set by link_customer (administrators), which checks it and queues the delivery:
a save or a creation that sets it is refused with where to set it, never dropped unseen while the customer handed
back seems linked."""

from __future__ import annotations

import pytest

import customercard as cc

from .conftest import rich_customers


def test_a_save_that_sets_the_link_is_refused_and_nothing_is_written(demo_store):
    customer_id = rich_customers(demo_store)[0]
    customer = demo_store.get_customer(customer_id)
    before = (customer.erp_system, customer.erp_customer_id, customer.version)
    customer.erp_system, customer.erp_customer_id = "Fortnox", "999-new"
    customer.phone = "+46 8 555 000 11"
    with pytest.raises(cc.ValidationError) as caught:
        demo_store.save_customer(customer, user="admin")
    assert "link_customer" in caught.value.errors["erp_customer_id"]
    stored = demo_store.get_customer(customer_id)
    assert (stored.erp_system, stored.erp_customer_id, stored.version) == before
    assert stored.phone != "+46 8 555 000 11"


def test_the_link_set_by_link_customer_stays_through_later_saves(demo_store):
    customer_id = rich_customers(demo_store)[1]
    linked = demo_store.link_customer(customer_id, "Fortnox", "4711", user="admin")
    linked.phone = "+46 8 555 000 12"
    saved = demo_store.save_customer(linked, user="anna")
    stored = demo_store.get_customer(customer_id)
    assert (saved.erp_system, stored.erp_system, stored.erp_customer_id) == ("Fortnox", "Fortnox", "4711")


def test_a_new_customer_with_a_link_is_refused(demo_store):
    customer = demo_store.new_customer()
    customer.name, customer.erp_system, customer.erp_customer_id = "Länkad Ny AB", "Visma", "12"
    with pytest.raises(cc.ValidationError) as caught:
        demo_store.create_customer(customer, user="anna")
    assert set(caught.value.errors) == {"erp_system", "erp_customer_id"}
    assert demo_store.sql("SELECT count(*) AS n FROM customers WHERE name = 'Länkad Ny AB'")["n"].iloc[0] == 0
