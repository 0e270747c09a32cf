"""A magistrate's own calendar as busy times: sources, their refresh, and what follows.

A source is a published `.ics` address (Outlook/Exchange "publish calendar",
Google's secret address) or a CalDAV calendar (the `caldav` client). The
scheduler refreshes each one every BUSY_SOURCE_REFRESH_MINUTES: conditional
requests (ETag, Last-Modified), a timeout, a size limit, and backoff after a
failure. Only `https` (and `http` where BUSY_SOURCE_ALLOW_HTTP is on) to hosts
BUSY_SOURCE_ALLOWED_HOSTS names is ever fetched, and a redirect is followed only
to such a host: a typed address cannot make the service probe other machines.

A successful refresh replaces the source's busy periods and republishes the
magistrate's open slots (booked ones are never touched); the bookings package,
registered as a listener, then flags bookings the new busy times cover. A
source that keeps failing is shown as failing with its last error, and the
unit's office is told once.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fnmatch import fnmatch
from urllib.parse import quote, urljoin, urlsplit

from flask import current_app, render_template
from sqlalchemy import and_, delete, func, insert, or_, select

from ..audit import service as audit
from ..calendars.ical import UID_DOMAIN
from ..courts import service as courts
from ..database import utcnow
from ..domain import InvalidField
from ..extensions import db
from ..notifications import service as notifications
from ..security import seal, unseal
from . import service
from .busy_times import CalendarUnreadable, busy_periods
from .models import BusyPeriod, BusySource

MAX_REDIRECTS = 3


class SourceFailed(Exception):
    """A refresh that did not give a calendar; the message is shown to the magistrate."""


# --- which addresses may be fetched ------------------------------------------------------

def check_address(url: str) -> None:
    """InvalidField unless the address is one the service may fetch."""
    parts = urlsplit(url)
    allowed_schemes = ("https", "http") if current_app.config["BUSY_SOURCE_ALLOW_HTTP"] \
        else ("https",)
    if parts.scheme not in allowed_schemes or not parts.hostname:
        raise InvalidField("Use um endereço https:// do calendário.", "url")
    patterns = [p.strip().lower() for p in
                current_app.config["BUSY_SOURCE_ALLOWED_HOSTS"].split(",") if p.strip()]
    if not any(fnmatch(parts.hostname.lower(), pattern) for pattern in patterns):
        raise InvalidField(f"O servidor {parts.hostname} não está entre os permitidos para "
                           "calendários; peça à administração para incluí-lo.", "url")


# --- managing sources ---------------------------------------------------------------------

def sources_of(magistrate_id: int) -> list[BusySource]:
    return list(db.session.scalars(select(BusySource).where(
        BusySource.magistrate_id == magistrate_id).order_by(BusySource.id)))


def failing_source_count() -> int:
    """Calendars whose last read failed (/metrics)."""
    return db.session.scalar(select(func.count()).select_from(BusySource)
                             .where(BusySource.failures > 0)) or 0


def add_source(magistrate, data: dict, user) -> BusySource:
    check_address(data["url"])
    if data["kind"] == "ics" and data.get("write_back"):
        raise InvalidField("Só um calendário CalDAV recebe os agendamentos de volta.",
                           "write_back")
    source = BusySource(magistrate_id=magistrate.id, kind=data["kind"], url=data["url"],
                        username=data.get("username") or None,
                        secret=seal(data["password"]) if data.get("password") else None,
                        write_back=bool(data.get("write_back")), failures=0,
                        next_check_at=utcnow())
    db.session.add(source)
    db.session.flush()
    audit.record("busy_source.added", "magistrate", magistrate.id, user=user,
                 details={"source_id": source.id, "kind": source.kind})
    return source


def remove_source(magistrate, source_id: int, user) -> bool:
    source = db.session.get(BusySource, source_id)
    if source is None or source.magistrate_id != magistrate.id:
        return False
    db.session.delete(source)
    db.session.flush()
    service.publish_slots(magistrate)
    audit.record("busy_source.removed", "magistrate", magistrate.id, user=user,
                 details={"source_id": source_id})
    return True


def busy_of(magistrate_id: int, after: datetime) -> list[tuple[datetime, datetime]]:
    """What the magistrate's own calendars say is busy from `after` on."""
    return [tuple(row) for row in db.session.execute(
        select(BusyPeriod.start_at, BusyPeriod.end_at).where(
            BusyPeriod.magistrate_id == magistrate_id, BusyPeriod.end_at > after)
        .order_by(BusyPeriod.start_at))]


