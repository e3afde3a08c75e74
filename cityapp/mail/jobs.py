"""Scheduled sending of the mail outbox: the edge that commits around each delivery."""

from __future__ import annotations

from datetime import datetime

from cityapp.db import db, set_sqlite_begin_mode, utcnow
from cityapp.mail.service import (
    claim_mail,
    deliver_claimed_mail,
    due_mail_ids,
    fail_interrupted_mail,
    purge_old_mail,
)
from cityapp.scheduling import Every, JobSpec, runner_name


def send_due_mail(
    now: datetime | None = None, runner: str | None = None, limit: int = 50
) -> dict[str, int]:
    """Send due messages from the outbox, each at most once. Commits the claim of each message
    before any byte goes to the SMTP server, then its outcome."""
    now = now or utcnow()
    runner = runner or runner_name()
    set_sqlite_begin_mode("IMMEDIATE")
    counts = {"sent": 0, "retry": 0, "failed": 0, "interrupted": fail_interrupted_mail(now)}
    db.session.commit()
    for message_id in due_mail_ids(now, limit):
        claimed = claim_mail(message_id, runner, now)
        db.session.commit()
        if not claimed:
            continue  # another sender took it
        counts[deliver_claimed_mail(message_id, now)] += 1
        db.session.commit()
    return counts


def mail_retention(now: datetime | None = None) -> dict[str, int]:
    """Delete sent and finally-failed outbox rows older than the retention; committed with the
    job's run record by the scheduler (``run_guarded``)."""
    return {"mail_purged": purge_old_mail(now or utcnow())}


JOBS = (
    JobSpec(
        id="mail.outbox",
        func=send_due_mail,
        schedule=lambda app: Every(app.config["CITYAPP_MAIL_INTERVAL_S"]),
        description="send queued mail with retry and backoff",
        misfire_grace_s=60,
    ),
    JobSpec(
        id="mail.retention",
        func=mail_retention,
        schedule=lambda app: Every(3600),
        description="delete sent and failed mail older than CITYAPP_MAIL_RETENTION_DAYS",
    ),
)
