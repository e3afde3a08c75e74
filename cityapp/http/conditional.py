"""Conditional requests: strong ETags from cheap version keys, 304 before the body is built,
If-Match for writes."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, jsonify, request

from cityapp.errors import (
    PreconditionFailed,
    PreconditionRequired,
)
from cityapp.http.pagination import _jsonable

# --- conditional requests ----------------------------------------------------------------


def make_etag(*parts: Any) -> str:
    """A strong ETag (quoted) derived from a cheap version key and the request's variant."""
    raw = json.dumps([_jsonable(p) for p in parts], separators=(",", ":"), default=str)
    return '"' + hashlib.sha256(raw.encode()).hexdigest()[:32] + '"'


def _parse_etags(header: str) -> list[tuple[bool, str]]:
    """Split an If-(None-)Match header into (is_weak, opaque-tag) pairs; ``*`` is ("*")."""
    tags: list[tuple[bool, str]] = []
    for match in re.finditer(r'\s*(W/)?("[^"]*"|\*)\s*,?', header):
        tags.append((bool(match.group(1)), match.group(2)))
    return tags


def if_none_match_hits(etag: str) -> bool:
    """RFC 9110 weak comparison: W/"x" sent back by a proxy still matches "x"."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    opaque = etag[2:] if etag.startswith("W/") else etag
    return any(tag == "*" or tag == opaque for _weak, tag in _parse_etags(header))


def not_modified(etag: str, *, cache_control: str = "no-cache") -> Response:
    response = current_app.response_class(status=304)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    return response


def conditional_json(
    etag: str,
    build: Callable[[], Any],
    *,
    cache_control: str = "no-cache",
) -> Response:
    """Answer 304 from the ETag alone, and only build the payload when the client needs it."""
    if if_none_match_hits(etag):
        return not_modified(etag, cache_control=cache_control)
    payload = build()
    response = payload if isinstance(payload, Response) else jsonify(payload)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    return response


def check_if_match(current_etag: str, *, required: bool = False) -> None:
    """For updates: strong comparison; 412 when stale, 428 when required and missing."""
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionRequired("Send If-Match with the ETag you last read.")
        return
    tags = _parse_etags(header)
    if any(tag == "*" for _weak, tag in tags):
        return
    if not any(not weak and tag == current_etag for weak, tag in tags):
        raise PreconditionFailed(
            "The resource changed since you read it; reload it and apply your change again.",
            headers={"ETag": current_etag},
        )
