"""Open311 GeoReport v2 endpoints. Only published reports of public categories appear, only
their public text, never contact data or internal notes."""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, request, url_for
from sqlalchemy import select

from cityapp.auth.models import TokenScope
from cityapp.auth.service.tokens import resolve_staff_token
from cityapp.db import db, utcnow
from cityapp.errors import AppError, BadRequest, Forbidden, NotFound
from cityapp.feedback import present
from cityapp.feedback.models import OPEN_STATUSES, Report, ReportCategory, ReportEvent
from cityapp.feedback.open311.render import respond
from cityapp.feedback.service import categories, reports
from cityapp.fields import MAX_YEAR, MIN_YEAR, check_datetime_range, parse_id
from cityapp.http.languages import pick_translation

bp = Blueprint("open311", __name__, url_prefix="/open311/v2")

FORMATS = ("json", "xml")
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
_UPDATE_KINDS = ("status", "note", "merged")
_ATTRIBUTE_RE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")


@bp.before_request
def _check_request() -> None:
    fmt = (request.view_args or {}).get("fmt")
    if fmt is not None and fmt not in FORMATS:
        raise NotFound("Use the .json or .xml suffix.")
    jurisdiction = request.values.get("jurisdiction_id")
    if jurisdiction and jurisdiction != current_app.config["CITYAPP_OPEN311_JURISDICTION"]:
        raise NotFound(f"Unknown jurisdiction {jurisdiction!r}.")


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    zone = ZoneInfo(current_app.config["CITYAPP_TIMEZONE"])
    return value.astimezone(zone).isoformat(timespec="seconds")


def _parse_date(name: str) -> datetime | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date-time.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(current_app.config["CITYAPP_TIMEZONE"]))
    try:
        return check_datetime_range(value)
    except ValueError:
        raise BadRequest(f"{name} must lie in the years {MIN_YEAR} to {MAX_YEAR}.") from None


def _open311_status(status: str | None) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


# --- discovery and services ------------------------------------------------------------


@bp.get("/discovery.<fmt>")
def discovery(fmt: str):
    """Where and how this server speaks GeoReport v2."""
    base = url_for("open311.services", fmt="xml", _external=True).rsplit("/", 1)[0]
    payload = {
        "changeset": "2026-11-22T00:00:00Z",
        "contact": current_app.config["CITYAPP_OPEN311_CONTACT"],
        "key_service": "API keys are staff API tokens issued by the administration.",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": base,
                "changeset": "2026-11-22T00:00:00Z",
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return respond(fmt, "discovery", payload)


def _service(category: ReportCategory) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": pick_translation(category.name, "de"),
        "description": pick_translation(category.description, "de") or "",
        "metadata": bool(category.attributes),
        "type": "realtime",
        "keywords": ", ".join(category.keywords or []),
        "group": category.group or "",
    }


@bp.get("/services.<fmt>")
def services(fmt: str):
    """The categories residents can report in (private ones included: they take reports)."""
    items = [_service(c) for c in categories.active_categories()]
    return respond(fmt, "services", items, item="service")


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str):
    """A service's attributes."""
    category = categories.find_category(code)
    if category is None or not category.is_active:
        raise NotFound(f"Unknown service {code!r}.")
    payload = {
        "service_code": category.code,
        "attributes": [
            {
                "variable": True,
                "code": a["code"],
                "datatype": a["datatype"],
                "required": a["required"],
                "datatype_description": a.get("datatype_description") or "",
                "order": a["order"],
                "description": a.get("description") or a["code"],
                "values": a.get("values") or [],
            }
            for a in category.attributes
        ],
    }
    return respond(fmt, "service_definition", payload)


# --- requests --------------------------------------------------------------------------


def _status_notes(report: Report) -> str:
    notes = [e.public_note for e in report.events if e.kind in _UPDATE_KINDS and e.public_note]
    return notes[-1] if notes else ""


def _request(report: Report) -> dict[str, Any]:
    photos = present.public_photos(report)
    return {
        "service_request_id": str(report.id),
        "status": _open311_status(report.status),
        "status_notes": _status_notes(report),
        "service_name": pick_translation(report.category.name, "de"),
        "service_code": report.category.code,
        "description": report.public_description or "",
        "agency_responsible": report.department or "",
        "service_notice": "",
        "requested_datetime": _when(report.created_at),
        "updated_datetime": _when(report.updated_at),
        "expected_datetime": _when(report.expected_at),
        "address": report.address or "",
        "address_id": "",
        "zipcode": "",
        "lat": report.lat,
        "long": report.lon,
        "media_url": photos[0]["url"] if photos else "",
    }


