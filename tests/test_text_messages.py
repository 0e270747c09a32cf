"""WhatsApp and SMS through the court's gateway: a lawyer who opted in gets the
confirmation (with the manage link) and the reminders at a gateway on loopback, with the
right template and phone; one who did not gets nothing there; without a gateway the option
is not offered."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from booking.bookings.messages import queue_reminders
from booking.bookings.models import Booking
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import send_due
from tests.support.factories import DIRECT
from tests.support.text_gateway import TextGateway
from tests.test_bookings_api import book, desk, form  # noqa: F401  (the fixture)

TOKEN = "gateway-token-for-this-test"


@pytest.fixture
def gateway(app):
    server = TextGateway().start()
    app.config.update(MESSAGING_GATEWAY_URL=server.url, MESSAGING_GATEWAY_TOKEN=TOKEN,
                      MESSAGING_CHANNELS="whatsapp,sms")
    yield server
    server.stop()


def send(app, now: datetime | None = None) -> None:
    with app.app_context():
        send_due(now)
        db.session.remove()


def test_without_a_gateway_the_option_is_not_offered(client, desk):  # noqa: F811
    page = client.get(f"/magistrados/{desk['judge']}/agendar",
                      query_string={"inicio": desk["slots"][0]["start"]})
    assert page.status_code == 200 and "Também por WhatsApp" not in page.get_data(as_text=True)
    answer = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, notify_by="whatsapp"))
    assert answer.status_code == 422
    assert "não está disponível" in answer.get_json()["errors"]["notify_by"][0]


def test_an_opted_in_lawyer_gets_the_confirmation_and_reminders_there(app, client, desk,  # noqa: F811
                                                                      gateway):
    booked = book(client, desk, notify_by="whatsapp")
    book(client, desk, 1, lawyer={"oab": "777/MT", "phone": "(65) 98888-1111"})  # no opt-in
    assert booked["notify_by"] == "whatsapp"
    send(app)
    [confirmation] = gateway.received
    assert confirmation["channel"] == "whatsapp" and confirmation["to"] == "+5565999990000"
    assert confirmation["template"] == "agendamento_confirmado"
    assert booked["manage_url"] in confirmation["text"]
    assert confirmation["parameters"]["link"] == booked["manage_url"]
    assert "Ana Souza" in confirmation["parameters"]["magistrado"]
    assert gateway.tokens == [f"Bearer {TOKEN}"]
    with app.app_context():  # the link is not kept once sent
        sent = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "text_booked"))
        assert sent.status == "sent" and sent.payload["sealed_link"] is None

    # The day before, the lawyer may still free the time: the reminder brings the link.
    start = datetime.fromisoformat(booked["start"])
    with app.app_context():
        queue_reminders(now=start - timedelta(hours=20))
        db.session.commit()
    send(app)
    reminders = [m for m in gateway.received if m["template"] == "agendamento_lembrete"]
    assert [m["to"] for m in reminders] == ["+5565999990000"]
    [link] = re.findall(r"https?://\S+", reminders[0]["text"])
    assert reminders[0]["parameters"]["link"] == link and "lembrete" in reminders[0]["text"]
    assert client.get(link).status_code == 200  # it opens the booking's page
    # An hour before, past the cutoff (two hours), no link changes it any more.
    with app.app_context():
        queue_reminders(now=start - timedelta(hours=1))
        db.session.commit()
    send(app)
    last = [m for m in gateway.received if m["template"] == "agendamento_lembrete"][-1]
    assert last is not reminders[0] and "http" not in last["text"]
    assert "link" not in last["parameters"]


def test_a_change_replaces_a_waiting_message_and_a_refusal_is_retried(app, client, desk,  # noqa: F811
                                                                      gateway):
    gateway.status = 503
    booked = book(client, desk, notify_by="sms")
    send(app)
    with app.app_context():
        [waiting] = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "text_booked")).all()
        assert waiting.status == "pending" and waiting.attempts == 1
        assert "503" in waiting.last_error
    client.post(f"/api/v1/bookings/{booked['id']}/cancel", json={},
                headers={"Authorization": f"Bearer {booked['manage_token']}"})
    gateway.status = 202
    send(app, datetime.now().astimezone() + timedelta(hours=1))
    # Only the latest truth goes: the cancellation, not the stale confirmation.
    assert [m["template"] for m in gateway.received if m["to"] == "+5565999990000"][-1:] == [
        "agendamento_cancelado"]
    assert "agendamento_confirmado" not in [m["template"] for m in gateway.received[1:]]


def test_the_page_offers_the_channels_and_keeps_the_choice(app, client, desk, gateway):  # noqa: F811
    page = f"/magistrados/{desk['judge']}/agendar"
    offered = client.get(page, query_string={"inicio": desk["slots"][0]["start"]})
    assert "Também por WhatsApp" in offered.get_data(as_text=True)
    assert "Também por SMS" in offered.get_data(as_text=True)
    body = form(desk)
    answer = client.post(page, data={
        "start": body["start"], "mode": "video", "name": "Maria", "oab": "12345/MT",
        "email": "maria@example.com", "phone": "(65) 99999-0000", "notify_by": "sms",
        "case_number": body["case_number"], "subject": "Pedido de liminar", "consent": "on"})
    assert answer.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Booking.notify_by)) == "sms"
    app.config["MESSAGING_CHANNELS"] = "whatsapp"
    refused = client.post(page, data={
        "start": desk["slots"][1]["start"], "mode": "video", "name": "Maria", "oab": "555/MT",
        "email": "maria@example.com", "phone": "(65) 99999-0000", "notify_by": "sms",
        "case_number": body["case_number"], "subject": "Pedido de liminar", "consent": "on"})
    assert refused.status_code == 422
    assert "escolha WhatsApp" in refused.get_data(as_text=True)
