"""Scheduled survey work: store the status changes that opens_at / closes_at imply."""

from __future__ import annotations

from cityapp.auth.service import SCHEDULER
from cityapp.scheduling import Every, JobSpec
from cityapp.surveys.service import flip_survey_statuses


def flip_statuses() -> dict[str, int]:
    """Open scheduled surveys and close open ones whose dates have come (committed by the
    scheduler's guarded run). Reads never depend on it: dates are enforced at query time."""
    return flip_survey_statuses(SCHEDULER)


JOBS = (
    JobSpec(
        id="surveys.statuses",
        func=flip_statuses,
        schedule=lambda app: Every(app.config["CITYAPP_SURVEY_STATUS_INTERVAL_S"]),
        description="open scheduled surveys and close expired ones by their dates",
    ),
)
