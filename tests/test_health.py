"""/readyz tells a load balancer the truth: database, schema at the migration head, Redis."""

from __future__ import annotations

import os

from cityapp import create_app
from cityapp.db import db


def _ready_body(response, status: int) -> dict:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert body["status"] == ("ok" if status == 200 else "unavailable")
    return body


def test_readyz_is_200_on_the_migrated_database(client):
    body = _ready_body(client.get("/readyz"), 200)
    checks = body["checks"]
    assert checks["database"]["ok"] is True
    assert checks["database"]["dialect"] in {"sqlite", "postgresql"}
    assert checks["migrations"]["ok"] is True
    assert checks["migrations"]["current"] == checks["migrations"]["head"]
    if os.environ.get("REDIS_URL"):
        assert checks["redis"] == {"ok": True}
    else:
        assert "redis" not in checks


def test_readyz_is_503_when_the_schema_is_not_at_head(app, tmp_path):
    empty = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
            "REDIS_URL": None,
            "RATELIMIT_STORAGE_URI": "memory://",
        }
    )
    body = _ready_body(empty.test_client().get("/readyz"), 503)
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] is False
    assert migrations["current"] is None
    assert (
        migrations["head"]
        == _ready_body(app.test_client().get("/readyz"), 200)["checks"]["migrations"]["head"]
    )
    with empty.app_context():
        db.engine.dispose()


def test_readyz_is_503_when_redis_is_configured_but_down(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", "redis://127.0.0.1:1/0")
    body = _ready_body(client.get("/readyz"), 503)
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"]["ok"] is True
