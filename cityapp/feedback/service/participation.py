"""What residents do with reports besides writing them: support ("me too"), flag, withdraw;
and the supporter counts that follow."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select, update

from cityapp.auth.models import Installation
from cityapp.auth.service.actors import SystemActor
from cityapp.db import db
from cityapp.errors import Conflict
from cityapp.feedback.models import Report, ReportFlag, ReportStatus, ReportSupporter
from cityapp.feedback.service.events import record_event
from cityapp.feedback.service.moderation import hide_report
from cityapp.feedback.service.state import require_open, stamp_closure

FLAGS = SystemActor("system:flags")
REPORTER = "reporter"


def withdraw_report(report: Report, reason: str | None = None) -> Report:
    """The reporter takes back a report that is still open."""
    require_open(report)
    previous = report.status
    report.status = ReportStatus.WITHDRAWN
    stamp_closure(report)
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
        hide_report(FLAGS, report, reason=f"{open_flags} flags")
    return True


def count_out_installation_support(_sender: Any, *, installation_id: int, **_kw: Any) -> None:
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


def recount_supporters() -> int:
    """Repair supporter counts that drifted from the support rows (a safety net for the nightly
    job: deletions now correct the count at once, see ``count_out_installation_support``). Returns
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
