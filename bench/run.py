"""`make bench`: the service against this machine's ceiling for a Flask service.

For each database (SQLite, PostgreSQL) and scale (a state, the country) it
loads the data, starts the service under gunicorn, drives it with wrk on
loopback, does the same to a minimal Flask app on the same settings (the
ceiling), races clients for one slot (and, on PostgreSQL, across two
instances), measures memory per worker, and writes a markdown report with
every figure as a share of the ceiling and against the targets.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.datagen import SCALES, generate  # noqa: E402
from tests.support.postgres import PostgresServer, free_port  # noqa: E402

LUA = REPO / "bench" / "lua"
RESULTS = REPO / "bench" / "results"  # one JSON per database and scale, kept between runs
WORKERS = int(os.environ.get("BENCH_WORKERS", "4"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
DURATION = os.environ.get("BENCH_DURATION", "10s")
SECRET = "bench-only-secret-not-for-production"
# PostgreSQL as a production server would have it on this machine: a quarter of the
# memory for its buffers (the suite's throwaway server runs with 64 MB). Durability is
# off as in the suite's server, for the service and the ceiling alike.
POSTGRES_SETTINGS = {"shared_buffers": "6GB", "effective_cache_size": "16GB"}


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
        import signal

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


INTEGRATION_KEY = "int_bench-0123456789abcdef"


def service_env(database_url: str) -> dict:
    return {"BOOKING_ENV": "production", "SECRET_KEY": SECRET, "DATABASE_URL": database_url,
            "RATELIMIT_ENABLED": "false", "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": "9",
            # gunicorn's start runs flask check: this is one machine, not a court's https site
            "SQLITE_SINGLE_MACHINE": "true", "PUBLIC_BASE_URL": "https://agendamento.example"}


def prepare_database(backend: str, scale_name: str, workdir: Path, postgres) -> tuple[str, dict, float]:
    from flask_migrate import upgrade

    from booking import create_app
    from booking.extensions import db
    from config import TestConfig

    if backend == "sqlite":
        url = f"sqlite:///{workdir / f'{scale_name}.db'}"
    else:
        name = f"bench_{scale_name}"
        postgres.admin_execute(f"DROP DATABASE IF EXISTS {name}")
        postgres.admin_execute(f"CREATE DATABASE {name}")
        url = postgres.url(name)
    config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**config, "SQLALCHEMY_DATABASE_URI": url})
    started = time.monotonic()
    with app.app_context():
        upgrade()
        counts = generate(db.engine, SCALES[scale_name])
        # The booking figures are the court portal's (an integration key books directly);
        # the held-then-confirmed pair is measured apart (issue #21).
        from booking.accounts.models import IntegrationKey
        from booking.security import token_hash

        db.session.add(IntegrationKey(name="bench", key_hash=token_hash(INTEGRATION_KEY)))
        db.session.commit()
        db.engine.dispose()
    return url, counts, time.monotonic() - started


def explain_listing(url: str) -> str:
    from sqlalchemy import create_engine, text

    from booking.availability.service import open_slots_query

    engine = create_engine(url)
    now = datetime.now(ZoneInfo("UTC"))
    query = open_slots_query(1, now + timedelta(days=1), now + timedelta(days=29))
    compiled = str(query.compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as connection:
        prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN ANALYZE "
        rows = connection.execute(text(prefix + compiled)).all()
    engine.dispose()
    return "\n".join(" | ".join(str(c) for c in row) for row in rows)


def booking_bodies(url: str, path: Path, count: int = 30000) -> None:
    """Distinct open slots, each with its own lawyer, as one JSON body per line."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT magistrate_id, start_at FROM slot WHERE state = 'open' "
            "ORDER BY start_at DESC LIMIT :n"), {"n": count}).all()
    engine.dispose()
    zone = ZoneInfo("America/Cuiaba")
    with path.open("w") as out:
        for number, (magistrate_id, start) in enumerate(rows):
            if isinstance(start, str):
                start = datetime.fromisoformat(start).replace(tzinfo=ZoneInfo("UTC"))
            out.write(json.dumps({
                "magistrate_id": magistrate_id, "start": start.astimezone(zone).isoformat(),
                "mode": "video", "lawyer": {"name": f"Advogada Bench {number}",
                                            "oab": f"{number + 1}/SP", "email": f"b{number}@bench.com",
                                            "phone": "(65) 99999-0000"},
                "case_number": "0001234-03.2026.8.11.0041", "subject": "Despacho",
                "consent": True}) + "\n")


