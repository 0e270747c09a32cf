"""What every part of the benchmark shares: gunicorn, wrk, the service's settings, bodies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from tests.support.postgres import free_port

REPO = Path(__file__).resolve().parents[1]
LUA = REPO / "bench" / "lua"
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
SECRET = "bench-only-secret-not-for-production"


class Gunicorn:
    def __init__(self, app_path: str, env: dict, workers: int = WORKERS):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "--workers", str(workers), "--bind",
             f"127.0.0.1:{self.port}", "--no-control-socket", "--keep-alive", "30",
             "--log-level", "warning", app_path],
            cwd=REPO, env={**os.environ, **env}, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                urllib.request.urlopen(self.url + "/healthz" if "wsgi" in app_path
                                       else self.url + "/hello", timeout=1)
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"{app_path} did not start")

    def worker_rss_mb(self) -> list[float]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        sizes = []
        for pid in children.read_text().split():
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) / 1024)
        return sizes

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def wrk(url: str, script: str, env: dict, connections: int = CONNECTIONS,
        duration: str = DURATION) -> dict:
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--timeout", "10s",
               "-s", str(LUA / script), url]
    result = subprocess.run(command, capture_output=True, text=True,
                            env={**os.environ, "LUA_DIR": str(LUA), "THREADS": "2", **env})
    for line in result.stdout.splitlines():
        if line.startswith("WRKJSON "):
            return json.loads(line[len("WRKJSON "):])
    raise RuntimeError(f"wrk printed no result:\n{result.stdout}\n{result.stderr}")


def answered(run: dict, status: str) -> float:
    """The rate of a wrk run's answers that did what was asked: a refusal is no booking or
    hold, and a run that ran out of open slots (its 409s are quick) must not look faster."""
    total = sum(run["statuses"].values())
    return run["rps"] * run["statuses"].get(status, 0) / total if total else 0.0


INTEGRATION_KEY = "int_bench-0123456789abcdef"


def service_env(database_url: str) -> dict:
    return {"BOOKING_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": "false", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": "9",
            # gunicorn's start runs flask check: this is one machine, not a court's https site
            "SQLITE_SINGLE_MACHINE": "true", "PUBLIC_BASE_URL": "https://agendamento.example",
            # behind the court's proxy, as deployed: the public's holds come each from its
            # own address (bodies.lua's FORWARDED_FOR), under the per-client hold cap
            "PROXY_FIX_HOPS": "1"}


def booking_bodies(url: str, path: Path, count: int = 30000, prefix: str = "b",
                   extra: dict | None = None, skip: int = 0) -> None:
    """Distinct open slots, each with its own lawyer (address `<prefix><n>@bench.com`), as
    one JSON body per line, latest first after `skip` of them; `extra` adds fields
    (answers, notify_by)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        # A total order: thousands of slots share each start, and PostgreSQL's sort breaks
        # such ties differently for another LIMIT, so a run's warm-up bodies (the first
        # 2,000) came back among its measured ones (skip 2,000), already booked: 409s.
        rows = connection.execute(text(
            "SELECT magistrate_id, start_at FROM slot WHERE state = 'open' "
            "ORDER BY start_at DESC, id DESC LIMIT :n OFFSET :skip"),
            {"n": count, "skip": skip}).all()
    engine.dispose()
    zone = ZoneInfo("America/Cuiaba")
    with path.open("w") as out:
        for number, (magistrate_id, start) in enumerate(rows):
            if isinstance(start, str):
                start = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo("UTC"))
            out.write(json.dumps({
                "magistrate_id": magistrate_id, "start": start.astimezone(zone).isoformat(),
                "mode": "video",
                "lawyer": {"name": f"Advogada Bench {number}", "oab": f"{number + 1}/SP",
                           "email": f"{prefix}{number}@bench.com", "phone": "(65) 99999-0000"},
                "case_number": "0001234-03.2026.8.11.0041", "subject": "Despacho",
                "consent": True, **(extra or {})}) + "\n")


def warm_and_measured_bodies(url: str, workdir: Path, tag: str,
                              extra: dict | None = None) -> tuple[Path, Path]:
    """2,000 bodies to warm a fresh service's workers up with, and the measured run's,
    for other slots; each lawyer's address starts with `tag`."""
    warm, bodies = workdir / f"{tag}-warm.jsonl", workdir / f"{tag}-bodies.jsonl"
    booking_bodies(url, warm, count=2000, prefix=f"{tag}w", extra=extra)
    booking_bodies(url, bodies, prefix=f"{tag}b", skip=2000, extra=extra)
    return warm, bodies
