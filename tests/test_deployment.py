"""Deployment settings: JSON log lines, the proxy fix, production secrets."""

from __future__ import annotations

import io
import json
import logging

import pytest

from cityapp import create_app


def _app(database_url: str, **overrides):
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def test_json_log_lines_carry_the_request_id(database_url):
    app = _app(database_url, CITYAPP_LOG_JSON=True)
    logger = logging.getLogger("cityapp")
    handler = next(h for h in logger.handlers if getattr(h, "_cityapp", False))
    stream = io.StringIO()
    handler.setStream(stream)

    @app.get("/api/v1/_log-probe")
    def probe():
        logging.getLogger("cityapp.probe").info("probe for %s", "object 7")
        return {"ok": True}

    response = app.test_client().get("/api/v1/_log-probe", headers={"X-Request-ID": "req-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "req-42"
    lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
    record = next(line for line in lines if line["logger"] == "cityapp.probe")
    assert record["message"] == "probe for object 7"
    assert record["request_id"] == "req-42"
    assert record["level"] == "INFO"
    assert "time" in record


def test_proxy_fix_takes_the_client_ip_from_the_trusted_proxy(database_url):
    app = _app(database_url, CITYAPP_PROXY_FIX_X_FOR=1, CITYAPP_PROXY_FIX_X_PROTO=1)

    @app.get("/api/v1/_ip-probe")
    def probe():
        from flask import request

        return {"ip": request.remote_addr, "scheme": request.scheme}

    response = app.test_client().get(
        "/api/v1/_ip-probe",
        headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.get_json() == {"ip": "203.0.113.9", "scheme": "https"}


def test_without_proxy_fix_forwarded_headers_are_ignored(database_url):
    app = _app(database_url)

    @app.get("/api/v1/_ip-probe")
    def probe():
        from flask import request

        return {"ip": request.remote_addr}

    response = app.test_client().get(
        "/api/v1/_ip-probe",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.2"},
    )
    assert response.get_json() == {"ip": "10.0.0.2"}


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    from config import ProductionConfig

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)
    monkeypatch.setenv("SECRET_KEY", "short")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)


def test_production_with_a_secret_key_starts(monkeypatch, database_url):
    from config import ProductionConfig

    monkeypatch.setenv("SECRET_KEY", "x" * 48)
    monkeypatch.setattr(ProductionConfig, "SQLALCHEMY_DATABASE_URI", database_url)
    app = create_app(ProductionConfig)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["CITYAPP_LOG_JSON"] is True
    assert app.test_client().get("/healthz").status_code == 200
