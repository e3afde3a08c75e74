"""Heartbeats and commands: telemetry in, versions/commands out, cheap liveness writes,
at-least-once delivery, idempotent results, expiry, and the rekey rotation."""

from __future__ import annotations

import json
from datetime import timedelta

from sqlalchemy import select

from cityapp.db import db, utcnow
from cityapp.kiosks.models import Device, DeviceCommand
from tests.conftest import assert_problem

HB = "/api/device/v1/heartbeat"


def _beat(device, **body):
    return device.client.post(HB, json=body)


def _row(app, device_id: int) -> Device:
    with app.app_context():
        row = db.session.get(Device, device_id)
        db.session.expunge(row)
        return row


def test_heartbeat_records_telemetry_and_replies_with_versions(app, pair):
    device = pair()
    manifest = device.client.get("/api/device/v1/manifest").get_json()
    response = _beat(
        device,
        manifest_version=manifest["version"],
        alert_version=manifest["alert_version"],
        player_version="1.2.3",
        uptime_s=120,
        mode="playing",
        current_item="news:1",
        screen_on=True,
        storage={"used_bytes": 1000, "free_bytes": 5000},
        errors=["img 404"],
        command_results=[],
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"server_time", "manifest_version", "alert_version", "commands", "poll"}
    assert body["manifest_version"] == manifest["version"]
    assert body["alert_version"] == manifest["alert_version"]
    assert body["commands"] == [] and body["server_time"].endswith("Z")
    assert body["poll"] == manifest["poll"]
    row = _row(app, device.id)
    assert row.last_seen_at is not None and row.player_version == "1.2.3"
    assert row.telemetry["storage"] == {"used_bytes": 1000, "free_bytes": 5000}
    assert row.telemetry["errors"] == ["img 404"]
    assert row.reported_manifest_version == manifest["version"]
    assert row.reported_manifest_at is None  # up to date


def test_an_outdated_device_is_told_and_remembered_since_when(app, pair):
    device = pair()
    response = _beat(device, manifest_version="0" * 64)
    assert response.status_code == 200
    assert response.get_json()["manifest_version"] != "0" * 64
    first = _row(app, device.id).reported_manifest_at
    assert first is not None
    with app.app_context():
        db.session.get(Device, device.id).last_seen_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    _beat(device, manifest_version="0" * 64)
    assert _row(app, device.id).reported_manifest_at == first  # since when, not last time


def test_liveness_writes_are_throttled_when_nothing_changed(app, pair):
    device = pair()
    _beat(device, uptime_s=1, mode="playing")
    seen = _row(app, device.id).last_seen_at
    _beat(device, uptime_s=2, mode="playing")
    assert _row(app, device.id).last_seen_at == seen
    _beat(device, uptime_s=3, mode="standby")  # a real change is written at once
    assert _row(app, device.id).last_seen_at > seen
    assert _row(app, device.id).telemetry["mode"] == "standby"


def test_malformed_heartbeats_get_422_and_change_nothing(app, pair):
    device = pair()
    for body in (
        {"uptime_s": "lange"},
        {"mode": "dancing"},
        {"battery": 12},
        {"storage": {"used_bytes": -1}},
        {"command_results": [{"id": 1, "status": "maybe"}]},
    ):
        assert_problem(device.client.post(HB, json=body), 422)
    assert_problem(
        device.client.post(HB, data="{not json", headers={"Content-Type": "application/json"}),
        400,
    )
    row = _row(app, device.id)
    assert row.last_seen_at is None and row.telemetry is None


def test_giant_heartbeats_get_413(app, pair):
    device = pair()
    response = device.client.post(HB, json={"errors": ["x" * 400] * 50})
    assert_problem(response, 413)
    assert _row(app, device.id).last_seen_at is None


def test_heartbeat_needs_a_device_secret(client):
    assert_problem(client.post(HB, json={"uptime_s": 1}), 401)
    assert_problem(client.post(HB, json={"battery": 1}), 401)  # auth before validation


