"""The command line while a server holds the DuckDB file: `customercard users`, `tokens`, `import`, `export` and
`privacy` are done by that server (its discovery file's key), with the same checks and history as on the file; an API
token may not make tokens or set passwords that way; the server's own upkeep still needs the file."""

from __future__ import annotations

import csv
import itertools
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

import customercard as cc
from customercard.cli import CLI_ACTOR, main
from customercard.errors import PermissionDenied

USING = "Using the running server at {url}"
_NAMES = itertools.count(1)


@pytest.fixture(scope="module")
def served(live_server):
    """The app served in this process (it writes its discovery file beside its own copy of the demo database)."""
    return SimpleNamespace(store=live_server.store, server=live_server.server, url=live_server.url,
                           database=Path(live_server.store.location))


def cli(served, capsys, *args: str) -> tuple[int, str, str]:
    """Run the command line here; the server must have done it (said on the first line, as a user sees it: in this
    test's own process the file could otherwise be opened beside the server)."""
    code = main(["--db", str(served.database), *args])
    said = capsys.readouterr()
    assert said.out.startswith(USING.format(url=served.url)), said
    return code, said.out, said.err


def test_tokens_are_made_listed_and_revoked_while_the_server_runs(served, capsys):
    name = f"nightly export {next(_NAMES)}"
    code, out, _err = cli(served, capsys, "tokens", "create", "erik", "--name", name)
    assert code == 0 and USING.format(url=served.url) in out.splitlines()[0]
    secret = out.strip().splitlines()[-1]  # the secret, on the last line
    made = [t for t in served.store.tokens("erik") if t.name == name]
    assert len(made) == 1 and secret.startswith(made[0].hint)
    with cc.connect(served.url, token=secret) as store:  # the token works at once
        assert store.login == "erik"
    code, out, _err = cli(served, capsys, "tokens", "list", "erik")
    assert code == 0 and name in out and secret not in out
    code, out, _err = cli(served, capsys, "tokens", "revoke", str(made[0].id))
    assert code == 0 and f"Revoked API token {made[0].id}" in out
    assert not [t for t in served.store.tokens("erik") if t.name == name]
    with pytest.raises(PermissionDenied):
        cc.connect(served.url, token=secret)
    code, out, _err = cli(served, capsys, "tokens", "revoke", str(made[0].id))
    assert code == 0 and "revoked already" in out


def test_users_are_kept_while_the_server_runs_with_the_same_checks_and_log(served, capsys):
    login = f"temp{next(_NAMES)}"
    code, out, _err = cli(served, capsys, "users", "add", login, "--name", "Tilda Temp", "--role", "manager",
                          "--password", "a long enough pass 1")
    assert code == 0 and f"Added {login}" in out
    assert served.store.authenticate(login, "a long enough pass 1") is not None
    code, _out, err = cli(served, capsys, "users", "set-password", login, "--password", "short")
    assert code == 1 and "error" in err and len(err.strip().splitlines()) == 1  # refused, one clear line
    assert served.store.authenticate(login, "a long enough pass 1") is not None  # nothing changed
    token = served.store.start_session(login)
    code, out, _err = cli(served, capsys, "users", "set-password", login, "--password", "another long pass 2")
    assert code == 0 and served.store.authenticate(login, "another long pass 2") is not None
    assert served.store.session_login(token) is None  # an administrator's new password ends the sessions
    assert cli(served, capsys, "users", "set-role", login, "viewer")[0] == 0
    assert served.store.get_user(login).role == "viewer"
    assert cli(served, capsys, "users", "deactivate", login)[0] == 0
    assert not served.store.get_user(login).active
    code, out, _err = cli(served, capsys, "users", "list")
    assert code == 0 and login in out and "deactivated" in out
    log = served.store.admin_log(limit=50)
    mine = log[log["item"].astype(str).str.split(":").str[0] == login]
    assert len(mine) >= 4 and set(mine["changed_by"]) == {CLI_ACTOR}


