"""The waitlist: confirmed by an e-mailed code; a cancellation in a waitlisted range tells
the waiting people in the order they joined, the first to follow the link gets the time, and
the others hear it is gone; entries end with their range."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from booking.bookings.models import WaitlistEntry
from booking.bookings.waitlist import offer_open_times
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import as_email
from tests.support.factories import DIRECT, bearer
from tests.test_bookings_api import book, desk, form  # noqa: F401  (the fixture)


def join(app, client, desk, email, day):  # noqa: F811
    """Join for the day of `day`, and confirm with the code read from the e-mail."""
    joined = client.post(f"/api/v1/magistrates/{desk['judge']}/waitlist", json={
        "name": f"Pessoa {email}", "email": email, "first_day": day.isoformat(),
        "last_day": day.isoformat(), "consent": True})
    assert joined.status_code == 202, joined.get_json()
    entry = joined.get_json()
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.dedupe_key == f"waitlist:{entry['id']}:code"))
        code = re.search(r"lista de espera: (\d{6})", as_email(message).body).group(1)
    confirmed = client.post(entry["confirm_url"], json={"code": code},
                            headers=bearer(entry["manage_token"]))
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "waiting"
    return entry


def offers_to(app, email: str, kind: str = "waitlist_offer") -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == kind).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
    return [row for row in rows if row.recipients == [email]]


def test_a_cancellation_tells_the_waitlist_in_order_and_the_first_to_book_wins(app, client,
                                                                               desk):  # noqa: F811
    # Every time of one day is taken...
    start = datetime.fromisoformat(desk["slots"][0]["start"])
    day = start.date()
    same_day = [n for n, s in enumerate(desk["slots"]) if s["start"].startswith(day.isoformat())]
    taken = [book(client, desk, n, lawyer={"email": f"adv{n}@example.com"}) for n in same_day]
    # ...so two people wait for that day, in this order.
    first, second = (join(app, client, desk, email, day)
                     for email in ("primeira@example.com", "segunda@example.com"))
    with app.app_context():
        assert offer_open_times() == 0  # nothing open yet
        db.session.commit()

    client.post(f"/api/v1/bookings/{taken[0]['id']}/cancel", json={"reason": "Acordo"},
                headers=bearer(taken[0]["manage_token"]))
    with app.app_context():
        assert offer_open_times() == 2
        db.session.commit()
        assert offer_open_times() == 0  # told once
        db.session.commit()
    [to_first], [to_second] = offers_to(app, "primeira@example.com"), offers_to(
        app, "segunda@example.com")
    assert to_first.id < to_second.id  # in the order they joined
    link = re.search(r"(https?://\S+/agendar\?inicio=\S+)", to_first.body_text).group(1)
    assert "/magistrados/" in link

    # The second is quicker: the first to book wins the slot, the other is told it is gone.
    winner = client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, same_day[0], lawyer={"email": "segunda@example.com"}))
    assert winner.status_code == 201
    late = client.post("/api/v1/bookings", headers=DIRECT, json=form(
        desk, same_day[0], lawyer={"email": "primeira@example.com"}))
    assert late.status_code == 409
    with app.app_context():
        offer_open_times()
        db.session.commit()
        statuses = dict(db.session.execute(select(WaitlistEntry.email, WaitlistEntry.status)).all())
    assert statuses == {"primeira@example.com": "waiting", "segunda@example.com": "booked"}
    [gone] = offers_to(app, "primeira@example.com", "waitlist_gone")
    assert "já foi agendado por outra pessoa" in gone.body_text
    assert offers_to(app, "segunda@example.com", "waitlist_gone") == []
    assert first["id"] != second["id"]


@pytest.mark.parametrize("magistrates_per_read", [500, 1])
def test_each_entry_is_offered_its_own_magistrates_times_in_its_range_in_a_few_reads(
        app, client, desk, monkeypatch, magistrates_per_read):  # noqa: F811
    """Five people wait with two magistrates on different days: each hears only of open times
    with their magistrate on their days, and the pass reads bookings and slots a fixed
    number of times per group of magistrates, not per person (it runs every minute)."""
    from sqlalchemy import event

    from booking.bookings import waitlist
    from booking.formatting import long_date

    monkeypatch.setattr(waitlist, "_MAGISTRATES_PER_READ", magistrates_per_read)

    def days_of(magistrate_id):
        listed = client.get(f"/api/v1/magistrates/{magistrate_id}/slots").get_json()
        return sorted({datetime.fromisoformat(s["start"]).date() for s in listed})

    judge_days, other_days = days_of(desk["judge"]), days_of(desk["other"])
    waiting = [("ana@example.com", desk["judge"], judge_days[0]),
               ("bia@example.com", desk["judge"], judge_days[1]),
               ("caio@example.com", desk["other"], other_days[0]),
               ("davi@example.com", desk["other"], other_days[2]),
               ("eva@example.com", desk["judge"], judge_days[2])]
    for email, magistrate_id, day in waiting:
        join(app, client, {**desk, "judge": magistrate_id}, email, day)
    reads = []

    def record(conn, cursor, statement, *args):
        if "FROM slot" in statement or "FROM booking" in statement:
            reads.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
        try:
            told = offer_open_times()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        db.session.commit()
    assert len(reads) <= 3 * (1 if magistrates_per_read > 1 else 2), reads
    for email, magistrate_id, day in waiting:
        listed = client.get(f"/api/v1/magistrates/{magistrate_id}/slots", query_string={
            "from": day.isoformat(), "to": day.isoformat()}).get_json()
        offers = offers_to(app, email)
        assert len(offers) == len(listed) > 0, email
        assert all(long_date(day) in offer.subject for offer in offers), email
    assert told == sum(len(offers_to(app, email)) for email, *_ in waiting)


def test_only_a_confirmed_entry_is_told_and_entries_end_with_their_range(app, client,
                                                                         desk):  # noqa: F811
    day = datetime.fromisoformat(desk["slots"][0]["start"]).date()
    unconfirmed = client.post(f"/api/v1/magistrates/{desk['judge']}/waitlist", json={
        "name": "Sem Código", "email": "semcodigo@example.com", "first_day": day.isoformat(),
        "last_day": day.isoformat(), "consent": True})
    assert unconfirmed.status_code == 202
    with app.app_context():
        assert offer_open_times() == 0  # open times exist, but the address is not confirmed
        db.session.commit()
        assert offer_open_times(now=utcnow() + timedelta(days=400)) == 0
        db.session.commit()
        assert db.session.scalar(select(WaitlistEntry.status)) == "expired"


def test_bad_entries_are_refused_by_field(client, desk):  # noqa: F811
    url = f"/api/v1/magistrates/{desk['judge']}/waitlist"
    today = date.today()
    past = client.post(url, json={"name": "Ana", "email": "a@example.com", "consent": True,
                                  "first_day": (today - timedelta(days=3)).isoformat(),
                                  "last_day": today.isoformat()})
    assert past.status_code == 422 and "first_day" in past.get_json()["errors"]
    too_long = client.post(url, json={"name": "Ana", "email": "a@example.com", "consent": True,
                                      "first_day": (today + timedelta(days=2)).isoformat(),
                                      "last_day": (today + timedelta(days=200)).isoformat()})
    assert too_long.status_code == 422 and "last_day" in too_long.get_json()["errors"]
    # The days are told with the other fields, in one answer (page and API alike).
    body = {"name": "", "email": "não é e-mail", "consent": True,
            "first_day": (today - timedelta(days=3)).isoformat(),
            "last_day": (today + timedelta(days=200)).isoformat()}
    everything = client.post(url, json=body)
    assert everything.status_code == 422
    assert set(everything.get_json()["errors"]) == {"name", "email", "first_day", "last_day"}
    page = client.post(f"/magistrados/{desk['judge']}/lista-de-espera",
                       data={**body, "consent": "1"})
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert re.search(r'id="first_day-erro"[^>]*>O período não pode começar no passado', html)
    assert re.search(r'id="last_day-erro"[^>]*>O período termina depois do início', html)
    assert re.search(r'id="name-erro"', html)


def test_the_page_joins_confirms_and_leaves(app, client, desk):  # noqa: F811
    day = (datetime.fromisoformat(desk["slots"][0]["start"]).date()).isoformat()
    page = f"/magistrados/{desk['judge']}/lista-de-espera"
    assert "Entre na lista de espera" in client.get(
        f"/magistrados/{desk['judge']}/agenda").get_data(as_text=True)
    joined = client.post(page, data={"name": "Ana Página", "email": "ana@example.com",
                                     "first_day": day, "last_day": day, "consent": "1"})
    assert joined.status_code == 302
    entry_page = joined.headers["Location"]
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage)).one()
        code = re.search(r"lista de espera: (\d{6})", as_email(message).body).group(1)
    token = re.search(r"token=([\w-]+)", entry_page).group(1)
    path = entry_page.split("?")[0]
    wrong = client.post(path, data={"token": token, "code": "000000" if code != "000000" else "1"})
    assert wrong.status_code == 422 and "Restam 4 tentativa(s)" in wrong.get_data(as_text=True)
    right = client.post(path, data={"token": token, "code": code})
    assert "você será avisado" in right.get_data(as_text=True)
    left = client.post(path, data={"token": token, "action": "leave"})
    assert "Você saiu da lista" in left.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(WaitlistEntry.status)) == "left"


def test_a_waitlist_entrys_name_and_address_go_after_its_range(app, client, desk):  # noqa: F811
    from booking.privacy.service import anonymize_expired

    day = datetime.fromisoformat(desk["slots"][0]["start"]).date()
    join(app, client, desk, "espera@example.com", day)
    with app.app_context():
        assert anonymize_expired()["waitlist_entries"] == 0
        db.session.commit()
        anonymize_expired(now=utcnow() + timedelta(days=90))
        db.session.commit()
        entry = db.session.scalars(select(WaitlistEntry)).one()
        assert entry.email.endswith(".invalid") and entry.name == "[removido]"
