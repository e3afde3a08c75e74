"""The HTTP layer every surface shares, one module per concern (checks, json_guard,
xml_output, pagination, conditional, languages); ``register_http`` installs the hooks and
the response headers below."""

from __future__ import annotations

from flask import Flask, Response, g, request

from cityapp.http.checks import (
    IdConverter,
    _check_api_body,
    _check_query_length,
    _check_raw_text,
    current_request_id,
)
from cityapp.http.json_guard import StrictJSONProvider

# --- response headers ------------------------------------------------------------------

_DEFAULT_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI needs its inline bootstrap script and inline styles.
_DOCS_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def _finish_response(response: Response) -> Response:
    if response.status_code in (204, 304):
        # No body, so no body type (flask-smorest labels empty replies application/json).
        response.headers.pop("Content-Type", None)
    request_id = current_request_id()
    if request_id:
        response.headers["X-Request-ID"] = request_id
    language = getattr(g, "content_language", None)
    if language and "Content-Language" not in response.headers:
        response.headers["Content-Language"] = language
    headers = response.headers
    is_docs = request.path == "/api/docs" or request.path.startswith("/api/docs/")
    headers.setdefault("Content-Security-Policy", _DOCS_CSP if is_docs else _DEFAULT_CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if request.path.startswith("/api/") and "Cache-Control" not in headers:
        headers["Cache-Control"] = "no-store" if request.method != "GET" else "no-cache"
    return response


def register_http(app: Flask) -> None:
    """Install the request hooks every surface shares, the strict JSON provider and the
    ``int`` URL converter (before any blueprint adds a rule)."""
    app.json = StrictJSONProvider(app)
    app.url_map.converters["int"] = IdConverter
    app.before_request(_check_query_length)
    app.before_request(_check_raw_text)
    app.before_request(_check_api_body)
    app.after_request(_finish_response)
