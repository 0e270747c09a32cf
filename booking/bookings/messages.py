"""What everyone involved in a booking is told, queued in the caller's transaction.

Each recipient (the lawyer, the magistrate, the unit's office) gets a message
of their own; only the lawyer's carries the manage link. Booking events are
queued as snapshots that `render_booking_payload` turns into an e-mail with
an invite when the sender sends them; reminders and daily agendas are queued
rendered. The magistrate's subscribable feed is built here too. Nothing here
talks to a mail server: `notifications` sends.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parseaddr
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import select

from .. import requesters
from ..availability import busy
from ..availability import service as availability
from ..calendars.ical import Attendee, Invite, Person, build_calendar, build_feed
from ..courts import service as courts
from ..database import utcnow
from ..extensions import db
from ..formatting import MODE_LABELS, moment_label, time_label, zone_label
from ..notifications import service as notifications
from ..notifications import text_gateway
from ..security import seal, unseal
from ..urls import external_url
from . import service
from .links import manage_url, signed_token
from .models import Booking

EVENT_SUBJECTS = {
    "booked": "Atendimento agendado",
    "rescheduled": "Atendimento remarcado",
    "cancelled": "Atendimento cancelado",
    "reminder": "Lembrete de atendimento",
}


@dataclass(frozen=True)
class Recipient:
    role: str  # lawyer, magistrate, office
    person: Person
    ical_role: str


def recipients(booking, magistrate) -> list[Recipient]:
    """The lawyer, the magistrate and the unit's office, each once."""
    people = [Recipient("lawyer", Person(booking.lawyer_email, booking.lawyer_name),
                        "REQ-PARTICIPANT")]
    people += [Recipient(f"participant-{number}", Person(address, address), "OPT-PARTICIPANT")
               for number, address in enumerate(booking.participants or [], start=1)]
    if magistrate.email:
        people.append(Recipient("magistrate", Person(magistrate.email,
                                                     f"{magistrate.title} {magistrate.name}"),
                                "CHAIR"))
    if magistrate.unit.office_email:
        people.append(Recipient("office", Person(magistrate.unit.office_email,
                                                 f"Secretaria — {magistrate.unit.name}"),
                                "NON-PARTICIPANT"))
    seen, unique = set(), []
    for person in people:
        if person.person.email.lower() not in seen:
            seen.add(person.person.email.lower())
            unique.append(person)
    return unique


def organizer() -> Person:
    """The service's own mailbox: never one of the recipients."""
    name, _ = parseaddr(current_app.config["MAIL_DEFAULT_SENDER"])
    return Person(current_app.config["SERVICE_MAILBOX"], name or "Agendamento TJMT")


def location_of(booking, magistrate) -> str:
    """Where the appointment happens: its video room, or the address. Only the people
    involved see it (messages, invites, manage and staff pages), never a public page."""
    rule = availability.rule_of(magistrate.id)
    if booking.mode == "video":
        return booking.video_url or (rule.meeting_url if rule and rule.meeting_url
                                     else "Link enviado pela unidade")
    return (rule.address if rule and rule.address else magistrate.unit.address or
            magistrate.unit.name)


def invite_for(booking, magistrate, *, method: str,
               link: str | None = None, stamp: datetime | None = None) -> bytes:
    """The .ics of a booking as it stands; `link` (the manage URL) only for the lawyer."""
    return _invite(booking_snapshot(booking, magistrate), method=method, link=link,
                   stamp=stamp or utcnow())


def invite_response(booking):
    """The booking's current invite as a download (CANCEL once cancelled), for API and page."""
    magistrate = courts.get_magistrate(booking.magistrate_id)
    method = "CANCEL" if booking.status == "cancelled" else "REQUEST"
    response = current_app.response_class(invite_for(booking, magistrate, method=method))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="convite.ics"'
    return response


# WhatsApp and SMS: short, and the link (sealed until sent) where the lawyer has one.
TEXTS = {
    "booked": "TJMT: atendimento com {who} confirmado para {when}. "
              "Veja, remarque ou cancele: {link}",
    "rescheduled": "TJMT: seu atendimento com {who} foi remarcado para {when}. "
                   "Detalhes: {link}",
    "cancelled": "TJMT: seu atendimento com {who} de {when} foi cancelado. "
                 "O motivo está no seu e-mail.",
    "reminder": "TJMT: lembrete do atendimento com {who} em {when}. "
                "Se não puder comparecer, remarque ou cancele: {link}",
}
# Past the lawyer's cutoff no link changes the booking any more (the e-mail says whom to ask).
REMINDER_TEXT_AFTER_CUTOFF = "TJMT: lembrete do atendimento com {who} em {when}."


