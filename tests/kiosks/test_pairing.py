"""Pairing: code format and lifetime, claim by staff, the secret handed out exactly once,
clean failures for unknown/expired/reused codes, races and floods."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow
from cityapp.errors import Conflict
from cityapp.kiosks.models import Device, PairingRequest
from cityapp.kiosks.service import devices, pairing
from tests.conftest import assert_problem
from tests.kiosks.conftest import start_pairing

ALPHABET = set("ABCDEFGHJKMNPQRSTUVWXYZ23456789")


def test_pairing_end_to_end_hands_out_the_secret_exactly_once(app, client, admin_client):
    started = start_pairing(client)
    assert set(started) == {"pairing_id", "code", "expires_in", "poll_interval_s"}
    assert len(started["code"]) == 8 and set(started["code"]) <= ALPHABET
    assert not set(started["code"]) & set("0O1IL")
    assert started["expires_in"] == 600 and started["poll_interval_s"] == 5
    assert started["pairing_id"].startswith("cap_") and len(started["pairing_id"]) > 40

    waiting = client.get(f"/api/device/v1/pairing/{started['pairing_id']}")
    assert waiting.status_code == 202
    assert waiting.get_json()["status"] == "waiting"
    assert 590 <= waiting.get_json()["expires_in"] <= 600

    claimed = admin_client.post(
        "/api/v1/staff/devices/claim",
        json={"code": started["code"].lower()[:4] + "-" + started["code"][4:], "name": "Markt"},
    )
    assert claimed.status_code == 201, claimed.get_json()
    device = claimed.get_json()
    assert device["name"] == "Markt" and device["is_paired"] is False
    assert device["model"] == "Teststele" and device["resolution"] == "1080x1920"
    assert claimed.headers["Location"].endswith(f"/api/v1/staff/devices/{device['id']}")

    paired = client.get(f"/api/device/v1/pairing/{started['pairing_id']}")
    assert paired.status_code == 200
    body = paired.get_json()
    assert body["status"] == "paired" and body["device_id"] == device["id"]
    assert body["device_secret"].startswith("cad_")
    assert paired.headers["Cache-Control"] == "no-store"

    again = client.get(f"/api/device/v1/pairing/{started['pairing_id']}")
    assert_problem(again, 410)
    assert body["device_secret"] not in again.get_data(as_text=True)

    manifest = client.get(
        "/api/device/v1/manifest", headers={"Authorization": f"Bearer {body['device_secret']}"}
    )
    assert manifest.status_code == 200
    assert manifest.get_json()["device"]["id"] == device["id"]

    with app.app_context():
        stored = db.session.get(Device, device["id"])
        assert stored.secret_hash == hashlib.sha256(body["device_secret"].encode()).hexdigest()
        request_row = db.session.scalar(select(PairingRequest))
        assert (
            request_row.pairing_hash == hashlib.sha256(started["pairing_id"].encode()).hexdigest()
        )
        assert request_row.code is None  # claimed codes leave the pool
        assert request_row.claimed_device_id == device["id"]
        audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "device.claim"))
        assert audit is not None and audit.object_id == str(device["id"])


def test_claims_of_unknown_expired_reused_and_malformed_codes_fail_cleanly(
    app, client, admin_client
):
    assert_problem(
        admin_client.post("/api/v1/staff/devices/claim", json={"code": "ABCD2345", "name": "x"}),
        404,
    )
    assert_problem(
        admin_client.post("/api/v1/staff/devices/claim", json={"code": "ABCD0O1I", "name": "x"}),
        422,
        field="code",
    )
    started = start_pairing(client)
    first = admin_client.post(
        "/api/v1/staff/devices/claim", json={"code": started["code"], "name": "Eins"}
    )
    assert first.status_code == 201
    # Claimed codes are released from the pool: a second claim finds nothing to claim.
    reused = admin_client.post(
        "/api/v1/staff/devices/claim", json={"code": started["code"], "name": "Zwei"}
    )
    assert_problem(reused, 404)

    expired = start_pairing(client)
    with app.app_context():
        row = db.session.scalar(
            select(PairingRequest).where(PairingRequest.code == expired["code"])
        )
        row.expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert_problem(
        admin_client.post(
            "/api/v1/staff/devices/claim", json={"code": expired["code"], "name": "Spät"}
        ),
        410,
    )
    assert_problem(client.get(f"/api/device/v1/pairing/{expired['pairing_id']}"), 410)
    assert_problem(client.get("/api/device/v1/pairing/cap_unknown"), 404)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(Device.id))) == 1


def test_claim_needs_an_admin_and_a_name(client, editor_client, admin_client):
    started = start_pairing(client)
    assert_problem(
        editor_client.post(
            "/api/v1/staff/devices/claim", json={"code": started["code"], "name": "x"}
        ),
        403,
    )
    assert_problem(
        admin_client.post("/api/v1/staff/devices/claim", json={"code": started["code"]}),
        422,
        field="name",
    )
    assert_problem(
        admin_client.post(
            "/api/v1/staff/devices/claim",
            json={"code": started["code"], "name": "x", "secret": "mine"},
        ),
        422,
        field="secret",
    )


def test_two_claims_of_one_code_exactly_one_wins(ctx, client):
    started = start_pairing(client)
    # Both staff members looked the code up before either claimed it.
    seen_by_a = pairing.find_claimable(started["code"])
    seen_by_b = pairing.find_claimable(started["code"])
    now = utcnow()
    device_a = devices.create_device(CLI, name="A")
    device_b = devices.create_device(CLI, name="B")
    pairing.take_pairing_request(seen_by_a, device_a, CLI, now)
    with pytest.raises(Conflict):
        pairing.take_pairing_request(seen_by_b, device_b, CLI, now)
    db.session.expire_all()
    row = db.session.get(PairingRequest, seen_by_a.id)
    assert row.claimed_device_id == device_a.id


def test_a_losing_claim_leaves_no_device_behind(ctx, client):
    started = start_pairing(client)
    request_row = pairing.find_claimable(started["code"])
    winner = devices.create_device(CLI, name="Gewinner")
    pairing.take_pairing_request(request_row, winner, CLI, utcnow())
    db.session.commit()
    with pytest.raises(Exception):  # noqa: B017 - 404: the code left the pool
        pairing.claim_device(CLI, started["code"], name="Verlierer")
    assert db.session.scalar(select(Device).where(Device.name == "Verlierer")) is None


def test_secret_collection_is_decided_by_one_conditional_update(ctx, client):
    started = start_pairing(client)
    device = pairing.claim_device(CLI, started["code"], name="Stele")
    db.session.commit()
    first = pairing.poll_pairing(started["pairing_id"])
    assert first.status == "paired" and first.device_secret
    # A second poll that raced the first (its read happened before the update) must lose.
    from cityapp.errors import Gone

    with pytest.raises(Gone):
        pairing.poll_pairing(started["pairing_id"])
    assert device.secret_hash == hashlib.sha256(first.device_secret.encode()).hexdigest()


def test_pairing_floods_get_429(client):
    statuses = [
        client.post("/api/device/v1/pairing", json={"model": "x"}).status_code for _ in range(6)
    ]
    assert statuses[:5] == [201] * 5
    assert statuses[5] == 429
    response = client.post("/api/device/v1/pairing", json={})
    body = assert_problem(response, 429)
    assert "Retry-After" in response.headers and body["status"] == 429


def test_pairing_polls_and_claims_are_rate_limited(app, client, admin_client):
    started = start_pairing(client)
    app.config["CITYAPP_KIOSK_PAIRING_POLL_RATE_LIMIT"] = "3 per minute"
    app.config["CITYAPP_KIOSK_CLAIM_RATE_LIMIT"] = "2 per minute"
    try:
        polls = [
            client.get(f"/api/device/v1/pairing/{started['pairing_id']}").status_code
            for _ in range(4)
        ]
        assert polls == [202, 202, 202, 429]
        claims = [
            admin_client.post(
                "/api/v1/staff/devices/claim", json={"code": "ABCD2345", "name": "x"}
            ).status_code
            for _ in range(3)
        ]
        assert claims == [404, 404, 429]
    finally:
        app.config["CITYAPP_KIOSK_PAIRING_POLL_RATE_LIMIT"] = "60 per minute"
        app.config["CITYAPP_KIOSK_CLAIM_RATE_LIMIT"] = "20 per hour"


def test_pairing_input_is_validated(client):
    assert_problem(
        client.post("/api/device/v1/pairing", json={"model": "x", "extra": 1}), 422, field="extra"
    )
    assert_problem(
        client.post("/api/device/v1/pairing", json={"screen": {"width": -1, "height": 5}}), 422
    )


def test_revoked_device_cannot_collect_its_secret(ctx, client):
    started = start_pairing(client)
    device = pairing.claim_device(CLI, started["code"], name="Stele")
    devices.revoke_device(CLI, device)
    db.session.commit()
    from cityapp.errors import Gone

    with pytest.raises(Gone):
        pairing.poll_pairing(started["pairing_id"])


def test_a_claimed_secret_must_be_collected_in_time_and_old_requests_are_purged(ctx, client):
    from cityapp.errors import Gone

    started = start_pairing(client)
    pairing.claim_device(CLI, started["code"], name="Stele")
    db.session.commit()
    later = utcnow() + timedelta(minutes=11)
    with pytest.raises(Gone):
        pairing.poll_pairing(started["pairing_id"], now=later)
    assert pairing.purge_pairing_requests(utcnow()) == 0
    assert pairing.purge_pairing_requests(utcnow() + timedelta(days=2)) == 1
    assert db.session.scalar(select(db.func.count(PairingRequest.id))) == 0
