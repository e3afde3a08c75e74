"""The lifecycle news and announcements share, written once for both models: status
transitions (publish, schedule, unpublish, archive, expire, delete), whether an item is
visible or was ever public, tombstones, the audit entry and the change signal."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, not_, select

from cityapp.auth.service import Actor, record_audit
from cityapp.content.models import Announcement, ContentStatus, ContentTombstone, NewsItem
from cityapp.content.service import visibility
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.signals import content_changed, send_before_commit

KINDS = {NewsItem: "news", Announcement: "announcement"}
NEWS_CHANNELS = ["app", "stele"]


def kind_of(item: Any) -> str:
    return KINDS[type(item)]


def channels_of(item: Any) -> list[str]:
    """Where the item goes out: news always to app and stele, announcements as targeted."""
    return item.channels if isinstance(item, Announcement) else list(NEWS_CHANNELS)


# --- visibility, evaluated for one item -------------------------------------------------


def _holds(item: Any, predicate: Callable[[type, datetime], ColumnElement[bool]], now) -> bool:
    """Evaluate one of visibility's SQL predicates for a flushed item, so the rule the public
    listing applies and the rule the lifecycle applies are the same expression."""
    if item.id is None:
        return False
    model = type(item)
    found = db.session.scalar(select(model.id).where(model.id == item.id, predicate(model, now)))
    return found is not None


def is_visible(item: Any, now: datetime) -> bool:
    """The public sees the item at ``now`` (``visibility.visible`` for this row)."""
    return _holds(item, visibility.visible, now)


def was_public(item: Any, now: datetime) -> bool:
    """The public may have seen the item (a scheduled item goes out at publish_at, even
    before the job flips its status)."""
    return _holds(item, visibility.was_public, now)


# --- status transitions ------------------------------------------------------------------


def check_window(start_field: str, start: datetime | None, end_field: str, end: datetime | None):
    if start is not None and end is not None and end <= start:
        raise ValidationError(errors={end_field: [f"Must be after {start_field}."]})


def require_status(item: Any, allowed: Iterable[str], action: str) -> None:
    if item.status not in set(allowed):
        raise Conflict(
            f"Cannot {action} an item in status {item.status!r}.",
            errors={"status": [f"{action} is not possible from {item.status}."]},
        )


def go_live(item: Any, now: datetime, publish_at: datetime | None) -> None:
    """Publish now or schedule for later, depending on ``publish_at``."""
    item.publish_at = publish_at or item.publish_at or now
    if item.publish_at > now:
        item.status = ContentStatus.SCHEDULED
    else:
        item.status = ContentStatus.PUBLISHED
        item.first_published_at = item.first_published_at or now


# --- audit, tombstones and signals ---------------------------------------------------------


def audit(actor: Actor, item: Any, action: str, summary: str, **extra: Any) -> None:
    """One audit entry ``<kind>.<action>`` about the item."""
    kind = kind_of(item)
    record_audit(
        actor, f"{kind}.{action}", object_type=kind, object_id=item.id, summary=summary, **extra
    )


def write_tombstone(item: Any, reason: str, now: datetime) -> None:
    """Record that an item the public may have seen left the public view."""
    if was_public(item, now):
        db.session.add(
            ContentTombstone(kind=kind_of(item), item_id=item.id, reason=reason, created_at=now)
        )


def emit_changed(
    item: Any,
    action: str,
    *,
    previous_district_ids: list[int] | None = None,
    previous_channels: list[str] | None = None,
) -> None:
    """Signal a public change inside this transaction (just before it commits), so reactions
    that only write rows (stele manifests marked stale) commit atomically with the change.
    Updates pass the targeting before the change too: those audiences must learn of it."""
    send_before_commit(
        db.session(),
        content_changed,
        kind_of(item),
        item_id=item.id,
        action=action,
        district_ids=[d.id for d in item.districts],
        channels=channels_of(item),
        previous_district_ids=previous_district_ids,
        previous_channels=previous_channels,
    )


def record_publication(actor: Actor, item: Any, summary: str) -> None:
    """The tail of every publish: audit ``publish`` or ``schedule``, signal the change."""
    db.session.flush()
    action = "schedule" if item.status == ContentStatus.SCHEDULED else "publish"
    audit(actor, item, action, summary, changes={"publish_at": item.publish_at.isoformat()})
    emit_changed(item, "publish")


def record_update(actor: Actor, item: Any, changes: dict[str, Any], texts: Iterable[str]) -> None:
    """The tail of every edit: touch, flush, audit what changed (``texts`` are named, not
    copied: long texts do not belong in the audit log)."""
    item.updated_at = utcnow()  # also when only the districts (another table) changed
    db.session.flush()
    audit(
        actor,
        item,
        "update",
        "changed " + ", ".join(sorted(changes)),
        changes={k: ("(text)" if k in texts else v) for k, v in changes.items()},
    )


# --- leaving the public --------------------------------------------------------------------


def leave_public(actor: Actor, item: Any, status: str, action: str) -> Any:
    """Take the item out of public view into ``status``; a tombstone when it was visible."""
    now = utcnow()
    if is_visible(item, now):
        write_tombstone(item, action, now)
    item.status = status
    db.session.flush()
    audit(actor, item, action, item.title["de"])
    emit_changed(item, action)
    return item


def unpublish_item(actor: Actor, item: Any) -> Any:
    """Take it back to draft (withdrawn from the public)."""
    require_status(
        item,
        (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED, ContentStatus.ARCHIVED),
        "unpublish",
    )
    return leave_public(actor, item, ContentStatus.DRAFT, "unpublish")


def archive_item(actor: Actor, item: Any) -> Any:
    """No longer public, kept for the record."""
    require_status(item, (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED), "archive")
    return leave_public(actor, item, ContentStatus.ARCHIVED, "archive")


def delete_item(actor: Actor, item: Any) -> None:
    """Delete the row; apps that saw it learn it from a tombstone."""
    write_tombstone(item, "delete", utcnow())
    emit_changed(item, "delete")
    audit(actor, item, "delete", item.title["de"])
    db.session.delete(item)
    db.session.flush()


def expire_items(
    actor: Actor,
    model: type,
    now: datetime,
    *,
    on_live: Callable[[Any], None] | None = None,
) -> tuple[int, int]:
    """The job's part for one model: scheduled items whose time came go published (then
    ``on_live`` runs for each), published ones that are no longer visible are archived.
    Returns (published, archived)."""
    went_live = list(
        db.session.scalars(
            select(model).where(model.status == ContentStatus.SCHEDULED, model.publish_at <= now)
        )
    )
    for item in went_live:
        item.status = ContentStatus.PUBLISHED
        item.first_published_at = item.first_published_at or item.publish_at
        audit(actor, item, "publish", "scheduled publication")
        emit_changed(item, "publish")
        if on_live is not None:
            on_live(item)
    db.session.flush()
    expired = list(
        db.session.scalars(
            select(model).where(
                model.status == ContentStatus.PUBLISHED, not_(visibility.visible(model, now))
            )
        )
    )
    for item in expired:
        cancelled = getattr(item, "cancelled_at", None) is not None
        if not cancelled:  # a cancel already wrote its tombstone
            write_tombstone(item, "expire", now)
        item.status = ContentStatus.ARCHIVED
        audit(actor, item, "archive", "cancelled" if cancelled else "expired")
        emit_changed(item, "expire")
    db.session.flush()
    return len(went_live), len(expired)
