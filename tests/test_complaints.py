"""Complaints: the public report and lookup, the review workflow, the desk's filters,
statistics and exports, and who may read them."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.accounts.models import User
from booking.complaints import service
from booking.complaints.models import Complaint, ComplaintEvent
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from tests.support.factories import (
    DIRECT,
    PASSWORD,
    a_recent_failure,
    bearer,
    make_magistrate,
    make_staff,
    make_unit,
    staff_token,
)


@pytest.fixture
def desk(app):
    with app.app_context():
        cuiaba = make_unit("1ª Vara Cível de Cuiabá", "Cuiabá")
        sinop = make_unit("Vara Única de Sinop", "Sinop", office_email="snp@example.jus.br")
        judge = make_magistrate(unit=cuiaba)
        tokens = {"corregedoria": staff_token(make_staff("corregedoria")),
                  "magistrate": staff_token(make_staff("magistrate", magistrate_id=judge.id)),
                  "admin": staff_token(make_staff("admin"))}
        db.session.commit()
        return {"cuiaba": cuiaba.id, "sinop": sinop.id, "cuiaba_comarca": cuiaba.comarca_id,
                "tokens": tokens}


def report(client, **overrides):
    body = {"channel": "virtual_counter", "kind": "unavailable",
            "occurred_at": a_recent_failure(),
            "description": "O Balcão Virtual não abriu no horário de expediente.",
            "reporter": {"name": "José Cidadão", "email": "jose@example.com", "role": "citizen"}}
    body.update(overrides)
    response = client.post("/api/v1/complaints", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_filing_gives_a_readable_protocol_and_a_lookup_token(app, client, desk):
    first = report(client, unit_id=desk["cuiaba"])
    second = report(client)
    year = datetime.now(timezone(timedelta(hours=-4))).year
    assert re.fullmatch(rf"RC-{year}-\d{{6}}", first["protocol"])
    assert int(second["protocol"][-6:]) == int(first["protocol"][-6:]) + 1
    assert len(first["lookup_token"]) >= 43
    looked = client.get(f"/api/v1/complaints/{first['protocol']}",
                        query_string={"token": first["lookup_token"]})
    assert looked.status_code == 200
    assert looked.get_json()["status"] == "new"
    assert "description" not in looked.get_json() and "note" not in looked.get_data(as_text=True)
    assert client.get(f"/api/v1/complaints/{first['protocol']}",
                      headers=bearer(first["lookup_token"])).status_code == 200
    assert client.get(f"/api/v1/complaints/{first['protocol']}",
                      query_string={"token": second["lookup_token"]}).status_code == 404
    assert client.get(f"/api/v1/complaints/{first['protocol']}").status_code == 404
    with app.app_context():
        assert db.session.scalars(select(OutboxMessage.kind)).all() == ["complaint_update"] * 2


@pytest.mark.parametrize("overrides, field", [
    ({"channel": "fax"}, "channel"), ({"kind": None}, "kind"),
    ({"description": "curta"}, "description"), ({"description": "x" * 2001}, "description"),
    ({"occurred_at": "2099-01-01T10:00:00-04:00"}, "occurred_at"),
    ({"occurred_at": "ontem"}, "occurred_at"), ({"unit_id": 987654}, "unit_id"),
    ({"reporter": {"email": "não é e-mail"}}, "reporter.email"),
])
def test_invalid_reports_are_422_per_field(client, desk, overrides, field):
    body = {"channel": "phone", "kind": "no_answer", "occurred_at": a_recent_failure(),
            "description": "Ninguém atende o telefone da secretaria.", **overrides}
    response = client.post("/api/v1/complaints", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_oversized_body_is_413(client, desk):
    response = client.post("/api/v1/complaints", data=b"{" + b" " * 70000 + b"}",
                           content_type="application/json")
    assert response.status_code == 413


def test_workflow_moves_only_forward_and_keeps_the_whole_history(app, client, desk):
    filed = report(client)
    headers = bearer(desk["tokens"]["corregedoria"])
    complaint_id = client.get("/api/v1/complaints", headers=headers).get_json()[0]["id"]
    url = f"/api/v1/complaints/{complaint_id}"
    skip = client.patch(url, json={"status": "resolved"}, headers=headers)
    assert skip.status_code == 409 and skip.get_json()["code"] == "illegal_move"
    assert client.patch(url, json={"status": "in_review", "note": "Pedi o log à TI."},
                        headers=headers).status_code == 200
    done = client.patch(url, json={"status": "resolved", "note": "Servidor reiniciado.",
                                   "public_answer": "O Balcão Virtual foi restabelecido."},
                        headers=headers)
    assert done.status_code == 200
    body = done.get_json()
    assert [(e["from_status"], e["to_status"]) for e in body["history"]] == [
        (None, "new"), ("new", "in_review"), ("in_review", "resolved")]
    assert body["history"][1]["note"] == "Pedi o log à TI."
    assert body["history"][2]["actor"] == "corregedoria@example.jus.br"
    assert body["closed_at"]
    back = client.patch(url, json={"status": "in_review"}, headers=headers)
    assert back.status_code == 409
    public = client.get(f"/api/v1/complaints/{filed['protocol']}",
                        query_string={"token": filed["lookup_token"]}).get_json()
    assert public["status"] == "resolved"
    assert public["public_answer"] == "O Balcão Virtual foi restabelecido."
    assert "log à TI" not in str(public)
    with app.app_context():
        updates = db.session.scalars(select(OutboxMessage.subject).where(
            OutboxMessage.kind == "complaint_update")).all()
    assert len(updates) == 3  # filed, in review, resolved


def test_only_the_corregedoria_reads_the_reports(client, desk):
    report(client)
    for who, status in (("magistrate", 403), ("admin", 403), ("corregedoria", 200)):
        for path in ("/api/v1/complaints", "/api/v1/complaints/stats",
                     "/api/v1/complaints/export.csv"):
            assert client.get(path, headers=bearer(desk["tokens"][who])).status_code == status
    assert client.get("/api/v1/complaints").status_code == 401


def seed_known_set(app, client, desk):
    """Six reports with known channels, units and dates; two resolved in 24 h and 48 h."""
    specs = [("virtual_counter", "unavailable", desk["cuiaba"]),
             ("virtual_counter", "connection_drop", desk["cuiaba"]),
             ("virtual_counter", "unavailable", desk["sinop"]),
             ("phone", "no_answer", desk["cuiaba"]),
             ("phone", "no_answer", None),
             ("whatsapp", "other", desk["sinop"])]
    for channel, kind, unit_id in specs:
        report(client, channel=channel, kind=kind, unit_id=unit_id)
    with app.app_context():
        complaints = db.session.scalars(select(Complaint).order_by(Complaint.id)).all()
        base = utcnow() - timedelta(days=3)
        for index, complaint in enumerate(complaints):
            complaint.created_at = base + timedelta(hours=index)
        for complaint, hours in ((complaints[0], 24), (complaints[1], 48)):
            complaint.status = "resolved"
            complaint.closed_at = complaint.created_at + timedelta(hours=hours)
        complaints[2].status = "in_review"
        complaints[5].created_at = utcnow() - timedelta(days=20)
        db.session.commit()


def test_filters(app, client, desk):
    seed_known_set(app, client, desk)
    headers = bearer(desk["tokens"]["corregedoria"])

    def total(**query):
        response = client.get("/api/v1/complaints", query_string=query, headers=headers)
        assert response.status_code == 200
        return int(response.headers["X-Total-Count"])

    assert total() == 6
    assert total(status="resolved") == 2
    assert total(channel="phone") == 2
    assert total(kind="no_answer") == 2
    assert total(unit_id=desk["sinop"]) == 2
    assert total(comarca_id=desk["cuiaba_comarca"]) == 3
    assert total(**{"from": (utcnow() - timedelta(days=10)).date().isoformat()}) == 5
    assert total(per_page=2, page=3) == 6
    assert client.get("/api/v1/complaints", query_string={"status": "bogus"},
                      headers=headers).status_code == 422


def test_statistics_on_a_known_set(app, client, desk):
    seed_known_set(app, client, desk)
    app.config["COMPLAINT_FLAG_THRESHOLD"] = 3
    headers = bearer(desk["tokens"]["corregedoria"])
    by_channel = client.get("/api/v1/complaints/stats?group_by=channel", headers=headers).get_json()
    assert by_channel["total"] == 6
    assert [(g["key"], g["count"]) for g in by_channel["groups"]] == [
        ("virtual_counter", 3), ("phone", 2), ("whatsapp", 1)]
    assert by_channel["median_hours_to_resolution"] == 36.0
    assert by_channel["flagged_units"] == [{"unit_id": desk["cuiaba"], "name": "1ª Vara Cível de Cuiabá",
                                            "count": 3}]
    by_unit = client.get("/api/v1/complaints/stats?group_by=unit", headers=headers).get_json()
    assert {g["label"]: g["count"] for g in by_unit["groups"]} == {
        "1ª Vara Cível de Cuiabá": 3, "Vara Única de Sinop": 2, "Sem unidade informada": 1}
    by_week = client.get("/api/v1/complaints/stats?group_by=week", headers=headers).get_json()
    assert sum(g["count"] for g in by_week["groups"]) == 6
    assert client.get("/api/v1/complaints/stats?group_by=mood", headers=headers).status_code == 422


def test_csv_opens_in_a_brazilian_spreadsheet(app, client, desk):
    report(client, unit_id=desk["cuiaba"],
           description="=HYPERLINK(\"http://x\") aspas \"e\"; ponto e vírgula")
    response = client.get("/api/v1/complaints/export.csv",
                          headers=bearer(desk["tokens"]["corregedoria"]))
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Protocolo" and rows[0][1] == "Situação"
    assert rows[1][1] == "Recebida" and rows[1][2] == "Balcão Virtual"
    assert rows[1][4] == "1ª Vara Cível de Cuiabá" and rows[1][5] == "Cuiabá"
    assert re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d", rows[1][6])
    assert rows[1][9].startswith("'=HYPERLINK")  # never a formula
    assert rows[1][9].endswith('"e"; ponto e vírgula')
    as_json = client.get("/api/v1/complaints/export.json",
                         headers=bearer(desk["tokens"]["corregedoria"])).get_json()
    assert [c["protocol"] for c in as_json] == [rows[1][0]]


def test_html_in_a_description_is_shown_as_text(app, client, desk):
    filed = report(client, description="<script>alert('x')</script> o balcão caiu")
    with app.app_context():
        make_staff("corregedoria", "desk@example.jus.br")
        db.session.commit()
        complaint_id = db.session.scalar(select(Complaint.id))
    client.log_in("desk@example.jus.br", PASSWORD)
    for path in (f"/corregedoria/reclamacoes/{complaint_id}",):
        html = client.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "&lt;script&gt;" in html
    page = client.get("/reclamacoes/acompanhar", query_string={
        "protocolo": filed["protocol"], "token": filed["lookup_token"]})
    assert page.status_code == 200 and "Recebida" in page.get_data(as_text=True)


def test_public_form_keeps_what_was_typed_and_catches_robots(app, client, desk):
    bad = client.post("/reclamacoes/nova", data={"channel": "", "kind": "unavailable",
                                                  "description": "curta", "occurred_day": ""})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert re.search(r'id="channel-erro"[^>]*>Escolha uma opção da lista', html)
    assert re.search(r'id="description-erro"', html) and ">curta</textarea>" in html
    day = datetime.fromisoformat(a_recent_failure()).date()
    robot = client.post("/reclamacoes/nova", data={
        "channel": "phone", "kind": "no_answer", "description": "Ninguém atendeu o telefone.",
        "occurred_day": day.isoformat(), "website": "http://spam.example"})
    assert robot.status_code == 302
    ok = client.post("/reclamacoes/nova", data={
        "channel": "phone", "kind": "no_answer", "unit_id": str(desk["sinop"]),
        "description": "Ninguém atendeu o telefone.", "occurred_day": day.isoformat(),
        "occurred_time": "15:30"})
    assert ok.status_code == 302
    with app.app_context():
        complaints = db.session.scalars(select(Complaint)).all()
    assert len(complaints) == 1  # the robot's report was dropped
    assert complaints[0].occurred_at == datetime(day.year, day.month, day.day, 19, 30,
                                                 tzinfo=UTC)  # 15:30 in Cuiabá
    filed = client.get("/reclamacoes/registrada").get_data(as_text=True)
    assert complaints[0].protocol in filed
    # a receipt: when it was registered, in the court's time, and on which channel
    registered = complaints[0].created_at.astimezone(ZoneInfo("America/Cuiaba"))
    assert re.search(r"<dt>Registrada em</dt><dd>" + registered.strftime("%d/%m/%Y %H:%M")
                     + r" \(horário de Cuiabá\)</dd>", filed)
    assert "<dt>Canal</dt><dd>Telefone</dd>" in filed


def test_a_short_code_printed_with_the_protocol_follows_the_complaint(app, client, desk):
    """Someone who reported without an e-mail and closed the page can still follow it: the
    protocol and an eight-character code; and can have the link sent after all."""
    day = datetime.fromisoformat(a_recent_failure()).date()
    client.post("/reclamacoes/nova", data={
        "channel": "phone", "kind": "no_answer", "description": "Ninguém atendeu o telefone.",
        "occurred_day": day.isoformat(), "occurred_time": "10:00"})
    page = client.get("/reclamacoes/registrada").get_data(as_text=True)
    protocol = re.search(r'class="protocol">(RC-\d{4}-\d{6})<', page).group(1)
    code = re.search(r'class="follow-code">([A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4})<', page).group(1)
    for typed in (code, code.lower(), code.replace("-", " ")):
        found = client.get("/reclamacoes/acompanhar",
                           query_string={"protocolo": protocol, "token": typed})
        assert found.status_code == 200 and "Recebida" in found.get_data(as_text=True)
    wrong = ("A" if code[0] != "A" else "B") + code[1:]
    assert client.get("/reclamacoes/acompanhar", query_string={
        "protocolo": protocol, "token": wrong}).status_code == 404
    # The registered page's link brings the protocol only: it waits for the code, no error.
    linked = client.get("/reclamacoes/acompanhar", query_string={"protocolo": protocol})
    html = linked.get_data(as_text=True)
    assert linked.status_code == 200 and "não encontrado" not in html
    assert f'value="{protocol}"' in html and re.search(r'<input id="token"[^>]*autofocus', html)
    blank = client.get("/reclamacoes/acompanhar", query_string={"protocolo": protocol,
                                                                "token": ""})
    assert blank.status_code == 422 and "não encontrado" not in blank.get_data(as_text=True)
    assert re.search(r'id="token-erro"[^>]*>Informe o código de acompanhamento',
                     blank.get_data(as_text=True))
    api = client.get(f"/api/v1/complaints/{protocol}", query_string={"token": code})
    assert api.status_code == 200
    # No e-mail was given: the page offers to send the link to one.
    assert "Receber o link por e-mail" in page
    bad = client.post("/reclamacoes/registrada/enviar-link", data={"email": "não é e-mail"})
    assert bad.status_code == 422 and 'id="email-erro"' in bad.get_data(as_text=True)
    sent = client.post("/reclamacoes/registrada/enviar-link", data={"email": "ze@example.com"})
    assert "Enviamos o link" in sent.get_data(as_text=True)
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "complaint_update"))
        assert message.recipients == ["ze@example.com"]
        assert code in message.body_text and "/reclamacoes/acompanhar?protocolo=" in (
            message.body_text)
    again = client.post("/reclamacoes/registrada/enviar-link", data={"email": "x@example.com"})
    assert "O link já foi enviado" in again.get_data(as_text=True)
    with app.app_context():  # an address already given is not replaced by another
        assert db.session.scalar(select(Complaint.reporter_email)) == "ze@example.com"


def test_every_status_e_mail_leads_to_the_follow_page(app, client, desk):
    filed = report(client)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", filed["follow_code"])
    headers = bearer(desk["tokens"]["corregedoria"])
    complaint_id = client.get("/api/v1/complaints", headers=headers).get_json()[0]["id"]
    client.patch(f"/api/v1/complaints/{complaint_id}", json={"status": "in_review"},
                 headers=headers)
    with app.app_context():
        update_text = db.session.scalars(select(OutboxMessage.body_text).where(
            OutboxMessage.kind == "complaint_update").order_by(OutboxMessage.id)).all()[-1]
    assert f"/reclamacoes/acompanhar?protocolo={filed['protocol']}" in update_text


def test_the_desk_pages(app, client, desk):
    seed_known_set(app, client, desk)
    with app.app_context():
        make_staff("corregedoria", "desk@example.jus.br")
        make_staff("magistrate", "judge2@example.jus.br",
                   magistrate_id=make_magistrate(name="Outro").id)
        db.session.commit()
        complaint_id = db.session.scalar(select(Complaint.id).where(Complaint.status == "new"))
    client.log_in("judge2@example.jus.br", PASSWORD)
    assert client.get("/corregedoria").status_code == 403
    client.post("/sair")
    client.log_in("desk@example.jus.br", PASSWORD)
    listing = client.get("/corregedoria?canal=phone").get_data(as_text=True)
    assert "2 reclamações" in listing
    # When the failure happened and how long each report has been open.
    assert "<th scope=\"col\">Falha em</th>" in listing and "Aberta há" in listing
    assert re.search(r"<td>(encerrada em )?\d+ (min|h|dias)</td>", listing)
    stats_page = client.get("/corregedoria/estatisticas?comarca=1").get_data(as_text=True)
    assert 'href="/transparencia?comarca=1"' in stats_page
    moved = client.post(f"/corregedoria/reclamacoes/{complaint_id}",
                        data={"status": "in_review", "note": "Verificando"})
    assert moved.status_code == 302
    # Refused: what was typed comes back (an answer may be long), nothing is recorded.
    answer = "Prezado reclamante, verificamos o ocorrido. " * 20
    illegal = client.post(f"/corregedoria/reclamacoes/{complaint_id}", data={
        "status": "new", "note": "Nota que não pode se perder", "public_answer": answer})
    page = illegal.get_data(as_text=True)
    assert illegal.status_code == 409 and "Nada foi registrado. Não é possível passar" in page
    assert f">{answer}</textarea>" in page  # exactly as typed
    assert ">Nota que não pode se perder</textarea>" in page
    too_long = client.post(f"/corregedoria/reclamacoes/{complaint_id}", data={
        "note": "x" * 4001, "public_answer": "Resposta curta"})
    page = too_long.get_data(as_text=True)
    assert too_long.status_code == 422 and 'id="note-erro"' in page
    assert re.search(r'id="note"[^>]*aria-invalid="true"', page)
    assert ">Resposta curta</textarea>" in page
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        assert complaint.status == "in_review" and complaint.public_answer is None
    stats = client.get("/corregedoria/estatisticas").get_data(as_text=True)
    assert stats.count('<figure class="chart">') == 5 and "Balcão Virtual" in stats


def test_every_unit_of_a_large_court_is_offered_and_named_on_the_desk(app, client, desk):
    """A court has hundreds of units: the public form offers every active one, grouped by
    comarca, and the desk names the unit of each complaint, the hundred-and-sixth too."""
    with app.app_context():
        many = [make_unit(f"Vara {n:03d} de Várzea Grande", "Várzea Grande",
                          office_email=f"vg{n}@example.jus.br") for n in range(105)]
        last = many[-1].id
        make_staff("corregedoria", "desk@example.jus.br")
        db.session.commit()
    form = client.get("/reclamacoes/nova").get_data(as_text=True)
    assert f'<option value="{last}"' in form and 'label="Comarca de Várzea Grande"' in form
    report(client, unit_id=last)
    client.log_in("desk@example.jus.br", PASSWORD)
    listing = client.get("/corregedoria").get_data(as_text=True)
    assert "<td>Vara 104 de Várzea Grande</td>" in listing
    assert f'<option value="{last}"' in listing


def test_weekly_digest_goes_once_a_week(app, client, desk):
    seed_known_set(app, client, desk)
    with app.app_context():
        assert service.weekly_digest() is True
        assert service.weekly_digest() is False
        db.session.commit()
        digest = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "complaint_digest")).one()
    assert digest.recipients == [app.config["CORREGEDORIA_EMAIL"]]
    assert "Em aberto" in digest.body_text


def test_attendance_statistics(app, client, desk):
    from tests.support.factories import make_rules

    with app.app_context():
        from booking.courts.models import Magistrate

        judge = db.session.scalars(select(Magistrate)).first()
        make_rules(judge)
        db.session.commit()
        judge_id = judge.id
    slots = client.get(f"/api/v1/magistrates/{judge_id}/slots").get_json()
    body = {"magistrate_id": judge_id, "start": slots[0]["start"], "mode": "video",
            "lawyer": {"name": "Maria Souza", "oab": "1/MT", "email": "m@example.com",
                       "phone": "(65) 99999-0000"},
            "case_number": "0001234-03.2026.8.11.0041", "subject": "Assunto", "consent": True}
    booked = client.post("/api/v1/bookings", headers=DIRECT, json=body).get_json()
    client.post(f"/api/v1/bookings/{booked['id']}/cancel", json={"reason": "Júri"},
                headers=bearer(desk["tokens"]["magistrate"]))
    client.post("/api/v1/bookings", headers=DIRECT, json={**body, "start": slots[1]["start"]})
    rows = client.get("/api/v1/attendance/stats", headers=bearer(desk["tokens"]["corregedoria"])).get_json()
    row = next(r for r in rows if r["magistrate_id"] == judge_id)
    assert row["slots_offered"] >= 2
    assert row["booked"] == 1 and row["cancelled_by_court"] == 1 and row["no_show"] == 0
    # From the data, not a bound: in the year-end recess the first open slot is weeks away.
    first_open = client.get(f"/api/v1/magistrates/{judge_id}/slots").get_json()[0]["start"]
    days_ahead = (datetime.fromisoformat(first_open) - datetime.now(UTC)).total_seconds() / 86400
    assert row["days_to_first_open_slot"] == pytest.approx(days_ahead, abs=0.06)


def test_rate_limit_on_the_public_form(database_url, tmp_path):
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True, COMPLAINT_RATE_LIMIT="2/minute")
    client = app.test_client()
    body = {"channel": "phone", "kind": "no_answer", "occurred_at": a_recent_failure(),
            "description": "Ninguém atende o telefone."}
    assert [client.post("/api/v1/complaints", json=body).status_code for _ in range(2)] == [201, 201]
    limited = client.post("/api/v1/complaints", json=body)
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0


def test_the_statistics_page_has_period_controls_and_exports_its_attendance(app, client, desk):
    from tests.support.factories import make_rules

    with app.app_context():
        from booking.courts.models import Magistrate

        make_rules(db.session.scalars(select(Magistrate)).first())
        make_staff("corregedoria", "desk@example.jus.br")
        db.session.commit()
    client.log_in("desk@example.jus.br", PASSWORD)
    today = datetime.now(timezone(timedelta(hours=-4))).date()
    first, last = today, today + timedelta(days=70)
    page = client.get(f"/corregedoria/estatisticas?de={first}&ate={last}").get_data(as_text=True)
    assert f'name="de" type="date" value="{first}"' in page
    assert f"({first:%d/%m/%Y} a {last:%d/%m/%Y})" in page
    link = re.search(r'href="(/corregedoria/estatisticas/atendimento\.csv\?[^"]+)"', page).group(1)
    export = client.get(link.replace("&amp;", "&"))
    assert export.status_code == 200 and export.mimetype == "text/csv"
    assert f"atendimento-{first}-a-{last}.csv" in export.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Unidade", "Magistrado(a)", "Horários oferecidos", "Agendados"]
    offered = {row[1]: int(row[2]) for row in rows[1:]}
    assert max(offered.values()) > 0  # the rules' slots in the chosen period
    # A shorter period offers fewer slots: the controls reach the table.
    short = client.get(f"/corregedoria/estatisticas/atendimento.csv?de={first}&ate={first}")
    short_rows = list(csv.reader(io.StringIO(short.data.decode("utf-8-sig")), delimiter=";"))
    assert sum(int(r[2]) for r in short_rows[1:]) < sum(offered.values())


def test_the_statistics_tables_follow_the_comarca_chosen(app, client, desk):
    """Filtered to a comarca, the attendance and urgent-request tables (and the CSV) are of
    that comarca's magistrates, as the charts above them are, not of the whole court."""
    with app.app_context():
        from booking.courts.models import Unit

        make_magistrate(unit=db.session.get(Unit, desk["sinop"]), name="Sônia de Sinop")
        make_staff("corregedoria", "desk@example.jus.br")
        sinop_comarca = db.session.get(Unit, desk["sinop"]).comarca_id
        db.session.commit()
    client.log_in("desk@example.jus.br", PASSWORD)
    whole = client.get("/corregedoria/estatisticas").get_data(as_text=True)
    assert "Sônia de Sinop" in whole and "1ª Vara Cível de Cuiabá" in whole
    page = client.get(f"/corregedoria/estatisticas?comarca={sinop_comarca}").get_data(as_text=True)
    assert "Atendimento oferecido pelos magistrados — Comarca de Sinop" in page
    assert "Sônia de Sinop" in page and "1ª Vara Cível de Cuiabá" not in page
    link = re.search(r'href="(/corregedoria/estatisticas/atendimento\.csv\?[^"]+)"', page).group(1)
    assert f"comarca={sinop_comarca}" in link
    rows = list(csv.reader(io.StringIO(client.get(link.replace("&amp;", "&")).data.decode(
        "utf-8-sig")), delimiter=";"))
    assert [row[0] for row in rows[1:]] == ["Vara Única de Sinop"]
    api = client.get(f"/api/v1/attendance/stats?comarca_id={desk['cuiaba_comarca']}",
                     headers=bearer(desk["tokens"]["corregedoria"])).get_json()
    assert {row["unit"] for row in api} == {"1ª Vara Cível de Cuiabá"}


