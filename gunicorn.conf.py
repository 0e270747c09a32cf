# Read by gunicorn from the folder it starts in (make run, production).
# The access log names the path without its query string and without the referrer:
# manage links carry `?token=`, which must never reach a log file.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'


def on_starting(server):
    """Refuse a start whose workers would each keep their own rate-limit counters."""
    from config import config_for_environment, unshared_limits_problem

    problem = unshared_limits_problem(config_for_environment(), server.cfg.workers)
    if problem:
        raise RuntimeError(problem)
