"""Complaint routes: the public report and lookup; the Corregedoria's list, review,
statistics and exports; the attendance statistics of the booking side."""

from __future__ import annotations

import json
from datetime import timedelta

from flask import abort as flask_abort
from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint, abort
from marshmallow import Schema, ValidationError, fields, validate

from ..accounts.auth import bearer_token, current_api_user, require_staff
from ..audit import service as audit
from ..bookings import service as bookings
from ..clock import local_today
from ..courts import service as courts
from ..errors import problem_response
from ..extensions import db, limiter
from ..fields import CourtDate, RecordId
from ..openapi import RATE_LIMITED, STAFF_SECURITY
from ..pagination import TOTAL_COUNT_HEADER, paginate, with_total
from . import files, reports, service
from .attachments import ACCEPTED_TYPES
from .models import Complaint
from .schemas import (
    ComplaintDetailSchema,
    ComplaintFiledSchema,
    ComplaintFilterSchema,
    ComplaintInSchema,
    ComplaintListQuerySchema,
    ComplaintPublicSchema,
    ComplaintReviewSchema,
    ComplaintSchema,
    PublicEventSchema,
    ReporterMessageSchema,
    StatsQuerySchema,
    StatsSchema,
)

blp = Blueprint("complaints", __name__, url_prefix="/api/v1",
                description="Reclamações sobre os canais de atendimento digital e a Corregedoria.")

CORREGEDORIA = ("corregedoria",)


def _filters(args: dict) -> dict:
    return {k: v for k, v in args.items() if k not in ("page", "per_page")}


@blp.route("/complaints")
class Complaints(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["COMPLAINT_RATE_LIMIT"],
                                methods=["POST"])]

    @blp.doc(requestBody={"required": True, "content": {
        "application/json": {"schema": ComplaintInSchema},
        "multipart/form-data": {"schema": {"type": "object", "required": ["complaint"],
                                           "properties": {
            "complaint": {"type": "string", "description": "O mesmo objeto JSON do corpo "
                          "application/json (ComplaintIn), como texto."},
            "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                      "description": "Até COMPLAINT_MAX_FILES imagens (PNG, JPEG, WebP) ou "
                                     "PDFs; o tipo vem do conteúdo."}}}}}})
    @blp.response(201, ComplaintFiledSchema)
    @blp.alt_response(413, description="Um arquivo (ou o corpo) passa do limite.")
    @blp.alt_response(422, description="Campos ou arquivos inválidos (errors.files).")
    @blp.alt_response(429, description=RATE_LIMITED)
    def post(self):
        """Report a failure of an attendance channel, as JSON or multipart with files
        (screenshots, PDFs); answers a protocol, a follow code and a lookup token."""
        data, evidence = _body_and_files(ComplaintInSchema(), "complaint")
        if data.get("unit_id") is not None and courts.get_unit(data["unit_id"]) is None:
            abort(422, errors={"unit_id": ["Unidade não encontrada."]})
        filed = service.file_complaint(data, evidence=evidence)
        db.session.commit()
        return {"protocol": filed.complaint.protocol, "follow_code": filed.short_code,
                "lookup_token": filed.lookup_token,
                "lookup_url": service.lookup_url(filed.complaint, filed.lookup_token),
                "status": filed.complaint.status}

    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ComplaintListQuerySchema(), location="query")
    @blp.response(200, ComplaintSchema(many=True), headers=TOTAL_COUNT_HEADER)
    def get(self, args):
        """Reports, newest first, by status, channel, kind, unit, comarca and filing period."""
        items, total = paginate(service.filtered(_filters(args)), args["page"], args["per_page"])
        audit.record_read(current_api_user(), "complaint", [c.id for c in items])
        return with_total(items, total)


def _body_and_files(schema: Schema, part: str | None) -> tuple[dict, list]:
    """A JSON body, or a multipart one with files beside either a `part` holding the same
    JSON or (part None) plain form fields; the data loaded by `schema` and the files
    checked (422/413 naming each file)."""
    if request.mimetype == "multipart/form-data":
        try:
            raw = json.loads(request.form.get(part) or "{}") if part else \
                request.form.to_dict()
        except ValueError:
            abort(400, message=f"A parte “{part}” não é um JSON válido.")
        uploads = files.read_uploads(request.files.getlist("files"))
    else:
        raw, uploads = request.get_json(silent=True), []
        if raw is None:
            abort(400, message="O corpo não é um JSON válido.")
    try:
        evidence = files.check(uploads)
    except files.FilesRefused as refused:
        flask_abort(problem_response(refused.status, "Alguns arquivos não foram aceitos; nada foi "
                                               "registrado.", errors={"files": refused.messages}))
    try:
        return schema.load(raw), evidence
    except ValidationError as error:
        abort(422, errors=error.messages)


