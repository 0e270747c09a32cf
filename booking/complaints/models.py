"""Outage reports, their review history, and the protocol number sequence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import UTCDateTime, one_of, utcnow
from ..extensions import db

COMPLAINT_CHANNELS = ("virtual_counter", "phone", "email", "whatsapp", "booking", "other")
COMPLAINT_KINDS = ("connection_drop", "unavailable", "no_answer", "other")
COMPLAINT_STATUSES = ("new", "in_review", "resolved", "dismissed")
REPORTER_ROLES = ("lawyer", "party", "citizen", "other")


class Complaint(db.Model):
    """A report that a channel failed, followed by protocol number."""

    __tablename__ = "complaint"
    __table_args__ = (
        CheckConstraint(one_of("channel", COMPLAINT_CHANNELS), name="channel"),
        CheckConstraint(one_of("kind", COMPLAINT_KINDS), name="kind"),
        CheckConstraint(one_of("status", COMPLAINT_STATUSES), name="status"),
        Index("ix_complaint_status_created", "status", "created_at"),
        Index("ix_complaint_unit_created", "unit_id", "created_at"),
        # the desk's "Comigo" and the reviewers who hold complaints (see holders)
        Index("ix_complaint_assigned_created", "assigned_to_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    protocol: Mapped[str] = mapped_column(String(20), unique=True)
    lookup_token_hash: Mapped[str] = mapped_column(String(64))
    # The short code printed with the protocol (ABCD-2345), a keyed hash: what someone who
    # closed the page without an e-mail can still type (service.short_code_hash).
    short_code_hash: Mapped[str | None] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # False when the reporter gave the day only: occurred_at is then the day's start in the
    # court's zone, and no one should read that midnight as the hour of the failure.
    occurred_time_known: Mapped[bool] = mapped_column(default=True, server_default=true())
    description: Mapped[str] = mapped_column(Text)
    reporter_name: Mapped[str | None] = mapped_column(String(200))
    reporter_email: Mapped[str | None] = mapped_column(String(254))
    reporter_role: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="new")
    public_answer: Mapped[str | None] = mapped_column(Text)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    events: Mapped[list[ComplaintEvent]] = relationship(
        order_by="ComplaintEvent.id", cascade="all, delete-orphan"
    )


class ComplaintEvent(db.Model):
    """One step of a report's review: who, when, the move, and what was written."""

    __tablename__ = "complaint_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    from_status: Mapped[str | None] = mapped_column(String(10))
    to_status: Mapped[str] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(Text)
    public_answer: Mapped[str | None] = mapped_column(Text)
    # The conversation: the Corregedoria's question to the reporter (the reporter sees it
    # and gets an e-mail) and the reporter's own message (an event without an actor).
    question: Mapped[str | None] = mapped_column(Text)
    reporter_message: Mapped[str | None] = mapped_column(Text)
    # Whom this step put in charge of the complaint (None: nobody new).
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    # Staff members, named by string: accounts is another domain.
    actor: Mapped["User | None"] = relationship("User", foreign_keys=[actor_id])  # noqa: F821, UP037
    assigned_to: Mapped["User | None"] = relationship(  # noqa: F821, UP037
        "User", foreign_keys=[assigned_to_id])
    # Loaded with the events in one query (the history shows every step's files).
    attachments: Mapped[list[ComplaintAttachment]] = relationship(
        order_by="ComplaintAttachment.id", viewonly=True, lazy="selectin")

    @property
    def seen_by_reporter(self) -> bool:
        """Whether the reporter's page shows this step (internal notes never)."""
        return bool(self.from_status is None or self.from_status != self.to_status
                    or self.public_answer or self.question or self.reporter_message
                    or self.attachments)


class ComplaintAttachment(db.Model):
    """A file sent with a report or a reply: a re-encoded image or a checked PDF, stored
    under a random key (storage.py); what is kept here is what people see of it."""

    __tablename__ = "complaint_attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("complaint_event.id", ondelete="CASCADE"),
                                          index=True)
    name: Mapped[str] = mapped_column(String(120))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    storage_key: Mapped[str] = mapped_column(String(32), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProtocolCounter(db.Model):
    """The last protocol number given in a year, bumped atomically."""

    __tablename__ = "protocol_counter"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_value: Mapped[int] = mapped_column(default=0)
