"""AppError hierarchy and the one place that turns any error into a response.

The surface decides the shape: RFC 9457 problem details under /api/ (and other machine paths),
HTML pages for staff pages. A surface with a shape of its own (Open311) is added by
``register_surface`` from create_app; the table lives on the app, not in a module global.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, render_template, request
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from cityapp.logs import redact

log = logging.getLogger(__name__)

PROBLEM_BASE = "https://cityapp.example/problems/"
_CSRF_TITLE = "CSRF token missing or invalid"


class AppError(Exception):
    """A business error with an HTTP status; services raise these, never abort()."""

    status = 400
    slug = "bad-request"
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        if title:
            self.title = title


class BadRequest(AppError):
    status, slug, title = 400, "bad-request", "Bad request"


class Unauthorized(AppError):
    status, slug, title = 401, "unauthorized", "Authentication required"

    def __init__(self, detail: str | None = None, *, scheme: str = "Bearer", **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.headers.setdefault("WWW-Authenticate", f'{scheme} realm="cityapp"')


class Forbidden(AppError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(AppError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(AppError):
    status, slug, title = 409, "conflict", "Conflict"


class Gone(AppError):
    status, slug, title = 410, "gone", "Gone"


class PreconditionFailed(AppError):
    status, slug, title = 412, "precondition-failed", "Precondition failed"


class UnsupportedMediaType(AppError):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"


class ValidationError(AppError):
    status, slug, title = 422, "validation-error", "Validation failed"


class PreconditionRequired(AppError):
    status, slug, title = 428, "precondition-required", "Precondition required"


class TooManyRequests(AppError):
    status, slug, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str | None = None, *, retry_after: int = 60, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.headers.setdefault("Retry-After", str(max(1, int(retry_after))))


# --- rendering ---------------------------------------------------------------------------

_HTTP_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    410: "gone",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
}


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """Build an RFC 9457 application/problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (slug or _HTTP_SLUGS.get(status, "error")),
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    request_id = getattr(g, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


# Staff pages are German; API titles and details stay English for developers.
_HTML_TEXTS = {
    400: ("Ungültige Anfrage", "Die Anfrage konnte nicht verarbeitet werden."),
    401: ("Anmeldung erforderlich", "Bitte melden Sie sich an."),
    403: ("Zugriff verweigert", "Sie haben keine Berechtigung für diese Seite."),
    404: ("Seite nicht gefunden", "Diese Seite gibt es nicht (mehr)."),
    405: ("Methode nicht erlaubt", "Diese Aktion ist hier nicht möglich."),
    413: ("Anfrage zu groß", "Die gesendeten Daten sind zu groß."),
    429: ("Zu viele Anfragen", "Bitte warten Sie einen Moment und versuchen Sie es erneut."),
    500: ("Interner Fehler", "Auf unserer Seite ist ein Fehler aufgetreten."),
}


def _html_error(
    status: int,
    title: str,
    detail: str | None,
    headers: dict[str, str],
    extra: dict[str, Any] | None = None,
) -> Response:
    german_title, german_detail = _HTML_TEXTS.get(status, (title, detail))
    if status == 403 and title == _CSRF_TITLE:
        german_detail = "Das Formular ist abgelaufen. Bitte laden Sie die Seite neu."
    html = render_template(
        "error.html",
        status=status,
        title=german_title,
        detail=german_detail,
        error_id=(extra or {}).get("error_id"),
    )
    response = current_app.response_class(html, status=status, mimetype="text/html")
    for name, value in headers.items():
        if name != "WWW-Authenticate":
            response.headers[name] = value
    return response


# The built-in surfaces by path prefix; a domain adds its own with register_surface.
DEFAULT_SURFACES: tuple[tuple[str, str], ...] = (
    ("/api/", "problem"),
    ("/staff/", "html"),
    ("/healthz", "problem"),
    ("/readyz", "problem"),
    ("/media/", "problem"),
    ("/feeds/", "problem"),
)

# renderer(status, title, detail, slug, errors, headers) -> Response
Renderer = Callable[..., Response]


def _surfaces() -> tuple[list[tuple[str, str]], dict[str, Renderer]]:
    return current_app.extensions["cityapp.error_surfaces"]


def _surface() -> str:
    """Which error shape this request gets, decided by path alone."""
    path = request.path
    for prefix, surface in _surfaces()[0]:
        if path == prefix.rstrip("/") or path.startswith(prefix):
            return surface
    # Machine clients that ask for JSON get JSON everywhere else too.
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return "problem" if best == "application/json" else "html"


def register_surface(app: Flask, prefix: str, name: str, renderer: Renderer) -> None:
    """Let a surface of its own (e.g. Open311) render its error shape under a path prefix;
    called from create_app after register_errors."""
    prefixes, renderers = app.extensions["cityapp.error_surfaces"]
    prefixes.insert(0, (prefix, name))
    renderers[name] = renderer


def render_error(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    slug: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> Response:
    """Render an error in the shape of the current request's surface. Every 429 says when to
    come back (Retry-After), whichever code path raised it."""
    headers = headers or {}
    if status == 429 and "Retry-After" not in headers:
        headers["Retry-After"] = str(_retry_after_seconds())
    surface = _surface()
    if surface == "problem":
        return problem_response(
            status, title, detail, slug=slug, errors=errors, headers=headers, extra=extra
        )
    renderers = _surfaces()[1]
    if surface in renderers:
        return renderers[surface](status, title, detail, slug, errors, headers)
    return _html_error(status, title, detail, headers, extra)


def _flatten_webargs_messages(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {"field": [...]}}); clients want fields."""
    if not isinstance(messages, dict):
        return {"_schema": messages if isinstance(messages, list) else [str(messages)]}
    flat: dict[str, Any] = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            flat.update(fields)
        else:
            flat[location] = fields
    return flat


def handle_app_error(error: AppError) -> Response:
    return render_error(
        error.status,
        error.title,
        error.detail,
        slug=error.slug,
        errors=error.errors,
        headers=dict(error.headers),
    )


_TITLES = {
    cls.status: cls.title
    for cls in (
        BadRequest,
        Unauthorized,
        Forbidden,
        NotFound,
        Conflict,
        Gone,
        PreconditionFailed,
        UnsupportedMediaType,
        ValidationError,
        PreconditionRequired,
        TooManyRequests,
    )
} | {405: "Method not allowed", 413: "Payload too large", 500: "Internal server error"}


def handle_http_exception(error: HTTPException) -> Response:
    status = error.code or 500
    headers: dict[str, str] = {}
    errors = None
    detail = error.description
    # One vocabulary for titles, whether Werkzeug, webargs or our own code raised the error.
    title = _TITLES.get(status, error.name)
    slug = None
    if status == 400 and detail and detail.startswith("The browser (or proxy) sent a request"):
        detail = "The request could not be understood (malformed syntax)."
    if isinstance(error, RateLimitExceeded):
        headers["Retry-After"] = str(_retry_after_seconds())
        detail = f"Rate limit exceeded ({error.description}). Try again later."
    elif isinstance(error, CSRFError):
        status, title, slug = 403, _CSRF_TITLE, "csrf"
        detail = (
            "Cookie-authenticated requests that change state must send the CSRF token in the "
            "X-CSRF-Token header (get it from GET /api/v1/auth/csrf)."
        )
    data = getattr(error, "data", None) or {}
    if "messages" in data:  # webargs / flask-smorest validation errors
        errors = _flatten_webargs_messages(data["messages"])
        if status == 422:
            detail = "The request did not validate; see errors."
        elif errors.get("json") == ["Invalid JSON body."]:
            detail = "The request body is not valid JSON."
    if status == 405 and getattr(error, "valid_methods", None):
        headers["Allow"] = ", ".join(error.valid_methods)
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="cityapp"')
    return render_error(status, title, detail, slug=slug, errors=errors, headers=headers)


def _retry_after_seconds() -> int:
    from cityapp.extensions import limiter  # local: errors.py must not need extensions at import

    try:
        current = limiter.current_limit
        if current is not None:
            import time

            return max(1, int(current.reset_at - time.time()))
    except Exception:
        log.debug("could not compute Retry-After", exc_info=True)
    return 60


def handle_unexpected_error(error: Exception) -> Response:
    error_id = uuid.uuid4().hex
    log.exception("unhandled error %s on %s %s", error_id, request.method, redact(request.path))
    return render_error(
        500,
        "Internal server error",
        f"Something went wrong on our side. Quote error id {error_id} when reporting this.",
        extra={"error_id": error_id},
    )


def register_errors(app: Flask) -> None:
    """Install the handlers; called after the API so ours replace flask-smorest's."""
    app.extensions["cityapp.error_surfaces"] = (list(DEFAULT_SURFACES), {})
    app.register_error_handler(AppError, handle_app_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected_error)
