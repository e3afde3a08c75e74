"""The audit log: one entry per change, in the change's own transaction, and its query."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import Select, select

from cityapp.auth.models import AuditEntry, StaffUser
from cityapp.auth.service.actors import Actor, actor_label
from cityapp.db import db
from cityapp.http.checks import current_request_id

log = logging.getLogger(__name__)


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
        # The one request detail an entry keeps: the id that ties a log line to it (None in
        # the CLI and the scheduler). The http layer owns where that id lives.
        request_id=current_request_id(),
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
