"""Schemas of the staff fleet API (/api/v1/staff/fleet): overview, incidents, availability."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.fields import Float, Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema
from cityapp.kiosks.schemas.common import DeviceStateSchema, DistrictRefSchema


class FleetDeviceSchema(DeviceStateSchema):
    """A device as the fleet views show it (no secrets, no telemetry details)."""

    district = fields.Nested(DistrictRefSchema, allow_none=True)


class IncidentRefSchema(Schema):
    id = Id(metadata={"example": 7})
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
    total = Integer(metadata={"description": "Active devices.", "example": 3})
    revoked = Integer(
        metadata={"description": "Revoked devices (not counted above).", "example": 1}
    )
    counts = fields.Dict(
        keys=Text(),
        values=Integer(),
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
    open_incidents = Integer(metadata={"example": 1})
    manifest_outdated = Integer(
        metadata={"description": "Active devices on an outdated manifest.", "example": 0}
    )
    player_versions = fields.Dict(
        keys=Text(),
        values=Integer(),
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
    id = Id(metadata={"example": 7})
    device_id = Id(metadata={"example": 3})
    device_name = Text(attribute="device.name", metadata={"example": "Schule Südhang"})
    state = Text(metadata={"description": "The state that caused it.", "example": "offline"})
    is_open = fields.Boolean(metadata={"example": False})
    opened_at = UTCDateTime(metadata={"example": "2026-11-22T09:05:00Z"})
    offline_since = UTCDateTime(metadata={"example": "2026-11-22T09:00:00Z"})
    last_seen_at = UTCDateTime(
        allow_none=True, metadata={"description": "The device's last heartbeat at opening."}
    )
    closed_at = UTCDateTime(allow_none=True)
    close_reason = Text(
        allow_none=True, metadata={"description": "recovered or revoked", "example": "recovered"}
    )
    recovered_state = Text(
        allow_none=True,
        metadata={"description": "Health state when it recovered.", "example": "online"},
    )
    recovered_player_version = Text(allow_none=True, metadata={"example": "1.0.1"})
    downtime_s = Integer(
        allow_none=True,
        metadata={"description": "From offline to recovery (closed only).", "example": 5400},
    )
    open_mail_id = Id(allow_none=True, metadata={"description": "Outbox message.", "example": 31})
    close_mail_id = Id(allow_none=True, metadata={"description": "Outbox message.", "example": 32})


class IncidentPageSchema(PageSchema):
    items = fields.List(fields.Nested(IncidentSchema))


class IncidentQuerySchema(PaginationQuerySchema):
    state = Text(
        load_default=None,
        validate=validate.OneOf(["open", "closed"]),
        metadata={"description": "open or closed (default: both)."},
    )
    device_id = Id(load_default=None)


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
    seconds_expected = Integer(
        metadata={
            "description": "Operating hours minus night mode, since the first heartbeat.",
            "example": 57600,
        }
    )
    seconds_online = Integer(
        metadata={
            "description": "Of those, seconds in online, degraded or stale.",
            "example": 57000,
        }
    )
    ratio = Float(allow_none=True, metadata={"example": 0.9896})
    incidents_opened = Integer(metadata={"example": 0})
    is_complete = fields.Boolean(
        metadata={"description": "False for today (figures so far).", "example": True}
    )


class AvailabilityTotalsSchema(Schema):
    seconds_expected = Integer(metadata={"example": 1728000})
    seconds_online = Integer(metadata={"example": 1709600})
    ratio = Float(allow_none=True, metadata={"example": 0.9894})
    incidents_opened = Integer(metadata={"example": 2})


class AvailabilitySchema(Schema):
    device_id = Id(metadata={"example": 1})
    timezone = Text(metadata={"example": "Europe/Berlin"})
    from_ = fields.Date(
        data_key="from", attribute="from", allow_none=True, metadata={"example": "2026-10-24"}
    )
    to = fields.Date(allow_none=True, metadata={"example": "2026-11-22"})
    days = fields.List(fields.Nested(AvailabilityDaySchema))
    totals = fields.Nested(AvailabilityTotalsSchema)
