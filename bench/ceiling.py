"""The ceiling: the smallest Flask service on the same server settings and database.

Five routes: a JSON hello, one indexed read by primary key, one insert under a
unique constraint, a page rendered from one indexed read, and the least a booking
can cost on the service's own tables (issue #21); and the least the public's two
steps cost, a hold and its confirmation with the e-mailed code. What the service
reaches is reported as a share of these.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, render_template_string, request
from sqlalchemy import and_, bindparam, create_engine, func, select, text, update
from sqlalchemy import insert as insert_into

from booking.database import configure_engine, read_only_transaction

DATABASE_URL = os.environ["CEILING_DATABASE_URL"]
ROWS = 100_000

engine = create_engine(DATABASE_URL, pool_pre_ping=True)
configure_engine(engine, 15000)
app = Flask(__name__)


@app.before_request
def reads_are_reads():
    """As in the service: only writes take SQLite's write lock up front."""
    read_only_transaction.set(request.method == "GET")


def prepare() -> None:
    """Create the two tables and fill the read table (run once, before serving)."""
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS ceiling_item"))
        connection.execute(text("DROP TABLE IF EXISTS ceiling_write"))
        connection.execute(text("CREATE TABLE ceiling_item (id INTEGER PRIMARY KEY, name VARCHAR(100), "
                                "value INTEGER)"))
        connection.execute(text("CREATE TABLE ceiling_write (id INTEGER PRIMARY KEY, "
                                "token VARCHAR(64) UNIQUE NOT NULL)" if engine.dialect.name == "sqlite"
                                else "CREATE TABLE ceiling_write (id SERIAL PRIMARY KEY, "
                                "token VARCHAR(64) UNIQUE NOT NULL)"))
        connection.execute(text("INSERT INTO ceiling_item (id, name, value) VALUES (:id, :name, :value)"),
                           [{"id": i, "name": f"item {i}", "value": i * 7} for i in range(1, ROWS + 1)])


@app.get("/hello")
def hello():
    return jsonify(hello="world")


@app.get("/read/<int:item_id>")
def read(item_id: int):
    with engine.connect() as connection:
        row = connection.execute(text("SELECT id, name, value FROM ceiling_item WHERE id = :id"),
                                 {"id": item_id}).first()
    if row is None:
        return jsonify(error="not found"), 404
    return jsonify(id=row.id, name=row.name, value=row.value)


_TEMPLATE_ROWS = 60  # a week of an agenda: about the size of the service's agenda page


@app.get("/page/<int:item_id>")
def page(item_id: int):
    """A page of the size of the public agenda, rendered by Jinja from one indexed read."""
    with engine.connect() as connection:
        row = connection.execute(text("SELECT id, name, value FROM ceiling_item WHERE id = :id"),
                                 {"id": item_id}).first()
    if row is None:
        return "não encontrado", 404
    return render_template_string(PAGE, item=row, rows=range(_TEMPLATE_ROWS))


PAGE = """<!doctype html><html lang="pt-BR"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{{ item.name }}</title>
<link rel="stylesheet" href="/static/app.css"></head><body><header><nav><a href="/">Início</a>
<a href="/unidades">Unidades</a><a href="/reclamacoes">Relatar falha</a></nav></header>
<main><h1>Agenda de {{ item.name }}</h1><p>Horários de Brasília; vídeo ou presencial.</p>
{% for day in range(5) %}<section><h2>Dia {{ day }}</h2><ul>
{% for r in rows %}{% if r % 5 == day %}<li><a href="/magistrados/{{ item.id }}/agendar?inicio={{ r }}">
{{ "%02d:%02d"|format(8 + r // 6, (r % 6) * 10) }}</a> <span>vídeo, presencial</span></li>{% endif %}
{% endfor %}</ul></section>{% endfor %}</main><footer><p>Tribunal de Justiça de Mato Grosso —
valor {{ item.value }}</p></footer></body></html>"""


# --- the least a booking can cost -------------------------------------------------------
# The service's own tables and column types, with Core statements written by hand: no ORM
# session, no schema library, no framework above Flask.
def _tables():
    from booking.audit.models import AuditEntry
    from booking.availability.models import AvailabilityRule, Slot
    from booking.bookings.models import Booking
    from booking.courts.models import Magistrate
    from booking.notifications.models import OutboxMessage

    return (Magistrate.__table__, AvailabilityRule.__table__, Slot.__table__,
            Booking.__table__, AuditEntry.__table__, OutboxMessage.__table__)


