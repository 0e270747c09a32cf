"""One scheduler per deployment: a second one waits and takes over when the first dies."""

import os
import selectors
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from booking.accounts.models import ApiToken
from booking.database import utcnow
from booking.extensions import db
from booking.jobs import JOBS
from booking.scheduler import build_scheduler, run_job
from tests.support.factories import make_staff

REPO = Path(__file__).resolve().parents[1]


def start_holder(database_url, lock_file):
    env = {**os.environ, "DATABASE_URL": database_url, "SCHEDULER_LOCK_FILE": str(lock_file)}
    return subprocess.Popen([sys.executable, "-m", "tests.support.hold_scheduler_lock"],
                            cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def said_locked(process, timeout):
    selector = selectors.DefaultSelector()
    selector.register(process.stdout, selectors.EVENT_READ)
    ready = selector.select(timeout)
    selector.close()
    return bool(ready) and process.stdout.readline().strip() == "locked"


@pytest.mark.slow
def test_second_scheduler_waits_then_takes_over(database_url, tmp_path):
    lock_file = tmp_path / "scheduler.lock"
    first = start_holder(database_url, lock_file)
    second = None
    try:
        assert said_locked(first, 20), "the first scheduler never got the lock"
        second = start_holder(database_url, lock_file)
        assert not said_locked(second, 3), "two schedulers held the lock at once"
        first.send_signal(signal.SIGKILL)
        first.wait()
        assert said_locked(second, 20), "the second scheduler did not take over"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()


def test_jobs_never_pile_up(app):
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = build_scheduler(app, BackgroundScheduler)
    scheduler.start(paused=True)  # defaults are applied to jobs at start
    try:
        jobs = scheduler.get_jobs()
        assert {job.id for job in jobs} == {job.name for job in JOBS}
        for job in jobs:
            assert job.coalesce is True
            assert job.max_instances == 1
            assert job.misfire_grace_time > 0
    finally:
        scheduler.shutdown(wait=False)


def test_run_job_commits_and_survives_failures(app, caplog):
    from datetime import timedelta

    from booking.accounts.service import issue_token

    with app.app_context():
        user = make_staff("admin")
        issue_token(user, now=utcnow() - timedelta(days=3))
        issue_token(user)
        db.session.commit()

    def purge():
        from booking.accounts.service import purge_expired_tokens
        purge_expired_tokens()

    def broken():
        raise RuntimeError("job failure")

    run_job(app, broken)  # must not raise
    assert "job failure" in caplog.text
    run_job(app, purge)
    with app.app_context():
        assert len(db.session.scalars(select(ApiToken)).all()) == 1
