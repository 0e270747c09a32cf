"""The magistrate's own calendar closes slots: the pure reading of iCalendar as Outlook,
Google and Thunderbird export it, then real servers on loopback (a plain HTTP server of
.ics files and Radicale over CalDAV), and sources that fail or hang."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from booking.availability.busy_times import busy_periods
from booking.availability.models import BusySource, Slot
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from tests.support.calendars import IcsServer, Radicale
from tests.support.factories import DIRECT, bearer, make_magistrate, make_rules, make_staff, staff_token

FIXTURES = Path(__file__).resolve().parent / "calendars"
CUIABA = ZoneInfo("America/Cuiaba")


def fixture(name: str, **values) -> str:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text.replace("\n", "\r\n")


def utc(*parts) -> datetime:
    return datetime(*parts, tzinfo=UTC)


# --- reading calendars (pure) -------------------------------------------------------------

def test_outlook_weekly_hearing_with_an_exception_in_a_windows_zone():
    text = fixture("outlook-weekly-hearing.ics", FIRST="20270302", UNTIL="20270330",
                   BYDAY="TU", EXDATE="20270309")
    periods = busy_periods([text], utc(2027, 3, 1), utc(2027, 4, 1), "America/Cuiaba")
    assert periods == [(utc(2027, 3, 2, 18), utc(2027, 3, 2, 19)),
                       (utc(2027, 3, 16, 18), utc(2027, 3, 16, 19)),
                       (utc(2027, 3, 23, 18), utc(2027, 3, 23, 19)),
                       (utc(2027, 3, 30, 18), utc(2027, 3, 30, 19))]


def test_a_weekly_event_keeps_its_local_time_across_another_zones_dst_change():
    """New York moves its clocks on 14 March 2027: the UTC hour of the hearing moves."""
    text = fixture("new-york-across-dst.ics")
    periods = busy_periods([text], utc(2027, 3, 1), utc(2027, 4, 1), "America/Cuiaba")
    assert periods == [(utc(2027, 3, 2, 19), utc(2027, 3, 2, 20)),   # EST, -5
                       (utc(2027, 3, 9, 19), utc(2027, 3, 9, 20)),
                       (utc(2027, 3, 23, 20), utc(2027, 3, 23, 21))]  # moved, EDT, -4


def test_cancelled_and_transparent_events_are_not_busy_and_all_day_closes_the_day():
    cancelled = fixture("google-session.ics", DAY="20270302", START="140000", END="150000",
                        STATUS="CANCELLED", TRANSP="OPAQUE")
    free = fixture("google-session.ics", DAY="20270302", START="140000", END="150000",
                   STATUS="CONFIRMED", TRANSP="TRANSPARENT")
    busy = fixture("google-session.ics", DAY="20270302", START="140000", END="150000",
                   STATUS="CONFIRMED", TRANSP="OPAQUE")
    trip = fixture("thunderbird-trip.ics", DAY="20270304", NEXT_DAY="20270305")
    window = (utc(2027, 3, 1), utc(2027, 3, 10))
    assert busy_periods([cancelled, free], *window, "America/Cuiaba") == []
    assert busy_periods([busy, trip], *window, "America/Cuiaba") == [
        (utc(2027, 3, 2, 17), utc(2027, 3, 2, 18)),  # São Paulo is -3
        (utc(2027, 3, 4, 4), utc(2027, 3, 5, 4)),    # the whole day in Cuiabá (-4)
    ]


# --- real servers ------------------------------------------------------------------------

@pytest.fixture
def calendars(tmp_path):
    server = IcsServer(tmp_path / "ics", hang_seconds=3)
    (tmp_path / "ics").mkdir()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def court(database_url, tmp_path, smtp_server):
    from tests.conftest import make_app

    app = make_app(database_url, BUSY_SOURCE_ALLOWED_HOSTS="127.0.0.1",
                   BUSY_SOURCE_ALLOW_HTTP=True, BUSY_SOURCE_TIMEOUT_SECONDS=1,
                   BUSY_SOURCE_FAILURES_BEFORE_NOTICE=2, MAIL_SERVER="127.0.0.1",
                   MAIL_PORT=smtp_server.port, SCHEDULER_LOCK_FILE=str(tmp_path / "s.lock"))
    with app.app_context():
        judge = make_magistrate()
        make_rules(judge, horizon_days=60)
        token = staff_token(make_staff("magistrate", magistrate_id=judge.id))
        db.session.commit()
        app.judge, app.token = judge.id, token
    yield app
    with app.app_context():
        db.engine.dispose()


def open_starts(app) -> set[datetime]:
    with app.app_context():
        return set(db.session.scalars(select(Slot.start_at).where(
            Slot.magistrate_id == app.judge, Slot.state == "open")))


def a_day_with_open_slots(app) -> date:
    """A day the published agenda really offers (whatever day the test runs)."""
    starts = sorted(open_starts(app))
    return starts[len(starts) // 3].astimezone(CUIABA).date()


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CUIABA).astimezone(UTC)


def add_source(app, url: str, kind: str = "ics", **extra):
    client = app.test_client()
    return client.post(f"/api/v1/magistrates/{app.judge}/busy-sources",
                       headers=bearer(app.token), json={"kind": kind, "url": url, **extra})


def refresh_now(app) -> None:
    from booking.availability.busy import refresh

    with app.app_context():
        for source in db.session.scalars(select(BusySource)).all():
            refresh(source)
        db.session.commit()


def test_an_event_closes_its_slots_and_moving_it_reopens_them(court, calendars):
    day = a_day_with_open_slots(court)
    stamp = day.strftime("%Y%m%d")
    # 14:00 to 15:00 in Cuiabá is 15:00 to 16:00 in São Paulo.
    url = calendars.publish("gabinete.ics", fixture(
        "google-session.ics", DAY=stamp, START="150000", END="160000", STATUS="CONFIRMED",
        TRANSP="OPAQUE"))
    answer = add_source(court, url)
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["failures"] == 0 and answer.get_json()["succeeded_at"]
    starts = open_starts(court)
    assert local(day, 14) not in starts and local(day, 14, 30) not in starts
    assert local(day, 13, 30) in starts and local(day, 15) in starts
    calendars.publish("gabinete.ics", fixture(
        "google-session.ics", DAY=stamp, START="170000", END="180000", STATUS="CONFIRMED",
        TRANSP="OPAQUE"))
    refresh_now(court)
    starts = open_starts(court)
    assert local(day, 14) in starts and local(day, 14, 30) in starts
    assert local(day, 16) not in starts and local(day, 16, 30) not in starts
    calendars.publish("gabinete.ics", fixture(
        "google-session.ics", DAY=stamp, START="170000", END="180000", STATUS="CANCELLED",
        TRANSP="OPAQUE"))
    refresh_now(court)
    assert local(day, 16) in open_starts(court)


def test_a_weekly_outlook_hearing_with_one_exception_closes_the_right_weeks(court, calendars):
    day = a_day_with_open_slots(court)
    weekday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day.weekday()]
    days = [day + timedelta(days=7 * n) for n in range(4)]
    text = fixture("outlook-weekly-hearing.ics", FIRST=day.strftime("%Y%m%d"),
                   UNTIL=days[-1].strftime("%Y%m%d"), BYDAY=weekday,
                   EXDATE=days[1].strftime("%Y%m%d"))
    add_source(court, calendars.publish("outlook.ics", text))
    starts = open_starts(court)
    with court.app_context():
        from booking.availability.service import court_closed_days

        closed = court_closed_days(None, days[0], days[-1])
    for number, when in enumerate(days):
        if when in closed:
            continue  # a holiday or the recess: no slots either way
        hearing = local(when, 14)  # 15:00 in Brasília time is 14:00 in Cuiabá
        assert (hearing in starts) is (number == 1), when


def test_a_source_that_fails_or_hangs_leaves_the_agenda_as_it_was(court, calendars):
    before = open_starts(court)
    failing = add_source(court, calendars.url + "/erro.ics")
    assert failing.status_code == 201 and failing.get_json()["failures"] == 1
    assert "500" in failing.get_json()["last_error"]
    hanging = add_source(court, calendars.url + "/lento.ics")
    assert hanging.get_json()["failures"] == 1
    assert "não respondeu" in hanging.get_json()["last_error"]
    elsewhere = add_source(court, calendars.url + "/redireciona.ics")
    assert "não permitido" in elsewhere.get_json()["last_error"]
    assert open_starts(court) == before
    refresh_now(court)  # a second failure in a row tells the office, once
    refresh_now(court)
    with court.app_context():
        notices = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "busy_source_failing")).all()
    assert len(notices) == 3  # one per failing source, not one per failure
    listed = court.test_client().get(f"/api/v1/magistrates/{court.judge}/busy-sources",
                                     headers=bearer(court.token)).get_json()
    assert [s["failures"] for s in listed] == [3, 3, 3]


def test_addresses_outside_the_allowed_hosts_are_refused(court):
    answer = add_source(court, "http://10.0.0.7/calendario.ics")
    assert answer.status_code == 422 and "url" in answer.get_json()["errors"]


def test_a_caldav_calendar_closes_slots(court, tmp_path):
    import caldav

    radicale = Radicale(tmp_path / "radicale")
    radicale.start()
    try:
        url = radicale.make_calendar("juiza", "agenda")
        day = a_day_with_open_slots(court)
        stamp = day.strftime("%Y%m%d")
        client = caldav.DAVClient(url=url, username="juiza", password="x")
        client.calendar(url=url).save_event(fixture(
            "google-session.ics", DAY=stamp, START="150000", END="160000", STATUS="CONFIRMED",
            TRANSP="OPAQUE"))
        answer = add_source(court, url, kind="caldav", username="juiza", password="segredo")
        assert answer.status_code == 201, answer.get_json()
        assert answer.get_json()["failures"] == 0, answer.get_json()
        assert "password" not in answer.get_json()
        starts = open_starts(court)
        assert local(day, 14) not in starts and local(day, 15) in starts
        with court.app_context():
            stored = db.session.scalars(select(BusySource.secret)).one()
            assert "segredo" not in stored  # sealed
    finally:
        radicale.stop()


def next_new_york_clock_change(after: date) -> date:
    """The first day, from `after` on, whose New York UTC offset differs from the day before."""
    zone = ZoneInfo("America/New_York")
    day = after
    while True:
        before = datetime.combine(day - timedelta(days=1), time(12), zone).utcoffset()
        if datetime.combine(day, time(12), zone).utcoffset() != before:
            return day
        day += timedelta(days=1)


def test_a_weekly_hearing_in_new_york_closes_the_right_slots_across_its_clock_change(
        court, calendars):
    """Whatever day the test runs: the next time New York changes its clocks, a weekly
    14:00 hearing there is 15:00 or 14:00 in Cuiabá (which has no daylight saving)."""
    with court.app_context():
        from booking.availability.service import court_closed_days
        from booking.courts.models import Magistrate

        change = next_new_york_clock_change(date.today() + timedelta(days=16))
        make_rules(db.session.get(Magistrate, court.judge),
                   horizon_days=(change - date.today()).days + 30)
        db.session.commit()
    first = change - timedelta(days=14)
    while first.weekday() != 1:  # a Tuesday
        first += timedelta(days=1)
    days = [first + timedelta(days=7 * n) for n in range(4)]
    text = fixture("new-york-across-dst.ics").replace("20270302", first.strftime("%Y%m%d"))
    text = text.replace("EXDATE;TZID=America/New_York:20270316",
                        "EXDATE;TZID=America/New_York:" + days[1].strftime("%Y%m%d"))
    moved = text.index("BEGIN:VEVENT", text.index("END:VEVENT"))  # the moved occurrence of
    text = text[:moved] + "END:VCALENDAR\r\n"                   # 2027 is not needed here
    add_source(court, calendars.publish("nova-york.ics", text))
    starts = open_starts(court)
    with court.app_context():
        closed = court_closed_days(None, days[0], days[-1])
    new_york = ZoneInfo("America/New_York")
    for number, day in enumerate(days):
        if day in closed:
            continue
        hearing = datetime.combine(day, time(14), new_york).astimezone(UTC)
        assert (hearing in starts) is (number == 1), day
        assert hearing + timedelta(hours=1) in starts or day in closed
    offsets = {datetime.combine(d, time(14), new_york).astimezone(CUIABA).hour for d in days}
    assert offsets == {14, 15}  # the change really lies among these four weeks


# --- court changes over booked appointments ------------------------------------------------

def book(app, start: str) -> dict:
    from tests.test_bookings_api import form

    response = app.test_client().post("/api/v1/bookings", headers=DIRECT, json=form(
        {"judge": app.judge, "slots": [{"start": start}]}))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def close_days(app, day: date, **choice):
    with app.app_context():
        from booking.accounts.models import User

        admin = db.session.scalar(select(User).where(User.role == "admin")) or make_staff("admin")
        admin = staff_token(admin)
        db.session.commit()
    return app.test_client().post("/api/v1/closures", headers=bearer(admin), json={
        "comarca_id": None, "first_day": day.isoformat(), "last_day": day.isoformat(),
        "reason": "Falta de energia no fórum", **choice})


def deliver(app) -> None:
    from booking.notifications.service import send_due

    with app.app_context():
        send_due()


def test_a_closure_over_booked_appointments_and_the_three_choices(court, smtp_server):
    day = a_day_with_open_slots(court)
    starts = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() == day)
    court.config["MAX_FUTURE_BOOKINGS_PER_LAWYER"] = 10
    kept, cancelled, asked = (book(court, s.astimezone(CUIABA).isoformat()) for s in starts[:3])
    preview = close_days(court, day, dry_run=True)
    assert preview.status_code == 201 and preview.get_json()["bookings_hit"] == 3
    assert close_days(court, day).get_json()["bookings_hit"] == 3
    client = court.test_client()
    client.log_in("magistrate@example.jus.br", "correct horse battery")
    page = client.get(f"/equipe/magistrados/{court.judge}/conflitos").get_data(as_text=True)
    assert page.count("Falta de energia no fórum") >= 3
    assert "3 agendamentos atingidos" in client.get("/equipe").get_data(as_text=True)

    def decide(booking, action, **extra):
        response = client.post(f"/equipe/atendimentos/{booking['id']}/conflito",
                               data={"action": action, **extra})
        assert response.status_code == 302

    decide(kept, "keep")
    # A reason too long for the lawyer's e-mail is refused beside its box, kept as typed.
    too_long = client.post(f"/equipe/atendimentos/{cancelled['id']}/conflito",
                           data={"action": "cancel", "reason": "Fechado. " * 60})
    assert too_long.status_code == 422
    page = too_long.get_data(as_text=True)
    assert re.search(rf'id="reason-{cancelled["id"]}-erro"[^>]*>[^<]*500', page)
    assert 'value="' + "Fechado. " * 60 + '"' in page
    decide(cancelled, "cancel", reason="O fórum estará fechado; procure a secretaria.")
    decide(asked, "ask")
    deliver(court)
    lawyer = smtp_server.to("maria@example.com")
    subjects = [m.message["Subject"] for m in lawyer]
    assert any(s.startswith("Atendimento cancelado") for s in subjects)
    rebook = next(m.message for m in lawyer if m.message["Subject"].startswith("Escolha outro"))
    link = re.search(r"https?://\S+/remarcar\?token=\S+", rebook.get_body(("plain",)).get_content())
    assert link and "Falta de energia" in rebook.get_body(("plain",)).get_content()
    statuses = {b["id"]: client.get(f"/api/v1/bookings/{b['id']}",
                                     headers=bearer(court.token)).get_json()["status"]
                for b in (kept, cancelled, asked)}
    assert statuses == {kept["id"]: "confirmed", cancelled["id"]: "cancelled",
                        asked["id"]: "confirmed"}
    # The old manage link stopped working; the new one lets the lawyer move the booking.
    assert client.get(f"/agendamentos/{asked['id']}?token={asked['manage_token']}"
                      ).status_code == 404
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    new_time = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() != day)[0]
    moved = court.test_client().post("/" + path, data={
        "start": new_time.astimezone(CUIABA).isoformat(),
        "token": path.split("token=")[1]})
    assert moved.status_code == 302
    with court.app_context():
        from booking.bookings.models import Booking

        booking = db.session.get(Booking, asked["id"])
        assert booking.start_at == new_time and booking.ical_sequence == 1
        assert booking.conflict_reason is None and booking.rebook_deadline is None
    assert "Nenhum agendamento atingido" in client.get(
        f"/equipe/magistrados/{court.judge}/conflitos").get_data(as_text=True)


def test_a_closure_over_many_bookings_is_applied_in_the_background_with_its_progress(
        court, smtp_server):
    """Beyond CLOSURE_INLINE_BOOKINGS the admin gets the answer at once and the scheduler
    cancels in batches, noting its progress; the lawyers hear it when the sender runs."""
    from booking.bookings.conflicts import apply_closure_decisions
    from booking.bookings.models import Booking

    day = a_day_with_open_slots(court)
    starts = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() == day)
    court.config.update(MAX_FUTURE_BOOKINGS_PER_LAWYER=10, CLOSURE_INLINE_BOOKINGS=2)
    booked = [book(court, s.astimezone(CUIABA).isoformat()) for s in starts[:3]]
    other_day = next(s for s in sorted(open_starts(court)) if s.astimezone(CUIABA).date() != day)
    answer = close_days(court, day, on_bookings="cancel",
                        bookings_reason="Fórum fechado por falta de energia.")
    closure = answer.get_json()
    assert answer.status_code == 201 and closure["bookings_hit"] == 3
    assert (closure["bookings_total"], closure["bookings_done"]) == (3, 0)
    assert closure["bookings_finished_at"] is None
    # The closed day offers nothing at once; the other days keep their open times.
    assert not [s for s in open_starts(court) if s.astimezone(CUIABA).date() == day]
    assert other_day in open_starts(court)
    with court.app_context():
        from booking.accounts.models import User

        admin = db.session.scalar(select(User).where(User.role == "admin"))
        assert {db.session.get(Booking, b["id"]).status for b in booked} == {"confirmed"}
    client = court.test_client()
    client.log_in(admin.email, "correct horse battery")
    page = client.get("/equipe/fechamentos").get_data(as_text=True)
    assert 'max="3" value="0"' in page and "0 de 3 cancelado(s); em andamento" in page
    progress_url = f"/equipe/fechamentos/{closure['id']}/andamento"
    assert client.get(progress_url).get_json() == {"total": 3, "done": 0, "finished": False}

    with court.app_context():
        assert apply_closure_decisions(batch=2) == 3
        assert {db.session.get(Booking, b["id"]).status for b in booked} == {"cancelled"}
        assert apply_closure_decisions() == 0  # nothing left: a second run does nothing
    # The cancelled times do not open again on the closed day.
    assert not [s for s in open_starts(court) if s.astimezone(CUIABA).date() == day]
    assert client.get(progress_url).get_json() == {"total": 3, "done": 3, "finished": True}
    assert "3 cancelado(s)." in client.get("/equipe/fechamentos").get_data(as_text=True)
    deliver(court)
    cancelled = [m for m in smtp_server.to("maria@example.com")
                 if m.message["Subject"].startswith("Atendimento cancelado")]
    assert len(cancelled) == 3
    assert "Fórum fechado por falta de energia." in cancelled[0].message.get_body(
        ("plain",)).get_content()


def test_a_closure_applied_in_batches_tells_the_courts_systems_and_the_calendar(court):
    """The background cancellations read the webhook subscribers and the calendars that
    receive bookings once per batch: each cancellation still queues its event for the
    subscriber and its removal from the magistrate's calendar."""
    from booking.bookings.conflicts import apply_closure_decisions
    from booking.webhooks.service import FANOUT_KIND, create_subscriber

    day = a_day_with_open_slots(court)
    starts = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() == day)
    court.config.update(MAX_FUTURE_BOOKINGS_PER_LAWYER=10, CLOSURE_INLINE_BOOKINGS=0)
    booked = [book(court, s.astimezone(CUIABA).isoformat()) for s in starts[:3]]
    with court.app_context():
        subscriber, _secret = create_subscriber({"name": "Sistema", "url": "http://127.0.0.1:9/",
                                                 "events": ["booking.cancelled"]}, None)
        calendar = BusySource(magistrate_id=court.judge, kind="caldav", write_back=True,
                              url="http://127.0.0.1:9/agenda/",
                              next_check_at=datetime.now(UTC) + timedelta(days=30))
        db.session.add(calendar)
        db.session.commit()
        subscriber_id, calendar_id = subscriber.id, calendar.id
    assert close_days(court, day, on_bookings="cancel").get_json()["bookings_total"] == 3
    with court.app_context():
        assert apply_closure_decisions(batch=2) == 3
        queued = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind.in_([FANOUT_KIND, "calendar_write"]))).all()
        events = {(subscriber, m.payload["event"]["data"]["booking_id"])
                  for m in queued if m.kind == FANOUT_KIND and m.subject == "booking.cancelled"
                  for subscriber, _sees_sealed in m.payload["subscribers"]}
        removals = {(m.payload["source_id"], m.payload["booking"]["id"]) for m in queued
                    if m.kind == "calendar_write" and m.payload["event"] == "cancelled"}
    ids = {b["id"] for b in booked}
    assert events == {(subscriber_id, i) for i in ids}
    assert removals == {(calendar_id, i) for i in ids}


