"""Staff feedback API (moderator, admin): categories, the queue, detail with contact data
(every view audit-logged), workflow and moderation actions, bulk actions, CSV export,
statistics. Each view parses, calls a service, commits once and dumps a staff schema."""

from __future__ import annotations

import io

from flask import Response, send_file, stream_with_context
from flask_smorest import Blueprint

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff, staff_required
from cityapp.db import db, utcnow
from cityapp.errors import Forbidden
from cityapp.feedback.models import Report
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
from cityapp.feedback.service import bulk as bulk_actions
from cityapp.feedback.service import categories, export, moderation, reports, statistics, workflow
from cityapp.feedback.service import queue as report_queue
from cityapp.http.pagination import paginate

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
    return {"items": categories.list_categories()}


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


def _committed(report: Report) -> Report:
    """The reply shows contact data: audit that view, then commit the request's work once."""
    report_queue.record_contact_view(current_staff(), report)
    db.session.commit()
    return report


@blp.get("/reports")
@staff_required(*MODERATORS)
@blp.arguments(StaffQuerySchema, location="query")
@blp.response(200, ReportStaffPageSchema)
def queue(args):
    """The moderation and work queue with filters, and counts for the filter."""
    query = report_queue.filter_queue(args)
    listing = report_queue.with_queue_parts(query)
    page = paginate(
        db.session, listing, report_queue.QUEUE_ORDER, limit=args["limit"], cursor=args["cursor"]
    )
    return {
        "items": page.items,
        "next_cursor": page.next_cursor,
        "counts": report_queue.count_queue(query),
    }


@blp.get("/reports/<int:report_id>")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def detail(report_id: int):
    """A report with history, photos and contact data (the view is audit-logged)."""
    return _committed(reports.get_report(report_id))


# --- workflow --------------------------------------------------------------------------


@blp.post("/reports/<int:report_id>/status")
@staff_required(*MODERATORS)
@blp.arguments(TransitionInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def change_status(data, report_id: int):
    """Move the report along the workflow (409 outside the graph), with notes."""
    report = reports.get_report(report_id)
    return _committed(workflow.change_status(current_staff(), report, data.pop("status"), **data))


@blp.post("/reports/<int:report_id>/notes")
@staff_required(*MODERATORS)
@blp.arguments(NoteInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def add_note(data, report_id: int):
    """Add a public note (the reporter is told) and/or an internal note."""
    return _committed(workflow.add_note(current_staff(), reports.get_report(report_id), **data))


@blp.post("/reports/<int:report_id>/assign")
@staff_required(*MODERATORS)
@blp.arguments(AssignInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def assign(data, report_id: int):
    """Assign department, staff member and expected date."""
    report = reports.get_report(report_id)
    return _committed(workflow.assign_report(current_staff(), report, **data))


@blp.post("/reports/<int:report_id>/merge")
@staff_required(*MODERATORS)
@blp.arguments(MergeInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def merge(data, report_id: int):
    """Merge this report into an original as its duplicate."""
    report, original = reports.get_report(report_id), reports.get_report(data["original_id"])
    return _committed(workflow.merge_reports(current_staff(), report, original))


# --- moderation ------------------------------------------------------------------------


@blp.post("/reports/<int:report_id>/approve")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def approve(report_id: int):
    """Publish a pending (or hidden) report."""
    return _committed(moderation.approve_report(current_staff(), reports.get_report(report_id)))


@blp.post("/reports/<int:report_id>/reject")
@staff_required(*MODERATORS)
@blp.arguments(RejectInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def reject(data, report_id: int):
    """Reject a pending report with a reason."""
    report = reports.get_report(report_id)
    return _committed(
        moderation.reject_report(current_staff(), report, data["reason"], data["note"])
    )


@blp.post("/reports/<int:report_id>/hide")
@staff_required(*MODERATORS)
@blp.arguments(HideInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def hide(data, report_id: int):
    """Hide a published report."""
    report = reports.get_report(report_id)
    return _committed(moderation.hide_report(current_staff(), report, data["reason"]))


@blp.post("/reports/<int:report_id>/edit")
@staff_required(*MODERATORS)
@blp.arguments(EditInputSchema)
@blp.response(200, ReportStaffDetailSchema)
def edit(data, report_id: int):
    """Edit the public text (the original stays; the change is audit-logged)."""
    report = reports.get_report(report_id)
    text, reason = data["public_description"], data["reason"]
    return _committed(moderation.edit_public_text(current_staff(), report, text, reason))


@blp.post("/reports/<int:report_id>/comments/<int:event_id>/approve")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def approve_comment(report_id: int, event_id: int):
    """Publish a reporter's comment that the text filters held back."""
    event = reports.get_report_comment(report_id, event_id)
    moderation.approve_comment(current_staff(), event)
    return _committed(event.report)


@blp.get("/reports/<int:report_id>/photos/<int:photo_id>")
@staff_required(*MODERATORS)
@blp.arguments(PhotoQuerySchema, location="query")
@blp.alt_response(200, description="The image file.", content_type="image/*")
def photo_file(args, report_id: int, photo_id: int):
    """A report photo as staff see it, public or not; ?version=original (admins) before
    blurring."""
    photo = reports.get_report_photo(report_id, photo_id)
    original = args["version"] == "original"
    if original and not current_staff().has_role(Role.ADMIN):
        raise Forbidden("Only admins see the originals of blurred photos.")
    data, mime_type = reports.read_photo_file(photo, args["variant"], original=original)
    response = send_file(io.BytesIO(data), mimetype=mime_type, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


@blp.post("/reports/<int:report_id>/photos/<int:photo_id>/blur")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def blur_photo(report_id: int, photo_id: int):
    """Show a blurred copy of a photo (the original stays, admins only)."""
    photo = reports.get_report_photo(report_id, photo_id)
    return _committed(moderation.blur_photo(current_staff(), photo).report)


@blp.post("/reports/<int:report_id>/photos/<int:photo_id>/approve")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def approve_photo(report_id: int, photo_id: int):
    """Publish a photo the reporter added after the report went public."""
    photo = reports.get_report_photo(report_id, photo_id)
    return _committed(moderation.approve_photo(current_staff(), photo).report)


@blp.post("/reports/<int:report_id>/photos/<int:photo_id>/remove")
@staff_required(*MODERATORS)
@blp.response(200, ReportStaffDetailSchema)
def remove_photo(report_id: int, photo_id: int):
    """Remove a photo from the public view (the file stays, admins only)."""
    photo = reports.get_report_photo(report_id, photo_id)
    return _committed(moderation.remove_photo(current_staff(), photo).report)


# --- bulk, export, statistics ----------------------------------------------------------


@blp.post("/reports/bulk")
@staff_required(*MODERATORS)
@blp.arguments(BulkInputSchema)
@blp.response(200, BulkResultSchema)
def bulk(data):
    """Assign, acknowledge or reject-as-spam many reports; each one succeeds or fails alone."""
    assignment = {k: data[k] for k in ("department", "assignee_id") if k in data}
    outcome = bulk_actions.apply_bulk_action(
        current_staff(), data["action"], data["ids"], **assignment
    )
    db.session.commit()
    return outcome


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
    rows = export.export_reports(staff, full=full)
    db.session.commit()  # the audit entry stands before the first row leaves
    response = Response(stream_with_context(rows), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="meldungen-{args["kind"]}.csv"'
    return response


@blp.get("/reports/statistics")
@staff_required(*MODERATORS)
@blp.response(200, StatisticsSchema)
def stats():
    """Reports per category, status, district and week; response times; backlog age."""
    return statistics.compute_statistics(utcnow())
