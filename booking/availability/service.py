"""Availability use cases: rules, exceptions, closures, publishing and listing slots.

Publishing turns a magistrate's rules into `slot` rows up to the booking
horizon; listing is then one indexed range query. Every change of rules,
exceptions or closures republishes the affected future open slots in the same
transaction; booked slots are never moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import selectinload

from ..audit import service as audit
from ..courts.models import Comarca, Magistrate, Unit
from ..database import commit_keeping_loaded, instant_from_stored, stored, utcnow
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db
from .court_calendar import Closure, closed_days
from .models import (
    AvailabilityException,
    AvailabilityRule,
    BusyPeriod,
    CourtClosure,
    Slot,
    WeeklyWindow,
)
from .questions import numbered
from .slots import Interval, Rules, SlotSpec, Window, generate_slots, local_instant

LISTING_MAX_DAYS = 62


class OpenSlot(NamedTuple):
    """A slot as the listing gives it: built once per distinct stored row (see _open_slot)."""

    start: datetime
    end: datetime
    video: bool
    in_person: bool


@dataclass
class PublishResult:
    removed: int
    created: int


# --- reading -----------------------------------------------------------------

def rule_of(magistrate_id: int) -> AvailabilityRule | None:
    return db.session.get(AvailabilityRule, magistrate_id)


def rules_of(magistrate_ids: list[int]) -> list[AvailabilityRule]:
    """Several magistrates' rules in one query (see courts.service.load_magistrates)."""
    return list(db.session.scalars(select(AvailabilityRule).where(
        AvailabilityRule.magistrate_id.in_(magistrate_ids))))


def questions_of(magistrate_id: int) -> list[dict]:
    """The magistrate's own questions on the booking form, in order (ids q1, q2...)."""
    rule = rule_of(magistrate_id)
    return list(rule.questions or []) if rule else []


def replace_questions(magistrate: Magistrate, questions: list[dict], user) -> list[dict]:
    rule = rule_of(magistrate.id)
    if rule is None:
        raise NotAllowedNow("Publique a agenda (regras e horários) antes de criar perguntas.",
                            "no_agenda")
    rule.questions = numbered(questions)
    audit.record("availability.questions_replaced", "magistrate", magistrate.id, user=user,
                 details={"count": len(questions)})
    return rule.questions


def windows_of(magistrate_id: int) -> list[WeeklyWindow]:
    return list(db.session.scalars(
        select(WeeklyWindow).where(WeeklyWindow.magistrate_id == magistrate_id)
        .order_by(WeeklyWindow.weekday, WeeklyWindow.start_time)))


def exceptions_of(magistrate_id: int, *, since: datetime | None = None):
    statement = select(AvailabilityException).where(
        AvailabilityException.magistrate_id == magistrate_id)
    if since is not None:
        statement = statement.where(AvailabilityException.end_at > since)
    return list(db.session.scalars(statement.order_by(AvailabilityException.start_at)))


def closures(*, since: date | None = None) -> list[CourtClosure]:
    statement = select(CourtClosure).order_by(CourtClosure.first_day)
    if since is not None:
        statement = statement.where(CourtClosure.last_day >= since)
    return list(db.session.scalars(statement))


@dataclass(frozen=True)
class AgendaSettings:
    """What listing needs to know of a magistrate, read without ORM objects."""

    id: int
    timezone: str
    min_notice_hours: int | None  # None: no rules, so nothing is published
    max_per_day: int | None
    horizon_days: int | None = None


# The agenda page's two statements, built once.
_MAGISTRATE, _RULE, _SLOT = (Magistrate.__table__.c, AvailabilityRule.__table__.c,
                             Slot.__table__.c)
_MAGISTRATE_AND_RULE = Magistrate.__table__.join(
    Unit.__table__, Unit.__table__.c.id == _MAGISTRATE.unit_id).outerjoin(
    AvailabilityRule.__table__, _RULE.magistrate_id == _MAGISTRATE.id)
_PUBLISHED_AGENDA = (_MAGISTRATE.id == bindparam("magistrate_id"),
                     _MAGISTRATE.publishes_agenda.is_(True), _MAGISTRATE.is_active.is_(True),
                     Unit.__table__.c.is_active.is_(True))
_AGENDA_SETTINGS = (
    select(_MAGISTRATE.timezone, _RULE.min_notice_hours, _RULE.max_per_day, _RULE.horizon_days)
    .select_from(_MAGISTRATE_AND_RULE).where(*_PUBLISHED_AGENDA)
)
# On ix_slot_listing (magistrate, state, start); instants as stored, see instant_from_stored.
_OPEN_SLOTS = (
    select(stored(_SLOT.start_at), stored(_SLOT.end_at), _SLOT.offers_video,
           _SLOT.offers_in_person)
    .where(_SLOT.magistrate_id == bindparam("magistrate_id"), _SLOT.state == "open",
           _SLOT.start_at >= bindparam("earliest", type_=Slot.start_at.type),
           _SLOT.start_at < bindparam("latest", type_=Slot.start_at.type))
    .order_by(_SLOT.start_at)
)