def test_a_closure_removed_while_its_decision_is_applied_stops_there(court):
    from booking.bookings.conflicts import apply_closure_decisions
    from booking.bookings.models import Booking

    day = a_day_with_open_slots(court)
    starts = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() == day)
    court.config.update(MAX_FUTURE_BOOKINGS_PER_LAWYER=10, CLOSURE_INLINE_BOOKINGS=0)
    booked = [book(court, s.astimezone(CUIABA).isoformat()) for s in starts[:2]]
    closure = close_days(court, day, on_bookings="cancel").get_json()
    assert closure["bookings_total"] == 2
    with court.app_context():
        from booking.accounts.models import User

        admin = db.session.scalar(select(User).where(User.role == "admin"))
    client = court.test_client()
    client.log_in(admin.email, "correct horse battery")
    assert client.post(f"/equipe/fechamentos/{closure['id']}/remover").status_code == 302
    assert client.get(f"/equipe/fechamentos/{closure['id']}/andamento").status_code == 404
    with court.app_context():
        assert apply_closure_decisions() == 0
        assert {db.session.get(Booking, b["id"]).status for b in booked} == {"confirmed"}
    # Reopened: the day's free times are back.
    assert [s for s in open_starts(court) if s.astimezone(CUIABA).date() == day]


def test_a_rebook_request_without_an_answer_is_cancelled_at_the_deadline(court, smtp_server):
    from booking.bookings.conflicts import expire_rebook_requests
    from booking.bookings.models import Booking

    day = a_day_with_open_slots(court)
    start = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() == day)[0]
    booked = book(court, start.astimezone(CUIABA).isoformat())
    assert close_days(court, day, on_bookings="ask").get_json()["bookings_hit"] == 1
    with court.app_context():
        booking = db.session.get(Booking, booked["id"])
        assert booking.status == "confirmed" and booking.rebook_deadline is not None
        assert expire_rebook_requests(now=booking.rebook_deadline - timedelta(minutes=1)) == 0
        assert expire_rebook_requests(now=booking.rebook_deadline) == 1
        db.session.commit()
        booking = db.session.get(Booking, booked["id"])
        assert booking.status == "cancelled"
        assert "Não foi escolhido um novo horário" in booking.cancel_reason
    deliver(court)
    assert any(m.message["Subject"].startswith("Atendimento cancelado")
               for m in smtp_server.to("maria@example.com"))


