"""Shared pieces of the OpenAPI document and the self-hosted docs page."""

from pathlib import Path

from flask import Blueprint, render_template, send_from_directory, url_for

STAFF_SECURITY = [{"bearerAuth": []}]
MANAGE_SECURITY = [{"manageToken": []}, {"bearerAuth": []}]
# The 429 of every rate-limited route (Flask-Limiter answers it before the view runs).
RATE_LIMITED = ("Limite de requisições atingido; o cabeçalho Retry-After diz em quantos "
                "segundos tentar de novo.")

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "Token da equipe, obtido em POST /api/v1/auth/token.",
    },
    "manageToken": {
        "type": "http",
        "scheme": "bearer",
        "description": "Token de gestão de um agendamento, devolvido ao advogado ao agendar "
                       "(ou o token de um link enviado de novo pela página "
                       "/agendamentos/recuperar-link ou no lembrete, válido por "
                       "BOOKING_RECOVERED_LINK_DAYS dias).",
    },
    "integrationKey": {
        "type": "apiKey",
        "in": "header",
        "name": "X-Integration-Key",
        "description": "Chave de um sistema do tribunal (emitida por um administrador) que já "
                       "identificou o advogado: agenda confirmado, sem o código por e-mail.",
    },
}
# Who calls POST /api/v1/bookings: anyone (a hold, confirmed by the e-mailed code), or a
# system of the court with its integration key (confirmed at once).
BOOKING_SECURITY = [{}, {"integrationKey": []}]
INTEGRATION_KEY_HEADER = "X-Integration-Key"

docs_blp = Blueprint("apidocs", __name__)


def _swagger_ui_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


@docs_blp.get("/api/docs")
def docs_page():
    """Swagger UI served from the project's own files: the intranet may have no internet."""
    return render_template("apidocs.html", spec_url=url_for("api-docs.openapi_json"))


@docs_blp.get("/api/docs/assets/<path:filename>")
def docs_asset(filename: str):
    return send_from_directory(_swagger_ui_dir(), filename, max_age=86400)
