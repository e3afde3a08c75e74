"""Staff content API: news and announcements (editor, admin)."""

from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint
from sqlalchemy import select

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff, staff_required
from cityapp.content import present
from cityapp.content.models import Announcement, NewsItem
from cityapp.content.schemas import (
    AnnouncementInputSchema,
    AnnouncementPublicSchema,
    AnnouncementStaffPageSchema,
    AnnouncementStaffSchema,
    AnnouncementUpdateSchema,
    CancelInputSchema,
    NewsInputSchema,
    NewsPublicSchema,
    NewsStaffPageSchema,
    NewsStaffSchema,
    NewsUpdateSchema,
    PreviewQuerySchema,
    PublishInputSchema,
    ScheduleInputSchema,
    StaffListQuerySchema,
)
from cityapp.content.service import announcements as announcement_service
from cityapp.content.service import news as news_service
from cityapp.content.service.visibility import matches_text
from cityapp.db import db
from cityapp.errors import ValidationError
from cityapp.http import check_if_match, make_etag, page_response, paginate

blp = Blueprint(
    "content_staff", __name__, url_prefix="/api/v1/staff", description="Content for staff"
)
EDITORS = (Role.EDITOR, Role.ADMIN)


def etag_of(kind: str, item) -> str:
    return make_etag("staff", kind, item.id, item.updated_at)


def _reply(schema_kind: str, item, status: int = 200):
    return item, status, {"ETag": etag_of(schema_kind, item)}


def _staff_list(model, args):
    query = select(model)
    if "status" in args:
        query = query.where(model.status == args["status"])
    if "category" in args:
        query = query.where(model.category == args["category"])
    if "q" in args:
        query = query.where(matches_text(model, args["q"]))
    order = [(model.updated_at, "desc"), (model.id, "desc")]
    return paginate(db.session, query, order, limit=args["limit"], cursor=args["cursor"])


# --- news ----------------------------------------------------------------------------------


@blp.get("/news")
@staff_required(*EDITORS)
@blp.arguments(StaffListQuerySchema, location="query")
@blp.response(200, NewsStaffPageSchema)
def list_news(args):
    """All news in every status, recently changed first; filter by status, category, text."""
    return page_response(_staff_list(NewsItem, args), NewsStaffSchema())


@blp.post("/news")
@staff_required(*EDITORS)
@blp.arguments(NewsInputSchema)
@blp.response(201, NewsStaffSchema)
def create_news(data):
    """Create a news draft."""
    item = news_service.create_news(current_staff(), **data)
    db.session.commit()
    location = url_for("content_staff.get_news", item_id=item.id)
    return item, 201, {"Location": location, "ETag": etag_of("news", item)}


