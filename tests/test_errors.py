"""Every error on /api/* is RFC 9457 problem+json, bad input changes nothing, 500s hide their
cause behind a logged error id, request ids line up with the logs, staff pages get HTML."""

from __future__ import annotations

import io
import json
import logging

import pytest
from sqlalchemy import func, select

from cityapp import create_app
from cityapp.auth.models import AuditEntry, LoginThrottle, StaffUser
from cityapp.db import db
from tests.conftest import assert_problem

LOGIN = "/api/v1/auth/login"


def _separate_app(database_url: str, **overrides):
    """A second app with its own config, for routes and limits the session app must not get."""
    return create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def _counts(app) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (StaffUser, AuditEntry, LoginThrottle)
        )


# --- routing -----------------------------------------------------------------------------


def test_unknown_api_path_is_404_problem(client):
    body = assert_problem(client.get("/api/v1/no-such-thing"), 404)
    assert body["type"].endswith("/not-found")
    assert set(body) >= {"type", "title", "status", "detail", "request_id"}


def test_wrong_method_is_405_problem_with_allow_header(client):
    response = client.put(LOGIN, json={})
    body = assert_problem(response, 405)
    assert body["type"].endswith("/method-not-allowed")
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert "POST" in allowed
    assert "PUT" not in allowed


# --- request bodies ----------------------------------------------------------------------


def test_json_body_over_the_json_limit_is_413(app, client):
    before = _counts(app)
    limit = app.config["CITYAPP_MAX_JSON_LENGTH"]
    payload = json.dumps({"email": "a@b.example", "password": "x" * limit}).encode()
    response = client.post(LOGIN, data=payload, content_type="application/json")
    body = assert_problem(response, 413)
    assert body["type"].endswith("/payload-too-large")
    assert str(limit) in body["detail"]
    assert _counts(app) == before


def test_body_over_max_content_length_is_413_whatever_its_type(database_url):
    app = _separate_app(database_url, MAX_CONTENT_LENGTH=2048, CITYAPP_MAX_JSON_LENGTH=10**6)
    client = app.test_client()
    big_json = json.dumps({"email": "a@b.example", "password": "x" * 4000})
    body = assert_problem(client.post(LOGIN, data=big_json, content_type="application/json"), 413)
    assert "2048" in body["detail"]
    # Size is checked before the type: a huge body of the wrong type is still "too large".
    assert_problem(client.post(LOGIN, data="x" * 4000, content_type="text/plain"), 413)


