"""Submitting and tracking reports: validation, photos, duplicates, supporters, flags."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, select, update
from sqlalchemy.orm import selectinload

from cityapp.auth.models import Installation
from cityapp.auth.service.actors import ANONYMOUS, SystemActor
from cityapp.auth.service.credentials import hash_secret
from cityapp.content import media
from cityapp.content.models import MediaAsset
from cityapp.content.service.districts import find_district_at
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError
from cityapp.feedback.models import (
    ModerationState,
    Report,
    ReportCategory,
    ReportContact,
    ReportFlag,
    ReportPhoto,
    ReportStatus,
    ReportSupporter,
)
from cityapp.feedback.service import categories, duplicates
from cityapp.feedback.service.events import record_event
from cityapp.feedback.service.moderation import is_obvious_spam, screen_text
from cityapp.feedback.service.tokens import TRACKING_PREFIX, new_tracking_token
from cityapp.signals import installation_deleting

MAX_DESCRIPTION = 4000
FLAGS = SystemActor("system:flags")
REPORTER = "reporter"


@dataclass
class Submission:
    report: Report
    tracking_token: str
    possible_duplicates: list[tuple[Report, float]] = field(default_factory=list)


def _check_description(text: str | None, field_name: str = "description") -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError(errors={field_name: ["Describe the problem."]})
    if len(text) > MAX_DESCRIPTION:
        raise ValidationError(errors={field_name: [f"At most {MAX_DESCRIPTION} characters."]})
    return text


def _check_photo_count(count: int, already: int = 0) -> None:
    limit = current_app.config["CITYAPP_REPORT_MAX_PHOTOS"]
    if count + already > limit:
        raise ValidationError(
            f"A report takes at most {limit} photos.",
            errors={"photos": [f"At most {limit} photos per report."]},
        )


def _store_photo(
    report: Report, data: bytes, added_by: str, *, is_pending: bool = False
) -> ReportPhoto:
    asset, _created = media.store_image(ANONYMOUS, data, is_public=False)
    photo = ReportPhoto(
        report=report, asset=asset, added_by=added_by, is_pending=is_pending, created_at=utcnow()
    )
    db.session.add(photo)
    db.session.flush()
    sync_photo_visibility(report)
    return photo


def submit_report(
    *,
    category_code: str,
    description: str | None,
    lat: float | None = None,
    lon: float | None = None,
    address: str | None = None,
    attributes: dict[str, Any] | None = None,
    contact: dict[str, Any] | None = None,
    installation: Installation | None = None,
    photos: list[bytes] | None = None,
    source: str = "app",
    honeypot: str | None = None,
) -> Submission:
    """Validate everything, store the report (moderation pending unless the category
    auto-publishes and the text is clean) and return it with its tracking token."""
    if honeypot:
        raise ValidationError(
            "The form was not filled in by a person.", errors={"website": ["Leave empty."]}
        )
    category = categories.find_category(category_code)
    if category is None or not category.is_active:
        raise ValidationError(errors={"category": ["Unknown or inactive category."]})
    text = _check_description(description)
    if (lat is None) != (lon is None):
        raise ValidationError(errors={"lat" if lat is None else "lon": ["Give lat and lon."]})
    address = (address or "").strip() or None
    if category.is_location_required and lat is None and address is None:
        raise ValidationError(
            "This category needs a location.",
            errors={"location": ["Give lat/lon or an address."]},
        )
    district = find_district_at(lat, lon) if lat is not None else None
    values = categories.validate_attribute_values(category, attributes or {})
    photos = photos or []
    _check_photo_count(len(photos))
    if category.is_photo_required and not photos:
        raise ValidationError(errors={"photos": ["This category needs a photo."]})

    plaintext, nonce, token_hash = new_tracking_token()
    # Free-text attributes are shown publicly too, so they pass the same filters.
    free_text = [
        values[a["code"]]
        for a in category.attributes
        if a["datatype"] in ("string", "text") and a["code"] in values
    ]
    hits = screen_text("\n".join([text, *free_text]))
    report = Report(
        category=category,
        description=text,
        public_description=text,
        lat=lat,
        lon=lon,
        address=address,
        district_id=district.id if district else None,
        attribute_values=values,
        installation_id=installation.id if installation else None,
        tracking_token_hash=token_hash,
        tracking_nonce=nonce,
        open311_token=secrets.token_hex(8),
        source=source,
        department=category.department,
        filter_hits=[h.as_dict() for h in hits],
        status=ReportStatus.SUBMITTED,
        moderation_state=ModerationState.PENDING,
    )
    if contact and any(contact.get(k) for k in ("email", "name", "phone")):
        report.contact = ReportContact(
            email=contact.get("email") or None,
            name=contact.get("name") or None,
            phone=contact.get("phone") or None,
            is_notification_consented=bool(contact.get("consent")),
        )
    db.session.add(report)
    db.session.flush()
    for data in photos:
        _store_photo(report, data, REPORTER)
    record_event(REPORTER, report, "submitted", to_status=ReportStatus.SUBMITTED)
    if is_obvious_spam(text, hits):
        report.filter_hits = [*report.filter_hits, {"kind": "spam", "detail": "obvious spam"}]
    elif category.is_auto_publish and not hits:
        from cityapp.feedback.service.review import publish

        publish(report)
    found = duplicates.find_possible_duplicates(
        category.id, lat, lon, utcnow(), exclude_id=report.id
    )
    return Submission(report=report, tracking_token=plaintext, possible_duplicates=found)


# --- reading ---------------------------------------------------------------------------


def get_report(report_id: int) -> Report:
    report = db.session.get(Report, report_id)
    if report is None:
        raise NotFound(f"No report {report_id}.")
    return report


def public_query() -> Select:
    """Reports the public may see: published by a moderator, in a non-private category."""
    return (
        select(Report)
        .join(ReportCategory, Report.category_id == ReportCategory.id)
        .where(
            Report.moderation_state == ModerationState.PUBLISHED,
            ReportCategory.is_private.is_(False),
        )
    )


def with_public_parts(query: Select, *, events: bool = False) -> Select:
    """Load what public listings show in a few queries instead of one per report."""
    options = [
        selectinload(Report.category),
        selectinload(Report.photos).selectinload(ReportPhoto.asset),
    ]
    if events:
        options.append(selectinload(Report.events))
    return query.options(*options)


def get_public_report(report_id: int) -> Report:
    report = db.session.scalar(public_query().where(Report.id == report_id))
    if report is None:
        raise NotFound(f"No public report {report_id}.")
    return report


def find_by_tracking_token(token: str) -> Report:
    """The reporter's own report (404 for anything else: no oracle for other reports)."""
    report = None
    if token.startswith(TRACKING_PREFIX) and len(token) < 100:
        report = db.session.scalar(
            select(Report).where(Report.tracking_token_hash == hash_secret(token))
        )
    if report is None:
        raise NotFound("Unknown tracking token.")
    return report


