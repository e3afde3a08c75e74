"""Device API for steles (/api/device/v1): pairing, manifest, heartbeat, command results,
votes. Everything but pairing needs ``Authorization: Bearer <device secret>``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import current_app, request
from flask_smorest import Blueprint
from sqlalchemy.exc import OperationalError

from cityapp.db import (
    db,
    read_without_transaction,
    set_sqlite_begin_mode,
    utcnow,
)
from cityapp.errors import Unauthorized
from cityapp.extensions import limiter
from cityapp.http.checks import refuse_body_over
from cityapp.http.conditional import if_none_match_hits, not_modified
from cityapp.kiosks.device_auth import current_device, current_device_row, device_required
from cityapp.kiosks.schemas.device import (
    CommandResultInputSchema,
    CommandResultReplySchema,
    HeartbeatReplySchema,
    HeartbeatSchema,
    ManifestSchema,
    PairingStartedSchema,
    PairingStartSchema,
    PairingStatusSchema,
    VoteInputSchema,
    VoteReplySchema,
)
from cityapp.kiosks.service import commands, heartbeat, manifest, pairing, votes

log = logging.getLogger(__name__)

blp = Blueprint(
    "device_api",
    __name__,
    url_prefix="/api/device/v1",
    description="Stele device API: pairing, manifest, heartbeat, commands, votes "
    "(bearer device secret; see docs/kiosks.md).",
)
DEVICE_SECURITY = [{"deviceSecret": []}]


def _client_ip() -> str:
    return f"ip:{request.remote_addr or 'unknown'}"


def _pairing_limit() -> str:
    return current_app.config["CITYAPP_KIOSK_PAIRING_RATE_LIMIT"]


def _pairing_poll_limit() -> str:
    return current_app.config["CITYAPP_KIOSK_PAIRING_POLL_RATE_LIMIT"]


def body_limit(config_key: str) -> Callable:
    """Refuse request bodies larger than ``config[config_key]`` bytes (413) before parsing."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refused = refuse_body_over(current_app.config[config_key], "This endpoint's bodies")
            return refused if refused is not None else view(*args, **kwargs)

        return wrapper

    return decorator


def _commit_quietly() -> None:
    """Persist a rebuilt manifest cache; a lost race only costs the next poll a rebuild."""
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()
        log.warning("could not store a rebuilt manifest", exc_info=True)


# --- pairing -------------------------------------------------------------------------------


@blp.post("/pairing")
@limiter.limit(_pairing_limit, key_func=_client_ip)
@blp.arguments(PairingStartSchema)
@blp.response(201, PairingStartedSchema)
@blp.alt_response(429, description="Too many pairing requests from this address.")
def start_pairing(data):
    """Ask for a pairing code (unpaired device; rate-limited per address)."""
    screen = data.get("screen") or {}
    started = pairing.start_pairing(
        model=data.get("model"),
        player_version=data.get("player_version"),
        screen_width=screen.get("width"),
        screen_height=screen.get("height"),
    )
    db.session.commit()
    return started.__dict__, 201, {"Cache-Control": "no-store"}


@blp.get("/pairing/<pairing_id>")
@limiter.limit(_pairing_poll_limit, key_func=_client_ip)
@blp.response(200, PairingStatusSchema, description="Paired: the secret, exactly once.")
@blp.alt_response(202, schema=PairingStatusSchema, description="Still waiting for staff.")
@blp.alt_response(404, description="Unknown pairing id.")
@blp.alt_response(410, description="Expired, or the secret was collected already.")
def poll_pairing(pairing_id):
    """Poll a pairing: 202 while waiting, 200 with the device secret once, then 410."""
    # The collecting poll writes (device row, secret hash) in a GET: on SQLite begin
    # IMMEDIATE so concurrent collections queue for the write lock instead of failing with
    # "database is locked" (cityapp.db; the request teardown restores the mode).
    set_sqlite_begin_mode("IMMEDIATE")
    state = pairing.poll_pairing(pairing_id)
    headers = {"Cache-Control": "no-store"}
    if state.status == "waiting":
        return {"status": "waiting", "expires_in": state.expires_in}, 202, headers
    db.session.commit()  # before the secret leaves: a failed commit must not hand one out
    body = {"status": "paired", "device_id": state.device_id, "device_secret": state.device_secret}
    return body, 200, headers


