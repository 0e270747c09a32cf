"""A booking from the public API holds its slot and sends only a code; the code (single use,
expiring, tries counted) confirms it and only then go the invites. An unconfirmed hold
expires and its slot opens again; limits count confirmed bookings of the confirmed address,
so nobody can lock out a registration number they do not control; live holds are capped."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from booking.bookings.models import Booking
from booking.bookings.service import expire_holds
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from tests.support.factories import DIRECT, bearer, confirmation_code
from tests.support.query_plans import query_plan
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)


def hold(client, desk, slot=0, **overrides):  # noqa: F811
    answer = client.post("/api/v1/bookings", json=form(desk, slot, **overrides))
    assert answer.status_code == 201 and answer.get_json()["status"] == "held", answer.get_json()
    return answer.get_json()


def kinds(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.scalars(select(OutboxMessage.kind)))


def code_of(app, held) -> str:
    with app.app_context():
        return confirmation_code(held["id"])


def confirm(client, held, code):
    return client.post(held["confirm_url"], json={"code": code},
                       headers=bearer(held["manage_token"]))


def booking_outcomes(outcome: str) -> float:
    """This process's booking_bookings_total of one outcome (/metrics)."""
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("booking_bookings_total", {"outcome": outcome}) or 0


def open_starts(client, desk) -> list[str]:  # noqa: F811
    return [s["start"] for s in client.get(f"/api/v1/magistrates/{desk['judge']}/slots").get_json()]


def test_a_hold_sends_only_the_code_and_the_code_confirms_it(app, client, desk):  # noqa: F811
    held = hold(client, desk)
    assert held["status"] == "held" and held["confirm_url"] == f"/api/v1/bookings/{held['id']}/confirm"
    assert held["hold_expires_at"] > held["created_at"]
    assert desk["slots"][0]["start"] not in open_starts(client, desk)
    assert kinds(app) == ["booking_code"]  # no invite to anyone yet

    wrong = confirm(client, held, "000000" if code_of(app, held) != "000000" else "111111")
    assert wrong.status_code == 422
    assert "Restam 4 tentativa(s)" in wrong.get_json()["errors"]["code"][0]
    assert client.post(held["confirm_url"], json={"code": code_of(app, held)}).status_code == 401

    confirmed = confirm(client, held, code_of(app, held))
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    assert kinds(app) == ["booking_booked"] * 3 + ["booking_code"]
    again = confirm(client, held, "123")  # confirming twice answers the booking again
    assert again.status_code == 200 and again.get_json()["status"] == "confirmed"
    assert kinds(app).count("booking_booked") == 3


def test_an_unconfirmed_hold_expires_and_its_slot_opens_again(app, client, desk):  # noqa: F811
    held = hold(client, desk)
    code = code_of(app, held)
    with app.app_context():
        assert expire_holds(now=utcnow() + timedelta(minutes=14)) == 0
        assert expire_holds(now=utcnow() + timedelta(minutes=16)) == 1
        db.session.commit()
        row = db.session.get(Booking, held["id"])
        assert (row.status, row.cancelled_by) == ("cancelled", "hold_expired")
    assert desk["slots"][0]["start"] in open_starts(client, desk)
    late = confirm(client, held, code)
    assert late.status_code == 409 and late.get_json()["code"] == "hold_expired"
    assert kinds(app) == ["booking_code"]
    # The slot is anyone's again.
    assert client.post("/api/v1/bookings", json=form(desk, 0, lawyer={
        "email": "outra@example.com"})).status_code == 201


def test_the_requester_gives_a_hold_back_and_its_slot_opens_at_once(app, client, desk):  # noqa: F811
    held = hold(client, desk)
    cancel = f"/api/v1/bookings/{held['id']}/cancel"
    assert client.post(cancel, json={}).status_code == 401  # only with the manage token
    given_back = client.post(cancel, json={}, headers=bearer(held["manage_token"]))
    assert given_back.status_code == 200 and given_back.get_json()["status"] == "cancelled"
    assert desk["slots"][0]["start"] in open_starts(client, desk)  # now, not in 15 minutes
    assert kinds(app) == ["booking_code"]  # nobody else knew of it: nobody is told
    late = confirm(client, held, code_of(app, held))
    assert late.status_code == 409 and late.get_json()["code"] == "hold_expired"
    again = client.post(cancel, json={}, headers=bearer(held["manage_token"]))
    assert again.status_code == 409  # a cancelled booking cannot be cancelled twice


def test_wrong_codes_are_counted_and_release_the_slot(app, client, desk):  # noqa: F811
    held = hold(client, desk)
    right = code_of(app, held)
    wrong = "000000" if right != "000000" else "111111"
    before = {outcome: booking_outcomes(outcome) for outcome in ("invalid", "rate_limited")}
    answers = [confirm(client, held, wrong) for _ in range(5)]
    assert [a.status_code for a in answers] == [422, 422, 422, 422, 429]  # API.md's 429
    # five wrong codes in the metrics, not a rate limit met
    assert booking_outcomes("invalid") - before["invalid"] == 5
    assert booking_outcomes("rate_limited") == before["rate_limited"]
    last = answers[-1]
    assert last.get_json()["code"] == "too_many_tries" and "liberada" in last.get_json()["detail"]
    assert last.mimetype == "application/problem+json" and int(last.headers["Retry-After"]) > 0
    late = confirm(client, held, right)  # even the right code, now: the hold is gone
    assert late.status_code == 409 and late.get_json()["code"] == "hold_expired"
    assert desk["slots"][0]["start"] in open_starts(client, desk)


