"""The court's directory: comarcas, units, their channels, and magistrates."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..database import one_of
from ..extensions import db

CHANNEL_KINDS = ("phone", "email", "whatsapp", "virtual_counter", "booking")


class Comarca(db.Model):
    """A territorial district; court closures can apply to one comarca only."""

    __tablename__ = "comarca"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    # The CNJ case number's origin field (OOOO) for cases heard here, e.g. "0041".
    foro_code: Mapped[str | None] = mapped_column(String(4), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    units: Mapped[list[Unit]] = relationship(back_populates="comarca")


class Unit(db.Model):
    """A vara or gabinete: where magistrates sit and channels are offered."""

    __tablename__ = "unit"
    __table_args__ = (CheckConstraint("instance IN (1, 2)", name="instance"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unit's own code, as the court and the CNJ know it: what an import matches on.
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    comarca_id: Mapped[int] = mapped_column(ForeignKey("comarca.id"), index=True)
    instance: Mapped[int]
    office_email: Mapped[str | None] = mapped_column(String(254))
    address: Mapped[str | None] = mapped_column(String(300))
    # Deactivated units leave the portal and take no bookings; their history stays.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())

    comarca: Mapped[Comarca] = relationship(back_populates="units")
    channels: Mapped[list[Channel]] = relationship(
        back_populates="unit", order_by="Channel.position", cascade="all, delete-orphan"
    )
    magistrates: Mapped[list[Magistrate]] = relationship(back_populates="unit")


class Channel(db.Model):
    """One way to reach a unit: a phone, an e-mail, WhatsApp, the virtual counter..."""

    __tablename__ = "channel"
    __table_args__ = (
        CheckConstraint(one_of("kind", CHANNEL_KINDS), name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(String(300))
    hours: Mapped[str | None] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(default=0)

    unit: Mapped[Unit] = relationship(back_populates="channels")


class Magistrate(db.Model):
    """A judge (juiz or desembargador) who may publish a public agenda."""

    __tablename__ = "magistrate"
    __table_args__ = (Index("ix_magistrate_unit_id", "unit_id"),
                      Index("uq_magistrate_email", "email", unique=True))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(60))
    email: Mapped[str | None] = mapped_column(String(254))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))
    # An IANA zone; a new magistrate starts in the court's own (COURT_TIMEZONE).
    timezone: Mapped[str] = mapped_column(
        String(64), default=lambda: current_app.config["COURT_TIMEZONE"])
    publishes_agenda: Mapped[bool] = mapped_column(default=True)
    # A retired magistrate (or one who left the court) keeps their history, takes no bookings.
    is_active: Mapped[bool] = mapped_column(default=True, server_default=true())
    # Only the hash of the calendar feed token is kept; rotating it replaces the hash.
    feed_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    notes: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship(back_populates="magistrates")

    @property
    def takes_bookings(self) -> bool:
        """Shown to the public and bookable: active, publishing, in an active unit."""
        return self.is_active and self.publishes_agenda and self.unit.is_active
