"""Scheduled feedback work: the nightly retention run."""

from __future__ import annotations

from cityapp.auth.service import SCHEDULER
from cityapp.feedback.service.participation import recount_supporters
from cityapp.feedback.service.retention import apply_retention
from cityapp.scheduling import Daily, JobSpec


def run_retention() -> dict[str, int]:
    """Delete contact data and rejected photos, anonymise old reports (per category rules);
    repair supporter counts."""
    counts = apply_retention(SCHEDULER)
    counts["supporter_counts_repaired"] = recount_supporters()
    return counts


JOBS = (
    JobSpec(
        id="feedback.retention",
        func=run_retention,
        schedule=lambda app: Daily(app.config["CITYAPP_REPORT_RETENTION_HOUR"]),
        description="GDPR retention for citizen reports",
    ),
)
