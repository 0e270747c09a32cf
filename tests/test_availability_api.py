"""The agenda's routes: open slots, rules, exceptions and closures, with their role checks."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, event, func, select, text

from booking.availability import service
from booking.availability.court_calendar import WEEKEND_REASON, closed_days
from booking.availability.models import AvailabilityRule, Slot
from booking.availability.schemas import SlotQuerySchema
from booking.courts.models import Magistrate
from booking.extensions import db
from tests.support.factories import (
    bearer,
    make_magistrate,
    make_rules,
    make_staff,
    make_unit,
    staff_token,
)

CUIABA = ZoneInfo("America/Cuiaba")
UTC = UTC


@pytest.fixture
def court(app):
    """Two magistrates in two comarcas with afternoons published, and tokens for every role."""
    with app.app_context():
        judge = make_magistrate(name="Ana Souza")
        other = make_magistrate(unit=make_unit("Vara Única de Sinop", "Sinop",
                                               office_email="snp@example.jus.br"),
                                name="Bruno Lima", title="Juiz de Direito")
        make_rules(judge)
        make_rules(other)
        tokens = {
            "magistrate": staff_token(make_staff("magistrate", magistrate_id=judge.id)),
            "other_magistrate": staff_token(make_staff("magistrate", "other@example.jus.br",
                                                       magistrate_id=other.id)),
            "assistant": staff_token(make_staff("assistant", magistrate_id=judge.id)),
            "other_assistant": staff_token(make_staff("assistant", "asst2@example.jus.br",
                                                      magistrate_id=other.id)),
            "corregedoria": staff_token(make_staff("corregedoria")),
            "admin": staff_token(make_staff("admin")),
        }
        ids = {"judge": judge.id, "other": other.id, "judge_comarca": judge.unit.comarca_id,
               "other_comarca": other.unit.comarca_id}
        db.session.commit()
    return {**ids, "tokens": tokens}


def slots_of(client, magistrate_id, **query):
    response = client.get(f"/api/v1/magistrates/{magistrate_id}/slots", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_open_slots_are_bookable_now_and_in_the_courts_zone(client, court):
    slots = slots_of(client, court["judge"])
    assert slots, "four weeks of weekday afternoons should offer something"
    now = datetime.now(UTC)
    for slot in slots:
        start, end = datetime.fromisoformat(slot["start"]), datetime.fromisoformat(slot["end"])
        assert slot["start"].endswith("-04:00")
        assert end - start == timedelta(minutes=30)
        assert start >= now + timedelta(hours=24) - timedelta(minutes=1)
        assert slot["modes"] == ["video", "in_person"]
        local = start.astimezone(CUIABA)
        assert time(13) <= local.time() < time(17)
        assert local.date() not in closed_days(local.date(), local.date())
    first_day = datetime.fromisoformat(slots[0]["start"]).date()
    assert all(datetime.fromisoformat(s["start"]).date() <= first_day + timedelta(days=28)
               for s in slots)


def test_slots_between_dates_inclusive(client, court):
    all_slots = slots_of(client, court["judge"], **{"from": date.today().isoformat(),
                                                    "to": (date.today() + timedelta(days=61)).isoformat()})
    day = datetime.fromisoformat(all_slots[-1]["start"]).date()
    one_day = slots_of(client, court["judge"], **{"from": day.isoformat(), "to": day.isoformat()})
    assert one_day and all(s["start"].startswith(day.isoformat()) for s in one_day)
    assert [s for s in all_slots if s["start"].startswith(day.isoformat())] == one_day


@pytest.mark.parametrize("query, field", [
    ({"from": "2027-01-01", "to": "2027-03-04"}, "to"),
    ({"from": "2027-03-10", "to": "2027-03-01"}, "to"),
    ({"from": "2027-02-30"}, "from"),
    ({"to": "amanhã"}, "to"),
])
def test_bad_slot_ranges_are_422(client, court, query, field):
    response = client.get(f"/api/v1/magistrates/{court['judge']}/slots", query_string=query)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"]


def test_sixty_two_days_is_allowed(client, court):
    response = client.get(f"/api/v1/magistrates/{court['judge']}/slots",
                          query_string={"from": "2027-01-01", "to": "2027-03-03"})
    assert response.status_code == 200


def test_unknown_magistrate_is_404(client, court):
    response = client.get("/api/v1/magistrates/987654/slots")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("who, status", [
    (None, 401), ("admin", 403), ("corregedoria", 403), ("other_magistrate", 403),
    ("other_assistant", 403), ("magistrate", 200), ("assistant", 200),
])
def test_who_may_read_and_change_the_rules(client, court, who, status):
    headers = bearer(court["tokens"][who]) if who else {}
    url = f"/api/v1/magistrates/{court['judge']}/availability"
    assert client.get(url, headers=headers).status_code == status
    body = {"slot_minutes": 45, "weekly_windows": [
        {"weekday": 0, "start": "09:00", "end": "12:00", "modes": ["video"]}],
        "meeting_url": "https://sala.example.jus.br/2"}
    assert client.put(url, json=body, headers=headers).status_code == status


def test_rules_for_an_unknown_magistrate_are_404(client, court):
    response = client.get("/api/v1/magistrates/987654/availability",
                          headers=bearer(court["tokens"]["magistrate"]))
    assert response.status_code == 404


def test_invalid_rules_are_422_per_field(client, court):
    url = f"/api/v1/magistrates/{court['judge']}/availability"
    body = {"slot_minutes": 10, "meeting_url": None, "weekly_windows": [
        {"weekday": 1, "start": "13:00", "end": "17:00", "modes": ["video"]},
        {"weekday": 1, "start": "16:00", "end": "18:00", "modes": ["video"]}]}
    response = client.put(url, json=body, headers=bearer(court["tokens"]["magistrate"]))
    assert response.status_code == 422
    errors = response.get_json()["errors"]  # every problem in one answer, not one per try
    assert errors["slot_minutes"] == ["Deve estar entre 15 e 120."]
    assert errors["weekly_windows.1.start"] == ["Sobrepõe outro horário de terça-feira."]
    assert "meeting_url" in errors
    body["weekly_windows"] = [{"weekday": 5, "start": "17:00", "end": "13:00", "modes": []}]
    errors = client.put(url, json=body, headers=bearer(court["tokens"]["magistrate"])).get_json()["errors"]
    assert {"weekly_windows.0.weekday", "weekly_windows.0.modes"} <= set(errors)


@pytest.mark.parametrize("change, told", [
    # a window refused whole: the others are not compared under shifted indices
    ({"weekly_windows": ["13:00", {"weekday": 1, "start": "13:00", "end": "17:00",
                                   "modes": ["in_person"]}]}, {"weekly_windows.0", "address"}),
    # a refused link is told once, by its own message
    ({"meeting_url": "http://sala", "slot_minutes": 5}, {"meeting_url", "slot_minutes"}),
    ({"meeting_url": 12, "address": ["x"]}, {"meeting_url", "address"}),
    ({"weekly_windows": {"weekday": 1}}, {"weekly_windows"}),
    ({"weekly_windows": [None, 7, [], {"modes": "video"}]}, {"weekly_windows.0"}),
])
def test_odd_rules_are_told_field_by_field(client, court, change, told):
    url = f"/api/v1/magistrates/{court['judge']}/availability"
    body = {"slot_minutes": 30, "meeting_url": None, "weekly_windows": [
        {"weekday": 1, "start": "13:00", "end": "17:00", "modes": ["video"]}], **change}
    response = client.put(url, json=body, headers=bearer(court["tokens"]["magistrate"]))
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert all(any(key.startswith(name) for key in errors) for name in told), errors
    assert all(len(messages) == 1 for messages in errors.values()), errors


def test_changing_rules_republishes_and_never_moves_a_booked_slot(app, client, court):
    with app.app_context():
        booked = db.session.scalars(select(Slot).where(Slot.magistrate_id == court["judge"])
                                    .order_by(Slot.start_at).offset(5).limit(1)).one()
        booked.state = "booked"
        booked_id, booked_start, booked_end = booked.id, booked.start_at, booked.end_at
        db.session.commit()
    body = {"slot_minutes": 45, "buffer_minutes": 15, "meeting_url": "https://sala.example.jus.br/9",
            "weekly_windows": [{"weekday": d, "start": "13:00", "end": "18:00", "modes": ["video"]}
                               for d in range(5)]}
    response = client.put(f"/api/v1/magistrates/{court['judge']}/availability", json=body,
                          headers=bearer(court["tokens"]["assistant"]))
    assert response.status_code == 200
    assert response.get_json()["slot_minutes"] == 45
    with app.app_context():
        kept = db.session.get(Slot, booked_id)
        assert (kept.state, kept.start_at, kept.end_at) == ("booked", booked_start, booked_end)
        opened = db.session.scalars(select(Slot).where(
            Slot.magistrate_id == court["judge"], Slot.state == "open")).all()
        assert opened
        for slot in opened:
            assert slot.end_at - slot.start_at == timedelta(minutes=45)
            assert slot.offers_video and not slot.offers_in_person
            assert slot.end_at + timedelta(minutes=15) <= booked_start or \
                slot.start_at >= booked_end + timedelta(minutes=15)


def test_block_removes_slots_and_removing_it_restores_them(app, client, court):
    headers = bearer(court["tokens"]["magistrate"])
    first = slots_of(client, court["judge"])[0]
    day = datetime.fromisoformat(first["start"]).date()
    block = {"kind": "block", "start": f"{day}T00:00:00-04:00", "end": f"{day}T23:59:00-04:00",
             "reason": "Sessão do Júri"}
    created = client.post(f"/api/v1/magistrates/{court['judge']}/exceptions", json=block,
                          headers=headers)
    assert created.status_code == 201, created.get_json()
    assert created.get_json()["reason"] == "Sessão do Júri"
    same_day = {"from": day.isoformat(), "to": day.isoformat()}
    assert slots_of(client, court["judge"], **same_day) == []
    listed = client.get(f"/api/v1/magistrates/{court['judge']}/exceptions", headers=headers)
    assert [e["id"] for e in listed.get_json()] == [created.get_json()["id"]]
    removed = client.delete(
        f"/api/v1/magistrates/{court['judge']}/exceptions/{created.get_json()['id']}",
        headers=headers)
    assert removed.status_code == 204
    assert slots_of(client, court["judge"], **same_day)
    # Another magistrate cannot touch these exceptions.
    other = client.post(f"/api/v1/magistrates/{court['judge']}/exceptions", json=block,
                        headers=bearer(court["tokens"]["other_magistrate"]))
    assert other.status_code == 403


def test_extra_opening_adds_slots_and_bad_exceptions_are_422(client, court):
    headers = bearer(court["tokens"]["magistrate"])
    url = f"/api/v1/magistrates/{court['judge']}/exceptions"
    # A day past the notice period even for its first hours, whatever the time now.
    soon = datetime.now(ZoneInfo("America/Cuiaba")).date() + timedelta(days=2)
    day = next(d for d in (datetime.fromisoformat(s["start"]).date()
                           for s in slots_of(client, court["judge"])) if d >= soon)
    extra = {"kind": "extra", "start": f"{day}T08:00:00-04:00", "end": f"{day}T10:00:00-04:00",
             "modes": ["in_person"]}
    assert client.post(url, json=extra, headers=headers).status_code == 201
    morning = [s for s in slots_of(client, court["judge"], **{"from": day.isoformat(),
                                                               "to": day.isoformat()})
               if s["start"] < f"{day}T10"]
    assert [s["modes"] for s in morning] == [["in_person"]] * 4
    backwards = {**extra, "end": f"{day}T07:00:00-04:00"}
    assert "end" in client.post(url, json=backwards, headers=headers).get_json()["errors"]
    naive = {**extra, "start": f"{day}T08:00:00"}
    assert client.post(url, json=naive, headers=headers).status_code == 422
    past = {"kind": "block", "start": "2020-01-01T08:00:00-04:00", "end": "2020-01-02T08:00:00-04:00"}
    response = client.post(url, json=past, headers=headers)
    assert response.status_code == 422 and "end" in response.get_json()["errors"]


def test_an_extra_opening_on_a_closed_day_is_refused_with_the_reason(client, court):
    """A Saturday (or a holiday, the recess) publishes nothing: the magistrate is told why
    instead of seeing the opening accepted and no time appear."""
    headers = bearer(court["tokens"]["magistrate"])
    url = f"/api/v1/magistrates/{court['judge']}/exceptions"
    today = datetime.now(ZoneInfo("America/Cuiaba")).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    while closed_days(saturday, saturday)[saturday] != WEEKEND_REASON:  # the recess, a holiday
        saturday += timedelta(days=7)
    extra = {"kind": "extra", "start": f"{saturday}T08:00:00-04:00",
             "end": f"{saturday}T10:00:00-04:00", "modes": ["video"]}
    refused = client.post(url, json=extra, headers=headers)
    assert refused.status_code == 422
    assert refused.get_json()["errors"]["start"] == [
        f"Não há expediente em {saturday:%d/%m/%Y} (fim de semana): uma abertura extra nesse "
        "dia não publicaria horários. Escolha um dia de expediente."]
    christmas = {**extra, "start": f"{today.year + 1}-12-25T08:00:00-04:00",
                 "end": f"{today.year + 1}-12-25T10:00:00-04:00"}
    assert "Não há expediente" in client.post(url, json=christmas, headers=headers
                                              ).get_json()["errors"]["start"][0]
    # A block on a closed day stays allowed (it changes nothing, and says what it says).
    block = {**extra, "kind": "block"}
    block.pop("modes")
    assert client.post(url, json=block, headers=headers).status_code == 201


def test_comarca_closure_empties_that_comarca_only(client, court):
    first = slots_of(client, court["judge"])[0]
    day = datetime.fromisoformat(first["start"]).date()
    same_day = {"from": day.isoformat(), "to": day.isoformat()}
    assert slots_of(client, court["other"], **same_day)
    closure = {"comarca_id": court["judge_comarca"], "first_day": day.isoformat(),
               "last_day": day.isoformat(), "reason": "Feriado municipal"}
    assert client.post("/api/v1/closures", json=closure,
                       headers=bearer(court["tokens"]["magistrate"])).status_code == 403
    created = client.post("/api/v1/closures", json=closure, headers=bearer(court["tokens"]["admin"]))
    assert created.status_code == 201
    assert slots_of(client, court["judge"], **same_day) == []
    assert slots_of(client, court["other"], **same_day)
    listed = client.get("/api/v1/closures", headers=bearer(court["tokens"]["admin"])).get_json()
    assert [c["reason"] for c in listed] == ["Feriado municipal"]
    assert client.delete(f"/api/v1/closures/{created.get_json()['id']}",
                         headers=bearer(court["tokens"]["admin"])).status_code == 204
    assert slots_of(client, court["judge"], **same_day)
    bad = client.post("/api/v1/closures", json={**closure, "comarca_id": 99999},
                      headers=bearer(court["tokens"]["admin"]))
    assert bad.status_code == 422 and "comarca_id" in bad.get_json()["errors"]


def test_lifting_a_closure_republishes_its_days_only_and_as_before(app, client, court):
    """A court-wide closure lifted: its day gets back the very slots it had, and every other
    day keeps its rows (the admin does not wait for every agenda's whole horizon)."""
    def open_slots():
        with app.app_context():
            return {row.start_at.replace(tzinfo=UTC): (row.id, row.end_at, row.offers_video,
                                                      row.offers_in_person)
                    for row in db.session.scalars(select(Slot).where(
                        Slot.magistrate_id == court["judge"], Slot.state == "open"))}

    days = sorted({datetime.fromisoformat(s["start"]).date() for s in slots_of(client, court["judge"])})
    day = days[len(days) // 2]
    before = open_slots()
    closure = {"first_day": day.isoformat(), "last_day": day.isoformat(), "reason": "Decreto"}
    created = client.post("/api/v1/closures", json=closure, headers=bearer(court["tokens"]["admin"]))
    assert created.status_code == 201
    assert client.delete(f"/api/v1/closures/{created.get_json()['id']}",
                         headers=bearer(court["tokens"]["admin"])).status_code == 204
    after = open_slots()

    def on_day(start):
        return start.astimezone(CUIABA).date() == day

    assert {k: v[1:] for k, v in after.items()} == {k: v[1:] for k, v in before.items()}
    assert any(on_day(start) for start in after)
    assert {k: v for k, v in after.items() if not on_day(k)} == \
        {k: v for k, v in before.items() if not on_day(k)}, "other days were rewritten"
    with app.app_context():
        service.publish_slots(db.session.get(Magistrate, court["judge"]))
        db.session.commit()
    assert {k: v[1:] for k, v in open_slots().items()} == {k: v[1:] for k, v in after.items()}


def test_republishing_one_day_keeps_the_buffer_from_the_slot_before_midnight(app):
    """Extra openings on both sides of midnight: republishing only the second day places its
    first slot after the buffer from the eve's last slot, exactly as a whole republish does."""
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    day = date(2027, 3, 3)
    midnight = datetime.combine(day, time(0), CUIABA)
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate, now=now, slot_minutes=60, buffer_minutes=30, min_notice_hours=0)
        for start, end in [(midnight - timedelta(hours=1), midnight),
                           (midnight, midnight + timedelta(hours=2))]:
            service.add_exception(magistrate, {"kind": "extra", "start_at": start, "end_at": end,
                                               "modes": ["video"]}, None, now=now)

        def published():
            return sorted((s.start_at.replace(tzinfo=UTC), s.end_at.replace(tzinfo=UTC))
                          for s in db.session.scalars(select(Slot).where(
                              Slot.magistrate_id == magistrate.id)))

        whole = published()
        assert (midnight + timedelta(minutes=30), midnight + timedelta(minutes=90)) in whole
        service.publish_days([magistrate], day, day, now)
        assert published() == whole


def test_republishing_days_of_many_agendas_at_once_publishes_what_each_would_alone(app):
    """Two zones, a block, a booked slot and the buffer: publish_days over three days of
    both agendas leaves exactly the slots a whole republish of each leaves."""
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    first, last = date(2027, 3, 3), date(2027, 3, 5)
    with app.app_context():
        agendas = [make_magistrate(name="Ana Souza"),
                   make_magistrate(name="Bruno Lima", timezone="America/Sao_Paulo")]
        for magistrate in agendas:
            make_rules(magistrate, now=now, slot_minutes=40, buffer_minutes=15)
        zone = ZoneInfo("America/Sao_Paulo")
        service.add_exception(agendas[1], {
            "kind": "block", "start_at": datetime.combine(first, time(14, 10), zone),
            "end_at": datetime.combine(first, time(14, 20), zone)}, None, now=now)
        booked = db.session.scalars(select(Slot).where(
            Slot.magistrate_id == agendas[0].id, Slot.start_at >= datetime.combine(
                date(2027, 3, 4), time(0), CUIABA)).order_by(Slot.start_at)).first()
        booked.state = "booked"
        db.session.flush()

        def published():
            return sorted((s.magistrate_id, s.start_at.replace(tzinfo=UTC), s.state)
                          for s in db.session.scalars(select(Slot)))

        for magistrate in agendas:
            service.publish_slots(magistrate, now)
        whole = published()
        result = service.publish_days(agendas, first, last, now)
        assert published() == whole
        assert result.created == result.removed > 0


@pytest.mark.parametrize("now, closed, reason", [
    (datetime(2027, 9, 1, 12, tzinfo=UTC), date(2027, 9, 7), "national holiday"),
    (datetime(2023, 11, 10, 12, tzinfo=UTC), date(2023, 11, 20), "Mato Grosso holiday"),
    (datetime(2026, 12, 10, 12, tzinfo=UTC), date(2026, 12, 22), "year-end recess"),
])
def test_no_slots_on_days_the_court_is_closed(app, now, closed, reason):
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate, now=now)
        days = {s.astimezone(CUIABA).date() for s in db.session.scalars(
            select(Slot.start_at).where(Slot.magistrate_id == magistrate.id))}
        assert closed not in days, reason
        assert closed - timedelta(days=7) in days or closed + timedelta(days=21) in days


