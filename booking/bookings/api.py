"""Booking routes: book (idempotent), see, cancel, reschedule, attendance, the invite,
the magistrate's list and calendar feed, urgent requests. A lawyer proves ownership
with the manage token. Refusals of the service (InvalidField, NotAllowedNow) become
422 and 409 in errors.py."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app, g, request, url_for
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy.exc import IntegrityError

from .. import metrics
from ..accounts import service as accounts
from ..accounts.auth import (
    acted_on,
    bearer_token,
    current_api_user,
    ensure_acts_for,
    require_staff,
)
from ..audit import service as audit
from ..availability.slots import local_instant
from ..courts import service as courts
from ..database import commit_keeping_loaded, reads_before_writing
from ..domain import InvalidField, NotAllowedNow
from ..extensions import db, limiter
from ..openapi import (
    BOOKING_SECURITY,
    INTEGRATION_KEY_HEADER,
    MANAGE_SECURITY,
    RATE_LIMITED,
    STAFF_SECURITY,
)
from ..pagination import TOTAL_COUNT_HEADER, paginate, with_total
from ..security import seal, tokens_match, unseal
from ..urls import external_url
from . import links, messages, service, urgent, waitlist
from .models import Booking, IdempotencyRecord, UrgentRequest
from .schemas import (
    AttendanceSchema,
    BookingCreatedSchema,
    BookingHeldSchema,
    BookingQuerySchema,
    BookingRequestSchema,
    BookingSchema,
    CancelSchema,
    ConfirmSchema,
    FeedQuerySchema,
    FeedTokenSchema,
    NewCodeSchema,
    RescheduleSchema,
    UrgentAnswerSchema,
    UrgentQuerySchema,
    UrgentRequestInSchema,
    UrgentRequestSchema,
    WaitlistEntrySchema,
    WaitlistJoinSchema,
)

# Built once: a schema costs more to build than to dump.
_CREATED = BookingCreatedSchema()
_HELD = BookingHeldSchema()

blp = Blueprint("bookings", __name__, url_prefix="/api/v1",
                description="Agendamentos: agendar, consultar, cancelar e remarcar.")


@blp.after_request
def count_booking_requests(response):
    """Booking outcomes for /metrics (a refusal by the schema never reaches the view)."""
    if request.method == "POST" and request.endpoint in ("bookings.Bookings",
                                                         "bookings.BookingConfirm"):
        # a new booking is a hold unless an integration key booked it (see Bookings.post)
        metrics.count_booking_answer(response, success=g.get("booking_success", "confirmed"))
    return response


@dataclass
class Access:
    booking: Booking
    lawyer_token: str | None = None
    user: object | None = None

    @property
    def by(self) -> str:
        return "lawyer" if self.lawyer_token else "court"


def booking_access(booking_id: int) -> Access:
    """Who may act on this booking: its manage token, or the magistrate's side.

    A manage token of another booking, or any unknown token, is a 404: it
    must not reveal which bookings exist.
    """
    header_token, link_token = bearer_token(), request.args.get("token")
    token = header_token or link_token
    if not token:
        abort(401)
    booking = db.session.get(Booking, booking_id)
    if booking is not None and links.opens(booking, token):
        return Access(booking, lawyer_token=token)
    # A staff token is accepted only in the header: a URL ends up in logs and histories.
    user = accounts.user_for_token(header_token) if header_token else None
    if user is None:
        abort(404, message="Agendamento não encontrado.")
    acted_on(booking, user, "Agendamento não encontrado.")
    return Access(booking, user=user)


def booking_document(booking: Booking, *, reveal_sealed: bool, magistrate=None) -> dict:
    magistrate = magistrate or courts.get_magistrate(booking.magistrate_id)
    sealed = booking.under_seal and not reveal_sealed
    person = {"name": booking.lawyer_name, "oab": booking.lawyer_oab,
              "institution": booking.requester_institution,
              "email": booking.lawyer_email, "phone": booking.lawyer_phone}
    return {
        "id": booking.id, "status": booking.status,
        "magistrate": {"id": magistrate.id, "name": magistrate.name, "title": magistrate.title},
        "start_at": booking.start_at, "end_at": booking.end_at, "mode": booking.mode,
        "lawyer": person,
        "requester": {"type": booking.requester_type, **person},
        "requester_type": booking.requester_type,
        "case_number": "em segredo de justiça" if sealed else booking.case_number,
        "subject": "em segredo de justiça" if sealed else booking.subject,
        "under_seal": booking.under_seal, "notify_by": booking.notify_by,
        "guests": booking.participants or [],
        "participants": booking.participants or [],
        "answers": [] if sealed else (booking.answers or []),
        "created_at": booking.created_at,
        "cancelled_at": booking.cancelled_at, "cancelled_by": booking.cancelled_by,
        "cancel_reason": booking.cancel_reason,
        "ics_url": url_for("bookings.BookingInvite", booking_id=booking.id, _external=False),
    }


def _fingerprint() -> str:
    return hashlib.sha256(request.get_data()).hexdigest()


def _replay(key: str, fingerprint: str):
    record = db.session.get(IdempotencyRecord, key)
    if record is None:
        return None
    if record.request_fingerprint != fingerprint:
        abort(422, errors={"Idempotency-Key": [
            "Esta chave já foi usada com outro conteúdo; gere uma chave nova para um novo pedido."]})
    response = current_app.response_class(unseal(record.response_body) or "{}",
                                          status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is not None and not (1 <= len(key) <= 200):
        abort(422, errors={"Idempotency-Key": ["Use uma chave de 1 a 200 caracteres."]})
    return key


@blp.route("/bookings")
class Bookings(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"],
                                methods=["POST"])]

    @blp.arguments(BookingRequestSchema())
    @blp.doc(security=BOOKING_SECURITY)
    @blp.response(201, BookingHeldSchema,
                  description="Horário reservado (status held) até a confirmação: um código "
                              "foi enviado ao e-mail informado; confirme em confirm_url com o "
                              "token de gestão. Com chave de integração, agendamento já "
                              "confirmado (status confirmed, sem hold_expires_at nem "
                              "confirm_url).")
    @blp.alt_response(401, description="Chave de integração inválida ou revogada.")
    @blp.alt_response(409, description="Horário ocupado, indisponível, limite atingido "
                                       "(lawyer_limit, day_full) ou reservas demais aguardando "
                                       "confirmação (too_many_holds).")
    @blp.doc(parameters=[{"in": "header", "name": "Idempotency-Key", "required": False,
                          "schema": {"type": "string", "maxLength": 200},
                          "description": "Repetir o pedido com a mesma chave devolve a primeira resposta."}])
    @blp.alt_response(429, description=RATE_LIMITED)
    def post(self, data):
        """Hold an open slot with the short form (201, status held), confirmed when the
        requester types the code e-mailed to them; a system of the court with an integration
        key books it confirmed at once (201, status confirmed). Answers the manage token
        once."""
        presented = request.headers.get(INTEGRATION_KEY_HEADER)
        key = _idempotency_key()
        fingerprint = _fingerprint()
        try:
            # Everything read in one transaction outside SQLite's write lock: a first
            # statement here would otherwise begin the write transaction and hold the lock
            # through the whole request.
            with reads_before_writing(db.session()):
                direct = accounts.is_integration_key(presented)
                replayed = (_replay(key, fingerprint) if key and (direct or not presented)
                            else None)
                plan = (service.plan_booking(data, direct=direct)
                        if replayed is None and (direct or not presented) else None)
            if presented and not direct:
                abort(401, message="Chave de integração inválida ou revogada.")
            if not direct:  # for the metrics: a new booking (or its replay) is a hold
                g.booking_success = "held"
            if replayed is not None:
                return replayed
            booked = service.write_booking(plan, client=service.client_hash(request.remote_addr))
            if key:  # the answer is kept with the booking, for a retry to get it again
                body = _created_body(booked, direct)
                db.session.add(IdempotencyRecord(key=key, request_fingerprint=fingerprint,
                                                 status_code=201,
                                                 # it holds the manage token: sealed
                                                 response_body=seal(current_app.json.dumps(body))))
            commit_keeping_loaded(db.session())
        except (InvalidField, NotAllowedNow, IntegrityError) as error:
            # A retry that raced its first try (whose booking took the slot, seen while
            # planning or when writing) gets the first answer, not a conflict.
            db.session.rollback()
            if key and (replayed := _replay(key, fingerprint)) is not None:
                return replayed
            if isinstance(error, IntegrityError):  # a constraint fired under a race
                raise NotAllowedNow(service.SLOT_TAKEN, "slot_taken") from None
            raise
        if not key:  # after the commit: SQLite's write lock is not held while it is written
            body = _created_body(booked, direct)
        response = current_app.response_class(current_app.json.dumps(body), status=201,
                                              mimetype="application/json")
        response.headers["Location"] = url_for("bookings.BookingById",
                                               booking_id=booked.booking.id)
        return response


def _created_body(booked: service.Booked, direct: bool) -> dict:
    """The answer to a new booking or hold (both 201), with its manage token."""
    document = booking_document(booked.booking, reveal_sealed=True,
                                magistrate=booked.magistrate)
    document["manage_token"] = booked.manage_token
    document["manage_url"] = links.manage_url(booked.booking, booked.manage_token)
    if not direct:
        document["hold_expires_at"] = booked.booking.hold_expires_at
        document["confirm_url"] = url_for("bookings.BookingConfirm", booking_id=booked.booking.id)
    return (_CREATED if direct else _HELD).dump(document)


HOLD_GONE_MESSAGE = ("A reserva expirou ou foi liberada; o horário voltou para a agenda. "
                     "Escolha um horário de novo.")
TOO_MANY_TRIES_MESSAGE = ("Código errado vezes demais: a reserva foi liberada. Escolha um "
                          "horário de novo.")


@blp.route("/bookings/<int:booking_id>/confirm")
class BookingConfirm(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])]

    @blp.doc(security=[{"manageToken": []}])
    @blp.arguments(ConfirmSchema())
    @blp.response(200, BookingSchema)
    @blp.alt_response(409, description="A reserva expirou ou foi liberada (hold_expired) ou "
                                       "o limite foi atingido (lawyer_limit).")
    @blp.alt_response(422, description="Código incorreto; errors.code diz quantas tentativas "
                                       "restam.")
    @blp.alt_response(401, description="Falta o token de gestão.")
    @blp.alt_response(403, description="Um token da equipe não confirma: só o de gestão.")
    @blp.alt_response(404, description="Agendamento não encontrado para este token.")
    @blp.alt_response(429, description="Código errado vezes demais (too_many_tries): a reserva "
                                       "foi liberada. Ou: " + RATE_LIMITED)
    def post(self, data, booking_id):
        """Confirm a hold with the code e-mailed to the requester and the manage token;
        only now are the invites sent. Confirming twice answers the booking again."""
        with reads_before_writing(db.session()):
            access = booking_access(booking_id)
            if access.lawyer_token is None:
                abort(403, message="Só quem reservou, com o token de gestão, confirma a reserva.")
            booking = access.booking
            known = service.confirmation_context(booking)
        try:
            outcome = service.confirm_hold(booking, data["code"], access.lawyer_token,
                                           known=known)
        except NotAllowedNow:
            db.session.commit()  # the address reached its limit meanwhile: the slot is freed
            raise
        commit_keeping_loaded(db.session())  # a wrong try counts even though it is refused
        if outcome == service.WRONG_CODE:
            abort(422, errors={"code": [
                f"Código incorreto. Restam {service.remaining_tries(booking)} tentativa(s)."]})
        if outcome == service.TOO_MANY_TRIES:  # the contract's 429; the hold is gone
            abort(429, message=TOO_MANY_TRIES_MESSAGE, code=outcome)
        if outcome == service.HOLD_GONE:
            raise NotAllowedNow(HOLD_GONE_MESSAGE, outcome)
        return booking_document(booking, reveal_sealed=True, magistrate=known["magistrate"])


@blp.route("/bookings/<int:booking_id>/new-code")
class BookingNewCode(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])]

    @blp.doc(security=[{"manageToken": []}])
    @blp.response(202, NewCodeSchema, description="Um novo código foi enviado ao e-mail da "
                  "reserva; o anterior deixou de valer. A reserva mantém o limite e as "
                  "tentativas.")
    @blp.alt_response(409, description="A reserva expirou ou foi liberada (hold_expired), "
                                       "já foi confirmada (already_confirmed) ou já recebeu "
                                       "códigos demais (too_many_codes).")
    @blp.alt_response(401, description="Falta o token de gestão.")
    @blp.alt_response(403, description="Um token da equipe não pede código: só o de gestão.")
    @blp.alt_response(404, description="Agendamento não encontrado para este token.")
    @blp.alt_response(429, description="Um código acabou de ser enviado (code_just_sent; "
                                       "Retry-After diz quando pedir outro). Ou: "
                                       + RATE_LIMITED)
    def post(self, booking_id):
        """The hold's code did not arrive: send a new one to the same address, replacing it
        (at most BOOKING_CODE_RESENDS times, BOOKING_CODE_RESEND_SECONDS apart)."""
        access = booking_access(booking_id)
        if access.lawyer_token is None:
            abort(403, message="Só quem reservou, com o token de gestão, pede um novo código.")
        booking = access.booking
        outcome = _new_code_or_refusal(
            lambda: service.send_new_code(booking, access.lawyer_token))
        if outcome == service.HOLD_GONE:
            raise NotAllowedNow(HOLD_GONE_MESSAGE, outcome)
        if outcome == service.ALREADY_CONFIRMED:
            raise NotAllowedNow("A reserva já foi confirmada: não precisa de código.", outcome)
        return {"hold_expires_at": booking.hold_expires_at,
                "new_codes_left": service.new_codes_left(booking.codes_sent)}


@blp.route("/bookings/<int:booking_id>")
class BookingById(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])]

    @blp.doc(security=MANAGE_SECURITY)
    @blp.response(200, BookingSchema)
    @blp.alt_response(429, description=RATE_LIMITED)
    def get(self, booking_id):
        """One booking, for its lawyer (manage token) or the magistrate's side."""
        access = booking_access(booking_id)
        audit.record_read(access.user, "booking", [booking_id])
        return booking_document(access.booking, reveal_sealed=access.user is not None)


