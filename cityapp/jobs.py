"""The core's scheduled work: housekeeping of login throttles, tokens, audit and job runs."""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from cityapp.auth.service.housekeeping import purge_expired_auth_records
from cityapp.db import db, utcnow
from cityapp.scheduling import Every, JobRun, JobSpec


def housekeeping() -> dict[str, int]:
    """Purge expired login throttles, old tokens and old job-run records."""
    counts = purge_expired_auth_records()
    cutoff = utcnow() - timedelta(days=current_app.config["CITYAPP_JOB_RUN_RETENTION_DAYS"])
    result = db.session.execute(delete(JobRun).where(JobRun.started_at < cutoff))
    counts["job_runs"] = result.rowcount or 0
    return counts


JOBS = (
    JobSpec(
        id="core.housekeeping",
        func=housekeeping,
        schedule=lambda app: Every(app.config["CITYAPP_HOUSEKEEPING_INTERVAL_S"]),
        description="purge expired login throttles, revoked tokens, old job runs",
    ),
)
