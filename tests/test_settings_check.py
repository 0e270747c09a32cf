"""`flask --app wsgi check`: zero on the README's production example, non-zero on each
misconfiguration the issue names. Run as an operator would, in a fresh process, because
the settings are read from the environment when config.py is imported."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.live_server import LiveServer

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = re.compile(r"<!-- production-example -->\s*```sh\n(.*?)```", re.S)


def readme_example() -> dict:
    block = EXAMPLE.search((REPO / "README.md").read_text(encoding="utf-8")).group(1)
    return dict(line.strip().split("=", 1) for line in block.splitlines() if "=" in line)


def check(settings: dict, workers: int = 4) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items()
           if key not in readme_example() and not key.startswith(("MAIL_", "RATELIMIT_", "OIDC_"))}
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "check", "--workers", str(workers)],
        cwd=REPO, env={**env, **settings}, capture_output=True, text=True, timeout=60)


def test_the_readmes_production_example_passes():
    result = check(readme_example())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "sem erros" in result.stdout


@pytest.mark.parametrize("change, says", [
    ({"RATELIMIT_STORAGE_URI": "memory://"}, "memory://"),
    ({"DATABASE_URL": "sqlite:////tmp/agendamento.db"}, "SQLite"),
    ({"MAIL_USE_TLS": "false"}, "TLS"),
    ({"PUBLIC_BASE_URL": "http://agendamento.tjmt.jus.br"}, "https"),
    ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
    ({"PASSWORD_LOGIN_ROLES": ""}, "Ninguém conseguiria entrar"),
    ({"SECRET_KEY": ""}, "SECRET_KEY"),
    ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8, intranet"}, "intranet"),
    ({"COMPLAINT_FILES_STORE": "s3"}, "COMPLAINT_S3_BUCKET"),
    ({"COMPLAINT_FILES_STORE": "ftp"}, "COMPLAINT_FILES_STORE"),
    ({"PASSWORD_HASH_PROFILE": "CHEAPEST"}, "PASSWORD_HASH_PROFILE"),
    ({"PASSWORD_HASH_PROFILE": "md5"}, "PASSWORD_HASH_PROFILE"),
    ({"OIDC_ISSUER": "https://sso.tjmt.jus.br/realms/tjmt"}, "OIDC_CLIENT_ID"),
    ({"OIDC_ISSUER": "http://sso.tjmt.jus.br/realms/tjmt", "OIDC_CLIENT_ID": "agendamento"},
     "OIDC_ISSUER"),
    ({"COURT_TIMEZONE": "America/Cuiabá"}, "COURT_TIMEZONE"),
    ({"HOLIDAY_SUBDIVISION": "XX"}, "HOLIDAY_SUBDIVISION"),
    ({"VIDEO_PROVIDER": "teams"}, "VIDEO_PROVIDER"),
    ({"VIDEO_PROVIDER": "jitsi", "JITSI_APP_ID": "agendamento",
      "JITSI_APP_SECRET": "segredo-do-jitsi"}, "JITSI_APP_SECRET"),
    ({"VIDEO_PROVIDER": "jitsi", "JITSI_APP_SECRET": "s" * 40}, "JITSI_APP_ID"),
])
def test_each_misconfiguration_is_an_error(change, says):
    result = check({**readme_example(), **change})
    assert result.returncode != 0
    assert says in result.stdout + result.stderr


def test_sqlite_with_several_workers_is_allowed_on_one_machine_said_so():
    result = check({**readme_example(), "DATABASE_URL": "sqlite:////tmp/agendamento.db",
                    "SQLITE_SINGLE_MACHINE": "true"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "AVISO: SQLite" in result.stdout


def test_one_worker_may_keep_limits_in_memory():
    result = check({**readme_example(), "RATELIMIT_STORAGE_URI": "memory://"}, workers=1)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_production_start_runs_the_check(tmp_path):
    """gunicorn.conf.py refuses to start workers on settings with an error."""
    settings = {**readme_example(), "PUBLIC_BASE_URL": "http://agendamento.tjmt.jus.br"}
    server = LiveServer(f"sqlite:///{tmp_path / 'x.db'}", workers=1,
                        extra_env={**settings, "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
                                   "SQLITE_SINGLE_MACHINE": "true"})
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL não é https"):
        server.start()
    server.stop()


def test_more_sender_processes_than_smtp_connections_is_said():
    result = check({**readme_example(), "OUTBOX_SENDER_PROCESSES": "4",
                    "OUTBOX_SMTP_CONNECTIONS": "2"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "AVISO: OUTBOX_SENDER_PROCESSES=4" in result.stdout
    assert "receberá 4 ao mesmo tempo" in result.stdout
    assert "OUTBOX_SENDER_PROCESSES" not in check(readme_example()).stdout