@blp.route("/bookings/<int:booking_id>/data")
class BookingData(MethodView):
    @blp.doc(security=[{"manageToken": []}], responses={"200": {
        "description": "Todos os dados guardados sobre o agendamento (LGPD, art. 18).",
        "content": {"application/json": {"schema": {"type": "object"}}}}})
    def get(self, booking_id):
        """Everything held about this booking, for its lawyer (manage token only)."""
        access = booking_access(booking_id)
        if access.lawyer_token is None:
            abort(403, message="Só o advogado, com o link de gestão, baixa estes dados.")
        response = current_app.json.response(service.booking_data(access.booking))
        response.headers["Content-Disposition"] = (
            f'attachment; filename="agendamento-{booking_id}-dados.json"')
        response.headers["Cache-Control"] = "no-store"
        return response


@blp.route("/bookings/<int:booking_id>/cancel")
class BookingCancel(MethodView):
    @blp.doc(security=MANAGE_SECURITY)
    @blp.arguments(CancelSchema())
    @blp.response(200, BookingSchema)
    def post(self, data, booking_id):
        """Cancel: the lawyer until the cutoff; the magistrate's side with a reason. A hold
        not yet confirmed is given back by its requester at once (its time opens again)."""
        access = booking_access(booking_id)
        released = (access.user is None and access.booking.status == "held"
                    and service.release_hold(access.booking))
        if not released:  # a hold confirmed meanwhile is cancelled as any booking is
            service.cancel(access.booking, by=access.by, reason=data.get("reason"),
                           user=access.user)
        db.session.commit()
        return booking_document(access.booking, reveal_sealed=access.user is not None)


