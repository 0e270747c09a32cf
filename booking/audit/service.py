"""Recording actions, and reading an entity's history.

`record` adds to the caller's transaction, which the caller commits: the entry
lands with its change or not at all. `record_read` commits at once.
"""

import hashlib
import hmac
from datetime import datetime

from flask import current_app
from sqlalchemy import insert, select

from ..database import commit_keeping_loaded, utcnow
from ..extensions import db
from .models import AuditEntry

_INSERT = insert(AuditEntry.__table__)


def record(action: str, entity: str, entity_id, *, user=None, actor: str | None = None,
           details: dict | None = None) -> None:
    """Add an audit entry to the current transaction (one INSERT, no ORM object)."""
    db.session.connection().execute(_INSERT, {
        "at": utcnow(),
        "action": action,
        "entity": entity,
        "entity_id": None if entity_id is None else str(entity_id),
        "actor_user_id": getattr(user, "id", None),
        "actor": actor or (f"staff:{user.email}" if user is not None else "system"),
        "details": details,
    })


def record_read(user, entity: str, ids, *, now=None) -> None:
    """Log a staff member's read of personal data, committed at once.

    Called by read routes after their last write (if any) is settled: the
    request's read transaction is ended first (keeping the loaded objects,
    which are still to be serialised), so that the entry's write never waits
    on a lock the same request holds.
    """
    ids = [str(i) for i in ids]
    if user is None or not ids:
        return
    session = db.session()
    commit_keeping_loaded(session)
    session.add(AuditEntry(
        at=now or utcnow(), actor_user_id=user.id, actor=f"staff:{user.email}",
        action="personal_data.read", entity=entity,
        entity_id=ids[0] if len(ids) == 1 else None,
        details={"ids": ids[:200], "count": len(ids)}))
    commit_keeping_loaded(session)


def history(entity: str, entity_id) -> list[AuditEntry]:
    """What was done to one entity, oldest first."""
    return list(db.session.scalars(select(AuditEntry).where(
        AuditEntry.entity == entity, AuditEntry.entity_id == str(entity_id))
        .order_by(AuditEntry.id)))


# --- retention ------------------------------------------------------------------------

# Entities whose entries may carry the public's data in free text (a cancel reason).
PUBLIC_ENTITIES = ("booking", "urgent_request", "complaint")
# Detail keys that hold codes, instants or ids, never free text: kept as they are.
CODED_DETAILS = frozenset({"slot_id", "mode", "by", "from", "to", "previous", "deadline",
                           "ids", "count", "kind"})
REMOVED = "[removido]"


def pseudonym(actor: str) -> str:
    """A stable stand-in for a lawyer actor: the same lawyer keeps one pseudonym, so that the
    log still shows who did what together, but the OAB number is gone."""
    kind, _, _ = actor.partition(":")
    digest = hmac.new(current_app.config["SECRET_KEY"].encode(), actor.encode(),
                      hashlib.sha256).hexdigest()[:12]
    return f"{kind}:#{digest}"


def pseudonymize_before(cutoff: datetime, now: datetime, batch: int = 1000) -> int:
    """After the retention period the log keeps what was done and when, not whom from the
    public it was about: lawyer actors become pseudonyms, and on the public's entities
    every free-text detail goes. Staff actors stay (accountability for their acts)."""
    done = 0
    while True:
        entries = list(db.session.scalars(
            select(AuditEntry).where(AuditEntry.at < cutoff, AuditEntry.pseudonymized_at.is_(None))
            .order_by(AuditEntry.id).limit(batch)))
        for entry in entries:
            if entry.actor.startswith("lawyer:"):
                entry.actor = pseudonym(entry.actor)
            if entry.entity in PUBLIC_ENTITIES and entry.details:
                entry.details = {key: value if key in CODED_DETAILS or not isinstance(value, str)
                                 else REMOVED for key, value in entry.details.items()}
            entry.pseudonymized_at = now
        db.session.flush()
        done += len(entries)
        if len(entries) < batch:
            return done
