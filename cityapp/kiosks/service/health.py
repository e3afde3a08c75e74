"""Fleet health: the state of each stele (KIOSK.md), the sweep that keeps it current, incidents
with admin mail, and availability per device per local day.

States, first match wins:

- ``never``: paired but never seen (no alarm);
- ``standby``: the stele is not expected on now (night mode, or outside operating hours);
- ``offline``: silent for more than 3 heartbeat intervals and at least 90 s;
- ``stale``: silent for more than 2 heartbeat intervals;
- ``degraded``: seen, but on an outdated manifest for more than 5 minutes or reporting errors;
- ``online``.

An incident opens once a device has been ``offline`` for 5 minutes (``offline`` only happens
inside operating hours outside night mode, so a stele switched off on schedule never raises
one) and closes with a recovery record as soon as the device is seen again. Admins get one
mail per opening and one per recovery, queued in the same transaction as the record.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, update

from cityapp.auth.models import Role, StaffUser
from cityapp.db import db, utcnow
from cityapp.kiosks import schedule as schedules
from cityapp.kiosks.models import (
    Device,
    DeviceAvailability,
    DeviceHealthEvent,
    DeviceIncident,
    DeviceStatus,
    HealthState,
    IncidentCloseReason,
)
from cityapp.mail.service import enqueue_mail

log = logging.getLogger(__name__)

#: States in which a device shows content (counted as available).
UP_STATES = frozenset({HealthState.ONLINE, HealthState.DEGRADED, HealthState.STALE})
MAIL_TOPIC = "kiosk-incident"


@dataclass(frozen=True)
class HealthRules:
    """Thresholds, from config (see config.py, CITYAPP_KIOSK_*)."""

    heartbeat_s: int = 30
    offline_min_s: int = 90
    degraded_after_s: int = 300
    incident_after_s: int = 300
    timezone: str = "Europe/Berlin"

    @classmethod
    def from_config(cls) -> HealthRules:
        config = current_app.config
        return cls(
            heartbeat_s=config["CITYAPP_KIOSK_HEARTBEAT_S"],
            offline_min_s=config["CITYAPP_KIOSK_OFFLINE_MIN_S"],
            degraded_after_s=config["CITYAPP_KIOSK_DEGRADED_AFTER_S"],
            incident_after_s=config["CITYAPP_KIOSK_INCIDENT_AFTER_S"],
            timezone=config["CITYAPP_TIMEZONE"],
        )

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=2 * self.heartbeat_s)

    @property
    def offline_after(self) -> timedelta:
        return timedelta(seconds=max(3 * self.heartbeat_s, self.offline_min_s))


# --- evaluation (pure) -------------------------------------------------------------------


def evaluate_state(
    device: Any, now: datetime, rules: HealthRules | None = None, *, expected: bool | None = None
) -> HealthState:
    """The health state ``device`` is in at ``now``. Reads only the device's attributes
    (last_seen_at, schedule, reported_manifest_at, telemetry); ``expected`` (whether the
    schedule wants it on now) may be passed in when the caller knows it already."""
    rules = rules or HealthRules.from_config()
    if device.last_seen_at is None:
        return HealthState.NEVER
    if expected is None:
        expected = schedules.is_expected_online(device.schedule, now, rules.timezone)
    if not expected:
        return HealthState.STANDBY
    silent = now - device.last_seen_at
    if silent > rules.offline_after:
        return HealthState.OFFLINE
    if silent > rules.stale_after:
        return HealthState.STALE
    outdated_since = device.reported_manifest_at
    if outdated_since is not None and now - outdated_since > timedelta(
        seconds=rules.degraded_after_s
    ):
        return HealthState.DEGRADED
    if (device.telemetry or {}).get("errors"):
        return HealthState.DEGRADED
    return HealthState.ONLINE


def transition_time(device: Any, old: str, new: str, now: datetime, rules: HealthRules) -> datetime:
    """When a transition really happened. Going stale/offline after being seen happened
    when the silence crossed its threshold (a sweep notices up to one interval later); the
    rest happens now. Never before the previous change."""
    at = now
    if new in (HealthState.STALE, HealthState.OFFLINE) and old in UP_STATES:
        threshold = rules.stale_after if new == HealthState.STALE else rules.offline_after
        at = min(now, device.last_seen_at + threshold)
    if device.health_changed_at is not None and at < device.health_changed_at:
        at = min(now, device.health_changed_at)
    return at


# --- mail --------------------------------------------------------------------------------


def admin_recipients() -> list[str]:
    return list(
        db.session.scalars(
            select(StaffUser.email)
            .where(StaffUser.role == Role.ADMIN, StaffUser.is_active.is_(True))
            .order_by(StaffUser.email)
        )
    )


def _local(value: datetime | None, tz: str) -> str:
    if value is None:
        return "nie"
    return value.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M")


def _notify(device: Device, incident: DeviceIncident, *, opened: bool, rules: HealthRules):
    recipients = admin_recipients()
    if not recipients:
        log.warning("incident %s (device %s): no active admin to notify", incident.id, device.id)
        return None
    district = device.district.name if device.district else "ohne Ortsteil"
    if opened:
        subject = f"Stele „{device.name}“ ist offline"
        body = (
            f"Die Stele „{device.name}“ ({district}, Gerät {device.id}) meldet sich seit "
            f"{_local(incident.offline_since, rules.timezone)} Uhr nicht mehr, obwohl sie "
            f"laut Zeitplan in Betrieb sein sollte.\n\n"
            f"Zuletzt gesehen: {_local(device.last_seen_at, rules.timezone)} Uhr\n"
            f"Player-Version: {device.player_version or 'unbekannt'}\n"
            f"Störung Nr. {incident.id}\n\n"
            "Sie erhalten eine weitere Nachricht, sobald die Stele wieder erreichbar ist.\n"
        )
    else:
        minutes = round((incident.downtime_s or 0) / 60)
        subject = f"Stele „{device.name}“ ist wieder erreichbar"
        body = (
            f"Die Stele „{device.name}“ ({district}, Gerät {device.id}) meldet sich seit "
            f"{_local(incident.closed_at, rules.timezone)} Uhr wieder.\n\n"
            f"Ausfall seit: {_local(incident.offline_since, rules.timezone)} Uhr "
            f"(etwa {minutes} Minuten)\n"
            f"Zustand jetzt: {incident.recovered_state}\n"
            f"Störung Nr. {incident.id} ist geschlossen.\n"
        )
    event = "opened" if opened else "recovered"
    message = enqueue_mail(
        to=recipients, subject=subject, body=body, topic=f"{MAIL_TOPIC}:{incident.id}:{event}"
    )
    return message.id


# --- incidents ---------------------------------------------------------------------------


def open_incident_for(device_id: int) -> DeviceIncident | None:
    return db.session.scalar(
        select(DeviceIncident).where(DeviceIncident.open_device_id == device_id)
    )


def open_incident(
    device: Device, now: datetime, rules: HealthRules, *, notify: bool = True
) -> DeviceIncident:
    """Record an incident for a device that is offline inside its operating hours; queues
    the admin mail in the same transaction."""
    incident = DeviceIncident(
        device_id=device.id,
        open_device_id=device.id,
        state=device.health_state,
        opened_at=now,
        offline_since=device.health_changed_at or now,
        last_seen_at=device.last_seen_at,
    )
    db.session.add(incident)
    db.session.flush()
    if notify:
        incident.open_mail_id = _notify(device, incident, opened=True, rules=rules)
    log.info("incident %s opened for device %s", incident.id, device.id)
    return incident


def close_incident(
    incident: DeviceIncident,
    device: Device,
    now: datetime,
    rules: HealthRules,
    *,
    reason: str = IncidentCloseReason.RECOVERED,
) -> DeviceIncident:
    """Close with the recovery record; a recovery (not a revocation) mails the admins."""
    incident.closed_at = now
    incident.open_device_id = None
    incident.close_reason = reason
    incident.recovered_state = device.health_state
    incident.recovered_player_version = device.player_version
    db.session.flush()
    if reason == IncidentCloseReason.RECOVERED:
        incident.close_mail_id = _notify(device, incident, opened=False, rules=rules)
    log.info("incident %s closed for device %s (%s)", incident.id, device.id, reason)
    return incident


# --- applying states ---------------------------------------------------------------------


def record_transition(device: Device, new: str, now: datetime, rules: HealthRules) -> None:
    """Set a device's new state through the ORM (the heartbeat path) and log the event."""
    old = device.health_state
    at = transition_time(device, old, new, now, rules)
    device.health_state = new
    device.health_changed_at = at
    add_event(device, old, new, at)


def add_event(device: Device, old: str, new: str, at: datetime) -> None:
    """Log one state transition of a device (the demo writes its history with it too)."""
    db.session.add(
        DeviceHealthEvent(
            device_id=device.id,
            from_state=old,
            to_state=new,
            at=at,
            last_seen_at=device.last_seen_at,
        )
    )


def on_heartbeat(device: Device, now: datetime) -> None:
    """Heartbeat listener: a device that reports is re-evaluated at once (so staff see it
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
    incident = open_incident_for(device.id)
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
            db.session.add(
                DeviceHealthEvent(
                    device_id=row.id,
                    from_state=row.health_state,
                    to_state=new,
                    at=at,
                    last_seen_at=row.last_seen_at,
                )
            )
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


# --- availability ------------------------------------------------------------------------


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


def _register() -> None:
    from cityapp.kiosks.service.heartbeat import register_heartbeat_listener

    register_heartbeat_listener(on_heartbeat)


_register()
