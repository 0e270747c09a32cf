"""Booking through the API: the form's rules, limits, the manage token, state changes."""

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from booking.audit.models import AuditEntry
from booking.availability.models import AvailabilityRule, Slot
from booking.bookings.models import Booking
from booking.database import utcnow
from booking.extensions import db
from tests.support.factories import (
    DIRECT,
    bearer,
    make_magistrate,
    make_rules,
    make_staff,
    make_unit,
    staff_token,
)


@pytest.fixture
def desk(app):
    with app.app_context():
        judge = make_magistrate(name="Ana Souza")
        make_rules(judge)
        other = make_magistrate(unit=make_unit("Vara de Sinop", "Sinop", office_email="s@x.jus.br"),
                                name="Bruno Lima")
        make_rules(other)
        tokens = {
            "magistrate": staff_token(make_staff("magistrate", magistrate_id=judge.id)),
            "assistant": staff_token(make_staff("assistant", magistrate_id=judge.id)),
            "other_magistrate": staff_token(make_staff("magistrate", "o@example.jus.br",
                                                       magistrate_id=other.id)),
            "admin": staff_token(make_staff("admin")),
        }
        db.session.commit()
        ids = {"judge": judge.id, "other": other.id}
    client = app.test_client()
    slots = client.get(f"/api/v1/magistrates/{ids['judge']}/slots").get_json()
    return {**ids, "tokens": tokens, "slots": slots}


def form(desk, slot=0, **overrides):
    body = {"magistrate_id": desk["judge"], "start": desk["slots"][slot]["start"], "mode": "video",
            "lawyer": {"name": "Maria Aparecida Souza", "oab": "12345/MT",
                       "email": "maria@example.com", "phone": "(65) 99999-0000"},
            "case_number": "0001234-03.2026.8.11.0041", "subject": "Pedido de liminar",
            "consent": True}
    lawyer = overrides.pop("lawyer", {})
    body.update(overrides)
    body["lawyer"] = {**body["lawyer"], **lawyer}
    return body


def book(client, desk, slot=0, **overrides):
    """A booking confirmed at once, as the court's portal makes them (integration key)."""
    response = client.post("/api/v1/bookings", headers=DIRECT,
                           json=form(desk, slot, **overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_booking_answers_the_contract(client, desk):
    response = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk))
    assert response.status_code == 201
    body = response.get_json()
    assert body["status"] == "confirmed"
    assert body["start"] == desk["slots"][0]["start"] and body["mode"] == "video"
    assert len(body["manage_token"]) >= 43  # 256 bits, URL-safe
    assert body["manage_url"].endswith(f"/agendamentos/{body['id']}?token={body['manage_token']}")
    assert body["ics_url"] == f"/api/v1/bookings/{body['id']}/invite.ics"
    assert response.headers["Location"].endswith(f"/api/v1/bookings/{body['id']}")
    assert body["lawyer"] == {"name": "Maria Aparecida Souza", "oab": "12345/MT",
                              "institution": None, "email": "maria@example.com",
                              "phone": "+5565999990000"}
    assert body["requester_type"] == "lawyer" and body["participants"] == []
    listed = client.get(f"/api/v1/magistrates/{desk['judge']}/slots").get_json()
    assert desk["slots"][0]["start"] not in [s["start"] for s in listed]


def test_every_field_error_is_in_portuguese_beside_its_field(client, desk):
    bad = form(desk, case_number="0058967-77.2016.8.19.0000", consent=False, mode="phone",
               subject="x" * 501, lawyer={"oab": "12345", "phone": "12", "email": "maria@"})
    response = client.post("/api/v1/bookings", headers=DIRECT, json=bad)
    assert response.status_code == 422
    errors = response.get_json()["errors"]
    assert "outro tribunal" in errors["case_number"][0]
    assert set(errors) == {"case_number", "consent", "mode", "subject", "lawyer.oab",
                           "lawyer.phone", "lawyer.email"}
    wrong_digit = client.post("/api/v1/bookings",
                              headers=DIRECT, json=form(desk, case_number="0001234-04.2026.8.11.0041"))
    assert "dígitos verificadores" in wrong_digit.get_json()["errors"]["case_number"][0]


def test_mode_must_be_one_the_slot_offers(app, client, desk):
    with app.app_context():
        db.session.execute(update(Slot).values(offers_in_person=False))
        db.session.commit()
    response = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, mode="in_person"))
    assert response.status_code == 422
    assert response.get_json()["errors"]["mode"] == ["Este horário só é oferecido por vídeo."]


