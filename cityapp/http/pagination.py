"""Keyset pagination with signed cursors: the page query, the page envelope and its schemas."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, jsonify, request
from marshmallow import Schema, fields, validate
from sqlalchemy import Select, and_, false, literal, or_, tuple_
from sqlalchemy.orm import InstrumentedAttribute

from cityapp.errors import (
    BadRequest,
)

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
