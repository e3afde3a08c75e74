"""Test harness: one schema per session (built by the migrations), one rolled-back
transaction per test (savepoint mode, so code under test may commit), client fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSQLAlchemySession
from sqlalchemy import event, text
from sqlalchemy.engine import Engine

from cityapp import create_app
from cityapp.db import db
from cityapp.extensions import limiter

DEFAULT_PASSWORD = "correct-horse-battery"


def _test_database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        from config import _database_url

        return _database_url()
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _reset_schema() -> None:
    """Start from an empty database, whatever an earlier run left behind."""
    engine = db.engine
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    else:
        db.drop_all()
        with engine.begin() as connection:
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


# Every engine a test's app opened, kept alive until the session ends and then disposed: a
# pooled PostgreSQL connection that is only garbage-collected at exit raises psycopg's
# ResourceWarning, which `filterwarnings = error` rightly turns into a failed run.
_ENGINES: list[Engine] = []


@event.listens_for(Engine, "engine_connect")
def _remember_engine(connection) -> None:
    if connection.engine not in _ENGINES:
        _ENGINES.append(connection.engine)


@pytest.fixture(scope="session", autouse=True)
def _dispose_engines() -> Iterator[None]:
    yield
    for engine in _ENGINES:
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return _test_database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def app(database_url: str) -> Iterator[Flask]:
    app = create_app(
        {
            "ENV_NAME": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "REDIS_URL": os.environ.get("REDIS_URL") or None,
        }
    )
    from flask_migrate import upgrade

    app.test_client_class = BufferedClient
    with app.app_context():
        _reset_schema()
        upgrade()
    return app


class BufferedClient(FlaskClient):
    """A test client that reads every response to its end and closes it, as a WSGI server
    does; otherwise each streamed file (media, the player, Swagger UI) stays open until the
    garbage collector finds it, and ``filterwarnings = error`` turns that into a failure."""

    def open(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


class _ConnectionBoundSession(FlaskSQLAlchemySession):
    """Flask-SQLAlchemy's session picks the app's *engine* for every model, ignoring a
    ``bind=`` given to the session, so code under test would commit on a second connection
    (for real on PostgreSQL, "database is locked" behind the test's transaction on SQLite).
    This one always uses the test's connection."""

    def get_bind(self, mapper=None, clause=None, bind=None, **kwargs):
        return bind if bind is not None else self.bind


@pytest.fixture(autouse=True)
def _transaction(app: Flask) -> Iterator[None]:
    """Every test runs inside one outer transaction that is rolled back at its end."""
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
        original = db.session
        db.session = db._make_scoped_session(
            {
                "bind": connection,
                "join_transaction_mode": "create_savepoint",
                "class_": _ConnectionBoundSession,
            }
        )
        limiter.reset()
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
            db.session = original
            outer.rollback()
            connection.close()
        limiter.reset()


@pytest.fixture
def ctx(app: Flask) -> Iterator[Flask]:
    """An app context for tests that call services directly."""
    with app.app_context():
        yield app


# --- factories ---------------------------------------------------------------------------


@dataclass
class StaffRef:
    """A staff account created for a test (plain values: no detached ORM objects)."""

    id: int
    email: str
    role: str
    password: str = DEFAULT_PASSWORD


@pytest.fixture
def make_staff(app: Flask):
    counter = {"n": 0}

    def factory(role: str = "editor", *, email: str | None = None, active: bool = True) -> StaffRef:
        from cityapp.auth.service.actors import CLI
        from cityapp.auth.service.staff import create_staff_user, update_staff_user

        counter["n"] += 1
        email = email or f"{role}{counter['n']}@test.musterstadt.example"
        with app.app_context():
            user = create_staff_user(
                CLI, email=email, display_name=f"Test {role}", role=role, password=DEFAULT_PASSWORD
            )
            if not active:
                update_staff_user(CLI, user, is_active=False)
            db.session.commit()
            return StaffRef(id=user.id, email=user.email, role=user.role)

    return factory


@pytest.fixture
def make_token(app: Flask):
    def factory(staff: StaffRef, scopes: tuple[str, ...] = ("read", "write"), **kw: Any) -> str:
        from cityapp.auth.models import StaffUser
        from cityapp.auth.service.tokens import create_api_token

        with app.app_context():
            owner = db.session.get(StaffUser, staff.id)
            _token, plaintext = create_api_token(
                owner, owner, name="test token", scopes=list(scopes), **kw
            )
            db.session.commit()
            return plaintext

    return factory


# --- places and media --------------------------------------------------------------------


def square(lon: float, lat: float, size: float = 0.02) -> dict:
    """A GeoJSON square with its south-west corner at (lon, lat)."""
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


@pytest.fixture(autouse=True)
def media_dir(app: Flask, tmp_path) -> Iterator[Any]:
    """Every test stores media in its own directory."""
    previous = app.config["CITYAPP_MEDIA_DIR"]
    app.config["CITYAPP_MEDIA_DIR"] = str(tmp_path / "media")
    yield tmp_path / "media"
    app.config["CITYAPP_MEDIA_DIR"] = previous


@pytest.fixture
def districts(app: Flask) -> dict[str, int]:
    """Three districts by slug, in display order: altstadt (9.44-9.46 E) and oberdorf
    (9.46-9.48 E) side by side at 51.30-51.32 N, with ARS; nordviertel without a boundary."""
    from cityapp.auth.service.actors import CLI
    from cityapp.places.service import create_district

    rows = [
        ("altstadt", "Altstadt", "066330001001", square(9.44, 51.30)),
        ("oberdorf", "Oberdorf", "066330001004", square(9.46, 51.30)),
        ("nordviertel", "Nordviertel", None, None),
    ]
    with app.app_context():
        ids = {
            slug: create_district(
                CLI, slug=slug, name=name, ars=ars, polygon=polygon, position=position
            ).id
            for position, (slug, name, ars, polygon) in enumerate(rows)
        }
        db.session.commit()
    return ids


# --- clients -----------------------------------------------------------------------------


class ApiClient:
    """A test client with default headers (a bearer token or the CSRF token of a session)."""

    def __init__(self, client: FlaskClient, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = dict(headers or {})

    def open(self, method: str, path: str, **kwargs: Any):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kw: Any):
        return self.open("GET", path, **kw)

    def post(self, path: str, **kw: Any):
        return self.open("POST", path, **kw)

    def patch(self, path: str, **kw: Any):
        return self.open("PATCH", path, **kw)

    def put(self, path: str, **kw: Any):
        return self.open("PUT", path, **kw)

    def delete(self, path: str, **kw: Any):
        return self.open("DELETE", path, **kw)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def login_client(app: Flask):
    """A browser-like client logged in with a session cookie; sends the CSRF token."""

    def factory(staff: StaffRef) -> ApiClient:
        test_client = app.test_client()
        response = test_client.post(
            "/api/v1/auth/login", json={"email": staff.email, "password": staff.password}
        )
        assert response.status_code == 200, response.get_json()
        return ApiClient(test_client, {"X-CSRF-Token": response.get_json()["csrf_token"]})

    return factory


@pytest.fixture
def admin(make_staff) -> StaffRef:
    return make_staff("admin")


@pytest.fixture
def admin_client(login_client, admin) -> ApiClient:
    return login_client(admin)


@pytest.fixture
def editor_client(login_client, make_staff) -> ApiClient:
    return login_client(make_staff("editor"))


@pytest.fixture
def moderator_client(login_client, make_staff) -> ApiClient:
    return login_client(make_staff("moderator"))


@pytest.fixture
def token_client(app: Flask, make_staff, make_token):
    """A client authenticating with a staff API token (no cookies involved)."""

    def factory(role: str = "admin", scopes: tuple[str, ...] = ("read", "write")) -> ApiClient:
        staff = make_staff(role)
        token = make_token(staff, scopes)
        api_client = ApiClient(app.test_client(), {"Authorization": f"Bearer {token}"})
        api_client.staff = staff  # type: ignore[attr-defined]
        api_client.token = token  # type: ignore[attr-defined]
        return api_client

    return factory


@pytest.fixture
def installation_client(app: Flask) -> ApiClient:
    test_client = app.test_client()
    response = test_client.post("/api/v1/installations")
    assert response.status_code == 201, response.get_json()
    token = response.get_json()["token"]
    api_client = ApiClient(app.test_client(), {"Authorization": f"Bearer {token}"})
    api_client.token = token  # type: ignore[attr-defined]
    return api_client


def assert_problem(response, status: int, *, field: str | None = None) -> dict:
    """Assert an RFC 9457 problem response with the given status (and field error)."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json", response.mimetype
    body = response.get_json()
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert isinstance(body["title"], str) and body["title"]
    assert "Traceback" not in response.get_data(as_text=True)
    if field is not None:
        assert field in body.get("errors", {}), body
    return body
