"""The complaint form as the API takes it; the public and the desk's views of a report."""

from datetime import datetime, time, timedelta

from flask import current_app
from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from ..clock import court_zone
from ..database import utcnow
from ..fields import CourtDate, CourtDateTime, MailboxAddress, RecordId
from ..pagination import PageArgsSchema
from .models import COMPLAINT_CHANNELS, COMPLAINT_KINDS, COMPLAINT_STATUSES, REPORTER_ROLES

DESCRIPTION_MAX = 2000


class ReporterSchema(Schema):
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    email = MailboxAddress(load_default=None, allow_none=True)
    role = fields.String(load_default=None, allow_none=True,
                         validate=validate.OneOf(REPORTER_ROLES),
                         metadata={"enum": list(REPORTER_ROLES)})


class SendLinkSchema(Schema):
    email = MailboxAddress(required=True)


class ComplaintInSchema(Schema):
    channel = fields.String(required=True, validate=validate.OneOf(COMPLAINT_CHANNELS),
                            metadata={"enum": list(COMPLAINT_CHANNELS)})
    kind = fields.String(required=True, validate=validate.OneOf(COMPLAINT_KINDS),
                         metadata={"enum": list(COMPLAINT_KINDS)})
    unit_id = RecordId(load_default=None, allow_none=True)
    occurred_at = CourtDateTime(required=True, metadata={"example": "2027-03-02T14:10:00-04:00"})
    occurred_time_known = fields.Boolean(load_default=True, metadata={
        "description": "false quando quem reclama sabe só o dia: occurred_at é então o início "
                       "desse dia no fuso do tribunal, e a hora não é mostrada."})
    description = fields.String(required=True,
                                validate=validate.Length(min=10, max=DESCRIPTION_MAX))
    reporter = fields.Nested(ReporterSchema, load_default=None, allow_none=True)

    @validates_schema(skip_on_field_errors=False)
    def _a_recent_past(self, data, **kwargs):
        if "occurred_at" not in data:
            return
        at = _as_reported(data)
        if at > utcnow() + timedelta(minutes=5):
            raise ValidationError("A data da falha não pode estar no futuro.", "occurred_at")
        days = current_app.config["COMPLAINT_MAX_AGE_DAYS"]
        if at < utcnow() - timedelta(days=days):
            raise ValidationError(f"Informe falhas dos últimos {days} dias.", "occurred_at")

    @post_load
    def _the_day_alone(self, data, **kwargs):
        data["occurred_at"] = _as_reported(data)
        return data


def _as_reported(data: dict) -> datetime:
    """The instant given; without its hour, the start of that day in the court's zone (the
    hour an API client sent with it is not kept)."""
    if data.get("occurred_time_known", True):
        return data["occurred_at"]
    zone = court_zone()
    return datetime.combine(data["occurred_at"].astimezone(zone).date(), time(), tzinfo=zone)


class ComplaintFiledSchema(Schema):
    protocol = fields.String(metadata={"example": "RC-2027-000123"})
    follow_code = fields.String(metadata={
        "example": "ABCD-2345", "description": "Código curto para acompanhar com o protocolo "
                                               "(em /reclamacoes/acompanhar ou no lugar do "
                                               "token na consulta)."})
    lookup_token = fields.String()
    lookup_url = fields.String()
    status = fields.String()


class AttachmentSchema(Schema):
    id = fields.Integer()
    name = fields.String(metadata={"example": "tela.png"})
    content_type = fields.String(metadata={"example": "image/png"})
    size = fields.Integer(metadata={"description": "Bytes do arquivo guardado."})


class PublicEventSchema(Schema):
    """A step the reporter sees: never the internal note, never who wrote it."""

    at = CourtDateTime()
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    public_answer = fields.String(allow_none=True)
    question = fields.String(allow_none=True)
    reporter_message = fields.String(allow_none=True)
    attachments = fields.List(fields.Nested(AttachmentSchema))


