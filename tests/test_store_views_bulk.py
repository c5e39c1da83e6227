"""Saved views and bulk changes in the store, on DuckDB and on PostgreSQL."""

from __future__ import annotations

import pytest

from customercard.errors import ConflictError, NotFound, PermissionDenied, ValidationError
from customercard.models import SavedView

SEARCH = "status=Active&sort=city&col=name&col=city"


# -- saved views ----------------------------------------------------------------------------------------------
def test_private_view_is_its_owners_alone_and_a_shared_one_everyones(demo_store):
    mine = demo_store.save_view(SavedView(name="  My  Gothenburg ones ", search=SEARCH), user="anna")
    shared = demo_store.save_view(SavedView(name="Big customers", search="seg.Size=Large", shared=True), user="anna")
    assert mine.name == "My Gothenburg ones" and mine.owner == "anna" and mine.version == 1
    assert [v.name for v in demo_store.views(user="anna")] == ["Big customers", "My Gothenburg ones"]
    assert [v.name for v in demo_store.views(user="erik")] == ["Big customers"]
    assert demo_store.get_view(shared.id, user="vera").search == "seg.Size=Large"
    with pytest.raises(NotFound):
        demo_store.get_view(mine.id, user="erik")
    with pytest.raises(NotFound):  # another's private view does not exist for anybody else, administrators too
        demo_store.delete_view(mine.id, user="admin")


def test_view_names_are_unique_per_owner_with_a_message(demo_store):
    demo_store.save_view(SavedView(name="Mine", search=SEARCH), user="anna")
    with pytest.raises(ValidationError) as refused:
        demo_store.save_view(SavedView(name="mine ", search="q=x"), user="anna")
    assert "already" in refused.value.errors["name"]
    assert demo_store.save_view(SavedView(name="Mine", search="q=x"), user="erik").owner == "erik"  # another owner
    with pytest.raises(ValidationError) as empty:
        demo_store.save_view(SavedView(name="  ", search="q=x"), user="anna")
    assert "name" in empty.value.errors


def test_a_shared_view_is_changed_by_its_owner_or_an_administrator_only(demo_store):
    shared = demo_store.save_view(SavedView(name="Team", search=SEARCH, shared=True), user="anna")
    with pytest.raises(PermissionDenied):
        demo_store.delete_view(shared.id, user="erik")
    other = demo_store.get_view(shared.id, user="erik")
    other.name = "Erik's now"
    with pytest.raises(PermissionDenied):
        demo_store.save_view(other, user="erik")
    stale = demo_store.get_view(shared.id, user="anna")
    renamed = demo_store.get_view(shared.id, user="anna")
    renamed.search = "q=new"
    assert demo_store.save_view(renamed, user="anna").version == 2
    with pytest.raises(ConflictError):  # overwriting from the version before: a conflict, not a silent overwrite
        demo_store.save_view(stale, user="anna")
    by_admin = demo_store.get_view(shared.id, user="admin")
    by_admin.name = "Team (kept by the office)"  # an administrator renames anyone's shared view
    assert demo_store.save_view(by_admin, user="admin").version == 3
    assert demo_store.get_view(shared.id, user="anna").name == "Team (kept by the office)"
    with pytest.raises(ConflictError):
        demo_store.delete_view(shared.id, user="admin", expected_version=2)
    demo_store.delete_view(shared.id, user="admin", expected_version=3)
    assert demo_store.views(user="anna") == []
    assert "Team (kept by the office)" in set(demo_store.admin_log()["item"])


def test_a_viewer_keeps_private_views_but_shares_none(demo_store):
    assert demo_store.save_view(SavedView(name="Vera's", search=SEARCH), user="vera").owner == "vera"
    with pytest.raises(PermissionDenied, match="keeps views for themselves"):
        demo_store.save_view(SavedView(name="For all", search=SEARCH, shared=True), user="vera")


