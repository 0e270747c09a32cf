# Read by gunicorn from the folder it starts in (make run, production).
# The access log names the path without its query string and without the referrer:
# manage links carry `?token=`, which must never reach a log file.
import logging
import os
import shutil
import tempfile

access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
# Which proxy headers to believe is the app's decision alone (PROXY_FIX_HOPS): gunicorn
# would otherwise take X-Forwarded-Proto from any peer on this machine.
forwarded_allow_ips = ""
# Request lines up to 8 KB, as nginx's default buffers pass them: a long (often
# percent-encoded) query then reaches the app, which answers problem+json, rather than
# gunicorn's own 414 page at 4 KB.
limit_request_line = 8190

if os.environ.get("LOG_FORMAT") == "json":
    # The app writes one JSON line per request, with its request id (booking/request_log.py);
    # gunicorn's own lines become JSON as well.
    accesslog = None
    logconfig_dict = {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "booking.request_log.json_formatter"}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "json",
                                 "stream": "ext://sys.stderr"}},
        "loggers": {"gunicorn.error": {"level": "INFO", "handlers": ["console"],
                                       "propagate": False}},
    }

# Workers serve HTTP only: the app leaves out what only its commands need (Flask-Migrate
# and Alembic, about 11 MB per worker). `flask db upgrade` runs as a command, as before.
os.environ["BOOKING_WEB_WORKER"] = "1"

# Each worker writes its metrics here, and a scrape answered by any worker sums them all
# (prometheus_client's multiprocess mode). Set before a worker imports the app.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="booking-metrics-")
    _made_metrics_dir = True
else:
    _made_metrics_dir = False


def on_starting(server):
    """The production start runs `flask check`: an error in the settings stops it (for
    example memory:// rate limits that each worker would count alone); warnings are logged."""
    from config import config_for_environment
    from booking.settings_check import findings

    settings = config_for_environment()
    found = findings({name: getattr(settings, name) for name in dir(settings) if name.isupper()},
                     server.cfg.workers)
    for finding in found:
        server.log.log(logging.ERROR if finding.level == "error" else logging.WARNING,
                       "%s / %s", finding.portuguese, finding.english)
    if any(finding.level == "error" for finding in found):
        on_exit(server)
        raise RuntimeError("Configuração com erros: veja acima (flask --app wsgi check). / "
                           "The settings have errors: see above.")
    # Counts left by an earlier run of this server would be added to this one's.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker):
    """A worker that is gone no longer counts in the gauges of connections in use."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
