"""The outbox delivers the latest truth: one bad message never blocks the rest, a cancel
never arrives before its invite (nor an older version after a newer one), reminders and
agendas describe the booking as it is when they go, an admin's resend cannot revive a
cancelled appointment. Against a real SMTP server on loopback, stopped and started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import icalendar
import pytest
from sqlalchemy import select, update

from booking.database import utcnow
from booking.extensions import db
from booking.notifications import service as outbox
from booking.notifications.models import OutboxMessage
from tests.support.factories import DIRECT, bearer, make_magistrate, make_rules, make_staff, staff_token
from tests.test_notifications import JUDGE, LAWYER, OFFICE, book, send, slot_at

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def judge(mail_app):
    with mail_app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        db.session.commit()
        return {"id": magistrate.id}


def test_an_address_smtp_cannot_carry_is_refused_and_a_poison_message_fails_alone(
        mail_app, smtp_server, judge):
    client = mail_app.test_client()
    first = book(client, judge, slot_at(client, judge))
    for address in ("joão@exemplo.com.br", "\"quoted\"@exemplo.com.br", "a\x0cb@exemplo.com.br"):
        refused = client.post("/api/v1/bookings", headers=DIRECT, json={
            "magistrate_id": judge["id"], "start": slot_at(client, judge, skip=1),
            "mode": "video", "consent": True, "case_number": "0001234-03.2026.8.11.0041",
            "subject": "Pedido", "lawyer": {"name": "João", "oab": "12345/MT",
                                            "email": address, "phone": "(65) 99999-0000"}})
        assert refused.status_code == 422, address
        assert "lawyer.email" in refused.get_json()["errors"], address
    with mail_app.app_context():  # a row written before addresses were checked, say
        outbox.queue(dedupe_key="legacy", kind="complaint_update", to="joão@exemplo.com.br",
                     subject="Antiga", text="Uma mensagem que o SMTP não leva.")
        db.session.commit()
    second = book(client, judge, slot_at(client, judge, skip=2))
    send(mail_app)
    send(mail_app)
    assert len(smtp_server.to(LAWYER)) == 2  # both invites, before and after the poison
    with mail_app.app_context():
        poison = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == "legacy"))
        assert poison.status == "pending" and poison.attempts >= 1 and poison.last_error
        pending = db.session.scalars(select(OutboxMessage.dedupe_key).where(
            OutboxMessage.status == "pending")).all()
    assert pending == ["legacy"]
    assert first["id"] != second["id"]


def replay(received, uid) -> dict:
    """Each recipient's calendar after applying the messages in the order they arrived."""
    state = {}
    for item in received:
        for part in item.message.walk():
            if part.get_content_type() != "text/calendar":
                continue
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            method = str(calendar["METHOD"])
            for event in calendar.walk("VEVENT"):
                if str(event["UID"]) != uid:
                    continue
                sequence = int(event["SEQUENCE"])
                for to in item.rcpt_tos:
                    previous = state.get(to)
                    assert previous is None or sequence >= previous["sequence"], \
                        f"SEQUENCE went down for {to}"
                    assert previous is None or previous["method"] != "CANCEL", \
                        f"a message arrived after the CANCEL for {to}"
                    state[to] = {"method": method, "sequence": sequence,
                                 "start": event["DTSTART"].dt}
    return state


def test_book_reschedule_cancel_while_smtp_is_down_then_the_latest_truth_arrives(
        mail_app, smtp_server, judge):
    client = mail_app.test_client()
    smtp_server.stop()
    booked = book(client, judge, slot_at(client, judge))
    token = bearer(booked["manage_token"])
    send(mail_app)  # fails: the server is down
    assert client.post(f"/api/v1/bookings/{booked['id']}/reschedule", headers=token,
                       json={"start": slot_at(client, judge, skip=1)}).status_code == 200
    send(mail_app, utcnow() + timedelta(minutes=5))
    moved_again = client.post(f"/api/v1/bookings/{booked['id']}/reschedule", headers=token,
                              json={"start": slot_at(client, judge, skip=2)})
    assert moved_again.status_code == 200
    assert client.post(f"/api/v1/bookings/{booked['id']}/cancel", headers=token,
                       json={}).status_code == 200
    smtp_server.start()
    for minutes in (10, 60, 240):  # past every backoff
        send(mail_app, utcnow() + timedelta(minutes=minutes))
    with mail_app.app_context():
        from booking.bookings.models import Booking

        booking = db.session.get(Booking, booked["id"])
        uid, sequence = booking.ical_uid, booking.ical_sequence
    state = replay(smtp_server.received, uid)
    assert set(state) == {LAWYER, JUDGE, OFFICE}
    assert all(s["method"] == "CANCEL" and s["sequence"] == sequence for s in state.values())