@blp.route("/bookings/<int:booking_id>/reschedule")
class BookingReschedule(MethodView):
    @blp.doc(security=MANAGE_SECURITY)
    @blp.arguments(RescheduleSchema())
    @blp.response(200, BookingSchema)
    def post(self, data, booking_id):
        """Move to another open slot; the invite keeps its UID and its SEQUENCE rises."""
        access = booking_access(booking_id)
        service.reschedule(access.booking, data["start"], by=access.by, mode=data.get("mode"),
                           manage_token=access.lawyer_token, user=access.user)
        db.session.commit()
        return booking_document(access.booking, reveal_sealed=access.user is not None)


@blp.route("/bookings/<int:booking_id>/attendance")
class BookingAttendance(MethodView):
    @require_staff("magistrate", "assistant")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(AttendanceSchema())
    @blp.response(200, BookingSchema)
    def post(self, data, booking_id):
        """After the time: the lawyer attended, or did not come."""
        booking = acted_on(db.session.get(Booking, booking_id), current_api_user(),
                           "Agendamento não encontrado.")
        service.mark_attendance(booking, data["status"], user=current_api_user())
        db.session.commit()
        return booking_document(booking, reveal_sealed=True)


@blp.route("/bookings/<int:booking_id>/invite.ics")
class BookingInvite(MethodView):
    @blp.doc(security=MANAGE_SECURITY, responses={"200": {
        "description": "O convite atual (iCalendar).",
        "content": {"text/calendar": {"schema": {"type": "string"}}}}})
    def get(self, booking_id):
        """The current invite as an .ics file (CANCEL once cancelled)."""
        access = booking_access(booking_id)
        audit.record_read(access.user, "booking", [booking_id])  # staff only; None for lawyers
        return messages.invite_response(access.booking)