def test_daily_roll_forward_publishes_new_days_once(app):
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate, now=now, horizon_days=10)
        rule = db.session.get(AvailabilityRule, magistrate.id)
        assert rule.published_until == date(2027, 3, 11)
        before = db.session.scalar(select(func.count()).select_from(Slot))
        later = now + timedelta(days=3)
        assert service.roll_horizon_forward(later) == 1
        assert rule.published_until == date(2027, 3, 14)
        after = db.session.scalar(select(func.count()).select_from(Slot))
        assert after == before + 8  # 12 to 14 March: only Friday the 12th is a weekday
        assert service.roll_horizon_forward(later) == 0
        assert db.session.scalar(select(func.count()).select_from(Slot)) == after


def test_the_daily_roll_forward_keeps_the_buffer_from_the_last_published_day(app):
    """Extra openings on both sides of the horizon's last midnight: the day the roll
    publishes places its first slot after the buffer from the eve's last slot, as a whole
    republish does."""
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    midnight = datetime.combine(date(2027, 3, 12), time(0), CUIABA)
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate, now=now, horizon_days=10, slot_minutes=60, buffer_minutes=30,
                   min_notice_hours=0)
        for start, end in [(midnight - timedelta(hours=1), midnight),
                           (midnight, midnight + timedelta(hours=2))]:
            service.add_exception(magistrate, {"kind": "extra", "start_at": start, "end_at": end,
                                               "modes": ["video"]}, None, now=now)

        def after_midnight():
            return sorted(s.start_at.replace(tzinfo=UTC) for s in db.session.scalars(
                select(Slot).where(Slot.magistrate_id == magistrate.id,
                                   Slot.start_at >= midnight, Slot.start_at < midnight
                                   + timedelta(hours=2))))

        assert after_midnight() == []  # beyond the horizon until the roll
        assert service.roll_horizon_forward(now + timedelta(days=1)) == 1
        rolled = after_midnight()
        assert rolled == [midnight + timedelta(minutes=30)]
        service.publish_slots(magistrate, now + timedelta(days=1))
        assert after_midnight() == rolled


