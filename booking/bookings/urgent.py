"""Urgent requests: a lawyer (or a defender, a prosecutor... whoever the agenda accepts) who
needs the judge sooner than the first open slot (an injunction, a prisoner) writes to the
magistrate's office, which answers."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import func, select, update

from .. import requesters
from ..audit import service as audit
from ..availability import service as availability
from ..availability.court_calendar import add_working_hours
from ..courts import service as courts
from ..database import utcnow
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db
from ..notifications import service as notifications
from ..urls import external_url
from ..webhooks import service as webhooks
from .models import REMOVED, REMOVED_EMAIL, UrgentRequest


def create(magistrate, data: dict) -> UrgentRequest:
    """Record the request and tell the magistrate and the office at once. Whoever the agenda
    accepts bookings from may ask (InvalidField otherwise)."""
    lawyer, kind = data["lawyer"], data.get("requester_type", "lawyer")
    rule = availability.rule_of(magistrate.id)
    if message := requesters.refusal(rule and rule.accepted_requesters, kind):
        raise InvalidField(message, data.get("requester_type_field", "requester_type"))
    request = UrgentRequest(
        magistrate_id=magistrate.id, lawyer_name=lawyer["name"], lawyer_oab=lawyer["oab"],
        lawyer_email=lawyer["email"], lawyer_phone=lawyer["phone"], requester_type=kind,
        requester_institution=lawyer.get("institution"),
        case_number=data["case_number"], reason=data["reason"],
        under_seal=data.get("under_seal", False), status="open")
    request.created_at = utcnow()
    request.answer_due_at = answer_deadline(magistrate, request.created_at)
    db.session.add(request)
    db.session.flush()
    audit.record("urgent.created", "urgent_request", request.id, actor=f"lawyer:{lawyer['oab']}")
    _publish(request, "urgent_request.created")
    values = {"request": request, "magistrate": magistrate,
              "link": external_url("bookings_pages.urgent_list", magistrate_id=magistrate.id),
              "court_name": current_app.config["COURT_NAME"]}
    for role, address in (("magistrate", magistrate.email), ("office", magistrate.unit.office_email)):
        if address:
            notifications.queue(
                dedupe_key=f"urgent:{request.id}:created:{role}", kind="urgent_request",
                to=address, subject=f"Pedido urgente de atendimento — {lawyer['name']}",
                text=render_template("email/urgent_request.txt", **values))
    return request


def ensure_open(request: UrgentRequest) -> None:
    """Refuses one already answered (a form asks this before what was typed in it)."""
    if request.status != "open":
        raise NotAllowedNow("Este pedido já foi respondido.", "already_answered")


def answer(request: UrgentRequest, text: str, user) -> UrgentRequest:
    """Answer once; who asked gets the answer by e-mail."""
    ensure_open(request)
    request.status = "answered"
    request.answer = text.strip()
    request.answered_by_id = user.id
    request.answered_at = utcnow()
    magistrate = courts.get_magistrate(request.magistrate_id)
    audit.record("urgent.answered", "urgent_request", request.id, user=user)
    _publish(request, "urgent_request.answered")
    notifications.queue(
        dedupe_key=f"urgent:{request.id}:answered", kind="urgent_answer",
        to=request.lawyer_email,
        subject=f"Resposta ao seu pedido urgente — {magistrate.title} {magistrate.name}",
        text=render_template("email/urgent_answer.txt", request=request, magistrate=magistrate,
                             court_name=current_app.config["COURT_NAME"]))
    return request


def _publish(request: UrgentRequest, event_type: str) -> None:
    webhooks.publish(event_type, {
        "urgent_request_id": request.id, "status": request.status,
        "magistrate_id": request.magistrate_id, "requester_type": request.requester_type,
        "case_number": request.case_number},
        under_seal=request.under_seal)


def answer_deadline(magistrate, asked_at: datetime) -> datetime:
    """URGENT_ANSWER_HOURS after the request; on working days only, by default (the court's
    calendar for the magistrate's comarca: weekends, holidays, the recess, closures)."""
    config = current_app.config
    hours = config["URGENT_ANSWER_HOURS"]
    if not config["URGENT_DEADLINE_WORKING_DAYS"]:
        return asked_at + timedelta(hours=hours)
    zone = ZoneInfo(magistrate.timezone)
    first = asked_at.astimezone(zone).date()
    # Long enough to cross the recess (18 days) and more besides.
    closed = availability.court_closed_days(magistrate.unit.comarca_id, first,
                                            first + timedelta(days=hours // 24 * 3 + 60))
    return add_working_hours(asked_at, hours, zone, closed)


def is_overdue(request: UrgentRequest, now: datetime | None = None) -> bool:
    return (request.status == "open" and request.answer_due_at is not None
            and request.answer_due_at < (now or utcnow()))


def flag_overdue(now: datetime | None = None) -> int:
    """Tell the magistrate and the office, once, of each request past its deadline."""
    now = now or utcnow()
    overdue = db.session.scalars(select(UrgentRequest).where(
        UrgentRequest.status == "open", UrgentRequest.answer_due_at < now,
        UrgentRequest.overdue_notified_at.is_(None))).all()
    for request in overdue:
        magistrate = courts.get_magistrate(request.magistrate_id, with_unit=True)
        values = {"request": request, "magistrate": magistrate,
                  "link": external_url("bookings_pages.urgent_list", magistrate_id=magistrate.id),
                  "court_name": current_app.config["COURT_NAME"]}
        for role, address in (("magistrate", magistrate.email),
                              ("office", magistrate.unit.office_email)):
            if address:
                notifications.queue(
                    dedupe_key=f"urgent:{request.id}:overdue:{role}", kind="urgent_overdue",
                    to=address, subject="Pedido urgente sem resposta no prazo",
                    text=render_template("email/urgent_overdue.txt", **values))
        request.overdue_notified_at = now
        audit.record("urgent.overdue", "urgent_request", request.id)
    return len(overdue)


def of_magistrate(magistrate_id: int, status: str | None = None):
    statement = select(UrgentRequest).where(UrgentRequest.magistrate_id == magistrate_id)
    if status:
        statement = statement.where(UrgentRequest.status == status)
    return statement.order_by(UrgentRequest.status.desc(), UrgentRequest.created_at.desc())


def open_count(magistrate_ids: list[int]) -> int:
    if not magistrate_ids:
        return 0
    return db.session.scalar(select(func.count()).select_from(UrgentRequest).where(
        UrgentRequest.magistrate_id.in_(magistrate_ids), UrgentRequest.status == "open"))


def anonymize_created_before(cutoff: datetime) -> int:
    """The lawyer's data and the free text of requests older than the cutoff (retention)."""
    return db.session.execute(
        update(UrgentRequest).where(UrgentRequest.created_at < cutoff,
                                    UrgentRequest.lawyer_name != REMOVED)
        .values(lawyer_name=REMOVED, lawyer_oab=REMOVED, lawyer_email=REMOVED_EMAIL,
                lawyer_phone=REMOVED, case_number=REMOVED, reason=REMOVED, answer=None)
        .execution_options(synchronize_session=False)).rowcount
