"""The job registry and the scheduler process.

Jobs are plain functions listed in ``JOBS``. One or more scheduler processes run them
(``flask --app wsgi scheduler run``), never the web workers. Every run first claims its slot
in ``job_runs`` (unique per job and slot) in a committed transaction, so when two scheduler
processes on two servers fire the same slot, exactly one of them runs it.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from sqlalchemy import String, Text, UniqueConstraint, delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from cityapp.db import db, reset_sqlite_begin_mode, set_sqlite_begin_mode, utcnow

log = logging.getLogger(__name__)


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


def _housekeeping() -> dict[str, int]:
    """Purge expired login throttles, old tokens and old job-run records."""
    from cityapp.auth.service.housekeeping import purge_expired_auth_records

    counts = purge_expired_auth_records()
    cutoff = utcnow() - timedelta(days=current_app.config["CITYAPP_JOB_RUN_RETENTION_DAYS"])
    result = db.session.execute(delete(JobRun).where(JobRun.started_at < cutoff))
    counts["job_runs"] = result.rowcount or 0
    return counts


# The registry. Later domains append their jobs here.
JOBS: list[JobSpec] = [
    JobSpec(
        id="housekeeping",
        func=_housekeeping,
        schedule=lambda app: Every(app.config["CITYAPP_HOUSEKEEPING_INTERVAL_S"]),
        description="purge expired login throttles, revoked tokens, old job runs",
    ),
]


def _survey_statuses() -> dict[str, int]:
    from cityapp.surveys.jobs import flip_statuses

    return flip_statuses()


JOBS.append(
    JobSpec(
        id="surveys.statuses",
        func=_survey_statuses,
        schedule=lambda app: Every(app.config["CITYAPP_SURVEY_STATUS_INTERVAL_S"]),
        description="open scheduled surveys and close expired ones by their dates",
    )
)


def get_job(job_id: str) -> JobSpec:
    for spec in JOBS:
        if spec.id == job_id:
            return spec
    raise KeyError(job_id)


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
            run.result = None if result is None else str(result)[:2000]
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


def _fire(app: Flask, job_id: str) -> None:
    with app.app_context():
        spec = get_job(job_id)
        schedule = spec.schedule(app)
        if isinstance(schedule, Daily):
            slot = schedule.slot(utcnow(), app.config["CITYAPP_TIMEZONE"])
        else:
            slot = schedule.slot(utcnow())
        try:
            run_guarded(spec, slot)
        except Exception:
            # Claiming or recording failed (database unreachable...): log it our way and try
            # again at the next slot; APScheduler's own logging bypasses our log format.
            log.exception("job %s slot %s could not be run", job_id, slot.isoformat())
        finally:
            db.session.remove()


def build_scheduler(app: Flask, blocking: bool = True):
    """An APScheduler 3 scheduler with every registered job; not started."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler

    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=UTC, job_defaults={"coalesce": True, "max_instances": 1})
    for spec in JOBS:
        scheduler.add_job(
            _fire,
            args=(app, spec.id),
            id=spec.id,
            name=spec.description or spec.id,
            misfire_grace_time=spec.misfire_grace_s,
            **spec.schedule(app).trigger_kwargs(app.config["CITYAPP_TIMEZONE"]),
        )
    return scheduler


def run_scheduler(app: Flask, poll_s: float = 0.2) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT.

    Jobs run in APScheduler's worker threads; the main thread only sleeps and watches for a
    signal. The signal handler just records the signal (no locks, no logging: a handler that
    calls ``shutdown()`` can deadlock on a lock the interrupted main thread holds). The main
    thread then shuts down, letting a running job finish. Further signals change nothing:
    Ctrl-C under ``make run`` delivers SIGINT and then the script's SIGTERM, and the clean
    stop must survive that (SIGKILL remains for a job that hangs).
    """
    scheduler = build_scheduler(app, blocking=False)
    received: list[int] = []

    def _on_signal(signum: int, _frame: Any) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    started = time.monotonic()
    try:
        scheduler.start()
        log.info("scheduler %s started with jobs: %s", runner_name(), ", ".join(s.id for s in JOBS))
        while not received:
            time.sleep(poll_s)
        log.info("scheduler stopping on signal %s; waiting for running jobs", received[0])
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=True)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    log.info("scheduler stopped after %.0f s", time.monotonic() - started)
