"""The alerts lane: warning/emergency announcements become alerts with level and mode,
ordered by severity, cleared by cancellation and supersession on the next heartbeat."""

from __future__ import annotations

from datetime import timedelta

from cityapp.auth.service.actors import CLI
from cityapp.content.models import Announcement
from cityapp.db import db, utcnow


def _alerts(device) -> list[dict]:
    return device.client.get("/api/device/v1/manifest").get_json()["alerts"]


def _warning(make_announcement, level="warning", **kw):
    now = utcnow()
    kw.setdefault("valid_from", now - timedelta(minutes=5))
    kw.setdefault("valid_until", now + timedelta(hours=3))
    return make_announcement(level=level, **kw)


def test_levels_modes_and_fields(pair, districts, make_announcement):
    device = pair(district_id=districts["altstadt"])
    warning = _warning(
        make_announcement,
        title={"de": "Sturmwarnung"},
        body={"de": "<p>Orkanböen <strong>bis 120 km/h</strong>.</p>"},
        instruction={"de": "Bleiben Sie im Haus."},
        sender_name="Ordnungsamt",
    )
    emergency = _warning(make_announcement, level="emergency", district_ids=[districts["altstadt"]])
    alerts = _alerts(device)
    assert [a["id"] for a in alerts] == [f"announcement:{emergency}", f"announcement:{warning}"]
    critical, high = alerts
    assert (critical["level"], critical["mode"]) == ("critical", "takeover")
    assert (high["level"], high["mode"]) == ("high", "banner")
    assert high["headline"] == {"de": "Sturmwarnung"}
    assert high["description"] == {"de": "Orkanböen bis 120 km/h."}
    assert high["instruction"] == {"de": "Bleiben Sie im Haus."}
    assert high["sender"] == "Ordnungsamt" and critical["sender"] == "Musterstadt"
    assert set(high) == {
        "id",
        "level",
        "mode",
        "headline",
        "description",
        "instruction",
        "sender",
        "effective_at",
        "expires_at",
        "updated_at",
    }
    assert high["effective_at"] < high["expires_at"]


def test_other_districts_and_app_only_warnings_stay_away(pair, districts, make_announcement):
    device = pair(district_id=districts["altstadt"])
    _warning(make_announcement, district_ids=[districts["oberdorf"]])
    _warning(make_announcement, channels=["app"])
    assert _alerts(device) == []


def test_mode_overrides_per_device_and_per_config(app, pair, make_announcement, admin_client):
    device = pair(settings={"alert_modes": {"warning": "takeover"}})
    other = pair("Andere")
    _warning(make_announcement)
    assert _alerts(device)[0]["mode"] == "takeover"
    assert _alerts(other)[0]["mode"] == "banner"
    levels = app.config["CITYAPP_KIOSK_ALERT_LEVELS"]
    app.config["CITYAPP_KIOSK_ALERT_LEVELS"] = {**levels, "warning": ("medium", "ticker")}
    try:
        with app.app_context():
            from cityapp.kiosks.service.devices import mark_devices_stale

            mark_devices_stale(district_ids=None)
            db.session.commit()
        assert (_alerts(other)[0]["level"], _alerts(other)[0]["mode"]) == ("medium", "ticker")
    finally:
        app.config["CITYAPP_KIOSK_ALERT_LEVELS"] = levels


def test_cancellation_reaches_the_next_heartbeat(app, pair, make_announcement):
    device = pair()
    quiet = device.client.post("/api/device/v1/heartbeat", json={}).get_json()["alert_version"]
    alert_id = _warning(make_announcement, level="emergency")
    hb = device.client.post("/api/device/v1/heartbeat", json={}).get_json()
    assert hb["alert_version"] != quiet
    assert [a["id"] for a in _alerts(device)] == [f"announcement:{alert_id}"]
    with app.app_context():
        from cityapp.content.service import announcements

        announcements.cancel_announcement(CLI, db.session.get(Announcement, alert_id), reason="x")
        db.session.commit()
    hb = device.client.post("/api/device/v1/heartbeat", json={}).get_json()
    assert hb["alert_version"] == quiet
    assert _alerts(device) == []


def test_supersession_replaces_the_alert(app, pair, make_announcement):
    device = pair()
    old = _warning(make_announcement, title={"de": "Hochwasser"})
    new = _warning(
        make_announcement, level="emergency", title={"de": "Hochwasser, Stufe 2"}, supersedes_id=old
    )
    alerts = _alerts(device)
    assert [a["id"] for a in alerts] == [f"announcement:{new}"]
    assert alerts[0]["level"] == "critical"


def test_future_alerts_carry_their_window_and_drive_next_change_at(pair, make_announcement):
    device = pair()
    now = utcnow()
    start = now + timedelta(hours=2)
    _warning(make_announcement, valid_from=start, valid_until=start + timedelta(hours=1))
    body = device.client.get("/api/device/v1/manifest").get_json()
    [alert] = body["alerts"]
    assert alert["effective_at"] > body["generated_at"]
    assert body["next_change_at"] == alert["effective_at"]
