"""Staff device API (admin): claim a pairing code, list and inspect devices, edit, revoke,
rotate the secret (via a rekey command), send commands, delete. No response carries a secret."""

from __future__ import annotations

from flask import current_app, url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff, staff_required
from cityapp.auth.service import record_audit
from cityapp.db import db
from cityapp.extensions import limiter
from cityapp.http.conditional import check_if_match, make_etag
from cityapp.http.pagination import page_response, paginate
from cityapp.kiosks.models import CommandType, Device, DeviceCommand
from cityapp.kiosks.schemas.staff import (
    ClaimInputSchema,
    CommandInputSchema,
    CommandListSchema,
    CommandSchema,
    DeviceListQuerySchema,
    DevicePageSchema,
    DeviceSchema,
    DeviceUpdateSchema,
    RevokeInputSchema,
)
from cityapp.kiosks.service import commands, devices, pairing

blp = Blueprint(
    "kiosk_staff",
    __name__,
    url_prefix="/api/v1/staff/devices",
    description="Steles for staff: pairing by code, device management, commands",
)


def etag_of(device: Device) -> str:
    return make_etag("staff", "device", device.id, device.updated_at)


def _claim_limit() -> str:
    return current_app.config["CITYAPP_KIOSK_CLAIM_RATE_LIMIT"]


def _reply(device: Device, status: int = 200):
    return device, status, {"ETag": etag_of(device)}


@blp.post("/claim")
@limiter.limit(_claim_limit)
@staff_required(Role.ADMIN)
@blp.arguments(ClaimInputSchema)
@blp.response(201, DeviceSchema)
@blp.alt_response(404, description="No screen shows this code.")
@blp.alt_response(409, description="The code was claimed already.")
@blp.alt_response(410, description="The code expired.")
@blp.alt_response(429, description="Too many claim attempts.")
def claim_device(data):
    """Pair the screen showing this code and describe the new device (admin)."""
    code = data.pop("code")
    device = pairing.claim_device(current_staff(), code, **data)
    db.session.commit()
    location = url_for("kiosk_staff.get_device", device_id=device.id)
    return device, 201, {"Location": location, "ETag": etag_of(device)}


@blp.get("")
@staff_required(Role.ADMIN)
@blp.arguments(DeviceListQuerySchema, location="query")
@blp.response(200, DevicePageSchema)
def list_devices(args):
    """Devices with health, last seen, player version and manifest state (admin)."""
    query = devices.device_query(
        status=args.get("status"),
        health_state=args.get("health_state"),
        district_id=args.get("district_id"),
        group=args.get("group"),
    )
    page = paginate(
        db.session,
        query,
        [(Device.name, "asc"), (Device.id, "asc")],
        limit=args["limit"],
        cursor=args["cursor"],
    )
    return page_response(page, DeviceSchema())


@blp.get("/<int:device_id>")
@staff_required(Role.ADMIN)
@blp.response(200, DeviceSchema)
def get_device(device_id):
    """One device with its telemetry (admin)."""
    return _reply(devices.get_device(device_id))


@blp.patch("/<int:device_id>")
@staff_required(Role.ADMIN)
@blp.arguments(DeviceUpdateSchema)
@blp.response(200, DeviceSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_device(data, device_id):
    """Change name, district, location, groups, orientation, schedule or settings (If-Match)."""
    device = devices.get_device(device_id)
    check_if_match(etag_of(device))
    devices.update_device(current_staff(), device, **data)
    db.session.commit()
    return _reply(device)


@blp.post("/<int:device_id>/revoke")
@staff_required(Role.ADMIN)
@blp.arguments(RevokeInputSchema)
@blp.response(200, DeviceSchema)
@blp.alt_response(409, description="Revoked already.")
def revoke_device(data, device_id):
    """Revoke a device: its secret stops working at once (admin)."""
    device = devices.get_device(device_id)
    devices.revoke_device(current_staff(), device, reason=data["reason"])
    db.session.commit()
    return _reply(device)


@blp.post("/<int:device_id>/rotate-secret")
@staff_required(Role.ADMIN)
@blp.response(202, CommandSchema)
@blp.alt_response(409, description="Revoked, or a rekey is under way.")
def rotate_secret(device_id):
    """Rotate the device secret: queues a rekey command; the secret never passes staff."""
    device = devices.get_device(device_id)
    command = commands.issue_command(current_staff(), device, CommandType.REKEY)
    record_audit(
        current_staff(),
        "device.rotate_secret",
        object_type="device",
        object_id=device.id,
        summary=f"rekey command {command.id}",
    )
    db.session.commit()
    return command


@blp.post("/<int:device_id>/commands")
@staff_required(Role.ADMIN)
@blp.arguments(CommandInputSchema)
@blp.response(201, CommandSchema)
@blp.alt_response(409, description="Revoked device, or a rekey is under way.")
def send_command(data, device_id):
    """Queue a command (reload, identify, screenshot, clear_cache, rekey) for a device."""
    device = devices.get_device(device_id)
    command = commands.issue_command(
        current_staff(), device, data["type"], data["payload"], ttl_s=data["ttl_s"]
    )
    db.session.commit()
    return command


@blp.get("/<int:device_id>/commands")
@staff_required(Role.ADMIN)
@blp.response(200, CommandListSchema)
def list_commands(device_id):
    """The device's latest 100 commands, newest first."""
    device = devices.get_device(device_id)
    query = (
        select(DeviceCommand)
        .where(DeviceCommand.device_id == device.id)
        .order_by(DeviceCommand.id.desc())
        .limit(100)
    )
    return {"items": list(db.session.scalars(query))}


@blp.delete("/<int:device_id>")
@staff_required(Role.ADMIN)
@blp.response(204)
def delete_device(device_id):
    """Delete a device and its commands (admin)."""
    devices.delete_device(current_staff(), devices.get_device(device_id))
    db.session.commit()
