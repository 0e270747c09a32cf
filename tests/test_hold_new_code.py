"""A hold (or a waiting-list entry) whose code did not arrive asks for a new one, on its page
or the API: the new code replaces the old (whose e-mail, if still waiting, is not sent), the
hold keeps its expiry and its wrong tries, and new codes are few and spaced apart. Codes and
links travel sealed in the outbox."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from booking.bookings import messages, waitlist
from booking.bookings.models import Booking, WaitlistEntry
from booking.courts.models import Magistrate
from booking.database import utcnow
from booking.extensions import db
from booking.notifications.models import OutboxMessage
from booking.notifications.service import as_email, send_due
from tests.support.factories import bearer, confirmation_code
from tests.support.racing import race
from tests.test_booking_pages import first_slot_link, judge, lawyer_form  # noqa: F401
from tests.test_bookings_api import desk  # noqa: F401  (the fixture)
from tests.test_holds import code_of, confirm, hold


def new_code(client, held):
    return client.post(f"/api/v1/bookings/{held['id']}/new-code",
                       headers=bearer(held["manage_token"]))


def let_time_pass(app, booking_id: int, seconds: int = 61) -> None:
    """The last code went `seconds` ago."""
    with app.app_context():
        db.session.execute(update(Booking).where(Booking.id == booking_id).values(
            code_sent_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def code_messages(app, booking_id: int) -> list[OutboxMessage]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(f"booking:{booking_id}:code"))
            .order_by(OutboxMessage.id)))


def test_a_new_code_replaces_the_old_and_the_hold_keeps_its_time_and_tries(app, client,
                                                                           desk):  # noqa: F811
    held = hold(client, desk)
    first = code_of(app, held)
    wrong = "000000" if first != "000000" else "111111"
    assert confirm(client, held, wrong).status_code == 422  # one try spent

    too_soon = new_code(client, held)
    assert too_soon.status_code == 429 and too_soon.get_json()["code"] == "code_just_sent"
    assert 0 < int(too_soon.headers["Retry-After"]) <= 60
    assert "Aguarde" in too_soon.get_json()["detail"]

    let_time_pass(app, held["id"])
    answer = new_code(client, held)
    assert answer.status_code == 202, answer.get_json()
    assert answer.get_json() == {"hold_expires_at": held["hold_expires_at"], "new_codes_left": 1}
    second = code_of(app, held)
    assert [m.dedupe_key for m in code_messages(app, held["id"])] == [
        f"booking:{held['id']}:code", f"booking:{held['id']}:code:2"]

    if second != first:  # one in a million draws the same six digits
        stale = confirm(client, held, first)
        assert stale.status_code == 422  # the old code no longer confirms, and it counts
        assert "Restam 3 tentativa(s)" in stale.get_json()["errors"]["code"][0]
    confirmed = confirm(client, held, second)
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "confirmed"
    done = new_code(client, held)
    assert done.status_code == 409 and done.get_json()["code"] == "already_confirmed"


def test_the_old_codes_e_mail_still_waiting_is_not_sent_and_the_new_one_says_it_replaces_it(
        app, client, desk):  # noqa: F811
    held = hold(client, desk)
    let_time_pass(app, held["id"])
    assert new_code(client, held).status_code == 202
    old, new = code_messages(app, held["id"])
    with app.app_context():
        assert not messages.code_still_useful(db.session.get(OutboxMessage, old.id))
        assert messages.code_still_useful(db.session.get(OutboxMessage, new.id))
        text, html, ics = messages.render_booking_payload(new.payload)
        booking = db.session.get(Booking, held["id"])
        zone = ZoneInfo(db.session.get(Magistrate, booking.magistrate_id).timezone)
        expires = booking.hold_expires_at.astimezone(zone).strftime("%H:%M")
        send_due()  # no mail server here: the new one waits to be tried again
        statuses = {m.id: m.status for m in db.session.scalars(select(OutboxMessage))}
    assert ics is None
    assert "o código anterior deixou de valer" in text and "código anterior" in html
    assert f"A reserva vale até as {expires} (horário de Cuiabá)" in text
    assert statuses[old.id] == "superseded" and statuses[new.id] == "pending"


def test_new_codes_are_few(app, client, desk):  # noqa: F811
    held = hold(client, desk)
    for left in (1, 0):
        let_time_pass(app, held["id"])
        answer = new_code(client, held)
        assert answer.status_code == 202 and answer.get_json()["new_codes_left"] == left
    let_time_pass(app, held["id"])
    refused = new_code(client, held)
    assert refused.status_code == 409 and refused.get_json()["code"] == "too_many_codes"
    assert len(code_messages(app, held["id"])) == 3
    assert confirm(client, held, code_of(app, held)).status_code == 200


def test_a_hold_that_expired_gets_no_new_code_and_its_slot_opens(app, client, desk):  # noqa: F811
    held = hold(client, desk)
    with app.app_context():
        db.session.execute(update(Booking).where(Booking.id == held["id"]).values(
            hold_expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    late = new_code(client, held)
    assert late.status_code == 409 and late.get_json()["code"] == "hold_expired"
    with app.app_context():
        assert db.session.get(Booking, held["id"]).status == "cancelled"
    assert len(code_messages(app, held["id"])) == 1


def test_the_hold_page_sends_a_new_code_and_says_why_not_beside_the_button(app, client,
                                                                           judge):  # noqa: F811
    link = first_slot_link(client, judge)
    held = client.post(link, data=lawyer_form(link))
    page_url = held.headers["Location"]
    booking_id = int(page_url.split("/")[-2])
    page = client.get(page_url).get_data(as_text=True)
    assert "Enviar um novo código" in page and "maria@example.com" in page

    too_soon = client.post(f"/agendamentos/{booking_id}/novo-codigo")
    assert too_soon.status_code == 429
    html = too_soon.get_data(as_text=True)
    refusal = re.search(r'<p class="field-error" id="novo-codigo-erro" role="alert">([^<]+)</p>',
                        html)
    assert refusal and "Aguarde" in refusal.group(1)
    assert 'aria-describedby="novo-codigo-erro"' in html

    assert app.test_client().post(f"/agendamentos/{booking_id}/novo-codigo").status_code == 404
    let_time_pass(app, booking_id)
    sent = client.post(f"/agendamentos/{booking_id}/novo-codigo")
    assert sent.status_code == 302 and sent.headers["Location"].endswith("/confirmar")
    after = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "Enviamos um novo código para maria@example.com" in after
    with app.app_context():
        code = confirmation_code(booking_id)
    confirmed = client.post(page_url, data={"code": code})
    assert confirmed.status_code == 302 and confirmed.headers["Location"].endswith("/confirmacao")


def test_the_e_mails_link_page_offers_no_new_code(app, client, desk):  # noqa: F811
    """Whoever opened the e-mail's link has the code already (it is in the link)."""
    held = hold(client, desk)
    page = client.get(f"/agendamentos/{held['id']}/confirmar?token={held['manage_token']}")
    assert page.status_code == 200 and "Enviar um novo código" not in page.get_data(as_text=True)


