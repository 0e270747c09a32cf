"""The appointment-booking service of the Tribunal de Justiça de Mato Grosso.

create_app() builds the web application: it binds the extensions, registers
the blueprints, error handlers and CLI commands, and never starts a scheduler.
"""

from __future__ import annotations

import logging
import os
import re

from flask import Flask, request

from . import (
    metrics,
    models,  # noqa: F401  (the whole metadata, for migrations)
    proxies,
    request_log,
    validation_messages,  # noqa: F401  (before any schema is defined)
)
from .database import configure_engine, include_in_autogenerate, read_only_transaction
from .errors import ProblemApi, problem_response, register_error_handlers
from .extensions import csrf, db, limiter, login_manager, mail
from .sessions import LazyCookieSessionInterface

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Routes that take files, each with its size limit's setting: the directory's
# spreadsheets, and the files of a complaint or of its reporter's reply (API and pages).
_DIRECTORY_UPLOADS = re.compile(r"/api/v1/admin/directory/import|/equipe/diretorio/importar")
_COMPLAINT_UPLOADS = re.compile(r"/api/v1/complaints(/[^/]+/messages)?"
                                r"|/reclamacoes/nova|/reclamacoes/acompanhar/responder")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'{form_targets}; "
    "frame-ancestors 'none'")


def security_headers_for(app: Flask) -> tuple[tuple[str, str], ...]:
    """The headers every answer carries. Logging out posts a form that the identity
    provider's logout page answers, so its origin joins form-action when one is set."""
    from urllib.parse import urlsplit

    issuer = urlsplit(app.config.get("OIDC_ISSUER") or "")
    form_targets = f" {issuer.scheme}://{issuer.netloc}" if issuer.netloc else ""
    return (
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "same-origin"),
        ("Content-Security-Policy", CONTENT_SECURITY_POLICY.format(form_targets=form_targets)),
    )


def create_app(config: type | dict | None = None) -> Flask:
    """Build the app from a config class (default: from BOOKING_ENV) or a mapping."""
    from config import Config, config_for_environment

    app = Flask(__name__, instance_relative_config=False)
    if isinstance(config, dict):
        app.config.from_object(Config)
        app.config.update(config)
    else:
        app.config.from_object(config or config_for_environment())
    _require_secret_key(app)
    app.session_interface = LazyCookieSessionInterface()
    app.json.ensure_ascii = False  # Portuguese text stays readable in JSON
    app.json.sort_keys = False
    request_log.configure_logging(app.config["LOG_FORMAT"])

    proxies.trust_proxies(app)
    _init_extensions(app)
    _register_blueprints(app)
    _connect_domains()
    register_error_handlers(app)
    _register_request_hooks(app)
    _register_template_helpers(app)

    from .cli import register_commands

    register_commands(app)
    return app


def _require_secret_key(app: Flask) -> None:
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY não definida: defina um valor longo e aleatório no ambiente. / "
            "SECRET_KEY is not set. Set it in the environment to a long random value "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))'). "
            "Only BOOKING_ENV=development provides a default."
        )


