"""Schemas of the device API (/api/device/v1), the steles' side. No schema here has a field
for a device secret except the one-time pairing reply and the rekey command payload."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.fields import Id, Integer, Text, UTCDateTime
from cityapp.kiosks.schemas.common import (
    ALERT_VERSION_EXAMPLE,
    IDENTIFY_RESULT_EXAMPLE,
    MANIFEST_VERSION_EXAMPLE,
    SCHEDULE_EXAMPLE,
    SETTINGS_EXAMPLE,
)

_SHA = validate.Length(max=64)
_MEDIA_SHA256_EXAMPLE = "0db564ef880df75fed8abedc56798d1a0d77a8b9f86657876c47525491eb27e3"


# --- device API: pairing -----------------------------------------------------------------


class ScreenSchema(Schema):
    width = Integer(
        required=True, validate=validate.Range(min=1, max=20000), metadata={"example": 1080}
    )
    height = Integer(
        required=True, validate=validate.Range(min=1, max=20000), metadata={"example": 1920}
    )


class PairingStartSchema(Schema):
    model = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=120),
        metadata={"example": "Stele 55 Zoll, Chromium kiosk"},
    )
    screen = fields.Nested(ScreenSchema, load_default=None, allow_none=True)
    player_version = Text(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=40),
        metadata={"example": "1.0.0"},
    )


class PairingStartedSchema(Schema):
    pairing_id = Text(
        metadata={
            "description": "Secret the device polls with; keep it private.",
            "example": "cap_EXAMPLE-not-a-real-pairing-id-000000000",
        }
    )
    code = Text(metadata={"description": "Show it large; staff type it in.", "example": "ABCD2345"})
    expires_in = Integer(metadata={"example": 600})
    poll_interval_s = Integer(metadata={"example": 5})


class PairingStatusSchema(Schema):
    status = Text(metadata={"description": "waiting or paired", "example": "waiting"})
    expires_in = Integer(metadata={"description": "While waiting: seconds left.", "example": 540})
    device_id = Id(metadata={"description": "Once paired.", "example": 1})
    device_secret = Text(
        metadata={
            "description": "Once paired, exactly once: the bearer secret of the device.",
            "example": "cad_EXAMPLE-not-a-real-device-secret-000000",
        }
    )


# --- device API: manifest, heartbeat, commands, votes ------------------------------------


class PollSettingsSchema(Schema):
    manifest_s = Integer(metadata={"example": 60})
    heartbeat_s = Integer(metadata={"example": 30})
    jitter_pct = Integer(metadata={"example": 20})


class ManifestSchema(Schema):
    """The resolved state of one device (see docs/kiosks.md for every field)."""

    schema = Integer(metadata={"example": 1})
    version = Text(
        metadata={
            "description": "SHA-256 of the canonical JSON.",
            "example": MANIFEST_VERSION_EXAMPLE,
        }
    )
    generated_at = UTCDateTime()
    timezone = Text(metadata={"example": "Europe/Berlin"})
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
                "schedule": SCHEDULE_EXAMPLE,
                "settings": SETTINGS_EXAMPLE,
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
    alert_version = Text(metadata={"example": ALERT_VERSION_EXAMPLE})
    assets = fields.List(
        Text(),
        metadata={"description": "sha256 of media to keep.", "example": [_MEDIA_SHA256_EXAMPLE]},
    )


class StorageSchema(Schema):
    used_bytes = Integer(validate=validate.Range(min=0), metadata={"example": 73400320})
    free_bytes = Integer(validate=validate.Range(min=0), metadata={"example": 2147483648})


class CommandResultInputSchema(Schema):
    status = Text(
        required=True, validate=validate.OneOf(["done", "failed"]), metadata={"example": "done"}
    )
    result = fields.Dict(
        load_default=dict,
        metadata={"description": "Free-form, ≤ 8 KiB.", "example": IDENTIFY_RESULT_EXAMPLE},
    )


class HeartbeatCommandResultSchema(CommandResultInputSchema):
    id = Id(required=True, metadata={"example": 15})


class HeartbeatSchema(Schema):
    manifest_version = Text(
        allow_none=True, validate=_SHA, metadata={"example": MANIFEST_VERSION_EXAMPLE}
    )
    alert_version = Text(
        allow_none=True, validate=_SHA, metadata={"example": ALERT_VERSION_EXAMPLE}
    )
    player_version = Text(validate=validate.Length(max=40), metadata={"example": "1.0.0"})
    uptime_s = Integer(validate=validate.Range(min=0), metadata={"example": 86400})
    mode = Text(
        validate=validate.OneOf(["playing", "alert", "standby", "pairing"]),
        metadata={"example": "playing"},
    )
    current_item = Text(
        allow_none=True, validate=validate.Length(max=100), metadata={"example": "news:42"}
    )
    screen_on = fields.Boolean(metadata={"example": True})
    storage = fields.Nested(StorageSchema)
    errors = fields.List(
        Text(validate=validate.Length(max=500)),
        validate=validate.Length(max=50),
        metadata={"example": ["media cache: QuotaExceededError"]},
    )
    command_results = fields.List(
        fields.Nested(HeartbeatCommandResultSchema), validate=validate.Length(max=50)
    )


class DeviceCommandOutSchema(Schema):
    id = Id(metadata={"example": 15})
    type = Text(metadata={"example": "reload"})
    payload = fields.Dict(metadata={"example": {}})  # a reload carries no payload
    expires_at = UTCDateTime()


class HeartbeatReplySchema(Schema):
    server_time = UTCDateTime()
    manifest_version = Text(metadata={"example": MANIFEST_VERSION_EXAMPLE})
    alert_version = Text(metadata={"example": ALERT_VERSION_EXAMPLE})
    commands = fields.List(fields.Nested(DeviceCommandOutSchema))
    poll = fields.Nested(PollSettingsSchema)


class CommandResultReplySchema(Schema):
    id = Id(metadata={"example": 15})
    status = Text(metadata={"example": "done"})
    recorded = fields.Boolean(
        metadata={"description": "False when the result was known.", "example": True}
    )


class VoteInputSchema(Schema):
    survey_id = Id(required=True, metadata={"example": 7})
    option_id = Id(required=True, metadata={"example": 8})
    interaction_id = Text(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={
            "description": "Random id per tap; retries send the same one.",
            "example": "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f",
        },
    )


class VoteReplySchema(Schema):
    survey_id = Id(metadata={"example": 7})
    option_id = Id(metadata={"example": 8})
    recorded = fields.Boolean(metadata={"example": True})