# --- fetching -------------------------------------------------------------------------------

def _fetch_ics(source: BusySource) -> bytes | None:
    """The calendar's text, or None when the server says it has not changed."""
    import requests  # here, not at the top: web workers never fetch (about 5 MB each)

    config = current_app.config
    headers = {"Accept": "text/calendar"}
    if source.etag:
        headers["If-None-Match"] = source.etag
    if source.last_modified:
        headers["If-Modified-Since"] = source.last_modified
    url = source.url
    for _ in range(MAX_REDIRECTS + 1):
        try:
            response = requests.get(url, headers=headers, allow_redirects=False, stream=True,
                                    timeout=config["BUSY_SOURCE_TIMEOUT_SECONDS"])
        except requests.RequestException as error:
            raise SourceFailed(f"o servidor não respondeu ({type(error).__name__})") from None
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                try:
                    check_address(url)
                except InvalidField:
                    raise SourceFailed("o endereço redireciona para um servidor não "
                                       "permitido") from None
                continue
            if response.status_code == 304:
                return None
            if response.status_code != 200:
                raise SourceFailed(f"o servidor respondeu {response.status_code}")
            body = b""
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > config["BUSY_SOURCE_MAX_BYTES"]:
                    raise SourceFailed("o calendário passa do tamanho permitido")
            source.etag = response.headers.get("ETag")
            source.last_modified = response.headers.get("Last-Modified")
            return body
    raise SourceFailed("redirecionamentos demais")


def caldav_calendar(source: BusySource):
    """The CalDAV calendar of a source (the caldav library's object)."""
    import caldav

    client = caldav.DAVClient(url=source.url, username=source.username,
                              password=unseal(source.secret) if source.secret else None,
                              timeout=current_app.config["BUSY_SOURCE_TIMEOUT_SECONDS"])
    return client.calendar(url=source.url)


# A source that receives the magistrate's bookings (a CalDAV calendar they asked for).
WRITES_BACK = and_(BusySource.kind == "caldav", BusySource.write_back.is_(True))


def write_back_sources(magistrate_id: int) -> list[BusySource]:
    """The CalDAV calendars that receive this magistrate's bookings."""
    return list(db.session.scalars(select(BusySource).where(
        BusySource.magistrate_id == magistrate_id, WRITES_BACK)))


def magistrates_writing_back(magistrate_ids: list[int]) -> set[int]:
    """Which of these magistrates have a calendar that receives their bookings."""
    return set(db.session.scalars(select(BusySource.magistrate_id).distinct().where(
        BusySource.magistrate_id.in_(magistrate_ids), WRITES_BACK)))


def caldav_calendar_of(source_id: int):
    source = db.session.get(BusySource, source_id)
    if source is None:
        raise SourceFailed("o calendário foi removido")
    check_address(source.url)
    return caldav_calendar(source)


def save_event(calendar, uid: str, ics: bytes) -> None:
    """Create or replace the event with this UID (a reschedule keeps its UID)."""
    try:
        existing = calendar.event_by_uid(uid)
    except Exception:  # caldav's NotFoundError and the like: there is none yet
        existing = None
    # A plain PUT: the library's save() would raise the SEQUENCE, which is the invite's.
    url = existing.url if existing is not None else \
        calendar.url.join(quote(uid, safe="") + ".ics")
    response = calendar.client.put(str(url), ics,
                                   {"Content-Type": "text/calendar; charset=utf-8"})
    if response.status not in (200, 201, 204):
        raise SourceFailed(f"o servidor CalDAV recusou o evento ({response.status})")