def join_waitlist(client, desk):  # noqa: F811
    day = desk["slots"][0]["start"][:10]
    joined = client.post(f"/api/v1/magistrates/{desk['judge']}/waitlist", json={
        "name": "Ana Espera", "email": "ana@example.com", "first_day": day, "last_day": day,
        "consent": True})
    assert joined.status_code == 202, joined.get_json()
    return joined.get_json()


def waitlist_messages(app, entry_id: int) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.dedupe_key.startswith(f"waitlist:{entry_id}:code"))
            .order_by(OutboxMessage.id)))
        db.session.expunge_all()
    return rows


def waitlist_code(app, message: OutboxMessage) -> str:
    with app.app_context():
        return re.search(r"lista de espera: (\d{6})", as_email(message).body).group(1)


def test_a_waitlist_entrys_code_and_link_are_sealed_in_the_outbox(app, client,
                                                                  desk):  # noqa: F811
    entry = join_waitlist(client, desk)
    [message] = waitlist_messages(app, entry["id"])
    code = waitlist_code(app, message)
    stored = json.dumps(message.payload)
    assert message.body_text is None and entry["manage_token"] not in stored and code not in stored
    with app.app_context():
        body = as_email(message).body
    assert entry["manage_token"] in body and "em até 15 minutos" in body


