"""Search customers' saved views menu, column choice and bulk panel, on their param state and widgets (no browser)."""

from __future__ import annotations

import asyncio
import concurrent.futures
from urllib.parse import urlencode

import panel as pn

from customercard.models import SavedView
from customercard.ui.customer_list import CustomerList, args_from_query, query_from_args

from .ui_support import find, labelled, one, pane_text


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
    assert args_from_query(query, "name", False, 1, None, 12, 3) == "status=Active&view=12&view_version=3"
    assert query_from_args({"view": ["12"], "view_version": ["3"]})[1]["view_version"] == 3
    assert "col=" not in args_from_query(query, "name", False, 1, None, None)


def test_saving_a_view_sets_the_url_and_the_menu(demo_store):
    page = CustomerList.from_url(demo_store, "status=Active&sort=city&col=name&col=city", login="anna")
    page.__panel__()
    menu = page.views
    labelled(menu, "View name").value = "<b>Active</b> by city"
    labelled(menu, "Shared with everyone").value = True
    labelled(menu, "Save as new view").clicks += 1
    saved = demo_store.views(user="erik")[0]
    assert saved.name == "<b>Active</b> by city" and saved.search == "status=Active&sort=city&col=name&col=city"
    assert page.url.endswith(f"&view={saved.id}&view_version=1")
    drawn = one(menu, pn.pane.HTML, "cc-views-menu").object
    assert "&lt;b&gt;Active" in drawn and "<b>Active" not in drawn  # escaped
    labelled(menu, "Save as new view").clicks += 1  # the same name again: told where it was typed
    assert "already" in pane_text(menu, "cc-view-message")
    other = CustomerList.from_url(demo_store, saved.search + f"&view={saved.id}", login="erik")
    other.__panel__()
    assert other.columns == ["name", "city"] and [c["key"] for c in other.table.columns] == ["name", "city"]
    assert not labelled(other.views, "Delete this view").visible  # Anna's shared view: not Erik's to delete
    demo_store.save_view(SavedView(name="Mine", search="q=a"), user="erik")
    assert [v.name for v in demo_store.views(user="erik")] == ["Mine", "<b>Active</b> by city"]


def test_a_link_to_a_view_that_is_gone_says_so_above_the_list(demo_store):
    """Erik's link to a view Anna has since deleted (or her private one) opened the whole list without a word; a
    40 KB unknown value in a link was repeated whole, in a line that did not wrap."""
    gone = demo_store.save_view(SavedView(name="Soon gone", search="status=Active", shared=True), user="anna")
    demo_store.delete_view(gone.id, user="anna")
    private = demo_store.save_view(SavedView(name="Anna's own", search="status=Active"), user="anna")
    for view_id in (gone.id, private.id):
        page = CustomerList.from_url(demo_store, f"view={view_id}", login="erik")
        page.__panel__()
        note = one(page, pn.pane.HTML, "cc-left-out")
        assert note.visible and "not there any more" in note.object and page.view_id is None
    mine = CustomerList.from_url(demo_store, f"view={private.id}", login="anna")
    mine.__panel__()
    assert mine.view_id == private.id and not one(mine, pn.pane.HTML, "cc-left-out").visible
    long = CustomerList.from_url(demo_store, "status=" + "x" * 40_000, login="erik")
    long.__panel__()
    note = one(long, pn.pane.HTML, "cc-left-out").object
    assert len(note) < 1_000 and "overflow-wrap:anywhere" in note


def test_saving_over_a_view_deleted_meanwhile_says_so_and_keeps_the_search(demo_store):
    """An administrator deleted the view Anna had open; her "Save over this view" failed on the server (a NotFound
    in the log), the page kept saying "Saved the view …" from before, and her search was saved nowhere."""
    page = CustomerList.from_url(demo_store, "status=Active", login="anna")
    page.__panel__()
    menu = page.views
    labelled(menu, "View name").value = "Active, soon gone"
    labelled(menu, "Save as new view").clicks += 1
    view = next(v for v in demo_store.views(user="anna") if v.name == "Active, soon gone")
    assert page.url.endswith(f"&view={view.id}&view_version=1")
    demo_store.delete_view(view.id, user="anna", expected_version=view.version)
    page.query.text = "Lind"
    labelled(menu, "Save over this view").clicks += 1
    said = pane_text(menu, "cc-view-message")
    assert "deleted meanwhile" in said and "Saved the view" not in said
    assert not labelled(menu, "Save over this view").visible and f"view={view.id}" not in page.url
    labelled(menu, "Save as new view").clicks += 1
    again = next(v for v in demo_store.views(user="anna") if v.name == "Active, soon gone")
    assert "q=Lind" in again.search or "text=Lind" in again.search or "Lind" in again.search


