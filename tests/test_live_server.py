"""The service as `make run` serves it: gunicorn, several workers, a real socket."""

import json
import urllib.error
import urllib.request

import pytest
from openapi_spec_validator import validate

from booking.extensions import db
from tests.support.factories import PASSWORD, make_staff
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def call(method, url, body=None, headers=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={
        **({"Content-Type": "application/json"} if data else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_gunicorn_serves_health_docs_login_and_problems(app, database_url):
    with app.app_context():
        make_staff("assistant")
        db.session.commit()
    with LiveServer(database_url, workers=2) as server:
        status, _, body = call("GET", f"{server.url}/healthz")
        assert status == 200 and json.loads(body)["database"] == "ok"

        status, _, body = call("GET", f"{server.url}/api/openapi.json")
        assert status == 200
        validate(json.loads(body))

        status, headers, body = call("GET", f"{server.url}/api/docs")
        assert status == 200 and headers["Content-Type"].startswith("text/html")

        status, _, body = call("POST", f"{server.url}/api/v1/auth/token",
                               {"email": "assistant@example.jus.br", "password": PASSWORD})
        assert status == 200
        token = json.loads(body)["access_token"]
        status, _, body = call("GET", f"{server.url}/api/v1/auth/me",
                               headers={"Authorization": f"Bearer {token}"})
        assert status == 200 and json.loads(body)["role"] == "assistant"

        status, headers, body = call("GET", f"{server.url}/api/v1/nothing-here")
        assert status == 404
        assert headers["Content-Type"] == "application/problem+json"
        assert json.loads(body)["status"] == 404
