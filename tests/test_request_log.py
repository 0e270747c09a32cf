"""Every answer names its request id; with LOG_FORMAT=json each request writes one JSON
line, and every line it causes carries the same id, with no token and no personal field."""

from __future__ import annotations

import io
import json
import logging

import pytest

from booking import log_redaction, request_log
from booking.scheduler import run_job
from tests.support.factories import bearer
from tests.test_bookings_api import book, desk, form  # noqa: F401  (the fixture)


@pytest.fixture
def json_lines():
    """What the root logger writes in JSON mode, as parsed objects (a list filled as
    lines are written)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(request_log.json_formatter())
    handler.addFilter(request_log.AddRequestId())
    handler.addFilter(log_redaction.RedactSecrets())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)

    def lines():
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    yield lines
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_sane_request_id_is_kept_and_anything_else_replaced(client):
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.2026:01"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.2026:01"
    for offered in ("a" * 129, "x y", "<script>", ""):
        answer = client.get("/healthz", headers={"X-Request-ID": offered})
        assert answer.headers["X-Request-ID"] != offered
        assert request_log.ACCEPTABLE_ID.fullmatch(answer.headers["X-Request-ID"])
    first, second = client.get("/healthz"), client.get("/healthz")
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_the_problem_answer_carries_the_request_id(client):
    answer = client.get("/api/v1/units?per_page=101", headers={"X-Request-ID": "support-42"})
    assert answer.status_code == 422
    assert answer.get_json()["request_id"] == "support-42" == answer.headers["X-Request-ID"]
    missing = client.get("/api/v1/nada")
    assert missing.get_json()["request_id"] == missing.headers["X-Request-ID"]


def test_one_json_line_per_request_without_tokens_or_personal_data(app, client, desk,  # noqa: F811
                                                                   json_lines):
    app.config["LOG_FORMAT"] = "json"
    booked = book(client, desk)
    token = booked["manage_token"]
    client.get(f"/api/v1/bookings/{booked['id']}?token={token}",
               headers={"X-Request-ID": "trace-1"})
    client.get(f"/api/v1/bookings/{booked['id']}", headers=bearer(token))

    requests = [line for line in json_lines() if line["logger"] == "booking.request"]
    assert [(r["method"], r["route"], r["status"]) for r in requests] == [
        ("POST", "/api/v1/bookings", 201),
        ("GET", "/api/v1/bookings/<int:booking_id>", 200),
        ("GET", "/api/v1/bookings/<int:booking_id>", 200),
    ]
    assert requests[1]["request_id"] == "trace-1"
    assert all(r["duration_ms"] >= 0 and r["level"] == "INFO" and r["time"] for r in requests)
    written = json.dumps(json_lines())
    personal = form(desk)["lawyer"]
    for secret in (token, personal["email"], personal["name"], "99999-0000",
                   f"/bookings/{booked['id']}"):
        assert secret not in written


def test_every_line_a_request_causes_carries_its_id(app, json_lines):
    app.config["LOG_FORMAT"] = "json"

    @app.get("/api/v1/_boom")
    def boom():
        logging.getLogger("booking.test").warning("about to fail")
        raise RuntimeError("broken on purpose")

    answer = app.test_client().get("/api/v1/_boom", headers={"X-Request-ID": "incident-9"})
    assert answer.status_code == 500 and answer.get_json()["request_id"] == "incident-9"
    lines = json_lines()
    caused = [line for line in lines if line.get("request_id") == "incident-9"]
    assert {line["logger"] for line in caused} >= {"booking.test", "booking.errors",
                                                   "booking.request"}
    assert any("broken on purpose" in line.get("exc_info", "") for line in caused)


def test_a_500_page_gives_the_code_to_quote(app):
    @app.get("/_boom_page")
    def boom_page():
        raise RuntimeError("broken on purpose")

    page = app.test_client().get("/_boom_page", headers={"X-Request-ID": "incident-10"})
    assert page.status_code == 500
    assert "incident-10" in page.get_data(as_text=True)


def test_scheduler_jobs_log_with_an_id_of_their_run(app, json_lines):
    def sweep():
        logging.getLogger("booking.test").info("sweeping")

    run_job(app, sweep, "sweep")
    run_job(app, sweep, "sweep")
    lines = [line for line in json_lines() if line["logger"] in ("booking.test", "booking.scheduler")]
    ids = {line["request_id"] for line in lines}
    assert len(ids) == 2 and all(i.startswith("job-sweep-") for i in ids)
    finished = [line for line in lines if line.get("job") == "sweep"]
    assert [line["outcome"] for line in finished] == ["ok", "ok"]
    assert all(line["duration_ms"] >= 0 for line in finished)
