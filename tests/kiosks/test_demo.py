"""Demo steles: three in Musterstadt's districts (online, never seen, offline with an open
incident), with schedules and content; idempotent; the secret only in the command output."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from cityapp.auth.models import AuditEntry
from cityapp.auth.service.credentials import hash_secret
from cityapp.db import db
from cityapp.kiosks.models import Device, DeviceIncident
from cityapp.kiosks.schedule import validate_schedule
from cityapp.mail.models import MailMessage

NOON = datetime(2026, 11, 20, 12, 0, tzinfo=ZoneInfo("Europe/Berlin")).astimezone(UTC)


def _seed(app):
    from cityapp.demo import seed_demo

    with app.app_context():
        result = seed_demo()
        db.session.commit()
        return result


def _steles(app) -> dict[str, Device]:
    with app.app_context():
        devices = {
            d.name: d
            for d in db.session.scalars(select(Device).where(Device.groups.is_not(None)))
            if "demo" in d.groups
        }
        for device in devices.values():
            db.session.expunge(device)
        return devices


def test_three_demo_steles_with_states_incident_and_schedules(app):
    _seed(app)  # at the real time: night mode may put the online stele in standby
    steles = _steles(app)
    assert set(steles) == {"Marktplatz", "Nordpark", "Schule Südhang"}
    with app.app_context():
        from cityapp.places.models import District

        slugs = {d.id: d.slug for d in db.session.scalars(select(District))}
        incidents = list(db.session.scalars(select(DeviceIncident)))
        mails = db.session.scalar(select(func.count(MailMessage.id)))
    assert {name: slugs[d.district_id] for name, d in steles.items()} == {
        "Marktplatz": "altstadt",
        "Nordpark": "nordviertel",
        "Schule Südhang": "suedhang",
    }
    for device in steles.values():
        assert validate_schedule(device.schedule) == device.schedule
        assert device.schedule["night_mode"]
        assert device.lat and device.lon and device.status == "active"
    market, north, school = steles["Marktplatz"], steles["Nordpark"], steles["Schule Südhang"]
    assert (
        market.secret_hash and market.last_seen_at and market.health_state in ("online", "standby")
    )
    assert north.secret_hash is None and north.last_seen_at is None
    assert north.health_state == "never"
    assert school.health_state in ("offline", "standby")
    assert (datetime.now(UTC) - school.last_seen_at).total_seconds() >= 3 * 3600 - 5
    [incident] = incidents
    assert incident.device_id == school.id and incident.is_open
    assert mails == 0  # the demo does not mail the demo admins


def test_online_demo_stele_at_noon_is_online_and_can_heartbeat(app):
    from cityapp.auth.service.actors import CLI
    from cityapp.kiosks.demo import seed_kiosks

    with app.app_context():
        result = seed_kiosks(CLI, now=NOON)
        db.session.commit()
        market = db.session.scalar(select(Device).where(Device.name == "Marktplatz"))
        school = db.session.scalar(select(Device).where(Device.name == "Schule Südhang"))
        assert market.health_state == "online" and school.health_state == "offline"
        assert market.secret_hash == hash_secret(result["stele_secret"])
    # The printed secret works against the device API.
    client = app.test_client()
    response = client.post(
        "/api/device/v1/heartbeat",
        json={"player_version": "1.0.0"},
        headers={"Authorization": f"Bearer {result['stele_secret']}"},
    )
    assert response.status_code == 200, response.get_json()


def test_demo_is_idempotent_and_the_secret_is_printed_not_stored(app):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    summary = next(line for line in first.output.splitlines() if line.startswith("Demo data"))
    assert "steles_created': 3" in summary and "cad_" not in summary
    [secret_line] = [line for line in first.output.splitlines() if "device secret" in line]
    secret = secret_line.rsplit(" ", 1)[1]
    assert secret.startswith("cad_")
    with app.app_context():
        audit_after_first = db.session.scalar(select(func.count(AuditEntry.id)))
        stored = db.session.scalar(select(Device.secret_hash).where(Device.name == "Marktplatz"))
        assert stored == hash_secret(secret)
        # The plain secret is nowhere in the database (devices, audit, anything JSON).
        assert not db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.summary.contains(secret))
        )

    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    assert (
        "steles_created': 0" in second.output and "stele_announcements_created': 0" in second.output
    )
    assert "device secret" not in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Device.id))) == 3
        assert db.session.scalar(select(func.count(DeviceIncident.id))) == 1
        assert db.session.scalar(select(func.count(AuditEntry.id))) == audit_after_first


def test_demo_secret_command_rotates_the_online_stele_secret(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["kiosks", "demo-secret"]).exit_code == 1  # nothing seeded yet
    first = runner.invoke(args=["seed", "demo"])
    old = next(line for line in first.output.splitlines() if "device secret" in line).rsplit(
        " ", 1
    )[1]
    issued = runner.invoke(args=["kiosks", "demo-secret"])
    assert issued.exit_code == 0, issued.output
    new = next(line for line in issued.output.splitlines() if "device secret" in line).rsplit(
        " ", 1
    )[1]
    assert new.startswith("cad_") and new != old
    client = app.test_client()

    def beat(secret):
        return client.post(
            "/api/device/v1/heartbeat", json={}, headers={"Authorization": f"Bearer {secret}"}
        )

    assert beat(new).status_code == 200
    assert beat(old).status_code == 401


def test_demo_steles_show_content_for_their_district(app):
    _seed(app)
    steles = _steles(app)
    # Collect a manifest as the online stele would: with a fresh secret from the command.
    issued = app.test_cli_runner().invoke(args=["kiosks", "demo-secret"])
    secret = issued.output.split("(shown once): ", 1)[1].split()[0]
    manifest = app.test_client().get(
        "/api/device/v1/manifest", headers={"Authorization": f"Bearer {secret}"}
    )
    assert manifest.status_code == 200, manifest.get_json()
    body = manifest.get_json()
    titles = {item["title"]["de"] for item in body["items"]}
    assert "Vollsperrung Brückenstraße" in titles  # Altstadt's stele announcement
    assert "Wochenmarkt im Nordviertel" not in titles  # another district's
    assert body["device"]["id"] == steles["Marktplatz"].id
    assert any(alert["level"] == "high" for alert in body["alerts"])  # the storm warning
    with app.app_context():
        from cityapp.content.models import Announcement

        mine = {
            a.title["de"]: sorted(d.slug for d in a.districts)
            for a in db.session.scalars(select(Announcement))
            if a.is_for_stele
        }
    assert mine["Wochenmarkt im Nordviertel"] == ["nordviertel"]
    assert mine["Schulweg Südhang: Baustellenampel"] == ["suedhang"]
