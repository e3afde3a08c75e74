"""CSV exports, produced as generators so a large survey streams in constant memory:
anonymous ballots (one row each, no participant key) and the aggregates."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select

from cityapp.db import db
from cityapp.places.models import District
from cityapp.surveys.models import (
    ModerationStatus,
    QuestionType,
    Survey,
    SurveyAnswer,
    SurveyBallot,
    SurveyQuestion,
)
from cityapp.surveys.service.builder import load_questions
from cityapp.surveys.service.results import compute_results

BATCH = 500
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _line(values: Iterable[Any]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def _safe_text(text: str | None) -> str | None:
    """Texts from the public must not run as spreadsheet formulas (CSV injection)."""
    if text and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _columns(questions: list[SurveyQuestion], translate: Callable) -> list[tuple]:
    """(header, question, kind, option_id) for every column of the ballots CSV."""
    columns: list[tuple] = []
    for number, question in enumerate(questions, 1):
        title = translate(question.title) or ""
        head = f"Q{number}: {title}"
        if question.type in (QuestionType.MULTIPLE_CHOICE, QuestionType.RANKING):
            for option in question.options:
                kind = "rank" if question.type == QuestionType.RANKING else "selected"
                columns.append((f"{head} [{translate(option.label)}]", question, kind, option.id))
        else:
            columns.append((head, question, "main", None))
        if any(o.is_other for o in question.options):
            columns.append((f"{head} [other text]", question, "other", None))
    return columns


def _cell(question: SurveyQuestion, kind: str, option_id: int | None, rows, labels) -> Any:
    if not rows:
        return None
    if kind == "selected":
        return int(any(r.option_id == option_id for r in rows))
    if kind == "rank":
        return next((r.value for r in rows if r.option_id == option_id), None)
    if kind == "other":
        return _safe_text(next((r.text for r in rows if r.text), None))
    if question.type == QuestionType.SINGLE_CHOICE:
        return labels.get(rows[0].option_id)
    if question.type == QuestionType.YES_NO:
        return "yes" if rows[0].value else "no"
    if question.type == QuestionType.SCALE:
        return rows[0].value
    return _safe_text(rows[0].text)


def ballots_csv(survey_id: int, translate: Callable) -> Iterator[str]:
    """One row per ballot in batches; rejected texts are left out.

    Takes the id, not the model: a streamed body outlives the view's session objects."""
    survey = db.session.get(Survey, survey_id)
    questions = load_questions(survey)
    columns = _columns(questions, translate)
    labels = {o.id: translate(o.label) for q in questions for o in q.options}
    districts = {d.id: d.name for d in db.session.scalars(select(District))}
    yield _line(["row", "submitted_on", "channel", "district", *[c[0] for c in columns]])
    last_id, number = 0, 0
    while True:
        ballots = list(
            db.session.execute(
                select(
                    SurveyBallot.id,
                    SurveyBallot.submitted_at,
                    SurveyBallot.channel,
                    SurveyBallot.district_id,
                )
                .where(SurveyBallot.survey_id == survey.id, SurveyBallot.id > last_id)
                .order_by(SurveyBallot.id)
                .limit(BATCH)
            )
        )
        if not ballots:
            return
        last_id = ballots[-1].id
        answers: dict[tuple[int, int], list] = {}
        for row in db.session.execute(
            select(
                SurveyAnswer.ballot_id,
                SurveyAnswer.question_id,
                SurveyAnswer.option_id,
                SurveyAnswer.value,
                SurveyAnswer.text,
                SurveyAnswer.moderation_status,
            ).where(SurveyAnswer.ballot_id.in_([b.id for b in ballots]))
        ):
            if row.moderation_status == ModerationStatus.REJECTED:
                row = row._replace(text=None)
            answers.setdefault((row.ballot_id, row.question_id), []).append(row)
        for ballot in ballots:
            number += 1
            cells = [
                _cell(question, kind, option_id, answers.get((ballot.id, question.id)), labels)
                for _head, question, kind, option_id in columns
            ]
            yield _line(
                [
                    number,
                    ballot.submitted_at.date().isoformat(),
                    ballot.channel,
                    districts.get(ballot.district_id),
                    *cells,
                ]
            )


def results_csv(survey_id: int, translate: Callable) -> Iterator[str]:
    """The aggregates: one row per option, scale value or question."""
    survey = db.session.get(Survey, survey_id)
    results = compute_results(survey, translate, for_staff=True)
    yield _line(
        [
            "question",
            "question_id",
            "title",
            "type",
            "respondents",
            "option_id",
            "answer",
            "count",
            "percent",
            "mean",
            "median",
            "average_rank",
            "borda_score",
        ]
    )
    yield _line(["", "", "participants", "", results["participants"]])
    for number, block in enumerate(results["questions"], 1):
        head = [number, block["question_id"], block["title"], block["type"], block["respondents"]]
        if "scale" in block:
            scale = block["scale"]
            for bucket in scale["distribution"]:
                yield _line(
                    [
                        *head,
                        "",
                        bucket["value"],
                        bucket["count"],
                        bucket["percent"],
                        scale["mean"],
                        scale["median"],
                    ]
                )
        elif "options" in block:
            for option in block["options"]:
                answer = option.get("label")
                yield _line(
                    [
                        *head,
                        option.get("option_id"),
                        answer,
                        option.get("count"),
                        option.get("percent"),
                        "",
                        "",
                        option.get("average_rank"),
                        option.get("borda_score"),
                    ]
                )
        else:
            yield _line(head)
