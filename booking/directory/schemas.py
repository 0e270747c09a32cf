"""What the directory's administration takes and gives."""

from marshmallow import Schema, ValidationError, fields, validate

from ..courts.schemas import CHANNEL_KINDS, ChannelSchema, UnitRefSchema
from ..fields import MailboxAddress, RecordId
from ..pagination import PageArgsSchema


def _zone(value: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError("Fuso horário desconhecido; use, por exemplo, America/Cuiaba.") \
            from None


FUTURE_BOOKINGS = ("keep", "cancel")


class ComarcaQuerySchema(PageArgsSchema):
    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "Palavras do nome, com ou sem acentos, em qualquer ordem (\"cuiaba\" "
                       "encontra Cuiabá)."})
    is_active = fields.Boolean(metadata={
        "description": "true: só as ativas; false: só as desativadas; sem ele, todas."})


class UnitQuerySchema(ComarcaQuerySchema):
    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "Palavras do nome da unidade, da comarca ou de seus magistrados ativos."})
    comarca_id = RecordId(metadata={"description": "Só as desta comarca."})


class MagistrateQuerySchema(UnitQuerySchema):
    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "Palavras do nome do magistrado, da unidade ou da comarca."})
    unit_id = RecordId(metadata={"description": "Só os desta unidade."})
    is_active = fields.Boolean(metadata={
        "description": "true: só os ativos; false: só os desativados; sem ele, todos."})


class ComarcaAdminSchema(Schema):
    """A comarca; in a PATCH (partial) only the fields sent change."""

    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=120))
    foro_code = fields.String(allow_none=True, validate=validate.Regexp(
        r"^\d{4}$", error="Use os quatro dígitos do foro (campo OOOO do número CNJ)."),
        metadata={"example": "0041"})
    is_active = fields.Boolean(load_default=True)


class ComarcaChangeSchema(ComarcaAdminSchema):
    is_active = fields.Boolean()


class ChannelAdminSchema(ChannelSchema):
    kind = fields.String(required=True, validate=validate.OneOf(CHANNEL_KINDS),
                         metadata={"enum": list(CHANNEL_KINDS)})
    value = fields.String(required=True, validate=validate.Length(min=1, max=300))
    hours = fields.String(allow_none=True, validate=validate.Length(max=200))
    position = fields.Integer(validate=validate.Range(min=0, max=999))


class ChannelListSchema(Schema):
    channels = fields.List(fields.Nested(ChannelAdminSchema), required=True,
                           validate=validate.Length(max=30))


class UnitAdminSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=20),
                         metadata={"description": "Código da unidade no tribunal e no CNJ."})
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    comarca_id = RecordId(required=True)
    comarca = fields.Function(lambda unit: unit.comarca.name, dump_only=True)
    instance = fields.Integer(required=True, validate=validate.OneOf((1, 2)))
    office_email = MailboxAddress(allow_none=True)
    address = fields.String(allow_none=True, validate=validate.Length(max=300))
    is_active = fields.Boolean(load_default=True)
    channels = fields.List(fields.Nested(ChannelAdminSchema), dump_only=True)


class DepartureSchema(Schema):
    """What happens to future bookings when a unit or magistrate leaves the agenda."""

    future_bookings = fields.String(load_default="keep", validate=validate.OneOf(FUTURE_BOOKINGS),
                                    metadata={"description": "keep: mantém; cancel: cancela "
                                                             "e avisa os advogados."})
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(max=500))


class UnitChangeSchema(UnitAdminSchema, DepartureSchema):
    """A PATCH: only the fields sent change (load it with partial=True)."""

    is_active = fields.Boolean()


class MagistrateAdminSchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    title = fields.String(required=True, validate=validate.Length(min=2, max=60),
                          metadata={"example": "Juíza de Direito"})
    email = MailboxAddress(required=True)
    unit_id = RecordId(required=True)
    unit = fields.Nested(UnitRefSchema, dump_only=True)
    timezone = fields.String(validate=_zone, metadata={"example": "America/Cuiaba"})
    publishes_agenda = fields.Boolean(load_default=True)
    is_active = fields.Boolean(load_default=True)


class MagistrateChangeSchema(MagistrateAdminSchema, DepartureSchema):
    """A PATCH: only the fields sent change (load it with partial=True)."""

    publishes_agenda = fields.Boolean()
    is_active = fields.Boolean()


class ChangeResultSchema(Schema):
    cancelled_bookings = fields.Integer()


class ImportQuerySchema(Schema):
    dry_run = fields.Boolean(load_default=False)


class ImportResultSchema(Schema):
    applied = fields.Boolean()
    summary = fields.Dict(keys=fields.String(), values=fields.Integer())
    errors = fields.List(fields.String())
    changes = fields.List(fields.Dict())


class ExportQuerySchema(Schema):
    format = fields.String(load_default="xlsx", validate=validate.OneOf(("xlsx", "csv")))
    kind = fields.String(load_default=None, validate=validate.OneOf(
        ("comarcas", "unidades", "canais", "magistrados")),
        metadata={"description": "Com format=csv: qual planilha (uma por tipo)."})
