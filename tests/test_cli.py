"""The command line, run as a user runs it: a real process, real files, one clear line on mistakes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import customercard as cc
from customercard.store import Store


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "customercard", *args], capture_output=True, check=False, text=True,
                          input=stdin, timeout=120)


def test_help_for_every_command():
    for command in ([], ["serve"], ["demo"], ["users"], ["users", "add"], ["backup"]):
        result = run(*command, "--help")
        assert result.returncode == 0 and "usage: customercard" in result.stdout


def test_demo_users_and_backup_round_trip(tmp_path: Path):
    db = str(tmp_path / "cli.duckdb")
    made = run("--db", db, "demo", "--customers", "30", "--seed", "2", "--quiet")
    assert made.returncode == 0, made.stderr
    assert "Made 30 customers" in made.stdout and "admin (admin)" in made.stdout

    added = run("--db", db, "users", "add", "nina", "--name", "Nina Ek", "--email", "nina@firm.example",
                "--role", "manager", "--projects-access", "--password-stdin", stdin="s3cret-pass\n")
    assert added.returncode == 0, added.stderr
    assert run("--db", db, "users", "set-role", "nina", "viewer").returncode == 0
    assert run("--db", db, "users", "set-password", "nina", "--password", "another-one").returncode == 0
    assert run("--db", db, "users", "deactivate", "erik").returncode == 0
    listed = run("--db", db, "users", "list").stdout
    assert "nina" in listed and "viewer" in listed and "erik" in listed and "(deactivated)" in listed

    with Store(db) as store:
        assert store.authenticate("nina", "another-one").role == "viewer"
        assert store.authenticate("nina", "s3cret-pass") is None
        assert store.authenticate("erik", "demo") is None
        stored_hash = store.db.row("SELECT password_hash FROM users WHERE login = 'nina'")[0]
        assert "another-one" not in stored_hash and stored_hash.startswith("scrypt$")

    backup = tmp_path / "copy.duckdb"
    assert run("--db", db, "backup", str(backup)).returncode == 0
    # the database and its backup hold password hashes and personal data: readable by their owner only
    assert Path(db).stat().st_mode & 0o777 == 0o600 and backup.stat().st_mode & 0o777 == 0o600
    person = tmp_path / "person"
    assert run("--db", db, "privacy", "export", "1", str(person)).returncode == 0
    assert [p.stat().st_mode & 0o777 for p in (tmp_path / "person.json", tmp_path / "person.vcf")] == [0o600] * 2
    with Store(backup) as copy, Store(db) as original:
        for table in ("customers", "invoices", "customer_changes", "user_directory"):
            query = f"SELECT count(*) AS n FROM {table}"
            assert copy.sql(query)["n"][0] == original.sql(query)["n"][0]


def test_mistakes_are_one_line_and_non_zero(tmp_path: Path):
    db = str(tmp_path / "m.duckdb")
    assert run("--db", db, "demo", "--customers", "5", "--quiet").returncode == 0
    cases = [
        (["users", "add", "Bad Login!", "--password", "abcd"], "login"),
        (["users", "add", "x1", "--password", "ab"], "password"),
        (["users", "set-role", "nobody", "admin"], "No user"),
        (["users", "set-role", "admin", "viewer"], "last active administrator"),
        (["demo", "--customers", "5"], "holds data already"),
        (["backup", db], "exists already"),
        (["users", "add", "x2", "--role", "owner"], "invalid choice"),
        # both ways of giving a password: which was meant is not guessed (stdin's was quietly not used)
        (["users", "add", "x3", "--password", "Kx9#mQ2vLp7z", "--password-stdin"], "not allowed with"),
        (["users", "set-password", "anna", "--password", "Kx9#mQ2vLp7z", "--password-stdin"], "not allowed with"),
        (["frobnicate"], "invalid choice"),
        # no --name: the name is the login, and only the login is said to be too long
        (["users", "add", "a" * 300, "--password", "Kx9#mQ2vLp7z"], "login: At most 32 characters."),
    ]
    for args, expected in cases:
        result = run("--db", db, *args)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (args, result.stderr)
        assert "Traceback" not in result.stderr and "name:" not in lines[0].replace("login:", ""), args


def test_a_bad_setting_in_the_environment_is_one_line_naming_it(tmp_path: Path):
    env = {**os.environ, "CUSTOMERCARD_SEARCH_IN_MEMORY": "perhaps", "CUSTOMERCARD_DATA_DIR": str(tmp_path)}
    env.pop("CUSTOMERCARD_DB", None)
    result = subprocess.run([sys.executable, "-m", "customercard", "users", "list"], capture_output=True, check=False,
                            text=True, env=env, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [
        "customercard: error: CUSTOMERCARD_SEARCH_IN_MEMORY must be yes or no (1/0, true/false, on/off), "
        "not 'perhaps'"]
    env["CUSTOMERCARD_SEARCH_IN_MEMORY"] = "Off"
    env["CUSTOMERCARD_SMTP_PORT"] = "25x"
    result = subprocess.run([sys.executable, "-m", "customercard", "users", "list"], capture_output=True, check=False,
                            text=True, env=env, timeout=120)
    assert result.stderr.strip() == "customercard: error: CUSTOMERCARD_SMTP_PORT must be a whole number, not '25x'"
    assert get_config_from({"CUSTOMERCARD_SEARCH_IN_MEMORY": "Off"}).search_in_memory is False
    assert get_config_from({"CUSTOMERCARD_SEARCH_IN_MEMORY": " yes "}).search_in_memory is True
    assert get_config_from({}).search_in_memory is True
    # a language customercard does not speak is said too (it would be English without a word)
    env.pop("CUSTOMERCARD_SMTP_PORT")
    env["CUSTOMERCARD_LANGUAGE"] = "fr"
    result = subprocess.run([sys.executable, "-m", "customercard", "users", "list"], capture_output=True, check=False,
                            text=True, env=env, timeout=120)
    assert result.returncode == 1 and result.stderr.strip() == (
        "customercard: error: CUSTOMERCARD_LANGUAGE must be one of 'en', 'sv', 'da', not 'fr'")
    for spoken in ("sv", "da_DK.UTF-8", "en-GB", " ", ""):
        get_config_from({"CUSTOMERCARD_LANGUAGE": spoken})


def get_config_from(environ: dict[str, str]):
    from customercard.config import Config

    return Config.from_env(environ)


def test_version_is_exposed():
    assert cc.__version__


def test_reindex_sorts_the_search_index_again_and_keeps_every_entry(tmp_path: Path):
    db = str(tmp_path / "reindex.duckdb")
    assert run("--db", db, "demo", "--customers", "40", "--seed", "3", "--quiet").returncode == 0
    with Store(db) as store:
        customer = store.get_customer(store.find_customers(limit=1)[0]["id"].iloc[0])
        customer.nickname = "Zebrafink Holding"
        store.save_customer(customer, user="anna")
        before = store.db.row("SELECT count(*) FROM search_terms")[0]
    done = run("--db", db, "reindex")
    assert done.returncode == 0, done.stderr
    assert f"{before} entries" in done.stdout
    with Store(db) as store:
        assert store.search("zebrafink")["id"].tolist() == [customer.id]
        indexes = {name for (name,) in store.db.rows(
            "SELECT index_name FROM duckdb_indexes() WHERE table_name LIKE 'search_%'")}
        # the lookups by word and term read sorted row groups; a rebuild does not bring their indexes back
        assert "search_words_word" not in indexes and "search_terms_term" not in indexes
        assert {"search_words_entry", "search_terms_entry", "search_fuzzy_variant"} <= indexes


def test_the_password_policy_and_ended_sessions_from_the_cli(tmp_path: Path):
    db = str(tmp_path / "p.duckdb")
    assert run("--db", db, "demo", "--customers", "5", "--quiet").returncode == 0
    cases = [(["users", "add", "nina", "--password", "short-12"], "password: A password needs at least 10 characters."),
             (["users", "add", "nina", "--password", "Password123"], "one of the most common passwords"),
             (["users", "set-password", "anna", "--password", "qwertyuiop"], "one of the most common passwords"),
             (["users", "set-password", "anna", "--password", "1234567890"], "one of the most common passwords"),
             (["users", "set-password", "anna", "--password", "anna"], "at least 10 characters")]
    for args, expected in cases:
        result = run("--db", db, *args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1 and expected in lines[0], (args, result.stderr)
    with Store(db) as store:
        assert "nina" not in set(store.users(include_inactive=True)["login"])
        assert store.authenticate("anna", "demo") is not None  # nothing stored was lost
        token = store.start_session("anna")
        kept = store.start_session("erik")
    changed = run("--db", db, "users", "set-password", "anna", "--password-stdin", stdin="a-sound-passphrase\n")
    assert changed.returncode == 0, changed.stderr
    assert run("--db", db, "users", "deactivate", "erik").returncode == 0
    with Store(db) as store:
        assert store.session_login(token) is None and store.session_login(kept) is None
        assert store.authenticate("anna", "a-sound-passphrase") is not None


def test_db_may_come_after_the_command(tmp_path: Path):
    """`customercard demo --db X` as well as `customercard --db X demo` (both are in use); the later one wins."""
    first, second = str(tmp_path / "a.duckdb"), str(tmp_path / "b.duckdb")
    made = run("demo", "--db", first, "--customers", "12", "--quiet")
    assert made.returncode == 0, made.stderr
    assert run("users", "list", "--db", first).stdout.count("manager") >= 1
    assert run("--db", second, "users", "deactivate", "erik", "--db", first).returncode == 0
    with Store(first) as store:
        assert not store.get_user("erik").active
    assert not Path(second).exists()


def test_a_notebook_named_as_one_of_the_apps_pages_is_refused(tmp_path: Path):
    """``--notebook profile.ipynb`` took the profile page's place (no password change, no tokens) without a word."""
    from .conftest import free_port

    notebook = Path(__file__).resolve().parent.parent / "notebooks" / "02-account-overview.ipynb"
    for name in ("profile.ipynb", "Search.ipynb", "login.ipynb", "ws.ipynb"):
        clash = tmp_path / name
        clash.write_bytes(notebook.read_bytes())
        result = run("--db", str(tmp_path / "x.duckdb"), "serve", "--notebook", str(clash), "--port",
                     str(free_port()))
        assert result.returncode != 0 and "rename the file" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    missing = run("--db", str(tmp_path / "x.duckdb"), "serve", "--notebook", str(tmp_path / "gone.ipynb"), "--port",
                  str(free_port()))  # it said "is not a notebook"
    assert missing.returncode != 0 and "gone.ipynb does not exist" in missing.stderr, missing.stderr


