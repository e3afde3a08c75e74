"""Deleting media: the registry of domains that still use an asset, deletion of unused
assets (files removed only after the commit) and the purge of orphaned files."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db
from cityapp.media.models import MediaAsset
from cityapp.media.service.storage import get_storage

log = logging.getLogger(__name__)

#: Functions ``(asset) -> bool`` telling whether a domain still uses an asset. ``create_app``
#: registers one per domain that references media (content: news images; feedback: report
#: photos), so deletion never needs to know a domain.
MEDIA_REFERENCES: list[Callable[[MediaAsset], bool]] = []

_FILES_TO_DELETE = "cityapp_media_files_to_delete"


def register_media_reference(check: Callable[[MediaAsset], bool]) -> None:
    """Add a domain's check ``(asset) -> bool`` ("still used"); registering twice is a no-op."""
    if check not in MEDIA_REFERENCES:
        MEDIA_REFERENCES.append(check)


def delete_unused_media(actor: Actor, asset_ids: Iterable[int | None]) -> list[str]:
    """Delete the given assets that nothing references any more. Rows go in the caller's
    transaction; the files are removed only after it commits (a rollback keeps them)."""
    deleted: list[str] = []
    for asset_id in sorted({i for i in asset_ids if i is not None}):
        asset = db.session.get(MediaAsset, asset_id)
        if asset is None or any(check(asset) for check in MEDIA_REFERENCES):
            continue
        deleted.append(asset.sha256)
        db.session.delete(asset)
    if deleted:
        db.session.flush()
        db.session().info.setdefault(_FILES_TO_DELETE, []).extend(deleted)
        record_audit(
            actor,
            "media.delete",
            object_type="media",
            summary=f"{len(deleted)} unused asset(s) deleted",
            changes={"sha256": deleted},
        )
    return deleted


def purge_orphan_files(now: float | None = None, *, min_age_s: float = 3600) -> int:
    """Delete stored files that no media row references and that were last written more than
    ``min_age_s`` ago: what uploads whose transaction failed left behind (a citizen's photo,
    even stripped of its metadata, must not stay on disk without a record), and files whose
    deletion after a commit failed. Younger files may belong to an upload still in flight."""
    cutoff = (time.time() if now is None else now) - min_age_s
    candidates = [sha for sha, written in get_storage().stored() if written < cutoff]
    purged = 0
    for start in range(0, len(candidates), 500):
        batch = candidates[start : start + 500]
        known = set(
            db.session.scalars(select(MediaAsset.sha256).where(MediaAsset.sha256.in_(batch)))
        )
        for sha in batch:
            if sha not in known:
                get_storage().delete(sha)
                purged += 1
    if purged:
        log.info("deleted the files of %d unreferenced media", purged)
    return purged


def register_media_file_cleanup() -> None:
    """Delete the files of deleted assets once their transaction commits (and keep them on a
    rollback). Called from ``create_app``; registering twice is a no-op."""
    for name, listener in (("after_commit", _delete_files), ("after_soft_rollback", _keep_files)):
        if not event.contains(Session, name, listener):
            event.listen(Session, name, listener)


def _delete_files(session: Session) -> None:
    shas = session.info.pop(_FILES_TO_DELETE, [])
    if not shas:
        return
    storage = get_storage()
    for sha in shas:
        try:
            storage.delete(sha)
        except OSError:  # a leftover file is harmless; the next purge does not see it again
            log.exception("could not delete the files of media %s", sha[:12])


def _keep_files(session: Session, previous_transaction: Any) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_FILES_TO_DELETE, None)
