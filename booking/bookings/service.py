"""Booking use cases: book, cancel, reschedule, mark attendance, and the limits.

Booking is one short transaction whose heart is a compare-and-set on the slot
(`UPDATE slot SET state='booked' WHERE id=:id AND state='open'`): exactly one
writer can flip it. A partial unique index on active bookings per slot, and on
PostgreSQL an exclusion constraint per magistrate, back it up. The per-lawyer
and per-day limits are counted under a per-magistrate lock (PostgreSQL
advisory lock; SQLite's writers are serialised by BEGIN IMMEDIATE), so
concurrent requests cannot both slip under a limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..audit import service as audit
from ..availability.models import AvailabilityRule, Slot
from ..availability.slots import local_instant
from ..courts.models import Magistrate
from ..database import reads_before_writing, utcnow
from ..extensions import db
from ..security import new_token, token_hash, tokens_match
from .models import Booking, IdempotencyRecord

ACTIVE = ("confirmed", "attended", "no_show")


class BookingConflict(Exception):
    """409: the slot is taken, not open, or a state change is not allowed now."""

    def __init__(self, message: str, code: str = "conflict"):
        super().__init__(message)
        self.code = code


class BookingInvalid(ValueError):
    """422 about one field."""

    def __init__(self, message: str, field: str):
        super().__init__(message)
        self.field = field


@dataclass
class Booked:
    booking: Booking
    manage_token: str
    magistrate: Magistrate


def _lock_magistrate(magistrate_id: int) -> None:
    """Serialise bookings of one magistrate on PostgreSQL (SQLite writers already are)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(1, :id)"), {"id": magistrate_id})


def _slot_at(magistrate_id: int, start: datetime) -> Slot | None:
    return db.session.scalar(select(Slot).where(Slot.magistrate_id == magistrate_id,
                                                Slot.start_at == start))


def _check_bookable(slot: Slot | None, magistrate: Magistrate, rule: AvailabilityRule | None,
                    mode: str, now: datetime) -> Slot:
    if slot is None or slot.state != "open" or rule is None:
        raise BookingConflict("Este horário não está disponível. Escolha outro na agenda.",
                              "slot_unavailable")
    if slot.start_at < now + timedelta(hours=rule.min_notice_hours):
        raise BookingConflict(
            f"Este horário exige {rule.min_notice_hours} horas de antecedência.",
            "notice_too_short")
    offered = {"video": slot.offers_video, "in_person": slot.offers_in_person}
    if not offered.get(mode):
        modes = " ou ".join(m for m, on in (("por vídeo", slot.offers_video),
                                             ("presencialmente", slot.offers_in_person)) if on)
        raise BookingInvalid(f"Este horário só é oferecido {modes}.", "mode")
    return slot


def _check_day_limit(magistrate: Magistrate, rule: AvailabilityRule, slot: Slot) -> None:
    if not rule.max_per_day:
        return
    zone = ZoneInfo(magistrate.timezone)
    day = slot.start_at.astimezone(zone).date()
    count = db.session.scalar(select(func.count()).select_from(Booking).where(
        Booking.magistrate_id == magistrate.id, Booking.status.in_(ACTIVE),
        Booking.start_at >= local_instant(day, time(0), zone),
        Booking.start_at < local_instant(day + timedelta(days=1), time(0), zone)))
    if count >= rule.max_per_day:
        raise BookingConflict("O limite de atendimentos deste dia já foi atingido. "
                              "Escolha outro dia.", "day_full")


_LAWYER_FUTURE_BOOKINGS = (
    select(func.count()).select_from(Booking.__table__).where(
        Booking.__table__.c.lawyer_oab == bindparam("oab"),
        Booking.__table__.c.magistrate_id == bindparam("magistrate_id"),
        Booking.__table__.c.status == "confirmed",
        Booking.__table__.c.start_at > bindparam("now", type_=Booking.start_at.type))
)


def _check_lawyer_limit(magistrate_id: int, oab: str, now: datetime) -> None:
    limit = current_app.config["MAX_FUTURE_BOOKINGS_PER_LAWYER"]
    count = db.session.connection().execute(_LAWYER_FUTURE_BOOKINGS, {
        "oab": oab, "magistrate_id": magistrate_id, "now": now}).scalar_one()
    if count >= limit:
        raise BookingConflict(
            f"Você já tem {count} atendimentos futuros com este magistrado; o limite é {limit}. "
            "Cancele ou aguarde um deles para agendar outro.", "lawyer_limit")


_FLIP = (update(Slot.__table__)
         .where(Slot.__table__.c.id == bindparam("slot_id"),
                Slot.__table__.c.state == bindparam("from_state"))
         .values(state=bindparam("to_state")))


def _flip(slot_id: int, from_state: str, to_state: str) -> bool:
    """The compare-and-set: True when this transaction moved the slot."""
    db.session.flush()  # pending changes first, as any ORM statement would
    result = db.session.connection().execute(
        _FLIP, {"slot_id": slot_id, "from_state": from_state, "to_state": to_state})
    return result.rowcount == 1


