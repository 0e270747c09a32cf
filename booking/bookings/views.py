"""The lawyer's pages (book, confirm, manage, cancel, reschedule) and the magistrate's
day and week of bookings. Pages call the same service and schemas as the API.

CSRF is checked for every POST by Flask-WTF's CSRFProtect before a view runs;
the service's refusals (InvalidField, NotAllowedNow) are shown beside the field
or at the top of the form (`form_errors`).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_smorest import abort
from marshmallow import ValidationError

from .. import metrics, requesters
from ..accounts.auth import acted_on, login_required_page, managed_magistrate
from ..audit import service as audit
from ..availability import questions, weeks
from ..availability import service as availability
from ..availability.slots import local_instant
from ..clock import local_now, local_today
from ..courts import service as courts
from ..courts.views import bookable_magistrate_or_404
from ..database import utcnow
from ..domain import DomainError, InvalidField, NotAllowedNow
from ..errors import flatten_errors, form_errors
from ..extensions import db, limiter
from ..fields import OUT_OF_RANGE, plausible, plausible_instant
from ..formatting import phone_label, zone_label
from ..notifications import text_gateway
from ..pagination import page_number, paginate
from ..security import seal, unseal
from . import conflicts, links, messages, service, urgent, waitlist
from .models import HOLD_EXPIRED, Booking, UrgentRequest
from .schemas import (
    BookingRequestSchema,
    CancelSchema,
    LinksRequestSchema,
    UrgentAnswerSchema,
    UrgentRequestInSchema,
    WaitlistJoinSchema,
)

blp = Blueprint("bookings_pages", __name__)


@blp.after_request
def count_booking_requests(response):
    """Booking outcomes for /metrics, as on the API."""
    if request.method == "POST" and request.endpoint == "bookings_pages.book_page":
        metrics.count_booking_answer(response, success="held")
    elif request.method == "POST" and request.endpoint == "bookings_pages.confirm_hold":
        metrics.count_booking_answer(response, success="confirmed")
    return response


# The requester's fields as the booking and urgent forms name them.
LAWYER_FIELDS = ("name", "oab", "email", "phone")


def _no_referrer(response):
    """Pages whose URL carries a manage token must not leak it to other sites."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _open_slot(magistrate, start: datetime):
    day = start.astimezone(ZoneInfo(magistrate.timezone)).date()
    return next((slot for slot in availability.open_slots(magistrate, day, day)
                 if slot.start == start), None)


def _form_to_request(magistrate_id: int, form) -> dict:
    return {
        "magistrate_id": magistrate_id,
        "start": form.get("start", ""),
        "mode": form.get("mode", ""),
        **_who_asks_from_form(form),
        "case_number": form.get("case_number", "").strip(),
        "subject": form.get("subject", "").strip(),
        "under_seal": bool(form.get("under_seal")),
        "consent": bool(form.get("consent")),
        "notify_by": form.get("notify_by") or None,
        "participants": [address for address in re.split(r"[\s,;]+", form.get("participants", ""))
                         if address],
        # The magistrate's questions: fields answer-q1, answer-q2...
        "answers": {name.removeprefix("answer-"): value for name, value in form.items()
                    if name.startswith("answer-") and value.strip()},
    }


def _who_asks_from_form(form) -> dict:
    """The requester's type and person as the schemas take them (WhoAsksSchema): the form's
    fields are flat, and those a type does not use are sent empty."""
    return {"requester_type": form.get("requester_type") or "lawyer",
            "lawyer": {**{name: form.get(name, "").strip() for name in LAWYER_FIELDS},
                       **{name: form.get(name, "").strip() or None
                          for name in ("oab", "institution", "registration", "cpf")}}}


def _accepted_requesters(magistrate_id: int) -> list[str]:
    rule = availability.rule_of(magistrate_id)
    return list((rule.accepted_requesters if rule else None) or requesters.DEFAULT_ACCEPTED)


# What a blank field says, instead of the rule it broke ("3 to 200 characters").
BLANK = {"name": "Informe o nome completo.", "email": "Informe o e-mail.",
         "phone": "Informe o telefone com DDD.",
         "oab": "Informe o número da OAB com a seccional, por exemplo 12345/MT.",
         "institution": "Informe a instituição.", "registration": "Informe a matrícula funcional.",
         "cpf": "Informe o CPF.", "case_number": "Informe o número do processo.",
         "subject": "Informe o assunto do atendimento.",
         "reason": "Informe o motivo.", "first_day": "Informe o primeiro dia.",
         "last_day": "Informe o último dia."}


