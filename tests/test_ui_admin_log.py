"""The admin log as a Swedish or Danish administrator reads it: what the store writes in English (areas, fixed words,
a bulk change's field, a segmentation's values as history keeps them) said in the reader's language."""

from __future__ import annotations

import pytest

from customercard.i18n import using_language
from customercard.ui.admin_log import log_row


@pytest.mark.parametrize(("language", "area", "segmentation", "undone", "shared"), [
    ("sv", "Massändringar", "Segmentering", "ångrad", "delad"),
    ("da", "Masseændringer", "Segmentering", "fortrudt", "delt"),
])
def test_bulk_changes_and_saved_views_are_said_in_the_readers_language(language, area, segmentation, undone, shared):
    with using_language(language):
        said_area, item, old, new = log_row("Bulk changes", "#2 segments.Services", '["Audit", "Tax"]', "undone")
        assert (said_area, item, old, new) == (area, f"#2 {segmentation}: Services", "Audit, Tax", undone)
        assert log_row("Bulk changes", "#1 status", None, "On hold")[1] == "#1 Status"
        assert log_row("Saved views", "Big customers", None, "shared")[3] == shared


@pytest.mark.parametrize("language", ["sv", "da"])
def test_the_economy_link_and_a_users_choices_are_said_in_the_readers_language(language, demo_store):
    """What linking a customer to the economy system, and an administrator turning someone's reminder e-mail off,
    write in the log reads in the reader's language (customer 10021 …, not linked, follow-up e-mail)."""
    from customercard.errors import ValidationError
    from customercard.i18n import _

    customer_id = int(demo_store.sql("SELECT min(id) AS id FROM customers")["id"][0])
    demo_store.link_customer(customer_id, "Fortnox", "F-1", user="admin")
    demo_store.link_customer(customer_id, "", "", user="admin")
    demo_store.set_follow_up_mail_wanted("anna", False, user="admin")
    log = demo_store.admin_log(limit=3)
    with using_language(language):
        rows = [log_row(r.area, r.item, r.old_value, r.new_value) for r in log.itertuples()]
        for english in ("customer ", "not linked", "follow-up e-mail"):
            assert not any(english in " ".join(row) for row in rows), (english, rows)
        with pytest.raises(ValidationError) as refused:
            demo_store.link_customer(customer_id, "Fortnox", "", user="admin")
        message = str(refused.value)
        assert _("Give both the economy system and the customer's id in it (or neither, to unlink).") in message
        assert "Give both" not in message
