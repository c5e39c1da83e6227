"""The pipeline board in Debian's Chromium against the real server: a card dragged to another stage by mouse and
moved by keyboard (the stored stage checked), two people moving the same opportunity (the second meets the
conflict), the filters, more cards in a column, a viewer who cannot move, and axe on the board."""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd
import pytest
from playwright.sync_api import expect

from customercard.models import Customer, Opportunity
from customercard.ui.pipeline_board import FIRST_CARDS, MORE_CARDS, month_options

from .axe import blocking, describe, run_axe
from .conftest import eventually, login, wait_idle

pytestmark = pytest.mark.browser


def stages(store) -> list[str]:
    return list(store.choices().allowed("opportunity_stages"))


def first_card_id(store, stage: str, skip: set[int] = frozenset()) -> int:
    """The id of an opportunity the board draws in ``stage``'s column (its first cards, as the board orders them)."""
    opened = store.open_opportunities()
    ids = [int(i) for i in opened[opened["stage"] == stage]["id"] if int(i) not in skip]
    return ids[0]


def column(page, stage: str):
    return page.locator(f".cc-board-col[data-stage='{stage}']")


def card(page, opportunity_id: int):
    return page.locator(f".cc-board-card[data-id='{opportunity_id}']")


def drop_on(page, stage: str):
    """Where a card is dropped: the column's heading (always in view: the page does not scroll between the press on
    the card and the drop, which would make Chromium drag whatever came under the pressed point)."""
    return column(page, stage).locator("h2")


def open_board(page, url: str, who: str) -> None:
    login(page, url, who, path="/pipeline")
    expect(page.locator(".cc-board-card").first).to_be_visible()


def test_a_card_dragged_by_mouse_and_moved_by_keyboard(live_server, page):
    store = live_server.store
    lead, second, third = stages(store)[:3]
    opportunity_id = first_card_id(store, lead)
    open_board(page, live_server.url, "anna")
    expect(page.locator(".cc-pipeline-switch a[aria-current=page]")).to_have_text("Board")
    card(page, opportunity_id).drag_to(drop_on(page, second))
    eventually(lambda: store.get_opportunity(opportunity_id).stage == second)
    expect(column(page, second).locator(f".cc-board-card[data-id='{opportunity_id}']")).to_be_visible()
    expect(page.locator(".cc-board-message")).to_contain_text(f"to {second}")

    # by keyboard: the focused card and the right arrow key; the move is said, the focus follows the card
    moved = card(page, opportunity_id)
    moved.focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator(".cc-board-live")).to_contain_text(f"to {third}")
    eventually(lambda: store.get_opportunity(opportunity_id).stage == third)
    expect(column(page, third).locator(f".cc-board-card[data-id='{opportunity_id}']")).to_be_focused()
    page.keyboard.press("ArrowLeft")
    eventually(lambda: store.get_opportunity(opportunity_id).stage == second)
    expect(column(page, second).locator(f".cc-board-card[data-id='{opportunity_id}']")).to_be_focused()
    # and by its Move to list (of the card as drawn now: an older drawing's version would meet a conflict)
    card(page, opportunity_id).locator("select.cc-board-move").select_option(label=lead)
    eventually(lambda: store.get_opportunity(opportunity_id).stage == lead)
    history = store.record_history("opportunities", opportunity_id)
    assert list(history[history["field"] == "stage"]["new_value"])[:4] == [lead, second, third, second]
    assert set(history[history["field"] == "stage"]["changed_by"].head(4)) == {"anna"}


