"""Schemas of the staff device API (/api/v1/staff/devices): claiming, editing, revoking and
commanding steles."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.fields import Float, Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema
from cityapp.kiosks.models import CommandStatus, CommandType, DeviceStatus, HealthState, Orientation
from cityapp.kiosks.schemas.common import (
    ALERT_VERSION_EXAMPLE,
    IDENTIFY_PAYLOAD_EXAMPLE,
    IDENTIFY_RESULT_EXAMPLE,
    OLD_MANIFEST_VERSION_EXAMPLE,
    SCHEDULE_EXAMPLE,
    SETTINGS_EXAMPLE,
    DeviceStateSchema,
)

_COMMAND_TYPES = [t.value for t in CommandType]


class SettingsField(fields.Dict):
    """``{"durations": {"news": 20}, "alert_modes": {"warning": "takeover"}}``."""


class _DeviceFields(Schema):
    name = Text(validate=validate.Length(min=1, max=120), metadata={"example": "Marktplatz"})
    district_id = Id(allow_none=True, metadata={"example": 1})
    lat = Float(allow_none=True, validate=validate.Range(-90, 90), metadata={"example": 51.3127})
    lon = Float(allow_none=True, validate=validate.Range(-180, 180), metadata={"example": 9.4797})
    groups = fields.List(
        Text(validate=validate.Length(min=1, max=60)),
        validate=validate.Length(max=20),
        metadata={"example": ["innenstadt", "wahlinfo"]},
    )
    orientation = Text(
        validate=validate.OneOf([o.value for o in Orientation]), metadata={"example": "portrait"}
    )
    schedule = fields.Dict(
        metadata={
            "description": "operating_hours / night_mode windows (days 0=Mon; Europe/Berlin).",
            "example": SCHEDULE_EXAMPLE,
        }
    )
    settings = SettingsField(metadata={"example": SETTINGS_EXAMPLE})


class ClaimInputSchema(_DeviceFields):
    code = Text(
        required=True, validate=validate.Length(min=8, max=12), metadata={"example": "ABCD2345"}
    )
    name = Text(
        required=True, validate=validate.Length(min=1, max=120), metadata={"example": "Marktplatz"}
    )


class DeviceUpdateSchema(_DeviceFields):
    resolution = Text(
        allow_none=True, validate=validate.Length(max=20), metadata={"example": "1080x1920"}
    )


class DeviceSchema(DeviceStateSchema):
    district_id = Id(allow_none=True, metadata={"example": 1})
    lat = Float(allow_none=True, metadata={"example": 51.3127})
    lon = Float(allow_none=True, metadata={"example": 9.4797})
    groups = fields.List(Text(), metadata={"example": ["innenstadt", "wahlinfo"]})
    orientation = Text(metadata={"example": "portrait"})
    resolution = Text(allow_none=True, metadata={"example": "1080x1920"})
    model = Text(allow_none=True, metadata={"example": "Stele 55 Zoll, Chromium kiosk"})
    status = Text(metadata={"example": DeviceStatus.ACTIVE.value})
    is_paired = fields.Method(
        "_is_paired", metadata={"description": "Collected its secret.", "example": True}
    )
    paired_at = UTCDateTime(allow_none=True)
    secret_rotated_at = UTCDateTime(allow_none=True)
    rekey_pending = fields.Method("_rekey_pending", metadata={"example": False})
    schedule = fields.Dict(metadata={"example": SCHEDULE_EXAMPLE})
    settings = fields.Dict(metadata={"example": SETTINGS_EXAMPLE})
    manifest_outdated = fields.Method("_outdated", metadata={"example": True})
    telemetry = fields.Dict(
        allow_none=True,
        metadata={
            "example": {
                "manifest_version": OLD_MANIFEST_VERSION_EXAMPLE,
                "alert_version": ALERT_VERSION_EXAMPLE,
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
    status = Text(validate=validate.OneOf([s.value for s in DeviceStatus]))
    health_state = Text(validate=validate.OneOf([s.value for s in HealthState]))
    district_id = Id()
    group = Text(validate=validate.Length(max=60))


class RevokeInputSchema(Schema):
    reason = Text(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"example": "Stele wegen Umbau des Marktplatzes abgebaut."},
    )


class CommandInputSchema(Schema):
    type = Text(
        required=True, validate=validate.OneOf(_COMMAND_TYPES), metadata={"example": "identify"}
    )
    payload = fields.Dict(load_default=dict, metadata={"example": IDENTIFY_PAYLOAD_EXAMPLE})
    ttl_s = Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=30, max=7 * 24 * 3600),
        metadata={"description": "Seconds until it expires (default 1 h).", "example": 3600},
    )


class CommandSchema(Schema):
    id = Id(metadata={"example": 15})
    device_id = Id(metadata={"example": 1})
    type = Text(metadata={"example": "identify"})
    payload = fields.Dict(metadata={"example": IDENTIFY_PAYLOAD_EXAMPLE})
    status = fields.Method("_status", metadata={"example": CommandStatus.PENDING.value})
    expires_at = UTCDateTime()
    delivered_at = UTCDateTime(allow_none=True)
    delivery_count = Integer(metadata={"example": 1})
    completed_at = UTCDateTime(allow_none=True)
    result = fields.Dict(allow_none=True, metadata={"example": IDENTIFY_RESULT_EXAMPLE})
    created_by_id = Id(allow_none=True, metadata={"example": 3})
    created_at = UTCDateTime()

    def _status(self, command) -> str:
        from cityapp.kiosks.service.commands import effective_status

        return effective_status(command)


class CommandListSchema(Schema):
    items = fields.List(fields.Nested(CommandSchema))
