"""The outbox: every message is a row written in the transaction that caused it.

Queueing (`queue`, `queue_payloads`) writes rows and sends nothing. The
sender (`send_due`, run by the scheduler) claims a batch by stamping its claim
id and a lease on rows that are due and unclaimed (PostgreSQL skips rows
another sender has locked). A sender that dies between sending and marking
leaves the lease to run out; the message is then sent again with the same
Message-ID, so a mail server or client can tell it is the same message.
Failures back off exponentially; after OUTBOX_MAX_ATTEMPTS the message is
dead until an admin resends it.

Messages about one thing to one person share a topic ("booking:42:lawyer") and carry
the version of the thing they describe (the booking's SEQUENCE). Queueing a newer
version supersedes the older ones still waiting (one a sender is sending goes first,
the newer waits for it); the sender never sends a version older than one it already
sent to that topic, and asks the domain (a registered freshness check) whether a
reminder still describes the booking as it is.

A message is either stored rendered (text, HTML, .ics) or as a payload that
a renderer registered by the domain that queued it turns into an e-mail at
send time (booking invites: see `bookings.messages`). This package imports
no domain above it.
"""

from __future__ import annotations

import logging
import smtplib
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from email.utils import make_msgid

from flask import current_app
from sqlalchemy import (
    String,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from ..audit import service as audit
from ..database import commit_keeping_loaded, reads_before_writing, utcnow
from ..domain import NotAllowedNow
from ..extensions import db
from ..stopping import stop_requested
from .mailer import InviteMessage, smtp_connection
from .models import OutboxMessage

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
REMOVED = "[removido]"

# kind prefix -> function(payload) -> (text, html, ics bytes or None); see register_renderer.
_RENDERERS: dict[str, Callable[[dict], tuple[str, str | None, bytes | None]]] = {}
# kind prefix -> function(payload, message) that delivers a message that is not an e-mail
# (a calendar write, a webhook); it raises when the delivery failed.
_CHANNELS: dict[str, Callable[[dict, OutboxMessage], None]] = {}


# kind prefix -> (function(message) -> bool, why): False when the message no longer
# describes what it is about (a reminder of a cancelled or moved booking), and why, for the
# admin's outbox page.
_FRESHNESS: dict[str, tuple[Callable[[OutboxMessage], bool], str]] = {}


def register_freshness(kind_prefix: str, still_true: Callable[[OutboxMessage], bool],
                       reason: str | None = None) -> None:
    """`reason`: what the admin's outbox page says of a message dropped by the check."""
    _FRESHNESS[kind_prefix] = (still_true, reason or _NO_LONGER_TRUE)


def register_channel(kind_prefix: str, deliver: Callable[[dict, OutboxMessage], None]) -> None:
    """A domain says how its non-e-mail messages are delivered (create_app wires this):
    deliver(payload, message) raises when the delivery failed. It runs in a thread of its
    own, with its own app context and session."""
    _CHANNELS[kind_prefix] = deliver


def _channel_prefix(kind: str) -> str | None:
    """The registered channel a kind of message travels by; None: e-mail."""
    return next((prefix for prefix in _CHANNELS if kind.startswith(prefix)), None)


def _channel_name(kind: str) -> str:
    """How a kind of message travels, for the operators ("calendar_write" -> "calendar",
    "webhook", "text_booked" -> "text", else "email")."""
    prefix = _channel_prefix(kind)
    return prefix.rstrip("_") if prefix else "email"


def _channel_for(kind: str):
    prefix = _channel_prefix(kind)
    return _CHANNELS[prefix] if prefix else None


def register_renderer(kind_prefix: str,
                      render: Callable[[dict], tuple[str, str | None, bytes | None]]) -> None:
    """A domain that queues payloads says how to render them (create_app wires this)."""
    _RENDERERS[kind_prefix] = render


def _renderer_for(kind: str):
    for prefix, render in _RENDERERS.items():
        if kind.startswith(prefix):
            return render
    raise LookupError(f"no renderer registered for outbox kind {kind!r}")


def _message_id() -> str:
    domain = current_app.config["SERVICE_MAILBOX"].rpartition("@")[2] or "localhost"
    return make_msgid(domain=domain)


# --- queueing (in the caller's transaction) --------------------------------------

def queue(*, dedupe_key: str, kind: str, to: str, subject: str, text: str | None = None,
          html: str | None = None, ics: bytes | None = None, method: str | None = None,
          payload: dict | None = None, topic: str | None = None,
          version: int | None = None, sequence_key: str | None = None) -> bool:
    """Write one message (rendered, or a payload); False when that dedupe key was already
    written. With a topic, older versions still waiting are superseded.

    The savepoint makes a repeat harmless: jobs that may run twice (reminders,
    agendas) rely on the dedupe key, not on remembering what they did.
    """
    message = OutboxMessage(
        dedupe_key=dedupe_key, kind=kind, message_id=_message_id(), recipients=[to],
        subject=subject, body_text=text, body_html=html,
        ics=ics.decode("utf-8") if ics else None, ics_method=method, payload=payload,
        topic=topic, version=version, sequence_key=sequence_key, status="pending", attempts=0,
        next_attempt_at=utcnow())
    try:
        with db.session.begin_nested():
            db.session.add(message)
    except IntegrityError:
        return False
    if topic is not None:
        _supersede_older([(topic, version)], keep_id=message.id)
    return True


def _supersede_older(topics: list[tuple[str, int | None]], keep_id: int | None = None) -> None:
    """Messages still waiting about these topics, of an older (or no) version, will not go.
    One statement per version (a booking's messages to everyone share theirs)."""
    by_version: dict[int | None, list[str]] = {}
    for topic, version in topics:
        by_version.setdefault(version, []).append(topic)
    for version, names in by_version.items():
        db.session.execute(superseding(names, version, keep_id)
                           .execution_options(synchronize_session=False))


def superseding(topics: list[str], version: int | None, keep_id: int | None = None):
    """The update that supersedes the waiting messages of these topics older than `version`;
    one a sender is sending now is left to go (the newer one waits for it, `due_messages`).

    Found by topic (a topic has a few rows): the state is compared as an expression, not as
    an index condition, because right after ANALYZE saw few messages waiting, PostgreSQL
    read "status = 'pending'" from ix_outbox_due instead, and a closure's thousands of
    waiting messages made that a scan of all of them for every booking it cancelled.
    """
    older = update(OutboxMessage).where(
        OutboxMessage.topic.in_(topics) if len(topics) > 1 else OutboxMessage.topic == topics[0],
        OutboxMessage.status.concat("") == "pending",
        OutboxMessage.claimed_until.is_(None) | (OutboxMessage.claimed_until < utcnow()))
    if version is not None:
        older = older.where(or_(OutboxMessage.version.is_(None), OutboxMessage.version < version))
    if keep_id is not None:
        older = older.where(OutboxMessage.id != keep_id)
    return older.values(status="superseded", claim_id=None, claimed_until=None,
                        last_error="Substituída por uma mensagem mais nova.")


# Built once: SQLAlchemy then computes its cache key once per process, not per booking.
_INSERT_MESSAGES = insert(OutboxMessage.__table__)


def queue_payloads(messages: list[dict], *, new_topics: bool = False,
                   skip_written: bool = False) -> int:
    """Write messages to be rendered at send time, in one statement.

    Each dict has dedupe_key, kind, to, subject, method, payload, and topic and
    version (or a sequence_key). No savepoint: the caller writes each key once (a repeat
    is a bug, and fails the caller's transaction). `new_topics`: the topics were born in
    this transaction (a booking just inserted), so no older message can wait on them and
    the statement that would supersede one is not run. `skip_written`: keys already in the
    outbox are left out (a delivery that writes messages, tried again).
    """
    if skip_written and messages:
        written = set(db.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.dedupe_key.in_([m["dedupe_key"] for m in messages]))))
        messages = [m for m in messages if m["dedupe_key"] not in written]
    now = utcnow()
    rows = [{"dedupe_key": m["dedupe_key"], "kind": m["kind"], "message_id": _message_id(),
             "recipients": [m["to"]], "subject": m["subject"], "ics_method": m.get("method"),
             "payload": m["payload"], "topic": m.get("topic"), "version": m.get("version"),
             "sequence_key": m.get("sequence_key"),
             "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
            for m in messages]
    if rows:
        db.session.flush()  # what the caller changed goes first, as an ORM statement would
        if not new_topics:
            _supersede_older([(r["topic"], r["version"]) for r in rows if r["topic"]])
        db.session.connection().execute(_INSERT_MESSAGES, rows)
    return len(rows)


# --- the administration's view -------------------------------------------------------

def messages(status: str | None = None, recipient: str | None = None):
    """A select() of the outbox, newest first, optionally of one status and one recipient."""
    statement = select(OutboxMessage).order_by(OutboxMessage.id.desc())
    if status:
        statement = statement.where(OutboxMessage.status == status)
    if recipient:
        escaped = recipient.strip().lower().replace("\\", "\\\\").replace("%", "\\%") \
            .replace("_", "\\_")
        statement = statement.where(func.lower(cast(OutboxMessage.recipients, String))
                                    .like(f"%{escaped}%", escape="\\"))
    return statement


def count_by_status() -> dict[str, int]:
    return dict(db.session.execute(select(OutboxMessage.status, func.count())
                                   .group_by(OutboxMessage.status)).all())


def sends_since(since: datetime):
    """(kind, how many) of the messages sent since then, as a select(); the state is written
    in the SQL for the planner to read ix_outbox_sent_at, not every message ever sent."""
    return (select(OutboxMessage.kind, func.count())
            .where(OutboxMessage.status == literal_column("'sent'"),
                   OutboxMessage.sent_at >= since)
            .group_by(OutboxMessage.kind))


def delivery_health(now: datetime, window: timedelta) -> dict:
    """What an operator watches (/metrics): messages waiting, failing and given up on, the
    age of the oldest waiting one, and sends within `window` by channel (e-mail and each
    registered one)."""
    waiting = db.session.execute(select(
        func.count(), func.count().filter(OutboxMessage.attempts > 0),
        func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending")).one()
    dead = db.session.scalar(select(func.count()).where(OutboxMessage.status == "dead"))
    sent = db.session.execute(sends_since(now - window)).all()
    by_channel = {"email": 0, **{_channel_name(prefix): 0 for prefix in _CHANNELS}}
    for kind, count in sent:
        by_channel[_channel_name(kind)] += count
    oldest = waiting[2]
    return {"pending": waiting[0], "failing": waiting[1], "dead": dead,
            "oldest_pending_seconds": (now - oldest).total_seconds() if oldest else 0.0,
            "sent_by_channel": by_channel}


def messages_with_key_prefix(prefix: str) -> list[OutboxMessage]:
    """Every message about one thing (e.g. `booking:42:`), oldest first."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.dedupe_key.like(f"{escaped}%", escape="\\")).order_by(OutboxMessage.id)))


def backoff(attempts: int) -> timedelta:
    """1, 2, 4 ... minutes after each failure, at most 6 hours."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 360))


def due_messages(now: datetime, limit: int):
    """The ids of up to `limit` messages due now, oldest first, as a select()."""
    earlier = aliased(OutboxMessage)
    # An earlier message of the same sequence that is still pending and cannot go now
    # (backing off, or another sender has it) holds the later ones back. The state is
    # written in the SQL, not bound, for the planner to read ix_outbox_sequence_pending.
    held_back = (select(earlier.id).where(
        earlier.sequence_key == OutboxMessage.sequence_key, earlier.id < OutboxMessage.id,
        earlier.status == literal_column("'pending'"),
        (earlier.next_attempt_at > now) | (earlier.claimed_until >= now)).exists())
    # An older version of a topic that another sender is sending right now holds the newer
    # one back until it went (several sender processes): otherwise the newer could reach
    # the person first. One merely backing off does not: the newer one replaces it.
    older = aliased(OutboxMessage)
    in_flight = (select(older.id).where(
        older.topic == OutboxMessage.topic, older.status == literal_column("'pending'"),
        older.id < OutboxMessage.id, older.claimed_until >= now).exists())
    return (select(OutboxMessage.id)
            .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now,
                   (OutboxMessage.claimed_until.is_(None)) | (OutboxMessage.claimed_until < now),
                   OutboxMessage.sequence_key.is_(None) | ~held_back,
                   OutboxMessage.topic.is_(None) | ~in_flight)
            .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))


def claim_due(now: datetime, limit: int) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this sender, committed before any is sent."""
    claim_id = str(uuid.uuid4())
    due = due_messages(now, limit)
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
    if not ids:
        return []
    # read back by primary key; the claim id says which of them this sender won
    return list(db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.id.in_(ids), OutboxMessage.claim_id == claim_id)
        .order_by(OutboxMessage.id)))


def as_email(message: OutboxMessage) -> InviteMessage:
    if message.payload is not None:
        text, html, ics = _renderer_for(message.kind)(message.payload)
    else:
        text, html = message.body_text, message.body_html
        ics = message.ics.encode("utf-8") if message.ics else None
    email = InviteMessage(
        subject=message.subject, recipients=list(message.recipients), body=text, html=html,
        sender=current_app.config["MAIL_DEFAULT_SENDER"], calendar=ics,
        method=message.ics_method)
    email.msgId = message.message_id  # the same on every attempt
    return email


def _without_secrets(payload: dict | None) -> dict | None:
    """A payload's sealed values (a lawyer's manage link) are kept only until the message
    is sent or given up on."""
    if not payload or not any(key.startswith("sealed_") for key in payload):
        return payload
    return {key: (None if key.startswith("sealed_") else value) for key, value in payload.items()}


_OUTBOX = OutboxMessage.__table__
# Built once, as Core: the sender marks each e-mail as it goes (thousands after a closure),
# and an ORM update built per message cost more than the statement (its cache key, and
# copying the new values into the session's objects, which nothing reads again).
_MARK_SENT = update(_OUTBOX).where(_OUTBOX.c.id == bindparam("outbox_id")).values(
    status="sent", sent_at=bindparam("at", type_=_OUTBOX.c.sent_at.type),
    attempts=_OUTBOX.c.attempts + 1, last_error=None, claim_id=None, claimed_until=None,
    payload=bindparam("kept_payload", type_=_OUTBOX.c.payload.type))


def _mark_sent(message: OutboxMessage, now: datetime) -> None:
    db.session.connection().execute(_MARK_SENT, {
        "outbox_id": message.id, "at": now, "kept_payload": _without_secrets(message.payload)})
    commit_keeping_loaded(db.session())  # the rest of the batch is not reloaded


def _mark_superseded(message: OutboxMessage, reason: str) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
        status="superseded", last_error=reason, claim_id=None, claimed_until=None,
        payload=_without_secrets(message.payload))
        .execution_options(synchronize_session=False))
    commit_keeping_loaded(db.session())  # the rest of the batch is not reloaded


def _mark_failed(message: OutboxMessage, error: Exception, now: datetime) -> None:
    attempts = message.attempts + 1
    dead = attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == message.id).values(
        status="dead" if dead else "pending", attempts=attempts,
        next_attempt_at=now + backoff(attempts), last_error=str(error)[:1000],
        claim_id=None, claimed_until=None,
        payload=_without_secrets(message.payload) if dead else message.payload)
        .execution_options(synchronize_session=False))
    commit_keeping_loaded(db.session())  # the rest of the batch is not reloaded
    log.warning("outbox message %s failed (attempt %s)%s: %s", message.id, attempts,
                ", given up" if dead else "", error)


_NEWER_WENT = "Há uma mensagem mais nova sobre o mesmo assunto para esta pessoa."
_NO_LONGER_TRUE = "A mensagem não descreve mais o estado atual; não foi enviada."


def outdated(message: OutboxMessage) -> str | None:
    """Why this message must not go out now (a newer version of its topic went or waits,
    or it no longer describes what it is about); None when it may."""
    return _why_not_now([message])[0]


def _why_not_now(batch: list[OutboxMessage]) -> list[str | None]:
    """`outdated` for each message of a batch, with one read of its topics' newest versions
    (a closure's thousands of messages are checked fifty at a time, not one by one)."""
    topics = {message.topic for message in batch if message.topic is not None}
    newest = dict(db.session.execute(
        select(OutboxMessage.topic, func.max(OutboxMessage.version))
        .where(OutboxMessage.topic.in_(topics), OutboxMessage.status.in_(("sent", "pending")))
        .group_by(OutboxMessage.topic)).all()) if topics else {}
    reasons = []
    for message in batch:
        # a version above this one's can only be another message's (sent, or waiting)
        latest = newest.get(message.topic)
        mine = message.version if message.version is not None else -1
        if latest is not None and latest > mine:
            reasons.append(_NEWER_WENT)
            continue
        check, reason = next((pair for prefix, pair in _FRESHNESS.items()
                              if message.kind.startswith(prefix)), (None, None))
        reasons.append(reason if check is not None and not check(message) else None)
    return reasons


def send_due(now: datetime | None = None) -> dict:
    """One run of the sender: returns how many were sent and how many failed."""
    now = now or utcnow()
    batch = claim_due(now, current_app.config["OUTBOX_BATCH_SIZE"])
    sent = failed = 0
    current = []
    with reads_before_writing(db.session()):  # SQLite's write lock is not held while checking
        reasons = _why_not_now(batch)
    for message, reason in zip(batch, reasons, strict=True):
        if reason is None:
            current.append(message)
        else:
            _mark_superseded(message, reason)
    by_channel = [m for m in current if _channel_for(m.kind)]
    batch = [m for m in current if not _channel_for(m.kind)]  # by e-mail, after the others
    if by_channel:
        outcome = _deliver_by_channel(by_channel, now)
        sent, failed = sent + outcome["sent"], failed + outcome["failed"]
        if stop_requested():
            return _hand_back(batch, sent, failed)
    if not batch or stop_requested():
        return _hand_back(batch, sent, failed)
    connections = max(1, min(smtp_connections_per_process(current_app.config), len(batch)))
    if connections == 1:
        outcome = _send_emails(batch, now)
    else:
        outcome = _send_emails_in_parallel(batch, now, connections)
    return {"sent": sent + outcome["sent"], "failed": failed + outcome["failed"]}


def smtp_connections_per_process(config) -> int:
    """OUTBOX_SMTP_CONNECTIONS is the scheduler's total (what the mail server is asked to
    bear), shared among its sender processes."""
    return max(1, config["OUTBOX_SMTP_CONNECTIONS"] // max(1, config["OUTBOX_SENDER_PROCESSES"]))


def _send_emails_in_parallel(batch: list[OutboxMessage], now: datetime, connections: int) -> dict:
    """Several SMTP connections at once, each in a thread with its own session. A person's
    messages stay on one connection, in the order they were written."""
    chunks: list[list[int]] = [[] for _ in range(connections)]
    for message in sorted(batch, key=lambda m: m.id):
        person = (message.recipients[0] if message.recipients else "").lower()
        chunks[zlib.crc32(person.encode()) % connections].append(message.id)
    db.session.commit()  # the threads read and write with sessions of their own
    app = current_app._get_current_object()

    def send(ids: list[int]) -> dict:
        with app.app_context():
            with reads_before_writing(db.session()):
                messages = [db.session.get(OutboxMessage, message_id) for message_id in ids]
            outcome = _send_emails(messages, now)
            db.session.remove()
            return outcome

    with ThreadPoolExecutor(max_workers=connections, thread_name_prefix="smtp") as pool:
        results = list(pool.map(send, [chunk for chunk in chunks if chunk]))
    return {"sent": sum(r["sent"] for r in results),
            "failed": sum(r["failed"] for r in results)}


def _send_emails(batch: list[OutboxMessage], now: datetime) -> dict:
    """These e-mails over one SMTP connection; each marked as it goes."""
    sent = failed = 0
    try:
        connection = smtp_connection()
        connection.__enter__()
    except (OSError, smtplib.SMTPException) as error:
        for message in batch:
            _mark_failed(message, error, now)
        return {"sent": 0, "failed": len(batch)}
    try:
        for position, message in enumerate(batch):
            if stop_requested():
                return _hand_back(batch[position:], sent, failed)
            try:
                email = as_email(message)
            except Exception as error:  # a message that cannot be rendered fails alone
                log.exception("outbox message %s could not be rendered", message.id)
                _mark_failed(message, error, now)
                failed += 1
                continue
            try:
                connection.send(email)
            except (TimeoutError, smtplib.SMTPServerDisconnected, ConnectionError) as error:
                # The connection is gone: this one and the rest wait for the next run.
                for pending in batch[position:]:
                    _mark_failed(pending, error, now)
                    failed += 1
                break
            except (OSError, smtplib.SMTPException) as error:
                _mark_failed(message, error, now)
                failed += 1
            except Exception as error:  # e.g. an address SMTP cannot carry: this one fails
                log.exception("outbox message %s could not be sent", message.id)
                _mark_failed(message, error, now)
                failed += 1
                try:
                    connection.host.rset()  # leave the session clean for the next message
                except (OSError, smtplib.SMTPException, AttributeError):
                    pass
            else:
                _mark_sent(message, utcnow())
                sent += 1
    finally:
        try:
            connection.__exit__(None, None, None)
        except (OSError, smtplib.SMTPException):
            pass
    return {"sent": sent, "failed": failed}


def drain(budget_seconds: float | None = None) -> dict:
    """The scheduler's sender: batch after batch while there is work, for up to
    OUTBOX_DRAIN_SECONDS (a closure's thousands of messages go in minutes, not one batch
    per tick); it stops early when a whole batch failed (the mail server is down) or the
    process is stopping."""
    budget = current_app.config["OUTBOX_DRAIN_SECONDS"] if budget_seconds is None \
        else budget_seconds
    deadline = time.monotonic() + budget
    total = {"sent": 0, "failed": 0}
    while not stop_requested():
        outcome = send_due()
        total = {key: total[key] + outcome[key] for key in total}
        if not (outcome["sent"] or outcome["failed"]) or \
                (outcome["failed"] and not outcome["sent"]) or time.monotonic() >= deadline:
            break
    return total


def _deliver_by_channel(messages: list[OutboxMessage], now: datetime) -> dict:
    """Calendar writes and webhooks, each sequence (a subscriber's events) in order in its
    own thread: a slow or failing receiver holds up its own sequence only. A failure stops
    its sequence for this run; its later messages are handed back untried."""
    sequences: dict[str, list[OutboxMessage]] = {}
    for message in sorted(messages, key=lambda m: m.id):
        sequences.setdefault(message.sequence_key or f"#{message.id}", []).append(message)
    ids = [[m.id for m in sequence] for sequence in sequences.values()]
    db.session.commit()  # the threads read and write with sessions of their own
    app = current_app._get_current_object()

    def deliver(sequence_ids: list[int]) -> tuple[int, int]:
        sent = failed = 0
        with app.app_context():
            with reads_before_writing(db.session()):  # no write lock while a receiver answers
                sequence = [db.session.get(OutboxMessage, message_id)
                            for message_id in sequence_ids]
            for position, message in enumerate(sequence):
                if stop_requested():
                    _hand_back(sequence[position:], 0, 0)
                    break
                try:
                    _channel_for(message.kind)(message.payload, message)
                except Exception as error:  # one failed delivery fails its sequence alone
                    db.session.rollback()  # what it wrote uncommitted goes with it (fan_out)
                    _mark_failed(message, error, now)
                    failed += 1
                    _hand_back(sequence[position + 1:], 0, 0)
                    break
                _mark_sent(message, utcnow())
                sent += 1
            db.session.remove()
        return sent, failed

    workers = max(1, min(len(ids), current_app.config["OUTBOX_CHANNEL_WORKERS"]))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outbox") as pool:
        results = list(pool.map(deliver, ids))
    return {"sent": sum(r[0] for r in results), "failed": sum(r[1] for r in results)}


def _hand_back(unsent: list[OutboxMessage], sent: int, failed: int) -> dict:
    """The process is stopping: messages claimed but not tried go back to the queue at once
    (not after their lease), for the next sender."""
    if unsent:
        db.session.execute(update(OutboxMessage)
                           .where(OutboxMessage.id.in_([m.id for m in unsent]),
                                  OutboxMessage.claim_id == unsent[0].claim_id)
                           .values(claim_id=None, claimed_until=None)
                           .execution_options(synchronize_session=False))
        db.session.commit()
        log.info("stopping: %s claimed messages handed back unsent", len(unsent))
        return {"sent": sent, "failed": failed, "handed_back": len(unsent)}
    return {"sent": sent, "failed": failed}


def resend(message_id: int, user) -> OutboxMessage | None:
    """An admin gives a dead (or sent) message another go; never one that a newer message
    replaced, which would put an old state back in someone's calendar."""
    message = db.session.get(OutboxMessage, message_id)
    if message is None:
        return None
    reason = "Esta mensagem foi substituída por uma mais nova." \
        if message.status == "superseded" else outdated(message)
    if reason is not None:
        raise NotAllowedNow(f"{reason} Reenvie a mais recente, se preciso.", "outdated")
    message.status = "pending"
    message.attempts = 0
    message.next_attempt_at = utcnow()
    message.claim_id = None
    message.claimed_until = None
    audit.record("outbox.resent", "outbox_message", message.id, user=user)
    return message


# --- retention ------------------------------------------------------------------------

def purge_bodies(before: datetime, pending_before: datetime) -> int:
    """Messages repeat personal data: the bodies of sent, dead and superseded ones go after
    OUTBOX_BODY_RETENTION_DAYS, and pending ones older than the retention period too."""
    return db.session.execute(
        update(OutboxMessage).where(
            or_((OutboxMessage.status == "sent") & (OutboxMessage.sent_at < before),
                OutboxMessage.status.in_(("dead", "superseded"))
                & (OutboxMessage.created_at < before),
                (OutboxMessage.status == "pending")
                & (OutboxMessage.created_at < pending_before)),
            or_(OutboxMessage.body_text.is_(None), OutboxMessage.body_text != REMOVED))
        .values(body_text=REMOVED, body_html=None, ics=None, payload=None, recipients=[],
                subject=REMOVED,
                status=case((OutboxMessage.status == "pending", "dead"),
                            else_=OutboxMessage.status))
        .execution_options(synchronize_session=False)).rowcount
