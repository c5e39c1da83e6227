"""The CRM in the store: relations both ways, events, opportunities, pipeline; every rule and permission."""

from __future__ import annotations

import datetime as dt

import pytest

import customercard as cc


@pytest.fixture
def pair(empty_store):
    a = empty_store.create_customer(user="anna", name="Parent Holding AB")
    b = empty_store.create_customer(user="anna", name="Child Services AB")
    return empty_store, a, b


def test_relation_shows_on_both_sides_with_the_inverse(pair):
    store, parent, child = pair
    store.add_relation(cc.Relation(customer_id=parent.id, relation_type="Parent company of",
                                   other_customer_id=child.id, note="Owns 100 %"), user="anna")
    mine = store.relations(parent.id).iloc[0]
    theirs = store.relations(child.id).iloc[0]
    assert (mine.label, mine.other_name, mine.direction) == ("Parent company of", "Child Services AB", "out")
    assert (theirs.label, theirs.other_name, theirs.direction) == ("Subsidiary of", "Parent Holding AB", "in")
    assert theirs.note == "Owns 100 %"


def test_relation_to_a_contact_person_and_rules(pair):
    store, a, b = pair
    contact = store.create_contact(cc.Contact(customer_id=b.id, first_name="Bo", last_name="Ek"), user="anna")
    store.add_relation(cc.Relation(customer_id=a.id, relation_type="Board member at", other_contact_id=contact.id),
                       user="anna")
    row = store.relations(a.id).iloc[0]
    assert row.other_kind == "contact" and row.other_name == "Bo Ek (Child Services AB)"
    with pytest.raises(cc.ValidationError):
        store.add_relation(cc.Relation(customer_id=a.id, relation_type="Partner of", other_customer_id=a.id),
                           user="anna")
    with pytest.raises(cc.ValidationError):
        store.add_relation(cc.Relation(customer_id=a.id, relation_type="Enemy of", other_customer_id=b.id),
                           user="anna")
    with pytest.raises(cc.PermissionDenied):
        store.add_relation(cc.Relation(customer_id=a.id, relation_type="Partner of", other_customer_id=b.id),
                           user="vera")
    store.remove_relation(int(row.id), user="anna")
    assert store.relations(a.id).empty
    assert set(store.record_history("relations", int(row.id))["kind"]) == {"create", "delete"}


def test_events_plan_mark_done_and_rules(pair):
    store, a, _b = pair
    event = store.new_event(a.id, owner="anna")
    event.title = "Kick-off"
    event.event_type = "Meeting"
    event.participants = ["anna", "boss"]
    created = store.create_event(event, user="anna")
    assert created.status == "planned" and created.version == 1
    done = store.set_event_status(created.id, "done", user="boss")
    assert done.status == "done" and done.status_changed_by == "boss" and done.status_changed_at is not None
    assert list(store.events(a.id, status="done")["title"]) == ["Kick-off"]
    assert store.events(a.id, status="planned").empty
    history = store.record_history("events", created.id)
    assert history.iloc[0].field == "status" and history.iloc[0].new_value == "done"

    bad = store.new_event(a.id)
    bad.title = "Backwards"
    bad.ends_at = bad.starts_at - dt.timedelta(hours=1)
    with pytest.raises(cc.ValidationError) as info:
        store.create_event(bad, user="anna")
    assert "ends_at" in info.value.errors
    with pytest.raises(cc.PermissionDenied):
        store.set_event_status(created.id, "cancelled", user="vera")
    stale = store.get_event(created.id)
    store.set_event_status(created.id, "cancelled", user="anna")
    stale.title = "Renamed"
    with pytest.raises(cc.ConflictError):
        store.save_event(stale, user="anna")


def test_opportunities_rules_status_and_sums(pair):
    store, a, b = pair
    first = store.new_opportunity(a.id, owner="anna")
    first.param.update(title="Audit 2027", amount=100_000, probability=40, stage="Proposal")
    store.create_opportunity(first, user="anna")
    second = store.new_opportunity(b.id, owner="boss")
    second.param.update(title="Payroll", amount=50_000, probability=80, stage="Negotiation",
                        expected_close=dt.date(2030, 3, 1))
    store.create_opportunity(second, user="boss")
    stages = store.pipeline().set_index("stage")
    assert stages.loc["Proposal", "count"] == 1 and stages.loc["Proposal", "weighted"] == 40_000
    assert stages.loc["Negotiation", "weighted"] == 40_000
    assert list(stages.index[:2]) == ["Lead", "Qualified"]  # every stage, in order, even when empty
    assert len(store.open_opportunities(owner="boss")) == 1
    assert len(store.open_opportunities(close_from=dt.date(2029, 1, 1))) == 1

    lost = store.get_opportunity(second.id)
    lost.status = "lost"
    with pytest.raises(cc.ValidationError) as info:
        store.save_opportunity(lost, user="boss")
    assert "lost_reason" in info.value.errors
    lost.lost_reason = "Chose a competitor"
    store.save_opportunity(lost, user="boss")
    assert store.get_opportunity(second.id).status_changed_by == "boss"
    assert store.pipeline().set_index("stage").loc["Negotiation", "count"] == 0
    with pytest.raises(ValueError):
        first.probability = 120
    with pytest.raises(ValueError):
        first.amount = -1
    assert store.pipeline_per_year(a.id)["weighted"].sum() == 40_000


