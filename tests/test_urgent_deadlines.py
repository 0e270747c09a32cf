"""Urgent requests have an answer deadline counted on the court's working days (or in plain
hours), are flagged to the magistrate and the office once when it passes, and the
Corregedoria reads response times per unit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from booking.availability.court_calendar import Closure, add_working_hours, closed_days
from booking.bookings.models import UrgentRequest
from booking.bookings.urgent import flag_overdue
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from tests.support.factories import bearer, make_staff, make_unit, staff_token
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)

CUIABA = ZoneInfo("America/Cuiaba")


def at(year, month, day, hour=0, minute=0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=CUIABA)


def closed(first: date, last: date, **options) -> dict[date, str]:
    return closed_days(first, last, **options)


@pytest.mark.parametrize("asked, hours, due", [
    (at(2027, 3, 3, 10), 48, at(2027, 3, 5, 10)),       # Wednesday: plain days
    (at(2027, 3, 5, 17), 48, at(2027, 3, 9, 17)),       # Friday evening: the weekend is out
    (at(2027, 3, 6, 11), 24, at(2027, 3, 9, 0)),        # asked on a Saturday: Monday counts
    (at(2027, 12, 17, 12), 48, at(2028, 1, 10, 12)),    # over the recess and a weekend
    (at(2027, 4, 20, 9), 48, at(2027, 4, 23, 9)),       # Tiradentes (21 April) does not run
])
def test_the_deadline_runs_only_on_working_days(asked, hours, due):
    days = closed(asked.date(), asked.date() + timedelta(days=60))
    assert add_working_hours(asked, hours, CUIABA, days) == due.astimezone(UTC)


def test_a_closure_of_the_comarca_stops_the_clock_too():
    closure = Closure(date(2027, 3, 8), date(2027, 3, 8), "Falta de energia", comarca_id=7)
    days = closed(date(2027, 3, 1), date(2027, 4, 30), comarca_id=7, closures=[closure])
    assert add_working_hours(at(2027, 3, 5, 17), 48, CUIABA, days) == \
        at(2027, 3, 10, 17).astimezone(UTC)


def urgent(client, desk):  # noqa: F811
    created = client.post(f"/api/v1/magistrates/{desk['judge']}/urgent-requests", json={
        "lawyer": form(desk)["lawyer"], "case_number": "0001234-03.2026.8.11.0041",
        "reason": "Réu preso há 90 dias, pedido de relaxamento.", "consent": True})
    assert created.status_code == 201, created.get_json()
    return created.get_json()


def test_a_request_gets_its_deadline_and_is_flagged_once_when_it_passes(app, client,  # noqa: F811
                                                                         desk):  # noqa: F811
    created = urgent(client, desk)
    due = datetime.fromisoformat(created["answer_due_at"])
    asked = datetime.fromisoformat(created["created_at"])
    assert due - asked >= timedelta(hours=48) and created["overdue"] is False

    with app.app_context():
        assert flag_overdue(now=due - timedelta(minutes=1)) == 0
        assert flag_overdue(now=due + timedelta(minutes=1)) == 1
        assert flag_overdue(now=due + timedelta(hours=5)) == 0  # told once
        db.session.commit()
        told = db.session.scalars(select(OutboxMessage.recipients).where(
            OutboxMessage.kind == "urgent_overdue")).all()
    assert sorted(r[0] for r in told) == ["ana.souza@example.jus.br", "cba.1civel@example.jus.br"]

    with app.app_context():  # what the magistrate's side sees once it is past
        db.session.execute(update(UrgentRequest).values(answer_due_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    listed = client.get(f"/api/v1/magistrates/{desk['judge']}/urgent-requests",
                        headers=bearer(desk["tokens"]["assistant"])).get_json()
    assert listed[0]["overdue"] is True


def test_plain_hours_when_the_court_says_so(app, client, desk):  # noqa: F811
    app.config.update(URGENT_DEADLINE_WORKING_DAYS=False, URGENT_ANSWER_HOURS=6)
    created = urgent(client, desk)
    due = datetime.fromisoformat(created["answer_due_at"])
    assert due - datetime.fromisoformat(created["created_at"]) == timedelta(hours=6)


def test_the_corregedoria_reads_response_times_per_unit(app, client, desk):  # noqa: F811
    answered, late, waiting = (urgent(client, desk) for _ in range(3))
    with app.app_context():
        now = utcnow()
        rows = {r.id: r for r in db.session.scalars(select(UrgentRequest))}
        rows[answered["id"]].created_at = now - timedelta(hours=10)
        rows[answered["id"]].answer_due_at = now + timedelta(hours=30)
        rows[late["id"]].created_at = now - timedelta(hours=80)
        rows[late["id"]].answer_due_at = now - timedelta(hours=20)
        rows[waiting["id"]].answer_due_at = now - timedelta(hours=1)
        db.session.commit()
    for request_id in (answered["id"], late["id"]):
        assert client.post(f"/api/v1/urgent-requests/{request_id}/answer",
                           json={"answer": "Amanhã às 9h."},
                           headers=bearer(desk["tokens"]["magistrate"])).status_code == 200
    with app.app_context():
        token = staff_token(make_staff("corregedoria"))
        db.session.commit()
    stats = client.get("/api/v1/urgent-requests/stats", headers=bearer(token))
    assert stats.status_code == 200
    [cuiaba] = [row for row in stats.get_json() if row["unit"] == "1ª Vara Cível de Cuiabá"]
    assert (cuiaba["received"], cuiaba["answered"], cuiaba["answered_in_time"],
            cuiaba["open_overdue"]) == (3, 2, 1, 1)
    assert cuiaba["median_hours_to_answer"] == pytest.approx(45, abs=0.2)  # 10 h and 80 h
    # One comarca's units only, when asked for.
    with app.app_context():
        from booking.courts.models import Magistrate, Unit

        comarca_id = db.session.get(Unit, db.session.get(Magistrate, desk["judge"]).unit_id
                                    ).comarca_id
        elsewhere = make_unit("Vara Única de Sorriso", "Sorriso").comarca_id
        db.session.commit()
    mine = client.get(f"/api/v1/urgent-requests/stats?comarca_id={comarca_id}",
                      headers=bearer(token)).get_json()
    assert [row["unit"] for row in mine] == ["1ª Vara Cível de Cuiabá"]
    assert client.get(f"/api/v1/urgent-requests/stats?comarca_id={elsewhere}",
                      headers=bearer(token)).get_json() == []