def test_bookings_are_written_back_to_the_magistrates_caldav_calendar(court, tmp_path):
    import caldav

    from booking.notifications.service import send_due

    radicale = Radicale(tmp_path / "radicale")
    radicale.start()
    try:
        url = radicale.make_calendar("juiza", "agenda")
        answer = add_source(court, url, kind="caldav", username="juiza", password="x",
                            write_back=True)
        assert answer.status_code == 201 and answer.get_json()["failures"] == 0
        day = a_day_with_open_slots(court)
        starts = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() == day)
        booked = book(court, starts[0].astimezone(CUIABA).isoformat())
        calendar = caldav.DAVClient(url=url, username="juiza", password="x").calendar(url=url)

        def written() -> list:
            with court.app_context():
                send_due()
            return [event.icalendar_component for event in calendar.events()]

        events = written()
        uid = events[0]["UID"]
        assert len(events) == 1 and str(uid).endswith("@agendamento.tjmt.jus.br")
        assert events[0]["DTSTART"].dt.astimezone(UTC) == starts[0]
        refresh_now(court)  # our own event read back is not a busy time: no conflict
        with court.app_context():
            from booking.bookings.models import Booking

            assert db.session.get(Booking, booked["id"]).conflict_reason is None
        client, token = court.test_client(), bearer(booked["manage_token"])
        moved = client.post(f"/api/v1/bookings/{booked['id']}/reschedule", headers=token,
                            json={"start": starts[2].astimezone(CUIABA).isoformat()})
        assert moved.status_code == 200, moved.get_json()
        events = written()
        assert len(events) == 1 and events[0]["UID"] == uid
        assert events[0]["DTSTART"].dt.astimezone(UTC) == starts[2]
        with court.app_context():
            sequence = db.session.get(Booking, booked["id"]).ical_sequence
        assert int(events[0]["SEQUENCE"]) == sequence, sequence
        assert client.post(f"/api/v1/bookings/{booked['id']}/cancel", headers=token,
                           json={}).status_code == 200
        assert written() == []
    finally:
        radicale.stop()


