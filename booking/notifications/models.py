"""The outbox: every message is a row written with the change that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..database import UTCDateTime, one_of, utcnow
from ..extensions import db

# superseded: a newer message about the same thing, to the same person, replaced it.
OUTBOX_STATUSES = ("pending", "sent", "dead", "superseded")


class OutboxMessage(db.Model):
    """One message waiting to be sent, sent, given up on, or replaced by a newer one."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        CheckConstraint(one_of("status", OUTBOX_STATUSES), name="status"),
        Index("ix_outbox_due", "status", "next_attempt_at"),
        # a topic's pending messages (superseding them): topic first, or SQLite reads
        # every pending message through ix_outbox_due
        Index("ix_outbox_topic_status", "topic", "status"),
        # a sequence's earlier messages still pending (claim_due's held_back), read on every
        # claim: the pending ones alone, not every event a subscriber was ever sent
        Index("ix_outbox_sequence_pending", "sequence_key", "id",
              sqlite_where=text("status = 'pending'"),
              postgresql_where=text("status = 'pending'")),
        # the sends of the last minute, counted at every scrape of /metrics
        Index("ix_outbox_sent_at", "sent_at", sqlite_where=text("status = 'sent'"),
              postgresql_where=text("status = 'sent'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # E.g. "booking:42:rescheduled:1:lawyer" (booking, event, sequence, recipient);
    # the unique index refuses a second write of the same message.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    # What the message is about and to whom ("booking:42:lawyer"), and the version of that
    # thing it describes (the booking's SEQUENCE): the latest version alone is sent, and
    # never after a newer one was.
    topic: Mapped[str | None] = mapped_column(String(120))
    version: Mapped[int | None]
    kind: Mapped[str] = mapped_column(String(40), default="invite")
    message_id: Mapped[str] = mapped_column(String(200))
    recipients: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    # Either the rendered message, or a payload the sender renders it from (booking
    # invites: rendering three e-mails with invites inside the booking's transaction
    # would hold its lock for longer than the booking itself takes).
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict | None] = mapped_column(JSON)
    ics_method: Mapped[str | None] = mapped_column(String(10))
    # Messages with one sequence key go out in the order they were written (a webhook
    # subscriber's events): a later one waits while an earlier one is still pending.
    sequence_key: Mapped[str | None] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A sender claims a batch by writing its own claim_id and a lease end;
    # a sender that dies leaves a lease that simply runs out. Not indexed: the sender
    # reads its claim back by the ids it claimed.
    claim_id: Mapped[str | None] = mapped_column(String(36))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
