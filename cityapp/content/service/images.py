"""News images: which media assets content still uses (a reference check for media)."""

from __future__ import annotations

from sqlalchemy import String, cast, select

from cityapp.content.models import NewsItem
from cityapp.db import db
from cityapp.media.models import MediaAsset


def news_uses_media(asset: MediaAsset) -> bool:
    """Whether a news item shows ``asset``; registered with media by ``create_app``."""
    # images is a small JSON list of {"sha256", "alt"}; the nightly callers check a handful of
    # assets, so a text match over the column is fine here.
    return (
        db.session.scalar(
            select(NewsItem.id).where(cast(NewsItem.images, String).contains(asset.sha256)).limit(1)
        )
        is not None
    )