def _schema_errors(messages_: dict, form=None) -> dict[str, list[str]]:
    """The schema's messages keyed by the form's field names (the lawyer's are flat, and
    a participant's error goes beside the one participants field, naming the address);
    a field left blank says what to type in it."""
    errors = _keyed_errors(messages_)
    for name in errors:
        if form is not None and name in BLANK and not (form.get(name) or "").strip():
            errors[name] = [BLANK[name]]
    return errors


def _keyed_errors(messages_: dict) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for key, value in flatten_errors(messages_).items():
        if key.startswith("answers."):
            key = "answer-" + key.removeprefix("answers.")
        elif key.startswith("participants."):
            key, value = "participants", [f"{int(key.split('.')[1]) + 1}º participante: {m}"
                                          for m in value]
        errors.setdefault(key.removeprefix("lawyer."), []).extend(value)
    return errors


def _aware(value: str) -> datetime | None:
    """An instant from a form or a link; None unless it has its offset."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None and plausible_instant(moment) else None


@blp.route("/magistrados/<int:magistrate_id>/agendar", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def book_page(magistrate_id: int):
    """The short form for one open slot."""
    magistrate = bookable_magistrate_or_404(magistrate_id)
    start = _aware(request.values.get("inicio") or request.form.get("start", ""))
    if start is None:
        flash("Escolha um horário na agenda.", "error")
        return redirect(url_for("availability_pages.public_agenda", magistrate_id=magistrate.id))
    slot = _open_slot(magistrate, start)
    errors: dict[str, list[str]] = {}
    values = ((request.method == "GET" and _released_hold_values(magistrate.id, start))
              or {"mode": "video" if slot and slot.video else "in_person"})
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        body = _form_to_request(magistrate.id, request.form)
        try:
            data = BookingRequestSchema().load(body)
            remembered = _remembered_address() == data["lawyer"]["email"].lower()
            booked = service.book_slot(data, direct=remembered,
                                       client=service.client_hash(request.remote_addr))
            db.session.commit()
        except ValidationError as error:
            # The questions are checked after the form loads: named now, not on a next try.
            problems = service.answer_problems(magistrate.id, body["answers"])
            errors, status = _schema_errors({**problems, **error.messages}, request.form), 422
        except DomainError as error:
            errors, status = form_errors(error)
            errors = {key.replace("answers.", "answer-", 1): value
                      for key, value in errors.items()}
            g.booking_refusal_code = getattr(error, "code", None)
            slot = _open_slot(magistrate, start)
        else:
            # The session cookie is signed, not encrypted: the token goes in it sealed.
            session["just_booked"] = {"id": booked.booking.id,
                                      "sealed": seal(booked.manage_token)}
            done = "confirmation" if booked.booking.status == "confirmed" else "confirm_hold"
            return redirect(url_for(f"bookings_pages.{done}", booking_id=booked.booking.id))
    if slot is None and status == 200:
        flash("Este horário não está mais disponível. Escolha outro.", "error")
        return redirect(url_for("availability_pages.public_agenda", magistrate_id=magistrate.id,
                                semana=start.date().isoformat()))
    return render_template("bookings/form.html", magistrate=magistrate, start=start, slot=slot,
                           values=values, errors=errors,
                           text_channels=text_gateway.offered_channels(current_app.config),
                           accepted_requesters=_accepted_requesters(magistrate.id),
                           questions=availability.questions_of(magistrate.id),
                           zone_label=zone_label(magistrate.timezone)), status


REMEMBERED_COOKIE = "endereco_confirmado"


def _remember_address(response, email: str):
    """This browser confirmed this address: for BOOKING_REMEMBER_DAYS its next bookings
    with it skip the code (a sealed, HttpOnly cookie; 0 days: never remembered)."""
    days = current_app.config["BOOKING_REMEMBER_DAYS"]
    if days > 0:
        until = (utcnow() + timedelta(days=days)).isoformat()
        response.set_cookie(REMEMBERED_COOKIE, seal(f"{email.lower()}|{until}"),
                            max_age=days * 86400, httponly=True, samesite="Lax",
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def _remembered_address() -> str | None:
    """The address this browser confirmed recently, or None."""
    if current_app.config["BOOKING_REMEMBER_DAYS"] <= 0:
        return None
    sealed = request.cookies.get(REMEMBERED_COOKIE)
    opened = unseal(sealed) if sealed else None
    if not opened or "|" not in opened:
        return None
    email, _, until = opened.rpartition("|")
    try:
        return email if datetime.fromisoformat(until) > utcnow() else None
    except ValueError:
        return None


def _just_booked_token(booking_id: int) -> str | None:
    """The manage token this browser got when it made this booking (sealed in the session)."""
    just = session.get("just_booked") or {}
    return unseal(just["sealed"]) if just.get("id") == booking_id and just.get("sealed") \
        else None


def _released_hold_values(magistrate_id: int, start: datetime) -> dict | None:
    """The form as it was sent for a hold this browser gave back to correct it
    (release_hold_page), for ?corrigir=<its id>; None for any other booking."""
    booking_id = request.args.get("corrigir", type=int)
    token = _just_booked_token(booking_id) if booking_id else None
    booking = service.booking_for_token(booking_id, token) if token else None
    if booking is None or booking.cancelled_by != HOLD_EXPIRED or booking.lawyer_removed \
            or booking.magistrate_id != magistrate_id or booking.start_at != start:
        return None
    registration = {"lawyer": "oab", "party": "cpf"}.get(booking.requester_type, "registration")
    return {"mode": booking.mode, "requester_type": booking.requester_type,
            "name": booking.lawyer_name, registration: booking.lawyer_oab,
            "institution": booking.requester_institution or "",
            "email": booking.lawyer_email, "phone": phone_label(booking.lawyer_phone),
            "participants": "\n".join(booking.participants or []),
            "notify_by": booking.notify_by or "", "case_number": booking.case_number,
            "subject": booking.subject, "under_seal": booking.under_seal,
            "consent": True,  # given for this same request a moment ago
            **{f"answer-{question_id}": answer for question_id, answer in questions.as_typed(
                availability.questions_of(magistrate_id), booking.answers).items()}}


@blp.route("/agendamentos/recuperar-link", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def recover_links():
    """Lost the e-mail with the manage link: the links of the address's bookings still
    ahead are e-mailed again. The answer never says whether the address has any."""
    values = {"email": request.form.get("email", "").strip()[:320]}
    if request.method == "POST":
        try:
            email = LinksRequestSchema().load(values)["email"]
        except ValidationError as error:
            return render_template("bookings/recover_links.html", values=values,
                                   errors=flatten_errors(error.messages)), 422
        links.request_links(email)
        db.session.commit()
        flash(f"Se houver agendamentos futuros com {email}, os links chegam a esse e-mail em "
              "alguns minutos. Confira também a caixa de spam.", "success")
        return redirect(url_for("bookings_pages.recover_links"))
    return render_template("bookings/recover_links.html", values={}, errors={})


@blp.post("/agendamentos/<int:booking_id>/liberar")
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])
def release_hold_page(booking_id: int):
    """The requester gives the held time back to correct the form (an e-mail mistyped never
    gets its code): the time opens again at once and the form comes back as it was sent."""
    token = request.values.get("token") or _just_booked_token(booking_id)
    booking = service.booking_for_token(booking_id, token) if token else None
    if booking is None:
        abort(404)
    released = service.release_hold(booking)
    db.session.commit()
    session["just_booked"] = {"id": booking.id, "sealed": seal(token)}  # also from the e-mail
    if booking.status != "cancelled":  # confirmed meanwhile (the e-mail's link): its page
        return redirect(url_for("bookings_pages.confirm_hold", booking_id=booking.id))
    if released:  # not when it had expired, or a second press released it already
        flash("Reserva liberada. Corrija os dados e confirme de novo; se o horário ainda "
              "estiver livre, ele é seu.", "success")
    return redirect(url_for("bookings_pages.book_page", magistrate_id=booking.magistrate_id,
                            inicio=booking.start_at.isoformat(), corrigir=booking.id))


CONFIRM_PAGE_REFUSALS = {
    service.HOLD_GONE: "A reserva não está mais ativa (expirou ou foi liberada) e o horário voltou "
                       "para a agenda.",
    service.TOO_MANY_TRIES: "O código foi digitado errado vezes demais e a reserva foi liberada.",
}


@blp.route("/agendamentos/<int:booking_id>/confirmar", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def confirm_hold(booking_id: int):
    """The hold waits for the code e-mailed to the requester: typed here, or the e-mail's
    link (which brings it) and one press. GET never confirms: a mail scanner following the
    link must not."""
    token = request.values.get("token") or _just_booked_token(booking_id)
    booking = service.booking_for_token(booking_id, token) if token else None
    if booking is None:
        abort(404)
    magistrate = courts.get_magistrate(booking.magistrate_id)
    errors: dict[str, list[str]] = {}
    status, refusal = 200, None
    if booking.status != "held" and request.method == "GET":
        if booking.status == "confirmed":
            session["just_booked"] = {"id": booking.id, "sealed": seal(token)}
            return redirect(url_for("bookings_pages.confirmation", booking_id=booking.id))
        refusal, status = CONFIRM_PAGE_REFUSALS[service.HOLD_GONE], 409
    if request.method == "POST":
        try:
            outcome = service.confirm_hold(booking, request.form.get("code", ""), token)
        except DomainError as error:
            outcome, refusal = None, str(error)
        db.session.commit()  # a wrong try counts even though it is refused
        if outcome in (service.CONFIRMED, service.ALREADY_CONFIRMED):
            session["just_booked"] = {"id": booking.id, "sealed": seal(token)}
            return _remember_address(
                redirect(url_for("bookings_pages.confirmation", booking_id=booking.id)),
                booking.lawyer_email)
        if outcome == service.WRONG_CODE:
            errors = {"code": [f"Código incorreto. Restam {service.remaining_tries(booking)} "
                               "tentativa(s)."]}
            status = 422
        else:
            refusal, status = refusal or CONFIRM_PAGE_REFUSALS[outcome], 409
    return _confirm_page(booking, magistrate, token, errors=errors, refusal=refusal,
                         status=status,
                         code=request.args.get("codigo", "") if request.method == "GET" else "",
                         from_link=bool(request.args.get("token")))


def _confirm_page(booking: Booking, magistrate, token: str, *, status: int = 200,
                  errors: dict | None = None, refusal: str | None = None,
                  new_code_refusal: str | None = None, code: str = "",
                  from_link: bool = False):
    return _no_referrer(current_app.make_response((render_template(
        "bookings/confirm_hold.html", booking=booking, magistrate=magistrate, token=token,
        code=code, errors=errors or {}, refusal=refusal, new_code_refusal=new_code_refusal,
        from_link=from_link, new_codes_left=service.new_codes_left(booking.codes_sent),
        zone_label=zone_label(magistrate.timezone)), status)))


@blp.post("/agendamentos/<int:booking_id>/novo-codigo")
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"])
def new_code_page(booking_id: int):
    """The code did not arrive: a new one goes to the same address and replaces it (the hold
    keeps its time and its tries). A refusal (too soon, too many) is told beside the button."""
    token = request.values.get("token") or _just_booked_token(booking_id)
    booking = service.booking_for_token(booking_id, token) if token else None
    if booking is None:
        abort(404)
    try:
        outcome = service.send_new_code(booking, token)
    except NotAllowedNow as error:
        db.session.rollback()
        status = 429 if isinstance(error, service.CodeTooSoon) else 409
        return _confirm_page(booking, courts.get_magistrate(booking.magistrate_id), token,
                             new_code_refusal=str(error), status=status)
    db.session.commit()
    session["just_booked"] = {"id": booking.id, "sealed": seal(token)}
    if outcome == service.CODE_SENT:
        flash(f"Enviamos um novo código para {booking.lawyer_email}. Digite o mais recente: "
              "o anterior deixou de valer.", "success")
    return redirect(url_for("bookings_pages.confirm_hold", booking_id=booking.id))


@blp.get("/agendamentos/<int:booking_id>/confirmacao")
def confirmation(booking_id: int):
    token = _just_booked_token(booking_id)
    booking = service.booking_for_token(booking_id, token) if token else None
    if booking is None:
        abort(404)
    if booking.status == "held":
        return redirect(url_for("bookings_pages.confirm_hold", booking_id=booking.id))
    return _no_referrer(current_app.make_response(render_template(
        "bookings/confirmation.html", booking=booking, token=token,
        magistrate=courts.get_magistrate(booking.magistrate_id),
        manage_url=links.manage_url(booking, token))))


def _lawyer_booking(booking_id: int) -> tuple[Booking, str]:
    token = request.values.get("token", "")
    booking = service.booking_for_token(booking_id, token) if token else None
    if booking is None:
        abort(404)
    return booking, token


def _lawyer_page(template: str, booking: Booking, token: str, errors: dict, status: int,
                 **values):
    """A page behind the manage link: the booking, its magistrate, no referrer, no cache."""
    return _no_referrer(current_app.make_response((render_template(
        template, booking=booking, token=token,
        magistrate=courts.get_magistrate(booking.magistrate_id), errors=errors, **values),
        status)))


def _back_to_manage(booking: Booking, token: str, message: str):
    flash(message, "success")
    return redirect(url_for("bookings_pages.manage", booking_id=booking.id, token=token))


@blp.get("/agendamentos/<int:booking_id>")
@limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])
def manage(booking_id: int):
    """The lawyer's page behind the link: see, and go on to cancel or reschedule."""
    booking, token = _lawyer_booking(booking_id)
    return _lawyer_page("bookings/manage.html", booking, token, {}, 200)


