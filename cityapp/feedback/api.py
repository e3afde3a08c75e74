"""Public feedback API: categories, submitting reports, public reads, the reporter's
tracking token, supporters, flags, and an installation's own reports."""

from __future__ import annotations

from typing import Any

import marshmallow
from flask import current_app, g, request
from flask_smorest import Blueprint

from cityapp.auth.permissions import current_installation, installation_required, raise_auth_error
from cityapp.db import db
from cityapp.errors import BadRequest, ValidationError
from cityapp.extensions import limiter
from cityapp.feedback import present
from cityapp.feedback.models import Report
from cityapp.feedback.schemas import (
    CategoryListSchema,
    CommentInputSchema,
    FlagInputSchema,
    MyReportPageSchema,
    PublicListQuerySchema,
    ReasonInputSchema,
    ReportCreatedSchema,
    ReportInputSchema,
    ReportPublicDetailSchema,
    ReportPublicPageSchema,
    ReportTrackSchema,
    SupportResultSchema,
)
from cityapp.feedback.service import categories, participation, reports, state, workflow
from cityapp.http.checks import accepts
from cityapp.http.json_guard import load_json_text
from cityapp.http.languages import negotiate_language
from cityapp.http.pagination import paginate

blp = Blueprint("feedback", __name__, url_prefix="/api/v1", description="Citizen reports")


def _report_limit() -> str:
    return current_app.config["CITYAPP_REPORT_RATE_LIMIT"]


def _report_ip_limit() -> str:
    return current_app.config["CITYAPP_REPORT_IP_RATE_LIMIT"]


def _ip_key() -> str:
    return f"ip:{request.remote_addr or 'unknown'}"


# One budget per credential (or per IP without one) and one per IP across all credentials:
# a script cannot dodge the limit by registering many installations.
report_rate_limit = limiter.shared_limit(_report_limit, scope="report-submit")
report_ip_rate_limit = limiter.shared_limit(
    _report_ip_limit, scope="report-submit-ip", key_func=_ip_key
)


def _load(schema: marshmallow.Schema, data: Any) -> dict:
    try:
        return schema.load(data)
    except marshmallow.ValidationError as error:
        messages = (
            error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        )
        raise ValidationError(
            "The request did not validate; see errors.", errors=messages
        ) from None


def _uploads(name: str) -> list[bytes]:
    limit = current_app.config["CITYAPP_REPORT_MAX_PHOTOS"]
    files = request.files.getlist(name)
    if len(files) > limit:
        raise ValidationError(errors={"photos": [f"At most {limit} photos per report."]})
    return [f.read(request.max_content_length or -1) for f in files]


def _optional_installation():
    raise_auth_error()
    return g.get("installation")


# --- categories ------------------------------------------------------------------------


@blp.get("/report-categories")
@blp.response(200, CategoryListSchema)
def list_categories():
    """Active report categories with their attributes (in the negotiated language)."""
    language = negotiate_language()
    return {"items": [present.category_public(c, language) for c in categories.active_categories()]}


# --- submitting ------------------------------------------------------------------------


