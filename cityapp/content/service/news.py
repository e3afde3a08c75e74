"""News items: create, edit, publish/schedule/unpublish/archive, delete."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from cityapp.auth.models import StaffUser
from cityapp.auth.service import Actor
from cityapp.content.models import ContentStatus, NewsItem
from cityapp.content.service import common, lifecycle
from cityapp.db import db, get_or_404, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.media.models import MediaAsset

KIND = "news"
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
    return get_or_404(NewsItem, item_id, "news item")


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
    values = common.clean_shared_fields(KIND, data, _EDITABLE)
    if "summary" in data:
        values["summary"] = common.clean_translations(
            "summary", data["summary"], required=False, max_length=1000
        )
    if "tags" in data:
        values["tags"] = sorted({t.strip().lower() for t in data["tags"] if t.strip()})
    if "images" in data:
        values["images"] = _clean_images(data["images"])
    for key in ("source", "external_id", "is_pinned", "publish_at", "unpublish_at"):
        if key in data:
            values[key] = data[key]
    publish_at = values.get("publish_at", item.publish_at)
    unpublish_at = values.get("unpublish_at", item.unpublish_at)
    lifecycle.check_window("publish_at", publish_at, "unpublish_at", unpublish_at)
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
        lifecycle.go_live(item, utcnow(), None)
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
    lifecycle.audit(actor, item, "create", item.title["de"])
    return item


def update_news(actor: Actor, item: NewsItem, **data: Any) -> NewsItem:
    now = utcnow()
    was_visible = lifecycle.is_visible(item, now)
    previous_district_ids = [d.id for d in item.districts]
    changes = _apply(item, data)
    if not changes:
        return item
    lifecycle.record_update(actor, item, changes, texts=("body", "summary"))
    # Scheduled items too: steles already carry them in their look-ahead.
    if was_visible or lifecycle.is_visible(item, now) or item.status == ContentStatus.SCHEDULED:
        lifecycle.emit_changed(item, "update", previous_district_ids=previous_district_ids)
    return item


def publish_news(
    actor: Actor,
    item: NewsItem,
    *,
    publish_at: datetime | None = None,
    unpublish_at: datetime | None = None,
) -> NewsItem:
    """Publish now, or schedule when publish_at lies in the future."""
    lifecycle.require_status(item, (ContentStatus.DRAFT, ContentStatus.SCHEDULED), "publish")
    now = utcnow()
    if unpublish_at is not None:
        item.unpublish_at = unpublish_at
    lifecycle.check_window("publish_at", publish_at or now, "unpublish_at", item.unpublish_at)
    if item.unpublish_at is not None and item.unpublish_at <= now:
        raise ValidationError(errors={"unpublish_at": ["Lies in the past."]})
    lifecycle.go_live(
        item, now, publish_at or (now if item.status == ContentStatus.DRAFT else None)
    )
    lifecycle.record_publication(actor, item, item.title["de"])
    return item


def schedule_news(actor: Actor, item: NewsItem, *, publish_at: datetime, **kw: Any) -> NewsItem:
    if publish_at <= utcnow():
        raise ValidationError(errors={"publish_at": ["Must lie in the future to schedule."]})
    return publish_news(actor, item, publish_at=publish_at, **kw)


def unpublish_news(actor: Actor, item: NewsItem) -> NewsItem:
    """Take it back to draft (withdrawn from the public)."""
    return lifecycle.unpublish_item(actor, item)


def archive_news(actor: Actor, item: NewsItem) -> NewsItem:
    """Archive (no longer public, kept for the record)."""
    return lifecycle.archive_item(actor, item)


def delete_news(actor: Actor, item: NewsItem) -> None:
    """Delete; apps learn it from a tombstone."""
    lifecycle.delete_item(actor, item)


def expire_news(actor: Actor, now: datetime) -> dict[str, int]:
    """The job: scheduled items whose time came go published; expired ones are archived."""
    published, expired = lifecycle.expire_items(actor, NewsItem, now)
    return {"news_published": published, "news_expired": expired}
