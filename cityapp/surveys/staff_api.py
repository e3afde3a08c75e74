"""Staff survey API: the builder, lifecycle, results, charts, exports, text moderation."""

from __future__ import annotations

from flask import Response, stream_with_context, url_for
from flask_smorest import Blueprint

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff, staff_required
from cityapp.db import db
from cityapp.http.conditional import check_if_match, make_etag
from cityapp.http.pagination import page_response, paginate
from cityapp.surveys import service
from cityapp.surveys.export import ballots_csv, results_csv
from cityapp.surveys.models import Survey, SurveyAnswer
from cityapp.surveys.present import chart_response, results_response, translator
from cityapp.surveys.schemas import (
    LangQuerySchema,
    ModerationInputSchema,
    QuestionInputSchema,
    QuestionStaffSchema,
    QuestionUpdateSchema,
    ReorderInputSchema,
    ResultsQuerySchema,
    ResultsSchema,
    SurveyInputSchema,
    SurveyStaffPageSchema,
    SurveyStaffQuerySchema,
    SurveyStaffSchema,
    SurveySummaryStaffSchema,
    SurveyUpdateSchema,
    TextAnswerPageSchema,
    TextAnswerQuerySchema,
    TextAnswerSchema,
    ValidationReportSchema,
)

blp = Blueprint(
    "surveys_staff", __name__, url_prefix="/api/v1/staff", description="Survey builder (staff)"
)

BUILDERS = (Role.ADMIN, Role.EDITOR)
MODERATORS = (Role.ADMIN, Role.MODERATOR)


def survey_etag(survey: Survey) -> str:
    return make_etag("survey-staff", survey.id, survey.updated_at, survey.ballot_count)


def _survey_reply(survey: Survey, status: int = 200):
    return survey, status, {"ETag": survey_etag(survey)}


def _survey_action(survey_id: int, action, **kwargs):
    """Let the current staff member act on the survey, commit once, reply with its ETag."""
    survey = action(current_staff(), service.get_survey(survey_id), **kwargs)
    db.session.commit()
    return _survey_reply(survey)


# --- surveys -----------------------------------------------------------------------------


@blp.get("/surveys")
@staff_required()
@blp.arguments(SurveyStaffQuerySchema, location="query")
@blp.response(200, SurveyStaffPageSchema)
def list_surveys(args):
    """All surveys, newest first, optionally by stored status."""
    query = service.staff_surveys_query(args.get("status"))
    page = paginate(
        db.session, query, [(Survey.id, "desc")], limit=args["limit"], cursor=args["cursor"]
    )
    return page_response(page, SurveySummaryStaffSchema())


@blp.post("/surveys")
@staff_required(*BUILDERS)
@blp.arguments(SurveyInputSchema)
@blp.response(201, SurveyStaffSchema)
def create_survey(data):
    """Create a draft survey (editor, admin)."""
    survey = service.create_survey(current_staff(), **data)
    db.session.commit()
    location = url_for("surveys_staff.get_survey", survey_id=survey.id)
    return survey, 201, {"Location": location, "ETag": survey_etag(survey)}


@blp.get("/surveys/<int:survey_id>")
@staff_required()
@blp.response(200, SurveyStaffSchema)
def get_survey(survey_id):
    """A survey with every translation, its questions and options."""
    return _survey_reply(service.get_survey(survey_id))


@blp.patch("/surveys/<int:survey_id>")
@staff_required(*BUILDERS)
@blp.arguments(SurveyUpdateSchema)
@blp.response(200, SurveyStaffSchema)
@blp.alt_response(412, description="If-Match did not match the current ETag.")
def update_survey(data, survey_id):
    """Change texts and settings (If-Match); texts stay correctable after ballots (audited)."""
    survey = service.get_survey(survey_id)
    check_if_match(survey_etag(survey))
    service.update_survey(current_staff(), survey, **data)
    db.session.commit()
    return _survey_reply(survey)


@blp.delete("/surveys/<int:survey_id>")
@staff_required(*BUILDERS)
@blp.response(204)
def delete_survey(survey_id):
    """Delete a draft survey without ballots."""
    service.delete_survey(current_staff(), service.get_survey(survey_id))
    db.session.commit()


@blp.get("/surveys/<int:survey_id>/validation")
@staff_required()
@blp.response(200, ValidationReportSchema)
def validate_survey(survey_id):
    """What still stops the survey from opening ({} when ready)."""
    errors = service.validate_survey(service.get_survey(survey_id))
    return {"is_valid": not errors, "errors": errors}


@blp.post("/surveys/<int:survey_id>/publish")
@staff_required(*BUILDERS)
@blp.response(200, SurveyStaffSchema)
@blp.alt_response(422, description="The survey is not valid yet; see errors.")
def publish_survey(survey_id):
    """Validate and open the survey now, or schedule it for opens_at."""
    return _survey_action(survey_id, service.publish_survey)


@blp.post("/surveys/<int:survey_id>/close")
@staff_required(*BUILDERS)
@blp.response(200, SurveyStaffSchema)
def close_survey(survey_id):
    """Close an open survey now."""
    return _survey_action(survey_id, service.close_survey)


