"""Categories (Open311 services), reports, their contact data (kept apart), photos, history,
supporters and flags."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cityapp.db import TimestampMixin, db, utcnow


class ReportStatus(enum.StrEnum):
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    FORWARDED = "forwarded"
    REOPENED = "reopened"
    WITHDRAWN = "withdrawn"


OPEN_STATUSES = frozenset(
    {
        ReportStatus.SUBMITTED,
        ReportStatus.ACKNOWLEDGED,
        ReportStatus.IN_PROGRESS,
        ReportStatus.REOPENED,
    }
)


class ModerationState(enum.StrEnum):
    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    HIDDEN = "hidden"


class RejectionReason(enum.StrEnum):
    SPAM = "spam"
    ABUSIVE = "abusive"
    DUPLICATE = "duplicate"
    NOT_OUR_RESPONSIBILITY = "not_our_responsibility"
    OTHER = "other"


class AttributeType(enum.StrEnum):
    """Open311 attribute datatypes."""

    STRING = "string"
    NUMBER = "number"
    DATETIME = "datetime"
    TEXT = "text"
    SINGLEVALUELIST = "singlevaluelist"
    MULTIVALUELIST = "multivaluelist"


class ReportCategory(TimestampMixin, db.Model):
    """What residents can report; exposed to Open311 clients as a service."""

    __tablename__ = "report_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[dict] = mapped_column(JSON)
    description: Mapped[dict] = mapped_column(JSON, default=dict)
    group: Mapped[str | None] = mapped_column(String(120))
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    department: Mapped[str | None] = mapped_column(String(200))
    is_private: Mapped[bool] = mapped_column(default=False)
    is_location_required: Mapped[bool] = mapped_column(default=True)
    is_photo_required: Mapped[bool] = mapped_column(default=False)
    is_auto_publish: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    # [{"code", "datatype", "required", "order", "description", "datatype_description",
    #   "values": [{"key", "name"}]}] in Open311 terms.
    attributes: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)
    # Retention overrides (days); None = the defaults in config.
    contact_retention_days: Mapped[int | None]
    rejected_photo_retention_days: Mapped[int | None]
    anonymise_after_days: Mapped[int | None]

    def __repr__(self) -> str:
        return f"<ReportCategory {self.id} {self.code}>"


class Report(TimestampMixin, db.Model):
    """One citizen report. Personal contact data lives in ReportContact, never here."""

    __tablename__ = "reports"
    __table_args__ = (
        Index("ix_reports_category_created", "category_id", "created_at"),
        Index("ix_reports_lat_lon", "lat", "lon"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("report_categories.id"), index=True)
    # What the reporter wrote, and what the public sees (a moderator may edit the latter).
    description: Mapped[str] = mapped_column(Text)
    public_description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=ReportStatus.SUBMITTED, index=True)
    moderation_state: Mapped[str] = mapped_column(
        String(20), default=ModerationState.PENDING, index=True
    )
    rejection_reason: Mapped[str | None] = mapped_column(String(40))
    filter_hits: Mapped[list] = mapped_column(JSON, default=list)
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(300))
    district_id: Mapped[int | None] = mapped_column(
        ForeignKey("districts.id", ondelete="SET NULL"), index=True
    )
    attribute_values: Mapped[dict] = mapped_column(JSON, default=dict)
    installation_id: Mapped[int | None] = mapped_column(
        ForeignKey("installations.id", ondelete="SET NULL"), index=True
    )
    tracking_token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The token is HMAC(SECRET_KEY, nonce): mails can carry the tracking link again later,
    # while the database alone (hash + nonce) never reveals it.
    tracking_nonce: Mapped[str] = mapped_column(String(64))
    # Public handle for Open311 GET /tokens/{token} (not a secret: reveals only the id).
    open311_token: Mapped[str] = mapped_column(String(32), unique=True)
    source: Mapped[str] = mapped_column(String(20), default="app")
    duplicate_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("reports.id", ondelete="SET NULL"), index=True
    )
    department: Mapped[str | None] = mapped_column(String(200))
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    forwarded_to: Mapped[str | None] = mapped_column(String(200))
    expected_at: Mapped[datetime | None]
    supporters_count: Mapped[int] = mapped_column(default=0)
    flags_count: Mapped[int] = mapped_column(default=0)
    published_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    anonymised_at: Mapped[datetime | None]

    category: Mapped[ReportCategory] = relationship()
    contact: Mapped[ReportContact | None] = relationship(
        back_populates="report", cascade="all, delete-orphan", uselist=False
    )
    photos: Mapped[list[ReportPhoto]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportPhoto.id"
    )
    events: Mapped[list[ReportEvent]] = relationship(
        back_populates="report", cascade="all, delete-orphan", order_by="ReportEvent.id"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_public(self) -> bool:
        return self.moderation_state == ModerationState.PUBLISHED and not self.category.is_private

    @property
    def has_contact(self) -> bool:
        return self.contact is not None

    def __repr__(self) -> str:
        return f"<Report {self.id} {self.status}/{self.moderation_state}>"


class ReportContact(db.Model):
    """How to reach the reporter: personal data, separate so it never rides along."""

    __tablename__ = "report_contacts"

    report_id: Mapped[int] = mapped_column(
        ForeignKey("reports.id", ondelete="CASCADE"), primary_key=True
    )
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(60))
    is_notification_consented: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship(back_populates="contact")

    def __repr__(self) -> str:
        return f"<ReportContact report={self.report_id}>"


class ReportPhoto(db.Model):
    """A photo of a report. Blurring keeps the original asset (admins only)."""

    @property
    def is_shown(self) -> bool:
        return not self.is_removed and not self.is_pending and self.asset is not None

    __tablename__ = "report_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    media_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_assets.id", ondelete="SET NULL")
    )
    original_asset_id: Mapped[int | None] = mapped_column(
        ForeignKey("media_assets.id", ondelete="SET NULL")
    )
    is_removed: Mapped[bool] = mapped_column(default=False)
    # Added by the reporter after publication: public only once a moderator approved it.
    is_pending: Mapped[bool] = mapped_column(default=False)
    added_by: Mapped[str] = mapped_column(String(20), default="reporter")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    report: Mapped[Report] = relationship(back_populates="photos")
    asset = relationship("MediaAsset", foreign_keys=[media_asset_id])
    original_asset = relationship("MediaAsset", foreign_keys=[original_asset_id])

    @property
    def is_blurred(self) -> bool:
        return self.original_asset_id is not None

    @property
    def sha256(self) -> str | None:
        """The shown file's hash; None once retention deleted it."""
        return self.asset.sha256 if self.asset is not None else None

    def __repr__(self) -> str:
        return f"<ReportPhoto {self.id} report={self.report_id}>"


class ReportEvent(db.Model):
    """The history: status changes, notes, comments, moderation, assignment."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    actor_label: Mapped[str] = mapped_column(String(80))
    photo_id: Mapped[int | None] = mapped_column(
        ForeignKey("report_photos.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    report: Mapped[Report] = relationship(back_populates="events")

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_EVENT_KINDS

    def __repr__(self) -> str:
        return f"<ReportEvent {self.id} {self.kind} report={self.report_id}>"


PUBLIC_EVENT_KINDS = frozenset({"submitted", "status", "note", "comment", "photo", "merged"})


class ReportSupporter(db.Model):
    __tablename__ = "report_supporters"
    __table_args__ = (UniqueConstraint("report_id", "installation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ReportSupporter report={self.report_id} installation={self.installation_id}>"


class ReportFlag(db.Model):
    __tablename__ = "report_flags"
    __table_args__ = (UniqueConstraint("report_id", "installation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    installation_id: Mapped[int] = mapped_column(ForeignKey("installations.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(String(500))
    is_resolved: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ReportFlag report={self.report_id} {self.reason}>"
