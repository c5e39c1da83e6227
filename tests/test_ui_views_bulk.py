"""Search customers' saved views menu, column choice and bulk panel, on their param state and widgets (no browser)."""

from __future__ import annotations

import asyncio
import concurrent.futures

from customercard.models import SavedView
from customercard.ui.customer_list import CustomerList, args_from_query, query_from_args


def run_apart(coroutine):
    """Run the panel's coroutine to its end on a thread of its own: in the whole suite the browser tests' Playwright
    keeps an event loop running in this thread, where asyncio.run cannot start another."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_the_url_carries_the_columns_and_the_view():
    query, state = query_from_args({"status": ["Active"], "col": ["city", "name", "bogus"], "view": ["12"]})
    assert state["columns"] == ["city", "name"] and state["view_id"] == 12
    url = args_from_query(query, "name", False, 1, ["name", "city"], 12)
    assert url == "status=Active&col=name&col=city&view=12"
    assert "col=" not in args_from_query(query, "name", False, 1, None, None)


def test_saving_a_view_sets_the_url_and_the_menu(demo_store):
    page = CustomerList.from_url(demo_store, "status=Active&sort=city&col=name&col=city", login="anna")
    page.__panel__()
    menu = page._views
    menu._name.value = "<b>Active</b> by city"
    menu._shared.value = True
    menu._store_view(new=True)
    saved = demo_store.views(user="erik")[0]
    assert saved.name == "<b>Active</b> by city" and saved.search == "status=Active&sort=city&col=name&col=city"
    assert page.url.endswith(f"&view={saved.id}")
    assert "&lt;b&gt;Active" in menu._menu.object and "<b>Active" not in menu._menu.object  # escaped
    menu._store_view(new=True)  # the same name again: told where it was typed
    assert "already" in menu._message.object
    other = CustomerList.from_url(demo_store, saved.search + f"&view={saved.id}", login="erik")
    other.__panel__()
    assert other.columns == ["name", "city"] and [c["key"] for c in other._table.columns] == ["name", "city"]
    assert not other._views._delete.visible  # Anna's shared view: not Erik's to delete
    demo_store.save_view(SavedView(name="Mine", search="q=a"), user="erik")
    assert [v.name for v in demo_store.views(user="erik")] == ["Mine", "<b>Active</b> by city"]


def test_the_bulk_panel_previews_applies_and_undoes(demo_store):
    page = CustomerList.from_url(demo_store, "status=Active", login="anna")
    page.__panel__()
    first = [row["_id"] for row in page._table.rows[:3]]
    page._table._handle_msg({"select": first, "on": True})
    assert page._table.selected == []  # no check boxes until the panel is open
    page._bulk_toggle.value = True
    page._table._handle_msg({"select": first, "on": True})
    assert page.chosen_ids() == first and "3 customers chosen" in page._selected_count.object
    bulk = page._bulk
    bulk._value.value = "erik"
    preview = bulk.make_preview()
    assert preview["total"] == 3 and "3 customers: account manager" in bulk._summary.object
    if preview["change"]:
        batch = run_apart(bulk.apply(step=2))
        assert batch.customers == preview["change"] and bulk._progress.value == preview["change"]
        assert {demo_store.get_customer(i).account_manager for i in first} == {"erik"}
        assert bulk._undo.visible
        undone = run_apart(bulk.undo())
        assert undone.customers == preview["change"] and not bulk._undo.visible


def test_viewers_get_no_bulk_panel_and_no_check_boxes(demo_store):
    page = CustomerList.from_url(demo_store, "", login="vera")
    page.__panel__()
    assert page._bulk is None and not page._bulk_toggle.visible and not page._table.selectable
    assert page._views is not None and page._views._shared.disabled  # private views only


def test_choosing_other_customers_drops_the_preview(demo_store):
    page = CustomerList.from_url(demo_store, "", login="anna")
    page.__panel__()
    page._bulk_toggle.value = True
    page._table._handle_msg({"select": [page._table.rows[0]["_id"]], "on": True})
    page._bulk._value.value = "kari"
    assert page._bulk.make_preview() is not None and page._bulk.preview is not None
    page._all_matching.value = True
    assert page._bulk.preview is None and page._bulk._apply.disabled


def test_the_same_comment_added_from_the_panel(demo_store):
    page = CustomerList.from_url(demo_store, "", login="anna")
    page.__panel__()
    page._bulk_toggle.value = True
    chosen = [row["_id"] for row in page._table.rows[:2]]
    page._table._handle_msg({"select": chosen, "on": True})
    bulk = page._bulk
    bulk._field.value = "comment"
    assert bulk._comment.visible and not bulk._value.visible
    assert bulk.make_preview() is None and "Write the comment" in bulk._summary.object  # said where it was typed
    bulk._comment.value = "Sent <the> new price list"
    assert bulk.make_preview()["change"] == 2
    assert "2 customers: the comment is added to each" in bulk._summary.object
    assert run_apart(bulk.apply()).customers == 2
    assert all(demo_store.comments(i)["body"].iloc[0] == "Sent <the> new price list" for i in chosen)
    assert bulk._undo.visible  # comments added in bulk can be taken back