def _command(admin_client, device, type_="reload", **extra):
    response = admin_client.post(
        f"/api/v1/staff/devices/{device.id}/commands", json={"type": type_, **extra}
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_commands_are_redelivered_until_a_result_arrives(app, pair, admin_client):
    device = pair()
    command = _command(admin_client, device, "identify", payload={"duration_s": 20})
    assert command["status"] == "pending" and command["delivery_count"] == 0
    first = _beat(device).get_json()["commands"]
    assert [(c["id"], c["type"], c["payload"]) for c in first] == [
        (command["id"], "identify", {"duration_s": 20})
    ]
    second = _beat(device).get_json()["commands"]
    assert [c["id"] for c in second] == [command["id"]]  # at least once
    result = device.client.post(
        f"/api/device/v1/commands/{command['id']}/result",
        json={"status": "done", "result": {"shown_s": 20}},
    )
    assert result.status_code == 200
    assert result.get_json() == {"id": command["id"], "status": "done", "recorded": True}
    again = device.client.post(
        f"/api/device/v1/commands/{command['id']}/result", json={"status": "failed"}
    )
    assert again.status_code == 200
    assert again.get_json() == {"id": command["id"], "status": "done", "recorded": False}
    assert _beat(device).get_json()["commands"] == []
    listed = admin_client.get(f"/api/v1/staff/devices/{device.id}/commands").get_json()
    [stored] = listed["items"]
    assert stored["status"] == "done" and stored["delivery_count"] == 2
    assert stored["result"] == {"shown_s": 20}


def test_results_can_ride_on_the_heartbeat(app, pair, admin_client):
    device = pair()
    command = _command(admin_client, device, "clear_cache")
    _beat(device)
    reply = _beat(
        device, command_results=[{"id": command["id"], "status": "failed", "result": {"e": 1}}]
    )
    assert reply.status_code == 200 and reply.get_json()["commands"] == []
    with app.app_context():
        row = db.session.get(DeviceCommand, command["id"])
        assert row.status == "failed" and row.completed_at is not None


def test_expired_commands_are_not_sent_and_take_no_result(app, pair, admin_client):
    device = pair()
    command = _command(admin_client, device, "screenshot", ttl_s=60)
    with app.app_context():
        db.session.get(DeviceCommand, command["id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    listed = admin_client.get(f"/api/v1/staff/devices/{device.id}/commands").get_json()
    assert listed["items"][0]["status"] == "expired"
    assert _beat(device).get_json()["commands"] == []
    with app.app_context():
        assert db.session.get(DeviceCommand, command["id"]).status == "expired"
    late = device.client.post(
        f"/api/device/v1/commands/{command['id']}/result", json={"status": "done"}
    )
    assert_problem(late, 409)


def test_a_device_cannot_touch_another_devices_commands(pair, admin_client):
    one, two = pair("Eins"), pair("Zwei")
    command = _command(admin_client, one)
    response = two.client.post(
        f"/api/device/v1/commands/{command['id']}/result", json={"status": "done"}
    )
    assert_problem(response, 404)
    assert _beat(two).get_json()["commands"] == []
    assert_problem(
        one.client.post(f"/api/device/v1/commands/{command['id']}/result", json={"x": 1}), 422
    )


def test_rekey_rotates_the_secret_without_any_staff_api_seeing_it(app, pair, admin_client):
    device = pair()
    rotate = admin_client.post(f"/api/v1/staff/devices/{device.id}/rotate-secret")
    assert rotate.status_code == 202
    assert rotate.get_json()["type"] == "rekey" and rotate.get_json()["payload"] == {}
    assert_problem(admin_client.post(f"/api/v1/staff/devices/{device.id}/rotate-secret"), 409)

    first = _beat(device).get_json()["commands"]
    [rekey] = first
    lost_secret = rekey["payload"]["device_secret"]
    # The reply got lost: the next heartbeat (old secret still valid) brings a fresh one.
    second = _beat(device).get_json()["commands"]
    new_secret = second[0]["payload"]["device_secret"]
    assert new_secret != lost_secret and new_secret.startswith("cad_")
    new_client = app.test_client()
    assert_problem(
        new_client.get(
            "/api/device/v1/manifest", headers={"Authorization": f"Bearer {lost_secret}"}
        ),
        401,
    )
    assert device.client.get("/api/device/v1/manifest").status_code == 200  # old still works
    switched = new_client.post(
        HB, json={"uptime_s": 5}, headers={"Authorization": f"Bearer {new_secret}"}
    )
    assert switched.status_code == 200 and switched.get_json()["commands"] == []
    assert_problem(device.client.get("/api/device/v1/manifest"), 401)  # old one is gone
    with app.app_context():
        row = db.session.scalar(select(DeviceCommand).where(DeviceCommand.id == rekey["id"]))
        assert row.status == "done" and "device_secret" not in (row.payload or {})
    for path in (
        f"/api/v1/staff/devices/{device.id}",
        f"/api/v1/staff/devices/{device.id}/commands",
        "/api/v1/staff/devices",
    ):
        text = admin_client.get(path).get_data(as_text=True)
        assert new_secret not in text and lost_secret not in text and device.secret not in text


def test_commands_are_validated(pair, admin_client):
    device = pair()
    url = f"/api/v1/staff/devices/{device.id}/commands"
    assert_problem(admin_client.post(url, json={"type": "selfdestruct"}), 422, field="type")
    assert_problem(
        admin_client.post(url, json={"type": "rekey", "payload": {"device_secret": "x"}}), 422
    )
    assert_problem(
        admin_client.post(url, json={"type": "identify", "payload": {"duration_s": 9999}}), 422
    )
    assert_problem(
        admin_client.post("/api/v1/staff/devices/999/commands", json={"type": "reload"}), 404
    )


def test_the_housekeeping_job_expires_commands_nobody_collected(app, pair, admin_client):
    from cityapp.scheduler import get_job
    from cityapp.scheduling import run_guarded

    device = pair()
    stale = _command(admin_client, device, "screenshot", ttl_s=60)
    fresh = _command(admin_client, device, "reload", ttl_s=600)
    with app.app_context():
        db.session.get(DeviceCommand, stale["id"]).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        run = run_guarded(get_job("kiosks.housekeeping"), utcnow())
        assert run.status == "succeeded", run.result
        assert json.loads(run.result)["commands_expired"] == 1
        statuses = dict(db.session.execute(select(DeviceCommand.id, DeviceCommand.status)).all())
    assert statuses == {stale["id"]: "expired", fresh["id"]: "pending"}


def test_credentials_of_another_kind_get_403_not_401(pair, admin_client, installation_client):
    """A valid credential is never told to authenticate: a stele on staff or app endpoints and
    staff or an app on the device API are authenticated, just not allowed (403)."""
    device = pair()
    for response in (
        device.client.get("/api/v1/staff/devices"),
        device.client.get("/api/v1/installations/me/reports"),
        admin_client.get("/api/device/v1/manifest"),
        admin_client.post(HB, json={}),
        installation_client.get("/api/device/v1/manifest"),
    ):
        assert_problem(response, 403)
    forged = device.client.get(
        "/api/v1/staff/devices", headers={"Authorization": "Bearer cad_forged"}
    )
    assert_problem(forged, 401)
