"""The CRM sections of the card and the pipeline page, without a browser."""

from __future__ import annotations

import datetime as dt

import pytest

from customercard import formatting
from customercard.i18n import _, using_language
from customercard.ui.card import CustomerCard
from customercard.ui.pipeline import PipelineTable

from .conftest import rich_customers
from .ui_support import labelled, pane_text


def test_sections_follow_the_seed_then_crm(demo_store):
    card = CustomerCard(store=demo_store, customer_id=rich_customers(demo_store)[0], user="anna")
    assert [s.key for s in card.sections][-4:] == ["invoiced", "relations", "events", "opportunities"]


def test_add_a_relation_and_see_the_inverse_on_the_other_card(demo_store):
    one, other = rich_customers(demo_store)[:2]
    other_name = demo_store.get_customer(other).name
    card = CustomerCard(store=demo_store, customer_id=one, user="anna")
    section = card.section("relations")
    section.handle("add-relation", {})
    form = section.view.child
    labelled(form, "Relation").value = "Parent company of"
    labelled(form, "To customer or contact person").value_input = other_name
    assert labelled(form, "Choose").value == ("customer", other)
    labelled(form, "Note").value = "Bought in 2024"
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
    form = section.form
    form.widgets["title"].value = "Strategy meeting"
    form.widgets["event_type"].value = "Meeting"
    form.widgets["participants"].value = ["erik"]
    section.editor.save()  # Save
    planned = demo_store.events(customer_id, status="planned")
    event = planned[planned["title"] == "Strategy meeting"].iloc[0]
    assert "Strategy meeting" in section.view.html and 'data-action="event-done"' in section.view.html
    section.handle("open-event", {"id": str(int(event.id))})
    assert "cc-event-details" in section.view.html and "Erik Nilsson" in section.view.html
    section.handle("event-done", {"id": str(int(event.id))})
    done = demo_store.get_event(int(event.id))
    assert done.status == "done" and done.status_changed_by == "anna"
    section.handle("event-filter", {"value": "done"})
    assert "Strategy meeting" in section.view.html and "cancelled" not in section.view.html.split("<h3>")[1]


def test_event_validation_shows_in_the_form(demo_store):
    customer_id = rich_customers(demo_store)[0]
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("events")
    section.handle("new-event", {})
    section.form.widgets["title"].value = ""
    section.editor.save()
    assert "title" in section.form.messages["title"].object.lower() or "needs a title" in \
        section.form.messages["title"].object


def test_create_win_and_lose_opportunities(demo_store):
    customer_id = rich_customers(demo_store)[1]
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("opportunities")
    section.handle("new-opportunity", {})
    form = section.form
    form.widgets["title"].value = "Big audit"
    form.widgets["amount"].value = "250 000"  # as people type it
    form.widgets["probability"].value = "60"
    section.editor.save()
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
        section.form.widgets["lost_reason"].value = ""
        section.editor.save()
        assert demo_store.get_opportunity(target).status == "pipeline"  # a reason is required
        section.form.widgets["lost_reason"].value = "Price"
        section.editor.save()
        lost = demo_store.get_opportunity(target)
        assert lost.status == "lost" and lost.lost_reason == "Price"


def test_won_or_done_by_mistake_is_put_back_from_the_edit_form(demo_store):
    customer_id = rich_customers(demo_store)[1]
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("opportunities")
    section.handle("new-opportunity", {})
    section.form.widgets["title"].value = "Clicked by mistake"
    section.editor.save()
    made = demo_store.opportunities(customer_id)
    made_id = int(made[made["title"] == "Clicked by mistake"].iloc[0]["id"])
    section.handle("won", {"id": str(made_id)})
    assert demo_store.get_opportunity(made_id).status == "won"
    section.handle("edit-opportunity", {"id": str(made_id)})
    assert section.form.widgets["status"].value == "won"
    section.form.widgets["status"].value = "pipeline"
    section.editor.save()
    back = demo_store.get_opportunity(made_id)
    assert back.status == "pipeline" and back.status_changed_by == "anna"
    section.handle("new-opportunity", {})
    assert "status" not in section.form.widgets  # a new one starts in the pipeline

    events = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("events")
    events.handle("new-event", {})
    assert "status" not in events.form.widgets
    events.form.widgets["title"].value = "Done too soon"
    events.form.widgets["event_type"].value = "Meeting"
    events.editor.save()
    planned = demo_store.events(customer_id, status="planned")
    event_id = int(planned[planned["title"] == "Done too soon"].iloc[0]["id"])
    events.handle("event-done", {"id": str(event_id)})
    events.handle("edit-event", {"id": str(event_id)})
    events.form.widgets["status"].value = "planned"
    events.editor.save()
    assert demo_store.get_event(event_id).status == "planned"


