"""What the token endpoint takes and gives."""

from marshmallow import Schema, fields, validate

from ..fields import CourtDateTime
from ..pagination import PageArgsSchema
from .models import ROLES


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(required=True, load_only=True,
                             validate=validate.Length(min=1, max=200))


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


class StaffUserQuerySchema(PageArgsSchema):
    role = fields.String(validate=validate.OneOf(ROLES), metadata={"enum": list(ROLES)})
