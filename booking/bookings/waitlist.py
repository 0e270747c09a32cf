"""The waitlist: when no open time suits, a requester waits for one with a magistrate
between two days. The entry counts once its e-mailed code confirmed the address (as a
booking's hold); then each time that opens in its range (a cancellation, a hold that lapsed,
new availability, a busy period that ended) is offered to the waiting entries in the order
they joined, each with a link to book it; the first to book wins by the slot's
compare-and-set, and the others are told it is gone. Entries end with their range.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from sqlalchemy import select, update

from ..audit import service as audit
from ..availability import service as availability
from ..courts import service as courts
from ..database import utcnow
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db
from ..formatting import moment_label, time_label, zone_label
from ..notifications import service as notifications
from ..security import new_token, seal, token_hash, tokens_match, unseal
from ..urls import external_url
from .models import REMOVED, REMOVED_EMAIL, Booking, WaitlistEntry
from .schemas import waitlist_period_problems
from .service import check_new_code_allowed, code_hash, code_still_current

# A person waits in so many lists at once, at most (a list is per magistrate).
MAX_ENTRIES_PER_EMAIL = 3


def join(magistrate, data: dict, now: datetime | None = None) -> tuple[WaitlistEntry, str]:
    """A held entry and its manage token; the code goes to the address given."""
    now = now or utcnow()
    first, last = data["first_day"], data["last_day"]
    if problems := waitlist_period_problems(
            first, last, now.astimezone(ZoneInfo(magistrate.timezone)).date()):
        field, message = next(iter(problems.items()))
        raise InvalidField(message, field, more=dict(list(problems.items())[1:]))
    email = data["email"]
    live = db.session.scalar(select(db.func.count()).select_from(WaitlistEntry).where(
        db.func.lower(WaitlistEntry.email) == email.lower(),
        WaitlistEntry.status.in_(("held", "waiting"))))
    if live >= MAX_ENTRIES_PER_EMAIL:
        raise NotAllowedNow(f"Este e-mail já aguarda em {MAX_ENTRIES_PER_EMAIL} listas de "
                            "espera; saia de uma para entrar em outra.", "too_many_entries")
    token = new_token()
    entry = WaitlistEntry(
        magistrate_id=magistrate.id, first_day=first, last_day=last, name=data["name"],
        email=email, status="held", manage_token_hash=token_hash(token), confirm_attempts=0,
        hold_expires_at=now + timedelta(minutes=current_app.config["BOOKING_HOLD_MINUTES"]),
        created_at=now, offered=[], told_gone=[], codes_sent=0)
    db.session.add(entry)
    db.session.flush()
    audit.record("waitlist.joined", "waitlist_entry", entry.id, actor="public")
    _send_code(entry, magistrate, token, now)
    return entry, token


CODE_KIND = "waitlist_code"


def _send_code(entry: WaitlistEntry, magistrate, token: str, now: datetime) -> None:
    """A new code for the entry, e-mailed with the entry's link; both travel sealed in the
    outbox (the link is the entry's only key) and are rendered when sent (render_code)."""
    code = f"{secrets.randbelow(1_000_000):06d}"
    entry.confirm_code_hash = code_hash(-entry.id, code)  # a number: never a hold's UID
    entry.codes_sent += 1
    entry.code_sent_at = now
    number = entry.codes_sent
    notifications.queue(
        dedupe_key=f"waitlist:{entry.id}:code" + (f":{number}" if number > 1 else ""),
        kind=CODE_KIND, to=entry.email,
        subject=f"Confirme sua entrada na lista de espera de {magistrate.title} "
                f"{magistrate.name}",
        payload={"entry_id": entry.id, "magistrate_id": magistrate.id,
                 "first_day": entry.first_day.isoformat(),
                 "last_day": entry.last_day.isoformat(),
                 "sealed_code": seal(code),
                 "sealed_link": seal(external_url("bookings_pages.waitlist_entry",
                                                  entry_id=entry.id, token=token)),
                 "minutes": current_app.config["BOOKING_HOLD_MINUTES"],
                 "expires_at": entry.hold_expires_at.isoformat(),
                 "replaces_earlier": number > 1})


def render_code(payload: dict) -> tuple[str, None, None]:
    """The code's e-mail, at sending (the sender calls this; see register_renderer)."""
    code, link = unseal(payload.get("sealed_code") or ""), unseal(payload.get("sealed_link") or "")
    if code is None or link is None:  # fail loudly, as a booking's message without its link
        raise RuntimeError("the code cannot be unsealed (was DATA_ENCRYPTION_KEY or "
                           "SECRET_KEY changed?)")
    magistrate = courts.get_magistrate(payload["magistrate_id"])
    expires = datetime.fromisoformat(payload["expires_at"])
    return render_template(
        "email/waitlist_code.txt", magistrate=magistrate, code=code, link=link,
        first_day=date.fromisoformat(payload["first_day"]),
        last_day=date.fromisoformat(payload["last_day"]),
        minutes=payload["minutes"], replaces_earlier=payload["replaces_earlier"],
        expires=f"{time_label(expires, magistrate.timezone)} "
                f"({zone_label(magistrate.timezone)})",
        court_name=current_app.config["COURT_NAME"]), None, None


def code_still_useful(message) -> bool:
    """An entry's code goes only while the entry waits for it and only while it is the
    entry's code (a newer one, asked for meanwhile, replaced it). One queued as text by an
    earlier version goes as it is."""
    if message.payload is None:
        return True
    entry = db.session.get(WaitlistEntry, message.payload["entry_id"])
    return entry is not None and code_still_current(entry, -entry.id,
                                                    message.payload.get("sealed_code"))


def send_new_code(entry: WaitlistEntry, token: str, now: datetime | None = None) -> str:
    """The entry's code did not arrive: a new one replaces it, as for a booking's hold
    (service.send_new_code): same expiry, same tries. Returns 'code_sent',
    'already_confirmed' or 'hold_expired'; raises as service.check_new_code_allowed. The
    caller commits."""
    now = now or utcnow()
    db.session.refresh(entry, with_for_update=True)  # two presses at once send one code
    if entry.status != "held":
        return "already_confirmed" if entry.status in ("waiting", "booked") else "hold_expired"
    if entry.hold_expires_at is None or entry.hold_expires_at <= now:
        entry.status = "expired"
        return "hold_expired"
    check_new_code_allowed(entry.codes_sent, entry.code_sent_at, entry.email, now)
    entry.codes_sent = max(entry.codes_sent, 1)  # one went, if made before codes were counted
    _send_code(entry, courts.get_magistrate(entry.magistrate_id), token, now)
    audit.record("waitlist.code_resent", "waitlist_entry", entry.id, actor="public",
                 details={"codes_sent": entry.codes_sent})
    return "code_sent"


def entry_for_token(entry_id: int, token: str) -> WaitlistEntry | None:
    entry = db.session.get(WaitlistEntry, entry_id)
    if entry is None or not tokens_match(token or "", entry.manage_token_hash):
        return None
    return entry


def confirm(entry: WaitlistEntry, code: str, now: datetime | None = None) -> str:
    """'confirmed', 'already_confirmed', 'wrong_code', 'too_many_tries' or 'hold_expired'
    (the same rules as a booking's hold); the caller commits whatever the outcome."""
    now = now or utcnow()
    if entry.status != "held":
        return "already_confirmed" if entry.status in ("waiting", "booked") else "hold_expired"
    if entry.hold_expires_at is None or entry.hold_expires_at <= now:
        entry.status = "expired"
        return "hold_expired"
    typed = "".join(ch for ch in (code or "") if ch.isdigit())[:6]
    if not hmac.compare_digest(code_hash(-entry.id, typed), entry.confirm_code_hash or ""):
        entry.confirm_attempts += 1
        if entry.confirm_attempts >= current_app.config["BOOKING_CONFIRM_MAX_TRIES"]:
            entry.status = "expired"
            return "too_many_tries"
        return "wrong_code"
    entry.status, entry.confirmed_at, entry.confirm_code_hash = "waiting", now, None
    audit.record("waitlist.confirmed", "waitlist_entry", entry.id, actor="public")
    return "confirmed"


def leave(entry: WaitlistEntry) -> None:
    if entry.status in ("held", "waiting"):
        entry.status = "left"
        audit.record("waitlist.left", "waitlist_entry", entry.id, actor="public")


def offer_open_times(now: datetime | None = None) -> int:
    """The scheduler's waitlist pass: end what ran out, close the entries of those who
    booked, tell who waits of the times open in their ranges (in the order they joined),
    and tell those offered a time someone else took that it is gone. Returns messages
    queued. Every minute, so the bookings, open slots and offered slots of the entries are
    three reads for every 500 magistrates with a waitlist, not three per entry."""
    now = now or utcnow()
    waiting = []  # (entry, magistrate, the range's first and last instants)
    for entry in db.session.scalars(select(WaitlistEntry).where(
            WaitlistEntry.status.in_(("held", "waiting"))).order_by(
            WaitlistEntry.confirmed_at, WaitlistEntry.id)).all():
        magistrate = courts.get_magistrate(entry.magistrate_id)
        zone = ZoneInfo(magistrate.timezone)
        if entry.last_day < now.astimezone(zone).date() or (
                entry.status == "held" and entry.hold_expires_at <= now):
            entry.status = "expired"
        elif entry.status == "waiting":
            waiting.append((entry, magistrate, _start_of(entry.first_day, zone),
                            _start_of(entry.last_day + timedelta(1), zone)))
    magistrate_ids = sorted({entry.magistrate_id for entry, *_ in waiting})
    queued = 0
    for offset in range(0, len(magistrate_ids), _MAGISTRATES_PER_READ):
        chunk = set(magistrate_ids[offset:offset + _MAGISTRATES_PER_READ])
        queued += _offer([item for item in waiting if item[0].magistrate_id in chunk], now)
    return queued


# Magistrates whose waiting entries one round of the pass's reads serves (bounds IN lists).
_MAGISTRATES_PER_READ = 500


def _offer(waiting: list, now: datetime) -> int:
    """The pass for some magistrates' waiting entries: three reads, then each entry in the
    order it joined."""
    earliest = min(first for _, _, first, _ in waiting)
    latest = max(last for _, _, _, last in waiting)
    booked = _booked_between([entry for entry, *_ in waiting], earliest, latest)
    ranges: dict[int, tuple[datetime, datetime]] = {}  # each magistrate's entries' span
    for entry, _, first, last in waiting:
        known = ranges.get(entry.magistrate_id, (max(first, now), last))
        ranges[entry.magistrate_id] = (min(known[0], max(first, now)), max(known[1], last))
    open_slots = availability.open_slots_within(ranges)
    offered = availability.slots_by_id(
        slot_id for entry, *_ in waiting for slot_id in entry.offered or [])
    queued = 0
    for entry, magistrate, first, last in waiting:
        if any(first <= start < last for start in
               booked.get((entry.magistrate_id, entry.email.lower()), [])):
            entry.status = "booked"
            continue
        for slot in open_slots.get(entry.magistrate_id, []):
            if max(first, now) <= slot.start_at < last and slot.id not in (entry.offered or []):
                entry.offered = [*(entry.offered or []), slot.id]
                queued += _tell(entry, magistrate, "offer", slot.start_at)
        for slot_id in entry.offered or []:
            slot = offered.get(slot_id)
            if slot is not None and slot.state != "open" and \
                    slot_id not in (entry.told_gone or []):
                entry.told_gone = [*(entry.told_gone or []), slot_id]
                queued += _tell(entry, magistrate, "gone", slot.start_at)
    return queued


def anonymize_ended_before(cutoff: date, now: datetime) -> int:
    """Retention: the name and address of entries whose range ended before the cutoff."""
    return db.session.execute(
        update(WaitlistEntry).where(WaitlistEntry.last_day < cutoff,
                                    WaitlistEntry.anonymized_at.is_(None))
        .values(name=REMOVED, email=REMOVED_EMAIL, anonymized_at=now)
        .execution_options(synchronize_session=False)).rowcount


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone)


