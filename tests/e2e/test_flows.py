"""The three journeys of the people who use the service, in a real browser."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from booking.bookings.models import Booking
from booking.database import utcnow
from booking.extensions import db
from tests.e2e.conftest import fits_the_screen, loopback_context, sign_in
from tests.support.factories import DIRECT


def fill_booking_form(page, *, name, oab, email, phone, case_number, subject):
    page.get_by_label("Nome completo").fill(name)
    page.get_by_label("Número da OAB").fill(oab)
    page.get_by_label(re.compile(r"^E-mail\b")).fill(email)
    page.get_by_label("Telefone").fill(phone)
    page.get_by_label("Número do processo (CNJ)").fill(case_number)
    page.get_by_label("Assunto do atendimento").fill(subject)
    page.get_by_label(re.compile("Concordo com o uso dos dados")).check()


def test_a_lawyer_books_reschedules_and_cancels(site, page, snap):
    page.goto(site.url + "/")
    page.select_option("#comarca", "Cuiabá")
    page.get_by_role("button", name="Buscar").click()
    snap(page, "portal")
    page.get_by_role("link", name="1ª Vara Cível de Cuiabá").click()
    page.get_by_role("link", name=re.compile("Ana Cristina")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda de atendimento")
    page.get_by_role("link", name="Próxima semana →").click()
    snap(page, "agenda")
    page.locator("a.slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agendar atendimento")
    fill_booking_form(page, name="Maria Aparecida Souza", oab="12345/MT",
                      email="maria.advogada@example.com", phone="(65) 99999-0000",
                      case_number="0001234-04.2026.8.11.0041",
                      subject="Pedido de tutela de urgência")
    page.get_by_role("button", name="Confirmar agendamento").click()
    expect(page.locator("#case_number-erro")).to_contain_text("dígitos verificadores")
    snap(page, "numero-errado")
    page.get_by_label("Número do processo (CNJ)").fill("0001234-03.2026.8.11.0041")
    page.get_by_label(re.compile("Concordo com o uso dos dados")).check()
    page.get_by_role("button", name="Confirmar agendamento").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirme seu agendamento")
    snap(page, "codigo")
    page.get_by_label("Código recebido por e-mail").fill("000000")  # a typo first
    page.get_by_role("button", name="Confirmar agendamento").click()
    expect(page.locator("#code-erro")).to_contain_text("Código incorreto")
    page.get_by_label("Código recebido por e-mail").fill(site.emailed_code("maria.advogada@example.com"))
    page.get_by_role("button", name="Confirmar agendamento").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Atendimento agendado")
    snap(page, "confirmacao")
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Baixar convite")).click()
    ics = open(download.value.path(), encoding="utf-8").read()
    assert "BEGIN:VCALENDAR" in ics and "METHOD:REQUEST" in ics

    site.deliver_mail()
    to_lawyer = [r for r in site.smtp.to("maria.advogada@example.com")
                 if "agendado" in r.message["Subject"]]
    assert len(to_lawyer) == 1
    text = to_lawyer[0].message.get_body(("plain",)).get_content()
    manage_link = re.search(r"(http://\S+/agendamentos/\d+\?token=\S+)", text).group(1)
    page.goto(manage_link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Seu atendimento")
    with site.app.app_context():  # the magistrate opens four months ahead
        from booking.availability import service as availability
        from booking.availability.api import availability_document
        from booking.courts.models import Magistrate

        judge = db.session.get(Magistrate, 1)
        availability.replace_rules(judge, {**availability_document(judge), "horizon_days": 120},
                                   None)
        db.session.commit()
    page.get_by_role("link", name="Remarcar").click()
    snap(page, "remarcar")
    # The agenda's week view, walked week by week to a time eight weeks ahead.
    eight_weeks = utcnow() + timedelta(weeks=8)
    far = None
    for _ in range(20):
        starts = [value for value in page.locator("input[name=start]").evaluate_all(
            "inputs => inputs.map(i => i.value)") if datetime.fromisoformat(value) >= eight_weeks]
        if starts:
            far = starts[0]
            break
        page.get_by_role("link", name="Próxima semana →").click()
    assert far is not None, "the reschedule page does not reach eight weeks ahead"
    page.locator(f'input[name=start][value="{far}"]').check()
    page.get_by_role("button", name="Remarcar para o horário escolhido").click()
    expect(page.locator(".flash-success")).to_contain_text("remarcado")
    site.deliver_mail()  # the scheduler's run between the two changes (else the newer wins)
    page.get_by_role("link", name="Cancelar").click()
    page.get_by_label("Motivo (opcional)").fill("As partes fizeram acordo.")
    page.get_by_role("button", name="Confirmar o cancelamento").click()
    expect(page.locator(".flash-success")).to_contain_text("cancelado")
    expect(page.locator(".summary")).to_contain_text("Cancelado")
    snap(page, "cancelado")
    site.deliver_mail()
    subjects = [r.message["Subject"] for r in site.smtp.to("maria.advogada@example.com")]
    assert [s.split(":")[0].split(" com ")[0] for s in subjects] == [
        "Confirme seu agendamento", "Atendimento agendado", "Atendimento remarcado",
        "Atendimento cancelado"]


def log_in(page, site, email, password):
    sign_in(page, site, email, password)


def test_on_a_phone_a_lawyer_holds_a_time_and_confirms_it_from_the_email(site, browser):
    """The held-then-confirmed journey on a phone: the form, the e-mail read from the SMTP
    server, its link opened on the phone, one press; nothing is sent to the court before."""
    phone = loopback_context(browser, viewport={"width": 375, "height": 740}, is_mobile=True,
                             has_touch=True)
    page = phone.new_page()
    try:
        page.goto(site.url + "/magistrados/1/agenda")  # opens on the week of the first open time
        page.locator("a.slot").first.tap()
        fill_booking_form(page, name="Joana Celular", oab="55555/MT", email="joana@example.com",
                          phone="(65) 98888-7777", case_number="0001234-03.2026.8.11.0041",
                          subject="Audiência de conciliação")
        page.get_by_role("button", name="Confirmar agendamento").tap()
        expect(page.get_by_role("heading", level=1)).to_have_text("Confirme seu agendamento")
        assert fits_the_screen(page)
        site.deliver_mail()
        [email] = [r for r in site.smtp.to("joana@example.com")]  # the code, and nothing else
        assert email.message["Subject"].startswith("Confirme seu agendamento")
        assert not [r for r in site.smtp.received if "Joana" in r.raw.decode(errors="ignore")
                    and "joana@example.com" not in r.rcpt_tos]  # the court hears nothing yet
        text = email.message.get_body(("plain",)).get_content()
        link = re.search(r"(http://\S+/agendamentos/\d+/confirmar\?\S+)", text).group(1)
        page.goto(link)
        page.get_by_role("button", name="Confirmar agendamento").tap()
        expect(page.get_by_role("heading", level=1)).to_have_text("Atendimento agendado")
        site.deliver_mail()
        told = {address for r in site.smtp.received if "Joana" in r.raw.decode(errors="ignore")
                for address in r.rcpt_tos}
        assert "joana@example.com" in told and len(told) >= 2  # now the court is told too
    finally:
        phone.close()


def test_a_magistrate_changes_the_rules_blocks_a_day_and_marks_attendance(site, page, snap):
    log_in(page, site, "magistrado@demo.tjmt.jus.br", "demo-magistrado-2027")
    page.get_by_role("link", name="disponibilidade e exceções").first.click()
    page.get_by_label("Duração de cada atendimento (minutos)").fill("45")
    page.get_by_role("button", name="Pré-visualizar horários").click()
    expect(page.get_by_role("heading", name=re.compile("Prévia"))).to_be_visible()
    snap(page, "previa")
    page.get_by_role("button", name="Salvar e publicar").click()
    expect(page.locator(".flash-success")).to_contain_text("Regras salvas")
    next_week = (utcnow() + timedelta(days=9)).date().isoformat()
    page.get_by_label("Dia inicial").fill(next_week)
    page.get_by_label("Dia final").fill(next_week)
    page.get_by_label("Motivo", exact=True).fill("Sessão do Tribunal do Júri")
    page.get_by_role("button", name="Registrar exceção").click()
    expect(page.locator("#excecoes")).to_contain_text("Sessão do Tribunal do Júri")
    snap(page, "excecao")

    with site.app.app_context():
        from booking.availability.models import Slot

        slot = db.session.scalars(select(Slot).where(Slot.magistrate_id == 1, Slot.state == "open")
                                  .order_by(Slot.start_at)).first()
        start = slot.start_at
    client = site.app.test_client()
    booked = client.post("/api/v1/bookings", headers=DIRECT, json={
        "magistrate_id": 1, "start": start.isoformat(), "mode": "video",
        "lawyer": {"name": "João Advogado", "oab": "777/MT", "email": "joao@example.com",
                   "phone": "(65) 98888-0000"},
        "case_number": "0001234-03.2026.8.11.0041", "subject": "Despacho", "consent": True})
    assert booked.status_code == 201, booked.get_json()
    with site.app.app_context():
        past = utcnow() - timedelta(hours=3)
        db.session.execute(update(Booking).where(Booking.id == booked.get_json()["id"])
                           .values(start_at=past, end_at=past + timedelta(minutes=30)))
        db.session.commit()
    page.goto(site.url + "/equipe")
    page.get_by_role("link", name="atendimentos do dia").first.click()
    # Three hours ago may be yesterday in Cuiabá (just after midnight): open that day.
    day = past.astimezone(ZoneInfo("America/Cuiaba")).date().isoformat()
    if day not in page.url:
        page.goto(f"{page.url.split('?')[0]}?dia={day}&visao=dia")
    expect(page.locator(".booking-card")).to_contain_text("João Advogado")
    snap(page, "dia")
    page.get_by_role("button", name="Marcar como realizado").click()
    expect(page.locator(".booking-card")).to_contain_text("Registrado: atendimento realizado.")
    expect(page.get_by_role("button", name="Marcar como realizado")).to_have_count(0)
    expect(page.get_by_role("button", name="Corrigir: não compareceu")).to_be_visible()


def test_a_citizen_reports_a_failure_and_the_corregedoria_resolves_it(site, browser, page, snap):
    page.goto(site.url + "/")
    page.locator(".unit-channels summary").first.click()  # the unit's channels, collapsed
    page.get_by_role("link", name="Informar falha em um canal desta unidade").first.click()
    page.get_by_label("Canal", exact=True).select_option("virtual_counter")
    page.get_by_label("O que aconteceu").select_option("unavailable")
    page.get_by_label("Dia da falha").fill((utcnow() - timedelta(days=1)).date().isoformat())
    page.get_by_label("Hora aproximada").fill("14:30")
    page.get_by_label("Descrição").fill("Entrei no horário do expediente e o Balcão Virtual não abriu.")
    page.get_by_label("E-mail", exact=True).fill("cidadao@example.com")
    snap(page, "formulario")
    page.get_by_role("button", name="Enviar reclamação").click()
    protocol = page.locator(".protocol").inner_text()
    assert re.fullmatch(r"RC-\d{4}-\d{6}", protocol)
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}", page.locator(".follow-code").inner_text())
    page.locator(".manage-link a").click()
    expect(page.locator(".summary")).to_contain_text("Recebida")
    lookup_url = page.url

    desk = loopback_context(browser, viewport={"width": 1280, "height": 900},
                               accept_downloads=True).new_page()
    log_in(desk, site, "corregedoria@demo.tjmt.jus.br", "demo-corregedoria-2027")
    desk.get_by_role("link", name="Reclamações sobre os canais").click()
    desk.get_by_label("Canal", exact=True).select_option("virtual_counter")
    desk.get_by_role("button", name="Filtrar").click()
    desk.get_by_role("link", name=protocol).click()
    desk.get_by_label("Nova situação").select_option("in_review")
    desk.get_by_label("Nota interna (o reclamante não vê)").fill("Pedi o registro à TI.")
    desk.get_by_role("button", name="Salvar no histórico").click()
    desk.get_by_label("Nova situação").select_option("resolved")
    desk.get_by_label(re.compile("Resposta pública")).fill("O Balcão Virtual foi restabelecido.")
    desk.get_by_role("button", name="Salvar no histórico").click()
    expect(desk.locator(".history")).to_contain_text("Em análise → Resolvida")
    snap(desk, "revisao")
    desk.get_by_role("link", name="← Todas as reclamações").click()
    with desk.expect_download() as download:
        desk.get_by_role("link", name="CSV (planilha)").click()
    rows = list(csv.reader(io.StringIO(open(download.value.path(), encoding="utf-8-sig").read()),
                           delimiter=";"))
    assert rows[0][0] == "Protocolo" and protocol in [r[0] for r in rows[1:]]
    desk.get_by_role("link", name="Estatísticas e gráficos").click()
    expect(desk.locator("figure.chart")).to_have_count(5)
    # the one complaint's bar is the longest: it fills its row's bar area
    longest, area = desk.locator(".chart .bar").first, desk.locator(".chart .bar-area").first
    assert longest.bounding_box()["width"] == pytest.approx(area.bounding_box()["width"], abs=1)
    snap(desk, "estatisticas")
    desk.context.close()

    page.goto(lookup_url)
    expect(page.locator(".summary")).to_contain_text("Resolvida")
    expect(page.locator(".summary")).to_contain_text("O Balcão Virtual foi restabelecido.")
    expect(page.locator("body")).not_to_contain_text("Pedi o registro à TI.")
    snap(page, "acompanhamento")


def test_on_a_phone_a_citizen_sends_a_screenshot_and_answers_the_corregedoria(
        site, browser, page, snap):
    """Evidence and a conversation: a report from a phone with a screenshot, the
    Corregedoria's question by e-mail, the answer with a second file, the resolution; the
    e-mails read from the SMTP server."""
    from tests.support.factories import PASSWORD, make_staff
    from tests.support.files import pdf, screenshot

    with site.app.app_context():
        make_staff("corregedoria", "ouvidora@demo.tjmt.jus.br", name="Ana Ouvidora")
        db.session.commit()
    phone = loopback_context(browser, viewport={"width": 375, "height": 740}, is_mobile=True,
                             has_touch=True)
    citizen = phone.new_page()
    try:
        citizen.goto(site.url + "/reclamacoes/nova")
        citizen.get_by_label("Canal", exact=True).select_option("virtual_counter")
        citizen.get_by_label("O que aconteceu").select_option("connection_drop")
        citizen.get_by_label("Dia da falha").fill((utcnow() - timedelta(days=2)).date().isoformat())
        citizen.get_by_label("Descrição").fill("A chamada caiu três vezes; segue a tela do erro.")
        citizen.get_by_label("E-mail", exact=True).fill("rosa@example.com")
        citizen.get_by_label(re.compile("^Anexos")).set_input_files([{
            "name": "Screenshot_20261128-141002.png", "mimeType": "image/png",
            "buffer": screenshot()}])
        assert fits_the_screen(citizen)
        citizen.get_by_role("button", name="Enviar reclamação").tap()
        protocol = citizen.locator(".protocol").inner_text()

        desk = loopback_context(browser, viewport={"width": 1280, "height": 900},
                                accept_downloads=True).new_page()
        log_in(desk, site, "ouvidora@demo.tjmt.jus.br", PASSWORD)
        desk.goto(site.url + "/corregedoria")
        desk.get_by_role("link", name=protocol).click()
        with desk.expect_download() as download:
            desk.get_by_role("link", name="Screenshot_20261128-141002.png").click()
        assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
        desk.get_by_label("Nova situação").select_option("in_review")
        desk.get_by_label("Pergunta ao reclamante").fill("Qual era o número do processo?")
        desk.get_by_role("button", name="Salvar no histórico").click()
        expect(desk.locator(".history")).to_contain_text("Pergunta ao reclamante")

        site.deliver_mail()
        [question] = [r for r in site.smtp.to("rosa@example.com")
                      if "pergunta" in r.message["Subject"]]
        text = question.message.get_body(("plain",)).get_content()
        assert "Qual era o número do processo?" in text
        citizen.goto(re.search(r"(http://\S+/reclamacoes/acompanhar\?\S+)", text).group(1))
        expect(citizen.locator(".history")).to_contain_text("Qual era o número do processo?")
        citizen.get_by_label("Sua mensagem").fill("Processo 0001234-03.2026.8.11.0041.")
        citizen.get_by_label(re.compile("^Anexos")).set_input_files([{
            "name": "comprovante.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
        citizen.get_by_role("button", name="Enviar mensagem").tap()
        expect(citizen.locator(".flash-success")).to_contain_text("Mensagem enviada")
        expect(citizen.locator(".history")).to_contain_text("comprovante.pdf")
        assert fits_the_screen(citizen)
        snap(citizen, "conversa")

        site.deliver_mail()
        assert [r for r in site.smtp.received if protocol in r.message["Subject"]
                and "respondeu" in r.message["Subject"]]
        desk.reload()
        expect(desk.locator(".history")).to_contain_text("Processo 0001234-03.2026.8.11.0041.")
        expect(desk.get_by_role("link", name="comprovante.pdf")).to_be_visible()
        desk.get_by_label("Nova situação").select_option("resolved")
        desk.get_by_label(re.compile("Resposta pública")).fill("A conexão foi estabilizada.")
        desk.get_by_role("button", name="Salvar no histórico").click()
        desk.context.close()

        site.deliver_mail()
        assert [r for r in site.smtp.to("rosa@example.com")
                if r.message["Subject"].endswith("resolvida")]
        citizen.reload()
        expect(citizen.locator(".summary")).to_contain_text("Resolvida")
        expect(citizen.get_by_role("button", name="Enviar mensagem")).to_have_count(0)
    finally:
        phone.close()


def test_the_booking_form_shows_only_the_fields_of_the_requester(site, page):
    """A lawyer is asked for the OAB number, not for a CPF or an institution; a public
    defender for the institution. The other fields are out of sight, not merely disabled."""
    page.goto(site.url + "/magistrados/1/agenda")
    page.locator("a.slot").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agendar atendimento")
    oab, cpf = page.get_by_label(re.compile("^Número da OAB")), page.get_by_label(re.compile("^CPF"))
    institution = page.get_by_label(re.compile("^Instituição"))
    expect(oab).to_be_visible()
    expect(cpf).to_be_hidden()
    expect(institution).to_be_hidden()
    page.get_by_label("Você é").select_option("public_defender")  # the agendas' default list
    expect(institution).to_be_visible()
    expect(oab).to_be_hidden()
    expect(cpf).to_be_hidden()