@blp.route("/agendamentos/<int:booking_id>/cancelar", methods=["GET", "POST"])
def cancel_page(booking_id: int):
    """GET asks for confirmation (mail scanners follow links); only POST cancels."""
    booking, token = _lawyer_booking(booking_id)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        try:
            data = CancelSchema().load({"reason": request.form.get("reason", "").strip() or None})
            service.cancel(booking, by="lawyer", reason=data["reason"])
            db.session.commit()
        except ValidationError as error:
            errors, status = _schema_errors(error.messages, request.form), 422
        except DomainError as error:
            errors, status = form_errors(error)
        else:
            return _back_to_manage(booking, token, "Atendimento cancelado. Todos os envolvidos "
                                                   "serão avisados por e-mail.")
    return _lawyer_page("bookings/cancel.html", booking, token, errors, status)


@blp.route("/agendamentos/<int:booking_id>/remarcar", methods=["GET", "POST"])
def reschedule_page(booking_id: int):
    """Choose another open time of the same magistrate."""
    booking, token = _lawyer_booking(booking_id)
    magistrate = courts.get_magistrate(booking.magistrate_id, with_unit=True)
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        new_start = _aware(request.form.get("start", ""))
        try:
            if new_start is None:
                errors, status = {"start": ["Escolha um dos horários da lista."]}, 422
            else:
                service.reschedule(booking, new_start, by="lawyer", manage_token=token)
                db.session.commit()
                return _back_to_manage(booking, token,
                                       "Atendimento remarcado. Um convite atualizado foi enviado.")
        except DomainError as error:
            errors, status = form_errors(error)
    # The agenda's week view, over the whole booking horizon (its week links keep the token).
    week = weeks.open_week(magistrate, weeks.asked_week(request.values.get("semana")), utcnow())
    return _lawyer_page("bookings/reschedule.html", booking, token, errors, status, week=week,
                        zone_label=zone_label(magistrate.timezone))


