"""The scheduler: slot arithmetic (DST included), the run-once guard, the housekeeping job,
and two real scheduler processes sharing one database."""

from __future__ import annotations

import itertools
import json
import re
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import create_engine, func, select

from cityapp.auth.models import ApiToken, LoginThrottle
from cityapp.db import db, utcnow
from cityapp.places.models import District
from cityapp.scheduler import JOBS, build_scheduler, get_job
from cityapp.scheduling import Daily, Every, JobRun, JobSpec, run_guarded
from tests.dbtools import BIN, REPO, cli_env, flask_cli, fresh_database

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- slots -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "now", "slot"),
    [
        (3600, utc(2026, 3, 29, 1, 59, 59), utc(2026, 3, 29, 1, 0)),
        (3600, utc(2026, 3, 29, 2, 0, 0), utc(2026, 3, 29, 2, 0)),  # a boundary is its own slot
        (60, utc(2026, 11, 22, 7, 15, 42, 999999), utc(2026, 11, 22, 7, 15)),
        (1, utc(2026, 11, 22, 7, 15, 42, 500000), utc(2026, 11, 22, 7, 15, 42)),
        # Berlin local time in, the same UTC slot out.
        (3600, datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN), utc(2026, 10, 25, 1, 0)),
        (3600, datetime(2026, 10, 25, 2, 30, fold=0, tzinfo=BERLIN), utc(2026, 10, 25, 0, 0)),
    ],
)
def test_every_slot(seconds, now, slot):
    assert Every(seconds).slot(now) == slot


@pytest.mark.parametrize("seconds", [1, 7, 90, 3600, 86400])
def test_every_slots_are_epoch_aligned_and_match_the_trigger(seconds):
    """Every process computes the same slot; APScheduler fires exactly at slot boundaries."""
    schedule = Every(seconds)
    kwargs = schedule.trigger_kwargs("Europe/Berlin")
    assert kwargs.pop("trigger") == "interval"
    trigger = IntervalTrigger(timezone=UTC, **kwargs)
    now = utc(2026, 11, 22, 7, 15, 42, 123456)
    for step in range(5):
        moment = now + timedelta(seconds=step * 37.3)
        slot = schedule.slot(moment)
        assert slot <= moment < slot + timedelta(seconds=seconds)
        assert (slot - utc(2000, 1, 1)).total_seconds() % seconds == 0
        next_fire = trigger.get_next_fire_time(None, moment)
        assert next_fire == slot + timedelta(seconds=seconds)
        assert schedule.slot(next_fire) == next_fire


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        # 2026-03-29: clocks jump 02:00 CET -> 03:00 CEST; 03:30 CEST is 01:30 UTC.
        (utc(2026, 3, 29, 1, 30), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 3, 29, 1, 29, 59), utc(2026, 3, 28, 2, 30)),  # still the day before (CET)
        (utc(2026, 3, 29, 21, 0), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 3, 30, 1, 29), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 3, 30, 1, 30), utc(2026, 3, 30, 1, 30)),
        # 2026-10-25: clocks fall back 03:00 CEST -> 02:00 CET; 03:30 CET is 02:30 UTC.
        (utc(2026, 10, 25, 2, 30), utc(2026, 10, 25, 2, 30)),
        (utc(2026, 10, 25, 2, 29, 59), utc(2026, 10, 24, 1, 30)),  # the day before (CEST)
        (utc(2026, 10, 25, 1, 45), utc(2026, 10, 24, 1, 30)),  # 02:45 CET, 2nd pass of 02:xx
        (utc(2026, 10, 26, 2, 29), utc(2026, 10, 25, 2, 30)),
        (utc(2026, 10, 26, 2, 30), utc(2026, 10, 26, 2, 30)),
    ],
)
def test_daily_slot_across_the_dst_nights(now, slot):
    assert Daily(3, 30).slot(now, "Europe/Berlin") == slot
    # The same instant given in local time gives the same slot.
    assert Daily(3, 30).slot(now.astimezone(BERLIN), "Europe/Berlin") == slot


