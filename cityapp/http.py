"""Shared API helpers: request ids, body checks, pagination, conditional requests, languages,
security headers. Domains use these instead of writing their own."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, has_app_context, jsonify, request
from flask.json.provider import DefaultJSONProvider
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, and_, false, literal, or_, tuple_
from sqlalchemy.orm import InstrumentedAttribute
from werkzeug.routing import IntegerConverter

from cityapp.errors import (
    BadRequest,
    PreconditionFailed,
    PreconditionRequired,
    UnsupportedMediaType,
    ValidationError,
    render_error,
)
from cityapp.fields import INT64_MAX, text_problem

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


def check_json_text(data: bytes | str, field: str) -> None:
    """Refuse JSON nested deeper than CITYAPP_MAX_JSON_DEPTH (400) or holding NaN, Infinity or
    a number beyond the float range such as 1e999 (422). Syntax errors are left to the parser
    that reads the document, so its message stays the same."""
    limit = current_app.config["CITYAPP_MAX_JSON_DEPTH"]
    if json_depth_exceeds(data, limit):
        raise BadRequest(
            f"JSON may nest at most {limit} levels deep.",
            errors={field: [f"Nested deeper than {limit} levels."]},
        )
    try:
        json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float)
    except _NotFinite:
        raise ValidationError(
            "JSON numbers must be finite (no NaN, Infinity or out-of-range values).",
            errors={field: ["Numbers must be finite."]},
        ) from None
    except ValueError:
        return


def load_json_text(data: bytes | str, field: str) -> Any:
    """Parse a JSON document that came in a form field, with the checks of check_json_text;
    ValueError when it is not JSON."""
    check_json_text(data, field)
    return json.loads(data)


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


# --- XML -----------------------------------------------------------------------------------

# Characters XML 1.0 cannot carry at all, not even escaped: C0 controls but tab, newline and
# carriage return, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: str) -> str:
    """``value`` without the characters XML cannot hold (rows stored before input was checked
    may still contain them)."""
    return _NOT_XML_RE.sub("", value)


def xml_bytes(root: Any) -> bytes:
    """Serialise an ElementTree element as UTF-8 with a declaration, always well-formed: every
    text, tail and attribute value goes through xml_text first."""
    from xml.etree import ElementTree as ET

    for element in root.iter():
        if isinstance(element.text, str):
            element.text = xml_text(element.text)
        if isinstance(element.tail, str):
            element.tail = xml_text(element.tail)
        for name, value in list(element.attrib.items()):
            element.attrib[name] = xml_text(value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


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


# --- pagination ------------------------------------------------------------------------


class PaginationQuerySchema(Schema):
    """?limit= and ?cursor= for every list."""

    limit = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=100),
        metadata={"description": "Items per page (1-100, default 20)."},
    )
    cursor = fields.String(
        load_default=None,
        validate=validate.Length(max=512),
        metadata={"description": "Opaque cursor from a previous page's next_cursor."},
    )


class PageSchema(Schema):
    """Envelope of a cursor-paginated list; domains subclass it and add ``items``."""

    next_cursor = fields.String(
        allow_none=True,
        metadata={
            "description": "Pass as ?cursor= to get the next page; null on the last.",
            "example": "i_3EFxarQqRbeyJkdCI6IjIwMjYtMTEtMjlUMDg6MDA6MDArMDA6MDAifSw0Ml0",
        },
    )


def _encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_jsonable(v) for v in values], separators=(",", ":")).encode()
    mac = hashlib.blake2b(raw, key=_cursor_key(), digest_size=8).digest()
    return base64.urlsafe_b64encode(mac + raw).decode().rstrip("=")


def _decode_cursor(cursor: str, types: Sequence[type]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        blob = base64.urlsafe_b64decode(padded.encode())
        mac, raw = blob[:8], blob[8:]
        if hashlib.blake2b(raw, key=_cursor_key(), digest_size=8).digest() != mac:
            raise ValueError("bad signature")
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(types):
            raise ValueError("bad shape")
        return [_from_jsonable(v, t) for v, t in zip(values, types, strict=True)]
    except (ValueError, TypeError, json.JSONDecodeError):
        raise BadRequest(
            "The cursor is invalid or belongs to another list; start again without it.",
            errors={"cursor": ["Invalid cursor."]},
        ) from None


def _cursor_key() -> bytes:
    """Keyed by the endpoint too, so a cursor of one list is refused by another."""
    scope = f"cursor:{request.endpoint}:".encode()
    return hashlib.sha256(scope + current_app.config["SECRET_KEY"].encode()).digest()[:32]


def _jsonable(value: Any) -> Any:
    from datetime import datetime

    if isinstance(value, datetime):
        return {"dt": value.isoformat()}
    return value


def _from_jsonable(value: Any, type_: type) -> Any:
    from datetime import datetime

    if type_ is datetime:
        if not isinstance(value, dict) or "dt" not in value:
            raise ValueError("expected datetime")
        parsed = datetime.fromisoformat(value["dt"])
        if parsed.tzinfo is None:
            raise ValueError("naive datetime in cursor")
        return parsed
    if not isinstance(value, type_):
        raise ValueError("wrong type")
    return value


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def paginate(
    session: Any,
    query: Select,
    order: Sequence[tuple[InstrumentedAttribute, str]],
    *,
    limit: int,
    cursor: str | None,
) -> Page:
    """Keyset pagination over ``order`` (columns with "asc"/"desc"; the last must be unique).

    Deep pages cost the same as the first one: no OFFSET, an indexed range scan instead.
    """
    types = [_python_type(col) for col, _ in order]
    if cursor:
        values = _decode_cursor(cursor, types)
        query = query.where(_after(order, values))
    query = query.order_by(*[col.desc() if d == "desc" else col.asc() for col, d in order])
    rows = list(session.scalars(query.limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode_cursor([getattr(last, col.key) for col, _ in order])
    return Page(items=rows, next_cursor=next_cursor)


def _python_type(column: InstrumentedAttribute) -> type:
    sql_type = column.property.columns[0].type
    # A TypeDecorator (e.g. cityapp.db.UTCDateTime) reports ``object``; its impl knows better.
    python_type = getattr(sql_type, "impl_instance", sql_type).python_type
    if python_type is object:
        raise TypeError(f"cannot paginate over {column}: unknown Python type")
    return python_type


def _after(order: Sequence[tuple[InstrumentedAttribute, str]], values: Sequence[Any]) -> Any:
    """(a, b) > (x, y): a row-value comparison when all directions agree (both databases
    then bound the index scan by it, so deep pages cost what the first one does), spelled out
    as ORs for mixed directions."""
    directions = {direction for _col, direction in order}
    if len(directions) == 1:
        columns = tuple_(*[col for col, _ in order])
        bounds = tuple_(*[literal(v, col.type) for (col, _), v in zip(order, values, strict=True)])
        return columns < bounds if directions == {"desc"} else columns > bounds
    clauses = []
    for i, (col, direction) in enumerate(order):
        equal_prefix = [order[j][0] == values[j] for j in range(i)]
        if isinstance(values[i], bool):
            # SQL refuses < and > against booleans; with false < true, "beyond" is the other
            # value or nothing.
            after = (not values[i]) if direction == "asc" else values[i]
            beyond = col.is_(direction == "asc") if after else false()
        else:
            beyond = col < values[i] if direction == "desc" else col > values[i]
        clauses.append(and_(*equal_prefix, beyond))
    return or_(*clauses)


def page_response(page: Page, schema: Schema, *, status: int = 200) -> Response:
    """Serialise a Page as {"items": [...], "next_cursor": ...} with a Link: rel="next" header."""
    body = {"items": schema.dump(page.items, many=True), "next_cursor": page.next_cursor}
    response = jsonify(body)
    response.status_code = status
    if page.next_cursor:
        args = request.args.to_dict(flat=False)
        args["cursor"] = [page.next_cursor]
        url = request.base_url + "?" + urlencode(args, doseq=True)
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


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


# --- languages -------------------------------------------------------------------------


def negotiate_language(supported: Iterable[str] | None = None) -> str:
    """Pick the response language from ?lang=, then Accept-Language; fall back to German.

    Unknown codes never fail a request. The choice is announced in Content-Language.
    """
    supported = list(supported or current_app.config["CITYAPP_LANGUAGES"])
    default = current_app.config["CITYAPP_DEFAULT_LANGUAGE"]
    chosen = None
    wanted = (request.args.get("lang") or "").strip().lower()
    if wanted:
        chosen = _match_language(wanted, supported)
    if chosen is None:
        # Highest quality first; q=0 means "not this one" (RFC 9110), not "least preferred".
        ranked = sorted(request.accept_languages, key=lambda item: -item[1])
        for value, quality in ranked:
            if quality <= 0:
                continue
            chosen = _match_language(value.lower(), supported)
            if chosen:
                break
    chosen = chosen or default
    g.content_language = chosen
    return chosen


def _match_language(tag: str, supported: Sequence[str]) -> str | None:
    lowered = {s.lower(): s for s in supported}
    if tag in lowered:
        return lowered[tag]
    primary = tag.split("-")[0]
    return lowered.get(primary)


def pick_translation(values: dict[str, str] | None, language: str) -> str | None:
    """The text in ``language``, else German, else any language there is."""
    if not values:
        return None
    default = current_app.config["CITYAPP_DEFAULT_LANGUAGE"]
    return values.get(language) or values.get(default) or next(iter(values.values()), None)


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
