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

import hashlib
import hmac
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from statistics import median
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    and_,
    bindparam,
    delete,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import requesters
from ..audit import service as audit
from ..availability import busy, questions
from ..availability import service as availability
from ..availability.models import AvailabilityRule, BusySource, Slot
from ..availability.slots import local_instant
from ..calendars.ical import UID_DOMAIN
from ..clock import court_zone
from ..courts.models import Magistrate, Unit
from ..database import reads_before_writing, utcnow
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db
from ..notifications import service as notifications
from ..security import new_token, token_hash, unseal
from ..webhooks import service as webhooks
from . import links, urgent, video
from .models import (
    ACTIVE_STATUSES,
    BOOKING_STATUS_LABELS,
    HOLD_EXPIRED,
    REMOVED,
    REMOVED_EMAIL,
    Booking,
    IdempotencyRecord,
    UrgentRequest,
    WaitlistEntry,
)

SLOT_TAKEN = "Este horário acabou de ser agendado por outra pessoa. Escolha outro na agenda."


@dataclass
class Booked:
    booking: Booking
    manage_token: str
    magistrate: Magistrate


def _lock_magistrate(magistrate_id: int) -> None:
    """Serialise bookings of one magistrate on PostgreSQL (SQLite writers already are)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(1, :id)"), {"id": magistrate_id})


def _check_requester(rule: AvailabilityRule, requester_type: str,
                     field: str = "requester_type") -> None:
    """Each magistrate chooses who may book their agenda (a party without a lawyer only
    where they allow it). `field` is where the client gave the type. The stored types are
    today's names: AvailabilitySchema reads former ones as their successors, and migration
    0033 moved the rest."""
    if message := requesters.refusal(rule.accepted_requesters, requester_type):
        raise InvalidField(message, field)


def _answers(rule: AvailabilityRule, given: dict) -> list[dict]:
    """The answers to the magistrate's questions, checked; a problem is a 422 naming each
    question refused (answers.q2)."""
    kept, errors = questions.answers_for(rule.questions or [], given)
    if errors:
        (first, message), *others = _answer_errors(errors).items()
        raise InvalidField(message, first, more=dict(others))
    return kept


def _answer_errors(errors: dict[str, str]) -> dict[str, str]:
    """questions.answers_for's problems keyed as the body names the answers (answers.q2)."""
    return {f"answers.{question_id}": message for question_id, message in errors.items()}


def answer_problems(magistrate_id: int, given: dict) -> dict[str, str]:
    """What is wrong with the answers to the magistrate's questions, for a form refused for
    other fields: its page names every problem at once, not the questions on a second try."""
    rule = availability.rule_of(magistrate_id)
    return _answer_errors(questions.answers_for((rule.questions or []) if rule else [],
                                               given)[1])


def _check_bookable(slot: Slot | None, magistrate: Magistrate, rule: AvailabilityRule | None,
                    mode: str, now: datetime) -> Slot:
    if slot is None or slot.state != "open" or rule is None:
        raise NotAllowedNow("Este horário não está disponível. Escolha outro na agenda.",
                              "slot_unavailable")
    if slot.start_at < now + timedelta(hours=rule.min_notice_hours):
        raise NotAllowedNow(
            f"Este horário exige {rule.min_notice_hours} horas de antecedência.",
            "notice_too_short")
    offered = {"video": slot.offers_video, "in_person": slot.offers_in_person}
    if not offered.get(mode):
        modes = " ou ".join(m for m, on in (("por vídeo", slot.offers_video),
                                             ("presencialmente", slot.offers_in_person)) if on)
        raise InvalidField(f"Este horário só é oferecido {modes}.", "mode")
    return slot


# The magistrate's active bookings on one local day (bound by _day_of).
_BOOKINGS_OF_THE_DAY = select(func.count()).select_from(Booking.__table__).where(
    Booking.__table__.c.magistrate_id == bindparam("of_magistrate"),
    Booking.__table__.c.status.in_(ACTIVE_STATUSES),
    Booking.__table__.c.start_at >= bindparam("day_starts", type_=Booking.start_at.type),
    Booking.__table__.c.start_at < bindparam("day_ends", type_=Booking.start_at.type))


def _day_of(magistrate: Magistrate, slot: Slot) -> dict:
    """The bounds of the slot's local day, as _BOOKINGS_OF_THE_DAY binds them."""
    zone = ZoneInfo(magistrate.timezone)
    day = slot.start_at.astimezone(zone).date()
    return {"of_magistrate": magistrate.id, "day_starts": local_instant(day, time(0), zone),
            "day_ends": local_instant(day + timedelta(days=1), time(0), zone)}


def _check_day_limit(magistrate: Magistrate, rule: AvailabilityRule, slot: Slot) -> None:
    if not rule.max_per_day:
        return
    count = db.session.connection().execute(_BOOKINGS_OF_THE_DAY,
                                            _day_of(magistrate, slot)).scalar_one()
    if count >= rule.max_per_day:
        raise NotAllowedNow("O limite de atendimentos deste dia já foi atingido. "
                              "Escolha outro dia.", "day_full")


def _future_bookings_of_address(magistrate_key: str):
    return select(func.count()).select_from(Booking.__table__).where(
        func.lower(Booking.__table__.c.lawyer_email) == bindparam("email"),
        Booking.__table__.c.magistrate_id == bindparam(magistrate_key),
        Booking.__table__.c.status == "confirmed",
        Booking.__table__.c.start_at > bindparam("now", type_=Booking.start_at.type))


_FUTURE_BOOKINGS_OF_ADDRESS = _future_bookings_of_address("magistrate_id")


