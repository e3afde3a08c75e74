"""Where manifest items come from, and what every source shares. The manifest builder lists
its sources in two explicit tables (``manifest.ITEM_SOURCES``, ``manifest.ALERT_SOURCES``), so
more feeds (e.g. imported MoWaS/NINA warnings) plug in with one line there.

A source is a function ``(ctx: SourceContext) -> list[dict]``. Item dicts follow the manifest
item shape; alert dicts the alert shape. Datetimes stay ``datetime`` objects (the builder
serialises them and derives ``next_change_at`` from ``valid_from``/``valid_until`` and
``effective_at``/``expires_at``). Each item/alert also carries a private ``_sort`` key that
the builder removes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import exists, not_, or_, select
from sqlalchemy.orm import selectinload

from cityapp.content.models import (
    Announcement,
    ContentStatus,
    NewsItem,
    announcement_districts,
    news_item_districts,
)
from cityapp.content.service.visibility import in_district, on_channel
from cityapp.db import db
from cityapp.kiosks.models import Device
from cityapp.media.models import MediaAsset
from cityapp.surveys.models import (
    Channel as SurveyChannel,
)
from cityapp.surveys.models import (
    QuestionType,
    Survey,
    SurveyQuestion,
)
from cityapp.surveys.service.lifecycle import open_surveys_query

LIVE = (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED)
ITEM_LEVELS = ("info", "notice")
ALERT_LEVELS = ("warning", "emergency")


@dataclass
class SourceContext:
    device: Device
    now: datetime
    horizon: datetime  # now + look-ahead: things starting later are left out

    def duration(self, kind: str) -> int:
        durations = (self.device.settings or {}).get("durations") or {}
        return int(durations.get(kind) or current_app.config["CITYAPP_KIOSK_DURATIONS_S"][kind])

    @property
    def max_items(self) -> int:
        return current_app.config["CITYAPP_KIOSK_MAX_ITEMS"]


Source = Callable[[SourceContext], list[dict[str, Any]]]


# --- shared helpers ----------------------------------------------------------------------


def targeted(model: type, district_id: int | None):
    """Aimed at the device's district or the whole municipality; a device without a
    district sees only what is for everyone."""
    if district_id is not None:
        return in_district(model, district_id)
    _link, column = {
        NewsItem: (news_item_districts, news_item_districts.c.news_item_id),
        Announcement: (announcement_districts, announcement_districts.c.announcement_id),
    }[model]
    return not_(exists().where(column == model.id))


def earliest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _live_or_upcoming(model: type, ctx: SourceContext) -> list:
    """Public now, or going public inside the look-ahead (so an offline stele can switch on
    its own); the item's own window tells the device when."""
    return [
        model.status.in_(LIVE),
        model.publish_at.is_not(None),
        model.publish_at <= ctx.horizon,
        or_(model.unpublish_at.is_(None), model.unpublish_at > ctx.now),
        targeted(model, ctx.device.district_id),
    ]


def announcements_for(ctx: SourceContext, levels: tuple[str, ...]) -> list[Announcement]:
    query = (
        select(Announcement)
        .where(
            *_live_or_upcoming(Announcement, ctx),
            Announcement.cancelled_at.is_(None),
            or_(Announcement.valid_until.is_(None), Announcement.valid_until > ctx.now),
            on_channel("stele"),
            Announcement.level.in_(levels),
        )
        .options(selectinload(Announcement.superseded_by))
        .order_by(Announcement.publish_at.desc(), Announcement.id.desc())
        .limit(ctx.max_items)
    )
    found = []
    for item in db.session.scalars(query):
        end = announcement_end(item)
        if end is not None and end <= ctx.now:
            continue  # superseded by a successor that is live already
        found.append(item)
    return found


def announcement_end(item: Announcement) -> datetime | None:
    """When the announcement leaves: unpublished, invalid, or replaced by its successor."""
    successor = item.superseded_by
    replaced_at = None
    if successor is not None and successor.status in LIVE:
        replaced_at = successor.publish_at
    return earliest(item.unpublish_at, item.valid_until, replaced_at)


def public_assets(image_lists: list[list[dict] | None]) -> dict[str, MediaAsset]:
    """The public media assets referenced by any of these image lists, in one query."""
    shas = {image.get("sha256") for images in image_lists for image in images or []}
    shas.discard(None)
    if not shas:
        return {}
    query = select(MediaAsset).where(MediaAsset.sha256.in_(shas), MediaAsset.is_public.is_(True))
    return {asset.sha256: asset for asset in db.session.scalars(query)}


