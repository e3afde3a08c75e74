"""Public representations: one language per response, absolute media URLs."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from cityapp.content.models import Announcement, NewsItem
from cityapp.db import db
from cityapp.http.languages import pick_translation
from cityapp.media.models import MediaAsset
from cityapp.media.service import media_url
from cityapp.places.models import District


def base_url() -> str:
    return current_app.config["CITYAPP_BASE_URL"].rstrip("/")


def _language_used(values: dict | None, language: str) -> str:
    default = current_app.config["CITYAPP_DEFAULT_LANGUAGE"]
    if values and language in values:
        return language
    return default


def _districts(districts: list[District]) -> list[dict]:
    return [{"id": d.id, "slug": d.slug, "name": d.name} for d in districts]


def load_assets(items: list[NewsItem]) -> dict[str, MediaAsset]:
    """The media assets behind the items' images, in one query (not one per image)."""
    shas = {image["sha256"] for item in items for image in item.images or []}
    if not shas:
        return {}
    assets = db.session.scalars(select(MediaAsset).where(MediaAsset.sha256.in_(shas)))
    return {asset.sha256: asset for asset in assets}


def _images(images: list[dict], language: str, assets: dict[str, MediaAsset]) -> list[dict]:
    result = []
    for image in images or []:
        asset = assets.get(image["sha256"])
        if asset is None or not asset.is_public:
            continue
        result.append(
            {
                "sha256": asset.sha256,
                "url": media_url(asset.sha256),
                "thumbnail_url": media_url(asset.sha256, "thumbnail"),
                "display_url": media_url(asset.sha256, "display"),
                "width": asset.width,
                "height": asset.height,
                "alt": pick_translation(image["alt"], language),
            }
        )
    return result


def public_news(
    item: NewsItem, language: str, assets: dict[str, MediaAsset] | None = None
) -> dict[str, Any]:
    """``assets`` from ``load_assets`` when presenting a page; looked up here otherwise."""
    if assets is None:
        assets = load_assets([item])
    return {
        "id": item.id,
        "title": pick_translation(item.title, language),
        "summary": pick_translation(item.summary, language),
        "body": pick_translation(item.body, language),
        "language": _language_used(item.title, language),
        "languages": sorted(item.title),
        "category": item.category,
        "tags": item.tags or [],
        "districts": _districts(item.districts),
        "images": _images(item.images, language, assets),
        "is_pinned": item.is_pinned,
        "published_at": item.publish_at,
        "expires_at": item.unpublish_at,
        "updated_at": item.updated_at,
    }


def public_announcement(item: Announcement, language: str) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": pick_translation(item.title, language),
        "body": pick_translation(item.body, language),
        "instruction": pick_translation(item.instruction, language),
        "language": _language_used(item.title, language),
        "languages": sorted(item.title),
        "category": item.category,
        "level": item.level,
        "valid_from": item.valid_from,
        "valid_until": item.valid_until,
        "channels": item.channels,
        "districts": _districts(item.districts),
        "area": item.area,
        "sender_name": item.sender_name,
        "contact": item.contact,
        "supersedes_id": item.supersedes_id,
        "published_at": item.publish_at,
        "updated_at": item.updated_at,
    }


PRESENTERS = {"news": public_news, "announcement": public_announcement}


def present_page(kind: str, items: list, language: str) -> list[dict[str, Any]]:
    """A page of items: media assets fetched once for the page, not per image."""
    if kind == "news":
        assets = load_assets(items)
        return [public_news(item, language, assets) for item in items]
    return [public_announcement(item, language) for item in items]
