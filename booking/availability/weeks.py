"""One week of a magistrate's open times with its way around (the weeks before and after,
the jump to the next open time): what the public agenda and the lawyer's reschedule page
both show, so that rescheduling reaches the whole booking horizon as booking does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_smorest import abort

from ..clock import local_today
from ..fields import OUT_OF_RANGE, plausible
from . import service


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def asked_week(value: str | None) -> date | None:
    """The Monday of `?semana=`; None when absent or not a date; a 400 page outside
    2000-2100 (as the API answers 422)."""
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        return None
    if day is not None and not plausible(day):
        abort(400, message=OUT_OF_RANGE)
    return monday_of(day) if day else None


@dataclass
class Week:
    monday: date
    days: dict[date, list[dict]]  # Monday to Friday from today on: the open times, by day
    closed: dict[date, str]
    previous_week: date | None
    next_week: date | None  # None past the booking horizon
    next_open_week: date | None  # when this week has no open time and a later one has


def open_week(magistrate, asked: date | None, now: datetime) -> Week:
    """The week asked for (a Monday), or without one the week of the first open time;
    never a week already over. Each open time: its local start, label and modes."""
    zone = ZoneInfo(magistrate.timezone)
    today = local_today(magistrate.timezone, now)
    this_week = monday_of(today)
    monday = asked
    if monday is None:
        first_open = service.first_open_slot(magistrate.id, now)
        monday = monday_of(first_open.astimezone(zone).date()) if first_open else this_week
    monday = max(monday, this_week)
    friday = monday + timedelta(days=4)
    agenda = service.agenda_settings(magistrate.id)
    rows = service.open_slots(agenda, monday, friday, now)
    days: dict[date, list[dict]] = {
        day: [] for day in (monday + timedelta(days=i) for i in range(5)) if day >= today}
    for slot in rows:
        local_start = slot.start.astimezone(zone)
        days.setdefault(local_start.date(), []).append({
            "start": local_start, "end": slot.end, "label": local_start.strftime("%H:%M"),
            "modes": [m for m, on in (("video", slot.video), ("in_person", slot.in_person))
                      if on]})
    horizon_end = today + timedelta(days=agenda.horizon_days or 0) if agenda else today
    following = monday + timedelta(days=7)
    next_open = service.first_open_slot(magistrate.id, max(
        now, datetime.combine(following, time(0), zone))) if not rows else None
    next_open_week = monday_of(next_open.astimezone(zone).date()) if next_open else None
    return Week(
        monday=monday, days=days,
        closed=service.court_closed_days(magistrate.unit.comarca_id, monday, friday),
        previous_week=monday - timedelta(days=7) if monday > this_week else None,
        next_week=following if following <= horizon_end else None,
        next_open_week=next_open_week if next_open_week != following else None)