MAGISTRATE, RULE, SLOT, BOOKING, AUDIT, OUTBOX = _tables()
CONTEXT = (
    select(MAGISTRATE.c.id, MAGISTRATE.c.name, MAGISTRATE.c.title, MAGISTRATE.c.timezone,
           RULE.c.min_notice_hours, SLOT.c.id.label("slot_id"), SLOT.c.state, SLOT.c.end_at,
           SLOT.c.offers_video)
    .join(RULE, RULE.c.magistrate_id == MAGISTRATE.c.id)
    .join(SLOT, and_(SLOT.c.magistrate_id == MAGISTRATE.c.id,
                     SLOT.c.start_at == bindparam("start", type_=SLOT.c.start_at.type)))
    .where(MAGISTRATE.c.id == bindparam("magistrate_id")))
FUTURE_OF_ADDRESS = select(func.count()).select_from(BOOKING).where(
    func.lower(BOOKING.c.lawyer_email) == bindparam("email"),
    BOOKING.c.magistrate_id == bindparam("magistrate_id"), BOOKING.c.status == "confirmed",
    BOOKING.c.start_at > bindparam("now", type_=BOOKING.c.start_at.type))
FLIP = update(SLOT).where(SLOT.c.id == bindparam("slot_id"), SLOT.c.state == "open").values(
    state="booked")


class Refused(Exception):
    pass


@app.post("/book")
def book():
    """Parse the form, read magistrate, rule and slot in one statement, count the address's
    future bookings, flip the slot, insert the booking, an audit row and three outbox rows,
    in one transaction; answer the booking as JSON (201) or 409. SQLite reads outside its
    write lock first, as the service does; PostgreSQL does it all in one transaction."""
    body = request.get_json()
    lawyer = body["lawyer"]
    start = datetime.fromisoformat(body["start"]).astimezone(UTC)
    now = datetime.now(UTC)
    try:
        context, booking_id, token = _book(body, start, now)
    except Refused as refusal:
        return jsonify(error=str(refusal)), 409
    zone = ZoneInfo(context.timezone)
    person = {k: lawyer[k] for k in ("name", "oab", "email", "phone")}
    return jsonify(
        id=booking_id, status="confirmed",
        magistrate={"id": context.id, "name": context.name, "title": context.title},
        start=start.astimezone(zone).isoformat(), end=context.end_at.astimezone(zone).isoformat(),
        mode=body["mode"], requester={"type": "lawyer", **person}, lawyer=person,
        case_number=body["case_number"], subject=body["subject"], under_seal=False,
        notify_by=None, guests=[], participants=[], answers=[], requester_type="lawyer",
        created_at=now.astimezone(zone).isoformat(), cancelled_at=None, cancelled_by=None,
        cancel_reason=None, ics_url=f"/api/v1/bookings/{booking_id}/invite.ics",
        manage_token=token,
        manage_url=f"https://agendamento.example/agendamentos/{booking_id}?token={token}"), 201


def _book(body: dict, start: datetime, now: datetime, *, held: bool = False):
    """(context, booking id, manage token); raises Refused."""
    context, (booking_id, token) = _read_then_write(
        lambda connection: _context(connection, body, start),
        lambda connection, context: _write(connection, context, body, start, now, held=held))
    return context, booking_id, token


def _read_then_write(read, write):
    """(what read gave, what write gave). SQLite reads in a transaction of its own, outside
    the write lock, as the service does; PostgreSQL does both in one transaction."""
    if engine.dialect.name == "sqlite":
        reading = read_only_transaction.set(True)
        try:
            with engine.begin() as connection:
                got = read(connection)
        finally:
            read_only_transaction.reset(reading)
        with engine.begin() as connection:
            return got, write(connection, got)
    with engine.begin() as connection:
        got = read(connection)
        return got, write(connection, got)


def _context(connection, body: dict, start: datetime):
    context = connection.execute(CONTEXT, {"magistrate_id": body["magistrate_id"],
                                           "start": start}).first()
    if context is None or context.state != "open":
        raise Refused("slot_unavailable")
    return context


