"""Signed webhooks to real receivers on loopback that verify each delivery with the
`standardwebhooks` library: a booking's lifecycle arrives in order; a receiver that fails
or hangs is retried with backoff and delays nobody else; a wrong secret fails verification;
a redirect is not followed; cases under seal and lawyers' data stay out."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import send_due
from booking.webhooks.service import new_secret
from tests.support.factories import DIRECT, bearer
from tests.support.query_plans import query_plan
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_bookings_api import book, desk, form  # noqa: F401  (the fixture)

BOOKING_EVENTS = ["booking.confirmed", "booking.rescheduled", "booking.cancelled"]


@pytest.fixture
def receivers():
    started = []

    def start(**options) -> WebhookReceiver:
        receiver = WebhookReceiver(**options).start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        receiver.stop()


def subscribe(client, desk, receiver, events=BOOKING_EVENTS, **extra) -> dict:  # noqa: F811
    answer = client.post("/api/v1/admin/webhooks", headers=bearer(desk["tokens"]["admin"]),
                         json={"name": "PJe", "url": receiver.url, "events": events, **extra})
    assert answer.status_code == 201, answer.get_json()
    created = answer.get_json()
    receiver.secret = receiver.secret or created["secret"]
    return created


def deliver(app, rounds: int = 1) -> None:
    """What the scheduler's send_outbox job does, `rounds` times: the events fan out to
    their subscribers in one pass of the sender, and the subscribers' messages go in the
    next (the job's drain runs passes while there is work)."""
    for _ in range(rounds):
        with app.app_context():
            send_due()
            send_due()
            db.session.remove()


def webhook_messages(app, subscriber_id: int) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.sequence_key == f"webhook:{subscriber_id}")
            .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def test_a_bookings_lifecycle_arrives_in_order_and_signed(app, client, desk,  # noqa: F811
                                                          receivers):
    pje = receivers()
    subscriber = subscribe(client, desk, pje)
    assert subscriber["secret"].startswith("whsec_")
    listed = client.get(f"/api/v1/admin/webhooks/{subscriber['id']}",
                        headers=bearer(desk["tokens"]["admin"])).get_json()
    assert "secret" not in listed  # shown once

    booked = book(client, desk)
    token = bearer(booked["manage_token"])
    assert client.post(f"/api/v1/bookings/{booked['id']}/reschedule", headers=token,
                       json={"start": desk["slots"][3]["start"]}).status_code == 200
    assert client.post(f"/api/v1/bookings/{booked['id']}/cancel", headers=token,
                       json={"reason": "Acordo entre as partes"}).status_code == 200
    deliver(app)

    events = pje.verified
    assert [event["type"] for event in events] == BOOKING_EVENTS
    assert all(d.error is None for d in pje.deliveries)
    assert {event["data"]["booking_id"] for event in events} == {booked["id"]}
    assert [event["data"]["status"] for event in events] == ["confirmed", "confirmed",
                                                             "cancelled"]
    assert {event["data"]["requester_type"] for event in events} == {"lawyer"}
    ids = [d.headers["webhook-id"] for d in pje.deliveries]
    assert len(set(ids)) == 3
    raw = b"".join(d.body for d in pje.deliveries).decode()
    for secret in (booked["manage_token"], "maria@example.com", "Maria Aparecida", "99999"):
        assert secret not in raw
    log = client.get(f"/api/v1/admin/webhooks/{subscriber['id']}/deliveries",
                     headers=bearer(desk["tokens"]["admin"])).get_json()
    assert sorted(entry["status_code"] for entry in log) == [204, 204, 204]
    # The log comes a page at a time, newest first, as every list of the API.
    pages = [client.get(f"/api/v1/admin/webhooks/{subscriber['id']}/deliveries",
                        query_string={"per_page": 2, "page": number},
                        headers=bearer(desk["tokens"]["admin"])) for number in (1, 2)]
    assert [page.headers["X-Total-Count"] for page in pages] == ["3", "3"]
    assert [entry["id"] for page in pages for entry in page.get_json()] == sorted(
        (entry["id"] for entry in log), reverse=True)
    assert len(pages[0].get_json()) == 2


