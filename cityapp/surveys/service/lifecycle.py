"""Survey lifecycle: draft → scheduled → open → closed → archived. Dates are enforced at
query time (``open_surveys_query``, ``Survey.effective_status``); the scheduler job only
stores what the dates already say."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, cast, or_, select

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.places.models import District
from cityapp.signals import send_before_commit, survey_changed
from cityapp.surveys.models import Survey, SurveyStatus
from cityapp.surveys.service.validation import validate_survey


def open_surveys_query(
    now: datetime | None = None,
    *,
    channel: str | None = None,
    district_id: int | None = None,
    opening_until: datetime | None = None,
):
    """Surveys open at ``now`` (dates enforced here, whatever the stored status says); with
    ``opening_until`` also those that open by then (a stele's look-ahead)."""
    now = now or utcnow()
    query = select(Survey).where(
        Survey.status.in_([SurveyStatus.SCHEDULED, SurveyStatus.OPEN]),
        Survey.opens_at.is_not(None),
        Survey.opens_at <= (opening_until or now),
        or_(Survey.closes_at.is_(None), Survey.closes_at > now),
    )
    if channel:
        # Channels are fixed words, so a match on the JSON text is exact and portable.
        query = query.where(cast(Survey.channels, String).like(f'%"{channel}"%'))
    if district_id is not None:
        query = query.where(
            or_(~Survey.districts.any(), Survey.districts.any(District.id == district_id))
        )
    return query


def staff_surveys_query(status: str | None = None):
    """Every survey for staff, optionally by stored status (newest first: order by id desc)."""
    query = select(Survey)
    if status is not None:
        query = query.where(Survey.status == status)
    return query


def emit_survey_changed(
    survey: Survey,
    action: str,
    *,
    previous_channels: list[str] | None = None,
    previous_district_ids: list[int] | None = None,
) -> None:
    """Tell listeners (steles) inside this transaction that a survey's public face changed."""
    send_before_commit(
        db.session(),
        survey_changed,
        "survey",
        survey_id=survey.id,
        action=action,
        channels=list(survey.channels or []),
        district_ids=[d.id for d in survey.districts],
        previous_channels=previous_channels,
        previous_district_ids=previous_district_ids,
    )


# --- lifecycle ---------------------------------------------------------------------------


def publish_survey(actor: Actor, survey: Survey, now: datetime | None = None) -> Survey:
    """Validate the whole survey and schedule it (opens_at ahead) or open it now."""
    now = now or utcnow()
    if survey.status != SurveyStatus.DRAFT:
        raise Conflict(f"Only draft surveys can be published; this one is {survey.status}.")
    errors = validate_survey(survey, now)
    if errors:
        raise ValidationError("The survey is not ready to open.", errors=errors)
    if survey.opens_at and survey.opens_at > now:
        survey.status = SurveyStatus.SCHEDULED
    else:
        survey.status = SurveyStatus.OPEN
        survey.opens_at = now
    record_audit(
        actor,
        "survey.publish",
        object_type="survey",
        object_id=survey.id,
        summary=f"now {survey.status}",
        changes={"status": survey.status, "opens_at": survey.opens_at.isoformat()},
    )
    emit_survey_changed(survey, "publish")
    return survey


def close_survey(actor: Actor, survey: Survey, now: datetime | None = None) -> Survey:
    now = now or utcnow()
    status = survey.effective_status(now)
    if status not in (SurveyStatus.OPEN, SurveyStatus.CLOSED) or survey.status in (
        SurveyStatus.CLOSED,
        SurveyStatus.ARCHIVED,
    ):
        raise Conflict(f"Only open surveys can be closed; this one is {status}.")
    survey.status = SurveyStatus.CLOSED
    if survey.closes_at is None or survey.closes_at > now:
        survey.closes_at = now
    record_audit(actor, "survey.close", object_type="survey", object_id=survey.id)
    emit_survey_changed(survey, "close")
    return survey


def archive_survey(actor: Actor, survey: Survey, now: datetime | None = None) -> Survey:
    if survey.effective_status(now) != SurveyStatus.CLOSED:
        raise Conflict("Only closed surveys can be archived.")
    survey.status = SurveyStatus.ARCHIVED
    record_audit(actor, "survey.archive", object_type="survey", object_id=survey.id)
    emit_survey_changed(survey, "archive")
    return survey


def flip_survey_statuses(actor: Actor, now: datetime | None = None) -> dict[str, int]:
    """Store what the dates already say: scheduled → open → closed (the scheduler job)."""
    now = now or utcnow()
    counts = {"opened": 0, "closed": 0}
    due = db.session.scalars(
        select(Survey).where(
            or_(
                (Survey.status == SurveyStatus.SCHEDULED) & (Survey.opens_at <= now),
                (Survey.status == SurveyStatus.OPEN) & (Survey.closes_at <= now),
            )
        )
    )
    for survey in due:
        before = survey.status
        after = survey.effective_status(now)
        if after == before:
            continue
        survey.status = after
        counts["opened" if after == SurveyStatus.OPEN else "closed"] += 1
        record_audit(
            actor,
            "survey.status_change",
            object_type="survey",
            object_id=survey.id,
            summary=f"{before} → {after} by date",
            changes={"status": {"from": before, "to": after}},
        )
        emit_survey_changed(survey, "open" if after == SurveyStatus.OPEN else "close")
    return counts
