"""What the public sees, decided at query time: status, window, supersession, district and
channel; full-text search; the cheap version key behind list ETags; delta sync."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    bindparam,
    column,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    text,
    union,
)
from sqlalchemy.orm import aliased

from cityapp.content.models import (
    Announcement,
    ContentStatus,
    ContentTombstone,
    NewsItem,
    announcement_districts,
    news_item_districts,
)
from cityapp.db import db
from cityapp.errors import Gone, ValidationError
from cityapp.places.models import District

LIVE = (ContentStatus.SCHEDULED, ContentStatus.PUBLISHED)
KINDS = {"news": NewsItem, "announcement": Announcement}
_LINKS = {
    NewsItem: (news_item_districts, news_item_districts.c.news_item_id),
    Announcement: (announcement_districts, announcement_districts.c.announcement_id),
}
_CHANNEL_COLUMNS = {
    "app": Announcement.is_for_app,
    "stele": Announcement.is_for_stele,
    "push": Announcement.is_for_push,
}


# --- visibility ------------------------------------------------------------------------


def _successor_live(now: datetime) -> ColumnElement[bool]:
    successor = aliased(Announcement)
    return exists().where(
        successor.supersedes_id == Announcement.id,
        successor.status != ContentStatus.DRAFT,
        successor.publish_at <= now,
    )


def visible(model: type, now: datetime) -> ColumnElement[bool]:
    """The item is public at ``now`` (whatever the status-flipping job has done so far)."""
    conditions = [
        model.status.in_(LIVE),
        model.publish_at <= now,
        or_(model.unpublish_at.is_(None), model.unpublish_at > now),
    ]
    if model is Announcement:
        conditions += [
            Announcement.cancelled_at.is_(None),
            or_(Announcement.valid_until.is_(None), Announcement.valid_until > now),
            not_(_successor_live(now)),
        ]
    return and_(*conditions)


def was_public(model: type, now: datetime) -> ColumnElement[bool]:
    return or_(
        model.first_published_at.is_not(None),
        and_(model.status.in_(LIVE), model.publish_at <= now),
    )


def in_district(model: type, district_id: int) -> ColumnElement[bool]:
    """Aimed at the district, or at the whole municipality (no districts)."""
    link, item_column = _LINKS[model]
    return or_(
        not_(exists().where(item_column == model.id)),
        exists().where(item_column == model.id, link.c.district_id == district_id),
    )


def on_channel(channel: str) -> ColumnElement[bool]:
    return _CHANNEL_COLUMNS[channel].is_(True)


# --- full-text search ------------------------------------------------------------------

_FTS_TABLES = {NewsItem: "news_items_fts", Announcement: "announcements_fts"}
_WORD_RE = re.compile(r"\w+", re.UNICODE)


def matches_text(model: type, q: str) -> ColumnElement[bool]:
    """Full-text match on the database's own index (FTS5 on SQLite, tsvector on PostgreSQL)."""
    words = _WORD_RE.findall(q)[:12]
    if not words:
        raise ValidationError(errors={"q": ["Search for at least one word."]})
    if db.engine.dialect.name == "postgresql":
        config = literal_column("'german'::regconfig")
        vector = func.to_tsvector(config, model.search_text)
        return vector.op("@@")(func.websearch_to_tsquery(config, q))
    table = _FTS_TABLES[model]
    # Every word must occur; the last one may be a prefix ("Baust" finds "Baustelle").
    expression = " ".join(f'"{w}"' for w in words[:-1]) + f' "{words[-1]}"*'
    matching = text(f"SELECT rowid FROM {table} WHERE {table} MATCH :fts_query")  # noqa: S608
    matching = matching.bindparams(fts_query=expression.strip()).columns(column("rowid", Integer))
    return model.id.in_(matching)


# --- filters ---------------------------------------------------------------------------


@dataclass
class Filters:
    category: str | None = None
    district_id: int | None = None
    channel: str | None = None
    level: str | None = None
    q: str | None = None
    extra: list[Any] = field(default_factory=list)

    def conditions(self, model: type) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = list(self.extra)
        if self.category:
            conditions.append(model.category == self.category)
        if self.district_id is not None:
            conditions.append(in_district(model, self.district_id))
        if self.channel and model is Announcement:
            conditions.append(on_channel(self.channel))
        if self.level and model is Announcement:
            conditions.append(Announcement.level == self.level)
        if self.q:
            conditions.append(matches_text(model, self.q))
        return conditions


def public_query(model: type, now: datetime, filters: Filters) -> Select:
    return select(model).where(visible(model, now), *filters.conditions(model))


