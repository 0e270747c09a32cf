"""Urgent requests come from whoever the agenda accepts bookings from: a public defender with
a prisoner's case, a prosecutor... identified as on a booking (institution and registration,
or a party's CPF where the magistrate allows parties), and named so to the office."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from booking.availability.models import AvailabilityRule
from booking.bookings.models import UrgentRequest
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import as_email
from tests.support.factories import bearer
from tests.test_booking_pages import judge  # noqa: F401  (the fixture)
from tests.test_bookings_api import desk  # noqa: F401  (the fixture)
from tests.test_webhooks import deliver, receivers, subscribe  # noqa: F401  (a fixture)

DEFENDER = {"type": "public_defender", "name": "Rui Defensor", "email": "rui@dp.mt.gov.br",
            "phone": "(65) 98888-0000",
            "institution": "Defensoria Pública do Estado de Mato Grosso", "registration": "4455"}
BODY = {"case_number": "0001234-03.2026.8.11.0041", "consent": True,
        "reason": "Assistido preso há 90 dias sem audiência de custódia."}


def test_a_public_defender_files_an_urgent_request_on_the_api(app, client, desk):  # noqa: F811
    url = f"/api/v1/magistrates/{desk['judge']}/urgent-requests"
    missing = client.post(url, json={**BODY, "requester": {**DEFENDER, "registration": ""}})
    assert missing.status_code == 422
    assert "matrícula" in missing.get_json()["errors"]["requester.registration"][0]

    created = client.post(url, json={**BODY, "requester": DEFENDER})
    assert created.status_code == 201, created.get_json()
    answer = created.get_json()
    assert answer["requester_type"] == "public_defender"
    assert answer["lawyer"]["institution"] == DEFENDER["institution"]
    assert answer["lawyer"]["oab"] == "4455"
    listed = client.get(url, headers=bearer(desk["tokens"]["magistrate"])).get_json()
    assert [row["requester_type"] for row in listed] == ["public_defender"]
    with app.app_context():
        told = [as_email(m).body for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "urgent_request"))]
    assert told and all(
        "Defensor(a) público(a): Rui Defensor (Defensoria Pública do Estado de Mato Grosso, "
        "matrícula 4455)" in body for body in told)


def test_an_agenda_that_takes_no_parties_refuses_a_partys_urgent_request(app, client,
                                                                         desk):  # noqa: F811
    url = f"/api/v1/magistrates/{desk['judge']}/urgent-requests"
    party = {"type": "party", "name": "Zé Parte", "email": "ze@example.com",
             "phone": "(65) 97777-0000", "cpf": "529.982.247-25"}
    refused = client.post(url, json={**BODY, "requester": party})
    assert refused.status_code == 422
    assert "não recebe pedidos de parte sem advogado(a)" in \
        refused.get_json()["errors"]["requester.type"][0]
    with app.app_context():
        assert db.session.scalar(select(UrgentRequest.id)) is None
        rule = db.session.scalar(select(AvailabilityRule).where(
            AvailabilityRule.magistrate_id == desk["judge"]))
        rule.accepted_requesters = ["lawyer", "party"]
        db.session.commit()
    assert client.post(url, json={**BODY, "requester": party}).status_code == 201


def test_the_urgent_page_asks_each_requester_for_what_identifies_them(app, client,
                                                                      judge):  # noqa: F811
    page = f"/magistrados/{judge}/pedido-urgente"
    form = client.get(page).get_data(as_text=True)
    assert '<select id="requester_type" name="requester_type"' in form
    assert 'option value="prosecutor"' in form and "requester-fields.js" in form
    fields = {"requester_type": "prosecutor", "name": "Paula Promotora",
              "email": "paula@mpmt.mp.br", "phone": "(65) 96666-0000",
              "institution": "Ministério Público do Estado de Mato Grosso", "registration": "",
              "case_number": "0001234-03.2026.8.11.0041",
              "reason": "Investigado preso, pedido de revisão da prisão.", "consent": "1"}
    refused = client.post(page, data=fields)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.search(r'id="registration-erro"[^>]*>Informe a matrícula funcional', html)
    assert 'value="Paula Promotora"' in html and "Investigado preso" in html
    sent = client.post(page, data={**fields, "registration": "MP-778"})
    assert sent.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(UrgentRequest))
        assert (row.requester_type, row.lawyer_oab, row.requester_institution) == (
            "prosecutor", "MP-778", "Ministério Público do Estado de Mato Grosso")


def test_the_court_systems_hear_who_asked_by_type_only(app, client, desk,  # noqa: F811
                                                       receivers):  # noqa: F811
    """A defender's system routes the defenders' requests: the event says the type, never the
    person."""
    defensoria = receivers()
    subscribe(client, desk, defensoria, events=["urgent_request.created"])
    url = f"/api/v1/magistrates/{desk['judge']}/urgent-requests"
    assert client.post(url, json={**BODY, "requester": DEFENDER}).status_code == 201
    deliver(app)
    [event] = defensoria.verified
    assert event["type"] == "urgent_request.created"
    assert event["data"]["requester_type"] == "public_defender"
    assert "Rui" not in json.dumps(event["data"]) and "4455" not in json.dumps(event["data"])