# The public listing in one statement (one round trip, for PostgreSQL): the magistrate's
# settings with the open slots of a range wide enough for any zone, cut to the exact range
# once the zone and the notice are known (see listing_in_one_statement). The slots are read
# on ix_slot_listing.
_LISTING = (
    select(_MAGISTRATE.timezone, _RULE.min_notice_hours, _RULE.max_per_day,
           stored(_SLOT.start_at), stored(_SLOT.end_at), _SLOT.offers_video,
           _SLOT.offers_in_person)
    .select_from(_MAGISTRATE_AND_RULE.outerjoin(Slot.__table__, and_(
        _SLOT.magistrate_id == _MAGISTRATE.id, _SLOT.state == "open",
        _SLOT.start_at >= bindparam("earliest", type_=Slot.start_at.type),
        _SLOT.start_at < bindparam("latest", type_=Slot.start_at.type))))
    .where(*_PUBLISHED_AGENDA)
    .order_by(_SLOT.start_at)
)
# The zones farthest from UTC (Kiribati, +14; Baker Island, -12): a local day lies within them.
_EARLIEST_OFFSET, _LATEST_OFFSET = timedelta(hours=14), timedelta(hours=12)


def public_listing(magistrate_id: int, days_from: Callable[[date], tuple[date, date]],
                   connection, now: datetime | None = None) -> list[OpenSlot] | None:
    """The public listing's open slots (None: no such published agenda).

    `days_from(today)` gives the first and last local day asked for, from the
    magistrate's today. PostgreSQL answers in one statement (one round trip, see
    listing_in_one_statement). SQLite runs in process, with no round trip to save:
    there the settings are read first and then exactly the range asked for, which
    costs less than the settings on every row of a wider range.
    """
    if connection.dialect.name != "sqlite":
        return listing_in_one_statement(magistrate_id, days_from, connection, now)
    agenda = agenda_settings(magistrate_id, connection)
    if agenda is None:
        return None
    now = now or utcnow()
    first_day, last_day = days_from(now.astimezone(ZoneInfo(agenda.timezone)).date())
    return open_slots(agenda, first_day, last_day, now, connection)


def listing_in_one_statement(magistrate_id: int,
                             days_from: Callable[[date], tuple[date, date]], connection,
                             now: datetime | None = None) -> list[OpenSlot] | None:
    """public_listing in one statement: the magistrate's today is not known before the
    read, so the read spans the range asked for from any zone's today (UTC's, a day
    either side) and is then cut."""
    now = now or utcnow()
    utc_today = now.date()
    wide_first = days_from(utc_today - timedelta(days=1))[0]
    wide_last = days_from(utc_today + timedelta(days=1))[1]
    earliest = max(now, datetime.combine(wide_first, time(0), UTC) - _EARLIEST_OFFSET)
    latest = datetime.combine(wide_last + timedelta(days=1), time(0), UTC) + _LATEST_OFFSET
    rows = connection.execute(_LISTING, {"magistrate_id": magistrate_id, "earliest": earliest,
                                         "latest": latest}).all()
    if not rows:
        return None
    zone_name, min_notice_hours, max_per_day = rows[0][:3]
    if min_notice_hours is None:  # no rules: nothing published
        return []
    agenda = AgendaSettings(magistrate_id, zone_name, min_notice_hours, max_per_day)
    zone = ZoneInfo(zone_name)
    first_day, last_day = days_from(now.astimezone(zone).date())
    earliest = max(local_instant(first_day, time(0), zone),
                   now + timedelta(hours=min_notice_hours))
    latest = local_instant(last_day + timedelta(days=1), time(0), zone)
    slots = [_open_slot(*row[3:]) for row in rows if row[3] is not None]
    slots = [slot for slot in slots if earliest <= slot.start < latest]
    if max_per_day:
        full = full_days(agenda, max_per_day, earliest, latest, connection)
        slots = [slot for slot in slots if slot.start.astimezone(zone).date() not in full]
    return slots


def agenda_settings(magistrate_id: int, connection=None) -> AgendaSettings | None:
    """The agenda page's first query: the magistrate's zone and booking limits (None: no
    agenda). On PostgreSQL the public listing reads the same with its slots
    (listing_in_one_statement).

    `connection`: a plain pooled connection, for a caller without an ORM session; by
    default the session's.
    """
    row = (connection or db.session.connection()).execute(
        _AGENDA_SETTINGS, {"magistrate_id": magistrate_id}).first()
    return AgendaSettings(magistrate_id, *row) if row else None


