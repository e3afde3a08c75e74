"""The marshmallow field types every schema uses for ids, numbers, text and datetimes, so a
hostile value is refused the same way (422, a field error) on every endpoint."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from marshmallow import ValidationError, fields

# The range of the database's BIGINT (and of every id column): beyond it SQLite and
# psycopg raise OverflowError instead of finding nothing.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

# Lone surrogates cannot be encoded as UTF-8; C0 controls other than tab, newline and
# carriage return (and DEL) are not allowed in XML 1.0 and have no business in text.
_NOT_TEXT_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
# Characters that render as nothing: a text made only of these (and whitespace) is empty.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"


def parse_id(text: str) -> int | None:
    """The row id a text spells ("42"), or None if it spells none (not digits, 0, > 2**63-1)."""
    if not (text.isascii() and text.isdigit()) or len(text) > 19:
        return None
    number = int(text)
    return number if 1 <= number <= INT64_MAX else None


def text_problem(value: str) -> str | None:
    """Why ``value`` is not acceptable text, or None when it is."""
    match = _NOT_TEXT_RE.search(value)
    if match is None:
        return None
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        return "Must be valid Unicode text (no lone surrogates)."
    return "Must not contain control characters."


def is_blank(value: str) -> bool:
    """True for text that is empty once whitespace and zero-width characters are removed."""
    return not value.strip(_INVISIBLE + " \t\n\r\x0b\x0c\u00a0\u2028\u2029").strip()


def is_finite_number(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


class Text(fields.String):
    """Unicode text: no lone surrogates, no control characters except tab, newline and
    carriage return; a required text of only whitespace or zero-width characters is empty."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        problem = text_problem(text)
        if problem:
            raise ValidationError(problem)
        if self.required and is_blank(text):
            raise ValidationError("Must not be empty.")
        return text


class Integer(fields.Integer):
    """A whole number the database can store (signed 64 bits)."""

    minimum, maximum = INT64_MIN, INT64_MAX

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and not math.isfinite(value):
            raise self.make_error("invalid")
        number = super()._validated(value)
        if not self.minimum <= number <= self.maximum:
            raise ValidationError(f"Must be from {self.minimum} to {self.maximum}.")
        return number


class Id(Integer):
    """A row id: 1 … 2**63-1. Any other number can never name a row, so it is refused."""

    minimum = 1


class Float(fields.Float):
    """A finite number (NaN and ±Infinity refused, as marshmallow does by default)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_nan"] = False
        super().__init__(**kwargs)


# datetime.min/max shifted by the largest UTC offsets (±14:00) overflow when converted to
# UTC; real dates in this application lie far inside these years anyway.
MIN_YEAR, MAX_YEAR = 1900, 9998


def check_datetime_range(value: datetime) -> datetime:
    """``value`` converted to UTC; ValueError if it lies outside MIN_YEAR … MAX_YEAR."""
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValueError("out of range") from None
    if not MIN_YEAR <= in_utc.year <= MAX_YEAR:
        raise ValueError("out of range")
    return in_utc


class UTCDateTime(fields.AwareDateTime):
    """ISO 8601 in UTC with a Z suffix on output; any offset accepted on input (naive refused),
    years MIN_YEAR … MAX_YEAR."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).setdefault("example", "2026-11-22T08:30:00Z")
        super().__init__(format="iso", **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any):
        if isinstance(value, str) and text_problem(value):
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return check_datetime_range(parsed)
        except ValueError:
            raise ValidationError(
                f"Must be a date-time from the years {MIN_YEAR} to {MAX_YEAR}."
            ) from None
