"""The catalogs: every text the code says is in the template and translated in Swedish and Danish (none empty, none
fuzzy, the same placeholders), and the catalogs reach the running code — compiled, or from the .po when the .mo is
missing or older."""

from __future__ import annotations

import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from customercard import i18n
from customercard.fields import customer_fields
from customercard.i18n import _, using_language
from customercard.importexport import FALSE_WORDS, TRUE_WORDS, column_map, header_key
from customercard.models import LIST_NAMES, Customer

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "customercard" / "locale"
LANGUAGES = ("sv", "da")
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}


def catalog(language: str):
    with (LOCALE / language / "LC_MESSAGES" / "customercard.po").open("rb") as handle:
        return read_po(handle)


def key(message_id, context) -> tuple:
    return context, tuple(message_id) if isinstance(message_id, list | tuple) else message_id


@pytest.fixture(scope="module")
def extracted() -> set[tuple]:
    """The messages of the code now, extracted as `make messages` does (babel.cfg's method: f-strings too)."""
    with (ROOT / "babel.cfg").open() as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = set()
    for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / "customercard", method_map, options_map, keywords=KEYWORDS):
        found.add(key(message, context))
    return found


def test_the_extraction_finds_texts_in_f_strings_and_every_kind_of_call(extracted):
    ids = {message for _context, message in extracted}
    assert "Show inactive" in ids  # only within an f-string in the code
    assert ("{n} comment", "{n} comments") in ids  # ngettext
    assert ("a login session", "End") in extracted  # pgettext
    assert "Contact details" in ids and "Customer statuses" in ids  # N_ at import time
    assert "The customer needs a name." in ids and "A postal code in {country} has {shape}." in ids  # the model's


def test_the_template_is_the_code_s_messages(extracted):
    with (LOCALE / "customercard.pot").open("rb") as handle:
        template = {key(m.id, m.context) for m in read_po(handle) if m.id}
    assert sorted(extracted - template, key=str) == []  # run `make messages`
    assert sorted(template - extracted, key=str) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated_in_swedish_and_danish(extracted, language):
    messages = {key(m.id, m.context): m for m in catalog(language) if m.id}
    assert sorted(extracted - set(messages), key=str) == []  # every message of the code is in the catalog
    for found in messages.values():
        assert not found.fuzzy, found.id
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        assert strings and all(s and s.strip() for s in strings), found.id
        ids = found.id if isinstance(found.id, tuple) else (found.id,)
        wanted = set(re.findall(r"\{[^{}]*\}", "".join(ids)))
        for string in strings:  # the same placeholders (a plural may leave out the count, as '{n}' can be 'one')
            assert set(re.findall(r"\{[^{}]*\}", string)) == wanted, (found.id, string)
        for mark in ("\n", "…", "→"):
            assert ("".join(ids).count(mark) > 0) == (strings[0].count(mark) > 0), (found.id, mark)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_seed_s_words_and_the_field_registry_speak_the_language(language):
    words = {"sv": {"Contact details": "Kontaktuppgifter", "Invoice address": "Fakturaadress", "Economy": "Ekonomi",
                    "Files": "Filer", "Comments": "Kommentarer", "Contact persons": "Kontaktpersoner",
                    "Projects": "Projekt", "Invoiced": "Fakturerat", "Segmentation": "Segmentering",
                    "Account manager": "Kundansvarig", "Industry": "Bransch", "Nickname": "Smeknamn",
                    "Search customers": "Sök kunder", "Send e-mail…": "Skicka e-post…",
                    "System administration → Customers": "Systemadministration → Kunder",
                    "Show all {n} comments": "Visa alla {n} kommentarer"},
             "da": {"Contact details": "Kontaktoplysninger", "Invoice address": "Fakturaadresse", "Economy": "Økonomi",
                    "Files": "Filer", "Comments": "Kommentarer", "Contact persons": "Kontaktpersoner",
                    "Projects": "Projekter", "Invoiced": "Faktureret", "Segmentation": "Segmentering",
                    "Account manager": "Kundeansvarlig", "Industry": "Branche", "Nickname": "Kaldenavn",
                    "Search customers": "Søg kunder", "System administration → Customers":
                    "Systemadministration → Kunder"}}[language]
    with using_language(language):
        assert {english: _(english) for english in words} == words
        messages = {m.id for m in catalog(language) if m.id}
        for field in customer_fields():  # every label and export header is a message, said in the language
            assert set(field.label_parts) <= messages and field.header in messages, field.name
            assert field.shown_label == " · ".join(_(part) for part in field.label_parts)
        assert Customer().label("visit_address.city") == {"sv": "Besöksadress · Ort", "da": "Besøgsadresse · By"}[
            language]
        assert all(_(name) != name for name in LIST_NAMES.values())
        assert _("yes") in TRUE_WORDS and _("no") in FALSE_WORDS  # an export's yes and no import back
        for field in customer_fields():  # and so do its headers
            if field.name != "segments":
                assert column_map()[header_key(_(field.header))] == field.name


def test_a_catalog_is_compiled_from_its_po_when_its_mo_is_missing_or_older(tmp_path, monkeypatch):
    folder = tmp_path / "sv" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    shutil.copy(LOCALE / "sv" / "LC_MESSAGES" / "customercard.po", folder / "customercard.po")
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    assert i18n.Catalogs().get("sv").gettext("Contact details") == "Kontaktuppgifter"  # no .mo at all

    stale = catalog("sv")
    stale["Contact details"].string = "Gammal översättning"
    with (folder / "customercard.mo").open("wb") as handle:
        write_mo(handle, stale)
    older = (folder / "customercard.po").stat().st_mtime - 60
    os.utime(folder / "customercard.mo", (older, older))
    assert i18n.Catalogs().get("sv").gettext("Contact details") == "Kontaktuppgifter"  # the .po is newer: read it
    newer = older + 120
    os.utime(folder / "customercard.mo", (newer, newer))
    assert i18n.Catalogs().get("sv").gettext("Contact details") == "Gammal översättning"  # a fresh .mo is used
    assert isinstance(i18n.Catalogs().get("fr"), gettext.NullTranslations)  # a language we do not speak: English
