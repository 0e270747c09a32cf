"""Recording actions, and reading an entity's history.

`record` adds to the caller's transaction, which the caller commits: the entry
lands with its change or not at all. `record_read` commits at once.
"""

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
