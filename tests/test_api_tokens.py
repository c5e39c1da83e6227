"""Personal API tokens: in the store (on DuckDB and PostgreSQL), on the command line and on the profile page (without a
browser) — made, shown once, kept hashed, listed, used, revoked; who may do what; the admin log."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import panel as pn
import pytest

from customercard.errors import CustomerCardError, NotFound, PermissionDenied, ValidationError
from customercard.store import Store
from customercard.store.database import utcnow
from customercard.ui.api_tokens import ApiTokens

from .ui_support import labelled, one, pane_text


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "customercard", *args], capture_output=True, check=False, text=True,
                          timeout=120)


# -- the store -------------------------------------------------------------------------------------------------------
def test_a_token_is_shown_once_kept_hashed_and_acts_as_its_user(empty_store):
    store = empty_store
    token, secret = store.create_token("anna", "  nightly   sync ", user="anna")
    assert secret.startswith("cc_") and len(secret) >= 40 and token.name == "nightly sync"
    assert token.hint == secret[:9] and token.login == "anna" and not token.read_only
    stored = store.db.records("SELECT * FROM api_tokens WHERE id = ?", [token.id])[0]
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in " ".join(str(v) for v in stored.values())
    listed = store.tokens("anna")
    assert [t.name for t in listed] == ["nightly sync"] and listed[0].last_used_at is None
    assert not hasattr(listed[0], "secret") and store.tokens("vera") == []

    user, read_only = store.authenticate_token(secret, "198.51.100.1")
    assert (user.login, user.role, read_only) == ("anna", "manager", False)
    first_use = store.tokens("anna")[0].last_used_at
    assert first_use is not None
    store.authenticate_token(secret)
    assert store.tokens("anna")[0].last_used_at == first_use  # written at most once a minute
    store.db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [utcnow() - dt.timedelta(minutes=2),
                                                                              token.id])
    store.authenticate_token(secret)
    assert store.tokens("anna")[0].last_used_at > first_use


def test_read_only_tokens_carry_the_users_role_as_it_is_now(empty_store):
    store = empty_store
    _token, secret = store.create_token("anna", "report", read_only=True, user="anna")
    assert store.authenticate_token(secret)[1] is True
    anna = store.get_user("anna")
    anna.role = "viewer"
    store.update_user(anna, by="boss")
    assert store.authenticate_token(secret)[0].role == "viewer"  # the user's role at each request
    anna = store.get_user("anna")
    anna.active = False
    store.update_user(anna, by="boss")
    with pytest.raises(PermissionDenied):
        store.authenticate_token(secret)


def test_revoking_is_for_the_owner_or_an_administrator_and_happens_once(empty_store):
    store = empty_store
    token, secret = store.create_token("anna", "script", user="anna")
    with pytest.raises(NotFound):  # another user does not even learn that it exists
        store.revoke_token(token.id, user="vera")
    assert store.revoke_token(token.id, user="anna") is True
    assert store.revoke_token(token.id, user="boss") is False  # revoked meanwhile: said so, not done twice
    with pytest.raises(PermissionDenied):
        store.authenticate_token(secret)
    assert store.tokens("anna") == []
    other, _secret = store.create_token("vera", "mine", user="vera")
    assert store.revoke_token(other.id, user="boss") is True  # an administrator revokes anyone's
    with pytest.raises(NotFound):
        store.revoke_token(999_999, user="boss")
    log = store.admin_log()
    tokens = log[log["area"] == "API tokens"]
    assert list(tokens["new_value"]) == ["revoked", "created", "revoked", "created"]
    assert list(tokens["changed_by"]) == ["boss", "vera", "anna", "anna"]
    assert set(tokens["item"]) == {"anna: script", "vera: mine"}


def test_who_may_make_tokens_and_what_names_they_take(empty_store):
    store = empty_store
    with pytest.raises(PermissionDenied):
        store.create_token("anna", "not yours", user="vera")
    assert store.create_token("anna", "made for anna", user="boss")[0].created_by == "boss"
    with pytest.raises(ValidationError) as empty:
        store.create_token("anna", "   ", user="anna")
    assert "name" in empty.value.errors
    with pytest.raises(ValidationError) as long:
        store.create_token("anna", "x" * 101, user="anna")
    assert "100" in long.value.errors["name"]
    store.create_token("anna", "twice", user="anna")
    with pytest.raises(ValidationError) as taken:
        store.create_token("anna", "twice", user="anna")
    assert "already" in taken.value.errors["name"]
    with pytest.raises(NotFound):
        store.create_token("nobody", "x", user="boss")


def test_unknown_and_revoked_tokens_are_refused_and_counted(empty_store):
    store = empty_store
    for bad in ("", "Bearer", "cc_" + "x" * 43, "not-a-token", "cc_" + "é" * 43):
        with pytest.raises(PermissionDenied):
            store.authenticate_token(bad, "198.51.100.9")
    counted = dict(store.db.rows("SELECT key, failures FROM login_throttle"))
    assert counted == {"token-address:198.51.100.9": 5}  # apart from the password logins' counters
    log = store.admin_log()
    assert (log["new_value"] == "unknown API token").sum() == 5


def test_the_token_table_is_secret_to_analysts_and_in_schema_15(empty_store):
    assert empty_store.schema_version >= 15  # the tokens came with schema 15
    with pytest.raises(CustomerCardError):
        empty_store.sql("SELECT token_hash FROM api_tokens")


# -- the command line ------------------------------------------------------------------------------------------------
def test_tokens_on_the_command_line(empty_template, tmp_path: Path):
    from .conftest import copy_database

    db = str(copy_database(empty_template, tmp_path))
    made = run("--db", db, "tokens", "create", "anna", "--name", "nightly sync", "--read-only")
    assert made.returncode == 0, made.stderr
    lines = made.stdout.strip().splitlines()
    assert lines[0] == "Made API token 1 “nightly sync” for anna, read-only."
    secret = lines[-1]
    assert secret.startswith("cc_")
    listed = run("--db", db, "tokens", "list", "anna")
    assert listed.returncode == 0 and "nightly sync" in listed.stdout and "read-only" in listed.stdout
    assert secret not in listed.stdout and secret[:9] in listed.stdout and "never" in listed.stdout
    with Store(db) as store:
        assert store.authenticate_token(secret)[0].login == "anna"
    assert run("--db", db, "tokens", "revoke", "1").stdout.startswith("Revoked API token 1")
    again = run("--db", db, "tokens", "revoke", "1")
    assert again.returncode == 0 and "revoked already" in again.stdout
    for args, message in ((("tokens", "revoke", "7"), "No API token with id 7."),
                          (("tokens", "create", "nobody", "--name", "x"), "No user with the login"),
                          (("tokens", "create", "anna", "--name", " "), "name:"),
                          (("tokens", "list", "nobody"), "No user with the login")):
        failed = run("--db", db, *args)
        assert failed.returncode == 1 and failed.stderr.count("\n") == 1 and message in failed.stderr, failed.stderr
    assert run("--db", db, "tokens", "create", "anna").returncode == 2  # --name is required
    with Store(db) as store:
        log = store.admin_log()
        assert set(log[log["area"] == "API tokens"]["changed_by"]) == {"system:cli"}


# -- the profile page's block, without a browser ------------------------------------------------------------------
def listed(view: ApiTokens) -> pn.Column:
    """The list of my tokens as drawn."""
    return one(view, pn.Column, "cc-token-list")


def drawn(view: ApiTokens, css: str) -> str:
    """The markup of the pane with this class, as drawn."""
    return one(view, pn.pane.HTML, css).object


def name_input(view: ApiTokens) -> pn.widgets.TextInput:
    """Where the new token's name is typed."""
    return one(view, pn.widgets.TextInput, "cc-token-name")