def test_the_desk_shows_who_is_in_charge_and_a_departed_reviewer_leaves_no_reply_unread(
        app, client, desk):
    """Reviewers find the complaints in their charge (and those of nobody) on the desk; the
    reporter's replies go to the person in charge, or to the Corregedoria's address once that
    account is deactivated; a deactivated account cannot be given a complaint, and the one
    still in charge of some shows on its form as chosen, not as "—"."""
    filed = [report(client) for _ in range(3)]
    mine, theirs, nobodys = (f["protocol"] for f in filed)
    with app.app_context():
        ana = make_staff("corregedoria", "ana@example.jus.br", name="Ana Revisora")
        bia = make_staff("corregedoria", "bia@example.jus.br", name="Bia Revisora")
        db.session.commit()
        ids = {p: db.session.scalar(select(Complaint.id).where(Complaint.protocol == p))
               for p in (mine, theirs, nobodys)}
        people = {"ana": ana.id, "bia": bia.id}
    client.log_in("ana@example.jus.br", PASSWORD)
    for protocol, person in ((mine, "ana"), (theirs, "bia")):
        assert client.post(f"/corregedoria/reclamacoes/{ids[protocol]}", data={
            "assigned_to_id": str(people[person])}).status_code == 302

    def listed(query: str) -> set[str]:
        page = client.get("/corregedoria?" + query).get_data(as_text=True)
        return set(re.findall(r">(RC-\d{4}-\d{6})</a>", page))

    history = client.get(f"/corregedoria/reclamacoes/{ids[theirs]}").get_data(as_text=True)
    assert "Responsável a partir daqui: Bia Revisora" in history
    staff_view = client.get(f"/api/v1/complaints/{ids[theirs]}",
                            headers=bearer(desk["tokens"]["corregedoria"])).get_json()
    assert [e["assigned_to"] for e in staff_view["history"]] == [None, "bia@example.jus.br"]
    assert listed("responsavel=eu") == {mine}
    assert listed(f"responsavel={people['bia']}") == {theirs}
    assert listed("responsavel=nenhum") == {nobodys}
    assert listed("") == {mine, theirs, nobodys}
    desk_page = client.get("/corregedoria").get_data(as_text=True)
    assert '<th scope="col">Responsável</th>' in desk_page
    assert re.search(rf'>{mine}</a></td>(.(?!</tr>))*<td>Ana Revisora</td>', desk_page, re.S)
    bad = client.get("/corregedoria?responsavel=alguem").get_data(as_text=True)
    assert "Filtros inválidos ignorados: Responsável." in bad
    exported = client.get("/corregedoria/exportar.json?responsavel=eu").get_json()
    assert [c["protocol"] for c in exported] == [mine]
    api = client.get("/api/v1/complaints", query_string={"unassigned": "true"},
                     headers=bearer(desk["tokens"]["corregedoria"]))
    assert [c["protocol"] for c in api.get_json()] == [nobodys]

    with app.app_context():  # Bia leaves the Corregedoria
        db.session.get(User, people["bia"]).is_active = False
        db.session.commit()
    for complaint in filed[:2]:  # the reporters of Ana's and of Bia's complaints write
        assert client.post(f"/api/v1/complaints/{complaint['protocol']}/messages?token="
                           f"{complaint['follow_code']}", content_type="multipart/form-data",
                           data={"message": "Mais um detalhe."}).status_code == 201
    with app.app_context():
        told = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "complaint_reply").order_by(OutboxMessage.id)).all()
        assert [m.recipients for m in told] == [["ana@example.jus.br"],
                                                [app.config["CORREGEDORIA_EMAIL"]]]
    refused = client.post(f"/corregedoria/reclamacoes/{ids[nobodys]}", data={
        "assigned_to_id": str(people["bia"]), "note": "Para a Bia"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Esta conta está desativada" in page
    assert ">Para a Bia</textarea>" in page
    form = client.get(f"/corregedoria/reclamacoes/{ids[theirs]}").get_data(as_text=True)
    assert re.search(rf'<option value="{people["bia"]}" selected>Bia Revisora '
                     r'\(conta desativada\)</option>', form)
    # saving the form as it comes (her still chosen) keeps her in charge: nothing moved unasked
    assert client.post(f"/corregedoria/reclamacoes/{ids[theirs]}", data={
        "assigned_to_id": str(people["bia"]), "note": "Aguardando"}).status_code == 302
    with app.app_context():
        assert db.session.get(Complaint, ids[theirs]).assigned_to_id == people["bia"]
        steps = db.session.scalars(select(ComplaintEvent.assigned_to_id).where(
            ComplaintEvent.complaint_id == ids[theirs]).order_by(ComplaintEvent.id)).all()
        assert steps == [None, people["bia"], None, None]  # filed, given, the reply, kept
    # The desk's filter still offers her, marked: her complaints are found from the select.
    desk_page = client.get("/corregedoria").get_data(as_text=True)
    options = re.search(r'<select id="f-assignee".*?</select>', desk_page, re.S).group(0)
    offered = re.findall(r"<option[^>]*>([^<]+)</option>", options)
    assert offered[:3] == ["Todos", "Comigo", "Sem responsável"]
    assert {"Ana Revisora", "Bia Revisora (conta desativada)"} <= set(offered[3:])
    assert "Bia Revisora" not in offered


def test_the_desk_forwards_a_complaint_to_the_unit_office(app, client, desk):
    filed = report(client, unit_id=desk["sinop"])
    no_unit = report(client)
    headers = bearer(desk["tokens"]["corregedoria"])
    listed = {c["protocol"]: c["id"] for c in client.get("/api/v1/complaints",
                                                          headers=headers).get_json()}
    with app.app_context():
        make_staff("corregedoria", "desk@example.jus.br")
        db.session.commit()
    client.log_in("desk@example.jus.br", PASSWORD)
    complaint_id = listed[filed["protocol"]]
    detail = client.get(f"/corregedoria/reclamacoes/{complaint_id}").get_data(as_text=True)
    assert "Encaminhar por e-mail" in detail and "snp@example.jus.br" in detail
    sent = client.post(f"/corregedoria/reclamacoes/{complaint_id}/encaminhar",
                       data={"forward_message": "Verifiquem o link da sala, por favor."})
    assert sent.status_code == 302
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "complaint_forward"))
        assert message.recipients == ["snp@example.jus.br"]
        assert filed["protocol"] in message.subject
        assert "O Balcão Virtual não abriu" in message.body_text
        assert "Verifiquem o link da sala" in message.body_text
        # The unit needs the failure, not the person.
        assert "José Cidadão" not in message.body_text and "jose@example.com" not in (
            message.body_text)
    history = client.get(f"/corregedoria/reclamacoes/{complaint_id}").get_data(as_text=True)
    assert "Encaminhada à secretaria da unidade (snp@example.jus.br)" in history
    public = client.get(f"/api/v1/complaints/{filed['protocol']}?token={filed['lookup_token']}")
    assert "Encaminhada" not in public.get_data(as_text=True)  # an internal note
    # Without a unit (or an office e-mail) there is nowhere to send it.
    refused = client.post(f"/api/v1/complaints/{listed[no_unit['protocol']]}/forward",
                          headers=headers, json={})
    assert refused.status_code == 422
    api = client.post(f"/api/v1/complaints/{complaint_id}/forward", headers=headers,
                      json={"message": "De novo."})
    assert api.status_code == 200 and "De novo." in api.get_json()["history"][-1]["note"]