def book_slot(data: dict, now: datetime | None = None) -> Booked:
    """Book the slot at data['start'] with data['magistrate_id'].

    What decides whether to book is read first, outside SQLite's write lock;
    under the lock only the limits are counted, the slot is flipped (the
    compare-and-set that makes one winner) and the rows are written.
    Raises BookingInvalid (422) or BookingConflict (409). The caller commits.
    """
    now = now or utcnow()
    with reads_before_writing(db.session()):
        magistrate, rule, slot = _booking_context(data["magistrate_id"], data["start"])
        if magistrate is None or not magistrate.publishes_agenda:
            raise BookingInvalid("Magistrado não encontrado.", "magistrate_id")
        slot = _check_bookable(slot, magistrate, rule, data["mode"], now)
    lawyer = data["lawyer"]
    token = new_token()
    row = dict(
        slot_id=slot.id, magistrate_id=magistrate.id, start_at=slot.start_at,
        end_at=slot.end_at, mode=data["mode"], status="confirmed",
        lawyer_name=lawyer["name"], lawyer_oab=lawyer["oab"], lawyer_email=lawyer["email"],
        lawyer_phone=lawyer["phone"], case_number=data["case_number"],
        subject=data["subject"], under_seal=data.get("under_seal", False), consent_at=now,
        manage_token_hash=token_hash(token),
        ical_uid=f"{uuid.uuid4()}@agendamento.tjmt.jus.br", ical_sequence=0,
        created_at=now, updated_at=now)
    _lock_magistrate(magistrate.id)
    _check_lawyer_limit(magistrate.id, lawyer["oab"], now)
    _check_day_limit(magistrate, rule, slot)
    if not _flip(slot.id, "open", "booked"):
        raise BookingConflict("Este horário acabou de ser agendado por outra pessoa. "
                              "Escolha outro na agenda.", "slot_taken")
    try:
        booking_id = db.session.connection().execute(_INSERT_BOOKING, row).inserted_primary_key[0]
    except IntegrityError:
        raise BookingConflict("Este horário acabou de ser agendado por outra pessoa.",
                              "slot_taken") from None
    # What was written, for the messages and the answer; nothing changes it in this request.
    booking = Booking(id=booking_id, **row)
    audit.record("booking.created", "booking", booking.id, actor=f"lawyer:{lawyer['oab']}",
                 details={"slot_id": slot.id, "mode": booking.mode})
    _notify(booking, "booked", token)
    return Booked(booking, token, magistrate)


_INSERT_BOOKING = insert(Booking.__table__)


def _booking_context(magistrate_id: int, start: datetime):
    """(magistrate with its unit, rule, slot at start) in one query; None where missing."""
    row = db.session.execute(_BOOKING_CONTEXT, {"magistrate_id": magistrate_id,
                                                "start": start}).first()
    return tuple(row) if row else (None, None, None)


# Built once; executed with the magistrate and the start asked for.
_BOOKING_CONTEXT = (
    select(Magistrate, AvailabilityRule, Slot)
    .options(joinedload(Magistrate.unit))
    .outerjoin(AvailabilityRule, AvailabilityRule.magistrate_id == Magistrate.id)
    .outerjoin(Slot, and_(Slot.magistrate_id == Magistrate.id,
                          Slot.start_at == bindparam("start", type_=Slot.start_at.type)))
    .where(Magistrate.id == bindparam("magistrate_id"))
)


