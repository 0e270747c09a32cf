"""Pure slot arithmetic: rules, exceptions, closed days and busy times in, slots out.

No Flask and no database here, so that the rules can be proven with
property-based tests. Instants are timezone-aware; weekly windows are wall
clock times in the magistrate's zone and are converted day by day, so a
slot at 14:00 stays at 14:00 local across a daylight-saving change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

UTC = UTC


@dataclass(frozen=True)
class Window:
    """A weekly window: weekday (0 = Monday) and local start/end times."""

    weekday: int
    start: time
    end: time
    video: bool = True
    in_person: bool = False


@dataclass(frozen=True)
class Interval:
    """An absolute period [start, end) with the modes offered in it (for extra openings)."""

    start: datetime
    end: datetime
    video: bool = True
    in_person: bool = False


@dataclass(frozen=True)
class Rules:
    slot_minutes: int
    buffer_minutes: int = 0
    min_notice: timedelta = timedelta(hours=24)
    horizon_days: int = 60


@dataclass(frozen=True, order=True)
class SlotSpec:
    start: datetime
    end: datetime
    video: bool = True
    in_person: bool = False

    @property
    def modes(self) -> list[str]:
        return [mode for mode, offered in (("video", self.video), ("in_person", self.in_person))
                if offered]


def local_instant(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a wall-clock time on a day in a zone.

    A time that does not exist (skipped by a DST jump) moves forward by the
    jump, as calendar applications do; an ambiguous one takes its first
    occurrence.
    """
    # PEP 495: with fold=0 a time in a gap takes the offset from before the
    # jump, which lands it after the gap; an ambiguous time takes the first.
    return datetime.combine(day, wall).replace(tzinfo=zone, fold=0).astimezone(UTC)


def booking_period(now: datetime, rules: Rules, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The instants between which a new slot may start: after the notice, before the horizon."""
    earliest = now + rules.min_notice
    last_day = now.astimezone(zone).date() + timedelta(days=rules.horizon_days)
    latest = local_instant(last_day + timedelta(days=1), time(0), zone)
    return earliest, latest


def _subtract(segments: list[tuple[datetime, datetime]],
              holes: Iterable[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    """Segments minus holes, each a half-open [start, end)."""
    for hole_start, hole_end in holes:
        remaining = []
        for start, end in segments:
            if hole_end <= start or hole_start >= end:
                remaining.append((start, end))
                continue
            if start < hole_start:
                remaining.append((start, hole_start))
            if hole_end < end:
                remaining.append((hole_end, end))
        segments = remaining
    return segments


def generate_slots(
    *,
    rules: Rules,
    windows: Iterable[Window],
    zone: ZoneInfo,
    first_day: date,
    last_day: date,
    now: datetime,
    closed_days: Mapping[date, str] | Iterable[date] = (),
    blocks: Iterable[tuple[datetime, datetime]] = (),
    extras: Iterable[Interval] = (),
    busy: Iterable[tuple[datetime, datetime]] = (),
) -> list[SlotSpec]:
    """Every slot to publish for local days first_day..last_day, sorted by start.

    A slot lies inside a weekly window or an extra opening, on a day the
    court is open, outside every block, clear of busy (already booked) times
    by the buffer, after the minimum notice and before the horizon, and
    never overlaps another slot.
    """
    length = timedelta(minutes=rules.slot_minutes)
    gap = timedelta(minutes=rules.buffer_minutes)
    closed = set(closed_days)
    earliest, latest = booking_period(now, rules, zone)
    by_weekday: dict[int, list[Window]] = {}
    for window in windows:
        by_weekday.setdefault(window.weekday, []).append(window)
    blocks = list(blocks)
    extras = sorted(extras, key=lambda interval: interval.start)
    taken = [(start - gap, end + gap) for start, end in busy]

    slots: list[SlotSpec] = []
    day = first_day
    while day <= last_day:
        if day not in closed:
            day_start = local_instant(day, time(0), zone)
            day_end = local_instant(day + timedelta(days=1), time(0), zone)
            periods = [Interval(local_instant(day, w.start, zone), local_instant(day, w.end, zone),
                                w.video, w.in_person)
                       for w in sorted(by_weekday.get(day.weekday(), []), key=lambda w: w.start)]
            periods += [Interval(max(e.start, day_start), min(e.end, day_end), e.video, e.in_person)
                        for e in extras if e.start < day_end and e.end > day_start]
            for period in periods:
                if not (period.video or period.in_person):
                    continue  # a window that offers no mode offers nothing
                # Slots follow the window's own grid; the notice and the horizon
                # only drop slots, so the times offered stay round. What a block
                # leaves is cleared of the slots just placed before it, so that a
                # short block does not shorten the buffer between two slots.
                for open_start, open_end in _subtract([(period.start, period.end)], blocks):
                    for start, end in _subtract([(open_start, open_end)], taken):
                        cursor = start
                        while cursor + length <= end:
                            if earliest <= cursor < latest:
                                slot = SlotSpec(cursor, cursor + length, period.video,
                                                period.in_person)
                                slots.append(slot)
                                taken.append((slot.start - gap, slot.end + gap))
                            cursor += length + gap
        day += timedelta(days=1)
    slots.sort()
    return slots
