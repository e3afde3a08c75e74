"""Device authentication: ``Authorization: Bearer cad_...`` → SHA-256 → one indexed lookup.

The resolver plugs into the shared bearer machinery of ``cityapp.auth.permissions``, so a
device request never opens a staff session or sets a cookie, and rate limits key on it.
"""

from __future__ import annotations

import secrets

from flask import g
from sqlalchemy import select, update

from cityapp.auth.permissions import raise_auth_error, register_bearer
from cityapp.auth.service import hash_secret
from cityapp.db import db, utcnow
from cityapp.errors import Unauthorized
from cityapp.kiosks.models import CommandStatus, CommandType, Device, DeviceCommand, DeviceStatus

SECRET_PREFIX = "cad_"  # cityapp device
PAIRING_PREFIX = "cap_"  # cityapp pairing id (a secret too: whoever holds it gets the device)


def new_device_secret() -> str:
    """A 256-bit random device secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _lookup(column, digest: str) -> Device | None:
    return db.session.scalar(select(Device).where(column == digest))


def resolve_device(plaintext: str) -> bool:
    """Bearer resolver: find the active device for a secret (current or freshly rekeyed)."""
    digest = hash_secret(plaintext)
    device = _lookup(Device.secret_hash, digest)
    if device is None:
        # The first use of a secret handed out by a rekey command promotes it (see
        # docs/kiosks.md, "Rekey"); until then the old secret keeps working.
        device = _lookup(Device.pending_secret_hash, digest)
        if device is not None and device.status == DeviceStatus.ACTIVE:
            promote_pending_secret(device)
    if device is None or device.status != DeviceStatus.ACTIVE:
        return False
    g.device = device
    return True


def promote_pending_secret(device: Device) -> None:
    """The device proved it holds the new secret: make it the only one, finish the rekey."""
    now = utcnow()
    device.secret_hash = device.pending_secret_hash
    device.pending_secret_hash = None
    device.secret_rotated_at = now
    db.session.execute(
        update(DeviceCommand)
        .where(
            DeviceCommand.device_id == device.id,
            DeviceCommand.type == CommandType.REKEY,
            DeviceCommand.status.in_([CommandStatus.PENDING, CommandStatus.DELIVERED]),
        )
        .values(status=CommandStatus.DONE, completed_at=now, result={"rotated": True})
    )


def current_device() -> Device:
    """The authenticated device, or a 401 problem (with WWW-Authenticate)."""
    raise_auth_error()
    device = g.get("device")
    if device is None:
        raise Unauthorized(
            "Send the device secret as 'Authorization: Bearer <secret>'.",
            headers={"WWW-Authenticate": 'Bearer realm="cityapp-device"'},
        )
    return device


register_bearer(SECRET_PREFIX, resolve_device)


def device_required(view):
    """Authenticate the device before anything else (body parsing included) runs."""
    from functools import wraps

    @wraps(view)
    def wrapper(*args, **kwargs):
        current_device()
        return view(*args, **kwargs)

    return wrapper