def test_fifty_clients_racing_for_one_slot_give_one_hold(app, desk):  # noqa: F811
    from tests.support.racing import race

    def attempt(index):
        with app.test_client() as client:
            return client.post("/api/v1/bookings", json=form(desk, 0, lawyer={
                "email": f"adv{index}@example.com"})).status_code

    statuses = race(50, attempt)
    assert sorted(statuses) == [201] + [409] * 49
    with app.app_context():
        assert db.session.scalar(select(Booking.status)) == "held"


def test_a_registration_number_typed_by_someone_else_locks_nobody_out(app, client,
                                                                      desk):  # noqa: F811
    # An abuser books twice with the real lawyer's OAB number and their own address...
    for slot in (0, 1):
        held = hold(client, desk, slot, lawyer={"email": "abusador@example.net"})
        assert confirm(client, held, code_of(app, held)).status_code == 200
    # ...and the lawyer, with the address they control, still books.
    mine = hold(client, desk, 2)
    assert confirm(client, mine, code_of(app, mine)).status_code == 200
    # The abuser's address is the one at its limit, and the answer names no count of anyone.
    third = client.post("/api/v1/bookings", json=form(desk, 3, lawyer={
        "email": "abusador@example.net"}))
    assert third.status_code == 409 and third.get_json()["code"] == "lawyer_limit"


def test_holds_do_not_count_for_the_limit_but_live_holds_are_capped(app, client,
                                                                    desk):  # noqa: F811
    hold(client, desk, 0)
    hold(client, desk, 1)  # two unconfirmed holds of one address: not bookings yet
    too_many = client.post("/api/v1/bookings", json=form(desk, 2))
    assert too_many.status_code == 409 and too_many.get_json()["code"] == "too_many_holds"
    app.config["BOOKING_MAX_HOLDS_PER_CLIENT"] = 3  # and one client cannot hold many either
    hold(client, desk, 3, lawyer={"email": "b@example.com"})
    from_same_client = client.post("/api/v1/bookings", json=form(desk, 4, lawyer={
        "email": "c@example.com"}))
    assert from_same_client.get_json()["code"] == "too_many_holds"
    elsewhere = app.test_client().post("/api/v1/bookings", environ_base={
        "REMOTE_ADDR": "198.51.100.20"}, json=form(desk, 4, lawyer={"email": "c@example.com"}))
    assert elsewhere.status_code == 201


def test_an_integration_key_books_directly_and_a_bad_one_is_refused(app, client,
                                                                    desk):  # noqa: F811
    direct = client.post("/api/v1/bookings", json=form(desk), headers=DIRECT)
    assert direct.status_code == 201 and direct.get_json()["status"] == "confirmed"
    forged = client.post("/api/v1/bookings", json=form(desk, 1),
                         headers={"X-Integration-Key": "int_inventada"})
    assert forged.status_code == 401
    admin = bearer(desk["tokens"]["admin"])
    issued = client.post("/api/v1/admin/integration-keys", json={"name": "Portal OAB-MT"},
                         headers=admin)
    assert issued.status_code == 201 and issued.get_json()["key"].startswith("int_")
    key = {"X-Integration-Key": issued.get_json()["key"]}
    assert client.post("/api/v1/bookings", json=form(desk, 1, lawyer={"email": "x@example.com"}),
                       headers=key).status_code == 201
    every_key = client.get("/api/v1/admin/integration-keys", headers=admin,
                           query_string={"per_page": 100})
    assert "key" not in every_key.get_json()[-1]
    count = len(every_key.get_json())
    assert count >= 2 and every_key.headers["X-Total-Count"] == str(count)
    last = client.get("/api/v1/admin/integration-keys", headers=admin,
                      query_string={"per_page": 1, "page": count})  # a page at a time
    assert [k["id"] for k in last.get_json()] == [issued.get_json()["id"]]
    assert last.headers["X-Total-Count"] == str(count)
    assert client.delete(f"/api/v1/admin/integration-keys/{issued.get_json()['id']}",
                         headers=admin).status_code == 204
    assert client.post("/api/v1/bookings", json=form(desk, 2, lawyer={"email": "y@example.com"}),
                       headers=key).status_code == 401


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "abcdef"])
def test_a_malformed_code_is_a_wrong_code(app, client, desk, typed):  # noqa: F811
    held = hold(client, desk)
    answer = confirm(client, held, typed or " ")
    assert answer.status_code == 422 and "code" in answer.get_json()["errors"]


