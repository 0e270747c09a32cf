"""What the webhooks' administration takes and gives."""

from marshmallow import Schema, fields, validate

from .service import EVENTS


class SubscriberSchema(Schema):
    """A subscriber as the admin sees it; the secret is never shown again after creation."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=120),
                         metadata={"example": "PJe — integração de agendamentos"})
    url = fields.String(required=True, validate=validate.Length(min=8, max=1000),
                        metadata={"example": "https://pje.tjmt.jus.br/webhooks/agendamento"})
    events = fields.List(fields.String(validate=validate.OneOf(list(EVENTS))), required=True,
                         validate=validate.Length(min=1, max=len(EVENTS)),
                         metadata={"example": ["booking.confirmed", "booking.cancelled"]})
    share_sealed_cases = fields.Boolean(load_default=False, metadata={
        "description": "Se os eventos de processos em segredo de justiça levam número e assunto."})
    is_active = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class SubscriberChangeSchema(SubscriberSchema):
    share_sealed_cases = fields.Boolean()
    is_active = fields.Boolean()


class SubscriberCreatedSchema(SubscriberSchema):
    secret = fields.String(dump_only=True, metadata={
        "description": "Segredo de assinatura (Standard Webhooks), mostrado só agora."})


class SecretSchema(Schema):
    secret = fields.String(dump_only=True)


class DeliverySchema(Schema):
    id = fields.Integer()
    outbox_message_id = fields.Integer()
    webhook_id = fields.String()
    event_type = fields.String()
    attempted_at = fields.DateTime()
    status_code = fields.Integer(allow_none=True)
    error = fields.String(allow_none=True)
    duration_ms = fields.Integer()
