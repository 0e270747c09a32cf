"""The agenda's pages: the public week view, the unit page, the magistrate's rules page
with its preview and exceptions, and the administration's closures page."""

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from booking.availability.court_calendar import closed_days
from booking.availability.models import CourtClosure, Slot
from booking.availability.service import add_closure
from booking.clock import local_today
from booking.extensions import db
from tests.support.factories import PASSWORD, make_magistrate, make_rules, make_staff


@pytest.fixture
def judge(app):
    with app.app_context():
        magistrate = make_magistrate(name="Ana Souza")
        make_rules(magistrate)
        make_staff("magistrate", magistrate_id=magistrate.id)
        other = make_magistrate(unit=magistrate.unit, name="Bruno Lima")
        make_staff("magistrate", "bruno@example.jus.br", magistrate_id=other.id)
        make_staff("admin")
        db.session.commit()
        return {"id": magistrate.id, "unit_id": magistrate.unit_id, "other": other.id}


def log_in(client, email):
    response = client.log_in(email, PASSWORD)
    assert response.status_code in (200, 302)
    assert client.get("/equipe").status_code == 200


def test_public_agenda_shows_the_week_the_brazilian_way(app, client, judge):
    html = client.get(f"/magistrados/{judge['id']}/agenda").get_data(as_text=True)
    assert "Juíza de Direito Ana Souza" in html
    assert "horário de Cuiabá" in html
    assert "Lei 8.906/1994" in html  # booking is an option, not a gate
    assert re.search(r"(segunda|terça|quarta|quinta|sexta)-feira, \d{1,2} de \w+ de 20\d\d", html)
    with app.app_context():  # a week asked for: the last one with an open time (not the recess)
        last_open = db.session.scalar(select(func.max(Slot.start_at)).where(
            Slot.magistrate_id == judge["id"], Slot.state == "open"))
    week = last_open.astimezone(ZoneInfo("America/Cuiaba")).date()
    later_week = client.get(f"/magistrados/{judge['id']}/agenda?semana={week.isoformat()}")
    slot_times = re.findall(r'class="slot-time">(\d\d:\d\d)<', later_week.get_data(as_text=True))
    assert slot_times and set(slot_times) <= {f"{h}:{m}" for h in (13, 14, 15, 16) for m in ("00", "30")}


def next_recess_weekday(today: date) -> date:
    """A weekday of the coming year-end recess (20 December to 6 January)."""
    day = today
    while not (day.weekday() < 5 and ((day.month == 12 and day.day >= 20) or
                                      (day.month == 1 and day.day <= 6))):
        day += timedelta(days=1)
    return day


def test_public_agenda_names_the_reason_of_a_closed_day(app, client, judge):
    with app.app_context():
        day = next_recess_weekday(local_today())
    # The recess, or a holiday within it (Christmas; New Year's Eve, when today is the 31st)
    reason = closed_days(day, day)[day]
    html = client.get(f"/magistrados/{judge['id']}/agenda?semana={day.isoformat()}")
    assert f"Sem atendimento: {reason}." in html.get_data(as_text=True)


def listed_days(html: str) -> list[date]:
    return [date.fromisoformat(day) for day in re.findall(r'id="dia-(\d{4}-\d\d-\d\d)"', html)]


def test_public_agenda_opens_on_the_first_week_with_an_open_time(app, client, judge):
    """With the next three weeks closed (whatever day the test runs), the agenda opens on
    the first week that has an open time, and lists no day that has passed."""
    with app.app_context():
        today = local_today()
        closed_until = today + timedelta(days=21)
        add_closure({"comarca_id": None, "first_day": today, "last_day": closed_until,
                     "reason": "Greve"}, None)
        db.session.commit()
        first_open = db.session.scalar(select(func.min(Slot.start_at)).where(
            Slot.magistrate_id == judge["id"], Slot.state == "open"))
        first_open_day = first_open.astimezone(ZoneInfo("America/Cuiaba")).date()
    assert first_open_day > closed_until
    html = client.get(f"/magistrados/{judge['id']}/agenda").get_data(as_text=True)
    days = listed_days(html)
    assert first_open_day in days
    assert all(day >= today for day in days)
    assert 'class="slot-time"' in html
    # This very week, asked for, is all closed: it offers the jump to the first open time.
    this_week = client.get(f"/magistrados/{judge['id']}/agenda?semana={today.isoformat()}")
    monday = first_open_day - timedelta(days=first_open_day.weekday())
    assert f"semana={monday.isoformat()}" in this_week.get_data(as_text=True)
    assert all(day >= today for day in listed_days(this_week.get_data(as_text=True)))


