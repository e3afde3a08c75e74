"""Heartbeats: telemetry in; versions, commands and server time out. The liveness write is
one UPDATE of the device row, skipped when nothing but the clock changed recently."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from cityapp.errors import AppError
from cityapp.kiosks.models import Device
from cityapp.kiosks.service import commands, manifest
from cityapp.kiosks.service.health import refresh_health_on_heartbeat

log = logging.getLogger(__name__)

_TELEMETRY_KEYS = (
    "manifest_version",
    "alert_version",
    "player_version",
    "uptime_s",
    "mode",
    "current_item",
    "screen_on",
    "storage",
    "errors",
)


def _telemetry(data: dict[str, Any]) -> dict[str, Any]:
    telemetry = {key: data[key] for key in _TELEMETRY_KEYS if key in data}
    if "errors" in telemetry:
        telemetry["errors"] = [str(e)[:300] for e in telemetry["errors"][:20]]
    return telemetry


def _record_liveness(device: Device, data: dict[str, Any], now: datetime, current: str) -> None:
    telemetry = _telemetry(data)
    reported = data.get("manifest_version")
    # Since when the device lags behind (kept while it does), not when it last reported.
    outdated = reported is not None and reported != current
    outdated_since = (device.reported_manifest_at or now) if outdated else None
    player_version = data.get("player_version") or device.player_version
    interval = timedelta(seconds=current_app.config["CITYAPP_KIOSK_LIVENESS_WRITE_S"])
    # Compare what matters; uptime ticks on every heartbeat and alone is no reason to write.
    comparable = {k: v for k, v in telemetry.items() if k != "uptime_s"}
    previous = {k: v for k, v in (device.telemetry or {}).items() if k != "uptime_s"}
    unchanged = (
        comparable == previous
        and device.player_version == player_version
        and device.reported_manifest_version == reported
        and device.reported_manifest_at == outdated_since
    )
    if unchanged and device.last_seen_at is not None and device.last_seen_at + interval > now:
        return
    device.last_seen_at = now
    device.telemetry = telemetry
    device.player_version = player_version
    device.reported_manifest_version = reported
    device.reported_manifest_at = outdated_since


def record_heartbeat(device: Device, data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Record a heartbeat and answer with what the device should know."""
    for item in data.get("command_results") or []:
        try:
            commands.record_result(device, item["id"], item["status"], item.get("result"), now)
        except AppError as error:
            # One bad result must not cost the device its heartbeat; it learns via the API.
            log.info("device %s: command result %s ignored: %s", device.id, item["id"], error)
    state = manifest.current(device, now)
    _record_liveness(device, data, now, state.version)
    refresh_health_on_heartbeat(device, now)  # online at once, incidents closed
    return {
        "server_time": now,
        "manifest_version": state.version,
        "alert_version": state.alert_version,
        "commands": commands.deliver_commands(device, now),
        "poll": manifest.poll_settings(),
    }