def media_for(images: list[dict] | None, assets: dict[str, MediaAsset]) -> list[dict]:
    """Media references with what a device needs to fetch and lay them out."""
    media = []
    for image in images or []:
        asset = assets.get(image.get("sha256"))
        if asset is None:
            continue
        variant = "display" if "display" in (asset.variants or {}) else None
        info = (
            asset.variants["display"]
            if variant
            else {
                "mime_type": asset.mime_type,
                "size_bytes": asset.size_bytes,
                "width": asset.width,
                "height": asset.height,
            }
        )
        media.append(
            {
                "sha256": asset.sha256,
                "url": f"/media/{asset.sha256}/display" if variant else f"/media/{asset.sha256}",
                "mime": info["mime_type"],
                "size": info["size_bytes"],
                "width": info["width"],
                "height": info["height"],
                "alt": image.get("alt") or {},
            }
        )
    return media


# --- item sources --------------------------------------------------------------------------


def announcement_items(ctx: SourceContext) -> list[dict[str, Any]]:
    items = []
    for a in announcements_for(ctx, ITEM_LEVELS):
        items.append(
            {
                "id": f"announcement:{a.id}",
                "kind": "announcement",
                "duration_s": ctx.duration("announcement"),
                "valid_from": a.publish_at,
                "valid_until": announcement_end(a),
                "title": a.title,
                "body": a.body,
                "summary": {},
                "level": a.level,
                "category": a.category,
                "media": [],
                "_sort": (0, 0 if a.level == "notice" else 1, -a.publish_at.timestamp(), -a.id),
            }
        )
    return items


def news_items(ctx: SourceContext) -> list[dict[str, Any]]:
    # News have no channel flags: every news item is meant for steles too.
    query = (
        select(NewsItem)
        .where(*_live_or_upcoming(NewsItem, ctx))
        .order_by(NewsItem.is_pinned.desc(), NewsItem.publish_at.desc(), NewsItem.id.desc())
        .limit(ctx.max_items)
    )
    news = list(db.session.scalars(query))
    assets = public_assets([n.images for n in news])  # one query for every item's images
    items = []
    for n in news:
        items.append(
            {
                "id": f"news:{n.id}",
                "kind": "news",
                "duration_s": ctx.duration("news"),
                "valid_from": n.publish_at,
                "valid_until": n.unpublish_at,
                "title": n.title,
                "body": n.body,
                "summary": n.summary or {},
                "category": n.category,
                "media": media_for(n.images, assets),
                "_sort": (1, 0 if n.is_pinned else 1, -n.publish_at.timestamp(), -n.id),
            }
        )
    return items


def stele_poll(survey: Survey) -> SurveyQuestion | None:
    """The single single-choice question that makes a survey a stele poll, if it is one."""
    if SurveyChannel.STELE not in (survey.channels or []) or len(survey.questions) != 1:
        return None
    question = survey.questions[0]
    return question if question.type == QuestionType.SINGLE_CHOICE else None


def polls_query(ctx: SourceContext):
    """Stele polls open now or opening inside the look-ahead, for the device's district; a
    device without a district sees only polls for the whole municipality."""
    district_id = ctx.device.district_id
    query = open_surveys_query(
        ctx.now, channel=SurveyChannel.STELE, district_id=district_id, opening_until=ctx.horizon
    )
    if district_id is None:
        query = query.where(~Survey.districts.any())
    return query.options(selectinload(Survey.questions).selectinload(SurveyQuestion.options))


def poll_items(ctx: SourceContext) -> list[dict[str, Any]]:
    items = []
    query = polls_query(ctx).order_by(Survey.opens_at.desc(), Survey.id.desc())
    for survey in db.session.scalars(query.limit(ctx.max_items)):
        question = stele_poll(survey)
        if question is None:
            continue
        items.append(
            {
                "id": f"poll:{survey.id}",
                "kind": "poll",
                "duration_s": ctx.duration("poll"),
                "valid_from": survey.opens_at,
                "valid_until": survey.closes_at,
                "title": survey.title,
                "body": survey.description or {},
                "summary": {},
                "media": [],
                "poll": {
                    "survey_id": survey.id,
                    "question": question.title,
                    "options": [
                        {"id": o.id, "label": o.label} for o in question.options if not o.is_other
                    ],
                },
                "_sort": (2, 0, -survey.opens_at.timestamp(), -survey.id),
            }
        )
    return items
