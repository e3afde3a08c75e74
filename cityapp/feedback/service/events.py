"""History entries and the signal/notification that follow public ones."""

from __future__ import annotations

from cityapp.auth.service import Actor
from cityapp.auth.service.actors import actor_label
from cityapp.db import db, utcnow
from cityapp.feedback.models import Report, ReportEvent
from cityapp.feedback.service.notifications import notify_reporter
from cityapp.signals import report_status_changed, send_after_commit


def record_event(
    actor: Actor | str,
    report: Report,
    kind: str,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    public_note: str | None = None,
    internal_note: str | None = None,
    photo_id: int | None = None,
    notify: bool = False,
) -> ReportEvent:
    """Append to the report's history; ``notify`` tells the reporter (mail) and listeners."""
    label = actor if isinstance(actor, str) else actor_label(actor)
    event = ReportEvent(
        report=report,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        public_note=public_note,
        internal_note=internal_note,
        actor_label=label,
        photo_id=photo_id,
        created_at=utcnow(),
    )
    db.session.add(event)
    report.updated_at = utcnow()
    db.session.flush()
    if notify:
        notify_reporter(report, event)
        send_after_commit(
            db.session(),
            report_status_changed,
            "report",
            report_id=report.id,
            event_id=event.id,
            from_status=from_status,
            to_status=to_status,
            has_public_note=bool(public_note),
        )
    return event
