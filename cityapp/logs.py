"""Logging setup: every line carries the request id; JSON lines in production."""

from __future__ import annotations

import logging
import sys

from flask import Flask, g, has_request_context
from pythonjsonlogger.json import JsonFormatter


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
