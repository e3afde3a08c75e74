"""The survey builder: surveys, questions and options, and the freeze after the first ballot."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, get_or_404, utcnow
from cityapp.errors import Conflict, NotFound, ValidationError
from cityapp.places.models import District
from cityapp.surveys.models import (
    Channel,
    QuestionType,
    Survey,
    SurveyOption,
    SurveyQuestion,
    SurveyStatus,
)
from cityapp.surveys.service.lifecycle import emit_survey_changed
from cityapp.surveys.service.validation import (
    FREE_TEXT_LIMIT,
    question_errors,
    raise_if_invalid,
    raise_question_errors,
)

# Fields whose change alters what a ballot means; frozen once the first ballot exists.
_STRUCTURAL_QUESTION_FIELDS = (
    "type",
    "is_required",
    "min_selections",
    "max_selections",
    "scale_min",
    "scale_max",
    "max_length",
    "condition",
)
_TEXT_QUESTION_FIELDS = ("title", "help_text", "scale_min_label", "scale_max_label")
_SURVEY_TEXT_FIELDS = ("title", "description")
_SURVEY_SETTING_FIELDS = (
    "opens_at",
    "closes_at",
    "channels",
    "results_visibility",
    "resubmission",
    "district_threshold",
)
# What may still change once a survey has closed.
_CLOSED_EDITABLE = {"title", "description", "results_visibility", "district_threshold"}


# --- lookups -----------------------------------------------------------------------------


def get_survey(survey_id: int) -> Survey:
    return get_or_404(Survey, survey_id, "survey")


def get_question(survey: Survey, question_id: int) -> SurveyQuestion:
    question = db.session.get(SurveyQuestion, question_id)
    if question is None or question.survey_id != survey.id:
        raise NotFound(f"Survey {survey.id} has no question {question_id}.")
    return question


def load_questions(survey: Survey) -> list[SurveyQuestion]:
    """A survey's questions in order with their options, in two queries instead of 1 + n."""
    return list(
        db.session.scalars(
            select(SurveyQuestion)
            .where(SurveyQuestion.survey_id == survey.id)
            .order_by(SurveyQuestion.position, SurveyQuestion.id)
            .options(selectinload(SurveyQuestion.options))
        )
    )


# --- surveys -----------------------------------------------------------------------------


def _districts(ids: list[int]) -> list[District]:
    unique = sorted(set(ids))
    found = list(db.session.scalars(select(District).where(District.id.in_(unique))))
    missing = sorted(set(unique) - {d.id for d in found})
    if missing:
        raise ValidationError(errors={"district_ids": [f"Unknown districts: {missing}."]})
    return found


def create_survey(actor: Actor, **data: Any) -> Survey:
    """Create a draft survey (questions are added separately)."""
    district_ids = data.pop("district_ids", None) or []
    survey = Survey(status=SurveyStatus.DRAFT, ballot_count=0, results_version=0)
    for field in (*_SURVEY_TEXT_FIELDS, *_SURVEY_SETTING_FIELDS):
        if field in data:
            setattr(survey, field, data[field])
    survey.channels = sorted(set(survey.channels or [Channel.APP]))
    survey.created_by_id = getattr(actor, "id", None)
    survey.districts = _districts(district_ids)
    _check_dates(survey)
    db.session.add(survey)
    db.session.flush()
    record_audit(
        actor,
        "survey.create",
        object_type="survey",
        object_id=survey.id,
        summary=(survey.title or {}).get("de", ""),
    )
    return survey


def _check_dates(survey: Survey) -> None:
    if survey.opens_at and survey.closes_at and survey.closes_at <= survey.opens_at:
        raise ValidationError(errors={"closes_at": ["Must be after opens_at."]})


def _emit_if_public(
    survey: Survey,
    action: str,
    *,
    previous_channels: list[str] | None = None,
    previous_district_ids: list[int] | None = None,
) -> None:
    """Steles show stele polls: tell them (inside this transaction) when a non-draft survey
    changes."""
    if survey.status == SurveyStatus.DRAFT:
        return
    emit_survey_changed(
        survey,
        action,
        previous_channels=previous_channels,
        previous_district_ids=previous_district_ids,
    )


