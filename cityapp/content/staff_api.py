"""Staff content API: news and announcements (editor, admin)."""

from __future__ import annotations

from flask import url_for
from flask_smorest import Blueprint

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
from cityapp.content.service.listing import staff_list_query
from cityapp.db import db
from cityapp.errors import ValidationError
from cityapp.http.conditional import check_if_match, make_etag
from cityapp.http.pagination import page_response, paginate

blp = Blueprint(
    "content_staff", __name__, url_prefix="/api/v1/staff", description="Content for staff"
)
EDITORS = (Role.EDITOR, Role.ADMIN)


def etag_of(kind: str, item) -> str:
    return make_etag("staff", kind, item.id, item.updated_at)


def _reply(schema_kind: str, item, status: int = 200):
    return item, status, {"ETag": etag_of(schema_kind, item)}


def _staff_list(model, args):
    query, order = staff_list_query(
        model, status=args.get("status"), category=args.get("category"), q=args.get("q")
    )
    return paginate(db.session, query, order, limit=args["limit"], cursor=args["cursor"])


# --- news ----------------------------------------------------------------------------------


# Both kinds go through the same few steps; the views only say which kind and which service.
_LOOKUPS = {
    "news": (news_service.get_news, "content_staff.get_news"),
    "announcement": (announcement_service.get_announcement, "content_staff.get_announcement"),
}


def _load(kind: str, item_id: int):
    get, _endpoint = _LOOKUPS[kind]
    return get(item_id)


def _created(kind: str, item):
    """Commit a new draft; 201 with its Location and ETag."""
    db.session.commit()
    location = url_for(_LOOKUPS[kind][1], item_id=item.id)
    return item, 201, {"Location": location, "ETag": etag_of(kind, item)}


def _act(kind: str, item_id: int, action, **kwargs):
    """Load under If-Match, let the current staff member act on it, commit once."""
    item = _load(kind, item_id)
    check_if_match(etag_of(kind, item))
    action(current_staff(), item, **kwargs)
    db.session.commit()
    return item


def _preview(kind: str, item_id: int, language: str):
    body = present.PRESENTERS[kind](_load(kind, item_id), language)
    return body, 200, {"Content-Language": language}


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
    return _created("news", news_service.create_news(current_staff(), **data))


@blp.get("/news/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(200, NewsStaffSchema)
def get_news(item_id):
    """One news item with all languages."""
    return _reply("news", _load("news", item_id))


@blp.patch("/news/<int:item_id>")
@staff_required(*EDITORS)
@blp.arguments(NewsUpdateSchema)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_news(data, item_id):
    """Change a news item (If-Match)."""
    return _reply("news", _act("news", item_id, news_service.update_news, **data))


@blp.delete("/news/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(204)
def delete_news(item_id):
    """Delete a news item; apps learn it from a tombstone."""
    _act("news", item_id, news_service.delete_news)


@blp.post("/news/<int:item_id>/publish")
@staff_required(*EDITORS)
@blp.arguments(PublishInputSchema)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def publish_news(data, item_id):
    """Publish now, or schedule when publish_at lies ahead."""
    return _reply("news", _act("news", item_id, news_service.publish_news, **data))


@blp.post("/news/<int:item_id>/schedule")
@staff_required(*EDITORS)
@blp.arguments(ScheduleInputSchema)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def schedule_news(data, item_id):
    """Schedule for a future publish_at."""
    return _reply("news", _act("news", item_id, news_service.schedule_news, **data))


@blp.post("/news/<int:item_id>/unpublish")
@staff_required(*EDITORS)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def unpublish_news(item_id):
    """Withdraw back to draft."""
    return _reply("news", _act("news", item_id, news_service.unpublish_news))


@blp.post("/news/<int:item_id>/archive")
@staff_required(*EDITORS)
@blp.response(200, NewsStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def archive_news(item_id):
    """Archive (no longer public, kept for the record)."""
    return _reply("news", _act("news", item_id, news_service.archive_news))


@blp.get("/news/<int:item_id>/preview")
@staff_required(*EDITORS)
@blp.arguments(PreviewQuerySchema, location="query")
@blp.response(200, NewsPublicSchema)
def preview_news(args, item_id):
    """How residents would see it in a language (with the German fallback)."""
    return _preview("news", item_id, args["lang"])


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
    return _created("announcement", item)


@blp.get("/announcements/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(200, AnnouncementStaffSchema)
def get_announcement(item_id):
    """One announcement with all languages and its supersede links."""
    return _reply("announcement", _load("announcement", item_id))


@blp.patch("/announcements/<int:item_id>")
@staff_required(*EDITORS)
@blp.arguments(AnnouncementUpdateSchema)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_announcement(data, item_id):
    """Change an announcement (If-Match)."""
    item = _act("announcement", item_id, announcement_service.update_announcement, **data)
    return _reply("announcement", item)


@blp.delete("/announcements/<int:item_id>")
@staff_required(*EDITORS)
@blp.response(204)
def delete_announcement(item_id):
    """Delete an announcement (prefer cancel for ones the public has seen)."""
    _act("announcement", item_id, announcement_service.delete_announcement)


@blp.post("/announcements/<int:item_id>/publish")
@staff_required(*EDITORS)
@blp.arguments(PublishInputSchema)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def publish_announcement(data, item_id):
    """Publish now or schedule; a successor retires the announcement it supersedes."""
    if data.get("unpublish_at"):
        raise ValidationError(errors={"unpublish_at": ["Set it with PATCH."]})
    publish = announcement_service.publish_announcement
    item = _act("announcement", item_id, publish, publish_at=data.get("publish_at"))
    return _reply("announcement", item)


@blp.post("/announcements/<int:item_id>/unpublish")
@staff_required(*EDITORS)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def unpublish_announcement(item_id):
    """Withdraw back to draft."""
    item = _act("announcement", item_id, announcement_service.unpublish_announcement)
    return _reply("announcement", item)


@blp.post("/announcements/<int:item_id>/archive")
@staff_required(*EDITORS)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def archive_announcement(item_id):
    """Archive an announcement."""
    item = _act("announcement", item_id, announcement_service.archive_announcement)
    return _reply("announcement", item)


@blp.post("/announcements/<int:item_id>/cancel")
@staff_required(*EDITORS)
@blp.arguments(CancelInputSchema)
@blp.response(200, AnnouncementStaffSchema)
@blp.alt_response(409, description="Not possible from the current status.")
def cancel_announcement(data, item_id):
    """Cancel before it expires (CAP msgType Cancel)."""
    item = _act("announcement", item_id, announcement_service.cancel_announcement, **data)
    return _reply("announcement", item)


@blp.get("/announcements/<int:item_id>/preview")
@staff_required(*EDITORS)
@blp.arguments(PreviewQuerySchema, location="query")
@blp.response(200, AnnouncementPublicSchema)
def preview_announcement(args, item_id):
    """How residents would see it in a language (with the German fallback)."""
    return _preview("announcement", item_id, args["lang"])