def test_a_killed_sender_mid_batch_still_never_sends_an_old_version_after_a_new_one(
        mail_app, smtp_server, judge, database_url, tmp_path):
    """A sender process is killed with SIGKILL after claiming a batch: the lease runs out,
    a newer version was queued meanwhile, and what arrives still ends in the truth."""
    client = mail_app.test_client()
    booked = book(client, judge, slot_at(client, judge))
    token = bearer(booked["manage_token"])
    env = {**os.environ, "BOOKING_ENV": "test", "DATABASE_URL": database_url,
           "SECRET_KEY": "test-secret-key", "MAIL_SERVER": "127.0.0.1",
           "MAIL_PORT": str(smtp_server.port)}
    script = ("from booking import create_app\n"
              "from booking.notifications import service\n"
              "import time\n"
              "app = create_app()\n"
              "with app.app_context():\n"
              "    service.claim_due(service.utcnow(), 50)\n"
              "    print('claimed', flush=True)\n"
              "    time.sleep(60)\n")
    process = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert process.stdout.readline().strip() == b"claimed"
    finally:
        os.kill(process.pid, signal.SIGKILL)  # also when it said something else
        process.wait(timeout=10)
    assert client.post(f"/api/v1/bookings/{booked['id']}/cancel", headers=token,
                       json={}).status_code == 200
    send(mail_app)  # the first batch is still leased by the dead sender
    send(mail_app, utcnow() + timedelta(minutes=6))  # the lease ran out
    with mail_app.app_context():
        from booking.bookings.models import Booking

        booking = db.session.get(Booking, booked["id"])
        uid, sequence = booking.ical_uid, booking.ical_sequence
        statuses = db.session.scalars(select(OutboxMessage.status)).all()
    assert "pending" not in statuses
    state = replay(smtp_server.received, uid)
    assert all(s["method"] == "CANCEL" and s["sequence"] == sequence for s in state.values())


def test_a_reminder_held_back_by_an_outage_is_never_delivered_after_a_cancel(
        mail_app, smtp_server, judge):
    from booking.bookings.messages import queue_reminders

    client = mail_app.test_client()
    booked = book(client, judge, slot_at(client, judge))
    send(mail_app)
    smtp_server.stop()
    with mail_app.app_context():
        from booking.bookings.models import Booking

        start = db.session.get(Booking, booked["id"]).start_at
        assert queue_reminders(now=start - timedelta(hours=23)) == 2
        db.session.commit()
    send(mail_app)  # the outage holds the reminders back
    assert client.post(f"/api/v1/bookings/{booked['id']}/cancel",
                       headers=bearer(booked["manage_token"]), json={}).status_code == 200
    smtp_server.start()
    for minutes in (5, 60):
        send(mail_app, utcnow() + timedelta(minutes=minutes))
    subjects = [r.message["Subject"] for r in smtp_server.received]
    assert not any(s.startswith("Lembrete") for s in subjects)
    assert any(s.startswith("Atendimento cancelado") for s in subjects)
    with mail_app.app_context():
        reminders = db.session.scalars(select(OutboxMessage.status).where(
            OutboxMessage.kind == "booking_reminder")).all()
    assert reminders == ["superseded", "superseded"]


def test_the_admins_resend_of_a_stale_invite_cannot_revive_a_cancelled_appointment(
        mail_app, smtp_server, judge):
    client = mail_app.test_client()
    with mail_app.app_context():
        admin = staff_token(make_staff("admin"))
        db.session.commit()
    booked = book(client, judge, slot_at(client, judge))
    with mail_app.app_context():  # the invites died (say, after a long outage)
        db.session.execute(update(OutboxMessage).values(status="dead"))
        db.session.commit()
        request_id = db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.kind == "booking_booked", OutboxMessage.recipients.isnot(None))
            .order_by(OutboxMessage.id))
    assert client.post(f"/api/v1/bookings/{booked['id']}/cancel",
                       headers=bearer(booked["manage_token"]), json={}).status_code == 200
    send(mail_app)
    refused = client.post(f"/api/v1/outbox/{request_id}/resend", headers=bearer(admin))
    assert refused.status_code == 409 and refused.get_json()["code"] == "outdated"
    send(mail_app)
    methods = [part.get_params() for r in smtp_server.received for part in r.message.walk()
               if part.get_content_type() == "text/calendar"]
    assert methods and all(("method", "CANCEL") in params for params in methods)


