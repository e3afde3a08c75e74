"""Scheduled media work: sweep files that no row references."""

from __future__ import annotations

from flask import current_app

from cityapp.media.service import purge_orphan_files
from cityapp.scheduling import Every, JobSpec


def purge_orphan_media() -> dict[str, int]:
    """Delete media files that no row references (failed uploads, failed deletions)."""
    min_age = current_app.config["CITYAPP_MEDIA_ORPHAN_MIN_AGE_S"]
    return {"orphan_media_purged": purge_orphan_files(min_age_s=min_age)}


JOBS = (
    JobSpec(
        id="media.orphans",
        func=purge_orphan_media,
        schedule=lambda app: Every(app.config["CITYAPP_MEDIA_ORPHAN_SWEEP_S"]),
        description="delete media files that no row references (failed uploads)",
    ),
)
