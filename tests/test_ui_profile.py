"""The profile view without a browser: what it lists (escaped), the password change, ending sessions."""

from __future__ import annotations

import panel as pn
import pytest

from customercard.ui.admin import AdminPage
from customercard.ui.profile import ProfilePage, browser_name

from .ui_support import labelled, one, pane_text

PASSWORD_LABELS = {"current_password": "Current password", "password": "New password", "again": "New password again"}

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"


def texts(view: ProfilePage) -> list[str]:
    return [row.objects[0].object for row in sessions(view).objects]


def sessions(view: ProfilePage) -> pn.Column:
    """The list of my sessions as drawn: a row per session."""
    return one(view, pn.Column, "cc-profile-sessions")


def error(view: ProfilePage, name: str) -> str:
    """The message under a password field, as drawn."""
    return one(view, pn.pane.HTML, f"cc-profile-{name}-error").object


def test_the_profile_lists_my_sessions_escaped_and_marks_this_one(demo_store):
    anna = demo_store.get_user("anna")
    anna.name = "Anna <i>Berg</i>"
    demo_store.update_user(anna, by="admin")
    token = demo_store.start_session("anna", "198.51.100.1", FIREFOX)
    demo_store.start_session("anna", "198.51.100.2", "<script>alert(1)</script>")
    demo_store.start_session("erik", "198.51.100.3", FIREFOX)
    view = ProfilePage(demo_store, "anna", token=token)
    assert "Anna &lt;i&gt;Berg&lt;/i&gt;" in view.__panel__().objects[0].object
    rows = texts(view)
    assert len(rows) == 2 and "198.51.100.3" not in " ".join(rows)
    this = [row for row in rows if "This session" in row]
    assert len(this) == 1 and "198.51.100.1" in this[0] and "Firefox 140 on Linux" in this[0]
    assert not any("<script>" in row for row in rows) and any("&lt;script&gt;" in row for row in rows)
    assert len(sessions(view).objects[0].objects) == 2  # the other session has an End button, this one not
    assert browser_name("") == "unknown"


def test_changing_my_password_keeps_this_session_and_ends_the_others(demo_store):
    token = demo_store.start_session("anna")
    other = demo_store.start_session("anna")
    view = ProfilePage(demo_store, "anna", token=token)

    def change(current: str, new: str, again: str) -> bool:
        for name, value in (("current_password", current), ("password", new), ("again", again)):
            labelled(view, PASSWORD_LABELS[name]).value = value
        return view.change_password()

    assert not change("demo", "password123", "password123")
    assert "most common" in error(view, "password")
    assert not change("demo", "a-long-enough-one", "a-long-enough-two")
    assert "differ" in error(view, "again") and not error(view, "password")
    assert not change("wrong", "a-long-enough-one", "a-long-enough-one")
    assert "not your current password" in error(view, "current_password")
    assert change("demo", "a-long-enough-one", "a-long-enough-one")
    assert "Your password is changed" in pane_text(view, "cc-profile-password-note")
    assert demo_store.session_login(token) == "anna" and demo_store.session_login(other) is None
    assert all(labelled(view, label).value == "" for label in PASSWORD_LABELS.values())
    # the one I have, as the new one: no change, said so (it said "changed" and ended my other sessions)
    third = demo_store.start_session("anna")
    assert not change("a-long-enough-one", "a-long-enough-one", "a-long-enough-one")
    assert "the one you have" in error(view, "password") and demo_store.session_login(third) == "anna"


def test_ending_one_session_and_logging_out_everywhere(demo_store):
    token = demo_store.start_session("anna")
    other = demo_store.start_session("anna")
    view = ProfilePage(demo_store, "anna", token=token)
    left = []
    view.param.watch(left.append, "logged_out")
    other_id = int(demo_store.sessions("anna", current_token=token).query("not current")["id"].iloc[0])
    view.end_session(other_id)
    assert demo_store.session_login(other) is None and len(texts(view)) == 1
    view.end_session(other_id)
    assert "ended already" in pane_text(view, "cc-profile-sessions-note")
    view.log_out_everywhere()
    assert left and demo_store.session_login(token) is None and demo_store.sessions("anna").empty


def test_the_admins_users_page_shows_the_password_policy(demo_store):
    users = AdminPage(demo_store, "admin").users
    users.form.widgets["login"].value = "nils"
    users.form.widgets["name"].value = "Nils Ek"
    labelled(users, "Password").value = "qwertyuiop"  # a new user's: needed (not "leave empty to keep")
    assert not users.save()
    assert "most common" in users.message
    labelled(users, "Password").value = "nils-is-here-now"
    assert users.save()
    session = demo_store.start_session("nils")
    labelled(users, "User").value = "nils"
    labelled(users, "New password (leave empty to keep)").value = "nils-new-password"
    assert users.save()
    assert demo_store.session_login(session) is None  # an admin's new password ends the user's sessions


@pytest.mark.parametrize("language", ["sv", "da", "en"])
def test_the_language_choosers_name_each_language_by_its_own_name_on_every_page(language):
    """"English" came to be translated (an invoice's language: "Engelska"), and the profile's chooser offered
    "Engelska" on a Swedish page: a language is chosen by its own name."""
    from customercard.i18n import using_language
    from customercard.models import Settings, User
    from customercard.ui.form import option_labels

    with using_language(language):
        mine = option_labels(User.param.language, ["", "en", "sv", "da"])
        firm = option_labels(Settings.param.language, ["en", "sv", "da"])
    assert {"English", "Svenska", "Dansk"} <= set(mine) and set(firm) == {"English", "Svenska", "Dansk"}