def test_the_profile_block_shows_the_secret_once_lists_and_revokes(empty_store):
    store = empty_store
    view = ApiTokens(store, "anna")
    assert "No API tokens" in listed(view).objects[0].object
    name_input(view).value = "<b>sync</b>"
    labelled(view, "Read only (reads, changes nothing)").value = True
    assert view.create()
    shown = drawn(view, "cc-token-secret")
    secret = re.search(r"class='cc-token-secret-value'[^>]*>([^<]+)</code>", shown).group(1)
    assert store.authenticate_token(secret)[1] is True
    assert "&lt;b&gt;sync&lt;/b&gt;" in shown and "<b>sync" not in shown
    assert name_input(view).value == "" and labelled(view, "Read only (reads, changes nothing)").value is False
    row = listed(view).objects[0].objects[0].object
    assert "&lt;b&gt;sync" in row and "read-only" in row and "never" in row and secret not in row
    assert not drawn(ApiTokens(store, "anna"), "cc-token-secret")  # shown once: a new page does not have it

    name_input(view).value = "<b>sync</b>"
    assert not view.create()
    assert "already" in pane_text(view, "cc-token-note") and drawn(view, "cc-token-secret") == ""

    other = ApiTokens(store, "anna")  # the same person's other page revokes it first
    token_id = store.tokens("anna")[0].id
    other.revoke(token_id)
    assert "revoked" in pane_text(other, "cc-token-note")
    view.revoke(token_id)
    assert "revoked already" in pane_text(view, "cc-token-note") and "No API tokens" in listed(view).objects[0].object


