"""Report categories (Open311 services): as residents see them, and as admins edit them."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.feedback.models import AttributeType
from cityapp.feedback.schemas.common import OptionalText, Translations
from cityapp.fields import Id, Integer, Text, UTCDateTime

_NAME_EXAMPLE = {"de": "Straßenschäden", "en": "Road damage"}
_DESCRIPTION_EXAMPLE = {"de": "Schlaglöcher, Risse, lose Pflastersteine, abgesackte Gullys"}


class AttributeValueSchema(Schema):
    key = Text(required=True, validate=validate.Length(min=1, max=60), metadata={"example": "ja"})
    name = Text(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "Ja"})


class CategoryAttributeSchema(Schema):
    """A typed extra field of a category (Open311 attribute)."""

    code = Text(required=True, metadata={"example": "gefahr"})
    datatype = Text(
        required=True,
        validate=validate.OneOf([t.value for t in AttributeType]),
        metadata={"example": "singlevaluelist"},
    )
    required = fields.Boolean(load_default=False, metadata={"example": True})
    order = Integer(load_default=None, allow_none=True, metadata={"example": 1})
    description = OptionalText("Besteht akute Unfallgefahr?", max_length=500)
    datatype_description = OptionalText("Bitte eine Antwort wählen.", max_length=500)
    values = fields.List(fields.Nested(AttributeValueSchema), load_default=list)


class CategoryPublicSchema(Schema):
    """A category as residents see it (one language)."""

    code = Text(metadata={"example": "strassenschaeden"})
    name = Text(metadata={"example": "Straßenschäden"})
    description = Text(
        allow_none=True,
        metadata={"example": "Schlaglöcher, Risse, lose Pflastersteine, abgesackte Gullys"},
    )
    group = Text(allow_none=True, metadata={"example": "Straße und Verkehr"})
    keywords = fields.List(Text(), metadata={"example": ["schlagloch", "pflaster"]})
    is_location_required = fields.Boolean(metadata={"example": True})
    is_photo_required = fields.Boolean(metadata={"example": False})
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))


class CategoryListSchema(Schema):
    items = fields.List(fields.Nested(CategoryPublicSchema))


class _CategorySettings:
    """The switches and extra fields of a category, the same in staff output and input."""

    is_private = fields.Boolean(metadata={"example": False})
    is_location_required = fields.Boolean(metadata={"example": True})
    is_photo_required = fields.Boolean(metadata={"example": False})
    is_auto_publish = fields.Boolean(metadata={"example": False})
    is_active = fields.Boolean(metadata={"example": True})
    attributes = fields.List(fields.Nested(CategoryAttributeSchema))
    position = Integer(metadata={"example": 0})


class CategoryStaffSchema(_CategorySettings, Schema):
    id = Id(metadata={"example": 1})
    code = Text(metadata={"example": "strassenschaeden"})
    name = Translations(example=_NAME_EXAMPLE)
    description = Translations(example=_DESCRIPTION_EXAMPLE)
    group = Text(allow_none=True, metadata={"example": "Straße und Verkehr"})
    keywords = fields.List(Text(), metadata={"example": ["schlagloch", "pflaster"]})
    department = Text(allow_none=True, metadata={"example": "Tiefbauamt"})
    contact_retention_days = Integer(allow_none=True, metadata={"example": 180})
    rejected_photo_retention_days = Integer(allow_none=True, metadata={"example": 30})
    anonymise_after_days = Integer(allow_none=True, metadata={"example": 730})
    created_at = UTCDateTime()
    updated_at = UTCDateTime()


class CategoryStaffListSchema(Schema):
    items = fields.List(fields.Nested(CategoryStaffSchema))


class _CategoryFields(_CategorySettings, Schema):
    description = Translations(example=_DESCRIPTION_EXAMPLE)
    group = Text(
        allow_none=True,
        validate=validate.Length(max=120),
        metadata={"example": "Straße und Verkehr"},
    )
    keywords = fields.List(
        Text(validate=validate.Length(max=60)),
        metadata={"example": ["schlagloch", "pflaster"]},
    )
    department = Text(
        allow_none=True, validate=validate.Length(max=200), metadata={"example": "Tiefbauamt"}
    )
    contact_retention_days = Integer(
        allow_none=True, validate=validate.Range(min=1), metadata={"example": 180}
    )
    rejected_photo_retention_days = Integer(
        allow_none=True, validate=validate.Range(min=1), metadata={"example": 30}
    )
    anonymise_after_days = Integer(
        allow_none=True, validate=validate.Range(min=1), metadata={"example": 730}
    )


class CategoryInputSchema(_CategoryFields):
    code = Text(
        required=True,
        validate=validate.Length(min=1, max=60),
        metadata={"example": "strassenschaeden"},
    )
    name = Translations(required=True, example=_NAME_EXAMPLE)


class CategoryUpdateSchema(_CategoryFields):
    code = Text(validate=validate.Length(min=1, max=60), metadata={"example": "strassenschaeden"})
    name = Translations(example=_NAME_EXAMPLE)


class CategoryDeletedSchema(Schema):
    result = Text(
        metadata={"description": "deleted, or deactivated when in use", "example": "deleted"}
    )