def test_a_waitlist_entry_gets_a_new_code_on_the_api(app, client, desk):  # noqa: F811
    entry = join_waitlist(client, desk)
    url = f"/api/v1/waitlist/{entry['id']}/new-code"
    headers = bearer(entry["manage_token"])
    too_soon = client.post(url, headers=headers)
    assert too_soon.status_code == 429 and too_soon.get_json()["code"] == "code_just_sent"
    assert client.post(url).status_code == 404  # only with the entry's token
    with app.app_context():
        db.session.execute(update(WaitlistEntry).values(code_sent_at=utcnow() - timedelta(seconds=61)))
        db.session.commit()
    sent = client.post(url, headers=headers)
    assert sent.status_code == 202 and sent.get_json()["new_codes_left"] == 1
    old, new = waitlist_messages(app, entry["id"])
    with app.app_context():
        assert not waitlist.code_still_useful(db.session.get(OutboxMessage, old.id))
        assert waitlist.code_still_useful(db.session.get(OutboxMessage, new.id))
        text = as_email(new).body
    assert "o código anterior deixou de valer" in text and "até as" in text
    first, second = waitlist_code(app, old), waitlist_code(app, new)
    confirm_url = entry["confirm_url"]
    if first != second:
        assert client.post(confirm_url, json={"code": first}, headers=headers).status_code == 422
    confirmed = client.post(confirm_url, json={"code": second}, headers=headers)
    assert confirmed.status_code == 200 and confirmed.get_json()["status"] == "waiting"
    done = client.post(url, headers=headers)
    assert done.status_code == 409 and done.get_json()["code"] == "already_confirmed"


def test_the_waitlist_page_sends_a_new_code_and_says_why_not_beside_the_button(app, client,
                                                                               desk):  # noqa: F811
    entry = join_waitlist(client, desk)
    path, token = f"/lista-de-espera/{entry['id']}", entry["manage_token"]
    page = client.get(f"{path}?token={token}").get_data(as_text=True)
    assert "Enviar um novo código" in page
    too_soon = client.post(path, data={"token": token, "action": "new_code"})
    assert too_soon.status_code == 429
    assert re.search(r'id="novo-codigo-erro" role="alert">[^<]*Aguarde',
                     too_soon.get_data(as_text=True))
    with app.app_context():
        db.session.execute(update(WaitlistEntry).values(code_sent_at=utcnow() - timedelta(seconds=61)))
        db.session.commit()
    sent = client.post(path, data={"token": token, "action": "new_code"})
    assert sent.status_code == 200
    assert "Enviamos um novo código para ana@example.com" in sent.get_data(as_text=True)
    assert len(waitlist_messages(app, entry["id"])) == 2


def test_a_hold_made_before_codes_were_counted_gets_its_second_code(app, client,
                                                                    desk):  # noqa: F811
    """Holds and entries live when migration 0035 ran count no code sent, yet sent one."""
    held = hold(client, desk)
    entry = join_waitlist(client, desk)
    with app.app_context():
        db.session.execute(update(Booking).values(codes_sent=0, code_sent_at=None))
        db.session.execute(update(WaitlistEntry).values(codes_sent=0, code_sent_at=None))
        db.session.commit()
    assert new_code(client, held).get_json() == {"hold_expires_at": held["hold_expires_at"],
                                                 "new_codes_left": 1}
    assert [m.dedupe_key for m in code_messages(app, held["id"])][-1].endswith(":code:2")
    again = client.post(f"/api/v1/waitlist/{entry['id']}/new-code",
                        headers=bearer(entry["manage_token"]))
    assert again.status_code == 202 and again.get_json()["new_codes_left"] == 1
    assert len(waitlist_messages(app, entry["id"])) == 2


def test_many_presses_at_once_send_one_new_code(app, client, desk):  # noqa: F811
    """Two windows, a double click: every request but one is told a code just went."""
    held = hold(client, desk)
    entry = join_waitlist(client, desk)
    let_time_pass(app, held["id"])
    with app.app_context():
        db.session.execute(update(WaitlistEntry).values(code_sent_at=utcnow() - timedelta(seconds=61)))
        db.session.commit()

    def press(path, token):
        def attempt(_index):
            with app.test_client() as own:
                return own.post(path, headers=bearer(token)).status_code
        return attempt

    for path, token, messages_of in (
            (f"/api/v1/bookings/{held['id']}/new-code", held["manage_token"],
             lambda: code_messages(app, held["id"])),
            (f"/api/v1/waitlist/{entry['id']}/new-code", entry["manage_token"],
             lambda: waitlist_messages(app, entry["id"]))):
        statuses = race(12, press(path, token))
        assert sorted(statuses) == [202] + [429] * 11, statuses
        assert len(messages_of()) == 2
