"""Customer files: a real file store on disk, size limit, hostile names, permissions, the download route."""

from __future__ import annotations

import hashlib
import http.cookiejar
import re
import urllib.error
import urllib.parse
import urllib.request

import panel as pn
import pytest

import customercard as cc
from customercard import files
from customercard.i18n import _, using_language
from customercard.ui.card import CustomerCard

from .conftest import eventually, form_login
from .ui_support import one, pane_text


@pytest.fixture
def storage(tmp_path):
    return files.LocalFileStorage(tmp_path / "filestore")


def test_upload_download_round_trip_by_content_hash(demo_store, storage):
    customer_id = int(demo_store.list_customers(limit=1)[0]["id"][0])
    data = "Avtal – signerat.\n".encode() * 100
    file_id = files.upload(demo_store, customer_id, "Avtal 2026.pdf", data, user="anna", storage=storage)
    again = files.upload(demo_store, customer_id, "copy.pdf", data, user="anna", storage=storage)
    listing = demo_store.files(customer_id)
    assert set(listing["name"]) == {"Avtal 2026.pdf", "copy.pdf"} and set(listing["size"]) == {len(data)}
    assert listing.iloc[0]["uploaded_by_name"] == "Anna Berg"
    digest = hashlib.sha256(data).hexdigest()
    stored = list(storage.root.rglob("*"))
    assert [p.name for p in stored if p.is_file()] == [digest]  # the same contents are kept once
    got = files.download(demo_store, file_id, user="vera", storage=storage)
    assert got.data == data and got.name == "Avtal 2026.pdf" and got.content_type == "application/pdf"
    assert again != file_id


def test_size_limit_gives_a_clear_message_and_stores_nothing(demo_store, storage):
    settings = demo_store.settings()
    settings.max_file_mb = 0.01
    demo_store.save_settings(settings, user="admin")
    customer_id = int(demo_store.list_customers(limit=1)[0]["id"][0])
    with pytest.raises(cc.ValidationError, match=re.escape("is 19.5 kB; files may be at most 10.2 kB")):
        files.upload(demo_store, customer_id, "big.bin", b"x" * 20_000, user="anna", storage=storage)
    with pytest.raises(cc.ValidationError):
        files.upload_many(demo_store, customer_id, [("ok.txt", b"fine"), ("big.bin", b"x" * 20_000)], user="anna",
                          storage=storage)
    assert demo_store.files(customer_id).empty
    assert not storage.root.exists() or not any(p.is_file() for p in storage.root.rglob("*"))


@pytest.mark.parametrize("hostile, expected", [
    ("../../etc/passwd", "passwd"), ("..\\..\\boot.ini", "boot.ini"), ("/abs/path/report.txt", "report.txt"),
    ("evil\x00name.txt", "evilname.txt"), ("con:tro<l>.txt", "con_tro_l_.txt"), ("...", "file"), ("", "file"),
])
def test_hostile_names_are_made_safe(demo_store, storage, hostile, expected):
    assert files.safe_name(hostile) == expected
    customer_id = int(demo_store.list_customers(limit=1)[0]["id"][0])
    file_id = files.upload(demo_store, customer_id, hostile, b"data", user="anna", storage=storage)
    assert demo_store.file_record(file_id)["name"] == expected
    for path in storage.root.rglob("*"):
        assert storage.root.resolve() in path.resolve().parents


def test_storage_refuses_anything_but_a_hash(storage):
    for key in ("../../etc/passwd", "/etc/passwd", "a" * 63, "g" * 64, ""):
        with pytest.raises(cc.NotFound):
            storage.get(key)
        assert not storage.exists(key)


def test_delete_is_for_managers_and_recorded(demo_store, storage):
    customer_id = int(demo_store.list_customers(limit=1)[0]["id"][0])
    file_id = files.upload(demo_store, customer_id, "old.txt", b"old", user="anna", storage=storage)
    with pytest.raises(cc.PermissionDenied):
        demo_store.delete_file(file_id, user="vera")
    with pytest.raises(cc.PermissionDenied):
        files.upload(demo_store, customer_id, "x.txt", b"x", user="vera", storage=storage)
    demo_store.delete_file(file_id, user="anna")
    assert demo_store.files(customer_id).empty
    assert list(demo_store.record_history("files", file_id)["kind"]) == ["delete", "create", "create"]
    with pytest.raises(cc.CustomerCardError):
        files.download(demo_store, file_id, user="anna", storage=storage)


