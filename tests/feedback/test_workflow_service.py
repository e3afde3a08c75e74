"""The workflow rules called through the services directly (no HTTP): the legal status
transitions and their time stamps, the reporter's reopen window, withdrawing, merging."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cityapp.auth.service.actors import CLI
from cityapp.auth.service.installations import create_installation
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.feedback.models import OPEN_STATUSES, Report, ReportStatus, ReportSupporter
from cityapp.feedback.service import participation, reports, state, workflow
from tests.feedback.conftest import IN_ALTSTADT

S = ReportStatus
ALL = [s.value for s in ReportStatus]
#: The staff graph, written out again so a change to it is a deliberate one.
LEGAL = {
    "submitted": {"acknowledged", "rejected", "forwarded"},
    "acknowledged": {"in_progress", "resolved", "rejected", "forwarded"},
    "in_progress": {"resolved", "forwarded"},
    "reopened": {"acknowledged", "in_progress", "resolved"},
}


def _report(status: str = S.SUBMITTED, **fields) -> Report:
    submission = reports.submit_report(
        category_code="strassenschaeden",
        description="Tiefes Schlagloch vor der Bäckerei.",
        lat=IN_ALTSTADT[0],
        lon=IN_ALTSTADT[1],
        attributes={"gefahr": "ja"},
    )
    report = submission.report
    report.status = status
    for key, value in fields.items():
        setattr(report, key, value)
    db.session.flush()
    return report


# --- transitions -----------------------------------------------------------------------


@pytest.mark.parametrize("source", ALL)
def test_change_status_allows_exactly_the_graph(category, ctx, source):
    for target in ALL:
        report = _report(source)
        if target in LEGAL.get(source, set()):
            workflow.change_status(CLI, report, target, forwarded_to="Landkreis")
            assert report.status == target
        else:
            with pytest.raises(Conflict):
                workflow.change_status(CLI, report, target, forwarded_to="Landkreis")
            assert report.status == source


def test_duplicate_is_reached_only_by_merging(category, ctx):
    report = _report()
    assert S.DUPLICATE in workflow.TRANSITIONS[S.SUBMITTED]
    with pytest.raises(Conflict, match="Merge"):
        workflow.change_status(CLI, report, S.DUPLICATE)
    assert report.status == S.SUBMITTED


def test_transitions_stamp_response_resolution_and_closure(category, ctx):
    report = _report()
    assert report.first_response_at is None and report.closed_at is None
    workflow.change_status(CLI, report, S.ACKNOWLEDGED)
    assert report.first_response_at is not None and report.closed_at is None
    workflow.change_status(CLI, report, S.RESOLVED)
    assert report.resolved_at is not None and report.closed_at is not None
    assert [e.kind for e in report.events][-2:] == ["status", "status"]


def test_forwarding_needs_a_destination(category, ctx):
    report = _report()
    with pytest.raises(ValidationError):
        workflow.change_status(CLI, report, S.FORWARDED, forwarded_to="  ")
    workflow.change_status(CLI, report, S.FORWARDED, forwarded_to="Straßenmeisterei")
    assert report.forwarded_to == "Straßenmeisterei" and report.closed_at is not None


def test_unknown_status_and_long_notes_are_invalid(category, ctx):
    report = _report()
    with pytest.raises(ValidationError):
        workflow.change_status(CLI, report, "flying")
    with pytest.raises(ValidationError):
        workflow.change_status(CLI, report, S.ACKNOWLEDGED, public_note="x" * 4001)
    assert report.status == S.SUBMITTED


# --- the reporter: reopen window, withdrawing -------------------------------------------


def test_reopen_window(category, ctx, app):
    days = app.config["CITYAPP_REPORT_REOPEN_DAYS"]
    report = _report(S.RESOLVED, resolved_at=utcnow() - timedelta(days=days - 1))
    assert state.is_reopen_window_open(report)
    with pytest.raises(ValidationError):
        workflow.reopen_report(report, "  ")
    workflow.reopen_report(report, "Das Loch ist wieder da.")
    assert report.status == S.REOPENED and report.closed_at is None

    late = _report(S.RESOLVED, resolved_at=utcnow() - timedelta(days=days + 1))
    assert not state.is_reopen_window_open(late)
    with pytest.raises(Conflict):
        workflow.reopen_report(late, "wieder da")
    assert late.status == S.RESOLVED


@pytest.mark.parametrize("status", [s for s in ALL if s != S.RESOLVED])
def test_only_resolved_reports_reopen(category, ctx, status):
    report = _report(status, resolved_at=utcnow())
    with pytest.raises(Conflict):
        workflow.reopen_report(report, "wieder da")
    assert report.status == status


@pytest.mark.parametrize("status", ALL)
def test_withdrawing_is_for_open_reports(category, ctx, status):
    report = _report(status)
    if status in OPEN_STATUSES:
        participation.withdraw_report(report, "hat sich erledigt")
        assert report.status == S.WITHDRAWN and report.closed_at is not None
    else:
        with pytest.raises(Conflict):
            participation.withdraw_report(report)
        assert report.status == status


# --- merging ---------------------------------------------------------------------------


def _supporters(report: Report) -> set[int]:
    return set(
        db.session.scalars(
            db.select(ReportSupporter.installation_id).where(ReportSupporter.report_id == report.id)
        )
    )


def test_merge_moves_supporters_and_the_reporter_to_the_original(category, ctx):
    shared, only_duplicate, reporter = (create_installation()[0] for _ in range(3))
    original = _report()
    duplicate = _report(installation_id=reporter.id)
    for report, installation in [
        (original, shared),
        (duplicate, shared),
        (duplicate, only_duplicate),
    ]:
        db.session.add(ReportSupporter(report_id=report.id, installation_id=installation.id))
    db.session.flush()

    workflow.merge_reports(CLI, duplicate, original)

    assert duplicate.status == S.DUPLICATE and duplicate.duplicate_of_id == original.id
    assert duplicate.closed_at is not None and duplicate.first_response_at is not None
    assert _supporters(duplicate) == set() and duplicate.supporters_count == 0
    assert _supporters(original) == {shared.id, only_duplicate.id, reporter.id}
    assert original.supporters_count == 3
    assert reports.followed_report(duplicate).id == original.id
    assert duplicate.events[-1].kind == "merged" and original.events[-1].kind == "merged_in"


def test_merge_refusals(category, ctx, make_category):
    make_category(code="beleuchtung", attributes=[])
    original = _report()
    with pytest.raises(Conflict):
        workflow.merge_reports(CLI, original, original)
    closed = _report(S.RESOLVED)
    with pytest.raises(Conflict):
        workflow.merge_reports(CLI, closed, original)
    other = reports.submit_report(
        category_code="beleuchtung", description="Laterne aus.", address="Marktplatz"
    ).report
    with pytest.raises(Conflict):
        workflow.merge_reports(CLI, other, original)
    first = _report()
    workflow.merge_reports(CLI, first, original)
    with pytest.raises(Conflict):
        workflow.merge_reports(CLI, _report(), first)  # into a duplicate: use its original
    assert closed.status == S.RESOLVED and other.status == S.SUBMITTED
