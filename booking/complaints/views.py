"""Complaint pages: the public form and lookup, and the Corregedoria's desk."""

from __future__ import annotations

from datetime import datetime, timedelta

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
from marshmallow import ValidationError

from ..accounts import service as accounts
from ..accounts.auth import login_required_page
from ..audit import service as audit
from ..bookings import service as bookings
from ..charts import chart
from ..clock import court_zone, local_today
from ..courts import service as courts
from ..database import utcnow
from ..domain import DomainError
from ..errors import flatten_errors, form_errors
from ..extensions import db, limiter
from ..formatting import zone_label
from ..pagination import page_number, paginate
from . import files, reports, service
from .models import Complaint
from .schemas import (
    ComplaintFilterSchema,
    ComplaintInSchema,
    ComplaintReviewSchema,
    SendLinkSchema,
)
from .storage import StoreUnavailable

blp = Blueprint("complaints_pages", __name__)

HONEYPOT = "website"
FILES_FIELD = "anexos"


def _units():
    return courts.unit_choices()


@blp.route("/reclamacoes/nova", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["COMPLAINT_RATE_LIMIT"], methods=["POST"])
def new_complaint():
    """Report a failing channel: a dropped connection, a counter that does not open..."""
    errors: dict[str, list[str]] = {}
    values = request.form.to_dict() if request.method == "POST" else {
        "unit_id": request.args.get("unidade", ""), "channel": request.args.get("canal", "")}
    status = 200
    if request.method == "POST":
        if request.form.get(HONEYPOT):  # only robots fill the hidden field
            return redirect(url_for("complaints_pages.filed"))
        raw = {
            "channel": request.form.get("channel", ""), "kind": request.form.get("kind", ""),
            "unit_id": request.form.get("unit_id") or None,
            "occurred_at": _local_instant(request.form.get("occurred_day", ""),
                                          request.form.get("occurred_time", "")),
            "occurred_time_known": bool(request.form.get("occurred_time", "").strip()),
            "description": request.form.get("description", "").strip(),
            "reporter": {"name": request.form.get("reporter_name", "").strip() or None,
                         "email": request.form.get("reporter_email", "").strip() or None,
                         "role": request.form.get("reporter_role") or None},
        }
        evidence, errors, status = _evidence()
        try:
            data = ComplaintInSchema().load(raw)
            if data.get("unit_id") and courts.get_unit(data["unit_id"]) is None:
                raise ValidationError({"unit_id": ["Unidade não encontrada."]})
        except ValidationError as error:
            errors.update({key.replace("reporter.", "reporter_").replace("occurred_at", "occurred_day"): v
                           for key, v in flatten_errors(error.messages).items()})
            for select_field in ("channel", "kind", "reporter_role"):
                if select_field in errors:  # the API's message lists internal codes
                    errors[select_field] = ["Escolha uma opção da lista."]
            status = 422 if status == 200 else status
        if errors and evidence:  # the files were fine; a browser does not keep them
            errors[FILES_FIELD] = ["Os arquivos estavam certos; escolha-os de novo ao "
                                   "corrigir o formulário."]
        if not errors:
            try:
                filed = service.file_complaint(data, evidence=evidence)
                db.session.commit()
            except StoreUnavailable as unavailable:
                db.session.rollback()
                return _form_page(values, {FILES_FIELD: [unavailable.description]}, 503)
            session["filed_complaint"] = {"protocol": filed.complaint.protocol,
                                          "token": filed.lookup_token,
                                          "code": filed.short_code}
            return redirect(url_for("complaints_pages.filed"))
    return _form_page(values, errors, status)


def _form_page(values: dict, errors: dict, status: int):
    return render_template("complaints/form.html", values=values, errors=errors, units=_units(),
                           channels=service.CHANNEL_LABELS, kinds=service.KIND_LABELS,
                           honeypot=HONEYPOT, files_field=FILES_FIELD,
                           files_hint=files.limits_hint()), status


def _evidence() -> tuple[list, dict[str, list[str]], int]:
    """The form's files, checked: (clean files, errors beside the field, status)."""
    try:
        return files.check(files.read_uploads(request.files.getlist(FILES_FIELD))), {}, 200
    except files.FilesRefused as refused:
        return [], {FILES_FIELD: refused.messages}, refused.status


def _local_instant(day: str, hhmm: str) -> str | None:
    """Date and time inputs, read in the court's zone, as the ISO instant the schema loads."""
    if not day:
        return None
    try:
        naive = datetime.fromisoformat(f"{day}T{hhmm or '00:00'}")
    except ValueError:
        return day  # the schema explains what is wrong with it
    return naive.replace(tzinfo=court_zone()).isoformat()


@blp.get("/reclamacoes/registrada")
def filed():
    return _filed_page()


