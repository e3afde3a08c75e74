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


def Translations(*, required: bool = False, **kw):
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(LANGUAGES)),
        values=fields.String(allow_none=True),
        required=required,
        metadata={"description": "Keyed by language (de required).", "example": {"de": "Text"}},
        **kw,
    )


# --- categories ------------------------------------------------------------------------


class AttributeValueSchema(Schema):
    key = fields.String(required=True, validate=validate.Length(min=1, max=60))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))


class CategoryAttributeSchema(Schema):
    """A typed extra field of a category (Open311 attribute)."""

    code = fields.String(required=True, metadata={"example": "gefahr"})
    datatype = fields.String(
        required=True, validate=validate.OneOf([t.value for t in AttributeType])
    )
    required = fields.Boolean(load_default=False)
    order = fields.Integer(load_default=None, allow_none=True)
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500)
    )
    datatype_description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=500)
    )
    values = fields.List(fields.Nested(AttributeValueSchema), load_default=list)


class CategoryPublicSchema(Schema):
    """A category as residents see it (one language)."""

    code = fields.String(metadata={"example": "strassenschaeden"})
    name = fields.String(metadata={"example": "Straßenschäden"})
    description = fields.String(allow_none=True)
    group = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    is_location_required = fields.Boolean()
    is_photo_required = fields.Boolean()
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategoryPublicSchema))


class CategoryStaffSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = Translations()
    description = Translations()
    group = fields.String(allow_none=True)
    keywords = fields.List(fields.String())
    department = fields.String(allow_none=True)
    is_private = fields.Boolean()
    is_location_required = fields.Boolean()
    is_photo_required = fields.Boolean()
    is_auto_publish = fields.Boolean()
    is_active = fields.Boolean()
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))
    position = fields.Integer()
    contact_retention_days = fields.Integer(allow_none=True)
    rejected_photo_retention_days = fields.Integer(allow_none=True)
    anonymise_after_days = fields.Integer(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class CategoryStaffListSchema(Schema):
    items = fields.List(fields.Nested(CategoryStaffSchema))


class _CategoryFields(Schema):
    description = Translations()
    group = fields.String(allow_none=True, validate=validate.Length(max=120))
    keywords = fields.List(fields.String(validate=validate.Length(max=60)))
    department = fields.String(allow_none=True, validate=validate.Length(max=200))
    is_private = fields.Boolean()
    is_location_required = fields.Boolean()
    is_photo_required = fields.Boolean()
    is_auto_publish = fields.Boolean()
    is_active = fields.Boolean()
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))
    position = fields.Integer()
    contact_retention_days = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    rejected_photo_retention_days = fields.Integer(allow_none=True, validate=validate.Range(min=1))
    anonymise_after_days = fields.Integer(allow_none=True, validate=validate.Range(min=1))


class CategoryInputSchema(_CategoryFields):
    code = fields.String(required=True, validate=validate.Length(min=1, max=60))
    name = Translations(required=True)


class CategoryUpdateSchema(_CategoryFields):
    code = fields.String(validate=validate.Length(min=1, max=60))
    name = Translations()


class CategoryDeletedSchema(Schema):
    result = fields.String(metadata={"description": "deleted, or deactivated when in use"})


# --- reports: input --------------------------------------------------------------------


class ContactInputSchema(Schema):
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    name = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=200))
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=60))
    consent = fields.Boolean(
        load_default=False,
        metadata={"description": "The reporter agrees to get mail about the report."},
    )


class ReportInputSchema(Schema):
    category = fields.String(required=True, metadata={"example": "strassenschaeden"})
    description = fields.String(required=True, metadata={"description": "Plain text, ≤ 4000."})
    lat = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-90, 90))
    lon = fields.Float(load_default=None, allow_none=True, validate=validate.Range(-180, 180))
    address = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=300))
    attributes = fields.Dict(keys=fields.String(), load_default=dict)
    contact = fields.Nested(ContactInputSchema, load_default=None, allow_none=True)
    website = fields.String(
        load_default=None,
        allow_none=True,
        metadata={"description": "Honeypot for web forms: must stay empty."},
    )


class CommentInputSchema(Schema):
    comment = fields.String(required=True)


class ReasonInputSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=1000))


class FlagInputSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(FLAG_REASONS))
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


# --- reports: output -------------------------------------------------------------------


class PhotoPublicSchema(Schema):
    url = fields.String()
    thumbnail_url = fields.String()


class HistoryEntrySchema(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"example": "status"})
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = UTCDateTime()


class ReportPublicSchema(Schema):
    """A published report: public text only, never contact data."""

    id = fields.Integer()
    category = fields.String()
    category_name = fields.String()
    description = fields.String()
    status = fields.String(validate=validate.OneOf(_STATUSES))
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    address = fields.String(allow_none=True)
    district_id = fields.Integer(allow_none=True)
    attributes = fields.Dict()
    supporters_count = fields.Integer()
    photos = fields.List(fields.Nested(PhotoPublicSchema))
    expected_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class ReportPublicDetailSchema(ReportPublicSchema):
    history = fields.List(fields.Nested(HistoryEntrySchema))


class ReportPublicPageSchema(PageSchema):
    items = fields.List(fields.Nested(ReportPublicSchema))


class PossibleDuplicateSchema(Schema):
    id = fields.Integer()
    description = fields.String()
    status = fields.String()
    distance_m = fields.Float()
    supporters_count = fields.Integer()