def test_a_link_naming_only_a_view_opens_its_search_as_saved_now(demo_store):
    shared = demo_store.save_view(SavedView(name="Erik's actives", shared=True,
                                            search="status=Active&manager=erik&sort=city"), user="anna")
    opened = CustomerList.from_url(demo_store, f"view={shared.id}", login="erik")
    assert opened.view_id == shared.id and opened.sort == "city"
    assert (opened.query.statuses, opened.query.account_managers) == (["Active"], ["erik"])
    everyone = CustomerList.from_url(demo_store, "", login="erik")
    assert 0 < opened.total < everyone.total
    assert opened.url == f"status=Active&manager=erik&sort=city&view={shared.id}&view_version={shared.version}"
    paged = CustomerList.from_url(demo_store, f"view={shared.id}&sort=name&page=1", login="erik")  # its own sort
    assert paged.query.account_managers == ["erik"] and paged.sort == "name"
    # a bookmark with its own filters shows those, under the view it was made from
    bookmarked = CustomerList.from_url(demo_store, f"status=Active&view={shared.id}", login="erik")
    assert bookmarked.query.account_managers == [] and bookmarked.view_id == shared.id
    # another's private view, or one deleted, is not opened nor named open
    private = demo_store.save_view(SavedView(name="Mine", search="manager=anna"), user="anna")
    for view_id in (private.id, 987654):
        refused = CustomerList.from_url(demo_store, f"view={view_id}", login="erik")
        assert refused.view_id is None and refused.query.account_managers == []


def test_the_bulk_panel_previews_applies_and_undoes(demo_store):
    page = CustomerList.from_url(demo_store, "status=Active", login="anna")
    layout = page.__panel__()
    first = [row["_id"] for row in page.table.rows[:3]]
    page.table.receive({"select": first, "on": True})
    assert page.table.selected == []  # no check boxes until the panel is open
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    page.table.receive({"select": first, "on": True})
    assert page.chosen_ids() == first and "3 customers chosen" in pane_text(layout, "cc-bulk-count")
    bulk = page.bulk
    labelled(bulk, "New value").value = "erik"
    preview = bulk.make_preview()
    assert preview["total"] == 3 and "3 customers: account manager" in pane_text(bulk, "cc-bulk-summary")
    if preview["change"]:
        batch = run_apart(bulk.apply(step=2))
        assert batch.customers == preview["change"]
        assert one(bulk, pn.indicators.Progress, "cc-bulk-progress").value == preview["change"]
        assert {demo_store.get_customer(i).account_manager for i in first} == {"erik"}
        assert labelled(bulk, "Undo the last bulk change").visible
        undone = run_apart(bulk.undo())
        assert undone.customers == preview["change"] and not labelled(bulk, "Undo the last bulk change").visible


def _six_previewed(store, field: str, value: str, **params):
    """Anna's bulk panel with the first six active customers chosen and a change of ``field`` to ``value``
    previewed (at least three of them change): (the panel, their ids, the preview)."""
    page = CustomerList.from_url(store, "status=Active", login="anna", **params)
    page.__panel__()
    first = [row["_id"] for row in page.table.rows[:6]]
    page.table.selectable = True
    page.table.receive({"select": first, "on": True})
    bulk = page.bulk
    labelled(bulk, "Change").value = field
    labelled(bulk, "New value").value = value
    preview = bulk.make_preview()
    assert preview["change"] >= 3, preview
    return bulk, first, preview


def test_a_bulk_change_refused_part_way_says_so_and_how_far_it_came(demo_store):
    """An administrator stops offering the value while Apply runs: the first steps are written, the rest refused —
    and the page said "Changed 2 customers." over the refusal, as if all were done."""
    industries = demo_store.list_values("industries")
    target = industries[industries["active"]].iloc[-1]
    bulk, _first, preview = _six_previewed(demo_store, "industry", target["label"])
    steps = []

    def stop_offering() -> bool:  # a colleague in Administration, once the first step is written (asked before each
        steps.append(1)          # step; PostgreSQL's change notices come on a thread of their own, too late)
        if len(steps) == 2:
            demo_store.set_list_value_active(int(target["id"]), False, user="admin")
        return True

    bulk.signed_in = stop_offering
    batch = run_apart(bulk.apply(step=2))
    said = pane_text(bulk, "cc-bulk-status")
    assert batch.customers < preview["change"] and "Stopped after" in said and "Changed" not in said.split(".")[0]
    assert f"of {preview['change']} customers" in said and "The rest were left as they were." in said


