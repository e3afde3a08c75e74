"""`flask staff create`, `flask seed demo`, `flask scheduler list` (run through Flask's CLI
runner against the session app; the commands commit into the test's savepoint)."""

from __future__ import annotations

import ast
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cityapp.auth.models import AuditEntry, StaffUser
from cityapp.db import db
from cityapp.demo import DEMO_PASSWORD, DEMO_STAFF
from cityapp.places.demo import DEMO_DISTRICTS
from cityapp.places.models import District
from tests.dbtools import BIN, REPO, cli_env, flask_cli, free_port
from tests.live import wait_until_healthy

PASSWORD = "ein-langes-passwort"


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _staff_create(app, *args: str, password: str | None = PASSWORD):
    env = {"CITYAPP_STAFF_PASSWORD": password} if password is not None else {}
    return app.test_cli_runner().invoke(args=["staff", "create", *args], env=env)


def test_staff_create_makes_an_account_that_can_log_in(app, client):
    result = _staff_create(
        app, "--email", " Nora.Neu@Musterstadt.example ", "--name", "Nora Neu", "--role", "editor"
    )

    assert result.exit_code == 0, result.output
    assert result.output.startswith("Created editor account nora.neu@musterstadt.example (id ")
    with app.app_context():
        user = db.session.scalar(select(StaffUser))
        assert (user.email, user.display_name, user.role, user.is_active) == (
            "nora.neu@musterstadt.example",
            "Nora Neu",
            "editor",
            True,
        )
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in result.output
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "staff.create"))
        assert (entry.actor_label, entry.object_id) == ("cli", str(user.id))

    response = client.post(
        "/api/v1/auth/login", json={"email": "nora.neu@musterstadt.example", "password": PASSWORD}
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["user"]["email"] == "nora.neu@musterstadt.example"
    assert body["user"]["role"] == "editor"
    assert isinstance(body["csrf_token"], str) and body["csrf_token"]


def test_staff_create_prompts_for_the_password_without_the_variable(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["staff", "create", "--email", "prompt@musterstadt.example", "--role", "moderator"],
        input=f"{PASSWORD}\n{PASSWORD}\n",
        env={"CITYAPP_STAFF_PASSWORD": ""},
    )
    assert result.exit_code == 0, result.output
    assert "Created moderator account prompt@musterstadt.example" in result.output
    response = client.post(
        "/api/v1/auth/login", json={"email": "prompt@musterstadt.example", "password": PASSWORD}
    )
    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize(
    ("args", "password", "exit_code", "message"),
    [
        (
            ["--email", "x@musterstadt.example", "--role", "chef"],
            PASSWORD,
            2,
            "Invalid value for '--role': 'chef' is not one of 'admin', 'editor', 'moderator'.",
        ),
        (
            ["--email", "x@musterstadt.example", "--role", "editor"],
            "kurz",
            1,
            "Error: The password is too short. password: Use at least 10 characters.",
        ),
        (
            ["--email", "not-an-email", "--role", "editor"],
            PASSWORD,
            2,
            "Invalid value for '--email': Not a valid email address.",
        ),
        (
            ["--role", "editor"],
            PASSWORD,
            2,
            "Missing option '--email'.",
        ),
    ],
)
def test_staff_create_refuses_bad_input_and_creates_nothing(
    app, args, password, exit_code, message
):
    result = _staff_create(app, *args, password=password)

    assert result.exit_code == exit_code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert _count(app, StaffUser) == 0
    assert _count(app, AuditEntry) == 0


def test_staff_create_refuses_a_duplicate_email(app, make_staff):
    existing = make_staff("editor", email="doppelt@musterstadt.example")
    audit_before = _count(app, AuditEntry)

    result = _staff_create(app, "--email", "Doppelt@Musterstadt.example", "--role", "admin")

    assert result.exit_code == 1, result.output
    assert "Error: A staff account with this email exists. email: Taken." in result.output
    assert _count(app, StaffUser) == 1
    assert _count(app, AuditEntry) == audit_before
    with app.app_context():
        assert db.session.get(StaffUser, existing.id).role == "editor"


# --- seed demo ---------------------------------------------------------------------------


def _snapshot(app) -> dict[str, int]:
    return {
        "staff": _count(app, StaffUser),
        "districts": _count(app, District),
        "audit": _count(app, AuditEntry),
        "district_audit": _count(app, AuditEntry, AuditEntry.action == "district.create"),
    }


def _seed_result(output: str) -> dict:
    line = next(line for line in output.splitlines() if line.startswith("Demo data ready: "))
    return ast.literal_eval(line.removeprefix("Demo data ready: "))


def test_seed_demo_is_idempotent(app, client):
    runner = app.test_cli_runner()

    first = runner.invoke(args=["seed", "demo"])
    assert first.exit_code == 0, first.output
    assert _seed_result(first.output)["staff_created"] == len(DEMO_STAFF)
    after_first = _snapshot(app)
    assert after_first["staff"] == len(DEMO_STAFF)
    assert after_first["districts"] == len(DEMO_DISTRICTS)
    assert after_first["district_audit"] == len(DEMO_DISTRICTS)
    assert after_first["audit"] >= len(DEMO_STAFF) + len(DEMO_DISTRICTS)

    second = runner.invoke(args=["seed", "demo"])
    assert second.exit_code == 0, second.output
    # Every domain's part of the seed creates nothing the second time, and writes no audit.
    created = {k: v for k, v in _seed_result(second.output).items() if k.endswith("_created")}
    assert created and set(created.values()) == {0}, created
    assert _snapshot(app) == after_first

    with app.app_context():
        slugs = db.session.scalars(select(District.slug).order_by(District.position)).all()
    assert slugs == [slug for slug, *_ in DEMO_DISTRICTS]
    email = DEMO_STAFF[0][0]
    response = client.post("/api/v1/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["user"]["role"] == "admin"


def test_seed_demo_reactivates_a_deactivated_demo_account(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF[1][0]))
        user.is_active = False
        db.session.commit()
    assert runner.invoke(args=["seed", "demo"]).exit_code == 0
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == DEMO_STAFF[1][0]))
        assert user.is_active is True


