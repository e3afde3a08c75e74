"""Results: aggregate SQL per survey, visibility policy, k-anonymous district breakdown and
moderation of free-text answers. Nothing here loads ballots one by one into Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import func, select, update

from cityapp.auth.models import StaffUser
from cityapp.auth.service import Actor, record_audit
from cityapp.db import db, utcnow
from cityapp.errors import Forbidden, NotFound, ValidationError
from cityapp.places.models import District
from cityapp.surveys.models import (
    CHOICE_TYPES,
    ModerationStatus,
    QuestionType,
    ResultsVisibility,
    Survey,
    SurveyAnswer,
    SurveyBallot,
    SurveyQuestion,
    SurveyStatus,
)
from cityapp.surveys.service.builder import load_questions
from cityapp.surveys.service.cells import CellKey, load_stored_cells, parse_cell

PUBLISHED_TEXTS_PER_QUESTION = 50
_YES = {"de": "Ja", "en": "Yes", "de-x-ls": "Ja"}
_NO = {"de": "Nein", "en": "No", "de-x-ls": "Nein"}

Translate = Callable[[dict | None], str | None]


# --- visibility --------------------------------------------------------------------------


def results_available(survey: Survey, now: datetime | None = None) -> bool:
    """Whether the public may see results now, by the survey's visibility policy."""
    status = survey.effective_status(now)
    if survey.results_visibility == ResultsVisibility.LIVE:
        return status in (SurveyStatus.OPEN, SurveyStatus.CLOSED, SurveyStatus.ARCHIVED)
    if survey.results_visibility == ResultsVisibility.AFTER_CLOSE:
        return status in (SurveyStatus.CLOSED, SurveyStatus.ARCHIVED)
    return False


def ensure_results_visible(survey: Survey, now: datetime | None = None) -> None:
    if results_available(survey, now):
        return
    if survey.results_visibility == ResultsVisibility.STAFF_ONLY:
        raise Forbidden("The results of this survey are not published.")
    raise Forbidden("The results are published when the survey closes.")


def district_threshold(survey: Survey) -> int:
    return survey.district_threshold or current_app.config["CITYAPP_SURVEY_DISTRICT_K"]


# --- aggregation -------------------------------------------------------------------------


def _percent(count: int, total: int) -> float:
    return round(100.0 * count / total, 1) if total else 0.0


def _median(distribution: list[tuple[int, int]]) -> float | None:
    """Exact median from (value, count) pairs sorted by value."""
    total = sum(count for _v, count in distribution)
    if not total:
        return None
    lower_index, upper_index = (total - 1) // 2, total // 2
    seen, lower, upper = 0, None, None
    for value, count in distribution:
        if lower is None and seen + count > lower_index:
            lower = value
        if seen + count > upper_index:
            upper = value
            break
        seen += count
    return (lower + upper) / 2


def _published_texts(survey: Survey) -> dict[tuple[int, int | None], list[str]]:
    """Approved texts per (question, option), newest first, a bounded number per question."""
    rows = db.session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.option_id, SurveyAnswer.text)
        .where(
            SurveyAnswer.survey_id == survey.id,
            SurveyAnswer.moderation_status == ModerationStatus.APPROVED,
        )
        .order_by(SurveyAnswer.id.desc())
    )
    texts: dict[tuple[int, int | None], list[str]] = defaultdict(list)
    for question_id, option_id, text in rows:
        bucket = texts[(question_id, option_id)]
        if len(bucket) < PUBLISHED_TEXTS_PER_QUESTION:
            bucket.append(text)
    return texts


def _moderation_counts(survey: Survey) -> dict[int, dict[str, int]]:
    rows = db.session.execute(
        select(SurveyAnswer.question_id, SurveyAnswer.moderation_status, func.count())
        .where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.moderation_status.is_not(None))
        .group_by(SurveyAnswer.question_id, SurveyAnswer.moderation_status)
    )
    counts: dict[int, dict[str, int]] = defaultdict(lambda: {s.value: 0 for s in ModerationStatus})
    for question_id, status, count in rows:
        counts[question_id][status] = count
    return counts


