"""CAP 1.2 (OASIS Common Alerting Protocol) messages for warning and emergency announcements."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask import current_app
from shapely.geometry import shape
from sqlalchemy import or_, select

from cityapp.content.models import Announcement, AnnouncementLevel, ContentStatus
from cityapp.content.present import base_url
from cityapp.content.service.common import html_to_text
from cityapp.content.service.visibility import visible
from cityapp.db import db
from cityapp.http.xml_output import xml_bytes

NS = "urn:oasis:names:tc:emergency:cap:1.2"
CAP_LEVELS = (AnnouncementLevel.WARNING, AnnouncementLevel.EMERGENCY)
# How long a Cancel stays in the CAP index after the cancellation.
CANCEL_LINGER = timedelta(hours=24)

_CATEGORY = {
    "road_closure": ("Transport", "Straßensperrung"),
    "water": ("Infra", "Störung der Wasserversorgung"),
    "waste_collection": ("Other", "Abfallentsorgung"),
    "event": ("Other", "Veranstaltung"),
    "public_safety": ("Safety", "Gefahr für die öffentliche Sicherheit"),
    "other": ("Other", "Hinweis"),
}
# level -> (urgency, severity, certainty)
_GRADING = {
    "emergency": ("Immediate", "Extreme", "Observed"),
    "warning": ("Expected", "Severe", "Likely"),
}
_LANGUAGE_TAGS = {"de": "de-DE", "en": "en-GB", "de-x-ls": "de-DE-x-ls"}


def cap_time(value: datetime) -> str:
    """CAP's dateTime: seconds precision with an explicit offset ("Z" is not allowed)."""
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


def sender() -> str:
    return current_app.config["CITYAPP_CAP_SENDER"]


def identifier(item: Announcement, cancel: bool = False) -> str:
    host = urlsplit(base_url()).hostname or "cityapp"
    return f"{host}:announcement:{item.id}" + (":cancel" if cancel else "")


def sent_at(item: Announcement) -> datetime:
    return item.first_published_at or item.publish_at or item.created_at


def _reference(item: Announcement) -> str:
    return f"{sender()},{identifier(item)},{cap_time(sent_at(item))}"


def _chain(item: Announcement) -> list[Announcement]:
    """The announcements this one updates, oldest first."""
    chain, seen = [], {item.id}
    current = item.supersedes
    while current is not None and current.id not in seen:
        chain.append(current)
        seen.add(current.id)
        current = current.supersedes
    return list(reversed(chain))


def cap_items(now: datetime) -> list[tuple[Announcement, bool]]:
    """(announcement, is_cancel) for the CAP index: active warnings/emergencies, plus recent
    cancellations so consumers learn to withdraw them."""
    active = db.session.scalars(
        select(Announcement)
        .where(visible(Announcement, now), Announcement.level.in_(CAP_LEVELS))
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc())
    )
    cancelled = db.session.scalars(
        select(Announcement)
        .where(
            Announcement.level.in_(CAP_LEVELS),
            Announcement.cancelled_at > now - CANCEL_LINGER,
            Announcement.status != ContentStatus.DRAFT,
            or_(Announcement.valid_until.is_(None), Announcement.valid_until > now),
        )
        .order_by(Announcement.cancelled_at.desc())
    )
    return [(a, False) for a in active] + [(a, True) for a in cancelled]


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS}}}{tag}")
    if text is not None:
        element.text = text
    return element


def _polygons(item: Announcement) -> list[str]:
    geometries = []
    if item.area:
        geometries.append(shape(item.area))
    else:
        geometries.extend(shape(d.polygon) for d in item.districts if d.polygon)
    rings = []
    for geometry in geometries:
        for polygon in getattr(geometry, "geoms", [geometry]):
            coords = list(polygon.exterior.coords)
            rings.append(" ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in coords))
    return rings


def _info(alert: ET.Element, item: Announcement, language: str) -> None:
    def text(values: dict | None) -> str | None:
        if not values:
            return None
        return values.get(language) or values.get("de")

    info = _sub(alert, "info")
    _sub(info, "language", _LANGUAGE_TAGS.get(language, language))
    category, event = _CATEGORY.get(item.category, ("Other", "Hinweis"))
    _sub(info, "category", category)
    _sub(info, "event", event)
    if item.category == "road_closure":
        _sub(info, "responseType", "Avoid")
    urgency, severity, certainty = _GRADING[item.level]
    _sub(info, "urgency", urgency)
    _sub(info, "severity", severity)
    _sub(info, "certainty", certainty)
    if item.valid_from:
        _sub(info, "effective", cap_time(item.valid_from))
    if item.valid_until:
        _sub(info, "expires", cap_time(item.valid_until))
    _sub(info, "senderName", item.sender_name or current_app.config["CITYAPP_NAME"])
    _sub(info, "headline", text(item.title))
    _sub(info, "description", html_to_text(text(item.body) or ""))
    if item.instruction:
        _sub(info, "instruction", text(item.instruction))
    _sub(info, "web", f"{base_url()}/api/v1/announcements/{item.id}")
    if item.contact:
        _sub(info, "contact", item.contact)
    area = _sub(info, "area")
    names = ", ".join(d.name for d in item.districts) or current_app.config["CITYAPP_NAME"]
    _sub(area, "areaDesc", names)
    for ring in _polygons(item):
        _sub(area, "polygon", ring)
    for district in item.districts:
        if district.ars:
            geocode = _sub(area, "geocode")
            _sub(geocode, "valueName", "ARS")
            _sub(geocode, "value", district.ars)


def build_alert(item: Announcement, *, cancel: bool = False) -> bytes:
    """One CAP alert: Alert, Update (when it supersedes) or Cancel (when cancelled)."""
    ET.register_namespace("", NS)
    alert = ET.Element(f"{{{NS}}}alert")
    _sub(alert, "identifier", identifier(item, cancel))
    _sub(alert, "sender", sender())
    _sub(alert, "sent", cap_time(item.cancelled_at if cancel else sent_at(item)))
    _sub(alert, "status", "Actual")
    chain = _chain(item)
    if cancel:
        _sub(alert, "msgType", "Cancel")
    else:
        _sub(alert, "msgType", "Update" if chain else "Alert")
    _sub(alert, "scope", "Public")
    if cancel:
        _sub(alert, "note", item.cancel_reason or "Die Meldung wurde aufgehoben.")
    references = [_reference(a) for a in chain] + ([_reference(item)] if cancel else [])
    if references:
        _sub(alert, "references", " ".join(references))
    languages = ["de"] + [lang for lang in sorted(item.title) if lang != "de"]
    for language in languages:
        _info(alert, item, language)
    return xml_bytes(alert)
