"""Announcements: levels, validity windows, channels, targeting, supersede chains, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select

from cityapp.auth.models import StaffUser
from cityapp.auth.service import Actor, record_audit
from cityapp.content.models import (
    Announcement,
    AnnouncementCategory,
    AnnouncementLevel,
    Channel,
    ContentStatus,
)
from cityapp.content.service import common
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError
from cityapp.places.models import District
from cityapp.places.service import districts_touching, parse_area

KIND = "announcement"
_NEEDS_WINDOW = (AnnouncementLevel.WARNING, AnnouncementLevel.EMERGENCY)
_EDITABLE = {
    "title",
    "body",
    "instruction",
    "category",
    "level",
    "valid_from",
    "valid_until",
    "channels",
    "district_ids",
    "area",
    "sender_name",
    "contact",
    "supersedes_id",
    "publish_at",
    "unpublish_at",
}


def get_announcement(announcement_id: int) -> Announcement:
    item = db.session.get(Announcement, announcement_id)
    if item is None:
        raise NotFound(f"No announcement {announcement_id}.")
    return item


def _check_supersedes(item: Announcement, target_id: int | None) -> Announcement | None:
    if target_id is None:
        return None
    target = db.session.get(Announcement, target_id)
    if target is None or target.id == item.id:
        raise ValidationError(errors={"supersedes_id": ["Unknown announcement."]})
    if target.status == ContentStatus.DRAFT or target.cancelled_at is not None:
        raise ValidationError(
            errors={"supersedes_id": ["Only published, not cancelled announcements."]}
        )
    successor = target.superseded_by
    if successor is not None and successor.id != item.id:
        raise Conflict(
            f"Announcement {target.id} is already superseded by {successor.id}.",
            errors={"supersedes_id": ["Already superseded."]},
        )
    return target


def _apply(item: Announcement, data: dict[str, Any]) -> dict[str, Any]:
    unknown = set(data) - _EDITABLE
    if unknown:
        raise ValidationError(errors={k: ["Unknown field."] for k in unknown})
    values: dict[str, Any] = {}
    if "title" in data:
        values["title"] = common.clean_translations("title", data["title"], max_length=300)
    if "body" in data:
        values["body"] = common.clean_html_translations("body", data["body"])
    if "instruction" in data:
        values["instruction"] = common.clean_translations(
            "instruction", data["instruction"], required=False, max_length=2000
        )
    if "category" in data:
        if data["category"] not in {c.value for c in AnnouncementCategory}:
            raise ValidationError(errors={"category": [f"Unknown category {data['category']!r}."]})
        values["category"] = data["category"]
    if "level" in data:
        if data["level"] not in {lv.value for lv in AnnouncementLevel}:
            raise ValidationError(errors={"level": [f"Unknown level {data['level']!r}."]})
        values["level"] = data["level"]
    if "channels" in data:
        channels = set(data["channels"])
        if not channels or channels - {c.value for c in Channel}:
            raise ValidationError(errors={"channels": ["One or more of app, stele, push."]})
        values["is_for_app"] = Channel.APP in channels
        values["is_for_stele"] = Channel.STELE in channels
        values["is_for_push"] = Channel.PUSH in channels
    for key in (
        "valid_from",
        "valid_until",
        "sender_name",
        "contact",
        "publish_at",
        "unpublish_at",
    ):
        if key in data:
            values[key] = data[key]
    if "area" in data:
        if data["area"] is not None:
            parse_area("area", data["area"])
        values["area"] = data["area"]
    if "supersedes_id" in data:
        _check_supersedes(item, data["supersedes_id"])
        values["supersedes_id"] = data["supersedes_id"]

    def final(key: str) -> Any:
        return values.get(key, getattr(item, key))

    common.check_window("valid_from", final("valid_from"), "valid_until", final("valid_until"))
    common.check_window("publish_at", final("publish_at"), "unpublish_at", final("unpublish_at"))
    if final("level") in _NEEDS_WINDOW:
        missing = {
            key: ["Required for warnings and emergencies."]
            for key in ("valid_from", "valid_until")
            if final(key) is None
        }
        if missing:
            raise ValidationError(
                "Warnings and emergencies need a validity window.", errors=missing
            )
    area = final("area")
    if area is not None and data.get("district_ids"):
        raise ValidationError(errors={"area": ["Target either districts or an area, not both."]})
    changes = common.changes_of(item, values)
    for key, value in values.items():
        setattr(item, key, value)
    if "supersedes_id" in values:
        item.supersedes = (
            db.session.get(Announcement, values["supersedes_id"])
            if values["supersedes_id"]
            else None
        )
    if "area" in values and area is not None:
        ids = districts_touching(shape(area))
        item.districts = list(db.session.scalars(select(District).where(District.id.in_(ids))))
    elif "district_ids" in data:
        districts = common.load_districts("district_ids", data["district_ids"])
        if [d.id for d in item.districts] != [d.id for d in districts]:
            changes["district_ids"] = [d.id for d in districts]
        item.districts = districts
    elif "area" in values:
        item.districts = []
    if item.status in (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED) and "publish_at" in values:
        if item.publish_at is None:
            raise ValidationError(errors={"publish_at": ["Required while scheduled or published."]})
        common.go_live(item, utcnow(), None)
    item.search_text = common.build_search_text(item.title, item.body, item.instruction)
    return changes


def create_announcement(actor: Actor, **data: Any) -> Announcement:
    """A new draft; warnings and emergencies need valid_from and valid_until."""
    for required in ("title", "body", "category", "level"):
        if required not in data:
            raise ValidationError(errors={required: ["Required."]})
    data.setdefault("channels", ["app", "stele"])
    item = Announcement(
        status=ContentStatus.DRAFT, author_id=actor.id if isinstance(actor, StaffUser) else None
    )
    with db.session.no_autoflush:
        _apply(item, data)
    db.session.add(item)
    db.session.flush()
    record_audit(
        actor,
        "announcement.create",
        object_type="announcement",
        object_id=item.id,
        summary=f"{item.level}: {item.title['de']}",
        changes={"supersedes_id": item.supersedes_id} if item.supersedes_id else None,
    )
    return item


def update_announcement(actor: Actor, item: Announcement, **data: Any) -> Announcement:
    if item.cancelled_at is not None:
        raise Conflict("A cancelled announcement cannot be changed.")
    previous_district_ids = [d.id for d in item.districts]
    previous_channels = item.channels
    changes = _apply(item, data)
    if not changes:
        return item
    item.updated_at = utcnow()  # also when only the districts (another table) changed
    db.session.flush()
    record_audit(
        actor,
        "announcement.update",
        object_type="announcement",
        object_id=item.id,
        summary="changed " + ", ".join(sorted(changes)),
        changes={k: ("(text)" if k in ("body", "area") else v) for k, v in changes.items()},
    )
    if item.status != ContentStatus.DRAFT:
        common.emit_changed(
            KIND,
            item,
            "update",
            item.channels,
            previous_district_ids=previous_district_ids,
            previous_channels=previous_channels,
        )
    return item


def is_visible(item: Announcement, now: datetime) -> bool:
    successor = item.superseded_by
    return (
        item.status in (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED)
        and item.publish_at is not None
        and item.publish_at <= now
        and (item.unpublish_at is None or item.unpublish_at > now)
        and (item.valid_until is None or item.valid_until > now)
        and item.cancelled_at is None
        and not (
            successor is not None
            and successor.status != ContentStatus.DRAFT
            and successor.publish_at is not None
            and successor.publish_at <= now
        )
    )


def publish_announcement(
    actor: Actor, item: Announcement, *, publish_at: datetime | None = None
) -> Announcement:
    """Publish now or schedule; publishing a successor retires the one it supersedes."""
    common.require_status(item, (ContentStatus.DRAFT, ContentStatus.SCHEDULED), "publish")
    now = utcnow()
    if item.valid_until is not None and item.valid_until <= now:
        raise ValidationError(errors={"valid_until": ["Lies in the past."]})
    if item.supersedes is not None:
        _check_supersedes(item, item.supersedes_id)
    common.go_live(item, now, publish_at or (now if item.status == ContentStatus.DRAFT else None))
    common.check_window("publish_at", item.publish_at, "unpublish_at", item.unpublish_at)
    db.session.flush()
    action = "schedule" if item.status == ContentStatus.SCHEDULED else "publish"
    record_audit(
        actor,
        f"announcement.{action}",
        object_type="announcement",
        object_id=item.id,
        summary=f"{item.level}: {item.title['de']}",
        changes={"publish_at": item.publish_at.isoformat()},
    )
    common.emit_changed(KIND, item, "publish", item.channels)
    if item.status == ContentStatus.PUBLISHED and item.supersedes is not None:
        _retire_superseded(actor, item.supersedes, now)
    return item


def _retire_superseded(actor: Actor, old: Announcement, now: datetime) -> None:
    if old.status in (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED):
        common.write_tombstone(KIND, old, "supersede", now)
        old.status = ContentStatus.ARCHIVED
        record_audit(
            actor,
            "announcement.supersede",
            object_type="announcement",
            object_id=old.id,
            summary=f"superseded by {old.superseded_by.id}",
        )
        common.emit_changed(KIND, old, "supersede", old.channels)


def unpublish_announcement(actor: Actor, item: Announcement) -> Announcement:
    common.require_status(
        item,
        (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED, ContentStatus.ARCHIVED),
        "unpublish",
    )
    return _leave_public(actor, item, ContentStatus.DRAFT, "unpublish")


def archive_announcement(actor: Actor, item: Announcement) -> Announcement:
    common.require_status(item, (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED), "archive")
    return _leave_public(actor, item, ContentStatus.ARCHIVED, "archive")


def cancel_announcement(actor: Actor, item: Announcement, *, reason: str = "") -> Announcement:
    """Withdraw before it expires; CAP consumers get a Cancel message referencing it."""
    common.require_status(item, (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED), "cancel")
    if item.cancelled_at is not None:
        raise Conflict("Already cancelled.")
    now = utcnow()
    if is_visible(item, now):
        common.write_tombstone(KIND, item, "cancel", now)
    item.cancelled_at = now
    item.cancel_reason = reason.strip() or None
    db.session.flush()
    record_audit(
        actor,
        "announcement.cancel",
        object_type="announcement",
        object_id=item.id,
        summary=reason[:200] or item.title["de"],
    )
    common.emit_changed(KIND, item, "cancel", item.channels)
    return item


def _leave_public(actor: Actor, item: Announcement, status: str, action: str) -> Announcement:
    now = utcnow()
    if is_visible(item, now):
        common.write_tombstone(KIND, item, action, now)
    item.status = status
    db.session.flush()
    record_audit(
        actor,
        f"announcement.{action}",
        object_type="announcement",
        object_id=item.id,
        summary=item.title["de"],
    )
    common.emit_changed(KIND, item, action, item.channels)
    return item


def delete_announcement(actor: Actor, item: Announcement) -> None:
    now = utcnow()
    if is_visible(item, now) or item.first_published_at is not None:
        common.write_tombstone(KIND, item, "delete", now)
    common.emit_changed(KIND, item, "delete", item.channels)
    record_audit(
        actor,
        "announcement.delete",
        object_type="announcement",
        object_id=item.id,
        summary=item.title["de"],
    )
    db.session.delete(item)
    db.session.flush()


def expire_announcements(actor: Actor, now: datetime) -> dict[str, int]:
    """The job: go live at publish_at, archive at valid_until/unpublish_at or supersession."""
    went_live = list(
        db.session.scalars(
            select(Announcement).where(
                Announcement.status == ContentStatus.SCHEDULED, Announcement.publish_at <= now
            )
        )
    )
    for item in went_live:
        item.status = ContentStatus.PUBLISHED
        item.first_published_at = item.first_published_at or item.publish_at
        record_audit(
            actor,
            "announcement.publish",
            object_type="announcement",
            object_id=item.id,
            summary="scheduled publication",
        )
        common.emit_changed(KIND, item, "publish", item.channels)
        if item.supersedes is not None:
            _retire_superseded(actor, item.supersedes, now)
    db.session.flush()
    expired = [
        item
        for item in db.session.scalars(
            select(Announcement).where(Announcement.status == ContentStatus.PUBLISHED)
        )
        if item.cancelled_at is not None or not is_visible(item, now)
    ]
    for item in expired:
        if item.cancelled_at is None:
            common.write_tombstone(KIND, item, "expire", now)
        item.status = ContentStatus.ARCHIVED
        record_audit(
            actor,
            "announcement.archive",
            object_type="announcement",
            object_id=item.id,
            summary="cancelled" if item.cancelled_at else "expired",
        )
        common.emit_changed(KIND, item, "expire", item.channels)
    db.session.flush()
    return {"announcements_published": len(went_live), "announcements_expired": len(expired)}