def test_an_opportunity_out_of_bounds_is_refused_with_messages_not_changed(demo_store):
    customer_id = rich_customers(demo_store)[1]
    before = len(demo_store.opportunities(customer_id))
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("opportunities")
    section.handle("new-opportunity", {})
    form = section.form
    form.widgets["title"].value = "Too sure"
    form.widgets["amount"].value = "-5"
    form.widgets["probability"].value = "150"
    section.editor.save()
    assert "at most 100" in form.messages["probability"].object
    assert "at least 0" in form.messages["amount"].object
    assert len(demo_store.opportunities(customer_id)) == before
    # every problem at the first Save: the title missing too, not only after the amount is mended
    form.widgets["title"].value = ""
    section.editor.save()
    assert form.messages["title"].object and "at least 0" in form.messages["amount"].object
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
    page = PipelineTable(store=demo_store, user="anna")
    table = page.frame
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
    assert "Say why" in page.message
    assert page.change(int(first["id"]), "status", "won")
    assert int(first["id"]) not in set(page.frame["id"])
    owner = demo_store.users().iloc[0]["login"]
    page.owner = owner
    assert set(page.frame["owner_name"]) <= {demo_store.user_name(owner)}
    page.owner = ""
    page.close_from = dt.date.today() + dt.timedelta(days=365)
    # the table keeps dates as ISO text (sorted as dates; shown as the reader's language writes them)
    assert all(dt.date.fromisoformat(d) >= page.close_from for d in page.frame["expected_close"])


def test_pipeline_groups_come_in_the_pipeline_order(demo_store):
    page = PipelineTable(store=demo_store, user="anna")
    stages = demo_store.choices().allowed("opportunity_stages")
    shown = list(dict.fromkeys(page.frame["stage"]))
    assert len(shown) > 2 and shown == [stage for stage in stages if stage in shown]
    closes = page.frame.groupby("stage", sort=False)["expected_close"]
    assert all(group.is_monotonic_increasing for _stage, group in closes)  # soonest first within a stage


@pytest.mark.parametrize("language, caption, status", [("sv", "Affärsmöjligheter", "i pipeline"),
                                                        ("da", "Salgsmuligheder", "i pipeline"),
                                                        ("en", "Opportunities", "pipeline")])
def test_the_pipeline_table_speaks_the_readers_language(demo_store, language, caption, status):
    """The plain table of the pipeline says its headers, caption, statuses, amounts and dates as the reader's
    language writes them (what Tabulator's locale did before), and its row groups are the stages."""
    with using_language(language):
        page = PipelineTable(store=demo_store, user="anna")
        table, count = page.table, pane_text(page, "cc-pipeline-count")
        assert table.caption == caption and [c["label"] for c in table.columns][:2] == [_("Customer"),
                                                                                       _("Opportunity")]
        rows = [row for row in table.rows if "_group" not in row]
        groups = [row["_group"] for row in table.rows if "_group" in row]
        frame = page.frame.set_index("id")
        for row in rows:
            stored = frame.loc[row["_id"]]
            assert row["status"] == status
            assert row["amount"] == formatting.number(stored["amount"], language=language)
            assert row["weighted"] == formatting.number(stored["weighted"], language=language)
            if stored["expected_close"]:
                day = dt.date.fromisoformat(stored["expected_close"])
                assert row["expected_close"] == formatting.date(day, language=language)
        big = next(row["amount"] for row in rows if frame.loc[row["_id"], "amount"] >= 10_000)
        assert {"sv": "\u00a0", "da": ".", "en": ","}[language] in big
        assert groups == list(dict.fromkeys(page.frame["stage"].iloc[:len(rows)]))
        assert _("Opportunities {first}–{last} of {total}").format(first=1, last=len(rows),
                                                                   total=len(page.frame)) in count


def test_pipeline_refuses_viewers(demo_store):
    page = PipelineTable(store=demo_store, user="vera")
    first = page.frame.iloc[0]
    assert not page.change(int(first["id"]), "amount", 1.0)
    assert "viewer" in page.message or "may not" in page.message


