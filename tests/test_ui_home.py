"""The home page ("My customers") without a browser, on both backends: each block for a manager, an administrator
and a viewer, done from the follow-ups block, the links, and one block failing alone."""

from __future__ import annotations

import datetime as dt
import re

from customercard.ui.home import HomePage


def _mine(store, login="anna") -> list[int]:
    return [int(i) for i in store.sql("SELECT id FROM customers WHERE account_manager = ? AND NOT archived "
                                      "ORDER BY id", [login])["id"]]


def _follow_up(store, customer_id, owner, what, days, user="anna"):
    follow_up = store.new_follow_up(customer_id, owner=owner)
    follow_up.what, follow_up.due_on = what, store.firm_today() + dt.timedelta(days=days)
    return store.add_follow_up(follow_up, user=user)


def _home(store, login):
    return HomePage(store=store, user=store.get_user(login))


def _block(home, key) -> str:
    return home.slots[key].html


def test_a_managers_follow_ups_overdue_marked_and_done_from_there(demo_store):
    mine = _mine(demo_store)
    late = _follow_up(demo_store, mine[0], "anna", "Call about the <renewal>", -3, user="erik")
    _follow_up(demo_store, mine[1], "anna", "Send the offer", 2)
    _follow_up(demo_store, mine[1], "anna", "Far away", 30)
    _follow_up(demo_store, mine[1], "erik", "Erik's own", 0)
    home = _home(demo_store, "anna")
    html = _block(home, "follow_ups")
    assert home.slots["follow_ups"].title == "My follow-ups"
    assert "Call about the &lt;renewal&gt;" in html and "Send the offer" in html
    assert "Far away" not in html and "Erik's own" not in html
    assert html.count("cc-overdue-badge") == 1 and "2 due by" in html and "1 of them overdue" in html
    assert f'href="/card?customer={mine[0]}"' in html
    home.handle("follow_ups", "follow-up-done", {"id": str(late.id), "version": "1"})
    assert demo_store.get_follow_up(late.id).done
    html = _block(home, "follow_ups")
    assert "“Call about the &lt;renewal&gt;” marked done." in html
    assert "<td>Call about the &lt;renewal&gt;</td>" not in html and "<td>Send the offer</td>" in html


def test_a_stale_done_is_refused_on_the_home_page(demo_store):
    follow_up = _follow_up(demo_store, _mine(demo_store)[0], "anna", "Send the contract", 0)
    home = _home(demo_store, "anna")
    moved = demo_store.get_follow_up(follow_up.id)
    moved.what = "Send the signed contract"
    demo_store.save_follow_up(moved, user="erik")
    home.handle("follow_ups", "follow-up-done", {"id": str(follow_up.id), "version": "1"})
    assert not demo_store.get_follow_up(follow_up.id).done
    assert "Not saved" in _block(home, "follow_ups") and "Erik Nilsson" in _block(home, "follow_ups")


def test_others_changes_since_the_last_look_and_the_links(demo_store):
    mine = _mine(demo_store)
    _home(demo_store, "anna")  # looked now
    customer = demo_store.get_customer(mine[2])
    customer.phone = "+46 8 555 123 45"
    demo_store.save_customer(customer, user="erik")
    demo_store.add_comment(mine[3], "My own note", user="anna")
    demo_store.record_card_view("anna", mine[4])
    home = _home(demo_store, "anna")
    changes = _block(home, "changes")
    assert f'href="/card?customer={mine[2]}"' in changes and "Erik Nilsson" in changes
    assert f'href="/card?customer={mine[3]}"' not in changes  # her own change
    assert "Since you last looked" in changes
    assert 'href="/pipeline?manager=anna"' in _block(home, "pipeline")
    assert 'href="/search?manager=anna"' in _block(home, "behind")
    assert f'href="/card?customer={mine[4]}"' in _block(home, "recent")
    again = _home(demo_store, "anna")
    assert "Nothing changed." in _block(again, "changes")


def test_invoicing_behind_lists_only_the_managers_customers(demo_store):
    today = dt.date(2026, 6, 15)  # the demo's today
    home = HomePage(store=demo_store, user=demo_store.get_user("anna"), today=today)
    behind = demo_store.invoicing_behind(account_manager="anna", today=today)
    html = _block(home, "behind")
    linked = {int(i) for i in re.findall(r'href="/card\?customer=(\d+)"', html)}
    assert linked == set(behind["customer_id"]) and linked <= set(_mine(demo_store))
    assert len(behind) and (behind["this_year"] < behind["last_year"]).all()


