"""Result, breakdown and moderation schemas."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.fields import Float, Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema
from cityapp.surveys.models import ModerationStatus
from cityapp.surveys.schemas.common import (
    STATUSES,
    TYPES,
    VISIBILITY,
)

# --- results -----------------------------------------------------------------------------


class OptionResultSchema(Schema):
    option_id = Id(metadata={"example": 7})
    value = fields.Raw(metadata={"description": "yes_no only: true / false", "example": True})
    label = Text(allow_none=True, metadata={"example": "Mehr Bäume und Bänke"})
    is_other = fields.Boolean(metadata={"example": False})
    count = Integer(metadata={"example": 87})
    percent = Float(metadata={"description": "Of the question's respondents.", "example": 40.7})
    other_texts = fields.List(
        Text(),
        metadata={"description": "Moderated texts.", "example": ["Ein Trinkbrunnen"]},
    )
    average_rank = Float(allow_none=True, metadata={"example": 1.8})
    borda_score = Integer(metadata={"example": 312})
    rank_counts = fields.List(Integer(), metadata={"example": [40, 30, 17]})


class ScaleBucketSchema(Schema):
    value = Integer(metadata={"example": 4})
    count = Integer(metadata={"example": 52})
    percent = Float(metadata={"example": 24.3})


class ScaleResultSchema(Schema):
    min = Integer(metadata={"example": 1})
    max = Integer(metadata={"example": 5})
    min_label = Text(allow_none=True, metadata={"example": "gar nicht zufrieden"})
    max_label = Text(allow_none=True, metadata={"example": "sehr zufrieden"})
    mean = Float(allow_none=True, metadata={"example": 3.6})
    median = Float(allow_none=True, metadata={"example": 4.0})
    distribution = fields.List(fields.Nested(ScaleBucketSchema))


class ModerationCountsSchema(Schema):
    pending = Integer(metadata={"example": 3})
    approved = Integer(metadata={"example": 25})
    rejected = Integer(metadata={"example": 2})


class QuestionResultSchema(Schema):
    question_id = Id(metadata={"example": 21})
    type = Text(metadata={"enum": TYPES, "example": "multiple_choice"})
    title = Text(metadata={"example": "Was wünschen Sie sich für den Marktplatz?"})
    respondents = Integer(metadata={"example": 214})
    suppressed = fields.Boolean(
        metadata={"description": "Fewer than k respondents here.", "example": False}
    )
    options = fields.List(fields.Nested(OptionResultSchema))
    scale = fields.Nested(ScaleResultSchema)
    texts = fields.List(
        Text(),
        metadata={
            "description": "Moderated free texts.",
            "example": ["Mehr Schatten im Sommer, bitte."],
        },
    )
    moderation = fields.Nested(ModerationCountsSchema)


class DistrictGroupSchema(Schema):
    district_id = Id(allow_none=True, metadata={"description": "null: no district", "example": 1})
    name = Text(allow_none=True, metadata={"example": "Altstadt"})
    participants = Integer(metadata={"example": 120})
    questions = fields.List(fields.Nested(QuestionResultSchema))


class DistrictBreakdownSchema(Schema):
    k = Integer(
        metadata={"description": "Groups with fewer ballots are suppressed.", "example": 10}
    )
    groups = fields.List(fields.Nested(DistrictGroupSchema))
    suppressed_groups = Integer(metadata={"example": 1})


class ResultsSchema(Schema):
    survey_id = Id(metadata={"example": 7})
    title = Text(metadata={"example": "Neugestaltung des Marktplatzes"})
    status = Text(metadata={"enum": STATUSES, "example": "closed"})
    results_visibility = Text(metadata={"enum": VISIBILITY, "example": "after_close"})
    participants = Integer(metadata={"example": 214})
    computed_at = UTCDateTime()
    questions = fields.List(fields.Nested(QuestionResultSchema))
    districts = fields.Nested(DistrictBreakdownSchema)


# --- moderation (staff) ------------------------------------------------------------------


class TextAnswerQuerySchema(PaginationQuerySchema):
    status = Text(
        load_default=ModerationStatus.PENDING.value,
        validate=validate.OneOf([s.value for s in ModerationStatus]),
    )
    question_id = Id()


class TextAnswerSchema(Schema):
    id = Id(metadata={"example": 301})
    survey_id = Id(metadata={"example": 7})
    question_id = Id(metadata={"example": 21})
    option_id = Id(allow_none=True, metadata={"description": "Set for 'other'.", "example": 9})
    text = Text(metadata={"example": "Ein Trinkbrunnen"})
    moderation_status = Text(metadata={"example": "pending"})
    moderated_at = UTCDateTime(allow_none=True)


class TextAnswerPageSchema(PageSchema):
    items = fields.List(fields.Nested(TextAnswerSchema))


class ModerationInputSchema(Schema):
    status = Text(
        required=True,
        validate=validate.OneOf([ModerationStatus.APPROVED.value, ModerationStatus.REJECTED.value]),
        metadata={"example": "rejected"},
    )
    reason = Text(
        load_default=None,
        validate=validate.Length(max=500),
        metadata={"example": "Enthält den Namen einer Person."},
    )
