"""Health rules: the thresholds, and the state a stele is in (pure: reads attributes only).

States, first match wins:

- ``never``: paired but never seen (no alarm);
- ``standby``: the stele is not expected on now (night mode, or outside operating hours);
- ``offline``: silent for more than 3 heartbeat intervals and at least 90 s;
- ``stale``: silent for more than 2 heartbeat intervals;
- ``degraded``: seen, but on an outdated manifest for more than 5 minutes or reporting errors;
- ``online``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app

from cityapp.kiosks import schedule as schedules
from cityapp.kiosks.models import HealthState

#: States in which a device shows content (counted as available).
UP_STATES = frozenset({HealthState.ONLINE, HealthState.DEGRADED, HealthState.STALE})


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
