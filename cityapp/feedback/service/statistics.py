"""Report statistics for staff: counts, response and resolution times, backlog age."""

from __future__ import annotations

from datetime import datetime
from statistics import median

from sqlalchemy import func, select

from cityapp.db import db
from cityapp.feedback.models import OPEN_STATUSES, Report, ReportCategory


def _hours(pairs: list[tuple[datetime, datetime | None]]) -> float | None:
    values = [(end - start).total_seconds() / 3600 for start, end in pairs if end is not None]
    return round(median(values), 2) if values else None


def compute_statistics(now: datetime) -> dict:
    """Counts per category, status, district and week; median response times; backlog."""
    by_category = dict(
        db.session.execute(
            select(ReportCategory.code, func.count(Report.id))
            .join(Report, Report.category_id == ReportCategory.id)
            .group_by(ReportCategory.code)
        ).all()
    )
    by_status = dict(
        db.session.execute(select(Report.status, func.count()).group_by(Report.status)).all()
    )
    by_district = {
        str(k) if k is not None else "none": v
        for k, v in db.session.execute(
            select(Report.district_id, func.count()).group_by(Report.district_id)
        ).all()
    }
    rows = db.session.execute(
        select(Report.created_at, Report.first_response_at, Report.resolved_at, Report.status)
    ).all()
    by_week: dict[str, int] = {}
    for created, *_rest in rows:
        year, week, _ = created.isocalendar()
        key = f"{year}-W{week:02d}"
        by_week[key] = by_week.get(key, 0) + 1
    open_ages = [
        (now - created).total_seconds() / 86400
        for created, _f, _r, status in rows
        if status in OPEN_STATUSES
    ]
    return {
        "by_category": by_category,
        "by_status": by_status,
        "by_district": by_district,
        "by_week": dict(sorted(by_week.items())),
        "median_first_response_hours": _hours([(c, f) for c, f, _r, _s in rows]),
        "median_resolution_hours": _hours([(c, r) for c, _f, r, _s in rows]),
        "backlog": {
            "open": len(open_ages),
            "oldest_days": round(max(open_ages), 1) if open_ages else None,
            "median_age_days": round(median(open_ages), 1) if open_ages else None,
            "older_than_30_days": sum(1 for a in open_ages if a > 30),
        },
    }
