"""Public feeds under /feeds/: RSS 2.0 and Atom for news and announcements, CAP 1.2 alerts.
Every feed has a strong ETag from the content version key; 304s cost no rendering."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from cityapp.content import cap
from cityapp.content.models import Announcement
from cityapp.content.present import base_url
from cityapp.content.service import visibility
from cityapp.content.service.common import check_category, html_to_text
from cityapp.db import db, utcnow
from cityapp.errors import NotFound
from cityapp.http.conditional import if_none_match_hits, make_etag, not_modified
from cityapp.http.xml_output import xml_bytes
from cityapp.places import service as district_service

bp = Blueprint("feeds", __name__, url_prefix="/feeds")

ATOM = "http://www.w3.org/2005/Atom"
FEED_SIZE = 50
CACHE = "public, max-age=60"


def _feed_response(etag: str, mimetype: str, build: Callable[[], bytes]) -> Response:
    if if_none_match_hits(etag):
        return not_modified(etag, cache_control=CACHE)
    response = current_app.response_class(build(), mimetype=mimetype)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = CACHE
    return response


def _filters(kind: str, district_ref: str | None) -> visibility.Filters:
    filters = visibility.Filters()
    if district_ref:
        district = district_service.find_district(district_ref)
        if district is None:
            raise NotFound("Unknown district.")
        filters.district_id = district.id
    category = request.args.get("category")
    if category:
        filters.category = check_category(kind, category)
    if kind == "announcement":
        filters.channel = "app"
    return filters


def _entries(kind: str, now: datetime, filters: visibility.Filters) -> list:
    model = visibility.KINDS[kind]
    query = visibility.public_query(model, now, filters)
    order = [model.publish_at.desc(), model.id.desc()]
    return list(db.session.scalars(query.order_by(*order).limit(FEED_SIZE)))


def _texts(kind: str, item) -> dict[str, str]:
    title = item.title.get("de", "")
    body = item.body.get("de", "")
    summary = (item.summary or {}).get("de") if kind == "news" else None
    return {
        "title": (f"[{item.level}] " if kind == "announcement" else "") + title,
        "summary": summary or html_to_text(body)[:400],
        "body": body,
        "link": f"{base_url()}/api/v1/{'news' if kind == 'news' else 'announcements'}/{item.id}",
        "guid": f"{base_url()}/{kind}/{item.id}",
        "category": item.category,
    }


def _title(kind: str) -> str:
    name = current_app.config["CITYAPP_NAME"]
    return f"{name}: {'Nachrichten' if kind == 'news' else 'Bekanntmachungen'}"


def _rss(kind: str, items: list, now: datetime) -> bytes:
    ET.register_namespace("atom", ATOM)
    rss = ET.Element("rss", version="2.0")
    channel = ET.SubElement(rss, "channel")
    ET.SubElement(channel, "title").text = _title(kind)
    ET.SubElement(channel, "link").text = base_url()
    ET.SubElement(channel, "description").text = _title(kind)
    ET.SubElement(channel, "language").text = "de"
    ET.SubElement(channel, "lastBuildDate").text = format_datetime(now.astimezone(UTC))
    ET.SubElement(
        channel, f"{{{ATOM}}}link", href=request.url, rel="self", type="application/rss+xml"
    )
    for item in items:
        texts = _texts(kind, item)
        entry = ET.SubElement(channel, "item")
        ET.SubElement(entry, "title").text = texts["title"]
        ET.SubElement(entry, "link").text = texts["link"]
        ET.SubElement(entry, "description").text = texts["body"]
        ET.SubElement(entry, "category").text = texts["category"]
        ET.SubElement(entry, "guid", isPermaLink="false").text = texts["guid"]
        ET.SubElement(entry, "pubDate").text = format_datetime(item.publish_at.astimezone(UTC))
    return xml_bytes(rss)


def _atom_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _atom(kind: str, items: list, now: datetime) -> bytes:
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            element.text = text
        return element

    feed = ET.Element(f"{{{ATOM}}}feed", {"xml:lang": "de"})
    sub(feed, "id", f"{base_url()}/feeds/{kind}")
    sub(feed, "title", _title(kind))
    updated = max([i.updated_at for i in items], default=now)
    sub(feed, "updated", _atom_time(updated))
    sub(feed, "link", href=request.url, rel="self", type="application/atom+xml")
    author = sub(feed, "author")
    sub(author, "name", current_app.config["CITYAPP_NAME"])
    for item in items:
        texts = _texts(kind, item)
        entry = sub(feed, "entry")
        sub(entry, "id", texts["guid"])
        sub(entry, "title", texts["title"])
        sub(entry, "updated", _atom_time(item.updated_at))
        sub(entry, "published", _atom_time(item.publish_at))
        sub(entry, "link", href=texts["link"], rel="alternate")
        sub(entry, "category", term=texts["category"])
        sub(entry, "summary", texts["summary"])
        sub(entry, "content", texts["body"], type="html")
    return xml_bytes(feed)


def _feed(kind: str, fmt: str, district_ref: str | None = None) -> Response:
    now = utcnow()
    district_ref = district_ref or request.args.get("district")
    filters = _filters(kind, district_ref)
    key = visibility.version_key(kind, now)
    etag = make_etag("feed", kind, fmt, key, district_ref, sorted(request.args.items()))
    render = _rss if fmt == "rss" else _atom
    mimetype = "application/rss+xml" if fmt == "rss" else "application/atom+xml"
    return _feed_response(etag, mimetype, lambda: render(kind, _entries(kind, now, filters), now))


@bp.get("/news.rss")
def news_rss():
    """News as RSS 2.0 (?district=, ?category=)."""
    return _feed("news", "rss")


@bp.get("/news.atom")
def news_atom():
    """News as Atom (?district=, ?category=)."""
    return _feed("news", "atom")


@bp.get("/districts/<ref>/news.rss")
def district_news_rss(ref: str):
    """News for one district (and municipality-wide news) as RSS 2.0."""
    return _district_feed(ref, "rss")


@bp.get("/districts/<ref>/news.atom")
def district_news_atom(ref: str):
    """News for one district (and municipality-wide news) as Atom."""
    return _district_feed(ref, "atom")


def _district_feed(ref: str, fmt: str) -> Response:
    return _feed("news", fmt, district_ref=ref)


@bp.get("/announcements.rss")
def announcements_rss():
    """Current announcements (app channel) as RSS 2.0."""
    return _feed("announcement", "rss")


@bp.get("/announcements.atom")
def announcements_atom():
    """Current announcements (app channel) as Atom."""
    return _feed("announcement", "atom")


# --- CAP -----------------------------------------------------------------------------------


@bp.get("/cap.atom")
def cap_index():
    """Atom index of current CAP 1.2 alerts (warnings, emergencies, recent cancels)."""
    now = utcnow()
    etag = make_etag("cap-index", visibility.version_key("announcement", now))

    def build() -> bytes:
        ET.register_namespace("", ATOM)
        feed = ET.Element(f"{{{ATOM}}}feed")
        ET.SubElement(feed, f"{{{ATOM}}}id").text = f"{base_url()}/feeds/cap"
        ET.SubElement(
            feed, f"{{{ATOM}}}title"
        ).text = f"{current_app.config['CITYAPP_NAME']}: Warnungen (CAP 1.2)"
        ET.SubElement(feed, f"{{{ATOM}}}updated").text = _atom_time(now)
        ET.SubElement(feed, f"{{{ATOM}}}link", href=request.url, rel="self")
        author = ET.SubElement(feed, f"{{{ATOM}}}author")
        ET.SubElement(author, f"{{{ATOM}}}name").text = current_app.config["CITYAPP_NAME"]
        for item, is_cancel in cap.cap_items(now):
            entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
            ET.SubElement(entry, f"{{{ATOM}}}id").text = cap.identifier(item, is_cancel)
            ET.SubElement(entry, f"{{{ATOM}}}title").text = item.title["de"]
            ET.SubElement(entry, f"{{{ATOM}}}updated").text = _atom_time(item.updated_at)
            href = f"{base_url()}/feeds/cap/{item.id}.xml"
            ET.SubElement(
                entry,
                f"{{{ATOM}}}link",
                href=href,
                rel="alternate",
                type="application/cap+xml",
            )
        return xml_bytes(feed)

    return _feed_response(etag, "application/atom+xml", build)


@bp.get("/cap/<int:item_id>.xml")
def cap_alert(item_id: int):
    """One CAP 1.2 alert: Alert, Update (supersedes an earlier one) or Cancel."""
    now = utcnow()
    items = {item.id: is_cancel for item, is_cancel in cap.cap_items(now)}
    if item_id not in items:
        raise NotFound("No current warning with this id.")
    item = db.session.scalar(select(Announcement).where(Announcement.id == item_id))
    etag = make_etag("cap", item.id, item.updated_at, items[item_id])
    return _feed_response(
        etag, "application/cap+xml", lambda: cap.build_alert(item, cancel=items[item_id])
    )