def test_unknown_magistrate_or_time_is_refused(client, desk):
    unknown = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, magistrate_id=999999))
    assert unknown.status_code == 422 and "magistrate_id" in unknown.get_json()["errors"]
    odd = form(desk)
    odd["start"] = odd["start"].replace(":00:00", ":07:00").replace(":30:00", ":07:00")
    response = client.post("/api/v1/bookings", headers=DIRECT, json=odd)
    assert response.status_code == 409 and response.get_json()["code"] == "slot_unavailable"


def test_an_address_may_hold_only_so_many_future_bookings_with_one_magistrate(client, desk):
    book(client, desk, 0)
    book(client, desk, 1, lawyer={"oab": "999/MT"})  # another number, the same address
    third = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk, 2))
    assert third.status_code == 409
    assert third.get_json()["code"] == "lawyer_limit"
    assert "máximo de 2" in third.get_json()["detail"]
    assert "com esta magistrada" in third.get_json()["detail"]  # "Juíza de Direito"
    # Someone else typing this lawyer's registration number does not lock them out: the
    # limit is on the confirmed address, and the answer never says how many exist.
    other = client.post("/api/v1/bookings", headers=DIRECT,
                        json=form(desk, 2, lawyer={"email": "outra@example.com"}))
    assert other.status_code == 201


def test_most_bookings_per_day(app, client, desk):
    with app.app_context():
        db.session.get(AvailabilityRule, desk["judge"]).max_per_day = 1
        db.session.commit()
    # Two slots of one day, whatever the hour now (the first open slot may be its day's last).
    days = [slot["start"][:10] for slot in desk["slots"]]
    first = next(i for i, day in enumerate(days) if days.count(day) > 1)
    second = days.index(days[first], first + 1)
    book(client, desk, first)
    same_day = client.post("/api/v1/bookings", headers=DIRECT,
                           json=form(desk, second, lawyer={"oab": "2/MT"}))
    assert same_day.status_code == 409 and same_day.get_json()["code"] == "day_full"
    day = days[first]
    listed = client.get(f"/api/v1/magistrates/{desk['judge']}/slots").get_json()
    assert listed and not [s for s in listed if s["start"].startswith(day)]  # a full day is hidden


def test_idempotency_key_reused_with_another_body_is_422(client, desk):
    key = {"Idempotency-Key": "k-1"}
    assert client.post("/api/v1/bookings", json=form(desk, 0), headers={**DIRECT, **key}).status_code == 201
    replay = client.post("/api/v1/bookings", json=form(desk, 0), headers={**DIRECT, **key})
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    other = client.post("/api/v1/bookings", json=form(desk, 1), headers={**DIRECT, **key})
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["errors"]


def test_manage_token_opens_only_its_own_booking(client, desk):
    first = book(client, desk, 0)
    second = book(client, desk, 1, lawyer={"oab": "777/MT"})
    own = client.get(f"/api/v1/bookings/{first['id']}", headers=bearer(first["manage_token"]))
    assert own.status_code == 200 and own.get_json()["id"] == first["id"]
    assert client.get(f"/api/v1/bookings/{first['id']}?token={first['manage_token']}").status_code == 200
    crossed = client.get(f"/api/v1/bookings/{second['id']}", headers=bearer(first["manage_token"]))
    assert crossed.status_code == 404
    assert client.post(f"/api/v1/bookings/{second['id']}/cancel", json={},
                       headers=bearer(first["manage_token"])).status_code == 404
    assert client.get(f"/api/v1/bookings/{first['id']}").status_code == 401
    assert client.get(f"/api/v1/bookings/{first['id']}", headers=bearer("nope")).status_code == 404


@pytest.mark.parametrize("who, status", [("magistrate", 200), ("assistant", 200),
                                         ("other_magistrate", 404), ("admin", 404)])
def test_staff_see_only_their_magistrates_bookings(client, desk, who, status):
    booking = book(client, desk)
    response = client.get(f"/api/v1/bookings/{booking['id']}", headers=bearer(desk["tokens"][who]))
    assert response.status_code == status