def open_slots(magistrate: Magistrate | AgendaSettings, first_day: date, last_day: date,
               now: datetime | None = None,
               connection=None) -> list[OpenSlot]:
    """The slots a lawyer can book now, in one indexed query.

    The hot read: Core rows, not ORM objects, and each distinct stored instant
    is converted once per process (the same half hours recur across magistrates).
    """
    now = now or utcnow()
    if isinstance(magistrate, Magistrate):
        magistrate = agenda_settings(magistrate.id) or AgendaSettings(
            magistrate.id, magistrate.timezone, None, None)
    if magistrate.min_notice_hours is None:  # no rules: nothing published
        return []
    zone = ZoneInfo(magistrate.timezone)
    earliest = max(local_instant(first_day, time(0), zone),
                   now + timedelta(hours=magistrate.min_notice_hours))
    latest = local_instant(last_day + timedelta(days=1), time(0), zone)
    found = (connection or db.session.connection()).execute(
        _OPEN_SLOTS, {"magistrate_id": magistrate.id, "earliest": earliest, "latest": latest})
    rows = [_open_slot(*row) for row in found.all()]
    if magistrate.max_per_day:
        full = full_days(magistrate, magistrate.max_per_day, earliest, latest, connection)
        rows = [row for row in rows if row.start.astimezone(zone).date() not in full]
    return rows


def full_days(magistrate: Magistrate | AgendaSettings, limit: int, earliest: datetime,
              latest: datetime, connection=None) -> set[date]:
    """Local days on which the magistrate already has `limit` active bookings.

    Counted from booked slots: an active booking holds its slot, and a cancel or a
    reschedule opens it again, so this stays inside the slot table it owns.
    """
    zone = ZoneInfo(magistrate.timezone)
    starts = (connection or db.session.connection()).execute(select(Slot.start_at).where(
        Slot.magistrate_id == magistrate.id, Slot.state == "booked",
        Slot.start_at >= earliest - timedelta(days=1), Slot.start_at < latest)).scalars()
    per_day: dict[date, int] = {}
    for start in starts:
        day = start.astimezone(zone).date()
        per_day[day] = per_day.get(day, 0) + 1
    return {day for day, count in per_day.items() if count >= limit}


@lru_cache(maxsize=16384)
def _open_slot(start, end, video: bool, in_person: bool) -> OpenSlot:
    """A listed slot from its stored values, once per process: the same half hours
    recur across magistrates, and the same tuple lets the API reuse its rendering."""
    return OpenSlot(instant_from_stored(start), instant_from_stored(end), video, in_person)


def slot_range_queries(magistrate_id: int, earliest: datetime, latest: datetime) -> dict:
    """The public listing's statement and the agenda page's range query, with their values
    bound (to read their plans): both read the slots on ix_slot_listing."""
    values = {"magistrate_id": magistrate_id, "earliest": earliest, "latest": latest}
    return {"listing": _LISTING.params(values), "agenda": _OPEN_SLOTS.params(values)}




# --- taking and releasing a slot (asked by bookings) ---------------------------------

_FLIP = (update(Slot.__table__)
         .where(Slot.__table__.c.id == bindparam("slot_id"),
                Slot.__table__.c.state == bindparam("from_state"))
         .values(state=bindparam("to_state")))


def _flip(slot_id: int, from_state: str, to_state: str, statement=_FLIP,
          values: dict | None = None) -> bool:
    db.session.flush()  # pending changes first, as any ORM statement would
    result = db.session.connection().execute(
        statement,
        {"slot_id": slot_id, "from_state": from_state, "to_state": to_state, **(values or {})})
    return result.rowcount == 1


def taking_slot_only_if(condition):
    """take_slot's compare-and-set with a caller's further condition. Build it once (at
    import, or cached): SQLAlchemy computes a statement's cache key once per object."""
    return _FLIP.where(condition)


def take_slot(slot_id: int, *, only_if=None, values: dict | None = None) -> bool:
    """The compare-and-set that makes one winner: True when this transaction took the slot.

    `only_if`: a statement from taking_slot_only_if, with its condition's bound `values`
    (booking's limits, counted in the same statement: one round trip under the lock
    instead of one per limit); False then also when the condition does not hold.
    """
    return _flip(slot_id, "open", "booked", _FLIP if only_if is None else only_if, values)


def release_slot(slot_id: int) -> bool:
    """Offer a booked slot again (its booking was cancelled or moved)."""
    return _flip(slot_id, "booked", "open")


def discard_slot(slot_id: int) -> None:
    """A booked time cancelled because the court no longer offers it (a closure, a block, a
    busy time): the slot goes instead of opening again; a republish brings it back if the
    time is offered again (the booking's slot_id becomes NULL)."""
    db.session.flush()
    db.session.execute(delete(Slot).where(Slot.id == slot_id)
                       .execution_options(synchronize_session=False))


def slot_at(magistrate_id: int, start: datetime) -> Slot | None:
    return db.session.scalar(select(Slot).where(Slot.magistrate_id == magistrate_id,
                                                Slot.start_at == start))


