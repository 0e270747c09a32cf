"""The public directory as the API shows it."""

from marshmallow import Schema, fields, validate

from ..fields import RecordId
from ..pagination import PageArgsSchema
from .models import CHANNEL_KINDS


class ChannelSchema(Schema):
    kind = fields.String(validate=validate.OneOf(CHANNEL_KINDS),
                         metadata={"enum": list(CHANNEL_KINDS)})
    value = fields.String()
    hours = fields.String(allow_none=True, metadata={"example": "Segunda a sexta, 12h às 19h"})


class UnitSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    comarca = fields.Function(lambda unit: unit.comarca.name, metadata={"type": "string"})
    instance = fields.Integer(metadata={"description": "1 (primeiro grau) ou 2 (segundo grau)"})
    office_email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    channels = fields.List(fields.Nested(ChannelSchema))


class UnitQuerySchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Parte do nome da unidade."})
    comarca = fields.String(validate=validate.Length(max=120),
                            metadata={"description": "Nome da comarca, sem diferenciar maiúsculas."})


class UnitRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class MagistrateSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    title = fields.String()
    unit = fields.Nested(UnitRefSchema)
    timezone = fields.String(metadata={"example": "America/Cuiaba"})


class MagistrateQuerySchema(PageArgsSchema):
    unit_id = RecordId()
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Parte do nome do magistrado."})


class CaseMagistrateSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    title = fields.String()
    agenda_url = fields.String(metadata={"description": "A agenda pública do magistrado."})


class CaseUnitSchema(UnitSchema):
    magistrates = fields.Method("bookable_magistrates", metadata={
        "type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"}, "title": {"type": "string"},
            "agenda_url": {"type": "string"}}},
        "description": "Magistrados da unidade que recebem agendamentos."})

    def bookable_magistrates(self, unit) -> list[dict]:
        from flask import url_for

        return CaseMagistrateSchema(many=True).dump([{
            "id": m.id, "name": m.name, "title": m.title,
            "agenda_url": url_for("availability_pages.public_agenda", magistrate_id=m.id)}
            for m in unit.magistrates if m.takes_bookings])


class CaseComarcaSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    foro_code = fields.String(metadata={"example": "0041"})


class CaseUnitsSchema(Schema):
    case_number = fields.String(metadata={"example": "0001234-03.2026.8.11.0041"})
    comarca = fields.Nested(CaseComarcaSchema)
    units = fields.List(fields.Nested(CaseUnitSchema), metadata={
        "description": "As unidades da comarca: o número do processo não diz qual vara."})
