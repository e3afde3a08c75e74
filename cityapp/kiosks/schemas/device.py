"""Schemas of the device API (/api/device/v1) and the staff device API. No schema here has a
field for a device secret except the one-time pairing reply and the rekey command payload."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime
from cityapp.kiosks.models import CommandStatus, CommandType, DeviceStatus, HealthState, Orientation

_COMMAND_TYPES = [t.value for t in CommandType]
_SHA = validate.Length(max=64)


# --- device API: pairing -----------------------------------------------------------------


class ScreenSchema(Schema):
    width = fields.Integer(required=True, validate=validate.Range(min=1, max=20000))
    height = fields.Integer(required=True, validate=validate.Range(min=1, max=20000))


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
        metadata={"description": "Secret the device polls with; keep it private."}
    )
    code = fields.String(
        metadata={"description": "Show it large; staff type it in.", "example": "ABCD2345"}
    )
    expires_in = fields.Integer(metadata={"example": 600})
    poll_interval_s = fields.Integer(metadata={"example": 5})


class PairingStatusSchema(Schema):
    status = fields.String(metadata={"description": "waiting or paired", "example": "waiting"})
    expires_in = fields.Integer(metadata={"description": "While waiting: seconds left."})
    device_id = fields.Integer(metadata={"description": "Once paired."})
    device_secret = fields.String(
        metadata={"description": "Once paired, exactly once: the bearer secret of the device."}
    )


# --- device API: manifest, heartbeat, commands, votes ------------------------------------


class PollSettingsSchema(Schema):
    manifest_s = fields.Integer(metadata={"example": 60})
    heartbeat_s = fields.Integer(metadata={"example": 30})
    jitter_pct = fields.Integer(metadata={"example": 20})


class ManifestSchema(Schema):
    """The resolved state of one device (see docs/kiosks.md for every field)."""

    schema = fields.Integer(metadata={"example": 1})
    version = fields.String(metadata={"description": "SHA-256 of the canonical JSON."})
    generated_at = UTCDateTime()
    timezone = fields.String(metadata={"example": "Europe/Berlin"})
    valid_until = UTCDateTime(metadata={"description": "Look-ahead end (48 h)."})
    next_change_at = UTCDateTime(allow_none=True)
    poll = fields.Nested(PollSettingsSchema)
    device = fields.Dict()
    items = fields.List(fields.Dict())
    alerts = fields.List(fields.Dict())
    alert_version = fields.String()
    assets = fields.List(fields.String(), metadata={"description": "sha256 of media to keep."})


class StorageSchema(Schema):
    used_bytes = fields.Integer(validate=validate.Range(min=0))
    free_bytes = fields.Integer(validate=validate.Range(min=0))


class CommandResultInputSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(["done", "failed"]))
    result = fields.Dict(load_default=dict, metadata={"description": "Free-form, ≤ 8 KiB."})


class HeartbeatCommandResultSchema(CommandResultInputSchema):
    id = fields.Integer(required=True)


class HeartbeatSchema(Schema):
    manifest_version = fields.String(allow_none=True, validate=_SHA)
    alert_version = fields.String(allow_none=True, validate=_SHA)
    player_version = fields.String(validate=validate.Length(max=40))
    uptime_s = fields.Integer(validate=validate.Range(min=0))
    mode = fields.String(validate=validate.OneOf(["playing", "alert", "standby", "pairing"]))
    current_item = fields.String(allow_none=True, validate=validate.Length(max=100))
    screen_on = fields.Boolean()
    storage = fields.Nested(StorageSchema)
    errors = fields.List(
        fields.String(validate=validate.Length(max=500)), validate=validate.Length(max=50)
    )
    command_results = fields.List(
        fields.Nested(HeartbeatCommandResultSchema), validate=validate.Length(max=50)
    )


class DeviceCommandOutSchema(Schema):
    id = fields.Integer()
    type = fields.String(metadata={"example": "reload"})
    payload = fields.Dict()
    expires_at = UTCDateTime()


class HeartbeatReplySchema(Schema):
    server_time = UTCDateTime()
    manifest_version = fields.String()
    alert_version = fields.String()
    commands = fields.List(fields.Nested(DeviceCommandOutSchema))
    poll = fields.Nested(PollSettingsSchema)


class CommandResultReplySchema(Schema):
    id = fields.Integer()
    status = fields.String()
    recorded = fields.Boolean(metadata={"description": "False when the result was known."})


class VoteInputSchema(Schema):
    survey_id = fields.Integer(required=True)
    option_id = fields.Integer(required=True)
    interaction_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Random id per tap; retries send the same one."},
    )


class VoteReplySchema(Schema):
    survey_id = fields.Integer()
    option_id = fields.Integer()
    recorded = fields.Boolean()


# --- staff API ---------------------------------------------------------------------------


class SettingsField(fields.Dict):
    """``{"durations": {"news": 20}, "alert_modes": {"warning": "takeover"}}``."""


class _DeviceFields(Schema):
    name = fields.String(
        validate=validate.Length(min=1, max=120), metadata={"example": "Marktplatz"}
    )
    district_id = fields.Integer(allow_none=True)
    lat = fields.Float(allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(allow_none=True, validate=validate.Range(-180, 180))
    groups = fields.List(
        fields.String(validate=validate.Length(min=1, max=60)), validate=validate.Length(max=20)
    )
    orientation = fields.String(validate=validate.OneOf([o.value for o in Orientation]))
    schedule = fields.Dict(
        metadata={
            "description": "operating_hours / night_mode windows (days 0=Mon; Europe/Berlin).",
            "example": {
                "operating_hours": [{"days": [0, 1, 2, 3, 4], "start": "06:00", "end": "22:00"}],
                "night_mode": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "23:00", "end": "05:30"}],
            },
        }
    )
    settings = SettingsField(
        metadata={"example": {"durations": {"news": 20}, "alert_modes": {"warning": "banner"}}}
    )


class ClaimInputSchema(_DeviceFields):
    code = fields.String(
        required=True, validate=validate.Length(min=8, max=12), metadata={"example": "ABCD2345"}
    )
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))


class DeviceUpdateSchema(_DeviceFields):
    resolution = fields.String(allow_none=True, validate=validate.Length(max=20))


class DistrictRefSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class DeviceSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    district_id = fields.Integer(allow_none=True)
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    groups = fields.List(fields.String())
    orientation = fields.String()
    resolution = fields.String(allow_none=True)
    model = fields.String(allow_none=True)
    player_version = fields.String(allow_none=True)
    status = fields.String(metadata={"example": DeviceStatus.ACTIVE.value})
    is_paired = fields.Method("_is_paired", metadata={"description": "Collected its secret."})
    paired_at = UTCDateTime(allow_none=True)
    secret_rotated_at = UTCDateTime(allow_none=True)
    rekey_pending = fields.Method("_rekey_pending")
    schedule = fields.Dict()
    settings = fields.Dict()
    last_seen_at = UTCDateTime(allow_none=True)
    health_state = fields.String(metadata={"example": HealthState.ONLINE.value})
    health_changed_at = UTCDateTime(allow_none=True)
    manifest_version = fields.String(allow_none=True)
    reported_manifest_version = fields.String(allow_none=True)
    outdated_since = UTCDateTime(
        attribute="reported_manifest_at",
        allow_none=True,
        metadata={"description": "Since when the device reports an older manifest."},
    )
    manifest_outdated = fields.Method("_outdated")
    telemetry = fields.Dict(allow_none=True)
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
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class CommandInputSchema(Schema):
    type = fields.String(required=True, validate=validate.OneOf(_COMMAND_TYPES))
    payload = fields.Dict(load_default=dict)
    ttl_s = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=30, max=7 * 24 * 3600),
        metadata={"description": "Seconds until it expires (default 1 h)."},
    )


class CommandSchema(Schema):
    id = fields.Integer()
    device_id = fields.Integer()
    type = fields.String()
    payload = fields.Dict()
    status = fields.Method("_status", metadata={"example": CommandStatus.PENDING.value})
    expires_at = UTCDateTime()
    delivered_at = UTCDateTime(allow_none=True)
    delivery_count = fields.Integer()
    completed_at = UTCDateTime(allow_none=True)
    result = fields.Dict(allow_none=True)
    created_by_id = fields.Integer(allow_none=True)
    created_at = UTCDateTime()

    def _status(self, command) -> str:
        from cityapp.kiosks.service.commands import effective_status

        return effective_status(command)


class CommandListSchema(Schema):
    items = fields.List(fields.Nested(CommandSchema))
