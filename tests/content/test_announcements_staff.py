"""Staff announcements API: validity windows, levels, channels, areas, supersede, cancel."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from cityapp.content.models import Announcement
from cityapp.db import db, utcnow
from tests.conftest import assert_problem, square
from tests.content.conftest import announcement_data


def _iso(delta: timedelta) -> str:
    return (utcnow() + delta).isoformat()


def test_bad_announcements_are_422_and_nothing_is_stored(editor_client, app):
    hour = timedelta(hours=1)
    cases = [
        (announcement_data(level="emergency"), "valid_from"),
        (announcement_data(level="warning", valid_from=_iso(hour)), "valid_until"),
        (
            announcement_data(valid_from=_iso(2 * hour), valid_until=_iso(hour)),
            "valid_until",
        ),
        (announcement_data(level="panic"), "level"),
        (announcement_data(category="weather"), "category"),
        (announcement_data(channels=["fax"]), "channels"),
        (announcement_data(channels=[]), "channels"),
        (announcement_data(area=square(13.4, 52.5)), "area"),
        (announcement_data(district_ids=[424242]), "district_ids"),
        (announcement_data(supersedes_id=424242), "supersedes_id"),
        (announcement_data(body={"de": "<p>x</p><script>x()</script>"}), "body.de"),
    ]
    for data, field in cases:
        response = editor_client.post("/api/v1/staff/announcements", json=data)
        assert_problem(response, 422, field=field)
    with app.app_context():
        assert db.session.scalars(select(Announcement)).all() == []


def test_area_targets_the_districts_it_touches(editor_client, districts):
    data = announcement_data(area=square(9.455, 51.305, 0.01), channels=["app", "push"])
    response = editor_client.post("/api/v1/staff/announcements", json=data)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert sorted(body["district_ids"]) == sorted([districts["altstadt"], districts["oberdorf"]])
    assert body["channels"] == ["app", "push"]
    inside = editor_client.post(
        "/api/v1/staff/announcements", json=announcement_data(area=square(9.445, 51.305, 0.005))
    )
    assert inside.get_json()["district_ids"] == [districts["altstadt"]]


def test_supersede_publish_and_cancel_via_api(editor_client, client):
    window = {"valid_from": _iso(timedelta(0)), "valid_until": _iso(timedelta(hours=4))}
    first = editor_client.post(
        "/api/v1/staff/announcements", json=announcement_data(level="warning", **window)
    ).get_json()
    editor_client.post(f"/api/v1/staff/announcements/{first['id']}/publish")
    second = editor_client.post(
        "/api/v1/staff/announcements",
        json=announcement_data(level="warning", supersedes_id=first["id"], **window),
    ).get_json()
    rival = editor_client.post(
        "/api/v1/staff/announcements",
        json=announcement_data(level="warning", supersedes_id=first["id"], **window),
    )
    assert_problem(rival, 409, field="supersedes_id")
    published = editor_client.post(f"/api/v1/staff/announcements/{second['id']}/publish")
    assert published.status_code == 200, published.get_json()
    old = editor_client.get(f"/api/v1/staff/announcements/{first['id']}").get_json()
    assert old["status"] == "archived" and old["superseded_by_id"] == second["id"]
    public = client.get("/api/v1/announcements").get_json()["items"]
    assert [i["id"] for i in public] == [second["id"]]
    assert public[0]["supersedes_id"] == first["id"]

    cancelled = editor_client.post(
        f"/api/v1/staff/announcements/{second['id']}/cancel", json={"reason": "Entwarnung"}
    )
    assert cancelled.status_code == 200
    assert cancelled.get_json()["cancelled_at"] is not None
    assert client.get("/api/v1/announcements").get_json()["items"] == []
    assert_problem(editor_client.post(f"/api/v1/staff/announcements/{second['id']}/cancel"), 409)
    etag = editor_client.get(f"/api/v1/staff/announcements/{second['id']}").headers["ETag"]
    assert_problem(
        editor_client.patch(
            f"/api/v1/staff/announcements/{second['id']}",
            json={"title": {"de": "x"}},
            headers={"If-Match": etag},
        ),
        409,
    )


def test_if_match_and_preview(editor_client):
    created = editor_client.post(
        "/api/v1/staff/announcements",
        json=announcement_data(title={"de": "Sperrung", "en": "Closure"}),
    )
    item_id, etag = created.get_json()["id"], created.headers["ETag"]
    ok = editor_client.patch(
        f"/api/v1/staff/announcements/{item_id}",
        json={"level": "info"},
        headers={"If-Match": etag},
    )
    assert ok.status_code == 200 and ok.get_json()["level"] == "info"
    assert_problem(
        editor_client.patch(
            f"/api/v1/staff/announcements/{item_id}",
            json={"level": "notice"},
            headers={"If-Match": etag},
        ),
        412,
    )
    assert_problem(
        editor_client.patch(
            f"/api/v1/staff/announcements/{item_id}",
            json={"level": "warning"},
            headers={"If-Match": ok.headers["ETag"]},
        ),
        422,
        field="valid_from",
    )
    preview = editor_client.get(f"/api/v1/staff/announcements/{item_id}/preview?lang=en")
    assert preview.get_json()["title"] == "Closure"


def test_moderators_cannot_write_announcements(moderator_client):
    assert_problem(
        moderator_client.post("/api/v1/staff/announcements", json=announcement_data()), 403
    )