def test_crm_rows_in_demo_data(demo_store):
    customer_id = int(demo_store.sql("SELECT customer_id FROM opportunities LIMIT 1")["customer_id"][0])
    frame = demo_store.opportunities(customer_id)
    assert {"amount", "probability", "weighted", "stage", "status"} <= set(frame.columns)
    assert not demo_store.events().empty and not demo_store.pipeline().empty


def test_sums_are_in_the_base_currency(pair):
    store, a, _b = pair
    euros = store.new_opportunity(a.id)
    euros.param.update(title="Euro deal", amount=1000, currency="EUR", probability=50, stage="Lead")
    store.create_opportunity(euros, user="anna")
    rate = store.settings().rates()["EUR"]
    assert store.pipeline().set_index("stage").loc["Lead", "amount"] == pytest.approx(1000 * rate)
    assert store.pipeline_per_year(a.id)["weighted"].sum() == pytest.approx(500 * rate)
    settings = store.settings()
    settings.exchange_rates = "EUR twelve"
    with pytest.raises(cc.ValidationError) as info:
        store.save_settings(settings, user="boss")
    assert "exchange_rates" in info.value.errors


def test_a_new_opportunity_is_in_the_customers_invoicing_currency(demo_store):
    euro = demo_store.sql("SELECT min(c.id) AS id FROM customers c JOIN list_values v ON v.id = c.currency_id "
                          "WHERE v.label = 'EUR'")["id"][0]
    assert demo_store.new_opportunity(int(euro), owner="anna").currency == "EUR"
    plain = demo_store.create_customer(user="anna", name="No Currency AB")  # none of its own: the firm's
    assert demo_store.new_opportunity(plain.id, owner="anna").currency == demo_store.settings().base_currency


def test_an_event_or_opportunity_is_owned_by_an_active_manager_or_administrator(pair):
    store, a, _b = pair
    event = store.new_event(a.id, owner="vera")  # a viewer: she could not mark it done
    event.param.update(title="Review", event_type="Meeting", participants=["vera"])  # taking part is fine
    with pytest.raises(cc.ValidationError) as refused:
        store.create_event(event, user="anna")
    assert "cannot be the owner" in refused.value.errors["owner"]
    opportunity = store.new_opportunity(a.id, owner="vera")
    opportunity.param.update(title="Deal", stage="Lead")
    with pytest.raises(cc.ValidationError) as refused:
        store.create_opportunity(opportunity, user="anna")
    assert set(refused.value.errors) == {"owner"}
    opportunity.owner = "anna"
    made = store.create_opportunity(opportunity, user="anna")
    anna = store.get_user("anna")
    anna.role = "viewer"
    store.update_user(anna, by="boss")
    kept = store.get_opportunity(made.id)  # its owner is a viewer now: it stays hers until reassigned
    kept.title = "Deal, renamed"
    assert store.save_opportunity(kept, user="boss").owner == "anna"


def test_an_opportunity_s_amount_is_bounded_when_it_is_saved(pair):
    store, a, _b = pair
    opportunity = store.new_opportunity(a.id, owner="anna")
    opportunity.param.update(title="Too big", stage="Lead", amount=99_999_999_999_999_999)  # 17 digits
    with pytest.raises(cc.ValidationError) as refused:  # the database keeps 16: told, not a crash
        store.create_opportunity(opportunity, user="anna")
    assert refused.value.errors == {"amount": "Must be at most 1,000,000,000,000."}
    opportunity.amount = 1_000_000_000_000
    made = store.create_opportunity(opportunity, user="anna")
    assert made.amount == 1_000_000_000_000
    # one stored larger before the bound still reads and saves as long as its amount is left as it is
    store.db.execute("UPDATE opportunities SET amount = 5000000000000 WHERE id = ?", [made.id])
    kept = store.get_opportunity(made.id)
    kept.title = "Too big, renamed"
    assert store.save_opportunity(kept, user="anna").amount == 5_000_000_000_000


def test_an_opportunity_in_a_currency_without_an_exchange_rate_is_refused_until_there_is_one(demo_store):
    """An administrator added CHF to the currencies but no rate: a CHF 1,000,000 opportunity was added up as SEK
    1,000,000 on the board, the pipeline, the home page and the card."""
    store = demo_store
    store.add_list_value("currencies", "CHF", user="admin")
    customer_id = int(store.sql("SELECT min(id) AS id FROM customers WHERE NOT archived")["id"][0])
    deal = store.new_opportunity(customer_id, owner="anna")
    deal.param.update(title="Swiss deal", amount=1_000_000.0, currency="CHF")
    with pytest.raises(cc.ValidationError) as refused:
        store.create_opportunity(deal, user="anna")
    assert "no exchange rate for CHF" in refused.value.errors["currency"]
    settings = store.settings()
    settings.exchange_rates = settings.exchange_rates + ", CHF 11.80"
    store.save_settings(settings, user="admin")
    made = store.create_opportunity(deal, user="anna")
    row = store.opportunities(customer_id).set_index("id").loc[made.id]
    assert row["amount_base"] == pytest.approx(11_800_000.0)