def test_files_section_only_when_switched_on_and_uploads(demo_store, tmp_path, monkeypatch):
    monkeypatch.setenv("CUSTOMERCARD_DATA_DIR", str(tmp_path))
    customer_id = int(demo_store.list_customers(limit=1)[0]["id"][0])
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    assert "files" not in [s.key for s in card.sections]
    settings = demo_store.settings()
    settings.files_enabled = True
    demo_store.save_settings(settings, user="admin")
    card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
    keys = [s.key for s in card.sections]
    assert keys.index("files") == keys.index("economy") + 1
    section = card.section("files")
    section.handle("upload", {})
    chooser = one(section.view.child, pn.widgets.FileInput, "cc-file-input")
    chooser.param.update(value=[b"one", b"two"], filename=["a.txt", "b.txt"])
    assert section.upload()
    assert "a.txt" in section.view.html and "/files/" in section.view.html
    # each row's Delete names its file to a screen reader (seven "Delete, button" down the table otherwise)
    assert 'aria-label="Delete: a.txt"' in section.view.html and 'aria-label="Delete: b.txt"' in section.view.html
    file_id = int(demo_store.files(customer_id).iloc[0]["id"])
    activity = card.section("activity")
    activity.open()
    assert f'href="/files/{file_id}"' in activity.view.html
    section.handle("delete-file", {"id": str(file_id)})
    assert file_id not in set(demo_store.files(customer_id)["id"])
    # its entry in the activity says it was added, without a Download that would answer 404 now
    eventually(lambda: "deleted the file" in activity.view.html)
    assert f'href="/files/{file_id}"' not in activity.view.html
    assert f'href="/files/{int(demo_store.files(customer_id).iloc[0]["id"])}"' in activity.view.html

    # switched off by an administrator while the card is open: its upload form adds nothing
    section.handle("upload", {})
    chooser = one(section.view.child, pn.widgets.FileInput, "cc-file-input")
    chooser.param.update(value=[b"three"], filename=["c.txt"])
    settings = demo_store.settings()
    settings.files_enabled = False
    demo_store.save_settings(settings, user="admin")
    stored = len(demo_store.files(customer_id))
    assert not section.upload()
    assert "switched off" in pane_text(section.view.child, "cc-upload-message")
    assert len(demo_store.files(customer_id)) == stored


def switch_files(store, on: bool) -> None:
    """An administrator switches document storage on or off (the demo has it off)."""
    settings = store.settings()
    settings.files_enabled = on
    store.save_settings(settings, user="admin")


def test_download_route_needs_a_login(live_server, tmp_path):
    store = live_server.store
    customer_id = int(store.list_customers(limit=1)[0]["id"][0])
    file_id = files.upload(store, customer_id, "Offert å.pdf", b"%PDF-1.4 offer", user="anna")
    switch_files(store, on=True)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    first = opener.open(f"{live_server.url}/files/{file_id}")
    assert "/login" in first.url
    response = form_login(opener, live_server.url, "vera", next_path=f"/files/{file_id}")
    assert response.read() == b"%PDF-1.4 offer"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''Offert%20%C3%A5.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Content-Type"] == "application/octet-stream"
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(f"{live_server.url}/files/999999")
    assert info.value.code == 404



def test_download_route_gives_no_file_while_document_storage_is_switched_off(live_server):
    """The card shows no files while document storage is off (the seed: "shown when the document-storage
    integration is enabled"): a file's address gives none either, and it does again once switched back on."""
    store = live_server.store
    customer_id = int(store.list_customers(limit=1)[0]["id"][0])
    file_id = files.upload(store, customer_id, "plan.txt", b"the plan", user="anna")
    switch_files(store, on=True)
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    assert form_login(opener, live_server.url, "anna", next_path=f"/files/{file_id}").read() == b"the plan"
    switch_files(store, on=False)
    with pytest.raises(urllib.error.HTTPError) as info:
        opener.open(f"{live_server.url}/files/{file_id}")
    assert info.value.code == 404
    with using_language("sv"):  # the demo firm's language
        off = _("Document storage is switched off (System administration → Customers → Settings): its files are "
                "not shown.")
        missing = _("There is no file at this address: it was deleted, or the link is wrong.")
    assert off in info.value.read().decode()
    with pytest.raises(urllib.error.HTTPError) as info:  # a file that is not there is not there either way
        opener.open(f"{live_server.url}/files/999999")
    assert missing in info.value.read().decode()
    switch_files(store, on=True)
    assert opener.open(f"{live_server.url}/files/{file_id}").read() == b"the plan"


def test_several_files_are_all_checked_before_any_is_stored(demo_store, tmp_path):
    """One empty file (or one over the limit) among several: none of them is stored, and the message names it."""
    from customercard import files

    customer_id = int(demo_store.list_customers(limit=1)[0]["id"][0])
    before = len(demo_store.files(customer_id))
    storage = files.LocalFileStorage(tmp_path / "files")
    with pytest.raises(cc.ValidationError, match=r"Nothing was uploaded: .*empty\.txt"):
        files.upload_many(demo_store, customer_id, [("offer.pdf", b"%PDF-1.4 offer"), ("empty.txt", b"")],
                          user="anna", storage=storage)
    assert len(demo_store.files(customer_id)) == before
    assert len(files.upload_many(demo_store, customer_id, [("offer.pdf", b"%PDF-1.4 offer"), ("notes.txt", b"n")],
                                 user="anna", storage=storage)) == 2
    assert len(demo_store.files(customer_id)) == before + 2
