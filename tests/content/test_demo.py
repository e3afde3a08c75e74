"""The demo seed adds content, including one active warning, and is idempotent."""

from cityapp.db import db


def test_demo_content_is_seeded_once_with_an_active_warning(app, client):
    from cityapp.demo import seed_demo

    with app.app_context():
        first = seed_demo()
        db.session.commit()
        second = seed_demo()
        db.session.commit()
    assert first["news_created"] >= 5 and first["announcements_created"] >= 3
    assert second["news_created"] == 0 and second["announcements_created"] == 0
    levels = [i["level"] for i in client.get("/api/v1/announcements").get_json()["items"]]
    assert "warning" in levels
    assert client.get("/feeds/cap.atom").data.count(b"<entry") == 1
