"""Marshmallow schemas for the content APIs: staff (full, all languages) and public (one
language, only what residents see)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.content.models import AnnouncementCategory, AnnouncementLevel, Channel, ContentStatus
from cityapp.http import PageSchema, PaginationQuerySchema, UTCDateTime
from cityapp.media.schemas import MEDIA_URL_EXAMPLE, SHA256_EXAMPLE
from cityapp.places.schemas import GeoJSON

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


# --- shared pieces ---------------------------------------------------------------------


class ImageInputSchema(Schema):
    sha256 = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$"),
        metadata={"example": SHA256_EXAMPLE},
    )
    alt = Translations(required=True, example="Bagger auf der Hauptstraße")


class ImageRefSchema(Schema):
    sha256 = fields.String(metadata={"example": SHA256_EXAMPLE})
    alt = Translations(example="Bagger auf der Hauptstraße")


class PublishInputSchema(Schema):
    publish_at = UTCDateTime(
        load_default=None, metadata={"description": "Default: now. In the future: scheduled."}
    )
    unpublish_at = UTCDateTime(load_default=None)


class ScheduleInputSchema(Schema):
    publish_at = UTCDateTime(required=True)
    unpublish_at = UTCDateTime(load_default=None)


class CancelInputSchema(Schema):
    reason = fields.String(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"example": "Die Sperrung entfällt, die Bauarbeiten sind verschoben."},
    )


class PreviewQuerySchema(Schema):
    lang = fields.String(load_default="de", validate=validate.OneOf(LANGUAGES))


class StaffListQuerySchema(PaginationQuerySchema):
    status = fields.String(validate=validate.OneOf(_STATUSES))
    category = fields.String(validate=validate.Length(max=40))
    q = fields.String(validate=validate.Length(min=1, max=200))


class TombstoneSchema(Schema):
    id = fields.Integer(metadata={"example": 17})
    deleted = fields.Boolean(metadata={"example": True})


class PublicDistrictRefSchema(Schema):
    id = fields.Integer(metadata={"example": 1})
    slug = fields.String(metadata={"example": "altstadt"})
    name = fields.String(metadata={"example": "Altstadt"})


class PublicImageSchema(Schema):
    sha256 = fields.String(metadata={"example": SHA256_EXAMPLE})
    url = fields.String(
        metadata={"description": "Cleaned full-size image.", "example": MEDIA_URL_EXAMPLE}
    )
    thumbnail_url = fields.String(metadata={"example": f"{MEDIA_URL_EXAMPLE}/thumbnail"})
    display_url = fields.String(metadata={"example": f"{MEDIA_URL_EXAMPLE}/display"})
    width = fields.Integer(metadata={"example": 3000})
    height = fields.Integer(metadata={"example": 2000})
    alt = fields.String(metadata={"example": "Bagger auf der Hauptstraße"})


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
        fields.String(validate=validate.Length(max=40)),
        validate=validate.Length(max=20),
        metadata={"example": ["Baustelle", "Hauptstraße"]},
    )
    images = fields.List(fields.Nested(ImageInputSchema), validate=validate.Length(max=20))
    district_ids = fields.List(
        fields.Integer(), validate=validate.Length(max=100), metadata={"example": [1, 2]}
    )
    source = fields.String(
        allow_none=True, validate=validate.Length(max=80), metadata={"example": "rathaus-cms"}
    )
    external_id = fields.String(
        allow_none=True, validate=validate.Length(max=200), metadata={"example": "pm-2026-0815"}
    )
    is_pinned = fields.Boolean(metadata={"example": False})
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)


class NewsUpdateSchema(NewsInputSchema):
    title = Translations(example="Hauptstraße wird saniert")
    body = Translations(example="<p>Ab Montag …</p>")
    category = fields.String(metadata={"example": "verkehr"})


class _StaffBookkeepingSchema(Schema):
    """What editors see on news and announcements alike: author, window, timestamps."""

    author_id = fields.Integer(allow_none=True, metadata={"example": 3})
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)
    first_published_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()

    def _district_ids(self, obj) -> list[int]:
        return [d.id for d in obj.districts]


class NewsStaffSchema(_StaffBookkeepingSchema):
    """A news item as editors see it: every language, status and bookkeeping."""

    id = fields.Integer(metadata={"example": 42})
    status = fields.String(metadata={"enum": _STATUSES, "example": "published"})
    title = Translations(example="Hauptstraße wird saniert")
    summary = Translations(allow_none=True, example="Vollsperrung ab Montag, 8 Uhr.")
    body = Translations(example="<p>Ab Montag …</p>")
    category = fields.String(metadata={"example": "verkehr"})
    tags = fields.List(fields.String(), metadata={"example": ["Baustelle", "Hauptstraße"]})
    images = fields.List(fields.Nested(ImageRefSchema))
    district_ids = fields.Method("_district_ids", metadata={"example": [1, 2]})
    source = fields.String(allow_none=True, metadata={"example": "rathaus-cms"})
    external_id = fields.String(allow_none=True, metadata={"example": "pm-2026-0815"})
    is_pinned = fields.Boolean(metadata={"example": False})


class NewsStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(NewsStaffSchema))


class NewsPublicSchema(Schema):
    """A news item for residents, in one language."""

    id = fields.Integer(metadata={"example": 42})
    title = fields.String(metadata={"example": "Hauptstraße wird saniert"})
    summary = fields.String(allow_none=True, metadata={"example": "Vollsperrung ab Montag, 8 Uhr."})
    body = fields.String(
        metadata={"description": "Sanitised HTML.", "example": "<p>Ab Montag …</p>"}
    )
    language = fields.String(
        metadata={"description": "Language of the texts (after fallback).", "example": "de"}
    )
    languages = fields.List(
        fields.String(),
        metadata={"description": "Available languages.", "example": ["de", "en"]},
    )
    category = fields.String(metadata={"example": "verkehr"})
    tags = fields.List(fields.String(), metadata={"example": ["Baustelle", "Hauptstraße"]})
    districts = fields.List(fields.Nested(PublicDistrictRefSchema))
    images = fields.List(fields.Nested(PublicImageSchema))
    is_pinned = fields.Boolean(metadata={"example": False})
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
    category = fields.String(
        required=True, metadata={"enum": _ANNOUNCEMENT_CATEGORIES, "example": "road_closure"}
    )
    level = fields.String(required=True, metadata={"enum": _LEVELS, "example": "notice"})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(
        fields.String(validate=validate.OneOf(_CHANNELS)),
        metadata={"example": ["app", "stele"]},
    )
    district_ids = fields.List(
        fields.Integer(), validate=validate.Length(max=100), metadata={"example": [1]}
    )
    area = GeoJSON(allow_none=True)
    sender_name = fields.String(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"example": "Tiefbauamt Musterstadt"},
    )
    contact = fields.String(
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"example": "Bürgerbüro, Marktplatz 1, Tel. 01234 5678-0"},
    )
    supersedes_id = fields.Integer(
        allow_none=True,
        metadata={"description": "The announcement this one updates.", "example": 11},
    )
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)


class AnnouncementUpdateSchema(AnnouncementInputSchema):
    title = Translations(example="Vollsperrung Brückenstraße")
    body = Translations(example="<p>Wegen Bauarbeiten …</p>")
    category = fields.String(metadata={"enum": _ANNOUNCEMENT_CATEGORIES, "example": "road_closure"})
    level = fields.String(metadata={"enum": _LEVELS, "example": "notice"})


class AnnouncementStaffSchema(_StaffBookkeepingSchema):
    id = fields.Integer(metadata={"example": 12})
    status = fields.String(metadata={"enum": _STATUSES, "example": "published"})
    title = Translations(example="Vollsperrung Brückenstraße")
    body = Translations(example="<p>Wegen Bauarbeiten …</p>")
    instruction = Translations(allow_none=True, example="Bitte weiträumig umfahren.")
    category = fields.String(metadata={"example": "road_closure"})
    level = fields.String(metadata={"example": "notice"})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String(), metadata={"example": ["app", "stele"]})
    district_ids = fields.Method("_district_ids", metadata={"example": [1]})
    area = GeoJSON(allow_none=True)
    sender_name = fields.String(allow_none=True, metadata={"example": "Tiefbauamt Musterstadt"})
    contact = fields.String(
        allow_none=True, metadata={"example": "Bürgerbüro, Marktplatz 1, Tel. 01234 5678-0"}
    )
    supersedes_id = fields.Integer(allow_none=True, metadata={"example": 11})
    superseded_by_id = fields.Method("_superseded_by_id", metadata={"example": 13})
    cancelled_at = UTCDateTime(allow_none=True)
    cancel_reason = fields.String(
        allow_none=True,
        metadata={"example": "Die Sperrung entfällt, die Bauarbeiten sind verschoben."},
    )

    def _superseded_by_id(self, obj) -> int | None:
        return obj.superseded_by.id if obj.superseded_by is not None else None


class AnnouncementStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(AnnouncementStaffSchema))


class AnnouncementPublicSchema(Schema):
    id = fields.Integer(metadata={"example": 12})
    title = fields.String(metadata={"example": "Vollsperrung Brückenstraße"})
    body = fields.String(
        metadata={"description": "Sanitised HTML.", "example": "<p>Wegen Bauarbeiten …</p>"}
    )
    instruction = fields.String(allow_none=True, metadata={"example": "Bitte weiträumig umfahren."})
    language = fields.String(metadata={"example": "de"})
    languages = fields.List(fields.String(), metadata={"example": ["de", "en"]})
    category = fields.String(metadata={"enum": _ANNOUNCEMENT_CATEGORIES, "example": "road_closure"})
    level = fields.String(metadata={"enum": _LEVELS, "example": "notice"})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(fields.String(), metadata={"example": ["app", "stele"]})
    districts = fields.List(fields.Nested(PublicDistrictRefSchema))
    area = GeoJSON(allow_none=True)
    sender_name = fields.String(allow_none=True, metadata={"example": "Tiefbauamt Musterstadt"})
    contact = fields.String(
        allow_none=True, metadata={"example": "Bürgerbüro, Marktplatz 1, Tel. 01234 5678-0"}
    )
    supersedes_id = fields.Integer(allow_none=True, metadata={"example": 11})
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
