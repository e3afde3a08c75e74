"""Per-device manifests: build, canonical JSON and version, the cache on the device row, and
invalidation by signals.

The cache is what keeps the poll cheap. The device row (loaded anyway to authenticate)
carries ``manifest_version``, ``alert_version``, ``manifest_stale``, ``manifest_built_at`` and
``manifest_next_change_at``; the body is a deferred column. A poll rebuilds only when the row
is stale (a signal or a device edit said so), when time reached ``next_change_at``, or when
the cache is older than ``CITYAPP_KIOSK_MANIFEST_MAX_AGE_S`` (a safety net). Otherwise a
matching ``If-None-Match`` is answered from the row alone: no further SQL.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from cityapp.db import db
from cityapp.kiosks import schedule
from cityapp.kiosks.models import Device
from cityapp.kiosks.service.alerts import announcement_alerts
from cityapp.kiosks.service.devices import mark_devices_stale
from cityapp.kiosks.service.sources import (
    Source,
    SourceContext,
    announcement_items,
    news_items,
    poll_items,
)

log = logging.getLogger(__name__)

SCHEMA = 1
#: Left out of the version hash: they move with every build, the content does not.
VOLATILE = ("generated_at", "valid_until", "version")

#: Where a manifest's items and alerts (the higher-priority lane) come from: ``fn(ctx)``
#: returns item or alert dicts (see ``sources``). A new feed is one more line here.
ITEM_SOURCES: dict[str, Source] = {
    "announcements": announcement_items,
    "news": news_items,
    "polls": poll_items,
}
ALERT_SOURCES: dict[str, Source] = {"announcements": announcement_alerts}


# --- canonical JSON ------------------------------------------------------------------------


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def canonical(data: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 text, datetimes as ISO 8601 with Z."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def digest(data: Any) -> str:
    return hashlib.sha256(canonical(data).encode()).hexdigest()


def poll_settings() -> dict[str, int]:
    config = current_app.config
    return {
        "manifest_s": config["CITYAPP_KIOSK_MANIFEST_POLL_S"],
        "heartbeat_s": config["CITYAPP_KIOSK_HEARTBEAT_S"],
        "jitter_pct": config["CITYAPP_KIOSK_JITTER_PCT"],
    }


# --- building ------------------------------------------------------------------------------


@dataclass
class Built:
    body: str  # the canonical JSON served to the device
    version: str
    alert_version: str
    next_change_at: datetime | None


def _device_block(device: Device) -> dict[str, Any]:
    district = device.district
    location = None
    if device.lat is not None and device.lon is not None:
        location = {"lat": device.lat, "lon": device.lon}
    return {
        "id": device.id,
        "name": device.name,
        "district": {"id": district.id, "name": district.name} if district else None,
        "location": location,
        "orientation": device.orientation,
        "schedule": device.schedule or {},
        "settings": device.settings or {},
    }


def _collect(sources: dict, ctx: SourceContext) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for source in sources.values():
        entries.extend(source(ctx))
    entries.sort(key=lambda entry: entry["_sort"])
    for entry in entries:
        del entry["_sort"]
    return entries


def build_manifest(device: Device, now: datetime) -> Built:
    """Resolve everything this device should show from now to the look-ahead horizon."""
    horizon = now + timedelta(hours=current_app.config["CITYAPP_KIOSK_LOOKAHEAD_H"])
    ctx = SourceContext(device=device, now=now, horizon=horizon)
    items = _collect(ITEM_SOURCES, ctx)
    alerts = _collect(ALERT_SOURCES, ctx)
    boundaries = [
        value
        for entry, keys in [(i, ("valid_from", "valid_until")) for i in items]
        + [(a, ("effective_at", "expires_at")) for a in alerts]
        for key in keys
        if isinstance(value := entry.get(key), datetime) and now < value <= horizon
    ]
    # Night mode and operating hours flip too: the device re-evaluates then (KIOSK.md).
    night = schedule.next_boundary(device.schedule, now, current_app.config["CITYAPP_TIMEZONE"])
    if night is not None and night <= horizon:
        boundaries.append(night)
    next_change_at = min(boundaries) if boundaries else None
    alert_version = digest(alerts)
    stable = {
        "schema": SCHEMA,
        "timezone": current_app.config["CITYAPP_TIMEZONE"],
        "next_change_at": next_change_at,
        "poll": poll_settings(),
        "device": _device_block(device),
        "items": items,
        "alerts": alerts,
        "alert_version": alert_version,
        "assets": sorted({m["sha256"] for item in items for m in item.get("media") or []}),
    }
    version = digest(stable)
    body = {**stable, "version": version, "generated_at": now, "valid_until": horizon}
    return Built(
        body=canonical(body),
        version=version,
        alert_version=alert_version,
        next_change_at=next_change_at,
    )


# --- the cache -----------------------------------------------------------------------------


def needs_rebuild(device: Any, now: datetime) -> bool:
    """Decided from the device row alone (no SQL): a ``Device`` or a row of
    ``auth.POLL_COLUMNS``."""
    if device.manifest_stale or device.manifest_version is None:
        return True
    if device.manifest_next_change_at is not None and now >= device.manifest_next_change_at:
        return True
    max_age = timedelta(seconds=current_app.config["CITYAPP_KIOSK_MANIFEST_MAX_AGE_S"])
    return device.manifest_built_at is None or device.manifest_built_at + max_age <= now


def cached(device_id: int) -> tuple[str, str] | None:
    """The stored version and body of a device's manifest, read together (Core, one row);
    None if the device was deleted since it authenticated."""
    row = (
        db.session.connection()
        .execute(
            select(Device.manifest_version, Device.manifest_body).where(Device.id == device_id)
        )
        .first()
    )
    return None if row is None else (row.manifest_version or "", row.manifest_body or "")


@dataclass
class Current:
    version: str
    alert_version: str
    built: Built | None  # set when this call rebuilt the manifest

    def body(self, device: Device) -> str:
        if self.built is not None:
            return self.built.body
        return device.manifest_body or ""


def current(device: Device, now: datetime) -> Current:
    """The device's current versions, rebuilding (and storing) the manifest only if needed."""
    if not needs_rebuild(device, now):
        return Current(device.manifest_version or "", device.alert_version or "", None)
    generation = device.manifest_generation
    built = build_manifest(device, now)
    _store(device, built, generation, now)
    return Current(built.version, built.alert_version, built)


