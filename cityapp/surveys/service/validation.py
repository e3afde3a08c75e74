"""Survey validation: each question on save, the whole survey before it opens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cityapp.db import utcnow
from cityapp.errors import ValidationError
from cityapp.surveys.models import (
    CHOICE_TYPES,
    OPTION_TYPES,
    Channel,
    QuestionType,
    Survey,
    SurveyQuestion,
)

FREE_TEXT_LIMIT = 1000
MAX_SCALE_STEPS = 10
MAX_OPTIONS = 30

# --- validation --------------------------------------------------------------------------


def _missing_german(value: dict | None) -> bool:
    return not isinstance(value, dict) or not str(value.get("de") or "").strip()


def question_errors(survey: Survey, question: SurveyQuestion, *, prefix: str = "") -> dict:
    """Everything wrong with one question, keyed by field (with an optional prefix)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        key = f"{prefix}.{field}" if prefix else field
        errors.setdefault(key, []).append(message)

    qtype = question.type
    if qtype not in {t.value for t in QuestionType}:
        add("type", f"Unknown question type {qtype!r}.")
        return errors
    if _missing_german(question.title):
        add("title", "A German title is required.")
    options = question.options
    if qtype in OPTION_TYPES:
        regular = [o for o in options if not o.is_other]
        if len(regular) < 2:
            add("options", "Give at least two options.")
        if len(options) > MAX_OPTIONS:
            add("options", f"At most {MAX_OPTIONS} options.")
        if sum(1 for o in options if o.is_other) > 1:
            add("options", "At most one 'other' option.")
        if qtype == QuestionType.RANKING and any(o.is_other for o in options):
            add("options", "Ranking questions cannot have an 'other' option.")
        if any(_missing_german(o.label) for o in options):
            add("options", "Every option needs a German label.")
    elif options:
        add("options", f"{qtype} questions have no options.")
    if qtype == QuestionType.MULTIPLE_CHOICE:
        low = question.min_selections or 0
        high = question.max_selections if question.max_selections is not None else len(options)
        if low < 1:
            add("min_selections", "At least 1.")
        if high < low:
            add("max_selections", "Must not be below min_selections.")
        if options and high > len(options):
            add("max_selections", "Cannot exceed the number of options.")
    elif question.min_selections is not None or question.max_selections is not None:
        add("min_selections", "Only multiple_choice questions have selection limits.")
    if qtype == QuestionType.SCALE:
        low, high = question.scale_min, question.scale_max
        if low is None or high is None or high <= low:
            add("scale_max", "scale_max must be greater than scale_min.")
        elif high - low > MAX_SCALE_STEPS:
            add("scale_max", f"A scale has at most {MAX_SCALE_STEPS + 1} points (e.g. 0-10).")
    elif question.scale_min is not None or question.scale_max is not None:
        add("scale_min", "Only scale questions have a range.")
    if qtype == QuestionType.FREE_TEXT:
        if not question.max_length or not 1 <= question.max_length <= FREE_TEXT_LIMIT:
            add("max_length", f"Between 1 and {FREE_TEXT_LIMIT} characters.")
    elif question.max_length is not None:
        add("max_length", "Only free_text questions have a length limit.")
    if question.condition is not None:
        for message in condition_errors(survey, question, question.condition):
            add("condition", message)
    return errors


def condition_errors(survey: Survey, question: SurveyQuestion, condition: Any) -> list[str]:
    """What is wrong with a condition; it must point at an earlier question's options/values."""
    if not isinstance(condition, dict) or not isinstance(condition.get("question_id"), int):
        return ['Write conditions as {"question_id": <id>, "option_ids": [...]} or "values".']
    keys = set(condition) - {"question_id"}
    if len(keys) != 1 or not keys <= {"option_ids", "values"}:
        return ["A condition needs exactly one of option_ids or values."]
    (key,) = keys
    wanted = condition[key]
    if not isinstance(wanted, list) or not wanted or len(wanted) > MAX_OPTIONS:
        return [f"{key} must be a non-empty list."]
    source = next((q for q in survey.questions if q.id == condition["question_id"]), None)
    if source is None or source is question:
        return [f"Question {condition['question_id']} is not another question of this survey."]
    if source.position >= question.position:
        return ["A condition can only depend on an earlier question."]
    if source.type in CHOICE_TYPES:
        if key != "option_ids":
            return ["Conditions on choice questions use option_ids."]
        option_ids = {o.id for o in source.options}
        if any(type(v) is not int or v not in option_ids for v in wanted):
            return [f"option_ids must be options of question {source.id}."]
    elif source.type == QuestionType.YES_NO:
        if key != "values" or any(type(v) is not bool for v in wanted):
            return ["Conditions on yes/no questions use values: [true] or [false]."]
    elif source.type == QuestionType.SCALE:
        low, high = source.scale_min or 0, source.scale_max or 0
        if key != "values" or any(type(v) is not int or not low <= v <= high for v in wanted):
            return [f"values must be whole numbers from {low} to {high}."]
    else:
        return [f"{source.type} questions cannot be used in conditions."]
    return []


def raise_question_errors(survey: Survey, question: SurveyQuestion) -> None:
    errors = question_errors(survey, question)
    if errors:
        raise ValidationError("The question is not valid.", errors=errors)


def validate_survey(survey: Survey, now: datetime | None = None) -> dict[str, list[str]]:
    """Everything that must hold before a survey can open; {} when it is ready."""
    now = now or utcnow()
    errors: dict[str, list[str]] = {}
    if _missing_german(survey.title):
        errors["title"] = ["A German title is required."]
    channels = set(survey.channels or [])
    if not channels or not channels <= {c.value for c in Channel}:
        errors["channels"] = ["Choose one or more of: app, stele, web."]
    if survey.closes_at and survey.closes_at <= now:
        errors["closes_at"] = ["Must be in the future."]
    if survey.opens_at and survey.closes_at and survey.closes_at <= survey.opens_at:
        errors["closes_at"] = ["Must be after opens_at."]
    if not survey.questions:
        errors["questions"] = ["Add at least one question."]
    for question in survey.questions:
        errors.update(question_errors(survey, question, prefix=f"questions.{question.id}"))
    if Channel.STELE in channels:
        only = survey.questions[0] if len(survey.questions) == 1 else None
        if only is None or only.type != QuestionType.SINGLE_CHOICE:
            errors.setdefault("channels", []).append(
                "A stele poll has exactly one single_choice question."
            )
        elif any(o.is_other for o in only.options) or only.condition:
            errors.setdefault("channels", []).append(
                "A stele poll question has no 'other' option and no condition."
            )
    return errors


def raise_if_invalid(survey: Survey) -> None:
    errors = validate_survey(survey)
    if errors:
        raise ValidationError("The survey would no longer be valid.", errors=errors)
