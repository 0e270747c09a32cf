"""The probes a load balancer or monitor calls.

/healthz (liveness): the database answers. /readyz (readiness): also the schema is at the
newest migration (a web node started before `db upgrade` must not take traffic), and the
scheduler ran a job within READYZ_SCHEDULER_MAX_AGE_SECONDS (0 leaves that check out, for
a deployment whose monitor watches the scheduler some other way).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .database import utcnow
from .extensions import db
from .scheduler_status import last_finished_at

health_blp = Blueprint("health", __name__)


@health_blp.get("/healthz")
def healthz():
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


# The newest migration this code needs. Written here, not read from the migrations folder
# with Alembic at run time (about 11 MB in every web worker); tests/test_migrations.py
# fails when a new migration is added and this is not moved to it.
SCHEMA_REVISION = "0039"


@health_blp.get("/readyz")
def readyz():
    """200 when this node may take traffic; 503 with what is not ready otherwise."""
    report = {"database": "ok", "migrations": "ok", "scheduler": "ok"}
    try:
        applied = set(db.session.scalars(text("SELECT version_num FROM alembic_version")))
        heartbeat = last_finished_at()
        db.session.rollback()
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    if applied != {SCHEMA_REVISION}:
        report["migrations"] = "behind"
    max_age = current_app.config["READYZ_SCHEDULER_MAX_AGE_SECONDS"]
    if max_age:
        if heartbeat is None:
            report["scheduler"] = "never_ran"
        elif utcnow() - heartbeat > timedelta(seconds=max_age):
            report["scheduler"] = "stale"
    ready = all(value == "ok" for value in report.values())
    return jsonify(status="ok" if ready else "unavailable", **report), 200 if ready else 503