def test_the_move_to_list_by_keyboard_moves_on_enter_to_the_stage_arrowed_to(live_server, page):
    """Arrowing through a card's closed Move to list only shows each stage (Chromium says "changed" at every arrow
    key: the first one moved the card to the next stage); Enter moves it to the stage shown. A title with "$&" and
    "{stage}" in it is said as it is."""
    store = live_server.store
    lead, _second, third = stages(store)[:3]
    opportunity_id = first_card_id(store, lead)
    opportunity = store.get_opportunity(opportunity_id)
    opportunity.title = "Deal $& {stage} and $' Co"
    titled = store.save_opportunity(opportunity, user="anna")
    open_board(page, live_server.url, "anna")
    listed = card(page, opportunity_id).locator("select.cc-board-move")
    expect(listed).to_have_attribute("aria-label", "Move “Deal $& {stage} and $' Co” to")
    listed.focus()
    page.keyboard.press("ArrowDown")  # to the second stage: shown, not moved
    page.keyboard.press("ArrowDown")  # to the third
    page.wait_for_timeout(600)
    assert store.get_opportunity(opportunity_id).stage == lead
    expect(listed).to_have_value(third)
    page.keyboard.press("Enter")
    eventually(lambda: store.get_opportunity(opportunity_id).stage == third)
    expect(page.locator(".cc-board-live")).to_contain_text(f"Moving “Deal $& {{stage}} and $' Co” to {third}")
    history = store.record_history("opportunities", opportunity_id)
    moves = history[(history["field"] == "stage") & (history["version"] > titled.version)]
    assert list(moves["new_value"]) == [third]  # one move, not through the second stage
    # arrowed to a stage and left without Enter: not moved, and the list says "Move to…" again
    listed = card(page, opportunity_id).locator("select.cc-board-move")
    listed.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    expect(listed).to_have_value("")
    page.wait_for_timeout(400)
    assert store.get_opportunity(opportunity_id).stage == third


def test_two_people_move_the_same_opportunity_and_the_second_meets_the_conflict(live_server, browser):
    """Erik's board has not heard Anna's move yet (the server's messages to his page are held back meanwhile):
    his move is made from the version his card shows, and is refused with what is stored now."""
    store = live_server.store
    lead, second, third = stages(store)[:3]
    opportunity_id = first_card_id(store, lead)
    contexts = [browser.new_context(viewport={"width": 1300, "height": 1000}) for _ in range(2)]
    anna, erik = (context.new_page() for context in contexts)
    state: dict = {"hold": False, "moved": False, "held": [], "sockets": []}

    def route(ws) -> None:
        server = ws.connect_to_server()
        state["sockets"].append(ws)

        def to_server(message) -> None:
            if state["hold"] and "ccmsg" in str(message):
                state["moved"] = True
            server.send(message)

        def to_page(message) -> None:
            if state["hold"]:
                state["held"].append((ws, message))
            else:
                ws.send(message)
        ws.on_message(to_server)
        server.on_message(to_page)
    erik.route_web_socket(re.compile(r"/ws"), route)
    open_board(anna, live_server.url, "anna")
    open_board(erik, live_server.url, "erik")
    expect(card(erik, opportunity_id)).to_be_visible()
    state["hold"] = True
    anna.bring_to_front()
    card(anna, opportunity_id).focus()  # Anna moves it by keyboard, Erik by mouse
    anna.keyboard.press("ArrowRight")
    eventually(lambda: store.get_opportunity(opportunity_id).stage == second)
    erik.bring_to_front()
    erik.wait_for_timeout(1500)  # Anna's move reaches Erik's session (held back from his page)
    expect(column(erik, lead).locator(f".cc-board-card[data-id='{opportunity_id}']")).to_be_visible()
    card(erik, opportunity_id).drag_to(drop_on(erik, third))
    for _ in range(100):
        if state["moved"]:
            break
        erik.wait_for_timeout(50)
    assert state["moved"], "Erik's move was sent"
    erik.wait_for_timeout(1000)  # the server has answered it
    state["hold"] = False
    for ws, message in state["held"]:
        ws.send(message)
    message = erik.locator(".cc-board-message")
    expect(message).to_contain_text("Not saved")
    expect(message).to_contain_text(f"Stage is now {second}")
    expect(message).to_contain_text("Anna")
    assert store.get_opportunity(opportunity_id).stage == second  # nothing of Erik's written
    history = store.record_history("opportunities", opportunity_id)
    assert "erik" not in set(history["changed_by"])
    # his board now shows it where it is
    expect(column(erik, second).locator(f".cc-board-card[data-id='{opportunity_id}']")).to_be_visible()
    for context in contexts:
        context.close()


