"""A magistrate's own questions on the booking form: set by the magistrate's side, readable
from the API for other front ends, answered and checked on the page and the API, kept with
the booking, shown to the magistrate, and in the invite only when not under seal."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from booking.availability import service
from booking.availability.questions import answers_for, as_typed, numbered
from booking.bookings.models import Booking
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import as_email
from tests.support.factories import DIRECT, PASSWORD, bearer
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)

QUESTIONS = [
    {"label": "Há réu preso?", "kind": "yes_no", "required": True},
    {"label": "Qual a fase do processo?", "kind": "choice", "required": True,
     "options": ["Conhecimento", "Execução"]},
    {"label": "Data da audiência marcada", "kind": "date"},
    {"label": "Resumo do pedido", "kind": "long_text"},
]


def test_answers_are_checked_and_kept_with_the_question_as_asked():
    questions = numbered(QUESTIONS)
    kept, errors = answers_for(questions, {"q1": True, "q2": "Execução", "q3": "2027-03-02"})
    assert errors == {}
    assert kept == [{"question": "Há réu preso?", "answer": "Sim"},
                    {"question": "Qual a fase do processo?", "answer": "Execução"},
                    {"question": "Data da audiência marcada", "answer": "02/03/2027"}]
    _, errors = answers_for(questions, {"q2": "Recurso", "q3": "0001-01-01", "q9": "x"})
    assert set(errors) == {"q1", "q2", "q3", "q9"}
    assert errors["q1"] == "Responda esta pergunta."


def test_kept_answers_go_back_into_the_form_as_typed():
    """A form filled in again from a booking (a hold given back to correct it): each answer
    in the input's own shape, a question changed meanwhile left blank."""
    questions = numbered(QUESTIONS)
    typed = {"q1": "nao", "q2": "Execução", "q3": "2027-03-02", "q4": "Réu preso desde maio."}
    kept, errors = answers_for(questions, typed)
    assert errors == {} and as_typed(questions, kept) == typed
    edited = numbered([{**QUESTIONS[0], "label": "Há réu preso no processo?"},
                       {**QUESTIONS[1], "options": ["Conhecimento", "Recurso"]}, *QUESTIONS[2:]])
    assert as_typed(edited, kept) == {"q3": "2027-03-02", "q4": "Réu preso desde maio."}
    assert as_typed(questions, None) == {}


def set_questions(client, desk, questions=QUESTIONS):  # noqa: F811
    answer = client.put(f"/api/v1/magistrates/{desk['judge']}/questions",
                        json={"questions": questions}, headers=bearer(desk["tokens"]["assistant"]))
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["questions"]


def test_the_form_is_readable_and_the_answers_reach_the_magistrate(app, client, desk):  # noqa: F811
    saved = set_questions(client, desk)
    assert [q["id"] for q in saved] == ["q1", "q2", "q3", "q4"]
    public = client.get(f"/api/v1/magistrates/{desk['judge']}/form").get_json()
    assert public["questions"] == saved and "party" not in public["requester_types"]

    missing = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, answers={"q2": "Execução"}))
    assert missing.status_code == 422 and "answers.q1" in missing.get_json()["errors"]
    wrong = client.post("/api/v1/bookings", headers=DIRECT,
                        json=form(desk, answers={"q1": True, "q2": "Recurso"}))
    assert "Escolha uma das opções" in wrong.get_json()["errors"]["answers.q2"][0]

    booked = client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, answers={"q1": False, "q2": "Conhecimento", "q4": "Liminar de saúde."}))
    assert booked.status_code == 201
    assert {"question": "Há réu preso?", "answer": "Não"} in booked.get_json()["answers"]
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "booking_booked")).first()
        assert "Qual a fase do processo? Conhecimento" in as_email(message).body
        day = db.session.get(Booking, booked.get_json()["id"]).start_at.date().isoformat()
    staff = app.test_client()
    staff.log_in("magistrate@example.jus.br", PASSWORD)
    view = staff.get(f"/equipe/magistrados/{desk['judge']}/atendimentos?dia={day}&visao=semana")
    assert "Liminar de saúde." in view.get_data(as_text=True)

    set_questions(client, desk, QUESTIONS[:1])  # an edit later changes no old booking
    again = client.get(f"/api/v1/bookings/{booked.get_json()['id']}",
                       headers=bearer(booked.get_json()["manage_token"]))
    assert len(again.get_json()["answers"]) == 3


def test_under_seal_the_answers_stay_off_the_invite(app, client, desk):  # noqa: F811
    set_questions(client, desk)
    client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, under_seal=True, answers={"q1": True, "q2": "Execução",
                                        "q4": "Segredo que não vai no convite."}))
    with app.app_context():
        texts = [as_email(m).body for m in db.session.scalars(select(OutboxMessage))]
        stored = db.session.scalar(select(Booking.answers))
    assert texts and all("Segredo que não vai" not in text for text in texts)
    assert stored[-1]["answer"] == "Segredo que não vai no convite."  # the magistrate has it