# A secret of the length the settings check asks for (HS256: at least 32 bytes).
JITSI_SECRET = "segredo-do-jitsi-de-32-caracteres-ou-mais"


def test_each_video_appointment_gets_its_own_jitsi_room_with_a_signed_token(court):
    import jwt as pyjwt

    court.config.update(VIDEO_PROVIDER="jitsi", JITSI_BASE_URL="https://meet.tjmt.jus.br",
                        JITSI_APP_ID="agendamento", JITSI_APP_SECRET=JITSI_SECRET,
                        MAX_FUTURE_BOOKINGS_PER_LAWYER=10)
    day = a_day_with_open_slots(court)
    starts = sorted(s for s in open_starts(court) if s.astimezone(CUIABA).date() == day)
    first, second = (book(court, s.astimezone(CUIABA).isoformat()) for s in starts[:2])
    with court.app_context():
        from booking.bookings.models import Booking

        rooms = [db.session.get(Booking, b["id"]).video_url for b in (first, second)]
    assert all(r.startswith("https://meet.tjmt.jus.br/tjmt-atendimento-") for r in rooms)
    assert rooms[0].split("?")[0] != rooms[1].split("?")[0]
    claims = pyjwt.decode(rooms[0].split("jwt=")[1], JITSI_SECRET, algorithms=["HS256"],
                          audience="jitsi", options={"verify_nbf": False})
    assert claims["room"] == rooms[0].split("/")[-1].split("?")[0]
    client, token = court.test_client(), bearer(first["manage_token"])
    invite = client.get(f"/api/v1/bookings/{first['id']}/invite.ics", headers=token)
    text = invite.get_data(as_text=True).replace("\r\n ", "")
    assert "CONFERENCE;FEATURE=VIDEO;LABEL=Sala de vídeo;VALUE=URI:" + rooms[0] in text
    assert "LOCATION:" + rooms[0].replace(",", "\\,").replace(";", "\\;") in text
    manage = client.get(f"/agendamentos/{first['id']}?token={first['manage_token']}")
    assert rooms[0] in manage.get_data(as_text=True)
    client.post(f"/api/v1/bookings/{first['id']}/reschedule", headers=token,
                json={"start": starts[3].astimezone(CUIABA).isoformat()})
    with court.app_context():
        assert db.session.get(Booking, first["id"]).video_url == rooms[0]  # kept
    agenda = client.get(f"/magistrados/{court.judge}/agenda").get_data(as_text=True)
    assert "meet.tjmt.jus.br" not in agenda  # never on a public page