# -- bulk changes ---------------------------------------------------------------------------------------------
def _many(store, count: int) -> list[int]:
    """``count`` new customers of Anna's, linked to the economy system every tenth."""
    customers = []
    for n in range(count):
        customer = store.new_customer()
        customer.param.update(name=f"Bulk customer {n}", account_manager="anna")
        customers.append(customer)
    ids = [c.id for c in store.create_customers(customers, user="anna")]
    for customer_id in ids[::10]:
        store.link_customer(customer_id, "fortnox", f"F{customer_id}", user="admin")
    return ids


def test_bulk_change_of_500_customers_with_history_and_undo(demo_store):
    ids = _many(demo_store, 500)
    demo_store.save_customer(_with(demo_store.get_customer(ids[0]), account_manager="erik"), user="anna")
    preview = demo_store.bulk_preview(ids, "account_manager", "erik", user="anna")
    assert (preview["total"], preview["change"], preview["already"]) == (500, 499, 1)
    assert preview["changes"] == [["anna", 499]]
    outbox_before = len(demo_store.outbox(limit=10_000))
    batch = demo_store.bulk_change(ids, "account_manager", "erik", user="anna", versions=preview["versions"])
    assert batch.customers == 499 and batch.skipped == {}
    assert demo_store.get_bulk_change(batch.id).customers == 499
    changes = demo_store.sql("SELECT customer_id, changed_by, kind, old_value, new_value FROM customer_changes "
                             "WHERE field = 'account_manager' AND kind = 'bulk'")
    assert len(changes) == 499 and set(changes["new_value"]) == {"erik"} and set(changes["old_value"]) == {"anna"}
    assert set(changes["changed_by"]) == {"anna"}
    # the account manager is not a field the economy system keeps: a bulk change queues exactly what single saves
    # would, which for it is nothing
    assert len(demo_store.outbox(limit=10_000)) == outbox_before
    assert {demo_store.get_customer(i).account_manager for i in ids} == {"erik"}
    assert any(row.startswith(f"#{batch.id}") for row in demo_store.admin_log()["item"])

    undone = demo_store.undo_bulk_change(batch.id, user="maria")
    assert undone.customers == 499 and undone.skipped == {}
    assert demo_store.get_customer(ids[0]).account_manager == "erik"  # it was Erik's before: left so
    assert {demo_store.get_customer(i).account_manager for i in ids[1:]} == {"anna"}
    assert list(demo_store.history(ids[5], field="account_manager")["kind"]) == ["bulk undo", "bulk", "create"]
    assert demo_store.get_bulk_change(batch.id).undone_by == "maria"
    with pytest.raises(ValidationError):  # one undo only
        demo_store.undo_bulk_change(batch.id, user="anna")


def test_bulk_change_of_synced_field_queues_outbox_rows_as_a_save_does(demo_store):
    """A segment is no synced field either; what reaches the outbox is decided by the single save's own rule — shown
    here by a linked customer's single save next to a bulk change of the same field."""
    ids = _many(demo_store, 20)
    criterion = demo_store.criteria()[0]
    before = len(demo_store.outbox(limit=10_000))
    batch = demo_store.bulk_change(ids, f"segments.{criterion.name}", criterion.values[0], user="anna")
    assert batch.customers == 20
    assert demo_store.get_customer(ids[3]).segments[criterion.name] == [criterion.values[0]]
    single = demo_store.get_customer(ids[0])
    single.segments = {criterion.name: [criterion.values[1]]}
    demo_store.save_customer(single, user="anna")
    assert len(demo_store.outbox(limit=10_000)) == before  # neither a bulk nor a single save of a segment queues
    undone = demo_store.undo_bulk_change(batch.id, user="anna")
    assert ids[0] in undone.skipped and undone.customers == 19
    assert criterion.name not in demo_store.get_customer(ids[3]).segments


