"""Marshmallow fields shared by the domains' schemas."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from marshmallow import ValidationError, fields, validate

# Every date and instant the service accepts lies in these years: year 1 or 9999 with a
# large offset is a typo or an attack, and would overflow in zone arithmetic downstream.
FIRST_PLAUSIBLE = date(2000, 1, 1)
LAST_PLAUSIBLE = date(2100, 12, 31)
OUT_OF_RANGE = "Use uma data entre 2000 e 2100."


def plausible(day: date) -> bool:
    return FIRST_PLAUSIBLE <= day <= LAST_PLAUSIBLE


class CourtDate(fields.Date):
    """A calendar date between 2000 and 2100."""

    def _deserialize(self, value, attr, data, **kwargs):
        result = super()._deserialize(value, attr, data, **kwargs)
        if not plausible(result):
            raise ValidationError(OUT_OF_RANGE)
        return result


class CourtDateTime(fields.DateTime):
    """An instant shown in the court's zone with its offset (2027-03-02T14:00:00-04:00).

    On input an offset is required: a naive time would be ambiguous. The instant must
    fall between 2000 and 2100 (checked in UTC, which a huge offset cannot escape).
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
        if not plausible_instant(result):
            raise ValidationError(OUT_OF_RANGE)
        return result


def plausible_instant(moment: datetime) -> bool:
    """An aware instant between 2000 and 2100 in UTC (False also when it cannot be converted)."""
    try:
        return plausible(moment.astimezone(UTC).date())
    except (OverflowError, ValueError):
        return False


# Primary keys are PostgreSQL `integer`s: anything larger must be a 404 or a 422, never a 500.
MAX_ID = 2_147_483_647


class RecordId(fields.Integer):
    """The id of a row: a positive integer that fits the database's integer columns."""

    def __init__(self, **kwargs):
        kwargs.setdefault("validate", validate.Range(min=1, max=MAX_ID))
        super().__init__(**kwargs)


class MailboxAddress(fields.String):
    """An e-mail address the court's SMTP server can carry: ASCII (an internationalised
    domain is sent in its ASCII form), no quoted local part, no control characters.

    Addresses that need SMTPUTF8 (`joão@exemplo.com.br`) are refused here with a 422
    rather than accepted and left to fail in the outbox: not every relay announces
    SMTPUTF8, and a court's mail must reach a person.
    """

    default_error_messages = {
        "invalid": "Informe um e-mail válido, sem acentos nem espaços antes do @ "
                   "(ex.: nome@exemplo.com.br).",
    }

    def _deserialize(self, value, attr, data, **kwargs):
        from email_validator import EmailNotValidError, validate_email

        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if len(text) > 254 or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
            raise self.make_error("invalid")
        try:
            checked = validate_email(text, check_deliverability=False, allow_smtputf8=False,
                                     allow_quoted_local=False, allow_domain_literal=False)
        except EmailNotValidError:
            raise self.make_error("invalid") from None
        return (checked.ascii_email or checked.normalized).lower()