def test_the_daily_roll_forward_of_many_agendas_costs_the_same_statements(app):
    """Every agenda due the same days is published in the same few statements: the court's
    thousands of agendas roll forward every night."""
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    with app.app_context():
        engine = db.engine
        unit = make_unit("2ª Vara Cível de Cuiabá", "Cuiabá", office_email="x@example.jus.br")
        other = make_unit("Vara de Sinop", "Sinop", office_email="s@example.jus.br")
        agendas = [make_magistrate(unit=(unit, other)[index % 2], name=f"Juiz {index}")
                   for index in range(8)]
        for magistrate in agendas:
            make_rules(magistrate, now=now, horizon_days=10)
        db.session.commit()
        new_days = datetime.combine(date(2027, 3, 10), time(0), CUIABA)

        def published_on_new_days() -> set[int]:
            return set(db.session.scalars(select(Slot.magistrate_id).where(
                Slot.start_at >= new_days)))

        counts = []
        for count in (2, 8):  # as if their last two days were not published yet
            rolling = [magistrate.id for magistrate in agendas[:count]]
            db.session.execute(delete(Slot).where(Slot.magistrate_id.in_(rolling),
                                                  Slot.start_at >= new_days))
            for magistrate_id in rolling:
                db.session.get(AvailabilityRule, magistrate_id).published_until = date(2027, 3, 9)
            db.session.commit()
            assert published_on_new_days() == {m.id for m in agendas[count:]}
            db.session.expire_all()
            statements, stop = count_statements(engine)
            assert service.roll_horizon_forward(now) == count
            db.session.flush()
            stop()
            counts.append(len([s for s in statements if not s.startswith("UPDATE")]))
            db.session.commit()
            assert published_on_new_days() == {m.id for m in agendas}
        assert counts[0] == counts[1], counts


