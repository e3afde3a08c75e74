"""Public content API (no auth): news and announcements; ETags, delta sync."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import jsonify, request
from flask_smorest import Blueprint
from sqlalchemy.orm import selectinload

from cityapp.content import present
from cityapp.content.schemas import (
    AnnouncementPublicPageSchema,
    AnnouncementPublicQuerySchema,
    AnnouncementPublicSchema,
    NewsPublicPageSchema,
    NewsPublicSchema,
    PublicQuerySchema,
)
from cityapp.content.service import visibility
from cityapp.content.service.common import check_category
from cityapp.db import db, read_without_transaction, utcnow
from cityapp.errors import NotFound, ValidationError
from cityapp.http.conditional import conditional_json, make_etag
from cityapp.http.languages import negotiate_language
from cityapp.http.pagination import paginate
from cityapp.places import service as district_service

blp = Blueprint("content", __name__, url_prefix="/api/v1", description="News and announcements")


def _filters(kind: str, args: dict[str, Any]) -> visibility.Filters:
    """Turn query arguments into filters; unknown districts and categories are 422."""
    filters = visibility.Filters(q=args.get("q"), channel=args.get("channel"))
    category = args.get("category")
    if category:
        filters.category = check_category(kind, category)
    if args.get("level"):
        filters.level = args["level"]
    if args.get("district"):
        district = district_service.find_district(args["district"])
        if district is None:
            raise ValidationError(errors={"district": ["Unknown district."]})
        filters.district_id = district.id
    if ("lat" in args) != ("lon" in args):
        raise ValidationError(errors={"lat" if "lat" not in args else "lon": ["Give both."]})
    if "lat" in args:
        district = district_service.find_district_at(args["lat"], args["lon"])
        # Inside the municipality but in no district: municipality-wide items only.
        filters.district_id = district.id if district else -1
    return filters


def _vary(response):
    response.vary.add("Accept-Language")
    return response


def public_list(kind: str, args: dict[str, Any]):
    """List visible items newest first; 304 from the version key before any item is loaded."""
    read_without_transaction()
    now = utcnow()
    model = visibility.KINDS[kind]
    language = negotiate_language()
    filters = _filters(kind, args)
    since = args.get("updated_since")
    if since is not None:
        visibility.check_since(since, now)
    key = visibility.version_key(kind, now)
    etag = make_etag("list", kind, key, sorted((k, str(v)) for k, v in args.items()), language)

    def build():
        # Districts of the whole page in one query, not one lazy load per item.
        query = visibility.public_query(model, now, filters).options(selectinload(model.districts))
        if since is not None:
            query = query.where(visibility.changed_since(model, since, now))
        page = paginate(
            db.session,
            query,
            visibility.listing_order(model),
            limit=args["limit"],
            cursor=args["cursor"],
        )
        schema = NewsPublicSchema() if kind == "news" else AnnouncementPublicSchema()
        body: dict[str, Any] = {
            "items": schema.dump(present.present_page(kind, page.items, language), many=True),
            "next_cursor": page.next_cursor,
        }
        if since is not None:
            point = visibility.sync_point(key, since)
            body["server_time"] = point.isoformat().replace("+00:00", "Z")
            if not args["cursor"]:
                ids = visibility.tombstone_ids(kind, since, now, filters)
                body["tombstones"] = [{"id": i, "deleted": True} for i in ids]
        response = jsonify(body)
        if page.next_cursor:
            query_args = request.args.to_dict(flat=False)
            query_args["cursor"] = [page.next_cursor]
            next_url = request.base_url + "?" + urlencode(query_args, doseq=True)
            response.headers["Link"] = f'<{next_url}>; rel="next"'
        return response

    return _vary(conditional_json(etag, build))


def public_detail(kind: str, item_id: int):
    read_without_transaction()
    now = utcnow()
    model = visibility.KINDS[kind]
    language = negotiate_language()
    item = visibility.get_public(model, item_id, now)
    if item is None:
        raise NotFound(f"No published {kind} {item_id}.")
    etag = make_etag(
        kind, item.id, item.updated_at, [(d.id, d.updated_at) for d in item.districts], language
    )
    schema = NewsPublicSchema() if kind == "news" else AnnouncementPublicSchema()
    presenter = present.PRESENTERS[kind]
    return _vary(conditional_json(etag, lambda: schema.dump(presenter(item, language))))


# --- news --------------------------------------------------------------------------------


@blp.get("/news")
# Schema instances, not classes: webargs would build a new schema on every request, which is a
# noticeable part of a 304's cost (docs/performance.md).
@blp.arguments(PublicQuerySchema(), location="query")
@blp.response(200, NewsPublicPageSchema)
@blp.alt_response(304, description="Not modified (If-None-Match).")
@blp.alt_response(410, description="updated_since older than the tombstone retention.")
def list_news(args):
    """Published news, newest first (pinned on top); filters, search, delta sync."""
    return public_list("news", args)


@blp.get("/news/<int:item_id>")
@blp.response(200, NewsPublicSchema)
@blp.alt_response(304, description="Not modified (If-None-Match).")
def get_news(item_id):
    """One published news item in the negotiated language."""
    return public_detail("news", item_id)


# --- announcements -----------------------------------------------------------------------


@blp.get("/announcements")
@blp.arguments(AnnouncementPublicQuerySchema(), location="query")
@blp.response(200, AnnouncementPublicPageSchema)
@blp.alt_response(304, description="Not modified (If-None-Match).")
@blp.alt_response(410, description="updated_since older than the tombstone retention.")
def list_announcements(args):
    """Current announcements for a channel (default app), newest first; delta sync."""
    return public_list("announcement", args)


@blp.get("/announcements/<int:item_id>")
@blp.response(200, AnnouncementPublicSchema)
@blp.alt_response(304, description="Not modified (If-None-Match).")
def get_announcement(item_id):
    """One current announcement in the negotiated language."""
    return public_detail("announcement", item_id)
