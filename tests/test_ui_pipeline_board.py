"""The pipeline board without a browser: columns, sums, moves on a version, filters, more cards, viewers."""

from __future__ import annotations

import pandas as pd
import panel as pn

from customercard import formatting
from customercard.i18n import using_language
from customercard.ui.pipeline import PAGE_SIZE, PipelinePage, PipelineTable
from customercard.ui.pipeline_board import FIRST_CARDS, MORE_CARDS, PipelineBoard

from .ui_support import labelled, one


def shown_markup(board: PipelineBoard) -> str:
    """The board's message as drawn (its class says whether it is an error)."""
    return one(board, pn.pane.HTML, "cc-board-message").object


def columns(board: PipelineBoard) -> dict[str, dict]:
    return {c["stage"]: c for c in board.board.columns}


def test_a_column_per_stage_with_its_count_sum_and_weighted_sum(demo_store):
    with using_language("en"):
        board = PipelineBoard(store=demo_store, user="anna")
    stages = demo_store.choices().allowed("opportunity_stages")
    assert [c["stage"] for c in board.board.columns][:len(stages)] == list(stages)
    summary = demo_store.pipeline().set_index("stage")
    base = demo_store.settings().base_currency
    for stage, column in columns(board).items():
        count = int(summary.loc[stage, "count"]) if stage in summary.index else 0
        assert column["count"] == formatting.number(count, language="en")
        assert len(column["cards"]) == min(count, FIRST_CARDS)
        assert column["more"] == max(0, count - FIRST_CARDS)
        if count:
            assert column["sum"] == "Sum " + formatting.money(summary.loc[stage, "amount"], base, language="en")
            assert column["weighted"] == "Weighted " + formatting.money(summary.loc[stage, "weighted"], base,
                                                                         language="en")
    card = next(c for col in board.board.columns for c in col["cards"])
    assert {"id", "version", "title", "customer", "href", "amount", "probability", "close", "owner"} <= set(card)
    assert board.board.can_move
    # a percentage as everywhere in the language (the card's Opportunities say '40%' in English, '40 %' in Swedish)
    probability = demo_store.get_opportunity(card["id"]).probability
    assert card["probability"] == formatting.percent(probability, language="en") == f"{probability:.0f}%"
    with using_language("sv"):
        swedish = PipelineBoard(store=demo_store, user="anna")
    same = next(c for col in swedish.board.columns for c in col["cards"] if c["id"] == card["id"])
    assert same["probability"] == f"{probability:.0f}\u00a0%"  # (a space that keeps the sign with its number)


def test_a_move_is_saved_on_the_version_the_card_showed_and_a_stale_one_is_refused(demo_store):
    anna = PipelineBoard(store=demo_store, user="anna")
    erik = PipelineBoard(store=demo_store, user="erik")
    stages = list(demo_store.choices().allowed("opportunity_stages"))
    card = columns(anna)[stages[0]]["cards"][0]
    # as the browser sends it
    anna.board.receive({"action": "move", "id": card["id"], "version": card["version"], "stage": stages[1]})
    stored = demo_store.get_opportunity(card["id"])
    assert stored.stage == stages[1] and stored.version == card["version"] + 1
    assert "Moved" in anna.message or "Flyttade" in anna.message
    moved = columns(anna)[stages[1]]
    assert card["id"] not in {c["id"] for c in columns(anna)[stages[0]]["cards"]}
    assert card["id"] in {c["id"] for c in moved["cards"]} or moved["more"] > 0
    # Erik's board still drew the card at the old version: his move is a conflict naming the stored stage
    with using_language("en"):
        assert not erik.move(card["id"], stages[2], card["version"])
    assert demo_store.get_opportunity(card["id"]).stage == stages[1]  # nothing of Erik's written
    assert "cc-board-error" in shown_markup(erik) and "Not saved" in erik.message
    assert f"Stage is now {stages[1]}" in erik.message
    history = demo_store.record_history("opportunities", card["id"])
    assert "erik" not in set(history["changed_by"]) and "anna" in set(history["changed_by"])


def test_filters_by_owner_close_month_and_customer(demo_store):
    board = PipelineBoard(store=demo_store, user="anna")
    everything = demo_store.open_opportunities()
    owner = everything["owner"].mode().iloc[0]
    board.owner = owner
    assert set(board.frame["owner"]) == {owner}
    month = pd.to_datetime(board.frame["expected_close"]).dt.strftime("%Y-%m").mode().iloc[0]
    assert month in labelled(board, "Expected to close in").options.values()
    board.close_month = month
    assert set(pd.to_datetime(board.frame["expected_close"]).dt.strftime("%Y-%m")) == {month}
    name = board.frame["customer_name"].iloc[0]
    board.customer = name[1:6].upper()
    assert len(board.frame) >= 1 and all(name[1:6].casefold() in n.casefold() for n in board.frame["customer_name"])
    shown = sum(len(c["cards"]) + c["more"] for c in board.board.columns)
    closes = pd.to_datetime(everything["expected_close"]).dt.strftime("%Y-%m")
    expected = everything[(everything["owner"] == owner) & (closes == month)
                          & everything["customer_name"].str.casefold().str.contains(name[1:6].casefold(), regex=False)]
    assert shown == len(expected)
    board.customer = "no customer is called this"
    assert all(not c["cards"] for c in board.board.columns)


