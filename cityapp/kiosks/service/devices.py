"""Device management for staff: create (by claim), edit, revoke, delete. Device edits that
change what the device shows mark its manifest stale right away."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, get_or_404, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.kiosks.models import Device, DeviceStatus, Orientation
from cityapp.places.models import District

ITEM_KINDS = ("announcement", "news", "poll")
ALERT_MODES = ("takeover", "interleave", "banner", "ticker")
ALERT_SOURCE_LEVELS = ("emergency", "warning")
SETTINGS_KEYS = {"durations", "alert_modes"}
# Fields whose change alters the manifest (the device block or what is targeted).
_MANIFEST_FIELDS = {"name", "district_id", "lat", "lon", "orientation", "schedule", "settings"}
_EDITABLE = _MANIFEST_FIELDS | {"groups", "resolution"}


def get_device(device_id: int) -> Device:
    return get_or_404(Device, device_id, "device")


def _check_district(district_id: int | None) -> None:
    if district_id is not None and db.session.get(District, district_id) is None:
        raise ValidationError(errors={"district_id": [f"Unknown district {district_id}."]})


def clean_settings(settings: Any) -> dict:
    """Known keys only: ``durations`` {kind: 3..600 s}, ``alert_modes`` {level: mode}."""
    if not isinstance(settings, dict):
        raise ValidationError(errors={"settings": ["An object."]})
    unknown = set(settings) - SETTINGS_KEYS
    if unknown:
        raise ValidationError(errors={f"settings.{k}": ["Unknown setting."] for k in unknown})
    cleaned: dict[str, Any] = {}
    durations = settings.get("durations")
    if durations is not None:
        if not isinstance(durations, dict):
            raise ValidationError(errors={"settings.durations": ["An object kind -> seconds."]})
        for kind, seconds in durations.items():
            if kind not in ITEM_KINDS:
                raise ValidationError(errors={f"settings.durations.{kind}": ["Unknown kind."]})
            if isinstance(seconds, bool) or not isinstance(seconds, int) or not 3 <= seconds <= 600:
                raise ValidationError(errors={f"settings.durations.{kind}": ["3 to 600 s."]})
        cleaned["durations"] = dict(sorted(durations.items()))
    modes = settings.get("alert_modes")
    if modes is not None:
        if not isinstance(modes, dict):
            raise ValidationError(errors={"settings.alert_modes": ["An object level -> mode."]})
        for level, mode in modes.items():
            if level not in ALERT_SOURCE_LEVELS:
                raise ValidationError(
                    errors={f"settings.alert_modes.{level}": ["Use emergency or warning."]}
                )
            if mode not in ALERT_MODES:
                raise ValidationError(
                    errors={f"settings.alert_modes.{level}": [f"One of {', '.join(ALERT_MODES)}."]}
                )
        cleaned["alert_modes"] = dict(sorted(modes.items()))
    return cleaned


def clean_schedule(schedule: Any) -> dict:
    """Operating hours / night mode; interpreted (and validated) by cityapp.kiosks.schedule."""
    if not isinstance(schedule, dict):
        raise ValidationError(errors={"schedule": ["An object."]})
    try:
        from cityapp.kiosks.schedule import validate_schedule
    except ImportError:  # pragma: no cover - the fleet-health part brings the validator
        return schedule
    return validate_schedule(schedule)


def _clean(data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - _EDITABLE - {"model", "player_version"}
    if unknown:
        raise ValidationError(errors={k: ["Unknown field."] for k in unknown})
    values = dict(data)
    if "name" in values:
        name = (values["name"] or "").strip()
        if not name:
            raise ValidationError(errors={"name": ["Required."]})
        values["name"] = name
    if "district_id" in values:
        _check_district(values["district_id"])
    if "orientation" in values and values["orientation"] not in {o.value for o in Orientation}:
        raise ValidationError(errors={"orientation": ["portrait or landscape."]})
    if "groups" in values:
        values["groups"] = sorted({g.strip() for g in values["groups"] or [] if g.strip()})
    if "settings" in values:
        values["settings"] = clean_settings(values["settings"] or {})
    if "schedule" in values:
        values["schedule"] = clean_schedule(values["schedule"] or {})
    lat, lon = values.get("lat"), values.get("lon")
    if ("lat" in values or "lon" in values) and (lat is None) != (lon is None):
        raise ValidationError(errors={"lat": ["Give lat and lon together (or neither)."]})
    return values


def create_device(actor: Actor, *, audit: bool = True, **data: Any) -> Device:
    """A new active device without a secret yet (pairing hands one out)."""
    values = _clean(data)
    device = Device(status=DeviceStatus.ACTIVE, manifest_stale=True, **values)
    device.groups = device.groups or []
    device.schedule = device.schedule or {}
    device.settings = device.settings or {}
    db.session.add(device)
    db.session.flush()
    if audit:
        record_audit(actor, "device.create", object_type="device", object_id=device.id)
    return device


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def update_device(actor: Actor, device: Device, **data: Any) -> Device:
    """Edit a device; a change to anything the manifest shows marks it stale."""
    values = _clean(data)
    changes = {
        key: {"from": _jsonable(getattr(device, key)), "to": _jsonable(value)}
        for key, value in values.items()
        if getattr(device, key) != value
    }
    if not changes:
        return device
    for key in changes:
        setattr(device, key, values[key])
    if set(changes) & _MANIFEST_FIELDS:
        mark_device_stale(device)
    record_audit(
        actor,
        "device.update",
        object_type="device",
        object_id=device.id,
        summary="changed " + ", ".join(sorted(changes)),
        changes=changes,
    )
    return device


def mark_device_stale(device: Device) -> None:
    device.manifest_stale = True
    device.manifest_generation = (device.manifest_generation or 0) + 1


def mark_devices_stale(*, district_ids: set[int] | None) -> int:
    """Mark the manifests of active devices stale: those in ``district_ids``, or every device
    when None. One UPDATE; updated_at stays (this is a cache, not an edit)."""
    statement = (
        update(Device)
        .where(Device.status == DeviceStatus.ACTIVE)
        .values(
            manifest_stale=True,
            manifest_generation=Device.manifest_generation + 1,
            updated_at=Device.updated_at,
        )
        .execution_options(synchronize_session=False)
    )
    if district_ids is not None:
        if not district_ids:
            return 0
        statement = statement.where(Device.district_id.in_(sorted(district_ids)))
    return db.session.execute(statement).rowcount


def revoke_device(actor: Actor, device: Device, *, reason: str = "") -> Device:
    """Stop a device at once: its secret no longer works; pending secrets die with it."""
    if device.status == DeviceStatus.REVOKED:
        raise Conflict("The device is revoked already.")
    device.status = DeviceStatus.REVOKED
    device.secret_hash = None
    device.pending_secret_hash = None
    device.secret_rotated_at = utcnow()
    record_audit(
        actor, "device.revoke", object_type="device", object_id=device.id, summary=reason[:500]
    )
    return device


def delete_device(actor: Actor, device: Device) -> None:
    record_audit(
        actor, "device.delete", object_type="device", object_id=device.id, summary=device.name
    )
    db.session.delete(device)


def device_query(
    *,
    status: str | None = None,
    health_state: str | None = None,
    district_id: int | None = None,
    group: str | None = None,
):
    query = select(Device)
    if status:
        query = query.where(Device.status == status)
    if health_state:
        query = query.where(Device.health_state == health_state)
    if district_id is not None:
        query = query.where(Device.district_id == district_id)
    if group:
        from sqlalchemy import String, cast

        # Groups are a small JSON list of words; a match on the quoted word is exact.
        escaped = group.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(cast(Device.groups, String).like(f'%"{escaped}"%', escape="\\"))
    return query
