"""Calendars on loopback for the busy-time tests: a plain HTTP server of .ics files (as a
published Outlook or Google calendar is served), and Radicale, a real CalDAV server from
PyPI, each started and stopped by the test that uses it."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tests.support.postgres import free_port
from tests.support.processes import stop_process, wait_until_answers


class _Handler(SimpleHTTPRequestHandler):
    """Files as they are, plus two misbehaving addresses: /erro.ics and /lento.ics."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        if self.path.startswith("/erro.ics"):
            self.send_error(500, "falha do servidor de calendário")
            return
        if self.path.startswith("/lento.ics"):
            time.sleep(float(self.server.hang_seconds))
            self.send_error(504)
            return
        if self.path.startswith("/redireciona.ics"):
            self.send_response(302)
            self.send_header("Location", "http://192.0.2.1/outro.ics")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, *args):
        pass


class IcsServer:
    def __init__(self, folder: Path, hang_seconds: float = 5):
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port),
                                          partial(_Handler, directory=str(folder)))
        self.server.hang_seconds = hang_seconds
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def publish(self, name: str, text: str) -> str:
        path = self.folder / name
        path.write_text(text, encoding="utf-8")
        # Last-Modified has a resolution of one second: make each version newer.
        stamp = time.time() + getattr(self, "_bump", 0)
        self._bump = getattr(self, "_bump", 0) + 2
        import os

        os.utime(path, (stamp, stamp))
        return f"{self.url}/{name}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Radicale:
    """Radicale with no authentication, storing in a temporary folder."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{self.port}",
             "--storage-filesystem-folder", str(self.folder), "--auth-type", "none",
             "--rights-type", "authenticated", "--logging-level", "warning"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if not wait_until_answers(self.url + "/.web", self.process):
            self.stop()
            raise RuntimeError("Radicale did not start")

    def make_calendar(self, user: str, name: str) -> str:
        """A new calendar of the user's; returns its address."""
        import caldav

        client = caldav.DAVClient(url=self.url, username=user, password="x")
        calendar = client.principal().make_calendar(name=name, cal_id=name)
        return str(calendar.url)

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
