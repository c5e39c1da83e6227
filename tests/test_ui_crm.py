"""The CRM sections of the card and the pipeline page, without a browser."""

from __future__ import annotations

import datetime as dt

from customercard.ui.card import CustomerCard
from customercard.ui.pipeline import PipelinePage

from .conftest import rich_customers


def test_sections_follow_the_seed_then_crm(demo_store):
    card = CustomerCard(store=demo_store, customer_id=rich_customers(demo_store)[0], user="anna")
    assert [s.key for s in card.sections][-4:] == ["invoiced", "relations", "events", "opportunities"]


def test_add_a_relation_and_see_the_inverse_on_the_other_card(demo_store):
    one, other = rich_customers(demo_store)[:2]
    other_name = demo_store.get_customer(other).name
    card = CustomerCard(store=demo_store, customer_id=one, user="anna")
    section = card.section("relations")
    section.handle("add-relation", {})
    section._type.value = "Parent company of"
    section._find.value_input = other_name
    assert section._target.value == ("customer", other)
    section._note_input.value = "Bought in 2024"
    assert section.add_relation()
    assert "Parent company of" in section.view.html and other_name in section.view.html
    theirs = CustomerCard(store=demo_store, customer_id=other, user="anna").section("relations")
    theirs.open()
    assert "Subsidiary of" in theirs.view.html and f"/card?customer={one}" in theirs.view.html
    relation_id = int(demo_store.relations(one).iloc[-1]["id"])
    section.handle("remove-relation", {"id": str(relation_id)})
    assert relation_id not in set(demo_store.relations(one)["id"])


def test_a_relation_to_a_contact_person_shows_on_the_card_and_on_the_contact_card(demo_store):
    """Relations to contact persons showed '(nan)' and '(10008.0)', and not at all on the person's card."""
    from customercard.models import Relation
    from customercard.ui.contact import ContactCard

    one, other = rich_customers(demo_store)[:2]
    person = demo_store.contacts(other).iloc[0]
    demo_store.add_relation(Relation(customer_id=one, relation_type="Board member at",
                                     other_contact_id=int(person.id), note="Chairs the board"), user="anna")
    demo_store.add_relation(Relation(customer_id=one, relation_type="Partner of", other_customer_id=other),
                            user="anna")
    section = CustomerCard(store=demo_store, customer_id=one, user="anna").section("relations")
    section.open()
    html = section.view.html
    assert "nan" not in html and ".0)" not in html
    other_number = demo_store.get_customer(other).number
    assert f"({other_number})" in html and f'href="/contact?contact={int(person.id)}"' in html
    card = ContactCard(store=demo_store, contact_id=int(person.id), user="anna")
    mine = card.markup()
    one_customer = demo_store.get_customer(one)
    assert f'href="/card?customer={one}"' in mine and f"({one_customer.number})" in mine
    assert "Chairs the board" in mine
    inverse = demo_store.contact_relations(int(person.id)).iloc[0]
    assert inverse.label in mine and inverse.other_name == one_customer.name and inverse.direction == "in"


def test_plan_an_event_open_it_and_mark_it_done(demo_store):
    customer_id = rich_customers(demo_store)[0]
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("events")
    section.handle("new-event", {})
    form = section._form
    form.widgets["title"].value = "Strategy meeting"
    form.widgets["event_type"].value = "Meeting"
    form.widgets["participants"].value = ["erik"]
    section.view.child.objects[2].objects[0].clicks += 1  # Save
    planned = demo_store.events(customer_id, status="planned")
    event = planned[planned["title"] == "Strategy meeting"].iloc[0]
    assert "Strategy meeting" in section.view.html and 'data-action="event-done"' in section.view.html
    section.handle("open-event", {"id": str(int(event.id))})
    assert "cc-event-details" in section.view.html and "Erik Nilsson" in section.view.html
    section.handle("event-done", {"id": str(int(event.id))})
    done = demo_store.get_event(int(event.id))
    assert done.status == "done" and done.status_changed_by == "anna"
    section.handle("event-filter", {"value": "done"})
    assert "Strategy meeting" in section.view.html and "cancelled" not in section.view.html.split("<h4>")[1]


def test_event_validation_shows_in_the_form(demo_store):
    customer_id = rich_customers(demo_store)[0]
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("events")
    section.handle("new-event", {})
    section._form.widgets["title"].value = ""
    section.view.child.objects[2].objects[0].clicks += 1
    assert "title" in section._form.messages["title"].object.lower() or "needs a title" in \
        section._form.messages["title"].object


def test_create_win_and_lose_opportunities(demo_store):
    customer_id = rich_customers(demo_store)[1]
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("opportunities")
    section.handle("new-opportunity", {})
    form = section._form
    form.widgets["title"].value = "Big audit"
    form.widgets["amount"].value = "250 000"  # as people type it
    form.widgets["probability"].value = "60"
    section.view.child.objects[2].objects[0].clicks += 1
    frame = demo_store.opportunities(customer_id)
    new = frame[frame["title"] == "Big audit"].iloc[0]
    assert new.status == "pipeline" and new.weighted == 150000
    assert "In the pipeline" in section.view.html
    section.handle("won", {"id": str(int(new.id))})
    assert demo_store.get_opportunity(int(new.id)).status == "won"
    second = demo_store.opportunities(customer_id, status="pipeline")
    if not second.empty:
        target = int(second.iloc[0]["id"])
        section.handle("lost", {"id": str(target)})
        section._form.widgets["lost_reason"].value = ""
        section.view.child.objects[2].objects[0].clicks += 1
        assert demo_store.get_opportunity(target).status == "pipeline"  # a reason is required
        section._form.widgets["lost_reason"].value = "Price"
        section.view.child.objects[2].objects[0].clicks += 1
        lost = demo_store.get_opportunity(target)
        assert lost.status == "lost" and lost.lost_reason == "Price"


