"""The one process that runs background jobs, guarded so only one runs at a time.

A second scheduler started by mistake blocks on the lock and takes over when
the first dies: PostgreSQL releases an advisory lock with its session, and
the kernel releases a file lock with its process.
"""

from __future__ import annotations

import logging
import signal
from contextlib import contextmanager
from datetime import UTC, datetime

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy import text

from .database import utcnow
from .extensions import db
from .jobs import JOBS
from .notifications.senders import SenderProcesses
from .request_log import job_context
from .scheduler_status import record_run
from .stopping import request_stop

log = logging.getLogger(__name__)

# An arbitrary 64-bit key naming "the booking scheduler" among advisory locks.
ADVISORY_LOCK_KEY = 7_311_202_401


@contextmanager
def scheduler_lock(app: Flask):
    """Hold the deployment-wide scheduler lock for the life of the block."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            log.info("waiting for the scheduler advisory lock")
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"),
                                   {"key": ADVISORY_LOCK_KEY})
                connection.commit()
    else:
        from pathlib import Path

        from filelock import FileLock

        path = Path(app.config["SCHEDULER_LOCK_FILE"])
        path.parent.mkdir(parents=True, exist_ok=True)
        log.info("waiting for the scheduler file lock %s", path.name)
        with FileLock(str(path)):
            yield


def build_scheduler(app: Flask, scheduler_class=BlockingScheduler):
    """A scheduler with every job of jobs.JOBS, each run inside an app context."""
    scheduler = scheduler_class(
        timezone="UTC",
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    for job in JOBS:
        trigger_args = dict(job.trigger_args)
        if job.trigger == "cron":  # "03:30" means 03:30 at the court
            trigger_args["timezone"] = app.config["COURT_TIMEZONE"]
        else:  # a restart does not wait an interval to send what waits (every job is idempotent)
            trigger_args["next_run_time"] = datetime.now(UTC)
        scheduler.add_job(run_job, job.trigger, args=[app, job.func, job.name], id=job.name,
                          name=job.name, **trigger_args)
    return scheduler


def run_job(app: Flask, func, name: str | None = None) -> None:
    """Run one job in its own app context; a failing job never stops the scheduler. Each
    run is noted in scheduler_run (the heartbeat /readyz reads)."""
    name = name or getattr(func, "__name__", str(func))
    with app.app_context(), job_context(name):
        started, error = utcnow(), None
        try:
            func()
            db.session.commit()
        except Exception as failure:
            db.session.rollback()
            error = failure
            log.exception("job %s failed", name)
        duration_ms = round((utcnow() - started).total_seconds() * 1000, 1)
        log.info("job %s %s in %s ms", name, "failed" if error else "finished", duration_ms,
                 extra={"job": name, "outcome": "failed" if error else "ok",
                        "duration_ms": duration_ms})
        try:
            record_run(name, started, error)
        except Exception:
            db.session.rollback()
            log.exception("could not note the run of job %s", name)
        finally:
            db.session.remove()


def run_scheduler(app: Flask, sender_command: list[str] | None = None) -> None:
    """Run the jobs until TERM or INT: then the running jobs finish (the sender after the
    message it is sending, handing the rest of its batch back), no other starts, and the
    lock is released for a successor. With `sender_command`, OUTBOX_SENDER_PROCESSES - 1
    more sender processes run beside it while it holds the lock."""
    with scheduler_lock(app):
        scheduler = build_scheduler(app)
        senders = SenderProcesses(
            max(0, app.config["OUTBOX_SENDER_PROCESSES"] - 1) if sender_command else 0,
            sender_command or [])
        if senders.count:
            scheduler.add_job(senders.revive, "interval", seconds=30, id="revive_senders",
                              name="revive_senders")

        def stop(signum, _frame):
            log.info("signal %s: finishing the running jobs, starting no other", signum)
            request_stop()
            scheduler.shutdown(wait=True)

        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, stop)
        log.info("scheduler started with jobs: %s", ", ".join(job.name for job in JOBS))
        senders.start()
        try:
            scheduler.start()
        finally:
            senders.stop()
        log.info("scheduler stopped")
