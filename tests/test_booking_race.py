"""No interleaving can give two active bookings for one slot.

Threads on separate connections, a real gunicorn with several workers, and
two gunicorn instances on one PostgreSQL: many clients race for one slot,
exactly one wins, every other answer is 409, never a 500. From the public API the winner
holds the slot (201, status held) until the e-mailed code; the court's portal (integration
key) books it confirmed (201): a hold takes the slot exactly like a booking.
"""

from collections import Counter

import pytest
from sqlalchemy import func, select

from booking.availability.models import Slot
from booking.bookings.models import Booking
from booking.extensions import db
from tests.support.factories import DIRECT, make_magistrate, make_rules
from tests.support.live_server import LiveServer
from tests.support.racing import post_json, race

CLIENTS = 60


def booking_body(magistrate_id: int, start: str, index: int) -> dict:
    return {"magistrate_id": magistrate_id, "start": start, "mode": "video",
            "lawyer": {"name": f"Advogada {index}", "oab": f"{10000 + index}/MT",
                       "email": f"adv{index}@example.com", "phone": "(65) 99999-0000"},
            "case_number": "0001234-03.2026.8.11.0041", "subject": "Despacho urgente",
            "consent": True}


@pytest.fixture
def contested(app):
    """A magistrate with published slots; returns its id and the first slot's start."""
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        db.session.commit()
        magistrate_id = magistrate.id
    start = app.test_client().get(f"/api/v1/magistrates/{magistrate_id}/slots").get_json()[0]["start"]
    return magistrate_id, start


def assert_one_winner(app, statuses, magistrate_id, winner_status: str = "confirmed"):
    """One 201, every other answer a 409, and one booking of `winner_status` on one slot."""
    counts = Counter(statuses)
    assert counts == {201: 1, 409: len(statuses) - 1}, counts
    with app.app_context():
        active = db.session.scalars(select(Booking.status).where(
            Booking.magistrate_id == magistrate_id, Booking.status != "cancelled")).all()
        booked = db.session.scalar(select(func.count()).select_from(Slot).where(
            Slot.magistrate_id == magistrate_id, Slot.state == "booked"))
    assert active == [winner_status] and booked == 1


def test_threads_race_for_one_slot(app, contested):
    magistrate_id, start = contested

    def attempt(index):
        with app.test_client() as client:
            return client.post("/api/v1/bookings",
                               headers=DIRECT, json=booking_body(magistrate_id, start, index)).status_code

    statuses = race(CLIENTS, attempt)
    assert_one_winner(app, statuses, magistrate_id)


@pytest.mark.slow
def test_gunicorn_workers_race_for_one_slot_and_one_holds_it(app, database_url, contested):
    magistrate_id, start = contested
    with LiveServer(database_url, workers=4) as server:
        results = race(CLIENTS, lambda i: post_json(server.url, "/api/v1/bookings",
                                                    booking_body(magistrate_id, start, i)))
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = [status for status, _ in results]
    for status, body in results:
        if status == 409:
            assert body["code"] in {"slot_taken", "slot_unavailable"}
    assert_one_winner(app, statuses, magistrate_id, winner_status="held")  # one hold, the rest 409


@pytest.mark.slow
def test_two_instances_race_on_one_postgresql_and_one_holds_it(postgresql_url):
    from tests.conftest import make_app

    app = make_app(postgresql_url)
    with app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        db.session.commit()
        magistrate_id = magistrate.id
    start = app.test_client().get(f"/api/v1/magistrates/{magistrate_id}/slots").get_json()[0]["start"]
    with LiveServer(postgresql_url, workers=2) as first, LiveServer(postgresql_url, workers=2) as second:
        servers = [first, second]
        results = race(CLIENTS, lambda i: post_json(servers[i % 2].url, "/api/v1/bookings",
                                                    booking_body(magistrate_id, start, i)))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert_one_winner(app, [status for status, _ in results], magistrate_id, winner_status="held")


def test_idempotent_retries_race_to_one_booking(app, contested):
    magistrate_id, start = contested
    body = booking_body(magistrate_id, start, 1)

    def attempt(index):
        with app.test_client() as client:
            response = client.post("/api/v1/bookings", json=body,
                                   headers={**DIRECT, "Idempotency-Key": "retry-of-one-request"})
            return response.status_code, response.get_json()

    results = race(12, attempt)
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert len({body["manage_token"] for _, body in results}) == 1
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Booking)) == 1
