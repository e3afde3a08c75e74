"""Moderation: text filters (hits and misses), pre-moderation vs auto-publish, approve, edit
with audit, reject with reasons, hide, flags with threshold, photos blurred/removed."""

from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.db import db
from cityapp.feedback.models import Report, ReportPhoto
from cityapp.feedback.service.screening import is_obvious_spam, screen_text
from tests.conftest import assert_problem
from tests.feedback.conftest import jpeg


@pytest.mark.parametrize(
    "text",
    [
        "Der Ausschuss hat die Sanierung der Schwanstraße beschlossen.",
        "Die Sauna im Hallenbad ist kalt.",
        "Am Passweg liegt Müll, bitte abholen.",
        "Klassenfahrt: der Bus hält nicht an der Haltestelle Assmannshausen.",
        "Die B 27 ist seit dem 01.02.2026 gesperrt, Hausnummer 12, PLZ 34117.",
        "Der Fickelweg 3 (Ortsteil Dickhausen) hat ein Schlagloch.",
        "Kein Ärger: Schwanenteich verschmutzt.",
    ],
)
def test_no_false_positives(text):
    assert screen_text(text) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Das ist doch Scheiße hier", "profanity"),
        ("Ihr seid alle Idioten", "profanity"),
        ("what the fuck", "profanity"),
        ("this is sh1t", "profanity"),
        ("A$$hole neighbours", "profanity"),
        ("fuuuuck", "profanity"),
        ("Arschl0ch parkt hier", "profanity"),
        ("Ruf mich an: 0561 1234567", "personal_data"),
        ("oder +49 561 123456", "personal_data"),
        ("schreib an max.muster@example.org", "personal_data"),
        ("Das Auto KS-AB 1234 parkt seit Wochen hier", "personal_data"),
        ("Billig kaufen auf https://spam.example/x", "link"),
        ("siehe www.beispiel.de", "link"),
        ("DIE STRASSENLATERNE IST SCHON WIEDER KAPUTT!!!", "shouting"),
    ],
)
def test_filter_hits(text, kind):
    assert kind in {hit.kind for hit in screen_text(text)}


def test_obvious_spam():
    text = "Buy now http://a.example http://b.example http://c.example"
    assert is_obvious_spam(text, screen_text(text))
    assert not is_obvious_spam("Laterne kaputt", screen_text("Laterne kaputt"))


def test_filter_hit_keeps_auto_publish_category_pending(app, category, submit):
    _, body = submit(description="Ruf mich an: 0561 1234567, das Loch ist riesig")
    assert body["moderation_state"] == "pending"
    with app.app_context():
        report = db.session.get(Report, body["id"])
        assert {"kind": "personal_data", "detail": "phone"} in report.filter_hits


def test_approve_edit_and_audit(app, make_category, districts, submit, moderator_client):
    make_category(is_auto_publish=False)
    _, body = submit(description="Schlagloch, Halter von KS-AB 123 weiß Bescheid")
    report_id = body["id"]
    queue = moderator_client.get("/api/v1/staff/reports?moderation_state=pending").get_json()
    assert [i["id"] for i in queue["items"]] == [report_id]
    assert queue["counts"]["moderation_state"] == {"pending": 1}
    response = moderator_client.post(
        f"/api/v1/staff/reports/{report_id}/edit",
        json={"public_description": "Schlagloch", "reason": "Kennzeichen entfernt"},
    )
    assert response.status_code == 200
    response = moderator_client.post(f"/api/v1/staff/reports/{report_id}/approve")
    assert response.get_json()["moderation_state"] == "published"
    public = app.test_client().get(f"/api/v1/reports/{report_id}").get_json()
    assert public["description"] == "Schlagloch"
    with app.app_context():
        actions = set(
            db.session.scalars(
                select(AuditEntry.action).where(AuditEntry.object_id == str(report_id))
            )
        )
        edit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.edit_text"))
        assert edit.changes["public_description"]["from"].startswith("Schlagloch, Halter")
        assert db.session.get(Report, report_id).description.startswith("Schlagloch, Halter")
    assert {"report.edit_text", "report.approve"} <= actions
    assert_problem(moderator_client.post(f"/api/v1/staff/reports/{report_id}/approve"), 409)


def test_reject_with_reason_and_hide(app, make_category, districts, submit, moderator_client):
    make_category(is_auto_publish=False)
    _, first = submit()
    _, second = submit(description="Noch ein Schlagloch am Kreisel")
    response = moderator_client.post(
        f"/api/v1/staff/reports/{first['id']}/reject", json={"reason": "not_our_responsibility"}
    )
    body = response.get_json()
    assert (body["status"], body["moderation_state"]) == ("rejected", "rejected")
    assert body["rejection_reason"] == "not_our_responsibility"
    assert_problem(
        moderator_client.post(f"/api/v1/staff/reports/{second['id']}/reject", json={"reason": "x"}),
        422,
        field="reason",
    )
    moderator_client.post(f"/api/v1/staff/reports/{second['id']}/approve")
    response = moderator_client.post(
        f"/api/v1/staff/reports/{second['id']}/hide", json={"reason": "Beschwerde"}
    )
    assert response.get_json()["moderation_state"] == "hidden"
    assert_problem(app.test_client().get(f"/api/v1/reports/{second['id']}"), 404)
    tracked = app.test_client().get(f"/api/v1/reports/track/{first['tracking_token']}").get_json()
    assert tracked["history"][-1]["note"] == "Die Stadt ist für dieses Anliegen nicht zuständig."