def test_one_event_row_per_booking_fanned_out_by_the_sender(app, client, desk,  # noqa: F811
                                                            receivers):
    """Three subscribers cost a booking one outbox row, not three: the sender writes each
    subscriber's message when it sends the event, in the transaction that marks it sent;
    sending the event again (an admin's resend) writes nothing twice."""
    from booking.notifications.service import resend
    from booking.webhooks.service import FANOUT_KIND, FANOUT_SEQUENCE

    systems = [receivers() for _ in range(3)]
    subscribers = [subscribe(client, desk, system)["id"] for system in systems]
    booked = book(client, desk)
    with app.app_context():
        [event] = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind.in_([FANOUT_KIND, "webhook"]))).all()
        assert (event.kind, event.sequence_key, event.subject) == (
            FANOUT_KIND, FANOUT_SEQUENCE, "booking.confirmed")
        assert [s for s, _sealed in event.payload["subscribers"]] == subscribers
        event_id = event.id
        send_due()
        assert db.session.get(OutboxMessage, event_id).status == "sent"
        fanned = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "webhook").order_by(OutboxMessage.id)).all()
        assert [m.payload["subscriber_id"] for m in fanned] == subscribers
        assert {m.payload["event"]["data"]["booking_id"] for m in fanned} == {booked["id"]}
        assert len({m.payload["webhook_id"] for m in fanned}) == 1  # one event, one id
        assert resend(event_id, None) is not None
        db.session.commit()
        send_due()
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.kind == "webhook")) == 3
        db.session.remove()
    deliver(app)
    assert all(len(system.verified) == 1 for system in systems)


def test_a_failing_or_hanging_receiver_is_retried_and_delays_nobody(app, client, desk,  # noqa: F811
                                                                    receivers):
    app.config["WEBHOOK_TIMEOUT_SECONDS"] = 2
    failing = receivers(behaviour="fail")
    hanging = receivers(behaviour="slow", delay=4)
    healthy = receivers()
    failing_id = subscribe(client, desk, failing)["id"]
    hanging_id = subscribe(client, desk, hanging)["id"]
    subscribe(client, desk, healthy)

    booked = book(client, desk)
    started = time.monotonic()
    deliver(app)
    assert [e["type"] for e in healthy.verified] == ["booking.confirmed"]
    assert healthy.deliveries[0].at - started < 1.5  # not after the hanging one's timeout

    for subscriber_id in (failing_id, hanging_id):
        [message] = webhook_messages(app, subscriber_id)
        assert message.status == "pending" and message.attempts == 1
        assert message.next_attempt_at > utcnow() + timedelta(seconds=30)  # backing off
    log = client.get(f"/api/v1/admin/webhooks/{failing_id}/deliveries",
                     headers=bearer(desk["tokens"]["admin"])).get_json()
    assert log[0]["status_code"] == 500 and "500" in log[0]["error"]
    log = client.get(f"/api/v1/admin/webhooks/{hanging_id}/deliveries",
                     headers=bearer(desk["tokens"]["admin"])).get_json()
    assert log[0]["status_code"] is None and "Timeout" in log[0]["error"]

    # A later event waits behind the one that failed: order is kept.
    client.post(f"/api/v1/bookings/{booked['id']}/cancel", json={"reason": "Acordo"},
                headers=bearer(booked["manage_token"]))
    deliver(app)
    assert [e["type"] for e in healthy.verified] == ["booking.confirmed", "booking.cancelled"]
    assert len(failing.deliveries) == 1

    failing.behaviour = "ok"  # the receiver is back; its backoff ends
    with app.app_context():
        db.session.execute(update(OutboxMessage).where(
            OutboxMessage.sequence_key == f"webhook:{failing_id}", OutboxMessage.attempts > 0)
            .values(next_attempt_at=utcnow()))
        db.session.commit()
    deliver(app)
    # the first try (answered 500) came through too; then both, in order
    assert [e["type"] for e in failing.verified] == ["booking.confirmed", "booking.confirmed",
                                                     "booking.cancelled"]


