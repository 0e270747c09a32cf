"""Complaints with evidence and a conversation: files on the form and the API, checked by
content and kept clean outside the web root, served only to the reporter and the
Corregedoria, removed with the reporter's data; the Corregedoria's question and the
reporter's answer. Real files made in the tests (tests/support/files.py)."""

import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from booking.complaints import service
from booking.complaints.attachments import CleanFile
from booking.complaints.models import Complaint, ComplaintAttachment
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.privacy.service import anonymize_expired
from tests.support.factories import (
    PASSWORD,
    a_recent_failure,
    bearer,
    make_magistrate,
    make_staff,
    staff_token,
)
from tests.support.files import huge_png_header, pdf, photo, screenshot, zip_archive

DESCRIPTION = "A chamada do Balcão Virtual caiu três vezes seguidas às 14h."


class KeptFiles:
    """What the configured store holds, seen from outside the service."""

    def __init__(self, folder: Path | None = None, s3=None, prefix: str = ""):
        self.folder, self.s3, self.prefix = folder, s3, prefix

    def contents(self) -> dict[str, bytes]:
        """Each kept file's own name (the last part of its key) and bytes."""
        if self.s3 is None:
            return {p.name: p.read_bytes() for p in self.folder.rglob("*") if p.is_file()} \
                if self.folder.exists() else {}
        client, bucket = self.s3
        listed = client.list_objects_v2(Bucket=bucket, Prefix=self.prefix).get("Contents", [])
        return {item["Key"].rsplit("/", 1)[-1]: client.get_object(
            Bucket=bucket, Key=item["Key"])["Body"].read() for item in listed}

    def remove_all(self) -> None:
        if self.s3 is None:
            for path in self.folder.rglob("*"):
                if path.is_file():
                    path.unlink()
            return
        client, bucket = self.s3
        for name in client.list_objects_v2(Bucket=bucket, Prefix=self.prefix).get("Contents", []):
            client.delete_object(Bucket=bucket, Key=name["Key"])


@pytest.fixture(scope="module")
def s3_server():
    from tests.support.s3_server import S3Server

    with S3Server() as server:
        yield server


