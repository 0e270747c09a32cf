"""What a magistrate offers, when the court is closed, and the slots that follow."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, one_of, utcnow
from ..extensions import db

SLOT_STATES = ("open", "booked")
EXCEPTION_KINDS = ("block", "extra")


class AvailabilityRule(db.Model):
    """A magistrate's booking settings; the weekly windows hang off it."""

    __tablename__ = "availability_rule"
    __table_args__ = (
        CheckConstraint("slot_minutes BETWEEN 15 AND 120", name="slot_minutes"),
        CheckConstraint("buffer_minutes BETWEEN 0 AND 120", name="buffer_minutes"),
        CheckConstraint("min_notice_hours >= 0", name="min_notice_hours"),
        CheckConstraint("horizon_days BETWEEN 1 AND 365", name="horizon_days"),
    )

    magistrate_id: Mapped[int] = mapped_column(
        ForeignKey("magistrate.id", ondelete="CASCADE"), primary_key=True
    )
    slot_minutes: Mapped[int] = mapped_column(default=30)
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    min_notice_hours: Mapped[int] = mapped_column(default=24)
    horizon_days: Mapped[int] = mapped_column(default=60)
    max_per_day: Mapped[int | None]
    meeting_url: Mapped[str | None] = mapped_column(String(500))
    address: Mapped[str | None] = mapped_column(String(300))
    # The magistrate's own questions on the booking form (availability/questions.py).
    questions: Mapped[list[dict] | None] = mapped_column(JSON)
    # Who may book this agenda (requesters.TYPES); None: requesters.DEFAULT_ACCEPTED.
    accepted_requesters: Mapped[list[str] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # The last local date up to which slots were written; the daily job moves it.
    published_until: Mapped[date | None]


class WeeklyWindow(db.Model):
    """A recurring period of a weekday (0 = Monday) when slots are offered."""

    __tablename__ = "weekly_window"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("start_time < end_time", name="start_before_end"),
        CheckConstraint("offers_video OR offers_in_person", name="some_mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    magistrate_id: Mapped[int] = mapped_column(
        ForeignKey("magistrate.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]
    offers_video: Mapped[bool] = mapped_column(default=True)
    offers_in_person: Mapped[bool] = mapped_column(default=False)


class AvailabilityException(db.Model):
    """A blocked period (leave, court sessions, a trip) or an extra opening."""

    __tablename__ = "availability_exception"
    __table_args__ = (
        CheckConstraint(one_of("kind", EXCEPTION_KINDS), name="kind"),
        CheckConstraint("start_at < end_at", name="start_before_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    magistrate_id: Mapped[int] = mapped_column(
        ForeignKey("magistrate.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str | None] = mapped_column(String(300))
    offers_video: Mapped[bool] = mapped_column(default=True)
    offers_in_person: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CourtClosure(db.Model):
    """Days the court is closed beyond the holiday calendar, court-wide or in one comarca."""

    __tablename__ = "court_closure"
    __table_args__ = (CheckConstraint("first_day <= last_day", name="days_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    comarca_id: Mapped[int | None] = mapped_column(
        ForeignKey("comarca.id", ondelete="CASCADE"), index=True
    )
    first_day: Mapped[date]
    last_day: Mapped[date]
    reason: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # What the admin decided for the confirmed bookings on those days, and how far the
    # scheduler got applying it (a court-wide closure can cover thousands).
    on_bookings: Mapped[str | None] = mapped_column(String(10))
    bookings_reason: Mapped[str | None] = mapped_column(String(500))
    decided_by_user_id: Mapped[int | None]
    bookings_total: Mapped[int] = mapped_column(default=0, server_default="0")
    bookings_done: Mapped[int] = mapped_column(default=0, server_default="0")
    bookings_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def bookings_pending(self) -> bool:
        return self.bookings_total > 0 and self.bookings_finished_at is None


class Slot(db.Model):
    """A published, bookable period. Booking flips state from open to booked.

    Republishing deletes future open slots and writes new ones; booked slots
    are never touched, and past ones stay as the record of what was offered.
    """

    __tablename__ = "slot"
    __table_args__ = (
        CheckConstraint(one_of("state", SLOT_STATES), name="state"),
        CheckConstraint("start_at < end_at", name="start_before_end"),
        CheckConstraint("offers_video OR offers_in_person", name="some_mode"),
        # The listing query: one magistrate, open, in a time range.
        Index("ix_slot_listing", "magistrate_id", "state", "start_at"),
        # One slot per magistrate and start; on PostgreSQL an exclusion
        # constraint (migration 0002) also forbids any overlap.
        Index("uq_slot_magistrate_start", "magistrate_id", "start_at", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("magistrate.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    offers_video: Mapped[bool] = mapped_column(default=True)
    offers_in_person: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(String(10), default="open")


BUSY_SOURCE_KINDS = ("ics", "caldav")


class BusySource(db.Model):
    """A magistrate's own calendar, read for busy times: a published .ics address or a
    CalDAV calendar. The password or token is sealed (security.seal)."""

    __tablename__ = "busy_source"
    __table_args__ = (CheckConstraint(one_of("kind", BUSY_SOURCE_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    magistrate_id: Mapped[int] = mapped_column(
        ForeignKey("magistrate.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10))
    url: Mapped[str] = mapped_column(String(1000))
    username: Mapped[str | None] = mapped_column(String(200))
    secret: Mapped[str | None] = mapped_column(String(1000))
    # CalDAV only: each booking is also written to this calendar (same UID as the invite).
    write_back: Mapped[bool] = mapped_column(default=False)
    # Conditional requests: what the server said last time.
    etag: Mapped[str | None] = mapped_column(String(300))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # When the office was told the source keeps failing (once, until it works again).
    failure_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BusyPeriod(db.Model):
    """A time the magistrate's own calendar says is busy; replaced at each refresh."""

    __tablename__ = "busy_period"
    __table_args__ = (
        CheckConstraint("start_at < end_at", name="start_before_end"),
        Index("ix_busy_period_magistrate_start", "magistrate_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(
        ForeignKey("busy_source.id", ondelete="CASCADE"), index=True
    )
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("magistrate.id", ondelete="CASCADE"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
