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
    id = fields.Integer()
    label = fields.String()
    is_other = fields.Boolean()


class QuestionPublicSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    type = fields.String(metadata={"enum": TYPES})
    title = fields.String()
    help_text = fields.String(allow_none=True)
    is_required = fields.Boolean()
    min_selections = fields.Integer(allow_none=True)
    max_selections = fields.Integer(allow_none=True)
    scale_min = fields.Integer(allow_none=True)
    scale_max = fields.Integer(allow_none=True)
    scale_min_label = fields.String(allow_none=True)
    scale_max_label = fields.String(allow_none=True)
    max_length = fields.Integer(allow_none=True)
    condition = fields.Dict(allow_none=True)
    options = fields.List(fields.Nested(OptionPublicSchema))


class SurveyPublicSchema(Schema):
    """A survey in one language, as the app shows it."""

    id = fields.Integer()
    title = fields.String()
    description = fields.String(allow_none=True)
    status = fields.String(metadata={"enum": STATUSES})
    opens_at = UTCDateTime(allow_none=True)
    closes_at = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String())
    district_ids = fields.List(fields.Integer())
    resubmission = fields.String(metadata={"enum": RESUBMISSION})
    results_visibility = fields.String(metadata={"enum": VISIBILITY})
    results_available = fields.Boolean()
    participants = fields.Integer()
    questions = fields.List(fields.Nested(QuestionPublicSchema))


class SurveySummaryPublicSchema(SurveyPublicSchema):
    class Meta:
        exclude = ("questions",)


class SurveyPublicPageSchema(PageSchema):
    items = fields.List(fields.Nested(SurveySummaryPublicSchema))


# --- ballots -----------------------------------------------------------------------------


class AnswerInputSchema(Schema):
    question_id = fields.Integer(required=True, strict=True)
    option_id = fields.Integer(strict=True, metadata={"description": "single_choice"})
    option_ids = fields.List(
        fields.Integer(strict=True),
        validate=validate.Length(max=100),
        metadata={"description": "multiple_choice"},
    )
    value = fields.Raw(
        metadata={"description": "scale: a whole number in range; yes_no: true or false"}
    )
    ranking = fields.List(
        fields.Integer(strict=True),
        validate=validate.Length(max=100),
        metadata={"description": "ranking: every option id once, best first"},
    )
    text = fields.String(validate=validate.Length(max=20000), metadata={"description": "free_text"})
    other_text = fields.String(
        validate=validate.Length(max=20000), metadata={"description": "text of the 'other' option"}
    )


class BallotInputSchema(Schema):
    answers = fields.List(
        fields.Nested(AnswerInputSchema), required=True, validate=validate.Length(max=200)
    )
    district_id = fields.Integer(
        load_default=None,
        allow_none=True,
        metadata={"description": "The installation's home district, for the breakdown."},
    )
    channel = fields.String(
        load_default=Channel.APP.value, validate=validate.OneOf([Channel.APP, Channel.WEB])
    )


class AnswerSchema(Schema):
    question_id = fields.Integer()
    option_id = fields.Integer()
    option_ids = fields.List(fields.Integer())
    value = fields.Raw()
    ranking = fields.List(fields.Integer())
    text = fields.String()
    other_text = fields.String()


class BallotSchema(Schema):
    """The caller's own ballot (the participant key is never shown)."""

    survey_id = fields.Integer()
    district_id = fields.Integer(allow_none=True)
    channel = fields.String()
    submitted_at = UTCDateTime()
    updated_at = UTCDateTime()
    answers = fields.List(fields.Nested(AnswerSchema))
