"""Model base, naming convention, UTC timestamps and the SQLite/PostgreSQL engine tuning."""

from __future__ import annotations

import contextvars
import time
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
from sqlalchemy.types import TypeDecorator

_M = TypeVar("_M")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def get_or_404(model: type[_M], ident: int, what: str) -> _M:
    """The row of ``model`` with primary key ``ident``, or NotFound ("No <what> <ident>.").

    Every service's ``get_<thing>`` lookup goes through here, so the 404 reads the same
    everywhere."""
    from cityapp.errors import NotFound

    row = db.session.get(model, ident)
    if row is None:
        raise NotFound(f"No {what} {ident}.")
    return row


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (the only clock models should use)."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every database.

    PostgreSQL stores ``timestamptz``; SQLite has no time zones, so values are stored as naive
    UTC and made aware again when read. Naive datetimes are refused on the way in: they are
    the classic source of off-by-one-hour bugs on DST nights.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use cityapp.db.utcnow()")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


# The db object lives here rather than in extensions.py because its base class, naming
# convention and types are part of it; extensions.py re-exports nothing from here.
db = SQLAlchemy(model_class=Base)


class TimestampMixin:
    """created_at / updated_at in UTC, set by Python so every database behaves the same."""

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


# Database objects that migrations create by hand and the models do not describe (full-text
# indexes: SQLite FTS5 tables and their shadow tables, PostgreSQL expression GIN indexes).
# Autogenerate and the models-vs-migrations comparison leave them alone.
UNMODELLED_PREFIXES = ("news_items_fts", "announcements_fts", "ix_fts_")


def include_in_migrations(name: str | None, type_: str, parent_names: dict) -> bool:
    """Alembic ``include_name`` hook: skip the hand-made full-text objects."""
    return not (name and name.startswith(UNMODELLED_PREFIXES))


# --- SQLite tuning -----------------------------------------------------------------------
#
# pysqlite begins transactions lazily and DEFERRED, so two gunicorn workers that both read and
# then write deadlock into "database is locked". We take over transaction control: writes
# (unsafe HTTP methods, CLI commands, scheduler jobs) begin IMMEDIATE and queue on the busy
# timeout instead of failing; plain reads begin DEFERRED so they never wait for a writer (WAL).

_sqlite_begin_mode: contextvars.ContextVar[str] = contextvars.ContextVar(
    "sqlite_begin_mode", default="IMMEDIATE"
)


def set_sqlite_begin_mode(mode: str) -> contextvars.Token:
    """Choose how the next SQLite transactions in this context begin (IMMEDIATE or DEFERRED)."""
    if mode not in {"IMMEDIATE", "DEFERRED"}:
        raise ValueError(mode)
    return _sqlite_begin_mode.set(mode)


def reset_sqlite_begin_mode(token: contextvars.Token) -> None:
    """Restore the begin mode that was in force before ``set_sqlite_begin_mode``."""
    _sqlite_begin_mode.reset(token)


def configure_engine(engine: Engine, busy_timeout_ms: int, ping_after_idle_s: float = 0) -> None:
    """Attach per-dialect connection setup to an engine (idempotent per engine)."""
    if getattr(engine, "_cityapp_configured", False):
        return
    if engine.dialect.name == "postgresql" and ping_after_idle_s > 0:
        engine._cityapp_configured = True  # type: ignore[attr-defined]
        _ping_idle_connections(engine, ping_after_idle_s)
        return
    if engine.dialect.name != "sqlite":
        return
    engine._cityapp_configured = True  # type: ignore[attr-defined]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised on SQLite
        # Disable pysqlite's own BEGIN handling; the "begin" hook below emits ours.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        # FULL: an accepted write survives a power cut (NORMAL in WAL mode may lose the last
        # commits). The fsync per commit is affordable at a municipality's write rates.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised on SQLite
        connection.exec_driver_sql(f"BEGIN {_sqlite_begin_mode.get()}")


def _ping_idle_connections(engine: Engine, idle_s: float) -> None:
    """Pessimistic disconnect handling, but only where it can matter: a pooled connection that
    sat idle for ``idle_s`` or longer is pinged (the dialect's own ping) before use, one that
    was in use a moment ago is not. Under load every request saves the ping's round trip
    (docs/performance.md); after a database restart the idle connections are replaced before
    anyone uses them, and a disconnect on a recently used one invalidates the pool like any
    disconnect error would. ``pool_pre_ping`` is off for such engines (see create_app)."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_connection, record):
        record.info["cityapp_used_at"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        if record is not None:
            record.info["cityapp_used_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        used_at = record.info.get("cityapp_used_at")
        if used_at is not None and time.monotonic() - used_at < idle_s:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:
            raise DisconnectionError("idle connection failed its ping") from exc
        if not alive:
            raise DisconnectionError("idle connection failed its ping")
        # The pool retries the checkout with a new connection after DisconnectionError.


def read_without_transaction() -> None:
    """For requests that only read (public lists and details): on PostgreSQL run the session's
    statements in DBAPI autocommit, which saves the BEGIN and ROLLBACK round trips — half of the
    four a 304 revalidation made (docs/performance.md). PostgreSQL's default READ COMMITTED
    takes a new snapshot per statement anyway, so readers see nothing different. The pool
    restores the normal mode when the connection goes back. No effect on SQLite (reads there
    are DEFERRED and take no lock), once the session has begun, or when the session is bound
    to a connection rather than the engine (the test harness)."""
    session = db.session()
    if session.in_transaction():
        return
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
