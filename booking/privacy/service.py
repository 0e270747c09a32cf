"""Personal data kept only as long as needed, and handed back on request.

Lawyers' data on a booking and reporters' data on a complaint are anonymised
RETENTION_DAYS after the appointment or the complaint's closing (an open
complaint after COMPLAINT_OPEN_RETENTION_DAYS); the bodies of sent e-mails
(which repeat that data) are purged after OUTBOX_BODY_RETENTION_DAYS; audit
entries older than RETENTION_DAYS lose lawyers' identities and free text.
What stays is what statistics need: dates, channels, units, outcomes. The
list of every personal column and what happens to it is PERSONAL_DATA in
privacy/inventory.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app

from ..audit import service as audit
from ..bookings import service as bookings
from ..bookings import urgent, waitlist
from ..complaints import service as complaints
from ..database import utcnow
from ..notifications import service as notifications


def anonymize_expired(now: datetime | None = None) -> dict[str, int]:
    """The retention job: each owner anonymises its own rows; returns how many of each."""
    now = now or utcnow()
    cutoff = now - timedelta(days=current_app.config["RETENTION_DAYS"])
    body_cutoff = now - timedelta(days=current_app.config["OUTBOX_BODY_RETENTION_DAYS"])
    open_cutoff = now - timedelta(days=current_app.config["COMPLAINT_OPEN_RETENTION_DAYS"])
    hold_cutoff = now - timedelta(days=current_app.config["HOLD_RETENTION_DAYS"])
    counts = {"bookings": bookings.anonymize_ended_before(cutoff, now, hold_cutoff),
              "urgent_requests": urgent.anonymize_created_before(cutoff),
              "waitlist_entries": waitlist.anonymize_ended_before(
                  (now - timedelta(days=current_app.config["HOLD_RETENTION_DAYS"])).date(), now),
              "complaints": complaints.anonymize_closed_before(cutoff, now, open_cutoff),
              "outbox_messages": notifications.purge_bodies(body_cutoff, cutoff),
              "audit_entries": audit.pseudonymize_before(cutoff, now)}
    if any(counts.values()):
        audit.record("retention.applied", "retention", None, details=counts)
    return counts
