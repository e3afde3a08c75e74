"""The status workflow: the transition graph, the reporter's reopening, notes, assignment,
merging duplicates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select

from cityapp.auth.models import Installation, StaffUser
from cityapp.auth.service import Actor, record_audit
from cityapp.db import db
from cityapp.errors import Conflict, ValidationError
from cityapp.feedback.models import OPEN_STATUSES, Report, ReportStatus, ReportSupporter
from cityapp.feedback.service.events import record_event
from cityapp.feedback.service.state import (
    STATUS_LABELS_DE,
    check_note,
    is_reopen_window_open,
    stamp_closure,
    stamp_first_response,
)

S = ReportStatus
#: Staff transitions. ``reopened`` is the reporter's (within 30 days of resolution) and
#: ``withdrawn`` too; both are reached through the tracking token, never by staff.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.SUBMITTED: frozenset({S.ACKNOWLEDGED, S.REJECTED, S.DUPLICATE, S.FORWARDED}),
    S.ACKNOWLEDGED: frozenset({S.IN_PROGRESS, S.RESOLVED, S.REJECTED, S.DUPLICATE, S.FORWARDED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.FORWARDED}),
    S.RESOLVED: frozenset(),
    S.REOPENED: frozenset({S.ACKNOWLEDGED, S.IN_PROGRESS, S.RESOLVED}),
    S.REJECTED: frozenset(),
    S.DUPLICATE: frozenset(),
    S.FORWARDED: frozenset(),
    S.WITHDRAWN: frozenset(),
}
REPORTER_TRANSITIONS: dict[str, frozenset[str]] = {
    S.RESOLVED: frozenset({S.REOPENED}),
    **{status: frozenset({S.WITHDRAWN}) for status in OPEN_STATUSES},
}


def change_status(
    actor: Actor,
    report: Report,
    to_status: str,
    *,
    public_note: str | None = None,
    internal_note: str | None = None,
    forwarded_to: str | None = None,
) -> Report:
    """Move a report along the graph; anything else is 409."""
    previous = report.status
    if to_status not in TRANSITIONS:
        raise ValidationError(errors={"status": [f"Unknown status {to_status!r}."]})
    if to_status not in TRANSITIONS[previous]:
        raise Conflict(f"A report cannot go from {previous} to {to_status}.")
    if to_status == S.DUPLICATE:
        raise Conflict("Merge the report into its original to mark it a duplicate.")
    if to_status == S.FORWARDED:
        forwarded_to = (forwarded_to or "").strip()
        if not forwarded_to:
            raise ValidationError(errors={"forwarded_to": ["Say where the report went."]})
        report.forwarded_to = forwarded_to[:200]
    public_note, internal_note = check_note(public_note), check_note(internal_note)
    report.status = to_status
    stamp_closure(report)
    stamp_first_response(report)
    record_audit(
        actor,
        "report.status",
        object_type="report",
        object_id=report.id,
        summary=f"{previous} -> {to_status}",
    )
    record_event(
        actor,
        report,
        "status",
        from_status=previous,
        to_status=to_status,
        public_note=public_note,
        internal_note=internal_note,
        notify=True,
    )
    return report


def reopen_report(report: Report, reason: str | None) -> Report:
    """The reporter reopens a resolved report within the reopen window, saying why."""
    reason = check_note(reason)
    if report.status != S.RESOLVED:
        raise Conflict(f"Only resolved reports can be reopened (this one is {report.status}).")
    if not is_reopen_window_open(report):
        raise Conflict("The report was resolved too long ago to reopen it.")
    if not reason:
        raise ValidationError(errors={"reason": ["Say why the problem is not solved."]})
    report.status = S.REOPENED
    stamp_closure(report)
    record_event(
        "reporter",
        report,
        "status",
        from_status=S.RESOLVED,
        to_status=S.REOPENED,
        public_note=reason,
        notify=True,
    )
    return report


def add_note(
    actor: Actor, report: Report, *, public_note: str | None, internal_note: str | None
) -> Report:
    """A public note (the reporter is told) and/or an internal one."""
    public_note, internal_note = check_note(public_note), check_note(internal_note)
    if not public_note and not internal_note:
        raise ValidationError(errors={"public_note": ["Give a public or an internal note."]})
    stamp_first_response(report)
    record_audit(actor, "report.note", object_type="report", object_id=report.id)
    record_event(
        actor,
        report,
        "note" if public_note else "internal_note",
        from_status=report.status,
        to_status=report.status,
        public_note=public_note,
        internal_note=internal_note,
        notify=bool(public_note),
    )
    return report


_UNSET = object()


def assign_report(
    actor: Actor,
    report: Report,
    *,
    department: str | object | None = _UNSET,
    assignee_id: int | object | None = _UNSET,
    expected_at: datetime | object | None = _UNSET,
) -> Report:
    """Set department, assignee and expected date; only what is given changes."""
    changes: dict = {}
    if department is not _UNSET:
        changes["department"] = department
    if assignee_id is not _UNSET:
        if assignee_id is not None:
            staff = db.session.get(StaffUser, assignee_id)
            if staff is None or not staff.is_active:
                raise ValidationError(errors={"assignee_id": ["No active staff member."]})
        changes["assignee_id"] = assignee_id
    if expected_at is not _UNSET:
        changes["expected_at"] = expected_at
    changed = {k: v for k, v in changes.items() if getattr(report, k) != v}
    for key, value in changed.items():
        setattr(report, key, value)
    if changed:
        record_audit(
            actor,
            "report.assign",
            object_type="report",
            object_id=report.id,
            changes={k: str(v) if v is not None else None for k, v in changed.items()},
        )
        record_event(
            actor,
            report,
            "assignment",
            internal_note=", ".join(f"{k}={v}" for k, v in sorted(changed.items())),
        )
    return report


def merge_reports(actor: Actor, duplicate: Report, original: Report) -> Report:
    """Mark ``duplicate`` as a duplicate of ``original``: its supporters (and its reporter's
    installation) support the original, and its tracking token follows the original."""
    if duplicate.id == original.id:
        raise Conflict("A report cannot be merged into itself.")
    if original.duplicate_of_id is not None:
        raise Conflict("The original is itself a duplicate; merge into its original.")
    if S.DUPLICATE not in TRANSITIONS[duplicate.status]:
        raise Conflict(f"A {duplicate.status} report cannot become a duplicate.")
    if duplicate.category_id != original.category_id:
        raise Conflict("Only reports of the same category can be merged.")
    previous = duplicate.status
    duplicate.status = S.DUPLICATE
    duplicate.duplicate_of_id = original.id
    stamp_closure(duplicate)
    stamp_first_response(duplicate)
    already = set(
        db.session.scalars(
            select(ReportSupporter.installation_id).where(ReportSupporter.report_id == original.id)
        )
    )
    moving = set(
        db.session.scalars(
            select(ReportSupporter.installation_id).where(ReportSupporter.report_id == duplicate.id)
        )
    )
    if duplicate.installation_id is not None:
        moving.add(duplicate.installation_id)
    moving -= already
    moving.discard(original.installation_id)
    db.session.execute(delete(ReportSupporter).where(ReportSupporter.report_id == duplicate.id))
    for installation_id in sorted(moving):
        if db.session.get(Installation, installation_id) is not None:
            db.session.add(ReportSupporter(report_id=original.id, installation_id=installation_id))
    db.session.flush()
    original.supporters_count = db.session.scalar(
        select(func.count(ReportSupporter.id)).where(ReportSupporter.report_id == original.id)
    )
    duplicate.supporters_count = 0
    record_audit(
        actor,
        "report.merge",
        object_type="report",
        object_id=duplicate.id,
        summary=f"merged into {original.id}",
    )
    status_label = STATUS_LABELS_DE.get(original.status, original.status)
    record_event(
        actor,
        duplicate,
        "merged",
        from_status=previous,
        to_status=S.DUPLICATE,
        public_note=(
            f"Dieses Anliegen wurde bereits gemeldet (Meldung Nr. {original.id}, "
            f"Stand: {status_label}). Sie verfolgen ab jetzt diese Meldung."
        ),
        notify=True,
    )
    record_event(actor, original, "merged_in", internal_note=f"report {duplicate.id} merged in")
    return duplicate