def test_unknown_agenda_is_a_404_page(client, judge):
    response = client.get("/magistrados/999999/agenda")
    assert response.status_code == 404 and "Não encontrado" in response.get_data(as_text=True)


def test_unit_page_links_each_agenda(client, judge):
    html = client.get(f"/unidades/{judge['unit_id']}").get_data(as_text=True)
    assert f"/magistrados/{judge['id']}/agenda" in html
    assert f"/magistrados/{judge['other']}/agenda" in html


def test_rules_page_needs_the_magistrate_or_an_assistant(client, judge):
    url = f"/equipe/magistrados/{judge['id']}/disponibilidade"
    assert client.get(url).status_code == 302
    log_in(client, "bruno@example.jus.br")
    assert client.get(url).status_code == 403
    client.post("/sair")
    log_in(client, "admin@example.jus.br")
    assert client.get(url).status_code == 403


def rules_form(**overrides):
    form = {"slot_minutes": "60", "buffer_minutes": "0", "min_notice_hours": "24",
            "horizon_days": "30", "meeting_url": "https://sala.example.jus.br/5", "address": "",
            "win-0-weekday": "0", "win-0-start": "09:00", "win-0-end": "12:00", "win-0-video": "1",
            "action": "preview"}
    form.update(overrides)
    return form


def test_preview_shows_slots_without_saving_then_save_publishes(app, client, judge):
    log_in(client, "magistrate@example.jus.br")
    url = f"/equipe/magistrados/{judge['id']}/disponibilidade"
    with app.app_context():
        before = db.session.scalar(select(func.count()).select_from(Slot))
    preview = client.post(url, data=rules_form())
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Prévia: 14 dias a partir do primeiro horário" in html
    assert "segunda-feira" in html and "09:00, horário de Cuiabá" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Slot)) == before
    saved = client.post(url, data=rules_form(action="save"))
    assert saved.status_code == 302
    with app.app_context():
        starts = db.session.scalars(select(Slot.start_at).where(
            Slot.magistrate_id == judge["id"], Slot.state == "open")).all()
    from zoneinfo import ZoneInfo
    local = {s.astimezone(ZoneInfo("America/Cuiaba")).strftime("%a %H:%M") for s in starts}
    assert local <= {"Mon 09:00", "Mon 10:00", "Mon 11:00"}
    assert "Regras salvas" in client.get(url).get_data(as_text=True)


def test_rules_edited_in_the_recess_preview_the_first_weeks_after_it(app, judge):
    """On Sunday night in the year-end recess the next two weeks hold no working day: the
    preview starts at the first slot the rules publish (7 January) instead of showing an
    empty list, as if the rules were wrong."""
    from booking.availability.service import PREVIEW_DAYS, preview
    from booking.courts.models import Magistrate

    cuiaba = ZoneInfo("America/Cuiaba")
    sunday_night = datetime(2026, 12, 27, 23, 30, tzinfo=cuiaba)
    mornings = [{"weekday": weekday, "start": time(9), "end": time(12), "modes": ["video"]}
                for weekday in range(5)]
    rules = {"slot_minutes": 60, "buffer_minutes": 0, "min_notice_hours": 24,
             "horizon_days": 60, "weekly_windows": mornings}
    with app.app_context():
        slots = preview(db.session.get(Magistrate, judge["id"]), rules, now=sunday_night)
    days = sorted({slot.start.astimezone(cuiaba).date() for slot in slots})
    assert days[0] == date(2027, 1, 7)  # the recess ends on the 6th, a Wednesday
    assert days[-1] < days[0] + timedelta(days=PREVIEW_DAYS)
    assert len(days) == 10  # two working weeks, no holiday in them
    assert {slot.start.astimezone(cuiaba).strftime("%H:%M") for slot in slots} == {
        "09:00", "10:00", "11:00"}
    with app.app_context():
        assert preview(db.session.get(Magistrate, judge["id"]), {**rules, "horizon_days": 10},
                       now=sunday_night) == []  # nothing within the horizon: nothing


def test_rule_errors_appear_beside_their_fields(client, judge):
    log_in(client, "magistrate@example.jus.br")
    url = f"/equipe/magistrados/{judge['id']}/disponibilidade"
    response = client.post(url, data=rules_form(**{
        "slot_minutes": "5", "win-2-weekday": "0", "win-2-start": "11:00", "win-2-end": "13:00",
        "win-2-video": "1"}))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="slot_minutes-erro"[^>]*>Deve estar entre 15 e 120\.', html)
    # told in the same answer, not after the duration is fixed
    assert re.search(r'id="win-2-start-erro"[^>]*>Sobrepõe outro horário de segunda-feira', html)
    response = client.post(url, data=rules_form(**{
        "win-2-weekday": "0", "win-2-start": "11:00", "win-2-end": "13:00", "win-2-video": "1"}))
    assert re.search(r'id="win-2-start-erro"[^>]*>Sobrepõe outro horário de segunda-feira',
                     response.get_data(as_text=True))
    assert 'value="11:00"' in response.get_data(as_text=True)  # what was typed is kept


