"""Instants are stored in UTC and come back aware; SQLite is set up for many processes."""

from datetime import UTC, datetime, timedelta
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
        assert stored == datetime(2027, 3, 2, 18, 0, tzinfo=UTC)


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


def _write_engine(url: str, busy_timeout_ms: int):
    from sqlalchemy import create_engine

    from booking.database import configure_engine

    engine = create_engine(url)
    configure_engine(engine, busy_timeout_ms)
    return engine


def test_a_sqlite_writer_waits_for_the_one_ahead_and_then_writes(sqlite_url):
    import threading

    from booking.database import read_only_transaction

    read_only_transaction.set(False)  # a write transaction, whatever a request here set before
    first, second = _write_engine(sqlite_url, 5000), _write_engine(sqlite_url, 5000)
    outcome = {}
    with first.connect() as holder:
        holder.execute(text("UPDATE comarca SET name = name"))  # BEGIN IMMEDIATE: the lock is held

        def write():
            with second.begin() as waiter:
                outcome["rows"] = waiter.execute(text("SELECT count(*) FROM comarca")).scalar()
                outcome["timeout"] = waiter.execute(text("PRAGMA busy_timeout")).scalar()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(0.3)
        assert thread.is_alive() and not outcome  # still waiting for the lock
        holder.commit()
    thread.join(5)
    assert outcome == {"rows": 0, "timeout": 5000}  # it got in, and the busy timeout is back
    first.dispose()
    second.dispose()


def test_a_sqlite_writer_gives_up_at_the_busy_timeout_with_the_database_error(sqlite_url):
    from sqlalchemy.exc import OperationalError

    from booking.database import read_only_transaction

    read_only_transaction.set(False)  # a write transaction, whatever a request here set before
    first, second = _write_engine(sqlite_url, 5000), _write_engine(sqlite_url, 200)
    with first.connect() as holder:
        holder.execute(text("UPDATE comarca SET name = name"))
        with pytest.raises(OperationalError, match="locked"):
            with second.begin() as waiter:
                waiter.execute(text("SELECT 1"))
        holder.rollback()
    first.dispose()
    second.dispose()


def test_reads_before_writing_leave_sqlites_write_lock_free_and_keep_what_they_loaded(
        sqlite_url):
    from sqlalchemy import inspect

    from booking.courts.models import Comarca
    from booking.database import read_only_transaction, reads_before_writing

    app = make_app(sqlite_url)
    with app.app_context():
        db.session.add(Comarca(name="Cuiabá"))
        db.session.commit()
    other = _write_engine(sqlite_url, 200)
    read_only_transaction.set(False)  # as in a POST
    with app.app_context():
        session = db.session()
        with reads_before_writing(session):
            comarca = session.scalars(select(Comarca)).one()
            with other.begin() as writer:  # would time out if the reads held the write lock
                writer.execute(text("UPDATE comarca SET name = 'Várzea Grande'"))
        assert not inspect(comarca).expired_attributes
        assert comarca.name == "Cuiabá"  # as read: not reloaded behind the caller's back
        session.execute(text("UPDATE comarca SET name = name"))  # a write transaction again
        assert session.execute(text("SELECT name FROM comarca")).scalar() == "Várzea Grande"
        session.rollback()
    other.dispose()


def test_reads_before_writing_never_commit_a_transaction_already_open(database_url):
    from booking.courts.models import Comarca
    from booking.database import read_only_transaction, reads_before_writing

    read_only_transaction.set(False)
    app = make_app(database_url)
    with app.app_context():
        session = db.session()
        session.add(Comarca(name="Sinop"))
        session.flush()  # a write in progress
        with reads_before_writing(session):
            assert session.scalars(select(Comarca.name)).all() == ["Sinop"]
        session.rollback()
        assert session.scalars(select(Comarca.name)).all() == []  # it was not committed


def test_reads_on_postgresql_need_no_transaction_and_leave_none_behind(postgresql_url):
    from sqlalchemy import create_engine

    from booking.database import connection_for_reads

    engine = create_engine(postgresql_url, pool_size=1, max_overflow=0)
    with connection_for_reads(engine) as connection:
        assert connection.execute(text("SELECT count(*) FROM slot")).scalar() == 0
        assert connection.connection.dbapi_connection.autocommit is True  # no BEGIN sent
    with engine.connect() as connection:  # the same pooled connection, as it was
        assert connection.connection.dbapi_connection.autocommit is False
    engine.dispose()


def test_an_instant_read_as_stored_converts_to_what_the_orm_returns(database_url):
    from booking.database import instant_from_stored, stored

    app = make_app(database_url)
    moment = datetime(2027, 3, 2, 14, 30, 15, 250000, tzinfo=ZoneInfo("America/Cuiaba"))
    with app.app_context():
        db.session.add(ApiToken(user=make_staff("admin"), token_hash="z" * 64, expires_at=moment))
        db.session.commit()
        raw = db.session.execute(select(stored(ApiToken.expires_at))).scalar_one()
        converted = instant_from_stored(raw)
        assert converted == db.session.scalars(select(ApiToken.expires_at)).one() == moment
        assert converted.utcoffset() == timedelta(0)