class LookupQuerySchema(Schema):
    token = fields.String(metadata={"description": "O token de consulta (ou Authorization: Bearer)."})


@blp.route("/complaints/<protocol:protocol>")
class ComplaintLookup(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])]

    @blp.arguments(LookupQuerySchema(), location="query")
    @blp.response(200, ComplaintPublicSchema)
    @blp.alt_response(429, description=RATE_LIMITED)
    def get(self, args, protocol):
        """Status, public answer and public history of a report (questions, messages,
        files), by protocol and lookup token (or the short follow code printed with the
        protocol)."""
        return _reporters_complaint(protocol, args)


MESSAGE_BODY = {"required": True, "content": {
    "application/json": {"schema": ReporterMessageSchema},
    "multipart/form-data": {"schema": {"type": "object", "properties": {
        "message": {"type": "string"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}


@blp.route("/complaints/<protocol:protocol>/messages")
class ReporterMessages(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["COMPLAINT_RATE_LIMIT"])]

    @blp.doc(requestBody=MESSAGE_BODY)
    @blp.arguments(LookupQuerySchema(), location="query")
    @blp.response(201, PublicEventSchema)
    @blp.alt_response(409, description="A reclamação já foi encerrada.")
    @blp.alt_response(413, description="Um arquivo (ou o corpo) passa do limite.")
    @blp.alt_response(429, description=RATE_LIMITED)
    def post(self, args, protocol):
        """The reporter's message to the Corregedoria (an answer to its question, or more
        of the story), with files; by protocol and lookup token (or follow code)."""
        complaint = _reporters_complaint(protocol, args)
        data, evidence = _body_and_files(ReporterMessageSchema(), None)
        event = service.reply(complaint, data["message"], evidence)
        db.session.commit()
        return event


# A kept file, as files.response_for serves it: a download of its own type.
FILE_RESPONSE = {"200": {"description": "O arquivo, para baixar.", "content": {
    content_type: {} for content_type in ACCEPTED_TYPES}}}


@blp.route("/complaints/<protocol:protocol>/attachments/<int:attachment_id>")
class ReporterAttachment(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LOOKUP_RATE_LIMIT"])]

    @blp.doc(responses=FILE_RESPONSE)
    @blp.arguments(LookupQuerySchema(), location="query")
    @blp.alt_response(429, description=RATE_LIMITED)
    def get(self, args, protocol, attachment_id):
        """A file of the report, for its reporter (lookup token or follow code)."""
        complaint = _reporters_complaint(protocol, args)
        attachment = files.of_complaint(complaint, attachment_id)
        if attachment is None:
            abort(404, message="Arquivo não encontrado.")
        return files.response_for(attachment)


def _reporters_complaint(protocol: str, args: dict) -> Complaint:
    token = args.get("token") or bearer_token()
    complaint = service.lookup(protocol, token) if token else None
    if complaint is None:
        abort(404, message="Protocolo não encontrado ou token incorreto.")
    return complaint


@blp.route("/complaints/<int:complaint_id>/attachments/<int:attachment_id>")
class StaffAttachment(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY, responses=FILE_RESPONSE)
    def get(self, complaint_id, attachment_id):
        """A file of a report or of its reporter's reply, for the Corregedoria."""
        attachment = files.of_complaint(_complaint_or_404(complaint_id), attachment_id)
        if attachment is None:
            abort(404, message="Arquivo não encontrado.")
        audit.record_read(current_api_user(), "complaint_attachment", [attachment.id])
        return files.response_for(attachment)


@blp.route("/complaints/<int:complaint_id>")
class ComplaintById(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.response(200, ComplaintDetailSchema)
    def get(self, complaint_id):
        """A report with its whole history, internal notes included."""
        complaint = _complaint_or_404(complaint_id)
        audit.record_read(current_api_user(), "complaint", [complaint.id])
        return complaint

    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ComplaintReviewSchema())
    @blp.response(200, ComplaintDetailSchema)
    @blp.alt_response(409, description="Mudança de situação não permitida.")
    def patch(self, data, complaint_id):
        """Move new -> in_review -> resolved|dismissed, with a note and a public answer."""
        complaint = _complaint_or_404(complaint_id)
        service.review(complaint, user=current_api_user(), **data)
        db.session.commit()
        return complaint


class ForwardSchema(Schema):
    message = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=4000),
                            metadata={"description": "Mensagem à secretaria da unidade."})


@blp.route("/complaints/<int:complaint_id>/forward")
class ComplaintForward(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ForwardSchema())
    @blp.response(200, ComplaintDetailSchema)
    def post(self, data, complaint_id):
        """Send the report to its unit's office by e-mail (not the reporter's name or
        address); recorded in the history. 422 when the unit has no office e-mail."""
        complaint = _complaint_or_404(complaint_id)
        service.forward_to_unit(complaint, user=current_api_user(), message=data["message"])
        db.session.commit()
        return complaint


def _complaint_or_404(complaint_id: int) -> Complaint:
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        abort(404, message="Reclamação não encontrada.")
    return complaint


@blp.route("/complaints/stats")
class ComplaintStats(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(StatsQuerySchema(), location="query")
    @blp.response(200, StatsSchema)
    def get(self, args):
        """Counts by unit, comarca, channel, kind or week; median time to resolution;
        units flagged for many reports in the last 7 days."""
        group_by = args.pop("group_by")
        return service.stats(group_by, args)


def _export_response(body: bytes, mimetype: str, filename: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blp.route("/complaints/export.csv")
class ComplaintExportCsv(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY, responses={"200": {
        "description": "CSV para planilhas brasileiras (UTF-8 com BOM, separador ;).",
        "content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.arguments(ComplaintFilterSchema(), location="query")
    def get(self, args):
        """The reports that match the filters, as CSV."""
        complaints = db.session.scalars(service.filtered(args)).all()
        audit.record_read(current_api_user(), "complaint", [c.id for c in complaints])
        response = _export_response(reports.complaints_csv(complaints), "text/csv",
                                    "reclamacoes.csv")
        response.headers["Content-Type"] = "text/csv; charset=utf-8"
        return response


@blp.route("/complaints/export.json")
class ComplaintExportJson(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(ComplaintFilterSchema(), location="query")
    @blp.response(200, ComplaintSchema(many=True))
    def get(self, args):
        """The reports that match the filters, as JSON."""
        complaints = db.session.scalars(service.filtered(args)).all()
        audit.record_read(current_api_user(), "complaint", [c.id for c in complaints])
        return complaints


class AttendanceQuerySchema(Schema):
    from_ = CourtDate(data_key="from")
    to = CourtDate()
    comarca_id = RecordId(metadata={"description": "Só os magistrados desta comarca."})


def _period(args: dict, *, days_back: int, days_ahead: int):
    """The (from, to) days asked for, or the default around today; 422 when reversed."""
    today = local_today()
    first = args.get("from_") or today - timedelta(days=days_back)
    last = args.get("to") or today + timedelta(days=days_ahead)
    if last < first:
        abort(422, errors={"to": ["A data final deve ser igual ou posterior à inicial."]})
    return first, last


class AttendanceRowSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    magistrate_id = fields.Integer()
    magistrate = fields.String()
    slots_offered = fields.Integer()
    booked = fields.Integer()
    cancelled_by_court = fields.Integer()
    no_show = fields.Integer()
    by_requester = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={
        "description": "Agendados por tipo de solicitante (lawyer, public_defender...)."})
    days_to_first_open_slot = fields.Float(allow_none=True)


@blp.route("/attendance/stats")
class AttendanceStats(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(AttendanceQuerySchema(), location="query")
    @blp.response(200, AttendanceRowSchema(many=True))
    def get(self, args):
        """Per unit and magistrate: slots offered, booked, cancelled by the court,
        no-shows, and days until the first open slot (default: 30 days back and ahead)."""
        return bookings.attendance(*_period(args, days_back=30, days_ahead=30),
                                   comarca_id=args.get("comarca_id"))


class UrgentTimesRowSchema(Schema):
    unit_id = fields.Integer()
    unit = fields.String()
    received = fields.Integer()
    answered = fields.Integer()
    answered_in_time = fields.Integer()
    open_overdue = fields.Integer()
    median_hours_to_answer = fields.Float(allow_none=True)


@blp.route("/urgent-requests/stats")
class UrgentRequestStats(MethodView):
    @require_staff(*CORREGEDORIA)
    @blp.doc(security=STAFF_SECURITY)
    @blp.arguments(AttendanceQuerySchema(), location="query")
    @blp.response(200, UrgentTimesRowSchema(many=True))
    def get(self, args):
        """Per unit: urgent requests received, answered, answered within the deadline, open
        past it, and the median hours to an answer (default: the last 90 days)."""
        return bookings.urgent_response_times(*_period(args, days_back=90, days_ahead=0),
                                              comarca_id=args.get("comarca_id"))
