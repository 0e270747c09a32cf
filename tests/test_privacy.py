"""LGPD: retention, the lawyer's copy of their data, and staff reads in the audit log."""

import json
from datetime import timedelta

from sqlalchemy import select, update

from booking.audit.models import AuditEntry
from booking.bookings.models import REMOVED, Booking
from booking.complaints.models import Complaint
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.privacy.service import anonymize_expired
from tests.support.factories import (
    DIRECT,
    PASSWORD,
    a_recent_failure,
    bearer,
    make_magistrate,
    make_rules,
    make_staff,
    staff_token,
)


def setup_booking(app, client):
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        token = staff_token(make_staff("magistrate", magistrate_id=magistrate.id))
        make_staff("corregedoria")
        db.session.commit()
        magistrate_id = magistrate.id
    start = client.get(f"/api/v1/magistrates/{magistrate_id}/slots").get_json()[0]["start"]
    booked = client.post("/api/v1/bookings", headers=DIRECT, json={
        "magistrate_id": magistrate_id, "start": start, "mode": "video",
        "lawyer": {"name": "Maria Souza", "oab": "12345/MT", "email": "maria@example.com",
                   "phone": "(65) 99999-0000"},
        "case_number": "0001234-03.2026.8.11.0041", "subject": "Pedido de liminar",
        "consent": True}).get_json()
    return booked, token, magistrate_id


def test_retention_anonymises_old_personal_data_and_keeps_the_statistics(app, client):
    booked, _, _ = setup_booking(app, client)
    complaint = client.post("/api/v1/complaints", json={
        "channel": "phone", "kind": "no_answer", "occurred_at": a_recent_failure(),
        "description": "Ninguém atende o telefone.",
        "reporter": {"name": "José", "email": "jose@example.com"}}).get_json()
    with app.app_context():
        assert anonymize_expired() == {"bookings": 0, "urgent_requests": 0, "complaints": 0,
                                       "outbox_messages": 0, "audit_entries": 0,
                                       "waitlist_entries": 0}
        long_ago = utcnow() - timedelta(days=400)
        db.session.execute(update(Booking).values(start_at=long_ago, end_at=long_ago))
        db.session.execute(update(Complaint).values(status="resolved", closed_at=long_ago))
        db.session.execute(update(OutboxMessage).values(status="sent", sent_at=long_ago))
        db.session.commit()
        counts = anonymize_expired()
        db.session.commit()
        assert counts == {"bookings": 1, "urgent_requests": 0, "complaints": 1, "outbox_messages": 4,
                          "audit_entries": 0, "waitlist_entries": 0}
        booking = db.session.get(Booking, booked["id"])
        assert booking.lawyer_name == REMOVED and booking.lawyer_email.endswith(".invalid")
        assert booking.status == "confirmed" and booking.mode == "video"  # statistics stay
        stored = db.session.scalars(select(Complaint)).one()
        assert stored.reporter_email is None and stored.description == REMOVED
        assert stored.protocol == complaint["protocol"]
        assert all(m.body_text == REMOVED and m.ics is None
                   for m in db.session.scalars(select(OutboxMessage)))
        assert anonymize_expired() == {"bookings": 0, "urgent_requests": 0, "complaints": 0,
                                       "outbox_messages": 0, "audit_entries": 0,
                                       "waitlist_entries": 0}


def test_the_lawyer_downloads_every_piece_of_data_held(app, client):
    booked, magistrate_token, _ = setup_booking(app, client)
    response = client.get(f"/api/v1/bookings/{booked['id']}/data",
                          headers=bearer(booked["manage_token"]))
    assert response.status_code == 200
    data = response.get_json()
    assert data["lawyer"] == {"name": "Maria Souza", "oab": "12345/MT",
                              "email": "maria@example.com", "phone": "+5565999990000"}
    assert data["booking"]["consent_at"]
    assert [m["to"] for m in data["messages"]][0] == ["maria@example.com"]
    assert [h["action"] for h in data["history"]] == ["booking.created"]
    assert client.get(f"/api/v1/bookings/{booked['id']}/data",
                      headers=bearer(magistrate_token)).status_code == 403
    page = client.get(f"/agendamentos/{booked['id']}/meus-dados?token={booked['manage_token']}")
    assert page.status_code == 200 and json.loads(page.data)["booking"]["id"] == booked["id"]
    assert "attachment" in page.headers["Content-Disposition"]


def test_staff_reads_of_personal_data_are_audited(app, client):
    booked, magistrate_token, magistrate_id = setup_booking(app, client)
    client.get(f"/api/v1/bookings/{booked['id']}", headers=bearer(magistrate_token))
    client.get(f"/api/v1/magistrates/{magistrate_id}/bookings", headers=bearer(magistrate_token))
    client.get(f"/api/v1/bookings/{booked['id']}", headers=bearer(booked["manage_token"]))
    client.log_in("corregedoria@example.jus.br", PASSWORD)
    client.post("/api/v1/complaints", json={
        "channel": "phone", "kind": "no_answer", "occurred_at": a_recent_failure(),
        "description": "Ninguém atende o telefone."})
    with app.app_context():
        complaint_id = db.session.scalar(select(Complaint.id))
    client.get(f"/corregedoria/reclamacoes/{complaint_id}")
    with app.app_context():
        reads = db.session.scalars(select(AuditEntry).where(
            AuditEntry.action == "personal_data.read").order_by(AuditEntry.id)).all()
    assert [(r.entity, r.actor) for r in reads] == [
        ("booking", "staff:magistrate@example.jus.br"),
        ("booking", "staff:magistrate@example.jus.br"),
        ("complaint", "staff:corregedoria@example.jus.br")]
    assert reads[1].details == {"ids": [str(booked["id"])], "count": 1}


def test_privacy_page_says_what_is_kept_and_for_how_long(app, client):
    html = client.get("/privacidade").get_data(as_text=True)
    assert f"{app.config['RETENTION_DAYS']} dias" in html
    assert "Lei Geral de Proteção de Dados" in html and app.config["DATA_PROTECTION_CONTACT"] in html
