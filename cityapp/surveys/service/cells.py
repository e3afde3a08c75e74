"""Counter cells: answer counts maintained with every ballot, so results never scan the
answers; and the GROUP BY over the answers that recomputes them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, distinct, func, select

from cityapp.db import db
from cityapp.surveys.models import Survey, SurveyAnswer, SurveyBallot, SurveyResultCell
from cityapp.surveys.service.builder import load_questions

CellKey = tuple[int, int, str]  # (question_id, district_key, cell)


def _cell_name(option_id: int | None, value: int | None) -> str | None:
    if option_id is not None and value is not None:
        return f"o:{option_id}:r:{value}"
    if option_id is not None:
        return f"o:{option_id}"
    if value is not None:
        return f"v:{value}"
    return None  # free text: counted by "n" only


def parse_cell(cell: str) -> tuple[int | None, int | None]:
    parts = cell.split(":")
    if parts[0] == "v":
        return None, int(parts[1])
    if len(parts) == 4:
        return int(parts[1]), int(parts[3])
    return int(parts[1]), None


def add_cell_deltas(
    deltas: dict[CellKey, int], rows: Iterable[Any], district_id: int | None, sign: int
) -> None:
    """Count one ballot's answer rows (anything with question_id/option_id/value) into
    ``deltas`` with +1 (stored) or -1 (replaced)."""
    district_key = district_id or 0
    answered: set[int] = set()
    for row in rows:
        answered.add(row.question_id)
        cell = _cell_name(row.option_id, row.value)
        if cell is not None:
            deltas[(row.question_id, district_key, cell)] += sign
    for question_id in answered:
        deltas[(question_id, district_key, "n")] += sign


def apply_cell_deltas(survey_id: int, deltas: dict[CellKey, int]) -> None:
    """Upsert count += delta for each cell, in one statement. Keys are sorted so concurrent
    ballots lock the same rows in the same order (no deadlocks on PostgreSQL)."""
    values = [
        {
            "survey_id": survey_id,
            "question_id": question_id,
            "district_key": district_key,
            "cell": cell,
            "count": delta,
        }
        for (question_id, district_key, cell), delta in sorted(deltas.items())
        if delta
    ]
    if not values:
        return
    table = SurveyResultCell.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["question_id", "district_key", "cell"],
        set_={"count": table.c.count + statement.excluded.count},
    )
    db.session.execute(statement, values)


def count_cells_from_answers(survey: Survey) -> dict[CellKey, int]:
    """The cells recomputed from the answers with GROUP BY (rebuilds and consistency checks)."""
    question_ids = [q.id for q in load_questions(survey)]
    cells: dict[CellKey, int] = defaultdict(int)
    if not question_ids:
        return cells
    joined = (
        select()
        .select_from(SurveyAnswer)
        .join(SurveyBallot, SurveyBallot.id == SurveyAnswer.ballot_id)
    )
    grouped = joined.add_columns(
        SurveyBallot.district_id,
        SurveyAnswer.question_id,
        SurveyAnswer.option_id,
        SurveyAnswer.value,
        func.count(),
    ).where(SurveyAnswer.question_id.in_(question_ids))
    grouped = grouped.group_by(
        SurveyBallot.district_id,
        SurveyAnswer.question_id,
        SurveyAnswer.option_id,
        SurveyAnswer.value,
    )
    for district_id, question_id, option_id, value, count in db.session.execute(grouped):
        cell = _cell_name(option_id, value)
        if cell is not None:
            cells[(question_id, district_id or 0, cell)] += count
    respondents = (
        joined.add_columns(
            SurveyBallot.district_id,
            SurveyAnswer.question_id,
            func.count(distinct(SurveyAnswer.ballot_id)),
        )
        .where(SurveyAnswer.question_id.in_(question_ids))
        .group_by(SurveyBallot.district_id, SurveyAnswer.question_id)
    )
    for district_id, question_id, count in db.session.execute(respondents):
        cells[(question_id, district_id or 0, "n")] += count
    return cells


def rebuild_result_cells(survey: Survey) -> int:
    """Replace a survey's counter cells by a fresh GROUP BY over its answers (after bulk
    imports, or to repair). Returns the number of cells."""
    db.session.execute(delete(SurveyResultCell).where(SurveyResultCell.survey_id == survey.id))
    cells = count_cells_from_answers(survey)
    apply_cell_deltas(survey.id, cells)
    return len(cells)


def load_stored_cells(survey: Survey) -> dict[CellKey, int]:
    """The counter cells as stored (non-zero ones)."""
    rows = db.session.execute(
        select(
            SurveyResultCell.question_id,
            SurveyResultCell.district_key,
            SurveyResultCell.cell,
            SurveyResultCell.count,
        ).where(SurveyResultCell.survey_id == survey.id, SurveyResultCell.count != 0)
    )
    return {(q, d, c): n for q, d, c, n in rows}