def test_the_invoiced_chart_colours_each_bar_by_its_series():
    import holoviews as hv
    import pandas as pd

    from customercard.ui.sections.invoiced import (
        INVOICED,
        INVOICED_COLOUR,
        PIPELINE,
        PIPELINE_COLOUR,
        bar_chart,
        chart_html,
        chart_spec,
    )

    figures = pd.DataFrame({"year": [2021, 2022, 2023], "amount": [100.0, 200.0, 300.0]})
    pipeline = pd.DataFrame({"year": [2023, 2024], "weighted": [50.0, 60.0]})
    # the card's chart: each series' amount per year, in its colour, over every year shown
    spec = chart_spec(figures, "SEK", pipeline)
    assert spec["years"] == ["2021", "2022", "2023", "2024"]
    drawn = {(year, series["name"]): (amount, series["colour"]) for series in spec["series"]
             for year, amount in zip(spec["years"], series["amounts"], strict=True)}
    assert drawn[("2022", INVOICED)] == (200.0, INVOICED_COLOUR) and drawn[("2024", INVOICED)] == (0.0, INVOICED_COLOUR)
    assert drawn[("2023", PIPELINE)] == (50.0, PIPELINE_COLOUR) and drawn[("2021", PIPELINE)] == (0.0, PIPELINE_COLOUR)
    assert [label for label, _f in spec["tip"]] == ["Year", "Series", "Amount"]
    assert [text for _v, text in spec["ticks"]] == ["0", "50", "100", "150", "200", "250", "300"]
    far = chart_spec(figures, "SEK", pd.DataFrame({"year": [2017], "weighted": [10.0]}))  # typed far off
    assert far["years"] == [str(year) for year in range(2017, 2024)]  # the years between are there, as 0
    someday = chart_spec(figures, "SEK", pd.DataFrame({"year": [9999], "weighted": [10.0]}))
    assert someday["years"] == ["2021", "2022", "2023", "9999"]  # not eight thousand bars
    spec = chart_spec(figures, "SEK")  # without the pipeline: one series, the hover without it
    assert [series["name"] for series in spec["series"]] == [INVOICED] and spec["years"][-1] == "2023"
    assert [label for label, _f in spec["tip"]] == ["Year", "Invoiced"]
    html = chart_html(spec, 'Chart "<b>"')  # a picture with its name, its figures as data, all escaped
    assert 'role="img" aria-label="Chart &quot;&lt;b&gt;&quot;"><canvas' in html and "<b>" not in html
    assert 'data-action="invoiced-year"' in html and "&quot;years&quot;" in html
    # the analysts' HoloViews bars: the same colours, series by series
    plot = hv.renderer("bokeh").get_plot(bar_chart(figures, "SEK", pipeline))
    data = plot.handles["source"].data
    mapper = plot.handles["glyph"].fill_color.transform
    colours = dict(zip(mapper.factors, mapper.palette, strict=True))
    drawn = {(year, series): (amount, colours[key])
             for year, series, key, amount in zip(data["year"], data["series"], data["color"], data["amount"],
                                                  strict=True)}
    blue, orange = colours[INVOICED], colours[PIPELINE]
    assert (blue, orange) == (INVOICED_COLOUR, PIPELINE_COLOUR)
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


def test_the_pipeline_refuses_a_change_made_from_a_stale_row(demo_store):
    """Anna's table still shows 78 000 after Erik saved 80 000: her 90 000 is refused, Erik's stays, and she sees
    his value and name."""
    anna = PipelineTable(store=demo_store, user="anna")
    erik = PipelineTable(store=demo_store, user="erik")
    row = anna.frame.iloc[0]
    opportunity_id, seen = int(row["id"]), int(row["version"])
    erik_row = erik.frame[erik.frame["id"] == opportunity_id].iloc[0]
    assert erik.change(opportunity_id, "amount", 80000, version=int(erik_row["version"]))
    assert anna.change(opportunity_id, "amount", 90000, version=seen) is False
    assert demo_store.get_opportunity(opportunity_id).amount == 80000.0
    assert "Erik Nilsson" in anna.message and "80" in anna.message
    fresh = anna.frame[anna.frame["id"] == opportunity_id].iloc[0]
    assert fresh["amount"] == 80000.0 and int(fresh["version"]) == seen + 1
    assert anna.change(opportunity_id, "amount", 90000, version=int(fresh["version"]))  # from what she now sees
    assert demo_store.get_opportunity(opportunity_id).amount == 90000.0