@blp.get("/agendamentos/<int:booking_id>/meus-dados")
def data_download(booking_id: int):
    """The lawyer's copy of every piece of data held on the booking (LGPD)."""
    booking, _ = _lawyer_booking(booking_id)
    response = current_app.json.response(service.booking_data(booking))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="agendamento-{booking_id}-dados.json"')
    return _no_referrer(response)


@blp.get("/agendamentos/<int:booking_id>/convite.ics")
def invite_download(booking_id: int):
    booking, _ = _lawyer_booking(booking_id)
    return _no_referrer(messages.invite_response(booking))


# --- the magistrate's side ----------------------------------------------------------


@blp.get("/equipe/magistrados/<int:magistrate_id>/atendimentos")
@login_required_page("magistrate", "assistant")
def day_view(magistrate_id: int):
    """A day (or, with visao=semana, a week) of the magistrate's bookings."""
    magistrate = managed_magistrate(magistrate_id)
    try:
        day = date.fromisoformat(request.args.get("dia", ""))
    except ValueError:
        day = local_today(magistrate.timezone)
    if not plausible(day):
        abort(400, message=OUT_OF_RANGE)
    return _day_page(magistrate, day, week=request.args.get("visao") == "semana")


def _day_page(magistrate, day: date, *, week: bool = False,
              errors: dict[str, list[str]] | None = None, typed: dict[str, str] | None = None):
    """The day's (or week's) bookings; `errors` and `typed`: a refused action's messages
    and what was typed, keyed by the field's id (reason-12), shown beside that field."""
    zone = ZoneInfo(magistrate.timezone)
    first = day - timedelta(days=day.weekday()) if week else day
    last = first + timedelta(days=6 if week else 0)
    bookings = db.session.scalars(service.bookings_of(
        magistrate.id, first=local_instant(first, time(0), zone),
        last=local_instant(last + timedelta(days=1), time(0), zone))).all()
    step = timedelta(days=7 if week else 1)
    audit.record_read(current_user, "booking", [b.id for b in bookings])
    return render_template(
        "bookings/day.html", magistrate=magistrate, bookings=bookings, day=day, first=first,
        last=last, week=week, previous=first - step, following=first + step,
        now=local_now(magistrate.timezone), zone=magistrate.timezone,
        zone_label=zone_label(magistrate.timezone), rule=availability.rule_of(magistrate.id),
        errors=errors or {}, typed=typed or {})