def _question_result(
    question: SurveyQuestion,
    cells: dict[tuple[int | None, int | None], int],
    respondents: int,
    translate: Translate,
    texts: dict | None,
) -> dict[str, Any]:
    """Turn the (option, value) -> count cells of one question into its result block."""
    result: dict[str, Any] = {
        "question_id": question.id,
        "type": question.type,
        "title": translate(question.title),
        "respondents": respondents,
    }
    qtype = question.type
    if qtype in CHOICE_TYPES:
        counts: dict[int | None, int] = defaultdict(int)
        for (option_id, _value), count in cells.items():
            counts[option_id] += count
        options = []
        for option in question.options:
            entry = {
                "option_id": option.id,
                "label": translate(option.label),
                "is_other": option.is_other,
                "count": counts.get(option.id, 0),
                "percent": _percent(counts.get(option.id, 0), respondents),
            }
            if option.is_other and texts is not None:
                entry["other_texts"] = texts.get((question.id, option.id), [])
            options.append(entry)
        result["options"] = options
    elif qtype == QuestionType.YES_NO:
        counts = defaultdict(int)
        for (_option, value), count in cells.items():
            counts[value] += count
        result["options"] = [
            {
                "value": answer,
                "label": translate(_YES if answer else _NO),
                "count": counts.get(int(answer), 0),
                "percent": _percent(counts.get(int(answer), 0), respondents),
            }
            for answer in (True, False)
        ]
    elif qtype == QuestionType.SCALE:
        counts = defaultdict(int)
        for (_option, value), count in cells.items():
            counts[value] += count
        distribution = [
            (value, counts.get(value, 0))
            for value in range(question.scale_min, question.scale_max + 1)
        ]
        total = sum(count for _v, count in distribution)
        result["scale"] = {
            "min": question.scale_min,
            "max": question.scale_max,
            "min_label": translate(question.scale_min_label),
            "max_label": translate(question.scale_max_label),
            "mean": round(sum(v * c for v, c in distribution) / total, 2) if total else None,
            "median": _median(distribution),
            "distribution": [
                {"value": v, "count": c, "percent": _percent(c, total)} for v, c in distribution
            ],
        }
    elif qtype == QuestionType.RANKING:
        size = len(question.options)
        options = []
        for option in question.options:
            rank_counts = [cells.get((option.id, rank), 0) for rank in range(1, size + 1)]
            ranked = sum(rank_counts)
            rank_sum = sum(rank * count for rank, count in enumerate(rank_counts, 1))
            options.append(
                {
                    "option_id": option.id,
                    "label": translate(option.label),
                    "average_rank": round(rank_sum / ranked, 2) if ranked else None,
                    # Borda: the top rank earns size-1 points, the last earns 0.
                    "borda_score": ranked * size - rank_sum,
                    "rank_counts": rank_counts,
                }
            )
        options.sort(key=lambda o: -o["borda_score"])
        result["options"] = options
    elif qtype == QuestionType.FREE_TEXT and texts is not None:
        result["texts"] = texts.get((question.id, None), [])
    return result


def _split_cells(
    cells: dict[CellKey, int], known_districts: set[int] | None = None
) -> dict[tuple[int, int], dict]:
    """(question, district_key) -> {(option, value): count, "n": respondents}. Cells of a
    district that no longer exists count as "no district", like its ballots now do."""
    split: dict[tuple[int, int], dict] = defaultdict(lambda: defaultdict(int))
    for (question_id, district_key, cell), count in cells.items():
        if known_districts is not None and district_key not in known_districts:
            district_key = 0
        key = "n" if cell == "n" else parse_cell(cell)
        split[(question_id, district_key)][key] += count
    return split


def _totals(split: dict[tuple[int, int], dict]) -> dict[int, dict]:
    totals: dict[int, dict] = defaultdict(lambda: defaultdict(int))
    for (question_id, _district), cells in split.items():
        for key, count in cells.items():
            totals[question_id][key] += count
    return totals