def test_the_page_asks_the_questions_and_says_what_is_missing(app, client, desk):  # noqa: F811
    set_questions(client, desk)
    page = f"/magistrados/{desk['judge']}/agendar"
    body = form(desk)
    shown = client.get(page, query_string={"inicio": body["start"]}).get_data(as_text=True)
    assert "Há réu preso?" in shown and 'name="answer-q2" value="Execução"' in shown
    fields = {"start": body["start"], "mode": "video", "name": "Maria", "oab": "12345/MT",
              "email": "maria@example.com", "phone": "(65) 99999-0000",
              "case_number": body["case_number"], "subject": "Pedido", "consent": "on",
              "answer-q2": "Execução"}
    missing = client.post(page, data=fields)
    assert missing.status_code == 422 and 'id="answer-q1-erro"' in missing.get_data(as_text=True)
    held = client.post(page, data={**fields, "answer-q1": "sim"})
    assert held.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Booking.answers))[0] == {"question": "Há réu preso?",
                                                                 "answer": "Sim"}


def test_one_refusal_names_every_problem_of_the_form(client, desk):  # noqa: F811
    """Each question refused, and the questions beside the other fields: a form refused for
    its name once told of the questions only on the next try, and then of the first one."""
    set_questions(client, desk)
    both = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, answers={}))
    assert both.status_code == 422
    assert {"answers.q1", "answers.q2"} <= set(both.get_json()["errors"])

    page = f"/magistrados/{desk['judge']}/agendar"
    body = form(desk)
    fields = {"start": body["start"], "mode": "video", "name": "", "oab": "",
              "email": "maria@example.com", "phone": "(65) 99999-0000",
              "case_number": body["case_number"], "subject": "Pedido", "consent": "on"}
    refused = client.post(page, data=fields)
    shown = refused.get_data(as_text=True)
    assert refused.status_code == 422
    for field in ("name", "oab", "answer-q1", "answer-q2"):
        assert f'id="{field}-erro"' in shown, field
    assert "Informe o número da OAB com a seccional" in shown


@pytest.mark.parametrize("questions, says", [
    ([{"label": "Fase?", "kind": "choice", "options": ["Só uma"]}], "duas opções"),
    ([{"label": "Pergunta", "kind": "audio"}], "Deve ser um de"),
    ([{"label": f"Pergunta {n}", "kind": "short_text"} for n in range(11)], "No máximo 10"),
])
def test_a_bad_question_set_is_refused(client, desk, questions, says):  # noqa: F811
    answer = client.put(f"/api/v1/magistrates/{desk['judge']}/questions",
                        json={"questions": questions}, headers=bearer(desk["tokens"]["assistant"]))
    assert answer.status_code == 422 and says in str(answer.get_json()["errors"])


def test_the_magistrates_page_edits_the_questions(app, client, desk):  # noqa: F811
    staff = app.test_client()
    staff.log_in("magistrate@example.jus.br", PASSWORD)
    saved = staff.post(f"/equipe/magistrados/{desk['judge']}/perguntas", data={
        "q-0-label": "Há réu preso?", "q-0-kind": "yes_no", "q-0-required": "1",
        "q-1-label": "Fase", "q-1-kind": "choice", "q-1-options": "Conhecimento; Execução"})
    assert saved.status_code == 302
    public = client.get(f"/api/v1/magistrates/{desk['judge']}/form").get_json()
    assert [(q["label"], q["required"]) for q in public["questions"]] == [
        ("Há réu preso?", True), ("Fase", False)]
    assert public["questions"][1]["options"] == ["Conhecimento", "Execução"]


def test_refused_questions_come_back_as_typed(app, desk):  # noqa: F811
    """Ten rows typed and one wrong: none is lost, the message is beside that row's options
    (row 4 on the page, the second question loaded: blank rows are left out), and the
    questions saved before stay."""
    staff = app.test_client()
    staff.log_in("magistrate@example.jus.br", PASSWORD)
    refused = staff.post(f"/equipe/magistrados/{desk['judge']}/perguntas", data={
        "q-0-label": "Há réu preso?", "q-0-kind": "yes_no", "q-0-required": "1",
        "q-4-label": "Fase", "q-4-kind": "choice", "q-4-options": "Só uma",
        "q-9-label": "Observações", "q-9-kind": "long_text"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="q-4-options-erro"[^>]*>Informe ao menos duas opções', page)
    assert re.search(r'id="q-4-options"[^>]*value="Só uma"[^>]*aria-invalid="true"', page)
    assert 'value="Há réu preso?"' in page and 'value="Observações"' in page
    assert 'name="q-0-required" value="1" checked' in page
    assert 'id="q-0-label-erro"' not in page and 'id="q-9-label-erro"' not in page
    with app.app_context():
        assert service.questions_of(desk["judge"]) == []