def booking_for_token(booking_id: int, token: str) -> Booking | None:
    """The booking if the manage token is its own (compared in constant time), else None."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not tokens_match(token, booking.manage_token_hash):
        return None
    return booking


def _lawyer_cutoff_passed(booking: Booking, now: datetime) -> bool:
    cutoff = timedelta(hours=current_app.config["LAWYER_CHANGE_CUTOFF_HOURS"])
    return booking.start_at - cutoff <= now


def cancel(booking: Booking, *, by: str, reason: str | None, user=None,
           now: datetime | None = None) -> Booking:
    """Cancel a confirmed booking; `by` is 'lawyer' or 'court'. Its slot opens again."""
    now = now or utcnow()
    if booking.status != "confirmed":
        raise BookingConflict("Este agendamento não pode mais ser cancelado "
                              f"(situação: {STATUS_LABELS[booking.status]}).", "not_confirmed")
    if booking.start_at <= now:
        raise BookingConflict("O horário deste atendimento já passou.", "already_started")
    if by == "lawyer" and _lawyer_cutoff_passed(booking, now):
        raise BookingConflict(_cutoff_message(), "cutoff_passed")
    if by == "court" and not (reason or "").strip():
        raise BookingInvalid("Informe o motivo; o advogado vai lê-lo.", "reason")
    _lock_magistrate(booking.magistrate_id)
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.cancel_reason = (reason or "").strip() or None
    booking.ical_sequence += 1
    booking.updated_at = now
    if booking.slot_id is not None:
        _flip(booking.slot_id, "booked", "open")
    audit.record("booking.cancelled", "booking", booking.id, user=user,
                 actor=None if user else f"lawyer:{booking.lawyer_oab}",
                 details={"by": by, "reason": booking.cancel_reason})
    _notify(booking, "cancelled")
    return booking


def reschedule(booking: Booking, new_start: datetime, *, by: str, mode: str | None = None,
               manage_token: str | None = None, user=None,
               now: datetime | None = None) -> Booking:
    """Move a confirmed booking to another open slot of the same magistrate.

    The lawyer's new invite carries the manage link: the lawyer's own token when
    they moved it, a fresh one (the old link stops working) when the court did.
    """
    now = now or utcnow()
    if booking.status != "confirmed":
        raise BookingConflict("Só agendamentos confirmados podem ser remarcados.",
                              "not_confirmed")
    if by == "lawyer" and _lawyer_cutoff_passed(booking, now):
        raise BookingConflict(_cutoff_message(), "cutoff_passed")
    magistrate = db.session.get(Magistrate, booking.magistrate_id)
    _lock_magistrate(magistrate.id)
    rule = db.session.get(AvailabilityRule, magistrate.id)
    mode = mode or booking.mode
    slot = _slot_at(magistrate.id, new_start)
    if slot is not None and slot.id == booking.slot_id:
        raise BookingConflict("O agendamento já está neste horário.", "same_slot")
    slot = _check_bookable(slot, magistrate, rule, mode, now)
    _check_day_limit(magistrate, rule, slot)
    if not _flip(slot.id, "open", "booked"):
        raise BookingConflict("Este horário acabou de ser agendado por outra pessoa.",
                              "slot_taken")
    old = {"start": booking.start_at.isoformat(), "slot_id": booking.slot_id}
    if booking.slot_id is not None:
        _flip(booking.slot_id, "booked", "open")
    booking.slot_id = slot.id
    booking.start_at, booking.end_at = slot.start_at, slot.end_at
    booking.mode = mode
    booking.ical_sequence += 1
    booking.updated_at = now
    try:
        db.session.flush()
    except IntegrityError:
        raise BookingConflict("Este horário acabou de ser agendado por outra pessoa.",
                              "slot_taken") from None
    if by == "court":
        manage_token = new_token()
        booking.manage_token_hash = token_hash(manage_token)
    booking.first_reminder_sent = booking.second_reminder_sent = False
    audit.record("booking.rescheduled", "booking", booking.id, user=user,
                 actor=None if user else f"lawyer:{booking.lawyer_oab}",
                 details={"from": old, "to": booking.start_at.isoformat(), "by": by})
    _notify(booking, "rescheduled", manage_token)
    return booking


def mark_attendance(booking: Booking, status: str, *, user, now: datetime | None = None):
    """After the appointment's start, record whether the lawyer came."""
    now = now or utcnow()
    if status not in ("attended", "no_show"):
        raise BookingInvalid("Use attended ou no_show.", "status")
    if booking.status not in ("confirmed", "attended", "no_show"):
        raise BookingConflict("Um agendamento cancelado não tem comparecimento.",
                              "not_confirmed")
    if booking.start_at > now:
        raise BookingConflict("O comparecimento só pode ser registrado depois do horário.",
                              "not_started")
    previous = booking.status
    booking.status = status
    booking.updated_at = now
    audit.record(f"booking.{status}", "booking", booking.id, user=user,
                 details={"previous": previous})
    return booking


def _cutoff_message() -> str:
    hours = current_app.config["LAWYER_CHANGE_CUTOFF_HOURS"]
    return (f"Alterações pelo link só são aceitas até {hours} horas antes do atendimento. "
            "Entre em contato com a unidade pelos canais de atendimento.")


STATUS_LABELS = {"confirmed": "confirmado", "cancelled": "cancelado",
                 "attended": "realizado", "no_show": "não comparecimento"}


def _notify(booking: Booking, event: str, manage_token: str | None = None) -> None:
    """Queue the invite e-mails in this transaction (the invites package renders them)."""
    from ..invites import service as invites

    invites.queue_booking_messages(booking, event, manage_token)


def bookings_of(magistrate_id: int, *, first: datetime | None = None,
                last: datetime | None = None, status: str | None = None):
    statement = select(Booking).where(Booking.magistrate_id == magistrate_id)
    if first is not None:
        statement = statement.where(Booking.start_at >= first)
    if last is not None:
        statement = statement.where(Booking.start_at < last)
    if status:
        statement = statement.where(Booking.status == status)
    return statement.order_by(Booking.start_at)


def purge_idempotency_records(now: datetime | None = None) -> int:
    now = now or utcnow()
    ttl = timedelta(hours=current_app.config["IDEMPOTENCY_TTL_HOURS"])
    return db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < now - ttl)).rowcount