def text_message(booking, magistrate, event: str, sealed_link: str | None) -> dict | None:
    """The lawyer's WhatsApp or SMS about this event, as an outbox row, when they opted in
    and the court still offers that channel; latest state wins, as for e-mails.
    `sealed_link`: the manage link as sealed for the lawyer's e-mail (sealing it again
    would cost a booking's write transaction a second encryption)."""
    config = current_app.config
    if booking.notify_by not in text_gateway.offered_channels(config):
        return None
    who = f"{magistrate.title} {magistrate.name}"
    when = moment_label(booking.start_at, magistrate.timezone)
    sealed_link = sealed_link if event != "cancelled" else None
    text = (REMINDER_TEXT_AFTER_CUTOFF if event == "reminder" and not sealed_link
            else TEXTS[event])
    return {
        "dedupe_key": f"booking:{booking.id}:{event}:{booking.ical_sequence}:text",
        "kind": f"text_{event}", "to": booking.lawyer_phone,
        "subject": f"{EVENT_SUBJECTS[event]} ({text_gateway.CHANNELS[booking.notify_by]})",
        "topic": f"booking:{booking.id}:{'reminder:' if event == 'reminder' else ''}text",
        "version": booking.ical_sequence,
        "payload": {"channel": booking.notify_by, "to": booking.lawyer_phone,
                    "template": text_gateway.template_for(config, event),
                    "parameters": {"magistrado": who, "quando": when},
                    "text": text.format(who=who, when=when, link="{link}"),
                    "sealed_link": sealed_link}}


def confirm_url(booking, token: str, code: str | None = None) -> str:
    """The link in the code's e-mail: a page that confirms with one press (a POST)."""
    values = {"token": token, **({"codigo": code} if code else {})}
    return external_url("bookings_pages.confirm_hold", booking_id=booking.id, **values)


def queue_confirmation_code(booking, code: str, manage_token: str, *,
                            also: list[dict] = (), number: int = 1) -> int:
    """The one message a hold sends: the code and a link that confirms, to the address
    given, and nothing to anyone else until it is confirmed. Both are sealed in the
    outbox and erased once sent. `also`: other messages of the hold (its webhook
    events), queued in the same statement. `number`: which of the hold's codes this is
    (a later one replaces the earlier)."""
    magistrate = courts.get_magistrate(booking.magistrate_id)
    return notifications.queue_payloads([{
        "dedupe_key": f"booking:{booking.id}:code" + (f":{number}" if number > 1 else ""),
        "kind": "booking_code",
        "to": booking.lawyer_email,
        "subject": f"Confirme seu agendamento com {magistrate.title} {magistrate.name}",
        "payload": {"event": "code", "method": None, "role": "lawyer",
                    "sealed_code": seal(code),
                    "sealed_link": seal(confirm_url(booking, manage_token, code)),
                    "stamp": utcnow().isoformat(),
                    "minutes": current_app.config["BOOKING_HOLD_MINUTES"],
                    "expires_at": booking.hold_expires_at.isoformat(),
                    "replaces_earlier": number > 1,
                    "booking": booking_snapshot(booking, magistrate)}}, *also])


def queue_booking_messages(booking, event: str, manage_token: str | None = None,
                           previous_start: datetime | None = None, *,
                           first_messages: bool = False, writes_back: bool = True,
                           also: list[dict] = ()) -> int:
    """Invite, update or cancel for everyone involved. event: booked|rescheduled|cancelled.

    Each message is a snapshot of the booking that the sender renders; the rows
    go in with one statement. A booking's event and sequence happen once, so
    their dedupe keys are never written twice. `first_messages`: the booking's first
    messages to everyone (booked, or a hold confirmed), so nothing older about it waits
    in the outbox; `writes_back` False: the caller read that the magistrate has no
    calendar to write it to; `also`: other messages of the same change (its webhook
    events), queued in the same statement.
    """
    magistrate = courts.get_magistrate(booking.magistrate_id)
    method = "CANCEL" if event == "cancelled" else "REQUEST"
    snapshot = booking_snapshot(booking, magistrate)
    subject = (f"{EVENT_SUBJECTS[event]} com {magistrate.title} {magistrate.name}: "
               f"{moment_label(booking.start_at, magistrate.timezone)}")
    stamp = utcnow().isoformat()
    link = manage_url(booking, manage_token) if manage_token else None
    sealed_link = seal(link) if link and event != "cancelled" else None
    messages = []
    for recipient in recipients(booking, magistrate):
        messages.append({
            "dedupe_key": f"booking:{booking.id}:{event}:{booking.ical_sequence}:{recipient.role}",
            "kind": f"booking_{event}", "to": recipient.person.email, "subject": subject,
            "method": method, "topic": f"booking:{booking.id}:{recipient.role}",
            "version": booking.ical_sequence,
            # The manage link is the lawyer's key: sealed, and erased once sent.
            "payload": {"event": event, "method": method, "role": recipient.role,
                        "sealed_link": sealed_link if recipient.role == "lawyer" else None,
                        "stamp": stamp,
                        "previous_start": previous_start.isoformat() if previous_start
                        else None, "booking": snapshot}})
    text = text_message(booking, magistrate, event, sealed_link)
    if text:
        messages.append(text)
    for source in busy.write_back_sources(magistrate.id) if writes_back else ():
        messages.append({
            "dedupe_key": f"booking:{booking.id}:{event}:{booking.ical_sequence}:"
                          f"calendar:{source.id}",
            "kind": "calendar_write", "to": f"caldav:{source.id}", "subject": subject,
            "topic": f"booking:{booking.id}:calendar:{source.id}",
            "version": booking.ical_sequence,
            "payload": {"source_id": source.id, "event": event, "stamp": stamp,
                        "booking": snapshot}})
    return notifications.queue_payloads([*messages, *also], new_topics=first_messages)


def write_to_magistrate_calendar(payload: dict, _message=None) -> None:
    """The outbox's delivery of a booking to the magistrate's CalDAV calendar: the same UID
    as the invite (so accepting the invite too makes no duplicate); gone when cancelled."""
    data = payload["booking"]
    calendar = busy.caldav_calendar_of(payload["source_id"])
    if payload["event"] == "cancelled":
        busy.delete_event(calendar, data["ical_uid"])
        return
    context = _snapshot_context(data)
    booking, magistrate = context["booking"], context["magistrate"]
    feed = build_feed(f"Atendimentos — {magistrate.title} {magistrate.name}", [Invite(
        uid=booking.ical_uid, sequence=booking.ical_sequence, method="REQUEST",
        stamp=datetime.fromisoformat(payload["stamp"]), start=booking.start_at,
        end=booking.end_at, tzid=magistrate.timezone,
        summary=f"Atendimento: {requesters.asker(booking)}",
        description=render_template("email/invite_description.txt", **context,
                                    link=None).strip(),
        location=data["location"], organizer=organizer(), url=data.get("video_url"),
        conference=data.get("video_url"))])
    busy.save_event(calendar, data["ical_uid"], feed)


def booking_snapshot(booking, magistrate) -> dict:
    """What the messages say about a booking, as it is now, in plain JSON.

    A sealed case's number and subject are not even written down here.
    """
    sealed = booking.under_seal
    return {
        "id": booking.id, "ical_uid": booking.ical_uid, "ical_sequence": booking.ical_sequence,
        "start_at": booking.start_at.isoformat(), "end_at": booking.end_at.isoformat(),
        "mode": booking.mode, "status": booking.status, "under_seal": sealed,
        "case_number": None if sealed else booking.case_number,
        "subject": None if sealed else booking.subject,
        "lawyer_name": booking.lawyer_name, "lawyer_oab": booking.lawyer_oab,
        # the magistrate's and the office's copies say how to reach the lawyer
        "lawyer_email": booking.lawyer_email, "lawyer_phone": booking.lawyer_phone,
        "participants": list(booking.participants or []),
        "requester_type": booking.requester_type or "lawyer",
        # The answers may tell of the case: not written down under seal.
        "answers": [] if booking.under_seal else list(booking.answers or []),
        "requester_institution": booking.requester_institution,
        "cancelled_by": booking.cancelled_by, "cancel_reason": booking.cancel_reason,
        "location": location_of(booking, magistrate),
        "video_url": booking.video_url if booking.mode == "video" else None,
        "magistrate": {"name": magistrate.name, "title": magistrate.title,
                       "timezone": magistrate.timezone},
        "unit": {"name": magistrate.unit.name},
        "attendees": [[r.person.email, r.person.name, r.ical_role]
                      for r in recipients(booking, magistrate)],
    }


def _snapshot_context(data: dict) -> dict:
    """Template values from a snapshot: objects with the attributes the templates read."""
    booking = SimpleNamespace(**{**data, "start_at": datetime.fromisoformat(data["start_at"]),
                                 "end_at": datetime.fromisoformat(data["end_at"])})
    magistrate = SimpleNamespace(**data["magistrate"])
    return {
        "booking": booking, "magistrate": magistrate, "unit": SimpleNamespace(**data["unit"]),
        "when": moment_label(booking.start_at, magistrate.timezone),
        "until": time_label(booking.end_at, magistrate.timezone),
        "mode_label": MODE_LABELS[booking.mode], "location": data["location"],
        "zone_label": zone_label(magistrate.timezone),
        "court_name": current_app.config["COURT_NAME"],
    }


def _invite(data: dict, *, method: str, link: str | None, stamp: datetime) -> bytes:
    context = _snapshot_context(data)
    booking, magistrate = context["booking"], context["magistrate"]
    description = render_template("email/invite_description.txt", **context, link=link)
    return build_calendar(Invite(
        uid=booking.ical_uid, sequence=booking.ical_sequence, method=method, stamp=stamp,
        start=booking.start_at, end=booking.end_at, tzid=magistrate.timezone,
        summary=f"Atendimento com {magistrate.title} {magistrate.name}",
        description=description.strip(), location=data["location"], organizer=organizer(),
        attendees=tuple(Attendee(Person(email, name), role)
                        for email, name, role in data["attendees"]),
        url=link or data.get("video_url"), conference=data.get("video_url")))


# The .ics of an event the sender just rendered, by what makes it: the magistrate's and the
# office's copies of one event (written in one statement, with one stamp and no link) are
# the same file, built once. A few recent events suffice: a batch sends an event's copies
# together. The sender's threads share it.
_RECENT_INVITES: OrderedDict[tuple, bytes] = OrderedDict()
_RECENT_INVITES_LOCK = threading.Lock()
_RECENT_INVITES_KEPT = 64


def _invite_of_event(data: dict, *, method: str, link: str | None, stamp: str) -> bytes:
    key = (data["ical_uid"], data["ical_sequence"], method, stamp, link)
    with _RECENT_INVITES_LOCK:
        ics = _RECENT_INVITES.get(key)
    if ics is None:
        ics = _invite(data, method=method, link=link, stamp=datetime.fromisoformat(stamp))
        with _RECENT_INVITES_LOCK:
            _RECENT_INVITES[key] = ics
            while len(_RECENT_INVITES) > _RECENT_INVITES_KEPT:
                _RECENT_INVITES.popitem(last=False)
    return ics


def render_booking_payload(payload: dict) -> tuple[str, str, bytes]:
    """The text, HTML and .ics of a queued booking message (the sender calls this)."""
    sealed = payload.get("sealed_link")
    link = unseal(sealed) if sealed else None
    if sealed and link is None:  # fail loudly: a lawyer's invite without its manage link
        raise RuntimeError("the manage link cannot be unsealed (was DATA_ENCRYPTION_KEY or "
                           "SECRET_KEY changed?)")
    values = {**_snapshot_context(payload["booking"]), "event": payload["event"],
              "link": link, "recipient": SimpleNamespace(role=payload["role"]),
              "title": EVENT_SUBJECTS.get(payload["event"], "Atendimento")}
    if payload.get("previous_start"):
        values["previous_when"] = moment_label(datetime.fromisoformat(
            payload["previous_start"]), values["magistrate"].timezone)
    if payload["event"] == "code":
        code = unseal(payload.get("sealed_code") or "")
        if code is None:  # fail loudly, as a message without its manage link
            raise RuntimeError("the code cannot be unsealed (was DATA_ENCRYPTION_KEY or "
                               "SECRET_KEY changed?)")
        values.update(code=code, minutes=payload["minutes"],
                      replaces_earlier=payload.get("replaces_earlier", False))
        if payload.get("expires_at"):
            zone = values["magistrate"].timezone
            values["expires"] = (f"{time_label(datetime.fromisoformat(payload['expires_at']), zone)}"
                                 f" ({zone_label(zone)})")
        return (render_template("email/booking_code.txt", **values),
                render_template("email/booking_code.html", **values), None)
    if payload["event"] == "reminder":  # the invite is already in the calendar
        return (render_template("email/booking.txt", **values),
                render_template("email/booking.html", **values), None)
    ics = _invite_of_event(payload["booking"], method=payload["method"], link=link,
                           stamp=payload["stamp"])
    return (render_template("email/booking.txt", **values),
            render_template("email/booking.html", **values), ics)


def queue_reminders(now: datetime | None = None) -> int:
    """Remind the lawyer and the magistrate before each confirmed booking (two reminders)."""
    now = now or utcnow()
    config = current_app.config
    written = 0
    for flag, hours in (("first_reminder_sent", config["FIRST_REMINDER_HOURS"]),
                        ("second_reminder_sent", config["SECOND_REMINDER_HOURS"])):
        column = getattr(Booking, flag)
        due = db.session.scalars(select(Booking).where(
            Booking.status == "confirmed", column.is_(False), Booking.start_at > now,
            Booking.start_at <= now + timedelta(hours=hours)).with_for_update(skip_locked=True))
        for booking in due:
            magistrate = courts.get_magistrate(booking.magistrate_id)
            snapshot = booking_snapshot(booking, magistrate)
            context = _snapshot_context(snapshot)
            # While the lawyer may still change it, the reminder (e-mail and text alike)
            # brings a link to cancel or move it: one who cannot come frees the time.
            lawyer_link = (None if service.lawyer_cutoff_passed(booking, now)
                           else seal(manage_url(booking, signed_token(booking))))
            for recipient in recipients(booking, magistrate):
                if recipient.role == "office":
                    continue
                if recipient.role == "lawyer" and lawyer_link:
                    written += _queue_lawyer_reminder(booking, snapshot, flag, recipient, now,
                                                      context["when"], lawyer_link)
                    continue
                values = {**context, "event": "reminder", "recipient": recipient, "link": None}
                written += notifications.queue(
                    dedupe_key=f"booking:{booking.id}:{flag}:{booking.ical_sequence}:"
                               f"{recipient.role}",
                    topic=f"booking:{booking.id}:reminder:{recipient.role}",
                    version=booking.ical_sequence,
                    kind="booking_reminder", to=recipient.person.email,
                    subject=f"{EVENT_SUBJECTS['reminder']}: {context['when']}",
                    text=render_template("email/booking.txt", **values),
                    html=render_template("email/booking.html", **values))
            text = text_message(booking, magistrate, "reminder", lawyer_link)
            if text:
                written += notifications.queue(**{**text, "dedupe_key": text["dedupe_key"]
                                                  .replace(":reminder:", f":{flag}:")})
            service.mark_reminder_queued(booking.id, flag)
    return written


def _queue_lawyer_reminder(booking, snapshot: dict, flag: str, recipient, now: datetime,
                           when: str, sealed_link: str) -> bool:
    """The requester's reminder with the link to cancel or move the booking: a link sent
    again (links.py), sealed in the outbox like every manage link and rendered when sent."""
    return notifications.queue(
        dedupe_key=f"booking:{booking.id}:{flag}:{booking.ical_sequence}:{recipient.role}",
        topic=f"booking:{booking.id}:reminder:{recipient.role}", version=booking.ical_sequence,
        kind="booking_reminder", to=recipient.person.email,
        subject=f"{EVENT_SUBJECTS['reminder']}: {when}",
        payload={"event": "reminder", "method": None, "role": recipient.role,
                 "sealed_link": sealed_link, "stamp": now.isoformat(), "booking": snapshot})