@blp.get("/news/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(200, NewsStaffSchema)
def get_news(item_id):
    """One news item with all languages."""
    return _reply("news", news_service.get_news(item_id))


@blp.patch("/news/<int:item_id>")
@staff_required(*EDITORS)
@blp.arguments(NewsUpdateSchema)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_news(data, item_id):
    """Change a news item (If-Match)."""
    item = news_service.get_news(item_id)
    check_if_match(etag_of("news", item))
    news_service.update_news(current_staff(), item, **data)
    db.session.commit()
    return _reply("news", item)


@blp.delete("/news/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(204)
def delete_news(item_id):
    """Delete a news item; apps learn it from a tombstone."""
    item = news_service.get_news(item_id)
    check_if_match(etag_of("news", item))
    news_service.delete_news(current_staff(), item)
    db.session.commit()


def _news_action(item_id: int, action, **kwargs):
    item = news_service.get_news(item_id)
    check_if_match(etag_of("news", item))
    action(current_staff(), item, **kwargs)
    db.session.commit()
    return _reply("news", item)


@blp.post("/news/<int:item_id>/publish")
@staff_required(*EDITORS)
@blp.arguments(PublishInputSchema)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def publish_news(data, item_id):
    """Publish now, or schedule when publish_at lies ahead."""
    return _news_action(item_id, news_service.publish_news, **data)


@blp.post("/news/<int:item_id>/schedule")
@staff_required(*EDITORS)
@blp.arguments(ScheduleInputSchema)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def schedule_news(data, item_id):
    """Schedule for a future publish_at."""
    return _news_action(item_id, news_service.schedule_news, **data)


@blp.post("/news/<int:item_id>/unpublish")
@staff_required(*EDITORS)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def unpublish_news(item_id):
    """Withdraw back to draft."""
    return _news_action(item_id, news_service.unpublish_news)


@blp.post("/news/<int:item_id>/archive")
@staff_required(*EDITORS)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def archive_news(item_id):
    """Archive (no longer public, kept for the record)."""
    return _news_action(item_id, news_service.archive_news)


@blp.get("/news/<int:item_id>/preview")
@staff_required(*EDITORS)
@blp.arguments(PreviewQuerySchema, location="query")
@blp.response(200, NewsPublicSchema)
def preview_news(args, item_id):
    """How residents would see it in a language (with the German fallback)."""
    item = news_service.get_news(item_id)
    return present.public_news(item, args["lang"]), 200, {"Content-Language": args["lang"]}


# --- announcements -----------------------------------------------------------------------


@blp.get("/announcements")
@staff_required(*EDITORS)
@blp.arguments(StaffListQuerySchema, location="query")
@blp.response(200, AnnouncementStaffPageSchema)
def list_announcements(args):
    """All announcements in every status, recently changed first."""
    return page_response(_staff_list(Announcement, args), AnnouncementStaffSchema())


@blp.post("/announcements")
@staff_required(*EDITORS)
@blp.arguments(AnnouncementInputSchema)
@blp.response(201, AnnouncementStaffSchema)
def create_announcement(data):
    """Create an announcement draft (set supersedes_id to update an earlier one)."""
    item = announcement_service.create_announcement(current_staff(), **data)
    db.session.commit()
    location = url_for("content_staff.get_announcement", item_id=item.id)
    return item, 201, {"Location": location, "ETag": etag_of("announcement", item)}


@blp.get("/announcements/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(200, AnnouncementStaffSchema)
def get_announcement(item_id):
    """One announcement with all languages and its supersede links."""
    return _reply("announcement", announcement_service.get_announcement(item_id))


@blp.patch("/announcements/<int:item_id>")
@staff_required(*EDITORS)
@blp.arguments(AnnouncementUpdateSchema)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_announcement(data, item_id):
    """Change an announcement (If-Match)."""
    item = announcement_service.get_announcement(item_id)
    check_if_match(etag_of("announcement", item))
    announcement_service.update_announcement(current_staff(), item, **data)
    db.session.commit()
    return _reply("announcement", item)


@blp.delete("/announcements/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(204)
def delete_announcement(item_id):
    """Delete an announcement (prefer cancel for ones the public has seen)."""
    item = announcement_service.get_announcement(item_id)
    check_if_match(etag_of("announcement", item))
    announcement_service.delete_announcement(current_staff(), item)
    db.session.commit()


def _announcement_action(item_id: int, action, **kwargs):
    item = announcement_service.get_announcement(item_id)
    check_if_match(etag_of("announcement", item))
    action(current_staff(), item, **kwargs)
    db.session.commit()
    return _reply("announcement", item)


@blp.post("/announcements/<int:item_id>/publish")
@staff_required(*EDITORS)
@blp.arguments(PublishInputSchema)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def publish_announcement(data, item_id):
    """Publish now or schedule; a successor retires the announcement it supersedes."""
    if data.get("unpublish_at"):
        raise ValidationError(errors={"unpublish_at": ["Set it with PATCH."]})
    return _announcement_action(
        item_id, announcement_service.publish_announcement, publish_at=data.get("publish_at")
    )


@blp.post("/announcements/<int:item_id>/unpublish")
@staff_required(*EDITORS)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def unpublish_announcement(item_id):
    """Withdraw back to draft."""
    return _announcement_action(item_id, announcement_service.unpublish_announcement)


@blp.post("/announcements/<int:item_id>/archive")
@staff_required(*EDITORS)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def archive_announcement(item_id):
    """Archive an announcement."""
    return _announcement_action(item_id, announcement_service.archive_announcement)


@blp.post("/announcements/<int:item_id>/cancel")
@staff_required(*EDITORS)
@blp.arguments(CancelInputSchema)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def cancel_announcement(data, item_id):
    """Cancel before it expires (CAP msgType Cancel)."""
    return _announcement_action(item_id, announcement_service.cancel_announcement, **data)


@blp.get("/announcements/<int:item_id>/preview")
@staff_required(*EDITORS)
@blp.arguments(PreviewQuerySchema, location="query")
@blp.response(200, AnnouncementPublicSchema)
def preview_announcement(args, item_id):
    """How residents would see it in a language (with the German fallback)."""
    item = announcement_service.get_announcement(item_id)
    body = present.public_announcement(item, args["lang"])
    return body, 200, {"Content-Language": args["lang"]}
