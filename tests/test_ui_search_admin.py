"""Search customers, new customer, merge and administration views, without a browser."""

from __future__ import annotations

import io

import pandas as pd
import panel as pn
import pytest

import customercard as cc
from customercard.ui.admin import AdminPage
from customercard.ui.card import CustomerCard
from customercard.ui.customer_list import CustomerList, args_from_query, query_from_args
from customercard.ui.new_customer import NewCustomer
from customercard.ui.search_box import SuperSearch

from .conftest import rich_customers
from .ui_support import labelled, one, pane_text


def test_filters_are_anded_across_and_ored_within(demo_store):
    view = CustomerList(store=demo_store)
    everyone = view.total
    view.filters["statuses"].value = ["Active", "Prospect"]
    active_or_prospect = view.total
    view.filters["seg.Services"].value = ["Audit"]
    with_audit = view.total
    assert everyone > active_or_prospect > with_audit > 0
    frame = view.export_frame()
    assert len(frame) == with_audit and set(frame["Status"]) <= {"Active", "Prospect"}
    ids = demo_store.find_customers(view.query, limit=None)[0]["id"]
    for customer_id in ids:
        customer = demo_store.get_customer(int(customer_id))
        assert customer.status in ("Active", "Prospect") and "Audit" in customer.segments["Services"]
    view.clear()
    assert view.total == everyone


def test_a_text_filter_adds_a_column_saying_why_each_customer_matched(demo_store):
    view = CustomerList(store=demo_store)
    assert "match" not in [c["key"] for c in view.table.columns]
    contact = demo_store.contacts(demo_store.find_customers(limit=1)[0]["id"].iloc[0]).iloc[0]
    view.text = str(contact["last_name"])
    assert [c["key"] for c in view.table.columns][-1] == "match"
    rows = {row["_id"]: row for row in view.table.rows}
    assert rows and all(row["match"] == "" or row["match"].startswith("contact: ") for row in rows.values())
    by_contact = [row for row in rows.values() if row["match"]]
    assert by_contact and all(contact["last_name"] in row["match"] for row in by_contact)
    assert all(str(contact["last_name"]).lower() not in row["name"].lower() for row in by_contact)
    view.text = ""
    assert "match" not in [c["key"] for c in view.table.columns]


def test_archived_filter_city_country_and_manager(demo_store):
    c = demo_store.get_customer(rich_customers(demo_store)[0])
    view = CustomerList(store=demo_store)
    view.filters["city"].value = c.visit_address.city[:3]
    view.filters["country"].value = c.visit_address.country
    view.filters["account_managers"].value = [c.account_manager]
    names = [row["name"] for row in view.table.rows]
    assert c.name in names
    archived = demo_store.sql("SELECT count(*) AS n FROM customers WHERE archived")["n"][0]
    view.clear()
    view.filters["archived"].value = "archived"
    assert view.total == archived


def test_a_customer_with_no_status_or_industry_shows_empty_cells_beside_others(demo_store):
    made = demo_store.create_customer(cc.Customer(name="0 Only a name"), user="anna")
    assert made.status is None and made.industry is None
    view = CustomerList(store=demo_store, page_size=10)
    view.table.param.update(sort="name", descending=False)  # "0 …" first, beside customers that have both
    row = next(row for row in view.table.rows if row["_id"] == made.id)
    assert (row["status"], row["industry"], row["nickname"]) == ("", "", "")
    assert any(other["status"] for other in view.table.rows)  # the page's columns hold texts and a missing one


def test_paging_and_sorting_happen_on_the_server(demo_store):
    view = CustomerList(store=demo_store, page_size=10)
    assert len(view.table.rows) == 10
    first_page = [row["name"] for row in view.table.rows]
    labelled(view, "Next ›").clicks += 1
    assert view.page == 2 and [row["name"] for row in view.table.rows] != first_page
    view.table.param.update(sort="number", descending=True)
    assert view.page == 1
    numbers = [int(row["number"]) for row in view.table.rows]
    assert numbers == sorted(numbers, reverse=True) and numbers[0] == demo_store.sql(
        "SELECT max(number) AS n FROM customers WHERE NOT archived")["n"][0]


