"""The lifecycle news and announcements share (content/service/lifecycle.py), through the
services: one visibility rule for the listing and the lifecycle, tombstones on leaving the
public, one category check."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from cityapp.auth.service.actors import CLI
from cityapp.content.models import ContentStatus, ContentTombstone
from cityapp.content.service import announcements, common, lifecycle, news, visibility
from cityapp.db import db, utcnow
from cityapp.errors import ValidationError
from tests.content.conftest import announcement_data, news_data

SECOND = timedelta(seconds=1)


def _tombstones(item) -> list[str]:
    kind = lifecycle.kind_of(item)
    query = select(ContentTombstone.reason).where(
        ContentTombstone.kind == kind, ContentTombstone.item_id == item.id
    )
    return list(db.session.scalars(query))


def _listed(item, now) -> bool:
    model = type(item)
    return visibility.get_public(model, item.id, now) is not None


@pytest.mark.parametrize("kind", ["news", "announcement"])
def test_lifecycle_and_listing_agree_on_visibility(ctx, kind):
    now = utcnow()
    if kind == "news":
        item = news.create_news(CLI, **news_data(unpublish_at=now + timedelta(hours=2)))
        news.publish_news(CLI, item, publish_at=now + timedelta(hours=1))
    else:
        item = announcements.create_announcement(
            CLI, **announcement_data(unpublish_at=now + timedelta(hours=2))
        )
        announcements.publish_announcement(CLI, item, publish_at=now + timedelta(hours=1))
    assert item.status == ContentStatus.SCHEDULED
    for moment in (now, now + timedelta(hours=1), now + timedelta(hours=2) - SECOND):
        assert lifecycle.is_visible(item, moment) == _listed(item, moment)
    assert not lifecycle.is_visible(item, now)
    assert lifecycle.is_visible(item, now + timedelta(hours=1))
    assert not lifecycle.is_visible(item, now + timedelta(hours=2))


def test_superseded_announcement_is_invisible_to_both(ctx):
    old = announcements.create_announcement(CLI, **announcement_data())
    announcements.publish_announcement(CLI, old)
    new = announcements.create_announcement(CLI, **announcement_data(supersedes_id=old.id))
    announcements.publish_announcement(CLI, new)
    now = utcnow()
    assert old.status == ContentStatus.ARCHIVED
    assert not lifecycle.is_visible(old, now) and not _listed(old, now)
    assert lifecycle.is_visible(new, now) and _listed(new, now)
    assert _tombstones(old) == ["supersede"]


@pytest.mark.parametrize("kind", ["news", "announcement"])
def test_unpublish_and_archive_leave_a_tombstone_only_when_the_public_saw_it(ctx, kind):
    data = news_data() if kind == "news" else announcement_data()
    create = news.create_news if kind == "news" else announcements.create_announcement
    publish = news.publish_news if kind == "news" else announcements.publish_announcement
    unpublish = news.unpublish_news if kind == "news" else announcements.unpublish_announcement
    archive = news.archive_news if kind == "news" else announcements.archive_announcement

    seen = create(CLI, **data)
    publish(CLI, seen)
    unpublish(CLI, seen)
    assert seen.status == ContentStatus.DRAFT
    assert _tombstones(seen) == ["unpublish"]

    ahead = create(CLI, **data)
    publish(CLI, ahead, publish_at=utcnow() + timedelta(days=1))
    archive(CLI, ahead)
    assert ahead.status == ContentStatus.ARCHIVED
    assert _tombstones(ahead) == []


@pytest.mark.parametrize("kind", ["news", "announcement"])
def test_delete_writes_a_tombstone_for_public_items_only(ctx, kind):
    create = news.create_news if kind == "news" else announcements.create_announcement
    publish = news.publish_news if kind == "news" else announcements.publish_announcement
    delete = news.delete_news if kind == "news" else announcements.delete_announcement
    data = news_data() if kind == "news" else announcement_data()
    draft, public = create(CLI, **data), create(CLI, **data)
    publish(CLI, public)
    draft_id, public_id = draft.id, public.id
    delete(CLI, draft)
    delete(CLI, public)
    rows = set(db.session.execute(select(ContentTombstone.kind, ContentTombstone.item_id)))
    assert (kind, public_id) in rows
    assert (kind, draft_id) not in rows


def test_one_category_check_for_editors_and_filters(ctx):
    with pytest.raises(ValidationError) as editor:
        news.create_news(CLI, **news_data(category="gibt-es-nicht"))
    with pytest.raises(ValidationError) as public_filter:
        common.check_category("news", "gibt-es-nicht")
    assert editor.value.errors == public_filter.value.errors
    assert "road_closure" in common.known_categories("announcement")
    assert common.check_category("announcement", "road_closure") == "road_closure"
