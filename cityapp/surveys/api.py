"""Public survey API: open surveys, detail, results, charts; ballots for installations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app, url_for
from flask_smorest import Blueprint

from cityapp.auth.permissions import current_installation, installation_required
from cityapp.db import db, utcnow
from cityapp.errors import NotFound
from cityapp.extensions import limiter
from cityapp.http.conditional import conditional_json, make_etag
from cityapp.http.pagination import page_response, paginate
from cityapp.surveys import service
from cityapp.surveys.models import Survey, SurveyStatus
from cityapp.surveys.present import chart_response, results_response, translator
from cityapp.surveys.schemas import (
    BallotInputSchema,
    BallotSchema,
    LangQuerySchema,
    ResultsQuerySchema,
    ResultsSchema,
    SurveyListQuerySchema,
    SurveyPublicPageSchema,
    SurveyPublicSchema,
    SurveySummaryPublicSchema,
)
from cityapp.surveys.service.ballots import list_ballot_answers

blp = Blueprint("surveys", __name__, url_prefix="/api/v1", description="Surveys and polls")

_HIDDEN = (SurveyStatus.DRAFT, SurveyStatus.SCHEDULED)


def _ballot_limit() -> str:
    return current_app.config["CITYAPP_BALLOT_RATE_LIMIT"]


def public_view(survey: Survey, translate: Callable, *, with_questions: bool) -> dict[str, Any]:
    """A survey in one language (the shape of SurveyPublicSchema)."""
    view: dict[str, Any] = {
        "id": survey.id,
        "title": translate(survey.title),
        "description": translate(survey.description),
        "status": survey.effective_status(),
        "opens_at": survey.opens_at,
        "closes_at": survey.closes_at,
        "channels": survey.channels,
        "district_ids": [d.id for d in survey.districts],
        "resubmission": survey.resubmission,
        "results_visibility": survey.results_visibility,
        "results_available": service.results_available(survey),
        "participants": survey.ballot_count,
    }
    if with_questions:
        view["questions"] = [
            {
                "id": q.id,
                "position": q.position,
                "type": q.type,
                "title": translate(q.title),
                "help_text": translate(q.help_text),
                "is_required": q.is_required,
                "min_selections": q.min_selections,
                "max_selections": q.max_selections,
                "scale_min": q.scale_min,
                "scale_max": q.scale_max,
                "scale_min_label": translate(q.scale_min_label),
                "scale_max_label": translate(q.scale_max_label),
                "max_length": q.max_length,
                "condition": q.condition,
                "options": [
                    {"id": o.id, "label": translate(o.label), "is_other": o.is_other}
                    for o in q.options
                ],
            }
            for q in survey.questions
        ]
    return view


def _public_survey(survey_id: int) -> Survey:
    survey = service.get_survey(survey_id)
    if survey.effective_status() in _HIDDEN:
        raise NotFound(f"No survey {survey_id}.")
    return survey


# --- reads -------------------------------------------------------------------------------


@blp.get("/surveys")
@blp.arguments(SurveyListQuerySchema, location="query")
@blp.response(200, SurveyPublicPageSchema)
def list_surveys(args):
    """Surveys open now for a channel (and district), in the requested language."""
    language, translate = translator()
    query = service.open_surveys_query(
        utcnow(), channel=args["channel"], district_id=args.get("district_id")
    )
    version = db.session.execute(
        query.with_only_columns(Survey.id, Survey.updated_at, Survey.ballot_count)
    ).all()
    etag = make_etag("surveys", language, sorted(args.items()), [tuple(v) for v in version])

    def build():
        page = paginate(
            db.session, query, [(Survey.id, "desc")], limit=args["limit"], cursor=args["cursor"]
        )
        page.items = [public_view(s, translate, with_questions=False) for s in page.items]
        return page_response(page, SurveySummaryPublicSchema())

    return conditional_json(etag, build)


@blp.get("/surveys/<int:survey_id>")
@blp.arguments(LangQuerySchema, location="query")
@blp.response(200, SurveyPublicSchema)
def get_survey(_args, survey_id):
    """A survey with its questions (open, closed or archived ones)."""
    survey = _public_survey(survey_id)
    language, translate = translator()
    etag = make_etag(
        "survey",
        survey.id,
        survey.updated_at,
        survey.effective_status(),
        survey.ballot_count,
        language,
    )
    return conditional_json(
        etag,
        lambda: SurveyPublicSchema().dump(public_view(survey, translate, with_questions=True)),
    )


@blp.get("/surveys/<int:survey_id>/results")
@blp.arguments(ResultsQuerySchema, location="query")
@blp.response(200, ResultsSchema)
@blp.alt_response(403, description="Results are not published (yet) under the survey's policy.")
def get_results(args, survey_id):
    """Results, when the survey's visibility policy allows (live / after_close / staff_only)."""
    survey = _public_survey(survey_id)
    service.ensure_results_visible(survey)
    return results_response(survey, args, for_staff=False)


@blp.get("/surveys/<int:survey_id>/results/<int:question_id>.<any(svg, png):fmt>")
@blp.arguments(LangQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "image/svg+xml or image/png"}})
def get_chart(_args, survey_id, question_id, fmt):
    """A bar chart of one question's results (SVG with title and alt text, or PNG)."""
    survey = _public_survey(survey_id)
    service.ensure_results_visible(survey)
    return chart_response(survey, question_id, fmt, for_staff=False)


# --- participation -----------------------------------------------------------------------


def _ballot_view(ballot) -> dict[str, Any]:
    return {
        "survey_id": ballot.survey_id,
        "district_id": ballot.district_id,
        "channel": ballot.channel,
        "submitted_at": ballot.submitted_at,
        "updated_at": ballot.updated_at,
        "answers": list_ballot_answers(ballot),
    }


@blp.post("/surveys/<int:survey_id>/ballots")
@limiter.limit(_ballot_limit)
@installation_required
@blp.arguments(BallotInputSchema)
@blp.response(201, BallotSchema)
@blp.alt_response(409, description="Survey not open, or already answered (reject policy).")
@blp.alt_response(422, description="Answers invalid; errors keyed answers.<question_id>.")
def submit_ballot(data, survey_id):
    """Submit this installation's ballot (201); a repeat replaces it (200) or gets 409."""
    survey = service.get_survey(survey_id)
    key = service.participant_key_for_installation(survey, current_installation())
    ballot, created = service.submit_ballot(
        survey, key, data["answers"], district_id=data["district_id"], channel=data["channel"]
    )
    db.session.commit()
    location = url_for("surveys.get_my_ballot", survey_id=survey.id)
    return _ballot_view(ballot), 201 if created else 200, {"Location": location}


@blp.get("/surveys/<int:survey_id>/my-ballot")
@installation_required
@blp.response(200, BallotSchema)
def get_my_ballot(survey_id):
    """This installation's current answers to a survey (404 when it has not taken part)."""
    survey = _public_survey(survey_id)
    ballot = service.get_my_ballot(
        survey, service.participant_key_for_installation(survey, current_installation())
    )
    if ballot is None:
        raise NotFound("You have not taken part in this survey.")
    return _ballot_view(ballot), 200, {"Cache-Control": "private, no-store"}