def test_the_url_holds_the_filters(demo_store):
    view = CustomerList(store=demo_store)
    view.filters["statuses"].value = ["Active"]
    view.filters["seg.Size"].value = ["Small", "Large"]
    view.filters["text"].value = "ab"
    view.table.param.update(sort="city")
    url = view.url
    assert "status=Active" in url and "seg.Size=Small" in url and "seg.Size=Large" in url and "sort=city" in url
    again = CustomerList.from_url(demo_store, "?" + url)
    assert again.query.values() == view.query.values() and again.sort == "city" and again.total == view.total
    query, state = query_from_args({"archived": ["bogus"], "page": ["x"]})
    assert query.archived == "active" and state["page"] == 1
    assert args_from_query(cc.CustomerQuery(), "name", False, 1) == ""


def test_export_files(demo_store):
    view = CustomerList(store=demo_store)
    view.filters["statuses"].value = ["Active"]
    csv = pd.read_csv(io.BytesIO(view.export_file("csv").getvalue()), encoding="utf-8-sig")
    xlsx = pd.read_excel(view.export_file("xlsx"))
    assert len(csv) == len(xlsx) == view.total
    assert {"Number", "Name", "Status", "City"} <= set(csv.columns)


def test_super_search_box_results(demo_store):
    box = SuperSearch(demo_store)
    name = demo_store.get_customer(rich_customers(demo_store)[0]).name
    box.query = name
    assert box.searched == [name] and box.results[0]["name"] == name
    assert box.results[0]["href"].startswith("/card?customer=") and "name" in box.results[0]["detail"]
    box.query = ""
    assert box.results == []


def test_a_customer_merged_away_found_by_its_old_number_leads_to_the_survivor(demo_store):
    """Typed by the number it had (or its name), the merged-away customer is found, says what it was merged into,
    and its hit opens the survivor, where everything it had is now."""
    survivor = demo_store.create_customer(user="anna", name="Survivor Holding AB")
    duplicate = demo_store.create_customer(user="anna", name="Duplicate Holding AB")
    demo_store.merge_customers(survivor.id, duplicate.id, user="admin")
    assert int(demo_store.search(str(duplicate.number))["merged_into"][0]) == survivor.id
    box = SuperSearch(demo_store)
    box.query = str(duplicate.number)
    hit = box.results[0]
    assert hit["name"] == "Duplicate Holding AB" and hit["href"] == f"/card?customer={survivor.id}"
    assert f"merged into {survivor.number} Survivor Holding AB" in hit["detail"]


def test_an_empty_list_of_hits_or_rows_reaches_the_browser_model(demo_store):
    """Panel mistook an empty list for a list of param objects and failed on the old hits (dicts), so the
    browser went on showing them."""
    from customercard.ui.components import DataTable

    box = SuperSearch(demo_store)
    model = box.get_root()
    box.query = "berg"
    assert model.data.results and model.data.searched == ["berg"]
    box.query = "qzxwv"
    assert model.data.results == [] and model.data.searched == ["qzxwv"]
    table = DataTable(columns=[{"key": "name", "label": "Name"}], rows=[{"name": "Berg AB"}])
    model = table.get_root()
    table.rows = []
    assert model.data.rows == []
    table.rows = [{"name": "Lind AB"}]
    assert model.data.rows == [{"name": "Lind AB"}]


def test_new_customer_warns_of_duplicates_then_creates(demo_store):
    existing = demo_store.get_customer(rich_customers(demo_store)[0])
    view = NewCustomer(store=demo_store, user="anna")
    view.form.widgets["name"].value = existing.name.rsplit(" ", 1)[0] + " Group AB"
    view.form.widgets["email"].value = "bad"
    assert view.create() is None and "e-mail" in view.form.messages["email"].object.lower()
    view.form.widgets["email"].value = ""
    view.form.widgets["name"].value = existing.name
    assert view.create() is None
    said = one(view, pn.pane.HTML, "cc-new-message").object
    assert "may exist already" in said and f"/card?customer={existing.id}" in said
    assert labelled(view, "Create anyway").visible
    created = view.create(check_duplicates=False)
    assert created is not None and created.created_by == "anna" and created.id != existing.id
    fresh = NewCustomer(store=demo_store, user="anna")
    fresh.form.widgets["name"].value = "Unique Zebra Holdings AB"
    assert fresh.create() is not None


