"""What the scheduler last did, per job: written after each run, read by /readyz (is the
scheduler alive?) and by an operator. Owned here; only run_job writes it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from .database import UTCDateTime, utcnow
from .extensions import db


class SchedulerRun(db.Model):
    __tablename__ = "scheduler_run"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_finished_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_duration_ms: Mapped[int] = mapped_column(default=0)
    # Failures in a row; 0 after a success. The error is its class name only: no data.
    failures_in_a_row: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(120))


def record_run(job: str, started: datetime, error: BaseException | None) -> None:
    """Note one run of a job in its own transaction (the job's own is already over)."""
    finished = utcnow()
    run = db.session.get(SchedulerRun, job) or SchedulerRun(job=job, failures_in_a_row=0)
    run.last_finished_at = finished
    run.last_duration_ms = int((finished - started).total_seconds() * 1000)
    if error is None:
        run.last_succeeded_at, run.failures_in_a_row, run.last_error = finished, 0, None
    else:
        run.failures_in_a_row += 1
        run.last_error = type(error).__name__[:120]
    db.session.add(run)
    db.session.commit()


def last_finished_at() -> datetime | None:
    """When any job last finished: the scheduler's heartbeat."""
    return db.session.scalar(select(db.func.max(SchedulerRun.last_finished_at)))


def runs() -> list[SchedulerRun]:
    return list(db.session.scalars(select(SchedulerRun).order_by(SchedulerRun.job)))