def listing_order(model: type) -> list[tuple[Any, str]]:
    """Newest first; pinned news stay on top."""
    order = [(model.publish_at, "desc"), (model.id, "desc")]
    if model is NewsItem:
        order.insert(0, (NewsItem.is_pinned, "desc"))
    return order


def get_public(model: type, item_id: int, now: datetime) -> Any | None:
    return db.session.scalar(select(model).where(model.id == item_id, visible(model, now)))


# --- version key -------------------------------------------------------------------------


def _boundary_columns(model: type) -> list[Any]:
    columns = [model.publish_at, model.unpublish_at]
    if model is Announcement:
        columns.append(Announcement.valid_until)
    return columns


@functools.cache
def _version_statement(kind: str) -> Select:
    """Built once per kind (plain Core on the tables, ``now`` a bound parameter): building
    and ORM-compiling the nine subqueries per request cost more than running them."""
    table = KINDS[kind].__table__
    now = bindparam("now")
    parts = [select(func.max(table.c.updated_at)).scalar_subquery()]
    for boundary in _boundary_columns(KINDS[kind]):
        column_ = table.c[boundary.key]
        parts.append(select(func.max(column_)).where(column_ <= now).scalar_subquery())
    tombstones = ContentTombstone.__table__
    of_kind = tombstones.c.kind == kind
    parts.append(select(func.max(tombstones.c.id)).where(of_kind).scalar_subquery())
    parts.append(select(func.max(tombstones.c.created_at)).where(of_kind).scalar_subquery())
    districts = District.__table__
    parts.append(select(func.max(districts.c.updated_at)).scalar_subquery())
    parts.append(select(func.count(districts.c.id)).scalar_subquery())
    return select(*parts)


def version_key(kind: str, now: datetime) -> tuple:
    """Changes whenever the public result of any query on ``kind`` may have changed: an edit
    (max updated_at), a removal (newest tombstone), a district rename, or time crossing a
    publish/expiry boundary (the latest boundary already passed). All index lookups."""
    return tuple(db.session.execute(_version_statement(kind), {"now": now}).one())


# --- delta sync --------------------------------------------------------------------------


def _between(col: Any, since: datetime, now: datetime) -> ColumnElement[bool]:
    return and_(col > since, col <= now)


def changed_since(model: type, since: datetime, now: datetime) -> ColumnElement[bool]:
    """Edited since, or crossed a time boundary since (went live, expired, was superseded).

    Spelled as ``id IN (a UNION of index range scans)`` rather than one OR: both planners
    then collect the few changed rows by index instead of scanning the whole listing.
    """
    parts = [select(model.id).where(model.updated_at > since)]
    parts += [select(model.id).where(_between(col, since, now)) for col in _boundary_columns(model)]
    if model is Announcement:
        successor = aliased(Announcement)
        parts.append(
            select(successor.supersedes_id).where(
                successor.supersedes_id.is_not(None),
                successor.status != ContentStatus.DRAFT,
                _between(successor.publish_at, since, now),
            )
        )
    return model.id.in_(union(*parts))


def check_since(since: datetime, now: datetime) -> None:
    if since > now + timedelta(minutes=5):
        raise ValidationError(errors={"updated_since": ["Lies in the future."]})
    retention = timedelta(days=current_app.config["CITYAPP_TOMBSTONE_RETENTION_DAYS"])
    if since < now - retention:
        raise Gone(
            "Changes are kept for a limited time only; download the full list again.",
            errors={"updated_since": ["Too old for a delta; do a full sync."]},
        )


def tombstone_ids(kind: str, since: datetime, now: datetime, filters: Filters) -> list[int]:
    """Items that left this (filtered) view since ``since``: removed ones (tombstone table)
    and ones that changed or crossed a boundary and no longer match."""
    model = KINDS[kind]
    still_visible = and_(visible(model, now), *filters.conditions(model))
    left = select(model.id).where(
        changed_since(model, since, now), was_public(model, now), not_(still_visible)
    )
    removed = select(ContentTombstone.item_id).where(
        ContentTombstone.kind == kind, ContentTombstone.created_at > since
    )
    ids = set(db.session.scalars(left)) | set(db.session.scalars(removed))
    if ids:
        back = db.session.scalars(select(model.id).where(model.id.in_(ids), still_visible))
        ids -= set(back)
    return sorted(ids, reverse=True)


def sync_point(key: tuple, since: datetime) -> datetime:
    """The newest change reflected in a version key: the next updated_since to use."""
    return max([since, *(part for part in key if isinstance(part, datetime))])
