"""A lawyer who lost the booking's e-mail asks for the links again by address: each booking
of that address still ahead gets a signed link that opens it, on the pages and the API, for
a while; nobody learns from the answer whether an address booked anything."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from html import unescape

from itsdangerous import TimestampSigner
from sqlalchemy import event, select

from booking.bookings.models import Booking
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import as_email, send_due
from tests.test_bookings_api import book, desk, form  # noqa: F401

PAGE = "/agendamentos/recuperar-link"
SENT = "os links chegam a esse e-mail em alguns minutos"


def links_messages(app) -> list[tuple[list[str], str, str]]:
    """(recipients, the text as sent, the row as stored) of each e-mail of links not dropped
    by the sender."""
    with app.test_request_context():
        return [(message.recipients, as_email(message).body,
                 f"{message.body_text} {message.payload}")
                for message in db.session.scalars(select(OutboxMessage).where(
                    OutboxMessage.kind == "manage_links",
                    OutboxMessage.status != "superseded").order_by(OutboxMessage.id))]


def test_the_links_of_an_address_bookings_still_ahead_are_sent_again(app, client, desk):  # noqa: F811
    app.config["MAX_FUTURE_BOOKINGS_PER_LAWYER"] = 5
    kept = [book(client, desk, 0), book(client, desk, 2)]
    gone = book(client, desk, 1)
    client.post(f"/api/v1/bookings/{gone['id']}/cancel",
                headers={"Authorization": f"Bearer {gone['manage_token']}"}, json={})
    someone_else = book(client, desk, 3, lawyer={"email": "outra@example.com"})

    asked = client.post(PAGE, data={"email": "  MARIA@Example.com "})
    assert asked.status_code == 302
    assert SENT in client.get(PAGE).get_data(as_text=True)
    [(recipients, text, stored)] = links_messages(app)
    assert recipients == ["maria@example.com"]
    urls = re.findall(r"https?://\S+/agendamentos/(\d+)\?token=(\S+)", text)
    assert [int(booking_id) for booking_id, _ in urls] == [b["id"] for b in kept]
    assert "Ana Souza" in text and "14 dias" in text
    assert str(someone_else["id"]) not in [booking_id for booking_id, _ in urls]
    # As every manage link, sealed in the outbox (and erased once sent).
    assert "agendamentos/" not in stored and urls[0][1] not in stored

    first_id, first_token = int(urls[0][0]), unescape(urls[0][1])
    page = client.get(f"/agendamentos/{first_id}", query_string={"token": first_token})
    assert page.status_code == 200 and "Cancelar" in page.get_data(as_text=True)
    # A link opens its own booking only, on the pages and the API.
    assert client.get(f"/agendamentos/{kept[1]['id']}",
                      query_string={"token": first_token}).status_code == 404
    api = client.get(f"/api/v1/bookings/{first_id}",
                     headers={"Authorization": f"Bearer {first_token}"})
    assert api.status_code == 200 and api.get_json()["id"] == first_id
    assert client.get(f"/api/v1/bookings/{kept[1]['id']}",
                      headers={"Authorization": f"Bearer {first_token}"}).status_code == 404
    # The first link, from the booking's own e-mail, still works too.
    assert client.get(f"/agendamentos/{first_id}",
                      query_string={"token": kept[0]["manage_token"]}).status_code == 200
    cancelled = client.post(f"/agendamentos/{first_id}/cancelar",
                            data={"token": first_token, "reason": "Acordo entre as partes"})
    assert cancelled.status_code == 302
    with app.app_context():
        assert db.session.get(Booking, first_id).status == "cancelled"


def test_the_answer_never_tells_whether_an_address_booked(app, client, desk, monkeypatch):  # noqa: F811
    from booking.bookings import links
    from booking.database import utcnow

    book(client, desk, 0)
    asked_at = utcnow()  # every request in one window of RECOVERY_MINUTES, whatever the hour
    monkeypatch.setattr(links, "utcnow", lambda: asked_at)
    with app.app_context():
        engine = db.engine
    statements = []

    def count(_connection, _cursor, statement, *_args):
        statements.append(statement.split()[0])

    work = {}
    for address in ("ninguem@example.com", "maria@example.com"):
        event.listen(engine, "before_cursor_execute", count)
        answer = client.post(PAGE, data={"email": address})
        event.remove(engine, "before_cursor_execute", count)
        work[address], statements[:] = list(statements), []
        followed = client.get(answer.headers["Location"])
        assert answer.status_code == 302 and SENT in followed.get_data(as_text=True)
    # The same statements whether the address booked or not: the time tells nothing either.
    assert work["ninguem@example.com"] == work["maria@example.com"]
    with app.app_context():
        send_due()  # no mail server here: what goes is tried, what should not is dropped
        waiting = db.session.execute(select(
            OutboxMessage.recipients, OutboxMessage.status, OutboxMessage.last_error).where(
            OutboxMessage.kind == "manage_links")).all()
    assert [row[:2] for row in sorted(waiting)] == [(["maria@example.com"], "pending"),
                                                    (["ninguem@example.com"], "superseded")]
    # what the admin's outbox page says of the one not sent
    assert sorted(waiting)[1][2] == "Nenhum agendamento futuro com este endereço: nada a enviar."
    # Asked again at once: the same answer, and no second e-mail to fill the inbox.
    again = client.post(PAGE, data={"email": "maria@example.com"}, follow_redirects=True)
    assert SENT in again.get_data(as_text=True) and len(links_messages(app)) == 1
    later = asked_at + timedelta(minutes=links.RECOVERY_MINUTES + 1)
    monkeypatch.setattr(links, "utcnow", lambda: later)
    client.post(PAGE, data={"email": "maria@example.com"})
    assert len(links_messages(app)) == 2  # a later window: the links go again
    for typed in ("", "não é e-mail", "a\x01@example.com", "x" * 400 + "@example.com"):
        refused = client.post(PAGE, data={"email": typed})
        assert refused.status_code == 422
        assert re.search(r'id="email-erro"', refused.get_data(as_text=True))


def test_a_link_sent_again_stops_working_after_its_days(app, client, desk, monkeypatch):  # noqa: F811
    booked = book(client, desk, 0)
    from booking.bookings import links

    days = app.config["BOOKING_RECOVERED_LINK_DAYS"]
    with app.test_request_context():
        booking = db.session.get(Booking, booked["id"])
        fresh = links.signed_token(booking)
        monkeypatch.setattr(TimestampSigner, "get_timestamp",
                            lambda self: int(time.time()) - (days + 1) * 86400)
        stale = links.signed_token(booking)
        monkeypatch.undo()
        assert links.opens(booking, fresh) and not links.opens(booking, stale)
        assert not links.opens(booking, fresh[:-2] + ("AA" if fresh[-2:] != "AA" else "BB"))
        assert not links.opens(booking, "") and not links.opens(booking, None)
    assert client.get(f"/agendamentos/{booked['id']}",
                      query_string={"token": stale}).status_code == 404


def test_a_new_manage_token_from_the_court_revokes_the_links_sent_again(app, client, desk):  # noqa: F811
    """The court moving a booking gives it a new manage token so that the links sent
    before stop working (they may have been forwarded); the signed ones sent again too."""
    from booking.bookings import links, service

    booked = book(client, desk, 0)
    with app.test_request_context():
        booking = db.session.get(Booking, booked["id"])
        sent_again = links.signed_token(booking)
        assert links.opens(booking, sent_again)
        other = db.session.get(Booking, book(client, desk, 2)["id"])
        assert not links.opens(other, sent_again)  # one booking's link opens no other
        service.reschedule(booking, datetime.fromisoformat(desk["slots"][1]["start"]),
                           by="court")
        db.session.commit()
        assert not links.opens(booking, sent_again)
        assert links.opens(booking, links.signed_token(booking))  # links sent now work
    for token in (sent_again, booked["manage_token"]):
        assert client.get(f"/agendamentos/{booked['id']}",
                          query_string={"token": token}).status_code == 404
