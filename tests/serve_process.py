"""`customercard serve` (or `panel serve`) as a user starts it: a real process on a loopback port, stopped by its own
pid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from customercard.store.discovery import file_of

from .conftest import free_port, wait_for_port


class ServeProcess:
    """``python -m customercard --db DATABASE serve --port PORT [extra …]`` with its own data folder; with
    ``command`` another module's server (``panel``), its arguments given whole."""

    def __init__(self, database: Path | str, data_dir: Path, extra: list[str] = (), command: list[str] | None = None,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {**os.environ, "CUSTOMERCARD_DATA_DIR": str(data_dir), **(env or {})}
        environ.pop("PYTHONMALLOC", None)
        args = [sys.executable, "-m", *(command or ["customercard", "--db", str(database), "serve"]),
                "--port", str(self.port), *extra]
        self.process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        env=environ, cwd=cwd)
        try:
            wait_for_port(self.port, timeout=90)
        except RuntimeError:
            raise RuntimeError(f"{args} did not start: {self.stop()}") from None
        if command is None:  # customercard serve writes its discovery file once it listens
            deadline = time.monotonic() + 30
            while not file_of(Path(cwd or ".") / database).exists() and time.monotonic() < deadline:
                time.sleep(0.05)

    def stop(self) -> str:
        """Stop it as Ctrl+C does (its own pid), and give what it printed."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        try:
            output, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output
