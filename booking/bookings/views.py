"""The lawyer's pages (book, confirm, manage, cancel, reschedule) and the magistrate's
day and week of bookings. Pages call the same service and schemas as the API."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf import FlaskForm
from marshmallow import ValidationError

from ..accounts.auth import login_required_page, managed_magistrate
from ..audit import service as audit
from ..availability import service as availability
from ..availability.slots import local_instant
from ..courts import service as courts
from ..errors import flatten_errors
from ..extensions import db, limiter
from ..formatting import zone_label
from ..invites import service as invites
from ..privacy import service as privacy
from . import service, urgent
from .models import Booking, UrgentRequest
from .schemas import BookingRequestSchema, UrgentRequestInSchema

blp = Blueprint("booking_pages", __name__)

LAWYER_FIELDS = ("name", "oab", "email", "phone")


def _no_referrer(response):
    """Pages whose URL carries a manage token must not leak it to other sites."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def _open_slot(magistrate, start: datetime):
    rows = availability.open_slots(magistrate, start.astimezone(ZoneInfo(magistrate.timezone)).date(),
                                   start.astimezone(ZoneInfo(magistrate.timezone)).date())
    for row in rows:
        if row[0] == start:
            return row
    return None


def _form_to_request(magistrate_id: int, form) -> dict:
    return {
        "magistrate_id": magistrate_id,
        "start": form.get("start", ""),
        "mode": form.get("mode", ""),
        "lawyer": {name: form.get(name, "").strip() for name in LAWYER_FIELDS},
        "case_number": form.get("case_number", "").strip(),
        "subject": form.get("subject", "").strip(),
        "under_seal": bool(form.get("under_seal")),
        "consent": bool(form.get("consent")),
    }


def _form_errors(messages) -> dict[str, list[str]]:
    return {key.removeprefix("lawyer."): value for key, value in flatten_errors(messages).items()}


@blp.route("/magistrados/<int:magistrate_id>/agendar", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["BOOKING_RATE_LIMIT"], methods=["POST"])
def book_page(magistrate_id: int):
    """The short form for one open slot."""
    magistrate = courts.get_magistrate(magistrate_id)
    if magistrate is None or not magistrate.publishes_agenda:
        abort(404)
    raw_start = request.values.get("inicio") or request.form.get("start", "")
    try:
        start = datetime.fromisoformat(raw_start)
        if start.tzinfo is None:
            raise ValueError
    except ValueError:
        flash("Escolha um horário na agenda.", "error")
        return redirect(url_for("agenda.public_agenda", magistrate_id=magistrate.id))
    slot = _open_slot(magistrate, start)
    errors: dict[str, list[str]] = {}
    values = {"mode": "video" if slot and slot[2] else "in_person"}
    status = 200
    if request.method == "POST":
        values = request.form.to_dict()
        if not FlaskForm().validate_on_submit():
            errors["_schema"] = ["O formulário expirou. Envie de novo."]
            status = 400
        else:
            try:
                data = BookingRequestSchema().load(_form_to_request(magistrate.id, request.form))
                booked = service.book_slot(data)
                db.session.commit()
            except ValidationError as error:
                errors, status = _form_errors(error.messages), 422
            except service.BookingInvalid as error:
                db.session.rollback()
                errors, status = {error.field.removeprefix("lawyer."): [str(error)]}, 422
            except service.BookingConflict as error:
                db.session.rollback()
                errors, status = {"_schema": [str(error)]}, 409
                slot = _open_slot(magistrate, start)
            else:
                session["just_booked"] = {"id": booked.booking.id, "token": booked.manage_token}
                return redirect(url_for("booking_pages.confirmation", booking_id=booked.booking.id))
    if slot is None and status == 200:
        flash("Este horário não está mais disponível. Escolha outro.", "error")
        return redirect(url_for("agenda.public_agenda", magistrate_id=magistrate.id,
                                semana=start.date().isoformat()))
    return render_template("bookings/form.html", magistrate=magistrate, start=start, slot=slot,
                           values=values, errors=errors,
                           zone_label=zone_label(magistrate.timezone)), status


@blp.get("/agendamentos/<int:booking_id>/confirmacao")
def confirmation(booking_id: int):
    just = session.get("just_booked") or {}
    if just.get("id") != booking_id:
        abort(404)
    booking = service.booking_for_token(booking_id, just["token"])
    if booking is None:
        abort(404)
    return _no_referrer(current_app.make_response(render_template(
        "bookings/confirmation.html", booking=booking, token=just["token"],
        magistrate=courts.get_magistrate(booking.magistrate_id),
        manage_url=invites.manage_url(booking, just["token"]))))


