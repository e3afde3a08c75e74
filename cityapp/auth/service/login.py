"""Password login with a per-account slow-down; logout of one session (every copy of its
cookie) or of every session of the account."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app
from sqlalchemy import select

from cityapp.auth.models import LoginThrottle, RevokedSession, StaffUser
from cityapp.auth.service.actors import ANONYMOUS
from cityapp.auth.service.audit import record_audit
from cityapp.auth.service.credentials import dummy_hash, hash_secret, password_hasher
from cityapp.auth.service.staff import find_staff_by_email, normalise_email
from cityapp.db import db, utcnow


@dataclass
class LoginResult:
    user: StaffUser | None
    retry_after_s: int = 0

    @property
    def locked(self) -> bool:
        return self.retry_after_s > 0


def _throttle_key(email: str) -> str:
    return hash_secret("login:" + normalise_email(email))


def attempt_login(email: str, password: str, now: datetime | None = None) -> LoginResult:
    """Check a password, with a per-account slow-down that does not reveal whether the
    account exists: unknown emails verify against a dummy hash and are throttled alike.

    Records the outcome (audit + throttle) in the session; the caller commits even on failure.
    """
    now = now or utcnow()
    config = current_app.config
    throttle = db.session.scalar(
        select(LoginThrottle).where(LoginThrottle.key_hash == _throttle_key(email))
    )
    if throttle and throttle.locked_until and throttle.locked_until > now:
        wait = int((throttle.locked_until - now).total_seconds()) + 1
        record_audit(ANONYMOUS, "auth.login_throttled", summary="login refused while locked")
        return LoginResult(None, retry_after_s=wait)

    user = find_staff_by_email(email)
    hasher = password_hasher()
    ok = False
    try:
        ok = hasher.verify(
            user.password_hash if user and user.password_hash else dummy_hash(), password
        )
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    ok = ok and user is not None and user.password_hash is not None and user.is_active

    if ok:
        assert user is not None
        if hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hasher.hash(password)
        user.last_login_at = now
        if throttle is not None:
            db.session.delete(throttle)
        record_audit(user, "auth.login", object_type="staff_user", object_id=user.id)
        return LoginResult(user)

    window = timedelta(seconds=config["CITYAPP_LOGIN_LOCK_MAX_S"])
    if throttle is None or throttle.first_failure_at + window < now:
        if throttle is not None:
            db.session.delete(throttle)
            db.session.flush()
        throttle = LoginThrottle(key_hash=_throttle_key(email), failures=0, first_failure_at=now)
        db.session.add(throttle)
    throttle.failures += 1
    threshold = config["CITYAPP_LOGIN_FAILURES_BEFORE_LOCK"]
    if throttle.failures >= threshold:
        lock = min(
            config["CITYAPP_LOGIN_LOCK_BASE_S"] * 2 ** (throttle.failures - threshold),
            config["CITYAPP_LOGIN_LOCK_MAX_S"],
        )
        throttle.locked_until = now + timedelta(seconds=lock)
    throttle.expires_at = now + window * 2
    record_audit(
        ANONYMOUS,
        "auth.login_failed",
        object_type="staff_user" if user else None,
        object_id=user.id if user else None,
        summary="failed login" + ("" if user else " for an unknown account"),
    )
    return LoginResult(None)


def new_session_id() -> str:
    """A random id for one browser session, so that session alone can be ended."""
    return secrets.token_urlsafe(32)


def session_revoked(session_id: str) -> bool:
    return db.session.get(RevokedSession, hash_secret("session:" + session_id)) is not None


def record_logout(user: StaffUser, session_id: str | None, now: datetime | None = None) -> None:
    """End this one session for good: session cookies are signed, not stored, so a copy of the
    cookie would otherwise stay valid after logout. Its id is listed as revoked for as long as
    any copy could still be valid (the session lifetime); other sessions of the user go on."""
    now = now or utcnow()
    if session_id:
        sid_hash = hash_secret("session:" + session_id)
        if db.session.get(RevokedSession, sid_hash) is None:
            lifetime = current_app.permanent_session_lifetime
            db.session.add(RevokedSession(sid_hash=sid_hash, expires_at=now + lifetime))
    record_audit(user, "auth.logout", object_type="staff_user", object_id=user.id)


def record_logout_everywhere(user: StaffUser) -> None:
    """End every session of the account, in every browser: bumping the version voids every
    session cookie issued before. API tokens are not touched (they are revoked one by one)."""
    user.session_version += 1
    record_audit(user, "auth.logout_everywhere", object_type="staff_user", object_id=user.id)
