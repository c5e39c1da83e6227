"""vCards of contact persons (RFC 6350), read back with the vobject package, and the card's download button."""

from __future__ import annotations

import base64
import re

import panel as pn
import pytest
import vobject

from customercard.models import Contact
from customercard.store import Store
from customercard.ui.contact import ContactCard
from customercard.vcard import contact_vcard, escape, fold, render, tel_uri, vcard_filename, vcard_lines


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def physical_lines(text: str) -> list[str]:
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "") and "\r" not in text.replace("\r\n", "")
    return text[:-2].split("\r\n")


@pytest.fixture
def tricky_contact(empty_store: Store) -> Contact:
    """A contact whose names hold a comma, a semicolon, a backslash and non-ASCII letters, with long notes."""
    customer = empty_store.create_customer(name="Björk, Lind & Söner; Revision AB", user="anna")
    contact = Contact(customer_id=customer.id, first_name="Märta-Lisa, Jr;", last_name="Öberg; Ångström\\Ek",
                      title="CFO, Head of Finance; Nordics", email="marta-lisa@bjork.se", phone="08-123 45 67",
                      mobile="070-123 45 67",
                      notes="Prefers e-mail.\nMeets on Tuesdays, not Mondays; " + "Ål och ärter " * 12)
    return empty_store.create_contact(contact, user="anna")


def test_a_contact_reads_back_with_vobject(empty_store: Store, tricky_contact: Contact):
    text = contact_vcard(empty_store, tricky_contact.id)
    lines = physical_lines(text)
    assert lines[:2] == ["BEGIN:VCARD", "VERSION:4.0"] and lines[-1] == "END:VCARD"
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert any(line.startswith(" ") for line in lines)  # the long note is folded

    card = vobject.readOne(text)
    assert card.fn.value == "Märta-Lisa, Jr; Öberg; Ångström\\Ek"
    assert (card.n.value.family, card.n.value.given) == ("Öberg; Ångström\\Ek", "Märta-Lisa, Jr;")
    assert card.org.value == ["Björk, Lind & Söner; Revision AB"]
    assert card.title.value == "CFO, Head of Finance; Nordics"
    assert card.email.value == "marta-lisa@bjork.se" and card.email.params["TYPE"] == ["work"]
    assert card.note.value == tricky_contact.notes
    phones = {tel.params["TYPE"][0]: tel for tel in card.tel_list}
    assert set(phones) == {"work", "cell"}
    assert phones["work"].value == "tel:+46-8-123-45-67" and phones["work"].params["VALUE"] == ["uri"]
    assert digits(phones["cell"].value) == digits(tricky_contact.mobile)
    assert re.fullmatch(r"\d{8}T\d{6}Z", card.rev.value)


def test_every_contact_of_a_demo_customer(demo_store: Store):
    frame = demo_store.sql("SELECT id FROM contacts ORDER BY id LIMIT 25")
    for contact_id in frame["id"]:
        contact = demo_store.get_contact(int(contact_id))
        card = vobject.readOne(contact_vcard(demo_store, contact.id))
        assert card.fn.value == contact.full_name
        assert card.org.value == [demo_store.get_customer(contact.customer_id).name]
        if contact.title:
            assert card.title.value == contact.title
        if contact.email:
            assert card.email.value == contact.email
        numbers = sorted(digits(tel.value) for tel in getattr(card, "tel_list", []))
        assert numbers == sorted(digits(n) for n in (contact.phone, contact.mobile) if n)


def test_escaping_and_folding_rules():
    assert escape("a,b;c\\d\ne\r\nf") == "a\\,b\\;c\\\\d\\ne\\nf"
    line = "NOTE:" + "å" * 100
    folded = fold(line)
    parts = folded.split("\r\n")
    assert all(len(part.encode("utf-8")) <= 75 for part in parts)
    assert all(part.startswith(" ") for part in parts[1:])
    assert parts[0] + "".join(part[1:] for part in parts[1:]) == line
    assert fold("FN:short") == "FN:short"
    assert render(["A:1", "B:2"]) == "A:1\r\nB:2\r\n"


def test_tel_uris():
    assert tel_uri("+46 8 123 45 67") == "tel:+46-8-123-45-67"
    assert tel_uri("070-123 45 67", "SE") == "tel:+46-70-123-45-67"
    assert tel_uri("+47 22 12 34 56", "SE") == "tel:+47-22-12-34-56"


def test_minimal_contact_has_no_empty_properties():
    text = render(vcard_lines(Contact(id=5, last_name="Berg"), "Acme AB"))
    assert "TITLE" not in text and "EMAIL" not in text and "TEL" not in text and "NOTE" not in text
    card = vobject.readOne(text)
    assert card.fn.value == "Berg" and card.n.value.family == "Berg"


def test_vcard_filename():
    assert vcard_filename(Contact(id=1, first_name="Anna", last_name="Berg")) == "Anna-Berg.vcf"
    assert vcard_filename(Contact(id=2, first_name="Märta/Lisa", last_name="Öberg; Jr.")) == "Märta-Lisa-Öberg-Jr.vcf"
    assert vcard_filename(Contact(id=3, first_name="../..", last_name="")) == "contact-3.vcf"


@pytest.mark.parametrize("user, can_edit", [("vera", False), ("anna", True)])
def test_contact_card_offers_the_vcard_to_everyone(demo_store: Store, user: str, can_edit: bool):
    contact_id = int(demo_store.sql("SELECT min(id) AS id FROM contacts")["id"][0])
    card = ContactCard(store=demo_store, contact_id=contact_id, user=user)
    view = card.__panel__()
    downloads = view.select(pn.widgets.FileDownload)
    assert len(downloads) == 1
    download = downloads[0]
    assert download.label == "Download vCard" and "cc-vcard" in download.css_classes
    assert download.filename == vcard_filename(card.contact)
    edits = [b for b in view.select(pn.widgets.Button) if "cc-edit" in b.css_classes]
    assert len(edits) == (1 if can_edit else 0)

    download._clicks += 1  # what a click in the browser does: the callback runs and the data is sent
    prefix, encoded = download.data.split(",", 1)
    assert prefix.endswith(";base64")
    text = base64.b64decode(encoded).decode("utf-8")
    assert text == contact_vcard(demo_store, contact_id)
    assert vobject.readOne(text).fn.value == card.contact.full_name
    assert download.label == "Download vCard"


def test_contact_card_still_edits(demo_store: Store):
    contact_id = int(demo_store.sql("SELECT min(id) AS id FROM contacts")["id"][0])
    card = ContactCard(store=demo_store, contact_id=contact_id, user="anna")
    card.start_edit()
    card.editor.form.widgets["title"].value = "Chief Vcard Officer"
    assert card.save()
    assert demo_store.get_contact(contact_id).title == "Chief Vcard Officer"
    assert "TITLE:Chief Vcard Officer" in contact_vcard(demo_store, contact_id)
    assert len(card.__panel__().select(pn.widgets.FileDownload)) == 1
