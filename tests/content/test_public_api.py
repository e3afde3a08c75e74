"""Public API: shapes, languages, filters, search, cursor pages, ETag/304, delta sync."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

from cityapp.auth.service.actors import CLI
from cityapp.content.service import news
from cityapp.db import db, utcnow
from tests.conftest import assert_problem

NEWS_KEYS = {
    "id",
    "title",
    "summary",
    "body",
    "language",
    "languages",
    "category",
    "tags",
    "districts",
    "images",
    "is_pinned",
    "published_at",
    "expires_at",
    "updated_at",
}


def test_list_and_detail_shape_language_and_fallback(client, make_news):
    item_id = make_news(
        title={"de": "Stadtfest", "en": "City festival"}, body={"de": "<p>Am Samstag</p>"}
    )
    listing = client.get("/api/v1/news")
    assert listing.status_code == 200
    assert listing.headers["Content-Language"] == "de"
    assert listing.headers["Cache-Control"] == "no-cache"
    body = listing.get_json()
    assert body["next_cursor"] is None and len(body["items"]) == 1
    assert set(body["items"][0]) == NEWS_KEYS
    assert body["items"][0]["title"] == "Stadtfest"

    english = client.get(f"/api/v1/news/{item_id}", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert english.headers["Content-Language"] == "en"
    detail = english.get_json()
    assert detail["title"] == "City festival"
    assert detail["body"] == "<p>Am Samstag</p>"  # German fallback
    assert detail["languages"] == ["de", "en"]
    easy = client.get(f"/api/v1/news/{item_id}?lang=de-x-ls").get_json()
    assert easy["title"] == "Stadtfest" and easy["language"] == "de"
    assert_problem(client.get("/api/v1/news/999999"), 404)


def test_drafts_and_scheduled_items_are_not_public(client, make_news):
    make_news(status="draft")
    future = make_news(status="scheduled", publish_at=utcnow() + timedelta(hours=1))
    assert client.get("/api/v1/news").get_json()["items"] == []
    assert_problem(client.get(f"/api/v1/news/{future}"), 404)


def test_cursor_pagination_newest_first_with_pinned_on_top(client, make_news):
    now = utcnow()
    ids = [make_news(publish_at=now - timedelta(minutes=10 - i)) for i in range(5)]
    pinned = make_news(publish_at=now - timedelta(hours=5), is_pinned=True)
    first = client.get("/api/v1/news?limit=2")
    page = first.get_json()
    assert [i["id"] for i in page["items"]] == [pinned, ids[4]]
    assert 'rel="next"' in first.headers["Link"]
    seen = [i["id"] for i in page["items"]]
    while page["next_cursor"]:
        page = client.get(f"/api/v1/news?limit=2&cursor={page['next_cursor']}").get_json()
        seen += [i["id"] for i in page["items"]]
    assert seen == [pinned, *reversed(ids)]
    assert_problem(client.get("/api/v1/news?cursor=garbage"), 400, field="cursor")
    assert_problem(client.get("/api/v1/news?limit=1000"), 422, field="limit")


def test_filters_category_district_point_and_unknown_values(client, make_news, districts):
    everywhere = make_news(category="kultur")
    altstadt = make_news(category="verkehr", district_ids=[districts["altstadt"]])
    oberdorf = make_news(category="verkehr", district_ids=[districts["oberdorf"]])

    def ids(query):
        response = client.get("/api/v1/news" + query)
        assert response.status_code == 200, response.get_json()
        return {i["id"] for i in response.get_json()["items"]}

    assert ids("?category=verkehr") == {altstadt, oberdorf}
    assert ids("?district=altstadt") == {everywhere, altstadt}
    assert ids(f"?district={districts['oberdorf']}") == {everywhere, oberdorf}
    assert ids("?lat=51.31&lon=9.45") == {everywhere, altstadt}
    assert_problem(client.get("/api/v1/news?district=atlantis"), 422, field="district")
    assert_problem(client.get("/api/v1/news?category=klatsch"), 422, field="category")
    assert_problem(client.get("/api/v1/news?lat=51.31"), 422, field="lon")
    assert_problem(client.get("/api/v1/news?lat=48.1&lon=11.5"), 422, field="lat")


def test_full_text_search_uses_the_index(client, make_news, app):
    water = make_news(
        title={"de": "Wasserrohrbruch in der Altstadt"},
        body={"de": "<p>Die Leitung ist repariert.</p>"},
    )
    make_news(title={"de": "Stadtfest"}, body={"de": "<p>Musik und Tanz</p>"})
    english = make_news(title={"de": "Konzert", "en": "Concert"}, body={"de": "<p>Musik</p>"})

    def ids(q):
        response = client.get(f"/api/v1/news?q={quote(q)}")
        assert response.status_code == 200, response.get_json()
        return {i["id"] for i in response.get_json()["items"]}

    assert ids("Wasserrohrbruch") == {water}
    assert ids("Leitung repariert") == {water}  # words from the body
    assert ids("Concert") == {english}  # every language is indexed
    assert ids("Feuerwehr") == set()
    assert_problem(client.get("/api/v1/news?q=%2A%2A"), 422, field="q")
    with app.app_context():
        query = str(
            news.NewsItem.__table__.select()
            .where(
                __import__("cityapp.content.service.visibility", fromlist=["x"]).matches_text(
                    news.NewsItem, "Wasser"
                )
            )
            .compile(db.engine)
        )
    assert ("MATCH" in query) or ("@@" in query)
    assert "LIKE" not in query.upper()


def test_etag_304_and_weak_tags(client, make_news):
    make_news()
    first = client.get("/api/v1/news")
    etag = first.headers["ETag"]
    assert etag.startswith('"') and "Accept-Language" in first.headers["Vary"]
    again = client.get("/api/v1/news", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and again.data == b""
    weak = client.get("/api/v1/news", headers={"If-None-Match": f'"other", W/{etag}'})
    assert weak.status_code == 304
    other_language = client.get("/api/v1/news?lang=en", headers={"If-None-Match": etag})
    assert other_language.status_code == 200
    make_news()
    changed = client.get("/api/v1/news", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    detail = client.get(f"/api/v1/news/{changed.get_json()['items'][0]['id']}")
    assert (
        client.get(
            detail.request.path, headers={"If-None-Match": detail.headers["ETag"]}
        ).status_code
        == 304
    )


def test_delta_sync_returns_changes_and_tombstones(client, make_news, app, editor_client):
    kept = make_news(title={"de": "Bleibt"})
    edited = make_news(title={"de": "Wird geändert"})
    deleted = make_news(title={"de": "Wird gelöscht"})
    withdrawn = make_news(title={"de": "Wird zurückgezogen"})
    full = client.get("/api/v1/news").get_json()
    assert {i["id"] for i in full["items"]} == {kept, edited, deleted, withdrawn}

    since = client.get(f"/api/v1/news?updated_since={quote(utcnow().isoformat())}").get_json()
    assert since["items"] == [] and since["tombstones"] == []
    sync_from = since["server_time"]

    with app.app_context():
        item = news.get_news(edited)
        news.update_news(CLI, item, title={"de": "Geändert"})
        news.delete_news(CLI, news.get_news(deleted))
        news.unpublish_news(CLI, news.get_news(withdrawn))
        db.session.commit()
    fresh = make_news(title={"de": "Neu"})

    delta = client.get(f"/api/v1/news?updated_since={quote(sync_from)}")
    assert delta.status_code == 200, delta.get_json()
    body = delta.get_json()
    assert {i["id"] for i in body["items"]} == {edited, fresh}
    assert {t["id"] for t in body["tombstones"]} == {deleted, withdrawn}
    assert all(t["deleted"] is True for t in body["tombstones"])
    assert body["server_time"] >= sync_from
    assert_problem(client.get("/api/v1/news?updated_since=yesterday"), 422, field="updated_since")
    assert_problem(
        client.get("/api/v1/news?updated_since=2026-01-01T10:00:00"), 422, field="updated_since"
    )
    assert_problem(
        client.get("/api/v1/news?updated_since=2001-01-01T00:00:00Z"), 410, field="updated_since"
    )


def test_delta_sync_sees_expiry_by_time_before_any_job_ran(client, make_news, app):
    item_id = make_news()
    sync_from = utcnow()
    with app.app_context():
        item = news.get_news(item_id)
        item.unpublish_at = utcnow() + timedelta(milliseconds=50)
        item.updated_at = sync_from - timedelta(seconds=1)  # as if set long ago
        db.session.commit()
    import time

    time.sleep(0.1)
    body = client.get(f"/api/v1/news?updated_since={quote(sync_from.isoformat())}").get_json()
    assert body["items"] == []
    assert body["tombstones"] == [{"id": item_id, "deleted": True}]


def test_delta_sync_with_a_district_filter_tombstones_retargeted_items(
    client, make_news, app, districts
):
    item_id = make_news(district_ids=[districts["altstadt"]])
    sync_from = utcnow()
    with app.app_context():
        news.update_news(CLI, news.get_news(item_id), district_ids=[districts["oberdorf"]])
        db.session.commit()
    url = f"/api/v1/news?district=altstadt&updated_since={quote(sync_from.isoformat())}"
    assert client.get(url).get_json()["tombstones"] == [{"id": item_id, "deleted": True}]


def test_public_announcements_default_to_the_app_channel(client, make_announcement):
    app_only = make_announcement(channels=["app"])
    stele_only = make_announcement(channels=["stele"])
    listing = client.get("/api/v1/announcements").get_json()
    assert [i["id"] for i in listing["items"]] == [app_only]
    assert listing["items"][0]["channels"] == ["app"]
    stele = client.get("/api/v1/announcements?channel=stele").get_json()
    assert [i["id"] for i in stele["items"]] == [stele_only]
    assert_problem(client.get("/api/v1/announcements?channel=fax"), 422, field="channel")
    assert_problem(client.get("/api/v1/announcements?level=panic"), 422, field="level")
