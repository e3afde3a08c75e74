"""Result, breakdown and moderation schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime
from cityapp.surveys.models import ModerationStatus
from cityapp.surveys.schemas.common import (
    STATUSES,
    TYPES,
    VISIBILITY,
)

# --- results -----------------------------------------------------------------------------


class OptionResultSchema(Schema):
    option_id = fields.Integer()
    value = fields.Raw(metadata={"description": "yes_no only: true / false"})
    label = fields.String(allow_none=True)
    is_other = fields.Boolean()
    count = fields.Integer()
    percent = fields.Float(metadata={"description": "Of the question's respondents."})
    other_texts = fields.List(fields.String(), metadata={"description": "Moderated texts."})
    average_rank = fields.Float(allow_none=True)
    borda_score = fields.Integer()
    rank_counts = fields.List(fields.Integer())


class ScaleBucketSchema(Schema):
    value = fields.Integer()
    count = fields.Integer()
    percent = fields.Float()


class ScaleResultSchema(Schema):
    min = fields.Integer()
    max = fields.Integer()
    min_label = fields.String(allow_none=True)
    max_label = fields.String(allow_none=True)
    mean = fields.Float(allow_none=True)
    median = fields.Float(allow_none=True)
    distribution = fields.List(fields.Nested(ScaleBucketSchema))


class ModerationCountsSchema(Schema):
    pending = fields.Integer()
    approved = fields.Integer()
    rejected = fields.Integer()


class QuestionResultSchema(Schema):
    question_id = fields.Integer()
    type = fields.String(metadata={"enum": TYPES})
    title = fields.String()
    respondents = fields.Integer()
    suppressed = fields.Boolean(metadata={"description": "Fewer than k respondents here."})
    options = fields.List(fields.Nested(OptionResultSchema))
    scale = fields.Nested(ScaleResultSchema)
    texts = fields.List(fields.String(), metadata={"description": "Moderated free texts."})
    moderation = fields.Nested(ModerationCountsSchema)


class DistrictGroupSchema(Schema):
    district_id = fields.Integer(allow_none=True, metadata={"description": "null: no district"})
    name = fields.String(allow_none=True)
    participants = fields.Integer()
    questions = fields.List(fields.Nested(QuestionResultSchema))


class DistrictBreakdownSchema(Schema):
    k = fields.Integer(metadata={"description": "Groups with fewer ballots are suppressed."})
    groups = fields.List(fields.Nested(DistrictGroupSchema))
    suppressed_groups = fields.Integer()


class ResultsSchema(Schema):
    survey_id = fields.Integer()
    title = fields.String()
    status = fields.String(metadata={"enum": STATUSES})
    results_visibility = fields.String(metadata={"enum": VISIBILITY})
    participants = fields.Integer()
    computed_at = UTCDateTime()
    questions = fields.List(fields.Nested(QuestionResultSchema))
    districts = fields.Nested(DistrictBreakdownSchema)


# --- moderation (staff) ------------------------------------------------------------------


class TextAnswerQuerySchema(PaginationQuerySchema):
    status = fields.String(
        load_default=ModerationStatus.PENDING.value,
        validate=validate.OneOf([s.value for s in ModerationStatus]),
    )
    question_id = fields.Integer()


class TextAnswerSchema(Schema):
    id = fields.Integer()
    survey_id = fields.Integer()
    question_id = fields.Integer()
    option_id = fields.Integer(allow_none=True, metadata={"description": "Set for 'other'."})
    text = fields.String()
    moderation_status = fields.String()
    moderated_at = UTCDateTime(allow_none=True)


class TextAnswerPageSchema(PageSchema):
    items = fields.List(fields.Nested(TextAnswerSchema))


class ModerationInputSchema(Schema):
    status = fields.String(
        required=True,
        validate=validate.OneOf([ModerationStatus.APPROVED.value, ModerationStatus.REJECTED.value]),
    )
    reason = fields.String(load_default=None, validate=validate.Length(max=500))
