"""Staff feedback API (moderator, admin): categories, the queue, detail with contact data
(every view audit-logged), workflow and moderation actions, bulk actions, CSV export,
statistics."""

from __future__ import annotations

import io
from datetime import timedelta

from flask import Response, send_file, stream_with_context, url_for
from flask_smorest import Blueprint
from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff, staff_required
from cityapp.auth.service import record_audit
from cityapp.db import db, utcnow
from cityapp.errors import AppError, Forbidden, NotFound
from cityapp.feedback import export
from cityapp.feedback.models import Report, ReportCategory, ReportEvent, ReportFlag, ReportPhoto
from cityapp.feedback.schemas import (
    AssignInputSchema,
    BulkInputSchema,
    BulkResultSchema,
    CategoryDeletedSchema,
    CategoryInputSchema,
    CategoryStaffListSchema,
    CategoryStaffSchema,
    CategoryUpdateSchema,
    EditInputSchema,
    ExportQuerySchema,
    HideInputSchema,
    MergeInputSchema,
    NoteInputSchema,
    PhotoQuerySchema,
    RejectInputSchema,
    ReportStaffDetailSchema,
    ReportStaffPageSchema,
    StaffQuerySchema,
    StatisticsSchema,
    TransitionInputSchema,
)
from cityapp.feedback.service import categories, reports, review, statistics, workflow
from cityapp.http import paginate
from cityapp.media import service as media

blp = Blueprint(
    "feedback_staff", __name__, url_prefix="/api/v1/staff", description="Citizen reports for staff"
)
MODERATORS = (Role.MODERATOR, Role.ADMIN)


# --- categories (admin writes) ---------------------------------------------------------


@blp.get("/report-categories")
@staff_required(*MODERATORS)
@blp.response(200, CategoryStaffListSchema)
def list_categories():
    """All report categories, active or not."""
    query = select(ReportCategory).order_by(ReportCategory.position, ReportCategory.id)
    return {"items": list(db.session.scalars(query))}


@blp.post("/report-categories")
@staff_required(Role.ADMIN)
@blp.arguments(CategoryInputSchema)
@blp.response(201, CategoryStaffSchema)
def create_category(data):
    """Create a report category (an Open311 service)."""
    category = categories.create_category(current_staff(), **data)
    db.session.commit()
    return category


@blp.patch("/report-categories/<int:category_id>")
@staff_required(Role.ADMIN)
@blp.arguments(CategoryUpdateSchema)
@blp.response(200, CategoryStaffSchema)
def update_category(data, category_id: int):
    """Change a report category."""
    category = categories.update_category(
        current_staff(), categories.get_category(category_id), **data
    )
    db.session.commit()
    return category


@blp.delete("/report-categories/<int:category_id>")
@staff_required(Role.ADMIN)
@blp.response(200, CategoryDeletedSchema)
def delete_category(category_id: int):
    """Delete a category; one in use is deactivated instead."""
    result = categories.delete_category(current_staff(), categories.get_category(category_id))
    db.session.commit()
    return {"result": result}


# --- queue -----------------------------------------------------------------------------


def _filtered(args: dict) -> Select:
    query = select(Report).join(ReportCategory, Report.category_id == ReportCategory.id)
    if "moderation_state" in args:
        query = query.where(Report.moderation_state == args["moderation_state"])
    if "status" in args:
        query = query.where(Report.status == args["status"])
    if "category" in args:
        query = query.where(ReportCategory.code == args["category"])
    if "district" in args:
        query = query.where(Report.district_id == args["district"])
    if "department" in args:
        query = query.where(Report.department == args["department"])
    if "assignee_id" in args:
        query = query.where(Report.assignee_id == args["assignee_id"])
    if "flagged" in args:
        flagged = select(ReportFlag.report_id).where(ReportFlag.is_resolved.is_(False))
        query = query.where(
            Report.id.in_(flagged) if args["flagged"] else Report.id.not_in(flagged)
        )
    if "older_than_days" in args:
        query = query.where(Report.created_at <= utcnow() - timedelta(days=args["older_than_days"]))
    if "q" in args:
        needle = f"%{args['q'].lower()}%"
        query = query.where(
            func.lower(Report.description).like(needle)
            | func.lower(func.coalesce(Report.public_description, "")).like(needle)
            | func.lower(func.coalesce(Report.address, "")).like(needle)
        )
    return query