def test_create_anyway_goes_past_the_duplicates_it_was_shown_with_only(demo_store):
    """Warned of one customer, the user changes the form to another's organisation number and clicks "Create
    anyway": that one is shown first (it was created without a word)."""
    first, second = (demo_store.get_customer(i) for i in rich_customers(demo_store)[:2])
    assert second.org_number and second.name.split()[0] != first.name.split()[0]
    view = NewCustomer(store=demo_store, user="anna")
    view.form.widgets["name"].value = first.name
    assert view.create() is None and f"/card?customer={first.id}" in one(view, pn.pane.HTML, "cc-new-message").object
    view.form.widgets["org_number"].value = second.org_number
    assert view.create(check_duplicates=False) is None
    said = one(view, pn.pane.HTML, "cc-new-message").object
    assert f"/card?customer={second.id}" in said and "may exist already" in said
    created = view.create(check_duplicates=False)  # both shown now: the user goes on
    assert created is not None and created.org_number == second.org_number


def test_merge_from_the_card(demo_store):
    survivor_id, other_id = rich_customers(demo_store)[:2]
    other = demo_store.get_customer(other_id)
    card = CustomerCard(store=demo_store, customer_id=survivor_id, user="anna")
    header = card.section("header")
    assert "merge" in [t["action"] for t in header.view.tools]
    header.handle("merge", {})
    panel = header.merge_panel
    labelled(panel, "Find the customer to merge into this one").value_input = str(other.number)
    assert labelled(panel, "Customer").value == other_id
    panel.choices["phone"].value = "other"
    assert panel.merge()
    assert card.customer.phone == other.phone
    assert "Merged" in header.view.html
    assert demo_store.get_customer(other_id).merged_into == survivor_id
    viewer = CustomerCard(store=demo_store, customer_id=survivor_id, user="vera")
    assert "merge" not in [t["action"] for t in viewer.section("header").view.tools]
    viewer.section("header").handle("merge", {})
    assert viewer.section("header").view.child is None


def test_a_merge_is_refused_when_the_survivor_was_saved_after_the_comparison_was_drawn(demo_store):
    """The merge writes on the versions the comparison showed: Erik's save of the card's customer while Anna
    compared (her card already drew it) is not overwritten by her "Take"; she is told, and compares again."""
    from customercard.ui.merge import moved

    survivor_id, other_id = rich_customers(demo_store)[:2]
    other = demo_store.get_customer(other_id)
    card = CustomerCard(store=demo_store, customer_id=survivor_id, user="anna")
    header = card.section("header")
    header.handle("merge", {})
    panel = header.merge_panel
    labelled(panel, "Find the customer to merge into this one").value_input = str(other.number)
    assert labelled(panel, "Customer").value == other_id
    erik = demo_store.get_customer(survivor_id)
    erik.phone = "+46 8 123 45 67"
    demo_store.save_customer(erik, user="erik")
    card.context.reload()  # what the open card does when told of Erik's save
    panel.choices["phone"].value = "other"
    assert not panel.merge()
    assert demo_store.get_customer(survivor_id).phone == "+46 8 123 45 67"
    assert not demo_store.get_customer(other_id).merged_into
    note = one(panel, pn.pane.HTML, "cc-merge-note")
    assert note.visible and "nothing was merged" in note.object and demo_store.user_name("erik") in note.object
    assert "+46 8 123 45 67" in str(panel.choices["phone"].options)  # compared again with what is stored now
    panel.choices["phone"].value = "other"
    assert panel.merge()
    assert demo_store.get_customer(survivor_id).phone == other.phone
    assert moved("follow_ups", 1) == "1 follow-up" and moved("files", 2) == "2 files"


def test_moving_the_first_value_up_or_the_last_down_says_it_stays_and_logs_nothing(demo_store):
    """"Move up" on the first value said "Saved." while nothing moved and nothing was logged."""
    lists = AdminPage(demo_store, "admin").lists
    values = demo_store.list_values("industries")
    log_before = len(demo_store.admin_log(limit=10_000))
    for row, button, said in ((values.iloc[0], "Move up", "is first in the list already"),
                              (values.iloc[-1], "Move down", "is last in the list already")):
        labelled(lists, "Value").value = int(row["id"])
        labelled(lists, button).clicks += 1
        assert lists.message == f"“{row['label']}” {said}."
    assert list(demo_store.list_values("industries")["label"]) == list(values["label"])
    assert len(demo_store.admin_log(limit=10_000)) == log_before
    assert demo_store.move_list_value(int(values.iloc[0]["id"]), 1, user="admin") is True