def test_the_manage_link_is_sealed_in_the_outbox_and_erased_once_sent(
        mail_app, smtp_server, judge):
    client = mail_app.test_client()
    booked = book(client, judge, slot_at(client, judge))
    with mail_app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "booking_booked")).all()
        lawyer = next(r for r in rows if r.recipients == [LAWYER])
        assert booked["manage_token"] not in str(lawyer.payload)
        assert lawyer.payload["sealed_link"]
    send(mail_app)
    body = smtp_server.to(LAWYER)[0].message.get_body(("plain",)).get_content()
    assert booked["manage_token"] in body  # the lawyer did get the link
    with mail_app.app_context():
        sent = db.session.get(OutboxMessage, lawyer.id)
        assert sent.status == "sent" and sent.payload["sealed_link"] is None


def test_the_admins_outbox_page_filters_by_state_and_recipient(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    with mail_app.app_context():
        make_staff("admin")
        db.session.commit()
    booked = book(client, judge, slot_at(client, judge))
    client.post(f"/api/v1/bookings/{booked['id']}/cancel",
                headers=bearer(booked["manage_token"]), json={})
    client.log_in("admin@example.jus.br", "correct horse battery")
    page = client.get("/equipe/mensagens?situacao=superseded&destinatario=maria").get_data(
        as_text=True)
    assert "Substituídas" in page and LAWYER in page and JUDGE not in page
    pending = client.get("/equipe/mensagens?situacao=pending").get_data(as_text=True)
    assert "Atendimento cancelado" in pending


def test_a_newer_complaint_status_supersedes_the_older_one_still_waiting(
        mail_app, smtp_server):
    from booking.complaints.models import Complaint

    client = mail_app.test_client()
    with mail_app.app_context():
        desk = staff_token(make_staff("corregedoria"))
        db.session.commit()
    filed = client.post("/api/v1/complaints", json={
        "channel": "phone", "kind": "unavailable",
        "occurred_at": utcnow().isoformat(), "description": "O telefone não atende.",
        "reporter": {"name": "Rita", "email": "rita@example.com", "role": "citizen"}})
    assert filed.status_code == 201
    with mail_app.app_context():
        complaint_id = db.session.scalar(select(Complaint.id))
    smtp_server.stop()
    send(mail_app)
    for status in ("in_review", "resolved"):
        assert client.patch(f"/api/v1/complaints/{complaint_id}", headers=bearer(desk),
                            json={"status": status}).status_code == 200
    smtp_server.start()
    for minutes in (5, 60):
        send(mail_app, utcnow() + timedelta(minutes=minutes))
    subjects = [r.message["Subject"] for r in smtp_server.to("rita@example.com")]
    assert len(subjects) == 2  # the filing, with its link, and only the latest status
    assert any(s.startswith("Reclamação registrada") for s in subjects)
    assert any(s.endswith("resolvida") for s in subjects)


def test_an_older_version_written_after_a_newer_one_never_goes_in_the_same_batch(
        mail_app, smtp_server):
    """Two transactions may write a topic's versions out of order (the newer committed
    first): the sender, reading the newest version of its batch's topics at once, sends
    only the newer and leaves the other topics alone."""
    with mail_app.app_context():
        for version, subject in ((2, "Versão nova"), (1, "Versão antiga")):
            outbox.queue(dedupe_key=f"race:{version}", kind="complaint_update",
                         to="rita@example.com", subject=subject, text=subject,
                         topic="complaint:1:reporter", version=version)
        outbox.queue(dedupe_key="other", kind="complaint_update", to="rita@example.com",
                     subject="Outro assunto", text="Outro assunto",
                     topic="complaint:2:reporter", version=1)
        db.session.commit()
    assert send(mail_app) == {"sent": 2, "failed": 0}
    assert sorted(r.message["Subject"] for r in smtp_server.to("rita@example.com")) == [
        "Outro assunto", "Versão nova"]
    with mail_app.app_context():
        older = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == "race:1"))
        assert older.status == "superseded" and "mais nova" in older.last_error


def test_retention_purges_dead_superseded_and_stale_pending_messages(mail_app, judge):
    from booking.privacy.service import anonymize_expired

    client = mail_app.test_client()
    booked = book(client, judge, slot_at(client, judge))
    client.post(f"/api/v1/bookings/{booked['id']}/cancel",
                headers=bearer(booked["manage_token"]), json={})
    with mail_app.app_context():
        db.session.execute(update(OutboxMessage).where(OutboxMessage.status == "pending")
                           .values(status="dead"))
        db.session.commit()
        later = utcnow() + timedelta(days=mail_app.config["RETENTION_DAYS"] + 1)
        anonymize_expired(now=later)
        db.session.commit()
        left = db.session.scalars(select(OutboxMessage)).all()
    assert left and all(m.recipients == [] and m.payload is None for m in left)
    assert {m.status for m in left} <= {"dead", "superseded"}
