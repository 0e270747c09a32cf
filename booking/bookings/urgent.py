"""Urgent requests: a lawyer who needs the judge sooner than the first open slot
(an injunction, a prisoner) writes to the magistrate's office, which answers."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template
from sqlalchemy import func, select, update

from ..audit import service as audit
from ..courts import service as courts
from ..database import utcnow
from ..domain import NotAllowedNow
from ..extensions import db
from ..notifications import service as notifications
from ..urls import external_url
from ..webhooks import service as webhooks
from .models import REMOVED, REMOVED_EMAIL, UrgentRequest


def create(magistrate, data: dict) -> UrgentRequest:
    """Record the request and tell the magistrate and the office at once."""
    lawyer = data["lawyer"]
    request = UrgentRequest(
        magistrate_id=magistrate.id, lawyer_name=lawyer["name"], lawyer_oab=lawyer["oab"],
        lawyer_email=lawyer["email"], lawyer_phone=lawyer["phone"],
        case_number=data["case_number"], reason=data["reason"],
        under_seal=data.get("under_seal", False), status="open")
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


def answer(request: UrgentRequest, text: str, user) -> UrgentRequest:
    """Answer once; the lawyer gets the answer by e-mail."""
    if request.status != "open":
        raise NotAllowedNow("Este pedido já foi respondido.", "already_answered")
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
        "magistrate_id": request.magistrate_id, "case_number": request.case_number},
        under_seal=request.under_seal)


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
