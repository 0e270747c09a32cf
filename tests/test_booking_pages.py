"""The people's side of booking: the form, the confirmation, the manage link, and
the magistrate's day with its cancel and attendance buttons; urgent requests."""

import re
from datetime import date, datetime, timedelta
from urllib.parse import unquote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from booking.availability import service as availability
from booking.availability.models import Slot
from booking.availability.weeks import monday_of
from booking.bookings.models import Booking, UrgentRequest
from booking.courts.models import Magistrate
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from tests.support.factories import (
    PASSWORD,
    confirm_by_code,
    confirmation_code,
    make_magistrate,
    make_rules,
    make_staff,
)


@pytest.fixture
def judge(app):
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        make_staff("magistrate", magistrate_id=magistrate.id)
        other = make_magistrate(unit=magistrate.unit, name="Bruno Lima")
        make_staff("assistant", "asst@example.jus.br", magistrate_id=other.id)
        db.session.commit()
        return magistrate.id


def first_slot_link(client, judge):
    """The first open time: the agenda opens on its week (the recess or a holiday may
    empty the coming weeks)."""
    html = client.get(f"/magistrados/{judge}/agenda").get_data(as_text=True)
    return re.findall(r'href="(/magistrados/\d+/agendar\?inicio=[^"]+)"', html)[0].replace("&amp;", "&")


def lawyer_form(link, **overrides):
    data = {"start": unquote(link.split("inicio=")[1]), "mode": "video",
            "name": "Maria Souza", "oab": "12345/MT", "email": "maria@example.com",
            "phone": "(65) 99999-0000", "case_number": "0001234-03.2026.8.11.0041",
            "subject": "Pedido de liminar", "consent": "1"}
    data.update(overrides)
    return data


