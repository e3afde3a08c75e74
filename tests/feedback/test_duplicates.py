"""Duplicates within 50 m / 30 days, supporters (one per installation), merging."""

from __future__ import annotations

import math
from datetime import timedelta

from cityapp.db import db, utcnow
from cityapp.feedback.models import Report, ReportSupporter
from cityapp.feedback.service.duplicates import haversine_m
from tests.conftest import assert_problem
from tests.feedback.conftest import IN_ALTSTADT

LAT, LON = IN_ALTSTADT


def _north(metres: float) -> float:
    """The latitude ``metres`` north of LAT (on the haversine sphere)."""
    return LAT + math.degrees(metres / 6_371_008.8)


def _east(metres: float) -> float:
    return LON + math.degrees(metres / (6_371_008.8 * math.cos(math.radians(LAT))))


def test_haversine_matches_the_offsets():
    assert abs(haversine_m(LAT, LON, _north(49), LON) - 49) < 0.01
    assert abs(haversine_m(LAT, LON, LAT, _east(51)) - 51) < 0.05


def test_duplicate_at_49_m_found_at_51_m_not(app, category, submit):
    _, original = submit()
    _, near = submit(lat=_north(49), lon=LON)
    assert [d["id"] for d in near["possible_duplicates"]] == [original["id"]]
    assert 48.5 < near["possible_duplicates"][0]["distance_m"] <= 49.5
    _, far = submit(lat=LAT, lon=_east(51.5))
    assert original["id"] not in [d["id"] for d in far["possible_duplicates"]]


def test_only_open_public_recent_same_category(app, category, make_category, submit):
    make_category(code="beleuchtung", name={"de": "Beleuchtung"}, attributes=[])
    _, original = submit()
    _, other_category = submit(category="beleuchtung", attributes={})
    assert other_category["possible_duplicates"] == []
    with app.app_context():
        report = db.session.get(Report, original["id"])
        report.created_at = utcnow() - timedelta(days=31)
        db.session.commit()
    assert submit()[1]["possible_duplicates"] == []
    with app.app_context():
        report = db.session.get(Report, original["id"])
        report.created_at = utcnow()
        report.moderation_state = "pending"
        db.session.commit()
    assert original["id"] not in [d["id"] for d in submit()[1]["possible_duplicates"]]


def test_support_once_per_installation(app, category, submit, installation_client):
    _, report = submit()
    url = f"/api/v1/reports/{report['id']}/support"
    first = installation_client.post(url)
    assert first.status_code == 200
    assert first.get_json() == {"supporters_count": 1, "is_new": True}
    assert installation_client.post(url).get_json() == {"supporters_count": 1, "is_new": False}
    assert_problem(app.test_client().post(url), 401)
    assert_problem(installation_client.post("/api/v1/reports/999999/support"), 404)


def test_merge_moves_supporters_and_tracking(
    app, category, submit, installation_client, moderator_client
):
    _, original = submit()
    _, duplicate = submit(client=installation_client, lat=_north(10))
    token = app.test_client().post("/api/v1/installations").get_json()["token"]
    supporter = app.test_client()
    supporter.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    supporter.post(f"/api/v1/reports/{duplicate['id']}/support")
    response = moderator_client.post(
        f"/api/v1/staff/reports/{duplicate['id']}/merge", json={"original_id": original["id"]}
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "duplicate"
    assert response.get_json()["duplicate_of_id"] == original["id"]
    with app.app_context():
        assert db.session.get(Report, original["id"]).supporters_count == 2
        assert db.session.query(ReportSupporter).filter_by(report_id=duplicate["id"]).count() == 0
    tracked = app.test_client().get(f"/api/v1/reports/track/{duplicate['tracking_token']}")
    body = tracked.get_json()
    assert body["merged_into"] == original["id"] and body["supporters_count"] == 2
    assert any(h["kind"] == "merged" for h in body["history"])
    assert_problem(
        moderator_client.post(
            f"/api/v1/staff/reports/{original['id']}/merge", json={"original_id": original["id"]}
        ),
        409,
    )