def test_a_wrong_secret_fails_verification(app, client, desk, receivers):  # noqa: F811
    impostor = receivers(secret=new_secret())  # not the secret the service signs with
    subscriber = subscribe(client, desk, impostor)
    book(client, desk)
    deliver(app)
    [delivery] = impostor.deliveries
    assert delivery.event is None and "signature" in delivery.error.lower()
    log = client.get(f"/api/v1/admin/webhooks/{subscriber['id']}/deliveries",
                     headers=bearer(desk["tokens"]["admin"])).get_json()
    assert log[0]["status_code"] == 401


def test_a_redirect_is_not_followed(app, client, desk, receivers):  # noqa: F811
    elsewhere = receivers()
    redirecting = receivers(behaviour="redirect")
    redirecting.location = elsewhere.url
    subscriber = subscribe(client, desk, redirecting)
    book(client, desk)
    deliver(app)
    assert len(redirecting.deliveries) == 1 and elsewhere.deliveries == []
    log = client.get(f"/api/v1/admin/webhooks/{subscriber['id']}/deliveries",
                     headers=bearer(desk["tokens"]["admin"])).get_json()
    assert log[0]["status_code"] == 307 and "Redirecionamento" in log[0]["error"]


def test_a_case_under_seal_reaches_only_a_subscriber_allowed_to_see_it(app, client, desk,  # noqa: F811
                                                                        receivers):
    plain, trusted = receivers(), receivers()
    subscribe(client, desk, plain)
    subscribe(client, desk, trusted, share_sealed_cases=True)
    client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, under_seal=True))
    deliver(app)
    [hidden], [shown] = plain.verified, trusted.verified
    assert "case_number" not in hidden["data"] and hidden["data"]["under_seal"] is True
    assert shown["data"]["case_number"] == form(desk)["case_number"]


def test_only_wanted_events_and_active_subscribers_get_deliveries(app, client, desk,  # noqa: F811
                                                                  receivers):
    cancellations = receivers()
    subscriber = subscribe(client, desk, cancellations, events=["booking.cancelled"])
    booked = book(client, desk)
    assert webhook_messages(app, subscriber["id"]) == []  # not even queued for it
    admin = bearer(desk["tokens"]["admin"])
    client.patch(f"/api/v1/admin/webhooks/{subscriber['id']}", headers=admin,
                 json={"is_active": False})
    client.post(f"/api/v1/bookings/{booked['id']}/cancel", json={},
                headers=bearer(booked["manage_token"]))
    deliver(app)
    assert cancellations.deliveries == []
    # The deactivated subscriber is still listed, a page at a time, never with its secret.
    other = subscribe(client, desk, receivers(), events=["booking.confirmed"])
    pages = [client.get("/api/v1/admin/webhooks", headers=admin,
                        query_string={"per_page": 1, "page": number}) for number in (1, 2)]
    assert [page.headers["X-Total-Count"] for page in pages] == ["2", "2"]
    assert [(s["id"], s["is_active"]) for page in pages for s in page.get_json()] == [
        (subscriber["id"], False), (other["id"], True)]
    assert all("secret" not in s for page in pages for s in page.get_json())


@pytest.mark.parametrize("body, field", [
    ({"name": "PJe", "url": "ftp://example.jus.br/x", "events": ["booking.confirmed"]}, "url"),
    ({"name": "PJe", "url": "https://user:pw@example.jus.br/x", "events": ["booking.confirmed"]},
     "url"),
    ({"name": "PJe", "url": "https://example.jus.br/x", "events": ["booking.exploded"]},
     "events.0"),
    ({"name": "PJe", "url": "https://example.jus.br/x", "events": []}, "events"),
])
def test_bad_subscribers_are_refused_with_the_field_named(client, desk, body, field):  # noqa: F811
    answer = client.post("/api/v1/admin/webhooks", json=body,
                         headers=bearer(desk["tokens"]["admin"]))
    assert answer.status_code == 422
    assert field in answer.get_json()["errors"], json.dumps(answer.get_json())


