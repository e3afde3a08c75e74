"""Scheduled sending of the mail outbox."""

from __future__ import annotations

from cityapp.mail.service import send_due_mail
from cityapp.scheduler import JOBS, Every, JobSpec, runner_name


def send_mail() -> dict[str, int]:
    """Send due messages from the outbox (claims each row before sending; commits)."""
    return send_due_mail(runner=runner_name())


SEND_MAIL = JobSpec(
    id="mail-outbox",
    func=send_mail,
    schedule=lambda app: Every(app.config["CITYAPP_MAIL_INTERVAL_S"]),
    description="send queued mail with retry and backoff",
    misfire_grace_s=60,
)

if all(spec.id != SEND_MAIL.id for spec in JOBS):
    JOBS.append(SEND_MAIL)