def test_undo_leaves_alone_a_customer_changed_since_and_says_who(demo_store):
    ids = _many(demo_store, 30)
    batch = demo_store.bulk_change(ids, "status", demo_store.choices().allowed("statuses")[1], user="anna")
    changed = demo_store.get_customer(ids[7])
    changed.name = "Changed by Erik since"
    demo_store.save_customer(changed, user="erik")
    undone = demo_store.undo_bulk_change(batch.id, user="anna")
    assert set(undone.skipped) == {ids[7]} and "Erik Nilsson" in undone.skipped[ids[7]]
    assert undone.customers == 29
    assert demo_store.get_customer(ids[7]).status == demo_store.choices().allowed("statuses")[1]
    assert demo_store.get_customer(ids[7]).name == "Changed by Erik since"


def test_a_second_writer_is_never_silently_overwritten(demo_store):
    ids = _many(demo_store, 10)
    preview = demo_store.bulk_preview(ids, "account_manager", "maria", user="anna")
    # saved after the preview, before the run: the bulk change leaves that customer alone and says so
    early = demo_store.get_customer(ids[2])
    early.account_manager = "olli"
    demo_store.save_customer(early, user="olli")
    # read before the run, saved after it: the late writer gets the conflict
    late = demo_store.get_customer(ids[4])
    batch = demo_store.bulk_change(ids, "account_manager", "maria", user="anna", versions=preview["versions"])
    assert set(batch.skipped) == {ids[2]} and batch.customers == 9
    assert demo_store.get_customer(ids[2]).account_manager == "olli"
    late.account_manager = "kari"
    with pytest.raises(ConflictError):
        demo_store.save_customer(late, user="kari")
    assert demo_store.get_customer(ids[4]).account_manager == "maria"


def test_viewers_make_no_bulk_changes_and_bad_values_are_refused(demo_store):
    ids = _many(demo_store, 3)
    with pytest.raises(PermissionDenied):
        demo_store.bulk_preview(ids, "account_manager", "erik", user="vera")
    with pytest.raises(PermissionDenied):
        demo_store.bulk_change(ids, "account_manager", "erik", user="vera")
    batch = demo_store.bulk_change(ids, "industry", demo_store.choices().allowed("industries")[0], user="anna")
    with pytest.raises(PermissionDenied):
        demo_store.undo_bulk_change(batch.id, user="vera")
    with pytest.raises(ValidationError) as refused:
        demo_store.bulk_change(ids, "account_manager", "vera", user="anna")  # a viewer manages no customers
    assert "value" in refused.value.errors
    with pytest.raises(ValidationError):
        demo_store.bulk_change(ids, "name", "Everyone", user="anna")
    with pytest.raises(ValidationError) as too_many:  # a whole database at once is narrowed first
        demo_store.bulk_preview(range(1, 10_002), "industry", None, user="anna")
    assert "At most 10,000 customers" in too_many.value.errors["customer_ids"]


def test_the_same_comment_added_to_many(demo_store):
    ids = _many(demo_store, 5)
    batch = demo_store.bulk_change(ids, "comment", "Called about the new prices", user="anna")
    assert batch.customers == 5
    assert all(demo_store.comments(i)["body"].iloc[0] == "Called about the new prices" for i in ids)
    counts = {i: demo_store.comment_count(i) for i in ids}
    added = {i: int(demo_store.comments(i)["id"].iloc[0]) for i in ids}
    edited = demo_store.get_comment(added[ids[0]])
    edited.body = "Called about the new prices; they want a meeting"
    demo_store.edit_comment(edited, user="erik")  # edited since: it stays
    undone = demo_store.undo_bulk_change(batch.id, user="anna")
    assert undone.customers == 4 and set(undone.skipped) == {ids[0]} and "Erik" in undone.skipped[ids[0]]
    assert demo_store.comments(ids[0])["body"].iloc[0] == edited.body
    for i in ids[1:]:
        assert demo_store.comment_count(i) == counts[i] - 1
        assert "Called about the new prices" not in set(demo_store.comments(i)["body"])
        history = demo_store.record_history("comments", added[i])  # what it said is kept
        deleted = history[history["kind"] == "delete"]
        assert set(deleted["changed_by"]) == {"anna"}
        assert "Called about the new prices" in set(deleted["old_value"])
    with pytest.raises(ValidationError):  # once only
        demo_store.undo_bulk_change(batch.id, user="anna")


