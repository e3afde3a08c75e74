"""Schemas of the staff feedback API: the queue, the report as staff see it, the actions."""

from __future__ import annotations

from flask import url_for
from marshmallow import Schema, fields, validate

from cityapp.auth.models import Role
from cityapp.auth.permissions import current_staff
from cityapp.feedback.schemas.common import (
    ATTRIBUTES_EXAMPLE,
    MODERATION_STATES,
    REJECTION_REASONS,
    REPORT_TEXT_EXAMPLE,
    SHA256_EXAMPLE,
    STAFF_PHOTO_URL_EXAMPLE,
    STATUSES,
    OptionalText,
    PlaceFields,
)
from cityapp.feedback.schemas.public import HistoryEntrySchema
from cityapp.fields import Float, Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema


class ContactSchema(Schema):
    email = Text(allow_none=True, metadata={"example": "erika.mustermann@example.org"})
    name = Text(allow_none=True, metadata={"example": "Erika Mustermann"})
    phone = Text(allow_none=True, metadata={"example": "01234 567890"})
    is_notification_consented = fields.Boolean(metadata={"example": True})


class StaffPhotoUrl(fields.String):
    """The staff URL of a report photo's file, computed from the photo. With ``original``:
    the unblurred original, for admins only (None for everyone else)."""

    def __init__(self, *, original: bool = False, **kwargs) -> None:
        super().__init__(allow_none=True, **kwargs)
        self.original = original

    def serialize(self, attr, obj, accessor=None, **kwargs):
        if self.original:
            if obj.original_asset is None or not current_staff().has_role(Role.ADMIN):
                return None
        elif obj.asset is None:
            return None
        return url_for(
            "feedback_staff.photo_file",
            report_id=obj.report_id,
            photo_id=obj.id,
            **({"version": "original"} if self.original else {}),
            _external=True,
        )


class PhotoStaffSchema(Schema):
    id = Id(metadata={"example": 7})
    url = StaffPhotoUrl(metadata={"example": STAFF_PHOTO_URL_EXAMPLE})
    sha256 = Text(allow_none=True, metadata={"example": SHA256_EXAMPLE})
    is_removed = fields.Boolean(metadata={"example": False})
    is_pending = fields.Boolean(
        metadata={"description": "Added later; waits for approval.", "example": False}
    )
    is_blurred = fields.Boolean(metadata={"example": True})
    original_url = StaffPhotoUrl(
        original=True,
        metadata={
            "description": "Admins only: the unblurred original.",
            "example": f"{STAFF_PHOTO_URL_EXAMPLE}?version=original",
        },
    )
    added_by = Text(metadata={"example": "reporter"})


class StaffEventSchema(HistoryEntrySchema):
    # The public schema's "note" again, read from the model (dump only: it is the public_note).
    note = Text(
        attribute="public_note",
        dump_only=True,
        allow_none=True,
        metadata={"example": "Der Bauhof ist informiert und sichert die Stelle ab."},
    )
    public_note = Text(
        allow_none=True,
        metadata={"example": "Der Bauhof ist informiert und sichert die Stelle ab."},
    )
    internal_note = Text(allow_none=True, metadata={"example": "Auftrag an Bauhof, Kolonne Nord."})
    actor = Text(attribute="actor_label", metadata={"example": "staff:3"})


class ReportStaffSchema(PlaceFields, Schema):
    """A report as staff see it in the queue (dumped straight from the model)."""

    id = Id(metadata={"example": 42})
    category = Text(attribute="category.code", metadata={"example": "strassenschaeden"})
    description = Text(metadata={"example": REPORT_TEXT_EXAMPLE})
    public_description = Text(allow_none=True, metadata={"example": REPORT_TEXT_EXAMPLE})
    status = Text(metadata={"example": "in_progress"})
    moderation_state = Text(metadata={"example": "published"})
    rejection_reason = Text(allow_none=True, metadata={"example": "duplicate"})
    filter_hits = fields.List(
        fields.Dict(),
        metadata={"example": [{"kind": "personal_data", "detail": "phone"}]},
    )
    attributes = fields.Dict(attribute="attribute_values", metadata={"example": ATTRIBUTES_EXAMPLE})
    source = Text(metadata={"example": "app"})
    department = Text(allow_none=True, metadata={"example": "Tiefbauamt"})
    assignee_id = Id(allow_none=True, metadata={"example": 4})
    forwarded_to = Text(allow_none=True, metadata={"example": "Straßenmeisterei des Landkreises"})
    duplicate_of_id = Id(allow_none=True, metadata={"example": 38})
    expected_at = UTCDateTime(allow_none=True)
    supporters_count = Integer(metadata={"example": 3})
    flags_count = Integer(metadata={"example": 0})
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
    history = fields.List(fields.Nested(StaffEventSchema), attribute="events")


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
    moderation_state = Text(validate=validate.OneOf(MODERATION_STATES))
    status = Text(validate=validate.OneOf(STATUSES))
    category = Text()
    district = Integer()
    department = Text()
    assignee_id = Id()
    flagged = fields.Boolean()
    older_than_days = Integer(validate=validate.Range(min=0))
    q = Text(validate=validate.Length(min=1, max=200))