def followed(report: Report) -> Report:
    """Where a merged report's tracking leads: the original it was merged into."""
    seen = {report.id}
    while report.duplicate_of_id is not None and report.duplicate_of_id not in seen:
        report = db.session.get(Report, report.duplicate_of_id)
        seen.add(report.id)
    return report


def installation_reports(installation: Installation) -> Select:
    return select(Report).where(Report.installation_id == installation.id)


# --- reporter actions ------------------------------------------------------------------


def _require_open(report: Report) -> None:
    if not report.is_open:
        raise Conflict(f"The report is {report.status}; it no longer takes additions.")


def add_reporter_comment(report: Report, text: str | None) -> None:
    report = followed(report)
    _require_open(report)
    text = _check_description(text, "comment")
    hits = screen_text(text)
    # Comments with filter hits stay internal until a moderator has looked.
    kind = "comment" if not hits else "comment_pending"
    record_event(REPORTER, report, kind, public_note=text)


def add_reporter_photo(report: Report, data: bytes) -> ReportPhoto:
    report = followed(report)
    _require_open(report)
    _check_photo_count(1, sum(1 for p in report.photos if not p.is_removed))
    # A photo for a report the public already sees waits for a moderator.
    photo = _store_photo(report, data, REPORTER, is_pending=report.is_public)
    record_event(REPORTER, report, "photo", photo_id=photo.id)
    return photo