def test_a_comment_edit_meets_the_conflict_and_a_late_save_brings_it_back(demo_store):
    from customercard.ui.card import CustomerCard as Card

    customer_id = rich_customers(demo_store)[0]
    comment_id = int(demo_store.comments(customer_id).iloc[0]["id"])
    section = Card(store=demo_store, customer_id=customer_id, user="anna").section("comments")
    editor = section.edit_comment(comment_id)

    def erik_writes(text: str) -> None:
        theirs = demo_store.get_comment(comment_id)
        theirs.body = text
        demo_store.edit_comment(theirs, user="erik")
    erik_writes("Erik's first text")
    editor.widgets["body"].value = "Anna's text"
    assert editor.save() is False and editor.resolver is not None
    assert "Someone saved this while" in editor.resolver.__panel__().objects[0].object  # a comment, not "customer"
    assert demo_store.get_comment(comment_id).body == "Erik's first text"
    erik_writes("Erik's second text")  # while Anna's choice is open
    assert editor.save() is False  # the choice was made against his first text: shown again
    assert demo_store.get_comment(comment_id).body == "Erik's second text"
    assert any("Erik's second text" in label for label in editor.resolver.choices["body"].options)
    assert editor.save() is True and section.editor is None
    assert demo_store.get_comment(comment_id).body == "Anna's text"
    history = demo_store.record_history("comments", comment_id)
    assert list(history["new_value"][:3]) == ["Anna's text", "Erik's second text", "Erik's first text"]


def test_done_on_an_event_someone_cancelled_meanwhile_is_refused(demo_store):
    customer_id = rich_customers(demo_store)[0]
    event = demo_store.new_event(customer_id, owner="anna")
    event.title = "Quarterly review"
    event = demo_store.create_event(event, user="anna")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    section = card.section("events")
    section.open()
    assert f'data-id="{event.id}" data-version="{event.version}"' in section.view.html
    demo_store.set_event_status(event.id, "cancelled", user="erik")
    section.handle("event-done", {"id": str(event.id), "version": str(event.version)})
    assert demo_store.get_event(event.id).status == "cancelled"
    assert "Erik Nilsson changed it meanwhile" in section.view.html


def test_a_date_at_the_calendar_s_ends_is_refused_and_one_stored_anyway_breaks_nothing(demo_store):
    """An event starting 9999-12-31 23:30 and a close in year 1 were kept without a word; the card's Events and
    Activity then could not be shown, and the board's month filter failed on December 9999."""
    import customercard as cc
    from customercard.ui.pipeline_board import PipelineBoard

    store = demo_store
    customer_id = rich_customers(store)[2]
    event = store.new_event(customer_id, owner="anna")
    event.param.update(title="Far away", starts_at=dt.datetime(9999, 12, 31, 23, 30))
    with pytest.raises(cc.ValidationError) as refused:
        store.create_event(event, user="anna")
    assert "Give a date from" in refused.value.errors["starts_at"]
    opportunity = store.new_opportunity(customer_id, owner="anna")
    opportunity.param.update(title="Long ago", amount=1000.0, expected_close=dt.date(1, 1, 1))
    with pytest.raises(cc.ValidationError) as refused:
        store.create_opportunity(opportunity, user="anna")
    assert "Give a date from" in refused.value.errors["expected_close"]

    event.param.update(starts_at=dt.datetime(2030, 1, 1, 10), ends_at=dt.datetime(2030, 1, 1, 11))
    made = store.create_event(event, user="anna")  # then written by another program at the calendar's end
    store.db.execute("UPDATE events SET starts_at = ?, ends_at = ? WHERE id = ?",
                     [dt.datetime(9999, 12, 31, 23, 30), dt.datetime(9999, 12, 31, 23, 45), made.id])
    opportunity.expected_close = dt.date(2030, 1, 1)
    deal = store.create_opportunity(opportunity, user="anna")
    store.db.execute("UPDATE opportunities SET expected_close = ? WHERE id = ?", [dt.date(9999, 12, 1), deal.id])
    card = CustomerCard(store=store, customer_id=customer_id, user="anna")
    for key in ("events", "activity"):
        section = card.section(key)
        section.open()
        assert "could not be shown" not in section.view.html, key
    assert "Far away" in card.section("events").view.html
    board = PipelineBoard(store=store, user="anna")
    board.owner = ""  # everyone's
    board.close_month = "9999-12"
    assert int(board.summary["count"].sum()) == 1


def test_two_colleagues_of_one_name_are_both_offered_as_owners(demo_store):
    """Managers anna and anna2 both called "Anna Berg": New opportunity… offered the name once (a dict by name),
    so one of them could never be chosen as owner (of an event or a follow-up either)."""
    from customercard.models import User
    from customercard.ui.sections.crm import owner_choice

    demo_store.add_user(User(login="anna2", name="Anna Berg", role="manager"), password="correct horse 42",
                        by="admin")
    options = owner_choice(demo_store, "anna").options
    assert {"anna", "anna2"} <= set(options.values())
    assert {"Anna Berg (anna)", "Anna Berg (anna2)"} <= set(options)


