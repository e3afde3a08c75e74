"""Scheduled content work: flip statuses at publish/expiry boundaries, purge old tombstones.

Visibility never depends on this job (it is decided at query time); the job keeps statuses
tidy and emits content_changed so steles and push react close to the boundary.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import delete

from cityapp.auth.service import SCHEDULER
from cityapp.content.models import ContentTombstone
from cityapp.content.service.announcements import expire_announcements
from cityapp.content.service.news import expire_news
from cityapp.db import db, utcnow
from cityapp.scheduling import Every, JobSpec


def flip_content_statuses() -> dict[str, int]:
    """Publish what is due, archive what expired or was superseded, purge old tombstones."""
    now = utcnow()
    counts = expire_news(SCHEDULER, now)
    counts.update(expire_announcements(SCHEDULER, now))
    retention = timedelta(days=current_app.config["CITYAPP_TOMBSTONE_RETENTION_DAYS"])
    result = db.session.execute(
        delete(ContentTombstone).where(ContentTombstone.created_at < now - retention)
    )
    counts["tombstones_purged"] = result.rowcount or 0
    return counts


JOBS = (
    JobSpec(
        id="content.boundaries",
        func=flip_content_statuses,
        schedule=lambda app: Every(app.config["CITYAPP_CONTENT_JOB_INTERVAL_S"]),
        description="publish scheduled content, archive expired/superseded, purge tombstones",
        misfire_grace_s=60,
    ),
)
