"""Co-counsel and others named on a booking receive its invites and updates (never the
manage link), are limited to MAX_PARTICIPANTS, and are listed on the magistrate's views."""

from __future__ import annotations

from sqlalchemy import select

from booking.bookings.models import Booking
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import as_email
from tests.support.factories import DIRECT, PASSWORD, bearer
from tests.test_bookings_api import book, desk, form  # noqa: F401  (the fixture)


def messages_to(app) -> dict[str, list[OutboxMessage]]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
    found: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        found.setdefault(row.recipients[0], []).append(row)
    return found


def test_participants_receive_the_invite_and_changes_without_the_manage_link(app, client,
                                                                               desk):  # noqa: F811
    booked = book(client, desk, participants=["Co.Advogado@example.com", "estagiaria@example.com",
                                              "maria@example.com", "co.advogado@example.com"])
    assert booked["participants"] == ["co.advogado@example.com", "estagiaria@example.com"]
    client.post(f"/api/v1/bookings/{booked['id']}/cancel", json={"reason": "Acordo"},
                headers=bearer(booked["manage_token"]))
    sent = messages_to(app)
    for address in booked["participants"]:
        assert [m.kind for m in sent[address]] == ["booking_booked", "booking_cancelled"]
        assert all(m.payload["sealed_link"] is None for m in sent[address])
    assert sent["maria@example.com"][0].payload["sealed_link"] is not None
    attendees = [a[0] for a in sent["maria@example.com"][0].payload["booking"]["attendees"]]
    assert {"co.advogado@example.com", "estagiaria@example.com"} <= set(attendees)
    # A participant reads who included them, not the office's "new booking on the agenda",
    # and not the lawyer's phone; the office reads the phone the Brazilian way.
    with app.app_context():
        invited, cancelled = (as_email(m).body for m in sent["estagiaria@example.com"])
        office = as_email(next(m for address, rows in sent.items() for m in rows
                               if m.payload.get("role") == "office")).body
    lawyer = booked["lawyer"]["name"]
    assert f"{lawyer} incluiu você neste atendimento" in invited and "Contato:" not in invited
    assert "convite.ics" in invited
    assert f"O atendimento em que {lawyer} incluiu você foi cancelado." in cancelled
    assert "Novo atendimento agendado na agenda" in office
    assert "Contato: maria@example.com, (65) 99999-0000" in office


def test_too_many_or_malformed_participants_are_refused_by_name(app, client, desk):  # noqa: F811
    four = [f"p{n}@example.com" for n in range(4)]
    answer = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, participants=four))
    assert answer.status_code == 422
    assert answer.get_json()["errors"]["participants"] == ["Informe no máximo 3 participantes."]
    bad = client.post("/api/v1/bookings", headers=DIRECT,
                      json=form(desk, participants=["ok@example.com", "sem-arroba"]))
    assert bad.status_code == 422 and "participants.1" in bad.get_json()["errors"]
    app.config["MAX_PARTICIPANTS"] = 5
    assert client.post("/api/v1/bookings", headers=DIRECT,
                       json=form(desk, participants=four)).status_code == 201


def test_the_page_takes_participants_and_the_magistrate_sees_them(app, client, desk):  # noqa: F811
    page = f"/magistrados/{desk['judge']}/agendar"
    body = form(desk)
    fields = {"start": body["start"], "mode": "video", "name": "Maria", "oab": "12345/MT",
              "email": "maria@example.com", "phone": "(65) 99999-0000",
              "case_number": body["case_number"], "subject": "Pedido de liminar", "consent": "on"}
    refused = client.post(page, data={**fields, "participants": "bom@example.com\nruim@"})
    assert refused.status_code == 422
    assert "2º participante: Informe um e-mail válido" in refused.get_data(as_text=True)
    assert "bom@example.com" in refused.get_data(as_text=True)  # nothing typed is lost
    held = client.post(page, data={**fields, "participants": "bom@example.com, outro@example.com"})
    assert held.status_code == 302
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert booking.participants == ["bom@example.com", "outro@example.com"]
        day = booking.start_at.date().isoformat()
    staff = app.test_client()
    staff.log_in("magistrate@example.jus.br", PASSWORD)
    from tests.test_holds import code_of

    confirmed = client.post(held.headers["Location"],
                            data={"code": code_of(app, {"id": booking.id})})
    assert confirmed.status_code == 302
    view = staff.get(f"/equipe/magistrados/{desk['judge']}/atendimentos?dia={day}&visao=semana")
    assert "bom@example.com" in view.get_data(as_text=True)
