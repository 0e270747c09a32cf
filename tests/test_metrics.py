"""/metrics: refused to anonymous callers; under gunicorn with several workers a scrape
during a small load sees the counters move, summed over every worker, and the outbox and
scheduler gauges say what the database holds."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from booking.database import utcnow
from booking.extensions import db
from booking.notifications.service import count_by_status, sends_since
from booking.scheduler import run_job
from tests.support.factories import DIRECT
from tests.support.live_server import LiveServer
from tests.support.query_plans import query_plan
from tests.test_bookings_api import desk, form  # noqa: F401  (the fixture)
from tests.test_live_server import call

TOKEN = "metrics-token-for-this-test-only"


def samples(text: str) -> dict[tuple, float]:
    """{(name, (label pairs...)): value} of every sample of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.mark.parametrize("settings, headers, status", [
    ({"METRICS_TOKEN": TOKEN}, {}, 401),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": "Bearer wrong"}, 403),
    ({"METRICS_TOKEN": TOKEN}, {"Authorization": f"Bearer {TOKEN}"}, 200),
    ({}, {}, 403),  # nothing configured: nobody
    ({}, {"Authorization": "Bearer "}, 403),
    ({"METRICS_ALLOWED_NETWORKS": "10.0.0.0/8"}, {}, 403),
    ({"METRICS_ALLOWED_NETWORKS": "nonsense, 127.0.0.0/8"}, {}, 200),
])
def test_only_a_scraper_reads_the_metrics(app, settings, headers, status):
    app.config.update({"METRICS_TOKEN": "", "METRICS_ALLOWED_NETWORKS": "", **settings})
    answer = app.test_client().get("/metrics", headers=headers)
    assert answer.status_code == status
    if status == 200:
        assert "booking_outbox_messages" in answer.get_data(as_text=True)
    else:
        assert "booking_" not in answer.get_data(as_text=True)


def test_the_gauges_say_what_the_database_holds(app, client, desk):  # noqa: F811
    app.config["METRICS_ALLOWED_NETWORKS"] = "127.0.0.1"
    assert client.post("/api/v1/bookings", headers=DIRECT, json=form(desk)).status_code == 201

    def failing_job():
        raise RuntimeError("on purpose")

    run_job(app, failing_job, "sweep")
    run_job(app, failing_job, "sweep")
    with app.app_context():
        waiting = count_by_status()["pending"]
    found = samples(client.get("/metrics").get_data(as_text=True))
    assert value(found, "booking_database_up") == 1
    assert value(found, "booking_outbox_messages", status="pending") == waiting > 0
    assert 0 <= value(found, "booking_outbox_oldest_pending_age_seconds") < 60
    assert value(found, "booking_scheduler_job_failures_in_a_row", job="sweep") == 2
    finished = value(found, "booking_scheduler_job_last_finished_timestamp_seconds", job="sweep")
    assert abs(finished - utcnow().timestamp()) < 60
    assert value(found, "booking_busy_sources_failing") == 0


@pytest.mark.slow
def test_a_scrape_during_load_sees_every_workers_counts(app, database_url, desk):  # noqa: F811
    auth = {"Authorization": f"Bearer {TOKEN}"}
    bookings = 6
    with LiveServer(database_url, workers=2, extra_env={"METRICS_TOKEN": TOKEN}) as server:
        assert call("GET", f"{server.url}/metrics")[0] == 401
        before = samples(call("GET", f"{server.url}/metrics", headers=auth)[2].decode())
        answers, scrapes = [], []

        def book(slot):
            answers.append(call("POST", f"{server.url}/api/v1/bookings",
                                form(desk, slot, lawyer={"email": f"adv{slot}@example.com"}),
                                headers=DIRECT)[0])

        def scrape():
            for _ in range(5):
                scrapes.append(call("GET", f"{server.url}/metrics", headers=auth)[0])

        threads = [threading.Thread(target=book, args=(slot,)) for slot in range(bookings)]
        threads.append(threading.Thread(target=scrape))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert answers.count(201) == bookings and scrapes == [200] * 5
        taken = call("POST", f"{server.url}/api/v1/bookings", form(desk, 0), headers=DIRECT)[0]
        invalid = call("POST", f"{server.url}/api/v1/bookings", {**form(desk, 1), "mode": "fax"},
                       headers=DIRECT)[0]
        assert (taken, invalid) == (409, 422)
        after = samples(call("GET", f"{server.url}/metrics", headers=auth)[2].decode())

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("booking_bookings_total", outcome="confirmed") == bookings
    assert moved("booking_bookings_total", outcome="conflict") == 1
    assert moved("booking_bookings_total", outcome="invalid") == 1
    assert moved("booking_http_requests_total", method="POST", route="/api/v1/bookings",
                 status="201") == bookings
    assert moved("booking_http_request_duration_seconds_count", method="POST",
                 route="/api/v1/bookings") == bookings + 2
    assert moved("booking_http_requests_total", method="GET", route="/metrics",
                 status="200") >= 6
    with app.app_context():
        waiting = count_by_status().get("pending", 0)
        db.session.rollback()
    assert value(after, "booking_outbox_messages", status="pending") == waiting >= bookings
    assert value(after, "booking_db_pool_size") >= 1
    assert value(after, "booking_database_up") == 1


def test_the_last_minute_sends_are_counted_by_channel_from_their_index(app, client, backend):
    """E-mails, calendars, webhooks and text messages each under their own channel; the
    count reads the recent sends, not every message the outbox ever sent."""
    from sqlalchemy import insert, text

    from booking.notifications.models import OutboxMessage

    app.config["METRICS_ALLOWED_NETWORKS"] = "127.0.0.1"
    now = utcnow()
    sent = {"booking_booked": 3, "calendar_write": 2, "webhook": 4, "text_booked": 1}
    rows = [(kind, now - timedelta(seconds=10)) for kind, n in sent.items() for _ in range(n)]
    rows += [("webhook", now - timedelta(days=2))] * 300  # long ago: not in the minute
    with app.app_context():
        db.session.execute(insert(OutboxMessage.__table__), [
            {"dedupe_key": f"m:{n}", "kind": kind, "message_id": f"<m{n}@x>", "recipients": [],
             "subject": "s", "status": "sent", "attempts": 1, "next_attempt_at": at,
             "created_at": at, "sent_at": at} for n, (kind, at) in enumerate(rows)])
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    found = samples(client.get("/metrics").get_data(as_text=True))
    for channel, count in (("email", 3), ("calendar", 2), ("webhook", 4), ("text", 1)):
        assert value(found, "booking_outbox_sent_last_minute", channel=channel) == count
    plan = query_plan(app, backend, sends_since(now - timedelta(minutes=1)), {})
    assert "ix_outbox_sent_at" in plan, plan


def test_a_workers_empty_metrics_file_does_not_fail_the_scrape(app, monkeypatch, tmp_path):
    """A worker creates its metric file before sizing it: a scrape in that instant (or after
    the worker died in it) finds an empty file, which prometheus_client cannot read
    (prometheus/client_python#1199). The scrape leaves it out and answers the rest."""
    import struct

    from prometheus_client import CollectorRegistry, multiprocess

    from booking.metrics import exposition

    folder = tmp_path / "metrics"
    folder.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(folder))
    (folder / "counter_4242.db").write_bytes(b"")
    with pytest.raises(struct.error):  # the library's own collector
        multiprocess.MultiProcessCollector(CollectorRegistry()).collect()
    with app.app_context():
        text = exposition().decode()
    assert "booking_outbox_messages" in text