def test_wrong_case_number_is_explained_beside_the_field_and_nothing_is_lost(client, judge):
    link = first_slot_link(client, judge)
    response = client.post(link, data=lawyer_form(link, case_number="0001234-04.2026.8.11.0041"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="case_number-erro"[^>]*>Número do processo inválido: os dígitos', html)
    field = re.search(r'<input id="case_number"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in field
    assert re.search(r'aria-describedby="case_number-dica case_number-erro"', field)
    assert 'value="Maria Souza"' in html and "Pedido de liminar" in html


def book_on_page(app, client, link, **overrides):
    """The form, then the code from the e-mail: the confirmation page's answer."""
    held = client.post(link, data=lawyer_form(link, **overrides))
    assert held.status_code == 302 and held.headers["Location"].endswith("/confirmar")
    confirmed = confirm_by_code(app, client, held.headers["Location"])
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    return client.get(confirmed.headers["Location"])


def test_the_form_holds_the_slot_and_only_the_code_confirms_it(app, client, judge):
    link = first_slot_link(client, judge)
    held = client.post(link, data=lawyer_form(link))
    page = client.get(held.headers["Location"])
    assert page.status_code == 200 and "Enviamos um código" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "held"
        assert [m.kind for m in db.session.scalars(select(OutboxMessage))] == ["booking_code"]
    assert first_slot_link(client, judge) != link  # the held time is off the agenda
    wrong = client.post(held.headers["Location"], data={"code": "000000"})
    assert wrong.status_code == 422 and "Restam 4 tentativa(s)" in wrong.get_data(as_text=True)
    with app.app_context():
        code = confirmation_code(db.session.scalar(select(Booking.id)))
    right = client.post(held.headers["Location"], data={"code": code})
    assert right.status_code == 302 and right.headers["Location"].endswith("/confirmacao")
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"
        assert sorted(m.kind for m in db.session.scalars(select(OutboxMessage))) == [
            "booking_booked", "booking_booked", "booking_booked", "booking_code"]


def test_a_mistyped_address_gives_the_time_back_and_the_form_comes_back_filled(app, client,
                                                                               judge):
    """An e-mail typed wrong never gets the code: the hold's page gives the time back at once
    (not in 15 minutes) and the form comes back as sent, to correct and send again."""
    with app.app_context():
        availability.replace_questions(db.session.get(Magistrate, judge), [
            {"label": "Há réu preso?", "kind": "yes_no", "required": True},
            {"label": "Data da audiência", "kind": "date"}], user=None)
        db.session.commit()
    link = first_slot_link(client, judge)
    held = client.post(link, data=lawyer_form(link, email="maria@exmaple.com",
                                              participants="socio@example.com",
                                              **{"answer-q1": "sim", "answer-q2": "2027-03-02"}))
    page = client.get(held.headers["Location"]).get_data(as_text=True)
    assert "Liberar o horário e corrigir os dados" in page
    booking_id = int(held.headers["Location"].split("/")[-2])

    stranger = app.test_client().post(f"/agendamentos/{booking_id}/liberar")
    assert stranger.status_code == 404  # only the browser that holds it, or the e-mail's link
    released = client.post(f"/agendamentos/{booking_id}/liberar")
    assert released.status_code == 302 and f"corrigir={booking_id}" in released.headers["Location"]
    with app.app_context():
        booking = db.session.get(Booking, booking_id)
        assert (booking.status, booking.cancelled_by) == ("cancelled", "hold_expired")
        assert db.session.scalar(select(Slot.state).where(Slot.id == booking.slot_id)) == "open"
    form = client.get(released.headers["Location"]).get_data(as_text=True)
    for typed in ('value="maria@exmaple.com"', 'value="Maria Souza"', 'value="12345/MT"',
                  'value="(65) 99999-0000"',
                  "Pedido de liminar", "socio@example.com", 'value="2027-03-02"'):
        assert typed in form, typed
    assert re.search(r'name="answer-q1" value="sim" checked', form)
    assert re.search(r'name="consent" value="1" checked', form)
    assert "Reserva liberada" in form
    back = client.get(f"/agendamentos/{booking_id}/confirmar")  # its page, revisited
    assert back.status_code == 409 and "expirou ou foi liberada" in back.get_data(as_text=True)
    twice = client.post(f"/agendamentos/{booking_id}/liberar")  # a second press: the form again
    assert f"corrigir={booking_id}" in twice.headers["Location"]
    assert "Reserva liberada" not in client.get(twice.headers["Location"]).get_data(as_text=True)

    again = client.post(link, data=lawyer_form(link, email="maria@example.com",
                                               **{"answer-q1": "sim"}))
    assert again.status_code == 302 and again.headers["Location"].endswith("/confirmar")
    live_hold = client.get(link + f"&corrigir={booking_id + 1}")  # not a released hold
    assert 'value="maria@example.com"' not in live_hold.get_data(as_text=True)
    confirm_by_code(app, client, again.headers["Location"])
    late = client.post(f"/agendamentos/{booking_id + 1}/liberar")  # confirmed meanwhile
    assert late.headers["Location"].endswith(f"/agendamentos/{booking_id + 1}/confirmar")
    with app.app_context():
        assert db.session.get(Booking, booking_id + 1).status == "confirmed"


def test_the_emails_link_confirms_only_with_a_press(app, client, judge):
    link = first_slot_link(client, judge)
    held = client.post(link, data=lawyer_form(link))
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        code = confirmation_code(booking.id)
        from booking.notifications.service import as_email

        message = db.session.scalars(select(OutboxMessage)).one()
        text = as_email(message).body
    emailed = re.search(r"https?://[^/]+(/agendamentos/\d+/confirmar\?token=[\w-]+&codigo=\d+)",
                        text).group(1)
    assert code in text and emailed.endswith(f"codigo={code}")
    stranger = app.test_client()  # another browser: the e-mail's link is all it has
    page = stranger.get(emailed)  # a mail scanner's GET changes nothing
    assert page.status_code == 200 and f'value="{code}"' in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booking, booking.id).status == "held"
    token = re.search(r"token=([\w-]+)", emailed).group(1)
    pressed = stranger.post(emailed.split("?")[0], data={"token": token, "code": code})
    assert pressed.status_code == 302
    with app.app_context():
        assert db.session.get(Booking, booking.id).status == "confirmed"
    assert held.status_code == 302


def test_booking_from_the_page_confirms_and_gives_the_manage_link(app, client, judge):
    link = first_slot_link(client, judge)
    confirmation = book_on_page(app, client, link)
    html = confirmation.get_data(as_text=True)
    assert confirmation.status_code == 200
    assert confirmation.headers["Referrer-Policy"] == "no-referrer"
    manage = re.search(r'href="https?://[^/]+(/agendamentos/\d+\?token=[\w-]+)"', html).group(1)
    assert "convite.ics" in html
    page = client.get(manage)
    assert page.status_code == 200 and "Remarcar" in page.get_data(as_text=True)
    # Where, not only how: the agenda's video room, to the people involved only.
    for shown in (html, page.get_data(as_text=True)):
        assert "<dt>Sala de vídeo</dt>" in shown and "https://sala.example.jus.br/1" in shown
    assert "sala.example.jus.br" not in client.get(f"/magistrados/{judge}/agenda").get_data(
        as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"
        assert len(db.session.scalars(select(OutboxMessage)).all()) == 4  # code, then 3 invites
    ics = client.get(manage.replace("?token=", "/convite.ics?token="))
    assert ics.status_code == 200 and b"BEGIN:VCALENDAR" in ics.data


def test_a_taken_slot_on_the_page_is_a_clear_409(client, judge):
    link = first_slot_link(client, judge)
    assert client.post(link, data=lawyer_form(link)).status_code == 302
    again = client.post(link, data=lawyer_form(link, oab="999/MT"))
    assert again.status_code == 409
    assert "não está disponível" in again.get_data(as_text=True)


def test_manage_link_get_never_changes_anything(app, client, judge):
    link = first_slot_link(client, judge)
    confirmation = book_on_page(app, client, link)
    manage = re.search(r'(/agendamentos/\d+)\?token=([\w-]+)', confirmation.get_data(as_text=True))
    base, token = manage.group(1), manage.group(2)
    assert client.get(f"{base}/cancelar?token={token}").status_code == 200
    assert client.get(f"{base}/remarcar?token={token}").status_code == 200
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "confirmed"
    assert client.get(f"{base}?token=wrong-token").status_code == 404
    other_id = int(base.rsplit("/", 1)[1]) + 1
    assert client.get(f"/agendamentos/{other_id}?token={token}").status_code == 404


def test_lawyer_reschedules_then_cancels_from_the_pages(app, client, judge):
    link = first_slot_link(client, judge)
    confirmation = book_on_page(app, client, link)
    base, token = re.search(r'(/agendamentos/\d+)\?token=([\w-]+)',
                            confirmation.get_data(as_text=True)).groups()
    choices = re.findall(r'name="start" value="([^"]+)"',
                         client.get(f"{base}/remarcar?token={token}").get_data(as_text=True))
    moved = client.post(f"{base}/remarcar", data={"token": token, "start": choices[3]})
    assert moved.status_code == 302
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        assert booking.ical_sequence == 1
        assert booking.start_at.isoformat()[:16] != unquote(link.split("inicio=")[1])[:16]
    refused = client.post(f"{base}/cancelar", data={"token": token, "reason": "Acordo. " * 80})
    assert refused.status_code == 422  # too long: the reason comes back as typed, to shorten
    assert re.search(r'id="reason-erro"', refused.get_data(as_text=True))
    assert ">" + "Acordo. " * 80 + "</textarea>" in refused.get_data(as_text=True)
    cancelled = client.post(f"{base}/cancelar", data={"token": token, "reason": "Acordo"})
    assert cancelled.status_code == 302
    assert "Cancelado" in client.get(f"{base}?token={token}").get_data(as_text=True)


def test_rescheduling_reaches_the_whole_horizon_week_by_week(app, client):
    """The reschedule page is the agenda's week view: its week links (which keep the manage
    token) reach a time eight weeks ahead and beyond, not only the next four weeks."""
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate, horizon_days=120)
        db.session.commit()
        judge_id = magistrate.id
    confirmation = book_on_page(app, client, first_slot_link(client, judge_id))
    base, token = re.search(r'(/agendamentos/\d+)\?token=([\w-]+)',
                            confirmation.get_data(as_text=True)).groups()
    eight_weeks = utcnow() + timedelta(weeks=8)
    url, far, steps, first_week = f"{base}/remarcar?token={token}", None, 0, None
    while far is None and steps < 20:
        page = client.get(url).get_data(as_text=True)
        starts = re.findall(r'name="start" value="([^"]+)"', page)  # as the page offers them
        first_week = first_week or week_of(min(map(datetime.fromisoformat, starts)))
        far = next((start for start in starts if datetime.fromisoformat(start) >= eight_weeks),
                   None)
        following = re.search(r'href="([^"]+)">Próxima semana', page)
        if far is None:
            assert following, "the week links stop before eight weeks"
            url, steps = following.group(1).replace("&amp;", "&"), steps + 1
            assert f"token={token}" in url
    # One step a week from the first page's week (in the year-end recess that is January's).
    assert far is not None and steps == (week_of(datetime.fromisoformat(far)) - first_week).days // 7
    assert steps >= 4
    moved = client.post(f"{base}/remarcar", data={"token": token, "start": far})
    assert moved.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(Booking)).one().start_at == datetime.fromisoformat(far)


def week_of(instant: datetime) -> date:
    """The Monday of the court's week an instant falls in."""
    return monday_of(instant.astimezone(ZoneInfo("America/Cuiaba")).date())


def log_in(client, email):
    client.log_in(email, PASSWORD)
    assert client.get("/equipe").status_code == 200


def test_magistrate_day_view_cancels_with_a_reason_and_marks_attendance(app, client, judge):
    link = first_slot_link(client, judge)
    book_on_page(app, client, link)
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        booking_id, day = booking.id, booking.start_at.date().isoformat()
    log_in(client, "magistrate@example.jus.br")
    page = client.get(f"/equipe/magistrados/{judge}/atendimentos?dia={day}&visao=semana")
    html = page.get_data(as_text=True)
    assert "Maria Souza" in html and "12345/MT" in html and "0001234-03.2026.8.11.0041" in html
    # the unit and comarca under the magistrate's name: on paper, which hearing room's list
    assert "1ª Vara Cível de Cuiabá · Comarca de Cuiabá</p>" in html
    assert '<a href="tel:+5565999990000">(65) 99999-0000</a>' in html  # read the Brazilian way, dialled
    assert re.search(r"<details class=\"cancel-details\">\s*<summary>Cancelar este atendimento",
                     html)  # closed until asked for
    assert "Cancelar atendimento" in html
    with app.app_context():
        past = utcnow() - timedelta(hours=1)
        db.session.execute(update(Booking).values(start_at=past, end_at=past + timedelta(minutes=30)))
        db.session.commit()
    client.post(f"/equipe/atendimentos/{booking_id}/comparecimento", data={"status": "attended"})
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == "attended"
    past_day = past.astimezone(ZoneInfo("America/Cuiaba")).date().isoformat()
    marked = client.get(f"/equipe/magistrados/{judge}/atendimentos?dia={past_day}"
                        ).get_data(as_text=True)
    assert "Registrado: atendimento realizado." in marked  # the flash and the card say so
    assert "Marcar como realizado" not in marked and "Corrigir: não compareceu" in marked


def test_cancelling_from_the_day_view_asks_for_a_confirmation(app, client, judge):
    link = first_slot_link(client, judge)
    book_on_page(app, client, link)
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id))
    log_in(client, "magistrate@example.jus.br")
    unconfirmed = client.post(f"/equipe/atendimentos/{booking_id}/cancelar",
                              data={"reason": "Audiência urgente no mesmo horário."})
    assert unconfirmed.status_code == 422
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == "confirmed"
    # The day comes back with the form open, the message beside the box, the reason kept.
    page = unconfirmed.get_data(as_text=True)
    assert re.search(r'<details class="cancel-details" open>', page)
    assert re.search(rf'id="confirm-{booking_id}-erro"[^>]*>Marque a confirmação para cancelar '
                     r"o atendimento; nada foi alterado.<", page)
    assert re.search(rf'id="confirm-{booking_id}"[^>]*aria-invalid="true"', page)
    assert 'value="Audiência urgente no mesmo horário."' in page
    too_long = client.post(f"/equipe/atendimentos/{booking_id}/cancelar",
                           data={"reason": "Audiência. " * 60, "confirm": "1"})
    assert too_long.status_code == 422
    page = too_long.get_data(as_text=True)
    assert re.search(rf'id="reason-{booking_id}-erro"[^>]*>[^<]*500', page)
    assert 'value="' + "Audiência. " * 60 + '"' in page  # kept as typed
    blank = client.post(f"/equipe/atendimentos/{booking_id}/cancelar",
                        data={"reason": "   ", "confirm": "1"})
    assert blank.status_code == 422
    assert re.search(rf'id="reason-{booking_id}-erro"[^>]*>Informe o motivo',
                     blank.get_data(as_text=True))
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == "confirmed"
    confirmed = client.post(f"/equipe/atendimentos/{booking_id}/cancelar", data={
        "reason": "Audiência urgente no mesmo horário.", "confirm": "1"})
    page = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Booking, booking_id).status == "cancelled"
    assert 'class="booking-card booking-cancelled"' in page  # looks cancelled in the view


