"""Staff device API: list with health, detail, edit with If-Match, revoke, delete, roles,
audit — and no secret in any response after pairing."""

from __future__ import annotations

from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.db import db
from tests.conftest import assert_problem

BASE = "/api/v1/staff/devices"


def test_list_shows_health_versions_and_paging(app, pair, admin_client, districts):
    one = pair("Alpha", district_id=districts["altstadt"], groups=["nord", "markt"])
    two = pair("Beta")
    manifest = one.client.get("/api/device/v1/manifest").get_json()
    one.client.post("/api/device/v1/heartbeat", json={"manifest_version": "f" * 64})
    two.client.get("/api/device/v1/manifest")
    two.client.post("/api/device/v1/heartbeat", json={"player_version": "2.0"})

    page = admin_client.get(f"{BASE}?limit=1")
    assert page.status_code == 200
    body = page.get_json()
    assert [d["name"] for d in body["items"]] == ["Alpha"] and body["next_cursor"]
    alpha = body["items"][0]
    assert alpha["health_state"] == "online" and alpha["last_seen_at"].endswith("Z")
    assert alpha["manifest_version"] == manifest["version"]
    assert alpha["manifest_outdated"] is True and alpha["outdated_since"] is not None
    assert alpha["groups"] == ["markt", "nord"] and alpha["is_paired"] is True
    nxt = admin_client.get(f"{BASE}?limit=1&cursor={body['next_cursor']}").get_json()
    [beta] = nxt["items"]
    assert beta["name"] == "Beta" and beta["player_version"] == "2.0"
    assert beta["manifest_outdated"] is False
    filtered = admin_client.get(f"{BASE}?district_id={districts['altstadt']}").get_json()
    assert [d["id"] for d in filtered["items"]] == [one.id]
    assert [d["id"] for d in admin_client.get(f"{BASE}?group=nord").get_json()["items"]] == [one.id]
    assert_problem(admin_client.get(f"{BASE}?health_state=sleepy"), 422)


