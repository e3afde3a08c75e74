"""Incidents: a stele offline inside its operating hours for 5 minutes opens one (``offline``
only happens inside operating hours outside night mode, so a stele switched off on schedule
never raises one); being seen again closes it with a recovery record. Admins get one mail per
opening and one per recovery, queued in the same transaction as the record."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cityapp.auth.models import Role, StaffUser
from cityapp.db import db
from cityapp.kiosks.models import Device, DeviceIncident, IncidentCloseReason
from cityapp.kiosks.service.health_rules import HealthRules
from cityapp.mail.service import enqueue_mail

log = logging.getLogger(__name__)

MAIL_TOPIC = "kiosk-incident"


def admin_recipients() -> list[str]:
    return list(
        db.session.scalars(
            select(StaffUser.email)
            .where(StaffUser.role == Role.ADMIN, StaffUser.is_active.is_(True))
            .order_by(StaffUser.email)
        )
    )


def _local(value: datetime | None, tz: str) -> str:
    if value is None:
        return "nie"
    return value.astimezone(ZoneInfo(tz)).strftime("%d.%m.%Y %H:%M")


def _notify(device: Device, incident: DeviceIncident, *, opened: bool, rules: HealthRules):
    recipients = admin_recipients()
    if not recipients:
        log.warning("incident %s (device %s): no active admin to notify", incident.id, device.id)
        return None
    district = device.district.name if device.district else "ohne Ortsteil"
    if opened:
        subject = f"Stele „{device.name}“ ist offline"
        body = (
            f"Die Stele „{device.name}“ ({district}, Gerät {device.id}) meldet sich seit "
            f"{_local(incident.offline_since, rules.timezone)} Uhr nicht mehr, obwohl sie "
            f"laut Zeitplan in Betrieb sein sollte.\n\n"
            f"Zuletzt gesehen: {_local(device.last_seen_at, rules.timezone)} Uhr\n"
            f"Player-Version: {device.player_version or 'unbekannt'}\n"
            f"Störung Nr. {incident.id}\n\n"
            "Sie erhalten eine weitere Nachricht, sobald die Stele wieder erreichbar ist.\n"
        )
    else:
        minutes = round((incident.downtime_s or 0) / 60)
        subject = f"Stele „{device.name}“ ist wieder erreichbar"
        body = (
            f"Die Stele „{device.name}“ ({district}, Gerät {device.id}) meldet sich seit "
            f"{_local(incident.closed_at, rules.timezone)} Uhr wieder.\n\n"
            f"Ausfall seit: {_local(incident.offline_since, rules.timezone)} Uhr "
            f"(etwa {minutes} Minuten)\n"
            f"Zustand jetzt: {incident.recovered_state}\n"
            f"Störung Nr. {incident.id} ist geschlossen.\n"
        )
    event = "opened" if opened else "recovered"
    message = enqueue_mail(
        to=recipients, subject=subject, body=body, topic=f"{MAIL_TOPIC}:{incident.id}:{event}"
    )
    return message.id


def get_open_incident(device_id: int) -> DeviceIncident | None:
    return db.session.scalar(
        select(DeviceIncident).where(DeviceIncident.open_device_id == device_id)
    )


def open_incident(
    device: Device, now: datetime, rules: HealthRules, *, notify: bool = True
) -> DeviceIncident:
    """Record an incident for a device that is offline inside its operating hours; queues
    the admin mail in the same transaction."""
    incident = DeviceIncident(
        device_id=device.id,
        open_device_id=device.id,
        state=device.health_state,
        opened_at=now,
        offline_since=device.health_changed_at or now,
        last_seen_at=device.last_seen_at,
    )
    db.session.add(incident)
    db.session.flush()
    if notify:
        incident.open_mail_id = _notify(device, incident, opened=True, rules=rules)
    log.info("incident %s opened for device %s", incident.id, device.id)
    return incident


def close_incident(
    incident: DeviceIncident,
    device: Device,
    now: datetime,
    rules: HealthRules,
    *,
    reason: str = IncidentCloseReason.RECOVERED,
) -> DeviceIncident:
    """Close with the recovery record; a recovery (not a revocation) mails the admins."""
    incident.closed_at = now
    incident.open_device_id = None
    incident.close_reason = reason
    incident.recovered_state = device.health_state
    incident.recovered_player_version = device.player_version
    db.session.flush()
    if reason == IncidentCloseReason.RECOVERED:
        incident.close_mail_id = _notify(device, incident, opened=False, rules=rules)
    log.info("incident %s closed for device %s (%s)", incident.id, device.id, reason)
    return incident