def test_administrators_and_viewers_see_the_firm(demo_store):
    theirs = _mine(demo_store, "erik")
    _follow_up(demo_store, theirs[0], "erik", "Erik calls back", -1, user="erik")
    _follow_up(demo_store, theirs[0], "admin", "Alva checks the terms", 0, user="erik")
    admin = _home(demo_store, "admin")
    assert admin.manager is None and admin.slots["pipeline"].title == "The open pipeline"
    assert 'href="/pipeline"' in _block(admin, "pipeline") and 'href="/search"' in _block(admin, "behind")
    assert "Alva checks the terms" in _block(admin, "follow_ups")
    assert "Erik calls back" not in _block(admin, "follow_ups")
    viewer = _home(demo_store, "vera")
    html = _block(viewer, "follow_ups")
    assert viewer.slots["follow_ups"].title == "Follow-ups due"
    assert "Erik calls back" in html and "Alva checks the terms" in html and "data-action" not in html
    late = demo_store.follow_ups(owner="erik").iloc[0]
    viewer.handle("follow_ups", "follow-up-done", {"id": str(int(late.id)), "version": "1"})
    assert not demo_store.get_follow_up(int(late.id)).done


def test_without_the_crm_there_is_no_pipeline_block(demo_store):
    settings = demo_store.settings()
    settings.crm_enabled = False
    demo_store.save_settings(settings, user="admin")
    assert "pipeline" not in _home(demo_store, "anna").slots


def test_a_block_that_fails_says_so_and_the_others_are_shown(demo_store):
    _follow_up(demo_store, _mine(demo_store)[0], "anna", "Still shown", 0)
    with demo_store.db.transaction() as cur:
        cur.execute("DROP TABLE card_views")  # the recently viewed cards cannot be read
    home = _home(demo_store, "anna")
    assert "could not be shown" in _block(home, "recent")
    assert "Still shown" in _block(home, "follow_ups")
    assert "could not be shown" not in _block(home, "changes") + _block(home, "pipeline") + _block(home, "behind")


def test_the_pipeline_block_adds_up_as_the_pipeline_page(demo_store):
    for manager in ("anna", None):
        summed = demo_store.open_pipeline_by_stage(account_manager=manager)
        page = demo_store.pipeline(account_manager=manager)
        assert list(summed["stage"]) == list(page["stage"]) and list(summed["count"]) == list(page["count"])
        assert (abs(summed["amount"] - page["amount"]) < 0.5).all()
        assert (abs(summed["weighted"] - page["weighted"]) < 0.5 * page["count"].clip(lower=1)).all()


def test_a_right_to_left_override_in_a_follow_up_stays_inside_its_own_words(demo_store):
    """"“…” marked done." with a right-to-left override in the follow-up's text: the override is kept to that text
    (an isolate around it), so it cannot turn the product's own sentence round."""
    spoof = "Call \u202eevol back"
    follow_up = _follow_up(demo_store, _mine(demo_store)[0], "anna", spoof, -1)
    home = _home(demo_store, "anna")
    home.handle("follow_ups", "follow-up-done", {"id": str(follow_up.id), "version": "1"})
    assert f"“\u2068{spoof}\u2069” marked done." in _block(home, "follow_ups")


def test_opportunities_without_a_stage_are_named_so_and_without_the_crm_no_follow_up_names_its_opportunity(
        demo_store):
    """My open pipeline showed a row with an empty name for the opportunities without a stage (the board and the
    table say "No stage"); with the CRM module off, follow-ups still said "(Opportunity: …)" on home and card."""
    from customercard.ui.card import CustomerCard

    customer_id = _mine(demo_store)[0]
    deal = demo_store.new_opportunity(customer_id, owner="anna")
    deal.param.update(title="Stageless deal", amount=1000.0, stage=None)
    deal = demo_store.create_opportunity(deal, user="anna")
    assert "<td>No stage</td>" in _block(_home(demo_store, "anna"), "pipeline")
    follow_up = _follow_up(demo_store, customer_id, "anna", "Chase the deal", 1)
    follow_up.opportunity_id = deal.id
    demo_store.save_follow_up(follow_up, user="anna")
    assert "Opportunity" in _block(_home(demo_store, "anna"), "follow_ups")
    settings = demo_store.settings()
    settings.crm_enabled = False
    demo_store.save_settings(settings, user="admin")
    assert "Chase the deal" in _block(_home(demo_store, "anna"), "follow_ups")
    assert "Opportunity" not in _block(_home(demo_store, "anna"), "follow_ups")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("follow_ups")
    card.open()
    assert "Chase the deal" in card.view.html and "Stageless deal" not in card.view.html