@blp.route("/magistrates/<int:magistrate_id>/bookings")
class MagistrateBookings(MethodView):
    @require_staff("magistrate", "assistant")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(BookingQuerySchema(), location="query")
    @blp.response(200, BookingSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, magistrate_id):
        """The magistrate's bookings in a period of local dates, by status."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None:
            abort(404, message="Magistrado não encontrado.")
        ensure_acts_for(current_api_user(), magistrate.id)
        zone = ZoneInfo(magistrate.timezone)
        first = local_instant(args["from_"], time(0), zone) if args.get("from_") else None
        last = (local_instant(args["to"] + timedelta(days=1), time(0), zone)
                if args.get("to") else None)
        statement = service.bookings_of(magistrate.id, first=first, last=last,
                                        status=args.get("status"))
        items, total = paginate(statement, args["page"], args["per_page"])
        audit.record_read(current_api_user(), "booking", [b.id for b in items])
        return with_total([booking_document(b, reveal_sealed=True) for b in items], total)


@blp.route("/magistrates/<int:magistrate_id>/urgent-requests")
class UrgentRequests(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["URGENT_RATE_LIMIT"],
                                methods=["POST"])]

    @blp.arguments(UrgentRequestInSchema())
    @blp.response(201, UrgentRequestSchema)
    @blp.alt_response(429, description=RATE_LIMITED)
    def post(self, data, magistrate_id):
        """Ask to be heard sooner than the first open slot; the office is told at once."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None or not magistrate.takes_bookings:
            abort(404, message="Magistrado não encontrado.")
        request_row = urgent.create(magistrate, data)
        db.session.commit()
        return request_row

    @require_staff("magistrate", "assistant")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(UrgentQuerySchema(), location="query")
    @blp.response(200, UrgentRequestSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args, magistrate_id):
        """The magistrate's urgent requests, open ones first, then the newest, a page at a
        time (they stay, anonymized, after the retention period)."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None:
            abort(404, message="Magistrado não encontrado.")
        ensure_acts_for(current_api_user(), magistrate.id)
        rows, total = paginate(urgent.of_magistrate(magistrate.id, args.get("status")),
                               args["page"], args["per_page"])
        audit.record_read(current_api_user(), "urgent_request", [r.id for r in rows])
        return with_total(rows, total)


@blp.route("/urgent-requests/<int:request_id>/answer")
class UrgentAnswer(MethodView):
    @require_staff("magistrate", "assistant")
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(UrgentAnswerSchema())
    @blp.response(200, UrgentRequestSchema)
    def post(self, data, request_id):
        """Answer an urgent request; who asked receives the answer by e-mail."""
        row = acted_on(db.session.get(UrgentRequest, request_id), current_api_user(),
                       "Pedido não encontrado.")
        urgent.answer(row, data["answer"], current_api_user())
        db.session.commit()
        return row


@blp.route("/magistrates/<int:magistrate_id>/calendar.ics")
class MagistrateFeed(MethodView):
    @blp.arguments(FeedQuerySchema(), location="query")
    @blp.doc(responses={"200": {"description": "Calendário iCalendar dos atendimentos.",
                                "content": {"text/calendar": {"schema": {"type": "string"}}}}})
    def get(self, args, magistrate_id):
        """A feed of the magistrate's bookings for calendar apps (token in the URL)."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None or not magistrate.feed_token_hash or \
                not tokens_match(args["token"], magistrate.feed_token_hash):
            abort(404, message="Calendário não encontrado.")
        response = current_app.response_class(messages.magistrate_feed(magistrate))
        response.headers["Content-Type"] = "text/calendar; charset=utf-8"
        response.headers["Cache-Control"] = "private, max-age=300"
        return response