def slots_by_id(slot_ids) -> dict[int, Slot]:
    """These slots (those that still exist), in one read per 500."""
    ids, found = sorted(set(slot_ids)), {}
    for offset in range(0, len(ids), 500):
        found.update((slot.id, slot) for slot in db.session.scalars(
            select(Slot).where(Slot.id.in_(ids[offset:offset + 500]))))
    return found


def open_slots_within(ranges: dict[int, tuple[datetime, datetime]]) -> dict[int, list[Slot]]:
    """Open slots starting in [first, last) of each magistrate's range, soonest first, by
    magistrate: one read for them all."""
    if not ranges:
        return {}
    grouped: dict[int, list[Slot]] = {}
    for slot in db.session.scalars(select(Slot).where(Slot.state == "open", or_(*(
            and_(Slot.magistrate_id == magistrate_id, Slot.start_at >= first,
                 Slot.start_at < last)
            for magistrate_id, (first, last) in sorted(ranges.items())))).order_by(Slot.start_at)):
        grouped.setdefault(slot.magistrate_id, []).append(slot)
    return grouped


def first_open_slot(magistrate_id: int, after: datetime) -> datetime | None:
    """When the magistrate's next open slot starts (the agenda opens on its week)."""
    return db.session.scalar(select(func.min(Slot.start_at)).where(
        Slot.magistrate_id == magistrate_id, Slot.state == "open", Slot.start_at >= after))


# --- the arithmetic's inputs, from the database ---------------------------------

def _rules(rule: AvailabilityRule) -> Rules:
    return Rules(slot_minutes=rule.slot_minutes, buffer_minutes=rule.buffer_minutes,
                 min_notice=timedelta(hours=rule.min_notice_hours),
                 horizon_days=rule.horizon_days)


def _windows(rows) -> list[Window]:
    return [Window(w.weekday, w.start_time, w.end_time, w.offers_video, w.offers_in_person)
            for w in rows]


def court_closed_days(comarca_id: int | None, first_day: date, last_day: date) -> dict[date, str]:
    """Closed days for a comarca, from the holiday calendar and the admin's closures."""
    config = current_app.config
    extra = tuple(Closure(c.first_day, c.last_day, c.reason, c.comarca_id)
                  for c in closures(since=first_day) if c.first_day <= last_day)
    return closed_days(first_day, last_day, comarca_id=comarca_id, closures=extra,
                       recess=config["COURT_RECESS_ENABLED"],
                       subdivision=config["HOLIDAY_SUBDIVISION"])


def compute_slots(magistrate: Magistrate, rules: Rules, windows: list[Window],
                  first_day: date, last_day: date, now: datetime,
                  busy: list[tuple[datetime, datetime]] | None = None) -> list[SlotSpec]:
    """The slots the given rules would publish, with this magistrate's exceptions."""
    zone = ZoneInfo(magistrate.timezone)
    exceptions = exceptions_of(magistrate.id, since=now)
    return generate_slots(
        rules=rules, windows=windows, zone=zone, first_day=first_day, last_day=last_day,
        now=now, closed_days=court_closed_days(magistrate.unit.comarca_id, first_day, last_day),
        blocks=[(e.start_at, e.end_at) for e in exceptions if e.kind == "block"],
        extras=[Interval(e.start_at, e.end_at, e.offers_video, e.offers_in_person)
                for e in exceptions if e.kind == "extra"],
        busy=busy or [],
    )


# --- publishing ------------------------------------------------------------------

def publish_slots(magistrate: Magistrate, now: datetime | None = None,
                  from_day: date | None = None) -> PublishResult:
    """Rewrite the magistrate's open future slots from from_day (default today) on.

    Open slots are deleted first, then booked ones are read: a booking that
    commits in between has either flipped its slot already (and is read as
    busy) or finds it gone (and answers 409). Booked slots are never touched.
    """
    now = now or utcnow()
    zone = ZoneInfo(magistrate.timezone)
    today = now.astimezone(zone).date()
    first_day = max(from_day or today, today)
    rule = rule_of(magistrate.id)
    boundary = max(now, local_instant(first_day, time(0), zone))
    removed = db.session.execute(
        delete(Slot).where(Slot.magistrate_id == magistrate.id, Slot.state == "open",
                           Slot.start_at >= boundary)
        .execution_options(synchronize_session=False)
    ).rowcount
    if rule is None:
        return PublishResult(removed, 0)
    last_day = today + timedelta(days=rule.horizon_days)
    busy = taken_times(magistrate.id, local_instant(first_day, time(0), zone))
    specs = compute_slots(magistrate, _rules(rule), _windows(windows_of(magistrate.id)),
                          first_day, last_day, now, busy=busy)
    if specs:
        db.session.execute(insert(Slot), [_slot_row(magistrate.id, s) for s in specs])
    rule.published_until = last_day
    return PublishResult(removed, len(specs))


def _slot_row(magistrate_id: int, spec: SlotSpec) -> dict:
    return {"magistrate_id": magistrate_id, "start_at": spec.start, "end_at": spec.end,
            "offers_video": spec.video, "offers_in_person": spec.in_person, "state": "open"}


