"""Prometheus metrics on /metrics, for the court's monitoring (README: "Metrics").

Two kinds. Counters and histograms of what a web worker does (requests, booking outcomes,
database connections in use) live in each worker's memory; under gunicorn they are written
to PROMETHEUS_MULTIPROC_DIR (gunicorn.conf.py sets it) so that a scrape answered by any
worker sums all of them. The state of the service (the outbox, the scheduler's jobs, the
magistrates' calendars) is read from the database at each scrape, so it is true whichever
machine runs the scheduler.

/metrics is not public: a scrape needs `Authorization: Bearer METRICS_TOKEN` or an address
in METRICS_ALLOWED_NETWORKS; with neither set, nobody may read it.
"""

from __future__ import annotations

import glob
import hmac
import ipaddress
import logging
import os
import time
from datetime import timedelta

from flask import Blueprint, Flask, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.exc import SQLAlchemyError

from .database import utcnow
from .extensions import db

log = logging.getLogger(__name__)
metrics_blp = Blueprint("metrics", __name__)
DATABASE_UP = "1 quando o banco respondeu a esta coleta, 0 quando não."

REQUESTS = Counter("booking_http_requests_total", "Respostas por rota, método e status.",
                   ["method", "route", "status"])
LATENCY = Histogram("booking_http_request_duration_seconds", "Tempo de resposta por rota.",
                    ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
BOOKINGS = Counter("booking_bookings_total",
                   "Pedidos de agendamento e confirmações por resultado (held, confirmed, "
                   "conflict, invalid, limit, rate_limited).", ["outcome"])
CONNECTIONS_IN_USE = Gauge("booking_db_connections_in_use",
                           "Conexões ao banco emprestadas pelo pool agora (soma dos workers).",
                           multiprocess_mode="livesum")
POOL_SIZE = Gauge("booking_db_pool_size", "Tamanho do pool de conexões de cada worker.",
                  multiprocess_mode="max")
# Requests that are not a route of the service (scans, typos) share one label: the label's
# values stay few whatever a client asks for.
UNMATCHED_ROUTE = "(sem rota)"
SENT_WINDOW = timedelta(minutes=1)


def install(app: Flask) -> None:
    """Time every request and count connections the pool lends."""
    with app.app_context():
        engine = db.engine
    if not getattr(engine, "_booking_metrics", False):
        engine._booking_metrics = True
        event.listen(engine, "checkout", lambda *_: CONNECTIONS_IN_USE.inc())
        event.listen(engine, "checkin", lambda *_: CONNECTIONS_IN_USE.dec())
        size = getattr(engine.pool, "size", None)
        if callable(size):
            POOL_SIZE.set(size())

    @app.before_request
    def start_clock():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response):
        started = g.get("metrics_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule else UNMATCHED_ROUTE
            REQUESTS.labels(request.method, route, str(response.status_code)).inc()
            LATENCY.labels(request.method, route).observe(time.perf_counter() - started)
        return response


# Refusals (409 codes) that are a cap on bookings rather than a slot someone else took.
LIMIT_CODES = frozenset({"lawyer_limit", "day_full", "too_many_holds"})


def count_booking_answer(response, success: str = "confirmed") -> None:
    """Count one booking request by its answer: a success is `success` (a hold, or a
    confirmation), and a 409 or 429 says its reason (the API's problem `code`, or what a
    page's view noted in g.booking_refusal_code)."""
    code = g.get("booking_refusal_code")
    if code is None and response.status_code in (409, 429) and response.is_json:
        code = (response.get_json(silent=True) or {}).get("code")
    count_booking(response.status_code, code, success)


def count_booking(status: int, refusal_code: str | None = None,
                  success: str = "confirmed") -> None:
    if status in (200, 201, 302, 303):
        outcome = success
    elif status == 409:
        outcome = "limit" if refusal_code in LIMIT_CODES else "conflict"
    elif status in (400, 422):
        outcome = "invalid"
    elif status == 429:  # the last of too many wrong codes is a wrong code
        outcome = "invalid" if refusal_code == "too_many_tries" else "rate_limited"
    else:
        return
    BOOKINGS.labels(outcome).inc()


class ServiceState:
    """Gauges read from the database at each scrape (a prometheus_client collector)."""

    def collect(self):
        from .availability.busy import failing_source_count
        from .notifications.service import delivery_health
        from .scheduler_status import runs

        try:
            outbox = delivery_health(utcnow(), SENT_WINDOW)
            failing_sources = failing_source_count()
            jobs = runs()
        except SQLAlchemyError:
            log.exception("metrics: the database did not answer")
            yield GaugeMetricFamily("booking_database_up", DATABASE_UP, value=0)
            return
        finally:
            db.session.rollback()
        yield GaugeMetricFamily("booking_database_up", DATABASE_UP, value=1)
        messages = GaugeMetricFamily("booking_outbox_messages",
                                     "Mensagens na fila de saída por situação.", labels=["status"])
        for status in ("pending", "failing", "dead"):
            messages.add_metric([status], outbox[status])
        yield messages
        yield GaugeMetricFamily("booking_outbox_oldest_pending_age_seconds",
                                "Idade da mensagem pendente mais antiga.",
                                value=outbox["oldest_pending_seconds"])
        sent = GaugeMetricFamily("booking_outbox_sent_last_minute",
                                 "Mensagens entregues no último minuto, por canal.",
                                 labels=["channel"])
        for channel, count in outbox["sent_by_channel"].items():
            sent.add_metric([channel], count)
        yield sent
        yield GaugeMetricFamily("booking_busy_sources_failing",
                                "Calendários de magistrados cuja última leitura falhou.",
                                value=failing_sources)
        finished = GaugeMetricFamily("booking_scheduler_job_last_finished_timestamp_seconds",
                                     "Quando cada tarefa terminou pela última vez.", labels=["job"])
        duration = GaugeMetricFamily("booking_scheduler_job_last_duration_seconds",
                                     "Duração da última execução de cada tarefa.", labels=["job"])
        failures = GaugeMetricFamily("booking_scheduler_job_failures_in_a_row",
                                     "Falhas seguidas de cada tarefa (0 após um sucesso).",
                                     labels=["job"])
        for run in jobs:
            finished.add_metric([run.job], run.last_finished_at.timestamp())
            duration.add_metric([run.job], run.last_duration_ms / 1000)
            failures.add_metric([run.job], run.failures_in_a_row)
        yield from (finished, duration, failures)


class _WorkersCollector(multiprocess.MultiProcessCollector):
    """Every worker's metric files, but the empty ones: a worker creates each file before it
    sizes it, so a scrape in that instant (or for ever, if the worker died then) would fail
    on the empty file and lose every worker's metrics (prometheus/client_python#1199)."""

    def collect(self):
        files = []
        for path in glob.glob(os.path.join(self._path, "*.db")):
            try:
                if os.path.getsize(path) > 0:  # once sized, a file only grows
                    files.append(path)
            except FileNotFoundError:  # a dead worker's file, removed meanwhile
                pass
        return self.merge(files, accumulate=True)


def exposition() -> bytes:
    """Every metric in the Prometheus text format."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        workers = CollectorRegistry()
        _WorkersCollector(workers)
    else:
        workers = REGISTRY
    state = CollectorRegistry(auto_describe=False)
    state.register(ServiceState())
    return generate_latest(workers) + generate_latest(state)


def allowed_networks(setting: str) -> list:
    """METRICS_ALLOWED_NETWORKS ("10.0.0.0/8, 127.0.0.1"); a malformed entry is left out
    (flask check names it)."""
    networks = []
    for part in filter(None, (piece.strip() for piece in (setting or "").split(","))):
        try:
            networks.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            continue
    return networks


def _scraper_status() -> int:
    """200 for a scraper, 401 when a token is expected and none came, 403 otherwise."""
    token = current_app.config.get("METRICS_TOKEN") or ""
    offered = request.headers.get("Authorization", "")
    if token and offered.startswith("Bearer "):
        return 200 if hmac.compare_digest(offered[len("Bearer "):].encode(), token.encode()) \
            else 403
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        address = None
    if address is not None and any(
            address in network
            for network in allowed_networks(current_app.config.get("METRICS_ALLOWED_NETWORKS"))):
        return 200
    return 401 if token else 403


@metrics_blp.get("/metrics")
def metrics():
    status = _scraper_status()
    if status == 401:
        return "Envie o token de métricas (Authorization: Bearer).\n", 401, {
            "WWW-Authenticate": 'Bearer realm="metrics"', "Content-Type": "text/plain"}
    if status == 403:
        return "Acesso às métricas negado.\n", 403, {"Content-Type": "text/plain"}
    return exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}