def _write(connection, context, body: dict, start: datetime, now: datetime, *,
           held: bool = False):
    """The booking's writes (`held`: a hold's, with one e-mail of the code)."""
    lawyer = body["lawyer"]
    _lock(connection, context.id)
    if connection.execute(FUTURE_OF_ADDRESS, {"email": lawyer["email"].lower(),
                                              "magistrate_id": context.id,
                                              "now": now}).scalar_one() >= 3:
        raise Refused("lawyer_limit")
    if held:
        by_email, by_client = connection.execute(LIVE_HOLDS, {
            "email": lawyer["email"].lower(), "client": _client(), "now": now}).one()
        if by_email >= 2 or by_client >= 5:  # the service's default caps
            raise Refused("too_many_holds")
    if connection.execute(FLIP, {"slot_id": context.slot_id}).rowcount != 1:
        raise Refused("slot_taken")
    token = secrets.token_urlsafe(32)
    uid = f"{uuid.uuid4()}@ceiling"
    booking_id = connection.execute(insert_into(BOOKING), dict(
        slot_id=context.slot_id, magistrate_id=context.id, start_at=start,
        end_at=context.end_at, mode=body["mode"], status="held" if held else "confirmed",
        lawyer_name=lawyer["name"], lawyer_oab=lawyer["oab"], lawyer_email=lawyer["email"],
        lawyer_phone=lawyer["phone"], case_number=body["case_number"],
        subject=body["subject"], under_seal=False, requester_type="lawyer", consent_at=now,
        manage_token_hash=_token_hash(token),
        ical_uid=uid, ical_sequence=0, created_at=now, updated_at=now,
        confirm_attempts=0, confirmed_at=None if held else now,
        codes_sent=1 if held else 0, code_sent_at=now if held else None,
        hold_expires_at=now + HOLD if held else None,
        hold_client=_client() if held else None,
        # the code is keyed by the invite's UID, as the service's
        confirm_code_hash=_code_hash(uid, f"{secrets.randbelow(10 ** 6):06d}") if held
        else None)).inserted_primary_key[0]
    _audit(connection, booking_id, "booking.held" if held else "booking.created", now,
           lawyer, {"slot_id": context.slot_id, "mode": body["mode"]})
    _messages(connection, booking_id, ("lawyer",) if held else ROLES, now, lawyer["email"],
              "code" if held else "booked")
    return booking_id, token


ROLES = ("lawyer", "magistrate", "office")
HOLD = timedelta(minutes=15)
LIVE_HOLDS = select(*(
    select(func.count()).select_from(BOOKING).where(
        BOOKING.c.status == text("'held'"), condition,
        BOOKING.c.hold_expires_at > bindparam("now", type_=BOOKING.c.hold_expires_at.type))
    .scalar_subquery()
    for condition in (func.lower(BOOKING.c.lawyer_email) == bindparam("email"),
                      BOOKING.c.hold_client == bindparam("client"))))


def _lock(connection, magistrate_id: int) -> None:
    if engine.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(1, :id)"), {"id": magistrate_id})


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _code_hash(uid: str, code: str) -> str:
    """The service's formula and key (the bench sets known codes the same way)."""
    return hmac.new(os.environ["SECRET_KEY"].encode(), f"{uid}:{code}".encode(),
                    hashlib.sha256).hexdigest()


def _client() -> str:
    return hashlib.sha256((request.headers.get("X-Forwarded-For") or request.remote_addr
                           or "").encode()).hexdigest()[:32]


def _audit(connection, booking_id: int, action: str, now: datetime, lawyer: dict,
           details: dict | None = None) -> None:
    connection.execute(insert_into(AUDIT), {
        "at": now, "action": action, "entity": "booking", "entity_id": str(booking_id),
        "actor": f"lawyer:{lawyer['oab']}", "details": details})


def _messages(connection, booking_id: int, roles, now: datetime, email: str,
              event: str) -> None:
    connection.execute(insert_into(OUTBOX), [{
        "dedupe_key": f"booking:{booking_id}:{event}:0:{role}", "kind": f"booking_{event}",
        "message_id": f"<{uuid.uuid4()}@ceiling>", "recipients": [email],
        "subject": "Atendimento agendado", "ics_method": "REQUEST",
        "payload": {"event": event, "role": role, "booking": {"id": booking_id}},
        "topic": f"booking:{booking_id}:{role}", "version": 0, "status": "pending",
        "attempts": 0, "next_attempt_at": now, "created_at": now}
        for role in roles])


# --- the least the public's two steps cost -------------------------------------------------
# The same paths as the service's, for the bench's hold and confirm scripts.