def delete_event(calendar, uid: str) -> None:
    try:
        calendar.event_by_uid(uid).delete()
    except Exception as error:  # already gone is fine; anything else is a failure
        if "NotFound" not in type(error).__name__:
            raise


def _fetch_caldav(source: BusySource, first: datetime, last: datetime) -> list[bytes]:
    try:
        calendar = caldav_calendar(source)
        events = calendar.search(start=first, end=last, event=True, expand=False)
        return [event.data.encode("utf-8") if isinstance(event.data, str) else event.data
                for event in events]
    except Exception as error:  # caldav raises its own errors and the HTTP client's
        raise SourceFailed(f"o servidor CalDAV falhou ({type(error).__name__})") from None


# --- refreshing -------------------------------------------------------------------------------

def refresh(source: BusySource, now: datetime | None = None) -> bool:
    """Read the source once; True when its busy periods changed. The caller commits."""
    now = now or utcnow()
    magistrate = courts.get_magistrate(source.magistrate_id)
    rule = service.rule_of(magistrate.id)
    horizon = timedelta(days=(rule.horizon_days if rule else 60) + 1)
    first, last = now, now + horizon
    source.checked_at = now
    try:
        check_address(source.url)
        if source.kind == "ics":
            body = _fetch_ics(source)
            texts = None if body is None else [body]
        else:
            texts = _fetch_caldav(source, first, last)
        periods = None if texts is None else busy_periods(
            texts, first, last, magistrate.timezone, own_uid_suffix=UID_DOMAIN)
    except (SourceFailed, CalendarUnreadable, InvalidField) as error:
        _failed(source, magistrate, str(error), now)
        return False
    source.failures, source.last_error, source.failure_notified_at = 0, None, None
    source.succeeded_at = now
    source.next_check_at = now + timedelta(minutes=current_app.config[
        "BUSY_SOURCE_REFRESH_MINUTES"])
    if periods is None:
        return False
    current = busy_periods_of_source(source.id)
    if current == periods:
        return False
    db.session.execute(delete(BusyPeriod).where(BusyPeriod.source_id == source.id))
    if periods:
        db.session.execute(insert(BusyPeriod), [
            {"source_id": source.id, "magistrate_id": magistrate.id, "start_at": start,
             "end_at": end} for start, end in periods])
    service.publish_slots(magistrate, now)
    service.changed([magistrate.id])
    return True


def busy_periods_of_source(source_id: int) -> list[tuple[datetime, datetime]]:
    return [tuple(row) for row in db.session.execute(
        select(BusyPeriod.start_at, BusyPeriod.end_at).where(BusyPeriod.source_id == source_id)
        .order_by(BusyPeriod.start_at))]


def _failed(source: BusySource, magistrate, error: str, now: datetime) -> None:
    """Keep the busy times as they were; back off; tell the office once."""
    config = current_app.config
    source.failures += 1
    source.last_error = error[:500]
    minutes = config["BUSY_SOURCE_REFRESH_MINUTES"] * min(2 ** (source.failures - 1), 16)
    source.next_check_at = now + timedelta(minutes=minutes)
    if source.failures >= config["BUSY_SOURCE_FAILURES_BEFORE_NOTICE"] and \
            source.failure_notified_at is None and magistrate.unit.office_email:
        source.failure_notified_at = now
        notifications.queue(
            dedupe_key=f"busy-source:{source.id}:failing:{now:%Y%m%d%H%M}",
            kind="busy_source_failing", to=magistrate.unit.office_email,
            subject=f"Calendário de {magistrate.title} {magistrate.name} sem atualização",
            text=render_template("email/busy_source_failing.txt", magistrate=magistrate,
                                 source=source, court_name=config["COURT_NAME"]))


def refresh_due(now: datetime | None = None) -> int:
    """The scheduler's job: every source whose time has come, each in its own commit."""
    now = now or utcnow()
    due = list(db.session.scalars(select(BusySource.id).where(
        or_(BusySource.next_check_at.is_(None), BusySource.next_check_at <= now))
        .order_by(BusySource.next_check_at)))
    for source_id in due:
        source = db.session.get(BusySource, source_id)
        refresh(source, now)
        db.session.commit()
    return len(due)