def test_a_database_the_command_line_makes_is_the_firm_s_and_a_wrong_one_is_refused_in_one_line(tmp_path: Path):
    """The first administrator added (or a first import) before the first `serve` left the firm without any list
    (every status of an import refused); a CSV given as --db "worked" on a throw-away database; a dry run at a
    mistyped --db made a database; a mistyped URL became folders named after it, password and all; STARTTLS in
    CUSTOMERCARD_SMTP_SECURITY ended every command in a traceback; a password line ending in \\r\\n kept the \\r."""
    db = tmp_path / "firm.duckdb"
    added = run("--db", str(db), "users", "add", "boss", "--name", "Bo Ss", "--role", "admin", "--password-stdin",
                stdin="correct horse battery\r\n")
    assert added.returncode == 0, added.stderr
    with Store(str(db)) as store:
        assert len(store.list_values("statuses")) > 0 and store.criteria()
        assert store.authenticate("boss", "correct horse battery") is not None

    sheet = tmp_path / "people.csv"
    sheet.write_text("name,city\nAcme,Lund\n", encoding="utf-8")
    for args in (["--db", str(sheet), "users", "add", "x1", "--password", "correct horse 42"],
                 ["--db", str(tmp_path / "typo.duckdb"), "import", "--dry-run", str(sheet)],
                 ["migrate", "--from", str(db), "--to", "postgresq://cc:secret@db.example/firm"]):
        refused = run(*args)
        lines = refused.stderr.strip().splitlines()
        assert refused.returncode != 0 and len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
        assert "secret" not in refused.stderr
    assert sheet.read_text(encoding="utf-8") == "name,city\nAcme,Lund\n"
    assert not (tmp_path / "typo.duckdb").exists() and not any(p.name.startswith("postgresq") for p in Path().iterdir())

    environment = {**os.environ, "CUSTOMERCARD_SMTP_SECURITY": "STARTTLS"}
    listed = subprocess.run([sys.executable, "-m", "customercard", "--db", str(db), "users", "list"],
                            capture_output=True, text=True, env=environment, check=False, timeout=120)
    assert listed.returncode == 0 and "boss" in listed.stdout, listed.stderr
    environment["CUSTOMERCARD_SMTP_SECURITY"] = "tls-please"
    wrong = subprocess.run([sys.executable, "-m", "customercard", "--db", str(db), "users", "list"],
                           capture_output=True, text=True, env=environment, check=False, timeout=120)
    assert wrong.returncode != 0 and "Traceback" not in wrong.stderr and "CUSTOMERCARD_SMTP_SECURITY" in wrong.stderr


