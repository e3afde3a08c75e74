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
    option_id = fields.Integer(metadata={"example": 7})
    value = fields.Raw(metadata={"description": "yes_no only: true / false", "example": True})
    label = fields.String(allow_none=True, metadata={"example": "Mehr Bäume und Bänke"})
    is_other = fields.Boolean(metadata={"example": False})
    count = fields.Integer(metadata={"example": 87})
    percent = fields.Float(
        metadata={"description": "Of the question's respondents.", "example": 40.7}
    )
    other_texts = fields.List(
        fields.String(),
        metadata={"description": "Moderated texts.", "example": ["Ein Trinkbrunnen"]},
    )
    average_rank = fields.Float(allow_none=True, metadata={"example": 1.8})
    borda_score = fields.Integer(metadata={"example": 312})
    rank_counts = fields.List(fields.Integer(), metadata={"example": [40, 30, 17]})


class ScaleBucketSchema(Schema):
    value = fields.Integer(metadata={"example": 4})
    count = fields.Integer(metadata={"example": 52})
    percent = fields.Float(metadata={"example": 24.3})


class ScaleResultSchema(Schema):
    min = fields.Integer(metadata={"example": 1})
    max = fields.Integer(metadata={"example": 5})
    min_label = fields.String(allow_none=True, metadata={"example": "gar nicht zufrieden"})
    max_label = fields.String(allow_none=True, metadata={"example": "sehr zufrieden"})
    mean = fields.Float(allow_none=True, metadata={"example": 3.6})
    median = fields.Float(allow_none=True, metadata={"example": 4.0})
    distribution = fields.List(fields.Nested(ScaleBucketSchema))


class ModerationCountsSchema(Schema):
    pending = fields.Integer(metadata={"example": 3})
    approved = fields.Integer(metadata={"example": 25})
    rejected = fields.Integer(metadata={"example": 2})


class QuestionResultSchema(Schema):
    question_id = fields.Integer(metadata={"example": 21})
    type = fields.String(metadata={"enum": TYPES, "example": "multiple_choice"})
    title = fields.String(metadata={"example": "Was wünschen Sie sich für den Marktplatz?"})
    respondents = fields.Integer(metadata={"example": 214})
    suppressed = fields.Boolean(
        metadata={"description": "Fewer than k respondents here.", "example": False}
    )
    options = fields.List(fields.Nested(OptionResultSchema))
    scale = fields.Nested(ScaleResultSchema)
    texts = fields.List(
        fields.String(),
        metadata={
            "description": "Moderated free texts.",
            "example": ["Mehr Schatten im Sommer, bitte."],
        },
    )
    moderation = fields.Nested(ModerationCountsSchema)


class DistrictGroupSchema(Schema):
    district_id = fields.Integer(
        allow_none=True, metadata={"description": "null: no district", "example": 1}
    )
    name = fields.String(allow_none=True, metadata={"example": "Altstadt"})
    participants = fields.Integer(metadata={"example": 120})
    questions = fields.List(fields.Nested(QuestionResultSchema))


class DistrictBreakdownSchema(Schema):
    k = fields.Integer(
        metadata={"description": "Groups with fewer ballots are suppressed.", "example": 10}
    )
    groups = fields.List(fields.Nested(DistrictGroupSchema))
    suppressed_groups = fields.Integer(metadata={"example": 1})


class ResultsSchema(Schema):
    survey_id = fields.Integer(metadata={"example": 7})
    title = fields.String(metadata={"example": "Neugestaltung des Marktplatzes"})
    status = fields.String(metadata={"enum": STATUSES, "example": "closed"})
    results_visibility = fields.String(metadata={"enum": VISIBILITY, "example": "after_close"})
    participants = fields.Integer(metadata={"example": 214})
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
    id = fields.Integer(metadata={"example": 301})
    survey_id = fields.Integer(metadata={"example": 7})
    question_id = fields.Integer(metadata={"example": 21})
    option_id = fields.Integer(
        allow_none=True, metadata={"description": "Set for 'other'.", "example": 9}
    )
    text = fields.String(metadata={"example": "Ein Trinkbrunnen"})
    moderation_status = fields.String(metadata={"example": "pending"})
    moderated_at = UTCDateTime(allow_none=True)


class TextAnswerPageSchema(PageSchema):
    items = fields.List(fields.Nested(TextAnswerSchema))


class ModerationInputSchema(Schema):
    status = fields.String(
        required=True,
        validate=validate.OneOf([ModerationStatus.APPROVED.value, ModerationStatus.REJECTED.value]),
        metadata={"example": "rejected"},
    )
    reason = fields.String(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"example": "Enthält den Namen einer Person."},
    )