def test_chunked_json_body_without_length_is_capped_too(database_url):
    app = _separate_app(database_url, CITYAPP_MAX_JSON_LENGTH=1024)
    client = app.test_client()
    payload = json.dumps({"email": "a@b.example", "password": "x" * 4000}).encode()
    response = client.post(
        LOGIN,
        input_stream=io.BytesIO(payload),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert_problem(response, 413)


def test_text_plain_body_to_a_json_endpoint_is_415(app, client):
    before = _counts(app)
    response = client.post(LOGIN, data="email=a@b.example", content_type="text/plain")
    body = assert_problem(response, 415)
    assert body["type"].endswith("/unsupported-media-type")
    assert "text/plain" in body["detail"]
    assert "application/json" in response.headers["Accept-Post"]
    assert _counts(app) == before


def test_form_body_to_a_json_endpoint_is_415(client):
    response = client.post(LOGIN, data={"email": "a@b.example", "password": "secret"})
    assert_problem(response, 415)


def test_malformed_json_is_400(app, client):
    before = _counts(app)
    response = client.post(LOGIN, data='{"email": "a@b.example", ', content_type="application/json")
    body = assert_problem(response, 400)
    assert body["type"].endswith("/bad-request")
    assert _counts(app) == before


def test_validation_errors_are_422_per_field(client):
    response = client.post(LOGIN, json={"email": "not-an-email"})
    body = assert_problem(response, 422, field="email")
    assert body["type"].endswith("/validation-error")
    assert body["detail"] == "The request did not validate; see errors."
    assert isinstance(body["errors"]["email"], list) and body["errors"]["email"]
    assert "password" in body["errors"]  # missing required field
    # Errors are keyed by field, not nested by location ("json").
    assert "json" not in body["errors"]


def test_unknown_json_field_is_422_not_ignored(app, admin_client):
    before = _counts(app)
    response = admin_client.post(
        "/api/v1/staff/users",
        json={
            "email": "new@test.musterstadt.example",
            "display_name": "Neu",
            "role": "editor",
            "is_superuser": True,
        },
    )
    body = assert_problem(response, 422, field="is_superuser")
    assert set(body["errors"]) == {"is_superuser"}
    assert _counts(app) == before


def test_json_body_that_is_not_an_object_is_422(client):
    response = client.post(LOGIN, data="[1, 2, 3]", content_type="application/json")
    assert_problem(response, 422)


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ({"email": 5, "display_name": ["x"], "role": "editor"}, {"email", "display_name"}),
        ({"email": "x@test.example", "display_name": "X", "role": 7}, {"role"}),
        ({"email": "x@test.example", "display_name": "X", "role": "emperor"}, {"role"}),
        (
            {"email": "x@test.example", "display_name": "X" * 121, "role": "editor"},
            {"display_name"},
        ),
        ({"email": "x" * 250 + "@t.example", "display_name": "X", "role": "editor"}, {"email"}),
        ({"email": "x@test.example", "display_name": "", "role": "editor"}, {"display_name"}),
        (
            {"email": "x@test.example", "display_name": "X", "role": "editor", "password": "short"},
            {"password"},
        ),
    ],
    ids=["wrong-types", "role-type", "role-value", "long-name", "long-email", "empty", "pw"],
)
def test_wrong_types_and_oversized_strings_are_422_and_change_nothing(
    app, admin_client, payload, fields
):
    before = _counts(app)
    body = assert_problem(admin_client.post("/api/v1/staff/users", json=payload), 422)
    assert set(body["errors"]) == fields
    assert _counts(app) == before


def test_patch_with_wrong_type_is_422_and_changes_nothing(app, admin_client, make_staff):
    editor = make_staff("editor")
    before = _counts(app)
    response = admin_client.patch(f"/api/v1/staff/users/{editor.id}", json={"is_active": "maybe"})
    assert_problem(response, 422, field="is_active")
    assert _counts(app) == before
    with app.app_context():
        assert db.session.get(StaffUser, editor.id).is_active is True


def test_invalid_cursor_is_400_with_cursor_error(admin_client):
    response = admin_client.get("/api/v1/staff/audit?cursor=not-a-cursor")
    body = assert_problem(response, 400, field="cursor")
    assert body["type"].endswith("/bad-request")


def test_wrong_query_type_is_422(admin_client):
    assert_problem(admin_client.get("/api/v1/staff/audit?actor_id=abc"), 422, field="actor_id")
    assert_problem(admin_client.get("/api/v1/staff/audit?since=yesterday"), 422, field="since")


# --- 429 -----------------------------------------------------------------------------------


def test_rate_limit_is_429_problem_with_retry_after(app, client):
    limit = int(app.config["CITYAPP_LOGIN_RATE_LIMIT"].split()[0])
    for i in range(limit):
        response = client.post(LOGIN, json={"email": f"n{i}@test.example", "password": "wrong"})
        assert response.status_code == 401
    response = client.post(LOGIN, json={"email": "last@test.example", "password": "wrong"})
    body = assert_problem(response, 429)
    assert body["type"].endswith("/too-many-requests")
    assert 0 < int(response.headers["Retry-After"]) <= 60


