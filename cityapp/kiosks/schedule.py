"""Operating hours and night-mode windows of a stele: validation and evaluation.

A device's ``schedule`` JSON::

    {"operating_hours": [{"days": [0, 1, 2, 3, 4], "start": "06:00", "end": "22:00"}],
     "night_mode":      [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "23:00", "end": "05:30"}]}

``days`` are the weekdays a window *starts* on (0 = Monday … 6 = Sunday); ``end`` before
``start`` means the window runs over midnight into the next day; ``end`` may be ``24:00``.
Times are wall-clock in the municipality's zone (``CITYAPP_TIMEZONE``, Europe/Berlin). No
operating hours means "always operating"; no night mode means "never in night mode".

Each occurrence of a window is one continuous span of real time, from the instant its start
is first shown on the wall clock to the instant its end is. On DST nights that means:

- a wall time that does not exist (spring forward, 02:00-03:00 is skipped) stands for the
  instant the clocks jump, 03:00 summer time: a 01:00-02:30 window ends at the jump;
- a wall time that happens twice (fall back, 02:00-03:00 runs twice) means its first
  occurrence: a 23:00-02:30 night mode ends at 02:30 summer time, the first 02:30.

Overlapping or touching windows of one kind merge, so a boundary is reported only where a
state really flips.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cityapp.errors import ValidationError

KINDS = ("operating_hours", "night_mode")
MAX_WINDOWS = 28
_TIME = re.compile(r"^(?:[01]\d|2[0-3]):[0-5]\d$")
_WINDOW_KEYS = {"days", "start", "end"}
# A weekly schedule repeats after 7 days; one more covers a window running over midnight.
_LOOKAHEAD = timedelta(days=8)

Interval = tuple[datetime, datetime]


# --- validation --------------------------------------------------------------------------


def _validate_window(window: Any) -> tuple[dict | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    if not isinstance(window, dict):
        return None, {"_schema": ["A window is an object with days, start and end."]}
    for key in sorted(set(window) - _WINDOW_KEYS):
        errors[key] = ["Unknown field."]
    days = window.get("days")
    if "days" not in window:
        errors["days"] = ["Missing data for required field."]
    elif (
        not isinstance(days, list)
        or not days
        or any(isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days)
    ):
        errors["days"] = ["A non-empty list of weekdays 0 (Monday) to 6 (Sunday)."]
    start, end = window.get("start"), window.get("end")
    if "start" not in window:
        errors["start"] = ["Missing data for required field."]
    elif not isinstance(start, str) or not _TIME.match(start):
        errors["start"] = ["A wall-clock time HH:MM from 00:00 to 23:59."]
    if "end" not in window:
        errors["end"] = ["Missing data for required field."]
    elif not isinstance(end, str) or not (_TIME.match(end) or end == "24:00"):
        errors["end"] = ["A wall-clock time HH:MM from 00:00 to 24:00."]
    elif start == end:
        errors["end"] = ["End must differ from start (use 00:00-24:00 for a whole day)."]
    if errors:
        return None, errors
    return {"days": sorted(set(days)), "start": start, "end": end}, {}


def validate_schedule(data: Any) -> dict[str, list[dict]]:
    """Check a schedule and return it normalised (both keys present, days sorted and unique).

    Raises ValidationError with per-field messages under the ``schedule`` field, keyed like
    marshmallow's (``{"schedule": {"night_mode": {"0": {"start": [...]}}}}``).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationError(errors={"schedule": {"_schema": ["The schedule is an object."]}})
    errors: dict[str, Any] = {}
    for key in sorted(set(data) - set(KINDS)):
        errors[key] = ["Unknown field."]
    clean: dict[str, list[dict]] = {}
    for kind in KINDS:
        windows = data.get(kind)
        if windows is None:
            clean[kind] = []
            continue
        if not isinstance(windows, list):
            errors[kind] = ["A list of windows."]
            continue
        if len(windows) > MAX_WINDOWS:
            errors[kind] = [f"At most {MAX_WINDOWS} windows."]
            continue
        kind_errors: dict[str, Any] = {}
        clean[kind] = []
        for index, window in enumerate(windows):
            normalised, window_errors = _validate_window(window)
            if window_errors:
                kind_errors[str(index)] = window_errors
            else:
                clean[kind].append(normalised)
        if kind_errors:
            errors[kind] = kind_errors
    if errors:
        raise ValidationError("The schedule is not valid.", errors={"schedule": errors})
    return clean


# --- wall clock to real time -------------------------------------------------------------


def zone_of(tz: str | ZoneInfo | None) -> ZoneInfo:
    """The zone to evaluate in: given, or the app's CITYAPP_TIMEZONE, or Europe/Berlin."""
    if isinstance(tz, ZoneInfo):
        return tz
    if tz:
        return ZoneInfo(tz)
    from flask import current_app, has_app_context

    if has_app_context():
        return ZoneInfo(current_app.config.get("CITYAPP_TIMEZONE") or "Europe/Berlin")
    return ZoneInfo("Europe/Berlin")


def _parse(value: str) -> tuple[int, int]:
    hours, minutes = value.split(":")
    return int(hours), int(minutes)