def test_cookie_secret_prints_the_secret_the_server_signs_with(tmp_path: Path, empty_store, capsys):
    """`panel serve dashboards/*.py --cookie-secret "$(cat data/cookie_secret)"` failed where that file is never
    written (PostgreSQL keeps the secret in the database): `customercard cookie-secret` prints the one in use."""
    from customercard.cli import main
    from customercard.login import cookie_secret

    if empty_store.location.startswith("postgresql://"):
        assert main(["--db", empty_store.location, "cookie-secret"]) == 0
        assert capsys.readouterr().out.strip() == empty_store.shared_secret("cookie_secret")
        return
    data = tmp_path / "data"
    printed = subprocess.run([sys.executable, "-m", "customercard", "cookie-secret"], capture_output=True, text=True,
                             env={**os.environ, "CUSTOMERCARD_DATA_DIR": str(data)}, check=False, timeout=120)
    assert printed.returncode == 0 and len(printed.stdout.strip()) > 40
    assert printed.stdout.strip() == cookie_secret(data) == (data / "cookie_secret").read_text(encoding="utf-8")


def test_a_new_postgresql_database_gets_the_firm_s_lists_from_its_first_import_and_two_servers_may_start(
        pg_server, tmp_path: Path, capsys):
    """A firm on PostgreSQL made its empty database and ran `customercard import` first: every status and industry
    was refused (only `serve` filled the lists). Two processes filling the lists at once: one failed (a duplicate)."""
    import threading

    from customercard.cli import main
    from customercard.firm_defaults import install_defaults

    url = pg_server.create_database(f"fresh_import_{os.getpid()}")
    sheet = tmp_path / "one.csv"
    sheet.write_text("Name,Status,Industry\nFörsta AB,Active,Consulting\n", encoding="utf-8")
    assert main(["--db", url, "import", str(sheet)]) == 0, capsys.readouterr()
    with Store(url) as store:
        assert store.find_customers()[1] == 1 and len(store.list_values("statuses")) > 0

    other = pg_server.create_database(f"fresh_race_{os.getpid()}")
    stores = [Store(other), Store(other)]
    failed: list[BaseException] = []

    def fill(store: Store) -> None:
        try:
            install_defaults(store)
        except BaseException as exc:  # told below
            failed.append(exc)
    threads = [threading.Thread(target=fill, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    assert len(stores[0].list_values("statuses")) == len(set(stores[0].list_values("statuses")["label"])) > 0
    for store in stores:
        store.close()


@pytest.mark.parametrize("language, stages, size", [
    ("sv", ["Ny affär", "Kvalificerad", "Offert", "Förhandling", "Muntligt ja"], "Storlek"),
    ("da", ["Kundeemne", "Kvalificeret", "Tilbud", "Forhandling", "Mundtligt ja"], "Størrelse"),
    ("en", ["Lead", "Qualified", "Proposal", "Negotiation", "Verbal yes"], "Size")])
def test_a_new_firm_s_lists_are_in_the_language_it_is_set_up_in(tmp_path: Path, language, stages, size):
    """A firm set up in Swedish (CUSTOMERCARD_LANGUAGE=sv) got its pipeline, statuses, event types and criteria in
    English: "Lead" and "Phone call" inside Swedish sentences. The demo keeps its English lists (its records name
    them), whatever the language."""
    env = {**os.environ, "CUSTOMERCARD_LANGUAGE": language}
    db = str(tmp_path / "new.duckdb")
    made = subprocess.run([sys.executable, "-m", "customercard", "--db", db, "users", "add", "boss", "--name", "Boss",
                           "--role", "admin", "--password", "Boss-has-a-long-passphrase-7"], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert made.returncode == 0, made.stderr
    with Store(db) as store:
        assert list(store.list_values("opportunity_stages")["label"]) == stages
        assert size in {criterion.name for criterion in store.criteria()}
        assert "SEK" in set(store.list_values("currencies")["label"])
    demo = subprocess.run([sys.executable, "-m", "customercard", "demo", "--db", str(tmp_path / "demo.duckdb"),
                           "--customers", "5", "--quiet"], capture_output=True, text=True, env=env, timeout=300,
                          check=False)
    assert demo.returncode == 0, demo.stderr
    with Store(str(tmp_path / "demo.duckdb")) as store:
        assert store.list_values("opportunity_stages")["label"].iloc[0] == "Lead"