def board_count(page) -> int:
    """The cards the board's columns say they hold (their headings' counts)."""
    texts = page.locator(".cc-board-col h2").all_inner_texts()
    return sum(int(re.search(r"\(([\d,]+)\)", t).group(1).replace(",", "")) for t in texts)


def test_filters_by_owner_close_month_and_customer(live_server, page):
    store = live_server.store
    everything = store.open_opportunities()
    open_board(page, live_server.url, "anna")
    assert board_count(page) == len(everything)
    page.locator(".cc-board-owner select").select_option(label="Maria Jensen")
    wait_idle(page)
    owners = page.locator(".cc-board-card dd:nth-of-type(5)")
    expect(owners.first).to_have_text("Maria Jensen")
    assert set(owners.all_inner_texts()) == {"Maria Jensen"}
    assert board_count(page) == len(store.open_opportunities(owner="maria"))
    page.locator(".cc-board-owner select").select_option(label="Everyone")
    wait_idle(page)

    months = month_options(store.pipeline_summary())  # label (as English writes it) → YYYY-MM
    closes = pd.to_datetime(everything["expected_close"]).dt.strftime("%Y-%m")
    label, value = max(months.items(), key=lambda item: (closes == item[1]).sum())
    page.locator(".cc-board-month select").select_option(label=label)
    wait_idle(page)
    expect(page.locator(".cc-board-col h2").first).to_be_visible()
    eventually(lambda: (page.wait_for_timeout(50), board_count(page) == (closes == value).sum())[1])
    assert 0 < board_count(page) < len(everything)
    page.locator(".cc-board-month select").select_option(label="Any month")
    wait_idle(page)

    name = str(everything.iloc[0]["customer_name"])
    part = name[:5]
    field = page.locator(".cc-board-customer input")
    field.fill(part.lower())
    field.press("Enter")
    wait_idle(page)
    customers = page.locator(".cc-board-card dd a")
    expect(customers.first).to_contain_text(part)
    assert all(part.casefold() in text.casefold() for text in customers.all_inner_texts())
    mine = everything[everything["customer_name"].str.casefold().str.contains(part.casefold(), regex=False)]
    assert board_count(page) == len(mine) < len(everything)


def test_more_cards_in_a_column_by_button_and_by_scrolling(live_server, page):
    store = live_server.store
    stage = stages(store)[3]
    customer_id = int(store.open_opportunities().iloc[0]["customer_id"])
    for number in range(70):  # a long column: more than three screens of cards
        opportunity = store.new_opportunity(customer_id, owner="kari")
        opportunity.param.update(title=f"Long column deal {number}", stage=stage, amount=1000.0 + number)
        store.create_opportunity(opportunity, user="kari")
    opened = store.open_opportunities()
    total = int((opened["stage"] == stage).sum())
    open_board(page, live_server.url, "anna")
    cards = column(page, stage).locator(".cc-board-card")
    expect(cards).to_have_count(FIRST_CARDS)
    expect(column(page, stage).locator("h2")).to_contain_text(f"({total})")
    column(page, stage).locator("button.cc-board-more").click()
    expect(cards).to_have_count(FIRST_CARDS + MORE_CARDS)
    column(page, stage).locator(".cc-board-cards").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(cards).to_have_count(FIRST_CARDS + 2 * MORE_CARDS)
    other = stages(store)[0]
    shown = min(FIRST_CARDS, int((opened["stage"] == other).sum()))
    expect(column(page, other).locator(".cc-board-card")).to_have_count(shown)


