"""Command-line mistakes that ended in a traceback: a backup or a personal-data export to a path that cannot be
written (a file where a folder should be, /proc), and ``serve`` on a port in use, out of range or an address not this
machine's. Each ends with one line on stderr and a non-zero exit; a backup made by the running server says why too."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from .conftest import copy_database
from .serve_process import ServeProcess
from .test_cli import run


@pytest.fixture
def database(demo_template, tmp_path: Path) -> str:
    return str(copy_database(demo_template, tmp_path))


def one_line(result, code: int = 1) -> str:
    """The command failed with ``code`` and said why in one line on stderr (no traceback)."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and len(lines) == 1, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    return lines[0]


def test_a_backup_or_personal_data_to_a_path_that_cannot_be_written_is_one_line(database, tmp_path: Path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    line = one_line(run("--db", database, "backup", str(afile / "x.duckdb")))
    assert line == f"customercard: error: Cannot write {afile / 'x.duckdb'}: {afile} is a file, not a folder."
    line = one_line(run("--db", database, "backup", "/proc/x.duckdb"))
    assert line.startswith("customercard: error: Cannot write /proc/x.duckdb: ")
    line = one_line(run("--db", database, "privacy", "export", "1", str(afile / "sub" / "p.zip")))
    assert line == f"customercard: error: Cannot write {afile / 'sub' / 'p.zip'}: {afile} is a file, not a folder."
    for target in ("/proc/p.zip", "/proc/p.json"):
        line = one_line(run("--db", database, "privacy", "export", "1", target))
        assert line.startswith(f"customercard: error: Cannot write {target}: ")
    assert run("--db", database, "backup", str(tmp_path / "new" / "x.duckdb")).returncode == 0  # a folder is made


@pytest.mark.parametrize("port", ["99999", "-1", "0", "http"])
def test_serve_on_a_port_that_is_no_port_is_one_line(database, port):
    line = one_line(run("--db", database, "serve", "--port", port), code=2)
    assert "--port" in line and "from 1 to 65535" in line


def test_serve_on_a_port_in_use_or_an_address_not_ours_is_one_line(database):
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--db", database, "serve", "--port", str(port))
    line = one_line(result)
    assert line == (f"customercard: error: Port {port} is in use already (another server?): stop that one, or "
                    "choose another port with --port.")
    assert result.stdout == ""  # refused before anything was opened or served
    line = one_line(run("--db", database, "serve", "--port", str(port), "--address", "256.1.1.1"))
    assert line.startswith(f"customercard: error: Cannot serve on 256.1.1.1 port {port}: ")


def test_a_backup_the_running_server_cannot_write_says_why(database, tmp_path: Path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    server = ServeProcess(database, tmp_path / "data")
    try:
        line = one_line(run("--db", database, "backup", "/proc/x.duckdb"))
        assert line.startswith("customercard: error: Cannot write /proc/x.duckdb: ") and "server failed" not in line
        line = one_line(run("--db", database, "backup", str(afile / "x.duckdb")))
        assert line == f"customercard: error: Cannot write {afile / 'x.duckdb'}: {afile} is a file, not a folder."
        made = run("--db", database, "backup", str(tmp_path / "copy.duckdb"))
        assert made.returncode == 0 and "made by the running server" in made.stdout, made.stderr
    finally:
        output = server.stop()
    assert "Traceback" not in output


@pytest.mark.parametrize("count", ["0", "-5", "many"])
def test_demo_with_no_customers_is_one_line_and_makes_no_file(tmp_path: Path, count):
    target = tmp_path / "demo.duckdb"
    line = one_line(run("demo", "--db", str(target), "--customers", count, "--quiet"), code=2)
    assert "--customers" in line and "at least 1" in line
    assert not target.exists()  # nothing half-made to refuse the next try
    made = run("demo", "--db", str(target), "--customers", "2", "--quiet")
    assert made.returncode == 0, made.stderr


@pytest.mark.parametrize("day", ["2026-13-01", "2026-02-30", "soon"])
def test_demo_with_a_day_that_is_no_date_is_one_line_and_makes_no_file(tmp_path: Path, day):
    target = tmp_path / "demo.duckdb"
    line = one_line(run("demo", "--db", str(target), "--today", day, "--quiet"), code=2)
    assert "--today" in line and "YYYY-MM-DD" in line and day in line
    assert not target.exists()


@pytest.mark.parametrize("command", [["users", "list"], ["export", "customers", "out.csv"], ["reindex"],
                                     ["backup", "copy.duckdb"], ["tokens", "list", "anna"]])
def test_a_command_on_a_database_that_is_not_there_says_so_and_makes_none(tmp_path: Path, command):
    typo = tmp_path / "typo.duckdb"
    line = one_line(run("--db", str(typo), *[str(tmp_path / c) if c.endswith((".csv", ".duckdb")) else c
                                               for c in command]))
    assert "There is no database at" in line and "typo.duckdb" in line
    assert not typo.exists() and not (tmp_path / "copy.duckdb").exists()


def test_the_first_user_of_a_new_database_is_still_added_from_the_command_line(tmp_path: Path):
    new = tmp_path / "firm.duckdb"
    added = run("--db", str(new), "users", "add", "boss", "--role", "admin", "--password-stdin",
                stdin="a long enough pass phrase\n")
    assert added.returncode == 0, added.stderr
    assert "boss" in run("--db", str(new), "users", "list").stdout


def test_the_command_line_s_own_words_follow_its_language(tmp_path: Path, monkeypatch, database):
    """argparse's words (usage, headings, mistakes) and the database-in-use message, in Swedish and Danish."""
    monkeypatch.setenv("CUSTOMERCARD_LANGUAGE", "sv")
    helped = run("users", "--help")
    assert helped.returncode == 0 and "användning: customercard users" in helped.stdout
    assert "positionsargument" in helped.stdout and "visa den här hjälptexten" in helped.stdout
    line = one_line(run("demo", "--db", str(tmp_path / "x.duckdb"), "--customers", "x"), code=2)
    assert line.startswith("customercard demo: fel: argument --customers: ange ett heltal")
    line = one_line(run("users", "--db", database, "nonsense"), code=2)
    assert "ogiltigt val: 'nonsense'" in line
    monkeypatch.setenv("CUSTOMERCARD_LANGUAGE", "da")
    assert "brug: customercard" in run("--help").stdout


def test_output_into_a_reader_that_stops_early_ends_quietly(database):
    import subprocess
    import sys

    piped = subprocess.run(f"{sys.executable} -m customercard --db {database} users list | head -c 0", shell=True,
                           capture_output=True, text=True, timeout=120, check=False)
    assert piped.stdout == "" and "Traceback" not in piped.stderr and "BrokenPipe" not in piped.stderr
