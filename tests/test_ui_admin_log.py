"""The admin log as a Swedish or Danish administrator reads it: what the store writes in English (areas, fixed words,
a bulk change's field, a segmentation's values as history keeps them) said in the reader's language."""

from __future__ import annotations

import datetime as dt

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


@pytest.mark.parametrize(("language", "none", "swedish", "figure", "one_value"), [
    ("sv", "ingen", "Svenska", "12,5", "ett värde"), ("da", "ingen", "Svenska", "12,5", "én værdi")])
def test_settings_values_and_criteria_are_said_as_their_forms_show_them(language, none, swedish, figure, one_value):
    """The log showed "none → starttls", "sv → da", "25 → 12.5" and each criterion as English-keyed JSON."""
    with using_language(language):
        assert log_row("settings", "smtp_security", "none", "starttls")[2] == none
        assert log_row("settings", "language", "sv", "da")[2] == swedish
        assert log_row("settings", "max_file_mb", "25.0", "12.5")[3] == figure
        old = log_row("Segmentation", "Size", None,
                      '{"multiple": false, "values": ["Small", "Large"], "active": true, "name": "Size"}')[3]
        assert old.startswith("Size; ") and "Small, Large" in old and one_value in old and "{" not in old


@pytest.mark.parametrize(("language", "browser"), [("en", "As my browser asks"), ("sv", None), ("da", None)])
def test_a_users_language_is_said_by_its_name(language, browser, demo_store):
    """An administrator choosing Olli's language read "olli: Språk | | da" in the log: the code, and nothing for
    'as the browser asks'."""
    from customercard.i18n import _

    demo_store.set_language("olli", "da", by="admin")
    entry = demo_store.admin_log(limit=1).iloc[0]
    with using_language(language):
        row = log_row(entry["area"], entry["item"], entry["old_value"], entry["new_value"])
        assert row[2:] == (browser or _("As my browser asks"), "Dansk")
        assert row[2] != "As my browser asks" or language == "en"


def test_the_log_shows_older_entries_and_an_area_and_logins_do_not_push_admin_changes_away(demo_store):
    """The Log tab showed the newest 200 entries only, logins among them: after 200 logins an administrator's
    rename was gone from sight (it was still stored)."""
    import panel as pn

    from customercard.ui.admin import AdminLog

    from .ui_support import one

    statuses = demo_store.list_values("statuses")
    demo_store.rename_list_value(int(statuses.iloc[0]["id"]), "Renamed long ago", user="admin")
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for n in range(AdminLog.PAGE + 5):  # a few weeks of colleagues logging in: each login is logged
        demo_store.db.execute("INSERT INTO admin_log (changed_at, changed_by, area, item, old_value, new_value) "
                              "VALUES (?, 'system:login', 'Logins', ?, NULL, 'logged in')",
                              [later + dt.timedelta(seconds=n), "anna from 127.0.0.1"])
    log = AdminLog(demo_store)
    assert "Renamed long ago" in log.__panel__().objects[1].object  # logins are not shown unless asked for
    one(log.__panel__(), pn.widgets.Checkbox, "cc-admin-log-logins").value = True  # as a person ticks it
    assert "Renamed long ago" not in log.__panel__().objects[1].object and log.rows_shown == AdminLog.PAGE
    older = one(log.__panel__(), pn.widgets.Button, "cc-admin-log-older")
    assert older.label == "Show older entries"
    log.show_older()
    assert "Renamed long ago" in log.__panel__().objects[1].object and log.rows_shown > AdminLog.PAGE
    assert older.label == "No older entries" and older.visible  # kept in place (hidden, it took the focus away)
    shown = log.rows_shown
    log.show_older()
    assert log.rows_shown == shown


@pytest.mark.parametrize("language", ["sv", "da"])
def test_the_areas_are_capitalised_in_the_readers_language(language):
    """The settings' area read "inställningar"/"indstillinger" among capitalised ones."""
    with using_language(language):
        area = log_row("settings", "crm_enabled", "true", "false")[0]
        assert area[0].isupper() and area.lower().startswith(("inst", "indst"))
