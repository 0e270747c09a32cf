"""Finding a unit or a judge on a phone, the way people type, and booking in few taps."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking.courts.models import Magistrate, Unit
from booking.courts.search import normalize
from booking.extensions import db
from tests.e2e.conftest import fits_the_screen, loopback_context, sign_in

SEARCHES = [  # what people type, and the unit that must come up
    ("cuiaba", "1ª Vara Cível de Cuiabá"), ("familia", "1ª Vara de Família e Sucessões de Cuiabá"),
    ("civel", "1ª Vara Cível de Cuiabá"), ("vara civel cuiaba", "1ª Vara Cível de Cuiabá"),
    ("vara cível cuiabá", "1ª Vara Cível de Cuiabá"), ("CIVEL DE CUIABA", "1ª Vara Cível de Cuiabá"),
    ("sucessoes familia cuiaba", "1ª Vara de Família e Sucessões de Cuiabá"),
    ("varzea grande civel", "1ª Vara Cível de Várzea Grande"),
]


@pytest.fixture
def phone(browser):
    context = loopback_context(browser, viewport={"width": 375, "height": 740}, is_mobile=True,
                               has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def search(page, typed: str) -> None:
    page.get_by_label("Nome da unidade").fill(typed)
    page.get_by_role("button", name="Buscar").tap()


@pytest.mark.parametrize("typed, unit", SEARCHES)
def test_a_unit_is_found_the_way_people_type(site, phone, typed, unit):
    phone.goto(site.url + "/")
    search(phone, typed)
    expect(phone.locator(".unit-card h2").filter(has_text=unit)).to_have_count(1)


def test_a_judge_is_found_by_name_without_accents_and_booked_in_five_taps(site, phone):
    """From the portal to the booking form: the search field, Buscar, the judge's Agendar
    link, a time; the judge typed in lower case without accents."""
    with site.app.app_context():
        judges = db.session.scalars(select(Magistrate).join(Unit).where(
            Magistrate.publishes_agenda.is_(True), Magistrate.is_active.is_(True))
            .order_by(Magistrate.id)).all()
        judge = next((j for j in judges if normalize(j.name) != j.name.lower()), judges[0])
        typed = " ".join(judge.name.split()[-2:])
        title_and_name = f"{judge.title} {judge.name}"
    taps = 0

    def tap(locator) -> None:
        nonlocal taps
        taps += 1
        locator.tap()

    phone.goto(site.url + "/")
    tap(phone.get_by_label("Nome da unidade"))
    phone.keyboard.type(normalize(typed))
    tap(phone.get_by_role("button", name="Buscar"))
    tap(phone.get_by_role("link", name=f"Agendar com {title_and_name}"))
    tap(phone.locator("a.slot").first)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Agendar atendimento")
    assert taps <= 5
    assert fits_the_screen(phone)


def test_the_portal_is_compact_on_a_phone(site, phone):
    """Every unit of the first page in a few lines: channels behind the unit's name, one tap
    away; the booking links in sight."""
    phone.goto(site.url + "/")
    cards = phone.locator(".unit-card")
    count = cards.count()
    assert count >= 10
    height = phone.evaluate("document.documentElement.scrollHeight")
    assert height / count < 420, f"{height} px for {count} units"
    first = cards.first
    link = first.locator(".channels a").first
    expect(link).to_be_hidden()
    first.locator(".unit-channels summary").tap()
    expect(link).to_be_visible()
    assert fits_the_screen(phone)


def test_on_a_phone_the_first_time_is_near_the_top_and_a_refused_form_points_at_its_field(
        site, phone):
    """The notice that booking is optional is one line (the law behind "Saiba mais"), so the
    week of open times starts within the first screen and a half; a form sent with its required fields
    empty puts the cursor in the first one, with the message beside it."""
    phone.goto(site.url + "/magistrados/1/agenda")
    # What comes before the week (title, notice, links, the week's navigation), whatever
    # day it is: the recess or a holiday may put closed days before the first time.
    week = phone.locator(".week").bounding_box()
    assert week["y"] < 900, week
    expect(phone.locator("a.slot").first).to_be_visible()
    expect(phone.get_by_text("O Estatuto da Advocacia")).to_be_hidden()
    phone.get_by_text("Saiba mais").tap()
    expect(phone.get_by_text("O Estatuto da Advocacia")).to_be_visible()

    phone.locator("a.slot").first.tap()
    name = phone.get_by_label("Nome completo")
    expect(phone.locator("label[for=name] .required")).to_have_text("*")
    phone.get_by_role("button", name="Confirmar agendamento").tap()
    expect(name).to_be_focused()
    expect(phone.locator("#name-erro")).to_contain_text("Informe o nome completo")

    phone.goto(site.url + "/reclamacoes/nova")
    phone.get_by_role("button", name="Enviar reclamação").tap()
    expect(phone.get_by_label("Canal", exact=True)).to_be_focused()
    assert fits_the_screen(phone)


def test_checkboxes_and_radios_are_tappable_beside_long_labels(site, phone):
    """A checkbox beside a label of several lines kept shrinking to a dot (the label's flex
    row squeezed it): on a phone each box and radio is at least 20 px square, on the booking
    form (modes, seal, consent) and on an account's list of magistrates."""
    def smallest(page) -> float:
        return page.evaluate("""() => Math.min(...[...document.querySelectorAll(
            '.choice input[type=checkbox], .choice input[type=radio]')].filter(
            e => e.offsetParent).map(e => Math.min(e.getBoundingClientRect().width,
                                                  e.getBoundingClientRect().height)))""")

    phone.goto(site.url + "/magistrados/1/agenda")
    phone.locator("a.slot").first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Agendar atendimento")
    phone.wait_for_load_state("load")  # the stylesheet applied
    assert smallest(phone) >= 20
    sign_in(phone, site, "admin@demo.tjmt.jus.br", "demo-admin-2027")
    phone.goto(site.url + "/equipe/contas")
    phone.get_by_role("link", name="Assessoria de gabinete").click()  # an assistant's account
    phone.wait_for_load_state("load")
    assert phone.locator(".choice input[type=checkbox]:visible").count() > 20
    assert smallest(phone) >= 20