def compute_results(
    survey: Survey,
    translate: Translate,
    *,
    by_district: bool = False,
    for_staff: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """A survey's results from its counter cells: a few hundred rows whatever the ballots."""
    questions = load_questions(survey)
    cells = load_stored_cells(survey)
    totals = _totals(_split_cells(cells))
    texts = _published_texts(survey)
    moderation = _moderation_counts(survey) if for_staff else {}
    blocks = []
    for question in questions:
        question_cells = dict(totals.get(question.id, {}))
        respondents = question_cells.pop("n", 0)
        block = _question_result(question, question_cells, respondents, translate, texts)
        if for_staff and question.id in moderation:
            block["moderation"] = moderation[question.id]
        blocks.append(block)
    result: dict[str, Any] = {
        "survey_id": survey.id,
        "title": translate(survey.title),
        "status": survey.effective_status(now),
        "results_visibility": survey.results_visibility,
        "participants": survey.ballot_count,
        "computed_at": utcnow(),
        "questions": blocks,
    }
    if by_district:
        result["districts"] = _district_breakdown(survey, questions, cells, translate)
    return result


def _suppress(groups: dict[int | None, int], k: int) -> set[int | None]:
    """Groups below k are hidden; if the hidden remainder could be recovered from the total
    (fewer than k but more than 0 ballots), the next smallest groups are hidden too."""
    hidden = {g for g, n in groups.items() if n < k}
    visible = sorted((n, str(g), g) for g, n in groups.items() if g not in hidden)
    while 0 < sum(groups[g] for g in hidden) < k and visible:
        hidden.add(visible.pop(0)[2])
    return hidden


def _district_breakdown(
    survey: Survey,
    questions: list[SurveyQuestion],
    cells: dict[CellKey, int],
    translate: Translate,
) -> dict[str, Any]:
    k = district_threshold(survey)
    participants = dict(
        db.session.execute(
            select(SurveyBallot.district_id, func.count())
            .where(SurveyBallot.survey_id == survey.id)
            .group_by(SurveyBallot.district_id)
        ).all()
    )
    hidden = _suppress(participants, k)
    shown = [g for g in participants if g not in hidden]
    names = dict(db.session.execute(select(District.id, District.name)).all())
    split = _split_cells(cells, known_districts=set(names) | {0})
    groups = []
    for district_id in sorted(shown, key=lambda g: (g is None, names.get(g, ""), g or 0)):
        blocks = []
        for question in questions:
            if question.type == QuestionType.FREE_TEXT:
                continue
            question_cells = dict(split.get((question.id, district_id or 0), {}))
            respondents = question_cells.pop("n", 0)
            if respondents < k:
                blocks.append(
                    {"question_id": question.id, "type": question.type, "suppressed": True}
                )
                continue
            block = _question_result(question, question_cells, respondents, translate, None)
            block.pop("title", None)
            blocks.append(block)
        groups.append(
            {
                "district_id": district_id,
                "name": names.get(district_id) if district_id is not None else None,
                "participants": participants[district_id],
                "questions": blocks,
            }
        )
    return {"k": k, "groups": groups, "suppressed_groups": len(hidden)}


# --- moderation of free text -------------------------------------------------------------


def text_answers_query(survey: Survey, status: str, question_id: int | None = None):
    """A survey's free-text and "other" answers in one moderation status (oldest first)."""
    query = select(SurveyAnswer).where(
        SurveyAnswer.survey_id == survey.id, SurveyAnswer.moderation_status == status
    )
    if question_id is not None:
        query = query.where(SurveyAnswer.question_id == question_id)
    return query


def get_text_answer(answer_id: int) -> SurveyAnswer:
    answer = db.session.get(SurveyAnswer, answer_id)
    if answer is None or answer.moderation_status is None:
        raise NotFound(f"No text answer {answer_id}.")
    return answer


def moderate_text_answer(
    actor: Actor, answer: SurveyAnswer, status: str, *, reason: str | None = None
) -> SurveyAnswer:
    """Approve (publish with the results) or reject a free-text or "other" answer."""
    if status not in (ModerationStatus.APPROVED, ModerationStatus.REJECTED):
        raise ValidationError(errors={"status": ["Choose approved or rejected."]})
    before = answer.moderation_status
    if before == status:
        return answer
    answer.moderation_status = status
    answer.moderated_at = utcnow()
    answer.moderated_by_id = actor.id if isinstance(actor, StaffUser) else None
    db.session.execute(
        update(Survey)
        .where(Survey.id == answer.survey_id)
        .values(results_version=Survey.results_version + 1, updated_at=Survey.updated_at)
        .execution_options(synchronize_session=False)
    )
    survey = db.session.get(Survey, answer.survey_id)
    if survey is not None:
        db.session.expire(survey, ["results_version"])
    record_audit(
        actor,
        "survey.text_moderated",
        object_type="survey_answer",
        object_id=answer.id,
        summary=f"{before} → {status}" + (f": {reason}" if reason else ""),
        changes={"status": {"from": before, "to": status}, "survey_id": answer.survey_id},
    )
    return answer
