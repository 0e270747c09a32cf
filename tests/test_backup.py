"""Backups that restore: `flask --app wsgi backup FILE` copies a populated database (SQLite's
online backup; pg_dump's custom format), and the copy, restored (on PostgreSQL into a
fresh server with pg_restore, as the README says), holds every booking, complaint and
outbox message, and the service works on it (a lawyer's manage token still opens the
booking); the complaints' files go beside it (FILE.anexos), and a reporter opens theirs
from the restored service."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import make_app
from tests.support.factories import bearer
from tests.support.files import screenshot
from tests.support.postgres import PostgresServer
from tests.test_bookings_api import book, desk  # noqa: F401  (the fixture)
from tests.test_complaint_files import api_file, upload
from tests.test_complaints import report

REPO = Path(__file__).resolve().parent.parent
TABLES = {"booking": "id, status, start_at, lawyer_email",
          "complaint": "id, protocol, status, description",
          "outbox_message": "id, dedupe_key, status, recipients"}


def backup(database_url: str, destination: Path, files: Path | None = None
           ) -> subprocess.CompletedProcess:
    env = {**os.environ, "BOOKING_ENV": "test", "DATABASE_URL": database_url,
           "COMPLAINT_FILES_DIR": str(files or destination.parent / "sem-anexos")}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "backup",
                           str(destination)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120)


def contents(database_url: str) -> dict[str, list[tuple]]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return {table: [tuple(row) for row in connection.execute(
                        text(f"SELECT {columns} FROM {table} ORDER BY id"))]
                    for table, columns in TABLES.items()}
    finally:
        engine.dispose()


@pytest.fixture
def populated(app, client, desk):  # noqa: F811
    booked = [book(client, desk, slot, lawyer={"email": f"adv{slot}@example.com"})
              for slot in range(3)]
    client.post(f"/api/v1/bookings/{booked[2]['id']}/cancel", json={"reason": "Acordo"},
                headers=bearer(booked[2]["manage_token"]))
    report(client)
    report(client, channel="whatsapp", description="O WhatsApp da vara não respondeu.")
    return booked


def restore(database_url: str, dump: Path, tmp_path: Path) -> tuple[str, PostgresServer | None]:
    """The backup as a database the service can use: the SQLite file itself, or a fresh
    PostgreSQL server that pg_restore filled."""
    if database_url.startswith("sqlite"):
        return f"sqlite:///{dump}", None
    server = PostgresServer()
    server.start()
    try:
        server.admin_execute("CREATE DATABASE restored")
        result = subprocess.run(
            [str(server.bindir / "pg_restore"), "--no-owner", "--exit-on-error",
             "--dbname", f"postgresql://postgres@127.0.0.1:{server.port}/restored", str(dump)],
            capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
    except BaseException:  # a failed restore leaves no server behind
        server.stop()
        raise
    return server.url("restored"), server


def test_a_backup_restores_every_booking_complaint_and_message(app, database_url, populated,
                                                               tmp_path):
    original = contents(database_url)
    assert [len(original[table]) for table in TABLES] >= [3, 2, 3]
    dump = tmp_path / "agendamento.backup"
    result = backup(database_url, dump)
    assert result.returncode == 0, result.stderr
    assert str(dump) in result.stdout and not list(tmp_path.glob(".*.parcial"))

    restored_url, server = restore(database_url, dump, tmp_path)
    try:
        assert contents(restored_url) == original
        service = make_app(restored_url)
        first = populated[0]
        answer = service.test_client().get(f"/api/v1/bookings/{first['id']}",
                                           headers=bearer(first["manage_token"]))
        assert answer.status_code == 200 and answer.get_json()["status"] == "confirmed"
        with service.app_context():
            from booking.extensions import db

            db.engine.dispose()
    finally:
        if server:
            server.stop()


def test_a_backup_never_overwrites_and_says_why(app, database_url, tmp_path):
    existing = tmp_path / "ontem.backup"
    existing.write_bytes(b"a backup from yesterday")
    result = backup(database_url, existing)
    assert result.returncode != 0 and "já existe" in result.stderr
    assert existing.read_bytes() == b"a backup from yesterday"
    missing_folder = backup(database_url, tmp_path / "nao-existe" / "x.backup")
    assert missing_folder.returncode != 0 and "não existe" in missing_folder.stderr


def test_a_backup_keeps_the_complaints_files_beside_the_database(app, client, database_url,
                                                                   tmp_path):
    folder = tmp_path / "anexos"
    app.config["COMPLAINT_FILES_DIR"] = str(folder)
    filed = api_file(client, upload(screenshot(), "tela.png")).get_json()
    (folder / "ab").mkdir(exist_ok=True)
    (folder / "ab" / ("ab" * 16 + ".part")).write_bytes(b"half a file being written")
    dump = tmp_path / "agendamento.backup"
    result = backup(database_url, dump, files=folder)
    assert result.returncode == 0, result.stderr
    copy = tmp_path / "agendamento.backup.anexos"
    assert str(copy) in result.stdout and "1 arquivo" in result.stdout
    assert not list(copy.rglob("*.part")) and not list(tmp_path.glob(".*.parcial"))

    restored_url, server = restore(database_url, dump, tmp_path)
    try:
        service = make_app(restored_url, COMPLAINT_FILES_DIR=str(copy))
        reader = service.test_client()
        lookup = reader.get(f"/api/v1/complaints/{filed['protocol']}?token={filed['follow_code']}")
        attachment = lookup.get_json()["history"][0]["attachments"][0]
        served = reader.get(f"/api/v1/complaints/{filed['protocol']}/attachments/"
                            f"{attachment['id']}?token={filed['follow_code']}")
        assert served.status_code == 200 and served.data == screenshot_kept(folder)
        with service.app_context():
            from booking.extensions import db

            db.engine.dispose()
    finally:
        if server:
            server.stop()
    # The files' copy is never overwritten either: the database's is not even begun.
    dump.unlink()
    again = backup(database_url, dump, files=folder)
    assert again.returncode != 0 and "anexos já existe" in again.stderr and not dump.exists()


def screenshot_kept(folder: Path) -> bytes:
    """The one file the service kept (re-encoded: not the bytes that were sent)."""
    [kept] = [path for path in folder.rglob("*") if path.is_file() and path.suffix != ".part"]
    return kept.read_bytes()