def test_staff_cannot_touch_another_magistrates_bookings(app, client, judge):
    link = first_slot_link(client, judge)
    client.post(link, data=lawyer_form(link))
    with app.app_context():
        booking_id = db.session.scalar(select(Booking.id))
    log_in(client, "asst@example.jus.br")
    assert client.get(f"/equipe/magistrados/{judge}/atendimentos").status_code == 403
    response = client.post(f"/equipe/atendimentos/{booking_id}/cancelar", data={"reason": "x"})
    assert response.status_code == 404  # as for a booking that does not exist


def test_urgent_request_reaches_the_office_and_the_answer_reaches_the_lawyer(app, client, judge):
    bad = client.post(f"/magistrados/{judge}/pedido-urgente", data={"name": "M"})
    assert bad.status_code == 422
    sent = client.post(f"/magistrados/{judge}/pedido-urgente", data={
        "name": "Maria Souza", "oab": "12345/MT", "email": "maria@example.com",
        "phone": "(65) 99999-0000", "case_number": "0001234-03.2026.8.11.0041",
        "reason": "Réu preso há 90 dias sem audiência de custódia.", "consent": "1"})
    assert sent.status_code == 302
    log_in(client, "magistrate@example.jus.br")
    assert "1 pedido urgente aguardando resposta" in client.get("/equipe").get_data(as_text=True)
    listing = client.get(f"/equipe/magistrados/{judge}/pedidos-urgentes").get_data(as_text=True)
    assert "Réu preso" in listing
    with app.app_context():
        request_id = db.session.scalar(select(UrgentRequest.id))
    # An answer refused comes back in its box, with the reason beside it; nothing is sent.
    short = client.post(f"/equipe/pedidos-urgentes/{request_id}/responder",
                        data={"answer": "  Ok  "})
    assert short.status_code == 422
    page = short.get_data(as_text=True)
    assert re.search(rf'id="answer-{request_id}-erro"[^>]*>[^<]*3', page)
    assert re.search(rf'<textarea id="answer-{request_id}"[^>]*aria-invalid="true"[^>]*>  Ok  '
                     r"</textarea>", page)
    with app.app_context():
        assert db.session.get(UrgentRequest, request_id).status == "open"
    client.post(f"/equipe/pedidos-urgentes/{request_id}/responder",
                data={"answer": "Atendimento amanhã às 9h, por vídeo."})
    with app.app_context():
        row = db.session.get(UrgentRequest, request_id)
        assert row.status == "answered"
        kinds = db.session.scalars(select(OutboxMessage.kind)).all()
        assert kinds.count("urgent_request") == 2 and kinds.count("urgent_answer") == 1


