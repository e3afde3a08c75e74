"""Request checks every surface shares: request ids, body types and sizes, query length,
text in query strings and forms, and the id URL converter."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, has_app_context, request
from werkzeug.routing import IntegerConverter

from cityapp.errors import (
    UnsupportedMediaType,
    ValidationError,
    render_error,
)
from cityapp.fields import INT64_MAX, text_problem
from cityapp.http.json_guard import check_json_text

# --- request ids -----------------------------------------------------------------------

_REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def assign_request_id() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _REQUEST_ID_RE.match(incoming) else uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served, or None (CLI, scheduler, outside any context)."""
    return g.get("request_id") if has_app_context() else None


# --- request body checks -----------------------------------------------------------------

_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
_JSON_TYPES = {"application/json", "application/merge-patch+json"}


def accepts(*mimetypes: str) -> Callable:
    """Mark a view as accepting request bodies of other types than JSON (e.g. multipart)."""

    def decorator(func: Callable) -> Callable:
        func._cityapp_accepts = set(mimetypes)  # type: ignore[attr-defined]
        return func

    return decorator


def _view_accepts() -> set[str]:
    view = current_app.view_functions.get(request.endpoint or "")
    if view is None:
        return set()
    accepted = set(getattr(view, "_cityapp_accepts", set()))
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        method = getattr(view_class, request.method.lower(), None)
        accepted |= set(getattr(method, "_cityapp_accepts", set()))
    return accepted


def _check_query_length() -> Response | None:
    """Refuse over-long query strings (414) before any view parses them."""
    limit = current_app.config["CITYAPP_MAX_QUERY_LENGTH"]
    if limit is not None and len(request.query_string) > limit:
        return render_error(
            414,
            "URI too long",
            f"Query strings are limited to {limit} bytes.",
            slug="uri-too-long",
        )
    return None


def _check_api_body() -> Response | None:
    """Refuse oversized or non-JSON bodies on /api/ before any view runs (413 / 415)."""
    if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
        return None
    length = request.content_length
    has_body = (length or 0) > 0 or request.headers.get("Transfer-Encoding") == "chunked"
    if not has_body:
        return None
    overall = current_app.config["MAX_CONTENT_LENGTH"]
    if overall is not None and length is not None and length > overall:
        return _too_large(overall, "Request bodies")
    accepted = _view_accepts()
    mimetype = request.mimetype
    if mimetype in _JSON_TYPES or mimetype.endswith("+json"):
        limit = current_app.config["CITYAPP_MAX_JSON_LENGTH"]
        if overall is not None:
            limit = min(limit, overall)
        refused = refuse_body_over(limit, "JSON bodies")
        if refused is None:
            check_json_text(request.get_data(cache=True), "body")
        return refused
    if mimetype in accepted:
        return None
    raise UnsupportedMediaType(
        f"Send the request body as application/json (got {mimetype or 'no content type'}).",
        headers={"Accept-Post": ", ".join(sorted(_JSON_TYPES | accepted))},
    )


# --- text in query strings and forms -------------------------------------------------------


def _check_raw_text() -> None:
    """Form fields everywhere, and query parameters outside /api/ (where the schemas' Text
    fields check them), including those views read by hand (Open311, feeds), must be text: no
    lone surrogates, no control characters but tab, newline and carriage return."""
    sources = [] if request.path.startswith("/api/") else [request.args]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sources.append(request.form)
    errors: dict[str, list[str]] = {}
    for source in sources:
        for key, values in source.lists():
            for value in (key, *values):
                problem = text_problem(value)
                if problem:
                    name = key.encode("utf-8", "backslashreplace").decode("utf-8")
                    errors[name] = [problem]
    if errors:
        raise ValidationError("Some parameters are not valid text.", errors=errors)
    if request.mimetype == "multipart/form-data" and "data" in request.form:
        check_json_text(request.form["data"], "data")


# --- path parameters -------------------------------------------------------------------------


class IdConverter(IntegerConverter):
    """``<int:...>`` in every rule: 1 … 2**63-1, so an id no column can hold is a 404 instead
    of an OverflowError in the database driver."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(map, *args, **kwargs)


def refuse_body_over(limit: int, what: str = "Request bodies") -> Response | None:
    """A 413 problem if the request body is longer than ``limit`` bytes, else None.

    Chunked bodies have no length to check up front: Werkzeug silently truncates a stream at
    max_content_length, so read one byte more than allowed to tell "too large"."""
    length = request.content_length
    if length is None and request.headers.get("Transfer-Encoding") == "chunked":
        request.max_content_length = limit + 1
        length = len(request.get_data(cache=True))
    if length is not None and length > limit:
        return _too_large(limit, what)
    return None


def _too_large(limit: int, what: str) -> Response:
    return render_error(413, "Payload too large", f"{what} are limited to {limit} bytes.")
