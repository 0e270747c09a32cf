"""What the token endpoint takes and gives."""

from marshmallow import Schema, fields, validate

from ..fields import CourtDateTime, MailboxAddress, RecordId
from ..pagination import PageArgsSchema
from .models import ROLES


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=200))
    otp = fields.String(load_default=None, load_only=True, validate=validate.Length(max=20),
                        metadata={"description": "O código do aplicativo autenticador (ou um "
                                                 "código de recuperação), para os papéis que "
                                                 "exigem verificação em duas etapas."})


class TokenSchema(Schema):
    access_token = fields.String(required=True)
    token_type = fields.String(required=True, metadata={"example": "Bearer"})
    expires_at = CourtDateTime(required=True)


class StaffUserSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String()
    role = fields.String()
    magistrate_ids = fields.List(fields.Integer())
    is_active = fields.Boolean()
    has_password = fields.Function(lambda user: user.password_hash is not None)
    two_factor = fields.Function(lambda user: user.totp_confirmed_at is not None)


class StaffUserInSchema(Schema):
    """A new account: the person sets the password from the e-mailed link."""

    email = MailboxAddress(required=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES),
                         metadata={"enum": list(ROLES)})
    magistrate_id = RecordId(load_default=None, allow_none=True,
                             metadata={"description": "O magistrado da conta (papel magistrate)."})
    assists = fields.List(RecordId(), load_default=list, validate=validate.Length(max=50),
                          metadata={"description": "Os magistrados a quem o assessor serve."})


class StaffUserChangeSchema(Schema):
    name = fields.String(validate=validate.Length(min=2, max=200))
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"enum": list(ROLES)})
    magistrate_id = RecordId(allow_none=True)
    assists = fields.List(RecordId(), validate=validate.Length(max=50))
    is_active = fields.Boolean()


class StaffUserQuerySchema(PageArgsSchema):
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"enum": list(ROLES)})
    q = fields.String(validate=validate.Length(max=100), metadata={
        "description": "Palavras do nome ou do e-mail (sem diferença de acentos e maiúsculas)."})


class IntegrationKeySchema(Schema):
    id = fields.Integer(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=2, max=120),
                         metadata={"example": "Portal do advogado do TJMT"})
    created_at = fields.DateTime(dump_only=True)
    revoked_at = fields.DateTime(dump_only=True, allow_none=True)


class IntegrationKeyCreatedSchema(IntegrationKeySchema):
    key = fields.String(dump_only=True, metadata={
        "description": "A chave (cabeçalho X-Integration-Key), mostrada só agora."})