def test_daily_slots_are_23_and_25_hours_apart_on_the_dst_days():
    daily = Daily(3, 30)
    spring = [daily.slot(utc(2026, 3, day, 12), "Europe/Berlin") for day in (28, 29, 30)]
    autumn = [daily.slot(utc(2026, 10, day, 12), "Europe/Berlin") for day in (24, 25, 26)]
    assert [b - a for a, b in itertools.pairwise(spring)] == [
        timedelta(hours=23),
        timedelta(hours=24),
    ]
    assert [b - a for a, b in itertools.pairwise(autumn)] == [
        timedelta(hours=25),
        timedelta(hours=24),
    ]


@pytest.mark.parametrize(
    ("after", "fire"),
    [
        (utc(2026, 3, 28, 12), utc(2026, 3, 29, 1, 30)),
        (utc(2026, 10, 24, 12), utc(2026, 10, 25, 2, 30)),
    ],
)
def test_daily_trigger_fires_at_the_slot_instant(after, fire):
    """APScheduler's cron trigger and Daily.slot agree on the DST days."""
    kwargs = Daily(3, 30).trigger_kwargs("Europe/Berlin")
    assert kwargs.pop("trigger") == "cron"
    fires_at = CronTrigger(**kwargs).get_next_fire_time(None, after)
    assert fires_at == fire
    assert Daily(3, 30).slot(fires_at.astimezone(UTC), "Europe/Berlin") == fire


# --- the run-once guard (on the suite's database) ----------------------------------------


def _counting_job(job_id: str = "test-counting"):
    calls: list[datetime] = []

    def job() -> str:
        calls.append(utcnow())
        return f"call {len(calls)}"

    return JobSpec(id=job_id, func=job, schedule=lambda app: Every(60)), calls


def test_run_guarded_runs_a_slot_once(ctx):
    spec, calls = _counting_job()
    slot = utc(2026, 11, 22, 7, 0)

    first = run_guarded(spec, slot, runner="host-a:1")
    second = run_guarded(spec, slot, runner="host-b:2")

    assert second is None
    assert len(calls) == 1
    assert first is not None and first.status == "succeeded"
    assert json.loads(first.result) == "call 1"
    rows = db.session.scalars(select(JobRun).where(JobRun.job_id == spec.id)).all()
    assert [(r.slot_at, r.runner, r.status) for r in rows] == [(slot, "host-a:1", "succeeded")]
    assert rows[0].finished_at is not None and rows[0].finished_at >= rows[0].started_at


def test_run_guarded_runs_each_slot_and_each_job_separately(ctx):
    spec, calls = _counting_job()
    other, other_calls = _counting_job("test-other")
    slot = utc(2026, 11, 22, 7, 0)
    assert run_guarded(spec, slot) is not None
    assert run_guarded(spec, slot + timedelta(minutes=1)) is not None
    assert run_guarded(other, slot) is not None
    assert run_guarded(spec, slot) is None
    assert (len(calls), len(other_calls)) == (2, 1)
    assert db.session.scalar(select(func.count()).select_from(JobRun)) == 3


def test_a_failing_job_is_recorded_and_does_not_raise(ctx, caplog):
    def broken() -> None:
        db.session.add(District(name="Halbfertig", slug="half-done"))
        db.session.flush()
        raise RuntimeError("disk on fire")

    spec = JobSpec(id="test-broken", func=broken, schedule=lambda app: Every(60))
    slot = utc(2026, 11, 22, 7, 0)

    run = run_guarded(spec, slot, runner="host-a:1")

    assert run is not None
    assert run.status == "failed"
    assert run.result == "RuntimeError: disk on fire"
    assert run.finished_at is not None
    assert "job test-broken slot 2026-11-22T07:00:00+00:00 failed" in caplog.text
    db.session.expire_all()
    stored = db.session.scalar(select(JobRun).where(JobRun.job_id == "test-broken"))
    assert (stored.status, stored.result) == ("failed", "RuntimeError: disk on fire")
    # The job's own writes were rolled back; the slot stays claimed (no retry storm).
    assert db.session.scalar(select(District).where(District.slug == "half-done")) is None
    assert run_guarded(spec, slot) is None


# --- housekeeping ------------------------------------------------------------------------


