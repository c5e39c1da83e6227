"""Two administrators on one user, the settings or one segmentation criterion: the second save, made from a form
opened before the first, never overwrites the first unseen — and is not asked about what only it changed.

A user or the settings saved meanwhile: the conflict names only the fields someone else changed since the version
the form (or a notebook's copy) was read at, each with who changed it; when those are not fields this save changes,
the form's changes go on top and theirs stay, as a customer's card does. A criterion saved meanwhile: what was typed
stays in the form, the message says what is stored now and who changed it, and Save again stores the form on that
version (a change after it is a conflict again). On DuckDB and on PostgreSQL."""

from __future__ import annotations

import panel as pn
import pytest

import customercard as cc
from customercard.passwords import hash_password
from customercard.ui.admin import AdminPage

from .ui_support import find, labelled

VALUES_LABEL = "Values, one per line (removed values are deactivated)"


def _second_admin(store, login="boss", name="Bo Boss"):
    store.add_user(cc.User(login=login, name=name, email=f"{login}@firm.example", role="admin"),
                   password_hash=hash_password("secret"), by="system:test")
    return login


def _conflict_texts(panel) -> list[str]:
    """The conflict dialog's text as shown (empty when there is none)."""
    return [pane.object for pane in find(panel, pn.pane.HTML) if "cc-conflict" in str(pane.object)] + [
        label for group in find(panel, pn.widgets.RadioBoxGroup) for label in group.options]


# -- users ----------------------------------------------------------------------------------------------------------
def test_a_stale_user_names_only_the_fields_changed_since_and_who_changed_them(empty_store):
    store = empty_store
    mine, theirs = store.get_user("anna"), store.get_user("anna")
    theirs.name = "Anna Renamed"
    store.update_user(theirs, by="boss")
    mine.email = "anna@elsewhere.example"  # only mine changes the e-mail: not theirs to choose about
    with pytest.raises(cc.ConflictError) as caught:
        store.update_user(mine, by="boss")
    assert [(c.field, c.stored, c.attempted, c.changed_by) for c in caught.value.conflicts] == [
        ("name", "Anna Renamed", "Anna", "boss")]
    stored = store.get_user("anna")
    assert (stored.name, stored.email) == ("Anna Renamed", "anna@firm.example")  # nothing written

    mine.name = "Anna Mine"  # both change the name: asked about it, with their value and who
    with pytest.raises(cc.ConflictError) as caught:
        store.update_user(mine, by="boss")
    assert [(c.field, c.stored, c.attempted, c.changed_by) for c in caught.value.conflicts] == [
        ("name", "Anna Renamed", "Anna Mine", "boss")]


def test_each_field_changed_since_names_its_own_administrator_over_several_saves(empty_store):
    store = empty_store
    _second_admin(store, "ada", "Ada Admin")
    mine = store.get_user("vera")
    first = store.get_user("vera")
    first.name = "Vera First"
    store.update_user(first, by="boss")
    second = store.get_user("vera")
    second.projects_access = True
    store.update_user(second, by="ada")
    store.set_language("vera", "sv", by="ada")  # a preference, not a change of the user: no conflict of its own
    mine.email = "vera@elsewhere.example"
    with pytest.raises(cc.ConflictError) as caught:
        store.update_user(mine, by="boss")
    assert {c.field: c.changed_by for c in caught.value.conflicts} == {"name": "boss", "projects_access": "ada"}
    assert (caught.value.stored_version, caught.value.attempted_version) == (mine.version + 2, mine.version)

    fresh = store.get_user("vera")  # read after them: no conflict
    fresh.email = "vera@elsewhere.example"
    saved = store.update_user(fresh, by="boss")
    assert (saved.name, saved.email, saved.projects_access) == ("Vera First", "vera@elsewhere.example", True)


def _erik_renamed_while_a_second_administrator_has_him_open(store) -> AdminPage:
    """Two administrators open Users → Erik; the first renames him and saves. The second's page, its form as read."""
    boss = _second_admin(store)
    first, second = AdminPage(store, "admin"), AdminPage(store, boss)
    for page in (first, second):
        labelled(page.users, "User").value = "erik"
    first.users.form.widgets["name"].value = "Erik Nilsson-Berg"
    assert first.users.save()
    return second