def test_limited_endpoints_send_the_ietf_ratelimit_headers(app, client):
    limit = int(app.config["CITYAPP_LOGIN_RATE_LIMIT"].split()[0])
    first = client.post(LOGIN, json={"email": "a@test.example", "password": "wrong"})
    assert first.status_code == 401
    assert first.headers["RateLimit-Policy"] == f'"{limit}-per-1-minute";q={limit};w=60'
    name, remaining, reset = first.headers["RateLimit"].split(";")
    assert name == f'"{limit}-per-1-minute"' and remaining == f"r={limit - 1}"
    assert 0 <= int(reset.removeprefix("t=")) <= 60
    assert "Retry-After" not in first.headers, "Retry-After only on a 429"
    for i in range(limit - 1):
        client.post(LOGIN, json={"email": f"n{i}@test.example", "password": "wrong"})
    refused = client.post(LOGIN, json={"email": "last@test.example", "password": "wrong"})
    assert_problem(refused, 429)
    assert ";r=0;" in refused.headers["RateLimit"]
    assert 0 < int(refused.headers["Retry-After"]) <= 60
    # Endpoints without a limit send none of them.
    other = client.get("/api/v1/auth/csrf")
    assert not {"RateLimit", "RateLimit-Policy", "Retry-After"} & set(other.headers.keys())


def test_every_429_has_retry_after(database_url):
    from flask import abort

    app = _separate_app(database_url)

    @app.get("/api/v1/_busy")
    def busy():
        abort(429)

    response = app.test_client().get("/api/v1/_busy")
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) >= 1


# --- 500 -----------------------------------------------------------------------------------


def test_unexpected_error_is_generic_500_with_logged_error_id(database_url, caplog):
    app = _separate_app(database_url)

    @app.get("/api/v1/_boom")
    def boom():
        raise RuntimeError("secret internals: password=hunter2")

    caplog.set_level(logging.ERROR, logger="cityapp")
    response = app.test_client().get("/api/v1/_boom", headers={"X-Request-ID": "boom-1"})

    body = assert_problem(response, 500)
    text = response.get_data(as_text=True)
    assert body["type"].endswith("/internal-error")
    assert body["title"] == "Internal server error"
    error_id = body["error_id"]
    assert len(error_id) == 32 and error_id in body["detail"]
    assert "RuntimeError" not in text and "hunter2" not in text and "File " not in text
    assert body["request_id"] == "boom-1" == response.headers["X-Request-ID"]
    records = [r for r in caplog.records if error_id in r.getMessage()]
    assert len(records) == 1
    assert records[0].levelno == logging.ERROR
    assert records[0].request_id == "boom-1"
    assert records[0].exc_info is not None  # the traceback goes to the log, not the client


def test_the_500_log_line_redacts_capability_tokens_in_the_path(database_url, caplog):
    app = _separate_app(database_url)

    @app.get("/api/v1/reports/track/<token>/_boom")
    def boom(token):
        raise RuntimeError("boom")

    caplog.set_level(logging.ERROR, logger="cityapp")
    response = app.test_client().get("/api/v1/reports/track/crt_Secret0123456789/_boom")
    assert_problem(response, 500)
    (record,) = [r for r in caplog.records if "unhandled error" in r.getMessage()]
    assert "crt_Secret0123456789" not in record.getMessage()
    assert "/api/v1/reports/track/[redacted]/_boom" in record.getMessage()


def test_over_long_query_strings_are_a_414_problem(database_url):
    app = _separate_app(database_url, CITYAPP_MAX_QUERY_LENGTH=100)
    client = app.test_client()
    assert client.get("/api/v1/news?q=" + "x" * 90).status_code != 414
    body = assert_problem(client.get("/api/v1/news?q=" + "x" * 100), 414)
    assert body["type"].endswith("/uri-too-long") and "100 bytes" in body["detail"]


