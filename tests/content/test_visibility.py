"""Visibility decided at query time: windows (incl. DST nights), late jobs, targeting,
channels, supersession; the job that flips statuses and its signals."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from cityapp.auth.service.actors import CLI
from cityapp.content.models import Announcement, ContentStatus, ContentTombstone, NewsItem
from cityapp.content.service import announcements, news, visibility
from cityapp.db import db, utcnow
from cityapp.signals import content_changed
from tests.content.conftest import announcement_data, at, news_data

SECOND = timedelta(seconds=1)


def _visible_ids(model, now, **filters):
    query = visibility.public_query(model, now, visibility.Filters(**filters))
    return set(db.session.scalars(query.with_only_columns(model.id)))


def _scheduled_news(publish_at, unpublish_at=None, **kw):
    item = news.create_news(CLI, **news_data(unpublish_at=unpublish_at, **kw))
    item.publish_at = publish_at
    item.status = ContentStatus.SCHEDULED  # as if scheduled long ago
    db.session.flush()
    return item


def test_window_boundaries_are_exact(ctx):
    start, end = at("2026-06-01T08:00:00+02:00"), at("2026-06-03T18:00:00+02:00")
    item = _scheduled_news(start, end)
    assert item.id not in _visible_ids(NewsItem, start - SECOND)
    assert item.id in _visible_ids(NewsItem, start)
    assert item.id in _visible_ids(NewsItem, end - SECOND)
    assert item.id not in _visible_ids(NewsItem, end)
    assert visibility.get_public(NewsItem, item.id, end) is None


def test_spring_forward_night(ctx):
    # 2026-03-29: Berlin clocks jump from 02:00 CET to 03:00 CEST. From 01:30 to 03:30 on
    # the wall clock is one real hour, 00:30 to 01:30 UTC.
    berlin = ZoneInfo("Europe/Berlin")
    publish = datetime(2026, 3, 29, 1, 30, tzinfo=berlin)
    expire = datetime(2026, 3, 29, 3, 30, tzinfo=berlin)
    item = _scheduled_news(publish, expire)
    db.session.expire(item)
    assert item.unpublish_at - item.publish_at == timedelta(hours=1)
    assert item.id not in _visible_ids(NewsItem, at("2026-03-29T00:29:59+00:00"))
    assert item.id in _visible_ids(NewsItem, at("2026-03-29T00:30:00+00:00"))
    assert item.id in _visible_ids(NewsItem, at("2026-03-29T01:29:59+00:00"))
    assert item.id not in _visible_ids(NewsItem, at("2026-03-29T01:30:00+00:00"))


def test_fall_back_night_keeps_both_0230s_apart(ctx):
    # 2026-10-25: 02:30 happens twice in Berlin (+02:00, then +01:00), an hour apart.
    first = _scheduled_news(at("2026-10-25T02:30:00+02:00"))
    second = _scheduled_news(at("2026-10-25T02:30:00+01:00"))
    halfway = at("2026-10-25T01:00:00+00:00")
    visible = _visible_ids(NewsItem, halfway)
    assert first.id in visible and second.id not in visible
    assert second.id in _visible_ids(NewsItem, at("2026-10-25T01:30:00+00:00"))


def test_late_job_never_leaks_expired_content(ctx):
    now = utcnow()
    expired = news.create_news(CLI, **news_data())
    news.publish_news(CLI, expired, publish_at=now - timedelta(hours=2))
    expired.unpublish_at = now - timedelta(minutes=1)  # status still "published": job is late
    due = _scheduled_news(now - timedelta(minutes=1))  # status still "scheduled"
    db.session.flush()
    visible = _visible_ids(NewsItem, now)
    assert expired.status == ContentStatus.PUBLISHED and expired.id not in visible
    assert due.status == ContentStatus.SCHEDULED and due.id in visible


def test_district_targeting(ctx, districts):
    everywhere = news.create_news(CLI, **news_data())
    altstadt = news.create_news(CLI, **news_data(district_ids=[districts["altstadt"]]))
    oberdorf = news.create_news(CLI, **news_data(district_ids=[districts["oberdorf"]]))
    for item in (everywhere, altstadt, oberdorf):
        news.publish_news(CLI, item)
    now = utcnow()
    assert _visible_ids(NewsItem, now, district_id=districts["altstadt"]) == {
        everywhere.id,
        altstadt.id,
    }
    assert _visible_ids(NewsItem, now) == {everywhere.id, altstadt.id, oberdorf.id}
    assert _visible_ids(NewsItem, now, district_id=-1) == {everywhere.id}


def test_announcement_window_channels_and_level(ctx):
    now = utcnow()
    warning = announcements.create_announcement(
        CLI,
        **announcement_data(
            level="warning",
            channels=["stele"],
            valid_from=now - timedelta(hours=1),
            valid_until=now + timedelta(hours=1),
        ),
    )
    info = announcements.create_announcement(CLI, **announcement_data(channels=["app", "push"]))
    for item in (warning, info):
        announcements.publish_announcement(CLI, item)
    now = utcnow()
    assert _visible_ids(Announcement, now, channel="app") == {info.id}
    assert _visible_ids(Announcement, now, channel="stele") == {warning.id}
    assert _visible_ids(Announcement, now, level="warning") == {warning.id}
    assert warning.id not in _visible_ids(Announcement, now + timedelta(hours=1), channel="stele")


def test_supersede_chain_and_cancel(ctx):
    now = utcnow()
    window = {"valid_from": now, "valid_until": now + timedelta(days=1)}
    first = announcements.create_announcement(CLI, **announcement_data(level="warning", **window))
    announcements.publish_announcement(CLI, first)
    now = utcnow()
    second = announcements.create_announcement(
        CLI, **announcement_data(level="warning", supersedes_id=first.id, **window)
    )
    # A scheduled update does not hide the original before its time.
    announcements.publish_announcement(CLI, second, publish_at=now + timedelta(hours=1))
    assert _visible_ids(Announcement, now) == {first.id}
    assert _visible_ids(Announcement, now + timedelta(hours=1)) == {second.id}
    third = announcements.create_announcement(
        CLI, **announcement_data(level="warning", supersedes_id=second.id, **window)
    )
    assert third.supersedes.supersedes is first
    announcements.cancel_announcement(CLI, first, reason="Entwarnung")
    assert first.cancelled_at is not None


def test_job_flips_statuses_writes_tombstones_and_signals_after_commit(app, ctx):
    from cityapp.content.jobs import flip_content_statuses

    now = utcnow()
    due = _scheduled_news(now - timedelta(minutes=5))
    gone = news.create_news(CLI, **news_data())
    news.publish_news(CLI, gone, publish_at=now - timedelta(hours=1))
    gone.unpublish_at = now - SECOND
    old = announcements.create_announcement(
        CLI, **announcement_data(valid_until=now + timedelta(hours=1))
    )
    announcements.publish_announcement(CLI, old)
    old.valid_until = now - SECOND
    db.session.commit()

    received = []

    def listener(sender, **kw):
        received.append((sender, kw["item_id"], kw["action"]))

    with content_changed.connected_to(listener):
        counts = flip_content_statuses()
        assert received == []  # nothing before the commit
        db.session.commit()
    assert counts["news_published"] == 1 and counts["news_expired"] == 1
    assert counts["announcements_expired"] == 1
    assert due.status == "published" and gone.status == "archived" and old.status == "archived"
    assert ("news", due.id, "publish") in received
    assert ("news", gone.id, "expire") in received
    assert ("announcement", old.id, "expire") in received
    stones = set(db.session.execute(select(ContentTombstone.kind, ContentTombstone.item_id)))
    assert {("news", gone.id), ("announcement", old.id)} <= stones


def test_signals_are_dropped_on_rollback(ctx):
    received = []
    with content_changed.connected_to(lambda sender, **kw: received.append(kw)):
        item = news.create_news(CLI, **news_data())
        news.publish_news(CLI, item)
        db.session.rollback()
        db.session.commit()
    assert received == []


def test_version_key_changes_when_time_crosses_a_boundary(ctx):
    now = utcnow()
    item = _scheduled_news(now + timedelta(hours=1), now + timedelta(hours=2))
    db.session.flush()
    before = visibility.version_key("news", now)
    assert visibility.version_key("news", now + timedelta(minutes=30)) == before
    went_live = visibility.version_key("news", now + timedelta(hours=1))
    assert went_live != before
    expired = visibility.version_key("news", now + timedelta(hours=2))
    assert expired not in (before, went_live)
    assert item.id
