"""What the kiosk schemas share: the OpenAPI example values (the stele on the Marktplatz in
the Altstadt) and the device fields that the staff device API and the fleet views both show."""

from __future__ import annotations

from marshmallow import Schema

from cityapp.fields import Id, Text, UTCDateTime
from cityapp.kiosks.models import HealthState

MANIFEST_VERSION_EXAMPLE = "05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f"
OLD_MANIFEST_VERSION_EXAMPLE = "0aea3ac1d314890bab740a7d57e14df31ac5534fac18b8f12398240c4392b5c9"
ALERT_VERSION_EXAMPLE = "deb3e366c077c2288d22ec2434789afa0f0374e9070ed1c8426f88674864df11"
SCHEDULE_EXAMPLE = {
    "operating_hours": [{"days": [0, 1, 2, 3, 4], "start": "06:00", "end": "22:00"}],
    "night_mode": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "23:00", "end": "05:30"}],
}
SETTINGS_EXAMPLE = {"durations": {"news": 20}, "alert_modes": {"warning": "banner"}}
IDENTIFY_PAYLOAD_EXAMPLE = {"duration_s": 30}
IDENTIFY_RESULT_EXAMPLE = {"shown_s": 30}


class DistrictRefSchema(Schema):
    id = Id(metadata={"example": 1})
    name = Text(metadata={"example": "Altstadt"})


class DeviceStateSchema(Schema):
    """A device's name, liveness and manifest state: the fields every staff view shows."""

    id = Id(metadata={"example": 1})
    name = Text(metadata={"example": "Marktplatz"})
    health_state = Text(
        metadata={
            "description": "never, online, stale, offline, standby or degraded.",
            "example": HealthState.ONLINE.value,
        }
    )
    health_changed_at = UTCDateTime(allow_none=True, metadata={"example": "2026-11-22T09:58:00Z"})
    last_seen_at = UTCDateTime(allow_none=True, metadata={"example": "2026-11-22T10:00:00Z"})
    player_version = Text(allow_none=True, metadata={"example": "1.0.0"})
    manifest_version = Text(allow_none=True, metadata={"example": MANIFEST_VERSION_EXAMPLE})
    reported_manifest_version = Text(
        allow_none=True, metadata={"example": OLD_MANIFEST_VERSION_EXAMPLE}
    )
    outdated_since = UTCDateTime(
        attribute="reported_manifest_at",
        allow_none=True,
        metadata={"description": "Since when the device reports an older manifest."},
    )
