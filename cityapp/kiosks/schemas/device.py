"""Schemas of the device API (/api/device/v1) and the staff device API. No schema here has a
field for a device secret except the one-time pairing reply and the rekey command payload."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime
from cityapp.kiosks.models import CommandStatus, CommandType, DeviceStatus, HealthState, Orientation

_COMMAND_TYPES = [t.value for t in CommandType]
_SHA = validate.Length(max=64)

# Example values for the OpenAPI document: the stele on the Marktplatz in the Altstadt.
_MANIFEST_VERSION_EXAMPLE = "05b3abf2579a5eb66403cd78be557fd860633a1fe2103c7642030defe32c657f"
_OLD_MANIFEST_VERSION_EXAMPLE = "0aea3ac1d314890bab740a7d57e14df31ac5534fac18b8f12398240c4392b5c9"
_ALERT_VERSION_EXAMPLE = "deb3e366c077c2288d22ec2434789afa0f0374e9070ed1c8426f88674864df11"
_MEDIA_SHA256_EXAMPLE = "0db564ef880df75fed8abedc56798d1a0d77a8b9f86657876c47525491eb27e3"
_SCHEDULE_EXAMPLE = {
    "operating_hours": [{"days": [0, 1, 2, 3, 4], "start": "06:00", "end": "22:00"}],
    "night_mode": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "23:00", "end": "05:30"}],
}
_SETTINGS_EXAMPLE = {"durations": {"news": 20}, "alert_modes": {"warning": "banner"}}
_IDENTIFY_PAYLOAD_EXAMPLE = {"duration_s": 30}
_IDENTIFY_RESULT_EXAMPLE = {"shown_s": 30}


# --- device API: pairing -----------------------------------------------------------------


class ScreenSchema(Schema):
    width = fields.Integer(
        required=True, validate=validate.Range(min=1, max=20000), metadata={"example": 1080}
    )
    height = fields.Integer(
        required=True, validate=validate.Range(min=1, max=20000), metadata={"example": 1920}
    )


class PairingStartSchema(Schema):
    model = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=120),
        metadata={"example": "Stele 55 Zoll, Chromium kiosk"},
    )
    screen = fields.Nested(ScreenSchema, load_default=None, allow_none=True)
    player_version = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"example": "1.0.0"},
    )


class PairingStartedSchema(Schema):
    pairing_id = fields.String(
        metadata={
            "description": "Secret the device polls with; keep it private.",
            "example": "cap_EXAMPLE-not-a-real-pairing-id-000000000",
        }
    )
    code = fields.String(
        metadata={"description": "Show it large; staff type it in.", "example": "ABCD2345"}
    )
    expires_in = fields.Integer(metadata={"example": 600})
    poll_interval_s = fields.Integer(metadata={"example": 5})


class PairingStatusSchema(Schema):
    status = fields.String(metadata={"description": "waiting or paired", "example": "waiting"})
    expires_in = fields.Integer(
        metadata={"description": "While waiting: seconds left.", "example": 540}
    )
    device_id = fields.Integer(metadata={"description": "Once paired.", "example": 1})
    device_secret = fields.String(
        metadata={
            "description": "Once paired, exactly once: the bearer secret of the device.",
            "example": "cad_EXAMPLE-not-a-real-device-secret-000000",
        }
    )


# --- device API: manifest, heartbeat, commands, votes ------------------------------------


class PollSettingsSchema(Schema):
    manifest_s = fields.Integer(metadata={"example": 60})
    heartbeat_s = fields.Integer(metadata={"example": 30})
    jitter_pct = fields.Integer(metadata={"example": 20})


class ManifestSchema(Schema):
    """The resolved state of one device (see docs/kiosks.md for every field)."""

    schema = fields.Integer(metadata={"example": 1})
    version = fields.String(
        metadata={
            "description": "SHA-256 of the canonical JSON.",
            "example": _MANIFEST_VERSION_EXAMPLE,
        }
    )
    generated_at = UTCDateTime()
    timezone = fields.String(metadata={"example": "Europe/Berlin"})
    valid_until = UTCDateTime(metadata={"description": "Look-ahead end (48 h)."})
    next_change_at = UTCDateTime(allow_none=True)
    poll = fields.Nested(PollSettingsSchema)
    device = fields.Dict(
        metadata={
            "example": {
                "id": 1,
                "name": "Marktplatz",
                "district": {"id": 1, "name": "Altstadt"},
                "location": {"lat": 51.3127, "lon": 9.4797},
                "orientation": "portrait",
                "schedule": _SCHEDULE_EXAMPLE,
                "settings": _SETTINGS_EXAMPLE,
            }
        }
    )
    items = fields.List(
        fields.Dict(),
        metadata={
            "example": [
                {
                    "id": "news:42",
                    "kind": "news",
                    "duration_s": 20,
                    "valid_from": "2026-11-22T08:00:00Z",
                    "valid_until": "2026-11-29T08:00:00Z",
                    "title": {"de": "Hauptstraße wird saniert"},
                    "body": {"de": "<p>Ab Montag …</p>"},
                    "summary": {"de": "Vollsperrung ab Montag, 8 Uhr."},
                    "category": "verkehr",
                    "media": [
                        {
                            "sha256": _MEDIA_SHA256_EXAMPLE,
                            "url": f"/media/{_MEDIA_SHA256_EXAMPLE}/display",
                            "mime": "image/jpeg",
                            "size": 284311,
                            "width": 1600,
                            "height": 1067,
                            "alt": {"de": "Bagger auf der Hauptstraße"},
                        }
                    ],
                }
            ]
        },
    )
    alerts = fields.List(
        fields.Dict(),
        metadata={
            "example": [
                {
                    "id": "announcement:12",
                    "level": "high",
                    "mode": "banner",
                    "headline": {"de": "Vollsperrung Brückenstraße"},
                    "description": {"de": "Wegen Bauarbeiten …"},
                    "instruction": {"de": "Bitte weiträumig umfahren."},
                    "sender": "Tiefbauamt Musterstadt",
                    "effective_at": "2026-11-22T06:00:00Z",
                    "expires_at": "2026-11-29T18:00:00Z",
                    "updated_at": "2026-11-21T15:12:00Z",
                }
            ]
        },
    )
    alert_version = fields.String(metadata={"example": _ALERT_VERSION_EXAMPLE})
    assets = fields.List(
        fields.String(),
        metadata={"description": "sha256 of media to keep.", "example": [_MEDIA_SHA256_EXAMPLE]},
    )


class StorageSchema(Schema):
    used_bytes = fields.Integer(validate=validate.Range(min=0), metadata={"example": 73400320})
    free_bytes = fields.Integer(validate=validate.Range(min=0), metadata={"example": 2147483648})


class CommandResultInputSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(["done", "failed"]), metadata={"example": "done"}
    )
    result = fields.Dict(
        load_default=dict,
        metadata={"description": "Free-form, ≤ 8 KiB.", "example": _IDENTIFY_RESULT_EXAMPLE},
    )


class HeartbeatCommandResultSchema(CommandResultInputSchema):
    id = fields.Integer(required=True, metadata={"example": 15})


class HeartbeatSchema(Schema):
    manifest_version = fields.String(
        allow_none=True, validate=_SHA, metadata={"example": _MANIFEST_VERSION_EXAMPLE}
    )
    alert_version = fields.String(
        allow_none=True, validate=_SHA, metadata={"example": _ALERT_VERSION_EXAMPLE}
    )
    player_version = fields.String(validate=validate.Length(max=40), metadata={"example": "1.0.0"})
    uptime_s = fields.Integer(validate=validate.Range(min=0), metadata={"example": 86400})
    mode = fields.String(
        validate=validate.OneOf(["playing", "alert", "standby", "pairing"]),
        metadata={"example": "playing"},
    )
    current_item = fields.String(
        allow_none=True, validate=validate.Length(max=100), metadata={"example": "news:42"}
    )
    screen_on = fields.Boolean(metadata={"example": True})
    storage = fields.Nested(StorageSchema)
    errors = fields.List(
        fields.String(validate=validate.Length(max=500)),
        validate=validate.Length(max=50),
        metadata={"example": ["media cache: QuotaExceededError"]},
    )
    command_results = fields.List(
        fields.Nested(HeartbeatCommandResultSchema), validate=validate.Length(max=50)
    )


class DeviceCommandOutSchema(Schema):
    id = fields.Integer(metadata={"example": 15})
    type = fields.String(metadata={"example": "reload"})
    payload = fields.Dict(metadata={"example": {}})  # a reload carries no payload
    expires_at = UTCDateTime()


class HeartbeatReplySchema(Schema):
    server_time = UTCDateTime()
    manifest_version = fields.String(metadata={"example": _MANIFEST_VERSION_EXAMPLE})
    alert_version = fields.String(metadata={"example": _ALERT_VERSION_EXAMPLE})
    commands = fields.List(fields.Nested(DeviceCommandOutSchema))
    poll = fields.Nested(PollSettingsSchema)


class CommandResultReplySchema(Schema):
    id = fields.Integer(metadata={"example": 15})
    status = fields.String(metadata={"example": "done"})
    recorded = fields.Boolean(
        metadata={"description": "False when the result was known.", "example": True}
    )


class VoteInputSchema(Schema):
    survey_id = fields.Integer(required=True, metadata={"example": 7})
    option_id = fields.Integer(required=True, metadata={"example": 8})
    interaction_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Random id per tap; retries send the same one.",
            "example": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
        },
    )


class VoteReplySchema(Schema):
    survey_id = fields.Integer(metadata={"example": 7})
    option_id = fields.Integer(metadata={"example": 8})
    recorded = fields.Boolean(metadata={"example": True})


# --- staff API ---------------------------------------------------------------------------


class SettingsField(fields.Dict):
    """``{"durations": {"news": 20}, "alert_modes": {"warning": "takeover"}}``."""


class _DeviceFields(Schema):
    name = fields.String(
        validate=validate.Length(min=1, max=120), metadata={"example": "Marktplatz"}
    )
    district_id = fields.Integer(allow_none=True, metadata={"example": 1})
    lat = fields.Float(
        allow_none=True, validate=validate.Range(-90, 90), metadata={"example": 51.3127}
    )
    lon = fields.Float(
        allow_none=True, validate=validate.Range(-180, 180), metadata={"example": 9.4797}
    )
    groups = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)),
        validate=validate.Length(max=20),
        metadata={"example": ["innenstadt", "wahlinfo"]},
    )
    orientation = fields.String(
        validate=validate.OneOf([o.value for o in Orientation]), metadata={"example": "portrait"}
    )
    schedule = fields.Dict(
        metadata={
            "description": "operating_hours / night_mode windows (days 0=Mon; Europe/Berlin).",
            "example": _SCHEDULE_EXAMPLE,
        }
    )
    settings = SettingsField(
        metadata={"example": {"durations": {"news": 20}, "alert_modes": {"warning": "banner"}}}
    )


class ClaimInputSchema(_DeviceFields):
    code = fields.String(
        required=True, validate=validate.Length(min=8, max=12), metadata={"example": "ABCD2345"}
    )
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=120), metadata={"example": "Marktplatz"}
    )


class DeviceUpdateSchema(_DeviceFields):
    resolution = fields.String(
        allow_none=True, validate=validate.Length(max=20), metadata={"example": "1080x1920"}
    )


class DistrictRefSchema(Schema):
    id = fields.Integer(metadata={"example": 1})
    name = fields.String(metadata={"example": "Altstadt"})


class DeviceSchema(Schema):
    id = fields.Integer(metadata={"example": 1})
    name = fields.String(metadata={"example": "Marktplatz"})
    district_id = fields.Integer(allow_none=True, metadata={"example": 1})
    lat = fields.Float(allow_none=True, metadata={"example": 51.3127})
    lon = fields.Float(allow_none=True, metadata={"example": 9.4797})
    groups = fields.List(fields.String(), metadata={"example": ["innenstadt", "wahlinfo"]})
    orientation = fields.String(metadata={"example": "portrait"})
    resolution = fields.String(allow_none=True, metadata={"example": "1080x1920"})
    model = fields.String(allow_none=True, metadata={"example": "Stele 55 Zoll, Chromium kiosk"})
    player_version = fields.String(allow_none=True, metadata={"example": "1.0.0"})
    status = fields.String(metadata={"example": DeviceStatus.ACTIVE.value})
    is_paired = fields.Method(
        "_is_paired", metadata={"description": "Collected its secret.", "example": True}
    )
    paired_at = UTCDateTime(allow_none=True)
    secret_rotated_at = UTCDateTime(allow_none=True)
    rekey_pending = fields.Method("_rekey_pending", metadata={"example": False})
    schedule = fields.Dict(metadata={"example": _SCHEDULE_EXAMPLE})
    settings = fields.Dict(metadata={"example": _SETTINGS_EXAMPLE})
    last_seen_at = UTCDateTime(allow_none=True)
    health_state = fields.String(metadata={"example": HealthState.ONLINE.value})
    health_changed_at = UTCDateTime(allow_none=True)
    manifest_version = fields.String(
        allow_none=True, metadata={"example": _MANIFEST_VERSION_EXAMPLE}
    )
    reported_manifest_version = fields.String(
        allow_none=True, metadata={"example": _OLD_MANIFEST_VERSION_EXAMPLE}
    )
    outdated_since = UTCDateTime(
        attribute="reported_manifest_at",
        allow_none=True,
        metadata={"description": "Since when the device reports an older manifest."},
    )
    manifest_outdated = fields.Method("_outdated", metadata={"example": True})
    telemetry = fields.Dict(
        allow_none=True,
        metadata={
            "example": {
                "manifest_version": _OLD_MANIFEST_VERSION_EXAMPLE,
                "alert_version": _ALERT_VERSION_EXAMPLE,
                "player_version": "1.0.0",
                "uptime_s": 86400,
                "mode": "playing",
                "current_item": "news:42",
                "screen_on": True,
                "storage": {"used_bytes": 73400320, "free_bytes": 2147483648},
                "errors": [],
            }
        },
    )
    created_at = UTCDateTime()
    updated_at = UTCDateTime()

    def _is_paired(self, device) -> bool:
        return device.secret_hash is not None

    def _rekey_pending(self, device) -> bool:
        return device.pending_secret_hash is not None

    def _outdated(self, device) -> bool:
        reported = device.reported_manifest_version
        return reported is not None and reported != device.manifest_version


class DevicePageSchema(PageSchema):
    items = fields.List(fields.Nested(DeviceSchema))


class DeviceListQuerySchema(PaginationQuerySchema):
    status = fields.String(validate=validate.OneOf([s.value for s in DeviceStatus]))
    health_state = fields.String(validate=validate.OneOf([s.value for s in HealthState]))
    district_id = fields.Integer()
    group = fields.String(validate=validate.Length(max=60))


class RevokeInputSchema(Schema):
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"example": "Stele wegen Umbau des Marktplatzes abgebaut."},
    )


class CommandInputSchema(Schema):
    type = fields.String(
        required=True, validate=validate.OneOf(_COMMAND_TYPES), metadata={"example": "identify"}
    )
    payload = fields.Dict(load_default=dict, metadata={"example": _IDENTIFY_PAYLOAD_EXAMPLE})
    ttl_s = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=30, max=7 * 24 * 3600),
        metadata={"description": "Seconds until it expires (default 1 h).", "example": 3600},
    )


class CommandSchema(Schema):
    id = fields.Integer(metadata={"example": 15})
    device_id = fields.Integer(metadata={"example": 1})
    type = fields.String(metadata={"example": "identify"})
    payload = fields.Dict(metadata={"example": _IDENTIFY_PAYLOAD_EXAMPLE})
    status = fields.Method("_status", metadata={"example": CommandStatus.PENDING.value})
    expires_at = UTCDateTime()
    delivered_at = UTCDateTime(allow_none=True)
    delivery_count = fields.Integer(metadata={"example": 1})
    completed_at = UTCDateTime(allow_none=True)
    result = fields.Dict(allow_none=True, metadata={"example": _IDENTIFY_RESULT_EXAMPLE})
    created_by_id = fields.Integer(allow_none=True, metadata={"example": 3})
    created_at = UTCDateTime()

    def _status(self, command) -> str:
        from cityapp.kiosks.service.commands import effective_status

        return effective_status(command)


class CommandListSchema(Schema):
    items = fields.List(fields.Nested(CommandSchema))
