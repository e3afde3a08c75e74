"""The status workflow: every transition outside the graph is refused (409); notes,
assignment, history; the reporter reopens within 30 days."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cityapp.auth.service.actors import CLI
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.feedback.models import Report, ReportStatus
from cityapp.feedback.service import reports, workflow
from tests.conftest import assert_problem
from tests.feedback.conftest import load_staff

ALL = [s.value for s in ReportStatus]
ALLOWED = {
    "submitted": {"acknowledged", "rejected", "duplicate", "forwarded"},
    "acknowledged": {"in_progress", "resolved", "rejected", "duplicate", "forwarded"},
    "in_progress": {"resolved", "forwarded"},
    "reopened": {"acknowledged", "in_progress", "resolved"},
}


def _new_report(app, submit, status: str = "submitted") -> int:
    _, body = submit()
    with app.app_context():
        report = db.session.get(Report, body["id"])
        report.status = status
        db.session.commit()
    return body["id"]


def test_graph_is_exactly_the_documented_one():
    assert {k: set(v) for k, v in workflow.TRANSITIONS.items() if v} == ALLOWED


@pytest.mark.parametrize("source", ALL)
def test_every_illegal_transition_is_409(app, category, submit, moderator_client, source):
    report_id = _new_report(app, submit, source)
    for target in ALL:
        if target in ALLOWED.get(source, set()):
            continue
        response = moderator_client.post(
            f"/api/v1/staff/reports/{report_id}/status", json={"status": target}
        )
        assert_problem(response, 409)


def test_legal_path_with_notes_history_and_times(app, category, submit, moderator_client):
    report_id = _new_report(app, submit)
    client = moderator_client
    response = client.post(
        f"/api/v1/staff/reports/{report_id}/status",
        json={"status": "acknowledged", "public_note": "Danke!", "internal_note": "Bauhof fragen"},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "acknowledged" and body["first_response_at"]
    for target in ("in_progress", "resolved"):
        assert (
            client.post(
                f"/api/v1/staff/reports/{report_id}/status", json={"status": target}
            ).status_code
            == 200
        )
    body = client.get(f"/api/v1/staff/reports/{report_id}").get_json()
    assert body["resolved_at"] and body["closed_at"]
    kinds = [(h["kind"], h["to_status"]) for h in body["history"]]
    assert kinds == [
        ("submitted", "submitted"),
        ("status", "acknowledged"),
        ("status", "in_progress"),
        ("status", "resolved"),
    ]
    assert body["history"][1]["internal_note"] == "Bauhof fragen"
    public = app.test_client().get(f"/api/v1/reports/{report_id}").get_json()
    assert public["history"][1]["note"] == "Danke!"
    assert "Bauhof" not in str(public)


def test_forwarding_needs_the_receiving_body(app, category, submit, moderator_client):
    report_id = _new_report(app, submit)
    url = f"/api/v1/staff/reports/{report_id}/status"
    assert_problem(
        moderator_client.post(url, json={"status": "forwarded"}), 422, field="forwarded_to"
    )
    response = moderator_client.post(
        url, json={"status": "forwarded", "forwarded_to": "Landkreis, Straßenmeisterei"}
    )
    assert response.get_json()["forwarded_to"] == "Landkreis, Straßenmeisterei"


def test_notes_and_assignment(app, category, submit, moderator_client, make_staff):
    report_id = _new_report(app, submit)
    worker = make_staff("moderator")
    response = moderator_client.post(
        f"/api/v1/staff/reports/{report_id}/assign",
        json={
            "department": "Bauhof",
            "assignee_id": worker.id,
            "expected_at": "2026-12-01T10:00:00Z",
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert (body["department"], body["assignee_id"]) == ("Bauhof", worker.id)
    assert body["expected_at"] == "2026-12-01T10:00:00Z"
    assert_problem(
        moderator_client.post(
            f"/api/v1/staff/reports/{report_id}/assign", json={"assignee_id": 99999}
        ),
        422,
        field="assignee_id",
    )
    response = moderator_client.post(
        f"/api/v1/staff/reports/{report_id}/notes", json={"internal_note": "nur intern"}
    )
    assert response.get_json()["history"][-1]["kind"] == "internal_note"
    assert_problem(moderator_client.post(f"/api/v1/staff/reports/{report_id}/notes", json={}), 422)


def test_reporter_reopens_within_30_days_only(app, category, submit, staff_actor):
    _, created = submit()
    token = created["tracking_token"]
    client = app.test_client()
    url = f"/api/v1/reports/track/{token}/reopen"
    assert_problem(client.post(url, json={"reason": "noch da"}), 409)
    with app.app_context():
        staff = load_staff(staff_actor)
        report = db.session.get(Report, created["id"])
        workflow.change_status(staff, report, "acknowledged")
        workflow.change_status(staff, report, "resolved")
        db.session.commit()
    assert client.get(f"/api/v1/reports/track/{token}").get_json()["can_reopen"] is True
    assert_problem(client.post(url, json={}), 422, field="reason")
    response = client.post(url, json={"reason": "Das Loch ist wieder da."})
    assert response.status_code == 200
    assert response.get_json()["status"] == "reopened"
    with app.app_context():
        staff = load_staff(staff_actor)
        report = db.session.get(Report, created["id"])
        workflow.change_status(staff, report, "resolved")
        report.resolved_at = utcnow() - timedelta(days=31)
        db.session.commit()
    assert_problem(client.post(url, json={"reason": "wieder"}), 409)


def test_staff_cannot_reopen_or_mark_duplicate_without_merge(app, category, submit):
    _, created = submit()
    with app.app_context():
        report = reports.get_report(created["id"])
        with pytest.raises(Conflict):
            workflow.change_status(CLI, report, "reopened")
        with pytest.raises(Conflict):
            workflow.change_status(CLI, report, "duplicate")
        with pytest.raises(ValidationError):
            workflow.change_status(CLI, report, "flying")