def _ensure_sqlite_folder(app: Flask) -> None:
    """The embedded default lives in instance/, which a fresh clone does not have."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)


def _init_extensions(app: Flask) -> None:
    from .openapi import SECURITY_SCHEMES

    _ensure_sqlite_folder(app)
    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    if os.environ.get("BOOKING_WEB_WORKER") != "1":
        _init_migrations(app)
    else:  # what a worker's first requests would otherwise do while people wait
        from .formatting import load_locale_data
        from .security import prepare_password_hashing

        load_locale_data()
        prepare_password_hashing(app.config["PASSWORD_HASH_PROFILE"])
    mail.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from .accounts import oidc

    oidc.configure(app)
    login_manager.login_view = "accounts_pages.login"
    login_manager.login_message = "Entre com sua conta para ver esta página."
    login_manager.login_message_category = "info"
    api = ProblemApi(spec_kwargs={"info": {
        "description": (
            "API pública e da equipe do serviço de agendamento de atendimento com "
            "magistrados do TJMT, e do formulário de reclamações sobre os canais de "
            "atendimento digital. Erros seguem o RFC 9457 (application/problem+json)."
        ),
    }})
    api.init_app(app)
    from . import routing

    routing.install(app, api)
    for name, scheme in SECURITY_SCHEMES.items():
        api.spec.components.security_scheme(name, scheme)
    app.extensions["booking_api"] = api


def _init_migrations(app: Flask) -> None:
    """Flask-Migrate for `flask db` and the tests. A web worker (gunicorn.conf.py marks
    it) never migrates: it does not import Alembic, about 11 MB per worker."""
    # Imported after logging is set up: Alembic would say, at INFO, which of its own
    # plugins it loaded, on every command's output.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from flask_migrate import Migrate

    Migrate(app, db, directory=str(_migrations_dir()), render_as_batch=True,
            compare_type=True, include_object=include_in_autogenerate)


def _migrations_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _register_blueprints(app: Flask) -> None:
    """Each domain's API blueprint is named after its package (`bookings`), its pages'
    blueprint likewise with `_pages` (`bookings_pages`): url_for names can be guessed."""
    from .accounts import api as accounts_api
    from .accounts import views as accounts_views
    from .availability import api as availability_api
    from .availability import views as availability_views
    from .bookings import api as bookings_api
    from .bookings import views as bookings_views
    from .complaints import api as complaints_api
    from .complaints import views as complaints_views
    from .courts import api as courts_api
    from .courts import views as courts_views
    from .directory import api as directory_api
    from .directory import views as directory_views
    from .health import health_blp
    from .metrics import metrics_blp
    from .notifications import api as notifications_api
    from .notifications import views as notifications_views
    from .openapi import docs_blp
    from .pages import pages_blp
    from .transparency import api as transparency_api
    from .transparency import views as transparency_views
    from .webhooks import api as webhooks_api
    from .webhooks import views as webhooks_views

    api = app.extensions["booking_api"]
    for blueprint in (accounts_api.blp, courts_api.blp, directory_api.blp, availability_api.blp,
                      bookings_api.blp, notifications_api.blp, complaints_api.blp,
                      webhooks_api.blp, transparency_api.blp):
        api.register_blueprint(blueprint)
        csrf.exempt(blueprint)  # the API authenticates with tokens, not cookies
    for blueprint in (health_blp, metrics_blp, docs_blp, pages_blp, accounts_views.blp, courts_views.blp,
                      availability_views.blp, bookings_views.blp, notifications_views.blp,
                      complaints_views.blp, directory_views.blp, webhooks_views.blp,
                      transparency_views.blp):
        app.register_blueprint(blueprint)


def _connect_domains() -> None:
    """What lower packages call back into, registered by the upper ones (no import loop)."""
    from .accounts.staff import register_mailer
    from .availability.service import register_change_listener
    from .bookings import conflicts, links, messages, waitlist
    from .bookings.messages import render_booking_payload, write_to_magistrate_calendar
    from .bookings.service import cancel_future_bookings
    from .courts.directory import register_change_listener as register_directory_listener
    from .courts.directory import register_departure_handler
    from .notifications import text_gateway
    from .notifications.service import (
        queue,
        register_channel,
        register_freshness,
        register_renderer,
    )
    from .webhooks import service as webhooks

    register_renderer("booking_", render_booking_payload)
    register_renderer("daily_agenda", messages.render_daily_agenda)
    register_renderer(links.KIND, links.render_links)
    register_freshness(links.KIND, links.links_still_useful,
                       "Nenhum agendamento futuro com este endereço: nada a enviar.")
    register_freshness("daily_agenda", messages.daily_agenda_still_useful)
    register_freshness("booking_reminder", messages.reminder_still_true)
    register_freshness("booking_code", messages.code_still_useful)
    register_renderer(waitlist.CODE_KIND, waitlist.render_code)
    register_freshness(waitlist.CODE_KIND, waitlist.code_still_useful)
    register_channel("calendar_", write_to_magistrate_calendar)
    register_channel(webhooks.KIND, webhooks.deliver)
    register_channel(webhooks.FANOUT_KIND, webhooks.fan_out)
    register_channel("text_", text_gateway.deliver)
    register_freshness("text_reminder", messages.reminder_still_true)
    register_departure_handler(cancel_future_bookings)
    register_directory_listener(webhooks.publish_directory_change)
    register_mailer(queue)
    register_change_listener(conflicts.detect)


def _register_template_helpers(app: Flask) -> None:
    from zoneinfo import ZoneInfo

    from . import formatting

    app.jinja_env.filters.update(
        long_date=formatting.long_date, short_date=formatting.short_date,
        modes_label=formatting.modes_label, phone=formatting.phone_label,
        dialable=formatting.dialable)
    app.jinja_env.globals.update(age_label=formatting.age_label)
    from .courts.models import CHANNEL_KIND_LABELS

    app.jinja_env.globals.update(channel_kind_labels=CHANNEL_KIND_LABELS)
    from .bookings.messages import location_of

    # where an appointment happens, for the pages of the people involved (never public)
    app.jinja_env.globals.update(booking_location=location_of)
    from . import requesters
    from .bookings.models import BOOKING_STATUS_LABELS

    app.jinja_env.globals.update(asker=requesters.asker, asker_label=requesters.label,
                                 requester_types=requesters.TYPES)
    app.jinja_env.globals.update(moment_label=formatting.moment_label,
                                 mode_labels=formatting.MODE_LABELS, zone_info=ZoneInfo,
                                 booking_status_labels=BOOKING_STATUS_LABELS)


def _register_request_hooks(app: Flask) -> None:
    from . import input_guard

    def allow_uploads():
        """Routes that take files read bodies up to their own limit, not MAX_CONTENT_LENGTH.
        First of all hooks: CSRFProtect's own reads the form."""
        if request.method not in BODY_METHODS or request.mimetype != "multipart/form-data":
            return  # a JSON body keeps MAX_CONTENT_LENGTH
        if _DIRECTORY_UPLOADS.fullmatch(request.path):
            request.max_content_length = app.config["DIRECTORY_IMPORT_MAX_BYTES"] * 4
        elif _COMPLAINT_UPLOADS.fullmatch(request.path):
            from .complaints.files import upload_limit

            request.max_content_length = upload_limit()

    app.before_request_funcs.setdefault(None, []).insert(0, allow_uploads)

    @app.before_request
    def mark_read_only_transactions():
        read_only_transaction.set(request.method in SAFE_METHODS)

    @app.before_request
    def require_json_bodies():
        """415 for an API write whose body is not JSON, before anything reads it."""
        if (
            request.path.startswith("/api/")
            and request.method in BODY_METHODS
            and (request.content_length or request.headers.get("Transfer-Encoding"))
            and not request.is_json
            and not (request.mimetype == "multipart/form-data"
                     and (_DIRECTORY_UPLOADS.fullmatch(request.path)
                          or _COMPLAINT_UPLOADS.fullmatch(request.path)))
        ):
            return problem_response(415)
        return None

    input_guard.install(app)  # after the 415 check: it reads JSON bodies
    metrics.install(app)
    request_log.install(app)  # last: its hook goes first of all, every answer gets an id

    headers = security_headers_for(app)

    @app.after_request
    def security_headers(response):
        """The defaults every answer carries; a view that set its own keeps it."""
        present = {name.lower() for name in response.headers.keys()}
        for name, value in headers:
            if name.lower() not in present:
                response.headers.add(name, value)
        return response
