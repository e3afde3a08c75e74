"""Auth business rules: staff accounts, passwords, login throttling, tokens, installations,
and the audit log. Services never commit; the caller commits once."""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, g, has_request_context
from sqlalchemy import Select, delete, func, select

from cityapp.auth.models import (
    ApiToken,
    AuditEntry,
    Installation,
    LoginThrottle,
    Role,
    StaffUser,
    TokenScope,
)
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError

log = logging.getLogger(__name__)

STAFF_TOKEN_PREFIX = "cat_"
INSTALLATION_TOKEN_PREFIX = "cai_"


# --- actors ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SystemActor:
    """Who acts when no staff member does: the scheduler, the CLI, an anonymous request."""

    label: str
    id: None = None


SCHEDULER = SystemActor("system:scheduler")
CLI = SystemActor("cli")
ANONYMOUS = SystemActor("anonymous")

Actor = StaffUser | SystemActor


def actor_label(actor: Actor) -> str:
    return f"staff:{actor.id}" if isinstance(actor, StaffUser) else actor.label


# --- secrets -----------------------------------------------------------------------------


def hash_secret(value: str) -> str:
    """SHA-256 of a high-entropy token: enough for 256-bit secrets, and fast to look up."""
    return hashlib.sha256(value.encode()).hexdigest()


def new_token(prefix: str) -> str:
    """A 256-bit random token with a type prefix (so leaked tokens are recognisable)."""
    return prefix + secrets.token_urlsafe(32)


def _password_hasher() -> PasswordHasher:
    config = current_app.config
    kwargs = {}
    if "CITYAPP_ARGON2_TIME_COST" in config:
        kwargs["time_cost"] = config["CITYAPP_ARGON2_TIME_COST"]
    if "CITYAPP_ARGON2_MEMORY_COST" in config:
        kwargs["memory_cost"] = config["CITYAPP_ARGON2_MEMORY_COST"]
    return PasswordHasher(**kwargs)  # argon2id by default


def hash_password(password: str) -> str:
    return _password_hasher().hash(password)


_DUMMY_HASHES: dict[tuple, str] = {}


def _dummy_hash() -> str:
    hasher = _password_hasher()
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def validate_password(password: str) -> None:
    if len(password) < 10:
        raise ValidationError(
            "The password is too short.", errors={"password": ["Use at least 10 characters."]}
        )
    if len(password) > 1024:
        raise ValidationError(errors={"password": ["At most 1024 characters."]})


# --- audit -------------------------------------------------------------------------------


def record_audit(
    actor: Actor,
    action: str,
    *,
    object_type: str | None = None,
    object_id: int | str | None = None,
    summary: str = "",
    changes: dict | None = None,
) -> AuditEntry:
    """Append one audit entry to the current transaction (committed with the change itself)."""
    entry = AuditEntry(
        actor_id=actor.id if isinstance(actor, StaffUser) else None,
        actor_label=actor_label(actor),
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        summary=summary[:1000],
        changes=changes,
        request_id=getattr(g, "request_id", None) if has_request_context() else None,
    )
    db.session.add(entry)
    log.info("audit %s by %s on %s:%s", action, entry.actor_label, object_type, object_id)
    return entry


def audit_query(
    *,
    actor_id: int | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Select:
    """Audit entries matching every given filter; ``since`` inclusive, ``until`` exclusive."""
    query = select(AuditEntry)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action is not None:
        query = query.where(AuditEntry.action == action)
    if object_type is not None:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == str(object_id))
    if since is not None:
        query = query.where(AuditEntry.created_at >= since)
    if until is not None:
        query = query.where(AuditEntry.created_at < until)
    return query


# --- staff accounts ----------------------------------------------------------------------


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def get_staff_user(user_id: int) -> StaffUser:
    user = db.session.get(StaffUser, user_id)
    if user is None:
        raise NotFound(f"No staff account {user_id}.")
    return user


def find_staff_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(StaffUser.email == _normalise_email(email)))


