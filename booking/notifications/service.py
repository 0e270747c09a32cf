"""Sending the outbox: claim due rows, send them over one SMTP connection, record the outcome.

A sender claims a batch by stamping its claim id and a lease on rows that are
due and unclaimed (PostgreSQL skips rows another sender has locked). A sender
that dies between sending and marking leaves the lease to run out; the
message is then sent again with the same Message-ID, so a mail server or
client can tell it is the same message. Failures back off exponentially;
after OUTBOX_MAX_ATTEMPTS the message is dead until an admin resends it.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import uuid
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select, update

from ..database import utcnow
from ..extensions import db
from .mailer import InviteMessage, smtp_connection
from .models import OutboxMessage
from .service import render_booking_payload

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failure, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def claim_due(now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this sender, committed before any is sent."""
    claim_id = str(uuid.uuid4())
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                  (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now))
           .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if db.session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending",
                   (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now))
            .values(claim_id=claim_id, claimed_until=now + LEASE)
            .execution_options(synchronize_session=False))
    db.session.commit()
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.claim_id == claim_id).order_by(OutboxMessage.id)))


def as_email(message: OutboxMessage) -> InviteMessage:
    if message.payload is not None:
        text, html, ics = render_booking_payload(message.payload)
    else:
        text, html = message.body_text, message.body_html
        ics = message.ics.encode("utf-8") if message.ics else None
    email = InviteMessage(
        subject=message.subject, recipients=list(message.recipients), body=text, html=html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"], calendar=ics,
        method=message.ics_method)
    email.msgId = message.message_id  # the same on every attempt
    return email


def _mark_sent(message: OutboxMessage, now: datetime) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
        status="sent", sent_at=now, attempts=message.attempts + 1, last_error=None,
        claim_id=None, claimed_until=None))
    db.session.commit()


def _mark_failed(message: OutboxMessage, error: Exception, now: datetime) -> None:
    attempts = message.attempts + 1
    dead = attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
        status="dead" if dead else "pending", attempts=attempts,
        next_attempt_at=now + backoff(attempts), last_error=str(error)[:1000],
        claim_id=None, claimed_until=None))
    db.session.commit()
    log.warning("outbox message %s failed (attempt %s)%s: %s", message.id, attempts,
                ", given up" if dead else "", error)


def send_due(now: datetime | None = None) -> dict:
    """One run of the sender: returns how many were sent and how many failed."""
    now = now or utcnow()
    batch = claim_due(now, current_app.config["OUTBOX_BATCH_SIZE"])
    sent = failed = 0
    if not batch:
        return {"sent": 0, "failed": 0}
    try:
        connection = smtp_connection()
        connection.__enter__()
    except (OSError, smtplib.SMTPException) as error:
        for message in batch:
            _mark_failed(message, error, now)
        return {"sent": 0, "failed": len(batch)}
    try:
        for message in batch:
            try:
                connection.send(as_email(message))
            except (smtplib.SMTPServerDisconnected, socket.timeout, ConnectionError) as error:
                # The connection is gone: this one and the rest wait for the next run.
                for pending in batch[batch.index(message):]:
                    _mark_failed(pending, error, now)
                    failed += 1
                break
            except (OSError, smtplib.SMTPException) as error:
                _mark_failed(message, error, now)
                failed += 1
            else:
                _mark_sent(message, utcnow())
                sent += 1
    finally:
        try:
            connection.__exit__(None, None, None)
        except (OSError, smtplib.SMTPException):
            pass
    return {"sent": sent, "failed": failed}


def resend(message_id: int, user) -> OutboxMessage | None:
    """An admin gives a dead (or sent) message another go."""
    from ..audit import service as audit

    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return None
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claim_id = None
    message.claimed_until = None
    audit.record("outbox.resent", "outbox_message", message.id, user=user)
    return message