def _staff_booking(booking_id: int) -> Booking:
    return acted_on(db.session.get(Booking, booking_id), current_user)


def _local_day(booking: Booking, magistrate) -> date:
    return booking.start_at.astimezone(ZoneInfo(magistrate.timezone)).date()


def _back_to_day(booking: Booking):
    magistrate = courts.get_magistrate(booking.magistrate_id)
    return redirect(url_for("bookings_pages.day_view", magistrate_id=booking.magistrate_id,
                            dia=_local_day(booking, magistrate).isoformat()))


def _flash_refusal(error: ValidationError | InvalidField | NotAllowedNow) -> None:
    """A staff action from a list page refused for the row's state (already cancelled,
    already answered) or for a field the page has not: the reason, flashed above the list."""
    db.session.rollback()
    texts = (flatten_errors(error.messages).values() if isinstance(error, ValidationError)
             else [[str(error)]])
    flash(" ".join(text for group in texts for text in group), "error")


def _errors_beside(error: ValidationError | InvalidField | NotAllowedNow, row_id: int,
                   shown: tuple[str, ...]) -> dict[str, list[str]] | None:
    """A refusal of what was typed in the `shown` fields, keyed by the field's id on a list
    page of many forms (reason-12); None for one about the row itself or a field the page
    has not (a forged button), which goes above the list."""
    if isinstance(error, ValidationError):
        messages_ = flatten_errors(error.messages)
    elif isinstance(error, InvalidField):
        messages_ = error.errors
    else:
        return None
    if not set(messages_) <= set(shown):
        return None
    db.session.rollback()
    return {f"{field}-{row_id}": texts for field, texts in messages_.items()}