def test_sealed_case_is_shown_only_to_the_magistrates_side(client, desk):
    booking = book(client, desk, under_seal=True)
    lawyer_view = client.get(f"/api/v1/bookings/{booking['id']}",
                             headers=bearer(booking["manage_token"])).get_json()
    assert lawyer_view["case_number"] == "em segredo de justiça"
    assert lawyer_view["subject"] == "em segredo de justiça"
    judge_view = client.get(f"/api/v1/bookings/{booking['id']}",
                            headers=bearer(desk["tokens"]["magistrate"])).get_json()
    assert judge_view["case_number"] == "0001234-03.2026.8.11.0041"
    ics = client.get(f"/api/v1/bookings/{booking['id']}/invite.ics",
                     headers=bearer(booking["manage_token"])).get_data(as_text=True)
    assert "0001234" not in ics and "liminar" not in ics and "segredo de justiça" in ics


def test_lawyer_cancels_and_the_slot_opens_again(app, client, desk):
    booking = book(client, desk)
    response = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "Acordo"},
                           headers=bearer(booking["manage_token"]))
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "cancelled" and body["cancelled_by"] == "lawyer"
    listed = client.get(f"/api/v1/magistrates/{desk['judge']}/slots").get_json()
    assert desk["slots"][0]["start"] in [s["start"] for s in listed]
    again = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={},
                        headers=bearer(booking["manage_token"]))
    assert again.status_code == 409
    with app.app_context():
        actions = db.session.scalars(select(AuditEntry.action).where(
            AuditEntry.entity == "booking")).all()
    assert actions == ["booking.created", "booking.cancelled"]


def test_the_court_cancels_with_a_reason_the_lawyer_reads(client, desk):
    booking = book(client, desk)
    url = f"/api/v1/bookings/{booking['id']}/cancel"
    no_reason = client.post(url, json={}, headers=bearer(desk["tokens"]["assistant"]))
    assert no_reason.status_code == 422 and "reason" in no_reason.get_json()["errors"]
    done = client.post(url, json={"reason": "Sessão extraordinária do Júri"},
                       headers=bearer(desk["tokens"]["assistant"]))
    assert done.status_code == 200
    lawyer_view = client.get(f"/api/v1/bookings/{booking['id']}",
                             headers=bearer(booking["manage_token"])).get_json()
    assert lawyer_view["cancelled_by"] == "court"
    assert lawyer_view["cancel_reason"] == "Sessão extraordinária do Júri"


def test_the_lawyer_cannot_change_a_booking_after_the_cutoff(app, client, desk):
    booking = book(client, desk)
    with app.app_context():
        soon = utcnow() + timedelta(minutes=90)
        db.session.execute(update(Booking).where(Booking.id == booking["id"]).values(
            start_at=soon, end_at=soon + timedelta(minutes=30)))
        db.session.commit()
    response = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={},
                           headers=bearer(booking["manage_token"]))
    assert response.status_code == 409 and response.get_json()["code"] == "cutoff_passed"
    moved = client.post(f"/api/v1/bookings/{booking['id']}/reschedule",
                        json={"start": desk["slots"][4]["start"]},
                        headers=bearer(booking["manage_token"]))
    assert moved.status_code == 409
    by_court = client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "Doença"},
                           headers=bearer(desk["tokens"]["magistrate"]))
    assert by_court.status_code == 200


def test_reschedule_keeps_the_invite_uid_and_raises_its_sequence(app, client, desk):
    booking = book(client, desk, 0)
    with app.app_context():
        before = db.session.get(Booking, booking["id"])
        uid, sequence = before.ical_uid, before.ical_sequence
    moved = client.post(f"/api/v1/bookings/{booking['id']}/reschedule",
                        json={"start": desk["slots"][3]["start"]},
                        headers=bearer(booking["manage_token"]))
    assert moved.status_code == 200 and moved.get_json()["start"] == desk["slots"][3]["start"]
    with app.app_context():
        after = db.session.get(Booking, booking["id"])
        assert (after.ical_uid, after.ical_sequence) == (uid, sequence + 1)
        old_slot = db.session.scalar(select(Slot.state).where(
            Slot.magistrate_id == desk["judge"]).order_by(Slot.start_at).limit(1))
        assert old_slot == "open"
    taken = book(client, desk, 5, lawyer={"oab": "55/MT"})
    clash = client.post(f"/api/v1/bookings/{booking['id']}/reschedule",
                        json={"start": taken["start"]}, headers=bearer(booking["manage_token"]))
    assert clash.status_code == 409
    ics = client.get(f"/api/v1/bookings/{booking['id']}/invite.ics",
                     headers=bearer(booking["manage_token"])).get_data(as_text=True)
    assert f"UID:{uid}" in ics.replace("\r\n ", "") and f"SEQUENCE:{sequence + 1}" in ics