# -- the request budget --------------------------------------------------------------------------------------------
def test_the_request_budget_lets_a_minutes_worth_through_then_one_at_a_time():
    from customercard.http_api.limits import RequestBudget

    now = [1000.0]
    budget = RequestBudget(60, clock=lambda: now[0])
    assert [budget.take("a") for _ in range(60)] == [0] * 60
    assert budget.take("a") == 1 and budget.take("b") == 0  # each key its own budget
    now[0] += 1.0
    assert budget.take("a") == 0 and budget.take("a") == 1  # one more a second
    now[0] += 3600.0
    assert [budget.take("a") for _ in range(60)] == [0] * 60 and budget.take("a") == 1  # full again, no more


# -- a password reset ---------------------------------------------------------------------------------------------
def test_an_administrators_password_reset_revokes_the_users_tokens_their_own_change_keeps_them(empty_store):
    store = empty_store
    _token, kept = store.create_token("anna", "nightly sync", user="anna")
    store.change_password("anna", "secret", "a-second-fine-secret")
    assert store.authenticate_token(kept)[0].login == "anna"  # her own change: her scripts go on

    _token, leaked = store.create_token("anna", "laptop", user="anna")
    assert store.set_password("anna", "a-third-fine-secret", by="boss") == 2
    for secret in (kept, leaked):
        with pytest.raises(PermissionDenied):
            store.authenticate_token(secret)
    assert store.tokens("anna") == []
    revoked = store.db.records("SELECT name, revoked_by FROM api_tokens WHERE login = 'anna' ORDER BY id")
    assert [(r["name"], r["revoked_by"]) for r in revoked] == [("nightly sync", "boss"), ("laptop", "boss")]
    log = store.admin_log()
    said = log[(log["area"] == "API tokens") & (log["new_value"] == "revoked, password reset")]
    assert sorted(said["item"]) == ["anna: laptop", "anna: nightly sync"] and set(said["changed_by"]) == {"boss"}
    assert store.set_password("anna", "a-fourth-fine-secret", by="boss") == 0  # nothing left to revoke
    _token, fresh = store.create_token("anna", "laptop", user="anna")  # the name is free again
    assert store.authenticate_token(fresh)[0].login == "anna"


def test_a_refused_reset_revokes_nothing(empty_store):
    store = empty_store
    _token, secret = store.create_token("anna", "sync", user="anna")
    with pytest.raises(ValidationError):
        store.set_password("anna", "password123", by="boss")  # the policy refuses it
    with pytest.raises(PermissionDenied):
        store.set_password("anna", "a-fine-long-secret", by="vera")  # not an administrator
    assert store.authenticate_token(secret)[0].login == "anna"


def test_the_reset_on_the_command_line_and_the_admin_page_say_the_tokens_revoked(empty_template, tmp_path: Path):
    from customercard.ui.admin import UsersAdmin

    from .conftest import copy_database

    db = str(copy_database(empty_template, tmp_path))
    with Store(db) as store:
        store.create_token("anna", "sync", user="anna")
        store.create_token("vera", "one", user="vera")
        store.create_token("vera", "two", user="vera")
    reset = run("--db", db, "users", "set-password", "anna", "--password", "a-sound-passphrase")
    assert reset.returncode == 0, reset.stderr
    assert reset.stdout.splitlines() == ["New password set for anna.", "1 API token of anna revoked (a reset ends what "
                                         "the old password could make)."]
    with Store(db) as store:
        assert store.tokens("anna") == []
        users = UsersAdmin(store, "boss")
        labelled(users, "User").value = "vera"
        labelled(users, "New password (leave empty to keep)").value = "vera-has-a-new-secret"
        assert users.save()
        assert "2 API tokens of theirs were revoked" in pane_text(users, "cc-admin-note")
        assert store.tokens("vera") == []