@pytest.fixture(params=["local", "s3"])
def store(request, app, tmp_path) -> KeptFiles:
    """This test's own place for kept files: a folder, or a prefix in a bucket of a real
    S3-compatible server on loopback."""
    if request.param == "local":
        folder = tmp_path / "anexos"
        app.config["COMPLAINT_FILES_DIR"] = str(folder)
        return KeptFiles(folder=folder)
    import boto3

    server = request.getfixturevalue("s3_server")
    prefix = f"{tmp_path.name}/"
    app.config.update(server.settings(), COMPLAINT_S3_PREFIX=prefix)
    client = boto3.client("s3", endpoint_url=server.url, region_name="us-east-1",
                          aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
    return KeptFiles(s3=(client, server.bucket), prefix=prefix)


def kept_files(store: KeptFiles) -> list[bytes]:
    return list(store.contents().values())


def form_fields(**overrides) -> dict:
    day, hour = a_recent_failure()[:10], a_recent_failure()[11:16]
    fields = {"channel": "virtual_counter", "kind": "connection_drop", "occurred_day": day,
              "occurred_time": hour, "description": DESCRIPTION,
              "reporter_name": "Maria Cidadã", "reporter_email": "maria@example.com"}
    fields.update(overrides)
    return fields


def upload(content: bytes, name: str, content_type: str = "application/octet-stream"):
    return (io.BytesIO(content), name, content_type)


def complaint_json(**overrides) -> str:
    import json

    body = {"channel": "virtual_counter", "kind": "unavailable", "occurred_at": a_recent_failure(),
            "description": DESCRIPTION, "reporter": {"email": "maria@example.com"}}
    body.update(overrides)
    return json.dumps(body)


def api_file(client, *uploads, **overrides):
    return client.post("/api/v1/complaints", content_type="multipart/form-data",
                       data={"complaint": complaint_json(**overrides), "files": list(uploads)})


def test_a_citizen_files_with_a_screenshot_and_a_photo_kept_without_gps(app, client, store):
    response = client.post("/reclamacoes/nova", content_type="multipart/form-data", data={
        **form_fields(), "anexos": [upload(screenshot(), "Captura de tela.png", "image/png"),
                                    upload(photo("JPEG"), "IMG_2031.JPG", "image/jpeg")]})
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        complaint = db.session.scalar(select(Complaint))
        kept = db.session.scalars(select(ComplaintAttachment).order_by(ComplaintAttachment.id)).all()
        assert [(a.name, a.content_type) for a in kept] == [
            ("Captura de tela.png", "image/png"), ("IMG_2031.jpg", "image/jpeg")]
        assert {a.event_id for a in kept} == {complaint.events[0].id}
    stored = store.contents()
    assert len(stored) == 2
    for name, content in stored.items():  # random names, no EXIF, no GPS
        assert re.fullmatch(r"[0-9a-f]{32}", name)
        assert not Image.open(io.BytesIO(content)).getexif() and b"Samsung" not in content
    if store.folder:  # outside the web root
        assert "static" not in store.folder.parts


@pytest.mark.parametrize("uploads, status, message", [
    (lambda: [upload(screenshot(), f"tela{i}.png") for i in range(4)], 422,
     "no máximo 3 arquivos"),
    (lambda: [upload(zip_archive(), "documento.pdf")], 422,
     "documento.pdf: o tipo do arquivo não é aceito"),
    (lambda: [upload(pdf(javascript=True), "peticao.pdf")], 422,
     "peticao.pdf: o PDF contém scripts"),
    (lambda: [upload(screenshot(), "../../tela.png")], 422, "../../tela.png: o nome do arquivo"),
    (lambda: [upload(screenshot() + zip_archive(), "tela.png")], 422,
     "tela.png: o arquivo traz outro"),
    (lambda: [upload(photo("JPEG")[:4000], "foto.jpg")], 422,
     "foto.jpg: a imagem está corrompida ou incompleta"),
    (lambda: [upload(huge_png_header(), "bomba.png")], 422, "bomba.png: a imagem tem pixels demais"),
    (lambda: [upload(b"<html><script>alert(1)</script>", "tela.png", "image/png")], 422,
     "tela.png: o tipo do arquivo não é aceito"),
    (lambda: [upload(b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024 + 1), "grande.pdf")], 413,
     "grande.pdf: o arquivo passa de 5 MB"),
], ids=["four-files", "zip-named-pdf", "pdf-with-script", "climbing-name", "polyglot",
        "truncated-image", "decompression-bomb", "lying-type", "too-large"])
def test_a_refused_file_keeps_nothing_and_loses_nothing_typed(app, client, store, uploads,
                                                              status, message):
    response = client.post("/reclamacoes/nova", content_type="multipart/form-data",
                           data={**form_fields(), "anexos": uploads()})
    page = response.get_data(as_text=True)
    assert response.status_code == status
    error = re.search(r'<p class="field-error" id="anexos-erro" role="alert">([^<]*)</p>', page)
    assert error and message in error.group(1).replace("&#34;", '"').replace("&#39;", "'")
    assert DESCRIPTION in page and 'value="maria@example.com"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    assert kept_files(store) == []


def test_files_that_were_fine_are_asked_again_when_another_field_is_wrong(app, client, store):
    response = client.post("/reclamacoes/nova", content_type="multipart/form-data", data={
        **form_fields(description="curta"), "anexos": [upload(screenshot(), "tela.png")]})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="description-erro"' in page
    assert "escolha-os de novo" in page
    assert kept_files(store) == []


