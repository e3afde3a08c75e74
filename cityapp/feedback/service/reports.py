"""Submitting and reading reports, and what the reporter adds later (comments, photos)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import selectinload

from cityapp.auth.models import Installation
from cityapp.auth.service.actors import ANONYMOUS
from cityapp.auth.service.credentials import hash_secret
from cityapp.db import db, get_or_404, utcnow
from cityapp.errors import NotFound, ValidationError
from cityapp.feedback.models import (
    OPEN_STATUSES,
    ModerationState,
    Report,
    ReportCategory,
    ReportContact,
    ReportEvent,
    ReportPhoto,
    ReportStatus,
)
from cityapp.feedback.service import categories, duplicates
from cityapp.feedback.service.events import record_event
from cityapp.feedback.service.screening import is_obvious_spam, screen_text
from cityapp.feedback.service.state import (
    check_description,
    check_photo_count,
    publish_report,
    require_open,
    sync_photo_visibility,
)
from cityapp.feedback.service.tokens import TRACKING_PREFIX, new_tracking_token
from cityapp.media import service as media
from cityapp.places.service import find_district_at

REPORTER = "reporter"


@dataclass
class Submission:
    report: Report
    tracking_token: str
    possible_duplicates: list[tuple[Report, float]] = field(default_factory=list)


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
    text = check_description(description)
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
    check_photo_count(len(photos))
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
        publish_report(report)
    found = duplicates.find_possible_duplicates(
        category.id, lat, lon, utcnow(), exclude_id=report.id
    )
    return Submission(report=report, tracking_token=plaintext, possible_duplicates=found)


# --- reading ---------------------------------------------------------------------------


def get_report(report_id: int) -> Report:
    return get_or_404(Report, report_id, "report")


def get_report_photo(report_id: int, photo_id: int) -> ReportPhoto:
    return _get_part_of_report(ReportPhoto, photo_id, report_id, "photo")


def get_report_comment(report_id: int, event_id: int) -> ReportEvent:
    return _get_part_of_report(ReportEvent, event_id, report_id, "comment")


def _get_part_of_report(model: type, ident: int, report_id: int, what: str):
    """A photo or history entry of the report; 404 when it belongs to another report, so
    no id reveals what other reports hold."""
    row = db.session.get(model, ident)
    if row is None or row.report_id != report_id:
        raise NotFound(f"No {what} {ident} on report {report_id}.")
    return row


def read_photo_file(
    photo: ReportPhoto, variant: str, *, original: bool = False
) -> tuple[bytes, str]:
    """(bytes, MIME type) of a photo's shown file, or of its original before blurring."""
    asset = (photo.original_asset or photo.asset) if original else photo.asset
    if asset is None:
        raise NotFound("The photo file was deleted.")
    return media.get_storage().read(f"{asset.sha256}/{variant}"), asset.mime_type


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


def filter_public_reports(filters: dict[str, Any]) -> Select:
    """Public reports by category code, district and status ("open", "closed" or one)."""
    query = public_query()
    if "category" in filters:
        query = query.where(ReportCategory.code == filters["category"])
    if "district" in filters:
        query = query.where(Report.district_id == filters["district"])
    status = filters.get("status")
    open_statuses = [str(s) for s in OPEN_STATUSES]
    if status == "open":
        query = query.where(Report.status.in_(open_statuses))
    elif status == "closed":
        query = query.where(Report.status.not_in(open_statuses))
    elif status:
        query = query.where(Report.status == status)
    return query


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


def followed_report(report: Report) -> Report:
    """Where a merged report's tracking leads: the original it was merged into."""
    seen = {report.id}
    while report.duplicate_of_id is not None and report.duplicate_of_id not in seen:
        report = db.session.get(Report, report.duplicate_of_id)
        seen.add(report.id)
    return report


def installation_reports(installation: Installation) -> Select:
    return select(Report).where(Report.installation_id == installation.id)


# --- reporter actions ------------------------------------------------------------------


def add_reporter_comment(report: Report, text: str | None) -> None:
    report = followed_report(report)
    require_open(report)
    text = check_description(text, "comment")
    hits = screen_text(text)
    # Comments with filter hits stay internal until a moderator has looked.
    kind = "comment" if not hits else "comment_pending"
    record_event(REPORTER, report, kind, public_note=text)


def add_reporter_photo(report: Report, data: bytes) -> ReportPhoto:
    report = followed_report(report)
    require_open(report)
    check_photo_count(1, sum(1 for p in report.photos if not p.is_removed))
    # A photo for a report the public already sees waits for a moderator.
    photo = _store_photo(report, data, REPORTER, is_pending=report.is_public)
    record_event(REPORTER, report, "photo", photo_id=photo.id)
    return photo
