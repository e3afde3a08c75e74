"""Retention of auth records: login throttles, dead tokens, old audit entries."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete

from cityapp.auth.models import ApiToken, AuditEntry, LoginThrottle, RevokedSession
from cityapp.db import db, utcnow


def purge_expired_auth_records(now: datetime | None = None) -> dict[str, int]:
    """Delete expired login throttles, revoked sessions past their lifetime, tokens revoked
    or expired more than 90 days ago, and audit entries older than
    CITYAPP_AUDIT_RETENTION_DAYS."""
    now = now or utcnow()
    throttles = db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.expires_at < now)
    ).rowcount
    sessions = db.session.execute(
        delete(RevokedSession).where(RevokedSession.expires_at < now)
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
        "revoked_sessions": sessions or 0,
        "api_tokens": tokens or 0,
        "audit_entries": audit or 0,
    }
