"""Contact data never leaves through any public or Open311 endpoint; staff views of it are
audit-logged."""

from __future__ import annotations

import io

from flask import Flask
from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.db import db
from tests.feedback.conftest import jpeg

SECRETS = ("gerda.geheim@example.org", "Gerda Geheim", "0561 4711 0815")
CONTACT = {"email": SECRETS[0], "name": SECRETS[1], "phone": SECRETS[2], "consent": True}

PUBLIC_GET = [
    "/api/v1/report-categories",
    "/api/v1/reports",
    "/api/v1/reports?status=open",
    "/api/v1/reports/{id}",
    "/api/v1/reports/track/{token}",
    "/api/v1/installations/me/reports",
]
OPEN311_GET = [
    "/open311/v2/discovery.{fmt}",
    "/open311/v2/services.{fmt}",
    "/open311/v2/services/strassenschaeden.{fmt}",
    "/open311/v2/requests.{fmt}",
    "/open311/v2/requests.{fmt}?service_request_id={id}",
    "/open311/v2/requests/{id}.{fmt}",
    "/open311/v2/tokens/{o311}.{fmt}",
    "/open311/v2/servicerequestupdates.{fmt}",
]


def _public_rules(app: Flask) -> set[str]:
    """Every public route of the feedback surfaces (so a new one cannot be forgotten here)."""
    return {
        rule.rule
        for rule in app.url_map.iter_rules()
        if (rule.rule.startswith("/open311/") or "report" in rule.rule)
        and "/staff/" not in rule.rule
        and "GET" in rule.methods
    }


def test_no_contact_data_in_any_public_or_open311_response(
    app, category, submit, installation_client, moderator_client
):
    _, body = submit(client=installation_client, contact=CONTACT, photos=[jpeg("red")])
    report_id, token = body["id"], body["tracking_token"]
    assert not any(secret in str(body) for secret in SECRETS)
    moderator_client.post(
        f"/api/v1/staff/reports/{report_id}/status",
        json={"status": "acknowledged", "public_note": "Danke", "internal_note": "intern"},
    )
    with app.app_context():
        from cityapp.feedback.models import Report

        o311 = db.session.get(Report, report_id).open311_token
    urls = []
    for template in PUBLIC_GET:
        urls.append(template.format(id=report_id, token=token))
    for template in OPEN311_GET:
        for fmt in ("json", "xml"):
            urls.append(template.format(id=report_id, fmt=fmt, o311=o311))
    covered = {u.split("?")[0] for u in urls}
    routes = _public_rules(app)
    assert len(routes) == 12, routes  # PUBLIC_GET + OPEN311_GET cover all of them
    assert len(covered) >= 16
    for url in urls:
        response = installation_client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        text = response.get_data(as_text=True)
        for secret in SECRETS:
            assert secret not in text, (url, secret)
        assert "intern" not in text.replace("internal", ""), url
    # The POST replies too.
    url = f"/api/v1/reports/track/{token}/comments"
    reply = installation_client.post(url, json={"comment": "Nachtrag"}).get_data(as_text=True)
    reply += installation_client.post(
        f"/api/v1/reports/track/{token}/photos",
        data={"photo": (io.BytesIO(jpeg("blue")), "b.jpg")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert not any(secret in reply for secret in SECRETS)


def test_staff_contact_view_is_audit_logged(app, category, submit, moderator_client):
    _, body = submit(contact=CONTACT)
    detail = moderator_client.get(f"/api/v1/staff/reports/{body['id']}").get_json()
    assert detail["contact"]["email"] == SECRETS[0]
    queue = moderator_client.get("/api/v1/staff/reports").get_data(as_text=True)
    assert SECRETS[0] not in queue  # the list never carries contact data
    with app.app_context():
        entries = db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == "report.contact_view")
        ).all()
    assert [e.object_id for e in entries] == [str(body["id"])]
