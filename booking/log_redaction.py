"""No secret reaches a log line: a filter on the log handlers rewrites `token=...`,
`code=...` and `Bearer ...` before a record is written, whichever logger made it (ours,
Flask's, gunicorn's). gunicorn's access log already drops query strings (gunicorn.conf.py);
this catches what any other line might quote, such as a URL in an error message."""

from __future__ import annotations

import logging
import re

SECRET_IN_TEXT = re.compile(
    r"(?P<name>\b(?:token|lookup_token|manage_token|access_token|code|otp)=)[^&\s\"'<>]+"
    r"|(?P<scheme>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE)
REDACTED = "[redigido]"
# The loggers whose handlers write lines: the root one, and gunicorn's own.
WRITING_LOGGERS = ("", "gunicorn.error", "gunicorn.access")


def redact(text: str) -> str:
    return SECRET_IN_TEXT.sub(lambda m: (m.group("name") or m.group("scheme")) + REDACTED, text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install(loggers=WRITING_LOGGERS) -> None:
    """Put the filter on every handler of these loggers (once)."""
    for name in loggers:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, RedactSecrets) for f in handler.filters):
                handler.addFilter(RedactSecrets())