def wall_to_utc(day: date, hhmm: str, zone: ZoneInfo) -> datetime:
    """The instant a wall-clock time on a local day is first shown (see the module docs)."""
    hours, minutes = _parse(hhmm)
    if hours == 24:
        day, hours = day + timedelta(days=1), 0
    naive = datetime.combine(day, time(hours, minutes))
    first = naive.replace(tzinfo=zone)  # fold=0: the first of two, or "before the jump"
    utc = first.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) == naive:
        return utc
    # Skipped by a spring-forward jump: the window edge is the jump itself. fold=1 reads the
    # wall time with the new offset (an instant before the jump), fold=0 with the old one (an
    # instant after it); bisect (in whole seconds, as zones change offsets) to the jump.
    low = int(naive.replace(tzinfo=zone, fold=1).timestamp())
    high = int(utc.timestamp())
    offset_after = utc.astimezone(zone).utcoffset()
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, UTC).astimezone(zone).utcoffset() == offset_after:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)


def _occurrences(windows: list[dict], start: datetime, end: datetime, zone: ZoneInfo) -> list:
    """Merged real-time spans of the windows that overlap [start, end), clipped to it."""
    spans: list[Interval] = []
    first_day = start.astimezone(zone).date() - timedelta(days=1)
    last_day = end.astimezone(zone).date()
    day = first_day
    while day <= last_day:
        weekday = day.weekday()
        for window in windows:
            if weekday not in window["days"]:
                continue
            opens = wall_to_utc(day, window["start"], zone)
            overnight = window["end"] != "24:00" and window["end"] <= window["start"]
            closes = wall_to_utc(day + timedelta(days=1) if overnight else day, window["end"], zone)
            if closes <= opens:
                continue  # a window swallowed whole by a DST jump
            if closes > start and opens < end:
                spans.append((max(opens, start), min(closes, end)))
        day += timedelta(days=1)
    return merge(spans)


def merge(spans: list[Interval]) -> list[Interval]:
    """Sort and merge overlapping or touching spans."""
    merged: list[Interval] = []
    for opens, closes in sorted(spans):
        if merged and opens <= merged[-1][1]:
            if closes > merged[-1][1]:
                merged[-1] = (merged[-1][0], closes)
        else:
            merged.append((opens, closes))
    return merged


def subtract(spans: list[Interval], holes: list[Interval]) -> list[Interval]:
    """The parts of merged ``spans`` not covered by merged ``holes``."""
    result: list[Interval] = []
    for opens, closes in spans:
        cursor = opens
        for hole_start, hole_end in holes:
            if hole_end <= cursor or hole_start >= closes:
                continue
            if hole_start > cursor:
                result.append((cursor, hole_start))
            cursor = max(cursor, hole_end)
            if cursor >= closes:
                break
        if cursor < closes:
            result.append((cursor, closes))
    return result


def _windows(schedule: dict | None, kind: str) -> list[dict]:
    return list((schedule or {}).get(kind) or [])


def operating_spans(
    schedule: dict | None, start: datetime, end: datetime, tz: str | ZoneInfo | None = None
) -> list[Interval]:
    """Spans of [start, end) inside operating hours (all of it when there are none)."""
    windows = _windows(schedule, "operating_hours")
    if not windows:
        return [(start, end)] if start < end else []
    return _occurrences(windows, start, end, zone_of(tz))


def night_spans(
    schedule: dict | None, start: datetime, end: datetime, tz: str | ZoneInfo | None = None
) -> list[Interval]:
    """Spans of [start, end) inside night mode."""
    windows = _windows(schedule, "night_mode")
    return _occurrences(windows, start, end, zone_of(tz)) if windows else []


def expected_spans(
    schedule: dict | None, start: datetime, end: datetime, tz: str | ZoneInfo | None = None
) -> list[Interval]:
    """Spans of [start, end) in which the stele should be on: operating and not in night
    mode (the base of availability figures and incidents)."""
    zone = zone_of(tz)
    return subtract(
        operating_spans(schedule, start, end, zone), night_spans(schedule, start, end, zone)
    )


def _inside(spans: list[Interval], at: datetime) -> bool:
    return any(opens <= at < closes for opens, closes in spans)


def _around(at: datetime) -> tuple[datetime, datetime]:
    return at - timedelta(seconds=1), at + timedelta(seconds=1)


# --- evaluation --------------------------------------------------------------------------


def is_in_night_mode(
    schedule: dict | None, at_utc: datetime, tz: str | ZoneInfo | None = None
) -> bool:
    """Whether ``at_utc`` falls inside one of the night-mode windows."""
    if not _windows(schedule, "night_mode"):
        return False
    return _inside(night_spans(schedule, *_around(at_utc), tz), at_utc)


def is_operating(schedule: dict | None, at_utc: datetime, tz: str | ZoneInfo | None = None) -> bool:
    """Whether ``at_utc`` falls inside operating hours (always true without any)."""
    if not _windows(schedule, "operating_hours"):
        return True
    return _inside(operating_spans(schedule, *_around(at_utc), tz), at_utc)


def is_expected_online(
    schedule: dict | None, at_utc: datetime, tz: str | ZoneInfo | None = None
) -> bool:
    """Operating and not in night mode: the stele should be heartbeating now."""
    zone = zone_of(tz)
    return is_operating(schedule, at_utc, zone) and not is_in_night_mode(schedule, at_utc, zone)


def next_boundary(
    schedule: dict | None, after_utc: datetime, tz: str | ZoneInfo | None = None
) -> datetime | None:
    """The first instant after ``after_utc`` at which operating or night-mode state flips;
    None when neither ever changes (no windows, or windows covering the whole week)."""
    zone = zone_of(tz)
    horizon = after_utc + _LOOKAHEAD
    candidates: list[datetime] = []
    for kind in KINDS:
        windows = _windows(schedule, kind)
        if not windows:
            continue
        for opens, closes in _occurrences(windows, after_utc, horizon, zone):
            candidates.extend(edge for edge in (opens, closes) if after_utc < edge < horizon)
    return min(candidates) if candidates else None
