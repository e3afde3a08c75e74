"""The state changes every feedback service shares: publishing, hiding, closing, photo
visibility, the reopen window, the text and photo limits, the status labels.

The bottom of feedback's service layer: it imports only models, so every other service may
import it and it imports none of them (no cycle)."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from cityapp.db import db, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.feedback.models import (
    OPEN_STATUSES,
    ModerationState,
    Report,
    ReportPhoto,
    ReportStatus,
)
from cityapp.media.models import MediaAsset

MAX_DESCRIPTION = 4000
MAX_NOTE = 4000

STATUS_LABELS_DE = {
    "submitted": "eingegangen",
    "acknowledged": "angenommen",
    "in_progress": "in Bearbeitung",
    "resolved": "erledigt",
    "rejected": "abgelehnt",
    "duplicate": "bereits gemeldet (Duplikat)",
    "forwarded": "weitergeleitet",
    "reopened": "wieder geöffnet",
    "withdrawn": "zurückgezogen",
}


# --- limits ----------------------------------------------------------------------------


def check_description(text: str | None, field_name: str = "description") -> str:
    """The stripped text of a description or comment: required, at most MAX_DESCRIPTION."""
    text = (text or "").strip()
    if not text:
        raise ValidationError(errors={field_name: ["Describe the problem."]})
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(errors={field_name: [f"At most {MAX_DESCRIPTION} characters."]})
    return text


def check_note(note: str | None) -> str | None:
    """A staff or reporter note, stripped; None when empty."""
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise ValidationError(errors={"note": [f"At most {MAX_NOTE} characters."]})
    return note or None


def check_photo_count(count: int, already: int = 0) -> None:
    limit = current_app.config["CITYAPP_REPORT_MAX_PHOTOS"]
    if count + already > limit:
        raise ValidationError(
            f"A report takes at most {limit} photos.",
            errors={"photos": [f"At most {limit} photos per report."]},
        )


def require_open(report: Report) -> None:
    if not report.is_open:
        raise Conflict(f"The report is {report.status}; it no longer takes additions.")


# --- state changes ---------------------------------------------------------------------


def publish_report(report: Report) -> None:
    """Make a report public (auto-publish or a moderator's approval)."""
    report.moderation_state = ModerationState.PUBLISHED
    report.published_at = report.published_at or utcnow()
    sync_photo_visibility(report)


def hide_from_public(report: Report) -> None:
    """Take a published report out of public view (a moderator or enough flags)."""
    if report.moderation_state != ModerationState.PUBLISHED:
        raise Conflict("Only published reports can be hidden.")
    report.moderation_state = ModerationState.HIDDEN
    sync_photo_visibility(report)


def stamp_closure(report: Report) -> None:
    """Keep resolved_at and closed_at in step with the status the report has just taken."""
    now = utcnow()
    if report.status == ReportStatus.RESOLVED:
        report.resolved_at = now
    if report.status in OPEN_STATUSES:
        report.closed_at = None
    else:
        report.closed_at = now


def stamp_first_response(report: Report) -> None:
    if report.first_response_at is None:
        report.first_response_at = utcnow()


def is_reopen_window_open(report: Report) -> bool:
    """Whether the reporter may still reopen the report (N days after resolution)."""
    if report.resolved_at is None:
        return False
    days = current_app.config["CITYAPP_REPORT_REOPEN_DAYS"]
    return utcnow() - report.resolved_at <= timedelta(days=days)


def sync_photo_visibility(report: Report) -> None:
    """Photos are public exactly while their report is; resident uploads never leak early."""
    public = report.is_public
    for photo in report.photos:
        asset = photo.asset
        if asset is not None:
            if public and photo.is_shown:
                asset.is_public = True
            elif asset.created_by_id is None and not _used_by_other_public_report(asset, report):
                asset.is_public = False
        if photo.original_asset is not None and photo.original_asset.created_by_id is None:
            photo.original_asset.is_public = False


def _used_by_other_public_report(asset: MediaAsset, report: Report) -> bool:
    others = db.session.scalars(
        select(ReportPhoto).where(
            ReportPhoto.media_asset_id == asset.id,
            ReportPhoto.report_id != report.id,
            ReportPhoto.is_removed.is_(False),
        )
    )
    return any(photo.report.is_public for photo in others)