def _counts(query) -> dict:
    sub = query.with_only_columns(Report.id, Report.status, Report.moderation_state).subquery()
    by_state = dict(
        db.session.execute(
            select(sub.c.moderation_state, func.count()).group_by(sub.c.moderation_state)
        ).all()
    )
    by_status = dict(
        db.session.execute(select(sub.c.status, func.count()).group_by(sub.c.status)).all()
    )
    flagged = db.session.scalar(
        select(func.count(func.distinct(ReportFlag.report_id))).where(
            ReportFlag.is_resolved.is_(False), ReportFlag.report_id.in_(select(sub.c.id))
        )
    )
    return {
        "total": sum(by_status.values()),
        "moderation_state": by_state,
        "status": by_status,
        "flagged": flagged,
    }


_STAFF_FIELDS = [
    "id",
    "description",
    "public_description",
    "status",
    "moderation_state",
    "rejection_reason",
    "filter_hits",
    "lat",
    "lon",
    "address",
    "district_id",
    "source",
    "department",
    "assignee_id",
    "forwarded_to",
    "duplicate_of_id",
    "expected_at",
    "supporters_count",
    "flags_count",
    "published_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "created_at",
    "updated_at",
]


def _staff_dict(report: Report) -> dict:
    data = {c: getattr(report, c) for c in _STAFF_FIELDS}
    data["category"] = report.category.code
    data["attribute_values"] = report.attribute_values
    data["has_contact"] = report.contact is not None
    return data


@blp.get("/reports")
@staff_required(*MODERATORS)
@blp.arguments(StaffQuerySchema, location="query")
@blp.response(200, ReportStaffPageSchema)
def queue(args):
    """The moderation and work queue with filters, and counts for the filter."""
    query = _filtered(args)
    order = [(Report.created_at, "asc"), (Report.id, "asc")]
    listing = query.options(selectinload(Report.category), selectinload(Report.contact))
    page = paginate(db.session, listing, order, limit=args["limit"], cursor=args["cursor"])
    return {
        "items": [_staff_dict(r) for r in page.items],
        "next_cursor": page.next_cursor,
        "counts": _counts(query),
    }


def _detail(report: Report) -> dict:
    staff = current_staff()
    data = _staff_dict(report)
    contact = report.contact
    if contact is not None:
        record_audit(
            staff,
            "report.contact_view",
            object_type="report",
            object_id=report.id,
            summary="contact data viewed",
        )
    data["contact"] = contact
    is_admin = staff.has_role(Role.ADMIN)
    data["photos"] = [
        {
            "id": p.id,
            "url": _photo_url(report.id, p.id) if p.asset else None,
            "sha256": p.asset.sha256 if p.asset else None,
            "is_removed": p.is_removed,
            "is_pending": p.is_pending,
            "is_blurred": p.original_asset_id is not None,
            "original_url": (
                _photo_url(report.id, p.id, original=True)
                if is_admin and p.original_asset
                else None
            ),
            "added_by": p.added_by,
        }
        for p in report.photos
    ]
    data["history"] = [
        {
            "id": e.id,
            "kind": e.kind,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "note": e.public_note,
            "public_note": e.public_note,
            "internal_note": e.internal_note,
            "actor_label": e.actor_label,
            "created_at": e.created_at,
        }
        for e in report.events
    ]
    return data


def _reply(report: Report) -> dict:
    body = _detail(report)
    db.session.commit()  # the contact-view audit entry
    return body