def create_staff_user(
    actor: Actor, *, email: str, display_name: str, role: str, password: str | None = None
) -> StaffUser:
    email = _normalise_email(email)
    if role not in {r.value for r in Role}:
        raise ValidationError(errors={"role": [f"Unknown role {role!r}."]})
    if find_staff_by_email(email) is not None:
        raise Conflict("A staff account with this email exists.", errors={"email": ["Taken."]})
    user = StaffUser(email=email, display_name=display_name.strip(), role=role, is_active=True)
    if password is not None:
        validate_password(password)
        user.password_hash = hash_password(password)
    db.session.add(user)
    db.session.flush()
    record_audit(
        actor,
        "staff.create",
        object_type="staff_user",
        object_id=user.id,
        summary=f"created {role} account",
        changes={"role": role, "display_name": user.display_name},
    )
    return user


def update_staff_user(actor: Actor, user: StaffUser, **changes: object) -> StaffUser:
    """Change role, display name, active flag or password; sessions die on deactivation."""
    applied: dict[str, object] = {}
    if "role" in changes and changes["role"] != user.role:
        if changes["role"] not in {r.value for r in Role}:
            raise ValidationError(errors={"role": ["Unknown role."]})
        if user.role == Role.ADMIN and _is_last_active_admin(user):
            raise Conflict("The last active admin cannot lose the admin role.")
        applied["role"] = user.role = str(changes["role"])
    if "display_name" in changes and changes["display_name"] != user.display_name:
        applied["display_name"] = user.display_name = str(changes["display_name"]).strip()
    if "is_active" in changes and changes["is_active"] != user.is_active:
        if not changes["is_active"] and user.role == Role.ADMIN and _is_last_active_admin(user):
            raise Conflict("The last active admin cannot be deactivated.")
        applied["is_active"] = user.is_active = bool(changes["is_active"])
        user.session_version += 1
    if changes.get("password"):
        validate_password(str(changes["password"]))
        user.password_hash = hash_password(str(changes["password"]))
        user.session_version += 1
        applied["password"] = "changed"
    if applied:
        record_audit(
            actor,
            "staff.update",
            object_type="staff_user",
            object_id=user.id,
            summary="changed " + ", ".join(sorted(applied)),
            changes=applied,
        )
    return user


def _is_last_active_admin(user: StaffUser) -> bool:
    others = db.session.scalar(
        select(func.count())
        .select_from(StaffUser)
        .where(StaffUser.role == Role.ADMIN, StaffUser.is_active, StaffUser.id != user.id)
    )
    return not others


def staff_query(*, role: str | None = None, is_active: bool | None = None) -> Select:
    """Staff accounts, optionally filtered by role and active flag (unordered: callers page)."""
    query = select(StaffUser)
    if role is not None:
        query = query.where(StaffUser.role == role)
    if is_active is not None:
        query = query.where(StaffUser.is_active == is_active)
    return query


# --- login -------------------------------------------------------------------------------


@dataclass
class LoginResult:
    user: StaffUser | None
    retry_after_s: int = 0

    @property
    def locked(self) -> bool:
        return self.retry_after_s > 0