def _lawyer_booking(booking_id: int) -> tuple[Booking, str]:
    token = request.values.get("token", "")
    booking = service.booking_for_token(booking_id, token) if token else None
    if booking is None:
        abort(404)
    return booking, token


@blp.get("/agendamentos/<int:booking_id>")
@limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])
def manage(booking_id: int):
    """The lawyer's page behind the link: see, and go on to cancel or reschedule."""
    booking, token = _lawyer_booking(booking_id)
    return _no_referrer(current_app.make_response(render_template(
        "bookings/manage.html", booking=booking, token=token,
        magistrate=courts.get_magistrate(booking.magistrate_id))))


@blp.route("/agendamentos/<int:booking_id>/cancelar", methods=["GET", "POST"])
def cancel_page(booking_id: int):
    """GET asks for confirmation (mail scanners follow links); only POST cancels."""
    booking, token = _lawyer_booking(booking_id)
    magistrate = courts.get_magistrate(booking.magistrate_id)
    error = None
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        try:
            service.cancel(booking, by="lawyer", reason=request.form.get("reason", "")[:500])
            db.session.commit()
        except service.BookingConflict as conflict:
            db.session.rollback()
            error = str(conflict)
        else:
            flash("Atendimento cancelado. Todos os envolvidos serão avisados por e-mail.", "success")
            return redirect(url_for("booking_pages.manage", booking_id=booking.id, token=token))
    return _no_referrer(current_app.make_response((render_template(
        "bookings/cancel.html", booking=booking, token=token, magistrate=magistrate,
        error=error), 409 if error else 200)))


@blp.route("/agendamentos/<int:booking_id>/remarcar", methods=["GET", "POST"])
def reschedule_page(booking_id: int):
    """Choose another open time of the same magistrate."""
    booking, token = _lawyer_booking(booking_id)
    magistrate = courts.get_magistrate(booking.magistrate_id)
    error = None
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        try:
            new_start = datetime.fromisoformat(request.form.get("start", ""))
            if new_start.tzinfo is None:
                raise ValueError
        except ValueError:
            error = "Escolha um dos horários da lista."
        else:
            try:
                service.reschedule(booking, new_start, by="lawyer", manage_token=token)
                db.session.commit()
            except (service.BookingConflict, service.BookingInvalid) as failure:
                db.session.rollback()
                error = str(failure)
            else:
                flash("Atendimento remarcado. Um convite atualizado foi enviado.", "success")
                return redirect(url_for("booking_pages.manage", booking_id=booking.id,
                                        token=token))
    zone = ZoneInfo(magistrate.timezone)
    today = datetime.now(zone).date()
    rows = availability.open_slots(magistrate, today, today + timedelta(days=27))
    days: dict[date, list] = {}
    for start, _end, video, in_person in rows:
        days.setdefault(start.astimezone(zone).date(), []).append(
            {"start": start, "label": start.astimezone(zone).strftime("%H:%M"),
             "modes": [m for m, on in (("video", video), ("in_person", in_person)) if on]})
    return _no_referrer(current_app.make_response((render_template(
        "bookings/reschedule.html", booking=booking, token=token, magistrate=magistrate,
        days=days, error=error, zone_label=zone_label(magistrate.timezone)),
        409 if error else 200)))


@blp.get("/agendamentos/<int:booking_id>/meus-dados")
def data_download(booking_id: int):
    """The lawyer's copy of every piece of data held on the booking (LGPD)."""
    booking, _ = _lawyer_booking(booking_id)
    response = current_app.json.response(privacy.booking_data(booking))
    response.headers["Content-Disposition"] = (
        f'attachment; filename="agendamento-{booking_id}-dados.json"')
    return _no_referrer(response)


@blp.get("/agendamentos/<int:booking_id>/convite.ics")
def invite_download(booking_id: int):
    booking, _ = _lawyer_booking(booking_id)
    magistrate = courts.get_magistrate(booking.magistrate_id)
    method = "CANCEL" if booking.status == "cancelled" else "REQUEST"
    response = current_app.response_class(invites.invite_for(booking, magistrate, method=method))
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = 'attachment; filename="invite.ics"'
    return _no_referrer(response)


# --- the magistrate's side ----------------------------------------------------------


@blp.get("/equipe/magistrados/<int:magistrate_id>/atendimentos")
@login_required_page("magistrate", "assistant")
def day_view(magistrate_id: int):
    """A day (or, with visao=semana, a week) of the magistrate's bookings."""
    magistrate = managed_magistrate(magistrate_id)
    zone = ZoneInfo(magistrate.timezone)
    try:
        day = date.fromisoformat(request.args.get("dia", ""))
    except ValueError:
        day = datetime.now(zone).date()
    week = request.args.get("visao") == "semana"
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
        now=datetime.now(zone), zone=magistrate.timezone, zone_label=zone_label(magistrate.timezone),
        rule=availability.rule_of(magistrate.id))