def _check_lawyer_limit(magistrate: Magistrate, email: str, now: datetime) -> None:
    """Confirmed future bookings with this magistrate, keyed on the e-mail address that
    confirmed them: a registration number someone else types cannot lock its owner out,
    and the answer says the rule, never how many bookings anyone has."""
    limit = current_app.config["MAX_FUTURE_BOOKINGS_PER_LAWYER"]
    count = db.session.connection().execute(_FUTURE_BOOKINGS_OF_ADDRESS, {
        "email": email.lower(), "magistrate_id": magistrate.id, "now": now}).scalar_one()
    if count >= limit:
        raise NotAllowedNow(
            f"Este e-mail já tem o máximo de {limit} atendimentos futuros confirmados com "
            f"{magistrate.this_one}. Cancele ou aguarde um deles para agendar outro.",
            "lawyer_limit")


def _live_holds_where(*conditions):
    """Each count reads its own partial index (ix_booking_held_email, ix_booking_held_client):
    the state is written in the SQL, not bound, for the planner to see that it applies."""
    return (select(func.count()).select_from(Booking.__table__)
            .where(Booking.__table__.c.status == literal_column("'held'"), *conditions,
                   Booking.__table__.c.hold_expires_at > bindparam(
                       "now", type_=Booking.hold_expires_at.type))
            .scalar_subquery())


_LIVE_HOLDS = select(
    _live_holds_where(func.lower(Booking.__table__.c.lawyer_email) == bindparam("email")),
    _live_holds_where(Booking.__table__.c.hold_client == bindparam("client")))


def _check_live_holds(email: str, client: str | None, now: datetime) -> None:
    """Nobody keeps an agenda blocked with holds they never confirm: live holds are counted
    per e-mail address and per client (a keyed hash of the address it came from)."""
    config = current_app.config
    by_email, by_client = db.session.execute(_LIVE_HOLDS, {  # both counts in one statement
        "email": email.lower(), "client": client, "now": now}).one()
    if by_email >= config["BOOKING_MAX_HOLDS_PER_EMAIL"] or (
            client and by_client >= config["BOOKING_MAX_HOLDS_PER_CLIENT"]):
        minutes = config["BOOKING_HOLD_MINUTES"]
        raise NotAllowedNow(
            "Há reservas aguardando confirmação por e-mail. Confirme-as com o código recebido "
            f"ou aguarde até {minutes} minutos para que expirem.", "too_many_holds")


# The same limits as conditions of the slot's compare-and-set (see _limits): counted by
# the statement that takes the slot, so a booking under its limits (nearly all) makes one
# round trip under the lock where it made one per limit; a refusal counts again, to say
# which limit it met.
# (Their names differ from the slot's columns, which an UPDATE of the slot reserves.)
_UNDER_LAWYER_LIMIT = (_future_bookings_of_address("of_magistrate").scalar_subquery()
                       < bindparam("lawyer_limit"))
_UNDER_HOLDS_PER_EMAIL = (_live_holds_where(func.lower(Booking.__table__.c.lawyer_email)
                                            == bindparam("email"))
                          < bindparam("holds_per_email"))
_UNDER_HOLDS_PER_CLIENT = (_live_holds_where(Booking.__table__.c.hold_client
                                             == bindparam("client"))
                           < bindparam("holds_per_client"))
_UNDER_DAY_LIMIT = _BOOKINGS_OF_THE_DAY.scalar_subquery() < bindparam("day_limit")


@cache
def _taking_slot_under(holds: bool, per_client: bool, per_day: bool):
    """The slot's compare-and-set under these limits: one statement per combination."""
    conditions = [_UNDER_LAWYER_LIMIT]
    conditions += [_UNDER_HOLDS_PER_EMAIL] if holds else []
    conditions += [_UNDER_HOLDS_PER_CLIENT] if per_client else []
    conditions += [_UNDER_DAY_LIMIT] if per_day else []
    return availability.taking_slot_only_if(and_(*conditions))


def _limits(plan: BookingPlan, client: str | None):
    """The compare-and-set that takes this booking's slot under its limits, and its values."""
    config = current_app.config
    magistrate, rule = plan.magistrate, plan.rule
    holds = not plan.direct
    per_client, per_day = holds and bool(client), bool(rule.max_per_day)
    values = {"email": plan.data["lawyer"]["email"].lower(), "of_magistrate": magistrate.id,
              "now": plan.now, "lawyer_limit": config["MAX_FUTURE_BOOKINGS_PER_LAWYER"]}
    if holds:
        values["holds_per_email"] = config["BOOKING_MAX_HOLDS_PER_EMAIL"]
    if per_client:
        values.update(client=client, holds_per_client=config["BOOKING_MAX_HOLDS_PER_CLIENT"])
    if per_day:
        values.update(_day_of(magistrate, plan.slot), day_limit=rule.max_per_day)
    return _taking_slot_under(holds, per_client, per_day), values


