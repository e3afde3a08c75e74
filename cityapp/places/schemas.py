"""Marshmallow schemas for districts: the public list and lookup, the staff input."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from cityapp.fields import Float, Id, Integer, Text, UTCDateTime


def GeoJSON(**kw):
    """A GeoJSON Polygon or MultiPolygon field (districts, announcement areas)."""
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


class DistrictSchema(Schema):
    """A district (Ortsteil)."""

    id = Id(metadata={"example": 1})
    name = Text(metadata={"example": "Altstadt"})
    slug = Text(metadata={"example": "altstadt"})
    ars = Text(allow_none=True, metadata={"example": "066330001001"})
    polygon = GeoJSON(allow_none=True)
    position = Integer(metadata={"example": 0})
    updated_at = UTCDateTime()


class DistrictListSchema(Schema):
    items = fields.List(fields.Nested(DistrictSchema))


class DistrictInputSchema(Schema):
    name = Text(
        required=True, validate=validate.Length(min=1, max=120), metadata={"example": "Oberdorf"}
    )
    slug = Text(
        required=True, validate=validate.Length(min=1, max=120), metadata={"example": "oberdorf"}
    )
    ars = Text(load_default=None, allow_none=True, metadata={"example": "066330001001"})
    polygon = GeoJSON(load_default=None, allow_none=True)
    position = Integer(load_default=0, metadata={"example": 1})


class DistrictUpdateSchema(Schema):
    name = Text(validate=validate.Length(min=1, max=120), metadata={"example": "Oberdorf"})
    slug = Text(validate=validate.Length(min=1, max=120), metadata={"example": "oberdorf"})
    ars = Text(allow_none=True, metadata={"example": "066330001002"})
    polygon = GeoJSON(allow_none=True)
    position = Integer(metadata={"example": 1})


class PointQuerySchema(Schema):
    lat = Float(required=True, validate=validate.Range(min=-90, max=90))
    lon = Float(required=True, validate=validate.Range(min=-180, max=180))
