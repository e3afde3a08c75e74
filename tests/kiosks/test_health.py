"""Fleet health: state evaluation, the sweep's transitions, incidents with admin mail (once),
recovery through the sweep and through a real heartbeat, availability per day, the jobs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow
from cityapp.kiosks.models import (
    Device,
    DeviceAvailability,
    DeviceHealthEvent,
    DeviceIncident,
    HealthState,
)
from cityapp.kiosks.service.availability import compute_availability, rollup_availability
from cityapp.kiosks.service.devices import create_device, revoke_device
from cityapp.kiosks.service.health import sweep_health
from cityapp.kiosks.service.health_rules import HealthRules, evaluate_state
from cityapp.mail.models import MailMessage

BERLIN = ZoneInfo("Europe/Berlin")
RULES = HealthRules(heartbeat_s=30, offline_min_s=90, degraded_after_s=300, incident_after_s=300)
ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]
DAYTIME = {"operating_hours": [{"days": ALL_DAYS, "start": "06:00", "end": "22:00"}]}
NIGHTS = {"night_mode": [{"days": ALL_DAYS, "start": "23:00", "end": "05:30"}]}


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN).astimezone(UTC)


def fake(last_seen_at=None, schedule=None, reported_manifest_at=None, telemetry=None):
    return SimpleNamespace(
        last_seen_at=last_seen_at,
        schedule=schedule or {},
        reported_manifest_at=reported_manifest_at,
        telemetry=telemetry,
    )


def make_device(name: str = "Marktplatz", schedule: dict | None = None, **columns) -> Device:
    device = create_device(CLI, name=name, schedule=schedule or {})
    for key, value in columns.items():
        setattr(device, key, value)
    db.session.flush()
    return device


def incident_mails() -> list[MailMessage]:
    return list(
        db.session.scalars(
            select(MailMessage)
            .where(MailMessage.topic.like("kiosk-incident:%"))
            .order_by(MailMessage.id)
        )
    )


def events(device: Device) -> list[tuple[str, str]]:
    rows = db.session.scalars(
        select(DeviceHealthEvent)
        .where(DeviceHealthEvent.device_id == device.id)
        .order_by(DeviceHealthEvent.at, DeviceHealthEvent.id)
    )
    return [(e.from_state, e.to_state) for e in rows]


def incidents(device: Device) -> list[DeviceIncident]:
    return list(
        db.session.scalars(
            select(DeviceIncident)
            .where(DeviceIncident.device_id == device.id)
            .order_by(DeviceIncident.id)
        )
    )


def sweep(now: datetime) -> dict[str, int]:
    counts = sweep_health(now, RULES)
    db.session.expire_all()
    return counts


@pytest.fixture
def admins(make_staff):
    """Two active admins get incident mail; an inactive admin and an editor do not."""
    make_staff("admin", email="leitung@musterstadt.example")
    make_staff("admin", email="technik@musterstadt.example")
    make_staff("admin", email="ehemalig@musterstadt.example", active=False)
    make_staff("editor", email="redaktion@musterstadt.example")
    return ["leitung@musterstadt.example", "technik@musterstadt.example"]


# --- evaluate_state (pure) ---------------------------------------------------------------

NOW = berlin(2026, 11, 20, 12, 0)  # a Friday noon


@pytest.mark.parametrize(
    ("silent_s", "state"),
    [
        (0, "online"),
        (60, "online"),
        (61, "stale"),
        (90, "stale"),
        (91, "offline"),
        (7200, "offline"),
    ],
)
def test_state_by_silence(silent_s, state):
    device = fake(last_seen_at=NOW - timedelta(seconds=silent_s))
    assert evaluate_state(device, NOW, RULES) == state


def test_never_seen_is_never_even_in_operating_hours():
    assert evaluate_state(fake(), NOW, RULES) == HealthState.NEVER


def test_offline_needs_at_least_90_seconds_with_short_intervals():
    rules = HealthRules(heartbeat_s=10, offline_min_s=90)
    assert evaluate_state(fake(last_seen_at=NOW - timedelta(seconds=21)), NOW, rules) == "stale"
    assert evaluate_state(fake(last_seen_at=NOW - timedelta(seconds=60)), NOW, rules) == "stale"
    assert evaluate_state(fake(last_seen_at=NOW - timedelta(seconds=91)), NOW, rules) == "offline"


def test_standby_inside_night_mode_is_not_offline():
    at = berlin(2026, 11, 20, 2, 0)
    silent = fake(last_seen_at=at - timedelta(hours=3), schedule=NIGHTS)
    assert evaluate_state(silent, at, RULES) == HealthState.STANDBY
    # The same silence outside the night window is offline.
    assert evaluate_state(silent, berlin(2026, 11, 20, 6, 0), RULES) == HealthState.OFFLINE


def test_standby_outside_operating_hours():
    silent = fake(last_seen_at=berlin(2026, 11, 20, 21, 0), schedule=DAYTIME)
    assert evaluate_state(silent, berlin(2026, 11, 20, 22, 30), RULES) == HealthState.STANDBY
    assert evaluate_state(silent, berlin(2026, 11, 21, 6, 0), RULES) == HealthState.OFFLINE


def test_degraded_when_outdated_for_more_than_five_minutes_or_reporting_errors():
    seen = NOW - timedelta(seconds=5)
    assert (
        evaluate_state(fake(seen, reported_manifest_at=NOW - timedelta(minutes=4)), NOW, RULES)
        == "online"
    )
    assert (
        evaluate_state(fake(seen, reported_manifest_at=NOW - timedelta(minutes=6)), NOW, RULES)
        == "degraded"
    )
    assert evaluate_state(fake(seen, telemetry={"errors": ["img 404"]}), NOW, RULES) == "degraded"
    assert evaluate_state(fake(seen, telemetry={"errors": []}), NOW, RULES) == "online"
    # Silence wins over an outdated manifest.
    late = fake(NOW - timedelta(seconds=70), reported_manifest_at=NOW - timedelta(hours=1))
    assert evaluate_state(late, NOW, RULES) == "stale"


# --- the sweep ---------------------------------------------------------------------------


def test_sweep_walks_never_online_stale_offline_online(ctx, admins):
    t0 = NOW
    device = make_device(last_seen_at=None)
    assert sweep(t0)["changed"] == 0 and device.health_state == "never"

    device.last_seen_at = t0
    db.session.flush()
    assert sweep(t0 + timedelta(seconds=5))["changed"] == 1
    assert device.health_state == "online"
    assert device.health_changed_at == t0 + timedelta(seconds=5)

    sweep(t0 + timedelta(seconds=75))
    assert device.health_state == "stale"
    # Backdated to when the silence crossed 2 intervals, not when the sweep noticed.
    assert device.health_changed_at == t0 + timedelta(seconds=60)

    sweep(t0 + timedelta(seconds=105))
    assert device.health_state == "offline"
    assert device.health_changed_at == t0 + timedelta(seconds=90)
    assert incidents(device) == []

    device.last_seen_at = t0 + timedelta(seconds=120)
    db.session.flush()
    sweep(t0 + timedelta(seconds=125))
    assert device.health_state == "online"
    assert events(device) == [
        ("never", "online"),
        ("online", "stale"),
        ("stale", "offline"),
        ("offline", "online"),
    ]
    assert incidents(device) == [] and incident_mails() == []


def test_sweep_changes_nothing_when_nothing_changed(ctx):
    make_device(last_seen_at=NOW, health_state="online", health_changed_at=NOW)
    assert sweep(NOW + timedelta(seconds=10)) == {
        "devices": 1,
        "changed": 0,
        "incidents_opened": 0,
        "incidents_closed": 0,
    }


def test_incident_opens_after_five_minutes_offline_and_mails_admins_once(ctx, admins):
    device = make_device(
        "Schule Südhang", last_seen_at=NOW, health_state="online", health_changed_at=NOW
    )
    offline_at = NOW + timedelta(seconds=90)
    sweep(NOW + timedelta(seconds=100))
    assert device.health_state == "offline" and device.health_changed_at == offline_at
    sweep(offline_at + timedelta(seconds=299))
    assert incidents(device) == [] and incident_mails() == []

    counts = sweep(offline_at + timedelta(seconds=300))
    assert counts["incidents_opened"] == 1
    [incident] = incidents(device)
    assert incident.is_open and incident.state == "offline"
    assert incident.offline_since == offline_at
    assert incident.last_seen_at == NOW
    [mail] = incident_mails()
    assert incident.open_mail_id == mail.id
    assert mail.to_addrs == admins
    assert "Schule Südhang" in mail.subject and "offline" in mail.subject
    assert mail.topic == f"kiosk-incident:{incident.id}:opened"

    # The sweep runs again (and again): still one incident, one mail.
    assert sweep(offline_at + timedelta(seconds=330))["incidents_opened"] == 0
    sweep(offline_at + timedelta(seconds=900))
    assert len(incidents(device)) == 1 and len(incident_mails()) == 1


def test_recovery_closes_the_incident_with_a_record_and_one_mail(ctx, admins):
    device = make_device(
        "Nordpark",
        last_seen_at=NOW,
        health_state="online",
        health_changed_at=NOW,
        player_version="1.0.0",
    )
    sweep(NOW + timedelta(seconds=100))
    sweep(NOW + timedelta(minutes=10))
    [incident] = incidents(device)

    back = NOW + timedelta(minutes=20)
    device.last_seen_at = back
    device.player_version = "1.0.1"
    db.session.flush()
    counts = sweep(back + timedelta(seconds=5))
    assert counts["incidents_closed"] == 1
    db.session.refresh(incident)
    assert not incident.is_open and incident.closed_at == back + timedelta(seconds=5)
    assert incident.close_reason == "recovered" and incident.recovered_state == "online"
    assert incident.recovered_player_version == "1.0.1"
    assert incident.downtime_s == int(
        (back + timedelta(seconds=5) - incident.offline_since).total_seconds()
    )
    opened, recovered = incident_mails()
    assert (incident.open_mail_id, incident.close_mail_id) == (opened.id, recovered.id)
    assert recovered.topic == f"kiosk-incident:{incident.id}:recovered"
    assert "wieder erreichbar" in recovered.subject and recovered.to_addrs == admins

    sweep(back + timedelta(seconds=35))
    assert len(incident_mails()) == 2
    # A new outage is a new incident.
    sweep(back + timedelta(minutes=10))
    assert [i.is_open for i in incidents(device)] == [False, True]
    assert len(incident_mails()) == 3


def test_standby_in_night_mode_opens_no_incident(ctx, admins):
    evening = berlin(2026, 11, 20, 22, 58)
    device = make_device(
        schedule=NIGHTS, last_seen_at=evening, health_state="online", health_changed_at=evening
    )
    sweep(
        berlin(
            2026,
            11,
            20,
            23,
            0,
        )
    )
    assert device.health_state == "standby"
    for hour in (0, 1, 3, 5):
        sweep(berlin(2026, 11, 21, hour, 0))
        assert device.health_state == "standby"
    assert incidents(device) == [] and incident_mails() == []
    # Morning: still silent, so offline from the end of the night; incident 5 min later.
    sweep(berlin(2026, 11, 21, 5, 30))
    assert device.health_state == "offline"
    assert device.health_changed_at == berlin(2026, 11, 21, 5, 30)
    sweep(berlin(2026, 11, 21, 5, 34))
    assert incidents(device) == []
    sweep(berlin(2026, 11, 21, 5, 35))
    assert len(incidents(device)) == 1


def test_offline_just_before_closing_time_opens_no_incident(ctx, admins):
    seen = berlin(2026, 11, 20, 21, 56)
    device = make_device(
        schedule=DAYTIME, last_seen_at=seen, health_state="online", health_changed_at=seen
    )
    sweep(berlin(2026, 11, 20, 21, 58))
    assert device.health_state == "offline"
    sweep(berlin(2026, 11, 20, 22, 0))
    assert device.health_state == "standby"
    sweep(berlin(2026, 11, 20, 23, 30))
    assert incidents(device) == [] and incident_mails() == []


def test_never_seen_device_raises_no_alarm(ctx, admins):
    device = make_device(paired_at=NOW - timedelta(days=3))
    sweep(NOW)
    sweep(NOW + timedelta(hours=2))
    assert device.health_state == "never" and incidents(device) == []


def test_device_seen_at_night_closes_its_incident(ctx, admins):
    noon = berlin(2026, 11, 20, 12, 0)
    device = make_device(
        schedule=NIGHTS, last_seen_at=noon, health_state="online", health_changed_at=noon
    )
    sweep(noon + timedelta(minutes=10))
    [incident] = incidents(device)
    sweep(berlin(2026, 11, 20, 23, 10))
    assert device.health_state == "standby" and incident.is_open
    device.last_seen_at = berlin(2026, 11, 20, 23, 20)
    db.session.flush()
    sweep(
        berlin(
            2026,
            11,
            20,
            23,
            20,
        )
    )
    db.session.refresh(incident)
    assert device.health_state == "standby"
    assert not incident.is_open and incident.recovered_state == "standby"
    assert len(incident_mails()) == 2


def test_revoking_closes_the_incident_without_a_recovery_mail(ctx, admins):
    device = make_device(last_seen_at=NOW, health_state="online", health_changed_at=NOW)
    sweep(NOW + timedelta(minutes=10))
    [incident] = incidents(device)
    revoke_device(CLI, device, reason="abgebaut")
    db.session.flush()
    assert sweep(NOW + timedelta(minutes=11))["incidents_closed"] == 1
    db.session.refresh(incident)
    assert incident.close_reason == "revoked" and not incident.is_open
    assert incident.close_mail_id is None and len(incident_mails()) == 1


def test_no_admin_means_no_mail_but_the_incident_is_recorded(ctx):
    device = make_device(last_seen_at=NOW, health_state="online", health_changed_at=NOW)
    sweep(NOW + timedelta(minutes=10))
    [incident] = incidents(device)
    assert incident.open_mail_id is None and incident_mails() == []


def test_two_open_incidents_for_one_device_are_impossible(ctx):
    from sqlalchemy.exc import IntegrityError

    device = make_device(last_seen_at=NOW, health_state="offline", health_changed_at=NOW)
    for _ in range(2):
        db.session.add(
            DeviceIncident(
                device_id=device.id, open_device_id=device.id, state="offline", offline_since=NOW
            )
        )
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.flush()


# --- the heartbeat path ------------------------------------------------------------------


def test_heartbeat_flips_online_at_once_and_closes_the_incident(app, pair, admins):
    device = pair("Marktplatz")
    with app.app_context():
        row = db.session.get(Device, device.id)
        assert row.health_state == "never"
        row.last_seen_at = utcnow() - timedelta(minutes=20)
        row.health_state = "online"
        row.health_changed_at = row.last_seen_at
        db.session.commit()
        sweep_health(utcnow(), RULES)
        db.session.commit()
        [incident] = incidents(row)
        assert row.health_state == "offline" and incident.is_open

    response = device.client.post("/api/device/v1/heartbeat", json={"player_version": "1.0.0"})
    assert response.status_code == 200, response.get_json()

    with app.app_context():
        row = db.session.get(Device, device.id)
        assert row.health_state == "online"
        [incident] = incidents(row)
        assert not incident.is_open and incident.recovered_state == "online"
        assert events(row)[-1] == ("offline", "online")
        assert [m.topic.rsplit(":", 1)[1] for m in incident_mails()] == ["opened", "recovered"]


def test_heartbeat_reporting_errors_is_degraded(app, pair):
    device = pair()
    response = device.client.post("/api/device/v1/heartbeat", json={"errors": ["video decode"]})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(Device, device.id).health_state == "degraded"
    response = device.client.post("/api/device/v1/heartbeat", json={"errors": []})
    assert response.status_code == 200
    with app.app_context():
        row = db.session.get(Device, device.id)
        assert row.health_state == "online"
        assert events(row) == [("never", "degraded"), ("degraded", "online")]


def test_heartbeat_inside_night_mode_is_standby_not_online(app, pair):
    device = pair()
    with app.app_context():
        row = db.session.get(Device, device.id)
        row.schedule = {"night_mode": [{"days": ALL_DAYS, "start": "00:00", "end": "24:00"}]}
        db.session.commit()
    response = device.client.post("/api/device/v1/heartbeat", json={"mode": "standby"})
    assert response.status_code == 200
    with app.app_context():
        row = db.session.get(Device, device.id)
        assert row.health_state == "standby" and events(row) == [("never", "standby")]


# --- availability ------------------------------------------------------------------------


def _event(device: Device, from_state: str, to_state: str, at: datetime) -> None:
    db.session.add(
        DeviceHealthEvent(device_id=device.id, from_state=from_state, to_state=to_state, at=at)
    )


def test_availability_counts_expected_and_online_seconds(ctx):
    device = make_device(schedule=DAYTIME, created_at=berlin(2026, 11, 1, 0, 0))
    _event(device, "never", "online", berlin(2026, 11, 19, 9, 0))  # the day before
    _event(device, "online", "offline", berlin(2026, 11, 20, 10, 0))
    _event(device, "offline", "online", berlin(2026, 11, 20, 11, 0))
    _event(device, "online", "standby", berlin(2026, 11, 20, 22, 0))
    db.session.add(
        DeviceIncident(
            device_id=device.id,
            state="offline",
            opened_at=berlin(2026, 11, 20, 10, 5),
            offline_since=berlin(2026, 11, 20, 10, 0),
            closed_at=berlin(2026, 11, 20, 11, 0),
        )
    )
    db.session.flush()
    figures = compute_availability(device, date(2026, 11, 20), berlin(2026, 11, 22, 0, 0), RULES)
    assert figures == {
        "seconds_expected": 16 * 3600,
        "seconds_online": 15 * 3600,
        "incidents_opened": 1,
    }

    # The stored rollup says the same; running it twice keeps one row.
    for _ in range(2):
        assert rollup_availability(date(2026, 11, 20), berlin(2026, 11, 22, 0, 0), RULES) == 1
    [row] = db.session.scalars(
        select(DeviceAvailability).where(DeviceAvailability.device_id == device.id)
    )
    assert (row.day, row.seconds_expected, row.seconds_online, row.incidents_opened) == (
        date(2026, 11, 20),
        57600,
        54000,
        1,
    )
    assert row.is_complete and row.ratio == 0.9375


def test_availability_of_a_running_day_is_incomplete_and_so_far(ctx):
    device = make_device(schedule=DAYTIME, created_at=berlin(2026, 11, 1, 0, 0))
    _event(device, "never", "online", berlin(2026, 11, 19, 9, 0))
    db.session.flush()
    rollup_availability(date(2026, 11, 20), berlin(2026, 11, 20, 12, 0), RULES)
    row = db.session.scalar(
        select(DeviceAvailability).where(DeviceAvailability.device_id == device.id)
    )
    assert not row.is_complete and row.seconds_expected == row.seconds_online == 6 * 3600


def test_availability_excludes_time_before_the_first_heartbeat(ctx):
    device = make_device(created_at=berlin(2026, 11, 1, 0, 0))  # no schedule: always expected
    _event(device, "never", "online", berlin(2026, 11, 20, 12, 0))
    _event(device, "online", "stale", berlin(2026, 11, 20, 18, 0))
    _event(
        device,
        "stale",
        "offline",
        berlin(
            2026,
            11,
            20,
            18,
            0,
        )
        + timedelta(seconds=30),
    )
    db.session.flush()
    figures = compute_availability(device, date(2026, 11, 20), berlin(2026, 11, 22, 0, 0), RULES)
    assert figures["seconds_expected"] == 12 * 3600
    assert figures["seconds_online"] == 6 * 3600 + 30  # stale still shows content


def test_availability_on_dst_days_has_23_and_25_hours(ctx):
    device = make_device(created_at=berlin(2026, 1, 1, 0, 0))
    _event(device, "never", "online", berlin(2026, 3, 1, 9, 0))
    db.session.flush()
    spring = compute_availability(device, date(2026, 3, 29), berlin(2026, 12, 1, 0, 0), RULES)
    autumn = compute_availability(device, date(2026, 10, 25), berlin(2026, 12, 1, 0, 0), RULES)
    assert spring["seconds_expected"] == spring["seconds_online"] == 23 * 3600
    assert autumn["seconds_expected"] == autumn["seconds_online"] == 25 * 3600


def test_availability_night_mode_is_not_expected(ctx):
    schedule = {**DAYTIME, "night_mode": [{"days": ALL_DAYS, "start": "20:00", "end": "07:00"}]}
    device = make_device(schedule=schedule, created_at=berlin(2026, 11, 1, 0, 0))
    _event(device, "never", "offline", berlin(2026, 11, 19, 9, 0))
    _event(device, "offline", "online", berlin(2026, 11, 20, 8, 0))
    db.session.flush()
    figures = compute_availability(device, date(2026, 11, 20), berlin(2026, 11, 22, 0, 0), RULES)
    assert figures["seconds_expected"] == 13 * 3600  # 07:00-20:00
    assert figures["seconds_online"] == 12 * 3600


# --- jobs --------------------------------------------------------------------------------


def test_jobs_are_registered_and_run_guarded(app):
    from cityapp.scheduler import JOBS, get_job
    from cityapp.scheduling import Every, run_guarded

    ids = {spec.id for spec in JOBS}
    assert {"kiosks.health-sweep", "kiosks.availability"} <= ids
    spec = get_job("kiosks.health-sweep")
    assert spec.schedule(app) == Every(app.config["CITYAPP_KIOSK_HEALTH_SWEEP_S"])
    with app.app_context():
        device = make_device(last_seen_at=utcnow() - timedelta(hours=1), health_state="online")
        db.session.commit()
        run = run_guarded(spec, datetime(2030, 1, 1, tzinfo=UTC))
        assert run.status == "succeeded", run.result
        assert db.session.get(Device, device.id).health_state == "offline"
        run = run_guarded(get_job("kiosks.availability"), datetime(2030, 1, 1, tzinfo=UTC))
        assert run.status == "succeeded", run.result
        assert db.session.scalar(
            select(DeviceAvailability.id).where(DeviceAvailability.device_id == device.id)
        )
