"""Helpers for tests that need their own committed database and real `flask` processes."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def suite_postgres_url() -> str | None:
    """The suite's PostgreSQL URL (psycopg 3 spelling), or None when the suite runs on SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        return None
    from config import _database_url

    return _database_url()


def _admin_url(url: str) -> str:
    """A plain libpq URL to the maintenance database of the server behind ``url``."""
    base = url.replace("postgresql+psycopg://", "postgresql://")
    return base.rsplit("/", 1)[0] + "/postgres"


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new empty PostgreSQL database cityapp_t_<random> on the suite's server; dropped after."""
    url = suite_postgres_url()
    assert url, "needs DATABASE_URL pointing at PostgreSQL"
    import psycopg

    name = f"cityapp_t_{secrets.token_hex(5)}"
    admin = _admin_url(url)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    """A new empty committed database of the suite's kind (PostgreSQL or a SQLite file)."""
    if suite_postgres_url():
        with fresh_postgres_database() as url:
            yield url
    else:
        yield f"sqlite:///{tmp_dir / 'fresh.sqlite3'}"


def cli_env(database_url: str, tmp_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a `flask --app wsgi ...` child: development config on ``database_url``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CITYAPP_", "FLASK_"))}
    env.pop("REDIS_URL", None)
    instance = tmp_dir / "instance"
    instance.mkdir(exist_ok=True)
    env.update(
        {
            "DATABASE_URL": database_url,
            "CITYAPP_ENV": "development",
            "CITYAPP_INSTANCE_DIR": str(instance),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


def flask_cli(
    args: list[str], env: dict[str, str], *, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run `flask --app wsgi ARGS` in the repository root and return the finished process."""
    result = subprocess.run(
        [str(BIN / "flask"), "--app", "wsgi", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"flask {' '.join(args)} exited {result.returncode}\n"
            f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        )
    return result


def table_names(database_url: str) -> set[str]:
    """The tables in a committed database, looked at from outside the app."""
    from sqlalchemy import create_engine, inspect

    engine = create_engine(database_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@contextmanager
def reading() -> Iterator[None]:
    """Begin SQLite transactions DEFERRED, as GET requests do: a second connection to the
    session database only reads, and must not queue behind the test's open write transaction."""
    from cityapp.db import reset_sqlite_begin_mode, set_sqlite_begin_mode

    token = set_sqlite_begin_mode("DEFERRED")
    try:
        yield
    finally:
        reset_sqlite_begin_mode(token)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