def _throttle_key(email: str) -> str:
    return hash_secret("login:" + _normalise_email(email))


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
    hasher = _password_hasher()
    ok = False
    try:
        ok = hasher.verify(
            user.password_hash if user and user.password_hash else _dummy_hash(), password
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


def record_logout(user: StaffUser) -> None:
    """End the user's sessions for good: session cookies are signed, not stored, so a copy of
    the cookie would otherwise stay valid after logout. Bumping the version voids every copy
    (and the user's sessions in other browsers too)."""
    user.session_version += 1
    record_audit(user, "auth.logout", object_type="staff_user", object_id=user.id)


# --- staff API tokens --------------------------------------------------------------------


def create_api_token(
    actor: Actor,
    owner: StaffUser,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; the plaintext is returned here once and never stored."""
    if not scopes or any(s not in {x.value for x in TokenScope} for s in scopes):
        raise ValidationError(errors={"scopes": ["Choose from: read, write."]})
    now = utcnow()
    max_days = current_app.config["CITYAPP_TOKEN_MAX_DAYS"]
    if expires_at is None:
        expires_at = now + timedelta(days=max_days)
    if expires_at <= now:
        raise ValidationError(errors={"expires_at": ["Must be in the future."]})
    if expires_at > now + timedelta(days=max_days):
        raise ValidationError(errors={"expires_at": [f"At most {max_days} days ahead."]})
    plaintext = new_token(STAFF_TOKEN_PREFIX)
    token = ApiToken(
        owner=owner,
        name=name.strip(),
        token_hash=hash_secret(plaintext),
        prefix=plaintext[:10],
        scopes=sorted(set(scopes)),
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    record_audit(
        actor,
        "token.create",
        object_type="api_token",
        object_id=token.id,
        summary=f"token {token.name!r} for staff:{owner.id} scopes={','.join(token.scopes)}",
    )
    return token, plaintext


def get_api_token(token_id: int) -> ApiToken:
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"No API token {token_id}.")
    return token


def can_manage_token(actor: StaffUser, token: ApiToken) -> bool:
    """Object rule: owners manage their tokens, admins manage all."""
    return actor.role == Role.ADMIN or token.owner_id == actor.id


def token_query(viewer: StaffUser) -> Select:
    """The API tokens ``viewer`` may see: their own, or all of them for admins."""
    query = select(ApiToken)
    if viewer.role != Role.ADMIN:
        query = query.where(ApiToken.owner_id == viewer.id)
    return query


def revoke_api_token(actor: Actor, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record_audit(actor, "token.revoke", object_type="api_token", object_id=token.id)
    return token


def resolve_staff_token(plaintext: str) -> ApiToken | None:
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_secret(plaintext)))
    if token is None or not token.is_usable() or not token.owner.is_active:
        return None
    _touch(token, "last_used_at")
    return token


def _touch(obj: ApiToken | Installation, attribute: str) -> None:
    """Record last use at most once a minute: liveness must not cost a write per request."""
    now = utcnow()
    interval = timedelta(seconds=current_app.config["CITYAPP_TOKEN_TOUCH_INTERVAL_S"])
    last = getattr(obj, attribute)
    if last is None or now - last >= interval:
        setattr(obj, attribute, now)


# --- installations -----------------------------------------------------------------------


def create_installation() -> tuple[Installation, str]:
    plaintext = new_token(INSTALLATION_TOKEN_PREFIX)
    installation = Installation(token_hash=hash_secret(plaintext))
    db.session.add(installation)
    db.session.flush()
    return installation, plaintext


def resolve_installation_token(plaintext: str) -> Installation | None:
    installation = db.session.scalar(
        select(Installation).where(Installation.token_hash == hash_secret(plaintext))
    )
    if installation is not None:
        _touch(installation, "last_used_at")
    return installation


def delete_installation(installation: Installation) -> None:
    """Forget an installation. Domains' rows go with it through their foreign keys (ON DELETE
    CASCADE); ``installation_deleting`` lets them correct derived values first."""
    from cityapp.signals import installation_deleting

    installation_deleting.send("installation", installation_id=installation.id)
    db.session.delete(installation)


# --- housekeeping ------------------------------------------------------------------------


def purge_expired_auth_records(now: datetime | None = None) -> dict[str, int]:
    """Delete expired login throttles, tokens revoked or expired more than 90 days ago, and
    audit entries older than CITYAPP_AUDIT_RETENTION_DAYS."""
    now = now or utcnow()
    throttles = db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.expires_at < now)
    ).rowcount
    cutoff = now - timedelta(days=90)
    tokens = db.session.execute(
        delete(ApiToken).where((ApiToken.revoked_at < cutoff) | (ApiToken.expires_at < cutoff))
    ).rowcount
    audit_cutoff = now - timedelta(days=current_app.config["CITYAPP_AUDIT_RETENTION_DAYS"])
    # The one sanctioned removal of audit entries: retention. It goes through the connection,
    # past the ORM guard that keeps application code from editing the log.
    audit = (
        db.session.connection()
        .execute(AuditEntry.__table__.delete().where(AuditEntry.created_at < audit_cutoff))
        .rowcount
    )
    return {
        "login_throttles": throttles or 0,
        "api_tokens": tokens or 0,
        "audit_entries": audit or 0,
    }
