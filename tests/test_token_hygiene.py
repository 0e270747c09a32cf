"""Tokens stay secret: the manage token is never readable in a cookie or an idempotency
record, staff tokens are accepted only in the header, and logout ends every copy of a
session."""

from __future__ import annotations

import base64
import io
import logging
import zlib

import pytest
from sqlalchemy import select

from booking import log_redaction
from booking.bookings.models import IdempotencyRecord
from booking.extensions import db
from tests.support.factories import (
    DIRECT,
    PASSWORD,
    bearer,
    confirm_by_code,
    make_magistrate,
    make_rules,
    make_staff,
)
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)


def cookie_text(client) -> str:
    """The session cookie's payload as a reader of the cookie would see it (signed only)."""
    cookie = client.get_cookie("session")
    value = cookie.value
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode("utf-8", "replace")


def test_the_manage_token_is_neither_in_the_cookie_nor_in_the_idempotency_record(
        app, client, desk):  # noqa: F811
    page = f"/magistrados/{desk['judge']}/agendar"
    body = form(desk)
    answer = client.post(page, data={
        "start": body["start"], "mode": "video", "name": "Maria", "oab": "12345/MT",
        "email": "maria@example.com", "phone": "(65) 99999-0000",
        "case_number": body["case_number"], "subject": "Pedido de liminar", "consent": "on"})
    assert answer.status_code == 302
    confirmed = confirm_by_code(app, client, answer.headers["Location"])
    assert confirmed.status_code == 302
    confirmation = client.get(confirmed.headers["Location"])
    assert confirmation.status_code == 200
    token = confirmation.get_data(as_text=True).split("token=")[1].split('"')[0]
    assert len(token) >= 40 and token not in cookie_text(client)
    replayed = client.post("/api/v1/bookings", json=form(desk, 1),
                           headers={**DIRECT, "Idempotency-Key": "chave-1"})
    manage_token = replayed.get_json()["manage_token"]
    with app.app_context():
        stored = db.session.scalars(select(IdempotencyRecord.response_body)).one()
    assert manage_token not in stored
    again = client.post("/api/v1/bookings", json=form(desk, 1),
                        headers={**DIRECT, "Idempotency-Key": "chave-1"})
    assert again.get_json()["manage_token"] == manage_token  # the replay still answers it


def test_staff_tokens_are_accepted_only_in_the_header(app, client, desk):  # noqa: F811
    booked = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk)).get_json()
    staff = desk["tokens"]["magistrate"]
    assert client.get(f"/api/v1/bookings/{booked['id']}", headers=bearer(staff)).status_code == 200
    assert client.get(f"/api/v1/bookings/{booked['id']}?token={staff}").status_code == 404
    # The lawyer's manage token still works in the e-mailed link, as API.md says.
    assert client.get(f"/api/v1/bookings/{booked['id']}?token={booked['manage_token']}"
                      ).status_code == 200


def test_logout_ends_every_copy_of_the_session(app):
    with app.app_context():
        judge = make_magistrate()
        make_rules(judge)
        make_staff("magistrate", magistrate_id=judge.id)
        db.session.commit()
    client = app.test_client()
    client.log_in("magistrate@example.jus.br", PASSWORD)
    copied = client.get_cookie("session").value
    assert client.get("/equipe").status_code == 200
    client.post("/sair")
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/equipe").status_code == 302  # to the login page


@pytest.fixture
def caplog_handler_text():
    """A handler on the root and gunicorn loggers, there before the app installs its filter
    (as a deployment's handlers are); yields a reader of what it wrote."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    loggers = [logging.getLogger(name) for name in log_redaction.WRITING_LOGGERS]
    for logger in loggers:
        logger.addHandler(handler)
    log_redaction.install()
    yield stream.getvalue
    for logger in loggers:
        logger.removeHandler(handler)


def test_no_log_line_carries_a_secret(caplog_handler_text):
    """Whatever logger writes it, a line quoting a manage link or a bearer header is
    redacted before it reaches the handler (the filter sits on the writing handlers)."""
    logging.getLogger("booking.any").warning(
        "failed to open /agendamentos/7?token=%s&x=1 for %s", "s3cr3t-manage", "someone")
    logging.getLogger("gunicorn.error").warning("Authorization: Bearer abc.DEF-123_xyz")
    logging.getLogger("booking.any").warning("lookup /reclamacoes/acompanhar?protocolo=RC-1&code=987654")
    written = caplog_handler_text()
    assert "s3cr3t-manage" not in written and "abc.DEF-123_xyz" not in written
    assert "987654" not in written
    assert "token=[redigido]&x=1" in written and "Bearer [redigido]" in written