@app.post("/api/v1/bookings")
def hold():
    """A hold (201, status held): the booking's reads and writes, held for HOLD, the address's and the
    client's live holds counted, the code's hash written and one e-mail queued."""
    body = request.get_json()
    start = datetime.fromisoformat(body["start"]).astimezone(UTC)
    now = datetime.now(UTC)
    try:
        context, booking_id, token = _book(body, start, now, held=True)
    except Refused as refusal:
        return jsonify(error=str(refusal)), 409
    zone = ZoneInfo(context.timezone)
    return jsonify(
        id=booking_id, status="held", start=start.astimezone(zone).isoformat(),
        end=context.end_at.astimezone(zone).isoformat(), mode=body["mode"],
        manage_token=token, hold_expires_at=(now + HOLD).astimezone(zone).isoformat(),
        confirm_url=f"/api/v1/bookings/{booking_id}/confirm"), 201


BOOKING_BY_TOKEN = select(
    BOOKING.c.id, BOOKING.c.magistrate_id, BOOKING.c.lawyer_email, BOOKING.c.lawyer_name,
    BOOKING.c.lawyer_oab, BOOKING.c.start_at, BOOKING.c.end_at, BOOKING.c.mode,
    MAGISTRATE.c.name, MAGISTRATE.c.timezone).join(
    MAGISTRATE, MAGISTRATE.c.id == BOOKING.c.magistrate_id).where(
    BOOKING.c.id == bindparam("id"), BOOKING.c.manage_token_hash == bindparam("token_hash"))
HOLD_STATE = select(BOOKING.c.status, BOOKING.c.hold_expires_at, BOOKING.c.ical_uid,
                    BOOKING.c.confirm_code_hash).where(BOOKING.c.id == bindparam("id"))
CONFIRM = update(BOOKING).where(BOOKING.c.id == bindparam("booking_id")).values(
    status="confirmed", confirmed_at=bindparam("now"), updated_at=bindparam("now"),
    confirm_code_hash=None, hold_client=None, hold_expires_at=None)


@app.post("/api/v1/bookings/<int:booking_id>/confirm")
def confirm(booking_id: int):
    """The hold's confirmation (200): the booking read by its manage token, its state read
    again under the lock, the code compared, the address's bookings counted, the booking
    confirmed, an audit row and three outbox rows."""
    code = str(request.get_json().get("code", ""))
    token = request.headers.get("Authorization", "").removeprefix("Bearer ")
    now = datetime.now(UTC)

    def read(connection):
        booking = connection.execute(BOOKING_BY_TOKEN, {
            "id": booking_id, "token_hash": _token_hash(token)}).first()
        if booking is None:
            raise Refused("not_found")
        return booking

    def write(connection, booking):
        _lock(connection, booking.magistrate_id)
        state = connection.execute(HOLD_STATE, {"id": booking_id}).first()
        if state.status != "held" or state.hold_expires_at <= now:
            raise Refused("hold_expired")
        if not hmac.compare_digest(_code_hash(state.ical_uid, code), state.confirm_code_hash):
            raise Refused("wrong_code")
        if connection.execute(FUTURE_OF_ADDRESS, {"email": booking.lawyer_email.lower(),
                                                  "magistrate_id": booking.magistrate_id,
                                                  "now": now}).scalar_one() >= 3:
            raise Refused("lawyer_limit")
        connection.execute(CONFIRM, {"booking_id": booking_id, "now": now})
        _audit(connection, booking_id, "booking.confirmed", now, {"oab": booking.lawyer_oab})
        _messages(connection, booking_id, ROLES, now, booking.lawyer_email, "booked")

    try:
        booking, _ = _read_then_write(read, write)
    except Refused as refusal:
        return jsonify(error=str(refusal)), {"not_found": 404, "wrong_code": 422}.get(
            str(refusal), 409)
    zone = ZoneInfo(booking.timezone)
    return jsonify(
        id=booking_id, status="confirmed", magistrate={"id": booking.magistrate_id,
                                                        "name": booking.name},
        start=booking.start_at.astimezone(zone).isoformat(),
        end=booking.end_at.astimezone(zone).isoformat(), mode=booking.mode,
        lawyer={"name": booking.lawyer_name, "oab": booking.lawyer_oab,
                "email": booking.lawyer_email},
        confirmed_at=now.astimezone(zone).isoformat(),
        ics_url=f"/api/v1/bookings/{booking_id}/invite.ics")


@app.post("/insert")
def insert():
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO ceiling_write (token) VALUES (:token)"),
                           {"token": uuid.uuid4().hex})
    return jsonify(ok=True), 201


if __name__ == "__main__":
    prepare()
    print("ceiling tables ready")
