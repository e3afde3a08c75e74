"""A real cityapp served by gunicorn in a subprocess, on its own committed database of the
suite's kind (SQLite file or a fresh PostgreSQL database), for browser and protocol tests."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fresh_database(tmp_dir: Path) -> Iterator[str]:
    """A new empty database of the same kind as the suite's DATABASE_URL; dropped afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        yield f"sqlite:///{tmp_dir / 'live.sqlite3'}"
        return
    import psycopg

    base = url.replace("postgresql+psycopg://", "postgresql://")
    name = f"cityapp_live_{secrets.token_hex(4)}"
    admin_url = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield base.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _env(database_url: str, instance: Path, extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "CITYAPP_INSTANCE_DIR": str(instance),
            "CITYAPP_ENV": "development",
            "FLASK_APP": "wsgi",
        }
    )
    env.update(extra or {})
    return env


def flask(args: list[str], env: dict[str, str]) -> None:
    subprocess.run([str(BIN / "flask"), *args], cwd=REPO, env=env, check=True, capture_output=True)


def wait_until_healthy(
    base: str, process: subprocess.Popen, log_path: Path, timeout: float = 30
) -> None:
    """Poll ``base``/healthz until it answers 200; fail with the server's log if the process
    exits or the time runs out first."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        assert process.poll() is None, log_path.read_text()
        assert time.monotonic() < deadline, log_path.read_text()
        time.sleep(0.2)


@contextmanager
def live_server(
    tmp_dir: Path, extra_env: dict[str, str] | None = None, *, workers: int = 2
) -> Iterator[str]:
    """Migrate, seed the demo, start gunicorn; yield the base URL; stop and clean up."""
    with fresh_database(tmp_dir) as database_url:
        env = _env(database_url, tmp_dir / "instance", extra_env)
        flask(["db", "upgrade"], env)
        flask(["seed", "demo"], env)
        port = free_port()
        log = open(tmp_dir / "gunicorn.log", "wb")  # noqa: SIM115 - closed below
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", str(workers), "wsgi:app"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, process, tmp_dir / "gunicorn.log")
            yield base
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            log.close()
