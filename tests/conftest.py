"""A fresh app and database per test, on SQLite and on PostgreSQL.

The schema comes from the migrations, never from create_all: each backend is
migrated once into a template, and every test gets its own copy of it.
Which backends run is set by BOOKING_TEST_DATABASES (default both).
"""

from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

import pytest
from flask_migrate import upgrade

from booking import create_app
from booking.extensions import db
from config import TestConfig
from tests.support.page_client import PageClient
from tests.support.postgres import PostgresServer

BACKENDS = [name.strip() for name in
            os.environ.get("BOOKING_TEST_DATABASES", "sqlite,postgresql").split(",") if name.strip()]
_counter = itertools.count()


# Complaint files written by the tests go under pytest's own temporary folder (set by the
# session fixture below), never under the project's instance folder.
_files_root: list[Path] = []


@pytest.fixture(scope="session", autouse=True)
def complaint_files_root(tmp_path_factory) -> Path:
    _files_root.append(tmp_path_factory.mktemp("complaint-files"))
    return _files_root[-1]


def make_app(database_url: str, **overrides):
    if _files_root:
        overrides.setdefault("COMPLAINT_FILES_DIR", str(_files_root[-1]))
    app = create_app({**_config_dict(), "SQLALCHEMY_DATABASE_URI": database_url, **overrides})
    app.test_client_class = PageClient  # forms carry the CSRF token, as in a browser
    return app


def _config_dict() -> dict:
    return {key: getattr(TestConfig, key) for key in dir(TestConfig) if key.isupper()}


def migrate_to_head(database_url: str) -> None:
    """The schema, and the test integration key (factories.DIRECT) every test may use."""
    from tests.support.factories import make_integration_key

    app = make_app(database_url)
    with app.app_context():
        upgrade()
        make_integration_key()
        db.session.commit()
        db.engine.dispose()


@pytest.fixture(scope="session")
def postgres_server():
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    migrate_to_head(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server) -> str:
    postgres_server.admin_execute("CREATE DATABASE booking_template")
    migrate_to_head(postgres_server.url("booking_template"))
    return "booking_template"


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    """A freshly migrated, empty SQLite database file."""
    path = tmp_path / "booking.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def postgresql_url(postgres_server, postgres_template):
    """A freshly migrated, empty PostgreSQL database, dropped after the test."""
    name = f"booking_test_{os.getpid()}_{next(_counter)}"
    postgres_server.admin_execute(f"CREATE DATABASE {name} TEMPLATE {postgres_template}")
    yield postgres_server.url(name)
    postgres_server.admin_execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def database_url(request) -> str:
    """Each test that asks for a database runs once per backend."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def app(database_url, tmp_path):
    app = make_app(database_url, SCHEDULER_LOCK_FILE=str(tmp_path / "scheduler.lock"),
                   MAIL_CATCHER_DIR=str(tmp_path / "mail"))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def backend(database_url) -> str:
    return "sqlite" if database_url.startswith("sqlite") else "postgresql"


@pytest.fixture
def smtp_server():
    from tests.support.smtp import SmtpServer

    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def mail_app(database_url, tmp_path, smtp_server):
    """An app whose mail goes to the loopback SMTP server of the test."""
    app = make_app(database_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.port,
                   MAIL_TIMEOUT_SECONDS=5, SCHEDULER_LOCK_FILE=str(tmp_path / "scheduler.lock"))
    yield app
    with app.app_context():
        db.engine.dispose()