def test_a_bulk_change_stops_when_the_user_s_login_session_ends_part_way(demo_store):
    """Logged out in another tab while Apply ran: the page said "You are logged out" and the server went on
    changing customers as the user to the last one. Each step now asks whether the session still holds."""
    token = demo_store.start_session("anna")
    asked = []

    def signed_in() -> bool:  # as the served page asks (the session gate), before each step
        asked.append(token)
        if len(asked) == 2:  # the other tab's Log out, once the first step is written
            demo_store.end_session(token)
        return demo_store.session_login(token) is not None

    bulk, first, preview = _six_previewed(demo_store, "account_manager", "kari", signed_in=signed_in)
    batch = run_apart(bulk.apply(step=2))
    said = pane_text(bulk, "cc-bulk-status")
    assert batch.customers == 2 and "Stopped after 2 of" in said and "login session has ended" in said
    assert sum(demo_store.get_customer(i).account_manager == "kari" for i in first) <= 2 + (
        preview["total"] - preview["change"])


def test_viewers_get_no_bulk_panel_and_no_check_boxes(demo_store):
    page = CustomerList.from_url(demo_store, "", login="vera")
    layout = page.__panel__()
    assert page.bulk is None and not find(layout, pn.widgets.Toggle, "cc-bulk-toggle") and not page.table.selectable
    assert page.views is not None and labelled(page.views, "Shared with everyone").disabled  # private views only


def test_choosing_other_customers_drops_the_preview(demo_store):
    page = CustomerList.from_url(demo_store, "", login="anna")
    layout = page.__panel__()
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    page.table.receive({"select": [page.table.rows[0]["_id"]], "on": True})
    labelled(page.bulk, "New value").value = "kari"
    assert page.bulk.make_preview() is not None and page.bulk.preview is not None
    one(layout, pn.widgets.Checkbox, "cc-bulk-all").value = True
    assert page.bulk.preview is None and labelled(page.bulk, "Apply").disabled


def test_a_comment_edited_after_its_preview_says_to_preview_again(demo_store):
    """The comment's new text arrives as Apply is pressed (the box loses the focus): the preview it drops was the
    one Apply was for, and nothing said why nothing happened."""
    page = CustomerList.from_url(demo_store, "", login="anna")
    layout = page.__panel__()
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    page.table.receive({"select": [page.table.rows[0]["_id"]], "on": True})
    labelled(page.bulk, "Change").value = "comment"
    labelled(page.bulk, "Comment").value = "First text"
    assert page.bulk.make_preview() is not None
    labelled(page.bulk, "Comment").value = "Second text"
    one(layout, pn.widgets.Button, "cc-bulk-apply").clicks += 1
    assert page.bulk.preview is None and "press Preview again" in pane_text(page.bulk, "cc-bulk-summary")


def test_a_new_filter_drops_the_preview_of_all_that_match(demo_store):
    """With "All customers that match" ticked, a filter changed after Preview kept the old preview and its "Apply to
    11 customers": Apply then changed the old filter's customers, most of them no longer listed or counted."""
    page = CustomerList.from_url(demo_store, "", login="anna")
    layout = page.__panel__()
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    one(layout, pn.widgets.Checkbox, "cc-bulk-all").value = True
    labelled(page.bulk, "Change").value = "comment"
    labelled(page.bulk, "Comment").value = "Bulk note"
    apply = one(layout, pn.widgets.Button, "cc-bulk-apply")
    assert page.bulk.make_preview() is not None and not apply.disabled
    page.query.text = "Lind"
    assert page.bulk.preview is None and apply.disabled
    assert page.bulk.make_preview()["change"] == page.total


def test_a_new_filter_after_a_preview_of_checked_rows_says_to_preview_again(demo_store):
    """Checked rows previewed, then a filter changed: the rows are unchecked and Apply waits — and it says so (the
    message was said and then wiped by the second forgetting, leaving Apply disabled without a word)."""
    page = CustomerList.from_url(demo_store, "", login="anna")
    layout = page.__panel__()
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    page.table.receive({"select": [row["_id"] for row in page.table.rows[:3]], "on": True})
    labelled(page.bulk, "New value").value = "kari"
    assert page.bulk.make_preview() is not None
    page.query.text = "Lind"
    apply = one(layout, pn.widgets.Button, "cc-bulk-apply")
    assert page.bulk.preview is None and apply.disabled
    assert "press Preview again" in pane_text(page.bulk, "cc-bulk-summary")


