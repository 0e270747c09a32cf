"""Every error on an /api/ path becomes application/problem+json (RFC 9457).

HTML pages get a Portuguese error page instead. Nothing ever shows a client a
stack trace: unexpected exceptions are logged here and answered with a 500.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template, request
from flask_smorest import Api
from marshmallow import Schema, fields
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .domain import InvalidField, NotAllowedNow
from .extensions import db

log = logging.getLogger(__name__)

PROBLEM_MIMETYPE = "application/problem+json"

TITLES = {
    400: "Requisição malformada",
    401: "Autenticação necessária",
    403: "Acesso negado",
    404: "Não encontrado",
    405: "Método não permitido",
    409: "Conflito",
    413: "Requisição grande demais",
    415: "Tipo de conteúdo não suportado",
    422: "Dados inválidos",
    429: "Muitas requisições",
    500: "Erro interno",
    503: "Serviço indisponível",
}

DETAILS = {
    400: "A requisição não pôde ser lida.",
    401: "Envie um token válido no cabeçalho Authorization: Bearer.",
    403: "Você não tem permissão para esta operação.",
    404: "O endereço pedido não existe.",
    405: "Este método não é aceito neste endereço.",
    409: "A operação conflita com a situação atual do registro.",
    413: "O corpo da requisição passa do tamanho permitido.",
    415: "Envie o corpo como application/json.",
    422: "Alguns campos têm valores inválidos.",
    429: "Limite de requisições atingido. Tente novamente mais tarde.",
    500: "Ocorreu um erro inesperado. A equipe técnica foi avisada.",
    503: "O serviço está temporariamente indisponível. Tente novamente em instantes.",
}


class ProblemSchema(Schema):
    """An RFC 9457 problem document, as every API error is answered."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String(metadata={"example": "Dados inválidos"})
    status = fields.Integer(metadata={"example": 422})
    detail = fields.String()
    code = fields.String(metadata={"description": "Motivo de um 409, legível por máquina.",
                                   "example": "slot_taken"})
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "Field name to its messages, for validation errors."},
    )
    request_id = fields.String(metadata={
        "description": "Identificador desta requisição (o X-Request-ID enviado ou um novo): "
                       "informe-o ao suporte para que encontre o ocorrido nos registros.",
        "example": "3f2b8c0e9d4a4f6b8e1c2d3a4b5c6d7e"})


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """Turn marshmallow/webargs nested messages into {"lawyer.oab": ["..."]}.

    The request location (json, query) that webargs puts on top is dropped.
    """
    if isinstance(messages, dict) and prefix == "" and set(messages) <= {
        "json", "query", "form", "headers", "files", "view_args", "path", "cookies",
    }:
        flat: dict[str, list[str]] = {}
        for inner in messages.values():
            for key, value in flatten_errors(inner, "").items():
                flat.setdefault(key, []).extend(value)
        return flat
    if isinstance(messages, dict):
        flat = {}
        for key, value in messages.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            flat.update(flatten_errors(value, name) if isinstance(value, dict) else {
                name: _as_messages(value)
            })
        return flat
    return {prefix or "_schema": _as_messages(messages)}


def _as_messages(value) -> list[str]:
    if isinstance(value, list):
        out: list[str] = []
        for item in value:
            out.extend(_as_messages(item) if isinstance(item, (list, dict)) else [str(item)])
        return out
    if isinstance(value, dict):
        return [m for v in value.values() for m in _as_messages(v)]
    return [str(value)]


def problem_response(status: int, detail: str | None = None, *, title: str | None = None,
                     errors: dict | None = None, type_: str = "about:blank",
                     headers: dict | None = None):
    """A problem+json response; the one way the API reports an error."""
    body = {
        "type": type_,
        "title": title or TITLES.get(status, "Erro"),
        "status": status,
        "detail": detail or DETAILS.get(status, ""),
    }
    if errors:
        body["errors"] = errors
    if g.get("request_id"):
        body["request_id"] = g.request_id
    response = current_app.json.response(body)
    response.status_code = status
    response.mimetype = PROBLEM_MIMETYPE
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


