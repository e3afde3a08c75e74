"""Availability per device per local day: expected time (the schedule) against time shown
(online, degraded or stale), from the health events; rolled up daily by the job."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from cityapp.db import db, utcnow
from cityapp.kiosks import schedule as schedules
from cityapp.kiosks.models import (
    Device,
    DeviceAvailability,
    DeviceHealthEvent,
    DeviceIncident,
    DeviceStatus,
    HealthState,
)
from cityapp.kiosks.service.health_rules import UP_STATES, HealthRules


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The real-time span of a local calendar day (23 or 25 hours on DST days)."""
    zone = ZoneInfo(tz)
    return schedules.wall_to_utc(day, "00:00", zone), schedules.wall_to_utc(
        day + timedelta(days=1), "00:00", zone
    )


def _state_spans(
    initial: str, events: list[DeviceHealthEvent], start: datetime, end: datetime
) -> list[tuple[str, datetime, datetime]]:
    spans = []
    state, since = initial, start
    for event in events:
        at = min(max(event.at, start), end)
        if at > since:
            spans.append((state, since, at))
        state, since = event.to_state, max(since, at)
    if end > since:
        spans.append((state, since, end))
    return spans


def _seconds(spans: list[tuple[datetime, datetime]]) -> int:
    return int(sum((closes - opens).total_seconds() for opens, closes in spans))


def compute_availability(
    device: Device,
    day: date,
    now: datetime,
    rules: HealthRules,
    *,
    initial: str | None = None,
    events: list[DeviceHealthEvent] | None = None,
    incidents: int | None = None,
) -> dict[str, Any]:
    """Availability figures of one device for one local day, up to ``now``.

    Expected time is the schedule's operating hours minus night mode (the current schedule:
    schedules are not versioned), excluding time before the device's first heartbeat.
    Online time is the part of it spent in online, degraded or stale.
    """
    start, end = day_bounds(day, rules.timezone)
    stop = min(end, now)
    if stop <= start:
        return {"seconds_expected": 0, "seconds_online": 0, "incidents_opened": 0}
    if events is None:
        events = list(
            db.session.scalars(
                select(DeviceHealthEvent)
                .where(
                    DeviceHealthEvent.device_id == device.id,
                    DeviceHealthEvent.at >= start,
                    DeviceHealthEvent.at < stop,
                )
                .order_by(DeviceHealthEvent.at, DeviceHealthEvent.id)
            )
        )
    if initial is None:
        initial = (
            db.session.scalar(
                select(DeviceHealthEvent.to_state)
                .where(DeviceHealthEvent.device_id == device.id, DeviceHealthEvent.at < start)
                .order_by(DeviceHealthEvent.at.desc(), DeviceHealthEvent.id.desc())
                .limit(1)
            )
            or HealthState.NEVER
        )
    if incidents is None:
        incidents = db.session.scalar(
            select(func.count(DeviceIncident.id)).where(
                DeviceIncident.device_id == device.id,
                DeviceIncident.opened_at >= start,
                DeviceIncident.opened_at < stop,
            )
        )
    expected = schedules.expected_spans(device.schedule, start, stop, rules.timezone)
    states = _state_spans(initial, events, start, stop)
    known = schedules.merge([(a, b) for state, a, b in states if state != HealthState.NEVER])
    up = schedules.merge([(a, b) for state, a, b in states if state in UP_STATES])
    expected_known = _intersect(expected, known)
    return {
        "seconds_expected": _seconds(expected_known),
        "seconds_online": _seconds(_intersect(expected_known, up)),
        "incidents_opened": incidents or 0,
    }


def _intersect(a: list, b: list) -> list[tuple[datetime, datetime]]:
    result = []
    i = j = 0
    while i < len(a) and j < len(b):
        opens, closes = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if opens < closes:
            result.append((opens, closes))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def rollup_availability(
    day: date, now: datetime | None = None, rules: HealthRules | None = None
) -> int:
    """Store (insert or refresh) the availability rows of every active device for one local
    day; a day still running is stored as incomplete. Returns the number of rows written."""
    now = now or utcnow()
    rules = rules or HealthRules.from_config()
    start, end = day_bounds(day, rules.timezone)
    stop = min(end, now)
    devices = list(
        db.session.scalars(
            select(Device).where(Device.status == DeviceStatus.ACTIVE, Device.created_at < stop)
        )
    )
    if not devices:
        return 0
    ids = [device.id for device in devices]
    events_by_device: dict[int, list] = defaultdict(list)
    for event in db.session.scalars(
        select(DeviceHealthEvent)
        .where(
            DeviceHealthEvent.device_id.in_(ids),
            DeviceHealthEvent.at >= start,
            DeviceHealthEvent.at < stop,
        )
        .order_by(DeviceHealthEvent.at, DeviceHealthEvent.id)
    ):
        events_by_device[event.device_id].append(event)
    # The state each device was in when the day began: its last event before.
    last_before = (
        select(DeviceHealthEvent.device_id, func.max(DeviceHealthEvent.at).label("at"))
        .where(DeviceHealthEvent.device_id.in_(ids), DeviceHealthEvent.at < start)
        .group_by(DeviceHealthEvent.device_id)
        .subquery()
    )
    initial: dict[int, tuple[int, str]] = {}
    for event_id, device_id, to_state in db.session.execute(
        select(DeviceHealthEvent.id, DeviceHealthEvent.device_id, DeviceHealthEvent.to_state).join(
            last_before,
            (DeviceHealthEvent.device_id == last_before.c.device_id)
            & (DeviceHealthEvent.at == last_before.c.at),
        )
    ):
        if device_id not in initial or event_id > initial[device_id][0]:
            initial[device_id] = (event_id, to_state)
    incidents = dict(
        db.session.execute(
            select(DeviceIncident.device_id, func.count(DeviceIncident.id))
            .where(
                DeviceIncident.device_id.in_(ids),
                DeviceIncident.opened_at >= start,
                DeviceIncident.opened_at < stop,
            )
            .group_by(DeviceIncident.device_id)
        ).all()
    )
    existing = {
        row.device_id: row
        for row in db.session.scalars(
            select(DeviceAvailability).where(
                DeviceAvailability.device_id.in_(ids), DeviceAvailability.day == day
            )
        )
    }
    for device in devices:
        figures = compute_availability(
            device,
            day,
            now,
            rules,
            initial=initial.get(device.id, (0, HealthState.NEVER))[1],
            events=events_by_device.get(device.id, []),
            incidents=incidents.get(device.id, 0),
        )
        row = existing.get(device.id)
        if row is None:
            row = DeviceAvailability(device_id=device.id, day=day)
            db.session.add(row)
        row.seconds_expected = figures["seconds_expected"]
        row.seconds_online = figures["seconds_online"]
        row.incidents_opened = figures["incidents_opened"]
        row.is_complete = now >= end
        row.computed_at = now
    db.session.flush()
    return len(devices)


def local_today(now: datetime, tz: str) -> date:
    return now.astimezone(ZoneInfo(tz)).date()