def test_the_rules_page_adds_and_removes_a_calendar(court, calendars):
    client = court.test_client()
    client.log_in("magistrate@example.jus.br", "correct horse battery")
    day = a_day_with_open_slots(court)
    url = calendars.publish("pagina.ics", fixture(
        "thunderbird-trip.ics", DAY=day.strftime("%Y%m%d"),
        NEXT_DAY=(day + timedelta(days=1)).strftime("%Y%m%d")))
    added = client.post(f"/equipe/magistrados/{court.judge}/calendarios",
                        data={"kind": "ics", "url": url})
    assert added.status_code == 302
    assert not any(s.astimezone(CUIABA).date() == day for s in open_starts(court))
    page = client.get(f"/equipe/magistrados/{court.judge}/disponibilidade").get_data(as_text=True)
    assert url in page and "lido em" in page
    with court.app_context():
        source_id = db.session.scalars(select(BusySource.id)).one()
    client.post(f"/equipe/magistrados/{court.judge}/calendarios/{source_id}/remover")
    assert any(s.astimezone(CUIABA).date() == day for s in open_starts(court))
    refused = client.post(f"/equipe/magistrados/{court.judge}/calendarios", data={
        "kind": "caldav", "url": "https://intranet.example.invalid/a.ics", "username": "juiza",
        "password": "segredo-da-juiza", "write_back": "sim"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 422  # the page again, as typed, the message beside the URL
    assert re.search(r'id="source-url-erro"[^>]*>[^<]*não está entre os permitidos', page)
    assert 'value="https://intranet.example.invalid/a.ics"' in page and 'value="juiza"' in page
    assert '<option value="caldav" selected>' in page and 'value="sim" checked' in page
    assert "segredo-da-juiza" not in page and "Digite a senha de novo." in page
