"""The health probe and the answer when the database is gone."""

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import make_app
from tests.support.postgres import free_port


def test_healthz_is_200_with_the_database_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_unreachable_database_gives_503_everywhere():
    app = make_app(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/none"
                   "?connect_timeout=2")
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503
    api = client.get("/api/v1/units")
    assert api.status_code == 503
    assert api.mimetype == "application/problem+json"
    assert api.headers["Retry-After"]
    page = client.get("/")
    assert page.status_code == 503
    assert "indisponível" in page.get_data(as_text=True)


def test_readyz_waits_for_the_scheduler_and_the_newest_migration(app, client):
    from datetime import timedelta

    from sqlalchemy import text, update

    from booking.database import utcnow
    from booking.extensions import db
    from booking.scheduler import run_job
    from booking.scheduler_status import SchedulerRun

    never = client.get("/readyz")
    assert never.status_code == 503
    assert never.get_json() == {"status": "unavailable", "database": "ok", "migrations": "ok",
                                "scheduler": "never_ran"}

    def send_outbox():
        pass

    def broken():
        raise ValueError("a job's bug, with data@example.com in its message")

    run_job(app, send_outbox, "send_outbox")
    run_job(app, broken, "broken")
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.get_json()
    assert ready.get_json()["status"] == "ok"
    with app.app_context():
        failed = db.session.get(SchedulerRun, "broken")
        assert failed.failures_in_a_row == 1 and failed.last_error == "ValueError"
        assert failed.last_succeeded_at is None
        db.session.execute(update(SchedulerRun).values(
            last_finished_at=utcnow() - timedelta(seconds=app.config[
                "READYZ_SCHEDULER_MAX_AGE_SECONDS"] + 60)))
        db.session.commit()
    assert client.get("/readyz").get_json()["scheduler"] == "stale"

    run_job(app, send_outbox, "send_outbox")
    with app.app_context():  # a node whose database is one migration behind this code
        db.session.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        db.session.commit()
    behind = client.get("/readyz")
    assert behind.status_code == 503 and behind.get_json()["migrations"] == "behind"
    assert client.get("/healthz").status_code == 200  # alive, only not ready


def test_a_web_worker_leaves_out_what_only_commands_and_the_scheduler_use():
    """Each gunicorn worker holds its own copy of every module it imports: migrations,
    the HTTP client of deliveries and calendar reads, JWT signing and QR drawing are
    loaded where they are used (about 20 MB per worker; issue #21's memory target)."""
    left_out = ["alembic", "flask_migrate", "authlib.integrations", "requests", "jwt", "segno"]
    probe = ("import json, sys, wsgi; "
             f"print(json.dumps([m for m in {left_out!r} if m in sys.modules]))")
    env = {**os.environ, "BOOKING_ENV": "test", "BOOKING_WEB_WORKER": "1",
           "DATABASE_URL": "sqlite://", "OIDC_ISSUER": ""}
    done = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).resolve().parents[1],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == []
