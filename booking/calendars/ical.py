"""iCalendar invites (RFC 5545, iTIP RFC 5546), built with `icalendar`. Pure.

One VEVENT per booking: its UID never changes, SEQUENCE rises with every
reschedule or cancel, times carry the magistrate's TZID with a VTIMEZONE made
from the current zone rules around the event only (not Brazil's pre-2019
daylight-saving history, which makes some clients show events an hour off).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vCalAddress, vText, vUri

PRODID = "-//Tribunal de Justiça de Mato Grosso//Agendamento de atendimento//PT-BR"
# Every booking's UID ends so: a magistrate's calendar that holds our own events (written
# back, or accepted invites) does not count them as busy times.
UID_DOMAIN = "@agendamento.tjmt.jus.br"


@dataclass(frozen=True)
class Person:
    email: str
    name: str


@dataclass(frozen=True)
class Attendee:
    person: Person
    role: str = "REQ-PARTICIPANT"  # CHAIR, REQ-PARTICIPANT, OPT-PARTICIPANT, NON-PARTICIPANT


@dataclass(frozen=True)
class Invite:
    uid: str
    sequence: int
    method: str  # REQUEST or CANCEL
    stamp: datetime
    start: datetime
    end: datetime
    tzid: str
    summary: str
    description: str
    location: str
    organizer: Person
    attendees: tuple[Attendee, ...] = field(default_factory=tuple)
    url: str | None = None
    conference: str | None = None  # the video room (RFC 7986 CONFERENCE)


def _address(person: Person, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    for name, value in params.items():
        address.params[name.replace("_", "-").upper()] = vText(value)
    return address


def vtimezone(tzid: str, start: datetime, end: datetime) -> Timezone:
    """The zone's rules from the start of the event's year to the end of the next year."""
    first_year = start.astimezone(ZoneInfo(tzid)).year
    last_year = end.astimezone(ZoneInfo(tzid)).year + 1
    return _vtimezone(tzid, first_year, last_year)


@lru_cache(maxsize=256)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """Working out a zone's transitions is slow; the result is shared and never changed."""
    component = Timezone.from_tzid(tzid, first_date=date(max(first_year, 1971), 1, 1),
                                   last_date=date(last_year, 12, 31))
    component.pop("COMMENT", None)  # an English note for developers, not for people
    return component


def _calendar(**properties) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    for name, value in properties.items():
        calendar.add(name.replace("_", "-"), value)
    return calendar


def _event(invite: Invite, *, with_people: bool) -> Event:
    """The VEVENT of a booking; invites name the organizer and attendees, the feed does not."""
    zone = ZoneInfo(invite.tzid)
    event = Event()
    event.add("uid", invite.uid)
    event.add("sequence", invite.sequence)
    event.add("dtstamp", invite.stamp.astimezone(UTC))
    event.add("dtstart", invite.start.astimezone(zone))
    event.add("dtend", invite.end.astimezone(zone))
    event.add("summary", invite.summary)
    event.add("description", invite.description)
    event.add("location", invite.location)
    if invite.url:
        event.add("url", invite.url)
    if invite.conference:
        event.add("conference", vUri(invite.conference),
                  parameters={"VALUE": "URI", "FEATURE": "VIDEO", "LABEL": "Sala de vídeo"})
    if with_people:
        event.add("organizer", _address(invite.organizer))
        for attendee in invite.attendees:
            event.add("attendee", _address(attendee.person, role=attendee.role,
                                           partstat="NEEDS-ACTION", rsvp="FALSE",
                                           cutype="INDIVIDUAL"))
    event.add("status", "CANCELLED" if invite.method == "CANCEL" else "CONFIRMED")
    event.add("transp", "OPAQUE")
    return event


def build_calendar(invite: Invite) -> bytes:
    """The .ics bytes: CRLF line ends and lines folded at 75 octets (icalendar does both)."""
    if invite.method not in ("REQUEST", "CANCEL"):
        raise ValueError(f"unsupported iTIP method {invite.method}")
    calendar = _calendar(method=invite.method)
    calendar.add_component(vtimezone(invite.tzid, invite.start, invite.end))
    calendar.add_component(_event(invite, with_people=True))
    return calendar.to_ical()


def build_feed(name: str, events: list[Invite]) -> bytes:
    """A subscribable calendar (no METHOD): the same UIDs and SEQUENCEs as the invites."""
    calendar = _calendar(x_wr_calname=name)
    zones: dict[str, list[Invite]] = {}
    for invite in events:
        zones.setdefault(invite.tzid, []).append(invite)
    for tzid, invites in zones.items():
        calendar.add_component(vtimezone(tzid, min(i.start for i in invites),
                                         max(i.end for i in invites)))
    for invite in events:
        calendar.add_component(_event(invite, with_people=False))
    return calendar.to_ical()
