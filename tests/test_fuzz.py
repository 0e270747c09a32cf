"""Schemathesis against the live service: no 5xx, every answer as the OpenAPI says.

Every phase runs (the schema's examples, the coverage phase's boundaries, random fuzzing,
and stateful sequences that feed one answer's ids into the next request), with valid and
invalid data alike; the pages are fuzzed in test_page_fuzz.py.

Two passes: anonymous, and as a magistrate (the token route is left out of the
second, or the fuzzer would revoke its own token). One check is left out:
`positive_data_acceptance` expects every schema-valid body to be accepted, but
some rules cannot be written in JSON Schema (CNJ check digits, `to` after
`from`, a failure date not in the future), and those answers are a correct 422.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from booking.accounts.models import User
from booking.accounts.service import issue_token
from booking.demo import load_demo
from booking.extensions import db
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow
EXAMPLES = os.environ.get("FUZZ_EXAMPLES", "15")


def schemathesis(url: str, *extra: str) -> subprocess.CompletedProcess:
    """Run in a throwaway folder: schemathesis keeps a cache where it runs."""
    binary = Path(sys.executable).with_name("schemathesis")
    with tempfile.TemporaryDirectory() as workdir:
        return subprocess.run(
            [str(binary), "run", f"{url}/api/openapi.json", "--checks", "all",
             "--exclude-checks", "positive_data_acceptance", "-n", EXAMPLES,
             "--phases", "examples,coverage,fuzzing,stateful", "--mode", "all", "--seed", "20271123",
             "--request-timeout", "30", "--max-failures", "25", *extra],
            capture_output=True, text=True, timeout=900, cwd=workdir,
            env={**os.environ, "SCHEMATHESIS_HOOKS": "", "NO_COLOR": "1"})


def test_the_api_survives_fuzzing(app, database_url):
    with app.app_context():
        load_demo()
        magistrate = db.session.query(User).filter_by(role="magistrate").one()
        token, _ = issue_token(magistrate)
        db.session.commit()
    with LiveServer(database_url, workers=2) as server:
        anonymous = schemathesis(server.url)
        staff = schemathesis(server.url, "-H", f"Authorization: Bearer {token}",
                             "--exclude-path", "/api/v1/auth/token")
    assert anonymous.returncode == 0, anonymous.stdout[-6000:]
    assert staff.returncode == 0, staff.stdout[-6000:]