def _with(customer, **values):
    customer.param.update(**values)
    return customer


def test_a_writer_saving_while_a_bulk_change_runs_loses_nothing(demo_store):
    """Another writer saves the same customers while the bulk change runs (its own thread): each save either comes
    before the bulk change reaches the customer (which then leaves it alone, changed since the preview) or after it
    (the writer's copy is stale: a conflict); whatever is stored is the last recorded change, nothing overwritten."""
    import threading

    ids = _many(demo_store, 300)
    preview = demo_store.bulk_preview(ids, "account_manager", "erik", user="anna")
    contested = ids[150:160]
    copies = {i: demo_store.get_customer(i) for i in contested}  # read before the run, as an open card would be
    outcomes: dict[int, str] = {}

    def writer() -> None:
        for customer_id, customer in copies.items():
            customer.account_manager = "olli"
            try:
                demo_store.save_customer(customer, user="olli")
                outcomes[customer_id] = "saved"
            except ConflictError:
                outcomes[customer_id] = "conflict"
    thread = threading.Thread(target=writer)
    thread.start()
    batch = demo_store.bulk_change(ids, "account_manager", "erik", user="anna", versions=preview["versions"])
    thread.join()
    for customer_id in contested:
        stored = demo_store.get_customer(customer_id).account_manager
        if outcomes[customer_id] == "saved":  # the writer came first: the bulk change left it alone
            assert stored == "olli" and customer_id in batch.skipped
        else:  # the bulk change came first: the writer was told
            assert stored == "erik" and customer_id not in batch.skipped
    assert batch.customers == 300 - len(batch.skipped)
    latest = demo_store.sql("SELECT customer_id, new_value FROM customer_changes c WHERE field = 'account_manager' "
                            "AND id = (SELECT max(id) FROM customer_changes d WHERE d.customer_id = c.customer_id "
                            "AND d.field = 'account_manager')")
    last = dict(zip(latest["customer_id"], latest["new_value"], strict=True))
    assert all(last[i] == demo_store.get_customer(i).account_manager for i in ids)


def test_a_customer_merged_away_is_left_alone_with_the_reason_and_the_others_are_changed(demo_store):
    """A merged-away customer among those chosen (Archived "Both" on Search customers, or a notebook's list) is
    skipped, saying it was merged — the bulk change goes on for the others (it raised AttributeError), and so does
    its undo."""
    store = demo_store
    ids = [int(i) for i in store.sql("SELECT id FROM customers WHERE NOT archived AND account_manager = 'anna' "
                                     "ORDER BY id LIMIT 12")["id"]]
    store.merge_customers(ids[0], ids[5], user="anna")
    # its preview says so: the merged-away one is not counted among those that change (it said 12, then changed 11)
    preview = store.bulk_preview(ids, "account_manager", "olli", user="anna")
    assert preview["merged"] == 1 and preview["change"] == len(ids) - 1
    assert ids[5] not in {customer_id for customer_id, _version in preview["versions"]}
    comment = store.bulk_preview(ids, "comment", "Hello", user="anna")
    assert comment["merged"] == 1 and comment["change"] == len(ids) - 1
    batch = store.bulk_change(ids, "account_manager", "olli", user="anna")
    assert set(batch.skipped) == {ids[5]} and "merged" in batch.skipped[ids[5]]
    assert batch.customers == len(ids) - 1 and store.get_customer(ids[1]).account_manager == "olli"
    store.merge_customers(ids[0], ids[6], user="anna")  # merged away after the change: its undo leaves it alone
    undone = store.undo_bulk_change(batch.id, user="anna")
    assert ids[6] in undone.skipped and store.get_customer(ids[1]).account_manager == "anna"