def test_the_daily_roll_forward_keeps_the_chunks_done_before_a_failure(app, monkeypatch):
    """Each chunk of agendas is committed on its own: a failure in the third keeps the first
    two published (SQLite's write lock is held a chunk at a time, not for the court)."""
    now = datetime(2027, 3, 1, 12, tzinfo=UTC)
    with app.app_context():
        unit = make_unit("2ª Vara Cível de Cuiabá", "Cuiabá", office_email="x@example.jus.br")
        agendas = [make_magistrate(unit=unit, name=f"Juiz {index}") for index in range(7)]
        for magistrate in agendas:
            make_rules(magistrate, now=now, horizon_days=10)
        db.session.commit()
        monkeypatch.setattr(service, "PUBLISH_DAYS_CHUNK", 3)
        publish_days, calls = service.publish_days, []

        def failing_third(magistrates, *args):
            calls.append([m.id for m in magistrates])
            if len(calls) == 3:
                raise RuntimeError("the database went away")
            return publish_days(magistrates, *args)

        monkeypatch.setattr(service, "publish_days", failing_third)
        with pytest.raises(RuntimeError):
            service.roll_horizon_forward(now + timedelta(days=2))
        db.session.rollback()
        rolled = {rule.magistrate_id: rule.published_until
                  for rule in db.session.scalars(select(AvailabilityRule))}
        assert calls == [[m.id for m in agendas[index:index + 3]] for index in (0, 3, 6)]
        assert [rolled[m.id] for m in agendas] == [date(2027, 3, 13)] * 6 + [date(2027, 3, 11)]


