"""Liveness and readiness probes for operators and load balancers."""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from cityapp.db import db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
def healthz():
    """The process is alive and answering."""
    return jsonify({"status": "ok"})


def _migration_state() -> tuple[bool, str | None, set[str]]:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    migrate_ext = current_app.extensions["migrate"]
    config = migrate_ext.migrate.get_config(migrate_ext.directory)
    heads = set(ScriptDirectory.from_config(config).get_heads())
    with db.engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) == heads, ",".join(sorted(current)) or None, heads


@bp.get("/readyz")
def readyz():
    """Ready to serve: database reachable, schema at the migration head, Redis if configured."""
    checks: dict[str, dict] = {}
    ok = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = {"ok": True, "dialect": db.engine.dialect.name}
    except Exception as exc:  # noqa: BLE001 - a probe reports, it does not raise
        log.warning("readyz: database unreachable: %s", exc.__class__.__name__)
        checks["database"] = {"ok": False, "error": exc.__class__.__name__}
        ok = False
    if checks["database"]["ok"]:
        try:
            at_head, current, heads = _migration_state()
            checks["migrations"] = {
                "ok": at_head,
                "current": current,
                "head": ",".join(sorted(heads)),
            }
            ok = ok and at_head
        except Exception as exc:  # noqa: BLE001
            checks["migrations"] = {"ok": False, "error": exc.__class__.__name__}
            ok = False
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        try:
            import redis

            client = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
            try:
                client.ping()
            finally:
                client.close()
            checks["redis"] = {"ok": True}
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = {"ok": False, "error": exc.__class__.__name__}
            ok = False
    response = jsonify({"status": "ok" if ok else "unavailable", "checks": checks})
    response.status_code = 200 if ok else 503
    response.headers["Cache-Control"] = "no-store"
    return response
