"""Marshmallow fields shared by the domains' schemas."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import ValidationError, fields


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