def test_the_admin_page_registers_a_subscriber_and_shows_its_secret_once(app, client):
    from tests.support.factories import PASSWORD, make_staff

    with app.app_context():
        make_staff("admin")
        db.session.commit()
    client.log_in("admin@example.jus.br", PASSWORD)
    page = client.post("/equipe/webhooks", data={
        "name": "Portal do advogado", "url": "https://portal.tjmt.jus.br/eventos",
        "events": ["booking.confirmed", "complaint.created"]})
    assert page.status_code == 200 and "whsec_" in page.get_data(as_text=True)
    listing = client.get("/equipe/webhooks").get_data(as_text=True)
    assert "Portal do advogado" in listing and "whsec_" not in listing
    refused = client.post("/equipe/webhooks", data={"name": "X", "url": "nada"})
    assert refused.status_code == 422


def test_a_subscriber_long_history_is_not_read_at_every_claim(app, backend):
    """Whether an earlier event of the same subscriber still waits is asked for each due
    event at every claim of the outbox: that read finds the pending events alone, not every
    event the subscriber was ever sent (1.3 s a claim at 200,000 of them before)."""
    from sqlalchemy import insert, text

    from booking.notifications.service import due_messages

    now = utcnow()
    row = {"kind": "webhook", "recipients": ["webhook:1"], "subject": "booking.confirmed",
           "payload": {}, "sequence_key": "webhook:1", "attempts": 1, "next_attempt_at": now,
           "created_at": now}
    with app.app_context():
        db.session.execute(insert(OutboxMessage.__table__), [
            {**row, "dedupe_key": f"sent:{n}", "message_id": f"<sent{n}@x>", "status": "sent"}
            for n in range(500)] + [
            {**row, "dedupe_key": f"due:{n}", "message_id": f"<due{n}@x>", "status": "pending"}
            for n in range(3)])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        due = due_messages(now, 50)
    plan = query_plan(app, backend, due, {})
    assert "ix_outbox_sequence_pending" in plan, plan


def test_event_ids_are_unique_and_in_the_order_events_happen():
    """Each event's id ends its outbox dedupe key: ids in the order they are made land at
    the end of the key's unique index, not on a random page of it."""
    import re

    from booking.webhooks.service import new_event_id

    made = [new_event_id() for _ in range(2000)]
    assert all(re.fullmatch(r"msg_[0-9a-f]{28}", event_id) for event_id in made)
    assert len(set(made)) == len(made)
    clock_parts = [event_id[:20] for event_id in made]  # "msg_" and 16 hex digits
    assert clock_parts == sorted(clock_parts)


def test_delivery_attempts_are_forgotten_after_their_retention(app, client, desk,  # noqa: F811
                                                               receivers):
    """The log of attempts grows with every booking; the daily job deletes those older than
    WEBHOOK_DELIVERY_RETENTION_DAYS and keeps the rest."""
    from booking.jobs import purge_webhook_deliveries
    from booking.webhooks.models import WebhookDelivery

    receiver = receivers()
    subscriber = subscribe(client, desk, receiver)
    first = book(client, desk)
    client.post(f"/api/v1/bookings/{first['id']}/cancel", json={},
                headers=bearer(first["manage_token"]))
    deliver(app, rounds=2)
    assert len(receiver.deliveries) == 2
    with app.app_context():
        old, recent = db.session.scalars(select(WebhookDelivery.id).order_by(
            WebhookDelivery.id)).all()
        days = app.config["WEBHOOK_DELIVERY_RETENTION_DAYS"]
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == old).values(
            attempted_at=utcnow() - timedelta(days=days, minutes=1)))
        db.session.execute(update(WebhookDelivery).where(WebhookDelivery.id == recent).values(
            attempted_at=utcnow() - timedelta(days=days, minutes=-1)))
        db.session.commit()
        purge_webhook_deliveries()
        db.session.commit()
    log = client.get(f"/api/v1/admin/webhooks/{subscriber['id']}/deliveries",
                     headers=bearer(desk["tokens"]["admin"]))
    assert [row["id"] for row in log.get_json()] == [recent]
    assert log.headers["X-Total-Count"] == "1"