def test_the_urgent_requests_page_lists_them_a_page_at_a_time(app, client, judge):
    """They stay (anonymized after the retention period) and add up over the years: those
    waiting come first, then the newest, 25 a page."""
    from datetime import timedelta

    from booking.bookings.views import URGENT_PER_PAGE
    from booking.database import utcnow

    with app.app_context():
        now = utcnow()
        for n in range(URGENT_PER_PAGE + 2):
            db.session.add(UrgentRequest(
                magistrate_id=judge, case_number="0001234-03.2026.8.11.0041",
                reason=f"Pedido respondido {n:02d}", status="answered", answer="Ok.",
                answered_at=now, created_at=now - timedelta(days=n + 1), lawyer_name="Maria",
                lawyer_oab="1/MT", lawyer_email="m@example.com", lawyer_phone="65999990000"))
        db.session.add(UrgentRequest(
            magistrate_id=judge, case_number="0001234-03.2026.8.11.0041",
            reason="Pedido aguardando, o mais antigo", created_at=now - timedelta(days=400),
            lawyer_name="Maria", lawyer_oab="1/MT", lawyer_email="m@example.com",
            lawyer_phone="65999990000"))
        db.session.commit()
    log_in(client, "magistrate@example.jus.br")
    first = client.get(f"/equipe/magistrados/{judge}/pedidos-urgentes").get_data(as_text=True)
    reasons = re.findall(r"Pedido (?:respondido \d+|aguardando, o mais antigo)", first)
    assert len(reasons) == URGENT_PER_PAGE and reasons[0] == "Pedido aguardando, o mais antigo"
    assert reasons[1] == "Pedido respondido 00"  # then the newest
    assert f"{URGENT_PER_PAGE + 3} pedidos" in first and "Página 1 de 2" in first
    second = client.get(f"/equipe/magistrados/{judge}/pedidos-urgentes?pagina=2").get_data(
        as_text=True)
    assert re.findall(r"Pedido respondido \d+", second) == [  # the 24 newest were on page 1
        f"Pedido respondido {n:02d}" for n in range(URGENT_PER_PAGE - 1, URGENT_PER_PAGE + 2)]
    assert '<a href="tel:65999990000">' in first  # the office calls the lawyer from the page
    with app.app_context():
        from booking.bookings.urgent import anonymize_created_before

        assert anonymize_created_before(now) == URGENT_PER_PAGE + 3
        db.session.commit()
    gone = client.get(f"/equipe/magistrados/{judge}/pedidos-urgentes?pagina=2").get_data(
        as_text=True)
    assert "contato removido ao fim do prazo de guarda" in gone
    assert "tel:" not in gone and "mailto:" not in gone and "anonimizado.invalid" not in gone