def _filed_page(errors: dict | None = None, values: dict | None = None, sent: str = "",
                status: int = 200):
    info = session.get("filed_complaint")
    complaint = service.lookup(info["protocol"], info["token"]) if info else None
    link = service.lookup_url(complaint, info["token"]) if complaint else None
    response = current_app.make_response((render_template(
        "complaints/filed.html", info=info, link=link, errors=errors or {}, values=values or {},
        complaint=complaint, channels=service.CHANNEL_LABELS,
        zone_label=zone_label(current_app.config["COURT_TIMEZONE"]),
        has_email=bool(complaint and complaint.reporter_email), sent=sent), status))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.post("/reclamacoes/registrada/enviar-link")
@limiter.limit(lambda: current_app.config["COMPLAINT_RATE_LIMIT"])
def send_link():
    """Right after filing without an e-mail: have the follow link sent to one after all."""
    info = session.get("filed_complaint")
    complaint = service.lookup(info["protocol"], info["token"]) if info else None
    if complaint is None:
        return redirect(url_for("complaints_pages.filed"))
    values = {"email": request.form.get("email", "").strip()}
    try:
        email = SendLinkSchema().load(values)["email"]
    except ValidationError as error:
        return _filed_page(errors=flatten_errors(error.messages), values=values, status=422)
    sent = service.send_link(complaint, email, info["token"], info.get("code"))
    db.session.commit()
    return _filed_page(sent="now" if sent else "before")


def _reporter_credentials(source) -> tuple[str, str]:
    return (source.get("protocolo", "").strip()[:20], source.get("token", "").strip()[:200])


@blp.get("/reclamacoes/acompanhar")
@limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])
def follow():
    """The reporter's view of a complaint, by protocol and code. A link that brings only the
    protocol (the page that registered it) prefills it and waits for the code: no error yet."""
    protocol, token = _reporter_credentials(request.args)
    if protocol and token:
        complaint = service.lookup(protocol, token)
        return _follow_page(protocol, token, complaint, status=200 if complaint else 404)
    errors = {}
    if "token" in request.args:  # the form was sent with a field left blank
        errors = {name: [message] for name, message, given in (
            ("protocolo", "Informe o protocolo (por exemplo RC-2027-000123).", protocol),
            ("token", "Informe o código de acompanhamento.", token)) if not given}
    return _follow_page(protocol, token, None, errors=errors, status=422 if errors else 200)


def _follow_page(protocol: str, token: str, complaint: Complaint | None, *,
                 errors: dict | None = None, values: dict | None = None, status: int = 200):
    response = current_app.make_response((render_template(
        "complaints/follow.html", protocol=protocol, token=token, complaint=complaint,
        history=service.public_history(complaint) if complaint else [],
        not_found=bool(protocol and token and complaint is None), labels=service.STATUS_LABELS,
        channels=service.CHANNEL_LABELS, errors=errors or {}, values=values or {},
        files_field=FILES_FIELD, files_hint=files.limits_hint()), status))
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@blp.get("/reclamacoes/acompanhar/responder")
def back_to_follow():
    """A refused reply comes back at this address; reloading it returns to the lookup."""
    return redirect(url_for("complaints_pages.follow"))


@blp.get("/reclamacoes/registrada/enviar-link")
def back_to_filed():
    """As back_to_follow, for the request to have the link e-mailed."""
    return redirect(url_for("complaints_pages.filed"))


@blp.post("/reclamacoes/acompanhar/responder")
@limiter.limit(lambda: current_app.config["COMPLAINT_RATE_LIMIT"])
def reply():
    """The reporter answers the Corregedoria (or adds to the story), with files."""
    protocol, token = _reporter_credentials(request.form)
    complaint = service.lookup(protocol, token) if protocol and token else None
    if complaint is None:
        return _follow_page(protocol, token, None, status=404)
    values = {"message": request.form.get("message", "").strip()[:4000]}
    evidence, errors, status = _evidence()
    if not errors:
        try:
            service.reply(complaint, values["message"], evidence)
            db.session.commit()
        except DomainError as error:
            errors, status = form_errors(error)
        except StoreUnavailable as unavailable:
            db.session.rollback()
            errors, status = {FILES_FIELD: [unavailable.description]}, 503
        else:
            flash("Mensagem enviada à Corregedoria.", "success")
            return redirect(url_for("complaints_pages.follow", protocolo=complaint.protocol,
                                    token=token, _anchor="historico"))
    return _follow_page(protocol, token, complaint, errors=errors, values=values,
                        status=status if status != 200 else 422)


@blp.get("/reclamacoes/anexos/<int:attachment_id>")
@limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])
def reporter_file(attachment_id: int):
    """A file of the reporter's complaint, for whoever holds its follow code or link."""
    protocol, token = _reporter_credentials(request.args)
    complaint = service.lookup(protocol, token) if protocol and token else None
    attachment = files.of_complaint(complaint, attachment_id) if complaint else None
    return files.response_for(attachment)


