"""Staff API: category CRUD (admin), queue filters and counts, bulk actions, CSV export by
role, statistics; roles enforced."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from sqlalchemy import select

from cityapp.auth.models import AuditEntry
from cityapp.db import db, utcnow
from cityapp.feedback.models import Report
from tests.conftest import assert_problem
from tests.feedback.conftest import category_data


def test_category_crud_by_admin(app, admin_client, moderator_client, districts, submit):
    body = category_data(code="beleuchtung", name={"de": "Beleuchtung"})
    assert_problem(moderator_client.post("/api/v1/staff/report-categories", json=body), 403)
    response = admin_client.post("/api/v1/staff/report-categories", json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert created["code"] == "beleuchtung" and created["attributes"][0]["order"] == 1
    assert_problem(admin_client.post("/api/v1/staff/report-categories", json=body), 409)
    bad = {**body, "code": "x2", "attributes": [{"code": "a", "datatype": "singlevaluelist"}]}
    assert_problem(admin_client.post("/api/v1/staff/report-categories", json=bad), 422)
    bad = {**body, "code": "x3", "attributes": [{"code": "a", "datatype": "colour"}]}
    assert_problem(admin_client.post("/api/v1/staff/report-categories", json=bad), 422)
    url = f"/api/v1/staff/report-categories/{created['id']}"
    response = admin_client.patch(url, json={"department": "Stadtwerke", "is_private": True})
    assert response.get_json()["department"] == "Stadtwerke"
    submit(category="beleuchtung")
    response = admin_client.delete(url)
    assert response.get_json() == {"result": "deactivated"}  # in use
    listing = moderator_client.get("/api/v1/staff/report-categories").get_json()["items"]
    assert listing[0]["is_active"] is False
    unused = admin_client.post(
        "/api/v1/staff/report-categories", json=category_data(code="leer", name={"de": "Leer"})
    ).get_json()
    response = admin_client.delete(f"/api/v1/staff/report-categories/{unused['id']}")
    assert response.get_json() == {"result": "deleted"}


def test_queue_filters_and_counts(app, category, submit, moderator_client, editor_client):
    assert_problem(editor_client.get("/api/v1/staff/reports"), 403)
    assert_problem(app.test_client().get("/api/v1/staff/reports"), 401)
    _, a = submit(description="Schlagloch am Rathaus")
    _, b = submit(description="Ruf an: 0561 1234567, Loch")  # pending (filter hit)
    _, c = submit(description="Wurzel hebt Pflaster an")
    moderator_client.post(f"/api/v1/staff/reports/{a['id']}/assign", json={"department": "Bauhof"})
    with app.app_context():
        db.session.get(Report, c["id"]).created_at = utcnow() - timedelta(days=10)
        db.session.commit()

    def ids(query: str) -> list[int]:
        response = moderator_client.get(f"/api/v1/staff/reports?{query}")
        assert response.status_code == 200, response.get_json()
        return sorted(item["id"] for item in response.get_json()["items"])

    assert ids("moderation_state=pending") == [b["id"]]
    assert ids("department=Bauhof") == [a["id"]]
    assert ids("q=rathaus") == [a["id"]]
    assert ids("older_than_days=5") == [c["id"]]
    assert ids("category=strassenschaeden") == sorted([a["id"], b["id"], c["id"]])
    assert ids("flagged=true") == []
    assert ids("status=submitted&moderation_state=published") == sorted([a["id"], c["id"]])
    counts = moderator_client.get("/api/v1/staff/reports").get_json()["counts"]
    assert counts == {
        "total": 3,
        "moderation_state": {"pending": 1, "published": 2},
        "status": {"submitted": 3},
        "flagged": 0,
    }
    assert_problem(moderator_client.get("/api/v1/staff/reports?status=nope"), 422)


def test_bulk_actions(app, category, submit, moderator_client, make_staff):
    _, a = submit()
    _, b = submit(description="spam spam www.spam.example")  # pending
    worker = make_staff("moderator")
    response = moderator_client.post(
        "/api/v1/staff/reports/bulk",
        json={"ids": [a["id"], b["id"]], "action": "assign", "assignee_id": worker.id},
    )
    assert response.get_json() == {"done": [a["id"], b["id"]], "failed": {}}
    response = moderator_client.post(
        "/api/v1/staff/reports/bulk", json={"ids": [a["id"], b["id"]], "action": "reject_spam"}
    )
    body = response.get_json()
    assert body["done"] == [b["id"]] and str(a["id"]) in body["failed"]  # a is public
    response = moderator_client.post(
        "/api/v1/staff/reports/bulk",
        json={"ids": [a["id"], b["id"], 999999], "action": "acknowledge"},
    )
    body = response.get_json()
    assert body["done"] == [a["id"]] and set(body["failed"]) == {str(b["id"]), "999999"}
    with app.app_context():
        assert db.session.get(Report, a["id"]).status == "acknowledged"
        assert db.session.get(Report, b["id"]).rejection_reason == "spam"


def test_csv_export_public_and_full(app, category, submit, moderator_client, admin_client):
    submit(contact={"email": "x@example.org"}, description="=HYPERLINK(evil) Loch")
    response = moderator_client.get("/api/v1/staff/reports/export.csv", buffered=False)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "id" and "contact_email" not in rows[0]
    assert rows[1][rows[0].index("public_description")].startswith("'=")
    assert_problem(moderator_client.get("/api/v1/staff/reports/export.csv?kind=full"), 403)
    full = admin_client.get("/api/v1/staff/reports/export.csv?kind=full").get_data(as_text=True)
    assert "x@example.org" in full
    with app.app_context():
        exports = db.session.scalars(
            select(AuditEntry.summary).where(AuditEntry.action == "report.export")
        ).all()
    assert sorted(exports) == ["full", "public"]


def test_statistics(app, category, submit, moderator_client):
    _, a = submit()
    submit()
    moderator_client.post(
        f"/api/v1/staff/reports/{a['id']}/status", json={"status": "acknowledged"}
    )
    moderator_client.post(f"/api/v1/staff/reports/{a['id']}/status", json={"status": "resolved"})
    body = moderator_client.get("/api/v1/staff/reports/statistics").get_json()
    assert body["by_category"] == {"strassenschaeden": 2}
    assert body["by_status"] == {"resolved": 1, "submitted": 1}
    assert sum(body["by_week"].values()) == 2
    assert body["median_first_response_hours"] is not None
    assert body["median_resolution_hours"] is not None
    assert body["backlog"]["open"] == 1
