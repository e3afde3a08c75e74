"""Content test helpers: create news and announcements through the services."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow


def at(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def news_data(**overrides: Any) -> dict:
    data = {
        "title": {"de": "Hauptstraße wird saniert", "en": "Main street gets renovated"},
        "summary": {"de": "Bauarbeiten ab Montag"},
        "body": {"de": "<p>Ab Montag wird die <strong>Hauptstraße</strong> saniert.</p>"},
        "category": "verkehr",
    }
    data.update(overrides)
    return data


def announcement_data(**overrides: Any) -> dict:
    data = {
        "title": {"de": "Vollsperrung Brückenstraße"},
        "body": {"de": "<p>Die Brückenstraße ist gesperrt.</p>"},
        "category": "road_closure",
        "level": "notice",
    }
    data.update(overrides)
    return data


@pytest.fixture
def make_news(app):
    """Create a news item via the service; publish it unless status="draft"."""
    from cityapp.content.service import news

    def factory(status: str = "published", publish_at: datetime | None = None, **kw: Any) -> int:
        with app.app_context():
            item = news.create_news(CLI, **news_data(**kw))
            if status != "draft":
                news.publish_news(
                    CLI, item, publish_at=publish_at or utcnow() - timedelta(seconds=1)
                )
            db.session.commit()
            return item.id

    return factory


@pytest.fixture
def make_announcement(app):
    from cityapp.content.service import announcements

    def factory(status: str = "published", publish_at: datetime | None = None, **kw: Any) -> int:
        with app.app_context():
            item = announcements.create_announcement(CLI, **announcement_data(**kw))
            if status != "draft":
                announcements.publish_announcement(
                    CLI, item, publish_at=publish_at or utcnow() - timedelta(seconds=1)
                )
            db.session.commit()
            return item.id

    return factory
