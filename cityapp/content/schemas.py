"""Marshmallow schemas for the content APIs: staff (full, all languages) and public (one
language, only what residents see)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.content.models import AnnouncementCategory, AnnouncementLevel, Channel, ContentStatus
from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime

LANGUAGES = ("de", "en", "de-x-ls")
_STATUSES = [s.value for s in ContentStatus]
_LEVELS = [lv.value for lv in AnnouncementLevel]
_ANNOUNCEMENT_CATEGORIES = [c.value for c in AnnouncementCategory]
_CHANNELS = [c.value for c in Channel]


def Translations(*, required: bool = False, example: str = "Text", **kw):
    """A translatable text: {"de": "...", "en": "...", "de-x-ls": "..."}; German required."""
    return fields.Dict(
        keys=fields.String(validate=validate.OneOf(LANGUAGES)),
        values=fields.String(allow_none=True),
        required=required,
        metadata={
            "description": "Keyed by language (de required; en and de-x-ls optional).",
            "example": {"de": example},
        },
        **kw,
    )


def GeoJSON(**kw):
    return fields.Dict(
        metadata={
            "description": "GeoJSON Polygon or MultiPolygon (WGS 84, [lon, lat]).",
            "example": {
                "type": "Polygon",
                "coordinates": [[[9.44, 51.30], [9.46, 51.30], [9.46, 51.32], [9.44, 51.30]]],
            },
        },
        **kw,
    )


# --- districts -------------------------------------------------------------------------


class DistrictSchema(Schema):
    """A district (Ortsteil)."""

    id = fields.Integer()
    name = fields.String(metadata={"example": "Altstadt"})
    slug = fields.String(metadata={"example": "altstadt"})
    ars = fields.String(allow_none=True, metadata={"example": "066330001001"})
    polygon = GeoJSON(allow_none=True)
    position = fields.Integer()
    updated_at = UTCDateTime()


class DistrictListSchema(Schema):
    items = fields.List(fields.Nested(DistrictSchema))


class DistrictInputSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    slug = fields.String(required=True, validate=validate.Length(min=1, max=120))
    ars = fields.String(load_default=None, allow_none=True, metadata={"example": "066330001001"})
    polygon = GeoJSON(load_default=None, allow_none=True)
    position = fields.Integer(load_default=0)


class DistrictUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=120))
    slug = fields.String(validate=validate.Length(min=1, max=120))
    ars = fields.String(allow_none=True)
    polygon = GeoJSON(allow_none=True)
    position = fields.Integer()


class PointQuerySchema(Schema):
    lat = fields.Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = fields.Float(required=True, validate=validate.Range(min=-180, max=180))


# --- shared pieces ---------------------------------------------------------------------


class ImageInputSchema(Schema):
    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    alt = Translations(required=True, example="Bagger auf der Hauptstraße")


class ImageRefSchema(Schema):
    sha256 = fields.String()
    alt = Translations()


class PublishInputSchema(Schema):
    publish_at = UTCDateTime(
        load_default=None, metadata={"description": "Default: now. In the future: scheduled."}
    )
    unpublish_at = UTCDateTime(load_default=None)


class ScheduleInputSchema(Schema):
    publish_at = UTCDateTime(required=True)
    unpublish_at = UTCDateTime(load_default=None)


class CancelInputSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=500))


class PreviewQuerySchema(Schema):
    lang = fields.String(load_default="de", validate=validate.OneOf(LANGUAGES))


class StaffListQuerySchema(PaginationQuerySchema):
    status = fields.String(validate=validate.OneOf(_STATUSES))
    category = fields.String(validate=validate.Length(max=40))
    q = fields.String(validate=validate.Length(min=1, max=200))


class TombstoneSchema(Schema):
    id = fields.Integer()
    deleted = fields.Boolean(metadata={"example": True})


class PublicDistrictRefSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    name = fields.String()


class PublicImageSchema(Schema):
    sha256 = fields.String()
    url = fields.String(metadata={"description": "Cleaned full-size image."})
    thumbnail_url = fields.String()
    display_url = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    alt = fields.String()


class PublicQuerySchema(PaginationQuerySchema):
    category = fields.String(validate=validate.Length(max=40))
    district = fields.String(
        validate=validate.Length(max=120),
        metadata={"description": "District id or slug: its items plus municipality-wide ones."},
    )
    lat = fields.Float(validate=validate.Range(min=-90, max=90))
    lon = fields.Float(validate=validate.Range(min=-180, max=180))
    q = fields.String(
        validate=validate.Length(min=1, max=200), metadata={"description": "Full-text search."}
    )
    lang = fields.String(validate=validate.Length(max=20))
    updated_since = UTCDateTime(
        metadata={"description": "Delta sync: changed items plus tombstones since then."}
    )


class PublicPageMixin(PageSchema):
    tombstones = fields.List(
        fields.Nested(TombstoneSchema),
        metadata={"description": "With updated_since (first page only): items to delete."},
    )
    server_time = UTCDateTime(metadata={"description": "Use as the next updated_since."})


# --- news ------------------------------------------------------------------------------


class NewsInputSchema(Schema):
    title = Translations(required=True, example="Hauptstraße wird saniert")
    summary = Translations(allow_none=True)
    body = Translations(required=True, example="<p>Ab Montag …</p>")
    category = fields.String(required=True, metadata={"example": "verkehr"})
    tags = fields.List(
        fields.String(validate=validate.Length(max=40)), validate=validate.Length(max=20)
    )
    images = fields.List(fields.Nested(ImageInputSchema), validate=validate.Length(max=20))
    district_ids = fields.List(fields.Integer(), validate=validate.Length(max=100))
    source = fields.String(allow_none=True, validate=validate.Length(max=80))
    external_id = fields.String(allow_none=True, validate=validate.Length(max=200))
    is_pinned = fields.Boolean()
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)


class NewsUpdateSchema(NewsInputSchema):
    title = Translations()
    body = Translations()
    category = fields.String()


class NewsStaffSchema(Schema):
    """A news item as editors see it: every language, status and bookkeeping."""

    id = fields.Integer()
    status = fields.String(metadata={"enum": _STATUSES})
    title = Translations()
    summary = Translations(allow_none=True)
    body = Translations()
    category = fields.String()
    tags = fields.List(fields.String())
    images = fields.List(fields.Nested(ImageRefSchema))
    district_ids = fields.Method("_district_ids")
    source = fields.String(allow_none=True)
    external_id = fields.String(allow_none=True)
    is_pinned = fields.Boolean()
    author_id = fields.Integer(allow_none=True)
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)
    first_published_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()

    def _district_ids(self, obj) -> list[int]:
        return [d.id for d in obj.districts]


class NewsStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(NewsStaffSchema))


class NewsPublicSchema(Schema):
    """A news item for residents, in one language."""

    id = fields.Integer()
    title = fields.String()
    summary = fields.String(allow_none=True)
    body = fields.String(metadata={"description": "Sanitised HTML."})
    language = fields.String(metadata={"description": "Language of the texts (after fallback)."})
    languages = fields.List(fields.String(), metadata={"description": "Available languages."})
    category = fields.String()
    tags = fields.List(fields.String())
    districts = fields.List(fields.Nested(PublicDistrictRefSchema))
    images = fields.List(fields.Nested(PublicImageSchema))
    is_pinned = fields.Boolean()
    published_at = UTCDateTime()
    expires_at = UTCDateTime(allow_none=True)
    updated_at = UTCDateTime()


class NewsPublicPageSchema(PublicPageMixin):
    items = fields.List(fields.Nested(NewsPublicSchema))


# --- announcements ---------------------------------------------------------------------


class AnnouncementInputSchema(Schema):
    title = Translations(required=True, example="Vollsperrung Brückenstraße")
    body = Translations(required=True, example="<p>Wegen Bauarbeiten …</p>")
    instruction = Translations(allow_none=True, example="Bitte weiträumig umfahren.")
    category = fields.String(required=True, metadata={"enum": _ANNOUNCEMENT_CATEGORIES})
    level = fields.String(required=True, metadata={"enum": _LEVELS})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String(validate=validate.OneOf(_CHANNELS)))
    district_ids = fields.List(fields.Integer(), validate=validate.Length(max=100))
    area = GeoJSON(allow_none=True)
    sender_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    contact = fields.String(allow_none=True, validate=validate.Length(max=300))
    supersedes_id = fields.Integer(
        allow_none=True, metadata={"description": "The announcement this one updates."}
    )
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)


class AnnouncementUpdateSchema(AnnouncementInputSchema):
    title = Translations()
    body = Translations()
    category = fields.String(metadata={"enum": _ANNOUNCEMENT_CATEGORIES})
    level = fields.String(metadata={"enum": _LEVELS})


class AnnouncementStaffSchema(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"enum": _STATUSES})
    title = Translations()
    body = Translations()
    instruction = Translations(allow_none=True)
    category = fields.String()
    level = fields.String()
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String())
    district_ids = fields.Method("_district_ids")
    area = GeoJSON(allow_none=True)
    sender_name = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    supersedes_id = fields.Integer(allow_none=True)
    superseded_by_id = fields.Method("_superseded_by_id")
    cancelled_at = UTCDateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    author_id = fields.Integer(allow_none=True)
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)
    first_published_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()

    def _district_ids(self, obj) -> list[int]:
        return [d.id for d in obj.districts]

    def _superseded_by_id(self, obj) -> int | None:
        return obj.superseded_by.id if obj.superseded_by is not None else None


class AnnouncementStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(AnnouncementStaffSchema))


class AnnouncementPublicSchema(Schema):
    id = fields.Integer()
    title = fields.String()
    body = fields.String(metadata={"description": "Sanitised HTML."})
    instruction = fields.String(allow_none=True)
    language = fields.String()
    languages = fields.List(fields.String())
    category = fields.String(metadata={"enum": _ANNOUNCEMENT_CATEGORIES})
    level = fields.String(metadata={"enum": _LEVELS})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String())
    districts = fields.List(fields.Nested(PublicDistrictRefSchema))
    area = GeoJSON(allow_none=True)
    sender_name = fields.String(allow_none=True)
    contact = fields.String(allow_none=True)
    supersedes_id = fields.Integer(allow_none=True)
    published_at = UTCDateTime()
    updated_at = UTCDateTime()


class AnnouncementPublicQuerySchema(PublicQuerySchema):
    channel = fields.String(
        load_default="app",
        validate=validate.OneOf(_CHANNELS),
        metadata={"description": "Default app."},
    )
    level = fields.String(validate=validate.OneOf(_LEVELS))


class AnnouncementPublicPageSchema(PublicPageMixin):
    items = fields.List(fields.Nested(AnnouncementPublicSchema))


# --- media -----------------------------------------------------------------------------


class MediaVariantSchema(Schema):
    url = fields.String()
    sha256 = fields.String()
    mime_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    size_bytes = fields.Integer()


class MediaSchema(Schema):
    """A stored image: cleaned original plus variants."""

    sha256 = fields.String()
    url = fields.String()
    mime_type = fields.String(metadata={"example": "image/jpeg"})
    width = fields.Integer()
    height = fields.Integer()
    size_bytes = fields.Integer()
    variants = fields.Dict(keys=fields.String(), values=fields.Nested(MediaVariantSchema))
    created_at = UTCDateTime()


class MediaUploadSchema(Schema):
    file = fields.Raw(required=True, metadata={"type": "string", "format": "binary"})
