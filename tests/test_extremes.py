"""Inputs at the extremes never reach a 500: instants and dates far outside any plausible
range, JSON nested deeper than any form needs, integers of 25 digits in query strings."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from booking.extensions import db
from tests.support.factories import DIRECT, bearer, make_magistrate, make_rules, make_staff, staff_token

FAR = ["0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59-23:59", "9999-12-31T00:00:00+14:00",
       "1999-12-31T12:00:00-04:00", "2101-01-01T00:00:00-04:00"]
FAR_DAYS = ["0001-01-01", "9999-12-31", "1999-12-31", "2101-01-01"]


@pytest.fixture
def court(app):
    with app.app_context():
        judge = make_magistrate()
        make_rules(judge)
        token = staff_token(make_staff("magistrate", magistrate_id=judge.id))
        db.session.commit()
        return {"judge": judge.id, "token": token}


def test_far_instants_are_a_422_on_the_api(client, court):
    for moment in FAR:
        booking = client.post("/api/v1/bookings", headers=DIRECT, json={
            "magistrate_id": court["judge"], "start": moment, "mode": "video", "consent": True,
            "case_number": "0001234-03.2026.8.11.0041", "subject": "Pedido",
            "lawyer": {"name": "Maria", "oab": "12345/MT", "email": "m@example.com",
                       "phone": "(65) 99999-0000"}})
        assert booking.status_code == 422 and "start" in booking.get_json()["errors"], moment
        complaint = client.post("/api/v1/complaints", json={
            "channel": "phone", "kind": "unavailable", "occurred_at": moment,
            "description": "O telefone não atende."})
        assert complaint.status_code == 422, moment
        assert "occurred_at" in complaint.get_json()["errors"], moment


def test_far_dates_are_a_422_on_the_api_and_a_400_on_pages(client, court):
    judge = court["judge"]
    for day in FAR_DAYS:
        listing = client.get(f"/api/v1/magistrates/{judge}/slots?from={day}")
        assert listing.status_code == 422, day
        staff = client.get(f"/api/v1/magistrates/{judge}/bookings?from={day}&to={day}",
                           headers=bearer(court["token"]))
        assert staff.status_code == 422, day
        assert client.get(f"/magistrados/{judge}/agenda?semana={day}").status_code == 400, day
    for moment in FAR:
        page = client.get(f"/magistrados/{judge}/agendar?inicio={quote(moment)}")
        assert page.status_code == 302, moment  # back to the agenda, with a message


def test_json_nested_deeper_than_any_form_is_a_400(client):
    for depth in (40, 5000, 200_000):
        body = "[" * depth + "]" * depth
        response = client.post("/api/v1/complaints", data=body, content_type="application/json")
        assert response.status_code in (400, 413), depth
        assert response.mimetype == "application/problem+json"
    shallow = client.post("/api/v1/complaints", json={"a": [[[1]]]})
    assert shallow.status_code == 422  # a normal body goes on to its schema


def test_json_depth_is_read_from_the_nesting_not_the_count_of_brackets():
    from booking.input_guard import _deeper_than

    wide = json.dumps([{"a": [1]} for _ in range(100)]).encode()  # 201 brackets, depth 3
    assert not _deeper_than(wide, 3) and _deeper_than(wide, 2)
    quoted = json.dumps({"note": "[" * 100}).encode()  # brackets in a string do not nest
    assert not _deeper_than(quoted, 1)
    assert _deeper_than(b"[" * 33 + b"]" * 33, 32) and not _deeper_than(b"[" * 32 + b"]" * 32, 32)


def test_integers_of_any_length_in_query_strings(client, court):
    huge = "9" * 25
    assert client.get(f"/?pagina={huge}").status_code == 200
    assert client.get(f"/api/v1/units?page={huge}").status_code == 422
    assert client.get(f"/api/v1/units?per_page={huge}").status_code == 422
    assert client.get(f"/api/v1/magistrates/{huge}").status_code == 404