def test_exception_form_blocks_and_unblocks_a_day(app, client, judge):
    log_in(client, "magistrate@example.jus.br")
    with app.app_context():
        first = db.session.scalars(select(Slot.start_at).where(
            Slot.magistrate_id == judge["id"]).order_by(Slot.start_at)).first()
    from zoneinfo import ZoneInfo
    day = first.astimezone(ZoneInfo("America/Cuiaba")).date().isoformat()
    response = client.post(f"/equipe/magistrados/{judge['id']}/excecoes", data={
        "kind": "block", "start_day": day, "start_time": "00:00", "end_day": day,
        "end_time": "23:59", "reason": "Sessão do Júri"})
    assert response.status_code == 302
    page = client.get(f"/equipe/magistrados/{judge['id']}/disponibilidade").get_data(as_text=True)
    assert "Sessão do Júri" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Slot).where(
            Slot.magistrate_id == judge["id"], Slot.start_at == first)) == 0
    exception_id = re.search(r"/excecoes/(\d+)/remover", page).group(1)
    client.post(f"/equipe/magistrados/{judge['id']}/excecoes/{exception_id}/remover")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Slot).where(
            Slot.magistrate_id == judge["id"], Slot.start_at == first)) == 1
    # Refused: the page again, with what was typed and the message beside the day.
    bad = client.post(f"/equipe/magistrados/{judge['id']}/excecoes", data={
        "kind": "extra", "start_day": "", "start_time": "08:00", "end_day": day,
        "end_time": "12:00", "reason": "Mutirão", "mode-in_person": "1"})
    page = bad.get_data(as_text=True)
    assert bad.status_code == 422 and 'id="start_day-erro"' in page
    assert 'aria-describedby="start_day-erro"' in page
    assert '<option value="extra" selected>' in page and 'value="Mutirão"' in page
    assert f'id="end_day" name="end_day" type="date" value="{day}"' in page
    assert 'value="08:00"' in page and 'name="mode-in_person" value="1" checked' in page
    assert 'name="mode-video" value="1" checked' not in page


def test_closures_page_is_for_admins(app, client, judge):
    with app.app_context():  # ahead of today whenever it runs: the page lists closures to come
        first = local_today() + timedelta(days=60)
    second, day_before = first + timedelta(days=1), first - timedelta(days=1)
    log_in(client, "magistrate@example.jus.br")
    assert client.get("/equipe/fechamentos").status_code == 403
    client.post("/sair")
    log_in(client, "admin@example.jus.br")
    assert client.get("/equipe/fechamentos").status_code == 200
    response = client.post("/equipe/fechamentos", data={
        "comarca_id": "", "first_day": first.isoformat(), "last_day": day_before.isoformat(),
        "reason": "Obras"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422  # as typed, the message beside the last day
    assert re.search(r'id="last_day-erro"[^>]*>O último dia deve ser igual ou posterior', page)
    assert f'value="{day_before.isoformat()}"' in page and 'value="Obras"' in page
    # Refused at the second step: the decision taken stays on the page, with its reason.
    response = client.post("/equipe/fechamentos", data={
        "comarca_id": "", "first_day": first.isoformat(), "last_day": second.isoformat(),
        "reason": "Obras no prédio", "action": "save", "on_bookings": "cancel",
        "bookings_reason": "Prédio interditado. " * 30})
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and 'id="bookings_reason-erro"' in page
    assert 'name="on_bookings" value="cancel" checked' in page
    assert 'value="Prédio interditado. Prédio' in page and 'value="Obras no prédio"' in page
    preview = client.post("/equipe/fechamentos", data={
        "comarca_id": "", "first_day": first.isoformat(), "last_day": second.isoformat(),
        "reason": "Obras no prédio", "action": "preview"})
    assert preview.status_code == 200 and "agendamento(s) confirmado(s)" in preview.get_data(
        as_text=True)
    with app.app_context():
        assert db.session.scalars(select(CourtClosure.reason)).all() == []  # only a preview
    response = client.post("/equipe/fechamentos", data={
        "comarca_id": "", "first_day": first.isoformat(), "last_day": second.isoformat(),
        "reason": "Obras no prédio", "action": "save", "on_bookings": "flag"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalars(select(CourtClosure.reason)).all() == ["Obras no prédio"]
    assert "Obras no prédio" in client.get("/equipe/fechamentos").get_data(as_text=True)
