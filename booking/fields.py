"""Marshmallow fields shared by the domains' schemas."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import ValidationError, fields, validate


class CourtDateTime(fields.DateTime):
    """An instant shown in the court's zone with its offset (2027-03-02T14:00:00-04:00).

    On input an offset is required: a naive time would be ambiguous.
    """

    def _serialize(self, value: datetime | None, attr, obj, **kwargs):
        if value is None:
            return None
        zone = ZoneInfo(current_app.config["COURT_TIMEZONE"])
        return value.astimezone(zone).isoformat(timespec="seconds")

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if result.tzinfo is None:
            raise ValidationError(self.error_messages["invalid_awareness"].format(
                awareness="", obj_type="datetime"))
        return result


# Primary keys are PostgreSQL `integer`s: anything larger must be a 404 or a 422, never a 500.
MAX_ID = 2_147_483_647


class RecordId(fields.Integer):
    """The id of a row: a positive integer that fits the database's integer columns."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)
