"""Bulk actions over many reports: each report succeeds or fails on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cityapp.auth.service import Actor
from cityapp.db import db
from cityapp.errors import AppError, ValidationError
from cityapp.feedback.models import RejectionReason, ReportStatus
from cityapp.feedback.service.moderation import reject_report
from cityapp.feedback.service.reports import get_report
from cityapp.feedback.service.workflow import assign_report, change_status

BULK_ACTIONS = ("assign", "acknowledge", "reject_spam")


@dataclass
class BulkOutcome:
    done: list[int] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)


def apply_bulk_action(
    actor: Actor, action: str, report_ids: list[int], **assignment: Any
) -> BulkOutcome:
    """Assign (``assignment``: department and/or assignee_id), acknowledge or reject as spam.
    Each report runs in its own savepoint, so one failure undoes only that report's part;
    the caller commits the rest."""
    if action not in BULK_ACTIONS:
        raise ValidationError(errors={"action": [f"One of {', '.join(BULK_ACTIONS)}."]})
    outcome = BulkOutcome()
    for report_id in report_ids:
        savepoint = db.session.begin_nested()
        try:
            report = get_report(report_id)
            if action == "assign":
                assign_report(actor, report, **assignment)
            elif action == "acknowledge":
                change_status(actor, report, ReportStatus.ACKNOWLEDGED)
            else:
                reject_report(actor, report, RejectionReason.SPAM)
            savepoint.commit()
            outcome.done.append(report_id)
        except AppError as error:
            savepoint.rollback()
            outcome.failed[str(report_id)] = error.detail or error.title
    return outcome