def update_survey(actor: Actor, survey: Survey, **data: Any) -> Survey:
    """Change texts and settings; texts stay correctable after the first ballot (audited)."""
    status = survey.effective_status()
    previous_channels = list(survey.channels or [])
    previous_district_ids = [d.id for d in survey.districts]
    if status in (SurveyStatus.CLOSED, SurveyStatus.ARCHIVED):
        locked = sorted(set(data) - _CLOSED_EDITABLE)
        if locked:
            raise Conflict(
                f"A {status} survey only allows changes to {', '.join(sorted(_CLOSED_EDITABLE))}.",
                errors={field: ["Locked after close."] for field in locked},
            )
    if status == SurveyStatus.OPEN and "opens_at" in data and data["opens_at"] != survey.opens_at:
        raise Conflict("The survey is open already; opens_at can no longer change.")
    changes: dict[str, Any] = {}
    for field in (*_SURVEY_TEXT_FIELDS, *_SURVEY_SETTING_FIELDS):
        if field in data and data[field] != getattr(survey, field):
            value = data[field]
            if field == "channels":
                value = sorted(set(value))
            changes[field] = {"from": _jsonable(getattr(survey, field)), "to": _jsonable(value)}
            setattr(survey, field, value)
    if "district_ids" in data:
        new = _districts(data["district_ids"])
        old_ids = sorted(d.id for d in survey.districts)
        if sorted(d.id for d in new) != old_ids:
            changes["district_ids"] = {"from": old_ids, "to": sorted(d.id for d in new)}
            survey.districts = new
    if not changes:
        return survey
    _check_dates(survey)
    if survey.status != SurveyStatus.DRAFT and status in (
        SurveyStatus.SCHEDULED,
        SurveyStatus.OPEN,
    ):
        raise_if_invalid(survey)
    text_only = set(changes) <= set(_SURVEY_TEXT_FIELDS)
    action = "survey.text_corrected" if survey.has_ballots and text_only else "survey.update"
    record_audit(
        actor,
        action,
        object_type="survey",
        object_id=survey.id,
        summary="changed " + ", ".join(sorted(changes)),
        changes=changes,
    )
    _emit_if_public(
        survey,
        "update",
        previous_channels=previous_channels,
        previous_district_ids=previous_district_ids,
    )
    return survey


def delete_survey(actor: Actor, survey: Survey) -> None:
    if survey.status != SurveyStatus.DRAFT or survey.has_ballots:
        raise Conflict("Only draft surveys without ballots can be deleted; archive it instead.")
    record_audit(
        actor,
        "survey.delete",
        object_type="survey",
        object_id=survey.id,
        summary=(survey.title or {}).get("de", ""),
    )
    db.session.delete(survey)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


# --- questions ---------------------------------------------------------------------------


def _finish_question_change(
    actor: Actor, survey: Survey, action: str, *, revalidate: bool = True, **audit: Any
) -> None:
    """The tail of every question change: touch the survey, flush, re-validate a survey that
    is no longer a draft, audit, and tell the steles."""
    survey.updated_at = utcnow()
    db.session.flush()
    if revalidate and survey.status != SurveyStatus.DRAFT:
        raise_if_invalid(survey)
    record_audit(actor, action, object_type="survey", object_id=survey.id, **audit)
    _emit_if_public(survey, "update")


def _ensure_structure_editable(survey: Survey) -> None:
    if survey.has_ballots:
        raise Conflict(
            "Questions and options are frozen once the first ballot exists; "
            "only their texts can be corrected."
        )
    if survey.effective_status() in (SurveyStatus.CLOSED, SurveyStatus.ARCHIVED):
        raise Conflict("The survey is closed; its questions can no longer change.")


def add_question(actor: Actor, survey: Survey, **data: Any) -> SurveyQuestion:
    """Append a question (with its options) to a survey whose structure is not frozen."""
    _ensure_structure_editable(survey)
    options = data.pop("options", None) or []
    question = SurveyQuestion(position=len(survey.questions))
    for field in (*_STRUCTURAL_QUESTION_FIELDS, *_TEXT_QUESTION_FIELDS):
        if field in data:
            setattr(question, field, data[field])
    _apply_defaults(question)
    question.options = [
        SurveyOption(label=o["label"], is_other=bool(o.get("is_other")), position=i)
        for i, o in enumerate(options)
    ]
    if options and any("id" in o for o in options):
        raise ValidationError(errors={"options": ["New options have no id."]})
    survey.questions.append(question)
    raise_question_errors(survey, question)
    _finish_question_change(
        actor, survey, "survey.question_create", summary=f"question {question.id} ({question.type})"
    )
    return question


def _apply_defaults(question: SurveyQuestion) -> None:
    if question.type == QuestionType.MULTIPLE_CHOICE and question.min_selections is None:
        question.min_selections = 1
    if question.type == QuestionType.SCALE:
        if question.scale_min is None:
            question.scale_min = 1
        if question.scale_max is None:
            question.scale_max = 5
    if question.type == QuestionType.FREE_TEXT and question.max_length is None:
        question.max_length = FREE_TEXT_LIMIT
    if question.is_required is None:
        question.is_required = False


