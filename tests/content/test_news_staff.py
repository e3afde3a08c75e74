"""Staff news API: validation, sanitising, If-Match, status transitions, audit, roles."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.content.models import ContentTombstone, NewsItem
from cityapp.content.service.common import sanitize_html
from cityapp.db import db, utcnow
from tests.conftest import assert_problem
from tests.content.conftest import news_data


def _count_news(app) -> int:
    with app.app_context():
        return len(db.session.scalars(select(NewsItem)).all())


def test_sanitize_html_removes_scripts_styles_handlers_and_remote_images():
    dirty = (
        '<h2 class="x">Titel</h2><p onclick="steal()" style="color:red">Hallo '
        "<script>alert(1)</script><style>p{}</style>"
        '<a href="javascript:alert(1)">böse</a> <a href="https://musterstadt.example">gut</a>'
        '<img src="https://tracker.example/p.gif"><iframe src="https://x"></iframe></p>'
        "<ul><li><em>eins</em></li></ul><div><span>zwei</span></div>"
    )
    clean = sanitize_html(dirty)
    for banned in (
        "script",
        "alert",
        "style",
        "onclick",
        "javascript",
        "<img",
        "iframe",
        "class=",
        "<div",
        "<span",
    ):
        assert banned not in clean, (banned, clean)
    assert "<h2>Titel</h2>" in clean
    assert '<a href="https://musterstadt.example" rel="noopener noreferrer nofollow">gut</a>' in (
        clean
    )
    assert "<ul><li><em>eins</em></li></ul>" in clean and "zwei" in clean


def test_editor_creates_a_draft_with_translations_and_harmless_markup_is_cleaned(
    editor_client, districts
):
    data = news_data(
        body={"de": '<p class="lead">Text <span>mit</span> <u>Markup</u></p>', "en": "<p>Text</p>"},
        tags=["Bauen", "bauen ", "Straße"],
        district_ids=[districts["altstadt"]],
        is_pinned=True,
    )
    response = editor_client.post("/api/v1/staff/news", json=data)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "draft"
    assert body["title"] == data["title"]
    assert body["body"]["de"] == "<p>Text mit Markup</p>"
    assert body["tags"] == ["bauen", "straße"]
    assert body["district_ids"] == [districts["altstadt"]]
    assert body["publish_at"] is None and body["is_pinned"] is True
    assert response.headers["ETag"].startswith('"')


def test_bad_news_input_is_422_with_field_errors_and_nothing_is_stored(
    editor_client, app, districts
):
    cases = [
        (news_data(title={"en": "Only English"}), "title.de"),
        (news_data(title={"fr": "Bonjour", "de": "Hallo"}), "title"),
        (news_data(body={"de": "<p>Hi</p><script>alert(1)</script>"}), "body.de"),
        (news_data(body={"de": '<p onmouseover="x()">Hi</p>'}), "body.de"),
        (news_data(body={"de": "<style>p{color:red}</style><p>x</p>"}), "body.de"),
        (news_data(body={"de": '<img src="https://tracker.example/x.gif">'}), "body.de"),
        (news_data(category="klatsch"), "category"),
        (news_data(district_ids=[999999]), "district_ids"),
        (news_data(images=[{"sha256": "a" * 64, "alt": {"de": "Bild"}}]), "images.0.sha256"),
        (
            news_data(publish_at="2026-05-02T10:00:00Z", unpublish_at="2026-05-01T10:00:00Z"),
            "unpublish_at",
        ),
        (news_data(publish_at="2026-05-02T10:00:00"), "publish_at"),  # naive
        (news_data(colour="red"), "colour"),
    ]
    for data, field in cases:
        assert_problem(editor_client.post("/api/v1/staff/news", json=data), 422, field=field)
    assert _count_news(app) == 0


def test_patch_needs_a_fresh_etag(editor_client):
    created = editor_client.post("/api/v1/staff/news", json=news_data())
    item_id, etag = created.get_json()["id"], created.headers["ETag"]
    first = editor_client.patch(
        f"/api/v1/staff/news/{item_id}", json={"title": {"de": "Neu"}}, headers={"If-Match": etag}
    )
    assert first.status_code == 200
    assert first.get_json()["title"] == {"de": "Neu"}
    stale = editor_client.patch(
        f"/api/v1/staff/news/{item_id}", json={"title": {"de": "Alt"}}, headers={"If-Match": etag}
    )
    body = assert_problem(stale, 412)
    assert "changed" in body["detail"]
    assert stale.headers["ETag"] == first.headers["ETag"]
    weak = editor_client.patch(
        f"/api/v1/staff/news/{item_id}",
        json={"is_pinned": True},
        headers={"If-Match": "W/" + first.headers["ETag"]},
    )
    assert_problem(weak, 412)  # If-Match uses the strong comparison
    assert editor_client.get(f"/api/v1/staff/news/{item_id}").get_json()["title"] == {"de": "Neu"}


def test_lifecycle_publish_unpublish_archive_and_invalid_transitions(editor_client, app):
    item_id = editor_client.post("/api/v1/staff/news", json=news_data()).get_json()["id"]
    base = f"/api/v1/staff/news/{item_id}"
    assert_problem(editor_client.post(base + "/archive"), 409)
    future = (utcnow() + timedelta(days=1)).isoformat()
    scheduled = editor_client.post(base + "/schedule", json={"publish_at": future})
    assert scheduled.status_code == 200, scheduled.get_json()
    assert scheduled.get_json()["status"] == "scheduled"
    assert_problem(
        editor_client.post(base + "/schedule", json={"publish_at": "2020-01-01T00:00:00Z"}),
        422,
        field="publish_at",
    )
    published = editor_client.post(base + "/publish", json={"publish_at": None})
    assert published.get_json()["status"] == "scheduled"  # keeps its future publish_at
    unpublished = editor_client.post(base + "/unpublish")
    assert unpublished.get_json()["status"] == "draft"
    live = editor_client.post(base + "/publish")
    assert live.status_code == 200
    assert live.get_json()["status"] == "published"
    assert live.get_json()["first_published_at"] is not None
    assert_problem(editor_client.post(base + "/publish"), 409)
    archived = editor_client.post(base + "/archive")
    assert archived.get_json()["status"] == "archived"
    assert editor_client.get(f"/api/v1/news/{item_id}").status_code == 404
    with app.app_context():
        actions = [
            e.action
            for e in db.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.object_type == "news", AuditEntry.object_id == str(item_id))
                .order_by(AuditEntry.id)
            )
        ]
        reasons = db.session.scalars(
            select(ContentTombstone.reason).where(ContentTombstone.item_id == item_id)
        ).all()
    assert actions == [
        "news.create",
        "news.schedule",
        "news.schedule",
        "news.unpublish",
        "news.publish",
        "news.archive",
    ]
    assert reasons == ["archive"]


def test_delete_writes_a_tombstone_for_published_items_only(editor_client, app):
    draft = editor_client.post("/api/v1/staff/news", json=news_data()).get_json()["id"]
    live = editor_client.post("/api/v1/staff/news", json=news_data()).get_json()["id"]
    editor_client.post(f"/api/v1/staff/news/{live}/publish")
    assert editor_client.delete(f"/api/v1/staff/news/{draft}").status_code == 204
    assert editor_client.delete(f"/api/v1/staff/news/{live}").status_code == 204
    assert_problem(editor_client.get(f"/api/v1/staff/news/{live}"), 404)
    with app.app_context():
        stones = db.session.scalars(select(ContentTombstone.item_id)).all()
    assert stones == [live]


def test_preview_in_a_language_falls_back_to_german(editor_client):
    data = news_data(title={"de": "Titel", "en": "Title"}, body={"de": "<p>Nur Deutsch</p>"})
    item_id = editor_client.post("/api/v1/staff/news", json=data).get_json()["id"]
    english = editor_client.get(f"/api/v1/staff/news/{item_id}/preview?lang=en")
    assert english.status_code == 200
    assert english.headers["Content-Language"] == "en"
    body = english.get_json()
    assert body["title"] == "Title" and body["body"] == "<p>Nur Deutsch</p>"
    easy = editor_client.get(f"/api/v1/staff/news/{item_id}/preview?lang=de-x-ls").get_json()
    assert easy["title"] == "Titel" and easy["language"] == "de"
    assert_problem(editor_client.get(f"/api/v1/staff/news/{item_id}/preview?lang=fr"), 422)


def test_staff_list_filters_by_status_and_searches(editor_client):
    a = editor_client.post("/api/v1/staff/news", json=news_data(title={"de": "Wasserrohrbruch"}))
    b = editor_client.post("/api/v1/staff/news", json=news_data(title={"de": "Stadtfest"}))
    editor_client.post(f"/api/v1/staff/news/{b.get_json()['id']}/publish")
    drafts = editor_client.get("/api/v1/staff/news?status=draft").get_json()
    assert [i["id"] for i in drafts["items"]] == [a.get_json()["id"]]
    found = editor_client.get("/api/v1/staff/news?q=Stadtfest").get_json()
    assert [i["id"] for i in found["items"]] == [b.get_json()["id"]]


def test_roles_moderators_and_anonymous_and_read_only_tokens(
    moderator_client, client, token_client, editor_client
):
    assert_problem(moderator_client.post("/api/v1/staff/news", json=news_data()), 403)
    assert_problem(moderator_client.get("/api/v1/staff/news"), 403)
    assert_problem(client.post("/api/v1/staff/news", json=news_data()), 401)
    reader = token_client("editor", scopes=("read",))
    assert reader.get("/api/v1/staff/news").status_code == 200
    assert_problem(reader.post("/api/v1/staff/news", json=news_data()), 403)
    writer = token_client("admin")
    assert writer.post("/api/v1/staff/news", json=news_data()).status_code == 201