def race(urls: list[str], body: dict, requests: int = 1000, connections: int = 100) -> dict:
    """`requests` POSTs for one slot over `connections` keep-alive connections."""
    import http.client
    import threading
    from collections import Counter
    from urllib.parse import urlsplit

    statuses: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(connections)
    per_connection = requests // connections

    def client(index: int) -> None:
        parts = urlsplit(urls[index % len(urls)])
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        barrier.wait()
        for attempt in range(per_connection):
            payload = {**body, "lawyer": {**body["lawyer"], "oab": f"{index * 100 + attempt + 1}/RJ"}}
            try:
                connection.request("POST", "/api/v1/bookings", body=json.dumps(payload),
                                   headers={"Content-Type": "application/json",
                                            "X-Integration-Key": INTEGRATION_KEY})
                response = connection.getresponse()
                response.read()
                status = response.status
            except OSError:
                status = "error"
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
            with lock:
                statuses[status] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return dict(statuses)


def run_combo(backend: str, scale_name: str, workdir: Path, postgres) -> dict:
    print(f"== {backend} / {scale_name}: loading data", flush=True)
    url, counts, load_seconds = prepare_database(backend, scale_name, workdir, postgres)
    result = {"backend": backend, "scale": scale_name, "counts": counts,
              "measured_at": datetime.now().strftime("%Y-%m-%d %H:%M"),
              "load_seconds": round(load_seconds, 1), "explain": explain_listing(url)}
    bodies = workdir / f"bodies-{backend}-{scale_name}.jsonl"
    booking_bodies(url, bodies)
    magistrates = SCALES[scale_name].magistrates
    today = datetime.now(ZoneInfo("America/Cuiaba")).date()
    listing_path = ("/api/v1/magistrates/%d/slots?from=" + today.isoformat() + "&to="
                    + (today + timedelta(days=27)).isoformat())
    agenda_path = "/magistrados/%d/agenda?semana=" + (today + timedelta(days=7)).isoformat()
    service = Gunicorn("wsgi:app", service_env(url))
    try:
        common = {"MAG_FIRST": "1", "MAG_LAST": str(magistrates)}
        wrk(service.url, "listing.lua", {**common, "TARGET_PATH": listing_path}, duration="3s")
        print(f"== {backend} / {scale_name}: measuring the service", flush=True)
        result["listing"] = wrk(service.url, "listing.lua", {**common, "TARGET_PATH": listing_path})
        result["agenda"] = wrk(service.url, "listing.lua", {**common, "TARGET_PATH": agenda_path})
        result["booking"] = wrk(service.url, "bodies.lua", {"BODIES": str(bodies),
                                                            "TARGET_PATH": "/api/v1/bookings",
                                                            "INTEGRATION_KEY": INTEGRATION_KEY})
        result["memory_mb"] = service.worker_rss_mb()
        race_body = json.loads(bodies.read_text().splitlines()[-1])
        result["race"] = race([service.url], race_body)
        if backend == "postgresql":
            second = Gunicorn("wsgi:app", service_env(url))
            try:
                other_body = json.loads(bodies.read_text().splitlines()[-2])
                result["race_two_instances"] = race([service.url, second.url], other_body)
            finally:
                second.stop()
    finally:
        service.stop()
    print(f"== {backend} / {scale_name}: measuring the ceiling", flush=True)
    ceiling_url = url
    env = {"CEILING_DATABASE_URL": ceiling_url}
    subprocess.run([sys.executable, "-m", "bench.ceiling"], cwd=REPO, env={**os.environ, **env},
                   check=True, stdout=subprocess.DEVNULL)
    ceiling = Gunicorn("bench.ceiling:app", env)
    try:
        wrk(ceiling.url, "ceiling.lua", {"CEILING_MODE": "read"}, duration="3s")
        result["ceiling"] = {mode: wrk(ceiling.url, "ceiling.lua", {"CEILING_MODE": mode})
                             for mode in ("hello", "read", "insert")}
        result["ceiling_memory_mb"] = ceiling.worker_rss_mb()
    finally:
        ceiling.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scales", default="state,country")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--report", default=str(REPO / "bench" / "REPORT.md"))
    parser.add_argument("--report-only", action="store_true",
                        help="rewrite the report from the results already measured")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if not args.report_only:
        workdir = Path(tempfile.mkdtemp(prefix="booking-bench-"))
        postgres = None
        try:
            if "postgresql" in args.backends:
                postgres = PostgresServer(POSTGRES_SETTINGS)
                postgres.start()
            for backend in args.backends.split(","):
                for scale in args.scales.split(","):
                    result = run_combo(backend, scale, workdir, postgres)
                    (RESULTS / f"{backend}-{scale}.json").write_text(
                        json.dumps(result, indent=2, default=str))
        finally:
            if postgres is not None:
                postgres.stop()
            shutil.rmtree(workdir, ignore_errors=True)
    from bench.report import write_report

    order = {"sqlite": 0, "postgresql": 1, "state": 0, "country": 1}
    results = sorted((json.loads(p.read_text()) for p in RESULTS.glob("*.json")),
                     key=lambda r: (order[r["backend"]], order[r["scale"]]))
    Path(args.report).write_text(write_report(results, POSTGRES_SETTINGS))
    print(f"Report written to {args.report}")


if __name__ == "__main__":
    main()
