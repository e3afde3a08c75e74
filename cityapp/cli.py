"""flask commands: staff accounts, demo data, the scheduler. They call services and commit.

The few environment variables read here (CITYAPP_STAFF_PASSWORD, CITYAPP_DEMO_PASSWORD,
CITYAPP_ALLOW_DEMO) are inputs to one command run by a script, not configuration of the
running app, so they are read when the command runs rather than in config.py.
"""

from __future__ import annotations

import json
import os

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from marshmallow import ValidationError as MarshmallowValidationError
from marshmallow import validate

from cityapp.auth.models import Role
from cityapp.auth.service.actors import CLI
from cityapp.auth.service.staff import create_staff_user
from cityapp.db import db
from cityapp.errors import AppError

staff_cli = AppGroup("staff", help="Manage staff accounts.")
seed_cli = AppGroup("seed", help="Load data.")
scheduler_cli = AppGroup("scheduler", help="Run scheduled jobs.")
kiosks_cli = AppGroup("kiosks", help="Steles.")


def _describe(error: AppError) -> str:
    """One readable line: the detail, then each field's messages."""
    parts = [error.detail or error.title]
    for name, messages in (error.errors or {}).items():
        text = " ".join(messages) if isinstance(messages, list | tuple) else str(messages)
        parts.append(f"{name}: {text}")
    return " ".join(parts)


@staff_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", "display_name", default=None, help="Display name (default: the email).")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
def staff_create(email: str, display_name: str | None, role: str) -> None:
    """Create a staff account. Password from CITYAPP_STAFF_PASSWORD or a prompt."""
    try:
        validate.And(validate.Length(max=254), validate.Email())(email.strip())
    except MarshmallowValidationError as error:
        raise click.BadParameter(" ".join(error.messages), param_hint="'--email'") from None
    password = os.environ.get("CITYAPP_STAFF_PASSWORD")
    if not password:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_staff_user(
            CLI, email=email, display_name=display_name or email, role=role, password=password
        )
        db.session.commit()
    except AppError as error:
        db.session.rollback()
        raise click.ClickException(_describe(error)) from None
    click.echo(f"Created {role} account {user.email} (id {user.id}).")


@seed_cli.command("demo")
def seed_demo_command() -> None:
    """Load the Musterstadt demo data (idempotent)."""
    from cityapp.demo import DEMO_PASSWORD, DEMO_STAFF, seed_demo

    insist = os.environ.get("CITYAPP_ALLOW_DEMO", "").strip().lower() in {"1", "true", "yes", "on"}
    if current_app.config["ENV_NAME"] == "production" and not insist:
        raise click.ClickException(
            "Refusing to load demo data in production (set CITYAPP_ALLOW_DEMO=1 to insist)."
        )
    password = os.environ.get("CITYAPP_DEMO_PASSWORD") or DEMO_PASSWORD
    result = seed_demo(password)
    db.session.commit()
    # Shown once, never stored in plain and kept out of the summary line.
    stele_secret = result.pop("stele_secret", None)
    click.echo(f"Demo data ready: {result}")
    for email, _name, role in DEMO_STAFF:
        click.echo(f"  {role:<9} {email}  password: {password}")
    if stele_secret:
        _echo_stele_secret("Marktplatz", stele_secret)


def _echo_stele_secret(name: str, secret: str) -> None:
    click.echo(f"  stele     {name}  device secret (shown once): {secret}")
    click.echo(
        "            player: open /player/ and run in its console "
        f"localStorage.setItem('stele.secret', JSON.stringify('{secret}')); location.reload()"
    )


@kiosks_cli.command("demo-secret")
def kiosks_demo_secret() -> None:
    """Issue a new secret for the online demo stele and print it (the old one stops working)."""
    from cityapp.kiosks.demo import issue_demo_secret

    try:
        device, secret = issue_demo_secret()
        db.session.commit()
    except AppError as error:
        db.session.rollback()
        raise click.ClickException(_describe(error)) from None
    _echo_stele_secret(device.name, secret)


@scheduler_cli.command("run")
def scheduler_run() -> None:
    """Run the scheduler process in the foreground (one or more per deployment)."""
    from cityapp.scheduler import run_scheduler

    run_scheduler(current_app._get_current_object())


@scheduler_cli.command("list")
def scheduler_list() -> None:
    """List the registered jobs and their schedules."""
    from cityapp.scheduler import JOBS

    for spec in JOBS:
        click.echo(f"{spec.id:<24} {spec.schedule(current_app)}  {spec.description}")


@scheduler_cli.command("run-once")
@click.argument("job_id")
def scheduler_run_once(job_id: str) -> None:
    """Run one job now, through the slot guard, and print its run record as JSON."""
    from cityapp.scheduler import JOBS, run_once

    if job_id not in {spec.id for spec in JOBS}:
        known = ", ".join(spec.id for spec in JOBS)
        raise click.BadParameter(f"unknown job {job_id!r}; known: {known}", param_hint="JOB_ID")
    run = run_once(current_app._get_current_object(), job_id)
    try:
        result = json.loads(run.result) if run.result is not None else None
    except ValueError:
        result = run.result  # a failure's message, or a result cut at 2000 characters
    record = {
        "job_id": run.job_id,
        "slot_at": run.slot_at.isoformat(),
        "runner": run.runner,
        "status": run.status,
        "result": result,
    }
    click.echo(json.dumps(record, ensure_ascii=False))
    if run.status != "succeeded":
        raise SystemExit(1)


def register_commands(app: Flask) -> None:
    app.cli.add_command(staff_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(kiosks_cli)
