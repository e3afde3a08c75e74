"""Districts: admin CRUD with validated polygons, point lookup, cache invalidation."""

from __future__ import annotations

import time

from cityapp.auth.models import AuditEntry
from cityapp.db import db
from tests.conftest import assert_problem, square

BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[9.44, 51.30], [9.46, 51.32], [9.46, 51.30], [9.44, 51.32], [9.44, 51.30]]],
}


def test_admin_creates_reads_updates_and_deletes_a_district(admin_client, app):
    created = admin_client.post(
        "/api/v1/staff/districts",
        json={
            "name": "Altstadt",
            "slug": "altstadt",
            "ars": "066330001001",
            "polygon": square(9.44, 51.30),
            "position": 1,
        },
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["slug"] == "altstadt" and body["ars"] == "066330001001"
    assert body["polygon"]["type"] == "Polygon"
    assert created.headers["Location"].endswith(f"/staff/districts/{body['id']}")
    etag = created.headers["ETag"]

    stale = admin_client.patch(
        f"/api/v1/staff/districts/{body['id']}", json={"name": "X"}, headers={"If-Match": '"x"'}
    )
    assert_problem(stale, 412)
    renamed = admin_client.patch(
        f"/api/v1/staff/districts/{body['id']}",
        json={"name": "Historische Altstadt"},
        headers={"If-Match": etag},
    )
    assert renamed.status_code == 200
    assert renamed.get_json()["name"] == "Historische Altstadt"
    assert renamed.headers["ETag"] != etag

    public = admin_client.get("/api/v1/districts")
    assert public.status_code == 200
    assert [d["slug"] for d in public.get_json()["items"]] == ["altstadt"]

    assert admin_client.delete(f"/api/v1/staff/districts/{body['id']}").status_code == 204
    with app.app_context():
        actions = {e.action for e in db.session.query(AuditEntry).filter_by(object_type="district")}
    assert {"district.create", "district.update", "district.delete"} <= actions


def test_editors_cannot_change_districts(editor_client, client):
    data = {"name": "Altstadt", "slug": "altstadt"}
    assert_problem(editor_client.post("/api/v1/staff/districts", json=data), 403)
    assert_problem(client.post("/api/v1/staff/districts", json=data), 401)


def test_invalid_polygons_ars_and_slugs_are_422_and_nothing_is_stored(admin_client):
    cases = [
        ({"polygon": BOWTIE}, "polygon"),
        ({"polygon": square(13.40, 52.50)}, "polygon"),  # Berlin: outside the municipality
        ({"polygon": square(9.53, 51.30)}, "polygon"),  # crosses the bounding area
        ({"polygon": {"type": "Point", "coordinates": [9.45, 51.31]}}, "polygon"),
        ({"polygon": {"type": "Polygon", "coordinates": [[[9.44]]]}}, "polygon"),
        ({"ars": "12345"}, "ars"),
        ({"ars": "06633000100X"}, "ars"),
        ({"slug": "Alt Stadt"}, "slug"),
    ]
    for extra, field in cases:
        response = admin_client.post(
            "/api/v1/staff/districts", json={"name": "A", "slug": "a", **extra}
        )
        assert_problem(response, 422, field=field)
    assert admin_client.get("/api/v1/districts").get_json()["items"] == []
    assert_problem(
        admin_client.post("/api/v1/staff/districts", json={"name": "A", "slug": "a", "x": 1}),
        422,
        field="x",
    )


def test_point_lookup_finds_the_district_and_rejects_points_outside(client, districts):
    inside = client.get("/api/v1/districts/lookup?lat=51.31&lon=9.45")
    assert inside.status_code == 200
    assert inside.get_json()["slug"] == "altstadt"
    assert client.get("/api/v1/districts/lookup?lat=51.31&lon=9.47").get_json()["slug"] == (
        "oberdorf"
    )
    assert_problem(client.get("/api/v1/districts/lookup?lat=51.25&lon=9.40"), 404)
    assert_problem(client.get("/api/v1/districts/lookup?lat=52.52&lon=13.40"), 422, field="lat")
    assert_problem(client.get("/api/v1/districts/lookup?lat=abc&lon=9.4"), 422, field="lat")


def test_lookup_cache_follows_polygon_changes(admin_client, client, districts):
    assert client.get("/api/v1/districts/lookup?lat=51.35&lon=9.45").status_code == 404
    district_id = districts["altstadt"]
    etag = admin_client.get(f"/api/v1/staff/districts/{district_id}").headers["ETag"]
    moved = admin_client.patch(
        f"/api/v1/staff/districts/{district_id}",
        json={"polygon": square(9.44, 51.34)},
        headers={"If-Match": etag},
    )
    assert moved.status_code == 200, moved.get_json()
    found = client.get("/api/v1/districts/lookup?lat=51.35&lon=9.45")
    assert found.status_code == 200 and found.get_json()["id"] == district_id
    assert client.get("/api/v1/districts/lookup?lat=51.31&lon=9.45").status_code == 404


def test_point_lookup_is_fast_enough_per_request(app, districts):
    from cityapp.places.service import find_district_at

    with app.app_context():
        find_district_at(51.31, 9.45)
        started = time.perf_counter()
        for i in range(500):
            find_district_at(51.30 + (i % 20) * 0.001, 9.441 + (i % 40) * 0.001)
        per_lookup = (time.perf_counter() - started) / 500
    assert per_lookup < 0.005, per_lookup