def code_hash(owner: str | int, code: str) -> str:
    """The code's keyed hash, with what it confirms in it (a hold's invite UID, known before
    its row is written; a waiting-list entry's negative id): a code fits only its own."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"{owner}:{code}".encode(), hashlib.sha256).hexdigest()


def client_hash(address: str | None) -> str | None:
    if not address:
        return None
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"client:{address}".encode(), hashlib.sha256).hexdigest()


# Built once: the booking's row, and its context (magistrate with unit, rule, slot,
# whether a calendar of the magistrate takes the booking written back: rarely, so its
# sources are read only then, and the webhook subscribers to tell). A confirmation reads
# the same without the slot.
_INSERT_BOOKING = insert(Booking.__table__)
_WRITES_BACK = exists().where(BusySource.magistrate_id == Magistrate.id,
                              busy.WRITES_BACK).label("writes_back")
_MAGISTRATE_CONTEXT = (
    select(Magistrate, AvailabilityRule, _WRITES_BACK, webhooks.ACTIVE_SUBSCRIBERS_COLUMN)
    .options(joinedload(Magistrate.unit))
    .outerjoin(AvailabilityRule, AvailabilityRule.magistrate_id == Magistrate.id)
    .where(Magistrate.id == bindparam("magistrate_id"))
)
_BOOKING_CONTEXT = _MAGISTRATE_CONTEXT.add_columns(Slot).outerjoin(
    Slot, and_(Slot.magistrate_id == Magistrate.id,
               Slot.start_at == bindparam("start", type_=Slot.start_at.type)))


_BOOKED_EVENT = {True: "booking.confirmed", False: "booking.held"}  # by `direct`


@dataclass
class BookingPlan:
    """What plan_booking read and checked; write_booking writes from it."""
    data: dict
    now: datetime
    direct: bool
    magistrate: Magistrate
    rule: AvailabilityRule
    slot: Slot
    answers: list[dict]
    writes_back: bool
    subscribers: list  # the webhook subscribers of the event it will publish


def book_slot(data: dict, now: datetime | None = None, *, direct: bool = False,
              client: str | None = None) -> Booked:
    """Hold the slot at data['start'] with data['magistrate_id'] until the requester types
    the code e-mailed to them (`direct`: book it confirmed at once, for a system of the
    court with an integration key). A hold takes the slot like a booking: one winner.

    What decides whether to book is read first, outside SQLite's write lock;
    under the lock only the limits are counted, the slot is flipped (the
    compare-and-set that makes one winner) and the rows are written.
    Raises InvalidField (422) or NotAllowedNow (409). The caller commits.
    """
    with reads_before_writing(db.session()):
        plan = plan_booking(data, now, direct=direct)
    return write_booking(plan, client=client)


def plan_booking(data: dict, now: datetime | None = None, *, direct: bool = False) -> BookingPlan:
    """book_slot's reads and checks, for a caller that reads more in the same transaction
    (within reads_before_writing: see the API's route). Raises as book_slot."""
    now = now or utcnow()
    magistrate, rule, slot, writes_back, subscribers = _booking_context(
        data["magistrate_id"], data["start"], lock=True)
    if magistrate is None or not magistrate.takes_bookings:
        raise InvalidField("Magistrado não encontrado.", "magistrate_id")
    slot = _check_bookable(slot, magistrate, rule, data["mode"], now)
    _check_requester(rule, data.get("requester_type", "lawyer"),
                     data.get("requester_type_field", "requester_type"))
    answers = _answers(rule, data.get("answers") or {})
    return BookingPlan(data, now, direct, magistrate, rule, slot, answers, writes_back,
                       webhooks.subscribers_in(subscribers, _BOOKED_EVENT[direct]))


def write_booking(plan: BookingPlan, *, client: str | None = None) -> Booked:
    """book_slot's writes, from its plan: the limits counted under the lock, the slot's
    compare-and-set, the rows. The caller commits."""
    data, now, direct, magistrate, rule, slot = (plan.data, plan.now, plan.direct,
                                                 plan.magistrate, plan.rule, plan.slot)
    lawyer = data["lawyer"]
    token = new_token()
    uid = f"{uuid.uuid4()}{UID_DOMAIN}"
    code = None if direct else f"{secrets.randbelow(1_000_000):06d}"
    row = dict(
        slot_id=slot.id, magistrate_id=magistrate.id, start_at=slot.start_at,
        end_at=slot.end_at, mode=data["mode"], status="confirmed" if direct else "held",
        lawyer_name=lawyer["name"], lawyer_oab=lawyer["oab"], lawyer_email=lawyer["email"],
        lawyer_phone=lawyer["phone"], case_number=data["case_number"],
        subject=data["subject"], under_seal=data.get("under_seal", False),
        notify_by=data.get("notify_by"), participants=data.get("participants") or None,
        requester_type=data.get("requester_type", "lawyer"), answers=plan.answers or None,
        requester_institution=lawyer.get("institution"),
        consent_at=now,
        manage_token_hash=token_hash(token),
        ical_uid=uid, ical_sequence=0, confirm_code_hash=code and code_hash(uid, code),
        created_at=now, updated_at=now, confirm_attempts=0,
        codes_sent=0 if direct else 1, code_sent_at=None if direct else now,
        confirmed_at=now if direct else None,
        hold_expires_at=None if direct else now + timedelta(
            minutes=current_app.config["BOOKING_HOLD_MINUTES"]),
        hold_client=None if direct else client)
    row["video_url"] = video.room_for(row, rule) if data["mode"] == "video" else None
    # The booking as written, for the messages and the answer; nothing changes it in this
    # request. Built before the first write: on SQLite everything from there to the commit
    # holds the database's one write lock, and every other booking waits for it.
    booking = Booking(**row)
    taking, values = _limits(plan, client)
    if not availability.take_slot(slot.id, only_if=taking, values=values):
        # A limit met (told in this order), or else the slot was taken meanwhile.
        _check_lawyer_limit(magistrate, lawyer["email"], now)
        if not direct:
            _check_live_holds(lawyer["email"], client, now)
        _check_day_limit(magistrate, rule, slot)
        raise NotAllowedNow(SLOT_TAKEN, "slot_taken")
    try:
        booking_id = db.session.connection().execute(_INSERT_BOOKING, row).inserted_primary_key[0]
    except IntegrityError:
        raise NotAllowedNow(SLOT_TAKEN, "slot_taken") from None
    booking.id = booking_id
    audit.record("booking.created" if direct else "booking.held", "booking", booking.id,
                 actor=f"lawyer:{lawyer['oab']}",
                 details={"slot_id": slot.id, "mode": booking.mode})
    if direct:
        _notify(booking, "booked", token, first_messages=True, writes_back=plan.writes_back,
                also=_event_messages(booking, "booking.confirmed", plan.subscribers))
    else:
        _send_code(booking, code, token,
                   also=_event_messages(booking, "booking.held", plan.subscribers))
    return Booked(booking, token, magistrate)


# What confirm_hold answers, for the route to say.
CONFIRMED, ALREADY_CONFIRMED, WRONG_CODE, TOO_MANY_TRIES, HOLD_GONE = (
    "confirmed", "already_confirmed", "wrong_code", "too_many_tries", "hold_expired")


# What a hold's confirmation may change meanwhile: read again under the lock.
_HOLD_STATE = ["status", "hold_expires_at", "confirm_attempts", "confirm_code_hash"]


def _hold_over(booking: Booking, now: datetime, columns: list[str] = _HOLD_STATE) -> str | None:
    """The hold read again under the magistrate's lock: None while it still waits for its
    code, else what became of it, ALREADY_CONFIRMED or HOLD_GONE (one found expired is
    released now)."""
    _lock_magistrate(booking.magistrate_id)
    db.session.refresh(booking, columns)
    if booking.status != "held":
        return ALREADY_CONFIRMED if booking.status in ("confirmed", "attended", "no_show") \
            else HOLD_GONE
    if booking.hold_expires_at is None or booking.hold_expires_at <= now:
        _release_hold(booking, now)
        return HOLD_GONE
    return None


def code_still_current(held: Booking | WaitlistEntry, owner: str | int,
                       sealed_code: str | None) -> bool:
    """Whether a queued code's e-mail should still go: its hold (or waiting-list entry, whose
    codes are keyed by `owner` as code_hash says) still waits, and for this very code (a
    newer one, asked for meanwhile, replaces it). A code whose seal cannot be opened counts
    as current: rendering fails it loudly, and alone."""
    if held.status != "held" or held.hold_expires_at is None \
            or held.hold_expires_at <= utcnow():
        return False
    code = unseal(sealed_code or "")
    return code is None or hmac.compare_digest(code_hash(owner, code),
                                               held.confirm_code_hash or "")


def confirmation_context(booking: Booking) -> dict:
    """What confirm_hold reads besides the booking (its magistrate with unit and rule, the
    calendars and webhook subscribers to tell), in one statement: for a caller that
    reads before writing (see the API's route). Pass the answer as confirm_hold's `known`."""
    row = db.session.execute(_MAGISTRATE_CONTEXT,
                             {"magistrate_id": booking.magistrate_id}).first()
    # The session keeps loaded objects only while someone holds them: these are held for
    # the request, so the messages and the answer find them without reading them again.
    return {"magistrate": row and row.Magistrate, "rule": row and row.AvailabilityRule,
            "writes_back": bool(row and row.writes_back),
            "subscribers": webhooks.subscribers_in(row and row.webhook_subscribers,
                                                   "booking.confirmed")}


def confirm_hold(booking: Booking, code: str, manage_token: str,
                 now: datetime | None = None, *, known: dict | None = None) -> str:
    """The requester typed the code e-mailed to them: the hold becomes a confirmed booking
    and only now is everyone sent the invite. The code is compared in constant time; a
    wrong one counts, and BOOKING_CONFIRM_MAX_TRIES of them release the slot. Returns one
    of the outcomes above; the caller commits whatever the outcome (a wrong try counts).
    Raises NotAllowedNow when the address reached its limit meanwhile (the hold goes).

    The booking may have been read before the write transaction: what a concurrent
    confirmation or expiry changes is read again under the magistrate's lock (SQLite's
    write lock, taken by that first statement)."""
    now = now or utcnow()
    known = known or {}
    if (over := _hold_over(booking, now)) is not None:
        return over
    typed = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    if not hmac.compare_digest(code_hash(booking.ical_uid, typed), booking.confirm_code_hash or ""):
        booking.confirm_attempts += 1
        if booking.confirm_attempts >= current_app.config["BOOKING_CONFIRM_MAX_TRIES"]:
            _release_hold(booking, now)
            return TOO_MANY_TRIES
        return WRONG_CODE
    try:
        _check_lawyer_limit(db.session.get(Magistrate, booking.magistrate_id),
                            booking.lawyer_email, now)
    except NotAllowedNow:
        _release_hold(booking, now)
        raise
    booking.status = "confirmed"
    booking.confirmed_at = now
    booking.confirm_code_hash = booking.hold_client = None
    booking.hold_expires_at = None
    booking.updated_at = now
    audit.record("booking.confirmed", "booking", booking.id,
                 actor=f"lawyer:{booking.lawyer_oab}")
    _notify(booking, "booked", manage_token, first_messages=True,
            writes_back=known.get("writes_back", True),
            also=_event_messages(booking, "booking.confirmed", known.get("subscribers")))
    return CONFIRMED


class CodeTooSoon(NotAllowedNow):
    """A code went moments ago: a new one may be asked for in `seconds`."""

    def __init__(self, seconds: int):
        super().__init__(f"Um código acabou de ser enviado. Aguarde {seconds} segundos antes de "
                         "pedir outro e confira a caixa de spam.", "code_just_sent")
        self.seconds = seconds


CODE_SENT = "code_sent"


def send_new_code(booking: Booking, manage_token: str, now: datetime | None = None) -> str:
    """The requester's code did not arrive (a slow or strict mail server): a new one replaces
    it, and a message of the old one still waiting is not sent (messages.code_still_useful).
    The hold keeps its expiry and its wrong tries: a new code is no new time and no new
    tries. Returns CODE_SENT, ALREADY_CONFIRMED or HOLD_GONE; raises as
    check_new_code_allowed. The caller commits."""
    now = now or utcnow()
    if (over := _hold_over(booking, now, [*_HOLD_STATE, "codes_sent", "code_sent_at"])) \
            is not None:
        return over
    check_new_code_allowed(booking.codes_sent, booking.code_sent_at, booking.lawyer_email, now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    booking.confirm_code_hash = code_hash(booking.ical_uid, code)
    booking.codes_sent = max(booking.codes_sent, 1) + 1  # one went, if made before counting
    booking.code_sent_at = booking.updated_at = now
    audit.record("booking.code_resent", "booking", booking.id,
                 actor=f"lawyer:{booking.lawyer_oab}", details={"codes_sent": booking.codes_sent})
    _send_code(booking, code, manage_token, number=booking.codes_sent)
    return CODE_SENT


def check_new_code_allowed(codes_sent: int, code_sent_at: datetime | None, email: str,
                           now: datetime) -> None:
    """Whether a hold or a waiting-list entry may be sent another code: at most
    BOOKING_CODE_RESENDS new ones (an address that never gets them is not helped by more),
    BOOKING_CODE_RESEND_SECONDS apart (the first is often only slow). Raises NotAllowedNow,
    CodeTooSoon when it is only early."""
    config = current_app.config
    if codes_sent > config["BOOKING_CODE_RESENDS"]:
        raise NotAllowedNow(
            f"Já enviamos códigos demais para {email}. Confira a caixa de spam e se o endereço "
            "está certo; se não estiver, recomece com o endereço correto.", "too_many_codes")
    if code_sent_at is not None:
        wait = code_sent_at + timedelta(seconds=config["BOOKING_CODE_RESEND_SECONDS"]) - now
        if wait > timedelta(0):
            raise CodeTooSoon(math.ceil(wait.total_seconds()))


def new_codes_left(codes_sent: int) -> int:
    """How many new codes may still be asked for, after `codes_sent` (0 for records made
    before codes were counted: they sent one)."""
    return max(0, current_app.config["BOOKING_CODE_RESENDS"] + 1 - max(codes_sent, 1))


def remaining_tries(held: Booking | WaitlistEntry) -> int:
    """Wrong codes a hold (or a waiting-list entry) may still take before it is released."""
    return max(0, current_app.config["BOOKING_CONFIRM_MAX_TRIES"] - held.confirm_attempts)


def release_hold(booking: Booking, now: datetime | None = None) -> bool:
    """The requester gives the held time back before confirming it (a mistyped e-mail never
    gets the code): it opens again now, not when the hold expires. False when it is no
    longer held (confirmed or expired meanwhile). Nobody else was told of a hold, so
    nobody is told of its end but the webhooks. The caller commits."""
    _lock_magistrate(booking.magistrate_id)
    db.session.refresh(booking, _HOLD_STATE)
    if booking.status != "held":
        return False
    _release_hold(booking, now or utcnow(), action="booking.hold_released")
    return True


def _release_hold(booking: Booking, now: datetime, *,
                  action: str = "booking.hold_expired") -> None:
    """The hold is over unconfirmed: its slot opens again."""
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.cancelled_by = HOLD_EXPIRED
    booking.confirm_code_hash = booking.hold_client = None
    booking.updated_at = now
    if booking.slot_id is not None:
        availability.release_slot(booking.slot_id)
    audit.record(action, "booking", booking.id)
    _publish(booking, "booking.hold_expired")


def expire_holds(now: datetime | None = None) -> int:
    """Holds nobody confirmed in time give their slots back (the scheduler, each minute)."""
    now = now or utcnow()
    expired = db.session.scalars(select(Booking).where(  # from ix_booking_held (see above)
        Booking.status == literal_column("'held'"), Booking.hold_expires_at <= now)).all()
    for booking in expired:
        _lock_magistrate(booking.magistrate_id)
        _release_hold(booking, now)
    return len(expired)


def _send_code(booking: Booking, code: str, manage_token: str, *,
               also: list[dict] = (), number: int = 1) -> None:
    from . import messages  # not at the top: messages imports this module

    messages.queue_confirmation_code(booking, code, manage_token, also=also, number=number)


# On PostgreSQL the same read takes the magistrate's booking lock (one round trip less).
_BOOKING_CONTEXT_LOCKED = _BOOKING_CONTEXT.add_columns(
    func.pg_advisory_xact_lock(1, bindparam("magistrate_id")))


def _booking_context(magistrate_id: int, start: datetime, *, lock: bool = False):
    """(magistrate with its unit, rule, slot at start, writes_back, the webhook subscribers'
    column) in one query; None where missing. `lock`: and the magistrate's booking lock, on
    PostgreSQL (see _lock_magistrate)."""
    locking = lock and db.session.get_bind().dialect.name == "postgresql"
    row = db.session.execute(_BOOKING_CONTEXT_LOCKED if locking else _BOOKING_CONTEXT,
                             {"magistrate_id": magistrate_id, "start": start}).first()
    return ((row.Magistrate, row.AvailabilityRule, row.Slot, row.writes_back,
             row.webhook_subscribers) if row else (None, None, None, False, None))


def booking_for_token(booking_id: int, token: str) -> Booking | None:
    """The booking if the token opens it (its manage token, or a link sent again: see
    links.py), else None."""
    booking = db.session.get(Booking, booking_id)
    if booking is None or not links.opens(booking, token):
        return None
    return booking


def lawyer_cutoff_passed(booking: Booking, now: datetime) -> bool:
    """Whether it is too late for the lawyer to cancel or move it by link."""
    cutoff = timedelta(hours=current_app.config["LAWYER_CHANGE_CUTOFF_HOURS"])
    return booking.start_at - cutoff <= now


def ensure_cancellable(booking: Booking, *, by: str, now: datetime | None = None) -> None:
    """Refuses (NotAllowedNow) a booking that can no longer be cancelled by `by`: a form
    asks this before what was typed in it, which no longer matters then."""
    now = now or utcnow()
    if booking.status != "confirmed":
        label = BOOKING_STATUS_LABELS[booking.status].lower()
        raise NotAllowedNow(f"Este agendamento não pode mais ser cancelado (situação: {label}).",
                            "not_confirmed")
    if booking.start_at <= now:
        raise NotAllowedNow("O horário deste atendimento já passou.", "already_started")
    if by == "lawyer" and lawyer_cutoff_passed(booking, now):
        raise NotAllowedNow(_cutoff_message(), "cutoff_passed")


def cancel(booking: Booking, *, by: str, reason: str | None, user=None,
           now: datetime | None = None, reopen: bool = True,
           subscribers: list | None = None, writes_back: bool = True) -> Booking:
    """Cancel a confirmed booking; `by` is 'lawyer' or 'court'. Its slot opens again, unless
    the court no longer offers that time (`reopen=False`: a closure, a block, a busy time).
    `subscribers` (of booking.cancelled) and `writes_back` (False: the magistrate has no
    calendar to remove it from): read once by a caller that cancels many."""
    now = now or utcnow()
    ensure_cancellable(booking, by=by, now=now)
    if by == "court" and not (reason or "").strip():
        raise InvalidField("Informe o motivo; o advogado vai lê-lo.", "reason")
    _lock_magistrate(booking.magistrate_id)
    booking.status = "cancelled"
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.cancel_reason = (reason or "").strip() or None
    booking.ical_sequence += 1
    booking.updated_at = now
    if booking.slot_id is not None and reopen:
        availability.release_slot(booking.slot_id)
    elif booking.slot_id is not None:
        availability.discard_slot(booking.slot_id)
        booking.slot_id = None
    audit.record("booking.cancelled", "booking", booking.id, user=user,
                 actor=None if user else f"lawyer:{booking.lawyer_oab}",
                 details={"by": by, "reason": booking.cancel_reason})
    _notify(booking, "cancelled", writes_back=writes_back,
            also=_event_messages(booking, "booking.cancelled", subscribers))
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
        raise NotAllowedNow("Só agendamentos confirmados podem ser remarcados.",
                              "not_confirmed")
    asked_by_court = booking.rebook_deadline is not None  # the cutoff is the court's deadline
    if by == "lawyer" and not asked_by_court and lawyer_cutoff_passed(booking, now):
        raise NotAllowedNow(_cutoff_message(), "cutoff_passed")
    magistrate = db.session.get(Magistrate, booking.magistrate_id)
    _lock_magistrate(magistrate.id)
    rule = db.session.get(AvailabilityRule, magistrate.id)
    mode = mode or booking.mode
    slot = availability.slot_at(magistrate.id, new_start)
    if slot is not None and slot.id == booking.slot_id:
        raise NotAllowedNow("O agendamento já está neste horário.", "same_slot")
    slot = _check_bookable(slot, magistrate, rule, mode, now)
    _check_day_limit(magistrate, rule, slot)
    if not availability.take_slot(slot.id):
        raise NotAllowedNow(SLOT_TAKEN, "slot_taken")
    old = {"start": booking.start_at.isoformat(), "slot_id": booking.slot_id}
    if booking.slot_id is not None:
        availability.release_slot(booking.slot_id)
    booking.slot_id = slot.id
    booking.start_at, booking.end_at = slot.start_at, slot.end_at
    if mode == "video" and not booking.video_url:  # the room stays across reschedules
        booking.video_url = video.room_for({"start_at": slot.start_at, "end_at": slot.end_at},
                                           rule)
    booking.mode = mode
    booking.ical_sequence += 1
    booking.updated_at = now
    try:
        db.session.flush()
    except IntegrityError:
        raise NotAllowedNow(SLOT_TAKEN, "slot_taken") from None
    if by == "court":
        manage_token = new_token()
        booking.manage_token_hash = token_hash(manage_token)
    booking.first_reminder_sent = booking.second_reminder_sent = False
    # A new time settles any conflict the old one had.
    booking.conflict_reason = booking.conflict_at = booking.conflict_kept_at = None
    booking.rebook_deadline = None
    audit.record("booking.rescheduled", "booking", booking.id, user=user,
                 actor=None if user else f"lawyer:{booking.lawyer_oab}",
                 details={"from": old, "to": booking.start_at.isoformat(), "by": by})
    _notify(booking, "rescheduled", manage_token,
            previous_start=datetime.fromisoformat(old["start"]),
            also=_event_messages(booking, "booking.rescheduled"))
    return booking


def cancel_future_bookings(magistrate_ids: list[int], reason: str, user,
                            now: datetime | None = None) -> int:
    """The court cancels every confirmed future booking of these magistrates (one left the
    court, moved, or stopped publishing), each lawyer told the reason; returns how many."""
    now = now or utcnow()
    future = db.session.scalars(select(Booking).where(
        Booking.magistrate_id.in_(magistrate_ids), Booking.status == "confirmed",
        Booking.start_at > now).order_by(Booking.start_at)).all()
    for booking in future:
        cancel(booking, by="court", reason=reason, user=user, now=now)
    return len(future)


def mark_attendance(booking: Booking, status: str, *, user, now: datetime | None = None):
    """After the appointment's start, record whether the lawyer came."""
    now = now or utcnow()
    if status not in ("attended", "no_show"):
        raise InvalidField("Use attended ou no_show.", "status")
    if booking.status not in ("confirmed", "attended", "no_show"):
        raise NotAllowedNow("Um agendamento cancelado não tem comparecimento.",
                              "not_confirmed")
    if booking.start_at > now:
        raise NotAllowedNow("O comparecimento só pode ser registrado depois do horário.",
                              "not_started")
    previous = booking.status
    booking.status = status
    booking.updated_at = now
    audit.record(f"booking.{status}", "booking", booking.id, user=user,
                 details={"previous": previous})
    if status != previous:
        _publish(booking, f"booking.{status}")
    return booking


def _cutoff_message() -> str:
    hours = current_app.config["LAWYER_CHANGE_CUTOFF_HOURS"]
    return (f"Alterações pelo link só são aceitas até {hours} horas antes do atendimento. "
            "Entre em contato com a unidade pelos canais de atendimento.")


def _notify(booking: Booking, event: str, manage_token: str | None = None,
            previous_start: datetime | None = None, **known) -> None:
    """Queue the invite e-mails in this transaction (rendered when the sender sends them);
    `known`: what the caller already read, and `also` the change's webhook events, queued
    in the same statement (see queue_booking_messages)."""
    from . import messages  # not at the top: messages imports this module

    messages.queue_booking_messages(booking, event, manage_token, previous_start, **known)


def _event_data(booking: Booking) -> dict:
    """The event for the court's other systems (webhooks): ids and states, who asked by type
    only (a defender's system routes its own), the case number only when not under seal (or
    to a subscriber allowed it); never the requester's data."""
    return {"booking_id": booking.id, "status": booking.status,
            "magistrate_id": booking.magistrate_id, "start": booking.start_at.isoformat(),
            "end": booking.end_at.isoformat(), "mode": booking.mode,
            "requester_type": booking.requester_type, "case_number": booking.case_number}


def _publish(booking: Booking, event_type: str) -> None:
    webhooks.publish(event_type, _event_data(booking), under_seal=booking.under_seal)


def _event_messages(booking: Booking, event_type: str, subscribers: list | None = None):
    """_publish's messages, for the caller to queue with the change's e-mails."""
    return webhooks.event_messages(event_type, _event_data(booking),
                                   under_seal=booking.under_seal, subscribers=subscribers)


# Bookings that were ever confirmed: a hold waiting for its code, or one that expired
# unconfirmed (perhaps typed by someone else), is nobody's appointment.
EVER_CONFIRMED = and_(Booking.status != "held",
                      or_(Booking.cancelled_by.is_(None), Booking.cancelled_by != HOLD_EXPIRED))


def bookings_of(magistrate_id: int, *, first: datetime | None = None,
                last: datetime | None = None, status: str | None = None):
    """The magistrate's side sees appointments: never holds still waiting for their code."""
    statement = select(Booking).where(Booking.magistrate_id == magistrate_id, EVER_CONFIRMED)
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


def mark_reminder_queued(booking_id: int, flag: str) -> None:
    """The reminder job queued this reminder for the booking's current time."""
    if flag not in ("first_reminder_sent", "second_reminder_sent"):
        raise ValueError(flag)
    db.session.execute(update(Booking).where(Booking.id == booking_id).values({flag: True}))


# --- what the Corregedoria reads ---------------------------------------------------

def attendance(first_day: date, last_day: date, now: datetime | None = None, *,
               comarca_id: int | None = None) -> list[dict]:
    """Per magistrate (of one comarca, or all): slots offered, booked, cancelled by the
    court, no-shows, and the days until the first open slot: what shows that attendance
    was offered."""
    now = now or utcnow()
    zone = court_zone()
    start = datetime.combine(first_day, time(0), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), zone)
    offered = dict(db.session.execute(
        select(Slot.magistrate_id, func.count()).where(Slot.start_at >= start, Slot.start_at < end)
        .group_by(Slot.magistrate_id)).all())
    empty = {"booked": 0, "cancelled_by_court": 0, "no_show": 0}
    outcomes: dict[int, dict] = {}
    for magistrate_id, status, cancelled_by, requester, count in db.session.execute(
            select(Booking.magistrate_id, Booking.status, Booking.cancelled_by,
                   Booking.requester_type, func.count())
            .where(Booking.start_at >= start, Booking.start_at < end)
            .group_by(Booking.magistrate_id, Booking.status, Booking.cancelled_by,
                      Booking.requester_type)):
        row = outcomes.setdefault(magistrate_id, {**empty, "by_requester": {}})
        if status not in ("cancelled", "held"):
            row["booked"] += count
            row["by_requester"][requester] = row["by_requester"].get(requester, 0) + count
        elif cancelled_by == "court":
            row["cancelled_by_court"] += count
        if status == "no_show":
            row["no_show"] += count
    first_open = dict(db.session.execute(
        select(Slot.magistrate_id, func.min(Slot.start_at))
        .where(Slot.state == "open", Slot.start_at >= now).group_by(Slot.magistrate_id)).all())
    rows = []
    magistrates = (select(Magistrate, Unit).join(Unit, Unit.id == Magistrate.unit_id)
                   .order_by(Unit.name, Magistrate.name))
    if comarca_id is not None:
        magistrates = magistrates.where(Unit.comarca_id == comarca_id)
    for magistrate, unit in db.session.execute(magistrates):
        soonest = first_open.get(magistrate.id)
        rows.append({
            "unit_id": unit.id, "unit": unit.name, "magistrate_id": magistrate.id,
            "magistrate": f"{magistrate.title} {magistrate.name}",
            "slots_offered": offered.get(magistrate.id, 0),
            **outcomes.get(magistrate.id, {**empty, "by_requester": {}}),
            "days_to_first_open_slot": (round((soonest - now).total_seconds() / 86400, 1)
                                        if soonest else None),
        })
    return rows


def urgent_response_times(first_day: date, last_day: date, *,
                          comarca_id: int | None = None) -> list[dict]:
    """Per unit (of one comarca, or all), for the Corregedoria: urgent requests received
    between the two days, how many were answered, how many within their deadline, how many
    are open past it, and the median hours to an answer."""
    zone = court_zone()
    start = datetime.combine(first_day, time(0), zone)
    end = datetime.combine(last_day + timedelta(days=1), time(0), zone)
    now = utcnow()
    rows: dict[int, dict] = {}
    hours: dict[int, list[float]] = {}
    received = (select(UrgentRequest, Unit)
                .join(Magistrate, Magistrate.id == UrgentRequest.magistrate_id)
                .join(Unit, Unit.id == Magistrate.unit_id)
                .where(UrgentRequest.created_at >= start, UrgentRequest.created_at < end))
    if comarca_id is not None:
        received = received.where(Unit.comarca_id == comarca_id)
    for request, unit in db.session.execute(received):
        row = rows.setdefault(unit.id, {"unit_id": unit.id, "unit": unit.name, "received": 0,
                                        "answered": 0, "answered_in_time": 0,
                                        "open_overdue": 0, "median_hours_to_answer": None})
        row["received"] += 1
        if request.answered_at is not None:
            row["answered"] += 1
            hours.setdefault(unit.id, []).append(
                (request.answered_at - request.created_at).total_seconds() / 3600)
            if request.answer_due_at is None or request.answered_at <= request.answer_due_at:
                row["answered_in_time"] += 1
        elif urgent.is_overdue(request, now):
            row["open_overdue"] += 1
    for unit_id, values in hours.items():
        rows[unit_id]["median_hours_to_answer"] = round(median(values), 1)
    return sorted(rows.values(), key=lambda row: row["unit"])


# --- the lawyer's data (LGPD) -------------------------------------------------------

def booking_data(booking) -> dict:
    """Everything the service holds about one booking, for the lawyer who made it."""
    messages = notifications.messages_with_key_prefix(f"booking:{booking.id}:")
    events = audit.history("booking", booking.id)
    return {
        "booking": {
            "id": booking.id, "status": booking.status, "start_at": booking.start_at.isoformat(),
            "end_at": booking.end_at.isoformat(), "mode": booking.mode,
            "magistrate_id": booking.magistrate_id, "case_number": booking.case_number,
            "subject": booking.subject, "under_seal": booking.under_seal,
            "created_at": booking.created_at.isoformat(),
            "consent_at": booking.consent_at.isoformat(),
            "cancelled_at": booking.cancelled_at.isoformat() if booking.cancelled_at else None,
            "cancelled_by": booking.cancelled_by, "cancel_reason": booking.cancel_reason,
        },
        "lawyer": {"name": booking.lawyer_name, "oab": booking.lawyer_oab,
                   "email": booking.lawyer_email, "phone": booking.lawyer_phone},
        "participants": booking.participants or [],
        "answers": booking.answers or [],
        "messages": [{"to": m.recipients, "subject": m.subject, "status": m.status,
                      "created_at": m.created_at.isoformat(),
                      "sent_at": m.sent_at.isoformat() if m.sent_at else None} for m in messages],
        "history": [{"at": e.at.isoformat(), "action": e.action} for e in events],
        "retention": {"days_after_appointment": current_app.config["RETENTION_DAYS"]},
    }


# --- retention ------------------------------------------------------------------------

def anonymize_ended_before(cutoff: datetime, now: datetime,
                           hold_cutoff: datetime | None = None) -> int:
    """The lawyer's data, the case and every free text of bookings that ended before the
    cutoff (LGPD retention); the date, unit, mode and outcome stay for the statistics.
    A hold nobody confirmed (perhaps typed by someone else) goes at hold_cutoff already."""
    ended = Booking.end_at < cutoff
    if hold_cutoff is not None:
        ended = ended | ((Booking.cancelled_by == HOLD_EXPIRED)
                         & (Booking.cancelled_at < hold_cutoff))
    return db.session.execute(
        update(Booking).where(ended, Booking.anonymized_at.is_(None))
        .values(lawyer_name=REMOVED, lawyer_oab=REMOVED, lawyer_email=REMOVED_EMAIL,
                lawyer_phone=REMOVED, case_number=REMOVED, subject=REMOVED, cancel_reason=None,
                conflict_reason=None, video_url=None, hold_client=None, participants=None,
                answers=None,
                anonymized_at=now)
        .execution_options(synchronize_session=False)).rowcount