@blp.post("/surveys/<int:survey_id>/archive")
@staff_required(*BUILDERS)
@blp.response(200, SurveyStaffSchema)
def archive_survey(survey_id):
    """Archive a closed survey."""
    return _survey_action(survey_id, service.archive_survey)


# --- questions ---------------------------------------------------------------------------


@blp.post("/surveys/<int:survey_id>/questions")
@staff_required(*BUILDERS)
@blp.arguments(QuestionInputSchema)
@blp.response(201, QuestionStaffSchema)
@blp.alt_response(409, description="Questions are frozen: ballots exist.")
def add_question(data, survey_id):
    """Append a question with its options."""
    survey = service.get_survey(survey_id)
    question = service.add_question(current_staff(), survey, **data)
    db.session.commit()
    return question, 201, {"ETag": survey_etag(survey)}


@blp.patch("/surveys/<int:survey_id>/questions/<int:question_id>")
@staff_required(*BUILDERS)
@blp.arguments(QuestionUpdateSchema)
@blp.response(200, QuestionStaffSchema)
@blp.alt_response(409, description="Only texts may change once ballots exist.")
def update_question(data, survey_id, question_id):
    """Change a question; `options` replaces the list (keep existing ones by id)."""
    survey = service.get_survey(survey_id)
    question = service.get_question(survey, question_id)
    service.update_question(current_staff(), survey, question, **data)
    db.session.commit()
    return question, 200, {"ETag": survey_etag(survey)}


@blp.delete("/surveys/<int:survey_id>/questions/<int:question_id>")
@staff_required(*BUILDERS)
@blp.response(204)
def delete_question(survey_id, question_id):
    """Remove a question (not once ballots exist)."""
    survey = service.get_survey(survey_id)
    service.delete_question(current_staff(), survey, service.get_question(survey, question_id))
    db.session.commit()


@blp.put("/surveys/<int:survey_id>/question-order")
@staff_required(*BUILDERS)
@blp.arguments(ReorderInputSchema)
@blp.response(200, SurveyStaffSchema)
def reorder_questions(data, survey_id):
    """Set the order of all questions (conditions must still look back)."""
    survey = service.get_survey(survey_id)
    service.reorder_questions(current_staff(), survey, data["question_ids"])
    db.session.commit()
    return _survey_reply(survey)


# --- results, charts, exports ------------------------------------------------------------


@blp.get("/surveys/<int:survey_id>/results")
@staff_required()
@blp.arguments(ResultsQuerySchema, location="query")
@blp.response(200, ResultsSchema)
def get_results(args, survey_id):
    """Results at any time and under any policy, with moderation counts."""
    return results_response(service.get_survey(survey_id), args, for_staff=True)


@blp.get("/surveys/<int:survey_id>/results/<int:question_id>.<any(svg, png):fmt>")
@staff_required()
@blp.arguments(LangQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "image/svg+xml or image/png"}})
def get_chart(_args, survey_id, question_id, fmt):
    """A bar chart of one question's results, for staff pages and reports."""
    return chart_response(service.get_survey(survey_id), question_id, fmt, for_staff=True)


def _csv(survey: Survey, rows, name: str) -> Response:
    response = Response(stream_with_context(rows), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="survey-{survey.id}-{name}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blp.get("/surveys/<int:survey_id>/exports/ballots.csv")
@staff_required(*BUILDERS)
@blp.arguments(LangQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "text/csv, streamed"}})
def export_ballots(_args, survey_id):
    """Anonymous ballots as CSV: one row per ballot, one column per question/option."""
    survey = service.get_survey(survey_id)
    _language, translate = translator()
    return _csv(survey, ballots_csv(survey.id, translate), "ballots.csv")


@blp.get("/surveys/<int:survey_id>/exports/results.csv")
@staff_required(*BUILDERS)
@blp.arguments(LangQuerySchema, location="query")
@blp.doc(responses={"200": {"description": "text/csv, streamed"}})
def export_results(_args, survey_id):
    """The aggregates as CSV: one row per option or scale value."""
    survey = service.get_survey(survey_id)
    _language, translate = translator()
    return _csv(survey, results_csv(survey.id, translate), "results.csv")


# --- moderation of free text -------------------------------------------------------------


@blp.get("/surveys/<int:survey_id>/texts")
@staff_required(*MODERATORS)
@blp.arguments(TextAnswerQuerySchema, location="query")
@blp.response(200, TextAnswerPageSchema)
def list_texts(args, survey_id):
    """Free-text and "other" answers by moderation status (pending first by default)."""
    survey = service.get_survey(survey_id)
    query = service.text_answers_query(survey, args["status"], args.get("question_id"))
    page = paginate(
        db.session, query, [(SurveyAnswer.id, "asc")], limit=args["limit"], cursor=args["cursor"]
    )
    return page_response(page, TextAnswerSchema())


@blp.post("/survey-texts/<int:answer_id>/moderation")
@staff_required(*MODERATORS)
@blp.arguments(ModerationInputSchema)
@blp.response(200, TextAnswerSchema)
def moderate_text(data, answer_id):
    """Approve (publish with the results) or reject a text answer."""
    answer = service.get_text_answer(answer_id)
    service.moderate_text_answer(current_staff(), answer, data["status"], reason=data["reason"])
    db.session.commit()
    return answer