@blp.route("/magistrates/<int:magistrate_id>/calendar-token")
class MagistrateFeedToken(MethodView):
    @require_staff("magistrate", "assistant")
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(201, FeedTokenSchema)
    def post(self, magistrate_id):
        """Create or rotate the feed token; the previous feed URL stops working."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None:
            abort(404, message="Magistrado não encontrado.")
        ensure_acts_for(current_api_user(), magistrate.id)
        token = courts.rotate_feed_token(magistrate, current_api_user())
        db.session.commit()
        return {"token": token, "url": external_url(
            "bookings.MagistrateFeed", magistrate_id=magistrate.id, token=token)}


@blp.route("/magistrates/<int:magistrate_id>/waitlist")
class Waitlist(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])]

    @blp.arguments(WaitlistJoinSchema())
    @blp.response(202, WaitlistEntrySchema, description="Na lista, aguardando o código enviado "
                                                      "ao e-mail (confirme em confirm_url).")
    @blp.alt_response(404, description="Magistrado não encontrado.")
    @blp.alt_response(409, description="Este e-mail já aguarda em listas demais.")
    @blp.alt_response(429, description=RATE_LIMITED)
    def post(self, data, magistrate_id):
        """Wait for a time with this magistrate between two days: each time that opens in
        the range is e-mailed, in the order people joined, once the code confirms the
        address."""
        magistrate = courts.get_magistrate(magistrate_id)
        if magistrate is None or not magistrate.takes_bookings:
            abort(404, message="Magistrado não encontrado.")
        entry, token = waitlist.join(magistrate, data)
        db.session.commit()
        return {"id": entry.id, "magistrate_id": magistrate.id, "first_day": entry.first_day,
                "last_day": entry.last_day, "status": entry.status, "manage_token": token,
                "confirm_url": url_for("bookings.WaitlistConfirm", entry_id=entry.id)}


def _waitlist_token() -> str | None:
    return bearer_token() or request.args.get("token")


def _waitlist_entry_or_404(entry_id: int):
    token = _waitlist_token()
    entry = waitlist.entry_for_token(entry_id, token) if token else None
    if entry is None:
        abort(404, message="Inscrição não encontrada.")
    return entry


@blp.route("/waitlist/<int:entry_id>/confirm")
class WaitlistConfirm(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])]

    @blp.doc(security=[{"manageToken": []}])
    @blp.arguments(ConfirmSchema())
    @blp.response(200, WaitlistEntrySchema)
    @blp.alt_response(404, description="Inscrição não encontrada para este token.")
    @blp.alt_response(409, description="A reserva expirou ou errou-se o código vezes demais.")
    @blp.alt_response(422, description="Código incorreto.")
    @blp.alt_response(429, description=RATE_LIMITED)
    def post(self, data, entry_id):
        """Confirm the entry with the e-mailed code (and its manage token)."""
        entry = _waitlist_entry_or_404(entry_id)
        outcome = waitlist.confirm(entry, data["code"])
        db.session.commit()
        if outcome == "wrong_code":
            abort(422, errors={"code": [
                f"Código incorreto. Restam {service.remaining_tries(entry)} tentativa(s)."]})
        if outcome in ("hold_expired", "too_many_tries"):
            raise NotAllowedNow("A inscrição expirou; entre na lista de novo.", outcome)
        return entry


@blp.route("/waitlist/<int:entry_id>/new-code")
class WaitlistNewCode(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])]

    @blp.doc(security=[{"manageToken": []}])
    @blp.response(202, NewCodeSchema, description="Um novo código foi enviado ao e-mail da "
                  "inscrição; o anterior deixou de valer. O limite e as tentativas seguem.")
    @blp.alt_response(404, description="Inscrição não encontrada para este token.")
    @blp.alt_response(409, description="A inscrição expirou (hold_expired), já foi confirmada "
                                       "(already_confirmed) ou já recebeu códigos demais "
                                       "(too_many_codes).")
    @blp.alt_response(429, description="Um código acabou de ser enviado (code_just_sent; "
                                       "Retry-After diz quando pedir outro). Ou: "
                                       + RATE_LIMITED)
    def post(self, entry_id):
        """The entry's code did not arrive: send a new one, as for a booking's hold."""
        entry = _waitlist_entry_or_404(entry_id)
        outcome = _new_code_or_refusal(lambda: waitlist.send_new_code(entry, _waitlist_token()))
        if outcome == "hold_expired":
            raise NotAllowedNow("A inscrição expirou; entre na lista de novo.", outcome)
        if outcome == "already_confirmed":
            raise NotAllowedNow("A inscrição já foi confirmada: não precisa de código.", outcome)
        return {"hold_expires_at": entry.hold_expires_at,
                "new_codes_left": service.new_codes_left(entry.codes_sent)}


def _new_code_or_refusal(send) -> str:
    """Commits what `send` did and answers its outcome; its refusals as problems (a code
    sent moments ago: 429 with Retry-After)."""
    try:
        outcome = send()
    except service.CodeTooSoon as error:
        db.session.rollback()
        abort(429, message=str(error), code=error.code,
              headers={"Retry-After": str(error.seconds)})
    except NotAllowedNow:
        db.session.rollback()
        raise
    db.session.commit()  # an expired hold was released on the way
    return outcome


@blp.route("/waitlist/<int:entry_id>")
class WaitlistEntryById(MethodView):
    @blp.doc(security=[{"manageToken": []}])
    @blp.response(204)
    @blp.alt_response(404, description="Inscrição não encontrada para este token.")
    def delete(self, entry_id):
        """Leave the waitlist."""
        waitlist.leave(_waitlist_entry_or_404(entry_id))
        db.session.commit()
