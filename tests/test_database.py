"""Instants are stored in UTC and come back aware; SQLite is set up for many processes."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text

from booking.accounts.models import ApiToken
from booking.extensions import db
from tests.conftest import make_app
from tests.support.factories import make_staff


def test_instants_round_trip_as_aware_utc(app):
    cuiaba = datetime(2027, 3, 2, 14, 0, tzinfo=ZoneInfo("America/Cuiaba"))
    with app.app_context():
        user = make_staff("admin")
        db.session.add(ApiToken(user=user, token_hash="x" * 64, expires_at=cuiaba))
        db.session.commit()
    with app.app_context():
        stored = db.session.scalars(select(ApiToken)).one().expires_at
        assert stored.tzinfo is not None
        assert stored.utcoffset() == timedelta(0)
        assert stored == datetime(2027, 3, 2, 18, 0, tzinfo=timezone.utc)


def test_naive_datetimes_are_refused(app):
    with app.app_context():
        user = make_staff("admin")
        db.session.add(ApiToken(user=user, token_hash="y" * 64,
                                expires_at=datetime(2027, 3, 2, 14, 0)))
        with pytest.raises(Exception, match="naive"):
            db.session.commit()
        db.session.rollback()


def test_postgresql_keeps_instants_as_timestamptz(postgresql_url):
    app = make_app(postgresql_url)
    with app.app_context():
        data_type = db.session.execute(text(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'api_token' AND column_name = 'expires_at'")).scalar()
    assert data_type == "timestamp with time zone"


def test_sqlite_runs_wal_with_foreign_keys(sqlite_url):
    app = make_app(sqlite_url)
    with app.app_context():
        assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert db.session.execute(text("PRAGMA busy_timeout")).scalar() == \
            app.config["SQLITE_BUSY_TIMEOUT_MS"]
