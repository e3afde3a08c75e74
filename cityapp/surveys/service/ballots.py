"""Participation: participant keys, ballot validation, one ballot per participant."""

from __future__ import annotations

import hashlib
import hmac
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from cityapp.auth.models import Installation
from cityapp.db import db, utcnow
from cityapp.errors import Conflict, ValidationError
from cityapp.places.models import District
from cityapp.surveys.models import (
    Channel,
    ModerationStatus,
    QuestionType,
    ResubmissionPolicy,
    Survey,
    SurveyAnswer,
    SurveyBallot,
    SurveyOption,
    SurveyQuestion,
    SurveyStatus,
)
from cityapp.surveys.service.builder import load_questions
from cityapp.surveys.service.cells import add_cell_deltas, apply_cell_deltas

OTHER_TEXT_LIMIT = 200


# --- participant keys --------------------------------------------------------------------


def ballot_secret() -> bytes:
    """The server secret for participant keys: CITYAPP_BALLOT_KEY, else derived from
    SECRET_KEY with a purpose label (so it is never the session-signing key itself)."""
    configured = current_app.config.get("CITYAPP_BALLOT_KEY")
    if configured:
        return configured.encode()
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, b"cityapp/surveys/participant-key/v1", hashlib.sha256).digest()


def participant_key(survey_id: int, identity: str) -> str:
    """HMAC-SHA256 of (survey, identity): stable per survey, unlinkable across surveys, and
    not reversible to the identity without the server secret."""
    message = f"{survey_id}:{identity}".encode()
    return hmac.new(ballot_secret(), message, hashlib.sha256).hexdigest()


def participant_key_for_installation(survey: Survey, installation: Installation) -> str:
    return participant_key(survey.id, f"installation:{installation.id}")


# --- validation --------------------------------------------------------------------------


@dataclass
class _Row:
    question_id: int
    option_id: int | None = None
    value: int | None = None
    text: str | None = None


def _load_structure(survey: Survey) -> list[SurveyQuestion]:
    return load_questions(survey)


_KEYS_BY_TYPE = {
    QuestionType.SINGLE_CHOICE: {"option_id", "other_text"},
    QuestionType.MULTIPLE_CHOICE: {"option_ids", "other_text"},
    QuestionType.SCALE: {"value"},
    QuestionType.YES_NO: {"value"},
    QuestionType.RANKING: {"ranking"},
    QuestionType.FREE_TEXT: {"text"},
}

_HOW_TO_ANSWER = {
    QuestionType.SINGLE_CHOICE: "option_id (and other_text for the 'other' option)",
    QuestionType.MULTIPLE_CHOICE: "option_ids (and other_text for the 'other' option)",
    QuestionType.SCALE: "value",
    QuestionType.YES_NO: "value (true or false)",
    QuestionType.RANKING: "ranking (every option id once, best first)",
    QuestionType.FREE_TEXT: "text",
}


def _is_int(value: Any) -> bool:
    return type(value) is int


def _answer_rows(question: SurveyQuestion, answer: dict) -> tuple[list[_Row], Any]:
    """Validate one answer; returns (rows, condition value) or raises ValueError(message)."""
    qtype = question.type
    extra = set(answer) - {"question_id"} - _KEYS_BY_TYPE[qtype]
    if extra:
        raise ValueError(f"Answer {qtype} questions with {_HOW_TO_ANSWER[qtype]}.")
    options = {o.id: o for o in question.options}
    if qtype == QuestionType.SINGLE_CHOICE:
        option_id = answer.get("option_id")
        if not _is_int(option_id) or option_id not in options:
            raise ValueError("Unknown option for this question.")
        other = _other_text(answer, [options[option_id]])
        return [_Row(question.id, option_id=option_id, text=other)], {option_id}
    if qtype == QuestionType.MULTIPLE_CHOICE:
        chosen = answer.get("option_ids")
        if not isinstance(chosen, list) or not all(_is_int(i) for i in chosen):
            raise ValueError("option_ids must be a list of option ids.")
        if len(set(chosen)) != len(chosen):
            raise ValueError("An option is selected twice.")
        if any(i not in options for i in chosen):
            raise ValueError("Unknown option for this question.")
        low = question.min_selections or 1
        high = question.max_selections or len(options)
        if len(chosen) > high:
            raise ValueError(f"Select at most {high} options.")
        if len(chosen) < low:
            raise ValueError(f"Select at least {low} options.")
        other = _other_text(answer, [options[i] for i in chosen])
        rows = [
            _Row(question.id, option_id=i, text=other if options[i].is_other else None)
            for i in chosen
        ]
        return rows, set(chosen)
    if qtype == QuestionType.SCALE:
        value = answer.get("value")
        low, high = question.scale_min, question.scale_max
        if not _is_int(value) or not low <= value <= high:
            raise ValueError(f"Choose a whole number from {low} to {high}.")
        return [_Row(question.id, value=value)], value
    if qtype == QuestionType.YES_NO:
        value = answer.get("value")
        if type(value) is not bool:
            raise ValueError("Answer true or false.")
        return [_Row(question.id, value=int(value))], value
    if qtype == QuestionType.RANKING:
        ranking = answer.get("ranking")
        if not isinstance(ranking, list) or not all(_is_int(i) for i in ranking):
            raise ValueError("ranking must be a list of option ids, best first.")
        if len(set(ranking)) != len(ranking):
            raise ValueError("Each option can have only one rank (duplicate ranks).")
        if any(i not in options for i in ranking):
            raise ValueError("Unknown option for this question.")
        if len(ranking) != len(options):
            raise ValueError("Rank every option.")
        return [
            _Row(question.id, option_id=i, value=rank) for rank, i in enumerate(ranking, 1)
        ], None
    # free text
    text = answer.get("text")
    if not isinstance(text, str):
        raise ValueError("text must be a string.")
    text = text.strip()
    limit = question.max_length or 1000
    if len(text) > limit:
        raise ValueError(f"At most {limit} characters.")
    if not text:
        return [], None
    return [_Row(question.id, text=text)], None


