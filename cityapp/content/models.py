"""Content tables: news, announcements and the tombstones for delta sync."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityapp.db import TimestampMixin, db, utcnow
from cityapp.places.models import District


class ContentStatus(enum.StrEnum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class AnnouncementLevel(enum.StrEnum):
    INFO = "info"
    NOTICE = "notice"
    WARNING = "warning"
    EMERGENCY = "emergency"


class AnnouncementCategory(enum.StrEnum):
    ROAD_CLOSURE = "road_closure"
    WATER = "water"
    WASTE_COLLECTION = "waste_collection"
    EVENT = "event"
    PUBLIC_SAFETY = "public_safety"
    OTHER = "other"


class Channel(enum.StrEnum):
    APP = "app"
    STELE = "stele"
    PUSH = "push"


news_item_districts = Table(
    "news_item_districts",
    db.metadata,
    Column("news_item_id", ForeignKey("news_items.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "district_id",
        ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

announcement_districts = Table(
    "announcement_districts",
    db.metadata,
    Column("announcement_id", ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "district_id",
        ForeignKey("districts.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)


class PublicationMixin(TimestampMixin):
    """The columns the shared lifecycle (content.service.lifecycle) reads and writes on news
    and announcements alike: who wrote it, its publication window, when the public first saw
    it, and the text the full-text index covers."""

    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    publish_at: Mapped[datetime | None] = mapped_column(index=True)
    unpublish_at: Mapped[datetime | None] = mapped_column(index=True)
    # First time it went out; tombstones are only written for items the public ever saw.
    first_published_at: Mapped[datetime | None]
    # Plain text of every language, for the full-text index (FTS5 / tsvector, see 0002).
    search_text: Mapped[str] = mapped_column(Text, default="")
    # Indexed here (delta sync orders by it), unlike TimestampMixin's.
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, index=True)


class NewsItem(PublicationMixin, db.Model):
    """A news article. Visible when published (or scheduled) and inside its window."""

    __tablename__ = "news_items"
    __table_args__ = (
        Index("ix_news_items_listing", "is_pinned", "publish_at", "id"),
        Index("ix_news_items_source_external_id", "source", "external_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # No index on status alone: nearly every row is "published", and such an index would lure
    # the planner away from the listing index (see docs/performance.md).
    status: Mapped[str] = mapped_column(String(20), default=ContentStatus.DRAFT)
    # Translatable texts: {"de": ..., "en": ..., "de-x-ls": ...}; German is required.
    title: Mapped[dict] = mapped_column(JSON(none_as_null=True))
    summary: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    body: Mapped[dict] = mapped_column(JSON)  # sanitised HTML per language
    category: Mapped[str] = mapped_column(String(40), index=True)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    # [{"sha256": ..., "alt": {"de": ...}}]; alt text in German is required.
    images: Mapped[list] = mapped_column(JSON, default=list)
    source: Mapped[str | None] = mapped_column(String(80))
    external_id: Mapped[str | None] = mapped_column(String(200))
    is_pinned: Mapped[bool] = mapped_column(default=False)

    districts: Mapped[list[District]] = relationship(
        secondary=news_item_districts, order_by=District.position
    )

    def __repr__(self) -> str:
        return f"<NewsItem {self.id} {self.status}>"


class Announcement(PublicationMixin, db.Model):
    """A time-bounded notice with a level, channels and targeting; can supersede another."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=ContentStatus.DRAFT, index=True)
    title: Mapped[dict] = mapped_column(JSON(none_as_null=True))
    body: Mapped[dict] = mapped_column(JSON(none_as_null=True))
    instruction: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    category: Mapped[str] = mapped_column(String(40), index=True)
    level: Mapped[str] = mapped_column(String(20), index=True)
    valid_from: Mapped[datetime | None]
    valid_until: Mapped[datetime | None] = mapped_column(index=True)
    is_for_app: Mapped[bool] = mapped_column(default=True)
    is_for_stele: Mapped[bool] = mapped_column(default=True)
    is_for_push: Mapped[bool] = mapped_column(default=False)
    # Explicit GeoJSON area; the districts it touches are stored in announcement_districts.
    area: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))
    sender_name: Mapped[str | None] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(300))
    supersedes_id: Mapped[int | None] = mapped_column(
        ForeignKey("announcements.id", ondelete="SET NULL"), unique=True
    )
    cancelled_at: Mapped[datetime | None]
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    districts: Mapped[list[District]] = relationship(
        secondary=announcement_districts, order_by=District.position
    )
    supersedes: Mapped[Announcement | None] = relationship(
        remote_side=[id], foreign_keys=[supersedes_id], back_populates="superseded_by"
    )
    superseded_by: Mapped[Announcement | None] = relationship(
        foreign_keys=[supersedes_id], back_populates="supersedes", uselist=False
    )

    @property
    def channels(self) -> list[str]:
        flags = [
            (Channel.APP, self.is_for_app),
            (Channel.STELE, self.is_for_stele),
            (Channel.PUSH, self.is_for_push),
        ]
        return [str(channel) for channel, on in flags if on]

    def __repr__(self) -> str:
        return f"<Announcement {self.id} {self.level} {self.status}>"


class ContentTombstone(db.Model):
    """A public item left the public view (deleted, unpublished, expired, withdrawn):
    delta-sync clients learn it from here."""

    __tablename__ = "content_tombstones"
    __table_args__ = (Index("ix_content_tombstones_kind_created_at", "kind", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "news" | "announcement"
    item_id: Mapped[int]
    reason: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ContentTombstone {self.kind}:{self.item_id} {self.reason}>"