class ComplaintPublicSchema(Schema):
    protocol = fields.String()
    status = fields.String(metadata={"enum": list(COMPLAINT_STATUSES)})
    channel = fields.String()
    kind = fields.String()
    created_at = CourtDateTime()
    updated_at = CourtDateTime()
    public_answer = fields.String(allow_none=True)
    history = fields.Function(
        lambda c: PublicEventSchema(many=True).dump([e for e in c.events if e.seen_by_reporter]),
        metadata={"type": "array", "items": {"type": "object"}, "description":
                  "Andamentos, respostas, perguntas, mensagens do reclamante e arquivos."})


class ReporterMessageSchema(Schema):
    message = fields.String(load_default="", validate=validate.Length(max=4000))


class ComplaintEventSchema(Schema):
    at = CourtDateTime()
    actor = fields.Function(lambda e: e.actor.email if e.actor else None,
                            metadata={"type": "string", "nullable": True})
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    note = fields.String(allow_none=True)
    public_answer = fields.String(allow_none=True)
    question = fields.String(allow_none=True)
    reporter_message = fields.String(allow_none=True)
    assigned_to = fields.Function(lambda e: e.assigned_to.email if e.assigned_to else None,
                                  metadata={"type": "string", "nullable": True,
                                            "description": "Quem este passo pôs como "
                                                           "responsável."})
    attachments = fields.List(fields.Nested(AttachmentSchema))


class ComplaintSchema(Schema):
    id = fields.Integer()
    protocol = fields.String()
    status = fields.String()
    channel = fields.String()
    kind = fields.String()
    unit_id = fields.Integer(allow_none=True)
    occurred_at = CourtDateTime()
    occurred_time_known = fields.Boolean()
    description = fields.String()
    reporter = fields.Function(lambda c: {"name": c.reporter_name, "email": c.reporter_email,
                                          "role": c.reporter_role})
    public_answer = fields.String(allow_none=True)
    assigned_to_id = fields.Integer(allow_none=True)
    created_at = CourtDateTime()
    updated_at = CourtDateTime()
    closed_at = CourtDateTime(allow_none=True)


class ComplaintDetailSchema(ComplaintSchema):
    history = fields.List(fields.Nested(ComplaintEventSchema), attribute="events")


class ComplaintFilterSchema(Schema):
    status = fields.String(validate=validate.OneOf(COMPLAINT_STATUSES))
    channel = fields.String(validate=validate.OneOf(COMPLAINT_CHANNELS))
    kind = fields.String(validate=validate.OneOf(COMPLAINT_KINDS))
    unit_id = RecordId()
    comarca_id = RecordId()
    from_ = CourtDate(data_key="from")
    to = CourtDate()
    assigned_to_id = RecordId(metadata={"description": "Só as atribuídas a esta pessoa."})
    unassigned = fields.Boolean(metadata={"description": "true: só as sem responsável."})


class ComplaintListQuerySchema(ComplaintFilterSchema, PageArgsSchema):
    pass


class ComplaintReviewSchema(Schema):
    status = fields.String(validate=validate.OneOf(COMPLAINT_STATUSES))
    note = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=4000),
                         metadata={"description": "Nota interna; o reclamante não a vê."})
    public_answer = fields.String(load_default=None, allow_none=True,
                                  validate=validate.Length(max=4000))
    question = fields.String(load_default=None, allow_none=True,
                             validate=validate.Length(max=4000), metadata={
                                 "description": "Pergunta ao reclamante: ele a recebe por "
                                                "e-mail e responde na página de "
                                                "acompanhamento (ou em POST "
                                                "/complaints/{protocol}/messages)."})
    assigned_to_id = RecordId(load_default=None, allow_none=True)


class StatsQuerySchema(ComplaintFilterSchema):
    group_by = fields.String(load_default="channel", validate=validate.OneOf(
        ("unit", "comarca", "channel", "kind", "week")))


class StatsGroupSchema(Schema):
    key = fields.String()
    label = fields.String()
    count = fields.Integer()


class FlaggedUnitSchema(Schema):
    unit_id = fields.Integer()
    name = fields.String()
    count = fields.Integer()


class StatsSchema(Schema):
    group_by = fields.String()
    total = fields.Integer()
    groups = fields.List(fields.Nested(StatsGroupSchema))
    median_hours_to_resolution = fields.Float(allow_none=True)
    flagged_units = fields.List(fields.Nested(FlaggedUnitSchema))
