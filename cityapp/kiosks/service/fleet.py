"""Fleet views for staff: the overview (counts per state, devices needing attention),
incident queries and availability per device per day."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from cityapp.db import db, get_or_404
from cityapp.errors import ValidationError
from cityapp.kiosks.models import (
    Device,
    DeviceAvailability,
    DeviceIncident,
    DeviceStatus,
    HealthState,
)
from cityapp.kiosks.service.availability import compute_availability, local_today
from cityapp.kiosks.service.health_rules import HealthRules

MAX_ATTENTION = 200
MAX_AVAILABILITY_DAYS = 366
# Most urgent first in the attention list.
_URGENCY = {
    HealthState.OFFLINE: 0,
    HealthState.STALE: 1,
    HealthState.DEGRADED: 2,
    HealthState.NEVER: 3,
    HealthState.STANDBY: 4,
    HealthState.ONLINE: 5,
}


def manifest_outdated(device: Device) -> bool:
    reported = device.reported_manifest_version
    return reported is not None and reported != device.manifest_version


def fleet_overview(now: datetime) -> dict[str, Any]:
    """Counts per health state over active devices, open incidents, player versions, and the
    devices that need a look (open incident, offline, stale, degraded, outdated manifest,
    never seen), most urgent first."""
    devices = list(
        db.session.scalars(
            select(Device)
            .where(Device.status == DeviceStatus.ACTIVE)
            .options(selectinload(Device.district))
            .order_by(Device.name, Device.id)
        )
    )
    open_incidents = {
        incident.device_id: incident
        for incident in db.session.scalars(
            select(DeviceIncident).where(DeviceIncident.open_device_id.is_not(None))
        )
    }
    counts = {state.value: 0 for state in HealthState}
    versions: Counter[str] = Counter()
    attention = []
    for device in devices:
        counts[device.health_state] = counts.get(device.health_state, 0) + 1
        versions[device.player_version or "unknown"] += 1
        incident = open_incidents.get(device.id)
        outdated = manifest_outdated(device)
        if (
            incident is not None
            or outdated
            or device.health_state
            in (HealthState.OFFLINE, HealthState.STALE, HealthState.DEGRADED, HealthState.NEVER)
        ):
            attention.append(
                {
                    "device": device,
                    "open_incident": incident,
                    "manifest_outdated": outdated,
                }
            )
    attention.sort(
        key=lambda entry: (
            entry["open_incident"] is None,
            _URGENCY.get(entry["device"].health_state, 9),
            entry["device"].name,
            entry["device"].id,
        )
    )
    revoked = db.session.scalar(
        select(func.count(Device.id)).where(Device.status == DeviceStatus.REVOKED)
    )
    return {
        "generated_at": now,
        "total": len(devices),
        "revoked": revoked or 0,
        "counts": counts,
        "open_incidents": len(open_incidents),
        "manifest_outdated": sum(1 for device in devices if manifest_outdated(device)),
        "player_versions": dict(sorted(versions.items())),
        "attention": attention[:MAX_ATTENTION],
        "attention_truncated": len(attention) > MAX_ATTENTION,
    }


def incidents_query(*, state: str | None = None, device_id: int | None = None):
    """Incidents, optionally only open or closed ones, or one device's."""
    query = select(DeviceIncident).options(selectinload(DeviceIncident.device))
    if state == "open":
        query = query.where(DeviceIncident.closed_at.is_(None))
    elif state == "closed":
        query = query.where(DeviceIncident.closed_at.is_not(None))
    if device_id is not None:
        query = query.where(DeviceIncident.device_id == device_id)
    return query


def get_incident(incident_id: int) -> DeviceIncident:
    return get_or_404(DeviceIncident, incident_id, "incident")


def summarise_availability(
    device: Device, now: datetime, *, since: date | None = None, until: date | None = None
) -> dict[str, Any]:
    """Availability of one device per local day from ``since`` to ``until`` (inclusive;
    default the last 30 days up to today). Stored rollups where they exist; days not rolled
    up completely yet (today, or missed by the job) are computed from the health events."""
    rules = HealthRules.from_config()
    today = local_today(now, rules.timezone)
    until = until or today
    since = since or until - timedelta(days=29)
    if since > until:
        raise ValidationError(errors={"from": ["Must not be after 'to'."]})
    if (until - since).days >= MAX_AVAILABILITY_DAYS:
        raise ValidationError(errors={"from": [f"At most {MAX_AVAILABILITY_DAYS} days."]})
    until = min(until, today)
    first_day = local_today(device.created_at, rules.timezone)
    since = max(since, first_day)
    stored = {
        row.day: row
        for row in db.session.scalars(
            select(DeviceAvailability).where(
                DeviceAvailability.device_id == device.id,
                DeviceAvailability.day >= since,
                DeviceAvailability.day <= until,
            )
        )
    }
    days = []
    day = since
    while day <= until:
        row = stored.get(day)
        if row is not None and row.is_complete:
            figures = {
                "seconds_expected": row.seconds_expected,
                "seconds_online": row.seconds_online,
                "incidents_opened": row.incidents_opened,
                "is_complete": row.is_complete,
            }
        else:
            figures = compute_availability(device, day, now, rules)
            figures["is_complete"] = day != today
        days.append({"day": day, **figures, "ratio": _ratio(figures)})
        day += timedelta(days=1)
    totals = {
        "seconds_expected": sum(d["seconds_expected"] for d in days),
        "seconds_online": sum(d["seconds_online"] for d in days),
        "incidents_opened": sum(d["incidents_opened"] for d in days),
    }
    totals["ratio"] = _ratio(totals)
    return {
        "device_id": device.id,
        "timezone": rules.timezone,
        "from": since if days else None,
        "to": until if days else None,
        "days": days,
        "totals": totals,
    }


def _ratio(figures: dict[str, Any]) -> float | None:
    if not figures["seconds_expected"]:
        return None
    return round(min(1.0, figures["seconds_online"] / figures["seconds_expected"]), 4)
