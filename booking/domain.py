"""The two ways a use case refuses, shared by every domain package.

Services raise these; `errors.py` maps them once: `InvalidField` to a 422
naming the field, `NotAllowedNow` to a 409 with a machine-readable code (on
pages, the message beside the field or on the error page). Routes do not
catch them to translate them.
"""

from __future__ import annotations


class InvalidField(ValueError):
    """422: a field's value cannot be accepted; the message is for a person. `more` holds
    the other fields refused at the same time (a form's unanswered questions), so that one
    answer names them all."""

    def __init__(self, message: str, field: str = "_schema", *,
                 more: dict[str, str] | None = None):
        super().__init__(message)
        self.field = field
        self.more = more or {}

    @property
    def errors(self) -> dict[str, list[str]]:
        """Every refused field with its message, this one first."""
        return {self.field: [str(self)], **{field: [message] for field, message
                                             in self.more.items()}}


class NotAllowedNow(Exception):
    """409: the state of things does not allow this change now (a taken slot, a closed case)."""

    def __init__(self, message: str, code: str = "conflict"):
        super().__init__(message)
        self.code = code


DomainError = (InvalidField, NotAllowedNow)