def test_a_booking_with_a_long_meeting_link_fits_a_phone(site, phone):
    """A meeting link runs to 200 characters (Teams): the confirmation and the manage page
    break it instead of widening the page past the screen (a 48-character one did)."""
    from booking.availability.models import AvailabilityRule, WeeklyWindow

    room = "https://teams.microsoft.com/l/meetup-join/19%3ameeting_" + "N2E5ZjQ" * 24
    with site.app.app_context():  # an agenda whose every time is offered by video
        in_person_only = select(WeeklyWindow.magistrate_id).where(
            WeeklyWindow.offers_video.is_(False))
        rule = db.session.scalars(select(AvailabilityRule).where(
            AvailabilityRule.magistrate_id.not_in(in_person_only))
            .order_by(AvailabilityRule.magistrate_id)).first()
        rule.meeting_url, judge = room, rule.magistrate_id
        db.session.commit()
    phone.goto(f"{site.url}/magistrados/{judge}/agenda")
    phone.locator("a.slot").first.tap()
    phone.get_by_label("Nome completo").fill("Maria Aparecida Souza")
    phone.get_by_label("Número da OAB (advogados)").fill("12345/MT")
    phone.locator("#email").fill("sala.longa@example.com")
    phone.get_by_label("Telefone").fill("(65) 99999-0000")
    phone.get_by_label("Número do processo (CNJ)").fill("0001234-03.2026.8.11.0041")
    phone.get_by_label("Assunto do atendimento").fill("Pedido de liminar")
    phone.get_by_label(re.compile("Concordo")).check()
    phone.get_by_label("Por vídeo").check()
    phone.get_by_role("button", name="Confirmar agendamento").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Confirme seu agendamento")
    phone.get_by_label("Código recebido por e-mail").fill(site.emailed_code("sala.longa@example.com"))
    phone.get_by_role("button", name="Confirmar agendamento").tap()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Atendimento agendado")
    expect(phone.locator(".summary")).to_contain_text(room[:40])
    assert fits_the_screen(phone)
    phone.goto(phone.locator(".manage-link a").get_attribute("href"))
    expect(phone.locator(".summary")).to_contain_text(room[:40])
    assert fits_the_screen(phone)
