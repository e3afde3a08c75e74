"""Devices (steles), their pairing requests and the commands staff send them."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from cityapp.db import TimestampMixin, db, utcnow
from cityapp.places.models import District


class Orientation(enum.StrEnum):
    PORTRAIT = "portrait"
    LANDSCAPE = "landscape"


class DeviceStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class HealthState(enum.StrEnum):
    NEVER = "never"
    ONLINE = "online"
    STALE = "stale"
    OFFLINE = "offline"
    STANDBY = "standby"
    DEGRADED = "degraded"


class CommandType(enum.StrEnum):
    RELOAD = "reload"
    IDENTIFY = "identify"
    SCREENSHOT = "screenshot"
    CLEAR_CACHE = "clear_cache"
    REKEY = "rekey"


class CommandStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DONE = "done"
    FAILED = "failed"
    EXPIRED = "expired"


class Device(TimestampMixin, db.Model):
    """A paired stele. Its secret is stored only as a SHA-256 hash; the manifest cache columns
    let the 304 path answer from this one row (see docs/kiosks.md)."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL"), index=True
    )
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    groups: Mapped[list] = mapped_column(JSON, default=list)
    orientation: Mapped[str] = mapped_column(String(20), default=Orientation.PORTRAIT)
    resolution: Mapped[str | None] = mapped_column(String(20))
    model: Mapped[str | None] = mapped_column(String(120))
    player_version: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20), default=DeviceStatus.ACTIVE)
    # SHA-256 of the bearer secret; NULL until the device collected its secret once.
    secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    # During a rekey: hash of the newest secret handed out; both work until the device uses it.
    pending_secret_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    paired_at: Mapped[datetime | None]
    secret_rotated_at: Mapped[datetime | None]
    schedule: Mapped[dict] = mapped_column(JSON, default=dict)
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    last_seen_at: Mapped[datetime | None] = mapped_column(index=True)
    telemetry: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    health_state: Mapped[str] = mapped_column(String(20), default=HealthState.NEVER, index=True)
    health_changed_at: Mapped[datetime | None]
    reported_manifest_version: Mapped[str | None] = mapped_column(String(64))
    # When the device started reporting a version different from the current one.
    reported_manifest_at: Mapped[datetime | None]
    # --- manifest cache (see cityapp/kiosks/service/manifest.py) ---
    manifest_version: Mapped[str | None] = mapped_column(String(64))
    alert_version: Mapped[str | None] = mapped_column(String(64))
    # Deferred: the auth lookup on the 304 path must not load the whole body.
    manifest_body: Mapped[str | None] = deferred(mapped_column(Text))
    manifest_built_at: Mapped[datetime | None]
    manifest_next_change_at: Mapped[datetime | None]
    manifest_stale: Mapped[bool] = mapped_column(default=True)
    # Bumped by every invalidation; a rebuild only clears ``manifest_stale`` when the
    # generation it started from is still current (no lost invalidation during a rebuild).
    manifest_generation: Mapped[int] = mapped_column(default=0)

    district: Mapped[District | None] = relationship()

    def __repr__(self) -> str:
        return f"<Device {self.id} {self.status} {self.health_state}>"


class PairingRequest(db.Model):
    """A code shown on an unpaired screen. The device polls with ``pairing_id`` (stored only
    hashed); the device secret is generated when the device collects it, so it is never
    stored in plain text anywhere."""

    __tablename__ = "pairing_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    pairing_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Short-lived and low-entropy, shown on screen: hashing would not protect it. Unique while
    # it can be claimed; cleared once claimed or found expired.
    code: Mapped[str | None] = mapped_column(String(8), unique=True)
    model: Mapped[str | None] = mapped_column(String(120))
    player_version: Mapped[str | None] = mapped_column(String(40))
    screen_width: Mapped[int | None]
    screen_height: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    claimed_at: Mapped[datetime | None]
    claimed_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    claimed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    collected_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<PairingRequest {self.id} device={self.claimed_device_id}>"


class DeviceCommand(TimestampMixin, db.Model):
    """A command for one device, re-sent on every heartbeat until a result arrives or it
    expires (at-least-once); the device executes each id once."""

    __tablename__ = "device_commands"
    __table_args__ = (Index("ix_device_commands_device_status", "device_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(20))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default=CommandStatus.PENDING)
    expires_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]
    delivery_count: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime | None]
    result: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )

    def __repr__(self) -> str:
        return f"<DeviceCommand {self.id} {self.type} {self.status} device={self.device_id}>"
