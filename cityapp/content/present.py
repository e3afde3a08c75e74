"""Public representations: one language per response, absolute media URLs."""

from __future__ import annotations

from typing import Any

from flask import current_app

from cityapp.content.models import Announcement, District, NewsItem
from cityapp.http import pick_translation


def base_url() -> str:
    return current_app.config["CITYAPP_BASE_URL"].rstrip("/")


def media_url(sha: str, variant: str | None = None) -> str:
    return f"{base_url()}/media/{sha}" + (f"/{variant}" if variant else "")


def _language_used(values: dict | None, language: str) -> str:
    default = current_app.config["CITYAPP_DEFAULT_LANGUAGE"]
    if values and language in values:
        return language
    return default


def _districts(districts: list[District]) -> list[dict]:
    return [{"id": d.id, "slug": d.slug, "name": d.name} for d in districts]


def _images(images: list[dict], language: str) -> list[dict]:
    from cityapp.content.models import MediaAsset
    from cityapp.db import db

    result = []
    for image in images or []:
        asset = db.session.query(MediaAsset).filter_by(sha256=image["sha256"]).one_or_none()
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


def public_news(item: NewsItem, language: str) -> dict[str, Any]:
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
        "images": _images(item.images, language),
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