def test_the_api_takes_files_in_multipart_and_refuses_with_problem_json(app, client, store):
    app.config["COMPLAINT_MAX_FILE_BYTES"] = 200_000
    filed = api_file(client, upload(screenshot(), "tela.png"), upload(pdf(), "protocolo.pdf"))
    assert filed.status_code == 201, filed.get_json()
    four = api_file(client, *[upload(screenshot(), f"t{i}.png") for i in range(4)])
    assert four.status_code == 422 and four.mimetype == "application/problem+json"
    assert four.get_json()["errors"]["files"] == ["Envie no máximo 3 arquivos (4 enviados)."]
    big = api_file(client, upload(b"%PDF-1.7\n" + b"0" * 250_000, "grande.pdf"))
    assert big.status_code == 413 and big.mimetype == "application/problem+json"
    assert big.get_json()["errors"]["files"][0].startswith("grande.pdf: o arquivo passa de")
    body = api_file(client, *[upload(b"%PDF-1.7\n" + b"0" * 190_000, f"p{i}.pdf")
                              for i in range(5)])  # over 3 x 200 kB + 256 kB, unread
    assert body.status_code == 413 and body.mimetype == "application/problem+json"
    bad_json = client.post("/api/v1/complaints", content_type="multipart/form-data",
                           data={"complaint": "{não é json"})
    assert bad_json.status_code == 400
    missing = client.post("/api/v1/complaints", content_type="multipart/form-data",
                          data={"complaint": complaint_json(description="curta")})
    assert missing.status_code == 422 and "description" in missing.get_json()["errors"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 1
        assert db.session.scalar(select(func.count()).select_from(ComplaintAttachment)) == 2
    assert len(kept_files(store)) == 2
    # JSON without files is as before, and keeps its small body limit.
    assert client.post("/api/v1/complaints", data=complaint_json(),
                       content_type="application/json").status_code == 201


def test_files_are_served_only_to_the_reporter_and_the_corregedoria(app, client, store):
    first = api_file(client, upload(photo("JPEG"), "foto.jpg")).get_json()
    other = api_file(client, upload(screenshot(), "outra.png")).get_json()
    lookup = client.get(f"/api/v1/complaints/{first['protocol']}?token={first['follow_code']}")
    attachment = lookup.get_json()["history"][0]["attachments"][0]
    assert attachment["name"] == "foto.jpg" and attachment["content_type"] == "image/jpeg"
    with app.app_context():
        other_id = db.session.scalar(select(ComplaintAttachment.id).where(
            ComplaintAttachment.name == "outra.png"))
    page_url = f"/reclamacoes/anexos/{attachment['id']}?protocolo={first['protocol']}"
    served = client.get(f"{page_url}&token={first['lookup_token']}")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert Image.open(io.BytesIO(served.data)).format == "JPEG"
    assert client.get(f"{page_url}&token=ERRADO-00").status_code == 404
    # Another complaint's file is not reachable with this complaint's code.
    assert client.get(f"/reclamacoes/anexos/{other_id}?protocolo={first['protocol']}"
                      f"&token={first['lookup_token']}").status_code == 404
    api_url = f"/api/v1/complaints/{first['protocol']}/attachments/{attachment['id']}"
    assert client.get(f"{api_url}?token={first['follow_code']}").status_code == 200
    assert client.get(f"{api_url}?token={other['lookup_token']}").status_code == 404
    with app.app_context():
        corregedoria = staff_token(make_staff("corregedoria"))
        magistrate = staff_token(make_staff("magistrate", "juiz@example.jus.br",
                                            magistrate_id=make_magistrate().id))
        db.session.commit()
        complaint_id = db.session.scalar(select(Complaint.id).where(
            Complaint.protocol == first["protocol"]))
    staff_url = f"/api/v1/complaints/{complaint_id}/attachments/{attachment['id']}"
    assert client.get(staff_url, headers=bearer(corregedoria)).status_code == 200
    assert client.get(staff_url, headers=bearer(magistrate)).status_code == 403
    assert client.get(staff_url).status_code == 401
    assert client.get(f"/api/v1/complaints/{complaint_id}/attachments/{other_id}",
                      headers=bearer(corregedoria)).status_code == 404


def test_the_corregedoria_asks_and_the_reporter_answers_with_a_file(app, client, store):
    filed = api_file(client, upload(screenshot(), "tela.png")).get_json()
    with app.app_context():
        make_staff("corregedoria", "desk@example.jus.br")
        db.session.commit()
        complaint_id = db.session.scalar(select(Complaint.id))
    staff = app.test_client()
    staff.log_in("desk@example.jus.br", PASSWORD)
    detail = staff.get(f"/corregedoria/reclamacoes/{complaint_id}").get_data(as_text=True)
    assert f"/corregedoria/reclamacoes/{complaint_id}/anexos/" in detail
    asked = staff.post(f"/corregedoria/reclamacoes/{complaint_id}", data={
        "status": "in_review", "note": "Verificar os registros do servidor.",
        "question": "Qual navegador você usava quando a chamada caiu?"})
    assert asked.status_code == 302
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "complaint_update").order_by(OutboxMessage.id.desc())).first()
    assert "a Corregedoria tem uma pergunta" in message.subject
    assert "Qual navegador você usava" in message.body_text
    link = re.search(r"https?://\S+/reclamacoes/acompanhar\?\S+", message.body_text).group(0)
    follow_path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get("/" + follow_path).get_data(as_text=True)
    assert "Qual navegador você usava" in page and "Verificar os registros" not in page
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    answered = client.post("/reclamacoes/acompanhar/responder", content_type="multipart/form-data",
                           data={"protocolo": filed["protocol"], "token": token,
                                 "message": "Chrome no celular.",
                                 "anexos": [upload(pdf(), "registro.pdf")]})
    assert answered.status_code == 302
    history = client.get(answered.headers["Location"]).get_data(as_text=True)
    assert "Você escreveu" in history and "Chrome no celular." in history
    assert "registro.pdf" in history and "tela.png" in history
    with app.app_context():
        told = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "complaint_reply"))
        assert told.recipients == [app.config["CORREGEDORIA_EMAIL"]]
    detail = staff.get(f"/corregedoria/reclamacoes/{complaint_id}").get_data(as_text=True)
    assert "Chrome no celular." in detail and "registro.pdf" in detail
    # Nothing to say and no file: the message says what is missing.
    empty = client.post("/reclamacoes/acompanhar/responder", data={
        "protocolo": filed["protocol"], "token": token, "message": " "})
    assert empty.status_code == 422 and "Escreva sua mensagem" in empty.get_data(as_text=True)
    staff.post(f"/corregedoria/reclamacoes/{complaint_id}", data={
        "status": "resolved", "public_answer": "Corrigimos o servidor de vídeo."})
    closed = client.post(f"/api/v1/complaints/{filed['protocol']}/messages?token={token}",
                         json={"message": "Obrigada!"})
    assert closed.status_code == 409


