"""Media tables: the cleaned images every domain refers to by SHA-256."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from cityapp.db import db, utcnow


class MediaAsset(db.Model):
    """A cleaned, re-encoded image stored content-addressed; variants are resized copies."""

    __tablename__ = "media_assets"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime_type: Mapped[str] = mapped_column(String(40))
    width: Mapped[int]
    height: Mapped[int]
    size_bytes: Mapped[int]
    # {"thumbnail": {"sha256", "mime_type", "width", "height", "size_bytes"}, "display": ...}
    variants: Mapped[dict] = mapped_column(JSON, default=dict)
    is_public: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<MediaAsset {self.sha256[:12]} {self.width}x{self.height}>"