class TransitionInputSchema(Schema):
    status = Text(
        required=True, validate=validate.OneOf(STATUSES), metadata={"example": "forwarded"}
    )
    public_note = OptionalText("Die Kreisstraße gehört dem Landkreis; wir haben weitergeleitet.")
    internal_note = OptionalText("Per Mail an die Kreisverwaltung.")
    forwarded_to = OptionalText("Straßenmeisterei des Landkreises")


class NoteInputSchema(Schema):
    public_note = OptionalText("Die Reparatur ist für nächste Woche geplant.")
    internal_note = OptionalText("Asphalt ist bestellt.")


class AssignInputSchema(Schema):
    department = Text(
        allow_none=True, validate=validate.Length(max=200), metadata={"example": "Tiefbauamt"}
    )
    assignee_id = Id(allow_none=True, metadata={"example": 4})
    expected_at = UTCDateTime(allow_none=True)


class RejectInputSchema(Schema):
    reason = Text(
        required=True,
        validate=validate.OneOf(REJECTION_REASONS),
        metadata={"example": "not_our_responsibility"},
    )
    note = OptionalText("Privatgrundstück; bitte an die Hausverwaltung wenden.")


class HideInputSchema(Schema):
    reason = OptionalText("Beleidigender Inhalt nach Veröffentlichung gemeldet.", max_length=500)


class EditInputSchema(Schema):
    public_description = Text(
        required=True, metadata={"example": "Schlagloch in der Marktstraße vor Hausnummer 12."}
    )
    reason = OptionalText("Name einer Person entfernt.", max_length=500)


class MergeInputSchema(Schema):
    original_id = Id(required=True, metadata={"example": 38})


class BulkInputSchema(Schema):
    ids = fields.List(
        Id(),
        required=True,
        validate=validate.Length(min=1, max=100),
        metadata={"example": [42, 43, 45]},
    )
    action = Text(
        required=True,
        validate=validate.OneOf(["assign", "acknowledge", "reject_spam"]),
        metadata={"example": "assign"},
    )
    department = Text(allow_none=True, metadata={"example": "Tiefbauamt"})
    assignee_id = Id(allow_none=True, metadata={"example": 4})


class BulkResultSchema(Schema):
    done = fields.List(Integer(), metadata={"example": [42, 43]})
    failed = fields.Dict(
        keys=Text(),
        values=Text(),
        metadata={"example": {"45": "No report 45."}},
    )


class PhotoQuerySchema(Schema):
    version = Text(load_default="shown", validate=validate.OneOf(["shown", "original"]))
    variant = Text(
        load_default="display", validate=validate.OneOf(["original", "display", "thumbnail"])
    )


class ExportQuerySchema(Schema):
    kind = Text(load_default="public", validate=validate.OneOf(["public", "full"]))


class StatisticsSchema(Schema):
    by_category = fields.Dict(metadata={"example": {"strassenschaeden": 14, "muell": 9}})
    by_status = fields.Dict(
        metadata={"example": {"submitted": 4, "in_progress": 6, "resolved": 13}}
    )
    by_district = fields.Dict(metadata={"example": {"1": 15, "2": 6, "none": 2}})
    by_week = fields.Dict(metadata={"example": {"2026-W47": 8, "2026-W48": 15}})
    median_first_response_hours = Float(allow_none=True, metadata={"example": 5.5})
    median_resolution_hours = Float(allow_none=True, metadata={"example": 96.0})
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
