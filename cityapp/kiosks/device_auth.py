"""The request side of device authentication: the bearer resolver the app registers for
``cad_`` secrets, and the view helpers that read the authenticated device.

A device request never opens a staff session or sets a cookie, and rate limits key on it
(the shared bearer machinery of ``cityapp.auth.permissions``)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Flask, g, request

from cityapp.auth.permissions import raise_auth_error, register_bearer
from cityapp.db import db
from cityapp.errors import Forbidden, Unauthorized
from cityapp.kiosks.models import Device
from cityapp.kiosks.service.auth import SECRET_PREFIX, find_device_by_secret

#: Endpoints that answer from the poll columns alone (see ``service.auth.POLL_COLUMNS``).
POLL_ENDPOINTS = frozenset({"device_api.get_manifest"})


def resolve_device_bearer(plaintext: str) -> bool:
    """Bearer resolver: remember the device (or, on a poll, its poll row) for this request."""
    poll = request.endpoint in POLL_ENDPOINTS
    found = find_device_by_secret(plaintext, poll=poll)
    if found is None:
        return False
    if isinstance(found, Device):
        g.device = found
    else:
        g.device_row = found
    return True


def register_device_auth(app: Flask) -> None:
    """Accept device secrets as bearer credentials on ``app``."""
    register_bearer(app, SECRET_PREFIX, resolve_device_bearer)


def current_device_row() -> Any:
    """The authenticated device as a row of ``POLL_COLUMNS`` (or the full device): enough to
    answer a revalidation without loading the entity. 401 like ``current_device``."""
    raise_auth_error()
    row = g.get("device_row")
    return row if row is not None else current_device()


def current_device() -> Device:
    """The authenticated device, or a 401 problem (with WWW-Authenticate)."""
    raise_auth_error()
    device = g.get("device")
    if device is None and (row := g.get("device_row")) is not None:
        device = g.device = db.session.get(Device, row.id)
    if device is None and g.get("auth_method") is not None:
        # A valid staff login or token, or an app installation: authenticated, not a stele.
        raise Forbidden("This endpoint is for steles: send the device secret.")
    if device is None:
        raise Unauthorized(
            "Send the device secret as 'Authorization: Bearer <secret>'.",
            headers={"WWW-Authenticate": 'Bearer realm="cityapp-device"'},
        )
    return device


def device_required(view: Callable) -> Callable:
    """Authenticate the device before anything else (body parsing included) runs."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current_device_row()  # 401 unless authenticated; loads nothing more
        return view(*args, **kwargs)

    return wrapper
