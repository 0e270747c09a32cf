"""The lawyer's way back to a booking. A booking is managed by the link e-mailed when it was
made, and only its token's hash is kept: a lawyer who lost that e-mail cannot be sent the
same link again. They ask for their links by address instead, and each booking of that
address still ahead is e-mailed a signed link that lasts BOOKING_RECOVERED_LINK_DAYS.

The answer is the same whether the address has bookings or not, and so is the work behind
it (nobody learns who booked, not even from the time it takes): the request queues the
e-mail with the address sealed, and the bookings are read when it is sent. One address
receives at most one such e-mail in each window of RECOVERY_MINUTES however often it is
asked. As every manage link, the links are sealed (made only at sending) and erased once
sent.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime

from flask import current_app, render_template
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import func, select

from ..audit import service as audit
from ..courts import service as courts
from ..database import utcnow
from ..extensions import db
from ..formatting import MODE_LABELS, moment_label
from ..notifications import service as notifications
from ..security import seal, tokens_match, unseal
from ..urls import external_url
from .models import Booking

# At most one e-mail of links per address in each window of this many minutes; more
# bookings than MAX_LISTED are not listed (an address with that many is not a lawyer's).
RECOVERY_MINUTES = 10
MAX_LISTED = 20
KIND = "manage_links"


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="booking-manage-link")


def manage_url(booking: Booking, token: str) -> str:
    """The lawyer's link to see, cancel or reschedule: the only key to the booking."""
    return external_url("bookings_pages.manage", booking_id=booking.id, token=token)


def signed_token(booking: Booking) -> str:
    """A token that opens this booking for BOOKING_RECOVERED_LINK_DAYS (its manage token
    cannot be sent again: only its hash is kept), while the booking keeps its manage token."""
    return _signer().dumps([booking.id, _token_mark(booking)])


def _token_mark(booking: Booking) -> str:
    """A mark of the booking's current manage token (a digest of its hash): a signed link
    carries it, so a new token from the court (it moved the booking or asked for another
    time) revokes every link sent before, the signed ones too."""
    return hashlib.sha256(booking.manage_token_hash.encode()).hexdigest()[:16]


def opens(booking: Booking, token: str | None) -> bool:
    """Whether a token opens this booking: its own manage token (compared in constant time),
    or a link sent again for it that has not expired."""
    if not token:
        return False
    if tokens_match(token, booking.manage_token_hash):
        return True
    if "." not in token:  # a manage token never has one; a signed link always
        return False
    max_age = current_app.config["BOOKING_RECOVERED_LINK_DAYS"] * 86400
    try:
        booking_id, mark = _signer().loads(token, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return False
    return booking_id == booking.id and hmac.compare_digest(str(mark), _token_mark(booking))


def request_links(email: str, now: datetime | None = None) -> bool:
    """Queue the e-mail of this address's links. Which bookings it has is read only when the
    e-mail is sent (render_links; links_still_useful drops it for an address with none), so
    the request does the same work, and takes the same time, whether the address booked or
    not. False when one such e-mail was asked for already in this window of
    RECOVERY_MINUTES (the caller answers the same either way)."""
    now = now or utcnow()
    email = email.strip().lower()
    address = hmac.new(current_app.config["SECRET_KEY"].encode(), email.encode(),
                       hashlib.sha256).hexdigest()[:32]
    window = int(now.timestamp()) // (RECOVERY_MINUTES * 60)
    queued = notifications.queue(
        dedupe_key=f"booking-links:{address}:{window}", kind=KIND, to=email,
        subject="Os links dos seus agendamentos", payload={"sealed_email": seal(email)})
    audit.record("booking.links_requested", "address", address, actor="public")
    return queued


def _bookings_ahead(email: str, now: datetime, limit: int = MAX_LISTED) -> list[Booking]:
    return list(db.session.scalars(
        select(Booking).where(func.lower(Booking.lawyer_email) == email,
                              Booking.status == "confirmed", Booking.end_at > now)
        .order_by(Booking.start_at).limit(limit)))


def _email_of(payload: dict) -> str:
    email = unseal(payload.get("sealed_email") or "")
    if email is None:  # fail loudly, as a booking's message without its manage link
        raise RuntimeError("the address cannot be unsealed (was DATA_ENCRYPTION_KEY or "
                           "SECRET_KEY changed?)")
    return email


def links_still_useful(message) -> bool:
    """An address without confirmed bookings ahead (never had any, or none left) is sent
    nothing: the sender drops its message. One whose address cannot be unsealed goes on to
    render_links, which fails it loudly and alone (a check that raised would stop the
    sender's whole batch)."""
    email = unseal((message.payload or {}).get("sealed_email") or "")
    return email is None or bool(_bookings_ahead(email, utcnow(), limit=1))


def render_links(payload: dict) -> tuple[str, None, None]:
    """The e-mail's text, at sending (the sender calls this; see register_renderer): a link
    for each confirmed booking of the address still ahead, signed now."""
    found = _bookings_ahead(_email_of(payload), utcnow())
    magistrates = {magistrate.id: magistrate for magistrate in courts.load_magistrates(
        list({booking.magistrate_id for booking in found}))}
    listed = []
    for booking in found:
        magistrate = magistrates[booking.magistrate_id]
        listed.append({"when": moment_label(booking.start_at, magistrate.timezone),
                       "who": f"{magistrate.title} {magistrate.name}",
                       "unit": magistrate.unit.name, "mode": MODE_LABELS[booking.mode],
                       "link": manage_url(booking, signed_token(booking))})
    return render_template("email/booking_links.txt", bookings=listed,
                           days=current_app.config["BOOKING_RECOVERED_LINK_DAYS"],
                           court_name=current_app.config["COURT_NAME"]), None, None
