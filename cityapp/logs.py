"""Logging setup: every line carries the request id; JSON lines in production."""

from __future__ import annotations

import logging
import re
import sys

from flask import Flask, g, has_request_context
from pythonjsonlogger.json import JsonFormatter

REDACTED = "[redacted]"
# Path segments that are capabilities: whoever holds the URL holds the right.
_SECRET_PATHS = re.compile(
    r"(/api/v1/reports/track/|/api/device/v1/pairing/|/open311/v2/tokens/)[^/?#&\s\"'.]+"
)
# Query (or form) parameters that carry credentials.
_SECRET_PARAMS = re.compile(
    r"(?i)((?:^|[?&;\s])(?:api_key|apikey|key|token|access_token|tracking_token|secret|password"
    r"|pairing_id|csrf_token)=)[^&#\s\"']*"
)
# Every cityapp secret starts with one of these prefixes (staff, installation, tracking,
# device, pairing), wherever it turns up.
_SECRET_VALUES = re.compile(r"\b(cat|cai|crt|cad|cap)_[A-Za-z0-9_\-]{6,}")


def redact(text: str) -> str:
    """The one redaction of secrets in anything that is logged: capability tokens in paths,
    secret query parameters, and any value with a cityapp secret prefix. Used by the app's own
    log lines and by the shipped gunicorn access log (gunicorn.conf.py)."""
    if not text:
        return text
    text = _SECRET_PATHS.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SECRET_PARAMS.sub(lambda m: m.group(1) + REDACTED, text)
    return _SECRET_VALUES.sub(lambda m: m.group(1) + "_" + REDACTED, text)


class RequestContextFilter(logging.Filter):
    """Attach request_id (or "-") to every record so logs and X-Request-ID line up."""

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = None
        if has_request_context():
            request_id = getattr(g, "request_id", None)
        record.request_id = request_id or "-"
        return True


def configure_logging(app: Flask) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestContextFilter())
    if app.config["CITYAPP_LOG_JSON"]:
        handler.setFormatter(
            JsonFormatter(
                "%(levelname)s %(name)s %(message)s %(request_id)s",
                rename_fields={"levelname": "level", "name": "logger"},
                # ISO 8601 in UTC, like every other time cityapp emits.
                timestamp="time",
            )
        )
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s")
        )
    logger = logging.getLogger("cityapp")
    # Replace our handler on re-configuration (tests create several apps).
    logger.handlers = [h for h in logger.handlers if not getattr(h, "_cityapp", False)]
    handler._cityapp = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(str(app.config["CITYAPP_LOG_LEVEL"]).upper())  # "info" works too
    logger.propagate = app.testing  # let pytest's caplog see records in tests
