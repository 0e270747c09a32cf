"""Now and today, as the court counts them: one definition for every page, job and report."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from .database import utcnow


def court_zone() -> ZoneInfo:
    """The court's own zone (COURT_TIMEZONE), for what belongs to no one magistrate."""
    return ZoneInfo(current_app.config["COURT_TIMEZONE"])


def local_today(zone_name: str | None = None, now: datetime | None = None) -> date:
    """Today's date in a magistrate's zone, or in the court's when none is given."""
    zone = ZoneInfo(zone_name) if zone_name else court_zone()
    return (now or utcnow()).astimezone(zone).date()


def local_now(zone_name: str | None = None) -> datetime:
    """This instant on the wall clock of a magistrate's zone (or the court's)."""
    return utcnow().astimezone(ZoneInfo(zone_name) if zone_name else court_zone())