def test_admin_lists_settings_criteria_users_and_log(demo_store):
    page = AdminPage(demo_store, "admin")
    lists = page.lists
    labelled(lists, "Add a value").value = "Shipping"
    labelled(lists, "Add").clicks += 1
    assert "Shipping" in set(demo_store.list_values("industries")["label"])
    shipping = int(demo_store.list_values("industries").set_index("label").loc["Shipping", "id"])
    labelled(lists, "Value").value = shipping
    labelled(lists, "Move up").clicks += 1
    labels = list(demo_store.list_values("industries")["label"])
    assert labels.index("Shipping") == len(labels) - 2
    labelled(lists, "New name").value = "Shipping & ports"
    labelled(lists, "Rename").clicks += 1
    labelled(lists, "Deactivate / activate").clicks += 1
    row = demo_store.list_values("industries").set_index("id").loc[shipping]
    assert row["label"] == "Shipping & ports" and not row["active"]
    labelled(lists, "Add a value").value = "Retail"
    labelled(lists, "Add").clicks += 1
    assert "already" in lists.message

    settings = page.settings
    settings.form.widgets["nicknames_enabled"].value = False
    settings.form.widgets["start_address"].value = "Storgatan 1, 411 38 Göteborg"
    assert settings.save()
    assert not demo_store.settings().nicknames_enabled
    settings.form.widgets["time_zone"].value = "Mars/Olympus"
    assert not settings.save() and "time zone" in settings.form.messages["time_zone"].object.lower()

    criteria = page.criteria
    labelled(criteria, "Name").value = "Region"
    labelled(criteria, "Values, one per line (removed values are deactivated)").value = "North\nSouth\n"
    assert criteria.save()
    assert ("Region", (False, ["North", "South"])) in demo_store.choices().criteria.items()

    users = page.users
    users.form.widgets["login"].value = "nils"
    users.form.widgets["name"].value = "Nils Ek"
    labelled(users, "Password").value = "a-first-secret-1"
    assert users.save()
    assert demo_store.authenticate("nils", "a-first-secret-1").role == "manager"
    labelled(users, "User").value = "nils"
    users.form.widgets["role"].value = "viewer"
    users.form.widgets["projects_access"].value = True
    labelled(users, "New password (leave empty to keep)").value = "a-second-secret-2"
    assert users.save()
    nils = demo_store.get_user("nils")
    assert nils.role == "viewer" and nils.projects_access and demo_store.authenticate("nils", "a-second-secret-2")

    page.log.refresh()
    log = one(page.log, pn.pane.HTML, "cc-admin-log").object
    # a setting by its label
    assert "Shipping" in log and "<td>Nicknames</td>" in log and "Region" in log and "nils" in log


def test_opening_the_log_tab_reads_the_log_again(demo_store):
    page = AdminPage(demo_store, "admin")
    tabs = one(page, pn.Tabs, "cc-admin-tabs")
    labelled(page.lists, "Add a value").value = "Shipping"
    labelled(page.lists, "Add").clicks += 1
    log = one(page.log, pn.pane.HTML, "cc-admin-log")
    assert "Shipping" not in log.object  # read when the page was built
    tabs.active = len(tabs) - 2  # Economy system: its own state is read again, not the log
    assert "Shipping" not in log.object
    tabs.active = len(tabs) - 1  # Log
    assert "Shipping" in log.object


def test_admin_writes_are_refused_for_others_even_forged(demo_store):
    page = AdminPage(demo_store, "anna")  # a manager reaching the page objects directly
    labelled(page.lists, "Add a value").value = "Forged"
    labelled(page.lists, "Add").clicks += 1
    assert "Only administrators" in page.lists.message
    assert "Forged" not in set(demo_store.list_values("industries")["label"])
    with pytest.raises(cc.PermissionDenied):
        demo_store.save_settings(cc.Settings(nicknames_enabled=False), user="vera")


def test_admin_page_is_a_panel_object(demo_store):
    assert isinstance(AdminPage(demo_store, "admin").__panel__(), pn.Column)


