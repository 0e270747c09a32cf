"""axe-core finds no serious or critical violation; forms work with the keyboard alone."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.e2e.conftest import (
    axe_violations,
    booked_through_the_api,
    fits_the_screen,
    loopback_context,
    sign_in,
)

PUBLIC = ["/", "/unidades/1", "/magistrados/1/agenda", "/magistrados/1/pedido-urgente",
          "/reclamacoes/nova", "/reclamacoes/acompanhar", "/privacidade", "/entrar",
          "/esqueci-a-senha", "/definir-senha?token=vencido", "/transparencia",
          "/agendamentos/recuperar-link"]
STAFF = {
    "magistrado@demo.tjmt.jus.br:demo-magistrado-2027": [
        "/equipe", "/equipe/magistrados/1/disponibilidade", "/equipe/magistrados/1/atendimentos",
        "/equipe/magistrados/1/pedidos-urgentes"],
    "corregedoria@demo.tjmt.jus.br:demo-corregedoria-2027": [
        "/corregedoria", "/corregedoria/estatisticas"],
    "admin@demo.tjmt.jus.br:demo-admin-2027": [
        "/equipe/fechamentos", "/equipe/mensagens", "/equipe/contas", "/equipe/contas/1",
        "/equipe/chaves-de-integracao",
        "/equipe/diretorio", "/equipe/diretorio/unidades/1", "/equipe/diretorio/magistrados/1"],
}


def followed_complaint(site) -> str:
    """The follow page of a complaint just filed through the API (its history, its form)."""
    import json
    import urllib.request

    from tests.support.factories import a_recent_failure

    body = json.dumps({"channel": "phone", "kind": "no_answer", "occurred_at": a_recent_failure(),
                       "description": "Ninguém atendeu o telefone da secretaria da vara.",
                       "reporter": {"email": "axe@example.com"}})
    request = urllib.request.Request(site.url + "/api/v1/complaints", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        filed = json.load(answer)
    return f"/reclamacoes/acompanhar?protocolo={filed['protocol']}&token={filed['follow_code']}"


def test_public_pages(site, axe_page):
    booking_form = None
    failures = {}
    for path in PUBLIC + [followed_complaint(site)]:
        axe_page.goto(site.url + path)
        if path == "/magistrados/1/agenda":
            booking_form = axe_page.locator("a.slot").first.get_attribute("href")
        failures[path] = axe_violations(axe_page)
    axe_page.goto(site.url + booking_form)
    failures["booking form"] = axe_violations(axe_page)
    axe_page.get_by_role("button", name="Confirmar agendamento").click()
    failures["booking form with errors"] = axe_violations(axe_page)
    for label, value in (("Nome completo", "Maria Axe"), ("Número da OAB", "777/MT"),
                         ("Telefone", "(65) 96666-0000"),
                         ("Número do processo (CNJ)", "0001234-03.2026.8.11.0041"),
                         ("Assunto do atendimento", "Verificação de acessibilidade")):
        axe_page.get_by_label(label).fill(value)
    axe_page.get_by_label(re.compile(r"^E-mail\b")).fill("axe@example.com")
    axe_page.get_by_label(re.compile("Concordo com o uso dos dados")).check()
    axe_page.get_by_role("button", name="Confirmar agendamento").click()
    failures["code page"] = axe_violations(axe_page)
    axe_page.get_by_role("button", name="Enviar um novo código").click()  # too soon: refused
    expect(axe_page.locator("#novo-codigo-erro")).to_contain_text("Aguarde")
    failures["code page with a new code refused"] = axe_violations(axe_page)
    booked = booked_through_the_api(site)
    for page_name in ("", "/remarcar", "/cancelar"):
        axe_page.goto(f"{site.url}/agendamentos/{booked['id']}{page_name}"
                      f"?token={booked['manage_token']}")
        failures[f"manage page {page_name or '/'}"] = axe_violations(axe_page)
    assert {k: v for k, v in failures.items() if v} == {}


def test_staff_pages(site, axe_page):
    from sqlalchemy import select

    from booking.complaints.models import Complaint
    from booking.extensions import db

    protocol = re.search(r"protocolo=([^&]+)", followed_complaint(site)).group(1)
    with site.app.app_context():
        complaint_id = db.session.scalar(select(Complaint.id).where(Complaint.protocol == protocol))
    failures = {}
    for credentials, paths in STAFF.items():
        email, password = credentials.split(":")
        axe_page.context.clear_cookies()
        sign_in(axe_page, site, email, password)
        if email.startswith("corregedoria"):
            paths = [*paths, f"/corregedoria/reclamacoes/{complaint_id}"]
        for path in paths:
            axe_page.goto(site.url + path)
            failures[path] = axe_violations(axe_page)
    assert {k: v for k, v in failures.items() if v} == {}


def test_refused_staff_forms(site, axe_page):
    """A staff form refused comes back with each message beside its field, announced, and
    the cursor in the first field to fix: the magistrate's questions and the admin's
    closure (their two other forms share the page and the markup of the questions')."""
    failures = {}
    sign_in(axe_page, site, "magistrado@demo.tjmt.jus.br", "demo-magistrado-2027")
    axe_page.goto(site.url + "/equipe/magistrados/1/disponibilidade")
    axe_page.get_by_label("Pergunta 1", exact=True).fill("Fase do processo")
    axe_page.get_by_label("Tipo da pergunta 1", exact=True).select_option("choice")
    axe_page.get_by_label("Opções da pergunta 1", exact=True).fill("Só uma")
    axe_page.get_by_role("button", name="Salvar perguntas").click()
    options = axe_page.get_by_label("Opções da pergunta 1", exact=True)
    expect(options).to_be_focused()
    assert options.get_attribute("aria-invalid") == "true"
    assert "duas opções" in axe_page.locator("#" + options.get_attribute("aria-describedby")
                                             ).inner_text()
    expect(axe_page.get_by_label("Pergunta 1", exact=True)).to_have_value("Fase do processo")
    failures["questions refused"] = axe_violations(axe_page)

    axe_page.context.clear_cookies()
    sign_in(axe_page, site, "admin@demo.tjmt.jus.br", "demo-admin-2027")
    axe_page.goto(site.url + "/equipe/fechamentos")
    axe_page.get_by_label("Primeiro dia").fill("2031-03-10")
    axe_page.get_by_label("Último dia").fill("2031-03-09")
    axe_page.get_by_label("Motivo").fill("Obras no fórum")
    axe_page.get_by_role("button", name="Ver os agendamentos atingidos").click()
    last_day = axe_page.get_by_label("Último dia")
    expect(last_day).to_be_focused()
    expect(last_day).to_have_value("2031-03-09")
    expect(axe_page.get_by_label("Motivo")).to_have_value("Obras no fórum")
    failures["closure refused"] = axe_violations(axe_page)
    assert {k: v for k, v in failures.items() if v} == {}


def test_a_refused_cancellation_on_the_day_page(site, axe_page):
    """A reason of blank spaces passes the browser's `required` but not the server: the
    day comes back with the cancel form open, the message beside the box, the cursor in it."""
    booked = booked_through_the_api(site, {"name": "Lia Advogada", "oab": "4321/MT",
                                           "email": "lia@example.com"})
    booking_id = booked["id"]
    sign_in(axe_page, site, "magistrado@demo.tjmt.jus.br", "demo-magistrado-2027")
    day = booked["start"][:10]  # in the court's time, as the day page counts its days
    axe_page.goto(f"{site.url}/equipe/magistrados/1/atendimentos?dia={day}")
    card = axe_page.locator(".booking-card", has=axe_page.locator(f"#reason-{booking_id}"))
    card.locator("summary").click()
    card.get_by_label("Motivo do cancelamento").fill("   ")
    card.get_by_label(re.compile("Confirmo o cancelamento")).check()
    card.get_by_role("button", name="Cancelar atendimento").click()
    reason = axe_page.locator(f"#reason-{booking_id}")
    expect(reason).to_be_focused()
    assert reason.get_attribute("aria-invalid") == "true"
    expect(axe_page.locator(f"#reason-{booking_id}-erro")).to_contain_text("Informe o motivo")
    expect(axe_page.locator(".flash-error")).to_contain_text("Nada foi alterado")
    assert {"day page, cancellation refused": axe_violations(axe_page)} == {
        "day page, cancellation refused": []}


def test_booking_with_the_keyboard_alone(site, page):
    page.goto(site.url + "/magistrados/1/agenda")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip-link")).to_be_focused()
    slot = page.locator("a.slot").first
    slot.focus()
    outline = slot.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none", "focus must be visible"
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Agendar atendimento")
    page.get_by_label("Nome completo").focus()
    for text in ("Maria Teclado Souza", "4321/MT", "teclado@example.com", "(65) 97777-0000"):
        page.keyboard.type(text)
        page.keyboard.press("Tab")
    page.keyboard.press("Tab")  # other participants: none
    page.keyboard.type("0001234-03.2026.8.11.0041")
    page.keyboard.press("Tab")
    page.keyboard.type("Atendimento marcado só com o teclado")
    page.keyboard.press("Tab")  # the seal checkbox: leave it
    page.keyboard.press("Tab")  # consent
    page.keyboard.press("Space")
    page.keyboard.press("Tab")  # the privacy link
    page.keyboard.press("Tab")  # submit
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirme seu agendamento")
    page.get_by_label("Código recebido por e-mail").focus()
    page.keyboard.type(site.emailed_code("teclado@example.com"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Atendimento agendado")


def test_errors_are_announced(site, page):
    page.goto(site.url + "/reclamacoes/nova")
    page.get_by_role("button", name="Enviar reclamação").click()
    alerts = page.get_by_role("alert")
    expect(alerts.first).to_be_visible()
    field = page.get_by_label("Canal", exact=True)
    assert field.get_attribute("aria-invalid") == "true"
    # the cursor waits in the first field to fix (once the deferred script has run: the
    # alert is visible as soon as the page is parsed, a moment before)
    expect(field).to_be_focused()
    described = field.get_attribute("aria-describedby")
    assert re.search("Escolha", page.locator(f"#{described}").inner_text())


def test_the_checker_itself_sees_a_violation(axe_page):
    """The pages pass because they are right, not because the checker is blind."""
    axe_page.set_content('<html lang="pt-BR"><head><title>x</title></head><body><main>'
                         '<input type="text"><img src="x.png"></main></body></html>')
    assert {v["id"] for v in axe_violations(axe_page)} >= {"label", "image-alt"}


def test_the_transparency_page_fits_a_phone_and_shows_its_csv(site, browser):
    """At 320 and 375 px nothing is wider than the screen (the tables scroll inside their
    own region), and every number in the tables is the CSV's."""
    import csv
    import io

    for width in (320, 375):
        phone = loopback_context(browser, viewport={"width": width, "height": 740},
                                 is_mobile=True, has_touch=True)
        page = phone.new_page()
        try:
            page.goto(site.url + "/transparencia")
            expect(page.get_by_role("heading", level=1)).to_contain_text("Transparência")
            assert fits_the_screen(page)
            on_page = set(page.evaluate("""() => {
              const found = [];
              for (const section of document.querySelectorAll('section.transparency-table')) {
                const title = section.querySelector('h2').textContent.trim();
                const headers = [...section.querySelectorAll('thead th')].map(h => h.textContent.trim());
                for (const row of section.querySelectorAll('tbody tr')) {
                  const label = row.querySelector('th').textContent.trim();
                  [...row.querySelectorAll('td')].forEach((cell, i) =>
                    found.push([title, label, headers[i + 1], cell.textContent.trim()].join('|')));
                }
              }
              return found;
            }"""))
            download = page.request.get(site.url + "/transparencia.csv")
            rows = list(csv.reader(io.StringIO(download.body().decode("utf-8-sig")),
                                   delimiter=";"))
            assert {"|".join(row) for row in rows[1:]} == on_page
            assert len(on_page) > 20
            # The charts' words are the page's text, not a drawing scaled to the width: they
            # were 6 px tall on a phone.
            sizes = page.evaluate("""() => [...document.querySelectorAll(
                '.chart .bar-label, .chart .bar-value')].map(
                e => parseFloat(getComputedStyle(e).fontSize) * (e.getClientRects().length ? 1 : 0))""")
            assert sizes and min(sizes) >= 14, sizes
        finally:
            phone.close()


def test_no_page_is_wider_than_a_phone(site, browser):
    """At 320 and 375 px, on a phone's browser, no page scrolls sideways: the public pages
    (with a booking form and a followed complaint), and each role's pages."""
    import json

    follow = followed_complaint(site)
    wide: dict[str, list[str]] = {}

    def visit(page, paths):
        for path in paths:
            for width in (320, 375):
                page.set_viewport_size({"width": width, "height": 740})
                page.goto(site.url + path)
                if not fits_the_screen(page):  # name the widest elements that stick out
                    wide[f"{path} @ {width}"] = page.evaluate("""(width) => [...document
                      .querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width
                        && ![...e.children].some(c => c.getBoundingClientRect().right > width))
                      .slice(0, 3).map(e => e.tagName + '.' + e.className + ' '
                        + Math.round(e.getBoundingClientRect().right))""", width)

    accounts = [(None, PUBLIC + [follow])] + [(c, p) for c, p in STAFF.items()]
    for credentials, paths in accounts:
        phone = loopback_context(browser, viewport={"width": 375, "height": 740},
                                 is_mobile=True, has_touch=True)
        page = phone.new_page()
        try:
            if credentials is None:
                page.goto(site.url + "/magistrados/1/agenda")
                paths = paths + [page.locator("a.slot").first.get_attribute("href")]
            else:
                email, password = credentials.split(":")
                page.set_viewport_size({"width": 1280, "height": 900})  # sign-in as usual
                sign_in(page, site, email, password)
            visit(page, paths)
        finally:
            phone.close()
    assert wide == {}, json.dumps(wide, indent=1)


def test_the_new_controls_work_with_the_keyboard_alone(site, page):
    """A unit's channels open from the keyboard; a complaint is followed by its protocol and
    short code typed in, and answered with the keyboard; the week links of rescheduling
    are reached and followed with Tab and Enter."""
    page.goto(site.url + "/")
    summary = page.locator(".unit-channels summary").first
    summary.focus()
    assert summary.evaluate("e => getComputedStyle(e).outlineStyle") != "none"
    page.keyboard.press("Enter")
    expect(page.locator(".unit-channels").first.locator(".channels")).to_be_visible()

    follow = followed_complaint(site)  # protocol and short code, as printed for the reporter
    protocol, code = re.search(r"protocolo=([^&]+)&token=(.+)$", follow).groups()
    page.goto(site.url + "/reclamacoes/acompanhar")
    page.get_by_label("Protocolo").focus()
    page.keyboard.type(protocol)
    page.keyboard.press("Tab")
    page.keyboard.type(code.lower().replace("-", " "))  # as someone reads it aloud
    page.keyboard.press("Enter")
    expect(page.locator(".summary")).to_contain_text("Recebida")
    page.get_by_label("Sua mensagem").focus()
    page.keyboard.type("Liguei de novo hoje e ninguém atendeu.")
    page.keyboard.press("Tab")  # the file picker: none
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Enviar mensagem")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".flash-success")).to_contain_text("Mensagem enviada")
    expect(page.locator(".history")).to_contain_text("Liguei de novo hoje")

    booking = booked_through_the_api(site)
    page.goto(f"{site.url}/agendamentos/{booking['id']}/remarcar?token={booking['manage_token']}")
    week = page.locator(".week-title").inner_text()
    following = page.get_by_role("link", name="Próxima semana →")
    for _ in range(40):  # Tab until the week link has the focus
        page.keyboard.press("Tab")
        if following.evaluate("e => e === document.activeElement"):
            break
    expect(following).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator(".week-title")).not_to_have_text(week)
