"""Staff API tokens: create (plaintext shown once), list, revoke, resolve a bearer token."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, select

from cityapp.auth.models import ApiToken, Installation, Role, StaffUser, TokenScope
from cityapp.auth.service.actors import Actor
from cityapp.auth.service.audit import record_audit
from cityapp.auth.service.credentials import STAFF_TOKEN_PREFIX, hash_secret, new_token
from cityapp.db import db, get_or_404, utcnow
from cityapp.errors import ValidationError


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
    return get_or_404(ApiToken, token_id, "API token")


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
    touch_last_used(token, "last_used_at")
    return token


def touch_last_used(obj: ApiToken | Installation, attribute: str) -> None:
    """Record last use at most once a minute: liveness must not cost a write per request."""
    now = utcnow()
    interval = timedelta(seconds=current_app.config["CITYAPP_TOKEN_TOUCH_INTERVAL_S"])
    last = getattr(obj, attribute)
    if last is None or now - last >= interval:
        setattr(obj, attribute, now)
