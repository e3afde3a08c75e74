"""Hostile JSON: nesting depth and non-finite numbers refused before a recursive parser
runs, and a JSON provider that never emits NaN."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, has_app_context
from flask.json.provider import DefaultJSONProvider

from cityapp.errors import (
    BadRequest,
    ValidationError,
)

# --- hostile JSON --------------------------------------------------------------------------


class _NotFinite(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotFinite(name)


def _finite_float(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise _NotFinite(text)
    return number


def json_depth_exceeds(data: bytes | str, limit: int) -> bool:
    """True if brackets nest deeper than ``limit``, counted iteratively outside strings, so
    no recursive parser ever sees a body built to exhaust the stack."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


_NOT_JSON = object()


def check_json_text(data: bytes | str, field: str) -> Any:
    """Refuse JSON nested deeper than CITYAPP_MAX_JSON_DEPTH (400) or holding NaN, Infinity or
    a number beyond the float range such as 1e999 (422). Syntax errors are left to the parser
    that reads the document, so its message stays the same. Returns the parsed document (or
    ``_NOT_JSON`` for a syntax error), so a caller that needs it does not parse again."""
    limit = current_app.config["CITYAPP_MAX_JSON_DEPTH"]
    if json_depth_exceeds(data, limit):
        raise BadRequest(
            f"JSON may nest at most {limit} levels deep.",
            errors={field: [f"Nested deeper than {limit} levels."]},
        )
    try:
        return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFinite:
        raise ValidationError(
            "JSON numbers must be finite (no NaN, Infinity or out-of-range values).",
            errors={field: ["Numbers must be finite."]},
        ) from None
    except ValueError:
        return _NOT_JSON


def load_json_text(data: bytes | str, field: str) -> Any:
    """Parse a JSON document that came in a form field, with the checks of check_json_text;
    ValueError when it is not JSON."""
    document = check_json_text(data, field)
    if document is _NOT_JSON:
        raise ValueError(f"{field} is not JSON")
    return document


class StrictJSONProvider(DefaultJSONProvider):
    """Refuses to emit NaN or Infinity (invalid JSON) and to read them, so a slip fails a test
    instead of a client."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        if has_app_context() and json_depth_exceeds(
            s, current_app.config["CITYAPP_MAX_JSON_DEPTH"]
        ):
            raise ValueError("JSON nested too deeply")
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        return super().loads(s, **kwargs)
