"""Schemas of the staff fleet API (/api/v1/staff/fleet): overview, incidents, availability."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime
from cityapp.kiosks.schemas.common import DeviceStateSchema, DistrictRefSchema


class FleetDeviceSchema(DeviceStateSchema):
    """A device as the fleet views show it (no secrets, no telemetry details)."""

    district = fields.Nested(DistrictRefSchema, allow_none=True)


class IncidentRefSchema(Schema):
    id = fields.Integer(metadata={"example": 7})
    opened_at = UTCDateTime(metadata={"example": "2026-11-22T09:05:00Z"})
    offline_since = UTCDateTime(metadata={"example": "2026-11-22T09:00:00Z"})


class AttentionSchema(Schema):
    device = fields.Nested(FleetDeviceSchema)
    open_incident = fields.Nested(IncidentRefSchema, allow_none=True)
    manifest_outdated = fields.Boolean(
        metadata={
            "description": "Reports a manifest version other than the current one.",
            "example": True,
        }
    )


class FleetOverviewSchema(Schema):
    generated_at = UTCDateTime()
    total = fields.Integer(metadata={"description": "Active devices.", "example": 3})
    revoked = fields.Integer(
        metadata={"description": "Revoked devices (not counted above).", "example": 1}
    )
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={
            "description": "Active devices per health state (every state present).",
            "example": {
                "never": 1,
                "online": 1,
                "stale": 0,
                "offline": 1,
                "standby": 0,
                "degraded": 0,
            },
        },
    )
    open_incidents = fields.Integer(metadata={"example": 1})
    manifest_outdated = fields.Integer(
        metadata={"description": "Active devices on an outdated manifest.", "example": 0}
    )
    player_versions = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "Active devices per player version.", "example": {"1.0.0": 2}},
    )
    attention = fields.List(
        fields.Nested(AttentionSchema),
        metadata={
            "description": "Devices with an open incident, offline, stale, degraded, never "
            "seen or on an outdated manifest; open incidents first, then by urgency."
        },
    )
    attention_truncated = fields.Boolean(
        metadata={"description": "More than 200 entries.", "example": False}
    )


class IncidentSchema(Schema):
    id = fields.Integer(metadata={"example": 7})
    device_id = fields.Integer(metadata={"example": 3})
    device_name = fields.String(attribute="device.name", metadata={"example": "Schule Südhang"})
    state = fields.String(
        metadata={"description": "The state that caused it.", "example": "offline"}
    )
    is_open = fields.Boolean(metadata={"example": False})
    opened_at = UTCDateTime(metadata={"example": "2026-11-22T09:05:00Z"})
    offline_since = UTCDateTime(metadata={"example": "2026-11-22T09:00:00Z"})
    last_seen_at = UTCDateTime(
        allow_none=True, metadata={"description": "The device's last heartbeat at opening."}
    )
    closed_at = UTCDateTime(allow_none=True)
    close_reason = fields.String(
        allow_none=True, metadata={"description": "recovered or revoked", "example": "recovered"}
    )
    recovered_state = fields.String(
        allow_none=True,
        metadata={"description": "Health state when it recovered.", "example": "online"},
    )
    recovered_player_version = fields.String(allow_none=True, metadata={"example": "1.0.1"})
    downtime_s = fields.Integer(
        allow_none=True,
        metadata={"description": "From offline to recovery (closed only).", "example": 5400},
    )
    open_mail_id = fields.Integer(
        allow_none=True, metadata={"description": "Outbox message.", "example": 31}
    )
    close_mail_id = fields.Integer(
        allow_none=True, metadata={"description": "Outbox message.", "example": 32}
    )


class IncidentPageSchema(PageSchema):
    items = fields.List(fields.Nested(IncidentSchema))


class IncidentQuerySchema(PaginationQuerySchema):
    state = fields.String(
        load_default=None,
        validate=validate.OneOf(["open", "closed"]),
        metadata={"description": "open or closed (default: both)."},
    )
    device_id = fields.Integer(load_default=None)


class AvailabilityQuerySchema(Schema):
    # "from" is a Python keyword: the schema maps it to ``since``/``until``.
    since = fields.Date(
        data_key="from",
        load_default=None,
        metadata={
            "description": "First local day (default: 29 days before 'to').",
            "example": "2026-11-01",
        },
    )
    until = fields.Date(
        data_key="to",
        load_default=None,
        metadata={"description": "Last local day (default: today).", "example": "2026-11-22"},
    )


class AvailabilityDaySchema(Schema):
    day = fields.Date(
        metadata={"description": "Local day (Europe/Berlin).", "example": "2026-11-21"}
    )
    seconds_expected = fields.Integer(
        metadata={
            "description": "Operating hours minus night mode, since the first heartbeat.",
            "example": 57600,
        }
    )
    seconds_online = fields.Integer(
        metadata={
            "description": "Of those, seconds in online, degraded or stale.",
            "example": 57000,
        }
    )
    ratio = fields.Float(allow_none=True, metadata={"example": 0.9896})
    incidents_opened = fields.Integer(metadata={"example": 0})
    is_complete = fields.Boolean(
        metadata={"description": "False for today (figures so far).", "example": True}
    )


class AvailabilityTotalsSchema(Schema):
    seconds_expected = fields.Integer(metadata={"example": 1728000})
    seconds_online = fields.Integer(metadata={"example": 1709600})
    ratio = fields.Float(allow_none=True, metadata={"example": 0.9894})
    incidents_opened = fields.Integer(metadata={"example": 2})


class AvailabilitySchema(Schema):
    device_id = fields.Integer(metadata={"example": 1})
    timezone = fields.String(metadata={"example": "Europe/Berlin"})
    from_ = fields.Date(
        data_key="from", attribute="from", allow_none=True, metadata={"example": "2026-10-24"}
    )
    to = fields.Date(allow_none=True, metadata={"example": "2026-11-22"})
    days = fields.List(fields.Nested(AvailabilityDaySchema))
    totals = fields.Nested(AvailabilityTotalsSchema)
