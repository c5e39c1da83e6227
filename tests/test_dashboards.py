"""`panel serve dashboards/*.py` with our auth module: the thin entry files serve the same login and pages."""

from __future__ import annotations

import http.cookiejar
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from .conftest import copy_database, form_login, free_port, wait_for_port

ROOT = Path(__file__).resolve().parent.parent


def test_dashboard_files_serve_behind_the_login(demo_template, tmp_path):
    database = copy_database(demo_template, tmp_path / "db")
    port = free_port()
    env = {**os.environ, "CUSTOMERCARD_DB": str(database), "CUSTOMERCARD_DATA_DIR": str(tmp_path)}
    command = [sys.executable, "-m", "panel", "serve", *sorted(str(p) for p in (ROOT / "dashboards").glob("*.py")),
               "--port", str(port), "--address", "127.0.0.1", "--allow-websocket-origin", f"127.0.0.1:{port}",
               "--auth-module", str(ROOT / "customercard" / "bokeh_auth.py"), "--cookie-secret", "test-secret-1234"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        wait_for_port(port, timeout=90)
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        first = opener.open(f"http://127.0.0.1:{port}/card?customer=1")
        assert "/login" in first.url
        page = form_login(opener, f"http://127.0.0.1:{port}", "anna", next_path="/card?customer=1")
        assert page.url.endswith("/card?customer=1") and page.status == 200
        assert b"customercard" in page.read()
        # Panel's /components route imports no module a URL names (unittest.__main__ would exit the server)
        for module in ("unittest.__main__", "customercard.__main__"):
            try:
                opener.open(f"http://127.0.0.1:{port}/components/{module}/x/_css/y.css")
                raise AssertionError(f"{module}: served")
            except urllib.error.HTTPError as error:
                assert error.code == 404, module
        assert opener.open(f"http://127.0.0.1:{port}/card?customer=1").status == 200  # it answers on
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