class ReportCreatedSchema(Schema):
    id = fields.Integer()
    tracking_token = fields.String(metadata={"description": "Shown once; keep it."})
    status = fields.String()
    moderation_state = fields.String()
    possible_duplicates = fields.List(fields.Nested(PossibleDuplicateSchema))


class ReportTrackSchema(Schema):
    """What the reporter sees with the tracking token."""

    id = fields.Integer()
    category = fields.String()
    category_name = fields.String()
    description = fields.String()
    status = fields.String()
    moderation_state = fields.String()
    is_public = fields.Boolean()
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    address = fields.String(allow_none=True)
    district_id = fields.Integer(allow_none=True)
    photos_count = fields.Integer()
    supporters_count = fields.Integer()
    expected_at = UTCDateTime(allow_none=True)
    can_reopen = fields.Boolean()
    merged_into = fields.Integer(allow_none=True)
    history = fields.List(fields.Nested(HistoryEntrySchema))
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyReportSchema(Schema):
    id = fields.Integer()
    category = fields.String()
    description = fields.String()
    status = fields.String()
    moderation_state = fields.String()
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class MyReportPageSchema(PageSchema):
    items = fields.List(fields.Nested(MyReportSchema))


class SupportResultSchema(Schema):
    supporters_count = fields.Integer()
    is_new = fields.Boolean()


class PublicListQuerySchema(PaginationQuerySchema):
    category = fields.String()
    status = fields.String(validate=validate.OneOf(["open", "closed", *_STATUSES]))
    district = fields.Integer()


# --- staff -----------------------------------------------------------------------------


class ContactSchema(Schema):
    email = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    is_notification_consented = fields.Boolean()


class PhotoStaffSchema(Schema):
    id = fields.Integer()
    url = fields.String(allow_none=True)
    sha256 = fields.String(allow_none=True)
    is_removed = fields.Boolean()
    is_pending = fields.Boolean(metadata={"description": "Added later; waits for approval."})
    is_blurred = fields.Boolean()
    original_url = fields.String(
        allow_none=True, metadata={"description": "Admins only: the unblurred original."}
    )
    added_by = fields.String()


class StaffEventSchema(HistoryEntrySchema):
    public_note = fields.String(allow_none=True)
    internal_note = fields.String(allow_none=True)
    actor = fields.String(attribute="actor_label")


class ReportStaffSchema(Schema):
    id = fields.Integer()
    category = fields.String()
    description = fields.String()
    public_description = fields.String(allow_none=True)
    status = fields.String()
    moderation_state = fields.String()
    rejection_reason = fields.String(allow_none=True)
    filter_hits = fields.List(fields.Dict())
    lat = fields.Float(allow_none=True)
    lon = fields.Float(allow_none=True)
    address = fields.String(allow_none=True)
    district_id = fields.Integer(allow_none=True)
    attributes = fields.Dict(attribute="attribute_values")
    source = fields.String()
    department = fields.String(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)
    forwarded_to = fields.String(allow_none=True)
    duplicate_of_id = fields.Integer(allow_none=True)
    expected_at = UTCDateTime(allow_none=True)
    supporters_count = fields.Integer()
    flags_count = fields.Integer()
    has_contact = fields.Boolean()
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
    counts = fields.Dict(metadata={"description": "Counts per moderation state and status."})


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
    status = fields.String(required=True, validate=validate.OneOf(_STATUSES))
    public_note = fields.String(load_default=None, allow_none=True)
    internal_note = fields.String(load_default=None, allow_none=True)
    forwarded_to = fields.String(load_default=None, allow_none=True)


class NoteInputSchema(Schema):
    public_note = fields.String(load_default=None, allow_none=True)
    internal_note = fields.String(load_default=None, allow_none=True)


class AssignInputSchema(Schema):
    department = fields.String(allow_none=True, validate=validate.Length(max=200))
    assignee_id = fields.Integer(allow_none=True)
    expected_at = UTCDateTime(allow_none=True)


class RejectInputSchema(Schema):
    reason = fields.String(required=True, validate=validate.OneOf(_REASONS))
    note = fields.String(load_default=None, allow_none=True)


class HideInputSchema(Schema):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class EditInputSchema(Schema):
    public_description = fields.String(required=True)
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class MergeInputSchema(Schema):
    original_id = fields.Integer(required=True)


class BulkInputSchema(Schema):
    ids = fields.List(fields.Integer(), required=True, validate=validate.Length(min=1, max=100))
    action = fields.String(
        required=True, validate=validate.OneOf(["assign", "acknowledge", "reject_spam"])
    )
    department = fields.String(allow_none=True)
    assignee_id = fields.Integer(allow_none=True)


class BulkResultSchema(Schema):
    done = fields.List(fields.Integer())
    failed = fields.Dict(keys=fields.String(), values=fields.String())


class PhotoQuerySchema(Schema):
    version = fields.String(load_default="shown", validate=validate.OneOf(["shown", "original"]))
    variant = fields.String(
        load_default="display", validate=validate.OneOf(["original", "display", "thumbnail"])
    )


class ExportQuerySchema(Schema):
    kind = fields.String(load_default="public", validate=validate.OneOf(["public", "full"]))


class StatisticsSchema(Schema):
    by_category = fields.Dict()
    by_status = fields.Dict()
    by_district = fields.Dict()
    by_week = fields.Dict()
    median_first_response_hours = fields.Float(allow_none=True)
    median_resolution_hours = fields.Float(allow_none=True)
    backlog = fields.Dict()