def _other_text(answer: dict, chosen: list[SurveyOption]) -> str | None:
    text = answer.get("other_text")
    if text is None:
        return None
    if not isinstance(text, str):
        raise ValueError("other_text must be a string.")
    if not any(o.is_other for o in chosen):
        raise ValueError("other_text is only for the 'other' option.")
    text = text.strip()
    if len(text) > OTHER_TEXT_LIMIT:
        raise ValueError(f"other_text has at most {OTHER_TEXT_LIMIT} characters.")
    return text or None


def _condition_met(question: SurveyQuestion, given: dict[int, Any]) -> bool:
    condition = question.condition
    if not condition:
        return True
    source_value = given.get(condition["question_id"])
    if source_value is None:
        return False
    if "option_ids" in condition:
        return bool(set(condition["option_ids"]) & set(source_value))
    return source_value in condition["values"]


def validate_answers(
    survey: Survey, answers: list[dict], questions: list[SurveyQuestion] | None = None
) -> list[_Row]:
    """Check answers against types, conditions and required flags; 422 with per-question
    errors (keyed "answers.<question_id>") and nothing stored when anything is wrong."""
    if questions is None:
        questions = _load_structure(survey)
    by_id = {q.id: q for q in questions}
    errors: dict[str, list[str]] = {}
    submitted: dict[int, dict] = {}
    for answer in answers:
        question_id = answer.get("question_id")
        key = f"answers.{question_id}"
        if question_id not in by_id:
            errors.setdefault(key, []).append("Not a question of this survey.")
        elif question_id in submitted:
            errors.setdefault(key, []).append("Answered twice.")
        else:
            submitted[question_id] = answer
    rows: list[_Row] = []
    given: dict[int, Any] = {}
    invalid: set[int] = set()
    for question in questions:  # position order: conditions look back only
        key = f"answers.{question.id}"
        if question.condition and question.condition["question_id"] in invalid:
            invalid.add(question.id)  # unknowable until its source answer is fixed
            continue
        visible = _condition_met(question, given)
        answer = submitted.get(question.id)
        if answer is not None and not visible:
            errors.setdefault(key, []).append("This question is not shown for your answers.")
            continue
        if answer is not None:
            try:
                question_rows, value = _answer_rows(question, answer)
            except ValueError as error:
                errors.setdefault(key, []).append(str(error))
                invalid.add(question.id)
                continue
            if question_rows:
                rows.extend(question_rows)
                given[question.id] = value
                continue
        if visible and question.is_required:
            errors.setdefault(key, []).append("This question needs an answer.")
    if errors:
        raise ValidationError("Some answers are not valid; see errors.", errors=errors)
    return rows


# --- ballots -----------------------------------------------------------------------------


def ensure_open(survey: Survey, now: datetime, channel: str) -> None:
    status = survey.effective_status(now)
    if status != SurveyStatus.OPEN:
        raise Conflict(f"The survey is {status}; it takes no ballots.")
    if channel not in (survey.channels or []):
        raise Conflict(f"The survey takes no ballots through the {channel} channel.")


def find_ballot(survey: Survey, key: str, *, lock: bool = False) -> SurveyBallot | None:
    """The participant's ballot; ``lock`` holds its row until commit (PostgreSQL), so two
    concurrent replacements run one after the other instead of mixing their answers."""
    query = select(SurveyBallot).where(
        SurveyBallot.survey_id == survey.id, SurveyBallot.participant_key == key
    )
    if lock:
        query = query.with_for_update()
    return db.session.scalar(query)


