"""The job registry and the scheduler process.

``JOBS`` below is the one list of everything that runs on a schedule: each domain's ``jobs.py``
describes its jobs as a ``JOBS`` tuple of ``JobSpec`` (see ``cityapp.scheduling``) and this
module lists those tuples, nothing else registers a job. One or more scheduler processes run
them (``flask --app wsgi scheduler run``), never the web workers; each slot runs once across
all of them (the guard in ``cityapp.scheduling.run_guarded``). ``flask --app wsgi scheduler
run-once <job-id>`` runs one job now through the same guard.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import UTC
from typing import Any

from flask import Flask

from cityapp import jobs as core_jobs
from cityapp.content import jobs as content_jobs
from cityapp.db import db, utcnow
from cityapp.feedback import jobs as feedback_jobs
from cityapp.kiosks import jobs as kiosks_jobs
from cityapp.mail import jobs as mail_jobs
from cityapp.media import jobs as media_jobs
from cityapp.scheduling import JobRun, JobSpec, run_guarded, runner_name
from cityapp.surveys import jobs as surveys_jobs

log = logging.getLogger(__name__)

# The registry: every domain's jobs, in the order `scheduler list` shows them.
JOBS: tuple[JobSpec, ...] = (
    *core_jobs.JOBS,
    *mail_jobs.JOBS,
    *media_jobs.JOBS,
    *content_jobs.JOBS,
    *surveys_jobs.JOBS,
    *feedback_jobs.JOBS,
    *kiosks_jobs.JOBS,
)


def get_job(job_id: str) -> JobSpec:
    for spec in JOBS:
        if spec.id == job_id:
            return spec
    raise KeyError(job_id)


def run_once(app: Flask, job_id: str) -> JobRun:
    """Run one job now, outside its schedule, through the same guard (an operator's or a
    test's "do it now"). Its slot is the current instant, so it never collides with, or
    suppresses, a scheduled slot. Commits; returns the run record."""
    spec = get_job(job_id)
    run = run_guarded(spec, utcnow(), runner=f"run-once@{runner_name()}")
    if run is None:  # pragma: no cover - the same job in the same microsecond
        raise RuntimeError(f"job {job_id}: this instant was claimed by another run")
    return run


def _fire(app: Flask, job_id: str) -> None:
    with app.app_context():
        spec = get_job(job_id)
        slot = spec.slot_at(app, utcnow())
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
