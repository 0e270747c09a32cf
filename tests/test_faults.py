"""Surviving faults: the database going away and coming back, a web worker killed
in the middle of bookings, and a production start without a secret key."""

import http.client
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from booking.bookings.models import Booking
from booking.extensions import db
from tests.conftest import make_app, migrate_to_head
from tests.support.factories import DIRECT, make_magistrate, make_rules
from tests.support.live_server import LiveServer
from tests.support.postgres import PostgresServer
from tests.support.racing import post_json

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_database_outage_is_a_503_and_the_service_recovers_by_itself():
    server = PostgresServer()
    server.start()
    try:
        server.admin_execute("CREATE DATABASE outage")
        url = server.url("outage")
        migrate_to_head(url)
        app = make_app(url + "?connect_timeout=3")
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/units").status_code == 200
        server.pause()
        health = client.get("/healthz")
        assert health.status_code == 503
        api = client.get("/api/v1/units")
        assert api.status_code == 503 and api.mimetype == "application/problem+json"
        assert "Traceback" not in api.get_data(as_text=True)
        page = client.get("/")
        assert page.status_code == 503 and "indisponível" in page.get_data(as_text=True)
        server.resume()
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/units").status_code == 200
        with app.app_context():
            db.engine.dispose()
    finally:
        server.stop()


def worker_pids(master_pid: int) -> list[int]:
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def test_a_killed_worker_loses_no_booking_whose_201_reached_the_client(app, database_url):
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        db.session.commit()
        magistrate_id = magistrate.id
    slots = app.test_client().get(f"/api/v1/magistrates/{magistrate_id}/slots",
                                  query_string={"to": None}).get_json()
    starts = [s["start"] for s in slots][:80]
    confirmed: list[int] = []
    lock = threading.Lock()
    with LiveServer(database_url, workers=3) as server:
        def client(offset: int):
            for index in range(offset, len(starts), 4):
                body = {"magistrate_id": magistrate_id, "start": starts[index], "mode": "video",
                        "lawyer": {"name": "Maria Souza", "oab": f"{1000 + index}/MT",
                                   "email": f"m{index}@example.com",
                                   "phone": "(65) 99999-0000"},
                        "case_number": "0001234-03.2026.8.11.0041", "subject": "Assunto",
                        "consent": True}
                try:
                    status, answer = post_json(server.url, "/api/v1/bookings", body, DIRECT,
                                               timeout=20)
                except (OSError, http.client.HTTPException):
                    # the worker died under this request, perhaps after the status line and
                    # before the body: no whole 201 reached us
                    continue
                if status == 201:
                    with lock:
                        confirmed.append(answer["id"])

        threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while len(confirmed) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        victims = worker_pids(server.process.pid)
        assert victims, "no gunicorn worker found to kill"
        os.kill(victims[0], signal.SIGKILL)
        for thread in threads:
            thread.join(120)
    assert len(confirmed) >= 10
    with app.app_context():
        stored = dict(db.session.execute(select(Booking.id, Booking.status)).all())
    assert all(stored.get(booking_id) == "confirmed" for booking_id in confirmed)


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "SECRET_KEY"}
    env.update(BOOKING_ENV="production", DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "routes"], cwd=REPO,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    env["SECRET_KEY"] = "a-long-random-value-for-this-test-only"
    ok = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "routes"], cwd=REPO,
                        env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