class ProblemApi(Api):
    """flask-smorest's Api, answering errors as problem+json and documenting that."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):
        return handle_http_error(error)

    def _register_responses(self):
        """Document every error response as application/problem+json, as it is served."""
        import http

        from flask_smorest.utils import prepare_response

        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            content_type = self.DEFAULT_RESPONSE_CONTENT_TYPE
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
                content_type = PROBLEM_MIMETYPE if status >= 400 else content_type
            prepare_response(response, self.spec, content_type)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Erro (RFC 9457)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_MIMETYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def handle_http_error(error: HTTPException):
    code = error.code or 500
    if code >= 500:
        original = getattr(error, "original_exception", None)
        if original is not None:
            return handle_unexpected(original)
    data = getattr(error, "data", None) or {}
    if not is_api_request():
        return _html_error(code, data.get("message"))
    errors = None
    if "messages" in data or "errors" in data:
        errors = flatten_errors(data.get("errors") or data.get("messages"))
    detail = data.get("message")
    if code == 400 and errors:
        detail = detail or "O corpo não é um JSON válido."
        errors = None
    headers = dict(data.get("headers") or {})
    if code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="api"')
    if code == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if code == 429:  # the route's own Retry-After, if it said one, else the limiter's
        headers = {**_retry_after(error), **headers}
    response = problem_response(code, detail, errors=errors, headers=headers,
                                type_=data.get("type", "about:blank"))
    if data.get("code"):  # an RFC 9457 extension member a client can switch on
        body = response.get_json()
        body["code"] = data["code"]
        response.set_data(current_app.json.dumps(body))
    return response


def _retry_after(error) -> dict:
    """Flask-Limiter puts Retry-After on its own response; carry it over."""
    response = getattr(error, "response", None)
    if response is not None and "Retry-After" in response.headers:
        return {"Retry-After": response.headers["Retry-After"]}
    return {"Retry-After": "60"}


def handle_database_unavailable(error: Exception):
    """A lost or locked database is a 503 the client may retry, never a 500."""
    log.error("database unavailable: %s", error)
    db.session.rollback()
    if not is_api_request():
        return _html_error(503)
    return problem_response(503, headers={"Retry-After": "5"})


def handle_unexpected(error: Exception):
    if isinstance(error, HTTPException) and (error.code or 500) < 500:
        return handle_http_error(error)
    if isinstance(error, (OperationalError, InterfaceError)):
        return handle_database_unavailable(error)
    log.exception("unexpected error on %s %s", request.method, request.path, exc_info=error)
    try:
        db.session.rollback()
    except Exception:  # the session may be unusable; the answer must still go out
        log.exception("rollback failed after an unexpected error")
    if not is_api_request():
        return _html_error(500)
    return problem_response(500)


def handle_invalid_field(error: InvalidField):
    """A use case refused a value: 422 naming the field (pages: the error page with the message).

    Pages with a form catch it first to show the message beside the field.
    """
    db.session.rollback()
    if not is_api_request():
        return _html_error(422, str(error))
    return problem_response(422, errors=error.errors)


def handle_not_allowed_now(error: NotAllowedNow):
    """A use case refused a change in this state: 409 with a code a client can switch on."""
    db.session.rollback()
    if not is_api_request():
        return _html_error(409, str(error))
    response = problem_response(409, str(error))
    body = response.get_json()
    body["code"] = error.code
    response.set_data(current_app.json.dumps(body))
    return response


def form_errors(error: InvalidField | NotAllowedNow) -> tuple[dict[str, list[str]], int]:
    """For a page with a form: the message beside its field (409s at the top), and the status."""
    db.session.rollback()
    if isinstance(error, InvalidField):
        return {field.removeprefix("lawyer."): messages
                for field, messages in error.errors.items()}, 422
    return {"_schema": [str(error)]}, 409


CSRF_MESSAGE = ("O formulário expirou ou não pôde ser validado. "
                "Recarregue a página e envie de novo.")


def handle_csrf_error(error):
    """A form sent without a valid CSRF token: usually an old page; say how to recover."""
    if is_api_request():
        return problem_response(400, "Token CSRF ausente ou inválido.")
    return _html_error(400, CSRF_MESSAGE)


def _html_error(code: int, message: str | None = None):
    message = message or DETAILS.get(code, "")
    try:
        body = render_template("error.html", code=code, title=TITLES.get(code, "Erro"),
                               message=message)
    except Exception:  # a broken template must not hide the original error
        log.exception("error page failed to render")
        body = f"<h1>{code}</h1><p>{message}</p>"
    return body, code


def register_error_handlers(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(InvalidField, handle_invalid_field)
    app.register_error_handler(NotAllowedNow, handle_not_allowed_now)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(Exception, handle_unexpected)
    app.register_error_handler(InternalServerError, handle_http_error)