def queue_daily_agendas(now: datetime | None = None) -> int:
    """At DAILY_AGENDA_HOUR local time, each magistrate with bookings gets the day's list
    (which of them have bookings: one read per time zone and 500 magistrates, not one each)."""
    now = now or utcnow()
    due: dict[tuple[datetime, date], list] = {}  # (the day's start, the day) -> magistrates
    for magistrate in courts.magistrates_with_email():
        zone = ZoneInfo(magistrate.timezone)
        local_now = now.astimezone(zone)
        if local_now.hour == current_app.config["DAILY_AGENDA_HOUR"]:
            day = local_now.date()
            due.setdefault((datetime.combine(day, time(0), zone), day), []).append(magistrate)
    written = 0
    for (start, day), magistrates in due.items():
        for offset in range(0, len(magistrates), _AGENDAS_PER_READ):
            chunk = magistrates[offset:offset + _AGENDAS_PER_READ]
            with_bookings = set(db.session.scalars(select(Booking.magistrate_id).distinct().where(
                Booking.magistrate_id.in_([m.id for m in chunk]), Booking.status == "confirmed",
                Booking.start_at >= start, Booking.start_at < start + timedelta(days=1))))
            for magistrate in chunk:
                if magistrate.id in with_bookings:
                    written += notifications.queue(
                        dedupe_key=f"agenda:{magistrate.id}:{day.isoformat()}",
                        kind="daily_agenda", to=magistrate.email,
                        subject=f"Sua agenda de atendimentos de hoje ({day:%d/%m/%Y})",
                        payload={"magistrate_id": magistrate.id, "day": day.isoformat()})
    return written


# Magistrates whose day is read in one statement by queue_daily_agendas.
_AGENDAS_PER_READ = 500


def _day_bookings(magistrate, day) -> list[Booking]:
    zone = ZoneInfo(magistrate.timezone)
    start = datetime.combine(day, time(0), zone)
    return db.session.scalars(select(Booking).where(
        Booking.magistrate_id == magistrate.id, Booking.status == "confirmed",
        Booking.start_at >= start, Booking.start_at < start + timedelta(days=1))
        .order_by(Booking.start_at)).all()


def render_daily_agenda(payload: dict) -> tuple[str, str, None]:
    """The day's agenda as it stands when it is sent, not when it was queued."""
    magistrate = courts.get_magistrate(payload["magistrate_id"])
    day = date.fromisoformat(payload["day"])
    values = {"magistrate": magistrate, "day": day, "bookings": _day_bookings(magistrate, day),
              "zone": magistrate.timezone, "court_name": current_app.config["COURT_NAME"]}
    return (render_template("email/daily_agenda.txt", **values),
            render_template("email/daily_agenda.html", **values), None)


def daily_agenda_still_useful(message) -> bool:
    """A day's agenda with nothing left on it (everything cancelled) is not sent."""
    magistrate = courts.get_magistrate(message.payload["magistrate_id"])
    return bool(_day_bookings(magistrate, date.fromisoformat(message.payload["day"])))


def code_still_useful(message) -> bool:
    """A hold's code goes only while the hold waits for it (a sender that was down for
    longer than the hold must not send a code for a slot that is gone), and only while it
    is the hold's code (a newer one, asked for meanwhile, replaced it)."""
    booking = db.session.get(Booking, int(message.dedupe_key.split(":")[1]))
    return booking is not None and service.code_still_current(
        booking, booking.ical_uid, message.payload.get("sealed_code"))


def reminder_still_true(message) -> bool:
    """A reminder describes the booking's time of when it was queued: it goes only if the
    booking is still confirmed at that very version (not cancelled, not moved)."""
    booking_id = int(message.topic.split(":")[1])
    booking = db.session.get(Booking, booking_id)
    return booking is not None and booking.status == "confirmed" and \
        booking.ical_sequence == message.version


def magistrate_feed(magistrate, now: datetime | None = None) -> bytes:
    """The magistrate's bookings from 30 days ago on, as a calendar apps poll."""
    now = now or utcnow()
    bookings = db.session.scalars(select(Booking).where(
        Booking.magistrate_id == magistrate.id, Booking.start_at >= now - timedelta(days=30),
        service.EVER_CONFIRMED).order_by(Booking.start_at)).all()
    events = []
    for booking in bookings:
        context = _snapshot_context(booking_snapshot(booking, magistrate))
        description = render_template("email/invite_description.txt", **context, link=None)
        events.append(Invite(
            uid=booking.ical_uid, sequence=booking.ical_sequence,
            method="CANCEL" if booking.status == "cancelled" else "REQUEST",
            stamp=booking.updated_at, start=booking.start_at, end=booking.end_at,
            tzid=magistrate.timezone,
            summary=f"Atendimento: {requesters.asker(booking)}",
            description=description.strip(), location=context["location"],
            organizer=organizer()))
    return build_feed(f"Atendimentos — {magistrate.title} {magistrate.name}", events)