def test_show_more_draws_more_of_one_column(demo_store):
    board = PipelineBoard(store=demo_store, user="anna")
    stage, column = max(columns(board).items(), key=lambda item: item[1]["more"])
    assert column["more"] > 0, "the demo has a stage with more than one screen of cards"
    total = len(column["cards"]) + column["more"]
    board.board.receive({"action": "more", "stage": stage})
    assert len(columns(board)[stage]["cards"]) == min(total, FIRST_CARDS + MORE_CARDS)
    others = [c for s, c in columns(board).items() if s != stage]
    assert all(len(c["cards"]) <= FIRST_CARDS for c in others)


def test_viewers_see_the_board_read_only(demo_store):
    board = PipelineBoard(store=demo_store, user="vera")
    assert not board.board.can_move
    stages = list(demo_store.choices().allowed("opportunity_stages"))
    card = columns(board)[stages[0]]["cards"][0]
    board.board.receive({"action": "move", "id": card["id"], "version": card["version"], "stage": stages[1]})
    assert demo_store.get_opportunity(card["id"]).stage == stages[0]
    assert "cc-board-error" in shown_markup(board)
    assert board.open_editor(card["id"]) is None


def test_the_page_shows_the_board_by_default_and_the_table_when_asked(demo_store):
    page = PipelinePage(store=demo_store, user="anna")
    assert isinstance(page.body, PipelineBoard)
    assert 'aria-current="page"' in page.views_nav().split("</a>")[0]
    table = PipelinePage(store=demo_store, user="anna", view="table")
    assert isinstance(table.body, PipelineTable)
    assert 'href="/pipeline?view=table" data-view="table" aria-current="page"' in table.views_nav()


def test_the_board_speaks_the_readers_language(demo_store):
    with using_language("sv"):
        board = PipelineBoard(store=demo_store, user="anna")
        texts = board.board.texts
        column = next(c for c in board.board.columns if c["cards"])
    assert texts["move_to"] != "Move to…" and column["sum"].startswith("Summa")


def test_the_store_sums_the_board_and_picks_its_cards(demo_store):
    """pipeline_summary and pipeline_cards (the board's queries, in the database) against the pipeline's frame."""
    everything = demo_store.open_opportunities()
    summary = demo_store.pipeline_summary()
    by_stage = summary.groupby("stage")[["count", "amount", "weighted"]].sum()
    expected = everything.groupby("stage").agg(count=("id", "size"), amount=("amount_base", "sum"),
                                               weighted=("weighted_base", "sum"))
    assert by_stage["count"].to_dict() == expected["count"].to_dict()
    for column in ("amount", "weighted"):
        assert (by_stage[column] - expected[column]).abs().max() < 0.05
    months = pd.to_datetime(everything["expected_close"]).dt.to_period("M").value_counts()
    assert {pd.Period(m, "M"): int(c) for m, c in summary.groupby("month")["count"].sum().items()} == months.to_dict()
    cards = demo_store.pipeline_cards(per_stage=3)
    for stage, rows in everything.groupby("stage"):
        assert list(cards[cards["stage"] == stage]["id"]) == list(rows["id"][:3])
    owner = everything["owner"].iloc[0]
    name = everything["customer_name"].iloc[0]
    mine = demo_store.pipeline_cards(owner=owner, customer_text=name[2:7].upper(), per_stage=1000)
    wanted = everything[(everything["owner"] == owner)
                        & everything["customer_name"].str.lower().str.contains(name[2:7].lower(), regex=False)]
    assert sorted(mine["id"]) == sorted(wanted["id"]) and len(mine) >= 1
    assert demo_store.pipeline_summary(owner=owner, customer_text=name[2:7])["count"].sum() == len(wanted)


def test_an_edit_in_place_meets_a_move_made_meanwhile_as_a_conflict(demo_store):
    """Anna opens a card in the editor and changes its stage; Erik moves it meanwhile: her save is refused with his
    stage shown, nothing of hers is written until she chooses."""
    anna = PipelineBoard(store=demo_store, user="anna")
    erik = PipelineBoard(store=demo_store, user="erik")
    stages = list(demo_store.choices().allowed("opportunity_stages"))
    card = columns(anna)[stages[0]]["cards"][0]
    anna.board.receive({"action": "open", "id": card["id"]})
    editor = anna.editor
    assert editor is not None and editor.original.version == card["version"]
    assert erik.move(card["id"], stages[2], card["version"])
    editor.widgets["stage"].value = stages[1]
    assert not editor.save()
    assert editor.resolver is not None  # the conflict to resolve, with the stored value
    stored = demo_store.get_opportunity(card["id"])
    assert stored.stage == stages[2] and stored.version == card["version"] + 1
    history = demo_store.record_history("opportunities", card["id"])
    assert "anna" not in set(history["changed_by"])


