"""Device authentication: ``Authorization: Bearer cad_...`` → SHA-256 → one indexed lookup.

The request side (the bearer resolver, ``current_device``, ``device_required``) lives in
``cityapp.kiosks.device_auth``; this module only looks devices up by their secret.
"""

from __future__ import annotations

import secrets
from collections import namedtuple
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Engine

from cityapp.auth.service.credentials import hash_secret
from cityapp.db import db, utcnow
from cityapp.kiosks.models import CommandStatus, CommandType, Device, DeviceCommand, DeviceStatus

SECRET_PREFIX = "cad_"  # cityapp device
PAIRING_PREFIX = "cap_"  # cityapp pairing id (a secret too: whoever holds it gets the device)


def new_device_secret() -> str:
    """A 256-bit random device secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


#: The columns a manifest revalidation needs. The poll endpoints authenticate with a plain
#: row of these (a Core select costs about half of loading the ORM entity, measured in
#: docs/performance.md); the full ``Device`` is loaded only if the view asks for it.
POLL_COLUMNS = (
    Device.id,
    Device.status,
    Device.manifest_version,
    Device.alert_version,
    Device.manifest_stale,
    Device.manifest_built_at,
    Device.manifest_next_change_at,
)
# Built once; executed on the session's connection (Core, no ORM execution machinery).
_POLL_LOOKUP = select(*POLL_COLUMNS).where(Device.secret_hash == bindparam("digest"))
PollRow = namedtuple("PollRow", [column.key for column in POLL_COLUMNS])
_COMPILED: dict[str, str] = {}


def _poll_row(digest: str) -> Any:
    """The device's poll columns for a secret digest, or None.

    On PostgreSQL, with the session bound to the engine (production), the lookup runs on a
    pooled DBAPI connection in autocommit, past the Session and Connection layers: the stele
    304 is the hottest request of the system, and those layers cost twice the query itself
    (docs/performance.md). Same pool, same idle ping, the same statement compiled by
    SQLAlchemy; psycopg returns the same values (timestamptz → aware datetimes). Elsewhere —
    SQLite, or the test harness's connection-bound session — the Core select on the session.
    """
    bind = db.session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        return _poll_row_direct(bind, digest)
    return db.session.connection().execute(_POLL_LOOKUP, {"digest": digest}).first()


def _poll_row_direct(engine: Engine, digest: str) -> PollRow | None:
    sql = _COMPILED.get(engine.dialect.name)
    if sql is None:
        sql = _COMPILED[engine.dialect.name] = str(_POLL_LOOKUP.compile(dialect=engine.dialect))
    pooled = engine.raw_connection()
    try:
        connection = pooled.driver_connection
        connection.autocommit = True
        try:
            # Prepared after a few uses per connection, like every statement (psycopg's
            # prepare_threshold connect argument; switch it off behind a transaction pooler).
            found = connection.execute(sql, {"digest": digest}).fetchone()
        finally:
            connection.autocommit = False
    except Exception:
        pooled.invalidate()  # a broken connection must not go back into the pool
        raise
    finally:
        pooled.close()
    return None if found is None else PollRow(*found)


def _lookup(column, digest: str) -> Device | None:
    return db.session.scalar(select(Device).where(column == digest))


def find_device_by_secret(plaintext: str, *, poll: bool = False) -> Device | PollRow | None:
    """The active device for a secret (current or freshly rekeyed), or None.

    With ``poll`` (the manifest revalidation) a device on its current secret comes back as a
    plain row of ``POLL_COLUMNS``, looked up without loading the entity."""
    digest = hash_secret(plaintext)
    if poll:
        row = _poll_row(digest)
        if row is not None:
            return row if row.status == DeviceStatus.ACTIVE else None
        device = None  # not the current secret: maybe a freshly rekeyed one (below)
    else:
        device = _lookup(Device.secret_hash, digest)
    if device is None:
        # The first use of a secret handed out by a rekey command promotes it (see
        # docs/kiosks.md, "Rekey"); until then the old secret keeps working.
        device = _lookup(Device.pending_secret_hash, digest)
        if device is not None and device.status == DeviceStatus.ACTIVE:
            promote_pending_secret(device)
    if device is None or device.status != DeviceStatus.ACTIVE:
        return None
    return device


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