def test_housekeeping_purges_old_records_and_keeps_fresh_ones(ctx, make_staff):
    owner = make_staff("editor")
    now = utcnow()
    days = lambda n: timedelta(days=n)  # noqa: E731

    def throttle(key: str, expires_at: datetime) -> LoginThrottle:
        return LoginThrottle(
            key_hash=key * 64, failures=3, first_failure_at=now - days(1), expires_at=expires_at
        )

    def token(name: str, **dates: datetime) -> ApiToken:
        return ApiToken(
            owner_id=owner.id,
            name=name,
            token_hash=(name * 64)[:64],
            prefix=name[:10],
            scopes=["read"],
            **dates,
        )

    db.session.add_all(
        [
            throttle("a", now - timedelta(minutes=1)),  # expired -> purged
            throttle("b", now + timedelta(minutes=30)),  # still counting -> kept
            token("revoked-long-ago", revoked_at=now - days(91), expires_at=now + days(100)),
            token("expired-long-ago", expires_at=now - days(91)),
            token("revoked-recently", revoked_at=now - days(10), expires_at=now + days(100)),
            token("expired-recently", expires_at=now - days(89)),
            token("in-use", expires_at=now + days(30)),
            JobRun(job_id="old", slot_at=now - days(31), runner="x", started_at=now - days(31)),
            JobRun(job_id="recent", slot_at=now - days(29), runner="x", started_at=now - days(29)),
        ]
    )
    db.session.commit()

    run = run_guarded(get_job("core.housekeeping"), Every(3600).slot(now), runner="test")

    assert run is not None and run.status == "succeeded", run and run.result
    assert json.loads(run.result) == {
        "login_throttles": 1,
        "revoked_sessions": 0,
        "api_tokens": 2,
        "audit_entries": 0,
        "job_runs": 1,
    }
    db.session.expire_all()
    assert db.session.scalars(select(LoginThrottle.key_hash)).all() == ["b" * 64]
    assert sorted(db.session.scalars(select(ApiToken.name))) == [
        "expired-recently",
        "in-use",
        "revoked-recently",
    ]
    assert sorted(db.session.scalars(select(JobRun.job_id))) == ["core.housekeeping", "recent"]


def test_the_registry_and_the_scheduler_know_housekeeping(app):
    assert [spec.id for spec in JOBS].count("core.housekeeping") == 1
    scheduler = build_scheduler(app, blocking=False)
    job = scheduler.get_job("core.housekeeping")
    assert isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(seconds=app.config["CITYAPP_HOUSEKEEPING_INTERVAL_S"])
    assert not scheduler.running  # built, never started by the app itself


# --- two scheduler processes -------------------------------------------------------------

FIRING = re.compile(r"job core\.housekeeping slot (\S+) (started by|already claimed)")


def _wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.slow
def test_two_scheduler_processes_run_each_slot_exactly_once(tmp_path: Path):
    """Two `flask scheduler run` processes on one database (a fresh PostgreSQL database when
    the suite runs on PostgreSQL, a SQLite file otherwise), housekeeping every second."""
    with fresh_database(tmp_path) as url:
        env = cli_env(url, tmp_path, CITYAPP_HOUSEKEEPING_INTERVAL_S="1")
        flask_cli(["db", "upgrade"], env)
        logs = [tmp_path / f"scheduler-{n}.log" for n in (1, 2)]
        files = [path.open("w") for path in logs]
        processes = [
            subprocess.Popen(
                [str(BIN / "flask"), "--app", "wsgi", "scheduler", "run"],
                cwd=REPO,
                env=env,
                stdout=file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            for file in files
        ]
        try:
            text = lambda n: logs[n].read_text()  # noqa: E731
            _wait_for(
                lambda: all("started with jobs: core.housekeeping" in text(n) for n in (0, 1)),
                30,
                "both schedulers to start",
            )
            time.sleep(7)
            stop_sent = time.monotonic()
            for process in processes:
                process.send_signal(signal.SIGTERM)
            codes = [process.wait(timeout=10) for process in processes]
            stop_took = time.monotonic() - stop_sent
        finally:
            for process in processes:
                if process.poll() is None:
                    process.kill()
                    process.wait()
            for file in files:
                file.close()

        outputs = [path.read_text() for path in logs]
        for output, code in zip(outputs, codes, strict=True):
            assert code == 0, output
            assert "scheduler stopping on signal 15" in output, output
            assert "scheduler stopped after" in output, output
            assert "Traceback" not in output, output
        assert stop_took < 5, f"schedulers took {stop_took:.1f} s to stop"

        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    select(JobRun.__table__).where(JobRun.job_id == "core.housekeeping")
                ).all()
        finally:
            engine.dispose()

    slots = [row.slot_at for row in rows]
    assert len(slots) >= 3, rows
    assert len(set(slots)) == len(slots)
    assert {row.status for row in rows} == {"succeeded"}, rows
    assert all(slot.microsecond == 0 for slot in slots)

    started = [{m[0] for m in FIRING.findall(out) if m[1] == "started by"} for out in outputs]
    skipped = [{m[0] for m in FIRING.findall(out) if m[1] == "already claimed"} for out in outputs]
    # Both processes were alive and firing every second ...
    for n in (0, 1):
        assert len(started[n] | skipped[n]) >= 3, outputs[n]
    # ... each slot was started by exactly one of them, the one whose record is in job_runs ...
    assert started[0].isdisjoint(started[1])
    assert started[0] | started[1] == {slot.isoformat() for slot in slots}
    # ... and the other one saw the claim and skipped it.
    assert skipped[0] | skipped[1], outputs
    assert (skipped[0] | skipped[1]) <= (started[0] | started[1])
    runners = {row.runner for row in rows}
    assert 1 <= len(runners) <= 2


