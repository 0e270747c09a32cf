"""Personal data kept only as long as needed, and handed back on request.

Lawyers' data on a booking and reporters' data on a complaint are anonymised
RETENTION_DAYS after the appointment or the complaint's closing; the bodies
of sent e-mails (which repeat that data) are purged after
OUTBOX_BODY_RETENTION_DAYS. What stays is what statistics need: dates,
channels, units, outcomes.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select, update

from ..audit import service as audit
from ..audit.models import AuditEntry
from ..bookings.models import Booking, UrgentRequest
from ..complaints.models import Complaint
from ..database import utcnow
from ..extensions import db
from ..invites.models import OutboxMessage

REMOVED = "[removido]"


def anonymize_expired(now: datetime | None = None) -> dict[str, int]:
    """The retention job: returns how many rows of each kind were anonymised or purged."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    bookings = db.session.execute(
        update(Booking).where(Booking.end_at < cutoff, Booking.anonymized_at.is_(None))
        .values(lawyer_name=REMOVED, lawyer_oab=REMOVED, lawyer_email="removido@anonimizado.invalid",
                lawyer_phone=REMOVED, subject=REMOVED, cancel_reason=None, anonymized_at=now)
        .execution_options(synchronize_session=False)).rowcount
    urgent = db.session.execute(
        update(UrgentRequest).where(UrgentRequest.created_at < cutoff,
                                    UrgentRequest.lawyer_name != REMOVED)
        .values(lawyer_name=REMOVED, lawyer_oab=REMOVED, lawyer_email="removido@anonimizado.invalid",
                lawyer_phone=REMOVED, reason=REMOVED, answer=None)
        .execution_options(synchronize_session=False)).rowcount
    complaints = db.session.execute(
        update(Complaint).where(Complaint.closed_at < cutoff, Complaint.anonymized_at.is_(None))
        .values(reporter_name=None, reporter_email=None, description=REMOVED, anonymized_at=now)
        .execution_options(synchronize_session=False)).rowcount
    body_cutoff = now - timedelta(days=current_app.config["OUTBOX_BODY_RETENTION_DAYS"])
    outbox = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.status == "sent",
                                    OutboxMessage.sent_at < body_cutoff,
                                    or_(OutboxMessage.body_text.is_(None),
                                        OutboxMessage.body_text != REMOVED))
        .values(body_text=REMOVED, body_html=None, ics=None, payload=None, recipients=[],
                subject=REMOVED)
        .execution_options(synchronize_session=False)).rowcount
    counts = {"bookings": bookings, "urgent_requests": urgent, "complaints": complaints,
              "outbox_messages": outbox}
    if any(counts.values()):
        audit.record("retention.applied", "retention", None, details=counts)
    return counts


def booking_data(booking: Booking) -> dict:
    """Everything the service holds about one booking, for the lawyer who made it."""
    messages = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"booking:{booking.id}:%")).order_by(OutboxMessage.id))
    events = db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == "booking", AuditEntry.entity_id == str(booking.id))
        .order_by(AuditEntry.id))
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
        "messages": [{"to": m.recipients, "subject": m.subject, "status": m.status,
                      "created_at": m.created_at.isoformat(),
                      "sent_at": m.sent_at.isoformat() if m.sent_at else None} for m in messages],
        "history": [{"at": e.at.isoformat(), "action": e.action} for e in events],
        "retention": {"days_after_appointment": current_app.config["RETENTION_DAYS"]},
    }

