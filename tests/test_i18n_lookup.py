"""Texts are looked up when drawn: a catalog installed after every module was imported, or a language chosen
later, reaches section titles, column labels, the search box and field labels alike."""

from __future__ import annotations

import gettext

import pytest

from customercard import i18n
from customercard.ui.card import CustomerCard
from customercard.ui.customer_list import CustomerList
from customercard.ui.search_box import SuperSearch

from .conftest import rich_customers


class Catalog(gettext.NullTranslations):
    """A tiny catalog for the test (the real ones are compiled .mo files)."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)


@pytest.fixture
def test_language():
    i18n.install(Catalog({"Relations": "Relationer", "Number": "Nummer", "No customer matches.": "Ingen kund",
                          "Contact details": "Kontaktuppgifter", "Edit": "Ändra"}), "xx")
    yield "xx"
    i18n.CATALOGS.install("xx", gettext.NullTranslations())


def test_titles_labels_and_the_search_box_follow_the_language_chosen_when_drawn(demo_store, test_language):
    customer_id = rich_customers(demo_store)[0]
    with i18n.using_language(test_language):
        card = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")
        listing = CustomerList(store=demo_store)
        search = SuperSearch(demo_store)
        assert i18n.current_language() == test_language
    titles = {section.key: section.view.title for section in card.sections}
    assert titles["relations"] == "Relationer" and titles["contact"] == "Kontaktuppgifter"
    assert {"action": "edit", "label": "Ändra"} in card.section("contact").view.tools
    assert listing.table.columns[0]["label"] == "Nummer"
    assert search.none_label == "Ingen kund"
    english = CustomerCard(store=demo_store, customer_id=customer_id, user="anna")  # the same modules, English
    assert {s.key: s.view.title for s in english.sections}["relations"] == "Relations"
    assert i18n.current_language() == "en"


def test_a_refusal_names_the_record_in_the_reader_s_language():
    """"Customer har 1 problem" mixed the class's name into a Swedish sentence."""
    import customercard as cc
    from customercard.i18n import using_language

    for language, start in (("en", "Customer has 1 problem"), ("sv", "Kund har 1 problem"),
                            ("da", "Kunde har 1 problem")):
        with using_language(language), pytest.raises(cc.ValidationError) as refused:
            cc.Customer(name="").check()
        assert str(refused.value).startswith(start), str(refused.value)
    with using_language("sv"), pytest.raises(cc.ValidationError) as refused:
        cc.Contact(first_name="", last_name="").check()
    assert str(refused.value).startswith("Kontaktperson har"), str(refused.value)