# Agendas republished together in publish_days: bounds each statement's list of ids.
PUBLISH_DAYS_CHUNK = 500


def publish_days(magistrates: list[Magistrate], first_day: date, last_day: date,
                 now: datetime | None = None) -> PublishResult:
    """What publish_slots would publish on a few days (local to each agenda), for many
    agendas in a few statements for them all rather than ten for each: lifting a
    court-wide closure republishes every agenda's closed days while the admin waits.

    The open slots just outside the days keep their place, and new slots keep their
    buffer from them; booked slots are never touched; the horizon is not moved.
    """
    now = now or utcnow()
    result = PublishResult(0, 0)
    for offset in range(0, len(magistrates), PUBLISH_DAYS_CHUNK):
        chunk = _publish_days(magistrates[offset:offset + PUBLISH_DAYS_CHUNK],
                              first_day, last_day, now)
        result = PublishResult(result.removed + chunk.removed, result.created + chunk.created)
    return result


def _publish_days(magistrates: list[Magistrate], first_day: date, last_day: date,
                  now: datetime) -> PublishResult:
    rules = {rule.magistrate_id: rule for rule in rules_of([m.id for m in magistrates])}
    # each agenda's days to generate, and the instants they span in its zone
    spans: dict[int, tuple[date, date, datetime, datetime]] = {}
    by_range: dict[tuple[datetime, datetime], list[int]] = {}
    for magistrate in magistrates:
        zone = ZoneInfo(magistrate.timezone)
        today = now.astimezone(zone).date()
        first = max(first_day, today)
        rule = rules.get(magistrate.id)
        last = last_day if rule is None else min(last_day, today + timedelta(days=rule.horizon_days))
        start = local_instant(first, time(0), zone)
        spans[magistrate.id] = (first, last, start,
                                local_instant(last + timedelta(days=1), time(0), zone))
        by_range.setdefault((max(now, start),
                             local_instant(last_day + timedelta(days=1), time(0), zone)),
                            []).append(magistrate.id)
    removed = 0
    for (boundary, end), in_range in by_range.items():  # one range per time zone
        removed += db.session.execute(delete(Slot).where(
            Slot.magistrate_id.in_(in_range), Slot.state == "open", Slot.start_at >= boundary,
            Slot.start_at < end).execution_options(synchronize_session=False)).rowcount
    ids = [m.id for m in magistrates if m.id in rules and spans[m.id][0] <= spans[m.id][1]]
    wanted = set(ids)
    if not ids:
        return PublishResult(removed, 0)
    earliest = min(spans[i][2] for i in ids)
    widest_gap = timedelta(minutes=max(rules[i].buffer_minutes for i in ids))
    latest = max(spans[i][3] for i in ids)
    windows = _grouped(select(WeeklyWindow).where(WeeklyWindow.magistrate_id.in_(ids))
                       .order_by(WeeklyWindow.weekday, WeeklyWindow.start_time))
    exceptions = _grouped(select(AvailabilityException).where(
        AvailabilityException.magistrate_id.in_(ids), AvailabilityException.end_at > now)
        .order_by(AvailabilityException.start_at))
    # what taken_times reads, for all the agendas at once and only near the days
    taken = _grouped_periods(
        select(Slot.magistrate_id, Slot.start_at, Slot.end_at).where(
            Slot.magistrate_id.in_(ids), Slot.state == "booked", Slot.end_at > earliest,
            Slot.start_at < latest + widest_gap),
        select(BusyPeriod.magistrate_id, BusyPeriod.start_at, BusyPeriod.end_at).where(
            BusyPeriod.magistrate_id.in_(ids), BusyPeriod.end_at > earliest,
            BusyPeriod.start_at < latest + widest_gap))
    beside = _grouped_periods(select(Slot.magistrate_id, Slot.start_at, Slot.end_at).where(
        Slot.magistrate_id.in_(ids), Slot.state == "open", Slot.end_at > earliest - widest_gap,
        Slot.start_at < latest + widest_gap))
    closed_by_comarca: dict[int | None, dict[date, str]] = {}
    rows = []
    for magistrate in magistrates:
        if magistrate.id not in wanted:
            continue
        first, last, start, end = spans[magistrate.id]
        rule = rules[magistrate.id]
        gap = timedelta(minutes=rule.buffer_minutes)
        comarca_id = magistrate.unit.comarca_id
        if comarca_id not in closed_by_comarca:
            closed_by_comarca[comarca_id] = court_closed_days(comarca_id, first_day, last_day)
        own = exceptions.get(magistrate.id, [])
        specs = generate_slots(
            rules=_rules(rule), windows=_windows(windows.get(magistrate.id, [])),
            zone=ZoneInfo(magistrate.timezone), first_day=first, last_day=last, now=now,
            closed_days=closed_by_comarca[comarca_id],
            blocks=[(e.start_at, e.end_at) for e in own if e.kind == "block"],
            extras=[Interval(e.start_at, e.end_at, e.offers_video, e.offers_in_person)
                    for e in own if e.kind == "extra"],
            busy=[period for period in taken.get(magistrate.id, []) if period[1] > start]
            + [period for period in beside.get(magistrate.id, [])
               if period[1] > start - gap and period[0] < end + gap])
        rows += [_slot_row(magistrate.id, spec) for spec in specs]
    if rows:
        db.session.execute(insert(Slot), rows)
    return PublishResult(removed, len(rows))