def test_flags_hide_at_threshold(app, category, submit, monkeypatch):
    monkeypatch.setitem(app.config, "CITYAPP_REPORT_FLAG_THRESHOLD", 2)
    _, body = submit()
    url = f"/api/v1/reports/{body['id']}/flags"
    clients = []
    for _ in range(2):
        token = app.test_client().post("/api/v1/installations").get_json()["token"]
        client = app.test_client()
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        clients.append(client)
    assert clients[0].post(url, json={"reason": "abusive"}).status_code == 204
    assert clients[0].post(url, json={"reason": "abusive"}).status_code == 204  # once only
    assert app.test_client().get(f"/api/v1/reports/{body['id']}").status_code == 200
    assert_problem(clients[1].post(url, json={"reason": "nonsense"}), 422, field="reason")
    assert clients[1].post(url, json={"reason": "spam"}).status_code == 204
    assert_problem(app.test_client().get(f"/api/v1/reports/{body['id']}"), 404)
    with app.app_context():
        report = db.session.get(Report, body["id"])
        assert report.moderation_state == "hidden" and report.flags_count == 2


def test_blur_and_remove_photos(app, category, submit, admin_client, moderator_client):
    _, body = submit(photos=[jpeg("red", size=(200, 200)), jpeg("blue")])
    with app.app_context():
        photos = db.session.scalars(
            select(ReportPhoto).where(ReportPhoto.report_id == body["id"]).order_by(ReportPhoto.id)
        ).all()
        first_id, second_id = photos[0].id, photos[1].id
        original_sha = photos[0].asset.sha256
    client = app.test_client()
    assert client.get(f"/media/{original_sha}").status_code == 200  # public report
    url = f"/api/v1/staff/reports/{body['id']}/photos"
    response = moderator_client.post(f"{url}/{first_id}/blur")
    assert response.status_code == 200
    photo = response.get_json()["photos"][0]
    assert photo["is_blurred"] and photo["sha256"] != original_sha
    assert photo["original_url"] is None  # moderators do not see the original
    assert client.get(f"/media/{original_sha}").status_code == 404
    assert client.get(f"/media/{photo['sha256']}").status_code == 200
    admin_view = admin_client.get(f"/api/v1/staff/reports/{body['id']}").get_json()
    original_url = admin_view["photos"][0]["original_url"]
    original = admin_client.get(original_url)
    assert original.status_code == 200 and original.mimetype == "image/jpeg"
    assert original.headers["Cache-Control"] == "private, no-store"
    shown = admin_client.get(admin_view["photos"][0]["url"])
    assert shown.status_code == 200 and shown.data != original.data
    assert_problem(moderator_client.get(original_url), 403)
    assert_problem(client.get(original_url), 401)
    response = moderator_client.post(f"{url}/{second_id}/remove")
    assert response.get_json()["photos"][1]["is_removed"] is True
    public = client.get(f"/api/v1/reports/{body['id']}").get_json()
    assert len(public["photos"]) == 1 and photo["sha256"] in public["photos"][0]["url"]
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEntry.action)))
    assert {"report.photo_blur", "report.photo_remove"} <= actions
    image_bytes = client.get(f"/media/{photo['sha256']}").data
    assert io.BytesIO(image_bytes).getbuffer().nbytes > 0


def test_comments_with_filter_hits_wait_for_a_moderator(app, category, submit, moderator_client):
    _, body = submit()
    token = body["tracking_token"]
    client = app.test_client()
    response = client.post(
        f"/api/v1/reports/track/{token}/comments", json={"comment": "Ruf an: 0561 1234567"}
    )
    assert response.get_json()["history"][-1]["kind"] == "comment_pending"  # the reporter sees it
    public = client.get(f"/api/v1/reports/{body['id']}").get_json()
    assert "1234567" not in str(public)
    detail = moderator_client.get(f"/api/v1/staff/reports/{body['id']}").get_json()
    event_id = detail["history"][-1]["id"]
    url = f"/api/v1/staff/reports/{body['id']}/comments/{event_id}/approve"
    assert moderator_client.post(url).status_code == 200
    assert_problem(moderator_client.post(url), 409)
    tracked = client.get(f"/api/v1/reports/track/{token}").get_json()
    assert tracked["history"][-1]["kind"] == "comment"


def test_flag_hiding_is_audit_logged(app, category, submit, monkeypatch):
    monkeypatch.setitem(app.config, "CITYAPP_REPORT_FLAG_THRESHOLD", 1)
    _, body = submit()
    token = app.test_client().post("/api/v1/installations").get_json()["token"]
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    assert (
        client.post(f"/api/v1/reports/{body['id']}/flags", json={"reason": "spam"}).status_code
        == 204
    )
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report.hide"))
    assert entry.actor_label == "system:flags" and entry.object_id == str(body["id"])


def test_photo_added_to_a_public_report_waits_for_approval(app, category, submit, moderator_client):
    _, body = submit()
    client = app.test_client()
    response = client.post(
        f"/api/v1/reports/track/{body['tracking_token']}/photos",
        data={"photo": (io.BytesIO(jpeg("purple")), "late.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert client.get(f"/api/v1/reports/{body['id']}").get_json()["photos"] == []
    detail = moderator_client.get(f"/api/v1/staff/reports/{body['id']}").get_json()
    [photo] = detail["photos"]
    assert photo["is_pending"] is True
    assert_problem(client.get(f"/media/{photo['sha256']}"), 404)
    url = f"/api/v1/staff/reports/{body['id']}/photos/{photo['id']}/approve"
    assert moderator_client.post(url).get_json()["photos"][0]["is_pending"] is False
    assert_problem(moderator_client.post(url), 409)
    assert len(client.get(f"/api/v1/reports/{body['id']}").get_json()["photos"]) == 1
    assert client.get(f"/media/{photo['sha256']}").status_code == 200
