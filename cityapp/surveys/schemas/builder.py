"""Staff builder schemas: survey, question and option input and output."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from cityapp.fields import Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema
from cityapp.surveys.models import Channel, ResubmissionPolicy, ResultsVisibility
from cityapp.surveys.schemas.common import (
    CHANNELS,
    RESUBMISSION,
    STATUSES,
    TYPES,
    VISIBILITY,
    Translation,
)

# Example values for the OpenAPI document: a survey about the Altstadt market square.
_TITLE_EXAMPLE = {"de": "Neugestaltung des Marktplatzes", "en": "Redesigning the market square"}
_DESCRIPTION_EXAMPLE = {
    "de": "Wie möchten Sie den Marktplatz in der Altstadt künftig nutzen?",
    "en": "How would you like to use the market square in the Altstadt?",
}
_QUESTION_EXAMPLE = {
    "de": "Was wünschen Sie sich für den Marktplatz?",
    "en": "What would you like for the market square?",
}
_CONDITION_EXAMPLE = {"question_id": 21, "option_ids": [7]}

# --- builder (staff) ---------------------------------------------------------------------


class SurveyInputSchema(Schema):
    title = Translation(required=True, max_length=200, metadata={"example": _TITLE_EXAMPLE})
    description = Translation(
        load_default=None,
        allow_none=True,
        max_length=5000,
        metadata={"example": _DESCRIPTION_EXAMPLE},
    )
    opens_at = UTCDateTime(load_default=None, allow_none=True)
    closes_at = UTCDateTime(load_default=None, allow_none=True)
    channels = fields.List(
        Text(validate=validate.OneOf(CHANNELS)),
        load_default=lambda: [Channel.APP.value],
        validate=validate.Length(min=1, max=3),
        metadata={
            "description": "app, stele, web. A stele poll has one single_choice question.",
            "example": ["app", "web"],
        },
    )
    results_visibility = Text(
        load_default=ResultsVisibility.AFTER_CLOSE.value,
        validate=validate.OneOf(VISIBILITY),
        metadata={"example": "after_close"},
    )
    resubmission = Text(
        load_default=ResubmissionPolicy.REPLACE.value,
        validate=validate.OneOf(RESUBMISSION),
        metadata={
            "description": "replace: a new ballot replaces the old; reject: 409.",
            "example": "replace",
        },
    )
    district_threshold = Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=2, max=1000),
        metadata={
            "description": "k for the district breakdown (default from config).",
            "example": 10,
        },
    )
    district_ids = fields.List(
        Id(),
        load_default=list,
        validate=validate.Length(max=200),
        metadata={
            "description": "Target districts; empty means the whole city.",
            "example": [1, 2],
        },
    )


class SurveyUpdateSchema(Schema):
    title = Translation(max_length=200, metadata={"example": _TITLE_EXAMPLE})
    description = Translation(
        allow_none=True, max_length=5000, metadata={"example": _DESCRIPTION_EXAMPLE}
    )
    opens_at = UTCDateTime(allow_none=True)
    closes_at = UTCDateTime(allow_none=True)
    channels = fields.List(
        Text(validate=validate.OneOf(CHANNELS)),
        validate=validate.Length(min=1, max=3),
        metadata={"example": ["app", "web"]},
    )
    results_visibility = Text(validate=validate.OneOf(VISIBILITY), metadata={"example": "live"})
    resubmission = Text(validate=validate.OneOf(RESUBMISSION), metadata={"example": "reject"})
    district_threshold = Integer(
        allow_none=True, validate=validate.Range(min=2, max=1000), metadata={"example": 10}
    )
    district_ids = fields.List(
        Id(), validate=validate.Length(max=200), metadata={"example": [1, 2]}
    )


class OptionInputSchema(Schema):
    id = Id(metadata={"description": "Keep an existing option (updates only).", "example": 7})
    label = Translation(
        required=True,
        max_length=200,
        metadata={"example": {"de": "Mehr Bäume und Bänke", "en": "More trees and benches"}},
    )
    is_other = fields.Boolean(
        load_default=False,
        metadata={"description": "The 'other' option with a text field.", "example": False},
    )


class _QuestionFields(Schema):
    help_text = Translation(
        allow_none=True,
        max_length=1000,
        metadata={"example": {"de": "Bis zu drei Antworten.", "en": "Up to three answers."}},
    )
    is_required = fields.Boolean(metadata={"example": True})
    min_selections = Integer(
        allow_none=True, validate=validate.Range(min=0, max=100), metadata={"example": 1}
    )
    max_selections = Integer(
        allow_none=True, validate=validate.Range(min=1, max=100), metadata={"example": 3}
    )
    scale_min = Integer(
        allow_none=True, validate=validate.Range(min=-10, max=100), metadata={"example": 1}
    )
    scale_max = Integer(
        allow_none=True, validate=validate.Range(min=-10, max=100), metadata={"example": 5}
    )
    scale_min_label = Translation(
        allow_none=True,
        max_length=100,
        metadata={"example": {"de": "gar nicht zufrieden", "en": "not satisfied at all"}},
    )
    scale_max_label = Translation(
        allow_none=True,
        max_length=100,
        metadata={"example": {"de": "sehr zufrieden", "en": "very satisfied"}},
    )
    max_length = Integer(
        allow_none=True, validate=validate.Range(min=1, max=1000), metadata={"example": 500}
    )
    condition = fields.Dict(
        allow_none=True,
        metadata={
            "description": "Show only if an earlier answer matches: "
            '{"question_id": 3, "option_ids": [7]} or {"question_id": 4, "values": [true]}.',
            "example": _CONDITION_EXAMPLE,
        },
    )
    options = fields.List(fields.Nested(OptionInputSchema), validate=validate.Length(max=30))


class QuestionInputSchema(_QuestionFields):
    type = Text(
        required=True, validate=validate.OneOf(TYPES), metadata={"example": "multiple_choice"}
    )
    title = Translation(required=True, max_length=500, metadata={"example": _QUESTION_EXAMPLE})


class QuestionUpdateSchema(_QuestionFields):
    type = Text(validate=validate.OneOf(TYPES), metadata={"example": "multiple_choice"})
    title = Translation(max_length=500, metadata={"example": _QUESTION_EXAMPLE})


class ReorderInputSchema(Schema):
    question_ids = fields.List(
        Id(),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"example": [23, 21, 22]},
    )


class OptionStaffSchema(Schema):
    id = Id(metadata={"example": 7})
    position = Integer(metadata={"example": 1})
    label = fields.Dict(
        metadata={"example": {"de": "Mehr Bäume und Bänke", "en": "More trees and benches"}}
    )
    is_other = fields.Boolean(metadata={"example": False})


class QuestionStaffSchema(Schema):
    id = Id(metadata={"example": 21})
    position = Integer(metadata={"example": 1})
    type = Text(metadata={"enum": TYPES, "example": "multiple_choice"})
    title = fields.Dict(metadata={"example": _QUESTION_EXAMPLE})
    help_text = fields.Dict(
        allow_none=True,
        metadata={"example": {"de": "Bis zu drei Antworten.", "en": "Up to three answers."}},
    )
    is_required = fields.Boolean(metadata={"example": True})
    min_selections = Integer(allow_none=True, metadata={"example": 1})
    max_selections = Integer(allow_none=True, metadata={"example": 3})
    scale_min = Integer(allow_none=True, metadata={"example": 1})
    scale_max = Integer(allow_none=True, metadata={"example": 5})
    scale_min_label = fields.Dict(
        allow_none=True,
        metadata={"example": {"de": "gar nicht zufrieden", "en": "not satisfied at all"}},
    )
    scale_max_label = fields.Dict(
        allow_none=True, metadata={"example": {"de": "sehr zufrieden", "en": "very satisfied"}}
    )
    max_length = Integer(allow_none=True, metadata={"example": 500})
    condition = fields.Dict(allow_none=True, metadata={"example": _CONDITION_EXAMPLE})
    options = fields.List(fields.Nested(OptionStaffSchema))


class SurveyStaffSchema(Schema):
    """A survey as editors see it: every translation, settings and counters."""

    id = Id(metadata={"example": 7})
    title = fields.Dict(metadata={"example": _TITLE_EXAMPLE})
    description = fields.Dict(allow_none=True, metadata={"example": _DESCRIPTION_EXAMPLE})
    status = Text(metadata={"enum": STATUSES, "description": "As stored.", "example": "scheduled"})
    effective_status = fields.Method(
        "_effective_status",
        metadata={"description": "The status now, by the dates.", "example": "open"},
    )
    opens_at = UTCDateTime(allow_none=True)
    closes_at = UTCDateTime(allow_none=True)
    channels = fields.List(Text(metadata={"enum": CHANNELS}), metadata={"example": ["app", "web"]})
    results_visibility = Text(metadata={"enum": VISIBILITY, "example": "after_close"})
    resubmission = Text(metadata={"enum": RESUBMISSION, "example": "replace"})
    district_threshold = Integer(allow_none=True, metadata={"example": 10})
    district_ids = fields.Method("_district_ids", metadata={"example": [1, 2]})
    ballot_count = Integer(metadata={"example": 214})
    is_frozen = fields.Boolean(
        attribute="has_ballots",
        metadata={
            "description": "Questions/options are frozen (ballots exist); texts not.",
            "example": True,
        },
    )
    created_at = UTCDateTime()
    updated_at = UTCDateTime()
    questions = fields.List(fields.Nested(QuestionStaffSchema))

    def _effective_status(self, survey: Any) -> str:
        return survey.effective_status()

    def _district_ids(self, survey: Any) -> list[int]:
        return [d.id for d in survey.districts]


class SurveySummaryStaffSchema(SurveyStaffSchema):
    class Meta:
        exclude = ("questions",)


class SurveyStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(SurveySummaryStaffSchema))


class SurveyStaffQuerySchema(PaginationQuerySchema):
    status = Text(validate=validate.OneOf(STATUSES))


class ValidationReportSchema(Schema):
    is_valid = fields.Boolean(metadata={"example": False})
    errors = fields.Dict(
        keys=Text(),
        values=fields.List(Text()),
        metadata={
            "example": {
                "closes_at": ["Must be after opens_at."],
                "channels": ["A stele poll has exactly one single_choice question."],
            }
        },
    )