def _grouped(statement) -> dict[int, list]:
    grouped: dict[int, list] = {}
    for row in db.session.scalars(statement):
        grouped.setdefault(row.magistrate_id, []).append(row)
    return grouped


def _grouped_periods(*statements) -> dict[int, list[tuple[datetime, datetime]]]:
    grouped: dict[int, list[tuple[datetime, datetime]]] = {}
    for statement in statements:
        for magistrate_id, start, end in db.session.execute(statement):
            grouped.setdefault(magistrate_id, []).append((start, end))
    return grouped


def taken_times(magistrate_id: int, after: datetime) -> list[tuple[datetime, datetime]]:
    """What no new slot may overlap (with the buffer): booked slots, and the busy times of
    the magistrate's own calendar."""
    booked = db.session.execute(select(Slot.start_at, Slot.end_at).where(
        Slot.magistrate_id == magistrate_id, Slot.state == "booked", Slot.end_at > after))
    busy = db.session.execute(select(BusyPeriod.start_at, BusyPeriod.end_at).where(
        BusyPeriod.magistrate_id == magistrate_id, BusyPeriod.end_at > after))
    return [tuple(row) for row in booked] + [tuple(row) for row in busy]


# fn(magistrate_ids, decision) -> how many bookings the change covers: told after rules,
# blocks, closures or busy times change (bookings registers it in create_app).
_change_listeners: list = []


def register_change_listener(listener) -> None:
    if listener not in _change_listeners:
        _change_listeners.append(listener)


def changed(magistrate_ids: list[int], decision: dict | None = None) -> int:
    return sum(listener(magistrate_ids, decision) or 0 for listener in _change_listeners)


def unavailable_reason(magistrate_id: int, start: datetime, end: datetime) -> str | None:
    """Why this period would no longer be offered now, in words for the magistrate and the
    lawyer; None when it still would be (the court is open, no block, no busy time, within
    the rules)."""
    magistrate = db.session.get(Magistrate, magistrate_id)
    zone = ZoneInfo(magistrate.timezone)
    day = start.astimezone(zone).date()
    closed = court_closed_days(magistrate.unit.comarca_id, day, day)
    if day in closed:
        return f"Sem expediente no dia: {closed[day]}"
    for exception in exceptions_of(magistrate_id, since=start):
        if exception.kind == "block" and exception.start_at < end and exception.end_at > start:
            return "Bloqueio na agenda" + (f": {exception.reason}" if exception.reason else "")
    if db.session.scalar(select(BusyPeriod.id).where(
            BusyPeriod.magistrate_id == magistrate_id, BusyPeriod.start_at < end,
            BusyPeriod.end_at > start).limit(1)) is not None:
        return "Compromisso no calendário do(a) magistrado(a)"
    rule = rule_of(magistrate_id)
    if rule is None:
        return "A agenda de atendimento foi encerrada"
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    inside_window = any(
        w.weekday == local_start.weekday() and w.start_time <= local_start.time()
        and local_end.time() <= w.end_time for w in windows_of(magistrate_id))
    inside_extra = any(e.kind == "extra" and e.start_at <= start and end <= e.end_at
                       for e in exceptions_of(magistrate_id, since=start))
    if not inside_window and not inside_extra:
        return "Fora dos horários de atendimento atuais"
    return None


def publish_all(now: datetime | None = None) -> int:
    """Republish every magistrate who has rules (demo load, court-wide closures)."""
    count = 0
    for magistrate in _magistrates_with_rules():
        publish_slots(magistrate, now)
        count += 1
    return count


def roll_horizon_forward(now: datetime | None = None) -> int:
    """The daily job: publish the days that came within each horizon since the last run.

    Agendas due the same days are published together (publish_days: a few statements for
    hundreds of agendas, and the new first day keeps its buffer from the last slot of
    the day before it), each chunk in its own commit: SQLite's write lock is never held
    for the whole court, and a failure leaves the chunks before it done.
    """
    now = now or utcnow()
    due: dict[tuple[date, date], list[tuple[Magistrate, AvailabilityRule]]] = {}
    for magistrate, rule in db.session.execute(
            select(Magistrate, AvailabilityRule)
            .join(AvailabilityRule, AvailabilityRule.magistrate_id == Magistrate.id)
            .options(selectinload(Magistrate.unit)).order_by(Magistrate.id)).tuples():
        today = now.astimezone(ZoneInfo(magistrate.timezone)).date()
        horizon = today + timedelta(days=rule.horizon_days)
        if rule.published_until is None or rule.published_until < horizon:
            start = rule.published_until + timedelta(days=1) if rule.published_until else today
            due.setdefault((start, horizon), []).append((magistrate, rule))
    for (first_day, last_day), agendas in due.items():
        for offset in range(0, len(agendas), PUBLISH_DAYS_CHUNK):
            chunk = agendas[offset:offset + PUBLISH_DAYS_CHUNK]
            publish_days([magistrate for magistrate, _ in chunk], first_day, last_day, now)
            for _, rule in chunk:
                rule.published_until = last_day
            commit_keeping_loaded(db.session())  # the next chunks' agendas stay loaded
    return sum(len(agendas) for agendas in due.values())