def _store(device: Device, built: Built, generation: int, now: datetime) -> None:
    values = {
        "manifest_version": built.version,
        "alert_version": built.alert_version,
        "manifest_body": built.body,
        "manifest_built_at": now,
        "manifest_next_change_at": built.next_change_at,
        "manifest_stale": False,
    }
    # Only if nobody invalidated the device while we built: otherwise the stale mark stays
    # and the next poll rebuilds with the newer content.
    statement = (
        update(Device)
        .where(Device.id == device.id, Device.manifest_generation == generation)
        .values(**values, updated_at=Device.updated_at)
        .execution_options(synchronize_session=False)
    )
    try:
        # A savepoint: on SQLite a GET reads in a DEFERRED transaction, and a concurrent
        # writer can refuse our write; the poll is still answered, the cache just waits.
        with db.session.begin_nested():
            result = db.session.execute(statement)
    except OperationalError:
        log.warning("manifest cache of device %s not stored (busy)", device.id, exc_info=True)
        return
    if result.rowcount == 1:
        for key, value in values.items():
            set_committed_value(device, key, value)


# --- invalidation --------------------------------------------------------------------------


def _affected(kw: dict[str, Any]) -> set[int] | bool | None:
    """District ids to mark, None for every device, False for nobody."""
    channels = set(kw.get("channels") or []) | set(kw.get("previous_channels") or [])
    if "stele" not in channels:
        return False
    now_ids = kw.get("district_ids") or []
    previous = kw.get("previous_district_ids")
    if not now_ids or previous == []:
        return None  # the whole municipality, now or before
    return set(now_ids) | set(previous or [])


def on_content_changed(sender: str, **kw: Any) -> None:
    """A public content change: mark exactly the devices that show (or showed) it stale."""
    if sender == "district":
        # Renames show in the device block; deletions detach devices; area announcements
        # are retargeted. Rare: every device rebuilds.
        mark_devices_stale(district_ids=None)
        return
    affected = _affected(kw)
    if affected is not False:
        mark_devices_stale(district_ids=affected)


def on_survey_changed(sender: str, **kw: Any) -> None:
    affected = _affected(kw)
    if affected is not False:
        mark_devices_stale(district_ids=affected)
