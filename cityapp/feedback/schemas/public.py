"""Schemas of the public feedback API: residents submit, read, track, support and flag."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.feedback.schemas.common import (
    ADDRESS_EXAMPLE,
    ATTRIBUTES_EXAMPLE,
    FLAG_REASONS,
    PHOTO_URL_EXAMPLE,
    REPORT_TEXT_EXAMPLE,
    STATUSES,
    OptionalText,
    PlaceFields,
)
from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime

# --- input -----------------------------------------------------------------------------


class ContactInputSchema(Schema):
    email = fields.Email(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"example": "erika.mustermann@example.org"},
    )
    name = OptionalText("Erika Mustermann", max_length=200)
    phone = OptionalText("01234 567890", max_length=60)
    consent = fields.Boolean(
        load_default=False,
        metadata={
            "description": "The reporter agrees to get mail about the report.",
            "example": True,
        },
    )


class ReportInputSchema(Schema):
    category = fields.String(required=True, metadata={"example": "strassenschaeden"})
    description = fields.String(
        required=True,
        metadata={"description": "Plain text, ≤ 4000.", "example": REPORT_TEXT_EXAMPLE},
    )
    lat = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(-90, 90),
        metadata={"example": 51.3105},
    )
    lon = fields.Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(-180, 180),
        metadata={"example": 9.4502},
    )
    address = OptionalText(ADDRESS_EXAMPLE, max_length=300)
    attributes = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={
            "description": "Values of the category's attributes, by attribute code.",
            "example": ATTRIBUTES_EXAMPLE,
        },
    )
    contact = fields.Nested(ContactInputSchema, load_default=None, allow_none=True)
    website = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "Honeypot for web forms: must stay empty.", "example": ""},
    )


class CommentInputSchema(Schema):
    comment = fields.String(
        required=True,
        metadata={"example": "Das Schlagloch ist seit dem Regen noch größer geworden."},
    )


class ReasonInputSchema(Schema):
    reason = OptionalText("Das Schlagloch ist wieder aufgebrochen.", max_length=1000)


class FlagInputSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(FLAG_REASONS),
        metadata={"example": "personal_data"},
    )
    comment = OptionalText("Auf dem Foto ist ein Autokennzeichen zu lesen.", max_length=500)


# --- output ----------------------------------------------------------------------------


class PhotoPublicSchema(Schema):
    url = fields.String(metadata={"example": f"{PHOTO_URL_EXAMPLE}/display"})
    thumbnail_url = fields.String(metadata={"example": f"{PHOTO_URL_EXAMPLE}/thumbnail"})


class HistoryEntrySchema(Schema):
    id = fields.Integer(metadata={"example": 93})
    kind = fields.String(metadata={"example": "status"})
    from_status = fields.String(allow_none=True, metadata={"example": "submitted"})
    to_status = fields.String(allow_none=True, metadata={"example": "acknowledged"})
    note = fields.String(
        allow_none=True,
        metadata={"example": "Der Bauhof ist informiert und sichert die Stelle ab."},
    )
    created_at = UTCDateTime()


class ReportPublicSchema(PlaceFields, Schema):
    """A published report: public text only, never contact data."""

    id = fields.Integer(metadata={"example": 42})
    category = fields.String(metadata={"example": "strassenschaeden"})
    category_name = fields.String(metadata={"example": "Straßenschäden"})
    description = fields.String(metadata={"example": REPORT_TEXT_EXAMPLE})
    status = fields.String(validate=validate.OneOf(STATUSES), metadata={"example": "acknowledged"})
    attributes = fields.Dict(metadata={"example": ATTRIBUTES_EXAMPLE})
    supporters_count = fields.Integer(metadata={"example": 3})
    photos = fields.List(fields.Nested(PhotoPublicSchema))
    expected_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ReportPublicDetailSchema(ReportPublicSchema):
    history = fields.List(fields.Nested(HistoryEntrySchema))


class ReportPublicPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReportPublicSchema))


class PossibleDuplicateSchema(Schema):
    id = fields.Integer(metadata={"example": 38})
    description = fields.String(metadata={"example": "Schlagloch Marktstraße, Höhe Bäckerei."})
    status = fields.String(metadata={"example": "acknowledged"})
    distance_m = fields.Float(metadata={"example": 14.5})
    supporters_count = fields.Integer(metadata={"example": 2})


class ReportCreatedSchema(Schema):
    id = fields.Integer(metadata={"example": 42})
    tracking_token = fields.String(
        metadata={
            "description": "Shown once; keep it.",
            "example": "crt_EXAMPLE-not-a-real-token-00000000",
        }
    )
    status = fields.String(metadata={"example": "submitted"})
    moderation_state = fields.String(metadata={"example": "pending"})
    possible_duplicates = fields.List(fields.Nested(PossibleDuplicateSchema))


class ReportTrackSchema(PlaceFields, Schema):
    """What the reporter sees with the tracking token."""

    id = fields.Integer(metadata={"example": 42})
    category = fields.String(metadata={"example": "strassenschaeden"})
    category_name = fields.String(metadata={"example": "Straßenschäden"})
    description = fields.String(metadata={"example": REPORT_TEXT_EXAMPLE})
    status = fields.String(metadata={"example": "acknowledged"})
    moderation_state = fields.String(metadata={"example": "published"})
    is_public = fields.Boolean(metadata={"example": True})
    photos_count = fields.Integer(metadata={"example": 1})
    supporters_count = fields.Integer(metadata={"example": 3})
    expected_at = UTCDateTime(allow_none=True)
    can_reopen = fields.Boolean(metadata={"example": False})
    merged_into = fields.Integer(allow_none=True, metadata={"example": 38})
    history = fields.List(fields.Nested(HistoryEntrySchema))
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyReportSchema(Schema):
    id = fields.Integer(metadata={"example": 42})
    category = fields.String(metadata={"example": "strassenschaeden"})
    description = fields.String(metadata={"example": REPORT_TEXT_EXAMPLE})
    status = fields.String(metadata={"example": "in_progress"})
    moderation_state = fields.String(metadata={"example": "published"})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyReportPageSchema(PageSchema):
    items = fields.List(fields.Nested(MyReportSchema))


class SupportResultSchema(Schema):
    supporters_count = fields.Integer(metadata={"example": 4})
    is_new = fields.Boolean(metadata={"example": True})


class PublicListQuerySchema(PaginationQuerySchema):
    category = fields.String()
    status = fields.String(validate=validate.OneOf(["open", "closed", *STATUSES]))
    district = fields.Integer()
