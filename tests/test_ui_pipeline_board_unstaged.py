"""Open opportunities without a stage are on the pipeline board too: in a "No stage" column of their own, first,
from where they are moved into a stage (and back) like any other card."""

from __future__ import annotations

from customercard.i18n import using_language
from customercard.ui.pipeline_board import PipelineBoard
from tests.conftest import rich_customers


def add_unstaged(store, title: str) -> int:
    opportunity = store.new_opportunity(rich_customers(store)[0], owner="anna")
    opportunity.update_from({"title": title, "amount": 50_000, "probability": 40, "stage": None})
    return store.create_opportunity(opportunity, user="anna").id


def by_stage(board: PipelineBoard) -> dict[str, dict]:
    return {c["stage"]: c for c in board.board.columns}


def test_no_stage_column_only_when_some_open_opportunity_has_no_stage(demo_store):
    stages = list(demo_store.choices().allowed("opportunity_stages"))
    board = PipelineBoard(store=demo_store, user="anna")
    assert [c["stage"] for c in board.board.columns][:len(stages)] == stages  # none without a stage yet
    created = add_unstaged(demo_store, "Framework deal, stage not set")
    with using_language("en"):
        board = PipelineBoard(store=demo_store, user="anna")
    first = board.board.columns[0]
    assert first["stage"] == "" and first["label"] == "No stage"
    assert first["count"] == "1" and [c["id"] for c in first["cards"]] == [created]
    assert first["sum"].startswith("Sum ") and "50" in first["sum"]
    assert [c["stage"] for c in board.board.columns][1:len(stages) + 1] == stages


def test_a_card_without_a_stage_is_moved_into_one_and_back(demo_store):
    created = add_unstaged(demo_store, "Needs a stage")
    stages = list(demo_store.choices().allowed("opportunity_stages"))
    board = PipelineBoard(store=demo_store, user="anna")
    card = by_stage(board)[""]["cards"][0]
    assert board.move(created, stages[1], card["version"])
    stored = demo_store.get_opportunity(created)
    assert stored.stage == stages[1] and stored.version == card["version"] + 1
    assert "" not in by_stage(board)  # the column goes with its last card
    assert board.move(created, "", stored.version)  # back to no stage: "" is that column's key
    assert demo_store.get_opportunity(created).stage is None
    assert [c["id"] for c in by_stage(board)[""]["cards"]] == [created]
    # a stale move of it is still a conflict, nothing written
    assert not board.move(created, stages[2], card["version"])
    assert demo_store.get_opportunity(created).stage is None


def test_the_pipeline_table_names_the_row_and_the_group_of_those_without_a_stage(demo_store):
    import panel as pn

    from customercard.ui.components import DataTable
    from customercard.ui.pipeline import PipelinePage

    opportunity = demo_store.new_opportunity(rich_customers(demo_store)[0], owner="admin")
    opportunity.update_from({"title": "Framework deal, stage not set", "amount": 50_000, "stage": None})
    demo_store.create_opportunity(opportunity, user="anna")
    with using_language("en"):
        page = PipelinePage(store=demo_store, user="anna", view="table", owner="admin")  # few: one page
        drawn = page.__panel__()
    summary = next(o.object for o in drawn.select(pn.pane.HTML) if "cc-pipeline-stages" in str(o.object))
    assert ">No stage<" in summary
    groups = [row["_group"] for table in drawn.select(DataTable) for row in table.rows if "_group" in row]
    assert "No stage" in groups and "" not in groups