# --- the registry ------------------------------------------------------------------------


def test_every_job_id_reads_domain_dot_name_and_is_unique():
    from cityapp.scheduling import JOB_ID_PATTERN

    ids = [spec.id for spec in JOBS]
    assert len(ids) == len(set(ids)), ids
    for job_id in ids:
        assert re.match(JOB_ID_PATTERN, job_id), job_id


def test_scheduler_list_shows_every_domains_jobs(app):
    result = app.test_cli_runner().invoke(args=["scheduler", "list"])
    assert result.exit_code == 0, result.output
    listed = [line.split()[0] for line in result.output.splitlines()]
    assert listed == [spec.id for spec in JOBS]
    domains = {job_id.split(".")[0] for job_id in listed}
    assert {"core", "mail", "content", "media", "surveys", "feedback", "kiosks"} <= domains


@pytest.mark.parametrize("job_id", [spec.id for spec in JOBS])
def test_run_once_runs_each_job_through_the_guard_and_prints_json(app, job_id):
    result = app.test_cli_runner().invoke(args=["scheduler", "run-once", job_id])
    assert result.exit_code == 0, result.output
    record = json.loads(result.output)
    assert record["job_id"] == job_id
    assert record["status"] == "succeeded", record
    assert record["runner"].startswith("run-once@")
    assert isinstance(record["result"], dict), record
    with app.app_context():
        stored = db.session.scalars(select(JobRun).where(JobRun.job_id == job_id)).all()
        assert [run.status for run in stored] == ["succeeded"]
        assert json.loads(stored[0].result) == record["result"]


def test_run_once_does_not_take_the_scheduled_slot(app):
    spec = get_job("core.housekeeping")
    with app.app_context():
        slot = spec.slot_at(app, utcnow())
        assert app.test_cli_runner().invoke(args=["scheduler", "run-once", spec.id]).exit_code == 0
        scheduled = run_guarded(spec, slot, runner="test")
        assert scheduled is not None and scheduled.status == "succeeded"


def test_run_once_refuses_an_unknown_job_and_records_nothing(app):
    result = app.test_cli_runner().invoke(args=["scheduler", "run-once", "nope.nothing"])
    assert result.exit_code == 2
    assert "unknown job 'nope.nothing'" in result.output
    assert "core.housekeeping" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(JobRun.id))) == 0


def test_run_once_reports_a_failing_job_with_exit_code_1(app, monkeypatch):
    def broken() -> None:
        raise RuntimeError("disk on fire")

    spec = get_job("core.housekeeping")
    failing = JobSpec(id=spec.id, func=broken, schedule=spec.schedule)
    monkeypatch.setattr(
        "cityapp.scheduler.JOBS", tuple(failing if s.id == spec.id else s for s in JOBS)
    )
    result = app.test_cli_runner().invoke(args=["scheduler", "run-once", spec.id])
    assert result.exit_code == 1, result.output
    record = json.loads(result.output)
    assert record["status"] == "failed"
    assert record["result"] == "RuntimeError: disk on fire"
