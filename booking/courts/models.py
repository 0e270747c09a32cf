"""The court's directory: comarcas, units, their channels, and magistrates."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    bindparam,
    event,
    inspect,
    select,
    true,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from ..database import one_of
from ..extensions import db
from .search import search_text

# A title's first word that makes the magistrate's noun feminine.
FEMININE_TITLES = frozenset({"juíza", "desembargadora", "ministra", "conselheira", "doutora"})
CHANNEL_KINDS = ("phone", "email", "whatsapp", "virtual_counter", "booking")
# How people call each kind of channel (pages, the portal, the directory's forms).
CHANNEL_KIND_LABELS = {"phone": "Telefone", "email": "E-mail", "whatsapp": "WhatsApp",
                       "virtual_counter": "Balcão Virtual", "booking": "Atendimento agendado"}


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
    # The unit's name, comarca and magistrates' names, normalised (courts/search.py); kept
    # current by _keep_search_text below.
    search_text: Mapped[str | None] = mapped_column(String(4000))

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
    # active_history: a move loads the old unit first, whose search text then loses the name
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), active_history=True)
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
    def noun(self) -> str:
        """'magistrada' or 'magistrado', agreeing with the title the court gave
        ("Juíza de Direito", "Desembargadora"), for sentences about them."""
        first = (self.title or "").strip().split(" ")[0].lower()
        return "magistrada" if first in FEMININE_TITLES else "magistrado"

    @property
    def this_one(self) -> str:
        """'esta magistrada' or 'este magistrado'."""
        return f"{'esta' if self.noun == 'magistrada' else 'este'} {self.noun}"

    @property
    def takes_bookings(self) -> bool:
        """Shown to the public and bookable: active, publishing, in an active unit."""
        return self.is_active and self.publishes_agenda and self.unit.is_active



@event.listens_for(Session, "after_flush")
def _keep_search_text(session, _context) -> None:
    """Every write of a unit, a comarca or a magistrate through the ORM (the directory, its
    import, the demo, the tests' factories) refreshes what the affected units are found by,
    from the rows just written, in the same transaction."""
    unit_ids: set[int] = set()
    comarca_ids: set[int] = set()
    for item in [*session.new, *session.dirty, *session.deleted]:
        if isinstance(item, Unit):
            unit_ids.add(item.id)
        elif isinstance(item, Comarca):
            comarca_ids.add(item.id)
        elif isinstance(item, Magistrate):
            unit_ids.add(item.unit_id)
            state = inspect(item)
            unit_ids.update(state.attrs.unit_id.history.deleted or ())
            unit_ids.update(unit.id for unit in state.attrs.unit.history.deleted or ()
                            if unit is not None)
    if not unit_ids and not comarca_ids:
        return
    connection = session.connection()
    unit, comarca, magistrate = Unit.__table__, Comarca.__table__, Magistrate.__table__
    if comarca_ids:
        unit_ids.update(connection.execute(select(unit.c.id).where(
            unit.c.comarca_id.in_(comarca_ids))).scalars())
    unit_ids.discard(None)
    if not unit_ids:
        return
    people: dict[int, list[str]] = {}
    for unit_id, name in connection.execute(select(magistrate.c.unit_id, magistrate.c.name).where(
            magistrate.c.unit_id.in_(unit_ids), magistrate.c.is_active.is_(True))
            .order_by(magistrate.c.name)):
        people.setdefault(unit_id, []).append(name)
    rows = [{"unit_id": row.id, "text": search_text(row.name, row.comarca, people.get(row.id, []))}
            for row in connection.execute(select(unit.c.id, unit.c.name,
                                                 comarca.c.name.label("comarca"))
                                          .join(comarca, comarca.c.id == unit.c.comarca_id)
                                          .where(unit.c.id.in_(unit_ids)))]
    if rows:
        connection.execute(update(unit).where(unit.c.id == bindparam("unit_id"))
                           .values(search_text=bindparam("text")), rows)
