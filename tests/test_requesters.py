"""Who may ask to be heard: lawyers, public defenders, the Ministério Público, public
attorneys, and parties without a lawyer where the magistrate allows it; each with what
identifies them, checked, and shown on the magistrate's side and in the statistics. The
body names them as the contract does (`requester` with its `type`, `guests`) or as the first
version did (`lawyer`, `requester_type`, `participants`)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text

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


def test_an_agenda_refuses_only_the_types_it_does_not_accept():
    assert requesters.refusal(None, "public_defender") is None  # the default types
    assert requesters.refusal(None, "party") == (
        "Esta agenda não recebe pedidos de parte sem advogado(a); recebe de: advogado(a), "
        "defensor(a) público(a), membro do ministério público, procurador(a) ou advogado(a) "
        "público(a).")
    assert requesters.refusal(["lawyer", "party"], "party") is None
    assert "recebe de: advogado(a)." in requesters.refusal(["lawyer"], "prosecutor")


@pytest.mark.parametrize("kind", ["public_defender", "prosecutor", "public_attorney"])
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


def contract_form(desk, slot=0, **overrides):  # noqa: F811
    """The body as API.md's additions write it: `requester` with its type, `guests`."""
    body = form(desk, slot)
    person = {"type": "lawyer", **body.pop("lawyer"), **overrides.pop("requester", {})}
    return {**body, "requester": person, **overrides}


def test_the_contracts_requester_and_guests_book(app, client, desk):  # noqa: F811
    booked = client.post("/api/v1/bookings", headers=DIRECT, json=contract_form(
        desk, requester={"type": "public_attorney", "oab": None,
                         "institution": "Advocacia-Geral da União", "registration": "AGU-9"},
        guests=["colega@example.com", "Colega@Example.com", "maria@example.com"]))
    assert booked.status_code == 201, booked.get_json()
    body = booked.get_json()
    assert body["requester"] == {"type": "public_attorney", "name": "Maria Aparecida Souza",
                                 "oab": "AGU-9", "institution": "Advocacia-Geral da União",
                                 "email": "maria@example.com", "phone": "+5565999990000"}
    assert body["requester_type"] == "public_attorney" and body["lawyer"]["oab"] == "AGU-9"
    # the requester's own address and a repeat are not guests twice
    assert body["guests"] == body["participants"] == ["colega@example.com"]
    with app.app_context():
        booking = db.session.get(Booking, body["id"])
        assert (booking.requester_type, booking.participants) == (
            "public_attorney", ["colega@example.com"])
    read = client.get(f"/api/v1/bookings/{body['id']}",
                      headers={"Authorization": f"Bearer {body['manage_token']}"})
    assert read.get_json()["requester"]["type"] == "public_attorney"


def test_a_lawyer_may_still_come_as_lawyer_and_participants(client, desk):  # noqa: F811
    booked = client.post("/api/v1/bookings", headers=DIRECT,
                         json=form(desk, participants=["colega@example.com"]))
    assert booked.status_code == 201, booked.get_json()
    body = booked.get_json()
    assert body["requester"]["type"] == "lawyer" and body["requester"]["oab"] == "12345/MT"
    assert body["guests"] == ["colega@example.com"]


@pytest.mark.parametrize("former", ["state_attorney", "municipal_attorney"])
def test_the_first_versions_attorney_types_are_read_as_public_attorney(client, desk, former):  # noqa: F811
    booked = client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, requester_type=former, lawyer={"oab": None, "institution": "Procuradoria de "
                                             "Cuiabá", "registration": "M-12"}))
    assert booked.status_code == 201, booked.get_json()
    assert booked.get_json()["requester"]["type"] == "public_attorney"


@pytest.mark.parametrize("change, field, says", [
    ({"lawyer": {"name": "Maria Aparecida Souza", "oab": "12345/MT", "email": "m@example.com",
                 "phone": "(65) 99999-0000"}}, "requester", "não os dois"),
    ({"requester": None}, "requester", "Campo obrigatório"),
    ({"requester_type": "party"}, "requester_type", "requester.type"),
    ({"participants": ["a@example.com"], "guests": ["b@example.com"]}, "guests", "não os dois"),
    ({"guests": [f"g{n}@example.com" for n in range(4)]}, "guests", "no máximo 3"),
    ({"guests": ["joão@example.com"]}, "guests.0", "e-mail válido"),
    ({"requester": {"type": "lawyer", "oab": "12345/XX"}}, "requester.oab", "Seccional XX"),
    ({"requester": {"type": "public_defender", "oab": None}}, "requester.institution",
     "instituição"),
    ({"requester": {"type": "judge"}}, "requester.type", "Deve ser um de: lawyer, "
                                                          "public_defender, prosecutor, "
                                                          "public_attorney, party."),
])
def test_a_contract_body_gets_errors_under_the_names_it_used(client, desk, change, field,  # noqa: F811
                                                            says):
    body = contract_form(desk)
    if change.get("requester", {}) is None:
        del body["requester"]
        change = {}
    elif "requester" in change:
        change = {"requester": {**body["requester"], **change["requester"]}}
    answer = client.post("/api/v1/bookings", headers=DIRECT, json={**body, **change})
    assert answer.status_code == 422, answer.get_json()
    assert any(says in message for message in answer.get_json()["errors"][field]), \
        answer.get_json()


def test_an_agenda_refuses_a_type_under_requester_type(client, desk):  # noqa: F811
    party = contract_form(desk, requester={"type": "party", "oab": None,
                                           "cpf": "529.982.247-25"})
    refused = client.post("/api/v1/bookings", json=party)
    assert refused.status_code == 422
    assert "não recebe pedidos de parte sem advogado(a)" in \
        refused.get_json()["errors"]["requester.type"][0]