def test_the_same_code_drawn_for_two_holds_is_stored_apart(app, client, desk,  # noqa: F811
                                                          monkeypatch):
    """A code's hash carries its hold (the invite's UID, written with the row): two holds
    that drew the same six digits keep different hashes, and each is confirmed alone."""
    from booking.bookings import service

    monkeypatch.setattr(service, "secrets", SimpleNamespace(randbelow=lambda _bound: 424242))
    first = hold(client, desk, 0)
    second = hold(client, desk, 1, lawyer={"email": "outra@example.com"})
    with app.app_context():
        hashes = {db.session.get(Booking, h["id"]).confirm_code_hash for h in (first, second)}
    assert code_of(app, first) == code_of(app, second) == "424242"
    assert len(hashes) == 2 and None not in hashes
    assert confirm(client, first, "424242").get_json()["status"] == "confirmed"
    with app.app_context():
        assert db.session.get(Booking, second["id"]).status == "held"


def test_an_expired_holds_data_goes_after_a_week_not_a_year(app, client, desk):  # noqa: F811
    from booking.privacy.service import anonymize_expired

    held = hold(client, desk, lawyer={"email": "talvez-nem-seja-meu@example.com"})
    kept = hold(client, desk, 1, lawyer={"email": "confirmado@example.com"})
    assert confirm(client, kept, code_of(app, kept)).status_code == 200
    with app.app_context():
        expire_holds(now=utcnow() + timedelta(minutes=20))
        db.session.commit()
        anonymize_expired(now=utcnow() + timedelta(days=8))
        db.session.commit()
        emails = dict(db.session.execute(select(Booking.id, Booking.lawyer_email)).all())
    assert emails[held["id"]].endswith(".invalid")
    assert emails[kept["id"]] == "confirmado@example.com"  # a real booking waits its time


def test_the_magistrates_side_sees_a_booking_only_once_confirmed(app, client, desk):  # noqa: F811
    held = hold(client, desk)
    listing = f"/api/v1/magistrates/{desk['judge']}/bookings"
    staff = bearer(desk["tokens"]["assistant"])
    assert client.get(listing, headers=staff).get_json() == []
    assert confirm(client, held, code_of(app, held)).status_code == 200
    assert [b["id"] for b in client.get(listing, headers=staff).get_json()] == [held["id"]]


def test_a_code_is_not_sent_for_a_hold_that_is_gone(app, client, desk):  # noqa: F811
    from booking.notifications.service import send_due

    held = hold(client, desk)
    with app.app_context():
        expire_holds(now=utcnow() + timedelta(minutes=20))  # the sender was down meanwhile
        db.session.commit()
        send_due()
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"booking:{held['id']}:code"))
        assert message.status == "superseded"


def test_the_metrics_tell_holds_from_confirmations(app, client, desk):  # noqa: F811
    count = booking_outcomes
    before = {outcome: count(outcome) for outcome in ("held", "confirmed", "invalid")}
    held = hold(client, desk)
    confirm(client, held, "000000" if code_of(app, held) != "000000" else "111111")
    confirm(client, held, code_of(app, held))
    assert count("held") - before["held"] == 1
    assert count("invalid") - before["invalid"] == 1
    assert count("confirmed") - before["confirmed"] == 1
    # a retry with the same Idempotency-Key answers the same hold: each request counts as held
    retry = {"Idempotency-Key": "hold-1"}
    first, again = (client.post("/api/v1/bookings", json=form(desk, 1), headers=retry)
                    for _ in range(2))
    assert first.status_code == again.status_code == 201
    assert first.get_json()["id"] == again.get_json()["id"]
    assert count("held") - before["held"] == 3
    assert count("confirmed") - before["confirmed"] == 1


def test_a_hold_confirmed_after_its_address_reached_the_limit_frees_the_slot(app, client,
                                                                            desk):  # noqa: F811
    held = hold(client, desk)
    for slot in (1, 2):  # meanwhile the court's portal booked twice for the same address
        assert client.post("/api/v1/bookings", headers=DIRECT,
                           json=form(desk, slot)).status_code == 201
    late = confirm(client, held, code_of(app, held))
    assert late.status_code == 409 and late.get_json()["code"] == "lawyer_limit"
    assert desk["slots"][0]["start"] in open_starts(client, desk)


def test_live_holds_are_counted_from_their_own_indexes(app, backend):
    """A burst of holds waiting for their codes must not make every hold read them all: the
    counts per address and per client, alone (to say which limit a refusal met) and inside
    the compare-and-set that takes the slot, each use an index."""
    from sqlalchemy import and_

    from booking.availability.service import _FLIP
    from booking.bookings import service

    taking = _FLIP.where(and_(service._UNDER_LAWYER_LIMIT, service._UNDER_HOLDS_PER_EMAIL,
                              service._UNDER_HOLDS_PER_CLIENT))
    values = {"email": "a@example.com", "client": "c", "now": utcnow(), "slot_id": 1,
              "from_state": "open", "to_state": "booked", "of_magistrate": 1,
              "lawyer_limit": 3, "holds_per_email": 3, "holds_per_client": 10}
    for statement in (service._LIVE_HOLDS, taking):
        plan = query_plan(app, backend, statement, values)
        assert "ix_booking_held_email" in plan and "ix_booking_held_client" in plan, plan