def test_the_api_conversation(app, client, store):
    filed = api_file(client).get_json()
    with app.app_context():
        token = staff_token(make_staff("corregedoria"))
        db.session.commit()
        complaint_id = db.session.scalar(select(Complaint.id))
    asked = client.patch(f"/api/v1/complaints/{complaint_id}", headers=bearer(token),
                         json={"question": "Em que horário exatamente?", "note": "interno"})
    assert asked.status_code == 200
    reply = client.post(f"/api/v1/complaints/{filed['protocol']}/messages?token="
                        f"{filed['follow_code']}", content_type="multipart/form-data",
                        data={"message": "Às 14h10.", "files": [upload(screenshot(), "t.png")]})
    assert reply.status_code == 201, reply.get_json()
    assert reply.get_json()["reporter_message"] == "Às 14h10."
    public = client.get(f"/api/v1/complaints/{filed['protocol']}?token={filed['lookup_token']}")
    history = public.get_json()["history"]
    assert [e.get("question") or e.get("reporter_message") for e in history] == [
        None, "Em que horário exatamente?", "Às 14h10."]
    assert "interno" not in public.get_data(as_text=True)
    staff_view = client.get(f"/api/v1/complaints/{complaint_id}", headers=bearer(token)).get_json()
    assert staff_view["history"][1]["note"] == "interno"
    assert staff_view["history"][2]["attachments"][0]["name"] == "t.png"
    wrong = client.post(f"/api/v1/complaints/{filed['protocol']}/messages?token=x",
                        json={"message": "oi"})
    assert wrong.status_code == 404
    # A question needs an address to reach the reporter.
    anonymous = api_file(client, reporter=None).get_json()
    with app.app_context():
        anonymous_id = db.session.scalar(select(Complaint.id).where(
            Complaint.protocol == anonymous["protocol"]))
    no_address = client.patch(f"/api/v1/complaints/{anonymous_id}", headers=bearer(token),
                              json={"question": "Pode detalhar?"})
    assert no_address.status_code == 422 and "question" in no_address.get_json()["errors"]


