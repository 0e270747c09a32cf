"""Settings, read from the environment once at start.

Every setting is listed, with its default and meaning, in README.md.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Production-safe defaults; development relaxes only what is harmless."""

    ENV = os.environ.get("BOOKING_ENV", "production")
    SECRET_KEY = os.environ.get("SECRET_KEY")

    SQLALCHEMY_DATABASE_URI = os.environ.get(
        "DATABASE_URL", f"sqlite:///{BASE_DIR / 'instance' / 'booking.db'}"
    )
    SQLITE_BUSY_TIMEOUT_MS = _env_int("SQLITE_BUSY_TIMEOUT_MS", 15000)
    # A connection that died with a database restart is noticed and replaced, not served.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}

    # Requests larger than this are refused with 413 before they are read.
    MAX_CONTENT_LENGTH = _env_int("MAX_CONTENT_LENGTH", 64 * 1024)

    # Secrets the service reads back (TOTP) are sealed with this Fernet key; when empty,
    # with a key derived from SECRET_KEY (rotating SECRET_KEY then voids them).
    DATA_ENCRYPTION_KEY = os.environ.get("DATA_ENCRYPTION_KEY", "")

    # Argon2id's cost for staff passwords, one of argon2-cffi's profiles: RFC 9106's
    # low-memory one (64 MiB, 3 passes; about a quarter second a sign-in) or its high-memory
    # one (2 GiB, 1 pass). Hashes made at another cost are redone at the next sign-in.
    PASSWORD_HASH_PROFILE = os.environ.get("PASSWORD_HASH_PROFILE", "RFC_9106_LOW_MEMORY")

    # Staff accounts: links e-mailed to set or reset a password, and two-factor.
    ACCOUNT_LINK_TTL_HOURS = _env_int("ACCOUNT_LINK_TTL_HOURS", 48)
    # Roles that may sign in with a local password (comma-separated); the others only
    # through the identity provider. Keep at least one break-glass admin account.
    PASSWORD_LOGIN_ROLES = os.environ.get(
        "PASSWORD_LOGIN_ROLES", "magistrate,assistant,corregedoria,admin")
    # Roles that must use a second factor (TOTP) when they sign in with a password.
    TOTP_REQUIRED_ROLES = os.environ.get("TOTP_REQUIRED_ROLES", "admin,corregedoria")
    TOTP_ISSUER = os.environ.get("TOTP_ISSUER", "Agendamento TJMT")

    # Sign-in with the court's identity provider (OpenID Connect; off when no issuer).
    OIDC_ISSUER = os.environ.get("OIDC_ISSUER", "")
    OIDC_CLIENT_ID = os.environ.get("OIDC_CLIENT_ID", "")
    OIDC_CLIENT_SECRET = os.environ.get("OIDC_CLIENT_SECRET", "")
    OIDC_SCOPES = os.environ.get("OIDC_SCOPES", "openid email profile")
    OIDC_EMAIL_CLAIM = os.environ.get("OIDC_EMAIL_CLAIM", "email")
    OIDC_GROUPS_CLAIM = os.environ.get("OIDC_GROUPS_CLAIM", "groups")
    # "group=role,group=role": people whose groups map to a role get an account at their
    # first sign-in when OIDC_CREATE_FROM_GROUPS is on; otherwise an admin registers them.
    OIDC_GROUP_ROLES = os.environ.get("OIDC_GROUP_ROLES", "")
    OIDC_CREATE_FROM_GROUPS = _env_bool("OIDC_CREATE_FROM_GROUPS", False)
    OIDC_BUTTON_LABEL = os.environ.get("OIDC_BUTTON_LABEL", "Entrar com a conta do tribunal")

    # The directory's import: the largest file taken, in bytes, and rows per file.
    DIRECTORY_IMPORT_MAX_BYTES = _env_int("DIRECTORY_IMPORT_MAX_BYTES", 5 * 1024 * 1024)
    DIRECTORY_IMPORT_MAX_ROWS = _env_int("DIRECTORY_IMPORT_MAX_ROWS", 20_000)

    # The magistrates' own calendars, read for busy times (a published .ics or CalDAV).
    # Only these hosts are fetched (comma-separated; "*.tjmt.jus.br" patterns), only https
    # unless BUSY_SOURCE_ALLOW_HTTP (an intranet Exchange may need it).
    BUSY_SOURCE_ALLOWED_HOSTS = os.environ.get(
        "BUSY_SOURCE_ALLOWED_HOSTS", "outlook.office365.com,calendar.google.com,*.tjmt.jus.br")
    BUSY_SOURCE_ALLOW_HTTP = _env_bool("BUSY_SOURCE_ALLOW_HTTP", False)
    BUSY_SOURCE_REFRESH_MINUTES = _env_int("BUSY_SOURCE_REFRESH_MINUTES", 10)
    BUSY_SOURCE_TIMEOUT_SECONDS = _env_int("BUSY_SOURCE_TIMEOUT_SECONDS", 10)
    BUSY_SOURCE_MAX_BYTES = _env_int("BUSY_SOURCE_MAX_BYTES", 5 * 1024 * 1024)
    BUSY_SOURCE_FAILURES_BEFORE_NOTICE = _env_int("BUSY_SOURCE_FAILURES_BEFORE_NOTICE", 3)
    # The video room of each appointment: "fixed" (the magistrate's meeting link) or "jitsi"
    # (a room per appointment on the court's Jitsi Meet; with an app secret, a signed JWT).
    VIDEO_PROVIDER = os.environ.get("VIDEO_PROVIDER", "fixed")
    JITSI_BASE_URL = os.environ.get("JITSI_BASE_URL", "https://meet.tjmt.jus.br")
    JITSI_ROOM_PREFIX = os.environ.get("JITSI_ROOM_PREFIX", "tjmt-atendimento-")
    JITSI_APP_ID = os.environ.get("JITSI_APP_ID", "")
    JITSI_APP_SECRET = os.environ.get("JITSI_APP_SECRET", "")
    # A lawyer asked to choose another time has this long before the booking is cancelled.
    REBOOK_DEADLINE_HOURS = _env_int("REBOOK_DEADLINE_HOURS", 72)
    # A closure's decision is applied while the admin waits up to this many bookings;
    # beyond it the scheduler applies it and the closures page shows the progress.
    CLOSURE_INLINE_BOOKINGS = _env_int("CLOSURE_INLINE_BOOKINGS", 50)

    API_TOKEN_TTL_HOURS = _env_int("API_TOKEN_TTL_HOURS", 12)
    LOGIN_MAX_FAILURES = _env_int("LOGIN_MAX_FAILURES", 5)
    LOGIN_LOCKOUT_MINUTES = _env_int("LOGIN_LOCKOUT_MINUTES", 15)

    COURT_NAME = os.environ.get("COURT_NAME", "Tribunal de Justiça do Estado de Mato Grosso")
    COURT_TIMEZONE = os.environ.get("COURT_TIMEZONE", "America/Cuiaba")
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")
    # The court's calendar: holidays of Brazil and this state, and the year-end recess.
    HOLIDAY_SUBDIVISION = os.environ.get("HOLIDAY_SUBDIVISION", "MT")
    COURT_RECESS_ENABLED = _env_bool("COURT_RECESS_ENABLED", True)
    # Segment and court of the unified case number this court accepts (CNJ Res. 65/2008).
    COURT_CASE_CODE = os.environ.get("COURT_CASE_CODE", "8.11")
    MAX_FUTURE_BOOKINGS_PER_LAWYER = _env_int("MAX_FUTURE_BOOKINGS_PER_LAWYER", 2)
    # A booking from the public page or API holds its slot until the code e-mailed to the
    # address given is typed; then it is confirmed and the invites go. Live holds are capped
    # per e-mail and per client address so that nobody keeps an agenda blocked with them.
    # Co-counsel and others a lawyer may name on a booking (they receive the invites too).
    MAX_PARTICIPANTS = _env_int("MAX_PARTICIPANTS", 3)
    BOOKING_HOLD_MINUTES = _env_int("BOOKING_HOLD_MINUTES", 15)
    BOOKING_CONFIRM_MAX_TRIES = _env_int("BOOKING_CONFIRM_MAX_TRIES", 5)
    # A code that did not arrive may be replaced by a new one this many times, each at
    # least these seconds after the last (the hold keeps its expiry and its tries).
    BOOKING_CODE_RESENDS = _env_int("BOOKING_CODE_RESENDS", 2)
    BOOKING_CODE_RESEND_SECONDS = _env_int("BOOKING_CODE_RESEND_SECONDS", 60)
    BOOKING_MAX_HOLDS_PER_EMAIL = _env_int("BOOKING_MAX_HOLDS_PER_EMAIL", 2)
    BOOKING_MAX_HOLDS_PER_CLIENT = _env_int("BOOKING_MAX_HOLDS_PER_CLIENT", 5)
    # A browser that confirmed an address books with it without a code for these days
    # (0: always ask for the code).
    BOOKING_REMEMBER_DAYS = _env_int("BOOKING_REMEMBER_DAYS", 30)
    LAWYER_CHANGE_CUTOFF_HOURS = _env_int("LAWYER_CHANGE_CUTOFF_HOURS", 2)
    # A lawyer who lost the booking's e-mail asks for the links again (bookings/links.py):
    # each link sent that way works for these days.
    BOOKING_RECOVERED_LINK_DAYS = _env_int("BOOKING_RECOVERED_LINK_DAYS", 14)
    IDEMPOTENCY_TTL_HOURS = _env_int("IDEMPOTENCY_TTL_HOURS", 24)

    # Complaints about the attendance channels, and the Corregedoria's desk.
    CORREGEDORIA_EMAIL = os.environ.get("CORREGEDORIA_EMAIL", "corregedoria@tjmt.jus.br")
    COMPLAINT_FLAG_THRESHOLD = _env_int("COMPLAINT_FLAG_THRESHOLD", 5)
    # The public numbers (/transparencia) are counted again at most this often per process.
    TRANSPARENCY_CACHE_SECONDS = _env_int("TRANSPARENCY_CACHE_SECONDS", 600)
    # A report of a failure older than this is refused (the channel's logs are gone).
    COMPLAINT_MAX_AGE_DAYS = _env_int("COMPLAINT_MAX_AGE_DAYS", 365)
    COMPLAINT_OVERDUE_DAYS = _env_int("COMPLAINT_OVERDUE_DAYS", 10)
    # Files a reporter may attach (screenshots, photos, PDFs) to a complaint or a reply,
    # kept outside the web root under random names and removed with the reporter's data.
    COMPLAINT_MAX_FILES = _env_int("COMPLAINT_MAX_FILES", 3)
    COMPLAINT_MAX_FILE_BYTES = _env_int("COMPLAINT_MAX_FILE_BYTES", 5 * 1024 * 1024)
    COMPLAINT_FILES_DIR = os.environ.get("COMPLAINT_FILES_DIR",
                                         str(BASE_DIR / "instance" / "anexos"))
    # "local" (COMPLAINT_FILES_DIR) or "s3": a bucket of an S3-compatible store, where
    # several machines behind the load balancer see the same files.
    COMPLAINT_FILES_STORE = os.environ.get("COMPLAINT_FILES_STORE", "local")
    COMPLAINT_S3_BUCKET = os.environ.get("COMPLAINT_S3_BUCKET", "")
    COMPLAINT_S3_ENDPOINT = os.environ.get("COMPLAINT_S3_ENDPOINT", "")  # empty: AWS
    COMPLAINT_S3_REGION = os.environ.get("COMPLAINT_S3_REGION", "")
    COMPLAINT_S3_PREFIX = os.environ.get("COMPLAINT_S3_PREFIX", "reclamacoes/")
    # Empty: boto3's own chain (AWS_ACCESS_KEY_ID..., an instance role).
    COMPLAINT_S3_ACCESS_KEY = os.environ.get("COMPLAINT_S3_ACCESS_KEY", "")
    COMPLAINT_S3_SECRET_KEY = os.environ.get("COMPLAINT_S3_SECRET_KEY", "")
    # The link e-mailed when the Corregedoria asks the reporter a question lasts this long.
    COMPLAINT_REPLY_LINK_DAYS = _env_int("COMPLAINT_REPLY_LINK_DAYS", 30)
    COMPLAINT_RATE_LIMIT = os.environ.get("COMPLAINT_RATE_LIMIT", "5/minute;30/hour")
    LOOKUP_RATE_LIMIT = os.environ.get("LOOKUP_RATE_LIMIT", "30/minute")
    BOOKING_RATE_LIMIT = os.environ.get("BOOKING_RATE_LIMIT", "30/minute")
    URGENT_RATE_LIMIT = os.environ.get("URGENT_RATE_LIMIT", "5/hour")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10/minute")
    # An urgent request should be answered within these hours; with WORKING_DAYS on, only
    # hours of days the court works count (weekends, holidays, the recess, closures do not).
    URGENT_ANSWER_HOURS = _env_int("URGENT_ANSWER_HOURS", 48)
    URGENT_DEADLINE_WORKING_DAYS = _env_bool("URGENT_DEADLINE_WORKING_DAYS", True)

    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _env_int("MAIL_PORT", 1025)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get(
        "MAIL_DEFAULT_SENDER", "Agendamento TJMT <agendamento@tjmt.jus.br>"
    )
    MAIL_TIMEOUT_SECONDS = _env_int("MAIL_TIMEOUT_SECONDS", 15)
    # Where the unit has no office mailbox, and the ORGANIZER of every invite.
    SERVICE_MAILBOX = os.environ.get("SERVICE_MAILBOX", "agendamento@tjmt.jus.br")
    OUTBOX_MAX_ATTEMPTS = _env_int("OUTBOX_MAX_ATTEMPTS", 8)
    OUTBOX_BATCH_SIZE = _env_int("OUTBOX_BATCH_SIZE", 50)
    # SMTP connections the senders use at once, in all, and how long one run keeps draining.
    OUTBOX_SMTP_CONNECTIONS = _env_int("OUTBOX_SMTP_CONNECTIONS", 2)
    # Processes that send (the scheduler and OUTBOX_SENDER_PROCESSES - 1 beside it): a
    # message is built on one core; the SMTP connections above are shared among them.
    OUTBOX_SENDER_PROCESSES = _env_int("OUTBOX_SENDER_PROCESSES", 2)
    OUTBOX_DRAIN_SECONDS = _env_int("OUTBOX_DRAIN_SECONDS", 60)
    # Calendar writes and webhook sequences delivered at once (one thread each).
    OUTBOX_CHANNEL_WORKERS = _env_int("OUTBOX_CHANNEL_WORKERS", 4)
    # WhatsApp and SMS through the court's provider (booking/notifications/text_gateway.py):
    # without a gateway URL the option is not offered.
    MESSAGING_GATEWAY_URL = os.environ.get("MESSAGING_GATEWAY_URL", "")
    MESSAGING_GATEWAY_TOKEN = os.environ.get("MESSAGING_GATEWAY_TOKEN", "")
    MESSAGING_CHANNELS = os.environ.get("MESSAGING_CHANNELS", "whatsapp,sms")
    MESSAGING_TIMEOUT_SECONDS = _env_int("MESSAGING_TIMEOUT_SECONDS", 10)
    MESSAGING_TEMPLATE_BOOKED = os.environ.get("MESSAGING_TEMPLATE_BOOKED", "agendamento_confirmado")
    MESSAGING_TEMPLATE_RESCHEDULED = os.environ.get("MESSAGING_TEMPLATE_RESCHEDULED",
                                                    "agendamento_remarcado")
    MESSAGING_TEMPLATE_CANCELLED = os.environ.get("MESSAGING_TEMPLATE_CANCELLED",
                                                  "agendamento_cancelado")
    MESSAGING_TEMPLATE_REMINDER = os.environ.get("MESSAGING_TEMPLATE_REMINDER",
                                                 "agendamento_lembrete")
    # A webhook subscriber has this long to answer each delivery.
    WEBHOOK_TIMEOUT_SECONDS = _env_int("WEBHOOK_TIMEOUT_SECONDS", 5)
    # The log of delivery attempts (no personal data) is for diagnosing a subscriber: a row
    # per attempt, a few per booking, kept this long and then deleted.
    WEBHOOK_DELIVERY_RETENTION_DAYS = _env_int("WEBHOOK_DELIVERY_RETENTION_DAYS", 90)
    FIRST_REMINDER_HOURS = _env_int("FIRST_REMINDER_HOURS", 24)
    SECOND_REMINDER_HOURS = _env_int("SECOND_REMINDER_HOURS", 1)
    DAILY_AGENDA_HOUR = _env_int("DAILY_AGENDA_HOUR", 7)
    MAIL_CATCHER_DIR = os.environ.get("MAIL_CATCHER_DIR", str(BASE_DIR / "instance" / "mail"))

    SCHEDULER_LOCK_FILE = os.environ.get(
        "SCHEDULER_LOCK_FILE", str(BASE_DIR / "instance" / "scheduler.lock")
    )

    # /readyz answers 503 when no scheduler job finished for this long (0: not checked).
    READYZ_SCHEDULER_MAX_AGE_SECONDS = _env_int("READYZ_SCHEDULER_MAX_AGE_SECONDS", 300)

    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    # A moving window: no double burst across a minute's boundary (fixed windows allow one).
    RATELIMIT_STRATEGY = os.environ.get("RATELIMIT_STRATEGY", "moving-window")
    # How many proxies in front set X-Forwarded-For/-Proto (0: trust no such header).
    PROXY_FIX_HOPS = _env_int("PROXY_FIX_HOPS", 0)

    # Operations. "json": one JSON object per log line and one line per request (for a log
    # collector); "text": lines for a person at a terminal.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    # Who may read /metrics: a bearer token, or addresses in these networks (CIDR, comma
    # separated). With neither, nobody.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    METRICS_ALLOWED_NETWORKS = os.environ.get("METRICS_ALLOWED_NETWORKS", "")
    # A small install on SQLite: every web worker runs on this one machine (flask check).
    SQLITE_SINGLE_MACHINE = _env_bool("SQLITE_SINGLE_MACHINE", False)

    # LGPD: personal data is kept only as long as needed.
    RETENTION_DAYS = _env_int("RETENTION_DAYS", 365)
    OUTBOX_BODY_RETENTION_DAYS = _env_int("OUTBOX_BODY_RETENTION_DAYS", 30)
    # A hold nobody confirmed was maybe typed by someone else: its data goes sooner.
    HOLD_RETENTION_DAYS = _env_int("HOLD_RETENTION_DAYS", 7)
    # A complaint nobody closed is anonymised this long after it was filed.
    COMPLAINT_OPEN_RETENTION_DAYS = _env_int("COMPLAINT_OPEN_RETENTION_DAYS", 730)
    DATA_PROTECTION_CONTACT = os.environ.get("DATA_PROTECTION_CONTACT", "encarregado.lgpd@tjmt.jus.br")
    RATELIMIT_HEADERS_ENABLED = True

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    WTF_CSRF_TIME_LIMIT = None

    # flask-smorest: the OpenAPI document is generated from the schemas.
    API_TITLE = "Agendamento de atendimento com magistrados — TJMT"
    API_VERSION = "1.0.0"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api"
    OPENAPI_JSON_PATH = "openapi.json"
    JSON_SORT_KEYS = False


