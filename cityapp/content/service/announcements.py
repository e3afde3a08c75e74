"""Announcements: levels, validity windows, channels, targeting, supersede chains, cancel."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry import shape
from sqlalchemy import select

from cityapp.auth.models import StaffUser
from cityapp.auth.service import Actor
from cityapp.content.models import (
    Announcement,
    AnnouncementLevel,
    Channel,
    ContentStatus,
)
from cityapp.content.service import common, lifecycle
from cityapp.db import db, get_or_404, utcnow
from cityapp.errors import Conflict, ValidationError
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
    return get_or_404(Announcement, announcement_id, "announcement")


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
    values = common.clean_shared_fields(KIND, data, _EDITABLE)
    if "instruction" in data:
        values["instruction"] = common.clean_translations(
            "instruction", data["instruction"], required=False, max_length=2000
        )
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

    lifecycle.check_window("valid_from", final("valid_from"), "valid_until", final("valid_until"))
    lifecycle.check_window("publish_at", final("publish_at"), "unpublish_at", final("unpublish_at"))
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
        lifecycle.go_live(item, utcnow(), None)
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
    lifecycle.audit(
        actor,
        item,
        "create",
        _label(item),
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
    lifecycle.record_update(actor, item, changes, texts=("body", "area"))
    if item.status != ContentStatus.DRAFT:
        lifecycle.emit_changed(
            item,
            "update",
            previous_district_ids=previous_district_ids,
            previous_channels=previous_channels,
        )
    return item


def _label(item: Announcement) -> str:
    return f"{item.level}: {item.title['de']}"


def publish_announcement(
    actor: Actor, item: Announcement, *, publish_at: datetime | None = None
) -> Announcement:
    """Publish now or schedule; publishing a successor retires the one it supersedes."""
    lifecycle.require_status(item, (ContentStatus.DRAFT, ContentStatus.SCHEDULED), "publish")
    now = utcnow()
    if item.valid_until is not None and item.valid_until <= now:
        raise ValidationError(errors={"valid_until": ["Lies in the past."]})
    if item.supersedes is not None:
        _check_supersedes(item, item.supersedes_id)
    lifecycle.go_live(
        item, now, publish_at or (now if item.status == ContentStatus.DRAFT else None)
    )
    lifecycle.check_window("publish_at", item.publish_at, "unpublish_at", item.unpublish_at)
    lifecycle.record_publication(actor, item, _label(item))
    if item.status == ContentStatus.PUBLISHED and item.supersedes is not None:
        _retire_superseded(actor, item.supersedes, now)
    return item


def _retire_superseded(actor: Actor, old: Announcement, now: datetime) -> None:
    if old.status in (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED):
        lifecycle.write_tombstone(old, "supersede", now)
        old.status = ContentStatus.ARCHIVED
        lifecycle.audit(actor, old, "supersede", f"superseded by {old.superseded_by.id}")
        lifecycle.emit_changed(old, "supersede")


def unpublish_announcement(actor: Actor, item: Announcement) -> Announcement:
    """Take it back to draft (withdrawn from the public)."""
    return lifecycle.unpublish_item(actor, item)


def archive_announcement(actor: Actor, item: Announcement) -> Announcement:
    """No longer public, kept for the record."""
    return lifecycle.archive_item(actor, item)


def cancel_announcement(actor: Actor, item: Announcement, *, reason: str = "") -> Announcement:
    """Withdraw before it expires; CAP consumers get a Cancel message referencing it."""
    lifecycle.require_status(item, (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED), "cancel")
    if item.cancelled_at is not None:
        raise Conflict("Already cancelled.")
    now = utcnow()
    if lifecycle.is_visible(item, now):
        lifecycle.write_tombstone(item, "cancel", now)
    item.cancelled_at = now
    item.cancel_reason = reason.strip() or None
    db.session.flush()
    lifecycle.audit(actor, item, "cancel", reason[:200] or item.title["de"])
    lifecycle.emit_changed(item, "cancel")
    return item


def delete_announcement(actor: Actor, item: Announcement) -> None:
    """Delete (prefer cancel for ones the public has seen); a tombstone if it was public."""
    lifecycle.delete_item(actor, item)


def expire_announcements(actor: Actor, now: datetime) -> dict[str, int]:
    """The job: go live at publish_at, archive at valid_until/unpublish_at or supersession."""

    def retire_predecessor(item: Announcement) -> None:
        if item.supersedes is not None:
            _retire_superseded(actor, item.supersedes, now)

    published, expired = lifecycle.expire_items(
        actor, Announcement, now, on_live=retire_predecessor
    )
    return {"announcements_published": published, "announcements_expired": expired}