def test_undo_after_the_old_value_was_renamed_puts_back_the_same_value_under_its_new_name(demo_store):
    """Erik sets three Active customers to Prospect; an administrator renames Active to "Active client"; Erik's undo
    puts back the same value (customers refer to it, not to its name) — it skipped everyone with a wrong reason and
    was used up."""
    store = demo_store
    ids = [int(i) for i in store.sql("SELECT c.id FROM customers c JOIN list_values v ON v.id = c.status_id "
                                     "WHERE v.label = 'Active' AND NOT c.archived ORDER BY c.id LIMIT 3")["id"]]
    batch = store.bulk_change(ids, "status", "Prospect", user="erik")
    statuses = store.list_values("statuses")
    active = statuses[statuses["label"] == "Active"].iloc[0]
    store.rename_list_value(int(active["id"]), "Active client", user="admin")
    undone = store.undo_bulk_change(batch.id, user="erik")
    assert undone.customers == 3 and undone.skipped == {}
    assert {store.get_customer(i).status for i in ids} == {"Active client"}


def test_an_undo_that_could_put_nothing_back_is_not_used_up(demo_store):
    """Every customer was changed since the bulk change: the undo leaves them all alone and says so — and the bulk
    change stays undoable (nothing was undone), not marked undone."""
    store = demo_store
    ids = [int(i) for i in store.sql("SELECT id FROM customers WHERE NOT archived AND account_manager = 'anna' "
                                     "ORDER BY id LIMIT 2")["id"]]
    batch = store.bulk_change(ids, "account_manager", "olli", user="anna")
    for customer_id in ids:
        customer = store.get_customer(customer_id)
        customer.nickname = "Changed since"
        store.save_customer(customer, user="erik")
    undone = store.undo_bulk_change(batch.id, user="anna")
    assert undone.customers == 0 and set(undone.skipped) == set(ids)
    again = store.get_bulk_change(batch.id)
    assert again.undone_at is None and again.version == undone.version
    assert store.undo_bulk_change(batch.id, user="anna", expected_version=again.version).customers == 0


def test_a_criterion_renamed_since_is_the_same_criterion_for_views_restore_undo_and_the_past(demo_store):
    """An administrator renames a segmentation criterion: a saved view or bookmark written with its old name still
    filters by it (it was dropped, and said to be left out "as the firm no longer has it"), a value from its history
    is restored under today's name (it was refused), a bulk change of it is undone (0 customers were), and the card
    as it was shows the value under today's name only (it showed both names)."""
    import datetime as dt

    from customercard.models import CustomerQuery
    from customercard.ui.customer_list import known_values

    store = demo_store
    criterion = next(c for c in store.criteria() if not c.multiple and len(c.values) >= 2)
    old_name, (first, second) = criterion.name, criterion.values[:2]
    ids = [int(i) for i in store.sql(
        "SELECT s.customer_id FROM customer_segments s JOIN criterion_values v ON v.id = s.value_id JOIN criteria c "
        "ON c.id = v.criterion_id JOIN customers k ON k.id = s.customer_id WHERE c.name = ? AND v.label = ? AND NOT "
        "k.archived AND k.merged_into IS NULL ORDER BY s.customer_id LIMIT 4", [old_name, first])["customer_id"]]
    matching = store.find_customers(CustomerQuery(segments={old_name: [first]}))[1]
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    customer = store.get_customer(ids[0])
    customer.segments = {**customer.segments, old_name: [second]}
    store.save_customer(customer, user="anna")
    change_id = int(store.history(ids[0], field=f"segments.{old_name}").iloc[0]["change_id"])
    batch = store.bulk_change(ids[1:], f"segments.{old_name}", [second], user="anna")

    renamed = next(c for c in store.criteria() if c.name == old_name)
    renamed.name = f"{old_name} (renamed)"
    store.save_criterion(renamed, user="admin")

    query, dropped = known_values(store, CustomerQuery(segments={old_name: [first]}))
    assert dropped == [] and query.segments == {renamed.name: [first]}
    assert store.find_customers(CustomerQuery(segments={old_name: [first]}))[1] == matching - len(ids)
    past = store.get_customer(ids[0], as_of=before).segments
    assert past.get(renamed.name) == [first] and old_name not in past
    undone = store.undo_bulk_change(batch.id, user="anna")
    assert undone.customers == len(ids) - 1 and undone.skipped == {}
    assert all(store.get_customer(i).segments[renamed.name] == [first] for i in ids[1:])
    restored = store.restore(ids[0], change_id, which="old", user="anna")
    assert restored.segments[renamed.name] == [first] and old_name not in restored.segments
    assert store.find_customers(CustomerQuery(segments={old_name: [first]}))[1] == matching