def test_the_same_comment_added_from_the_panel(demo_store):
    page = CustomerList.from_url(demo_store, "", login="anna")
    layout = page.__panel__()
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    chosen = [row["_id"] for row in page.table.rows[:2]]
    page.table.receive({"select": chosen, "on": True})
    bulk = page.bulk
    labelled(bulk, "Change").value = "comment"
    comment = labelled(bulk, "Comment")
    assert comment.visible and not labelled(bulk, "New value").visible
    # said where it was typed
    assert bulk.make_preview() is None and "Write the comment" in pane_text(bulk, "cc-bulk-summary")
    comment.value = "Sent <the> new price list"
    assert bulk.make_preview()["change"] == 2
    assert "2 customers: the comment is added to each" in pane_text(bulk, "cc-bulk-summary")
    assert run_apart(bulk.apply()).customers == 2
    assert all(demo_store.comments(i)["body"].iloc[0] == "Sent <the> new price list" for i in chosen)
    assert labelled(bulk, "Undo the last bulk change").visible  # comments added in bulk can be taken back


def test_a_view_or_bookmark_made_before_an_admin_renamed_its_value_still_filters_by_that_value(demo_store):
    """Saved views and bookmarks keep list values by name: an administrator's rename (Construction → Building, then
    Building → Bygg) keeps them meaning the same value, and a value no list has is said to be left out — never a
    silently unfiltered list of every customer."""
    industries = demo_store.list_values("industries")
    row = industries[industries["label"] == "Construction"].iloc[0]
    view = demo_store.save_view(SavedView(name="Builders", shared=True, search="industry=Construction"), user="anna")
    before = CustomerList.from_url(demo_store, f"view={view.id}", login="erik")
    everyone = CustomerList.from_url(demo_store, "", login="erik")
    assert 0 < before.total < everyone.total and before.left_out == []
    demo_store.rename_list_value(int(row["id"]), "Building", user="admin")
    demo_store.rename_list_value(int(row["id"]), "Bygg", user="admin")
    for url in (f"view={view.id}", "industry=Construction", "industry=Building"):
        after = CustomerList.from_url(demo_store, url, login="erik")
        assert after.query.industries == ["Bygg"], url
        assert after.total == before.total and after.left_out == [], url
    # in the store too: a query written with the old name finds the same customers
    from customercard.models import CustomerQuery
    assert demo_store.find_customers(CustomerQuery(industries=["Construction"]), limit=1)[1] == before.total
    gone = CustomerList.from_url(demo_store, "industry=Nonesuch&status=Active", login="erik")
    gone.__panel__()
    assert gone.query.industries == [] and gone.left_out == ["Industry: Nonesuch"]
    note = one(gone, pn.pane.HTML, "cc-left-out")
    assert note.visible and "Nonesuch" in note.object and 'role="status"' in note.object
    gone.filters["statuses"].value = []  # the user's own search now: the note goes
    assert not note.visible


def test_a_view_filtering_on_a_criterion_switched_off_since_says_it_left_that_filter_out(demo_store):
    """A filter with no widget to show or clear it is not kept hidden: the criterion switched off, its filter is
    named as left out and the list is what the other filters find."""
    criterion = next(c for c in demo_store.criteria() if c.values)
    value = criterion.values[0]
    with_it = CustomerList.from_url(demo_store, f"seg.{criterion.name}={value}", login="erik")
    assert with_it.query.segments == {criterion.name: [value]} and with_it.left_out == []
    criterion.active = False
    demo_store.save_criterion(criterion, user="admin")
    without = CustomerList.from_url(demo_store, f"seg.{criterion.name}={value}", login="erik")
    assert without.query.segments == {} and without.left_out == [f"{criterion.name}: {value}"]
    assert without.total == CustomerList.from_url(demo_store, "", login="erik").total


