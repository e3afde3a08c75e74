"""News items: create, edit, publish/schedule/unpublish/archive, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select

from cityapp.auth.models import StaffUser
from cityapp.auth.service import Actor, record_audit
from cityapp.content.models import ContentStatus, NewsItem
from cityapp.content.service import common
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError
from cityapp.media.models import MediaAsset

KIND = "news"
CHANNELS = ["app", "stele"]
_EDITABLE = {
    "title",
    "summary",
    "body",
    "category",
    "tags",
    "images",
    "district_ids",
    "source",
    "external_id",
    "is_pinned",
    "publish_at",
    "unpublish_at",
}


def get_news(item_id: int) -> NewsItem:
    item = db.session.get(NewsItem, item_id)
    if item is None:
        raise NotFound(f"No news item {item_id}.")
    return item


def _clean_images(images: Any) -> list[dict]:
    cleaned = []
    for index, image in enumerate(images or []):
        field = f"images.{index}"
        sha = image.get("sha256")
        asset = db.session.scalar(select(MediaAsset).where(MediaAsset.sha256 == sha))
        if asset is None or not asset.is_public:
            raise ValidationError(errors={f"{field}.sha256": ["Unknown media; upload it first."]})
        alt = common.clean_translations(f"{field}.alt", image.get("alt"), max_length=500)
        cleaned.append({"sha256": sha, "alt": alt})
    return cleaned


def _apply(item: NewsItem, data: dict[str, Any]) -> dict[str, Any]:
    """Validate and set the given fields; return what changed (for the audit log)."""
    unknown = set(data) - _EDITABLE
    if unknown:
        raise ValidationError(errors={k: ["Unknown field."] for k in unknown})
    values: dict[str, Any] = {}
    if "title" in data:
        values["title"] = common.clean_translations("title", data["title"], max_length=300)
    if "summary" in data:
        values["summary"] = common.clean_translations(
            "summary", data["summary"], required=False, max_length=1000
        )
    if "body" in data:
        values["body"] = common.clean_html_translations("body", data["body"])
    if "category" in data:
        if data["category"] not in current_app.config["CITYAPP_NEWS_CATEGORIES"]:
            raise ValidationError(errors={"category": [f"Unknown category {data['category']!r}."]})
        values["category"] = data["category"]
    if "tags" in data:
        values["tags"] = sorted({t.strip().lower() for t in data["tags"] if t.strip()})
    if "images" in data:
        values["images"] = _clean_images(data["images"])
    for key in ("source", "external_id", "is_pinned", "publish_at", "unpublish_at"):
        if key in data:
            values[key] = data[key]
    publish_at = values.get("publish_at", item.publish_at)
    unpublish_at = values.get("unpublish_at", item.unpublish_at)
    common.check_window("publish_at", publish_at, "unpublish_at", unpublish_at)
    source = values.get("source", item.source)
    external_id = values.get("external_id", item.external_id)
    if external_id and not source:
        raise ValidationError(errors={"source": ["Required with external_id."]})
    if source and external_id:
        other = db.session.scalar(
            select(NewsItem.id).where(
                NewsItem.source == source,
                NewsItem.external_id == external_id,
                NewsItem.id != item.id if item.id else True,
            )
        )
        if other is not None:
            raise Conflict(
                f"News item {other} was imported with this external id.",
                errors={"external_id": ["Taken for this source."]},
            )
    changes = common.changes_of(item, values)
    for key, value in values.items():
        setattr(item, key, value)
    if "district_ids" in data:
        districts = common.load_districts("district_ids", data["district_ids"])
        old = [d.id for d in item.districts]
        if old != [d.id for d in districts]:
            changes["district_ids"] = [d.id for d in districts]
        item.districts = districts
    if item.status in (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED) and "publish_at" in values:
        if item.publish_at is None:
            raise ValidationError(errors={"publish_at": ["Required while scheduled or published."]})
        common.go_live(item, utcnow(), None)
    item.search_text = common.build_search_text(
        item.title, item.summary, item.body, extra=item.tags
    )
    return changes


def create_news(actor: Actor, **data: Any) -> NewsItem:
    """A new draft. Title, body (German) and category are required."""
    for required in ("title", "body", "category"):
        if required not in data:
            raise ValidationError(errors={required: ["Required."]})
    item = NewsItem(
        status=ContentStatus.DRAFT,
        author_id=actor.id if isinstance(actor, StaffUser) else None,
        tags=[],
        images=[],
    )
    _apply(item, data)
    db.session.add(item)
    db.session.flush()
    record_audit(
        actor, "news.create", object_type="news", object_id=item.id, summary=item.title["de"]
    )
    return item


def update_news(actor: Actor, item: NewsItem, **data: Any) -> NewsItem:
    now = utcnow()
    was_visible = _is_visible(item, now)
    previous_district_ids = [d.id for d in item.districts]
    changes = _apply(item, data)
    if not changes:
        return item
    item.updated_at = utcnow()  # also when only the districts (another table) changed
    db.session.flush()
    record_audit(
        actor,
        "news.update",
        object_type="news",
        object_id=item.id,
        summary="changed " + ", ".join(sorted(changes)),
        changes=_auditable(changes),
    )
    # Scheduled items too: steles already carry them in their look-ahead.
    if was_visible or _is_visible(item, now) or item.status == ContentStatus.SCHEDULED:
        common.emit_changed(
            KIND, item, "update", CHANNELS, previous_district_ids=previous_district_ids
        )
    return item


def _auditable(changes: dict[str, Any]) -> dict[str, Any]:
    """Long texts are named, not copied, in the audit log."""
    return {k: ("(text)" if k in ("body", "summary") else v) for k, v in changes.items()}


def _is_visible(item: NewsItem, now: datetime) -> bool:
    return (
        item.status in (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED)
        and item.publish_at is not None
        and item.publish_at <= now
        and (item.unpublish_at is None or item.unpublish_at > now)
    )


def publish_news(
    actor: Actor,
    item: NewsItem,
    *,
    publish_at: datetime | None = None,
    unpublish_at: datetime | None = None,
) -> NewsItem:
    """Publish now, or schedule when publish_at lies in the future."""
    common.require_status(item, (ContentStatus.DRAFT, ContentStatus.SCHEDULED), "publish")
    now = utcnow()
    if unpublish_at is not None:
        item.unpublish_at = unpublish_at
    common.check_window("publish_at", publish_at or now, "unpublish_at", item.unpublish_at)
    if item.unpublish_at is not None and item.unpublish_at <= now:
        raise ValidationError(errors={"unpublish_at": ["Lies in the past."]})
    common.go_live(item, now, publish_at or (now if item.status == ContentStatus.DRAFT else None))
    db.session.flush()
    record_audit(
        actor,
        "news.schedule" if item.status == ContentStatus.SCHEDULED else "news.publish",
        object_type="news",
        object_id=item.id,
        summary=item.title["de"],
        changes={"publish_at": item.publish_at.isoformat()},
    )
    common.emit_changed(KIND, item, "publish", CHANNELS)
    return item


def schedule_news(actor: Actor, item: NewsItem, *, publish_at: datetime, **kw: Any) -> NewsItem:
    if publish_at <= utcnow():
        raise ValidationError(errors={"publish_at": ["Must lie in the future to schedule."]})
    return publish_news(actor, item, publish_at=publish_at, **kw)


def unpublish_news(actor: Actor, item: NewsItem) -> NewsItem:
    """Take it back to draft (withdrawn from the public)."""
    common.require_status(
        item,
        (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED, ContentStatus.ARCHIVED),
        "unpublish",
    )
    return _leave_public(actor, item, ContentStatus.DRAFT, "unpublish")


def archive_news(actor: Actor, item: NewsItem) -> NewsItem:
    common.require_status(item, (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED), "archive")
    return _leave_public(actor, item, ContentStatus.ARCHIVED, "archive")


def _leave_public(actor: Actor, item: NewsItem, status: str, action: str) -> NewsItem:
    now = utcnow()
    if _is_visible(item, now):
        common.write_tombstone(KIND, item, action, now)
    item.status = status
    db.session.flush()
    record_audit(
        actor, f"news.{action}", object_type="news", object_id=item.id, summary=item.title["de"]
    )
    common.emit_changed(KIND, item, action, CHANNELS)
    return item


def delete_news(actor: Actor, item: NewsItem) -> None:
    now = utcnow()
    common.write_tombstone(KIND, item, "delete", now)
    common.emit_changed(KIND, item, "delete", CHANNELS)
    record_audit(
        actor, "news.delete", object_type="news", object_id=item.id, summary=item.title["de"]
    )
    db.session.delete(item)
    db.session.flush()


def expire_news(actor: Actor, now: datetime) -> dict[str, int]:
    """The job: scheduled items whose time came go published; expired ones are archived."""
    went_live = list(
        db.session.scalars(
            select(NewsItem).where(
                NewsItem.status == ContentStatus.SCHEDULED, NewsItem.publish_at <= now
            )
        )
    )
    for item in went_live:
        item.status = ContentStatus.PUBLISHED
        item.first_published_at = item.first_published_at or item.publish_at
        record_audit(
            actor,
            "news.publish",
            object_type="news",
            object_id=item.id,
            summary="scheduled publication",
        )
        common.emit_changed(KIND, item, "publish", CHANNELS)
    expired = list(
        db.session.scalars(
            select(NewsItem).where(
                NewsItem.status == ContentStatus.PUBLISHED, NewsItem.unpublish_at <= now
            )
        )
    )
    for item in expired:
        common.write_tombstone(KIND, item, "expire", now)
        item.status = ContentStatus.ARCHIVED
        record_audit(
            actor, "news.archive", object_type="news", object_id=item.id, summary="expired"
        )
        common.emit_changed(KIND, item, "expire", CHANNELS)
    db.session.flush()
    return {"news_published": len(went_live), "news_expired": len(expired)}
