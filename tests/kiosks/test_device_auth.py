"""Device secrets resolve through a service that needs no request (the edge reads the request)."""

from __future__ import annotations

from cityapp.kiosks.models import Device
from cityapp.kiosks.service.auth import find_device_by_secret


def test_a_secret_resolves_outside_any_request(app, pair):
    device = pair()
    with app.app_context():
        found = find_device_by_secret(device.secret)
        assert isinstance(found, Device) and found.id == device.id
        row = find_device_by_secret(device.secret, poll=True)
        assert row.id == device.id and row.status == "active"
        assert find_device_by_secret("cad_not-a-secret") is None


def test_every_app_accepts_device_secrets_from_create_app(app):
    from cityapp.kiosks.device_auth import resolve_device_bearer

    assert app.extensions["cityapp.bearer_resolvers"]["cad_"] is resolve_device_bearer