def test_admin_import_tab_checks_then_imports(demo_store, tmp_path):
    page = AdminPage(demo_store, "admin")
    csv = b"Name;Org number;City;Country\nNorrsken Konsult AB;556677-8899;Kiruna;SE\n"
    one(page.imports, pn.widgets.FileInput, "cc-import-file").param.update(value=csv, filename="new.csv")
    assert page.imports.run()  # a dry run by default
    assert "would be imported" in pane_text(page.imports, "cc-import-report")
    assert demo_store.search("Norrsken").empty
    labelled(page.imports, "Only check (dry run)").value = False
    assert page.imports.run()
    assert list(demo_store.search("Norrsken")["name"]) == ["Norrsken Konsult AB"]
    chooser = one(page.imports, pn.widgets.FileInput, "cc-import-file")
    chooser.param.update(value=b"Name;E-mail\nBad AB;nope\n", filename="bad.csv")
    assert not page.imports.run()
    assert "Nothing imported" in pane_text(page.imports, "cc-import-report")


def test_admin_and_card_show_pending_and_failed_deliveries(demo_store):
    customer_id = rich_customers(demo_store)[0]
    demo_store.link_customer(customer_id, "Fortnox", "FN-1", user="admin")
    c = demo_store.get_customer(customer_id)
    c.phone = "08-444 44 44"
    demo_store.save_customer(c, user="anna")
    outbox_id = int(demo_store.outbox(customer_id).iloc[0]["id"])
    for _ in range(8):
        demo_store.mark_attempt_failed(outbox_id, "HTTP 503 Service Unavailable", 1)
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    groups = card.section("groups")
    groups.open()
    assert "1 failed" in groups.view.html and "HTTP 503" in groups.view.html
    assert "Linked to Fortnox as customer FN-1" in groups.view.html
    page = AdminPage(demo_store, "admin")
    assert "0 pending, 1 failed" in pane_text(page.sync, "cc-sync") and "HTTP 503" in pane_text(page.sync, "cc-sync")
    assert page.sync.retry() == 1
    assert demo_store.outbox_counts(customer_id)["pending"] == 1


def test_the_filters_offer_every_value_customers_have_and_tell_two_colleagues_of_one_name_apart(empty_store):
    """A status an administrator switched off, a manager made viewer (or deactivated) and two colleagues of one name:
    Search customers' filters offered none of the first two (their customers could not be listed to hand them over),
    and one of the two names; "Change many customers…" offered one of the two colleagues."""
    from customercard.models import User
    from customercard.ui.customer_list import CustomerList

    store = empty_store
    for login in ("lena", "lars"):
        store.add_user(User(login=login, name="Lena Lund", role="manager"), password="correct horse 42", by="boss")
    made = [store.create_customer(user="anna", name=f"Filtered {n} AB", account_manager=login)
            for n, login in enumerate(("lena", "lars", "anna"))]
    statuses = store.list_values("statuses")
    gone = statuses.iloc[-1]
    customer = store.get_customer(made[2].id)
    customer.status = gone["label"]
    store.save_customer(customer, user="anna")
    store.set_list_value_active(int(gone["id"]), False, user="boss")
    anna = store.get_user("anna")
    anna.role = "viewer"
    store.update_user(anna, by="boss")

    view = CustomerList(store=store, login="boss")
    status_options = view.filters["statuses"].options
    assert gone["label"] in status_options.values() and any("no longer offered" in k for k in status_options)
    managers = view.filters["account_managers"].options
    assert {"lena", "lars", "anna"} <= set(managers.values())
    assert {"Lena Lund (lena)", "Lena Lund (lars)"} <= set(managers)
    view.filters["account_managers"].value = ["lars"]
    assert view.total == 1
    view.filters["account_managers"].value = ["anna"]
    assert view.total == 1
    view.filters["account_managers"].value = []
    view.filters["statuses"].value = [gone["label"]]
    assert view.total == 1

    bulk = CustomerList(store=store, login="boss").bulk
    value = one(bulk, pn.widgets.Select, "cc-bulk-value")
    assert {"lena", "lars"} <= set(value.options.values())


def _count_text(view: CustomerList) -> str:
    return next(pane.object for pane in view.__panel__().select(pn.pane.HTML)
                if "cc-count-text" in str(pane.object))


@pytest.mark.parametrize("language, one_hit", [
    ("en", "1–1 of 1 customer · page 1 of 1"), ("sv", "1–1 av 1 kund · sida 1 av 1"),
    ("da", "1–1 af 1 kunde · side 1 af 1")])
def test_the_count_says_one_customer_in_the_readers_language(demo_store, language, one_hit):
    from customercard.i18n import using_language

    number = demo_store.get_customer(rich_customers(demo_store)[0]).number
    with using_language(language):
        view = CustomerList(store=demo_store)
        view.filters["text"].value = str(number)
        assert view.total == 1 and one_hit in _count_text(view)