def test_renamed_values_and_criteria_keep_their_history_restore_and_comparison(demo_store):
    """A value restored from the history after an administrator renamed it was refused ("“Consulting” is not one of
    the industries"); the comparison with a past day lost who and when for a criterion renamed since; the history's
    filter by a renamed criterion hid the changes made under its former name."""
    import datetime as dt

    store = demo_store
    customer_id = int(store.sql("SELECT min(id) AS id FROM customers WHERE NOT archived AND merged_into IS NULL")
                      ["id"][0])
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    customer = store.get_customer(customer_id)
    industries = list(store.list_values("industries")["label"])
    old_industry = customer.industry
    new_industry = next(label for label in industries if label != old_industry)
    criterion = next(c for c in store.criteria() if not c.multiple and len(c.values) >= 2)
    old_value = customer.segments.get(criterion.name, [None])[0]
    new_value = next(v for v in criterion.values if v != old_value)
    customer.param.update(industry=new_industry, segments={**customer.segments, criterion.name: [new_value]})
    store.save_customer(customer, user="erik")
    changed = store.history(customer_id).iloc[0]["changed_at"]

    listed = store.list_values("industries")
    store.rename_list_value(int(listed[listed["label"] == old_industry].iloc[0]["id"]), f"{old_industry} (renamed)",
                            user="admin")
    renamed = next(c for c in store.criteria() if c.name == criterion.name)
    renamed.name = f"{criterion.name} (renamed)"
    store.save_criterion(renamed, user="admin")

    assert len(store.history(customer_id, field=f"segments.{renamed.name}")) >= 1  # its changes under the old name
    compared = store.diff(customer_id, before).set_index("field")
    assert compared.loc[f"segments.{renamed.name}", "changed_by"] == "erik"
    assert compared.loc[f"segments.{renamed.name}", "changed_at"] == changed
    change_id = int(store.history(customer_id, field="industry").iloc[0]["change_id"])
    restored = store.restore(customer_id, change_id, which="old", user="anna")
    assert restored.industry == f"{old_industry} (renamed)"


def test_a_comment_a_bulk_undo_took_away_stays_on_the_card_of_the_days_it_was_there(demo_store):
    """A comment added in bulk three days ago and taken away by the undo today vanished from the card as of the day
    before yesterday (comments and their count), though its history keeps who wrote it, when and what."""
    import datetime as dt

    store = demo_store
    customer_id = int(store.sql("SELECT min(id) AS id FROM customers WHERE NOT archived AND merged_into IS NULL")
                      ["id"][0])
    start = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=1)
    batch = store.bulk_change([customer_id], "comment", "Price list 2027 sent", user="anna")
    then = start - dt.timedelta(days=3)
    with store.db.transaction() as cur:  # written three days ago
        for table, column in (("comments", "created_at"), ("record_changes", "changed_at"),
                              ("bulk_changes", "created_at")):
            cur.execute(f"UPDATE {table} SET {column} = ? WHERE {column} >= ?", [then, start])  # constant names
    day = store.firm_today() - dt.timedelta(days=2)
    count = store.comment_count_as_of(customer_id, day)
    assert "Price list 2027 sent" in list(store.comments_as_of(customer_id, day)["body"])
    store.undo_bulk_change(batch.id, user="anna")
    assert store.comment_count_as_of(customer_id, day) == count
    kept = store.comments_as_of(customer_id, day)
    assert "Price list 2027 sent" in list(kept["body"]) and len(kept) == count
    assert "Price list 2027 sent" not in list(store.comments(customer_id)["body"])  # and gone today