def test_the_court_reschedules_and_the_lawyers_old_link_stops_working(client, desk):
    booking = book(client, desk, 0)
    moved = client.post(f"/api/v1/bookings/{booking['id']}/reschedule",
                        json={"start": desk["slots"][2]["start"]},
                        headers=bearer(desk["tokens"]["magistrate"]))
    assert moved.status_code == 200
    assert client.get(f"/api/v1/bookings/{booking['id']}",
                      headers=bearer(booking["manage_token"])).status_code == 404


def test_attendance_only_after_the_time(app, client, desk):
    booking = book(client, desk)
    url = f"/api/v1/bookings/{booking['id']}/attendance"
    early = client.post(url, json={"status": "attended"}, headers=bearer(desk["tokens"]["magistrate"]))
    assert early.status_code == 409
    with app.app_context():
        past = utcnow() - timedelta(hours=2)
        db.session.execute(update(Booking).where(Booking.id == booking["id"]).values(
            start_at=past, end_at=past + timedelta(minutes=30)))
        db.session.commit()
    assert client.post(url, json={"status": "attended"},
                       headers=bearer(desk["tokens"]["other_magistrate"])).status_code == 404
    assert client.post(url, json={"status": "attended"}).status_code == 401
    done = client.post(url, json={"status": "no_show"}, headers=bearer(desk["tokens"]["assistant"]))
    assert done.status_code == 200 and done.get_json()["status"] == "no_show"


def test_magistrate_lists_bookings_by_period_and_status(client, desk):
    first = book(client, desk, 0)
    book(client, desk, 1, lawyer={"oab": "2/MT"})
    client.post(f"/api/v1/bookings/{first['id']}/cancel", json={},
                headers=bearer(first["manage_token"]))
    url = f"/api/v1/magistrates/{desk['judge']}/bookings"
    everything = client.get(url, headers=bearer(desk["tokens"]["magistrate"]))
    assert everything.status_code == 200 and everything.headers["X-Total-Count"] == "2"
    confirmed = client.get(url, query_string={"status": "confirmed"},
                           headers=bearer(desk["tokens"]["assistant"])).get_json()
    assert [b["status"] for b in confirmed] == ["confirmed"]
    day = first["start"][:10]
    by_day = client.get(url, query_string={"from": day, "to": day},
                        headers=bearer(desk["tokens"]["magistrate"]))
    assert by_day.headers["X-Total-Count"] in {"1", "2"}
    assert client.get(url, headers=bearer(desk["tokens"]["other_magistrate"])).status_code == 403


def test_urgent_request_through_the_api(client, desk):
    url = f"/api/v1/magistrates/{desk['judge']}/urgent-requests"
    body = {"lawyer": form(desk)["lawyer"], "case_number": "0001234-03.2026.8.11.0041",
            "reason": "Réu preso há 90 dias, pedido de relaxamento.", "consent": True}
    assert client.post(url, json={**body, "consent": False}).get_json()["errors"]["consent"]
    created = client.post(url, json=body)
    assert created.status_code == 201 and created.get_json()["status"] == "open"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bearer(desk["tokens"]["other_magistrate"])).status_code == 403
    listed = client.get(url, query_string={"status": "open"}, headers=bearer(desk["tokens"]["assistant"]))
    assert [r["id"] for r in listed.get_json()] == [created.get_json()["id"]]
    answer_url = f"/api/v1/urgent-requests/{created.get_json()['id']}/answer"
    answered = client.post(answer_url, json={"answer": "Amanhã às 9h."},
                           headers=bearer(desk["tokens"]["magistrate"]))
    assert answered.status_code == 200 and answered.get_json()["status"] == "answered"
    again = client.post(answer_url, json={"answer": "De novo."}, headers=bearer(desk["tokens"]["magistrate"]))
    assert again.status_code == 409
    invalid = client.post(url, json={**body, "case_number": "0058967-77.2016.8.19.0000"})
    assert invalid.status_code == 422 and "case_number" in invalid.get_json()["errors"]
    # A page at a time, with the total, as the other lists: they add up over the years.
    second = client.post(url, json=body).get_json()
    page = client.get(url, query_string={"per_page": 1}, headers=bearer(desk["tokens"]["assistant"]))
    assert page.headers["X-Total-Count"] == "2"
    assert [r["id"] for r in page.get_json()] == [second["id"]]  # the one waiting first
    rest = client.get(url, query_string={"per_page": 1, "page": 2},
                      headers=bearer(desk["tokens"]["assistant"]))
    assert [r["id"] for r in rest.get_json()] == [created.get_json()["id"]]