def _int_arg(name: str, default: int, lowest: int, highest: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19 or not lowest <= int(raw) <= highest:
        raise BadRequest(f"{name} must be a whole number from {lowest} to {highest}.")
    return int(raw)


@bp.get("/requests.<fmt>")
def list_requests(fmt: str):
    """Public requests: by ids, or filtered (90-day default window, at most 1000)."""
    query = reports.public_query()
    ids = request.args.get("service_request_id")
    if ids:
        wanted = [part.strip() for part in ids.split(",") if part.strip()]
        if not all(part.isascii() and part.isdigit() for part in wanted):
            raise BadRequest("service_request_id takes a comma-separated list of ids.")
        # An id no row can have finds nothing (the driver would overflow on it).
        numbers = [parse_id(part) for part in wanted]
        query = query.where(Report.id.in_([n for n in numbers if n is not None]))
    else:
        codes = [c.strip() for c in request.args.get("service_code", "").split(",") if c.strip()]
        if codes:
            query = query.where(ReportCategory.code.in_(codes))
        start, end = _parse_date("start_date"), _parse_date("end_date")
        if start is None and end is None:
            end = utcnow()
            start = end - DEFAULT_WINDOW
        elif start is None:
            start = end - DEFAULT_WINDOW
        if start is not None:
            query = query.where(Report.created_at >= start)
        if end is not None:
            query = query.where(Report.created_at <= end)
        statuses = [s.strip() for s in request.args.get("status", "").split(",") if s.strip()]
        if any(s not in ("open", "closed") for s in statuses):
            raise BadRequest("status is open or closed.")
        if statuses == ["open"]:
            query = query.where(Report.status.in_([str(s) for s in OPEN_STATUSES]))
        elif statuses == ["closed"]:
            query = query.where(Report.status.not_in([str(s) for s in OPEN_STATUSES]))
    page_size = _int_arg("page_size", MAX_RESULTS, 1, MAX_RESULTS)
    page = _int_arg("page", 1, 1, 1_000_000)
    query = (
        query.order_by(Report.created_at.desc(), Report.id.desc())
        .limit(page_size)
        .offset((page - 1) * page_size)
    )
    query = reports.with_public_parts(query, events=True)
    items = [_request(r) for r in db.session.scalars(query)]
    return respond(fmt, "service_requests", items, item="request")


@bp.get("/requests/<int:request_id>.<fmt>")
def get_request(request_id: int, fmt: str):
    """One public request, wrapped in a list."""
    report = db.session.scalar(reports.public_query().where(Report.id == request_id))
    if report is None:
        raise NotFound(f"No request {request_id}.")
    return respond(fmt, "service_requests", [_request(report)], item="request")


def _attributes() -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in request.form:
        match = _ATTRIBUTE_RE.match(key)
        if match is None:
            continue
        code, is_list = match.group(1), bool(match.group(2))
        values[code] = request.form.getlist(key) if is_list else request.form.get(key)
    return values


def _float(name: str) -> float | None:
    raw = request.form.get(name)
    if raw in (None, ""):
        return None
    try:
        number = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number.") from None
    if not math.isfinite(number):
        raise BadRequest(f"{name} must be a finite number.")
    return number


@bp.post("/requests.<fmt>")
def create_request(fmt: str):
    """Create a request (api_key = staff API token with the write scope); it enters
    moderation like any other report."""
    key = request.form.get("api_key", "")
    token = resolve_staff_token(key) if key and len(key) <= 200 else None
    if token is None or TokenScope.WRITE not in token.scopes:
        raise Forbidden("A valid api_key is required.")
    code = request.form.get("service_code", "")
    if not code:
        raise BadRequest("service_code is required.")
    category = categories.find_category(code)
    if category is None or not category.is_active:
        raise NotFound(f"Unknown service {code!r}.")
    lat, lon = _float("lat"), _float("long")
    address = request.form.get("address_string") or request.form.get("address_id")
    if (lat is None or lon is None) and not address:
        raise BadRequest("A location is required: lat and long, address_string or address_id.")
    name = " ".join(
        part for part in (request.form.get("first_name"), request.form.get("last_name")) if part
    )
    files = request.files.getlist("media")
    try:
        submission = reports.submit_report(
            category_code=code,
            description=request.form.get("description"),
            lat=lat,
            lon=lon,
            address=address,
            attributes=_attributes(),
            # Open311 has no consent field: we keep the contact for staff, never mail it.
            contact={
                "email": request.form.get("email"),
                "name": name or None,
                "phone": request.form.get("phone"),
                "consent": False,
            },
            photos=[f.read(request.max_content_length or -1) for f in files],
            source="open311",
        )
    except AppError as error:
        if error.status == 422:
            raise BadRequest(error.detail, errors=error.errors) from None
        raise
    db.session.commit()
    payload = [
        {
            "service_request_id": str(submission.report.id),
            "token": submission.report.open311_token,
            "service_notice": "Die Meldung wird vor der Veröffentlichung geprüft.",
            "account_id": request.form.get("account_id", ""),
        }
    ]
    return respond(fmt, "service_requests", payload, item="request", status=201)


@bp.get("/tokens/<token>.<fmt>")
def get_token(token: str, fmt: str):
    """The request id behind a token from POST /requests."""
    report = db.session.scalar(select(Report).where(Report.open311_token == token))
    if report is None:
        raise NotFound("Unknown token.")
    payload = [{"service_request_id": str(report.id), "token": token}]
    return respond(fmt, "service_requests", payload, item="request")


@bp.get("/servicerequestupdates.<fmt>")
def request_updates(fmt: str):
    """Public updates (status changes, public notes) of public requests (FixMyStreet)."""
    start, end = _parse_date("start_date"), _parse_date("end_date")
    if start is None:
        start = (end or utcnow()) - DEFAULT_WINDOW
    public_ids = reports.public_query().with_only_columns(Report.id)
    query = select(ReportEvent).where(
        ReportEvent.report_id.in_(public_ids),
        ReportEvent.kind.in_(_UPDATE_KINDS),
        ReportEvent.created_at >= start,
    )
    if end is not None:
        query = query.where(ReportEvent.created_at <= end)
    query = query.order_by(ReportEvent.created_at, ReportEvent.id).limit(MAX_RESULTS)
    items = [
        {
            "update_id": str(event.id),
            "service_request_id": str(event.report_id),
            "status": _open311_status(event.to_status),
            "updated_datetime": _when(event.created_at),
            "description": event.public_note or "",
            "media_url": "",
        }
        for event in db.session.scalars(query)
    ]
    return respond(fmt, "request_updates", items, item="request_update")
