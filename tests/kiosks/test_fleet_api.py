"""Staff fleet API: overview shape and counts, incidents list (filters, paging, detail),
availability per device per day, permissions and bad input."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow
from cityapp.kiosks.models import Device, DeviceHealthEvent, DeviceIncident
from cityapp.kiosks.service.devices import create_device, revoke_device
from cityapp.kiosks.service.health import sweep_health
from tests.conftest import assert_problem

BASE = "/api/v1/staff/fleet"
STATES = {"never", "online", "stale", "offline", "standby", "degraded"}


def _fleet(app, districts) -> dict[str, int]:
    """Four devices: online (current manifest), offline with an incident, never seen, and one
    online on an outdated manifest; plus one revoked."""
    now = utcnow()
    with app.app_context():
        online = create_device(
            CLI, name="Marktplatz", district_id=districts["altstadt"], player_version="1.0.0"
        )
        online.last_seen_at = now
        online.manifest_version = online.reported_manifest_version = "a" * 64
        offline = create_device(CLI, name="Schule", player_version="0.9.0")
        offline.last_seen_at = now - timedelta(hours=2)
        offline.health_state = "online"
        never = create_device(CLI, name="Nordpark")
        outdated = create_device(CLI, name="Bahnhof", player_version="1.0.0")
        outdated.last_seen_at = now
        outdated.manifest_version = "b" * 64
        outdated.reported_manifest_version = "c" * 64
        outdated.reported_manifest_at = now - timedelta(minutes=1)
        gone = create_device(CLI, name="Alt")
        revoke_device(CLI, gone)
        db.session.flush()
        sweep_health(now)
        db.session.commit()
        return {
            "online": online.id,
            "offline": offline.id,
            "never": never.id,
            "outdated": outdated.id,
            "revoked": gone.id,
        }


def test_overview_counts_states_and_lists_devices_needing_attention(app, admin_client, districts):
    ids = _fleet(app, districts)
    response = admin_client.get(BASE)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {
        "generated_at",
        "total",
        "revoked",
        "counts",
        "open_incidents",
        "manifest_outdated",
        "player_versions",
        "attention",
        "attention_truncated",
    }
    assert body["generated_at"].endswith("Z")
    assert body["total"] == 4 and body["revoked"] == 1
    assert set(body["counts"]) == STATES
    assert body["counts"] == {
        "never": 1,
        "online": 2,
        "stale": 0,
        "offline": 1,
        "standby": 0,
        "degraded": 0,
    }
    assert body["open_incidents"] == 1 and body["manifest_outdated"] == 1
    assert body["player_versions"] == {"0.9.0": 1, "1.0.0": 2, "unknown": 1}
    assert body["attention_truncated"] is False
    # Open incident first, then by urgency; the healthy device is not listed.
    listed = [entry["device"]["id"] for entry in body["attention"]]
    assert listed == [ids["offline"], ids["never"], ids["outdated"]]
    first = body["attention"][0]
    assert set(first) == {"device", "open_incident", "manifest_outdated"}
    assert set(first["device"]) == {
        "id",
        "name",
        "district",
        "health_state",
        "health_changed_at",
        "last_seen_at",
        "player_version",
        "manifest_version",
        "reported_manifest_version",
        "outdated_since",
    }
    assert first["device"]["health_state"] == "offline"
    assert first["device"]["last_seen_at"].endswith("Z")
    assert first["device"]["player_version"] == "0.9.0"
    assert set(first["open_incident"]) == {"id", "opened_at", "offline_since"}
    outdated = body["attention"][2]
    assert outdated["manifest_outdated"] is True and outdated["open_incident"] is None
    assert outdated["device"]["outdated_since"].endswith("Z")
    never = body["attention"][1]
    assert never["device"]["last_seen_at"] is None and never["device"]["district"] is None
    text = response.get_data(as_text=True)
    assert "secret" not in text and "telemetry" not in text


def test_overview_of_an_empty_fleet(admin_client):
    response = admin_client.get(BASE)
    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 0 and body["attention"] == [] and body["player_versions"] == {}
    assert body["counts"] == dict.fromkeys(STATES, 0)


def test_fleet_api_is_for_admins_only(client, editor_client):
    for path in (
        BASE,
        f"{BASE}/incidents",
        f"{BASE}/devices/1/availability",
        f"{BASE}/incidents/1",
    ):
        assert_problem(client.get(path), 401)
        assert_problem(editor_client.get(path), 403)


def _incidents(app, device_id: int, count: int) -> list[int]:
    now = utcnow()
    ids = []
    with app.app_context():
        for n in range(count):
            opened = now - timedelta(hours=count - n)
            incident = DeviceIncident(
                device_id=device_id,
                state="offline",
                opened_at=opened,
                offline_since=opened - timedelta(minutes=5),
                last_seen_at=opened - timedelta(minutes=7),
                closed_at=opened + timedelta(minutes=30),
                close_reason="recovered",
                recovered_state="online",
            )
            db.session.add(incident)
            db.session.flush()
            ids.append(incident.id)
        db.session.commit()
    return ids


def test_incidents_list_filters_and_pages(app, admin_client, districts):
    ids = _fleet(app, districts)
    closed = _incidents(app, ids["online"], 3)
    response = admin_client.get(f"{BASE}/incidents?state=open")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "next_cursor"} and body["next_cursor"] is None
    [open_one] = body["items"]
    assert set(open_one) == {
        "id",
        "device_id",
        "device_name",
        "state",
        "is_open",
        "opened_at",
        "offline_since",
        "last_seen_at",
        "closed_at",
        "close_reason",
        "recovered_state",
        "recovered_player_version",
        "downtime_s",
        "open_mail_id",
        "close_mail_id",
    }
    assert open_one["device_id"] == ids["offline"] and open_one["device_name"] == "Schule"
    assert open_one["is_open"] is True and open_one["closed_at"] is None
    assert open_one["downtime_s"] is None

    # Closed ones, newest first, two per page.
    first = admin_client.get(f"{BASE}/incidents?state=closed&limit=2")
    assert first.status_code == 200
    page = first.get_json()
    assert [i["id"] for i in page["items"]] == [closed[2], closed[1]]
    assert page["items"][0]["downtime_s"] == 35 * 60
    assert page["items"][0]["close_reason"] == "recovered"
    assert 'rel="next"' in first.headers["Link"]
    second = admin_client.get(f"{BASE}/incidents?state=closed&limit=2&cursor={page['next_cursor']}")
    assert [i["id"] for i in second.get_json()["items"]] == [closed[0]]
    assert second.get_json()["next_cursor"] is None

    everything = admin_client.get(f"{BASE}/incidents").get_json()["items"]
    assert len(everything) == 4 and everything[0]["is_open"] is True  # newest first
    mine = admin_client.get(f"{BASE}/incidents?device_id={ids['online']}").get_json()["items"]
    assert {i["device_id"] for i in mine} == {ids["online"]} and len(mine) == 3


def test_incident_detail_and_bad_input(app, admin_client, districts):
    ids = _fleet(app, districts)
    [incident_id] = _incidents(app, ids["never"], 1)
    response = admin_client.get(f"{BASE}/incidents/{incident_id}")
    assert response.status_code == 200
    assert response.get_json()["id"] == incident_id
    assert response.get_json()["recovered_state"] == "online"
    assert_problem(admin_client.get(f"{BASE}/incidents/999999"), 404)
    assert_problem(admin_client.get(f"{BASE}/incidents?state=broken"), 422, field="state")
    assert_problem(admin_client.get(f"{BASE}/incidents?limit=0"), 422, field="limit")
    assert_problem(admin_client.get(f"{BASE}/incidents?cursor=garbage"), 400)


def test_availability_per_day(app, admin_client):
    zone = ZoneInfo("Europe/Berlin")
    now = utcnow()
    today = now.astimezone(zone).date()
    with app.app_context():
        device = create_device(CLI, name="Marktplatz")
        device.created_at = now - timedelta(days=10)
        db.session.flush()
        # Online since four days ago; no schedule, so every second is expected.
        db.session.add(
            DeviceHealthEvent(
                device_id=device.id,
                from_state="never",
                to_state="online",
                at=now - timedelta(days=4),
            )
        )
        db.session.commit()
        device_id = device.id
    since = today - timedelta(days=2)
    response = admin_client.get(
        f"{BASE}/devices/{device_id}/availability?from={since.isoformat()}&to={today.isoformat()}"
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"device_id", "timezone", "from", "to", "days", "totals"}
    assert body["device_id"] == device_id and body["timezone"] == "Europe/Berlin"
    assert body["from"] == since.isoformat() and body["to"] == today.isoformat()
    assert [d["day"] for d in body["days"]] == [
        (since + timedelta(days=n)).isoformat() for n in range(3)
    ]
    day = body["days"][0]
    assert set(day) == {
        "day",
        "seconds_expected",
        "seconds_online",
        "ratio",
        "incidents_opened",
        "is_complete",
    }
    assert day["is_complete"] is True and day["ratio"] == 1.0
    assert day["seconds_expected"] in (23 * 3600, 24 * 3600, 25 * 3600)
    assert body["days"][-1]["is_complete"] is False  # today, so far
    assert body["totals"]["seconds_online"] == sum(d["seconds_online"] for d in body["days"])
    assert body["totals"]["ratio"] == 1.0

    # Default range: the last 30 days, but not before the device existed.
    default = admin_client.get(f"{BASE}/devices/{device_id}/availability").get_json()
    assert default["to"] == today.isoformat()
    assert (
        len(default["days"])
        == (today - (now - timedelta(days=10)).astimezone(zone).date()).days + 1
    )


def test_availability_bad_input(app, admin_client):
    with app.app_context():
        device_id = create_device(CLI, name="X").id
        db.session.commit()
    url = f"{BASE}/devices/{device_id}/availability"
    assert_problem(admin_client.get(f"{BASE}/devices/999999/availability"), 404)
    assert_problem(admin_client.get(f"{url}?from=2026-13-01"), 422, field="from")
    assert_problem(admin_client.get(f"{url}?from=2026-11-20&to=2026-11-01"), 422, field="from")
    assert_problem(admin_client.get(f"{url}?from=2024-01-01&to=2026-01-01"), 422, field="from")


def test_sweep_results_show_up_in_the_staff_device_list(app, admin_client, districts):
    ids = _fleet(app, districts)
    response = admin_client.get("/api/v1/staff/devices?health_state=offline")
    assert response.status_code == 200
    assert [d["id"] for d in response.get_json()["items"]] == [ids["offline"]]
    with app.app_context():
        assert (
            db.session.scalar(select(Device.health_state).where(Device.id == ids["never"]))
            == "never"
        )


def test_deleting_a_device_removes_its_health_records(app, admin_client, districts):
    ids = _fleet(app, districts)
    assert admin_client.delete(f"/api/v1/staff/devices/{ids['offline']}").status_code == 204
    with app.app_context():
        for model in (DeviceIncident, DeviceHealthEvent):
            left = db.session.scalars(select(model).where(model.device_id == ids["offline"]))
            assert list(left) == []
    body = admin_client.get(BASE).get_json()
    assert body["open_incidents"] == 0 and body["total"] == 3