def _booked_between(entries, first: datetime, last: datetime) -> dict[tuple[int, str], list]:
    """When the entries' addresses have confirmed bookings with their magistrates between
    the two instants, by (magistrate, address): one read."""
    booked: dict[tuple[int, str], list] = {}
    for magistrate_id, email, start in db.session.execute(bookings_of_addresses(
            {entry.email.lower() for entry in entries},
            {entry.magistrate_id for entry in entries}, first, last)):
        booked.setdefault((magistrate_id, email), []).append(start)
    return booked


def bookings_of_addresses(emails, magistrate_ids, first: datetime, last: datetime):
    """The confirmed bookings of these addresses with these magistrates between the two
    instants, read from the address's own index (ix_booking_email_magistrate_start)."""
    email = db.func.lower(Booking.lawyer_email)
    return select(Booking.magistrate_id, email, Booking.start_at).where(
        email.in_(sorted(emails)), Booking.magistrate_id.in_(sorted(magistrate_ids)),
        Booking.status == "confirmed", Booking.start_at >= first, Booking.start_at < last)


def _tell(entry: WaitlistEntry, magistrate, what: str, start: datetime) -> int:
    when = moment_label(start, magistrate.timezone)
    book_link = external_url("bookings_pages.book_page", magistrate_id=magistrate.id,
                             inicio=start.astimezone(ZoneInfo(magistrate.timezone)).isoformat())
    subject = (f"Abriu um horário com {magistrate.title} {magistrate.name}: {when}"
               if what == "offer" else f"O horário de {when} já foi preenchido")
    return notifications.queue(
        dedupe_key=f"waitlist:{entry.id}:{what}:{start.isoformat()}", kind=f"waitlist_{what}",
        to=entry.email, subject=subject,
        text=render_template("email/waitlist_offer.txt", entry=entry, magistrate=magistrate,
                             what=what, when=when, link=book_link,
                             court_name=current_app.config["COURT_NAME"]))

