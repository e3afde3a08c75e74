"""Content test helpers: create content through the services, a temp media directory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow


def square(lon: float, lat: float, size: float = 0.02) -> dict:
    return {
        "type": "Polygon",
        "coordinates": [
            [[lon, lat], [lon + size, lat], [lon + size, lat + size], [lon, lat + size], [lon, lat]]
        ],
    }


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


@pytest.fixture(autouse=True)
def media_dir(app, tmp_path):
    previous = app.config["CITYAPP_MEDIA_DIR"]
    app.config["CITYAPP_MEDIA_DIR"] = str(tmp_path / "media")
    yield tmp_path / "media"
    app.config["CITYAPP_MEDIA_DIR"] = previous


@pytest.fixture
def districts(app) -> dict[str, int]:
    """Two districts side by side: altstadt (9.44-9.46) and oberdorf (9.46-9.48)."""
    from cityapp.content.service.districts import create_district

    with app.app_context():
        a = create_district(
            CLI, slug="altstadt", name="Altstadt", ars="066330001001", polygon=square(9.44, 51.30)
        )
        b = create_district(
            CLI, slug="oberdorf", name="Oberdorf", ars="066330001004", polygon=square(9.46, 51.30)
        )
        db.session.commit()
        return {"altstadt": a.id, "oberdorf": b.id}


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
