"""Marshmallow schemas for the content APIs: staff (full, all languages) and public (one
language, only what residents see)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.content.models import AnnouncementCategory, AnnouncementLevel, Channel, ContentStatus
from cityapp.fields import Float, Id, Integer, Text, UTCDateTime
from cityapp.http.pagination import PageSchema, PaginationQuerySchema
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
        keys=Text(validate=validate.OneOf(LANGUAGES)),
        values=Text(allow_none=True),
        required=required,
        metadata={
            "description": "Keyed by language (de required; en and de-x-ls optional).",
            "example": {"de": example},
        },
        **kw,
    )


# --- shared pieces ---------------------------------------------------------------------


class ImageInputSchema(Schema):
    sha256 = Text(
        required=True,
        validate=validate.Regexp(r"^[0-9a-f]{64}$"),
        metadata={"example": SHA256_EXAMPLE},
    )
    alt = Translations(required=True, example="Bagger auf der Hauptstraße")


class ImageRefSchema(Schema):
    sha256 = Text(metadata={"example": SHA256_EXAMPLE})
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
    reason = Text(
        load_default="",
        validate=validate.Length(max=500),
        metadata={"example": "Die Sperrung entfällt, die Bauarbeiten sind verschoben."},
    )


class PreviewQuerySchema(Schema):
    lang = Text(load_default="de", validate=validate.OneOf(LANGUAGES))


class StaffListQuerySchema(PaginationQuerySchema):
    status = Text(validate=validate.OneOf(_STATUSES))
    category = Text(validate=validate.Length(max=40))
    q = Text(validate=validate.Length(min=1, max=200))


class TombstoneSchema(Schema):
    id = Id(metadata={"example": 17})
    deleted = fields.Boolean(metadata={"example": True})


class PublicDistrictRefSchema(Schema):
    id = Id(metadata={"example": 1})
    slug = Text(metadata={"example": "altstadt"})
    name = Text(metadata={"example": "Altstadt"})


class PublicImageSchema(Schema):
    sha256 = Text(metadata={"example": SHA256_EXAMPLE})
    url = Text(metadata={"description": "Cleaned full-size image.", "example": MEDIA_URL_EXAMPLE})
    thumbnail_url = Text(metadata={"example": f"{MEDIA_URL_EXAMPLE}/thumbnail"})
    display_url = Text(metadata={"example": f"{MEDIA_URL_EXAMPLE}/display"})
    width = Integer(metadata={"example": 3000})
    height = Integer(metadata={"example": 2000})
    alt = Text(metadata={"example": "Bagger auf der Hauptstraße"})


class PublicQuerySchema(PaginationQuerySchema):
    category = Text(validate=validate.Length(max=40))
    district = Text(
        validate=validate.Length(max=120),
        metadata={"description": "District id or slug: its items plus municipality-wide ones."},
    )
    lat = Float(validate=validate.Range(min=-90, max=90))
    lon = Float(validate=validate.Range(min=-180, max=180))
    q = Text(
        validate=validate.Length(min=1, max=200), metadata={"description": "Full-text search."}
    )
    lang = Text(metadata={"description": "Language (else Accept-Language, falling back to de)."})
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
    category = Text(required=True, metadata={"example": "verkehr"})
    tags = fields.List(
        Text(validate=validate.Length(max=40)),
        validate=validate.Length(max=20),
        metadata={"example": ["Baustelle", "Hauptstraße"]},
    )
    images = fields.List(fields.Nested(ImageInputSchema), validate=validate.Length(max=20))
    district_ids = fields.List(
        Id(), validate=validate.Length(max=100), metadata={"example": [1, 2]}
    )
    source = Text(
        allow_none=True, validate=validate.Length(max=80), metadata={"example": "rathaus-cms"}
    )
    external_id = Text(
        allow_none=True, validate=validate.Length(max=200), metadata={"example": "pm-2026-0815"}
    )
    is_pinned = fields.Boolean(metadata={"example": False})
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)


class NewsUpdateSchema(NewsInputSchema):
    title = Translations(example="Hauptstraße wird saniert")
    body = Translations(example="<p>Ab Montag …</p>")
    category = Text(metadata={"example": "verkehr"})


class _StaffBookkeepingSchema(Schema):
    """What editors see on news and announcements alike: author, window, timestamps."""

    author_id = Id(allow_none=True, metadata={"example": 3})
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)
    first_published_at = UTCDateTime(allow_none=True)
    created_at = UTCDateTime()
    updated_at = UTCDateTime()

    def _district_ids(self, obj) -> list[int]:
        return [d.id for d in obj.districts]


class NewsStaffSchema(_StaffBookkeepingSchema):
    """A news item as editors see it: every language, status and bookkeeping."""

    id = Id(metadata={"example": 42})
    status = Text(metadata={"enum": _STATUSES, "example": "published"})
    title = Translations(example="Hauptstraße wird saniert")
    summary = Translations(allow_none=True, example="Vollsperrung ab Montag, 8 Uhr.")
    body = Translations(example="<p>Ab Montag …</p>")
    category = Text(metadata={"example": "verkehr"})
    tags = fields.List(Text(), metadata={"example": ["Baustelle", "Hauptstraße"]})
    images = fields.List(fields.Nested(ImageRefSchema))
    district_ids = fields.Method("_district_ids", metadata={"example": [1, 2]})
    source = Text(allow_none=True, metadata={"example": "rathaus-cms"})
    external_id = Text(allow_none=True, metadata={"example": "pm-2026-0815"})
    is_pinned = fields.Boolean(metadata={"example": False})


class NewsStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(NewsStaffSchema))


class NewsPublicSchema(Schema):
    """A news item for residents, in one language."""

    id = Id(metadata={"example": 42})
    title = Text(metadata={"example": "Hauptstraße wird saniert"})
    summary = Text(allow_none=True, metadata={"example": "Vollsperrung ab Montag, 8 Uhr."})
    body = Text(metadata={"description": "Sanitised HTML.", "example": "<p>Ab Montag …</p>"})
    language = Text(
        metadata={"description": "Language of the texts (after fallback).", "example": "de"}
    )
    languages = fields.List(
        Text(),
        metadata={"description": "Available languages.", "example": ["de", "en"]},
    )
    category = Text(metadata={"example": "verkehr"})
    tags = fields.List(Text(), metadata={"example": ["Baustelle", "Hauptstraße"]})
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
    category = Text(
        required=True, metadata={"enum": _ANNOUNCEMENT_CATEGORIES, "example": "road_closure"}
    )
    level = Text(required=True, metadata={"enum": _LEVELS, "example": "notice"})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(
        Text(validate=validate.OneOf(_CHANNELS)),
        metadata={"example": ["app", "stele"]},
    )
    district_ids = fields.List(Id(), validate=validate.Length(max=100), metadata={"example": [1]})
    area = GeoJSON(allow_none=True)
    sender_name = Text(
        allow_none=True,
        validate=validate.Length(max=200),
        metadata={"example": "Tiefbauamt Musterstadt"},
    )
    contact = Text(
        allow_none=True,
        validate=validate.Length(max=300),
        metadata={"example": "Bürgerbüro, Marktplatz 1, Tel. 01234 5678-0"},
    )
    supersedes_id = Id(
        allow_none=True,
        metadata={"description": "The announcement this one updates.", "example": 11},
    )
    publish_at = UTCDateTime(allow_none=True)
    unpublish_at = UTCDateTime(allow_none=True)


class AnnouncementUpdateSchema(AnnouncementInputSchema):
    title = Translations(example="Vollsperrung Brückenstraße")
    body = Translations(example="<p>Wegen Bauarbeiten …</p>")
    category = Text(metadata={"enum": _ANNOUNCEMENT_CATEGORIES, "example": "road_closure"})
    level = Text(metadata={"enum": _LEVELS, "example": "notice"})


class AnnouncementStaffSchema(_StaffBookkeepingSchema):
    id = Id(metadata={"example": 12})
    status = Text(metadata={"enum": _STATUSES, "example": "published"})
    title = Translations(example="Vollsperrung Brückenstraße")
    body = Translations(example="<p>Wegen Bauarbeiten …</p>")
    instruction = Translations(allow_none=True, example="Bitte weiträumig umfahren.")
    category = Text(metadata={"example": "road_closure"})
    level = Text(metadata={"example": "notice"})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(Text(), metadata={"example": ["app", "stele"]})
    district_ids = fields.Method("_district_ids", metadata={"example": [1]})
    area = GeoJSON(allow_none=True)
    sender_name = Text(allow_none=True, metadata={"example": "Tiefbauamt Musterstadt"})
    contact = Text(
        allow_none=True, metadata={"example": "Bürgerbüro, Marktplatz 1, Tel. 01234 5678-0"}
    )
    supersedes_id = Id(allow_none=True, metadata={"example": 11})
    superseded_by_id = fields.Method("_superseded_by_id", metadata={"example": 13})
    cancelled_at = UTCDateTime(allow_none=True)
    cancel_reason = Text(
        allow_none=True,
        metadata={"example": "Die Sperrung entfällt, die Bauarbeiten sind verschoben."},
    )

    def _superseded_by_id(self, obj) -> int | None:
        return obj.superseded_by.id if obj.superseded_by is not None else None


class AnnouncementStaffPageSchema(PageSchema):
    items = fields.List(fields.Nested(AnnouncementStaffSchema))


class AnnouncementPublicSchema(Schema):
    id = Id(metadata={"example": 12})
    title = Text(metadata={"example": "Vollsperrung Brückenstraße"})
    body = Text(
        metadata={"description": "Sanitised HTML.", "example": "<p>Wegen Bauarbeiten …</p>"}
    )
    instruction = Text(allow_none=True, metadata={"example": "Bitte weiträumig umfahren."})
    language = Text(metadata={"example": "de"})
    languages = fields.List(Text(), metadata={"example": ["de", "en"]})
    category = Text(metadata={"enum": _ANNOUNCEMENT_CATEGORIES, "example": "road_closure"})
    level = Text(metadata={"enum": _LEVELS, "example": "notice"})
    valid_from = UTCDateTime(allow_none=True)
    valid_until = UTCDateTime(allow_none=True)
    channels = fields.List(Text(), metadata={"example": ["app", "stele"]})
    districts = fields.List(fields.Nested(PublicDistrictRefSchema))
    area = GeoJSON(allow_none=True)
    sender_name = Text(allow_none=True, metadata={"example": "Tiefbauamt Musterstadt"})
    contact = Text(
        allow_none=True, metadata={"example": "Bürgerbüro, Marktplatz 1, Tel. 01234 5678-0"}
    )
    supersedes_id = Id(allow_none=True, metadata={"example": 11})
    published_at = UTCDateTime()
    updated_at = UTCDateTime()


class AnnouncementPublicQuerySchema(PublicQuerySchema):
    channel = Text(
        load_default="app",
        validate=validate.OneOf(_CHANNELS),
        metadata={"description": "Default app."},
    )
    level = Text(validate=validate.OneOf(_LEVELS))


class AnnouncementPublicPageSchema(PublicPageMixin):
    items = fields.List(fields.Nested(AnnouncementPublicSchema))
