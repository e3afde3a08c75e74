"""The staff queue: filtering and counting reports, and what staff reading a report leaves
behind (the contact-view audit). The JSON API and the HTML console both call this."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, utcnow
from cityapp.feedback.models import Report, ReportCategory, ReportFlag

#: Oldest first: the queue is worked from the bottom of the pile.
QUEUE_ORDER = [(Report.created_at, "asc"), (Report.id, "asc")]


#: Filters that ask for one value of one column.
_EQUAL_TO = {
    "moderation_state": Report.moderation_state,
    "status": Report.status,
    "category": ReportCategory.code,
    "district": Report.district_id,
    "department": Report.department,
    "assignee_id": Report.assignee_id,
}


def filter_queue(filters: dict[str, Any]) -> Select:
    """Reports matching the staff filters (any subset of the StaffQuerySchema keys)."""
    query = select(Report).join(ReportCategory, Report.category_id == ReportCategory.id)
    for key, column in _EQUAL_TO.items():
        if key in filters:
            query = query.where(column == filters[key])
    if "flagged" in filters:
        flagged = select(ReportFlag.report_id).where(ReportFlag.is_resolved.is_(False))
        query = query.where(
            Report.id.in_(flagged) if filters["flagged"] else Report.id.not_in(flagged)
        )
    if "older_than_days" in filters:
        cutoff = utcnow() - timedelta(days=filters["older_than_days"])
        query = query.where(Report.created_at <= cutoff)
    if "q" in filters:
        needle = f"%{filters['q'].lower()}%"
        query = query.where(
            func.lower(Report.description).like(needle)
            | func.lower(func.coalesce(Report.public_description, "")).like(needle)
            | func.lower(func.coalesce(Report.address, "")).like(needle)
        )
    return query


def with_queue_parts(query: Select) -> Select:
    """Load what a queue row shows (category code, whether there is contact data)."""
    return query.options(selectinload(Report.category), selectinload(Report.contact))


def count_queue(query: Select) -> dict[str, Any]:
    """Totals for a filtered queue: per moderation state, per status, and how many are flagged."""
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


def record_contact_view(actor: Actor, report: Report) -> Report:
    """Staff are about to see the report with its contact data: that is audit-logged."""
    if report.contact is not None:
        record_audit(
            actor,
            "report.contact_view",
            object_type="report",
            object_id=report.id,
            summary="contact data viewed",
        )
    return report
