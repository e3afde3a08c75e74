"""Fleet health records: state transitions, incidents (offline inside operating hours) with
their recovery, and availability per device per local day."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityapp.db import db, utcnow
from cityapp.kiosks.models.devices import Device


class DeviceHealthEvent(db.Model):
    """One health state transition of one device; availability is derived from these."""

    __tablename__ = "device_health_events"
    __table_args__ = (Index("ix_device_health_events_device_at", "device_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    from_state: Mapped[str] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The device's last heartbeat when the transition was recorded (why it went stale).
    last_seen_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<DeviceHealthEvent device={self.device_id} {self.from_state}->{self.to_state}>"


class IncidentCloseReason:
    RECOVERED = "recovered"  # the device came back
    REVOKED = "revoked"  # staff revoked it: nobody waits for it any more


class DeviceIncident(db.Model):
    """A device offline for long enough inside its operating hours. Opened and closed by the
    health sweep (or closed by the device's next heartbeat); one open incident per device."""

    __tablename__ = "device_incidents"
    __table_args__ = (Index("ix_device_incidents_opened_at_id", "opened_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    # Equal to device_id while open, NULL once closed: the unique constraint allows at most one
    # open incident per device on every database (NULLs never collide).
    open_device_id: Mapped[int | None] = mapped_column(unique=True)
    state: Mapped[str] = mapped_column(String(20))  # the state that caused it ("offline")
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Since when the device was offline inside operating hours, and its last heartbeat then.
    offline_since: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    # --- recovery record ---
    closed_at: Mapped[datetime | None] = mapped_column(index=True)
    close_reason: Mapped[str | None] = mapped_column(String(20))
    recovered_state: Mapped[str | None] = mapped_column(String(20))
    recovered_player_version: Mapped[str | None] = mapped_column(String(40))
    # The outbox messages queued to admins (one per open and per close; NULL without admins).
    open_mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="SET NULL")
    )
    close_mail_id: Mapped[int | None] = mapped_column(
        ForeignKey("mail_messages.id", ondelete="SET NULL")
    )

    device: Mapped[Device] = relationship()

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def downtime_s(self) -> int | None:
        """Seconds from going offline to recovery (None while open)."""
        if self.closed_at is None:
            return None
        return max(0, int((self.closed_at - self.offline_since).total_seconds()))

    def __repr__(self) -> str:
        state = "open" if self.closed_at is None else "closed"
        return f"<DeviceIncident {self.id} device={self.device_id} {state}>"


class DeviceAvailability(db.Model):
    """Per device and local day (Europe/Berlin): seconds the stele should have been on
    (operating hours minus night mode) and seconds of those it was seen alive."""

    __tablename__ = "device_availability"
    __table_args__ = (UniqueConstraint("device_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    day: Mapped[date]
    seconds_expected: Mapped[int] = mapped_column(default=0)
    seconds_online: Mapped[int] = mapped_column(default=0)
    incidents_opened: Mapped[int] = mapped_column(default=0)
    # False while the day is still running (figures up to computed_at).
    is_complete: Mapped[bool] = mapped_column(default=False)
    computed_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def ratio(self) -> float | None:
        if not self.seconds_expected:
            return None
        return round(min(1.0, self.seconds_online / self.seconds_expected), 4)

    def __repr__(self) -> str:
        return f"<DeviceAvailability device={self.device_id} {self.day} {self.ratio}>"
