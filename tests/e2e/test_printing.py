"""Pages people keep on paper (a day's appointments for the hearing room, a complaint's
receipt, the Corregedoria's record of one) print their content without what only works on a
screen: the navigation, the forms, the buttons."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect
from sqlalchemy import select

from booking.complaints.models import Complaint
from booking.database import utcnow
from tests.e2e.conftest import (
    ARTIFACTS,
    axe_violations,
    booked_through_the_api,
    loopback_context,
    sign_in,
)

CUIABA = ZoneInfo("America/Cuiaba")


def printed_as_pdf(page, name: str) -> None:
    """The page as Chromium prints it, kept beside the screenshots for a person to look at
    (with a screenshot of the print styles, at a sheet's width)."""
    folder = ARTIFACTS / "printing"
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 700, "height": 990})
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    pdf = page.pdf(path=str(folder / f"{name}.pdf"), format="A4")
    assert pdf.startswith(b"%PDF") and b"/Type /Page" in pdf


def counting_prints(page) -> None:
    """Count the calls of the browser's print dialog (headless, it opens none)."""
    page.evaluate("""() => { const print = window.print.bind(window);
        window.prints = 0; window.print = () => { window.prints += 1; print(); }; }""")


def test_the_day_page_prints_its_appointments_without_the_forms(site, page):
    booked = booked_through_the_api(site, {"name": "Paulo Papel", "oab": "5678/MT",
                                           "email": "paulo.papel@example.com"})
    sign_in(page, site, "magistrado@demo.tjmt.jus.br", "demo-magistrado-2027")
    page.goto(f"{site.url}/equipe/magistrados/1/atendimentos?dia={booked['start'][:10]}")
    card = page.locator(".booking-card", has_text="Paulo Papel")
    button = page.locator("[data-print]")
    expect(button).to_have_text("Imprimir esta lista")
    expect(button).to_be_visible()
    expect(card.locator("summary")).to_be_visible()  # on screen: the cancel form's opener

    page.emulate_media(media="print")
    expect(card).to_be_visible()
    expect(card).to_contain_text(booked["case_number"])
    expect(page.locator(".week-title")).to_be_visible()  # which day it is
    for only_on_screen in (card.locator("summary"), card.locator("form"), button,
                           page.locator(".site-header nav"), page.locator(".week-nav a").first,
                           page.locator(".site-footer")):
        expect(only_on_screen).to_be_hidden()
    printed_as_pdf(page, "atendimentos-do-dia")

    page.emulate_media(media="screen")  # last: Chromium prints nothing else meanwhile
    counting_prints(page)
    button.click()
    assert page.evaluate("window.prints") == 1


def test_a_complaint_prints_as_a_receipt_and_as_the_corregedorias_record(site, browser,
                                                                          axe_page):
    page = axe_page
    page.goto(site.url + "/reclamacoes/nova")
    page.get_by_label("Canal", exact=True).select_option("phone")
    page.get_by_label("O que aconteceu").select_option("no_answer")
    page.get_by_label("Dia da falha").fill((utcnow() - timedelta(days=2)).astimezone(CUIABA)
                                          .date().isoformat())
    page.get_by_label("Descrição").fill("Liguei três vezes para a secretaria e ninguém atendeu.")
    page.get_by_role("button", name="Enviar reclamação").click()  # no e-mail: the receipt matters

    receipt = page.locator("dl.summary")
    protocol = receipt.locator(".protocol").inner_text()
    expect(receipt.locator(".follow-code")).to_be_visible()
    expect(receipt).to_contain_text("Telefone")
    shown = receipt.locator("div", has_text="Registrada em").locator("dd").inner_text()
    registered = datetime.strptime(shown.split(" (")[0], "%d/%m/%Y %H:%M").replace(tzinfo=CUIABA)
    assert abs(registered - utcnow()) < timedelta(minutes=2), shown
    assert shown.endswith("(horário de Cuiabá)"), shown
    expect(page.locator("[data-print]")).to_have_text("Imprimir ou salvar o comprovante")
    expect(page.locator("[data-print]")).to_be_visible()
    assert {"receipt": axe_violations(page)} == {"receipt": []}

    page.emulate_media(media="print")
    expect(receipt.locator(".protocol")).to_be_visible()
    expect(receipt.locator(".follow-code")).to_be_visible()
    expect(page.locator(".manage-link")).to_be_visible()  # the follow link, written out
    for only_on_screen in (page.locator("#email"),  # have the link e-mailed after all
                           page.locator("[data-print]"), page.locator(".site-header nav")):
        expect(only_on_screen).to_be_hidden()
    printed_as_pdf(page, "comprovante-da-reclamacao")

    with site.app.app_context():
        from booking.extensions import db

        complaint_id = db.session.scalar(select(Complaint.id).where(
            Complaint.protocol == protocol))
    desk = loopback_context(browser, viewport={"width": 1280, "height": 900}).new_page()
    try:
        sign_in(desk, site, "corregedoria@demo.tjmt.jus.br", "demo-corregedoria-2027")
        desk.goto(f"{site.url}/corregedoria/reclamacoes/{complaint_id}")
        expect(desk.locator("[data-print]")).to_have_text("Imprimir a reclamação e o histórico")
        desk.emulate_media(media="print")
        expect(desk.get_by_role("heading", level=1)).to_have_text(f"Reclamação {protocol}")
        expect(desk.locator(".history")).to_contain_text("Registrada")
        for only_on_screen in (desk.locator("#andamento"), desk.locator("form").first,
                               desk.locator("a", has_text="Todas as reclamações")):
            expect(only_on_screen).to_be_hidden()
        printed_as_pdf(desk, "reclamacao-na-corregedoria")
    finally:
        desk.context.close()
