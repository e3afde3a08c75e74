"""Scheduled stele work: the health sweep, the availability rollup and housekeeping."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app

from cityapp.db import utcnow
from cityapp.kiosks.service import availability, commands, health, pairing
from cityapp.kiosks.service.health_rules import HealthRules
from cityapp.scheduling import Every, JobSpec


def sweep() -> dict[str, int]:
    """Re-evaluate every stele's health; open and close incidents (committed by the
    scheduler's guarded run, which also queues the admin mail with it)."""
    return health.sweep_health(utcnow())


def rollup() -> dict[str, int]:
    """Refresh availability for yesterday (complete) and today (so far); purge old events."""
    now = utcnow()
    rules = HealthRules.from_config()
    today = availability.local_today(now, rules.timezone)
    counts = {
        "yesterday": availability.rollup_availability(today - timedelta(days=1), now, rules),
        "today": availability.rollup_availability(today, now, rules),
    }
    counts["events_purged"] = health.purge_health_events(
        now, current_app.config["CITYAPP_KIOSK_HEALTH_EVENT_RETENTION_DAYS"]
    )
    return counts


def housekeeping() -> dict[str, int]:
    """Expire commands nobody picked up in time; delete finished pairing requests."""
    now = utcnow()
    return {
        "commands_expired": commands.expire_commands(now),
        "pairing_requests_purged": pairing.purge_pairing_requests(now),
    }


JOBS = (
    JobSpec(
        id="kiosks.health-sweep",
        func=sweep,
        schedule=lambda app: Every(app.config["CITYAPP_KIOSK_HEALTH_SWEEP_S"]),
        description="stele health states, incidents and recovery mails",
        misfire_grace_s=30,
    ),
    JobSpec(
        id="kiosks.availability",
        func=rollup,
        schedule=lambda app: Every(app.config["CITYAPP_KIOSK_AVAILABILITY_INTERVAL_S"]),
        description="stele availability per device per day",
    ),
    JobSpec(
        id="kiosks.housekeeping",
        func=housekeeping,
        schedule=lambda app: Every(300),
        description="expire stale stele commands, purge finished pairing requests",
    ),
)
