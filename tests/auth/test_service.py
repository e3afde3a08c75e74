"""Auth rules called directly: passwords, login throttling, staff accounts, tokens,
installations, the audit log and its append-only guard, and the list queries."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, func, inspect, select, update

from cityapp.auth.models import (
    ApiToken,
    AuditEntry,
    AuditLogIsAppendOnly,
    Installation,
    LoginThrottle,
    StaffUser,
)
from cityapp.auth.service import SCHEDULER, record_audit
from cityapp.auth.service.actors import CLI
from cityapp.auth.service.audit import audit_query
from cityapp.auth.service.credentials import validate_password
from cityapp.auth.service.housekeeping import purge_expired_auth_records
from cityapp.auth.service.installations import (
    create_installation,
    delete_installation,
    resolve_installation_token,
)
from cityapp.auth.service.login import attempt_login
from cityapp.auth.service.staff import (
    create_staff_user,
    get_staff_user,
    staff_query,
    update_staff_user,
)
from cityapp.auth.service.tokens import (
    can_manage_token,
    create_api_token,
    resolve_staff_token,
    revoke_api_token,
    token_query,
)
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError

PASSWORD = "ein-sehr-langes-passwort"


def _staff(role: str = "editor", email: str | None = None, **kw) -> StaffUser:
    email = email or f"{role}-{utcnow().timestamp()}@test.musterstadt.example"
    user = create_staff_user(
        CLI, email=email, display_name=f"Test {role}", role=role, password=PASSWORD, **kw
    )
    db.session.flush()
    return user


def _audit(action: str) -> list[AuditEntry]:
    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- passwords -----------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id(ctx):
    user = _staff()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


def test_login_rehashes_when_the_parameters_changed(ctx):
    user = _staff()
    old_hash = PasswordHasher(time_cost=3, memory_cost=16 * 1024, parallelism=2).hash(PASSWORD)
    user.password_hash = old_hash
    db.session.flush()

    result = attempt_login(user.email, PASSWORD)

    assert result.user is user
    assert user.password_hash != old_hash
    assert user.password_hash.startswith("$argon2id$")
    config = ctx.config
    assert f"m={config['CITYAPP_ARGON2_MEMORY_COST']},t={config['CITYAPP_ARGON2_TIME_COST']}" in (
        user.password_hash
    )
    assert PasswordHasher().verify(user.password_hash, PASSWORD)


def test_login_keeps_a_current_hash_and_a_wrong_password_never_rehashes(ctx):
    user = _staff()
    current = user.password_hash
    assert attempt_login(user.email, PASSWORD).user is user
    assert user.password_hash == current
    user.password_hash = old = PasswordHasher(time_cost=3).hash(PASSWORD)
    assert attempt_login(user.email, "wrong-password").user is None
    assert user.password_hash == old


@pytest.mark.parametrize(("password", "ok"), [("x" * 9, False), ("x" * 10, True)])
def test_password_length_rule(ctx, password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError) as info:
            validate_password(password)
        assert "password" in info.value.errors


# --- login and throttling --------------------------------------------------------------


def test_successful_login_records_time_and_audit(ctx):
    user = _staff()
    result = attempt_login("  " + user.email.upper() + " ", PASSWORD)
    assert result.user is user and not result.locked
    assert user.last_login_at is not None
    (entry,) = _audit("auth.login")
    assert (entry.actor_id, entry.actor_label) == (user.id, f"staff:{user.id}")
    assert (entry.object_type, entry.object_id) == ("staff_user", str(user.id))


def test_failed_login_audit_holds_neither_password_nor_email(ctx):
    user = _staff()
    attempt_login(user.email, "the-wrong-secret")
    attempt_login("nobody@test.musterstadt.example", "another-secret")
    entries = _audit("auth.login_failed")
    assert len(entries) == 2
    known, unknown = sorted(entries, key=lambda e: e.id)
    assert (known.object_type, known.object_id) == ("staff_user", str(user.id))
    assert (unknown.object_type, unknown.object_id) == (None, None)
    for entry in entries:
        assert entry.actor_label == "anonymous" and entry.actor_id is None
        text = repr((entry.summary, entry.changes, entry.object_id, entry.actor_label))
        for secret in ("the-wrong-secret", "another-secret", user.email, "nobody@", "@test"):
            assert secret not in text


def test_inactive_account_cannot_log_in(ctx):
    user = _staff()
    update_staff_user(CLI, user, is_active=False)
    result = attempt_login(user.email, PASSWORD)
    assert result.user is None and not result.locked
    assert user.last_login_at is None


def test_account_without_password_cannot_log_in(ctx):
    user = create_staff_user(
        CLI, email="nopw@test.musterstadt.example", display_name="X", role="editor"
    )
    assert user.password_hash is None
    assert attempt_login(user.email, "").user is None
    assert attempt_login(user.email, PASSWORD).user is None


@pytest.mark.parametrize("exists", [True, False], ids=["known", "unknown"])
def test_repeated_failures_lock_the_account_name(ctx, exists):
    email = _staff().email if exists else "ghost@test.musterstadt.example"
    config = ctx.config
    threshold = config["CITYAPP_LOGIN_FAILURES_BEFORE_LOCK"]
    now = utcnow()
    for i in range(threshold):
        result = attempt_login(email, f"wrong-{i}", now=now)
        assert result.user is None and not result.locked
    locked = attempt_login(email, PASSWORD, now=now + timedelta(seconds=1))
    assert locked.user is None and locked.locked
    assert 0 < locked.retry_after_s <= config["CITYAPP_LOGIN_LOCK_BASE_S"]
    assert len(_audit("auth.login_throttled")) == 1
    # Another spelling of the same address is the same account name.
    assert attempt_login(email.upper(), PASSWORD, now=now + timedelta(seconds=2)).locked


def test_lock_expires_and_grows_with_further_failures(ctx):
    user = _staff()
    config = ctx.config
    base = config["CITYAPP_LOGIN_LOCK_BASE_S"]
    threshold = config["CITYAPP_LOGIN_FAILURES_BEFORE_LOCK"]
    t0 = utcnow()
    for _ in range(threshold):
        attempt_login(user.email, "wrong", now=t0)
    after_lock = t0 + timedelta(seconds=base + 1)
    # One more failure after the lock ran out: locked again, twice as long.
    assert not attempt_login(user.email, "wrong", now=after_lock).locked
    again = attempt_login(user.email, PASSWORD, now=after_lock + timedelta(seconds=1))
    assert again.locked
    assert base < again.retry_after_s <= 2 * base
    # The right password after that lock works and clears the throttle.
    later = after_lock + timedelta(seconds=2 * base + 1)
    assert attempt_login(user.email, PASSWORD, now=later).user is user
    assert db.session.scalar(select(func.count()).select_from(LoginThrottle)) == 0


def test_throttle_does_not_store_the_email(ctx):
    attempt_login("Secret.Person@test.musterstadt.example", "wrong")
    throttle = db.session.scalar(select(LoginThrottle))
    assert re.fullmatch(r"[0-9a-f]{64}", throttle.key_hash)
    assert "secret" not in repr(throttle).lower()


# --- staff accounts ----------------------------------------------------------------------


def test_create_staff_normalises_email_and_audits(ctx):
    user = create_staff_user(
        CLI, email=" Neu@Test.Musterstadt.Example ", display_name=" Nina ", role="moderator"
    )
    assert (user.email, user.display_name, user.is_active) == (
        "neu@test.musterstadt.example",
        "Nina",
        True,
    )
    (entry,) = _audit("staff.create")
    assert (entry.actor_label, entry.object_type, entry.object_id) == (
        "cli",
        "staff_user",
        str(user.id),
    )
    assert entry.changes == {"role": "moderator", "display_name": "Nina"}


def test_duplicate_email_is_a_conflict(ctx):
    user = _staff()
    with pytest.raises(Conflict) as info:
        _staff(email=user.email.upper())
    assert info.value.errors == {"email": ["Taken."]}


def test_unknown_role_is_refused(ctx):
    with pytest.raises(ValidationError):
        _staff(role="emperor")


def test_get_missing_staff_user_is_not_found(ctx):
    with pytest.raises(NotFound):
        get_staff_user(987654)


def test_deactivation_and_password_change_end_sessions(ctx):
    user = _staff()
    first = user.session_version
    update_staff_user(CLI, user, password="ein-neues-passwort")
    assert user.session_version == first + 1
    update_staff_user(CLI, user, is_active=False)
    assert user.session_version == first + 2
    updates = _audit("staff.update")
    assert [e.changes for e in updates] == [{"password": "changed"}, {"is_active": False}]
    assert "ein-neues-passwort" not in repr([(e.summary, e.changes) for e in updates])


def test_update_without_changes_writes_no_audit(ctx):
    user = _staff()
    update_staff_user(CLI, user, display_name=user.display_name, role=user.role)
    assert _audit("staff.update") == []


def test_the_last_active_admin_stays_an_active_admin(ctx):
    admin = _staff("admin")
    with pytest.raises(Conflict):
        update_staff_user(CLI, admin, role="editor")
    with pytest.raises(Conflict):
        update_staff_user(CLI, admin, is_active=False)
    inactive = _staff("admin")
    update_staff_user(CLI, inactive, is_active=False)  # admin is still there
    with pytest.raises(Conflict):
        update_staff_user(CLI, admin, role="moderator")
    assert (admin.role, admin.is_active) == ("admin", True)
    _staff("admin")
    update_staff_user(CLI, admin, role="editor")
    assert admin.role == "editor"


# --- staff API tokens ----------------------------------------------------------------------


def test_token_is_256_bit_shown_once_and_stored_as_sha256(ctx):
    user = _staff()
    token, plaintext = create_api_token(user, user, name=" CI ", scopes=["read"])
    assert plaintext.startswith("cat_")
    assert len(plaintext) == len("cat_") + 43  # token_urlsafe(32): 32 random bytes
    assert token.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert token.prefix == plaintext[:10]
    assert token.name == "CI" and token.scopes == ["read"]
    stored = [getattr(token, c.key) for c in inspect(ApiToken).columns]
    assert plaintext not in [str(v) for v in stored]
    (entry,) = _audit("token.create")
    assert plaintext not in repr((entry.summary, entry.changes))


def test_two_tokens_never_share_a_secret(ctx):
    user = _staff()
    secrets = {create_api_token(user, user, name="t", scopes=["read"])[1] for _ in range(5)}
    assert len(secrets) == 5


def test_token_expiry_defaults_and_bounds(ctx):
    user = _staff()
    max_days = ctx.config["CITYAPP_TOKEN_MAX_DAYS"]
    token, _ = create_api_token(user, user, name="t", scopes=["read", "write"])
    assert abs(token.expires_at - (utcnow() + timedelta(days=max_days))) < timedelta(minutes=1)
    with pytest.raises(ValidationError) as info:
        create_api_token(
            user, user, name="t", scopes=["read"], expires_at=utcnow() - timedelta(seconds=1)
        )
    assert "expires_at" in info.value.errors
    with pytest.raises(ValidationError):
        create_api_token(
            user,
            user,
            name="t",
            scopes=["read"],
            expires_at=utcnow() + timedelta(days=max_days + 1),
        )
    for scopes in ([], ["admin"]):
        with pytest.raises(ValidationError):
            create_api_token(user, user, name="t", scopes=scopes)


def test_revoked_expired_and_orphaned_tokens_do_not_resolve(ctx):
    user = _staff()
    revoked, revoked_secret = create_api_token(user, user, name="r", scopes=["read"])
    expired, expired_secret = create_api_token(user, user, name="e", scopes=["read"])
    _, live_secret = create_api_token(user, user, name="l", scopes=["read"])
    revoke_api_token(user, revoked)
    revoke_api_token(user, revoked)  # idempotent: one audit entry
    assert len(_audit("token.revoke")) == 1
    expired.expires_at = utcnow() - timedelta(seconds=1)
    db.session.flush()
    assert resolve_staff_token(revoked_secret) is None
    assert resolve_staff_token(expired_secret) is None
    assert resolve_staff_token("cat_" + "A" * 43) is None
    assert resolve_staff_token(live_secret).owner is user
    update_staff_user(CLI, user, is_active=False)
    assert resolve_staff_token(live_secret) is None


def test_last_used_is_touched_at_most_once_per_interval(ctx):
    user = _staff()
    token, secret = create_api_token(user, user, name="t", scopes=["read"])
    assert token.last_used_at is None
    resolve_staff_token(secret)
    first = token.last_used_at
    assert first is not None
    resolve_staff_token(secret)
    assert token.last_used_at == first
    interval = ctx.config["CITYAPP_TOKEN_TOUCH_INTERVAL_S"]
    token.last_used_at = stale = utcnow() - timedelta(seconds=interval + 1)
    resolve_staff_token(secret)
    assert token.last_used_at > stale + timedelta(seconds=interval)


def test_token_object_rule(ctx):
    owner, other, admin = _staff(), _staff("moderator"), _staff("admin")
    token, _ = create_api_token(owner, owner, name="t", scopes=["read"])
    assert can_manage_token(owner, token)
    assert can_manage_token(admin, token)
    assert not can_manage_token(other, token)


# --- installations -----------------------------------------------------------------------


def test_installation_token_is_random_and_stored_hashed(ctx):
    installation, plaintext = create_installation()
    assert plaintext.startswith("cai_") and len(plaintext) == 4 + 43
    assert installation.token_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert resolve_installation_token(plaintext) is installation
    assert installation.last_used_at is not None
    assert resolve_installation_token("cai_" + "B" * 43) is None
    delete_installation(installation)
    db.session.flush()
    assert resolve_installation_token(plaintext) is None
    assert db.session.scalar(select(func.count()).select_from(Installation)) == 0


# --- audit log -----------------------------------------------------------------------------


def test_record_audit_outside_a_request_has_no_request_id(ctx):
    entry = record_audit(SCHEDULER, "test.ping", summary="x" * 2000)
    db.session.flush()
    assert entry.request_id is None
    assert entry.actor_label == "system:scheduler" and entry.actor_id is None
    assert len(entry.summary) == 1000


def test_audit_entries_cannot_be_changed_through_the_orm(ctx):
    entry = record_audit(CLI, "test.original")
    db.session.flush()
    entry.summary = "rewritten history"
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


def test_audit_entries_cannot_be_deleted_through_the_orm(ctx):
    entry = record_audit(CLI, "test.original")
    db.session.flush()
    db.session.delete(entry)
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditEntry).values(summary="rewritten"),
        delete(AuditEntry),
        delete(AuditEntry).where(AuditEntry.action == "test.original"),
    ],
    ids=["bulk-update", "bulk-delete", "filtered-delete"],
)
def test_audit_entries_cannot_be_bulk_changed(ctx, statement):
    record_audit(CLI, "test.original")
    db.session.flush()
    with pytest.raises(AuditLogIsAppendOnly):
        db.session.execute(statement)
    db.session.rollback()


def test_audit_guard_lets_appends_and_reads_through(ctx):
    first = record_audit(CLI, "test.one")
    db.session.flush()
    _ = first.summary  # reading is fine
    first.summary = first.summary  # setting the same value is no change
    record_audit(CLI, "test.two")
    db.session.flush()
    assert len(_audit("test.one")) == len(_audit("test.two")) == 1


def test_deleting_a_staff_user_keeps_their_audit_entries(ctx):
    user = _staff()
    record_audit(user, "test.by_user")
    db.session.flush()
    db.session.delete(user)
    db.session.flush()
    db.session.expire_all()
    (entry,) = _audit("test.by_user")
    assert entry.actor_id is None  # ON DELETE SET NULL
    assert entry.actor_label == f"staff:{user.id}"


# --- list queries --------------------------------------------------------------------------


def test_staff_query_filters(ctx):
    editor, moderator = _staff("editor"), _staff("moderator")
    update_staff_user(CLI, moderator, is_active=False)

    def ids(**filters) -> set[int]:
        query = staff_query(**filters).with_only_columns(StaffUser.id)
        return set(db.session.scalars(query))

    assert ids() == {editor.id, moderator.id}
    assert ids(role="editor") == {editor.id}
    assert ids(is_active=False) == {moderator.id}
    assert ids(role="editor", is_active=False) == set()


def test_token_query_shows_own_tokens_or_all_for_admins(ctx):
    editor, admin = _staff("editor"), _staff("admin")
    mine, _ = create_api_token(editor, editor, name="mine", scopes=["read"])
    theirs, _ = create_api_token(admin, admin, name="theirs", scopes=["read"])
    assert set(db.session.scalars(token_query(editor))) == {mine}
    assert set(db.session.scalars(token_query(admin))) == {mine, theirs}


def test_audit_query_filters(ctx):
    user = _staff()
    t0 = utcnow()
    entry = record_audit(user, "token.create", object_type="api_token", object_id=7)
    db.session.flush()

    def found(**filters) -> bool:
        return entry in set(db.session.scalars(audit_query(**filters)))

    assert found()
    assert found(actor_id=user.id) and not found(actor_id=user.id + 1000)
    assert found(action="token.create") and not found(action="token.revoke")
    assert found(object_type="api_token", object_id="7")
    assert found(object_type="api_token", object_id=7)
    assert not found(object_type="api_token", object_id="8")
    assert not found(object_type="staff_user", object_id="7")
    assert found(since=t0 - timedelta(seconds=1)) and not found(since=utcnow() + timedelta(1))
    assert found(until=utcnow() + timedelta(seconds=1)) and not found(until=t0)


# --- housekeeping --------------------------------------------------------------------------


def test_purge_removes_expired_throttles_and_long_dead_tokens(ctx):
    user = _staff()
    now = utcnow()
    attempt_login("ghost@test.musterstadt.example", "wrong", now=now - timedelta(days=1))
    old, _ = create_api_token(user, user, name="old", scopes=["read"])
    fresh, _ = create_api_token(user, user, name="fresh", scopes=["read"])
    old.revoked_at = now - timedelta(days=91)
    fresh.revoked_at = now - timedelta(days=1)
    db.session.flush()
    counts = purge_expired_auth_records(now)
    assert counts["login_throttles"] == 1
    assert counts["api_tokens"] == 1
    db.session.expire_all()
    assert set(db.session.scalars(select(ApiToken))) == {fresh}


def test_purge_removes_audit_entries_past_retention_only(ctx):
    now = utcnow()
    days = ctx.config["CITYAPP_AUDIT_RETENTION_DAYS"]
    old = record_audit(CLI, "test.old")
    kept = record_audit(CLI, "test.kept")
    db.session.flush()
    # Back-date one entry past retention (raw SQL: the ORM refuses to edit audit entries).
    db.session.connection().execute(
        AuditEntry.__table__.update()
        .where(AuditEntry.id == old.id)
        .values(created_at=now - timedelta(days=days + 1))
    )
    counts = purge_expired_auth_records(now)
    assert counts["audit_entries"] == 1
    db.session.expire_all()
    remaining = set(db.session.scalars(select(AuditEntry.action)))
    assert "test.kept" in remaining and "test.old" not in remaining
    assert kept.id is not None
