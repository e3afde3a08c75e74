"""Submitting reports through the public API: validation, photos, tracking, my reports."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from cityapp.db import db
from cityapp.feedback.models import Report, ReportContact, ReportPhoto
from cityapp.feedback.service.participation import recount_supporters
from tests.conftest import ApiClient, assert_problem
from tests.feedback.conftest import OUTSIDE, jpeg


def _count(app, model=Report) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_submit_json_returns_id_and_tracking_token(app, category, submit, districts):
    response, body = submit(contact={"email": "anna@example.org", "name": "Anna", "consent": True})
    assert response.status_code == 201, body
    assert body["tracking_token"].startswith("crt_") and len(body["tracking_token"]) > 40
    assert body["status"] == "submitted"
    assert body["moderation_state"] == "published"  # auto-publish, clean text
    assert body["possible_duplicates"] == []
    with app.app_context():
        report = db.session.get(Report, body["id"])
        assert report.district_id == districts["altstadt"]
        assert report.attribute_values == {"gefahr": "ja"}
        assert body["tracking_token"] not in report.tracking_token_hash
        assert report.contact.email == "anna@example.org"
        assert report.contact.is_notification_consented is True


def test_submit_multipart_with_photos_strips_exif(app, category, submit, media_dir):
    response, body = submit(photos=[jpeg("red", exif_gps=True), jpeg("blue")])
    assert response.status_code == 201, body
    with app.app_context():
        photos = db.session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == body["id"]))
        shas = [p.asset.sha256 for p in photos]
    assert len(shas) == 2
    stored = (media_dir / shas[0][:2] / shas[0] / "original").read_bytes()
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_photos_of_unmoderated_reports_are_not_public(
    app, make_category, districts, submit, moderator_client
):
    make_category(is_auto_publish=False)
    response, body = submit(photos=[jpeg("green")])
    assert response.status_code == 201
    assert body["moderation_state"] == "pending"
    with app.app_context():
        sha = (
            db.session.scalars(select(ReportPhoto).where(ReportPhoto.report_id == body["id"]))
            .one()
            .asset.sha256
        )
    client = app.test_client()
    assert_problem(client.get(f"/media/{sha}"), 404)
    assert_problem(client.get(f"/api/v1/reports/{body['id']}"), 404)
    # Moderators see it (to decide), through the staff API only.
    detail = moderator_client.get(f"/api/v1/staff/reports/{body['id']}").get_json()
    assert moderator_client.get(detail["photos"][0]["url"]).status_code == 200
    moderator_client.post(f"/api/v1/staff/reports/{body['id']}/approve")
    assert client.get(f"/media/{sha}").status_code == 200


def test_address_instead_of_coordinates(app, category, submit):
    response, body = submit(lat=None, lon=None, address="Marktplatz 1")
    assert response.status_code == 201, body


def test_bad_input_is_refused_and_nothing_stored(app, category, submit, make_category):
    make_category(code="alt", name={"de": "Alt"}, is_active=False, attributes=[])
    cases = [
        ({"category": "unbekannt"}, "category"),
        ({"category": "alt"}, "category"),
        ({"attributes": {"gefahr": "vielleicht"}}, "attributes.gefahr"),
        ({"attributes": {}}, "attributes.gefahr"),
        ({"attributes": {"gefahr": "ja", "groesse_cm": "groß"}}, "attributes.groesse_cm"),
        ({"attributes": {"gefahr": "ja", "seit": "gestern"}}, "attributes.seit"),
        ({"attributes": {"gefahr": "ja", "art": ["loch", "x"]}}, "attributes.art"),
        ({"attributes": {"gefahr": "ja", "erfunden": 1}}, "attributes.erfunden"),
        ({"lat": OUTSIDE[0], "lon": OUTSIDE[1]}, "lat"),
        ({"lat": None, "lon": None}, "location"),
        ({"description": "x" * 4001}, "description"),
        ({"description": "   "}, "description"),
        ({"website": "http://spam.example"}, "website"),
        ({"contact": {"email": "not-an-email"}}, "contact"),
        ({"unexpected": 1}, "unexpected"),
    ]
    for overrides, field in cases:
        response, _ = submit(**overrides)
        assert_problem(response, 422, field=field)
    assert _count(app) == 0
    assert _count(app, ReportContact) == 0


def test_photo_limits(app, category, submit, monkeypatch):
    response, _ = submit(
        photos=[jpeg(c) for c in ("red", "blue", "green", "white", "black", "gray")]
    )
    assert_problem(response, 422, field="photos")
    response, _ = submit(photos=[b"GIF89a not really an image"])
    assert_problem(response, 415)
    monkeypatch.setitem(app.config, "CITYAPP_MAX_IMAGE_BYTES", 100)
    response, _ = submit(photos=[jpeg("red", size=(300, 300))])
    assert_problem(response, 413)
    assert _count(app) == 0 and _count(app, ReportPhoto) == 0


def test_multipart_with_bad_json(app, category):
    response = app.test_client().post(
        "/api/v1/reports", data={"data": "{nope"}, content_type="multipart/form-data"
    )
    assert_problem(response, 400)


def test_rate_limit_per_installation(app, category, submit, installation_client, monkeypatch):
    monkeypatch.setitem(app.config, "CITYAPP_REPORT_RATE_LIMIT", "2 per hour")
    for _ in range(2):
        assert submit(client=installation_client)[0].status_code == 201
    response, _ = submit(client=installation_client)
    assert_problem(response, 429)
    assert response.headers["Retry-After"]
    # Other callers (here: no token, counted per IP) have their own budget.
    assert submit()[0].status_code == 201
    assert _count(app) == 3


def test_rate_limit_per_ip_across_installations(
    app, category, submit, installation_client, monkeypatch
):
    monkeypatch.setitem(app.config, "CITYAPP_REPORT_IP_RATE_LIMIT", "2 per hour")
    assert submit(client=installation_client)[0].status_code == 201
    assert submit()[0].status_code == 201
    token = app.test_client().post("/api/v1/installations").get_json()["token"]
    fresh = app.test_client()
    fresh.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert_problem(submit(client=fresh)[0], 429)
    assert _count(app) == 2


def test_tracking_token_reads_only_its_own_report(app, category, submit):
    _, first = submit()
    _, second = submit(description="Laterne defekt am Marktplatz, seit drei Tagen dunkel.")
    client = app.test_client()
    response = client.get(f"/api/v1/reports/track/{first['tracking_token']}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["id"] == first["id"] and body["status"] == "submitted"
    assert [h["kind"] for h in body["history"]] == ["submitted"]
    assert "contact" not in body
    other = client.get(f"/api/v1/reports/track/{second['tracking_token']}").get_json()
    assert other["id"] == second["id"]
    for bad in ("crt_" + "A" * 43, "nope", first["tracking_token"] + "x"):
        assert_problem(client.get(f"/api/v1/reports/track/{bad}"), 404)


def test_reporter_comments_adds_photo_and_withdraws(app, category, submit):
    _, created = submit()
    token = created["tracking_token"]
    client = app.test_client()
    response = client.post(
        f"/api/v1/reports/track/{token}/comments", json={"comment": "Es wird größer."}
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["history"][-1]["note"] == "Es wird größer."
    response = client.post(
        f"/api/v1/reports/track/{token}/photos",
        data={"photo": (io.BytesIO(jpeg("yellow")), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert response.get_json()["photos_count"] == 1
    response = client.post(f"/api/v1/reports/track/{token}/withdraw", json={"reason": "erledigt"})
    assert response.status_code == 200
    assert response.get_json()["status"] == "withdrawn"
    assert_problem(
        client.post(f"/api/v1/reports/track/{token}/comments", json={"comment": "noch was"}), 409
    )
    assert_problem(client.post(f"/api/v1/reports/track/{token}/withdraw", json={}), 409)


def test_installation_lists_its_own_reports(app, category, submit, installation_client):
    _, mine = submit(client=installation_client)
    submit()  # someone else's
    response = installation_client.get("/api/v1/installations/me/reports")
    assert response.status_code == 200
    body = response.get_json()
    assert [item["id"] for item in body["items"]] == [mine["id"]]
    assert body["next_cursor"] is None
    assert_problem(app.test_client().get("/api/v1/installations/me/reports"), 401)


def test_public_list_and_detail(app, category, submit):
    _, created = submit()
    client = app.test_client()
    listing = client.get("/api/v1/reports").get_json()
    assert [i["id"] for i in listing["items"]] == [created["id"]]
    detail = client.get(f"/api/v1/reports/{created['id']}").get_json()
    assert detail["category"] == "strassenschaeden"
    assert detail["history"][0]["kind"] == "submitted"
    categories = client.get("/api/v1/report-categories").get_json()["items"]
    assert categories[0]["code"] == "strassenschaeden"
    assert categories[0]["attributes"][0]["code"] == "gefahr"


def test_deleting_an_installation_keeps_its_reports(app, category, submit, installation_client):
    _, mine = submit(client=installation_client)
    _, other = submit()
    token = app.test_client().post("/api/v1/installations").get_json()["token"]
    neighbour = ApiClient(app.test_client(), {"Authorization": f"Bearer {token}"})
    installation_client.post(f"/api/v1/reports/{other['id']}/support")
    assert neighbour.post(f"/api/v1/reports/{other['id']}/support").get_json() == {
        "supporters_count": 2,
        "is_new": True,
    }
    installation_client.post(f"/api/v1/reports/{other['id']}/flags", json={"reason": "wrong"})
    assert installation_client.delete("/api/v1/installations/me").status_code == 204
    # The public count drops with the deletion, not with the next nightly repair.
    public = app.test_client().get(f"/api/v1/reports/{other['id']}").get_json()
    assert public["supporters_count"] == 1
    with app.app_context():
        report = db.session.get(Report, mine["id"])
        assert report is not None and report.installation_id is None
        assert recount_supporters() == 0  # nothing left to repair
    tracked = app.test_client().get(f"/api/v1/reports/track/{mine['tracking_token']}")
    assert tracked.status_code == 200


def test_free_text_attributes_are_screened_too(app, category, submit):
    _, body = submit(attributes={"gefahr": "ja", "notiz": "Ruf mich an: 0561 1234567"})
    assert body["moderation_state"] == "pending"
    _, body = submit(attributes={"gefahr": "ja", "ort": "0561 1234567"})
    assert body["moderation_state"] == "pending"
    _, body = submit(attributes={"gefahr": "ja", "seit": "2026-11-01T08:00:00+01:00"})
    assert body["moderation_state"] == "published"


def test_public_list_filters(app, category, submit, make_category, moderator_client):
    make_category(code="beleuchtung", name={"de": "Beleuchtung"}, attributes=[])
    _, road = submit()
    _, light = submit(category="beleuchtung", attributes={})
    moderator_client.post(
        f"/api/v1/staff/reports/{light['id']}/status", json={"status": "rejected"}
    )
    client = app.test_client()

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/reports?{query}")
        assert response.status_code == 200
        return [item["id"] for item in response.get_json()["items"]]

    assert ids("category=beleuchtung") == [light["id"]]
    assert ids("status=open") == [road["id"]]
    assert ids("status=closed") == [light["id"]]
    assert ids("status=rejected") == [light["id"]]
    assert ids("limit=1") == [light["id"]]
    assert_problem(client.get("/api/v1/reports?status=whatever"), 422)