def test_with_nicknames_switched_off_search_customers_shows_finds_and_exports_none(demo_store):
    """The firm switched nicknames off: the card shows none and the super search finds none — Search customers
    neither (no column, no choice of it, no export of it, the filter does not say it, a nickname typed finds none)."""
    customer = demo_store.create_customer(user="anna", name="Plain Name AB", nickname="Zyxwv")
    assert CustomerList.from_url(demo_store, "q=zyxwv", login="erik").total == 1 and customer.nickname == "Zyxwv"
    settings = demo_store.settings()
    settings.nicknames_enabled = False
    demo_store.save_settings(settings, user="admin")
    page = CustomerList.from_url(demo_store, "q=zyxwv&sort=nickname&col=name&col=nickname", login="erik")
    page.__panel__()
    assert "nickname" not in page.columns and page.sort == "name"
    assert "nickname" not in {c["key"] for c in page.table.columns}
    assert "Nickname" not in page.export_frame().columns
    assert "nickname" not in page.filters["text"].label.lower()
    assert page.total == 0  # the nickname typed finds nothing


def test_the_last_bulk_change_keeps_a_right_to_left_override_in_its_comment_to_itself(demo_store):
    """ "Your last bulk change (…): Add a comment → Call back <U+202E>urgent, 2 customers." was drawn with its end
    turned round: the comment's override ran on into the sentence."""
    page = CustomerList.from_url(demo_store, "", login="anna")
    layout = page.__panel__()
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    page.table.receive({"select": [row["_id"] for row in page.table.rows[:2]], "on": True})
    bulk = page.bulk
    labelled(bulk, "Change").value = "comment"
    labelled(bulk, "Comment").value = "Call back \u202eurgent"
    assert bulk.make_preview()["change"] == 2
    batch = run_apart(bulk.apply())
    try:
        said = pane_text(bulk, "cc-bulk-last")
        assert "\u2068Call back \u202eurgent\u2069" in said and said.rstrip().endswith("2 customers.")
    finally:
        demo_store.undo_bulk_change(batch.id, user="anna")


def test_the_bulk_panel_follows_a_status_or_criterion_renamed_while_it_was_open(demo_store):
    """An administrator renamed "On hold" → "Paused" while the panel offered it: Preview answered "Choose one of
    the values offered" for the value it still offered (a renamed criterion: "no segmentation criterion")."""
    page = CustomerList.from_url(demo_store, "", login="anna")
    layout = page.__panel__()
    one(layout, pn.widgets.Toggle, "cc-bulk-toggle").value = True
    page.table.receive({"select": [row["_id"] for row in page.table.rows[:2]], "on": True})
    bulk = page.bulk
    statuses = demo_store.list_values("statuses")
    held = statuses[statuses["label"] == "On hold"].iloc[0]
    labelled(bulk, "Change").value = "status"
    labelled(bulk, "New value").value = "On hold"
    criterion = next(c for c in demo_store.criteria() if not c.multiple and c.values)
    try:
        demo_store.rename_list_value(int(held["id"]), "Paused", user="admin")
        preview = bulk.make_preview()
        assert preview is not None and preview["value"] == "Paused", pane_text(bulk, "cc-bulk-summary")
        assert "Paused" in labelled(bulk, "New value").options and "On hold" not in labelled(bulk, "New value").options
        labelled(bulk, "Change").value = f"segments.{criterion.name}"
        labelled(bulk, "New value").value = criterion.values[0]
        old_name = criterion.name
        criterion.name = f"{old_name} (renamed)"
        demo_store.save_criterion(criterion, user="admin")
        preview = bulk.make_preview()
        assert preview is not None and preview["field"] == f"segments.{old_name} (renamed)"
        assert labelled(bulk, "Change").value == f"segments.{old_name} (renamed)"
    finally:
        demo_store.rename_list_value(int(held["id"]), "On hold", user="admin")


def test_a_viewer_keeps_a_private_copy_of_a_shared_view(demo_store):
    shared = demo_store.save_view(SavedView(name="Anna's actives", shared=True, search="status=Active"), user="anna")
    page = CustomerList.from_url(demo_store, f"status=Active&view={shared.id}", login="vera")
    page.__panel__()
    menu = page.views
    box = labelled(menu, "Shared with everyone")
    assert box.disabled and not box.value  # not ticked from the shared view: a viewer cannot untick it
    labelled(menu, "View name").value = "Vera's actives"
    labelled(menu, "Save as new view").clicks += 1
    mine = [v for v in demo_store.views(user="vera") if v.owner == "vera"]
    assert [(v.name, v.shared) for v in mine] == [("Vera's actives", False)]
    assert "Saved the view" in pane_text(menu, "cc-view-message")