def _staff_booking(booking_id: int) -> Booking:
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        abort(404)
    if not current_user.acts_for(booking.magistrate_id):
        abort(403)
    return booking


def _back_to_day(booking: Booking):
    day = booking.start_at.astimezone(ZoneInfo(courts.get_magistrate(booking.magistrate_id).timezone)).date()
    return redirect(url_for("booking_pages.day_view", magistrate_id=booking.magistrate_id,
                            dia=day.isoformat()))


@blp.post("/equipe/atendimentos/<int:booking_id>/cancelar")
@login_required_page("magistrate", "assistant")
def staff_cancel(booking_id: int):
    booking = _staff_booking(booking_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        service.cancel(booking, by="court", reason=request.form.get("reason", "")[:500],
                       user=current_user)
        db.session.commit()
        flash("Atendimento cancelado; o advogado receberá o motivo por e-mail.", "success")
    except (service.BookingConflict, service.BookingInvalid) as error:
        db.session.rollback()
        flash(str(error), "error")
    return _back_to_day(booking)


@blp.post("/equipe/atendimentos/<int:booking_id>/comparecimento")
@login_required_page("magistrate", "assistant")
def staff_attendance(booking_id: int):
    booking = _staff_booking(booking_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        service.mark_attendance(booking, request.form.get("status", ""), user=current_user)
        db.session.commit()
        flash("Comparecimento registrado.", "success")
    except (service.BookingConflict, service.BookingInvalid) as error:
        db.session.rollback()
        flash(str(error), "error")
    return _back_to_day(booking)


# --- urgent requests ----------------------------------------------------------------

@blp.route("/magistrados/<int:magistrate_id>/pedido-urgente", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["URGENT_RATE_LIMIT"], methods=["POST"])
def urgent_page(magistrate_id: int):
    """For a lawyer who cannot wait for the first open slot."""
    magistrate = courts.get_magistrate(magistrate_id)
    if magistrate is None or not magistrate.publishes_agenda:
        abort(404)
    errors: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {}
    status = 200
    if request.method == "POST":
        if not FlaskForm().validate_on_submit():
            abort(400)
        raw = {"lawyer": {name: request.form.get(name, "").strip() for name in LAWYER_FIELDS},
               "case_number": request.form.get("case_number", "").strip(),
               "reason": request.form.get("reason", "").strip(),
               "under_seal": bool(request.form.get("under_seal"))}
        try:
            data = UrgentRequestInSchema().load(raw)
        except ValidationError as error:
            errors, status = _form_errors(error.messages), 422
        else:
            urgent.create(magistrate, data)
            db.session.commit()
            flash("Pedido urgente enviado ao gabinete. A resposta chegará por e-mail.", "success")
            return redirect(url_for("agenda.public_agenda", magistrate_id=magistrate.id))
    return render_template("bookings/urgent_form.html", magistrate=magistrate, values=values,
                           errors=errors), status


@blp.get("/equipe/magistrados/<int:magistrate_id>/pedidos-urgentes")
@login_required_page("magistrate", "assistant")
def urgent_list(magistrate_id: int):
    magistrate = managed_magistrate(magistrate_id)
    requests_ = db.session.scalars(urgent.of_magistrate(magistrate.id)).all()
    audit.record_read(current_user, "urgent_request", [r.id for r in requests_])
    return render_template("bookings/urgent_list.html", magistrate=magistrate,
                           requests=requests_, zone=magistrate.timezone)


@blp.post("/equipe/pedidos-urgentes/<int:request_id>/responder")
@login_required_page("magistrate", "assistant")
def urgent_answer(request_id: int):
    row = db.session.get(UrgentRequest, request_id)
    if row is None:
        abort(404)
    if not current_user.acts_for(row.magistrate_id):
        abort(403)
    if not FlaskForm().validate_on_submit():
        abort(400)
    text = request.form.get("answer", "").strip()
    if len(text) < 3:
        flash("Escreva a resposta antes de enviar.", "error")
    else:
        try:
            urgent.answer(row, text[:1000], current_user)
            db.session.commit()
            flash("Resposta enviada ao advogado.", "success")
        except service.BookingConflict as error:
            db.session.rollback()
            flash(str(error), "error")
    return redirect(url_for("booking_pages.urgent_list", magistrate_id=row.magistrate_id))
