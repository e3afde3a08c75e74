"""Staff builder schemas: survey, question and option input and output."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime
from cityapp.surveys.models import Channel, ResubmissionPolicy, ResultsVisibility
from cityapp.surveys.schemas.common import (
    CHANNELS,
    RESUBMISSION,
    STATUSES,
    TYPES,
    VISIBILITY,
    Translation,
)

# --- builder (staff) ---------------------------------------------------------------------


class SurveyInputSchema(Schema):
    title = Translation(required=True, max_length=200)
    description = Translation(load_default=None, allow_none=True, max_length=5000)
    opens_at = UTCDateTime(load_default=None, allow_none=True)
    closes_at = UTCDateTime(load_default=None, allow_none=True)
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)),
        load_default=lambda: [Channel.APP.value],
        validate=validate.Length(min=1, max=3),
        metadata={"description": "app, stele, web. A stele poll has one single_choice question."},
    )
    results_visibility = fields.String(
        load_default=ResultsVisibility.AFTER_CLOSE.value, validate=validate.OneOf(VISIBILITY)
    )
    resubmission = fields.String(
        load_default=ResubmissionPolicy.REPLACE.value,
        validate=validate.OneOf(RESUBMISSION),
        metadata={"description": "replace: a new ballot replaces the old; reject: 409."},
    )
    district_threshold = fields.Integer(
        load_default=None,
        allow_none=True,
        validate=validate.Range(min=2, max=1000),
        metadata={"description": "k for the district breakdown (default from config)."},
    )
    district_ids = fields.List(
        fields.Integer(),
        load_default=list,
        validate=validate.Length(max=200),
        metadata={"description": "Target districts; empty means the whole city."},
    )


class SurveyUpdateSchema(Schema):
    title = Translation(max_length=200)
    description = Translation(allow_none=True, max_length=5000)
    opens_at = UTCDateTime(allow_none=True)
    closes_at = UTCDateTime(allow_none=True)
    channels = fields.List(
        fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(min=1, max=3)
    )
    results_visibility = fields.String(validate=validate.OneOf(VISIBILITY))
    resubmission = fields.String(validate=validate.OneOf(RESUBMISSION))
    district_threshold = fields.Integer(allow_none=True, validate=validate.Range(min=2, max=1000))
    district_ids = fields.List(fields.Integer(), validate=validate.Length(max=200))


class OptionInputSchema(Schema):
    id = fields.Integer(metadata={"description": "Keep an existing option (updates only)."})
    label = Translation(required=True, max_length=200)
    is_other = fields.Boolean(
        load_default=False, metadata={"description": "The 'other' option with a text field."}
    )


class _QuestionFields(Schema):
    help_text = Translation(allow_none=True, max_length=1000)
    is_required = fields.Boolean()
    min_selections = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100))
    max_selections = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100))
    scale_min = fields.Integer(allow_none=True, validate=validate.Range(min=-10, max=100))
    scale_max = fields.Integer(allow_none=True, validate=validate.Range(min=-10, max=100))
    scale_min_label = Translation(allow_none=True, max_length=100)
    scale_max_label = Translation(allow_none=True, max_length=100)
    max_length = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=1000))
    condition = fields.Dict(
        allow_none=True,
        metadata={
            "description": "Show only if an earlier answer matches: "
            '{"question_id": 3, "option_ids": [7]} or {"question_id": 4, "values": [true]}.'
        },
    )
    options = fields.List(fields.Nested(OptionInputSchema), validate=validate.Length(max=30))


class QuestionInputSchema(_QuestionFields):
    type = fields.String(required=True, validate=validate.OneOf(TYPES))
    title = Translation(required=True, max_length=500)


class QuestionUpdateSchema(_QuestionFields):
    type = fields.String(validate=validate.OneOf(TYPES))
    title = Translation(max_length=500)


class ReorderInputSchema(Schema):
    question_ids = fields.List(
        fields.Integer(), required=True, validate=validate.Length(min=1, max=200)
    )


class OptionStaffSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    label = fields.Dict()
    is_other = fields.Boolean()


class QuestionStaffSchema(Schema):
    id = fields.Integer()
    position = fields.Integer()
    type = fields.String(metadata={"enum": TYPES})
    title = fields.Dict()
    help_text = fields.Dict(allow_none=True)
    is_required = fields.Boolean()
    min_selections = fields.Integer(allow_none=True)
    max_selections = fields.Integer(allow_none=True)
    scale_min = fields.Integer(allow_none=True)
    scale_max = fields.Integer(allow_none=True)
    scale_min_label = fields.Dict(allow_none=True)
    scale_max_label = fields.Dict(allow_none=True)
    max_length = fields.Integer(allow_none=True)
    condition = fields.Dict(allow_none=True)
    options = fields.List(fields.Nested(OptionStaffSchema))


class SurveyStaffSchema(Schema):
    """A survey as editors see it: every translation, settings and counters."""

    id = fields.Integer()
    title = fields.Dict()
    description = fields.Dict(allow_none=True)
    status = fields.String(metadata={"enum": STATUSES, "description": "As stored."})
    effective_status = fields.Method(
        "_effective_status", metadata={"description": "The status now, by the dates."}
    )
    opens_at = UTCDateTime(allow_none=True)
    closes_at = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String(metadata={"enum": CHANNELS}))
    results_visibility = fields.String(metadata={"enum": VISIBILITY})
    resubmission = fields.String(metadata={"enum": RESUBMISSION})
    district_threshold = fields.Integer(allow_none=True)
    district_ids = fields.Method("_district_ids")
    ballot_count = fields.Integer()
    is_frozen = fields.Boolean(
        attribute="has_ballots",
        metadata={"description": "Questions/options are frozen (ballots exist); texts not."},
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
    status = fields.String(validate=validate.OneOf(STATUSES))


class ValidationReportSchema(Schema):
    is_valid = fields.Boolean()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
