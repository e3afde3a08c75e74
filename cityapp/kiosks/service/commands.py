"""Device commands: at-least-once delivery in heartbeat replies until a result arrives or the
command expires; results are idempotent per command id.

``rekey`` carries no secret in the database: each delivery generates a fresh secret, stores
only its hash as the device's ``pending_secret_hash`` and puts the plaintext into that one
heartbeat reply. The old secret keeps working until the device first authenticates with the
new one (see ``service.auth.promote_pending_secret``); a lost reply just means the next
heartbeat delivers another fresh secret.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from cityapp.auth.service import Actor, record_audit
from cityapp.auth.service.credentials import hash_secret
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError
from cityapp.kiosks.models import CommandStatus, CommandType, Device, DeviceCommand, DeviceStatus
from cityapp.kiosks.service.auth import new_device_secret

OPEN = (CommandStatus.PENDING, CommandStatus.DELIVERED)
FINISHED = (CommandStatus.DONE, CommandStatus.FAILED)
MAX_PAYLOAD_BYTES = 2048
MAX_RESULT_BYTES = 8192


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":")).encode())


def effective_status(command: DeviceCommand, now: datetime | None = None) -> str:
    """The stored status, or ``expired`` for an open command past its expiry."""
    now = now or utcnow()
    if command.status in OPEN and command.expires_at <= now:
        return CommandStatus.EXPIRED
    return command.status


def _clean_payload(type_: str, payload: dict | None) -> dict:
    payload = dict(payload or {})
    if type_ == CommandType.REKEY and payload:
        raise ValidationError(errors={"payload": ["rekey takes no payload."]})
    if type_ == CommandType.IDENTIFY:
        unknown = set(payload) - {"duration_s"}
        seconds = payload.get("duration_s", 30)
        if unknown or isinstance(seconds, bool) or not isinstance(seconds, int):
            raise ValidationError(errors={"payload": ['identify takes {"duration_s": 1-600}.']})
        if not 1 <= seconds <= 600:
            raise ValidationError(errors={"payload.duration_s": ["1 to 600 s."]})
    if _size(payload) > MAX_PAYLOAD_BYTES:
        raise ValidationError(errors={"payload": [f"At most {MAX_PAYLOAD_BYTES} bytes."]})
    return payload


def issue_command(
    actor: Actor,
    device: Device,
    type_: str,
    payload: dict | None = None,
    *,
    ttl_s: int | None = None,
    now: datetime | None = None,
) -> DeviceCommand:
    """Queue a command for a device (audited). One rekey at a time."""
    now = now or utcnow()
    if type_ not in {t.value for t in CommandType}:
        raise ValidationError(
            errors={"type": [f"One of {', '.join(t.value for t in CommandType)}."]}
        )
    if device.status != DeviceStatus.ACTIVE:
        raise Conflict("The device is revoked; it receives no commands.")
    payload = _clean_payload(type_, payload)
    if type_ == CommandType.REKEY:
        running = db.session.scalar(
            select(DeviceCommand.id).where(
                DeviceCommand.device_id == device.id,
                DeviceCommand.type == CommandType.REKEY,
                DeviceCommand.status.in_(OPEN),
                DeviceCommand.expires_at > now,
            )
        )
        if running is not None:
            raise Conflict(f"Rekey command {running} is still under way.")
    ttl = ttl_s or current_app.config["CITYAPP_KIOSK_COMMAND_TTL_S"]
    command = DeviceCommand(
        device_id=device.id,
        type=type_,
        payload=payload,
        status=CommandStatus.PENDING,
        expires_at=now + timedelta(seconds=ttl),
        delivery_count=0,
        created_by_id=getattr(actor, "id", None) if hasattr(actor, "role") else None,
    )
    db.session.add(command)
    db.session.flush()
    record_audit(
        actor,
        "device.command",
        object_type="device",
        object_id=device.id,
        summary=f"{type_} (command {command.id})",
        changes={"command_id": command.id, "type": type_, "payload": payload},
    )
    return command


def deliver_commands(device: Device, now: datetime) -> list[dict[str, Any]]:
    """Open commands for the heartbeat reply; expired ones are marked and left out."""
    due = db.session.scalars(
        select(DeviceCommand)
        .where(DeviceCommand.device_id == device.id, DeviceCommand.status.in_(OPEN))
        .order_by(DeviceCommand.id)
    )
    out = []
    for command in due:
        if command.expires_at <= now:
            command.status = CommandStatus.EXPIRED
            if command.type == CommandType.REKEY:
                device.pending_secret_hash = None
            continue
        command.status = CommandStatus.DELIVERED
        command.delivery_count += 1
        command.delivered_at = command.delivered_at or now
        payload = dict(command.payload or {})
        if command.type == CommandType.REKEY:
            secret = new_device_secret()
            device.pending_secret_hash = hash_secret(secret)
            payload["device_secret"] = secret
        out.append(
            {
                "id": command.id,
                "type": command.type,
                "payload": payload,
                "expires_at": command.expires_at,
            }
        )
    return out


def record_result(
    device: Device, command_id: int, status: str, result: dict | None, now: datetime
) -> tuple[DeviceCommand, bool]:
    """Store a command's outcome once; a repeated result changes nothing (returns False)."""
    command = db.session.get(DeviceCommand, command_id)
    if command is None or command.device_id != device.id:
        raise NotFound(f"No command {command_id} for this device.")
    if command.status in FINISHED:
        return command, False
    if effective_status(command, now) == CommandStatus.EXPIRED:
        raise Conflict("The command expired before its result arrived.")
    if status not in {s.value for s in FINISHED}:
        raise ValidationError(errors={"status": ["done or failed."]})
    result = result or {}
    if _size(result) > MAX_RESULT_BYTES:
        raise ValidationError(errors={"result": [f"At most {MAX_RESULT_BYTES} bytes."]})
    command.status = status
    command.result = result
    command.completed_at = now
    if command.type == CommandType.REKEY and status == CommandStatus.FAILED:
        device.pending_secret_hash = None
    return command, True


def expire_commands(now: datetime | None = None) -> int:
    """Mark open commands past their expiry as expired (for a periodic job)."""
    now = now or utcnow()
    count = 0
    for command in db.session.scalars(
        select(DeviceCommand).where(DeviceCommand.status.in_(OPEN), DeviceCommand.expires_at <= now)
    ):
        command.status = CommandStatus.EXPIRED
        count += 1
    return count
