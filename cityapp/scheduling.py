"""What a scheduled job is and how one slot of it runs: schedules, JobSpec, the guarded run.

Domains describe their jobs with ``JobSpec`` in their own ``jobs.py``; ``cityapp.scheduler``
lists them and runs the process. Every run first claims its slot in ``job_runs`` (unique per
job and slot) in a committed transaction, so when two scheduler processes on two servers fire
the same slot, exactly one of them runs it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from cityapp.db import db, reset_sqlite_begin_mode, set_sqlite_begin_mode, utcnow

log = logging.getLogger("cityapp.scheduler")

# <domain>.<name>: lowercase words, the name may have hyphens (content.boundaries,
# kiosks.health-sweep). Job ids are stored in job_runs: renaming one needs a migration.
JOB_ID_PATTERN = r"^(core|[a-z]+)\.[a-z][a-z0-9-]*$"


class JobRun(db.Model):
    """One claimed slot of one job: the guard against running a slot twice."""

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job_id", "slot_at", name="uq_job_runs_job_id_slot_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(80))
    slot_at: Mapped[datetime]
    runner: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running")
    result: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<JobRun {self.job_id} {self.slot_at:%Y-%m-%dT%H:%M:%S} {self.status}>"


# --- schedules ---------------------------------------------------------------------------

_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Every:
    """Every N seconds, aligned to a fixed epoch so all schedulers agree on the slots."""

    seconds: int

    def slot(self, now: datetime) -> datetime:
        elapsed = int((now - _EPOCH).total_seconds())
        return _EPOCH + timedelta(seconds=elapsed - elapsed % self.seconds)

    def trigger_kwargs(self, tz: str) -> dict[str, Any]:
        return {"trigger": "interval", "seconds": self.seconds, "start_date": _EPOCH}


@dataclass(frozen=True)
class Daily:
    """Once a day at a local wall-clock time (pick one outside 02:00-03:00: DST skips it)."""

    hour: int
    minute: int = 0

    def slot(self, now: datetime, tz: str = "Europe/Berlin") -> datetime:
        zone = ZoneInfo(tz)
        today = now.astimezone(zone).date()
        for days_back in (0, 1):
            day = today - timedelta(days=days_back)
            # Built from the date, so the UTC offset of that day applies (DST nights).
            candidate = datetime(day.year, day.month, day.day, self.hour, self.minute, tzinfo=zone)
            if candidate <= now:
                return candidate.astimezone(UTC)
        raise AssertionError("unreachable: yesterday's slot is always in the past")

    def trigger_kwargs(self, tz: str) -> dict[str, Any]:
        return {"trigger": "cron", "hour": self.hour, "minute": self.minute, "timezone": tz}


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: Callable[[], Any]
    schedule: Callable[[Flask], Every | Daily]
    description: str = ""
    misfire_grace_s: int = field(default=300)

    def slot_at(self, app: Flask, now: datetime) -> datetime:
        """The slot that ``now`` falls in, by this job's schedule."""
        schedule = self.schedule(app)
        if isinstance(schedule, Daily):
            return schedule.slot(now, app.config["CITYAPP_TIMEZONE"])
        return schedule.slot(now)


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_slot(job_id: str, slot_at: datetime, runner: str) -> JobRun | None:
    """Insert the run record and commit; None when another process already claimed the slot."""
    run = JobRun(job_id=job_id, slot_at=slot_at, runner=runner)
    db.session.add(run)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return run


def run_guarded(spec: JobSpec, slot_at: datetime, runner: str | None = None) -> JobRun | None:
    """Run one job slot at most once across all scheduler processes. Commits.

    Returns the run record, or None when another process claimed the slot first. A failing
    job is recorded as ``failed`` (its own writes rolled back) and never raises.
    """
    runner = runner or runner_name()
    # Claim and job write: queue for the SQLite write lock up front (see cityapp.db).
    mode = set_sqlite_begin_mode("IMMEDIATE")
    try:
        run = claim_slot(spec.id, slot_at, runner)
        if run is None:
            log.info(
                "job %s slot %s already claimed by another scheduler; skipped by %s",
                spec.id,
                slot_at.isoformat(),
                runner,
            )
            return None
        log.info("job %s slot %s started by %s", spec.id, slot_at.isoformat(), runner)
        try:
            result = spec.func()
            run.status = "succeeded"
            run.result = None if result is None else _as_text(result)
            run.finished_at = utcnow()
            db.session.commit()
            log.info("job %s slot %s succeeded: %s", spec.id, slot_at.isoformat(), run.result)
        except Exception as exc:
            db.session.rollback()
            log.exception("job %s slot %s failed", spec.id, slot_at.isoformat())
            run = db.session.merge(run)
            run.status = "failed"
            run.result = f"{exc.__class__.__name__}: {exc}"[:2000]
            run.finished_at = utcnow()
            db.session.commit()
        return run
    finally:
        reset_sqlite_begin_mode(mode)


def _as_text(result: Any) -> str:
    """A job's result as stored in job_runs: JSON (what `scheduler run-once` prints)."""
    return json.dumps(result, default=str, sort_keys=True)[:2000]
