"""Court changes that hit booked appointments, and what the magistrate decides about them.

A closure, a block, a rule change or a busy time in the magistrate's own calendar
never moves a booked slot. After each such change, availability tells this module
(a listener registered in create_app), which flags the confirmed future bookings the
change now covers and tells the unit's office once. The magistrate (or an admin,
for a court-wide closure, all at once) chooses for each: keep it; cancel it with a
reason the lawyer reads; or ask the lawyer to choose another time, with a link and a
deadline, after which the booking is cancelled with the reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import select

from ..accounts import service as accounts
from ..audit import service as audit
from ..availability import busy
from ..availability import service as availability
from ..courts import service as courts
from ..database import commit_keeping_loaded, utcnow
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db
from ..formatting import moment_label
from ..notifications import service as notifications
from ..security import new_token, token_hash
from ..stopping import stop_requested
from ..urls import external_url
from ..webhooks import service as webhooks
from . import service
from .models import Booking

ACTIONS = ("flag", "keep", "cancel", "ask")


def detect(magistrate_ids: list[int], decision: dict | None = None,
           now: datetime | None = None) -> int:
    """Flag the confirmed future bookings a change now covers; returns how many are covered.
    With a decision (an admin's closure), apply it to each booking it covers."""
    now = now or utcnow()
    if decision and decision.get("closure") is not None:
        return _closure_detected(decision["closure"], decision, now)
    covered = 0
    for booking in db.session.scalars(select(Booking).where(
            Booking.magistrate_id.in_(magistrate_ids), Booking.status == "confirmed",
            Booking.start_at > now).order_by(Booking.start_at)).all():
        reason = availability.unavailable_reason(booking.magistrate_id, booking.start_at,
                                                 booking.end_at)
        if reason is None:
            if booking.conflict_reason and booking.rebook_deadline is None:
                booking.conflict_reason = booking.conflict_at = booking.conflict_kept_at = None
            continue
        covered += 1
        if _undecided(booking, reason, (decision or {}).get("action", "flag")):
            _apply(booking, reason, (decision or {}).get("action", "flag"),
                   (decision or {}).get("user"), (decision or {}).get("reason"), now)
    return covered


def _undecided(booking: Booking, reason: str, action: str) -> bool:
    """Whether the decision still has to be applied to this covered booking."""
    if booking.status != "confirmed":
        return False
    if booking.conflict_reason != reason:
        return True
    if booking.conflict_kept_at or booking.rebook_deadline:
        return False  # already decided for this very reason
    return action != "flag"


def _apply(booking: Booking, reason: str, action: str, user, lawyers_reason: str | None,
           now: datetime, **known) -> None:
    """`known`: what a cancellation would read, read once for many (see service.cancel)."""
    if booking.conflict_reason != reason:
        booking.conflict_reason, booking.conflict_at = reason[:300], now
        booking.conflict_kept_at = None
        if action == "flag":  # the office has a decision to make only when none was made
            _tell_office(booking, now)
    if action == "keep":
        keep(booking, user, now)
    elif action == "cancel":
        service.cancel(booking, by="court", user=user, now=now, reason=lawyers_reason or reason,
                       reopen=False, **known)
    elif action == "ask":
        ask_for_another_time(booking, user, now)


# --- court-wide closures: thousands of bookings, applied by the scheduler -----------------

def _closure_reason(closure) -> str:
    return f"Sem expediente no dia: {closure.reason}"[:300]


def _on_closed_days(closure, now: datetime) -> list[Booking]:
    """The confirmed future bookings on the closure's days, each by its magistrate's own
    calendar day: one query, however many magistrates the closure covers."""
    zones = courts.magistrate_zones(closure.comarca_id)
    widest_offset = timedelta(hours=14)  # no time zone is further from UTC
    statement = select(Booking).where(
        Booking.status == "confirmed", Booking.start_at > now,
        Booking.start_at >= datetime.combine(closure.first_day, time(0), UTC) - widest_offset,
        Booking.start_at < datetime.combine(closure.last_day + timedelta(days=1), time(0), UTC)
        + widest_offset).order_by(Booking.start_at, Booking.id)
    if closure.comarca_id is not None:
        statement = statement.where(Booking.magistrate_id.in_(list(zones)))
    return [booking for booking in db.session.scalars(statement)
            if booking.magistrate_id in zones and closure.first_day
            <= booking.start_at.astimezone(ZoneInfo(zones[booking.magistrate_id])).date()
            <= closure.last_day]


def _closure_detected(closure, decision: dict, now: datetime) -> int:
    """Count what the closure covers; apply the decision here when the bookings are few
    (the admin sees it done), or leave it to `apply_closure_decisions` when they are many
    (the admin sees a progress bar)."""
    covered = _on_closed_days(closure, now)
    reason, action = _closure_reason(closure), decision.get("action", "flag")
    pending = [booking for booking in covered if _undecided(booking, reason, action)]
    availability.closure_progress(closure, done=0, total=len(pending), finished=not pending)
    if pending and len(pending) <= current_app.config["CLOSURE_INLINE_BOOKINGS"]:
        for booking in pending:
            _apply(booking, reason, action, decision.get("user"), decision.get("reason"), now)
        availability.closure_progress(closure, done=len(pending), finished=True)
    return len(covered)


def apply_closure_decisions(batch: int = 100, now: datetime | None = None) -> int:
    """The scheduler's job: apply each large closure's decision, committing every `batch`
    bookings so the admin's page shows progress and a stop loses nothing done. A closure
    removed meanwhile stops where it was. Returns how many bookings were decided."""
    applied = 0
    for closure in availability.closures_being_applied():
        closure_id, action = closure.id, closure.on_bookings or "flag"
        reason, lawyers_reason = _closure_reason(closure), closure.bookings_reason
        user = (accounts.get_user(closure.decided_by_user_id)
                if closure.decided_by_user_id else None)
        # by magistrate: a batch then reads few magistrates, rules and calendars
        pending = [b.id for b in sorted(_on_closed_days(closure, now or utcnow()),
                                        key=lambda b: (b.magistrate_id, b.start_at))
                   if _undecided(b, reason, action)]
        done = closure.bookings_done
        for first in range(0, len(pending), batch):
            if stop_requested():
                return applied
            bookings = db.session.scalars(select(Booking).where(
                Booking.id.in_(pending[first:first + batch]))
                .order_by(Booking.magistrate_id, Booking.start_at)).all()
            involved = sorted({b.magistrate_id for b in bookings})
            # read once per batch, and held here while the batch uses them
            context = (courts.load_magistrates(involved), availability.rules_of(involved))
            subscribers, writing_back = (_read_once_for_cancelling(involved)
                                         if action == "cancel" else (None, set()))
            for booking in bookings:
                if _undecided(booking, reason, action):
                    known = ({"subscribers": subscribers,
                              "writes_back": booking.magistrate_id in writing_back}
                             if action == "cancel" else {})
                    _apply(booking, reason, action, user, lawyers_reason, now or utcnow(),
                           **known)
                    applied += 1
                done += 1
            del context
            closure = availability.get_closure(closure_id)
            if closure is None:
                db.session.rollback()
                break
            availability.closure_progress(closure, done=min(done, closure.bookings_total))
            # what the next batch reads again (magistrates, units, rules) stays loaded
            commit_keeping_loaded(db.session())
        else:
            closure = availability.get_closure(closure_id)
            if closure is not None:
                availability.closure_progress(closure, done=closure.bookings_total, finished=True)
                db.session.commit()
    return applied


def _read_once_for_cancelling(magistrate_ids: list[int]) -> tuple[list, set[int]]:
    """What each cancellation of a batch would read again: the subscribers of its event,
    and which magistrates' calendars receive their bookings (two statements of about
    twelve per cancellation, which on PostgreSQL are round trips)."""
    return (webhooks.subscribers_of("booking.cancelled"),
            busy.magistrates_writing_back(magistrate_ids))


def conflicts_of(magistrate_id: int) -> list[Booking]:
    """The magistrate's bookings that wait for a decision (or for the lawyer's new time)."""
    return list(db.session.scalars(select(Booking).where(
        Booking.magistrate_id == magistrate_id, Booking.status == "confirmed",
        Booking.conflict_reason.is_not(None), Booking.conflict_kept_at.is_(None))
        .order_by(Booking.start_at)))


def open_count(magistrate_ids: list[int]) -> int:
    if not magistrate_ids:
        return 0
    return len(db.session.scalars(select(Booking.id).where(
        Booking.magistrate_id.in_(magistrate_ids), Booking.status == "confirmed",
        Booking.conflict_reason.is_not(None), Booking.conflict_kept_at.is_(None),
        Booking.rebook_deadline.is_(None))).all())


def require_conflict(booking: Booking) -> None:
    """Refuses a booking with no conflict left to decide (asked first by the page's form)."""
    if booking.status != "confirmed" or booking.conflict_reason is None:
        raise NotAllowedNow("Este agendamento não tem conflito a decidir.", "no_conflict")


def keep(booking: Booking, user, now: datetime | None = None) -> Booking:
    """The magistrate keeps the appointment despite the change."""
    require_conflict(booking)
    booking.conflict_kept_at = now or utcnow()
    booking.rebook_deadline = None
    audit.record("booking.conflict_kept", "booking", booking.id, user=user,
                 details={"reason": booking.conflict_reason})
    return booking


def ask_for_another_time(booking: Booking, user, now: datetime | None = None) -> Booking:
    """The lawyer gets a link to choose another open time before the deadline; the booking
    stays as it is until then (its UID and the new time's higher SEQUENCE when it moves)."""
    require_conflict(booking)
    now = now or utcnow()
    hours = current_app.config["REBOOK_DEADLINE_HOURS"]
    deadline = min(now + timedelta(hours=hours), booking.start_at)
    token = new_token()  # the only way to put a working link in the message: a fresh one
    booking.manage_token_hash = token_hash(token)
    booking.rebook_deadline = deadline
    booking.updated_at = now
    magistrate = courts.get_magistrate(booking.magistrate_id)
    link = external_url("bookings_pages.reschedule_page", booking_id=booking.id, token=token)
    notifications.queue(
        dedupe_key=f"booking:{booking.id}:rebook:{int(now.timestamp())}", kind="booking_rebook",
        to=booking.lawyer_email,
        subject=f"Escolha outro horário: atendimento de "
                f"{moment_label(booking.start_at, magistrate.timezone)}",
        text=render_template("email/rebook_request.txt", booking=booking, magistrate=magistrate,
                             link=link, reason=booking.conflict_reason,
                             when=moment_label(booking.start_at, magistrate.timezone),
                             deadline=moment_label(deadline, magistrate.timezone),
                             court_name=current_app.config["COURT_NAME"]))
    audit.record("booking.rebook_requested", "booking", booking.id, user=user,
                 details={"reason": booking.conflict_reason, "deadline": deadline.isoformat()})
    return booking


def decide(booking: Booking, action: str, user, reason: str | None = None) -> Booking:
    """The magistrate's choice for one flagged booking."""
    require_conflict(booking)
    if action == "keep":
        return keep(booking, user)
    if action == "ask":
        return ask_for_another_time(booking, user)
    if action == "cancel":
        return service.cancel(booking, by="court", user=user,
                              reason=reason or booking.conflict_reason, reopen=False)
    raise InvalidField("Escolha manter, cancelar ou pedir outro horário.", "action")


def rebook_requests_expired(now: datetime):
    """Confirmed bookings whose lawyer was asked to choose another time by a deadline now
    past, as a select(): read from the few bookings with a deadline
    (ix_booking_rebook_deadline), not the whole table, every ten minutes."""
    return select(Booking).where(Booking.status == "confirmed",
                                 Booking.rebook_deadline.is_not(None),
                                 Booking.rebook_deadline <= now)


def expire_rebook_requests(now: datetime | None = None) -> int:
    """The scheduler's job: a lawyer who did not choose in time has the booking cancelled."""
    now = now or utcnow()
    expired = db.session.scalars(rebook_requests_expired(now)).all()
    for booking in expired:
        service.cancel(booking, by="court", now=now, reopen=False, reason=(
            f"Não foi escolhido um novo horário até o prazo. {booking.conflict_reason}."))
    return len(expired)


def _tell_office(booking: Booking, now: datetime) -> None:
    magistrate = courts.get_magistrate(booking.magistrate_id)
    if not magistrate.unit.office_email:
        return
    notifications.queue(
        dedupe_key=f"booking:{booking.id}:conflict:{int(now.timestamp())}",
        kind="booking_conflict", to=magistrate.unit.office_email,
        subject=f"Conflito na agenda de {magistrate.title} {magistrate.name}",
        text=render_template("email/booking_conflict.txt", booking=booking,
                             magistrate=magistrate, reason=booking.conflict_reason,
                             when=moment_label(booking.start_at, magistrate.timezone),
                             link=external_url("bookings_pages.conflicts_page",
                                               magistrate_id=magistrate.id),
                             court_name=current_app.config["COURT_NAME"]))
