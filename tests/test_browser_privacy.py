"""Privacy on the contact card in Debian's Chromium: an administrator downloads a contact person's personal data
(a .zip of JSON and vCard) and anonymises them after confirming; a viewer sees neither button."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import expect

from .conftest import login

pytestmark = pytest.mark.browser


def _demo_contact(store) -> int:
    return int(store.sql("SELECT min(id) AS id FROM contacts WHERE active AND email <> '' AND last_name <> ''")
               ["id"][0])


def test_a_viewer_sees_no_privacy_buttons(live_server, page):
    contact_id = _demo_contact(live_server.store)
    login(page, live_server.url, "vera", path=f"/contact?contact={contact_id}")
    expect(page.locator(".cc-vcard button")).to_be_visible()
    expect(page.locator(".cc-privacy-export")).to_have_count(0)
    expect(page.locator(".cc-anonymise")).to_have_count(0)


def test_an_administrator_exports_and_anonymises_a_contact_person(live_server, page, tmp_path):
    store = live_server.store
    contact_id = _demo_contact(store)
    contact = store.get_contact(contact_id)
    login(page, live_server.url, "admin", path=f"/contact?contact={contact_id}")
    expect(page.locator("#cc-contact-name")).to_have_text(contact.full_name)

    with page.expect_download() as info:
        page.locator(".cc-privacy-export button").click()
    download = info.value
    assert download.suggested_filename == f"personal-data-contact-{contact_id}.zip"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    with zipfile.ZipFile(path) as archive:
        exported = json.loads(archive.read(f"contact-{contact_id}.json"))
        vcards = [name for name in archive.namelist() if name.endswith(".vcf")]
        assert f"FN:{contact.full_name}" in archive.read(vcards[0]).decode("utf-8")
    assert exported["contact"]["email"] == contact.email and exported["exported_by"] == "admin"

    page.locator(".cc-anonymise button").click()
    expect(page.locator(".cc-anonymise-question")).to_contain_text("cannot be undone")
    page.locator(".cc-anonymise-cancel button").click()
    expect(page.locator(".cc-anonymise-question")).to_be_hidden()
    expect(page.locator("#cc-contact-name")).to_have_text(contact.full_name)  # cancelled: nothing changed
    assert store.get_contact(contact_id).email == contact.email

    page.locator(".cc-anonymise button").click()
    page.locator(".cc-anonymise-confirm button").click()
    expect(page.locator("#cc-contact-name")).to_have_text("Anonymised")
    expect(page.locator("#cc-contact-active")).to_have_text("Inactive")
    expect(page.locator(".cc-note")).to_contain_text("Anonymised")
    assert store.get_contact(contact_id).email == ""
    assert contact.email not in page.content()
    assert store.admin_log().iloc[0]["item"] == f"contact {contact_id}"
