"""Who may ask to be heard: lawyers, public defenders, the Ministério Público, state and
municipal attorneys, and parties without a lawyer where the magistrate allows it; each with
what identifies them, checked, and shown on the magistrate's side and in the statistics."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from booking import requesters
from booking.bookings.models import Booking
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import as_email
from tests.support.factories import DIRECT, PASSWORD, bearer, make_staff, staff_token
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)

DEFENDER = {"institution": "Defensoria Pública do Estado de Mato Grosso", "registration": "4455-B"}


@pytest.mark.parametrize("typed, digits", [("529.982.247-25", "52998224725"),
                                           (" 52998224725 ", "52998224725")])
def test_a_cpf_with_right_check_digits(typed, digits):
    assert requesters.cpf_digits(typed) == digits


@pytest.mark.parametrize("typed, says", [("529.982.247-26", "verificadores"),
                                         ("111.111.111-11", "verificadores"),
                                         ("5299822472", "11 dígitos"), ("", "Informe")])
def test_a_bad_cpf_says_why(typed, says):
    with pytest.raises(requesters.CpfError, match=says):
        requesters.cpf_digits(typed)


def enable_parties(client, desk):  # noqa: F811
    """The magistrate's assistant lets parties without a lawyer book, through the API."""
    url = f"/api/v1/magistrates/{desk['judge']}/availability"
    staff = bearer(desk["tokens"]["assistant"])
    rules = client.get(url, headers=staff).get_json()
    assert "party" not in rules["accepted_requesters"]
    body = {key: rules[key] for key in ("slot_minutes", "buffer_minutes", "min_notice_hours",
                                        "horizon_days", "max_per_day", "meeting_url", "address")}
    body["weekly_windows"] = [{**w, "start": w["start"][:5], "end": w["end"][:5]}
                              for w in rules["weekly_windows"]]
    body["accepted_requesters"] = [*rules["accepted_requesters"], "party"]
    answer = client.put(url, json=body, headers=staff)
    assert answer.status_code == 200, answer.get_json()
    return answer


@pytest.mark.parametrize("kind", ["public_defender", "prosecutor", "state_attorney",
                                  "municipal_attorney"])
def test_each_official_books_with_institution_and_registration(app, client, desk, kind):  # noqa: F811
    booked = client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, requester_type=kind, lawyer={"oab": None, **DEFENDER}))
    assert booked.status_code == 201, booked.get_json()
    body = booked.get_json()
    assert body["requester_type"] == kind
    assert body["lawyer"]["oab"] == "4455-B" and body["lawyer"]["institution"] == DEFENDER["institution"]
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.recipients.is_not(None))).first()
        text = as_email(message).body
    assert f"{requesters.TYPES[kind]}: Maria Aparecida Souza (Defensoria Pública" in text
    assert "matrícula 4455-B" in text and "OAB" not in text


@pytest.mark.parametrize("requester_type, lawyer, field, says", [
    ("lawyer", {"oab": "12345/XX"}, "lawyer.oab", "Seccional XX desconhecida"),
    ("lawyer", {"oab": None}, "lawyer.oab", "Informe o número da OAB"),
    ("public_defender", {"oab": None, "registration": "4455"}, "lawyer.institution", "instituição"),
    ("prosecutor", {"oab": None, "institution": "MPMT", "registration": "x" * 13},
     "lawyer.registration", "matrícula"),
    ("party", {"oab": None, "cpf": "529.982.247-26"}, "lawyer.cpf", "verificadores"),
    ("judge", {}, "requester_type", "Deve ser um de"),
])
def test_each_kind_of_bad_input_gets_its_message(client, desk, requester_type, lawyer,  # noqa: F811
                                                  field, says):
    answer = client.post("/api/v1/bookings", headers=DIRECT,
                         json=form(desk, requester_type=requester_type, lawyer=lawyer))
    assert answer.status_code == 422
    assert any(says in message for message in answer.get_json()["errors"][field]), \
        answer.get_json()


