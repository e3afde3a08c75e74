"""The data layer: SQLite connection tuning, write transactions under concurrency, and UTC
timestamps that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from cityapp import create_app
from cityapp.db import db, reset_sqlite_begin_mode, set_sqlite_begin_mode, utcnow
from cityapp.places.models import District
from cityapp.scheduling import JobRun
from tests.dbtools import REPO

BERLIN = ZoneInfo("Europe/Berlin")


def _sqlite_app(path: Path, **overrides) -> Flask:
    """An app on its own SQLite file, schema built by the migrations, one district row."""
    from flask_migrate import upgrade

    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "RATELIMIT_STORAGE_URI": "memory://",
            **overrides,
        }
    )
    with app.app_context():
        upgrade()
        with db.engine.begin() as connection:
            connection.execute(
                District.__table__.insert().values(
                    id=1,
                    name="Zähler",
                    slug="counter",
                    position=0,
                    created_at=utcnow(),
                    updated_at=utcnow(),
                )
            )
    return app


def test_sqlite_connections_are_tuned(tmp_path):
    app = _sqlite_app(tmp_path / "tuned.sqlite3")
    with app.app_context(), db.engine.connect() as connection:
        pragma = lambda name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("foreign_keys") == 1
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == app.config["SQLITE_BUSY_TIMEOUT_MS"] == 15000
        assert pragma("synchronous") == 2  # FULL: an accepted write survives a power cut
    with (
        app.app_context(),
        pytest.raises(IntegrityError, match="FOREIGN KEY"),
        db.engine.begin() as connection,
    ):
        connection.execute(
            text(
                "INSERT INTO api_tokens (owner_id, name, token_hash, prefix, scopes,"
                " created_at, updated_at) VALUES (404, 'x', 'h', 'p', '[]',"
                " '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
        )
    with app.app_context():
        db.engine.dispose()


def test_sqlite_busy_timeout_is_configurable(tmp_path):
    app = _sqlite_app(tmp_path / "busy.sqlite3", SQLITE_BUSY_TIMEOUT_MS=1234)
    with app.app_context(), db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 1234
        db.engine.dispose()


# --- concurrency -------------------------------------------------------------------------

# One worker process: its own app on the shared file; read the counter, then write it + 1,
# in one transaction, LOOPS times. Prints the errors it saw as JSON.
WORKER = r"""
import json, sys, time
from pathlib import Path
from cityapp import create_app
from cityapp.places.models import District
from cityapp.db import db, set_sqlite_begin_mode

url, loops, mode, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])
app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": url,
                  "RATELIMIT_STORAGE_URI": "memory://"})