def test_a_viewer_cannot_move_or_edit(live_server, page):
    store = live_server.store
    lead, second = stages(store)[:2]
    opportunity_id = first_card_id(store, lead)
    version = store.get_opportunity(opportunity_id).version
    open_board(page, live_server.url, "vera")
    expect(page.locator(".cc-board-hint")).to_contain_text("You can read the pipeline")
    shown = card(page, opportunity_id)
    expect(shown).not_to_have_attribute("draggable", "true")
    expect(shown.locator("select")).to_have_count(0)
    expect(shown.locator("button")).to_have_count(0)
    shown.drag_to(drop_on(page, second))
    shown.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(800)
    stored = store.get_opportunity(opportunity_id)
    assert stored.stage == lead and stored.version == version
    expect(page.locator(".cc-board-form")).to_have_count(0)


def test_a_card_opens_in_an_editor_and_saves_on_its_version(live_server, page):
    store = live_server.store
    lead = stages(store)[0]
    opportunity_id = first_card_id(store, lead)
    open_board(page, live_server.url, "anna")
    card(page, opportunity_id).locator("dl dt").first.click()  # a click anywhere on the card
    form = page.locator(".cc-board-form")
    expect(form).to_be_visible()
    page.locator(".cc-board-form-cancel button").click()
    expect(form).to_have_count(0)
    card(page, opportunity_id).focus()  # or Enter on the focused card
    page.keyboard.press("Enter")
    expect(form).to_be_visible()
    form.locator(".cc-field-amount input").fill("123456")
    form.locator(".cc-board-form-save button").click()
    expect(page.locator(".cc-board-message")).to_contain_text("Saved")
    assert store.get_opportunity(opportunity_id).amount == 123456.0
    expect(card(page, opportunity_id)).to_contain_text("123,456")


@pytest.mark.parametrize("who", ["anna", "vera"])
def test_the_board_passes_axe(live_server, browser, who):
    """Also with a card whose title runs over the customer's link beneath it (each a target of its own)."""
    store = live_server.store
    if not len(store.sql("SELECT id FROM opportunities WHERE title = 'IT security programme for the whole group'")):
        customer_id = store.create_customer(Customer(name="Lunde AS", account_manager="anna"), user="anna").id
        stage = store.choices().allowed("opportunity_stages")[0]  # in a stage's column (the others count theirs)
        store.create_opportunity(Opportunity(customer_id=customer_id, title="IT security programme for the whole "
                                             "group", amount=1000.0, currency="SEK", owner="anna", stage=stage,
                                             expected_close=dt.date(2000, 1, 1)), user="anna")  # first in its column
    context = browser.new_context(locale="en")
    page = context.new_page()
    open_board(page, live_server.url, who)
    wait_idle(page)
    results = run_axe(page)
    assert not blocking(results["violations"]), describe(blocking(results["violations"]))
    board = [v for v in results["violations"]
             if any("cc-board" in str(node["target"]) or "cc-board" in node["html"] for node in v["nodes"])]
    assert not board, describe(board)
    if who == "anna":  # an opportunity opened in place
        page.locator(".cc-board-card button.cc-board-title").first.click()
        expect(page.locator(".cc-board-form")).to_be_visible()
        wait_idle(page)
        results = run_axe(page)
        assert not blocking(results["violations"]), describe(blocking(results["violations"]))
    context.close()


def test_an_opportunity_without_a_stage_is_in_its_own_column_and_moved_from_there(live_server, page):
    store = live_server.store
    lead = stages(store)[0]
    customer_id = int(store.open_opportunities().iloc[0]["customer_id"])
    opportunity = store.new_opportunity(customer_id, owner="anna")
    opportunity.param.update(title="Stage not decided yet", stage=None, amount=12_000.0)
    created = store.create_opportunity(opportunity, user="anna").id
    open_board(page, live_server.url, "anna")
    unstaged = column(page, "")
    expect(unstaged.locator("h2")).to_have_text("No stage (1)")
    expect(page.locator(".cc-board-col").first).to_have_attribute("data-stage", "")
    expect(unstaged.locator(".cc-board-card")).to_have_count(1)
    # the other cards offer "No stage" by name in their Move to list
    other = page.locator(".cc-board-card").nth(1).locator("select.cc-board-move option")
    expect(other.nth(1)).to_have_text("No stage")
    card(page, created).locator("select.cc-board-move").select_option(label=lead)
    eventually(lambda: store.get_opportunity(created).stage == lead)
    expect(page.locator(".cc-board-col[data-stage='']")).to_have_count(0)
    in_lead = int((store.open_opportunities()["stage"] == lead).sum())  # it joins the end (no close date)
    expect(column(page, lead).locator("h2")).to_contain_text(f"({in_lead})")