def withdraw_report(report: Report, reason: str | None = None) -> Report:
    _require_open(report)
    from cityapp.feedback.service.workflow import close

    previous = report.status
    report.status = ReportStatus.WITHDRAWN
    close(report)
    record_event(
        REPORTER,
        report,
        "status",
        from_status=previous,
        to_status=ReportStatus.WITHDRAWN,
        internal_note=(reason or "").strip()[:1000] or None,
    )
    return report


def support_report(report: Report, installation: Installation) -> bool:
    """One supporter per installation; returns False when it supported already."""
    if not report.is_open:
        raise Conflict(f"The report is {report.status}; support is closed.")
    if report.installation_id == installation.id:
        raise Conflict("Reporters cannot support their own report.")
    exists = db.session.scalar(
        select(ReportSupporter.id).where(
            ReportSupporter.report_id == report.id,
            ReportSupporter.installation_id == installation.id,
        )
    )
    if exists is not None:
        return False
    db.session.add(ReportSupporter(report_id=report.id, installation_id=installation.id))
    db.session.execute(
        update(Report)
        .where(Report.id == report.id)
        .values(supporters_count=Report.supporters_count + 1)
    )
    db.session.flush()
    db.session.refresh(report)
    return True


def flag_report(
    report: Report, installation: Installation, reason: str, comment: str | None = None
) -> bool:
    """One flag per installation; enough flags hide the report until a moderator decides."""
    exists = db.session.scalar(
        select(ReportFlag.id).where(
            ReportFlag.report_id == report.id, ReportFlag.installation_id == installation.id
        )
    )
    if exists is not None:
        return False
    db.session.add(
        ReportFlag(
            report_id=report.id, installation_id=installation.id, reason=reason, comment=comment
        )
    )
    report.flags_count += 1
    db.session.flush()
    open_flags = db.session.scalar(
        select(db.func.count(ReportFlag.id)).where(
            ReportFlag.report_id == report.id, ReportFlag.is_resolved.is_(False)
        )
    )
    if open_flags >= current_app.config["CITYAPP_REPORT_FLAG_THRESHOLD"]:
        from cityapp.feedback.service.review import hide

        hide(FLAGS, report, reason=f"{open_flags} flags")
    return True


def _on_installation_deleting(_sender: Any, *, installation_id: int, **_kw: Any) -> None:
    """The installation's support rows are about to cascade away: count them out now, in the
    same transaction, so the public count is right at once."""
    supported = select(ReportSupporter.report_id).where(
        ReportSupporter.installation_id == installation_id
    )
    db.session.execute(
        update(Report)
        .where(Report.id.in_(supported), Report.supporters_count > 0)
        .values(supporters_count=Report.supporters_count - 1)
        .execution_options(synchronize_session=False)
    )


installation_deleting.connect(_on_installation_deleting)


def recount_supporters() -> int:
    """Repair supporter counts that drifted from the support rows (a safety net for the nightly
    job: deletions now correct the count at once, see ``_on_installation_deleting``). Returns
    the rows changed."""
    actual = (
        select(db.func.count(ReportSupporter.id))
        .where(ReportSupporter.report_id == Report.id)
        .scalar_subquery()
    )
    result = db.session.execute(
        update(Report).where(Report.supporters_count != actual).values(supporters_count=actual)
    )
    return result.rowcount or 0


def sync_photo_visibility(report: Report) -> None:
    """Photos are public exactly while their report is; resident uploads never leak early."""
    public = report.is_public
    for photo in report.photos:
        for asset in (photo.asset,):
            if asset is None:
                continue
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


def reopen_window_open(report: Report) -> bool:
    if report.resolved_at is None:
        return False
    days = current_app.config["CITYAPP_REPORT_REOPEN_DAYS"]
    return utcnow() - report.resolved_at <= timedelta(days=days)