def test_a_browser_that_confirmed_an_address_books_with_it_without_a_code(app, client, judge):
    book_on_page(app, client, first_slot_link(client, judge))
    assert client.get_cookie("endereco_confirmado") is not None
    link = first_slot_link(client, judge)
    again = client.post(link, data=lawyer_form(link))
    assert again.status_code == 302 and again.headers["Location"].endswith("/confirmacao")
    link = first_slot_link(client, judge)
    other = client.post(link, data=lawyer_form(link, email="outra.pessoa@example.com"))
    assert other.headers["Location"].endswith("/confirmar")  # another address: the code
    elsewhere = app.test_client()  # another browser, the same address: the code too
    link = first_slot_link(elsewhere, judge)
    answer = elsewhere.post(link, data=lawyer_form(link, email="outra.pessoa@example.com"))
    assert answer.headers["Location"].endswith("/confirmar")


def test_with_remembering_off_every_booking_asks_for_the_code(app, client, judge):
    app.config["BOOKING_REMEMBER_DAYS"] = 0
    book_on_page(app, client, first_slot_link(client, judge))
    assert client.get_cookie("endereco_confirmado") is None
    link = first_slot_link(client, judge)
    assert client.post(link, data=lawyer_form(link)).headers["Location"].endswith("/confirmar")


