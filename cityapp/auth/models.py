"""Staff accounts, API tokens, app installations, login throttles and the audit log."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from cityapp.db import TimestampMixin, db, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    MODERATOR = "moderator"


class TokenScope(enum.StrEnum):
    READ = "read"
    WRITE = "write"


class StaffUser(TimestampMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None]
    # Bumped on password change / deactivation so existing sessions die with it.
    session_version: Mapped[int] = mapped_column(default=1)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="owner")

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def has_role(self, *roles: str) -> bool:
        return self.role in roles

    def __repr__(self) -> str:
        return f"<StaffUser {self.id} {self.role}>"


class ApiToken(TimestampMixin, db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # First characters of the token, so people can tell their tokens apart in lists.
    prefix: Mapped[str] = mapped_column(String(12))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]

    owner: Mapped[StaffUser] = relationship(back_populates="tokens")

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    def __repr__(self) -> str:
        return f"<ApiToken {self.id} {self.prefix}… owner={self.owner_id}>"


class Installation(db.Model):
    """One install of the city app: a random bearer token and nothing about the person."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]

    def __repr__(self) -> str:
        return f"<Installation {self.id}>"


class LoginThrottle(db.Model):
    """Failed logins per account name (hashed), so guessing slows down whoever asks."""

    __tablename__ = "login_throttles"

    id: Mapped[int] = mapped_column(primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    failures: Mapped[int] = mapped_column(default=0)
    first_failure_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime | None]
    expires_at: Mapped[datetime] = mapped_column(index=True)

    def __repr__(self) -> str:
        return f"<LoginThrottle {self.key_hash[:8]} failures={self.failures}>"


class AuditEntry(db.Model):
    """Append-only record of staff writes and security events."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_object", "object_type", "object_id"),
        Index("ix_audit_entries_created", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), index=True
    )
    # Who acted, readable even after the account is gone: "staff:3", "system:scheduler", "cli".
    actor_label: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(64))
    object_id: Mapped[str | None] = mapped_column(String(64))
    summary: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(128))

    def __repr__(self) -> str:
        return f"<AuditEntry {self.id} {self.action} {self.object_type}:{self.object_id}>"


# --- the audit log is append-only ---------------------------------------------------------


class AuditLogIsAppendOnly(RuntimeError):
    """Raised when code tries to change or delete an audit entry (a bug, never user input)."""


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, _flush_context: Any, _instances: Any) -> None:
    for obj in session.deleted:
        if isinstance(obj, AuditEntry):
            raise AuditLogIsAppendOnly(f"{obj!r} cannot be deleted: the audit log is append-only")
    for obj in session.dirty:
        if isinstance(obj, AuditEntry) and session.is_modified(obj, include_collections=False):
            raise AuditLogIsAppendOnly(f"{obj!r} cannot be changed: the audit log is append-only")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_audit_changes(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEntry:
        raise AuditLogIsAppendOnly("bulk UPDATE/DELETE of audit entries: the log is append-only")


class RevokedSession(db.Model):
    """A logged-out browser session (SHA-256 of its random id). Session cookies are signed, not
    stored, so a copy of a logged-out cookie stays valid until it is listed here; the row is
    kept as long as such a copy could be (the session lifetime)."""

    __tablename__ = "revoked_sessions"

    sid_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
