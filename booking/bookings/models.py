"""A lawyer's appointment with a magistrate, and what keeps retries idempotent."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, one_of, utcnow
from ..extensions import db
from ..formatting import MODES

# How a person reads each state, on pages and in messages.
BOOKING_STATUS_LABELS = {"held": "Aguardando confirmação", "confirmed": "Confirmado",
                         "cancelled": "Cancelado", "attended": "Realizado",
                         "no_show": "Não comparecimento"}
BOOKING_STATUSES = tuple(BOOKING_STATUS_LABELS)
# A booking in these states holds its slot (a hold too, until it expires).
ACTIVE_STATUSES = ("held", "confirmed", "attended", "no_show")
# cancelled_by of a hold nobody confirmed in time (or after too many wrong codes).
HOLD_EXPIRED = "hold_expired"
URGENT_STATUSES = ("open", "answered")
# What retention leaves in place of personal data.
REMOVED = "[removido]"
REMOVED_EMAIL = "removido@anonimizado.invalid"


class LawyerColumns:
    """Who asked: the same columns on bookings and urgent requests."""

    lawyer_name: Mapped[str] = mapped_column(String(200))
    lawyer_oab: Mapped[str] = mapped_column(String(12))
    lawyer_email: Mapped[str] = mapped_column(String(254))
    lawyer_phone: Mapped[str] = mapped_column(String(20))
    # Who asked (requesters.TYPES): a lawyer, a public defender, a prosecutor, a public
    # attorney (with their institution), or a party; the registration (OAB,
    # institutional registration or CPF digits) is in lawyer_oab.
    requester_type: Mapped[str] = mapped_column(String(20), default="lawyer",
                                                server_default="lawyer")
    requester_institution: Mapped[str | None] = mapped_column(String(200))

    @property
    def lawyer_removed(self) -> bool:
        """The retention period removed who asked (the row stays, for the statistics)."""
        return self.lawyer_email == REMOVED_EMAIL


class Booking(LawyerColumns, db.Model):
    """One appointment. Its slot, times and invite UID are fixed until it is rescheduled."""

    __tablename__ = "booking"
    __table_args__ = (
        CheckConstraint(one_of("status", BOOKING_STATUSES), name="status"),
        CheckConstraint(one_of("mode", MODES), name="mode"),
        # The database, not the code, guarantees one active booking per slot.
        Index(
            "uq_booking_active_slot",
            "slot_id",
            unique=True,
            sqlite_where=text("status != 'cancelled'"),
            postgresql_where=text("status != 'cancelled'"),
        ),
        Index("ix_booking_magistrate_start", "magistrate_id", "start_at"),
        # Every booking counts the address's future bookings with the magistrate (its
        # limit): the entries of that address alone, not all of the magistrate's future.
        Index("ix_booking_email_magistrate_start", text("lower(lawyer_email)"),
              "magistrate_id", "start_at"),
        # the foreign key's check when open slots are deleted (republishing, closures)
        Index("ix_booking_slot", "slot_id"),
        # Holds that expire are found by the scheduler (service.expire_holds): the few rows
        # still held, not the whole table.
        Index("ix_booking_held", "hold_expires_at", sqlite_where=text("status = 'held'"),
              postgresql_where=text("status = 'held'")),
        # Live holds are counted per address and per client on every hold
        # (service._check_live_holds): each count reads its own few entries, also when a
        # burst of holds is waiting for codes.
        Index("ix_booking_held_email", text("lower(lawyer_email)"), "hold_expires_at",
              sqlite_where=text("status = 'held'"), postgresql_where=text("status = 'held'")),
        Index("ix_booking_held_client", "hold_client", "hold_expires_at",
              sqlite_where=text("status = 'held'"), postgresql_where=text("status = 'held'")),
        # The lawyers asked to choose another time by a deadline (conflicts.
        # expire_rebook_requests, every ten minutes): the few with one, not the whole table.
        Index("ix_booking_rebook_deadline", "rebook_deadline",
              sqlite_where=text("rebook_deadline IS NOT NULL"),
              postgresql_where=text("rebook_deadline IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Cleared when a republish deletes the (open again) slot of a cancelled booking.
    slot_id: Mapped[int | None] = mapped_column(ForeignKey("slot.id", ondelete="SET NULL"))
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("magistrate.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mode: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="confirmed")

    case_number: Mapped[str] = mapped_column(String(25))
    subject: Mapped[str] = mapped_column(String(500))
    under_seal: Mapped[bool] = mapped_column(default=False)
    # A hold (status held) waits for the code sent to the e-mail given, until hold_expires_at;
    # only the code's keyed hash is kept, and wrong tries are counted.
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    confirm_code_hash: Mapped[str | None] = mapped_column(String(64))
    confirm_attempts: Mapped[int] = mapped_column(default=0)
    # How many codes the hold sent (a new one replaces the last) and when the last one went.
    codes_sent: Mapped[int] = mapped_column(default=0, server_default="0")
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who asked for the hold, as a keyed hash of the client address (live holds per client).
    hold_client: Mapped[str | None] = mapped_column(String(64), index=True)
    # The answers to the magistrate's questions: [{"question", "answer"}] as asked.
    answers: Mapped[list[dict] | None] = mapped_column(JSON)
    # Co-counsel and others the lawyer named: they get the invites and updates too.
    participants: Mapped[list[str] | None] = mapped_column(JSON)
    # The lawyer also wants the confirmation, reminders and changes by "whatsapp" or "sms".
    notify_by: Mapped[str | None] = mapped_column(String(10))
    consent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ical_uid: Mapped[str] = mapped_column(String(120), unique=True)
    ical_sequence: Mapped[int] = mapped_column(default=0)
    # Reminders already queued for the current time; a reschedule clears them.
    first_reminder_sent: Mapped[bool] = mapped_column(default=False)
    second_reminder_sent: Mapped[bool] = mapped_column(default=False)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_by: Mapped[str | None] = mapped_column(String(20))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    # The video room of this appointment (kept across reschedules; never shown publicly).
    video_url: Mapped[str | None] = mapped_column(String(500))
    # A court change (closure, block, rule, busy time) that now covers this booking, until
    # the magistrate decides: keep it, cancel it, or ask the lawyer for another time.
    conflict_reason: Mapped[str | None] = mapped_column(String(300))
    conflict_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    conflict_kept_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Asked to choose another time: cancelled with the conflict's reason after this.
    rebook_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyRecord(db.Model):
    """The first answer to a request sent with an Idempotency-Key, replayed on retries.

    Kept only for a short time: it holds the manage token of a fresh booking.
    """

    __tablename__ = "idempotency_record"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    response_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class UrgentRequest(LawyerColumns, db.Model):
    """A request to be heard sooner than the first open slot (a lawyer's, or a defender's,
    a prosecutor's... as the agenda accepts)."""

    __tablename__ = "urgent_request"
    __table_args__ = (
        CheckConstraint(one_of("status", URGENT_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("magistrate.id"), index=True)
    case_number: Mapped[str] = mapped_column(String(25))
    reason: Mapped[str] = mapped_column(String(1000))
    under_seal: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default="open")
    answer: Mapped[str | None] = mapped_column(String(1000))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # By when the magistrate should answer (URGENT_ANSWER_HOURS, on working days or plain),
    # and when the magistrate and the office were told it passed unanswered (once).
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


WAITLIST_STATUSES = ("held", "waiting", "booked", "left", "expired")


class WaitlistEntry(db.Model):
    """Someone waiting for a time with a magistrate between two days: told of each time that
    opens in that range (in the order they joined) until they book, leave, or it ends. Like a
    booking, an entry counts only once its e-mailed code confirmed the address."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (CheckConstraint(one_of("status", WAITLIST_STATUSES), name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    magistrate_id: Mapped[int] = mapped_column(ForeignKey("magistrate.id"), index=True)
    first_day: Mapped[date]
    last_day: Mapped[date]
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default="held")
    manage_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    confirm_code_hash: Mapped[str | None] = mapped_column(String(64))
    confirm_attempts: Mapped[int] = mapped_column(default=0)
    codes_sent: Mapped[int] = mapped_column(default=0, server_default="0")  # as a booking's
    code_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hold_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # The slots already offered to this entry ([slot id, ...]) and those told gone.
    offered: Mapped[list[int] | None] = mapped_column(JSON)
    told_gone: Mapped[list[int] | None] = mapped_column(JSON)
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