def update_question(actor: Actor, survey: Survey, question: SurveyQuestion, **data: Any):
    """Change a question. After the first ballot only texts (and option labels) may change."""
    changes: dict[str, Any] = {}
    structural = False
    for field in _STRUCTURAL_QUESTION_FIELDS:
        if field in data and data[field] != getattr(question, field):
            structural = True
            changes[field] = {"from": getattr(question, field), "to": data[field]}
    for field in _TEXT_QUESTION_FIELDS:
        if field in data and data[field] != getattr(question, field):
            changes[field] = {"from": getattr(question, field), "to": data[field]}
    option_plan = None
    if "options" in data:
        option_plan, option_structural, option_changes = _plan_options(question, data["options"])
        structural = structural or option_structural
        if option_changes:
            changes["options"] = option_changes
    if structural:
        _ensure_structure_editable(survey)
    if not changes:
        return question
    for field in (*_STRUCTURAL_QUESTION_FIELDS, *_TEXT_QUESTION_FIELDS):
        if field in data:
            setattr(question, field, data[field])
    if "type" in data:
        _apply_defaults(question)
    if option_plan is not None:
        _apply_options(question, option_plan)
    raise_question_errors(survey, question)
    action = (
        "survey.text_corrected"
        if survey.has_ballots and not structural
        else "survey.question_update"
    )
    _finish_question_change(
        actor,
        survey,
        action,
        revalidate=structural,
        summary=f"question {question.id}: changed " + ", ".join(sorted(changes)),
        changes={"question_id": question.id, **changes},
    )
    return question


def _plan_options(question: SurveyQuestion, wanted: list[dict]):
    """Match the wanted option list against the current one: (plan, structural?, changes)."""
    current = {o.id: o for o in question.options}
    seen: set[int] = set()
    plan = []
    for item in wanted:
        option_id = item.get("id")
        if option_id is not None:
            if option_id not in current or option_id in seen:
                raise ValidationError(
                    errors={"options": [f"Option {option_id} is not an option of this question."]}
                )
            seen.add(option_id)
        plan.append(item)
    current_shape = [(o.id, o.is_other) for o in question.options]
    wanted_shape = [(i.get("id"), bool(i.get("is_other"))) for i in wanted]
    structural = current_shape != wanted_shape
    changes = []
    for item in wanted:
        option = current.get(item.get("id"))
        if option is None:
            changes.append({"added": item["label"]})
        elif option.label != item["label"]:
            changes.append({"id": option.id, "from": option.label, "to": item["label"]})
    for option_id in set(current) - seen:
        changes.append({"removed": option_id})
    return plan, structural, changes


def _apply_options(question: SurveyQuestion, plan: list[dict]) -> None:
    current = {o.id: o for o in question.options}
    options = []
    for position, item in enumerate(plan):
        option = current.get(item.get("id")) or SurveyOption()
        option.label = item["label"]
        option.is_other = bool(item.get("is_other"))
        option.position = position
        options.append(option)
    question.options = options


def delete_question(actor: Actor, survey: Survey, question: SurveyQuestion) -> None:
    _ensure_structure_editable(survey)
    dependants = [
        q.id
        for q in survey.questions
        if q.condition and q.condition.get("question_id") == question.id
    ]
    if dependants:
        raise Conflict(
            f"Questions {dependants} show only depending on this one; change them first."
        )
    survey.questions.remove(question)
    for position, remaining in enumerate(survey.questions):
        remaining.position = position
    _finish_question_change(
        actor, survey, "survey.question_delete", summary=f"question {question.id}"
    )


def reorder_questions(actor: Actor, survey: Survey, question_ids: list[int]) -> Survey:
    _ensure_structure_editable(survey)
    current = {q.id: q for q in survey.questions}
    if sorted(question_ids) != sorted(current) or len(set(question_ids)) != len(question_ids):
        raise ValidationError(
            errors={"question_ids": ["List every question of the survey exactly once."]}
        )
    for position, question_id in enumerate(question_ids):
        current[question_id].position = position
    survey.questions.sort(key=lambda q: q.position)
    errors = {}
    for question in survey.questions:
        errors.update(question_errors(survey, question, prefix=f"questions.{question.id}"))
    if errors:
        raise ValidationError("The new order breaks question conditions.", errors=errors)
    # The conditions were just checked question by question; nothing else changed.
    _finish_question_change(
        actor, survey, "survey.questions_reorder", revalidate=False, changes={"order": question_ids}
    )
    return survey