def test_an_opportunity_out_of_bounds_is_refused_with_messages_not_changed(demo_store):
    customer_id = rich_customers(demo_store)[1]
    before = len(demo_store.opportunities(customer_id))
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("opportunities")
    section.handle("new-opportunity", {})
    form = section._form
    form.widgets["title"].value = "Too sure"
    form.widgets["amount"].value = "-5"
    form.widgets["probability"].value = "150"
    section.view.child.objects[2].objects[0].clicks += 1
    assert "at most 100" in form.messages["probability"].object
    assert "at least 0" in form.messages["amount"].object
    assert len(demo_store.opportunities(customer_id)) == before


def test_viewer_gets_no_crm_controls(demo_store):
    card = CustomerCard(store=demo_store, customer_id=rich_customers(demo_store)[0], user="vera")
    for key in ("relations", "events", "opportunities"):
        section = card.section(key)
        section.open()
        assert "data-action=\"new-" not in section.view.html and "add-relation" not in section.view.html
        section.handle("new-event", {})
        section.handle("new-opportunity", {})
        assert section.view.child is None


def test_pipeline_page_sums_filters_and_edits(demo_store):
    page = PipelinePage(store=demo_store, user="anna")
    table = page._table.value
    assert set(table["status"]) == {"pipeline"} and not table.empty
    total_before = demo_store.pipeline()["weighted"].sum()
    first = table.iloc[0]
    stages = demo_store.choices().allowed("opportunity_stages")
    new_stage = next(s for s in stages if s != first["stage"])
    assert page.change(int(first["id"]), "stage", new_stage)
    assert demo_store.get_opportunity(int(first["id"])).stage == new_stage
    assert page.change(int(first["id"]), "amount", float(first["amount"]) * 2)
    assert demo_store.pipeline()["weighted"].sum() > total_before
    assert not page.change(int(first["id"]), "status", "lost")  # needs a reason
    assert "Say why" in page._message.object
    assert page.change(int(first["id"]), "status", "won")
    assert int(first["id"]) not in set(page._table.value["id"])
    owner = demo_store.users().iloc[0]["login"]
    page.owner = owner
    assert set(page._table.value["owner_name"]) <= {demo_store.user_name(owner)}
    page.owner = ""
    page.close_from = dt.date.today() + dt.timedelta(days=365)
    assert all(d >= page.close_from for d in page._table.value["expected_close"])


def test_pipeline_groups_come_in_the_pipeline_order(demo_store):
    page = PipelinePage(store=demo_store, user="anna")
    stages = demo_store.choices().allowed("opportunity_stages")
    shown = list(dict.fromkeys(page._table.value["stage"]))
    assert len(shown) > 2 and shown == [stage for stage in stages if stage in shown]
    closes = page._table.value.groupby("stage", sort=False)["expected_close"]
    assert all(group.is_monotonic_increasing for _stage, group in closes)  # soonest first within a stage


def test_pipeline_refuses_viewers(demo_store):
    page = PipelinePage(store=demo_store, user="vera")
    first = page._table.value.iloc[0]
    assert not page.change(int(first["id"]), "amount", 1.0)
    assert "viewer" in page._message.object or "may not" in page._message.object


def test_the_invoiced_chart_colours_each_bar_by_its_series():
    import holoviews as hv
    import pandas as pd

    from customercard.ui.sections.invoiced import INVOICED, PIPELINE, bar_chart

    figures = pd.DataFrame({"year": [2021, 2022, 2023], "amount": [100.0, 200.0, 300.0]})
    pipeline = pd.DataFrame({"year": [2023, 2024], "weighted": [50.0, 60.0]})
    plot = hv.renderer("bokeh").get_plot(bar_chart(figures, "SEK", pipeline))
    data = plot.handles["source"].data
    mapper = plot.handles["glyph"].fill_color.transform
    colours = dict(zip(mapper.factors, mapper.palette, strict=True))
    drawn = {(year, series): (amount, colours[key])
             for year, series, key, amount in zip(data["year"], data["series"], data["color"], data["amount"],
                                                  strict=True)}
    blue, orange = colours[INVOICED], colours[PIPELINE]
    assert blue != orange
    assert drawn[("2022", INVOICED)] == (200.0, blue) and drawn[("2023", INVOICED)] == (300.0, blue)
    assert drawn[("2023", PIPELINE)] == (50.0, orange) and drawn[("2024", PIPELINE)] == (60.0, orange)
    assert all(colour == (blue if series == INVOICED else orange) for (_y, series), (_a, colour) in drawn.items())


def test_opportunity_sums_say_when_other_currencies_were_converted(demo_store):
    def section_html(currency: str) -> str:
        customer_id = int(demo_store.sql(  # a customer whose opportunities are all in this currency
            "SELECT min(customer_id) AS id FROM (SELECT customer_id FROM opportunities GROUP BY customer_id "
            "HAVING min(currency) = ? AND max(currency) = ?) AS one", [currency, currency])["id"][0])
        section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("opportunities")
        section.open()
        return section.view.html

    base = demo_store.settings().base_currency
    assert base == "SEK"
    assert "Sums in SEK; EUR converted at the exchange rates in the settings." in section_html("EUR")
    assert "cc-opp-converted" not in section_html("SEK")
