"""Codes and links travel sealed in the outbox; one whose seal cannot be opened (the keys
changed) fails alone and loudly, and the sender goes on with the others, to a real SMTP
server on loopback."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import send_due
from tests.test_bookings_api import desk  # noqa: F401  (the fixture)
from tests.test_hold_new_code import join_waitlist
from tests.test_holds import hold


@pytest.fixture
def app(mail_app):
    return mail_app


def test_a_message_whose_seal_cannot_be_opened_fails_alone(app, client, desk,  # noqa: F811
                                                           smtp_server):
    broken = hold(client, desk, 0)
    fine = hold(client, desk, 1, lawyer={"email": "outra@example.com"})
    entry = join_waitlist(client, desk)
    assert client.post("/agendamentos/recuperar-link",
                       data={"email": "maria@example.com"}).status_code == 302
    with app.app_context():
        for message in db.session.scalars(select(OutboxMessage).where(
                OutboxMessage.dedupe_key.in_([f"booking:{broken['id']}:code",
                                              f"waitlist:{entry['id']}:code"])
                | (OutboxMessage.kind == "manage_links"))):
            message.payload = {key: "sealed-under-another-key" if key.startswith("sealed_")
                               else value for key, value in message.payload.items()}
        db.session.commit()
        outcome = send_due()
        db.session.expire_all()  # the sender wrote its outcomes with statements of its own
        rows = {row.dedupe_key: row for row in db.session.scalars(select(OutboxMessage))}
        failed = [key for key, row in rows.items() if row.attempts and row.status != "sent"]
        errors = [row.last_error for row in rows.values()
                  if row.attempts and row.status != "sent"]
    links = next(key for key, row in rows.items() if row.kind == "manage_links")
    assert outcome["failed"] == 3
    assert sorted(failed) == sorted([f"booking:{broken['id']}:code",
                                     f"waitlist:{entry['id']}:code", links])
    assert len(errors) == 3 and all("cannot be unsealed" in error for error in errors)
    assert rows[f"booking:{fine['id']}:code"].status == "sent"
    assert [r.rcpt_tos for r in smtp_server.received] == [["outra@example.com"]]
