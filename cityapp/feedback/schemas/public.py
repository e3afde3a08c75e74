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
from cityapp.fields import Float, Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema

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
    category = Text(required=True, metadata={"example": "strassenschaeden"})
    description = Text(
        required=True,
        metadata={"description": "Plain text, ≤ 4000.", "example": REPORT_TEXT_EXAMPLE},
    )
    lat = Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(-90, 90),
        metadata={"example": 51.3105},
    )
    lon = Float(
        load_default=None,
        allow_none=True,
        validate=validate.Range(-180, 180),
        metadata={"example": 9.4502},
    )
    address = OptionalText(ADDRESS_EXAMPLE, max_length=300)
    attributes = fields.Dict(
        keys=Text(),
        load_default=dict,
        metadata={
            "description": "Values of the category's attributes, by attribute code.",
            "example": ATTRIBUTES_EXAMPLE,
        },
    )
    contact = fields.Nested(ContactInputSchema, load_default=None, allow_none=True)
    website = Text(
        load_default=None,
        allow_none=True,
        metadata={"description": "Honeypot for web forms: must stay empty.", "example": ""},
    )


class CommentInputSchema(Schema):
    comment = Text(
        required=True,
        metadata={"example": "Das Schlagloch ist seit dem Regen noch größer geworden."},
    )


class ReasonInputSchema(Schema):
    reason = OptionalText("Das Schlagloch ist wieder aufgebrochen.", max_length=1000)


class FlagInputSchema(Schema):
    reason = Text(
        required=True,
        validate=validate.OneOf(FLAG_REASONS),
        metadata={"example": "personal_data"},
    )
    comment = OptionalText("Auf dem Foto ist ein Autokennzeichen zu lesen.", max_length=500)


# --- output ----------------------------------------------------------------------------


class PhotoPublicSchema(Schema):
    url = Text(metadata={"example": f"{PHOTO_URL_EXAMPLE}/display"})
    thumbnail_url = Text(metadata={"example": f"{PHOTO_URL_EXAMPLE}/thumbnail"})


class HistoryEntrySchema(Schema):
    id = Id(metadata={"example": 93})
    kind = Text(metadata={"example": "status"})
    from_status = Text(allow_none=True, metadata={"example": "submitted"})
    to_status = Text(allow_none=True, metadata={"example": "acknowledged"})
    note = Text(
        allow_none=True,
        metadata={"example": "Der Bauhof ist informiert und sichert die Stelle ab."},
    )
    created_at = UTCDateTime()


class ReportPublicSchema(PlaceFields, Schema):
    """A published report: public text only, never contact data."""

    id = Id(metadata={"example": 42})
    category = Text(metadata={"example": "strassenschaeden"})
    category_name = Text(metadata={"example": "Straßenschäden"})
    description = Text(metadata={"example": REPORT_TEXT_EXAMPLE})
    status = Text(validate=validate.OneOf(STATUSES), metadata={"example": "acknowledged"})
    attributes = fields.Dict(metadata={"example": ATTRIBUTES_EXAMPLE})
    supporters_count = Integer(metadata={"example": 3})
    photos = fields.List(fields.Nested(PhotoPublicSchema))
    expected_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ReportPublicDetailSchema(ReportPublicSchema):
    history = fields.List(fields.Nested(HistoryEntrySchema))


class ReportPublicPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReportPublicSchema))


class PossibleDuplicateSchema(Schema):
    id = Id(metadata={"example": 38})
    description = Text(metadata={"example": "Schlagloch Marktstraße, Höhe Bäckerei."})
    status = Text(metadata={"example": "acknowledged"})
    distance_m = Float(metadata={"example": 14.5})
    supporters_count = Integer(metadata={"example": 2})


class ReportCreatedSchema(Schema):
    id = Id(metadata={"example": 42})
    tracking_token = Text(
        metadata={
            "description": "Shown once; keep it.",
            "example": "crt_EXAMPLE-not-a-real-token-00000000",
        }
    )
    status = Text(metadata={"example": "submitted"})
    moderation_state = Text(metadata={"example": "pending"})
    possible_duplicates = fields.List(fields.Nested(PossibleDuplicateSchema))


class ReportTrackSchema(PlaceFields, Schema):
    """What the reporter sees with the tracking token."""

    id = Id(metadata={"example": 42})
    category = Text(metadata={"example": "strassenschaeden"})
    category_name = Text(metadata={"example": "Straßenschäden"})
    description = Text(metadata={"example": REPORT_TEXT_EXAMPLE})
    status = Text(metadata={"example": "acknowledged"})
    moderation_state = Text(metadata={"example": "published"})
    is_public = fields.Boolean(metadata={"example": True})
    photos_count = Integer(metadata={"example": 1})
    supporters_count = Integer(metadata={"example": 3})
    expected_at = UTCDateTime(allow_none=True)
    can_reopen = fields.Boolean(metadata={"example": False})
    merged_into = Integer(allow_none=True, metadata={"example": 38})
    history = fields.List(fields.Nested(HistoryEntrySchema))
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyReportSchema(Schema):
    id = Id(metadata={"example": 42})
    category = Text(metadata={"example": "strassenschaeden"})
    description = Text(metadata={"example": REPORT_TEXT_EXAMPLE})
    status = Text(metadata={"example": "in_progress"})
    moderation_state = Text(metadata={"example": "published"})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyReportPageSchema(PageSchema):
    items = fields.List(fields.Nested(MyReportSchema))


class SupportResultSchema(Schema):
    supporters_count = Integer(metadata={"example": 4})
    is_new = fields.Boolean(metadata={"example": True})


class PublicListQuerySchema(PaginationQuerySchema):
    category = Text()
    status = Text(validate=validate.OneOf(["open", "closed", *STATUSES]))
    district = Integer()