def test_a_failed_transaction_leaves_no_file_behind(app, store):
    with app.app_context():
        data = {"channel": "phone", "kind": "no_answer", "occurred_at": utcnow(),
                "description": DESCRIPTION}
        clean = CleanFile("tela.png", "image/png", screenshot())
        service.file_complaint(data, evidence=[clean])
        assert len(kept_files(store)) == 1
        db.session.rollback()
        assert kept_files(store) == []
        service.file_complaint(data, evidence=[clean])
        db.session.commit()
        assert len(kept_files(store)) == 1


def test_retention_removes_the_files_with_the_reporters_data(app, client, store):
    filed = api_file(client, upload(screenshot(), "tela.png")).get_json()
    assert len(kept_files(store)) == 1
    with app.app_context():
        complaint = db.session.scalar(select(Complaint))
        complaint.status, complaint.closed_at = "resolved", utcnow() - timedelta(days=400)
        db.session.commit()
        counts = anonymize_expired()
        db.session.commit()
        assert counts["complaints"] == 1
        assert db.session.scalar(select(func.count()).select_from(ComplaintAttachment)) == 0
    assert kept_files(store) == []
    public = client.get(f"/api/v1/complaints/{filed['protocol']}?token={filed['lookup_token']}")
    assert public.status_code == 200 and all(not e["attachments"]
                                             for e in public.get_json()["history"])


def test_a_kept_file_gone_from_the_disk_answers_404(app, client, store):
    filed = api_file(client, upload(screenshot(), "tela.png")).get_json()
    store.remove_all()
    with app.app_context():
        attachment_id = db.session.scalar(select(ComplaintAttachment.id))
    assert client.get(f"/reclamacoes/anexos/{attachment_id}?protocolo={filed['protocol']}"
                      f"&token={filed['lookup_token']}").status_code == 404


def test_limits_are_said_beside_the_field(client):
    page = client.get("/reclamacoes/nova").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page
    assert "Até 3 arquivos de até 5 MB cada" in page and 'data-max-files="3"' in page


def test_a_store_that_fails_keeps_nothing_and_says_so(app, client, tmp_path):
    """The bucket is unreachable (a store on a closed loopback port): 503 in Portuguese, no
    complaint, and the page keeps what was typed."""
    from tests.support.postgres import free_port

    app.config.update(COMPLAINT_FILES_STORE="s3", COMPLAINT_S3_BUCKET="anexos",
                      COMPLAINT_S3_ENDPOINT=f"http://127.0.0.1:{free_port()}",
                      COMPLAINT_S3_ACCESS_KEY="x", COMPLAINT_S3_SECRET_KEY="y",
                      COMPLAINT_S3_REGION="us-east-1")
    page = client.post("/reclamacoes/nova", content_type="multipart/form-data", data={
        **form_fields(), "anexos": [upload(screenshot(), "tela.png")]})
    assert page.status_code == 503 and DESCRIPTION in page.get_data(as_text=True)
    assert "Não foi possível guardar ou ler os anexos agora" in page.get_data(as_text=True)
    api = api_file(client, upload(screenshot(), "tela.png"))
    assert api.status_code == 503 and api.mimetype == "application/problem+json"
    assert "Não foi possível guardar ou ler os anexos" in api.get_json()["detail"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Complaint)) == 0
    # Reading a kept file while the store is away: the same 503, not an error page.
    app.config["COMPLAINT_FILES_STORE"] = "local"
    filed = api_file(client, upload(screenshot(), "tela.png")).get_json()
    with app.app_context():
        attachment_id = db.session.scalar(select(ComplaintAttachment.id))
    app.config["COMPLAINT_FILES_STORE"] = "s3"
    away = client.get(f"/reclamacoes/anexos/{attachment_id}?protocolo={filed['protocol']}"
                      f"&token={filed['lookup_token']}")
    assert away.status_code == 503 and "anexos" in away.get_data(as_text=True)