def test_unexpected_error_on_a_staff_page_is_an_html_page(database_url, caplog):
    app = _separate_app(database_url)

    @app.get("/staff/_boom")
    def boom():
        raise RuntimeError("hidden detail")

    caplog.set_level(logging.ERROR, logger="cityapp")
    response = app.test_client().get("/staff/_boom", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert "Interner Fehler" in text
    assert "hidden detail" not in text and "Traceback" not in text
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and logged[-1].getMessage().split()[2] in text  # the error id is shown


# --- request ids -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/healthz"),
        ("GET", "/api/v1/no-such-thing"),
        ("GET", "/api/v1/auth/csrf"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/staff/login"),
        ("GET", "/staff/no-such-page"),
        ("GET", "/api/openapi.json"),
    ],
)
def test_every_response_carries_a_request_id(client, method, path):
    response = client.open(path, method=method)
    request_id = response.headers["X-Request-ID"]
    assert len(request_id) == 32 and all(c in "0123456789abcdef" for c in request_id)


def test_valid_incoming_request_id_is_echoed_in_header_body_and_audit(app, client):
    response = client.post(
        LOGIN,
        json={"email": "ghost@test.example", "password": "wrong"},
        headers={"X-Request-ID": "lb-7f3a:42.x_y"},
    )
    body = assert_problem(response, 401)
    assert response.headers["X-Request-ID"] == "lb-7f3a:42.x_y" == body["request_id"]
    with app.app_context():
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "auth.login_failed")
        )
        assert entry.request_id == "lb-7f3a:42.x_y"


@pytest.mark.parametrize(
    "incoming",
    ["x" * 300, "has spaces in it", "semi;colon", "new\tline", "ünïcode"],
    ids=["too-long", "spaces", "semicolon", "tab", "non-ascii"],
)
def test_invalid_incoming_request_id_is_replaced(client, incoming):
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.status_code == 200
    replaced = response.headers["X-Request-ID"]
    assert replaced != incoming
    assert len(replaced) == 32


def test_log_records_carry_the_request_id(client, make_staff, caplog):
    staff = make_staff("editor")
    caplog.set_level(logging.INFO, logger="cityapp")
    caplog.clear()
    response = client.post(
        LOGIN,
        json={"email": staff.email, "password": staff.password},
        headers={"X-Request-ID": "trace-123"},
    )
    assert response.status_code == 200
    records = [r for r in caplog.records if r.name.startswith("cityapp")]
    assert records, "the login logged nothing"
    assert {r.request_id for r in records} == {"trace-123"}
    assert any("auth.login" in r.getMessage() for r in records)


def test_log_records_outside_requests_get_a_dash(ctx, caplog):
    caplog.set_level(logging.INFO, logger="cityapp")
    logging.getLogger("cityapp.test").info("outside any request")
    record = next(r for r in caplog.records if r.getMessage() == "outside any request")
    assert record.request_id == "-"


def test_log_level_may_be_given_in_lower_case(app, database_url):
    _separate_app(database_url, CITYAPP_LOG_LEVEL="warning")
    assert logging.getLogger("cityapp").level == logging.WARNING
    _separate_app(database_url)  # back to the configured level for the tests that follow
    expected = logging.getLevelName(app.config["CITYAPP_LOG_LEVEL"].upper())
    assert logging.getLogger("cityapp").level == expected


# --- staff pages get HTML ------------------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "application/json", "text/html"])
def test_staff_page_404_is_html_even_for_json_clients(client, accept):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/staff/no-such-page", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    text = response.get_data(as_text=True)
    assert '<html lang="de">' in text
    assert "Seite nicht gefunden" in text
    assert response.headers["X-Request-ID"]


def test_staff_page_405_is_html_with_allow_header(client):
    response = client.put("/staff/login")
    assert response.status_code == 405
    assert response.mimetype == "text/html"
    assert "Methode nicht erlaubt" in response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]


def test_api_error_is_json_even_for_browsers(client):
    response = client.get("/api/v1/no-such-thing", headers={"Accept": "text/html"})
    assert_problem(response, 404)
