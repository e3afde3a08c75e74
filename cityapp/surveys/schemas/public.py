"""Public schemas: survey lists and detail in one language, ballots."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime
from cityapp.surveys.models import Channel
from cityapp.surveys.schemas.common import (
    CHANNELS,
    RESUBMISSION,
    STATUSES,
    TYPES,
    VISIBILITY,
)

# --- public reads ------------------------------------------------------------------------


class _LangQuery(Schema):
    lang = fields.String(
        validate=validate.Length(max=20),
        metadata={"description": "Language (else Accept-Language, falling back to de)."},
    )


class SurveyListQuerySchema(PaginationQuerySchema, _LangQuery):
    channel = fields.String(
        load_default=Channel.APP.value,
        validate=validate.OneOf(CHANNELS),
        metadata={"description": "Where the survey is shown."},
    )
    district_id = fields.Integer(
        metadata={"description": "Only surveys for the whole city or this district."}
    )


class LangQuerySchema(_LangQuery):
    pass


class ResultsQuerySchema(_LangQuery):
    by = fields.String(
        validate=validate.OneOf(["district"]),
        metadata={"description": "district: add the breakdown (groups below k suppressed)."},
    )


class OptionPublicSchema(Schema):
    id = fields.Integer(metadata={"example": 7})
    label = fields.String(metadata={"example": "Mehr Bäume und Bänke"})
    is_other = fields.Boolean(metadata={"example": False})


class QuestionPublicSchema(Schema):
    id = fields.Integer(metadata={"example": 21})
    position = fields.Integer(metadata={"example": 1})
    type = fields.String(metadata={"enum": TYPES, "example": "multiple_choice"})
    title = fields.String(metadata={"example": "Was wünschen Sie sich für den Marktplatz?"})
    help_text = fields.String(allow_none=True, metadata={"example": "Bis zu drei Antworten."})
    is_required = fields.Boolean(metadata={"example": True})
    min_selections = fields.Integer(allow_none=True, metadata={"example": 1})
    max_selections = fields.Integer(allow_none=True, metadata={"example": 3})
    scale_min = fields.Integer(allow_none=True, metadata={"example": 1})
    scale_max = fields.Integer(allow_none=True, metadata={"example": 5})
    scale_min_label = fields.String(allow_none=True, metadata={"example": "gar nicht zufrieden"})
    scale_max_label = fields.String(allow_none=True, metadata={"example": "sehr zufrieden"})
    max_length = fields.Integer(allow_none=True, metadata={"example": 500})
    condition = fields.Dict(
        allow_none=True, metadata={"example": {"question_id": 20, "values": [True]}}
    )
    options = fields.List(fields.Nested(OptionPublicSchema))


class SurveyPublicSchema(Schema):
    """A survey in one language, as the app shows it."""

    id = fields.Integer(metadata={"example": 7})
    title = fields.String(metadata={"example": "Neugestaltung des Marktplatzes"})
    description = fields.String(
        allow_none=True,
        metadata={"example": "Wie möchten Sie den Marktplatz in der Altstadt künftig nutzen?"},
    )
    status = fields.String(metadata={"enum": STATUSES, "example": "open"})
    opens_at = UTCDateTime(allow_none=True)
    closes_at = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String(), metadata={"example": ["app", "web"]})
    district_ids = fields.List(fields.Integer(), metadata={"example": [1, 2]})
    resubmission = fields.String(metadata={"enum": RESUBMISSION, "example": "replace"})
    results_visibility = fields.String(metadata={"enum": VISIBILITY, "example": "after_close"})
    results_available = fields.Boolean(metadata={"example": False})
    participants = fields.Integer(metadata={"example": 214})
    questions = fields.List(fields.Nested(QuestionPublicSchema))


class SurveySummaryPublicSchema(SurveyPublicSchema):
    class Meta:
        exclude = ("questions",)


class SurveyPublicPageSchema(PageSchema):
    items = fields.List(fields.Nested(SurveySummaryPublicSchema))


# --- ballots -----------------------------------------------------------------------------


class AnswerInputSchema(Schema):
    question_id = fields.Integer(required=True, strict=True, metadata={"example": 21})
    option_id = fields.Integer(strict=True, metadata={"description": "single_choice", "example": 7})
    option_ids = fields.List(
        fields.Integer(strict=True),
        validate=validate.Length(max=100),
        metadata={"description": "multiple_choice", "example": [7, 8]},
    )
    value = fields.Raw(
        metadata={
            "description": "scale: a whole number in range; yes_no: true or false",
            "example": 4,
        }
    )
    ranking = fields.List(
        fields.Integer(strict=True),
        validate=validate.Length(max=100),
        metadata={"description": "ranking: every option id once, best first", "example": [8, 7, 9]},
    )
    text = fields.String(
        validate=validate.Length(max=20000),
        metadata={"description": "free_text", "example": "Mehr Schatten im Sommer, bitte."},
    )
    other_text = fields.String(
        validate=validate.Length(max=20000),
        metadata={"description": "text of the 'other' option", "example": "Ein Trinkbrunnen"},
    )


class BallotInputSchema(Schema):
    answers = fields.List(
        fields.Nested(AnswerInputSchema), required=True, validate=validate.Length(max=200)
    )
    district_id = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The installation's home district, for the breakdown.",
            "example": 1,
        },
    )
    channel = fields.String(
        load_default=Channel.APP.value,
        validate=validate.OneOf([Channel.APP, Channel.WEB]),
        metadata={"example": "app"},
    )


class AnswerSchema(Schema):
    question_id = fields.Integer(metadata={"example": 21})
    option_id = fields.Integer(metadata={"example": 7})
    option_ids = fields.List(fields.Integer(), metadata={"example": [7, 8]})
    value = fields.Raw(metadata={"example": 4})
    ranking = fields.List(fields.Integer(), metadata={"example": [8, 7, 9]})
    text = fields.String(metadata={"example": "Mehr Schatten im Sommer, bitte."})
    other_text = fields.String(metadata={"example": "Ein Trinkbrunnen"})


class BallotSchema(Schema):
    """The caller's own ballot (the participant key is never shown)."""

    survey_id = fields.Integer(metadata={"example": 7})
    district_id = fields.Integer(allow_none=True, metadata={"example": 1})
    channel = fields.String(metadata={"example": "app"})
    submitted_at = UTCDateTime()
    updated_at = UTCDateTime()
    answers = fields.List(fields.Nested(AnswerSchema))
