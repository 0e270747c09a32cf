"""The real service under gunicorn with several workers, on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[2]


class LiveServer:
    def __init__(self, database_url: str, workers: int = 4, extra_env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen | None = None
        self.output = None  # a file, not a pipe: a chatty server never blocks on a full pipe

    def start(self, timeout: float = 30.0) -> None:
        env = {**os.environ, "BOOKING_ENV": "test", "DATABASE_URL": self.database_url,
               **self.extra_env}
        self.output = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
             "--bind", f"127.0.0.1:{self.port}", "--no-control-socket",
             "--graceful-timeout", "5", "wsgi:app"],
            cwd=REPO, env=env, stdout=self.output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.process = None
                raise RuntimeError(f"gunicorn exited early:\n{self._printed()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("gunicorn did not answer /healthz in time")

    def stop(self) -> str:
        """Stop the server and every worker; returns what it printed."""
        if self.process is None:
            return ""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None
        return self._printed()

    def _printed(self) -> str:
        if self.output is None:
            return ""
        self.output.seek(0)
        text = self.output.read().decode(errors="replace")
        self.output.close()
        self.output = None
        return text

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
