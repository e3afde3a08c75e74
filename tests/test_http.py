"""The shared HTTP helpers, through real endpoints where there is one: cursor pagination,
ETags and If-None-Match / If-Match, language negotiation, security and cache headers."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import g
from sqlalchemy import func, select

from cityapp import create_app
from cityapp.auth.models import AuditEntry, StaffUser
from cityapp.db import db
from cityapp.http.languages import negotiate_language, pick_translation
from tests.conftest import assert_problem

USERS = "/api/v1/staff/users"
AUDIT = "/api/v1/staff/audit"


def _next_link(response) -> str | None:
    link = response.headers.get("Link")
    if link is None:
        return None
    target, rel = link.split(";", 1)
    assert rel.strip() == 'rel="next"'
    assert target.startswith("<") and target.endswith(">")
    return target[1:-1]


def _walk(api_client, url: str) -> list[list[dict]]:
    """Follow next_cursor to the end; check the Link header agrees on every page."""
    pages = []
    while True:
        response = api_client.get(url)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        link = _next_link(response)
        if body["next_cursor"] is None:
            assert link is None
            return pages
        assert link is not None
        assert parse_qs(urlsplit(link).query)["cursor"] == [body["next_cursor"]]
        parts = urlsplit(link)
        url = parts.path + "?" + parts.query
        assert len(pages) < 50, "pagination does not end"


# --- cursor pagination -------------------------------------------------------------------


def test_staff_list_walks_every_account_exactly_once(admin_client, admin, make_staff):
    created = {make_staff("editor").id for _ in range(6)} | {admin.id}
    pages = _walk(admin_client, f"{USERS}?limit=3")
    assert [len(p) for p in pages] == [3, 3, 1]
    ids = [item["id"] for page in pages for item in page]
    assert len(ids) == len(set(ids)) == 7
    assert set(ids) == created
    assert ids == sorted(ids)


def test_page_that_ends_exactly_at_the_limit_has_no_next_cursor(admin_client, make_staff):
    for _ in range(3):
        make_staff("moderator")
    pages = _walk(admin_client, f"{USERS}?limit=4")  # admin + 3 = exactly one full page
    assert [len(p) for p in pages] == [4]


def test_link_header_keeps_the_filters(admin_client, make_staff):
    editors = {make_staff("editor").id for _ in range(3)}
    make_staff("moderator")
    first = admin_client.get(f"{USERS}?role=editor&limit=2")
    query = parse_qs(urlsplit(_next_link(first)).query)
    assert query["role"] == ["editor"] and query["limit"] == ["2"]
    pages = _walk(admin_client, f"{USERS}?role=editor&limit=2")
    assert {item["id"] for page in pages for item in page} == editors
    assert all(item["role"] == "editor" for page in pages for item in page)


def test_audit_list_walks_newest_first_and_ignores_entries_added_meanwhile(
    app, admin_client, make_staff
):
    for _ in range(4):
        make_staff("editor")
    everything = admin_client.get(f"{AUDIT}?limit=100").get_json()
    assert everything["next_cursor"] is None
    expected = [entry["id"] for entry in everything["items"]]
    assert len(expected) >= 6  # 5 staff.create + 1 login at least
    stamps = [datetime.fromisoformat(entry["created_at"]) for entry in everything["items"]]
    assert stamps == sorted(stamps, reverse=True)

    first = admin_client.get(f"{AUDIT}?limit=2")
    seen = [entry["id"] for entry in first.get_json()["items"]]
    make_staff("editor")  # a newer entry must not shift the pages still to come
    link = urlsplit(_next_link(first))
    for page in _walk(admin_client, link.path + "?" + link.query):
        seen += [entry["id"] for entry in page]
    assert seen == expected


@pytest.mark.parametrize("limit", ["0", "101", "-1", "abc", "2.5"])
def test_limit_out_of_range_is_422(admin_client, limit):
    assert_problem(admin_client.get(f"{USERS}?limit={limit}"), 422, field="limit")


def test_default_limit_is_20(admin_client, make_staff):
    for _ in range(20):
        make_staff("moderator")
    body = admin_client.get(USERS).get_json()
    assert len(body["items"]) == 20 and body["next_cursor"] is not None


def _tamper(cursor: str) -> str:
    middle = len(cursor) // 2
    replacement = "A" if cursor[middle] != "A" else "B"
    return cursor[:middle] + replacement + cursor[middle + 1 :]


def test_tampered_cursor_is_400(admin_client, make_staff):
    for _ in range(3):
        make_staff("editor")
    cursor = admin_client.get(f"{USERS}?limit=1").get_json()["next_cursor"]
    body = assert_problem(admin_client.get(f"{USERS}?limit=1&cursor={_tamper(cursor)}"), 400)
    assert body["errors"] == {"cursor": ["Invalid cursor."]}


@pytest.mark.parametrize("cursor", ["garbage", "AAAA", "%00%01", "eyJ0eXAiOiJKV1QifQ"])
def test_garbage_cursor_is_400(admin_client, cursor):
    assert_problem(admin_client.get(f"{AUDIT}?cursor={cursor}"), 400, field="cursor")


def test_cursor_of_another_list_is_400(admin_client, make_staff):
    for _ in range(2):
        make_staff("editor")
    staff_cursor = admin_client.get(f"{USERS}?limit=1").get_json()["next_cursor"]
    assert_problem(admin_client.get(f"{AUDIT}?cursor={staff_cursor}"), 400, field="cursor")


def test_overlong_cursor_is_422(admin_client):
    assert_problem(admin_client.get(f"{AUDIT}?cursor={'A' * 600}"), 422, field="cursor")


def test_cursor_signed_with_another_secret_is_400(database_url, admin_client, make_staff):
    for _ in range(2):
        make_staff("editor")
    other = create_app(
        {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "SECRET_KEY": "x" * 40}
    )
    from cityapp.http.pagination import _encode_cursor

    with other.test_request_context(USERS):
        forged = _encode_cursor([0])  # would mean "everything after id 0" if accepted
    assert_problem(admin_client.get(f"{USERS}?cursor={forged}"), 400, field="cursor")


def test_cursor_of_one_list_is_refused_by_another(admin_client, make_staff):
    for _ in range(3):
        make_staff("editor")
    page = admin_client.get(f"{USERS}?limit=1").get_json()
    assert page["next_cursor"]
    # Same cursor shape ([id]) on both lists: only the endpoint scoping tells them apart.
    response = admin_client.get(f"/api/v1/staff/tokens?cursor={page['next_cursor']}")
    assert_problem(response, 400, field="cursor")


# --- ETag / If-None-Match ----------------------------------------------------------------


def _staff_etag(admin_client, user_id: int) -> str:
    response = admin_client.get(f"{USERS}/{user_id}")
    assert response.status_code == 200
    etag = response.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 2  # strong
    return etag


@pytest.mark.parametrize(
    "header",
    ["{etag}", "W/{etag}", "*", '"other", {etag}', 'W/"other",  W/{etag}'],
    ids=["strong", "weak", "star", "list", "weak-list"],
)
def test_if_none_match_answers_304(admin_client, admin, header):
    etag = _staff_etag(admin_client, admin.id)
    response = admin_client.get(
        f"{USERS}/{admin.id}", headers={"If-None-Match": header.format(etag=etag)}
    )
    assert response.status_code == 304
    assert response.get_data() == b""
    assert response.headers["ETag"] == etag
    assert response.headers["X-Request-ID"]


@pytest.mark.parametrize("header", ['"stale"', 'W/"stale"', "garbage"])
def test_if_none_match_miss_answers_200_with_the_body(admin_client, admin, header):
    response = admin_client.get(f"{USERS}/{admin.id}", headers={"If-None-Match": header})
    assert response.status_code == 200
    assert response.get_json()["id"] == admin.id
    assert response.headers["ETag"]


def test_staff_etag_changes_when_the_account_changes(admin_client, make_staff):
    editor = make_staff("editor")
    before = _staff_etag(admin_client, editor.id)
    response = admin_client.patch(f"{USERS}/{editor.id}", json={"display_name": "Neu"})
    assert response.status_code == 200
    after = _staff_etag(admin_client, editor.id)
    assert after != before
    assert response.headers["ETag"] == after
    old = admin_client.get(f"{USERS}/{editor.id}", headers={"If-None-Match": before})
    assert old.status_code == 200 and old.get_json()["display_name"] == "Neu"


# --- If-Match ----------------------------------------------------------------------------


def _audit_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEntry))


def test_if_match_stale_is_412_and_changes_nothing(app, admin_client, make_staff):
    editor = make_staff("editor")
    stale = _staff_etag(admin_client, editor.id)
    assert (
        admin_client.patch(f"{USERS}/{editor.id}", json={"display_name": "Erste"}).status_code
        == 200
    )
    current = _staff_etag(admin_client, editor.id)
    audit_before = _audit_count(app)

    response = admin_client.patch(
        f"{USERS}/{editor.id}", json={"display_name": "Zweite"}, headers={"If-Match": stale}
    )
    body = assert_problem(response, 412)
    assert body["type"].endswith("/precondition-failed")
    assert response.headers["ETag"] == current
    assert _audit_count(app) == audit_before
    with app.app_context():
        assert db.session.get(StaffUser, editor.id).display_name == "Erste"


def test_if_match_with_a_weak_tag_is_412(admin_client, make_staff):
    editor = make_staff("editor")
    etag = _staff_etag(admin_client, editor.id)
    response = admin_client.patch(
        f"{USERS}/{editor.id}", json={"display_name": "X"}, headers={"If-Match": f"W/{etag}"}
    )
    assert_problem(response, 412)


@pytest.mark.parametrize("header", ["{etag}", "*", '"other", {etag}'])
def test_if_match_current_or_star_updates(app, admin_client, make_staff, header):
    editor = make_staff("editor")
    etag = _staff_etag(admin_client, editor.id)
    response = admin_client.patch(
        f"{USERS}/{editor.id}",
        json={"display_name": "Aktuell"},
        headers={"If-Match": header.format(etag=etag)},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["display_name"] == "Aktuell"
    assert response.headers["ETag"] != etag
    with app.app_context():
        assert db.session.get(StaffUser, editor.id).display_name == "Aktuell"


# --- languages -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ("?lang=en", "de", "en"),
        ("?lang=EN", None, "en"),
        ("?lang=de-x-ls", "en", "de-x-ls"),
        ("?lang=de-X-LS", None, "de-x-ls"),
        ("", "fr;q=1.0, en;q=0.8, de;q=0.5", "en"),
        ("", "de;q=0.4, en;q=0.9", "en"),
        ("", "en-GB", "en"),
        ("", "en-GB,en;q=0.9,de;q=0.8", "en"),
        ("", "de-AT", "de"),
        ("", "de-x-ls", "de-x-ls"),
        ("", "fr, it", "de"),
        ("", "en;q=0, fr", "de"),
        ("", "*", "de"),
        ("", None, "de"),
        ("?lang=xx", None, "de"),
        ("?lang=xx", "en", "en"),
        ("?lang=", "en", "en"),
        ("?lang=%20", None, "de"),
    ],
)
def test_negotiate_language(app, query, accept, expected):
    headers = {"Accept-Language": accept} if accept else {}
    with app.test_request_context("/" + query, headers=headers):
        assert negotiate_language() == expected
        assert g.content_language == expected


def test_negotiate_language_with_a_narrower_supported_list(app):
    with app.test_request_context("/?lang=de-x-ls", headers={"Accept-Language": "en"}):
        assert negotiate_language(["de", "en"]) == "de"  # "de-x-ls" narrows to its primary tag


@pytest.mark.parametrize(
    ("values", "language", "expected"),
    [
        ({"de": "Hallo", "en": "Hello"}, "en", "Hello"),
        ({"de": "Hallo", "en": "Hello"}, "de-x-ls", "Hallo"),
        (
            {"de": "Hallo", "de-x-ls": "Hallo in Leichter Sprache"},
            "de-x-ls",
            "Hallo in Leichter Sprache",
        ),
        ({"en": "Hello"}, "de", "Hello"),
        ({"de": "Hallo", "en": ""}, "en", "Hallo"),
        ({}, "en", None),
        (None, "en", None),
    ],
)
def test_pick_translation(app, values, language, expected):
    with app.test_request_context("/"):
        assert pick_translation(values, language) == expected


def test_content_language_header_is_set_from_the_negotiation(database_url):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/api/v1/_greeting")
    def greeting():
        language = negotiate_language()
        return {"text": pick_translation({"de": "Hallo", "en": "Hello"}, language)}

    client = app.test_client()
    english = client.get("/api/v1/_greeting", headers={"Accept-Language": "en-GB"})
    assert english.get_json() == {"text": "Hello"}
    assert english.headers["Content-Language"] == "en"
    unknown = client.get("/api/v1/_greeting?lang=xx")
    assert unknown.status_code == 200
    assert unknown.get_json() == {"text": "Hallo"}
    assert unknown.headers["Content-Language"] == "de"
    plain = client.get("/api/v1/auth/csrf")
    assert "Content-Language" not in plain.headers  # only where a language was chosen


# --- security and cache headers --------------------------------------------------------


def _assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";")}
    assert directives["frame-ancestors"] == "frame-ancestors 'none'"
    assert directives["default-src"] == "default-src 'self'"
    assert directives["object-src"] == "object-src 'none'"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/auth/csrf", 200),
        ("GET", "/api/openapi.json", 200),
        ("GET", "/healthz", 200),
        ("GET", "/staff/login", 200),
        ("GET", "/staff/", 302),
        ("GET", "/api/v1/nope", 404),
        ("GET", "/staff/nope", 404),
        ("GET", "/api/v1/auth/me", 401),
        ("PUT", "/api/v1/auth/login", 405),
        ("POST", "/api/v1/auth/logout", 204),
    ],
)
def test_security_headers_on_every_kind_of_response(client, method, path, status):
    response = client.open(path, method=method)
    assert response.status_code == status
    _assert_security_headers(response)


def test_security_headers_on_refused_bodies_and_304(admin_client, admin, client):
    refused = client.post("/api/v1/auth/login", data="x", content_type="text/plain")
    assert refused.status_code == 415
    _assert_security_headers(refused)
    etag = _staff_etag(admin_client, admin.id)
    cached = admin_client.get(f"{USERS}/{admin.id}", headers={"If-None-Match": etag})
    assert cached.status_code == 304
    _assert_security_headers(cached)


def test_security_headers_on_500(database_url):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/api/v1/_boom")
    def boom():
        raise ValueError("boom")

    response = app.test_client().get("/api/v1/_boom")
    assert response.status_code == 500
    _assert_security_headers(response)


def test_api_docs_get_their_own_csp_but_still_no_framing(client):
    response = client.get("/api/docs")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp
    assert "'unsafe-inline'" in csp
    assert "'unsafe-inline'" not in client.get("/staff/login").headers["Content-Security-Policy"]


def test_api_cache_control(admin_client, admin, client):
    assert client.get("/api/v1/auth/csrf").headers["Cache-Control"] == "no-cache"
    assert client.post("/api/v1/auth/logout").headers["Cache-Control"] == "no-store"
    staff = admin_client.get(f"{USERS}/{admin.id}")
    assert staff.headers["Cache-Control"] == "private, no-cache"