@blp.post("/reports")
@report_rate_limit
@report_ip_rate_limit
@accepts("multipart/form-data")
@blp.response(201, ReportCreatedSchema)
@blp.doc(
    description="JSON body, or multipart/form-data with the JSON in field `data` and up to "
    "five image files in field `photos`.",
    requestBody={
        "required": True,
        "content": {
            "application/json": {"schema": ReportInputSchema},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["data"],
                    "properties": {
                        "data": {"type": "string", "description": "The report as JSON."},
                        "photos": {
                            "type": "array",
                            "maxItems": 5,
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            },
        },
    },
)
def submit_report():
    """Submit a report; the reply carries the tracking token (shown once)."""
    installation = _optional_installation()
    if request.mimetype == "multipart/form-data":
        try:
            raw = load_json_text(request.form.get("data") or "{}", "data")
        except ValueError:
            raise BadRequest("Field 'data' must hold the report as JSON.") from None
        photos = _uploads("photos")
    else:
        raw = request.get_json(silent=True)
        if raw is None:
            raise BadRequest("The request body is not valid JSON.")
        photos = []
    data = _load(ReportInputSchema(), raw)
    submission = reports.submit_report(
        category_code=data["category"],
        description=data["description"],
        lat=data["lat"],
        lon=data["lon"],
        address=data["address"],
        attributes=data["attributes"],
        contact=data["contact"],
        installation=installation,
        photos=photos,
        honeypot=data["website"],
    )
    db.session.commit()
    report = submission.report
    return {
        "id": report.id,
        "tracking_token": submission.tracking_token,
        "status": report.status,
        "moderation_state": report.moderation_state,
        "possible_duplicates": [
            {
                "id": dup.id,
                "description": dup.public_description,
                "status": dup.status,
                "distance_m": round(distance, 1),
                "supporters_count": dup.supporters_count,
            }
            for dup, distance in submission.possible_duplicates
        ],
    }


# --- public reads ----------------------------------------------------------------------


@blp.get("/reports")
@blp.arguments(PublicListQuerySchema, location="query")
@blp.response(200, ReportPublicPageSchema)
def list_reports(args):
    """Published reports, newest first."""
    language = negotiate_language()
    query = reports.with_public_parts(reports.filter_public_reports(args))
    order = [(Report.created_at, "desc"), (Report.id, "desc")]
    page = paginate(db.session, query, order, limit=args["limit"], cursor=args["cursor"])
    return {
        "items": [present.report_public(r, language) for r in page.items],
        "next_cursor": page.next_cursor,
    }


@blp.get("/reports/<int:report_id>")
@blp.response(200, ReportPublicDetailSchema)
def get_report(report_id: int):
    """A published report with its public history."""
    report = reports.get_public_report(report_id)
    return present.report_public(report, negotiate_language(), with_history=True)


# --- the reporter's tracking token -----------------------------------------------------


def _track_body(report: Report) -> dict:
    original = reports.followed_report(report)
    return present.report_track(
        report,
        negotiate_language(),
        original if original.id != report.id else None,
        report.status == "resolved" and state.is_reopen_window_open(report),
    )


@blp.get("/reports/track/<token>")
@blp.response(200, ReportTrackSchema)
def track_report(token: str):
    """The reporter's view: status and full public history (no account needed)."""
    return _track_body(reports.find_by_tracking_token(token))


@blp.post("/reports/track/<token>/comments")
@report_rate_limit
@blp.arguments(CommentInputSchema)
@blp.response(201, ReportTrackSchema)
def comment_report(data, token: str):
    """Add a comment while the report is open."""
    report = reports.find_by_tracking_token(token)
    reports.add_reporter_comment(report, data["comment"])
    db.session.commit()
    return _track_body(report)


@blp.post("/reports/track/<token>/photos")
@report_rate_limit
@accepts("multipart/form-data")
@blp.response(201, ReportTrackSchema)
def add_photo(token: str):
    """Add a photo (multipart field "photo") while the report is open."""
    report = reports.find_by_tracking_token(token)
    upload = request.files.get("photo")
    if upload is None:
        raise ValidationError(errors={"photo": ["Upload an image in field 'photo'."]})
    reports.add_reporter_photo(report, upload.read(request.max_content_length or -1))
    db.session.commit()
    return _track_body(report)


@blp.post("/reports/track/<token>/withdraw")
@blp.arguments(ReasonInputSchema)
@blp.response(200, ReportTrackSchema)
def withdraw_report(data, token: str):
    """Withdraw the report (while it is open)."""
    report = reports.find_by_tracking_token(token)
    participation.withdraw_report(report, data["reason"])
    db.session.commit()
    return _track_body(report)


@blp.post("/reports/track/<token>/reopen")
@blp.arguments(ReasonInputSchema)
@blp.response(200, ReportTrackSchema)
def reopen_report(data, token: str):
    """Reopen a resolved report within 30 days, saying why."""
    report = reports.find_by_tracking_token(token)
    workflow.reopen_report(report, data["reason"])
    db.session.commit()
    return _track_body(report)


# --- installations ---------------------------------------------------------------------


@blp.post("/reports/<int:report_id>/support")
@installation_required
@blp.response(200, SupportResultSchema)
def support_report(report_id: int):
    """Support a public report ("me too"); one per installation."""
    report = reports.get_public_report(report_id)
    is_new = participation.support_report(report, current_installation())
    db.session.commit()
    return {"supporters_count": report.supporters_count, "is_new": is_new}


@blp.post("/reports/<int:report_id>/flags")
@installation_required
@blp.arguments(FlagInputSchema)
@blp.response(204)
def flag_report(data, report_id: int):
    """Flag a public report for moderators; one flag per installation."""
    report = reports.get_public_report(report_id)
    participation.flag_report(report, current_installation(), data["reason"], data["comment"])
    db.session.commit()


@blp.get("/installations/me/reports")
@installation_required
@blp.arguments(PublicListQuerySchema(only=("limit", "cursor")), location="query")
@blp.response(200, MyReportPageSchema)
def my_reports(args):
    """The reports sent from this installation, newest first."""
    query = reports.installation_reports(current_installation())
    order = [(Report.created_at, "desc"), (Report.id, "desc")]
    page = paginate(db.session, query, order, limit=args["limit"], cursor=args["cursor"])
    return {"items": [present.my_report(r) for r in page.items], "next_cursor": page.next_cursor}