CONFIRM_MISSING = "Marque a confirmação para cancelar o atendimento; nada foi alterado."


@blp.post("/equipe/atendimentos/<int:booking_id>/cancelar")
@login_required_page("magistrate", "assistant")
def staff_cancel(booking_id: int):
    booking = _staff_booking(booking_id)
    typed = request.form.get("reason", "")
    try:
        service.ensure_cancellable(booking, by="court")
        if not request.form.get("confirm"):
            raise InvalidField(CONFIRM_MISSING, "confirm")
        data = CancelSchema().load({"reason": typed.strip() or None})
        service.cancel(booking, by="court", reason=data["reason"], user=current_user)
        db.session.commit()
    except (ValidationError, *DomainError) as error:
        errors = _errors_beside(error, booking.id, shown=("reason", "confirm"))
        if errors is None:
            _flash_refusal(error)
            return _back_to_day(booking)
        magistrate = courts.get_magistrate(booking.magistrate_id)
        return _day_page(magistrate, _local_day(booking, magistrate), errors=errors,
                         typed={f"reason-{booking.id}": typed}), 422
    flash("Atendimento cancelado; o advogado receberá o motivo por e-mail.", "success")
    return _back_to_day(booking)


@blp.post("/equipe/atendimentos/<int:booking_id>/comparecimento")
@login_required_page("magistrate", "assistant")
def staff_attendance(booking_id: int):
    booking = _staff_booking(booking_id)
    try:
        service.mark_attendance(booking, request.form.get("status", ""), user=current_user)
        db.session.commit()
    except DomainError as error:
        _flash_refusal(error)
    else:
        flash("Registrado: atendimento realizado." if booking.status == "attended"
              else "Registrado: não compareceu.", "success")
    return _back_to_day(booking)


