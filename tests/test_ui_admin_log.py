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
