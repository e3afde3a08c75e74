"""CSV export of reports, streamed row by row (public columns, or full for admins)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db
from cityapp.feedback.models import Report

PUBLIC_COLUMNS = [
    "id",
    "category",
    "status",
    "moderation_state",
    "public_description",
    "lat",
    "lon",
    "address",
    "district_id",
    "supporters_count",
    "created_at",
    "closed_at",
]
FULL_COLUMNS = [
    *PUBLIC_COLUMNS,
    "description",
    "department",
    "assignee_id",
    "rejection_reason",
    "flags_count",
    "first_response_at",
    "resolved_at",
    "contact_email",
    "contact_name",
    "contact_phone",
]


def _value(report: Report, column: str) -> object:
    if column == "category":
        return report.category.code
    if column.startswith("contact_"):
        contact = report.contact
        return getattr(contact, column.removeprefix("contact_")) if contact else ""
    value = getattr(report, column)
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _safe(value: object) -> object:
    """Defuse spreadsheet formulas in resident text (CSV injection)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def export_reports(actor: Actor, *, full: bool) -> Iterator[str]:
    """Audit-log the export now (it must be committed before any row leaves) and return the
    CSV lines, produced lazily while the response streams."""
    record_audit(actor, "report.export", object_type="report", summary="full" if full else "public")
    return _rows(full=full)


def _rows(*, full: bool) -> Iterator[str]:
    columns = FULL_COLUMNS if full else PUBLIC_COLUMNS
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        data = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return data

    writer.writerow(columns)
    yield "\ufeff" + flush()
    query = (
        select(Report)
        .options(selectinload(Report.category), selectinload(Report.contact))
        .order_by(Report.id)
        .execution_options(yield_per=200)
    )
    for report in db.session.scalars(query):
        writer.writerow([_safe(_value(report, c)) for c in columns])
        yield flush()