def _bump_counters(survey: Survey, new_ballots: int) -> None:
    """Counters change in SQL (no lost updates between workers); updated_at stays put."""
    db.session.execute(
        update(Survey)
        .where(Survey.id == survey.id)
        .values(
            ballot_count=Survey.ballot_count + new_ballots,
            results_version=Survey.results_version + 1,
            updated_at=Survey.updated_at,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.expire(survey, ["ballot_count", "results_version"])


def _insert_answers(survey: Survey, ballot: SurveyBallot, rows: list[_Row]) -> None:
    if not rows:
        return
    db.session.execute(
        SurveyAnswer.__table__.insert(),
        [
            {
                "ballot_id": ballot.id,
                "survey_id": survey.id,
                "question_id": row.question_id,
                "option_id": row.option_id,
                "value": row.value,
                "text": row.text,
                "moderation_status": ModerationStatus.PENDING if row.text else None,
                "moderated_at": None,
                "moderated_by_id": None,
            }
            for row in rows
        ],
    )


def submit_ballot(
    survey: Survey,
    key: str,
    answers: list[dict],
    *,
    district_id: int | None = None,
    channel: str = Channel.APP,
    now: datetime | None = None,
) -> tuple[SurveyBallot, bool]:
    """Store a participant's ballot; returns (ballot, created). A second ballot from the same
    participant replaces the first, or fails with 409 under the survey's reject policy."""
    now = now or utcnow()
    ensure_open(survey, now, channel)
    rows = validate_answers(survey, answers)
    if district_id is not None and db.session.get(District, district_id) is None:
        raise ValidationError(errors={"district_id": ["Unknown district."]})
    ballot = find_ballot(survey, key, lock=True)
    if ballot is not None:
        if survey.resubmission == ResubmissionPolicy.REJECT:
            raise Conflict("You have already taken part in this survey.")
        deltas: dict = defaultdict(int)
        old_rows = db.session.execute(
            select(SurveyAnswer.question_id, SurveyAnswer.option_id, SurveyAnswer.value).where(
                SurveyAnswer.ballot_id == ballot.id
            )
        ).all()
        add_cell_deltas(deltas, old_rows, ballot.district_id, -1)
        add_cell_deltas(deltas, rows, district_id, +1)
        db.session.execute(delete(SurveyAnswer).where(SurveyAnswer.ballot_id == ballot.id))
        db.session.expire(ballot, ["answers"])
        ballot.district_id = district_id
        ballot.channel = channel
        ballot.updated_at = now
        db.session.flush()
        _insert_answers(survey, ballot, rows)
        apply_cell_deltas(survey.id, deltas)
        _bump_counters(survey, 0)
        return ballot, False
    ballot = SurveyBallot(
        survey_id=survey.id,
        participant_key=key,
        channel=channel,
        district_id=district_id,
        submitted_at=now,
        updated_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(ballot)
            db.session.flush()
    except IntegrityError:
        # The same participant submitted twice at the same moment; the other one won.
        raise Conflict("Another ballot of yours is being stored; try again.") from None
    _insert_answers(survey, ballot, rows)
    deltas = defaultdict(int)
    add_cell_deltas(deltas, rows, district_id, +1)
    apply_cell_deltas(survey.id, deltas)
    _bump_counters(survey, 1)
    return ballot, True


def get_my_ballot(survey: Survey, key: str) -> SurveyBallot | None:
    return find_ballot(survey, key)


def list_ballot_answers(ballot: SurveyBallot) -> list[dict]:
    """A ballot's answers in the shape they were submitted (for GET my-ballot)."""
    questions = {q.id: q for q in db.session.get(Survey, ballot.survey_id).questions}
    rows = db.session.scalars(
        select(SurveyAnswer).where(SurveyAnswer.ballot_id == ballot.id).order_by(SurveyAnswer.id)
    )
    grouped: dict[int, list[SurveyAnswer]] = {}
    for row in rows:
        grouped.setdefault(row.question_id, []).append(row)
    payload = []
    for question_id, answers in grouped.items():
        qtype = questions[question_id].type
        item: dict[str, Any] = {"question_id": question_id}
        other = next((a.text for a in answers if a.option_id and a.text), None)
        if qtype == QuestionType.SINGLE_CHOICE:
            item["option_id"] = answers[0].option_id
        elif qtype == QuestionType.MULTIPLE_CHOICE:
            item["option_ids"] = [a.option_id for a in answers]
        elif qtype == QuestionType.SCALE:
            item["value"] = answers[0].value
        elif qtype == QuestionType.YES_NO:
            item["value"] = bool(answers[0].value)
        elif qtype == QuestionType.RANKING:
            item["ranking"] = [a.option_id for a in sorted(answers, key=lambda a: a.value)]
        else:
            item["text"] = answers[0].text
        if other is not None:
            item["other_text"] = other
        payload.append(item)
    order = {q_id: q.position for q_id, q in questions.items()}
    return sorted(payload, key=lambda item: order[item["question_id"]])