def test_a_second_administrator_s_user_save_goes_on_top_of_a_change_to_other_fields(demo_store):
    second = _erik_renamed_while_a_second_administrator_has_him_open(demo_store)
    second.users.form.widgets["email"].value = "erik.nilsson@firm.example"
    assert second.users.save()  # nothing to choose: nobody else changed the e-mail
    erik = demo_store.get_user("erik")
    assert (erik.name, erik.email) == ("Erik Nilsson-Berg", "erik.nilsson@firm.example")
    assert not _conflict_texts(second.users)
    assert second.users.message == "Saved. Also changed meanwhile, and kept: Name (Alva Lindqvist)."


def test_a_user_field_both_administrators_changed_is_asked_about_with_the_colleague_s_name(demo_store):
    second = _erik_renamed_while_a_second_administrator_has_him_open(demo_store)
    second.users.form.widgets["name"].value = "Erik N."
    second.users.form.widgets["email"].value = "erik.nilsson@firm.example"
    assert not second.users.save()
    texts = _conflict_texts(second.users)
    assert "Keep stored: Erik Nilsson-Berg (Alva Lindqvist)" in texts and "Use mine: Erik N." in texts
    assert not any("erik@firm.example" in text or "E-mail" in text for text in texts)  # only mine: not asked
    assert demo_store.get_user("erik").email == "erik@firm.example"
    group = next(g for g in find(second.users, pn.widgets.RadioBoxGroup))
    group.value = "stored"
    assert second.users.save()
    erik = demo_store.get_user("erik")
    assert (erik.name, erik.email) == ("Erik Nilsson-Berg", "erik.nilsson@firm.example")


# -- settings -------------------------------------------------------------------------------------------------------
def test_stale_settings_name_only_the_settings_changed_since_and_who(empty_store):
    store = empty_store
    _second_admin(store, "ada", "Ada Admin")
    one, two = store.settings(), store.settings()
    one.start_address = "Storgatan 1, Göteborg"
    store.save_settings(one, user="ada")
    two.smtp_host = "mail.firm.example"
    with pytest.raises(cc.ConflictError) as caught:
        store.save_settings(two, user="boss")
    assert [(c.field, c.stored, c.changed_by) for c in caught.value.conflicts] == [
        ("start_address", "Storgatan 1, Göteborg", "ada")]
    assert store.settings().smtp_host == ""  # nothing written


def test_a_second_administrator_s_settings_go_on_top_of_a_change_to_other_settings(demo_store):
    boss = _second_admin(demo_store)
    first, second = AdminPage(demo_store, "admin"), AdminPage(demo_store, boss)
    first.settings.form.widgets["start_address"].value = "Storgatan 1, 411 38 Göteborg"
    assert first.settings.save()
    second.settings.form.widgets["smtp_host"].value = "mail.firm.example"
    assert second.settings.save()
    stored = demo_store.settings()
    assert (stored.start_address, stored.smtp_host) == ("Storgatan 1, 411 38 Göteborg", "mail.firm.example")
    assert not _conflict_texts(second.settings)
    assert "Start address (Alva Lindqvist)" in second.settings.message


# -- segmentation criteria --------------------------------------------------------------------------------------------
def _criterion(store, name):
    return next(c for c in store.criteria(include_inactive=True) if c.name == name)


def test_a_stale_criterion_names_what_was_changed_since_and_who(empty_store):
    store = empty_store
    source = _criterion(store, "Source")
    mine = source.copy()
    source.values = [*source.values, "LinkedIn"]
    store.save_criterion(source, user="boss")
    mine.values = [*mine.values, "Trade fair"]
    with pytest.raises(cc.ConflictError) as caught:
        store.save_criterion(mine, user="boss")
    assert [(c.field, c.stored, c.changed_by) for c in caught.value.conflicts] == [("values", source.values, "boss")]


def _two_on_source(store):
    boss = _second_admin(store)
    first, second = AdminPage(store, "admin"), AdminPage(store, boss)
    source = _criterion(store, "Source")
    for page in (first, second):
        labelled(page.criteria, "Criterion").value = source.id
    return first.criteria, second.criteria, source


