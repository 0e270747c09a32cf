"""A person's older message in flight holds the newer back, so that several senders never
deliver a booking's versions out of order."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import claim_due, due_messages, queue


def notice(topic: str, version: int, number: int = 0) -> None:
    queue(dedupe_key=f"{topic}:v{version}:{number}", kind="notice", to="maria@example.com",
          subject=f"Versão {version}", text="Mensagem de teste.", topic=topic, version=version)


def due_ids() -> set[int]:
    return set(db.session.scalars(due_messages(utcnow(), 100)))


def test_an_older_version_being_sent_holds_the_newer_back_until_it_went(app):
    with app.app_context():
        notice("booking:1:lawyer", 1)
        db.session.commit()
        (first,) = claim_due(utcnow(), 10)  # another sender is sending it now
        notice("booking:1:lawyer", 2)
        db.session.commit()
        newer = db.session.scalar(select(OutboxMessage).where(OutboxMessage.version == 2))
        # the one in flight is not superseded under the sender's feet...
        assert db.session.get(OutboxMessage, first.id).status == "pending"
        # ...and the newer waits for it, while other topics go
        notice("booking:2:lawyer", 1)
        db.session.commit()
        other = db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.topic == "booking:2:lawyer"))
        assert due_ids() == {other}
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id == first.id)
                           .values(status="sent", claim_id=None, claimed_until=None))
        db.session.commit()
        assert due_ids() == {other, newer.id}


def test_an_older_version_backing_off_is_replaced_not_waited_for(app):
    with app.app_context():
        notice("booking:1:lawyer", 1)
        db.session.commit()
        older = db.session.scalar(select(OutboxMessage))
        older.next_attempt_at, older.attempts = utcnow() + timedelta(minutes=4), 2
        db.session.commit()
        notice("booking:1:lawyer", 2)
        db.session.commit()
        newer = db.session.scalar(select(OutboxMessage).where(OutboxMessage.version == 2))
        assert db.session.get(OutboxMessage, older.id).status == "superseded"
        assert due_ids() == {newer.id}


def test_a_lease_that_ran_out_no_longer_holds_the_newer_back(app):
    with app.app_context():
        notice("booking:1:lawyer", 1)
        db.session.commit()
        claim_due(utcnow() - timedelta(minutes=10), 10)  # a sender that died long ago
        notice("booking:1:lawyer", 2)
        db.session.commit()
        statuses = dict(db.session.execute(select(OutboxMessage.version,
                                                  OutboxMessage.status)).all())
        assert statuses == {1: "superseded", 2: "pending"}
        assert len(due_ids()) == 1
