"""Which request (or scheduler job) a log line belongs to, and the line per request.

Every request gets an id: the caller's `X-Request-ID` when it is a sane token, otherwise a
new one. It is sent back in the `X-Request-ID` header and in every problem+json answer, and
it is on every log line the request causes, so that an operator goes from a citizen's
error message to the lines behind it. The scheduler's jobs get an id of their own.

LOG_FORMAT=json writes one JSON object per line (what a log collector reads), including
one line per request with its method, route pattern, status and duration: the route's
pattern, never the path, so that no token or personal value reaches the log. The default,
plain text, is for people reading a terminal (`make run`), where gunicorn's access log
already says the same.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextlib import contextmanager
from contextvars import ContextVar

from flask import Flask, current_app, g, request

from . import log_redaction

REQUEST_ID_HEADER = "X-Request-ID"
# What a caller may choose as an id: short and plain, so that it cannot forge log lines.
ACCEPTABLE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PLAIN_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s"
JSON_FIELDS = "{levelname}{name}{message}"
JSON_RENAMES = {"levelname": "level", "name": "logger"}

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)
request_log = logging.getLogger("booking.request")


def new_id() -> str:
    return uuid.uuid4().hex


def chosen_or_new_id(offered: str | None) -> str:
    return offered if offered and ACCEPTABLE_ID.fullmatch(offered) else new_id()


class AddRequestId(logging.Filter):
    """Puts the current request's (or job's) id on the record; '-' outside of both."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id.get() or "-"
        return True


def json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(JSON_FIELDS, style="{", rename_fields=JSON_RENAMES, timestamp="time",
                         json_ensure_ascii=False)  # Portuguese stays readable


def configure_logging(log_format: str) -> None:
    """The root logger's handler writes plain text or JSON, with the request id, and
    never a secret. Once per process; a second app in the same process (tests) keeps it."""
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=logging.INFO)
    for handler in root.handlers:
        handler.setFormatter(json_formatter() if log_format == "json"
                             else logging.Formatter(PLAIN_FORMAT))
        if not any(isinstance(f, AddRequestId) for f in handler.filters):
            handler.addFilter(AddRequestId())
    log_redaction.install()


@contextmanager
def job_context(name: str):
    """Lines a scheduler job writes carry an id of that run."""
    token = current_request_id.set(f"job-{name}-{new_id()[:12]}")
    try:
        yield current_request_id.get()
    finally:
        current_request_id.reset(token)


def install(app: Flask) -> None:
    """Give each request its id (first hook of all) and, in JSON mode, its log line."""
    def take_request_id():
        g.request_started = time.perf_counter()
        g.request_id = chosen_or_new_id(request.headers.get(REQUEST_ID_HEADER))
        g.request_id_token = current_request_id.set(g.request_id)

    app.before_request_funcs.setdefault(None, []).insert(0, take_request_id)

    @app.after_request
    def send_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        if request_id and current_app.config.get("LOG_FORMAT") == "json":
            route = request.url_rule.rule if request.url_rule else "(sem rota)"
            request_log.info("%s %s %s", request.method, route, response.status_code, extra={
                "method": request.method, "route": route, "status": response.status_code,
                "duration_ms": round((time.perf_counter() - g.request_started) * 1000, 1),
            })
        return response

    @app.teardown_request
    def forget_request_id(_error=None):
        token = g.pop("request_id_token", None)
        if token is not None:
            current_request_id.reset(token)