def test_a_failure_reported_without_its_hour_is_never_shown_at_midnight(app, client, desk):
    """The form's hour is optional: a report with the day only says so wherever the
    Corregedoria reads it (its page, the desk, the CSV, the unit's e-mail, the API)."""
    day = datetime.fromisoformat(a_recent_failure()).date()
    filed = client.post("/reclamacoes/nova", data={
        "channel": "phone", "kind": "no_answer", "unit_id": str(desk["sinop"]),
        "description": "Ninguém atendeu o telefone.", "occurred_day": day.isoformat(),
        "occurred_time": ""})
    assert filed.status_code == 302
    # Through the API, the day only: whatever hour is sent, the day's start in Cuiabá.
    report(client, occurred_at=f"{day.isoformat()}T23:30:00-04:00", occurred_time_known=False)
    with_hour = report(client, occurred_at=f"{day.isoformat()}T00:00:00-04:00")
    with app.app_context():
        complaints = [(c.id, c.protocol, c.occurred_at, c.occurred_time_known) for c in
                      db.session.scalars(select(Complaint).order_by(Complaint.id))]
        make_staff("corregedoria", "desk@example.jus.br")
        db.session.commit()
    midnight = datetime(day.year, day.month, day.day, 4, 0, tzinfo=UTC)  # 00:00 in Cuiabá
    assert [when for _, _, *when in complaints] == [
        [midnight, False], [midnight, False], [midnight, True]]
    first_id, first_protocol = complaints[0][:2]
    shown = f"{day:%d/%m/%Y}, hora não informada"
    headers = bearer(desk["tokens"]["corregedoria"])
    listed = client.get("/api/v1/complaints", headers=headers).get_json()
    assert sorted(c["occurred_time_known"] for c in listed) == [False, False, True]
    client.log_in("desk@example.jus.br", PASSWORD)
    desk_page = client.get("/corregedoria").get_data(as_text=True)
    assert desk_page.count(f"<td>{shown}</td>") == 2
    assert desk_page.count(f"<td>{day:%d/%m/%Y} 00:00</td>") == 1  # a midnight given as such
    detail = client.get(f"/corregedoria/reclamacoes/{first_id}").get_data(as_text=True)
    assert f"<dd>{shown}</dd>" in detail
    rows = list(csv.reader(io.StringIO(client.get(
        "/api/v1/complaints/export.csv", headers=headers).data.decode("utf-8-sig")),
        delimiter=";"))
    by_protocol = {row[0]: row[6] for row in rows[1:]}
    assert by_protocol[first_protocol] == f"{day:%d/%m/%Y}"
    assert by_protocol[with_hour["protocol"]] == f"{day:%d/%m/%Y} 00:00"
    client.post(f"/corregedoria/reclamacoes/{first_id}/encaminhar", data={})
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "complaint_forward"))
        assert f"Quando: {shown}" in message.body_text
    # The day is what is checked: today counts whatever hour came with it, a later day never
    # (the day after tomorrow: tomorrow's start is within the five minutes' grace at 23:56).
    today = utcnow().astimezone(ZoneInfo("America/Cuiaba")).date()
    report(client, occurred_at=f"{today.isoformat()}T23:59:00-04:00", occurred_time_known=False)
    later = client.post("/api/v1/complaints", json={
        "channel": "phone", "kind": "no_answer", "description": "Ninguém atendeu o telefone.",
        "occurred_at": f"{today + timedelta(days=2)}T00:01:00-04:00",
        "occurred_time_known": False})
    assert later.status_code == 422
    assert later.get_json()["errors"]["occurred_at"] == [
        "A data da falha não pode estar no futuro."]