def test_more_follow_ups_than_listed_are_counted_and_todays_stay_listed(demo_store):
    from customercard.ui.home import HOME_FOLLOW_UPS

    mine = _mine(demo_store)
    for n in range(HOME_FOLLOW_UPS + 4):
        _follow_up(demo_store, mine[n % 5], "anna", f"Old {n}", -10 - n % 30)
    _follow_up(demo_store, mine[0], "anna", "Due today", 0)
    _follow_up(demo_store, mine[0], "anna", "Due on Friday", 3)
    counts = demo_store.follow_up_counts(owner="anna", due_by=demo_store.firm_today() + dt.timedelta(days=7))
    assert counts["due"] >= HOME_FOLLOW_UPS + 6 and counts["overdue"] == counts["due"] - 2
    html = _block(_home(demo_store, "anna"), "follow_ups")
    assert f"{counts['due']} due by" in html and f"{counts['overdue']} of them overdue" in html
    assert "Due today" in html and "Due on Friday" in html
    listed = html.count('data-action="follow-up-done"')
    assert listed == HOME_FOLLOW_UPS and f"{counts['due'] - listed} more are not listed here." in html
    for n in range(HOME_FOLLOW_UPS - 1):  # the coming ones alone fill the list: no overdue one is added to it
        _follow_up(demo_store, mine[n % 5], "anna", f"Soon {n}", 1 + n % 6)
    html = _block(_home(demo_store, "anna"), "follow_ups")
    assert html.count('data-action="follow-up-done"') == HOME_FOLLOW_UPS and "Due today" in html


def test_edit_and_open_again_from_the_home_page(demo_store):
    mine = _mine(demo_store)
    follow_up = _follow_up(demo_store, mine[0], "anna", "Send the offer", 1)
    home = _home(demo_store, "anna")
    home.handle("follow_ups", "edit-follow-up", {"id": str(follow_up.id), "version": "1"})
    form = home.editor.form
    assert form.widgets["what"].value == "Send the offer"
    form.widgets["what"].value = "Send the signed offer"
    form.widgets["owner"].value = "erik"
    home.editor.save()
    saved = demo_store.get_follow_up(follow_up.id)
    assert (saved.what, saved.owner) == ("Send the signed offer", "erik")
    assert "Follow-up saved." in _block(home, "follow_ups") and home.slots["follow_ups"].child is None
    mine_again = _follow_up(demo_store, mine[1], "anna", "Call back", 0)
    home.draw("follow_ups")
    home.handle("follow_ups", "follow-up-done", {"id": str(mine_again.id), "version": "1"})
    html = _block(home, "follow_ups")
    assert demo_store.get_follow_up(mine_again.id).done and "<td>Call back</td>" not in html
    reopen = re.search(r'data-action="follow-up-open" data-id="(\d+)" data-version="(\d+)"', html)
    home.handle("follow_ups", "follow-up-open", {"id": reopen.group(1), "version": reopen.group(2)})
    assert not demo_store.get_follow_up(mine_again.id).done and "Call back" in _block(home, "follow_ups")
    home.handle("follow_ups", "follow-up-done", {"id": str(mine_again.id), "version": "3"})
    assert 'data-action="follow-up-open"' in _block(home, "follow_ups")
    home.handle("follow_ups", "edit-follow-up", {"id": str(follow_up.id), "version": "2"})
    home.editor.form.widgets["what"].value = "Send the offer again"
    home.editor.save()
    html = _block(home, "follow_ups")  # the offer to open "Call back" again went with its note
    assert "Follow-up saved." in html and 'data-action="follow-up-open"' not in html


def test_a_stale_edit_from_the_home_page_is_a_conflict(demo_store):
    follow_up = _follow_up(demo_store, _mine(demo_store)[0], "anna", "Send the contract", 2)
    home = _home(demo_store, "anna")
    moved = demo_store.get_follow_up(follow_up.id)
    moved.what = "Send the signed contract"
    demo_store.save_follow_up(moved, user="erik")
    home.handle("follow_ups", "edit-follow-up", {"id": str(follow_up.id), "version": "1"})
    home.editor.form.widgets["what"].value = "Send the contract today"
    home.editor.save()
    assert demo_store.get_follow_up(follow_up.id).what == "Send the signed contract"  # nothing overwritten unseen
    assert home.slots["follow_ups"].child is not None  # the form stays, asking what to keep


def test_a_viewer_cannot_edit_from_the_home_page(demo_store):
    follow_up = _follow_up(demo_store, _mine(demo_store)[0], "anna", "Send the contract", 2)
    home = _home(demo_store, "vera")
    home.handle("follow_ups", "edit-follow-up", {"id": str(follow_up.id)})
    assert home.editor is None and home.slots["follow_ups"].child is None