def test_the_staff_home_shows_today_s_appointments(app, client, judge):
    """Whatever the hour: an appointment starting now is today's, in Cuiabá; a free day
    says when the next one is."""
    link = first_slot_link(client, judge)
    book_on_page(app, client, link)
    log_in(client, "magistrate@example.jus.br")
    with app.app_context():
        start = db.session.scalar(select(Booking.start_at))
    local = start.astimezone(ZoneInfo("America/Cuiaba"))
    free = client.get("/equipe").get_data(as_text=True)  # 24 hours' notice: never today
    assert "Nenhum atendimento agendado para hoje. O próximo:" in free
    assert f"dia={local.date().isoformat()}" in free and local.strftime("%H:%M") in free
    assert "Maria Souza" not in free  # only the time, no one's name
    with app.app_context():
        booking = db.session.scalars(select(Booking)).one()
        now = utcnow().replace(second=0, microsecond=0)
        booking.start_at, booking.end_at = now, now + timedelta(minutes=30)
        db.session.commit()
    log_in(client, "magistrate@example.jus.br")
    home = client.get("/equipe").get_data(as_text=True)
    local = now.astimezone(ZoneInfo("America/Cuiaba")).strftime("%H:%M")
    assert f"<strong>{local}</strong>" in home and "Maria Souza" in home
    assert "Ver os detalhes do dia" in home


def test_a_blank_required_field_says_what_to_type_and_required_fields_are_marked(client, judge):
    link = first_slot_link(client, judge)
    form = client.get(link).get_data(as_text=True)
    assert 'aria-required="true"' in form and "(obrigatório)" in form
    refused = client.post(link, data=lawyer_form(link, name="", phone="  ", subject="x"))
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert "Informe o nome completo." in html and "Informe o telefone com DDD." in html
    assert "Informe o assunto" not in html  # typed, but too short: the rule is said
    assert 'src="/static/js/first-error.js"' in html
