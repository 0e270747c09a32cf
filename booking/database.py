"""Database details that the models and the engine share.

SQLite is the embedded default and PostgreSQL the server choice; the code
above this module does not know which one it talks to.
"""

import itertools
import time
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from sqlalchemy import DateTime, event, type_coerce
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.types import NullType, TypeDecorator

# Set for safe (read-only) HTTP methods; every other transaction on SQLite
# begins IMMEDIATE so that a writer takes the lock before it reads, and never
# fails halfway with "database is locked" when upgrading a read lock.
read_only_transaction: ContextVar[bool] = ContextVar("read_only_transaction", default=False)


@contextmanager
def reads_before_writing(session):
    """Run a write request's reads outside SQLite's write lock.

    SQLite has one write lock for the whole database, and a write transaction
    holds it from its first statement: reads that decide whether to write at
    all (and gather what the write needs) go in a plain transaction, ended
    here, keeping what was loaded, so that the lock is held only for the
    writes. What must not change between deciding and writing is checked again
    under the lock (compare-and-set, counts). PostgreSQL locks rows, not the
    database: there the reads simply open the request's transaction. So does a
    session already in a transaction: what it holds is never committed early.
    """
    if session.get_bind().dialect.name != "sqlite" or session.in_transaction():
        yield
        return
    previous = read_only_transaction.set(True)
    try:
        yield
    finally:
        read_only_transaction.reset(previous)
    commit_keeping_loaded(session)


@contextmanager
def connection_for_reads(engine):
    """A pooled connection, outside any ORM session, for reads that need no common snapshot.

    On PostgreSQL each statement runs on its own (autocommit): no BEGIN and
    ROLLBACK round trips around a hot read. SQLite, in process, keeps its
    plain read transaction.
    """
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT")
        yield connection


def commit_keeping_loaded(session) -> None:
    """Commit without expiring loaded objects: they are still to be read, not reloaded."""
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def one_of(column: str, values: tuple[str, ...]) -> str:
    """A CHECK clause from the tuple that names a state set, so the two never disagree."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def utcnow() -> datetime:
    """Now, timezone-aware in UTC: the only kind of instant the models hold."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """An instant stored in UTC and always returned timezone-aware.

    PostgreSQL keeps it as timestamptz; SQLite has no zones, so the value is
    stored as naive UTC text, which still sorts and compares correctly.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an instant is required")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        return None if value is None else _aware_utc(value)


def _aware_utc(value: datetime) -> datetime:
    """A stored instant as an aware UTC datetime (SQLite hands back naive UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stored(column):
    """A column read as the driver hands it (SQLite: text; PostgreSQL: a datetime).

    For hot reads of many instants, whose callers convert each distinct value
    once (instant_from_stored) instead of once per row.
    """
    return type_coerce(column, NullType())


def instant_from_stored(value) -> datetime:
    """What UTCDateTime would return for a value read with stored()."""
    return _aware_utc(datetime.fromisoformat(value) if isinstance(value, str) else value)


def configure_engine(engine: Engine, busy_timeout_ms: int) -> None:
    """Turn SQLite into a safe multi-process store; PostgreSQL needs nothing."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if read_only_transaction.get():
            connection.exec_driver_sql("BEGIN")
        else:
            begin_immediate(connection, busy_timeout_ms)


# Pauses between attempts to take SQLite's write lock: short, because a write
# transaction here lasts about a millisecond.
_WRITE_LOCK_PAUSES = (0.0002, 0.0005, 0.001, 0.002)


def begin_immediate(connection, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting for the writer ahead in short steps.

    SQLite's own busy handler sleeps 1, 2, 5, 10... up to 100 ms between tries,
    so a writer that queued behind a one-millisecond transaction often sleeps
    for tens of milliseconds after the lock was free. Here the wait is polled
    every fraction of a millisecond, with SQLite's handler off for that
    statement only (every other statement keeps the busy timeout).
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    driver = connection.connection.dbapi_connection
    driver.execute("PRAGMA busy_timeout=0")
    try:
        for attempt in itertools.count():
            try:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as error:
                if "locked" not in str(error.orig) or time.monotonic() >= deadline:
                    raise
            time.sleep(_WRITE_LOCK_PAUSES[min(attempt, len(_WRITE_LOCK_PAUSES) - 1)])
    finally:
        driver.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    """PostgreSQL exclusion constraints (named ex_*) and the units' trigram index (which
    needs the pg_trgm extension) live only in the migrations; an index on an expression
    (ix_booking_held_email, ix_booking_email_magistrate_start) is declared on its model, but
    SQLite cannot reflect it."""
    return not (name or "").startswith(("ex_", "ix_unit_search_trgm", "ix_booking_held_email",
                                        "ix_booking_email_magistrate_start"))