def test_a_menu_drawn_before_a_view_was_changed_opens_it_as_saved_now_and_a_stale_bookmark_cannot_undo_it(demo_store):
    """Admin's menu was drawn with a link holding the view's search; Anna changed the view; the stale link opened the
    old search under the view's name and "Save over this view" wrote it back without a word."""
    shared = demo_store.save_view(SavedView(name="Actives", shared=True, search="status=Active"), user="anna")
    admin = CustomerList.from_url(demo_store, "", login="admin")
    admin.__panel__()
    menu = one(admin.views, pn.pane.HTML, "cc-views-menu").object
    assert f'href="/search?view={shared.id}"' in menu  # the link names the view only
    changed = demo_store.get_view(shared.id, user="anna")
    changed.search = "status=Prospect"
    demo_store.save_view(changed, user="anna")
    opened = CustomerList.from_url(demo_store, f"view={shared.id}", login="admin")  # the link, clicked later
    opened.__panel__()
    assert opened.query.statuses == ["Prospect"] and opened.view_version == changed.version
    # a bookmark of the page as it was before Anna's change: its own filters, under the view, at the old version
    stale = CustomerList.from_url(demo_store, f"status=Active&view={shared.id}&view_version={shared.version}",
                                  login="admin")
    stale.__panel__()
    assert stale.query.statuses == ["Active"] and "was changed since this link was made" in pane_text(
        stale.views, "cc-view-message")
    labelled(stale.views, "Save over this view").clicks += 1
    assert "changed this view meanwhile" in pane_text(stale.views, "cc-view-message")
    assert demo_store.get_view(shared.id, user="anna").search == "status=Prospect"  # Anna's change stands
    # on the view as saved now, an overwrite is an overwrite
    opened.query.statuses = ["Active", "Prospect"]
    opened.param.trigger("query")
    labelled(opened.views, "Save over this view").clicks += 1
    assert "Saved the view" in pane_text(opened.views, "cc-view-message")
    assert opened.view_version == changed.version + 1 and f"view_version={changed.version + 1}" in opened.url


def test_a_country_in_a_link_is_read_as_the_api_reads_it_and_shown_in_its_filter(demo_store):
    """`country=se` filtered by SE while the Country box showed nothing (so Clear filters left it on), `country=Sweden`
    was dropped without a word and `country=XX` found nobody: a code in any case or a country's name is its code, shown
    in the box; anything else is left out and said."""
    everyone = CustomerList.from_url(demo_store, "", login="anna")
    code = demo_store.countries_in_use()[0]
    named = {"SE": "Sweden", "DK": "Danmark", "NO": "Norge", "FI": "Finland"}.get(code, code)
    exact = CustomerList.from_url(demo_store, f"country={code}", login="anna")
    assert 0 < exact.total < everyone.total
    for written in (code.lower(), named, f" {named.upper()} "):
        page = CustomerList.from_url(demo_store, urlencode({"country": written}), login="anna")
        layout = page.__panel__()
        assert page.query.country == code and page.total == exact.total and page.left_out == [], written
        assert one(layout, pn.widgets.Select, "cc-filter-country").value == code
    wrong = CustomerList.from_url(demo_store, "country=XX", login="anna")
    assert wrong.query.country == "" and wrong.total == everyone.total and wrong.left_out == ["Country: XX"]


def test_a_search_too_long_to_keep_as_a_view_says_it_is_the_search(demo_store):
    """A long text filter saved as a view said only "At most 2,000 characters." beside an 11-letter name: the
    message names what it is about."""
    page = CustomerList.from_url(demo_store, urlencode({"q": "Abdi " * 500}), login="anna")
    page.__panel__()
    menu = page.views
    labelled(menu, "View name").value = "Long search"
    labelled(menu, "Save as new view").clicks += 1
    said = pane_text(menu, "cc-view-message")
    assert said.startswith("Search: ") and "2,000" in said and demo_store.views(user="anna") == []


def test_the_preview_says_how_many_merged_away_customers_it_leaves_alone(demo_store):
    page = CustomerList.from_url(demo_store, "", login="anna")
    page.__panel__()
    said = page.bulk.describe({"field": "account_manager", "value": "olli", "total": 12, "missing": 0, "change": 11,
                               "already": 0, "merged": 1, "changes": [["anna", 11]], "versions": []})
    assert said.endswith("merged into another customer, left alone (1)") and "(11)" in said
    comment = page.bulk.describe({"field": "comment", "value": "Hello", "total": 3, "missing": 0, "change": 2,
                                  "already": 0, "merged": 1, "changes": [], "versions": []})
    assert comment.endswith("the comment is added to each; merged into another customer, left alone (1)")
