"""Signals between domains: loose reactions travel here instead of direct calls.

Senders queue a signal with ``send_after_commit``; it is delivered only once the surrounding
transaction commits (and dropped on rollback), so listeners never react to changes that did not
happen. ``send_before_commit`` delivers just before the commit instead, inside the sender's
transaction: receivers that only write rows (mark stele manifests stale, queue mail in the
outbox) then commit atomically with the change, so no reaction is lost to a crash between two
transactions. Side effects that leave the process never run in a receiver; they go through an
outbox.
"""

from __future__ import annotations

from typing import Any

from blinker import Namespace
from sqlalchemy import event
from sqlalchemy.orm import Session

_signals = Namespace()

#: Content that the public can see changed (news, announcements, districts).
#: Sent with ``send_before_commit`` (receivers write in the same transaction) with
#: sender=kind ("news", "announcement", "district") and keyword arguments ``item_id``,
#: ``action``, ``district_ids`` (list; empty = whole municipality), ``channels`` (list of
#: "app", "stele", "push"; news go to "app" and "stele"), and for updates
#: ``previous_district_ids`` / ``previous_channels`` (the targeting before the change; None
#: when unchanged or not an update). Steles mark the manifests of affected devices stale.
content_changed = _signals.signal("content-changed")

#: A citizen report changed status or got a public note (sender="report"); keyword arguments
#: ``report_id``, ``event_id``, ``from_status``, ``to_status`` (equal when only a note was
#: added) and ``has_public_note``.
report_status_changed = _signals.signal("report-status-changed")

#: A survey's public state changed (sender="survey"): opened, closed, archived, edited while
#: visible. Sent with ``send_before_commit``. Keyword arguments ``survey_id``, ``action``,
#: ``channels`` and ``district_ids`` (empty = whole municipality), and ``previous_channels`` /
#: ``previous_district_ids`` for edits that retarget. Steles listen for stele polls.
survey_changed = _signals.signal("survey-changed")

#: An app installation is about to be deleted (sender="installation", keyword argument
#: ``installation_id``). Sent synchronously inside the deleting transaction, before the
#: ``ON DELETE CASCADE`` foreign keys remove the rows that point at it, so receivers can
#: correct what they derived from those rows (supporter counts). Receivers must not commit.
installation_deleting = _signals.signal("installation-deleting")

#: District polygons changed: a district was created, its polygon edited, or it was deleted
#: (sender="district", keyword arguments ``district_id`` and ``action``: "create", "update",
#: "delete"). Sent synchronously inside the changing transaction, after the flush, so
#: receivers re-derive what they computed from the polygons (announcements aimed at an area)
#: in the same transaction. Receivers must not commit.
district_areas_changed = _signals.signal("district-areas-changed")

_PENDING_KEY = "cityapp_pending_signals"
_BEFORE_COMMIT_KEY = "cityapp_before_commit_signals"


def send_after_commit(session: Session, signal: Any, sender: Any, **kwargs: Any) -> None:
    """Queue ``signal.send(sender, **kwargs)`` until ``session`` commits."""
    session.info.setdefault(_PENDING_KEY, []).append((signal, sender, kwargs))


def send_before_commit(session: Session, signal: Any, sender: Any, **kwargs: Any) -> None:
    """Queue ``signal.send(sender, **kwargs)`` to run inside this transaction, just before it
    commits. Receivers may read and write through the same session but must not commit."""
    session.info.setdefault(_BEFORE_COMMIT_KEY, []).append((signal, sender, kwargs))


@event.listens_for(Session, "before_commit")
def _deliver_before_commit(session: Session) -> None:
    # A receiver may queue further signals; deliver until the queue is empty.
    while pending := session.info.pop(_BEFORE_COMMIT_KEY, []):
        for signal, sender, kwargs in pending:
            signal.send(sender, **kwargs)


@event.listens_for(Session, "after_commit")
def _deliver(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, [])
    for signal, sender, kwargs in pending:
        signal.send(sender, **kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _discard(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING_KEY, None)
        session.info.pop(_BEFORE_COMMIT_KEY, None)
