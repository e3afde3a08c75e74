"""GDPR retention: contact data, photos of rejected reports, anonymisation of old reports.
Per-category overrides; defaults in config. Run nightly by the scheduler."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import or_, select

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, utcnow
from cityapp.feedback.models import (
    ModerationState,
    Report,
    ReportCategory,
    ReportContact,
    ReportEvent,
    ReportPhoto,
)
from cityapp.feedback.service.state import sync_photo_visibility
from cityapp.media.models import MediaAsset
from cityapp.media.service import delete_unused_media
from cityapp.places.models import District


def is_used_by_report_photos(asset: MediaAsset) -> bool:
    """Whether a report photo shows the asset or keeps it as an original (the media pipeline
    asks this before it deletes a file; create_app registers it)."""
    return (
        db.session.scalar(
            select(ReportPhoto.id)
            .where(
                or_(
                    ReportPhoto.media_asset_id == asset.id,
                    ReportPhoto.original_asset_id == asset.id,
                )
            )
            .limit(1)
        )
        is not None
    )


def _days(category: ReportCategory, attribute: str, config_key: str) -> int:
    value = getattr(category, attribute)
    return value if value is not None else current_app.config[config_key]


def apply_retention(actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Delete what the retention rules say is due; returns the counts per kind."""
    now = now or utcnow()
    counts = {"contacts_deleted": 0, "photos_deleted": 0, "reports_anonymised": 0}
    unused: list[int | None] = []
    for category in db.session.scalars(select(ReportCategory)):
        contact_days = _days(
            category, "contact_retention_days", "CITYAPP_REPORT_CONTACT_RETENTION_DAYS"
        )
        photo_days = _days(
            category,
            "rejected_photo_retention_days",
            "CITYAPP_REPORT_REJECTED_PHOTO_RETENTION_DAYS",
        )
        anonymise_days = _days(
            category, "anonymise_after_days", "CITYAPP_REPORT_ANONYMISE_AFTER_DAYS"
        )
        # Contact data: N days after the report was closed.
        contacts = db.session.scalars(
            select(ReportContact)
            .join(Report, ReportContact.report_id == Report.id)
            .where(
                Report.category_id == category.id,
                Report.closed_at.is_not(None),
                Report.closed_at <= now - timedelta(days=contact_days),
            )
        ).all()
        for contact in contacts:
            db.session.delete(contact)
        counts["contacts_deleted"] += len(contacts)
        # Photos of rejected reports.
        photos = db.session.scalars(
            select(ReportPhoto)
            .join(Report, ReportPhoto.report_id == Report.id)
            .where(
                Report.category_id == category.id,
                Report.moderation_state == ModerationState.REJECTED,
                Report.closed_at <= now - timedelta(days=photo_days),
            )
        ).all()
        for photo in photos:
            report = photo.report
            unused.extend([photo.media_asset_id, photo.original_asset_id])
            db.session.delete(photo)
            db.session.flush()
            db.session.expire(report, ["photos"])
            sync_photo_visibility(report)
        counts["photos_deleted"] += len(photos)
        # Anonymisation: text stays, location coarsened to the district, links to people cut.
        old = db.session.scalars(
            select(Report).where(
                Report.category_id == category.id,
                Report.anonymised_at.is_(None),
                Report.created_at <= now - timedelta(days=anonymise_days),
            )
        ).all()
        for report in old:
            _anonymise(report, now)
        counts["reports_anonymised"] += len(old)
    db.session.flush()
    # The image files themselves, not only the rows that pointed at them.
    counts["media_deleted"] = len(delete_unused_media(actor, unused))
    if any(counts.values()):
        record_audit(actor, "report.retention", object_type="report", changes=counts)
    return counts


def _anonymise(report: Report, now: datetime) -> None:
    district = db.session.get(District, report.district_id) if report.district_id else None
    if district is not None and district.polygon:
        from shapely.geometry import shape

        centre = shape(district.polygon).representative_point()
        report.lat, report.lon = round(centre.y, 5), round(centre.x, 5)
    else:
        report.lat = report.lon = None
    report.address = None
    report.installation_id = None
    if report.contact is not None:
        db.session.delete(report.contact)
    for event in db.session.scalars(select(ReportEvent).where(ReportEvent.report_id == report.id)):
        if event.actor_label == "reporter" and event.kind in ("comment", "comment_pending"):
            event.public_note = "(entfernt)"
    report.anonymised_at = now
