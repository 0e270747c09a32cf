# Read by gunicorn from the folder it starts in (make run, production).
# The access log names the path without its query string and without the referrer:
# manage links carry `?token=`, which must never reach a log file.
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)s'
