"""The field registry is the one description of a customer's field: walk it and check every part that reads it —
the store's columns, the export/import headers, the searched and synced sets, the card's forms, the history's
labels — so that a field added to the model reaches all of them, and none lists fields of its own."""

from __future__ import annotations

import customercard as cc
from customercard import fields
from customercard.importexport import COLUMN_MAP, CUSTOMER_HEADERS, header_key
from customercard.store.customers import LISTED_COLUMNS, PLAIN_COLUMNS, SEARCHED_FIELDS
from customercard.store.outbox import SYNCED_FIELDS
from customercard.store.search_text import customer_terms
from customercard.ui.card import CustomerCard


def test_every_field_of_the_model_is_in_the_registry_once():
    names = [f.name for f in fields.customer_fields()]
    assert names == list(cc.Customer.fields) and len(set(names)) == len(names)
    for field in fields.customer_fields():
        assert field.label and field.section, field.name
        if field.kind == "text":
            assert field.max_length, field.name


def test_every_stored_field_has_its_column_in_the_table(empty_store):
    columns = {row[0] for row in empty_store.db.rows(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'customers'")}
    for field in fields.customer_fields():
        if field.column is not None:
            assert field.column in columns, field.name
    assert {f.name: f.column for f in fields.customer_fields() if f.column and not f.list_name} == PLAIN_COLUMNS
    assert {f.name: (f.column, f.list_name) for f in fields.customer_fields() if f.list_name} == LISTED_COLUMNS


def test_headers_searched_and_synced_sets_come_from_the_registry():
    assert {f.name: f.header for f in fields.customer_fields() if f.name != "segments"} == CUSTOMER_HEADERS
    for field in fields.customer_fields():
        if field.name != "segments":
            assert COLUMN_MAP[header_key(field.header)] == field.name  # the import reads every header back
    assert set(SEARCHED_FIELDS) == {f.name for f in fields.customer_fields() if f.searchable}
    assert set(SYNCED_FIELDS) == {f.name for f in fields.customer_fields() if f.synced}
    values = {"name": "Sample AB", "nickname": "Sample", "phone": "08-123 45 67", "org_number": "556677-8899",
              "vat_number": "SE556677889901", "email": "a@b.se"}
    assert set(values) == set(SEARCHED_FIELDS)
    indexed = {source for source, _term, _shown in customer_terms({**values, "number": 10001})}
    assert set(SEARCHED_FIELDS) <= indexed  # every searched field reaches the index


def test_the_cards_forms_edit_the_registrys_fields_by_section(demo_store):
    customer_id = int(demo_store.sql("SELECT min(id) AS i FROM customers")["i"][0])
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    edited: set[str] = set()
    for section in card.sections:
        if section.edit_fields:
            expected = tuple(f for f in fields.section_fields(section.key) if f in section.edit_fields)
            assert tuple(section.edit_fields) == expected, section.key
            edited |= set(section.edit_fields)
    everything = {f.name for f in fields.customer_fields()}
    assert edited in (everything, everything - {"nickname"})  # nicknames can be switched off
    for field in fields.customer_fields():
        assert card.customer.label(field.name) == field.label  # the history's labels are the registry's