class DevelopmentConfig(Config):
    """`make run`: a fixed key and plain-HTTP cookies so the demo works locally."""

    ENV = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "development-only-not-secret"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    # A Prometheus on the developer's own machine may scrape.
    METRICS_ALLOWED_NETWORKS = os.environ.get("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128")


class TestConfig(Config):
    """The suite passes its own database URL; everything else is deterministic."""

    ENV = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SESSION_COOKIE_SECURE = False
    # CSRF stays on: the suite's client posts forms with the token a page gave it.
    # Limits are off unless a test turns them on (the shared-limits test, under gunicorn).
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", False)
    TRANSPARENCY_CACHE_SECONDS = 0  # each test counts what it wrote
    MAIL_SUPPRESS_SEND = False
    # Nobody's password here is real: the cheapest hash spares each sign-in a quarter second.
    PASSWORD_HASH_PROFILE = "CHEAPEST"


CONFIGS = {"production": Config, "development": DevelopmentConfig, "test": TestConfig}


def config_for_environment() -> type[Config]:
    """The config class named by BOOKING_ENV (production when unset)."""
    name = os.environ.get("BOOKING_ENV", "production")
    try:
        return CONFIGS[name]
    except KeyError:
        raise RuntimeError(
            f"BOOKING_ENV={name!r} is not one of {', '.join(CONFIGS)}."
        ) from None
