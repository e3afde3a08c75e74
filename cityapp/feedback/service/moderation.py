"""Moderation decisions on reports: approve, reject, hide, redact (edit the public text, blur
or remove photos), approve held-back comments and late photos. Every decision is audit-logged;
originals stay (admins only)."""

from __future__ import annotations

import io

from PIL import Image, ImageFilter
from sqlalchemy import update

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db
from cityapp.errors import Conflict, ValidationError
from cityapp.feedback.models import (
    ModerationState,
    RejectionReason,
    Report,
    ReportEvent,
    ReportFlag,
    ReportPhoto,
    ReportStatus,
)
from cityapp.feedback.service.events import record_event
from cityapp.feedback.service.state import (
    MAX_DESCRIPTION,
    hide_from_public,
    publish_report,
    stamp_closure,
    stamp_first_response,
    sync_photo_visibility,
)
from cityapp.media import service as media

M = ModerationState

REJECTION_TEXTS_DE = {
    RejectionReason.SPAM: "Die Meldung wurde als Spam eingestuft.",
    RejectionReason.ABUSIVE: "Die Meldung verstößt gegen unsere Regeln für einen respektvollen "
    "Umgang.",
    RejectionReason.DUPLICATE: "Das Anliegen ist bereits gemeldet.",
    RejectionReason.NOT_OUR_RESPONSIBILITY: "Die Stadt ist für dieses Anliegen nicht zuständig.",
    RejectionReason.OTHER: "Die Meldung kann nicht bearbeitet werden.",
}


def approve_report(actor: Actor, report: Report) -> Report:
    """Publish a pending (or hidden) report; its open flags count as dealt with."""
    if report.moderation_state not in (M.PENDING, M.HIDDEN):
        raise Conflict(
            f"Only pending or hidden reports can be approved ({report.moderation_state})."
        )
    previous = report.moderation_state
    publish_report(report)
    db.session.execute(
        update(ReportFlag)
        .where(ReportFlag.report_id == report.id, ReportFlag.is_resolved.is_(False))
        .values(is_resolved=True)
    )
    record_audit(
        actor,
        "report.approve",
        object_type="report",
        object_id=report.id,
        summary=f"{previous} -> published",
    )
    record_event(actor, report, "moderation", internal_note=f"approved ({previous})")
    return report


def edit_public_text(actor: Actor, report: Report, text: str, reason: str | None = None) -> Report:
    """Redact the text the public sees; the reporter's original stays for staff."""
    text = (text or "").strip()
    if not text or len(text) > MAX_DESCRIPTION:
        raise ValidationError(errors={"public_description": ["1 to 4000 characters."]})
    before = report.public_description
    if text == before:
        return report
    report.public_description = text
    record_audit(
        actor,
        "report.edit_text",
        object_type="report",
        object_id=report.id,
        summary=reason or "public text edited",
        changes={"public_description": {"from": before, "to": text}},
    )
    record_event(actor, report, "moderation", internal_note="public text edited")
    return report


def reject_report(actor: Actor, report: Report, reason: str, note: str | None = None) -> Report:
    """Reject a report waiting for moderation; the reporter is told why (not for spam)."""
    if reason not in set(RejectionReason):
        raise ValidationError(errors={"reason": [f"One of {', '.join(RejectionReason)}."]})
    if report.moderation_state != M.PENDING:
        raise Conflict("Only reports waiting for moderation can be rejected; hide it instead.")
    if report.status != ReportStatus.SUBMITTED:
        raise Conflict(f"A {report.status} report cannot be rejected.")
    report.moderation_state = M.REJECTED
    report.rejection_reason = reason
    report.status = ReportStatus.REJECTED
    stamp_closure(report)
    stamp_first_response(report)
    sync_photo_visibility(report)
    record_audit(actor, "report.reject", object_type="report", object_id=report.id, summary=reason)
    record_event(
        actor,
        report,
        "status",
        from_status=ReportStatus.SUBMITTED,
        to_status=ReportStatus.REJECTED,
        public_note=REJECTION_TEXTS_DE[RejectionReason(reason)],
        internal_note=(note or "").strip() or None,
        notify=reason not in (RejectionReason.SPAM, RejectionReason.ABUSIVE),
    )
    return report


def hide_report(actor: Actor, report: Report, reason: str | None = None) -> Report:
    """Take a published report out of public view until a moderator approves it again."""
    hide_from_public(report)
    record_audit(
        actor, "report.hide", object_type="report", object_id=report.id, summary=reason or ""
    )
    record_event(actor, report, "moderation", internal_note=f"hidden: {reason or '-'}")
    return report


def approve_comment(actor: Actor, event: ReportEvent) -> ReportEvent:
    """Let a reporter's comment that the filters held back into the history."""
    if event.kind != "comment_pending":
        raise Conflict("Only held-back comments can be approved.")
    event.kind = "comment"
    record_audit(
        actor,
        "report.comment_approve",
        object_type="report",
        object_id=event.report_id,
        summary=f"event {event.id}",
    )
    return event


def _blurred(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        radius = max(8, max(image.size) // 30)
        blurred = image.convert("RGB").filter(ImageFilter.GaussianBlur(radius))
    buffer = io.BytesIO()
    blurred.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def blur_photo(actor: Actor, photo: ReportPhoto) -> ReportPhoto:
    """Replace the shown photo by a blurred copy; the original stays for admins."""
    if photo.asset is None:
        raise Conflict("The photo was deleted.")
    original = photo.original_asset or photo.asset
    data = media.get_storage().read(f"{original.sha256}/{media.ORIGINAL}")
    blurred, _ = media.store_image(actor, _blurred(data), is_public=False)
    blurred.created_by_id = None  # resident content: visibility follows the report
    photo.original_asset = original
    photo.asset = blurred
    db.session.flush()
    sync_photo_visibility(photo.report)
    record_audit(
        actor,
        "report.photo_blur",
        object_type="report",
        object_id=photo.report_id,
        summary=f"photo {photo.id}",
        changes={"original": original.sha256, "shown": blurred.sha256},
    )
    return photo


def approve_photo(actor: Actor, photo: ReportPhoto) -> ReportPhoto:
    """Let a photo the reporter added after publication go public."""
    if not photo.is_pending:
        raise Conflict("The photo is not waiting for approval.")
    photo.is_pending = False
    sync_photo_visibility(photo.report)
    record_audit(
        actor,
        "report.photo_approve",
        object_type="report",
        object_id=photo.report_id,
        summary=f"photo {photo.id}",
    )
    return photo


def remove_photo(actor: Actor, photo: ReportPhoto) -> ReportPhoto:
    """Take a photo out of the public view; the file stays for admins."""
    photo.is_removed = True
    sync_photo_visibility(photo.report)
    record_audit(
        actor,
        "report.photo_remove",
        object_type="report",
        object_id=photo.report_id,
        summary=f"photo {photo.id}",
    )
    return photo
