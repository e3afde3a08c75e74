"""Pairing: an unpaired screen shows a code, staff claim it, the device collects its secret
once. The pairing id and the device secret are 256-bit secrets stored only as SHA-256; the
secret is generated at the moment the device collects it, so it is never stored in clear."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from cityapp.auth.service import Actor, record_audit
from cityapp.auth.service.credentials import hash_secret
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, Gone, NotFound, ValidationError
from cityapp.kiosks.models import Device, DeviceStatus, PairingRequest
from cityapp.kiosks.service import devices
from cityapp.kiosks.service.auth import PAIRING_PREFIX, new_device_secret

# No 0/O, 1/I/L: codes are read off a screen and typed in by people.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """Forgive what people type: case, spaces and dashes ("abcd-2345")."""
    return "".join(ch for ch in (code or "").upper() if ch not in " -")


@dataclass
class StartedPairing:
    pairing_id: str
    code: str
    expires_in: int
    poll_interval_s: int


def start_pairing(
    *,
    model: str | None,
    player_version: str | None,
    screen_width: int | None,
    screen_height: int | None,
    now: datetime | None = None,
) -> StartedPairing:
    """Create a pairing request with a fresh code that no pending request uses."""
    now = now or utcnow()
    ttl = current_app.config["CITYAPP_KIOSK_PAIRING_TTL_S"]
    pairing_id = PAIRING_PREFIX + secrets.token_urlsafe(32)
    for _attempt in range(5):
        code = new_code()
        # A code is unique while claimable; an expired request gives its code back.
        db.session.execute(
            update(PairingRequest)
            .where(PairingRequest.code == code, PairingRequest.expires_at <= now)
            .values(code=None)
        )
        request = PairingRequest(
            pairing_hash=hash_secret(pairing_id),
            code=code,
            model=model,
            player_version=player_version,
            screen_width=screen_width,
            screen_height=screen_height,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
        )
        try:
            with db.session.begin_nested():
                db.session.add(request)
                db.session.flush()
        except IntegrityError:
            continue  # another pending request drew the same code; draw again
        return StartedPairing(
            pairing_id=pairing_id,
            code=code,
            expires_in=ttl,
            poll_interval_s=current_app.config["CITYAPP_KIOSK_PAIRING_POLL_S"],
        )
    raise Conflict("Could not find a free pairing code; try again.")  # pragma: no cover


@dataclass
class PairingState:
    status: str  # "waiting" | "paired"
    expires_in: int = 0
    device_id: int | None = None
    device_secret: str | None = None


def poll_pairing(pairing_id: str, now: datetime | None = None) -> PairingState:
    """What the waiting device learns: still waiting, or (exactly once) its secret."""
    now = now or utcnow()
    request = None
    if pairing_id.startswith(PAIRING_PREFIX) and len(pairing_id) <= 100:
        request = db.session.scalar(
            select(PairingRequest).where(PairingRequest.pairing_hash == hash_secret(pairing_id))
        )
    if request is None:
        raise NotFound("Unknown pairing id; start pairing again.")
    if request.collected_at is not None:
        raise Gone("This pairing is complete; the secret was handed out already.")
    if request.claimed_device_id is None:
        if request.expires_at <= now:
            raise Gone("The pairing code expired; start pairing again.")
        remaining = int((request.expires_at - now).total_seconds())
        return PairingState(status="waiting", expires_in=max(remaining, 0))
    ttl = timedelta(seconds=current_app.config["CITYAPP_KIOSK_PAIRING_TTL_S"])
    if request.claimed_at is not None and request.claimed_at + ttl <= now:
        raise Gone("The device did not collect its secret in time; pair it again.")
    # Claimed: hand the secret out exactly once. The conditional UPDATE decides between two
    # polls racing for it; only the winner generates (and returns) a secret.
    taken = db.session.execute(
        update(PairingRequest)
        .where(PairingRequest.id == request.id, PairingRequest.collected_at.is_(None))
        .values(collected_at=now)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:
        raise Gone("This pairing is complete; the secret was handed out already.")
    device = db.session.get(Device, request.claimed_device_id)
    if device is None or device.status != DeviceStatus.ACTIVE:
        raise Gone("The device was removed or revoked before it collected its secret.")
    secret = new_device_secret()
    device.secret_hash = hash_secret(secret)
    device.pending_secret_hash = None
    device.paired_at = now
    device.secret_rotated_at = now
    return PairingState(status="paired", device_id=device.id, device_secret=secret)


def find_claimable(code: str, now: datetime | None = None) -> PairingRequest:
    """The pending request behind a code, or a clear problem (404 unknown, 410 expired,
    409 already claimed)."""
    now = now or utcnow()
    code = normalise_code(code)
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        raise ValidationError(errors={"code": [f"{CODE_LENGTH} characters from {CODE_ALPHABET}."]})
    request = db.session.scalar(select(PairingRequest).where(PairingRequest.code == code))
    if request is None:
        raise NotFound("No device shows this code; check the code on the screen.")
    if request.claimed_device_id is not None:
        raise Conflict("This code was claimed already.")
    if request.expires_at <= now:
        raise Gone("The code expired; the screen shows a new one after a restart.")
    return request


def take_pairing_request(
    request: PairingRequest, device: Device, actor: Actor, now: datetime
) -> None:
    """Claim ``request`` for ``device``: exactly one of two concurrent claims wins (the
    conditional UPDATE is the arbiter, whatever either caller read before)."""
    claimed = db.session.execute(
        update(PairingRequest)
        .where(
            PairingRequest.id == request.id,
            PairingRequest.claimed_device_id.is_(None),
            PairingRequest.expires_at > now,
        )
        .values(
            claimed_device_id=device.id,
            claimed_at=now,
            claimed_by_id=getattr(actor, "id", None),
            code=None,
        )
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        raise Conflict("This code was claimed already (or just expired).")


def claim_device(actor: Actor, code: str, now: datetime | None = None, **data: Any) -> Device:
    """Staff claim the code shown on a screen and describe the new device (audited)."""
    now = now or utcnow()
    request = find_claimable(code, now)
    with db.session.begin_nested():
        device = devices.create_device(
            actor,
            model=request.model,
            player_version=request.player_version,
            resolution=(
                f"{request.screen_width}x{request.screen_height}"
                if request.screen_width and request.screen_height
                else None
            ),
            audit=False,
            **data,
        )
        take_pairing_request(request, device, actor, now)
    db.session.expire(request)
    record_audit(
        actor,
        "device.claim",
        object_type="device",
        object_id=device.id,
        summary=f"paired {device.name}",
        changes={"name": device.name, "district_id": device.district_id},
    )
    return device


def purge_pairing_requests(
    now: datetime | None = None, *, keep: timedelta = timedelta(days=1)
) -> int:
    """Delete pairing requests that expired more than ``keep`` ago (claimed ones can only be
    collected within one code lifetime of the claim, so all are finished); for a job."""
    from sqlalchemy import delete

    cutoff = (now or utcnow()) - keep
    result = db.session.execute(delete(PairingRequest).where(PairingRequest.expires_at < cutoff))
    return result.rowcount