def test_edit_needs_a_current_etag_and_validates(app, pair, admin_client, districts):
    device = pair()
    detail = admin_client.get(f"{BASE}/{device.id}")
    assert detail.status_code == 200 and detail.headers["ETag"]
    etag = detail.headers["ETag"]
    changed = admin_client.patch(
        f"{BASE}/{device.id}",
        json={
            "name": "Rathausplatz",
            "district_id": districts["oberdorf"],
            "lat": 51.3,
            "lon": 9.47,
            "orientation": "landscape",
            "schedule": {"operating_hours": [], "night_mode": []},
        },
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["name"] == "Rathausplatz"
    assert changed.get_json()["orientation"] == "landscape"
    assert changed.headers["ETag"] != etag
    stale = admin_client.patch(
        f"{BASE}/{device.id}", json={"name": "x"}, headers={"If-Match": etag}
    )
    assert_problem(stale, 412)
    current = changed.headers["ETag"]
    for body, field in (
        ({"district_id": 9999}, "district_id"),
        ({"settings": {"volume": 3}}, "settings.volume"),
        ({"settings": {"alert_modes": {"warning": "fireworks"}}}, "settings.alert_modes.warning"),
        ({"orientation": "diagonal"}, "orientation"),
        ({"secret_hash": "x"}, "secret_hash"),
        ({"lat": 91}, "lat"),
    ):
        assert_problem(
            admin_client.patch(f"{BASE}/{device.id}", json=body, headers={"If-Match": current}),
            422,
            field=field,
        )
    assert admin_client.get(f"{BASE}/{device.id}").get_json()["name"] == "Rathausplatz"


def test_revoke_and_delete(app, pair, admin_client):
    device = pair()
    revoked = admin_client.post(f"{BASE}/{device.id}/revoke", json={"reason": "gestohlen"})
    assert revoked.status_code == 200 and revoked.get_json()["status"] == "revoked"
    assert revoked.get_json()["is_paired"] is False
    assert_problem(admin_client.post(f"{BASE}/{device.id}/revoke", json={}), 409)
    assert_problem(device.client.post("/api/device/v1/heartbeat", json={}), 401)
    assert_problem(admin_client.post(f"{BASE}/{device.id}/commands", json={"type": "reload"}), 409)
    deleted = admin_client.delete(f"{BASE}/{device.id}")
    assert deleted.status_code == 204 and deleted.get_data() == b""
    assert_problem(admin_client.get(f"{BASE}/{device.id}"), 404)


def test_only_admins_manage_devices(pair, editor_client, token_client):
    device = pair()
    assert_problem(editor_client.get(BASE), 403)
    assert_problem(editor_client.get(f"{BASE}/{device.id}"), 403)
    assert_problem(editor_client.delete(f"{BASE}/{device.id}"), 403)
    read_only = token_client("admin", scopes=("read",))
    assert read_only.get(BASE).status_code == 200
    assert_problem(read_only.post(f"{BASE}/{device.id}/commands", json={"type": "reload"}), 403)


def test_every_write_is_audit_logged(app, pair, admin_client):
    device = pair()
    etag = admin_client.get(f"{BASE}/{device.id}").headers["ETag"]
    admin_client.patch(f"{BASE}/{device.id}", json={"name": "Neu"}, headers={"If-Match": etag})
    admin_client.post(f"{BASE}/{device.id}/commands", json={"type": "reload"})
    admin_client.post(f"{BASE}/{device.id}/rotate-secret")
    admin_client.post(f"{BASE}/{device.id}/revoke", json={})
    admin_client.delete(f"{BASE}/{device.id}")
    with app.app_context():
        actions = list(
            db.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.object_type == "device")
                .order_by(AuditEntry.id)
            )
        )
    assert actions == [
        "device.claim",
        "device.update",
        "device.command",
        "device.command",
        "device.rotate_secret",
        "device.revoke",
        "device.delete",
    ]


def test_no_secret_in_any_response_after_pairing(app, pair, admin_client, make_news):
    device = pair()
    make_news()
    responses = [
        admin_client.get(BASE),
        admin_client.get(f"{BASE}/{device.id}"),
        admin_client.post(f"{BASE}/{device.id}/commands", json={"type": "identify"}),
        admin_client.get(f"{BASE}/{device.id}/commands"),
        device.client.get("/api/device/v1/manifest"),
        device.client.post("/api/device/v1/heartbeat", json={"uptime_s": 1}),
        admin_client.post(f"{BASE}/{device.id}/rotate-secret"),
        admin_client.get(f"{BASE}/{device.id}/commands"),
        app.test_client().get("/api/openapi.json"),
    ]
    etag = admin_client.get(f"{BASE}/{device.id}").headers["ETag"]
    responses.append(
        admin_client.patch(f"{BASE}/{device.id}", json={"name": "x"}, headers={"If-Match": etag})
    )
    responses.append(admin_client.post(f"{BASE}/{device.id}/revoke", json={}))
    responses.append(admin_client.get(f"{BASE}/{device.id}"))
    for response in responses:
        assert response.status_code < 400, (response.request.path, response.status_code)
        text = response.get_data(as_text=True) + str(dict(response.headers))
        assert device.secret not in text, response.request.path
        assert "secret_hash" not in text and "pending_secret" not in text


def test_the_openapi_document_describes_the_device_api(app):
    spec = app.test_client().get("/api/openapi.json").get_json()
    assert "/api/device/v1/manifest" in spec["paths"]
    assert "/api/v1/staff/devices/claim" in spec["paths"]
    assert "deviceSecret" in spec["components"]["securitySchemes"]
    manifest_get = spec["paths"]["/api/device/v1/manifest"]["get"]
    assert manifest_get["security"] == [{"deviceSecret": []}]
    assert manifest_get["summary"]