def test_an_agenda_naming_the_former_attorney_types_takes_public_attorneys(client, desk):  # noqa: F811
    url = f"/api/v1/magistrates/{desk['judge']}/availability"
    staff = bearer(desk["tokens"]["assistant"])
    rules = client.get(url, headers=staff).get_json()
    body = {key: rules[key] for key in ("slot_minutes", "buffer_minutes", "min_notice_hours",
                                        "horizon_days", "max_per_day", "meeting_url", "address")}
    body["weekly_windows"] = [{**w, "start": w["start"][:5], "end": w["end"][:5]}
                              for w in rules["weekly_windows"]]
    body["accepted_requesters"] = ["lawyer", "state_attorney", "municipal_attorney"]
    saved = client.put(url, json=body, headers=staff)
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["accepted_requesters"] == ["lawyer", "public_attorney"]
    form_of = client.get(f"/api/v1/magistrates/{desk['judge']}/form").get_json()
    assert form_of["requester_types"] == ["lawyer", "public_attorney"]


def test_the_migration_moves_attorneys_to_one_type_and_back(app, client, desk):  # noqa: F811
    from flask_migrate import downgrade, upgrade

    from booking.availability.models import AvailabilityRule

    booked = client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, requester_type="public_attorney",
        lawyer={"oab": None, "institution": "Procuradoria de Cuiabá", "registration": "M-12"}))
    assert booked.status_code == 201, booked.get_json()
    with app.app_context():
        rule = db.session.scalars(select(AvailabilityRule).where(
            AvailabilityRule.magistrate_id == desk["judge"])).one()
        rule.accepted_requesters = ["lawyer", "public_attorney", "party"]
        db.session.commit()
        downgrade(revision="0032")
        kinds = db.session.execute(text("SELECT requester_type FROM booking")).scalars().all()
        assert kinds == ["state_attorney"]
        db.session.execute(text("UPDATE availability_rule SET accepted_requesters = "
                                "'[\"municipal_attorney\", \"lawyer\", \"state_attorney\"]'"
                                " WHERE magistrate_id = :id"), {"id": desk["judge"]})
        db.session.commit()
        upgrade()
        kinds = db.session.execute(text("SELECT requester_type FROM booking")).scalars().all()
        accepted = db.session.execute(text(
            "SELECT accepted_requesters FROM availability_rule WHERE magistrate_id = :id"),
            {"id": desk["judge"]}).scalar_one()
    assert kinds == ["public_attorney"]
    if isinstance(accepted, str):  # SQLite gives JSON back as text
        accepted = json.loads(accepted)
    assert accepted == ["public_attorney", "lawyer"]


BAD_IDENTITIES = [
    ("lawyer", {"oab": "12345/XX"}, "lawyer.oab", "Seccional XX desconhecida"),
    ("lawyer", {"oab": None}, "lawyer.oab", "Informe o número da OAB"),
    ("public_defender", {"oab": None, "registration": "4455"}, "lawyer.institution", "instituição"),
    ("prosecutor", {"oab": None, "institution": "MPMT", "registration": "x" * 13},
     "lawyer.registration", "matrícula"),
    ("party", {"oab": None, "cpf": "529.982.247-26"}, "lawyer.cpf", "verificadores"),
    ("judge", {}, "requester_type", "Deve ser um de"),
]


@pytest.mark.parametrize("requester_type, lawyer, field, says", BAD_IDENTITIES)
def test_each_kind_of_bad_input_gets_its_message(client, desk, requester_type, lawyer,  # noqa: F811
                                                  field, says):
    answer = client.post("/api/v1/bookings", headers=DIRECT,
                         json=form(desk, requester_type=requester_type, lawyer=lawyer))
    assert answer.status_code == 422
    assert any(says in message for message in answer.get_json()["errors"][field]), \
        answer.get_json()


@pytest.mark.parametrize("requester_type, lawyer, field, says", BAD_IDENTITIES)
def test_what_a_kind_lacks_is_named_beside_the_other_errors(client, desk, requester_type,  # noqa: F811
                                                             lawyer, field, says):
    """The identity is checked after the fields load; a body refused for its subject too
    names both in one answer (the OAB number was told only on the next try)."""
    body = form(desk, requester_type=requester_type, lawyer=lawyer, subject="")
    errors = client.post("/api/v1/bookings", headers=DIRECT, json=body).get_json()["errors"]
    assert "subject" in errors and any(says in message for message in errors[field]), errors


@pytest.mark.parametrize("change", [
    {"requester": {"type": ["lawyer"], "name": ""}},
    {"requester": {"type": "lawyer", "name": "", "oab": 12345, "cpf": {"a": 1}}},
    {"requester": "Maria", "subject": ""},
    {"lawyer": ["Maria"], "requester": None, "subject": ""},
    {"lawyer": {"name": ""}, "requester": None, "requester_type": 7},
    {"lawyer": {"name": ""}, "requester": None, "requester_type": ["party"]},
])
def test_a_body_of_odd_shapes_is_refused_with_messages(client, desk, change):  # noqa: F811
    body = {**contract_form(desk), **change}
    answer = client.post("/api/v1/bookings", headers=DIRECT, json=body)
    assert answer.status_code == 422 and answer.get_json()["errors"], answer.get_json()


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
    ("public_attorney", {"institution": "Procuradoria-Geral do Estado", "registration": "77"}),
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