@blp.get("/reports/<int:report_id>")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def detail(report_id: int):
    """A report with history, photos and contact data (the view is audit-logged)."""
    return _reply(reports.get_report(report_id))


# --- workflow --------------------------------------------------------------------------


@blp.post("/reports/<int:report_id>/status")
@staff_required(*MODERATORS)
@blp.arguments(TransitionInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def change_status(data, report_id: int):
    """Move the report along the workflow (409 outside the graph), with notes."""
    report = reports.get_report(report_id)
    workflow.change_status(current_staff(), report, data.pop("status"), **data)
    db.session.commit()
    return _reply(report)


@blp.post("/reports/<int:report_id>/notes")
@staff_required(*MODERATORS)
@blp.arguments(NoteInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def add_note(data, report_id: int):
    """Add a public note (the reporter is told) and/or an internal note."""
    report = reports.get_report(report_id)
    workflow.add_note(current_staff(), report, **data)
    db.session.commit()
    return _reply(report)


@blp.post("/reports/<int:report_id>/assign")
@staff_required(*MODERATORS)
@blp.arguments(AssignInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def assign(data, report_id: int):
    """Assign department, staff member and expected date."""
    report = reports.get_report(report_id)
    workflow.assign(current_staff(), report, **data)
    db.session.commit()
    return _reply(report)


@blp.post("/reports/<int:report_id>/merge")
@staff_required(*MODERATORS)
@blp.arguments(MergeInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def merge(data, report_id: int):
    """Merge this report into an original as its duplicate."""
    report = reports.get_report(report_id)
    workflow.merge(current_staff(), report, reports.get_report(data["original_id"]))
    db.session.commit()
    return _reply(report)


# --- moderation ------------------------------------------------------------------------


@blp.post("/reports/<int:report_id>/approve")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def approve(report_id: int):
    """Publish a pending (or hidden) report."""
    report = reports.get_report(report_id)
    review.approve(current_staff(), report)
    db.session.commit()
    return _reply(report)


@blp.post("/reports/<int:report_id>/reject")
@staff_required(*MODERATORS)
@blp.arguments(RejectInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def reject(data, report_id: int):
    """Reject a pending report with a reason."""
    report = reports.get_report(report_id)
    review.reject(current_staff(), report, data["reason"], data["note"])
    db.session.commit()
    return _reply(report)


@blp.post("/reports/<int:report_id>/hide")
@staff_required(*MODERATORS)
@blp.arguments(HideInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def hide(data, report_id: int):
    """Hide a published report."""
    report = reports.get_report(report_id)
    review.hide(current_staff(), report, data["reason"])
    db.session.commit()
    return _reply(report)


@blp.post("/reports/<int:report_id>/edit")
@staff_required(*MODERATORS)
@blp.arguments(EditInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def edit(data, report_id: int):
    """Edit the public text (the original stays; the change is audit-logged)."""
    report = reports.get_report(report_id)
    review.edit_public_text(current_staff(), report, data["public_description"], data["reason"])
    db.session.commit()
    return _reply(report)


@blp.post("/reports/<int:report_id>/comments/<int:event_id>/approve")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def approve_comment(report_id: int, event_id: int):
    """Publish a reporter's comment that the text filters held back."""
    event = db.session.get(ReportEvent, event_id)
    if event is None or event.report_id != report_id:
        raise NotFound(f"No comment {event_id} on report {report_id}.")
    review.approve_comment(current_staff(), event)
    db.session.commit()
    return _reply(reports.get_report(report_id))


def _photo_url(report_id: int, photo_id: int, *, original: bool = False) -> str:
    return url_for(
        "feedback_staff.photo_file",
        report_id=report_id,
        photo_id=photo_id,
        **({"version": "original"} if original else {}),
        _external=True,
    )


def _photo(report_id: int, photo_id: int) -> ReportPhoto:
    photo = db.session.get(ReportPhoto, photo_id)
    if photo is None or photo.report_id != report_id:
        raise NotFound(f"No photo {photo_id} on report {report_id}.")
    return photo


@blp.get("/reports/<int:report_id>/photos/<int:photo_id>")
@staff_required(*MODERATORS)
@blp.arguments(PhotoQuerySchema, location="query")
@blp.alt_response(200, description="The image file.", content_type="image/*")
def photo_file(args, report_id: int, photo_id: int):
    """A report photo as staff see it, public or not; ?version=original (admins) before
    blurring."""
    photo = _photo(report_id, photo_id)
    asset = photo.asset
    if args["version"] == "original":
        if not current_staff().has_role(Role.ADMIN):
            raise Forbidden("Only admins see the originals of blurred photos.")
        asset = photo.original_asset or photo.asset
    if asset is None:
        raise NotFound("The photo file was deleted.")
    data = media.get_storage().read(f"{asset.sha256}/{args['variant']}")
    response = send_file(io.BytesIO(data), mimetype=asset.mime_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.post("/reports/<int:report_id>/photos/<int:photo_id>/blur")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def blur_photo(report_id: int, photo_id: int):
    """Show a blurred copy of a photo (the original stays, admins only)."""
    photo = _photo(report_id, photo_id)
    review.blur_photo(current_staff(), photo)
    db.session.commit()
    return _reply(photo.report)


@blp.post("/reports/<int:report_id>/photos/<int:photo_id>/approve")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def approve_photo(report_id: int, photo_id: int):
    """Publish a photo the reporter added after the report went public."""
    photo = _photo(report_id, photo_id)
    review.approve_photo(current_staff(), photo)
    db.session.commit()
    return _reply(photo.report)


@blp.post("/reports/<int:report_id>/photos/<int:photo_id>/remove")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def remove_photo(report_id: int, photo_id: int):
    """Remove a photo from the public view (the file stays, admins only)."""
    photo = _photo(report_id, photo_id)
    review.remove_photo(current_staff(), photo)
    db.session.commit()
    return _reply(photo.report)


# --- bulk, export, statistics ----------------------------------------------------------


@blp.post("/reports/bulk")
@staff_required(*MODERATORS)
@blp.arguments(BulkInputSchema)
@blp.response(200, BulkResultSchema)
def bulk(data):
    """Assign, acknowledge or reject-as-spam many reports; each one succeeds or fails alone."""
    staff = current_staff()
    done, failed = [], {}
    for report_id in data["ids"]:
        savepoint = db.session.begin_nested()
        try:
            report = reports.get_report(report_id)
            if data["action"] == "assign":
                changes = {k: data[k] for k in ("department", "assignee_id") if k in data}
                workflow.assign(staff, report, **changes)
            elif data["action"] == "acknowledge":
                workflow.change_status(staff, report, "acknowledged")
            else:
                review.reject(staff, report, "spam")
            savepoint.commit()
            done.append(report_id)
        except AppError as error:
            savepoint.rollback()
            failed[str(report_id)] = error.detail or error.title
    db.session.commit()
    return {"done": done, "failed": failed}


@blp.get("/reports/export.csv")
@staff_required(*MODERATORS)
@blp.arguments(ExportQuerySchema, location="query")
@blp.alt_response(200, description="CSV (UTF-8 with BOM), streamed.", content_type="text/csv")
def export_csv(args):
    """CSV of all reports, streamed: public columns, or full (admins; audit-logged)."""
    staff = current_staff()
    full = args["kind"] == "full"
    if full and not staff.has_role(Role.ADMIN):
        raise Forbidden("The full export (with contact data) is for admins.")
    record_audit(staff, "report.export", object_type="report", summary=args["kind"])
    db.session.commit()
    response = Response(
        stream_with_context(export.rows(full=full)), mimetype="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="meldungen-{args["kind"]}.csv"'
    return response


@blp.get("/reports/statistics")
@staff_required(*MODERATORS)
@blp.response(200, StatisticsSchema)
def stats():
    """Reports per category, status, district and week; response times; backlog age."""
    return statistics.compute(utcnow())