errors = []
with app.app_context():
    set_sqlite_begin_mode(mode)
    while not go.exists():
        time.sleep(0.005)
    for _ in range(loops):
        try:
            district = db.session.get(District, 1)
            value = district.position          # read ...
            time.sleep(0.001)                  # ... (others get a chance to interleave) ...
            district.position = value + 1      # ... then write
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            errors.append(f"{exc.__class__.__name__}: {str(exc).splitlines()[0]}")
print(json.dumps({"errors": errors}))
"""


@pytest.mark.slow
def test_concurrent_read_then_write_with_immediate_begin_loses_nothing(tmp_path):
    """4 processes x 50 read-modify-write transactions on one SQLite file: BEGIN IMMEDIATE
    makes each writer queue on the busy timeout, so no "database is locked" and no lost
    update."""
    processes, loops = 4, 50
    path = tmp_path / "counter.sqlite3"
    app = _sqlite_app(path)
    with app.app_context():
        db.engine.dispose()
    go = tmp_path / "go"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, f"sqlite:///{path}", str(loops), "IMMEDIATE", str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    time.sleep(0.5)
    go.touch()  # all start together (a late importer just joins the queue later)
    outputs = [worker.communicate(timeout=120) for worker in workers]
    for worker, (stdout, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr
        assert json.loads(stdout.strip().splitlines()[-1]) == {"errors": []}, stderr
    with app.app_context(), db.engine.connect() as connection:
        counter = connection.execute(select(District.position).where(District.id == 1))
        assert counter.scalar() == processes * loops
        db.engine.dispose()


def test_deferred_read_then_write_fails_where_immediate_would_queue(tmp_path):
    """Why writes must begin IMMEDIATE: two DEFERRED transactions read, one writes and
    commits, and the other's write fails at once with "database is locked" (its WAL
    snapshot is stale; waiting cannot help, so the busy timeout does not apply)."""
    app = _sqlite_app(tmp_path / "deferred.sqlite3")
    stmt = select(District.position).where(District.id == 1)
    with app.app_context():
        mode = set_sqlite_begin_mode("DEFERRED")
        try:
            with db.engine.connect() as first, db.engine.connect() as second:
                seen_first = first.execute(stmt).scalar()
                seen_second = second.execute(stmt).scalar()
                first.execute(update(District).values(position=seen_first + 1))
                first.commit()
                started = time.monotonic()
                with pytest.raises(OperationalError, match="database is locked"):
                    second.execute(update(District).values(position=seen_second + 1))
                assert time.monotonic() - started < 5  # not a busy-timeout wait
                second.rollback()
        finally:
            reset_sqlite_begin_mode(mode)
        with db.engine.connect() as connection:
            assert connection.execute(stmt).scalar() == 1
        db.engine.dispose()


# --- UTC timestamps (on the suite's database: SQLite or PostgreSQL) ----------------------


def _job_run(slot_at: datetime) -> JobRun:
    return JobRun(job_id="utc-probe", slot_at=slot_at, runner="test")


def test_utcnow_is_aware_utc():
    now = utcnow()
    assert now.tzinfo is UTC
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_naive_datetime_is_refused_on_bind(ctx):
    db.session.add(_job_run(datetime(2026, 3, 29, 3, 30)))
    with pytest.raises(StatementError) as excinfo:
        db.session.flush()
    assert isinstance(excinfo.value.orig, ValueError)
    assert "naive datetime" in str(excinfo.value)
    db.session.rollback()
    # ... in a WHERE clause too, not just on insert.
    with pytest.raises(StatementError, match="naive datetime"):
        db.session.scalars(select(JobRun).where(JobRun.slot_at < datetime(2026, 1, 1)))
    db.session.rollback()


def test_values_come_back_aware_utc(ctx):
    written = datetime(2026, 7, 1, 12, 0, 0, 123456, tzinfo=UTC)
    run = _job_run(written)
    db.session.add(run)
    db.session.flush()
    db.session.expire_all()
    read = db.session.scalar(select(JobRun.slot_at).where(JobRun.id == run.id))
    assert read == written
    assert read.tzinfo is UTC
    # Defaults filled in by Python are aware UTC as well.
    started = db.session.scalar(select(JobRun.started_at).where(JobRun.id == run.id))
    assert started.tzinfo is UTC
    assert abs(started - utcnow()) < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("local", "instant"),
    [
        # The first hour of summer time (CEST, +02:00).
        (datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        # 02:30 happens twice on 2026-10-25: fold=0 is the first (CEST), fold=1 the second (CET).
        (datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (
            datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),
            datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        ),
        (datetime(2026, 12, 24, 18, 0, tzinfo=BERLIN), datetime(2026, 12, 24, 17, 0, tzinfo=UTC)),
    ],
)
def test_berlin_datetime_round_trips_to_the_same_instant(ctx, local, instant):
    run = _job_run(local)
    db.session.add(run)
    db.session.flush()
    db.session.expire_all()
    read = db.session.scalar(select(JobRun.slot_at).where(JobRun.id == run.id))
    # (Python reports datetimes in a DST fold unequal to any other zone's, so compare in UTC.)
    assert read == instant == local.astimezone(UTC)
    assert read.timestamp() == local.timestamp()
    assert read.tzinfo is UTC
    # Comparisons in SQL work on the instant, whatever offset the parameter carries.
    assert db.session.scalar(select(JobRun.id).where(JobRun.slot_at == local)) == run.id
    assert db.session.scalar(select(JobRun.id).where(JobRun.slot_at == instant)) == run.id
    later = select(JobRun.id).where(JobRun.slot_at > instant - timedelta(seconds=1))
    assert db.session.scalar(later) == run.id


def test_storage_is_utc_on_both_databases(ctx):
    local = datetime(2026, 3, 29, 3, 30, tzinfo=BERLIN)
    run = _job_run(local)
    db.session.add(run)
    db.session.flush()
    if db.engine.dialect.name == "sqlite":
        raw = db.session.execute(
            text("SELECT slot_at FROM job_runs WHERE id = :id"), {"id": run.id}
        ).scalar()
        assert raw.startswith("2026-03-29 01:30:00")  # naive UTC text
    else:
        raw = db.session.execute(
            text("SELECT slot_at AT TIME ZONE 'UTC' FROM job_runs WHERE id = :id"),
            {"id": run.id},
        ).scalar()
        assert raw == datetime(2026, 3, 29, 1, 30)
        # Whatever time zone the PostgreSQL session uses, values come back in UTC.
        db.session.execute(text("SET LOCAL TIME ZONE 'America/New_York'"))
        db.session.expire_all()
        read = db.session.scalar(select(JobRun.slot_at).where(JobRun.id == run.id))
        assert read.tzinfo is UTC
        assert read == local
        assert read.hour == 1


def test_other_fixed_offsets_are_normalised(ctx):
    plus_five = datetime(2026, 1, 1, 6, 0, tzinfo=timezone(timedelta(hours=5)))
    run = _job_run(plus_five)
    db.session.add(run)
    db.session.flush()
    db.session.expire_all()
    read = db.session.scalar(select(JobRun.slot_at).where(JobRun.id == run.id))
    assert read == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert read.tzinfo is UTC


def test_public_reads_skip_the_transaction_on_postgresql(app, database_url):
    """The public list runs in DBAPI autocommit on PostgreSQL (no BEGIN/ROLLBACK round trips)
    and the pooled connection is back in transactional mode afterwards."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite reads are DEFERRED and take no lock")
    seen: list[tuple[object, bool]] = []

    def record(conn, *_args):
        driver = conn.connection.driver_connection
        seen.append((driver, driver.autocommit))

    with app.app_context():
        harness_session, engine = db.session, db.engine
        # The harness binds every session to its own connection; this test needs the real,
        # engine-bound session a production request gets.
        db.session = db._make_scoped_session({})
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = app.test_client().get("/api/v1/news")
        assert response.status_code == 200 and "items" in response.get_json()
    finally:
        event.remove(engine, "before_cursor_execute", record)
        with app.app_context():
            db.session.remove()
            db.session = harness_session
    assert seen and all(autocommit for _, autocommit in seen)
    # Back in the pool, the connection is transactional again for the next (writing) request.
    assert all(driver.autocommit is False for driver, _ in seen)