@blp.get("/equipe/magistrados/<int:magistrate_id>/conflitos")
@login_required_page("magistrate", "assistant")
def conflicts_page(magistrate_id: int):
    """Bookings a court change now covers: keep, cancel, or ask the lawyer for another time."""
    return _conflicts_page(managed_magistrate(magistrate_id))


def _conflicts_page(magistrate, errors: dict[str, list[str]] | None = None,
                    typed: dict[str, str] | None = None):
    bookings = conflicts.conflicts_of(magistrate.id)
    audit.record_read(current_user, "booking", [b.id for b in bookings])
    return render_template("bookings/conflicts.html", magistrate=magistrate, bookings=bookings,
                           zone=magistrate.timezone, zone_label=zone_label(magistrate.timezone),
                           errors=errors or {}, typed=typed or {})


CONFLICT_DONE = {"keep": "Agendamento mantido.",
                 "cancel": "Agendamento cancelado; o advogado receberá o motivo por e-mail.",
                 "ask": "O advogado recebeu um link para escolher outro horário."}


@blp.post("/equipe/atendimentos/<int:booking_id>/conflito")
@login_required_page("magistrate", "assistant")
def conflict_decision(booking_id: int):
    booking = _staff_booking(booking_id)
    action = request.form.get("action", "")
    typed = request.form.get("reason", "")
    try:
        reason = None
        if action == "cancel":  # the reason goes to the lawyer only when cancelling
            conflicts.require_conflict(booking)
            reason = CancelSchema().load({"reason": typed.strip() or None})["reason"]
        conflicts.decide(booking, action, current_user, reason=reason)
        db.session.commit()
    except (ValidationError, *DomainError) as error:
        errors = _errors_beside(error, booking.id, shown=("reason",))
        if errors is not None:
            return _conflicts_page(courts.get_magistrate(booking.magistrate_id), errors,
                                   typed={f"reason-{booking.id}": typed}), 422
        _flash_refusal(error)
    else:
        flash(CONFLICT_DONE[action], "success")
    return redirect(url_for("bookings_pages.conflicts_page", magistrate_id=booking.magistrate_id))


# --- urgent requests ----------------------------------------------------------------

@blp.route("/magistrados/<int:magistrate_id>/pedido-urgente", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["URGENT_RATE_LIMIT"], methods=["POST"])
def urgent_page(magistrate_id: int):
    """For someone who cannot wait for the first open slot (whoever the agenda accepts)."""
    magistrate = bookable_magistrate_or_404(magistrate_id)
    errors: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {}
    status = 200
    if request.method == "POST":
        raw = {**_who_asks_from_form(request.form),
               "case_number": request.form.get("case_number", "").strip(),
               "reason": request.form.get("reason", "").strip(),
               "under_seal": bool(request.form.get("under_seal")),
               "consent": bool(request.form.get("consent"))}
        try:
            urgent.create(magistrate, UrgentRequestInSchema().load(raw))
            db.session.commit()
        except ValidationError as error:
            errors, status = _schema_errors(error.messages, request.form), 422
        except DomainError as error:
            errors, status = form_errors(error)
        else:
            flash("Pedido urgente enviado ao gabinete. A resposta chegará por e-mail.", "success")
            return redirect(url_for("availability_pages.public_agenda",
                                    magistrate_id=magistrate.id))
    return render_template("bookings/urgent_form.html", magistrate=magistrate, values=values,
                           errors=errors,
                           accepted_requesters=_accepted_requesters(magistrate.id)), status


# --- the waitlist ---------------------------------------------------------------------

