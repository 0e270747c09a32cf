"""A throwaway PostgreSQL server for the suite, started from the local binaries.

It lives in a temporary folder, listens only on loopback, runs without
durability (the data is thrown away) and is stopped when the suite ends.
"""

from __future__ import annotations

import glob
import os
import pwd
import random
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def find_pg_bindir() -> Path | None:
    """Debian keeps the server binaries off PATH, under /usr/lib/postgresql/N/bin."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                        key=lambda p: int(Path(p).parts[-3]), reverse=True)
    if candidates:
        return Path(candidates[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


_GIVEN: set[int] = set()  # the ports this process handed out, never handed out twice


def free_port() -> int:
    """A loopback port free now, for a server that binds it a moment later.

    It is taken below the kernel's ephemeral range: a port from bind(0) lies inside that
    range, and between this call and the server's bind an outgoing connection (the
    browser's, a database driver's) could be given it as its source port, so that the
    server failed to start now and then. Where the range leaves no room below it, bind(0).
    """
    low = _ephemeral_range()[0]
    if low > 12_000:
        for _ in range(200):
            port = random.randint(low - 10_000, low - 1)
            if port not in _GIVEN and _bindable(port):
                _GIVEN.add(port)
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ephemeral_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class PostgresServer:
    """Start with start(), stop with stop(); url(dbname) gives a SQLAlchemy URL."""

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        """settings: more `-c name=value` server settings (the benchmark's memory)."""
        self.settings = settings or {}
        bindir = find_pg_bindir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL server binaries (initdb) not found. Install Debian's "
                "'postgresql' package (make system-deps does it), or run only the "
                "SQLite half with BOOKING_TEST_DATABASES=sqlite."
            )
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="booking-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self._user = None
        if os.geteuid() == 0:  # initdb refuses to run as root
            self._user = "postgres"
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    def _run(self, *args: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], user=self._user,
                              check=True, capture_output=True, text=True, **kwargs)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        self.resume()

    def pause(self) -> None:
        """Stop the server but keep its data, to start it again on the same port."""
        self._run("pg_ctl", "-D", str(self.datadir), "-m", "fast", "-w", "stop")

    def resume(self) -> None:
        options = " ".join([
            f"-p {self.port}", f"-k {self.root}", "-c listen_addresses=127.0.0.1",
            "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
            "-c max_connections=300", "-c shared_buffers=64MB",
            *(f"-c {name}={value}" for name, value in self.settings.items()),
        ])
        self._run("pg_ctl", "-D", str(self.datadir), "-o", options, "-l",
                  str(self.root / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.datadir), "-m", "immediate", "-w", "stop")
        except (subprocess.CalledProcessError, FileNotFoundError):
            pass
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def admin_execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user="postgres",
                             dbname="postgres", autocommit=True) as connection:
            for _attempt in range(50):
                try:
                    connection.execute(sql)
                    return
                except psycopg.errors.ObjectInUse:  # a template still has a session
                    time.sleep(0.1)
            connection.execute(sql)