def test_the_focus_stays_where_it_was_when_the_board_is_drawn_again(live_server, page):
    """A keyboard user on the board: the board drawn anew — by a colleague's move, by more cards asked for as a
    column scrolled to the card tabbed to, by Show more — left the focus on the page's body (the next Tab started
    from the top). Enter on a card and then Escape in its editor did the same. The focus stays where it was now."""
    store = live_server.store
    all_stages = stages(store)
    lead, second = all_stages[:2]
    open_board(page, live_server.url, "anna")
    mine = first_card_id(store, lead)
    card(page, mine).focus()
    theirs = first_card_id(store, second)  # a colleague moves another card: the board is drawn again
    moved = store.get_opportunity(theirs)
    moved.stage = all_stages[2]
    store.save_opportunity(moved, user="erik")
    expect(column(page, all_stages[2]).locator(f".cc-board-card[data-id='{theirs}']")).to_be_visible()
    expect(card(page, mine)).to_be_focused()
    card(page, mine).locator("select.cc-board-move").focus()  # a part of a card: that part
    moved = store.get_opportunity(theirs)
    moved.stage = second
    store.save_opportunity(moved, user="erik")
    expect(column(page, second).locator(f".cc-board-card[data-id='{theirs}']")).to_be_visible()
    expect(card(page, mine).locator("select.cc-board-move")).to_be_focused()

    # Enter on a card opens its editor; Escape closes it and the focus is back on that card
    card(page, mine).focus()
    page.keyboard.press("Enter")
    form = page.locator(".cc-board-form")
    expect(form).to_be_visible()
    form.locator(".cc-field-amount input").focus()
    page.keyboard.press("Escape")
    expect(form).to_have_count(0)
    expect(card(page, mine).locator("button.cc-board-title")).to_be_focused()

    # the last card drawn of a long column, tabbed to: the column scrolls, more cards come, the focus stays on it
    stage = all_stages[3]
    customer_id = int(store.open_opportunities().iloc[0]["customer_id"])
    shown = int((store.open_opportunities()["stage"] == stage).sum())
    for number in range(max(0, FIRST_CARDS + MORE_CARDS + 5 - shown)):
        opportunity = store.new_opportunity(customer_id, owner="kari")
        opportunity.param.update(title=f"Focus column deal {number}", stage=stage, amount=2000.0 + number)
        store.create_opportunity(opportunity, user="kari")
    page.reload()
    expect(page.locator(".cc-board-card").first).to_be_visible()
    cards = column(page, stage).locator(".cc-board-card")
    expect(cards).to_have_count(FIRST_CARDS)
    last_id = cards.nth(FIRST_CARDS - 1).get_attribute("data-id")
    cards.nth(FIRST_CARDS - 2).locator("select.cc-board-move").focus()
    page.keyboard.press("Tab")  # to the last card drawn: focusing it scrolls the column to its end
    expect(column(page, stage).locator(f".cc-board-card[data-id='{last_id}']")).to_be_focused()
    column(page, stage).locator(".cc-board-cards").evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(cards).to_have_count(FIRST_CARDS + MORE_CARDS)
    expect(column(page, stage).locator(f".cc-board-card[data-id='{last_id}']")).to_be_focused()
    # Show more by keyboard: the first card it brings takes the focus
    more = column(page, stage).locator("button.cc-board-more")
    more.focus()
    page.keyboard.press("Enter")
    expect(cards).to_have_count(min(FIRST_CARDS + 2 * MORE_CARDS, shown + max(0, FIRST_CARDS + MORE_CARDS + 5
                                                                                   - shown)))
    expect(cards.nth(FIRST_CARDS + MORE_CARDS)).to_be_focused()
