"""What the public and the staff survey APIs answer alike: the language in use, and results
and charts behind one ETag that changes with every ballot, moderation or edit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app

from cityapp.http.conditional import conditional_json, make_etag
from cityapp.http.languages import negotiate_language, pick_translation
from cityapp.surveys import service
from cityapp.surveys.models import Survey
from cityapp.surveys.schemas import ResultsSchema


def translator() -> tuple[str, Callable[[dict | None], str | None]]:
    language = negotiate_language()
    return language, lambda values: pick_translation(values, language)


def results_etag(survey: Survey, language: str, *variant: Any) -> str:
    """Changes with every ballot, moderation, edit or date-driven status change."""
    return make_etag(
        "survey-results",
        survey.id,
        survey.results_version,
        survey.updated_at,
        survey.effective_status(),
        language,
        current_app.config["CITYAPP_SURVEY_DISTRICT_K"],
        *variant,
    )


def results_response(survey: Survey, args: dict, *, for_staff: bool):
    language, translate = translator()
    by_district = args.get("by") == "district"
    etag = results_etag(survey, language, "staff" if for_staff else "public", by_district)
    return conditional_json(
        etag,
        lambda: ResultsSchema().dump(
            service.compute_results(survey, translate, by_district=by_district, for_staff=for_staff)
        ),
    )


def chart_response(survey: Survey, question_id: int, fmt: str, *, for_staff: bool):
    from cityapp.surveys.charts import render_chart

    question = service.get_question(survey, question_id)
    language, translate = translator()
    etag = results_etag(survey, language, "chart", question.id, fmt, for_staff)

    def build():
        results = service.compute_results(survey, translate)
        block = next(b for b in results["questions"] if b["question_id"] == question.id)
        body = render_chart(block, fmt, language)
        mimetype = "image/svg+xml" if fmt == "svg" else "image/png"
        return current_app.response_class(body, mimetype=mimetype)

    return conditional_json(etag, build)
