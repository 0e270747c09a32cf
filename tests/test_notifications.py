"""Invites reach everyone involved through a real SMTP server, and parse everywhere."""

import re
import threading
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import vobject
from sqlalchemy import event, func, select

from booking.bookings.models import Booking
from booking.database import utcnow
from booking.extensions import db
from booking.notifications import service as outbox
from booking.notifications.models import OutboxMessage
from tests.support.factories import DIRECT, bearer, make_magistrate, make_rules, make_staff, staff_token

LAWYER = "maria@example.com"
JUDGE = "ana.souza@example.jus.br"
OFFICE = "cba.1civel@example.jus.br"


@pytest.fixture
def judge(mail_app):
    with mail_app.app_context():
        magistrate = make_magistrate()
        make_rules(magistrate)
        token = staff_token(make_staff("magistrate", magistrate_id=magistrate.id))
        db.session.commit()
        return {"id": magistrate.id, "token": token}


def slot_at(client, judge, hhmm="14:00", skip=0):
    slots = client.get(f"/api/v1/magistrates/{judge['id']}/slots",
                       query_string={"from": (utcnow().date() + timedelta(days=2)).isoformat()}).get_json()
    return [s["start"] for s in slots if s["start"][11:16] == hhmm][skip]


def book(client, judge, start, **extra):
    body = {"magistrate_id": judge["id"], "start": start, "mode": "video",
            "lawyer": {"name": "Maria Souza", "oab": "12345/MT", "email": LAWYER,
                       "phone": "(65) 99999-0000"},
            "case_number": "0001234-03.2026.8.11.0041", "subject": "Pedido de liminar",
            "consent": True, **extra}
    response = client.post("/api/v1/bookings", headers=DIRECT, json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def send(app, now=None):
    with app.app_context():
        return outbox.send_due(now)


def calendar_part(received):
    parts = [p for p in received.message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return parts[0]


def test_booking_invites_everyone_with_a_real_imip_message(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    start = slot_at(client, judge, "14:00")
    booking = book(client, judge, start)
    assert send(mail_app) == {"sent": 3, "failed": 0}
    assert sorted(r.rcpt_tos[0] for r in smtp_server.received) == sorted([LAWYER, JUDGE, OFFICE])
    for received in smtp_server.received:
        message = received.message
        assert message.get_content_type() == "multipart/mixed"
        assert b'method="REQUEST"' in received.raw or b"method=REQUEST" in received.raw
        part = calendar_part(received)
        assert part.get_param("method") == "REQUEST"
        assert part.get_content_charset() == "utf-8"
        types = [p.get_content_type() for p in message.walk()]
        assert types[:5] == ["multipart/mixed", "multipart/alternative", "text/plain",
                             "text/html", "text/calendar"]
        attachment = [p for p in message.walk() if p.get_filename() == "convite.ics"]
        assert len(attachment) == 1
        ics = part.get_content().encode() if isinstance(part.get_content(), str) else part.get_content()
        parsed = icalendar.Calendar.from_ical(ics)
        assert parsed["METHOD"] == "REQUEST"
        event = parsed.walk("VEVENT")[0]
        assert event["SEQUENCE"] == 0
        assert event.decoded("DTSTART").astimezone(UTC).strftime("%H:%M") == "18:00"
        assert event["DTSTART"].params["TZID"] == "America/Cuiaba"
        assert str(event["ORGANIZER"]) not in {f"mailto:{a}" for a in (LAWYER, JUDGE, OFFICE)}
        attendees = {str(a).lower(): a.params for a in event["ATTENDEE"]}
        assert set(attendees) == {f"mailto:{a}" for a in (LAWYER, JUDGE, OFFICE)}
        assert all(p["PARTSTAT"] == "NEEDS-ACTION" and p["ROLE"] and p["CN"]
                   for p in attendees.values())
        independent = vobject.readOne(ics.decode())
        assert independent.vevent.uid.value == str(event["UID"])
        assert independent.vevent.dtstart.value.astimezone(UTC).hour == 18
        assert all(len(line) <= 75 for line in ics.split(b"\r\n"))
        assert b"\r\n" in ics
        assert "Processo: 0001234-03.2026.8.11.0041" in message.get_body(("plain",)).get_content()
    # The lawyer's invite alone carries the manage link; the magistrate's and the office's
    # are one file (the sender builds it once for both).
    invites = {r.rcpt_tos[0]: calendar_part(r).get_payload(decode=True).replace(b"\r\n ", b"")
               for r in smtp_server.received}
    link = booking["manage_url"].encode()
    assert link in invites[LAWYER] and link not in invites[JUDGE]
    assert invites[JUDGE] == invites[OFFICE]
    lawyer_text = smtp_server.to(LAWYER)[0].message.get_body(("plain",)).get_content()
    assert booking["manage_url"] in lawyer_text
    judge_text = smtp_server.to(JUDGE)[0].message.get_body(("plain",)).get_content()
    assert booking["manage_token"] not in judge_text
    assert "terça" in lawyer_text or "feira" in lawyer_text
    assert "horário de Cuiabá" in lawyer_text
    # The subject names the magistrate and the date; the court's copies say how to reach
    # the lawyer; the HTML fits a phone and has a Portuguese title.
    subject = smtp_server.to(JUDGE)[0].message["Subject"]
    assert subject.startswith("Atendimento agendado com ") and "feira" in subject
    assert "Contato: " in judge_text and "Contato: " not in lawyer_text
    html = smtp_server.to(LAWYER)[0].message.get_body(("html",)).get_content()
    assert '<meta name="viewport"' in html and "<title>Atendimento agendado</title>" in html


def test_subjects_reach_the_reader_as_written(mail_app, smtp_server, judge):
    """A subject longer than a header line is folded between encoded words, never inside
    a word ("quar ta-feira"), and reads at the server exactly as the outbox wrote it."""
    client = mail_app.test_client()
    book(client, judge, slot_at(client, judge, "14:00"))
    assert send(mail_app) == {"sent": 3, "failed": 0}
    with mail_app.app_context():
        written = set(db.session.scalars(select(OutboxMessage.subject)))
    assert len(written) == 1 and len(next(iter(written))) > 78
    for received in smtp_server.received:
        assert received.message["Subject"] == next(iter(written))
        headers = received.raw.split(b"\r\n\r\n", 1)[0]
        assert all(len(line) <= 78 for line in headers.split(b"\r\n"))


def test_a_subject_of_any_length_keeps_its_words(app):
    from email import message_from_bytes, policy

    from booking.notifications import mailer

    # a subject as the service writes it: plain words, the accents late (Flask-Mail's own
    # encoding, refolded by policy.SMTP, cut "quar ta-feira" and "hor ário" here)
    words = "Atendimento cancelado com Juiz de Direito Joao Batista Silva: quarta-feira, " \
            "16 de dezembro de 2026, 14:00, horário de Cuiabá — ação de cobrança".split()
    with app.app_context():
        for count in range(1, len(words) + 1):
            for prefix in ("", "x", "xy", "xyz", "xyzw", "xyzwv"):
                subject = prefix + " ".join(words[:count])
                raw = mailer.InviteMessage(subject=subject, recipients=["ana@example.com"],
                                           body="Olá", sender="agenda@example.jus.br").as_bytes()
                assert message_from_bytes(raw, policy=policy.default)["Subject"] == subject


def test_update_and_cancel_keep_the_uid_and_raise_the_sequence(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    booking = book(client, judge, slot_at(client, judge, "14:00"))
    send(mail_app)
    moved = client.post(f"/api/v1/bookings/{booking['id']}/reschedule",
                        json={"start": slot_at(client, judge, "15:00")},
                        headers=bearer(booking["manage_token"]))
    assert moved.status_code == 200
    send(mail_app)
    client.post(f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "Acordo"},
                headers=bearer(booking["manage_token"]))
    send(mail_app)
    events = [icalendar.Calendar.from_ical(calendar_part(r).get_content())
              for r in smtp_server.to(LAWYER)]
    assert [str(c["METHOD"]) for c in events] == ["REQUEST", "REQUEST", "CANCEL"]
    vevents = [c.walk("VEVENT")[0] for c in events]
    assert len({str(e["UID"]) for e in vevents}) == 1
    assert [e["SEQUENCE"] for e in vevents] == [0, 1, 2]
    assert str(vevents[2]["STATUS"]) == "CANCELLED"
    assert vevents[1].decoded("DTSTART").astimezone(UTC).strftime("%H:%M") == "19:00"
    moved_text = smtp_server.to(LAWYER)[1].message.get_body(("plain",)).get_content()
    assert re.search(r"Quando: .*15:00", moved_text)  # the new time, and the old one
    assert re.search(r"Horário anterior: .*14:00", moved_text)
    cancel_part = calendar_part(smtp_server.to(JUDGE)[-1])
    assert cancel_part.get_param("method") == "CANCEL"
    for received in smtp_server.received:
        vobject.readOne(calendar_part(received).get_content())
    assert len(smtp_server.received) == 9  # three people, three messages each


def test_sealed_cases_never_reach_an_invite_or_an_email(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    book(client, judge, slot_at(client, judge, "14:00"), under_seal=True)
    send(mail_app)
    for received in smtp_server.received:
        assert b"0001234" not in received.raw
        assert "liminar" not in received.message.get_body(("plain",)).get_content()
        assert "liminar" not in calendar_part(received).get_content()


def test_smtp_down_loses_nothing_and_each_message_goes_once(mail_app, smtp_server, judge):
    smtp_server.stop()
    client = mail_app.test_client()
    started = datetime.now()
    book(client, judge, slot_at(client, judge, "14:00"))
    assert (datetime.now() - started).total_seconds() < 5  # the request never waits for SMTP
    assert send(mail_app) == {"sent": 0, "failed": 3}
    with mail_app.app_context():
        pending = db.session.scalars(select(OutboxMessage)).all()
        assert {m.status for m in pending} == {"pending"}
        assert all(m.attempts == 1 and m.last_error for m in pending)
        assert all(m.next_attempt_at > utcnow() for m in pending)
    assert send(mail_app) == {"sent": 0, "failed": 0}  # backing off: not due yet
    smtp_server.start()
    assert send(mail_app, utcnow() + timedelta(minutes=5))["sent"] == 3
    assert send(mail_app, utcnow() + timedelta(hours=1)) == {"sent": 0, "failed": 0}
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_a_sender_dying_between_sending_and_marking_gives_a_same_id_duplicate(
        mail_app, smtp_server, judge):
    client = mail_app.test_client()
    book(client, judge, slot_at(client, judge, "14:00"))
    with mail_app.app_context():
        from booking.notifications.mailer import smtp_connection

        claimed = outbox.claim_due(utcnow(), 10)
        with smtp_connection() as connection:
            connection.send(outbox.as_email(claimed[0]))
        # ...and the sender dies here, before marking the message sent.
    assert send(mail_app) == {"sent": 0, "failed": 0}  # the lease still holds
    assert send(mail_app, utcnow() + outbox.LEASE + timedelta(seconds=1))["sent"] == 3
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert len(ids) == 4 and len(set(ids)) == 3  # one duplicate, with the same Message-ID
    with mail_app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.status == "sent")) == 3


def test_two_senders_at_once_send_each_message_once(mail_app, smtp_server, judge):
    mail_app.config["MAX_FUTURE_BOOKINGS_PER_LAWYER"] = 4  # four bookings of one lawyer
    client = mail_app.test_client()
    for index, hhmm in enumerate(("13:00", "14:00", "15:00", "16:00")):
        book(client, judge, slot_at(client, judge, hhmm), lawyer={
            "name": "Maria Souza", "oab": f"{100 + index}/MT", "email": LAWYER,
            "phone": "(65) 99999-0000"})
    barrier = threading.Barrier(2)
    results = []

    def sender():
        barrier.wait()
        results.append(send(mail_app))

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(r["sent"] for r in results) == 12
    ids = [r.message["Message-ID"] for r in smtp_server.received]
    assert len(ids) == 12 and len(set(ids)) == 12


def book_while_the_mail_server_is_down_for_good(mail_app, smtp_server, client, judge):
    """A booking whose three messages fail every attempt and end dead."""
    smtp_server.stop()
    book(client, judge, slot_at(client, judge, "14:00"))
    later = utcnow()
    for _ in range(mail_app.config["OUTBOX_MAX_ATTEMPTS"]):
        later += timedelta(hours=7)
        send(mail_app, later)


def test_dead_messages_are_shown_to_the_admin_who_can_resend_them(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    book_while_the_mail_server_is_down_for_good(mail_app, smtp_server, client, judge)
    with mail_app.app_context():
        admin = staff_token(make_staff("admin"))
        db.session.commit()
    dead = client.get("/api/v1/outbox?status=dead", headers=bearer(admin))
    assert dead.status_code == 200 and dead.headers["X-Total-Count"] == "3"
    assert all(m["attempts"] == mail_app.config["OUTBOX_MAX_ATTEMPTS"] for m in dead.get_json())
    assert client.get("/api/v1/outbox", headers=bearer(judge["token"])).status_code == 403
    smtp_server.start()
    for message in dead.get_json():
        assert client.post(f"/api/v1/outbox/{message['id']}/resend",
                           headers=bearer(admin)).get_json()["status"] == "pending"
    assert send(mail_app)["sent"] == 3


def test_reminders_go_once_to_the_lawyer_and_the_magistrate(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    booking = book(client, judge, slot_at(client, judge, "14:00"))
    send(mail_app)

    def reminders_to(address: str) -> list[str]:
        return [r.message.get_body(("plain",)).get_content() for r in smtp_server.received
                if "Lembrete" in r.message["Subject"] and r.rcpt_tos == [address]]

    with mail_app.app_context():
        from booking.bookings.messages import queue_reminders

        start = db.session.get(Booking, booking["id"]).start_at
        assert queue_reminders(start - timedelta(hours=30)) == 0
        assert queue_reminders(start - timedelta(hours=23)) == 2
        assert queue_reminders(start - timedelta(hours=22)) == 0
        db.session.commit()
        # the lawyer's manage link is sealed in the outbox
        stored = " ".join(f"{m.body_text} {m.payload}" for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "booking_reminder")))
        assert "/agendamentos/" not in stored
    send(mail_app, start - timedelta(hours=22))
    # A day before, the lawyer may still cancel: the reminder brings a link that does it.
    [first] = reminders_to(LAWYER)
    assert "Não vai poder comparecer?" in first and "convite anexo" not in first
    link = re.search(r"https?://\S+(/agendamentos/\d+\?token=\S+)", first).group(1)
    page = client.get(link)
    assert page.status_code == 200 and "Cancelar" in page.get_data(as_text=True)
    with mail_app.app_context():
        assert queue_reminders(start - timedelta(minutes=50)) == 2
        db.session.commit()
    send(mail_app, start - timedelta(minutes=40))
    assert len(reminders_to(LAWYER)) == 2 and len(reminders_to(JUDGE)) == 2
    # Fifty minutes before, past LAWYER_CHANGE_CUTOFF_HOURS: no link to a change refused.
    assert "/agendamentos/" not in reminders_to(LAWYER)[1]
    assert all("/agendamentos/" not in text for text in reminders_to(JUDGE))


def test_daily_agenda_at_seven_local_time(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    booking = book(client, judge, slot_at(client, judge, "14:00"))
    with mail_app.app_context():
        from booking.bookings.messages import queue_daily_agendas

        start = db.session.get(Booking, booking["id"]).start_at
        seven = start.replace(hour=11, minute=0)  # 07:00 in Cuiabá (UTC-4)
        assert queue_daily_agendas(seven - timedelta(hours=1)) == 0
        assert queue_daily_agendas(seven) == 1
        assert queue_daily_agendas(seven + timedelta(minutes=30)) == 0
        db.session.commit()
    send(mail_app, start)
    agenda = [r for r in smtp_server.received if "agenda de atendimentos de hoje" in r.message["Subject"]]
    assert len(agenda) == 1 and agenda[0].rcpt_tos == [JUDGE]
    assert "14:00" in agenda[0].message.get_body(("plain",)).get_content()


def test_daily_agendas_read_each_zone_once_and_go_to_those_booked_that_day(mail_app):
    """Four magistrates, two zones: at seven in each zone only those with a booking that day
    get their agenda, and which ones is one read of the bookings, not one per magistrate."""
    from zoneinfo import ZoneInfo

    from booking.bookings.messages import queue_daily_agendas
    from tests.support.factories import make_unit

    client = mail_app.test_client()
    with mail_app.app_context():
        unit = make_unit()
        judges = {}
        for name, zone in (("Ana Souza", "America/Cuiaba"), ("Bruno Lima", "America/Cuiaba"),
                           ("Carla Dias", "America/Sao_Paulo"), ("Davi Reis", "America/Cuiaba")):
            magistrate = make_magistrate(unit=unit, name=name, timezone=zone)
            make_rules(magistrate)
            judges[name] = {"id": magistrate.id, "email": magistrate.email}
        db.session.commit()
    first = slot_at(client, judges["Ana Souza"])
    day = first[:10]
    book(client, judges["Ana Souza"], first)

    def starts(name, **query):
        return [s["start"] for s in client.get(f"/api/v1/magistrates/{judges[name]['id']}/slots",
                                               query_string=query).get_json()]

    book(client, judges["Carla Dias"], starts("Carla Dias", **{"from": day, "to": day})[0])
    book(client, judges["Davi Reis"], next(start for start in starts("Davi Reis", **{"from": day})
                                           if start[:10] > day))
    reads = []

    def record(conn, cursor, statement, *args):
        if "FROM booking" in statement:
            reads.append(statement)

    with mail_app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            seven = datetime.fromisoformat(day + "T07:00:00")
            assert queue_daily_agendas(seven.replace(tzinfo=ZoneInfo("America/Cuiaba"))) == 1
            assert len(reads) == 1, reads
            assert queue_daily_agendas(seven.replace(tzinfo=ZoneInfo("America/Sao_Paulo"))) == 1
        finally:
            event.remove(engine, "before_cursor_execute", record)
        db.session.commit()
        told = sorted(email for message in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "daily_agenda"))
            for email in message.recipients)
    assert told == sorted([judges["Ana Souza"]["email"], judges["Carla Dias"]["email"]])


def test_subscribable_feed_with_rotatable_token(mail_app, judge):
    client = mail_app.test_client()
    booking = book(client, judge, slot_at(client, judge, "14:00"))
    url = f"/api/v1/magistrates/{judge['id']}/calendar.ics"
    assert client.get(url, query_string={"token": "x" * 20}).status_code == 404
    first = client.post(f"/api/v1/magistrates/{judge['id']}/calendar-token",
                        headers=bearer(judge["token"]))
    assert first.status_code == 201
    feed = client.get(url, query_string={"token": first.get_json()["token"]})
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(feed.data)
    with mail_app.app_context():
        uid = db.session.get(Booking, booking["id"]).ical_uid
    assert [str(e["UID"]) for e in calendar.walk("VEVENT")] == [uid]
    vobject.readOne(feed.get_data(as_text=True))
    second = client.post(f"/api/v1/magistrates/{judge['id']}/calendar-token",
                         headers=bearer(judge["token"])).get_json()
    assert client.get(url, query_string={"token": first.get_json()["token"]}).status_code == 404
    assert client.get(url, query_string={"token": second["token"]}).status_code == 200


def test_admin_page_lists_failed_messages_and_resends(mail_app, smtp_server, judge):
    client = mail_app.test_client()
    book_while_the_mail_server_is_down_for_good(mail_app, smtp_server, client, judge)
    with mail_app.app_context():
        make_staff("admin")
        db.session.commit()
        dead_id = db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.status == "dead"))
    from tests.support.factories import PASSWORD

    client.log_in("admin@example.jus.br", PASSWORD)
    page = client.get("/equipe/mensagens").get_data(as_text=True)
    assert "Com falha definitiva (3)" in page and LAWYER in page
    assert client.post(f"/equipe/mensagens/{dead_id}/reenviar").status_code == 302
    with mail_app.app_context():
        assert db.session.get(OutboxMessage, dead_id).status == "pending"


def test_building_e_mails_asks_the_resolver_for_this_machine_s_name_once(app, monkeypatch):
    """email.utils.make_msgid(), which Flask-Mail calls for every message, does a reverse
    lookup each time; thousands of e-mails must not wait on as many lookups."""
    import socket

    from booking.notifications import mailer

    lookups = []
    real = socket.getfqdn
    monkeypatch.setattr(socket, "getfqdn", lambda *args: lookups.append(args) or real(*args))
    mailer._this_host.cache_clear()
    with app.app_context():
        ids = {mailer.InviteMessage(subject="Convite", recipients=["ana@example.com"],
                                    body="Olá", sender="agenda@example.jus.br").msgId
               for _ in range(5)}
    assert len(ids) == 5  # each message still has an id of its own
    assert len(lookups) == 1