def test_export_and_import_while_the_server_runs(served, capsys, tmp_path):
    exported = tmp_path / "customers.csv"
    code, out, _err = cli(served, capsys, "export", "customers", str(exported))
    count = int(served.store.sql("SELECT count(*) AS n FROM customers")["n"][0])
    assert code == 0 and f"Exported {count} customers" in out
    with exported.open(encoding="utf-8-sig") as file:
        assert len(list(csv.DictReader(file))) == count
    new = tmp_path / "new.csv"
    new.write_text("Name,City,Country\nBeside The Server AB,Lund,SE\n", encoding="utf-8")
    code, out, _err = cli(served, capsys, "import", str(new), "--dry-run")
    assert code == 0 and served.store.list_customers("Beside The Server")[0].empty
    code, out, _err = cli(served, capsys, "import", str(new), "--user", "anna")
    found = served.store.list_customers("Beside The Server")[0]
    assert code == 0 and len(found) == 1
    history = served.store.history(int(found["id"].iloc[0]))
    assert set(history["changed_by"]) == {"anna"}
    code, out, _err = cli(served, capsys, "import", str(new))  # the same again: a possible duplicate is said
    assert "Beside The Server AB" in out


def test_privacy_export_while_the_server_runs_writes_here(served, capsys, tmp_path):
    contact_id = int(served.store.sql("SELECT min(id) AS id FROM contacts")["id"][0])
    code, _out, _err = cli(served, capsys, "privacy", "export", str(contact_id), str(tmp_path / "person"))
    assert code == 0 and (tmp_path / "person.json").exists() and (tmp_path / "person.vcf").exists()
    assert not (tmp_path / "person").exists()  # a bare name gets the ending of what it holds


def test_an_api_token_may_not_make_tokens_or_set_passwords(served):
    token, secret = served.store.create_token("admin", f"admin script {next(_NAMES)}", user="admin")
    with cc.connect(served.url, token=secret) as store:
        with pytest.raises(PermissionDenied, match="profile page"):
            store.create_token("admin", "another")
        with pytest.raises(PermissionDenied):
            store.tokens("admin")
        with pytest.raises(PermissionDenied):
            store.set_password("anna", "a long enough pass 3", by="admin")
        for call in (lambda: store.get_token(token.id), lambda: store.revoke_token(token.id)):
            with pytest.raises(PermissionDenied):
                call()
        assert store.get_user("anna").login == "anna"  # reading users still works
    assert served.store.get_token(token.id).login == "admin"  # not revoked by the refused call


def test_the_servers_own_upkeep_still_needs_the_file(served):
    done = subprocess.run([sys.executable, "-m", "customercard", "--db", str(served.database), "reindex"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and "in use by another program" in done.stderr and "stop it first" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_duplicate_check_travels_and_is_bounded(served):
    from customercard.store.search import MAX_DUPLICATE_QUERIES, DuplicateQuery

    name = str(served.store.sql("SELECT name FROM customers ORDER BY id LIMIT 1")["name"][0])
    with cc.open_store(served.database) as remote:
        found = remote.duplicates_of([DuplicateQuery(name=name), DuplicateQuery(name="Nobody Like This AB")])
        assert any(hit[2] == name for hit in found[0]) and found[1] == []
        with pytest.raises(cc.ValidationError):
            remote.duplicates_of([DuplicateQuery(name="x")] * (MAX_DUPLICATE_QUERIES + 1))


def test_a_refused_privacy_export_says_the_refusal(served, capsys, tmp_path):
    contact_id = int(served.store.sql("SELECT min(id) AS id FROM contacts")["id"][0])
    code, _out, err = cli(served, capsys, "privacy", "export", str(contact_id), str(tmp_path / "p"), "--user", "anna")
    assert code == 1 and "Only administrators" in err and "Cannot write" not in err and ".." not in err
    assert not (tmp_path / "p").exists()


def test_a_server_started_with_a_relative_db_is_found_from_any_folder(demo_template, tmp_path, capsys):
    """`customercard --db firm.duckdb serve` in the firm's folder: a command (or a notebook) elsewhere naming the same
    file was refused "in use by another program" — the server answered the name as given, which the other folder
    read as another file."""
    from .conftest import copy_database
    from .serve_process import ServeProcess

    folder = tmp_path / "firm"
    folder.mkdir()
    database = Path(copy_database(demo_template, folder))
    server = ServeProcess(database.name, tmp_path / "data", cwd=folder)
    try:
        code = main(["--db", str(database), "users", "list"])
        said = capsys.readouterr()
        assert code == 0 and said.out.startswith(USING.format(url=server.url)), said
        store = cc.open_store(str(database))  # a notebook's: through the server (the file is held)
        try:
            assert "anna" in set(store.users()["login"])
        finally:
            store.close()
    finally:
        server.stop()