# --- the Corregedoria's desk ---------------------------------------------------------

# The desk's query parameters (in Portuguese, as every page's) and the API's names for them.
DESK_FILTERS = {"situacao": "status", "canal": "channel", "tipo": "kind", "unidade": "unit_id",
                "comarca": "comarca_id", "de": "from", "ate": "to",
                "responsavel": "assigned_to_id"}
# Who is in charge, besides a person's id: the one looking, or nobody yet.
MINE, NOBODY = "eu", "nenhum"
# The filters as the page labels them, for the note about a bad one.
DESK_FILTER_LABELS = {"status": "Situação", "channel": "Canal", "kind": "Tipo",
                      "unit_id": "Unidade", "comarca_id": "Comarca", "from": "De", "to": "Até",
                      "assigned_to_id": "Responsável", "unassigned": "Responsável"}


def _desk_filters() -> tuple[dict, dict]:
    """Query-string filters loaded by the API's schema; bad values are dropped with a note."""
    raw = {name: request.args[name] for name in DESK_FILTERS if request.args.get(name)}
    values = {DESK_FILTERS[name]: value for name, value in raw.items()}
    if values.get("assigned_to_id") == MINE:
        values["assigned_to_id"] = str(current_user.id)
    elif values.get("assigned_to_id") == NOBODY:
        del values["assigned_to_id"]
        values["unassigned"] = "true"
    try:
        return ComplaintFilterSchema().load(values), raw
    except ValidationError as error:
        flash("Filtros inválidos ignorados: " + ", ".join(
            DESK_FILTER_LABELS.get(name, name) for name in flatten_errors(error.messages)) + ".",
            "error")
        return {}, {}


@blp.get("/corregedoria")
@login_required_page("corregedoria")
def desk():
    filters, raw = _desk_filters()
    page = page_number()
    items, total = paginate(service.filtered(filters), page, 25)
    return render_template(
        "complaints/desk.html", complaints=items, total=total, page=page, per_page=25,
        raw=raw, units=_units(), unit_names=courts.unit_names(c.unit_id for c in items),
        assignees=accounts.names_of(c.assigned_to_id for c in items),
        staff=accounts.staff_with_role("corregedoria", also=service.holders()), mine=MINE,
        nobody=NOBODY,
        comarcas=courts.list_comarcas(), statuses=service.STATUS_LABELS,
        channels=service.CHANNEL_LABELS, kinds=service.KIND_LABELS,
        occurred=service.occurred_label, flagged=service.flagged_units(utcnow()), now=utcnow())


@blp.route("/corregedoria/reclamacoes/<int:complaint_id>", methods=["GET", "POST"])
@login_required_page("corregedoria")
def complaint_page(complaint_id: int):
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        abort(404)
    if request.method == "POST":
        raw = {"status": request.form.get("status") or None,
               "note": request.form.get("note", "").strip() or None,
               "public_answer": request.form.get("public_answer", "").strip() or None,
               "question": request.form.get("question", "").strip() or None,
               "assigned_to_id": request.form.get("assigned_to_id") or None}
        try:
            data = ComplaintReviewSchema().load({k: v for k, v in raw.items() if v is not None})
            service.review(complaint, user=current_user, **data)
            db.session.commit()
            flash("Registro salvo no histórico.", "success")
            return redirect(url_for("complaints_pages.complaint_page", complaint_id=complaint.id))
        except ValidationError as error:
            return _complaint_detail(complaint, values=request.form,
                                     errors=flatten_errors(error.messages), status=422)
        except DomainError as error:
            errors, status = form_errors(error)
            return _complaint_detail(complaint, values=request.form, errors=errors,
                                     status=status)
    return _complaint_detail(complaint)


def _complaint_detail(complaint: Complaint, *, values=None, errors: dict | None = None,
                      form: str = "review", status: int = 200):
    """The complaint, its history and the Corregedoria's forms. A refused form (`form`:
    review or forward) comes back with what was typed (answers of up to 4,000 characters)
    and its messages beside the fields."""
    # whoever is in charge stays a choice, though deactivated (or of another role): chosen
    staff = accounts.staff_with_role(
        "corregedoria", also=[complaint.assigned_to_id] if complaint.assigned_to_id else ())
    audit.record_read(current_user, "complaint", [complaint.id])
    typed = {"form": form, "values": values or {}, "errors": errors or {}}
    return render_template(
        "complaints/detail.html", complaint=complaint, unit=courts.get_unit(complaint.unit_id)
        if complaint.unit_id else None, moves=sorted(service.MOVES.get(complaint.status, ())),
        statuses=service.STATUS_LABELS, channels=service.CHANNEL_LABELS,
        kinds=service.KIND_LABELS, occurred=service.occurred_label(complaint), staff=staff,
        typed=typed), status


