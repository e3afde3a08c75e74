"""Marshmallow schemas for the feedback APIs: one per audience (public, reporter, staff)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.feedback.models import AttributeType, ModerationState, RejectionReason, ReportStatus
from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime

LANGUAGES = ("de", "en", "de-x-ls")
_STATUSES = [s.value for s in ReportStatus]
_MODERATION = [m.value for m in ModerationState]
_REASONS = [r.value for r in RejectionReason]
FLAG_REASONS = ("abusive", "personal_data", "spam", "wrong", "other")

# Example values for the OpenAPI document: one pothole report in the Altstadt.
_REPORT_TEXT_EXAMPLE = "Tiefes Schlagloch in der Marktstraße vor Hausnummer 12."
_ATTRIBUTES_EXAMPLE = {"gefahr": "ja", "groesse_cm": 40}
_SHA256_EXAMPLE = "1a78c0cb812a9aae8f6e1158902349b75372c6fd57b7b127d697043a5592509c"
_PHOTO_URL_EXAMPLE = f"https://app.musterstadt.example/media/{_SHA256_EXAMPLE}"
_STAFF_PHOTO_URL_EXAMPLE = "https://app.musterstadt.example/api/v1/staff/reports/42/photos/7"


def Translations(*, required: bool = False, example: dict | None = None, **kw):
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(LANGUAGES)),
        values=fields.String(allow_none=True),
        required=required,
        metadata={
            "description": "Keyed by language (de required).",
            "example": example or {"de": "Text"},
        },
        **kw,
    )


_NAME_EXAMPLE = {"de": "Straßenschäden", "en": "Road damage"}
_DESCRIPTION_EXAMPLE = {"de": "Schlaglöcher, Risse, lose Pflastersteine, abgesackte Gullys"}


# --- categories ------------------------------------------------------------------------


class AttributeValueSchema(Schema):
    key = fields.String(
        required=True, validate=validate.Length(min=1, max=60), metadata={"example": "ja"}
    )
    name = fields.String(
        required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Ja"}
    )


class CategoryAttributeSchema(Schema):
    """A typed extra field of a category (Open311 attribute)."""

    code = fields.String(required=True, metadata={"example": "gefahr"})
    datatype = fields.String(
        required=True,
        validate=validate.OneOf([t.value for t in AttributeType]),
        metadata={"example": "singlevaluelist"},
    )
    required = fields.Boolean(load_default=False, metadata={"example": True})
    order = fields.Integer(load_default=None, allow_none=True, metadata={"example": 1})
    description = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "Besteht akute Unfallgefahr?"},
    )
    datatype_description = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "Bitte eine Antwort wählen."},
    )
    values = fields.List(fields.Nested(AttributeValueSchema), load_default=list)


class CategoryPublicSchema(Schema):
    """A category as residents see it (one language)."""

    code = fields.String(metadata={"example": "strassenschaeden"})
    name = fields.String(metadata={"example": "Straßenschäden"})
    description = fields.String(
        allow_none=True,
        metadata={"example": "Schlaglöcher, Risse, lose Pflastersteine, abgesackte Gullys"},
    )
    group = fields.String(allow_none=True, metadata={"example": "Straße und Verkehr"})
    keywords = fields.List(fields.String(), metadata={"example": ["schlagloch", "pflaster"]})
    is_location_required = fields.Boolean(metadata={"example": True})
    is_photo_required = fields.Boolean(metadata={"example": False})
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategoryPublicSchema))


class CategoryStaffSchema(Schema):
    id = fields.Integer(metadata={"example": 1})
    code = fields.String(metadata={"example": "strassenschaeden"})
    name = Translations(example=_NAME_EXAMPLE)
    description = Translations(example=_DESCRIPTION_EXAMPLE)
    group = fields.String(allow_none=True, metadata={"example": "Straße und Verkehr"})
    keywords = fields.List(fields.String(), metadata={"example": ["schlagloch", "pflaster"]})
    department = fields.String(allow_none=True, metadata={"example": "Tiefbauamt"})
    is_private = fields.Boolean(metadata={"example": False})
    is_location_required = fields.Boolean(metadata={"example": True})
    is_photo_required = fields.Boolean(metadata={"example": False})
    is_auto_publish = fields.Boolean(metadata={"example": False})
    is_active = fields.Boolean(metadata={"example": True})
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))
    position = fields.Integer(metadata={"example": 0})
    contact_retention_days = fields.Integer(allow_none=True, metadata={"example": 180})
    rejected_photo_retention_days = fields.Integer(allow_none=True, metadata={"example": 30})
    anonymise_after_days = fields.Integer(allow_none=True, metadata={"example": 730})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class CategoryStaffListSchema(Schema):
    items = fields.List(fields.Nested(CategoryStaffSchema))


class _CategoryFields(Schema):
    description = Translations(example=_DESCRIPTION_EXAMPLE)
    group = fields.String(
        allow_none=True,
        validate=validate.Length(max=120),
        metadata={"example": "Straße und Verkehr"},
    )
    keywords = fields.List(
        fields.String(validate=validate.Length(max=60)),
        metadata={"example": ["schlagloch", "pflaster"]},
    )
    department = fields.String(
        allow_none=True, validate=validate.Length(max=200), metadata={"example": "Tiefbauamt"}
    )
    is_private = fields.Boolean(metadata={"example": False})
    is_location_required = fields.Boolean(metadata={"example": True})
    is_photo_required = fields.Boolean(metadata={"example": False})
    is_auto_publish = fields.Boolean(metadata={"example": False})
    is_active = fields.Boolean(metadata={"example": True})
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))
    position = fields.Integer(metadata={"example": 0})
    contact_retention_days = fields.Integer(
        allow_none=True, validate=validate.Range(min=1), metadata={"example": 180}
    )
    rejected_photo_retention_days = fields.Integer(
        allow_none=True, validate=validate.Range(min=1), metadata={"example": 30}
    )
    anonymise_after_days = fields.Integer(
        allow_none=True, validate=validate.Range(min=1), metadata={"example": 730}
    )


class CategoryInputSchema(_CategoryFields):
    code = fields.String(
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={"example": "strassenschaeden"},
    )
    name = Translations(required=True, example=_NAME_EXAMPLE)


class CategoryUpdateSchema(_CategoryFields):
    code = fields.String(
        validate=validate.Length(min=1, max=60), metadata={"example": "strassenschaeden"}
    )
    name = Translations(example=_NAME_EXAMPLE)


class CategoryDeletedSchema(Schema):
    result = fields.String(
        metadata={"description": "deleted, or deactivated when in use", "example": "deleted"}
    )


# --- reports: input --------------------------------------------------------------------


class ContactInputSchema(Schema):
    email = fields.Email(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"example": "erika.mustermann@example.org"},
    )
    name = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"example": "Erika Mustermann"},
    )
    phone = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=60),
        metadata={"example": "01234 567890"},
    )
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
        metadata={"description": "Plain text, ≤ 4000.", "example": _REPORT_TEXT_EXAMPLE},
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
    address = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"example": "Marktstraße 12, Altstadt"},
    )
    attributes = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={
            "description": "Values of the category's attributes, by attribute code.",
            "example": _ATTRIBUTES_EXAMPLE,
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
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=1000),
        metadata={"example": "Das Schlagloch ist wieder aufgebrochen."},
    )


class FlagInputSchema(Schema):
    reason = fields.String(
        required=True, validate=validate.OneOf(FLAG_REASONS), metadata={"example": "personal_data"}
    )
    comment = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "Auf dem Foto ist ein Autokennzeichen zu lesen."},
    )


# --- reports: output -------------------------------------------------------------------


class PhotoPublicSchema(Schema):
    url = fields.String(metadata={"example": f"{_PHOTO_URL_EXAMPLE}/display"})
    thumbnail_url = fields.String(metadata={"example": f"{_PHOTO_URL_EXAMPLE}/thumbnail"})


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


class ReportPublicSchema(Schema):
    """A published report: public text only, never contact data."""

    id = fields.Integer(metadata={"example": 42})
    category = fields.String(metadata={"example": "strassenschaeden"})
    category_name = fields.String(metadata={"example": "Straßenschäden"})
    description = fields.String(metadata={"example": _REPORT_TEXT_EXAMPLE})
    status = fields.String(validate=validate.OneOf(_STATUSES), metadata={"example": "acknowledged"})
    lat = fields.Float(allow_none=True, metadata={"example": 51.3105})
    lon = fields.Float(allow_none=True, metadata={"example": 9.4502})
    address = fields.String(allow_none=True, metadata={"example": "Marktstraße 12, Altstadt"})
    district_id = fields.Integer(allow_none=True, metadata={"example": 1})
    attributes = fields.Dict(metadata={"example": _ATTRIBUTES_EXAMPLE})
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


class ReportTrackSchema(Schema):
    """What the reporter sees with the tracking token."""

    id = fields.Integer(metadata={"example": 42})
    category = fields.String(metadata={"example": "strassenschaeden"})
    category_name = fields.String(metadata={"example": "Straßenschäden"})
    description = fields.String(metadata={"example": _REPORT_TEXT_EXAMPLE})
    status = fields.String(metadata={"example": "acknowledged"})
    moderation_state = fields.String(metadata={"example": "published"})
    is_public = fields.Boolean(metadata={"example": True})
    lat = fields.Float(allow_none=True, metadata={"example": 51.3105})
    lon = fields.Float(allow_none=True, metadata={"example": 9.4502})
    address = fields.String(allow_none=True, metadata={"example": "Marktstraße 12, Altstadt"})
    district_id = fields.Integer(allow_none=True, metadata={"example": 1})
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
    description = fields.String(metadata={"example": _REPORT_TEXT_EXAMPLE})
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
    status = fields.String(validate=validate.OneOf(["open", "closed", *_STATUSES]))
    district = fields.Integer()


# --- staff -----------------------------------------------------------------------------


class ContactSchema(Schema):
    email = fields.String(allow_none=True, metadata={"example": "erika.mustermann@example.org"})
    name = fields.String(allow_none=True, metadata={"example": "Erika Mustermann"})
    phone = fields.String(allow_none=True, metadata={"example": "01234 567890"})
    is_notification_consented = fields.Boolean(metadata={"example": True})


class PhotoStaffSchema(Schema):
    id = fields.Integer(metadata={"example": 7})
    url = fields.String(allow_none=True, metadata={"example": _STAFF_PHOTO_URL_EXAMPLE})
    sha256 = fields.String(allow_none=True, metadata={"example": _SHA256_EXAMPLE})
    is_removed = fields.Boolean(metadata={"example": False})
    is_pending = fields.Boolean(
        metadata={"description": "Added later; waits for approval.", "example": False}
    )
    is_blurred = fields.Boolean(metadata={"example": True})
    original_url = fields.String(
        allow_none=True,
        metadata={
            "description": "Admins only: the unblurred original.",
            "example": f"{_STAFF_PHOTO_URL_EXAMPLE}?version=original",
        },
    )
    added_by = fields.String(metadata={"example": "reporter"})


class StaffEventSchema(HistoryEntrySchema):
    public_note = fields.String(
        allow_none=True,
        metadata={"example": "Der Bauhof ist informiert und sichert die Stelle ab."},
    )
    internal_note = fields.String(
        allow_none=True, metadata={"example": "Auftrag an Bauhof, Kolonne Nord."}
    )
    actor = fields.String(attribute="actor_label", metadata={"example": "staff:3"})


class ReportStaffSchema(Schema):
    id = fields.Integer(metadata={"example": 42})
    category = fields.String(metadata={"example": "strassenschaeden"})
    description = fields.String(metadata={"example": _REPORT_TEXT_EXAMPLE})
    public_description = fields.String(allow_none=True, metadata={"example": _REPORT_TEXT_EXAMPLE})
    status = fields.String(metadata={"example": "in_progress"})
    moderation_state = fields.String(metadata={"example": "published"})
    rejection_reason = fields.String(allow_none=True, metadata={"example": "duplicate"})
    filter_hits = fields.List(
        fields.Dict(),
        metadata={"example": [{"kind": "personal_data", "detail": "phone"}]},
    )
    lat = fields.Float(allow_none=True, metadata={"example": 51.3105})
    lon = fields.Float(allow_none=True, metadata={"example": 9.4502})
    address = fields.String(allow_none=True, metadata={"example": "Marktstraße 12, Altstadt"})
    district_id = fields.Integer(allow_none=True, metadata={"example": 1})
    attributes = fields.Dict(
        attribute="attribute_values", metadata={"example": _ATTRIBUTES_EXAMPLE}
    )
    source = fields.String(metadata={"example": "app"})
    department = fields.String(allow_none=True, metadata={"example": "Tiefbauamt"})
    assignee_id = fields.Integer(allow_none=True, metadata={"example": 4})
    forwarded_to = fields.String(
        allow_none=True, metadata={"example": "Straßenmeisterei des Landkreises"}
    )
    duplicate_of_id = fields.Integer(allow_none=True, metadata={"example": 38})
    expected_at = UTCDateTime(allow_none=True)
    supporters_count = fields.Integer(metadata={"example": 3})
    flags_count = fields.Integer(metadata={"example": 0})
    has_contact = fields.Boolean(metadata={"example": True})
    published_at = UTCDateTime(allow_none=True)
    first_response_at = UTCDateTime(allow_none=True)
    resolved_at = UTCDateTime(allow_none=True)
    closed_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ReportStaffDetailSchema(ReportStaffSchema):
    contact = fields.Nested(ContactSchema, allow_none=True)
    photos = fields.List(fields.Nested(PhotoStaffSchema))
    history = fields.List(fields.Nested(StaffEventSchema))


class ReportStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReportStaffSchema))
    counts = fields.Dict(
        metadata={
            "description": "Counts per moderation state and status.",
            "example": {
                "total": 12,
                "moderation_state": {"pending": 2, "published": 9, "rejected": 1},
                "status": {"submitted": 3, "acknowledged": 4, "in_progress": 3, "resolved": 2},
                "flagged": 1,
            },
        }
    )


class StaffQuerySchema(PaginationQuerySchema):
    moderation_state = fields.String(validate=validate.OneOf(_MODERATION))
    status = fields.String(validate=validate.OneOf(_STATUSES))
    category = fields.String()
    district = fields.Integer()
    department = fields.String()
    assignee_id = fields.Integer()
    flagged = fields.Boolean()
    older_than_days = fields.Integer(validate=validate.Range(min=0))
    q = fields.String(validate=validate.Length(min=1, max=200))


class TransitionInputSchema(Schema):
    status = fields.String(
        required=True, validate=validate.OneOf(_STATUSES), metadata={"example": "forwarded"}
    )
    public_note = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"example": "Die Kreisstraße gehört dem Landkreis; wir haben weitergeleitet."},
    )
    internal_note = fields.String(
        load_default=None, allow_none=True, metadata={"example": "Per Mail an die Kreisverwaltung."}
    )
    forwarded_to = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"example": "Straßenmeisterei des Landkreises"},
    )


class NoteInputSchema(Schema):
    public_note = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"example": "Die Reparatur ist für nächste Woche geplant."},
    )
    internal_note = fields.String(
        load_default=None, allow_none=True, metadata={"example": "Asphalt ist bestellt."}
    )


class AssignInputSchema(Schema):
    department = fields.String(
        allow_none=True, validate=validate.Length(max=200), metadata={"example": "Tiefbauamt"}
    )
    assignee_id = fields.Integer(allow_none=True, metadata={"example": 4})
    expected_at = UTCDateTime(allow_none=True)


class RejectInputSchema(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf(_REASONS),
        metadata={"example": "not_our_responsibility"},
    )
    note = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"example": "Privatgrundstück; bitte an die Hausverwaltung wenden."},
    )


class HideInputSchema(Schema):
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "Beleidigender Inhalt nach Veröffentlichung gemeldet."},
    )


class EditInputSchema(Schema):
    public_description = fields.String(
        required=True, metadata={"example": "Schlagloch in der Marktstraße vor Hausnummer 12."}
    )
    reason = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"example": "Name einer Person entfernt."},
    )


class MergeInputSchema(Schema):
    original_id = fields.Integer(required=True, metadata={"example": 38})


class BulkInputSchema(Schema):
    ids = fields.List(
        fields.Integer(),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"example": [42, 43, 45]},
    )
    action = fields.String(
        required=True,
        validate=validate.OneOf(["assign", "acknowledge", "reject_spam"]),
        metadata={"example": "assign"},
    )
    department = fields.String(allow_none=True, metadata={"example": "Tiefbauamt"})
    assignee_id = fields.Integer(allow_none=True, metadata={"example": 4})


class BulkResultSchema(Schema):
    done = fields.List(fields.Integer(), metadata={"example": [42, 43]})
    failed = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"example": {"45": "No report 45."}},
    )


class PhotoQuerySchema(Schema):
    version = fields.String(load_default="shown", validate=validate.OneOf(["shown", "original"]))
    variant = fields.String(
        load_default="display", validate=validate.OneOf(["original", "display", "thumbnail"])
    )


class ExportQuerySchema(Schema):
    kind = fields.String(load_default="public", validate=validate.OneOf(["public", "full"]))


class StatisticsSchema(Schema):
    by_category = fields.Dict(metadata={"example": {"strassenschaeden": 14, "muell": 9}})
    by_status = fields.Dict(
        metadata={"example": {"submitted": 4, "in_progress": 6, "resolved": 13}}
    )
    by_district = fields.Dict(metadata={"example": {"1": 15, "2": 6, "none": 2}})
    by_week = fields.Dict(metadata={"example": {"2026-W47": 8, "2026-W48": 15}})
    median_first_response_hours = fields.Float(allow_none=True, metadata={"example": 5.5})
    median_resolution_hours = fields.Float(allow_none=True, metadata={"example": 96.0})
    backlog = fields.Dict(
        metadata={
            "example": {
                "open": 10,
                "oldest_days": 41.5,
                "median_age_days": 6.0,
                "older_than_30_days": 2,
            }
        }
    )
