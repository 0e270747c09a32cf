"""Busy periods from a magistrate's own calendar (iCalendar text): pure, no Flask, no database.

What Outlook/Exchange "publish calendar", Google's secret address and CalDAV servers
give is expanded with recurring-ical-events (RRULE, RDATE, EXDATE, RECURRENCE-ID
overrides) between two instants. Transparent (free) and cancelled events are not
busy; an all-day event closes the whole local day; times in any zone count,
Windows zone names with the calendar's own VTIMEZONE included (icalendar reads
them), and a time without a zone is read in the magistrate's.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events


class CalendarUnreadable(ValueError):
    """The text is not an iCalendar the service can read; the message says why."""


def _instant(value, zone: ZoneInfo, *, day_end: bool = False) -> datetime:
    if isinstance(value, datetime):
        return (value if value.tzinfo is not None else value.replace(tzinfo=zone)).astimezone(
            ZoneInfo("UTC"))
    if isinstance(value, date):
        return datetime.combine(value, time(0), zone).astimezone(ZoneInfo("UTC"))
    raise CalendarUnreadable(f"unexpected date value {value!r}")


def _is_busy(event) -> bool:
    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
        return False
    if str(event.get("STATUS", "CONFIRMED")).upper() == "CANCELLED":
        return False
    return str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "BUSY")).upper() != "FREE"


def busy_periods(calendars: list[bytes | str], first: datetime, last: datetime,
                 zone_name: str, own_uid_suffix: str | None = None
                 ) -> list[tuple[datetime, datetime]]:
    """Merged (start, end) in UTC of what is busy between first and last (aware instants).

    Events whose UID ends with `own_uid_suffix` are the service's own bookings (written
    back to the calendar, or an accepted invite): they are not busy times.
    """
    zone = ZoneInfo(zone_name)
    found: list[tuple[datetime, datetime]] = []
    for text in calendars:
        try:
            calendar = icalendar.Calendar.from_ical(text)
            events = recurring_ical_events.of(calendar).between(first, last)
        except Exception as error:  # the libraries raise many kinds on malformed input
            raise CalendarUnreadable(f"calendário ilegível: {type(error).__name__}") from None
        for event in events:
            if event.name != "VEVENT" or "DTSTART" not in event or not _is_busy(event):
                continue
            if own_uid_suffix and str(event.get("UID", "")).endswith(own_uid_suffix):
                continue
            start_value = event["DTSTART"].dt
            if "DTEND" in event:
                end_value = event["DTEND"].dt
            elif "DURATION" in event:
                end_value = start_value + event["DURATION"].dt
            elif isinstance(start_value, datetime):
                end_value = start_value
            else:
                end_value = start_value + timedelta(days=1)
            start, end = _instant(start_value, zone), _instant(end_value, zone)
            if end > start and end > first and start < last:
                found.append((max(start, first), min(end, last)))
    return merge(found)


def merge(periods: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted(periods):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