@blp.get("/corregedoria/reclamacoes/<int:complaint_id>/encaminhar")
def back_to_complaint(complaint_id: int):
    """A refused forward comes back at this address; reloading it returns to the complaint."""
    return redirect(url_for("complaints_pages.complaint_page", complaint_id=complaint_id))


@blp.post("/corregedoria/reclamacoes/<int:complaint_id>/encaminhar")
@login_required_page("corregedoria")
def forward(complaint_id: int):
    """Send the report to its unit's office by e-mail (recorded in the history)."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        abort(404)
    message = request.form.get("forward_message", "").strip()[:4000] or None
    try:
        service.forward_to_unit(complaint, user=current_user, message=message)
        db.session.commit()
    except DomainError as error:
        errors, status = form_errors(error)
        return _complaint_detail(complaint, values=request.form, errors=errors,
                                 form="forward", status=status)
    flash("Reclamação encaminhada à secretaria da unidade.", "success")
    return redirect(url_for("complaints_pages.complaint_page", complaint_id=complaint_id))


@blp.get("/corregedoria/reclamacoes/<int:complaint_id>/anexos/<int:attachment_id>")
@login_required_page("corregedoria")
def staff_file(complaint_id: int, attachment_id: int):
    complaint = db.session.get(Complaint, complaint_id)
    attachment = files.of_complaint(complaint, attachment_id) if complaint else None
    if attachment:
        audit.record_read(current_user, "complaint_attachment", [attachment.id])
    return files.response_for(attachment)


BARS_PER_CHART = 15  # the groups with most complaints; the export has them all


@blp.get("/corregedoria/estatisticas")
@login_required_page("corregedoria")
def statistics():
    filters, raw = _desk_filters()
    charts = []
    summary = None
    for group_by, title in (("channel", "Por canal"), ("kind", "Por tipo de falha"),
                            ("comarca", "Por comarca"), ("unit", "Por unidade"),
                            ("week", "Por semana")):
        result = service.stats(group_by, filters)
        summary = summary or result
        charts.append(chart(title, [(group["label"], group["count"])
                                    for group in result["groups"][:BARS_PER_CHART]]))
    # The tables below the charts follow the same comarca (and period) as the charts.
    comarca_id = filters.get("comarca_id")
    first, last = _attendance_period(filters)
    attendance = bookings.attendance(first, last, comarca_id=comarca_id)
    # Urgent requests look back: the chosen period, or the last 90 days.
    urgent_last = min(filters.get("to") or local_today(), local_today())
    urgent_first = min(filters.get("from_") or urgent_last - timedelta(days=90), urgent_last)
    comarcas = courts.list_comarcas()
    return render_template(
        "complaints/stats.html", charts=charts, summary=summary, raw=raw, attendance=attendance,
        urgent_times=bookings.urgent_response_times(urgent_first, urgent_last,
                                                    comarca_id=comarca_id),
        first=first, last=last, urgent_first=urgent_first, urgent_last=urgent_last,
        comarcas=comarcas, comarca=next((c for c in comarcas if c.id == comarca_id), None))


def _attendance_period(filters: dict):
    """The period the page's controls chose, or 30 days either side of today."""
    today = local_today()
    first = filters.get("from_") or today - timedelta(days=30)
    last = filters.get("to") or today + timedelta(days=30)
    return (first, last) if first <= last else (last, first)


@blp.get("/corregedoria/estatisticas/atendimento.csv")
@login_required_page("corregedoria")
def attendance_export():
    """The attendance table of the statistics page, for a spreadsheet, same period."""
    filters, _ = _desk_filters()
    first, last = _attendance_period(filters)
    response = current_app.response_class(reports.attendance_csv(bookings.attendance(
        first, last, comarca_id=filters.get("comarca_id"))), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="atendimento-{first.isoformat()}-a-{last.isoformat()}.csv"')
    return response


@blp.get("/corregedoria/exportar.<fmt>")
@login_required_page("corregedoria")
def export(fmt: str):
    """The desk's export links: the same files as the API, for a logged-in session."""
    if fmt not in ("csv", "json"):
        abort(404)
    filters, _ = _desk_filters()
    complaints = db.session.scalars(service.filtered(filters)).all()
    audit.record_read(current_user, "complaint", [c.id for c in complaints])
    if fmt == "csv":
        response = current_app.response_class(reports.complaints_csv(complaints),
                                              mimetype="text/csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
    else:
        from .schemas import ComplaintSchema

        response = current_app.json.response(ComplaintSchema(many=True).dump(complaints))
    response.headers["Content-Disposition"] = f'attachment; filename="reclamacoes.{fmt}"'
    return response
