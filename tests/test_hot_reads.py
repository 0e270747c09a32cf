"""Reads made on every booking or every few minutes by the scheduler use their own index,
so that their cost does not grow with the court's history: each test grows the table the
way years of use would, lets the database gather its statistics and reads the plan."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select, text

from booking.bookings.models import Booking
from booking.database import utcnow
from booking.extensions import db
from tests.support.factories import DIRECT
from tests.support.query_plans import query_plan
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)


def grow_bookings(app, client, desk, count: int = 300) -> None:  # noqa: F811
    """Book one slot for maria@example.com, then `count` other addresses on the following
    days, and gather the statistics."""
    booked = client.post("/api/v1/bookings", headers=DIRECT, json=form(desk))
    assert booked.status_code == 201, booked.get_json()
    with app.app_context():
        row = dict(db.session.execute(select(Booking.__table__)).mappings().one())
        del row["id"]
        db.session.execute(insert(Booking.__table__), [
            {**row, "slot_id": None, "lawyer_email": f"outra{n}@example.com",
             "start_at": row["start_at"] + timedelta(days=n),
             "end_at": row["end_at"] + timedelta(days=n),
             "ical_uid": f"{n}-{row['ical_uid']}", "manage_token_hash": f"{n:064d}"}
            for n in range(1, count + 1)])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def test_an_address_future_bookings_are_counted_from_their_own_index(app, client, desk,  # noqa: F811
                                                                    backend):
    """Every booking counts the address's future bookings with the magistrate (its limit):
    with a busy agenda that count reads the address's few entries, not the magistrate's
    whole future, alone and inside the compare-and-set that takes the slot."""
    from booking.availability.service import _FLIP
    from booking.bookings import service

    grow_bookings(app, client, desk)
    values = {"email": "maria@example.com", "magistrate_id": desk["judge"],
              "of_magistrate": desk["judge"], "now": utcnow(), "lawyer_limit": 3,
              "slot_id": 1, "from_state": "open", "to_state": "booked"}
    for statement in (service._FUTURE_BOOKINGS_OF_ADDRESS,
                      _FLIP.where(service._UNDER_LAWYER_LIMIT)):
        plan = query_plan(app, backend, statement, values)
        assert "ix_booking_email_magistrate_start" in plan, plan


def test_the_waitlist_pass_finds_its_addresses_bookings_from_their_own_index(app, client, desk,  # noqa: F811
                                                                            backend):
    """Every minute the waitlist pass reads whether the waiting addresses booked in their
    ranges: from the address's index, not the magistrates' whole agendas."""
    from booking.bookings.waitlist import bookings_of_addresses

    grow_bookings(app, client, desk)
    now = utcnow()
    statement = bookings_of_addresses({"maria@example.com", "outra7@example.com"},
                                      {desk["judge"], desk["other"]}, now, now + timedelta(days=90))
    plan = query_plan(app, backend, statement, {})
    assert "ix_booking_email_magistrate_start" in plan, plan


def test_rebook_requests_past_their_deadline_are_found_from_their_own_index(
        app, client, desk, backend):  # noqa: F811
    """Every ten minutes the scheduler looks for lawyers who did not choose a new time by
    the deadline: among the few bookings with a deadline, not the whole table."""
    from booking.bookings.conflicts import rebook_requests_expired

    grow_bookings(app, client, desk)
    plan = query_plan(app, backend, rebook_requests_expired(utcnow()), {})
    assert "ix_booking_rebook_deadline" in plan, plan


def test_older_messages_are_superseded_by_topic_even_when_statistics_saw_none_waiting(
        app, backend):
    """Every booking changed (each of a closure's thousands it cancels) supersedes the older
    messages of its topics still waiting. The statistics are gathered when nothing waits (the
    outbox's usual state), then a burst of messages waits: the update still finds its rows by
    topic, not by reading every waiting message."""
    from booking.notifications.models import OutboxMessage
    from booking.notifications.service import superseding

    now = utcnow()
    row = {"kind": "booking_booked", "recipients": ["ana@example.com"], "subject": "Convite",
           "payload": {}, "version": 0, "attempts": 0, "next_attempt_at": now,
           "created_at": now}
    with app.app_context():
        db.session.execute(insert(OutboxMessage.__table__), [
            {**row, "dedupe_key": f"sent:{n}", "message_id": f"<sent{n}@x>",
             "topic": f"booking:{n}:lawyer", "status": "sent"} for n in range(2000)])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.session.execute(insert(OutboxMessage.__table__), [
            {**row, "dedupe_key": f"waiting:{n}", "message_id": f"<waiting{n}@x>",
             "topic": f"booking:{n + 5000}:lawyer", "status": "pending"} for n in range(2000)])
        db.session.commit()
    statement = superseding(["booking:7:lawyer", "booking:7:magistrate", "booking:7:office"], 1)
    plan = query_plan(app, backend, statement, {})
    assert "ix_outbox_topic_status" in plan and "ix_outbox_due" not in plan, plan