def test_a_party_books_only_where_the_magistrate_allows_it(app, client, desk):  # noqa: F811
    party = form(desk, requester_type="party", lawyer={"oab": None, "cpf": "529.982.247-25"})
    refused = client.post("/api/v1/bookings", json=party)
    assert refused.status_code == 422
    assert "não recebe pedidos de parte sem advogado(a)" in \
        refused.get_json()["errors"]["requester_type"][0]
    enable_parties(client, desk)
    slots = client.get(f"/api/v1/magistrates/{desk['judge']}/slots").get_json()
    held = client.post("/api/v1/bookings", json={**party, "start": slots[0]["start"]})
    assert held.status_code == 201 and held.get_json()["status"] == "held"
    from tests.test_holds import code_of, confirm

    held = held.get_json()
    assert confirm(client, held, code_of(app, held)).status_code == 200
    with app.app_context():
        booking = db.session.get(Booking, held["id"])
        assert (booking.requester_type, booking.lawyer_oab) == ("party", "52998224725")
        day = booking.start_at.date().isoformat()
    staff = app.test_client()
    staff.log_in("magistrate@example.jus.br", PASSWORD)  # the desk's magistrate
    view = staff.get(f"/equipe/magistrados/{desk['judge']}/atendimentos?dia={day}&visao=semana")
    html = view.get_data(as_text=True)
    assert "Parte sem advogado(a)" in html and "CPF 529.982.247-25" in html
    with app.app_context():
        texts = [as_email(m).body for m in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "booking_booked"))]
    assert texts and all("529.982.247-25" not in text for text in texts)  # not in e-mails


def test_the_statistics_count_bookings_by_requester(app, client, desk):  # noqa: F811
    client.post("/api/v1/bookings", headers=DIRECT, json=form(desk))
    client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, 1, requester_type="public_defender",
        lawyer={"oab": None, "email": "defensora@example.com", **DEFENDER}))
    with app.app_context():
        token = staff_token(make_staff("corregedoria"))
        db.session.commit()
    rows = client.get("/api/v1/attendance/stats", headers=bearer(token)).get_json()
    [judge] = [row for row in rows if row["magistrate_id"] == desk["judge"]]
    assert judge["by_requester"] == {"lawyer": 1, "public_defender": 1}


def test_the_page_asks_each_kind_for_its_own_fields(app, client, desk):  # noqa: F811
    page = f"/magistrados/{desk['judge']}/agendar"
    body = form(desk)
    fields = {"start": body["start"], "mode": "video", "name": "Ana Defensora",
              "email": "ana@example.com", "phone": "(65) 99999-0000",
              "case_number": body["case_number"], "subject": "Réu preso", "consent": "on",
              "requester_type": "public_defender"}
    shown = client.get(page, query_string={"inicio": body["start"]}).get_data(as_text=True)
    assert 'value="public_defender"' in shown and 'value="party"' not in shown
    missing = client.post(page, data=fields)
    assert missing.status_code == 422
    html = missing.get_data(as_text=True)
    assert 'id="institution-erro"' in html and 'id="registration-erro"' in html
    held = client.post(page, data={**fields, **DEFENDER})
    assert held.status_code == 302
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert booking.requester_type == "public_defender"
        assert booking.requester_institution == DEFENDER["institution"]


@pytest.mark.parametrize("kind, identity", [
    ("lawyer", {"oab": "OAB/MT 12.345"}),
    ("public_defender", DEFENDER),
    ("prosecutor", {"institution": "Ministério Público de Mato Grosso", "registration": "998"}),
    ("state_attorney", {"institution": "Procuradoria-Geral do Estado", "registration": "77"}),
    ("municipal_attorney", {"institution": "Procuradoria de Cuiabá", "registration": "M-12"}),
    ("party", {"cpf": "529.982.247-25"}),
])
def test_each_kind_books_end_to_end_on_the_page(app, client, desk, kind, identity):  # noqa: F811
    from tests.support.factories import confirm_by_code

    if kind == "party":
        enable_parties(client, desk)
    slot = client.get(f"/api/v1/magistrates/{desk['judge']}/slots").get_json()[0]["start"]
    page = f"/magistrados/{desk['judge']}/agendar"
    held = client.post(page, data={
        "start": slot, "mode": "video", "name": "Pessoa Que Pede", "email": "pede@example.com",
        "phone": "(65) 99999-0000", "case_number": "0001234-03.2026.8.11.0041",
        "subject": "Atendimento", "consent": "on", "requester_type": kind, **identity})
    assert held.status_code == 302, held.get_data(as_text=True)
    confirmed = confirm_by_code(app, client, held.headers["Location"])
    assert confirmed.status_code == 302
    summary = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert requesters.TYPES[kind] in summary
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert (booking.requester_type, booking.status) == (kind, "confirmed")
