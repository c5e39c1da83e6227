"""An over-long paste in Debian's Chromium against the real server: the model's message next to the field, nothing
saved, what was there before intact — never a text cut without a word."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from .conftest import login, rich_customers, wait_idle

pytestmark = pytest.mark.browser
PASTE = 100_000


def section(page, key: str):
    return page.locator(f"div.cc-section-{key}")


def test_pasting_a_100000_character_comment_says_so_and_saves_nothing(live_server, page):
    store = live_server.store
    customer_id = rich_customers(store)[2]
    before = store.comments(customer_id)
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    comments = section(page, "comments")
    shown = [comments.locator(".cc-comment .cc-body").nth(i).inner_text() for i in range(3)]
    comments.locator("button.cc-new-comment-button").click()
    body = comments.locator(".cc-new-comment textarea")
    body.focus()
    page.keyboard.insert_text("x" * PASTE)  # as a paste: the browser keeps what the widget's own limit allows
    assert len(body.input_value()) > 20_000  # more than the model allows, so the model decides and says so
    comments.locator(".cc-add-comment button").click()
    expect(comments.locator(".cc-comment-message")).to_contain_text("At most 20,000 characters.")
    assert store.comments(customer_id).equals(before)
    expect(comments.locator(".cc-comment .cc-body")).to_have_count(3)
    assert [comments.locator(".cc-comment .cc-body").nth(i).inner_text() for i in range(3)] == shown


def test_pasting_a_100000_character_event_title_says_so_next_to_the_field(live_server, page):
    store = live_server.store
    customer_id = rich_customers(store)[3]
    events = len(store.events(customer_id))
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    toggle = section(page, "events").locator("button.cc-sv-toggle")
    if toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    form = section(page, "events")
    form.locator("button.cc-new-event").click()
    title = form.locator(".cc-field-title input")
    title.focus()
    page.keyboard.insert_text("T" * PASTE)
    assert len(title.input_value()) > 200
    form.locator(".cc-event-form-save button").click()
    expect(form.locator(".cc-field-title .cc-field-error")).to_contain_text("At most 200 characters.")
    assert len(store.events(customer_id)) == events


def test_an_import_with_a_huge_field_is_refused_with_its_reason_in_the_admin_page(live_server, page, tmp_path):
    huge = tmp_path / "huge.csv"
    huge.write_text("Name,City\nAcme AB,Lund\n\"" + "Ab cd " * 20_000 + "\",Malmö\n", encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("Name,City\nImportert Fra Nettleser AS,Oslo\n", encoding="utf-8")
    login(page, live_server.url, "admin", path="/admin")
    page.locator(".cc-admin-tabs .bk-tab", has_text="Import").click()
    report = page.locator(".cc-import-report")
    page.locator(".cc-import-file input").set_input_files(str(huge))
    page.locator(".cc-import-go button").click()
    expect(report).to_contain_text("huge.csv: the cell at row 3 holds more than 32,767 characters", timeout=30_000)
    page.locator(".cc-import-file input").set_input_files(str(good))
    page.locator(".cc-import-go button").click()
    expect(report).to_contain_text("Dry run: 1 customer would be imported.", timeout=30_000)
    empty = tmp_path / "empty.csv"  # a file of no bytes: said so, as the command line says it ("Choose a file first")
    empty.write_bytes(b"")
    page.locator(".cc-import-file input").set_input_files(str(empty))
    page.locator(".cc-import-go button").click()
    expect(report).to_contain_text("empty.csv is empty.", timeout=30_000)


def test_a_double_click_on_import_imports_the_file_once(live_server, page, tmp_path):
    """The second click of a double click reaches the server before the button is drawn disabled: it imports
    nothing more while the first import runs."""
    store = live_server.store
    rows = 150
    names = [f"Dubbelklick {i} AB" for i in range(rows)]
    new = tmp_path / "new.csv"
    new.write_text("Name,City,Country\n" + "".join(f"{name},Lund,SE\n" for name in names), encoding="utf-8")
    login(page, live_server.url, "admin", path="/admin")
    page.locator(".cc-admin-tabs .bk-tab", has_text="Import").click()
    page.locator(".cc-import-file input").set_input_files(str(new))
    page.locator(".cc-import-dry input").uncheck()
    page.locator(".cc-import-go button").dblclick()
    expect(page.locator(".cc-import-summary")).to_contain_text(f"Imported {rows} customers", timeout=60_000)
    page.wait_for_timeout(1500)  # a second import, had it started, would be writing by now
    wait_idle(page)
    made = store.sql("SELECT count(*) AS n FROM customers WHERE name LIKE 'Dubbelklick % AB'")["n"].iloc[0]
    assert made == rows


def test_a_file_up_to_the_limit_is_uploaded_and_one_over_it_refused_with_a_message(live_server, page, tmp_path):
    """An upload reaches the server in one websocket message, base64-encoded: Bokeh's 20 MiB cap closed the page's
    connection on a 16 MB file (under the 25 MB allowed), and over the limit nothing was said."""
    with files_on(live_server.store):
        _upload_a_big_file_and_one_too_big(live_server, page, tmp_path)


@contextlib.contextmanager
def files_on(store) -> Iterator[None]:
    """Document storage switched on (and the Files section open for anna) while the block runs, as it was after."""
    settings = store.settings()
    was = settings.files_enabled
    settings.files_enabled = True
    store.save_settings(settings, user="admin")
    store.set_pref("anna", "card.collapsed.files", False)
    try:
        yield
    finally:
        settings = store.settings()
        settings.files_enabled = was
        store.save_settings(settings, user="admin")


def refused_text(box) -> str:
    """The refusal the page said under the file field (in the message pane's shadow root)."""
    return box.locator(".cc-upload-message [role=alert]").text_content() or ""


def _upload_a_big_file_and_one_too_big(live_server, page, tmp_path) -> None:
    store = live_server.store
    customer_id = rich_customers(store)[2]
    big, too_big = tmp_path / "big-scan.pdf", tmp_path / "too-big-scan.pdf"
    big.write_bytes(b"%PDF-1.4\n" + b"0" * (16 * 1024 * 1024))
    too_big.write_bytes(b"%PDF-1.4\n" + b"0" * (27 * 1024 * 1024))
    login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
    box = page.locator("div.cc-section-files")
    box.locator("button.cc-upload-files").click()
    box.locator(".cc-file-input input").set_input_files(str(big))
    # said while it is on its way, then once the server has it (16.0 MB: in the page's language, as the hint)
    expect(box.locator(".cc-upload-message")).to_contain_text("Ready to upload big-scan.pdf", timeout=60_000)
    box.locator(".cc-file-send button").click()
    expect(box.locator("#cc-files-table")).to_contain_text("big-scan.pdf", timeout=60_000)
    # over the limit: refused as it is chosen, with the reason, before anything is sent
    box.locator("button.cc-upload-files").click()
    box.locator(".cc-file-input input").set_input_files(str(too_big))
    expect(box.locator(".cc-upload-message")).to_contain_text("too-big-scan.pdf", timeout=60_000)
    # three files each under the limit, too many together for one message: refused the same way (they closed the
    # page's connection without a word); the page goes on working
    parts = [tmp_path / f"part-{n}.pdf" for n in range(3)]
    for part in parts:
        part.write_bytes(b"%PDF-1.4\n" + b"0" * (20 * 1024 * 1024))
    box.locator(".cc-file-input input").set_input_files([str(p) for p in parts])
    expect(box.locator(".cc-upload-message")).to_contain_text("MB", timeout=60_000)
    assert "part-" not in refused_text(box)  # (the total's message)
    refused = refused_text(box)
    assert "60 MB together" in refused
    # Upload pressed after the refusal (as people do): the reason stays, said again — not "Choose files first"
    box.locator(".cc-file-send button").click()
    expect(box.locator(".cc-upload-message [role=alert]")).to_have_text(refused.strip())
    page.wait_for_timeout(500)  # (the server's answer to a press that reached it would be here by now)
    expect(box.locator(".cc-upload-message")).not_to_contain_text("Choose files first")
    # and the page goes on working: a file chosen again is sent
    small = tmp_path / "small-note.pdf"
    small.write_bytes(b"%PDF-1.4\n" + b"0" * 2048)
    box.locator(".cc-file-input input").set_input_files(str(small))
    expect(box.locator(".cc-upload-message")).to_contain_text("Ready to upload small-note.pdf", timeout=60_000)
    box.locator(".cc-file-send button").click()
    expect(box.locator("#cc-files-table")).to_contain_text("small-note.pdf", timeout=60_000)
    names = set(store.files(customer_id)["name"])
    assert {"big-scan.pdf", "small-note.pdf"} <= names and "too-big-scan.pdf" not in names
    assert not names & {p.name for p in parts}


def test_upload_pressed_while_the_file_is_still_on_its_way_uploads_it_once_it_has_arrived(live_server, page):
    """A big file takes seconds to be read and sent: Upload pressed meanwhile found nothing on the server and said
    "Choose files first." although a file was chosen. The press now waits for the file; the page says it is being
    sent, then that it is ready."""
    store = live_server.store
    customer_id = rich_customers(store)[3]
    with files_on(store):
        login(page, live_server.url, "anna", path=f"/card?customer={customer_id}")
        box = section(page, "files")
        box.locator("button.cc-upload-files").click()
        field = box.locator(".cc-file-input input")
        expect(field).to_be_attached()
        # the file is chosen and Upload pressed in one go: before the browser has even read the file
        field.evaluate("""(input) => {
            const chosen = new DataTransfer();
            chosen.items.add(new File(["%PDF-1.4\\n" + "0".repeat(8 * 1024 * 1024)], "on-its-way.pdf",
                                      {type: "application/pdf"}));
            input.files = chosen.files;
            input.dispatchEvent(new Event("change", {bubbles: true}));
            let form = input.getRootNode().host;
            while (!form.classList.contains("cc-upload-form")) form = form.parentElement || form.getRootNode().host;
            const row = [...form.shadowRoot.querySelectorAll("*")].find((el) => el.shadowRoot
                && el.shadowRoot.querySelector(".cc-file-send"));
            const send = row.shadowRoot.querySelector(".cc-file-send").shadowRoot.querySelector("button");
            send.click();
            send.click();  // pressed twice while it is on its way: one upload
        }""")
        expect(box.locator("#cc-files-table")).to_contain_text("on-its-way.pdf", timeout=60_000)
        expect(box).not_to_contain_text("Choose files first")
        assert list(store.files(customer_id)["name"]).count("on-its-way.pdf") == 1