def test_a_lost_form_meets_a_colleague_s_won_as_a_conflict_and_keeps_the_choice(demo_store):
    """The Lost form has one field (the reason) and sets status and probability as it saves: a colleague's Won
    saved meanwhile was written over unseen (won → lost, 100 → 0). Now it is a conflict on those fields; keeping
    the stored Won keeps it, choosing mine marks it lost."""
    customer_id = rich_customers(demo_store)[0]

    def fresh(title: str) -> int:
        opportunity = demo_store.new_opportunity(customer_id, owner="anna")
        opportunity.param.update(title=title, amount=1000.0, probability=50.0)
        return demo_store.create_opportunity(opportunity, user="anna").id

    for title, choice, status in (("Keep theirs", "stored", "won"), ("Use mine", "mine", "lost")):
        opportunity_id = fresh(title)
        section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("opportunities")
        seen = demo_store.get_opportunity(opportunity_id)
        section.handle("lost", {"id": opportunity_id, "version": seen.version})
        editor = section.editor
        editor.widgets["lost_reason"].value = "Went with a competitor"
        theirs = demo_store.get_opportunity(opportunity_id)
        theirs.param.update(status="won", probability=100.0)
        demo_store.save_opportunity(theirs, user="erik")
        assert editor.save() is False and set(editor.resolver.choices) >= {"status"}
        assert demo_store.get_opportunity(opportunity_id).status == "won"
        for group in editor.resolver.choices.values():
            group.value = choice
        assert editor.save() is True
        stored = demo_store.get_opportunity(opportunity_id)
        assert stored.status == status and stored.probability == (100.0 if status == "won" else 0.0)
        assert stored.lost_reason == ("Went with a competitor" if status == "lost" else "")  # won: no reason lost
    # with nobody in between, the form marks it lost at once
    opportunity_id = fresh("Plain lost")
    section = CustomerCard(store=demo_store, customer_id=customer_id, user="anna").section("opportunities")
    section.handle("lost", {"id": opportunity_id, "version": demo_store.get_opportunity(opportunity_id).version})
    section.editor.widgets["lost_reason"].value = "Budget cut"
    assert section.editor.save() is True
    stored = demo_store.get_opportunity(opportunity_id)
    assert (stored.status, stored.probability, stored.lost_reason) == ("lost", 0.0, "Budget cut")


def test_crm_writes_from_pages_drawn_before_the_module_was_switched_off_are_refused(demo_store):
    """An administrator switches the CRM module off while pages are open: the board's "Move to", the table's
    change, a card's New opportunity form and its Won button were all still saved (the HTTP API already answered
    404). Each is refused with a message now, and nothing is written."""
    from customercard.ui.pipeline_board import PipelineBoard

    store = demo_store
    customer_id = rich_customers(store)[0]
    board, table = PipelineBoard(store=store, user="anna"), PipelineTable(store=store, user="anna")
    card = CustomerCard(store=store, customer_id=customer_id, user="anna")
    opportunities = card.section("opportunities")
    mine = store.new_opportunity(customer_id, owner="anna")
    mine.title = "Open before"
    mine = store.create_opportunity(mine, user="anna")
    opportunities.handle("new-opportunity", {})
    opportunities.form.widgets["title"].value = "Made after CRM off"
    first = store.open_opportunities().iloc[0]
    moving = store.get_opportunity(int(first["id"]))
    stages = store.choices().allowed("opportunity_stages")
    other_stage = next(stage for stage in stages if stage != moving.stage)
    settings = store.settings()
    settings.crm_enabled = False
    store.save_settings(settings, user="admin")
    before = len(store.record_history("opportunities", moving.id))

    assert board.move(moving.id, other_stage, moving.version) is False
    assert "switched off" in board.message
    assert table.change(moving.id, "stage", other_stage, moving.version) is False
    assert opportunities.editor.save() is False
    assert "switched off" in opportunities.view.child.objects[-1].object + opportunities.view.html
    opportunities.handle("won", {"id": mine.id, "version": mine.version})
    assert store.get_opportunity(mine.id).status == "pipeline"
    assert store.get_opportunity(moving.id).stage == moving.stage
    assert store.get_opportunity(moving.id).status == moving.status
    assert len(store.record_history("opportunities", moving.id)) == before
    assert "Made after CRM off" not in set(store.opportunities(customer_id)["title"])
    settings = store.settings()
    settings.crm_enabled = True
    store.save_settings(settings, user="admin")
    assert board.move(moving.id, other_stage, moving.version) is True  # on again: as before