# --- manifest ------------------------------------------------------------------------------


@blp.get("/manifest")
@blp.doc(security=DEVICE_SECURITY)
@device_required
@blp.response(200, ManifestSchema)
@blp.alt_response(304, description="Unchanged (If-None-Match matched the current version).")
@blp.alt_response(401, description="Unknown or revoked device secret.")
def get_manifest():
    """This device's manifest; ETag = version, If-None-Match → 304 without a rebuild."""
    now = utcnow()
    row = current_device_row()
    body = None
    if manifest.needs_rebuild(row, now):
        device = current_device()
        state = manifest.current(device, now)
        if state.built is not None:
            _commit_quietly()
        version, body = state.version, state.body(device)
    else:
        # Decided from the authenticating row alone: a 304 costs no further SQL.
        version = row.manifest_version
    etag = f'"{version}"'
    if if_none_match_hits(etag):
        return not_modified(etag)
    if body is None:
        # A 200 from the cache: version and body read together, so they match.
        read_without_transaction()
        stored = manifest.cached(row.id)
        if stored is None:
            raise Unauthorized("This device no longer exists.")
        version, body = stored
        etag = f'"{version}"'
    response = current_app.response_class(body, mimetype="application/json")
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = "no-cache"
    return response


# --- heartbeat and commands ---------------------------------------------------------------


@blp.post("/heartbeat")
@blp.doc(security=DEVICE_SECURITY)
@device_required
@body_limit("CITYAPP_KIOSK_HEARTBEAT_MAX_BYTES")
@blp.arguments(HeartbeatSchema)
@blp.response(200, HeartbeatReplySchema)
@blp.alt_response(413, description="Heartbeat body larger than 16 KiB.")
@blp.alt_response(422, description="Malformed or unknown fields; nothing is recorded.")
def post_heartbeat(data):
    """Report liveness and telemetry; get versions, commands and the server time."""
    device = current_device()
    reply = heartbeat.record_heartbeat(device, data, utcnow())
    db.session.commit()
    return reply, 200, {"Cache-Control": "no-store"}


@blp.post("/commands/<int:command_id>/result")
@blp.doc(security=DEVICE_SECURITY)
@device_required
@blp.arguments(CommandResultInputSchema)
@blp.response(200, CommandResultReplySchema)
@blp.alt_response(404, description="No such command for this device.")
@blp.alt_response(409, description="The command expired.")
def post_command_result(data, command_id):
    """Report a command's outcome (idempotent: a repeat changes nothing)."""
    device = current_device()
    command, recorded = commands.record_result(
        device, command_id, data["status"], data["result"], utcnow()
    )
    db.session.commit()
    return {"id": command.id, "status": command.status, "recorded": recorded}


# --- votes ---------------------------------------------------------------------------------


@blp.post("/votes")
@blp.doc(security=DEVICE_SECURITY)
@device_required
@blp.arguments(VoteInputSchema)
@blp.response(201, VoteReplySchema, description="Recorded.")
@blp.alt_response(200, schema=VoteReplySchema, description="A repeat of a recorded tap.")
@blp.alt_response(404, description="The poll is not on this stele's manifest.")
@blp.alt_response(409, description="The poll is not open (yet).")
@blp.alt_response(429, description="Cooldown: this stele voted a moment ago.")
def post_vote(data):
    """Record one tap on a stele poll (idempotent per interaction id)."""
    device = current_device()
    created = votes.cast_vote(
        device, data["survey_id"], data["option_id"], data["interaction_id"], utcnow()
    )
    db.session.commit()
    body = {"survey_id": data["survey_id"], "option_id": data["option_id"], "recorded": True}
    return body, 201 if created else 200
