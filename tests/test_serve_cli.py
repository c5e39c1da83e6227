"""`customercard serve` as a user starts it: a real process on a loopback port, demo data, the login."""

from __future__ import annotations

import http.cookiejar
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

from .conftest import form_login, free_port, wait_for_port


def test_serve_creates_demo_data_prints_logins_and_requires_login(tmp_path):
    port = free_port()
    db = tmp_path / "served.duckdb"
    env = {**os.environ, "CUSTOMERCARD_DATA_DIR": str(tmp_path)}
    env.pop("PYTHONMALLOC", None)
    process = subprocess.Popen([sys.executable, "-m", "customercard", "--db", str(db), "serve",
                                "--demo-if-missing", "--customers", "25", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        wait_for_port(port, timeout=90)
        time.sleep(0.3)
        # The server runs on the C library's allocator, in the same process it was started as.
        environ = (Path("/proc") / str(process.pid) / "environ").read_bytes().split(b"\0")
        assert b"PYTHONMALLOC=malloc" in environ
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"http://127.0.0.1:{port}/search")
        assert "/login" in page.url and b"login-form" in page.read()
        response = form_login(opener, f"http://127.0.0.1:{port}", "anna", next_path="/search")
        assert response.status == 200 and response.url.endswith("/search")
        assert "user" in {cookie.name for cookie in jar}
        assert b"bokeh" in response.read().lower()
        assert (tmp_path / "cookie_secret").exists()
        assert oct((tmp_path / "cookie_secret").stat().st_mode & 0o777) == "0o600"
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
    assert db.exists()
    assert "Demo logins" in output and "anna" in output and "vera" in output
    assert "Search index held in memory:" in output  # read ahead as the server started



def test_sigterm_stops_the_server_cleanly_once_it_serves(tmp_path):
    """A service manager's stop (SIGTERM) of a serving server: it ends within seconds, with its discovery file gone.
    (Raised as KeyboardInterrupt at whatever the interpreter was doing, a stop could land in a callback Python runs
    without letting it out, and the server went on serving until a second SIGTERM.)"""
    port = free_port()
    db = tmp_path / "stopped.duckdb"
    env = {**os.environ, "CUSTOMERCARD_DATA_DIR": str(tmp_path)}
    process = subprocess.Popen([sys.executable, "-m", "customercard", "--db", str(db), "serve",
                                "--demo-if-missing", "--customers", "10", "--port", str(port)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        wait_for_port(port, timeout=90)
        server_file = db.with_name(db.name + ".server.json")
        deadline = time.monotonic() + 20
        while not server_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server_file.exists()
        for _ in range(3):  # a few requests: the server is busy the way it is when stopped
            urllib.request.urlopen(f"http://127.0.0.1:{port}/login").read()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode in (0, 130), output[-2000:]
    assert not server_file.exists()
    assert "Traceback" not in output, output[-2000:]

RESTART = ("import os, sys\n"
           "print(os.getpid(), os.environ.get('PYTHONMALLOC'), flush=True)\n"
           "from customercard.memory import use_system_allocator\n"
           "use_system_allocator()\n"
           "print(os.getpid(), os.environ.get('PYTHONMALLOC'), flush=True)\n")


def test_the_server_command_starts_again_on_the_system_allocator_unless_one_is_chosen():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONMALLOC"}
    lines = subprocess.run([sys.executable, "-c", RESTART], env=env, capture_output=True, text=True,
                           check=True).stdout.split("\n")
    pid = lines[0].split()[0]
    # Started again in place (the same process id) with the variable set, and only once.
    assert lines == [f"{pid} None", f"{pid} malloc", f"{pid} malloc", ""]
    chosen = subprocess.run([sys.executable, "-c", RESTART], env={**env, "PYTHONMALLOC": "pymalloc"},
                            capture_output=True, text=True, check=True).stdout.split()
    assert chosen[1::2] == ["pymalloc", "pymalloc"] and chosen[0] == chosen[2]


def test_serve_on_a_postgres_url_keeps_the_firm_s_lists_and_never_prints_its_password(pg_server, empty_template_pg,
                                                                                      tmp_path):
    """``postgres://`` (as libpq and most hosts write it) is a database URL as ``postgresql://`` is: serve with
    --demo-if-missing found it "missing", tried to fill a database holding data (a traceback) and printed the URL,
    password and all; without it, it put the firm's renamed default lists back at every start."""
    from customercard.store import Store

    from .conftest import database_numbers
    from .serve_process import ServeProcess

    name = f"serve_{next(database_numbers)}"
    pg_server.create_database(name, template=empty_template_pg)
    # (the loopback cluster trusts its users: the password is only read, never checked)
    url = pg_server.url(name).replace("postgresql://", "postgres://").replace("postgres@", f"postgres:sekret-{name}@")
    try:
        with Store(url) as store:
            store.create_customer(user="anna", name="The Firm's Own Customer AB")
            first = store.list_values("industries").iloc[0]
            store.rename_list_value(int(first["id"]), "Renamed by the firm", user="boss",
                                    version=int(first["version"]))
        server = ServeProcess(url, tmp_path, extra=["--demo-if-missing", "--customers", "5"])
        said = server.stop()
        assert "Traceback" not in said and "Creating" not in said and f"sekret-{name}" not in said, said
        with Store(url) as store:
            labels = list(store.list_values("industries")["label"])
            assert "Renamed by the firm" in labels and first["label"] not in labels
            assert list(store.find_customers()[0]["name"]) == ["The Firm's Own Customer AB"]
    finally:
        pg_server.sql(f'DROP DATABASE "{name}" WITH (FORCE)')
