"""The auth API as clients see it: login and sessions, CSRF, staff API tokens, installations,
the staff admin API and the audit log."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from cityapp import create_app
from cityapp.auth.models import ApiToken, AuditEntry, Installation, StaffUser
from cityapp.db import db, utcnow
from cityapp.extensions import limiter
from tests.conftest import DEFAULT_PASSWORD, ApiClient, assert_problem

LOGIN = "/api/v1/auth/login"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
TOKENS = "/api/v1/staff/tokens"
USERS = "/api/v1/staff/users"
AUDIT = "/api/v1/staff/audit"
INSTALLATIONS = "/api/v1/installations"

STAFF_KEYS = {"id", "email", "display_name", "role", "is_active", "last_login_at", "created_at"}
TOKEN_KEYS = {
    "id",
    "name",
    "prefix",
    "scopes",
    "owner_id",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
}


def _login(client, email: str, password: str, ip: str = "127.0.0.1"):
    return client.post(
        LOGIN, json={"email": email, "password": password}, environ_base={"REMOTE_ADDR": ip}
    )


def _without_request_id(body: dict) -> dict:
    return {k: v for k, v in body.items() if k != "request_id"}


def _audit(app, action: str) -> list[dict]:
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return [
            {c: getattr(e, c) for c in ("actor_id", "actor_label", "object_type", "object_id")}
            | {"summary": e.summary, "changes": e.changes, "request_id": e.request_id}
            for e in entries
        ]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def _token_row(app, plaintext: str) -> ApiToken:
    with app.app_context():
        token = db.session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
            )
        )
        db.session.expunge(token)
        return token


def _set_token(app, plaintext: str, **values) -> None:
    with app.app_context():
        token = db.session.scalar(
            select(ApiToken).where(
                ApiToken.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
            )
        )
        for name, value in values.items():
            setattr(token, name, value)
        db.session.commit()


def _bearer(app, token: str) -> ApiClient:
    return ApiClient(app.test_client(), {"Authorization": f"Bearer {token}"})


# --- login ---------------------------------------------------------------------------------


def test_login_returns_user_and_csrf_token_and_sets_the_session_cookie(client, make_staff):
    staff = make_staff("editor")
    response = _login(client, staff.email, staff.password)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"user", "csrf_token"}
    assert set(body["user"]) == STAFF_KEYS
    assert body["user"]["id"] == staff.id and body["user"]["email"] == staff.email
    assert body["user"]["last_login_at"] is not None
    assert isinstance(body["csrf_token"], str) and len(body["csrf_token"]) > 20
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cityapp_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    me = client.get(ME)
    assert me.status_code == 200 and me.get_json()["id"] == staff.id


def test_login_email_is_case_and_space_insensitive(client, make_staff):
    staff = make_staff("editor")
    assert _login(client, staff.email.upper(), staff.password).status_code == 200


def test_wrong_password_and_unknown_email_look_the_same(client, make_staff):
    staff = make_staff("editor")
    wrong = _login(client, staff.email, "not-the-password")
    unknown = _login(client, "nobody@test.musterstadt.example", "not-the-password")
    wrong_body, unknown_body = assert_problem(wrong, 401), assert_problem(unknown, 401)
    assert _without_request_id(wrong_body) == _without_request_id(unknown_body)
    assert wrong_body["detail"] == "Wrong email or password."
    assert wrong.headers["WWW-Authenticate"] == unknown.headers["WWW-Authenticate"]
    assert "Set-Cookie" not in wrong.headers and "Set-Cookie" not in unknown.headers
    assert client.get(ME).status_code == 401


def test_inactive_account_cannot_log_in(client, make_staff):
    staff = make_staff("editor", active=False)
    inactive = _login(client, staff.email, staff.password)
    wrong = _login(client, "nobody@test.musterstadt.example", staff.password)
    assert _without_request_id(assert_problem(inactive, 401)) == _without_request_id(
        assert_problem(wrong, 401)
    )


def test_account_is_locked_after_repeated_failures_whatever_the_ip(app, client, make_staff):
    staff = make_staff("editor")
    threshold = app.config["CITYAPP_LOGIN_FAILURES_BEFORE_LOCK"]
    for i in range(threshold):
        assert _login(client, staff.email, "wrong", ip=f"10.0.0.{i + 1}").status_code == 401
    # The right password from a fresh address is refused too: the lock is on the account.
    response = _login(app.test_client(), staff.email, staff.password, ip="192.0.2.77")
    body = assert_problem(response, 429)
    assert body["type"].endswith("/too-many-requests")
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= app.config["CITYAPP_LOGIN_LOCK_BASE_S"] + 1
    assert "Set-Cookie" not in response.headers
    assert len(_audit(app, "auth.login_throttled")) == 1


def test_unknown_account_names_are_locked_alike(app, client):
    threshold = app.config["CITYAPP_LOGIN_FAILURES_BEFORE_LOCK"]
    for i in range(threshold):
        _login(client, "ghost@test.musterstadt.example", "wrong", ip=f"10.0.1.{i + 1}")
    response = _login(client, "ghost@test.musterstadt.example", "wrong", ip="10.0.1.99")
    assert_problem(response, 429)


def test_login_is_rate_limited_per_ip(app, client):
    limit = int(app.config["CITYAPP_LOGIN_RATE_LIMIT"].split()[0])
    for i in range(limit):  # different names: the per-account lock must not kick in first
        assert (
            _login(client, f"user{i}@test.example", "wrong", ip="198.51.100.1").status_code == 401
        )
    response = _login(client, "one-more@test.example", "wrong", ip="198.51.100.1")
    body = assert_problem(response, 429)
    assert "Rate limit exceeded" in body["detail"]
    assert int(response.headers["Retry-After"]) > 0
    # Another client address has its own budget.
    assert _login(client, "other@test.example", "wrong", ip="198.51.100.2").status_code == 401


def test_login_rate_limit_comes_from_config(database_url, make_staff):
    staff = make_staff("editor")
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "CITYAPP_LOGIN_RATE_LIMIT": "3 per minute",
        }
    )
    limiter.reset()
    client = app.test_client()
    for _ in range(3):
        assert _login(client, "ghost@test.example", "wrong").status_code == 401
    # Even the right password waits: the limit is on the address, not the outcome.
    assert_problem(_login(client, staff.email, staff.password), 429)


def test_rate_limits_are_kept_in_redis_when_configured(app, database_url):
    redis_url = app.config["REDIS_URL"]
    create_app(
        {"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url, "REDIS_URL": redis_url}
    )
    expected = "RedisStorage" if redis_url else "MemoryStorage"
    assert type(limiter.storage).__name__ == expected


def test_login_stores_argon2id_and_rehashes_old_parameters(app, client, make_staff):
    staff = make_staff("editor")
    old_hash = PasswordHasher(time_cost=4, memory_cost=32 * 1024).hash(staff.password)
    with app.app_context():
        user = db.session.get(StaffUser, staff.id)
        assert user.password_hash.startswith("$argon2id$")
        user.password_hash = old_hash
        db.session.commit()
    assert _login(client, staff.email, staff.password).status_code == 200
    with app.app_context():
        new_hash = db.session.get(StaffUser, staff.id).password_hash
    assert new_hash != old_hash and new_hash.startswith("$argon2id$")
    assert ",t=4," not in new_hash
    assert PasswordHasher().verify(new_hash, staff.password)
    assert _login(app.test_client(), staff.email, staff.password).status_code == 200


# --- sessions and CSRF ---------------------------------------------------------------------


def test_session_write_without_csrf_token_is_403(login_client, make_staff):
    session = login_client(make_staff("editor"))
    response = session.post(TOKENS, json={"name": "x"}, headers={"X-CSRF-Token": ""})
    body = assert_problem(response, 403)
    assert body["type"].endswith("/csrf")
    assert "X-CSRF-Token" in body["detail"]
    bare = session.client.post(TOKENS, json={"name": "x"})  # no header at all
    assert assert_problem(bare, 403)["type"].endswith("/csrf")
    wrong = session.post(TOKENS, json={"name": "x"}, headers={"X-CSRF-Token": "forged"})
    assert assert_problem(wrong, 403)["type"].endswith("/csrf")


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_every_unsafe_method_needs_csrf(admin_client, admin, method):
    response = admin_client.client.open(f"{USERS}/{admin.id}", method=method, json={})
    assert assert_problem(response, 403)["type"].endswith("/csrf")


def test_session_write_with_csrf_token_succeeds(app, login_client, make_staff):
    session = login_client(make_staff("editor"))
    response = session.post(TOKENS, json={"name": "laptop"})
    assert response.status_code == 201
    assert _count(app, ApiToken) == 1
    fresh = session.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    again = session.client.post(TOKENS, json={"name": "x"}, headers={"X-CSRF-Token": fresh})
    assert again.status_code == 201


def test_csrf_failure_changes_nothing(app, login_client, make_staff):
    session = login_client(make_staff("editor"))
    before = (_count(app, ApiToken), _count(app, AuditEntry))
    session.client.post(TOKENS, json={"name": "x"})
    assert (_count(app, ApiToken), _count(app, AuditEntry)) == before


def test_logout_ends_the_session_even_for_a_copied_cookie(app, login_client, make_staff):
    staff = make_staff("editor")
    session = login_client(staff)
    stolen = session.client.get_cookie("cityapp_session").value
    response = session.post(LOGOUT)
    assert response.status_code == 204 and response.get_data() == b""
    assert_problem(session.get(ME), 401)
    replay = app.test_client()
    replay.set_cookie("cityapp_session", stolen)
    assert_problem(replay.get(ME), 401)
    (entry,) = _audit(app, "auth.logout")
    assert entry["actor_id"] == staff.id
    assert entry["request_id"] == response.headers["X-Request-ID"]


def test_logout_needs_csrf(login_client, make_staff):
    session = login_client(make_staff("editor"))
    assert_problem(session.client.post(LOGOUT), 403)
    assert session.get(ME).status_code == 200


def test_logout_without_a_session_is_harmless(client):
    assert client.post(LOGOUT).status_code == 204


def test_deactivating_a_user_ends_their_session(admin_client, login_client, make_staff):
    staff = make_staff("editor")
    session = login_client(staff)
    assert session.get(ME).status_code == 200
    response = admin_client.patch(f"{USERS}/{staff.id}", json={"is_active": False})
    assert response.status_code == 200 and response.get_json()["is_active"] is False
    body = assert_problem(session.get(ME), 401)
    assert body["type"].endswith("/unauthorized")
    assert_problem(session.post(TOKENS, json={"name": "x"}), 401)


def test_password_change_ends_existing_sessions(admin_client, login_client, make_staff):
    staff = make_staff("editor")
    session = login_client(staff)
    response = admin_client.patch(f"{USERS}/{staff.id}", json={"password": "ganz-neues-passwort"})
    assert response.status_code == 200
    assert "password" not in response.get_json()
    assert_problem(session.get(ME), 401)


def test_missing_credentials_are_401_with_www_authenticate(client):
    response = client.get(ME)
    body = assert_problem(response, 401)
    assert body["type"].endswith("/unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


# --- staff API tokens ----------------------------------------------------------------------


def test_token_secret_is_shown_once_and_stored_as_sha256(app, editor_client):
    response = editor_client.post(TOKENS, json={"name": "Open311 bridge", "scopes": ["read"]})
    assert response.status_code == 201
    created = response.get_json()
    assert set(created) == TOKEN_KEYS | {"token"}
    secret = created["token"]
    assert secret.startswith("cat_") and len(secret) == 4 + 43
    assert created["prefix"] == secret[:10]
    assert created["scopes"] == ["read"] and created["revoked_at"] is None
    assert response.headers["Location"].endswith(f"{TOKENS}/{created['id']}")

    digest = hashlib.sha256(secret.encode()).hexdigest()
    with app.app_context():
        row = db.session.get(ApiToken, created["id"])
        assert row.token_hash == digest
        assert secret not in repr([getattr(row, c.key) for c in ApiToken.__table__.columns])

    for url in (response.headers["Location"], TOKENS):
        shown = editor_client.get(url)
        assert shown.status_code == 200
        text = shown.get_data(as_text=True)
        assert secret not in text and digest not in text and secret[10:] not in text
    one = editor_client.get(response.headers["Location"]).get_json()
    assert set(one) == TOKEN_KEYS
    listed = editor_client.get(TOKENS).get_json()
    assert [set(item) for item in listed["items"]] == [TOKEN_KEYS]


def test_token_authenticates_and_needs_no_csrf(app, editor_client):
    secret = editor_client.post(
        TOKENS, json={"name": "ci", "scopes": ["read", "write"]}
    ).get_json()["token"]
    other = editor_client.post(TOKENS, json={"name": "other"})
    bearer = _bearer(app, secret)
    assert bearer.get(ME).status_code == 200
    # A state change with the token alone (no cookie, no CSRF header) goes through.
    response = bearer.delete(other.headers["Location"])
    assert response.status_code == 204


def test_a_token_cannot_mint_more_tokens(app, editor_client):
    secret = editor_client.post(
        TOKENS, json={"name": "ci", "scopes": ["read", "write"]}
    ).get_json()["token"]
    response = _bearer(app, secret).post(TOKENS, json={"name": "made by a token"})
    body = assert_problem(response, 403)
    assert "session" in body["detail"]
    listed = editor_client.get(TOKENS).get_json()["items"]
    assert [item["name"] for item in listed] == ["ci"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", ME, {}, 200),
        ("GET", TOKENS, {}, 200),
        ("GET", "/api/v1/auth/csrf", {}, 200),
        ("POST", TOKENS, {"json": {"name": "x"}}, 403),
        ("POST", LOGOUT, {}, 204),
        ("GET", USERS, {}, 403),
        ("GET", "/staff/", {}, 200),
        ("GET", "/api/v1/nope", {}, 404),
    ],
)
def test_token_requests_never_set_a_cookie(token_client, method, path, kwargs, status):
    bearer = token_client("editor")
    response = bearer.open(method, path, **kwargs)
    assert response.status_code == status
    assert "Set-Cookie" not in response.headers
    assert bearer.client.get_cookie("cityapp_session") is None


def test_token_with_lowercase_scheme_works(app, token_client):
    bearer = token_client("editor")
    client = ApiClient(app.test_client(), {"Authorization": f"bearer {bearer.token}"})
    assert client.get(ME).status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Basic abc",
        "Bearer",
        "Bearer ",
        "Bearer cat_garbage",
        "Bearer cai_garbage",
        "Bearer xyz_unknown_prefix",
        "Token cat_abc",
        "Bearer cat_" + "A" * 500,
    ],
)
def test_malformed_authorization_is_401(app, header):
    client = ApiClient(app.test_client(), {"Authorization": header})
    for method, path in (("GET", ME), ("POST", TOKENS), ("GET", TOKENS)):
        response = client.open(method, path, json={"name": "x"} if method == "POST" else None)
        body = assert_problem(response, 401)
        assert body["type"].endswith("/unauthorized")
        assert response.headers["WWW-Authenticate"].startswith('Bearer realm="cityapp"')
        assert "Set-Cookie" not in response.headers
    assert _count(app, ApiToken) == 0
    # Public endpoints keep working for a client holding a dead token (e.g. an app whose
    # installation was forgotten can still read and register again), and set no cookie.
    for path in ("/healthz", "/api/openapi.json", "/api/v1/auth/csrf"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Set-Cookie" not in response.headers


def test_revoked_token_is_401_invalid_token(app, editor_client):
    created = editor_client.post(TOKENS, json={"name": "old"}).get_json()
    bearer = _bearer(app, created["token"])
    assert bearer.get(ME).status_code == 200
    response = editor_client.delete(f"{TOKENS}/{created['id']}")
    assert response.status_code == 204
    refused = bearer.get(ME)
    assert_problem(refused, 401)
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    listed = editor_client.get(f"{TOKENS}/{created['id']}").get_json()
    assert listed["revoked_at"] is not None
    assert editor_client.delete(f"{TOKENS}/{created['id']}").status_code == 204  # idempotent


def test_expired_token_is_401(app, token_client):
    bearer = token_client("editor")
    assert bearer.get(ME).status_code == 200
    _set_token(app, bearer.token, expires_at=utcnow() - timedelta(seconds=1))
    response = bearer.get(ME)
    assert_problem(response, 401)
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_token_of_a_deactivated_owner_is_401(app, admin_client, token_client):
    bearer = token_client("editor")
    admin_client.patch(f"{USERS}/{bearer.staff.id}", json={"is_active": False})
    assert_problem(bearer.get(ME), 401)


def test_read_only_token_can_read_but_not_write(app, token_client):
    bearer = token_client("admin", scopes=("read",))
    assert bearer.get(ME).status_code == 200
    assert bearer.get(USERS).status_code == 200
    before = _count(app, ApiToken)
    body = assert_problem(bearer.post(TOKENS, json={"name": "x"}), 403)
    assert "write" in body["detail"]
    assert_problem(bearer.patch(f"{USERS}/{bearer.staff.id}", json={"display_name": "X"}), 403)
    assert _count(app, ApiToken) == before


def test_write_only_token_cannot_read(token_client):
    bearer = token_client("editor", scopes=("write",))
    assert_problem(bearer.get(ME), 403)


@pytest.mark.parametrize("via", ["session", "token"])
def test_moderator_cannot_list_staff(moderator_client, token_client, via):
    api = moderator_client if via == "session" else token_client("moderator")
    body = assert_problem(api.get(USERS), 403)
    assert body["type"].endswith("/forbidden")
    assert_problem(api.get(AUDIT), 403)


def test_non_admins_see_only_their_own_tokens_admins_see_all(
    app, login_client, make_staff, make_token, admin_client
):
    alice, bob = make_staff("editor"), make_staff("moderator")
    make_token(alice), make_token(alice), make_token(bob)
    alice_client = login_client(alice)
    alice_items = alice_client.get(TOKENS).get_json()["items"]
    assert len(alice_items) == 2 and {t["owner_id"] for t in alice_items} == {alice.id}
    all_items = admin_client.get(TOKENS).get_json()["items"]
    assert {t["owner_id"] for t in all_items} == {alice.id, bob.id} and len(all_items) == 3

    bobs = next(t for t in all_items if t["owner_id"] == bob.id)
    assert_problem(alice_client.get(f"{TOKENS}/{bobs['id']}"), 403)
    assert_problem(alice_client.delete(f"{TOKENS}/{bobs['id']}"), 403)
    assert admin_client.get(f"{TOKENS}/{bobs['id']}").status_code == 200
    assert admin_client.delete(f"{TOKENS}/{bobs['id']}").status_code == 204
    (entry,) = _audit(app, "token.revoke")
    assert (entry["object_type"], entry["object_id"]) == ("api_token", str(bobs["id"]))
    assert_problem(alice_client.get(f"{TOKENS}/987654"), 404)


def test_last_used_at_is_recorded_and_not_rewritten_within_the_interval(app, token_client):
    bearer = token_client("editor")
    assert _token_row(app, bearer.token).last_used_at is None
    assert bearer.get(ME).status_code == 200  # a GET: the view itself never commits
    first = _token_row(app, bearer.token).last_used_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    assert bearer.get(TOKENS).status_code == 200
    assert _token_row(app, bearer.token).last_used_at == first
    listed = bearer.get(TOKENS).get_json()["items"][0]
    assert listed["last_used_at"] is not None

    interval = app.config["CITYAPP_TOKEN_TOUCH_INTERVAL_S"]
    stale = utcnow() - timedelta(seconds=interval + 5)
    _set_token(app, bearer.token, last_used_at=stale)
    assert bearer.get(ME).status_code == 200
    assert _token_row(app, bearer.token).last_used_at > stale + timedelta(seconds=interval)


def test_a_failed_write_still_records_last_use_and_nothing_else(app, token_client):
    """The credential's use is persisted at the end of the request, apart from the view's
    (rolled back) work: a 422 leaves last_used_at written and creates nothing."""
    bearer = token_client("editor")
    before = (_count(app, ApiToken), _count(app, AuditEntry))
    assert_problem(bearer.post(TOKENS, json={"name": "x", "scopes": []}), 422, field="scopes")
    assert _token_row(app, bearer.token).last_used_at is not None
    assert (_count(app, ApiToken), _count(app, AuditEntry)) == before


def test_bearer_resolvers_are_registered_per_app_by_create_app(app):
    from cityapp import create_app
    from cityapp.auth.permissions import register_bearer

    other = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    register_bearer(other, "zzz_", lambda plaintext: False)
    assert set(app.extensions["cityapp.bearer_resolvers"]) == {"cat_", "cai_", "cad_"}
    assert set(other.extensions["cityapp.bearer_resolvers"]) == {"cat_", "cai_", "cad_", "zzz_"}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "scopes": ["admin"]}, "scopes"),
        ({"name": "x", "scopes": []}, "scopes"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "expires_at": "2999-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),  # naive
        ({"name": ""}, "name"),
        ({"name": "x" * 121}, "name"),
        ({"name": "x", "owner_id": 1}, "owner_id"),
    ],
)
def test_bad_token_requests_are_422_and_create_nothing(app, editor_client, payload, field):
    before = (_count(app, ApiToken), _count(app, AuditEntry))
    assert_problem(editor_client.post(TOKENS, json=payload), 422, field=field)
    assert (_count(app, ApiToken), _count(app, AuditEntry)) == before


def test_rate_limits_are_keyed_per_token(database_url, make_staff, make_token):
    app = create_app({"ENV_NAME": "testing", "SQLALCHEMY_DATABASE_URI": database_url})

    @app.get("/api/v1/_limited")
    @limiter.limit("2 per minute")
    def limited():
        return {"ok": True}

    limiter.reset()
    first, second = make_token(make_staff("editor")), make_token(make_staff("editor"))
    one, two = _bearer(app, first), _bearer(app, second)
    anonymous = app.test_client()
    for _ in range(2):
        assert one.get("/api/v1/_limited").status_code == 200
    assert_problem(one.get("/api/v1/_limited"), 429)
    # Same address, other credential (or none): separate budgets.
    assert two.get("/api/v1/_limited").status_code == 200
    assert anonymous.get("/api/v1/_limited").status_code == 200


# --- installations -------------------------------------------------------------------------


def test_create_installation_returns_a_token_and_nothing_personal(app, client):
    response = client.post(INSTALLATIONS)
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"token", "created_at"}
    assert body["token"].startswith("cai_") and len(body["token"]) == 4 + 43
    assert "Set-Cookie" not in response.headers
    with app.app_context():
        row = db.session.scalar(select(Installation))
        assert row.token_hash == hashlib.sha256(body["token"].encode()).hexdigest()
        columns = {c.key for c in Installation.__table__.columns}
        assert columns == {"id", "token_hash", "created_at", "last_used_at"}


def test_create_installation_refuses_a_body_it_does_not_take(client):
    assert_problem(client.post(INSTALLATIONS, data="hello", content_type="text/plain"), 415)


def test_delete_installation_forgets_it(app, installation_client):
    response = installation_client.delete(f"{INSTALLATIONS}/me")
    assert response.status_code == 204 and response.get_data() == b""
    assert _count(app, Installation) == 0
    again = installation_client.delete(f"{INSTALLATIONS}/me")
    assert_problem(again, 401)
    assert 'error="invalid_token"' in again.headers["WWW-Authenticate"]


def test_delete_installation_without_a_token_is_401(client):
    response = client.delete(f"{INSTALLATIONS}/me")
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_installation_token_is_forbidden_on_staff_endpoints(installation_client):
    # A valid credential without the right: 403, not 401 (re-authenticating will not help).
    for path in (ME, TOKENS, USERS, AUDIT):
        body = assert_problem(installation_client.get(path), 403)
        assert "Installation tokens" in body["detail"]
    assert_problem(installation_client.post(TOKENS, json={"name": "x"}), 403)


def test_staff_cannot_delete_an_installation(token_client, admin_client):
    assert_problem(token_client("admin").delete(f"{INSTALLATIONS}/me"), 403)
    assert_problem(admin_client.delete(f"{INSTALLATIONS}/me"), 403)


def test_installation_last_used_at_is_recorded(app, installation_client):
    installation_client.delete(f"{INSTALLATIONS}/nothing-here")  # any authenticated request
    with app.app_context():
        assert db.session.scalar(select(Installation)).last_used_at is not None


def test_installation_creation_is_rate_limited(app, client):
    limit = int(app.config["CITYAPP_INSTALLATION_RATE_LIMIT"].split()[0])
    for _ in range(limit):
        assert client.post(INSTALLATIONS).status_code == 201
    response = client.post(INSTALLATIONS)
    assert_problem(response, 429)
    assert int(response.headers["Retry-After"]) > 0
    assert _count(app, Installation) == limit
    other = client.post(INSTALLATIONS, environ_base={"REMOTE_ADDR": "203.0.113.5"})
    assert other.status_code == 201


# --- staff accounts (admin) ------------------------------------------------------------------


def test_create_staff_account(app, admin_client, admin):
    response = admin_client.post(
        USERS,
        json={
            "email": "Neu@Test.Musterstadt.Example",
            "display_name": "Nina Neu",
            "role": "editor",
            "password": "ein-langes-passwort",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == STAFF_KEYS
    assert body["email"] == "neu@test.musterstadt.example" and body["is_active"] is True
    assert response.headers["Location"].endswith(f"{USERS}/{body['id']}")
    assert response.headers["ETag"].startswith('"')
    fetched = admin_client.get(response.headers["Location"])
    assert fetched.get_json() == body
    assert fetched.headers["ETag"] == response.headers["ETag"]
    assert "ein-langes-passwort" not in response.get_data(as_text=True)
    (entry,) = [e for e in _audit(app, "staff.create") if e["object_id"] == str(body["id"])]
    assert entry["actor_id"] == admin.id and entry["actor_label"] == f"staff:{admin.id}"
    assert entry["object_type"] == "staff_user"
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert "ein-langes-passwort" not in repr(entry)
    login = _login(app.test_client(), "neu@test.musterstadt.example", "ein-langes-passwort")
    assert login.status_code == 200


def test_duplicate_email_is_409(app, admin_client, make_staff):
    staff = make_staff("editor")
    before = _count(app, StaffUser)
    response = admin_client.post(
        USERS, json={"email": staff.email.upper(), "display_name": "Zwilling", "role": "editor"}
    )
    body = assert_problem(response, 409, field="email")
    assert body["type"].endswith("/conflict")
    assert _count(app, StaffUser) == before


def test_list_staff_filters_by_role_and_active_flag(admin_client, admin, make_staff):
    editor = make_staff("editor")
    moderator = make_staff("moderator")
    gone = make_staff("moderator", active=False)
    by_role = admin_client.get(f"{USERS}?role=moderator").get_json()["items"]
    assert {u["id"] for u in by_role} == {moderator.id, gone.id}
    active = admin_client.get(f"{USERS}?is_active=true").get_json()["items"]
    assert {u["id"] for u in active} == {admin.id, editor.id, moderator.id}
    both = admin_client.get(f"{USERS}?role=moderator&is_active=false").get_json()["items"]
    assert [u["id"] for u in both] == [gone.id]
    assert_problem(admin_client.get(f"{USERS}?role=emperor"), 422, field="role")


def test_update_staff_with_if_match(app, admin_client, make_staff):
    staff = make_staff("editor")
    etag = admin_client.get(f"{USERS}/{staff.id}").headers["ETag"]
    response = admin_client.patch(
        f"{USERS}/{staff.id}", json={"role": "moderator"}, headers={"If-Match": etag}
    )
    assert response.status_code == 200
    assert response.get_json()["role"] == "moderator"
    (entry,) = _audit(app, "staff.update")
    assert entry["changes"] == {"role": "moderator"}
    assert entry["request_id"] == response.headers["X-Request-ID"]
    stale = admin_client.patch(
        f"{USERS}/{staff.id}", json={"role": "admin"}, headers={"If-Match": etag}
    )
    assert_problem(stale, 412)
    with app.app_context():
        assert db.session.get(StaffUser, staff.id).role == "moderator"


def test_unknown_staff_account_is_404(admin_client):
    assert_problem(admin_client.get(f"{USERS}/987654"), 404)
    assert_problem(admin_client.patch(f"{USERS}/987654", json={"display_name": "X"}), 404)


@pytest.mark.parametrize("change", [{"role": "editor"}, {"is_active": False}])
def test_last_active_admin_cannot_be_demoted_or_deactivated(app, admin_client, admin, change):
    response = admin_client.patch(f"{USERS}/{admin.id}", json=change)
    body = assert_problem(response, 409)
    assert "last active admin" in body["detail"]
    with app.app_context():
        user = db.session.get(StaffUser, admin.id)
        assert (user.role, user.is_active) == ("admin", True)
    assert admin_client.get(ME).status_code == 200


def test_an_admin_can_step_down_when_another_is_active(admin_client, admin, make_staff):
    make_staff("admin")
    response = admin_client.patch(f"{USERS}/{admin.id}", json={"role": "editor"})
    assert response.status_code == 200 and response.get_json()["role"] == "editor"
    assert_problem(admin_client.get(USERS), 403)


def test_editor_cannot_manage_staff(editor_client, admin):
    assert_problem(editor_client.get(USERS), 403)
    assert_problem(editor_client.get(f"{USERS}/{admin.id}"), 403)
    assert_problem(
        editor_client.post(
            USERS, json={"email": "a@b.example", "display_name": "A", "role": "admin"}
        ),
        403,
    )
    assert_problem(editor_client.patch(f"{USERS}/{admin.id}", json={"is_active": False}), 403)


# --- audit log ---------------------------------------------------------------------------


def test_security_events_are_audited_with_the_request_id(app, client, make_staff):
    staff = make_staff("editor")
    failed = _login(client, staff.email, "wrong-secret-123")
    ok = _login(client, staff.email, staff.password)
    csrf = {"X-CSRF-Token": ok.get_json()["csrf_token"]}
    created = client.post(TOKENS, json={"name": "audit me"}, headers=csrf)
    token_id = created.get_json()["id"]
    revoked = client.delete(f"{TOKENS}/{token_id}", headers=csrf)
    logout = client.post(LOGOUT, headers=csrf)
    expected = [
        ("auth.login_failed", failed, "anonymous", "staff_user", staff.id),
        ("auth.login", ok, f"staff:{staff.id}", "staff_user", staff.id),
        ("token.create", created, f"staff:{staff.id}", "api_token", token_id),
        ("token.revoke", revoked, f"staff:{staff.id}", "api_token", token_id),
        ("auth.logout", logout, f"staff:{staff.id}", "staff_user", staff.id),
    ]
    for action, response, actor_label, object_type, object_id in expected:
        (entry,) = _audit(app, action)
        assert entry["actor_label"] == actor_label, action
        assert (entry["object_type"], entry["object_id"]) == (object_type, str(object_id)), action
        assert entry["request_id"] == response.headers["X-Request-ID"], action
    failed_entry = _audit(app, "auth.login_failed")[0]
    assert "wrong-secret-123" not in repr(failed_entry)
    assert staff.email not in repr(failed_entry)


def test_audit_list_shape_and_filters(app, admin_client, admin, make_staff):
    editor = make_staff("editor")
    admin_client.patch(f"{USERS}/{editor.id}", json={"display_name": "Umbenannt"})
    response = admin_client.get(f"{AUDIT}?action=staff.update")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "next_cursor"}
    (item,) = body["items"]
    assert set(item) == {
        "id",
        "created_at",
        "actor_id",
        "actor_label",
        "action",
        "object_type",
        "object_id",
        "summary",
        "changes",
        "request_id",
    }
    assert item["created_at"].endswith("Z")
    assert (item["actor_id"], item["object_id"]) == (admin.id, str(editor.id))
    assert item["changes"] == {"display_name": "Umbenannt"}

    def ids(query: str) -> set[int]:
        response = admin_client.get(f"{AUDIT}?limit=100&{query}")
        assert response.status_code == 200, response.get_json()
        return {entry["id"] for entry in response.get_json()["items"]}

    assert ids("action=staff.update") == {item["id"]}
    assert ids("action=token.revoke") == set()
    assert item["id"] in ids(f"actor_id={admin.id}")
    assert ids(f"actor_id={editor.id}") == set()
    editor_entries = ids(f"object_type=staff_user&object_id={editor.id}")
    assert item["id"] in editor_entries and len(editor_entries) == 2  # create + update
    assert ids(f"object_type=api_token&object_id={editor.id}") == set()
    stamp = item["created_at"]
    assert item["id"] in ids(f"since={stamp}")
    assert item["id"] not in ids(f"until={stamp}")
    assert item["id"] in ids("since=2000-01-01T00:00:00%2B02:00")
    assert ids("since=2999-01-01T00:00:00Z") == set()
    assert ids("until=2000-01-01T00:00:00Z") == set()


@pytest.mark.parametrize("role", ["editor", "moderator"])
def test_audit_is_admin_only(login_client, make_staff, role):
    assert_problem(login_client(make_staff(role)).get(AUDIT), 403)


def test_audit_needs_authentication(client):
    assert_problem(client.get(AUDIT), 401)


def test_login_and_me_with_default_password_fixture(client, make_staff):
    # Guard for the fixtures the other tests rely on.
    staff = make_staff("moderator")
    assert staff.password == DEFAULT_PASSWORD
    assert _login(client, staff.email, DEFAULT_PASSWORD).status_code == 200
    assert client.get(ME).get_json()["role"] == "moderator"


# --- sessions: CSRF rotation at login, logout of one session or of all -------------------


def test_the_csrf_token_from_before_login_is_refused_after_login(client, make_staff):
    staff = make_staff("editor")
    before = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post(LOGIN, json={"email": staff.email, "password": staff.password})
    assert response.status_code == 200
    after = response.get_json()["csrf_token"]
    assert_problem(client.post(TOKENS, json={"name": "x"}, headers={"X-CSRF-Token": before}), 403)
    assert_problem(client.post(LOGOUT, headers={"X-CSRF-Token": before}), 403)
    assert client.get(ME).status_code == 200
    assert client.post(LOGOUT, headers={"X-CSRF-Token": after}).status_code == 204


def test_logout_ends_this_session_only(app, login_client, make_staff):
    staff = make_staff("editor")
    laptop, phone = login_client(staff), login_client(staff)
    copy = app.test_client()
    copy.set_cookie("cityapp_session", laptop.client.get_cookie("cityapp_session").value)
    assert laptop.post(LOGOUT).status_code == 204
    assert_problem(laptop.get(ME), 401)
    assert_problem(copy.get(ME), 401)
    assert phone.get(ME).status_code == 200


def test_logout_everywhere_ends_every_session_of_the_account(app, login_client, make_staff):
    staff, other = make_staff("editor"), make_staff("editor")
    laptop, phone, colleague = login_client(staff), login_client(staff), login_client(other)
    assert_problem(laptop.client.post("/api/v1/auth/logout-everywhere"), 403)  # CSRF
    response = laptop.post("/api/v1/auth/logout-everywhere")
    assert response.status_code == 204 and response.get_data() == b""
    assert_problem(laptop.get(ME), 401)
    assert_problem(phone.get(ME), 401)
    assert colleague.get(ME).status_code == 200
    (entry,) = _audit(app, "auth.logout_everywhere")
    assert entry["actor_id"] == staff.id
    fresh = login_client(staff)
    assert fresh.get(ME).status_code == 200


def test_logout_everywhere_needs_a_staff_login(client):
    assert_problem(client.post("/api/v1/auth/logout-everywhere"), 401)