def test_a_second_administrator_s_criterion_values_stay_and_the_stored_ones_are_shown(demo_store):
    first, second, source = _two_on_source(demo_store)
    theirs, mine = [*source.values, "LinkedIn"], [*source.values, "Trade fair"]
    labelled(first, VALUES_LABEL).value = "\n".join(theirs)
    assert first.save()
    labelled(second, VALUES_LABEL).value = "\n".join(mine)
    assert not second.save()
    assert labelled(second, VALUES_LABEL).value.splitlines() == mine  # what was typed stays
    assert "LinkedIn" in second.message and "(Alva Lindqvist)" in second.message
    assert _criterion(demo_store, "Source").values == theirs  # nothing of theirs overwritten unseen
    assert second.save()  # chosen: mine, on the version the message showed
    assert _criterion(demo_store, "Source").values == mine


def test_a_criterion_changed_again_after_the_conflict_was_shown_is_a_conflict_again(demo_store):
    first, second, source = _two_on_source(demo_store)
    labelled(first, VALUES_LABEL).value = "\n".join([*source.values, "LinkedIn"])
    assert first.save()
    labelled(second, VALUES_LABEL).value = "\n".join([*source.values, "Trade fair"])
    assert not second.save()
    again = [*source.values, "LinkedIn", "Podcast"]
    labelled(first, VALUES_LABEL).value = "\n".join(again)
    assert first.save()
    assert not second.save()
    assert "Podcast" in second.message
    assert _criterion(demo_store, "Source").values == again
    assert "Trade fair" in labelled(second, VALUES_LABEL).value


def test_the_stored_criterion_can_be_taken_instead_of_what_was_typed(demo_store):
    first, second, source = _two_on_source(demo_store)
    theirs = [*source.values, "LinkedIn"]
    labelled(first, VALUES_LABEL).value = "\n".join(theirs)
    assert first.save()
    labelled(second, VALUES_LABEL).value = "\n".join([*source.values, "Trade fair"])
    assert not second.save()
    stored = labelled(second, "Keep stored")
    assert stored.visible
    stored.clicks += 1
    assert labelled(second, VALUES_LABEL).value.splitlines() == theirs
    assert not labelled(second, "Keep stored").visible
    assert second.save()
    assert _criterion(demo_store, "Source").values == theirs


def test_a_field_not_typed_in_takes_the_colleague_s_change_on_a_criterion_conflict(demo_store):
    first, second, source = _two_on_source(demo_store)
    labelled(first, "Name").value = "Lead source"
    assert first.save()
    mine = [*source.values, "Trade fair"]
    labelled(second, VALUES_LABEL).value = "\n".join(mine)
    assert not second.save()
    assert labelled(second, "Name").value == "Lead source"  # theirs: nothing was typed in it here
    assert "Lead source" in second.message and "(Alva Lindqvist)" in second.message
    assert second.save()
    stored = next(c for c in demo_store.criteria(include_inactive=True) if c.id == source.id)
    assert (stored.name, stored.values) == ("Lead source", mine)


def test_a_criterion_value_written_in_another_case_is_that_value_renamed_not_a_second(demo_store):
    """"Small" made "small" was saved as a new value beside the old one: a customer kept "Small", its editor offered
    both, Search customers only "small" — two values that read the same, which the model refuses when typed."""
    criterion = next(c for c in demo_store.criteria() if len(c.values) >= 2)
    old = criterion.values[0]
    customer_id = int(demo_store.sql("SELECT min(id) AS id FROM customers WHERE NOT archived")["id"][0])
    customer = demo_store.get_customer(customer_id)
    customer.segments = {**customer.segments, criterion.name: [old]}
    demo_store.save_customer(customer, user="anna")
    renamed = old.swapcase()
    criterion.values = [renamed, *criterion.values[1:]]
    demo_store.save_criterion(criterion, user="admin")
    stored = next(c for c in demo_store.criteria(include_inactive=True) if c.id == criterion.id)
    assert stored.values == criterion.values and old not in stored.values
    assert demo_store.get_customer(customer_id).segments[criterion.name] == [renamed]
    assert renamed in demo_store.choices().criteria[criterion.name][1]