def _magistrates_with_rules(comarca_id: int | None = None) -> list[Magistrate]:
    statement = select(Magistrate).join(AvailabilityRule,
                                        AvailabilityRule.magistrate_id == Magistrate.id)
    if comarca_id is not None:
        statement = statement.join(Unit, Unit.id == Magistrate.unit_id).where(
            Unit.comarca_id == comarca_id)
    # each agenda's comarca decides its closed days: the units in one read, not one each
    return list(db.session.scalars(statement.options(selectinload(Magistrate.unit))
                                   .order_by(Magistrate.id)))


# --- changing the rules -----------------------------------------------------------

def replace_rules(magistrate: Magistrate, data: dict, user, now: datetime | None = None):
    """Save the settings and weekly windows, then republish. Returns the PublishResult."""
    rule = rule_of(magistrate.id) or AvailabilityRule(magistrate_id=magistrate.id)
    for name in ("slot_minutes", "buffer_minutes", "min_notice_hours", "horizon_days",
                 "max_per_day", "meeting_url", "address", "accepted_requesters"):
        setattr(rule, name, data.get(name))
    db.session.add(rule)
    db.session.execute(delete(WeeklyWindow).where(WeeklyWindow.magistrate_id == magistrate.id))
    for window in data["weekly_windows"]:
        db.session.add(WeeklyWindow(
            magistrate_id=magistrate.id, weekday=window["weekday"], start_time=window["start"],
            end_time=window["end"], offers_video="video" in window["modes"],
            offers_in_person="in_person" in window["modes"]))
    db.session.flush()
    result = publish_slots(magistrate, now)
    audit.record("availability.replaced", "magistrate", magistrate.id, user=user,
                 details={"windows": len(data["weekly_windows"]), "slots": result.created})
    changed([magistrate.id])
    return result


PREVIEW_DAYS = 14


def preview(magistrate: Magistrate, data: dict, days: int = PREVIEW_DAYS,
            now: datetime | None = None) -> list[SlotSpec]:
    """What the given rules would publish, without saving anything: `days` days from the
    first slot within the horizon. From the first slot, not from today: rules edited in the
    year-end recess or before a holiday would otherwise preview nothing, as if wrong."""
    now = now or utcnow()
    zone = ZoneInfo(magistrate.timezone)
    today = now.astimezone(zone).date()
    rules = Rules(slot_minutes=data["slot_minutes"], buffer_minutes=data["buffer_minutes"],
                  min_notice=timedelta(hours=data["min_notice_hours"]),
                  horizon_days=data["horizon_days"])
    windows = [Window(w["weekday"], w["start"], w["end"], "video" in w["modes"],
                      "in_person" in w["modes"]) for w in data["weekly_windows"]]
    slots = compute_slots(magistrate, rules, windows, today,
                          today + timedelta(days=rules.horizon_days), now,
                          busy=taken_times(magistrate.id, now))
    if not slots:
        return []
    past_the_preview = slots[0].start.astimezone(zone).date() + timedelta(days=days)
    return [slot for slot in slots if slot.start.astimezone(zone).date() < past_the_preview]


def add_exception(magistrate: Magistrate, data: dict, user,
                  now: datetime | None = None) -> AvailabilityException:
    """Block a period or open an extra one, then republish."""
    now = now or utcnow()
    if data["end_at"] <= now:
        raise InvalidField("O período informado já terminou.", "end")
    if data["kind"] == "extra" and not data.get("modes"):
        raise InvalidField("Informe ao menos um modo de atendimento.", "modes")
    if data["kind"] == "extra":
        _refuse_closed_days(magistrate, data["start_at"], data["end_at"])
    modes = data.get("modes") or ["video"]
    exception = AvailabilityException(
        magistrate_id=magistrate.id, kind=data["kind"], start_at=data["start_at"],
        end_at=data["end_at"], reason=data.get("reason"), offers_video="video" in modes,
        offers_in_person="in_person" in modes)
    db.session.add(exception)
    db.session.flush()
    publish_slots(magistrate, now)
    audit.record("availability.exception_added", "magistrate", magistrate.id, user=user,
                 details={"exception_id": exception.id, "kind": exception.kind})
    if exception.kind == "block":
        changed([magistrate.id])
    return exception