def test_a_criterion_s_former_name_taken_by_a_new_one_keeps_their_histories_apart(demo_store):
    """Size renamed to "Size renamed", then a new criterion called Size: the renamed one's history showed the new
    one's changes as its own."""
    from customercard.models import Criterion

    store = demo_store
    criterion = next(c for c in store.criteria() if not c.multiple and len(c.values) >= 2)
    old_name = criterion.name
    customer_id = int(store.sql("SELECT min(id) AS id FROM customers WHERE NOT archived AND merged_into IS NULL")
                      ["id"][0])
    customer = store.get_customer(customer_id)
    customer.segments = {**customer.segments, old_name: [criterion.values[1]]}
    store.save_customer(customer, user="anna")
    renamed = next(c for c in store.criteria() if c.name == old_name)
    renamed.name = f"{old_name} renamed"
    store.save_criterion(renamed, user="admin")
    store.save_criterion(Criterion(name=old_name, values=["X1", "X2"]), user="admin")
    customer = store.get_customer(customer_id)
    customer.segments = {**customer.segments, old_name: ["X1"]}
    store.save_customer(customer, user="anna")
    theirs = store.history(customer_id, field=f"segments.{renamed.name}")
    assert not theirs.empty and not any("X1" in str(v) for v in theirs["new_value"])
    assert any("X1" in str(v) for v in store.history(customer_id, field=f"segments.{old_name}")["new_value"])


def test_an_undo_waiting_for_a_value_no_longer_offered_is_not_used_up(demo_store):
    """Size → Large in bulk; the administrator stops offering Small; the undo put back only the Medium customer
    and was used up: once Small was offered again, the two Small customers nobody had touched could not get it
    back. The undo stays offered for them, and a later one puts theirs back."""
    store = demo_store
    size = next(c for c in store.criteria() if c.name == "Size")
    rows = store.sql("SELECT id FROM customers WHERE NOT archived AND merged_into IS NULL ORDER BY id LIMIT 400")
    ids = [int(i) for i in rows["id"]]
    small = [i for i in ids if store.get_customer(i).segments.get("Size") == ["Small"]][:2]
    medium = [i for i in ids if store.get_customer(i).segments.get("Size") == ["Medium"]][:1]
    chosen = small + medium
    assert len(chosen) == 3
    preview = store.bulk_preview(chosen, "segments.Size", ["Large"], user="anna")
    batch = store.bulk_change(chosen, "segments.Size", ["Large"], user="anna", versions=preview["versions"])
    size.values = [v for v in size.values if v != "Small"]
    store.save_criterion(size, user="admin")
    first = store.undo_bulk_change(batch.id, user="anna")
    assert first.customers == 1 and set(first.skipped) == set(small) and first.undone_at is None
    assert store.get_customer(medium[0]).segments.get("Size") == ["Medium"]
    again = store.bulk_changes(created_by="anna", limit=1)[0]
    assert again.id == batch.id and again.undone_at is None  # still offered
    size = next(c for c in store.criteria() if c.name == "Size")
    size.values = ["Small", *size.values]
    store.save_criterion(size, user="admin")
    second = store.undo_bulk_change(batch.id, user="anna")
    assert second.customers == 2 and second.undone_at is not None and not second.skipped
    assert all(store.get_customer(i).segments.get("Size") == ["Small"] for i in small)
    assert len(store.history(medium[0], field="segments.Size")) == 2  # put back once, not twice
    with pytest.raises(ValidationError):
        store.undo_bulk_change(batch.id, user="anna")  # used up now