@blp.route("/magistrados/<int:magistrate_id>/lista-de-espera", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def waitlist_page(magistrate_id: int):
    """No open time suits: wait for one between two days (confirmed by an e-mailed code)."""
    magistrate = bookable_magistrate_or_404(magistrate_id)
    errors: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {}
    status = 200
    if request.method == "POST":
        raw = {"name": values.get("name", "").strip(), "email": values.get("email", "").strip(),
               "first_day": values.get("first_day", ""), "last_day": values.get("last_day", ""),
               "consent": bool(values.get("consent"))}
        try:
            entry, token = waitlist.join(magistrate, WaitlistJoinSchema().load(raw))
            db.session.commit()
        except ValidationError as error:
            errors, status = _schema_errors(error.messages, request.form), 422
        except DomainError as error:
            errors, status = form_errors(error)
        else:
            return redirect(url_for("bookings_pages.waitlist_entry", entry_id=entry.id,
                                    token=token))
    return render_template("bookings/waitlist_form.html", magistrate=magistrate,
                           values=values, errors=errors), status


@blp.route("/lista-de-espera/<int:entry_id>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def waitlist_entry(entry_id: int):
    """One entry, by its link: type the code, see its state, or leave the list."""
    token = request.values.get("token", "")
    entry = waitlist.entry_for_token(entry_id, token)
    if entry is None:
        abort(404)
    errors: dict[str, list[str]] = {}
    status, new_code_refusal = 200, None
    if request.method == "POST":
        if request.form.get("action") == "leave":
            waitlist.leave(entry)
            db.session.commit()
            flash("Você saiu da lista de espera.", "success")
        elif request.form.get("action") == "new_code":
            try:
                if waitlist.send_new_code(entry, token) == "code_sent":
                    flash(f"Enviamos um novo código para {entry.email}. Digite o mais recente: "
                          "o anterior deixou de valer.", "success")
                db.session.commit()
            except NotAllowedNow as error:
                db.session.rollback()
                new_code_refusal = str(error)
                status = 429 if isinstance(error, service.CodeTooSoon) else 409
        else:
            outcome = waitlist.confirm(entry, request.form.get("code", ""))
            db.session.commit()
            if outcome == "wrong_code":
                errors, status = {"code": [f"Código incorreto. Restam "
                                           f"{service.remaining_tries(entry)} tentativa(s)."]}, 422
            elif outcome == "confirmed":
                flash("Pronto: você será avisado(a) por e-mail quando abrir um horário.",
                      "success")
    return _no_referrer(current_app.make_response((render_template(
        "bookings/waitlist_entry.html", entry=entry, token=token, errors=errors,
        new_code_refusal=new_code_refusal,
        new_codes_left=service.new_codes_left(entry.codes_sent),
        magistrate=courts.get_magistrate(entry.magistrate_id, with_unit=True)), status)))


URGENT_PER_PAGE = 25


@blp.get("/equipe/magistrados/<int:magistrate_id>/pedidos-urgentes")
@login_required_page("magistrate", "assistant")
def urgent_list(magistrate_id: int):
    """The magistrate's urgent requests, those waiting first, a page at a time: they stay
    (anonymized after the retention period) and add up over the years."""
    return _urgent_list(managed_magistrate(magistrate_id))


def _urgent_list(magistrate, errors: dict[str, list[str]] | None = None,
                 typed: dict[str, str] | None = None):
    page = page_number()
    requests_, total = paginate(urgent.of_magistrate(magistrate.id), page, URGENT_PER_PAGE)
    audit.record_read(current_user, "urgent_request", [r.id for r in requests_])
    return render_template("bookings/urgent_list.html", magistrate=magistrate,
                           requests=requests_, zone=magistrate.timezone, now=utcnow(),
                           page=page, total=total, per_page=URGENT_PER_PAGE,
                           errors=errors or {}, typed=typed or {})


@blp.post("/equipe/pedidos-urgentes/<int:request_id>/responder")
@login_required_page("magistrate", "assistant")
def urgent_answer(request_id: int):
    """Answer one request; a refused answer comes back beside its box, on the page of the
    list it was typed on (`?pagina=` of the form's address), with what was typed."""
    row = acted_on(db.session.get(UrgentRequest, request_id), current_user)
    typed = request.form.get("answer", "")
    try:
        urgent.ensure_open(row)
        data = UrgentAnswerSchema().load({"answer": typed.strip()})
        urgent.answer(row, data["answer"], current_user)
        db.session.commit()
    except (ValidationError, *DomainError) as error:
        errors = _errors_beside(error, row.id, shown=("answer",))
        if errors is not None:
            return _urgent_list(courts.get_magistrate(row.magistrate_id), errors,
                                typed={f"answer-{row.id}": typed}), 422
        _flash_refusal(error)
    else:
        flash(f"Resposta enviada por e-mail a {row.lawyer_name}.", "success")
    return redirect(url_for("bookings_pages.urgent_list", magistrate_id=row.magistrate_id))