def _refuse_closed_days(magistrate: Magistrate, start: datetime, end: datetime) -> None:
    """An extra opening publishes nothing on a day the court is closed: say so, and why,
    instead of accepting it silently."""
    zone = ZoneInfo(magistrate.timezone)
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    if (last - first).days > 366:
        return  # a period this long is refused by its own rule (or open on many days)
    closed = court_closed_days(magistrate.unit.comarca_id, first, last)
    if closed and len(closed) == (last - first).days + 1:
        day, reason = next(iter(sorted(closed.items())))
        raise InvalidField(
            f"Não há expediente em {day:%d/%m/%Y} ({reason[0].lower() + reason[1:]}): uma "
            "abertura extra nesse dia não publicaria horários. Escolha um dia de expediente.",
            "start")


def remove_exception(magistrate: Magistrate, exception_id: int, user) -> bool:
    exception = db.session.get(AvailabilityException, exception_id)
    if exception is None or exception.magistrate_id != magistrate.id:
        return False
    db.session.delete(exception)
    db.session.flush()
    publish_slots(magistrate)
    audit.record("availability.exception_removed", "magistrate", magistrate.id, user=user,
                 details={"exception_id": exception_id})
    return True


def add_closure(data: dict, user) -> tuple[CourtClosure, int]:
    """Close the court (or one comarca) for some days: their open slots go at once.

    Returns the closure and how many confirmed bookings it covers; `on_bookings` (flag,
    keep, cancel or ask) is what the admin decided for all of them, applied by bookings
    here when they are few and by the scheduler otherwise (see `closure_progress`).
    """
    if data.get("comarca_id") is not None and db.session.get(Comarca, data["comarca_id"]) is None:
        raise InvalidField("Comarca não encontrada.", "comarca_id")
    action = data.get("on_bookings", "flag")
    closure = CourtClosure(comarca_id=data.get("comarca_id"), first_day=data["first_day"],
                           last_day=data["last_day"], reason=data["reason"], on_bookings=action,
                           bookings_reason=data.get("bookings_reason"),
                           decided_by_user_id=getattr(user, "id", None))
    db.session.add(closure)
    db.session.flush()
    _remove_open_slots_on(closure)
    audit.record("closure.added", "court_closure", closure.id, user=user,
                 details={"comarca_id": closure.comarca_id,
                          "first_day": closure.first_day.isoformat(),
                          "last_day": closure.last_day.isoformat(), "on_bookings": action})
    hit = changed([], decision={"action": action, "reason": data.get("bookings_reason"),
                                "user": user, "closure": closure})
    return closure, hit


def _remove_open_slots_on(closure: CourtClosure) -> int:
    """What republishing would do to the closed days, in one statement per time zone
    (a court-wide closure would otherwise republish every agenda while the admin waits)."""
    magistrates = select(Magistrate.id)
    if closure.comarca_id is not None:
        magistrates = magistrates.join(Unit, Unit.id == Magistrate.unit_id).where(
            Unit.comarca_id == closure.comarca_id)
    removed = 0
    for zone_name in db.session.scalars(select(Magistrate.timezone.distinct())).all():
        zone = ZoneInfo(zone_name)
        removed += db.session.execute(delete(Slot).where(
            Slot.state == "open", Slot.start_at >= utcnow(),
            Slot.start_at >= local_instant(closure.first_day, time(0), zone),
            Slot.start_at < local_instant(closure.last_day + timedelta(days=1), time(0), zone),
            Slot.magistrate_id.in_(magistrates.where(Magistrate.timezone == zone_name)))
            .execution_options(synchronize_session=False)).rowcount
    return removed


def closure_progress(closure: CourtClosure, *, done: int, total: int | None = None,
                     finished: bool = False) -> None:
    """Bookings notes how far it got applying the admin's decision (the page shows it)."""
    if total is not None:
        closure.bookings_total = total
    closure.bookings_done = done
    if finished:
        closure.bookings_finished_at = utcnow()


def closures_being_applied() -> list[CourtClosure]:
    """Closures whose decision for their bookings the scheduler has not finished."""
    return list(db.session.scalars(select(CourtClosure).where(
        CourtClosure.bookings_total > 0, CourtClosure.bookings_finished_at.is_(None))
        .order_by(CourtClosure.id)))


def get_closure(closure_id: int) -> CourtClosure | None:
    return db.session.get(CourtClosure, closure_id)


def remove_closure(closure_id: int, user) -> bool:
    """Reopen the closed days: only they are republished, in every agenda the closure
    covered, so that lifting a court-wide closure answers the admin at once."""
    closure = db.session.get(CourtClosure, closure_id)
    if closure is None:
        return False
    comarca_id = closure.comarca_id
    db.session.delete(closure)
    db.session.flush()
    publish_days(_magistrates_with_rules(comarca_id), closure.first_day, closure.last_day)
    audit.record("closure.removed", "court_closure", closure_id, user=user)
    return True