def _ping_counting_engine(database_url: str, idle_s: float, monkeypatch):
    """A PostgreSQL engine set up like the app's (idle ping, no pre-ping), counting pings."""
    from sqlalchemy import create_engine

    from cityapp.db import configure_engine

    engine = create_engine(database_url, pool_pre_ping=False, pool_size=1, max_overflow=0)
    configure_engine(engine, 0, ping_after_idle_s=idle_s)
    pings: list[int] = []
    real_ping = engine.dialect.do_ping

    def counting_ping(dbapi_connection):
        pings.append(1)
        return real_ping(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting_ping)
    return engine, pings


def _backend_pid(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("SELECT pg_backend_pid()"))


def test_busy_connections_skip_the_ping_idle_ones_get_it(database_url, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "PostgreSQL only: the idle-connection ping is set up for PostgreSQL engines (a "
            "SQLite file cannot drop a connection); it runs in the PostgreSQL pass of make test"
        )
    engine, pings = _ping_counting_engine(database_url, 0.2, monkeypatch)
    try:
        first = _backend_pid(engine)
        assert _backend_pid(engine) == first and pings == []  # fresh, then just returned
        time.sleep(0.3)
        assert _backend_pid(engine) == first and pings == [1]  # idle: pinged, still alive
    finally:
        engine.dispose()


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(database_url, monkeypatch):
    """What a PostgreSQL restart or an idle timeout does to pooled connections: the request
    after it gets a new connection instead of an error."""
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "PostgreSQL only: the idle-connection ping is set up for PostgreSQL engines (a "
            "SQLite file cannot drop a connection); it runs in the PostgreSQL pass of make test"
        )
    engine, pings = _ping_counting_engine(database_url, 0.1, monkeypatch)
    try:
        victim = _backend_pid(engine)
        from sqlalchemy import create_engine

        admin = create_engine(database_url, poolclass=None)
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
        admin.dispose()
        time.sleep(0.2)
        replacement = _backend_pid(engine)
        assert replacement != victim and pings == [1]
    finally:
        engine.dispose()


def test_the_app_replaces_pre_ping_by_the_idle_ping_on_postgresql(database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip(
            "PostgreSQL only: create_app replaces pool_pre_ping for PostgreSQL URLs alone; "
            "it runs in the PostgreSQL pass of make test"
        )
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    with app.app_context():
        assert db.engine.pool._pre_ping is False
        assert getattr(db.engine, "_cityapp_configured", False)
    never = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CITYAPP_DB_PING_AFTER_IDLE_S": 0,
        }
    )
    assert never.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True
