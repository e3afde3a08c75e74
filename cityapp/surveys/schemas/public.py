"""Public schemas: survey lists and detail in one language, ballots."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.fields import Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema
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
    lang = Text(
        metadata={"description": "Language (else Accept-Language, falling back to de)."},
    )


class SurveyListQuerySchema(PaginationQuerySchema, _LangQuery):
    channel = Text(
        load_default=Channel.APP.value,
        validate=validate.OneOf(CHANNELS),
        metadata={"description": "Where the survey is shown."},
    )
    district_id = Id(metadata={"description": "Only surveys for the whole city or this district."})


class LangQuerySchema(_LangQuery):
    pass


class ResultsQuerySchema(_LangQuery):
    by = Text(
        validate=validate.OneOf(["district"]),
        metadata={"description": "district: add the breakdown (groups below k suppressed)."},
    )


class OptionPublicSchema(Schema):
    id = Id(metadata={"example": 7})
    label = Text(metadata={"example": "Mehr Bäume und Bänke"})
    is_other = fields.Boolean(metadata={"example": False})


class QuestionPublicSchema(Schema):
    id = Id(metadata={"example": 21})
    position = Integer(metadata={"example": 1})
    type = Text(metadata={"enum": TYPES, "example": "multiple_choice"})
    title = Text(metadata={"example": "Was wünschen Sie sich für den Marktplatz?"})
    help_text = Text(allow_none=True, metadata={"example": "Bis zu drei Antworten."})
    is_required = fields.Boolean(metadata={"example": True})
    min_selections = Integer(allow_none=True, metadata={"example": 1})
    max_selections = Integer(allow_none=True, metadata={"example": 3})
    scale_min = Integer(allow_none=True, metadata={"example": 1})
    scale_max = Integer(allow_none=True, metadata={"example": 5})
    scale_min_label = Text(allow_none=True, metadata={"example": "gar nicht zufrieden"})
    scale_max_label = Text(allow_none=True, metadata={"example": "sehr zufrieden"})
    max_length = Integer(allow_none=True, metadata={"example": 500})
    condition = fields.Dict(
        allow_none=True, metadata={"example": {"question_id": 20, "values": [True]}}
    )
    options = fields.List(fields.Nested(OptionPublicSchema))


class SurveyPublicSchema(Schema):
    """A survey in one language, as the app shows it."""

    id = Id(metadata={"example": 7})
    title = Text(metadata={"example": "Neugestaltung des Marktplatzes"})
    description = Text(
        allow_none=True,
        metadata={"example": "Wie möchten Sie den Marktplatz in der Altstadt künftig nutzen?"},
    )
    status = Text(metadata={"enum": STATUSES, "example": "open"})
    opens_at = UTCDateTime(allow_none=True)
    closes_at = UTCDateTime(allow_none=True)
    channels = fields.List(Text(), metadata={"example": ["app", "web"]})
    district_ids = fields.List(Id(), metadata={"example": [1, 2]})
    resubmission = Text(metadata={"enum": RESUBMISSION, "example": "replace"})
    results_visibility = Text(metadata={"enum": VISIBILITY, "example": "after_close"})
    results_available = fields.Boolean(metadata={"example": False})
    participants = Integer(metadata={"example": 214})
    questions = fields.List(fields.Nested(QuestionPublicSchema))


class SurveySummaryPublicSchema(SurveyPublicSchema):
    class Meta:
        exclude = ("questions",)


class SurveyPublicPageSchema(PageSchema):
    items = fields.List(fields.Nested(SurveySummaryPublicSchema))


# --- ballots -----------------------------------------------------------------------------


class AnswerInputSchema(Schema):
    question_id = Id(required=True, strict=True, metadata={"example": 21})
    option_id = Id(strict=True, metadata={"description": "single_choice", "example": 7})
    option_ids = fields.List(
        Id(strict=True),
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
        Integer(strict=True),
        validate=validate.Length(max=100),
        metadata={"description": "ranking: every option id once, best first", "example": [8, 7, 9]},
    )
    text = Text(
        validate=validate.Length(max=20000),
        metadata={"description": "free_text", "example": "Mehr Schatten im Sommer, bitte."},
    )
    other_text = Text(
        validate=validate.Length(max=20000),
        metadata={"description": "text of the 'other' option", "example": "Ein Trinkbrunnen"},
    )


class BallotInputSchema(Schema):
    answers = fields.List(
        fields.Nested(AnswerInputSchema), required=True, validate=validate.Length(max=200)
    )
    district_id = Id(
        load_default=None,
        allow_none=True,
        metadata={
            "description": "The installation's home district, for the breakdown.",
            "example": 1,
        },
    )
    channel = Text(
        load_default=Channel.APP.value,
        validate=validate.OneOf([Channel.APP, Channel.WEB]),
        metadata={"example": "app"},
    )


class AnswerSchema(Schema):
    question_id = Id(metadata={"example": 21})
    option_id = Id(metadata={"example": 7})
    option_ids = fields.List(Id(), metadata={"example": [7, 8]})
    value = fields.Raw(metadata={"example": 4})
    ranking = fields.List(Integer(), metadata={"example": [8, 7, 9]})
    text = Text(metadata={"example": "Mehr Schatten im Sommer, bitte."})
    other_text = Text(metadata={"example": "Ein Trinkbrunnen"})


class BallotSchema(Schema):
    """The caller's own ballot (the participant key is never shown)."""

    survey_id = Id(metadata={"example": 7})
    district_id = Id(allow_none=True, metadata={"example": 1})
    channel = Text(metadata={"example": "app"})
    submitted_at = UTCDateTime()
    updated_at = UTCDateTime()
    answers = fields.List(fields.Nested(AnswerSchema))
