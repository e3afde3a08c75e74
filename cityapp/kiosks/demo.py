"""Demo steles for Musterstadt: one paired and online, one paired but never seen, one offline
with an open incident; each with operating hours, night mode and content for its district.

Idempotent: steles are found by name and the "demo" group; existing ones are left alone.
The online stele's secret exists only in the output of the command that created it (or of
``flask kiosks demo-secret``, which issues a new one); only its hash is stored.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from cityapp.auth.service import Actor
from cityapp.auth.service.credentials import hash_secret
from cityapp.content.models import Announcement
from cityapp.content.service import announcements
from cityapp.db import db, utcnow
from cityapp.errors import NotFound
from cityapp.kiosks.models import Device, DeviceIncident, HealthState
from cityapp.kiosks.service.auth import new_device_secret
from cityapp.kiosks.service.devices import create_device
from cityapp.kiosks.service.health import add_event
from cityapp.kiosks.service.health_rules import HealthRules, evaluate_state
from cityapp.places.models import District

DEMO_GROUP = "demo"
ALL_DAYS = [0, 1, 2, 3, 4, 5, 6]
WEEKDAYS = [0, 1, 2, 3, 4]

# name, district slug, (lat, lon), schedule, role in the demo
DEMO_STELES: list[tuple[str, str, tuple[float, float], dict, str]] = [
    (
        "Marktplatz",
        "altstadt",
        (51.3095, 9.4502),
        {
            # Powered 05:00-01:00; screen dark 23:00-05:30: on show 05:30-23:00.
            "operating_hours": [{"days": ALL_DAYS, "start": "05:00", "end": "01:00"}],
            "night_mode": [{"days": ALL_DAYS, "start": "23:00", "end": "05:30"}],
        },
        "online",
    ),
    (
        "Nordpark",
        "nordviertel",
        (51.3301, 9.4498),
        {
            "operating_hours": [
                {"days": WEEKDAYS, "start": "06:00", "end": "22:00"},
                {"days": [5, 6], "start": "08:00", "end": "22:00"},
            ],
            "night_mode": [{"days": ALL_DAYS, "start": "21:00", "end": "06:30"}],
        },
        "never",
    ),
    (
        "Schule Südhang",
        "suedhang",
        (51.2899, 9.4511),
        {
            "operating_hours": [],  # always powered (solar buffer)
            "night_mode": [{"days": ALL_DAYS, "start": "00:30", "end": "05:00"}],
        },
        "offline",
    ),
]

# Stele content per district where the content demo has none for the stele channel.
DEMO_STELE_ANNOUNCEMENTS = [
    {
        "title": {"de": "Wochenmarkt im Nordviertel", "en": "Farmers' market in Nordviertel"},
        "body": {
            "de": "<p>Jeden Donnerstag von 8 bis 13 Uhr am Nordpark: Obst, Gemüse, Käse und "
            "Blumen aus der Region.</p>"
        },
        "category": "event",
        "level": "info",
        "channels": ["app", "stele"],
        "slugs": ["nordviertel"],
    },
    {
        "title": {"de": "Schulweg Südhang: Baustellenampel"},
        "body": {
            "de": "<p>Wegen Leitungsarbeiten regelt eine Ampel den Verkehr vor der "
            "Grundschule. Bitte nutzen Sie den Überweg am Lindenweg.</p>"
        },
        "category": "road_closure",
        "level": "notice",
        "channels": ["app", "stele"],
        "slugs": ["suedhang"],
        "valid_days": 21,
    },
]


def _find(name: str) -> Device | None:
    for device in db.session.scalars(select(Device).where(Device.name == name)):
        if DEMO_GROUP in (device.groups or []):
            return device
    return None


def _district_id(slug: str) -> int | None:
    return db.session.scalar(select(District.id).where(District.slug == slug))


def _seed_announcements(actor: Actor, now: datetime) -> int:
    known = {(title or {}).get("de") for title in db.session.scalars(select(Announcement.title))}
    created = 0
    for spec in DEMO_STELE_ANNOUNCEMENTS:
        if spec["title"]["de"] in known:
            continue
        data = {k: v for k, v in spec.items() if k not in {"slugs", "valid_days"}}
        data["district_ids"] = [i for i in map(_district_id, spec["slugs"]) if i is not None]
        if spec.get("valid_days"):
            data["valid_from"] = now
            data["valid_until"] = now + timedelta(days=spec["valid_days"])
        item = announcements.create_announcement(actor, **data)
        announcements.publish_announcement(actor, item)
        created += 1
    return created


def _make(actor: Actor, name: str, slug: str, location: tuple[float, float], schedule: dict):
    return create_device(
        actor,
        name=name,
        district_id=_district_id(slug),
        lat=location[0],
        lon=location[1],
        groups=[DEMO_GROUP],
        orientation="portrait",
        resolution="1080x1920",
        model="Stele 55 Zoll (Demo)",
        schedule=schedule,
    )


def seed_kiosks(actor: Actor, now: datetime | None = None) -> dict[str, Any]:
    """Create the demo steles (once). Returns counts, plus ``stele_secret`` when the online
    stele was created in this run (for the command's output only; never stored in plain)."""
    now = now or utcnow()
    rules = HealthRules.from_config()
    result: dict[str, Any] = {
        "steles_created": 0,
        "stele_announcements_created": _seed_announcements(actor, now),
    }
    for name, slug, location, schedule, role in DEMO_STELES:
        if _find(name) is not None:
            continue
        device = _make(actor, name, slug, location, schedule)
        device.paired_at = now - timedelta(days=14)
        result["steles_created"] += 1
        if role == "never":
            # Claimed at the screen, but the player never collected its secret.
            continue
        device.player_version = "1.0.0"
        device.secret_rotated_at = device.paired_at
        first_seen = device.paired_at + timedelta(minutes=2)
        if role == "online":
            secret = new_device_secret()
            device.secret_hash = hash_secret(secret)
            result["stele_secret"] = secret
            device.last_seen_at = now
        else:
            device.secret_hash = hash_secret(new_device_secret())  # the lost player's
            device.last_seen_at = now - timedelta(hours=3)
        add_event(device, HealthState.NEVER, HealthState.ONLINE, first_seen)
        device.health_state = evaluate_state(device, now, rules)
        device.health_changed_at = now
        if role == "offline":
            offline_since = device.last_seen_at + rules.offline_after
            add_event(device, HealthState.ONLINE, HealthState.OFFLINE, offline_since)
            if device.health_state != HealthState.OFFLINE:
                add_event(device, HealthState.OFFLINE, device.health_state, now)
            else:
                device.health_changed_at = offline_since
            # No mail: the demo should not write to the demo admins' inboxes.
            db.session.add(
                DeviceIncident(
                    device_id=device.id,
                    open_device_id=device.id,
                    state=HealthState.OFFLINE,
                    opened_at=offline_since + timedelta(seconds=rules.incident_after_s),
                    offline_since=offline_since,
                    last_seen_at=device.last_seen_at,
                )
            )
        elif device.health_state != HealthState.ONLINE:
            add_event(device, HealthState.ONLINE, device.health_state, now)
    db.session.flush()
    return result


def issue_demo_secret(name: str = DEMO_STELES[0][0]) -> tuple[Device, str]:
    """Give the online demo stele a new secret (the old one stops working) and return it
    once; nothing but its hash is stored."""
    device = _find(name)
    if device is None:
        raise NotFound(f"No demo stele {name!r}; run `flask seed demo` first.")
    secret = new_device_secret()
    device.secret_hash = hash_secret(secret)
    device.pending_secret_hash = None
    device.secret_rotated_at = utcnow()
    return device, secret
