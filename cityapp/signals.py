"""Signals between domains: loose reactions travel here instead of direct calls.

Senders queue a signal with ``send_after_commit``; it is delivered only once the surrounding
transaction commits (and dropped on rollback), so listeners never react to changes that did not
happen.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session

_signals = Namespace()

#: Content that the public can see changed (news, announcements, districts).
#: Sent with sender=kind ("news", "announcement", "district") and keyword arguments
#: ``item_id``, ``action``, ``district_ids`` (list; empty = whole municipality) and
#: ``channels`` (list of "app", "stele", "push"; news go to "app" and "stele").
content_changed = _signals.signal("content-changed")

#: A citizen report changed status or got a public note (sender="report"); keyword arguments
#: ``report_id``, ``event_id``, ``from_status``, ``to_status`` (equal when only a note was
#: added) and ``has_public_note``.
report_status_changed = _signals.signal("report-status-changed")

_PENDING_KEY = "cityapp_pending_signals"


def send_after_commit(session: Session, signal: Any, sender: Any, **kwargs: Any) -> None:
    """Queue ``signal.send(sender, **kwargs)`` until ``session`` commits."""
    session.info.setdefault(_PENDING_KEY, []).append((signal, sender, kwargs))


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    for signal, sender, kwargs in pending:
        signal.send(sender, **kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
