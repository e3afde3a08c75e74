"""Kiosk tables: devices, pairing requests and device commands (plus fleet health records)."""

from cityapp.kiosks.models.devices import (
    CommandStatus,
    CommandType,
    Device,
    DeviceCommand,
    DeviceStatus,
    HealthState,
    Orientation,
    PairingRequest,
)
from cityapp.kiosks.models.health import (
    DeviceAvailability,
    DeviceHealthEvent,
    DeviceIncident,
    IncidentCloseReason,
)

__all__ = [
    "CommandStatus",
    "CommandType",
    "Device",
    "DeviceAvailability",
    "DeviceCommand",
    "DeviceHealthEvent",
    "DeviceIncident",
    "DeviceStatus",
    "HealthState",
    "IncidentCloseReason",
    "Orientation",
    "PairingRequest",
]
