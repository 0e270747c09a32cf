"""Recording actions. Callers commit; the entry lands with their change or not at all."""

from ..extensions import db
from .models import AuditEntry


def record(action: str, entity: str, entity_id, *, user=None, actor: str | None = None,
           details: dict | None = None) -> AuditEntry:
    """Add an audit entry to the current transaction."""
    entry = AuditEntry(
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        actor_user_id=getattr(user, "id", None),
        actor=actor or (f"staff:{user.email}" if user is not None else "system"),
        details=details,
    )
    db.session.add(entry)
    return entry
