"""The outbox as the administration sees it."""

from marshmallow import Schema, fields, validate

from ..fields import CourtDateTime
from ..pagination import PageArgsSchema
from .models import OUTBOX_STATUSES


class OutboxMessageSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    recipients = fields.List(fields.String())
    subject = fields.String()
    status = fields.String(metadata={"enum": list(OUTBOX_STATUSES)})
    attempts = fields.Integer()
    next_attempt_at = CourtDateTime()
    last_error = fields.String(allow_none=True)
    created_at = CourtDateTime()
    sent_at = CourtDateTime(allow_none=True)


class OutboxQuerySchema(PageArgsSchema):
    status = fields.String(validate=validate.OneOf(OUTBOX_STATUSES))
    recipient = fields.String(validate=validate.Length(max=254),
                              metadata={"description": "Parte do endereço do destinatário."})
