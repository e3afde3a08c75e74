"""Fleet health: applying the states of ``health_rules`` to the steles, on each heartbeat and
in the sweep that keeps them current, with the transition log and ``incidents``
(availability per day is ``availability``)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from cityapp.db import db, utcnow
from cityapp.kiosks import schedule as schedules
from cityapp.kiosks.models import (
    Device,
    DeviceHealthEvent,
    DeviceIncident,
    DeviceStatus,
    HealthState,
    IncidentCloseReason,
)
from cityapp.kiosks.service.health_rules import HealthRules, evaluate_state, transition_time
from cityapp.kiosks.service.incidents import close_incident, get_open_incident, open_incident

log = logging.getLogger(__name__)


def record_transition(device: Device, new: str, now: datetime, rules: HealthRules) -> None:
    """Set a device's new state through the ORM (the heartbeat path) and log the event."""
    old = device.health_state
    at = transition_time(device, old, new, now, rules)
    device.health_state = new
    device.health_changed_at = at
    add_event(device, old, new, at)


def add_event(device: Any, old: str, new: str, at: datetime) -> None:
    """Log one state transition of a device (or a sweep row of its columns; the demo writes
    its history with it too)."""
    db.session.add(
        DeviceHealthEvent(
            device_id=device.id,
            from_state=old,
            to_state=new,
            at=at,
            last_seen_at=device.last_seen_at,
        )
    )


def refresh_health_on_heartbeat(device: Device, now: datetime) -> None:
    """Called by the heartbeat: a device that reports is re-evaluated at once (so staff see it
    online without waiting for the sweep), and a recovery closes its incident. Costs nothing
    unless the state changes."""
    rules = HealthRules.from_config()
    # The common case (online, heartbeating) skips the schedule: entering night mode or
    # leaving operating hours is the sweep's job, seconds later.
    expected = True if device.health_state in (HealthState.ONLINE, HealthState.DEGRADED) else None
    new = evaluate_state(device, now, rules, expected=expected)
    if new == device.health_state:
        return
    record_transition(device, new, now, rules)
    incident = get_open_incident(device.id)
    if incident is not None:
        close_incident(incident, device, now, rules)


def sweep_health(now: datetime | None = None, rules: HealthRules | None = None) -> dict[str, int]:
    """Re-evaluate every active device; store changed states with events, open incidents
    for devices offline long enough, close those of devices seen again. Never commits.

    One SELECT reads the fleet (no manifest bodies); writes happen only for changes, each a
    conditional UPDATE that loses against a heartbeat that got there first.
    """
    now = now or utcnow()
    rules = rules or HealthRules.from_config()
    counts = {"devices": 0, "changed": 0, "incidents_opened": 0, "incidents_closed": 0}
    rows = db.session.execute(
        select(
            Device.id,
            Device.last_seen_at,
            Device.schedule,
            Device.health_state,
            Device.health_changed_at,
            Device.reported_manifest_at,
            Device.telemetry,
        ).where(Device.status == DeviceStatus.ACTIVE)
    ).all()
    open_incidents = {
        incident.device_id: incident
        for incident in db.session.scalars(
            select(DeviceIncident).where(DeviceIncident.open_device_id.is_not(None))
        )
    }
    expected_by_schedule: dict[str, bool] = {}
    to_open: list[int] = []
    to_close: list[tuple[DeviceIncident, int]] = []
    for row in rows:
        counts["devices"] += 1
        key = json.dumps(row.schedule or {}, sort_keys=True)
        if key not in expected_by_schedule:
            expected_by_schedule[key] = schedules.is_expected_online(
                row.schedule, now, rules.timezone
            )
        new = evaluate_state(row, now, rules, expected=expected_by_schedule[key])
        state, changed_at = row.health_state, row.health_changed_at
        if new != row.health_state:
            at = transition_time(row, row.health_state, new, now, rules)
            seen = (
                Device.last_seen_at.is_(None)
                if row.last_seen_at is None
                else Device.last_seen_at == row.last_seen_at
            )
            applied = db.session.execute(
                update(Device)
                .where(Device.id == row.id, Device.health_state == row.health_state, seen)
                .values(health_state=new, health_changed_at=at, updated_at=Device.updated_at)
                .execution_options(synchronize_session="fetch")
            ).rowcount
            if not applied:
                continue  # a heartbeat changed the device meanwhile; the next sweep sees it
            add_event(row, row.health_state, new, at)
            counts["changed"] += 1
            state, changed_at = new, at
        incident = open_incidents.get(row.id)
        if incident is None:
            offline_for = now - changed_at if changed_at else timedelta(0)
            if state == HealthState.OFFLINE and offline_for >= timedelta(
                seconds=rules.incident_after_s
            ):
                to_open.append(row.id)
        elif (
            row.last_seen_at is not None
            and now - row.last_seen_at <= rules.stale_after
            and (incident.last_seen_at is None or row.last_seen_at > incident.last_seen_at)
        ):
            # Seen again (even in night mode, where the heartbeat path leaves it standby).
            to_close.append((incident, row.id))
    for device_id in to_open:
        open_incident(db.session.get(Device, device_id), now, rules)
        counts["incidents_opened"] += 1
    for incident, device_id in to_close:
        close_incident(incident, db.session.get(Device, device_id), now, rules)
        counts["incidents_closed"] += 1
    # Nobody waits for a revoked device: its incident closes without a recovery mail.
    revoked = db.session.execute(
        select(DeviceIncident, Device)
        .join(Device, Device.id == DeviceIncident.device_id)
        .where(DeviceIncident.open_device_id.is_not(None), Device.status != DeviceStatus.ACTIVE)
    ).all()
    for incident, device in revoked:
        close_incident(incident, device, now, rules, reason=IncidentCloseReason.REVOKED)
        counts["incidents_closed"] += 1
    if counts["changed"] or counts["incidents_opened"] or counts["incidents_closed"]:
        log.info("health sweep: %s", counts)
    return counts


def purge_health_events(now: datetime, retention_days: int) -> int:
    """Drop transitions older than the retention (their days are rolled up by then); the
    newest event of each device is kept, as it says what state the device is in."""
    cutoff = now - timedelta(days=retention_days)
    newest = select(func.max(DeviceHealthEvent.id)).group_by(DeviceHealthEvent.device_id)
    result = db.session.execute(
        DeviceHealthEvent.__table__.delete().where(
            DeviceHealthEvent.at < cutoff, DeviceHealthEvent.id.not_in(newest)
        )
    )
    return result.rowcount or 0
