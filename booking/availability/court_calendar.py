"""The court's calendar: the days no slot may fall on, and why.

Weekends, national and Mato Grosso holidays (with the optional days a court
closes on, such as Carnival and Corpus Christi) from the `holidays` package,
the year-end recess of CNJ Resolution 244/2016 (20 December to 6 January),
and closures an administrator adds for the whole court or one comarca.
Pure: no Flask, no database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

RECESS_REASON = "Recesso forense (20 de dezembro a 6 de janeiro)"
WEEKEND_REASON = "Fim de semana"


@dataclass(frozen=True)
class Closure:
    """An extra closed period; comarca_id None means the whole court."""

    first_day: date
    last_day: date
    reason: str
    comarca_id: int | None = None


@lru_cache(maxsize=64)
def _holidays(subdivision: str, years: tuple[int, ...]):
    return holidays.country_holidays("BR", subdiv=subdivision, years=years, language="pt_BR",
                                     categories=("public", "optional"))


def in_recess(day: date) -> bool:
    return (day.month == 12 and day.day >= 20) or (day.month == 1 and day.day <= 6)


def closed_days(first_day: date, last_day: date, *, comarca_id: int | None = None,
                closures: tuple[Closure, ...] | list[Closure] = (), recess: bool = True,
                subdivision: str = "MT") -> dict[date, str]:
    """Each closed local day between first_day and last_day (inclusive) with its reason."""
    if last_day < first_day:
        return {}
    holiday_names = _holidays(subdivision, tuple(range(first_day.year, last_day.year + 1)))
    applicable = [c for c in closures if c.comarca_id is None or c.comarca_id == comarca_id]
    closed: dict[date, str] = {}
    day = first_day
    while day <= last_day:
        reason = None
        for closure in applicable:
            if closure.first_day <= day <= closure.last_day:
                reason = closure.reason
                break
        if reason is None and day in holiday_names:
            reason = f"Feriado: {holiday_names[day]}"
        if reason is None and recess and in_recess(day):
            reason = RECESS_REASON
        if reason is None and day.weekday() >= 5:
            reason = WEEKEND_REASON
        if reason is not None:
            closed[day] = reason
        day += timedelta(days=1)
    return closed


def add_working_hours(start: datetime, hours: float, zone: ZoneInfo,
                      closed: set[date] | dict[date, str]) -> datetime:
    """`start` plus `hours` counted only on days the court works (in `zone`): the hours of
    a closed day (a weekend, a holiday, the recess, a closure) do not run. The answer
    deadline of an urgent request asked on a Friday evening falls on Tuesday, not Sunday."""
    remaining = timedelta(hours=hours)
    cursor = start.astimezone(zone)
    while remaining > timedelta(0):
        day = cursor.date()
        next_midnight = datetime.combine(day + timedelta(days=1), time(0), zone)
        if day in closed:
            cursor = next_midnight
            continue
        left_today = next_midnight.astimezone(UTC) - cursor.astimezone(UTC)
        step = min(remaining, left_today)
        cursor = (cursor.astimezone(UTC) + step).astimezone(zone)
        remaining -= step
    return cursor.astimezone(UTC)
