"""Merging duplicates: every moved row is reachable from the survivor; history records it; nothing is lost."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

import customercard as cc

COUNTED = {
    "contacts": "SELECT count(*) AS n FROM contacts WHERE customer_id = ?",
    "projects": "SELECT count(*) AS n FROM projects WHERE customer_id = ?",
    "invoices": "SELECT count(*) AS n FROM invoices WHERE customer_id = ?",
    "comments": "SELECT count(*) AS n FROM comments WHERE customer_id = ?",
    "events": "SELECT count(*) AS n FROM events WHERE customer_id = ?",
    "opportunities": "SELECT count(*) AS n FROM opportunities WHERE customer_id = ?",
}


def counts(store, customer_id: int) -> dict[str, int]:
    return {name: int(store.sql(sql, [customer_id])["n"][0]) for name, sql in COUNTED.items()}


def two_rich_customers(store) -> tuple[int, int]:
    frame = store.sql("SELECT customer_id AS id FROM invoiced_yearly GROUP BY 1 HAVING count(*) > 3 ORDER BY 1 LIMIT 2")
    return int(frame["id"][0]), int(frame["id"][1])


def test_merge_moves_every_row_and_records_history(demo_store):
    store = demo_store
    survivor_id, other_id = two_rich_customers(store)
    other = store.get_customer(other_id)
    before_survivor, before_other = counts(store, survivor_id), counts(store, other_id)
    invoiced_before = (store.invoiced_per_year(survivor_id, fill_gaps=False).set_index("year")["amount"]
                       .add(store.invoiced_per_year(other_id, fill_gaps=False).set_index("year")["amount"],
                            fill_value=0))
    other_contact_ids = set(store.contacts(other_id, include_inactive=True)["id"])
    preview = store.merge_preview(survivor_id, other_id)
    assert preview["moves"]["invoices"] == before_other["invoices"] and "name" in preview["differing"]

    merged = store.merge_customers(survivor_id, other_id, take_from_other=["phone", "email"], user="anna")

    assert merged.phone == other.phone and merged.email == other.email
    after = counts(store, survivor_id)
    assert after == {k: before_survivor[k] + before_other[k] for k in after}
    assert counts(store, other_id) == dict.fromkeys(COUNTED, 0)
    assert other_contact_ids <= set(store.contacts(survivor_id, include_inactive=True)["id"])
    pd.testing.assert_series_equal(store.invoiced_per_year(survivor_id, fill_gaps=False).set_index("year")["amount"],
                                   invoiced_before.round(2), check_names=False)
    assert store.invoiced_per_year(other_id).empty

    archived = store.get_customer(other_id)
    assert archived.archived and archived.merged_into == survivor_id
    history = store.history(survivor_id)
    merge_rows = history[history["kind"] == "merge"]
    assert {"phone", "email", "merged_from"} <= set(merge_rows["field"])
    assert merge_rows[merge_rows["field"] == "phone"].iloc[0]["new_value"] == other.phone
    assert set(store.history(other_id).query("kind == 'merge'")["field"]) == {"archived", "merged_into"}
    # the moved contacts are found under the survivor by the super search
    contact = store.get_contact(next(iter(other_contact_ids)))
    hits = store.search(contact.full_name)
    assert survivor_id in set(hits["id"])


def test_merge_keeps_segments_of_both(empty_store):
    store = empty_store
    a = store.create_customer(user="anna", name="Dup AB", segments={"Services": ["Audit"], "Size": ["Small"]})
    b = store.create_customer(user="anna", name="Dup Aktiebolag", segments={"Services": ["Tax"], "Size": ["Large"],
                                                                             "Source": ["Referral"]})
    merged = store.merge_customers(a.id, b.id, user="anna")
    assert sorted(merged.segments["Services"]) == ["Audit", "Tax"]
    assert merged.segments["Size"] == ["Small"] and merged.segments["Source"] == ["Referral"]


def test_merge_rules(empty_store):
    store = empty_store
    a = store.create_customer(user="anna", name="One AB")
    b = store.create_customer(user="anna", name="Two AB")
    with pytest.raises(cc.PermissionDenied):
        store.merge_customers(a.id, b.id, user="vera")
    with pytest.raises(cc.ValidationError):
        store.merge_customers(a.id, a.id, user="anna")
    with pytest.raises(cc.ConflictError):
        store.merge_customers(a.id, b.id, user="anna", other_version=b.version - 1 or 99)
    assert not store.get_customer(b.id).archived  # nothing happened
    store.merge_customers(a.id, b.id, user="anna")
    with pytest.raises(cc.ValidationError, match="merged into another"):
        store.merge_customers(a.id, b.id, user="anna")
    other = store.create_customer(user="anna", name="Three AB")
    store.create_customer(user="anna", name="Four AB")
    with pytest.raises(cc.NotFound):
        store.merge_customers(other.id, 999, user="anna")


def test_a_copy_read_before_the_merge_is_refused_with_where_not_as_a_conflict(empty_store):
    store = empty_store
    kept = store.create_customer(user="anna", name="Kept AB")
    gone = store.create_customer(user="anna", name="Gone AB")
    unchanged, changed = store.get_customer(gone.id), store.get_customer(gone.id)
    store.merge_customers(kept.id, gone.id, user="anna")
    changed.phone = "08-123 456 78"
    for copy in (changed, unchanged):  # a change (the UPDATE finds no row) and a save of nothing
        with pytest.raises(cc.PermissionDenied, match=r"Gone AB was merged into customer \d+ \(Kept AB\)"):
            store.save_customer(copy, user="anna")
    stale = store.get_customer(gone.id)
    stale.version -= 1  # (a copy read before the merge, without what was read kept with it)
    with pytest.raises(cc.PermissionDenied, match="Make the change there"):
        store.save_customer(stale, user="anna")
    change = store.history(gone.id)
    change = change[change["field"] == "name"].iloc[0]
    for version in (unchanged.version, store.get_customer(gone.id).version):  # a restore, on any version
        for which in ("new", "old"):  # (restoring the name it had before: the refusal names it as it is stored)
            with pytest.raises(cc.PermissionDenied, match=r"^Gone AB was merged into .*Make the change there"):
                store.restore(gone.id, int(change["change_id"]), which=which, user="anna", expected_version=version)
    renamed = store.get_customer(gone.id)
    renamed.name = "Renamed AB"
    with pytest.raises(cc.PermissionDenied, match=r"^Gone AB was merged into"):
        store.save_customer(renamed, user="anna")


def test_after_a_chain_of_merges_the_first_points_to_the_customer_holding_its_records(empty_store):
    from customercard.store.database import utcnow

    store = empty_store
    a, b, c = (store.create_customer(user="anna", name=name).id for name in ("First AB", "Second AB", "Third AB"))
    store.merge_customers(b, a, user="anna")
    between = utcnow()
    store.merge_customers(c, b, user="anna")
    assert store.get_customer(a).merged_into == c and store.get_customer(b).merged_into == c
    with pytest.raises(cc.PermissionDenied, match=r"was merged into customer \d+ \(Third AB\)"):
        store.add_comment(a, "Where does this go?", user="anna")
    last = store.history(a).iloc[0]
    assert (last["field"], last["kind"], last["changed_by"]) == ("merged_into", "merge", "anna")
    assert "Second AB" in last["old_value"] and "Third AB" in last["new_value"]
    assert store.get_customer(a, as_of=between).merged_into == b  # as it stood between the merges
    assert [hit for hit in store.search("First AB")["merged_into"]] == [c]
    # a chain left by a version before this one (the first still pointing to the second): refusals name the end
    store.db.execute("UPDATE customers SET merged_into = ? WHERE id = ?", [b, a])
    with pytest.raises(cc.PermissionDenied, match=r"was merged into customer \d+ \(Third AB\)"):
        store.add_comment(a, "Where does this go?", user="anna")


def test_after_a_merge_both_cards_show_every_section(demo_store):
    """Building 'Groups and log' after a merge raised KeyError('merged_from') and blanked the sections below it."""
    from customercard.ui.card import CustomerCard

    survivor_id, other_id = two_rich_customers(demo_store)
    survivor, other = demo_store.get_customer(survivor_id), demo_store.get_customer(other_id)
    demo_store.merge_customers(survivor_id, other_id, user="anna")
    for customer_id in (survivor_id, other_id):
        card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
        for section in card.sections:
            section.view.collapsed = False
            assert section.view.html or section.view.child is not None, section.key
            assert "could not be shown" not in section.view.html, section.key
    survivor_card = CustomerCard(store=demo_store, customer_id=survivor_id, user="anna")
    history = survivor_card.section("groups").view.html
    assert "Merged from" in history and f"customer {other.number} — {other.name}" in history
    assert "(id " not in history
    archived = CustomerCard(store=demo_store, customer_id=other_id, user="anna").section("header").view.html
    assert f"Merged into customer {survivor.number} — " in archived
    assert f'href="/card?customer={survivor_id}"' in archived


def test_a_section_that_fails_shows_an_error_in_its_place_and_the_rest_renders(demo_store, caplog):
    """A real failure inside one section (its table is gone): that section says so, the others render."""
    from customercard.ui.card import CustomerCard

    customer_id = two_rich_customers(demo_store)[0]
    demo_store.db.execute("DROP INDEX comments_customer")
    demo_store.db.execute("ALTER TABLE comments RENAME TO comments_gone")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    card.section("comments").view.collapsed = False
    assert "could not be shown" in card.section("comments").view.html
    assert "comments" in caplog.text and "Traceback" in caplog.text
    for key in ("header", "contact", "contacts", "projects"):
        section = card.section(key)
        section.view.collapsed = False
        assert section.view.html and "could not be shown" not in section.view.html, key


def test_a_merge_keeps_one_of_two_relations_both_customers_had_to_the_same_one(empty_store):
    """Survivor and duplicate were both "Supplier to" C and "Partner of" C: after the merge the survivor listed each
    twice (and C each inverse twice), though adding one twice by hand is refused. One is kept, with the moved one's
    note when it had none; the removed one's history says the merge removed it."""
    from customercard.models import Relation

    store = empty_store
    survivor = store.create_customer(user="anna", name="Survivor Rel AB")
    duplicate = store.create_customer(user="anna", name="Duplicate Rel AB")
    third = store.create_customer(user="anna", name="Third Rel AB")
    types = store.list_values("relation_types")
    two_way = next(r.label for r in types.itertuples() if r.inverse_label == r.label)
    one_way = next(r.label for r in types.itertuples() if r.inverse_label and r.inverse_label != r.label)
    relate = store.add_relation
    relate(Relation(customer_id=survivor.id, relation_type=one_way, other_customer_id=third.id), user="anna")
    store.add_relation(Relation(customer_id=duplicate.id, relation_type=one_way, other_customer_id=third.id,
                                note="Since 2019"), user="anna")
    relate(Relation(customer_id=survivor.id, relation_type=two_way, other_customer_id=third.id), user="anna")
    store.add_relation(Relation(customer_id=third.id, relation_type=two_way, other_customer_id=duplicate.id),
                       user="anna")
    other_kind = next(label for label in types["label"] if label not in (one_way, two_way))
    store.add_relation(Relation(customer_id=duplicate.id, relation_type=other_kind, other_customer_id=third.id),
                       user="anna")
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    store.merge_customers(survivor.id, duplicate.id, user="boss")

    mine = store.relations(survivor.id)
    labels = sorted(mine["label"])
    assert len(labels) == len(set(labels)) == 3, labels
    at_third = store.relations(third.id)
    assert len(at_third) == 3
    kept = store.get_relation(int(next(r.id for r in mine.itertuples()
                                       if store.get_relation(int(r.id)).relation_type == one_way)))
    assert kept.note == "Since 2019"
    removed = store.sql("SELECT DISTINCT record_id FROM record_changes WHERE table_name = 'relations' AND "
                        "kind = 'delete'")
    assert len(removed) == 2  # as removing them by hand: their history says so
    past = store.relations_as_of(duplicate.id, before)  # and the duplicate's past still has all three
    assert len(past) == 3