def count_statements(engine):
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    return statements, lambda: event.remove(engine, "before_cursor_execute", record)


def test_listing_cost_does_not_grow_with_the_database(app, backend, client, court):
    url = f"/api/v1/magistrates/{court['judge']}/slots"
    with app.app_context():
        engine = db.engine
    statements, stop = count_statements(engine)
    client.get(url)
    small = list(statements)
    reads = [statement for statement in small if statement.startswith("SELECT")]
    # PostgreSQL: the magistrate's settings and the slots in one statement (one round
    # trip); SQLite, in process: the settings, then the slots of the exact range
    assert len(reads) == (1 if backend == "postgresql" else 2), small
    with app.app_context():
        unit = make_unit("2ª Vara Cível de Cuiabá", "Cuiabá", office_email="x@example.jus.br")
        for index in range(25):
            make_rules(make_magistrate(unit=unit, name=f"Juiz {index}"))
        db.session.execute(text("UPDATE slot SET state = 'booked' WHERE id % 3 = 0"))
        db.session.commit()
    statements.clear()
    client.get(url)
    stop()
    assert len(statements) == len(small)
    slot_queries = [s for s in statements if "FROM slot" in s or "JOIN slot" in s]
    assert len(slot_queries) == 1


@pytest.mark.parametrize("zone", ["America/Cuiaba", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_one_statement_listing_cuts_the_same_range_as_the_agenda_read(app, court, zone):
    """The one-statement listing (PostgreSQL's) reads before it knows the magistrate's zone
    and notice, so it reads wide and cuts: at every hour of three days, in zones from UTC+14
    to UTC-11 (whose afternoons fall on the next or the previous day in UTC) and with a
    daily limit, it must give what the agenda page's two reads give (SQLite's listing),
    on both databases."""
    with app.app_context():
        judge = db.session.get(Magistrate, court["judge"])
        judge.timezone = zone
        db.session.get(AvailabilityRule, judge.id).max_per_day = 2
        service.publish_slots(judge)
        db.session.flush()
        slots = db.session.scalars(select(Slot).where(
            Slot.magistrate_id == judge.id, Slot.state == "open")
            .order_by(Slot.start_at).limit(3)).all()
        for slot in slots[1:]:  # two booked on the first day fill it
            slot.state = "booked"
        first_day = slots[0].start_at.astimezone(ZoneInfo(zone)).date()
        db.session.commit()
        start = datetime.now(UTC).replace(minute=7, second=0, microsecond=0)
        compared = 0
        with db.engine.connect() as connection:
            for hour in range(72):
                now = start + timedelta(hours=hour)
                for asked in ({}, {"from_": first_day},
                              {"from_": first_day + timedelta(days=1),
                               "to": first_day + timedelta(days=3)}):
                    def days_from(today, asked=asked):
                        return SlotQuerySchema.resolve(asked, today)
                    listed = service.listing_in_one_statement(court["judge"], days_from,
                                                              connection, now)
                    agenda = service.agenda_settings(court["judge"], connection)
                    first, last = days_from(now.astimezone(ZoneInfo(zone)).date())
                    assert listed == service.open_slots(agenda, first, last, now, connection), (
                        now, asked)
                    assert listed == service.public_listing(court["judge"], days_from,
                                                            connection, now)
                    compared += len(listed)
            for read in (service.public_listing, service.listing_in_one_statement):
                assert read(10**9, lambda today: (today, today), connection) is None
        assert compared  # the hours compared listed slots, not only empty ranges


@pytest.mark.parametrize("reader", ["listing", "agenda"])
def test_listing_query_uses_its_index(app, backend, court, reader):
    with app.app_context():
        query = service.slot_range_queries(court["judge"], datetime(2027, 1, 1, tzinfo=UTC),
                                           datetime(2027, 2, 1, tzinfo=UTC))[reader]
        compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
        if backend == "sqlite":
            plan = " ".join(str(row) for row in db.session.execute(
                text(f"EXPLAIN QUERY PLAN {compiled}")))
        else:
            db.session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = " ".join(str(row) for row in db.session.execute(text(f"EXPLAIN {compiled}")))
    # Either index leads with (magistrate_id, ...) and bounds start_at: never a scan of all slots.
    assert "ix_slot_listing" in plan or "uq_slot_magistrate_start" in plan, plan
    assert "Seq Scan" not in plan and "SCAN slot" not in plan.replace("SCAN slot USING", ""), plan


@pytest.mark.parametrize("path, body, told", [
    ("/api/v1/closures", {"first_day": "2031-03-10", "last_day": "2031-03-02", "reason": "x"},
     {"last_day", "reason"}),
    ("/api/v1/magistrates/{judge}/exceptions",
     {"kind": "block", "start": "2031-03-10T14:00:00-04:00", "end": "2031-03-10T13:00:00-04:00",
      "reason": "x" * 301}, {"end", "reason"}),
])
def test_periods_in_the_wrong_order_are_told_with_the_other_fields(client, court, path, body,
                                                                   told):
    """An end before its start is said in the same answer as a refused reason."""
    who = "magistrate" if "exceptions" in path else "admin"
    response = client.post(path.format(judge=court["judge"]), json=body,
                           headers=bearer(court["tokens"][who]))
    assert response.status_code == 422
    assert told <= set(response.get_json()["errors"]), response.get_json()
