"""gunicorn settings for cityapp: `gunicorn -c gunicorn.conf.py wsgi:app` (make run, the systemd
unit in docs/operations.md). Deliberate limits, and an access log without personal data or
secrets. Workers, threads, bind and timeouts come from the environment (defaults as in the
README); everything else is fixed here on purpose."""

import os

from gunicorn.glogging import Logger

from cityapp.logs import redact

bind = os.environ.get("CITYAPP_BIND", "127.0.0.1:8000")
# About two workers per CPU core with 4 threads each is the starting point (README).
workers = int(os.environ.get("CITYAPP_WORKERS", "4"))
threads = int(os.environ.get("CITYAPP_THREADS", "4"))
timeout = int(os.environ.get("CITYAPP_TIMEOUT_S", "30"))
graceful_timeout = int(os.environ.get("CITYAPP_GRACEFUL_TIMEOUT_S", "20"))
keepalive = 5
control_socket_disable = True

# Request limits. The request line may be up to 8190 bytes, so the app's own limit on query
# strings (CITYAPP_MAX_QUERY_LENGTH, 4096) answers first, with a problem+json 414; gunicorn's
# plain 400/414 only meets clients far past it. 50 header fields of at most 8190 bytes each.
limit_request_line = 8190
limit_request_fields = 50
limit_request_field_size = 8190

# The access log leaves out IP addresses, user agents, referrers and query strings (personal
# data), and carries the response's X-Request-ID to join it with the app's log lines.
accesslog = "-"
access_log_format = '%(t)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms %({x-request-id}o)s'


class RedactingLogger(Logger):
    """gunicorn's logger with every secret redacted by cityapp.logs.redact: capability tokens
    in paths (/api/v1/reports/track/crt_…, /api/device/v1/pairing/cap_…,
    /open311/v2/tokens/…), secret query parameters (api_key, token, …), in the access log
    whatever its format, and in gunicorn's own error lines (which quote the request URI)."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        for key in list(atoms):
            if key.startswith("{") and key.endswith("}i") and isinstance(atoms[key], str):
                atoms[key] = redact(atoms[key])  # request headers such as the referrer
        return atoms


def _redacting(name):
    method = getattr(Logger, name)

    def log(self, msg, *args, **kwargs):
        args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in args)
        return method(self, redact(str(msg)), *args, **kwargs)

    log.__name__ = name
    return log


for _name in ("critical", "error", "warning", "info", "debug", "exception"):
    setattr(RedactingLogger, _name, _redacting(_name))


logger_class = RedactingLogger