def test_seed_demo_refuses_in_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    monkeypatch.delenv("CITYAPP_ALLOW_DEMO", raising=False)
    runner = app.test_cli_runner()

    refused = runner.invoke(args=["seed", "demo"])

    assert refused.exit_code == 1
    assert "Refusing to load demo data in production" in refused.output
    assert _snapshot(app) == {"staff": 0, "districts": 0, "audit": 0, "district_audit": 0}

    still_refused = runner.invoke(args=["seed", "demo"], env={"CITYAPP_ALLOW_DEMO": "0"})
    assert still_refused.exit_code == 1
    assert _count(app, District) == 0

    insisted = runner.invoke(args=["seed", "demo"], env={"CITYAPP_ALLOW_DEMO": "1"})
    assert insisted.exit_code == 0, insisted.output
    assert _count(app, District) == len(DEMO_DISTRICTS)


# --- scheduler ---------------------------------------------------------------------------


def test_scheduler_list_shows_housekeeping(app):
    result = app.test_cli_runner().invoke(args=["scheduler", "list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    housekeeping = [line for line in lines if line.startswith("core.housekeeping ")]
    assert len(housekeeping) == 1, result.output
    interval = app.config["CITYAPP_HOUSEKEEPING_INTERVAL_S"]
    assert f"Every(seconds={interval})" in housekeeping[0]
    assert "purge expired login throttles" in housekeeping[0]


# --- make run: scripts/run-dev.sh --------------------------------------------------------


def _group_members(pgid: int) -> dict[int, str]:
    """Live (non-zombie) processes in a process group: pid -> command line."""
    members = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
        except OSError:
            continue
        state, _ppid, group = stat.rsplit(")", 1)[1].split()[:3]
        if int(group) == pgid and state != "Z":
            members[int(entry.name)] = cmdline
    return members


def _get(url: str) -> tuple[int, str, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers.get_content_type(), response.read().decode()


@pytest.mark.slow
def test_run_dev_script_serves_the_app_and_stops_everything_on_ctrl_c(tmp_path):
    """What `make run` starts: gunicorn and the scheduler; Ctrl-C (SIGINT to the whole
    foreground process group) stops both."""
    port = free_port()
    env = cli_env(f"sqlite:///{tmp_path / 'dev.sqlite3'}", tmp_path, PORT=str(port), BIN=str(BIN))
    flask_cli(["db", "upgrade"], env)
    flask_cli(["seed", "demo"], env)
    log_path = tmp_path / "run-dev.log"
    with log_path.open("w") as log:
        script = subprocess.Popen(
            ["bash", str(REPO / "scripts" / "run-dev.sh")],
            cwd=tmp_path,  # the script finds the repository itself
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(base, script, log_path)

            status, kind, body = _get(base + "/api/openapi.json")
            assert (status, kind) == (200, "application/json")
            assert json.loads(body)["openapi"].startswith("3.")
            status, kind, body = _get(base + "/api/docs")
            assert (status, kind) == (200, "text/html")
            status, kind, body = _get(base + "/staff/login")
            assert (status, kind) == (200, "text/html")
            assert "<form" in body
            _get(base + "/api/v1/news?q=Schwimmbad&lat=51.31&lon=9.45")

            deadline = time.monotonic() + 15
            while "started with jobs: core.housekeeping" not in log_path.read_text():
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
            members = _group_members(script.pid)
            assert any("gunicorn" in cmd for cmd in members.values()), members
            assert any("scheduler run" in cmd for cmd in members.values()), members

            os.killpg(script.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
            stopped = time.monotonic()
            script.wait(timeout=15)
            while _group_members(script.pid):
                assert time.monotonic() - stopped < 15, _group_members(script.pid)
                time.sleep(0.1)
        finally:
            if _group_members(script.pid):
                os.killpg(script.pid, signal.SIGKILL)
            if script.poll() is None:
                script.wait()
    output = log_path.read_text()
    assert f"cityapp is running:   http://127.0.0.1:{port}/" in output
    assert "scheduler stopped after" in output, output
    assert "Traceback" not in output, output
    # The access log has the request but no personal data: no client IP, no query string.
    access = [line for line in output.splitlines() if '"GET /api/v1/news"' in line]
    assert access, output
    assert (
        "127.0.0.1" not in access[0] and "Schwimmbad" not in access[0] and "51.31" not in access[0]
    )
    with pytest.raises(OSError):
        _get(base + "/healthz")
