"""A list value an administrator renames while someone has it chosen in an open form (the card's header, an event,
an opportunity) is the same value under its new name: the save takes it, it is not refused as "not one of …"."""

from __future__ import annotations

from customercard.ui.card import CustomerCard

from .conftest import eventually, rich_customers


def value_id(store, list_name: str, label: str) -> int:
    values = store.list_values(list_name)
    return int(values.set_index("label").loc[label, "id"])


def rename(store, list_name: str, label: str, new: str) -> None:
    store.rename_list_value(value_id(store, list_name, label), new, user="admin")


def test_an_industry_chosen_in_an_open_card_form_and_renamed_meanwhile_is_saved_under_its_new_name(demo_store):
    customer_id = rich_customers(demo_store)[0]
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    header = card.section("header")
    header.start_edit()
    stored = demo_store.get_customer(customer_id).industry
    chosen = next(label for label in demo_store.choices().allowed("industries") if label != stored)
    header.form.widgets["industry"].value = chosen
    rename(demo_store, "industries", chosen, f"{chosen} & more")
    assert header.save() is True, header.form.messages["industry"].object
    assert demo_store.get_customer(customer_id).industry == f"{chosen} & more"
    history = demo_store.history(customer_id).iloc[0]
    assert (history.field, history.new_value) == ("industry", f"{chosen} & more")


def test_an_event_type_and_a_stage_chosen_before_a_rename_are_taken_under_the_new_names(demo_store):
    customer_id = rich_customers(demo_store)[1]
    event = demo_store.new_event(customer_id, owner="anna")
    event.title = "Genomgång"
    kinds = demo_store.choices().allowed("event_types")
    event.event_type = kinds[-1]
    rename(demo_store, "event_types", kinds[-1], f"{kinds[-1]} (renamed)")
    made = demo_store.create_event(event, user="anna")
    assert demo_store.get_event(made.id).event_type == f"{kinds[-1]} (renamed)"

    opportunity = demo_store.new_opportunity(customer_id, owner="anna")
    opportunity.title, opportunity.amount = "Ny affär", 1000
    stages = demo_store.choices().allowed("opportunity_stages")
    opportunity.stage = stages[1]
    rename(demo_store, "opportunity_stages", stages[1], f"{stages[1]} (renamed)")
    made = demo_store.create_opportunity(opportunity, user="anna")
    assert demo_store.get_opportunity(made.id).stage == f"{stages[1]} (renamed)"


def test_a_value_renamed_away_and_its_old_name_given_to_another_is_the_other(demo_store):
    """Once an old name names another value again, a form's choice of it is that value (no guessing)."""
    customer_id = rich_customers(demo_store)[2]
    customer = demo_store.get_customer(customer_id)
    statuses = demo_store.choices().allowed("statuses")
    chosen = next(label for label in statuses if label != customer.status)
    rename(demo_store, "statuses", chosen, f"{chosen} (old)")
    demo_store.add_list_value("statuses", chosen, user="admin")
    customer.status = chosen
    assert demo_store.save_customer(customer, user="anna").status == chosen


def test_a_bulk_change_to_a_value_renamed_while_the_panel_was_open_takes_its_new_name(demo_store):
    ids = rich_customers(demo_store)[3:5]
    industries = demo_store.choices().allowed("industries")
    chosen = industries[-1]
    rename(demo_store, "industries", chosen, f"{chosen} (bulk renamed)")
    demo_store.bulk_change(ids, "industry", chosen, user="anna")
    assert {demo_store.get_customer(i).industry for i in ids} == {f"{chosen} (bulk renamed)"}


def test_an_opportunitys_currency_renamed_since_it_was_chosen_is_taken(demo_store):
    customer_id = rich_customers(demo_store)[5]
    currencies = demo_store.choices().allowed("currencies")
    base = demo_store.settings().base_currency
    chosen = next(code for code in currencies if code != base and code in demo_store.settings().rates())
    opportunity = demo_store.new_opportunity(customer_id, owner="anna")
    opportunity.title, opportunity.amount, opportunity.currency = "Valutaaffär", 500, chosen
    new = next(chosen[:2] + letter for letter in "QXZJ" if chosen[:2] + letter not in currencies)
    rename(demo_store, "currencies", chosen, new)
    settings = demo_store.settings()
    settings.exchange_rates += f", {new} 1.5"
    demo_store.save_settings(settings, user="admin")
    made = demo_store.create_opportunity(opportunity, user="anna")
    assert demo_store.get_opportunity(made.id).currency == new


def test_an_open_card_shows_a_renamed_value_under_its_new_name_at_once(demo_store):
    """An administrator renames the industry a customer has and an event type of its events while a manager looks
    at the card: the card shows the new names without a reload; a form open meanwhile keeps what was typed, and
    its save takes the renamed value."""
    customer_id = rich_customers(demo_store)[0]
    industry = demo_store.get_customer(customer_id).industry
    assert industry
    event = demo_store.new_event(customer_id, owner="anna")
    event.title = "Genomgång"
    kind = demo_store.choices().allowed("event_types")[0]
    event.event_type = kind
    demo_store.create_event(event, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    header, events, contact = card.section("header"), card.section("events"), card.section("contact")
    events.open()
    assert industry in header.view.html and kind in events.view.html
    contact.start_edit()
    contact.form.widgets["phone"].value = "+46 8 555 12 34"

    rename(demo_store, "industries", industry, f"{industry} (renamed)")
    rename(demo_store, "event_types", kind, f"{kind} (renamed)")
    # (heard at once with DuckDB; PostgreSQL tells every process, this one too, through its listener)
    eventually(lambda: f"{kind} (renamed)" in events.view.html)
    assert f"{industry} (renamed)" in header.view.html
    assert card.customer.industry == f"{industry} (renamed)"
    assert contact.editing and contact.form.widgets["phone"].value == "+46 8 555 12 34"
    assert contact.save() is True
    stored = demo_store.get_customer(customer_id)
    assert (stored.phone, stored.industry) == ("+46 8 555 12 34", f"{industry} (renamed)")
    assert demo_store.history(customer_id).iloc[0]["field"] == "phone"


def test_an_open_card_form_offers_the_lists_as_an_administrator_leaves_them(demo_store):
    """The open form kept offering the industries as they were when it opened: a value switched off since was
    offered and then refused on Save, a new one was missing, a renamed one showed its old name."""
    customer_id = rich_customers(demo_store)[0]
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    header = card.section("header")
    header.start_edit()
    widget = header.form.widgets["industry"]
    stored = demo_store.get_customer(customer_id).industry
    others = [label for label in demo_store.choices().allowed("industries") if label != stored]
    chosen, renamed, off = others[:3]
    widget.value = chosen
    rename(demo_store, "industries", chosen, f"{chosen} (chosen)")
    rename(demo_store, "industries", renamed, f"{renamed} (renamed)")
    demo_store.set_list_value_active(value_id(demo_store, "industries", off), False, user="admin")
    demo_store.add_list_value("industries", "Shipping", user="admin")
    eventually(lambda: "Shipping" in list(widget.options))
    offered = list(widget.options)
    assert f"{renamed} (renamed)" in offered and renamed not in offered and off not in offered
    assert widget.value == f"{chosen} (chosen)" and header.editing  # what was chosen stays chosen, renamed
    assert header.save() is True
    assert demo_store.get_customer(customer_id).industry == f"{chosen} (chosen)"