def test_the_pipelines_people_filters_offer_who_can_own_or_manage_and_say_their_help_in_the_language(demo_store):
    """A viewer owns no opportunity and manages no customer: the board's and the table's lists of people leave them
    out (choosing one always showed nothing). The table's date filters explain themselves in the reader's
    language."""
    from customercard.i18n import _

    users = demo_store.users(include_inactive=True)
    viewers, managers = (set(users[users["role"] == role]["name"]) for role in ("viewer", "manager"))
    assert viewers and managers
    board = PipelineBoard(store=demo_store, user="anna")
    with using_language("sv"):
        table = PipelineTable(store=demo_store, user="anna")
        help_text = one(table.__panel__(), pn.widgets.DatePicker, "cc-close-from").description
        assert help_text == _("Expected to close on or after.") != "Expected to close on or after."
    choosers = [one(board.__panel__(), pn.widgets.Select, "cc-board-owner"),
                labelled(table.__panel__(), "Ägare"), labelled(table.__panel__(), "Kundansvarig")]
    for chooser in choosers:
        names = set(chooser.options)
        assert managers <= names and not viewers & names, chooser.name


def test_a_card_moved_into_a_full_column_is_drawn_there_so_the_keyboard_can_go_on_from_it(demo_store):
    """The column it goes to shows its first cards only, and the moved card sorts after them: it is drawn all the
    same (the browser puts the focus back on it; it fell to the page's start when the card was not drawn)."""
    import datetime as dt

    stages = list(demo_store.choices().allowed("opportunity_stages"))
    customer_id = int(demo_store.list_customers(limit=1)[0]["id"][0])
    target = stages[1]
    for i in range(FIRST_CARDS + 1):  # the column full of cards that close before the moved one
        early = demo_store.new_opportunity(customer_id, owner="anna")
        early.param.update(title=f"Early {i}", stage=target, amount=100.0, expected_close=dt.date(2000, 1, 1))
        demo_store.create_opportunity(early, user="anna")
    late = demo_store.new_opportunity(customer_id, owner="anna")
    late.param.update(title="Closes last", stage=stages[0], amount=100.0, expected_close=dt.date(2099, 12, 31))
    late = demo_store.create_opportunity(late, user="anna")
    board = PipelineBoard(store=demo_store, user="anna")
    board.board.receive({"action": "move", "id": late.id, "version": late.version, "stage": target})
    assert demo_store.get_opportunity(late.id).stage == target
    column = columns(board)[target]
    assert late.id in {card["id"] for card in column["cards"]}
    assert len(column["cards"]) == FIRST_CARDS + 1 and column["more"] == int(column["count"].replace(",", "")) - \
        FIRST_CARDS - 1


def test_a_stage_renamed_while_the_board_and_the_table_are_open_is_shown_under_its_new_name(demo_store):
    """An administrator renames a stage while a manager has the pipeline open: its column (and the table's
    rows) take the new name without a reload, with the same cards."""
    from .conftest import eventually

    with using_language("en"):
        board = PipelineBoard(store=demo_store, user="anna")
        table = PipelineTable(store=demo_store, user="anna")
    stage = next(stage for stage, column in columns(board).items() if column["cards"])
    ids = [card["id"] for card in columns(board)[stage]["cards"]]
    values = demo_store.list_values("opportunity_stages").set_index("label")
    demo_store.rename_list_value(int(values.loc[stage, "id"]), f"{stage} (renamed)", user="admin")
    eventually(lambda: f"{stage} (renamed)" in columns(board))  # (PostgreSQL tells through its listener)
    assert stage not in columns(board)
    assert [card["id"] for card in columns(board)[f"{stage} (renamed)"]["cards"]] == ids
    eventually(lambda: f"{stage} (renamed)" in set(table.frame["stage"]))


def test_a_probability_with_a_decimal_is_shown_with_it_on_the_board_and_the_card(demo_store):
    """12.5 was taken (the form's own hint says "like 12.5") and shown as "12%" — on the board and the card alike."""
    from customercard.ui.card import CustomerCard

    first = demo_store.open_opportunities().iloc[0]
    opportunity = demo_store.get_opportunity(int(first["id"]))
    opportunity.probability = 12.5
    demo_store.save_opportunity(opportunity, user="anna")
    with using_language("en"):
        board = PipelineBoard(store=demo_store, user="anna")
        shown = next(c for col in board.board.columns for c in col["cards"] if c["id"] == opportunity.id)
        assert shown["probability"] == "12.5%"
        card = CustomerCard(store=demo_store, customer_id=opportunity.customer_id, user="anna")
        opportunities = card.section("opportunities")
        opportunities.open()
        assert "12.5%" in opportunities.view.html
        table = PipelineTable(store=demo_store, user="anna")  # and the table, as the board
        table.page = list(table.frame["id"]).index(opportunity.id) // PAGE_SIZE + 1
        shown = [row for row in table.table.rows if row.get("_id") == opportunity.id]
        assert shown and shown[0]["probability"] == "12.5", shown
